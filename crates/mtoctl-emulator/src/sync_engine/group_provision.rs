//! Provisioning one source group into the target: match the group this sync made before (the
//! emulator's internal link, never a group made outside sync), update it as the group mapping
//! allows or create it, and say what changed.
//!
//! What the target holds is a static security group whatever the source group was ("Security
//! group (static)", `cross-tenant-synchronization-overview`, "What group types are supported?"):
//! `securityEnabled` true, `mailEnabled` false, `groupTypes` empty (a dynamic source group becomes
//! static: Microsoft's support wiki). Its `displayName`, `description` and `mailNickname` come
//! from the group mapping's attribute mappings, evaluated on the source group as the user
//! mapping's are on a user (`displayName` and `mailNickname`, which Entra requires of a group,
//! fall back to the source's); a `members` mapping makes the membership flow: the target copies
//! of the source group's in-scope direct members. On an update each mapping flows as its
//! `flowType` says; a membership flow removes only members that are copies synchronized from
//! the same source tenant, so members a target administrator added stay.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::provision::{Modified, as_text, flows_on_update};
use crate::schema;
use crate::state::{Group, GroupLink, Job, State};

/// The group attributes a mapping can write besides `members`.
const HELD: &[&str] = &["description", "displayName", "mailNickname"];

/// What provisioning one group did.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum GroupOutcome {
    /// Created in the target.
    Created {
        /// The target group.
        id: String,
        /// Its attributes.
        modified: Vec<Modified>,
        /// Members it was given.
        added: usize,
    },
    /// Updated (or restored) in the target.
    Updated {
        /// The target group.
        id: String,
        /// What changed.
        modified: Vec<Modified>,
        /// Members added.
        added: usize,
        /// Members removed.
        removed: usize,
    },
    /// Already up to date.
    Unchanged,
    /// Could not be provisioned (escrow).
    Escrowed(String),
}

/// What the membership should be, and which target users sync may take out of it.
pub(super) struct Membership<'a> {
    /// Target copies of the source group's in-scope direct members, in the source's order.
    pub(super) desired: &'a [String],
    /// Target users synchronized from the same source tenant (only these are ever removed).
    pub(super) managed: &'a BTreeSet<String>,
}

/// The source group as the mappings read it: its Graph properties, `objectId`, and `members`
/// (the direct members' ids).
fn source_json(g: &Group) -> Map<String, Value> {
    let mut m = g.to_json();
    m.insert("objectId".into(), json!(g.id));
    m.insert("members".into(), json!(g.members));
    m
}

/// What one mapping gives a held attribute.
struct Planned {
    target: &'static str,
    value: Value,
    flow: String,
}

/// The held attributes the group mapping gives values (first mapping of an attribute wins), and
/// the `flowType` of its `members` mapping, if it has one. `Err`: why the export fails.
fn plan(mapping: &Value, g: &Group) -> Result<(Vec<Planned>, Option<String>), String> {
    let source = source_json(g);
    let lookup = |name: &str| {
        source
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .unwrap_or(Value::Null)
    };
    let mut out: Vec<Planned> = Vec::new();
    let mut members = None;
    for m in schema::mappings_of(mapping) {
        if m.target == "members" {
            members.get_or_insert_with(|| m.flow.to_owned());
            continue;
        }
        let Some(target) = HELD.iter().find(|a| **a == m.target).copied() else {
            continue;
        };
        if out.iter().any(|p| p.target == target) {
            continue;
        }
        if let Some(value) = m.evaluate(&lookup)? {
            out.push(Planned {
                target,
                value,
                flow: m.flow.to_owned(),
            });
        }
    }
    Ok((out, members))
}

/// The value of a held attribute.
fn get(g: &Group, attr: &str) -> Option<String> {
    match attr {
        "displayName" => Some(g.display_name.clone()),
        "mailNickname" => Some(g.mail_nickname.clone()),
        _ => g.description.clone(),
    }
}

/// Write a held attribute; `displayName` and `mailNickname` are never cleared.
fn set(g: &mut Group, attr: &str, v: &Value) {
    match (attr, as_text(v)) {
        ("displayName", Some(t)) => g.display_name = t,
        ("mailNickname", Some(t)) => g.mail_nickname = t,
        ("displayName" | "mailNickname", None) => {}
        (_, text) => g.description = text,
    }
}

fn diff(before: Option<&Group>, after: &Group) -> Vec<Modified> {
    HELD.iter()
        .filter_map(|a| {
            let old = before.and_then(|b| get(b, a));
            let new = get(after, a);
            (old != new).then(|| ((*a).to_owned(), old, new))
        })
        .collect()
}

/// Bring `members` to what `flow` lets through: (added, removed).
fn sync_members(members: &mut Vec<String>, flow: &str, want: &Membership<'_>) -> (usize, usize) {
    let (add, remove) = match flow {
        "ObjectAddOnly" => (false, false),
        "AttributeAddOnly" => (members.is_empty(), false),
        "ValueAddOnly" | "MultiValueAddOnly" => (true, false),
        _ => (true, true),
    };
    let before = members.len();
    let mut removed = 0;
    if remove {
        members.retain(|m| !want.managed.contains(m) || want.desired.contains(m));
        removed = before - members.len();
    }
    let mut added = 0;
    if add {
        for d in want.desired {
            if !members.contains(d) {
                members.push(d.clone());
                added += 1;
            }
        }
    }
    (added, removed)
}

