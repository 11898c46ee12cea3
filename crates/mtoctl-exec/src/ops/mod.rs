//! One plan operation, carried out: each one a call of `mtoctl_graph::objects`, which finds
//! before it creates on stable keys, adopts what exists once it is seen, and alone knows
//! Graph's paths and JSON. Errors are typed here and turned into text, with their causes,
//! only where `run` and its siblings hand them back.

mod assignments;
mod fingerprint;
mod organization;
mod partners;
mod sync;
mod twins;
mod users;

use mtoctl_graph::error::GraphError;
use mtoctl_graph::objects::{
    B2bWrite, ConsentWrite, Made, ObjectError, PartnerSettingsWrite, RuleWrite, TrustWrite,
};
use mtoctl_graph::transport::GraphClient;
use mtoctl_model::ids::TenantId;
use mtoctl_model::plan::{
    ActionId, B2bValue, ObjectKind, ObjectRef, Operation, PartnerSettingsPatch, ResourceAddr,
    RuleValue,
};

use crate::races::Races;
use crate::report::Created;

pub(crate) use assignments::{Assignment, Removal, assign_all, remove_all};
pub(crate) use fingerprint::current_fingerprint;

/// What running an operation once gave.
#[derive(Debug)]
pub(crate) enum Step {
    /// Done; the ids created or adopted.
    Done(Created),
    /// A wait whose condition does not hold yet.
    Pending(String),
}

/// Ids resolved for an operation's symbolic references.
pub(crate) trait Resolve {
    /// The object id of an [`ObjectRef`].
    fn object(&self, r: &ObjectRef) -> Result<String, OpError>;
    /// The user app role id of an [`ObjectRef`] naming a role.
    fn role(&self, r: &ObjectRef) -> Result<String, OpError>;
    /// Whether this apply made the object moments ago (not found and adopted): nothing can
    /// hang under it yet that another run did not make in the same moment, which the
    /// creates' race checks settle.
    fn made_here(&self, r: &ObjectRef) -> bool;
}

/// Where an operation's twin looks go: the apply's [`Races`], under the running action.
#[derive(Clone, Copy)]
pub(crate) struct Looks<'a> {
    /// The apply's looks.
    pub races: &'a Races,
    /// The action running the operation.
    pub action: ActionId,
    /// Whether its object was re-read just before and found as the plan saw it.
    pub rechecked: bool,
}

/// Why an operation failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OpError {
    /// Graph refused, did not answer, or answered what cannot be used.
    #[error(transparent)]
    Graph(#[from] ObjectError),
    /// A symbolic reference has no id (the action that made the object reported none).
    #[error("{0}")]
    Unresolved(String),
    /// Graph reports the join failed.
    #[error("the join of {0} failed; the next plan resets and resubmits it")]
    JoinFailed(TenantId),
    /// A role change was waited for on a tenant that left.
    #[error("{0} is no longer a member")]
    NotAMember(TenantId),
    /// Graph reports the role change failed.
    #[error("the role change of {0} failed")]
    RoleChangeFailed(TenantId),
    /// Graph reports the removal failed.
    #[error("the removal of {0} failed")]
    RemovalFailed(TenantId),
    /// A group of writes handed back no outcome for one of its items (a bug).
    #[error("internal error: no outcome for the {0}")]
    NoOutcome(&'static str),
    /// An operation reached the module of another kind of object (a bug in the dispatch).
    #[error("internal error: {0} is not an operation on {1}")]
    Misrouted(String, &'static str),
    /// The object changed since the plan was made (its fingerprint, re-read just before the
    /// write, differs): nothing was written.
    #[error(
        "precondition failed: {addr} {what} since the plan was made; nothing was written for this action, plan again"
    )]
    Precondition {
        /// The object.
        addr: ResourceAddr,
        /// `changed` or `is gone`.
        what: &'static str,
    },
    /// The plan's action names a tenant the plan does not list (a hand-edited plan).
    #[error("tenant {0} is not in the plan")]
    TenantNotInPlan(String),
    /// A concurrent run made the same object at the same moment, and this run's was deleted
    /// (or whether it must be could not be told): nothing is started on it.
    #[error("{0}")]
    LostRace(String),
    /// The task carrying the action panicked (a bug).
    #[error("internal error: {0}")]
    Panicked(String),
}

impl OpError {
    /// Whether Graph refused with 403 (a permission the credential lacks).
    pub(crate) fn forbidden(&self) -> bool {
        let OpError::Graph(e) = self else {
            return false;
        };
        let mut at: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(err) = at {
            let status = err
                .downcast_ref::<GraphError>()
                .or_else(|| err.downcast_ref::<Box<GraphError>>().map(|b| &**b))
                .and_then(GraphError::status);
            if status == Some(403) {
                return true;
            }
            at = err.source();
        }
        false
    }
}

