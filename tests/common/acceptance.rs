//! The acceptance suite's machinery (included by `tests/acceptance.rs` alone, with `#[path]`):
//! the [`Target`] the walkthrough runs against, the spec copies it works on, the run directory
//! with every step's output and transcript, and the [`CleanupGuard`] that destroys whatever a
//! failed run left behind.
//!
//! A target is the emulator by default: the quickstart's world and spec with a third tenant,
//! Tailspin, for the member-removal step. With `MTOCTL_ACCEPTANCE_SPEC` set it is the real
//! tenants of that spec, refused unless `MTOCTL_ACCEPTANCE_TENANTS` names every one of them
//! (see docs/acceptance.md). Either way the suite works on a copy of the spec whose organization
//! and sync configurations carry the run's id, written into the run directory.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mtoctl_graph::transport::{ClientConfig, GraphClient, GraphRequest};
use mtoctl_model::spec::node::{Node, Value as NodeValue};
use serde_json::{Value, json};

use crate::common::harden::Scenario;
use crate::common::{Run, quickstart_env, repo};

/// The suite's progress on stderr (shown with `cargo test -- --nocapture`): the run directory,
/// each `mtoctl` run, the cleanup.
#[allow(clippy::print_stderr)]
pub fn say(message: std::fmt::Arguments<'_>) {
    eprintln!("acceptance: {message}");
}

/// The spec of the real tenants; unset, the suite runs against the emulator.
pub const SPEC_VAR: &str = "MTOCTL_ACCEPTANCE_SPEC";
/// The opt-in: every tenant id of that spec, comma-separated.
pub const TENANTS_VAR: &str = "MTOCTL_ACCEPTANCE_TENANTS";
/// `--wait` of apply and destroy (real mode; default `2h`).
pub const WAIT_VAR: &str = "MTOCTL_ACCEPTANCE_WAIT";
/// Where run directories are made (default: the system's temporary directory).
pub const DIR_VAR: &str = "MTOCTL_ACCEPTANCE_DIR";
/// Set to keep the run directory of a passing emulator run.
pub const KEEP_VAR: &str = "MTOCTL_ACCEPTANCE_KEEP";

/// The emulated third tenant, Tailspin: a member the walkthrough removes.
pub const TAILSPIN: &str = "9d2f4a61-0c3b-4e7a-b5d8-2e6f1a9c4b37";

/// Tailspin in the emulator's world file: appended to the quickstart's `tenants:` list.
const TAILSPIN_WORLD: &str = "  - id: 9d2f4a61-0c3b-4e7a-b5d8-2e6f1a9c4b37
    displayName: Tailspin
    domain: tailspin.onmicrosoft.com
    apps:
      - clientId: 5e8a1f2b-3c4d-4e6f-8a9b-0c1d2e3f4a5b
        displayName: mtoctl (Tailspin)
        secret: tailspin-emulator-secret
    users:
      - userPrincipalName: judy@tailspin.onmicrosoft.com
        displayName: Judy Kim
";

/// What the member-removal step prunes: the member, and the settings the tenants that stay
/// hold for it; `syncConfigurations` too when one of them syncs into it (which takes
/// `Application.ReadWrite.All` in that source: `mtoctl permissions` on the pruned spec says so).
const PRUNE_MEMBER: [&str; 3] = ["members", "partnerConfigurations", "identitySyncPolicies"];

/// Refuses unless `listed` (the value of [`TENANTS_VAR`]) names every id of `tenant_ids`
/// (ignoring case and blanks): the explicit statement that these tenants are for testing.
pub fn check_opt_in(tenant_ids: &[String], listed: Option<&str>) -> Result<(), String> {
    let listed: BTreeSet<String> = listed
        .unwrap_or("")
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    let missing: Vec<&str> = tenant_ids
        .iter()
        .filter(|id| !listed.contains(&id.to_ascii_lowercase()))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "refusing to run the acceptance suite against real tenants: {TENANTS_VAR} does not list {}. \
         The suite creates and destroys a multitenant organization, partner settings and sync \
         configurations in every tenant of the spec {SPEC_VAR} names; set {TENANTS_VAR} to the \
         comma-separated ids of all of them to confirm they are test tenants \
         (docs/acceptance.md). Nothing was done.",
        missing.join(", ")
    ))
}

