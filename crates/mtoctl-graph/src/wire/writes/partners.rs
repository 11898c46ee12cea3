//! Writes of cross-tenant access settings: partner configurations, identity sync policies and
//! the two MTO templates (§4, §5).

use mtoctl_model::ids::TenantId;
use mtoctl_model::spec::document::Access;
use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::transport::GraphRequest;
use crate::wire::policy::{
    IDENTITY_SYNC_TEMPLATE_PATH, PARTNER_TEMPLATE_PATH, PARTNERS_PATH, identity_sync_path,
    partner_path,
};

/// `automaticUserConsentSettings`: both members, `None` written as null (inherit).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsentWrite {
    /// `inboundAllowed`.
    pub inbound: Option<bool>,
    /// `outboundAllowed`.
    pub outbound: Option<bool>,
}

/// `inboundTrust`: all three members, `None` written as null.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustWrite {
    /// `isMfaAccepted`.
    pub mfa: Option<bool>,
    /// `isCompliantDeviceAccepted`.
    pub compliant_device: Option<bool>,
    /// `isHybridAzureADJoinedDeviceAccepted`.
    pub hybrid_joined_device: Option<bool>,
}

/// One access rule: allow or block targets given in the spec's notation (`AllUsers`,
/// `user:<id>`, `group:<id>`, `AllApplications`, `Office365`, an application id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleWrite {
    /// Allowed or blocked.
    pub access: Access,
    /// Targets.
    pub targets: Vec<String>,
}

/// A B2B setting for one direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct B2bWrite {
    /// `usersAndGroups`.
    pub users_and_groups: RuleWrite,
    /// `applications`.
    pub applications: RuleWrite,
}

/// Partner settings to write; absent fields are left out of the body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartnerSettingsWrite {
    /// `automaticUserConsentSettings`.
    pub automatic_user_consent: Option<ConsentWrite>,
    /// `inboundTrust`.
    pub inbound_trust: Option<TrustWrite>,
    /// `b2bCollaborationInbound`.
    pub b2b_collaboration_inbound: Option<B2bWrite>,
    /// `b2bCollaborationOutbound`.
    pub b2b_collaboration_outbound: Option<B2bWrite>,
    /// `b2bDirectConnectInbound`.
    pub b2b_direct_connect_inbound: Option<B2bWrite>,
    /// `b2bDirectConnectOutbound`.
    pub b2b_direct_connect_outbound: Option<B2bWrite>,
}

fn settings_body(s: &PartnerSettingsWrite) -> Map<String, Value> {
    let mut body = Map::new();
    if let Some(c) = &s.automatic_user_consent {
        body.insert(
            "automaticUserConsentSettings".into(),
            json!({"inboundAllowed": c.inbound, "outboundAllowed": c.outbound}),
        );
    }
    if let Some(t) = &s.inbound_trust {
        body.insert(
            "inboundTrust".into(),
            json!({
                "isMfaAccepted": t.mfa,
                "isCompliantDeviceAccepted": t.compliant_device,
                "isHybridAzureADJoinedDeviceAccepted": t.hybrid_joined_device,
            }),
        );
    }
    for (name, value) in [
        ("b2bCollaborationInbound", &s.b2b_collaboration_inbound),
        ("b2bCollaborationOutbound", &s.b2b_collaboration_outbound),
        ("b2bDirectConnectInbound", &s.b2b_direct_connect_inbound),
        ("b2bDirectConnectOutbound", &s.b2b_direct_connect_outbound),
    ] {
        if let Some(b) = value {
            body.insert(
                name.into(),
                json!({
                    "usersAndGroups": rule_body(&b.users_and_groups, false),
                    "applications": rule_body(&b.applications, true),
                }),
            );
        }
    }
    body
}

fn rule_body(rule: &RuleWrite, applications: bool) -> Value {
    let targets: Vec<Value> = rule
        .targets
        .iter()
        .map(|t| {
            let (target, kind) = if let Some(id) = t.strip_prefix("user:") {
                (id, "user")
            } else if let Some(id) = t.strip_prefix("group:") {
                (id, "group")
            } else if applications {
                (t.as_str(), "application")
            } else {
                (t.as_str(), "user")
            };
            json!({"target": target, "targetType": kind})
        })
        .collect();
    let access = match rule.access {
        Access::Allowed => "allowed",
        Access::Blocked => "blocked",
    };
    json!({"accessType": access, "targets": targets})
}

fn application_level(flags: &[String]) -> String {
    if flags.is_empty() {
        "none".to_owned()
    } else {
        flags.join(",")
    }
}

/// `PATCH` the partner configuration template (§5.3).
pub fn patch_partner_template(
    level: Option<&[String]>,
    settings: &PartnerSettingsWrite,
) -> GraphRequest {
    let mut body = settings_body(settings);
    if let Some(flags) = level {
        body.insert(
            "templateApplicationLevel".into(),
            Value::String(application_level(flags)),
        );
    }
    GraphRequest::with_body(Method::PATCH, PARTNER_TEMPLATE_PATH, Value::Object(body))
}

/// `POST …/resetToDefaultSettings` of the partner configuration template: back to Graph's
/// defaults, where it acts on nothing but makes unconfigured partners for new members.
pub fn reset_partner_template() -> GraphRequest {
    GraphRequest::new(
        Method::POST,
        format!("{PARTNER_TEMPLATE_PATH}/resetToDefaultSettings"),
    )
}

