//! `verify`: what `mtoctl sync now` (and `apply --verify`) does in Graph: find the users it is
//! asked for in the source tenants, provision each at once through the direction's job
//! (`POST …/jobs/{id}/provisionOnDemand`, with the rule id of the job schema's
//! `synchronizationRules`), then read their copies in the target until they show or a bound
//! passes. It decides nothing: the planner's `status` module judges what it returns.
//!
//! Graph allows 5 `provisionOnDemand` calls per 10 seconds per job: a direction's users are
//! provisioned one after another (the client waits out a 429's `Retry-After`), directions side
//! by side.

mod on_demand;

use std::time::Duration;

use futures_util::future::join_all;
use mtoctl_model::DesiredState;
use mtoctl_model::health::{
    Coverage, HealthObservation, JobHealth, OnDemandResult, SourceUser, SyncHealthObservation,
};
use mtoctl_model::ids::Alias;
use mtoctl_model::observed::ObservedState;
use reqwest::Method;
use serde_json::json;

use crate::collect::{CollectError, collection, decode_one};
use crate::error::GraphError;
use crate::health::{
    Direction, directions, job_health, read_copies, source_select, source_user, users_in_paths,
};
use crate::transport::{GraphClient, GraphRequest};
use crate::wire::sync;

pub use on_demand::{parse_answer, rule_id};

/// How often the copies are looked for while they do not show.
const POLL: Duration = Duration::from_secs(2);

/// The users to provision in one direction.
#[derive(Debug, Clone, PartialEq)]
pub struct Pick {
    /// Source alias.
    pub from: Alias,
    /// Target alias.
    pub to: Alias,
    /// The users, as read in the source.
    pub users: Vec<SourceUser>,
}

/// Finds `upns` in the source tenant of every declared direction whose configuration has a
/// job: per direction, the named users its source tenant has. Also the names no source tenant
/// has.
pub async fn named_users(
    client: &GraphClient,
    desired: &DesiredState,
    observed: &ObservedState,
    upns: &[String],
) -> Result<(Vec<Pick>, Vec<String>), CollectError> {
    let directions = directions(desired, observed);
    let mut sources: Vec<&Alias> = directions.iter().map(|d| &d.sync.from).collect();
    sources.sort();
    sources.dedup();
    let reads = join_all(sources.iter().map(|alias| {
        let select = source_select(
            directions
                .iter()
                .filter(|d| &&d.sync.from == alias)
                .map(|d| d.sync),
        );
        async move {
            let paths = users_in_paths("userPrincipalName", upns, &select);
            let requests: Vec<GraphRequest> = paths.iter().map(GraphRequest::get).collect();
            let answers = client.send_all(alias.as_str(), &requests).await;
            let mut users = Vec::new();
            for (request, answer) in requests.iter().zip(answers) {
                let items =
                    collection::<serde_json::Value>(client, alias.as_str(), request, answer)
                        .await
                        .map_err(|e| (format!("tenant {alias}: the users named with --user"), e))?;
                users.extend(items.into_iter().filter_map(source_user));
            }
            Ok::<_, (String, GraphError)>(((*alias).clone(), users))
        }
    }))
    .await;
    let mut failures = Vec::new();
    let mut found = Vec::new();
    for read in reads {
        match read {
            Ok(r) => found.push(r),
            Err(e) => failures.push(e),
        }
    }
    if !failures.is_empty() {
        return Err(CollectError { failures });
    }
    let picks = directions
        .iter()
        .filter_map(|d| {
            let users: Vec<SourceUser> = found
                .iter()
                .filter(|(alias, _)| alias == &d.sync.from)
                .flat_map(|(_, users)| users.iter().cloned())
                .collect();
            (!users.is_empty()).then(|| Pick {
                from: d.sync.from.clone(),
                to: d.sync.to.clone(),
                users,
            })
        })
        .collect();
    let missing = upns
        .iter()
        .filter(|upn| {
            !found.iter().any(|(_, users)| {
                users
                    .iter()
                    .any(|u| u.user_principal_name.eq_ignore_ascii_case(upn))
            })
        })
        .cloned()
        .collect();
    Ok((picks, missing))
}

