//! Cross-tenant synchronization: service principals of the template, jobs, schemas, assignments.

use mtoctl_model::ids::Guid;
use mtoctl_model::observed::{
    AssignmentObservation, AttributeMappingObservation, FilterClauseObservation,
    FilterGroupObservation, SyncJobObservation, UserTypeMappingObservation,
};
use serde::Deserialize;
use serde_json::Value;

/// The application template of cross-tenant synchronization configurations.
pub const CROSS_TENANT_SYNC_TEMPLATE_ID: &str = "518e5f48-1fc8-4c48-9387-9fdf28b0dfe7";

/// Lists every configuration in a tenant in one call.
pub fn service_principals_path() -> String {
    format!(
        "/servicePrincipals?$filter={}&$select=id,appId,displayName,appRoles,applicationTemplateId&$top=999",
        super::encode_query_value(&format!(
            "applicationTemplateId eq '{CROSS_TENANT_SYNC_TEMPLATE_ID}'"
        ))
    )
}

/// The jobs of a configuration.
pub fn jobs_path(sp: &str) -> String {
    format!("/servicePrincipals/{sp}/synchronization/jobs")
}

/// A job's schema.
pub fn schema_path(sp: &str, job: &str) -> String {
    format!("/servicePrincipals/{sp}/synchronization/jobs/{job}/schema")
}

/// The assignments of a configuration, largest page.
pub fn assignments_path(sp: &str) -> String {
    format!(
        "/servicePrincipals/{sp}/appRoleAssignedTo?$select=id,principalId,principalType,principalDisplayName,appRoleId&$top=999"
    )
}

/// A service principal as listed.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePrincipal {
    /// Object id.
    pub id: String,
    /// Application id.
    pub app_id: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// App roles.
    #[serde(default)]
    pub app_roles: Vec<AppRole>,
}

/// `appRole`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppRole {
    /// Role id.
    pub id: String,
    /// `User`, `Application`.
    #[serde(default)]
    pub allowed_member_types: Vec<String>,
    /// Enabled?
    pub is_enabled: Option<bool>,
}

impl ServicePrincipal {
    /// The role assignments of users and groups use.
    pub fn user_role_id(&self) -> Option<String> {
        self.app_roles
            .iter()
            .find(|r| {
                r.allowed_member_types.iter().any(|t| t == "User") && r.is_enabled != Some(false)
            })
            .map(|r| r.id.clone())
    }
}

/// `synchronizationJob`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    /// Job id.
    pub id: String,
    /// Template (`Azure2Azure`).
    pub template_id: Option<String>,
    /// Schedule.
    pub schedule: Option<Schedule>,
    /// Status.
    pub status: Option<JobStatus>,
}

/// `synchronizationSchedule`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Schedule {
    /// `Active`, `Disabled`, `Paused` (kept as text: the observation carries it verbatim).
    pub state: Option<String>,
}

/// `synchronizationScheduleState` (§6.5): whether a job runs on its schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum ScheduleState {
    /// Running on its schedule (started).
    Active,
    /// Never started: Graph creates jobs disabled.
    Disabled,
    /// Paused by an administrator or by mtoctl, its progress kept.
    Paused,
}

/// `synchronizationStatus`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobStatus {
    /// Status code.
    pub code: Option<String>,
    /// Quarantine.
    pub quarantine: Option<Quarantine>,
    /// Complete failures in a row.
    pub count_successive_complete_failures: Option<i64>,
    /// The last cycle.
    pub last_execution: Option<Execution>,
    /// The last successful cycle.
    pub last_successful_execution: Option<Execution>,
    /// Synchronized objects per type (`{key: "User", value: 7}`).
    pub synchronized_entry_count_by_type: Option<Vec<KeyValue>>,
}

/// `synchronizationQuarantine`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Quarantine {
    /// Why.
    pub reason: Option<String>,
    /// The error behind it.
    pub error: Option<ExecutionError>,
}

/// `synchronizationTaskExecution`, the parts mtoctl reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    /// Users in scope (`countEntitled`).
    pub count_entitled: Option<i64>,
    /// Its error, if it failed.
    pub error: Option<ExecutionError>,
    /// `Succeeded`, `Failed` or `EntryLevelErrors`.
    pub state: Option<String>,
    /// When it ended.
    pub time_ended: Option<String>,
}

