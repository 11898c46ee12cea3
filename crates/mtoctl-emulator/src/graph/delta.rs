//! Delta queries on users and groups (`GET /users/delta`, `GET /groups/delta`).
//!
//! Every change to a user or group (sync provisioning, soft deletion, drift
//! edits, membership changes) records a per-tenant change sequence number.
//! The first round returns every live object, page by page
//! (`@odata.nextLink`), and ends with an `@odata.deltaLink`; following that
//! link returns only objects changed since, deleted users as
//! `{"id", "@removed": {"reason": "changed"}}`. Tokens are opaque.

use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::{Ctx, GraphRequest, GraphResponse};
use crate::errors::{GraphError, GraphResult};
use crate::odata::{QueryOptions, percent_encode, project};
use crate::state::{Tenant, USER_DEFAULT_PROPS};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Which collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `/users/delta`.
    Users,
    /// `/groups/delta`.
    Groups,
}

/// Where a round stands: changes after `since` up to `snapshot`, from `offset`.
struct Cursor {
    since: Option<u64>,
    snapshot: u64,
    offset: usize,
}

fn bad_token() -> GraphError {
    GraphError::new(
        400,
        "Request_BadRequest",
        "The delta or skip token is invalid or has expired.",
    )
}

fn decode(token: &str) -> GraphResult<Vec<u64>> {
    let raw = B64.decode(token.trim()).map_err(|_| bad_token())?;
    let text = String::from_utf8(raw).map_err(|_| bad_token())?;
    let rest = text.strip_prefix("mtoctl-delta:").ok_or_else(bad_token)?;
    rest.split(':')
        .map(|n| n.parse().map_err(|_| bad_token()))
        .collect()
}

fn encode(parts: &[u64]) -> String {
    let text: Vec<String> = parts.iter().map(u64::to_string).collect();
    B64.encode(format!("mtoctl-delta:{}", text.join(":")))
}

/// Answer a delta request over tenant `t`.
pub fn route(ctx: &Ctx, req: &GraphRequest, t: &Tenant, kind: Kind) -> GraphResult<GraphResponse> {
    let mut cursor = Cursor {
        since: None,
        snapshot: t.change_seq,
        offset: 0,
    };
    let mut rest = Vec::new();
    for (k, v) in &req.query {
        match k.trim_start_matches('$').to_ascii_lowercase().as_str() {
            "deltatoken" => {
                let p = decode(v)?;
                let [since] = p.as_slice() else {
                    return Err(bad_token());
                };
                cursor.since = Some(*since);
            }
            "skiptoken" => {
                let p = decode(v)?;
                let [since_plus_one, snapshot, offset] = p.as_slice() else {
                    return Err(bad_token());
                };
                // 0 encodes "initial round", n + 1 encodes "since n".
                cursor.since = since_plus_one.checked_sub(1);
                cursor.snapshot = *snapshot;
                cursor.offset = usize::try_from(*offset).map_err(|_| bad_token())?;
            }
            _ => rest.push((k.clone(), v.clone())),
        }
    }
    let opts = QueryOptions::parse(&rest, req.eventual())?;
    if opts.filter.is_some() {
        return Err(GraphError::new(
            400,
            "Request_UnsupportedQuery",
            "$filter is not supported on this delta query by the emulator.",
        ));
    }
    let changed = |seq: u64| {
        cursor
            .since
            .is_none_or(|s| seq > s && seq <= cursor.snapshot)
    };
    let (set, defaults): (&str, Option<&[&str]>) = match kind {
        Kind::Users => ("users", Some(USER_DEFAULT_PROPS)),
        Kind::Groups => ("groups", None),
    };
    let mut items: Vec<Value> = Vec::new();
    match kind {
        Kind::Users => {
            for u in t.users.iter().filter(|u| changed(u.changed_seq)) {
                match u.deleted_ms {
                    None => items.push(Value::Object(project(
                        u.to_json(),
                        opts.select.as_deref(),
                        defaults,
                    ))),
                    // Deleted users are reported only to a caller that saw them before.
                    Some(_) if cursor.since.is_some() => {
                        items.push(json!({"id": u.id, "@removed": {"reason": "changed"}}))
                    }
                    Some(_) => {}
                }
            }
        }
        Kind::Groups => {
            for g in t.groups.iter().filter(|g| changed(g.changed_seq)) {
                match g.deleted_ms {
                    None => items.push(Value::Object(project(
                        g.to_json(),
                        opts.select.as_deref(),
                        defaults,
                    ))),
                    // As for users: reported only to a caller that saw the group before.
                    Some(_) if cursor.since.is_some() => {
                        items.push(json!({"id": g.id, "@removed": {"reason": "changed"}}))
                    }
                    Some(_) => {}
                }
            }
        }
    }
    let top = opts.top.unwrap_or(100);
    let start = cursor.offset.min(items.len());
    let end = (start + top).min(items.len());
    let page: Vec<Value> = items[start..end].to_vec();
    let keep: Vec<String> = rest
        .iter()
        .filter(|(k, _)| !k.trim_start_matches('$').eq_ignore_ascii_case("top"))
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect();
    let link = |token_name: &str, token: String| {
        let mut q = keep.clone();
        if let Some(t) = opts.top {
            q.push(format!("$top={t}"));
        }
        q.push(format!("${token_name}={token}"));
        format!("{}/{set}/delta?{}", ctx.base_url, q.join("&"))
    };
    let mut body = Map::new();
    let context = match &opts.select {
        Some(sel) => format!("{set}({})", sel.join(",")),
        None => set.to_owned(),
    };
    body.insert("@odata.context".into(), json!(ctx.context(&context)));
    if end < items.len() {
        let since_code = cursor.since.map_or(0, |s| s + 1);
        body.insert(
            "@odata.nextLink".into(),
            json!(link(
                "skiptoken",
                encode(&[since_code, cursor.snapshot, end as u64])
            )),
        );
    } else {
        body.insert(
            "@odata.deltaLink".into(),
            json!(link("deltatoken", encode(&[cursor.snapshot]))),
        );
    }
    body.insert("value".into(), Value::Array(page));
    Ok(GraphResponse::json(200, Value::Object(body)))
}
