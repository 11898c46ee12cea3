//! The `mtoctl-emulator` binary: `mtoctl-emulator serve [flags]`.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand, ValueEnum};
use mtoctl_emulator::world::WorldFile;
use mtoctl_emulator::{Emulator, Latency, Options};

#[derive(Parser)]
#[command(
    name = "mtoctl-emulator",
    version,
    about = "A local Microsoft Graph for multitenant organizations"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the emulated Graph, token endpoint and admin API.
    Serve(Serve),
    /// Check that a world file loads, and summarize it.
    CheckWorld {
        /// World file (YAML or JSON).
        file: PathBuf,
    },
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum ThrottleMode {
    /// No throttling.
    Off,
    /// The Graph token-bucket model.
    Graph,
}

#[derive(Parser)]
struct Serve {
    /// Listen address (loopback only unless --allow-remote).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// World file (YAML or JSON).
    #[arg(long)]
    world: Option<PathBuf>,
    /// State file: loaded at start when it exists, saved atomically after every change.
    #[arg(long)]
    state: Option<PathBuf>,
    /// State file to start from without saving changes back to it: a benchmark's converged
    /// state (`MTOCTL_BENCH_SAVE_STATE`) replayed for profiling, where saving 100 MB after
    /// every write would be what is measured.
    #[arg(long, conflicts_with_all = ["state", "world"])]
    from_state: Option<PathBuf>,
    /// Multiplier for emulated durations (0.001 makes a 40-minute sync cycle 2.4 s).
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// Added latency per response in milliseconds (the median with --latency-lognormal).
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Draw latency from a log-normal distribution around --latency-ms (p95 ≈ 2.5×).
    #[arg(long)]
    latency_lognormal: bool,
    /// Throttling model.
    #[arg(long, value_enum, default_value = "off")]
    throttle: ThrottleMode,
    /// Throttle bucket capacity as a fraction of the window quota (0.1 = the
    /// "small-burst" mode; the refill rate is unchanged).
    #[arg(long, default_value_t = 1.0)]
    throttle_burst: f64,
    /// Share (0..1) of each tenant's all-apps write quota (18,000 / 5 min)
    /// consumed by other applications.
    #[arg(long, default_value_t = 0.0)]
    background_load: f64,
    /// Probability of a random 429 / 503 / connection reset per request.
    #[arg(long, default_value_t = 0.0)]
    fault_rate: f64,
    /// Seed for ids and faults.
    #[arg(long)]
    seed: Option<u64>,
    /// Allow a non-loopback listen address.
    #[arg(long)]
    allow_remote: bool,
    /// Read-after-write replication lag of new service principals, applications
    /// and app role assignments, in virtual seconds (overrides the world file).
    #[arg(long)]
    replication_lag: Option<f64>,
    /// Log one line per Graph request to stderr.
    #[arg(long)]
    log_requests: bool,
    /// Freeze the virtual clock (it then moves only through POST /_emulator/advance).
    #[arg(long)]
    frozen_clock: bool,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let result = match Cli::parse().command {
        Command::Serve(s) => serve(s).await,
        Command::CheckWorld { file } => check_world(&file),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // The error and its causes on one line; never a backtrace (RUST_BACKTRACE may be
            // set in CI environments, and the chain already says what went wrong).
            let _ = writeln!(std::io::stderr(), "error: {e:#}");
            std::process::ExitCode::from(1)
        }
    }
}

fn check_world(file: &std::path::Path) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let world = WorldFile::parse(&text).with_context(|| format!("in {}", file.display()))?;
    let state = world
        .into_state(None)
        .with_context(|| format!("in {}", file.display()))?;
    let t = state.tenants.values();
    let (users, groups, apps) = t.fold((0, 0, 0), |(u, g, a), t| {
        (u + t.users.len(), g + t.groups.len(), a + t.apps.len())
    });
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "ok: {} tenants, {users} users, {groups} groups, {apps} apps",
        state.tenants.len()
    )?;
    Ok(())
}

/// Build the emulator for a fresh world. A running (not frozen) clock starts
/// at the real current time unless the world file sets `startTime`, so token
/// lifetimes and `Date` headers look like the real service's.
fn start_world(world: WorldFile, options: Options, frozen: bool) -> anyhow::Result<Emulator> {
    let real_start = world.start_time.is_none() && !frozen;
    let mut state = world.into_state(options.seed)?;
    if real_start {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4))
            .unwrap_or(state.now_ms);
        state.now_ms = now;
    }
    Ok(Emulator::from_state(state, options))
}

async fn serve(s: Serve) -> anyhow::Result<()> {
    if !s.listen.ip().is_loopback() && !s.allow_remote {
        bail!(
            "refusing to listen on non-loopback address {} (pass --allow-remote to override)",
            s.listen
        );
    }
    if !(s.time_scale.is_finite() && s.time_scale > 0.0) {
        bail!("--time-scale must be a positive number");
    }
    if s.replication_lag
        .is_some_and(|l| !(l.is_finite() && l >= 0.0))
    {
        bail!("--replication-lag must be a non-negative number of seconds");
    }
    if !(s.throttle_burst.is_finite() && s.throttle_burst > 0.0 && s.throttle_burst <= 1.0) {
        bail!("--throttle-burst must be in (0, 1]");
    }
    if !(0.0..1.0).contains(&s.background_load) {
        bail!("--background-load must be in [0, 1)");
    }
    if !(0.0..=1.0).contains(&s.fault_rate) {
        bail!("--fault-rate must be between 0 and 1");
    }
    let options = Options {
        seed: s.seed,
        time_scale: s.time_scale,
        latency: match (s.latency_ms, s.latency_lognormal) {
            (0, _) => Latency::None,
            (ms, false) => Latency::Fixed(ms),
            (ms, true) => Latency::LogNormal(ms),
        },
        throttle: s.throttle == ThrottleMode::Graph,
        fault_rate: s.fault_rate,
        follow_wall_clock: !s.frozen_clock,
        state_file: s.state.clone(),
        replication_lag: s.replication_lag,
        throttle_burst: s.throttle_burst,
        log_requests: s.log_requests,
        background_load: s.background_load,
        observer: None,
    };
    // `--from-state` loads like `--state` but leaves `state_file` unset, so nothing is saved.
    let saved = s.from_state.as_ref().or(s.state.as_ref());
    let emu = match (saved, &s.world) {
        (Some(path), _) if path.exists() || s.from_state.is_some() => {
            let state = mtoctl_emulator::persist::load(path)
                .with_context(|| format!("cannot load state file {}", path.display()))?;
            Emulator::from_state(state, options)
        }
        (_, Some(world)) => {
            let text = std::fs::read_to_string(world)
                .with_context(|| format!("cannot read {}", world.display()))?;
            let world =
                WorldFile::parse(&text).with_context(|| format!("in {}", world.display()))?;
            start_world(world, options, s.frozen_clock)?
        }
        (_, None) => start_world(WorldFile::default(), options, s.frozen_clock)?,
    };
    {
        let mut core = emu.lock();
        core.dirty = true;
        emu.persist_locked(&mut core);
    }
    let listener = tokio::net::TcpListener::bind(s.listen)
        .await
        .with_context(|| format!("cannot listen on {}", s.listen))?;
    let addr = listener.local_addr()?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on http://{addr}")?;
    out.flush()?;
    drop(out);
    axum::serve(listener, emu.router())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
