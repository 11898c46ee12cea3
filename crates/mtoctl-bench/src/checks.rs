//! The CI quick mode: B1 and a reduced B2 with a small latency and a fast time scale, and the
//! counts every run must meet (never timings): a plan's HTTP calls and inner requests within
//! the model's bound (so no request per principal), zero early retries, exactly the diff
//! written by an incremental apply.
//!
//! The HTTP calls of applies are compared with the model too, but as advisories: only
//! assignments go in `$batch` calls, and every other write is one HTTP call of its own, so
//! an apply's count differs from the model's, which the benchmark reports rather than CI
//! failing on it.

use crate::model;
use crate::runner::PhaseResult;
use crate::scenario::{self, Scenario};

/// Latency of the quick mode, milliseconds: none, so the emulator adds no service times
/// either (instantiate 2 s, …); the quick mode checks counts, not times.
pub const QUICK_LATENCY_MS: u64 = 0;
/// Time scale of the quick mode.
pub const QUICK_TIME_SCALE: f64 = 0.05;

/// B1 at full size and B2 reduced to 20 tenants × 50 principals each way.
pub fn quick_scenarios() -> Vec<Scenario> {
    let b1 = scenario::by_name("B1").unwrap_or_else(|| Scenario::reduced_hub(2, 250));
    vec![b1, Scenario::reduced_hub(20, 50)]
}

/// The allowance for a plan's HTTP calls: the model's count with batches packed per dependent
/// wave (`Counts::h_plan_waves`, what a converged world needs), plus a tenth.
pub fn plan_http_allowance(c: &model::Counts) -> u64 {
    c.h_plan_waves + c.h_plan_waves.div_ceil(10)
}

/// The allowance for a plan's inner requests: the model's count plus a tenth. A request per
/// principal (or per assignment) exceeds it as soon as scopes have more than a few dozen names.
pub fn plan_inner_allowance(c: &model::Counts) -> u64 {
    c.r_plan_waves + c.r_plan_waves.div_ceil(10)
}

/// What the checks found: failures (asserted) and advisories (reported).
#[derive(Debug, Default)]
pub struct Findings {
    /// Checks that failed, one sentence each naming the scenario and phase.
    pub failures: Vec<String>,
    /// Counts above the model that are reported, not asserted.
    pub advisories: Vec<String>,
}

/// Checks one scenario's phases.
pub fn check(sc: &Scenario, results: &[PhaseResult]) -> Findings {
    let c = model::counts(&sc.shape);
    let mut fails = Vec::new();
    let mut advisories = Vec::new();
    for r in results {
        let at = format!("{} {} (seed {})", r.scenario, r.phase, r.seed);
        if r.early_retries != 0 {
            fails.push(format!(
                "{at}: {} early retries (must be 0)",
                r.early_retries
            ));
        }
        match r.phase.as_str() {
            "plan_cold" | "plan_noop" | "plan_noop_fresh" => {
                if r.http_calls > plan_http_allowance(&c) {
                    fails.push(format!(
                        "{at}: {} HTTP calls, over the model's {} (+10 %)",
                        r.http_calls, c.h_plan_waves
                    ));
                }
                if r.inner_requests > plan_inner_allowance(&c) {
                    fails.push(format!(
                        "{at}: {} inner requests, over the model's {} (+10 %): a request per principal?",
                        r.inner_requests, c.r_plan_waves
                    ));
                }
            }
            "apply_scratch" if r.http_calls > c.h_apply + c.h_apply.div_ceil(4) + 2 * c.t => {
                advisories.push(format!(
                    "{at}: {} HTTP calls, over the model's {} (+25 %, + 2 per tenant)",
                    r.http_calls, c.h_apply
                ));
            }
            "apply_incremental" => {
                if let Some(w) = r.expected_writes
                    && r.writes != w
                {
                    fails.push(format!("{at}: {} writes, expected exactly {w}", r.writes));
                }
                if r.http_calls > r.model_http + r.model_http.div_ceil(4) + c.t {
                    advisories.push(format!(
                        "{at}: {} HTTP calls, over the model's {} (+25 %, + 1 per tenant)",
                        r.http_calls, r.model_http
                    ));
                }
            }
            _ => {}
        }
    }
    Findings {
        failures: fails,
        advisories,
    }
}
