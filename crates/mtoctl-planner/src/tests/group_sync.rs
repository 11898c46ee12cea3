//! Group synchronization (beta): the target's `groupSyncInbound`, the job's group mapping, a
//! plan note naming the beta API, and a group leaving the scope counted with its members.

use mtoctl_model::ids::Guid;
use mtoctl_model::observed::{AssignmentObservation, GroupObservation};
use mtoctl_model::plan::{Operation, Plan, Severity};

use super::{example, plan, spec};
use crate::testing::{ObservedStateBuilder, fake_guid};

const NAME: &str = "MTO_Sync_3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11";

fn group_sync_spec() -> mtoctl_model::DesiredState {
    example("group-sync")
}

fn identity_sync_ops(p: &Plan) -> Vec<&Operation> {
    p.actions
        .iter()
        .map(|a| &a.operation)
        .filter(|o| {
            matches!(
                o,
                Operation::CreateIdentitySync { .. } | Operation::PatchIdentitySync { .. }
            )
        })
        .collect()
}

#[test]
fn a_converged_group_sync_plans_nothing_and_says_it_uses_beta() {
    let desired = group_sync_spec();
    let p = plan(&desired, &ObservedStateBuilder::converged(&desired).build());
    assert!(p.actions.is_empty(), "{:#?}", p.actions);
    assert!(
        p.notes
            .iter()
            .any(|n| n.severity == Severity::Info && n.message.contains("beta API")),
        "{:#?}",
        p.notes
    );
    // A spec without the opt-in says nothing of beta.
    let plain = example("quickstart");
    let p = plan(&plain, &ObservedStateBuilder::converged(&plain).build());
    assert!(!p.notes.iter().any(|n| n.message.contains("beta")));
}

#[test]
fn groups_not_allowed_in_are_allowed_by_a_patch_of_groups_alone() {
    let desired = group_sync_spec();
    let mut before = ObservedStateBuilder::converged(&desired);
    for (t, partner) in [("fabrikam", "contoso"), ("contoso", "fabrikam")] {
        let id = desired
            .tenant(&mtoctl_model::ids::Alias(partner.into()))
            .expect("tenant")
            .tenant_id
            .clone();
        let p = before.tenant_mut(t).partners.get_mut(&id).expect("partner");
        p.identity_sync.as_mut().expect("policy").group_sync_inbound = None;
    }
    let p = plan(&desired, &before.build());
    let ops = identity_sync_ops(&p);
    assert_eq!(ops.len(), 2, "{:#?}", p.actions);
    for op in ops {
        assert!(
            matches!(
                op,
                Operation::PatchIdentitySync {
                    is_sync_allowed: None,
                    group_sync_allowed: Some(true),
                    ..
                }
            ),
            "{op:?}"
        );
    }
    assert!(
        p.actions
            .iter()
            .any(|a| a.summary == "allow contoso to sync groups into fabrikam"),
        "{:#?}",
        p.actions.iter().map(|a| &a.summary).collect::<Vec<_>>()
    );
}

#[test]
fn a_missing_policy_is_created_with_both_settings() {
    let desired = group_sync_spec();
    let mut before = ObservedStateBuilder::converged(&desired);
    let contoso = desired
        .tenant(&mtoctl_model::ids::Alias("contoso".into()))
        .expect("tenant")
        .tenant_id
        .clone();
    before
        .tenant_mut("fabrikam")
        .partners
        .get_mut(&contoso)
        .expect("partner")
        .identity_sync = None;
    let p = plan(&desired, &before.build());
    let ops = identity_sync_ops(&p);
    assert_eq!(ops.len(), 1, "{:#?}", p.actions);
    assert!(
        matches!(
            ops[0],
            Operation::CreateIdentitySync {
                is_sync_allowed: true,
                group_sync_allowed: Some(true),
                ..
            }
        ),
        "{:?}",
        ops[0]
    );
}

#[test]
fn the_group_mapping_is_enabled_by_the_schema_write_and_disabled_when_asked() {
    let desired = group_sync_spec();
    let mut before = ObservedStateBuilder::converged(&desired);
    let job = &mut before
        .sync_mut("contoso", NAME)
        .details
        .as_mut()
        .expect("details")
        .jobs[0];
    job.groups_provisioned = Some(false);
    let p = plan(&desired, &before.build());
    assert_eq!(p.actions.len(), 1, "{:#?}", p.actions);
    let a = &p.actions[0];
    assert!(
        matches!(
            a.operation,
            Operation::UpdateSchema {
                groups: Some(true),
                ..
            }
        ),
        "{:?}",
        a.operation
    );
    let change = a
        .changes
        .iter()
        .find(|c| c.path == "groups_provisioned")
        .expect("a groups change");
    assert_eq!(change.before.as_deref(), Some("false"));
    assert_eq!(change.after.as_deref(), Some("true"));

    // `membersOnly` turns an enabled mapping off; a job without a group mapping has nothing
    // to turn off.
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/group-sync/mto.yaml"
    ))
    .expect("example");
    let members_only = spec(
        text.replace("groupsAndMembers", "membersOnly")
            .replace("    allowGroupsSyncInbound: true\n", "")
            .as_bytes(),
    );
    let mut enabled = ObservedStateBuilder::converged(&members_only);
    let job = &mut enabled
        .sync_mut("contoso", NAME)
        .details
        .as_mut()
        .expect("details")
        .jobs[0];
    job.groups_provisioned = Some(true);
    let p = plan(&members_only, &enabled.build());
    assert!(
        p.actions.iter().any(|a| matches!(
            a.operation,
            Operation::UpdateSchema {
                groups: Some(false),
                ..
            }
        )),
        "{:#?}",
        p.actions
    );
    let mut none = ObservedStateBuilder::converged(&members_only);
    none.sync_mut("contoso", NAME)
        .details
        .as_mut()
        .expect("details")
        .jobs[0]
        .groups_provisioned = None;
    assert!(plan(&members_only, &none.build()).actions.is_empty());
}

#[test]
fn a_provisioned_group_leaving_the_scope_is_destructive_with_its_members_counted() {
    let desired = group_sync_spec();
    let mut before = ObservedStateBuilder::converged(&desired);
    // "Contoso Marketing" is assigned, with 7 members, and the spec no longer names it.
    let id: Guid = fake_guid("group/contoso/Contoso Marketing");
    before.tenant_mut("contoso").principals.groups_by_id.insert(
        id.clone(),
        GroupObservation {
            id: id.clone(),
            display_name: "Contoso Marketing".into(),
            member_count: Some(7),
        },
    );
    let details = before
        .sync_mut("contoso", NAME)
        .details
        .as_mut()
        .expect("details");
    let role = details.assignments[0].app_role_id.clone();
    details.assignments.push(AssignmentObservation {
        id: "assign-marketing".into(),
        principal_id: id,
        principal_type: Some("Group".into()),
        principal_display_name: Some("Contoso Marketing".into()),
        app_role_id: role,
    });
    let p = plan(&desired, &before.build());
    let removal = p
        .actions
        .iter()
        .find(|a| matches!(a.operation, Operation::RemoveAssignment { .. }))
        .expect("a removal");
    assert!(removal.destructive);
    let impact = removal.impact.as_ref().expect("impact");
    assert_eq!(impact.users_leaving_scope, 7);
    assert_eq!(
        impact.groups_leaving_scope,
        vec!["Contoso Marketing".to_owned()]
    );
    assert!(
        impact.message.contains("7 members") && impact.message.contains("is deleted in fabrikam"),
        "{}",
        impact.message
    );
}
