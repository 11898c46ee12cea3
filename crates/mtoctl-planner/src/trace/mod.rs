//! `trace`: why a person is, or is not, (correctly) in another tenant (`mtoctl status -f SPEC
//! --user UPN`). Pure: from the planner's observation and what `mtoctl-graph`'s `trace` read
//! about the user (their attributes and direct memberships of the assigned groups in the
//! source, the latest provisioning events for them, their copy in the target), one verdict per
//! sync direction whose source tenant has the user, with the facts behind it.
//!
//! Scope is judged the way cross-tenant synchronization judges it (graph-reference §6.8):
//! only the source tenant's own members; everyone when the configuration syncs all users,
//! otherwise users assigned directly or as **direct** members of an assigned group (members of
//! nested groups are not in scope); then the job schema's scoping filter as read (groups OR-ed,
//! clauses AND-ed). Clauses follow Entra's scoping-filter documentation: `EQUALS` and
//! `NOT_EQUALS` compare case-sensitively, the `GREATER_THAN` family compares integers; regular
//! expressions are not evaluated here, and a verdict that depends on one says it cannot tell.
//!
//! Verdicts come in this order: not configured; out of scope (a guest, an external user, the
//! scoping filter); not assigned; provisioning failed (the latest event for the user failed,
//! or the job is in quarantine and no copy exists); provisioned (a copy exists in the target);
//! not provisioned yet. Each direction's `summary` is the line a person reads first.
//!
//! Here: what was read, and [`explain`] assembling each direction's trace; `report` holds the
//! answer's types, `verdict` judges a direction and words its summary, `notes` adds the facts
//! beside the verdict, `filter` evaluates the scoping filter.

mod filter;
mod notes;
mod report;
mod verdict;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde::Serialize;

use mtoctl_model::DesiredState;
use mtoctl_model::desired::SyncSpec;
use mtoctl_model::ids::Alias;
use mtoctl_model::observed::{AssignmentObservation, ObservedState};

pub use filter::evaluate;
use notes::notes;
pub use report::{
    ClauseTrace, DirectionTrace, FilterGroupTrace, FilterTrace, ScopeTrace, TraceReport, Verdict,
};
use verdict::judge;

/// What was read about one user for [`explain`] (filled by `mtoctl-graph`'s `trace`).
#[derive(Debug, Clone, PartialEq)]
pub struct TraceObservation {
    /// The user principal name asked about, as given.
    pub user_principal_name: String,
    /// The user in each source tenant that has them.
    pub sources: Vec<SourceUser>,
    /// What was read for each sync direction from those tenants.
    pub directions: Vec<DirectionObservation>,
}

/// The user as their source tenant has them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct SourceUser {
    /// The tenant (each direction names it as `from`).
    #[serde(skip)]
    pub tenant: Alias,
    /// Object id.
    pub id: String,
    /// User principal name.
    pub user_principal_name: String,
    /// Display name.
    pub display_name: Option<String>,
    /// `Member` or `Guest`.
    pub user_type: Option<String>,
    /// Whether the account can sign in.
    pub account_enabled: Option<bool>,
    /// The attributes the scoping filters name, keyed by the filter's attribute name in
    /// lowercase; an attribute that could not be read is absent.
    #[serde(skip)]
    pub attributes: BTreeMap<String, Attribute>,
}

/// A user attribute's value, as the scoping filter sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attribute {
    /// Empty.
    Null,
    /// Text.
    Text(String),
    /// A boolean.
    Bool(bool),
    /// A number, as written.
    Number(String),
}

impl Attribute {
    /// The value as text; `None` when empty.
    fn text(&self) -> Option<String> {
        match self {
            Attribute::Null => None,
            Attribute::Text(s) if s.is_empty() => None,
            Attribute::Text(s) | Attribute::Number(s) => Some(s.clone()),
            Attribute::Bool(b) => Some(b.to_string()),
        }
    }
}

/// What was read for one sync direction.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectionObservation {
    /// Source alias.
    pub from: Alias,
    /// Target alias.
    pub to: Alias,
    /// The configuration's name.
    pub name: String,
    /// Ids of the configuration's assigned groups the user is a direct member of.
    pub member_of: Vec<String>,
    /// Ids of assigned groups whose members were not all checked (too many to read).
    pub unchecked_groups: Vec<String>,
    /// The latest provisioning events of the job for the user, newest first (none when the
    /// configuration has no job); an error saying why they could not be read.
    pub events: Result<Vec<ProvisioningEvent>, String>,
    /// The user's copies in the target (normally none or one).
    pub copies: Vec<TargetUser>,
}

