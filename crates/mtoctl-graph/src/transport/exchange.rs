//! One HTTP exchange with Graph: the tenant's token and lanes, its write pacer and quiet
//! period, the call itself traced with its `client-request-id` (and recorded, with
//! `--record`), and what the answer says about throttling. The answer's body is checked to be
//! JSON but kept as text: who reads it decodes it into the types it needs.

use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::Value;
use tracing::Instrument;

use super::retry::parse_retry_after;
use super::{GraphClient, GraphRequest, RawResponse, TenantSession, batch, pace};
use crate::auth::GRAPH_SCOPE;
use crate::error::{GraphError, NetworkError, Service, SignInError, one_line, shown};
use crate::record::Answer;

/// The shortest time limit of one HTTP exchange, however little is left of the deadline.
const MIN_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);

/// The outcome of one HTTP exchange before classification.
pub(super) enum Exchange {
    Answered {
        status: u16,
        /// The body as it came, checked to be JSON (`null` when empty, or when an error
        /// answer's body is not JSON): each reader decodes it into what it needs.
        body: Bytes,
        /// A successful `$batch`'s item answers, read out of `body` here once (their throttle
        /// signals are read here, their bodies by `batch`).
        items: Option<Vec<batch::ItemAnswer>>,
        retry_after: Option<Duration>,
        request_id: Option<String>,
    },
    NoAnswer(NetworkError),
}

/// A body checked to be one JSON value without building it (`null` when empty); with
/// `batch`, a `$batch` answer whose items are read out too. A JSON body of another shape than
/// a `$batch` answer has no items (each request is then unanswered, and retried).
fn checked(
    bytes: Bytes,
    batch: bool,
) -> Result<(Bytes, Option<Vec<batch::ItemAnswer>>), serde_json::Error> {
    if bytes.is_empty() {
        return Ok((Bytes::from_static(RawResponse::NULL), batch.then(Vec::new)));
    }
    if batch {
        return match batch::ItemAnswer::read_all(&bytes) {
            Ok(items) => Ok((bytes, Some(items))),
            Err(e) if e.is_data() => {
                serde_json::from_slice::<serde::de::IgnoredAny>(&bytes)?;
                Ok((bytes, Some(Vec::new())))
            }
            Err(e) => Err(e),
        };
    }
    serde_json::from_slice::<serde::de::IgnoredAny>(&bytes)?;
    Ok((bytes, None))
}

impl GraphClient {
    /// The tenant's session and a current token for it (from the cache when fresh).
    pub(super) async fn session_and_token(
        &self,
        tenant: &str,
    ) -> Result<(&TenantSession, azure_core::credentials::AccessToken), GraphError> {
        let session = self
            .inner
            .tenants
            .get(tenant)
            .ok_or_else(|| GraphError::UnknownTenant(tenant.to_owned()))?;
        let token = session
            .credential
            .get_token(&[GRAPH_SCOPE], None)
            .await
            .map_err(|e| {
                // A login endpoint that could not be reached says so, typed; anything else is
                // the credential's own message (AADSTS codes), on one line.
                let cause = SignInError::find_in(&e).cloned();
                let reason = match &cause {
                    Some(sign_in) => sign_in.to_string(),
                    None => one_line(&e.to_string()).into_owned(),
                };
                GraphError::Token {
                    tenant: tenant.to_owned(),
                    reason,
                    cause,
                }
            })?;
        Ok((session, token))
    }

