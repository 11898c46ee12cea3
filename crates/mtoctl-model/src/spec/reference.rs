//! The field reference of docs/spec-reference.md, generated from the JSON Schema so that the
//! documentation cannot drift from the language (a test compares the two).

use serde_json::Value as Json;

use super::schema::json_schema;

/// Markdown tables describing every object of the spec language, root first, then the
/// definitions in alphabetical order.
pub fn markdown() -> String {
    let schema = json_schema();
    let mut out = String::new();
    section(&mut out, "Spec (the document root)", schema);
    if let Some(definitions) = schema.get("definitions").and_then(Json::as_object) {
        for (name, def) in definitions {
            section(&mut out, name, def);
        }
    }
    out
}

fn section(out: &mut String, name: &str, schema: &Json) {
    out.push_str(&format!("### {name}\n\n"));
    if let Some(description) = schema.get("description").and_then(Json::as_str) {
        out.push_str(&one_line(description));
        out.push_str("\n\n");
    }
    if let Some(properties) = schema.get("properties").and_then(Json::as_object) {
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Json::as_array)
            .map(|r| r.iter().filter_map(Json::as_str).collect())
            .unwrap_or_default();
        out.push_str("| field | type | required | description |\n|---|---|---|---|\n");
        for (field, prop) in properties {
            let description = prop
                .get("description")
                .and_then(Json::as_str)
                .map(one_line)
                .unwrap_or_default();
            out.push_str(&format!(
                "| `{field}` | {} | {} | {} |\n",
                type_of(prop),
                if required.contains(&field.as_str()) {
                    "yes"
                } else {
                    "no"
                },
                description.replace('|', "\\|")
            ));
        }
        out.push('\n');
    } else if let Some(values) = enum_values(schema) {
        out.push_str("| value | meaning |\n|---|---|\n");
        for (value, description) in values {
            out.push_str(&format!("| `{value}` | {} |\n", one_line(&description)));
        }
        out.push('\n');
    }
}

/// `(value, description)` for string enums, written by schemars as `oneOf` constants or `enum`.
fn enum_values(schema: &Json) -> Option<Vec<(String, String)>> {
    if let Some(branches) = schema.get("oneOf").and_then(Json::as_array) {
        return branches
            .iter()
            .map(|b| {
                let value = b.get("const")?.as_str()?.to_owned();
                let description = b.get("description").and_then(Json::as_str).unwrap_or("");
                Some((value, description.to_owned()))
            })
            .collect();
    }
    let values = schema.get("enum")?.as_array()?;
    let description = schema
        .get("description")
        .and_then(Json::as_str)
        .unwrap_or("");
    values
        .iter()
        .map(|v| Some((v.as_str()?.to_owned(), description.to_owned())))
        .collect()
}

fn type_of(schema: &Json) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Json::as_str) {
        let name = reference.rsplit('/').next().unwrap_or(reference);
        return format!("[{name}](#{})", name.to_lowercase());
    }
    for keyword in ["allOf", "anyOf", "oneOf"] {
        if let Some(branches) = schema.get(keyword).and_then(Json::as_array) {
            let types: Vec<String> = branches
                .iter()
                .filter(|b| b.get("type").and_then(Json::as_str) != Some("null"))
                .map(type_of)
                .collect();
            return types.join(" or ");
        }
    }
    match schema.get("type") {
        Some(Json::String(t)) if t == "array" => {
            format!(
                "list of {}",
                schema.get("items").map(type_of).unwrap_or_default()
            )
        }
        Some(Json::String(t)) => t.clone(),
        Some(Json::Array(ts)) => ts
            .iter()
            .filter_map(Json::as_str)
            .filter(|t| *t != "null")
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "any".into(),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
