//! The HTTP front: an axum router serving the token endpoint, the Graph
//! surface under `/v1.0` and `/beta`, and the admin API. Every Graph request
//! (and every `$batch` item) goes through the same pipeline: auth → faults →
//! throttling → dispatch, with `request-id`/`client-request-id` handling,
//! statistics and persistence.
//!
//! Here: the router and its two handlers. `pipeline` takes one Graph HTTP request from its
//! headers to its answer, `execute` runs one Graph request (top level or `$batch` item), and
//! `response` turns an answer into the HTTP response sent.

mod execute;
mod pipeline;
mod response;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use crate::Emulator;
use crate::clock::http_date;
use crate::odata::parse_query;
use pipeline::{Arrival, latency_ms, process};
use response::to_http;

pub use execute::{Trace, error_response, execute, retry_after_value};
pub use pipeline::service_time_ms;

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
