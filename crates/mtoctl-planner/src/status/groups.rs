//! The per-group verdict, for a direction that provisions its assigned groups as groups: is
//! each group's copy in the target (a security group of the same display name), and are its
//! members the copies of the source group's direct members in scope. Pure: no I/O.
//!
//! - `provisioned`: one copy, its members as they should be (healthy), or short only of members
//!   not provisioned yet (waiting, as such users are).
//! - `missing`: no copy. Waiting until a cycle that synchronizes groups has begun since the group
//!   was assigned (the job counts `Group` entries), broken after: a missing user waits for the
//!   next cycle, but a group the job had its chance at will not appear by itself.
//! - `ambiguous`: several security groups of that name; nothing mtoctl can read ties one to the
//!   source group, so none is picked.
//! - `drift`: a member the copy should have that is in the target but not in it, or a member
//!   that is not an in-scope member of the source group. Broken, like a copy's wrong attribute.
//!
//! Members are matched by the UPN cross-tenant sync gives copies, as `health` finds copies.

use std::cmp::Ordering;

use mtoctl_model::desired::SyncSpec;
use mtoctl_model::health::{GroupHealthObservation, JobHealth, SyncHealthObservation};
use serde::Serialize;

use super::Health;
use super::users::scope_of;

/// How a group provisioned as a group stands in the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupState {
    /// Its copy is there with the members it should have (or is waiting for members not
    /// provisioned yet).
    Provisioned,
    /// No security group of its name in the target.
    Missing,
    /// Several security groups of its name in the target.
    Ambiguous,
    /// Its copy's members are not the copies of its members in scope.
    Drift,
}

/// One group provisioned as a group and its copy in the target.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct GroupVerdict {
    /// The source group's display name, which its copy has too.
    pub source: String,
    /// The source group's object id.
    pub source_id: String,
    /// The copy's object id, when exactly one security group has the name.
    pub target_id: Option<String>,
    /// `provisioned`, `missing`, `ambiguous` or `drift`.
    pub verdict: GroupState,
    /// Healthy, waiting (not there yet, or members not provisioned yet) or broken.
    pub health: Health,
    /// Members the copy should have: the source group's direct members in scope.
    pub expected_members: usize,
    /// Of those, the ones whose copies are members of it.
    pub members: usize,
    /// Expected members without a copy in the target yet (the next cycle adds them), by
    /// source UPN.
    pub not_provisioned: Vec<String>,
    /// Expected members whose copy is in the target but not in the group, by source UPN.
    pub missing_members: Vec<String>,
    /// Members of the copy that are not copies of in-scope members: UPN, or id and kind.
    pub extra_members: Vec<String>,
    /// With `ambiguous`, the ids of the security groups of that name.
    pub candidates: Vec<String>,
    /// Whether a member list was longer than mtoctl reads (what could not be seen is not
    /// judged).
    pub truncated: bool,
    /// When not healthy, what people would notice.
    pub consequence: Option<String>,
    /// When not healthy, what to do.
    pub fix: Option<String>,
}

/// Everything judged about a direction's groups.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct GroupsJudged {
    /// Worst first, then by name.
    pub groups: Vec<GroupVerdict>,
    /// One sentence per group that is not healthy, with its health.
    pub findings: Vec<(Health, String)>,
}

/// Judges the groups read for one direction.
pub(super) fn judge_groups(sync: &SyncSpec, read: &SyncHealthObservation) -> GroupsJudged {
    let mut groups: Vec<GroupVerdict> = read
        .groups
        .iter()
        .map(|g| verdict(sync, &read.job, g))
        .collect();
    groups.sort_by(|a, b| {
        b.health
            .cmp(&a.health)
            .then_with(|| a.source.cmp(&b.source))
    });
    let findings = groups
        .iter()
        .filter(|g| g.health != Health::Healthy)
        .map(|g| (g.health, finding(sync, g)))
        .collect();
    GroupsJudged { groups, findings }
}

