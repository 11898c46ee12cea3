//! Cross-tenant synchronization cycles on the virtual clock.
//!
//! A started job runs a cycle soon after `start` and then every
//! `timings.syncInterval` (40 virtual minutes). A cycle checks the policy
//! preconditions (target allows inbound sync from the source, auto-redemption
//! consent on both sides), computes the in-scope users of the source
//! (internal members assigned directly or as direct members of an assigned
//! group, or all of them with `SyncAll=true`, filtered by the schema's
//! scoping filter), provisions them into the target as external users with a
//! `<local>_<domain>#EXT#@<target domain>` UPN and the mapped `userType`, and
//! soft-deletes users that left scope. Job status and counters follow.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::clock::iso;
use crate::provisioning_log::{Cycle, Entry};
use crate::schema;
use crate::state::{ExternalLink, Job, State, User};

/// A failed policy precondition: (error code, message).
pub type PolicyFailure = (&'static str, String);

/// Check the preconditions of syncing `source` → `target` (reference §4.6).
pub fn check_policies(state: &State, source: &str, target: &str) -> Result<(), PolicyFailure> {
    let Some(tt) = state.tenants.get(target) else {
        return Err((
            "InvalidCredentials",
            format!("The target tenant '{target}' could not be found."),
        ));
    };
    let Some(ts) = state.tenants.get(source) else {
        return Err((
            "InvalidCredentials",
            format!("The source tenant '{source}' could not be found."),
        ));
    };
    let inbound_sync = tt.partners.contains_key(source)
        && tt.identity_sync.get(source).is_some_and(|s| s.allowed());
    if !inbound_sync {
        return Err((
            "CrossTenantSyncPolicyCheckFailure",
            format!(
                "The target tenant '{target}' does not allow users to be synchronized from tenant '{source}' (cross-tenant sync policy userSyncInbound.isSyncAllowed is not true)."
            ),
        ));
    }
    let inbound_consent = tt
        .partners
        .get(source)
        .is_some_and(|p| p.consent("inboundAllowed"));
    let outbound_consent = ts
        .partners
        .get(target)
        .is_some_and(|p| p.consent("outboundAllowed"));
    if !(inbound_consent && outbound_consent) {
        return Err((
            "AzureDirectoryB2BManagementPolicyCheckFailure",
            "Policy permitting auto-redemption of invitations not configured.".to_owned(),
        ));
    }
    Ok(())
}

/// The earliest due sync cycle at or before `now`: (due, tenant, sp, job).
pub fn next_due_cycle(state: &State, now: i64) -> Option<(i64, String, String, String)> {
    let mut best: Option<(i64, String, String, String)> = None;
    for t in state.tenants.values() {
        for sp in &t.service_principals {
            for j in &sp.jobs {
                if let Some(due) = j
                    .next_cycle_ms
                    .filter(|d| *d <= now && j.schedule_state == "Active")
                    && best.as_ref().is_none_or(|b| due < b.0)
                {
                    best = Some((due, t.id.clone(), sp.id.clone(), j.id.clone()));
                }
            }
        }
    }
    best
}

/// The source tenant's in-scope users for a job (ids).
fn in_scope_users(state: &State, tenant: &str, sp_id: &str, job: &Job) -> BTreeSet<String> {
    let Some(t) = state.tenants.get(tenant) else {
        return BTreeSet::new();
    };
    let Some(sp) = t.service_principals.iter().find(|s| s.id == sp_id) else {
        return BTreeSet::new();
    };
    let sync_all = sp
        .secrets
        .get("SyncAll")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let mut candidates: BTreeSet<String> = BTreeSet::new();
    if sync_all {
        candidates.extend(t.internal_users().map(|u| u.id.clone()));
    } else {
        for a in &sp.assignments {
            match a.principal_type.as_str() {
                "User" => {
                    candidates.insert(a.principal_id.clone());
                }
                "Group" => {
                    if let Some(g) = t.groups.iter().find(|g| g.id == a.principal_id) {
                        candidates.extend(g.members.iter().cloned());
                    }
                }
                _ => {}
            }
        }
    }
    t.internal_users()
        .filter(|u| candidates.contains(&u.id))
        .filter(|u| schema::in_scope(&job.schema, &u.to_json()))
        .map(|u| u.id.clone())
        .collect()
}

/// What provisioning one user did.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Created in the target.
    Created(String),
    /// Updated (or restored) in the target.
    Updated(String),
    /// Already up to date.
    Unchanged(String),
    /// Could not be provisioned (escrow).
    Escrowed(String),
}

