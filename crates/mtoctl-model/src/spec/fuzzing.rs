//! The invariants every outcome of [`super::load`] keeps, checked on arbitrary bytes by the
//! `spec_load` fuzz target (fuzz/) and its bounded counterpart in the suite
//! (`tests/robustness.rs`), which both call this one function. Not an API for anything else.

use miette::Diagnostic as _;

use super::snippet::WINDOW;

/// The most bytes one label's snippet may hold: three lines (the label's and one of context on
/// either side), each a window of characters of up to four bytes, two ellipses and a newline.
pub const MAX_SNIPPET_BYTES: usize = 3 * (WINDOW * 4 + 2 * 3 + 1);

/// Loads `bytes` as a spec and panics if an invariant breaks: a refused spec names at least one
/// error, every label points inside the text at character boundaries, rendering the findings
/// (text and records) does not panic, and each snippet is bounded, free of control characters
/// and located exactly where the label is.
pub fn load_checked(bytes: &[u8]) {
    load_measured(bytes);
}

/// [`load_checked`], returning how many findings there are and how many bytes they take when
/// shown (messages, hints, snippets), for bounds on the whole output.
pub fn load_measured(bytes: &[u8]) -> (usize, usize) {
    let outcome = super::load("fuzz.yaml", bytes);
    let diagnostics = match &outcome {
        Ok(spec) => &spec.warnings,
        Err(d) => {
            assert!(d.has_errors(), "a refused spec names at least one error");
            d
        }
    };
    let source = diagnostics.source();
    let text = source.text();
    for d in diagnostics.items() {
        for label in &d.labels {
            let end = label.span.offset + label.span.len;
            assert!(end <= text.len(), "label beyond the text: {d:?}");
            assert!(
                text.is_char_boundary(label.span.offset) && text.is_char_boundary(end),
                "label splits a character: {d:?}"
            );
        }
    }
    let mut shown = 0;
    for r in diagnostics.renderable() {
        shown += r.to_string().len() + r.diagnostic().help.as_ref().map_or(0, String::len);
        let (Some(excerpt), Some(labels)) = (r.source_code(), r.labels()) else {
            continue;
        };
        for (label, original) in labels.zip(&r.diagnostic().labels) {
            let snippet = excerpt
                .read_span(label.inner(), 1, 1)
                .unwrap_or_else(|e| panic!("{:?}: label outside its excerpt: {e}", r.diagnostic()));
            let data = std::str::from_utf8(snippet.data()).expect("a snippet is UTF-8");
            assert!(
                data.len() <= MAX_SNIPPET_BYTES,
                "a snippet of {} bytes: {:?}",
                data.len(),
                r.diagnostic()
            );
            assert!(
                !data.chars().any(|c| c.is_control() && c != '\n'),
                "a control character reaches the terminal: {data:?}"
            );
            shown += data.len();
            // The header (`file:line:column`) is the label's own place in the spec.
            let at = excerpt
                .read_span(label.inner(), 0, 0)
                .expect("the label's place");
            let line = source.line_index(original.span.offset);
            let expected = source.line_col(original.span.offset.min(source.line_range(line).end));
            assert_eq!(
                (at.line() + 1, at.column() + 1),
                expected,
                "{:?}",
                r.diagnostic()
            );
        }
    }
    let _ = diagnostics.records();
    (diagnostics.items().len(), shown)
}

#[cfg(test)]
mod tests {
    //! Issue 19: long lines and huge inputs through the loader, with the invariants above.

    use proptest::prelude::*;

    use super::*;

    /// The quickstart example, as written.
    fn quickstart() -> String {
        let path = format!(
            "{}/../../examples/quickstart/mto.yaml",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(path).expect("the quickstart exists")
    }

    /// The quickstart as `jq -c` writes it: one line of JSON (which is YAML), with `long` as the
    /// organization's description and `extra` fields appended to the first tenant and the first
    /// sync, so findings fall after the long value on the same line.
    fn minified(long: &str, extra: &[(&str, serde_json::Value)]) -> Vec<u8> {
        let text = quickstart();
        let mut doc = crate::spec::yaml::parse(&text).expect("YAML").to_json();
        doc["organization"]["description"] = serde_json::Value::String(long.to_owned());
        for (field, value) in extra {
            doc["tenants"][0][*field] = value.clone();
            doc["sync"][0][*field] = value.clone();
        }
        serde_json::to_vec(&doc).expect("JSON")
    }

    /// The bytes each finding may take when shown, whatever the input: its message and hint
    /// (bounded by the renderer) and one snippet per label (bounded by the window).
    const SHOWN_PER_FINDING: usize = 2 * MAX_SNIPPET_BYTES + 1500;

    /// Pieces that long lines are made of: plain text, multi-byte characters, tabs, control
    /// characters (which YAML refuses in place, and JSON escapes), and YAML's own syntax.
    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z ]{1,8}",
            "\\PC{1,6}",
            "[\\x00-\\x1f\\x7f]{1,3}",
            proptest::sample::select(vec![
                "é",
                "漢字",
                "🦀",
                "\t",
                ": ",
                "- ",
                "{",
                "\u{202e}",
                "\u{1b}[31m"
            ])
            .prop_map(str::to_owned),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

        /// Issue 19: a finding past column 65,535 made the renderer panic, and long lines were
        /// shown whole. Lines of up to a few hundred thousand characters, in minified JSON and in
        /// YAML, and inputs past the size cap: no panic, and what is shown is bounded by the
        /// number of findings, never by the length of a line.
        #[test]
        fn long_lines_and_huge_inputs_never_panic_and_show_bounded_output(
            piece in piece(),
            repeat in 0usize..60_000,
            at in any::<usize>(),
            layout in 0usize..3,
        ) {
            let long = piece.repeat(repeat);
            let bytes = match layout {
                // Minified, with findings after the long value: an unknown field, a wrong enum.
                0 => minified(&long, &[("colour", "red".into()), ("userType", "member".into())]),
                // The long piece inserted anywhere in the YAML example.
                1 => {
                    let mut bytes = quickstart().into_bytes();
                    let i = at % (bytes.len() + 1);
                    bytes.splice(i..i, long.bytes());
                    bytes
                }
                // Past the size cap, as `validate -f /dev/zero` reads it.
                _ => {
                    let mut bytes = minified(&long, &[]);
                    bytes.resize(crate::spec::MAX_SPEC_BYTES + 1, b' ');
                    bytes
                }
            };
            let (findings, shown) = load_measured(&bytes);
            prop_assert!(
                shown <= findings * SHOWN_PER_FINDING,
                "{findings} findings shown in {shown} bytes"
            );
            if layout == 2 {
                let d = crate::spec::load("huge.yaml", &bytes).expect_err("too large");
                prop_assert_eq!(d.items()[0].code, "spec::too_large");
            }
        }
    }

    /// JSON and GitHub annotations keep the exact column of a finding far along a long line.
    #[test]
    fn columns_past_65535_stay_exact() {
        let long = "é".repeat(70_000);
        let bytes = minified(&long, &[("colour", "red".into())]);
        let d = crate::spec::load("one-line.json", &bytes).expect_err("unknown field");
        let text = String::from_utf8(bytes).expect("UTF-8");
        let expected = text[..text.find("\"colour\"").expect("written")]
            .chars()
            .count()
            + 1;
        let record = &d.records()[0];
        assert_eq!((record.line, record.column), (Some(1), Some(expected)));
        assert!(expected > 70_000);
    }
}
