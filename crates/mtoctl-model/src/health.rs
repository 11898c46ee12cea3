//! What `mtoctl status` reads beyond the planner's observation: the health of each sync
//! direction's job (its last cycle, counts and quarantine) and a sample of the users it
//! provisioned in the target. Plain data, filled by `mtoctl-graph`, judged by the planner's
//! `status` module. No I/O here.

use serde::Serialize;

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
#[serde(rename_all = "camelCase")]
pub struct SyncHealthObservation {
    /// The source tenant.
    pub from: Alias,
    /// The target tenant.
    pub to: Alias,
    /// The job's status.
    pub job: JobHealth,
    /// Users of the source tenant whose provisioned copies were looked up in the target (by
    /// their UPN), at most a handful.
    pub sampled: Vec<String>,
    /// The copies found in the target.
    pub provisioned: Vec<ProvisionedUser>,
}

/// A synchronization job's status (`synchronizationStatus`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
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
}

/// One cycle (`synchronizationTaskExecution`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CycleSummary {
    /// `Succeeded`, `Failed` or `EntryLevelErrors`.
    pub state: Option<String>,
    /// When it ended.
    pub ended: Option<String>,
    /// Its error code, if it failed.
    pub error_code: Option<String>,
    /// Its error message, if it failed.
    pub error_message: Option<String>,
}

/// A user the job provisioned into the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvisionedUser {
    /// The source user's UPN.
    pub source: String,
    /// The target user's UPN (`alice_contoso.com#EXT#@fabrikam.onmicrosoft.com`).
    pub user_principal_name: String,
    /// `Member` or `Guest`.
    pub user_type: Option<String>,
}
