//! One HTTP client for every tenant: tokens, lanes, retries, `$batch`, paging, request ids.
//!
//! Each tenant has its own credential and two lanes (reads and writes) that bound how many
//! calls are in flight to it, so one busy tenant cannot starve the others and writes cannot
//! starve reads. Every call carries a fresh `client-request-id` and is traced (method, path,
//! status, latency, request-id; never the token).

mod batch;
mod pace;
pub mod retry;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use azure_core::credentials::TokenCredential;
use reqwest::Method;
use serde_json::Value;
use tokio::sync::Semaphore;
use tracing::Instrument;

use crate::auth::GRAPH_SCOPE;
use crate::endpoints::Endpoints;
use crate::error::{GraphError, NetworkError, Service, SignInError, one_line, shown};
use retry::{Jitter, RetryPolicy, Verdict, classify, parse_retry_after};

/// One Graph request, relative to the version root.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphRequest {
    /// HTTP method.
    pub method: Method,
    /// Path and query relative to the version root (`/users?$select=id`).
    pub path: String,
    /// JSON body.
    pub body: Option<Value>,
    /// Sends `ConsistencyLevel: eventual` (advanced queries, `$count`).
    pub eventual: bool,
    /// A `$batch` envelope's body, already written out (`body` is then `None`).
    encoded: Option<Encoded>,
}

/// A JSON body written out once, and the writes it carries. A `$batch` envelope is built as
/// bytes, not as a `Value` tree with a copy of each item's body: B4's apply held some 40 MB of
/// such trees in envelopes waiting for their tenant's write pacer.
#[derive(Clone, PartialEq)]
struct Encoded {
    json: bytes::Bytes,
    /// The ids of the envelope's items that write (its other items are GETs).
    writes: Box<[String]>,
}

impl std::fmt::Debug for Encoded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Item bodies may carry secrets; their length is all a log needs.
        write!(
            f,
            "Encoded({} bytes, writes {:?})",
            self.json.len(),
            self.writes
        )
    }
}

impl GraphRequest {
    /// A GET.
    pub fn get(path: impl Into<String>) -> Self {
        Self {
            method: Method::GET,
            path: path.into(),
            body: None,
            eventual: false,
            encoded: None,
        }
    }

    /// A request with a JSON body.
    pub fn with_body(method: Method, path: impl Into<String>, body: Value) -> Self {
        Self {
            method,
            path: path.into(),
            body: Some(body),
            eventual: false,
            encoded: None,
        }
    }

    /// A `$batch` envelope already written out, whose items with ids `writes` write.
    pub(crate) fn encoded_batch(json: Vec<u8>, writes: Vec<String>) -> Self {
        Self {
            method: Method::POST,
            path: "/$batch".into(),
            body: None,
            eventual: false,
            encoded: Some(Encoded {
                json: json.into(),
                writes: writes.into(),
            }),
        }
    }

    /// The ids of a `$batch` envelope's items that write; `None` for any other request.
    pub(crate) fn batch_write_ids(&self) -> Option<std::collections::HashSet<&str>> {
        if self.path != "/$batch" {
            return None;
        }
        if let Some(encoded) = &self.encoded {
            return Some(encoded.writes.iter().map(String::as_str).collect());
        }
        Some(
            self.body
                .as_ref()
                .and_then(|b| b.get("requests"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|i| i.get("method").and_then(Value::as_str) != Some("GET"))
                .filter_map(|i| i.get("id").and_then(Value::as_str))
                .collect(),
        )
    }

    /// A request without a body.
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            body: None,
            eventual: false,
            encoded: None,
        }
    }

    /// The writes this call carries: none for a GET, a `$batch`'s non-GET items, or one. A
    /// call with writes goes into the write lane; a `$batch` of GETs is a read.
    fn writes(&self) -> u32 {
        if self.method == Method::GET {
            return 0;
        }
        self.batch_write_ids()
            .map_or(1, |ids| u32::try_from(ids.len()).unwrap_or(u32::MAX))
    }
}

/// A successful Graph response.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphResponse {
    /// HTTP status (2xx).
    pub status: u16,
    /// Parsed JSON body; `Null` when empty (204).
    pub body: Value,
    /// `request-id` from Graph.
    pub request_id: Option<String>,
}

