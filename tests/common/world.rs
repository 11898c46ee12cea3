//! An emulator served in the test process on 127.0.0.1, and the `mtoctl` binary run against it
//! as a user would (real HTTP, real azure_identity credentials against its token endpoint).

use std::process::Command;

use serde_json::{Value, json};

use super::{quickstart_env, repo};

/// What one `mtoctl` run printed and returned.
pub struct Run {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// An emulated world and the spec that runs against it.
pub struct World {
    /// The running emulator.
    pub server: mtoctl_emulator::Server,
    /// The spec, relative to the repository.
    pub spec: &'static str,
}

impl World {
    /// The quickstart world (`examples/quickstart/world.yaml`) with `extra` YAML appended
    /// (for example a `timings:` block), for the quickstart spec.
    pub async fn quickstart(extra: &str, options: mtoctl_emulator::Options) -> Self {
        let text = std::fs::read_to_string(repo("examples/quickstart/world.yaml")).expect("world");
        let world =
            mtoctl_emulator::world::WorldFile::parse(&format!("{text}\n{extra}")).expect("parses");
        let emulator = mtoctl_emulator::Emulator::from_world(world, options).expect("loads");
        Self {
            server: emulator.spawn_on_loopback().await.expect("serves"),
            spec: "examples/quickstart/mto.yaml",
        }
    }

    /// Runs `mtoctl ARGS --color never` against the emulator, from the repository root, with
    /// the quickstart's secrets in the environment and no terminal.
    pub async fn mtoctl(&self, args: &[&str]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mtoctl"));
        cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
            .envs(quickstart_env())
            .env("MTOCTL_GRAPH_URL", &self.server.base_url)
            .env("MTOCTL_LOGIN_URL", &self.server.base_url)
            .args(args)
            .args(["--color", "never"])
            .stdin(std::process::Stdio::null());
        let out = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .expect("joined")
            .expect("runs");
        Run {
            code: out.status.code().expect("code"),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
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

    /// Moves the emulator's clock forward.
    pub async fn advance(&self, seconds: u64) {
        self.admin(
            reqwest::Method::POST,
            "/_emulator/advance",
            Some(json!({"seconds": seconds})),
        )
        .await;
    }

    /// Applies until the plan is empty, advancing the clock past joins and sync cycles; panics
    /// after too many rounds.
    pub async fn converge(&self) {
        for _ in 0..6 {
            let run = self
                .mtoctl(&["apply", "-f", self.spec, "--auto-approve"])
                .await;
            assert!(
                run.code == 0 || run.code == 3,
                "apply failed ({}):\n{}\n{}",
                run.code,
                run.stdout,
                run.stderr
            );
            self.advance(5 * 3600).await;
            if self
                .mtoctl(&["plan", "-f", self.spec, "--detailed-exitcode"])
                .await
                .code
                == 0
            {
                return;
            }
        }
        let last = self.mtoctl(&["plan", "-f", self.spec]).await;
        panic!("did not converge:\n{}\n{}", last.stdout, last.stderr);
    }

    /// An out-of-band Graph write as `tenant`'s own app (an admin clicking in a portal),
    /// through mtoctl's Graph client; panics unless it succeeds.
    pub async fn graph(&self, tenant: &str, method: reqwest::Method, path: &str, body: Value) {
        use mtoctl_graph::auth::{AuthContext, MapEnvironment, credential_for};
        use mtoctl_graph::endpoints::Endpoints;
        use mtoctl_graph::transport::{ClientConfig, GraphClient, GraphRequest, http_client};
        let bytes = std::fs::read(repo(self.spec)).expect("spec");
        let desired = mtoctl_model::spec::load(self.spec, &bytes)
            .expect("valid")
            .desired;
        let base = &self.server.base_url;
        let ctx = AuthContext {
            endpoints: Endpoints::new(Some(base), Some(base)).expect("endpoints"),
            env: std::sync::Arc::new(MapEnvironment(quickstart_env().into_iter().collect())),
            spec_dir: repo("examples/quickstart"),
            http: http_client(std::time::Duration::from_secs(30)),
        };
        let mut builder = GraphClient::builder(
            ctx.http.clone(),
            ctx.endpoints.clone(),
            ClientConfig::default(),
        );
        for t in &desired.tenants {
            builder = builder.tenant(
                t.alias.as_str(),
                credential_for(t, &ctx).expect("credential"),
            );
        }
        builder
            .build()
            .send(tenant, &GraphRequest::with_body(method, path, body))
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
    }
}
