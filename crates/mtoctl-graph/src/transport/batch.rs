//! `$batch`: up to 20 requests per HTTP call, each answered (and throttled) on its own.
//!
//! Items are sent in batches as soon as they are due; an item answered 429/503/504 (or 5xx) is
//! due again after its own `Retry-After`, and goes into a later batch with whatever else is due
//! then. The `$batch` call itself is retried by `send` like any request.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use super::pace::{self, Signal};
use super::retry::{Verdict, classify, parse_retry_after};
use super::{GraphClient, GraphRequest, GraphResponse, status_error};
use crate::error::GraphError;

/// Graph's limit of requests per `$batch`.
pub const MAX_BATCH: usize = 20;

struct Pending {
    index: usize,
    attempt: u32,
    due: Instant,
    first_sent: Option<Instant>,
}

pub(super) async fn send_all(
    client: &GraphClient,
    tenant: &str,
    requests: &[GraphRequest],
) -> Vec<Result<GraphResponse, GraphError>> {
    if requests.len() == 1 {
        return vec![client.send(tenant, &requests[0]).await];
    }
    let policy = &client.inner.config.retry;
    let mut results: Vec<Option<Result<GraphResponse, GraphError>>> =
        (0..requests.len()).map(|_| None).collect();
    let now = Instant::now();
    let mut pending: Vec<Pending> = (0..requests.len())
        .map(|index| Pending {
            index,
            attempt: 0,
            due: now,
            first_sent: None,
        })
        .collect();

    while !pending.is_empty() {
        let now = Instant::now();
        let (due, waiting): (Vec<Pending>, Vec<Pending>) =
            pending.into_iter().partition(|p| p.due <= now);
        pending = waiting;
        if due.is_empty() {
            let next = pending.iter().map(|p| p.due).min().unwrap_or(now);
            tokio::time::sleep_until(next.into()).await;
            continue;
        }
        let chunks: Vec<Vec<Pending>> = chunk(due);
        let calls = chunks
            .iter()
            .map(|items| send_batch(client, tenant, requests, items));
        let answers = futures_util::future::join_all(calls).await;
        for (items, answer) in chunks.into_iter().zip(answers) {
            for (mut item, outcome) in items.into_iter().zip(answer) {
                item.attempt += 1;
                let first = *item.first_sent.get_or_insert(now);
                match outcome {
                    ItemOutcome::Done(result) => results[item.index] = Some(result),
                    ItemOutcome::Retry { after, error } => {
                        let delay = policy.delay(item.attempt, after, client.inner.jitter.unit());
                        if item.attempt >= policy.max_attempts
                            || first.elapsed() + delay > policy.deadline
                        {
                            let request = &requests[item.index];
                            results[item.index] = Some(Err(GraphError::GaveUp {
                                tenant: tenant.to_owned(),
                                method: request.method.to_string(),
                                path: request.path.clone(),
                                attempts: item.attempt,
                                elapsed: first.elapsed(),
                                last: Box::new(error),
                            }));
                        } else {
                            client
                                .inner
                                .counters
                                .retries
                                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            item.due = Instant::now() + delay;
                            pending.push(item);
                        }
                    }
                }
            }
        }
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(GraphError::UnknownTenant(tenant.to_owned()))))
        .collect()
}

/// What a `$batch`'s write items' answers say about the tenant's write buckets: the strongest
/// signal of any of them (a write throttled, or the fullest bucket reported), one observation
/// for the whole batch however many items were throttled. Reads in the batch say nothing
/// about writes.
pub(super) fn write_signal(batch: &GraphRequest, answer: &Value) -> Signal {
    let writes: std::collections::HashSet<&str> = batch
        .body
        .as_ref()
        .and_then(|b| b.get("requests"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|i| i.get("method").and_then(Value::as_str) != Some("GET"))
        .filter_map(|i| i.get("id").and_then(Value::as_str))
        .collect();
    answer
        .get("responses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|a| {
            a.get("id")
                .and_then(Value::as_str)
                .is_some_and(|id| writes.contains(id))
        })
        .map(|a| {
            let status = a.get("status").and_then(Value::as_u64).unwrap_or(0) as u16;
            let percentage = item_header(a, pace::LIMIT_HEADER);
            Signal::of(status, pace::parse_percentage(percentage))
        })
        .fold(Signal::Clear, Signal::max)
}

/// What a throttled answer (a 429, or a `$batch` with throttled items) asks of the client.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Throttled {
    /// The longest `Retry-After`; `None` when Graph gave none.
    pub(super) retry_after: Option<Duration>,
    /// Whether a bucket of the whole app registration was the one throttled
    /// (`x-ms-throttle-scope: Application/...`), not one of this tenant's.
    pub(super) app_wide: bool,
}

/// `Some` when any item of a `$batch` answer was throttled.
pub(super) fn throttled_items(answer: &Value) -> Option<Throttled> {
    answer
        .get("responses")
        .and_then(Value::as_array)?
        .iter()
        .filter(|a| a.get("status").and_then(Value::as_u64) == Some(429))
        .map(|a| Throttled {
            retry_after: parse_retry_after(item_header(a, "retry-after")),
            app_wide: pace::is_app_wide(item_header(a, pace::SCOPE_HEADER)),
        })
        .reduce(|a, b| Throttled {
            retry_after: match (a.retry_after, b.retry_after) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            },
            app_wide: a.app_wide || b.app_wide,
        })
}

