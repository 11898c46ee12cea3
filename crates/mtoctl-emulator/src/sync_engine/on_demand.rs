//! Provisioning one user on demand (`provisionOnDemand`): processed at once, whether the job
//! runs or not, and written to the provisioning log.

use serde_json::Value;

use crate::provisioning_log::{
    Action, Cycle, Report, Status, Step, StepKind, TARGET_SYSTEM, details,
};
use crate::state::State;

use super::report::{Import, import_step, provisioned_report, skipped, subject};
use super::{ScopeCheck, check_policies, provision_user, put_job, take_job, target_of};

/// Provision the source user `user_id` on demand through `job_id`: processed at once, whether
/// the job runs or not, written to the provisioning log; returns the status
/// `provisionOnDemand` answers, or `None` when the job or the user is unknown.
pub fn provision_on_demand(
    state: &mut State,
    tenant: &str,
    sp: &str,
    job_id: &str,
    user_id: &str,
    at: i64,
) -> Option<Value> {
    let user = state
        .tenants
        .get(tenant)?
        .users
        .iter()
        .find(|u| u.id == user_id && u.deleted_ms.is_none())?
        .clone();
    let mut job = take_job(state, tenant, sp, job_id)?;
    let check = state
        .tenants
        .get(tenant)
        .and_then(|t| Some((t, t.service_principals.iter().find(|s| s.id == sp)?)))
        .map(|(t, s)| ScopeCheck::of(t, s, &job, &user));
    let target = target_of(state, tenant, sp);
    let policy = match &target {
        None => Err((
            "CredentialsMissing",
            "The CompanyId of the target tenant is not configured.".to_owned(),
        )),
        Some(t) => check_policies(state, tenant, t),
    };
    let report = match (policy, check) {
        (Err((code, msg)), check) => {
            let assigned = check.is_some_and(|c| c.assigned);
            let upn = &user.user_principal_name;
            Report {
                action: Action::Other,
                status: Status::Failure,
                subject: subject(&user),
                target_id: None,
                error: Some((code.to_owned(), msg.clone())),
                steps: vec![
                    import_step(&user, Import::OnDemand, assigned),
                    Step {
                        name: "EntryExportAdd",
                        kind: StepKind::Export,
                        status: Status::Failure,
                        description: format!(
                            "Failed to provision User '{upn}' in {TARGET_SYSTEM}: {msg}"
                        ),
                        details: details([("ErrorCode", code.to_owned())]),
                    },
                ],
                modified: Vec::new(),
            }
        }
        (Ok(()), Some(check)) if check.in_scope() => {
            let target = target.clone().unwrap_or_default();
            let outcome = provision_user(state, tenant, &target, &mut job, &user, at);
            provisioned_report(&user, Import::OnDemand, &check, &outcome)
        }
        (Ok(()), Some(check)) => skipped(&user, Import::OnDemand, &check),
        (Ok(()), None) => {
            put_job(state, tenant, sp, job);
            return None;
        }
    };
    put_job(state, tenant, sp, job);
    let cycle_id = state.rng.guid();
    let target = target.unwrap_or_default();
    let log = Cycle {
        source: tenant,
        target: &target,
        sp,
        job: job_id,
        cycle_id: &cycle_id,
        at,
    };
    let change_id = crate::provisioning_log::record(state, &log, &report);
    Some(crate::provisioning_log::on_demand_status(
        &log, &report, &change_id,
    ))
}
