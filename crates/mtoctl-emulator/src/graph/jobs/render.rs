//! A synchronization job as Graph renders it.

use serde_json::{Map, Value, json};

use crate::clock::iso;
use crate::state::Job;

/// `status.lastExecution`: a started job that has not run yet shows a placeholder, not null
/// (the Entra how-to "Configure cross-tenant synchronization using Microsoft Graph" shows it
/// on a `NotRun` job: state `Failed`, error code `None`, zero counts and times).
fn last_execution(j: &Job) -> Value {
    match &j.last_execution {
        Some(e) => json!(e),
        None if j.status_code == "NotRun" => json!({
            "activityIdentifier": null,
            "countEntitled": 0,
            "countEntitledForProvisioning": 0,
            "countEscrowed": 0,
            "countEscrowedRaw": 0,
            "countExported": 0,
            "countExports": 0,
            "countImported": 0,
            "countImportedDeltas": 0,
            "countImportedReferenceDeltas": 0,
            "state": "Failed",
            "timeBegan": "0001-01-01T00:00:00Z",
            "timeEnded": "0001-01-01T00:00:00Z",
            "error": {"code": "None", "message": "", "tenantActionable": false}
        }),
        None => Value::Null,
    }
}

/// A job as Graph renders it; `interval_secs` is the (virtual) sync interval.
pub(super) fn job_json(j: &Job, interval_secs: f64) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(j.id));
    m.insert("templateId".into(), json!(j.template_id));
    m.insert(
        "schedule".into(),
        json!({"expiration": null, "interval": crate::clock::iso_duration(interval_secs.round() as i64), "state": j.schedule_state}),
    );
    m.insert(
        "status".into(),
        json!({
            "code": j.status_code,
            "countSuccessiveCompleteFailures": j.count_successive_complete_failures,
            "escrowsPruned": false,
            "lastExecution": last_execution(j),
            "lastSuccessfulExecution": j.last_successful_execution,
            "lastSuccessfulExecutionWithExports": j.last_successful_execution_with_exports,
            "progress": [],
            "quarantine": j.quarantine,
            "steadyStateFirstAchievedTime": j.steady_first_ms.map(iso).unwrap_or_else(|| "0001-01-01T00:00:00Z".into()),
            "steadyStateLastAchievedTime": j.steady_last_ms.map(iso).unwrap_or_else(|| "0001-01-01T00:00:00Z".into()),
            "synchronizedEntryCountByType": entry_counts(j),
            "troubleshootingUrl": null
        }),
    );
    m.insert(
        "synchronizationJobSettings".into(),
        json!([
            {"name": "AzureIngestionAttributeOptimization", "value": "False"},
            {"name": "LookaheadQueryEnabled", "value": "False"},
            {"name": "QuarantineTooManyDeletesThreshold", "value": "500"}
        ]),
    );
    m
}

/// `synchronizedEntryCountByType` once a cycle ran: users, and groups once group
/// synchronization made one (the `Group` key is assumed by analogy with `User`).
fn entry_counts(j: &Job) -> Value {
    if j.cycles == 0 {
        return json!([]);
    }
    let mut counts = vec![json!({"key": "User", "value": j.synchronized_users})];
    if j.synchronized_groups > 0 || !j.provisioned_groups.is_empty() {
        counts.push(json!({"key": "Group", "value": j.synchronized_groups}));
    }
    Value::Array(counts)
}
