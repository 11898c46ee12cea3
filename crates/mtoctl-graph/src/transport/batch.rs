//! `$batch`: up to 20 requests per HTTP call, each answered (and throttled) on its own.
//!
//! Items are sent in batches as soon as they are due; an item answered 429/503/504 (or 5xx) is
//! due again after its own `Retry-After`, and goes into a later batch with whatever else is due
//! then. The `$batch` call itself is retried by `send` like any request.
//!
//! A `$batch` answer is read once, into [`ItemAnswer`]s whose bodies are slices of the
//! answer's bytes (JSON text, neither copied nor parsed): each item's reader decodes its body
//! into what it needs.

use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::Method;
use serde_json::Value;
use serde_json::value::RawValue;

use super::pace::{self, Signal};
use super::retry::{Verdict, classify, parse_retry_after};
use super::{GraphClient, GraphRequest, RawResponse, status_error};
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
) -> Vec<Result<RawResponse, GraphError>> {
    if requests.len() == 1 {
        return vec![client.send_raw(tenant, &requests[0]).await];
    }
    // A `$batch` is answered within one API version: what goes to beta is sent on its own.
    if requests
        .iter()
        .any(|r| client.version_of(&r.path) != crate::endpoints::API_VERSION)
    {
        return split_by_version(client, tenant, requests).await;
    }
    let policy = &client.inner.config.retry;
    let mut results: Vec<Option<Result<RawResponse, GraphError>>> =
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
        // This round's retried items, announced once for the round.
        let mut retried: Option<Retried> = None;
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
                            let round = retried.get_or_insert_with(Retried::default);
                            round.count += 1;
                            if delay >= round.longest {
                                round.longest = delay;
                                round.why = error.reason();
                                round.next = item.attempt + 1;
                                round.left = policy.deadline.saturating_sub(first.elapsed());
                            }
                            item.due = Instant::now() + delay;
                            pending.push(item);
                        }
                    }
                }
            }
        }
        if let Some(round) = retried {
            round.announce(tenant, policy.max_attempts, policy.deadline);
        }
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(GraphError::UnknownTenant(tenant.to_owned()))))
        .collect()
}

/// [`send_all`] for a list holding beta requests: those one by one, the others batched, each
/// answer back at its request's place.
async fn split_by_version(
    client: &GraphClient,
    tenant: &str,
    requests: &[GraphRequest],
) -> Vec<Result<RawResponse, GraphError>> {
    let (beta, v1): (Vec<usize>, Vec<usize>) = (0..requests.len())
        .partition(|&i| client.version_of(&requests[i].path) != crate::endpoints::API_VERSION);
    let batched: Vec<GraphRequest> = v1.iter().map(|&i| requests[i].clone()).collect();
    let singles = beta.iter().map(|&i| client.send_raw(tenant, &requests[i]));
    let (singles, batched) = futures_util::future::join(
        futures_util::future::join_all(singles),
        Box::pin(send_all(client, tenant, &batched)),
    )
    .await;
    let mut out: Vec<Option<Result<RawResponse, GraphError>>> =
        (0..requests.len()).map(|_| None).collect();
    for (i, r) in beta
        .into_iter()
        .zip(singles)
        .chain(v1.into_iter().zip(batched))
    {
        out[i] = Some(r);
    }
    out.into_iter()
        .map(|r| r.unwrap_or_else(|| Err(GraphError::UnknownTenant(tenant.to_owned()))))
        .collect()
}

/// The items of one round that are retried: how many, and the longest wait among them.
#[derive(Default)]
struct Retried {
    count: usize,
    longest: Duration,
    why: String,
    next: u32,
    left: Duration,
}

