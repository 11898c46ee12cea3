//! Reads YAML text into a [`Node`] tree. The only module that knows the YAML parser.
//!
//! serde-saphyr does the parsing (serde_yaml is archived). It is asked for a tree of spanned
//! nodes rather than typed structs, so that later stages can report every problem at once.
//! `events` reads most specs faster from the same parser's events, and leaves the rest (errors
//! included) to serde-saphyr.
//! Hostile input is bounded here: a size cap before parsing, and the parser's own budgets for
//! nesting depth, node counts and alias expansion (alias bombs).

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{MessageFormatter, Spanned};
use std::fmt;

use super::node::{Key, Node, Span, Value};

mod events;

/// The largest spec mtoctl reads. A spec this size already lists tens of thousands of
/// principals; larger scopes belong in groups, which also sync faster.
pub const MAX_SPEC_BYTES: usize = 4 * 1024 * 1024;

/// Nesting deeper than this is not a spec (the language needs about ten levels).
const MAX_DEPTH: usize = 32;

/// Node budget: generous for a maximal spec, small enough to stop expansion attacks quickly.
const MAX_NODES: usize = 500_000;

/// Why the text could not be read as YAML.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    /// What went wrong, without location (the span carries it).
    pub message: String,
    /// Where, if the parser knew.
    pub span: Option<Span>,
    /// What the user can do about it.
    pub help: Option<String>,
}

/// Parses one YAML document into a node tree.
pub fn parse(text: &str) -> Result<Node, YamlError> {
    if text.len() > MAX_SPEC_BYTES {
        return Err(YamlError {
            message: format!(
                "the spec is {} bytes; mtoctl reads specs of at most {} bytes",
                text.len(),
                MAX_SPEC_BYTES
            ),
            span: None,
            help: Some(
                "put large populations into groups and list the groups in `scope.groups`".into(),
            ),
        });
    }
    if text.trim().is_empty() {
        return Err(YamlError {
            message: "the spec is empty".into(),
            span: None,
            help: Some(
                "start from examples/quickstart/mto.yaml, or run `mtoctl schema` to see the language"
                    .into(),
            ),
        });
    }
    let options = options();
    let node = match fast(text, &options) {
        Some(node) => node,
        None => careful(text, options)?,
    };
    if node.value == Value::Null {
        return Err(YamlError {
            message: "the spec has no content, only comments".into(),
            span: None,
            help: Some("start from examples/quickstart/mto.yaml, or run `mtoctl schema` to see the language".into()),
        });
    }
    Ok(node)
}

/// The document's top-level entries up to and including `key`'s, without reading the text
/// after it: how a spec's tenants are read ahead of the rest. `None` when the document is no
/// mapping with that key, or when the fast reading would leave the text before it to the
/// careful one (whose findings [`parse`] then reports).
pub(crate) fn parse_until(text: &str, key: &str) -> Option<Node> {
    if text.len() > MAX_SPEC_BYTES {
        return None;
    }
    let options = options();
    events::parse_until(
        text,
        &fast_limits(),
        |scalar| typed_alone(scalar, &options),
        key,
    )
}

/// The events reading of `text` (`None` when it leaves it to [`careful`]), a plain scalar it
/// cannot type by its text typed by serde-saphyr on its own.
fn fast(text: &str, options: &serde_saphyr::Options) -> Option<Node> {
    events::parse(text, &fast_limits(), |scalar| typed_alone(scalar, options))
}

/// A plain scalar typed by serde-saphyr on its own.
fn typed_alone(scalar: &str, options: &serde_saphyr::Options) -> Option<Value> {
    serde_saphyr::from_str_with_options::<RawNode>(scalar, options.clone())
        .ok()
        .map(|raw| raw.into_node().value)
}

fn budget() -> serde_saphyr::Budget {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget.max_nodes = MAX_NODES;
    budget.max_documents = 1;
    budget
}

fn options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget());
    // `yes`, `no`, `on` and `off` stay strings: the Norway problem has no place in a tenant spec.
    options.strict_booleans = true;
    options.with_snippet = false;
    options
}

