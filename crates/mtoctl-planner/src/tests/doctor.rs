//! `doctor::diagnose` on built readings: what the end-to-end tests cannot reach easily (the
//! 100-tenant limit, a P1 plan inside a suite, a suspended subscription, extra write
//! permissions, refused and failed reads, a failed credential check).

use mtoctl_model::DesiredState;
use mtoctl_model::doctor::{CredentialCheck, Read, SkuObservation, TenantReadings};
use mtoctl_model::ids::{Guid, TenantId};
use mtoctl_model::observed::{
    AccessRuleObservation, AccessType, B2bPolicyObservation, Known, MemberObservation, MemberRole,
    MemberState, MtoState, OrganizationObservation, PartnerSettingsObservation,
};

use super::example;
use crate::doctor::{DoctorReport, Verdict, diagnose};
use crate::permissions::for_spec;

fn p2() -> SkuObservation {
    SkuObservation {
        sku_part_number: "AAD_PREMIUM_P2".into(),
        capability_status: Some("Enabled".into()),
        service_plans: vec!["AAD_PREMIUM".into(), "AAD_PREMIUM_P2".into()],
    }
}

/// Every tenant ready: the listed permissions, P2, no organization, service defaults.
fn ready(desired: &DesiredState) -> Vec<TenantReadings> {
    let needs = for_spec(desired);
    desired
        .tenants
        .iter()
        .map(|t| {
            let need = needs.iter().find(|n| n.alias == t.alias).expect("needs");
            TenantReadings {
                alias: t.alias.clone(),
                tenant_id: t.tenant_id.clone(),
                sign_in: Read::Found(Some(need.application.keys().cloned().collect())),
                skus: Read::Found(vec![p2()]),
                organization: Read::Found(None),
                default_settings: Read::Found(PartnerSettingsObservation::default()),
                partners: Read::Found(Default::default()),
                credentials: desired
                    .syncs
                    .iter()
                    .filter(|s| s.from == t.alias)
                    .map(|s| CredentialCheck {
                        name: s.name.clone(),
                        to: s.to.clone(),
                        outcome: Read::NotRead,
                        absent: true,
                    })
                    .collect(),
            }
        })
        .collect()
}

fn check<'a>(r: &'a DoctorReport, alias: &str, name: &str) -> &'a crate::doctor::Check {
    r.tenants
        .iter()
        .find(|t| t.alias.as_str() == alias)
        .and_then(|t| t.checks.iter().find(|c| c.check == name))
        .unwrap_or_else(|| panic!("{alias} {name}: {r:#?}"))
}

#[test]
fn the_listed_permissions_and_p2_everywhere_are_ready() {
    let desired = example("quickstart");
    let r = diagnose(&desired, &ready(&desired));
    assert_eq!(r.verdict, Verdict::Ok, "{r:#?}");
    assert!(!r.errored);
    assert!(
        r.tenants
            .iter()
            .all(|t| t.checks.iter().all(|c| c.notes.is_empty()))
    );
}

#[test]
fn a_p1_plan_inside_a_suite_counts_and_a_suspended_subscription_does_not() {
    let desired = example("quickstart");
    let mut readings = ready(&desired);
    readings[0].skus = Read::Found(vec![SkuObservation {
        sku_part_number: "SPE_E3".into(),
        capability_status: Some("Enabled".into()),
        service_plans: vec!["EXCHANGE_S_ENTERPRISE".into(), "AAD_PREMIUM".into()],
    }]);
    readings[1].skus = Read::Found(vec![SkuObservation {
        capability_status: Some("Suspended".into()),
        ..p2()
    }]);
    let r = diagnose(&desired, &readings);
    assert_eq!(check(&r, "contoso", "licence").verdict, Verdict::Ok);
    assert_eq!(check(&r, "fabrikam", "licence").verdict, Verdict::Blocked);
    assert_eq!(r.verdict, Verdict::Blocked);
}

#[test]
fn extra_write_permissions_are_a_note_and_a_refused_licence_read_is_skipped() {
    let desired = example("quickstart");
    let mut readings = ready(&desired);
    if let Read::Found(Some(roles)) = &mut readings[0].sign_in {
        roles.push("Directory.ReadWrite.All".into());
        roles.push("User.Read.All".into());
    }
    readings[1].skus = Read::Forbidden;
    let r = diagnose(&desired, &readings);
    let c = check(&r, "contoso", "permissions");
    assert_eq!(c.verdict, Verdict::Ok);
    assert!(c.notes[0].contains("Directory.ReadWrite.All"), "{c:?}");
    let c = check(&r, "fabrikam", "licence");
    assert_eq!(c.verdict, Verdict::Skipped);
    assert!(
        c.fix
            .as_deref()
            .is_some_and(|f| f.contains("LicenseAssignment.Read.All"))
    );
    assert_eq!(r.verdict, Verdict::Ok);
    assert!(!r.errored);
}

