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

mod ops;
pub mod report;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mtoctl_graph::transport::GraphClient;
use mtoctl_model::DesiredState;
use mtoctl_model::ids::TenantId;
use mtoctl_model::observed::Fingerprint;
use mtoctl_planner::plan::{ExpectedBefore, FORMAT_VERSION, ObjectRef};
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
            // Enough that a hub's slow writes (an `instantiate` takes seconds) overlap; the
            // client's write lanes and pacer bound what reaches Graph.
            per_tenant: 32,
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
    /// Done; its ids are in the apply's `done` map.
    Done,
    Failed,
    Waiting,
    Skipped,
}

struct Resolved(BTreeMap<ActionId, Created>);

impl ops::Resolve for Resolved {
    fn object(&self, r: &ObjectRef) -> Result<String, String> {
        match r {
            ObjectRef::Existing { id } => Ok(id.clone()),
            ObjectRef::CreatedBy { action } => self
                .0
                .get(action)
                .and_then(|c| c.id.clone())
                .ok_or_else(|| format!("{action} reported no id for the object it created")),
        }
    }

    fn role(&self, r: &ObjectRef) -> Result<String, String> {
        match r {
            ObjectRef::Existing { id } => Ok(id.clone()),
            ObjectRef::CreatedBy { action } => self
                .0
                .get(action)
                .and_then(|c| c.user_role_id.clone())
                .ok_or_else(|| {
                    format!("the configuration created by {action} has no app role for users")
                }),
        }
    }

