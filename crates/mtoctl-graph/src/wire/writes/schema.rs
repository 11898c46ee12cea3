//! The job schema (§6.8): the parts mtoctl manages, edited into the schema as read and put
//! back whole.

use mtoctl_model::desired::{MappingSource, MappingSpec};
use mtoctl_model::spec::document::{FilterOperator, UserType, UserTypeApplies};
use reqwest::Method;
use serde_json::{Value, json};

use crate::transport::GraphRequest;
use crate::wire::sync::schema_path;

/// One scoping filter group (clauses AND-ed; groups OR-ed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterGroupWrite {
    /// Label.
    pub name: String,
    /// Clauses: attribute, operator, values.
    pub clauses: Vec<(String, FilterOperator, Vec<String>)>,
}

/// One attribute mapping to write: the spec's, with the source Graph parsed an expression into
/// (`parseExpression`'s `parsedExpression`) when it is one.
#[derive(Debug, Clone, PartialEq)]
pub struct MappingWrite {
    /// The spec's mapping.
    pub spec: MappingSpec,
    /// For an expression, the `attributeMappingSource` Graph parsed it into.
    pub parsed: Option<Value>,
}

/// The managed parts of a job schema.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaWrite {
    /// The constant of the `userType` mapping.
    pub user_type: UserType,
    /// When the `userType` mapping applies.
    pub flow: UserTypeApplies,
    /// Scoping filter groups; empty for none.
    pub filter: Vec<FilterGroupWrite>,
    /// Whether leaving the scope deletes (the `Delete` flow type of the user mapping).
    pub deletes: bool,
    /// Attribute mappings the spec manages; the others stay as read.
    pub mappings: Vec<MappingWrite>,
    /// Target attributes whose mappings are removed.
    pub remove_mappings: Vec<String>,
    /// Whether the group mapping is enabled (groups provisioned as groups); `None` leaves it
    /// as read.
    pub groups: Option<bool>,
}

/// Why a schema as read cannot take the managed parts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// No `synchronizationRules` list.
    #[error("the schema has no synchronizationRules")]
    NoRules,
    /// No object mapping of users.
    #[error("the schema has no user mapping")]
    NoUserMapping,
    /// The user mapping's `attributeMappings` is not a list.
    #[error("the user mapping's attributeMappings is not a list")]
    AttributesNotAList,
    /// An expression mapping without the source Graph parsed it into (a bug of the caller).
    #[error("the expression mapped to {0} was not parsed")]
    Unparsed(String),
    /// Groups are to be provisioned, and the schema has no object mapping of groups.
    #[error(
        "the schema has no group mapping (\"Provision Microsoft Entra ID Groups\"), so groups cannot be provisioned as groups"
    )]
    NoGroupMapping,
}

/// `PUT` a job's complete schema back (§6.8), without the instance annotations the `GET`
/// carried (`@odata.context` and the like): a request body holds only declared properties.
pub fn put_schema(sp: &str, job: &str, mut schema: Value) -> GraphRequest {
    strip_annotations(&mut schema);
    GraphRequest::with_body(Method::PUT, schema_path(sp, job), schema)
}

/// Removes every instance annotation (`@odata.context`, `name@odata.type`) from `value`, at
/// every depth.
fn strip_annotations(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|k, _| !k.starts_with('@') && !k.contains("@odata."));
            map.values_mut().for_each(strip_annotations);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_annotations),
        _ => {}
    }
}

