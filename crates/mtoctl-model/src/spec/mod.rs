//! The spec language: reading a spec file into a validated [`DesiredState`].
//!
//! [`load`] runs the whole pipeline and reports every problem it finds in one go:
//!
//! 1. decoding: UTF-8, size, emptiness;
//! 2. [`yaml`]: YAML syntax into a tree of spanned nodes (bounded against hostile input);
//! 3. [`secrets`]: literal secrets anywhere in the document;
//! 4. [`schema`]: the document's shape against the JSON Schema generated from [`document`];
//! 5. [`validate`]: meaning — ids, references between aliases, contradictions, feasibility.
//!
//! It does no I/O: the caller reads the file and passes its name and bytes.

pub mod diagnostic;
pub mod document;
pub mod export_input;
#[doc(hidden)]
pub mod fuzzing;
pub mod node;
pub mod reference;
pub mod schema;
pub mod secrets;
pub mod suggest;
pub mod validate;
pub mod yaml;

use diagnostic::{Diagnostic, Diagnostics, SourceFile};
use node::Span;

use crate::desired::DesiredState;

/// A spec that validated: its desired state, and any warnings.
#[derive(Debug, Clone)]
pub struct ValidSpec {
    /// What the spec asks for.
    pub desired: DesiredState,
    /// Warnings (no errors), with the source for rendering.
    pub warnings: Diagnostics,
}

/// Reads and validates a spec. `name` is how findings refer to the file (usually its path).
pub fn load(name: &str, bytes: &[u8]) -> Result<ValidSpec, Diagnostics> {
    let (source, root) = read(name, bytes)?;
    let (findings, outcome) = check(&root);
    let diagnostics = Diagnostics::new(source, findings);
    match outcome.desired {
        Some(desired) if !diagnostics.has_errors() => Ok(ValidSpec {
            desired,
            warnings: diagnostics,
        }),
        _ => Err(diagnostics),
    }
}

/// Decodes and parses a document: its source and node tree, or the finding that stopped it
/// (not UTF-8, not YAML). Shared by every reader of the spec language.
pub(crate) fn read(name: &str, bytes: &[u8]) -> Result<(SourceFile, node::Node), Diagnostics> {
    let text = match decode(bytes) {
        Ok(text) => text,
        Err(diagnostic) => {
            let lossy = String::from_utf8_lossy(bytes).into_owned();
            return Err(Diagnostics::new(
                SourceFile::new(name, lossy),
                vec![diagnostic],
            ));
        }
    };
    let source = SourceFile::new(name, text);
    match yaml::parse(source.text()) {
        Ok(root) => Ok((source, root)),
        Err(err) => {
            let mut d = Diagnostic::error("spec::syntax", format!("invalid YAML: {}", err.message));
            if let Some(span) = err.span {
                d = d.label(span, "here");
            }
            if let Some(help) = err.help {
                d = d.help(help);
            }
            Err(Diagnostics::new(source, vec![d]))
        }
    }
}

/// The later stages over a parsed document: literal secrets, the shape check against the
/// schema and the semantic rules (which skip whatever an earlier stage removed). Every finding
/// (moved out of the outcome), and what the rules could build.
pub(crate) fn check(root: &node::Node) -> (Vec<Diagnostic>, validate::Outcome) {
    let (mut findings, secret_paths) = secrets::scan(root);
    let structural = schema::check(root, &secret_paths);
    let mut removed = secret_paths;
    removed.extend(
        structural
            .iter()
            .filter(|d| d.code == "spec::unknown_field")
            .filter_map(|d| d.path.clone()),
    );
    findings.extend(structural);
    let mut outcome = validate::validate(root, &removed);
    findings.append(&mut outcome.findings);
    (findings, outcome)
}

/// Bytes to text: UTF-8 only (a UTF-8 byte-order mark is allowed and dropped).
fn decode(bytes: &[u8]) -> Result<String, Diagnostic> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(
            Diagnostic::error("spec::encoding", "the spec is UTF-16; mtoctl reads UTF-8")
                .help("save the file as UTF-8 (in PowerShell: `Set-Content -Encoding utf8`)"),
        );
    }
    let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    std::str::from_utf8(body).map(str::to_owned).map_err(|e| {
        // Located in the text the findings are shown against: the whole file (BOM included)
        // decoded lossily, where the bytes before `at` are unchanged and the invalid sequence
        // became one U+FFFD. A one-byte label would split that character (found by fuzzing).
        let at = bytes.len() - body.len() + e.valid_up_to();
        Diagnostic::error(
            "spec::encoding",
            format!("the spec is not valid UTF-8 (invalid byte at offset {at})"),
        )
        .label(
            Span::new(at, char::REPLACEMENT_CHARACTER.len_utf8()),
            "invalid byte",
        )
        .help("save the file as UTF-8")
    })
}
