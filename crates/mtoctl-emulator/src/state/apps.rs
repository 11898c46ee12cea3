//! Applications, service principals, app role assignments and sync jobs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An application object.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    /// Object id.
    pub id: String,
    /// Client id.
    pub app_id: String,
    /// Display name.
    pub display_name: String,
    /// Gallery template id.
    pub application_template_id: Option<String>,
    /// App roles.
    pub app_roles: Vec<Value>,
    /// Creation time.
    pub created_ms: i64,
    /// Readable from (replication lag).
    pub visible_ms: i64,
    /// The client id of the app that created it (`instantiate`): its owner, which
    /// `Application.ReadWrite.OwnedBy` lets manage it.
    #[serde(default)]
    pub owner_app_id: Option<String>,
}

/// A service principal with its synchronization data and assignments.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePrincipal {
    /// Object id.
    pub id: String,
    /// Client id.
    pub app_id: String,
    /// Display name.
    pub display_name: String,
    /// Gallery template id.
    pub application_template_id: Option<String>,
    /// App roles (Graph JSON).
    pub app_roles: Vec<Value>,
    /// Creation time.
    pub created_ms: i64,
    /// Readable from (replication lag).
    pub visible_ms: i64,
    /// Synchronization jobs.
    pub jobs: Vec<Job>,
    /// Synchronization secrets (key → value).
    pub secrets: BTreeMap<String, String>,
    /// `appRoleAssignedTo`.
    pub assignments: Vec<Assignment>,
    /// Recent provisionOnDemand call times (rate limit).
    pub on_demand_calls: Vec<i64>,
    /// The client id of the app that created it (`instantiate`): its owner, which
    /// `Application.ReadWrite.OwnedBy` lets manage it and its synchronization.
    #[serde(default)]
    pub owner_app_id: Option<String>,
}

/// An app role assignment.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assignment {
    /// Opaque id.
    pub id: String,
    /// App role id.
    pub app_role_id: String,
    /// Principal id.
    pub principal_id: String,
    /// `User` or `Group`.
    pub principal_type: String,
    /// Principal display name.
    pub principal_display_name: String,
    /// Resource (SP) id.
    pub resource_id: String,
    /// Resource display name.
    pub resource_display_name: String,
    /// Creation time.
    pub created_ms: i64,
    /// Readable from (replication lag).
    pub visible_ms: i64,
}

/// A synchronization job and its engine state.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    /// Opaque id.
    pub id: String,
    /// `Azure2Azure`.
    pub template_id: String,
    /// `Active`, `Disabled` or `Paused`.
    pub schedule_state: String,
    /// Status code.
    pub status_code: String,
    /// Quarantine details.
    pub quarantine: Option<Value>,
    /// Last execution.
    pub last_execution: Option<Value>,
    /// Last successful execution.
    pub last_successful_execution: Option<Value>,
    /// Last successful execution with exports.
    pub last_successful_execution_with_exports: Option<Value>,
    /// Successive failures.
    pub count_successive_complete_failures: i64,
    /// First steady state.
    pub steady_first_ms: Option<i64>,
    /// Last steady state.
    pub steady_last_ms: Option<i64>,
    /// The schema (Graph JSON).
    pub schema: Value,
    /// Source user id → target user id of users this job provisioned.
    pub provisioned: BTreeMap<String, String>,
    /// Source group id → target group id of groups this job provisioned.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub provisioned_groups: BTreeMap<String, String>,
    /// Next cycle due (only while active).
    pub next_cycle_ms: Option<i64>,
    /// Cycles run.
    pub cycles: u64,
    /// Live users provisioned by this job (for `synchronizedEntryCountByType`).
    pub synchronized_users: i64,
    /// Live groups provisioned by this job (for `synchronizedEntryCountByType`).
    #[serde(default)]
    pub synchronized_groups: i64,
    /// Where the last completed cycle left off; `None` until the first one, and again after a
    /// restart or a schema change, so that the next cycle is a full one.
    #[serde(default)]
    pub watermark: Option<Watermark>,
}

/// What an incremental cycle has already seen: it processes only users (or their group, or
/// their assignment) changed since.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Watermark {
    /// The source tenant's change sequence number when the cycle ran.
    pub seq: u64,
    /// The cycle's virtual time.
    pub at_ms: i64,
}
