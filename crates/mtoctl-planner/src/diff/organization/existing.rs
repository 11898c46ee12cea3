//! An organization that exists with an active owner in the spec: its own properties, and each
//! spec tenant's membership, role and join, promotions before demotions (it always keeps an owner).

use mtoctl_model::desired::TenantSpec;
use mtoctl_model::observed::{
    Known, MemberObservation, MemberRole, MemberState, MtoState, ProcessingStatus,
};
use mtoctl_model::spec::document::Role;

use super::join::{add_and_join, pending};
use super::undeclared::undeclared;
use super::{member_role, role_name, set_readiness, wait_draft};
use crate::diff::{Ctx, Draft, Readiness, change};
use mtoctl_model::plan::ResourceAddr;
use mtoctl_model::plan::Severity;
use mtoctl_model::plan::fingerprint;
use mtoctl_model::plan::{
    ActionId, ActionKind, ActionReason, ExpectedBefore, Operation, WaitCondition,
};

/// The organization exists and `owner` is an active owner of it.
pub(super) fn existing(ctx: &mut Ctx<'_>, owner: &TenantSpec) {
    let desired = ctx.desired;
    let owner_obs = ctx.obs(&owner.alias);
    let org = &owner_obs.organization;
    set_readiness(ctx, &owner.alias, Readiness::Ready);

    // The organization's own properties.
    let addr = ResourceAddr::organization();
    let expected = ctx.seen(&addr, fingerprint::organization(org));
    ctx.check(&addr);
    let mut changes = Vec::new();
    let name = (org.display_name.as_deref() != Some(desired.organization.display_name.as_str()))
        .then(|| {
            changes.push(change(
                "display_name",
                Some(&org.display_name),
                Some(&desired.organization.display_name),
            ));
            desired.organization.display_name.clone()
        });
    let description = desired.organization.description.as_ref().and_then(|want| {
        (org.description.as_ref() != Some(want)).then(|| {
            changes.push(change("description", Some(&org.description), Some(want)));
            want.clone()
        })
    });
    if name.is_some() || description.is_some() {
        ctx.push(
            Draft::new(
                addr,
                &owner.alias,
                ActionKind::Update,
                Operation::UpdateOrganization {
                    display_name: name,
                    description,
                },
                ActionReason::Drift,
                "update the organization's properties",
            )
            .expect(expected)
            .changes(changes),
        );
    }

    // Spec tenants. Demotions wait until every promotion is known.
    let members = &org.members;
    let mut promotions = Vec::new();
    let mut demotions = Vec::new();
    for t in &desired.tenants {
        if matches!(ctx.readiness.get(&t.alias), Some(Readiness::Blocked { .. })) {
            continue;
        }
        let addr = ResourceAddr::member(t.alias.as_str());
        let Some(m) = members.iter().find(|m| m.tenant_id == t.tenant_id) else {
            if ctx.obs(&t.alias).organization.state.is(&MtoState::Active) {
                let why = format!(
                    "{} already belongs to another multitenant organization (a tenant can belong to only one)",
                    t.alias
                );
                ctx.note(Severity::Error, Some(addr), why.clone());
                set_readiness(ctx, &t.alias, Readiness::Blocked { why });
            } else {
                add_and_join(ctx, owner, t, Vec::new());
            }
            continue;
        };
        let expected = ctx.seen(&addr, fingerprint::member(m));
        ctx.check(&addr);
        let (Known::Known(role), Known::Known(state)) = (&m.role, &m.state) else {
            let why = format!(
                "{}'s membership has a role or state mtoctl does not know ({:?}, {:?}); not acting on it",
                t.alias, m.role, m.state
            );
            ctx.note(Severity::Warning, Some(addr), why.clone());
            set_readiness(ctx, &t.alias, Readiness::Blocked { why });
            continue;
        };
        if m.display_name != t.display_name {
            ctx.note(
                Severity::Info,
                Some(addr.clone()),
                format!(
                    "{} is a member as \"{}\" but the spec says \"{}\"; Graph cannot rename a member (remove and add it again to rename it)",
                    t.alias, m.display_name, t.display_name
                ),
            );
        }
        let removing = *state == MemberState::Removed
            || m.transition.as_ref().and_then(|x| x.desired_state.as_ref())
                == Some(&Known::Known(MemberState::Removed));
        if removing {
            let wait = ctx.push(
                wait_draft(
                    addr.clone(),
                    &owner.alias,
                    Operation::WaitForRemoval {
                        tenant_id: t.tenant_id.clone(),
                    },
                    WaitCondition::Removed,
                    format!("wait for {}'s removal to complete", t.alias),
                    Vec::new(),
                )
                .expect(expected.clone()),
            );
            ctx.defer(
                addr,
                &owner.alias,
                ActionKind::Create,
                format!("add {} to the organization again", t.alias),
                format!("{} is being removed from the organization", t.alias),
                vec![wait],
            );
            set_readiness(
                ctx,
                &t.alias,
                Readiness::Waiting {
                    waits: vec![wait],
                    why: format!("{} is being removed and must be added again", t.alias),
                },
            );
            continue;
        }
        let want = member_role(t.role);
        // A record whose desired role is the member's role already is an add or a join in
        // flight, not a role change: Graph shows both shapes for a new member (graph-facts.md).
        let in_flight = *role != want
            && m.transition.as_ref().is_some_and(|x| {
                x.desired_role.as_ref() == Some(&Known::Known(want))
                    && !matches!(
                        x.status,
                        Some(Known::Known(
                            ProcessingStatus::Failed | ProcessingStatus::Succeeded
                        ))
                    )
            });
        if in_flight {
            let wait = ctx.push(
                wait_draft(
                    addr.clone(),
                    &owner.alias,
                    Operation::WaitForRole {
                        tenant_id: t.tenant_id.clone(),
                        role: want,
                    },
                    WaitCondition::RoleChanged,
                    format!("wait for {} to become {}", t.alias, role_name(want)),
                    Vec::new(),
                )
                .expect(expected.clone()),
            );
            if want == MemberRole::Owner {
                promotions.push(wait);
            }
        } else if *role != want {
            match want {
                MemberRole::Owner => promotions.push(change_role(
                    ctx,
                    owner,
                    t,
                    m,
                    want,
                    expected.clone(),
                    Vec::new(),
                )),
                MemberRole::Member => demotions.push((t, m, expected.clone())),
            }
        }
        match state {
            MemberState::Active => set_readiness(ctx, &t.alias, Readiness::Ready),
            MemberState::Pending => pending(ctx, owner, t),
            MemberState::Removed => {}
        }
    }

    for (t, m, expected) in demotions {
        demote(ctx, owner, t, m, expected, &promotions);
    }
    undeclared(ctx, owner);
}

