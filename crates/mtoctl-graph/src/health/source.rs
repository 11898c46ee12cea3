//! What is read in a direction's source tenant: the job and the users assigned to it (the
//! users the spec names, the members of its groups, or every member), a sample or all of them
//! up to the bound, with the attributes the scoping filters read.

use std::collections::{BTreeMap, BTreeSet};

use mtoctl_model::desired::SyncSpec;
use mtoctl_model::health::{Coverage, JobHealth, SourceUser};
use serde_json::Value;

use crate::collect::{collection, decode_one, printable};
use crate::error::GraphError;
use crate::transport::{GraphClient, GraphRequest};
use crate::wire::{encode_query_value, sync};

use super::job::cycle_began;
use super::pages::bounded_pages;
use super::{
    ALL_USERS_LIMIT, Direction, Failures, SAMPLE_GROUPS, SAMPLE_SIZE, job_health, users_in_paths,
};

/// What is read of a source user, besides the attributes a scoping filter names.
const SOURCE_SELECT: &str = "id,userPrincipalName,userType,accountEnabled";

/// User properties a scoping filter may name that mtoctl reads to judge the filter (v1.0
/// properties a `$select` accepts); a clause on any other attribute is judged by Entra alone.
const FILTER_ATTRIBUTES: &[&str] = &[
    "accountEnabled",
    "city",
    "companyName",
    "country",
    "department",
    "displayName",
    "employeeId",
    "employeeType",
    "givenName",
    "jobTitle",
    "mail",
    "mailNickname",
    "officeLocation",
    "postalCode",
    "preferredLanguage",
    "state",
    "streetAddress",
    "surname",
    "usageLocation",
    "userPrincipalName",
    "userType",
];

/// The `$select` of source users for `syncs` (all from one tenant): the basics and the
/// attributes their scoping filters read that mtoctl can read.
pub(crate) fn source_select<'a>(syncs: impl IntoIterator<Item = &'a SyncSpec>) -> String {
    let mut select: Vec<String> = SOURCE_SELECT.split(',').map(str::to_owned).collect();
    for sync in syncs {
        for clause in sync.scope.filter.iter().flat_map(|g| &g.clauses) {
            if let Some(known) = FILTER_ATTRIBUTES
                .iter()
                .find(|a| a.eq_ignore_ascii_case(&clause.attribute))
                && !select.iter().any(|s| s == known)
            {
                select.push((*known).to_owned());
            }
        }
    }
    select.join(",")
}

/// What [`read_source`] read of one direction.
pub(super) struct SourceRead {
    pub(super) job: JobHealth,
    /// The users assigned, a sample or all up to the bound, each once.
    pub(super) users: Vec<SourceUser>,
    /// Whether there were more than the bound.
    pub(super) truncated: bool,
    /// With `--all-users`, the users among the direct members of each group of
    /// `Direction::groups` (in that order), when every member of every group was read.
    pub(super) group_members: Option<Vec<Vec<SourceUser>>>,
}

