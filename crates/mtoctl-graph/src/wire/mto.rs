//! `multiTenantOrganization`, its members and the join request record.

use mtoctl_model::ids::TenantId;
use mtoctl_model::observed::{
    JoinRequestObservation, JoinTransition, MemberObservation, MemberTransition,
    OrganizationObservation,
};
use serde::Deserialize;

use super::{known, known_opt, tenant_id};

/// Path of the MTO object.
pub const MTO_PATH: &str = "/tenantRelationships/multiTenantOrganization";
/// Path of the member collection.
pub const TENANTS_PATH: &str = "/tenantRelationships/multiTenantOrganization/tenants";
/// Path of the join request record.
pub const JOIN_REQUEST_PATH: &str = "/tenantRelationships/multiTenantOrganization/joinRequest";

/// Path of one member: its key is the tenant id (§2.1).
pub fn member_path(tenant_id: &TenantId) -> String {
    format!("{TENANTS_PATH}/{tenant_id}")
}

/// `multiTenantOrganization`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MultiTenantOrganization {
    /// Tenant-local id.
    pub id: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// `active` or `inactive`.
    pub state: Option<String>,
}

/// `multiTenantOrganizationMember`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    /// Key.
    pub tenant_id: String,
    /// Display name.
    pub display_name: Option<String>,
    /// Role.
    pub role: Option<String>,
    /// State.
    pub state: Option<String>,
    /// Who added it.
    pub added_by_tenant_id: Option<String>,
    /// Asynchronous change in flight.
    pub transition_details: Option<MemberTransitionDetails>,
}

/// `multiTenantOrganizationMemberTransitionDetails`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberTransitionDetails {
    /// Target role.
    pub desired_role: Option<String>,
    /// Target state.
    pub desired_state: Option<String>,
    /// Status.
    pub status: Option<String>,
    /// Free text.
    pub details: Option<String>,
}

/// `multiTenantOrganizationJoinRequestRecord`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinRequest {
    /// The owner asked to join through (zero GUID: none).
    pub added_by_tenant_id: Option<String>,
    /// State.
    pub member_state: Option<String>,
    /// Role.
    pub role: Option<String>,
    /// In flight.
    pub transition_details: Option<JoinTransitionDetails>,
}

/// `multiTenantOrganizationJoinRequestTransitionDetails`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinTransitionDetails {
    /// Target state.
    pub desired_member_state: Option<String>,
    /// Status.
    pub status: Option<String>,
    /// Free text.
    pub details: Option<String>,
}

impl MultiTenantOrganization {
    /// The domain form, with the members read separately.
    pub fn observe(self, members: Vec<MemberObservation>) -> OrganizationObservation {
        OrganizationObservation {
            state: known(self.state.as_deref().unwrap_or("inactive")),
            id: self.id,
            display_name: self.display_name,
            description: self.description,
            members,
        }
    }
}

impl Member {
    /// The domain form; `None` when the tenant id is not a GUID.
    pub fn observe(self) -> Option<MemberObservation> {
        Some(MemberObservation {
            tenant_id: tenant_id(Some(&self.tenant_id))?,
            display_name: self.display_name.unwrap_or_default(),
            role: known(self.role.as_deref().unwrap_or("member")),
            state: known(self.state.as_deref().unwrap_or("pending")),
            added_by: tenant_id(self.added_by_tenant_id.as_deref()),
            transition: self.transition_details.map(|t| MemberTransition {
                desired_role: known_opt(t.desired_role.as_deref()),
                desired_state: known_opt(t.desired_state.as_deref()),
                status: known_opt(t.status.as_deref()),
                details: t.details,
            }),
        })
    }
}

impl JoinRequest {
    /// The domain form.
    pub fn observe(self) -> JoinRequestObservation {
        JoinRequestObservation {
            added_by: tenant_id(self.added_by_tenant_id.as_deref()),
            member_state: known_opt(self.member_state.as_deref()),
            role: known_opt(self.role.as_deref()),
            transition: self.transition_details.map(|t| JoinTransition {
                desired_member_state: known_opt(t.desired_member_state.as_deref()),
                status: known_opt(t.status.as_deref()),
                details: t.details,
            }),
        }
    }
}
