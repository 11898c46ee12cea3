//! Ordering: a fixed phase per kind of operation, explicit dependencies, and a deterministic
//! topological sort.
//!
//! Graph's rules (graph-reference §10.3) are encoded in two places. The phase table below
//! gives the order in which independent actions run and is the sort's first tie-break, so a
//! plan reads top to bottom like Microsoft's walkthrough. Dependencies that matter for
//! correctness (join after add, validation after the target allowed inbound sync, …) are
//! explicit `depends_on` edges set by the diff modules; the phase order never replaces them.

use std::collections::{BTreeMap, BTreeSet};

use crate::plan::Operation;
use crate::report::PlanError;

/// When an operation runs relative to the others. Deletes come after every create and in the
/// reverse order of the corresponding creates (Terraform's inverted destroy edges): a sync
/// configuration goes before the identity sync policy that allows it, which goes before its
/// partner configuration, which goes before the member leaves. Waits come last, so that
/// everything that does not depend on them runs first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Phase {
    /// MTO policy templates: they act only at join time, so before create and join.
    Templates,
    /// Create or update the organization.
    Organization,
    /// Add members and change roles (owner side).
    Membership,
    /// Reset and submit join requests (member side, own credential).
    Join,
    /// Partner configurations (both sides).
    Partners,
    /// Identity sync policies (target side), after their partner configuration.
    IdentitySync,
    /// Instantiate sync configurations.
    SyncConfiguration,
    /// Validate credentials: needs the target's partner, identity sync and consent.
    SyncCredentials,
    /// Create the job.
    SyncJob,
    /// Write the sync settings (`SyncAll`, target).
    SyncSecrets,
    /// Attribute mappings and scoping filter.
    SyncSchema,
    /// Assign and unassign users and groups.
    SyncAssignments,
    /// Start or pause the job, once everything else is in place.
    SyncRun,
    /// Delete sync configurations the spec no longer declares.
    DeleteSyncConfiguration,
    /// Delete identity sync policies (before their partner configuration).
    DeleteIdentitySync,
    /// Delete partner configurations.
    DeletePartner,
    /// Demote and remove members.
    MemberRemoval,
    /// Wait for asynchronous Graph work.
    Wait,
}

impl Phase {
    /// The phase of an operation: the ordering table.
    pub(crate) fn of(op: &Operation) -> Self {
        match op {
            Operation::PatchPartnerTemplate { .. }
            | Operation::PatchIdentitySyncTemplate { .. } => Phase::Templates,
            Operation::CreateOrganization { .. } | Operation::UpdateOrganization { .. } => {
                Phase::Organization
            }
            Operation::AddMember { .. } => Phase::Membership,
            // Promotions and demotions share a phase; a demotion that must wait for a promotion
            // is deferred rather than ordered (the promotion is asynchronous).
            Operation::ChangeMemberRole { .. } => Phase::Membership,
            Operation::ResetJoin | Operation::SubmitJoin { .. } => Phase::Join,
            Operation::CreatePartner { .. } | Operation::PatchPartner { .. } => Phase::Partners,
            Operation::CreateIdentitySync { .. } | Operation::PatchIdentitySync { .. } => {
                Phase::IdentitySync
            }
            Operation::InstantiateSyncConfiguration { .. } => Phase::SyncConfiguration,
            Operation::ValidateCredentials { .. } => Phase::SyncCredentials,
            Operation::CreateSyncJob { .. } => Phase::SyncJob,
            Operation::PutSyncSecrets { .. } => Phase::SyncSecrets,
            Operation::UpdateSchema { .. } => Phase::SyncSchema,
            Operation::AssignPrincipal { .. } | Operation::RemoveAssignment { .. } => {
                Phase::SyncAssignments
            }
            Operation::StartJob { .. } | Operation::PauseJob { .. } => Phase::SyncRun,
            Operation::DeleteSyncConfiguration { .. } => Phase::DeleteSyncConfiguration,
            Operation::DeleteIdentitySync { .. } => Phase::DeleteIdentitySync,
            Operation::DeletePartner { .. } => Phase::DeletePartner,
            Operation::RemoveMember { .. } => Phase::MemberRemoval,
            Operation::WaitForJoin { .. }
            | Operation::WaitForRole { .. }
            | Operation::WaitForRemoval { .. } => Phase::Wait,
        }
    }
}

