//! A run of rounds (`apply --wait`): apply a plan; when its waits have ended and it deferred
//! work, the caller plans that work and the next round applies it, until nothing is deferred,
//! something fails, the wait is over or [`MAX_ROUNDS`] rounds have run.

use std::sync::Arc;
use std::time::Instant;

use mtoctl_graph::transport::GraphClient;
use mtoctl_model::DesiredState;
use mtoctl_model::plan::Plan;

use crate::report::{ApplyEvent, ApplyOutcome, Observer, RunReport, TenantActions};
use crate::{ApplyError, ApplyOptions, check_plan};

/// Rounds one run makes at most: joins, then what they unlock, with room for retries.
pub const MAX_ROUNDS: u32 = 8;

/// What a run asks of its caller between rounds.
pub trait Replan {
    /// Why planning failed.
    type Error;

    /// Plans the work the waits of the last round of `run` unlocked, from Graph as it is now.
    fn next(&mut self, run: &RunReport) -> impl Future<Output = Result<Plan, Self::Error>>;
}

/// Why a run stopped before its rounds were over.
#[derive(Debug, thiserror::Error)]
pub enum RoundsError<E> {
    /// Planning the next round failed.
    #[error("cannot plan round {round}")]
    Plan {
        /// The round that was being planned.
        round: u32,
        /// Why.
        #[source]
        source: E,
    },
    /// The next round's plan may not be applied (it has errors, or destroys without leave).
    #[error("round {round}'s plan was not applied")]
    Refused {
        /// The refused round.
        round: u32,
        /// Why.
        #[source]
        source: ApplyError,
    },
}

/// Applies `first` and, while `options.wait` lasts and `max_rounds` allows, the rounds after
/// it. A saved plan is applied with `max_rounds` 1: its reviewer saw only that plan.
/// `first` must have passed [`check_plan`] (and the stale check); later rounds are checked
/// here.
pub async fn converge<R: Replan>(
    first: Plan,
    desired: &DesiredState,
    client: &GraphClient,
    options: &ApplyOptions,
    observer: Arc<dyn Observer>,
    max_rounds: u32,
    replan: &mut R,
) -> Result<RunReport, RoundsError<R::Error>> {
    let started = Instant::now();
    let mut run = RunReport::nothing(first.complete);
    let mut plan = first;
    let mut round = 1;
    loop {
        observer.event(&ApplyEvent::RoundStarted {
            round,
            tenants: per_tenant(&plan),
        });
        let remaining = options.wait.map(|w| w.saturating_sub(started.elapsed()));
        let this = ApplyOptions {
            wait: remaining,
            round,
            ..options.clone()
        };
        // The plan goes to the apply, which moves its names into the run's results: the plan
        // of the round before is not held while the next is made.
        let complete = plan.complete;
        let before = run.actions.len();
        let outcome =
            crate::run::apply_into(plan, client, &this, observer.clone(), &mut run.actions).await;
        let carry_on = outcome == ApplyOutcome::Applied
            && !complete
            && round < max_rounds.min(MAX_ROUNDS)
            && options.wait.is_some_and(|w| started.elapsed() < w);
        run.end_round(round, outcome, complete, run.actions.len() - before);
        if !carry_on {
            return Ok(run);
        }
        round += 1;
        observer.event(&ApplyEvent::Planning { round });
        let next = replan
            .next(&run)
            .await
            .map_err(|source| RoundsError::Plan { round, source })?;
        let remaining = options.wait.map(|w| w.saturating_sub(started.elapsed()));
        let check = ApplyOptions {
            wait: remaining,
            ..options.clone()
        };
        check_plan(&next, desired, &check)
            .map_err(|source| RoundsError::Refused { round, source })?;
        if !next.has_changes() {
            run.complete = next.complete;
            return Ok(run);
        }
        plan = next;
    }
}

/// Each tenant's actions, in the plan's tenant order, for progress.
fn per_tenant(plan: &Plan) -> Vec<TenantActions> {
    let mut counts = std::collections::BTreeMap::<&str, u64>::new();
    for a in &plan.actions {
        *counts.entry(a.tenant.as_str()).or_default() += 1;
    }
    plan.tenants
        .iter()
        .filter_map(|t| {
            let alias = t.alias.as_str();
            counts.get(alias).map(|n| TenantActions {
                alias: alias.to_owned(),
                actions: *n,
            })
        })
        .collect()
}
