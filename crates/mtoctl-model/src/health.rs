//! What `mtoctl status` and `mtoctl sync now` read beyond the planner's observation: the health
//! of each sync direction's job (its last cycle, counts and quarantine), the users assigned to
//! it in the source (a sample, or all of them) and their copies in the target with the
//! properties that make them work there, the groups it provisions as groups with their members
//! on both sides, and what `provisionOnDemand` answered. Plain data, filled by `mtoctl-graph`,
//! judged by the planner's `status` module. No I/O here.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::ids::Alias;

/// Everything read about the health of every sync direction of a spec.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HealthObservation {
    /// One per direction that has a configuration with a job; directions without one are
    /// absent.
    pub syncs: Vec<SyncHealthObservation>,
}

impl HealthObservation {
    /// The health of the direction `from` → `to`, if it was read.
    pub fn sync(&self, from: &Alias, to: &Alias) -> Option<&SyncHealthObservation> {
        self.syncs.iter().find(|s| &s.from == from && &s.to == to)
    }
}

/// The health of one sync direction.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct SyncHealthObservation {
    /// The source tenant.
    pub from: Alias,
    /// The target tenant.
    pub to: Alias,
    /// The job's status.
    pub job: JobHealth,
    /// Whether `users` is a few of the users in scope or all of them.
    pub coverage: Coverage,
    /// Users of the source tenant assigned to the configuration (directly, or as direct members
    /// of an assigned group; every user read for a configuration syncing all users), as read.
    /// Whether each is in scope (an internal member matching the scoping filter) is for the
    /// planner to judge.
    pub users: Vec<SourceUser>,
    /// Whether the assigned users were more than mtoctl reads ([`Coverage::All`] stops at a
    /// bound; the first ones were read).
    pub truncated: bool,
    /// The copies of `users` found in the target.
    pub provisioned: Vec<ProvisionedUser>,
    /// What `provisionOnDemand` answered for each user it was asked for (`sync now`); empty
    /// for `status`.
    pub on_demand: Vec<OnDemandResult>,
    /// The assigned groups the direction provisions as groups (`groupProvisioning:
    /// groupsAndMembers`, or the job's group mapping enabled), in the order of the spec's
    /// scope; empty when it provisions none, and for `sync now`.
    pub groups: Vec<GroupHealthObservation>,
}

/// An assigned group provisioned as a group, as read in the source and in the target.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct GroupHealthObservation {
    /// The source group's object id.
    pub source_id: String,
    /// Its display name, which its copy in the target has too.
    pub display_name: String,
    /// When it was assigned to the configuration (its app role assignment's
    /// `createdDateTime`), if that was read.
    pub assigned: Option<String>,
    /// Its direct members that are users, as read in the source (with the attributes the
    /// scoping filter reads).
    pub members: Vec<SourceUser>,
    /// Whether it had more members than mtoctl reads (the first ones were read).
    pub members_truncated: bool,
    /// The target's security groups with its display name: none, its copy, or several
    /// (ambiguous: nothing ties a copy to its source group that mtoctl can read).
    pub targets: Vec<TargetGroup>,
    /// The copies in the target of its members that are not members of its copy there (read
    /// only when there is exactly one), to tell a member not provisioned yet from one left out.
    pub copies: Vec<ProvisionedUser>,
}

/// A security group of the target, found by display name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct TargetGroup {
    /// Object id.
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// Its direct members, read only when it is the one group of its name.
    pub members: Vec<GroupMember>,
    /// Whether it had more members than mtoctl reads.
    pub members_truncated: bool,
}

/// A direct member of a target group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct GroupMember {
    /// Object id.
    pub id: String,
    /// Its UPN, when it is a user.
    pub user_principal_name: Option<String>,
    /// Its kind when it is not a user (`group`, `device`, …), from `@odata.type`.
    pub other_kind: Option<String>,
}

/// How many of a direction's users were looked at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    /// The first few (the users the spec names, then the first members of its groups).
    #[default]
    Sample,
    /// Every user in scope (`--all-users`), up to a bound.
    All,
    /// The first user in scope of each direction (`sync now` without `--user`).
    First,
    /// The users asked for by name (`sync now --user`).
    Named,
}

/// A user of a source tenant, as read there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct SourceUser {
    /// Object id.
    pub id: String,
    /// UPN.
    pub user_principal_name: String,
    /// `Member` or `Guest` (only internal members are synced).
    pub user_type: Option<String>,
    /// Whether the account may sign in (a disabled user is synced disabled).
    pub account_enabled: Option<bool>,
    /// The attributes the spec's scoping filter reads, as Graph gave them (`null` when
    /// unset); an attribute mtoctl could not read is absent.
    pub attributes: BTreeMap<String, Value>,
}

