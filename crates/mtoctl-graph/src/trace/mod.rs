//! `trace`: what `mtoctl status --user UPN` reads about one person after `collect`, to say why
//! they are or are not (correctly) in another tenant.
//!
//! Reads, all bounded:
//! - in every source tenant of the spec's syncs, concurrently: the user, by UPN, with the
//!   attributes the jobs' scoping filters name (one request per tenant);
//! - in each source tenant that has them: the direct members of the configurations' assigned
//!   groups (`$batch`ed, 999 a page, at most [`MAX_GROUPS`] groups and [`MAX_MEMBER_PAGES`]
//!   pages each, a group left as soon as the user is found in it). Cross-tenant sync scopes
//!   only direct members of assigned groups, so nested groups are not read;
//! - per direction: the job's latest provisioning events for the user (`GET
//!   /auditLogs/provisioning` filtered on `jobId` and `sourceIdentity/id`, both documented
//!   `eq` filters, at most [`EVENTS`]), and the user's copy in the target, found by the `#EXT#`
//!   UPN cross-tenant sync gives it (as `health` finds copies), or else by the target id an
//!   event names.
//!
//! A user that no source tenant has is [`TraceError::NotFound`], with the source users whose
//! UPN starts like it, closest first. A failed read is an error naming the tenant and the
//! object, except the provisioning events: a tenant may not grant `AuditLog.Read.All`, and
//! the scope can be judged without them, so why they could not be read is kept instead.
//!
//! It does not judge: the planner's `trace` module does.
//!
//! Here: [`read`], which fills `mtoctl_model::trace`'s types: it runs the reads and puts them together; `source`
//! finds the user in the source tenants, `memberships` checks the assigned groups, `direction`
//! reads each direction's events and copies, whose answers `answers` decodes.

mod answers;
mod direction;
mod memberships;
mod source;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use futures_util::future::join_all;
use mtoctl_model::DesiredState;
use mtoctl_model::desired::SyncSpec;
use mtoctl_model::ids::Alias;
use mtoctl_model::observed::{ObservedState, SyncConfigurationObservation};
use mtoctl_model::trace::{DirectionObservation, SourceUser, TraceObservation};

use crate::collect::CollectError;
use crate::error::GraphError;
use crate::transport::{GraphClient, GraphRequest};
use direction::read_direction;
use memberships::{assigned_groups, memberships};
use source::{filter_attributes, find_user, suggest};

/// Provisioning events read per direction (the newest).
pub const EVENTS: usize = 10;

/// Assigned groups whose members are checked, per source tenant.
pub const MAX_GROUPS: usize = 50;

/// Pages of 999 members read per assigned group before it is left unchecked.
pub const MAX_MEMBER_PAGES: usize = 20;

/// UPNs suggested for a user no source tenant has.
pub const SUGGESTIONS: usize = 3;

/// Why a trace could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// No source tenant has the user.
    #[error("{}", not_found(.upn, .tenants, .suggestions))]
    NotFound {
        /// The UPN asked about.
        upn: String,
        /// The source tenants looked in.
        tenants: Vec<Alias>,
        /// Their users with the closest UPNs.
        suggestions: Vec<String>,
    },
    /// The spec has no sync direction.
    #[error("the spec declares no sync, so no tenant provisions {0} anywhere")]
    NoSync(String),
    /// A read failed.
    #[error(transparent)]
    Read(#[from] CollectError),
}

fn not_found(upn: &str, tenants: &[Alias], suggestions: &[String]) -> String {
    let names: Vec<&str> = tenants.iter().map(Alias::as_str).collect();
    let tenants = match names.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    };
    let kind = if names.len() == 1 {
        "the source tenant"
    } else {
        "the source tenants"
    };
    let mut text = format!("{upn} is not a user of {tenants} ({kind} of the spec's syncs)");
    if !suggestions.is_empty() {
        text.push_str(&format!("; did you mean {}?", suggestions.join(", ")));
    }
    text
}

type Failures = Vec<(String, GraphError)>;

