//! The groups a direction provisions as groups (`groupProvisioning: groupsAndMembers`, or the
//! job's group mapping enabled by hand), read on both sides for `status` to judge.
//!
//! In the source, one `$batch`: the configuration's assignments (when each group was assigned)
//! and each group's direct members, unless `--all-users` already read them all. In the target,
//! the security groups of each group's display name (`in` filters of 15 names), then the
//! members of each group found exactly once, and the copies of the source members missing from
//! it (to tell a member not provisioned yet from one left out). Nothing ties a target group to
//! its source group that Graph documents, so a copy is found by name only; several security
//! groups of that name are reported as they are, never guessed between. Member lists stop at
//! [`ALL_USERS_LIMIT`] per direction and side, and say so.

use std::collections::BTreeMap;

use mtoctl_model::DesiredState;
use mtoctl_model::desired::SyncSpec;
use mtoctl_model::health::{GroupHealthObservation, GroupMember, SourceUser, TargetGroup};
use mtoctl_model::observed::ObservedState;
use mtoctl_model::spec::document::GroupProvisioning;
use serde_json::Value;

use crate::collect::{collection, printable};
use crate::error::GraphError;
use crate::transport::{GraphClient, GraphRequest};
use crate::wire::directory::in_filter_paths;

use super::pages::bounded_pages;
use super::{ALL_USERS_LIMIT, Direction, Failures, copy_prefix, read_copies, source_select};

/// What is read of a target group found by name: enough to keep only security groups.
const TARGET_GROUP_SELECT: &str = "id,displayName,securityEnabled,mailEnabled";

/// What is read of a target group's members: enough to match them with the source's.
const TARGET_MEMBER_SELECT: &str = "id,userPrincipalName";

/// Whether `status` checks the groups of `sync` as groups: the spec provisions them
/// (`groupsAndMembers`), or leaves it to Graph and the job's group mapping is enabled.
pub(crate) fn provisions_groups(sync: &SyncSpec, observed: &ObservedState) -> bool {
    match sync.scope.group_provisioning {
        Some(GroupProvisioning::GroupsAndMembers) => true,
        Some(GroupProvisioning::MembersOnly) => false,
        None => observed
            .tenants
            .get(&sync.from)
            .into_iter()
            .flat_map(|t| &t.sync_configurations)
            .filter(|c| c.display_name.eq_ignore_ascii_case(&sync.name))
            .filter_map(|c| c.details.as_ref())
            .flat_map(|d| &d.jobs)
            .any(|j| j.groups_provisioned == Some(true)),
    }
}

/// Reads the groups of `d` provisioned as groups (`d.provisioned_groups`) in both tenants.
/// `known`: each group of `d.groups` with its user members, when the source read already read
/// them all.
pub(super) async fn read_groups(
    client: &GraphClient,
    desired: &DesiredState,
    d: &Direction<'_>,
    known: Option<&[Vec<SourceUser>]>,
) -> Result<Vec<GroupHealthObservation>, Failures> {
    if d.provisioned_groups.is_empty() {
        return Ok(Vec::new());
    }
    let mut groups = read_in_source(client, d, known).await?;
    read_in_target(client, d, &mut groups).await?;
    read_missing_copies(client, desired, d.sync, &mut groups).await?;
    Ok(groups)
}

