//! The Azure2Azure synchronization schema the emulator hands out for new
//! cross-tenant sync jobs (graph-reference §6.8), and the parts of it the sync
//! engine honours: the user mapping's `userType` and `showInAddressList`
//! constants (with `flowType`), its `flowTypes` (Delete) and scoping filter.

use serde_json::{Value, json};

use crate::errors::{GraphError, GraphResult};

/// The id of the `USER_INBOUND_USER` rule (used as `ruleId` for provision on demand).
pub const USER_RULE_ID: &str = "6c409270-f78a-4bc6-af23-7cf3ab6482fe";

/// Scoping filter operators the engine evaluates.
pub const OPERATORS: &[&str] = &[
    "EQUALS",
    "NOT_EQUALS",
    "IS_TRUE",
    "IS_FALSE",
    "IS_NULL",
    "IS_NOT_NULL",
];

fn attr(target: &str, source: &str) -> Value {
    mapping(
        target,
        json!({"type": "Attribute", "name": source, "expression": format!("[{source}]"), "parameters": []}),
        "Always",
        0,
    )
}

fn mapping(target: &str, source: Value, flow: &str, matching: i64) -> Value {
    json!({
        "targetAttributeName": target,
        "source": source,
        "defaultValue": null,
        "flowType": flow,
        "flowBehavior": "FlowWhenChanged",
        "matchingPriority": matching,
        "exportMissingReferences": false
    })
}

fn constant(target: &str, value: &str, flow: &str) -> Value {
    mapping(
        target,
        json!({"type": "Constant", "name": value, "expression": format!("\"{value}\""), "parameters": []}),
        flow,
        0,
    )
}

fn directory(id: &str, name: &str) -> Value {
    let attrs: Vec<Value> = [
        "accountEnabled", "alternativeSecurityIds", "department", "displayName", "givenName", "IsSoftDeleted",
        "jobTitle", "mail", "mailNickname", "manager", "netId", "showInAddressList", "surname", "userPrincipalName", "userType",
    ]
    .iter()
    .map(|a| json!({"name": a, "type": if *a == "accountEnabled" || *a == "IsSoftDeleted" || *a == "showInAddressList" { "Boolean" } else { "String" }, "multivalued": *a == "alternativeSecurityIds", "mutability": "ReadWrite", "anchor": *a == "netId", "caseExact": false, "flowNullValues": false, "required": false}))
    .collect();
    json!({
        "id": id,
        "name": name,
        "version": "2025-01-01",
        "discoveryDateTime": null,
        "discoverabilities": "None",
        "readOnly": true,
        "objects": [{"name": "User", "attributes": attrs, "supportedApis": [], "metadata": []}]
    })
}

/// A fresh schema for job `job_id`.
pub fn default_schema(job_id: &str) -> Value {
    let user_mappings = vec![
        mapping(
            "alternativeSecurityIds",
            json!({"type": "Function", "name": "AltSecIdFromNetId", "expression": "AltSecIdFromNetId([netId])", "parameters": [{"key": "netId", "value": {"type": "Attribute", "name": "netId", "expression": "[netId]", "parameters": []}}]}),
            "Always",
            1,
        ),
        attr("IsSoftDeleted", "IsSoftDeleted"),
        attr("accountEnabled", "accountEnabled"),
        attr("department", "department"),
        attr("displayName", "displayName"),
        attr("givenName", "givenName"),
        attr("jobTitle", "jobTitle"),
        attr("mailNickname", "mailNickname"),
        attr("manager", "manager"),
        attr("surname", "surname"),
        attr("userPrincipalName", "userPrincipalName"),
        constant("showInAddressList", "true", "Always"),
        constant("userType", "Member", "ObjectAddOnly"),
    ];
    json!({
        "id": job_id,
        "version": "v1.2",
        "synchronizationRules": [{
            "id": USER_RULE_ID,
            "name": "USER_INBOUND_USER",
            "priority": 1,
            "editable": true,
            "sourceDirectoryName": "Azure Active Directory",
            "targetDirectoryName": "Azure Active Directory (target tenant)",
            "containerFilter": {"includedContainers": []},
            "groupFilter": {"includedGroups": []},
            "metadata": [
                {"key": "defaultSourceObjectMappings", "value": "[{\"Source\":\"User\",\"Target\":\"User\"},{\"Source\":\"Group\",\"Target\":\"Group\"}]"},
                {"key": "supportsProvisionOnDemand", "value": "true"}
            ],
            "objectMappings": [
                {
                    "enabled": true,
                    "flowTypes": "Add, Update, Delete",
                    "name": "Provision Azure Active Directory Users",
                    "sourceObjectName": "User",
                    "targetObjectName": "User",
                    "metadata": [],
                    "scope": null,
                    "attributeMappings": user_mappings
                },
                {
                    "enabled": false,
                    "flowTypes": "Add, Update, Delete",
                    "name": "Provision Azure Active Directory Groups",
                    "sourceObjectName": "Group",
                    "targetObjectName": "Group",
                    "metadata": [],
                    "scope": null,
                    "attributeMappings": [attr("displayName", "displayName")]
                }
            ]
        }],
        "directories": [
            directory("66e4a8cc-1b7b-435e-95f8-f06cea133828", "Azure Active Directory"),
            directory("8ffa6169-f354-4751-9b77-9c00765be92d", "Azure Active Directory (target tenant)")
        ]
    })
}

