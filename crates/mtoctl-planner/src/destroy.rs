//! `destroy`: the plan that removes everything a spec manages, in the reverse of the order
//! `plan` sets it up (Terraform's `destroy`).
//!
//! Per round, from what Graph holds now: the spec's sync configurations (their applications,
//! which take the service principals, jobs and assignments with them); then, between the
//! spec's tenants, identity sync policies before their partner configurations; then the
//! members, removed by the acting owner (owners demoted first); then, once it is the only
//! tenant left, the acting owner itself, which ends the organization; and the MTO templates
//! the spec manages, reset to Graph's defaults. What Graph completes later (removals, role
//! changes) is waited for, and what it unlocks is deferred to the next round, as in `plan`.
//!
//! What it leaves alone, each named in a note: users that synchronization provisioned (Graph
//! does not delete them with their configuration, and they are people's accounts), objects
//! the spec does not name (partners outside the spec, configurations of other names), and an
//! organization no spec tenant owns.

use mtoctl_model::desired::{SyncSpec, TenantSpec};
use mtoctl_model::health::HealthObservation;
use mtoctl_model::ids::Alias;
use mtoctl_model::observed::{
    IdentitySyncTemplateObservation, PartnerSettingsObservation, PartnerTemplateObservation,
    TemplateApplicationLevel,
};
use mtoctl_model::plan::fingerprint;
use mtoctl_model::plan::{
    ActionId, ActionKind, ActionReason, ExpectedBefore, Impact, ObjectRef, Operation, Plan,
    PlanMode, ResourceAddr, Severity,
};
use mtoctl_model::{DesiredState, ObservedState};

use crate::assemble;
use crate::diff::organization::{acting_owner, active_tenants, remove_member};
use crate::diff::{Ctx, Draft};
use crate::report::PlanError;

/// Computes the plan that removes what `desired` manages from `observed`. With `synced` (every
/// user of each direction and their copies, as `health` reads them), the copies are deleted
/// too: each direction's job paused first, its configuration deleted after them.
///
/// Pure and deterministic, like [`crate::plan()`]; fails only when the observed state lacks a
/// tenant of the spec.
pub fn destroy(
    desired: &DesiredState,
    observed: &ObservedState,
    synced: Option<&HealthObservation>,
) -> Result<Plan, PlanError> {
    let mut ctx = Ctx::new(desired, observed)?;
    ctx.mode = PlanMode::Destroy;
    assemble::diff_beside_digest(&mut ctx, |ctx| {
        let mut by_tenant = TenantKeys::default();
        configurations(ctx, &mut by_tenant, synced);
        pairs(ctx, &mut by_tenant);
        membership(ctx, &by_tenant);
        templates(ctx);
    });
    assemble::assemble(ctx)
}

/// The deletions planned in or for each tenant: its removal from the organization follows them.
#[derive(Default)]
struct TenantKeys(std::collections::BTreeMap<Alias, Vec<ActionId>>);

impl TenantKeys {
    fn add(&mut self, tenants: [&Alias; 2], key: ActionId) {
        for t in tenants {
            self.0.entry(t.clone()).or_default().push(key);
        }
    }

    fn of(&self, alias: &Alias) -> Vec<ActionId> {
        self.0.get(alias).cloned().unwrap_or_default()
    }
}

