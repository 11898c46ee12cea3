//! The request-count and lower-bound model of performance-model.md §6–§7, ported from
//! `perf_model.py`: for a scenario, how many inner requests and HTTP calls a plan needs, how
//! many writes an apply charges to each tenant, the critical path in round trips, and the
//! time no client can beat (latency, concurrency cap, write buckets).
//!
//! It does not measure anything; the runner compares measurements against it.

use serde::Serialize;

use crate::scenario::Shape;

/// Writes per (app, tenant) bucket: capacity 3,000, refill 20/s.
pub const W_CAP_AT: f64 = 3000.0;
/// Refill of the (app, tenant) write bucket, per second.
pub const W_RATE_AT: f64 = 3000.0 / 150.0;
/// Writes per app across all tenants: capacity 35,000, refill 116.7/s.
pub const W_CAP_APP: f64 = 35000.0;
/// Refill of the per-app write bucket, per second.
pub const W_RATE_APP: f64 = 35000.0 / 300.0;
/// `$top` maximum of the paged lists.
pub const PAGE: u64 = 999;
/// Values per `in` filter.
pub const IN: u64 = 15;
/// Inner requests per `$batch`.
pub const BATCH: u64 = 20;
/// The global in-flight HTTP cap the practical bound assumes (§7).
pub const C: f64 = 64.0;
/// Fixed allowance for process start and spec parsing in the goals (§7).
pub const OVERHEAD_S: f64 = 0.3;

/// One sync direction: source tenant index, target tenant index, principals in scope.
#[derive(Debug, Clone, Copy)]
pub struct Dir {
    /// Source tenant index.
    pub src: usize,
    /// Target tenant index.
    pub tgt: usize,
    /// Principals (users or groups) in scope: the assignments of this configuration.
    pub n: u64,
}

/// The model's counts for one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct Counts {
    /// Tenants.
    pub t: u64,
    /// Sync directions.
    pub s: u64,
    /// Principals to resolve.
    pub p: u64,
    /// App role assignments.
    pub a: u64,
    /// Inner read requests of a plan.
    pub r_plan: u64,
    /// HTTP calls of a plan (tokens included).
    pub h_plan: u64,
    /// Round trips on a plan's critical path.
    pub d_plan: u64,
    /// Writes of an apply from scratch.
    pub w: u64,
    /// Writes charged to the busiest tenant.
    pub w_max: u64,
    /// HTTP calls of an apply from scratch (its plan included).
    pub h_apply: u64,
    /// Round trips on an apply's critical path (its plan included).
    pub d_apply: u64,
    /// Seconds the (app, tenant) write bucket forces at time scale 1.
    pub tb_app_tenant_s: f64,
    /// Seconds the per-app write bucket forces at time scale 1 (one multi-tenant app only).
    pub tb_app_s: f64,
    /// Inner requests of a plan of a converged world as mtoctl's collect makes them: §6.2's
    /// reads with the identity sync policies expanded into the partner list (one request, not
    /// T − 1), plus each job's schema, which mtoctl manages and §6.2 does not count.
    pub r_plan_waves: u64,
    /// HTTP calls of that plan with batches packed per dependent wave (tokens; wave 1: the
    /// organization, templates, partners, configurations and name lookups; wave 2: jobs and
    /// assignments, which need the configurations' ids; wave 3: schemas, which need the jobs'
    /// ids; further assignment pages). §6.2's ⌈R_t/20⌉ packs waves together, which their
    /// dependencies do not allow, so it undercounts small tenants.
    pub h_plan_waves: u64,
}

