//! What provisioning one user (or group) did, in the provisioning service's vocabulary, and its two
//! renderings: the `provisioningObjectSummary` entry written to the source tenant's log (read
//! through `GET /auditLogs/provisioning`) and the status that `provisionOnDemand` answers.
//!
//! Sources (docs/emulator.md, "Provisioning logs" and "Provision on demand"): the API
//! reference's `provisioningobjectsummary-list` examples and the cross-tenant Graph how-to's
//! log example (`cross-tenant-synchronization-configure-graph`, step 13) for the entry; the
//! reference's `synchronization-synchronizationjob-provisionondemand` examples and the how-to's
//! step 11 for the on-demand status.

use serde_json::{Map, Value, json};

use crate::clock::iso;
use crate::state::State;

/// Entries kept per tenant (oldest dropped first).
pub const MAX_ENTRIES: usize = 5000;

/// The source directory's name in steps, descriptions and `sourceSystem`.
pub const SOURCE_SYSTEM: &str = "Azure Active Directory";
/// The target directory's name (the schema's `targetDirectoryName`).
pub const TARGET_SYSTEM: &str = "Azure Active Directory (target tenant)";

/// A provisioning step's kind (`provisioningStepType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    /// Reading the object from the source.
    Import,
    /// Deciding whether it is in scope.
    Scoping,
    /// Finding its counterpart in the target.
    Matching,
    /// Writing to the target.
    Export,
}

impl StepKind {
    /// The log's spelling (the v1.0 `provisioningStepType` enum).
    fn log(self) -> &'static str {
        match self {
            StepKind::Import => "import",
            StepKind::Scoping => "scoping",
            StepKind::Matching => "matching",
            StepKind::Export => "export",
        }
    }

    /// The on-demand status's spelling (the reference's examples).
    fn on_demand(self) -> &'static str {
        match self {
            StepKind::Import => "Import",
            StepKind::Scoping => "Scoping",
            StepKind::Matching => "Matching",
            StepKind::Export => "Export",
        }
    }
}

/// A step's or an entry's result (`provisioningResult`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Done.
    Success,
    /// Failed.
    Failure,
    /// Nothing done, on purpose.
    Skipped,
}

impl Status {
    /// The log's spelling (the v1.0 `provisioningResult` enum).
    pub fn log(self) -> &'static str {
        match self {
            Status::Success => "success",
            Status::Failure => "failure",
            Status::Skipped => "skipped",
        }
    }

    /// The on-demand status's spelling: `Success` and `Skipped` as the reference's examples
    /// show; `Failed` as graph-reference §6.7 lists (assumed).
    pub fn on_demand(self) -> &'static str {
        match self {
            Status::Success => "Success",
            Status::Failure => "Failed",
            Status::Skipped => "Skipped",
        }
    }
}

/// What was done to the target object (`provisioningAction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Created.
    Create,
    /// Updated (or restored).
    Update,
    /// Soft-deleted.
    Delete,
    /// Nothing (a skip).
    Other,
}

impl Action {
    fn log(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Other => "other",
        }
    }

    fn on_demand(self) -> &'static str {
        match self {
            Action::Create => "Create",
            Action::Update => "Update",
            Action::Delete => "Delete",
            Action::Other => "Other",
        }
    }
}

/// One provisioning step.
#[derive(Debug, Clone)]
pub struct Step {
    /// `EntryImport`, `EntrySynchronizationScoping`, `EntryExportAdd`, ...
    pub name: &'static str,
    /// Its kind.
    pub kind: StepKind,
    /// Its result.
    pub status: Status,
    /// What it did, in words.
    pub description: String,
    /// Its details (string values, as the service writes them).
    pub details: Map<String, Value>,
}

/// The source object of a report: a user, or a group (group synchronization).
#[derive(Debug, Clone)]
pub struct Subject {
    /// Object id in the source tenant.
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// The entry's reportable identifier: a user's UPN, a group's display name.
    pub upn: String,
    /// `User` or `Group` (`identityType` of `sourceIdentity` and `targetIdentity`).
    pub identity_type: &'static str,
}

/// What provisioning one user did.
#[derive(Debug, Clone)]
pub struct Report {
    /// The action.
    pub action: Action,
    /// The result.
    pub status: Status,
    /// The source user.
    pub subject: Subject,
    /// The target user's id, when there is one.
    pub target_id: Option<String>,
    /// A failure's or a skip's (code, reason).
    pub error: Option<(String, String)>,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// Target attributes changed: (name, old value, new value).
    pub modified: Vec<(String, Option<String>, Option<String>)>,
}

/// Where and when a report happened, for its log entry.
pub struct Cycle<'a> {
    /// Source tenant (where the logs live).
    pub source: &'a str,
    /// Target tenant.
    pub target: &'a str,
    /// Service principal id.
    pub sp: &'a str,
    /// Job id.
    pub job: &'a str,
    /// Cycle id.
    pub cycle_id: &'a str,
    /// Virtual time.
    pub at: i64,
}

/// A step's details from string pairs.
pub fn details<'a>(pairs: impl IntoIterator<Item = (&'a str, String)>) -> Map<String, Value> {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::String(v)))
        .collect()
}

/// `True`/`False`, as the service writes booleans in step details.
pub fn flag(b: bool) -> String {
    if b { "True" } else { "False" }.to_owned()
}