/// Provision the source group `g` of `source` into `target` with the group `mapping`, tracked
/// by `job`.
pub(super) fn provision_group(
    state: &mut State,
    (source, target): (&str, &str),
    job: &mut Job,
    mapping: &Value,
    g: &Group,
    want: &Membership<'_>,
    at: i64,
) -> GroupOutcome {
    let link = GroupLink {
        source_tenant_id: source.to_owned(),
        source_group_id: g.id.clone(),
    };
    let new_id = state.rng.guid();
    let Some(tt) = state.tenants.get_mut(target) else {
        return GroupOutcome::Escrowed("target tenant not found".into());
    };
    let linked = job
        .provisioned_groups
        .get(&g.id)
        .and_then(|tid| tt.groups.iter().position(|x| &x.id == tid));
    if let Some(i) = linked
        && tt.groups[i].deleted_ms.is_some()
    {
        // Deleted in the target, not by this job: restored there or not at all (as users).
        return GroupOutcome::Escrowed(format!(
            "The Group '{}' is soft-deleted in the target tenant; restore it there.",
            tt.groups[i].display_name
        ));
    }
    let existing = linked.or_else(|| {
        tt.groups
            .iter()
            .position(|x| x.synced_from.as_ref() == Some(&link))
    });
    let (planned, members_flow) = match plan(mapping, g) {
        Ok(p) => p,
        Err(why) => return GroupOutcome::Escrowed(why),
    };
    if let Some(i) = existing {
        let may_update = schema::mapping_allows(mapping, "Update");
        let tg = &mut tt.groups[i];
        let before = tg.clone();
        let (mut added, mut removed) = (0, 0);
        if may_update {
            for p in &planned {
                let empty = get(tg, p.target).is_none();
                if flows_on_update(&p.flow, empty, &p.value) {
                    set(tg, p.target, &p.value);
                }
            }
            if let Some(flow) = &members_flow {
                (added, removed) = sync_members(&mut tg.members, flow, want);
            }
        }
        // A group back in scope is restored from the soft-deleted state.
        tg.deleted_ms = None;
        let id = tg.id.clone();
        job.provisioned_groups.insert(g.id.clone(), id.clone());
        let modified = diff(Some(&before), tg);
        let restored = before.deleted_ms.is_some();
        if modified.is_empty() && added == 0 && removed == 0 && !restored {
            return GroupOutcome::Unchanged;
        }
        let seq = tt.next_seq();
        tt.groups[i].changed_seq = seq;
        return GroupOutcome::Updated {
            id,
            modified,
            added,
            removed,
        };
    }
    if !schema::mapping_allows(mapping, "Add") {
        return GroupOutcome::Escrowed("the group mapping does not allow Add".into());
    }
    let seq = tt.next_seq();
    let mut created = Group {
        id: new_id.clone(),
        display_name: g.display_name.clone(),
        description: None,
        mail_enabled: false,
        security_enabled: true,
        group_types: Vec::new(),
        mail_nickname: g.mail_nickname.clone(),
        members: Vec::new(),
        created_ms: at,
        changed_seq: seq,
        deleted_ms: None,
        synced_from: Some(link),
    };
    for p in &planned {
        set(&mut created, p.target, &p.value);
    }
    let added = match members_flow {
        Some(_) => sync_members(&mut created.members, "Always", want).0,
        None => 0,
    };
    let modified = diff(None, &created);
    tt.groups.push(created);
    job.provisioned_groups.insert(g.id.clone(), new_id.clone());
    GroupOutcome::Created {
        id: new_id,
        modified,
        added,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    /// Each flow type as `attributeMapping` documents it; only synced copies are removed.
    #[test]
    fn membership_flows_as_the_mapping_says() {
        let desired = ids(&["t1", "t3"]);
        let managed: BTreeSet<String> = ids(&["t1", "t2", "t3"]).into_iter().collect();
        let want = Membership {
            desired: &desired,
            managed: &managed,
        };
        let start = ids(&["t2", "native"]);
        let run = |flow: &str, start: &[String]| {
            let mut m = start.to_vec();
            let counts = sync_members(&mut m, flow, &want);
            (m, counts)
        };
        assert_eq!(
            run("Always", &start),
            (ids(&["native", "t1", "t3"]), (2, 1))
        );
        assert_eq!(run("ObjectAddOnly", &start), (start.clone(), (0, 0)));
        assert_eq!(
            run("ValueAddOnly", &start),
            (ids(&["t2", "native", "t1", "t3"]), (2, 0))
        );
        assert_eq!(run("AttributeAddOnly", &start), (start.clone(), (0, 0)));
        assert_eq!(run("AttributeAddOnly", &[]), (desired.clone(), (2, 0)));
    }
}
