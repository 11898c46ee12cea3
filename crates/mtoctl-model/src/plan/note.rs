//! What a plan tells people besides its actions: notes and deferred work.

use crate::ids::Alias;
use serde::{Deserialize, Serialize};

use super::addr::ResourceAddr;
use super::{ActionId, ActionKind};

/// How much a note matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// For information (an unmanaged object, left alone).
    Info,
    /// Something the planner would not act on, or could not find; the rest of the plan is fine.
    Warning,
    /// Applying would be unsafe; the plan is marked not applyable.
    Error,
}

/// A remark attached to a plan.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Note {
    /// How much it matters.
    pub severity: Severity,
    /// The object concerned, if any.
    pub addr: Option<ResourceAddr>,
    /// What to know, in one or two sentences.
    pub message: String,
    /// The scope entry of the spec it is about, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<ScopeEntry>,
    /// Where the spec writes that entry (filled in by whoever has the spec's text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<SpecLocation>,
}

/// A name in a sync's scope, as the spec writes it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ScopeEntry {
    /// The sync's source tenant.
    pub from: Alias,
    /// The sync's target tenant.
    pub to: Alias,
    /// Which list of the scope.
    pub list: ScopeList,
    /// The entry's text (a UPN, a group name or an object id).
    pub name: String,
}

/// A list of a sync's entries a note can point at: the scope's users and groups, or its
/// attribute mappings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeList {
    /// `scope.users`.
    Users,
    /// `scope.groups`.
    Groups,
    /// `mappings` (the entry's name is the target attribute).
    Mappings,
}

impl ScopeList {
    /// The key of the list in the spec.
    pub fn key(self) -> &'static str {
        match self {
            ScopeList::Users => "users",
            ScopeList::Groups => "groups",
            ScopeList::Mappings => "mappings",
        }
    }
}

/// A place in the spec file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SpecLocation {
    /// The file as the user named it.
    pub file: String,
    /// Line, from 1.
    pub line: usize,
    /// Column in characters, from 1.
    pub column: usize,
}

impl std::fmt::Display for SpecLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// Work that cannot be planned yet because it needs asynchronous Graph work to complete first
/// (for example settings between two tenants before the second has joined).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeferredAction {
    /// The object concerned.
    pub addr: ResourceAddr,
    /// The tenant that will act on it.
    pub tenant: Alias,
    /// The kind of change expected.
    pub kind: ActionKind,
    /// What will be done.
    pub summary: String,
    /// Why it has to wait.
    pub reason: String,
    /// The wait actions of this plan it follows (empty when nothing in this plan ends the wait).
    pub waits_for: Vec<ActionId>,
}
