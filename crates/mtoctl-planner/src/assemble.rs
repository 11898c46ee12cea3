//! Turns the diff modules' drafts into a plan: order, ids, symbolic references, counts.

use mtoctl_model::observed::Fingerprint;

use crate::diff::{Ctx, Draft, op_name};
use crate::order::{self, Phase};
use crate::permissions;
use crate::report::PlanError;
use mtoctl_model::plan::Severity;
use mtoctl_model::plan::{
    Action, ActionId, ActionKind, ExpectedBefore, FORMAT_VERSION, ObjectRef, Plan, PlanTenant,
    Summary,
};

/// Runs `diff` on `ctx` while the spec's digest, a pass over all of it (a mesh's scopes list
/// hundreds of thousands of names), is taken on another core. Where no thread can be started,
/// [`assemble`] takes it after.
pub(crate) fn diff_beside_digest<'a>(ctx: &mut Ctx<'a>, diff: impl FnOnce(&mut Ctx<'a>)) {
    let desired = ctx.desired;
    std::thread::scope(|scope| {
        let digest = std::thread::Builder::new()
            .name("digest".into())
            .spawn_scoped(scope, move || Fingerprint::of(desired));
        diff(ctx);
        if let Ok(digest) = digest {
            let digest = digest
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            ctx.spec_digest = Some(digest);
        }
    });
}

