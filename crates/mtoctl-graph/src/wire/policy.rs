//! Cross-tenant access policy: partners, identity sync policies, the two MTO templates.

use mtoctl_model::ids::TenantId;
use mtoctl_model::observed::{
    AccessRuleObservation, B2bPolicyObservation, IdentitySyncObservation,
    IdentitySyncTemplateObservation, InboundTrustObservation, PartnerObservation,
    PartnerSettingsObservation, PartnerTemplateObservation, TemplateApplicationLevel,
};
use serde::Deserialize;

use super::{known, tenant_id};

/// The default configuration: what every partner without settings of its own inherits.
pub const DEFAULT_PATH: &str = "/policies/crossTenantAccessPolicy/default";
/// The partner collection.
pub const PARTNERS_PATH: &str = "/policies/crossTenantAccessPolicy/partners";
/// The partner collection, with every identity sync policy expanded in the same call.
pub const PARTNERS_WITH_SYNC_PATH: &str =
    "/policies/crossTenantAccessPolicy/partners?$expand=identitySynchronization";
/// The partner configuration template.
pub const PARTNER_TEMPLATE_PATH: &str =
    "/policies/crossTenantAccessPolicy/templates/multiTenantOrganizationPartnerConfiguration";
/// The identity sync template.
pub const IDENTITY_SYNC_TEMPLATE_PATH: &str =
    "/policies/crossTenantAccessPolicy/templates/multiTenantOrganizationIdentitySynchronization";

/// Path of one partner configuration: its key is the partner's tenant id (§4.4).
pub fn partner_path(partner: &TenantId) -> String {
    format!("{PARTNERS_PATH}/{partner}")
}

/// Path of the identity sync policy for one partner (§4.5).
pub fn identity_sync_path(partner: &TenantId) -> String {
    format!("{}/identitySynchronization", partner_path(partner))
}

/// `crossTenantAccessPolicyConfigurationPartner` (and the shared settings of the template).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Partner {
    /// Key.
    pub tenant_id: Option<String>,
    /// Server-owned.
    pub is_in_multi_tenant_organization: Option<bool>,
    /// CSP flag.
    pub is_service_provider: Option<bool>,
    /// The settings.
    #[serde(flatten)]
    pub settings: Settings,
    /// Expanded identity sync policy.
    pub identity_synchronization: Option<IdentitySync>,
}

/// The settings shared by partners and the partner template.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// `inboundTrust`.
    pub inbound_trust: Option<InboundTrust>,
    /// `automaticUserConsentSettings`.
    pub automatic_user_consent_settings: Option<InboundOutbound>,
    /// `b2bCollaborationInbound`.
    pub b2b_collaboration_inbound: Option<B2bSetting>,
    /// `b2bCollaborationOutbound`.
    pub b2b_collaboration_outbound: Option<B2bSetting>,
    /// `b2bDirectConnectInbound`.
    pub b2b_direct_connect_inbound: Option<B2bSetting>,
    /// `b2bDirectConnectOutbound`.
    pub b2b_direct_connect_outbound: Option<B2bSetting>,
}

/// `crossTenantAccessPolicyInboundTrust`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundTrust {
    /// MFA.
    pub is_mfa_accepted: Option<bool>,
    /// Compliant device.
    pub is_compliant_device_accepted: Option<bool>,
    /// Hybrid joined device (Graph's spelling: `AzureAD`).
    #[serde(rename = "isHybridAzureADJoinedDeviceAccepted")]
    pub is_hybrid_azure_ad_joined_device_accepted: Option<bool>,
}

/// `inboundOutboundPolicyConfiguration`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundOutbound {
    /// Inbound.
    pub inbound_allowed: Option<bool>,
    /// Outbound.
    pub outbound_allowed: Option<bool>,
}

