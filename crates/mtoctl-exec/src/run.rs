//! Carrying one plan out: actions started in dependency order as the schedule releases them,
//! independent ones concurrently within each tenant's share, waits polled, and the report.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mtoctl_graph::transport::GraphClient;
use mtoctl_model::ids::TenantId;
use mtoctl_model::plan::{Action, ActionId, ActionKind, Plan};
use tokio::task::JoinSet;

use crate::one::One;
use crate::races::Races;
use crate::report::{ActionResult, ActionStatus, ApplyOutcome, ApplyReport, Observer, RunActionId};
use crate::schedule::{
    GROUP, GROUPS_PER_TENANT, GroupKey, Lane, Member, ROOM_FOR_GROUPS, Resolved, Schedule,
    group_member,
};
use crate::{ApplyOptions, deps, ops};

/// Applies the plan. Call [`crate::check_plan`] and [`crate::stale_objects`] first (the CLI does); this
/// function only carries the actions out.
///
/// The plan is taken, not borrowed: the report moves each action's address, tenant and summary
/// out of it instead of copying them beside the whole plan (B4's peak, docs/benchmarks.md).
pub async fn apply(
    plan: Plan,
    client: &GraphClient,
    options: &ApplyOptions,
    observer: Arc<dyn Observer>,
) -> ApplyReport {
    let mut actions = Vec::new();
    let outcome = apply_into(plan, client, options, observer, &mut actions).await;
    ApplyReport {
        round: options.round.max(1),
        outcome,
        actions,
    }
}

/// [`apply`], its results appended to `results` (a run's, every round's): a round's own list
/// appended after would hold its 200,000 results twice for a moment.
pub(crate) async fn apply_into(
    plan: Plan,
    client: &GraphClient,
    options: &ApplyOptions,
    observer: Arc<dyn Observer>,
    results: &mut Vec<ActionResult>,
) -> ApplyOutcome {
    let round = options.round.max(1);
    let statuses = carry_out(&plan, client, options, observer).await;
    let first = results.len();
    results.reserve(plan.actions.len());
    results.extend(
        plan.actions
            .into_iter()
            .zip(statuses)
            .filter_map(|(action, status)| {
                Some(ActionResult {
                    id: RunActionId {
                        round,
                        action: action.id,
                    },
                    round,
                    addr: action.addr,
                    tenant: action.tenant.0,
                    summary: action.summary,
                    status: status?,
                })
            }),
    );
    let this_round = &results[first..];
    if this_round
        .iter()
        .any(|a| matches!(a.status, ActionStatus::Failed { .. }))
    {
        ApplyOutcome::Failed
    } else if this_round
        .iter()
        .any(|a| !matches!(a.status, ActionStatus::Ok { .. }))
    {
        ApplyOutcome::Waiting
    } else {
        ApplyOutcome::Applied
    }
}

