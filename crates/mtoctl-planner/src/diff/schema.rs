//! The schema a sync wants (the `userType` mapping, whether leaving the scope deletes, the
//! scoping filter, the attribute mappings the spec declares), compared with a job's as
//! `mtoctl_model::plan::fingerprint::SchemaParts`; mappings the spec does not declare are not
//! compared.

use super::show;
use mtoctl_model::desired::{FilterGroupSpec, MappingSpec, SyncSpec};
use mtoctl_model::observed::{AttributeMappingObservation, SyncJobObservation};
use mtoctl_model::plan::fingerprint::{
    FilterKey, MappingKey, SchemaParts, normalise_filter, source_of,
};
use mtoctl_model::plan::{
    AttributeChange, ObjectRef, Operation, ScopingClause, ScopingFilterGroup,
};
use mtoctl_model::spec::document::{GroupProvisioning, LeavingScope, UserType, UserTypeApplies};

/// The schema the spec wants: its managed parts in comparable form, with what writing it takes.
#[derive(Debug, Clone)]
pub(crate) struct WantedSchema {
    /// The parts compared with what a job has.
    pub parts: SchemaParts,
    spec_filter: Vec<ScopingFilterGroup>,
    spec: (UserType, UserTypeApplies, bool),
    spec_mappings: Vec<MappingSpec>,
    /// Targets (lowercased) of mappings to remove: with `resetMappings`, those of `job` that
    /// neither the spec nor the template has.
    remove: Vec<String>,
    /// The targets' spelling as read, for people.
    removed_shown: Vec<(String, String)>,
}

/// The target attributes a mapping of the spec never touches: `userType` (the sync's own
/// fields set it).
fn managed_elsewhere(target: &str) -> bool {
    target.eq_ignore_ascii_case("userType")
}

/// A template's mapping as the spec would declare it; `None` for a flow type the spec cannot
/// say (left as it is).
fn from_template(m: &AttributeMappingObservation) -> Option<MappingSpec> {
    let applies = match m.flow_type.as_deref() {
        None => UserTypeApplies::Always,
        Some(f) if f.eq_ignore_ascii_case("Always") => UserTypeApplies::Always,
        Some(f) if f.eq_ignore_ascii_case("ObjectAddOnly") => UserTypeApplies::OnCreate,
        Some(_) => return None,
    };
    let source = source_of(m)?;
    Some(MappingSpec {
        target: m.target.clone(),
        source,
        applies,
        matching_precedence: m.matching_priority.and_then(|p| u32::try_from(p).ok()),
    })
}

impl WantedSchema {
    /// What `s` wants of a job's schema. With `resetMappings` and the job's template read, the
    /// mappings the spec does not declare are wanted as the template has them, and the job's
    /// others removed.
    pub(crate) fn desired(s: &SyncSpec, job: Option<&SyncJobObservation>) -> Self {
        let mut mappings = s.mappings.clone();
        let mut remove = Vec::new();
        let mut removed_shown = Vec::new();
        if let Some(job) = job.filter(|j| s.reset_mappings && !j.template_mappings.is_empty()) {
            let declared = |t: &str| s.mappings.iter().any(|m| m.target.eq_ignore_ascii_case(t));
            for t in &job.template_mappings {
                if declared(&t.target) || managed_elsewhere(&t.target) {
                    continue;
                }
                if let Some(m) = from_template(t) {
                    mappings.push(m);
                }
            }
            for m in &job.mappings {
                let in_template = job
                    .template_mappings
                    .iter()
                    .any(|t| t.target.eq_ignore_ascii_case(&m.target));
                if !in_template && !declared(&m.target) && !managed_elsewhere(&m.target) {
                    remove.push(m.target.to_lowercase());
                    removed_shown.push((m.target.clone(), MappingKey::observed(m).shown));
                }
            }
            mappings.sort_by_key(|m| m.target.to_lowercase());
        }
        let spec_filter: Vec<ScopingFilterGroup> = s.scope.filter.iter().map(spec_group).collect();
        let filter = normalise_filter(s.scope.filter.iter().map(|g| {
            (
                g.name.clone(),
                g.clauses
                    .iter()
                    .map(|c| (c.attribute.clone(), show(&c.operator), c.values.clone()))
                    .collect(),
            )
        }));
        let deletes = s.on_leaving_scope == LeavingScope::SoftDelete;
        Self {
            parts: SchemaParts {
                user_type: Some(user_type_name(s.user_type).into()),
                flow: Some(flow_name(s.user_type_applies).into()),
                deletes: Some(deletes),
                filter,
                mappings: mappings.iter().map(MappingKey::desired).collect(),
                groups: s
                    .scope
                    .group_provisioning
                    .map(|g| g == GroupProvisioning::GroupsAndMembers),
            },
            spec_filter,
            spec: (s.user_type, s.user_type_applies, deletes),
            spec_mappings: mappings,
            remove,
            removed_shown,
        }
    }

