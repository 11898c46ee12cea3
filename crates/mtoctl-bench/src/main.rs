//! `mtoctl-bench`: runs the benchmark scenarios and writes `results.json` and `results.md`.
//! See `docs/benchmarks.md`.

// This binary is a command-line tool whose job is to report; it prints progress to stderr.
#![allow(clippy::print_stderr)]

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use mtoctl_bench::runner::{self, Settings};
use mtoctl_bench::worlds::Apps;
use mtoctl_bench::{checks, model, report, scenario};

#[derive(Parser)]
#[command(
    name = "mtoctl-bench",
    version,
    about = "Benchmarks mtoctl against the emulator"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run scenarios and write results.json and results.md.
    Run(RunArgs),
}

#[derive(clap::Args)]
struct RunArgs {
    /// Scenarios: `all` or a comma-separated list of B1, B2, B3, B4, B4g.
    #[arg(long, default_value = "all")]
    scenario: String,
    /// The CI quick mode: B1 and a reduced B2, one seed, counts checked.
    #[arg(long)]
    quick: bool,
    /// Seeds per scenario (medians are over these).
    #[arg(long, default_value_t = 3)]
    seeds: u64,
    /// Emulator latency L, milliseconds.
    #[arg(long, default_value_t = 150)]
    latency_ms: u64,
    /// Log-normal latency (p95 ≈ 2.5 × L) instead of a fixed L.
    #[arg(long)]
    lognormal: bool,
    /// Emulator time scale; default: 1 for latency-bound scenarios, and for throttle-bound
    /// ones the factor that brings the write bound to about a minute (at least 0.1).
    #[arg(long)]
    time_scale: Option<f64>,
    /// Fraction of each scenario's principals to use (1 = full size).
    #[arg(long, default_value_t = 1.0)]
    size: f64,
    /// One shared multi-tenant app registration, or one per tenant.
    #[arg(long, value_enum, default_value_t = AppsArg::Shared)]
    apps: AppsArg,
    /// Output directory (default: <target dir>/mtoctl-bench).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Run only the cold plan (peak memory and plan time of sizes whose apply takes too long).
    #[arg(long)]
    plan_only: bool,
    /// The mtoctl binary (default: the release build beside this one, rebuilt if needed).
    #[arg(long)]
    mtoctl: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum AppsArg {
    Shared,
    PerTenant,
}

fn main() -> anyhow::Result<()> {
    let Cli {
        command: Cmd::Run(args),
    } = Cli::parse();
    let scenarios = if args.quick {
        checks::quick_scenarios()
    } else if args.scenario.eq_ignore_ascii_case("all") {
        scenario::all()
    } else {
        args.scenario
            .split(',')
            .map(|n| {
                scenario::by_name(n.trim())
                    .with_context(|| format!("unknown scenario `{n}` (B1, B2, B3, B4, B4g)"))
            })
            .collect::<anyhow::Result<_>>()?
    };
    let scenarios: Vec<_> = scenarios.iter().map(|s| s.scaled(args.size)).collect();
    let out = match &args.out {
        Some(o) => o.clone(),
        None => PathBuf::from(std::env::var("CARGO_TARGET_DIR").unwrap_or("target".into()))
            .join("mtoctl-bench"),
    };
    std::fs::create_dir_all(&out)?;
    let mtoctl = match &args.mtoctl {
        Some(m) => m.clone(),
        None => mtoctl_bench::locate_mtoctl(true, !cfg!(debug_assertions))?,
    };
    let apps = match args.apps {
        AppsArg::Shared => Apps::Shared,
        AppsArg::PerTenant => Apps::PerTenant,
    };
    let seeds = if args.quick { 1 } else { args.seeds.max(1) };
    let runtime = tokio::runtime::Runtime::new()?;
    let mut results = Vec::new();
    let mut settings_used = Vec::new();
    let mut failures = Vec::new();
    for sc in &scenarios {
        let counts = model::counts(&sc.shape);
        let time_scale = args.time_scale.unwrap_or_else(|| {
            if args.quick {
                checks::QUICK_TIME_SCALE
            } else {
                auto_time_scale(&counts, apps)
            }
        });
        let latency_ms = if args.quick {
            checks::QUICK_LATENCY_MS
        } else {
            args.latency_ms
        };
        let settings = Settings {
            latency_ms,
            lognormal: args.lognormal,
            time_scale,
            apps,
            mtoctl: mtoctl.clone(),
            work_dir: out.join("work"),
            plan_only: args.plan_only,
        };
        settings_used.push(serde_json::json!({
            "scenario": sc.name, "full_size": sc.full_size, "shape": sc.shape,
            "group_members": sc.group_members, "latency_ms": latency_ms,
            "lognormal": args.lognormal, "time_scale": time_scale,
            "apps": format!("{apps:?}"), "plan_only": args.plan_only, "model": counts,
        }));
        for seed in 1..=seeds {
            eprintln!(
                "mtoctl-bench: {} seed {seed} (time scale {time_scale})",
                sc.name
            );
            let r = runtime.block_on(runner::run_scenario(sc, seed, &settings))?;
            for p in &r {
                eprintln!(
                    "  {:18} {:8.2} s  http {:6}  inner {:7}  writes {:7}  429 {:5}  early {}  rss {}",
                    p.phase,
                    p.wall_s,
                    p.http_calls,
                    p.inner_requests,
                    p.writes,
                    p.throttled,
                    p.early_retries,
                    p.peak_rss_mib
                        .map(|m| format!("{m:.0} MiB"))
                        .unwrap_or_default()
                );
            }
            if args.quick {
                let found = checks::check(sc, &r);
                for a in &found.advisories {
                    eprintln!("  note: {a}");
                }
                failures.extend(found.failures);
            }
            results.extend(r);
            // Write as we go, so a long run that is interrupted keeps what it measured.
            write_results(&out, &results, &settings_used)?;
        }
    }
    let md = report::markdown(&report::summarise(&results));
    eprintln!("\n{md}");
    eprintln!("results: {}", out.join("results.json").display());
    anyhow::ensure!(
        failures.is_empty(),
        "quick-mode checks failed:\n{}",
        failures.join("\n")
    );
    Ok(())
}

/// 1 when the writes do not bind; otherwise the factor that brings the write bound to about
/// 60 s of real time, but at least 0.1, so the client's own write concurrency is not what
/// binds (at L = 150 ms a tenant's write lane moves ~260 writes/s).
fn auto_time_scale(c: &model::Counts, apps: Apps) -> f64 {
    let tb = if apps == Apps::Shared {
        c.tb_app_tenant_s.max(c.tb_app_s)
    } else {
        c.tb_app_tenant_s
    };
    if tb <= 0.0 {
        1.0
    } else {
        (60.0 / tb).clamp(0.1, 1.0)
    }
}

fn write_results(
    out: &std::path::Path,
    results: &[runner::PhaseResult],
    settings: &[serde_json::Value],
) -> anyhow::Result<()> {
    let summaries = report::summarise(results);
    let json = serde_json::json!({
        "machine": machine(),
        "settings": settings,
        "summaries": summaries,
        "runs": results,
    });
    std::fs::write(
        out.join("results.json"),
        serde_json::to_string_pretty(&json)? + "\n",
    )?;
    std::fs::write(out.join("results.md"), report::markdown(&summaries))?;
    Ok(())
}

/// CPU model, logical CPUs and memory, from /proc.
fn machine() -> serde_json::Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|t| {
        t.lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .map(|s| s.trim().to_owned())
    });
    let mem = std::fs::read_to_string("/proc/meminfo").ok().and_then(|t| {
        t.lines()
            .find(|l| l.starts_with("MemTotal"))
            .map(|l| l.trim().to_owned())
    });
    serde_json::json!({
        "cpu": cpu,
        "logical_cpus": std::thread::available_parallelism().map(|n| n.get()).ok(),
        "memory": mem,
    })
}
