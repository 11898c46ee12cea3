//! Members of the organization that the spec does not list: left alone with a note, or removed
//! when `prune` names `members` (an owner demoted first, then removed in a later round).

use mtoctl_model::desired::TenantSpec;
use mtoctl_model::observed::{Known, MemberRole, MemberState};
use mtoctl_model::spec::document::PruneKind;

use super::wait_draft;
use crate::diff::{Ctx, Draft, change};
use mtoctl_model::plan::ResourceAddr;
use mtoctl_model::plan::Severity;
use mtoctl_model::plan::fingerprint;
use mtoctl_model::plan::{ActionKind, ActionReason, Impact, Operation, WaitCondition};

/// Members the spec does not list: removed only when `prune` names `members`.
pub(super) fn undeclared(ctx: &mut Ctx<'_>, owner: &TenantSpec) {
    let desired = ctx.desired;
    let prune = desired.prune.contains(&PruneKind::Members);
    let members = &ctx.obs(&owner.alias).organization.members;
    for m in members {
        if ctx.alias_of(&m.tenant_id).is_some() {
            continue;
        }
        let addr = ResourceAddr::member(m.tenant_id.0.as_str());
        let expected = ctx.seen(&addr, fingerprint::member(m));
        let label = format!("{} ({})", m.display_name, m.tenant_id);
        if !prune {
            ctx.note(
                Severity::Info,
                Some(addr),
                format!("member {label} is not in the spec; left alone (add `members` to prune to remove it)"),
            );
            continue;
        }
        let (Known::Known(role), Known::Known(state)) = (&m.role, &m.state) else {
            ctx.note(
                Severity::Warning,
                Some(addr),
                format!("member {label} has a role or state mtoctl does not know; not removing it"),
            );
            continue;
        };
        let removing = *state == MemberState::Removed
            || m.transition.as_ref().and_then(|x| x.desired_state.as_ref())
                == Some(&Known::Known(MemberState::Removed));
        if removing {
            ctx.push(
                wait_draft(
                    addr,
                    &owner.alias,
                    Operation::WaitForRemoval {
                        tenant_id: m.tenant_id.clone(),
                    },
                    WaitCondition::Removed,
                    format!("wait for the removal of {label} to complete"),
                    Vec::new(),
                )
                .expect(expected.clone()),
            );
            continue;
        }
        if *role == MemberRole::Owner {
            // Graph does not remove owners: demote first, remove in a later round.
            let key = ctx.push(
                Draft::new(
                    addr.clone(),
                    &owner.alias,
                    ActionKind::Update,
                    Operation::ChangeMemberRole {
                        tenant_id: m.tenant_id.clone(),
                        role: MemberRole::Member,
                    },
                    ActionReason::Prune,
                    format!("demote {label} to member before removing it"),
                )
                .expect(expected)
                .changes(vec![change(
                    "role",
                    Some(&m.role),
                    Some(&MemberRole::Member),
                )]),
            );
            let wait = ctx.push(wait_draft(
                addr.clone(),
                &owner.alias,
                Operation::WaitForRole {
                    tenant_id: m.tenant_id.clone(),
                    role: MemberRole::Member,
                },
                WaitCondition::RoleChanged,
                format!("wait for {label} to become member"),
                vec![key],
            ));
            ctx.defer(
                addr,
                &owner.alias,
                ActionKind::Delete,
                format!("remove {label} from the organization"),
                "an owner cannot be removed; its demotion must complete first".into(),
                vec![wait],
            );
            continue;
        }
        let mut remove = Draft::new(
            addr.clone(),
            &owner.alias,
            ActionKind::Delete,
            Operation::RemoveMember {
                tenant_id: m.tenant_id.clone(),
            },
            ActionReason::Prune,
            format!("remove {label} from the organization"),
        )
        .expect(expected);
        remove.destructive = true;
        remove.impact = Some(Box::new(Impact {
            message: format!(
                "{label} leaves the organization; its cross-tenant access settings and sync configurations stay until removed separately"
            ),
            users_leaving_scope: 0,
            groups_leaving_scope: Vec::new(),
            soft_deletes: false,
        }));
        let key = ctx.push(remove);
        ctx.push(wait_draft(
            addr,
            &owner.alias,
            Operation::WaitForRemoval {
                tenant_id: m.tenant_id.clone(),
            },
            WaitCondition::Removed,
            format!("wait for the removal of {label} to complete"),
            vec![key],
        ));
    }
}