/// Append `report` to the source tenant's log as a `provisioningObjectSummary`; returns the
/// entry's `changeId`.
pub fn record(state: &mut State, c: &Cycle<'_>, report: &Report) -> String {
    let id = state.rng.guid();
    let change_id = state.rng.guid();
    let (sp_name, app_id) = state
        .tenants
        .get(c.source)
        .and_then(|t| t.service_principals.iter().find(|s| s.id == c.sp))
        .map(|s| (s.display_name.clone(), s.app_id.clone()))
        .unwrap_or_default();
    let error = report.error.as_ref().map(|(code, reason)| {
        json!({"errorCode": code, "reason": reason, "additionalDetails": null, "errorCategory": "nonServiceFailure", "recommendedAction": null})
    });
    let steps: Vec<Value> = report
        .steps
        .iter()
        .map(|s| {
            json!({
                "name": s.name,
                "provisioningStepType": s.kind.log(),
                "status": s.status.log(),
                "description": s.description,
                "details": json!(s.details),
            })
        })
        .collect();
    let subject = &report.subject;
    // A group's details carry no UPN (the group entries' shape is assumed: no page shows one).
    let source_details = if subject.identity_type == "User" {
        json!({
            "id": subject.id,
            "odatatype": "User",
            "DisplayName": subject.display_name,
            "UserPrincipalName": subject.upn,
        })
    } else {
        json!({
            "id": subject.id,
            "odatatype": subject.identity_type,
            "DisplayName": subject.display_name,
        })
    };
    let entry = json!({
        "id": id,
        "activityDateTime": iso(c.at),
        "tenantId": c.source,
        "jobId": c.job,
        "cycleId": c.cycle_id,
        "changeId": change_id,
        "provisioningAction": report.action.log(),
        "durationInMilliseconds": 4375,
        "servicePrincipal": {"id": c.sp, "displayName": sp_name},
        "sourceSystem": {"id": c.source, "displayName": SOURCE_SYSTEM, "details": {}},
        "targetSystem": {"id": c.target, "displayName": TARGET_SYSTEM, "details": json!({
            "ApplicationId": app_id,
            "ServicePrincipalId": c.sp,
            "ServicePrincipalDisplayName": sp_name,
        })},
        "initiatedBy": {"id": "", "displayName": "Azure AD Provisioning Service", "initiatorType": "system"},
        "sourceIdentity": {
            "id": subject.id,
            "displayName": subject.display_name,
            "identityType": subject.identity_type,
            "details": source_details,
        },
        "targetIdentity": {
            "id": report.target_id.as_deref().unwrap_or(""),
            "displayName": "",
            "identityType": subject.identity_type,
            "details": {},
        },
        "provisioningStatusInfo": {"status": report.status.log(), "errorInformation": error},
        "provisioningSteps": steps,
        "modifiedProperties": modified(report),
    });
    if let Some(t) = state.tenants.get_mut(c.source) {
        t.provisioning_logs.push_back(entry);
        while t.provisioning_logs.len() > MAX_ENTRIES {
            t.provisioning_logs.pop_front();
        }
    }
    change_id
}

fn modified(report: &Report) -> Vec<Value> {
    report
        .modified
        .iter()
        .map(|(name, old, new)| json!({"displayName": name, "oldValue": old, "newValue": new}))
        .collect()
}

/// The status `provisionOnDemand` answers for `report` (one element of the array its `value`
/// holds in the cross-tenant how-to's example), with the log entry's `changeId`.
pub fn on_demand_status(c: &Cycle<'_>, report: &Report, change_id: &str) -> Value {
    let ts = iso(c.at);
    let steps: Vec<Value> = report
        .steps
        .iter()
        .map(|s| {
            json!({
                "name": s.name,
                "type": s.kind.on_demand(),
                "status": s.status.on_demand(),
                "description": s.description,
                "timestamp": ts,
                "details": s.details,
            })
        })
        .collect();
    let (code, reason) = match &report.error {
        Some((code, reason)) => (json!(code), json!(reason)),
        None => (Value::Null, Value::Null),
    };
    let category = match report.status {
        Status::Failure => json!("NonServiceFailure"),
        _ => Value::Null,
    };
    json!({
        "action": report.action.on_demand(),
        "changeId": change_id,
        "startTime": ts,
        "endTime": ts,
        "reportableIdentifier": report.subject.upn,
        "modifiedProperties": modified(report),
        "provisioningSteps": steps,
        "statusInfo": {
            "status": report.status.on_demand(),
            "errorCode": code,
            "reason": reason,
            "additionalDetails": null,
            "errorCategory": category,
            "recommendedAction": null,
        },
        "sourceIdentity": {"id": report.subject.id, "type": report.subject.identity_type, "displayName": report.subject.display_name, "details": null},
        "sourceSystem": {"id": c.source, "name": SOURCE_SYSTEM, "details": null},
        "targetIdentity": {"id": report.target_id, "type": report.subject.identity_type, "displayName": null, "details": null},
        "targetSystem": {"id": c.target, "name": TARGET_SYSTEM, "details": null},
    })
}

/// The log of a tenant, newest first.
pub fn entries(state: &State, tenant: &str) -> Vec<Value> {
    state
        .tenants
        .get(tenant)
        .map(|t| t.provisioning_logs.iter().rev().cloned().collect())
        .unwrap_or_default()
}
