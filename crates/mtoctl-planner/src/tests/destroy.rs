//! `destroy`: what it removes, in which order, and what it leaves alone.

use mtoctl_model::DesiredState;
use mtoctl_model::ObservedState;
use mtoctl_model::observed::{
    Known, MemberObservation, MemberRole, MemberState, MtoState, SyncConfigurationObservation,
};
use mtoctl_model::plan::{ActionKind, ActionReason, Operation, Plan, PlanMode, Severity};

use super::{example, fingerprints_agree, lint};
use crate::testing::{ObservedStateBuilder, fake_guid};

/// Plans a destroy and checks what every plan must hold.
#[track_caller]
fn destroy(desired: &DesiredState, observed: &ObservedState) -> Plan {
    let plan = crate::destroy(desired, observed, None).expect("plans");
    lint(&plan);
    fingerprints_agree(desired, observed, &plan);
    assert_eq!(plan.mode, PlanMode::Destroy);
    plan
}

fn position(plan: &Plan, pred: impl Fn(&Operation) -> bool) -> usize {
    plan.actions
        .iter()
        .position(|a| pred(&a.operation))
        .expect("the plan has such an action")
}

fn count(plan: &Plan, pred: impl Fn(&Operation) -> bool) -> usize {
    plan.actions.iter().filter(|a| pred(&a.operation)).count()
}

const CONTOSO: &str = "6babcaad-604b-40ac-a9d7-9fd97c0b779f";
const FABRIKAM: &str = "3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11";

#[test]
fn a_converged_organization_is_taken_down_in_the_reverse_order_of_its_setup() {
    let desired = example("quickstart");
    let observed = ObservedStateBuilder::converged(&desired).build();
    let p = destroy(&desired, &observed);

    let is_config = |op: &Operation| matches!(op, Operation::DeleteSyncConfiguration { .. });
    let is_identity = |op: &Operation| matches!(op, Operation::DeleteIdentitySync { .. });
    let is_partner = |op: &Operation| matches!(op, Operation::DeletePartner { .. });
    assert_eq!(count(&p, is_config), 2, "both directions' configurations");
    assert_eq!(
        count(&p, is_identity),
        2,
        "both tenants' identity sync policies"
    );
    assert_eq!(
        count(&p, is_partner),
        2,
        "both tenants' partner configurations"
    );

    // Each deletion follows what depends on its object: the configuration before the identity
    // sync policy that let it in, that policy before its partner configuration, all of them
    // before the member leaves.
    for a in &p.actions {
        if let Operation::DeletePartner { partner_tenant_id } = &a.operation {
            let policy = p
                .actions
                .iter()
                .find(|b| {
                    b.tenant == a.tenant
                        && matches!(&b.operation, Operation::DeleteIdentitySync { partner_tenant_id: x } if x == partner_tenant_id)
                })
                .expect("the pair's identity sync policy is deleted too");
            assert!(a.depends_on.contains(&policy.id), "{}", a.addr);
        }
        if let Operation::DeleteIdentitySync { .. } = &a.operation {
            assert!(
                a.depends_on
                    .iter()
                    .any(|d| p.action(d).is_some_and(|b| is_config(&b.operation))),
                "{}: after the configuration that synced into it",
                a.addr
            );
        }
    }
    let removal = p
        .actions
        .iter()
        .find(|a| matches!(&a.operation, Operation::RemoveMember { tenant_id } if tenant_id.0.as_str() == FABRIKAM))
        .expect("fabrikam is removed");
    for a in p.actions.iter().filter(|a| is_partner(&a.operation)) {
        assert!(removal.depends_on.contains(&a.id), "{} first", a.addr);
    }
    assert!(
        position(&p, is_partner) < position(&p, |op| matches!(op, Operation::RemoveMember { .. }))
    );

    // The owner leaves last: not now, while fabrikam is still a member.
    assert_eq!(
        count(&p, |op| matches!(op, Operation::RemoveMember { .. })),
        1
    );
    assert!(!p.complete);
    assert_eq!(p.deferred.len(), 1);
    assert!(
        p.deferred[0].summary.contains("dissolves"),
        "{:?}",
        p.deferred
    );

    // Every removal is reviewed as one and says what goes with it.
    for a in &p.actions {
        let reason = if a.kind == ActionKind::Wait {
            ActionReason::Async
        } else {
            ActionReason::Destroy
        };
        assert_eq!(a.reason, reason, "{}", a.addr);
        if a.kind == ActionKind::Delete {
            assert!(a.destructive, "{}", a.addr);
            assert!(a.impact.is_some(), "{}", a.addr);
        }
        assert!(
            !matches!(
                a.operation,
                Operation::CreatePartner { .. } | Operation::AssignPrincipal { .. }
            ),
            "destroy creates nothing: {}",
            a.addr
        );
    }
    // What stays is said.
    assert!(
        p.notes
            .iter()
            .any(|n| n.message.contains("stay there: Graph does not delete them")),
        "{:#?}",
        p.notes
    );
}

