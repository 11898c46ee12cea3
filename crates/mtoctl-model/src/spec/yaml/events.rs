//! The fast reading: the parser's events straight into a [`Node`] tree, without serde's layers
//! (a spec listing 190,000 users reads in a third of the time).
//!
//! It takes only documents whose every node reads the same as under serde-saphyr, and gives up
//! (`None`) on anything else, which [`super::parse`] then reads the careful way, with its error
//! messages: a parse error, an anchor, alias or tag, a key that is not plainly a string or
//! appears twice, a merge key, a second document, a plain scalar it cannot type by itself, or a
//! document near a budget. A plain scalar that starts with a letter and is no YAML word (`true`,
//! `null`, `nan`, …), or has a character no number has, is a string; other short plain scalars
//! are typed by serde-saphyr on their own (a tenant id, a number); any other gives up.

use std::borrow::Cow;

use granit_parser::{Event, Parser, ScalarStyle};

use super::super::node::{Key, Node, Span, Value};

/// The budgets the careful reading enforces, and how its parser is set up.
pub(super) struct Limits {
    /// Deepest nesting.
    pub max_depth: usize,
    /// Most nodes (scalars, sequences and mappings, keys included).
    pub max_nodes: usize,
    /// The parser's options, as serde-saphyr sets them from the same budget.
    pub parser: granit_parser::Options,
}

/// The most entries of a mapping read here (the language's largest has about twenty).
const MAX_MAP_ENTRIES: usize = 256;

/// A collection being read.
enum Open {
    Seq(Span, Vec<Node>),
    /// Entries so far, and the key whose value comes next.
    Map(Span, Vec<(Key, Node)>, Option<Key>),
}

/// The tree of `text`, or `None` when it is left to the careful reading. `typed` types a plain
/// scalar on its own (`None` when it cannot say).
pub(super) fn parse(
    text: &str,
    limits: &Limits,
    typed: impl Fn(&str) -> Option<Value>,
) -> Option<Node> {
    read(text, limits, typed, None)
}

/// The root mapping's entries up to and including `key`'s, the text after it unread; `None`
/// when the root is no mapping with that key or the reading gives up before its value ends.
pub(super) fn parse_until(
    text: &str,
    limits: &Limits,
    typed: impl Fn(&str) -> Option<Value>,
    key: &str,
) -> Option<Node> {
    read(text, limits, typed, Some(key))
}

/// [`parse`], or with `until`, [`parse_until`] that key.
fn read(
    text: &str,
    limits: &Limits,
    typed: impl Fn(&str) -> Option<Value>,
    until: Option<&str>,
) -> Option<Node> {
    let mut parser = Parser::new_from_str_with_options(text, limits.parser.clone());
    let mut open: Vec<Open> = Vec::new();
    let mut root: Option<Node> = None;
    let mut documents = 0;
    let mut nodes = 0usize;
    while let Some(next) = parser.next_event() {
        let (event, at) = next.ok()?;
        let span = span_of(&at)?;
        let is_map = matches!(event, Event::MappingStart(..));
        let done = match event {
            Event::StreamStart | Event::DocumentEnd => None,
            Event::StreamEnd => break,
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    return None;
                }
                None
            }
            Event::Scalar(value, style, anchor, tag) => {
                if anchor != 0 || tag.is_some() {
                    return None;
                }
                nodes += 1;
                if let Some(Open::Map(_, entries, key @ None)) = open.last_mut() {
                    // A key is compared with each before it: a mapping of thousands of keys is
                    // no spec, and is left to the careful reading rather than compared in
                    // quadratic time.
                    if entries.len() >= MAX_MAP_ENTRIES {
                        return None;
                    }
                    let name = key_name(value, style)?;
                    if name == "<<" || entries.iter().any(|(k, _)| k.name == name) {
                        return None;
                    }
                    *key = Some(Key { span, name });
                    None
                } else {
                    Some(Node {
                        value: scalar(value, style, &typed)?,
                        span,
                    })
                }
            }
            Event::SequenceStart(_, anchor, tag) | Event::MappingStart(_, anchor, tag) => {
                // A collection as a key, anchored or tagged: left to the careful reading.
                if anchor != 0
                    || tag.is_some()
                    || matches!(open.last(), Some(Open::Map(_, _, None)))
                    || open.len() >= limits.max_depth
                {
                    return None;
                }
                nodes += 1;
                open.push(if is_map {
                    Open::Map(span, Vec::new(), None)
                } else {
                    Open::Seq(span, Vec::new())
                });
                None
            }
            Event::SequenceEnd => match open.pop()? {
                Open::Seq(span, items) => Some(Node {
                    value: Value::Seq(items),
                    span,
                }),
                Open::Map(..) => return None,
            },
            Event::MappingEnd => match open.pop()? {
                Open::Map(span, entries, None) => Some(Node {
                    value: Value::Map(entries),
                    span,
                }),
                _ => return None,
            },
            _ => return None,
        };
        if nodes > limits.max_nodes {
            return None;
        }
        if let Some(node) = done {
            let at_root = open.len() == 1;
            match open.last_mut() {
                Some(Open::Seq(_, items)) => items.push(node),
                Some(Open::Map(span, entries, key)) => {
                    let key = key.take()?;
                    let last = at_root && until == Some(key.name.as_str());
                    entries.push((key, node));
                    if last {
                        return Some(Node {
                            value: Value::Map(std::mem::take(entries)),
                            span: *span,
                        });
                    }
                }
                None if root.is_none() => root = Some(node),
                None => return None,
            }
        }
    }
    if !open.is_empty() || until.is_some() {
        return None;
    }
    root
}

