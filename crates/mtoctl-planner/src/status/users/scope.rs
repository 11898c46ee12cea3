//! Whether a source user is in a direction's scope as far as what was read tells: an internal
//! member, and admitted by the spec's scoping filter (evaluated by `crate::trace::evaluate`).

use std::collections::BTreeMap;

use mtoctl_model::desired::SyncSpec;
use mtoctl_model::health::SourceUser;
use mtoctl_model::observed::{FilterClauseObservation, FilterGroupObservation};
use mtoctl_model::spec::document::FilterOperator;
use mtoctl_model::trace::Attribute;

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
    if sync.scope.filter.is_empty() {
        return Ok(());
    }
    // The one evaluation `status --user` explains, so the two never disagree.
    let groups: Vec<FilterGroupObservation> = sync
        .scope
        .filter
        .iter()
        .map(|g| FilterGroupObservation {
            name: g.name.clone(),
            clauses: g
                .clauses
                .iter()
                .map(|c| FilterClauseObservation {
                    attribute: c.attribute.clone(),
                    operator: operator_name(c.operator),
                    values: c.values.clone(),
                })
                .collect(),
        })
        .collect();
    let attributes: BTreeMap<String, Attribute> = user
        .attributes
        .iter()
        .filter_map(|(k, v)| Some((k.to_lowercase(), Attribute::of(v)?)))
        .collect();
    match crate::trace::evaluate(&groups, &attributes).matches {
        Some(true) => Ok(()),
        Some(false) => Err(Some("does not match the spec's scoping filter".into())),
        None => Err(None),
    }
}

/// The operator as the spec writes it (`notEquals`); the evaluation folds spellings.
fn operator_name(operator: FilterOperator) -> String {
    serde_json::to_value(operator)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
