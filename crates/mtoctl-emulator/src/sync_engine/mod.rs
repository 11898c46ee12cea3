//! Cross-tenant synchronization cycles on the virtual clock.
//!
//! A started job runs a cycle soon after `start` and then every
//! `timings.syncInterval` (40 virtual minutes). A cycle checks the policy
//! preconditions (target allows inbound sync from the source, auto-redemption
//! consent on both sides), computes the in-scope users of the source
//! (internal members assigned directly or as direct members of an assigned
//! group, or all of them with `SyncAll=true`, filtered by the schema's
//! scoping filter), provisions them into the target as external users with a
//! `<local>_<domain>#EXT#@<target domain>` UPN and the mapped `userType`, and
//! soft-deletes users that left scope. Job status and counters follow.
//!
//! The first cycle, and the first after a restart or a schema change, is a full one; later
//! ones are incremental: they process only users changed in the source since the last cycle
//! (the user, the group that brings it in, or its assignment), so a change made to a synced
//! user in the target persists until the source user changes ("Cross-tenant synchronization
//! doesn't query for changes in the target", cross-tenant-synchronization-overview). Every
//! user processed is written to the source tenant's provisioning log, with its steps.
//!
//! Groups (cross-tenant synchronization of groups) follow the users in each cycle: the assigned
//! security and Microsoft 365 groups are provisioned as static security groups with the target
//! copies of their in-scope direct members, when the group mapping is enabled and the target's
//! `groupSyncInbound` allows it (`groups`).
//!
//! Here: the policy preconditions, the due cycle and the job's bookkeeping; `scope` decides who
//! is in a job's scope, `provision` writes one user into the target, `report` words what was
//! done for the provisioning log, `cycle` runs a cycle, `on_demand` provisions one user at once;
//! `groups` runs a cycle's group part, `group_provision` writes one group, `group_report` words
//! it.

mod cycle;
mod group_provision;
mod group_report;
mod groups;
mod on_demand;
mod provision;
mod report;
mod scope;

use crate::state::{Job, State};

pub use cycle::run_cycle;
pub use on_demand::provision_on_demand;
pub use provision::{Modified, Outcome, provision_user};
pub use scope::ScopeCheck;

/// A failed policy precondition: (error code, message).
pub type PolicyFailure = (&'static str, String);

/// Check the preconditions of syncing `source` → `target` (reference §4.6).
pub fn check_policies(state: &State, source: &str, target: &str) -> Result<(), PolicyFailure> {
    let Some(tt) = state.tenants.get(target) else {
        return Err((
            "InvalidCredentials",
            format!("The target tenant '{target}' could not be found."),
        ));
    };
    let Some(ts) = state.tenants.get(source) else {
        return Err((
            "InvalidCredentials",
            format!("The source tenant '{source}' could not be found."),
        ));
    };
    let inbound_sync = tt.partners.contains_key(source)
        && tt.identity_sync.get(source).is_some_and(|s| s.allowed());
    if !inbound_sync {
        return Err((
            "CrossTenantSyncPolicyCheckFailure",
            format!(
                "The target tenant '{target}' does not allow users to be synchronized from tenant '{source}' (cross-tenant sync policy userSyncInbound.isSyncAllowed is not true)."
            ),
        ));
    }
    let inbound_consent = tt
        .partners
        .get(source)
        .is_some_and(|p| p.consent("inboundAllowed"));
    let outbound_consent = ts
        .partners
        .get(target)
        .is_some_and(|p| p.consent("outboundAllowed"));
    if !(inbound_consent && outbound_consent) {
        return Err((
            "AzureDirectoryB2BManagementPolicyCheckFailure",
            "Policy permitting auto-redemption of invitations not configured.".to_owned(),
        ));
    }
    Ok(())
}

/// The earliest due sync cycle at or before `now`: (due, tenant, sp, job).
pub fn next_due_cycle(state: &State, now: i64) -> Option<(i64, String, String, String)> {
    let mut best: Option<(i64, String, String, String)> = None;
    for t in state.tenants.values() {
        for sp in &t.service_principals {
            for j in &sp.jobs {
                if let Some(due) = j
                    .next_cycle_ms
                    .filter(|d| *d <= now && j.schedule_state == "Active")
                    && best.as_ref().is_none_or(|b| due < b.0)
                {
                    best = Some((due, t.id.clone(), sp.id.clone(), j.id.clone()));
                }
            }
        }
    }
    best
}

fn take_job(state: &mut State, tenant: &str, sp: &str, job: &str) -> Option<Job> {
    let s = state
        .tenants
        .get_mut(tenant)?
        .service_principals
        .iter_mut()
        .find(|s| s.id == sp)?;
    let i = s.jobs.iter().position(|j| j.id == job)?;
    Some(s.jobs.remove(i))
}

fn put_job(state: &mut State, tenant: &str, sp: &str, job: Job) {
    if let Some(s) = state
        .tenants
        .get_mut(tenant)
        .and_then(|t| t.service_principals.iter_mut().find(|s| s.id == sp))
    {
        s.jobs.push(job);
    }
}

/// The target tenant of a sync configuration (its `CompanyId` secret).
pub fn target_of(state: &State, tenant: &str, sp: &str) -> Option<String> {
    state
        .tenants
        .get(tenant)?
        .service_principals
        .iter()
        .find(|s| s.id == sp)?
        .secrets
        .get("CompanyId")
        .map(|v| v.to_ascii_lowercase())
}
