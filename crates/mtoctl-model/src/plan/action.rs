//! A plan's actions: ids, kinds, preconditions, reasons and what they change, for people.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::{Operation, ResourceAddr};
use crate::ids::Alias;
use crate::observed::Fingerprint;

/// A plan-local action id (`a001`, `a002`, … in execution order).
///
/// Held as the action's 0-based position, written as `a` and the 1-based position (at least
/// three digits). A number, not the written string: an assignment names several actions (its
/// own id, its dependencies, the configuration and role it refers to), hundreds of thousands
/// of times in a large plan (docs/benchmarks.md, memory).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ActionId(u32);

impl ActionId {
    /// The id of the action at `index` (0-based) in execution order.
    ///
    /// # Panics
    /// If `index` does not fit in 32 bits: four billion actions, far beyond what Graph's
    /// write quotas let one apply carry out.
    pub fn at(index: usize) -> Self {
        Self(u32::try_from(index).expect("fewer than 2^32 actions"))
    }

    /// The action's 0-based position in execution order.
    pub fn index(self) -> usize {
        self.0 as usize
    }

    /// Reads an id written as `a001`; `None` for anything else (`a0`, `b001`, `a01x`).
    pub fn parse(text: &str) -> Option<Self> {
        let digits = text.strip_prefix('a')?;
        if digits.len() < 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: u32 = digits.parse().ok()?;
        let id = Self(n.checked_sub(1)?);
        // One way to write each id: `a0001` would not read back as itself.
        (id.to_string() == text).then_some(id)
    }
}

impl std::fmt::Display for ActionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a{:03}", u64::from(self.0) + 1)
    }
}

impl std::fmt::Debug for ActionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ActionId({self})")
    }
}

impl Serialize for ActionId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ActionId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format_args!(
                "action id {text:?} is not of the form a001 (the letter a and the action's \
                 1-based position, at least three digits)"
            ))
        })
    }
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    /// Plan-local id.
    pub id: ActionId,
    /// The object acted on.
    pub addr: ResourceAddr,
    /// The tenant whose credential performs the action.
    pub tenant: Alias,
    /// What kind of change it is.
    pub kind: ActionKind,
    /// What to do, with its whole payload.
    pub operation: Operation,
    /// Actions that must have succeeded first (all earlier in the plan).
    pub depends_on: Vec<ActionId>,
    /// What the object must look like right before the action (the per-action precondition).
    pub expected_before: ExpectedBefore,
    /// Whether the action deletes something or takes users out of a sync scope.
    pub destructive: bool,
    /// What the action does to people and objects beyond itself.
    pub impact: Option<Box<Impact>>,
    /// Why the action is planned.
    pub reason: ActionReason,
    /// A one-line description for people.
    pub summary: String,
    /// Attribute-level changes for display (`path: before -> after`).
    pub changes: Vec<AttributeChange>,
    /// For waits: what is awaited and for how long.
    pub async_wait: Option<AsyncWait>,
    /// Microsoft Graph application permissions the tenant's credential needs for it, sorted.
    /// Borrowed from the permission table when planned (every assignment would otherwise hold
    /// its own list of the same two names), owned when read from a saved plan.
    pub required_permissions: Cow<'static, [Cow<'static, str>]>,
}

/// The kind of change an action makes (Terraform's action vocabulary plus MTO's needs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Creates an object.
    Create,
    /// Changes an object in place.
    Update,
    /// Deletes or removes an object.
    Delete,
    /// Deletes and recreates an object.
    Replace,
    /// Waits for asynchronous Graph work.
    Wait,
    /// Starts a synchronization job.
    Start,
    /// Pauses a synchronization job.
    Stop,
    /// Submits a join request.
    Join,
    /// A read-only check (credential validation).
    Check,
}

/// What an object must look like right before an action runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ExpectedBefore {
    /// The object must not exist.
    Absent,
    /// The object must still have this fingerprint (as read by the planner).
    Fingerprint {
        /// The fingerprint of the observed object.
        fingerprint: Fingerprint,
    },
    /// The object is created by an earlier action of this plan.
    CreatedBy {
        /// That action.
        action: ActionId,
    },
    /// The object is changed by an earlier action of this plan (a wait after the change that
    /// started it), so its state before this action is whatever that action left.
    ChangedBy {
        /// That action.
        action: ActionId,
    },
}