/// Provision one source user into `target`, tracked by `job`.
pub fn provision_user(
    state: &mut State,
    source: &str,
    target: &str,
    job: &mut Job,
    user: &User,
    at: i64,
) -> Outcome {
    let (user_type, user_type_flow) = schema::constant_for(&job.schema, "userType")
        .unwrap_or_else(|| ("Member".into(), "ObjectAddOnly".into()));
    let show = schema::constant_for(&job.schema, "showInAddressList")
        .map(|(v, _)| v.eq_ignore_ascii_case("true"));
    let link = ExternalLink {
        source_tenant_id: source.to_owned(),
        source_user_id: user.id.clone(),
    };
    let new_id = state.rng.guid();
    let Some(tt) = state.tenants.get_mut(target) else {
        return Outcome::Escrowed("target tenant not found".into());
    };
    let existing = job
        .provisioned
        .get(&user.id)
        .and_then(|tid| tt.users.iter().position(|u| &u.id == tid))
        .or_else(|| {
            tt.users
                .iter()
                .position(|u| u.external.as_ref() == Some(&link))
        });
    let source_json = user.to_json();
    let as_text = |v: &Value| v.as_str().map(str::to_owned);
    let as_bool = |v: &Value| {
        v.as_bool()
            .or_else(|| v.as_str().map(|s| s.eq_ignore_ascii_case("true")))
    };
    if let Some(i) = existing {
        let may_update = schema::allows(&job.schema, "Update");
        let tu = &mut tt.users[i];
        let before = serde_json::to_value(&*tu).unwrap_or(Value::Null);
        // Only mappings that flow on updates (not "ObjectAddOnly") apply.
        let update = |attr: &str| {
            schema::mapped(&job.schema, attr, &source_json)
                .filter(|(_, flow)| may_update && flow != "ObjectAddOnly")
                .map(|(v, _)| v)
        };
        if let Some(v) = update("displayName").and_then(|v| as_text(&v)) {
            tu.display_name = v;
        }
        if let Some(v) = update("givenName") {
            tu.given_name = as_text(&v);
        }
        if let Some(v) = update("surname") {
            tu.surname = as_text(&v);
        }
        if let Some(v) = update("department") {
            tu.department = as_text(&v);
        }
        if let Some(v) = update("jobTitle") {
            tu.job_title = as_text(&v);
        }
        if let Some(v) = update("accountEnabled").and_then(|v| as_bool(&v)) {
            tu.account_enabled = v;
        }
        if may_update {
            tu.mail = user.mail.clone();
            if user_type_flow == "Always" {
                tu.user_type = user_type;
            }
            if show.is_some() {
                tu.show_in_address_list = show;
            }
        }
        // A user back in scope is restored from the soft-deleted state.
        tu.deleted_ms = None;
        let id = tu.id.clone();
        job.provisioned.insert(user.id.clone(), id.clone());
        let after = serde_json::to_value(&*tu).unwrap_or(Value::Null);
        if before == after {
            return Outcome::Unchanged(id);
        }
        let seq = tt.next_seq();
        tt.users[i].changed_seq = seq;
        return Outcome::Updated(id);
    }
    if !schema::allows(&job.schema, "Add") {
        return Outcome::Escrowed("the user mapping does not allow Add".into());
    }
    let (local, domain) = user
        .user_principal_name
        .split_once('@')
        .unwrap_or((&user.user_principal_name, ""));
    let upn = format!("{local}_{domain}#EXT#@{}", tt.domain);
    if tt
        .users
        .iter()
        .any(|u| u.user_principal_name.eq_ignore_ascii_case(&upn))
    {
        return Outcome::Escrowed(format!(
            "userPrincipalName {upn} is already taken in the target"
        ));
    }
    let seq = tt.next_seq();
    let create = |attr: &str| schema::mapped(&job.schema, attr, &source_json).map(|(v, _)| v);
    let text = |attr: &str| create(attr).and_then(|v| as_text(&v));
    tt.users.push(User {
        changed_seq: seq,
        id: new_id.clone(),
        user_principal_name: upn,
        display_name: text("displayName").unwrap_or_else(|| user.display_name.clone()),
        given_name: text("givenName"),
        surname: text("surname"),
        mail: user.mail.clone(),
        department: text("department"),
        job_title: text("jobTitle"),
        user_type,
        account_enabled: create("accountEnabled")
            .and_then(|v| as_bool(&v))
            .unwrap_or(user.account_enabled),
        show_in_address_list: show.or(Some(true)),
        created_ms: at,
        deleted_ms: None,
        external: Some(link),
    });
    job.provisioned.insert(user.id.clone(), new_id.clone());
    Outcome::Created(new_id)
}

fn take_job(state: &mut State, tenant: &str, sp: &str, job: &str) -> Option<Job> {
    let s = state
        .tenants
        .get_mut(tenant)?
        .service_principals
        .iter_mut()
        .find(|s| s.id == sp)?;
    let i = s.jobs.iter().position(|j| j.id == job)?;
    Some(s.jobs.remove(i))
}

fn put_job(state: &mut State, tenant: &str, sp: &str, job: Job) {
    if let Some(s) = state
        .tenants
        .get_mut(tenant)
        .and_then(|t| t.service_principals.iter_mut().find(|s| s.id == sp))
    {
        s.jobs.push(job);
    }
}