/// The directions of a shape, with principals per source tenant.
pub fn directions(shape: &Shape) -> (usize, Vec<Dir>, Vec<u64>) {
    match *shape {
        Shape::Hub {
            tenants,
            per_spoke,
            per_hub,
        } => {
            let mut dirs: Vec<Dir> = (1..tenants)
                .map(|s| Dir {
                    src: s,
                    tgt: 0,
                    n: per_spoke,
                })
                .collect();
            dirs.extend((1..tenants).map(|t| Dir {
                src: 0,
                tgt: t,
                n: per_hub,
            }));
            let mut p = vec![per_spoke; tenants];
            p[0] = per_hub;
            (tenants, dirs, p)
        }
        Shape::Mesh {
            tenants,
            per_tenant,
        } => {
            let dirs = (0..tenants)
                .flat_map(|s| {
                    (0..tenants).filter(move |t| *t != s).map(move |t| Dir {
                        src: s,
                        tgt: t,
                        n: per_tenant,
                    })
                })
                .collect();
            (tenants, dirs, vec![per_tenant; tenants])
        }
    }
}

/// Counts for a shape (perf_model.py `scenario`).
pub fn counts(shape: &Shape) -> Counts {
    let (t, dirs, p_by) = directions(shape);
    let mut reads = vec![0u64; t];
    for (i, r) in reads.iter_mut().enumerate() {
        *r += if i == 0 { 2 } else { 1 };
        *r += 1 + (t as u64 - 1);
        *r += 1;
        *r += p_by[i].div_ceil(IN);
    }
    for d in &dirs {
        let pages = d.n.div_ceil(PAGE).max(1);
        reads[d.src] += 1 + pages;
    }
    let r_plan = reads.iter().sum();
    // mtoctl's waves per tenant (see `r_plan_waves`).
    let mut wave1 = vec![0u64; t];
    let mut wave2 = vec![0u64; t];
    let mut wave3 = vec![0u64; t];
    let mut pages = 0u64;
    for (i, w) in wave1.iter_mut().enumerate() {
        *w = 7 + p_by[i].div_ceil(IN);
    }
    for d in &dirs {
        wave2[d.src] += 2;
        wave3[d.src] += 1;
        pages += d.n.div_ceil(PAGE).max(1) - 1;
    }
    let r_plan_waves = wave1.iter().chain(&wave2).chain(&wave3).sum::<u64>() + pages;
    let h_plan_waves = t as u64
        + wave1
            .iter()
            .chain(&wave2)
            .chain(&wave3)
            .map(|w| w.div_ceil(BATCH))
            .sum::<u64>()
        + pages;
    let h_plan = t as u64 + reads.iter().map(|r| r.div_ceil(BATCH)).sum::<u64>();
    let a_max = dirs.iter().map(|d| d.n).max().unwrap_or(0);
    let d_plan = 2 + a_max.div_ceil(PAGE).max(1);
    let mut writes = vec![0u64; t];
    writes[0] += t as u64;
    for w in writes.iter_mut().skip(1) {
        *w += 1;
    }
    for w in writes.iter_mut() {
        *w += t as u64 - 1;
    }
    for d in &dirs {
        writes[d.tgt] += 1;
        writes[d.src] += 4 + d.n;
    }
    let w: u64 = writes.iter().sum();
    let w_max = writes.iter().copied().max().unwrap_or(0);
    let h_apply_writes: u64 = writes.iter().map(|w| w.div_ceil(BATCH)).sum();
    Counts {
        t: t as u64,
        s: dirs.len() as u64,
        p: p_by.iter().sum(),
        a: dirs.iter().map(|d| d.n).sum(),
        r_plan,
        h_plan,
        d_plan,
        w,
        w_max,
        h_apply: h_plan + h_apply_writes,
        d_apply: d_plan + 3,
        tb_app_tenant_s: ((w_max as f64 - W_CAP_AT) / W_RATE_AT).max(0.0),
        tb_app_s: ((w as f64 - W_CAP_APP) / W_RATE_APP).max(0.0),
        r_plan_waves,
        h_plan_waves,
    }
}

/// The settings a bound depends on.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct BoundSettings {
    /// Round-trip latency, seconds.
    pub latency_s: f64,
    /// The emulator's time scale (bucket windows shrink by this factor).
    pub time_scale: f64,
    /// Whether all tenants share one app registration (the per-app write bucket applies).
    pub shared_app: bool,
}

