//! Behaviour of the planner on fresh, converged and drifted worlds.

use std::collections::BTreeMap;

use mtoctl_model::ids::Guid;
use mtoctl_model::observed::{
    AccessRuleObservation, AssignmentObservation, B2bPolicyObservation, IdentitySyncObservation,
    JoinTransition, Known, MemberObservation, MemberRole, MemberState, MemberTransition,
    PartnerObservation, PartnerSettingsObservation, ProcessingStatus,
};
use mtoctl_model::spec::document::PruneKind;

use super::{example, json, plan, spec};
use crate::testing::{ObservedStateBuilder, fake_guid};
use mtoctl_model::plan::Severity;
use mtoctl_model::plan::{ActionKind, ExpectedBefore, ObjectRef, Operation, Plan};

fn kinds(plan: &Plan) -> Vec<(ActionKind, String)> {
    plan.actions
        .iter()
        .map(|a| (a.kind, a.addr.to_string()))
        .collect()
}

fn position(plan: &Plan, pred: impl Fn(&Operation) -> bool) -> usize {
    plan.actions
        .iter()
        .position(|a| pred(&a.operation))
        .expect("the plan has such an action")
}

const QS_SYNC: &str = "MTO_Sync_3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11";

#[test]
fn converged_worlds_plan_nothing() {
    for name in ["quickstart", "hub-and-spoke"] {
        let desired = example(name);
        let observed = ObservedStateBuilder::converged(&desired).build();
        let p = plan(&desired, &observed);
        assert!(p.actions.is_empty(), "{name}: {:#?}", kinds(&p));
        assert!(p.deferred.is_empty() && p.complete && p.applyable, "{name}");
        assert!(p.summary.no_op > 0, "{name}: compared objects are counted");
        assert!(
            p.notes.iter().all(|n| n.severity == Severity::Info),
            "{name}: {:#?}",
            p.notes
        );
        let text = crate::render::text::render(&p, Default::default());
        assert!(text.contains("No changes. Live configuration matches the spec."));
    }
}

#[test]
fn graph_spellings_order_and_case_normalise_to_no_change() {
    let desired = spec(
        br#"
apiVersion: mtoctl/v1alpha1
kind: MultiTenantOrganization
organization: { displayName: Org }
tenants:
  - alias: a
    tenantId: 11111111-1111-4111-8111-111111111111
    displayName: A
    role: owner
    auth: { azureCli: {} }
  - alias: b
    tenantId: 22222222-2222-4222-8222-222222222222
    displayName: B
    auth: { azureCli: {} }
collaboration:
  allPairs:
    b2bCollaboration:
      inbound:
        usersAndGroups:
          access: allowed
          targets: [group:aaaaaaaa-0000-4000-8000-00000000000a, user:bbbbbbbb-0000-4000-8000-00000000000b]
        applications: { access: allowed, targets: [AllApplications] }
sync:
  - from: a
    to: b
    userType: Guest
    scope:
      users: [alice@a.example]
      filter:
        anyOf:
          - name: Sales
            allOf:
              - { attribute: department, operator: notEquals, values: [Sales, Marketing] }
"#,
    );
    let converged = ObservedStateBuilder::converged(&desired).build();
    assert!(plan(&desired, &converged).actions.is_empty());
    let observed = ObservedStateBuilder::converged(&desired)
        .with(|b| {
            // Graph's spellings: upper-case GUIDs in another order, lower-case enum text,
            // attribute case and value order that differ from the spec.
            let rule = b
                .partner_mut("a", "b")
                .settings
                .b2b_collaboration_inbound
                .as_mut()
                .and_then(|p| p.users_and_groups.as_mut())
                .expect("rule");
            rule.targets = vec![
                "user:BBBBBBBB-0000-4000-8000-00000000000B".into(),
                "group:AAAAAAAA-0000-4000-8000-00000000000A".into(),
            ];
            let name = b.tenant_mut("a").sync_configurations[0]
                .display_name
                .clone();
            let job = &mut b
                .sync_mut("a", &name)
                .details
                .as_mut()
                .expect("details")
                .jobs[0];
            let mapping = job.user_type.as_mut().expect("mapping");
            mapping.value = Some("guest".into());
            mapping.flow_type = Some("always".into());
            let clause = &mut job.scoping_filter[0].clauses[0];
            clause.attribute = "Department".into();
            clause.values.reverse();
        })
        .build();
    let p = plan(&desired, &observed);
    assert!(p.actions.is_empty(), "{:#?}", kinds(&p));
    // A real difference in the same places is still seen.
    let drifted = ObservedStateBuilder::converged(&desired)
        .with(|b| {
            let name = b.tenant_mut("a").sync_configurations[0]
                .display_name
                .clone();
            let job = &mut b
                .sync_mut("a", &name)
                .details
                .as_mut()
                .expect("details")
                .jobs[0];
            job.scoping_filter[0].clauses[0].operator = "EQUALS".into();
        })
        .build();
    let p = plan(&desired, &drifted);
    assert_eq!(p.actions.len(), 1, "{:#?}", kinds(&p));
    assert!(matches!(
        p.actions[0].operation,
        Operation::UpdateSchema { .. }
    ));
    assert!(
        p.actions[0].destructive,
        "a changed filter can push users out of scope"
    );
}

