//! A sync's scope: the spec's users and groups resolved in the source tenant (a name that
//! resolves to nothing is an error, with the closest names), assigned when missing and
//! unassigned when no longer named.

use mtoctl_model::desired::{GroupRef, SyncSpec, UserRef};
use mtoctl_model::ids::Guid;
use mtoctl_model::observed::AssignmentObservation;
use mtoctl_model::spec::document::{GroupProvisioning, LeavingScope};
use mtoctl_model::spec::suggest::closest;

use crate::diff::{Ctx, Draft, change};
use mtoctl_model::plan::ResourceAddr;
use mtoctl_model::plan::fingerprint;
use mtoctl_model::plan::{
    ActionId, ActionKind, ActionReason, Impact, ObjectRef, Operation, PrincipalKind,
};
use mtoctl_model::plan::{ScopeEntry, ScopeList, Severity};

/// A resolved principal of a scope, borrowed from the observation: most are assigned
/// already, and their labels are never needed.
struct Principal<'a> {
    id: &'a Guid,
    kind: PrincipalKind,
    /// The user's principal name or the group's display name.
    name: &'a str,
}

impl Principal<'_> {
    /// How plans name it: `user:<upn, lower case>` or `group:<display name>`.
    fn label(&self) -> String {
        match self.kind {
            PrincipalKind::User => fingerprint::principal_label(false, &self.name.to_lowercase()),
            PrincipalKind::Group => fingerprint::principal_label(true, self.name),
        }
    }
}

/// The spec's users and groups found in the source tenant, and whether every one was: a name
/// that resolves to nothing is an error (a typo would otherwise drop the real principal it
/// meant from the scope), with the closest existing names.
fn resolve<'a>(ctx: &mut Ctx<'a>, s: &SyncSpec) -> (Vec<Principal<'a>>, bool) {
    let principals = &ctx.obs(&s.from).principals;
    let addr = ResourceAddr::sync(s.from.as_str(), &s.name);
    let mut out = Vec::new();
    let mut problems: Vec<(ScopeList, String, String)> = Vec::new();
    let suggest = |name: &str, key: &str| -> String {
        let names = principals
            .candidates
            .get(key)
            .map(|c| closest(name, c.iter().map(String::as_str), 3))
            .unwrap_or_default();
        match names.as_slice() {
            [] => String::new(),
            [one] => format!(" (did you mean {one}?)"),
            many => format!(" (did you mean one of {}?)", many.join(", ")),
        }
    };
    for user in &s.scope.users {
        match principals.user(user) {
            Some(u) => out.push(Principal {
                id: &u.id,
                kind: PrincipalKind::User,
                name: &u.user_principal_name,
            }),
            None => {
                let name = user_text(user);
                let hint = suggest(&name, &name.to_lowercase());
                problems.push((
                    ScopeList::Users,
                    name.clone(),
                    format!("user {name} does not exist in {}{hint}", s.from),
                ));
            }
        }
    }
    for group in &s.scope.groups {
        let (name, quoted) = match group {
            GroupRef::DisplayName(name) => (name.clone(), format!("\"{name}\"")),
            GroupRef::ObjectId(id) => (id.to_string(), id.to_string()),
        };
        match principals.groups(group) {
            [g] => out.push(Principal {
                id: &g.id,
                kind: PrincipalKind::Group,
                name: &g.display_name,
            }),
            [] => {
                // Names are suggested; an id has no near miss to offer.
                let hint = match group {
                    GroupRef::DisplayName(_) => suggest(&name, &name),
                    GroupRef::ObjectId(_) => String::new(),
                };
                problems.push((
                    ScopeList::Groups,
                    name,
                    format!("group {quoted} does not exist in {}{hint}", s.from),
                ));
            }
            many => problems.push((
                ScopeList::Groups,
                name,
                format!(
                    "{} groups in {} are named {quoted}; name the one meant by object id",
                    many.len(),
                    s.from
                ),
            )),
        }
    }
    let complete = problems.is_empty();
    for (list, name, problem) in problems {
        ctx.note_entry(
            Severity::Error,
            addr.clone(),
            ScopeEntry {
                from: s.from.clone(),
                to: s.to.clone(),
                list,
                name,
            },
            format!(
                "{problem}. Fix the name in the scope of {} → {}; until every name resolves, nothing leaves this scope and the plan cannot be applied",
                s.from, s.to
            ),
        );
    }
    (out, complete)
}

