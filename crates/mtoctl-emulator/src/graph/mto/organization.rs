//! The multitenant organization object: read, created, updated.

use serde_json::{Map, Value, json};

use super::{basic_only, caller_mto, tenant, trim};
use crate::clock::iso;
use crate::core::Core;
use crate::errors::{GraphError, GraphResult};
use crate::graph::{Ctx, GraphRequest, GraphResponse, check_keys, required_str};
use crate::state::{LocalMto, Member, Mto};

/// GET of the organization: the caller's view of it, or an inactive one.
pub(super) fn get_mto(
    core: &mut Core,
    ctx: &Ctx,
    req: &GraphRequest,
) -> GraphResult<GraphResponse> {
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

/// The organization as a tenant whose object id is `object_id` sees it.
fn mto_json(object_id: &str, mto: &Mto) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(object_id));
    m.insert("createdDateTime".into(), json!(iso(mto.created_ms)));
    m.insert("displayName".into(), json!(mto.display_name));
    m.insert("description".into(), json!(mto.description));
    m.insert("state".into(), json!("active"));
    m
}

/// A string property that may be absent (`None`) or null (`Some(None)`).
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

/// PUT of the organization: creates it with the caller as its owner.
pub(super) fn create_mto(
    core: &mut Core,
    ctx: &Ctx,
    req: &GraphRequest,
) -> GraphResult<GraphResponse> {
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
    Ok(ctx.created("tenantRelationships/multiTenantOrganization/$entity", body))
}

/// PATCH of the organization's display name and description.
pub(super) fn update_mto(
    core: &mut Core,
    ctx: &Ctx,
    req: &GraphRequest,
) -> GraphResult<GraphResponse> {
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
