//! `discover`: everything a set of tenants shows, for `mtoctl export`.
//!
//! [`crate::collect`] reads what a spec declares: the jobs and assignments only of the sync
//! configurations it names, and only the users and groups its scopes name. Export has no spec
//! yet, so discovery reads every configuration of the cross-tenant sync template with its jobs,
//! schemas and assignments, and resolves every assigned principal: users and groups by object
//! id, then every group bearing an assigned group's display name (so an ambiguous name is
//! seen as ambiguous, as the planner would see it).
//!
//! In waves per tenant, tenants concurrently: `collect`'s first wave (organization, members,
//! join request, templates, partners, configurations), its detail waves for every
//! configuration, then the principals. All or nothing, like `collect`: a failed read is an
//! error naming the tenant and the object, never an absent object.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::future::join_all;
use mtoctl_model::desired::{CollaborationSpec, DesiredState, OrganizationSpec, TenantSpec};
use mtoctl_model::observed::{
    ObservedState, PrincipalsObservation, SyncConfigurationDetails, SyncConfigurationObservation,
};

use crate::collect::{
    Ahead, CollectError, Failures, collect, collection, read_details, read_templates,
};
use crate::transport::{GraphClient, GraphRequest};
use crate::wire::{directory, sync};

/// Reads every tenant's organization, templates, partners and every sync configuration with
/// its jobs, schema and assignments, assigned principals resolved.
pub async fn discover(
    client: &GraphClient,
    tenants: &[TenantSpec],
) -> Result<ObservedState, CollectError> {
    // A desired state that declares nothing but the tenants: `collect` then reads exactly its
    // first wave (no configuration is declared, no name is to be resolved).
    let bare = DesiredState {
        organization: OrganizationSpec {
            display_name: String::new(),
            description: None,
        },
        tenants: tenants.to_vec(),
        collaboration: CollaborationSpec {
            manage_templates: false,
            all_pairs: Default::default(),
            pairs: BTreeMap::new(),
        },
        syncs: Vec::new(),
        prune: BTreeSet::new(),
        beta: BTreeSet::new(),
    };
    let mut observed = collect(client, &bare).await?;

    let reads = tenants.iter().map(|t| {
        let configurations = observed
            .tenants
            .get(&t.alias)
            .map(|o| o.sync_configurations.clone())
            .unwrap_or_default();
        async move {
            let alias = t.alias.clone();
            (
                alias,
                discover_tenant(client, t.alias.as_str(), configurations).await,
            )
        }
    });
    let mut failures = Vec::new();
    for (alias, result) in join_all(reads).await {
        match (result, observed.tenants.get_mut(&alias)) {
            (Ok((configurations, principals)), Some(obs)) => {
                obs.sync_configurations = configurations;
                obs.principals = principals;
            }
            (Ok(_), None) => {}
            (Err(mut f), _) => failures.append(&mut f),
        }
    }
    if failures.is_empty() {
        Ok(observed)
    } else {
        Err(CollectError { failures })
    }
}

/// One tenant's configurations with their details, and the principals assigned to them.
async fn discover_tenant(
    client: &GraphClient,
    alias: &str,
    mut configurations: Vec<SyncConfigurationObservation>,
) -> Result<(Vec<SyncConfigurationObservation>, PrincipalsObservation), Failures> {
    let mut failures: Failures = Vec::new();
    // `read_details` needs only ids and names of the service principals it reads.
    let sps: Vec<sync::ServicePrincipal> = configurations
        .iter()
        .map(|c| sync::ServicePrincipal {
            id: c.service_principal_id.clone(),
            app_id: c.app_id.clone(),
            display_name: Some(c.display_name.clone()),
            app_roles: Vec::new(),
        })
        .collect();
    let refs: Vec<&sync::ServicePrincipal> = sps.iter().collect();
    let mut details = read_details(client, alias, &refs, Ahead::default(), &mut failures).await;
    for c in &mut configurations {
        c.details = details.remove(&c.service_principal_id);
    }
    // The template each job was made from: export writes the mappings that differ from it.
    read_templates(client, alias, &mut configurations, |_| true, &mut failures).await;
    if !failures.is_empty() {
        return Err(failures);
    }

    let (user_ids, group_ids) = assigned(&configurations);
    let principals = principals(client, alias, &user_ids, &group_ids, &mut failures).await;
    if failures.is_empty() {
        Ok((configurations, principals))
    } else {
        Err(failures)
    }
}