fn change_role(
    ctx: &mut Ctx<'_>,
    owner: &TenantSpec,
    t: &TenantSpec,
    m: &MemberObservation,
    want: MemberRole,
    expected: ExpectedBefore,
    after: Vec<ActionId>,
) -> ActionId {
    let addr = ResourceAddr::member(t.alias.as_str());
    let verb = if want == MemberRole::Owner {
        "promote"
    } else {
        "demote"
    };
    let key = ctx.push(
        Draft::new(
            addr.clone(),
            &owner.alias,
            ActionKind::Update,
            Operation::ChangeMemberRole {
                tenant_id: t.tenant_id.clone(),
                role: want,
            },
            ActionReason::Drift,
            format!("{verb} {} to {}", t.alias, role_name(want)),
        )
        .after(after)
        .expect(expected)
        .changes(vec![change("role", Some(&m.role), Some(&want))]),
    );
    ctx.push(wait_draft(
        addr,
        &owner.alias,
        Operation::WaitForRole {
            tenant_id: t.tenant_id.clone(),
            role: want,
        },
        WaitCondition::RoleChanged,
        format!("wait for {} to become {}", t.alias, role_name(want)),
        vec![key],
    ))
}

/// Demotes an owner, but only while another active owner remains (an organization always
/// needs one); otherwise the demotion waits for the promotions of this plan.
fn demote(
    ctx: &mut Ctx<'_>,
    owner: &TenantSpec,
    t: &TenantSpec,
    m: &MemberObservation,
    expected: ExpectedBefore,
    promotions: &[ActionId],
) {
    let desired = ctx.desired;
    let members = &ctx.obs(&owner.alias).organization.members;
    let stays_owner = |x: &MemberObservation| {
        x.tenant_id != t.tenant_id
            && x.role.is(&MemberRole::Owner)
            && x.state.is(&MemberState::Active)
            && desired
                .tenants
                .iter()
                .any(|s| s.tenant_id == x.tenant_id && s.role == Role::Owner)
    };
    if members.iter().any(stays_owner) {
        change_role(ctx, owner, t, m, MemberRole::Member, expected, Vec::new());
    } else if promotions.is_empty() {
        ctx.note(
            Severity::Error,
            Some(ResourceAddr::member(t.alias.as_str())),
            format!(
                "{} is the organization's only owner and the spec makes no other tenant owner; it cannot be demoted",
                t.alias
            ),
        );
    } else {
        ctx.defer(
            ResourceAddr::member(t.alias.as_str()),
            &owner.alias,
            ActionKind::Update,
            format!("demote {} to member", t.alias),
            format!(
                "{} is the only active owner: another tenant's promotion must complete first",
                t.alias
            ),
            promotions.to_vec(),
        );
    }
}
