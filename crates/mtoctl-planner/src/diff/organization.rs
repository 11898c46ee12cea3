//! The organization, its members and their joins.
//!
//! Membership is asynchronous and crosses tenants (graph-reference §2–§3, §10.3): an owner
//! creates the organization and adds each tenant, each added tenant joins with its own
//! credential, and Graph completes the join, role changes and removals minutes to hours later.
//! So this module plans only what can be done now, adds an explicit wait for each
//! asynchronous transition, and marks each tenant's readiness so that pair-level work
//! (partners, syncs) involving a tenant that has not joined yet is deferred, not planned.
//!
//! The acting owner, whose credential changes membership, is the first spec tenant (owners
//! first, then spec order) that sees itself as an active owner; without an organization it is
//! the spec's first owner, which creates it.

use mtoctl_model::desired::TenantSpec;
use mtoctl_model::ids::{Alias, TenantId};
use mtoctl_model::observed::{
    Known, MemberObservation, MemberRole, MemberState, MtoState, ProcessingStatus,
    TenantObservation,
};
use mtoctl_model::spec::document::{PruneKind, Role};

use super::{Ctx, Draft, Readiness, change};
use crate::addr::ResourceAddr;
use crate::fingerprint;
use crate::plan::{
    ActionId, ActionKind, ActionReason, AsyncWait, ExpectedBefore, Impact, Operation, WaitCondition,
};
use crate::report::Severity;

fn member_role(role: Role) -> MemberRole {
    match role {
        Role::Owner => MemberRole::Owner,
        Role::Member => MemberRole::Member,
    }
}

fn role_name(role: MemberRole) -> &'static str {
    match role {
        MemberRole::Owner => "owner",
        MemberRole::Member => "member",
    }
}

/// Whether `obs` (tenant `id`) sees itself as an active owner of an organization.
fn is_active_owner(obs: &TenantObservation, id: &TenantId) -> bool {
    obs.organization.state.is(&MtoState::Active)
        && obs.organization.members.iter().any(|m| {
            &m.tenant_id == id && m.role.is(&MemberRole::Owner) && m.state.is(&MemberState::Active)
        })
}

fn set_readiness(ctx: &mut Ctx<'_>, alias: &Alias, readiness: Readiness) {
    ctx.readiness.entry(alias.clone()).or_insert(readiness);
}

pub(crate) fn diff(ctx: &mut Ctx<'_>) {
    let desired = ctx.desired;
    for t in &desired.tenants {
        let obs = ctx.obs(&t.alias);
        ctx.seen(
            &ResourceAddr::tenant_organization(t.alias.as_str()),
            fingerprint::tenant_organization(&obs.organization),
        );
        if let Known::Unknown(state) = &obs.organization.state {
            let why = format!(
                "{}'s organization state `{state}` is not one mtoctl knows; not acting on its membership",
                t.alias
            );
            ctx.note(
                Severity::Warning,
                Some(ResourceAddr::tenant_organization(t.alias.as_str())),
                why.clone(),
            );
            set_readiness(ctx, &t.alias, Readiness::Blocked { why });
        }
    }
    let owners_first = desired
        .tenants
        .iter()
        .filter(|t| t.role == Role::Owner)
        .chain(desired.tenants.iter().filter(|t| t.role != Role::Owner));
    let acting = owners_first
        .clone()
        .find(|t| is_active_owner(ctx.obs(&t.alias), &t.tenant_id));
    let any_active = desired
        .tenants
        .iter()
        .any(|t| ctx.obs(&t.alias).organization.state.is(&MtoState::Active));
    match acting {
        Some(owner) => existing(ctx, owner),
        None if !any_active => fresh(ctx),
        None => {
            let active: Vec<&str> = desired
                .tenants
                .iter()
                .filter(|t| ctx.obs(&t.alias).organization.state.is(&MtoState::Active))
                .map(|t| t.alias.as_str())
                .collect();
            let why = format!(
                "{} belong to a multitenant organization, but no tenant of the spec is an active owner of it, so mtoctl cannot manage its membership",
                active.join(", ")
            );
            ctx.note(
                Severity::Error,
                Some(ResourceAddr::organization()),
                why.clone(),
            );
            for t in &desired.tenants {
                set_readiness(ctx, &t.alias, Readiness::Blocked { why: why.clone() });
            }
        }
    }
}

