//! The parts of a synchronization job's schema mtoctl manages, in comparable form: what the
//! schema's fingerprint covers, and what the planner compares with the spec.

use serde::Serialize;

use crate::desired::{MappingSource, MappingSpec};
use crate::observed::{AttributeMappingObservation, FilterGroupObservation, SyncJobObservation};
use crate::spec::document::UserTypeApplies;

/// A scoping clause in comparable form: attribute, operator, values.
pub type ClauseKey = (String, String, Vec<String>);

/// A scoping filter group in comparable form: name and clauses.
pub type FilterKey = (String, Vec<ClauseKey>);

/// An attribute mapping in comparable form. Two keys are equal when all but `shown` are.
#[derive(Debug, Clone, Serialize)]
pub struct MappingKey {
    /// The target attribute, lowercased.
    pub target: String,
    /// Where the value comes from, as an expression would write it: `[attribute]` (lowercased),
    /// `"constant"`, or the expression with blanks outside strings removed.
    pub value: String,
    /// `Always`, `ObjectAddOnly`, … (as read; compared case-insensitively).
    pub flow: Option<String>,
    /// `matchingPriority`; `None` in what the spec wants when it leaves it as it is.
    pub matching: Option<i64>,
    /// The source as written (the spec's, or Graph's expression), for people.
    #[serde(skip)]
    pub shown: String,
}

impl MappingKey {
    fn compared(&self) -> (&str, &str, &Option<String>, &Option<i64>) {
        (&self.target, &self.value, &self.flow, &self.matching)
    }
}

impl PartialEq for MappingKey {
    fn eq(&self, other: &Self) -> bool {
        self.compared() == other.compared()
    }
}

impl Eq for MappingKey {}

impl PartialOrd for MappingKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for MappingKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.compared().cmp(&other.compared())
    }
}

impl MappingKey {
    /// The comparable form of a mapping the spec declares.
    pub fn desired(m: &MappingSpec) -> Self {
        Self {
            target: m.target.to_lowercase(),
            value: value_of(&m.source),
            flow: Some(
                match m.applies {
                    UserTypeApplies::Always => "Always",
                    UserTypeApplies::OnCreate => "ObjectAddOnly",
                }
                .to_owned(),
            ),
            matching: m.matching_precedence.map(i64::from),
            shown: m.source.shown(),
        }
    }

    /// The comparable form of a mapping as read.
    pub fn observed(m: &AttributeMappingObservation) -> Self {
        let source = source_of(m)
            .unwrap_or_else(|| MappingSource::Expression(m.name.clone().unwrap_or_default()));
        Self {
            target: m.target.to_lowercase(),
            value: value_of(&source),
            flow: m.flow_type.clone(),
            matching: m.matching_priority,
            shown: source.shown(),
        }
    }

    /// Whether a mapping as read is the one wanted (`self`): the same value and flow, and the
    /// same matching precedence when the spec sets one.
    pub fn satisfied_by(&self, have: &MappingKey) -> bool {
        let flow = match (&self.flow, &have.flow) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            // Graph's default flow type is `Always`.
            (Some(a), None) => a.eq_ignore_ascii_case("Always"),
            (None, _) => true,
        };
        self.target == have.target
            && self.value == have.value
            && flow
            && (self.matching.is_none() || self.matching == have.matching)
    }
}

/// Where a mapping as read takes its value from, in the spec's terms: an attribute or a
/// constant by name, anything else by its expression; `None` without either.
pub fn source_of(m: &AttributeMappingObservation) -> Option<MappingSource> {
    match (m.kind.as_deref(), &m.name, &m.expression) {
        (Some(k), Some(n), _) if k.eq_ignore_ascii_case("Attribute") => {
            Some(MappingSource::Attribute(n.clone()))
        }
        (Some(k), Some(n), _) if k.eq_ignore_ascii_case("Constant") => {
            Some(MappingSource::Constant(n.clone()))
        }
        (_, _, Some(e)) => Some(MappingSource::Expression(e.clone())),
        _ => None,
    }
}

fn value_of(source: &MappingSource) -> String {
    match source {
        MappingSource::Attribute(a) => format!("[{}]", a.to_lowercase()),
        MappingSource::Constant(_) => source.shown(),
        MappingSource::Expression(e) => {
            let e = crate::expression::normalise(e);
            // `[department]` is how Graph writes an attribute source, whatever its case.
            match e.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
                Some(a) if !a.contains(['[', ']', '(', '"']) => format!("[{}]", a.to_lowercase()),
                _ => e,
            }
        }
    }
}

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
    /// Attribute mappings, sorted: every one as read; the spec's when wanted. Left out of the
    /// fingerprint's JSON when empty, so a schema read without them fingerprints as before.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mappings: Vec<MappingKey>,
    /// Whether groups are provisioned as groups (the group mapping enabled); left out when not
    /// known or not wanted, so other schemas fingerprint as before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<bool>,
}

impl SchemaParts {
    /// The managed parts of a job's schema as read.
    pub fn observed(job: &SyncJobObservation) -> Self {
        Self {
            user_type: job.user_type.as_ref().and_then(|u| u.value.clone()),
            flow: job.user_type.as_ref().and_then(|u| u.flow_type.clone()),
            deletes: job.deletes_on_leaving_scope,
            filter: normalise_filter(job.scoping_filter.iter().map(observed_group)),
            mappings: {
                let mut m: Vec<MappingKey> =
                    job.mappings.iter().map(MappingKey::observed).collect();
                m.sort();
                m
            },
            groups: job.groups_provisioned,
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
