//! The verdicts and their sentences on built observations, one per way a user can stand with a
//! sync direction, and the scoping filter's operators.

use std::collections::BTreeMap;

use mtoctl_model::ids::Alias;
use mtoctl_model::observed::FilterClauseObservation;

use super::filter::{all, any, clause};
use super::verdict::original_upn;
use super::*;
use crate::testing::ObservedStateBuilder;
use crate::tests::{example, spec};

const ALICE: &str = "alice@contoso.onmicrosoft.com";

fn source(observed: &ObservedState, upn: &str, department: &str) -> SourceUser {
    let id = observed.tenants[&Alias("contoso".into())]
        .principals
        .users_by_upn
        .get(upn)
        .map(|u| u.id.to_string())
        .unwrap_or_else(|| "00000000-0000-4000-8000-00000000f00d".into());
    SourceUser {
        tenant: Alias("contoso".into()),
        id,
        user_principal_name: upn.into(),
        display_name: None,
        user_type: Some("Member".into()),
        account_enabled: Some(true),
        attributes: BTreeMap::from([
            ("department".into(), Attribute::Text(department.into())),
            ("accountenabled".into(), Attribute::Bool(true)),
        ]),
    }
}

fn facts(member_of: Vec<String>, copies: Vec<TargetUser>) -> DirectionObservation {
    DirectionObservation {
        from: Alias("contoso".into()),
        to: Alias("fabrikam".into()),
        name: "MTO_Sync_3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11".into(),
        member_of,
        unchecked_groups: Vec::new(),
        events: Ok(Vec::new()),
        copies,
    }
}

fn copy(upn: &str) -> TargetUser {
    TargetUser {
        id: "t1".into(),
        user_principal_name: format!("{}#EXT#@fabrikam.onmicrosoft.com", upn.replace('@', "_")),
        user_type: Some("Member".into()),
        account_enabled: Some(true),
        show_in_address_list: Some(true),
        creation_type: Some("Invitation".into()),
        external_user_state: Some("Accepted".into()),
        identities: Vec::new(),
    }
}

fn trace(
    desired: &DesiredState,
    observed: &ObservedState,
    user: SourceUser,
    d: DirectionObservation,
) -> DirectionTrace {
    let report = explain(
        desired,
        observed,
        &TraceObservation {
            user_principal_name: user.user_principal_name.clone(),
            sources: vec![user],
            directions: vec![d],
        },
    );
    assert_eq!(report.directions.len(), 1, "{report:?}");
    report.directions.into_iter().next().expect("one")
}

/// The trace of `upn` of contoso in `department`, with what was read of the direction.
fn user_trace(
    desired: &DesiredState,
    observed: &ObservedState,
    upn: &str,
    department: &str,
    d: DirectionObservation,
) -> DirectionTrace {
    trace(desired, observed, source(observed, upn, department), d)
}

/// The id of contoso's assigned group `Contoso Sales`.
fn contoso_sales(observed: &ObservedState) -> String {
    observed.tenants[&Alias("contoso".into())]
        .principals
        .groups_by_name["Contoso Sales"][0]
        .id
        .to_string()
}

/// Alice of the quickstart, assigned directly, with her copy in the target.
fn alice_provisioned() -> DirectionTrace {
    let desired = example("quickstart");
    let observed = ObservedStateBuilder::converged(&desired).build();
    user_trace(
        &desired,
        &observed,
        ALICE,
        "Sales",
        facts(Vec::new(), vec![copy(ALICE)]),
    )
}

#[test]
fn an_assigned_user_with_a_copy_is_provisioned() {
    let t = alice_provisioned();
    assert_eq!(t.verdict, Verdict::Provisioned, "{t:?}");
    assert_eq!(t.summary, "in scope and provisioned");
    assert!(t.scope.direct);
    assert!(t.notes.is_empty(), "{:?}", t.notes);
}

#[test]
fn a_member_of_an_assigned_group_is_in_scope_through_it() {
    let desired = example("quickstart");
    let observed = ObservedStateBuilder::converged(&desired).build();
    let sales = contoso_sales(&observed);
    let t = user_trace(
        &desired,
        &observed,
        "erin@contoso.onmicrosoft.com",
        "Sales",
        facts(vec![sales.to_uppercase()], Vec::new()),
    );
    assert!(!t.scope.direct);
    assert_eq!(t.scope.groups, ["Contoso Sales"]);
    assert_eq!(t.verdict, Verdict::NotProvisioned, "{t:?}");
    assert!(t.summary.contains("next cycle"), "{}", t.summary);
}