/// `crossTenantAccessPolicyB2BSetting`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct B2bSetting {
    /// Users and groups.
    pub users_and_groups: Option<TargetConfiguration>,
    /// Applications.
    pub applications: Option<TargetConfiguration>,
}

/// `crossTenantAccessPolicyTargetConfiguration`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetConfiguration {
    /// `allowed` / `blocked`.
    pub access_type: Option<String>,
    /// Targets.
    #[serde(default)]
    pub targets: Vec<Target>,
}

/// `crossTenantAccessPolicyTarget`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    /// Id or keyword.
    pub target: String,
    /// `user`, `group`, `application`.
    pub target_type: Option<String>,
}

/// `crossTenantIdentitySyncPolicyPartner`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentitySync {
    /// Label.
    pub display_name: Option<String>,
    /// `userSyncInbound`.
    pub user_sync_inbound: Option<UserSyncInbound>,
    /// `groupSyncInbound` (beta only): the same shape as `userSyncInbound`.
    pub group_sync_inbound: Option<UserSyncInbound>,
}

/// `crossTenantUserSyncInbound` (and the beta `crossTenantGroupSyncInbound`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserSyncInbound {
    /// Allowed?
    pub is_sync_allowed: Option<bool>,
}

/// `multiTenantOrganizationPartnerConfigurationTemplate`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartnerTemplate {
    /// Flags.
    pub template_application_level: Option<String>,
    /// Settings.
    #[serde(flatten)]
    pub settings: Settings,
}

/// `multiTenantOrganizationIdentitySyncPolicyTemplate`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentitySyncTemplate {
    /// Flags.
    pub template_application_level: Option<String>,
    /// `userSyncInbound`.
    pub user_sync_inbound: Option<UserSyncInbound>,
}

impl Settings {
    /// The domain form.
    pub fn observe(self) -> PartnerSettingsObservation {
        let consent = self.automatic_user_consent_settings;
        PartnerSettingsObservation {
            automatic_user_consent_inbound: consent.as_ref().and_then(|c| c.inbound_allowed),
            automatic_user_consent_outbound: consent.as_ref().and_then(|c| c.outbound_allowed),
            inbound_trust: self.inbound_trust.map(|t| InboundTrustObservation {
                mfa: t.is_mfa_accepted,
                compliant_device: t.is_compliant_device_accepted,
                hybrid_joined_device: t.is_hybrid_azure_ad_joined_device_accepted,
            }),
            b2b_collaboration_inbound: self.b2b_collaboration_inbound.map(B2bSetting::observe),
            b2b_collaboration_outbound: self.b2b_collaboration_outbound.map(B2bSetting::observe),
            b2b_direct_connect_inbound: self.b2b_direct_connect_inbound.map(B2bSetting::observe),
            b2b_direct_connect_outbound: self.b2b_direct_connect_outbound.map(B2bSetting::observe),
        }
    }
}

impl B2bSetting {
    fn observe(self) -> B2bPolicyObservation {
        B2bPolicyObservation {
            users_and_groups: self.users_and_groups.map(TargetConfiguration::observe),
            applications: self.applications.map(TargetConfiguration::observe),
        }
    }
}

impl TargetConfiguration {
    /// Targets in the spec's notation, sorted (Graph promises no order).
    fn observe(self) -> AccessRuleObservation {
        let mut targets: Vec<String> = self
            .targets
            .into_iter()
            .map(|t| match t.target_type.as_deref() {
                Some("user") if !is_keyword(&t.target) => {
                    format!("user:{}", t.target.to_ascii_lowercase())
                }
                Some("group") => format!("group:{}", t.target.to_ascii_lowercase()),
                Some("application") if !is_keyword(&t.target) => t.target.to_ascii_lowercase(),
                _ => t.target,
            })
            .collect();
        targets.sort();
        AccessRuleObservation {
            access: known(self.access_type.as_deref().unwrap_or("unknown")),
            targets,
        }
    }
}

