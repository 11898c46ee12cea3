//! mtoctl-exec: carries a reviewed plan out against Microsoft Graph, making no decisions of
//! its own.
//!
//! - [`check_plan`] refuses what must not be applied: an unknown format version, a plan for
//!   another spec, a plan marked unsafe, destructive actions without `allow_destroy`.
//! - [`stale_objects`] re-reads the tenants and names every object the plan touches whose
//!   fingerprint changed since it was planned (the pre-flight staleness guard).
//! - [`apply`] runs the actions in dependency order, independent ones concurrently (the Graph
//!   client's per-tenant lanes bound each tenant's requests), skips the dependents of a
//!   failed action, waits (or not) for asynchronous Graph work, and reports everything.
//!
//! Just before it writes, every action guarded by a fingerprint re-reads its object and
//! refuses if `mtoctl_planner::fingerprint` of what it reads differs from the plan's (waits,
//! which write nothing, and objects another action of the plan may change first, are not
//! re-checked); independent actions go on.
//!
//! Every operation finds before it creates on stable keys (partner tenant id, configuration
//! name, principal id) and treats Graph's "already exists" answers as success once verified,
//! so an apply interrupted at any point converges when run again, without duplicates. Creates
//! Graph would carry out twice are never re-sent after an answer that leaves open whether
//! they happened (`GraphClient::send_create`): the object is looked for first.

mod deps;
mod ops;
pub mod report;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mtoctl_graph::transport::GraphClient;
use mtoctl_model::DesiredState;
use mtoctl_model::ids::TenantId;
use mtoctl_model::observed::Fingerprint;
use mtoctl_planner::plan::{ActionKind, ExpectedBefore, FORMAT_VERSION, ObjectRef};
use mtoctl_planner::{ActionId, Plan, ResourceAddr};
use tokio::task::JoinSet;

pub use report::{
    ActionResult, ActionStatus, ApplyEvent, ApplyOutcome, ApplyReport, Created, Observer, Silent,
    SkipReason,
};

/// How to apply.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Whether destructive actions may run.
    pub allow_destroy: bool,
    /// How long to wait for asynchronous Graph work; `None` checks once and moves on.
    pub wait: Option<Duration>,
    /// Most actions in flight at once across all tenants (a generous cap: each tenant is
    /// bounded by [`Self::per_tenant`] and the Graph client's lanes).
    pub concurrency: usize,
    /// Most actions in flight at once in one tenant, so that every tenant's actions progress
    /// side by side instead of one tenant's at a time in plan order.
    pub per_tenant: usize,
    /// The first delay between two polls of a wait (doubled each time, up to 30 s).
    pub first_poll: Duration,
    /// Apply a plan another mtoctl version computed (refused by default: what an operation
    /// means, and how it maps to Graph, may differ between versions).
    pub allow_version_skew: bool,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        Self {
            allow_destroy: false,
            allow_version_skew: false,
            wait: None,
            concurrency: 256,
            // Enough that a hub's slow writes (an `instantiate` takes seconds; 99
            // configurations of a hub of 100 tenants) overlap; the client's write lanes and
            // pacer bound what reaches Graph, and groups of assignments have their own cap.
            per_tenant: 128,
            // Short: a wait is often nearly over when it is first checked (the emulator's
            // joins, a job's first cycle), and the doubling soon spaces polls of a join that
            // takes hours on real Graph; the extra reads cost one resource unit each.
            first_poll: Duration::from_millis(500),
        }
    }
}

/// Why a plan is not applied at all.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApplyError {
    /// The plan file's format is not one this mtoctl reads.
    #[error(
        "the plan's format version is {found}, but this mtoctl applies only version {FORMAT_VERSION} plans; plan again with this mtoctl"
    )]
    FormatVersion {
        /// The plan's version.
        found: String,
    },
    /// The plan was computed by another mtoctl version.
    #[error(
        "the plan was computed by mtoctl {plan}, this is mtoctl {this}; plan again with this version, or pass --allow-version-skew"
    )]
    VersionSkew {
        /// The plan's mtoctl version.
        plan: String,
        /// This version.
        this: String,
    },
    /// The plan was computed from another spec.
    #[error("the plan was computed from a different spec (digest {plan}, spec {spec}); plan again")]
    SpecChanged {
        /// The plan's digest.
        plan: String,
        /// The spec's digest.
        spec: String,
    },
    /// The planner marked the plan unsafe.
    #[error("the plan is not applyable (see its notes of severity error)")]
    NotApplyable,
    /// Destructive actions without permission.
    #[error(
        "the plan has destructive actions and --allow-destroy was not given; nothing was changed:\n  {}",
        .0.join("\n  ")
    )]
    DestroyNotAllowed(Vec<String>),
    /// Objects changed since the plan was made.
    #[error(
        "plan is stale: these objects changed since it was planned; nothing was changed, plan again:\n  {}",
        .0.join("\n  ")
    )]
    Stale(Vec<String>),
    /// The live state could not be read for the staleness check.
    #[error("cannot re-read the tenants to check the plan is still current: {0}")]
    Read(String),
}