#[test]
fn a_user_neither_assigned_nor_in_an_assigned_group_is_not_assigned() {
    let desired = example("quickstart");
    let observed = ObservedStateBuilder::converged(&desired).build();
    let frank = "frank@contoso.onmicrosoft.com";
    let t = user_trace(
        &desired,
        &observed,
        frank,
        "Marketing",
        facts(Vec::new(), Vec::new()),
    );
    assert_eq!(t.verdict, Verdict::NotAssigned);
    assert!(
        t.summary
            .starts_with("not assigned: add frank@contoso.onmicrosoft.com or one of their groups to the sync's scope"),
        "{}",
        t.summary
    );
    // With a copy left from earlier, the next cycle removes it.
    let t = user_trace(
        &desired,
        &observed,
        frank,
        "Marketing",
        facts(Vec::new(), vec![copy(frank)]),
    );
    assert!(
        t.notes.iter().any(|n| n.contains("soft-deletes it")),
        "{:?}",
        t.notes
    );
}

#[test]
fn a_group_too_large_to_check_leaves_the_assignment_unknown() {
    let desired = example("quickstart");
    let observed = ObservedStateBuilder::converged(&desired).build();
    let sales = contoso_sales(&observed);
    let mut d = facts(Vec::new(), Vec::new());
    d.unchecked_groups = vec![sales];
    let t = user_trace(
        &desired,
        &observed,
        "frank@contoso.onmicrosoft.com",
        "Sales",
        d,
    );
    assert_eq!(t.verdict, Verdict::Unknown);
    assert!(t.summary.contains("`Contoso Sales` has too many members"));
}

const FILTERED: &str = r#"
apiVersion: mtoctl/v1alpha1
kind: MultiTenantOrganization
organization: {displayName: Contoso Group}
tenants:
  - {alias: contoso, tenantId: 6babcaad-604b-40ac-a9d7-9fd97c0b779f, displayName: Contoso, role: owner,
     auth: {clientId: 0d3f3c4e-5b7a-4c1e-9a8b-1c2d3e4f5a6b, clientSecret: {fromEnv: A}}}
  - {alias: fabrikam, tenantId: 3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11, displayName: Fabrikam, role: member,
     auth: {clientId: 7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d, clientSecret: {fromEnv: B}}}
collaboration:
  allPairs:
    allowUsersSyncInbound: true
    automaticUserConsent: {inbound: true, outbound: true}
sync:
  - from: contoso
    to: fabrikam
    scope:
      users: [alice@contoso.onmicrosoft.com, frank@contoso.onmicrosoft.com]
      filter:
        anyOf:
          - name: Sales staff
            allOf:
              - {attribute: department, operator: equals, values: [Sales]}
              - {attribute: accountEnabled, operator: isTrue}
"#;

#[test]
fn the_scoping_filter_names_the_clause_that_does_not_match() {
    let desired = spec(FILTERED.as_bytes());
    let observed = ObservedStateBuilder::converged(&desired).build();
    let frank = "frank@contoso.onmicrosoft.com";
    let t = user_trace(
        &desired,
        &observed,
        frank,
        "Marketing",
        facts(Vec::new(), Vec::new()),
    );
    assert_eq!(t.verdict, Verdict::OutOfScope, "{t:?}");
    assert_eq!(
        t.summary,
        "out of scope: the scoping filter's clause department EQUALS Sales does not match (department is Marketing)"
    );
    let filter = t.scope.filter.expect("a filter");
    assert_eq!(filter.matches, Some(false));
    assert_eq!(
        filter.groups[0].clauses[0].value.as_deref(),
        Some("Marketing")
    );
    assert_eq!(filter.groups[0].clauses[1].matches, Some(true));

    // Sales passes; sales does not, and the summary says why.
    let t = user_trace(
        &desired,
        &observed,
        frank,
        "Sales",
        facts(Vec::new(), vec![copy(frank)]),
    );
    assert_eq!(t.verdict, Verdict::Provisioned, "{t:?}");
    let t = user_trace(
        &desired,
        &observed,
        frank,
        "sales",
        facts(Vec::new(), Vec::new()),
    );
    assert!(
        t.summary.contains("EQUALS compares case-sensitively"),
        "{}",
        t.summary
    );
}

