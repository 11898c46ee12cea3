//! The parts of a synchronization job's schema mtoctl manages: the `userType` mapping, whether
//! leaving the scope deletes, and the scoping filter, in a form where Graph's spellings
//! (operator names, attribute case, value and group order) compare equal to the spec's.

use mtoctl_model::desired::{FilterGroupSpec, SyncSpec};
use mtoctl_model::observed::{FilterGroupObservation, SyncJobObservation};
use mtoctl_model::spec::document::{LeavingScope, UserType, UserTypeApplies};
use serde::Serialize;

use super::show;
use crate::plan::{AttributeChange, ObjectRef, Operation, ScopingClause, ScopingFilterGroup};

/// A scoping clause in comparable form: attribute, operator, values.
type ClauseKey = (String, String, Vec<String>);

/// A scoping filter group in comparable form: name and clauses.
pub(crate) type FilterKey = (String, Vec<ClauseKey>);

/// The parts of a job's schema mtoctl manages, in comparable form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct SchemaParts {
    /// `Member` or `Guest` (as read; compared case-insensitively).
    user_type: Option<String>,
    /// `Always` or `ObjectAddOnly`.
    flow: Option<String>,
    /// Whether leaving the scope deletes.
    pub deletes: Option<bool>,
    /// Normalised filter: groups sorted, clauses sorted, values sorted, operator spelling and
    /// attribute case folded.
    pub filter: Vec<FilterKey>,
    #[serde(skip)]
    spec_filter: Vec<ScopingFilterGroup>,
    #[serde(skip)]
    spec: Option<(UserType, UserTypeApplies, bool)>,
}

/// Folds operator spellings (`notEquals`, `NOT_EQUALS`, `Not Equals`) to one form, so the
/// planner need not know Graph's exact wire names.
fn fold_operator(op: &str) -> String {
    op.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn normalise_filter(groups: impl Iterator<Item = FilterKey>) -> Vec<FilterKey> {
    let mut out: Vec<_> = groups
        .map(|(name, clauses)| {
            let mut clauses: Vec<_> = clauses
                .into_iter()
                .map(|(attr, op, mut values)| {
                    values.sort();
                    (attr.to_lowercase(), fold_operator(&op), values)
                })
                .collect();
            clauses.sort();
            (name, clauses)
        })
        .collect();
    out.sort();
    out
}

impl SchemaParts {
    pub(crate) fn desired(s: &SyncSpec) -> Self {
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
            user_type: Some(user_type_name(s.user_type).into()),
            flow: Some(flow_name(s.user_type_applies).into()),
            deletes: Some(deletes),
            filter,
            spec_filter,
            spec: Some((s.user_type, s.user_type_applies, deletes)),
        }
    }

    pub(crate) fn observed(job: &SyncJobObservation) -> Self {
        Self {
            user_type: job.user_type.as_ref().and_then(|u| u.value.clone()),
            flow: job.user_type.as_ref().and_then(|u| u.flow_type.clone()),
            deletes: job.deletes_on_leaving_scope,
            filter: normalise_filter(job.scoping_filter.iter().map(observed_group)),
            spec_filter: Vec::new(),
            spec: None,
        }
    }

    pub(crate) fn matches(&self, have: &SchemaParts) -> bool {
        let eq = |a: &Option<String>, b: &Option<String>| match (a, b) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => false,
        };
        eq(&self.user_type, &have.user_type)
            && eq(&self.flow, &have.flow)
            && self.deletes == have.deletes
            && self.filter == have.filter
    }

    pub(crate) fn operation(&self, configuration: ObjectRef, job: ObjectRef) -> Operation {
        let (user_type, flow, deletes) =
            self.spec
                .unwrap_or((UserType::Member, UserTypeApplies::Always, true));
        Operation::UpdateSchema {
            configuration,
            job,
            user_type,
            flow,
            filter: self.spec_filter.clone(),
            deletes,
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
        render(self)
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
            .collect()
    }
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

fn observed_group(g: &FilterGroupObservation) -> FilterKey {
    (
        g.name.clone(),
        g.clauses
            .iter()
            .map(|c| (c.attribute.clone(), c.operator.clone(), c.values.clone()))
            .collect(),
    )
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