#[test]
fn one_partner_setting_flipped_plans_exactly_one_update() {
    let desired = example("quickstart");
    let observed = ObservedStateBuilder::converged(&desired)
        .with(|b| {
            b.partner_mut("fabrikam", "contoso")
                .settings
                .automatic_user_consent_inbound = Some(false);
        })
        .build();
    let p = plan(&desired, &observed);
    assert_eq!(p.actions.len(), 1, "{:#?}", kinds(&p));
    let a = &p.actions[0];
    assert_eq!(a.kind, ActionKind::Update);
    assert_eq!(a.addr.as_str(), "tenant.fabrikam.partner[\"contoso\"]");
    assert_eq!(a.tenant.as_str(), "fabrikam");
    let Operation::PatchPartner { changes, .. } = &a.operation else {
        panic!("{:?}", a.operation)
    };
    let consent = changes.automatic_user_consent.as_ref().expect("consent");
    assert_eq!(
        (consent.inbound, consent.outbound),
        (Some(true), Some(true))
    );
    assert!(
        changes.inbound_trust.is_none(),
        "unchanged values are not written"
    );
    assert!(matches!(
        a.expected_before,
        ExpectedBefore::Fingerprint { .. }
    ));
    assert_eq!(a.changes.len(), 1);
    assert_eq!(a.changes[0].before.as_deref(), Some("false"));
    assert_eq!(a.changes[0].after.as_deref(), Some("true"));
    assert_eq!(p.summary.update, 1);
}

#[test]
fn null_consent_equals_false_on_partners() {
    let desired = spec(
        br#"
apiVersion: mtoctl/v1alpha1
kind: MultiTenantOrganization
organization: { displayName: Org }
tenants:
  - alias: a
    tenantId: 11111111-1111-4111-8111-111111111111
    displayName: A
    role: owner
    auth: { azureCli: {} }
  - alias: b
    tenantId: 22222222-2222-4222-8222-222222222222
    displayName: B
    auth: { azureCli: {} }
collaboration:
  allPairs:
    automaticUserConsent: { inbound: false, outbound: false }
"#,
    );
    let observed = ObservedStateBuilder::converged(&desired)
        .with(|b| {
            let s = &mut b.partner_mut("a", "b").settings;
            s.automatic_user_consent_inbound = None;
            s.automatic_user_consent_outbound = None;
        })
        .build();
    let p = plan(&desired, &observed);
    assert!(p.actions.is_empty(), "{:#?}", kinds(&p));
}

#[test]
fn unassigned_user_plans_exactly_one_assignment() {
    let desired = example("quickstart");
    let alice = fake_guid("user/contoso/alice@contoso.onmicrosoft.com");
    let observed = ObservedStateBuilder::converged(&desired)
        .with(|b| {
            let details = b
                .sync_mut("contoso", QS_SYNC)
                .details
                .as_mut()
                .expect("details");
            details.assignments.retain(|a| a.principal_id != alice);
        })
        .build();
    let p = plan(&desired, &observed);
    assert_eq!(p.actions.len(), 1, "{:#?}", kinds(&p));
    let a = &p.actions[0];
    assert_eq!(a.kind, ActionKind::Create);
    assert_eq!(
        a.addr.as_str(),
        format!(
            "tenant.contoso.sync[\"{QS_SYNC}\"].assignment[\"user:alice@contoso.onmicrosoft.com\"]"
        )
    );
    let Operation::AssignPrincipal {
        principal_id,
        configuration,
        app_role,
        ..
    } = &a.operation
    else {
        panic!("{:?}", a.operation)
    };
    assert_eq!(principal_id, &alice);
    assert!(matches!(configuration, ObjectRef::Existing { .. }));
    assert!(matches!(app_role, ObjectRef::Existing { .. }));
}

