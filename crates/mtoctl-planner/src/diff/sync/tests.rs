//! Whether setting a scoping filter on an existing job is destructive, on built observations.

use crate::testing::ObservedStateBuilder;
use crate::tests::{example, plan};
use mtoctl_model::plan::Operation;

/// hq's sync into finance has a scoping filter; its job is observed without one (as a
/// job is before mtoctl writes its schema) and in the given schedule state.
fn schema_action_destructive(schedule_state: &str) -> bool {
    let desired = example("hub-and-spoke");
    let name = "MTO_Sync_11111111-aaaa-4aaa-8aaa-000000000005";
    let observed = ObservedStateBuilder::converged(&desired)
        .with(|b| {
            let job = &mut b
                .sync_mut("hq", name)
                .details
                .as_mut()
                .expect("details")
                .jobs[0];
            job.scoping_filter.clear();
            job.schedule_state = Some(schedule_state.into());
        })
        .build();
    let p = plan(&desired, &observed);
    p.actions
        .iter()
        .find(|a| matches!(a.operation, Operation::UpdateSchema { .. }))
        .unwrap_or_else(|| panic!("a schema update: {:#?}", p.actions))
        .destructive
}

#[test]
fn a_new_filter_on_a_job_that_never_ran_is_not_destructive() {
    assert!(!schema_action_destructive("Disabled"));
    assert!(schema_action_destructive("Paused"));
}
