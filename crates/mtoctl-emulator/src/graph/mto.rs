//! `/tenantRelationships/multiTenantOrganization`: the MTO object, its member
//! tenants and the join request (graph-reference §1–§3), with the
//! cross-tenant semantics: one MTO shared by its tenants, each tenant seeing
//! its own object id; joins, role changes and removals that complete
//! asynchronously on the virtual clock; owner rules.

use serde_json::{Map, Value, json};

use super::{Ctx, GraphRequest, GraphResponse, check_keys, perms, required_str};
use crate::clock::iso;
use crate::core::Core;
use crate::errors::{GraphError, GraphResult};
use crate::ids::{ZERO_GUID, is_guid};
use crate::state::{
    EventKind, JoinRequest, JoinTransition, LocalMto, Member, MemberTransition, Mto, State,
};

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

/// Route requests under the MTO path.
pub fn route(
    core: &mut Core,
    ctx: &Ctx,
    req: &GraphRequest,
    rest: &[&str],
) -> GraphResult<GraphResponse> {
    match (req.method.as_str(), rest) {
        ("GET", []) => {
            ctx.require(perms::MTO_READ)?;
            get_mto(core, ctx, req)
        }
        ("PUT", []) => {
            ctx.require(perms::MTO_WRITE)?;
            create_mto(core, ctx, req)
        }
        ("PATCH", []) => {
            ctx.require(perms::MTO_WRITE)?;
            update_mto(core, ctx, req)
        }
        ("GET", ["tenants"]) => {
            ctx.require(perms::MTO_READ)?;
            list_members(core, ctx, req)
        }
        ("POST", ["tenants"]) => {
            ctx.require(perms::MTO_WRITE)?;
            add_member(core, ctx, req)
        }
        ("GET", ["tenants", id]) => {
            ctx.require(perms::MTO_READ)?;
            get_member(core, ctx, req, id)
        }
        ("PATCH", ["tenants", id]) => {
            ctx.require(perms::MTO_WRITE)?;
            change_role(core, ctx, req, id)
        }
        ("DELETE", ["tenants", id]) => {
            ctx.require(perms::MTO_WRITE)?;
            remove_member(core, ctx, id)
        }
        ("GET", ["joinRequest"]) => {
            ctx.require(perms::MTO_READ)?;
            let jr = &tenant(&core.state, &ctx.tenant)?.join_request;
            ctx.entity(
                "tenantRelationships/multiTenantOrganization/joinRequest/$entity",
                join_request_json(jr),
                req,
            )
        }
        ("PATCH", ["joinRequest"]) => {
            ctx.require(perms::MTO_WRITE)?;
            patch_join_request(core, ctx, req)
        }
        (_, [] | ["tenants"] | ["tenants", _] | ["joinRequest"]) => {
            Err(GraphError::method_not_allowed())
        }
        _ => Err(GraphError::unknown_segment(
            rest.first().copied().unwrap_or(""),
        )),
    }
}

fn tenant<'a>(state: &'a State, id: &str) -> GraphResult<&'a crate::state::Tenant> {
    state.tenants.get(id).ok_or_else(|| {
        GraphError::unauthorized("The tenant of the token is not part of this world.")
    })
}

/// The MTO key of the caller's tenant, when it has one.
fn caller_mto<'a>(state: &'a State, ctx: &Ctx) -> Option<&'a Mto> {
    state.mto_of(&ctx.tenant).and_then(|k| state.mtos.get(k))
}

fn get_mto(core: &mut Core, ctx: &Ctx, req: &GraphRequest) -> GraphResult<GraphResponse> {
    let now = core.now();
    let st = &core.state;
    let t = tenant(st, &ctx.tenant)?;
    let m = match (t.mto.as_ref(), caller_mto(st, ctx)) {
        (Some(local), Some(mto)) if mto.visible_ms <= now => mto_json(&local.object_id, mto),
        _ => {
            let mut m = Map::new();
            m.insert("createdDateTime".into(), Value::Null);
            m.insert("displayName".into(), Value::Null);
            m.insert("description".into(), Value::Null);
            m.insert("state".into(), json!("inactive"));
            m
        }
    };
    let m = if basic_only(ctx) {
        trim(m, &["id", "displayName"])
    } else {
        m
    };
    ctx.entity(
        "tenantRelationships/multiTenantOrganization/$entity",
        m,
        req,
    )
}

/// Whether the caller holds only `MultiTenantOrganization.ReadBasic.All`
/// (reference §1.6: then only `displayName`, and `tenantId` for members, are populated).
fn basic_only(ctx: &Ctx) -> bool {
    !ctx.roles.iter().any(|r| {
        r == "MultiTenantOrganization.Read.All" || r == "MultiTenantOrganization.ReadWrite.All"
    })
}

/// Null every property except `keep` (which names the key `id`: it is never null).
fn trim(mut m: Map<String, Value>, keep: &[&str]) -> Map<String, Value> {
    for (k, v) in m.iter_mut() {
        if !keep.contains(&k.as_str()) {
            *v = Value::Null;
        }
    }
    m
}

fn mto_json(object_id: &str, mto: &Mto) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(object_id));
    m.insert("createdDateTime".into(), json!(iso(mto.created_ms)));
    m.insert("displayName".into(), json!(mto.display_name));
    m.insert("description".into(), json!(mto.description));
    m.insert("state".into(), json!("active"));
    m
}