/// A real-tenant spec, read and checked: its tenants' ids all opted in.
#[derive(Debug)]
pub struct RealSpec {
    /// The spec as given.
    pub path: PathBuf,
    /// The spec as JSON (the YAML's tree).
    pub json: Value,
    /// Its tenants' ids.
    pub tenant_ids: Vec<String>,
}

/// Reads and validates the spec at `path` and checks the opt-in `listed` against its tenants.
/// Reads nothing but the file: no network.
pub fn real_spec(path: &Path, listed: Option<&str>) -> Result<RealSpec, String> {
    let bytes = std::fs::read(path)
        .map_err(|e| format!("{SPEC_VAR}={}: cannot read it: {e}", path.display()))?;
    let valid = mtoctl_model::spec::load(&path.display().to_string(), &bytes).map_err(|d| {
        let messages: Vec<&str> = d.items().iter().map(|i| i.message.as_str()).collect();
        format!(
            "{SPEC_VAR}={} is not a valid spec (see `mtoctl validate -f {}`): {}",
            path.display(),
            path.display(),
            messages.join("; ")
        )
    })?;
    let tenant_ids: Vec<String> = valid
        .desired
        .tenants
        .iter()
        .map(|t| t.tenant_id.to_string())
        .collect();
    check_opt_in(&tenant_ids, listed)?;
    let json = spec_json(&String::from_utf8_lossy(&bytes))?;
    Ok(RealSpec {
        path: path.to_path_buf(),
        json,
        tenant_ids,
    })
}

/// A spec's YAML as JSON, through mtoctl's own YAML reader.
pub fn spec_json(text: &str) -> Result<Value, String> {
    fn convert(node: &Node) -> Value {
        match &node.value {
            NodeValue::Null => Value::Null,
            NodeValue::Bool(b) => json!(b),
            NodeValue::Int(i) => json!(i),
            NodeValue::Float(f) => json!(f),
            NodeValue::Str(s) => json!(s),
            NodeValue::Seq(items) => Value::Array(items.iter().map(convert).collect()),
            NodeValue::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.name.clone(), convert(v)))
                    .collect(),
            ),
        }
    }
    let node = mtoctl_model::spec::yaml::parse(text).map_err(|e| e.message)?;
    Ok(convert(&node))
}

/// The entries of `spec[key]`, an array (none when absent).
fn entries<'a>(spec: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    spec[key].as_array().into_iter().flatten()
}

/// The array at `path` in `spec`, if there is one (indexing with `[]` would insert nulls).
fn array_mut<'a>(spec: &'a mut Value, path: &[&str]) -> Option<&'a mut Vec<Value>> {
    path.iter()
        .try_fold(spec, |v, key| v.get_mut(*key))
        .and_then(Value::as_array_mut)
}