/// `POST …/resetToDefaultSettings` of the identity synchronization template.
pub fn reset_identity_sync_template() -> GraphRequest {
    GraphRequest::new(
        Method::POST,
        format!("{IDENTITY_SYNC_TEMPLATE_PATH}/resetToDefaultSettings"),
    )
}

/// `PATCH` the identity synchronization template (§5.3).
pub fn patch_identity_sync_template(
    level: Option<&[String]>,
    is_sync_allowed: Option<bool>,
) -> GraphRequest {
    let mut body = Map::new();
    if let Some(flags) = level {
        body.insert(
            "templateApplicationLevel".into(),
            Value::String(application_level(flags)),
        );
    }
    if let Some(allowed) = is_sync_allowed {
        body.insert("userSyncInbound".into(), json!({"isSyncAllowed": allowed}));
    }
    GraphRequest::with_body(
        Method::PATCH,
        IDENTITY_SYNC_TEMPLATE_PATH,
        Value::Object(body),
    )
}

/// `POST` a partner configuration with the settings given (§4.4).
pub fn create_partner(partner: &TenantId, settings: &PartnerSettingsWrite) -> GraphRequest {
    let mut body = settings_body(settings);
    body.insert("tenantId".into(), json!(partner.to_string()));
    GraphRequest::with_body(Method::POST, PARTNERS_PATH, Value::Object(body))
}

/// `PATCH` a partner configuration (§4.4).
pub fn patch_partner(partner: &TenantId, settings: &PartnerSettingsWrite) -> GraphRequest {
    GraphRequest::with_body(
        Method::PATCH,
        partner_path(partner),
        Value::Object(settings_body(settings)),
    )
}

/// `DELETE` a partner configuration (§4.4).
pub fn delete_partner(partner: &TenantId) -> GraphRequest {
    GraphRequest::new(Method::DELETE, partner_path(partner))
}

/// Creates the identity sync policy: a `PUT`, 409 when one exists (§4.5). `groups` is
/// `groupSyncInbound`, which only the beta API has: the client sends these paths there when
/// the spec opts into group sync.
pub fn create_identity_sync(
    partner: &TenantId,
    display_name: &str,
    is_sync_allowed: bool,
    groups: Option<bool>,
) -> GraphRequest {
    let mut body =
        json!({"displayName": display_name, "userSyncInbound": {"isSyncAllowed": is_sync_allowed}});
    if let Some(groups) = groups {
        body["groupSyncInbound"] = json!({"isSyncAllowed": groups});
    }
    GraphRequest::with_body(Method::PUT, identity_sync_path(partner), body)
}

/// `PATCH` the identity sync policy (§4.5): whether users, and whether groups (beta), may
/// sync in, each when given.
pub fn patch_identity_sync(
    partner: &TenantId,
    users: Option<bool>,
    groups: Option<bool>,
) -> GraphRequest {
    let mut body = json!({});
    if let Some(users) = users {
        body["userSyncInbound"] = json!({"isSyncAllowed": users});
    }
    if let Some(groups) = groups {
        body["groupSyncInbound"] = json!({"isSyncAllowed": groups});
    }
    GraphRequest::with_body(Method::PATCH, identity_sync_path(partner), body)
}

/// `DELETE` the identity sync policy (§4.5).
pub fn delete_identity_sync(partner: &TenantId) -> GraphRequest {
    GraphRequest::new(Method::DELETE, identity_sync_path(partner))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tid(text: &str) -> TenantId {
        TenantId(mtoctl_model::ids::Guid::parse(text).expect("guid"))
    }

    #[test]
    fn partner_patch_carries_only_what_changes_and_whole_consent() {
        let r = patch_partner(
            &tid("3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11"),
            &PartnerSettingsWrite {
                automatic_user_consent: Some(ConsentWrite {
                    inbound: Some(true),
                    outbound: None,
                }),
                ..Default::default()
            },
        );
        assert_eq!(r.method, Method::PATCH);
        assert_eq!(
            r.path,
            "/policies/crossTenantAccessPolicy/partners/3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11"
        );
        assert_eq!(
            r.body,
            Some(
                json!({"automaticUserConsentSettings": {"inboundAllowed": true, "outboundAllowed": null}})
            )
        );
    }

    #[test]
    fn b2b_targets_are_typed() {
        let s = PartnerSettingsWrite {
            b2b_collaboration_inbound: Some(B2bWrite {
                users_and_groups: RuleWrite {
                    access: Access::Allowed,
                    targets: vec!["group:abc".into(), "AllUsers".into()],
                },
                applications: RuleWrite {
                    access: Access::Blocked,
                    targets: vec!["Office365".into()],
                },
            }),
            ..Default::default()
        };
        let body = settings_body(&s);
        assert_eq!(
            body["b2bCollaborationInbound"],
            json!({
                "usersAndGroups": {"accessType": "allowed", "targets": [
                    {"target": "abc", "targetType": "group"}, {"target": "AllUsers", "targetType": "user"}]},
                "applications": {"accessType": "blocked", "targets": [
                    {"target": "Office365", "targetType": "application"}]}
            })
        );
    }
}