/// When each group was assigned, and its direct members (unless `known`).
async fn read_in_source(
    client: &GraphClient,
    d: &Direction<'_>,
    known: Option<&[Vec<SourceUser>]>,
) -> Result<Vec<GroupHealthObservation>, Failures> {
    let alias = d.sync.from.as_str();
    let known: BTreeMap<&str, &Vec<SourceUser>> = known
        .map(|lists| d.groups.iter().map(String::as_str).zip(lists).collect())
        .unwrap_or_default();
    let select = source_select([d.sync]);
    let mut requests = vec![GraphRequest::get(format!(
        "/servicePrincipals/{}/appRoleAssignedTo?$select=principalId,createdDateTime&$top=999",
        d.service_principal
    ))];
    let unread: Vec<&(String, String)> = d
        .provisioned_groups
        .iter()
        .filter(|(id, _)| !known.contains_key(id.as_str()))
        .collect();
    requests.extend(unread.iter().map(|(id, _)| {
        GraphRequest::get(format!("/groups/{id}/members?$select={select}&$top=999"))
    }));
    let mut answers = client.send_all(alias, &requests).await.into_iter();
    let mut failures = Vec::new();
    let assignments = answers
        .next()
        .unwrap_or_else(|| Err(GraphError::UnknownTenant(alias.to_owned())));
    let assigned: BTreeMap<String, String> =
        match collection::<Value>(client, alias, &requests[0], assignments).await {
            Ok(items) => items
                .iter()
                .filter_map(|a| {
                    let text = |k: &str| a.get(k).and_then(Value::as_str);
                    Some((
                        text("principalId")?.to_lowercase(),
                        text("createdDateTime")?.to_owned(),
                    ))
                })
                .collect(),
            Err(e) => {
                failures.push((
                    format!("tenant {alias}: the assignments of {}", d.sync.name),
                    e,
                ));
                BTreeMap::new()
            }
        };
    let firsts: Vec<Result<Value, GraphError>> = answers.map(|a| a.map(|r| r.body)).collect();
    let (pages, truncated) =
        bounded_pages(client, alias, &requests[1..], firsts, true, ALL_USERS_LIMIT).await;
    let mut read: BTreeMap<&str, Vec<SourceUser>> = BTreeMap::new();
    for ((id, name), page) in unread.iter().zip(pages) {
        match page {
            Ok(items) => {
                read.insert(
                    id,
                    items.into_iter().filter_map(super::source_user).collect(),
                );
            }
            Err(e) => failures.push((
                format!("tenant {alias}: the members of group \"{name}\" ({id})"),
                e,
            )),
        }
    }
    if !failures.is_empty() {
        return Err(failures);
    }
    Ok(d.provisioned_groups
        .iter()
        .map(|(id, name)| {
            let members = match known.get(id.as_str()) {
                Some(list) => (*list).clone(),
                None => read.remove(id.as_str()).unwrap_or_default(),
            };
            GroupHealthObservation {
                source_id: id.clone(),
                display_name: name.clone(),
                assigned: assigned.get(&id.to_lowercase()).cloned(),
                members,
                // The bound is shared by the groups read together: any of them may be short.
                members_truncated: truncated && !known.contains_key(id.as_str()),
                targets: Vec::new(),
                copies: Vec::new(),
            }
        })
        .collect())
}

/// The target's security groups of each group's name, and the members of those found once.
async fn read_in_target(
    client: &GraphClient,
    d: &Direction<'_>,
    groups: &mut [GroupHealthObservation],
) -> Result<(), Failures> {
    let alias = d.sync.to.as_str();
    let what = || {
        format!(
            "tenant {alias}: the groups provisioned into it by {}",
            d.sync.name
        )
    };
    let mut names: Vec<String> = groups.iter().map(|g| g.display_name.clone()).collect();
    names.sort();
    names.dedup();
    let requests: Vec<GraphRequest> =
        in_filter_paths("/groups", "displayName", &names, TARGET_GROUP_SELECT)
            .iter()
            .map(GraphRequest::get)
            .collect();
    let answers = client.send_all(alias, &requests).await;
    let mut found = Vec::new();
    for (request, answer) in requests.iter().zip(answers) {
        let items = collection::<Value>(client, alias, request, answer)
            .await
            .map_err(|e| vec![(what(), e)])?;
        found.extend(items.into_iter().filter_map(security_group));
    }
    for g in groups.iter_mut() {
        g.targets = found
            .iter()
            .filter(|t| t.display_name.eq_ignore_ascii_case(&g.display_name))
            .cloned()
            .collect();
    }
    // The members of each group that has exactly one copy (several are not told apart).
    let single: Vec<usize> = (0..groups.len())
        .filter(|&i| groups[i].targets.len() == 1)
        .collect();
    let requests: Vec<GraphRequest> = single
        .iter()
        .map(|&i| {
            GraphRequest::get(format!(
                "/groups/{}/members?$select={TARGET_MEMBER_SELECT}&$top=999",
                groups[i].targets[0].id
            ))
        })
        .collect();
    let firsts: Vec<Result<Value, GraphError>> = client
        .send_all(alias, &requests)
        .await
        .into_iter()
        .map(|a| a.map(|r| r.body))
        .collect();
    let (pages, truncated) =
        bounded_pages(client, alias, &requests, firsts, true, ALL_USERS_LIMIT).await;
    let mut failures = Vec::new();
    for (&i, page) in single.iter().zip(pages) {
        let target = &mut groups[i].targets[0];
        match page {
            Ok(items) => {
                target.members = items.into_iter().filter_map(group_member).collect();
                target.members_truncated = truncated;
            }
            Err(e) => failures.push((
                format!(
                    "tenant {alias}: the members of group \"{}\" ({})",
                    target.display_name, target.id
                ),
                e,
            )),
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures)
    }
}

