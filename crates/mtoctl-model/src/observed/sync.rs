//! Cross-tenant synchronization configurations as read: the service principal, its jobs with
//! the parts of their schemas mtoctl manages, and its app role assignments.

use serde::{Deserialize, Serialize};

use crate::ids::Guid;

/// One cross-tenant synchronization configuration in a source tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncConfigurationObservation {
    /// Service principal object id.
    pub service_principal_id: String,
    /// Application (client) id of the configuration's app.
    pub app_id: Option<String>,
    /// Display name (the configuration's identity: `MTO_Sync_<target>` by default).
    pub display_name: String,
    /// The id of the app role assignments use (the role allowing `User`).
    pub user_app_role_id: Option<String>,
    /// Jobs and assignments, read for the configurations the spec declares; `None` for others
    /// (reported as unmanaged, never acted on unless pruned).
    pub details: Option<SyncConfigurationDetails>,
}

/// The parts of a sync configuration that take further reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncConfigurationDetails {
    /// Synchronization jobs (one `Azure2Azure` job is expected).
    pub jobs: Vec<SyncJobObservation>,
    /// App role assignments (users and groups in scope), sorted by principal id.
    pub assignments: Vec<AssignmentObservation>,
}

/// One synchronization job with the parts of its schema mtoctl manages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncJobObservation {
    /// Job id.
    pub id: String,
    /// Template id (`Azure2Azure`).
    pub template_id: Option<String>,
    /// `schedule.state`: `Active`, `Disabled`, `Paused`.
    pub schedule_state: Option<String>,
    /// `status.code`: `NotConfigured`, `NotRun`, `Active`, `Paused`, `Quarantine`.
    pub status_code: Option<String>,
    /// Quarantine reason, when quarantined.
    pub quarantine_reason: Option<String>,
    /// The user mapping's `userType` constant and flow type, when the schema was read.
    pub user_type: Option<UserTypeMappingObservation>,
    /// Whether the user object mapping includes the `Delete` flow (leaving scope soft-deletes).
    pub deletes_on_leaving_scope: Option<bool>,
    /// The user mapping's scoping filter groups.
    pub scoping_filter: Vec<FilterGroupObservation>,
    /// The user mapping's attribute mappings, when the schema was read.
    #[serde(default)]
    pub mappings: Vec<AttributeMappingObservation>,
    /// The attribute names of users in the schema's source directory (empty when not read).
    #[serde(default)]
    pub source_attributes: Vec<String>,
    /// The attribute names of users in the schema's target directory (empty when not read).
    #[serde(default)]
    pub target_attributes: Vec<String>,
    /// Whether the schema's group object mapping is enabled (groups provisioned as groups);
    /// `None` when the schema was not read or has no group mapping.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups_provisioned: Option<bool>,
    /// The user mappings of the job's template (the factory defaults), read only by `export`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub template_mappings: Vec<AttributeMappingObservation>,
}

/// One attribute mapping of the user mapping, as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeMappingObservation {
    /// `targetAttributeName`.
    pub target: String,
    /// `source.type`: `Attribute`, `Constant` or `Function`.
    pub kind: Option<String>,
    /// `source.name`: the attribute, the constant's value, or the function.
    pub name: Option<String>,
    /// `source.expression`.
    pub expression: Option<String>,
    /// `flowType`: `Always`, `ObjectAddOnly`, …
    pub flow_type: Option<String>,
    /// `matchingPriority`.
    pub matching_priority: Option<i64>,
}

/// The `userType` attribute mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserTypeMappingObservation {
    /// The constant (`Member` or `Guest`), if the mapping is a constant.
    pub value: Option<String>,
    /// `flowType`: `Always` or `ObjectAddOnly`, …
    pub flow_type: Option<String>,
}

/// A scoping filter group as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterGroupObservation {
    /// Group name.
    pub name: String,
    /// Clauses: attribute, wire operator name, values.
    pub clauses: Vec<FilterClauseObservation>,
}

/// A scoping clause as read (operator in Graph's spelling).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterClauseObservation {
    /// `sourceOperandName`.
    pub attribute: String,
    /// `operatorName`.
    pub operator: String,
    /// `targetOperand.values`.
    pub values: Vec<String>,
}

/// One app role assignment on a configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentObservation {
    /// Assignment id (opaque).
    pub id: String,
    /// The assigned user or group.
    pub principal_id: Guid,
    /// `User`, `Group` or `ServicePrincipal`.
    pub principal_type: Option<String>,
    /// Display name of the principal.
    pub principal_display_name: Option<String>,
    /// The app role.
    pub app_role_id: Option<String>,
}