/// The enabled User→User object mapping of a schema, if any.
pub fn user_mapping(schema: &Value) -> Option<&Value> {
    schema
        .get("synchronizationRules")?
        .as_array()?
        .iter()
        .flat_map(|r| {
            r.get("objectMappings")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .find(|m| m.get("sourceObjectName").and_then(Value::as_str) == Some("User"))
}

/// A constant mapped to `target` in the user mapping: (value, flowType).
pub fn constant_for(schema: &Value, target: &str) -> Option<(String, String)> {
    let m = user_mapping(schema)?;
    let am = m
        .get("attributeMappings")?
        .as_array()?
        .iter()
        .find(|a| a.get("targetAttributeName").and_then(Value::as_str) == Some(target))?;
    let src = am.get("source")?;
    if src.get("type").and_then(Value::as_str) != Some("Constant") {
        return None;
    }
    let value = src
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| {
            src.get("expression")
                .and_then(Value::as_str)
                .map(|e| e.trim_matches('"').to_owned())
        })?;
    let flow = am
        .get("flowType")
        .and_then(Value::as_str)
        .unwrap_or("Always")
        .to_owned();
    Some((value, flow))
}

/// What the user mapping produces for `target` from the source user's
/// attributes: `None` when nothing maps to it, otherwise (value, flowType).
/// `Attribute` sources copy the named source attribute, `Constant` sources
/// give their value; `Function` sources are not evaluated: they copy the
/// same-named source attribute (an approximation, documented).
pub fn mapped(
    schema: &Value,
    target: &str,
    source: &serde_json::Map<String, Value>,
) -> Option<(Value, String)> {
    let m = user_mapping(schema)?;
    let am = m
        .get("attributeMappings")?
        .as_array()?
        .iter()
        .find(|a| a.get("targetAttributeName").and_then(Value::as_str) == Some(target))?;
    let src = am.get("source")?;
    let flow = am
        .get("flowType")
        .and_then(Value::as_str)
        .unwrap_or("Always")
        .to_owned();
    let lookup = |name: &str| {
        source
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .unwrap_or(Value::Null)
    };
    let value = match src.get("type").and_then(Value::as_str) {
        Some("Attribute") => lookup(src.get("name").and_then(Value::as_str).unwrap_or(target)),
        Some("Constant") => src.get("name").cloned().unwrap_or(Value::Null),
        _ => lookup(target),
    };
    Some((value, flow))
}

/// Whether the user mapping is enabled and allows `flow` (`Add`, `Update`, `Delete`).
pub fn allows(schema: &Value, flow: &str) -> bool {
    user_mapping(schema).is_some_and(|m| {
        m.get("enabled").and_then(Value::as_bool).unwrap_or(false)
            && m.get("flowTypes")
                .and_then(Value::as_str)
                .unwrap_or("")
                .split(',')
                .any(|f| f.trim() == flow)
    })
}

/// Evaluate the user mapping's scoping filter on a user's attributes
/// (groups OR-ed, clauses AND-ed; no filter = in scope).
pub fn in_scope(schema: &Value, user: &serde_json::Map<String, Value>) -> bool {
    let groups = user_mapping(schema)
        .and_then(|m| m.get("scope"))
        .and_then(|s| s.get("groups"))
        .and_then(Value::as_array);
    let Some(groups) = groups.filter(|g| !g.is_empty()) else {
        return true;
    };
    groups.iter().any(|g| {
        g.get("clauses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .all(|c| clause_matches(c, user))
    })
}

/// Every clause of the user mapping's scoping filter with its result on a user, labelled as
/// the provisioning service shows them in a scoping step
/// (`{filter name}.{attribute} {OPERATOR} '{value}'`, as in the cross-tenant how-tos'
/// `Marketing department filter.department EQUALS 'Marketing'`); empty without a filter.
pub fn scope_evaluation(
    schema: &Value,
    user: &serde_json::Map<String, Value>,
) -> Vec<(String, bool)> {
    let groups = user_mapping(schema)
        .and_then(|m| m.get("scope"))
        .and_then(|s| s.get("groups"))
        .and_then(Value::as_array);
    let mut out = Vec::new();
    for g in groups.into_iter().flatten() {
        let name = g.get("name").and_then(Value::as_str).unwrap_or("");
        for c in g
            .get("clauses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let attr = c
                .get("sourceOperandName")
                .and_then(Value::as_str)
                .unwrap_or("");
            let op = c.get("operatorName").and_then(Value::as_str).unwrap_or("");
            let values: Vec<&str> = c
                .get("targetOperand")
                .and_then(|t| t.get("values"))
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let label = if values.is_empty() {
                format!("{name}.{attr} {op}")
            } else {
                format!("{name}.{attr} {op} '{}'", values.join("', '"))
            };
            out.push((label, clause_matches(c, user)));
        }
    }
    out
}

fn clause_matches(c: &Value, user: &serde_json::Map<String, Value>) -> bool {
    let name = c
        .get("sourceOperandName")
        .and_then(Value::as_str)
        .unwrap_or("");
    let op = c.get("operatorName").and_then(Value::as_str).unwrap_or("");
    let actual = user
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
        .unwrap_or(&Value::Null);
    let actual_s = match actual {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let values: Vec<String> = c
        .get("targetOperand")
        .and_then(|t| t.get("values"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    // "EQUALS: … matches the input string value exactly (case sensitive)" (Entra docs,
    // define-conditional-rules-for-provisioning-user-accounts); booleans as text, any case.
    let eq = match actual {
        Value::Bool(b) => values
            .iter()
            .any(|v| v.eq_ignore_ascii_case(&b.to_string())),
        _ => actual_s
            .as_ref()
            .is_some_and(|a| values.iter().any(|v| v == a)),
    };
    match op {
        "EQUALS" => eq,
        "NOT_EQUALS" => !eq,
        "IS_TRUE" => {
            actual.as_bool() == Some(true)
                || actual_s
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case("true"))
        }
        "IS_FALSE" => {
            actual.as_bool() == Some(false)
                || actual_s
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case("false"))
        }
        "IS_NULL" => actual.is_null(),
        "IS_NOT_NULL" => !actual.is_null(),
        _ => false,
    }
}

/// Validate a schema sent with PUT (full replacement).
pub fn validate(schema: &Value) -> GraphResult<()> {
    let invalid = |m: &str| {
        GraphError::new(
            400,
            "schemaInvalid",
            format!("The synchronization schema is invalid: {m}"),
        )
    };
    let rules = schema
        .get("synchronizationRules")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("synchronizationRules is required"))?;
    if rules.is_empty() {
        return Err(invalid("at least one synchronization rule is required"));
    }
    if schema
        .get("directories")
        .and_then(Value::as_array)
        .is_none()
    {
        return Err(invalid("directories is required"));
    }
    let m = user_mapping(schema).ok_or_else(|| invalid("the User object mapping is missing"))?;
    let maps = m
        .get("attributeMappings")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("attributeMappings is required"))?;
    let matching: Vec<&Value> = maps
        .iter()
        .filter(|a| {
            a.get("matchingPriority")
                .and_then(Value::as_i64)
                .unwrap_or(0)
                > 0
        })
        .collect();
    let altsec_ok = matching.len() == 1
        && matching[0]
            .get("targetAttributeName")
            .and_then(Value::as_str)
            == Some("alternativeSecurityIds")
        && matching[0].get("matchingPriority").and_then(Value::as_i64) == Some(1);
    if !altsec_ok {
        return Err(invalid(
            "the alternativeSecurityIds matching attribute (priority 1) must not be changed",
        ));
    }
    for g in m
        .get("scope")
        .and_then(|s| s.get("groups"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for c in g
            .get("clauses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let op = c.get("operatorName").and_then(Value::as_str).unwrap_or("");
            if !OPERATORS.contains(&op) {
                return Err(invalid(&format!("unsupported scoping operator '{op}'")));
            }
        }
    }
    if let Some((v, _)) = constant_for(schema, "userType")
        && v != "Member"
        && v != "Guest"
    {
        return Err(invalid("the userType constant must be Member or Guest"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_schema_is_valid_and_maps_member() {
        let s = default_schema("job");
        validate(&s).unwrap();
        assert_eq!(
            constant_for(&s, "userType"),
            Some(("Member".into(), "ObjectAddOnly".into()))
        );
        assert!(allows(&s, "Delete"));
        let mut user = serde_json::Map::new();
        user.insert("department".into(), json!("Sales"));
        assert!(in_scope(&s, &user));
    }

    #[test]
    fn scoping_filters() {
        let mut s = default_schema("job");
        s["synchronizationRules"][0]["objectMappings"][0]["scope"] = json!({"groups": [
            {"name": "Sales", "clauses": [{"sourceOperandName": "department", "operatorName": "EQUALS", "targetOperand": {"values": ["Sales"]}}]}
        ]});
        validate(&s).unwrap();
        let mut u = serde_json::Map::new();
        u.insert("department".into(), json!("Sales"));
        assert!(in_scope(&s, &u));
        // EQUALS is case-sensitive.
        u.insert("department".into(), json!("sales"));
        assert!(!in_scope(&s, &u));
        u.insert("department".into(), json!("Engineering"));
        assert!(!in_scope(&s, &u));
        s["synchronizationRules"][0]["objectMappings"][0]["scope"]["groups"][0]["clauses"][0]["operatorName"] =
            json!("SOUNDS_LIKE");
        assert!(validate(&s).is_err());
    }

    #[test]
    fn altsec_mapping_is_protected() {
        let mut s = default_schema("job");
        s["synchronizationRules"][0]["objectMappings"][0]["attributeMappings"][0]["matchingPriority"] =
            json!(0);
        assert_eq!(validate(&s).unwrap_err().code, "schemaInvalid");
    }
}