/// The fast reading's limits: the parser set up as serde-saphyr sets it up from the same
/// budget, and half the node budget, so that a document the careful reading would refuse for
/// its size is always left to it.
fn fast_limits() -> events::Limits {
    let budget = budget();
    let mut parser = granit_parser::Options::default();
    parser.simple_key_max_lookahead = budget.simple_key_max_lookahead;
    parser.flow_nesting_limit = budget.flow_nesting_limit;
    parser.block_nesting_limit = parser.block_nesting_limit.max(budget.max_depth + 1);
    parser.emit_comments = false;
    events::Limits {
        max_depth: MAX_DEPTH,
        max_nodes: (MAX_NODES / 2).min(budget.max_events / 4),
        parser,
    }
}

/// The careful reading, through serde-saphyr: every document, and the errors in its words.
fn careful(text: &str, options: serde_saphyr::Options) -> Result<Node, YamlError> {
    let raw: RawNode = serde_saphyr::from_str_with_options(text, options).map_err(|err| {
        let span = err.location().and_then(|loc| {
            let s = loc.span();
            match s.byte_offset() {
                Some(off) => Some(Span::new(off as usize, s.byte_len().unwrap_or(0) as usize)),
                None => offset_of_line_col(text, loc.line(), loc.column()).map(|o| Span::new(o, 0)),
            }
        });
        let (message, help) = match err.without_snippet() {
            // The parser's own message names its option for allowing duplicates.
            serde_saphyr::Error::DuplicateMappingKey { key, .. } => (
                match key {
                    Some(key) => format!("the key `{key}` appears twice in this mapping"),
                    None => "a key appears twice in this mapping".to_owned(),
                },
                Some("keep one of the two entries (merge them if both hold settings)".to_owned()),
            ),
            _ => match explain(&err.to_string()) {
                (message, Some(help)) => (message, Some(help)),
                // The library's wording for end users, which names none of its options
                // (`ignore_binary_tag_for_string`, "the configured policy").
                _ => (
                    clean_message(
                        &serde_saphyr::UserMessageFormatter.format_message(err.without_snippet()),
                    ),
                    None,
                ),
            },
        };
        // The parser reports a tab where it noticed it, which can be the end of the line
        // before; the finding points at the tab itself.
        let about_tab = message
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| w == "tab" || w == "tabs");
        let span = match span {
            Some(at) if about_tab => tab_near(text, at.offset)
                .map(|tab| Span::new(tab, 1))
                .or(Some(at)),
            other => other,
        };
        let help = if about_tab && help.is_none() {
            Some("YAML indents with spaces only: replace the tab with spaces".to_owned())
        } else {
            help
        };
        YamlError {
            message,
            span,
            help,
        }
    })?;
    Ok(raw.into_node())
}

/// Writes a value (a [`super::document::SpecDocument`]) as YAML text, for `mtoctl export`.
///
/// Block style with two-space indentation; strings YAML 1.1 would read as booleans or numbers
/// (`yes`, `1e3`) are quoted, so the text reads back as the same value under [`parse`].
pub fn to_yaml<T: serde::Serialize>(value: &T) -> Result<String, String> {
    serde_saphyr::to_string(value).map_err(|e| e.to_string())
}

/// The byte offset of a 1-based line and column (in characters), if the text has that place.
fn offset_of_line_col(text: &str, line: u64, column: u64) -> Option<usize> {
    if line == 0 {
        return None;
    }
    let line_start = if line == 1 {
        0
    } else {
        text.match_indices('\n')
            .nth(usize::try_from(line - 2).ok()?)?
            .0
            + 1
    };
    let rest = &text[line_start..];
    let col = usize::try_from(column.saturating_sub(1)).ok()?;
    let within = rest.char_indices().nth(col).map_or(rest.len(), |(i, _)| i);
    Some(line_start + within)
}

/// The tab a tab error is about: the first one from `offset` to the end of the next line, or
/// else the last one before `offset` on its line (the parser may report just past it).
fn tab_near(text: &str, offset: usize) -> Option<usize> {
    let offset = offset.min(text.len());
    let rest = text.get(offset..)?;
    let limit = rest
        .match_indices('\n')
        .nth(1)
        .map_or(rest.len(), |(i, _)| i);
    if let Some(i) = rest[..limit].find('\t') {
        return Some(offset + i);
    }
    let before = text.get(..offset)?;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    before[line_start..].rfind('\t').map(|i| line_start + i)
}

