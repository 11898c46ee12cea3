//! Turns the diff modules' drafts into a plan: order, ids, symbolic references, counts.

use std::collections::BTreeMap;

use mtoctl_model::observed::Fingerprint;

use crate::diff::Ctx;
use crate::order::{self, Phase, SortKey};
use crate::permissions;
use crate::plan::{
    Action, ActionId, ActionKind, ExpectedBefore, FORMAT_VERSION, ObjectRef, Plan, PlanTenant,
    Summary,
};
use crate::report::{PlanError, Severity};

pub(crate) fn assemble(ctx: Ctx<'_>) -> Result<Plan, PlanError> {
    let nodes: BTreeMap<String, (SortKey, Vec<String>)> = ctx
        .drafts
        .iter()
        .map(|d| {
            let key: SortKey = (
                Phase::of(&d.operation),
                d.tenant.as_str().to_owned(),
                d.addr.as_str().to_owned(),
                d.key.clone(),
            );
            let mut deps = d.after.clone();
            deps.sort();
            deps.dedup();
            (d.key.clone(), (key, deps))
        })
        .collect();
    let order = order::sort(&nodes)?;
    let ids: BTreeMap<&str, ActionId> = order
        .iter()
        .enumerate()
        .map(|(i, key)| (key.as_str(), ActionId::at(i)))
        .collect();
    let resolve = |key: &str| -> Result<ActionId, PlanError> {
        ids.get(key).cloned().ok_or_else(|| PlanError::Bug {
            message: format!("reference to unknown action {key}"),
        })
    };

    let mut by_key: BTreeMap<String, crate::diff::Draft> =
        ctx.drafts.into_iter().map(|d| (d.key.clone(), d)).collect();
    let mut actions = Vec::with_capacity(order.len());
    for key in &order {
        let d = by_key.remove(key).ok_or_else(|| PlanError::Bug {
            message: format!("lost draft {key}"),
        })?;
        let mut operation = d.operation;
        for r in operation.refs_mut() {
            if let ObjectRef::CreatedBy { action } = r {
                *action = resolve(&action.0)?;
            }
        }
        let expected_before = match d.expected_before {
            ExpectedBefore::CreatedBy { action } => ExpectedBefore::CreatedBy {
                action: resolve(&action.0)?,
            },
            ExpectedBefore::ChangedBy { action } => ExpectedBefore::ChangedBy {
                action: resolve(&action.0)?,
            },
            other => other,
        };
        let mut depends_on = nodes[key]
            .1
            .iter()
            .map(|k| resolve(k))
            .collect::<Result<Vec<_>, _>>()?;
        depends_on.sort();
        let required_permissions = permissions::required(&operation);
        actions.push(Action {
            id: resolve(key)?,
            addr: d.addr,
            tenant: d.tenant,
            kind: d.kind,
            operation,
            depends_on,
            expected_before,
            destructive: d.destructive,
            impact: d.impact,
            reason: d.reason,
            summary: d.summary,
            changes: d.changes,
            async_wait: d.async_wait,
            required_permissions,
        });
    }

    let mut deferred = Vec::with_capacity(ctx.deferred.len());
    for (mut item, waits) in ctx.deferred {
        let mut ids = waits
            .iter()
            .map(|k| resolve(k))
            .collect::<Result<Vec<_>, _>>()?;
        ids.sort();
        ids.dedup();
        item.waits_for = ids;
        deferred.push(item);
    }
    deferred.sort_by(|a, b| (&a.addr, &a.summary).cmp(&(&b.addr, &b.summary)));

    let mut notes = ctx.notes;
    notes.sort();
    notes.dedup();

    let mut summary = Summary::default();
    for a in &actions {
        match a.kind {
            ActionKind::Create => summary.create += 1,
            ActionKind::Update | ActionKind::Start | ActionKind::Stop | ActionKind::Join => {
                summary.update += 1
            }
            ActionKind::Delete => summary.delete += 1,
            ActionKind::Replace => summary.replace += 1,
            ActionKind::Wait => summary.wait += 1,
            ActionKind::Check => summary.check += 1,
        }
    }
    summary.no_op = ctx
        .checked
        .iter()
        .filter(|addr| !actions.iter().any(|a| &a.addr == *addr))
        .count();

    let applyable = !notes.iter().any(|n| n.severity == Severity::Error);
    Ok(Plan {
        format_version: FORMAT_VERSION.to_owned(),
        mtoctl_version: env!("CARGO_PKG_VERSION").to_owned(),
        spec_digest: Fingerprint::of(ctx.desired),
        tenants: ctx
            .desired
            .tenants
            .iter()
            .map(|t| PlanTenant {
                alias: t.alias.clone(),
                tenant_id: t.tenant_id.clone(),
            })
            .collect(),
        observed: ctx.fingerprints,
        actions,
        complete: deferred.is_empty(),
        deferred,
        notes,
        applyable,
        errored: false,
        summary,
    })
}
