//! Validation of the complex setting values of default and partner configurations and of
//! templates (inbound trust, B2B collaboration and direct connect, and the rest).

use serde_json::{Map, Value};

use crate::errors::{GraphError, GraphResult};

/// Validate one complex setting value (null is always allowed: inherit).
pub(in crate::graph) fn validate_setting(key: &str, v: &Value) -> GraphResult<()> {
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