fn operator_name(op: FilterOperator) -> String {
    // Graph's spellings are upper snake case (`EQUALS`, `NOT_EQUALS`, `IS_TRUE`; §6.8).
    let camel = serde_json::to_value(op)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut out = String::new();
    for c in camel.chars() {
        if c.is_ascii_uppercase() && !out.is_empty() {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// Sets the managed parts of a schema read with [`crate::wire::reads::get_schema`], leaving everything else as
/// read: the user mapping's `userType` constant and flow type, its scoping filter and whether
/// its flow types include `Delete`. Fails when the schema has no user mapping.
pub fn edit_schema(schema: &mut Value, want: &SchemaWrite) -> Result<(), SchemaError> {
    let user_type = match want.user_type {
        UserType::Member => "Member",
        UserType::Guest => "Guest",
    };
    let flow = match want.flow {
        UserTypeApplies::Always => "Always",
        UserTypeApplies::OnCreate => "ObjectAddOnly",
    };
    let mappings = schema
        .get_mut("synchronizationRules")
        .and_then(Value::as_array_mut)
        .ok_or(SchemaError::NoRules)?
        .iter_mut()
        .filter_map(|r| r.get_mut("objectMappings").and_then(Value::as_array_mut))
        .flatten();
    let mut found = false;
    for mapping in mappings {
        let is_user = mapping
            .get("sourceObjectName")
            .and_then(Value::as_str)
            .is_some_and(|n| n.eq_ignore_ascii_case("User"));
        if !is_user {
            continue;
        }
        found = true;
        let Some(obj) = mapping.as_object_mut() else {
            continue;
        };
        let mut flows = vec!["Add", "Update"];
        if want.deletes {
            flows.push("Delete");
        }
        obj.insert("flowTypes".into(), json!(flows.join(", ")));
        let groups: Vec<Value> = want
            .filter
            .iter()
            .map(|g| {
                json!({
                    "name": g.name,
                    "clauses": g.clauses.iter().map(|(attr, op, values)| json!({
                        "sourceOperandName": attr,
                        "operatorName": operator_name(*op),
                        "targetOperand": {"values": values},
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let scope = obj.entry("scope").or_insert_with(|| json!({}));
        if !scope.is_object() {
            *scope = json!({});
        }
        if let Some(scope) = scope.as_object_mut() {
            scope.insert("groups".into(), Value::Array(groups));
            scope
                .entry("inputFilterGroups")
                .or_insert_with(|| json!([]));
            scope
                .entry("categoryFilterGroups")
                .or_insert_with(|| json!([]));
        }
        let attributes = obj.entry("attributeMappings").or_insert_with(|| json!([]));
        let Some(attributes) = attributes.as_array_mut() else {
            return Err(SchemaError::AttributesNotAList);
        };
        let wanted = json!({
            "targetAttributeName": "userType",
            "source": {"type": "Constant", "name": user_type, "expression": format!("\"{user_type}\""), "parameters": []},
            "defaultValue": null,
            "flowType": flow,
            "flowBehavior": "FlowWhenChanged",
            "matchingPriority": 0,
            "exportMissingReferences": false,
        });
        match attributes
            .iter_mut()
            .find(|a| a.get("targetAttributeName").and_then(Value::as_str) == Some("userType"))
        {
            Some(existing) => {
                if let Some(e) = existing.as_object_mut() {
                    e.insert("source".into(), wanted["source"].clone());
                    e.insert("flowType".into(), json!(flow));
                }
            }
            None => attributes.push(wanted),
        }
        for m in &want.mappings {
            set_mapping(attributes, m)?;
        }
        attributes.retain(|a| {
            let target = a.get("targetAttributeName").and_then(Value::as_str);
            !target.is_some_and(|t| {
                want.remove_mappings
                    .iter()
                    .any(|r| r.eq_ignore_ascii_case(t))
            })
        });
    }
    if !found {
        return Err(SchemaError::NoUserMapping);
    }
    if let Some(enabled) = want.groups {
        set_groups_enabled(schema, enabled)?;
    }
    Ok(())
}

/// Turns the group object mapping on or off: its `enabled` flag is the admin center's
/// "Provision Microsoft Entra ID Groups" toggle (off by default).
fn set_groups_enabled(schema: &mut Value, enabled: bool) -> Result<(), SchemaError> {
    let group_mapping = schema
        .get_mut("synchronizationRules")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(|r| r.get_mut("objectMappings").and_then(Value::as_array_mut))
        .flatten()
        .find(|m| {
            m.get("sourceObjectName")
                .and_then(Value::as_str)
                .is_some_and(|n| n.eq_ignore_ascii_case("Group"))
        });
    match group_mapping.and_then(Value::as_object_mut) {
        Some(mapping) => {
            mapping.insert("enabled".into(), json!(enabled));
            Ok(())
        }
        // Nothing to turn off where there is no group mapping.
        None if !enabled => Ok(()),
        None => Err(SchemaError::NoGroupMapping),
    }
}

/// Writes one managed mapping into the user mapping's `attributeMappings`: its source and flow
/// type (and matching priority when the spec sets one) into the mapping of the same target
/// attribute, or a new mapping with Graph's defaults for the rest.
fn set_mapping(attributes: &mut Vec<Value>, m: &MappingWrite) -> Result<(), SchemaError> {
    let spec = &m.spec;
    let source = match (&spec.source, &m.parsed) {
        (MappingSource::Attribute(a), _) => {
            json!({"type": "Attribute", "name": a, "expression": format!("[{a}]"), "parameters": []})
        }
        (MappingSource::Constant(_), _) => {
            json!({"type": "Constant", "name": constant_value(&spec.source), "expression": spec.source.shown(), "parameters": []})
        }
        (MappingSource::Expression(_), Some(parsed)) => parsed.clone(),
        (MappingSource::Expression(_), None) => {
            return Err(SchemaError::Unparsed(spec.target.clone()));
        }
    };
    let flow = match spec.applies {
        UserTypeApplies::Always => "Always",
        UserTypeApplies::OnCreate => "ObjectAddOnly",
    };
    let same = |a: &&mut Value| {
        a.get("targetAttributeName")
            .and_then(Value::as_str)
            .is_some_and(|t| t.eq_ignore_ascii_case(&spec.target))
    };
    match attributes
        .iter_mut()
        .find(same)
        .and_then(Value::as_object_mut)
    {
        Some(existing) => {
            existing.insert("source".into(), source);
            existing.insert("flowType".into(), json!(flow));
            if let Some(p) = spec.matching_precedence {
                existing.insert("matchingPriority".into(), json!(p));
            }
        }
        None => attributes.push(json!({
            "targetAttributeName": spec.target,
            "source": source,
            "defaultValue": null,
            "flowType": flow,
            "flowBehavior": "FlowWhenChanged",
            "matchingPriority": spec.matching_precedence.unwrap_or(0),
            "exportMissingReferences": false,
        })),
    }
    Ok(())
}

fn constant_value(source: &MappingSource) -> &str {
    match source {
        MappingSource::Constant(c) => c,
        _ => "",
    }
}

/// `POST …/schema/parseExpression` (§6.8): Graph parses an expression into the
/// `attributeMappingSource` a mapping holds, or says why it cannot.
pub fn parse_expression(sp: &str, job: &str, expression: &str) -> GraphRequest {
    GraphRequest::with_body(
        Method::POST,
        format!("{}/parseExpression", schema_path(sp, job)),
        json!({"expression": expression, "testInputObject": null, "targetAttributeDefinition": null}),
    )
}

/// What `parseExpression` answered: the parsed source, or Graph's reason.
pub fn parsed_expression(answer: &Value) -> Result<Value, String> {
    let parsed = answer
        .get("parsingSucceeded")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    match answer.get("parsedExpression") {
        Some(source) if parsed && source.is_object() => Ok(source.clone()),
        _ => Err(answer
            .get("error")
            .and_then(|e| e.get("message"))
            .and_then(Value::as_str)
            .unwrap_or("Graph could not parse it and gave no reason")
            .to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_cannot_be_turned_on_without_a_group_mapping_and_off_is_a_no_op() {
        let user_only = json!({"synchronizationRules": [{"objectMappings": [
            {"sourceObjectName": "User", "attributeMappings": []}]}]});
        let want = |groups| SchemaWrite {
            user_type: UserType::Member,
            flow: UserTypeApplies::Always,
            filter: Vec::new(),
            deletes: true,
            mappings: Vec::new(),
            remove_mappings: Vec::new(),
            groups,
        };
        let mut on = user_only.clone();
        assert_eq!(
            edit_schema(&mut on, &want(Some(true))),
            Err(SchemaError::NoGroupMapping)
        );
        let mut off = user_only.clone();
        assert_eq!(edit_schema(&mut off, &want(Some(false))), Ok(()));
    }

    #[test]
    fn operators_are_upper_snake_case() {
        assert_eq!(operator_name(FilterOperator::Equals), "EQUALS");
        assert_eq!(operator_name(FilterOperator::NotEquals), "NOT_EQUALS");
        assert_eq!(operator_name(FilterOperator::IsNotNull), "IS_NOT_NULL");
    }

    #[test]
    fn schema_edit_keeps_the_rest() {
        let mut schema = json!({"id": "j", "version": "v1.2", "directories": [{"name": "x"}],
            "synchronizationRules": [{"id": "r", "objectMappings": [
                {"sourceObjectName": "Group", "enabled": false},
                {"sourceObjectName": "User", "flowTypes": "Add, Update, Delete", "attributeMappings": [
                    {"targetAttributeName": "userType", "flowType": "ObjectAddOnly", "matchingPriority": 0,
                     "source": {"type": "Constant", "name": "Member", "expression": "\"Member\"", "parameters": []}},
                    {"targetAttributeName": "mail", "flowType": "Always"},
                    {"targetAttributeName": "mail2", "flowType": "Always"}]}]}]});
        edit_schema(
            &mut schema,
            &SchemaWrite {
                user_type: UserType::Guest,
                flow: UserTypeApplies::Always,
                filter: vec![FilterGroupWrite {
                    name: "Sales".into(),
                    clauses: vec![(
                        "department".into(),
                        FilterOperator::Equals,
                        vec!["Sales".into()],
                    )],
                }],
                deletes: false,
                remove_mappings: vec!["MAIL2".into()],
                groups: Some(true),
                mappings: vec![
                    MappingWrite {
                        spec: MappingSpec {
                            target: "companyName".into(),
                            source: MappingSource::Constant("Contoso \"Group\"".into()),
                            applies: UserTypeApplies::Always,
                            matching_precedence: None,
                        },
                        parsed: None,
                    },
                    MappingWrite {
                        spec: MappingSpec {
                            target: "Mail".into(),
                            source: MappingSource::Expression("ToLower([mail])".into()),
                            applies: UserTypeApplies::OnCreate,
                            matching_precedence: Some(2),
                        },
                        parsed: Some(json!({"type": "Function", "name": "ToLower", "expression": "ToLower([mail])", "parameters": []})),
                    },
                ],
            },
        )
        .expect("edits");
        // The group mapping was turned on, and nothing else of it touched.
        assert_eq!(
            schema["synchronizationRules"][0]["objectMappings"][0],
            json!({"sourceObjectName": "Group", "enabled": true})
        );
        let user = &schema["synchronizationRules"][0]["objectMappings"][1];
        assert_eq!(user["flowTypes"], "Add, Update");
        assert_eq!(user["attributeMappings"][0]["flowType"], "Always");
        assert_eq!(user["attributeMappings"][0]["source"]["name"], "Guest");
        assert_eq!(user["attributeMappings"][1]["targetAttributeName"], "mail");
        // The mapping of `mail` took the parsed source, its flow and matching priority.
        assert_eq!(user["attributeMappings"][1]["source"]["name"], "ToLower");
        assert_eq!(user["attributeMappings"][1]["flowType"], "ObjectAddOnly");
        assert_eq!(user["attributeMappings"][1]["matchingPriority"], 2);
        // A new one for `companyName`, with the constant's expression escaped.
        let company = &user["attributeMappings"][2];
        assert_eq!(company["targetAttributeName"], "companyName");
        assert_eq!(company["source"]["name"], "Contoso \"Group\"");
        assert_eq!(company["source"]["expression"], "\"Contoso \\\"Group\\\"\"");
        assert_eq!(company["matchingPriority"], 0);
        // `mail2` was removed (the name compared ignoring case), nothing else.
        assert_eq!(user["attributeMappings"].as_array().map(Vec::len), Some(3));
        assert_eq!(
            user["scope"]["groups"][0]["clauses"][0]["operatorName"],
            "EQUALS"
        );
        assert_eq!(schema["directories"][0]["name"], "x");
    }

    #[test]
    fn a_schema_is_put_back_without_the_annotations_its_get_carried() {
        let read = json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#x",
            "id": "j", "version": "v1", "directories": [{"name": "d", "objects@odata.type": "t"}],
            "synchronizationRules": []});
        let put = put_schema("sp", "job", read);
        let body = put.body.expect("a body");
        assert_eq!(
            body,
            json!({"id": "j", "version": "v1", "directories": [{"name": "d"}],
                "synchronizationRules": []})
        );
    }
}
