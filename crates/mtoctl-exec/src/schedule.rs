//! The schedule of one apply: which actions may start (their dependencies done), in which
//! lane of their tenant, what each settled action means for its dependents, and the ids made
//! so far that later actions refer to.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use mtoctl_model::plan::{Action, ActionId, ExpectedBefore, ObjectRef, Plan};

use crate::report::{
    ActionResult, ActionStatus, ApplyEvent, Created, Observer, RunActionId, SkipReason,
};
use crate::{deps, ops};

#[derive(Debug, Clone)]
pub(crate) enum State {
    Pending,
    Running,
    /// Done; its ids are in the apply's [`Resolved`] map.
    Done,
    Failed,
    Waiting,
    Skipped,
}

/// The ids made so far, shared with the running tasks: an action reads the ids of its
/// dependencies, which are all done (and never change) before it starts.
#[derive(Clone, Default)]
pub(crate) struct Resolved(Arc<std::sync::RwLock<HashMap<ActionId, Created>>>);

impl Resolved {
    fn created(&self, action: &ActionId) -> Option<Created> {
        self.0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(action)
            .cloned()
    }

    pub(crate) fn insert(&self, action: ActionId, created: Created) {
        self.0
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(action, created);
    }
}

impl ops::Resolve for Resolved {
    fn object(&self, r: &ObjectRef) -> Result<String, ops::OpError> {
        match r {
            ObjectRef::Existing { id } => Ok(id.clone()),
            ObjectRef::CreatedBy { action } => {
                self.created(action).and_then(|c| c.id).ok_or_else(|| {
                    ops::OpError::Unresolved(format!(
                        "{action} reported no id for the object it created"
                    ))
                })
            }
        }
    }

    fn role(&self, r: &ObjectRef) -> Result<String, ops::OpError> {
        match r {
            ObjectRef::Existing { id } => Ok(id.clone()),
            ObjectRef::CreatedBy { action } => self
                .created(action)
                .and_then(|c| c.user_role_id)
                .ok_or_else(|| {
                    ops::OpError::Unresolved(format!(
                        "the configuration created by {action} has no app role for users"
                    ))
                }),
        }
    }

    fn made_here(&self, r: &ObjectRef) -> bool {
        match r {
            ObjectRef::Existing { .. } => false,
            ObjectRef::CreatedBy { action } => self.created(action).is_some_and(|c| !c.adopted),
        }
    }
}

/// What has run, what can run, and the results so far. Settling an action releases its
/// dependents (done) or skips them (failed, waiting or skipped, naming the root cause), so
/// each action is looked at when something it depends on settles, never in a walk over the
/// whole plan.
pub(crate) struct Schedule<'p> {
    plan: &'p Plan,
    deps: &'p deps::Deps<'p>,
    observer: Arc<dyn Observer>,
    /// The round of the run this plan is.
    pub(crate) round: u32,
    states: Vec<State>,
    /// Dependencies not done yet, per action.
    unmet: Vec<u32>,
    /// Pending actions whose dependencies are all done, per tenant alias and lane, in plan
    /// order.
    pub(crate) ready: BTreeMap<(String, Lane), BTreeSet<usize>>,
    /// How each settled action ended. Statuses, not [`ActionResult`]s: a result copies the
    /// action's id, address, tenant and summary, which the report needs only at the end.
    pub(crate) statuses: Vec<Option<ActionStatus>>,
}

impl<'p> Schedule<'p> {
    pub(crate) fn new(
        plan: &'p Plan,
        deps: &'p deps::Deps<'p>,
        observer: Arc<dyn Observer>,
        round: u32,
    ) -> Self {
        let mut ready: BTreeMap<(String, Lane), BTreeSet<usize>> = BTreeMap::new();
        for (i, a) in plan.actions.iter().enumerate() {
            if deps.in_plan_deps[i] == 0 {
                ready.entry(Lane::key(a)).or_default().insert(i);
            }
        }
        Self {
            plan,
            deps,
            observer,
            round,
            states: vec![State::Pending; plan.actions.len()],
            unmet: deps.in_plan_deps.clone(),
            ready,
            statuses: vec![None; plan.actions.len()],
        }
    }

    /// An action of this plan as the run names it.
    pub(crate) fn run_id(&self, action: ActionId) -> RunActionId {
        RunActionId {
            round: self.round,
            action,
        }
    }

    /// Marks a ready action started.
    pub(crate) fn start(&mut self, i: usize) {
        let action = &self.plan.actions[i];
        if let Some(q) = self.ready.get_mut(&Lane::key(action)) {
            q.remove(&i);
        }
        self.states[i] = State::Running;
        self.observer.event(&ApplyEvent::Started {
            action: self.run_id(action.id),
            addr: action.addr.clone(),
            tenant: action.tenant.as_str().to_owned(),
            summary: action.summary.clone(),
        });
    }

