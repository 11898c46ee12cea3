//! The job's scoping filter evaluated against a user's attributes, clause by clause, in
//! three-valued logic (a clause that cannot be told is unknown, not false).

use std::collections::BTreeMap;

use mtoctl_model::observed::{FilterClauseObservation, FilterGroupObservation};

use super::{Attribute, ClauseTrace, FilterGroupTrace, FilterTrace};

/// The scoping filter evaluated against `attributes` (keyed by lowercase attribute name).
pub fn evaluate(
    groups: &[FilterGroupObservation],
    attributes: &BTreeMap<String, Attribute>,
) -> FilterTrace {
    let groups: Vec<FilterGroupTrace> = groups
        .iter()
        .map(|g| {
            let clauses: Vec<ClauseTrace> = g
                .clauses
                .iter()
                .map(|c| clause(c, attributes.get(&c.attribute.to_lowercase())))
                .collect();
            FilterGroupTrace {
                name: g.name.clone(),
                matches: all(clauses.iter().map(|c| c.matches)),
                clauses,
            }
        })
        .collect();
    FilterTrace {
        matches: any(groups.iter().map(|g| g.matches)),
        groups,
    }
}

/// Three-valued AND: false if any is false, else unknown if any is unknown.
pub(super) fn all(values: impl Iterator<Item = Option<bool>>) -> Option<bool> {
    let mut unknown = false;
    for v in values {
        match v {
            Some(false) => return Some(false),
            None => unknown = true,
            Some(true) => {}
        }
    }
    (!unknown).then_some(true)
}

/// Three-valued OR: true if any is true, else unknown if any is unknown.
pub(super) fn any(values: impl Iterator<Item = Option<bool>>) -> Option<bool> {
    let mut unknown = false;
    for v in values {
        match v {
            Some(true) => return Some(true),
            None => unknown = true,
            Some(false) => {}
        }
    }
    (!unknown).then_some(false)
}

/// One clause against the user's value (`None`: the attribute was not read).
pub(super) fn clause(c: &FilterClauseObservation, value: Option<&Attribute>) -> ClauseTrace {
    // Graph writes `NOT_EQUALS`, the spec `notEquals`: compared folded, letters only.
    let operator: String = c
        .operator
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|ch| ch.to_ascii_uppercase())
        .collect();
    let attr = &c.attribute;
    let text = value.and_then(Attribute::text);
    let shown = match &text {
        Some(t) => format!("{attr} is {t}"),
        None => format!("{attr} is empty"),
    };
    let (matches, why) = match value {
        None => (
            None,
            Some(format!("mtoctl did not read {attr} from the source")),
        ),
        Some(value) => match operator.as_str() {
            "EQUALS" | "NOTEQUALS" => {
                let equal = c.values.iter().any(|v| equals(value, v));
                let want = operator == "EQUALS";
                let near = !equal
                    && want
                    && text
                        .as_ref()
                        .is_some_and(|t| c.values.iter().any(|v| v.eq_ignore_ascii_case(t)));
                let why = if near {
                    format!("{shown}; EQUALS compares case-sensitively")
                } else {
                    shown
                };
                (Some(equal == want), Some(why))
            }
            "ISTRUE" | "ISFALSE" => {
                let want = operator == "ISTRUE";
                let is = match value {
                    Attribute::Bool(b) => Some(*b),
                    Attribute::Text(t) if t.eq_ignore_ascii_case("true") => Some(true),
                    Attribute::Text(t) if t.eq_ignore_ascii_case("false") => Some(false),
                    _ => None,
                };
                (Some(is == Some(want)), Some(shown))
            }
            "ISNULL" => (Some(text.is_none()), Some(shown)),
            "ISNOTNULL" => (Some(text.is_some()), Some(shown)),
            "GREATERTHAN" | "GREATERTHANOREQUALS" | "LESSTHAN" | "LESSTHANOREQUALS" => {
                compare(&operator, text.as_deref(), &c.values, shown)
            }
            "REGEXMATCH" | "NOTREGEXMATCH" => (
                None,
                Some(format!(
                    "{shown}; mtoctl does not evaluate regular expressions"
                )),
            ),
            _ => (
                None,
                Some(format!(
                    "{shown}; mtoctl does not know the operator {}",
                    c.operator
                )),
            ),
        },
    };
    ClauseTrace {
        attribute: attr.clone(),
        operator: c.operator.clone(),
        values: c.values.clone(),
        value: text,
        matches,
        why: (matches != Some(true)).then_some(why).flatten(),
    }
}

/// `EQUALS` of one value: text exactly (case-sensitive), booleans ignoring case.
fn equals(value: &Attribute, want: &str) -> bool {
    match value {
        Attribute::Null => false,
        Attribute::Text(t) | Attribute::Number(t) => t == want,
        Attribute::Bool(b) => want.eq_ignore_ascii_case(&b.to_string()),
    }
}

/// The integer comparisons: an empty attribute matches nothing; text that is not an integer
/// cannot be told.
fn compare(
    operator: &str,
    value: Option<&str>,
    values: &[String],
    shown: String,
) -> (Option<bool>, Option<String>) {
    let Some(value) = value else {
        return (Some(false), Some(shown));
    };
    let (Ok(have), Some(Ok(want))) = (
        value.trim().parse::<i64>(),
        values.first().map(|v| v.trim().parse::<i64>()),
    ) else {
        return (
            None,
            Some(format!("{shown}; the comparison takes integers")),
        );
    };
    let holds = match operator {
        "GREATERTHAN" => have > want,
        "GREATERTHANOREQUALS" => have >= want,
        "LESSTHAN" => have < want,
        _ => have <= want,
    };
    (Some(holds), Some(shown))
}