/// Why an action is planned (Terraform's `ActionReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionReason {
    /// The spec declares it and it does not exist.
    Missing,
    /// It exists and differs from the spec.
    Drift,
    /// It is a step in setting up an object this plan creates or adopts.
    Setup,
    /// An existing object with the spec's name is taken over instead of creating a duplicate.
    Adopt,
    /// The spec does not declare it and its `prune` list names its kind.
    Prune,
    /// The spec changed the set of users or groups in a sync scope.
    ScopeChange,
    /// Asynchronous Graph work must complete before the next round.
    Async,
    /// `mtoctl destroy` removes what the spec manages.
    Destroy,
    /// A previous asynchronous attempt failed and is retried.
    Retry,
}

/// One attribute change, for display. Values are rendered already (`true`, `null`, `"x"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeChange {
    /// Attribute path (`automatic_user_consent.inbound`).
    pub path: String,
    /// The observed value; `None` when the attribute is new.
    pub before: Option<String>,
    /// The planned value; `None` when the attribute goes away.
    pub after: Option<String>,
}

/// What a destructive action does beyond its own object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Impact {
    /// One sentence (`2 users leave the scope and will be soft-deleted in fabrikam`).
    pub message: String,
    /// Users leaving a sync scope, as far as they can be counted.
    pub users_leaving_scope: usize,
    /// Groups leaving a sync scope; their members are not read, so not counted.
    pub groups_leaving_scope: Vec<String>,
    /// Whether users leaving the scope are soft-deleted in the target (rather than kept).
    pub soft_deletes: bool,
}

impl Impact {
    /// An impact said in words only: nobody counted leaving a scope, nothing soft-deleted.
    pub fn described(message: String) -> Self {
        Self {
            message,
            users_leaving_scope: 0,
            groups_leaving_scope: Vec::new(),
            soft_deletes: false,
        }
    }
}

/// What a wait action waits for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AsyncWait {
    /// What must become true.
    pub until: WaitCondition,
    /// How long Microsoft says it can take, in seconds (the default timeout).
    pub timeout_seconds: u64,
}

/// A condition an asynchronous Graph change ends in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitCondition {
    /// The join request is processed and the tenant is an active member.
    JoinActive,
    /// The member's role change has landed.
    RoleChanged,
    /// The member's removal has completed.
    Removed,
}

impl WaitCondition {
    /// Graph's documented worst case: joins up to 4 h (Microsoft 365 admin center docs); role
    /// changes and removals "a few minutes", given an hour of slack.
    pub fn default_timeout_seconds(self) -> u64 {
        match self {
            WaitCondition::JoinActive => 4 * 3600,
            WaitCondition::RoleChanged | WaitCondition::Removed => 3600,
        }
    }

    /// Human wording.
    pub fn describe(self) -> &'static str {
        match self {
            WaitCondition::JoinActive => "join request to become active",
            WaitCondition::RoleChanged => "role change to complete",
            WaitCondition::Removed => "removal to complete",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_ids_are_written_a_and_the_1_based_position_and_read_back() {
        for (index, text) in [
            (0, "a001"),
            (98, "a099"),
            (999, "a1000"),
            (199_999, "a200000"),
        ] {
            let id = ActionId::at(index);
            assert_eq!(id.to_string(), text);
            assert_eq!(id.index(), index);
            assert_eq!(ActionId::parse(text), Some(id));
            let json = serde_json::to_string(&id).expect("serialised");
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<ActionId>(&json).expect("read"), id);
        }
    }

    #[test]
    fn action_ids_order_by_position_not_by_their_text() {
        // As strings, "a1000" sorts before "a999".
        assert!(ActionId::at(998) < ActionId::at(999));
        assert_eq!(ActionId::at(999).to_string(), "a1000");
    }

    #[test]
    fn anything_but_a_written_action_id_is_refused_with_the_form_it_should_have() {
        for text in [
            "a000",
            "a0001",
            "a01",
            "a",
            "b001",
            "a01x",
            "a-01",
            " a001",
            "a4294967297",
        ] {
            assert_eq!(ActionId::parse(text), None, "{text}");
        }
        let err = serde_json::from_str::<ActionId>("\"step1\"").expect_err("refused");
        assert!(
            err.to_string()
                .contains("\"step1\" is not of the form a001"),
            "{err}"
        );
        assert!(serde_json::from_str::<ActionId>("7").is_err());
    }
}
