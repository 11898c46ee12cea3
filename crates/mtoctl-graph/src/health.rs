//! `health`: what `mtoctl status` reads after `collect` — each declared sync direction's job
//! status, and a sample of the users it provisioned into the target.
//!
//! Per source tenant, one `$batch`: the job of each of its declared configurations and the
//! first members of the groups its scopes name (to have users to look for). Per target tenant,
//! one `$batch`: the provisioned copies of the sampled users, found by the UPN cross-tenant sync
//! gives them (`alice_contoso.com#EXT#@…`, matched with `startswith`). Any read that fails is an
//! error naming the tenant and the object, as in `collect`.
//!
//! It does not judge health: the planner's `status` module does.

use std::collections::BTreeSet;

use futures_util::future::join_all;
use mtoctl_model::DesiredState;
use mtoctl_model::desired::{GroupRef, SyncSpec, UserRef};
use mtoctl_model::health::{
    CycleSummary, HealthObservation, JobHealth, ProvisionedUser, SyncHealthObservation,
};
use mtoctl_model::observed::ObservedState;
use serde::Deserialize;
use serde_json::Value;

use crate::collect::{CollectError, collection, decode_one};
use crate::error::GraphError;
use crate::transport::{GraphClient, GraphRequest};
use crate::wire::{encode_query_value, sync};

/// Users looked up per sync direction: enough to show that provisioning works, few enough to
/// fit one `$filter` (Graph allows a handful of `or`-ed `startswith` clauses).
pub const SAMPLE_SIZE: usize = 5;

/// Groups whose first members are read for the sample, per direction.
const SAMPLE_GROUPS: usize = 2;

/// A declared direction whose configuration and job exist.
struct Direction<'a> {
    sync: &'a SyncSpec,
    service_principal: String,
    job: String,
    /// Source UPNs known without reading anything more (named users).
    named: Vec<String>,
    /// Groups to read members of (object ids).
    groups: Vec<String>,
}

/// Reads the health of every declared sync direction whose configuration has a job.
pub async fn read(
    client: &GraphClient,
    desired: &DesiredState,
    observed: &ObservedState,
) -> Result<HealthObservation, CollectError> {
    let directions: Vec<Direction> = desired
        .syncs
        .iter()
        .filter_map(|s| direction(s, observed))
        .collect();
    let sources = join_all(
        directions
            .iter()
            .map(|d| read_source(client, d.sync.from.as_str(), d)),
    )
    .await;
    let mut failures = Vec::new();
    let mut jobs = Vec::new();
    for (d, result) in directions.iter().zip(sources) {
        match result {
            Ok((job, sampled)) => jobs.push((d, job, sampled)),
            Err(mut f) => failures.append(&mut f),
        }
    }
    let targets = join_all(
        jobs.iter()
            .map(|(d, _, sampled)| read_copies(client, d.sync.to.as_str(), sampled)),
    )
    .await;
    let mut syncs = Vec::new();
    for ((d, job, sampled), copies) in jobs.into_iter().zip(targets) {
        match copies {
            Ok(provisioned) => syncs.push(SyncHealthObservation {
                from: d.sync.from.clone(),
                to: d.sync.to.clone(),
                job,
                sampled,
                provisioned,
            }),
            Err(e) => failures.push(e),
        }
    }
    if failures.is_empty() {
        Ok(HealthObservation { syncs })
    } else {
        Err(CollectError { failures })
    }
}

