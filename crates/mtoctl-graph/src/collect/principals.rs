//! Naming principals beyond the spec's own lookups: those assigned by id that the spec does not
//! name, and hints for the names it uses that were not found.

use std::collections::{BTreeMap, BTreeSet};

use mtoctl_model::observed::PrincipalsObservation;

use super::Wanted;
use super::decode::collection_raw;
use crate::transport::{GraphClient, GraphRequest};
use crate::wire::directory;

/// Looks up, by id, the users and groups assigned to the declared configurations that the spec
/// does not name (those a plan takes out of a scope), so that a principal is named the same way
/// whether it comes or goes: by UPN or group name, not by the display name an assignment
/// carries. A converged world has none to look up. A failed look-up leaves the display name.
pub(super) async fn name_assigned(
    client: &GraphClient,
    alias: &str,
    details: &BTreeMap<String, mtoctl_model::observed::SyncConfigurationDetails>,
    principals: &mut PrincipalsObservation,
) {
    let mut users = BTreeSet::new();
    let mut groups = BTreeSet::new();
    for a in details.values().flat_map(|d| &d.assignments) {
        let known = |t: &str| {
            a.principal_type
                .as_deref()
                .is_some_and(|p| p.eq_ignore_ascii_case(t))
        };
        if known("Group") && !principals.groups_by_id.contains_key(&a.principal_id) {
            groups.insert(a.principal_id.to_string());
        } else if known("User") && !principals.users_by_id.contains_key(&a.principal_id) {
            users.insert(a.principal_id.to_string());
        }
    }
    let users: Vec<String> = users.into_iter().collect();
    let groups: Vec<String> = groups.into_iter().collect();
    let user_paths = directory::users_by_id_paths(&users);
    let group_paths = directory::groups_by_id_paths(&groups);
    if user_paths.is_empty() && group_paths.is_empty() {
        return;
    }
    let requests: Vec<GraphRequest> = user_paths
        .iter()
        .chain(&group_paths)
        .map(|p| GraphRequest::get(p.as_str()))
        .collect();
    let answers = client.send_all_raw(alias, &requests).await;
    for (i, (request, answer)) in requests.iter().zip(answers).enumerate() {
        if i < user_paths.len() {
            let Ok(found) = collection_raw::<directory::User>(client, alias, request, answer).await
            else {
                continue;
            };
            for user in found.into_iter().filter_map(directory::User::observe) {
                principals.users_by_id.insert(user.id.clone(), user);
            }
        } else {
            let Ok(found) =
                collection_raw::<directory::Group>(client, alias, request, answer).await
            else {
                continue;
            };
            for group in found.into_iter().filter_map(directory::Group::observe) {
                principals.groups_by_id.insert(group.id.clone(), group);
            }
        }
    }
    count_members(client, alias, &groups, principals).await;
}

/// The direct members of the assigned groups the spec does not name: a plan that takes one
/// out of a scope counts who leaves with it. A failed read leaves the count unknown.
async fn count_members(
    client: &GraphClient,
    alias: &str,
    groups: &[String],
    principals: &mut PrincipalsObservation,
) {
    if groups.is_empty() {
        return;
    }
    let requests: Vec<GraphRequest> = groups
        .iter()
        .map(|g| GraphRequest::get(directory::group_member_ids_path(g)))
        .collect();
    let pages = client.get_all_of(alias, &requests).await;
    for (id, members) in groups.iter().zip(pages) {
        let (Ok(members), Some(id)) = (members, mtoctl_model::ids::Guid::parse(id)) else {
            continue;
        };
        if let Some(group) = principals.groups_by_id.get_mut(&id) {
            group.member_count = Some(members.len());
        }
    }
}

/// For the names the spec uses that `principals` did not find, the tenant's names that start
/// like them (the first page only: these are hints for a message, not state, so a failed
/// look-up leaves no hint rather than failing the read).
pub(super) async fn suggest_names(
    client: &GraphClient,
    alias: &str,
    want: &Wanted,
    principals: &mut PrincipalsObservation,
) {
    let prefix = |name: &str| name.chars().take(3).collect::<String>();
    let missing_users = want
        .upns
        .iter()
        .filter(|u| !principals.users_by_upn.contains_key(&u.to_lowercase()))
        .map(|u| (u.to_lowercase(), directory::users_starting_with(&prefix(u))));
    let missing_groups = want
        .group_names
        .iter()
        .filter(|g| !principals.groups_by_name.contains_key(*g))
        .map(|g| (g.clone(), directory::groups_starting_with(&prefix(g))));
    let lookups: Vec<(String, String, bool)> = missing_users
        .map(|(name, path)| (name, path, true))
        .chain(missing_groups.map(|(name, path)| (name, path, false)))
        .take(directory::MAX_SUGGESTION_LOOKUPS)
        .collect();
    if lookups.is_empty() {
        return;
    }
    let requests: Vec<GraphRequest> = lookups
        .iter()
        .map(|(_, path, _)| GraphRequest::get(path.as_str()))
        .collect();
    let answers = client.send_all(alias, &requests).await;
    for ((name, _, is_user), answer) in lookups.into_iter().zip(answers) {
        let Ok(answer) = answer else { continue };
        let items = answer
            .body
            .get("value")
            .and_then(|v| v.as_array())
            .cloned()
            .unwrap_or_default();
        let names: Vec<String> = if is_user {
            items
                .into_iter()
                .filter_map(|v| serde_json::from_value::<directory::User>(v).ok())
                .filter_map(|u| u.user_principal_name)
                .collect()
        } else {
            items
                .into_iter()
                .filter_map(|v| serde_json::from_value::<directory::Group>(v).ok())
                .filter_map(|g| g.display_name)
                .collect()
        };
        principals.candidates.insert(name, names);
    }
}
