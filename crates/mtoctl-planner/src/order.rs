//! Ordering: a fixed phase per kind of operation, explicit dependencies, and a deterministic
//! topological sort.
//!
//! Graph's rules (graph-reference §10.3) are encoded in two places. The phase table below
//! gives the order in which independent actions run and is the sort's first tie-break, so a
//! plan reads top to bottom like Microsoft's walkthrough. Dependencies that matter for
//! correctness (join after add, validation after the target allowed inbound sync, …) are
//! explicit `depends_on` edges set by the diff modules; the phase order never replaces them.

use std::collections::BTreeSet;

use crate::report::PlanError;
use mtoctl_model::plan::Operation;

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
    /// Delete the accounts sync made (`destroy --remove-synced-users`), its job paused first
    /// and its configuration deleted after.
    DeleteSyncedUsers,
    /// Delete sync configurations the spec no longer declares.
    DeleteSyncConfiguration,
    /// Delete identity sync policies (before their partner configuration).
    DeleteIdentitySync,
    /// Delete partner configurations.
    DeletePartner,
    /// Demote and remove members.
    MemberRemoval,
    /// Reset the MTO policy templates (`destroy`): last, the reverse of their setting.
    ResetTemplates,
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
            Operation::DeleteSyncedUser { .. } => Phase::DeleteSyncedUsers,
            Operation::DeleteSyncConfiguration { .. } => Phase::DeleteSyncConfiguration,
            Operation::DeleteIdentitySync { .. } => Phase::DeleteIdentitySync,
            Operation::DeletePartner { .. } => Phase::DeletePartner,
            Operation::RemoveMember { .. } => Phase::MemberRemoval,
            Operation::ResetPartnerTemplate | Operation::ResetIdentitySyncTemplate => {
                Phase::ResetTemplates
            }
            Operation::WaitForJoin { .. }
            | Operation::WaitForRole { .. }
            | Operation::WaitForRemoval { .. } => Phase::Wait,
        }
    }
}

/// The sort key of a node: phase, then tenant alias, then address, then operation; nodes equal
/// in all four keep the order they were given in.
pub(crate) type SortKey<'a> = (Phase, &'a str, &'a str, &'a str);

/// How a node is named in a bug report: its address and operation.
fn name(node: &Node<'_>) -> String {
    format!("{} ({})", node.key.2, node.key.3)
}

/// One node to sort: its sort key and the positions (in the slice given to [`sort`]) of the
/// nodes it depends on.
pub(crate) struct Node<'a> {
    pub key: SortKey<'a>,
    pub deps: Vec<usize>,
}

/// Sorts nodes topologically (Kahn), choosing among ready nodes the smallest sort key, so the
/// result depends only on the inputs. Returns the nodes' positions in order, or a bug error
/// naming the nodes of a cycle or an edge to a missing node.
///
/// Positions, not keys: a plan of 200,000 assignments sorted by key strings held three more
/// copies of every key while it sorted, the planner's peak of memory.
pub(crate) fn sort(nodes: &[Node<'_>]) -> Result<Vec<usize>, PlanError> {
    let mut indegree = vec![0_usize; nodes.len()];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (i, node) in nodes.iter().enumerate() {
        for &dep in &node.deps {
            let Some(of_dep) = dependents.get_mut(dep) else {
                return Err(PlanError::Bug {
                    message: format!(
                        "action {} depends on node {dep}, which is not in the plan",
                        name(node)
                    ),
                });
            };
            of_dep.push(i);
            indegree[i] += 1;
        }
    }
    // The position is the last tie-break: equal keys go in the order given.
    let mut ready: BTreeSet<(&SortKey<'_>, usize)> = indegree
        .iter()
        .enumerate()
        .filter(|(_, d)| **d == 0)
        .map(|(i, _)| (&nodes[i].key, i))
        .collect();
    let mut order = Vec::with_capacity(nodes.len());
    while let Some((_, i)) = ready.pop_first() {
        order.push(i);
        for &dependent in &dependents[i] {
            indegree[dependent] -= 1;
            if indegree[dependent] == 0 {
                ready.insert((&nodes[dependent].key, dependent));
            }
        }
    }
    if order.len() != nodes.len() {
        let stuck: Vec<String> = indegree
            .iter()
            .enumerate()
            .filter(|(_, d)| **d > 0)
            .map(|(i, _)| name(&nodes[i]))
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

    fn node<'a>(phase: Phase, addr: &'a str, deps: &[usize]) -> Node<'a> {
        Node {
            key: (phase, "t", addr, "op"),
            deps: deps.to_vec(),
        }
    }

    fn names<'a>(nodes: &[Node<'a>], order: &[usize]) -> Vec<&'a str> {
        order.iter().map(|&i| nodes[i].key.2).collect()
    }

    #[test]
    fn dependencies_beat_phases_and_ties_break_by_phase_then_address() {
        let nodes = [
            node(Phase::Templates, "b", &[2]),
            node(Phase::Templates, "a", &[]),
            node(Phase::Wait, "z", &[]),
            node(Phase::Organization, "c", &[]),
        ];
        let order = sort(&nodes).expect("sorts");
        assert_eq!(names(&nodes, &order), ["a", "c", "z", "b"]);
    }

    #[test]
    fn cycles_are_reported_as_bugs() {
        let nodes = [
            node(Phase::Templates, "a", &[1]),
            node(Phase::Templates, "b", &[0]),
        ];
        let err = sort(&nodes).expect_err("cycle");
        assert!(
            matches!(err, PlanError::Bug { ref message } if message.contains("cycle among a (op), b (op)"))
        );
    }

    #[test]
    fn an_edge_to_a_missing_node_is_a_bug() {
        let nodes = [node(Phase::Templates, "a", &[7])];
        let err = sort(&nodes).expect_err("missing");
        assert!(
            matches!(err, PlanError::Bug { ref message } if message.contains("not in the plan"))
        );
    }

    #[test]
    fn nodes_equal_in_every_key_keep_the_order_given() {
        let nodes = [
            node(Phase::Templates, "same", &[]),
            node(Phase::Templates, "same", &[]),
            node(Phase::Templates, "same", &[]),
        ];
        assert_eq!(sort(&nodes).expect("sorts"), [0, 1, 2]);
    }
}
