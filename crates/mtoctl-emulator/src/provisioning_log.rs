//! Provisioning logs (`provisioningObjectSummary` entries) written by sync
//! cycles and provision-on-demand, read through `GET /auditLogs/provisioning`.

use serde_json::{Value, json};

use crate::clock::iso;
use crate::state::State;

/// Entries kept per tenant (oldest dropped first).
pub const MAX_ENTRIES: usize = 5000;

/// What one cycle is doing, for its log entries.
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

/// One provisioning event.
pub struct Entry<'a> {
    /// `create`, `update`, `delete` or `other`.
    pub action: &'a str,
    /// `success`, `failure` or `skipped`.
    pub status: &'a str,
    /// Source user (id, display name).
    pub source_user: (&'a str, &'a str),
    /// Target user id, when known.
    pub target_user: Option<&'a str>,
    /// Failure reason.
    pub error: Option<&'a str>,
}

/// Append an entry to the source tenant's log.
pub fn record(state: &mut State, c: &Cycle<'_>, e: &Entry<'_>) {
    let id = state.rng.guid();
    let change_id = state.rng.guid();
    let sp_name = state
        .tenants
        .get(c.source)
        .and_then(|t| t.service_principals.iter().find(|s| s.id == c.sp))
        .map(|s| s.display_name.clone())
        .unwrap_or_default();
    let error = e.error.map(|m| {
        json!({"errorCode": "EntryLevelError", "reason": m, "additionalDetails": null, "errorCategory": "nonServiceFailure", "recommendedAction": null})
    });
    let entry = json!({
        "id": id,
        "activityDateTime": iso(c.at),
        "changeId": change_id,
        "cycleId": c.cycle_id,
        "durationInMilliseconds": 4375,
        "initiatedBy": {"id": "", "displayName": "Azure AD Provisioning Service", "initiatorType": "system"},
        "jobId": c.job,
        "modifiedProperties": [],
        "provisioningAction": e.action,
        "provisioningStatusInfo": {"status": e.status, "errorInformation": error},
        "provisioningSteps": [],
        "servicePrincipal": {"id": c.sp, "displayName": sp_name},
        "sourceIdentity": {"id": e.source_user.0, "displayName": e.source_user.1, "identityType": "User", "details": {}},
        "sourceSystem": {"id": c.source, "displayName": "Azure Active Directory", "details": {}},
        "targetIdentity": {"id": e.target_user.unwrap_or(""), "displayName": e.source_user.1, "identityType": "User", "details": {}},
        "targetSystem": {"id": c.target, "displayName": "Azure Active Directory (target tenant)", "details": {}},
        "tenantId": c.source,
    });
    if let Some(t) = state.tenants.get_mut(c.source) {
        t.provisioning_logs.push(entry);
        if t.provisioning_logs.len() > MAX_ENTRIES {
            let excess = t.provisioning_logs.len() - MAX_ENTRIES;
            t.provisioning_logs.drain(..excess);
        }
    }
}

/// The log of a tenant, newest first.
pub fn entries(state: &State, tenant: &str) -> Vec<Value> {
    state
        .tenants
        .get(tenant)
        .map(|t| t.provisioning_logs.iter().rev().cloned().collect())
        .unwrap_or_default()
}
