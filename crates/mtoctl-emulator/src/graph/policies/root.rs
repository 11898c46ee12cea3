//! The cross-tenant access policy itself and its default configuration.

use serde_json::{Map, Value, json};

use super::{tenant_mut, validate_setting};
use crate::core::Core;
use crate::errors::{GraphError, GraphResult};
use crate::graph::{Ctx, GraphRequest, GraphResponse, check_keys};
use crate::state::Tenant;

/// PATCH of the policy itself: its display name and allowed cloud endpoints.
pub(super) fn patch_root(
    core: &mut Core,
    ctx: &Ctx,
    req: &GraphRequest,
) -> GraphResult<GraphResponse> {
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

/// The default configuration as Graph renders it.
pub(super) fn default_json(t: &Tenant) -> Map<String, Value> {
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

/// PATCH of the default configuration: the settings given replace theirs whole.
pub(super) fn patch_default(
    core: &mut Core,
    ctx: &Ctx,
    req: &GraphRequest,
) -> GraphResult<GraphResponse> {
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
