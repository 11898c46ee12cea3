//! The `mtoctl-emulator` binary: `mtoctl-emulator serve [flags]`, `check-world FILE`, and
//! `replay FILE` (a transcript recorded by `mtoctl --record`, sent again and compared).

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
    /// Replay a transcript (`mtoctl --record`) against an in-process emulator and report every
    /// difference in status or shape of the answers. Exit 0: none; 1: some; 2: the replay could
    /// not run (the transcript, key or world cannot be read, a tenant cannot be mapped).
    Replay(Replay),
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum ReportFormat {
    /// One difference a line, then a summary line.
    Text,
    /// One versioned JSON object.
    Json,
}

#[derive(Parser)]
struct Replay {
    /// Transcripts (JSON lines) written by `mtoctl --record`, replayed one after the other
    /// against one emulator (a command and the next: `apply.jsonl status.jsonl`).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Key file written by `mtoctl --record-key`, so that the original names and ids are sent;
    /// repeat it for several transcripts, one key each, in the same order.
    #[arg(long = "key", value_name = "KEYFILE")]
    keys: Vec<PathBuf>,
    /// World file (YAML or JSON); default: the transcript's tenants alone, without users.
    #[arg(long)]
    world: Option<PathBuf>,
    /// Seed for ids (overrides the world file's).
    #[arg(long)]
    seed: Option<u64>,
    /// Multiplier for emulated durations, as `serve --time-scale`: the recording emulator's.
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// Map a transcript tenant to a tenant of the world (`t1=6babcaad-…`); repeatable.
    #[arg(long = "tenant", value_name = "tN=TENANT_ID", value_parser = parse_tenant)]
    tenants: Vec<(String, String)>,
    /// Report format.
    #[arg(long, value_enum, default_value = "text")]
    format: ReportFormat,
}

fn parse_tenant(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((t, id)) if !t.is_empty() && mtoctl_emulator::ids::is_guid(id) => {
            Ok((t.to_owned(), id.to_ascii_lowercase()))
        }
        _ => Err(format!("expected tN=TENANT_ID (a GUID), not {s:?}")),
    }
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
        Command::Replay(r) => return replay(r).await,
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

/// Exit 0 without differences, 1 with some, 2 when the replay cannot run.
async fn replay(r: Replay) -> std::process::ExitCode {
    match run_replay(r).await {
        Ok(differences) => std::process::ExitCode::from(u8::from(differences)),
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

/// The replay's report printed; whether it found differences.
async fn run_replay(r: Replay) -> anyhow::Result<bool> {
    use mtoctl_emulator::replay::{Key, ReplayOptions, Transcript, replay_all};
    if !r.keys.is_empty() && r.keys.len() != r.files.len() {
        bail!(
            "{} transcripts and {} key files: give one key per transcript, in the same order, or none",
            r.files.len(),
            r.keys.len()
        );
    }
    let transcripts = r
        .files
        .iter()
        .map(|f| Transcript::read(f))
        .collect::<Result<Vec<_>, _>>()?;
    let keys = r
        .keys
        .iter()
        .map(|k| Key::read(k))
        .collect::<Result<Vec<_>, _>>()?;
    let world = match &r.world {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Some(WorldFile::parse(&text).with_context(|| format!("in {}", path.display()))?)
        }
        None => None,
    };
    let options = ReplayOptions {
        world,
        seed: r.seed,
        time_scale: r.time_scale,
        tenants: r.tenants.into_iter().collect(),
    };
    let pairs: Vec<_> = transcripts
        .iter()
        .enumerate()
        .map(|(i, t)| (t, keys.get(i)))
        .collect();
    let report = replay_all(&pairs, &options).await?;
    let mut out = std::io::stdout().lock();
    match r.format {
        ReportFormat::Text => out.write_all(report.text().as_bytes())?,
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(!report.differences.is_empty())
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
