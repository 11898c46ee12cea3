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
//!
//! Here: the acting owner, and an organization created from nothing; `join` adds a tenant and
//! has it join, `existing` brings an existing organization and its members to the spec, and
//! `undeclared` the members the spec does not list.

mod existing;
mod join;
mod undeclared;

pub(crate) use undeclared::remove as remove_member;

use mtoctl_model::desired::TenantSpec;
use mtoctl_model::ids::Alias;
use mtoctl_model::observed::{Known, MemberRole, MtoState};
use mtoctl_model::spec::document::Role;

use super::{Ctx, Draft, Readiness, change};
use existing::existing;
use join::add_and_join;
use mtoctl_model::plan::ResourceAddr;
use mtoctl_model::plan::Severity;
use mtoctl_model::plan::fingerprint::{self, is_active_owner};
use mtoctl_model::plan::{
    ActionId, ActionKind, ActionReason, AsyncWait, ExpectedBefore, Operation, WaitCondition,
};

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
    let active = active_tenants(ctx);
    match acting_owner(ctx) {
        Some(owner) => existing(ctx, owner),
        None if active.is_empty() => fresh(ctx),
        None => {
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

/// The tenant whose credential changes membership: the first spec tenant, owners first, that
/// sees itself as an active owner.
pub(crate) fn acting_owner<'a>(ctx: &Ctx<'a>) -> Option<&'a TenantSpec> {
    let desired = ctx.desired;
    let owners_first = desired
        .tenants
        .iter()
        .filter(|t| t.role == Role::Owner)
        .chain(desired.tenants.iter().filter(|t| t.role != Role::Owner));
    owners_first
        .clone()
        .find(|t| is_active_owner(ctx.obs(&t.alias), &t.tenant_id))
}

/// The aliases of the spec tenants that belong to an active organization.
pub(crate) fn active_tenants<'a>(ctx: &Ctx<'a>) -> Vec<&'a str> {
    ctx.desired
        .tenants
        .iter()
        .filter(|t| ctx.obs(&t.alias).organization.state.is(&MtoState::Active))
        .map(|t| t.alias.as_str())
        .collect()
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
