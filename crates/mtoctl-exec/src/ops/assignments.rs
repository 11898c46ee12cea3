//! The users and groups assigned to configurations: one at a time, or many in one tenant as a
//! group (`$batch`).

use mtoctl_graph::objects::assignments::{self, NewAssignment};
use mtoctl_graph::transport::GraphClient;
use mtoctl_model::plan::Operation;

use super::{OpError, Resolve, Step, done, object, step};

/// Carries out one assignment or removal.
pub(super) async fn run(
    c: &GraphClient,
    t: &str,
    op: &Operation,
    refs: &(dyn Resolve + Sync),
) -> Result<Step, OpError> {
    Ok(match op {
        Operation::AssignPrincipal {
            configuration,
            app_role,
            principal_id,
            ..
        } => {
            let sp = object(refs, configuration)?;
            let role = refs.role(app_role)?;
            let principal = principal_id.to_string();
            step(
                assignments::assign(c, t, &sp, &principal, &role).await?,
                |id| (id, None),
            )
        }
        Operation::RemoveAssignment {
            configuration,
            assignment_id,
            ..
        } => {
            let sp = object(refs, configuration)?;
            assignments::remove(c, t, &sp, assignment_id).await?;
            done()
        }
        _ => return Err(OpError::Misrouted(format!("{op:?}"), "an assignment")),
    })
}

/// One assignment of an [`assign_all`] group: the action, the configuration, the principal
/// and the app role.
pub(crate) struct Assignment<A> {
    /// Whose assignment it is (handed back with its outcome).
    pub action: A,
    /// The configuration's service principal id.
    pub sp: String,
    /// The user or group.
    pub principal: String,
    /// The app role id.
    pub role: String,
}

/// Makes many assignments in one tenant ([`assignments::assign_many`]: one `$batch` of POSTs,
/// the failed ones looked for in one read and adopted when listed). Outcomes come back one
/// per item, in order.
///
/// Nothing is read before the POSTs. The plan being applied listed these assignments as
/// missing when the apply began (an apply plans just before it applies, and a saved or
/// confirmed plan is checked against Graph first), so only a run writing at the same time can
/// have made one since, and its duplicate fails and is adopted by the read after the failure.
/// Reading every configuration's whole list first would read it twice per apply.
pub(crate) async fn assign_all<A>(
    c: &GraphClient,
    t: &str,
    items: Vec<Assignment<A>>,
) -> Vec<(A, Result<Step, OpError>)> {
    let new: Vec<NewAssignment<'_>> = items
        .iter()
        .map(|i| NewAssignment {
            sp: &i.sp,
            principal: &i.principal,
            role: &i.role,
        })
        .collect();
    let outcomes = assignments::assign_many(c, t, &new).await;
    let outcomes = outcomes.into_iter().map(|o| {
        o.map(|made| step(made, |id| (id, None)))
            .map_err(OpError::from)
    });
    hand_back(items.into_iter().map(|i| i.action), outcomes, "assignment")
}

/// One removal of a [`remove_all`] group.
pub(crate) struct Removal<A> {
    /// Whose removal it is (handed back with its outcome).
    pub action: A,
    /// The configuration's service principal id.
    pub sp: String,
    /// The assignment's id.
    pub assignment_id: String,
}

/// Removes many assignments in one tenant: DELETEs through `$batch`, an assignment already
/// gone counting as removed.
///
/// Unlike other guarded actions, a removal does not re-read its object to re-check the
/// plan's fingerprint first. Graph has no update for an `appRoleAssignment`: it is made and
/// deleted, never changed, so the DELETE of its id removes exactly the (principal, role) the
/// plan showed or finds nothing. Someone who removed it since made the plan's intent true
/// (counted as removed); someone who assigned the principal again made a new assignment with
/// another id, which this DELETE cannot touch and the next plan shows.
pub(crate) async fn remove_all<A>(
    c: &GraphClient,
    t: &str,
    items: Vec<Removal<A>>,
) -> Vec<(A, Result<Step, OpError>)> {
    let ids: Vec<(&str, &str)> = items
        .iter()
        .map(|i| (i.sp.as_str(), i.assignment_id.as_str()))
        .collect();
    let outcomes = assignments::remove_many(c, t, &ids).await;
    let outcomes = outcomes
        .into_iter()
        .map(|o| o.map(|()| done()).map_err(OpError::from));
    hand_back(items.into_iter().map(|i| i.action), outcomes, "removal")
}

/// Each item's action with its outcome, in order. An item left without one is a bug in the
/// group's code, reported as such for that item (`what` names the item's kind).
fn hand_back<A>(
    actions: impl Iterator<Item = A>,
    mut outcomes: impl Iterator<Item = Result<Step, OpError>>,
    what: &'static str,
) -> Vec<(A, Result<Step, OpError>)> {
    actions
        .map(|a| {
            let outcome = outcomes.next().unwrap_or(Err(OpError::NoOutcome(what)));
            (a, outcome)
        })
        .collect()
}
