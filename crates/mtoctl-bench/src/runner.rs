//! Runs one scenario with one seed: starts the emulator in this process (latency, the Graph
//! throttling model, a time scale, the clock following real time), runs the `mtoctl` binary
//! as a subprocess for each phase, and records what the emulator counted and what the
//! process cost.
//!
//! Phases: a cold plan, apply from scratch (joins included, through `apply --wait`), a no-op
//! plan after convergence, and an incremental apply of 1 % added and 1 % removed principals.
//! Between phases the counters are zeroed and the token buckets refilled, as if the next run
//! came a while later; the state (what was applied) is kept.
//!
//! With `Settings::baseline`, the baseline client (`crate::baseline`) then runs its apply from
//! scratch and its no-op plan against a second emulator of the same world and settings, and
//! `mtoctl plan` checks in between that it converged.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use mtoctl_emulator::{Emulator, Latency, Options, world::WorldFile};
use serde::Serialize;

use crate::baseline;
use crate::model::{self, Bound, BoundSettings};
use crate::scenario::Scenario;
use crate::worlds::{self, Apps, Generated};

/// How a benchmark runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Median round-trip latency the emulator adds, in milliseconds.
    pub latency_ms: u64,
    /// Log-normal latency (p95 ≈ 2.5 × median) instead of a fixed one.
    pub lognormal: bool,
    /// The emulator's time scale: bucket windows, Retry-After and timers shrink by it.
    pub time_scale: f64,
    /// One shared app registration or one per tenant.
    pub apps: Apps,
    /// The `mtoctl` binary to measure.
    pub mtoctl: PathBuf,
    /// Where generated specs and outputs go.
    pub work_dir: PathBuf,
    /// Only the cold plan (for sizes whose apply does not fit the time available).
    pub plan_only: bool,
    /// Also run the baseline client (`crate::baseline`) against a second emulator made from
    /// the same world with the same settings: its apply from scratch and its no-op plan.
    pub baseline: bool,
}

/// One measured phase.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct PhaseResult {
    /// Scenario name.
    pub scenario: String,
    /// Seed.
    pub seed: u64,
    /// `plan_cold`, `apply_scratch`, `plan_noop`, `plan_noop_fresh` (without the ids kept by
    /// the runs before) or `apply_incremental`.
    pub phase: String,
    /// Wall time of the mtoctl process, seconds.
    pub wall_s: f64,
    /// Exit code of mtoctl.
    pub exit_code: i32,
    /// HTTP calls received by the emulator (tokens included, a `$batch` once).
    pub http_calls: u64,
    /// Graph requests executed (each `$batch` item).
    pub inner_requests: u64,
    /// Resource units charged.
    pub resource_units: u64,
    /// Writes charged.
    pub writes: u64,
    /// 429s from the throttling model.
    pub throttled: u64,
    /// 429s as a percentage of inner requests.
    pub throttled_pct: f64,
    /// Requests sent before a Retry-After had elapsed.
    pub early_retries: u64,
    /// Most HTTP requests in flight at once, globally.
    pub peak_in_flight: u64,
    /// Most HTTP requests in flight at once for one tenant.
    pub peak_in_flight_tenant: u64,
    /// Peak resident memory of the mtoctl process, MiB (GNU time's %M), if measured.
    pub peak_rss_mib: Option<f64>,
    /// The model's lower bound for this phase, seconds.
    pub bound_s: f64,
    /// What binds it.
    pub binding: String,
    /// The goal derived from the bound (§7), seconds.
    pub goal_s: f64,
    /// wall_s ÷ bound_s.
    pub ratio: f64,
    /// The model's inner requests for a plan of this scenario (`Counts::r_plan_waves`).
    pub model_inner: u64,
    /// The model's HTTP calls for this phase.
    pub model_http: u64,
    /// Writes the phase must make when the model says exactly (incremental apply).
    pub expected_writes: Option<u64>,
}