fn is_keyword(target: &str) -> bool {
    matches!(
        target,
        "AllUsers" | "AllApplications" | "Office365" | "AllMicrosoftApps"
    )
}

impl Partner {
    /// The domain form; `None` when the key is not a tenant id.
    pub fn observe(self) -> Option<PartnerObservation> {
        Some(PartnerObservation {
            tenant_id: tenant_id(self.tenant_id.as_deref())?,
            is_in_multi_tenant_organization: self.is_in_multi_tenant_organization,
            is_service_provider: self.is_service_provider,
            settings: self.settings.observe(),
            identity_sync: self.identity_synchronization.map(IdentitySync::observe),
        })
    }
}

impl IdentitySync {
    /// The domain form.
    pub fn observe(self) -> IdentitySyncObservation {
        IdentitySyncObservation {
            display_name: self.display_name,
            is_sync_allowed: self.user_sync_inbound.and_then(|u| u.is_sync_allowed),
            group_sync_inbound: self.group_sync_inbound.and_then(|g| g.is_sync_allowed),
        }
    }
}

impl PartnerTemplate {
    /// The domain form.
    pub fn observe(self) -> PartnerTemplateObservation {
        PartnerTemplateObservation {
            application_level: TemplateApplicationLevel::parse(
                self.template_application_level.as_deref(),
            ),
            settings: self.settings.observe(),
        }
    }
}

impl IdentitySyncTemplate {
    /// The domain form.
    pub fn observe(self) -> IdentitySyncTemplateObservation {
        IdentitySyncTemplateObservation {
            application_level: TemplateApplicationLevel::parse(
                self.template_application_level.as_deref(),
            ),
            is_sync_allowed: self.user_sync_inbound.and_then(|u| u.is_sync_allowed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mtoctl_model::observed::{AccessType, Known};

    #[test]
    fn partner_from_the_reference_shape() {
        let json = serde_json::json!({
            "tenantId": "BBBBBBBB-0000-0000-0000-00000000000B",
            "isServiceProvider": null,
            "isInMultiTenantOrganization": true,
            "inboundTrust": {"isMfaAccepted": true, "isCompliantDeviceAccepted": null, "isHybridAzureADJoinedDeviceAccepted": false},
            "b2bCollaborationInbound": {
                "usersAndGroups": {"accessType": "allowed", "targets": [{"target": "AllUsers", "targetType": "user"}]},
                "applications": {"accessType": "blocked", "targets": [{"target": "Office365", "targetType": "application"}]}
            },
            "automaticUserConsentSettings": {"inboundAllowed": true, "outboundAllowed": null},
            "someFutureProperty": {"x": 1},
            "identitySynchronization": {"tenantId": "x", "displayName": "Fabrikam", "userSyncInbound": {"isSyncAllowed": true}}
        });
        let p: Partner = serde_json::from_value(json).expect("decodes");
        let o = p.observe().expect("valid id");
        assert_eq!(
            o.tenant_id.to_string(),
            "bbbbbbbb-0000-0000-0000-00000000000b"
        );
        assert_eq!(o.settings.automatic_user_consent_inbound, Some(true));
        assert_eq!(o.settings.automatic_user_consent_outbound, None);
        let trust = o.settings.inbound_trust.expect("trust");
        assert_eq!(
            (
                trust.mfa,
                trust.compliant_device,
                trust.hybrid_joined_device
            ),
            (Some(true), None, Some(false))
        );
        let b2b = o.settings.b2b_collaboration_inbound.expect("b2b");
        assert_eq!(
            b2b.users_and_groups.as_ref().map(|r| r.targets.clone()),
            Some(vec!["AllUsers".to_owned()])
        );
        assert_eq!(
            b2b.applications.as_ref().map(|r| r.access.clone()),
            Some(Known::Known(AccessType::Blocked))
        );
        assert_eq!(o.identity_sync.and_then(|i| i.is_sync_allowed), Some(true));
    }
}
