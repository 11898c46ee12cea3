//! The walk of a parsed document against the schema: `$ref`s, `allOf`/`anyOf`/`oneOf`,
//! constants and enums, types, objects' known, required and additional properties, arrays'
//! items; with the stand-ins that let the rest of the document be read.

use serde_json::{Map, Value as Json};

use super::Structure;
use super::findings::{invalid_value, json_type, matches_json, type_error, type_matches};
use crate::spec::diagnostic::Diagnostic;
use crate::spec::node::{Node, Path, Span, Value};
use crate::spec::suggest::did_you_mean;

/// A walk of a document against the schema whose root is `root`, not entering `skip`.
pub(super) struct Walker<'a> {
    pub(super) root: &'a Json,
    pub(super) skip: &'a [Path],
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
    pub(super) fn errors(
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
            let types = type_names(types);
            if !types.is_empty() && !types.iter().any(|t| type_matches(node, t)) {
                out.findings.push(type_error(node, path, &types));
                return out;
            }
        }
        match &node.value {
            Value::Map(entries) => out.append(self.object(node, entries, obj, path, key_span)),
            Value::Seq(items) => {
                if let Some(item_schema) = obj.get("items") {
                    // Items of a plain type (a scope's 500 user names) are checked without a
                    // path of their own: one is built only for an item that is wrong.
                    let plain = self.plain_types(item_schema);
                    for (i, item) in items.iter().enumerate() {
                        if plain
                            .as_ref()
                            .is_some_and(|types| types.iter().any(|t| type_matches(item, t)))
                        {
                            continue;
                        }
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
        entries: &[(crate::spec::node::Key, Node)],
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

    /// The types of a schema that says nothing but its type (and a description): a value of
    /// one of them has no finding.
    fn plain_types(&self, schema: &'a Json) -> Option<Vec<&'a str>> {
        let obj = self.resolve(schema).as_object()?;
        let types = type_names(obj.get("type")?);
        obj.keys()
            .all(|k| matches!(k.as_str(), "type" | "description" | "title"))
            .then_some(types)
    }

    /// The JSON types a schema admits, through references, constants, enums and
    /// alternatives. Empty when the schema does not say.
    fn admitted_types(&self, schema: &'a Json) -> Vec<&'a str> {
        let schema = self.resolve(schema);
        let mut types = schema.get("type").map(type_names).unwrap_or_default();
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

/// The type names of a schema's `type`: one, or a list.
fn type_names(types: &Json) -> Vec<&str> {
    match types {
        Json::String(t) => vec![t.as_str()],
        Json::Array(ts) => ts.iter().filter_map(Json::as_str).collect(),
        _ => Vec::new(),
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
