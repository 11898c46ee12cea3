//! Partner configurations: rendered per Graph version, listed, created and patched.

use serde_json::{Map, Value, json};

use super::identity_sync::sync_value;
use super::{tenant, tenant_mut, validate_setting};
use crate::core::Core;
use crate::errors::{GraphError, GraphResult};
use crate::graph::{Ctx, GraphRequest, GraphResponse, check_keys};
use crate::ids::is_guid;
use crate::state::{PARTNER_SETTINGS, Partner};

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

/// A partner configuration as `version` renders it.
pub(in crate::graph) fn partner_json(p: &Partner, version: &str) -> Map<String, Value> {
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

/// GET of the partner configurations, with their identity synchronization policies when
/// `$expand`ed.
pub(super) fn list_partners(
    core: &mut Core,
    ctx: &Ctx,
    req: &GraphRequest,
) -> GraphResult<GraphResponse> {
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
                    sync_value(t, &p.tenant_id, &ctx.version),
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

/// POST of a partner configuration.
pub(super) fn create_partner(
    core: &mut Core,
    ctx: &Ctx,
    req: &GraphRequest,
) -> GraphResult<GraphResponse> {
    let body = req.object_body()?;
    let mut allowed = vec!["tenantId"];
    allowed.extend(partner_settings(&ctx.version));
    check_keys(
        body,
        &allowed,
        "crossTenantAccessPolicyConfigurationPartner",
    )?;
    let id = crate::graph::required_str(body, "tenantId")?.to_ascii_lowercase();
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
    Ok(ctx.created("policies/crossTenantAccessPolicy/partners/$entity", m))
}

/// PATCH of a partner configuration: the settings given replace theirs whole.
pub(super) fn patch_partner(
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