/// Turns the parser's budget messages into sentences a spec author can act on.
fn explain(raw: &str) -> (String, Option<String>) {
    let message = clean_message(raw);
    if message.contains("budget breached: Documents") {
        return (
            "the file holds more than one YAML document (`---`)".into(),
            Some("keep one spec per file".into()),
        );
    }
    if message.contains("budget breached: Nodes") || message.contains("budget breached: Alias") {
        return (
            format!("the document expands to more than {MAX_NODES} nodes (too many aliases?)"),
            Some("write the values out instead of expanding anchors many times over".into()),
        );
    }
    if message.contains("budget breached: Depth") || message.contains("recursion limit") {
        return (
            format!("the document nests deeper than {MAX_DEPTH} levels"),
            Some("a spec needs about ten levels; check the brackets and indentation".into()),
        );
    }
    if let Some(rest) = message.strip_prefix("budget breached: ") {
        return (
            format!("the document exceeds a parser limit ({rest})"),
            Some("simplify the document".into()),
        );
    }
    (message, None)
}

/// serde-saphyr appends the location to its messages; the diagnostic shows it already.
fn clean_message(message: &str) -> String {
    let first = message.lines().next().unwrap_or(message).trim();
    let without_at = match first.rfind(" at line ") {
        Some(idx) => &first[..idx],
        None => first,
    };
    without_at.trim_end_matches(['.', ':']).to_owned()
}

fn span_of(location: &serde_saphyr::Location) -> Span {
    let s = location.span();
    Span::new(
        s.byte_offset().unwrap_or(0) as usize,
        s.byte_len().unwrap_or(0) as usize,
    )
}

/// The parser-facing twin of [`Node`]: each value wrapped in serde-saphyr's `Spanned`.
struct RawNode(Spanned<RawValue>);

enum RawValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<RawNode>),
    Map(Vec<(Spanned<String>, RawNode)>),
}

impl RawNode {
    fn into_node(self) -> Node {
        let span = span_of(&self.0.referenced);
        let value = match self.0.value {
            RawValue::Null => Value::Null,
            RawValue::Bool(b) => Value::Bool(b),
            RawValue::Int(i) => Value::Int(i),
            RawValue::Float(f) => Value::Float(f),
            RawValue::Str(s) => Value::Str(s),
            RawValue::Seq(items) => Value::Seq(items.into_iter().map(RawNode::into_node).collect()),
            RawValue::Map(entries) => Value::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| {
                        let key = Key {
                            span: span_of(&k.referenced),
                            name: k.value,
                        };
                        (key, v.into_node())
                    })
                    .collect(),
            ),
        };
        Node { value, span }
    }
}

impl<'de> Deserialize<'de> for RawNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Spanned::<RawValue>::deserialize(deserializer).map(RawNode)
    }
}

impl<'de> Deserialize<'de> for RawValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawValueVisitor)
    }
}

struct RawValueVisitor;

