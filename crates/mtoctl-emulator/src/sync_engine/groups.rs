//! The group part of a cycle (cross-tenant synchronization of groups): which assigned groups
//! are provisioned, skipped or deprovisioned, after the users are done.
//!
//! Group synchronization runs when the group mapping is enabled (configure step 8), the scope is
//! the assignments ("The **Sync all users** option isn't supported when group synchronization is
//! enabled", overview FAQ: with `SyncAll` no group is processed), and the target's identity sync
//! policy for the source has `groupSyncInbound.isSyncAllowed: true`. Then every group assigned to
//! the configuration that is a security group or a Microsoft 365 group and passes the group
//! mapping's scoping filter is provisioned (`group_provision`), with the target copies of its
//! in-scope direct members. A group this job provisioned that left that scope (unassigned,
//! deleted in the source, no longer a type sync takes, filtered out) is soft-deleted in the
//! target when the group mapping's `flowTypes` has `Delete`. With the mapping disabled the
//! assigned groups are logged as skipped (`EntityTypeNotSupported`); with `groupSyncInbound` not
//! true they are skipped too, and the groups made before are left as they are ("This property
//! has no impact on existing groups that were synchronized", `crossTenantGroupSyncInbound`).
//!
//! Like users, a group is processed when the cycle is full, when it or its assignment changed
//! since the last cycle, or when one of its direct members was processed in this cycle; so a
//! change made to a synced group in the target persists until the source group changes
//! ("They're overridden only if there's a change to the group in the source tenant", FAQ).

use std::collections::BTreeSet;

use super::group_provision::{GroupOutcome, Membership, provision_group};
use super::group_report::{GroupSkip, deleted, provisioned, skipped, subject};
use super::report::Import;
use crate::provisioning_log::{Cycle, Subject, record};
use crate::schema;
use crate::state::{Group, Job, State, Watermark};

/// What a cycle's users left for the groups.
pub(super) struct UserPass<'a> {
    /// Source users in the job's scope after this cycle.
    pub(super) scope: &'a BTreeSet<String>,
    /// Source users processed (provisioned, skipped or deprovisioned) in this cycle.
    pub(super) touched: &'a BTreeSet<String>,
}

/// What the group part of a cycle exported and escrowed.
#[derive(Debug, Default)]
pub(super) struct GroupTally {
    pub(super) exported: i64,
    pub(super) escrowed: i64,
}

/// An assigned group: the group, and whether it or its assignment changed since `wm`.
fn assigned_groups(
    state: &State,
    source: &str,
    sp: &str,
    wm: Option<Watermark>,
) -> (bool, Vec<(Group, bool)>) {
    let Some(t) = state.tenants.get(source) else {
        return (false, Vec::new());
    };
    let Some(s) = t.service_principals.iter().find(|s| s.id == sp) else {
        return (false, Vec::new());
    };
    let sync_all = s
        .secrets
        .get("SyncAll")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let mut out: Vec<(Group, bool)> = Vec::new();
    for a in s.assignments.iter().filter(|a| a.principal_type == "Group") {
        let Some(g) = t.live_group(&a.principal_id) else {
            continue;
        };
        let changed = wm.is_none_or(|w| a.created_ms >= w.at_ms || g.changed_seq > w.seq);
        match out.iter_mut().find(|(x, _)| x.id == g.id) {
            Some((_, c)) => *c |= changed,
            None => out.push((g.clone(), changed)),
        }
    }
    (sync_all, out)
}

