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
//! Here: [`explain`] assembling each direction's trace from what was read
//! (`mtoctl_model::trace`); `report` holds the answer's types, `verdict` judges a direction and words its summary, `notes` adds the facts
//! beside the verdict, `filter` evaluates the scoping filter.

mod filter;
mod notes;
mod report;
mod verdict;

#[cfg(test)]
mod tests;

use mtoctl_model::DesiredState;
use mtoctl_model::desired::SyncSpec;
use mtoctl_model::observed::{AssignmentObservation, ObservedState};
use mtoctl_model::trace::{
    Attribute, DirectionObservation, ProvisioningEvent, SourceUser, TargetUser, TraceObservation,
};

pub use filter::evaluate;
use notes::notes;
pub use report::{
    ClauseTrace, DirectionTrace, FilterGroupTrace, FilterTrace, ScopeTrace, TraceReport, Verdict,
};
use verdict::judge;

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
