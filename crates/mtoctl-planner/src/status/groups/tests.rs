//! The per-group verdicts on built observations: a copy with the right members, one missing
//! before and after a cycle had its chance, several of a name, members that differ, and what
//! a truncated list keeps from being judged.

use mtoctl_model::desired::{FilterClauseSpec, FilterGroupSpec};
use mtoctl_model::health::{
    Coverage, CycleSummary, GroupMember, ProvisionedUser, SourceUser, TargetGroup,
};
use mtoctl_model::spec::document::FilterOperator;

use super::*;
use crate::status::{Health, assess};
use crate::testing::ObservedStateBuilder;
use crate::tests::example;

const ASSIGNED: &str = "2026-03-01T10:00:00Z";

fn member(local: &str) -> SourceUser {
    SourceUser {
        id: format!("id-{local}"),
        user_principal_name: format!("{local}@contoso.onmicrosoft.com"),
        user_type: Some("Member".into()),
        account_enabled: Some(true),
        ..SourceUser::default()
    }
}

fn guest(local: &str) -> SourceUser {
    SourceUser {
        user_type: Some("Guest".into()),
        ..member(local)
    }
}

/// The copy of `local@contoso…` in fabrikam, as a member of a target group.
fn copy_member(local: &str) -> GroupMember {
    GroupMember {
        id: format!("copy-{local}"),
        user_principal_name: Some(format!(
            "{local}_contoso.onmicrosoft.com#EXT#@fabrikam.onmicrosoft.com"
        )),
        other_kind: None,
    }
}

/// The copy of `local@contoso…` in fabrikam, as health finds copies.
fn copy(local: &str) -> ProvisionedUser {
    ProvisionedUser {
        source: format!("{local}@contoso.onmicrosoft.com"),
        id: Some(format!("copy-{local}")),
        user_principal_name: format!(
            "{local}_contoso.onmicrosoft.com#EXT#@fabrikam.onmicrosoft.com"
        ),
        ..ProvisionedUser::default()
    }
}

fn target(id: &str, members: Vec<GroupMember>) -> TargetGroup {
    TargetGroup {
        id: id.into(),
        display_name: "Contoso Sales".into(),
        members,
        members_truncated: false,
    }
}

fn group(members: Vec<SourceUser>, targets: Vec<TargetGroup>) -> GroupHealthObservation {
    GroupHealthObservation {
        source_id: "sales-id".into(),
        display_name: "Contoso Sales".into(),
        assigned: Some(ASSIGNED.into()),
        members,
        members_truncated: false,
        targets,
        copies: Vec::new(),
    }
}

/// A job whose last cycle began at `began`, counting groups when `groups`.
fn job(began: &str, groups: bool) -> JobHealth {
    JobHealth {
        status_code: Some("Active".into()),
        last_cycle: Some(CycleSummary {
            state: Some("Succeeded".into()),
            began: Some(began.into()),
            ended: Some(began.into()),
            ..CycleSummary::default()
        }),
        synchronized_groups: groups.then_some(1),
        ..JobHealth::default()
    }
}

fn read(job: JobHealth, groups: Vec<GroupHealthObservation>) -> SyncHealthObservation {
    SyncHealthObservation {
        from: mtoctl_model::ids::Alias("contoso".into()),
        to: mtoctl_model::ids::Alias("fabrikam".into()),
        job,
        coverage: Coverage::Sample,
        users: Vec::new(),
        truncated: false,
        provisioned: Vec::new(),
        on_demand: Vec::new(),
        groups,
    }
}

fn one(sync: &SyncSpec, job: JobHealth, g: GroupHealthObservation) -> GroupVerdict {
    let judged = judge_groups(sync, &read(job, vec![g]));
    // A finding for exactly the groups that are not healthy.
    assert_eq!(
        judged.findings.len(),
        judged
            .groups
            .iter()
            .filter(|g| g.health != Health::Healthy)
            .count()
    );
    judged.groups.into_iter().next().expect("one group")
}

#[test]
fn a_copy_with_the_members_in_scope_is_provisioned_and_guests_are_not_expected() {
    let desired = example("quickstart");
    let g = group(
        vec![member("alice"), member("erin"), guest("gus")],
        vec![target(
            "t1",
            vec![copy_member("alice"), copy_member("erin")],
        )],
    );
    let v = one(&desired.syncs[0], job("2026-03-02T00:00:00Z", true), g);
    assert_eq!(v.verdict, GroupState::Provisioned);
    assert_eq!(v.health, Health::Healthy);
    assert_eq!((v.members, v.expected_members), (2, 2));
    assert_eq!(v.target_id.as_deref(), Some("t1"));
    assert!(v.consequence.is_none() && v.fix.is_none());
}

