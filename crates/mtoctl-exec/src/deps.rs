//! The plan's dependency graph, indexed once per apply: who depends on whom, and which
//! actions write each address. Plans of a hundred tenants hold hundreds of thousands of
//! actions; everything the scheduler asks per action must cost what that action touches, not
//! a walk over the whole plan.

use std::collections::{HashMap, HashSet};

use mtoctl_model::observed::Fingerprint;
use mtoctl_planner::plan::{ExpectedBefore, ObjectRef};
use mtoctl_planner::{Action, ActionId, Plan};

/// Indices into `plan.actions`.
pub(crate) struct Deps<'p> {
    plan: &'p Plan,
    index: HashMap<&'p ActionId, usize>,
    /// For each action, the actions that depend on it directly.
    pub(crate) dependents: Vec<Vec<usize>>,
    /// For each action, how many of its dependencies are in the plan.
    pub(crate) in_plan_deps: Vec<usize>,
    /// The actions writing each address.
    by_addr: HashMap<&'p str, Vec<usize>>,
    /// For each action, whether another one's operation refers to the object it creates
    /// (`ObjectRef::CreatedBy`, the only way an action reads what another created): only those
    /// results are kept for the actions after them (a plan's hundreds of thousands of
    /// assignments are referred to by none).
    pub(crate) referenced: Vec<bool>,
}

impl<'p> Deps<'p> {
    pub(crate) fn of(plan: &'p Plan) -> Self {
        let index = plan.positions();
        let mut dependents = vec![Vec::new(); plan.actions.len()];
        let mut in_plan_deps = vec![0; plan.actions.len()];
        let mut by_addr: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut referenced = vec![false; plan.actions.len()];
        for (i, a) in plan.actions.iter().enumerate() {
            for r in a.operation.refs() {
                if let ObjectRef::CreatedBy { action } = r
                    && let Some(&j) = index.get(action)
                {
                    referenced[j] = true;
                }
            }
            // A dependency outside the plan (none in a valid plan) does not hold anything up.
            for d in &a.depends_on {
                if let Some(&j) = index.get(d) {
                    dependents[j].push(i);
                    in_plan_deps[i] += 1;
                }
            }
            by_addr.entry(a.addr.as_str()).or_default().push(i);
        }
        Self {
            plan,
            index,
            dependents,
            in_plan_deps,
            by_addr,
            referenced,
        }
    }

    /// The index of an action of the plan.
    pub(crate) fn index(&self, id: &ActionId) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// Whether `later` runs only after `earlier` (depends on it, directly or not).
    fn runs_after(&self, later: usize, earlier: usize) -> bool {
        let mut seen = HashSet::new();
        let mut frontier = vec![later];
        while let Some(i) = frontier.pop() {
            for d in &self.plan.actions[i].depends_on {
                let Some(j) = self.index(d) else { continue };
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
    /// [covers](mtoctl_planner::fingerprint::covers)) cannot be expected to still look as
    /// planned.
    pub(crate) fn checkable_precondition(&self, action: &Action) -> Option<Fingerprint> {
        let ExpectedBefore::Fingerprint { fingerprint } = &action.expected_before else {
            return None;
        };
        if action.async_wait.is_some() {
            return None;
        }
        let me = self.index(&action.id)?;
        // `covers` holds for the same address and for a partner's identity sync policy.
        let guarded = action.addr.as_str();
        let sync = format!("{guarded}.identity_sync");
        let raced = [guarded, sync.as_str()]
            .iter()
            .filter_map(|addr| self.by_addr.get(addr))
            .flatten()
            .any(|&other| {
                other != me
                    && mtoctl_planner::fingerprint::covers(
                        &action.addr,
                        &self.plan.actions[other].addr,
                    )
                    && !self.runs_after(other, me)
            });
        (!raced).then(|| fingerprint.clone())
    }
}
