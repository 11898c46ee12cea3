//! Planner tests: scenarios built with [`crate::testing::ObservedStateBuilder`], golden
//! renderings, and property tests.

mod destroy;
mod doctor;
mod golden;
mod group_sync;
mod mappings;
mod props;
mod scenarios;
mod status;

use std::path::PathBuf;

use mtoctl_model::DesiredState;
use mtoctl_model::ObservedState;

use mtoctl_model::plan::Plan;

/// The desired state of an example spec (`examples/<name>/mto.yaml`).
pub(crate) fn example(name: &str) -> DesiredState {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
        .join("mto.yaml");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    spec(&bytes)
}

/// The desired state of spec text.
pub(crate) fn spec(bytes: &[u8]) -> DesiredState {
    match mtoctl_model::spec::load("test.yaml", bytes) {
        Ok(valid) => valid.desired,
        Err(diags) => panic!("spec does not validate: {diags:?}"),
    }
}

/// Plans and checks the plan's structural invariants (the planner's lint).
#[track_caller]
pub(crate) fn plan(desired: &DesiredState, observed: &ObservedState) -> Plan {
    let plan = crate::plan(desired, observed).expect("plans");
    lint(&plan);
    fingerprints_agree(desired, observed, &plan);
    plan
}

/// Asserts that every fingerprint the plan records is the one `fingerprint::all` gives the
/// same address: what the stale check of a saved plan compares it with; and that its spec
/// digest (taken beside the diff) is the spec's.
#[track_caller]
pub(crate) fn fingerprints_agree(desired: &DesiredState, observed: &ObservedState, plan: &Plan) {
    assert_eq!(
        plan.spec_digest,
        mtoctl_model::observed::Fingerprint::of(desired)
    );
    let all = mtoctl_model::plan::fingerprint::all(desired, observed);
    for (addr, fingerprint) in &plan.observed {
        assert_eq!(all.get(addr), Some(fingerprint), "{addr}");
    }
}

/// Asserts that the plan keeps the invariants of [`crate::lint`].
#[track_caller]
pub(crate) fn lint(plan: &Plan) {
    let problems = crate::lint(plan);
    assert!(problems.is_empty(), "{problems:#?}");
}

/// The plan's JSON.
pub(crate) fn json(plan: &Plan) -> String {
    serde_json::to_string_pretty(plan).expect("serialises")
}
