//! Multitenant organizations shared by their members, each tenant's view of its own, and the
//! join request a tenant submits.

use serde::{Deserialize, Serialize};

use crate::ids::ZERO_GUID;

/// A tenant's local view of its MTO.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalMto {
    /// Key into [`State::mtos`](super::State::mtos).
    pub mto_key: String,
    /// This tenant's own object id of the MTO (tenant-local).
    pub object_id: String,
}

/// A multitenant organization shared by its members.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mto {
    /// Internal key.
    pub key: String,
    /// Display name.
    pub display_name: String,
    /// Description.
    pub description: Option<String>,
    /// Creation time.
    pub created_ms: i64,
    /// The creating tenant.
    pub creator: String,
    /// Members (pending, active and being removed).
    pub members: Vec<Member>,
    /// When the creator's GET starts reporting it (creation "can take a few minutes").
    #[serde(default)]
    pub visible_ms: i64,
}

impl Mto {
    /// The member record of `tenant`.
    pub fn member(&self, tenant: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.tenant_id == tenant)
    }

    /// Mutable member record of `tenant`.
    pub fn member_mut(&mut self, tenant: &str) -> Option<&mut Member> {
        self.members.iter_mut().find(|m| m.tenant_id == tenant)
    }

    /// Number of active tenants.
    pub fn active_count(&self) -> usize {
        self.members.iter().filter(|m| m.state == "active").count()
    }

    /// Whether `tenant` is an active owner.
    pub fn is_active_owner(&self, tenant: &str) -> bool {
        self.member(tenant)
            .is_some_and(|m| m.state == "active" && m.role == "owner")
    }
}

/// An MTO member record.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    /// Member tenant id.
    pub tenant_id: String,
    /// Display name (immutable).
    pub display_name: String,
    /// `owner` or `member`.
    pub role: String,
    /// `pending`, `active` or `removed`.
    pub state: String,
    /// Adding tenant.
    pub added_by: String,
    /// When added.
    pub added_ms: i64,
    /// When the join completed.
    pub joined_ms: Option<i64>,
    /// Queued or running change.
    pub transition: Option<MemberTransition>,
}

/// `multiTenantOrganizationMemberTransitionDetails`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MemberTransition {
    /// Desired role.
    pub desired_role: String,
    /// Desired state.
    pub desired_state: String,
    /// Processing status.
    pub status: String,
    /// Details text.
    pub details: Option<String>,
}

/// The join request record of a tenant.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinRequest {
    /// Tenant-local id.
    pub id: String,
    /// Owner the join targets (zero GUID when none).
    pub added_by: String,
    /// Member state.
    pub member_state: Option<String>,
    /// Role after joining.
    pub role: Option<String>,
    /// In-flight processing.
    pub transition: Option<JoinTransition>,
    /// Attempt counter (invalidates stale scheduled events).
    pub attempt: u64,
}

impl JoinRequest {
    /// The never-joined record.
    pub fn new(id: String) -> Self {
        Self {
            id,
            added_by: ZERO_GUID.into(),
            member_state: None,
            role: None,
            transition: None,
            attempt: 0,
        }
    }
}

/// `multiTenantOrganizationJoinRequestTransitionDetails`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct JoinTransition {
    /// Desired member state.
    pub desired_member_state: String,
    /// Processing status.
    pub status: String,
    /// Details text.
    pub details: String,
}