/// What the emulator counted during one phase.
#[derive(Debug, Clone, Default)]
struct Counted {
    http: u64,
    inner: u64,
    ru: u64,
    writes: u64,
    throttled: u64,
    early: u64,
    peak: u64,
    peak_tenant: u64,
}

/// One finished mtoctl process.
struct Ran {
    code: i32,
    wall_s: f64,
    rss_mib: Option<f64>,
}

/// Runs the four phases of `scenario` with `seed`.
pub async fn run_scenario(
    scenario: &Scenario,
    seed: u64,
    settings: &Settings,
) -> anyhow::Result<Vec<PhaseResult>> {
    let generated = worlds::generate(scenario, seed, settings.apps);
    let dir = run_dir(settings, scenario, seed)?;
    forget_known_ids(&dir)?;
    let spec = dir.join("spec.yaml");
    let spec_incr = dir.join("spec-incremental.yaml");
    std::fs::write(&spec, &generated.spec)?;
    std::fs::write(&spec_incr, &generated.spec_incremental)?;

    let emulator = start_emulator(&generated, seed, settings)?;
    let serving = Serving(emulator.spawn_on_loopback().await?);
    let mut out = phases(scenario, seed, settings, &generated, serving, &dir).await?;
    if settings.baseline && !settings.plan_only {
        let peer = baseline_phases(scenario, seed, settings, &generated, &dir).await?;
        out.extend(peer.phases);
    }
    Ok(out)
}

/// What the baseline client did in one scenario and seed.
#[derive(Debug, Clone)]
pub struct BaselineRun {
    /// `baseline_apply_scratch` and `baseline_plan_noop`, measured like mtoctl's phases.
    pub phases: Vec<PhaseResult>,
    /// What the client sent during its apply.
    pub apply_sent: baseline::Counts,
    /// What the client sent during its no-op plan.
    pub plan_sent: baseline::Counts,
}

/// Runs the baseline client alone on `scenario`'s world (for tests; [`run_scenario`] runs it
/// after mtoctl when [`Settings::baseline`] is set).
pub async fn run_baseline(
    scenario: &Scenario,
    seed: u64,
    settings: &Settings,
) -> anyhow::Result<BaselineRun> {
    let generated = worlds::generate(scenario, seed, settings.apps);
    let dir = run_dir(settings, scenario, seed)?;
    std::fs::write(dir.join("spec.yaml"), &generated.spec)?;
    baseline_phases(scenario, seed, settings, &generated, &dir).await
}

/// The baseline's apply from scratch and no-op plan on a fresh emulator of the same world and
/// settings; between them, unmeasured, `mtoctl plan --detailed-exitcode` must find nothing to
/// do, the check mtoctl's own apply passes.
async fn baseline_phases(
    scenario: &Scenario,
    seed: u64,
    s: &Settings,
    g: &Generated,
    dir: &Path,
) -> anyhow::Result<BaselineRun> {
    let serving = Serving(start_emulator(g, seed, s)?.spawn_on_loopback().await?);
    let counts = model::counts(&scenario.shape);
    let bs = bound_settings(s);
    let plan_b = model::plan_bound(&counts, bs);
    let (apply_b, apply_goal) = apply_bound(&counts, s);
    let sh = baseline::new(
        &serving.0.base_url,
        worlds::SECRET,
        worlds::layout(scenario, s.apps),
    )?;
    let ran = {
        let emu = &serving.0.emulator;
        timed(emu, async {
            baseline::apply(&sh)
                .await
                .with_context(|| format!("{} seed {seed}: the baseline's apply", scenario.name))
        })
        .await?
    };
    let apply_sent = sh.client.tally.counts();
    let mut phases = vec![phase_result(
        scenario,
        seed,
        "baseline_apply_scratch",
        &ran,
        &counted(&serving.0.emulator),
        &apply_b,
        apply_goal,
        &counts,
        counts.h_apply,
        None,
    )];

    // As for mtoctl's phases: the state the apply built, served from a fresh copy.
    let serving = settled(serving, seed, s).await?;
    let (emu, base) = (&serving.0.emulator, serving.0.base_url.as_str());
    sh.client.move_to(base);
    let spec = dir.join("spec.yaml").to_string_lossy().into_owned();
    plan_clean(
        s,
        base,
        dir,
        "baseline_check",
        &spec,
        "mtoctl plan after the baseline's apply (must find nothing)",
    )
    .await?;

    let ran = timed(emu, async {
        baseline::plan(&sh)
            .await
            .with_context(|| format!("{} seed {seed}: the baseline's no-op plan", scenario.name))
    })
    .await?;
    phases.push(phase_result(
        scenario,
        seed,
        "baseline_plan_noop",
        &ran,
        &counted(emu),
        &plan_b,
        model::goal(&plan_b),
        &counts,
        counts.h_plan_waves,
        None,
    ));
    let plan_sent = sh.client.tally.counts().since(&apply_sent);
    Ok(BaselineRun {
        phases,
        apply_sent,
        plan_sent,
    })
}

