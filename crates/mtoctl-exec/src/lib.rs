//! mtoctl-exec: carries a reviewed plan out against Microsoft Graph, making no decisions of
//! its own.
//!
//! - [`check_plan`] refuses what must not be applied: a plan of another mtoctl version or for
//!   another spec, a plan marked unsafe, destructive actions without `allow_destroy`.
//! - [`stale_objects`] re-reads the tenants and names every object the plan touches whose
//!   fingerprint changed since it was planned (the pre-flight staleness guard).
//! - [`apply`] runs the actions in dependency order, independent ones concurrently (the Graph
//!   client's per-tenant lanes bound each tenant's requests), skips the dependents of a
//!   failed action, waits (or not) for asynchronous Graph work, and reports everything.
//! - [`converge`] applies round after round while `--wait` lasts: the waits of one round end,
//!   the caller plans the work they unlocked, and the next round carries it out.
//!
//! Just before it writes, every action guarded by a fingerprint re-reads its object and
//! refuses if `mtoctl_model::plan::fingerprint` of what it reads differs from the plan's (waits,
//! which write nothing, and objects another action of the plan may change first, are not
//! re-checked); independent actions go on.
//!
//! Every operation finds before it creates on stable keys (partner tenant id, configuration
//! name, principal id) and treats Graph's "already exists" answers as success once verified,
//! so an apply interrupted at any point converges when run again, without duplicates. Creates
//! Graph would carry out twice are never re-sent after an answer that leaves open whether
//! they happened (`GraphClient::send_create`): the object is looked for first.

mod deps;
mod one;
mod ops;
mod preflight;
mod races;
pub mod report;
mod rounds;
mod run;
mod schedule;
#[cfg(test)]
mod tests;

use std::time::Duration;

pub use preflight::{ApplyError, check_plan, stale_objects};
pub use report::{
    ActionResult, ActionStatus, ApplyEvent, ApplyOutcome, ApplyReport, Created, Observer,
    RunActionId, RunReport, Silent, SkipReason, TenantActions,
};
pub use rounds::{MAX_ROUNDS, Replan, RoundsError, converge};
pub use run::apply;

/// How to apply.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Whether destructive actions may run.
    pub allow_destroy: bool,
    /// How long to wait for asynchronous Graph work; `None` checks once and moves on.
    pub wait: Option<Duration>,
    /// Most actions in flight at once across all tenants (a generous cap: each tenant is
    /// bounded by [`Self::per_tenant`] and the Graph client's lanes).
    pub concurrency: usize,
    /// Most actions in flight at once in one tenant, so that every tenant's actions progress
    /// side by side instead of one tenant's at a time in plan order.
    pub per_tenant: usize,
    /// The first delay between two polls of a wait (doubled each time, up to 30 s).
    pub first_poll: Duration,
    /// Apply a plan another mtoctl version computed (refused by default: what an operation
    /// means, and how it maps to Graph, may differ between versions).
    pub allow_version_skew: bool,
    /// Which round of a run this apply is (from 1), for the ids of its results and events.
    pub round: u32,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        Self {
            allow_destroy: false,
            allow_version_skew: false,
            round: 1,
            wait: None,
            // Not a Graph limit (Graph counts requests and writes, not calls in flight): room
            // for a mesh of twenty tenants' 380 `instantiate`s (seconds each) at once, which
            // 256 held back by a round of them (B3, docs/benchmarks.md).
            concurrency: 512,
            // Enough that a hub's slow writes (an `instantiate` takes seconds; 99
            // configurations of a hub of 100 tenants) overlap; the client's write lanes and
            // pacer bound what reaches Graph, and groups of assignments have their own cap.
            per_tenant: 128,
            // Short: a wait is often nearly over when it is first checked (the emulator's
            // joins, a job's first cycle), and the doubling soon spaces polls of a join that
            // takes hours on real Graph; the extra reads cost one resource unit each.
            first_poll: Duration::from_millis(500),
        }
    }
}
