//! Which of the configurations' assigned groups have the user as a direct member (nested groups
//! do not count for cross-tenant sync), read page by page within the module's bounds.

use mtoctl_model::DesiredState;
use mtoctl_model::ids::Alias;
use mtoctl_model::observed::ObservedState;
use mtoctl_model::trace::SourceUser;
use serde_json::Value;

use crate::transport::{GraphClient, GraphRequest};

use super::{Failures, MAX_GROUPS, MAX_MEMBER_PAGES, configuration, decode_error};

/// The ids of the groups assigned to `alias`'s declared configurations, in spec and
/// assignment order, without repeats.
pub(super) fn assigned_groups(
    observed: &ObservedState,
    desired: &DesiredState,
    alias: &Alias,
) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for sync in desired.syncs.iter().filter(|s| &s.from == alias) {
        let assignments = configuration(observed, sync)
            .and_then(|c| c.details.as_ref())
            .map(|d| d.assignments.as_slice())
            .unwrap_or_default();
        for a in assignments {
            let group = a
                .principal_type
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case("Group"));
            let id = a.principal_id.as_str().to_lowercase();
            if group && !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    ids
}

/// Which of `groups` have `user` as a direct member, and which could not be read whole.
pub(super) async fn memberships(
    client: &GraphClient,
    user: &SourceUser,
    groups: Vec<String>,
) -> Result<(Vec<String>, Vec<String>), Failures> {
    let alias = user.tenant.as_str();
    let mut unchecked: Vec<String> = groups.iter().skip(MAX_GROUPS).cloned().collect();
    let mut pending: Vec<(String, GraphRequest)> = groups
        .into_iter()
        .take(MAX_GROUPS)
        .map(|g| {
            let request = GraphRequest::get(format!("/groups/{g}/members?$select=id&$top=999"));
            (g, request)
        })
        .collect();
    let mut member_of = Vec::new();
    let mut failures = Vec::new();
    for _ in 0..MAX_MEMBER_PAGES {
        if pending.is_empty() {
            break;
        }
        let requests: Vec<GraphRequest> = pending.iter().map(|(_, r)| r.clone()).collect();
        let answers = client.send_all(alias, &requests).await;
        let mut next = Vec::new();
        for ((group, request), answer) in pending.into_iter().zip(answers) {
            let what = || format!("tenant {alias}: the members of assigned group {group}");
            let page = match answer {
                Ok(r) => r.body,
                Err(e) => {
                    failures.push((what(), e));
                    continue;
                }
            };
            let ids = page.get("value").and_then(Value::as_array);
            let Some(ids) = ids else {
                failures.push((what(), decode_error(alias, &request, "no `value` array")));
                continue;
            };
            let found = ids.iter().any(|m| {
                m.get("id")
                    .and_then(Value::as_str)
                    .is_some_and(|id| id.eq_ignore_ascii_case(&user.id))
            });
            if found {
                member_of.push(group);
                continue;
            }
            let Some(link) = page.get("@odata.nextLink").and_then(Value::as_str) else {
                continue;
            };
            match client.endpoints().relative_of(link) {
                Some(relative) => next.push((group, GraphRequest::get(relative))),
                None => failures.push((
                    what(),
                    decode_error(alias, &request, "`@odata.nextLink` points outside Graph"),
                )),
            }
        }
        pending = next;
    }
    unchecked.extend(pending.into_iter().map(|(g, _)| g));
    if failures.is_empty() {
        Ok((member_of, unchecked))
    } else {
        Err(failures)
    }
}
