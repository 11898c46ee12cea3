//! How the structural check words what it finds: invalid values and wrong types, and the
//! type tests behind them.

use serde_json::Value as Json;

use crate::spec::diagnostic::Diagnostic;
use crate::spec::node::{Node, Path, Value};
use crate::spec::suggest::did_you_mean;

/// The JSON type name of a value, as JSON Schema's `type` spells it.
pub(super) fn json_type(value: &Json) -> &'static str {
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

/// Whether `node` is of the JSON Schema type `ty`.
pub(super) fn type_matches(node: &Node, ty: &str) -> bool {
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

/// Whether `node` is the scalar `expected` (a `const` or an `enum` choice).
pub(super) fn matches_json(node: &Node, expected: &Json) -> bool {
    match (&node.value, expected) {
        (Value::Str(s), Json::String(e)) => s == e,
        (Value::Bool(b), Json::Bool(e)) => b == e,
        (Value::Int(i), Json::Number(n)) => n.as_i64() == Some(*i),
        (Value::Null, Json::Null) => true,
        _ => false,
    }
}

/// A value as a message quotes it.
pub(super) fn describe(node: &Node) -> String {
    match &node.value {
        Value::Str(s) => format!("`{s}`"),
        Value::Bool(b) => format!("`{b}`"),
        Value::Int(i) => format!("`{i}`"),
        Value::Float(f) => format!("`{f}`"),
        other => format!("a value of type {}", other.type_name()),
    }
}

/// A value that is none of the allowed `choices`, with the closest one suggested.
pub(super) fn invalid_value(node: &Node, path: &Path, choices: &[&Json]) -> Diagnostic {
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

/// A value of the wrong type, with a hint on how to write the right one.
pub(super) fn type_error(node: &Node, path: &Path, types: &[&str]) -> Diagnostic {
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

/// The field at `path` as a message names it.
pub(super) fn field_name(path: &Path) -> String {
    if path.0.is_empty() {
        "the document".into()
    } else {
        path.to_string()
    }
}
