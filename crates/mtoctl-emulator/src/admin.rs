//! The admin API under `/_emulator/` (no authentication; loopback only):
//! world state, clock advance, fault settings and statistics.

use axum::Router;
use axum::extract::State as AxState;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::Emulator;
use crate::clock::iso;
use crate::faults::Fault;

/// Admin routes.
pub fn routes() -> Router<Emulator> {
    Router::new()
        .route("/_emulator/state", get(state))
        .route("/_emulator/advance", post(advance))
        .route("/_emulator/stats", get(stats))
        .route("/_emulator/stats/reset", post(reset_stats))
        .route("/_emulator/faults", get(get_faults).post(set_faults))
        .route("/_emulator/requests", get(recorded))
        .merge(crate::drift::routes())
        .merge(crate::github::routes())
}

fn bad(msg: &str) -> Response {
    (StatusCode::BAD_REQUEST, axum::Json(json!({"error": msg}))).into_response()
}

async fn state(AxState(emu): AxState<Emulator>) -> Response {
    let mut core = emu.lock();
    core.run_due();
    let now = core.now();
    core.state.now_ms = now;
    let mut v = serde_json::to_value(&core.state).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.insert("now".into(), json!(iso(now)));
        o.remove("signingKey");
    }
    axum::Json(v).into_response()
}

async fn advance(AxState(emu): AxState<Emulator>, body: axum::body::Bytes) -> Response {
    let v: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => return bad("body must be JSON like {\"seconds\": 60}"),
    };
    let Some(secs) = v
        .get("seconds")
        .and_then(Value::as_f64)
        .filter(|s| s.is_finite() && *s >= 0.0)
    else {
        return bad("'seconds' must be a non-negative number");
    };
    let mut core = emu.lock();
    core.advance(secs);
    core.dirty = true;
    emu.persist_locked(&mut core);
    axum::Json(json!({"now": iso(core.now())})).into_response()
}

async fn stats(AxState(emu): AxState<Emulator>) -> Response {
    let core = emu.lock();
    axum::Json(serde_json::to_value(&core.stats).unwrap_or(Value::Null)).into_response()
}

async fn reset_stats(AxState(emu): AxState<Emulator>) -> Response {
    let mut core = emu.lock();
    core.stats = crate::core::Stats::default();
    StatusCode::NO_CONTENT.into_response()
}

/// The Graph writes recorded since `{"record": true}` (see `faults::RecordedWrite`).
async fn recorded(AxState(emu): AxState<Emulator>) -> Response {
    let core = emu.lock();
    axum::Json(serde_json::to_value(&core.faults.recorded).unwrap_or(Value::Null)).into_response()
}

async fn get_faults(AxState(emu): AxState<Emulator>) -> Response {
    let core = emu.lock();
    axum::Json(json!({
        "rate": core.faults.rate,
        "queued": core.faults.queued,
        "targeted": core.faults.targeted,
        "throttle": core.opts.throttle,
    }))
    .into_response()
}

/// Body: `{"rate": 0.05, "queue": [{"tooManyRequests": {"retryAfter": 2}}, "serviceUnavailable", "connectionReset"],
/// "targeted": [{"fault": "gatewayTimeout", "method": "PATCH", "pathContains": "/partners/"}], "throttle": true,
/// "tokenFailures": 2}`; faults also include `"resetAfterCommit"` and `{"slowResponse": {"delayMs": 3000}}`.
async fn set_faults(AxState(emu): AxState<Emulator>, body: axum::body::Bytes) -> Response {
    let v: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => return bad("body must be JSON"),
    };
    let mut core = emu.lock();
    if let Some(r) = v.get("rate") {
        match r.as_f64().filter(|r| (0.0..=1.0).contains(r)) {
            Some(r) => core.faults.rate = r,
            None => return bad("'rate' must be a number between 0 and 1"),
        }
    }
    if let Some(q) = v.get("queue") {
        match serde_json::from_value::<Vec<Fault>>(q.clone()) {
            Ok(q) => core.faults.queued.extend(q),
            Err(e) => return bad(&format!("'queue' is invalid: {e}")),
        }
    }
    if let Some(q) = v.get("targeted") {
        match serde_json::from_value::<Vec<crate::faults::TargetedFault>>(q.clone()) {
            Ok(q) => core.faults.targeted.extend(q),
            Err(e) => return bad(&format!("'targeted' is invalid: {e}")),
        }
    }
    if let Some(r) = v.get("record") {
        // `"all"` records the reads too.
        match (r.as_bool(), r.as_str()) {
            (Some(r), _) => {
                core.faults.record = r;
                core.faults.record_reads = false;
                core.faults.recorded.clear();
            }
            (None, Some("all")) => {
                core.faults.record = true;
                core.faults.record_reads = true;
                core.faults.recorded.clear();
            }
            _ => return bad("'record' must be a boolean or \"all\""),
        }
    }
    if let Some(n) = v.get("tokenFailures") {
        match n.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(n) => core.faults.token_failures = n,
            None => return bad("'tokenFailures' must be a whole number"),
        }
    }
    if let Some(t) = v.get("throttle") {
        match t.as_bool() {
            Some(t) => core.opts.throttle = t,
            None => return bad("'throttle' must be a boolean"),
        }
    }
    StatusCode::NO_CONTENT.into_response()
}