/// The job, the users assigned to one direction (a sample or all, up to the bound) and whether
/// there were more.
pub(super) async fn read_source(
    client: &GraphClient,
    d: &Direction<'_>,
    coverage: Coverage,
) -> Result<SourceRead, Failures> {
    let alias = d.sync.from.as_str();
    let what = |label: &str| format!("tenant {alias}: {label} of {}", d.sync.name);
    let select = source_select([d.sync]);
    let all = coverage == Coverage::All;
    let top = if all { 999 } else { SAMPLE_SIZE };
    let mut requests = vec![GraphRequest::get(format!(
        "/servicePrincipals/{}/synchronization/jobs/{}",
        d.service_principal, d.job
    ))];
    let named: &[String] = if all {
        &d.named
    } else {
        &d.named[..d.named.len().min(SAMPLE_SIZE)]
    };
    let by_id = users_in_paths("id", named, &select);
    let lists: Vec<String> = if d.sync.scope.all_users {
        vec![format!(
            "/users?$filter={}&$select={select}&$top={top}",
            encode_query_value("userType eq 'Member'")
        )]
    } else if all {
        d.groups
            .iter()
            .map(|g| format!("/groups/{g}/members?$select={select}&$top={top}"))
            .collect()
    } else if named.len() < SAMPLE_SIZE {
        d.groups
            .iter()
            .take(SAMPLE_GROUPS)
            .map(|g| format!("/groups/{g}/members?$select={select}&$top={top}"))
            .collect()
    } else {
        Vec::new()
    };
    requests.extend(by_id.iter().chain(&lists).map(GraphRequest::get));
    let mut answers = client.send_all(alias, &requests).await.into_iter();
    let mut failures = Vec::new();
    let job = answers
        .next()
        .unwrap_or_else(|| Err(GraphError::UnknownTenant(alias.to_owned())));
    let job = match decode_job(alias, &requests[0], job) {
        Ok(job) => job,
        Err(e) => {
            failures.push((what("the synchronization job"), e));
            JobHealth::default()
        }
    };
    let mut users = Vec::new();
    let named_requests = &requests[1..=by_id.len()];
    for (request, answer) in named_requests.iter().zip(answers.by_ref()) {
        match collection::<Value>(client, alias, request, answer).await {
            Ok(items) => users.extend(items.into_iter().filter_map(source_user)),
            Err(e) => failures.push((what("the users named in the scope"), e)),
        }
    }
    // The lists (group members, or every member): the first pages came with the batch; with
    // `--all-users` their next pages are read together, page by page, up to the bound.
    let list_requests = &requests[1 + by_id.len()..];
    let firsts: Vec<Result<Value, GraphError>> = answers.map(|a| a.map(|r| r.body)).collect();
    let limit = if all { ALL_USERS_LIMIT } else { SAMPLE_SIZE };
    let (pages, truncated) = bounded_pages(
        client,
        alias,
        list_requests,
        firsts,
        all,
        limit.saturating_sub(users.len()),
    )
    .await;
    // Every member of every group read: each group's members are kept apart too, for the
    // groups provisioned as groups.
    let by_group = all && !truncated && !d.sync.scope.all_users;
    let mut group_members = Vec::new();
    for page in pages {
        match page {
            Ok(items) => {
                let members: Vec<SourceUser> = items.into_iter().filter_map(source_user).collect();
                if by_group {
                    group_members.push(members.clone());
                }
                users.extend(members);
            }
            Err(e) => failures.push((
                what(if d.sync.scope.all_users {
                    "the users of the tenant"
                } else {
                    "the members of a group in the scope"
                }),
                e,
            )),
        }
    }
    let mut seen = BTreeSet::new();
    users.retain(|u| seen.insert(u.user_principal_name.to_lowercase()));
    // A sample is a few users by design; only `--all-users` can stop short.
    let truncated = all && (truncated || users.len() > limit);
    users.truncate(limit);
    if failures.is_empty() {
        Ok(SourceRead {
            job,
            users,
            truncated,
            group_members: by_group.then_some(group_members),
        })
    } else {
        Err(failures)
    }
}

/// The job's health from its answer, with when its last cycle began (which the typed job
/// leaves out).
fn decode_job(
    alias: &str,
    request: &GraphRequest,
    answer: Result<crate::transport::GraphResponse, GraphError>,
) -> Result<JobHealth, GraphError> {
    let raw = decode_one::<Value>(alias, request, answer)?;
    let began = cycle_began(&raw);
    let job: sync::Job = serde_json::from_value(raw).map_err(|e| GraphError::Decode {
        tenant: alias.to_owned(),
        method: request.method.to_string(),
        path: request.path.clone(),
        reason: e.to_string(),
    })?;
    let mut health = job_health(job);
    if let Some(cycle) = &mut health.last_cycle {
        cycle.began = began;
    }
    Ok(health)
}

/// A source user from a user or directory object as read (another kind of member, such as a
/// nested group, is not a user and is skipped).
pub(crate) fn source_user(mut item: Value) -> Option<SourceUser> {
    printable(&mut item);
    let object = item.as_object()?;
    if let Some(kind) = object.get("@odata.type").and_then(Value::as_str)
        && !kind.eq_ignore_ascii_case("#microsoft.graph.user")
    {
        return None;
    }
    let text = |key: &str| object.get(key).and_then(Value::as_str).map(str::to_owned);
    let upn = text("userPrincipalName")?;
    let attributes: BTreeMap<String, Value> = object
        .iter()
        .filter(|(k, _)| FILTER_ATTRIBUTES.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Some(SourceUser {
        id: text("id")?,
        user_principal_name: upn,
        user_type: text("userType"),
        account_enabled: object.get("accountEnabled").and_then(Value::as_bool),
        attributes,
    })
}