/// The text of `v`, or "" when it is not a string.
fn text(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// Marks the spec with the run id, so its objects are recognisable in the tenants: the
/// organization's display name ends with it, and each sync configuration is named
/// `<run id>-<from>-<to>` (`-2`, `-3`, … after it for a second and third between the same
/// tenants). Relative credential paths are made absolute against `spec_dir` (the copy lives
/// elsewhere).
pub fn with_run_id(spec: &mut Value, run_id: &str, spec_dir: &Path) {
    let name = text(&spec["organization"]["displayName"]).to_owned();
    spec["organization"]["displayName"] = json!(format!("{name} {run_id}").trim().to_owned());
    if let Some(syncs) = array_mut(spec, &["sync"]) {
        let mut taken = BTreeSet::new();
        for sync in syncs {
            let base = format!("{run_id}-{}-{}", text(&sync["from"]), text(&sync["to"]));
            let name = (1..)
                .map(|n| match n {
                    1 => base.clone(),
                    n => format!("{base}-{n}"),
                })
                .find(|name| !taken.contains(name))
                .expect("a free name");
            taken.insert(name.clone());
            sync["name"] = json!(name);
        }
    }
    if let Some(tenants) = array_mut(spec, &["tenants"]) {
        for tenant in tenants {
            for (kind, field) in [("certificate", "path"), ("workloadIdentity", "tokenFile")] {
                let path = tenant["auth"][kind][field].as_str().map(PathBuf::from);
                if let Some(path) = path.filter(|p| p.is_relative()) {
                    tenant["auth"][kind][field] = json!(spec_dir.join(path).to_string_lossy());
                }
            }
        }
    }
}

/// One sync of the spec, as the walkthrough checks it.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncUnderTest {
    /// Source alias.
    pub from: String,
    /// Target alias.
    pub to: String,
    /// The configuration's name.
    pub name: String,
    /// `Member` or `Guest`.
    pub user_type: String,
    /// The users its scope lists by UPN.
    pub users: Vec<String>,
}

/// Every sync of the spec with the users its scope lists by UPN (object ids left out).
pub fn syncs(spec: &Value) -> Vec<SyncUnderTest> {
    entries(spec, "sync")
        .map(|s| SyncUnderTest {
            from: text(&s["from"]).to_owned(),
            to: text(&s["to"]).to_owned(),
            name: text(&s["name"]).to_owned(),
            user_type: s["userType"].as_str().unwrap_or("Member").to_owned(),
            users: entries(&s["scope"], "users")
                .filter_map(Value::as_str)
                .filter(|u| u.contains('@'))
                .map(str::to_owned)
                .collect(),
        })
        .collect()
}

/// The tenants of the spec: `(alias, tenant id)`.
pub fn tenants(spec: &Value) -> Vec<(String, String)> {
    entries(spec, "tenants")
        .map(|t| {
            (
                text(&t["alias"]).to_owned(),
                text(&t["tenantId"]).to_ascii_lowercase(),
            )
        })
        .collect()
}

/// The scope-shrink step's spec: one user out of a sync's scope.
#[derive(Debug, Clone)]
pub struct Shrink {
    /// The sync whose scope shrinks.
    pub sync: SyncUnderTest,
    /// The user taken out.
    pub user: String,
    /// The spec without them.
    pub spec: Value,
}

/// Takes the last user listed by UPN out of the first sync that keeps a scope without them
/// (another listed user or a group).
pub fn shrink(spec: &Value) -> Result<Shrink, String> {
    let syncs = syncs(spec);
    for (n, sync) in syncs.iter().enumerate() {
        let raw = &spec["sync"][n]["scope"];
        let listed = raw["users"].as_array().map_or(0, Vec::len);
        let groups = raw["groups"].as_array().map_or(0, Vec::len);
        let Some(user) = sync.users.last() else {
            continue;
        };
        if listed < 2 && groups == 0 {
            continue;
        }
        let mut shrunk = spec.clone();
        let users = shrunk["sync"][n]["scope"]["users"]
            .as_array_mut()
            .expect("a list of users");
        users.retain(|u| u.as_str() != Some(user));
        return Ok(Shrink {
            sync: sync.clone(),
            user: user.clone(),
            spec: shrunk,
        });
    }
    Err(
        "the scope-shrink step needs a sync whose scope lists a user by UPN and keeps \
         something (another user or a group) without them"
            .into(),
    )
}

/// The member-removal step's spec: a member tenant out of the spec, `prune` on.
#[derive(Debug, Clone)]
pub struct Removal {
    /// The tenant's alias in the full spec.
    pub alias: String,
    /// Its tenant id (lowercase).
    pub tenant_id: String,
    /// The syncs that went with it.
    pub syncs: Vec<SyncUnderTest>,
    /// The spec without it, pruning every kind.
    pub spec: Value,
}