/// Refuses a plan that must not be applied, before any network access.
pub fn check_plan(
    plan: &Plan,
    desired: &DesiredState,
    options: &ApplyOptions,
) -> Result<(), ApplyError> {
    if plan.format_version != FORMAT_VERSION {
        return Err(ApplyError::FormatVersion {
            found: plan.format_version.clone(),
        });
    }
    let this = env!("CARGO_PKG_VERSION");
    if plan.mtoctl_version != this && !options.allow_version_skew {
        return Err(ApplyError::VersionSkew {
            plan: plan.mtoctl_version.clone(),
            this: this.to_owned(),
        });
    }
    let digest = Fingerprint::of(desired);
    if digest != plan.spec_digest {
        return Err(ApplyError::SpecChanged {
            plan: plan.spec_digest.0.clone(),
            spec: digest.0,
        });
    }
    if !plan.applyable {
        return Err(ApplyError::NotApplyable);
    }
    if !options.allow_destroy && plan.has_destruction() {
        return Err(ApplyError::DestroyNotAllowed(
            plan.actions
                .iter()
                .filter(|a| a.destructive)
                .map(|a| format!("{} {}: {}", a.id, a.addr, a.summary))
                .collect(),
        ));
    }
    Ok(())
}

/// The addresses the plan touches whose object changed since it was planned (re-read now):
/// a different fingerprint, gone, or present where the plan expects nothing.
pub async fn stale_objects(
    plan: &Plan,
    client: &GraphClient,
    desired: &DesiredState,
) -> Result<Vec<ResourceAddr>, ApplyError> {
    let observed = mtoctl_graph::collect::collect(client, desired)
        .await
        .map_err(|e| ApplyError::Read(e.to_string()))?;
    // The planner is the one place that knows how each object is fingerprinted; planning the
    // same spec again yields the current fingerprints under the same addresses.
    let now =
        mtoctl_planner::plan(desired, &observed).map_err(|e| ApplyError::Read(e.to_string()))?;
    Ok(compare(plan, &now.observed))
}

fn compare(plan: &Plan, now: &BTreeMap<ResourceAddr, Fingerprint>) -> Vec<ResourceAddr> {
    let mut stale = BTreeSet::new();
    for action in &plan.actions {
        let then = plan.observed.get(&action.addr);
        let current = now.get(&action.addr);
        let changed = match (&action.expected_before, then) {
            (ExpectedBefore::Absent, _) => current.is_some(),
            (_, Some(then)) => current != Some(then),
            (_, None) => false,
        };
        if changed {
            stale.insert(action.addr.clone());
        }
    }
    stale.into_iter().collect()
}

#[derive(Debug, Clone)]
enum State {
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
struct Resolved(Arc<std::sync::RwLock<HashMap<ActionId, Created>>>);

impl Resolved {
    fn created(&self, action: &ActionId) -> Option<Created> {
        self.0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(action)
            .cloned()
    }

    fn insert(&self, action: ActionId, created: Created) {
        self.0
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(action, created);
    }
}

impl ops::Resolve for Resolved {
    fn object(&self, r: &ObjectRef) -> Result<String, String> {
        match r {
            ObjectRef::Existing { id } => Ok(id.clone()),
            ObjectRef::CreatedBy { action } => self
                .created(action)
                .and_then(|c| c.id)
                .ok_or_else(|| format!("{action} reported no id for the object it created")),
        }
    }