#[test]
fn quickstart_fresh_world_orders_templates_create_add_join_wait() {
    let desired = example("quickstart");
    let p = plan(&desired, &ObservedStateBuilder::fresh(&desired).build());
    let templates = position(&p, |o| matches!(o, Operation::PatchPartnerTemplate { .. }));
    let create = position(&p, |o| matches!(o, Operation::CreateOrganization { .. }));
    let add = position(&p, |o| matches!(o, Operation::AddMember { .. }));
    let join = position(&p, |o| matches!(o, Operation::SubmitJoin { .. }));
    let wait = position(&p, |o| matches!(o, Operation::WaitForJoin { .. }));
    assert!(templates < create && create < add && add < join && join < wait);
    assert_eq!(p.actions[create].tenant.as_str(), "contoso");
    assert_eq!(
        p.actions[join].tenant.as_str(),
        "fabrikam",
        "a member joins with its own credential"
    );
    assert!(p.actions[wait].async_wait.is_some());
    assert!(!p.complete && p.applyable);
    assert_eq!(
        p.deferred.len(),
        4,
        "two partner pairs and two syncs wait for the join"
    );
    let wait_id = &p.actions[wait].id;
    assert!(p.deferred.iter().all(|d| d.waits_for.contains(wait_id)));
}

#[test]
fn hub_and_spoke_fresh_plan_is_incomplete_with_waits_and_deferred_work() {
    let desired = example("hub-and-spoke");
    let p = plan(&desired, &ObservedStateBuilder::fresh(&desired).build());
    assert!(!p.complete);
    let waits: Vec<_> = p
        .actions
        .iter()
        .filter(|a| a.kind == ActionKind::Wait)
        .collect();
    assert_eq!(waits.len(), 4, "one per joining subsidiary");
    assert!(waits.iter().all(|w| w.async_wait.is_some()));
    // 20 ordered pairs and 8 syncs, all behind joins.
    assert_eq!(p.deferred.len(), 20 + 8, "{:#?}", p.deferred);
    for a in &p.actions {
        if let Operation::SubmitJoin { .. } = a.operation {
            assert_ne!(a.tenant.as_str(), "hq");
            let add = p
                .actions
                .iter()
                .find(|b| matches!(&b.operation, Operation::AddMember { tenant_id, .. } if desired.tenant(&a.tenant).map(|t| &t.tenant_id) == Some(tenant_id)))
                .expect("added first");
            assert!(a.depends_on.contains(&add.id));
        }
    }
    assert!(p.summary.wait == 4);
}

/// Makes `member` pending, with `transition`, in both tenants' member lists.
fn pending_in_both_views(
    b: &mut ObservedStateBuilder<'_>,
    member: &mtoctl_model::ids::TenantId,
    transition: Option<MemberTransition>,
) {
    for t in ["contoso", "fabrikam"] {
        for m in &mut b.tenant_mut(t).organization.members {
            if &m.tenant_id == member {
                m.state = Known::Known(MemberState::Pending);
                m.transition = transition.clone();
            }
        }
    }
}

#[test]
fn joined_member_with_pending_join_only_waits() {
    let desired = example("quickstart");
    let fabrikam = ObservedStateBuilder::fresh(&desired).id("fabrikam");
    let contoso = ObservedStateBuilder::fresh(&desired).id("contoso");
    let observed = ObservedStateBuilder::converged(&desired)
        .with(|b| {
            pending_in_both_views(b, &fabrikam, None);
            let jr = &mut b.tenant_mut("fabrikam").join_request;
            jr.added_by = Some(contoso.clone());
            jr.member_state = Some(Known::Known(MemberState::Pending));
            jr.role = None;
            jr.transition = Some(JoinTransition {
                desired_member_state: Some(Known::Known(MemberState::Active)),
                status: Some(Known::Known(ProcessingStatus::Running)),
                details: None,
            });
        })
        .build();
    let p = plan(&desired, &observed);
    assert_eq!(p.actions.len(), 1, "{:#?}", kinds(&p));
    assert_eq!(p.actions[0].kind, ActionKind::Wait);
    assert!(!p.complete);
}

/// A member the owner just added: pending, its own join not yet submitted, with either of
/// the two shapes Graph documents for its `transitionDetails` (graph-facts.md).
fn added_not_joined(transition: Option<MemberTransition>) -> Plan {
    let desired = example("quickstart");
    let fabrikam = ObservedStateBuilder::fresh(&desired).id("fabrikam");
    let observed = ObservedStateBuilder::converged(&desired)
        .with(|b| {
            pending_in_both_views(b, &fabrikam, transition.clone());
            let jr = &mut b.tenant_mut("fabrikam").join_request;
            jr.added_by = None;
            jr.member_state = None;
            jr.role = None;
            jr.transition = None;
        })
        .build();
    plan(&desired, &observed)
}

