//! Whether a source user is in a direction's scope as far as what was read tells: an internal
//! member, and admitted by the spec's scoping filter (clauses evaluated as Entra does).

use mtoctl_model::desired::{FilterClauseSpec, SyncSpec};
use mtoctl_model::health::SourceUser;
use mtoctl_model::spec::document::FilterOperator;
use serde_json::Value;

/// Whether a source user is in the scope of `sync`, as far as what was read tells: `Ok` in
/// scope, `Err(Some(why))` out of it, `Err(None)` undetermined (the filter reads an attribute
/// that was not read, or compares with a regular expression).
pub fn scope_of(sync: &SyncSpec, user: &SourceUser) -> Result<(), Option<String>> {
    if user
        .user_principal_name
        .to_ascii_lowercase()
        .contains("#ext#")
    {
        return Err(Some(format!(
            "a user synced or invited into {} from elsewhere: only internal members are synced",
            sync.from
        )));
    }
    if user
        .user_type
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("Guest"))
    {
        return Err(Some(format!(
            "a guest of {}: only internal members are synced",
            sync.from
        )));
    }
    let filter = &sync.scope.filter;
    if filter.is_empty() {
        return Ok(());
    }
    // Groups are OR-ed, clauses AND-ed; `None` is "cannot tell".
    let mut any_unknown = false;
    for group in filter {
        let mut all = Some(true);
        for clause in &group.clauses {
            match clause_matches(clause, &user.attributes) {
                Some(true) => {}
                Some(false) => {
                    all = Some(false);
                    break;
                }
                None => all = None,
            }
        }
        match all {
            Some(true) => return Ok(()),
            Some(false) => {}
            None => any_unknown = true,
        }
    }
    if any_unknown {
        Err(None)
    } else {
        Err(Some("does not match the spec's scoping filter".into()))
    }
}

/// One clause on a user's attributes, as the provisioning service evaluates it (values compared
/// case-insensitively); `None` when it cannot be told.
fn clause_matches(
    clause: &FilterClauseSpec,
    attributes: &std::collections::BTreeMap<String, Value>,
) -> Option<bool> {
    let actual = attributes
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(&clause.attribute))
        .map(|(_, v)| v)?;
    let text = match actual {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let equals = text
        .as_deref()
        .is_some_and(|a| clause.values.iter().any(|v| v.eq_ignore_ascii_case(a)));
    let compare = |pick: fn(f64, f64) -> bool| -> Option<bool> {
        let a: f64 = text.as_deref()?.trim().parse().ok()?;
        let b: f64 = clause.values.first()?.trim().parse().ok()?;
        Some(pick(a, b))
    };
    let is = |want: bool| {
        actual.as_bool() == Some(want)
            || text
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case(&want.to_string()))
    };
    match clause.operator {
        FilterOperator::Equals => Some(equals),
        FilterOperator::NotEquals => Some(!equals),
        FilterOperator::IsTrue => Some(is(true)),
        FilterOperator::IsFalse => Some(is(false)),
        FilterOperator::IsNull => Some(actual.is_null()),
        FilterOperator::IsNotNull => Some(!actual.is_null()),
        FilterOperator::GreaterThan => compare(|a, b| a > b),
        FilterOperator::GreaterThanOrEquals => compare(|a, b| a >= b),
        FilterOperator::LessThan => compare(|a, b| a < b),
        FilterOperator::LessThanOrEquals => compare(|a, b| a <= b),
        FilterOperator::RegexMatch | FilterOperator::NotRegexMatch => None,
    }
}
