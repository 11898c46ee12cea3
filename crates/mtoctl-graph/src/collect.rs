//! `collect`: the live state of every tenant of a spec, read in parallel.
//!
//! Per tenant, in waves of `$batch` calls: (1) the MTO, its members, the join request, both
//! templates, every partner with its identity sync policy expanded, the sync configurations
//! (service principals of the template) and the names the spec's scopes use, resolved with `in`
//! filters of 15; (2) the jobs and assignments of the configurations the spec declares; (3) the
//! jobs' schemas. Tenants are read concurrently. Any read that fails is an error naming the
//! tenant and the object: a failure is never taken for "absent".

use std::collections::{BTreeMap, BTreeSet};

use mtoctl_model::desired::{DesiredState, GroupRef, TenantSpec, UserRef};
use mtoctl_model::ids::{Alias, Guid};
use mtoctl_model::observed::{
    JoinRequestObservation, MtoState, ObservedState, OrganizationObservation, PartnerObservation,
    PrincipalsObservation, SyncConfigurationDetails, SyncConfigurationObservation,
    TemplatesObservation, TenantObservation,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::GraphError;
use crate::transport::{GraphClient, GraphRequest, GraphResponse};
use crate::wire::{directory, mto, policy, sync};

/// Every read that failed, per tenant. Collection is all or nothing.
#[derive(Debug, thiserror::Error)]
#[error("{} of mtoctl's reads from Microsoft Graph failed:\n{}", .failures.len(), list(.failures))]
pub struct CollectError {
    /// The failures: what was being read, and the error.
    pub failures: Vec<(String, GraphError)>,
}

fn list(failures: &[(String, GraphError)]) -> String {
    // A tenant that cannot be reached (no token, or no answer from Graph) fails every read the
    // same way: say it once for the tenant.
    let unreachable = |tenant: &str| {
        failures
            .iter()
            .filter(|(_, x)| x.tenant() == tenant && x.unreachable().is_some())
            .count()
    };
    let mut said = std::collections::BTreeSet::new();
    let mut lines = Vec::new();
    for (what, e) in failures {
        match e.unreachable() {
            Some(summary)
                if unreachable(e.tenant()) > 1 || matches!(e, GraphError::Token { .. }) =>
            {
                if said.insert(e.tenant()) {
                    let reads = unreachable(e.tenant());
                    lines.push(format!("  - {summary} (so {reads} reads of it failed)"));
                }
            }
            _ => lines.push(format!("  - {what}: {e}")),
        }
    }
    lines.join("\n")
}

/// Reads the observed state of every tenant in `desired`.
///
/// Each tenant's reads run as a task of their own, so decoding one tenant's answers (a
/// converged mesh of 20 tenants answers with 190,000 assignments) runs on every worker of
/// the runtime instead of all on the thread that awaits this. The tasks are aborted if this
/// future is dropped before they end.
pub async fn collect(
    client: &GraphClient,
    desired: &DesiredState,
) -> Result<ObservedState, CollectError> {
    let mut reads = tokio::task::JoinSet::new();
    for (i, t) in desired.tenants.iter().enumerate() {
        let read = collect_tenant(client.clone(), wanted(desired, &t.alias), t.clone());
        reads.spawn(async move { (i, read.await) });
    }
    let mut results = Vec::with_capacity(desired.tenants.len());
    while let Some(joined) = reads.join_next().await {
        match joined {
            Ok(read) => results.push(read),
            // Nothing else aborts these tasks, so this is a panic (a bug): it goes on as it
            // would have without the task, its message already printed by the panic hook.
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
    // Failures are reported in the spec's order of tenants, whatever order the reads ended in.
    results.sort_by_key(|(i, _)| *i);
    let mut tenants = BTreeMap::new();
    let mut failures = Vec::new();
    for (i, result) in results {
        match result {
            Ok(observation) => {
                tenants.insert(desired.tenants[i].alias.clone(), observation);
            }
            Err(mut f) => failures.append(&mut f),
        }
    }
    if failures.is_empty() {
        Ok(ObservedState { tenants })
    } else {
        Err(CollectError { failures })
    }
}

/// What one tenant's reads need from the spec.
struct Wanted {
    upns: Vec<String>,
    user_ids: Vec<String>,
    group_names: Vec<String>,
    group_ids: Vec<String>,
    /// Lowercased names of the sync configurations declared with this tenant as source.
    sync_names: BTreeSet<String>,
}

fn wanted(desired: &DesiredState, tenant: &Alias) -> Wanted {
    let mut upns = BTreeSet::new();
    let mut user_ids = BTreeSet::new();
    let mut group_names = BTreeSet::new();
    let mut group_ids = BTreeSet::new();
    let mut sync_names = BTreeSet::new();
    for s in desired.syncs.iter().filter(|s| &s.from == tenant) {
        sync_names.insert(s.name.to_lowercase());
        for u in &s.scope.users {
            match u {
                UserRef::UserPrincipalName(upn) => upns.insert(upn.clone()),
                UserRef::ObjectId(id) => user_ids.insert(id.to_string()),
            };
        }
        for g in &s.scope.groups {
            match g {
                GroupRef::DisplayName(name) => group_names.insert(name.clone()),
                GroupRef::ObjectId(id) => group_ids.insert(id.to_string()),
            };
        }
    }
    Wanted {
        upns: upns.into_iter().collect(),
        user_ids: user_ids.into_iter().collect(),
        group_names: group_names.into_iter().collect(),
        group_ids: group_ids.into_iter().collect(),
        sync_names,
    }
}

pub(crate) type Failures = Vec<(String, GraphError)>;

async fn collect_tenant(
    client: GraphClient,
    want: Wanted,
    tenant: TenantSpec,
) -> Result<TenantObservation, Failures> {
    let client = &client;
    let alias = tenant.alias.as_str();
    let mut failures: Failures = Vec::new();

    // Wave 1: everything addressable from the spec alone.
    let mut requests = vec![
        (
            "the multitenant organization",
            GraphRequest::get(mto::MTO_PATH),
        ),
        (
            "the organization's members",
            GraphRequest::get(mto::TENANTS_PATH),
        ),
        (
            "the join request",
            GraphRequest::get(mto::JOIN_REQUEST_PATH),
        ),
        (
            "the partner configuration template",
            GraphRequest::get(policy::PARTNER_TEMPLATE_PATH),
        ),
        (
            "the identity sync template",
            GraphRequest::get(policy::IDENTITY_SYNC_TEMPLATE_PATH),
        ),
        (
            "partner configurations",
            GraphRequest::get(policy::PARTNERS_WITH_SYNC_PATH),
        ),
        (
            "cross-tenant sync configurations",
            GraphRequest::get(sync::service_principals_path()),
        ),
    ];
    let lookups: [(&str, Vec<String>); 4] = [
        (
            "users named in sync scopes",
            directory::users_by_upn_paths(&want.upns),
        ),
        (
            "users named in sync scopes",
            directory::users_by_id_paths(&want.user_ids),
        ),
        (
            "groups named in sync scopes",
            directory::groups_by_name_paths(&want.group_names),
        ),
        (
            "groups named in sync scopes",
            directory::groups_by_id_paths(&want.group_ids),
        ),
    ];
    let first_lookup = requests.len();
    let mut lookup_kinds = Vec::new();
    for (kind, (what, paths)) in lookups.into_iter().enumerate() {
        for path in paths {
            requests.push((what, GraphRequest::get(path)));
            lookup_kinds.push(kind);
        }
    }
    let plain: Vec<GraphRequest> = requests.iter().map(|(_, r)| r.clone()).collect();
    let answers = client.send_all(alias, &plain).await;
    let mut answers: Vec<Option<Result<GraphResponse, GraphError>>> =
        answers.into_iter().map(Some).collect();
    let mut take = |i: usize| {
        answers[i]
            .take()
            .unwrap_or_else(|| Err(GraphError::UnknownTenant(alias.to_owned())))
    };

    let organization_raw = take(0);
    let members_raw = take(1);
    let join_raw = take(2);
    let partner_template_raw = take(3);
    let sync_template_raw = take(4);
    let partners_raw = take(5);
    let sps_raw = take(6);
    let lookup_raw: Vec<Result<GraphResponse, GraphError>> =
        (first_lookup..requests.len()).map(&mut take).collect();

    let what = |label: &str| format!("tenant {alias}: {label}");

    let organization: Option<mto::MultiTenantOrganization> =
        decode_one(alias, &requests[0].1, organization_raw)
            .map_err(|e| failures.push((what(requests[0].0), e)))
            .ok();
    let has_mto = organization
        .as_ref()
        .is_some_and(|o| o.state.as_deref() == Some("active"));
    // Without an MTO there are no members to list; Graph may answer that with a 404.
    let members = match members_raw {
        Err(e) if e.is_not_found() && !has_mto => Ok(Vec::new()),
        other => match other {
            Ok(page) => client.follow_pages(alias, &requests[1].1, page.body).await,
            Err(e) => Err(e),
        },
    };
    let members: Vec<mto::Member> =
        match members.and_then(|items| decode_items(alias, &requests[1].1, items)) {
            Ok(m) if has_mto => m,
            Ok(_) => Vec::new(),
            Err(e) => {
                failures.push((what(requests[1].0), e));
                Vec::new()
            }
        };
    let join_request: Option<mto::JoinRequest> = decode_one(alias, &requests[2].1, join_raw)
        .map_err(|e| failures.push((what(requests[2].0), e)))
        .ok();
    let partner_template: Option<policy::PartnerTemplate> =
        decode_one(alias, &requests[3].1, partner_template_raw)
            .map_err(|e| failures.push((what(requests[3].0), e)))
            .ok();
    let sync_template: Option<policy::IdentitySyncTemplate> =
        decode_one(alias, &requests[4].1, sync_template_raw)
            .map_err(|e| failures.push((what(requests[4].0), e)))
            .ok();
    let partners: Vec<policy::Partner> =
        match collection(client, alias, &requests[5].1, partners_raw).await {
            Ok(p) => p,
            Err(e) => {
                failures.push((what(requests[5].0), e));
                Vec::new()
            }
        };
    let sps: Vec<sync::ServicePrincipal> =
        match collection(client, alias, &requests[6].1, sps_raw).await {
            Ok(s) => s,
            Err(e) => {
                failures.push((what(requests[6].0), e));
                Vec::new()
            }
        };

    let mut principals = PrincipalsObservation::default();
    for ((raw, kind), (label, request)) in lookup_raw
        .into_iter()
        .zip(lookup_kinds)
        .zip(requests[first_lookup..].iter())
    {
        match kind {
            0 | 1 => match collection::<directory::User>(client, alias, request, raw).await {
                Ok(users) => {
                    for user in users.into_iter().filter_map(directory::User::observe) {
                        principals
                            .users_by_upn
                            .insert(user.user_principal_name.to_lowercase(), user.clone());
                        principals.users_by_id.insert(user.id.clone(), user);
                    }
                }
                Err(e) => failures.push((what(label), e)),
            },
            _ => match collection::<directory::Group>(client, alias, request, raw).await {
                Ok(groups) => {
                    for group in groups.into_iter().filter_map(directory::Group::observe) {
                        principals
                            .groups_by_name
                            .entry(group.display_name.clone())
                            .or_default()
                            .push(group.clone());
                        principals.groups_by_id.insert(group.id.clone(), group);
                    }
                }
                Err(e) => failures.push((what(label), e)),
            },
        }
    }
    // A name lookup can return a name in another case; keep only what was asked for, exactly
    // for groups (display names), and drop duplicates an overlapping query returned twice.
    for groups in principals.groups_by_name.values_mut() {
        groups.sort_by(|a, b| a.id.cmp(&b.id));
        groups.dedup();
    }

    // Hints for a plan's errors: not worth a request when the reads already failed.
    if failures.is_empty() {
        suggest_names(client, alias, &want, &mut principals).await;
    }

    // Waves 2 and 3: jobs, assignments and schemas of the configurations the spec declares.
    let declared: Vec<&sync::ServicePrincipal> = sps
        .iter()
        .filter(|sp| {
            sp.display_name
                .as_deref()
                .is_some_and(|n| want.sync_names.contains(&n.to_lowercase()))
        })
        .collect();
    let mut details = read_details(client, alias, &declared, &mut failures).await;
    if failures.is_empty() {
        name_assigned(client, alias, &details, &mut principals).await;
    }
    let mut configurations: Vec<SyncConfigurationObservation> = sps
        .iter()
        .map(|sp| SyncConfigurationObservation {
            service_principal_id: sp.id.clone(),
            app_id: sp.app_id.clone(),
            display_name: sp.display_name.clone().unwrap_or_default(),
            user_app_role_id: sp.user_role_id(),
            // Moved, not copied: a configuration's details hold all its assignments.
            details: details.remove(&sp.id),
        })
        .collect();
    configurations.sort_by(|a, b| {
        (&a.display_name, &a.service_principal_id).cmp(&(&b.display_name, &b.service_principal_id))
    });

    if !failures.is_empty() {
        return Err(failures);
    }
    let (Some(organization), Some(join_request), Some(partner_template), Some(sync_template)) =
        (organization, join_request, partner_template, sync_template)
    else {
        return Err(vec![(
            what("the tenant"),
            GraphError::UnknownTenant(alias.to_owned()),
        )]);
    };
    let members = members
        .into_iter()
        .filter_map(mto::Member::observe)
        .collect();
    let organization: OrganizationObservation = organization.observe(members);
    let organization = if organization.state.is(&MtoState::Inactive) {
        OrganizationObservation {
            members: Vec::new(),
            ..organization
        }
    } else {
        organization
    };
    let join_request: JoinRequestObservation = join_request.observe();
    let partners: BTreeMap<_, PartnerObservation> = partners
        .into_iter()
        .filter_map(policy::Partner::observe)
        .map(|p| (p.tenant_id.clone(), p))
        .collect();
    Ok(TenantObservation {
        tenant_id: tenant.tenant_id.clone(),
        organization,
        join_request,
        templates: TemplatesObservation {
            partner: partner_template.observe(),
            identity_sync: sync_template.observe(),
        },
        partners,
        sync_configurations: configurations,
        principals,
    })
}

/// Looks up, by id, the users and groups assigned to the declared configurations that the spec
/// does not name (those a plan takes out of a scope), so that a principal is named the same way
/// whether it comes or goes: by UPN or group name, not by the display name an assignment
/// carries. A converged world has none to look up. A failed look-up leaves the display name.
async fn name_assigned(
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
    let answers = client.send_all(alias, &requests).await;
    for (i, (request, answer)) in requests.iter().zip(answers).enumerate() {
        if i < user_paths.len() {
            let Ok(found) = collection::<directory::User>(client, alias, request, answer).await
            else {
                continue;
            };
            for user in found.into_iter().filter_map(directory::User::observe) {
                principals.users_by_id.insert(user.id.clone(), user);
            }
        } else {
            let Ok(found) = collection::<directory::Group>(client, alias, request, answer).await
            else {
                continue;
            };
            for group in found.into_iter().filter_map(directory::Group::observe) {
                principals.groups_by_id.insert(group.id.clone(), group);
            }
        }
    }
}

/// For the names the spec uses that `principals` did not find, the tenant's names that start
/// like them (the first page only: these are hints for a message, not state, so a failed
/// look-up leaves no hint rather than failing the read).
async fn suggest_names(
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

/// Jobs and assignments (wave 2), then schemas (wave 3), for the given configurations.
pub(crate) async fn read_details(
    client: &GraphClient,
    alias: &str,
    declared: &[&sync::ServicePrincipal],
    failures: &mut Failures,
) -> BTreeMap<String, SyncConfigurationDetails> {
    let mut out = BTreeMap::new();
    if declared.is_empty() {
        return out;
    }
    let mut requests = Vec::new();
    for sp in declared {
        requests.push(GraphRequest::get(sync::jobs_path(&sp.id)));
        requests.push(GraphRequest::get(sync::assignments_path(&sp.id)));
    }
    let answers = client.send_all(alias, &requests).await;
    // Every collection's further pages together: one configuration after another, a hub's
    // 99 configurations of 1,000 assignments took 99 round trips for their second pages.
    let firsts = requests
        .iter()
        .zip(answers)
        .map(|(request, answer)| (request, answer.map(|r| r.body)))
        .collect();
    let mut pages = client.follow_all_pages(alias, firsts).await.into_iter();
    let mut jobs_by_sp = Vec::new();
    for (i, sp) in declared.iter().enumerate() {
        let label = |what: &str| {
            format!(
                "tenant {alias}: {what} of sync configuration `{}`",
                sp.display_name.as_deref().unwrap_or(&sp.id)
            )
        };
        let (Some(jobs), Some(assignments)) = (pages.next(), pages.next()) else {
            break;
        };
        let jobs: Vec<sync::Job> =
            match jobs.and_then(|items| decode_items(alias, &requests[2 * i], items)) {
                Ok(j) => j,
                Err(e) => {
                    failures.push((label("the jobs"), e));
                    continue;
                }
            };
        let assignments: Vec<sync::Assignment> =
            match assignments.and_then(|items| decode_items(alias, &requests[2 * i + 1], items)) {
                Ok(a) => a,
                Err(e) => {
                    failures.push((label("the assignments"), e));
                    continue;
                }
            };
        jobs_by_sp.push((sp, jobs, assignments));
    }
    let schema_requests: Vec<GraphRequest> = jobs_by_sp
        .iter()
        .flat_map(|(sp, jobs, _)| {
            jobs.iter()
                .map(|j| GraphRequest::get(sync::schema_path(&sp.id, &j.id)))
        })
        .collect();
    let mut schemas = client.send_all(alias, &schema_requests).await.into_iter();
    for (sp, jobs, assignments) in jobs_by_sp {
        let mut observed_jobs = Vec::new();
        for job in jobs {
            let schema = match schemas.next() {
                Some(Ok(mut r)) => match serde_json::from_value::<sync::Schema>({
                    printable(&mut r.body);
                    r.body
                }) {
                    Ok(s) => Some(s),
                    Err(e) => {
                        failures.push((
                            format!("tenant {alias}: the schema of job {}", job.id),
                            GraphError::Decode {
                                tenant: alias.to_owned(),
                                method: "GET".into(),
                                path: sync::schema_path(&sp.id, &job.id),
                                reason: e.to_string(),
                            },
                        ));
                        None
                    }
                },
                Some(Err(e)) => {
                    failures.push((format!("tenant {alias}: the schema of job {}", job.id), e));
                    None
                }
                None => None,
            };
            observed_jobs.push(job.observe(schema));
        }
        let mut assignments: Vec<_> = assignments
            .into_iter()
            .filter_map(sync::Assignment::observe)
            .collect();
        assignments.sort_by(|a, b| (&a.principal_id, &a.id).cmp(&(&b.principal_id, &b.id)));
        out.insert(
            sp.id.clone(),
            SyncConfigurationDetails {
                jobs: observed_jobs,
                assignments,
            },
        );
    }
    out
}

pub(crate) fn decode_one<T: DeserializeOwned>(
    alias: &str,
    request: &GraphRequest,
    raw: Result<GraphResponse, GraphError>,
) -> Result<T, GraphError> {
    let mut body = raw?.body;
    printable(&mut body);
    serde_json::from_value(body).map_err(|e| decode_error(alias, request, e))
}

/// A collection with all its pages, decoded item by item.
pub(crate) async fn collection<T: DeserializeOwned>(
    client: &GraphClient,
    alias: &str,
    request: &GraphRequest,
    raw: Result<GraphResponse, GraphError>,
) -> Result<Vec<T>, GraphError> {
    let items = client.follow_pages(alias, request, raw?.body).await?;
    decode_items(alias, request, items)
}

fn decode_items<T: DeserializeOwned>(
    alias: &str,
    request: &GraphRequest,
    items: Vec<Value>,
) -> Result<Vec<T>, GraphError> {
    items
        .into_iter()
        .map(|mut item| {
            printable(&mut item);
            serde_json::from_value(item).map_err(|e| decode_error(alias, request, e))
        })
        .collect()
}

/// Replaces control characters in every string of an answer with U+FFFD. What is observed is
/// shown to people (plans, status, errors, CI logs), and names come from other tenants' admins:
/// a carriage return, a newline or an escape sequence in a display name would let them forge or
/// hide lines of a plan. No name Graph holds needs one.
pub fn printable(value: &mut Value) {
    match value {
        // Control characters are C0 (bytes below 0x20), DEL (0x7F) and C1 (U+0080 to U+009F,
        // 0xC2 then 0x80 to 0x9F in UTF-8): a string without those bytes has none, and most
        // strings are checked by their bytes alone (a converged plan reads millions).
        Value::String(text)
            if text.bytes().any(|b| b < 0x20 || b == 0x7F || b == 0xC2)
                && text.chars().any(char::is_control) =>
        {
            *text = text
                .chars()
                .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
                .collect();
        }
        Value::Array(items) => items.iter_mut().for_each(printable),
        Value::Object(map) => map.values_mut().for_each(printable),
        _ => {}
    }
}

pub(crate) fn decode_error(
    alias: &str,
    request: &GraphRequest,
    e: serde_json::Error,
) -> GraphError {
    GraphError::Decode {
        tenant: alias.to_owned(),
        method: request.method.to_string(),
        path: request.path.clone(),
        reason: e.to_string(),
    }
}

/// Object ids are compared canonically; exposed for the planner's lookups.
pub fn canonical_id(text: &str) -> Option<Guid> {
    Guid::parse(text)
}
