//! What the end-to-end tests against an emulator (`apply.rs`, `status.rs`, `export.rs`, `faults.rs`,
//! `crash.rs`, `concurrent.rs`) share: the
//! two example worlds as [`Scenario`]s (the quickstart, and the five-tenant hub and spoke with
//! client secrets), a [`census`] of the emulator's own state that fails on any duplicated
//! object, and a small seeded random source.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value, json};

use super::Run;
use super::{quickstart_env, repo};

/// An emulator on 127.0.0.1 with a spec written for it and the secrets its credentials read.
pub struct Scenario {
    /// The running emulator.
    pub server: mtoctl_emulator::Server,
    /// Absolute path of the spec.
    pub spec: String,
    /// Environment of every `mtoctl` run (the credentials' secrets).
    pub env: Vec<(String, String)>,
    /// Tenants of the spec and how many sync configurations each should end up with.
    pub expected_configurations: Vec<(String, usize)>,
    /// Every request the emulator carried out and its answer, checked against Graph's
    /// contract; a test that did not panic fails at its end on any finding.
    pub contract: super::contract::CheckedOnDrop,
    dir: Option<PathBuf>,
}

/// The hub and spoke's tenants: alias, domain, groups.
const HUB: [(&str, &str, &[&str]); 5] = [
    ("hq", "northwind", &["Group Leadership", "Shared Services"]),
    ("retail", "northwindretail", &["Retail Managers"]),
    ("logistics", "northwindlogistics", &["Logistics Managers"]),
    ("labs", "northwindlabs", &["Labs Managers"]),
    ("finance", "northwindfinance", &["Finance Managers"]),
];

impl Scenario {
    /// The quickstart (`examples/quickstart`: its world, spec and emulator secrets).
    pub async fn quickstart(options: mtoctl_emulator::Options) -> Self {
        Self::quickstart_with("", options).await
    }

    /// The quickstart with `extra` YAML appended to its world file (a `timings:` block).
    pub async fn quickstart_with(extra: &str, options: mtoctl_emulator::Options) -> Self {
        let text = std::fs::read_to_string(repo("examples/quickstart/world.yaml")).expect("world");
        Self::quickstart_in(&format!("{text}\n{extra}"), options).await
    }

    /// The quickstart's spec and secrets against `world` (the quickstart's world file, edited).
    pub async fn quickstart_in(world: &str, options: mtoctl_emulator::Options) -> Self {
        let (contract, server) = super::contract::serve_checked(world, options).await;
        Self {
            server,
            contract,
            spec: repo("examples/quickstart/mto.yaml")
                .to_string_lossy()
                .into_owned(),
            env: quickstart_env(),
            expected_configurations: vec![
                ("6babcaad-604b-40ac-a9d7-9fd97c0b779f".into(), 1),
                ("3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11".into(), 1),
            ],
            dir: None,
        }
    }

