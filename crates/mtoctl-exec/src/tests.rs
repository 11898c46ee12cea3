//! Unit tests of the preflight check and the dependency tables.

use std::collections::BTreeMap;

use mtoctl_model::observed::Fingerprint;
use mtoctl_model::plan::{ActionId, Plan, ResourceAddr};

use crate::deps;
use crate::preflight::compare;

#[test]
fn staleness_compares_touched_addresses_only() {
    let plan_json = serde_json::json!({
        "format_version": "1.0", "mtoctl_version": "0", "spec_digest": "sha256:x",
        "tenants": [], "deferred": [], "notes": [], "complete": true, "applyable": true,
        "errored": false,
        "summary": {"create": 0, "update": 1, "delete": 0, "replace": 0, "wait": 0, "check": 0, "no_op": 0},
        "observed": {"a": "sha256:1", "b": "sha256:2"},
        "actions": [{
            "id": "a001", "addr": "a", "tenant": "t", "kind": "update",
            "operation": {"op": "reset_join"}, "depends_on": [],
            "expected_before": {"state": "fingerprint", "fingerprint": "sha256:1"},
            "destructive": false, "impact": null, "reason": "drift", "summary": "s",
            "changes": [], "async_wait": null, "required_permissions": []
        }, {
            "id": "a002", "addr": "c", "tenant": "t", "kind": "create",
            "operation": {"op": "reset_join"}, "depends_on": [],
            "expected_before": {"state": "absent"},
            "destructive": false, "impact": null, "reason": "missing", "summary": "s",
            "changes": [], "async_wait": null, "required_permissions": []
        }]
    });
    let plan: Plan = serde_json::from_value(plan_json).expect("plan");
    let fp = |s: &str| Fingerprint(s.to_owned());
    let addr = |s: &str| ResourceAddr(s.to_owned());
    let same: BTreeMap<_, _> = [(addr("a"), fp("sha256:1")), (addr("b"), fp("sha256:9"))].into();
    assert!(compare(&plan, &same).is_empty(), "b is not touched");
    let changed: BTreeMap<_, _> = [(addr("a"), fp("sha256:3"))].into();
    assert_eq!(compare(&plan, &changed), vec![addr("a")]);
    let appeared: BTreeMap<_, _> =
        [(addr("a"), fp("sha256:1")), (addr("c"), fp("sha256:4"))].into();
    assert_eq!(compare(&plan, &appeared), vec![addr("c")]);
}

fn action(id: &str, addr: &str, depends_on: &[&str], wait: bool) -> serde_json::Value {
    serde_json::json!({
        "id": id, "addr": addr, "tenant": "t", "kind": if wait { "wait" } else { "update" },
        "operation": {"op": "reset_join"}, "depends_on": depends_on,
        "expected_before": {"state": "fingerprint", "fingerprint": format!("sha256:{id}")},
        "destructive": false, "impact": null, "reason": "drift", "summary": "s",
        "changes": [], "required_permissions": [],
        "async_wait": if wait { serde_json::json!({"until": "join_active", "timeout_seconds": 60}) } else { serde_json::Value::Null }
    })
}

fn plan_of(actions: Vec<serde_json::Value>) -> Plan {
    serde_json::from_value(serde_json::json!({
            "format_version": "1.0", "mtoctl_version": "0", "spec_digest": "sha256:x",
            "tenants": [], "deferred": [], "notes": [], "complete": true, "applyable": true,
            "errored": false,
            "summary": {"create": 0, "update": 0, "delete": 0, "replace": 0, "wait": 0, "check": 0, "no_op": 0},
            "observed": {}, "actions": actions
        }))
        .expect("plan")
}

#[test]
fn a_precondition_is_rechecked_unless_another_action_may_change_the_object_first() {
    let partner = "tenant.a.partner[\"b\"]";
    let sync = "tenant.a.partner[\"b\"].identity_sync";
    let checkable = |plan: &Plan, id: &str| {
        deps::Deps::of(plan)
            .checkable_precondition(
                plan.action(&ActionId::parse(id).expect("id"))
                    .expect("action"),
            )
            .is_some()
    };
    // Independent: the identity sync write may land first and changes the partner's
    // fingerprint (it includes the policy); the partner write does not change the policy's.
    let plan = plan_of(vec![
        action("a001", partner, &[], false),
        action("a002", sync, &[], false),
    ]);
    assert!(!checkable(&plan, "a001"));
    assert!(checkable(&plan, "a002"));
    // Ordered after the partner write, the policy write cannot race it.
    let plan = plan_of(vec![
        action("a001", partner, &[], false),
        action("a002", sync, &["a001"], false),
    ]);
    assert!(checkable(&plan, "a001"));
    // A wait writes nothing: it is not re-checked.
    let plan = plan_of(vec![action("a001", "tenant.a.join_request", &[], true)]);
    assert!(!checkable(&plan, "a001"));
}

