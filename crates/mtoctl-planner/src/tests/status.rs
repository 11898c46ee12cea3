//! `status::assess` on built observations: the verdicts the end-to-end tests cannot reach
//! easily (role changes, failed joins, guests where members were wanted, paused jobs).

use mtoctl_model::health::{
    HealthObservation, JobHealth, ProvisionedUser, SourceUser, SyncHealthObservation,
};
use mtoctl_model::ids::Alias;
use mtoctl_model::observed::{
    JoinTransition, Known, MemberRole, MemberState, MemberTransition, ProcessingStatus,
};

use super::example;
use crate::status::{Health, assess};
use crate::testing::ObservedStateBuilder;

fn job(code: &str) -> JobHealth {
    JobHealth {
        status_code: Some(code.into()),
        ..JobHealth::default()
    }
}

fn healthy_jobs(desired: &mtoctl_model::DesiredState) -> HealthObservation {
    HealthObservation {
        syncs: desired
            .syncs
            .iter()
            .map(|s| SyncHealthObservation {
                from: s.from.clone(),
                to: s.to.clone(),
                job: job("Active"),
                coverage: Default::default(),
                users: Vec::new(),
                truncated: false,
                provisioned: Vec::new(),
                on_demand: Vec::new(),
                groups: Vec::new(),
            })
            .collect(),
    }
}

fn findings(report: &crate::status::StatusReport) -> Vec<String> {
    report.findings().into_iter().map(|(_, f)| f).collect()
}

#[test]
fn a_converged_world_with_active_jobs_is_healthy() {
    let desired = example("quickstart");
    let observed = ObservedStateBuilder::converged(&desired).build();
    let report = assess(&desired, &observed, &healthy_jobs(&desired));
    assert_eq!(report.health, Health::Healthy, "{:?}", findings(&report));
}

#[test]
fn a_role_change_in_progress_waits_and_a_wrong_role_is_broken() {
    let desired = example("quickstart");
    let fabrikam = ObservedStateBuilder::converged(&desired).id("fabrikam");
    let with_role = |changing: bool| {
        ObservedStateBuilder::converged(&desired)
            .with(|b| {
                let owner = b.tenant_mut("contoso");
                let member = owner
                    .organization
                    .members
                    .iter_mut()
                    .find(|m| m.tenant_id == fabrikam)
                    .expect("listed");
                member.role = Known::Known(MemberRole::Owner);
                member.transition = changing.then_some(MemberTransition {
                    desired_role: Some(Known::Known(MemberRole::Member)),
                    desired_state: None,
                    status: Some(Known::Known(ProcessingStatus::Running)),
                    details: None,
                });
            })
            .build()
    };
    let report = assess(&desired, &with_role(true), &healthy_jobs(&desired));
    assert_eq!(report.health, Health::Waiting, "{:?}", findings(&report));
    let report = assess(&desired, &with_role(false), &healthy_jobs(&desired));
    assert_eq!(report.health, Health::Broken);
    assert!(
        findings(&report)
            .iter()
            .any(|f| f.contains("its role is owner, the spec says member")),
        "{:?}",
        findings(&report)
    );
}

#[test]
fn a_failed_join_is_broken_and_says_why() {
    let desired = example("quickstart");
    let fabrikam = ObservedStateBuilder::converged(&desired).id("fabrikam");
    let observed = ObservedStateBuilder::converged(&desired)
        .with(|b| {
            let member = b
                .tenant_mut("contoso")
                .organization
                .members
                .iter_mut()
                .find(|m| m.tenant_id == fabrikam)
                .expect("listed");
            member.state = Known::Known(MemberState::Pending);
            b.tenant_mut("fabrikam").join_request.transition = Some(JoinTransition {
                desired_member_state: Some(Known::Known(MemberState::Active)),
                status: Some(Known::Known(ProcessingStatus::Failed)),
                details: Some("the tenant has too many users".into()),
            });
        })
        .build();
    let report = assess(&desired, &observed, &healthy_jobs(&desired));
    assert_eq!(report.health, Health::Broken);
    let all = findings(&report);
    assert!(
        all.iter()
            .any(|f| f.contains("its join failed (the tenant has too many users)")),
        "{all:?}"
    );
    // The syncs wait on the membership and say so instead of listing missing settings.
    assert!(
        report
            .syncs
            .iter()
            .all(|s| s.findings.len() == 1 && s.findings[0].contains("waits for fabrikam")),
        "{all:?}"
    );
}

#[test]
fn guests_where_the_spec_wants_members_and_a_paused_job_are_broken() {
    let desired = example("quickstart");
    let observed = ObservedStateBuilder::converged(&desired).build();
    let mut health = healthy_jobs(&desired);
    health.syncs[0].users = vec![SourceUser {
        user_principal_name: "alice@contoso.onmicrosoft.com".into(),
        ..SourceUser::default()
    }];
    health.syncs[0].provisioned = vec![ProvisionedUser {
        source: "alice@contoso.onmicrosoft.com".into(),
        user_principal_name: "alice_contoso.onmicrosoft.com#EXT#@fabrikam.onmicrosoft.com".into(),
        user_type: Some("Guest".into()),
        ..ProvisionedUser::default()
    }];
    health.syncs[1].job = job("Paused");
    let report = assess(&desired, &observed, &health);
    assert_eq!(report.health, Health::Broken);
    assert_eq!(report.syncs[0].health, Health::Broken);
    assert!(report.syncs[0].findings[0].contains("was provisioned as Guest, the spec says Member"));
    assert!(report.syncs[1].findings[0].contains("paused but the spec enables it"));
    assert_eq!(report.syncs[0].from, Alias("contoso".into()));
}

#[test]
fn a_first_cycle_not_yet_run_waits() {
    let desired = example("quickstart");
    let observed = ObservedStateBuilder::converged(&desired).build();
    let mut health = healthy_jobs(&desired);
    health.syncs[0].job = job("NotRun");
    let report = assess(&desired, &observed, &health);
    assert_eq!(report.health, Health::Waiting);
    assert_eq!(report.syncs[1].health, Health::Healthy);
}