fn span_of(at: &granit_parser::Span) -> Option<Span> {
    let start = at.start.byte_offset()?;
    let end = at.end.byte_offset()?;
    Some(Span::new(start, end.saturating_sub(start)))
}

/// A key's name: quoted, or plain and plainly a string.
fn key_name(value: Cow<'_, str>, style: ScalarStyle) -> Option<String> {
    match style {
        ScalarStyle::Plain if !plainly_a_string(&value) => None,
        _ => Some(value.into_owned()),
    }
}

/// A scalar value: a string when quoted or a block; a plain one typed by its text.
fn scalar(
    value: Cow<'_, str>,
    style: ScalarStyle,
    typed: impl Fn(&str) -> Option<Value>,
) -> Option<Value> {
    if style != ScalarStyle::Plain || plainly_a_string(&value) {
        return Some(Value::Str(value.into_owned()));
    }
    if value.is_empty() {
        return Some(Value::Null);
    }
    // Only short texts of number, null and id characters are typed on their own: the same
    // characters read alone cannot start anything else (a comment, a flow, a block).
    let simple = value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-._~".contains(&b));
    if !simple {
        return None;
    }
    match typed(&value)? {
        // A string read alone must be this text: `---` alone is a document marker.
        Value::Str(s) if s == *value => Some(Value::Str(s)),
        Value::Null if matches!(&*value, "~" | "null" | "Null" | "NULL") => Some(Value::Null),
        v @ (Value::Bool(_) | Value::Int(_) | Value::Float(_)) => Some(v),
        _ => None,
    }
}

/// Whether a plain scalar is a string under YAML 1.2 with strict booleans whatever serde-saphyr
/// makes of numbers: it starts with a letter and is none of the words that read as a boolean,
/// a null or a float (Rust's float parser takes `inf`, `infinity` and `nan` in any case), or it
/// has a character no number, boolean or null has (`@`, `/`, a space, any non-ASCII one).
fn plainly_a_string(text: &str) -> bool {
    let starts_with_letter = text.chars().next().is_some_and(char::is_alphabetic);
    let is_word = ["true", "false", "null", "inf", "infinity", "nan"]
        .iter()
        .any(|word| text.eq_ignore_ascii_case(word));
    starts_with_letter && !is_word
        || text
            .bytes()
            .any(|b| !(b.is_ascii_alphanumeric() || b"+-._~:".contains(&b)))
}

#[cfg(test)]
mod tests {
    use super::super::{careful, options};
    use super::*;

    fn fast(text: &str) -> Option<Node> {
        super::super::fast(text, &options())
    }

    /// Whenever the fast reading reads `text`, the careful one reads the same tree, spans
    /// included. Returns whether the fast reading took it.
    fn same_as_careful(text: &str) -> bool {
        let Some(fast) = fast(text) else {
            return false;
        };
        match careful(text, options()) {
            Ok(careful) => assert_eq!(fast, careful, "{text:?}"),
            Err(e) => panic!("the fast reading took what the careful one refuses: {text:?}: {e:?}"),
        }
        true
    }

