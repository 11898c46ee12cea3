//! The plan's dependency graph, indexed once per apply: who depends on whom, and which
//! actions write each address. Plans of a hundred tenants hold hundreds of thousands of
//! actions; everything the scheduler asks per action must cost what that action touches, not
//! a walk over the whole plan.

use std::collections::HashSet;

use mtoctl_model::observed::Fingerprint;
use mtoctl_model::plan::{Action, Plan};
use mtoctl_model::plan::{ExpectedBefore, ObjectRef};

/// Indices into `plan.actions`, as `u32` and in flat vectors rather than maps and a vector
/// per action, which weighed on the apply's peak memory at scale (docs/benchmarks.md).
pub(crate) struct Deps<'p> {
    plan: &'p Plan,
    /// The direct dependents of action `i` are `dependents[starts[i]..starts[i + 1]]`.
    starts: Vec<u32>,
    dependents: Vec<u32>,
    /// For each action, how many of its dependencies are in the plan.
    pub(crate) in_plan_deps: Vec<u32>,
    /// Each action's address and position, sorted: the actions writing an address are a run.
    by_addr: Vec<(&'p str, u32)>,
    /// For each action, whether another one's operation refers to the object it creates
    /// (`ObjectRef::CreatedBy`, the only way an action reads what another created): only those
    /// results are kept for the actions after them (a plan's hundreds of thousands of
    /// assignments are referred to by none).
    pub(crate) referenced: Vec<bool>,
}

/// A position as stored: plans hold far fewer than 2^32 actions (`ActionId` is a `u32`).
fn narrow(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

impl<'p> Deps<'p> {
    pub(crate) fn of(plan: &'p Plan) -> Self {
        let n = plan.actions.len();
        let mut referenced = vec![false; n];
        let mut in_plan_deps = vec![0_u32; n];
        // Count each action's dependents, then place them: one vector for all.
        let mut starts = vec![0_u32; n + 1];
        for (i, a) in plan.actions.iter().enumerate() {
            for r in a.operation.refs() {
                if let ObjectRef::CreatedBy { action } = r
                    && let Some(j) = plan.index_of(action)
                {
                    referenced[j] = true;
                }
            }
            // A dependency outside the plan (none in a valid plan) does not hold anything up.
            for j in a.depends_on.iter().filter_map(|id| plan.index_of(id)) {
                starts[j + 1] += 1;
                in_plan_deps[i] += 1;
            }
        }
        for i in 0..n {
            starts[i + 1] += starts[i];
        }
        let mut next = starts.clone();
        let mut dependents = vec![0_u32; starts[n] as usize];
        for (i, a) in plan.actions.iter().enumerate() {
            for j in a.depends_on.iter().filter_map(|id| plan.index_of(id)) {
                dependents[next[j] as usize] = narrow(i);
                next[j] += 1;
            }
        }
        let mut by_addr: Vec<(&str, u32)> = plan
            .actions
            .iter()
            .enumerate()
            .map(|(i, a)| (a.addr.as_str(), narrow(i)))
            .collect();
        by_addr.sort_unstable();
        Self {
            plan,
            starts,
            dependents,
            in_plan_deps,
            by_addr,
            referenced,
        }
    }

    /// The actions that depend on action `i` directly.
    pub(crate) fn dependents(&self, i: usize) -> impl Iterator<Item = usize> + use<'_> {
        let (from, to) = (self.starts[i] as usize, self.starts[i + 1] as usize);
        self.dependents[from..to].iter().map(|&j| j as usize)
    }

    /// The actions writing `addr`, in plan order.
    fn writers(&self, addr: &str) -> impl Iterator<Item = usize> + use<'_> {
        let from = self.by_addr.partition_point(|(a, _)| *a < addr);
        let to = from + self.by_addr[from..].partition_point(|(a, _)| *a == addr);
        self.by_addr[from..to].iter().map(|&(_, i)| i as usize)
    }

    /// Whether `later` runs only after `earlier` (depends on it, directly or not).
    fn runs_after(&self, later: usize, earlier: usize) -> bool {
        let mut seen = HashSet::new();
        let mut frontier = vec![later];
        while let Some(i) = frontier.pop() {
            for d in &self.plan.actions[i].depends_on {
                let Some(j) = self.plan.index_of(d) else {
                    continue;
                };
                if j == earlier {
                    return true;
                }
                if seen.insert(j) {
                    frontier.push(j);
                }
            }
        }
        false
    }

    /// The fingerprint an action expects right before it writes, when it can be re-checked:
    /// waits write nothing, and an object that another action of the plan may change first
    /// (one that does not wait for this action, on an address whose fingerprint it
    /// [covers](mtoctl_model::plan::fingerprint::covers)) cannot be expected to still look as
    /// planned.
    pub(crate) fn checkable_precondition(&self, action: &Action) -> Option<Fingerprint> {
        let ExpectedBefore::Fingerprint { fingerprint } = &action.expected_before else {
            return None;
        };
        if action.async_wait.is_some() {
            return None;
        }
        let me = self.plan.index_of(&action.id)?;
        // `covers` holds for the same address and for a partner's identity sync policy.
        let guarded = action.addr.as_str();
        let sync = format!("{guarded}.identity_sync");
        let raced = [guarded, sync.as_str()]
            .iter()
            .flat_map(|addr| self.writers(addr))
            .any(|other| {
                other != me
                    && mtoctl_model::plan::fingerprint::covers(
                        &action.addr,
                        &self.plan.actions[other].addr,
                    )
                    && !self.runs_after(other, me)
            });
        (!raced).then(|| fingerprint.clone())
    }
}
