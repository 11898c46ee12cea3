//! The Azure2Azure synchronization schema the emulator hands out for new
//! cross-tenant sync jobs (graph-reference §6.8), and the parts of it the sync
//! engine honours: the user and group mappings' `enabled` and `flowTypes` (Add, Update, Delete),
//! their scoping filters, and their attribute mappings (`attributes`: the directories' `User`
//! and `Group` attributes; `expr`: the expression language; `eval`: evaluating it).

pub mod attributes;
pub mod eval;
pub mod expr;

use serde_json::{Value, json};

use crate::errors::{GraphError, GraphResult};
use attributes::directory;
use eval::EvalError;
use expr::Expr;

/// The id of the `USER_INBOUND_USER` rule (used as `ruleId` for provision on demand).
pub const USER_RULE_ID: &str = "6c409270-f78a-4bc6-af23-7cf3ab6482fe";

/// The group mapping's name, as the portal shows it (`cross-tenant-synchronization-configure`,
/// step 8: "select **Provision Microsoft Entra ID Groups**").
pub const GROUP_MAPPING_NAME: &str = "Provision Microsoft Entra ID Groups";

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

/// A fresh schema for job `job_id`. Its user mappings are those the cross-tenant how-tos show:
/// the Attribute Mapping screenshot of `cross-tenant-synchronization-configure` step 9
/// (`alternativeSecurityIds` from `AltSecIdFromNetid([netid])` with matching precedence 1,
/// `IsSoftDeleted`, `accountEnabled`, `streetAddress`, `city`, `state`, `postalCode`, `country`,
/// `department`, `employeeId`, `displayName`, `givenName`, …, `userPrincipalName`, `true` →
/// `showInAddressList`, `mail`, `Member` → `userType`), its provision-on-demand screenshot
/// (`mailNickname`, `preferredLanguage`), and the emulator's earlier ones (`jobTitle`, `manager`,
/// `surname`).
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
        attr("city", "city"),
        attr("country", "country"),
        attr("department", "department"),
        attr("displayName", "displayName"),
        attr("employeeId", "employeeId"),
        attr("givenName", "givenName"),
        attr("jobTitle", "jobTitle"),
        attr("mail", "mail"),
        attr("mailNickname", "mailNickname"),
        attr("manager", "manager"),
        attr("postalCode", "postalCode"),
        attr("preferredLanguage", "preferredLanguage"),
        attr("state", "state"),
        attr("streetAddress", "streetAddress"),
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
                // Group synchronization: off by default ("By default, this toggle is set to
                // No", configure step 8); object names and attribute mappings assumed.
                {
                    "enabled": false,
                    "flowTypes": "Add, Update, Delete",
                    "name": GROUP_MAPPING_NAME,
                    "sourceObjectName": "Group",
                    "targetObjectName": "Group",
                    "metadata": [],
                    "scope": null,
                    "attributeMappings": [
                        attr("displayName", "displayName"),
                        attr("description", "description"),
                        attr("mailNickname", "mailNickname"),
                        attr("members", "members")
                    ]
                }
            ]
        }],
        "directories": [
            directory("66e4a8cc-1b7b-435e-95f8-f06cea133828", "Azure Active Directory"),
            directory("8ffa6169-f354-4751-9b77-9c00765be92d", "Azure Active Directory (target tenant)")
        ]
    })
}

/// The first object mapping of a schema whose `sourceObjectName` is `object`, if any.
fn object_mapping<'a>(schema: &'a Value, object: &str) -> Option<&'a Value> {
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
        .find(|m| m.get("sourceObjectName").and_then(Value::as_str) == Some(object))
}

/// The User→User object mapping of a schema, if any.
pub fn user_mapping(schema: &Value) -> Option<&Value> {
    object_mapping(schema, "User")
}

/// The group mapping of a schema (source object `Group`), if any.
pub fn group_mapping(schema: &Value) -> Option<&Value> {
    object_mapping(schema, "Group")
}

/// Whether an object mapping is enabled.
pub fn enabled(mapping: &Value) -> bool {
    mapping
        .get("enabled")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// Whether an object mapping is enabled and its `flowTypes` has `flow` (`Add`, `Update`,
/// `Delete`).
pub fn mapping_allows(mapping: &Value, flow: &str) -> bool {
    enabled(mapping)
        && mapping
            .get("flowTypes")
            .and_then(Value::as_str)
            .unwrap_or("")
            .split(',')
            .any(|f| f.trim() == flow)
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

/// One attribute mapping of the user mapping (`attributeMapping`), as the engine reads it.
#[derive(Debug, Clone, Copy)]
pub struct Mapping<'a> {
    /// `targetAttributeName`.
    pub target: &'a str,
    /// `flowType` (`Always` when absent, its documented default).
    pub flow: &'a str,
    /// `defaultValue`: "Default value to be used in case the source property was evaluated to
    /// null".
    pub default: Option<&'a str>,
    /// `source` (`attributeMappingSource`).
    pub source: &'a Value,
}

/// The user mapping's attribute mappings, in order.
pub fn attribute_mappings(schema: &Value) -> Vec<Mapping<'_>> {
    user_mapping(schema).map(mappings_of).unwrap_or_default()
}

/// The attribute mappings of an object mapping, in order.
pub fn mappings_of(m: &Value) -> Vec<Mapping<'_>> {
    m.get("attributeMappings")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|a| {
            Some(Mapping {
                target: a.get("targetAttributeName")?.as_str()?,
                flow: a
                    .get("flowType")
                    .and_then(Value::as_str)
                    .unwrap_or("Always"),
                default: a.get("defaultValue").and_then(Value::as_str),
                source: a.get("source").unwrap_or(&Value::Null),
            })
        })
        .collect()
}

