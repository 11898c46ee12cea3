//! `status`: whether the multitenant organization a spec describes really works, judged from
//! what was read (the planner's observation plus the sync jobs' health). Pure: no I/O.
//!
//! Per tenant: is it in the organization (per the owner's member list), joined, with the role
//! the spec gives it. Per sync direction: does its configuration and job exist, does each side
//! allow what cross-tenant sync needs (graph-reference §4.6), is the job running without
//! quarantine or failed cycles, and how many users are in scope and provisioned, with a sample of
//! provisioned users showing their `#EXT#` UPN and user type.
//!
//! Each finding is one of three kinds: healthy, waiting (Graph is still working: a join in
//! progress, a first cycle not yet run) or broken (nothing will fix it without a change). It does
//! not plan: drift in settings that does not stop the MTO working is `mtoctl plan`'s business.

use serde::Serialize;

use mtoctl_model::DesiredState;
use mtoctl_model::desired::{SyncSpec, TenantSpec};
use mtoctl_model::health::{CycleSummary, HealthObservation, ProvisionedUser};
use mtoctl_model::ids::Alias;
use mtoctl_model::observed::{
    MemberObservation, MemberRole, MemberState, MtoState, ObservedState, ProcessingStatus,
};
use mtoctl_model::spec::document::{Role, UserType};

/// How well something works, from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
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
#[serde(rename_all = "camelCase")]
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
#[serde(rename_all = "camelCase")]
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
#[serde(rename_all = "camelCase")]
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
    /// Users in scope at the last cycle.
    pub in_scope: Option<i64>,
    /// Users the job keeps provisioned in the target.
    pub provisioned: Option<i64>,
    /// Provisioned users found in the target, with their `#EXT#` UPN and user type.
    pub samples: Vec<ProvisionedUser>,
    /// Sampled source users not found in the target.
    pub not_found: Vec<String>,
    /// Verdict.
    pub health: Health,
    /// What is wrong or pending.
    pub findings: Vec<String>,
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

fn tenant_status(
    tenant: &TenantSpec,
    observed: &ObservedState,
    owner: Option<&OwnerView>,
) -> TenantStatus {
    let expected = match tenant.role {
        Role::Owner => MemberRole::Owner,
        Role::Member => MemberRole::Member,
    };
    let mut status = TenantStatus {
        alias: tenant.alias.clone(),
        tenant_id: tenant.tenant_id.to_string(),
        state: None,
        role: None,
        expected_role: role_name(expected).to_owned(),
        health: Health::Healthy,
        findings: Vec::new(),
    };
    let Some(owner) = owner else {
        status.health = Health::Broken;
        status.findings.push(
            "no owner tenant of the spec has a multitenant organization; run `mtoctl apply`".into(),
        );
        return status;
    };
    let Some(member) = owner
        .members
        .iter()
        .find(|m| m.tenant_id == tenant.tenant_id)
    else {
        status.health = Health::Broken;
        status
            .findings
            .push("not in the organization; run `mtoctl apply` to add it".into());
        return status;
    };
    status.state = Some(known_text(&member.state, member_state_name));
    status.role = Some(known_text(&member.role, role_name));
    let own = observed.tenants.get(&tenant.alias);
    if member.state.is(&MemberState::Pending) {
        let join = own.and_then(|o| o.join_request.transition.as_ref());
        match join.and_then(|j| j.status.as_ref()) {
            Some(s) if s.is(&ProcessingStatus::Failed) => {
                status.health = Health::Broken;
                let why = join
                    .and_then(|j| j.details.clone())
                    .unwrap_or_else(|| "no reason given".into());
                status.findings.push(format!(
                    "its join failed ({why}); run `mtoctl apply` to submit it again"
                ));
            }
            Some(_) => {
                status.health = Health::Waiting;
                status.findings.push(
                    "join submitted; Graph is processing it (it can take up to 2 hours)".into(),
                );
            }
            None => {
                status.health = Health::Broken;
                status.findings.push(
                    "added by the owner but has not joined; run `mtoctl apply` (it joins from the tenant's side)"
                        .into(),
                );
            }
        }
    } else if member.state.is(&MemberState::Removed) {
        status.health = Health::Broken;
        status
            .findings
            .push("being removed from the organization".into());
    }
    if !member.role.is(&expected) {
        let changing = member
            .transition
            .as_ref()
            .and_then(|t| t.desired_role.as_ref())
            .is_some_and(|r| r.is(&expected));
        let (health, finding) = if changing {
            (
                Health::Waiting,
                format!(
                    "its role is changing to {}; Graph is processing it",
                    role_name(expected)
                ),
            )
        } else {
            (
                Health::Broken,
                format!(
                    "its role is {}, the spec says {}; run `mtoctl apply`",
                    known_text(&member.role, role_name),
                    role_name(expected)
                ),
            )
        };
        status.health = status.health.max(health);
        status.findings.push(finding);
    }
    status
}