#[test]
fn an_added_members_transition_record_is_not_a_role_change() {
    let how_to_shape = added_not_joined(Some(MemberTransition {
        desired_role: Some(Known::Known(MemberRole::Member)),
        desired_state: Some(Known::Known(MemberState::Active)),
        status: Some(Known::Known(ProcessingStatus::NotStarted)),
        details: None,
    }));
    let reference_shape = added_not_joined(None);
    let ops = |p: &Plan| -> Vec<String> {
        p.actions
            .iter()
            .map(|a| {
                format!("{:?}", a.operation)
                    .split([' ', '{'])
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    };
    assert!(
        !how_to_shape
            .actions
            .iter()
            .any(|a| matches!(a.operation, Operation::WaitForRole { .. })),
        "{:?}",
        ops(&how_to_shape)
    );
    assert_eq!(ops(&how_to_shape), ops(&reference_shape));
    assert!(
        ops(&reference_shape).iter().any(|o| o == "SubmitJoin"),
        "{:?}",
        ops(&reference_shape)
    );
}

#[test]
fn failed_join_is_reset_and_resubmitted() {
    let desired = example("quickstart");
    let fabrikam = ObservedStateBuilder::fresh(&desired).id("fabrikam");
    let contoso = ObservedStateBuilder::fresh(&desired).id("contoso");
    let observed = ObservedStateBuilder::converged(&desired)
        .with(|b| {
            for m in &mut b.tenant_mut("contoso").organization.members {
                if m.tenant_id == fabrikam {
                    m.state = Known::Known(MemberState::Pending);
                }
            }
            let jr = &mut b.tenant_mut("fabrikam").join_request;
            jr.added_by = Some(contoso.clone());
            jr.member_state = Some(Known::Known(MemberState::Pending));
            jr.transition = Some(JoinTransition {
                desired_member_state: Some(Known::Known(MemberState::Active)),
                status: Some(Known::Known(ProcessingStatus::Failed)),
                details: Some("DirectoryService Exception".into()),
            });
        })
        .build();
    let p = plan(&desired, &observed);
    let ops: Vec<_> = p.actions.iter().map(|a| &a.operation).collect();
    assert!(
        matches!(
            ops.as_slice(),
            [
                Operation::ResetJoin,
                Operation::SubmitJoin { .. },
                Operation::WaitForJoin { .. }
            ]
        ),
        "{ops:#?}"
    );
}

#[test]
fn a_misspelt_user_is_an_error_with_the_name_meant_and_removes_nobody() {
    let original = example("quickstart");
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/quickstart/mto.yaml"
    );
    let text = std::fs::read_to_string(path).expect("reads");
    let typo = spec(
        text.replace(
            "- bob@contoso.onmicrosoft.com",
            "- bobb@contoso.onmicrosoft.com",
        )
        .replace("- Contoso Sales", "- Contoso Sale")
        .as_bytes(),
    );
    let observed = ObservedStateBuilder::converged(&original)
        .with(|b| {
            let candidates = &mut b.tenant_mut("contoso").principals.candidates;
            candidates.insert(
                "bobb@contoso.onmicrosoft.com".into(),
                vec![
                    "bob@contoso.onmicrosoft.com".into(),
                    "bobby.tables@contoso.onmicrosoft.com".into(),
                ],
            );
            candidates.insert(
                "Contoso Sale".into(),
                vec!["Contoso Sales".into(), "Contoso Support".into()],
            );
        })
        .build();
    let p = plan(&typo, &observed);
    assert!(!p.applyable);
    assert!(
        !p.actions
            .iter()
            .any(|a| matches!(a.operation, Operation::RemoveAssignment { .. })),
        "{:#?}",
        kinds(&p)
    );
    let errors: Vec<&mtoctl_model::plan::Note> = p
        .notes
        .iter()
        .filter(|n| n.severity == Severity::Error)
        .collect();
    assert_eq!(errors.len(), 2, "{:#?}", p.notes);
    let user = errors
        .iter()
        .find(|n| n.message.contains("bobb@"))
        .expect("the user's error");
    assert!(
        user.message
            .starts_with("user bobb@contoso.onmicrosoft.com does not exist in contoso (did you mean one of bob@contoso.onmicrosoft.com, bobby.tables@contoso.onmicrosoft.com?)"),
        "{}",
        user.message
    );
    let entry = user.entry.as_ref().expect("the entry");
    assert_eq!(
        (
            entry.from.as_str(),
            entry.to.as_str(),
            entry.list,
            entry.name.as_str()
        ),
        (
            "contoso",
            "fabrikam",
            mtoctl_model::plan::ScopeList::Users,
            "bobb@contoso.onmicrosoft.com"
        )
    );
    let group = errors
        .iter()
        .find(|n| n.message.contains("Contoso Sale\""))
        .expect("the group's error");
    assert!(
        group.message.contains("(did you mean Contoso Sales")
            || group
                .message
                .contains("(did you mean one of Contoso Sales,"),
        "{}",
        group.message
    );
}

fn without_bob(yaml: &str) -> String {
    yaml.replace("        - bob@contoso.onmicrosoft.com\n", "")
}

#[test]
fn scope_shrink_is_destructive_with_impact() {
    let original = example("quickstart");
    let observed = ObservedStateBuilder::converged(&original).build();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/quickstart/mto.yaml"
    );
    let text = std::fs::read_to_string(path).expect("reads");
    let shrunk = spec(without_bob(&text).as_bytes());
    let p = plan(&shrunk, &observed);
    assert_eq!(p.actions.len(), 1, "{:#?}", kinds(&p));
    let a = &p.actions[0];
    assert_eq!(a.kind, ActionKind::Delete);
    assert!(a.destructive);
    assert!(matches!(a.operation, Operation::RemoveAssignment { .. }));
    let impact = a.impact.as_ref().expect("impact");
    assert_eq!(impact.users_leaving_scope, 1);
    assert!(impact.soft_deletes);
    assert!(
        impact.message.contains("soft-deleted in fabrikam"),
        "{}",
        impact.message
    );
    let md = crate::render::markdown::render(&p);
    assert!(md.contains("Resource deletion will happen"), "{md}");
}

