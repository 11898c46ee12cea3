//! Partner configurations and identity synchronization policies, per ordered pair.
//!
//! For the pair (tenant, partner) the spec gives the settings `tenant` holds for `partner`.
//! Pairs involving a tenant that has not joined yet are deferred: at join time Graph creates
//! both objects itself and applies the templates (graph-reference §3.6), so creating them now
//! would race the service. Objects for tenants the spec does not list are deleted only when
//! `prune` names their kind, and an identity sync policy always goes before its partner.

use mtoctl_model::ids::Alias;
use mtoctl_model::observed::PartnerObservation;
use mtoctl_model::spec::document::PruneKind;

use super::settings::{self, NullMeans};
use super::{Ctx, Draft, Readiness, change};
use mtoctl_model::plan::ResourceAddr;
use mtoctl_model::plan::Severity;
use mtoctl_model::plan::fingerprint;
use mtoctl_model::plan::{ActionKind, ActionReason, Impact, Operation};

pub(crate) fn diff(ctx: &mut Ctx<'_>) {
    let desired = ctx.desired;
    for (pair, want) in &desired.collaboration.pairs {
        let (Some(tenant), Some(partner)) =
            (desired.tenant(&pair.tenant), desired.tenant(&pair.partner))
        else {
            continue;
        };
        let manages_partner = settings::manages_partner_fields(want);
        if !manages_partner
            && want.allow_users_sync_inbound.is_none()
            && want.allow_groups_sync_inbound.is_none()
        {
            continue;
        }
        let t = &tenant.alias;
        let p = &partner.alias;
        let addr = ResourceAddr::partner(t.as_str(), p.as_str());
        let sync_addr = ResourceAddr::identity_sync(t.as_str(), p.as_str());
        match ctx.pair_readiness(t, p) {
            Readiness::Ready => {}
            Readiness::Waiting { waits, why } => {
                ctx.defer(
                    addr,
                    t,
                    ActionKind::Update,
                    format!(
                        "reconcile {t}'s partner configuration and identity sync policy for {p}"
                    ),
                    format!("{why}; Graph creates both at join time and applies the templates"),
                    waits,
                );
                continue;
            }
            Readiness::Blocked { why } => {
                ctx.note(Severity::Warning, Some(addr), format!("not planned: {why}"));
                continue;
            }
        }
        let obs = ctx.obs(t);
        let observed = obs.partners.get(&partner.tenant_id);
        let mut keys = Vec::new();

        // The partner configuration.
        let mut partner_key = None;
        match observed {
            // A partner is created only when there is something to write into it or under it:
            // an absent identity sync policy already means "sync not allowed".
            None if !manages_partner
                && want.allow_users_sync_inbound != Some(true)
                && want.allow_groups_sync_inbound != Some(true) => {}
            None => {
                let d = settings::diff(want, &Default::default(), NullMeans::DefaultFalse);
                let key = ctx.push(
                    Draft::new(
                        addr.clone(),
                        t,
                        ActionKind::Create,
                        Operation::CreatePartner {
                            partner_tenant_id: partner.tenant_id.clone(),
                            settings: Box::new(d.patch),
                        },
                        ActionReason::Missing,
                        format!("create {t}'s partner configuration for {p}"),
                    )
                    .changes(d.changes),
                );
                partner_key = Some(key);
                keys.push(key);
            }
            Some(have) => {
                let expected = ctx.seen(&addr, fingerprint::partner(have));
                ctx.check(&addr);
                let d = settings::diff(want, &have.settings, NullMeans::DefaultFalse);
                if !d.refusals.is_empty() {
                    ctx.note(
                        Severity::Warning,
                        Some(addr.clone()),
                        format!(
                            "not changing {t}'s partner configuration for {p}: {}",
                            d.refusals.join("; ")
                        ),
                    );
                } else if !d.patch.is_empty() {
                    keys.push(
                        ctx.push(
                            Draft::new(
                                addr.clone(),
                                t,
                                ActionKind::Update,
                                Operation::PatchPartner {
                                    partner_tenant_id: partner.tenant_id.clone(),
                                    changes: Box::new(d.patch),
                                },
                                ActionReason::Drift,
                                format!("update {t}'s partner configuration for {p}"),
                            )
                            .expect(expected)
                            .changes(d.changes),
                        ),
                    );
                }
            }
        }

        // The identity sync policy: an absent policy and `isSyncAllowed: null` both mean
        // that sync is not allowed, so they equal a desired `false`; so for groups (beta).
        let users = want.allow_users_sync_inbound;
        let groups = want.allow_groups_sync_inbound;
        if users.is_some() || groups.is_some() {
            let have = observed.and_then(|o| o.identity_sync.as_ref());
            match have {
                None if users == Some(true) || groups == Some(true) => {
                    let mut changes = Vec::new();
                    if let Some(u) = users {
                        changes.push(change("is_sync_allowed", None::<&()>, Some(&u)));
                    }
                    if let Some(g) = groups {
                        changes.push(change("group_sync_allowed", None::<&()>, Some(&g)));
                    }
                    let key = ctx.push(
                        Draft::new(
                            sync_addr.clone(),
                            t,
                            ActionKind::Create,
                            Operation::CreateIdentitySync {
                                partner_tenant_id: partner.tenant_id.clone(),
                                display_name: partner.display_name.clone(),
                                is_sync_allowed: users.unwrap_or(false),
                                group_sync_allowed: groups,
                            },
                            ActionReason::Missing,
                            format!(
                                "allow {p} to sync {} into {t}",
                                what_syncs(users == Some(true), groups == Some(true))
                            ),
                        )
                        .after(partner_key)
                        .changes(changes),
                    );
                    keys.push(key);
                }
                None => {}
                Some(policy) => {
                    let expected = ctx.seen(&sync_addr, fingerprint::identity_sync(policy));
                    ctx.check(&sync_addr);
                    let users_to = users.filter(|u| policy.is_sync_allowed.unwrap_or(false) != *u);
                    let groups_to =
                        groups.filter(|g| policy.group_sync_inbound.unwrap_or(false) != *g);
                    let mut changes = Vec::new();
                    if let Some(u) = users_to {
                        changes.push(change(
                            "is_sync_allowed",
                            Some(&policy.is_sync_allowed),
                            Some(&u),
                        ));
                    }
                    if let Some(g) = groups_to {
                        changes.push(change(
                            "group_sync_allowed",
                            Some(&policy.group_sync_inbound),
                            Some(&g),
                        ));
                    }
                    // Said as before for users alone; groups join the sentence when they change.
                    let description = match (users_to, groups_to) {
                        (None, None) => None,
                        (Some(u), Some(g)) if u == g => Some(format!(
                            "{} {p} to sync users and groups into {t}",
                            if u { "allow" } else { "stop allowing" }
                        )),
                        (Some(u), Some(g)) => Some(format!(
                            "{} {p} to sync users and {} it to sync groups into {t}",
                            if u { "allow" } else { "stop allowing" },
                            if g { "allow" } else { "stop allowing" }
                        )),
                        (Some(v), None) | (None, Some(v)) => Some(format!(
                            "{} {p} to sync {} into {t}",
                            if v { "allow" } else { "stop allowing" },
                            if users_to.is_some() {
                                "users"
                            } else {
                                "groups"
                            }
                        )),
                    };
                    if let Some(description) = description {
                        keys.push(
                            ctx.push(
                                Draft::new(
                                    sync_addr.clone(),
                                    t,
                                    ActionKind::Update,
                                    Operation::PatchIdentitySync {
                                        partner_tenant_id: partner.tenant_id.clone(),
                                        is_sync_allowed: users_to,
                                        group_sync_allowed: groups_to,
                                    },
                                    ActionReason::Drift,
                                    description,
                                )
                                .expect(expected)
                                .changes(changes),
                            ),
                        );
                    }
                }
            }
        }
        ctx.pair_keys.insert((t.clone(), p.clone()), keys);
    }
    for tenant in &desired.tenants {
        undeclared(ctx, &tenant.alias);
    }
}

