//! `/policies/crossTenantAccessPolicy`: root, default configuration, partner
//! configurations with their identity synchronization policies, and the two
//! MTO templates (graph-reference §4–§5). Complex values are whole-value
//! replacements on PATCH, as the reference recommends.

use serde_json::{Map, Value, json};

use super::{Ctx, GraphRequest, GraphResponse, check_keys, perms};
use crate::core::Core;
use crate::errors::{GraphError, GraphResult};
use crate::ids::is_guid;
use crate::state::{
    IdentitySync, PARTNER_SETTINGS, Partner, PartnerTemplate, SyncTemplate, Tenant,
    service_default_settings,
};

const PARTNER_TPL: &str = "multiTenantOrganizationPartnerConfiguration";
const SYNC_TPL: &str = "multiTenantOrganizationIdentitySynchronization";

/// Route requests under `/policies/crossTenantAccessPolicy`.
pub fn route(
    core: &mut Core,
    ctx: &Ctx,
    req: &GraphRequest,
    rest: &[&str],
) -> GraphResult<GraphResponse> {
    let read = req.method == "GET";
    ctx.require(if read {
        perms::POLICY_READ
    } else {
        perms::POLICY_WRITE
    })?;
    let m = req.method.as_str();
    match (m, rest) {
        ("GET", []) => {
            let t = tenant(core, ctx)?;
            let mut o = Map::new();
            o.insert("id".into(), json!(t.id));
            o.insert("displayName".into(), json!(t.policy.display_name));
            o.insert(
                "allowedCloudEndpoints".into(),
                json!(t.policy.allowed_cloud_endpoints),
            );
            ctx.entity("policies/crossTenantAccessPolicy/$entity", o, req)
        }
        ("PATCH", []) => patch_root(core, ctx, req),
        ("GET", ["default"]) => {
            let t = tenant(core, ctx)?;
            ctx.entity(
                "policies/crossTenantAccessPolicy/default/$entity",
                default_json(t),
                req,
            )
        }
        ("PATCH", ["default"]) => patch_default(core, ctx, req),
        ("POST", ["default", "resetToSystemDefault"]) => {
            let t = tenant_mut(core, ctx)?;
            t.policy.default = service_default_settings();
            t.policy.is_service_default = true;
            core.dirty = true;
            Ok(GraphResponse::no_content())
        }
        ("GET", ["partners"]) => list_partners(core, ctx, req),
        ("POST", ["partners"]) => create_partner(core, ctx, req),
        ("GET", ["partners", id]) => {
            let id = id.to_ascii_lowercase();
            let t = tenant(core, ctx)?;
            let p = t
                .partners
                .get(&id)
                .ok_or_else(|| GraphError::not_found(&id))?;
            let opts = req.options()?;
            let mut m = partner_json(p, &ctx.version);
            if opts.expand.iter().any(|e| e == "identitySynchronization") {
                m.insert("identitySynchronization".into(), sync_value(t, &id));
            }
            let sel = opts.select.map(|mut s| {
                if m.contains_key("identitySynchronization") {
                    s.push("identitySynchronization".into());
                }
                s
            });
            let mut out = Map::new();
            out.insert(
                "@odata.context".into(),
                json!(ctx.context("policies/crossTenantAccessPolicy/partners/$entity")),
            );
            out.extend(crate::odata::project(m, sel.as_deref(), None));
            Ok(GraphResponse::json(200, Value::Object(out)))
        }
        ("PATCH", ["partners", id]) => patch_partner(core, ctx, req, id),
        ("DELETE", ["partners", id]) => {
            let id = id.to_ascii_lowercase();
            let t = tenant_mut(core, ctx)?;
            if !t.partners.contains_key(&id) {
                return Err(GraphError::not_found(&id));
            }
            if t.identity_sync.contains_key(&id) {
                return Err(GraphError::bad_request(format!(
                    "The partner configuration for tenant {id} has an identity synchronization policy; delete it first."
                )));
            }
            let now = core.now();
            let t = tenant_mut(core, ctx)?;
            if let Some(p) = t.partners.remove(&id) {
                // Deleted configurations go to the (beta) recycle area.
                t.deleted_partners.insert(id, (p, now));
            }
            core.dirty = true;
            Ok(GraphResponse::no_content())
        }
        (_, ["partners", id, "identitySynchronization"]) => {
            identity_sync(core, ctx, req, &id.to_ascii_lowercase())
        }
        ("GET", ["templates"]) => {
            let t = tenant(core, ctx)?;
            let mut o = Map::new();
            o.insert("id".into(), json!(t.id));
            ctx.entity("policies/crossTenantAccessPolicy/templates/$entity", o, req)
        }
        ("GET", ["templates", PARTNER_TPL]) => {
            let t = tenant(core, ctx)?;
            ctx.entity(
                &format!("policies/crossTenantAccessPolicy/templates/{PARTNER_TPL}/$entity"),
                super::templates::partner_template_json(&t.partner_template),
                req,
            )
        }
        ("GET", ["templates", SYNC_TPL]) => {
            let t = tenant(core, ctx)?;
            ctx.entity(
                &format!("policies/crossTenantAccessPolicy/templates/{SYNC_TPL}/$entity"),
                super::templates::sync_template_json(&t.sync_template),
                req,
            )
        }
        ("PATCH", ["templates", PARTNER_TPL]) => {
            super::templates::patch_partner_template(core, ctx, req)
        }
        ("PATCH", ["templates", SYNC_TPL]) => super::templates::patch_sync_template(core, ctx, req),
        ("POST", ["templates", which, "resetToDefaultSettings"])
            if *which == PARTNER_TPL || *which == SYNC_TPL =>
        {
            let is_partner = *which == PARTNER_TPL;
            let t = tenant_mut(core, ctx)?;
            if is_partner {
                t.partner_template = PartnerTemplate::reset(t.partner_template.id.clone());
            } else {
                t.sync_template = SyncTemplate::reset(t.sync_template.id.clone());
            }
            core.dirty = true;
            Ok(GraphResponse::no_content())
        }
        (_, [] | ["default"] | ["partners"] | ["partners", _] | ["templates", ..]) => {
            Err(GraphError::method_not_allowed())
        }
        _ => Err(GraphError::unknown_segment(
            rest.last().copied().unwrap_or("crossTenantAccessPolicy"),
        )),
    }
}