/// Removes the last tenant whose role is `member` from `spec`, with the syncs from and to it
/// and the overrides naming it, and sets `prune` so that the plan removes the tenant from the
/// organization and deletes what the tenants that stay hold for it: their partner
/// configurations and identity sync policies, and their syncs into it when there are any.
pub fn remove_member(spec: &Value) -> Result<Removal, String> {
    let tenant = entries(spec, "tenants")
        .filter(|t| t["role"].as_str().unwrap_or("member") == "member")
        .last()
        .ok_or("the member-removal step needs a tenant whose role is member")?;
    let alias = text(&tenant["alias"]).to_owned();
    let tenant_id = text(&tenant["tenantId"]).to_ascii_lowercase();
    let mut out = spec.clone();
    let names = |v: &Value| v.as_str() == Some(alias.as_str());
    out["tenants"]
        .as_array_mut()
        .expect("tenants")
        .retain(|t| !names(&t["alias"]));
    let removed_syncs: Vec<SyncUnderTest> = syncs(spec)
        .into_iter()
        .filter(|s| s.from == alias || s.to == alias)
        .collect();
    if let Some(syncs) = array_mut(&mut out, &["sync"]) {
        syncs.retain(|s| !names(&s["from"]) && !names(&s["to"]));
    }
    if let Some(overrides) = array_mut(&mut out, &["collaboration", "overrides"]) {
        overrides.retain(|o| {
            !names(&o["tenant"])
                && !names(&o["partner"])
                && !o["between"]
                    .as_array()
                    .is_some_and(|pair| pair.iter().any(names))
        });
    }
    let mut prune = PRUNE_MEMBER.to_vec();
    if removed_syncs.iter().any(|s| s.to == alias) {
        prune.push("syncConfigurations");
    }
    out["prune"] = json!(prune);
    Ok(Removal {
        alias,
        tenant_id,
        syncs: removed_syncs,
        spec: out,
    })
}

/// A spec as YAML text, through mtoctl's own YAML writer.
pub fn spec_yaml(spec: &Value) -> String {
    mtoctl_model::spec::yaml::to_yaml(spec).expect("a spec as YAML")
}

/// One `mtoctl` run of the suite: what it printed and returned, and its transcript.
pub struct Step {
    /// Exit code and output.
    pub run: Run,
    /// The `--record` file.
    pub transcript: PathBuf,
}

impl std::ops::Deref for Step {
    type Target = Run;

    fn deref(&self) -> &Run {
        &self.run
    }
}

impl Step {
    /// The transcript's lines (header first), each checked to be JSON.
    pub fn transcript_lines(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(&self.transcript)
            .unwrap_or_else(|e| panic!("{}: {e}", self.transcript.display()));
        text.lines()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| {
                    panic!("{}: a line not JSON ({e}): {l}", self.transcript.display())
                })
            })
            .collect()
    }

    /// The requests of the transcript that change something in Graph, as `METHOD path`: every
    /// exchange but GETs, looking inside `$batch` envelopes (which carry reads too).
    pub fn writes(&self) -> Vec<String> {
        let mut writes = Vec::new();
        for x in self.transcript_lines().iter().skip(1) {
            let method = x["method"].as_str().unwrap_or("?");
            let path = x["path"].as_str().unwrap_or("?");
            if path.starts_with("/$batch") {
                for item in x["request_body"]["requests"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    let method = item["method"].as_str().unwrap_or("?");
                    if method != "GET" {
                        writes.push(format!("{method} {}", item["url"].as_str().unwrap_or("?")));
                    }
                }
            } else if method != "GET" {
                writes.push(format!("{method} {path}"));
            }
        }
        writes
    }
}

