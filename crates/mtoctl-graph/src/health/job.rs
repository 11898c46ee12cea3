//! What `status` needs of a synchronization job: its status code, schedule, quarantine, last
//! cycle and counts, with the placeholder before a first cycle not taken for a failure.

use mtoctl_model::health::{CycleSummary, JobHealth};
use serde_json::Value;

use crate::wire::sync;

/// What `status` needs of a job's `synchronizationStatus`.
pub(crate) fn job_health(job: sync::Job) -> JobHealth {
    let schedule_state = job.schedule.and_then(|s| s.state);
    let Some(status) = job.status else {
        return JobHealth {
            schedule_state,
            ..JobHealth::default()
        };
    };
    let quarantine = status.quarantine.map(|q| {
        let reason = q.reason.unwrap_or_else(|| "unknown reason".into());
        match q.error.and_then(|e| e.message.or(e.code)) {
            Some(message) => format!("{reason}: {message}"),
            None => reason,
        }
    });
    let count = |key: &str| {
        status
            .synchronized_entry_count_by_type
            .iter()
            .flatten()
            .find(|kv| {
                kv.key
                    .as_deref()
                    .is_some_and(|k| k.eq_ignore_ascii_case(key))
            })
            .and_then(|kv| match &kv.value {
                Some(Value::Number(n)) => n.as_i64(),
                Some(Value::String(s)) => s.parse().ok(),
                _ => None,
            })
    };
    let synchronized = count("User");
    let synchronized_groups = count("Group");
    // Before its first cycle a started job shows a placeholder execution (state `Failed`,
    // error code `None`, year 1): no cycle ran, none failed.
    let last_execution = status.last_execution.filter(|e| !e.is_placeholder());
    let in_scope = last_execution.as_ref().and_then(|e| e.count_entitled);
    JobHealth {
        status_code: status.code,
        schedule_state,
        quarantine,
        successive_failures: status.count_successive_complete_failures,
        last_cycle: last_execution.map(|e| CycleSummary {
            state: e.state,
            // The typed job does not carry it; `cycle_began` reads it from the raw answer.
            began: None,
            ended: e.time_ended,
            error_code: e.error.as_ref().and_then(|x| x.code.clone()),
            error_message: e.error.and_then(|x| x.message),
        }),
        last_success: status
            .last_successful_execution
            .filter(|e| !e.is_placeholder())
            .and_then(|e| e.time_ended),
        in_scope,
        synchronized,
        synchronized_groups,
    }
}

/// When the job's last cycle began (`status.lastExecution.timeBegan` of the raw answer), unless
/// it is the placeholder before a first cycle (year 1).
pub(crate) fn cycle_began(job: &Value) -> Option<String> {
    job.pointer("/status/lastExecution/timeBegan")
        .and_then(Value::as_str)
        .filter(|t| !t.starts_with("0001-01-01"))
        .map(str::to_owned)
}