/// No tenant has an organization: the spec's first owner creates it and adds the others.
fn fresh(ctx: &mut Ctx<'_>) {
    let desired = ctx.desired;
    let Some(creator) = desired.tenants.iter().find(|t| t.role == Role::Owner) else {
        return;
    };
    if ctx.readiness.contains_key(&creator.alias) {
        return;
    }
    let org = &desired.organization;
    let mut changes = vec![change("display_name", None::<&()>, Some(&org.display_name))];
    if let Some(d) = &org.description {
        changes.push(change("description", None::<&()>, Some(d)));
    }
    // The creator's templates act when members join (they make its side of each pair), not
    // when the organization is made: they need only precede the joins (`join`), and the
    // creation goes beside them.
    let create = ctx.push(
        Draft::new(
            ResourceAddr::organization(),
            &creator.alias,
            ActionKind::Create,
            Operation::CreateOrganization {
                display_name: org.display_name.clone(),
                description: org.description.clone(),
            },
            ActionReason::Missing,
            format!(
                "create the organization \"{}\" with {} as its first owner",
                org.display_name, creator.alias
            ),
        )
        .changes(changes),
    );
    set_readiness(ctx, &creator.alias, Readiness::Ready);
    for t in &desired.tenants {
        if t.alias == creator.alias || ctx.readiness.contains_key(&t.alias) {
            continue;
        }
        add_and_join(ctx, creator, t, vec![create]);
    }
}

/// Adds `t` (owner side), then has it join (its side) and waits for the join.
fn add_and_join(ctx: &mut Ctx<'_>, owner: &TenantSpec, t: &TenantSpec, after: Vec<ActionId>) {
    let role = member_role(t.role);
    let add = ctx.push(
        Draft::new(
            ResourceAddr::member(t.alias.as_str()),
            &owner.alias,
            ActionKind::Create,
            Operation::AddMember {
                tenant_id: t.tenant_id.clone(),
                display_name: t.display_name.clone(),
                role,
            },
            ActionReason::Missing,
            format!("add {} to the organization as {}", t.alias, role_name(role)),
        )
        .after(after)
        .changes(vec![
            change("tenant_id", None::<&()>, Some(&t.tenant_id)),
            change("display_name", None::<&()>, Some(&t.display_name)),
            change("role", None::<&()>, Some(&role)),
        ]),
    );
    join(ctx, owner, t, vec![add], None);
}

/// Submits `t`'s join request (after resetting a failed one) and waits for it.
fn join(
    ctx: &mut Ctx<'_>,
    owner: &TenantSpec,
    t: &TenantSpec,
    mut after: Vec<ActionId>,
    failed: Option<String>,
) {
    let addr = ResourceAddr::join_request(t.alias.as_str());
    let expected = ctx.seen(
        &addr,
        fingerprint::join_request(&ctx.obs(&t.alias).join_request),
    );
    // Both sides' templates are in place before the join makes the pair's settings from them.
    for side in [&t.alias, &owner.alias] {
        after.extend(ctx.template_keys.get(side).into_iter().flatten().copied());
    }
    after.sort();
    after.dedup();
    let mut reset_key: Option<ActionId> = None;
    if let Some(details) = failed {
        let reset = ctx.push(
            Draft::new(
                addr.clone(),
                &t.alias,
                ActionKind::Update,
                Operation::ResetJoin,
                ActionReason::Retry,
                format!("reset {}'s failed join request ({details})", t.alias),
            )
            .after(after.clone())
            .expect(expected.clone()),
        );
        after.push(reset);
        reset_key = Some(reset);
    }
    let submit = ctx.push(
        Draft::new(
            addr.clone(),
            &t.alias,
            ActionKind::Join,
            Operation::SubmitJoin {
                owner_tenant_id: owner.tenant_id.clone(),
            },
            ActionReason::Missing,
            format!("{} joins the organization of {}", t.alias, owner.alias),
        )
        .after(after)
        .expect(match reset_key {
            Some(action) => ExpectedBefore::ChangedBy { action },
            None => expected,
        })
        .changes(vec![change(
            "added_by",
            None::<&()>,
            Some(&owner.tenant_id),
        )]),
    );
    wait_for_join(ctx, t, vec![submit]);
}