impl Execution {
    /// Whether this is the placeholder Graph shows before a job's first cycle: no time (year 1)
    /// and, when it says `Failed`, the error code `None`.
    pub fn is_placeholder(&self) -> bool {
        let never = |t: &Option<String>| t.as_deref().is_none_or(|t| t.starts_with("0001-01-01"));
        never(&self.time_ended)
            && self
                .error
                .as_ref()
                .and_then(|e| e.code.as_deref())
                .is_none_or(|c| c.eq_ignore_ascii_case("None"))
    }
}

/// `synchronizationError`.
#[derive(Debug, Deserialize)]
pub struct ExecutionError {
    /// Code.
    pub code: Option<String>,
    /// Message.
    pub message: Option<String>,
}

/// `keyValuePair` with a number (or, leniently, a numeric string) as value.
#[derive(Debug, Deserialize)]
pub struct KeyValue {
    /// Key.
    pub key: Option<String>,
    /// Value.
    pub value: Option<Value>,
}

/// The parts of `synchronizationSchema` mtoctl reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Schema {
    /// Rules.
    #[serde(default)]
    pub synchronization_rules: Vec<Rule>,
    /// The source and target directories, with their objects' attributes.
    #[serde(default)]
    pub directories: Vec<Directory>,
}

/// `directoryDefinition`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Directory {
    /// Name (`Azure Active Directory`, `Azure Active Directory (target tenant)`).
    pub name: Option<String>,
    /// Objects.
    #[serde(default)]
    pub objects: Vec<DirectoryObject>,
}

/// `objectDefinition`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryObject {
    /// `User`, `Group`, …
    pub name: Option<String>,
    /// Attributes.
    #[serde(default)]
    pub attributes: Vec<AttributeDefinition>,
}

/// `attributeDefinition`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributeDefinition {
    /// Name.
    pub name: Option<String>,
}

/// `synchronizationRule`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// Object mappings.
    #[serde(default)]
    pub object_mappings: Vec<ObjectMapping>,
    /// The directory users come from.
    pub source_directory_name: Option<String>,
    /// The directory users go to.
    pub target_directory_name: Option<String>,
}

/// `objectMapping`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMapping {
    /// Enabled?
    pub enabled: Option<bool>,
    /// `Add, Update, Delete`.
    pub flow_types: Option<String>,
    /// `User`, `Group`.
    pub source_object_name: Option<String>,
    /// Scoping filter.
    pub scope: Option<Filter>,
    /// Attribute mappings.
    #[serde(default)]
    pub attribute_mappings: Vec<AttributeMapping>,
}

/// `filter`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    /// OR-ed groups.
    #[serde(default)]
    pub groups: Vec<FilterGroup>,
}

/// `filterGroup`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterGroup {
    /// Name.
    pub name: Option<String>,
    /// AND-ed clauses.
    #[serde(default)]
    pub clauses: Vec<FilterClause>,
}

/// `filterClause`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterClause {
    /// Attribute.
    pub source_operand_name: Option<String>,
    /// Operator.
    pub operator_name: Option<String>,
    /// Values.
    pub target_operand: Option<FilterOperand>,
}

/// `filterOperand`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterOperand {
    /// Values.
    #[serde(default)]
    pub values: Vec<String>,
}

/// `attributeMapping`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributeMapping {
    /// Target attribute.
    pub target_attribute_name: Option<String>,
    /// Source.
    pub source: Option<AttributeSource>,
    /// `Always`, `ObjectAddOnly`, …
    pub flow_type: Option<String>,
    /// `matchingPriority`.
    pub matching_priority: Option<i64>,
}

/// `attributeMappingSource`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributeSource {
    /// `Attribute`, `Constant`, `Function`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Name (the constant's value for constants).
    pub name: Option<String>,
    /// The expression (`[department]`, `"Contoso"`, `Join(…)`).
    pub expression: Option<String>,
}