#[test]
fn group_leaving_scope_is_reported_without_counting_members() {
    let desired = example("quickstart");
    let observed = ObservedStateBuilder::converged(&desired)
        .with(|b| {
            let d = b
                .sync_mut("contoso", QS_SYNC)
                .details
                .as_mut()
                .expect("details");
            d.assignments.push(AssignmentObservation {
                id: "extra".into(),
                principal_id: fake_guid("group/contoso/All Staff"),
                principal_type: Some("Group".into()),
                principal_display_name: Some("Contoso All Staff".into()),
                app_role_id: None,
            });
        })
        .build();
    let p = plan(&desired, &observed);
    assert_eq!(p.actions.len(), 1);
    let impact = p.actions[0].impact.as_ref().expect("impact");
    assert_eq!(
        impact.groups_leaving_scope,
        vec!["Contoso All Staff".to_owned()]
    );
    assert!(impact.message.contains("members not counted"));
}

fn undeclared_partner(b: &mut ObservedStateBuilder<'_>) {
    let id = mtoctl_model::ids::TenantId(fake_guid("stranger"));
    b.tenant_mut("contoso").partners.insert(
        id.clone(),
        PartnerObservation {
            tenant_id: id,
            is_in_multi_tenant_organization: Some(false),
            is_service_provider: None,
            settings: PartnerSettingsObservation::default(),
            identity_sync: Some(IdentitySyncObservation {
                display_name: Some("Stranger".into()),
                is_sync_allowed: Some(true),
                group_sync_inbound: None,
            }),
        },
    );
}

#[test]
fn undeclared_objects_are_notes_unless_pruned() {
    let desired = example("quickstart");
    let observed = ObservedStateBuilder::converged(&desired)
        .with(undeclared_partner)
        .build();
    let p = plan(&desired, &observed);
    assert!(p.actions.is_empty(), "{:#?}", kinds(&p));
    assert_eq!(
        p.notes
            .iter()
            .filter(|n| n.severity == Severity::Info)
            .count(),
        2
    );

    let mut pruning = desired.clone();
    pruning.prune.insert(PruneKind::PartnerConfigurations);
    let p = plan(&pruning, &observed);
    assert!(
        p.actions.is_empty(),
        "identity sync not pruned, so the partner cannot go"
    );
    assert!(p.notes.iter().any(|n| n.severity == Severity::Warning));

    pruning.prune.insert(PruneKind::IdentitySyncPolicies);
    let p = plan(&pruning, &observed);
    let ops: Vec<_> = p.actions.iter().map(|a| &a.operation).collect();
    assert!(
        matches!(
            ops.as_slice(),
            [
                Operation::DeleteIdentitySync { .. },
                Operation::DeletePartner { .. }
            ]
        ),
        "{ops:#?}"
    );
    assert!(
        p.actions
            .iter()
            .all(|a| a.destructive && a.impact.is_some())
    );
    assert_eq!(p.actions[1].depends_on, vec![p.actions[0].id]);
    assert_eq!(p.summary.delete, 2);
}

#[test]
fn pruned_member_is_removed_then_awaited() {
    let desired = example("quickstart");
    let stranger = mtoctl_model::ids::TenantId(fake_guid("stranger"));
    let observed = ObservedStateBuilder::converged(&desired)
        .with(|b| {
            b.tenant_mut("contoso")
                .organization
                .members
                .push(MemberObservation {
                    tenant_id: stranger.clone(),
                    display_name: "Stranger".into(),
                    role: Known::Known(MemberRole::Member),
                    state: Known::Known(MemberState::Active),
                    added_by: None,
                    transition: None,
                });
        })
        .build();
    assert!(plan(&desired, &observed).actions.is_empty());
    let mut pruning = desired.clone();
    pruning.prune.insert(PruneKind::Members);
    let p = plan(&pruning, &observed);
    let ops: Vec<_> = p.actions.iter().map(|a| &a.operation).collect();
    assert!(
        matches!(
            ops.as_slice(),
            [
                Operation::RemoveMember { .. },
                Operation::WaitForRemoval { .. }
            ]
        ),
        "{ops:#?}"
    );
    assert!(p.actions[0].destructive);
    assert_eq!(p.actions[0].tenant.as_str(), "contoso", "the owner removes");
}