#[test]
fn a_missing_copy_waits_until_a_cycle_that_syncs_groups_began_after_the_assignment() {
    let desired = example("quickstart");
    let sync = &desired.syncs[0];
    let missing = || group(vec![member("alice")], Vec::new());
    // The last cycle began before the group was assigned.
    let v = one(sync, job("2026-03-01T09:59:59.9Z", true), missing());
    assert_eq!(
        (v.verdict, v.health),
        (GroupState::Missing, Health::Waiting)
    );
    assert!(v.fix.as_deref().unwrap().contains("next sync cycle"));
    // After it, but the job has not synchronized groups (its group mapping was perhaps enabled
    // since): no evidence the cycle had its chance.
    let v = one(sync, job("2026-03-01T10:00:00.5Z", false), missing());
    assert_eq!(v.health, Health::Waiting);
    // After it, by a job that synchronizes groups: it will not appear by itself.
    let v = one(sync, job("2026-03-01T10:00:00.5Z", true), missing());
    assert_eq!((v.verdict, v.health), (GroupState::Missing, Health::Broken));
    assert!(
        v.fix.as_deref().unwrap().contains("provisioning logs"),
        "{v:?}"
    );
    // A failed cycle, or an assignment time not read, is no evidence either.
    let mut failed = job("2026-03-02T00:00:00Z", true);
    failed.last_cycle.as_mut().unwrap().state = Some("Failed".into());
    assert_eq!(one(sync, failed, missing()).health, Health::Waiting);
    let unknown = GroupHealthObservation {
        assigned: None,
        ..missing()
    };
    assert_eq!(
        one(sync, job("2026-03-02T00:00:00Z", true), unknown).health,
        Health::Waiting
    );
}

#[test]
fn several_security_groups_of_the_name_are_ambiguous_and_none_is_picked() {
    let desired = example("quickstart");
    let g = group(
        vec![member("alice")],
        vec![
            target("t1", vec![copy_member("alice")]),
            target("t2", Vec::new()),
        ],
    );
    let v = one(&desired.syncs[0], job("2026-03-02T00:00:00Z", true), g);
    assert_eq!(
        (v.verdict, v.health),
        (GroupState::Ambiguous, Health::Broken)
    );
    assert_eq!(v.candidates, ["t1", "t2"]);
    assert_eq!(v.target_id, None);
    assert_eq!((v.members, v.expected_members), (0, 0));
}

#[test]
fn members_that_differ_are_drift_and_members_not_provisioned_yet_wait() {
    let desired = example("quickstart");
    let sync = &desired.syncs[0];
    // erin's copy is in fabrikam but not in the group; dan (a fabrikam user) and a nested
    // group are in it without being in scope in contoso; gus is a guest of contoso.
    let mut g = group(
        vec![member("alice"), member("erin"), guest("gus")],
        vec![target(
            "t1",
            vec![
                copy_member("alice"),
                copy_member("gus"),
                GroupMember {
                    id: "dan-id".into(),
                    user_principal_name: Some("dan@fabrikam.onmicrosoft.com".into()),
                    other_kind: None,
                },
                GroupMember {
                    id: "nested-id".into(),
                    user_principal_name: None,
                    other_kind: Some("group".into()),
                },
            ],
        )],
    );
    g.copies = vec![copy("erin")];
    let v = one(sync, job("2026-03-02T00:00:00Z", true), g.clone());
    assert_eq!((v.verdict, v.health), (GroupState::Drift, Health::Broken));
    assert_eq!((v.members, v.expected_members), (1, 2));
    assert_eq!(v.missing_members, ["erin@contoso.onmicrosoft.com"]);
    assert_eq!(
        v.extra_members,
        [
            "dan@fabrikam.onmicrosoft.com",
            "gus_contoso.onmicrosoft.com#EXT#@fabrikam.onmicrosoft.com",
            "nested-id (group)"
        ]
    );
    let consequence = v.consequence.as_deref().unwrap();
    assert!(
        consequence.contains("1 of its members in scope is in fabrikam but not in the group")
            && consequence.contains("3 members of the group in fabrikam are not in scope"),
        "{consequence}"
    );

    // Without erin's copy in fabrikam, the strangers alone are drift.
    g.copies.clear();
    let v = one(sync, job("2026-03-02T00:00:00Z", true), g.clone());
    assert_eq!((v.verdict, v.health), (GroupState::Drift, Health::Broken));
    assert!(v.missing_members.is_empty());
    assert_eq!(v.not_provisioned, ["erin@contoso.onmicrosoft.com"]);
    assert_eq!(v.extra_members.len(), 3);

    // Without the strangers either: waiting for the next cycle.
    g.targets[0].members.truncate(1);
    let v = one(sync, job("2026-03-02T00:00:00Z", true), g);
    assert_eq!(
        (v.verdict, v.health),
        (GroupState::Provisioned, Health::Waiting)
    );
    assert_eq!(v.not_provisioned, ["erin@contoso.onmicrosoft.com"]);
    assert!(v.missing_members.is_empty() && v.extra_members.is_empty());
}