/// Provisions the picked users of each direction on demand, then reads their copies in the
/// target until every user Entra provisioned shows there or `wait` passes. `coverage` says how
/// the users were chosen.
pub async fn sync_now(
    client: &GraphClient,
    desired: &DesiredState,
    observed: &ObservedState,
    picks: &[Pick],
    coverage: Coverage,
    wait: Duration,
) -> Result<HealthObservation, CollectError> {
    let directions = directions(desired, observed);
    let work: Vec<(&Direction<'_>, &Pick)> = picks
        .iter()
        .filter_map(|p| {
            directions
                .iter()
                .find(|d| d.sync.from == p.from && d.sync.to == p.to)
                .map(|d| (d, p))
        })
        .collect();
    let done = join_all(
        work.iter()
            .map(|(d, pick)| provision(client, desired, d, pick, coverage, wait)),
    )
    .await;
    let mut failures = Vec::new();
    let mut syncs = Vec::new();
    for result in done {
        match result {
            Ok(s) => syncs.push(s),
            Err(mut f) => failures.append(&mut f),
        }
    }
    if failures.is_empty() {
        Ok(HealthObservation { syncs })
    } else {
        Err(CollectError { failures })
    }
}

/// One direction: its job and rule, each user provisioned, then the copies read.
async fn provision(
    client: &GraphClient,
    desired: &DesiredState,
    d: &Direction<'_>,
    pick: &Pick,
    coverage: Coverage,
    wait: Duration,
) -> Result<SyncHealthObservation, Vec<(String, GraphError)>> {
    let alias = d.sync.from.as_str();
    let what = |label: &str| format!("tenant {alias}: {label} of {}", d.sync.name);
    let job_path = format!(
        "/servicePrincipals/{}/synchronization/jobs/{}",
        d.service_principal, d.job
    );
    let requests = [
        GraphRequest::get(job_path.clone()),
        GraphRequest::get(format!("{job_path}/schema")),
    ];
    let mut answers = client.send_all(alias, &requests).await.into_iter();
    let missing = || Err(GraphError::UnknownTenant(alias.to_owned()));
    let job: JobHealth =
        decode_one::<sync::Job>(alias, &requests[0], answers.next().unwrap_or_else(missing))
            .map(job_health)
            .map_err(|e| vec![(what("the synchronization job"), e)])?;
    let schema: serde_json::Value =
        decode_one(alias, &requests[1], answers.next().unwrap_or_else(missing))
            .map_err(|e| vec![(what("the synchronization schema"), e)])?;
    let Some(rule) = rule_id(&schema) else {
        return Err(vec![(
            what("the synchronization schema"),
            GraphError::Decode {
                tenant: alias.to_owned(),
                method: "GET".into(),
                path: requests[1].path.clone(),
                reason: "the schema has no synchronization rule to provision users with".into(),
            },
        )]);
    };
    let mut on_demand: Vec<OnDemandResult> = Vec::new();
    for user in &pick.users {
        let request = GraphRequest::with_body(
            Method::POST,
            format!("{job_path}/provisionOnDemand"),
            json!({
                "parameters": [{
                    "ruleId": rule,
                    "subjects": [{"objectId": user.id, "objectTypeName": "User"}]
                }]
            }),
        );
        let answer = client.send(alias, &request).await.map_err(|e| {
            vec![(
                what(&format!(
                    "provisioning {} on demand",
                    user.user_principal_name
                )),
                e,
            )]
        })?;
        on_demand.push(parse_answer(
            &user.user_principal_name,
            &user.id,
            &answer.body,
        ));
    }
    // Copies of the users Entra provisioned may take a moment to be listed in the target: wait
    // (bounded) for those it says it provisioned; the others are read once.
    let expected: Vec<&str> = on_demand
        .iter()
        .filter(|r| {
            !r.out_of_scope()
                && !r.failed()
                && r.status
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case("Success"))
        })
        .map(|r| r.source.as_str())
        .collect();
    let deadline = tokio::time::Instant::now() + wait;
    let provisioned = loop {
        let copies = read_copies(client, desired, d.sync, &pick.users)
            .await
            .map_err(|e| vec![e])?;
        let all_there = expected
            .iter()
            .all(|upn| copies.iter().any(|c| c.source.eq_ignore_ascii_case(upn)));
        if all_there || tokio::time::Instant::now() + POLL > deadline {
            break copies;
        }
        tokio::time::sleep(POLL).await;
    };
    Ok(SyncHealthObservation {
        from: d.sync.from.clone(),
        to: d.sync.to.clone(),
        job,
        coverage,
        users: pick.users.clone(),
        truncated: false,
        provisioned,
        on_demand,
        groups: Vec::new(),
    })
}
