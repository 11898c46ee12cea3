//! The observed state: what Microsoft Graph says exists, per tenant.
//!
//! Collected by `mtoctl-graph` (which alone knows the wire format) and read by the planner. The
//! types are domain-level: GUIDs are canonical, Graph's nulls are `None` ("inherit the
//! default"), and enum values mtoctl does not know are kept as `Unknown(text)` so the planner
//! can refuse to act on them and say why, instead of the read failing. An `ObservedState` is
//! complete: a read that failed is an error of the collection, never an absent object.
//!
//! Here: the state as a whole, the organization, templates and partner configurations; `sync`
//! holds the sync configurations, `principals` the users and groups the spec names,
//! `fingerprint` the hashes that tell whether an object changed.

mod fingerprint;
mod principals;
mod sync;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{Alias, TenantId};

pub use fingerprint::Fingerprint;
pub use principals::{GroupObservation, PrincipalsObservation, UserObservation};
pub use sync::{
    AssignmentObservation, AttributeMappingObservation, FilterClauseObservation,
    FilterGroupObservation, SyncConfigurationDetails, SyncConfigurationObservation,
    SyncJobObservation, UserTypeMappingObservation,
};

/// Everything read from every tenant of a spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ObservedState {
    /// Per tenant alias.
    pub tenants: BTreeMap<Alias, TenantObservation>,
}

/// What one tenant shows, read with that tenant's own credential.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantObservation {
    /// The tenant read.
    pub tenant_id: TenantId,
    /// The tenant's MTO object and, when it has one, the members it sees.
    pub organization: OrganizationObservation,
    /// The tenant's join request record.
    pub join_request: JoinRequestObservation,
    /// The two MTO policy templates.
    pub templates: TemplatesObservation,
    /// Partner configurations by partner tenant id, with their identity sync policies.
    pub partners: BTreeMap<TenantId, PartnerObservation>,
    /// Cross-tenant synchronization configurations (service principals of the template).
    pub sync_configurations: Vec<SyncConfigurationObservation>,
    /// Users and groups the spec names in scopes of syncs from this tenant, as resolved.
    pub principals: PrincipalsObservation,
}

/// An enum value from Graph, or the text of one mtoctl does not know.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Known<T> {
    /// A value mtoctl understands.
    Known(T),
    /// Anything else (for example `unknownFutureValue`), kept verbatim.
    Unknown(String),
}

impl<T: PartialEq> Known<T> {
    /// Whether this is the known value `value`.
    pub fn is(&self, value: &T) -> bool {
        matches!(self, Known::Known(v) if v == value)
    }
}

/// `multiTenantOrganizationState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MtoState {
    /// The tenant has an MTO.
    Active,
    /// The tenant has none.
    Inactive,
}

/// `multiTenantOrganizationMemberRole`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MemberRole {
    /// Owner.
    Owner,
    /// Member.
    Member,
}

/// `multiTenantOrganizationMemberState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MemberState {
    /// Added, not yet joined.
    Pending,
    /// Joined.
    Active,
    /// Removal in progress.
    Removed,
}

/// `multiTenantOrganizationMemberProcessingStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ProcessingStatus {
    /// Queued.
    NotStarted,
    /// In progress.
    Running,
    /// Done.
    Succeeded,
    /// Failed; `details` says why.
    Failed,
}

/// The MTO object as one tenant sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrganizationObservation {
    /// Active when the tenant has an MTO.
    pub state: Known<MtoState>,
    /// The tenant-local object id (never comparable across tenants).
    pub id: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// The members this tenant sees; empty when it has no MTO.
    pub members: Vec<MemberObservation>,
}

/// One member of the MTO.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberObservation {
    /// The member's tenant id.
    pub tenant_id: TenantId,
    /// Its display name (immutable in Graph).
    pub display_name: String,
    /// Its role.
    pub role: Known<MemberRole>,
    /// Its state.
    pub state: Known<MemberState>,
    /// Who added it.
    pub added_by: Option<TenantId>,
    /// A queued or running asynchronous change, if any.
    pub transition: Option<MemberTransition>,
}

/// `multiTenantOrganizationMemberTransitionDetails`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberTransition {
    /// The role being moved to.
    pub desired_role: Option<Known<MemberRole>>,
    /// The state being moved to.
    pub desired_state: Option<Known<MemberState>>,
    /// How far it got.
    pub status: Option<Known<ProcessingStatus>>,
    /// Free text from Graph (an error, for failures).
    pub details: Option<String>,
}

/// The joining side's record (`.../multiTenantOrganization/joinRequest`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JoinRequestObservation {
    /// The owner tenant this tenant asked to join through; `None` for the all-zero GUID.
    pub added_by: Option<TenantId>,
    /// Membership state once a join was submitted.
    pub member_state: Option<Known<MemberState>>,
    /// Role once joined.
    pub role: Option<Known<MemberRole>>,
    /// The join in progress, if any.
    pub transition: Option<JoinTransition>,
}

/// `multiTenantOrganizationJoinRequestTransitionDetails`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JoinTransition {
    /// The state being moved to.
    pub desired_member_state: Option<Known<MemberState>>,
    /// How far it got.
    pub status: Option<Known<ProcessingStatus>>,
    /// Free text from Graph.
    pub details: Option<String>,
}

