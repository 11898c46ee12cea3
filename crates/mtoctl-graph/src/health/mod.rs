//! `health`: what `mtoctl status` reads after `collect` — each declared sync direction's job
//! status, the users assigned to it in the source (a sample, or all of them), and their copies
//! in the target with the properties that make a copy work there.
//!
//! Per direction, in the source, one `$batch`: the job, the users the spec names (by id, `in`
//! filters of 15) and the members of the groups its scope names (or, for a scope of every user,
//! the tenant's members); a sample reads the first few, `--all-users` every page up to
//! [`ALL_USERS_LIMIT`] users, the next pages of all groups read together. In the target, the
//! copies of those users, found by the UPN cross-tenant sync gives them
//! (`alice_contoso.com#EXT#@…`): exactly with `in` filters of 15 when the spec gives the
//! target's domain, then with `startswith` (5 to a request) for those not found that way, all
//! packed into `$batch` calls. For a direction that provisions its groups as groups, `groups`
//! then reads each group in both tenants. Nothing is read without a bound. Any read that fails
//! is an error naming the tenant and the object, as in `collect`.
//!
//! It does not judge health: the planner's `status` module does.
//!
//! Here: the directions and [`read`]; `source` reads a direction's job and users in the
//! source, `pages` follows their lists' pages within the bound, `copies` finds the copies in
//! the target, `groups` the groups provisioned as groups, `job` sums up a job's status.

mod copies;
mod groups;
mod job;
mod pages;
mod source;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use futures_util::future::join_all;
use mtoctl_model::DesiredState;
use mtoctl_model::desired::{GroupRef, SyncSpec, UserRef};
use mtoctl_model::health::{Coverage, HealthObservation, SyncHealthObservation};
use mtoctl_model::observed::ObservedState;

use crate::collect::CollectError;
use crate::error::GraphError;
use crate::transport::GraphClient;
use crate::wire::directory::in_filter_paths;
pub use copies::copy_prefix;
pub(crate) use copies::read_copies;
use groups::{provisions_groups, read_groups};
pub(crate) use job::job_health;
use source::read_source;
pub(crate) use source::{source_select, source_user};

/// Users looked up per sync direction by default: enough to show that provisioning works, few
/// enough to read in one round trip.
pub const SAMPLE_SIZE: usize = 5;

/// Groups whose first members are read for the sample, per direction.
const SAMPLE_GROUPS: usize = 2;

/// The most users `--all-users` reads per direction; past it, the first ones are checked and
/// the report says it stopped.
pub const ALL_USERS_LIMIT: usize = 10_000;

/// A declared direction whose configuration and job exist.
pub(crate) struct Direction<'a> {
    pub(crate) sync: &'a SyncSpec,
    pub(crate) service_principal: String,
    pub(crate) job: String,
    /// Object ids of the users the spec names, as `collect` resolved them.
    named: Vec<String>,
    /// Object ids of the groups its scope names.
    groups: Vec<String>,
    /// The groups it provisions as groups (see `groups::provisions_groups`): object id and
    /// display name, in the order of the spec's scope.
    provisioned_groups: Vec<(String, String)>,
}

/// Reads the health of every declared sync direction whose configuration has a job, with a
/// sample of its users ([`Coverage::Sample`]) or all of them ([`Coverage::All`]).
pub async fn read(
    client: &GraphClient,
    desired: &DesiredState,
    observed: &ObservedState,
    coverage: Coverage,
) -> Result<HealthObservation, CollectError> {
    let directions = directions(desired, observed);
    let sources = join_all(directions.iter().map(|d| read_source(client, d, coverage))).await;
    let mut failures = Vec::new();
    let mut read = Vec::new();
    for (d, result) in directions.iter().zip(sources) {
        match result {
            Ok(found) => read.push((d, found)),
            Err(mut f) => failures.append(&mut f),
        }
    }
    let targets = join_all(read.iter().map(|(d, found)| async move {
        let copies = read_copies(client, desired, d.sync, &found.users).await;
        let groups = read_groups(client, desired, d, found.group_members.as_deref()).await;
        (copies, groups)
    }))
    .await;
    let mut syncs = Vec::new();
    for ((d, found), (copies, groups)) in read.into_iter().zip(targets) {
        match (copies, groups) {
            (Ok(provisioned), Ok(groups)) => syncs.push(SyncHealthObservation {
                from: d.sync.from.clone(),
                to: d.sync.to.clone(),
                job: found.job,
                coverage,
                users: found.users,
                truncated: found.truncated,
                provisioned,
                on_demand: Vec::new(),
                groups,
            }),
            (copies, groups) => {
                failures.extend(copies.err());
                failures.extend(groups.err().into_iter().flatten());
            }
        }
    }
    if failures.is_empty() {
        Ok(HealthObservation { syncs })
    } else {
        Err(CollectError { failures })
    }
}

/// The declared directions whose configuration has a job, in spec order.
pub(crate) fn directions<'a>(
    desired: &'a DesiredState,
    observed: &ObservedState,
) -> Vec<Direction<'a>> {
    desired
        .syncs
        .iter()
        .filter_map(|s| direction(s, observed))
        .collect()
}

fn direction<'a>(sync: &'a SyncSpec, observed: &ObservedState) -> Option<Direction<'a>> {
    let tenant = observed.tenants.get(&sync.from)?;
    let configuration = tenant
        .sync_configurations
        .iter()
        .find(|c| c.display_name.eq_ignore_ascii_case(&sync.name))?;
    let job = configuration.details.as_ref()?.jobs.first()?.id.clone();
    let principals = &tenant.principals;
    let mut seen = BTreeSet::new();
    let named = sync
        .scope
        .users
        .iter()
        .filter_map(|u| match u {
            UserRef::UserPrincipalName(_) => principals.user(u).map(|u| u.id.to_string()),
            UserRef::ObjectId(id) => Some(id.to_string()),
        })
        .filter(|id| seen.insert(id.clone()))
        .collect();
    let mut provisioned_groups: Vec<(String, String)> = Vec::new();
    if provisions_groups(sync, observed) {
        for found in sync.scope.groups.iter().flat_map(|g| principals.groups(g)) {
            let id = found.id.to_string();
            if !provisioned_groups.iter().any(|(known, _)| known == &id) {
                provisioned_groups.push((id, found.display_name.clone()));
            }
        }
    }
    let groups = sync
        .scope
        .groups
        .iter()
        .flat_map(|g| match g {
            GroupRef::DisplayName(_) => principals
                .groups(g)
                .iter()
                .map(|found| found.id.to_string())
                .collect::<Vec<_>>(),
            GroupRef::ObjectId(id) => vec![id.to_string()],
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    Some(Direction {
        sync,
        service_principal: configuration.service_principal_id.clone(),
        job,
        named,
        groups,
        provisioned_groups,
    })
}

type Failures = Vec<(String, GraphError)>;

/// `/users?$filter={property} in (…)&$select=…`, 15 values to a request.
pub(crate) fn users_in_paths(property: &str, values: &[String], select: &str) -> Vec<String> {
    in_filter_paths("/users", property, values, select)
}
