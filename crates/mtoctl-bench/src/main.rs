//! `mtoctl-bench`: runs the benchmark scenarios and writes `results.json` and `results.md`.
//! See `docs/benchmarks.md`.

// This binary is a command-line tool whose job is to report; it prints progress to stderr.
#![allow(clippy::print_stderr)]

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use mtoctl_bench::runner::{self, Settings};
use mtoctl_bench::worlds::Apps;
use mtoctl_bench::{checks, growth, model, report, scenario};

/// The emulator runs in this process, on the cores of the mtoctl it measures: with glibc's
/// allocator, building and freeing the `Value` trees it answers with took more of them
/// (docs/benchmarks.md, "B3's no-op plan").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Measure one scenario at several sizes, fit the growth and draw the chart.
    Growth(GrowthArgs),
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
    /// Scenarios that also run the baseline client (one request per resource, parallelism 10)
    /// on a second emulator of the same world: a comma-separated list, `all` or `none`.
    #[arg(long, default_value = "B1,B4g")]
    baseline: String,
}

#[derive(clap::Args)]
struct GrowthArgs {
    /// The scenario to grow.
    #[arg(long, default_value = "B4")]
    scenario: String,
    /// Fractions of its principals per direction, comma-separated.
    #[arg(long, default_value = "0.01,0.1,0.5,1")]
    fractions: String,
    /// Emulator latency L, milliseconds.
    #[arg(long, default_value_t = 150)]
    latency_ms: u64,
    /// Emulator time scale for every size (default: the run's default for the largest size,
    /// so sizes compare).
    #[arg(long)]
    time_scale: Option<f64>,
    /// Seed of the generated worlds.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output directory for growth.json and growth.md (default: <target dir>/mtoctl-bench).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Where to write the chart (SVG; default: growth.svg in the output directory).
    #[arg(long)]
    chart: Option<PathBuf>,
    /// Only the cold plan at each size.
    #[arg(long)]
    plan_only: bool,
    /// The mtoctl binary (default: the release build beside this one, rebuilt if needed).
    #[arg(long)]
    mtoctl: Option<PathBuf>,
    /// Run nothing: fit and chart the sizes of a growth.json written before.
    #[arg(long)]
    from: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum AppsArg {
    Shared,
    PerTenant,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Cmd::Run(args) => run(args),
        Cmd::Growth(args) => growth(args),
    }
}

fn out_dir(out: &Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let out = match out {
        Some(o) => o.clone(),
        None => PathBuf::from(std::env::var("CARGO_TARGET_DIR").unwrap_or("target".into()))
            .join("mtoctl-bench"),
    };
    std::fs::create_dir_all(&out)
        .with_context(|| format!("cannot create the output directory `{}`", out.display()))?;
    Ok(out)
}

fn run(args: RunArgs) -> anyhow::Result<()> {
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
    let out = out_dir(&args.out)?;
    let with_baseline = |name: &str| -> bool {
        let list = args.baseline.trim();
        !args.quick
            && (list.eq_ignore_ascii_case("all")
                || list.split(',').any(|n| n.trim().eq_ignore_ascii_case(name)))
    };
    let mtoctl = match &args.mtoctl {
        Some(m) => m.clone(),
        None => mtoctl_bench::locate_mtoctl(true, !cfg!(debug_assertions))?,
    };
    // A binary built from other sources than the tree's was once measured for a session
    // unnoticed: each result names the one it measured, by content.
    let binary = binary_identity(&mtoctl)?;
    eprintln!(
        "mtoctl-bench: measuring {} (sha256 {}, {} bytes)",
        mtoctl.display(),
        binary["sha256"]
            .as_str()
            .and_then(|h| h.get(..12))
            .unwrap_or("?"),
        binary["bytes"]
    );
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
            baseline: with_baseline(&sc.name),
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
            write_results(&out, &results, &settings_used, &binary)?;
        }
    }
    let md = results_markdown(&report::summarise(&results));
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
    binary: &serde_json::Value,
) -> anyhow::Result<()> {
    let summaries = report::summarise(results);
    let json = serde_json::json!({
        "machine": machine(),
        "mtoctl": binary,
        "settings": settings,
        "summaries": summaries,
        "runs": results,
    });
    std::fs::write(
        out.join("results.json"),
        serde_json::to_string_pretty(&json)? + "\n",
    )?;
    std::fs::write(out.join("results.md"), results_markdown(&summaries))?;
    Ok(())
}

/// The results table, and the baseline beside mtoctl when a baseline ran.
fn results_markdown(summaries: &[report::Summary]) -> String {
    let mut md = report::markdown(summaries);
    let peers = report::peers_markdown(summaries);
    if !peers.is_empty() {
        md.push_str("\nThe baseline client (one request per resource, parallelism 10; docs/benchmarks.md) beside mtoctl, same run, same world and settings:\n\n");
        md.push_str(&peers);
    }
    md
}

