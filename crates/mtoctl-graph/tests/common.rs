//! Shared set-up: the quickstart world in an in-process emulator on loopback, and a Graph
//! client for the quickstart spec whose credentials authenticate against it.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mtoctl_graph::auth::{AuthContext, MapEnvironment, credential_for};
use mtoctl_graph::endpoints::Endpoints;
use mtoctl_graph::transport::{ClientConfig, GraphClient, http_client};
use mtoctl_model::DesiredState;

pub(crate) fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

pub(crate) struct World {
    pub(crate) emulator: mtoctl_emulator::Emulator,
    pub(crate) server: mtoctl_emulator::Server,
}

impl World {
    pub(crate) fn base(&self) -> &str {
        &self.server.base_url
    }

    /// The emulator's statistics (`GET /_emulator/stats`).
    pub(crate) async fn stats(&self) -> serde_json::Value {
        reqwest::get(format!("{}/_emulator/stats", self.base()))
            .await
            .expect("stats")
            .json()
            .await
            .expect("json")
    }

    pub(crate) async fn admin_post(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> serde_json::Value {
        let r = reqwest::Client::new()
            .post(format!("{}{path}", self.base()))
            .json(&body)
            .send()
            .await
            .expect("admin call");
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().await.unwrap_or(serde_json::Value::Null)
    }
}

pub(crate) async fn quickstart_world(options: mtoctl_emulator::Options) -> World {
    let text = std::fs::read_to_string(repo("examples/quickstart/world.yaml")).expect("world.yaml");
    let world = mtoctl_emulator::world::WorldFile::parse(&text).expect("world parses");
    let emulator = mtoctl_emulator::Emulator::from_world(world, options).expect("world loads");
    let server = emulator.spawn_on_loopback().await.expect("serves");
    World { emulator, server }
}

pub(crate) fn quickstart_spec() -> DesiredState {
    let path = repo("examples/quickstart/mto.yaml");
    let bytes = std::fs::read(&path).expect("spec");
    mtoctl_model::spec::load("mto.yaml", &bytes)
        .expect("valid")
        .desired
}

pub(crate) fn quickstart_env() -> MapEnvironment {
    let text = std::fs::read_to_string(repo("examples/quickstart/emulator.env")).expect("env file");
    MapEnvironment(
        text.lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect::<BTreeMap<_, _>>(),
    )
}

pub(crate) fn auth_context(world: &World, env: MapEnvironment) -> AuthContext {
    AuthContext {
        endpoints: Endpoints::new(Some(world.base()), Some(world.base()))
            .expect("loopback endpoints"),
        env: Arc::new(env),
        spec_dir: repo("examples/quickstart"),
        http: http_client(std::time::Duration::from_secs(30)).expect("an HTTP client"),
    }
}

pub(crate) fn client_for(
    world: &World,
    desired: &DesiredState,
    config: ClientConfig,
) -> GraphClient {
    let ctx = auth_context(world, quickstart_env());
    let mut builder = GraphClient::builder(ctx.http.clone(), ctx.endpoints.clone(), config);
    for tenant in &desired.tenants {
        let credential = credential_for(tenant, &ctx).expect("credential");
        builder = builder.tenant(tenant.alias.as_str(), credential);
    }
    builder.build()
}

pub(crate) const BIG_TENANT: &str = "11111111-2222-4333-8444-555555555555";
pub(crate) const BIG_CLIENT: &str = "21111111-2222-4333-8444-555555555555";
pub(crate) const BIG_SECRET: &str = "big-tenant-emulator-secret";

/// A one-tenant world with `users` internal users `u0@big.onmicrosoft.com`, ….
pub(crate) async fn big_world(users: usize, options: mtoctl_emulator::Options) -> World {
    let mut yaml = format!(
        "tenants:\n  - id: {BIG_TENANT}\n    displayName: Big\n    domain: big.onmicrosoft.com\n    apps:\n      - clientId: {BIG_CLIENT}\n        secret: {BIG_SECRET}\n    users:\n"
    );
    for i in 0..users {
        yaml.push_str(&format!(
            "      - userPrincipalName: u{i}@big.onmicrosoft.com\n"
        ));
    }
    let world = mtoctl_emulator::world::WorldFile::parse(&yaml).expect("world parses");
    let emulator = mtoctl_emulator::Emulator::from_world(world, options).expect("world loads");
    let server = emulator.spawn_on_loopback().await.expect("serves");
    World { emulator, server }
}

/// A spec with the one big tenant, authenticating with its secret.
pub(crate) fn big_spec() -> DesiredState {
    let spec = format!(
        "apiVersion: mtoctl/v1alpha1\nkind: MultiTenantOrganization\norganization: {{displayName: Big}}\ntenants:\n  - {{alias: big, tenantId: {BIG_TENANT}, displayName: Big, role: owner, auth: {{clientId: {BIG_CLIENT}, clientSecret: {{fromEnv: BIG_SECRET}}}}}}\n"
    );
    mtoctl_model::spec::load("big.yaml", spec.as_bytes())
        .expect("valid")
        .desired
}

pub(crate) fn big_client(world: &World, config: ClientConfig) -> GraphClient {
    let env = MapEnvironment(
        [("BIG_SECRET".to_owned(), BIG_SECRET.to_owned())]
            .into_iter()
            .collect(),
    );
    let ctx = auth_context(world, env);
    let desired = big_spec();
    let credential = credential_for(&desired.tenants[0], &ctx).expect("credential");
    GraphClient::builder(ctx.http.clone(), ctx.endpoints.clone(), config)
        .tenant("big", credential)
        .build()
}

/// Everything logged while a test runs, as bytes.
#[derive(Clone, Default)]
pub(crate) struct Capture(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    /// Captures this thread's events up to `level`, every target (the tests run on a
    /// current-thread runtime).
    pub(crate) fn start(level: tracing::Level) -> (Self, tracing::subscriber::DefaultGuard) {
        let capture = Capture::default();
        let writer = capture.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(level)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        (capture, guard)
    }

    /// What was captured.
    pub(crate) fn bytes(&self) -> Vec<u8> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// What was captured, as text.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes()).into_owned()
    }
}