/// A lower bound and what binds it.
#[derive(Debug, Clone, Serialize)]
pub struct Bound {
    /// Seconds of wall time no client can beat.
    pub seconds: f64,
    /// The binding limit: `latency`, `concurrency`, `app+tenant writes` or `app writes`.
    pub binding: &'static str,
}

/// The plan bound: max(D·L, H·L/C) (the RU buckets never bind in §7's scenarios).
pub fn plan_bound(c: &Counts, s: BoundSettings) -> Bound {
    let lat = c.d_plan as f64 * s.latency_s;
    let conc = c.h_plan as f64 * s.latency_s / C;
    if lat >= conc {
        Bound {
            seconds: lat,
            binding: "latency",
        }
    } else {
        Bound {
            seconds: conc,
            binding: "concurrency",
        }
    }
}

/// The apply-from-scratch bound: max(D·L, H·L/C, write buckets × time scale).
pub fn apply_bound(c: &Counts, s: BoundSettings) -> Bound {
    let mut best = Bound {
        seconds: c.d_apply as f64 * s.latency_s,
        binding: "latency",
    };
    let mut consider = |seconds: f64, binding: &'static str| {
        if seconds > best.seconds {
            best = Bound { seconds, binding };
        }
    };
    consider(c.h_apply as f64 * s.latency_s / C, "concurrency");
    consider(c.tb_app_tenant_s * s.time_scale, "app+tenant writes");
    if s.shared_app {
        consider(c.tb_app_s * s.time_scale, "app writes");
    }
    best
}

/// The goal for a bound: 1.25 × bound + 0.3 s when latency-bound, 1.10 × bound when
/// throttle-bound (§7).
pub fn goal(b: &Bound) -> f64 {
    if b.binding.contains("writes") {
        1.10 * b.seconds
    } else {
        1.25 * b.seconds + OVERHEAD_S
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The numbers of performance-model.md §7's table (perf_model.py output).
    #[test]
    fn reproduces_the_goal_table() {
        let b1 = counts(&Shape::Mesh {
            tenants: 2,
            per_tenant: 250,
        });
        assert_eq!((b1.r_plan, b1.h_plan, b1.d_plan), (47, 6, 3));
        assert_eq!((b1.w, b1.w_max, b1.h_apply), (515, 258, 32));
        let b2 = counts(&Shape::Hub {
            tenants: 20,
            per_spoke: 500,
            per_hub: 500,
        });
        assert_eq!((b2.r_plan, b2.h_plan), (1197, 82));
        assert_eq!((b2.w, b2.w_max, b2.h_apply), (19609, 9634, 1077));
        let b3 = counts(&Shape::Mesh {
            tenants: 20,
            per_tenant: 500,
        });
        assert_eq!((b3.r_plan, b3.h_plan, b3.w), (1881, 120, 192319));
        let b4 = counts(&Shape::Hub {
            tenants: 100,
            per_spoke: 1000,
            per_hub: 1000,
        });
        assert_eq!((b4.r_plan, b4.h_plan, b4.d_plan), (17495, 1015, 4));
        assert_eq!((b4.w, b4.w_max, b4.h_apply), (209089, 99694, 11544));
        let s = BoundSettings {
            latency_s: 0.15,
            time_scale: 1.0,
            shared_app: true,
        };
        let ab = apply_bound(&b4, s);
        assert_eq!(ab.binding, "app+tenant writes");
        assert!((ab.seconds / 60.0 - 80.6).abs() < 0.1, "{}", ab.seconds);
        let ab3 = apply_bound(&b3, s);
        assert_eq!(ab3.binding, "app writes");
        assert!((ab3.seconds / 60.0 - 22.5).abs() < 0.1, "{}", ab3.seconds);
        // mtoctl's waves: B1 has 2 tokens and per tenant 2 + 1 + 1 batches (24, 2 and 1 reads).
        assert_eq!((b1.r_plan_waves, b1.h_plan_waves), (54, 10));
        let pb4 = plan_bound(&b4, s);
        assert!((pb4.seconds - 2.38).abs() < 0.01, "{}", pb4.seconds);
    }
}