    /// One HTTP exchange: token, lane, send, read the body; given up after the request
    /// timeout, or sooner when less than that is `remaining` of the overall deadline.
    pub(super) async fn exchange(
        &self,
        tenant: &str,
        request: &GraphRequest,
        remaining: Duration,
    ) -> Result<Exchange, GraphError> {
        let (session, token) = self.session_and_token(tenant).await?;
        // Counted once: a `$batch`'s items are scanned for it.
        let writes = request.writes();
        let lane = if writes > 0 {
            &session.writes
        } else {
            &session.reads
        };
        let _permit = lane
            .acquire()
            .await
            .map_err(|_| GraphError::UnknownTenant(tenant.to_owned()))?;
        let _volume = if writes > 0 {
            Some(
                session
                    .write_volume
                    .acquire_many(writes.min(batch::MAX_BATCH as u32))
                    .await
                    .map_err(|_| GraphError::UnknownTenant(tenant.to_owned()))?,
            )
        } else {
            None
        };
        let _read_volume = if writes == 0 {
            let weight = if request.path == "/$batch" {
                batch::MAX_BATCH as u32
            } else {
                1
            };
            Some(
                session
                    .read_volume
                    .acquire_many(weight)
                    .await
                    .map_err(|_| GraphError::UnknownTenant(tenant.to_owned()))?,
            )
        } else {
            None
        };
        // A tenant told to wait takes no pacer turns meanwhile: turns taken during a
        // Retry-After would all go at its end, at once, into a bucket just refilled to one.
        Self::wait_out_retry_after(session).await;
        let mut ticket = if self.inner.config.pace_writes && writes > 0 {
            Some(session.pacer.admit(writes).await)
        } else {
            None
        };
        Self::wait_out_retry_after(session).await;
        // Graph charges the call when it goes, not when it was admitted.
        ticket = ticket.map(|t| t.went_at(Instant::now()));

        let url = self
            .inner
            .endpoints
            .graph_url_in(self.version_of(&request.path), &request.path)
            .map_err(|e| GraphError::Decode {
                tenant: tenant.to_owned(),
                method: request.method.to_string(),
                path: request.path.clone(),
                reason: format!("not a valid path: {e}"),
            })?;
        let client_request_id = uuid::Uuid::new_v4().to_string();
        let span = tracing::debug_span!(
            "graph",
            tenant,
            method = %request.method,
            path = %shown(&request.path),
            client_request_id = %client_request_id,
            status = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
            request_id = tracing::field::Empty,
        );
        // Instrumented, not entered: a span entered across an await is attached to whatever
        // else the thread runs meanwhile, and the log would credit other tenants' calls to it.
        let traced = span.clone();
        async move {
            let mut builder = self
                .inner
                .http
                .request(request.method.clone(), url)
                .bearer_auth(token.token.secret())
                .timeout(
                    self.inner
                        .config
                        .request_timeout
                        .min(remaining.max(MIN_ATTEMPT_TIMEOUT)),
                )
                .header("client-request-id", &client_request_id)
                .header("return-client-request-id", "true");
            if request.eventual {
                builder = builder.header("ConsistencyLevel", "eventual");
            }
            if let Some(encoded) = &request.encoded {
                builder = builder
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(encoded.json.clone());
            } else if let Some(body) = &request.body {
                builder = builder.json(body);
            }
            self.inner
                .counters
                .http_calls
                .fetch_add(1, Ordering::Relaxed);
            let started = Instant::now();
            let response = match builder.send().await {
                Ok(r) => r,
                Err(e) => {
                    span.record("latency_ms", started.elapsed().as_millis() as u64);
                    let cause = self.no_answer(e);
                    tracing::debug!(error = %cause, "no answer");
                    self.record(tenant, request, started, Answer::NoAnswer(cause.kind));
                    return Ok(Exchange::NoAnswer(cause));
                }
            };
            let status = response.status().as_u16();
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let request_id = header("request-id");
            let retry_after = parse_retry_after(header("retry-after").as_deref());
            let app_wide = pace::is_app_wide(header(pace::SCOPE_HEADER).as_deref());
            let limit_percentage = pace::parse_percentage(header(pace::LIMIT_HEADER).as_deref());
            let kept_headers = if self.recording() {
                super::record::kept_headers(response.headers())
            } else {
                Vec::new()
            };
            let bytes = match response.bytes().await {
                Ok(b) => b,
                Err(e) => {
                    let cause = self.no_answer(e);
                    tracing::debug!(error = %cause, "the body was cut off");
                    self.record(tenant, request, started, Answer::NoAnswer(cause.kind));
                    return Ok(Exchange::NoAnswer(cause));
                }
            };
            span.record("status", status);
            span.record("latency_ms", started.elapsed().as_millis() as u64);
            if let Some(id) = &request_id {
                span.record("request_id", id.as_str());
            }
            tracing::debug!("graph call");
            // Recorded as it came, before anything is made of it (an answer that is not JSON
            // has a `null` body in the transcript). Parsed into a tree only for the recorder.
            if self.recording() {
                let body = if bytes.is_empty() {
                    Value::Null
                } else {
                    serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null)
                };
                let headers = kept_headers;
                let answer = Answer::Answered {
                    status,
                    headers,
                    body: &body,
                };
                self.record(tenant, request, started, answer);
            }
            let ok = (200..300).contains(&status);
            let is_batch = request.path == "/$batch";
            let (body, items) = match checked(bytes, ok && is_batch) {
                Ok(checked) => checked,
                Err(_) if !ok => (Bytes::from_static(RawResponse::NULL), None),
                Err(e) => {
                    return Err(GraphError::Decode {
                        tenant: tenant.to_owned(),
                        method: request.method.to_string(),
                        path: request.path.clone(),
                        reason: format!("not JSON: {e}"),
                    });
                }
            };
            let no_items: &[batch::ItemAnswer] = &[];
            let item_answers = items.as_deref().unwrap_or(no_items);
            // A throttled answer quiets the tenant before this call's lane is free again: a
            // call that took the lane first would still go out early. A `$batch`'s throttled
            // items count like a throttled call.
            let throttled = if status == 429 {
                Some(batch::Throttled {
                    retry_after,
                    app_wide,
                })
            } else if is_batch {
                batch::throttled_items(item_answers)
            } else {
                None
            };
            if let Some(throttled) = throttled {
                self.quiet(tenant, throttled);
            }
            // What Graph said about the tenant's write buckets, told to its pacer: a `$batch`
            // envelope carries no signal, its write items do.
            if let Some(ticket) = ticket {
                let (signal, throttled) = if is_batch {
                    (
                        batch::write_signal(request, item_answers),
                        batch::throttled_writes(request, item_answers),
                    )
                } else {
                    let throttled = if status == 429 { writes } else { 0 };
                    (pace::Signal::of(status, limit_percentage), throttled)
                };
                session.pacer.observe(signal, ticket, throttled);
            }
            Ok(Exchange::Answered {
                status,
                body,
                items,
                retry_after,
                request_id,
            })
        }
        .instrument(traced)
        .await
    }

    /// A request to Graph that got no answer, classified, naming Graph as the user gave it.
    /// reqwest's error keeps no URL: the one it would carry is the URL-encoded request URL.
    fn no_answer(&self, error: reqwest::Error) -> NetworkError {
        NetworkError::new(
            Service::Graph,
            self.inner.endpoints.graph_as_given(),
            error.without_url(),
        )
    }

    /// Waits until neither the tenant's nor its app's last `Retry-After` holds any more.
    async fn wait_out_retry_after(session: &TenantSession) {
        loop {
            let own = *session
                .quiet_until
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let app = *session.app_quiet.lock().unwrap_or_else(|e| e.into_inner());
            match own.max(app) {
                Some(until) if until > Instant::now() => {
                    tokio::time::sleep_until(until.into()).await
                }
                _ => break,
            }
        }
    }

    /// Keeps `tenant` quiet for the `Retry-After` (one second when Graph gave none), at most
    /// the retry deadline; and every tenant of its app registration too when the bucket
    /// throttled is the app's own.
    fn quiet(&self, tenant: &str, throttled: batch::Throttled) {
        let Some(session) = self.inner.tenants.get(tenant) else {
            return;
        };
        // Never quieter than a request's retry deadline: a request given a longer Retry-After
        // gives up at once, and the tenant's other requests must not wait (say) a day for it.
        let wait = throttled
            .retry_after
            .unwrap_or(Duration::from_secs(1))
            .min(self.inner.config.retry.deadline);
        let until = Instant::now() + wait;
        let extend = |quiet: &Mutex<Option<Instant>>| {
            let mut quiet = quiet.lock().unwrap_or_else(|e| e.into_inner());
            *quiet = Some(quiet.map_or(until, |q| q.max(until)));
        };
        extend(&session.quiet_until);
        if throttled.app_wide {
            tracing::debug!(
                tenant,
                ?wait,
                "the app's own write bucket is empty: every tenant of the app waits"
            );
            extend(&session.app_quiet);
        }
    }
}
