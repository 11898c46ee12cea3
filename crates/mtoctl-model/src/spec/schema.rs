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
    let schema = json_schema();
    let mut walker = Walker {
        root: schema,
        skip,
        findings: Vec::new(),
    };
    walker.node(root, schema, &Path::root(), None);
    walker.findings
}

struct Walker<'a> {
    root: &'a Json,
    skip: &'a [Path],
    findings: Vec<Diagnostic>,
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

    fn node(&mut self, node: &Node, schema: &'a Json, path: &Path, key_span: Option<Span>) {
        if self.skip.iter().any(|s| path.starts_with(s)) {
            return;
        }
        let mut findings = std::mem::take(&mut self.findings);
        findings.extend(self.errors(node, schema, path, key_span));
        self.findings = findings;
    }

    /// All structural errors of `node` against `schema`.
    fn errors(
        &self,
        node: &Node,
        schema: &'a Json,
        path: &Path,
        key_span: Option<Span>,
    ) -> Vec<Diagnostic> {
        let schema = self.resolve(schema);
        let Some(obj) = schema.as_object() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if let Some(all) = obj.get("allOf").and_then(Json::as_array) {
            for sub in all {
                out.extend(self.errors(node, sub, path, key_span));
            }
        }
        for keyword in ["anyOf", "oneOf"] {
            if let Some(branches) = obj.get(keyword).and_then(Json::as_array) {
                out.extend(self.alternatives(node, branches, path, key_span));
            }
        }
        if let Some(expected) = obj.get("const")
            && !matches_json(node, expected)
        {
            out.push(invalid_value(node, path, &[expected]));
        }
        if let Some(choices) = obj.get("enum").and_then(Json::as_array)
            && !choices.iter().any(|c| matches_json(node, c))
        {
            out.push(invalid_value(
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
                out.push(type_error(node, path, &types));
                return out;
            }
        }
        match &node.value {
            Value::Map(entries) => out.extend(self.object(node, entries, obj, path, key_span)),
            Value::Seq(items) => {
                if let Some(item_schema) = obj.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        let item_path = path.index(i);
                        if !self.skip.iter().any(|s| item_path.starts_with(s)) {
                            out.extend(self.errors(item, item_schema, &item_path, None));
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
    ) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let properties = obj.get("properties").and_then(Json::as_object);
        let closed = obj.get("additionalProperties") == Some(&Json::Bool(false));
        for (key, value) in entries {
            let child_path = path.key(&key.name);
            if self.skip.iter().any(|s| child_path.starts_with(s)) {
                continue;
            }
            match properties.and_then(|p| p.get(&key.name)) {
                Some(child_schema) => {
                    out.extend(self.errors(value, child_schema, &child_path, Some(key.span)))
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
                    out.push(d);
                }
                None => {}
            }
        }
        if let Some(required) = obj.get("required").and_then(Json::as_array) {
            for name in required.iter().filter_map(Json::as_str) {
                if !entries.iter().any(|(k, _)| k.name == name) {
                    let span = key_span.unwrap_or(node.span);
                    out.push(
                        Diagnostic::error(
                            "spec::missing_field",
                            format!("missing required field `{name}`"),
                        )
                        .at_path(path.key(name))
                        .label(span, format!("`{name}` is required here")),
                    );
                }
            }
        }
        out
    }

    /// `anyOf`/`oneOf`: fine if one branch accepts the node; otherwise report the errors of the
    /// branch the user evidently meant (the one of the node's type), or a type error.
    fn alternatives(
        &self,
        node: &Node,
        branches: &'a [Json],
        path: &Path,
        key_span: Option<Span>,
    ) -> Vec<Diagnostic> {
        let mut candidates = Vec::new();
        for branch in branches {
            let errs = self.errors(node, branch, path, key_span);
            if errs.is_empty() {
                return Vec::new();
            }
            candidates.push((self.resolve(branch), errs));
        }
        // A string enum written as `oneOf` of constants: one "invalid value" finding.
        let constants: Vec<&Json> = candidates
            .iter()
            .filter_map(|(schema, _)| schema.get("const"))
            .collect();
        if !constants.is_empty() && constants.len() == candidates.len() {
            return vec![invalid_value(node, path, &constants)];
        }
        // The branch whose declared type fits the node is the one that was meant.
        let fits = |schema: &Json| match schema.get("type") {
            Some(Json::String(t)) => type_matches(node, t),
            Some(Json::Array(ts)) => ts
                .iter()
                .filter_map(Json::as_str)
                .any(|t| type_matches(node, t)),
            _ => matches!(node.value, Value::Map(_)) && schema.get("properties").is_some(),
        };
        if let Some((_, errs)) = candidates.iter().find(|(schema, _)| fits(schema)) {
            return errs.clone();
        }
        let mut types: Vec<&str> = candidates
            .iter()
            .filter_map(|(schema, _)| schema.get("type").and_then(Json::as_str))
            .collect();
        types.dedup();
        if types.is_empty() {
            candidates
                .into_iter()
                .next()
                .map(|(_, e)| e)
                .unwrap_or_default()
        } else {
            vec![type_error(node, path, &types)]
        }
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