/// The copies of the source members that are not members of their group's one copy.
async fn read_missing_copies(
    client: &GraphClient,
    desired: &DesiredState,
    sync: &SyncSpec,
    groups: &mut [GroupHealthObservation],
) -> Result<(), Failures> {
    let mut absent: Vec<SourceUser> = Vec::new();
    for g in groups.iter() {
        let [target] = g.targets.as_slice() else {
            continue;
        };
        for m in &g.members {
            if !is_member(target, &m.user_principal_name)
                && !absent.iter().any(|a| {
                    a.user_principal_name
                        .eq_ignore_ascii_case(&m.user_principal_name)
                })
            {
                absent.push(m.clone());
            }
        }
    }
    if absent.is_empty() {
        return Ok(());
    }
    let copies = read_copies(client, desired, sync, &absent)
        .await
        .map_err(|e| vec![e])?;
    for g in groups.iter_mut() {
        let [target] = g.targets.as_slice() else {
            continue;
        };
        let missing: Vec<&SourceUser> = g
            .members
            .iter()
            .filter(|m| !is_member(target, &m.user_principal_name))
            .collect();
        g.copies = copies
            .iter()
            .filter(|c| {
                missing
                    .iter()
                    .any(|m| m.user_principal_name.eq_ignore_ascii_case(&c.source))
            })
            .cloned()
            .collect();
    }
    Ok(())
}

/// Whether the copy of the source user `upn` is a member of `target` (by the UPN
/// cross-tenant sync gives copies).
fn is_member(target: &TargetGroup, upn: &str) -> bool {
    let Some(prefix) = copy_prefix(upn).map(|p| p.to_lowercase()) else {
        return false;
    };
    target.members.iter().any(|m| {
        m.user_principal_name
            .as_deref()
            .is_some_and(|u| u.to_lowercase().starts_with(&prefix))
    })
}

/// A group found by name, if it is a security group that is not mail-enabled (what
/// cross-tenant sync creates: "Security group (static)").
fn security_group(mut item: Value) -> Option<TargetGroup> {
    printable(&mut item);
    let flag = |key: &str| item.get(key).and_then(Value::as_bool);
    if flag("securityEnabled") != Some(true) || flag("mailEnabled") == Some(true) {
        return None;
    }
    Some(TargetGroup {
        id: item.get("id")?.as_str()?.to_owned(),
        display_name: item.get("displayName")?.as_str()?.to_owned(),
        members: Vec::new(),
        members_truncated: false,
    })
}

/// A member of a target group as read: a user with its UPN, or another kind of object.
fn group_member(mut item: Value) -> Option<GroupMember> {
    printable(&mut item);
    let id = item.get("id")?.as_str()?.to_owned();
    let kind = item
        .get("@odata.type")
        .and_then(Value::as_str)
        .map(|k| k.trim_start_matches("#microsoft.graph.").to_owned());
    let upn = item
        .get("userPrincipalName")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Some(GroupMember {
        id,
        other_kind: kind.filter(|k| !k.eq_ignore_ascii_case("user")),
        user_principal_name: upn,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_security_groups_that_are_not_mail_enabled_are_copies() {
        let security = json!({"id": "1", "displayName": "Sales", "securityEnabled": true, "mailEnabled": false});
        assert_eq!(security_group(security).map(|g| g.id).as_deref(), Some("1"));
        let m365 = json!({"id": "2", "displayName": "Sales", "securityEnabled": false, "mailEnabled": true});
        assert!(security_group(m365).is_none());
        let mail_security = json!({"id": "3", "displayName": "Sales", "securityEnabled": true, "mailEnabled": true});
        assert!(security_group(mail_security).is_none());
    }

    #[test]
    fn members_are_users_or_named_by_their_kind_and_matched_by_copy_name() {
        let user = group_member(json!({"@odata.type": "#microsoft.graph.user", "id": "u",
            "userPrincipalName": "Alice_contoso.com#EXT#@fabrikam.com"}))
        .unwrap();
        assert_eq!(user.other_kind, None);
        let nested =
            group_member(json!({"@odata.type": "#microsoft.graph.group", "id": "g"})).unwrap();
        assert_eq!(nested.other_kind.as_deref(), Some("group"));
        let target = TargetGroup {
            members: vec![user, nested],
            ..TargetGroup::default()
        };
        assert!(is_member(&target, "alice@contoso.com"));
        assert!(!is_member(&target, "alice@contoso.org"));
        assert!(!is_member(&target, "bob@contoso.com"));
    }
}