/// Runs the plan's actions and says how each settled (`None` for one that never did).
async fn carry_out(
    plan: &Plan,
    client: &GraphClient,
    options: &ApplyOptions,
    observer: Arc<dyn Observer>,
) -> Vec<Option<ActionStatus>> {
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
    let round = options.round.max(1);
    let mut sched = Schedule::new(plan, &deps, observer.clone(), round);
    // A task carries one action, or a group of one tenant's assignments (made or removed).
    let mut running: JoinSet<Vec<(ActionId, Result<ops::Step, ops::OpError>)>> = JoinSet::new();
    // Each task's tenant, actions, and what it carries.
    let mut tasks: HashMap<tokio::task::Id, (String, Vec<ActionId>, Task)> = HashMap::new();
    let concurrency = options.concurrency.max(1);
    let per_tenant = options.per_tenant.max(1);
    // Actions in flight per tenant alias.
    let mut in_flight: BTreeMap<String, usize> = BTreeMap::new();
    // Groups of assignments in flight per tenant alias (each also one of `in_flight`).
    let mut groups_in_flight: BTreeMap<String, usize> = BTreeMap::new();
    // Waits in flight: they sleep between polls, so they take no one's room (a hub's 99 joins
    // held 99 of the apply's 256 slots for seconds while the spokes' chains queued).
    let mut waits_running = 0usize;
    let resolved = Resolved::default();
    let races = Races::default();
    // The lane the last pass found the whole apply full at: the next pass begins there, so
    // that the slots freed go to the tenants that waited for them, not to the next steps of
    // the tenants first in order (a mesh's last tenants started seconds late).
    let mut first_lane: Option<(String, Lane)> = None;

    loop {
        // Start what can start, lane by lane (single actions first, so a tenant's chains
        // progress), each in plan order, as long as the tenant (and the whole
        // apply) has room. A tenant's ready assignments to make, and its ready assignments to
        // remove, join a group of each (one slot of the tenant, at most GROUPS_PER_TENANT),
        // started once the pass is over. A lane stops at its first action that cannot start,
        // so a pass costs what it starts, not the length of the queues.
        let mut groups: BTreeMap<GroupKey, Vec<Vec<Member>>> = BTreeMap::new();
        // Every tenant's single actions, from the lane the last pass found no room for, then
        // the groups in the tenants' order: passed round, group slots went to a hub's spokes,
        // which wrote unheld by the hub's pace into a flood of 429s.
        let (mut lanes, groups_lanes): (Vec<_>, Vec<_>) = sched
            .ready
            .keys()
            .cloned()
            .partition(|(_, lane)| *lane == Lane::Single);
        if let Some(first) = first_lane.take() {
            let at = lanes.partition_point(|lane| *lane < first);
            lanes.rotate_left(at);
        }
        lanes.extend(groups_lanes);
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
                let started = running.len().saturating_sub(waits_running)
                    + groups.values().map(Vec::len).sum::<usize>();
                let wait = action.async_wait.is_some();
                let apply_full = !wait && started >= concurrency;
                let full = apply_full || (!wait && busy >= per_tenant);
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
                let groups_full = new_group && started >= ROOM_FOR_GROUPS;
                let capped = groups_full
                    || (new_group
                        && groups_in_flight.get(&tenant).copied().unwrap_or(0)
                            >= GROUPS_PER_TENANT);
                if !open && (full || capped) {
                    // Nothing more of this lane can start until something finishes.
                    if apply_full && lane.1 == Lane::Single && first_lane.is_none() {
                        first_lane = Some(lane.clone());
                    }
                    break;
                }
                if wait {
                    waits_running += 1;
                } else if !open {
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
                let tenant = action.tenant.as_str().to_owned();
                // A wait gives up at the sooner of `--wait` and its own timeout in the plan.
                let deadline = match (deadline, &action.async_wait) {
                    (Some(d), Some(w)) => {
                        Some(d.min(Instant::now() + Duration::from_secs(w.timeout_seconds)))
                    }
                    (d, _) => d,
                };
                let one = One {
                    client: client.clone(),
                    acting_id: ids.get(&tenant).cloned(),
                    tenant: tenant.clone(),
                    action: RunActionId {
                        round,
                        action: action.id,
                    },
                    operation: action.operation.clone(),
                    addr: action.addr.clone(),
                    precondition: deps.checkable_precondition(action),
                    resolved: resolved.clone(),
                    races: races.clone(),
                    observer: observer.clone(),
                    first_poll: options.first_poll,
                    deadline,
                };
                let task_ids = (
                    tenant,
                    vec![action.id],
                    if wait { Task::Wait } else { Task::Single },
                );
                let handle = running.spawn(async move { vec![one.carry_out().await] });
                tasks.insert(handle.id(), task_ids);
            }
        }
        for ((tenant, _), chunks) in groups {
            for chunk in chunks {
                let client = client.clone();
                let task_ids = (
                    tenant.clone(),
                    chunk.iter().map(Member::action).collect(),
                    Task::Group,
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
                        .map(|id| (*id, Err(ops::OpError::Panicked(e.to_string()))))
                        .collect(),
                ),
                None => continue,
            },
        };
        if let Some((tenant, _, kind)) = tasks.remove(&task) {
            if kind == Task::Wait {
                waits_running = waits_running.saturating_sub(1);
            } else if let Some(n) = in_flight.get_mut(&tenant) {
                *n = n.saturating_sub(1);
            }
            if kind == Task::Group
                && let Some(n) = groups_in_flight.get_mut(&tenant)
            {
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

    // An object lost to a concurrent run's twin fails the action that made it.
    for (id, why) in races.settle().await {
        if let Some(i) = plan.index_of(&id) {
            sched.statuses[i] = Some(ActionStatus::Failed { error: why });
        }
    }
    std::mem::take(&mut sched.statuses)
}

/// What a running task carries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Task {
    /// One action.
    Single,
    /// One action that waits on Graph, polling.
    Wait,
    /// A group of one tenant's assignments.
    Group,
}

/// An action Graph refused with 403 names what it needs: Graph's own message ("Insufficient
/// privileges") does not say which permission is missing.
fn with_permission_hint(error: ops::OpError, action: &Action) -> String {
    let text = ops::message(&error);
    if !error.forbidden() || action.required_permissions.is_empty() {
        return text;
    }
    let needs: Vec<&str> = action
        .required_permissions
        .iter()
        .map(|p| p.as_ref())
        .collect();
    format!(
        "{text}; this action needs the application permission{} {} in tenant {} (see `mtoctl permissions`)",
        if needs.len() > 1 { "s" } else { "" },
        needs.join(" and "),
        action.tenant
    )
}