/// The spec's sync configurations: deleted with their applications, first of all, and after
/// them the identity sync policy of the target that let them in.
fn configurations(
    ctx: &mut Ctx<'_>,
    by_tenant: &mut TenantKeys,
    synced: Option<&HealthObservation>,
) {
    let desired = ctx.desired;
    // Two syncs between the same tenants read the same copies: each is deleted once.
    let mut deleted = std::collections::BTreeSet::new();
    for sync in &desired.syncs {
        let obs = ctx.obs(&sync.from);
        let matching = obs
            .sync_configurations
            .iter()
            .filter(|c| c.display_name.eq_ignore_ascii_case(&sync.name));
        for c in matching {
            let copies = synced.map(|h| synced_users(ctx, sync, c, h, &mut deleted));
            let addr = ResourceAddr::sync(sync.from.as_str(), &sync.name);
            let expected = ctx.seen(&addr, fingerprint::sync_configuration(c));
            let mut d = Draft::new(
                addr,
                &sync.from,
                ActionKind::Delete,
                Operation::DeleteSyncConfiguration {
                    service_principal_id: c.service_principal_id.clone(),
                    display_name: c.display_name.clone(),
                },
                ActionReason::Destroy,
                format!(
                    "delete sync configuration {} in {} (its application, jobs and assignments)",
                    c.display_name, sync.from
                ),
            )
            .expect(expected)
            .after(copies.unwrap_or_default());
            d.destructive = true;
            let message = if synced.is_some() {
                format!(
                    "synchronization from {} to {} stops (the accounts it made are deleted before)",
                    sync.from, sync.to
                )
            } else {
                format!(
                    "synchronization from {} to {} stops; the users it provisioned stay in {} (Graph does not delete them)",
                    sync.from, sync.to, sync.to
                )
            };
            d.impact = Some(Box::new(Impact::described(message)));
            let key = ctx.push(d);
            by_tenant.add([&sync.from, &sync.to], key);
            ctx.pair_keys
                .entry((sync.to.clone(), sync.from.clone()))
                .or_default()
                .push(key);
        }
    }
    if synced.is_some() {
        return;
    }
    let targets: std::collections::BTreeSet<&Alias> = desired.syncs.iter().map(|s| &s.to).collect();
    for target in targets {
        ctx.note(
            Severity::Info,
            None,
            format!(
                "users that synchronization provisioned into {target} stay there: Graph does not delete them with their configuration; delete them in {target} if they should go"
            ),
        );
    }
}

/// The copies of one direction's users in its target, each deleted after the job is paused
/// (a running job could make them again). Returns the keys the configuration's deletion
/// follows.
fn synced_users(
    ctx: &mut Ctx<'_>,
    sync: &SyncSpec,
    c: &mtoctl_model::observed::SyncConfigurationObservation,
    health: &HealthObservation,
    deleted: &mut std::collections::BTreeSet<String>,
) -> Vec<ActionId> {
    let Some(read) = health
        .syncs
        .iter()
        .find(|h| h.from == sync.from && h.to == sync.to)
    else {
        return Vec::new();
    };
    let copies: Vec<_> = read
        .provisioned
        .iter()
        .filter_map(|u| u.id.as_ref().map(|id| (id, u)))
        .filter(|(id, _)| deleted.insert(id.to_lowercase()))
        .collect();
    let mut keys = Vec::new();
    let job = c
        .details
        .as_ref()
        .and_then(|d| d.jobs.first())
        .filter(|j| j.schedule_state.as_deref() == Some("Active"));
    let mut pause = Vec::new();
    if let (Some(job), false) = (job, copies.is_empty()) {
        let addr = ResourceAddr::sync_part(sync.from.as_str(), &sync.name, "job");
        let expected = ctx.seen(&addr, fingerprint::job(job));
        let key = ctx.push(
            Draft::new(
                addr,
                &sync.from,
                ActionKind::Update,
                Operation::PauseJob {
                    configuration: ObjectRef::Existing {
                        id: c.service_principal_id.clone(),
                    },
                    job: ObjectRef::Existing { id: job.id.clone() },
                },
                ActionReason::Destroy,
                format!(
                    "pause synchronizing from {} into {} before its accounts are deleted",
                    sync.from, sync.to
                ),
            )
            .expect(expected),
        );
        pause.push(key);
        keys.push(key);
    }
    for (id, copy) in copies {
        let mut d = Draft::new(
            ResourceAddr::synced_user(sync.to.as_str(), &copy.user_principal_name),
            &sync.to,
            ActionKind::Delete,
            Operation::DeleteSyncedUser {
                user_id: id.clone(),
                user_principal_name: copy.user_principal_name.clone(),
            },
            ActionReason::Destroy,
            format!(
                "delete {}, the account synchronization made in {} for {}",
                copy.user_principal_name, sync.to, copy.source
            ),
        )
        .expect(ExpectedBefore::Fingerprint {
            fingerprint: fingerprint::synced_user(id, &copy.user_principal_name),
        })
        .after(pause.iter().copied());
        d.destructive = true;
        d.impact = Some(Box::new(Impact {
            message: format!(
                "{} loses its account in {} (restorable from deleted items for 30 days)",
                copy.source, sync.to
            ),
            users_leaving_scope: 1,
            groups_leaving_scope: Vec::new(),
            soft_deletes: true,
        }));
        keys.push(ctx.push(d));
    }
    if read.truncated {
        ctx.defer(
            ResourceAddr::sync(sync.from.as_str(), &sync.name),
            &sync.from,
            ActionKind::Delete,
            format!(
                "delete the remaining accounts synchronization made in {}",
                sync.to
            ),
            "more users are in scope than one round reads".into(),
            keys.clone(),
        );
    }
    keys
}

