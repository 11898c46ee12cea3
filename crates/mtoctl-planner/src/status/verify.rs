//! `sync now`: which users to provision when none are named (the first in scope of each
//! direction), and the verdict on the users provisioned, judged as `status` judges them but
//! knowing what Entra answered for each. Pure: no I/O.

use serde::Serialize;

use mtoctl_model::DesiredState;
use mtoctl_model::health::{HealthObservation, SourceUser};
use mtoctl_model::ids::Alias;
use mtoctl_model::observed::ObservedState;

use super::Health;
use super::users::{Mode, OutOfScope, UserCounts, UserVerdict, first_in_scope, judge};

/// What `sync now` found.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct SyncNowReport {
    /// The worst health of any direction or finding.
    pub health: Health,
    /// What concerns no single direction (a user named that no direction provisioned).
    pub findings: Vec<String>,
    /// One per direction that provisioned users or could not, in spec order.
    pub syncs: Vec<SyncNowStatus>,
}

/// One direction's users after provisioning on demand.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct SyncNowStatus {
    /// Source alias.
    pub from: Alias,
    /// Target alias.
    pub to: Alias,
    /// The configuration's name.
    pub name: String,
    /// The worst health of its users (or of why nothing was provisioned).
    pub health: Health,
    /// What is wrong, one sentence each.
    pub findings: Vec<String>,
    /// The counts of the users provisioned, each the length of a list beside it.
    pub user_counts: UserCounts,
    /// Each user provisioned, worst first, with every check.
    pub users: Vec<UserVerdict>,
    /// Users asked for that are not in this direction's scope, and why.
    pub out_of_scope: Vec<OutOfScope>,
}

/// The users `sync now` provisions when none are named: per direction that was read, the first
/// user of its sample that is in scope. Directions without one are left out (the report says
/// so).
pub fn first_users(
    desired: &DesiredState,
    read: &HealthObservation,
) -> Vec<(Alias, Alias, SourceUser)> {
    desired
        .syncs
        .iter()
        .filter_map(|sync| {
            let observed = read.sync(&sync.from, &sync.to)?;
            let user = first_in_scope(sync, observed)?;
            Some((sync.from.clone(), sync.to.clone(), user.clone()))
        })
        .collect()
}

/// Judges the users `sync now` provisioned. `requested` are the UPNs named with `--user`
/// (empty: the first user in scope of each direction was provisioned).
pub fn sync_now(
    desired: &DesiredState,
    observed: &ObservedState,
    read: &HealthObservation,
    requested: &[String],
) -> SyncNowReport {
    let mut syncs = Vec::new();
    for sync in &desired.syncs {
        let mut status = SyncNowStatus {
            from: sync.from.clone(),
            to: sync.to.clone(),
            name: sync.name.clone(),
            health: Health::Healthy,
            findings: Vec::new(),
            user_counts: UserCounts::default(),
            users: Vec::new(),
            out_of_scope: Vec::new(),
        };
        match read.sync(&sync.from, &sync.to) {
            Some(done) => {
                let judged = judge(sync, desired, done, Mode::OnDemand);
                status.health = judged
                    .users
                    .iter()
                    .map(|u| u.health)
                    .max()
                    .unwrap_or(Health::Healthy);
                status.findings = judged.findings.into_iter().map(|(_, f)| f).collect();
                status.user_counts = judged.counts;
                status.users = judged.users;
                status.out_of_scope = judged.out_of_scope;
            }
            // Named users are provisioned only where their tenant is the source.
            None if !requested.is_empty() => continue,
            None => {
                let configured = observed.tenants.get(&sync.from).is_some_and(|t| {
                    t.sync_configurations
                        .iter()
                        .any(|c| c.display_name.eq_ignore_ascii_case(&sync.name))
                });
                status.health = Health::Broken;
                status.findings.push(if configured {
                    format!(
                        "no user in the scope of {} was found to provision (the users the spec names, then the first members of its groups); name one with `--user`",
                        sync.name
                    )
                } else {
                    format!(
                        "no sync configuration named {} with a job in {}; run `mtoctl apply`",
                        sync.name, sync.from
                    )
                });
            }
        }
        syncs.push(status);
    }
    let mut findings = Vec::new();
    for upn in requested {
        let provisioned = syncs
            .iter()
            .any(|s| s.users.iter().any(|u| u.source.eq_ignore_ascii_case(upn)));
        if provisioned {
            continue;
        }
        let directions: Vec<String> = syncs
            .iter()
            .filter(|s| {
                s.out_of_scope
                    .iter()
                    .any(|o| o.source.eq_ignore_ascii_case(upn))
            })
            .map(|s| format!("{} → {}", s.from, s.to))
            .collect();
        findings.push(if directions.is_empty() {
            format!("{upn} was not provisioned by any sync of the spec")
        } else {
            format!(
                "{upn} is in the scope of no sync of the spec (not of {}, as said above); add it to a scope and run `mtoctl apply`",
                directions.join(", ")
            )
        });
    }
    let health = syncs
        .iter()
        .map(|s| s.health)
        .chain(findings.iter().map(|_| Health::Broken))
        .max()
        .unwrap_or(Health::Healthy);
    SyncNowReport {
        health,
        findings,
        syncs,
    }
}