/// Client settings.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Read calls in flight per tenant (a `$batch` counts once).
    pub read_concurrency: usize,
    /// Write calls in flight per tenant. Their rate is the write pacer's business (see
    /// [`Self::pace_writes`]); this only bounds how many slow writes (an `instantiate` takes
    /// seconds) overlap.
    pub write_concurrency: usize,
    /// Writes in flight per tenant, a `$batch` counting its writes: before Graph first
    /// signals pressure the pacer does not hold writes back, and what is in flight when the
    /// bucket empties is throttled (and charged) all the same.
    pub writes_in_flight: usize,
    /// Pace each tenant's writes from Graph's throttle signals (`transport::pace`), so that
    /// a long apply writes at the rate Graph's write buckets refill instead of being throttled.
    pub pace_writes: bool,
    /// Time limit of one HTTP exchange.
    pub request_timeout: Duration,
    /// Retries.
    pub retry: RetryPolicy,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            // Little's law at ~150 ms per call keeps six batches per tenant well inside Graph's
            // read buckets (performance-model.md §9).
            read_concurrency: 6,
            // Slow single writes (an `instantiate` takes seconds) of a hub's 99 configurations
            // go side by side; the pacer, not the lanes, keeps the rate within Graph's buckets.
            write_concurrency: 64,
            // 16 full `$batch` calls.
            writes_in_flight: 320,
            pace_writes: true,
            request_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
        }
    }
}

/// Counters of what the client sent.
#[derive(Debug, Default)]
struct Counters {
    http_calls: AtomicU64,
    inner_requests: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
}

/// A snapshot of the client's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClientStats {
    /// HTTP exchanges with Graph (a `$batch` is one).
    pub http_calls: u64,
    /// Logical requests: each item of a `$batch` counts, the envelope does not; retries count.
    pub inner_requests: u64,
    /// Requests sent again after a retryable failure.
    pub retries: u64,
    /// 429 answers seen (outer or inner).
    pub throttled: u64,
}

struct TenantSession {
    credential: Arc<dyn TokenCredential>,
    reads: Semaphore,
    writes: Semaphore,
    /// Permits of [`ClientConfig::writes_in_flight`], one per write.
    write_volume: Semaphore,
    /// Spaces the tenant's writes once Graph signals its write buckets are nearly empty.
    pacer: pace::Pacer,
    /// Set by a 429: Graph's buckets are per app and tenant, so after a throttled answer no
    /// request goes to this tenant until its `Retry-After` has passed, not just the one that
    /// was throttled. Coming back early is throttled again and charged again.
    quiet_until: Mutex<Option<Instant>>,
    /// Shared by every tenant reached through the same app registration: a 429 whose
    /// `x-ms-throttle-scope` is the app's own bucket (`Application/...`, all tenants together)
    /// quiets them all. Otherwise the other tenants would go on writing into the empty bucket,
    /// each earning a 429 that is charged and deepens it.
    app_quiet: Arc<Mutex<Option<Instant>>>,
}

struct Inner {
    http: reqwest::Client,
    endpoints: Endpoints,
    config: ClientConfig,
    tenants: BTreeMap<String, TenantSession>,
    counters: Counters,
    jitter: Jitter,
    /// Paths and ids of objects this client created, with when: a 404 on them soon after is
    /// replication lag, not absence.
    created: Mutex<HashMap<(String, String), Instant>>,
}

/// The shortest time limit of one HTTP exchange, however little is left of the deadline.
const MIN_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);

/// Pages one collection read follows at most: 10,000 pages of up to 999 objects is far beyond
/// any directory mtoctl manages.
pub const MAX_PAGES: usize = 10_000;

