//! The parts of a synchronization job's schema mtoctl manages, in comparable form: what the
//! schema's fingerprint covers, and what the planner compares with the spec.

use serde::Serialize;

use crate::observed::{FilterGroupObservation, SyncJobObservation};

/// A scoping clause in comparable form: attribute, operator, values.
pub type ClauseKey = (String, String, Vec<String>);

/// A scoping filter group in comparable form: name and clauses.
pub type FilterKey = (String, Vec<ClauseKey>);

/// The parts of a job's schema mtoctl manages (the `userType` mapping, whether leaving the
/// scope deletes, the scoping filter), in a form where Graph's spellings (operator names,
/// attribute case, value and group order) compare equal to the spec's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaParts {
    /// `Member` or `Guest` (as read; compared case-insensitively).
    pub user_type: Option<String>,
    /// `Always` or `ObjectAddOnly`.
    pub flow: Option<String>,
    /// Whether leaving the scope deletes.
    pub deletes: Option<bool>,
    /// Normalised filter: groups sorted, clauses sorted, values sorted, operator spelling and
    /// attribute case folded.
    pub filter: Vec<FilterKey>,
}

impl SchemaParts {
    /// The managed parts of a job's schema as read.
    pub fn observed(job: &SyncJobObservation) -> Self {
        Self {
            user_type: job.user_type.as_ref().and_then(|u| u.value.clone()),
            flow: job.user_type.as_ref().and_then(|u| u.flow_type.clone()),
            deletes: job.deletes_on_leaving_scope,
            filter: normalise_filter(job.scoping_filter.iter().map(observed_group)),
        }
    }
}

/// Folds operator spellings (`notEquals`, `NOT_EQUALS`, `Not Equals`) to one form, so the
/// planner need not know Graph's exact wire names.
fn fold_operator(op: &str) -> String {
    op.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// A filter in comparable form: values, clauses and groups sorted, operators and attribute
/// names folded.
pub fn normalise_filter(groups: impl Iterator<Item = FilterKey>) -> Vec<FilterKey> {
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

fn observed_group(g: &FilterGroupObservation) -> FilterKey {
    (
        g.name.clone(),
        g.clauses
            .iter()
            .map(|c| (c.attribute.clone(), c.operator.clone(), c.values.clone()))
            .collect(),
    )
}
