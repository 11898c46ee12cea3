//! Growth: how plan and apply time and mtoctl's peak memory grow with the size of a scenario
//! (by default B4 at 1 %, 10 %, 50 % and 100 % of its principals), the fitted growth of each
//! ([`fit`]), and a chart ([`chart`]).
//!
//! The runs themselves are the runner's (`runner::run_scenario`), one size after another with
//! the same latency and time scale, so sizes compare; this module turns their results into
//! series, fits and Markdown.

pub mod chart;
pub mod fit;

use serde::Serialize;

use crate::runner::PhaseResult;

pub use fit::Fit;

/// The phases charted and fitted, in the runner's order.
pub const PHASES: [&str; 4] = [
    "plan_cold",
    "apply_scratch",
    "plan_noop",
    "apply_incremental",
];

/// One phase's measurements against size.
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    /// Phase name.
    pub phase: String,
    /// (principals in scope, wall seconds).
    pub wall: Vec<(f64, f64)>,
    /// (principals in scope, peak RSS MiB), where measured.
    pub rss: Vec<(f64, f64)>,
    /// Fits of the wall times.
    pub wall_fit: Option<Fit>,
    /// Fits of the peak RSS.
    pub rss_fit: Option<Fit>,
}

/// One size's results: the principals in scope and the phases measured (one seed).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Size {
    /// The scenario's name at this size (`B4@10%`).
    pub scenario: String,
    /// App role assignments in scope (the sum of every direction's principals).
    pub principals: u64,
    /// Its phases.
    pub results: Vec<PhaseResult>,
}

/// The series of every phase measured at two sizes or more, with their fits.
pub fn series(sizes: &[Size]) -> Vec<Series> {
    PHASES
        .iter()
        .filter_map(|&phase| {
            let of = |r: &PhaseResult| r.phase == phase;
            let wall: Vec<(f64, f64)> = sizes
                .iter()
                .filter_map(|s| {
                    let r = s.results.iter().find(|r| of(r))?;
                    Some((s.principals as f64, r.wall_s))
                })
                .collect();
            let rss: Vec<(f64, f64)> = sizes
                .iter()
                .filter_map(|s| {
                    let r = s.results.iter().find(|r| of(r))?;
                    Some((s.principals as f64, r.peak_rss_mib?))
                })
                .collect();
            (!wall.is_empty()).then(|| Series {
                phase: phase.to_owned(),
                wall_fit: fit::fit(&wall),
                rss_fit: fit::fit(&rss),
                wall,
                rss,
            })
        })
        .collect()
}

fn fit_cell(f: Option<&Fit>, unit: &str) -> String {
    match f {
        None => "n/a".to_owned(),
        Some(f) => format!(
            "{:.3} + {:.3e} {unit}/principal · x (R² {:.3}) | {:.3e} · x^{:.2} (R² {:.3}) | {}",
            f.linear_a,
            f.linear_b,
            f.linear_r2,
            f.power_c,
            f.power_k,
            f.power_r2,
            f.better()
        ),
    }
}

/// The measurements per size and the fits per phase, as Markdown.
pub fn markdown(sizes: &[Size], series: &[Series]) -> String {
    let mut s = String::from(
        "| size | principals | phase | wall | peak RSS | HTTP calls | writes | 429s (% inner) |\n|---|---|---|---|---|---|---|---|\n",
    );
    for size in sizes {
        for r in &size.results {
            s.push_str(&format!(
                "| {} | {} | {} | {:.2} s | {} | {} | {} | {} ({:.2} %) |\n",
                size.scenario,
                size.principals,
                r.phase,
                r.wall_s,
                r.peak_rss_mib
                    .map(|m| format!("{m:.0} MiB"))
                    .unwrap_or_else(|| "n/a".into()),
                r.http_calls,
                r.writes,
                r.throttled,
                r.throttled_pct
            ));
        }
    }
    s.push_str("\n| phase | measure | linear fit a + b·x | power fit c·x^k | better fit |\n|---|---|---|---|---|\n");
    for x in series {
        s.push_str(&format!(
            "| {} | wall (s) | {} |\n",
            x.phase,
            fit_cell(x.wall_fit.as_ref(), "s")
        ));
        s.push_str(&format!(
            "| {} | peak RSS (MiB) | {} |\n",
            x.phase,
            fit_cell(x.rss_fit.as_ref(), "MiB")
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(phase: &str, wall_s: f64, rss: Option<f64>) -> PhaseResult {
        PhaseResult {
            scenario: "B4".into(),
            seed: 1,
            phase: phase.into(),
            wall_s,
            exit_code: 0,
            http_calls: 1,
            inner_requests: 1,
            resource_units: 1,
            writes: 0,
            throttled: 0,
            throttled_pct: 0.0,
            early_retries: 0,
            peak_in_flight: 1,
            peak_in_flight_tenant: 1,
            peak_rss_mib: rss,
            bound_s: 1.0,
            binding: "latency".into(),
            goal_s: 1.0,
            ratio: 1.0,
            model_inner: 1,
            model_http: 1,
            expected_writes: None,
        }
    }

    #[test]
    fn series_follow_the_sizes_and_fit_them() {
        let sizes: Vec<Size> = [(100u64, 1.0), (1000, 10.0), (10000, 100.0)]
            .iter()
            .map(|&(n, w)| Size {
                scenario: format!("B4@{n}"),
                principals: n,
                results: vec![
                    result("plan_cold", w, Some(w * 2.0)),
                    result("apply_scratch", w * 3.0, None),
                ],
            })
            .collect();
        let s = series(&sizes);
        assert_eq!(
            s.iter().map(|x| x.phase.as_str()).collect::<Vec<_>>(),
            ["plan_cold", "apply_scratch"]
        );
        assert_eq!(
            s[0].wall,
            vec![(100.0, 1.0), (1000.0, 10.0), (10000.0, 100.0)]
        );
        let f = s[0].wall_fit.expect("fits");
        assert!((f.power_k - 1.0).abs() < 1e-9);
        assert!(s[1].rss.is_empty() && s[1].rss_fit.is_none());
        let md = markdown(&sizes, &s);
        assert!(
            md.contains("| B4@100 | 100 | plan_cold | 1.00 s | 2 MiB |"),
            "{md}"
        );
        assert!(md.contains("| plan_cold | wall (s) |"), "{md}");
    }

    #[test]
    fn the_chart_is_an_svg_with_both_panels() {
        let sizes: Vec<Size> = [(100u64, 1.0), (1000, 3.0)]
            .iter()
            .map(|&(n, w)| Size {
                scenario: format!("B4@{n}"),
                principals: n,
                results: vec![result("plan_cold", w, Some(20.0 * w))],
            })
            .collect();
        let path = std::env::temp_dir().join(format!("growth-{}.svg", std::process::id()));
        chart::write(&path, "growth test", &series(&sizes)).expect("writes");
        let svg = std::fs::read_to_string(&path).expect("reads");
        let _ = std::fs::remove_file(&path);
        assert!(svg.starts_with("<svg"), "{}", &svg[..50.min(svg.len())]);
        for text in [
            "growth test",
            "wall time",
            "peak resident memory",
            "plan_cold",
        ] {
            assert!(svg.contains(text), "missing {text}");
        }
    }
}