/// Identity sync policies and partner configurations between the spec's tenants.
fn pairs(ctx: &mut Ctx<'_>, by_tenant: &mut TenantKeys) {
    let desired = ctx.desired;
    for t in &desired.tenants {
        let obs = ctx.obs(&t.alias);
        for (id, p) in &obs.partners {
            let Some(partner) = ctx.alias_of(id) else {
                ctx.note(
                    Severity::Info,
                    Some(ResourceAddr::partner(t.alias.as_str(), id.0.as_str())),
                    format!(
                        "{}'s partner configuration for {id}, a tenant the spec does not list, is left alone",
                        t.alias
                    ),
                );
                continue;
            };
            let pair = (t.alias.clone(), partner.clone());
            let mut after = ctx.pair_keys.get(&pair).cloned().unwrap_or_default();
            if let Some(policy) = &p.identity_sync {
                let addr = ResourceAddr::identity_sync(t.alias.as_str(), partner.as_str());
                let expected = ctx.seen(&addr, fingerprint::identity_sync(policy));
                let mut d = Draft::new(
                    addr,
                    &t.alias,
                    ActionKind::Delete,
                    Operation::DeleteIdentitySync {
                        partner_tenant_id: id.clone(),
                    },
                    ActionReason::Destroy,
                    format!("delete {}'s identity sync policy for {partner}", t.alias),
                )
                .expect(expected)
                .after(after.iter().copied());
                d.destructive = true;
                d.impact = Some(Box::new(Impact::described(format!(
                    "{partner} can no longer sync users into {}",
                    t.alias
                ))));
                let key = ctx.push(d);
                by_tenant.add([&t.alias, partner], key);
                after.push(key);
            }
            let addr = ResourceAddr::partner(t.alias.as_str(), partner.as_str());
            let expected = ctx.seen(&addr, fingerprint::partner(p));
            let mut d = Draft::new(
                addr,
                &t.alias,
                ActionKind::Delete,
                Operation::DeletePartner {
                    partner_tenant_id: id.clone(),
                },
                ActionReason::Destroy,
                format!("delete {}'s partner configuration for {partner}", t.alias),
            )
            .expect(expected)
            .after(after);
            d.destructive = true;
            d.impact = Some(Box::new(Impact::described(format!(
                "{} treats {partner} by its default cross-tenant access settings again (automatic consent and trust settings for it go)",
                t.alias
            ))));
            let key = ctx.push(d);
            by_tenant.add([&t.alias, partner], key);
        }
    }
}

