//! `collect`: the live state of every tenant of a spec, read in parallel.
//!
//! Per tenant, in waves of `$batch` calls: (1) the MTO, its members, the join request, both
//! templates, every partner with its identity sync policy expanded, the sync configurations
//! (service principals of the template) and the names the spec's scopes use, resolved with `in`
//! filters of 15; (2) the jobs and assignments of the configurations the spec declares; (3) the
//! jobs' schemas, asked for as soon as the jobs are read, while the assignment pages come.
//! Waves 2 and 3 of a configuration an earlier run saw ([`KnownIds`]) go out with wave 1, by
//! the ids it saw, and are kept only where wave 1 and the jobs read confirm those ids.
//! Tenants are read concurrently. Any read that fails is an error naming the tenant and the
//! object: a failure is never taken for "absent".
//!
//! Here: what one tenant's reads need from the spec, and the reads of all tenants together.
//! `tenant` reads one tenant, `details` the jobs, assignments and schemas of its
//! configurations, `principals` the names of principals assigned by id and hints for names not
//! found, and `decode` turns answers into wire types, printable (straight from their JSON
//! text here; from JSON trees for the other readers).

mod decode;
mod details;
mod principals;
mod tenant;

use std::collections::{BTreeMap, BTreeSet};

use mtoctl_model::desired::{DesiredState, GroupRef, UserRef};
use mtoctl_model::ids::Alias;
use mtoctl_model::known::{KnownConfiguration, KnownIds};
use mtoctl_model::observed::ObservedState;

use crate::error::GraphError;
use crate::transport::GraphClient;
use tenant::collect_tenant;

pub use decode::{canonical_id, printable};
pub(crate) use decode::{collection, decode_one};
pub(crate) use details::{Ahead, read_details, read_templates};

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
    collect_knowing(client, desired, &KnownIds::default()).await
}

/// [`collect`], asking for the details of the configurations `known` names (by the ids an
/// earlier run saw) in the same wave as the read that finds them. What is read is the same
/// whatever `known` holds: an id that no longer matches is read again the usual way.
pub async fn collect_knowing(
    client: &GraphClient,
    desired: &DesiredState,
    known: &KnownIds,
) -> Result<ObservedState, CollectError> {
    let mut reads = tokio::task::JoinSet::new();
    for (i, t) in desired.tenants.iter().enumerate() {
        let mut want = wanted(desired, &t.alias);
        want.known = known
            .configurations(&t.tenant_id, &want.sync_names)
            .cloned()
            .collect();
        let read = collect_tenant(client.clone(), want, t.clone());
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
    /// Those of them whose mappings are reset to their template's (`resetMappings`).
    reset_names: BTreeSet<String>,
    /// Those of them an earlier run saw, with their ids.
    known: Vec<KnownConfiguration>,
}

fn wanted(desired: &DesiredState, tenant: &Alias) -> Wanted {
    // Borrowed until the end: a tenant's syncs to its partners often list the same principals,
    // so each name is copied once rather than once per sync.
    let mut upns = BTreeSet::<&str>::new();
    let mut user_ids = BTreeSet::new();
    let mut group_names = BTreeSet::<&str>::new();
    let mut group_ids = BTreeSet::new();
    let mut sync_names = BTreeSet::new();
    let mut reset_names = BTreeSet::new();
    for s in desired.syncs.iter().filter(|s| &s.from == tenant) {
        sync_names.insert(s.name.to_lowercase());
        if s.reset_mappings {
            reset_names.insert(s.name.to_lowercase());
        }
        for u in &s.scope.users {
            match u {
                UserRef::UserPrincipalName(upn) => upns.insert(upn),
                UserRef::ObjectId(id) => user_ids.insert(id),
            };
        }
        for g in &s.scope.groups {
            match g {
                GroupRef::DisplayName(name) => group_names.insert(name),
                GroupRef::ObjectId(id) => group_ids.insert(id),
            };
        }
    }
    Wanted {
        upns: upns.into_iter().map(str::to_owned).collect(),
        user_ids: user_ids.into_iter().map(ToString::to_string).collect(),
        group_names: group_names.into_iter().map(str::to_owned).collect(),
        group_ids: group_ids.into_iter().map(ToString::to_string).collect(),
        sync_names,
        reset_names,
        known: Vec::new(),
    }
}

pub(crate) type Failures = Vec<(String, GraphError)>;