/// Both MTO policy templates of one tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplatesObservation {
    /// `multiTenantOrganizationPartnerConfigurationTemplate`.
    pub partner: PartnerTemplateObservation,
    /// `multiTenantOrganizationIdentitySyncPolicyTemplate`.
    pub identity_sync: IdentitySyncTemplateObservation,
}

/// The partner configuration template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartnerTemplateObservation {
    /// `templateApplicationLevel`, normalised (see [`TemplateApplicationLevel`]).
    pub application_level: TemplateApplicationLevel,
    /// The template's settings.
    pub settings: PartnerSettingsObservation,
}

/// The identity sync policy template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentitySyncTemplateObservation {
    /// `templateApplicationLevel`, normalised.
    pub application_level: TemplateApplicationLevel,
    /// `userSyncInbound.isSyncAllowed`.
    pub is_sync_allowed: Option<bool>,
}

/// `templateApplicationLevel` flags: a sorted set of flag names, empty for `none`, `""` or null
/// (Graph accepts all three for "disabled" and what it reads back is unconfirmed).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TemplateApplicationLevel(pub Vec<String>);

impl TemplateApplicationLevel {
    /// Parses Graph's comma-separated form leniently (spaces, order, case of `none`).
    pub fn parse(text: Option<&str>) -> Self {
        let mut flags: Vec<String> = text
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty() && !f.eq_ignore_ascii_case("none"))
            .map(str::to_owned)
            .collect();
        flags.sort();
        flags.dedup();
        Self(flags)
    }

    /// The default level, `newPartners,existingPartners`.
    pub fn default_level() -> Self {
        Self::parse(Some("newPartners,existingPartners"))
    }
}

/// Cross-tenant access settings as read: `None` is Graph's `null` ("inherit the default").
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PartnerSettingsObservation {
    /// `automaticUserConsentSettings.inboundAllowed`.
    pub automatic_user_consent_inbound: Option<bool>,
    /// `automaticUserConsentSettings.outboundAllowed`.
    pub automatic_user_consent_outbound: Option<bool>,
    /// `inboundTrust`; `None` when the whole object is null.
    pub inbound_trust: Option<InboundTrustObservation>,
    /// `b2bCollaborationInbound`.
    pub b2b_collaboration_inbound: Option<B2bPolicyObservation>,
    /// `b2bCollaborationOutbound`.
    pub b2b_collaboration_outbound: Option<B2bPolicyObservation>,
    /// `b2bDirectConnectInbound`.
    pub b2b_direct_connect_inbound: Option<B2bPolicyObservation>,
    /// `b2bDirectConnectOutbound`.
    pub b2b_direct_connect_outbound: Option<B2bPolicyObservation>,
}

/// `crossTenantAccessPolicyInboundTrust`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InboundTrustObservation {
    /// `isMfaAccepted`.
    pub mfa: Option<bool>,
    /// `isCompliantDeviceAccepted`.
    pub compliant_device: Option<bool>,
    /// `isHybridAzureADJoinedDeviceAccepted`.
    pub hybrid_joined_device: Option<bool>,
}

/// `crossTenantAccessPolicyB2BSetting`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct B2bPolicyObservation {
    /// `usersAndGroups`.
    pub users_and_groups: Option<AccessRuleObservation>,
    /// `applications`.
    pub applications: Option<AccessRuleObservation>,
}

/// `crossTenantAccessPolicyTargetConfiguration`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRuleObservation {
    /// `allowed` or `blocked` (kept verbatim otherwise).
    pub access: Known<AccessType>,
    /// Targets in the spec's notation (`AllUsers`, `user:<id>`, `group:<id>`, an app id, a
    /// keyword), sorted: Graph does not promise an order.
    pub targets: Vec<String>,
}

/// `crossTenantAccessPolicyTargetConfigurationAccessType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AccessType {
    /// Allowed.
    Allowed,
    /// Blocked.
    Blocked,
}

/// One partner configuration and its identity sync policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartnerObservation {
    /// The partner's tenant id.
    pub tenant_id: TenantId,
    /// `isInMultiTenantOrganization` (server-owned; informative only).
    pub is_in_multi_tenant_organization: Option<bool>,
    /// `isServiceProvider`.
    pub is_service_provider: Option<bool>,
    /// The settings.
    pub settings: PartnerSettingsObservation,
    /// The identity sync policy for this partner, if one exists.
    pub identity_sync: Option<IdentitySyncObservation>,
}

/// `crossTenantIdentitySyncPolicyPartner`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentitySyncObservation {
    /// `displayName`.
    pub display_name: Option<String>,
    /// `userSyncInbound.isSyncAllowed`.
    pub is_sync_allowed: Option<bool>,
    /// `groupSyncInbound.isSyncAllowed`: read only through the beta API (a spec opted into
    /// group sync), so `None` also when it was not read. Left out of the fingerprint when
    /// `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_sync_inbound: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_levels_are_normalised() {
        let a = TemplateApplicationLevel::parse(Some("existingPartners, newPartners"));
        assert_eq!(a, TemplateApplicationLevel::default_level());
        assert_eq!(
            TemplateApplicationLevel::parse(Some("none")),
            TemplateApplicationLevel::default()
        );
        assert_eq!(
            TemplateApplicationLevel::parse(Some("")),
            TemplateApplicationLevel::default()
        );
        assert_eq!(
            TemplateApplicationLevel::parse(None),
            TemplateApplicationLevel::default()
        );
    }
}
