//! The organization's member tenants: listed, read, added, their roles changed, removed.

use serde_json::{Map, Value, json};

use super::{basic_only, caller_mto, trim};
use crate::clock::iso;
use crate::core::Core;
use crate::errors::{GraphError, GraphResult};
use crate::graph::{Ctx, GraphRequest, GraphResponse, check_keys, required_str};
use crate::ids::is_guid;
use crate::state::{EventKind, Member, MemberTransition};

const MEMBER_PROPS: &[&str] = &[
    "id",
    "tenantId",
    "displayName",
    "addedDateTime",
    "joinedDateTime",
    "addedByTenantId",
    "role",
    "state",
    "transitionDetails",
];

/// A member's object id: `multiTenantOrganizationMember` is a `directoryObject` in the v1.0
/// metadata, so it has an `id` (SDK output shows one distinct from `tenantId`; graph-reference
/// §2.1). Derived from the organization and the tenant, so it is stable without being stored.
fn member_id(mto_key: &str, tenant_id: &str) -> String {
    let digit = |c: char| c.to_digit(16).unwrap_or(0);
    mto_key
        .chars()
        .zip(tenant_id.chars().chain(std::iter::repeat('0')))
        .map(|(a, b)| match (a, b) {
            ('-', _) => '-',
            _ => char::from_digit(digit(a) ^ digit(b), 16).unwrap_or('0'),
        })
        .collect()
}

/// A member as Graph renders it.
fn member_json(m: &Member, mto_key: &str) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("id".into(), json!(member_id(mto_key, &m.tenant_id)));
    o.insert("tenantId".into(), json!(m.tenant_id));
    o.insert("displayName".into(), json!(m.display_name));
    o.insert("addedDateTime".into(), json!(iso(m.added_ms)));
    o.insert("joinedDateTime".into(), json!(m.joined_ms.map(iso)));
    o.insert("addedByTenantId".into(), json!(m.added_by));
    o.insert("role".into(), json!(m.role));
    o.insert("state".into(), json!(m.state));
    o.insert(
        "transitionDetails".into(),
        match &m.transition {
            Some(t) => json!({
                "desiredState": t.desired_state,
                "desiredRole": t.desired_role,
                "status": t.status,
                "details": t.details,
            }),
            None => Value::Null,
        },
    );
    o
}