/// A header of one `$batch` answer item, by case-insensitive name.
fn item_header<'a>(item: &'a Value, name: &str) -> Option<&'a str> {
    item.get("headers")
        .and_then(Value::as_object)?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
}

/// Groups due items into batches of at most [`MAX_BATCH`], keeping request order.
fn chunk(mut due: Vec<Pending>) -> Vec<Vec<Pending>> {
    due.sort_by_key(|p| p.index);
    let mut chunks = Vec::new();
    while !due.is_empty() {
        let rest = due.split_off(due.len().min(MAX_BATCH));
        chunks.push(due);
        due = rest;
    }
    chunks
}

enum ItemOutcome {
    Done(Result<GraphResponse, GraphError>),
    Retry {
        after: Option<Duration>,
        error: GraphError,
    },
}

/// One `$batch` call; returns one outcome per item, in order.
async fn send_batch(
    client: &GraphClient,
    tenant: &str,
    requests: &[GraphRequest],
    items: &[Pending],
) -> Vec<ItemOutcome> {
    let body_items: Vec<Value> = items
        .iter()
        .map(|p| {
            let r = &requests[p.index];
            let mut item =
                json!({"id": p.index.to_string(), "method": r.method.as_str(), "url": r.path});
            let mut headers = serde_json::Map::new();
            if r.eventual {
                headers.insert("ConsistencyLevel".into(), json!("eventual"));
            }
            if let Some(body) = &r.body {
                headers.insert("Content-Type".into(), json!("application/json"));
                item["body"] = body.clone();
            }
            if !headers.is_empty() {
                item["headers"] = Value::Object(headers);
            }
            item
        })
        .collect();
    let batch = GraphRequest::with_body(Method::POST, "/$batch", json!({ "requests": body_items }));
    // The items are the inner requests; the envelope is not one.
    client
        .inner
        .counters
        .inner_requests
        .fetch_add(items.len() as u64, std::sync::atomic::Ordering::Relaxed);
    let response = match client.send_counted(tenant, &batch, false, true).await {
        Ok(r) => r,
        Err(e) => {
            // No token: no request of the tenant can be sent; every item fails with that error
            // itself, so callers can tell a sign-in failure from a lost answer.
            if let GraphError::Token { tenant, reason } = &e {
                return items
                    .iter()
                    .map(|_| {
                        ItemOutcome::Done(Err(GraphError::Token {
                            tenant: tenant.clone(),
                            reason: reason.clone(),
                        }))
                    })
                    .collect();
            }
            // The whole call failed for good: every item fails with that error's message.
            let message = e.to_string();
            return items
                .iter()
                .map(|p| {
                    let r = &requests[p.index];
                    ItemOutcome::Done(Err(GraphError::Transport {
                        tenant: tenant.to_owned(),
                        method: r.method.to_string(),
                        path: r.path.clone(),
                        reason: format!("the $batch carrying it failed: {message}"),
                    }))
                })
                .collect();
        }
    };
    // The answers are taken, not copied: 20 pages of 500 assignments copied twice (the array,
    // then each body) doubled a converged plan's allocations, and glibc's heap, fragmented by
    // them, made every allocation slower.
    let mut body = response.body;
    let mut answers = match body.get_mut("responses").map(Value::take) {
        Some(Value::Array(answers)) => answers,
        _ => Vec::new(),
    };
    items
        .iter()
        .map(|p| {
            let request = &requests[p.index];
            let id = p.index.to_string();
            let Some(answer) = answers
                .iter_mut()
                .find(|a| a.get("id").and_then(Value::as_str) == Some(&id))
            else {
                return ItemOutcome::Retry {
                    after: None,
                    error: GraphError::Decode {
                        tenant: tenant.to_owned(),
                        method: request.method.to_string(),
                        path: request.path.clone(),
                        reason: "the $batch response has no answer for this request".into(),
                    },
                };
            };
            let status = answer.get("status").and_then(Value::as_u64).unwrap_or(0) as u16;
            let retry_after = parse_retry_after(item_header(answer, "retry-after"));
            let request_id = item_header(answer, "request-id").map(str::to_owned);
            let body = answer
                .get_mut("body")
                .map(Value::take)
                .unwrap_or(Value::Null);
            if (200..300).contains(&status) {
                client.note_created(tenant, request, &body);
                return ItemOutcome::Done(Ok(GraphResponse {
                    status,
                    body,
                    request_id,
                }));
            }
            if status == 429 {
                client
                    .inner
                    .counters
                    .throttled
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            let lag = status == 404 && client.recently_created(tenant, &request.path);
            let error = status_error(tenant, request, status, &body, request_id, retry_after);
            match classify(status, retry_after, lag) {
                Verdict::Retry { after } => ItemOutcome::Retry { after, error },
                Verdict::Final => ItemOutcome::Done(Err(error)),
            }
        })
        .collect()
}
