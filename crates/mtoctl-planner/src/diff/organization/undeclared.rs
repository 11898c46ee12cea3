//! Members of the organization that the spec does not list: left alone with a note, or removed
//! when `prune` names `members` (an owner demoted first, then removed in a later round); and
//! [`remove`], the removal of one member, which `destroy` plans for every member too.

use mtoctl_model::desired::TenantSpec;
use mtoctl_model::observed::{Known, MemberObservation, MemberRole, MemberState};
use mtoctl_model::spec::document::PruneKind;

use super::wait_draft;
use crate::diff::{Ctx, Draft, change};
use mtoctl_model::plan::ResourceAddr;
use mtoctl_model::plan::Severity;
use mtoctl_model::plan::fingerprint;
use mtoctl_model::plan::{ActionId, ActionKind, ActionReason, Impact, Operation, WaitCondition};

/// Members the spec does not list: removed only when `prune` names `members`.
pub(super) fn undeclared(ctx: &mut Ctx<'_>, owner: &TenantSpec) {
    let desired = ctx.desired;
    let prune = desired.prune.contains(&PruneKind::Members);
    let members = &ctx.obs(&owner.alias).organization.members;
    for m in members {
        if ctx.alias_of(&m.tenant_id).is_some() {
            continue;
        }
        if !prune {
            let addr = ResourceAddr::member(m.tenant_id.0.as_str());
            ctx.seen(&addr, fingerprint::member(m));
            ctx.note(
                Severity::Info,
                Some(addr),
                format!(
                    "member {} ({}) is not in the spec; left alone (add `members` to prune to remove it)",
                    m.display_name, m.tenant_id
                ),
            );
            continue;
        }
        remove(ctx, owner, m, ActionReason::Prune, Vec::new());
    }
}

/// Plans the removal of member `m` by the acting `owner`: an owner is demoted first and removed
/// in a later round, a removal in flight is waited for. Its first write follows `after`.
/// Returns the keys of the waits planned, which whatever needs the member gone must follow
/// (empty when nothing could be planned).
pub(crate) fn remove(
    ctx: &mut Ctx<'_>,
    owner: &TenantSpec,
    m: &MemberObservation,
    reason: ActionReason,
    after: Vec<ActionId>,
) -> Vec<ActionId> {
    let addr = ResourceAddr::member(
        ctx.alias_of(&m.tenant_id)
            .map_or(m.tenant_id.0.as_str(), |a| a.as_str()),
    );
    let expected = ctx.seen(&addr, fingerprint::member(m));
    let label = format!("{} ({})", m.display_name, m.tenant_id);
    let (Known::Known(role), Known::Known(state)) = (&m.role, &m.state) else {
        ctx.note(
            Severity::Warning,
            Some(addr),
            format!("member {label} has a role or state mtoctl does not know; not removing it"),
        );
        return Vec::new();
    };
    let removing = *state == MemberState::Removed
        || m.transition.as_ref().and_then(|x| x.desired_state.as_ref())
            == Some(&Known::Known(MemberState::Removed));
    if removing {
        let wait = ctx.push(
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
        return vec![wait];
    }
    if *role == MemberRole::Owner && m.tenant_id != owner.tenant_id {
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
                reason,
                format!("demote {label} to member before removing it"),
            )
            .after(after)
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
        return vec![wait];
    }
    let (summary, message) = if m.tenant_id == owner.tenant_id {
        (
            format!("remove {label}, the last tenant, from the organization (this dissolves it)"),
            format!("the organization ends: {label} was its last tenant"),
        )
    } else if reason == ActionReason::Destroy {
        (
            format!("remove {label} from the organization"),
            format!("{label} leaves the organization"),
        )
    } else {
        (
            format!("remove {label} from the organization"),
            format!(
                "{label} leaves the organization; its cross-tenant access settings and sync configurations stay until removed separately"
            ),
        )
    };
    let mut remove = Draft::new(
        addr.clone(),
        &owner.alias,
        ActionKind::Delete,
        Operation::RemoveMember {
            tenant_id: m.tenant_id.clone(),
        },
        reason,
        summary,
    )
    .after(after)
    .expect(expected);
    remove.destructive = true;
    remove.impact = Some(Box::new(Impact::described(message)));
    let key = ctx.push(remove);
    let wait = ctx.push(wait_draft(
        addr,
        &owner.alias,
        Operation::WaitForRemoval {
            tenant_id: m.tenant_id.clone(),
        },
        WaitCondition::Removed,
        format!("wait for the removal of {label} to complete"),
        vec![key],
    ));
    vec![wait]
}
