//! mtoctl-planner: from the desired state and the observed state, an ordered, reviewable plan.
//!
//! What it does: [`plan()`] diffs a validated [`DesiredState`] against an [`ObservedState`] per
//! object, with the normalisation that makes a converged world plan nothing; orders the
//! resulting actions by Graph's rules (a phase table plus explicit dependencies and a
//! deterministic topological sort, see [`order`]); flags destructive actions with their impact;
//! defers work that needs asynchronous Graph transitions to complete; and returns a [`Plan`]
//! that serialises to byte-identical JSON for identical inputs. [`render`] turns a plan into
//! Terraform-style text or a Markdown pull-request comment, reading only the plan. The spec's
//! digest is taken on a scoped thread of its own while the diff runs; nothing else is threaded.
//!
//! What it does not do: any I/O, async, clock or randomness; printing; knowing Graph URLs or
//! JSON (operations are domain-level, `mtoctl-graph` maps them to requests); deleting anything
//! the spec does not declare unless its `prune` list names the kind. [`destroy()`] is the other
//! entry: the plan that removes what the spec manages. See docs/ARCHITECTURE.md.

mod assemble;
mod destroy;
mod diff;
pub mod doctor;
pub mod estimate;
pub mod export;
pub mod lint;
pub mod order;
pub mod permissions;
pub mod render;
pub mod report;
pub mod status;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod trace;

#[cfg(test)]
mod tests;

use mtoctl_model::plan::Plan;
use mtoctl_model::{DesiredState, ObservedState};

pub use destroy::destroy;
pub use lint::lint;
pub use report::PlanError;

/// Computes the plan that takes `observed` to `desired`.
///
/// Pure and deterministic: the same inputs give the same plan, byte for byte once serialised.
/// Fails only when the observed state lacks a tenant of the spec (a partial read must never
/// look like absent objects) or when an internal invariant breaks (a bug).
pub fn plan(desired: &DesiredState, observed: &ObservedState) -> Result<Plan, PlanError> {
    let mut ctx = diff::Ctx::new(desired, observed)?;
    assemble::diff_beside_digest(&mut ctx, diff::run);
    assemble::assemble(ctx)
}
