//! What commands that talk to Graph share: loading the spec (with its findings printed), the
//! async runtime, logging, and one Graph client with a credential per tenant (recording its
//! exchanges with `--record`).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use mtoctl_graph::auth::{
    AuthContext, Environment, MapEnvironment, ProcessEnvironment, SignedInAhead,
    credential_with_retry,
};
use mtoctl_graph::endpoints::Endpoints;
use mtoctl_graph::record::Recorder;
use mtoctl_graph::transport::retry::RetryPolicy;
use mtoctl_graph::transport::{ClientConfig, GraphClient, http_client};
use mtoctl_model::desired::{Credential, TenantSpec};
use mtoctl_model::spec::ValidSpec;

use crate::args::{GraphArgs, LogLevel};
use crate::commands::validate::{read_spec, render_text};
use crate::known_ids::KnownIdsFile;
use crate::output::Printer;

/// A validated spec and where it was read from.
pub struct LoadedSpec {
    /// The spec's contents.
    pub desired: mtoctl_model::DesiredState,
    /// Its directory, for relative certificate and token paths.
    pub dir: std::path::PathBuf,
    /// The path it was read from (`-` for standard input).
    pub path: std::path::PathBuf,
    /// Sign-ins begun from its tenants while the rest of it was being checked.
    pub ahead: Option<SignedInAhead>,
    /// The ids of sync configurations and jobs earlier runs saw, and where they are kept.
    pub known: KnownIdsFile,
}

/// Reads and validates the spec; prints its findings on stderr. `None` when it is invalid.
pub fn load_spec(printer: &Printer, path: &Path) -> anyhow::Result<Option<LoadedSpec>> {
    tracing::debug!(spec = %path.display(), "reading the spec");
    let (name, bytes) = read_spec(path)?;
    Ok(check_spec(printer, path, &name, &bytes))
}

/// [`load_spec`], signing in to the spec's tenants on `runtime` while the rest of it is
/// checked, when nothing in its `tenants` section is wrong (soonest when that section comes
/// before `sync`): the sign-ins' round trip is then off the critical path. Nothing is read
/// from Graph before the whole spec is valid, and an invalid spec only leaves its sign-ins
/// unused.
pub fn load_spec_signing_in(
    printer: &Printer,
    path: &Path,
    graph: &GraphArgs,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<Option<LoadedSpec>> {
    tracing::debug!(spec = %path.display(), "reading the spec");
    let (name, bytes) = read_spec(path)?;
    let ahead = sign_in_ahead(&bytes, path, graph, runtime);
    let known = if graph.no_known_ids {
        KnownIdsFile::off()
    } else {
        KnownIdsFile::beside(path)
    };
    Ok(
        check_spec(printer, path, &name, &bytes).map(|spec| LoadedSpec {
            ahead,
            known,
            ..spec
        }),
    )
}

/// The spec in `bytes` validated, its findings printed; `None` when it is invalid.
fn check_spec(printer: &Printer, path: &Path, name: &str, bytes: &[u8]) -> Option<LoadedSpec> {
    match mtoctl_model::spec::load(name, bytes) {
        Ok(ValidSpec { desired, warnings }) => {
            tracing::debug!(
                tenants = desired.tenants.len(),
                syncs = desired.syncs.len(),
                "the spec is valid"
            );
            printer.err(&render_text(&warnings, printer.color()));
            Some(LoadedSpec {
                desired,
                dir: spec_dir(path),
                path: path.to_path_buf(),
                ahead: None,
                known: KnownIdsFile::off(),
            })
        }
        Err(diagnostics) => {
            printer.err(&render_text(&diagnostics, printer.color()));
            printer.err(&format!(
                "{name} is invalid: {} errors, {} warnings\n",
                diagnostics.error_count(),
                diagnostics.warning_count()
            ));
            None
        }
    }
}

/// The directory relative paths in the spec at `path` start from.
pub fn spec_dir(path: &Path) -> std::path::PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() && path.as_os_str() != "-" => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    }
}

/// Credentials for the tenants `spec::tenants_ahead` reads from `bytes`, each asking for its
/// token on `runtime` at once. `None` with `--emulator` (its apps sign in instead), or when
/// the tenants cannot be read ahead.
fn sign_in_ahead(
    bytes: &[u8],
    path: &Path,
    graph: &GraphArgs,
    runtime: &tokio::runtime::Runtime,
) -> Option<SignedInAhead> {
    if graph.embedded() {
        return None;
    }
    let tenants = mtoctl_model::spec::tenants_ahead(bytes)?;
    let ctx = process_auth_context(graph, spec_dir(path)).ok()?;
    let ahead = SignedInAhead::begin(
        tenants,
        ctx,
        &retry_policy(graph.deadline),
        runtime.handle(),
    );
    tracing::debug!(tenants = ahead.len(), "signing in ahead");
    Some(ahead)
}

