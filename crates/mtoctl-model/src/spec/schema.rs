//! The spec language's JSON Schema, and the structural check of a document against it.
//!
//! The schema is generated from the types in [`super::document`] and is the one description of
//! the language's shape: `mtoctl schema` prints it for editors (yaml-language-server reads
//! draft-07), and [`check`] walks a parsed document against it to report every unknown field,
//! wrong type, missing field and invalid value at once, each at its place in the file. The walk
//! supports the subset of JSON Schema that schemars emits for those types.

use std::sync::OnceLock;

use serde_json::{Map, Value as Json};

use super::diagnostic::Diagnostic;
use super::document::SpecDocument;
use super::node::{Node, Path, Span, Value};
use super::suggest::did_you_mean;

/// The JSON Schema (draft-07) of the spec language.
pub fn json_schema() -> &'static Json {
    static SCHEMA: OnceLock<Json> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let generator = schemars::generate::SchemaSettings::draft07().into_generator();
        let mut schema = generator.into_root_schema_for::<SpecDocument>().to_value();
        if let Some(obj) = schema.as_object_mut() {
            obj.insert(
                "$id".into(),
                Json::String("https://mtoctl.dev/schema/v1alpha1/mtoctl.schema.json".into()),
            );
        }
        schema
    })
}

/// The schema as pretty-printed JSON with a trailing newline (the committed file's form).
pub fn json_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(json_schema()).unwrap_or_default();
    text.push('\n');
    text
}

/// Checks a document's structure against the schema. Paths in `skip` (and everything below
/// them) are not checked, because another check has already reported them better.
pub fn check(root: &Node, skip: &[Path]) -> Vec<Diagnostic> {
    walk(root, skip).findings
}

/// What the structural check found, and how to read the rest of the document anyway.
#[derive(Debug, Default)]
pub(crate) struct Structure {
    /// Every structural finding.
    pub findings: Vec<Diagnostic>,
    /// Values the typed reader needs but the document lacks or has wrong: a required field
    /// missing or of the wrong type, a list item of the wrong type. Each gets a neutral value
    /// of the right type (an empty string, list or mapping), so that the rest of its element
    /// is still checked; findings about the stand-in itself are muted (it was reported).
    pub stand_ins: Vec<(Path, Json)>,
}

/// [`check`], with the stand-ins that let the semantic rules read past each finding.
pub(crate) fn walk(root: &Node, skip: &[Path]) -> Structure {
    let schema = json_schema();
    let walker = Walker { root: schema, skip };
    if skip.iter().any(|s| Path::root().starts_with(s)) {
        return Structure::default();
    }
    walker.errors(root, schema, &Path::root(), None)
}

struct Walker<'a> {
    root: &'a Json,
    skip: &'a [Path],
}

