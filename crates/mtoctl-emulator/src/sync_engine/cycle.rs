//! One synchronization cycle of a job: the policy check (quarantine when it fails), who is in
//! scope and who changed, provisioning and deprovisioning, the log, and the job's status.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::clock::iso;
use crate::provisioning_log::{
    Action, Cycle, Report, Status, Step, StepKind, Subject, TARGET_SYSTEM, details,
};
use crate::schema;
use crate::state::{Job, State, User, Watermark};

use super::groups::{UserPass, sync_groups};
use super::report::{Import, provisioned_report, skipped, subject};
use super::scope::{Population, ScopeCheck};
use super::{Outcome, check_policies, provision_user, put_job, take_job, target_of};

/// Put a job into quarantine after a failed cycle.
fn quarantine(job: &mut Job, code: &str, message: &str, at: i64, next: i64, activity: String) {
    job.count_successive_complete_failures += 1;
    let error = json!({"code": code, "message": message, "tenantActionable": true});
    let began = job
        .quarantine
        .as_ref()
        .and_then(|q| q.get("seriesBegan").cloned())
        .unwrap_or_else(|| json!(iso(at)));
    job.status_code = "Quarantine".into();
    job.quarantine = Some(json!({
        "currentBegan": iso(at),
        "nextAttempt": iso(next),
        "reason": "EncounteredQuarantineException",
        "seriesBegan": began,
        "seriesCount": job.count_successive_complete_failures,
        "error": error,
    }));
    job.last_execution = Some(execution(activity, at, "Failed", Some(error), [0; 4]));
}

fn execution(activity: String, at: i64, state: &str, error: Option<Value>, c: [i64; 4]) -> Value {
    let [entitled, imported, exported, escrowed] = c;
    json!({
        "activityIdentifier": activity,
        "countEntitled": entitled,
        "countEntitledForProvisioning": entitled,
        "countEscrowed": escrowed,
        "countEscrowedRaw": escrowed,
        "countExported": exported,
        "countExports": exported,
        "countImported": imported,
        "countImportedDeltas": imported,
        "countImportedReferenceDeltas": 0,
        "error": error,
        "state": state,
        "timeBegan": iso(at),
        "timeEnded": iso(at),
    })
}