    /// `examples/hub-and-spoke` in a five-tenant world, every tenant's `auth` replaced by a
    /// client secret (the example's OIDC, certificate and token-file credentials need CI
    /// machinery). `tag` names the temporary directory of the spec.
    pub async fn hub_and_spoke(tag: &str, options: mtoctl_emulator::Options) -> Self {
        let mut world = String::from("seed: 7\ntenants:\n");
        let mut env = Vec::new();
        for (n, (alias, domain, groups)) in HUB.iter().enumerate() {
            let n = n + 1;
            world.push_str(&format!(
                "  - id: 11111111-aaaa-4aaa-8aaa-00000000000{n}\n    displayName: {alias}\n    domain: {domain}.onmicrosoft.com\n    apps:\n      - clientId: 21111111-aaaa-4aaa-8aaa-00000000000{n}\n        displayName: mtoctl\n        secret: secret-{alias}\n    users:\n      - userPrincipalName: a@{domain}.onmicrosoft.com\n        department: Sales\n      - userPrincipalName: b@{domain}.onmicrosoft.com\n    groups:\n"
            ));
            for g in *groups {
                world.push_str(&format!(
                    "      - displayName: {g}\n        members: [a@{domain}.onmicrosoft.com, b@{domain}.onmicrosoft.com]\n"
                ));
            }
            env.push((
                format!("{}_SECRET", alias.to_uppercase()),
                format!("secret-{alias}"),
            ));
        }
        let example =
            std::fs::read_to_string(repo("examples/hub-and-spoke/mto.yaml")).expect("spec");
        let mut spec = String::new();
        let mut skipping = false;
        for line in example.lines() {
            if skipping && line.starts_with("      ") {
                continue;
            }
            skipping = false;
            spec.push_str(line);
            spec.push('\n');
            if let Some(id) = line
                .trim()
                .strip_prefix("clientId: 21111111-aaaa-4aaa-8aaa-00000000000")
            {
                let alias = HUB[id.parse::<usize>().expect("n") - 1].0.to_uppercase();
                spec.push_str(&format!(
                    "      clientSecret:\n        fromEnv: {alias}_SECRET\n"
                ));
                skipping = true;
            }
        }
        let dir = std::env::temp_dir().join(format!("mtoctl-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp");
        let path = dir.join("mto.yaml");
        std::fs::write(&path, spec).expect("write");
        let (contract, server) = super::contract::serve_checked(&world, options).await;
        Self {
            server,
            contract,
            spec: path.to_string_lossy().into_owned(),
            env,
            // hq syncs with every spoke; each spoke syncs into hq.
            expected_configurations: (1..=5)
                .map(|n| {
                    (
                        format!("11111111-aaaa-4aaa-8aaa-00000000000{n}"),
                        if n == 1 { 4 } else { 1 },
                    )
                })
                .collect(),
            dir: Some(dir),
        }
    }

    /// `mtoctl ARGS --color never` against the emulator, not yet started.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mtoctl"));
        cmd.env("MTOCTL_NO_KNOWN_IDS", "1");
        cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
            .envs(self.env.iter().cloned())
            .env("MTOCTL_GRAPH_URL", &self.server.base_url)
            .env("MTOCTL_LOGIN_URL", &self.server.base_url)
            .args(args)
            .args(["--color", "never"])
            .stdin(std::process::Stdio::null());
        cmd
    }

    /// Runs `mtoctl ARGS` to completion.
    pub async fn run(&self, args: &[&str]) -> Run {
        let mut cmd = self.command(args);
        let out = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .expect("joined")
            .expect("runs");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// `mtoctl apply -f SPEC --auto-approve`.
    pub async fn apply(&self) -> Run {
        self.run(&["apply", "-f", &self.spec, "--auto-approve"])
            .await
    }

    /// Applies round after round, each recorded to `dir/apply-N.jsonl`, the clock moved five
    /// hours between them, until the spec plans clean (at most six rounds); the transcripts.
    #[allow(dead_code)]
    pub async fn converge_recorded(&self, dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut transcripts = Vec::new();
        for round in 0..6 {
            let record = dir.join(format!("apply-{round}.jsonl"));
            let run = self
                .run(&[
                    "apply",
                    "-f",
                    &self.spec,
                    "--auto-approve",
                    "--record",
                    record.to_str().expect("utf-8"),
                ])
                .await;
            assert!(
                run.code == 0 || run.code == 3,
                "{}\n{}",
                run.stdout,
                run.stderr
            );
            transcripts.push(record);
            self.advance(5 * 3600).await;
            if self.plan().await.code == 0 {
                break;
            }
        }
        transcripts
    }

    /// `mtoctl plan -f SPEC --detailed-exitcode`: 0 when converged.
    pub async fn plan(&self) -> Run {
        self.run(&["plan", "-f", &self.spec, "--detailed-exitcode"])
            .await
    }

    /// A call to the emulator's admin API; panics unless it succeeds.
    pub async fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut r =
            reqwest::Client::new().request(method, format!("{}{path}", self.server.base_url));
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.expect("admin call");
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.unwrap_or(Value::Null)
    }

    /// Sets the emulator's fault injection (`POST /_emulator/faults`).
    pub async fn faults(&self, body: Value) {
        self.admin(reqwest::Method::POST, "/_emulator/faults", Some(body))
            .await;
    }

