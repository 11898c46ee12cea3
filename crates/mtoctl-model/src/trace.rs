//! What `mtoctl status --user UPN` reads about one person after `collect`: the user in each
//! source tenant that has them, with the attributes the scoping filters name, their direct
//! memberships of the assigned groups, the latest provisioning events for them and their copy
//! in the target. Plain data, filled by `mtoctl-graph`'s `trace`, judged by the planner's
//! `trace`. No I/O here.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::health::UserIdentity;
use crate::ids::Alias;

/// Everything read about one user.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceObservation {
    /// The user principal name asked about, as given.
    pub user_principal_name: String,
    /// The user in each source tenant that has them, in spec order.
    pub sources: Vec<SourceUser>,
    /// What was read for each sync direction from those tenants, in spec order.
    pub directions: Vec<DirectionObservation>,
}

/// The user as their source tenant has them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct SourceUser {
    /// The tenant (each direction names it as `from`).
    #[serde(skip)]
    pub tenant: Alias,
    /// Object id.
    pub id: String,
    /// User principal name.
    pub user_principal_name: String,
    /// Display name.
    pub display_name: Option<String>,
    /// `Member` or `Guest`.
    pub user_type: Option<String>,
    /// Whether the account can sign in.
    pub account_enabled: Option<bool>,
    /// The attributes the scoping filters name, keyed by the filter's attribute name in
    /// lowercase. An attribute with no Graph property mtoctl knows, or whose value is a list
    /// or an object, is absent.
    #[serde(skip)]
    pub attributes: BTreeMap<String, Attribute>,
}

/// A user attribute's value as Graph gave it, as the scoping filter sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attribute {
    /// `null`.
    Null,
    /// A string.
    Text(String),
    /// A boolean.
    Bool(bool),
    /// A number, as written.
    Number(String),
}

impl Attribute {
    /// The value of a JSON scalar; `None` for a list or an object.
    pub fn of(value: &Value) -> Option<Self> {
        Some(match value {
            Value::Null => Self::Null,
            Value::String(s) => Self::Text(s.clone()),
            Value::Bool(b) => Self::Bool(*b),
            Value::Number(n) => Self::Number(n.to_string()),
            Value::Array(_) | Value::Object(_) => return None,
        })
    }

    /// The value as text; `None` when empty.
    pub fn text(&self) -> Option<String> {
        match self {
            Attribute::Null => None,
            Attribute::Text(s) if s.is_empty() => None,
            Attribute::Text(s) | Attribute::Number(s) => Some(s.clone()),
            Attribute::Bool(b) => Some(b.to_string()),
        }
    }
}

/// What was read for one sync direction.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectionObservation {
    /// Source alias.
    pub from: Alias,
    /// Target alias.
    pub to: Alias,
    /// The configuration's name.
    pub name: String,
    /// Ids of the configuration's assigned groups the user is a direct member of.
    pub member_of: Vec<String>,
    /// Ids of assigned groups whose members were not all read (too many to read).
    pub unchecked_groups: Vec<String>,
    /// The job's latest events for the user, newest first (none when the configuration has no
    /// job), or why they could not be read.
    pub events: Result<Vec<ProvisioningEvent>, String>,
    /// The user's copies in the target (normally none or one).
    pub copies: Vec<TargetUser>,
}

/// One provisioning event (`provisioningObjectSummary`) for the user, as far as it explains
/// something.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct ProvisioningEvent {
    /// When it happened (`activityDateTime`).
    pub at: Option<String>,
    /// `create`, `update`, `delete`, `disable`, `other`, … as Graph spells it.
    pub action: Option<String>,
    /// `success`, `failure`, `skipped`, `warning`, … as Graph spells it.
    pub status: Option<String>,
    /// Why it failed or was skipped: the error's reason (or code), else the description of
    /// the step that failed or skipped.
    pub reason: Option<String>,
    /// The name of the step that failed, if one did.
    pub failing_step: Option<String>,
    /// The target object's id (`targetIdentity.id`), when known.
    pub target_id: Option<String>,
}

/// The user's copy in the target tenant.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct TargetUser {
    /// Object id.
    pub id: String,
    /// Its UPN (`alice_contoso.com#EXT#@fabrikam.com`).
    pub user_principal_name: String,
    /// `Member` or `Guest`.
    pub user_type: Option<String>,
    /// Whether it can sign in.
    pub account_enabled: Option<bool>,
    /// Whether it shows in the global address list.
    pub show_in_address_list: Option<bool>,
    /// `Invitation` for B2B users.
    pub creation_type: Option<String>,
    /// `Accepted`, `PendingAcceptance`.
    pub external_user_state: Option<String>,
    /// Its identities.
    pub identities: Vec<UserIdentity>,
}