fn verdict(sync: &SyncSpec, job: &JobHealth, g: &GroupHealthObservation) -> GroupVerdict {
    let mut v = GroupVerdict {
        source: g.display_name.clone(),
        source_id: g.source_id.clone(),
        target_id: None,
        verdict: GroupState::Missing,
        health: Health::Waiting,
        expected_members: 0,
        members: 0,
        not_provisioned: Vec::new(),
        missing_members: Vec::new(),
        extra_members: Vec::new(),
        candidates: Vec::new(),
        truncated: g.members_truncated,
        consequence: None,
        fix: None,
    };
    let (from, to, name) = (&sync.from, &sync.to, &g.display_name);
    let target = match g.targets.as_slice() {
        [] => {
            v.consequence = Some(format!(
                "there is no security group \"{name}\" in {to}: its members cannot be given access there as a group"
            ));
            v.fix = Some(match cycle_since(job, g.assigned.as_deref()) {
                Some(began) => {
                    v.health = Health::Broken;
                    format!(
                        "a sync cycle that synchronizes groups began at {began}, after the group was assigned, and did not create it: the provisioning logs of {} in {from} say why ({to} must allow groups in, `allowGroupsSyncInbound`; a group sync finds deleted in {to} must be restored there)",
                        sync.name
                    )
                }
                None => format!(
                    "the next sync cycle (every 40 minutes) creates it; if it stays missing, the provisioning logs of {} in {from} say why",
                    sync.name
                ),
            });
            return v;
        }
        [one] => one,
        several => {
            v.verdict = GroupState::Ambiguous;
            v.health = Health::Broken;
            v.candidates = several.iter().map(|t| t.id.clone()).collect();
            v.consequence = Some(format!(
                "{} security groups in {to} are named \"{name}\" ({}): mtoctl cannot tell which one sync made, nor can people who pick a group by name",
                several.len(),
                v.candidates.join(", ")
            ));
            v.fix = Some(format!(
                "rename or delete in {to} the groups of that name that sync did not make (sync never updates a group made outside it)"
            ));
            return v;
        }
    };
    v.target_id = Some(target.id.clone());
    v.truncated |= target.members_truncated;
    // The target members each in-scope (or undetermined) source member accounts for.
    let mut matched = vec![false; target.members.len()];
    let mut take = |upn: &str| {
        let Some(prefix) = copy_prefix(upn) else {
            return false;
        };
        let mut found = false;
        for (i, m) in target.members.iter().enumerate() {
            if m.user_principal_name
                .as_deref()
                .is_some_and(|u| u.to_lowercase().starts_with(&prefix))
            {
                matched[i] = true;
                found = true;
            }
        }
        found
    };
    let mut seen = std::collections::BTreeSet::new();
    for m in &g.members {
        if !seen.insert(m.user_principal_name.to_lowercase()) {
            continue;
        }
        let in_scope = match scope_of(sync, m) {
            Ok(()) => true,
            Err(Some(_)) => false,
            // Undetermined (a filter mtoctl cannot evaluate): expected if sync put it there.
            Err(None) => {
                if take(&m.user_principal_name) {
                    v.expected_members += 1;
                    v.members += 1;
                }
                continue;
            }
        };
        if !in_scope {
            continue;
        }
        v.expected_members += 1;
        if take(&m.user_principal_name) {
            v.members += 1;
        } else if target.members_truncated {
            // Perhaps among the members not read: not judged.
        } else if g
            .copies
            .iter()
            .any(|c| c.source.eq_ignore_ascii_case(&m.user_principal_name))
        {
            v.missing_members.push(m.user_principal_name.clone());
        } else {
            v.not_provisioned.push(m.user_principal_name.clone());
        }
    }
    // Extra members are judged only against every source member.
    if !g.members_truncated {
        v.extra_members = target
            .members
            .iter()
            .zip(&matched)
            .filter(|(_, matched)| !**matched)
            .map(|(m, _)| match (&m.user_principal_name, &m.other_kind) {
                (Some(upn), None) => upn.clone(),
                (upn, kind) => format!(
                    "{} ({})",
                    upn.as_deref().unwrap_or(&m.id),
                    kind.as_deref().unwrap_or("not a user")
                ),
            })
            .collect();
    }
    v.missing_members.sort();
    v.not_provisioned.sort();
    v.extra_members.sort();
    let (missing, extra, waiting) = (
        v.missing_members.len(),
        v.extra_members.len(),
        v.not_provisioned.len(),
    );
    if missing + extra > 0 {
        v.verdict = GroupState::Drift;
        v.health = Health::Broken;
        let mut what = Vec::new();
        if missing > 0 {
            what.push(format!(
                "{missing} of its members in scope {} in {to} but not in the group, so {} what it grants there",
                if missing == 1 { "is" } else { "are" },
                if missing == 1 { "lacks" } else { "lack" }
            ));
        }
        if extra > 0 {
            what.push(format!(
                "{} of the group in {to} {} not in scope as a member of \"{name}\" in {from}, yet {} what it grants there",
                count(extra, "member"),
                if extra == 1 { "is" } else { "are" },
                if extra == 1 { "has" } else { "have" }
            ));
        }
        v.consequence = Some(what.join("; "));
        v.fix = Some(format!(
            "if the group's members changed in {from} since the last cycle, the next one (every 40 minutes) catches up; otherwise change the group's members in {to} to match (sync leaves changes made in {to} until the group changes in {from}), or see the provisioning logs of {} in {from}",
            sync.name
        ));
    } else {
        v.verdict = GroupState::Provisioned;
        if waiting > 0 {
            v.consequence = Some(format!(
                "{} in scope {} not in {to} yet, nor in the group",
                count(waiting, "member"),
                if waiting == 1 { "is" } else { "are" }
            ));
            v.fix = Some(format!(
                "the next sync cycle (every 40 minutes) provisions them and adds them to it; if they stay missing, the provisioning logs of {} in {from} say why",
                sync.name
            ));
        } else {
            v.health = Health::Healthy;
        }
    }
    v
}