    /// Moves the emulator's clock forward.
    pub async fn advance(&self, seconds: u64) {
        self.admin(
            reqwest::Method::POST,
            "/_emulator/advance",
            Some(json!({"seconds": seconds})),
        )
        .await;
    }

    /// Applies until `plan` finds nothing to do, advancing the clock past joins and sync
    /// cycles between rounds; every apply must succeed or wait (exit 0 or 3). Panics after
    /// `rounds`, with the last apply's output.
    pub async fn converge(&self, rounds: usize) {
        let mut last = None;
        for _ in 0..rounds {
            let run = self.apply().await;
            assert!(
                run.code == 0 || run.code == 3,
                "apply failed ({}):\n{}\n{}",
                run.code,
                run.stdout,
                run.stderr
            );
            last = Some(run);
            self.advance(5 * 3600).await;
            if self.plan().await.code == 0 {
                return;
            }
        }
        let plan = self.run(&["plan", "-f", &self.spec]).await;
        let last = last.expect("one round");
        panic!(
            "did not converge in {rounds} rounds:\n{}\n{}\nlast apply:\n{}\n{}",
            plan.stdout, plan.stderr, last.stdout, last.stderr
        );
    }

    /// The spec and a Graph client (with `config`) holding a credential for each of its
    /// tenants, for driving collect, plan and apply in the test process.
    pub fn client(
        &self,
        config: mtoctl_graph::transport::ClientConfig,
    ) -> (
        mtoctl_model::DesiredState,
        mtoctl_graph::transport::GraphClient,
    ) {
        self.client_for_spec(std::path::Path::new(&self.spec), config)
    }

    /// Like [`Scenario::client`], for another spec (relative to the repository, or absolute)
    /// whose credentials read the same secrets.
    pub fn client_for_spec(
        &self,
        spec: &std::path::Path,
        config: mtoctl_graph::transport::ClientConfig,
    ) -> (
        mtoctl_model::DesiredState,
        mtoctl_graph::transport::GraphClient,
    ) {
        use mtoctl_graph::auth::{AuthContext, MapEnvironment, credential_for};
        use mtoctl_graph::endpoints::Endpoints;
        use mtoctl_graph::transport::{GraphClient, http_client};
        let spec = repo(&spec.to_string_lossy());
        let bytes = std::fs::read(&spec).expect("spec");
        let desired = mtoctl_model::spec::load("mto.yaml", &bytes)
            .expect("valid")
            .desired;
        let base = &self.server.base_url;
        let ctx = AuthContext {
            endpoints: Endpoints::new(Some(base), Some(base)).expect("endpoints"),
            env: std::sync::Arc::new(MapEnvironment(self.env.iter().cloned().collect())),
            spec_dir: spec.parent().expect("a directory").to_path_buf(),
            http: http_client(config.request_timeout).expect("an HTTP client"),
        };
        let mut builder = GraphClient::builder(ctx.http.clone(), ctx.endpoints.clone(), config);
        for t in &desired.tenants {
            builder = builder.tenant(
                t.alias.as_str(),
                credential_for(t, &ctx).expect("credential"),
            );
        }
        (desired, builder.build())
    }

    /// An out-of-band Graph write as `tenant`'s own app (an admin clicking in a portal);
    /// panics unless it succeeds.
    pub async fn graph(&self, tenant: &str, method: reqwest::Method, path: &str, body: Value) {
        use mtoctl_graph::transport::{ClientConfig, GraphRequest};
        let (_, client) = self.client(ClientConfig::default());
        client
            .send(tenant, &GraphRequest::with_body(method, path, body))
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
    }

    /// The emulator's counters (`GET /_emulator/stats`).
    pub async fn stats(&self) -> Value {
        self.admin(reqwest::Method::GET, "/_emulator/stats", None)
            .await
    }

    /// The census, after checking it has no duplicate (see [`census`]).
    pub fn census(&self) -> Census {
        census(&self.server.emulator)
    }

