//! The whole spec pipeline (`mtoctl_model::spec::load`: decode, YAML, secrets, schema,
//! validation) on arbitrary bytes. It must never panic or hang, a refused spec must name at
//! least one error, every label must point inside the text at character boundaries, and
//! rendering the findings must not panic either.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let outcome = mtoctl_model::spec::load("fuzz.yaml", bytes);
    let diagnostics = match &outcome {
        Ok(spec) => &spec.warnings,
        Err(d) => {
            assert!(d.has_errors(), "a refused spec names at least one error");
            d
        }
    };
    let text = diagnostics.source().text();
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
    for r in diagnostics.renderable() {
        let _ = r.to_string();
    }
    let _ = diagnostics.records();
});