#[test]
fn clauses_follow_the_documented_operators() {
    let c = |op: &str, values: &[&str]| FilterClauseObservation {
        attribute: "x".into(),
        operator: op.into(),
        values: values.iter().map(|v| (*v).to_owned()).collect(),
    };
    let text = |s: &str| Attribute::Text(s.into());
    let m = |op, values: &[&str], v: Option<&Attribute>| clause(&c(op, values), v).matches;
    assert_eq!(m("EQUALS", &["A", "B"], Some(&text("B"))), Some(true));
    assert_eq!(m("EQUALS", &["A"], Some(&text("a"))), Some(false));
    assert_eq!(m("NOT_EQUALS", &["A"], Some(&text("a"))), Some(true));
    assert_eq!(m("NOT_EQUALS", &["A"], Some(&Attribute::Null)), Some(true));
    assert_eq!(
        m("EQUALS", &["True"], Some(&Attribute::Bool(true))),
        Some(true)
    );
    assert_eq!(m("IS_TRUE", &[], Some(&Attribute::Bool(true))), Some(true));
    assert_eq!(
        m("IS_FALSE", &[], Some(&Attribute::Bool(true))),
        Some(false)
    );
    assert_eq!(m("IS_FALSE", &[], Some(&Attribute::Null)), Some(false));
    assert_eq!(m("IS_NULL", &[], Some(&text(""))), Some(true));
    assert_eq!(m("IS_NOT_NULL", &[], Some(&Attribute::Null)), Some(false));
    let n = |s: &str| Attribute::Number(s.into());
    assert_eq!(m("GREATER_THAN", &["10"], Some(&n("11"))), Some(true));
    assert_eq!(
        m("LESS_THAN_OR_EQUALS", &["10"], Some(&text("10"))),
        Some(true)
    );
    assert_eq!(
        m("GREATER_THAN", &["10"], Some(&Attribute::Null)),
        Some(false)
    );
    assert_eq!(m("GREATER_THAN", &["10"], Some(&text("ten"))), None);
    assert_eq!(m("REGEX_MATCH", &["^S"], Some(&text("Sales"))), None);
    assert_eq!(m("SOMETHING_NEW", &["a"], Some(&text("a"))), None);
    // Not read: cannot tell.
    assert_eq!(m("EQUALS", &["a"], None), None);
    // Groups are OR-ed, clauses AND-ed, with unknowns in between.
    assert_eq!(all([Some(true), None].into_iter()), None);
    assert_eq!(all([None, Some(false)].into_iter()), Some(false));
    assert_eq!(any([Some(false), None].into_iter()), None);
    assert_eq!(any([None, Some(true)].into_iter()), Some(true));
}

#[test]
fn a_failed_latest_event_is_the_verdict_with_its_reason() {
    let desired = example("quickstart");
    let observed = ObservedStateBuilder::converged(&desired).build();
    let mut d = facts(Vec::new(), Vec::new());
    d.events = Ok(vec![
        ProvisioningEvent {
            at: Some("2026-01-02T00:00:00Z".into()),
            action: Some("create".into()),
            status: Some("failure".into()),
            reason: Some("A user with this UPN already exists".into()),
            failing_step: None,
            target_id: None,
        },
        ProvisioningEvent {
            at: Some("2026-01-01T00:00:00Z".into()),
            action: Some("create".into()),
            status: Some("failure".into()),
            reason: Some("older".into()),
            failing_step: None,
            target_id: None,
        },
    ]);
    let t = user_trace(&desired, &observed, ALICE, "Sales", d);
    assert_eq!(t.verdict, Verdict::Failed);
    assert_eq!(
        t.summary,
        "provisioning failed: A user with this UPN already exists"
    );
    assert_eq!(t.events.len(), 2);
}

#[test]
fn guests_missing_configurations_and_quarantines_are_named() {
    let desired = example("quickstart");
    let converged = ObservedStateBuilder::converged(&desired).build();
    let mut guest = source(&converged, ALICE, "Sales");
    guest.user_type = Some("Guest".into());
    let t = trace(&desired, &converged, guest, facts(Vec::new(), Vec::new()));
    assert_eq!(t.verdict, Verdict::OutOfScope);
    assert!(t.summary.contains("is a Guest in contoso"), "{}", t.summary);

    let fresh = ObservedStateBuilder::fresh(&desired).build();
    let t = trace(
        &desired,
        &fresh,
        source(&fresh, ALICE, "Sales"),
        facts(Vec::new(), Vec::new()),
    );
    assert_eq!(t.verdict, Verdict::NotConfigured);
    assert!(t.summary.contains("run `mtoctl apply`"));

    let quarantined = ObservedStateBuilder::converged(&desired)
        .with(|b| {
            let c = b.sync_mut("contoso", "MTO_Sync_3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11");
            let job = &mut c.details.as_mut().expect("details").jobs[0];
            job.status_code = Some("Quarantine".into());
            job.quarantine_reason = Some("EncounteredQuarantineException".into());
        })
        .build();
    let mut disabled = source(&quarantined, ALICE, "Sales");
    disabled.account_enabled = Some(false);
    let t = trace(
        &desired,
        &quarantined,
        disabled,
        facts(Vec::new(), Vec::new()),
    );
    assert_eq!(t.verdict, Verdict::Failed);
    assert!(t.summary.contains("quarantine"), "{}", t.summary);
    assert!(t.notes.iter().any(|n| n.contains("disabled in contoso")));
}

#[test]
fn a_copy_synced_in_points_at_the_original() {
    assert_eq!(
        original_upn("alice_contoso.com#EXT#@fabrikam.com").as_deref(),
        Some("alice@contoso.com")
    );
    assert_eq!(
        original_upn("a_b_contoso.com#ext#@fabrikam.com").as_deref(),
        Some("a_b@contoso.com")
    );
    assert_eq!(original_upn("alice@contoso.com"), None);
}

#[test]
fn the_report_is_snake_case_json() {
    let t = alice_provisioned();
    let v = serde_json::to_value(&t).expect("json");
    assert_eq!(v["verdict"], "provisioned");
    assert_eq!(v["target"]["show_in_address_list"], true);
    assert!(v["source"].get("attributes").is_none());
}