fn empty_sync_status(sync: &SyncSpec) -> SyncStatus {
    SyncStatus {
        from: sync.from.clone(),
        to: sync.to.clone(),
        name: sync.name.clone(),
        configured: false,
        job_status: None,
        last_cycle: None,
        last_success: None,
        in_scope: None,
        provisioned: None,
        samples: Vec::new(),
        not_found: Vec::new(),
        health: Health::Healthy,
        findings: Vec::new(),
    }
}

fn waiting_for_member(sync: &SyncSpec, tenant: &TenantStatus) -> SyncStatus {
    let mut status = empty_sync_status(sync);
    status.health = tenant.health;
    status.findings.push(format!(
        "waits for {} to be a member of the organization (see above)",
        tenant.alias
    ));
    status
}

/// The users and groups a sync's scope names that its source tenant does not have.
fn missing_principals(sync: &SyncSpec, observed: &ObservedState) -> Vec<String> {
    use mtoctl_model::desired::{GroupRef, UserRef};
    let Some(principals) = observed.tenants.get(&sync.from).map(|t| &t.principals) else {
        return Vec::new();
    };
    let users = sync
        .scope
        .users
        .iter()
        .filter(|u| principals.user(u).is_none())
        .map(|u| match u {
            UserRef::UserPrincipalName(upn) => format!("user {upn}"),
            UserRef::ObjectId(id) => format!("user {id}"),
        });
    let groups = sync
        .scope
        .groups
        .iter()
        .filter(|g| principals.groups(g).is_empty())
        .map(|g| match g {
            GroupRef::DisplayName(name) => format!("group \"{name}\""),
            GroupRef::ObjectId(id) => format!("group {id}"),
        });
    users.chain(groups).collect()
}

fn sync_status(
    sync: &SyncSpec,
    desired: &DesiredState,
    observed: &ObservedState,
    health: &HealthObservation,
) -> SyncStatus {
    let mut status = empty_sync_status(sync);
    let mut flag = |status: &mut SyncStatus, health: Health, finding: String| {
        status.health = status.health.max(health);
        status.findings.push(finding);
    };
    policy_findings(sync, desired, observed, &mut status, &mut flag);
    for name in missing_principals(sync, observed) {
        flag(
            &mut status,
            Health::Broken,
            format!(
                "{name} is in the spec's scope but does not exist in {}: fix the name (mtoctl plan says which names are close)",
                sync.from
            ),
        );
    }
    let configuration = observed.tenants.get(&sync.from).and_then(|t| {
        t.sync_configurations
            .iter()
            .find(|c| c.display_name.eq_ignore_ascii_case(&sync.name))
    });
    status.configured = configuration.is_some();
    if configuration.is_none() {
        flag(
            &mut status,
            Health::Broken,
            format!(
                "no sync configuration named {} in {}; run `mtoctl apply`",
                sync.name, sync.from
            ),
        );
        return status;
    }
    let Some(read) = health.sync(&sync.from, &sync.to) else {
        flag(
            &mut status,
            Health::Broken,
            "the configuration has no synchronization job; run `mtoctl apply`".into(),
        );
        return status;
    };
    let job = &read.job;
    status.job_status = job.status_code.clone();
    status.last_cycle = job.last_cycle.clone();
    status.last_success = job.last_success.clone();
    status.in_scope = job.in_scope;
    status.provisioned = job.synchronized;
    status.samples = read.provisioned.clone();
    status.not_found = read
        .sampled
        .iter()
        .filter(|upn| {
            !read
                .provisioned
                .iter()
                .any(|p| p.source.eq_ignore_ascii_case(upn))
        })
        .cloned()
        .collect();
    match job.status_code.as_deref() {
        Some("Quarantine") => flag(
            &mut status,
            Health::Broken,
            format!(
                "the job is in quarantine ({}); fix the cause, then `mtoctl apply` restarts it",
                job.quarantine.as_deref().unwrap_or("no reason given")
            ),
        ),
        Some("NotRun") => flag(
            &mut status,
            Health::Waiting,
            "the job has started; its first cycle has not finished yet".into(),
        ),
        Some("Paused") if sync.enabled => flag(
            &mut status,
            Health::Broken,
            "the job is paused but the spec enables it; run `mtoctl apply`".into(),
        ),
        Some("Paused") => {}
        Some("Active") => {}
        Some(other) => flag(
            &mut status,
            Health::Broken,
            format!("the job's status is {other}; run `mtoctl apply`"),
        ),
        None => flag(
            &mut status,
            Health::Broken,
            "the job reports no status".into(),
        ),
    }
    if job.status_code.as_deref() == Some("Active")
        && let Some(cycle) = &job.last_cycle
    {
        match cycle.state.as_deref() {
            Some("Failed") => flag(
                &mut status,
                Health::Broken,
                format!("the last cycle failed: {}", cycle_error(cycle)),
            ),
            Some("EntryLevelErrors") => flag(
                &mut status,
                Health::Broken,
                format!(
                    "the last cycle could not provision some users: {}",
                    cycle_error(cycle)
                ),
            ),
            _ => {}
        }
    }
    let expected = match sync.user_type {
        UserType::Member => "Member",
        UserType::Guest => "Guest",
    };
    for sample in &read.provisioned {
        if let Some(actual) = &sample.user_type
            && !actual.eq_ignore_ascii_case(expected)
        {
            flag(
                &mut status,
                Health::Broken,
                format!(
                    "{} was provisioned as {actual}, the spec says {expected}",
                    sample.user_principal_name
                ),
            );
        }
    }
    status
}

