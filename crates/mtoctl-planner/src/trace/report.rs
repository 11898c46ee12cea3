//! The answer [`explain`](super::explain) gives: per sync direction, the verdict, the sentence
//! a person reads first, and the facts behind it (scope, scoping filter, events, the copy).

use serde::Serialize;

use mtoctl_model::ids::Alias;

use super::{ProvisioningEvent, SourceUser, TargetUser};

/// The answer: one entry per sync direction whose source has the user, in spec order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct TraceReport {
    /// The user principal name asked about.
    pub user_principal_name: String,
    /// Per direction.
    pub directions: Vec<DirectionTrace>,
}

/// What happens to the user in one sync direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// In scope, and a copy exists in the target.
    Provisioned,
    /// In scope, no copy yet and nothing failed: the next cycle (or a paused job) decides.
    NotProvisioned,
    /// In scope, and the latest attempt failed (or the job is in quarantine).
    Failed,
    /// Excluded: a guest or external user, or the scoping filter.
    OutOfScope,
    /// Neither assigned directly nor a direct member of an assigned group.
    NotAssigned,
    /// The configuration or its job does not exist.
    NotConfigured,
    /// What was read does not settle it (a regular expression, a group too large to check).
    Unknown,
}

/// One direction's verdict and the facts behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct DirectionTrace {
    /// Source alias.
    pub from: Alias,
    /// Target alias.
    pub to: Alias,
    /// The configuration's name.
    pub name: String,
    /// The verdict.
    pub verdict: Verdict,
    /// The verdict as a sentence for people, what to do included.
    pub summary: String,
    /// The user in the source.
    pub source: SourceUser,
    /// How the user stands with the scope.
    pub scope: ScopeTrace,
    /// The latest provisioning events for the user, newest first.
    pub events: Vec<ProvisioningEvent>,
    /// Why the events could not be read, if they could not.
    pub events_error: Option<String>,
    /// The user's copy in the target, if found.
    pub target: Option<TargetUser>,
    /// Further facts worth knowing, as sentences.
    pub notes: Vec<String>,
}

/// How the user stands with a configuration's scope.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct ScopeTrace {
    /// The configuration syncs every user (`scope.allUsers`).
    pub all_users: bool,
    /// The user is assigned directly.
    pub direct: bool,
    /// Assigned groups the user is a direct member of, by name.
    pub groups: Vec<String>,
    /// Assigned groups whose members were not all checked, by name.
    pub unchecked_groups: Vec<String>,
    /// The scoping filter, evaluated; `None` when the job has none.
    pub filter: Option<FilterTrace>,
}

/// The scoping filter evaluated against the user.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct FilterTrace {
    /// Whether the user passes (any group matches); `None` when it cannot be told.
    pub matches: Option<bool>,
    /// Each group.
    pub groups: Vec<FilterGroupTrace>,
}

/// One scoping filter group evaluated.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct FilterGroupTrace {
    /// The group's name.
    pub name: String,
    /// Whether every clause matches; `None` when it cannot be told.
    pub matches: Option<bool>,
    /// Each clause.
    pub clauses: Vec<ClauseTrace>,
}

/// One clause evaluated.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct ClauseTrace {
    /// The source attribute.
    pub attribute: String,
    /// The operator as the schema spells it (`EQUALS`).
    pub operator: String,
    /// The values compared with.
    pub values: Vec<String>,
    /// The user's value as text; `None` when empty or not read.
    pub value: Option<String>,
    /// Whether the clause holds; `None` when it cannot be told.
    pub matches: Option<bool>,
    /// Why it does not hold or cannot be told, in words (`department is Marketing`).
    pub why: Option<String>,
}
