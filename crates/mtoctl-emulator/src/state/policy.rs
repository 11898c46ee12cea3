//! Cross-tenant access policy state: root and default configuration, partner
//! configurations, identity sync policies and the two MTO templates.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// The cross-tenant access policy root plus the default configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrossTenantPolicy {
    /// Root display name.
    pub display_name: String,
    /// Allowed cloud endpoints.
    pub allowed_cloud_endpoints: Vec<String>,
    /// Default configuration settings (Graph property names).
    pub default: Map<String, Value>,
    /// Whether the default is untouched.
    pub is_service_default: bool,
}

impl Default for CrossTenantPolicy {
    fn default() -> Self {
        Self {
            display_name: "CrossTenantAccessPolicy".into(),
            allowed_cloud_endpoints: Vec::new(),
            default: service_default_settings(),
            is_service_default: true,
        }
    }
}

fn b2b(access: &str) -> Value {
    json!({
        "usersAndGroups": {"accessType": access, "targets": [{"target": "AllUsers", "targetType": "user"}]},
        "applications": {"accessType": access, "targets": [{"target": "AllApplications", "targetType": "application"}]}
    })
}

/// The service default values of the default configuration (graph-reference §4.2).
pub fn service_default_settings() -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "inboundTrust".into(),
        json!({"isMfaAccepted": false, "isCompliantDeviceAccepted": false, "isHybridAzureADJoinedDeviceAccepted": false}),
    );
    m.insert("b2bCollaborationOutbound".into(), b2b("allowed"));
    m.insert("b2bCollaborationInbound".into(), b2b("allowed"));
    m.insert("b2bDirectConnectOutbound".into(), b2b("blocked"));
    m.insert("b2bDirectConnectInbound".into(), b2b("blocked"));
    m.insert(
        "automaticUserConsentSettings".into(),
        json!({"inboundAllowed": false, "outboundAllowed": false}),
    );
    m.insert(
        "invitationRedemptionIdentityProviderConfiguration".into(),
        json!({"primaryIdentityProviderPrecedenceOrder": ["azureActiveDirectory", "externalFederation", "socialIdentityProviders"], "fallbackIdentityProvider": "defaultConfiguredIdp"}),
    );
    m.insert("tenantRestrictions".into(), Value::Null);
    m
}

/// A partner configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Partner {
    /// Partner tenant id.
    pub tenant_id: String,
    /// Settings (Graph property names; whole-value replacement on PATCH).
    pub settings: Map<String, Value>,
    /// Active co-member of this tenant's MTO.
    pub is_in_mto: bool,
}

/// Updatable settings of a partner configuration.
pub const PARTNER_SETTINGS: &[&str] = &[
    "isServiceProvider",
    "inboundTrust",
    "automaticUserConsentSettings",
    "b2bCollaborationInbound",
    "b2bCollaborationOutbound",
    "b2bDirectConnectInbound",
    "b2bDirectConnectOutbound",
    "tenantRestrictions",
    "crossCloudMeetingConfiguration",
    // Newer properties seen in real responses (reference §4.4); stored and
    // returned, without behaviour.
    "protectedContentSharing",
    "blockServiceProviderOutboundAccess",
    "invitationRedemptionIdentityProviderConfiguration",
    "m365CollaborationInbound",
    "m365CollaborationOutbound",
    "appServiceConnectInbound",
];

impl Partner {
    /// An unconfigured partner (everything inherits defaults).
    pub fn unconfigured(tenant_id: &str) -> Self {
        let mut settings = Map::new();
        for k in PARTNER_SETTINGS {
            settings.insert((*k).into(), Value::Null);
        }
        settings.insert(
            "automaticUserConsentSettings".into(),
            json!({"inboundAllowed": null, "outboundAllowed": null}),
        );
        settings.insert(
            "crossCloudMeetingConfiguration".into(),
            json!({"inboundAllowed": null, "outboundAllowed": null}),
        );
        settings.insert(
            "protectedContentSharing".into(),
            json!({"inboundAllowed": null, "outboundAllowed": null}),
        );
        Self {
            tenant_id: tenant_id.to_owned(),
            settings,
            is_in_mto: false,
        }
    }

    /// `automaticUserConsentSettings.<member>` as a boolean (null → false, the default).
    pub fn consent(&self, member: &str) -> bool {
        self.settings
            .get("automaticUserConsentSettings")
            .and_then(|v| v.get(member))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
}

/// An identity synchronization policy (lives in the target tenant).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentitySync {
    /// Source tenant id.
    pub tenant_id: String,
    /// Label.
    pub display_name: Option<String>,
    /// `{"isSyncAllowed": bool}`.
    pub user_sync_inbound: Value,
    /// `{"isSyncAllowed": bool}` (`crossTenantGroupSyncInbound`), a property only beta declares;
    /// `None` until a beta PUT or PATCH sets it (assumed default: the portal's "Allow group
    /// synchronization into this tenant" is an opt-in checkbox).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_sync_inbound: Option<Value>,
}

impl IdentitySync {
    /// A policy for the partner `tenant_id` as a create (or a join) makes it: group
    /// synchronization not set.
    pub fn new(tenant_id: &str, display_name: Option<String>, user_sync_inbound: Value) -> Self {
        Self {
            tenant_id: tenant_id.to_owned(),
            display_name,
            user_sync_inbound,
            group_sync_inbound: None,
        }
    }

    /// Whether inbound sync is allowed.
    pub fn allowed(&self) -> bool {
        self.user_sync_inbound
            .get("isSyncAllowed")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// Whether groups may be synchronized in (`groupSyncInbound.isSyncAllowed` is `true`; unset
    /// or null is not).
    pub fn groups_allowed(&self) -> bool {
        self.group_sync_inbound
            .as_ref()
            .and_then(|v| v.get("isSyncAllowed"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }
}

/// The MTO partner configuration template.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartnerTemplate {
    /// Tenant-local id.
    pub id: String,
    /// Canonical `templateApplicationLevel`.
    pub level: String,
    /// Settings (Graph names).
    pub settings: Map<String, Value>,
}

/// Settings a partner template carries.
pub const PARTNER_TEMPLATE_SETTINGS: &[&str] = &[
    "inboundTrust",
    "automaticUserConsentSettings",
    "b2bCollaborationInbound",
    "b2bCollaborationOutbound",
    "b2bDirectConnectInbound",
    "b2bDirectConnectOutbound",
];

impl PartnerTemplate {
    /// The reset (all-null) template.
    pub fn reset(id: String) -> Self {
        let mut settings = Map::new();
        for k in PARTNER_TEMPLATE_SETTINGS {
            settings.insert((*k).into(), Value::Null);
        }
        settings.insert(
            "automaticUserConsentSettings".into(),
            json!({"inboundAllowed": null, "outboundAllowed": null}),
        );
        Self {
            id,
            level: "newPartners,existingPartners".into(),
            settings,
        }
    }
}

/// The MTO identity sync template.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncTemplate {
    /// Tenant-local id.
    pub id: String,
    /// Canonical `templateApplicationLevel`.
    pub level: String,
    /// `{"isSyncAllowed": bool|null}`.
    pub user_sync_inbound: Value,
}

impl SyncTemplate {
    /// The reset template.
    pub fn reset(id: String) -> Self {
        Self {
            id,
            level: "newPartners,existingPartners".into(),
            user_sync_inbound: json!({"isSyncAllowed": null}),
        }
    }
}
