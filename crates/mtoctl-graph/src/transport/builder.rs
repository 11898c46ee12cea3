//! Building a [`GraphClient`]: its tenants, their credentials and the app registrations they
//! share, and the one HTTP client mtoctl uses.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use azure_core::credentials::TokenCredential;
use tokio::sync::Semaphore;

use super::retry::Jitter;
use super::{ClientConfig, Counters, GraphClient, Inner, TenantSession, batch, pace};
use crate::endpoints::Endpoints;
use crate::record::Recorder;

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
            recorder: None,
        }
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
    recorder: Option<Arc<Recorder>>,
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
                read_volume: Semaphore::new(self.config.reads_in_flight.max(batch::MAX_BATCH)),
                write_volume: Semaphore::new(self.config.writes_in_flight.max(batch::MAX_BATCH)),
                pacer: pace::Pacer::new(app.share),
                quiet_until: Mutex::new(None),
                app_quiet: app.quiet,
            },
        );
        self
    }

    /// Records every exchange of the client to `recorder`'s transcript (`--record`).
    pub fn record(mut self, recorder: Arc<Recorder>) -> Self {
        self.recorder = Some(recorder);
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
                deleted: Mutex::new(Default::default()),
                recorder: self.recorder,
            }),
        }
    }
}

/// The one reqwest client mtoctl uses: rustls, HTTP/2 where offered, pooled connections.
///
/// Fails when TLS cannot be set up, most often because no CA certificate could be loaded from
/// the system (a `scratch` image without its bundle, or `SSL_CERT_FILE` naming an empty file).
pub fn http_client(request_timeout: Duration) -> Result<reqwest::Client, HttpSetupError> {
    reqwest::Client::builder()
        .timeout(request_timeout)
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("mtoctl/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(HttpSetupError)
}

/// The HTTP client could not be built, so no request can be made.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot set up HTTPS (install the system's CA certificates, the `ca-certificates` package, \
     or set SSL_CERT_FILE to a PEM file of them)"
)]
pub struct HttpSetupError(#[source] reqwest::Error);