/// One provisioning event (`provisioningObjectSummary`) for the user.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct ProvisioningEvent {
    /// When it happened.
    pub at: Option<String>,
    /// `create`, `update`, `delete`, `disable`, `other`, … as Graph spells it.
    pub action: Option<String>,
    /// `success`, `failure`, `skipped`, `warning`, … as Graph spells it.
    pub status: Option<String>,
    /// Why it failed or was skipped: the failing step's description, or the error's reason.
    pub reason: Option<String>,
    /// The name of the step that failed, if one did.
    pub failing_step: Option<String>,
    /// The target object's id, when known.
    pub target_id: Option<String>,
}

/// The user's copy in the target tenant.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct TargetUser {
    /// Object id.
    pub id: String,
    /// Its UPN (`alice_contoso.com#EXT#@fabrikam.com`).
    pub user_principal_name: String,
    /// `Member` or `Guest`.
    pub user_type: Option<String>,
    /// Whether it can sign in.
    pub account_enabled: Option<bool>,
    /// Whether it shows in the global address list.
    pub show_in_address_list: Option<bool>,
    /// `Invitation` for B2B users.
    pub creation_type: Option<String>,
    /// `Accepted`, `PendingAcceptance`.
    pub external_user_state: Option<String>,
    /// Its identities.
    pub identities: Vec<TargetIdentity>,
}

/// One of a target user's identities (`objectIdentity`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct TargetIdentity {
    /// `federated`, `userPrincipalName`, …
    pub sign_in_type: Option<String>,
    /// The issuer (`ExternalAzureAD`, a domain, …).
    pub issuer: Option<String>,
    /// The id at the issuer.
    pub issuer_assigned_id: Option<String>,
}

/// The verdict for each sync direction of `desired` whose source tenant has the user.
pub fn explain(
    desired: &DesiredState,
    observed: &ObservedState,
    read: &TraceObservation,
) -> TraceReport {
    let directions = desired
        .syncs
        .iter()
        .filter_map(|sync| {
            let user = read.sources.iter().find(|u| u.tenant == sync.from)?;
            let facts = read
                .directions
                .iter()
                .find(|d| d.from == sync.from && d.to == sync.to && d.name == sync.name);
            Some(direction(sync, observed, user, facts))
        })
        .collect();
    TraceReport {
        user_principal_name: read.user_principal_name.clone(),
        directions,
    }
}

fn direction(
    sync: &SyncSpec,
    observed: &ObservedState,
    user: &SourceUser,
    facts: Option<&DirectionObservation>,
) -> DirectionTrace {
    let configuration = observed.tenants.get(&sync.from).and_then(|t| {
        t.sync_configurations
            .iter()
            .find(|c| c.display_name.eq_ignore_ascii_case(&sync.name))
    });
    let details = configuration.and_then(|c| c.details.as_ref());
    let job = details.and_then(|d| d.jobs.first());
    let assignments: &[AssignmentObservation] = details.map_or(&[], |d| &d.assignments);
    let member_of: &[String] = facts.map_or(&[], |f| &f.member_of);
    let unchecked: &[String] = facts.map_or(&[], |f| &f.unchecked_groups);
    let scope = ScopeTrace {
        all_users: sync.scope.all_users,
        direct: assignments
            .iter()
            .any(|a| is_type(a, "User") && same_id(a.principal_id.as_str(), &user.id)),
        groups: group_names(assignments, member_of),
        unchecked_groups: group_names(assignments, unchecked),
        filter: job
            .filter(|j| !j.scoping_filter.is_empty())
            .map(|j| evaluate(&j.scoping_filter, &user.attributes)),
    };
    let (events, events_error) = match facts.map(|f| &f.events) {
        Some(Ok(events)) => (events.clone(), None),
        Some(Err(e)) => (Vec::new(), Some(e.clone())),
        None => (Vec::new(), None),
    };
    let target = facts.and_then(|f| f.copies.first().cloned());
    let mut trace = DirectionTrace {
        from: sync.from.clone(),
        to: sync.to.clone(),
        name: sync.name.clone(),
        verdict: Verdict::Unknown,
        summary: String::new(),
        source: user.clone(),
        scope,
        events,
        events_error,
        target,
        notes: Vec::new(),
    };
    let (verdict, summary) = judge(sync, configuration.is_some(), job, &trace);
    trace.verdict = verdict;
    trace.summary = summary;
    trace.notes = notes(sync, job, &trace, facts.map_or(0, |f| f.copies.len()));
    trace
}

fn is_type(a: &AssignmentObservation, kind: &str) -> bool {
    a.principal_type
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case(kind))
}

fn same_id(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// The names of the assigned groups among `ids`, in assignment order.
fn group_names(assignments: &[AssignmentObservation], ids: &[String]) -> Vec<String> {
    assignments
        .iter()
        .filter(|a| is_type(a, "Group"))
        .filter(|a| ids.iter().any(|id| same_id(id, a.principal_id.as_str())))
        .map(|a| {
            a.principal_display_name
                .clone()
                .unwrap_or_else(|| a.principal_id.to_string())
        })
        .collect()
}