/// The async runtime for Graph work. Two workers: the work is network-bound.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Lets the runtime go once a command's Graph work is done, without waiting for its workers to
/// close each pooled connection and stop: the process is about to end, and the kernel closes
/// the connections as fast and off the critical path (a converged mesh holds over a hundred).
pub fn let_runtime_go(runtime: tokio::runtime::Runtime) {
    runtime.shutdown_background();
}

/// Drops `value` on a thread of its own (a spec or plan of a large mesh takes milliseconds to
/// free, and the process may end first). If no thread can be started, it is dropped here.
pub fn drop_in_background<T: Send + 'static>(value: T) {
    on_release_thread(move || drop(value));
}

/// Runs `release` on a thread of its own, named `release`. If no thread can be started, the
/// refused closure, and what it holds, is dropped here without running.
fn on_release_thread(release: impl FnOnce() + Send + 'static) {
    let _ = std::thread::Builder::new()
        .name("release".into())
        .spawn(release);
}

/// Logs go to stderr through tracing, at the chosen level, colored like the rest of stderr.
pub fn init_logging(level: LogLevel, color: bool) {
    let level = match level {
        LogLevel::Error => tracing::Level::ERROR,
        LogLevel::Warn => tracing::Level::WARN,
        LogLevel::Info => tracing::Level::INFO,
        LogLevel::Debug => tracing::Level::DEBUG,
        LogLevel::Trace => tracing::Level::TRACE,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(|| crate::output::LogWriter)
        .with_ansi(color)
        .with_target(false)
        .try_init();
}

/// A Graph client with one credential per tenant of the spec. Every tenant's credential
/// problem is reported at once. With `--emulator`, the client talks to an emulator started in
/// this process (it serves until the runtime stops) and signs in with its apps' secrets.
pub async fn graph_client(
    printer: &Printer,
    spec: &LoadedSpec,
    graph: &GraphArgs,
) -> anyhow::Result<GraphClient> {
    let (client, problems) = graph_client_of_some(printer, spec, graph).await?;
    let problems: Vec<String> = problems.into_iter().map(|(_, p)| p).collect();
    anyhow::ensure!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(client)
}

/// [`graph_client`], with the tenants whose credential cannot be made (a secret's variable
/// unset, a certificate missing) left out and returned with what is wrong, by alias: `doctor`
/// reports them per tenant and checks the others.
pub async fn graph_client_of_some(
    printer: &Printer,
    spec: &LoadedSpec,
    graph: &GraphArgs,
) -> anyhow::Result<(GraphClient, Vec<(String, String)>)> {
    let recorder = start_recording(spec, graph)?;
    if graph.embedded() {
        return embedded_client(printer, spec, graph, recorder).await;
    }
    let ctx = match &spec.ahead {
        Some(ahead) => ahead.context().clone(),
        None => process_auth_context(graph, spec.dir.clone())?,
    };
    client_with(
        ctx,
        spec.ahead.as_ref(),
        spec,
        &spec.desired.tenants,
        graph.deadline,
        recorder,
    )
}

/// The `--record` of this run, if there is one: made with the first Graph client (before it
/// sends anything) and ended by [`finish_recording`] once the command is done, however it
/// ends (an error, an interrupted apply).
static RECORDING: Mutex<Option<Arc<Recorder>>> = Mutex::new(None);

/// Creates the transcript `--record` asks for (and its key file), or returns the one this run
/// already writes.
fn start_recording(spec: &LoadedSpec, graph: &GraphArgs) -> anyhow::Result<Option<Arc<Recorder>>> {
    let Some(options) = graph.record_options(&command_name())? else {
        return Ok(None);
    };
    let mut current = RECORDING.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(recorder) = current.as_ref() {
        return Ok(Some(Arc::clone(recorder)));
    }
    let recorder = Arc::new(Recorder::create(&options, &spec.desired)?);
    *current = Some(Arc::clone(&recorder));
    Ok(Some(recorder))
}

/// Ends this run's `--record`, if it had one. Every line is already written; a write that
/// failed on the way fails the command (exit 1) now that its work is done, since a transcript
/// silently missing exchanges would mislead whoever reads it. When the command failed too,
/// its own error is the one returned and the recording's is printed first.
pub fn finish_recording(
    printer: &Printer,
    result: anyhow::Result<ExitCode>,
) -> anyhow::Result<ExitCode> {
    let recorder = RECORDING.lock().unwrap_or_else(|e| e.into_inner()).take();
    let Some(recorder) = recorder else {
        return result;
    };
    match (recorder.finish(), result) {
        (Ok(_), result) => result,
        (Err(e), Ok(_)) => Err(e.into()),
        (Err(e), Err(first)) => {
            printer.error(&e.into());
            Err(first)
        }
    }
}

/// The subcommand's name as the user typed it (`apply`, `sync now`), without its arguments.
fn command_name() -> String {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    crate::args::subcommand_path(&args).join(" ")
}

async fn embedded_client(
    printer: &Printer,
    spec: &LoadedSpec,
    graph: &GraphArgs,
    recorder: Option<Arc<Recorder>>,
) -> anyhow::Result<(GraphClient, Vec<(String, String)>)> {
    let work_dir = std::env::current_dir().context("cannot read the working directory")?;
    let emulator =
        crate::embedded::start(&spec.desired, &spec.path, &work_dir, graph.emulator_reset).await?;
    printer.err(&format!(
        "emulator: {} emulated world at {} (state: {}; --emulator-reset starts over)\n",
        if emulator.fresh { "a new" } else { "the saved" },
        emulator.base_url,
        emulator
            .state_file
            .strip_prefix(&work_dir)
            .unwrap_or(&emulator.state_file)
            .display()
    ));
    if !emulator.invented.is_empty() {
        // Made up because no world.yaml says who exists; a misspelt name is among them.
        printer.err(&format!(
            "emulator: no world.yaml beside the spec, so the new world has what the spec names: {}\n",
            emulator.invented.join(", ")
        ));
    }
    // Each tenant signs in with the emulated app's secret, through the same credential type as
    // a real client secret; the secrets reach it through an environment of our own, never the
    // process environment.
    let mut env = BTreeMap::new();
    let mut tenants = Vec::new();
    for tenant in &spec.desired.tenants {
        let Some((client_id, secret)) = emulator.apps.get(tenant.alias.as_str()) else {
            anyhow::bail!("the emulator has no app for tenant {}", tenant.alias);
        };
        let var = format!("MTOCTL_EMULATOR_SECRET_{}", tenants.len());
        env.insert(var.clone(), secret.clone());
        let client_id = mtoctl_model::ids::Guid::parse(client_id)
            .ok_or_else(|| anyhow::anyhow!("the emulator's app id {client_id} is not a GUID"))?;
        let mut signed_in = tenant.clone();
        signed_in.credential = Credential::ClientSecret {
            client_id,
            secret_env: var,
        };
        tenants.push(signed_in);
    }
    let url = Some(emulator.base_url.as_str());
    client_with(
        auth_context(
            Endpoints::new(url, url)?,
            Arc::new(MapEnvironment(env)),
            spec.dir.clone(),
        )?,
        None,
        spec,
        &tenants,
        graph.deadline,
        recorder,
    )
}

/// What building credentials needs: the endpoints, where variables come from, the spec's
/// directory, and an HTTP client for sign-ins.
fn auth_context(
    endpoints: Endpoints,
    env: Arc<dyn Environment>,
    spec_dir: std::path::PathBuf,
) -> anyhow::Result<AuthContext> {
    Ok(AuthContext {
        endpoints,
        env,
        spec_dir,
        http: http_client(Duration::from_secs(60))?,
    })
}

/// [`auth_context`] for the endpoints `graph` names and the process environment.
fn process_auth_context(
    graph: &GraphArgs,
    spec_dir: std::path::PathBuf,
) -> anyhow::Result<AuthContext> {
    let endpoints = Endpoints::new(graph.graph_url.as_deref(), graph.login_url.as_deref())?;
    auth_context(endpoints, Arc::new(ProcessEnvironment), spec_dir)
}

/// How requests and sign-ins are retried: within `deadline` (`--deadline`).
fn retry_policy(deadline: Duration) -> RetryPolicy {
    RetryPolicy {
        deadline,
        ..RetryPolicy::default()
    }
}

/// The client, its requests and sign-ins each retried for at most `deadline` (`--deadline`),
/// every exchange recorded to `recorder` if there is one; and the tenants whose credential
/// could not be made, left out of it, each with why. A tenant signed in to `ahead` with the
/// same settings keeps that credential, and the token it asked for.
fn client_with(
    ctx: AuthContext,
    ahead: Option<&SignedInAhead>,
    spec: &LoadedSpec,
    tenants: &[TenantSpec],
    deadline: Duration,
    recorder: Option<Arc<Recorder>>,
) -> anyhow::Result<(GraphClient, Vec<(String, String)>)> {
    let config = ClientConfig {
        retry: retry_policy(deadline),
        beta_group_sync: spec.desired.group_sync(),
        ..ClientConfig::default()
    };
    // Built before any credential: azure_identity's own client, built later under the same
    // conditions, panics where this one fails.
    let http = http_client(config.request_timeout)?;
    let retry = config.retry.clone();
    let mut builder = GraphClient::builder(http, ctx.endpoints.clone(), config);
    let mut problems = Vec::new();
    for tenant in tenants {
        let made = match ahead.and_then(|a| a.credential(tenant)) {
            Some(credential) => Ok(credential),
            None => credential_with_retry(tenant, &ctx, &retry),
        };
        match made {
            // Tenants signed in to through one app registration share its per-app buckets.
            Ok(credential) => {
                builder = match tenant.credential.client_id() {
                    Some(app) => builder.tenant_of_app(tenant.alias.as_str(), &app, credential),
                    None => builder.tenant(tenant.alias.as_str(), credential),
                }
            }
            Err(e) => problems.push((tenant.alias.as_str().to_owned(), e.to_string())),
        }
    }
    if let Some(recorder) = recorder {
        builder = builder.record(recorder);
    }
    Ok((builder.build(), problems))
}

/// Warns about permissions a tenant's token lacks, before anything fails halfway. Only a
/// warning: the token's `roles` may not tell everything (a permission granted through a
/// broader one this check does not know), and reads may still succeed.
pub async fn preflight(
    printer: &Printer,
    client: &mtoctl_graph::transport::GraphClient,
    desired: &mtoctl_model::DesiredState,
) -> Lacking {
    let mut lacking = Lacking::default();
    let needs = mtoctl_planner::permissions::for_spec(desired);
    // Every tenant's token at once: a tenant whose sign-in is slow must not hold up the others.
    let tokens =
        futures_util::future::join_all(needs.iter().map(|n| client.token_roles(n.alias.as_str())))
            .await;
    for (needs, token) in needs.iter().zip(tokens) {
        // Sign-in errors are reported by the reads that follow, with their context.
        let Ok(Some(granted)) = token else {
            continue;
        };
        for permission in mtoctl_planner::permissions::missing(&needs.application, &granted) {
            let why = needs
                .application
                .get(permission)
                .map(String::as_str)
                .unwrap_or("");
            printer.warn(&format!(
                "tenant {}'s token lacks the Graph permission {permission} (needed to {why}); grant it to the app and consent in that tenant (see `mtoctl permissions`)",
                needs.alias
            ));
            lacking
                .0
                .push(format!("tenant {}'s token lacks {permission}", needs.alias));
        }
    }
    lacking
}

/// The permissions [`preflight`] found missing, named again in the error a refusal causes.
#[derive(Debug, Default)]
pub struct Lacking(Vec<String>);

impl Lacking {
    /// `error`, led by what the tokens lack when Graph refused something for lack of
    /// permission (its own 403 message does not say which).
    pub fn explain(&self, error: anyhow::Error) -> anyhow::Error {
        if self.0.is_empty() || !format!("{error:#}").contains("HTTP 403") {
            return error;
        }
        error.context(format!(
            "Graph refused for lack of permission ({}; grant and consent, see `mtoctl permissions`)",
            self.0.join(", ")
        ))
    }
}

/// A client with a credential per tenant, and what their tokens lack (checked before any
/// read, so that a refusal names the missing permission).
pub async fn connect(
    printer: &Printer,
    spec: &LoadedSpec,
    graph: &GraphArgs,
) -> anyhow::Result<(GraphClient, Lacking)> {
    let client = graph_client(printer, spec, graph).await?;
    let lacking = preflight(printer, &client, &spec.desired).await;
    Ok((client, lacking))
}

/// The live state of every tenant of the spec.
pub async fn read_live(
    client: &GraphClient,
    spec: &LoadedSpec,
    lacking: &Lacking,
) -> anyhow::Result<mtoctl_model::ObservedState> {
    let observed = mtoctl_graph::collect::collect_knowing(client, &spec.desired, &spec.known.get())
        .await
        .context("cannot read the live state")
        .map_err(|e| lacking.explain(e))?;
    spec.known.learn_observed(&spec.desired, &observed);
    Ok(observed)
}

/// Reads every tenant and plans the spec against what it found. `nothing` says what did not
/// happen when the read fails ("nothing was planned", "nothing was applied").
pub async fn live_plan(
    client: &mtoctl_graph::transport::GraphClient,
    spec: &LoadedSpec,
    planning: Planning,
    nothing: &str,
) -> anyhow::Result<mtoctl_model::plan::Plan> {
    live_plan_releasing(client, spec, planning, nothing, Release::Now).await
}

/// How the memory of the observed state goes back to the system once the plan is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// Before the plan is returned: an apply holds the plan for as long as it runs, and its
    /// peak memory is what counts.
    Now,
    /// On a thread of its own, beside printing the plan (a converged mesh's takes 0.1 s); the
    /// process may end before it is done.
    InBackground,
}