pub(super) fn tenant<'a>(core: &'a Core, ctx: &Ctx) -> GraphResult<&'a Tenant> {
    core.state
        .tenants
        .get(&ctx.tenant)
        .ok_or_else(|| GraphError::unauthorized("Unknown tenant."))
}

pub(super) fn tenant_mut<'a>(core: &'a mut Core, ctx: &Ctx) -> GraphResult<&'a mut Tenant> {
    core.state
        .tenants
        .get_mut(&ctx.tenant)
        .ok_or_else(|| GraphError::unauthorized("Unknown tenant."))
}

fn patch_root(core: &mut Core, ctx: &Ctx, req: &GraphRequest) -> GraphResult<GraphResponse> {
    let body = req.object_body()?;
    check_keys(
        body,
        &["displayName", "allowedCloudEndpoints"],
        "crossTenantAccessPolicy",
    )?;
    let name = match body.get("displayName") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(GraphError::bad_request("displayName must be a string.")),
    };
    let endpoints = match body.get("allowedCloudEndpoints") {
        None => None,
        Some(Value::Array(a)) => {
            let mut out = Vec::new();
            for v in a {
                match v.as_str() {
                    Some(
                        s @ ("microsoftonline.com"
                        | "microsoftonline.us"
                        | "partner.microsoftonline.cn"),
                    ) => out.push(s.to_owned()),
                    _ => {
                        return Err(GraphError::bad_request(format!(
                            "Invalid allowedCloudEndpoints value {v}."
                        )));
                    }
                }
            }
            Some(out)
        }
        Some(_) => {
            return Err(GraphError::bad_request(
                "allowedCloudEndpoints must be an array.",
            ));
        }
    };
    let t = tenant_mut(core, ctx)?;
    if let Some(n) = name {
        t.policy.display_name = n;
    }
    if let Some(e) = endpoints {
        t.policy.allowed_cloud_endpoints = e;
    }
    core.dirty = true;
    Ok(GraphResponse::no_content())
}

fn default_json(t: &Tenant) -> Map<String, Value> {
    // `id` is not nullable (v1.0 metadata; the reference's example is shortened): the tenant's
    // id, as for the policy itself.
    let mut m = Map::new();
    m.insert("id".into(), json!(t.id));
    m.extend(t.policy.default.clone());
    m.insert(
        "isServiceDefault".into(),
        json!(t.policy.is_service_default),
    );
    m
}