fn direction<'a>(sync: &'a SyncSpec, observed: &ObservedState) -> Option<Direction<'a>> {
    let tenant = observed.tenants.get(&sync.from)?;
    let configuration = tenant
        .sync_configurations
        .iter()
        .find(|c| c.display_name.eq_ignore_ascii_case(&sync.name))?;
    let job = configuration.details.as_ref()?.jobs.first()?.id.clone();
    let principals = &tenant.principals;
    let named = sync
        .scope
        .users
        .iter()
        .filter_map(|u| match u {
            UserRef::UserPrincipalName(upn) => Some(upn.clone()),
            UserRef::ObjectId(id) => principals
                .users_by_id
                .get(id)
                .map(|u| u.user_principal_name.clone()),
        })
        .take(SAMPLE_SIZE)
        .collect::<Vec<_>>();
    let groups = if named.len() < SAMPLE_SIZE {
        sync.scope
            .groups
            .iter()
            .filter_map(|g| match g {
                GroupRef::DisplayName(name) => principals
                    .groups_by_name
                    .get(name)
                    .and_then(|found| found.first())
                    .map(|g| g.id.to_string()),
                GroupRef::ObjectId(id) => Some(id.to_string()),
            })
            .take(SAMPLE_GROUPS)
            .collect()
    } else {
        Vec::new()
    };
    Some(Direction {
        sync,
        service_principal: configuration.service_principal_id.clone(),
        job,
        named,
        groups,
    })
}

type Failures = Vec<(String, GraphError)>;

/// The job and the sampled source UPNs of one direction.
async fn read_source(
    client: &GraphClient,
    alias: &str,
    d: &Direction<'_>,
) -> Result<(JobHealth, Vec<String>), Failures> {
    let what = |label: &str| format!("tenant {alias}: {label} of {}", d.sync.name);
    let mut requests = vec![GraphRequest::get(format!(
        "/servicePrincipals/{}/synchronization/jobs/{}",
        d.service_principal, d.job
    ))];
    for group in &d.groups {
        requests.push(GraphRequest::get(format!(
            "/groups/{group}/members?$select=id,userPrincipalName&$top={SAMPLE_SIZE}"
        )));
    }
    let mut answers = client.send_all(alias, &requests).await.into_iter();
    let mut failures = Vec::new();
    let job = answers
        .next()
        .unwrap_or_else(|| Err(GraphError::UnknownTenant(alias.to_owned())));
    let job = match decode_one::<sync::Job>(alias, &requests[0], job) {
        Ok(job) => job_health(job),
        Err(e) => {
            failures.push((what("the synchronization job"), e));
            JobHealth::default()
        }
    };
    let mut sampled = d.named.clone();
    for (answer, request) in answers.zip(&requests[1..]) {
        match decode_one::<Page>(alias, request, answer) {
            Ok(page) => sampled.extend(
                page.value
                    .into_iter()
                    .filter_map(|m| m.user_principal_name)
                    .filter(|upn| upn.contains('@') && !upn.contains("#EXT#")),
            ),
            Err(e) => failures.push((what("the members of a group in the scope"), e)),
        }
    }
    let mut seen = BTreeSet::new();
    sampled.retain(|upn| seen.insert(upn.to_lowercase()));
    sampled.truncate(SAMPLE_SIZE);
    if failures.is_empty() {
        Ok((job, sampled))
    } else {
        Err(failures)
    }
}

