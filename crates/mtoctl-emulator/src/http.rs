//! The HTTP front: an axum router serving the token endpoint, the Graph
//! surface under `/v1.0` and `/beta`, and the admin API. Every Graph request
//! (and every `$batch` item) goes through the same pipeline: auth → faults →
//! throttling → dispatch, with `request-id`/`client-request-id` handling,
//! statistics and persistence.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::{Body as AxumBody, Bytes};
use axum::extract::State as AxState;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use crate::Emulator;
use crate::clock::{http_date, iso_no_tz};
use crate::core::{Core, Latency};
use crate::errors::GraphError;
use crate::faults::Fault;
use crate::graph::{Body, Ctx, GraphRequest, GraphResponse};
use crate::odata::{parse_query, percent_decode};

/// Build the router over an emulator.
pub fn router(emu: Emulator) -> Router {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token_handler))
        .merge(crate::admin::routes())
        .fallback(graph_handler)
        .with_state(emu)
}

async fn token_handler(
    AxState(emu): AxState<Emulator>,
    axum::extract::Path(tenant): axum::extract::Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = parse_query(&String::from_utf8_lossy(&body));
    let basic =
        crate::auth::basic_credentials(headers.get("authorization").and_then(|v| v.to_str().ok()));
    let ((status, json), latency) = {
        let mut core = emu.lock();
        core.stats.bump(None, |c| c.http_requests += 1);
        let answer = if core.faults.take_token_failure() {
            core.stats.bump(None, |c| c.faults_injected += 1);
            (
                503,
                serde_json::json!({"error": "temporarily_unavailable", "error_description": "AADSTS90033: A transient error has occurred. Please try again."}),
            )
        } else {
            crate::auth::token(&mut core, &tenant, &form, basic)
        };
        (answer, latency_ms(&mut core))
    };
    sleep_ms(latency).await;
    let mut resp = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        axum::Json(json),
    )
        .into_response();
    resp.headers_mut().insert(
        "cache-control",
        HeaderValue::from_static("no-store, no-cache"),
    );
    resp
}

/// Tracing ids and date of one HTTP request.
#[derive(Debug, Clone)]
pub struct Trace {
    /// Generated `request-id`.
    pub request_id: String,
    /// Echoed `client-request-id` (or the request id).
    pub client_request_id: String,
    /// `innerError.date`.
    pub date: String,
}

/// Render a Graph error as a response.
pub fn error_response(e: GraphError, trace: &Trace) -> GraphResponse {
    let body = e.body(
        &trace.date,
        &trace.request_id,
        Some(&trace.client_request_id),
    );
    GraphResponse {
        status: e.status,
        headers: e.headers,
        body: Body::Json(body),
    }
}

/// Execute one Graph request (top level or batch item): throttling, dispatch, stats.
pub fn execute(core: &mut Core, ctx: &Ctx, req: &GraphRequest, trace: &Trace) -> GraphResponse {
    core.stats
        .bump(Some(&ctx.tenant), |c| c.inner_requests += 1);
    let path = format!("/{}", req.segments.join("/"));
    let targeted = core.faults.take_targeted(&req.method, &path, &ctx.tenant);
    if let Some(fault) = targeted.filter(|f| f.after_commit()) {
        // Carried out as usual; the HTTP answer that carries it is spoiled afterwards.
        core.stats
            .bump(Some(&ctx.tenant), |c| c.faults_injected += 1);
        core.faults.spoil_answer(fault);
    } else if let Some(fault) = targeted {
        core.stats
            .bump(Some(&ctx.tenant), |c| c.faults_injected += 1);
        let now = core.now();
        // A reset cannot hit one batch item; it degrades to a 503 there.
        let e = fault_error(core, fault, &ctx.app_id, &ctx.tenant, now)
            .unwrap_or_else(|| GraphError::new(503, "serviceNotAvailable", "Service unavailable."));
        return error_response(e, trace);
    }
    let mut extra = Vec::new();
    if core.opts.throttle {
        let users = core
            .state
            .tenants
            .get(&ctx.tenant)
            .map(|t| t.users.len())
            .unwrap_or(0);
        let now = core.now();
        let scale = core.opts.time_scale;
        match core.throttle.admit(ctx, req, users, now, scale) {
            Ok(a) => {
                core.stats.bump(Some(&ctx.tenant), |c| {
                    c.resource_units += a.ru;
                    c.writes += a.writes;
                });
                extra = a.headers;
            }
            Err(e) => {
                core.stats.bump(Some(&ctx.tenant), |c| c.throttled += 1);
                return error_response(e, trace);
            }
        }
    }
    let mut r = match crate::graph::dispatch(core, ctx, req) {
        Ok(r) => r,
        Err(e) => error_response(e, trace),
    };
    r.headers.extend(extra);
    if let Some(observer) = &core.opts.observer {
        observe(observer, ctx, req, &path, &r);
    }
    r
}