/// What a new identity sync policy lets in, for its description.
fn what_syncs(users: bool, groups: bool) -> &'static str {
    match (users, groups) {
        (true, true) => "users and groups",
        (false, true) => "groups",
        _ => "users",
    }
}

/// Partners of `alias` for tenants the spec does not list.
fn undeclared(ctx: &mut Ctx<'_>, alias: &Alias) {
    let desired = ctx.desired;
    let prune_partners = desired.prune.contains(&PruneKind::PartnerConfigurations);
    let prune_syncs = desired.prune.contains(&PruneKind::IdentitySyncPolicies);
    let obs = ctx.obs(alias);
    let undeclared: Vec<&PartnerObservation> = obs
        .partners
        .values()
        .filter(|p| ctx.alias_of(&p.tenant_id).is_none())
        .collect();
    for p in undeclared {
        let id = p.tenant_id.0.as_str();
        let addr = ResourceAddr::partner(alias.as_str(), id);
        let expected = ctx.seen(&addr, fingerprint::partner(p));
        let mut sync_key = None;
        if let Some(policy) = &p.identity_sync {
            let sync_addr = ResourceAddr::identity_sync(alias.as_str(), id);
            let sync_expected = ctx.seen(&sync_addr, fingerprint::identity_sync(policy));
            if prune_syncs {
                let mut d = Draft::new(
                    sync_addr,
                    alias,
                    ActionKind::Delete,
                    Operation::DeleteIdentitySync {
                        partner_tenant_id: p.tenant_id.clone(),
                    },
                    ActionReason::Prune,
                    format!("delete {alias}'s identity sync policy for {id}"),
                )
                .expect(sync_expected);
                d.destructive = true;
                d.impact = Some(Box::new(Impact::described(format!(
                    "tenant {id} can no longer sync users into {alias}; users it already synced stay"
                ))));
                sync_key = Some(ctx.push(d));
            } else {
                ctx.note(
                    Severity::Info,
                    Some(sync_addr),
                    format!(
                        "{alias} has an identity sync policy for {id}, which is not in the spec; left alone (add `identitySyncPolicies` to prune to delete it)"
                    ),
                );
            }
        }
        if !prune_partners {
            ctx.note(
                Severity::Info,
                Some(addr),
                format!(
                    "{alias} has a partner configuration for {id}, which is not in the spec; left alone (add `partnerConfigurations` to prune to delete it)"
                ),
            );
            continue;
        }
        if p.identity_sync.is_some() && sync_key.is_none() {
            ctx.note(
                Severity::Warning,
                Some(addr),
                format!(
                    "not deleting {alias}'s partner configuration for {id}: its identity sync policy must go first, and `prune` does not name `identitySyncPolicies`"
                ),
            );
            continue;
        }
        let mut d = Draft::new(
            addr,
            alias,
            ActionKind::Delete,
            Operation::DeletePartner {
                partner_tenant_id: p.tenant_id.clone(),
            },
            ActionReason::Prune,
            format!("delete {alias}'s partner configuration for {id}"),
        )
        .expect(expected)
        .after(sync_key);
        d.destructive = true;
        d.impact = Some(Box::new(Impact::described(format!(
            "{alias}'s settings for {id} fall back to its default configuration"
        ))));
        ctx.push(d);
    }
}