    /// Records how an action ended, and what that means for the actions after it.
    pub(crate) fn settle(&mut self, i: usize, status: ActionStatus) {
        let mut work = vec![(i, status)];
        while let Some((i, status)) = work.pop() {
            let action = &self.plan.actions[i];
            self.states[i] = match &status {
                ActionStatus::Ok { .. } => State::Done,
                ActionStatus::Waiting { .. } => State::Waiting,
                ActionStatus::Failed { .. } => State::Failed,
                ActionStatus::Skipped { .. } => State::Skipped,
            };
            // What its dependents are skipped for: a skipped action's own root cause.
            let reason = match &status {
                ActionStatus::Ok { .. } => None,
                ActionStatus::Skipped { reason } => Some(reason.clone()),
                ActionStatus::Waiting { .. } => Some(SkipReason::DependencyWaiting {
                    action: self.run_id(action.id),
                }),
                ActionStatus::Failed { .. } => Some(SkipReason::DependencyFailed {
                    action: self.run_id(action.id),
                }),
            };
            self.observer.event(&ApplyEvent::Finished {
                result: result_of(action, self.round, status.clone()),
            });
            self.statuses[i] = Some(status);
            for j in self.deps.dependents(i) {
                if !matches!(self.states[j], State::Pending) {
                    continue;
                }
                match &reason {
                    None => {
                        self.unmet[j] = self.unmet[j].saturating_sub(1);
                        if self.unmet[j] == 0 {
                            self.ready
                                .entry(Lane::key(&self.plan.actions[j]))
                                .or_default()
                                .insert(j);
                        }
                    }
                    Some(reason) => {
                        // Settled now, so that a later look at it sees it is no longer pending.
                        self.states[j] = State::Skipped;
                        work.push((
                            j,
                            ActionStatus::Skipped {
                                reason: reason.clone(),
                            },
                        ));
                    }
                }
            }
        }
    }
}

/// Most assignments in one group: up to five `$batch` calls of 20 writes, then one re-read of
/// the items that failed.
pub(crate) const GROUP: usize = 100;

/// Most groups of assignments in flight per tenant: 400 writes, 20 `$batch` calls, are more
/// than the write lanes carry in a round trip once Graph's pacing binds, and each group waiting
/// for the pacer holds its requests in memory (with one slot per group, a hundred tenants held
/// all of their hundred thousand assignments at once).
pub(crate) const GROUPS_PER_TENANT: usize = 4;

/// A group of assignments starts only while fewer than this many tasks (groups and single
/// actions) run across the apply, for the same reason: the room groups had before the apply's
/// grew to 512, where B4's hundred tenants ran four groups each (docs/benchmarks.md).
pub(crate) const ROOM_FOR_GROUPS: usize = 256;

/// A group's tenant alias and whether it removes.
pub(crate) type GroupKey = (String, bool);

/// Which ready queue of its tenant an action waits in: assignments to make and to remove
/// start in groups (see [`GROUPS_PER_TENANT`]), everything else one by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Lane {
    Single,
    Assign,
    Remove,
}

impl Lane {
    fn of(action: &Action) -> Lane {
        use mtoctl_model::plan::Operation;
        match &action.operation {
            _ if action.async_wait.is_some() => Lane::Single,
            Operation::AssignPrincipal { .. } => Lane::Assign,
            Operation::RemoveAssignment { .. } => Lane::Remove,
            _ => Lane::Single,
        }
    }

    fn key(action: &Action) -> (String, Lane) {
        (action.tenant.as_str().to_owned(), Lane::of(action))
    }
}

/// One action of a group.
pub(crate) enum Member {
    /// An assignment to make.
    Assign(ops::Assignment<ActionId>),
    /// An assignment to remove.
    Remove(ops::Removal<ActionId>),
}

impl Member {
    pub(crate) fn action(&self) -> ActionId {
        match self {
            Member::Assign(a) => a.action,
            Member::Remove(r) => r.action,
        }
    }
}

/// An action that can join a group: an assignment to make (which carries no precondition: a
/// duplicate fails and is adopted) or to remove (the DELETE of its id is its own check: see
/// [`ops::remove_all`]), and whether it removes. Asked only for the actions of the assignment lanes ([`Lane::of`]:
/// no wait among them); `None` for any other action, or when an id does not resolve (it then
/// runs alone and reports why).
pub(crate) fn group_member(action: &Action, resolved: &Resolved) -> Option<(bool, Member)> {
    use mtoctl_model::plan::Operation;
    use ops::Resolve;
    match &action.operation {
        Operation::AssignPrincipal {
            configuration,
            app_role,
            principal_id,
            ..
        } => {
            if matches!(action.expected_before, ExpectedBefore::Fingerprint { .. }) {
                return None;
            }
            let sp = resolved.object(configuration).ok()?;
            let role = resolved.role(app_role).ok()?;
            Some((
                false,
                Member::Assign(ops::Assignment {
                    action: action.id,
                    sp,
                    principal: principal_id.to_string(),
                    role,
                }),
            ))
        }
        Operation::RemoveAssignment {
            configuration,
            assignment_id,
            ..
        } => {
            let sp = resolved.object(configuration).ok()?;
            Some((
                true,
                Member::Remove(ops::Removal {
                    action: action.id,
                    sp,
                    assignment_id: assignment_id.clone(),
                }),
            ))
        }
        _ => None,
    }
}

pub(crate) fn result_of(action: &Action, round: u32, status: ActionStatus) -> ActionResult {
    ActionResult {
        id: RunActionId {
            round,
            action: action.id,
        },
        round,
        addr: action.addr.clone(),
        tenant: action.tenant.as_str().to_owned(),
        summary: action.summary.clone(),
        status,
    }
}
