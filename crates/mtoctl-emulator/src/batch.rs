//! JSON batching (`POST /$batch`, graph-reference §8.5): at most 20 items,
//! unique case-insensitive ids, `dependsOn` ordering with 424 for failed
//! dependencies, per-item status, headers and body. Each item passes the
//! throttling model on its own; the envelope is free.

use serde_json::{Map, Value, json};

use crate::core::Core;
use crate::errors::GraphError;
use crate::graph::{BatchAnswer, Body, Ctx, GraphRequest, GraphResponse, JSON_CONTENT_TYPE};
use crate::http::{Trace, error_response, execute};
use crate::odata::{parse_query, percent_decode};

const MAX_ITEMS: usize = 20;

struct Item {
    id: String,
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<Value>,
    depends_on: Vec<String>,
}

fn parse_items(body: Option<&Value>) -> Result<Vec<Item>, GraphError> {
    let bad = |m: &str| GraphError::new(400, "BadRequest", m.to_owned());
    let reqs = body
        .and_then(|b| b.get("requests"))
        .and_then(Value::as_array)
        .ok_or_else(|| bad("The batch request body must contain a 'requests' array."))?;
    if reqs.is_empty() {
        return Err(bad("The batch request must contain at least one request."));
    }
    if reqs.len() > MAX_ITEMS {
        return Err(bad(
            "The number of requests in the batch exceeds the limit of 20.",
        ));
    }
    let mut items: Vec<Item> = Vec::new();
    for r in reqs {
        let s = |k: &str| r.get(k).and_then(Value::as_str).map(str::to_owned);
        let id = s("id").ok_or_else(|| bad("Every batch request needs an 'id'."))?;
        if items.iter().any(|i| i.id.eq_ignore_ascii_case(&id)) {
            return Err(bad(&format!("Duplicate request id '{id}' in the batch.")));
        }
        let method = s("method")
            .ok_or_else(|| bad("Every batch request needs a 'method'."))?
            .to_ascii_uppercase();
        let url = s("url").ok_or_else(|| bad("Every batch request needs a 'url'."))?;
        let headers = r
            .get("headers")
            .and_then(Value::as_object)
            .map(|h| {
                h.iter()
                    .map(|(k, v)| {
                        (
                            k.to_ascii_lowercase(),
                            v.as_str()
                                .map(str::to_owned)
                                .unwrap_or_else(|| v.to_string()),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let depends_on = match r.get("dependsOn") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            Some(_) => return Err(bad("'dependsOn' must be an array of request ids.")),
        };
        items.push(Item {
            id,
            method,
            url,
            headers,
            body: r.get("body").cloned().filter(|b| !b.is_null()),
            depends_on,
        });
    }
    for it in &items {
        for d in &it.depends_on {
            if !items.iter().any(|o| o.id.eq_ignore_ascii_case(d)) || d.eq_ignore_ascii_case(&it.id)
            {
                return Err(bad(&format!(
                    "Request '{}' depends on unknown request '{d}'.",
                    it.id
                )));
            }
        }
    }
    Ok(items)
}

/// Order items so dependencies run first (stable otherwise); cycles are a 400.
fn order(items: &[Item]) -> Result<Vec<usize>, GraphError> {
    let mut done: Vec<usize> = Vec::new();
    while done.len() < items.len() {
        let next = (0..items.len()).find(|i| {
            !done.contains(i)
                && items[*i]
                    .depends_on
                    .iter()
                    .all(|d| done.iter().any(|j| items[*j].id.eq_ignore_ascii_case(d)))
        });
        match next {
            Some(i) => done.push(i),
            None => {
                return Err(GraphError::new(
                    400,
                    "BadRequest",
                    "The batch contains a dependency cycle.",
                ));
            }
        }
    }
    Ok(done)
}

fn item_request(it: &Item) -> Result<GraphRequest, GraphError> {
    let url = it.url.trim();
    if url.starts_with("http://") || url.starts_with("https://") {
        return Err(GraphError::bad_request(
            "Batch request URLs must be relative to the version root.",
        ));
    }
    let url = url.trim_start_matches('/');
    let url = url
        .strip_prefix("v1.0/")
        .or_else(|| url.strip_prefix("beta/"))
        .unwrap_or(url);
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    if it.body.is_some() && !it.headers.iter().any(|(k, _)| k == "content-type") {
        return Err(GraphError::bad_request(
            "Content-Type header must be specified when a body is present.",
        ));
    }
    let body = match &it.body {
        Some(Value::String(s)) => {
            use base64::Engine as _;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|_| GraphError::bad_request("Invalid base64 body."))?;
            Some(
                serde_json::from_slice(&bytes)
                    .map_err(|_| GraphError::bad_request("Invalid JSON body."))?,
            )
        }
        other => other.clone(),
    };
    Ok(GraphRequest {
        method: it.method.clone(),
        segments: path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| percent_decode(s, false))
            .collect(),
        query: parse_query(query),
        raw_query: query.to_owned(),
        headers: it.headers.clone(),
        body,
    })
}

/// Run a batch; always 200 unless the batch itself is malformed.
pub fn run(core: &mut Core, ctx: &Ctx, req: &GraphRequest, trace: &Trace) -> GraphResponse {
    let items =
        match parse_items(req.body.as_ref()).and_then(|items| order(&items).map(|o| (items, o))) {
            Ok(x) => x,
            Err(e) => return error_response(e, trace),
        };
    let (items, ord) = items;
    let mut statuses: Vec<(String, u16)> = Vec::new();
    let mut answers = Vec::new();
    for i in ord {
        let it = &items[i];
        let failed_dep = it.depends_on.iter().any(|d| {
            statuses
                .iter()
                .any(|(id, st)| id.eq_ignore_ascii_case(d) && *st >= 400)
        });
        let resp = if failed_dep {
            error_response(
                GraphError::new(
                    424,
                    "FailedDependency",
                    "The request was not executed because a request it depends on failed.",
                ),
                trace,
            )
        } else {
            match item_request(it) {
                Ok(r) if r.segments == ["$batch"] => error_response(
                    GraphError::bad_request("Nested batches are not supported."),
                    trace,
                ),
                Ok(r) => execute(core, ctx, &r, trace),
                Err(e) => error_response(e, trace),
            }
        };
        statuses.push((it.id.clone(), resp.status));
        let mut headers = Map::new();
        for (k, v) in &resp.headers {
            headers.insert(k.clone(), json!(v));
        }
        match &resp.body {
            Body::Json(_) | Body::JsonText(_) | Body::Batch(_) => {
                headers.insert("Content-Type".into(), json!(JSON_CONTENT_TYPE));
            }
            Body::Text(_) => {
                headers.insert("Content-Type".into(), json!("text/plain"));
            }
            Body::Empty => {}
        }
        answers.push(BatchAnswer {
            id: it.id.clone(),
            status: resp.status,
            headers,
            body: resp.body,
        });
    }
    // Written out after the lock is let go, each item's body as it is (tree or text).
    GraphResponse {
        status: 200,
        headers: Vec::new(),
        body: Body::Batch(answers),
    }
}

/// Service time of a batch: the maximum of its items' service times when the
/// items are independent, their sum when any item uses `dependsOn`
/// (performance-model §8.5).
pub fn service_time_ms(req: &GraphRequest) -> u64 {
    let Ok(items) = parse_items(req.body.as_ref()) else {
        return 0;
    };
    let times = items.iter().map(|it| match item_request(it) {
        Ok(r) => crate::http::service_time_ms(&r.method, &r.segments),
        Err(_) => 0,
    });
    if items.iter().any(|it| !it.depends_on.is_empty()) {
        times.sum()
    } else {
        times.max().unwrap_or(0)
    }
}