/// Runs one in-process baseline phase against the emulator reset first, timing it; a phase
/// that returns has "exited" 0.
async fn timed(
    emu: &Emulator,
    phase: impl std::future::Future<Output = anyhow::Result<()>>,
) -> anyhow::Result<Ran> {
    reset(emu);
    let started = Instant::now();
    phase.await?;
    Ok(Ran {
        code: 0,
        wall_s: started.elapsed().as_secs_f64(),
        rss_mib: None,
    })
}

fn bound_settings(s: &Settings) -> BoundSettings {
    BoundSettings {
        latency_s: s.latency_ms as f64 / 1000.0,
        time_scale: s.time_scale,
        shared_app: s.apps == Apps::Shared,
    }
}

/// The apply from scratch's bound (extras included) and goal.
fn apply_bound(counts: &model::Counts, s: &Settings) -> (Bound, f64) {
    let mut b = model::apply_bound(counts, bound_settings(s));
    let extra = apply_extras_s(s);
    let goal = model::goal(&b) + extra;
    b.seconds += extra;
    (b, goal)
}

/// One phase's result from what was measured and the model.
#[allow(clippy::too_many_arguments)]
fn phase_result(
    scenario: &Scenario,
    seed: u64,
    phase: &str,
    ran: &Ran,
    c: &Counted,
    bound: &Bound,
    goal_s: f64,
    counts: &model::Counts,
    model_http: u64,
    expected_writes: Option<u64>,
) -> PhaseResult {
    PhaseResult {
        scenario: scenario.name.clone(),
        seed,
        phase: phase.to_owned(),
        wall_s: ran.wall_s,
        exit_code: ran.code,
        http_calls: c.http,
        inner_requests: c.inner,
        resource_units: c.ru,
        writes: c.writes,
        throttled: c.throttled,
        throttled_pct: if c.inner == 0 {
            0.0
        } else {
            100.0 * c.throttled as f64 / c.inner as f64
        },
        early_retries: c.early,
        peak_in_flight: c.peak,
        peak_in_flight_tenant: c.peak_tenant,
        peak_rss_mib: ran.rss_mib,
        bound_s: bound.seconds,
        binding: bound.binding.to_owned(),
        goal_s,
        ratio: ran.wall_s / bound.seconds.max(1e-9),
        model_inner: counts.r_plan_waves,
        model_http,
        expected_writes,
    }
}

fn start_emulator(g: &Generated, seed: u64, s: &Settings) -> anyhow::Result<Emulator> {
    let world: WorldFile =
        serde_json::from_value(g.world.clone()).context("the generated world is invalid")?;
    Ok(Emulator::from_world(world, options(seed, s))?)
}

/// A served emulator, stopped when dropped (however the phases end).
struct Serving(mtoctl_emulator::Server);

