//! The tenant's join request: read, and patched to join another tenant's organization.

use serde_json::{Map, Value, json};

use crate::core::Core;
use crate::errors::{GraphError, GraphResult};
use crate::graph::{Ctx, GraphRequest, GraphResponse, check_keys, required_str};
use crate::ids::{ZERO_GUID, is_guid};
use crate::state::{EventKind, JoinRequest, JoinTransition, MemberTransition};

/// The tenant's join request as Graph renders it.
pub(super) fn join_request_json(jr: &JoinRequest) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(jr.id));
    m.insert("addedByTenantId".into(), json!(jr.added_by));
    m.insert("memberState".into(), json!(jr.member_state));
    m.insert("role".into(), json!(jr.role));
    m.insert(
        "transitionDetails".into(),
        match &jr.transition {
            Some(t) => json!({"desiredMemberState": t.desired_member_state, "status": t.status, "details": t.details}),
            None => Value::Null,
        },
    );
    m
}

/// PATCH of the join request: join the organization of an owner tenant.
pub(super) fn patch_join_request(
    core: &mut Core,
    ctx: &Ctx,
    req: &GraphRequest,
) -> GraphResult<GraphResponse> {
    let body = req.object_body()?;
    check_keys(
        body,
        &["addedByTenantId"],
        "multiTenantOrganizationJoinRequestRecord",
    )?;
    let owner = required_str(body, "addedByTenantId")?.to_ascii_lowercase();
    if !is_guid(&owner) {
        return Err(GraphError::bad_request(format!(
            "Invalid value '{owner}' for property 'addedByTenantId'."
        )));
    }
    let now = core.now();
    let (start, complete) = (
        core.scaled_ms(core.state.timings.join_start),
        core.scaled_ms(core.state.timings.join_complete),
    );
    let in_same_mto = core
        .state
        .mto_of(&ctx.tenant)
        .and_then(|k| core.state.mtos.get(k))
        .is_some_and(|m| m.member(&owner).is_some());
    let Some(t) = core.state.tenants.get_mut(&ctx.tenant) else {
        return Err(GraphError::unauthorized(
            "The tenant of the token is not part of this world.",
        ));
    };
    let in_flight = t
        .join_request
        .transition
        .as_ref()
        .is_some_and(|tr| tr.status == "notStarted" || tr.status == "running");
    if owner == ZERO_GUID {
        if t.mto.is_some() {
            return Err(GraphError::bad_request(
                "The tenant is an active member; leave with DELETE .../tenants/{tenantId} instead.",
            ));
        }
        let attempt = t.join_request.attempt + 1;
        let id = t.join_request.id.clone();
        t.join_request = JoinRequest::new(id);
        t.join_request.attempt = attempt;
        core.dirty = true;
        return Ok(GraphResponse::no_content());
    }
    if in_flight {
        if t.join_request.added_by == owner {
            return Ok(GraphResponse::no_content());
        }
        return Err(GraphError::bad_request(
            "A join request is already being processed for this tenant.",
        ));
    }
    if t.mto.is_some() && in_same_mto {
        return Ok(GraphResponse::no_content());
    }
    t.join_request.attempt += 1;
    let attempt = t.join_request.attempt;
    t.join_request.added_by = owner;
    t.join_request.member_state = Some("pending".into());
    t.join_request.role = None;
    t.join_request.transition = Some(JoinTransition {
        desired_member_state: "active".into(),
        status: "notStarted".into(),
        details: String::new(),
    });
    let tenant = ctx.tenant.clone();
    // A new attempt shows as not started in the owners' view too (a previous
    // failure is cleared).
    let owner = core
        .state
        .tenants
        .get(&tenant)
        .map(|t| t.join_request.added_by.clone())
        .unwrap_or_default();
    if let Some(key) = crate::graph::mto_transitions::join_target(&core.state, &tenant, &owner)
        && let Some(m) = core
            .state
            .mtos
            .get_mut(&key)
            .and_then(|m| m.member_mut(&tenant))
    {
        let role = m.role.clone();
        let tr = m.transition.get_or_insert(MemberTransition {
            desired_role: role,
            desired_state: "active".into(),
            status: "notStarted".into(),
            details: None,
        });
        tr.status = "notStarted".into();
        tr.details = None;
    }
    core.state.schedule(
        now + start,
        EventKind::JoinStart {
            tenant: tenant.clone(),
            attempt,
        },
    );
    core.state.schedule(
        now + complete.max(start),
        EventKind::JoinComplete { tenant, attempt },
    );
    core.dirty = true;
    Ok(GraphResponse::no_content())
}