/// GET of the member tenants.
pub(super) fn list_members(
    core: &mut Core,
    ctx: &Ctx,
    req: &GraphRequest,
) -> GraphResult<GraphResponse> {
    let opts = req.options()?;
    opts.check_select(MEMBER_PROPS, "multiTenantOrganizationMember")?;
    let basic = basic_only(ctx);
    let items = caller_mto(&core.state, ctx)
        .map(|m| {
            m.members
                .iter()
                .map(|x| member_json(x, &m.key))
                .map(|j| {
                    if basic {
                        trim(j, &["id", "displayName", "tenantId"])
                    } else {
                        j
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let spec = crate::odata::PageSpec {
        context: "tenantRelationships/multiTenantOrganization/tenants",
        self_url: format!(
            "{}/tenantRelationships/multiTenantOrganization/tenants",
            ctx.base_url
        ),
        query: &req.query,
        default_top: 100,
        defaults: None,
        version: &ctx.version,
    };
    Ok(GraphResponse::json(
        200,
        crate::odata::page(items, &opts, &spec)?,
    ))
}

/// GET of one member tenant.
pub(super) fn get_member(
    core: &mut Core,
    ctx: &Ctx,
    req: &GraphRequest,
    id: &str,
) -> GraphResult<GraphResponse> {
    let id = id.to_ascii_lowercase();
    let mto = caller_mto(&core.state, ctx);
    let m = mto
        .and_then(|m| m.member(&id))
        .ok_or_else(GraphError::directory_object_not_found)?;
    let j = member_json(m, mto.map(|x| x.key.as_str()).unwrap_or_default());
    let j = if basic_only(ctx) {
        trim(j, &["id", "displayName", "tenantId"])
    } else {
        j
    };
    ctx.entity(
        "tenantRelationships/multiTenantOrganization/tenants/$entity",
        j,
        req,
    )
}

/// A member's `role`: `owner` or `member`.
fn parse_role(v: Option<&Value>) -> GraphResult<Option<String>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s == "owner" || s == "member" => Ok(Some(s.clone())),
        Some(other) => Err(GraphError::bad_request(format!(
            "Invalid value {other} for property 'role'; expected 'owner' or 'member'."
        ))),
    }
}

/// POST of a member tenant (owners only): pending until the tenant submits its join request.
pub(super) fn add_member(
    core: &mut Core,
    ctx: &Ctx,
    req: &GraphRequest,
) -> GraphResult<GraphResponse> {
    let body = req.object_body()?;
    check_keys(
        body,
        &["tenantId", "displayName", "role"],
        "multiTenantOrganizationMember",
    )?;
    let tid = required_str(body, "tenantId")?.to_ascii_lowercase();
    if !is_guid(&tid) {
        return Err(GraphError::bad_request(format!(
            "Invalid value '{tid}' for property 'tenantId'."
        )));
    }
    let name = required_str(body, "displayName")?.to_owned();
    let role = parse_role(body.get("role"))?.unwrap_or_else(|| "member".into());
    let now = core.now();
    let key = core
        .state
        .mto_of(&ctx.tenant)
        .map(str::to_owned)
        .ok_or_else(|| GraphError::not_found("multiTenantOrganization"))?;
    let Some(mto) = core.state.mtos.get_mut(&key) else {
        return Err(GraphError::not_found("multiTenantOrganization"));
    };
    if !mto.is_active_owner(&ctx.tenant) {
        return Err(GraphError::forbidden());
    }
    if mto.member(&tid).is_some() {
        return Err(GraphError::bad_request(
            "Tenant is already being added in Multi-Tenant Organization.",
        ));
    }
    let member = Member {
        tenant_id: tid,
        display_name: name,
        role: role.clone(),
        state: "pending".into(),
        added_by: ctx.tenant.clone(),
        added_ms: now,
        joined_ms: None,
        // The API reference's add example shows `transitionDetails: null` until the tenant
        // submits its join (graph-facts.md): the join request makes the record.
        transition: None,
    };
    let body = member_json(&member, &key);
    mto.members.push(member);
    core.dirty = true;
    Ok(ctx.created(
        "tenantRelationships/multiTenantOrganization/tenants/$entity",
        body,
    ))
}

/// PATCH of a member's role, completing on the virtual clock.
pub(super) fn change_role(
    core: &mut Core,
    ctx: &Ctx,
    req: &GraphRequest,
    id: &str,
) -> GraphResult<GraphResponse> {
    let body = req.object_body()?;
    check_keys(body, &["role"], "multiTenantOrganizationMember")?;
    let role = parse_role(body.get("role"))?
        .ok_or_else(|| GraphError::bad_request("Property 'role' is required."))?;
    let id = id.to_ascii_lowercase();
    let delay = core.scaled_ms(core.state.timings.role_change);
    let now = core.now();
    let key = core
        .state
        .mto_of(&ctx.tenant)
        .map(str::to_owned)
        .ok_or_else(|| GraphError::not_found("multiTenantOrganization"))?;
    let Some(mto) = core.state.mtos.get_mut(&key) else {
        return Err(GraphError::not_found("multiTenantOrganization"));
    };
    if !mto.is_active_owner(&ctx.tenant) {
        return Err(GraphError::forbidden());
    }
    let other_active_owners = mto
        .members
        .iter()
        .filter(|m| m.tenant_id != id && m.state == "active" && m.role == "owner")
        .count();
    let m = mto
        .member_mut(&id)
        .ok_or_else(GraphError::directory_object_not_found)?;
    if m.transition
        .as_ref()
        .is_some_and(|t| t.desired_state == "removed")
    {
        return Err(GraphError::bad_request(
            "The tenant is being removed from the multi-tenant organization.",
        ));
    }
    if role == "member" && m.role == "owner" && m.state == "active" && other_active_owners == 0 {
        return Err(GraphError::bad_request(
            "A multi-tenant organization must have at least one active owner tenant.",
        ));
    }
    let desired_state = if m.state == "pending" {
        "active"
    } else {
        m.state.as_str()
    }
    .to_owned();
    if m.role == role && m.transition.as_ref().is_none_or(|t| t.desired_role == role) {
        return Ok(GraphResponse::no_content());
    }
    m.transition = Some(MemberTransition {
        desired_role: role,
        desired_state,
        status: "notStarted".into(),
        details: None,
    });
    schedule_transition(core, now, delay, key, id, |mto, tenant| {
        EventKind::RoleChange { mto, tenant }
    });
    Ok(GraphResponse::no_content())
}

/// DELETE of a member tenant, completing on the virtual clock.
pub(super) fn remove_member(core: &mut Core, ctx: &Ctx, id: &str) -> GraphResult<GraphResponse> {
    let id = id.to_ascii_lowercase();
    let delay = core.scaled_ms(core.state.timings.removal);
    let now = core.now();
    let key = core
        .state
        .mto_of(&ctx.tenant)
        .map(str::to_owned)
        .ok_or_else(GraphError::directory_object_not_found)?;
    let Some(mto) = core.state.mtos.get_mut(&key) else {
        return Err(GraphError::directory_object_not_found());
    };
    let caller_active = mto.member(&ctx.tenant).is_some_and(|m| m.state == "active");
    let caller_owner = mto.is_active_owner(&ctx.tenant);
    let other_active = mto
        .members
        .iter()
        .filter(|m| m.tenant_id != id && m.state == "active")
        .count();
    let other_active_owners = mto
        .members
        .iter()
        .filter(|m| m.tenant_id != id && m.state == "active" && m.role == "owner")
        .count();
    let target = mto
        .member_mut(&id)
        .ok_or_else(GraphError::directory_object_not_found)?;
    if target
        .transition
        .as_ref()
        .is_some_and(|t| t.desired_state == "removed")
    {
        return Ok(GraphResponse::no_content());
    }
    if id == ctx.tenant {
        if !caller_active {
            return Err(GraphError::forbidden());
        }
        if target.role == "owner" && other_active_owners == 0 && other_active > 0 {
            return Err(GraphError::bad_request(
                "The last active owner tenant cannot leave while other tenants are active. Promote another tenant to owner first.",
            ));
        }
    } else if !caller_owner {
        return Err(GraphError::forbidden());
    } else if target.role == "owner" && target.state == "active" && other_active_owners == 0 {
        return Err(GraphError::bad_request(
            "A multi-tenant organization must have at least one active owner tenant.",
        ));
    }
    target.transition = Some(MemberTransition {
        desired_role: target.role.clone(),
        desired_state: "removed".into(),
        status: "notStarted".into(),
        details: None,
    });
    schedule_transition(core, now, delay, key, id, |mto, tenant| {
        EventKind::Removal { mto, tenant }
    });
    Ok(GraphResponse::no_content())
}

/// A member's transition on the virtual clock: running at half the delay, `done` at its end.
fn schedule_transition(
    core: &mut Core,
    now: i64,
    delay: i64,
    mto: String,
    tenant: String,
    done: impl FnOnce(String, String) -> EventKind,
) {
    core.state.schedule(
        now + delay / 2,
        EventKind::TransitionRunning {
            mto: mto.clone(),
            tenant: tenant.clone(),
        },
    );
    core.state.schedule(now + delay, done(mto, tenant));
    core.dirty = true;
}
