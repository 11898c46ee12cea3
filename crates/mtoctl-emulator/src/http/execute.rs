//! One Graph request carried out, top level or `$batch` item: targeted faults, throttling,
//! dispatch, statistics and the observer; and Graph errors rendered as answers.

use crate::core::Core;
use crate::errors::GraphError;
use crate::faults::Fault;
use crate::graph::{Body, Ctx, GraphRequest, GraphResponse};

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
    // A body written as text is read back: observers check answers as trees.
    let answer = r.body.to_value();
    (observer.0)(&crate::exchange::Exchange {
        version: &ctx.version,
        tenant: &ctx.tenant,
        method: &req.method,
        path: &path,
        body: req.body.as_ref(),
        status: r.status,
        answer: answer.as_deref(),
    });
}

/// The Graph error of an injected fault (`None` for a connection reset).
pub(super) fn fault_error(
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