/// The sort key of a node: phase, then tenant alias, then address, then the node's unique key.
pub(crate) type SortKey = (Phase, String, String, String);

/// Sorts nodes topologically (Kahn), choosing among ready nodes the smallest sort key, so the
/// result depends only on the inputs. `nodes` maps a unique key to its sort key and the keys
/// it depends on. Returns the keys in order, or a bug error naming the nodes of a cycle or an
/// edge to a missing node.
pub(crate) fn sort(
    nodes: &BTreeMap<String, (SortKey, Vec<String>)>,
) -> Result<Vec<String>, PlanError> {
    let mut indegree: BTreeMap<&str, usize> = BTreeMap::new();
    let mut dependents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (key, (_, deps)) in nodes {
        indegree.entry(key.as_str()).or_insert(0);
        for dep in deps {
            if !nodes.contains_key(dep) {
                return Err(PlanError::Bug {
                    message: format!("action {key} depends on {dep}, which is not in the plan"),
                });
            }
            *indegree.entry(key.as_str()).or_insert(0) += 1;
            dependents
                .entry(dep.as_str())
                .or_default()
                .push(key.as_str());
        }
    }
    let mut ready: BTreeSet<(&SortKey, &str)> = indegree
        .iter()
        .filter(|(_, d)| **d == 0)
        .map(|(k, _)| (&nodes[*k].0, *k))
        .collect();
    let mut order = Vec::with_capacity(nodes.len());
    while let Some(first) = ready.pop_first() {
        let (_, key) = first;
        order.push(key.to_owned());
        for dependent in dependents.get(key).map(Vec::as_slice).unwrap_or_default() {
            let d = indegree.get_mut(dependent).ok_or_else(|| PlanError::Bug {
                message: format!("unknown node {dependent}"),
            })?;
            *d -= 1;
            if *d == 0 {
                ready.insert((&nodes[*dependent].0, dependent));
            }
        }
    }
    if order.len() != nodes.len() {
        let stuck: Vec<&str> = indegree
            .iter()
            .filter(|(_, d)| **d > 0)
            .map(|(k, _)| *k)
            .collect();
        return Err(PlanError::Bug {
            message: format!("dependency cycle among {}", stuck.join(", ")),
        });
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(phase: Phase, addr: &str, deps: &[&str]) -> (SortKey, Vec<String>) {
        (
            (phase, "t".into(), addr.into(), addr.into()),
            deps.iter().map(|d| (*d).to_owned()).collect(),
        )
    }

    #[test]
    fn dependencies_beat_phases_and_ties_break_by_phase_then_address() {
        let mut nodes = BTreeMap::new();
        nodes.insert("b".to_owned(), node(Phase::Templates, "b", &["z"]));
        nodes.insert("a".to_owned(), node(Phase::Templates, "a", &[]));
        nodes.insert("z".to_owned(), node(Phase::Wait, "z", &[]));
        nodes.insert("c".to_owned(), node(Phase::Organization, "c", &[]));
        assert_eq!(sort(&nodes).expect("sorts"), ["a", "c", "z", "b"]);
    }

    #[test]
    fn cycles_are_reported_as_bugs() {
        let mut nodes = BTreeMap::new();
        nodes.insert("a".to_owned(), node(Phase::Templates, "a", &["b"]));
        nodes.insert("b".to_owned(), node(Phase::Templates, "b", &["a"]));
        let err = sort(&nodes).expect_err("cycle");
        assert!(matches!(err, PlanError::Bug { ref message } if message.contains("cycle")));
    }
}