/// Hands one request carried out and its answer to the observer.
fn observe(
    observer: &crate::exchange::Observer,
    ctx: &Ctx,
    req: &GraphRequest,
    path: &str,
    r: &GraphResponse,
) {
    let path = if req.raw_query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", req.raw_query)
    };
    (observer.0)(&crate::exchange::Exchange {
        version: &ctx.version,
        tenant: &ctx.tenant,
        method: &req.method,
        path: &path,
        body: req.body.as_ref(),
        status: r.status,
        answer: match &r.body {
            crate::graph::Body::Json(v) => Some(v),
            _ => None,
        },
    });
}

/// The Graph error of an injected fault (`None` for a connection reset).
fn fault_error(
    core: &mut Core,
    fault: Fault,
    app: &str,
    tenant: &str,
    now: i64,
) -> Option<GraphError> {
    Some(match fault {
        Fault::TooManyRequests { retry_after } => {
            let ms = core.scaled_ms(retry_after as f64);
            core.throttle
                .note_retry_after(app, tenant, now, now + ms.max(1));
            GraphError::new(429, "TooManyRequests", "Please retry again later.")
                .with_header("Retry-After", retry_after_value(ms))
        }
        Fault::ServiceUnavailable => {
            GraphError::new(503, "serviceNotAvailable", "Service unavailable.")
                .with_header("Retry-After", retry_after_value(core.scaled_ms(1.0)))
        }
        Fault::GatewayTimeout => GraphError::new(504, "UnknownError", "Gateway timeout."),
        Fault::ConnectionReset | Fault::ResetAfterCommit | Fault::SlowResponse { .. } => {
            return None;
        }
    })
}

/// Format a Retry-After of `ms` virtual milliseconds: whole seconds when at
/// least one second (rounded up), otherwise a fraction (time-scaled runs).
pub fn retry_after_value(ms: i64) -> String {
    if ms >= 1000 {
        ((ms + 999) / 1000).to_string()
    } else {
        format!("{:.3}", (ms.max(1) as f64) / 1000.0)
    }
}

struct Outcome {
    response: GraphResponse,
    trace: Trace,
    reset: bool,
    latency: u64,
    /// The caller's tenant once authenticated (for in-flight statistics).
    tenant: Option<String>,
}

fn latency_ms(core: &mut Core) -> u64 {
    match core.opts.latency {
        Latency::None => 0,
        Latency::Fixed(ms) => ms,
        Latency::LogNormal(median) => {
            // Box–Muller; sigma chosen so p95 ≈ 2.5 × median (ln 2.5 / 1.645).
            let u1 = core.noise.next_f64().max(1e-12);
            let u2 = core.noise.next_f64();
            let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
            let v = median as f64 * (0.557 * z).exp();
            v.clamp(0.0, 60_000.0) as u64
        }
    }
}

async fn sleep_ms(ms: u64) {
    if ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
}