/// For each id of `a`, whether `b` has it, and for each of `b`, whether `a` has it: each list's
/// order sorted once and the two merged (not hashed, nor searched once per id: a scope of
/// thousands is planned for every direction).
fn membership(a: &[&Guid], b: &[&Guid]) -> (Vec<bool>, Vec<bool>) {
    let order = |ids: &[&Guid]| {
        let mut order: Vec<usize> = (0..ids.len()).collect();
        // Assignments are observed sorted by principal id: one pass finds that.
        if !ids.is_sorted() {
            order.sort_unstable_by(|&x, &y| ids[x].cmp(ids[y]));
        }
        order
    };
    let (a_order, b_order) = (order(a), order(b));
    let (mut a_in_b, mut b_in_a) = (vec![false; a.len()], vec![false; b.len()]);
    let (mut i, mut j) = (0, 0);
    while i < a_order.len() && j < b_order.len() {
        let id = a[a_order[i]];
        match id.cmp(b[b_order[j]]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                // Every copy of the id on either side is matched.
                while i < a_order.len() && a[a_order[i]] == id {
                    a_in_b[a_order[i]] = true;
                    i += 1;
                }
                while j < b_order.len() && b[b_order[j]] == id {
                    b_in_a[b_order[j]] = true;
                    j += 1;
                }
            }
        }
    }
    (a_in_b, b_in_a)
}

fn user_text(user: &UserRef) -> String {
    match user {
        UserRef::UserPrincipalName(upn) => upn.clone(),
        UserRef::ObjectId(id) => id.to_string(),
    }
}