impl Drop for Serving {
    fn drop(&mut self) {
        self.0.handle.abort();
    }
}

/// The state an apply built, served by a new emulator made from a copy of it (laid out afresh,
/// as a loaded state is), the old one stopped and freed first; not measured. Served from the
/// apply's scattered heap, the emulator took about twice the shared cores' time in a no-op
/// plan: the rig's cost, which Graph never puts on the client's machine (docs/benchmarks.md).
async fn settled(old: Serving, seed: u64, s: &Settings) -> anyhow::Result<Serving> {
    let state = {
        let mut core = old.0.emulator.lock();
        core.state.now_ms = core.now();
        core.state.clone()
    };
    tokio::task::spawn_blocking(move || drop(old)).await?;
    let emulator = Emulator::from_state(state, options(seed, s));
    Ok(Serving(emulator.spawn_on_loopback().await?))
}

/// How the harness runs its emulators.
fn options(seed: u64, s: &Settings) -> Options {
    Options {
        seed: Some(seed),
        time_scale: s.time_scale,
        latency: match (s.latency_ms, s.lognormal) {
            (0, _) => Latency::None,
            (ms, false) => Latency::Fixed(ms),
            (ms, true) => Latency::LogNormal(ms),
        },
        throttle: true,
        // Buckets refill and timers run only when the clock follows real time.
        follow_wall_clock: true,
        ..Options::default()
    }
}