async fn graph_handler(
    AxState(emu): AxState<Emulator>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned();
    let hdrs: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(k, v)| {
            v.to_str()
                .ok()
                .map(|v| (k.as_str().to_ascii_lowercase(), v.to_owned()))
        })
        .collect();
    let arrived = std::time::Instant::now();
    let outcome = {
        let mut core = emu.lock();
        // Requests wait here for the one core; on a clock that follows real time, the wait
        // must not make a request sent before a 429 reached its client look like it came after.
        let queued_ms = if core.opts.follow_wall_clock {
            arrived.elapsed().as_millis() as i64
        } else {
            0
        };
        let o = process(
            &mut core,
            method.as_str(),
            uri.path(),
            uri.query().unwrap_or(""),
            hdrs,
            &body,
            Arrival {
                host: &host,
                queued_ms,
            },
        );
        let delivery = if core.opts.follow_wall_clock {
            o.latency as i64 + crate::throttle::IN_FLIGHT_GRACE_MS
        } else {
            0
        };
        core.throttle.delivered(delivery);
        emu.persist_locked(&mut core);
        core.stats.enter(o.tenant.as_deref());
        o
    };
    sleep_ms(outcome.latency).await;
    let (date, log) = {
        let mut core = emu.lock();
        core.stats.leave(outcome.tenant.as_deref());
        (http_date(core.now()), core.opts.log_requests)
    };
    if log {
        let status = if outcome.reset {
            "reset".to_owned()
        } else {
            outcome.response.status.to_string()
        };
        let mut err = std::io::stderr().lock();
        let _ = std::io::Write::write_fmt(
            &mut err,
            format_args!(
                "{method} {uri} -> {status} tenant={} request-id={}\n",
                outcome.tenant.as_deref().unwrap_or("-"),
                outcome.trace.request_id
            ),
        );
    }
    to_http(outcome, &date)
}

fn to_http(o: Outcome, date: &str) -> Response {
    let status =
        StatusCode::from_u16(o.response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = if o.reset {
        Response::new(AxumBody::new(ResetBody))
    } else {
        match o.response.body {
            Body::Empty => Response::new(AxumBody::empty()),
            Body::Json(v) => {
                // Straight to bytes: `to_string` goes through `fmt` and copies once more.
                let mut r =
                    Response::new(AxumBody::from(serde_json::to_vec(&v).unwrap_or_default()));
                r.headers_mut().insert(
                    "content-type",
                    HeaderValue::from_static(
                        "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8",
                    ),
                );
                r
            }
            Body::Text(t) => {
                let mut r = Response::new(AxumBody::from(t));
                r.headers_mut()
                    .insert("content-type", HeaderValue::from_static("text/plain"));
                r
            }
        }
    };
    *resp.status_mut() = if o.reset { StatusCode::OK } else { status };
    let h = resp.headers_mut();
    for (k, v) in o.response.headers {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        ) {
            h.insert(k, v);
        }
    }
    if let Ok(v) = HeaderValue::from_str(&o.trace.request_id) {
        h.insert("request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(&o.trace.client_request_id) {
        h.insert("client-request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(date) {
        h.insert("date", v);
    }
    resp
}

/// A body that fails on first poll: hyper aborts the connection, which the
/// client observes as a reset mid-response.
struct ResetBody;

impl http_body::Body for ResetBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected connection reset",
        ))))
    }
}

/// Where a request came from and how long it waited for the core.
struct Arrival<'a> {
    /// The `Host` it was sent to (for the links in answers).
    host: &'a str,
    /// Milliseconds it waited for the core lock (0 on a frozen clock).
    queued_ms: i64,
}