/// Object ids of the users and of the groups assigned to any configuration.
fn assigned(configurations: &[SyncConfigurationObservation]) -> (Vec<String>, Vec<String>) {
    let mut users = BTreeSet::new();
    let mut groups = BTreeSet::new();
    let assignments = configurations
        .iter()
        .filter_map(|c| c.details.as_ref())
        .flat_map(|d: &SyncConfigurationDetails| d.assignments.iter());
    for a in assignments {
        match a.principal_type.as_deref() {
            Some(t) if t.eq_ignore_ascii_case("Group") => groups.insert(a.principal_id.to_string()),
            Some(t) if t.eq_ignore_ascii_case("ServicePrincipal") => false,
            _ => users.insert(a.principal_id.to_string()),
        };
    }
    (users.into_iter().collect(), groups.into_iter().collect())
}

/// Users and groups by id, then every group named like one of those groups.
async fn principals(
    client: &GraphClient,
    alias: &str,
    user_ids: &[String],
    group_ids: &[String],
    failures: &mut Failures,
) -> PrincipalsObservation {
    let mut out = PrincipalsObservation::default();
    let mut requests: Vec<(bool, GraphRequest)> = directory::users_by_id_paths(user_ids)
        .into_iter()
        .map(|p| (true, GraphRequest::get(p)))
        .collect();
    requests.extend(
        directory::groups_by_id_paths(group_ids)
            .into_iter()
            .map(|p| (false, GraphRequest::get(p))),
    );
    let mut groups = Vec::new();
    read_principals(client, alias, &requests, &mut out, &mut groups, failures).await;

    let names: BTreeSet<String> = groups.iter().map(|g| g.display_name.clone()).collect();
    let names: Vec<String> = names.into_iter().filter(|n| !n.is_empty()).collect();
    let requests: Vec<(bool, GraphRequest)> = directory::groups_by_name_paths(&names)
        .into_iter()
        .map(|p| (false, GraphRequest::get(p)))
        .collect();
    let mut named = Vec::new();
    read_principals(client, alias, &requests, &mut out, &mut named, failures).await;
    for g in groups.into_iter().chain(named) {
        out.groups_by_name
            .entry(g.display_name.clone())
            .or_default()
            .push(g.clone());
        out.groups_by_id.insert(g.id.clone(), g);
    }
    // Overlapping queries return a group more than once.
    for all in out.groups_by_name.values_mut() {
        all.sort_by(|a, b| a.id.cmp(&b.id));
        all.dedup();
    }
    out
}

/// Sends user (`true`) and group (`false`) lookups; users go into `out`, groups into `groups`.
async fn read_principals(
    client: &GraphClient,
    alias: &str,
    requests: &[(bool, GraphRequest)],
    out: &mut PrincipalsObservation,
    groups: &mut Vec<mtoctl_model::observed::GroupObservation>,
    failures: &mut Failures,
) {
    if requests.is_empty() {
        return;
    }
    let plain: Vec<GraphRequest> = requests.iter().map(|(_, r)| r.clone()).collect();
    let answers = client.send_all(alias, &plain).await;
    for ((is_user, request), raw) in requests.iter().zip(answers) {
        if *is_user {
            match collection::<directory::User>(client, alias, request, raw).await {
                Ok(users) => {
                    for user in users.into_iter().filter_map(directory::User::observe) {
                        out.users_by_upn
                            .insert(user.user_principal_name.to_lowercase(), user.clone());
                        out.users_by_id.insert(user.id.clone(), user);
                    }
                }
                Err(e) => failures.push((
                    format!("tenant {alias}: users assigned to sync configurations"),
                    e,
                )),
            }
        } else {
            match collection::<directory::Group>(client, alias, request, raw).await {
                Ok(found) => groups.extend(found.into_iter().filter_map(directory::Group::observe)),
                Err(e) => failures.push((
                    format!("tenant {alias}: groups assigned to sync configurations"),
                    e,
                )),
            }
        }
    }
}