/// One sentence for a group that is not healthy, for the direction's findings.
fn finding(sync: &SyncSpec, g: &GroupVerdict) -> String {
    let to = &sync.to;
    let what = match (g.verdict, g.health) {
        (GroupState::Missing, Health::Broken) => format!("was not created in {to}"),
        (GroupState::Missing, _) => format!("is not in {to} yet"),
        (GroupState::Ambiguous, _) => format!("is ambiguous in {to}"),
        (GroupState::Drift, _) => format!(
            "has {} of {} members in {to}, and its members differ",
            g.members, g.expected_members
        ),
        (GroupState::Provisioned, _) => format!(
            "has {} of {} members in {to}",
            g.members, g.expected_members
        ),
    };
    format!(
        "group \"{}\" {what}: {}",
        g.source,
        g.consequence.as_deref().unwrap_or("")
    )
}

/// When the last cycle began, if it began after the group was assigned and the job
/// synchronizes groups (it counts `Group` entries): then it had its chance at the group.
fn cycle_since(job: &JobHealth, assigned: Option<&str>) -> Option<String> {
    job.synchronized_groups?;
    let cycle = job.last_cycle.as_ref()?;
    if cycle
        .state
        .as_deref()
        .is_some_and(|s| s.eq_ignore_ascii_case("Failed"))
    {
        return None;
    }
    let began = cycle.began.as_deref()?;
    (compare_times(began, assigned?)? == Ordering::Greater).then(|| began.to_owned())
}

/// Compares two of Graph's UTC timestamps (`2026-01-01T10:00:00Z`, with or without a fraction
/// of a second, `Z` or `+00:00`); `None` when either is not one.
fn compare_times(a: &str, b: &str) -> Option<Ordering> {
    fn key(t: &str) -> Option<(String, String)> {
        let (seconds, rest) = (t.get(..19)?, t.get(19..)?);
        let bytes = seconds.as_bytes();
        let shape = bytes.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T' || *c == b't',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        });
        let (fraction, zone) = match rest.strip_prefix('.') {
            Some(r) => r.split_at(r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len())),
            None => ("", rest),
        };
        let utc = matches!(zone, "Z" | "z" | "+00:00");
        (shape && utc).then(|| (seconds.to_ascii_uppercase(), format!("{fraction:0<9}")))
    }
    Some(key(a)?.cmp(&key(b)?))
}

/// The start of the UPN cross-tenant sync gives a copy of `upn`, lowercased.
fn copy_prefix(upn: &str) -> Option<String> {
    let (local, domain) = upn.rsplit_once('@')?;
    (!local.is_empty() && !domain.is_empty())
        .then(|| format!("{local}_{domain}#EXT#@").to_lowercase())
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

#[cfg(test)]
mod tests;