fn process(
    core: &mut Core,
    method: &str,
    path: &str,
    raw_query: &str,
    headers: Vec<(String, String)>,
    body: &[u8],
    arrival: Arrival<'_>,
) -> Outcome {
    let Arrival { host, queued_ms } = arrival;
    let request_id = core.noise.guid();
    let client_request_id = headers
        .iter()
        .find(|(k, _)| k == "client-request-id")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| request_id.clone());
    core.run_due();
    let now = core.now();
    let trace = Trace {
        request_id,
        client_request_id,
        date: iso_no_tz(now),
    };
    let latency = latency_ms(core);
    let done = |response: GraphResponse, trace: Trace| Outcome {
        response,
        trace,
        reset: false,
        latency,
        tenant: None,
    };
    core.stats.bump(None, |c| c.http_requests += 1);
    let segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode(s, false))
        .collect();
    let Some(version) = segs
        .first()
        .filter(|v| *v == "v1.0" || *v == "beta")
        .cloned()
    else {
        let e = GraphError::new(404, "NotFound", format!("No route for '{path}'."));
        return done(error_response(e, &trace), trace);
    };
    let auth = headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .map(|(_, v)| v.as_str());
    let claims = match crate::auth::validate_bearer(core, auth) {
        Ok(c) => c,
        Err(e) => {
            let e = e.with_header("WWW-Authenticate", "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\"");
            return done(error_response(e, &trace), trace);
        }
    };
    let tenant = claims.tenant.clone();
    // The total was counted on arrival; now attribute the request to its tenant.
    core.stats
        .per_tenant
        .entry(tenant.clone())
        .or_default()
        .http_requests += 1;
    if core
        .throttle
        .is_early(&claims.app_id, &tenant, now - queued_ms)
    {
        core.stats.bump(Some(&tenant), |c| c.early_retries += 1);
    }
    let (roll, pick, retry_roll) = (
        core.noise.next_f64(),
        core.noise.next_f64(),
        core.noise.next_f64(),
    );
    if let Some(fault) = core.faults.next_fault(roll, pick, retry_roll) {
        core.stats.bump(Some(&tenant), |c| c.faults_injected += 1);
        if fault.after_commit() {
            // Carried out as usual; only its answer is spoiled.
            core.faults.spoil_answer(fault);
        } else {
            let Some(e) = fault_error(core, fault, &claims.app_id, &tenant, now) else {
                return Outcome {
                    response: GraphResponse::no_content(),
                    trace,
                    reset: true,
                    latency,
                    tenant: Some(tenant),
                };
            };
            return Outcome {
                tenant: Some(tenant),
                ..done(error_response(e, &trace), trace)
            };
        }
    }
    let ctx = Ctx {
        tenant,
        app_id: claims.app_id,
        roles: claims.roles,
        version: version.clone(),
        base_url: format!("http://{host}/{version}"),
    };
    let parsed_body = if body.iter().all(|b| b.is_ascii_whitespace()) {
        None
    } else {
        match serde_json::from_slice(body) {
            Ok(v) => Some(v),
            Err(_) => {
                let e = GraphError::new(
                    400,
                    "BadRequest",
                    "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
                );
                return done(error_response(e, &trace), trace);
            }
        }
    };
    if !method.eq_ignore_ascii_case("GET") || core.faults.record_reads {
        let path = path
            .split_once(&format!("/{version}"))
            .map_or(path, |(_, p)| p);
        core.faults.record(crate::faults::RecordedWrite {
            tenant: ctx.tenant.clone(),
            method: method.to_ascii_uppercase(),
            path: if raw_query.is_empty() {
                path.to_owned()
            } else {
                format!("{path}?{raw_query}")
            },
            body: parsed_body.clone(),
        });
    }
    let req = GraphRequest {
        method: method.to_ascii_uppercase(),
        segments: segs[1..].to_vec(),
        query: parse_query(raw_query),
        raw_query: raw_query.to_owned(),
        headers,
        body: parsed_body,
    };
    let is_batch = req.segments == ["$batch"];
    let response = if is_batch {
        if req.method == "POST" {
            crate::batch::run(core, &ctx, &req, &trace)
        } else {
            error_response(GraphError::method_not_allowed(), &trace)
        }
    } else {
        execute(core, &ctx, &req, &trace)
    };
    // Service times of slow operations (performance-model §5), only when a
    // latency model is on.
    let service = match core.opts.latency {
        Latency::None => 0,
        _ if is_batch => crate::batch::service_time_ms(&req),
        _ => service_time_ms(&req.method, &req.segments),
    };
    let (reset, delay) = core.faults.take_spoiled();
    Outcome {
        latency: latency + service + delay,
        reset,
        tenant: Some(ctx.tenant.clone()),
        ..done(response, trace)
    }
}

/// Extra service time of slow operations: instantiate +2 s, job create +1 s,
/// secrets and start +0.5 s (performance-model §5).
pub fn service_time_ms(method: &str, segments: &[String]) -> u64 {
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    match (method, segs.as_slice()) {
        ("POST", ["applicationTemplates", _, "instantiate"]) => 2000,
        ("POST", ["servicePrincipals", _, "synchronization", "jobs"]) => 1000,
        ("PUT", ["servicePrincipals", _, "synchronization", "secrets"]) => 500,
        (
            "POST",
            [
                "servicePrincipals",
                _,
                "synchronization",
                "jobs",
                _,
                "start",
            ],
        ) => 500,
        _ => 0,
    }
}