/// A synchronization job's status (`synchronizationStatus`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct JobHealth {
    /// `NotConfigured`, `NotRun`, `Active`, `Paused` or `Quarantine`.
    pub status_code: Option<String>,
    /// The schedule's state (`Active`, `Disabled`, `Paused`).
    pub schedule_state: Option<String>,
    /// Why the job is in quarantine (`quarantine.reason`), with the error's message if any.
    pub quarantine: Option<String>,
    /// Complete failures in a row.
    pub successive_failures: Option<i64>,
    /// The last cycle.
    pub last_cycle: Option<CycleSummary>,
    /// When the last successful cycle ended.
    pub last_success: Option<String>,
    /// Users Entra counted in scope at the last cycle (`countEntitled`).
    pub in_scope: Option<i64>,
    /// Users the job keeps synchronized (`synchronizedEntryCountByType`, key `User`).
    pub synchronized: Option<i64>,
    /// Groups the job keeps synchronized (`synchronizedEntryCountByType`, key `Group`): present
    /// once it synchronized groups.
    pub synchronized_groups: Option<i64>,
}

/// One cycle (`synchronizationTaskExecution`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct CycleSummary {
    /// `Succeeded`, `Failed` or `EntryLevelErrors`.
    pub state: Option<String>,
    /// When it began (`timeBegan`).
    pub began: Option<String>,
    /// When it ended.
    pub ended: Option<String>,
    /// Its error code, if it failed.
    pub error_code: Option<String>,
    /// Its error message, if it failed.
    pub error_message: Option<String>,
}

/// A user the job provisioned into the target.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct ProvisionedUser {
    /// The source user's UPN.
    pub source: String,
    /// The target user's object id.
    pub id: Option<String>,
    /// The target user's UPN (`alice_contoso.com#EXT#@fabrikam.onmicrosoft.com`).
    pub user_principal_name: String,
    /// `Member` or `Guest`.
    pub user_type: Option<String>,
    /// Whether it may sign in.
    pub account_enabled: Option<bool>,
    /// Whether it is listed in the global address list (`None`: Graph gave no value).
    pub show_in_address_list: Option<bool>,
    /// Its sign-in identities (`None`: Graph gave none).
    pub identities: Option<Vec<UserIdentity>>,
}

/// One of a user's sign-in identities (`objectIdentity`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct UserIdentity {
    /// `federated`, `userPrincipalName`, `emailAddress`, …
    pub sign_in_type: Option<String>,
    /// Who vouches for it: `ExternalAzureAD` for a user of another Entra tenant, a domain, `mail`…
    pub issuer: Option<String>,
    /// The issuer's id of the user.
    pub issuer_assigned_id: Option<String>,
}

/// What `provisionOnDemand` answered for one user (`sync now`): Graph's step report, read
/// best-effort (its `value` is JSON inside a string, and its shape is not part of the
/// metadata).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct OnDemandResult {
    /// The source user's UPN.
    pub source: String,
    /// The overall status (`statusInfo.status`, or the `result` of a JSON `key`): `Success`,
    /// `Skipped`, `Failed`, … as Graph spells it.
    pub status: Option<String>,
    /// Why, when it did not succeed (`statusInfo.errorCode` and `reason`).
    pub error: Option<String>,
    /// The steps, in order.
    pub steps: Vec<OnDemandStep>,
    /// The target user's object id, if Graph named one.
    pub target_id: Option<String>,
}

/// One step of a `provisionOnDemand` report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct OnDemandStep {
    /// `EntryImport`, `EntrySynchronizationScoping`, `EntryExportAdd`, …
    pub name: Option<String>,
    /// `Import`, `Matching`, `Scoping`, `Export`, …
    pub kind: Option<String>,
    /// `Success`, `Skipped`, `Failed`, …
    pub status: Option<String>,
    /// What it did, in Graph's words.
    pub description: Option<String>,
}

impl OnDemandResult {
    /// Whether the scoping step said the user is not in scope.
    pub fn out_of_scope(&self) -> bool {
        self.steps.iter().any(|s| {
            s.kind
                .as_deref()
                .is_some_and(|k| k.eq_ignore_ascii_case("Scoping"))
                && !s
                    .status
                    .as_deref()
                    .is_some_and(|st| st.eq_ignore_ascii_case("Success"))
        })
    }

    /// Whether Graph reported a failure (overall or of a step).
    pub fn failed(&self) -> bool {
        let failed = |s: &Option<String>| {
            s.as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("Failed"))
        };
        failed(&self.status) || self.steps.iter().any(|s| failed(&s.status))
    }

    /// The description of the first step that did not succeed, else the error, else the
    /// description of the last step.
    pub fn reason(&self) -> Option<&str> {
        let unsuccessful = self
            .steps
            .iter()
            .find(|s| {
                !s.status
                    .as_deref()
                    .is_some_and(|st| st.eq_ignore_ascii_case("Success"))
            })
            .and_then(|s| s.description.as_deref());
        unsuccessful
            .or(self.error.as_deref())
            .or_else(|| self.steps.last().and_then(|s| s.description.as_deref()))
    }
}
