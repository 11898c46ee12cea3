//! Cross-tenant synchronization configurations in their source tenants.
//!
//! Setting one up is a fixed chain (graph-reference §10.2–§10.3): instantiate, validate
//! credentials, create the job, write its settings, set the schema, assign users and groups,
//! start. Validation needs the target's partner configuration, identity sync policy and
//! inbound consent and the source's outbound consent, so the chain depends on every action
//! of this plan on those objects. A configuration with the spec's name that exists already
//! (the Microsoft 365 admin center creates `MTO_Sync_<target>` without a job) is adopted: the
//! chain starts at validation instead of creating a duplicate.
//!
//! Sync settings (`SyncAll`, the target) are write-only in Graph: they are written when this
//! plan creates the job, and never diffed afterwards (that would plan them forever).
//!
//! Here: each declared sync, found or not in its source tenant; `setup` plans the chain for a
//! configuration without a job, `reconcile` one with its job, `scope` its assignments, and
//! `undeclared` the configurations no spec sync declares.

mod reconcile;
mod scope;
mod setup;
mod undeclared;

#[cfg(test)]
mod tests;

use mtoctl_model::desired::SyncSpec;
use mtoctl_model::observed::SyncConfigurationObservation;

use super::{Ctx, Draft, Readiness, change};
use mtoctl_model::plan::ResourceAddr;
use mtoctl_model::plan::fingerprint;
use mtoctl_model::plan::{
    ActionId, ActionKind, ActionReason, ExpectedBefore, ObjectRef, Operation, Severity,
};
use reconcile::reconcile;
use setup::setup;
use undeclared::undeclared;

pub(crate) fn diff(ctx: &mut Ctx<'_>) {
    let desired = ctx.desired;
    for s in &desired.syncs {
        one(ctx, s);
    }
    for tenant in &desired.tenants {
        undeclared(ctx, &tenant.alias);
    }
}