impl<'de> Visitor<'de> for RawValueVisitor {
    type Value = RawValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<RawValue, E> {
        Ok(RawValue::Null)
    }
    fn visit_none<E>(self) -> Result<RawValue, E> {
        Ok(RawValue::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<RawValue, D::Error> {
        RawValue::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<RawValue, E> {
        Ok(RawValue::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<RawValue, E> {
        Ok(RawValue::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawValue, E> {
        i64::try_from(v)
            .map(RawValue::Int)
            .map_err(|_| E::custom("integer too large"))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<RawValue, E> {
        i64::try_from(v)
            .map(RawValue::Int)
            .map_err(|_| E::custom("integer too large"))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<RawValue, E> {
        i64::try_from(v)
            .map(RawValue::Int)
            .map_err(|_| E::custom("integer too large"))
    }
    fn visit_f64<E>(self, v: f64) -> Result<RawValue, E> {
        Ok(RawValue::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<RawValue, E> {
        Ok(RawValue::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<RawValue, E> {
        Ok(RawValue::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<RawValue, E> {
        Err(E::custom("binary values are not allowed in a spec"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(RawValue::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawValue, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(RawValue::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_spans_of_keys_and_values() {
        let text = "a: 1\nb:\n  - x\n  - \"y\"\n";
        let node = parse(text).expect("valid yaml");
        let (key, value) = node.get("b").expect("b");
        assert_eq!(&text[key.span.offset..key.span.offset + 1], "b");
        let Value::Seq(items) = &value.value else {
            panic!("b is a sequence")
        };
        assert_eq!(&text[items[0].span.offset..][..1], "x");
        assert_eq!(items[1].value, Value::Str("y".into()));
    }

    #[test]
    fn yes_and_no_stay_strings() {
        let node = parse("a: yes\nb: no\nc: true\n").expect("valid yaml");
        assert_eq!(
            node.get("a").map(|e| &e.1.value),
            Some(&Value::Str("yes".into()))
        );
        assert_eq!(
            node.get("b").map(|e| &e.1.value),
            Some(&Value::Str("no".into()))
        );
        assert_eq!(node.get("c").map(|e| &e.1.value), Some(&Value::Bool(true)));
    }

    #[test]
    fn syntax_error_has_a_location() {
        let err = parse("a: [1, 2\nb: 3\n").expect_err("unclosed flow sequence");
        assert!(err.span.is_some(), "{err:?}");
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let err = parse("a: 1\na: 2\n").expect_err("duplicate key");
        // In the spec author's words: not the parser's option for allowing duplicates.
        assert_eq!(err.message, "the key `a` appears twice in this mapping");
        assert!(err.help.is_some_and(|h| !h.contains("Policy")));
        assert_eq!(err.span.map(|s| s.offset), Some(5));
    }

    /// The parser's messages for its users, never the names of its options.
    #[test]
    fn parser_messages_name_no_parser_options() {
        for text in [
            "a: !!binary \"/w==\"\n",
            "a: 1e999\n",
            "a: .nan\n",
            "a: 1\na: 2\n",
        ] {
            let err = parse(text).expect_err("refused");
            for internal in ["Options", "policy", "Policy", "ignore_"] {
                assert!(!err.message.contains(internal), "{text:?}: {}", err.message);
            }
        }
    }

    #[test]
    fn a_tab_error_points_at_the_tab() {
        for text in [
            "a: 1\n\tb: 2\n",
            "a:\n\tb: 2\n",
            "a:\n  - x\n\t- y\n",
            "a: |\n\tfoo\n",
            "a:\n  b: 1\n  \tc: 2\n",
        ] {
            let err = parse(text).expect_err("a tab in indentation");
            let at = err.span.map(|s| s.offset);
            assert_eq!(at, text.find('\t'), "{text:?}: {err:?}");
            assert!(err.help.is_some_and(|h| h.contains("spaces")), "{text:?}");
        }
    }

    #[test]
    fn alias_bomb_is_refused_quickly() {
        let bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n\
                    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n\
                    e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n\
                    g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n";
        assert!(parse(bomb).is_err());
    }

    #[test]
    fn deep_nesting_is_refused() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(parse(&deep).is_err());
    }

    #[test]
    fn written_documents_read_back_as_the_same_value() {
        use crate::spec::document::{Organization, SpecDocument};
        let doc: SpecDocument = serde_json::from_value(serde_json::json!({
            "apiVersion": "mtoctl/v1alpha1",
            "kind": "MultiTenantOrganization",
            "organization": {"displayName": "yes", "description": "line one\nline: two"},
            "tenants": [{
                "alias": "a", "tenantId": "6babcaad-604b-40ac-a9d7-9fd97c0b779f",
                "displayName": "1e3", "role": "owner",
                "auth": {"clientId": "0d3f3c4e-5b7a-4c1e-9a8b-1c2d3e4f5a6b", "azureCli": {}}
            }]
        }))
        .expect("a document");
        let text = to_yaml(&doc).expect("serialisable");
        let back = parse(&text).expect("parses").to_json();
        let back: SpecDocument = serde_json::from_value(back).expect("same shape");
        assert_eq!(back, doc, "{text}");
        assert_eq!(
            back.organization,
            Organization {
                display_name: "yes".into(),
                description: Some("line one\nline: two".into())
            }
        );
    }

    #[test]
    fn oversized_and_empty_input_are_refused() {
        let big = "# padding\n".repeat(MAX_SPEC_BYTES / 10 + 1);
        assert!(
            parse(&big)
                .expect_err("too big")
                .message
                .contains("at most")
        );
        assert!(parse("  \n").expect_err("empty").message.contains("empty"));
    }
}
