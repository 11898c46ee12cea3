//! `status`: whether the multitenant organization a spec describes really works, judged from
//! what was read (the planner's observation plus the sync jobs' health). Pure: no I/O.
//!
//! Per tenant: is it in the organization (per the owner's member list), joined, with the role
//! the spec gives it. Per sync direction: does its configuration and job exist, does each side
//! allow what cross-tenant sync needs (graph-reference §4.6), is the job running without
//! quarantine or failed cycles, and for each user read (a sample, or all of them), is it in
//! scope and does its copy in the target work: it exists, has the spec's user type, signs in
//! with its home account, is in the address list, may sign in as its home account may, and
//! has the `#EXT#` name sync gives. For a direction that provisions its groups as groups, is each
//! group's copy in the target, with the copies of its members in scope as members.
//!
//! Each finding is one of three kinds: healthy, waiting (Graph is still working: a join in
//! progress, a first cycle not yet run) or broken (nothing will fix it without a change). It does
//! not plan: drift in settings that does not stop the MTO working is `mtoctl plan`'s business.
//!
//! Here: the report and its verdict; `tenant` judges each tenant's membership, `sync` each sync
//! direction, `users` each user of a direction, `groups` each group it provisions as a group,
//! `verify` the users `mtoctl sync now` provisioned.

mod groups;
mod sync;
mod tenant;
mod users;
mod verify;

use serde::Serialize;

pub use groups::{GroupState, GroupVerdict};
use mtoctl_model::DesiredState;
use mtoctl_model::health::{CycleSummary, HealthObservation};
use mtoctl_model::ids::Alias;
use mtoctl_model::observed::{MemberObservation, MtoState, ObservedState};
use mtoctl_model::spec::document::Role;
use sync::{sync_status, waiting_for_member};
use tenant::tenant_status;
pub use users::{
    Check, EXTERNAL_ENTRA_ISSUER, OutOfScope, Outcome, Provisioning, UserCheck, UserCounts,
    UserVerdict, copy_upn, first_in_scope, scope_of,
};
pub use verify::{SyncNowReport, SyncNowStatus, first_users, sync_now};

/// How well something works, from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// Works as the spec says.
    Healthy,
    /// Graph is still working on it; run `status` again later.
    Waiting,
    /// Does not work, and will not without a change.
    Broken,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct StatusReport {
    /// The worst health of any tenant or sync.
    pub health: Health,
    /// The organization's name as the owner reads it.
    pub organization: Option<String>,
    /// One per tenant of the spec, in spec order.
    pub tenants: Vec<TenantStatus>,
    /// One per sync direction of the spec, in spec order.
    pub syncs: Vec<SyncStatus>,
}

/// One tenant's membership.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct TenantStatus {
    /// The spec's alias.
    pub alias: Alias,
    /// Its tenant id.
    pub tenant_id: String,
    /// Its membership state as the owner sees it (`active`, `pending`, `removed`), if listed.
    pub state: Option<String>,
    /// Its role as the owner sees it, if listed.
    pub role: Option<String>,
    /// The role the spec gives it.
    pub expected_role: String,
    /// Verdict.
    pub health: Health,
    /// What is wrong or pending, each a sentence that says what to do.
    pub findings: Vec<String>,
}