fn growth(args: GrowthArgs) -> anyhow::Result<()> {
    let base = scenario::by_name(args.scenario.trim())
        .with_context(|| format!("unknown scenario `{}` (B1, B2, B3, B4, B4g)", args.scenario))?;
    let fractions: Vec<f64> = args
        .fractions
        .split(',')
        .map(|f| {
            f.trim()
                .parse::<f64>()
                .ok()
                .filter(|f| *f > 0.0 && *f <= 1.0)
                .with_context(|| format!("`{f}` is not a fraction in (0, 1]"))
        })
        .collect::<anyhow::Result<_>>()?;
    let out = out_dir(&args.out)?;
    let chart = args.chart.clone().unwrap_or_else(|| out.join("growth.svg"));
    if let Some(from) = &args.from {
        return growth_from(from, &out, &chart);
    }
    let mtoctl = match &args.mtoctl {
        Some(m) => m.clone(),
        None => mtoctl_bench::locate_mtoctl(true, !cfg!(debug_assertions))?,
    };
    let largest = fractions.iter().copied().fold(0.0, f64::max);
    let time_scale = args.time_scale.unwrap_or_else(|| {
        auto_time_scale(&model::counts(&base.fraction(largest).shape), Apps::Shared)
    });
    let runtime = tokio::runtime::Runtime::new()?;
    let mut sizes = Vec::new();
    for f in &fractions {
        let sc = base.fraction(*f);
        let settings = Settings {
            latency_ms: args.latency_ms,
            lognormal: false,
            time_scale,
            apps: Apps::Shared,
            mtoctl: mtoctl.clone(),
            work_dir: out.join("work-growth"),
            plan_only: args.plan_only,
            baseline: false,
        };
        eprintln!("mtoctl-bench growth: {} (time scale {time_scale})", sc.name);
        let results = runtime.block_on(runner::run_scenario(&sc, args.seed, &settings))?;
        for p in &results {
            eprintln!(
                "  {:18} {:8.2} s  http {:6}  writes {:7}  429 {:5}  rss {}",
                p.phase,
                p.wall_s,
                p.http_calls,
                p.writes,
                p.throttled,
                p.peak_rss_mib
                    .map(|m| format!("{m:.0} MiB"))
                    .unwrap_or_default()
            );
        }
        sizes.push(growth::Size {
            scenario: sc.name.clone(),
            principals: model::counts(&sc.shape).a,
            results,
        });
        let series = growth::series(&sizes);
        let json = serde_json::json!({
            "machine": machine(),
            "scenario": base.name, "fractions": fractions, "latency_ms": args.latency_ms,
            "time_scale": time_scale, "seed": args.seed, "sizes": sizes, "series": series,
        });
        std::fs::write(
            out.join("growth.json"),
            serde_json::to_string_pretty(&json)? + "\n",
        )?;
        std::fs::write(out.join("growth.md"), growth::markdown(&sizes, &series))?;
    }
    let series = growth::series(&sizes);
    let title = growth_title(&base.name, &fractions, args.latency_ms, time_scale);
    growth::chart::write(&chart, &title, &series)?;
    eprintln!("\n{}", growth::markdown(&sizes, &series));
    eprintln!(
        "growth: {} and {}",
        out.join("growth.json").display(),
        chart.display()
    );
    Ok(())
}

fn growth_title(scenario: &str, fractions: &[f64], latency_ms: u64, time_scale: f64) -> String {
    format!(
        "{scenario} at {} of its principals (L = {latency_ms} ms, time scale {time_scale})",
        fractions
            .iter()
            .map(|f| format!("{}%", f * 100.0))
            .collect::<Vec<_>>()
            .join(", "),
    )
}

/// Fits and charts the sizes of a `growth.json` again (after a change of the chart or fits),
/// without running anything; writes growth.md to `out` and the chart to `chart`.
fn growth_from(
    from: &std::path::Path,
    out: &std::path::Path,
    chart: &std::path::Path,
) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(from)
        .with_context(|| format!("cannot read `{}`", from.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("`{}` is not JSON", from.display()))?;
    let sizes: Vec<growth::Size> = serde_json::from_value(json["sizes"].clone())
        .with_context(|| format!("`{}` has no growth sizes", from.display()))?;
    let fractions: Vec<f64> = serde_json::from_value(json["fractions"].clone()).unwrap_or_default();
    let title = growth_title(
        json["scenario"].as_str().unwrap_or("?"),
        &fractions,
        json["latency_ms"].as_u64().unwrap_or(0),
        json["time_scale"].as_f64().unwrap_or(0.0),
    );
    let series = growth::series(&sizes);
    growth::chart::write(chart, &title, &series)?;
    let md = growth::markdown(&sizes, &series);
    std::fs::write(out.join("growth.md"), &md)?;
    eprintln!("{md}");
    eprintln!("growth: {} (from {})", chart.display(), from.display());
    Ok(())
}

/// The measured binary: its path, size, modification time (seconds since the epoch) and the
/// SHA-256 of its content.
fn binary_identity(path: &std::path::Path) -> anyhow::Result<serde_json::Value> {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let mut file = std::fs::File::open(path)
        .with_context(|| format!("cannot read the mtoctl binary `{}`", path.display()))?;
    let meta = file.metadata()?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let sha256: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs());
    Ok(serde_json::json!({
        "path": path.display().to_string(),
        "bytes": meta.len(),
        "modified_unix_s": modified,
        "sha256": sha256,
    }))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_binary_is_named_by_the_sha256_of_its_content() {
        let dir = std::env::temp_dir().join(format!("mtoctl-bench-id-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("mtoctl");
        std::fs::write(&path, b"abc").expect("write");
        let id = binary_identity(&path).expect("identity");
        assert_eq!(
            id["sha256"],
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(id["bytes"], 3);
        assert!(binary_identity(&dir.join("absent")).is_err());
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