/// The target's copies of `sampled`, by the UPN cross-tenant sync gives them.
async fn read_copies(
    client: &GraphClient,
    alias: &str,
    sampled: &[String],
) -> Result<Vec<ProvisionedUser>, (String, GraphError)> {
    if sampled.is_empty() {
        return Ok(Vec::new());
    }
    let prefixes: Vec<(String, &String)> = sampled
        .iter()
        .filter_map(|upn| copy_prefix(upn).map(|p| (p, upn)))
        .collect();
    if prefixes.is_empty() {
        return Ok(Vec::new());
    }
    let filter = prefixes
        .iter()
        .map(|(p, _)| format!("startswith(userPrincipalName,'{}')", p.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(" or ");
    let request = GraphRequest::get(format!(
        "/users?$filter={}&$select=id,userPrincipalName,userType&$top=999",
        encode_query_value(&filter)
    ));
    let what = format!("tenant {alias}: the users provisioned into it");
    let answer = client.send(alias, &request).await;
    let users: Vec<Member> = collection(client, alias, &request, answer)
        .await
        .map_err(|e| (what, e))?;
    let mut found = Vec::new();
    for user in users {
        let Some(upn) = user.user_principal_name else {
            continue;
        };
        let lower = upn.to_lowercase();
        if let Some((_, source)) = prefixes
            .iter()
            .find(|(p, _)| lower.starts_with(&p.to_lowercase()))
        {
            found.push(ProvisionedUser {
                source: (*source).clone(),
                user_principal_name: upn,
                user_type: user.user_type,
            });
        }
    }
    found.sort_by(|a, b| a.source.cmp(&b.source));
    Ok(found)
}

/// The start of the UPN cross-tenant sync gives a copy of `upn`: `alice@contoso.com` becomes
/// `alice_contoso.com#EXT#@<target domain>`.
pub fn copy_prefix(upn: &str) -> Option<String> {
    let (local, domain) = upn.rsplit_once('@')?;
    (!local.is_empty() && !domain.is_empty()).then(|| format!("{local}_{domain}#EXT#@"))
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    value: Vec<Member>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Member {
    user_principal_name: Option<String>,
    user_type: Option<String>,
}

/// What `status` needs of a job's `synchronizationStatus`.
fn job_health(job: sync::Job) -> JobHealth {
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
    let synchronized = status
        .synchronized_entry_count_by_type
        .iter()
        .flatten()
        .find(|kv| {
            kv.key
                .as_deref()
                .is_some_and(|k| k.eq_ignore_ascii_case("User"))
        })
        .and_then(|kv| match &kv.value {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.parse().ok(),
            _ => None,
        });
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_are_found_by_the_upn_cross_tenant_sync_gives_them() {
        assert_eq!(
            copy_prefix("alice@contoso.com").as_deref(),
            Some("alice_contoso.com#EXT#@")
        );
        assert_eq!(copy_prefix("no-at-sign"), None);
        assert_eq!(copy_prefix("@contoso.com"), None);
    }

    #[test]
    fn the_placeholder_before_a_first_cycle_is_no_failed_cycle() {
        // The shape the Entra how-to shows for a started job that has not run (NotRun).
        let job: sync::Job = serde_json::from_value(serde_json::json!({
            "id": "Azure2Azure.x",
            "schedule": {"state": "Active"},
            "status": {
                "code": "NotRun", "countSuccessiveCompleteFailures": 0,
                "lastSuccessfulExecution": null,
                "lastExecution": {"activityIdentifier": null, "countEntitled": 0, "countExported": 0,
                    "state": "Failed", "timeBegan": "0001-01-01T00:00:00Z",
                    "timeEnded": "0001-01-01T00:00:00Z",
                    "error": {"code": "None", "message": "", "tenantActionable": false}},
                "synchronizedEntryCountByType": []
            }
        }))
        .unwrap();
        let h = job_health(job);
        assert!(h.last_cycle.is_none(), "{:?}", h.last_cycle);
        assert_eq!(h.in_scope, None);
    }

    #[test]
    fn a_quarantined_job_says_why() {
        let job: sync::Job = serde_json::from_value(serde_json::json!({
            "id": "Azure2Azure.x",
            "schedule": {"state": "Active"},
            "status": {
                "code": "Quarantine",
                "countSuccessiveCompleteFailures": 3,
                "quarantine": {"reason": "EncounteredQuarantineException",
                               "error": {"code": "AzureDirectoryB2BManagementPolicyCheckFailure",
                                         "message": "Policy permitting auto-redemption of invitations not configured."}},
                "lastExecution": {"state": "Failed", "timeEnded": "2026-01-01T00:00:00Z", "countEntitled": 0,
                                  "error": {"code": "AzureDirectoryB2BManagementPolicyCheckFailure", "message": "m"}},
                "synchronizedEntryCountByType": [{"key": "User", "value": 7}]
            }
        }))
        .unwrap();
        let h = job_health(job);
        assert_eq!(h.status_code.as_deref(), Some("Quarantine"));
        assert_eq!(
            h.quarantine.as_deref(),
            Some(
                "EncounteredQuarantineException: Policy permitting auto-redemption of invitations not configured."
            )
        );
        assert_eq!(h.synchronized, Some(7));
        assert_eq!(h.successive_failures, Some(3));
        assert_eq!(
            h.last_cycle.and_then(|c| c.error_code).as_deref(),
            Some("AzureDirectoryB2BManagementPolicyCheckFailure")
        );
    }
}
