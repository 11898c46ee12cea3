//! Sending one request: retried on throttling and transient failures within the retry
//! deadline, a create that may have acted never repeated blindly; many requests go packed
//! into `$batch` calls.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::exchange::Exchange;
use super::retry::{self, Verdict, classify};
use super::{GraphClient, GraphRequest, GraphResponse, RawResponse, batch};
use crate::error::{GraphError, shown};

impl GraphClient {
    /// Sends one request with retries; an error status is an error.
    pub async fn send(
        &self,
        tenant: &str,
        request: &GraphRequest,
    ) -> Result<GraphResponse, GraphError> {
        self.send_counted(tenant, request, true, true).await
    }

    /// Sends a create that must not be repeated blindly (a POST that makes a new object each
    /// time, such as `instantiate` or a job): retried like [`Self::send`] when Graph refused it
    /// before acting (429, 503), but an outcome that leaves open whether Graph acted (no
    /// answer, a body cut off, a timeout, 500/502/504) is returned as an error at once, so that
    /// the caller can look for the object before it tries again.
    pub async fn send_create(
        &self,
        tenant: &str,
        request: &GraphRequest,
    ) -> Result<GraphResponse, GraphError> {
        self.send_counted(tenant, request, true, false).await
    }

    /// [`Self::send`], the answer's body left as JSON text for a reader that decodes it into
    /// its own types.
    pub(crate) async fn send_raw(
        &self,
        tenant: &str,
        request: &GraphRequest,
    ) -> Result<RawResponse, GraphError> {
        let (raw, _) = self.send_counted_raw(tenant, request, true, true).await?;
        Ok(raw)
    }

    /// [`Self::send`]; `inner` says whether the request counts as an inner request (a `$batch`
    /// envelope does not: its items are counted instead).
    pub(super) async fn send_counted(
        &self,
        tenant: &str,
        request: &GraphRequest,
        inner: bool,
        retry_ambiguous: bool,
    ) -> Result<GraphResponse, GraphError> {
        let (raw, _) = self
            .send_counted_raw(tenant, request, inner, retry_ambiguous)
            .await?;
        tree(tenant, request, raw)
    }