#[test]
fn a_failed_read_marks_the_report_errored() {
    let desired = example("quickstart");
    let mut readings = ready(&desired);
    readings[1].default_settings = Read::Failed("HTTP 500".into());
    let r = diagnose(&desired, &readings);
    assert!(r.errored);
    assert_eq!(
        check(&r, "fabrikam", "default_settings").verdict,
        Verdict::Skipped
    );
}

fn member(id: &TenantId, role: MemberRole) -> MemberObservation {
    MemberObservation {
        tenant_id: id.clone(),
        display_name: id.to_string(),
        role: Known::Known(role),
        state: Known::Known(MemberState::Active),
        added_by: None,
        transition: None,
    }
}

#[test]
fn an_organization_of_more_than_100_tenants_is_blocked() {
    let desired = example("quickstart");
    let owner = desired.tenants[0].tenant_id.clone();
    let mut members = vec![member(&owner, MemberRole::Owner)];
    for n in 0..99 {
        let id = TenantId(Guid::parse(&format!("00000000-0000-4000-8000-{n:012}")).expect("id"));
        members.push(member(&id, MemberRole::Member));
    }
    let mut readings = ready(&desired);
    readings[0].organization = Read::Found(Some(OrganizationObservation {
        state: Known::Known(MtoState::Active),
        id: Some("org".into()),
        display_name: Some("Contoso Group".into()),
        description: None,
        members,
    }));
    let r = diagnose(&desired, &readings);
    let c = check(&r, "contoso", "organization");
    assert_eq!(c.verdict, Verdict::Blocked, "{c:?}");
    assert!(c.summary.contains("101"), "{c:?}");
}

#[test]
fn a_failed_credential_check_is_fixable() {
    let desired = example("quickstart");
    let mut readings = ready(&desired);
    readings[0].credentials[0].absent = false;
    readings[0].credentials[0].outcome = Read::Failed("HTTP 400: inbound sync not allowed".into());
    let r = diagnose(&desired, &readings);
    let c = check(&r, "contoso", "sync_credentials");
    assert_eq!(c.verdict, Verdict::Fixable, "{c:?}");
    assert!(
        c.fix.as_deref().is_some_and(|f| f.contains("fabrikam")),
        "{c:?}"
    );
    assert_eq!(r.verdict, Verdict::Fixable);
}

/// B2B collaboration as a rule over everyone: blocked or allowed.
fn b2b(access: AccessType) -> Option<B2bPolicyObservation> {
    let rule = |all: &str| AccessRuleObservation {
        access: Known::Known(access),
        targets: vec![all.to_owned()],
    };
    Some(B2bPolicyObservation {
        users_and_groups: Some(rule("AllUsers")),
        applications: Some(rule("AllApplications")),
    })
}

#[test]
fn blocking_defaults_matter_only_for_partners_that_inherit_them() {
    let desired = example("quickstart");
    let mut readings = ready(&desired);
    let blocking = PartnerSettingsObservation {
        b2b_collaboration_inbound: b2b(AccessType::Blocked),
        ..Default::default()
    };
    readings[1].default_settings = Read::Found(blocking);
    // No partner configuration for contoso yet: it would inherit the block.
    let r = diagnose(&desired, &readings);
    let c = check(&r, "fabrikam", "default_settings");
    assert_eq!(c.verdict, Verdict::Fixable, "{c:#?}");
    assert!(c.summary.contains("b2bCollaborationInbound"), "{c:#?}");
    // A partner configuration for contoso with B2B settings of its own both ways overrides the
    // defaults, and the spec leaves those settings alone: nothing is blocked.
    let own = PartnerSettingsObservation {
        b2b_collaboration_inbound: b2b(AccessType::Allowed),
        b2b_collaboration_outbound: b2b(AccessType::Allowed),
        ..Default::default()
    };
    let contoso = desired.tenants[0].tenant_id.clone();
    readings[1].partners = Read::Found([(contoso.clone(), own)].into_iter().collect());
    let r = diagnose(&desired, &readings);
    assert_eq!(
        check(&r, "fabrikam", "default_settings").verdict,
        Verdict::Ok,
        "{r:#?}"
    );
    // One that sets only one direction still inherits the other from the defaults.
    let half = PartnerSettingsObservation {
        b2b_collaboration_outbound: b2b(AccessType::Allowed),
        ..Default::default()
    };
    readings[1].partners = Read::Found([(contoso, half)].into_iter().collect());
    let r = diagnose(&desired, &readings);
    assert_eq!(
        check(&r, "fabrikam", "default_settings").verdict,
        Verdict::Fixable
    );
}