/// The organization: every other member removed by the acting owner, then the owner itself.
fn membership(ctx: &mut Ctx<'_>, by_tenant: &TenantKeys) {
    let Some(owner) = acting_owner(ctx) else {
        let active = active_tenants(ctx);
        if !active.is_empty() {
            ctx.note(
                Severity::Warning,
                Some(ResourceAddr::organization()),
                format!(
                    "{} belong to a multitenant organization that no spec tenant is an active owner of: it is left alone",
                    active.join(", ")
                ),
            );
        }
        return;
    };
    let org = &ctx.obs(&owner.alias).organization;
    ctx.seen(
        &ResourceAddr::organization(),
        fingerprint::organization(org),
    );
    let mut others_gone = Vec::new();
    let mut all_planned = true;
    for m in org
        .members
        .iter()
        .filter(|m| m.tenant_id != owner.tenant_id)
    {
        // A member leaves after what was deleted in it and for it.
        let deletions = ctx
            .alias_of(&m.tenant_id)
            .map(|a| by_tenant.of(a))
            .unwrap_or_default();
        let waits = remove_member(ctx, owner, m, ActionReason::Destroy, deletions);
        if waits.is_empty() {
            all_planned = false;
        }
        others_gone.extend(waits);
    }
    let me = org.members.iter().find(|m| m.tenant_id == owner.tenant_id);
    let Some(me) = me else {
        return;
    };
    let label = format!("{} ({})", me.display_name, me.tenant_id);
    if !all_planned {
        ctx.note(
            Severity::Warning,
            Some(ResourceAddr::organization()),
            format!(
                "the organization stays: {label} cannot leave it while members mtoctl cannot remove remain"
            ),
        );
    } else if others_gone.is_empty() {
        remove_member(
            ctx,
            owner,
            me,
            ActionReason::Destroy,
            by_tenant.of(&owner.alias),
        );
    } else {
        ctx.defer(
            ResourceAddr::member(owner.alias.as_str()),
            &owner.alias,
            ActionKind::Delete,
            format!("remove {label}, the last tenant, from the organization (this dissolves it)"),
            "the organization's last owner can leave only once every other tenant has".into(),
            others_gone,
        );
    }
}

/// The MTO templates the spec manages, reset to Graph's defaults when they are not.
fn templates(ctx: &mut Ctx<'_>) {
    let desired = ctx.desired;
    if !desired.collaboration.manage_templates {
        return;
    }
    for t in &desired.tenants {
        let obs = ctx.obs(&t.alias);
        if !partner_template_is_default(&obs.templates.partner) {
            reset(
                ctx,
                t,
                ResourceAddr::partner_template(t.alias.as_str()),
                fingerprint::partner_template(&obs.templates.partner),
                Operation::ResetPartnerTemplate,
                "partner configuration template",
            );
        }
        if !identity_sync_template_is_default(&obs.templates.identity_sync) {
            reset(
                ctx,
                t,
                ResourceAddr::identity_sync_template(t.alias.as_str()),
                fingerprint::identity_sync_template(&obs.templates.identity_sync),
                Operation::ResetIdentitySyncTemplate,
                "identity sync template",
            );
        }
    }
}

fn reset(
    ctx: &mut Ctx<'_>,
    t: &TenantSpec,
    addr: ResourceAddr,
    fingerprint: mtoctl_model::observed::Fingerprint,
    operation: Operation,
    what: &str,
) {
    let expected = ctx.seen(&addr, fingerprint);
    ctx.push(
        Draft::new(
            addr,
            &t.alias,
            ActionKind::Update,
            operation,
            ActionReason::Destroy,
            format!("reset {}'s {what} to Graph's defaults", t.alias),
        )
        .expect(expected),
    );
}

/// Graph's defaults (`resetToDefaultSettings`): applied to new and existing partners, every
/// setting null.
fn partner_template_is_default(t: &PartnerTemplateObservation) -> bool {
    t.application_level == TemplateApplicationLevel::default_level()
        && t.settings == PartnerSettingsObservation::default()
}

fn identity_sync_template_is_default(t: &IdentitySyncTemplateObservation) -> bool {
    t.application_level == TemplateApplicationLevel::default_level() && t.is_sync_allowed.is_none()
}