impl<'a> Walker<'a> {
    /// Follows a `$ref` into the root's definitions. Unknown references resolve to `true`
    /// (anything goes) rather than failing: a schema bug must not hide the user's real errors.
    fn resolve(&self, schema: &'a Json) -> &'a Json {
        static ANYTHING: Json = Json::Bool(true);
        match schema.get("$ref").and_then(Json::as_str) {
            Some(reference) => reference
                .strip_prefix("#/definitions/")
                .and_then(|name| self.root.get("definitions")?.get(name))
                .map(|s| self.resolve(s))
                .unwrap_or(&ANYTHING),
            None => schema,
        }
    }

    /// All structural errors of `node` against `schema`, with the stand-ins they call for.
    fn errors(
        &self,
        node: &Node,
        schema: &'a Json,
        path: &Path,
        key_span: Option<Span>,
    ) -> Structure {
        let schema = self.resolve(schema);
        let mut out = Structure::default();
        let Some(obj) = schema.as_object() else {
            return out;
        };
        if let Some(all) = obj.get("allOf").and_then(Json::as_array) {
            for sub in all {
                out.append(self.errors(node, sub, path, key_span));
            }
        }
        for keyword in ["anyOf", "oneOf"] {
            if let Some(branches) = obj.get(keyword).and_then(Json::as_array) {
                out.append(self.alternatives(node, branches, path, key_span));
            }
        }
        if let Some(expected) = obj.get("const")
            && !matches_json(node, expected)
        {
            out.findings.push(invalid_value(node, path, &[expected]));
        }
        if let Some(choices) = obj.get("enum").and_then(Json::as_array)
            && !choices.iter().any(|c| matches_json(node, c))
        {
            out.findings.push(invalid_value(
                node,
                path,
                &choices.iter().collect::<Vec<_>>(),
            ));
        }
        if let Some(types) = obj.get("type") {
            let types: Vec<&str> = match types {
                Json::String(t) => vec![t.as_str()],
                Json::Array(ts) => ts.iter().filter_map(Json::as_str).collect(),
                _ => Vec::new(),
            };
            if !types.is_empty() && !types.iter().any(|t| type_matches(node, t)) {
                out.findings.push(type_error(node, path, &types));
                return out;
            }
        }
        match &node.value {
            Value::Map(entries) => out.append(self.object(node, entries, obj, path, key_span)),
            Value::Seq(items) => {
                if let Some(item_schema) = obj.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        let item_path = path.index(i);
                        if !self.skip.iter().any(|s| item_path.starts_with(s)) {
                            let found = self.errors(item, item_schema, &item_path, None);
                            if found.reports(&item_path) {
                                out.stand_ins
                                    .push((item_path.clone(), self.stand_in(item_schema)));
                            }
                            out.append(found);
                        }
                    }
                }
            }
            _ => {}
        }
        out
    }

    fn object(
        &self,
        node: &Node,
        entries: &[(super::node::Key, Node)],
        obj: &'a Map<String, Json>,
        path: &Path,
        key_span: Option<Span>,
    ) -> Structure {
        let mut out = Structure::default();
        let properties = obj.get("properties").and_then(Json::as_object);
        let closed = obj.get("additionalProperties") == Some(&Json::Bool(false));
        let required: Vec<&str> = obj
            .get("required")
            .and_then(Json::as_array)
            .map(|r| r.iter().filter_map(Json::as_str).collect())
            .unwrap_or_default();
        for (key, value) in entries {
            let child_path = path.key(&key.name);
            if self.skip.iter().any(|s| child_path.starts_with(s)) {
                continue;
            }
            match properties.and_then(|p| p.get(&key.name)) {
                Some(child_schema) => {
                    let found = self.errors(value, child_schema, &child_path, Some(key.span));
                    // A wrong optional value is dropped (its default applies); a wrong
                    // required one is replaced, so the element stays readable.
                    if required.contains(&key.name.as_str()) && found.reports(&child_path) {
                        out.stand_ins
                            .push((child_path.clone(), self.stand_in(child_schema)));
                    }
                    out.append(found);
                }
                None if closed => {
                    let known =
                        properties.map(|p| p.keys().map(String::as_str).collect::<Vec<_>>());
                    let known = known.unwrap_or_default();
                    let mut d = Diagnostic::error(
                        "spec::unknown_field",
                        format!("unknown field `{}`", key.name),
                    )
                    .at_path(child_path)
                    .label(key.span, "not a field here");
                    d = match did_you_mean(&key.name, known.iter().copied()) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => d.help(format!("fields here: {}", known.join(", "))),
                    };
                    out.findings.push(d);
                }
                None => {}
            }
        }
        for name in required {
            if !entries.iter().any(|(k, _)| k.name == name) {
                let span = key_span.unwrap_or(node.span);
                out.findings.push(
                    Diagnostic::error(
                        "spec::missing_field",
                        format!("missing required field `{name}`"),
                    )
                    .at_path(path.key(name))
                    .label(span, format!("`{name}` is required here")),
                );
                if let Some(child_schema) = properties.and_then(|p| p.get(name)) {
                    out.stand_ins
                        .push((path.key(name), self.stand_in(child_schema)));
                }
            }
        }
        out
    }

    /// `anyOf`/`oneOf`: fine if one branch accepts the node; otherwise report the errors of the
    /// branch the user evidently meant (the one admitting the node's type), or a type error.
    fn alternatives(
        &self,
        node: &Node,
        branches: &'a [Json],
        path: &Path,
        key_span: Option<Span>,
    ) -> Structure {
        let mut candidates = Vec::new();
        for branch in branches {
            let found = self.errors(node, branch, path, key_span);
            if found.findings.is_empty() {
                return Structure::default();
            }
            candidates.push((self.resolve(branch), found));
        }
        // A string enum written as `oneOf` of constants: one "invalid value" finding.
        let constants: Vec<&Json> = candidates
            .iter()
            .filter_map(|(schema, _)| schema.get("const"))
            .collect();
        if !constants.is_empty() && constants.len() == candidates.len() {
            return Structure {
                findings: vec![invalid_value(node, path, &constants)],
                stand_ins: Vec::new(),
            };
        }
        // The branch admitting the node's type is the one that was meant: `userType: member`
        // meant the enum of strings, not the `null` that makes the field optional.
        let fits = |schema: &'a Json| {
            let types = self.admitted_types(schema);
            if types.is_empty() {
                matches!(node.value, Value::Map(_)) && schema.get("properties").is_some()
            } else {
                types.iter().any(|t| type_matches(node, t))
            }
        };
        if let Some(index) = candidates.iter().position(|(schema, _)| fits(schema)) {
            return candidates.swap_remove(index).1;
        }
        let mut types: Vec<&str> = candidates
            .iter()
            .flat_map(|(schema, _)| self.admitted_types(schema))
            .collect();
        types.sort_unstable();
        types.dedup();
        if types.is_empty() {
            candidates
                .into_iter()
                .next()
                .map(|(_, found)| found)
                .unwrap_or_default()
        } else {
            Structure {
                findings: vec![type_error(node, path, &types)],
                stand_ins: Vec::new(),
            }
        }
    }

    /// The JSON types a schema admits, through references, constants, enums and
    /// alternatives. Empty when the schema does not say.
    fn admitted_types(&self, schema: &'a Json) -> Vec<&'a str> {
        let schema = self.resolve(schema);
        let mut types: Vec<&'a str> = match schema.get("type") {
            Some(Json::String(t)) => vec![t.as_str()],
            Some(Json::Array(ts)) => ts.iter().filter_map(Json::as_str).collect(),
            _ => Vec::new(),
        };
        let values = schema.get("const").into_iter().chain(
            schema
                .get("enum")
                .and_then(Json::as_array)
                .into_iter()
                .flatten(),
        );
        types.extend(values.map(|v| -> &'a str { json_type(v) }));
        for keyword in ["anyOf", "oneOf", "allOf"] {
            for branch in schema
                .get(keyword)
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
            {
                types.extend(self.admitted_types(branch));
            }
        }
        types.sort_unstable();
        types.dedup();
        types
    }

    /// A neutral value of the type `schema` describes: empty strings, lists and mappings
    /// (with their own required fields), the first of an enum's values. The semantic rules
    /// read it in place of a value that was reported, so that the rest is still checked.
    fn stand_in(&self, schema: &'a Json) -> Json {
        let schema = self.resolve(schema);
        if let Some(value) = schema.get("const") {
            return value.clone();
        }
        if let Some(first) = schema
            .get("enum")
            .and_then(Json::as_array)
            .and_then(|e| e.first())
        {
            return first.clone();
        }
        for keyword in ["anyOf", "oneOf", "allOf"] {
            let branches = schema.get(keyword).and_then(Json::as_array);
            if let Some(value) = branches
                .into_iter()
                .flatten()
                .map(|b| self.stand_in(b))
                .find(|v| !v.is_null())
            {
                return value;
            }
        }
        let types = self.admitted_types(schema);
        let first = types.iter().find(|t| **t != "null").copied();
        match first {
            Some("string") => Json::String(String::new()),
            Some("array") => Json::Array(Vec::new()),
            Some("boolean") => Json::Bool(false),
            Some("integer" | "number") => Json::from(0),
            Some("object") | None if schema.get("properties").is_some() => {
                let mut map = Map::new();
                let properties = schema.get("properties").and_then(Json::as_object);
                let required = schema.get("required").and_then(Json::as_array);
                for name in required.into_iter().flatten().filter_map(Json::as_str) {
                    if let Some(child) = properties.and_then(|p| p.get(name)) {
                        map.insert(name.to_owned(), self.stand_in(child));
                    }
                }
                Json::Object(map)
            }
            Some("object") => Json::Object(Map::new()),
            _ => Json::Null,
        }
    }
}

impl Structure {
    fn append(&mut self, mut other: Structure) {
        self.findings.append(&mut other.findings);
        self.stand_ins.append(&mut other.stand_ins);
    }

    /// Whether a finding is about the value at `path` as a whole (its type or its value).
    fn reports(&self, path: &Path) -> bool {
        self.findings.iter().any(|d| d.path.as_ref() == Some(path))
    }
}

/// The JSON type name of a value, as JSON Schema's `type` spells it.
fn json_type(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

fn type_matches(node: &Node, ty: &str) -> bool {
    match (ty, &node.value) {
        ("null", Value::Null)
        | ("boolean", Value::Bool(_))
        | ("integer", Value::Int(_))
        | ("number", Value::Int(_))
        | ("string", Value::Str(_))
        | ("array", Value::Seq(_))
        | ("object", Value::Map(_)) => true,
        ("number", Value::Float(f)) => f.is_finite(),
        _ => false,
    }
}

fn matches_json(node: &Node, expected: &Json) -> bool {
    match (&node.value, expected) {
        (Value::Str(s), Json::String(e)) => s == e,
        (Value::Bool(b), Json::Bool(e)) => b == e,
        (Value::Int(i), Json::Number(n)) => n.as_i64() == Some(*i),
        (Value::Null, Json::Null) => true,
        _ => false,
    }
}

fn describe(node: &Node) -> String {
    match &node.value {
        Value::Str(s) => format!("`{s}`"),
        Value::Bool(b) => format!("`{b}`"),
        Value::Int(i) => format!("`{i}`"),
        Value::Float(f) => format!("`{f}`"),
        other => format!("a value of type {}", other.type_name()),
    }
}

fn invalid_value(node: &Node, path: &Path, choices: &[&Json]) -> Diagnostic {
    let names: Vec<String> = choices
        .iter()
        .map(|c| match c {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect();
    let mut d = Diagnostic::error(
        "spec::invalid_value",
        format!(
            "{} is not a valid value for `{}`",
            describe(node),
            field_name(path)
        ),
    )
    .at_path(path.clone())
    .label(node.span, "not one of the allowed values");
    let suggestion = match &node.value {
        Value::Str(s) => did_you_mean(s, names.iter().map(String::as_str)),
        _ => None,
    };
    d = match suggestion {
        Some(s) => d.help(format!("did you mean `{s}`?")),
        None => d.help(format!("allowed values: {}", names.join(", "))),
    };
    d
}

fn type_error(node: &Node, path: &Path, types: &[&str]) -> Diagnostic {
    let wanted: Vec<&str> = types.iter().copied().filter(|t| *t != "null").collect();
    let wanted = if wanted.is_empty() {
        types.to_vec()
    } else {
        wanted
    };
    let expected = match wanted.as_slice() {
        ["object"] => "a mapping".to_owned(),
        ["array"] => "a list".to_owned(),
        [one] => format!("a {one}"),
        many => format!("one of: {}", many.join(", ")),
    };
    let found = match &node.value {
        Value::Map(_) => "a mapping".to_owned(),
        Value::Seq(_) => "a list".to_owned(),
        Value::Null => "nothing (null)".to_owned(),
        other => format!("{} {}", other.type_name(), describe(node)),
    };
    let mut d = Diagnostic::error(
        "spec::type",
        format!("`{}` must be {expected}, found {found}", field_name(path)),
    )
    .at_path(path.clone())
    .label(node.span, format!("expected {expected}"));
    if wanted == ["object"] && node.value == Value::Null {
        d = d.help("write `{}` for an empty mapping");
    } else if wanted == ["array"] && !matches!(node.value, Value::Seq(_) | Value::Null) {
        d = d.help("write a list, for example `[a, b]` or one `- item` per line");
    } else if wanted == ["boolean"] {
        d = d.help("write `true` or `false` (`yes`, `no`, `on` and `off` are strings)");
    } else if wanted == ["string"] && !matches!(node.value, Value::Map(_) | Value::Seq(_)) {
        d = d.help("quote the value to make it a string");
    }
    d
}

fn field_name(path: &Path) -> String {
    if path.0.is_empty() {
        "the document".into()
    } else {
        path.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::yaml;

    fn findings(text: &str) -> Vec<Diagnostic> {
        check(&yaml::parse(text).expect("yaml"), &[])
    }

    #[test]
    fn schema_is_draft_07_and_closed() {
        let schema = json_schema();
        assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
        assert_eq!(schema["additionalProperties"], false);
        assert!(schema["definitions"]["Tenant"]["properties"]["tenantId"].is_object());
    }

    #[test]
    fn reports_unknown_fields_with_suggestion_wrong_types_and_missing_fields_together() {
        let text = "apiVersion: mtoctl/v1alpha1\nkind: MultiTenantOrganization\n\
                    organization: {displayName: X, colour: red}\n\
                    tenants:\n  - alias: a\n    tenantID: x\n    displayName: 5\n    role: owner\n    auth: {}\n";
        let found = findings(text);
        let codes: Vec<&str> = found.iter().map(|d| d.code).collect();
        assert!(codes.contains(&"spec::unknown_field"), "{found:#?}");
        let tenant_id = found
            .iter()
            .find(|d| d.message.contains("tenantID"))
            .expect("tenantID reported");
        assert_eq!(tenant_id.help.as_deref(), Some("did you mean `tenantId`?"));
        assert!(
            found
                .iter()
                .any(|d| d.message == "missing required field `tenantId`")
        );
        assert!(
            found
                .iter()
                .any(|d| d.code == "spec::type" && d.message.contains("displayName"))
        );
        assert_eq!(found.len(), 4, "{found:#?}");
    }

    #[test]
    fn enum_values_are_checked_with_suggestions() {
        let text = "apiVersion: mtoctl/v1alpha2\nkind: MultiTenantOrganization\norganization: {displayName: X}\n\
                    tenants:\n  - {alias: a, tenantId: x, displayName: A, role: ownr, auth: {}}\n";
        let found = findings(text);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found.iter().all(|d| d.code == "spec::invalid_value"));
        assert!(
            found
                .iter()
                .any(|d| d.help.as_deref() == Some("did you mean `owner`?"))
        );
        assert!(
            found
                .iter()
                .any(|d| d.help.as_deref() == Some("did you mean `mtoctl/v1alpha1`?"))
        );
    }

    /// Issue 19: an optional enum said "must be a null" (the `null` that makes it optional)
    /// where a required one says "did you mean".
    #[test]
    fn optional_enums_are_named_like_required_ones() {
        let text = "apiVersion: mtoctl/v1alpha1\nkind: MultiTenantOrganization\norganization: {displayName: X}\n\
                    tenants: []\nsync:\n  - {from: a, to: b, userType: member, onLeavingScope: 5, scope: {}}\n";
        let found = findings(text);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert_eq!(found[0].code, "spec::invalid_value");
        assert_eq!(found[0].help.as_deref(), Some("did you mean `Member`?"));
        assert_eq!(
            found[1].message,
            "`sync[0].onLeavingScope` must be a string, found integer `5`"
        );
    }

    #[test]
    fn required_fields_reported_get_stand_ins_of_their_type() {
        let text = "apiVersion: mtoctl/v1alpha1\nkind: MultiTenantOrganization\norganization: {displayName: X}\n\
                    tenants:\n  - {alias: a, tenantId: 5, role: owner, auth: {azureCli: {}}}\n";
        let structure = walk(&yaml::parse(text).expect("yaml"), &[]);
        let tenant = Path::root().key("tenants").index(0);
        assert_eq!(
            structure.stand_ins,
            [
                (tenant.key("tenantId"), Json::String(String::new())),
                (tenant.key("displayName"), Json::String(String::new())),
            ]
        );
    }

    #[test]
    fn optional_fields_accept_null_and_errors_inside_optional_objects_are_reported() {
        let text = "apiVersion: mtoctl/v1alpha1\nkind: MultiTenantOrganization\n\
                    organization: {displayName: X, description: ~}\ntenants: []\n\
                    collaboration:\n  allPairs:\n    automaticUserConsent: {inbound: yes}\n";
        let found = findings(text);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].code, "spec::type");
        assert!(
            found[0]
                .message
                .contains("collaboration.allPairs.automaticUserConsent.inbound")
        );
    }

    #[test]
    fn skipped_paths_are_not_reported() {
        let text = "apiVersion: mtoctl/v1alpha1\nkind: MultiTenantOrganization\norganization: {displayName: X}\n\
                    tenants:\n  - {alias: a, tenantId: x, displayName: A, auth: {clientSecret: hunter2}}\n";
        let node = yaml::parse(text).expect("yaml");
        assert_eq!(check(&node, &[]).len(), 1);
        let skip = Path::root()
            .key("tenants")
            .index(0)
            .key("auth")
            .key("clientSecret");
        assert!(check(&node, &[skip]).is_empty());
    }
}
