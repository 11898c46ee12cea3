//! Summaries of measured phases: medians (and maxima) over seeds per scenario and phase, as
//! JSON and as a Markdown table. Pure: it formats what the runner measured.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::runner::PhaseResult;

/// Median and maximum over seeds of one scenario's phase.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Scenario name.
    pub scenario: String,
    /// Phase name.
    pub phase: String,
    /// Seeds measured.
    pub seeds: usize,
    /// Median wall time, seconds.
    pub wall_s: f64,
    /// Maximum wall time, seconds.
    pub wall_max_s: f64,
    /// Median HTTP calls.
    pub http_calls: f64,
    /// Median inner requests.
    pub inner_requests: f64,
    /// Median resource units.
    pub resource_units: f64,
    /// Median writes.
    pub writes: f64,
    /// Median 429s.
    pub throttled: f64,
    /// Median 429s as a percentage of inner requests.
    pub throttled_pct: f64,
    /// Largest number of early retries over the seeds (must be 0).
    pub early_retries_max: u64,
    /// Median peak in-flight requests (global).
    pub peak_in_flight: f64,
    /// Median peak in-flight requests for one tenant.
    pub peak_in_flight_tenant: f64,
    /// Largest peak RSS over the seeds, MiB.
    pub peak_rss_mib_max: Option<f64>,
    /// The model's bound, seconds.
    pub bound_s: f64,
    /// What binds it.
    pub binding: String,
    /// The goal, seconds.
    pub goal_s: f64,
    /// Median wall ÷ bound.
    pub ratio: f64,
    /// Whether the median wall time meets the goal.
    pub meets_goal: bool,
    /// The model's HTTP calls for this phase.
    pub model_http: u64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if !n.is_multiple_of(2) => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Groups results by (scenario, phase) in the order they first appear.
pub fn summarise(results: &[PhaseResult]) -> Vec<Summary> {
    let mut order: Vec<(String, String)> = Vec::new();
    let mut groups: BTreeMap<(String, String), Vec<&PhaseResult>> = BTreeMap::new();
    for r in results {
        let key = (r.scenario.clone(), r.phase.clone());
        if !groups.contains_key(&key) {
            order.push(key.clone());
        }
        groups.entry(key).or_default().push(r);
    }
    order
        .into_iter()
        .map(|key| {
            let g = &groups[&key];
            let m = |f: fn(&PhaseResult) -> f64| median(g.iter().map(|r| f(r)).collect());
            let wall = m(|r| r.wall_s);
            let first = g[0];
            Summary {
                scenario: key.0.clone(),
                phase: key.1.clone(),
                seeds: g.len(),
                wall_s: wall,
                wall_max_s: g.iter().map(|r| r.wall_s).fold(0.0, f64::max),
                http_calls: m(|r| r.http_calls as f64),
                inner_requests: m(|r| r.inner_requests as f64),
                resource_units: m(|r| r.resource_units as f64),
                writes: m(|r| r.writes as f64),
                throttled: m(|r| r.throttled as f64),
                throttled_pct: m(|r| r.throttled_pct),
                early_retries_max: g.iter().map(|r| r.early_retries).max().unwrap_or(0),
                peak_in_flight: m(|r| r.peak_in_flight as f64),
                peak_in_flight_tenant: m(|r| r.peak_in_flight_tenant as f64),
                peak_rss_mib_max: g.iter().filter_map(|r| r.peak_rss_mib).reduce(f64::max),
                bound_s: first.bound_s,
                binding: first.binding.clone(),
                goal_s: first.goal_s,
                ratio: m(|r| r.ratio),
                meets_goal: wall <= first.goal_s,
                model_http: first.model_http,
            }
        })
        .collect()
}

/// The Markdown table of summaries.
pub fn markdown(summaries: &[Summary]) -> String {
    let mut s = String::from(
        "| scenario | phase | seeds | wall (median / max) | bound (binding) | goal | ratio | HTTP (model) | inner | RU | writes | 429s (% inner) | early retries | peak in flight (tenant) | peak RSS |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for x in summaries {
        s.push_str(&format!(
            "| {} | {} | {} | {} / {} | {} ({}) | {} {} | {:.2} | {:.0} ({}) | {:.0} | {:.0} | {:.0} | {:.0} ({:.2} %) | {} | {:.0} ({:.0}) | {} |\n",
            x.scenario,
            x.phase,
            x.seeds,
            secs(x.wall_s),
            secs(x.wall_max_s),
            secs(x.bound_s),
            x.binding,
            secs(x.goal_s),
            if x.meets_goal { "✓" } else { "✗" },
            x.ratio,
            x.http_calls,
            x.model_http,
            x.inner_requests,
            x.resource_units,
            x.writes,
            x.throttled,
            x.throttled_pct,
            x.early_retries_max,
            x.peak_in_flight,
            x.peak_in_flight_tenant,
            x.peak_rss_mib_max
                .map(|m| format!("{m:.0} MiB"))
                .unwrap_or_else(|| "n/a".to_owned()),
        ));
    }
    s
}

