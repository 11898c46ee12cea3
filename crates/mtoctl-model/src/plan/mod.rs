//! The plan: a versioned, serialisable list of actions with their dependencies.
//!
//! A plan is an artifact. It is reviewed in a pull request, saved to a file, rendered offline
//! and carried out by an executor that makes no decisions of its own. So it holds, per action,
//! everything the executor needs (a domain-level [`Operation`] with its whole payload) and
//! everything a reviewer needs (address, reason, attribute changes, impact), and nothing that
//! varies between two runs on the same inputs: no timestamps, no random ids, maps sorted.
//!
//! Display-only fields, which must never influence apply: `summary`, `reason`, `changes`,
//! `impact`, `notes`, `deferred` and the plan's `summary`. The executor reads `operation`,
//! `depends_on`, `expected_before`, `tenant` and `async_wait`.
//!
//! Operations are Graph-agnostic: the planner never knows URLs or JSON shapes (only
//! `mtoctl-graph` does). Objects that this plan itself creates are named symbolically with
//! [`ObjectRef::CreatedBy`]; the executor resolves them from its own report at run time.

mod action;
mod addr;
pub mod fingerprint;
mod note;
mod operation;
mod read;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{Alias, TenantId};
use crate::observed::Fingerprint;

pub use action::{
    Action, ActionId, ActionKind, ActionReason, AsyncWait, AttributeChange, ExpectedBefore, Impact,
    WaitCondition,
};
pub use addr::ResourceAddr;
pub use note::{DeferredAction, Note, ScopeEntry, ScopeList, Severity, SpecLocation};
pub use operation::{
    B2bValue, ConsentValue, ObjectKind, ObjectRef, Operation, PartnerSettingsPatch, PrincipalKind,
    RuleValue, ScopingClause, ScopingFilterGroup, TrustValue,
};
pub use read::{MAX_PLAN_BYTES, PlanReadError};

/// The plan format's version. Minor versions are additive; consumers ignore unknown keys.
pub const FORMAT_VERSION: &str = "1.0";

/// An ordered, reviewable plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Always [`FORMAT_VERSION`] for plans this crate writes.
    pub format_version: String,
    /// The mtoctl version that computed the plan.
    pub mtoctl_version: String,
    /// Fingerprint of the desired state the plan was computed from.
    pub spec_digest: Fingerprint,
    /// What the plan does with the spec: bring Graph to it, or remove what it manages. Absent
    /// in the JSON for `apply`, the plans written before `destroy` existed.
    #[serde(default, skip_serializing_if = "PlanMode::is_apply")]
    pub mode: PlanMode,
    /// The tenants of the spec, in spec order (alias and id), for renderers.
    pub tenants: Vec<PlanTenant>,
    /// Fingerprint of every object the planner read, by address: the staleness guard.
    pub observed: BTreeMap<ResourceAddr, Fingerprint>,
    /// The actions, in execution order.
    pub actions: Vec<Action>,
    /// Work that can only be planned once asynchronous Graph work has completed.
    pub deferred: Vec<DeferredAction>,
    /// Things the reviewer should know: unmanaged objects, refusals, warnings.
    pub notes: Vec<Note>,
    /// False when another plan/apply round is needed after this one (deferred work exists).
    pub complete: bool,
    /// False when applying this plan would be unsafe (a note of severity `error` says why).
    pub applyable: bool,
    /// True when the observed state could not be read completely. The planner itself always
    /// writes false (it refuses incomplete input); the CLI sets it for partial reads.
    pub errored: bool,
    /// Counts per kind of change.
    pub summary: Summary,
}

impl Plan {
    /// Whether the plan changes or waits for anything.
    pub fn has_changes(&self) -> bool {
        !self.actions.is_empty()
    }

    /// Whether any action is destructive.
    pub fn has_destruction(&self) -> bool {
        self.actions.iter().any(|a| a.destructive)
    }

    /// The action with this id.
    pub fn action(&self, id: &ActionId) -> Option<&Action> {
        self.index_of(id).map(|i| &self.actions[i])
    }

    /// Where the action with this id is in the plan. Ids are positions (`a001` is the first
    /// action), so this is a lookup, not a walk; it is checked against the action found there,
    /// since a saved plan is user-editable input.
    pub fn index_of(&self, id: &ActionId) -> Option<usize> {
        let i = id.index();
        (self.actions.get(i)?.id == *id).then_some(i)
    }
}

/// What a plan was computed for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanMode {
    /// Bring Graph to the spec (`plan`, `apply`).
    #[default]
    Apply,
    /// Remove everything the spec manages (`plan --destroy`, `destroy`).
    Destroy,
}

impl PlanMode {
    /// Whether this is the default mode (not written to JSON).
    pub fn is_apply(&self) -> bool {
        *self == PlanMode::Apply
    }
}

/// A tenant of the spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanTenant {
    /// The spec's alias.
    pub alias: Alias,
    /// The Entra tenant id.
    pub tenant_id: TenantId,
}

/// Counts per kind of change. `update` also counts starts, stops, joins and role changes;
/// credential checks are counted in `check`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Objects created.
    pub create: usize,
    /// Objects changed in place (including job starts and stops and join submissions).
    pub update: usize,
    /// Objects deleted or removed.
    pub delete: usize,
    /// Objects replaced.
    pub replace: usize,
    /// Waits for asynchronous Graph work.
    pub wait: usize,
    /// Read-only checks (credential validation).
    pub check: usize,
    /// Managed objects read and found as the spec wants them.
    pub no_op: usize,
}
