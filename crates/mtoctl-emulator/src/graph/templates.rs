//! The two MTO templates under `/policies/crossTenantAccessPolicy/templates`
//! (reference §5): rendering, PATCH and the lenient `templateApplicationLevel`.

use serde_json::{Map, Value, json};

use super::policies::{tenant_mut, validate_setting};
use super::{Ctx, GraphRequest, GraphResponse, check_keys};
use crate::core::Core;
use crate::errors::{GraphError, GraphResult};
use crate::state::{PARTNER_TEMPLATE_SETTINGS, PartnerTemplate, SyncTemplate};

/// Parse `templateApplicationLevel` leniently: `""`, `null` and `"none"` mean
/// none; otherwise comma-separated flags with optional spaces.
pub fn parse_level(v: &Value) -> GraphResult<String> {
    let s = match v {
        Value::Null => return Ok("none".into()),
        Value::String(s) => s,
        _ => {
            return Err(GraphError::bad_request(
                "templateApplicationLevel must be a string.",
            ));
        }
    };
    let mut new = false;
    let mut existing = false;
    for f in s.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        match f {
            "newPartners" => new = true,
            "existingPartners" => existing = true,
            "none" | "unknownFutureValue" => {}
            other => {
                return Err(GraphError::bad_request(format!(
                    "Invalid templateApplicationLevel flag '{other}'."
                )));
            }
        }
    }
    Ok(match (new, existing) {
        (true, true) => "newPartners,existingPartners",
        (true, false) => "newPartners",
        (false, true) => "existingPartners",
        (false, false) => "none",
    }
    .into())
}

pub(super) fn partner_template_json(t: &PartnerTemplate) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(t.id));
    m.insert("templateApplicationLevel".into(), json!(t.level));
    for k in PARTNER_TEMPLATE_SETTINGS {
        m.insert(
            (*k).into(),
            t.settings.get(*k).cloned().unwrap_or(Value::Null),
        );
    }
    m
}

pub(super) fn sync_template_json(t: &SyncTemplate) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(t.id));
    m.insert("templateApplicationLevel".into(), json!(t.level));
    m.insert("userSyncInbound".into(), t.user_sync_inbound.clone());
    m
}

pub(super) fn patch_partner_template(
    core: &mut Core,
    ctx: &Ctx,
    req: &GraphRequest,
) -> GraphResult<GraphResponse> {
    let body = req.object_body()?;
    let mut allowed = vec!["templateApplicationLevel"];
    allowed.extend(PARTNER_TEMPLATE_SETTINGS);
    check_keys(
        body,
        &allowed,
        "multiTenantOrganizationPartnerConfigurationTemplate",
    )?;
    let level = body
        .get("templateApplicationLevel")
        .map(parse_level)
        .transpose()?;
    for (k, v) in body {
        validate_setting(k, v)?;
    }
    let t = tenant_mut(core, ctx)?;
    if let Some(l) = level {
        t.partner_template.level = l;
    }
    for (k, v) in body {
        if PARTNER_TEMPLATE_SETTINGS.contains(&k.as_str()) {
            t.partner_template.settings.insert(k.clone(), v.clone());
        }
    }
    core.dirty = true;
    Ok(GraphResponse::no_content())
}

pub(super) fn patch_sync_template(
    core: &mut Core,
    ctx: &Ctx,
    req: &GraphRequest,
) -> GraphResult<GraphResponse> {
    let body = req.object_body()?;
    check_keys(
        body,
        &["templateApplicationLevel", "userSyncInbound"],
        "multiTenantOrganizationIdentitySyncPolicyTemplate",
    )?;
    let level = body
        .get("templateApplicationLevel")
        .map(parse_level)
        .transpose()?;
    let inbound = match body.get("userSyncInbound") {
        None => None,
        Some(Value::Null) => Some(json!({"isSyncAllowed": null})),
        Some(Value::Object(o)) => match o.get("isSyncAllowed") {
            Some(v @ (Value::Bool(_) | Value::Null)) if o.len() == 1 => {
                Some(json!({"isSyncAllowed": v}))
            }
            _ => {
                return Err(GraphError::bad_request(
                    "userSyncInbound must be {\"isSyncAllowed\": true|false|null}.",
                ));
            }
        },
        Some(_) => {
            return Err(GraphError::bad_request(
                "userSyncInbound must be an object.",
            ));
        }
    };
    let t = tenant_mut(core, ctx)?;
    if let Some(l) = level {
        t.sync_template.level = l;
    }
    if let Some(i) = inbound {
        t.sync_template.user_sync_inbound = i;
    }
    core.dirty = true;
    Ok(GraphResponse::no_content())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_leniently() {
        assert_eq!(parse_level(&json!("")).unwrap(), "none");
        assert_eq!(parse_level(&Value::Null).unwrap(), "none");
        assert_eq!(parse_level(&json!("none")).unwrap(), "none");
        assert_eq!(
            parse_level(&json!("existingPartners, newPartners")).unwrap(),
            "newPartners,existingPartners"
        );
        assert!(parse_level(&json!("bogus")).is_err());
    }
}
