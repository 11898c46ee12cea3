//! Turns the diff modules' drafts into a plan: order, ids, symbolic references, counts.

use std::collections::HashMap;

use mtoctl_model::observed::Fingerprint;

use crate::diff::{Ctx, op_name};
use crate::order::{self, Phase};
use crate::permissions;
use crate::plan::{
    Action, ActionId, ActionKind, ExpectedBefore, FORMAT_VERSION, ObjectRef, Plan, PlanTenant,
    Summary,
};
use crate::report::{PlanError, Severity};

pub(crate) fn assemble(mut ctx: Ctx<'_>) -> Result<Plan, PlanError> {
    let mut drafts = std::mem::take(&mut ctx.drafts);
    // Drafts are sorted and referenced by position; their keys (moved out, not copied) only
    // name the references the diff modules made.
    let keys: Vec<String> = drafts
        .iter_mut()
        .map(|d| std::mem::take(&mut d.key))
        .collect();
    let position: HashMap<&str, usize> = keys
        .iter()
        .enumerate()
        .map(|(i, key)| (key.as_str(), i))
        .collect();
    if position.len() != keys.len() {
        return Err(PlanError::Bug {
            message: "two drafts share a key".into(),
        });
    }
    let nodes = drafts
        .iter()
        .map(|d| {
            let mut deps = d
                .after
                .iter()
                .map(|dep| {
                    position
                        .get(dep.as_str())
                        .copied()
                        .ok_or_else(|| PlanError::Bug {
                            message: format!(
                                "{} ({}) depends on draft {dep}, which is not in the plan",
                                d.addr,
                                op_name(&d.operation)
                            ),
                        })
                })
                .collect::<Result<Vec<_>, _>>()?;
            deps.sort_unstable();
            deps.dedup();
            Ok(order::Node {
                key: (
                    Phase::of(&d.operation),
                    d.tenant.as_str(),
                    d.addr.as_str(),
                    op_name(&d.operation),
                ),
                deps,
            })
        })
        .collect::<Result<Vec<_>, PlanError>>()?;
    let order = order::sort(&nodes)?;
    drop(nodes);
    // rank[i]: where draft i runs, which is its action id.
    let mut rank = vec![0_usize; order.len()];
    for (at, &i) in order.iter().enumerate() {
        rank[i] = at;
    }
    let resolve = |key: &str| -> Result<ActionId, PlanError> {
        position
            .get(key)
            .map(|&i| ActionId::at(rank[i]))
            .ok_or_else(|| PlanError::Bug {
                message: format!("reference to unknown action {key}"),
            })
    };

    // Each draft moved into its place in the order.
    let mut slots: Vec<Option<crate::diff::Draft>> = drafts.into_iter().map(Some).collect();
    let mut actions = Vec::with_capacity(order.len());
    for (at, &i) in order.iter().enumerate() {
        let d = slots[i].take().ok_or_else(|| PlanError::Bug {
            message: format!("draft {} placed twice", keys[i]),
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
        let mut depends_on = d
            .after
            .iter()
            .map(|k| resolve(k))
            .collect::<Result<Vec<_>, _>>()?;
        depends_on.sort();
        depends_on.dedup();
        let required_permissions = permissions::required(&operation);
        actions.push(Action {
            id: ActionId::at(at),
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
    // A set, not a scan of the actions per address checked: an incremental apply of B3 checks
    // 190,000 assignments against 3,800 actions.
    let acted: std::collections::HashSet<&str> = actions.iter().map(|a| a.addr.as_str()).collect();
    summary.no_op = ctx
        .checked
        .iter()
        .filter(|addr| !acted.contains(addr.as_str()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::Draft;
    use crate::plan::{ActionReason, Operation};
    use crate::testing::ObservedStateBuilder;
    use crate::tests::example;

    #[test]
    fn two_drafts_with_one_key_are_a_bug_not_a_silent_merge() {
        let desired = example("quickstart");
        let observed = ObservedStateBuilder::fresh(&desired).build();
        let mut ctx = Ctx::new(&desired, &observed).expect("observed");
        let tenant = &desired.tenants[0].alias;
        let draft = || {
            Draft::new(
                crate::addr::ResourceAddr::organization(),
                tenant,
                ActionKind::Update,
                Operation::ResetJoin,
                ActionReason::Drift,
                "s",
            )
        };
        let key = ctx.push(draft());
        let mut twin = draft();
        twin.key = key;
        ctx.drafts.push(twin);
        let err = assemble(ctx).expect_err("refused");
        assert!(matches!(err, PlanError::Bug { ref message } if message.contains("share a key")));
    }
}