/// Assigns what the spec names and is missing; unassigns what is assigned and not named.
pub(super) fn assignments(
    ctx: &mut Ctx<'_>,
    s: &SyncSpec,
    config: &ObjectRef,
    app_role: Option<&ObjectRef>,
    existing: &[AssignmentObservation],
    after: Vec<ActionId>,
    reason: ActionReason,
) -> Vec<ActionId> {
    let from = s.from.as_str();
    let (wanted, complete) = resolve(ctx, s);
    let wanted_ids: Vec<&Guid> = wanted.iter().map(|p| p.id).collect();
    let assigned_ids: Vec<&Guid> = existing.iter().map(|a| &a.principal_id).collect();
    let (wanted_assigned, assigned_wanted) = membership(&wanted_ids, &assigned_ids);
    let mut keys = Vec::new();
    let missing: Vec<&Principal> = wanted
        .iter()
        .zip(&wanted_assigned)
        .filter(|(_, assigned)| !**assigned)
        .map(|(p, _)| p)
        .collect();
    if !missing.is_empty() && app_role.is_none() {
        ctx.note(
            Severity::Warning,
            Some(ResourceAddr::sync(from, &s.name)),
            format!(
                "{} has no app role for users; cannot assign users or groups to it",
                s.name
            ),
        );
    }
    if let Some(app_role) = app_role {
        for p in missing {
            let label = p.label();
            keys.push(
                ctx.push(
                    Draft::new(
                        ResourceAddr::assignment(from, &s.name, &label),
                        &s.from,
                        ActionKind::Create,
                        Operation::AssignPrincipal {
                            configuration: config.clone(),
                            app_role: app_role.clone(),
                            principal_id: p.id.clone(),
                            kind: p.kind,
                        },
                        reason,
                        format!("bring {label} into the scope of {}", s.name),
                    )
                    .after(after.clone())
                    .changes(vec![change(
                        "principal_id",
                        None::<&()>,
                        Some(p.id),
                    )]),
                ),
            );
        }
    }
    // With `SyncAll` every internal user is in scope; assignments do not narrow it. With a
    // name that did not resolve, the principal it meant may be one assigned now: no removal.
    if s.scope.all_users || !complete {
        return keys;
    }
    let soft_deletes = s.on_leaving_scope == LeavingScope::SoftDelete;
    // Groups provisioned as groups leave the target with their scope, whether the spec says so
    // or the job's group mapping was enabled by hand (a plan that turns it off says so itself).
    let groups_as_groups = s.scope.group_provisioning == Some(GroupProvisioning::GroupsAndMembers)
        || s.scope.group_provisioning.is_none()
            && ctx
                .obs(&s.from)
                .sync_configurations
                .iter()
                .filter(|c| c.display_name == s.name)
                .filter_map(|c| c.details.as_ref())
                .flat_map(|d| &d.jobs)
                .any(|j| j.groups_provisioned == Some(true));
    for a in existing
        .iter()
        .zip(&assigned_wanted)
        .filter(|(_, wanted)| !**wanted)
        .map(|(a, _)| a)
    {
        let is_group = a
            .principal_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("group"));
        let label = fingerprint::assignment_label(a, &ctx.obs(&s.from).principals);
        let name = label
            .split_once(':')
            .map_or(label.as_str(), |(_, n)| n)
            .to_owned();
        let addr = ResourceAddr::assignment(from, &s.name, &label);
        let expected = ctx.seen(&addr, fingerprint::assignment(a));
        let fate = if soft_deletes {
            format!("will be soft-deleted in {}", s.to)
        } else {
            format!("stay in {} (onLeavingScope: keep)", s.to)
        };
        let impact = if is_group {
            let count = ctx
                .obs(&s.from)
                .principals
                .groups_by_id
                .get(&a.principal_id)
                .and_then(|g| g.member_count);
            let members = match count {
                Some(1) => "1 member".to_owned(),
                Some(n) => format!("{n} members"),
                None => "members not counted".to_owned(),
            };
            let also = if groups_as_groups && soft_deletes {
                format!(
                    "; the group itself, provisioned as a group, is deleted in {}",
                    s.to
                )
            } else {
                String::new()
            };
            Impact {
                message: format!(
                    "group {name} ({members}) leaves the scope; its members {fate}{also}"
                ),
                users_leaving_scope: count.unwrap_or(0),
                groups_leaving_scope: vec![name.clone()],
                soft_deletes,
            }
        } else {
            Impact {
                message: format!("1 user ({name}) leaves the scope and {fate}"),
                users_leaving_scope: 1,
                groups_leaving_scope: Vec::new(),
                soft_deletes,
            }
        };
        let mut d = Draft::new(
            addr,
            &s.from,
            ActionKind::Delete,
            Operation::RemoveAssignment {
                configuration: config.clone(),
                assignment_id: a.id.clone(),
                principal_id: a.principal_id.clone(),
            },
            ActionReason::ScopeChange,
            format!("take {label} out of the scope of {}", s.name),
        )
        .after(after.clone())
        .expect(expected)
        .changes(vec![change(
            "principal_id",
            Some(&a.principal_id),
            None::<&()>,
        )]);
        d.destructive = soft_deletes;
        d.impact = Some(Box::new(impact));
        keys.push(ctx.push(d));
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::membership;
    use mtoctl_model::ids::Guid;

    fn ids(tails: &[u8]) -> Vec<Guid> {
        tails
            .iter()
            .map(|t| {
                Guid::parse(&format!("00000000-0000-4000-8000-0000000000{t:02x}")).expect("a GUID")
            })
            .collect()
    }

    #[test]
    fn membership_marks_every_id_found_on_the_other_side_copies_included() {
        let a = ids(&[9, 1, 4, 4, 7]);
        let b = ids(&[4, 2, 9, 9, 3, 8]);
        let (a, b): (Vec<&Guid>, Vec<&Guid>) = (a.iter().collect(), b.iter().collect());
        let (a_in_b, b_in_a) = membership(&a, &b);
        assert_eq!(a_in_b, [true, false, true, true, false]);
        assert_eq!(b_in_a, [true, false, true, true, false, false]);
        // Sides already in order (as observed assignments are) are merged as they are.
        let (a, b) = (ids(&[1, 4, 4, 7, 9]), ids(&[2, 3, 4, 8, 9, 9]));
        let (a, b): (Vec<&Guid>, Vec<&Guid>) = (a.iter().collect(), b.iter().collect());
        let (a_in_b, b_in_a) = membership(&a, &b);
        assert_eq!(a_in_b, [false, true, true, false, true]);
        assert_eq!(b_in_a, [false, false, true, false, true, true]);
        let (none, all_absent) = membership(&[], &b);
        assert!(none.is_empty());
        assert_eq!(all_absent, [false; 6]);
    }
}
