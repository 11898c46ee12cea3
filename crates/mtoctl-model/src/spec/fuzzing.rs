//! The invariants every outcome of [`super::load`] keeps, checked on arbitrary bytes by the
//! `spec_load` fuzz target (fuzz/) and its bounded counterpart in the suite
//! (`tests/robustness.rs`), which both call this one function. Not an API for anything else.

/// Loads `bytes` as a spec and panics if an invariant breaks: a refused spec names at least one
/// error, every label points inside the text at character boundaries, and rendering the
/// findings (text and records) does not panic.
pub fn load_checked(bytes: &[u8]) {
    let outcome = super::load("fuzz.yaml", bytes);
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
}