    fn made_here(&self, r: &ObjectRef) -> bool {
        match r {
            ObjectRef::Existing { .. } => false,
            ObjectRef::CreatedBy { action } => self.0.get(action).is_some_and(|c| !c.adopted),
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
    let mut states: BTreeMap<ActionId, State> = plan
        .actions
        .iter()
        .map(|a| (a.id.clone(), State::Pending))
        .collect();
    let mut results: BTreeMap<ActionId, ActionResult> = BTreeMap::new();
    // A task carries one action, or a group of one tenant's assignments (made or removed).
    let mut running: JoinSet<Vec<(ActionId, Result<ops::Step, String>)>> = JoinSet::new();
    let mut tasks: std::collections::HashMap<tokio::task::Id, (String, Vec<ActionId>)> =
        std::collections::HashMap::new();
    let concurrency = options.concurrency.max(1);
    let per_tenant = options.per_tenant.max(1);
    // Actions in flight per tenant alias.
    let mut in_flight: BTreeMap<String, usize> = BTreeMap::new();
    // The ids made so far, shared by every task started before the next action finishes
    // (rebuilt only when one does, not once per started action).
    let mut done: BTreeMap<ActionId, Created> = BTreeMap::new();
    let mut snapshot: Option<Arc<Resolved>> = None;

    loop {
        // Skip what cannot run; start what can, in plan order, as long as its tenant (and the
        // whole apply) has room. A tenant's ready assignments to make, and its ready
        // assignments to remove, join a group of each (one slot of the tenant), started once
        // the pass is over.
        let mut groups: BTreeMap<GroupKey, Vec<Vec<Member>>> = BTreeMap::new();
        let mut progressed = true;
        while progressed {
            progressed = false;
            for action in &plan.actions {
                if !matches!(states[&action.id], State::Pending) {
                    continue;
                }
                let blocker = action.depends_on.iter().find_map(|d| match states.get(d) {
                    Some(State::Failed) | Some(State::Skipped) => Some((d.clone(), false)),
                    Some(State::Waiting) => Some((d.clone(), true)),
                    _ => None,
                });
                let blocker = blocker.map(|(d, waiting)| {
                    // Name the root cause: a skipped dependency's own reason.
                    match results.get(&d).map(|r| &r.status) {
                        Some(ActionStatus::Skipped { reason }) => reason.clone(),
                        _ if waiting => SkipReason::DependencyWaiting { action: d },
                        _ => SkipReason::DependencyFailed { action: d },
                    }
                });
                if let Some(reason) = blocker {
                    states.insert(action.id.clone(), State::Skipped);
                    let result = result_of(action, ActionStatus::Skipped { reason });
                    observer.event(&ApplyEvent::Finished {
                        result: result.clone(),
                    });
                    results.insert(action.id.clone(), result);
                    progressed = true;
                    continue;
                }
                let ready = action
                    .depends_on
                    .iter()
                    .all(|d| matches!(states.get(d), Some(State::Done) | None));
                if !ready {
                    continue;
                }
                let tenant = action.tenant.as_str();
                let resolved = snapshot
                    .get_or_insert_with(|| Arc::new(Resolved(done.clone())))
                    .clone();
                let group = group_member(plan, action, &resolved)
                    .filter(|_| ids.contains_key(tenant))
                    .map(|(removal, member)| ((tenant.to_owned(), removal), member));
                let open = group.as_ref().and_then(|(key, _)| {
                    groups
                        .get(key)
                        .and_then(|g| g.last())
                        .filter(|g| g.len() < GROUP)
                        .map(|_| ())
                });
                let busy = in_flight.get(tenant).copied().unwrap_or(0);
                let started = running.len() + groups.values().map(Vec::len).sum::<usize>();
                if open.is_none() && (started >= concurrency || busy >= per_tenant) {
                    continue;
                }
                if open.is_none() {
                    *in_flight.entry(tenant.to_owned()).or_default() += 1;
                }
                states.insert(action.id.clone(), State::Running);
                observer.event(&ApplyEvent::Started {
                    action: action.id.clone(),
                    addr: action.addr.clone(),
                    tenant: action.tenant.as_str().to_owned(),
                    summary: action.summary.clone(),
                });
                progressed = true;
                if let Some((key, item)) = group {
                    let chunks = groups.entry(key).or_default();
                    if open.is_none() {
                        chunks.push(Vec::new());
                    }
                    if let Some(chunk) = chunks.last_mut() {
                        chunk.push(item);
                    }
                    continue;
                }
                let client = client.clone();
                let tenant = action.tenant.as_str().to_owned();
                let acting_id = ids.get(&tenant).cloned();
                let op = action.operation.clone();
                let id = action.id.clone();
                let precondition = checkable_precondition(plan, action);
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
                let task_ids = (tenant.clone(), vec![id.clone()]);
                let handle = running.spawn(async move {
                    let (id, outcome) = 'one: {
                    let Some(acting_id) = acting_id else {
                        break 'one (id, Err(format!("tenant {tenant} is not in the plan")));
                    };
                    if let Some(expected) = precondition {
                        match ops::current_fingerprint(&client, &tenant, &op, &*resolved).await {
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
                        let step = ops::run(&client, &tenant, &acting_id, &op, &*resolved).await;
                        match step {
                            Ok(ops::Step::Pending(message)) => {
                                let now = Instant::now();
                                match deadline {
                                    Some(d) if now < d => {
                                        observer.event(&ApplyEvent::Polling {
                                            action: id.clone(),
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
                let task_ids = (tenant.clone(), chunk.iter().map(Member::action).collect());
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
                Some((_, ids)) => (
                    e.id(),
                    ids.iter()
                        .map(|id| (id.clone(), Err(format!("internal error: {e}"))))
                        .collect(),
                ),
                None => continue,
            },
        };
        if let Some((tenant, _)) = tasks.remove(&task)
            && let Some(n) = in_flight.get_mut(&tenant)
        {
            *n = n.saturating_sub(1);
        }
        for (id, outcome) in outcomes {
            let Some(action) = plan.action(&id) else {
                continue;
            };
            let (state, status) = match outcome {
                Ok(ops::Step::Done(created)) => {
                    done.insert(id.clone(), created.clone());
                    snapshot = None;
                    (State::Done, ActionStatus::Ok { created })
                }
                Ok(ops::Step::Pending(message)) => {
                    (State::Waiting, ActionStatus::Waiting { message })
                }
                Err(error) => (State::Failed, ActionStatus::Failed { error }),
            };
            states.insert(id.clone(), state);
            let result = result_of(action, status);
            observer.event(&ApplyEvent::Finished {
                result: result.clone(),
            });
            results.insert(id, result);
        }
    }

    let actions: Vec<ActionResult> = plan
        .actions
        .iter()
        .filter_map(|a| results.remove(&a.id))
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

/// A group's tenant alias and whether it removes.
type GroupKey = (String, bool);

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
            Member::Assign(a) => a.action.clone(),
            Member::Remove(r) => r.action.clone(),
        }
    }
}

/// An action that can join a group: an assignment to make (which carries no precondition: it
/// finds before it creates) or to remove (its precondition, if re-checkable, goes with it),
/// and whether it removes. `None` for any
/// other action, or when an id does not resolve (it then runs alone and reports why).
fn group_member(
    plan: &Plan,
    action: &mtoctl_planner::Action,
    resolved: &Resolved,
) -> Option<(bool, Member)> {
    use mtoctl_planner::plan::Operation;
    use ops::Resolve;
    if action.async_wait.is_some() {
        return None;
    }
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
                    action: action.id.clone(),
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
                    action: action.id.clone(),
                    sp,
                    assignment_id: assignment_id.clone(),
                    addr: action.addr.to_string(),
                    expected: checkable_precondition(plan, action),
                }),
            ))
        }
        _ => None,
    }
}

/// The fingerprint an action expects right before it writes, when it can be re-checked:
/// waits write nothing, and an object that another action of the plan may change first (one
/// that does not wait for this action, on an address whose fingerprint it
/// [covers](mtoctl_planner::fingerprint::covers)) cannot be expected to still look as planned.
fn checkable_precondition(plan: &Plan, action: &mtoctl_planner::Action) -> Option<Fingerprint> {
    let ExpectedBefore::Fingerprint { fingerprint } = &action.expected_before else {
        return None;
    };
    if action.async_wait.is_some() {
        return None;
    }
    let after = descendants(plan, &action.id);
    let raced = plan.actions.iter().any(|other| {
        other.id != action.id
            && mtoctl_planner::fingerprint::covers(&action.addr, &other.addr)
            && !after.contains(&other.id)
    });
    (!raced).then(|| fingerprint.clone())
}

/// The actions that (transitively) depend on `id`: they run only after it.
fn descendants(plan: &Plan, id: &ActionId) -> BTreeSet<ActionId> {
    let mut out: BTreeSet<ActionId> = BTreeSet::new();
    let mut frontier = vec![id.clone()];
    while let Some(current) = frontier.pop() {
        for a in &plan.actions {
            if a.depends_on.contains(&current) && out.insert(a.id.clone()) {
                frontier.push(a.id.clone());
            }
        }
    }
    out
}

fn result_of(action: &mtoctl_planner::Action, status: ActionStatus) -> ActionResult {
    ActionResult {
        id: action.id.clone(),
        addr: action.addr.clone(),
        tenant: action.tenant.as_str().to_owned(),
        summary: action.summary.clone(),
        status,
    }
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
            checkable_precondition(plan, plan.action(&ActionId(id.into())).expect("action"))
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
}
