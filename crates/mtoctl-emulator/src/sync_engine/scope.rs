//! Who is in a job's scope: the population its assignments bring in, and the scoping check of
//! one user (internal member, assigned, scoping filter) that the scoping step reports.

use std::collections::BTreeMap;

use crate::schema;
use crate::state::{Job, ServicePrincipal, Tenant, User, Watermark};

/// Who a job's assignments bring into its population: every internal member with `SyncAll`,
/// else the users assigned directly or as direct members of an assigned group, each with
/// whether that assignment or group changed since `wm`.
pub(super) struct Population {
    pub(super) sync_all: bool,
    pub(super) assigned: BTreeMap<String, bool>,
}

impl Population {
    pub(super) fn of(t: &Tenant, sp: &ServicePrincipal, wm: Option<Watermark>) -> Self {
        let sync_all = sp
            .secrets
            .get("SyncAll")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let mut assigned: BTreeMap<String, bool> = BTreeMap::new();
        let mut add = |id: &str, changed: bool| {
            *assigned.entry(id.to_owned()).or_default() |= changed;
        };
        for a in &sp.assignments {
            // `>=`: an assignment made at the very instant of the last cycle came after it.
            let new = wm.is_none_or(|w| a.created_ms >= w.at_ms);
            match a.principal_type.as_str() {
                "User" => add(&a.principal_id, new),
                "Group" => {
                    // A soft-deleted group brings nobody in.
                    if let Some(g) = t.live_group(&a.principal_id) {
                        let changed = new || wm.is_none_or(|w| g.changed_seq > w.seq);
                        for m in &g.members {
                            add(m, changed);
                        }
                    }
                }
                _ => {}
            }
        }
        Self { sync_all, assigned }
    }

    /// `None` outside the population, else whether the way in changed.
    pub(super) fn entry(&self, id: &str) -> Option<bool> {
        if self.sync_all {
            return Some(self.assigned.get(id).copied().unwrap_or(false));
        }
        self.assigned.get(id).copied()
    }
}

/// Why a user is or is not in a job's scope: what the scoping step shows.
#[derive(Debug, Clone)]
pub struct ScopeCheck {
    /// Not deleted in the source.
    pub active: bool,
    /// An internal member (not synced in, `userType` Member).
    pub internal_member: bool,
    /// Assigned directly or through a group.
    pub assigned: bool,
    /// `SyncAll` is `true`.
    pub sync_all: bool,
    /// The scoping filter's groups pass (true without a filter).
    pub filter_passed: bool,
    /// Every clause with its result.
    pub clauses: Vec<(String, bool)>,
}

impl ScopeCheck {
    /// Evaluate `u` against `job` of `sp` in `t`.
    pub(super) fn of(t: &Tenant, sp: &ServicePrincipal, job: &Job, u: &User) -> Self {
        let pop = Population::of(t, sp, None);
        let json = u.to_json();
        Self {
            active: u.deleted_ms.is_none(),
            internal_member: u.external.is_none() && u.user_type == "Member",
            assigned: pop.assigned.contains_key(&u.id),
            sync_all: pop.sync_all,
            filter_passed: schema::in_scope(&job.schema, &json),
            clauses: schema::scope_evaluation(&job.schema, &json),
        }
    }

    /// In scope for provisioning.
    pub fn in_scope(&self) -> bool {
        self.active
            && self.internal_member
            && (self.sync_all || self.assigned)
            && self.filter_passed
    }
}
