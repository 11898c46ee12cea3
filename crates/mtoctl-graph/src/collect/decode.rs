//! Graph's answers decoded into wire types, every string made printable first.
//!
//! `collect` decodes answers straight from their JSON text (`decode_raw`, `collection_raw`,
//! `take_page`): a converged mesh answers with some 200,000 assignments, and a JSON tree of
//! each, walked by `printable` and then decoded, cost more than the rest of a no-op plan's
//! reading. Text in which no string can hold a control character ([`may_hold_controls`]: the
//! common case) is decoded directly; any other text goes the way every answer went before,
//! through a tree made printable, so what comes out is the same either way. Other readers
//! (`health`, `verify`, `discover`) decode trees with `decode_one` and `collection`.

use mtoctl_model::ids::Guid;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::GraphError;
use crate::transport::{GraphClient, GraphRequest, GraphResponse, RawResponse, paging_error};

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
    items
        .into_iter()
        .map(|mut item| {
            printable(&mut item);
            serde_json::from_value(item).map_err(|e| decode_error(alias, request, e))
        })
        .collect()
}

/// [`decode_one`] of an answer still in text.
pub(crate) fn decode_raw<T: DeserializeOwned>(
    alias: &str,
    request: &GraphRequest,
    raw: Result<RawResponse, GraphError>,
) -> Result<T, GraphError> {
    decode_text(&raw?.body).map_err(|e| decode_error(alias, request, e))
}

/// [`collection`] of an answer still in text: each page decoded straight into `T`s.
pub(crate) async fn collection_raw<T: DeserializeOwned>(
    client: &GraphClient,
    alias: &str,
    request: &GraphRequest,
    raw: Result<RawResponse, GraphError>,
) -> Result<Vec<T>, GraphError> {
    let mut items = Vec::new();
    client
        .follow_all_raw(alias, vec![(request, raw)], |_, request, page| {
            take_page(alias, request, &page.body, &mut items)
        })
        .await
        .pop()
        .unwrap_or_else(|| Err(GraphError::UnknownTenant(alias.to_owned())))?;
    Ok(items)
}

/// One page of a collection, as Graph writes it.
#[derive(serde::Deserialize)]
struct Page<T> {
    value: Option<Vec<T>>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
}

/// Decodes the items of a page (JSON text) of the collection `request` reads into `items`,
/// every string printable, and returns the page's `@odata.nextLink`. A page without a
/// `value` array, or with an item that is not a `T`, is an error.
pub(crate) fn take_page<T: DeserializeOwned>(
    alias: &str,
    request: &GraphRequest,
    page: &[u8],
    items: &mut Vec<T>,
) -> Result<Option<String>, GraphError> {
    let page: Page<T> = if may_hold_controls(page) {
        // The items made printable, as in `collection`; the link is left as it came.
        serde_json::from_slice::<Value>(page).and_then(|mut tree| {
            if let Some(Value::Array(values)) = tree.get_mut("value") {
                values.iter_mut().for_each(printable);
            }
            serde_json::from_value(tree)
        })
    } else {
        serde_json::from_slice(page)
    }
    .map_err(|e| decode_error(alias, request, e))?;
    let Some(values) = page.value else {
        return Err(paging_error(
            alias,
            request,
            "a collection response has no `value` array".into(),
        ));
    };
    if items.is_empty() {
        *items = values;
    } else {
        items.extend(values);
    }
    Ok(page.next_link)
}

/// JSON text decoded into `T`, every string printable.
pub(crate) fn decode_text<T: DeserializeOwned>(json: &[u8]) -> Result<T, serde_json::Error> {
    if may_hold_controls(json) {
        let mut tree: Value = serde_json::from_slice(json)?;
        printable(&mut tree);
        serde_json::from_value(tree)
    } else {
        serde_json::from_slice(json)
    }
}