impl Mapping<'_> {
    /// What the mapping gives for a source object whose attributes `lookup` gives: `Ok(None)`
    /// when `IgnoreFlowIfNullOrEmpty` drops the attribute from the flow, the `defaultValue` when
    /// the source evaluates to null, and `Err` (a sentence) when the source cannot be evaluated
    /// (an unknown function, an argument a function cannot use, or a function the emulator does
    /// not evaluate).
    pub fn evaluate(&self, lookup: &dyn Fn(&str) -> Value) -> Result<Option<Value>, String> {
        let shown = self
            .source
            .get("expression")
            .and_then(Value::as_str)
            .or_else(|| self.source.get("name").and_then(Value::as_str))
            .unwrap_or("");
        let fail = |why: String| {
            format!(
                "The attribute mapping of '{}' failed: its source '{shown}' could not be evaluated: {why}.",
                self.target
            )
        };
        let e = Expr::from_source(self.source)
            .map_err(|e| fail(e.message.trim_end_matches('.').to_owned()))?;
        match eval::eval(&e, lookup) {
            Ok(Value::Null) => Ok(Some(self.default.map_or(Value::Null, |d| json!(d)))),
            Ok(v) => Ok(Some(v)),
            Err(EvalError::Ignore) => Ok(None),
            Err(EvalError::Failed(why)) => Err(fail(why)),
        }
    }
}

/// The attributes of the source directory's `User` object: the directory the user rule names
/// `sourceDirectoryName`, or the default schema's when the schema does not define it.
pub fn source_attributes(schema: &Value) -> Vec<String> {
    let source = schema
        .get("synchronizationRules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|r| {
            r.get("objectMappings")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|m| m.get("sourceObjectName").and_then(Value::as_str) == Some("User"))
        })
        .and_then(|r| r.get("sourceDirectoryName"))
        .and_then(Value::as_str)
        .unwrap_or("Azure Active Directory");
    let found = attributes::object_attributes(schema, source, "User");
    if found.is_empty() {
        attributes::USER_ATTRIBUTES
            .iter()
            .map(|a| (*a).to_owned())
            .collect()
    } else {
        found
    }
}

/// Whether the user mapping is enabled and allows `flow` (`Add`, `Update`, `Delete`).
pub fn allows(schema: &Value, flow: &str) -> bool {
    user_mapping(schema).is_some_and(|m| mapping_allows(m, flow))
}

/// Evaluate the user mapping's scoping filter on a user's attributes
/// (groups OR-ed, clauses AND-ed; no filter = in scope).
pub fn in_scope(schema: &Value, user: &serde_json::Map<String, Value>) -> bool {
    user_mapping(schema).is_none_or(|m| mapping_in_scope(m, user))
}

/// Evaluate an object mapping's scoping filter on an object's attributes (groups OR-ed,
/// clauses AND-ed; no filter = in scope).
pub fn mapping_in_scope(mapping: &Value, object: &serde_json::Map<String, Value>) -> bool {
    let groups = mapping
        .get("scope")
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
            .all(|c| clause_matches(c, object))
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
    user_mapping(schema)
        .map(|m| mapping_scope_evaluation(m, user))
        .unwrap_or_default()
}

/// Every clause of an object mapping's scoping filter with its result on an object (see
/// [`scope_evaluation`]).
pub fn mapping_scope_evaluation(
    mapping: &Value,
    user: &serde_json::Map<String, Value>,
) -> Vec<(String, bool)> {
    let groups = mapping
        .get("scope")
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
    let scoped = std::iter::once(m).chain(group_mapping(schema));
    for g in scoped
        .filter_map(|m| m.get("scope"))
        .filter_map(|s| s.get("groups"))
        .filter_map(Value::as_array)
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

    /// The source directory's attributes are the schema's own (a PUT may add directory
    /// extensions); the default lists the documented ones.
    #[test]
    fn source_attributes_follow_the_schema() {
        let mut s = default_schema("job");
        let names = source_attributes(&s);
        assert!(names.iter().any(|n| n == "companyName"));
        assert!(!names.iter().any(|n| n == "officeLocation"));
        s["directories"][0]["objects"][0]["attributes"] =
            json!([{"name": "extension_9d98_Nickname", "type": "String"}]);
        assert_eq!(source_attributes(&s), ["extension_9d98_Nickname"]);
        s["synchronizationRules"][0]["sourceDirectoryName"] = json!("Elsewhere");
        assert_eq!(
            source_attributes(&s).len(),
            attributes::USER_ATTRIBUTES.len()
        );
    }

    #[test]
    fn a_mapping_says_why_it_cannot_be_evaluated() {
        let m = json!({"targetAttributeName": "jobTitle", "flowType": "ObjectAddOnly",
            "source": {"type": "Function", "expression": "Mid([givenName], \"x\", 2)"}});
        let s = json!({"synchronizationRules": [{"objectMappings": [
            {"sourceObjectName": "User", "attributeMappings": [m]}]}]});
        let mappings = attribute_mappings(&s);
        assert_eq!(
            (mappings[0].target, mappings[0].flow),
            ("jobTitle", "ObjectAddOnly")
        );
        let why = mappings[0].evaluate(&|_| json!("Ada")).unwrap_err();
        assert_eq!(
            why,
            "The attribute mapping of 'jobTitle' failed: its source 'Mid([givenName], \"x\", 2)' could not be evaluated: Mid's start must be a whole number, not 'x'."
        );
    }

    #[test]
    fn altsec_mapping_is_protected() {
        let mut s = default_schema("job");
        s["synchronizationRules"][0]["objectMappings"][0]["attributeMappings"][0]["matchingPriority"] =
            json!(0);
        assert_eq!(validate(&s).unwrap_err().code, "schemaInvalid");
    }
}