#[test]
fn the_last_owner_leaves_once_every_other_tenant_has() {
    let desired = example("quickstart");
    let observed = ObservedStateBuilder::converged(&desired)
        .with(|b| {
            for alias in ["contoso", "fabrikam"] {
                b.tenant_mut(alias)
                    .organization
                    .members
                    .retain(|m| m.tenant_id.0.as_str() == CONTOSO);
            }
            // Partners, identity sync and configurations already went in an earlier round.
            for alias in ["contoso", "fabrikam"] {
                let t = b.tenant_mut(alias);
                t.partners.clear();
                t.sync_configurations.clear();
            }
        })
        .build();
    let p = destroy(&desired, &observed);
    let removals: Vec<_> = p
        .actions
        .iter()
        .filter_map(|a| match &a.operation {
            Operation::RemoveMember { tenant_id } => Some(tenant_id.0.as_str().to_owned()),
            _ => None,
        })
        .collect();
    assert_eq!(removals, vec![CONTOSO.to_owned()]);
    assert!(p.deferred.is_empty() && p.complete);
    let text = crate::render::text::render(&p, Default::default());
    assert!(text.contains("this dissolves it"), "{text}");
}

#[test]
fn an_owner_is_demoted_before_it_is_removed() {
    let desired = example("quickstart");
    let observed = ObservedStateBuilder::converged(&desired)
        .with(|b| {
            for m in &mut b.tenant_mut("contoso").organization.members {
                if m.tenant_id.0.as_str() == FABRIKAM {
                    m.role = Known::Known(MemberRole::Owner);
                }
            }
        })
        .build();
    let p = destroy(&desired, &observed);
    let demote = position(
        &p,
        |op| matches!(op, Operation::ChangeMemberRole { tenant_id, role: MemberRole::Member } if tenant_id.0.as_str() == FABRIKAM),
    );
    assert!(
        p.actions[demote].depends_on.len() >= 4,
        "after the pair's deletions"
    );
    assert!(
        !p.actions
            .iter()
            .any(|a| matches!(a.operation, Operation::RemoveMember { .. })),
        "an owner is not removed in the round that demotes it"
    );
    assert!(
        p.deferred
            .iter()
            .any(|d| d.summary.contains("remove Fabrikam"))
    );
}

#[test]
fn nothing_left_means_nothing_to_destroy() {
    let desired = example("quickstart");
    let observed = ObservedStateBuilder::fresh(&desired).build();
    let p = destroy(&desired, &observed);
    assert!(p.actions.is_empty(), "{:#?}", p.actions);
    assert!(p.complete);
    let text = crate::render::text::render(&p, Default::default());
    assert!(text.contains("Nothing to destroy"), "{text}");
    let markdown = crate::render::markdown::render(&p);
    assert!(markdown.contains("nothing to destroy"), "{markdown}");
}

#[test]
fn what_the_spec_does_not_name_is_left_alone() {
    let desired = example("quickstart");
    let stranger = mtoctl_model::ids::TenantId(fake_guid("stranger"));
    let observed = ObservedStateBuilder::converged(&desired)
        .with(|b| {
            let contoso = b.tenant_mut("contoso");
            let mut other = contoso
                .partners
                .values()
                .next()
                .cloned()
                .expect("a partner");
            other.tenant_id = stranger.clone();
            contoso.partners.insert(stranger.clone(), other);
            let mut config: SyncConfigurationObservation = contoso.sync_configurations[0].clone();
            config.display_name = "Made in the admin center".into();
            config.service_principal_id = fake_guid("other-sp").to_string();
            contoso.sync_configurations.push(config);
        })
        .build();
    let p = destroy(&desired, &observed);
    for a in &p.actions {
        match &a.operation {
            Operation::DeletePartner { partner_tenant_id }
            | Operation::DeleteIdentitySync { partner_tenant_id } => {
                assert_ne!(partner_tenant_id, &stranger, "{}", a.addr)
            }
            Operation::DeleteSyncConfiguration { display_name, .. } => {
                assert_ne!(display_name, "Made in the admin center")
            }
            _ => {}
        }
    }
    assert!(
        p.notes
            .iter()
            .any(|n| n.severity == Severity::Info && n.message.contains("is left alone")),
        "{:#?}",
        p.notes
    );
}

#[test]
fn templates_are_reset_only_when_set_and_managed() {
    let desired = example("quickstart");
    let is_reset = |op: &Operation| {
        matches!(
            op,
            Operation::ResetPartnerTemplate | Operation::ResetIdentitySyncTemplate
        )
    };
    // The converged world's templates carry the spec's settings: both reset in both tenants.
    let converged = ObservedStateBuilder::converged(&desired).build();
    let set = |alias: &str| {
        let t = &converged.tenants[&mtoctl_model::ids::Alias(alias.into())].templates;
        t.partner.settings != Default::default() || t.identity_sync.is_sync_allowed.is_some()
    };
    assert!(set("contoso") && set("fabrikam"), "the builder sets them");
    assert_eq!(count(&destroy(&desired, &converged), is_reset), 4);
    // At Graph's defaults (the fresh world's): nothing to reset.
    let fresh = ObservedStateBuilder::fresh(&desired).build();
    assert_eq!(count(&destroy(&desired, &fresh), is_reset), 0);
    // Not managed: left as they are.
    let mut unmanaged = desired.clone();
    unmanaged.collaboration.manage_templates = false;
    assert_eq!(count(&destroy(&unmanaged, &converged), is_reset), 0);
}