/// Reads what explains where `upn` stands in each sync direction from a tenant that has them.
pub async fn read(
    client: &GraphClient,
    desired: &DesiredState,
    observed: &ObservedState,
    upn: &str,
) -> Result<TraceObservation, TraceError> {
    let upn = upn.trim();
    let mut sources: Vec<&Alias> = Vec::new();
    for s in &desired.syncs {
        if !sources.contains(&&s.from) {
            sources.push(&s.from);
        }
    }
    if sources.is_empty() {
        return Err(TraceError::NoSync(upn.to_owned()));
    }
    let lookups = join_all(sources.iter().map(|alias| {
        let attributes = filter_attributes(desired, observed, alias);
        find_user(client, alias, upn, attributes)
    }))
    .await;
    let mut failures = Vec::new();
    let mut users = Vec::new();
    for (alias, found) in sources.iter().zip(lookups) {
        match found {
            Ok(Some(user)) => users.push(user),
            Ok(None) => {}
            Err(e) => failures.push((format!("tenant {alias}: the user {upn}"), e)),
        }
    }
    if !failures.is_empty() {
        return Err(CollectError { failures }.into());
    }
    if users.is_empty() {
        return Err(TraceError::NotFound {
            upn: upn.to_owned(),
            suggestions: suggest(client, &sources, upn).await,
            tenants: sources.into_iter().cloned().collect(),
        });
    }
    let syncs: Vec<(&SyncSpec, &SourceUser)> = desired
        .syncs
        .iter()
        .filter_map(|s| Some((s, users.iter().find(|u| u.tenant == s.from)?)))
        .collect();
    let memberships = join_all(users.iter().map(|user| {
        let groups = assigned_groups(observed, desired, &user.tenant);
        memberships(client, user, groups)
    }));
    let per_direction = join_all(
        syncs
            .iter()
            .map(|(sync, user)| read_direction(client, observed, sync, user)),
    );
    let (memberships, per_direction) = futures_util::future::join(memberships, per_direction).await;
    let mut by_tenant = BTreeMap::new();
    for (user, read) in users.iter().zip(memberships) {
        match read {
            Ok(m) => {
                by_tenant.insert(user.tenant.clone(), m);
            }
            Err(mut f) => failures.append(&mut f),
        }
    }
    let mut directions = Vec::new();
    for ((sync, _), read) in syncs.iter().zip(per_direction) {
        let (events, copies) = match read {
            Ok(r) => r,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        let (member_of, unchecked) = by_tenant.get(&sync.from).cloned().unwrap_or_default();
        let configuration = configuration(observed, sync);
        let assigned = |id: &String| {
            configuration.is_some_and(|c| {
                c.details
                    .iter()
                    .flat_map(|d| &d.assignments)
                    .any(|a| a.principal_id.as_str().eq_ignore_ascii_case(id))
            })
        };
        directions.push(DirectionObservation {
            from: sync.from.clone(),
            to: sync.to.clone(),
            name: sync.name.clone(),
            member_of: member_of.iter().filter(|g| assigned(g)).cloned().collect(),
            unchecked_groups: unchecked.iter().filter(|g| assigned(g)).cloned().collect(),
            events,
            copies,
        });
    }
    if !failures.is_empty() {
        return Err(CollectError { failures }.into());
    }
    Ok(TraceObservation {
        user_principal_name: upn.to_owned(),
        sources: users,
        directions,
    })
}

fn configuration<'a>(
    observed: &'a ObservedState,
    sync: &SyncSpec,
) -> Option<&'a SyncConfigurationObservation> {
    observed
        .tenants
        .get(&sync.from)?
        .sync_configurations
        .iter()
        .find(|c| c.display_name.eq_ignore_ascii_case(&sync.name))
}

fn decode_error(alias: &str, request: &GraphRequest, reason: &str) -> GraphError {
    GraphError::Decode {
        tenant: alias.to_owned(),
        method: request.method.to_string(),
        path: request.path.clone(),
        reason: reason.to_owned(),
    }
}