pub(crate) fn assemble(mut ctx: Ctx<'_>) -> Result<Plan, PlanError> {
    let mut drafts = std::mem::take(&mut ctx.drafts);
    let count = drafts.len();
    // A draft's key is its position (`Ctx::push`); one past the last draft is a bug.
    let unknown = |key: ActionId| PlanError::Bug {
        message: format!("reference to draft {key}, which is not in the plan"),
    };
    let nodes = drafts
        .iter()
        .map(|d| {
            let mut deps = d
                .after
                .iter()
                .map(|&key| {
                    (key.index() < count)
                        .then_some(key.index())
                        .ok_or_else(|| unknown(key))
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
    // rank[i]: where draft i runs, which is its action id. The sort returns each draft once;
    // checked, because the permutation below would not end on anything else.
    let mut rank = vec![usize::MAX; count];
    for (at, &i) in order.iter().enumerate() {
        match rank.get_mut(i) {
            Some(r) if *r == usize::MAX => *r = at,
            _ => {
                return Err(PlanError::Bug {
                    message: format!(
                        "the sort placed draft {} twice, or no such draft",
                        ActionId::at(i)
                    ),
                });
            }
        }
    }
    if order.len() != count {
        return Err(PlanError::Bug {
            message: format!("the sort placed {} of {count} drafts", order.len()),
        });
    }
    drop(order);
    let resolve = |key: ActionId| -> Result<ActionId, PlanError> {
        rank.get(key.index())
            .map(|&at| ActionId::at(at))
            .ok_or_else(|| unknown(key))
    };

    // The drafts are put in execution order where they are, then turned into actions from the
    // last, the drafts' vector shrinking as the actions' grows, so both are never whole at
    // once (the planner's peak memory at scale).
    let mut place = rank.clone();
    for i in 0..count {
        while place[i] != i {
            let j = place[i];
            drafts.swap(i, j);
            place.swap(i, j);
        }
    }
    drop(place);
    let mut actions = Vec::with_capacity(count);
    while let Some(d) = drafts.pop() {
        actions.push(action(ActionId::at(drafts.len()), d, &resolve)?);
        if drafts.len() < drafts.capacity() / 2 {
            drafts.shrink_to_fit();
        }
    }
    actions.reverse();

    let mut deferred = Vec::with_capacity(ctx.deferred.len());
    for (mut item, waits) in ctx.deferred {
        let mut ids = waits
            .into_iter()
            .map(&resolve)
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
    // A set, not a scan of the actions per address checked: an incremental plan checks far
    // more objects than it has actions.
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
        spec_digest: ctx
            .spec_digest
            .take()
            .unwrap_or_else(|| Fingerprint::of(ctx.desired)),
        mode: ctx.mode,
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

/// The action `id` made of draft `d`, its references to other drafts resolved to action ids.
fn action(
    id: ActionId,
    d: Draft,
    resolve: &impl Fn(ActionId) -> Result<ActionId, PlanError>,
) -> Result<Action, PlanError> {
    let mut operation = d.operation;
    for r in operation.refs_mut() {
        if let ObjectRef::CreatedBy { action } = r {
            *action = resolve(*action)?;
        }
    }
    let expected_before = match d.expected_before {
        ExpectedBefore::CreatedBy { action } => ExpectedBefore::CreatedBy {
            action: resolve(action)?,
        },
        ExpectedBefore::ChangedBy { action } => ExpectedBefore::ChangedBy {
            action: resolve(action)?,
        },
        other => other,
    };
    // The draft's dependencies become the action's, in the same allocation.
    let mut depends_on = d.after;
    for key in &mut depends_on {
        *key = resolve(*key)?;
    }
    depends_on.sort_unstable();
    depends_on.dedup();
    let required_permissions = permissions::required(&operation);
    Ok(Action {
        id,
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::ObservedStateBuilder;
    use crate::tests::example;
    use mtoctl_model::ids::Alias;
    use mtoctl_model::plan::{ActionReason, Operation};

    /// Assembles the drafts `push` records, as the quickstart's first tenant's, into a plan.
    fn assemble_drafts(push: impl FnOnce(&mut Ctx<'_>, &Alias)) -> Result<Plan, PlanError> {
        let desired = example("quickstart");
        let observed = ObservedStateBuilder::fresh(&desired).build();
        let mut ctx = Ctx::new(&desired, &observed).expect("observed");
        push(&mut ctx, &desired.tenants[0].alias);
        assemble(ctx)
    }

    fn draft(tenant: &Alias, operation: Operation) -> Draft {
        Draft::new(
            mtoctl_model::plan::ResourceAddr::organization(),
            tenant,
            ActionKind::Update,
            operation,
            ActionReason::Drift,
            "s",
        )
    }

    #[test]
    fn a_dependency_on_a_draft_past_the_last_is_a_bug_not_a_panic() {
        let err = assemble_drafts(|ctx, tenant| {
            let first = ctx.push(draft(tenant, Operation::ResetJoin));
            ctx.push(draft(tenant, Operation::ResetJoin).after([first, ActionId::at(2)]));
        })
        .expect_err("refused");
        assert!(
            matches!(err, PlanError::Bug { ref message } if message.contains("draft a003, which is not in the plan")),
            "{err:?}"
        );
    }

    #[test]
    fn a_precondition_naming_a_draft_past_the_last_is_a_bug_not_a_panic() {
        let err = assemble_drafts(|ctx, tenant| {
            ctx.push(
                draft(tenant, Operation::ResetJoin).expect(ExpectedBefore::ChangedBy {
                    action: ActionId::at(7),
                }),
            );
        })
        .expect_err("refused");
        assert!(
            matches!(err, PlanError::Bug { ref message } if message.contains("draft a008")),
            "{err:?}"
        );
    }

    #[test]
    fn drafts_become_actions_in_execution_order_with_their_references_resolved() {
        let plan = assemble_drafts(|ctx, tenant| {
            // Pushed last-first: the third draft runs first, the first runs last.
            let last = ctx.push(draft(tenant, Operation::ResetJoin));
            let middle = ctx.push(draft(tenant, Operation::ResetJoin));
            let first = ctx.push(draft(tenant, Operation::ResetJoin));
            ctx.drafts[last.index()].after = vec![middle];
            ctx.drafts[middle.index()].after = vec![first, first];
            ctx.drafts[middle.index()].expected_before =
                ExpectedBefore::ChangedBy { action: first };
            for (key, summary) in [(last, "last"), (middle, "middle"), (first, "first")] {
                ctx.drafts[key.index()].summary = summary.into();
            }
        })
        .expect("plan");
        let summaries: Vec<&str> = plan.actions.iter().map(|a| a.summary.as_str()).collect();
        assert_eq!(summaries, ["first", "middle", "last"]);
        let ids: Vec<ActionId> = plan.actions.iter().map(|a| a.id).collect();
        assert_eq!(ids, [ActionId::at(0), ActionId::at(1), ActionId::at(2)]);
        assert_eq!(plan.actions[1].depends_on, [ActionId::at(0)]);
        assert_eq!(plan.actions[2].depends_on, [ActionId::at(1)]);
        assert_eq!(
            plan.actions[1].expected_before,
            ExpectedBefore::ChangedBy {
                action: ActionId::at(0)
            }
        );
    }
}