/// `appRoleAssignment`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assignment {
    /// Opaque id.
    pub id: String,
    /// Principal.
    pub principal_id: Option<String>,
    /// Principal type.
    pub principal_type: Option<String>,
    /// Principal name.
    pub principal_display_name: Option<String>,
    /// Role.
    pub app_role_id: Option<String>,
}

impl Job {
    /// The domain form, with what the schema says (when it was read).
    pub fn observe(self, schema: Option<Schema>) -> SyncJobObservation {
        let user_mapping = schema.as_ref().and_then(Schema::user_mapping);
        let (source_attributes, target_attributes) = schema
            .as_ref()
            .map(Schema::user_attributes)
            .unwrap_or_default();
        let mappings = user_mapping
            .map(|m| {
                m.attribute_mappings
                    .iter()
                    .filter_map(observe_mapping)
                    .collect()
            })
            .unwrap_or_default();
        SyncJobObservation {
            id: self.id,
            template_id: self.template_id,
            schedule_state: self.schedule.and_then(|s| s.state),
            status_code: self.status.as_ref().and_then(|s| s.code.clone()),
            quarantine_reason: self
                .status
                .and_then(|s| s.quarantine)
                .and_then(|q| q.reason),
            user_type: user_mapping.and_then(|m| {
                let mapping = m
                    .attribute_mappings
                    .iter()
                    .find(|a| a.target_attribute_name.as_deref() == Some("userType"))?;
                let constant = mapping
                    .source
                    .as_ref()
                    .filter(|s| s.kind.as_deref() == Some("Constant"))
                    .and_then(|s| s.name.clone());
                Some(UserTypeMappingObservation {
                    value: constant,
                    flow_type: mapping.flow_type.clone(),
                })
            }),
            deletes_on_leaving_scope: user_mapping.map(|m| {
                m.flow_types
                    .as_deref()
                    .unwrap_or("Add, Update, Delete")
                    .split(',')
                    .any(|f| f.trim().eq_ignore_ascii_case("Delete"))
            }),
            scoping_filter: user_mapping
                .and_then(|m| m.scope.as_ref())
                .map(|f| {
                    f.groups
                        .iter()
                        .map(|g| FilterGroupObservation {
                            name: g.name.clone().unwrap_or_default(),
                            clauses: g
                                .clauses
                                .iter()
                                .map(|c| FilterClauseObservation {
                                    attribute: c.source_operand_name.clone().unwrap_or_default(),
                                    operator: c.operator_name.clone().unwrap_or_default(),
                                    values: c
                                        .target_operand
                                        .as_ref()
                                        .map(|o| o.values.clone())
                                        .unwrap_or_default(),
                                })
                                .collect(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            mappings,
            source_attributes,
            target_attributes,
            groups_provisioned: schema
                .as_ref()
                .and_then(Schema::group_mapping)
                .map(|m| m.enabled.unwrap_or(false)),
            template_mappings: Vec::new(),
        }
    }
}

/// `synchronizationTemplate`, as listed by `GET …/synchronization/templates`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Template {
    /// `Azure2Azure`.
    pub factory_tag: Option<String>,
    /// Its id.
    pub id: Option<String>,
    /// The factory schema.
    pub schema: Option<Schema>,
}

impl Template {
    /// The user mappings of the template's schema.
    pub fn user_mappings(&self) -> Vec<AttributeMappingObservation> {
        self.schema
            .as_ref()
            .and_then(Schema::user_mapping)
            .map(|m| {
                m.attribute_mappings
                    .iter()
                    .filter_map(observe_mapping)
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn observe_mapping(a: &AttributeMapping) -> Option<AttributeMappingObservation> {
    let source = a.source.as_ref();
    Some(AttributeMappingObservation {
        target: a.target_attribute_name.clone()?,
        kind: source.and_then(|s| s.kind.clone()),
        name: source.and_then(|s| s.name.clone()),
        expression: source.and_then(|s| s.expression.clone()),
        flow_type: a.flow_type.clone(),
        matching_priority: a.matching_priority,
    })
}

/// The templates of a configuration (§6.6).
pub fn templates_path(sp: &str) -> String {
    format!("/servicePrincipals/{sp}/synchronization/templates")
}

impl Schema {
    /// The object mapping of groups ("Provision Microsoft Entra ID Groups"), whose `enabled`
    /// says whether groups are provisioned as groups.
    fn group_mapping(&self) -> Option<&ObjectMapping> {
        self.synchronization_rules
            .iter()
            .flat_map(|r| r.object_mappings.iter())
            .find(|m| {
                m.source_object_name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case("Group"))
            })
    }

    /// The object mapping of users (the one mtoctl manages).
    fn user_mapping(&self) -> Option<&ObjectMapping> {
        self.user_rule().map(|(_, m)| m)
    }

    /// The rule holding the user mapping, and that mapping.
    fn user_rule(&self) -> Option<(&Rule, &ObjectMapping)> {
        self.synchronization_rules.iter().find_map(|r| {
            r.object_mappings
                .iter()
                .find(|m| {
                    m.source_object_name
                        .as_deref()
                        .is_some_and(|n| n.eq_ignore_ascii_case("User"))
                })
                .map(|m| (r, m))
        })
    }

    /// The attribute names of users in the user rule's source directory and target directory.
    pub fn user_attributes(&self) -> (Vec<String>, Vec<String>) {
        let Some((rule, _)) = self.user_rule() else {
            return (Vec::new(), Vec::new());
        };
        let of = |directory: Option<&str>| -> Vec<String> {
            let Some(directory) = directory else {
                return Vec::new();
            };
            self.directories
                .iter()
                .filter(|d| d.name.as_deref() == Some(directory))
                .flat_map(|d| d.objects.iter())
                .filter(|o| {
                    o.name
                        .as_deref()
                        .is_some_and(|n| n.eq_ignore_ascii_case("User"))
                })
                .flat_map(|o| o.attributes.iter().filter_map(|a| a.name.clone()))
                .collect()
        };
        (
            of(rule.source_directory_name.as_deref()),
            of(rule.target_directory_name.as_deref()),
        )
    }
}

impl Assignment {
    /// The domain form; `None` without a principal GUID.
    pub fn observe(self) -> Option<AssignmentObservation> {
        Some(AssignmentObservation {
            id: self.id,
            principal_id: Guid::parse_owned(self.principal_id?)?,
            principal_type: self.principal_type,
            principal_display_name: self.principal_display_name,
            app_role_id: self.app_role_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_user_mapping_is_read() {
        let schema: Schema = serde_json::from_value(serde_json::json!({
            "id": "job", "version": "v1.2",
            "synchronizationRules": [{
                "name": "USER_INBOUND_USER",
                "objectMappings": [
                    {"sourceObjectName": "Group", "enabled": false, "attributeMappings": []},
                    {"sourceObjectName": "User", "enabled": true, "flowTypes": "Add, Update",
                     "scope": {"groups": [{"name": "Sales", "clauses": [
                        {"sourceOperandName": "department", "operatorName": "EQUALS", "targetOperand": {"values": ["Sales"]}}]}]},
                     "attributeMappings": [
                        {"targetAttributeName": "userType", "flowType": "Always",
                         "source": {"type": "Constant", "name": "Member", "expression": "\"Member\"", "parameters": []}}]}
                ]
            }]
        }))
        .expect("decodes");
        let job: Job = serde_json::from_value(serde_json::json!({
            "id": "Azure2Azure.abc", "templateId": "Azure2Azure",
            "schedule": {"state": "Active", "interval": "PT40M"},
            "status": {"code": "Quarantine", "quarantine": {"reason": "EncounteredQuarantineException"}}
        }))
        .expect("decodes");
        let o = job.observe(Some(schema));
        assert_eq!(o.schedule_state.as_deref(), Some("Active"));
        assert_eq!(
            o.quarantine_reason.as_deref(),
            Some("EncounteredQuarantineException")
        );
        let user_type = o.user_type.expect("mapping");
        assert_eq!(
            (user_type.value.as_deref(), user_type.flow_type.as_deref()),
            (Some("Member"), Some("Always"))
        );
        assert_eq!(o.deletes_on_leaving_scope, Some(false));
        assert_eq!(o.scoping_filter[0].clauses[0].operator, "EQUALS");
    }
}