fn optional_str(body: &Map<String, Value>, key: &str) -> GraphResult<Option<Option<String>>> {
    match body.get(key) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
        Some(_) => Err(GraphError::bad_request(format!(
            "Property '{key}' must be a string."
        ))),
    }
}

fn create_mto(core: &mut Core, ctx: &Ctx, req: &GraphRequest) -> GraphResult<GraphResponse> {
    let body = req.object_body()?;
    check_keys(
        body,
        &["displayName", "description"],
        "multiTenantOrganization",
    )?;
    let name = required_str(body, "displayName")?.to_owned();
    let description = optional_str(body, "description")?.flatten();
    let now = core.now();
    let visible_after = core.scaled_ms(core.state.timings.mto_create_visible);
    let st = &mut core.state;
    let t = tenant(st, &ctx.tenant)?;
    if t.mto.is_some() {
        // Reference §1.3: PUT on an existing MTO is unconfirmed; the emulator
        // refuses so clients that skip the GET-first rule are caught.
        return Err(GraphError::bad_request(
            "The tenant already belongs to a multi-tenant organization. Use PATCH to update it.",
        ));
    }
    let display = t.display_name.clone();
    let key = st.rng.guid();
    let object_id = st.rng.guid();
    let mto = Mto {
        key: key.clone(),
        display_name: name,
        description,
        created_ms: now,
        creator: ctx.tenant.clone(),
        visible_ms: now + visible_after,
        members: vec![Member {
            tenant_id: ctx.tenant.clone(),
            display_name: display,
            role: "owner".into(),
            state: "active".into(),
            added_by: ctx.tenant.clone(),
            added_ms: now,
            joined_ms: None,
            transition: None,
        }],
    };
    let body = mto_json(&object_id, &mto);
    st.mtos.insert(key.clone(), mto);
    if let Some(t) = st.tenants.get_mut(&ctx.tenant) {
        t.mto = Some(LocalMto {
            mto_key: key,
            object_id,
        });
    }
    core.dirty = true;
    let mut out = Map::new();
    out.insert(
        "@odata.context".into(),
        json!(ctx.context("tenantRelationships/multiTenantOrganization/$entity")),
    );
    out.extend(body);
    Ok(GraphResponse::json(201, Value::Object(out)))
}

fn update_mto(core: &mut Core, ctx: &Ctx, req: &GraphRequest) -> GraphResult<GraphResponse> {
    let body = req.object_body()?;
    check_keys(
        body,
        &["displayName", "description"],
        "multiTenantOrganization",
    )?;
    let name = optional_str(body, "displayName")?;
    let description = optional_str(body, "description")?;
    let key = core
        .state
        .mto_of(&ctx.tenant)
        .map(str::to_owned)
        .ok_or_else(|| GraphError::not_found("multiTenantOrganization"))?;
    let Some(mto) = core.state.mtos.get_mut(&key) else {
        return Err(GraphError::not_found("multiTenantOrganization"));
    };
    match name {
        Some(Some(n)) if !n.trim().is_empty() => mto.display_name = n,
        Some(_) => return Err(GraphError::bad_request("displayName cannot be empty.")),
        None => {}
    }
    if let Some(d) = description {
        mto.description = d;
    }
    core.dirty = true;
    Ok(GraphResponse::no_content())
}

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

fn list_members(core: &mut Core, ctx: &Ctx, req: &GraphRequest) -> GraphResult<GraphResponse> {
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

fn get_member(
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

fn parse_role(v: Option<&Value>) -> GraphResult<Option<String>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s == "owner" || s == "member" => Ok(Some(s.clone())),
        Some(other) => Err(GraphError::bad_request(format!(
            "Invalid value {other} for property 'role'; expected 'owner' or 'member'."
        ))),
    }
}

fn add_member(core: &mut Core, ctx: &Ctx, req: &GraphRequest) -> GraphResult<GraphResponse> {
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
    let mut out = Map::new();
    out.insert(
        "@odata.context".into(),
        json!(ctx.context("tenantRelationships/multiTenantOrganization/tenants/$entity")),
    );
    out.extend(body);
    Ok(GraphResponse::json(201, Value::Object(out)))
}

fn change_role(
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
    core.state.schedule(
        now + delay / 2,
        EventKind::TransitionRunning {
            mto: key.clone(),
            tenant: id.clone(),
        },
    );
    core.state.schedule(
        now + delay,
        EventKind::RoleChange {
            mto: key,
            tenant: id,
        },
    );
    core.dirty = true;
    Ok(GraphResponse::no_content())
}

fn remove_member(core: &mut Core, ctx: &Ctx, id: &str) -> GraphResult<GraphResponse> {
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
    core.state.schedule(
        now + delay / 2,
        EventKind::TransitionRunning {
            mto: key.clone(),
            tenant: id.clone(),
        },
    );
    core.state.schedule(
        now + delay,
        EventKind::Removal {
            mto: key,
            tenant: id,
        },
    );
    core.dirty = true;
    Ok(GraphResponse::no_content())
}

fn join_request_json(jr: &JoinRequest) -> Map<String, Value> {
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

fn patch_join_request(
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
    if let Some(key) = super::mto_transitions::join_target(&core.state, &tenant, &owner)
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