#[test]
fn an_organization_no_spec_tenant_owns_is_left_alone_with_a_warning() {
    let desired = example("quickstart");
    let observed = ObservedStateBuilder::converged(&desired)
        .with(|b| {
            for alias in ["contoso", "fabrikam"] {
                let org = &mut b.tenant_mut(alias).organization;
                org.state = Known::Known(MtoState::Active);
                org.members = vec![MemberObservation {
                    tenant_id: mtoctl_model::ids::TenantId(fake_guid("owner elsewhere")),
                    display_name: "Elsewhere".into(),
                    role: Known::Known(MemberRole::Owner),
                    state: Known::Known(MemberState::Active),
                    added_by: None,
                    transition: None,
                }];
            }
        })
        .build();
    let p = destroy(&desired, &observed);
    assert!(!p.actions.iter().any(|a| matches!(
        a.operation,
        Operation::RemoveMember { .. } | Operation::ChangeMemberRole { .. }
    )));
    assert!(
        p.notes.iter().any(|n| n.severity == Severity::Warning
            && n.message.contains("no spec tenant is an active owner")),
        "{:#?}",
        p.notes
    );
}

#[test]
fn destroy_plans_are_deterministic_and_say_their_mode() {
    let desired = example("hub-and-spoke");
    let observed = ObservedStateBuilder::converged(&desired).build();
    let a = super::json(&destroy(&desired, &observed));
    let b = super::json(&destroy(&desired, &observed));
    assert_eq!(a, b);
    assert!(a.contains("\"mode\": \"destroy\""));
    // Plans of `plan` keep their JSON as before: no mode key.
    let apply = super::json(&super::plan(&desired, &observed));
    assert!(!apply.contains("\"mode\""));
}

#[test]
fn synced_accounts_are_deleted_after_the_pause_and_before_their_configuration() {
    use mtoctl_model::health::{
        Coverage, HealthObservation, JobHealth, ProvisionedUser, SyncHealthObservation,
    };
    let desired = example("quickstart");
    let observed = ObservedStateBuilder::converged(&desired).build();
    let copy = |upn: &str, id: &str| ProvisionedUser {
        source: format!("{upn}@contoso.onmicrosoft.com"),
        id: Some(id.into()),
        user_principal_name: format!("{upn}_contoso.onmicrosoft.com#EXT#@fabrikam.onmicrosoft.com"),
        ..ProvisionedUser::default()
    };
    let direction = SyncHealthObservation {
        from: mtoctl_model::ids::Alias("contoso".into()),
        to: mtoctl_model::ids::Alias("fabrikam".into()),
        job: JobHealth::default(),
        coverage: Coverage::All,
        users: Vec::new(),
        truncated: false,
        // The same copy twice (as two syncs between the same tenants would read it).
        provisioned: vec![copy("alice", "a1"), copy("bob", "b2"), copy("alice", "a1")],
        on_demand: Vec::new(),
        groups: Vec::new(),
    };
    let health = HealthObservation {
        syncs: vec![direction],
    };
    let p = crate::destroy(&desired, &observed, Some(&health)).expect("plans");
    lint(&p);
    fingerprints_agree(&desired, &observed, &p);
    let deletes: Vec<_> = p
        .actions
        .iter()
        .filter(|a| matches!(a.operation, Operation::DeleteSyncedUser { .. }))
        .collect();
    assert_eq!(deletes.len(), 2, "each copy once: {:#?}", p.actions);
    let pause = p
        .actions
        .iter()
        .find(|a| {
            matches!(a.operation, Operation::PauseJob { .. }) && a.tenant.as_str() == "contoso"
        })
        .expect("the job is paused first");
    let config = p
        .actions
        .iter()
        .find(|a| {
            matches!(a.operation, Operation::DeleteSyncConfiguration { .. })
                && a.tenant.as_str() == "contoso"
        })
        .expect("the configuration goes");
    for d in &deletes {
        assert_eq!(d.tenant.as_str(), "fabrikam", "deleted in the target");
        assert!(d.destructive && d.impact.is_some());
        assert!(d.depends_on.contains(&pause.id), "{}", d.addr);
        assert!(config.depends_on.contains(&d.id), "{}", d.addr);
    }
    // Asked to delete them, the plan no longer says they stay.
    assert!(
        !p.notes.iter().any(|n| n.message.contains("stay there")),
        "{:#?}",
        p.notes
    );
}