/// An error as the report shows it: its message and each cause's, down to the Graph error,
/// whose own message is complete (its causes repeat it).
pub(crate) fn message(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut at = e;
    let graph =
        |e: &(dyn std::error::Error + 'static)| e.is::<GraphError>() || e.is::<Box<GraphError>>();
    while !graph(at)
        && let Some(cause) = at.source()
    {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        at = cause;
    }
    text
}

fn rule(r: &RuleValue) -> RuleWrite {
    RuleWrite {
        access: r.access,
        targets: r.targets.clone(),
    }
}

fn b2b(b: &Option<B2bValue>) -> Option<B2bWrite> {
    b.as_ref().map(|b| B2bWrite {
        users_and_groups: rule(&b.users_and_groups),
        applications: rule(&b.applications),
    })
}

/// The planner's partner settings as the Graph surface takes them.
pub(crate) fn settings(p: &PartnerSettingsPatch) -> PartnerSettingsWrite {
    PartnerSettingsWrite {
        automatic_user_consent: p.automatic_user_consent.as_ref().map(|c| ConsentWrite {
            inbound: c.inbound,
            outbound: c.outbound,
        }),
        inbound_trust: p.inbound_trust.as_ref().map(|t| TrustWrite {
            mfa: t.mfa,
            compliant_device: t.compliant_device,
            hybrid_joined_device: t.hybrid_joined_device,
        }),
        b2b_collaboration_inbound: b2b(&p.b2b_collaboration_inbound),
        b2b_collaboration_outbound: b2b(&p.b2b_collaboration_outbound),
        b2b_direct_connect_inbound: b2b(&p.b2b_direct_connect_inbound),
        b2b_direct_connect_outbound: b2b(&p.b2b_direct_connect_outbound),
    }
}

/// The ids of an [`ObjectRef`], typed.
fn object(refs: &(dyn Resolve + Sync), r: &ObjectRef) -> Result<String, OpError> {
    refs.object(r)
}

/// Done, with what was created or adopted.
fn step<T>(made: Made<T>, ids: impl FnOnce(T) -> (Option<String>, Option<String>)) -> Step {
    let adopted = made.adopted();
    let (id, user_role_id) = ids(made.into_inner());
    Step::Done(Created {
        id,
        user_role_id,
        adopted,
    })
}

/// Done, without ids.
fn done() -> Step {
    Step::Done(Created::default())
}

/// Done or adopted, without ids.
fn made(m: Made<()>) -> Step {
    step(m, |()| (None, None))
}

/// Runs one operation once. `acting` is the acting tenant's alias and `acting_id` its id.
pub(crate) async fn run(
    client: &GraphClient,
    acting: &str,
    acting_id: &TenantId,
    op: &Operation,
    refs: &(dyn Resolve + Sync),
    looks: Looks<'_>,
) -> Result<Step, OpError> {
    dispatch(client, acting, acting_id, op, refs, looks).await
}

async fn dispatch(
    c: &GraphClient,
    t: &str,
    acting_id: &TenantId,
    op: &Operation,
    refs: &(dyn Resolve + Sync),
    looks: Looks<'_>,
) -> Result<Step, OpError> {
    match op.object() {
        ObjectKind::AccessSettings => partners::run(c, t, op).await,
        ObjectKind::Organization => organization::run(c, t, acting_id, op).await,
        ObjectKind::SyncConfiguration => sync::run(c, t, op, refs, looks).await,
        ObjectKind::Assignment => assignments::run(c, t, op, refs).await,
        ObjectKind::SyncedUser => users::run(c, t, op).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] Middle);

    #[derive(Debug, thiserror::Error)]
    #[error("middle")]
    struct Middle(#[source] std::io::Error);

    #[test]
    fn a_message_carries_every_cause() {
        let e = Outer(Middle(std::io::Error::other("inner")));
        assert_eq!(message(&e), "outer: middle: inner");
        let e = OpError::JoinFailed(TenantId(
            mtoctl_model::ids::Guid::parse("3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11").expect("id"),
        ));
        assert_eq!(
            message(&e),
            "the join of 3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11 failed; the next plan resets and resubmits it"
        );
    }

    #[test]
    fn a_message_stops_at_the_graph_error_whose_text_is_complete() {
        let graph = GraphError::UnknownTenant("contoso".into());
        let e = OpError::from(ObjectError::Graph {
            action: "add the member",
            source: Box::new(graph.clone()),
        });
        assert_eq!(message(&e), format!("cannot add the member: {graph}"));
    }

    #[test]
    fn a_refusal_is_told_by_its_status_not_by_its_text() {
        let refused = |status: u16, message: &str| {
            OpError::from(ObjectError::Graph {
                action: "create the partner configuration",
                source: Box::new(GraphError::Status(Box::new(
                    mtoctl_graph::error::StatusError {
                        tenant: "contoso".into(),
                        method: "POST".into(),
                        path: "/policies/crossTenantAccessPolicy/partners".into(),
                        status,
                        code: "Authorization_RequestDenied".into(),
                        message: message.into(),
                        request_id: None,
                        retry_after: None,
                    },
                ))),
            })
        };
        assert!(refused(403, "Insufficient privileges to complete the operation.").forbidden());
        // A 400 whose text mentions 403 is no refusal; a 403 is, whatever its text says.
        assert!(!refused(400, "HTTP 403 was expected").forbidden());
        assert!(refused(403, "").forbidden());
        assert!(!OpError::TenantNotInPlan("contoso".into()).forbidden());
    }
}