/// What each side must allow for cross-tenant sync (graph-reference §4.6).
fn policy_findings(
    sync: &SyncSpec,
    desired: &DesiredState,
    observed: &ObservedState,
    status: &mut SyncStatus,
    flag: &mut impl FnMut(&mut SyncStatus, Health, String),
) {
    let (Some(source), Some(target)) = (desired.tenant(&sync.from), desired.tenant(&sync.to))
    else {
        return;
    };
    let in_target = observed
        .tenants
        .get(&sync.to)
        .and_then(|t| t.partners.get(&source.tenant_id));
    let in_source = observed
        .tenants
        .get(&sync.from)
        .and_then(|t| t.partners.get(&target.tenant_id));
    let sync_allowed = in_target
        .and_then(|p| p.identity_sync.as_ref())
        .and_then(|s| s.is_sync_allowed)
        == Some(true);
    if !sync_allowed {
        flag(
            status,
            Health::Broken,
            format!(
                "{} does not allow users to be synced in from {} (identity synchronization); run `mtoctl apply`",
                sync.to, sync.from
            ),
        );
    }
    if in_target.and_then(|p| p.settings.automatic_user_consent_inbound) != Some(true) {
        flag(
            status,
            Health::Broken,
            format!(
                "{} does not redeem invitations from {} automatically (automatic consent, inbound); run `mtoctl apply`",
                sync.to, sync.from
            ),
        );
    }
    if in_source.and_then(|p| p.settings.automatic_user_consent_outbound) != Some(true) {
        flag(
            status,
            Health::Broken,
            format!(
                "{} does not redeem invitations to {} automatically (automatic consent, outbound); run `mtoctl apply`",
                sync.from, sync.to
            ),
        );
    }
}

fn cycle_error(cycle: &CycleSummary) -> String {
    match (&cycle.error_code, &cycle.error_message) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(one), None) | (None, Some(one)) => one.clone(),
        (None, None) => "no error given".into(),
    }
}

fn role_name(role: MemberRole) -> &'static str {
    match role {
        MemberRole::Owner => "owner",
        MemberRole::Member => "member",
    }
}

fn member_state_name(state: MemberState) -> &'static str {
    match state {
        MemberState::Pending => "pending",
        MemberState::Active => "active",
        MemberState::Removed => "removed",
    }
}

fn known_text<T: Copy>(
    value: &mtoctl_model::observed::Known<T>,
    name: impl Fn(T) -> &'static str,
) -> String {
    match value {
        mtoctl_model::observed::Known::Known(v) => name(*v).to_owned(),
        mtoctl_model::observed::Known::Unknown(s) => s.clone(),
    }
}