/// Runs `mtoctl` for the suite: every run numbered, logged into the run directory
/// (`steps.log`) and recording its Graph transcript there.
#[derive(Clone)]
pub struct Runner {
    env: Vec<(String, String)>,
    graph_url: Option<String>,
    login_url: Option<String>,
    run_dir: PathBuf,
    count: Arc<AtomicUsize>,
}

impl Runner {
    /// `mtoctl ARGS --color never --record FILE` (blocking), its output appended to
    /// `steps.log`. `label` names the step in the log and the transcript's file name.
    pub fn run(&self, label: &str, args: &[&str]) -> Step {
        let n = self.count.fetch_add(1, Ordering::SeqCst) + 1;
        let transcript = self.transcript(n, label);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mtoctl"));
        cmd.env("MTOCTL_NO_KNOWN_IDS", "1");
        cmd.current_dir(&self.run_dir)
            .env_remove("MTOCTL_GRAPH_URL")
            .env_remove("MTOCTL_LOGIN_URL")
            .env_remove("MTOCTL_LOG")
            .env_remove("MTOCTL_COLOR")
            .envs(self.env.iter().cloned())
            .args(args)
            .args(["--color", "never"])
            .arg("--record")
            .arg(&transcript)
            .stdin(Stdio::null());
        if let Some(url) = &self.graph_url {
            cmd.env("MTOCTL_GRAPH_URL", url);
        }
        if let Some(url) = &self.login_url {
            cmd.env("MTOCTL_LOGIN_URL", url);
        }
        let started = Instant::now();
        let out = cmd.output().expect("mtoctl runs");
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        let shown = args.join(" ");
        say(format_args!(
            "{n:02} {label}: mtoctl {shown} -> exit {} ({:.1}s)",
            run.code,
            started.elapsed().as_secs_f64()
        ));
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.run_dir.join("steps.log"))
            .expect("steps.log");
        let _ = write!(
            log,
            "## {n:02} {label}\n$ mtoctl {shown}\n[exit {}]\n--- stdout\n{}\n--- stderr\n{}\n\n",
            run.code, run.stdout, run.stderr
        );
        Step { run, transcript }
    }

    /// The transcript file of run `n`.
    pub fn transcript(&self, n: usize, label: &str) -> PathBuf {
        self.run_dir.join(format!("{n:02}-{label}.jsonl"))
    }
}

/// What the walkthrough runs against.
pub enum Mode {
    /// The in-process emulator (the default; CI).
    Emulator(Box<Scenario>),
    /// The real tenants of [`SPEC_VAR`].
    Real,
}

/// The emulator or the real tenants, the run's id and directory, and the spec copy.
pub struct Target {
    /// Emulator or real.
    pub mode: Mode,
    /// `acc-<unix time>-<pid>`.
    pub run_id: String,
    /// Where the spec copies, `steps.log` and the transcripts go.
    pub run_dir: PathBuf,
    /// The full spec, marked with the run id.
    pub spec: Value,
    /// Its path.
    pub spec_path: PathBuf,
    /// The original spec's directory (relative credential paths).
    spec_dir: PathBuf,
    /// `--wait` of apply and destroy.
    pub wait: String,
    /// `--wait` of `sync now`.
    pub sync_wait: String,
    runner: Runner,
    passed: bool,
}

impl Target {
    /// The real tenants when [`SPEC_VAR`] is set (after the opt-in check), else the emulator.
    pub async fn from_env() -> Self {
        match std::env::var_os(SPEC_VAR) {
            None => Self::emulator().await,
            Some(path) => {
                let listed = std::env::var(TENANTS_VAR).ok();
                match real_spec(Path::new(&path), listed.as_deref()) {
                    Ok(spec) => Self::real(spec),
                    Err(e) => panic!("{e}"),
                }
            }
        }
    }

    fn run_id() -> String {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        format!("acc-{secs}-{}", std::process::id())
    }

