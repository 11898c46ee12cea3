//! Invariants every plan keeps (omicron's blippy, in small). The planner's tests run it on
//! every plan; the CLI and the executor can run it on a plan read from a file before trusting
//! it, since a saved plan is user-editable input.

use mtoctl_model::plan::{ActionId, ExpectedBefore, FORMAT_VERSION, ObjectRef, Plan};

/// Everything wrong with `plan`, one sentence each; empty for a well-formed plan.
pub fn lint(plan: &Plan) -> Vec<String> {
    let mut problems = Vec::new();
    if plan.format_version != FORMAT_VERSION {
        problems.push(format!(
            "plan format {} is not {FORMAT_VERSION}, the one this mtoctl reads",
            plan.format_version
        ));
    }
    for (i, a) in plan.actions.iter().enumerate() {
        if a.id != ActionId::at(i) {
            problems.push(format!(
                "action {} is at position {} (ids follow execution order)",
                a.id,
                i + 1
            ));
        }
        let earlier = |id: &ActionId| plan.index_of(id).is_some_and(|j| j < i);
        for dep in &a.depends_on {
            if !earlier(dep) {
                problems.push(format!(
                    "{} depends on {dep}, which does not come before it",
                    a.id
                ));
            }
        }
        for r in a.operation.refs() {
            if let ObjectRef::CreatedBy { action } = r
                && !earlier(action)
            {
                problems.push(format!(
                    "{} refers to the object of {action}, which does not come before it",
                    a.id
                ));
            }
        }
        if let ExpectedBefore::CreatedBy { action } | ExpectedBefore::ChangedBy { action } =
            &a.expected_before
            && !earlier(action)
        {
            problems.push(format!(
                "{} expects the result of {action}, which does not come before it",
                a.id
            ));
        }
        if a.destructive && a.impact.is_none() {
            problems.push(format!("{} is destructive but states no impact", a.id));
        }
    }
    for d in &plan.deferred {
        for w in &d.waits_for {
            if plan.index_of(w).is_none() {
                problems.push(format!(
                    "deferred work on {} waits for {w}, which is not in the plan",
                    d.addr
                ));
            }
        }
    }
    if plan.complete != plan.deferred.is_empty() {
        problems.push("`complete` must be true exactly when nothing is deferred".into());
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::ObservedStateBuilder;

    #[test]
    fn a_reordered_plan_is_caught() {
        let desired = crate::tests::example("quickstart");
        let mut plan =
            crate::plan(&desired, &ObservedStateBuilder::fresh(&desired).build()).expect("plans");
        assert!(lint(&plan).is_empty());
        plan.actions.swap(4, 5);
        let problems = lint(&plan);
        assert!(
            problems
                .iter()
                .any(|p| p.contains("does not come before it")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("ids follow execution order"))
        );
    }
}