/// Run the group part of a cycle of `job`, logging into `log`'s source tenant.
pub(super) fn sync_groups(
    state: &mut State,
    job: &mut Job,
    log: &Cycle<'_>,
    wm: Option<Watermark>,
    users: &UserPass<'_>,
) -> GroupTally {
    let (source, target) = (log.source, log.target);
    let mut tally = GroupTally::default();
    let (sync_all, assigned) = assigned_groups(state, source, log.sp, wm);
    if sync_all {
        return tally;
    }
    let mapping = schema::group_mapping(&job.schema).cloned();
    let enabled = mapping.as_ref().is_some_and(schema::enabled);
    let allowed = state
        .tenants
        .get(target)
        .and_then(|tt| tt.identity_sync.get(source))
        .is_some_and(|p| p.groups_allowed());
    let mut in_scope: BTreeSet<String> = BTreeSet::new();
    let mut work: Vec<(Group, Import)> = Vec::new();
    for (g, changed) in assigned {
        let linked = job.provisioned_groups.contains_key(&g.id);
        let how = if linked { Import::Update } else { Import::Add };
        let skip = match &mapping {
            _ if !enabled => Some(GroupSkip::NotEnabled),
            _ if !allowed => Some(GroupSkip::NotAllowed {
                source: source.to_owned(),
                target: target.to_owned(),
            }),
            _ if !g.sync_supported() => Some(GroupSkip::Unsupported(g.kind())),
            Some(m) if !schema::mapping_in_scope(m, &g.to_json()) => {
                let failed = schema::mapping_scope_evaluation(m, &g.to_json())
                    .into_iter()
                    .filter(|(_, ok)| !ok)
                    .map(|(label, _)| label)
                    .collect();
                Some(GroupSkip::Filtered(failed))
            }
            _ => None,
        };
        if let Some(why) = skip {
            // Logged when new or changed, as a user the scoping filter leaves out; a group this
            // job made that left scope is deprovisioned below instead.
            if changed && !linked {
                record(state, log, &skipped(&g, how, &why));
            }
            continue;
        }
        in_scope.insert(g.id.clone());
        let members_touched = g.members.iter().any(|m| users.touched.contains(m));
        if !linked || changed || members_touched {
            work.push((g, how));
        }
    }
    let Some(mapping) = mapping.filter(|_| enabled && allowed) else {
        job.synchronized_groups = live_groups(state, job, target);
        return tally;
    };
    let managed: BTreeSet<String> = state
        .tenants
        .get(target)
        .map(|tt| {
            tt.users
                .iter()
                .filter(|u| {
                    u.external
                        .as_ref()
                        .is_some_and(|l| l.source_tenant_id == source)
                })
                .map(|u| u.id.clone())
                .collect()
        })
        .unwrap_or_default();
    for (g, how) in &work {
        let desired = desired_members(state, job, target, g, users.scope);
        let want = Membership {
            desired: &desired,
            managed: &managed,
        };
        let outcome = provision_group(state, (source, target), job, &mapping, g, &want, log.at);
        match outcome {
            GroupOutcome::Unchanged => {}
            GroupOutcome::Escrowed(_) => tally.escrowed += 1,
            _ => tally.exported += 1,
        }
        if let Some(report) = provisioned(g, *how, &outcome) {
            record(state, log, &report);
        }
    }
    if schema::mapping_allows(&mapping, "Delete") {
        tally.exported += deprovision(state, job, log, &in_scope);
    }
    job.synchronized_groups = live_groups(state, job, target);
    tally
}

/// The target copies of `g`'s direct members that are in the job's user scope and provisioned
/// (live in the target), in the source's order.
fn desired_members(
    state: &State,
    job: &Job,
    target: &str,
    g: &Group,
    scope: &BTreeSet<String>,
) -> Vec<String> {
    let Some(tt) = state.tenants.get(target) else {
        return Vec::new();
    };
    g.members
        .iter()
        .filter(|m| scope.contains(*m))
        .filter_map(|m| job.provisioned.get(m))
        .filter(|tid| {
            tt.users
                .iter()
                .any(|u| &u.id == *tid && u.deleted_ms.is_none())
        })
        .cloned()
        .collect()
}

/// Soft-delete the groups this job made whose source group left the scope, unlink them and log
/// each; returns how many were deleted.
fn deprovision(
    state: &mut State,
    job: &mut Job,
    log: &Cycle<'_>,
    in_scope: &BTreeSet<String>,
) -> i64 {
    let leaving: Vec<(String, String)> = job
        .provisioned_groups
        .iter()
        .filter(|(src, _)| !in_scope.contains(*src))
        .map(|(s, t)| (s.clone(), t.clone()))
        .collect();
    let mut count = 0;
    for (src, tid) in leaving {
        job.provisioned_groups.remove(&src);
        let Some(tt) = state.tenants.get_mut(log.target) else {
            continue;
        };
        let seq = tt.next_seq();
        let Some(tg) = tt
            .groups
            .iter_mut()
            .find(|g| g.id == tid && g.deleted_ms.is_none())
        else {
            continue;
        };
        tg.deleted_ms = Some(log.at);
        tg.changed_seq = seq;
        count += 1;
        // The source group may be gone (deleted there): its last known name is the copy's.
        let name = tg.display_name.clone();
        let who = state
            .tenants
            .get(log.source)
            .and_then(|t| t.groups.iter().find(|g| g.id == src))
            .map(subject)
            .unwrap_or(Subject {
                id: src.clone(),
                display_name: name.clone(),
                upn: name,
                identity_type: "Group",
            });
        record(state, log, &deleted(who, &tid));
    }
    count
}

/// The live groups in `target` that `job` provisioned.
fn live_groups(state: &State, job: &Job, target: &str) -> i64 {
    state.tenants.get(target).map_or(0, |tt| {
        job.provisioned_groups
            .values()
            .filter(|id| tt.live_group(id).is_some())
            .count() as i64
    })
}