#[allow(clippy::too_many_arguments)]
async fn phases(
    scenario: &Scenario,
    seed: u64,
    s: &Settings,
    g: &Generated,
    serving: Serving,
    dir: &Path,
) -> anyhow::Result<Vec<PhaseResult>> {
    let emu = &serving.0.emulator;
    let base = serving.0.base_url.as_str();
    let counts = model::counts(&scenario.shape);
    let bs = bound_settings(s);
    let plan_b = model::plan_bound(&counts, bs);
    let spec = dir.join("spec.yaml");
    let spec_incr = dir.join("spec-incremental.yaml");
    let spec = spec.to_string_lossy().into_owned();
    let spec_incr = spec_incr.to_string_lossy().into_owned();
    let mut out = Vec::new();
    let mut record = |phase: &str,
                      ran: &Ran,
                      c: &Counted,
                      bound: &Bound,
                      goal_s: f64,
                      model_http: u64,
                      expected_writes: Option<u64>| {
        out.push(phase_result(
            scenario,
            seed,
            phase,
            ran,
            c,
            bound,
            goal_s,
            &counts,
            model_http,
            expected_writes,
        ));
    };

    // 1. Cold plan: nothing configured yet.
    reset(emu);
    let ran = mtoctl(s, base, dir, "plan_cold", &["plan", "-f", &spec]).await?;
    expect_code(&ran, &[0], "plan (cold)", dir)?;
    record(
        "plan_cold",
        &ran,
        &counted(emu),
        &plan_b,
        model::goal(&plan_b),
        counts.h_plan_waves,
        None,
    );
    if s.plan_only {
        return Ok(out);
    }

    // 2. Apply from scratch, joins included: apply, wait for the joins, apply what they unlock.
    reset(emu);
    let ran = mtoctl(
        s,
        base,
        dir,
        "apply_scratch",
        &["apply", "-f", &spec, "--auto-approve", "--wait", "2h"],
    )
    .await?;
    expect_code(&ran, &[0], "apply from scratch", dir)?;
    let (apply_b, apply_goal) = apply_bound(&counts, s);
    record(
        "apply_scratch",
        &ran,
        &counted(emu),
        &apply_b,
        apply_goal,
        counts.h_apply,
        None,
    );
    // `MTOCTL_BENCH_SAVE_STATE=1` keeps the converged state (`converged-state.json` in the
    // work directory) so a no-op plan or an incremental apply can be profiled against a
    // standalone emulator (`mtoctl-emulator --state`) without applying from scratch again.
    if std::env::var_os("MTOCTL_BENCH_SAVE_STATE").is_some() {
        let path = dir.join("converged-state.json");
        let mut core = emu.lock();
        core.state.now_ms = core.now();
        mtoctl_emulator::persist::save(&path, &core.state)
            .with_context(|| format!("cannot save the state to `{}`", path.display()))?;
    }
    let serving = settled(serving, seed, s).await?;
    let emu = &serving.0.emulator;
    let base = serving.0.base_url.as_str();

    // 3. No-op plan after convergence: the everyday command.
    reset(emu);
    let ran = plan_clean(
        s,
        base,
        dir,
        "plan_noop",
        &spec,
        "plan after convergence (must find nothing)",
    )
    .await?;
    record(
        "plan_noop",
        &ran,
        &counted(emu),
        &plan_b,
        model::goal(&plan_b),
        counts.h_plan_waves,
        None,
    );

    // 3b. The same without the ids the apply and the plan before it kept: as in a CI job that
    // keeps no files between runs.
    reset(emu);
    let ran = mtoctl(
        s,
        base,
        dir,
        "plan_noop_fresh",
        &["plan", "-f", &spec, "--detailed-exitcode", "--no-known-ids"],
    )
    .await?;
    expect_code(&ran, &[0], "plan after convergence, without known ids", dir)?;
    record(
        "plan_noop_fresh",
        &ran,
        &counted(emu),
        &plan_b,
        model::goal(&plan_b),
        counts.h_plan_waves,
        None,
    );

    // 4. Incremental apply: 1 % of each direction's principals removed, 1 % added.
    reset(emu);
    let ran = mtoctl(
        s,
        base,
        dir,
        "apply_incremental",
        &[
            "apply",
            "-f",
            &spec_incr,
            "--auto-approve",
            "--allow-destroy",
        ],
    )
    .await?;
    expect_code(&ran, &[0], "incremental apply", dir)?;
    let incr_b = Bound {
        seconds: plan_b.seconds + bs.latency_s,
        binding: plan_b.binding,
    };
    let expected = g.incremental_adds + g.incremental_removes;
    let changed_tenants = counts.t;
    record(
        "apply_incremental",
        &ran,
        &counted(emu),
        &incr_b,
        model::goal(&plan_b) + 1.0,
        counts.h_plan_waves + expected.div_ceil(model::BATCH) + changed_tenants,
        Some(expected),
    );

    // The incremental apply converged (not measured).
    plan_clean(
        s,
        base,
        dir,
        "plan_after_incremental",
        &spec_incr,
        "plan after the incremental apply",
    )
    .await?;
    Ok(out)
}

/// Parts of an apply from scratch that are Graph's time, not round trips: the emulator's
/// service times on the critical path (instantiate 2 s, then job creation 1 s, then start
/// 0.5 s; only with a latency model) and the join's completion time.
pub fn apply_extras_s(s: &Settings) -> f64 {
    let service = if s.latency_ms > 0 { 3.5 } else { 0.0 };
    service + worlds::JOIN_COMPLETE_S * s.time_scale
}

/// Zero the counters and refill every token bucket.
fn reset(emu: &Emulator) {
    let mut core = emu.lock();
    core.stats = Default::default();
    let burst = core.opts.throttle_burst;
    let load = core.throttle.background_load;
    core.throttle = mtoctl_emulator::throttle::Throttle::with_burst(burst);
    core.throttle.background_load = load;
}

fn counted(emu: &Emulator) -> Counted {
    let core = emu.lock();
    let t = &core.stats.total;
    Counted {
        http: t.http_requests,
        inner: t.inner_requests,
        ru: t.resource_units,
        writes: t.writes,
        throttled: t.throttled,
        early: t.early_retries,
        peak: t.peak_in_flight,
        peak_tenant: core
            .stats
            .per_tenant
            .values()
            .map(|c| c.peak_in_flight)
            .max()
            .unwrap_or(0),
    }
}

