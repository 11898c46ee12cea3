//! One sync direction: does its configuration and job exist, does each side allow what
//! cross-tenant sync needs, is the job running without quarantine or failed cycles, does each
//! user read work in the target (`users` judges them), and is each group it provisions as a
//! group there with its members (`groups` judges them).

use mtoctl_model::DesiredState;
use mtoctl_model::desired::SyncSpec;
use mtoctl_model::health::{CycleSummary, HealthObservation};
use mtoctl_model::observed::ObservedState;

use super::groups::judge_groups;
use super::users::{Mode, UserCounts, judge};
use super::{Health, Sample, SyncStatus, TenantStatus};

/// A sync direction with nothing read about it yet, healthy until found otherwise.
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
        user_counts: UserCounts::default(),
        users: Vec::new(),
        out_of_scope: Vec::new(),
        user_findings: 0,
        groups: Vec::new(),
        group_findings: 0,
        health: Health::Healthy,
        findings: Vec::new(),
    }
}

/// A sync direction waiting for `tenant` to be a member of the organization.
pub(super) fn waiting_for_member(sync: &SyncSpec, tenant: &TenantStatus) -> SyncStatus {
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

/// One sync direction: its configuration and job, the policies each side needs, the job's
/// cycles, the verdict on each user read (see `users`) and on each group provisioned as a
/// group (see `groups`).
pub(super) fn sync_status(
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
    match job.status_code.as_deref() {
        Some("Quarantine") => flag(
            &mut status,
            Health::Broken,
            format!(
                "the job is in quarantine ({}); fix the cause (`mtoctl plan` shows the drift it can repair): Entra runs a quarantined job less and less often, down to once a day, and lifts the quarantine at the first cycle that succeeds; Restart provisioning in the Entra admin center runs it at once",
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
    let judged = judge(sync, desired, read, Mode::Status);
    status.samples = judged
        .users
        .iter()
        .filter_map(|u| {
            let copy = read
                .provisioned
                .iter()
                .find(|p| p.source.eq_ignore_ascii_case(&u.source))?;
            Some(Sample {
                source: copy.source.clone(),
                user_principal_name: copy.user_principal_name.clone(),
                user_type: copy.user_type.clone(),
            })
        })
        .collect();
    status.samples.sort_by(|a, b| a.source.cmp(&b.source));
    status.not_found = judged
        .users
        .iter()
        .filter(|u| u.target.is_none())
        .map(|u| u.source.clone())
        .collect();
    status.user_findings = judged.findings.len();
    for (health, finding) in judged.findings {
        flag(&mut status, health, finding);
    }
    status.user_counts = judged.counts;
    status.users = judged.users;
    status.out_of_scope = judged.out_of_scope;
    // The groups' findings come last, after the users'.
    let groups = judge_groups(sync, read);
    status.group_findings = groups.findings.len();
    for (health, finding) in groups.findings {
        flag(&mut status, health, finding);
    }
    status.groups = groups.groups;
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

/// A failed cycle's error, as one line.
fn cycle_error(cycle: &CycleSummary) -> String {
    match (&cycle.error_code, &cycle.error_message) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(one), None) | (None, Some(one)) => one.clone(),
        (None, None) => "no error given".into(),
    }
}