    /// [`Self::send_counted`] with the body left as text, and a `$batch`'s item answers as
    /// the exchange read them out of it.
    pub(super) async fn send_counted_raw(
        &self,
        tenant: &str,
        request: &GraphRequest,
        inner: bool,
        retry_ambiguous: bool,
    ) -> Result<(RawResponse, Option<Vec<batch::ItemAnswer>>), GraphError> {
        let started = Instant::now();
        let policy = &self.inner.config.retry;
        let loopback = self.inner.endpoints.graph_is_loopback();
        let mut attempt = 0;
        loop {
            attempt += 1;
            if inner {
                self.inner
                    .counters
                    .inner_requests
                    .fetch_add(1, Ordering::Relaxed);
            }
            let remaining = policy.deadline.saturating_sub(started.elapsed());
            let exchange = self.exchange(tenant, request, remaining).await?;
            let (verdict, error) = match exchange {
                Exchange::Answered {
                    status,
                    body,
                    items,
                    request_id,
                    ..
                } if (200..300).contains(&status) => {
                    // A `$batch` creates nothing itself; its items are noted one by one.
                    if request.path != "/$batch" {
                        self.note_created(tenant, request, &body);
                    }
                    let raw = RawResponse {
                        status,
                        body,
                        request_id,
                    };
                    return Ok((raw, items));
                }
                Exchange::Answered {
                    status,
                    body,
                    retry_after,
                    request_id,
                    ..
                } => {
                    if status == 429 {
                        self.inner
                            .counters
                            .throttled
                            .fetch_add(1, Ordering::Relaxed);
                    }
                    let lag = status == 404
                        && !request.guessed
                        && self.recently_created(tenant, &request.path);
                    let error =
                        status_error(tenant, request, status, &body, request_id, retry_after);
                    (classify(status, retry_after, lag), error)
                }
                Exchange::NoAnswer(cause) => (
                    Verdict::Retry { after: None },
                    GraphError::Transport {
                        tenant: tenant.to_owned(),
                        method: request.method.to_string(),
                        path: request.path.clone(),
                        cause,
                    },
                ),
            };
            let Verdict::Retry { after } = verdict else {
                return Err(error);
            };
            // A 404 retried is replication lag: Graph refused, having made nothing.
            let ambiguous = !matches!(error.status(), Some(404 | 429 | 503));
            if ambiguous && !retry_ambiguous {
                return Err(error);
            }
            let failure = error.network().map(|n| n.kind);
            let max = policy.attempts_for(failure, loopback);
            let delay =
                policy.delay_for(attempt, after, failure, loopback, self.inner.jitter.unit());
            let elapsed = started.elapsed();
            if attempt >= max || elapsed + delay > policy.deadline {
                return Err(GraphError::GaveUp {
                    tenant: tenant.to_owned(),
                    method: request.method.to_string(),
                    path: request.path.clone(),
                    attempts: attempt,
                    elapsed,
                    last: Box::new(error),
                });
            }
            let why = match &error {
                GraphError::Transport { cause, .. } => format!("no answer from {cause}"),
                other => other.reason(),
            };
            retry::Announce {
                what: &format!(
                    "tenant {tenant}: {} {}",
                    request.method,
                    shown(&request.path)
                ),
                why: &why,
                delay,
                next: attempt + 1,
                max,
                left: policy.deadline.saturating_sub(elapsed),
                deadline: policy.deadline,
                loud: failure.is_some(),
            }
            .emit();
            self.inner.counters.retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(delay).await;
        }
    }

    /// Sends many requests to one tenant, packed into `$batch` calls of up to 20, items that
    /// are throttled or fail transiently retried on their own after their `Retry-After`.
    /// Results come back in the order of `requests`.
    pub async fn send_all(
        &self,
        tenant: &str,
        requests: &[GraphRequest],
    ) -> Vec<Result<GraphResponse, GraphError>> {
        let answers = batch::send_all(self, tenant, requests).await;
        requests
            .iter()
            .zip(answers)
            .map(|(request, answer)| tree(tenant, request, answer?))
            .collect()
    }

    /// [`Self::send_all`], each answer's body left as JSON text for a reader that decodes it
    /// into its own types.
    pub(crate) async fn send_all_raw(
        &self,
        tenant: &str,
        requests: &[GraphRequest],
    ) -> Vec<Result<RawResponse, GraphError>> {
        batch::send_all(self, tenant, requests).await
    }
}

/// An answer's body parsed into a JSON tree, for the readers that want one.
fn tree(
    tenant: &str,
    request: &GraphRequest,
    raw: RawResponse,
) -> Result<GraphResponse, GraphError> {
    raw.into_value().map_err(|e| GraphError::Decode {
        tenant: tenant.to_owned(),
        method: request.method.to_string(),
        path: request.path.clone(),
        reason: format!("not JSON: {e}"),
    })
}

/// A Graph error body (`{"error": {"code", "message", "innerError": {…}}}`, as JSON text) as
/// an error.
pub(super) fn status_error(
    tenant: &str,
    request: &GraphRequest,
    status: u16,
    body: &[u8],
    request_id: Option<String>,
    retry_after: Option<Duration>,
) -> GraphError {
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let error = body.get("error");
    let field = |name: &str| {
        error
            .and_then(|e| e.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    GraphError::Status(Box::new(crate::error::StatusError {
        tenant: tenant.to_owned(),
        method: request.method.to_string(),
        path: request.path.clone(),
        status,
        code: field("code").unwrap_or_else(|| "unknown".into()),
        message: field("message").unwrap_or_else(|| "no error message".into()),
        request_id,
        retry_after,
    }))
}