#[test]
fn only_actions_another_refers_to_keep_what_they_created() {
    let with_op = |id: &str, op: serde_json::Value, depends_on: &[&str]| {
        let mut a = action(id, &format!("x.{id}"), depends_on, false);
        a["operation"] = op;
        a
    };
    let configuration = serde_json::json!({"ref": "created_by", "action": "a001"});
    let role = serde_json::json!({"ref": "existing", "id": "r"});
    let assign = serde_json::json!({
        "op": "assign_principal", "configuration": configuration, "app_role": role,
        "principal_id": "00000000-0000-4000-8000-000000000001", "kind": "user"
    });
    let plan = plan_of(vec![
        with_op(
            "a001",
            serde_json::json!({"op": "instantiate_sync_configuration", "display_name": "c"}),
            &[],
        ),
        with_op("a002", assign.clone(), &["a001"]),
        with_op("a003", assign, &["a001"]),
    ]);
    assert_eq!(deps::Deps::of(&plan).referenced, [true, false, false]);
}

#[test]
fn dependents_and_in_plan_dependencies_follow_the_plan_and_ignore_outsiders() {
    let mut a4 = action("a004", "x", &["a002", "a003"], false);
    // A dependency on an id that is not in the plan (a hand-edited plan) holds nothing up.
    a4["depends_on"] = serde_json::json!(["a002", "a003", "a009"]);
    let plan = plan_of(vec![
        action("a001", "x", &[], false),
        action("a002", "y", &["a001"], false),
        action("a003", "x", &["a001"], false),
        a4,
    ]);
    let deps = deps::Deps::of(&plan);
    let of = |i: usize| deps.dependents(i).collect::<Vec<_>>();
    assert_eq!(of(0), [1, 2]);
    assert_eq!(of(1), [3]);
    assert_eq!(of(2), [3]);
    assert!(of(3).is_empty());
    assert_eq!(deps.in_plan_deps, [0, 1, 1, 2]);
    assert_eq!(plan.index_of(&ActionId::at(3)), Some(3));
    assert_eq!(plan.index_of(&ActionId::at(8)), None);
}

#[test]
fn run_action_ids_name_the_round_after_the_first_and_read_back() {
    use crate::RunActionId;
    let a = |round, i| RunActionId {
        round,
        action: ActionId::at(i),
    };
    for (id, text) in [
        (a(1, 0), "a001"),
        (a(2, 0), "r2.a001"),
        (a(12, 999), "r12.a1000"),
    ] {
        assert_eq!(id.to_string(), text);
        assert_eq!(RunActionId::parse(text), Some(id));
    }
    // One way to write each id: the first round has no prefix.
    for text in ["r1.a001", "r0.a001", "r2a001", "r2.", "r02.a001"] {
        assert_eq!(RunActionId::parse(text), None, "{text}");
    }
}

#[test]
fn a_run_report_keeps_every_round_and_ends_as_its_last() {
    use crate::RunActionId;
    use crate::report::{ActionResult, ActionStatus, ApplyOutcome, ApplyReport, RunReport};
    let round = |n: u32, outcome, actions: usize| ApplyReport {
        round: n,
        outcome,
        actions: (0..actions)
            .map(|i| ActionResult {
                id: RunActionId {
                    round: n,
                    action: ActionId::at(i),
                },
                round: n,
                addr: ResourceAddr(format!("x{i}")),
                tenant: "t".into(),
                summary: "s".into(),
                status: ActionStatus::Ok {
                    created: Default::default(),
                },
            })
            .collect(),
    };
    let mut run = RunReport::nothing(false);
    run.push(round(1, ApplyOutcome::Applied, 3), false);
    assert!(!run.complete);
    run.push(round(2, ApplyOutcome::Applied, 2), true);
    assert!(run.complete);
    assert_eq!(run.actions.len(), 5);
    assert_eq!(
        run.rounds.iter().map(|r| r.actions).collect::<Vec<_>>(),
        [3, 2]
    );
    run.push(round(3, ApplyOutcome::Failed, 1), true);
    assert_eq!(run.outcome, ApplyOutcome::Failed);
    assert!(!run.complete);
    assert!(run.text().to_string().contains("Apply in 3 rounds: 6 done"));
}