#[test]
fn what_a_truncated_list_hides_is_not_judged() {
    let desired = example("quickstart");
    let sync = &desired.syncs[0];
    // The target's list stopped short: erin may be among the members not read.
    let mut g = group(
        vec![member("alice"), member("erin")],
        vec![target("t1", vec![copy_member("alice")])],
    );
    g.targets[0].members_truncated = true;
    g.copies = vec![copy("erin")];
    let v = one(sync, job("2026-03-02T00:00:00Z", true), g);
    assert_eq!(
        (v.verdict, v.health),
        (GroupState::Provisioned, Health::Healthy)
    );
    assert!(v.truncated);
    // The source's list stopped short: a member of the copy may be among those not read.
    let mut g = group(
        vec![member("alice")],
        vec![target("t1", vec![copy_member("alice"), copy_member("zoe")])],
    );
    g.members_truncated = true;
    let v = one(sync, job("2026-03-02T00:00:00Z", true), g);
    assert_eq!(v.health, Health::Healthy);
    assert!(v.extra_members.is_empty());
}

#[test]
fn members_a_filter_mtoctl_cannot_evaluate_leaves_undetermined_count_when_sync_added_them() {
    let mut desired = example("quickstart");
    desired.syncs[0].scope.filter = vec![FilterGroupSpec {
        name: "cost".into(),
        clauses: vec![FilterClauseSpec {
            attribute: "extension_abc_costCenter".into(),
            operator: FilterOperator::Equals,
            values: vec!["1".into()],
        }],
    }];
    let g = group(
        vec![member("alice"), member("erin")],
        vec![target("t1", vec![copy_member("alice")])],
    );
    let v = one(&desired.syncs[0], job("2026-03-02T00:00:00Z", true), g);
    assert_eq!(
        (v.verdict, v.health),
        (GroupState::Provisioned, Health::Healthy)
    );
    assert_eq!((v.members, v.expected_members), (1, 1));
}

#[test]
fn graph_timestamps_compare_by_instant() {
    use std::cmp::Ordering::*;
    let c = compare_times;
    assert_eq!(
        c("2026-03-01T10:00:00.5Z", "2026-03-01T10:00:00Z"),
        Some(Greater)
    );
    assert_eq!(
        c("2026-03-01T10:00:00Z", "2026-03-01T10:00:00.0000000Z"),
        Some(Equal)
    );
    assert_eq!(
        c("2026-03-01T09:59:59.99Z", "2026-03-01T10:00:00+00:00"),
        Some(Less)
    );
    assert_eq!(
        c("2026-03-01t10:00:01z", "2026-03-01T10:00:00Z"),
        Some(Greater)
    );
    assert_eq!(c("2026-03-01T10:00:00+02:00", "2026-03-01T10:00:00Z"), None);
    assert_eq!(c("yesterday", "2026-03-01T10:00:00Z"), None);
}

#[test]
fn group_verdicts_count_in_the_sync_health_and_their_findings_come_last() {
    let desired = example("quickstart");
    let observed = ObservedStateBuilder::converged(&desired).build();
    let jobs = |groups: Vec<GroupHealthObservation>| HealthObservation {
        syncs: desired
            .syncs
            .iter()
            .enumerate()
            .map(|(i, s)| SyncHealthObservation {
                from: s.from.clone(),
                to: s.to.clone(),
                ..read(
                    job("2026-03-02T00:00:00Z", true),
                    if i == 0 { groups.clone() } else { Vec::new() },
                )
            })
            .collect(),
    };
    let healthy = group(
        vec![member("alice")],
        vec![target("t1", vec![copy_member("alice")])],
    );
    let report = assess(&desired, &observed, &jobs(vec![healthy.clone()]));
    assert_eq!(report.health, Health::Healthy, "{:?}", report.findings());
    assert_eq!(report.syncs[0].groups.len(), 1);
    assert_eq!(report.syncs[0].group_findings, 0);

    let ambiguous = GroupHealthObservation {
        display_name: "Contoso All Staff".into(),
        source_id: "staff-id".into(),
        targets: vec![target("t2", Vec::new()), target("t3", Vec::new())],
        ..healthy.clone()
    };
    let report = assess(&desired, &observed, &jobs(vec![healthy, ambiguous]));
    assert_eq!(report.health, Health::Broken);
    let sync = &report.syncs[0];
    // Worst first; one finding, the last, restating the ambiguous group.
    assert_eq!(sync.groups[0].source, "Contoso All Staff");
    assert_eq!(sync.group_findings, 1);
    assert!(
        sync.findings
            .last()
            .is_some_and(|f| f.starts_with("group \"Contoso All Staff\" is ambiguous in fabrikam")),
        "{:?}",
        sync.findings
    );
    assert_eq!(report.syncs[1].health, Health::Healthy);
}

use mtoctl_model::health::HealthObservation;
