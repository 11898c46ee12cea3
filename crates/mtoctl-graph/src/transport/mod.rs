//! One HTTP client for every tenant: tokens, lanes, retries, `$batch`, paging, request ids.
//!
//! Each tenant has its own credential and two lanes (reads and writes) that bound how many
//! calls are in flight to it, so one busy tenant cannot starve the others and writes cannot
//! starve reads. Every call carries a fresh `client-request-id` and is traced (method, path,
//! status, latency, request-id; never the token).
//!
//! Where each part lives: `request` (what is sent and received), `config` (the settings),
//! `builder` (tenants, credentials, app registrations), `send` (one request with retries),
//! `exchange` (one HTTP exchange: token, lanes, pacer, quiet periods), `record` (each exchange
//! handed to the `--record` recorder), `batch` (`$batch` packing with per-item retries),
//! `paging` (whole collections, as JSON trees or page by page as text), `replication` (lag after creates), `pace` (write pacing) and
//! `retry` (the retry policy).

mod batch;
mod builder;
mod config;
mod exchange;
mod pace;
mod paging;
mod record;
mod replication;
mod request;
pub mod retry;
mod send;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use azure_core::credentials::TokenCredential;
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::endpoints::Endpoints;
use crate::error::GraphError;
use retry::Jitter;
use send::status_error;

pub(crate) use batch::MAX_BATCH;
pub use builder::{GraphClientBuilder, HttpSetupError, http_client};
pub use config::ClientConfig;
pub use paging::MAX_PAGES;
pub(crate) use paging::paging_error;
pub(crate) use request::RawResponse;
pub use request::{GraphRequest, GraphResponse};

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
    /// Permits of [`ClientConfig::reads_in_flight`]: one per single read, a full batch's
    /// worth per read `$batch`.
    read_volume: Semaphore,
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
    /// Objects this client deleted, by tenant and id: a 404 under one is absence, even under
    /// a parent created moments ago.
    deleted: Mutex<std::collections::HashSet<(String, String)>>,
    /// Where every exchange is recorded (`--record`), if anywhere.
    recorder: Option<Arc<crate::record::Recorder>>,
}

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

impl GraphClient {
    /// The API version a path goes to: v1.0, but for the partner policies under a spec's
    /// `beta: [groupSync]` (see [`ClientConfig::beta_group_sync`]).
    pub(crate) fn version_of(&self, path: &str) -> &'static str {
        if self.inner.config.beta_group_sync && path.starts_with(crate::wire::policy::PARTNERS_PATH)
        {
            crate::endpoints::BETA_VERSION
        } else {
            crate::endpoints::API_VERSION
        }
    }

    /// Whether this client sends anything to Graph's beta API.
    pub fn uses_beta(&self) -> bool {
        self.inner.config.beta_group_sync
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
}