    /// Checks a converged world: exactly the expected configurations, each with one job and
    /// at least one assignment, every tenant an active member with a partner configuration
    /// and an identity sync policy for each other tenant.
    pub fn assert_converged_counts(&self) {
        let c = self.census();
        let tenants = self.expected_configurations.len();
        assert_eq!(c.organizations, 1, "{c:?}");
        assert_eq!(c.members, tenants, "{c:?}");
        for (id, want) in &self.expected_configurations {
            let t = c
                .tenants
                .iter()
                .find(|t| &t.id == id)
                .unwrap_or_else(|| panic!("{id} in {c:?}"));
            assert_eq!(t.configurations, *want, "{id}: {c:?}");
            assert_eq!(t.applications, *want, "{id}: {c:?}");
            assert_eq!(t.jobs, *want, "{id}: {c:?}");
            assert!(t.assignments >= *want, "{id}: {c:?}");
        }
    }
}

impl Drop for Scenario {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// One tenant's objects, counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantCensus {
    /// Tenant id.
    pub id: String,
    /// Cross-tenant sync configurations (service principals).
    pub configurations: usize,
    /// Their applications.
    pub applications: usize,
    /// Synchronization jobs.
    pub jobs: usize,
    /// App role assignments of the configurations.
    pub assignments: usize,
    /// Partner configurations.
    pub partners: usize,
    /// Identity sync policies.
    pub identity_syncs: usize,
}

/// Every tenant's objects, and the organizations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Census {
    /// Per tenant.
    pub tenants: Vec<TenantCensus>,
    /// Multitenant organizations.
    pub organizations: usize,
    /// Members of all organizations (active or not).
    pub members: usize,
}

/// Counts the emulator's objects and panics on any duplicate: two service principals or
/// applications with one name in a tenant, two jobs in one configuration, one principal
/// assigned twice to one configuration, one tenant a member twice, a tenant in two
/// organizations.
pub fn census(emulator: &mtoctl_emulator::Emulator) -> Census {
    let core = emulator.lock();
    let state = &core.state;
    let mut tenants = Vec::new();
    for (id, t) in &state.tenants {
        let mut names = std::collections::BTreeSet::new();
        let (mut jobs, mut assignments) = (0, 0);
        for sp in &t.service_principals {
            let name = sp.display_name.to_lowercase();
            assert!(
                names.insert(name.clone()),
                "tenant {id}: duplicate service principal {name}"
            );
            assert!(
                sp.jobs.len() <= 1,
                "tenant {id}: {name} has {} jobs",
                sp.jobs.len()
            );
            jobs += sp.jobs.len();
            let mut principals = std::collections::BTreeSet::new();
            for a in &sp.assignments {
                assert!(
                    principals.insert(a.principal_id.to_lowercase()),
                    "tenant {id}: {} assigned twice to {name}",
                    a.principal_id
                );
                assignments += 1;
            }
        }
        let mut app_names = std::collections::BTreeSet::new();
        for app in &t.applications {
            assert!(
                app_names.insert(app.display_name.to_lowercase()),
                "tenant {id}: duplicate application {}",
                app.display_name
            );
        }
        tenants.push(TenantCensus {
            id: id.clone(),
            configurations: t
                .service_principals
                .iter()
                .filter(|s| s.application_template_id.is_some())
                .count(),
            applications: t
                .applications
                .iter()
                .filter(|a| a.application_template_id.is_some())
                .count(),
            jobs,
            assignments,
            partners: t.partners.len(),
            identity_syncs: t.identity_sync.len(),
        });
    }
    let mut members = 0;
    let mut seen = std::collections::BTreeSet::new();
    for mto in state.mtos.values() {
        let mut ids = std::collections::BTreeSet::new();
        for m in &mto.members {
            let id = m.tenant_id.to_lowercase();
            assert!(
                ids.insert(id.clone()),
                "{id} is a member of {} twice",
                mto.display_name
            );
            assert!(
                m.state == "removed" || seen.insert(id.clone()),
                "{id} belongs to two organizations"
            );
            members += 1;
        }
    }
    Census {
        tenants,
        organizations: state.mtos.len(),
        members,
    }
}

/// A seeded random source (SplitMix64): tests print the seed so a failure can be replayed.
pub struct Rng(u64);

impl Rng {
    /// From `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The seed from the environment variable `name`, or from the clock.
    pub fn seed_from_env(name: &str) -> u64 {
        std::env::var(name)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
            })
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo).max(1)
    }
}