fn one(ctx: &mut Ctx<'_>, s: &SyncSpec) {
    let desired = ctx.desired;
    let (Some(_), Some(target)) = (desired.tenant(&s.from), desired.tenant(&s.to)) else {
        return;
    };
    let addr = ResourceAddr::sync(s.from.as_str(), &s.name);
    let waiting = match ctx.pair_readiness(&s.from, &s.to) {
        Readiness::Ready => None,
        Readiness::Waiting { waits, why } => Some((waits, why)),
        Readiness::Blocked { why } => {
            ctx.note(Severity::Warning, Some(addr), format!("not planned: {why}"));
            return;
        }
    };
    let obs = ctx.obs(&s.from);
    let missing = !obs
        .sync_configurations
        .iter()
        .any(|c| c.display_name.eq_ignore_ascii_case(&s.name));
    if let Some((waits, why)) = waiting {
        // A configuration still to make is made in its source now (nothing of it depends on
        // the target), stopped; validating it against the target, its scope and its start wait.
        let summary = if missing {
            format!(
                "validate sync {} from {} into {}, bring its users and groups into scope, and start it",
                s.name, s.from, s.to
            )
        } else {
            format!(
                "set up sync {} from {} into {} (instantiate or adopt, validate, job, settings, schema, assignments, start)",
                s.name, s.from, s.to
            )
        };
        ctx.defer(
            addr.clone(),
            &s.from,
            ActionKind::Create,
            summary,
            format!("{why}; the target's partner settings are reconciled after the join"),
            waits,
        );
        if missing {
            create(ctx, s, &target.tenant_id, addr, Vec::new(), false);
        }
        return;
    }
    // Everything this plan does to the target's partner, identity sync and consent, and to the
    // source's partner (outbound consent), comes before validation.
    let mut prereqs = Vec::new();
    for key in [
        (s.to.clone(), s.from.clone()),
        (s.from.clone(), s.to.clone()),
    ] {
        prereqs.extend(ctx.pair_keys.get(&key).cloned().unwrap_or_default());
    }
    let obs = ctx.obs(&s.from);
    let matching: Vec<&SyncConfigurationObservation> = obs
        .sync_configurations
        .iter()
        .filter(|c| c.display_name.eq_ignore_ascii_case(&s.name))
        .collect();
    let target_id = target.tenant_id.clone();
    match matching.as_slice() {
        [] => create(ctx, s, &target_id, addr, prereqs, true),
        [c] => {
            let expected = ctx.seen(&addr, fingerprint::sync_configuration(c));
            ctx.check(&addr);
            let Some(details) = &c.details else {
                ctx.note(
                    Severity::Warning,
                    Some(addr),
                    format!(
                        "the jobs and assignments of {} were not read; not planning it",
                        s.name
                    ),
                );
                return;
            };
            let config = ObjectRef::Existing {
                id: c.service_principal_id.clone(),
            };
            let app_role = c
                .user_app_role_id
                .clone()
                .map(|id| ObjectRef::Existing { id });
            match details.jobs.as_slice() {
                [] => {
                    ctx.note(
                        Severity::Info,
                        Some(addr.clone()),
                        format!(
                            "adopting the existing configuration {} in {} (no job yet, as the Microsoft 365 admin center leaves it) instead of creating a duplicate",
                            c.display_name, s.from
                        ),
                    );
                    let chain = Chain {
                        config,
                        app_role,
                        config_expected: expected,
                        made_by: None,
                        after: prereqs,
                        reason: ActionReason::Adopt,
                        ready: true,
                    };
                    setup(ctx, s, &target_id, chain);
                }
                [job] => reconcile(
                    ctx,
                    s,
                    job,
                    &details.assignments,
                    config,
                    app_role,
                    prereqs,
                ),
                jobs => ctx.note(
                    Severity::Warning,
                    Some(addr),
                    format!(
                        "{} has {} synchronization jobs; mtoctl manages configurations with one and is not acting on it",
                        s.name,
                        jobs.len()
                    ),
                ),
            }
        }
        many => ctx.note(
            Severity::Warning,
            Some(addr),
            format!(
                "{} has {} configurations named {}; not acting on an ambiguous name",
                s.from,
                many.len(),
                s.name
            ),
        ),
    }
}

/// Instantiates the configuration and plans its setup chain; `ready` when the pair's settings
/// can be reconciled now, so that validation and the start are planned too.
fn create(
    ctx: &mut Ctx<'_>,
    s: &SyncSpec,
    target: &mtoctl_model::ids::TenantId,
    addr: ResourceAddr,
    prereqs: Vec<ActionId>,
    ready: bool,
) {
    let key = ctx.push(
        Draft::new(
            addr,
            &s.from,
            ActionKind::Create,
            Operation::InstantiateSyncConfiguration {
                display_name: s.name.clone(),
            },
            ActionReason::Missing,
            format!(
                "create sync configuration {} from {} into {}",
                s.name, s.from, s.to
            ),
        )
        .changes(vec![change("display_name", None::<&()>, Some(&s.name))]),
    );
    let config = ObjectRef::CreatedBy { action: key };
    let chain = Chain {
        config: config.clone(),
        app_role: Some(config),
        config_expected: ExpectedBefore::CreatedBy { action: key },
        made_by: Some(key),
        after: [prereqs, vec![key]].concat(),
        reason: ActionReason::Setup,
        ready,
    };
    setup(ctx, s, target, chain);
}

/// What the setup chain acts on.
struct Chain {
    config: ObjectRef,
    app_role: Option<ObjectRef>,
    config_expected: ExpectedBefore,
    /// The action of this plan that makes the configuration, if one does.
    made_by: Option<ActionId>,
    after: Vec<ActionId>,
    reason: ActionReason,
    /// Whether validation and the start are planned (not deferred until a join completes).
    ready: bool,
}