fn wait_for_join(ctx: &mut Ctx<'_>, t: &TenantSpec, after: Vec<ActionId>) {
    let addr = ResourceAddr::join_request(t.alias.as_str());
    let expected = ctx.seen(
        &addr,
        fingerprint::join_request(&ctx.obs(&t.alias).join_request),
    );
    let in_flight = after.is_empty();
    let mut draft = wait_draft(
        ResourceAddr::join_request(t.alias.as_str()),
        &t.alias,
        Operation::WaitForJoin {
            tenant_id: t.tenant_id.clone(),
        },
        WaitCondition::JoinActive,
        format!("wait for {}'s join to complete", t.alias),
        after,
    );
    if in_flight {
        draft.expected_before = expected;
    }
    let wait = ctx.push(draft);
    set_readiness(
        ctx,
        &t.alias,
        Readiness::Waiting {
            waits: vec![wait],
            why: format!("{} has not completed its join yet", t.alias),
        },
    );
}

fn wait_draft(
    addr: ResourceAddr,
    tenant: &Alias,
    op: Operation,
    until: WaitCondition,
    summary: String,
    after: Vec<ActionId>,
) -> Draft {
    let expected = after
        .first()
        .map(|&action| ExpectedBefore::ChangedBy { action });
    let mut d = Draft::new(
        addr,
        tenant,
        ActionKind::Wait,
        op,
        ActionReason::Async,
        summary,
    )
    .after(after);
    if let Some(expected) = expected {
        d.expected_before = expected;
    }
    d.async_wait = Some(AsyncWait {
        until,
        timeout_seconds: until.default_timeout_seconds(),
    });
    d
}

/// The organization exists and `owner` is an active owner of it.
fn existing(ctx: &mut Ctx<'_>, owner: &TenantSpec) {
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

/// A member added but not yet joined: submit its join, or wait for the one in flight.
fn pending(ctx: &mut Ctx<'_>, owner: &TenantSpec, t: &TenantSpec) {
    let addr = ResourceAddr::join_request(t.alias.as_str());
    let jr = &ctx.obs(&t.alias).join_request;
    ctx.seen(&addr, fingerprint::join_request(jr));
    let status = jr.transition.as_ref().and_then(|x| x.status.as_ref());
    let unknown = matches!(jr.member_state, Some(Known::Unknown(_)))
        || matches!(status, Some(Known::Unknown(_)));
    if unknown {
        let why = format!(
            "{}'s join request has a state mtoctl does not know; not acting on it",
            t.alias
        );
        ctx.note(Severity::Warning, Some(addr), why.clone());
        set_readiness(ctx, &t.alias, Readiness::Blocked { why });
        return;
    }
    if status == Some(&Known::Known(ProcessingStatus::Failed)) {
        let details = jr
            .transition
            .as_ref()
            .and_then(|x| x.details.clone())
            .unwrap_or_else(|| "no details".into());
        ctx.note(
            Severity::Warning,
            Some(addr),
            format!(
                "{}'s join failed ({details}); Microsoft advises retrying no sooner than 2 hours after the organization was created",
                t.alias
            ),
        );
        join(ctx, owner, t, Vec::new(), Some(details));
    } else if jr.added_by.is_some() {
        wait_for_join(ctx, t, Vec::new());
    } else {
        join(ctx, owner, t, Vec::new(), None);
    }
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

/// Members the spec does not list: removed only when `prune` names `members`.
fn undeclared(ctx: &mut Ctx<'_>, owner: &TenantSpec) {
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