/// The baseline client's phases beside mtoctl's of the same run: for each scenario with a
/// baseline, its apply from scratch and no-op plan against mtoctl's, and the ratio of the
/// median wall times (baseline ÷ mtoctl). Empty when no baseline ran.
pub fn peers_markdown(summaries: &[Summary]) -> String {
    let find = |sc: &str, phase: &str| {
        summaries
            .iter()
            .find(|x| x.scenario == sc && x.phase == phase)
    };
    let mut rows = String::new();
    let mut scenarios: Vec<&str> = Vec::new();
    for x in summaries {
        if !scenarios.contains(&x.scenario.as_str()) {
            scenarios.push(&x.scenario);
        }
    }
    for sc in scenarios {
        for (ours, theirs) in [
            ("apply_scratch", "baseline_apply_scratch"),
            ("plan_noop", "baseline_plan_noop"),
        ] {
            let (Some(m), Some(b)) = (find(sc, ours), find(sc, theirs)) else {
                continue;
            };
            rows.push_str(&format!(
                "| {sc} | {ours} | {} | {} / {} | {:.1}× | {:.0} / {:.0} | {:.0} / {:.0} | {:.0} ({:.2} %) | {} |\n",
                m.seeds.min(b.seeds),
                secs(m.wall_s),
                secs(b.wall_s),
                b.wall_s / m.wall_s.max(1e-9),
                m.http_calls,
                b.http_calls,
                m.writes,
                b.writes,
                b.throttled,
                b.throttled_pct,
                b.early_retries_max,
            ));
        }
    }
    if rows.is_empty() {
        return String::new();
    }
    format!(
        "| scenario | phase | seeds | wall mtoctl / baseline (medians) | baseline ÷ mtoctl | HTTP calls mtoctl / baseline | writes mtoctl / baseline | baseline 429s (% inner) | baseline early retries |\n|---|---|---|---|---|---|---|---|---|\n{rows}"
    )
}

fn secs(s: f64) -> String {
    if s < 100.0 {
        format!("{s:.2} s")
    } else {
        format!("{:.1} min", s / 60.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(scenario: &str, phase: &str, wall_s: f64, http: f64) -> Summary {
        Summary {
            scenario: scenario.into(),
            phase: phase.into(),
            seeds: 3,
            wall_s,
            wall_max_s: wall_s,
            http_calls: http,
            inner_requests: http,
            resource_units: http,
            writes: 0.0,
            throttled: 0.0,
            throttled_pct: 0.0,
            early_retries_max: 0,
            peak_in_flight: 1.0,
            peak_in_flight_tenant: 1.0,
            peak_rss_mib_max: None,
            bound_s: 1.0,
            binding: "latency".into(),
            goal_s: 1.0,
            ratio: 1.0,
            meets_goal: true,
            model_http: 1,
        }
    }

    #[test]
    fn peers_put_the_baseline_beside_mtoctl_with_the_ratio() {
        let s = vec![
            summary("B1", "apply_scratch", 8.0, 70.0),
            summary("B1", "plan_noop", 0.5, 10.0),
            summary("B1", "baseline_apply_scratch", 20.0, 1000.0),
            summary("B1", "baseline_plan_noop", 10.0, 1500.0),
            summary("B2", "apply_scratch", 60.0, 1000.0),
        ];
        let md = peers_markdown(&s);
        assert!(
            md.contains("| B1 | apply_scratch | 3 | 8.00 s / 20.00 s | 2.5× | 70 / 1000 |"),
            "{md}"
        );
        assert!(
            md.contains("| B1 | plan_noop | 3 | 0.50 s / 10.00 s | 20.0× |"),
            "{md}"
        );
        assert!(!md.contains("| B2 |"), "{md}");
        assert_eq!(peers_markdown(&s[4..]), "");
    }

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(vec![]), 0.0);
    }
}