/// The target tenant of a sync configuration (its `CompanyId` secret).
pub fn target_of(state: &State, tenant: &str, sp: &str) -> Option<String> {
    state
        .tenants
        .get(tenant)?
        .service_principals
        .iter()
        .find(|s| s.id == sp)?
        .secrets
        .get("CompanyId")
        .map(|v| v.to_ascii_lowercase())
}

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
    let scope = in_scope_users(state, tenant, sp, &job);
    let users: Vec<User> = state
        .tenants
        .get(tenant)
        .map(|t| {
            t.users
                .iter()
                .filter(|u| scope.contains(&u.id))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
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
    for u in &users {
        let outcome = provision_user(state, tenant, &target, &mut job, u, at);
        let (action, status, target_user, error) = match &outcome {
            Outcome::Created(id) => ("create", "success", Some(id.as_str()), None),
            Outcome::Updated(id) => ("update", "success", Some(id.as_str()), None),
            Outcome::Unchanged(_) => continue,
            Outcome::Escrowed(why) => ("create", "failure", None, Some(why.as_str())),
        };
        match outcome {
            Outcome::Escrowed(_) => escrowed += 1,
            _ => exported += 1,
        }
        let entry = Entry {
            action,
            status,
            source_user: (&u.id, &u.display_name),
            target_user,
            error,
        };
        crate::provisioning_log::record(state, &log, &entry);
    }
    // Deprovision users that left scope (soft delete in the target).
    if schema::allows(&job.schema, "Delete") {
        let leaving: Vec<String> = job
            .provisioned
            .iter()
            .filter(|(src, _)| !scope.contains(*src))
            .map(|(_, tgt)| tgt.clone())
            .collect();
        let mut deleted: Vec<(String, String)> = Vec::new();
        if let Some(tt) = state.tenants.get_mut(&target) {
            for tid in leaving {
                if let Some(i) = tt
                    .users
                    .iter()
                    .position(|u| u.id == tid && u.deleted_ms.is_none())
                {
                    let seq = tt.next_seq();
                    tt.users[i].deleted_ms = Some(at);
                    tt.users[i].changed_seq = seq;
                    exported += 1;
                    deleted.push((tid.clone(), tt.users[i].display_name.clone()));
                }
            }
        }
        for (tid, name) in &deleted {
            let source_user = job
                .provisioned
                .iter()
                .find(|(_, t)| *t == tid)
                .map(|(s, _)| s.clone())
                .unwrap_or_default();
            let entry = Entry {
                action: "delete",
                status: "success",
                source_user: (&source_user, name),
                target_user: Some(tid),
                error: None,
            };
            crate::provisioning_log::record(state, &log, &entry);
        }
    }
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
        [scope.len() as i64, users.len() as i64, exported, escrowed],
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
    put_job(state, tenant, sp, job);
}

/// Provision one user on demand: (step status, description, target id).
pub fn provision_on_demand(
    state: &mut State,
    tenant: &str,
    sp: &str,
    job_id: &str,
    user_id: &str,
    at: i64,
) -> Result<String, String> {
    let target = target_of(state, tenant, sp)
        .ok_or("The CompanyId of the target tenant is not configured.")?;
    check_policies(state, tenant, &target).map_err(|(code, msg)| format!("{code}: {msg}"))?;
    let mut job = take_job(state, tenant, sp, job_id).ok_or("job not found")?;
    let scope = in_scope_users(state, tenant, sp, &job);
    let result = if !scope.contains(user_id) {
        Err("The user is not in scope: it is not an internal member assigned to the configuration (directly or through a group) or does not match the scoping filter.".to_owned())
    } else {
        let user = state
            .tenants
            .get(tenant)
            .and_then(|t| t.users.iter().find(|u| u.id == user_id))
            .cloned();
        match user.map(|u| provision_user(state, tenant, &target, &mut job, &u, at)) {
            Some(Outcome::Created(id) | Outcome::Updated(id) | Outcome::Unchanged(id)) => Ok(id),
            Some(Outcome::Escrowed(why)) => Err(why),
            None => Err("source user not found".into()),
        }
    };
    put_job(state, tenant, sp, job);
    let name = state
        .tenants
        .get(tenant)
        .and_then(|t| t.users.iter().find(|u| u.id == user_id))
        .map(|u| u.display_name.clone())
        .unwrap_or_default();
    let cycle_id = state.rng.guid();
    let log = Cycle {
        source: tenant,
        target: &target,
        sp,
        job: job_id,
        cycle_id: &cycle_id,
        at,
    };
    let entry = match &result {
        Ok(id) => Entry {
            action: "create",
            status: "success",
            source_user: (user_id, &name),
            target_user: Some(id),
            error: None,
        },
        Err(why) => Entry {
            action: "other",
            status: "skipped",
            source_user: (user_id, &name),
            target_user: None,
            error: Some(why),
        },
    };
    crate::provisioning_log::record(state, &log, &entry);
    result
}