#[test]
fn pruned_sync_configuration_is_deleted_with_impact() {
    let desired = example("quickstart");
    let observed = ObservedStateBuilder::converged(&desired)
        .with(|b| {
            let mut extra = b.sync_mut("contoso", QS_SYNC).clone();
            extra.display_name = "Legacy sync".into();
            extra.service_principal_id = "legacy-sp".into();
            extra.details = None;
            b.tenant_mut("contoso").sync_configurations.push(extra);
        })
        .build();
    assert!(plan(&desired, &observed).actions.is_empty());
    let mut pruning = desired.clone();
    pruning.prune.insert(PruneKind::SyncConfigurations);
    let p = plan(&pruning, &observed);
    assert_eq!(p.actions.len(), 1);
    assert!(
        matches!(&p.actions[0].operation, Operation::DeleteSyncConfiguration { service_principal_id, .. } if service_principal_id == "legacy-sp")
    );
    assert!(p.actions[0].destructive);
}

#[test]
fn unknown_enum_values_are_refused_and_explained() {
    let desired = example("quickstart");
    let observed = ObservedStateBuilder::converged(&desired)
        .with(|b| {
            let s = &mut b.partner_mut("contoso", "fabrikam").settings;
            s.automatic_user_consent_inbound = Some(false);
            s.b2b_collaboration_inbound = Some(B2bPolicyObservation {
                users_and_groups: Some(AccessRuleObservation {
                    access: Known::Unknown("unknownFutureValue".into()),
                    targets: vec!["AllUsers".into()],
                }),
                applications: None,
            });
        })
        .build();
    // The quickstart does not manage b2b settings, so the unknown value is not in the way.
    let p = plan(&desired, &observed);
    assert_eq!(p.actions.len(), 1);

    let mut managing = desired.clone();
    for settings in managing.collaboration.pairs.values_mut() {
        settings.b2b_collaboration = Some(mtoctl_model::spec::document::B2bSettings {
            inbound: Some(mtoctl_model::spec::document::B2bPolicy {
                users_and_groups: mtoctl_model::spec::document::AccessRule {
                    access: mtoctl_model::spec::document::Access::Allowed,
                    targets: vec!["AllUsers".into()],
                },
                applications: mtoctl_model::spec::document::AccessRule {
                    access: mtoctl_model::spec::document::Access::Allowed,
                    targets: vec!["AllApplications".into()],
                },
            }),
            outbound: None,
        });
    }
    let p = plan(&managing, &observed);
    assert!(
        p.actions
            .iter()
            .all(|a| a.addr.as_str() != "tenant.contoso.partner[\"fabrikam\"]"),
        "{:#?}",
        kinds(&p)
    );
    let refusal = p
        .notes
        .iter()
        .find(|n| {
            n.addr.as_ref().map(|a| a.as_str()) == Some("tenant.contoso.partner[\"fabrikam\"]")
        })
        .expect("a note explains");
    assert!(
        refusal.message.contains("unknownFutureValue"),
        "{}",
        refusal.message
    );
    assert!(p.applyable, "the rest of the plan stays applyable");
    assert!(
        p.actions
            .iter()
            .any(|a| a.addr.as_str() == "tenant.fabrikam.partner[\"contoso\"]")
    );
}

#[test]
fn unknown_member_state_blocks_that_member_only() {
    let desired = example("quickstart");
    let fabrikam = ObservedStateBuilder::fresh(&desired).id("fabrikam");
    let observed = ObservedStateBuilder::converged(&desired)
        .with(|b| {
            for m in &mut b.tenant_mut("contoso").organization.members {
                if m.tenant_id == fabrikam {
                    m.state = Known::Unknown("unknownFutureValue".into());
                }
            }
            b.partner_mut("contoso", "fabrikam")
                .settings
                .automatic_user_consent_inbound = Some(false);
        })
        .build();
    let p = plan(&desired, &observed);
    assert!(
        p.actions.is_empty(),
        "pairs with fabrikam are not acted on: {:#?}",
        kinds(&p)
    );
    assert!(p.notes.iter().any(|n| n.message.contains("does not know")));
}