/// One sync direction.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct SyncStatus {
    /// Source alias.
    pub from: Alias,
    /// Target alias.
    pub to: Alias,
    /// The configuration's name.
    pub name: String,
    /// Whether the configuration exists in the source.
    pub configured: bool,
    /// The job's status code (`NotRun`, `Active`, `Paused`, `Quarantine`, …).
    pub job_status: Option<String>,
    /// The last cycle.
    pub last_cycle: Option<CycleSummary>,
    /// When the last successful cycle ended.
    pub last_success: Option<String>,
    /// Users Entra counted in scope at the last cycle (the job's count, as of then).
    pub in_scope: Option<i64>,
    /// Users the job kept provisioned in the target at the last cycle (the job's count).
    pub provisioned: Option<i64>,
    /// The copies in the target of the users in scope that were checked, with their `#EXT#`
    /// UPN and user type (`users` says more about each).
    pub samples: Vec<Sample>,
    /// The users in scope that were checked and have no copy in the target.
    pub not_found: Vec<String>,
    /// The counts of the users checked, each the length of a list beside it.
    pub user_counts: UserCounts,
    /// Each user in scope that was checked, worst first: its copy and every check.
    pub users: Vec<UserVerdict>,
    /// Users read that are not in scope, and why.
    pub out_of_scope: Vec<OutOfScope>,
    /// How many of `findings`, before the last `group_findings`, restate the verdicts of
    /// `users` (one per kind of failed check), for renderings that show the users themselves.
    #[serde(skip)]
    pub user_findings: usize,
    /// The groups it provisions as groups, worst first: each group's copy in the target and its
    /// members (empty when it provisions none).
    pub groups: Vec<GroupVerdict>,
    /// How many of the last `findings` restate the verdicts of `groups` (one per group that is
    /// not healthy), for renderings that show the groups themselves.
    #[serde(skip)]
    pub group_findings: usize,
    /// Verdict.
    pub health: Health,
    /// What is wrong or pending.
    pub findings: Vec<String>,
}

/// A provisioned user, briefly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct Sample {
    /// The source user's UPN.
    pub source: String,
    /// The copy's UPN in the target.
    pub user_principal_name: String,
    /// The copy's `userType`.
    pub user_type: Option<String>,
}

impl StatusReport {
    /// Findings in order, each with what it is about (for one-line summaries).
    pub fn findings(&self) -> Vec<(Health, String)> {
        let tenants = self.tenants.iter().flat_map(|t| {
            t.findings
                .iter()
                .map(move |f| (t.health, format!("tenant {}: {f}", t.alias)))
        });
        let syncs = self.syncs.iter().flat_map(|s| {
            s.findings
                .iter()
                .map(move |f| (s.health, format!("sync {} → {}: {f}", s.from, s.to)))
        });
        tenants.chain(syncs).collect()
    }
}

/// Judges the organization `desired` describes from what was read.
pub fn assess(
    desired: &DesiredState,
    observed: &ObservedState,
    health: &HealthObservation,
) -> StatusReport {
    let owner_view = owner_view(desired, observed);
    let tenants: Vec<TenantStatus> = desired
        .tenants
        .iter()
        .map(|t| tenant_status(t, observed, owner_view.as_ref()))
        .collect();
    let syncs: Vec<SyncStatus> = desired
        .syncs
        .iter()
        .map(|s| {
            // Pair settings and syncs wait for both tenants to be members (the planner defers
            // them until then): judge such a sync by the membership it waits for.
            // Only membership blocks them: a member with another role than the spec's (a
            // finding of its own) syncs all the same.
            let blocked = tenants.iter().find(|t| {
                (t.alias == s.from || t.alias == s.to) && t.state.as_deref() != Some("active")
            });
            match blocked {
                Some(t) => waiting_for_member(s, t),
                None => sync_status(s, desired, observed, health),
            }
        })
        .collect();
    let worst = tenants
        .iter()
        .map(|t| t.health)
        .chain(syncs.iter().map(|s| s.health))
        .max()
        .unwrap_or(Health::Healthy);
    StatusReport {
        health: worst,
        organization: owner_view.and_then(|v| v.name),
        tenants,
        syncs,
    }
}

/// The organization as an owner tenant of the spec reads it.
struct OwnerView {
    name: Option<String>,
    members: Vec<MemberObservation>,
}

fn owner_view(desired: &DesiredState, observed: &ObservedState) -> Option<OwnerView> {
    desired
        .tenants
        .iter()
        .filter(|t| t.role == Role::Owner)
        .filter_map(|t| observed.tenants.get(&t.alias))
        .map(|o| &o.organization)
        .find(|org| org.state.is(&MtoState::Active))
        .map(|org| OwnerView {
            name: org.display_name.clone(),
            members: org.members.clone(),
        })
}