/// [`live_plan`], with the observed state released as `release` says.
pub async fn live_plan_releasing(
    client: &mtoctl_graph::transport::GraphClient,
    spec: &LoadedSpec,
    planning: Planning,
    nothing: &str,
    release: Release,
) -> anyhow::Result<mtoctl_model::plan::Plan> {
    let observed = mtoctl_graph::collect::collect_knowing(client, &spec.desired, &spec.known.get())
        .await
        .with_context(|| format!("cannot read the live state; {nothing}"))?;
    tracing::debug!("the live state is read");
    spec.known.learn_observed(&spec.desired, &observed);
    let plan = match planning {
        Planning::Apply => mtoctl_planner::plan(&spec.desired, &observed),
        Planning::Destroy {
            remove_synced_users: false,
        } => mtoctl_planner::destroy(&spec.desired, &observed, None),
        Planning::Destroy {
            remove_synced_users: true,
        } => {
            // Every user in scope and their copies, as `status --all-users` reads them.
            let synced = mtoctl_graph::health::read(
                client,
                &spec.desired,
                &observed,
                mtoctl_model::health::Coverage::All,
            )
            .await
            .with_context(|| format!("cannot read the accounts synchronization made; {nothing}"))?;
            mtoctl_planner::destroy(&spec.desired, &observed, Some(&synced))
        }
    }
    .map_err(|e| anyhow::anyhow!("cannot plan: {e}"))?;
    let problems = mtoctl_planner::lint(&plan);
    anyhow::ensure!(
        problems.is_empty(),
        "the planner produced an inconsistent plan (a bug in mtoctl; please report it):\n  {}",
        problems.join("\n  ")
    );
    // The observed state and the planner's drafts are gone; what they held is free but
    // still resident.
    match release {
        Release::Now => {
            drop(observed);
            crate::memory::release_freed();
        }
        Release::InBackground => release_in_background(observed),
    }
    let mut plan = plan;
    locate_notes(&mut plan, spec);
    tracing::debug!(actions = plan.actions.len(), "planned");
    Ok(plan)
}