/// The work directory of one run of `scenario` with `seed`, made if absent.
fn run_dir(settings: &Settings, scenario: &Scenario, seed: u64) -> anyhow::Result<PathBuf> {
    let dir = settings
        .work_dir
        .join(format!("{}-seed{seed}", scenario.name.replace('@', "_")));
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the work directory `{}`", dir.display()))?;
    Ok(dir)
}

/// The ids an earlier run in `dir` left (`.mtoctl/known-ids.json` beside its spec) removed,
/// so that the cold plan is cold and the plans after the apply know what this run's apply saw.
fn forget_known_ids(dir: &Path) -> anyhow::Result<()> {
    let file = dir.join(".mtoctl").join("known-ids.json");
    match std::fs::remove_file(&file) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove `{}`", file.display()))
        }
        _ => Ok(()),
    }
}

/// `mtoctl plan -f <spec> --detailed-exitcode` run as `label`, which must find nothing to do
/// (exit 0); `what` names it in the error.
async fn plan_clean(
    s: &Settings,
    base: &str,
    dir: &Path,
    label: &str,
    spec: &str,
    what: &str,
) -> anyhow::Result<Ran> {
    let ran = mtoctl(
        s,
        base,
        dir,
        label,
        &["plan", "-f", spec, "--detailed-exitcode"],
    )
    .await?;
    expect_code(&ran, &[0], what, dir)?;
    Ok(ran)
}

fn expect_code(ran: &Ran, ok: &[i32], what: &str, dir: &Path) -> anyhow::Result<()> {
    if ok.contains(&ran.code) {
        return Ok(());
    }
    bail!(
        "{what} exited with {} (expected {ok:?}); its output is in {}",
        ran.code,
        dir.display()
    )
}

/// Runs mtoctl with `args` against the emulator at `base`, stdout and stderr to files named
/// after `label` in `dir`; measures wall time and, through GNU time when installed, peak RSS.
async fn mtoctl(
    s: &Settings,
    base: &str,
    dir: &Path,
    label: &str,
    args: &[&str],
) -> anyhow::Result<Ran> {
    let gnu_time = Path::new("/usr/bin/time");
    let rss_file = dir.join(format!("{label}.rss"));
    let mut cmd = if gnu_time.exists() {
        let mut c = Command::new(gnu_time);
        c.arg("-f")
            .arg("%M")
            .arg("-o")
            .arg(&rss_file)
            .arg(&s.mtoctl);
        c
    } else {
        Command::new(&s.mtoctl)
    };
    cmd.args(args)
        .args(["--color", "never"])
        .env(worlds::SECRET_ENV, worlds::SECRET)
        .env("MTOCTL_GRAPH_URL", base)
        .env("MTOCTL_LOGIN_URL", base)
        .env_remove("MTOCTL_LOG")
        // `MTOCTL_BENCH_LOG=debug` passes a log level to the measured runs (their stderr, in
        // the work directory): timestamps of every Graph call, for finding where time goes.
        .envs(std::env::var("MTOCTL_BENCH_LOG").map(|l| ("MTOCTL_LOG", l)))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.join(format!("{label}.out")))?)
        .stderr(std::fs::File::create(dir.join(format!("{label}.err")))?);
    let mtoctl = s.mtoctl.display().to_string();
    let (status, wall_s) = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let status = cmd.status();
        (status, started.elapsed().as_secs_f64())
    })
    .await?;
    let status = status.with_context(|| format!("cannot run `{mtoctl}`"))?;
    let rss_mib = std::fs::read_to_string(&rss_file)
        .ok()
        .and_then(|t| t.lines().last().and_then(|l| l.trim().parse::<f64>().ok()))
        .map(|kib| kib / 1024.0);
    Ok(Ran {
        code: status.code().unwrap_or(-1),
        wall_s,
        rss_mib,
    })
}