    fn run_dir(run_id: &str) -> PathBuf {
        let base = std::env::var_os(DIR_VAR)
            .map(PathBuf::from)
            .unwrap_or_else(|| std::env::temp_dir().join("mtoctl-acceptance"));
        let dir = base.join(run_id);
        std::fs::create_dir_all(&dir).expect("the run directory");
        dir
    }

    /// The quickstart with a third tenant, Tailspin (a member with a sync from Contoso into
    /// it), on an emulator whose clock runs a thousand times faster than real time: a join
    /// takes under a second, a sync cycle 2.4 s.
    async fn emulator() -> Self {
        let world = std::fs::read_to_string(repo("examples/quickstart/world.yaml")).expect("world");
        let scenario = Scenario::quickstart_in(
            &format!("{}\n{TAILSPIN_WORLD}", world.trim_end()),
            mtoctl_emulator::Options {
                follow_wall_clock: true,
                time_scale: 0.001,
                ..Default::default()
            },
        )
        .await;
        let text = std::fs::read_to_string(repo("examples/quickstart/mto.yaml")).expect("spec");
        let mut spec = spec_json(&text).expect("the quickstart spec");
        spec["tenants"]
            .as_array_mut()
            .expect("tenants")
            .push(json!({
                "alias": "tailspin",
                "tenantId": TAILSPIN,
                "displayName": "Tailspin",
                "role": "member",
                "domain": "tailspin.onmicrosoft.com",
                "auth": {
                    "clientId": "5e8a1f2b-3c4d-4e6f-8a9b-0c1d2e3f4a5b",
                    "clientSecret": {"fromEnv": "TAILSPIN_CLIENT_SECRET"},
                },
            }));
        spec["sync"].as_array_mut().expect("syncs").push(json!({
            "from": "contoso",
            "to": "tailspin",
            "userType": "Member",
            "scope": {"users": ["frank@contoso.onmicrosoft.com"]},
        }));
        let mut env = quickstart_env();
        env.push((
            "TAILSPIN_CLIENT_SECRET".into(),
            "tailspin-emulator-secret".into(),
        ));
        let url = scenario.server.base_url.clone();
        Self::new(
            Mode::Emulator(Box::new(scenario)),
            spec,
            repo("examples/quickstart"),
            env,
            (Some(url.clone()), Some(url)),
            ("2m".into(), "30s".into()),
        )
    }

    /// The real tenants of `spec`; Graph and login URLs are the real ones unless
    /// `MTOCTL_GRAPH_URL` / `MTOCTL_LOGIN_URL` say otherwise.
    fn real(spec: RealSpec) -> Self {
        let dir = spec
            .path
            .canonicalize()
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .unwrap_or_else(|| PathBuf::from("."));
        let target = Self::new(
            Mode::Real,
            spec.json,
            dir,
            Vec::new(),
            (
                std::env::var("MTOCTL_GRAPH_URL").ok(),
                std::env::var("MTOCTL_LOGIN_URL").ok(),
            ),
            (
                std::env::var(WAIT_VAR).unwrap_or_else(|_| "2h".into()),
                "10m".into(),
            ),
        );
        say(format_args!(
            "REAL TENANTS {} (opted in through {TENANTS_VAR}); run id {}",
            spec.tenant_ids.join(", "),
            target.run_id
        ));
        target
    }

    fn new(
        mode: Mode,
        mut spec: Value,
        spec_dir: PathBuf,
        env: Vec<(String, String)>,
        (graph_url, login_url): (Option<String>, Option<String>),
        (wait, sync_wait): (String, String),
    ) -> Self {
        let run_id = Self::run_id();
        let run_dir = Self::run_dir(&run_id);
        say(format_args!(
            "run {run_id}, run directory {}",
            run_dir.display()
        ));
        with_run_id(&mut spec, &run_id, &spec_dir);
        let runner = Runner {
            env,
            graph_url,
            login_url,
            run_dir: run_dir.clone(),
            count: Arc::new(AtomicUsize::new(0)),
        };
        let mut target = Self {
            mode,
            run_id,
            run_dir,
            spec_path: PathBuf::new(),
            spec: Value::Null,
            spec_dir,
            wait,
            sync_wait,
            runner,
            passed: false,
        };
        target.spec_path = target.write_spec("mto.yaml", &spec);
        target.spec = spec;
        target
    }

