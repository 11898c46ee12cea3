//! A tenant's way in: added by the owner, then its own join request (reset first when one
//! failed), then a wait for Graph to complete the join; and a member added but not yet joined.

use mtoctl_model::desired::TenantSpec;
use mtoctl_model::observed::{Known, ProcessingStatus};

use super::{member_role, role_name, set_readiness, wait_draft};
use crate::diff::{Ctx, Draft, Readiness, change};
use mtoctl_model::plan::ResourceAddr;
use mtoctl_model::plan::Severity;
use mtoctl_model::plan::fingerprint;
use mtoctl_model::plan::{
    ActionId, ActionKind, ActionReason, ExpectedBefore, Operation, WaitCondition,
};

/// Adds `t` (owner side), then has it join (its side) and waits for the join.
pub(super) fn add_and_join(
    ctx: &mut Ctx<'_>,
    owner: &TenantSpec,
    t: &TenantSpec,
    after: Vec<ActionId>,
) {
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

/// A member added but not yet joined: submit its join, or wait for the one in flight.
pub(super) fn pending(ctx: &mut Ctx<'_>, owner: &TenantSpec, t: &TenantSpec) {
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
