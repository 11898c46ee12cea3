//! Graph's answers decoded into wire types, every string made printable first.

use mtoctl_model::ids::Guid;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::GraphError;
use crate::transport::{GraphClient, GraphRequest, GraphResponse};

pub(crate) fn decode_one<T: DeserializeOwned>(
    alias: &str,
    request: &GraphRequest,
    raw: Result<GraphResponse, GraphError>,
) -> Result<T, GraphError> {
    let mut body = raw?.body;
    printable(&mut body);
    serde_json::from_value(body).map_err(|e| decode_error(alias, request, e))
}

/// A collection with all its pages, decoded item by item.
pub(crate) async fn collection<T: DeserializeOwned>(
    client: &GraphClient,
    alias: &str,
    request: &GraphRequest,
    raw: Result<GraphResponse, GraphError>,
) -> Result<Vec<T>, GraphError> {
    let items = client.follow_pages(alias, request, raw?.body).await?;
    decode_items(alias, request, items)
}

pub(super) fn decode_items<T: DeserializeOwned>(
    alias: &str,
    request: &GraphRequest,
    items: Vec<Value>,
) -> Result<Vec<T>, GraphError> {
    items
        .into_iter()
        .map(|mut item| {
            printable(&mut item);
            serde_json::from_value(item).map_err(|e| decode_error(alias, request, e))
        })
        .collect()
}

/// Replaces control characters in every string of an answer with U+FFFD. What is observed is
/// shown to people (plans, status, errors, CI logs), and names come from other tenants' admins:
/// a carriage return, a newline or an escape sequence in a display name would let them forge or
/// hide lines of a plan. No name Graph holds needs one.
pub fn printable(value: &mut Value) {
    match value {
        // Control characters are C0 (bytes below 0x20), DEL (0x7F) and C1 (U+0080 to U+009F,
        // 0xC2 then 0x80 to 0x9F in UTF-8): a string without those bytes has none, and most
        // strings are checked by their bytes alone (a converged plan reads millions).
        Value::String(text)
            if text.bytes().any(|b| b < 0x20 || b == 0x7F || b == 0xC2)
                && text.chars().any(char::is_control) =>
        {
            *text = text
                .chars()
                .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
                .collect();
        }
        Value::Array(items) => items.iter_mut().for_each(printable),
        Value::Object(map) => map.values_mut().for_each(printable),
        _ => {}
    }
}

pub(crate) fn decode_error(
    alias: &str,
    request: &GraphRequest,
    e: serde_json::Error,
) -> GraphError {
    GraphError::Decode {
        tenant: alias.to_owned(),
        method: request.method.to_string(),
        path: request.path.clone(),
        reason: e.to_string(),
    }
}

/// Object ids are compared canonically; exposed for the planner's lookups.
pub fn canonical_id(text: &str) -> Option<Guid> {
    Guid::parse(text)
}
