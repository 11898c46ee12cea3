//! One Graph HTTP request from arrival to answer: tracing ids, version and auth, early-retry
//! accounting, random faults, the recorded writes, dispatch (`$batch` or single), latency and
//! service times.

use crate::clock::iso_no_tz;
use crate::core::{Core, Latency};
use crate::errors::GraphError;
use crate::graph::{Ctx, GraphRequest, GraphResponse};
use crate::odata::{parse_query, percent_decode};

use super::execute::{Trace, error_response, execute, fault_error};

/// What one HTTP request came to, before it is sent back.
pub(super) struct Outcome {
    pub(super) response: GraphResponse,
    pub(super) trace: Trace,
    pub(super) reset: bool,
    pub(super) latency: u64,
    /// The caller's tenant once authenticated (for in-flight statistics).
    pub(super) tenant: Option<String>,
}

/// How long the answer takes on the wire, from the latency model (milliseconds).
pub(super) fn latency_ms(core: &mut Core) -> u64 {
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

/// Where a request came from and how long it waited for the core.
pub(super) struct Arrival<'a> {
    /// The `Host` it was sent to (for the links in answers).
    pub(super) host: &'a str,
    /// Milliseconds it waited for the core lock (0 on a frozen clock).
    pub(super) queued_ms: i64,
}

/// One Graph HTTP request, from its path, headers and body to its answer: route, auth,
/// random faults, the JSON body, `$batch` or a single request, and service times.
pub(super) fn process(
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