/// Validate one complex setting value (null is always allowed: inherit).
pub(super) fn validate_setting(key: &str, v: &Value) -> GraphResult<()> {
    if v.is_null() {
        return Ok(());
    }
    let bad = |why: &str| {
        Err(GraphError::bad_request(format!(
            "Invalid value for property '{key}': {why}."
        )))
    };
    let bool_members = |obj: &Map<String, Value>, allowed: &[&str]| -> GraphResult<()> {
        for (k, x) in obj {
            if !allowed.contains(&k.as_str()) || !(x.is_boolean() || x.is_null()) {
                return Err(GraphError::bad_request(format!(
                    "Invalid value for property '{key}': member '{k}'."
                )));
            }
        }
        Ok(())
    };
    match key {
        "isServiceProvider" => {
            if v.is_boolean() {
                Ok(())
            } else {
                bad("expected a boolean")
            }
        }
        "automaticUserConsentSettings"
        | "crossCloudMeetingConfiguration"
        | "protectedContentSharing" => match v.as_object() {
            Some(o) => bool_members(o, &["inboundAllowed", "outboundAllowed"]),
            None => bad("expected an object"),
        },
        "inboundTrust" => match v.as_object() {
            Some(o) => bool_members(
                o,
                &[
                    "isMfaAccepted",
                    "isCompliantDeviceAccepted",
                    "isHybridAzureADJoinedDeviceAccepted",
                ],
            ),
            None => bad("expected an object"),
        },
        "b2bCollaborationInbound"
        | "b2bCollaborationOutbound"
        | "b2bDirectConnectInbound"
        | "b2bDirectConnectOutbound"
        | "tenantRestrictions" => {
            let Some(o) = v.as_object() else {
                return bad("expected an object");
            };
            for (part, cfg) in o {
                if !["usersAndGroups", "applications", "devices"].contains(&part.as_str()) {
                    return bad(&format!("unknown member '{part}'"));
                }
                if part == "devices" || cfg.is_null() {
                    continue;
                }
                let access = cfg.get("accessType").and_then(Value::as_str);
                if !matches!(access, Some("allowed" | "blocked")) {
                    return bad("accessType must be 'allowed' or 'blocked'");
                }
                for t in cfg
                    .get("targets")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let ok_target = t.get("target").is_some_and(Value::is_string);
                    let tt = t.get("targetType").and_then(Value::as_str);
                    if !ok_target || !matches!(tt, Some("user" | "group" | "application")) {
                        return bad(
                            "each target needs 'target' and a targetType of user, group or application",
                        );
                    }
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn patch_default(core: &mut Core, ctx: &Ctx, req: &GraphRequest) -> GraphResult<GraphResponse> {
    let body = req.object_body()?;
    let allowed = [
        "inboundTrust",
        "b2bCollaborationInbound",
        "b2bCollaborationOutbound",
        "b2bDirectConnectInbound",
        "b2bDirectConnectOutbound",
        "invitationRedemptionIdentityProviderConfiguration",
        "tenantRestrictions",
    ];
    check_keys(
        body,
        &allowed,
        "crossTenantAccessPolicyConfigurationDefault",
    )?;
    for (k, v) in body {
        validate_setting(k, v)?;
    }
    let t = tenant_mut(core, ctx)?;
    for (k, v) in body {
        if !k.starts_with("@odata") {
            t.policy.default.insert(k.clone(), v.clone());
        }
    }
    t.policy.is_service_default = false;
    core.dirty = true;
    Ok(GraphResponse::no_content())
}

/// Partner properties only beta declares (the v1.0 metadata does not): answered and accepted on
/// `/beta` only.
const BETA_ONLY_PARTNER: &[&str] = &[
    "crossCloudMeetingConfiguration",
    "protectedContentSharing",
    "blockServiceProviderOutboundAccess",
    "invitationRedemptionIdentityProviderConfiguration",
];

/// The partner settings `version` declares.
fn partner_settings(version: &str) -> impl Iterator<Item = &'static str> {
    PARTNER_SETTINGS
        .iter()
        .copied()
        .filter(move |k| version == "beta" || !BETA_ONLY_PARTNER.contains(k))
}

pub(super) fn partner_json(p: &Partner, version: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("tenantId".into(), json!(p.tenant_id));
    m.insert("isInMultiTenantOrganization".into(), json!(p.is_in_mto));
    for k in partner_settings(version) {
        m.insert(
            (*k).into(),
            p.settings.get(k).cloned().unwrap_or(Value::Null),
        );
    }
    m
}

pub(super) fn sync_json(s: &IdentitySync) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("tenantId".into(), json!(s.tenant_id));
    m.insert("displayName".into(), json!(s.display_name));
    m.insert("userSyncInbound".into(), s.user_sync_inbound.clone());
    m
}

fn sync_value(t: &Tenant, id: &str) -> Value {
    t.identity_sync
        .get(id)
        .map(|s| Value::Object(sync_json(s)))
        .unwrap_or(Value::Null)
}

fn list_partners(core: &mut Core, ctx: &Ctx, req: &GraphRequest) -> GraphResult<GraphResponse> {
    let mut opts = req.options()?;
    let mut known: Vec<&str> = vec![
        "tenantId",
        "isInMultiTenantOrganization",
        "identitySynchronization",
    ];
    known.extend(PARTNER_SETTINGS);
    opts.check_select(&known, "crossTenantAccessPolicyConfigurationPartner")?;
    let expand = opts.expand.iter().any(|e| e == "identitySynchronization");
    if let Some(e) = opts
        .expand
        .iter()
        .find(|e| e.as_str() != "identitySynchronization")
    {
        return Err(GraphError::bad_request(format!(
            "Could not find a navigation property named '{e}'."
        )));
    }
    let t = tenant(core, ctx)?;
    let items = t
        .partners
        .values()
        .map(|p| {
            let mut m = partner_json(p, &ctx.version);
            if expand {
                m.insert(
                    "identitySynchronization".into(),
                    sync_value(t, &p.tenant_id),
                );
            }
            m
        })
        .collect();
    if expand && let Some(sel) = opts.select.as_mut() {
        sel.push("identitySynchronization".into());
    }
    let spec = crate::odata::PageSpec {
        context: "policies/crossTenantAccessPolicy/partners",
        self_url: format!("{}/policies/crossTenantAccessPolicy/partners", ctx.base_url),
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

fn create_partner(core: &mut Core, ctx: &Ctx, req: &GraphRequest) -> GraphResult<GraphResponse> {
    let body = req.object_body()?;
    let mut allowed = vec!["tenantId"];
    allowed.extend(partner_settings(&ctx.version));
    check_keys(
        body,
        &allowed,
        "crossTenantAccessPolicyConfigurationPartner",
    )?;
    let id = super::required_str(body, "tenantId")?.to_ascii_lowercase();
    if !is_guid(&id) {
        return Err(GraphError::bad_request(format!(
            "Invalid value '{id}' for property 'tenantId'."
        )));
    }
    if id == ctx.tenant {
        return Err(GraphError::bad_request(
            "A tenant cannot be its own partner.",
        ));
    }
    for (k, v) in body {
        validate_setting(k, v)?;
    }
    let in_mto = {
        let st = &core.state;
        st.mto_of(&ctx.tenant)
            .and_then(|k| st.mtos.get(k))
            .and_then(|m| m.member(&id))
            .is_some_and(|m| m.state == "active")
    };
    let t = tenant_mut(core, ctx)?;
    if t.partners.contains_key(&id) {
        return Err(GraphError::conflict(
            "Another object with the same value for property tenantId already exists.",
        ));
    }
    let mut p = Partner::unconfigured(&id);
    p.is_in_mto = in_mto;
    for (k, v) in body {
        if k != "tenantId" && !k.starts_with("@odata") {
            p.settings.insert(k.clone(), v.clone());
        }
    }
    let m = partner_json(&p, &ctx.version);
    t.partners.insert(id, p);
    core.dirty = true;
    let mut out = Map::new();
    out.insert(
        "@odata.context".into(),
        json!(ctx.context("policies/crossTenantAccessPolicy/partners/$entity")),
    );
    out.extend(m);
    Ok(GraphResponse::json(201, Value::Object(out)))
}

fn patch_partner(
    core: &mut Core,
    ctx: &Ctx,
    req: &GraphRequest,
    id: &str,
) -> GraphResult<GraphResponse> {
    let id = id.to_ascii_lowercase();
    let body = req.object_body()?;
    let mut allowed = vec!["tenantId"];
    allowed.extend(partner_settings(&ctx.version));
    check_keys(
        body,
        &allowed,
        "crossTenantAccessPolicyConfigurationPartner",
    )?;
    if body
        .get("tenantId")
        .is_some_and(|v| v.as_str().map(str::to_ascii_lowercase) != Some(id.clone()))
    {
        return Err(GraphError::bad_request("Property 'tenantId' is read-only."));
    }
    for (k, v) in body {
        validate_setting(k, v)?;
    }
    let t = tenant_mut(core, ctx)?;
    let p = t
        .partners
        .get_mut(&id)
        .ok_or_else(|| GraphError::not_found(&id))?;
    for (k, v) in body {
        if k != "tenantId" && !k.starts_with("@odata") {
            p.settings.insert(k.clone(), v.clone());
        }
    }
    core.dirty = true;
    Ok(GraphResponse::no_content())
}

fn parse_sync_inbound(v: Option<&Value>, required: bool) -> GraphResult<Option<Value>> {
    match v {
        None if required => Err(GraphError::bad_request(
            "Property 'userSyncInbound' is required.",
        )),
        None => Ok(None),
        Some(Value::Object(o)) => match o.get("isSyncAllowed") {
            Some(Value::Bool(b)) if o.len() == 1 => Ok(Some(json!({"isSyncAllowed": b}))),
            _ => Err(GraphError::bad_request(
                "userSyncInbound must be {\"isSyncAllowed\": true|false}.",
            )),
        },
        Some(_) => Err(GraphError::bad_request(
            "userSyncInbound must be an object.",
        )),
    }
}

fn identity_sync(
    core: &mut Core,
    ctx: &Ctx,
    req: &GraphRequest,
    id: &str,
) -> GraphResult<GraphResponse> {
    let allowed = ["tenantId", "displayName", "userSyncInbound"];
    match req.method.as_str() {
        "GET" => {
            let t = tenant(core, ctx)?;
            let s = t
                .identity_sync
                .get(id)
                .ok_or_else(|| GraphError::not_found(id))?;
            ctx.entity(
                &format!("policies/crossTenantAccessPolicy/partners('{id}')/identitySynchronization/$entity"),
                sync_json(s),
                req,
            )
        }
        "PUT" => {
            let body = req.object_body()?;
            check_keys(body, &allowed, "crossTenantIdentitySyncPolicyPartner")?;
            let inbound = parse_sync_inbound(body.get("userSyncInbound"), false)?
                .unwrap_or_else(|| json!({"isSyncAllowed": false}));
            let name = body
                .get("displayName")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let t = tenant_mut(core, ctx)?;
            if !t.partners.contains_key(id) {
                return Err(GraphError::not_found(id));
            }
            if t.identity_sync.contains_key(id) {
                return Err(GraphError::conflict(
                    "A conflicting object with one or more of the specified property values is present in the directory.",
                ));
            }
            t.identity_sync.insert(
                id.to_owned(),
                IdentitySync {
                    tenant_id: id.to_owned(),
                    display_name: name,
                    user_sync_inbound: inbound,
                },
            );
            core.dirty = true;
            Ok(GraphResponse::no_content())
        }
        "PATCH" => {
            let body = req.object_body()?;
            check_keys(body, &allowed, "crossTenantIdentitySyncPolicyPartner")?;
            let inbound = parse_sync_inbound(body.get("userSyncInbound"), false)?;
            let t = tenant_mut(core, ctx)?;
            let s = t
                .identity_sync
                .get_mut(id)
                .ok_or_else(GraphError::directory_object_not_found)?;
            if let Some(v) = body.get("displayName") {
                s.display_name = v.as_str().map(str::to_owned);
            }
            if let Some(i) = inbound {
                s.user_sync_inbound = i;
            }
            core.dirty = true;
            Ok(GraphResponse::no_content())
        }
        "DELETE" => {
            let now = core.now();
            let t = tenant_mut(core, ctx)?;
            let s = t
                .identity_sync
                .remove(id)
                .ok_or_else(|| GraphError::not_found(id))?;
            t.deleted_sync.insert(id.to_owned(), (s, now));
            core.dirty = true;
            Ok(GraphResponse::no_content())
        }
        _ => Err(GraphError::method_not_allowed()),
    }
}