    /// Whether this is the emulator.
    pub fn is_emulator(&self) -> bool {
        matches!(self.mode, Mode::Emulator(_))
    }

    /// The emulator's scenario, in emulator mode.
    pub fn scenario(&self) -> Option<&Scenario> {
        match &self.mode {
            Mode::Emulator(s) => Some(s),
            Mode::Real => None,
        }
    }

    /// Writes `spec` as `name` into the run directory and returns its absolute path.
    pub fn write_spec(&self, name: &str, spec: &Value) -> PathBuf {
        let path = self.run_dir.join(name);
        let header = format!(
            "# mtoctl acceptance run {}: a copy of the spec under test, edited by the suite.\n",
            self.run_id
        );
        std::fs::write(&path, header + &spec_yaml(spec)).expect("the spec copy");
        path
    }

    /// `mtoctl ARGS` to completion (see [`Runner::run`]), its transcript checked to begin
    /// with mtoctl's header.
    pub async fn mtoctl(&self, label: &str, args: &[&str]) -> Step {
        let runner = self.runner.clone();
        let label = label.to_owned();
        let owned: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let step = tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = owned.iter().map(String::as_str).collect();
            runner.run(&label, &args)
        })
        .await
        .expect("joined");
        let lines = step.transcript_lines();
        let header = lines
            .first()
            .unwrap_or_else(|| panic!("{}: an empty transcript", step.transcript.display()));
        assert_eq!(header["transcript"], "mtoctl", "{header}");
        let command: Vec<&str> = args
            .iter()
            .copied()
            .take_while(|a| !a.starts_with('-'))
            .collect();
        assert_eq!(header["command"], command.join(" "), "{header}");
        // Attachable to a bug report: no tenant id, and no secret, in the clear.
        let text = std::fs::read_to_string(&step.transcript).expect("the transcript");
        for (_, id) in tenants(&self.spec) {
            assert!(
                !text.contains(&id),
                "{}: holds {id}",
                step.transcript.display()
            );
        }
        for (name, secret) in self.secrets() {
            assert!(
                !text.contains(&secret),
                "{}: holds {name}",
                step.transcript.display()
            );
        }
        step
    }

    /// The values of the variables the spec's credentials read secrets from, by name.
    fn secrets(&self) -> Vec<(String, String)> {
        let mut names = Vec::new();
        for t in entries(&self.spec, "tenants") {
            names.extend(t["auth"]["clientSecret"]["fromEnv"].as_str());
            names.extend(t["auth"]["certificate"]["passwordFromEnv"].as_str());
        }
        names
            .into_iter()
            .filter_map(|name| {
                let value = match self.mode {
                    Mode::Emulator(_) => self
                        .runner
                        .env
                        .iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.clone()),
                    Mode::Real => std::env::var(name).ok(),
                };
                value.filter(|v| v.len() >= 8).map(|v| (name.to_owned(), v))
            })
            .collect()
    }

    /// A Graph client signed in to every tenant of `spec` with the spec's own credentials:
    /// the emulator's secrets, or the real ones from the process environment.
    pub fn graph_client(&self, spec: &Value) -> GraphClient {
        use mtoctl_graph::auth::{
            AuthContext, Environment, MapEnvironment, ProcessEnvironment, credential_for,
        };
        use mtoctl_graph::endpoints::Endpoints;
        use mtoctl_graph::transport::http_client;
        let desired = mtoctl_model::spec::load("mto.yaml", spec_yaml(spec).as_bytes())
            .expect("a valid spec")
            .desired;
        let env: Arc<dyn Environment> = match self.mode {
            Mode::Emulator(_) => {
                Arc::new(MapEnvironment(self.runner.env.iter().cloned().collect()))
            }
            Mode::Real => Arc::new(ProcessEnvironment),
        };
        let config = ClientConfig::default();
        let ctx = AuthContext {
            endpoints: Endpoints::new(
                self.runner.graph_url.as_deref(),
                self.runner.login_url.as_deref(),
            )
            .expect("endpoints"),
            env,
            spec_dir: self.spec_dir.clone(),
            http: http_client(config.request_timeout).expect("an HTTP client"),
        };
        let mut builder = GraphClient::builder(ctx.http.clone(), ctx.endpoints.clone(), config);
        for t in &desired.tenants {
            builder = builder.tenant(
                t.alias.as_str(),
                credential_for(t, &ctx).expect("a credential"),
            );
        }
        builder.build()
    }

    /// One Graph call as `alias`'s own app, outside mtoctl (an administrator in a portal);
    /// panics unless it succeeds. The answer's body.
    pub async fn graph(
        &self,
        alias: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let request = match body {
            Some(b) => GraphRequest::with_body(method, path, b),
            None => GraphRequest::new(method, path),
        };
        self.graph_client(&self.spec)
            .send(alias, &request)
            .await
            .unwrap_or_else(|e| panic!("{alias}: {path}: {e}"))
            .body
    }

    /// How often a check of live state is tried before it counts as failed, and the pause
    /// between tries: once against the emulator, which is consistent at once; against real
    /// tenants, Graph's replicas may answer a read with the state before a write for a while.
    pub fn tries(&self) -> (usize, Duration) {
        match self.mode {
            Mode::Emulator(_) => (1, Duration::ZERO),
            Mode::Real => (10, Duration::from_secs(30)),
        }
    }

    /// A guard that destroys what the spec manages when dropped armed (a step failed).
    pub fn cleanup_guard(&self) -> CleanupGuard {
        CleanupGuard {
            runner: self.runner.clone(),
            spec: self.spec_path.clone(),
            wait: self.wait.clone(),
            armed: true,
        }
    }

    /// Marks the run as passed: a passing emulator run's directory is removed (unless
    /// [`KEEP_VAR`] is set); every other run's directory is kept, and its path printed.
    pub fn passed(&mut self) {
        self.passed = true;
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if self.passed && self.is_emulator() && std::env::var_os(KEEP_VAR).is_none() {
            let _ = std::fs::remove_dir_all(&self.run_dir);
        } else {
            say(format_args!(
                "run directory kept: {} (steps.log: every command and its output; \
                 NN-*.jsonl: the Graph transcripts)",
                self.run_dir.display()
            ));
        }
    }
}

/// Runs `mtoctl destroy --auto-approve` on the full spec when dropped armed, so a failed step
/// leaves nothing behind; it reports what it did on stderr and never panics, so the failure
/// that got here is the one the test reports.
pub struct CleanupGuard {
    runner: Runner,
    spec: PathBuf,
    wait: String,
    armed: bool,
}

impl CleanupGuard {
    /// The walkthrough's own destroy succeeded: nothing left to clean up.
    pub fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for CleanupGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let spec = self.spec.to_string_lossy().into_owned();
        say(format_args!(
            "a step failed; cleaning up: mtoctl destroy -f {spec} --auto-approve"
        ));
        let run = self.runner.run(
            "cleanup-destroy",
            &[
                "destroy",
                "-f",
                &spec,
                "--auto-approve",
                "--wait",
                &self.wait,
            ],
        );
        if run.code == 0 {
            say(format_args!(
                "cleanup done: destroy removed what the spec manages"
            ));
        } else {
            say(format_args!(
                "CLEANUP FAILED (destroy exited {}); clean up by hand \
                 (docs/acceptance.md, \"Cleaning up by hand\"):\n{}\n{}",
                run.code, run.stdout, run.stderr
            ));
        }
    }
}