#[test]
fn admin_center_configuration_is_adopted_not_duplicated() {
    let desired = example("quickstart");
    let observed = ObservedStateBuilder::converged(&desired)
        .with(|b| {
            let d = b
                .sync_mut("contoso", QS_SYNC)
                .details
                .as_mut()
                .expect("details");
            d.jobs.clear();
            d.assignments.clear();
        })
        .build();
    let p = plan(&desired, &observed);
    assert!(
        !p.actions
            .iter()
            .any(|a| matches!(a.operation, Operation::InstantiateSyncConfiguration { .. }))
    );
    let order: Vec<&str> = p
        .actions
        .iter()
        .map(|a| match a.operation {
            Operation::ValidateCredentials { .. } => "validate",
            Operation::CreateSyncJob { .. } => "job",
            Operation::PutSyncSecrets { .. } => "secrets",
            Operation::UpdateSchema { .. } => "schema",
            Operation::AssignPrincipal { .. } => "assign",
            Operation::StartJob { .. } => "start",
            _ => "other",
        })
        .collect();
    assert_eq!(
        order,
        [
            "validate", "job", "secrets", "schema", "assign", "assign", "assign", "start"
        ]
    );
    // Later steps refer to the job this plan creates, symbolically.
    let job_id = &p.actions[1].id;
    assert!(
        matches!(&p.actions[3].operation, Operation::UpdateSchema { job: ObjectRef::CreatedBy { action }, .. } if action == job_id)
    );
}

#[test]
fn new_sync_follows_target_side_settings() {
    let desired = example("quickstart");
    let observed = ObservedStateBuilder::converged(&desired)
        .with(|b| {
            b.tenant_mut("contoso").sync_configurations.clear();
            let p = b.partner_mut("fabrikam", "contoso");
            p.identity_sync = None;
        })
        .build();
    let p = plan(&desired, &observed);
    let idsync = position(&p, |o| matches!(o, Operation::CreateIdentitySync { .. }));
    let instantiate = position(&p, |o| {
        matches!(o, Operation::InstantiateSyncConfiguration { .. })
    });
    let validate = position(&p, |o| matches!(o, Operation::ValidateCredentials { .. }));
    assert_eq!(p.actions[idsync].tenant.as_str(), "fabrikam");
    assert!(
        p.actions[validate]
            .depends_on
            .contains(&p.actions[idsync].id)
    );
    assert!(
        p.actions[validate]
            .depends_on
            .contains(&p.actions[instantiate].id)
    );
    assert!(p.actions.iter().any(|a| matches!(
        a.operation,
        Operation::PutSyncSecrets {
            sync_all: false,
            ..
        }
    )));
}

#[test]
fn running_jobs_are_never_started_and_paused_ones_are() {
    let desired = example("quickstart");
    let observed = ObservedStateBuilder::converged(&desired)
        .with(|b| {
            let job = &mut b
                .sync_mut("contoso", QS_SYNC)
                .details
                .as_mut()
                .expect("d")
                .jobs[0];
            job.schedule_state = Some("Paused".into());
        })
        .build();
    let p = plan(&desired, &observed);
    assert_eq!(kinds(&p).len(), 1);
    assert_eq!(p.actions[0].kind, ActionKind::Start);
    // Secrets are write-only: never planned for an existing job.
    assert!(
        !p.actions
            .iter()
            .any(|a| matches!(a.operation, Operation::PutSyncSecrets { .. }))
    );
}

#[test]
fn sole_owner_demotion_waits_for_the_promotion() {
    let desired = example("quickstart");
    let observed = ObservedStateBuilder::converged(&desired).build();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/quickstart/mto.yaml"
    );
    let text = std::fs::read_to_string(path).expect("reads");
    let swapped = text
        .replace("role: owner", "role: PLACEHOLDER")
        .replace("role: member", "role: owner")
        .replace("role: PLACEHOLDER", "role: member");
    let p = plan(&spec(swapped.as_bytes()), &observed);
    let ops: Vec<_> = p.actions.iter().map(|a| &a.operation).collect();
    assert!(
        matches!(
            ops.as_slice(),
            [
                Operation::ChangeMemberRole {
                    role: MemberRole::Owner,
                    ..
                },
                Operation::WaitForRole { .. }
            ]
        ),
        "{ops:#?}"
    );
    assert_eq!(p.deferred.len(), 1);
    assert!(p.deferred[0].summary.contains("demote contoso"));
    assert_eq!(p.deferred[0].waits_for, vec![p.actions[1].id]);
}

#[test]
fn missing_tenant_observation_is_an_error_not_absence() {
    let desired = example("quickstart");
    let mut observed = ObservedStateBuilder::fresh(&desired).build();
    observed.tenants.clear();
    assert!(matches!(
        crate::plan(&desired, &observed),
        Err(crate::PlanError::MissingObservation { .. })
    ));
}

#[test]
fn plan_json_round_trips() {
    let desired = example("hub-and-spoke");
    let p = plan(&desired, &ObservedStateBuilder::fresh(&desired).build());
    let back: Plan = serde_json::from_str(&json(&p)).expect("parses");
    assert_eq!(back, p);
    let _: Guid = fake_guid("x");
}