/// The Graph client. Cheap to clone.
#[derive(Clone)]
pub struct GraphClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GraphClient")
            .field("endpoints", &self.inner.endpoints)
            .field("tenants", &self.inner.tenants.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Builds a [`GraphClient`].
pub struct GraphClientBuilder {
    http: reqwest::Client,
    endpoints: Endpoints,
    config: ClientConfig,
    tenants: BTreeMap<String, TenantSession>,
    /// What the tenants of each app registration (client id) share: its quiet period and
    /// the progress its pacers spread the app's write bucket by.
    apps: HashMap<String, App>,
}

/// What tenants reached through one app registration share.
#[derive(Default, Clone)]
struct App {
    quiet: Arc<Mutex<Option<Instant>>>,
    share: Arc<pace::Share>,
}

impl GraphClientBuilder {
    /// Adds a tenant under its alias with its credential, as the only tenant of its app
    /// registration (see [`Self::tenant_of_app`]).
    pub fn tenant(self, alias: &str, credential: Arc<dyn TokenCredential>) -> Self {
        self.add(alias, App::default(), credential)
    }

    /// Adds a tenant reached through the app registration `app_id` (the credential's client
    /// id): tenants of one app share Graph's per-app buckets, and a 429 from those quiets them
    /// all.
    pub fn tenant_of_app(
        mut self,
        alias: &str,
        app_id: &str,
        credential: Arc<dyn TokenCredential>,
    ) -> Self {
        let app = self.apps.entry(app_id.to_owned()).or_default().clone();
        self.add(alias, app, credential)
    }

    fn add(mut self, alias: &str, app: App, credential: Arc<dyn TokenCredential>) -> Self {
        self.tenants.insert(
            alias.to_owned(),
            TenantSession {
                credential,
                reads: Semaphore::new(self.config.read_concurrency.max(1)),
                writes: Semaphore::new(self.config.write_concurrency.max(1)),
                write_volume: Semaphore::new(self.config.writes_in_flight.max(batch::MAX_BATCH)),
                pacer: pace::Pacer::new(app.share),
                quiet_until: Mutex::new(None),
                app_quiet: app.quiet,
            },
        );
        self
    }

    /// The client.
    pub fn build(self) -> GraphClient {
        GraphClient {
            inner: Arc::new(Inner {
                http: self.http,
                endpoints: self.endpoints,
                config: self.config,
                tenants: self.tenants,
                counters: Counters::default(),
                jitter: Jitter::new(),
                created: Mutex::new(HashMap::new()),
            }),
        }
    }
}

/// The one reqwest client mtoctl uses: rustls, HTTP/2 where offered, pooled connections.
pub fn http_client(request_timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(request_timeout)
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("mtoctl/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
}

/// The outcome of one HTTP exchange before classification.
enum Exchange {
    Answered {
        status: u16,
        body: Value,
        retry_after: Option<Duration>,
        request_id: Option<String>,
    },
    NoAnswer(NetworkError),
}

impl GraphClient {
    /// A builder with the shared HTTP client, endpoints and settings.
    pub fn builder(
        http: reqwest::Client,
        endpoints: Endpoints,
        config: ClientConfig,
    ) -> GraphClientBuilder {
        GraphClientBuilder {
            http,
            endpoints,
            config,
            tenants: BTreeMap::new(),
            apps: HashMap::new(),
        }
    }

    /// The endpoints in use.
    pub fn endpoints(&self) -> &Endpoints {
        &self.inner.endpoints
    }

    /// The application permissions (`roles` claim) of the tenant's token, for the preflight
    /// check; `None` when the token is not a readable JWT (nothing can be said then). The token
    /// comes from the cache when it has one; it is decoded, never logged.
    pub async fn token_roles(&self, tenant: &str) -> Result<Option<Vec<String>>, GraphError> {
        use base64::Engine as _;
        let (_, token) = self.session_and_token(tenant).await?;
        let payload = token
            .token
            .secret()
            .split('.')
            .nth(1)
            .and_then(|p| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(p.trim_end_matches('='))
                    .ok()
            })
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
        // A JWT without `roles` has no application permissions at all.
        Ok(payload.map(|p| {
            p.get("roles")
                .cloned()
                .and_then(|r| serde_json::from_value::<Vec<String>>(r).ok())
                .unwrap_or_default()
        }))
    }

    /// What the client has sent so far.
    pub fn stats(&self) -> ClientStats {
        let c = &self.inner.counters;
        ClientStats {
            http_calls: c.http_calls.load(Ordering::Relaxed),
            inner_requests: c.inner_requests.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            throttled: c.throttled.load(Ordering::Relaxed),
        }
    }

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

    /// [`Self::send`]; `inner` says whether the request counts as an inner request (a `$batch`
    /// envelope does not: its items are counted instead).
    async fn send_counted(
        &self,
        tenant: &str,
        request: &GraphRequest,
        inner: bool,
        retry_ambiguous: bool,
    ) -> Result<GraphResponse, GraphError> {
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
                    request_id,
                    ..
                } if (200..300).contains(&status) => {
                    self.note_created(tenant, request, &body);
                    return Ok(GraphResponse {
                        status,
                        body,
                        request_id,
                    });
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
                    let lag = status == 404 && self.recently_created(tenant, &request.path);
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
            let ambiguous = !matches!(error.status(), Some(429 | 503));
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
        batch::send_all(self, tenant, requests).await
    }

    /// Tells the write pacer how many writes `tenant` has left to send from now on (an
    /// apply's count of its actions there). Tenants of one app registration share the app's
    /// write bucket; one with far less work left than the app's busiest tenant then spreads its
    /// writes over the busiest one's time instead of emptying the bucket the busiest one needs
    /// (`transport::pace::Share`). An unknown tenant is ignored.
    pub fn expect_writes(&self, tenant: &str, writes: u64) {
        if let Some(session) = self.inner.tenants.get(tenant) {
            session.pacer.expect(writes);
        }
    }

    /// GETs a collection and every further page (`@odata.nextLink`), returning all items.
    pub async fn get_all(
        &self,
        tenant: &str,
        request: &GraphRequest,
    ) -> Result<Vec<Value>, GraphError> {
        let first = self.send(tenant, request).await?;
        self.follow_pages(tenant, request, first.body).await
    }

    /// Collects `value` from a page and from every page after it.
    pub async fn follow_pages(
        &self,
        tenant: &str,
        request: &GraphRequest,
        page: Value,
    ) -> Result<Vec<Value>, GraphError> {
        self.follow_all_pages(tenant, vec![(request, Ok(page))])
            .await
            .pop()
            .unwrap_or_else(|| Err(GraphError::UnknownTenant(tenant.to_owned())))
    }

    /// Collects `value` from each collection's first page (or its error) and every page after
    /// it, one result per collection in order. The collections' next pages are read together,
    /// packed into `$batch` calls: a hub with 99 sync configurations of 1,000 assignments
    /// each reads their second pages in one round trip, not 99 one after another.
    pub async fn follow_all_pages(
        &self,
        tenant: &str,
        firsts: Vec<(&GraphRequest, Result<Value, GraphError>)>,
    ) -> Vec<Result<Vec<Value>, GraphError>> {
        struct Paging<'r> {
            request: &'r GraphRequest,
            items: Vec<Value>,
            // A page link seen before means Graph (or something posing as it) loops; a
            // bounded number of pages keeps a broken server from holding a run, and its
            // memory, forever.
            seen: std::collections::HashSet<String>,
            page: Option<Value>,
            failed: Option<GraphError>,
        }
        let mut all: Vec<Paging<'_>> = firsts
            .into_iter()
            .map(|(request, first)| {
                let (page, failed) = match first {
                    Ok(page) => (Some(page), None),
                    Err(e) => (None, Some(e)),
                };
                Paging {
                    request,
                    items: Vec::new(),
                    seen: std::collections::HashSet::new(),
                    page,
                    failed,
                }
            })
            .collect();
        loop {
            let mut round: Vec<(usize, GraphRequest)> = Vec::new();
            for (index, c) in all.iter_mut().enumerate() {
                let Some(page) = c.page.take() else { continue };
                match self.next_page(tenant, c.request, page, &mut c.items, &mut c.seen) {
                    Ok(Some(next)) => round.push((index, next)),
                    Ok(None) => {}
                    Err(e) => c.failed = Some(e),
                }
            }
            if round.is_empty() {
                break;
            }
            let requests: Vec<GraphRequest> = round.iter().map(|(_, r)| r.clone()).collect();
            let answers = self.send_all(tenant, &requests).await;
            for ((index, _), answer) in round.into_iter().zip(answers) {
                match answer {
                    Ok(r) => all[index].page = Some(r.body),
                    Err(e) => all[index].failed = Some(e),
                }
            }
        }
        all.into_iter()
            .map(|c| match c.failed {
                Some(e) => Err(e),
                None => Ok(c.items),
            })
            .collect()
    }

    /// Takes a page's items into `items` and returns the request for the page after it, if
    /// any; an error for a page without `value`, a link seen before, too many pages or a link
    /// outside Graph.
    fn next_page(
        &self,
        tenant: &str,
        request: &GraphRequest,
        mut page: Value,
        items: &mut Vec<Value>,
        seen: &mut std::collections::HashSet<String>,
    ) -> Result<Option<GraphRequest>, GraphError> {
        let paging_error = |reason: String| GraphError::Decode {
            tenant: tenant.to_owned(),
            method: request.method.to_string(),
            path: request.path.clone(),
            reason,
        };
        let next = page
            .get("@odata.nextLink")
            .and_then(Value::as_str)
            .map(str::to_owned);
        match page.get_mut("value").map(Value::take) {
            Some(Value::Array(values)) => items.extend(values),
            _ => {
                return Err(paging_error(
                    "a collection response has no `value` array".into(),
                ));
            }
        }
        let Some(next) = next else {
            return Ok(None);
        };
        if !seen.insert(next.clone()) {
            return Err(paging_error(format!(
                "`@odata.nextLink` leads back to a page already read ({} pages in); the collection cannot be read",
                seen.len()
            )));
        }
        if seen.len() >= MAX_PAGES {
            return Err(paging_error(format!(
                "the collection has more than {MAX_PAGES} pages; mtoctl stops there"
            )));
        }
        let Some(relative) = self.inner.endpoints.relative_of(&next) else {
            return Err(paging_error(format!(
                "`@odata.nextLink` points outside Graph: {next}"
            )));
        };
        let mut follow = GraphRequest::get(relative);
        follow.eventual = request.eventual;
        Ok(Some(follow))
    }

    /// The tenant's session and a current token for it (from the cache when fresh).
    async fn session_and_token(
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
    async fn exchange(
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
        let ticket = if self.inner.config.pace_writes && writes > 0 {
            Some(session.pacer.admit(writes).await)
        } else {
            None
        };
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

        let url =
            self.inner
                .endpoints
                .graph_url(&request.path)
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
            let bytes = match response.bytes().await {
                Ok(b) => b,
                Err(e) => {
                    let cause = self.no_answer(e);
                    tracing::debug!(error = %cause, "the body was cut off");
                    return Ok(Exchange::NoAnswer(cause));
                }
            };
            span.record("status", status);
            span.record("latency_ms", started.elapsed().as_millis() as u64);
            if let Some(id) = &request_id {
                span.record("request_id", id.as_str());
            }
            tracing::debug!("graph call");
            let body = if bytes.is_empty() {
                Value::Null
            } else {
                match serde_json::from_slice(&bytes) {
                    Ok(v) => v,
                    Err(_) if !(200..300).contains(&status) => Value::Null,
                    Err(e) => {
                        return Err(GraphError::Decode {
                            tenant: tenant.to_owned(),
                            method: request.method.to_string(),
                            path: request.path.clone(),
                            reason: format!("not JSON: {e}"),
                        });
                    }
                }
            };
            // A throttled answer quiets the tenant before this call's lane is free again: a
            // call that took the lane first would still go out early. A `$batch`'s throttled
            // items count like a throttled call.
            let throttled = if status == 429 {
                Some(batch::Throttled {
                    retry_after,
                    app_wide,
                })
            } else if request.path == "/$batch" {
                batch::throttled_items(&body)
            } else {
                None
            };
            if let Some(throttled) = throttled {
                self.quiet(tenant, throttled);
            }
            // What Graph said about the tenant's write buckets, told to its pacer: a `$batch`
            // envelope carries no signal, its write items do.
            if let Some(ticket) = ticket {
                let signal = if request.path == "/$batch" {
                    batch::write_signal(request, &body)
                } else {
                    pace::Signal::of(status, limit_percentage)
                };
                session.pacer.observe(signal, ticket);
            }
            Ok(Exchange::Answered {
                status,
                body,
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

    /// Remembers what a successful create made (the path written, and every object id in the
    /// answer, such as the service principal an `instantiate` returns), so that a 404 on it soon
    /// after is read as replication lag.
    fn note_created(&self, tenant: &str, request: &GraphRequest, body: &Value) {
        if request.method != Method::POST && request.method != Method::PUT {
            return;
        }
        let mut keys = vec![
            request
                .path
                .split('?')
                .next()
                .unwrap_or(&request.path)
                .to_owned(),
        ];
        let mut stack = vec![body];
        while let Some(v) = stack.pop() {
            if let Value::Object(map) = v {
                if let Some(id) = map.get("id").and_then(Value::as_str) {
                    keys.push(id.to_owned());
                }
                stack.extend(map.values().filter(|v| v.is_object()));
            }
        }
        let mut created = self.inner.created.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        for key in keys {
            created.insert((tenant.to_owned(), key), now);
        }
    }

    /// Whether `path` is something created here moments ago: the very path a create wrote
    /// (a PUT singleton such as an identity sync policy), or a path under a top-level object
    /// whose id a create returned (`/servicePrincipals/{new id}/…`). Children of a created
    /// object are not covered: a member missing under a new organization is really missing,
    /// and retrying it as lag would stall for the whole replication window.
    fn recently_created(&self, tenant: &str, path: &str) -> bool {
        let window = self.inner.config.retry.replication_window;
        let path = path.split('?').next().unwrap_or(path);
        let top_level_id = path.split('/').nth(2);
        let created = self.inner.created.lock().unwrap_or_else(|e| e.into_inner());
        created.iter().any(|((t, key), at)| {
            t == tenant
                && at.elapsed() < window
                && (path == key || top_level_id == Some(key.as_str()))
        })
    }
}

/// A Graph error body (`{"error": {"code", "message", "innerError": {…}}}`) as an error.
fn status_error(
    tenant: &str,
    request: &GraphRequest,
    status: u16,
    body: &Value,
    request_id: Option<String>,
    retry_after: Option<Duration>,
) -> GraphError {
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