    /// The declared mappings a job's schema does not have as the spec says.
    fn unmet_mappings<'a>(
        &'a self,
        have: &'a SchemaParts,
    ) -> Vec<(&'a MappingKey, Option<&'a MappingKey>)> {
        self.parts
            .mappings
            .iter()
            .filter_map(|want| {
                let found = have.mappings.iter().find(|h| h.target == want.target);
                (!found.is_some_and(|h| want.satisfied_by(h))).then_some((want, found))
            })
            .collect()
    }

    pub(crate) fn matches(&self, have: &SchemaParts) -> bool {
        let eq = |a: &Option<String>, b: &Option<String>| match (a, b) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => false,
        };
        let want = &self.parts;
        eq(&want.user_type, &have.user_type)
            && eq(&want.flow, &have.flow)
            && want.deletes == have.deletes
            && want.filter == have.filter
            && self.unmet_mappings(have).is_empty()
            && self.remove.is_empty()
            && groups_match(want.groups, have.groups)
    }

    pub(crate) fn operation(&self, configuration: ObjectRef, job: ObjectRef) -> Operation {
        let (user_type, flow, deletes) = self.spec;
        Operation::UpdateSchema {
            configuration,
            job,
            user_type,
            flow,
            filter: self.spec_filter.clone(),
            mappings: self.spec_mappings.clone(),
            remove_mappings: self.remove.clone(),
            deletes,
            groups: self.parts.groups,
        }
    }

    pub(crate) fn changes_from(&self, have: Option<&SchemaParts>) -> Vec<AttributeChange> {
        let render = |p: &SchemaParts| {
            [
                ("user_type", show(&p.user_type)),
                ("user_type_flow", show(&p.flow)),
                ("deletes_on_leaving_scope", show(&p.deletes)),
                ("scoping_filter", describe_filter(&p.filter)),
            ]
        };
        let before = have.map(render);
        let mut changes: Vec<AttributeChange> = render(&self.parts)
            .into_iter()
            .enumerate()
            .filter_map(|(i, (path, after))| {
                let before = before.as_ref().map(|b| b[i].1.clone());
                (before.as_deref() != Some(after.as_str())).then(|| AttributeChange {
                    path: path.into(),
                    before,
                    after: Some(after),
                })
            })
            .collect();
        if let Some(want) = self.parts.groups
            && !groups_match(Some(want), have.and_then(|h| h.groups))
        {
            changes.push(AttributeChange {
                path: "groups_provisioned".into(),
                before: have.and_then(|h| h.groups).map(|g| show(&g)),
                after: Some(show(&want)),
            });
        }
        let empty = SchemaParts {
            user_type: None,
            flow: None,
            deletes: None,
            filter: Vec::new(),
            mappings: Vec::new(),
            groups: None,
        };
        for (want, found) in self.unmet_mappings(have.unwrap_or(&empty)) {
            let target = self
                .spec_mappings
                .iter()
                .find(|m| m.target.eq_ignore_ascii_case(&want.target))
                .map_or(want.target.as_str(), |m| m.target.as_str());
            changes.push(AttributeChange {
                path: format!("mapping.{target}"),
                before: found.map(describe_mapping),
                after: Some(describe_mapping(want)),
            });
        }
        for (target, shown) in &self.removed_shown {
            changes.push(AttributeChange {
                path: format!("mapping.{target}"),
                before: Some(show(shown)),
                after: None,
            });
        }
        changes
    }
}

/// Whether the group mapping is as wanted: not managed, or the same; a schema without a group
/// mapping has nothing to turn off.
pub(crate) fn groups_match(want: Option<bool>, have: Option<bool>) -> bool {
    match (want, have) {
        (None, _) | (Some(false), None) => true,
        (Some(w), Some(h)) => w == h,
        (Some(true), None) => false,
    }
}

/// A mapping as a reviewer reads it: its source as an expression, and when it applies if not
/// always, and its matching precedence when it has one.
fn describe_mapping(m: &MappingKey) -> String {
    let mut out = m.shown.clone();
    if m.flow
        .as_deref()
        .is_some_and(|f| f.eq_ignore_ascii_case("ObjectAddOnly"))
    {
        out.push_str(" (on create)");
    }
    if let Some(p) = m.matching.filter(|p| *p > 0) {
        out.push_str(&format!(" (matching {p})"));
    }
    show(&out)
}

fn describe_filter(filter: &[FilterKey]) -> String {
    if filter.is_empty() {
        return "\"none\"".into();
    }
    let groups: Vec<String> = filter
        .iter()
        .map(|(name, clauses)| {
            let cs: Vec<String> = clauses
                .iter()
                .map(|(a, o, v)| format!("{a} {o} {}", v.join("|")))
                .collect();
            format!("{name}: {}", cs.join(" AND "))
        })
        .collect();
    format!("\"{}\"", groups.join(" OR "))
}

fn spec_group(g: &FilterGroupSpec) -> ScopingFilterGroup {
    let mut clauses: Vec<ScopingClause> = g
        .clauses
        .iter()
        .map(|c| ScopingClause {
            attribute: c.attribute.clone(),
            operator: c.operator,
            values: c.values.clone(),
        })
        .collect();
    clauses.sort();
    ScopingFilterGroup {
        name: g.name.clone(),
        clauses,
    }
}

fn user_type_name(t: UserType) -> &'static str {
    match t {
        UserType::Member => "Member",
        UserType::Guest => "Guest",
    }
}

/// The portal's "Always" / "Only during object creation" (graph-reference §6.8).
fn flow_name(f: UserTypeApplies) -> &'static str {
    match f {
        UserTypeApplies::Always => "Always",
        UserTypeApplies::OnCreate => "ObjectAddOnly",
    }
}