/// Drops `observed` and returns the freed pages to the system on a thread of its own. If no
/// thread can be started, `observed` is dropped here.
fn release_in_background(observed: mtoctl_model::ObservedState) {
    on_release_thread(move || {
        drop(observed);
        crate::memory::release_freed();
    });
}

/// What a plan is computed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Planning {
    /// Bring Graph to the spec.
    Apply,
    /// Remove what the spec manages; with the accounts sync made when asked.
    Destroy {
        /// Also delete the accounts synchronization made in the targets.
        remove_synced_users: bool,
    },
}

impl Planning {
    /// The mode the plan records.
    pub fn mode(self) -> mtoctl_model::plan::PlanMode {
        match self {
            Planning::Apply => mtoctl_model::plan::PlanMode::Apply,
            Planning::Destroy { .. } => mtoctl_model::plan::PlanMode::Destroy,
        }
    }
}

/// Points the plan's notes about scope entries at where the spec writes them. The spec is read
/// again only when there are such notes (its load keeps no location per entry), and not when
/// it came from standard input.
fn locate_notes(plan: &mut mtoctl_model::plan::Plan, spec: &LoadedSpec) {
    if !plan.notes.iter().any(|n| n.entry.is_some()) || spec.path.as_os_str() == "-" {
        return;
    }
    let Ok((name, bytes)) = read_spec(&spec.path) else {
        return;
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return;
    };
    for note in &mut plan.notes {
        let Some(entry) = &note.entry else { continue };
        note.location = mtoctl_model::spec::locate::scope_entry(
            text,
            entry.from.as_str(),
            entry.to.as_str(),
            entry.list.key(),
            &entry.name,
        )
        .map(|(line, column)| mtoctl_model::plan::SpecLocation {
            file: name.clone(),
            line,
            column,
        });
    }
}