impl Retried {
    /// Announces them once (see `retry::Announce`): DEBUG, or WARN when the wait is long.
    fn announce(self, tenant: &str, max: u32, deadline: Duration) {
        let what = if self.count == 1 {
            format!("tenant {tenant}: a request in a $batch")
        } else {
            format!("tenant {tenant}: {} requests in a $batch", self.count)
        };
        super::retry::Announce {
            what: &what,
            why: &self.why,
            delay: self.longest,
            next: self.next,
            max,
            left: self.left,
            deadline,
            loud: false,
        }
        .emit();
    }
}

/// One item's answer in a `$batch` answer, as the exchange read it out of the answer's bytes.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ItemAnswer {
    /// The item's id (its request's index in the caller's list), if it has a string id.
    id: Option<String>,
    /// Its HTTP status; 0 when it has none that is a number.
    status: u16,
    /// Its headers (a JSON object, or anything else when Graph sent no object).
    headers: Value,
    /// Its body's JSON text, a slice of the answer's bytes; `null` when it has none.
    body: Bytes,
}

/// A `$batch` answer's text: its items, their bodies borrowed from it.
#[derive(serde::Deserialize)]
struct AnswersText<'a> {
    #[serde(borrow, default)]
    responses: Option<Vec<ItemText<'a>>>,
}

#[derive(serde::Deserialize)]
struct ItemText<'a> {
    #[serde(default)]
    id: Value,
    #[serde(default)]
    status: Value,
    #[serde(default)]
    headers: Value,
    #[serde(borrow, default)]
    body: Option<&'a RawValue>,
}

impl ItemAnswer {
    /// The items of a `$batch` answer (none when it has no `responses`). An error when the
    /// text is not JSON, or is JSON of another shape (`is_data`).
    pub(super) fn read_all(answer: &Bytes) -> Result<Vec<ItemAnswer>, serde_json::Error> {
        let text: AnswersText<'_> = serde_json::from_slice(answer)?;
        Ok(text
            .responses
            .unwrap_or_default()
            .into_iter()
            .map(|item| ItemAnswer {
                id: item.id.as_str().map(str::to_owned),
                status: item.status.as_u64().unwrap_or(0) as u16,
                headers: item.headers,
                body: item.body.map_or_else(
                    || Bytes::from_static(RawResponse::NULL),
                    |raw| slice_of(answer, raw.get().as_bytes()),
                ),
            })
            .collect())
    }

    /// A header, by case-insensitive name.
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .as_object()?
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_str())
    }
}

/// `part` (text borrowed from `whole`) as a slice sharing `whole`'s memory; a copy if it is
/// not inside `whole` (serde_json borrows raw values from its input, so it always is).
fn slice_of(whole: &Bytes, part: &[u8]) -> Bytes {
    let inside = whole.as_ptr_range();
    let range = part.as_ptr_range();
    if inside.start <= range.start && range.end <= inside.end {
        whole.slice_ref(part)
    } else {
        Bytes::copy_from_slice(part)
    }
}

/// What a `$batch`'s write items' answers say about the tenant's write buckets: the strongest
/// signal of any of them (a write throttled, or the fullest bucket reported), one observation
/// for the whole batch however many items were throttled. Reads in the batch say nothing
/// about writes.
pub(super) fn write_signal(batch: &GraphRequest, answers: &[ItemAnswer]) -> Signal {
    let writes = batch.batch_write_ids().unwrap_or_default();
    answers
        .iter()
        .filter(|a| a.id.as_deref().is_some_and(|id| writes.contains(id)))
        .map(|a| {
            let percentage = a.header(pace::LIMIT_HEADER);
            Signal::of(a.status, pace::parse_percentage(percentage))
        })
        .fold(Signal::Clear, Signal::max)
}