    fn role(&self, r: &ObjectRef) -> Result<String, String> {
        match r {
            ObjectRef::Existing { id } => Ok(id.clone()),
            ObjectRef::CreatedBy { action } => self
                .created(action)
                .and_then(|c| c.user_role_id)
                .ok_or_else(|| {
                    format!("the configuration created by {action} has no app role for users")
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
struct Schedule<'p> {
    plan: &'p Plan,
    deps: &'p deps::Deps<'p>,
    observer: Arc<dyn Observer>,
    states: Vec<State>,
    /// Dependencies not done yet, per action.
    unmet: Vec<u32>,
    /// Pending actions whose dependencies are all done, per tenant alias and lane, in plan
    /// order.
    ready: BTreeMap<(String, Lane), BTreeSet<usize>>,
    /// How each settled action ended. Statuses, not [`ActionResult`]s: a result copies the
    /// action's id, address, tenant and summary, which the report needs only at the end.
    statuses: Vec<Option<ActionStatus>>,
}

impl<'p> Schedule<'p> {
    fn new(plan: &'p Plan, deps: &'p deps::Deps<'p>, observer: Arc<dyn Observer>) -> Self {
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
            states: vec![State::Pending; plan.actions.len()],
            unmet: deps.in_plan_deps.clone(),
            ready,
            statuses: vec![None; plan.actions.len()],
        }
    }

    /// Marks a ready action started.
    fn start(&mut self, i: usize) {
        let action = &self.plan.actions[i];
        if let Some(q) = self.ready.get_mut(&Lane::key(action)) {
            q.remove(&i);
        }
        self.states[i] = State::Running;
        self.observer.event(&ApplyEvent::Started {
            action: action.id,
            addr: action.addr.clone(),
            tenant: action.tenant.as_str().to_owned(),
            summary: action.summary.clone(),
        });
    }

    /// Records how an action ended, and what that means for the actions after it.
    fn settle(&mut self, i: usize, status: ActionStatus) {
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
                ActionStatus::Waiting { .. } => {
                    Some(SkipReason::DependencyWaiting { action: action.id })
                }
                ActionStatus::Failed { .. } => {
                    Some(SkipReason::DependencyFailed { action: action.id })
                }
            };
            self.observer.event(&ApplyEvent::Finished {
                result: result_of(action, status.clone()),
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

/// Applies the plan. Call [`check_plan`] and [`stale_objects`] first (the CLI does); this
/// function only carries the actions out.
pub async fn apply(
    plan: &Plan,
    client: &GraphClient,
    options: &ApplyOptions,
    observer: Arc<dyn Observer>,
) -> ApplyReport {
    let ids: BTreeMap<String, TenantId> = plan
        .tenants
        .iter()
        .map(|t| (t.alias.as_str().to_owned(), t.tenant_id.clone()))
        .collect();
    let deadline = options.wait.map(|w| Instant::now() + w);
    // Each tenant's writes, told to the client's pacer: tenants of one app registration share
    // its write bucket, and those with little to write spread it over the busiest one's time.
    let mut writes: BTreeMap<&str, u64> = BTreeMap::new();
    for a in plan.actions.iter().filter(|a| a.kind != ActionKind::Wait) {
        *writes.entry(a.tenant.as_str()).or_default() += 1;
    }
    for t in &plan.tenants {
        let alias = t.alias.as_str();
        client.expect_writes(alias, writes.get(alias).copied().unwrap_or(0));
    }
    let deps = deps::Deps::of(plan);
    let mut sched = Schedule::new(plan, &deps, observer.clone());
    // A task carries one action, or a group of one tenant's assignments (made or removed).
    let mut running: JoinSet<Vec<(ActionId, Result<ops::Step, String>)>> = JoinSet::new();
    // Each task's tenant, actions, and whether it is a group.
    let mut tasks: HashMap<tokio::task::Id, (String, Vec<ActionId>, bool)> = HashMap::new();
    let concurrency = options.concurrency.max(1);
    let per_tenant = options.per_tenant.max(1);
    // Actions in flight per tenant alias.
    let mut in_flight: BTreeMap<String, usize> = BTreeMap::new();
    // Groups of assignments in flight per tenant alias (each also one of `in_flight`).
    let mut groups_in_flight: BTreeMap<String, usize> = BTreeMap::new();
    let resolved = Resolved::default();

    loop {
        // Start what can start, tenant by tenant and lane by lane (single actions first, so a
        // tenant's chains progress), each in plan order, as long as the tenant (and the whole
        // apply) has room. A tenant's ready assignments to make, and its ready assignments to
        // remove, join a group of each (one slot of the tenant, at most GROUPS_PER_TENANT),
        // started once the pass is over. A lane stops at its first action that cannot start,
        // so a pass costs what it starts, not the length of the queues.
        let mut groups: BTreeMap<GroupKey, Vec<Vec<Member>>> = BTreeMap::new();
        let lanes: Vec<(String, Lane)> = sched.ready.keys().cloned().collect();
        for lane in lanes {
            let tenant = lane.0.clone();
            let mut cursor = 0;
            while let Some(i) = sched
                .ready
                .get(&lane)
                .and_then(|q| q.range(cursor..).next().copied())
            {
                cursor = i + 1;
                let action = &plan.actions[i];
                let open_chunk = |groups: &BTreeMap<GroupKey, Vec<Vec<Member>>>, removal| {
                    groups
                        .get(&(tenant.clone(), removal))
                        .and_then(|g| g.last())
                        .is_some_and(|g| g.len() < GROUP)
                };
                let busy = in_flight.get(&tenant).copied().unwrap_or(0);
                let started = running.len() + groups.values().map(Vec::len).sum::<usize>();
                let full = started >= concurrency || busy >= per_tenant;
                let group = match lane.1 {
                    Lane::Single => None,
                    Lane::Assign | Lane::Remove => group_member(action, &resolved)
                        .filter(|_| ids.contains_key(&tenant))
                        .map(|(removal, member)| ((tenant.clone(), removal), member)),
                };
                let open = group
                    .as_ref()
                    .is_some_and(|((_, removal), _)| open_chunk(&groups, *removal));
                let new_group = group.is_some() && !open;
                let capped = new_group
                    && groups_in_flight.get(&tenant).copied().unwrap_or(0) >= GROUPS_PER_TENANT;
                if !open && (full || capped) {
                    // Nothing more of this lane can start until something finishes.
                    break;
                }
                if !open {
                    *in_flight.entry(tenant.clone()).or_default() += 1;
                }
                if new_group {
                    *groups_in_flight.entry(tenant.clone()).or_default() += 1;
                }
                sched.start(i);
                if let Some((key, item)) = group {
                    let chunks = groups.entry(key).or_default();
                    if !open {
                        chunks.push(Vec::new());
                    }
                    if let Some(chunk) = chunks.last_mut() {
                        chunk.push(item);
                    }
                    continue;
                }
                let resolved = resolved.clone();
                let client = client.clone();
                let tenant = action.tenant.as_str().to_owned();
                let acting_id = ids.get(&tenant).cloned();
                let op = action.operation.clone();
                let id = action.id;
                let precondition = deps.checkable_precondition(action);
                let addr = action.addr.clone();
                let observer = observer.clone();
                let first_poll = options.first_poll;
                // A wait gives up at the sooner of `--wait` and its own timeout in the plan.
                let deadline = match (deadline, &action.async_wait) {
                    (Some(d), Some(w)) => {
                        Some(d.min(Instant::now() + Duration::from_secs(w.timeout_seconds)))
                    }
                    (d, _) => d,
                };
                let task_ids = (tenant.clone(), vec![id], false);
                let handle = running.spawn(async move {
                    let (id, outcome) = 'one: {
                    let Some(acting_id) = acting_id else {
                        break 'one (id, Err(format!("tenant {tenant} is not in the plan")));
                    };
                    if let Some(expected) = precondition {
                        match ops::current_fingerprint(&client, &tenant, &op, &resolved).await {
                            Ok(Some(current)) if current.as_ref() != Some(&expected) => {
                                let what = if current.is_none() { "is gone" } else { "changed" };
                                break 'one (
                                    id,
                                    Err(format!("precondition failed: {addr} {what} since the plan was made; nothing was written for this action, plan again")),
                                );
                            }
                            Ok(_) => {}
                            Err(e) => break 'one (id, Err(e)),
                        }
                    }
                    let mut delay = first_poll;
                    let mut polls = 0;
                    loop {
                        let step = ops::run(&client, &tenant, &acting_id, &op, &resolved).await;
                        match step {
                            Ok(ops::Step::Pending(message)) => {
                                let now = Instant::now();
                                match deadline {
                                    Some(d) if now < d => {
                                        observer.event(&ApplyEvent::Polling {
                                            action: id,
                                            message,
                                        });
                                        tokio::time::sleep(delay.min(d - now)).await;
                                        polls += 1;
                                        // A few polls at the first delay (a wait is often
                                        // nearly over), then doubling up to 30 s.
                                        if polls >= STEADY_POLLS {
                                            delay = (delay * 2).min(Duration::from_secs(30));
                                        }
                                    }
                                    _ => break 'one (id, Ok(ops::Step::Pending(message))),
                                }
                            }
                            other => break 'one (id, other),
                        }
                    }
                    };
                    vec![(id, outcome)]
                });
                tasks.insert(handle.id(), task_ids);
            }
        }
        for ((tenant, _), chunks) in groups {
            for chunk in chunks {
                let client = client.clone();
                let task_ids = (
                    tenant.clone(),
                    chunk.iter().map(Member::action).collect(),
                    true,
                );
                let tenant = tenant.clone();
                let (mut assigns, mut removals) = (Vec::new(), Vec::new());
                for member in chunk {
                    match member {
                        Member::Assign(a) => assigns.push(a),
                        Member::Remove(r) => removals.push(r),
                    }
                }
                let handle = running.spawn(async move {
                    let mut outcomes = Vec::new();
                    if !assigns.is_empty() {
                        outcomes.extend(ops::assign_all(&client, &tenant, assigns).await);
                    }
                    if !removals.is_empty() {
                        outcomes.extend(ops::remove_all(&client, &tenant, removals).await);
                    }
                    outcomes
                });
                tasks.insert(handle.id(), task_ids);
            }
        }
        let Some(joined) = running.join_next_with_id().await else {
            break;
        };
        let (task, outcomes) = match joined {
            Ok((task, x)) => (task, x),
            // A panicking task is a bug in mtoctl: its actions fail, the others go on.
            Err(e) => match tasks.get(&e.id()) {
                Some((_, ids, _)) => (
                    e.id(),
                    ids.iter()
                        .map(|id| (*id, Err(format!("internal error: {e}"))))
                        .collect(),
                ),
                None => continue,
            },
        };
        if let Some((tenant, _, group)) = tasks.remove(&task) {
            if let Some(n) = in_flight.get_mut(&tenant) {
                *n = n.saturating_sub(1);
            }
            if group && let Some(n) = groups_in_flight.get_mut(&tenant) {
                *n = n.saturating_sub(1);
            }
        }
        for (id, outcome) in outcomes {
            let Some(i) = plan.index_of(&id) else {
                continue;
            };
            let status = match outcome {
                Ok(ops::Step::Done(created)) => {
                    if deps.referenced[i] {
                        resolved.insert(id, created.clone());
                    }
                    ActionStatus::Ok { created }
                }
                Ok(ops::Step::Pending(message)) => ActionStatus::Waiting { message },
                Err(error) => ActionStatus::Failed {
                    error: with_permission_hint(error, &plan.actions[i]),
                },
            };
            sched.settle(i, status);
        }
    }

    let statuses = std::mem::take(&mut sched.statuses);
    // What the run held is let go before the report copies the plan's names into its results.
    drop(sched);
    drop(deps);
    drop(resolved);
    let actions: Vec<ActionResult> = plan
        .actions
        .iter()
        .zip(statuses)
        .filter_map(|(action, status)| Some(result_of(action, status?)))
        .collect();
    let outcome = if actions
        .iter()
        .any(|a| matches!(a.status, ActionStatus::Failed { .. }))
    {
        ApplyOutcome::Failed
    } else if actions
        .iter()
        .any(|a| !matches!(a.status, ActionStatus::Ok { .. }))
    {
        ApplyOutcome::Waiting
    } else {
        ApplyOutcome::Applied
    };
    ApplyReport { outcome, actions }
}

/// Polls of a wait at the first delay before the delay starts doubling.
const STEADY_POLLS: u32 = 4;

/// Most assignments in one group: the reads of their configurations' assignments (`$batch`ed),
/// then up to five `$batch` calls of 20 writes.
const GROUP: usize = 100;

/// Most groups of assignments in flight per tenant: 400 writes, 20 `$batch` calls, are more
/// than the write lanes carry in a round trip once Graph's pacing binds, and each group waiting
/// for the pacer holds its requests in memory (with one slot per group, a hundred tenants held
/// all of their hundred thousand assignments at once).
const GROUPS_PER_TENANT: usize = 4;

/// A group's tenant alias and whether it removes.
type GroupKey = (String, bool);

/// Which ready queue of its tenant an action waits in: assignments to make and to remove
/// start in groups (see [`GROUPS_PER_TENANT`]), everything else one by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Lane {
    Single,
    Assign,
    Remove,
}

impl Lane {
    fn of(action: &mtoctl_planner::Action) -> Lane {
        use mtoctl_planner::plan::Operation;
        match &action.operation {
            _ if action.async_wait.is_some() => Lane::Single,
            Operation::AssignPrincipal { .. } => Lane::Assign,
            Operation::RemoveAssignment { .. } => Lane::Remove,
            _ => Lane::Single,
        }
    }

    fn key(action: &mtoctl_planner::Action) -> (String, Lane) {
        (action.tenant.as_str().to_owned(), Lane::of(action))
    }
}

/// One action of a group.
enum Member {
    /// An assignment to make.
    Assign(ops::Assignment<ActionId>),
    /// An assignment to remove.
    Remove(ops::Removal<ActionId>),
}

impl Member {
    fn action(&self) -> ActionId {
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
fn group_member(action: &mtoctl_planner::Action, resolved: &Resolved) -> Option<(bool, Member)> {
    use mtoctl_planner::plan::Operation;
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

fn result_of(action: &mtoctl_planner::Action, status: ActionStatus) -> ActionResult {
    ActionResult {
        id: action.id,
        addr: action.addr.clone(),
        tenant: action.tenant.as_str().to_owned(),
        summary: action.summary.clone(),
        status,
    }
}

/// An action Graph refused with 403 names what it needs: Graph's own message ("Insufficient
/// privileges") does not say which permission is missing.
fn with_permission_hint(error: String, action: &mtoctl_planner::Action) -> String {
    if !error.contains("HTTP 403") || action.required_permissions.is_empty() {
        return error;
    }
    let needs: Vec<&str> = action
        .required_permissions
        .iter()
        .map(|p| p.as_ref())
        .collect();
    format!(
        "{error}; this action needs the application permission{} {} in tenant {} (see `mtoctl permissions`)",
        if needs.len() > 1 { "s" } else { "" },
        needs.join(" and "),
        action.tenant
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staleness_compares_touched_addresses_only() {
        let plan_json = serde_json::json!({
            "format_version": "1.0", "mtoctl_version": "0", "spec_digest": "sha256:x",
            "tenants": [], "deferred": [], "notes": [], "complete": true, "applyable": true,
            "errored": false,
            "summary": {"create": 0, "update": 1, "delete": 0, "replace": 0, "wait": 0, "check": 0, "no_op": 0},
            "observed": {"a": "sha256:1", "b": "sha256:2"},
            "actions": [{
                "id": "a001", "addr": "a", "tenant": "t", "kind": "update",
                "operation": {"op": "reset_join"}, "depends_on": [],
                "expected_before": {"state": "fingerprint", "fingerprint": "sha256:1"},
                "destructive": false, "impact": null, "reason": "drift", "summary": "s",
                "changes": [], "async_wait": null, "required_permissions": []
            }, {
                "id": "a002", "addr": "c", "tenant": "t", "kind": "create",
                "operation": {"op": "reset_join"}, "depends_on": [],
                "expected_before": {"state": "absent"},
                "destructive": false, "impact": null, "reason": "missing", "summary": "s",
                "changes": [], "async_wait": null, "required_permissions": []
            }]
        });
        let plan: Plan = serde_json::from_value(plan_json).expect("plan");
        let fp = |s: &str| Fingerprint(s.to_owned());
        let addr = |s: &str| ResourceAddr(s.to_owned());
        let same: BTreeMap<_, _> =
            [(addr("a"), fp("sha256:1")), (addr("b"), fp("sha256:9"))].into();
        assert!(compare(&plan, &same).is_empty(), "b is not touched");
        let changed: BTreeMap<_, _> = [(addr("a"), fp("sha256:3"))].into();
        assert_eq!(compare(&plan, &changed), vec![addr("a")]);
        let appeared: BTreeMap<_, _> =
            [(addr("a"), fp("sha256:1")), (addr("c"), fp("sha256:4"))].into();
        assert_eq!(compare(&plan, &appeared), vec![addr("c")]);
    }

    fn action(id: &str, addr: &str, depends_on: &[&str], wait: bool) -> serde_json::Value {
        serde_json::json!({
            "id": id, "addr": addr, "tenant": "t", "kind": if wait { "wait" } else { "update" },
            "operation": {"op": "reset_join"}, "depends_on": depends_on,
            "expected_before": {"state": "fingerprint", "fingerprint": format!("sha256:{id}")},
            "destructive": false, "impact": null, "reason": "drift", "summary": "s",
            "changes": [], "required_permissions": [],
            "async_wait": if wait { serde_json::json!({"until": "join_active", "timeout_seconds": 60}) } else { serde_json::Value::Null }
        })
    }

    fn plan_of(actions: Vec<serde_json::Value>) -> Plan {
        serde_json::from_value(serde_json::json!({
            "format_version": "1.0", "mtoctl_version": "0", "spec_digest": "sha256:x",
            "tenants": [], "deferred": [], "notes": [], "complete": true, "applyable": true,
            "errored": false,
            "summary": {"create": 0, "update": 0, "delete": 0, "replace": 0, "wait": 0, "check": 0, "no_op": 0},
            "observed": {}, "actions": actions
        }))
        .expect("plan")
    }

    #[test]
    fn a_precondition_is_rechecked_unless_another_action_may_change_the_object_first() {
        let partner = "tenant.a.partner[\"b\"]";
        let sync = "tenant.a.partner[\"b\"].identity_sync";
        let checkable = |plan: &Plan, id: &str| {
            deps::Deps::of(plan)
                .checkable_precondition(
                    plan.action(&ActionId::parse(id).expect("id"))
                        .expect("action"),
                )
                .is_some()
        };
        // Independent: the identity sync write may land first and changes the partner's
        // fingerprint (it includes the policy); the partner write does not change the policy's.
        let plan = plan_of(vec![
            action("a001", partner, &[], false),
            action("a002", sync, &[], false),
        ]);
        assert!(!checkable(&plan, "a001"));
        assert!(checkable(&plan, "a002"));
        // Ordered after the partner write, the policy write cannot race it.
        let plan = plan_of(vec![
            action("a001", partner, &[], false),
            action("a002", sync, &["a001"], false),
        ]);
        assert!(checkable(&plan, "a001"));
        // A wait writes nothing: it is not re-checked.
        let plan = plan_of(vec![action("a001", "tenant.a.join_request", &[], true)]);
        assert!(!checkable(&plan, "a001"));
    }

    #[test]
    fn only_actions_another_refers_to_keep_what_they_created() {
        let with_op = |id: &str, op: serde_json::Value, depends_on: &[&str]| {
            let mut a = action(id, &format!("x.{id}"), depends_on, false);
            a["operation"] = op;
            a
        };
        let configuration = serde_json::json!({"ref": "created_by", "action": "a001"});
        let role = serde_json::json!({"ref": "existing", "id": "r"});
        let assign = serde_json::json!({
            "op": "assign_principal", "configuration": configuration, "app_role": role,
            "principal_id": "00000000-0000-4000-8000-000000000001", "kind": "user"
        });
        let plan = plan_of(vec![
            with_op(
                "a001",
                serde_json::json!({"op": "instantiate_sync_configuration", "display_name": "c"}),
                &[],
            ),
            with_op("a002", assign.clone(), &["a001"]),
            with_op("a003", assign, &["a001"]),
        ]);
        assert_eq!(deps::Deps::of(&plan).referenced, [true, false, false]);
    }

    #[test]
    fn dependents_and_in_plan_dependencies_follow_the_plan_and_ignore_outsiders() {
        let mut a4 = action("a004", "x", &["a002", "a003"], false);
        // A dependency on an id that is not in the plan (a hand-edited plan) holds nothing up.
        a4["depends_on"] = serde_json::json!(["a002", "a003", "a009"]);
        let plan = plan_of(vec![
            action("a001", "x", &[], false),
            action("a002", "y", &["a001"], false),
            action("a003", "x", &["a001"], false),
            a4,
        ]);
        let deps = deps::Deps::of(&plan);
        let of = |i: usize| deps.dependents(i).collect::<Vec<_>>();
        assert_eq!(of(0), [1, 2]);
        assert_eq!(of(1), [3]);
        assert_eq!(of(2), [3]);
        assert!(of(3).is_empty());
        assert_eq!(deps.in_plan_deps, [0, 1, 1, 2]);
        assert_eq!(plan.index_of(&ActionId::at(3)), Some(3));
        assert_eq!(plan.index_of(&ActionId::at(8)), None);
    }
}