/// Run one cycle of `job` at virtual time `at`; the next is due `interval_ms` later.
pub fn run_cycle(
    state: &mut State,
    tenant: &str,
    sp: &str,
    job_id: &str,
    at: i64,
    interval_ms: i64,
) {
    let Some(mut job) = take_job(state, tenant, sp, job_id) else {
        return;
    };
    job.next_cycle_ms = Some(at + interval_ms.max(1));
    let activity = state.rng.guid();
    let target = target_of(state, tenant, sp);
    let check = match &target {
        None => Err((
            "CredentialsMissing",
            "The CompanyId of the target tenant is not configured (PUT synchronization/secrets)."
                .to_owned(),
        )),
        Some(t) => check_policies(state, tenant, t),
    };
    let (target, ()) = match (target, check) {
        (Some(t), Ok(())) => (t, ()),
        (_, Err((code, msg))) => {
            quarantine(&mut job, code, &msg, at, at + interval_ms, activity);
            put_job(state, tenant, sp, job);
            return;
        }
        (None, Ok(())) => {
            put_job(state, tenant, sp, job);
            return;
        }
    };
    let wm = job.watermark;
    // Who is in scope, who must be processed (new, changed, or every one in a full cycle),
    // and who is skipped by the scoping filter (logged when new or changed).
    let mut scope: BTreeSet<String> = BTreeSet::new();
    let mut process: Vec<(User, Import, ScopeCheck)> = Vec::new();
    let mut skips: Vec<(User, Import, ScopeCheck)> = Vec::new();
    let source_seq;
    {
        let Some(t) = state.tenants.get(tenant) else {
            put_job(state, tenant, sp, job);
            return;
        };
        let Some(s) = t.service_principals.iter().find(|s| s.id == sp) else {
            put_job(state, tenant, sp, job);
            return;
        };
        source_seq = t.change_seq;
        let pop = Population::of(t, s, wm);
        for u in t.internal_users() {
            let Some(way_in_changed) = pop.entry(&u.id) else {
                continue;
            };
            let linked = job.provisioned.contains_key(&u.id);
            let changed = wm.is_none_or(|w| way_in_changed || u.changed_seq > w.seq);
            if linked && !changed {
                // Processed before and unchanged since: still in scope (a schema change would
                // have made this a full cycle).
                scope.insert(u.id.clone());
                continue;
            }
            let json = u.to_json();
            let check = ScopeCheck {
                active: true,
                internal_member: true,
                assigned: pop.assigned.contains_key(&u.id),
                sync_all: pop.sync_all,
                filter_passed: schema::in_scope(&job.schema, &json),
                clauses: schema::scope_evaluation(&job.schema, &json),
            };
            let how = if linked { Import::Update } else { Import::Add };
            if check.filter_passed {
                scope.insert(u.id.clone());
                process.push((u.clone(), how, check));
            } else if changed && !linked {
                skips.push((u.clone(), how, check));
            }
        }
    }
    let (mut exported, mut escrowed) = (0i64, 0i64);
    let cycle_id = activity.clone();
    let log = Cycle {
        source: tenant,
        target: &target,
        sp,
        job: job_id,
        cycle_id: &cycle_id,
        at,
    };
    for (u, how, check) in &process {
        let outcome = provision_user(state, tenant, &target, &mut job, u, at);
        match outcome {
            Outcome::Unchanged { .. } => continue,
            Outcome::Escrowed(_) => escrowed += 1,
            _ => exported += 1,
        }
        let report = provisioned_report(u, *how, check, &outcome);
        crate::provisioning_log::record(state, &log, &report);
    }
    for (u, how, check) in &skips {
        crate::provisioning_log::record(state, &log, &skipped(u, *how, check));
    }
    // Users whose group memberships may change with this cycle.
    let mut touched: BTreeSet<String> = process
        .iter()
        .chain(&skips)
        .map(|(u, _, _)| u.id.clone())
        .collect();
    // Deprovision users that left scope (soft delete in the target). They are no longer
    // linked: back in scope, they are matched again and restored.
    if schema::allows(&job.schema, "Delete") {
        let leaving: Vec<(String, String)> = job
            .provisioned
            .iter()
            .filter(|(src, _)| !scope.contains(*src))
            .map(|(src, tgt)| (src.clone(), tgt.clone()))
            .collect();
        touched.extend(leaving.iter().map(|(src, _)| src.clone()));
        let mut deleted: Vec<(String, String)> = Vec::new();
        if let Some(tt) = state.tenants.get_mut(&target) {
            for (src, tid) in leaving {
                job.provisioned.remove(&src);
                if let Some(i) = tt
                    .users
                    .iter()
                    .position(|u| u.id == tid && u.deleted_ms.is_none())
                {
                    let seq = tt.next_seq();
                    tt.users[i].deleted_ms = Some(at);
                    tt.users[i].changed_seq = seq;
                    exported += 1;
                    deleted.push((src, tid));
                }
            }
        }
        for (src, tid) in &deleted {
            let source_user = state
                .tenants
                .get(tenant)
                .and_then(|t| t.users.iter().find(|u| &u.id == src))
                .cloned();
            let (subject, upn) = match &source_user {
                Some(u) => (subject(u), u.user_principal_name.clone()),
                None => (
                    Subject {
                        id: src.clone(),
                        display_name: String::new(),
                        upn: src.clone(),
                        identity_type: "User",
                    },
                    src.clone(),
                ),
            };
            let report = Report {
                action: Action::Delete,
                status: Status::Success,
                subject,
                target_id: Some(tid.clone()),
                error: None,
                steps: vec![Step {
                    name: "EntryExportDelete",
                    kind: StepKind::Export,
                    status: Status::Success,
                    description: format!("User '{upn}' was deleted in {TARGET_SYSTEM}"),
                    details: details([("ReportableIdentifier", upn.clone())]),
                }],
                modified: Vec::new(),
            };
            crate::provisioning_log::record(state, &log, &report);
        }
    }
    // Then the groups, whose members are the users provisioned above.
    let users = UserPass {
        scope: &scope,
        touched: &touched,
    };
    let groups = sync_groups(state, &mut job, &log, wm, &users);
    exported += groups.exported;
    escrowed += groups.escrowed;
    let live = state
        .tenants
        .get(&target)
        .map(|tt| {
            job.provisioned
                .values()
                .filter(|id| {
                    tt.users
                        .iter()
                        .any(|u| &u.id == *id && u.deleted_ms.is_none())
                })
                .count()
        })
        .unwrap_or(0);
    let result = if escrowed > 0 {
        "EntryLevelErrors"
    } else {
        "Succeeded"
    };
    let exec = execution(
        activity,
        at,
        result,
        None,
        [scope.len() as i64, process.len() as i64, exported, escrowed],
    );
    job.last_execution = Some(exec.clone());
    job.last_successful_execution = Some(exec.clone());
    if exported > 0 {
        job.last_successful_execution_with_exports = Some(exec);
    }
    job.status_code = "Active".into();
    job.quarantine = None;
    job.count_successive_complete_failures = 0;
    job.steady_first_ms.get_or_insert(at);
    job.steady_last_ms = Some(at);
    job.cycles += 1;
    job.synchronized_users = live as i64;
    job.watermark = Some(Watermark {
        seq: source_seq,
        at_ms: at,
    });
    put_job(state, tenant, sp, job);
}