/// Whether a string in this JSON text may hold a control character once decoded; `false`
/// only when none can. JSON forbids raw C0 bytes in strings (the decoder refuses them), so a
/// control character can only come from a raw DEL (0x7F), a raw C1 character (0xC2 then 0x80
/// to 0x9F in UTF-8) or an escape: `\b`, `\f`, `\n`, `\r`, `\t` or a `\u` of one of those
/// code points. `\"`, `\\`, `\/` and other `\u` escapes are safe. Graph's answers have none of
/// these, so this is one scan of bytes that are rarely looked at twice.
pub(crate) fn may_hold_controls(json: &[u8]) -> bool {
    let suspect = |b: u8| b == b'\\' || b == 0x7F || b == 0xC2;
    let mut at = 0;
    while at < json.len() {
        // Whole blocks without a suspect byte are skipped without branching per byte.
        let block = &json[at..json.len().min(at + 64)];
        if !block.iter().fold(false, |any, &b| any | suspect(b)) {
            at += block.len();
            continue;
        }
        let Some(found) = block.iter().position(|&b| suspect(b)) else {
            at += block.len();
            continue;
        };
        at += found;
        match json[at] {
            0x7F => return true,
            0xC2 if json.get(at + 1).is_some_and(|b| (0x80..=0x9F).contains(b)) => return true,
            0xC2 => at += 1,
            _ => match json.get(at + 1) {
                Some(b'"' | b'\\' | b'/') => at += 2,
                Some(b'u') => {
                    let code = json
                        .get(at + 2..at + 6)
                        .and_then(|hex| std::str::from_utf8(hex).ok())
                        .and_then(|hex| u32::from_str_radix(hex, 16).ok());
                    match code.and_then(char::from_u32) {
                        Some(c) if !c.is_control() => at += 6,
                        // A control character, or a surrogate half: halves pair into
                        // characters above U+FFFF, none of them a control, but saying "may"
                        // costs nothing.
                        _ if code.is_some_and(|c| (0xD800..0xE000).contains(&c)) => at += 6,
                        _ => return true,
                    }
                }
                _ => return true,
            },
        }
    }
    false
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[derive(Debug, PartialEq, serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Named {
        id: String,
        display_name: Option<String>,
    }

    fn request() -> GraphRequest {
        GraphRequest::get("/users?$select=id,displayName")
    }

    fn typed(page: &[u8]) -> Result<(Vec<Named>, Option<String>), GraphError> {
        let mut items = Vec::new();
        let next = take_page("contoso", &request(), page, &mut items)?;
        Ok((items, next))
    }

    /// How every page was decoded before: a tree, each item made printable, then the type.
    fn through_trees(page: &[u8]) -> Option<Vec<Named>> {
        let mut tree: Value = serde_json::from_slice(page).ok()?;
        let Value::Array(values) = tree.get_mut("value")?.take() else {
            return None;
        };
        values
            .into_iter()
            .map(|mut item| {
                printable(&mut item);
                serde_json::from_value(item).ok()
            })
            .collect()
    }

    /// `text` with every character written as a `\u` escape (surrogate pairs above U+FFFF).
    fn escaped(text: &str) -> String {
        let mut out = String::from("\"");
        for unit in text.encode_utf16() {
            out.push_str(&format!("\\u{unit:04x}"));
        }
        out.push('"');
        out
    }

    #[test]
    fn a_page_decodes_straight_into_its_items_and_gives_its_next_link() {
        let page = br#"{"@odata.context": "x", "value": [
            {"id": "a", "displayName": "Adele", "mail": null},
            {"id": "b"}
        ], "@odata.nextLink": "https://graph.microsoft.com/v1.0/users?$skiptoken=2"}"#;
        let (items, next) = typed(page).expect("a page");
        assert_eq!(
            items,
            [
                Named {
                    id: "a".into(),
                    display_name: Some("Adele".into())
                },
                Named {
                    id: "b".into(),
                    display_name: None
                }
            ]
        );
        assert_eq!(
            next.as_deref(),
            Some("https://graph.microsoft.com/v1.0/users?$skiptoken=2")
        );
        // A second page adds to the first.
        let mut items = Vec::new();
        for page in [
            &br#"{"value":[{"id":"a"}]}"#[..],
            br#"{"value":[{"id":"b"}]}"#,
        ] {
            take_page::<Named>("contoso", &request(), page, &mut items).expect("page");
        }
        assert_eq!(items.len(), 2);
    }

    #[test]
    fn control_characters_are_replaced_on_the_typed_path_as_in_trees() {
        // Raw DEL and C1 (NEL), escaped C0 (LF, ESC) and escaped DEL and C1 (CSI); `é` and a
        // no-break space share the lead byte of C1 controls in UTF-8 and are kept.
        let page = "{\"value\":[{\"id\":\"a\",\"displayName\":\
                    \"E\u{7f}v\u{85}i\\nl\\u001b[2K\\u007f\\u009b\u{e9}\u{a0}\\u00e9\"}]}";
        let (items, _) = typed(page.as_bytes()).expect("decoded");
        assert_eq!(
            items[0].display_name.as_deref(),
            Some("E\u{FFFD}v\u{FFFD}i\u{FFFD}l\u{FFFD}[2K\u{FFFD}\u{FFFD}é\u{a0}é")
        );
        let one: Named = decode_text(br#"{"id": "a\r", "displayName": "\t"}"#).expect("an object");
        assert_eq!(
            (one.id.as_str(), one.display_name.as_deref()),
            ("a\u{FFFD}", Some("\u{FFFD}"))
        );
    }

    #[test]
    fn a_malformed_page_is_an_error_naming_the_tenant_and_the_collection() {
        for (page, reason) in [
            (&b"{\"value\": [{\"id\": \"a\"}"[..], "EOF"),
            (b"<html>", "expected value"),
            (b"{\"items\": []}", "no `value` array"),
            (b"{\"value\": null}", "no `value` array"),
            (b"{\"value\": {\"id\": \"a\"}}", "invalid type"),
            (
                b"{\"value\": [{\"displayName\": \"no id\"}]}",
                "missing field `id`",
            ),
            (b"{\"value\": [], \"@odata.nextLink\": 5}", "invalid type"),
            // A raw control character is not JSON, on either path.
            (b"{\"value\": [{\"id\": \"a\x01\"}]}", "control character"),
        ] {
            let e = typed(page).expect_err("malformed");
            let GraphError::Decode {
                tenant,
                method,
                path,
                reason: said,
            } = &e
            else {
                panic!("not a decode error: {e:?}");
            };
            assert_eq!((tenant.as_str(), method.as_str()), ("contoso", "GET"));
            assert_eq!(path, "/users?$select=id,displayName");
            assert!(said.contains(reason), "{said} (expected {reason})");
        }
    }

    #[test]
    fn only_text_that_may_decode_to_a_control_character_is_suspect() {
        for clean in [
            &br#"{"a": "plain", "b": "\"quoted\" \\ back\/slash", "c": "\u00e9\u00a0\u2028"}"#[..],
            br#""\\n is a backslash and an n""#,
            br#""\ud83d\ude00""#,
            "\"\u{e9}\u{a0}\u{c2a9}\"".as_bytes(),
        ] {
            assert!(
                !may_hold_controls(clean),
                "{}",
                String::from_utf8_lossy(clean)
            );
        }
        for suspect in [
            &br#""\n""#[..],
            br#""\t""#,
            br#""\b""#,
            br#""\f""#,
            br#""\r""#,
            br#""\u0000""#,
            br#""\u001F""#,
            br#""\u007f""#,
            br#""\u0085""#,
            br#""\u009F""#,
            br#""\\\n""#,
            br#""\u00""#,
            "\"\u{7f}\"".as_bytes(),
            "\"\u{80}\"".as_bytes(),
            "\"\u{9f}\"".as_bytes(),
        ] {
            assert!(
                may_hold_controls(suspect),
                "{}",
                String::from_utf8_lossy(suspect)
            );
        }
    }

    fn arb_text() -> impl Strategy<Value = String> {
        let char = prop_oneof![
            any::<char>(),
            prop::char::range('\0', '\u{a0}'),
            prop::sample::select(vec!['\\', '"', '/', 'é', '\u{2028}', '😀']),
        ];
        prop::collection::vec(char, 0..16).prop_map(|c| c.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// Whatever a name holds and however it is written (as serde_json writes it, or every
        /// character escaped), the typed path decodes what the trees did, and text it takes
        /// as clean has no control character.
        #[test]
        fn the_typed_path_decodes_what_the_trees_did(name in arb_text(), pad in 0usize..80) {
            let filler = "x".repeat(pad);
            let written = json!({"value": [{"id": filler, "displayName": name}]}).to_string();
            let all_escaped = format!(
                "{{\"value\": [{{\"id\": \"{filler}\", \"displayName\": {}}}]}}",
                escaped(&name)
            );
            for page in [written, all_escaped] {
                let (items, next) = typed(page.as_bytes()).expect("a page");
                let before = through_trees(page.as_bytes());
                prop_assert_eq!(Some(&items), before.as_ref());
                prop_assert_eq!(next, None);
                if !may_hold_controls(page.as_bytes()) {
                    prop_assert!(!name.chars().any(char::is_control));
                }
                let shown = items[0].display_name.as_deref().unwrap_or_default();
                prop_assert!(!shown.chars().any(char::is_control));
            }
        }
    }
}