    #[test]
    fn every_spec_of_the_repository_reads_the_same_and_the_valid_ones_fast() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut files = Vec::new();
        for dir in ["examples", "tests/bad-specs"] {
            let mut stack = vec![root.join(dir)];
            while let Some(dir) = stack.pop() {
                for entry in std::fs::read_dir(&dir).expect("a directory").flatten() {
                    let path = entry.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                        files.push(path);
                    }
                }
            }
        }
        assert!(files.len() > 20, "{files:?}");
        for path in files {
            // Some bad specs are not UTF-8 on purpose: they never reach a YAML reader.
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let fast = same_as_careful(&text);
            if path.starts_with(root.join("examples")) && path.ends_with("mto.yaml") {
                assert!(fast, "{} was not read fast", path.display());
            }
        }
    }

    #[test]
    fn plain_scalars_are_typed_as_the_careful_reading_types_them() {
        let strings = [
            "ada@contoso.example",
            "yes",
            "no",
            "on",
            "off",
            "y",
            "Tenant",
            "e5",
            "infinite",
            "6babcaad-604b-40ac-a9d7-9fd97c0b779f",
            "00000000-0000-4000-8000-000000000001",
            "2001-12-14",
            "1.2.3",
            "0127",
            "0X1F",
            "1_000",
            "-.5e",
        ];
        let typed = [
            "true",
            "True",
            "FALSE",
            "null",
            "Null",
            "NULL",
            "~",
            "0",
            "-1",
            "+7",
            "42",
            "0x1F",
            "0o17",
            "1e3",
            "1.5",
            "-2.5E-3",
            ".5",
            "inf",
            "nan",
            ".inf",
            "-.inf",
            ".NaN",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775809",
        ];
        for scalar in strings.iter().chain(&typed) {
            for text in [
                format!("a: {scalar}\n"),
                format!("a: [x, {scalar}, y]\n"),
                format!("- {scalar}\n"),
            ] {
                same_as_careful(&text);
            }
        }
        for scalar in strings {
            assert!(same_as_careful(&format!("a: {scalar}\n")), "{scalar}");
        }
        for scalar in ["true", "null", "~", "42", "-1"] {
            assert!(same_as_careful(&format!("a: {scalar}\n")), "{scalar}");
        }
    }

    #[test]
    fn documents_it_leaves_to_the_careful_reading() {
        for text in [
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: 1\na: 2\n",
            "a: 1\n'a': 2\n",
            "<<: {b: 1}\n",
            "1: x\n",
            "? [a]\n: x\n",
            "a: 1\n---\nb: 2\n",
            "a: [1, 2\n",
            "a: x # comment: here\nb: ---\n",
            "a: b: c\n",
        ] {
            assert!(fast(text).is_none(), "{text:?}");
        }
        let deep = format!("{}x{}", "[".repeat(40), "]".repeat(40));
        assert!(fast(&deep).is_none());
        let wide: String = (0..MAX_MAP_ENTRIES + 1)
            .map(|i| format!("k{i}: 1\n"))
            .collect();
        assert!(fast(&wide).is_none());
        let widest_read: String = (0..MAX_MAP_ENTRIES).map(|i| format!("k{i}: 1\n")).collect();
        assert!(same_as_careful(&widest_read));
    }

    #[test]
    fn shapes_and_styles_read_the_same() {
        for text in [
            "a: 1\nb:\n  - x\n  - \"y\"\n",
            "a:\n  b:\n    c: [1, 'two', \"thr\\u00e9e\"]\n  d: {e: f, g: [h]}\n",
            "a: |\n  line one\n  line two\nb: >\n  folded\n  text\n",
            "a: plain text\n  continued\nb: ''\nc:\n",
            "- [a, b]\n- {c: d}\n- - e\n  - f\n",
            "\u{feff}a: 1\n",
            "# only a comment first\na: é ü 日本\nb: \"日本\"\n",
            "--- \na: 1\n...\n",
            "a: {}\nb: []\n",
            "a:\n- x\n- y\n",
        ] {
            assert!(same_as_careful(text), "{text:?}");
        }
    }

    /// A YAML text of random shape: block and flow collections, plain, quoted and odd scalars,
    /// repeated keys; much of it is not valid YAML, which the fast reading must leave alone.
    fn document() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let scalar = prop_oneof![
            proptest::sample::select(vec![
                "x",
                "yes",
                "True",
                "null",
                "~",
                "",
                "0",
                "-1",
                "1e3",
                ".inf",
                "0x1F",
                "1_0",
                "2001-12-14",
                "1:20",
                "a: b",
                "#c",
                "- d",
                "---",
                "...",
                "é",
                "[e]",
                "{f}",
                "&g",
                "*g",
                "!h",
                "|",
                ">",
                "'",
                "\"",
                "%",
                "@i",
                "j k",
                "ada@contoso.example",
                "6babcaad-604b-40ac-a9d7-9fd97c0b779f",
            ])
            .prop_map(str::to_owned),
            "[a-z0-9:#@. ,'\"-]{0,8}",
        ];
        let quoted = (scalar, 0..3u8).prop_map(|(s, q)| match q {
            0 => s,
            1 => format!("'{}'", s.replace('\'', "''")),
            _ => format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")),
        });
        let key = proptest::sample::select(vec!["a", "b", "c", "'a'", "1", "~"]);
        quoted.prop_recursive(3, 24, 4, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4)
                    .prop_map(|items| format!("[{}]", items.join(", "))),
                proptest::collection::vec((key.clone(), inner.clone()), 0..4).prop_map(|entries| {
                    let body: Vec<String> =
                        entries.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                    format!("{{{}}}", body.join(", "))
                }),
                proptest::collection::vec((key.clone(), inner), 1..4).prop_map(|entries| {
                    // A block mapping, its values indented under their keys when nested.
                    entries
                        .iter()
                        .map(|(k, v)| format!("{k}:\n  {}\n", v.replace('\n', "\n  ")))
                        .collect::<String>()
                }),
            ]
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 512, .. Default::default() })]
        #[test]
        fn random_documents_read_the_same_whenever_they_read_fast(text in document()) {
            same_as_careful(&text);
            same_as_careful(&format!("root:\n  {}\n", text.replace('\n', "\n  ")));
        }
    }
}