/// How many of a `$batch`'s write items were answered 429 (they will be sent again).
pub(super) fn throttled_writes(batch: &GraphRequest, answers: &[ItemAnswer]) -> u32 {
    let writes = batch.batch_write_ids().unwrap_or_default();
    let throttled = answers
        .iter()
        .filter(|a| a.status == 429 && a.id.as_deref().is_some_and(|id| writes.contains(id)))
        .count();
    u32::try_from(throttled).unwrap_or(u32::MAX)
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
pub(super) fn throttled_items(answers: &[ItemAnswer]) -> Option<Throttled> {
    answers
        .iter()
        .filter(|a| a.status == 429)
        .map(|a| Throttled {
            retry_after: parse_retry_after(a.header("retry-after")),
            app_wide: pace::is_app_wide(a.header(pace::SCOPE_HEADER)),
        })
        .reduce(|a, b| Throttled {
            retry_after: match (a.retry_after, b.retry_after) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            },
            app_wide: a.app_wide || b.app_wide,
        })
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
    Done(Result<RawResponse, GraphError>),
    Retry {
        after: Option<Duration>,
        error: GraphError,
    },
}

/// A `$batch` request body, borrowing its items' paths and bodies.
#[derive(serde::Serialize)]
struct Envelope<'r> {
    requests: Vec<Item<'r>>,
}

/// One item of a `$batch` request; its id is the request's index in the caller's list.
#[derive(serde::Serialize)]
struct Item<'r> {
    #[serde(serialize_with = "as_text")]
    id: usize,
    method: &'r str,
    url: &'r str,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<&'r Value>,
    #[serde(skip_serializing_if = "ItemHeaders::is_empty")]
    headers: ItemHeaders,
}

#[derive(serde::Serialize)]
struct ItemHeaders {
    #[serde(rename = "ConsistencyLevel", skip_serializing_if = "Option::is_none")]
    consistency_level: Option<&'static str>,
    #[serde(rename = "Content-Type", skip_serializing_if = "Option::is_none")]
    content_type: Option<&'static str>,
}

impl ItemHeaders {
    fn is_empty(&self) -> bool {
        self.consistency_level.is_none() && self.content_type.is_none()
    }
}

/// `$batch` ids are strings.
fn as_text<S: serde::Serializer>(id: &usize, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(id)
}

/// Every item of a `$batch`, failed with the error `error` makes for each.
fn all_failed(
    requests: &[GraphRequest],
    items: &[Pending],
    error: impl Fn(&GraphRequest) -> GraphError,
) -> Vec<ItemOutcome> {
    items
        .iter()
        .map(|p| ItemOutcome::Done(Err(error(&requests[p.index]))))
        .collect()
}