#[test]
fn markdown_is_truncated_below_the_limit_with_a_note() {
    let desired = example("hub-and-spoke");
    let p = plan(&desired, &ObservedStateBuilder::fresh(&desired).build());
    let full = crate::render::markdown::render(&p);
    assert!(!full.contains("Plan truncated"));
    let limited = crate::render::markdown::render_limited(&p, 2_000);
    assert!(limited.len() < 2_000, "{}", limited.len());
    assert!(limited.contains("Plan truncated"));
    assert!(limited.contains("</details>"));
}

/// The actions of contoso's sync in the quickstart, by operation name.
fn contoso_sync(p: &Plan) -> BTreeMap<&'static str, Vec<usize>> {
    let mut by_op: BTreeMap<&'static str, Vec<usize>> = BTreeMap::new();
    for (i, a) in p.actions.iter().enumerate() {
        if a.tenant.as_str() == "contoso" && a.addr.to_string().contains(".sync[") {
            by_op
                .entry(crate::diff::op_name(&a.operation))
                .or_default()
                .push(i);
        }
    }
    by_op
}

#[test]
fn a_sync_waiting_for_a_join_is_made_stopped_now_and_validated_and_started_after() {
    let desired = example("quickstart");
    let p = plan(&desired, &ObservedStateBuilder::fresh(&desired).build());
    let wait = position(&p, |o| matches!(o, Operation::WaitForJoin { .. }));
    let ops = contoso_sync(&p);
    let names: Vec<_> = ops.keys().copied().collect();
    assert_eq!(
        names,
        ["create_job", "instantiate", "put_secrets", "update_schema"],
        "no validation, no assignment and no start before the join"
    );
    let [instantiate] = ops["instantiate"][..] else {
        panic!("one instantiation")
    };
    let inst_id = p.actions[instantiate].id;
    for (op, at) in &ops {
        for &i in at {
            assert!(
                !p.actions[i].depends_on.contains(&p.actions[wait].id),
                "{op} does not wait for the join"
            );
        }
    }
    for op in ["create_job", "put_secrets"] {
        for &i in &ops[op] {
            assert_eq!(
                p.actions[i].depends_on,
                [inst_id],
                "{op} follows the instantiation alone"
            );
        }
    }
    let d = p
        .deferred
        .iter()
        .find(|d| d.addr == p.actions[instantiate].addr)
        .expect("validation and start deferred");
    assert!(
        d.summary.contains("validate") && d.summary.contains("start"),
        "{}",
        d.summary
    );
    assert_eq!(d.waits_for, [p.actions[wait].id]);
}

#[test]
fn a_new_configurations_job_settings_and_validation_run_side_by_side_before_the_start() {
    let desired = example("quickstart");
    let observed = ObservedStateBuilder::converged(&desired)
        .with(|b| b.tenant_mut("contoso").sync_configurations.clear())
        .build();
    let p = plan(&desired, &observed);
    let ops = contoso_sync(&p);
    let one = |op: &str| {
        let [i] = ops[op][..] else { panic!("one {op}") };
        i
    };
    let id = |i: usize| p.actions[i].id;
    let (inst, validate, job, secrets, schema, start) = (
        one("instantiate"),
        one("validate_credentials"),
        one("create_job"),
        one("put_secrets"),
        one("update_schema"),
        one("start_job"),
    );
    assert_eq!(p.actions[job].depends_on, [id(inst)]);
    assert_eq!(p.actions[secrets].depends_on, [id(inst)]);
    assert_eq!(p.actions[schema].depends_on, [id(job)]);
    assert!(p.actions[validate].depends_on.contains(&id(inst)));
    let start_after = &p.actions[start].depends_on;
    for i in [validate, secrets, schema]
        .into_iter()
        .chain(ops["assign"].iter().copied())
    {
        assert!(
            start_after.contains(&id(i)),
            "start after {}",
            p.actions[i].addr
        );
    }
}

#[test]
fn a_job_never_started_is_validated_before_its_start_and_a_paused_one_is_not() {
    let desired = example("quickstart");
    let with_state = |state: &str| {
        let observed = ObservedStateBuilder::converged(&desired)
            .with(|b| {
                b.sync_mut("contoso", QS_SYNC)
                    .details
                    .as_mut()
                    .expect("details")
                    .jobs[0]
                    .schedule_state = Some(state.into());
            })
            .build();
        plan(&desired, &observed)
    };
    let p = with_state("Disabled");
    let ops: Vec<_> = p
        .actions
        .iter()
        .map(|a| crate::diff::op_name(&a.operation))
        .collect();
    assert_eq!(ops, ["validate_credentials", "start_job"]);
    assert_eq!(p.actions[1].depends_on, [p.actions[0].id]);
    let p = with_state("Paused");
    assert_eq!(
        p.actions
            .iter()
            .map(|a| crate::diff::op_name(&a.operation))
            .collect::<Vec<_>>(),
        ["start_job"]
    );
}