/// One `$batch` call; returns one outcome per item, in order.
async fn send_batch(
    client: &GraphClient,
    tenant: &str,
    requests: &[GraphRequest],
    items: &[Pending],
) -> Vec<ItemOutcome> {
    let envelope = Envelope {
        requests: items
            .iter()
            .map(|p| {
                let r = &requests[p.index];
                Item {
                    id: p.index,
                    method: r.method.as_str(),
                    url: &r.path,
                    body: r.body.as_ref(),
                    headers: ItemHeaders {
                        consistency_level: r.eventual.then_some("eventual"),
                        content_type: r.body.is_some().then_some("application/json"),
                    },
                }
            })
            .collect(),
    };
    // Which items write: the pacer reads their answers' signals, and the lane counts them.
    let writes = items
        .iter()
        .filter(|p| requests[p.index].method != Method::GET)
        .map(|p| p.index.to_string())
        .collect();
    let batch = match serde_json::to_vec(&envelope) {
        Ok(json) => GraphRequest::encoded_batch(json, writes),
        // Only a map with keys that are not strings fails to serialise; no Graph body has one.
        Err(e) => {
            return all_failed(requests, items, |r| GraphError::Encode {
                tenant: tenant.to_owned(),
                method: r.method.to_string(),
                path: r.path.clone(),
                reason: e.to_string(),
            });
        }
    };
    drop(envelope);
    // The items are the inner requests; the envelope is not one.
    client
        .inner
        .counters
        .inner_requests
        .fetch_add(items.len() as u64, std::sync::atomic::Ordering::Relaxed);
    let mut answers = match client.send_counted_raw(tenant, &batch, false, true).await {
        // The items' bodies are slices of the answer, taken out of it, not copied: 20 pages
        // of 500 assignments copied twice (the array, then each body) doubled a converged
        // plan's allocations, and glibc's heap, fragmented by them, made every allocation
        // slower.
        Ok((_, answered)) => answered.unwrap_or_default(),
        Err(e) => {
            // The whole call failed for good. No token, or no answer: every item fails with
            // that error itself (under its own path), so callers can tell a sign-in failure or
            // an unreachable Graph from a refusal; any other failure is wrapped.
            return all_failed(requests, items, |r| {
                e.for_request(r.method.as_str(), &r.path)
            });
        }
    };
    items
        .iter()
        .map(|p| {
            let request = &requests[p.index];
            let id = p.index.to_string();
            let Some(answer) = answers
                .iter_mut()
                .find(|a| a.id.as_deref() == Some(id.as_str()))
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
            let status = answer.status;
            let retry_after = parse_retry_after(answer.header("retry-after"));
            let request_id = answer.header("request-id").map(str::to_owned);
            let body = std::mem::replace(&mut answer.body, Bytes::from_static(RawResponse::NULL));
            if (200..300).contains(&status) {
                client.note_created(tenant, request, &body);
                return ItemOutcome::Done(Ok(RawResponse {
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
            let lag =
                status == 404 && !request.guessed && client.recently_created(tenant, &request.path);
            let error = status_error(tenant, request, status, &body, request_id, retry_after);
            match classify(status, retry_after, lag) {
                Verdict::Retry { after } => ItemOutcome::Retry { after, error },
                Verdict::Final => ItemOutcome::Done(Err(error)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(answer: Value) -> Vec<ItemAnswer> {
        ItemAnswer::read_all(&Bytes::from(answer.to_string())).expect("a $batch answer")
    }

    #[test]
    fn a_batch_answers_items_keep_their_bodies_as_text_sliced_from_the_answer() {
        let answer = Bytes::from_static(
            br#"{"responses": [
                {"id": "1", "status": 404, "headers": {"Retry-After": "3"},
                 "body": {"error": {"code": "Request_ResourceNotFound", "message": "gone"}}},
                {"id": "0", "status": 200, "body": {"value": [{"id": "a"}]}},
                {"id": 2, "status": "204"},
                {"id": "3", "status": 204, "body": null}
            ]}"#,
        );
        let items = ItemAnswer::read_all(&answer).expect("read");
        assert_eq!(items.len(), 4);
        assert_eq!(items[0].id.as_deref(), Some("1"));
        assert_eq!(items[0].status, 404);
        assert_eq!(items[0].header("retry-after"), Some("3"));
        let error: Value = serde_json::from_slice(&items[0].body).expect("json");
        assert_eq!(error["error"]["code"], "Request_ResourceNotFound");
        assert_eq!(&items[1].body[..], br#"{"value": [{"id": "a"}]}"#);
        // Shared with the answer, not copied.
        let whole = answer.as_ptr_range();
        assert!(whole.contains(&items[1].body.as_ptr()));
        // What is not a string id or a numeric status is none, as Graph never sends it.
        assert_eq!((items[2].id.as_deref(), items[2].status), (None, 0));
        assert_eq!(&items[2].body[..], b"null");
        assert_eq!(&items[3].body[..], b"null");
    }

    #[test]
    fn an_answer_without_items_or_not_json_is_told_apart() {
        assert_eq!(read(json!({"error": {"code": "x"}})), Vec::new());
        let shape = ItemAnswer::read_all(&Bytes::from_static(br#"{"responses": 3}"#));
        assert!(shape.expect_err("another shape").is_data());
        let broken = ItemAnswer::read_all(&Bytes::from_static(br#"{"responses": [{"#));
        assert!(!broken.expect_err("not JSON").is_data());
    }

    #[test]
    fn throttled_items_give_the_longest_retry_after_and_the_apps_scope() {
        let answers = read(json!({"responses": [
            {"id": "0", "status": 429, "headers": {"Retry-After": "2"}},
            {"id": "1", "status": 429,
             "headers": {"retry-after": "7", "x-ms-throttle-scope": "Application/All/x/y"}},
            {"id": "2", "status": 200, "headers": {"Retry-After": "60"}}
        ]}));
        assert_eq!(
            throttled_items(&answers),
            Some(Throttled {
                retry_after: Some(Duration::from_secs(7)),
                app_wide: true,
            })
        );
        assert_eq!(throttled_items(&answers[2..]), None);
    }

    #[test]
    fn an_envelope_is_written_as_graph_reads_a_batch() {
        let body = json!({"principalId": "p", "resourceId": "s", "appRoleId": "r"});
        let get = GraphRequest {
            eventual: true,
            ..GraphRequest::get("/users?$filter=x")
        };
        let post = GraphRequest::with_body(
            Method::POST,
            "/servicePrincipals/s/appRoleAssignedTo",
            body.clone(),
        );
        let envelope = Envelope {
            requests: vec![
                Item {
                    id: 3,
                    method: get.method.as_str(),
                    url: &get.path,
                    body: get.body.as_ref(),
                    headers: ItemHeaders {
                        consistency_level: Some("eventual"),
                        content_type: None,
                    },
                },
                Item {
                    id: 12,
                    method: post.method.as_str(),
                    url: &post.path,
                    body: post.body.as_ref(),
                    headers: ItemHeaders {
                        consistency_level: None,
                        content_type: Some("application/json"),
                    },
                },
                Item {
                    id: 13,
                    method: "DELETE",
                    url: "/x",
                    body: None,
                    headers: ItemHeaders {
                        consistency_level: None,
                        content_type: None,
                    },
                },
            ],
        };
        let written: Value = serde_json::from_slice(&serde_json::to_vec(&envelope).expect("json"))
            .expect("reads back");
        assert_eq!(
            written,
            json!({"requests": [
                {"id": "3", "method": "GET", "url": "/users?$filter=x",
                 "headers": {"ConsistencyLevel": "eventual"}},
                {"id": "12", "method": "POST", "url": "/servicePrincipals/s/appRoleAssignedTo",
                 "body": body, "headers": {"Content-Type": "application/json"}},
                {"id": "13", "method": "DELETE", "url": "/x"}
            ]})
        );
    }

    #[test]
    fn an_encoded_envelope_knows_its_writes_and_hides_its_bytes() {
        let r = GraphRequest::encoded_batch(
            br#"{"requests":[]}"#.to_vec(),
            vec!["3".into(), "12".into()],
        );
        assert_eq!(r.writes(), 2);
        assert_eq!(r.batch_write_ids(), Some(["3", "12"].into()));
        assert_eq!(
            format!("{r:?}"),
            "GraphRequest { method: POST, path: \"/$batch\", body: None, eventual: false, encoded: Some(Encoded(15 bytes, writes [\"3\", \"12\"])), guessed: false }"
        );
    }

    #[test]
    fn the_write_signal_of_an_encoded_envelope_comes_from_its_write_items_only() {
        let r = GraphRequest::encoded_batch(b"{}".to_vec(), vec!["1".into()]);
        let answer = |write_status: u16| {
            read(json!({"responses": [
                {"id": "0", "status": 429, "headers": {}},
                {"id": "1", "status": write_status,
                 "headers": {"x-ms-throttle-limit-percentage": "0.9"}}
            ]}))
        };
        // The GET's 429 is no write signal; the write item's pressure is.
        assert_eq!(write_signal(&r, &answer(204)), Signal::Pressure(0.9));
        assert_eq!(write_signal(&r, &answer(429)), Signal::Throttled);
        assert_eq!(throttled_writes(&r, &answer(204)), 0);
        assert_eq!(throttled_writes(&r, &answer(429)), 1);
    }
}
