//! The spec language: reading a spec file into a validated [`DesiredState`].
//!
//! [`load`] runs the whole pipeline and reports every problem it finds in one go:
//!
//! 1. decoding: size (at most [`MAX_SPEC_BYTES`]), binary files, UTF-8, emptiness;
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
pub mod locate;
pub mod node;
pub mod reference;
pub mod schema;
pub mod secrets;
mod snippet;
pub mod suggest;
pub mod validate;
pub mod yaml;

use diagnostic::{Diagnostic, Diagnostics, SourceFile};
use node::Span;
pub use yaml::MAX_SPEC_BYTES;

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

/// The tenants of a spec, read ahead of the rest of it so that signing in to them can begin
/// while the rest is checked: the UTF-8 YAML text is read up to the end of its top-level
/// `tenants` entry (all of it when that entry comes last), and the tenants are returned only
/// when the literal-secret scan, the shape check and the tenants' own rules find nothing wrong
/// in them. `None` otherwise; [`load`] still decides whether the spec is valid and what its
/// tenants are.
pub fn tenants_ahead(bytes: &[u8]) -> Option<Vec<crate::desired::TenantSpec>> {
    let text = std::str::from_utf8(bytes).ok()?;
    let root = yaml::parse_until(text, "tenants")?;
    let (secret_findings, secret_paths) = secrets::scan(&root);
    let structure = schema::walk(&root, &secret_paths);
    let tenants = node::Path::root().key("tenants");
    // The document's other sections are not there yet: only what concerns the tenants counts.
    let about_tenants = |d: &Diagnostic| {
        d.severity == diagnostic::Severity::Error
            && d.path.as_ref().is_none_or(|p| p.starts_with(&tenants))
    };
    if secret_findings
        .iter()
        .chain(&structure.findings)
        .any(about_tenants)
    {
        return None;
    }
    validate::tenants_alone(&root)
}

/// Decodes and parses a document: its source and node tree, or the finding that stopped it
/// (not UTF-8, not YAML). Shared by every reader of the spec language.
pub(crate) fn read(name: &str, bytes: &[u8]) -> Result<(SourceFile, node::Node), Diagnostics> {
    // Callers read at most one byte more than the cap (`MAX_SPEC_BYTES + 1`), so the size
    // is known only to exceed it.
    if bytes.len() > MAX_SPEC_BYTES {
        let d = Diagnostic::error(
            "spec::too_large",
            format!(
                "`{name}` is larger than {} MiB ({MAX_SPEC_BYTES} bytes), the most mtoctl reads as a spec",
                MAX_SPEC_BYTES / (1024 * 1024)
            ),
        )
        .help(
            "check that this is the spec; a spec this size would list tens of thousands of \
             users, so put large populations into groups and list the groups in `scope.groups`",
        );
        return Err(Diagnostics::new(SourceFile::new(name, ""), vec![d]));
    }
    if looks_binary(bytes) {
        let d = Diagnostic::error(
            "spec::encoding",
            format!("`{name}` is a binary file, not a YAML spec"),
        )
        .help("pass the spec file: YAML text in UTF-8 (for example examples/quickstart/mto.yaml)");
        // No snippet: the bytes would only garble the terminal.
        return Err(Diagnostics::new(SourceFile::new(name, ""), vec![d]));
    }
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
    let structure = schema::walk(root, &secret_paths);
    let mut removed = secret_paths;
    let mut wrong = Vec::new();
    for d in &structure.findings {
        match (d.code, &d.path) {
            ("spec::unknown_field", Some(path)) => removed.push(path.clone()),
            ("spec::type" | "spec::invalid_value", Some(path)) => wrong.push(path.clone()),
            _ => {}
        }
    }
    findings.extend(structure.findings);
    // The semantic rules run in the same pass, on everything the structural findings leave
    // readable: a wrong value in one field must not hide what is wrong with its siblings.
    let mut outcome = validate::validate_with(root, &removed, &wrong, &structure.stand_ins);
    findings.append(&mut outcome.findings);
    (findings, outcome)
}

/// Whether the bytes are evidently not text: nearly a third of the first 8 KiB control
/// characters (NUL among them) or invalid UTF-8. UTF-16, which is half NULs, is told apart.
fn looks_binary(bytes: &[u8]) -> bool {
    let sample = &bytes[..bytes.len().min(8192)];
    if utf16_without_bom(sample) {
        return false;
    }
    let text = String::from_utf8_lossy(sample);
    let total = text.chars().count();
    let odd = text
        .chars()
        .filter(|c| {
            *c == char::REPLACEMENT_CHARACTER || (c.is_control() && !"\t\n\r\u{c}".contains(*c))
        })
        .count();
    // Text with a few stray bytes (Latin-1 accents) gets a located finding instead.
    total > 0 && odd * 10 > total * 3
}

/// Whether the bytes look like UTF-16 written without a byte-order mark: ASCII with a NUL
/// after (little-endian) or before (big-endian) every character.
fn utf16_without_bom(sample: &[u8]) -> bool {
    let pairs: Vec<&[u8]> = sample.chunks_exact(2).take(64).collect();
    pairs.len() >= 2
        && (pairs.iter().all(|p| p[0] != 0 && p[1] == 0)
            || pairs.iter().all(|p| p[0] == 0 && p[1] != 0))
}

/// Bytes to text: UTF-8 only (a UTF-8 byte-order mark is allowed and dropped).
fn decode(bytes: &[u8]) -> Result<String, Diagnostic> {
    if bytes.starts_with(&[0xFF, 0xFE])
        || bytes.starts_with(&[0xFE, 0xFF])
        || utf16_without_bom(&bytes[..bytes.len().min(8192)])
    {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn only_finding(bytes: &[u8]) -> Diagnostic {
        let d = load("spec.yaml", bytes).expect_err("refused");
        assert_eq!(d.items().len(), 1, "{:?}", d.items());
        d.items()[0].clone()
    }

    #[test]
    fn more_than_the_cap_is_refused_naming_the_file_and_the_limit() {
        let d = only_finding(&vec![b'#'; MAX_SPEC_BYTES + 1]);
        assert_eq!(d.code, "spec::too_large");
        assert_eq!(
            d.message,
            "`spec.yaml` is larger than 4 MiB (4194304 bytes), the most mtoctl reads as a spec"
        );
    }

    /// Issue 19: a binary file's snippet echoed its bytes and could number its line 0.
    #[test]
    fn a_binary_file_is_named_as_one_without_a_snippet() {
        let mut elf = b"\x7fELF\x02\x01\x01\x00".to_vec();
        elf.extend((0..=255u8).cycle().take(600));
        let d = only_finding(&elf);
        assert_eq!(d.code, "spec::encoding");
        assert_eq!(d.message, "`spec.yaml` is a binary file, not a YAML spec");
        assert!(d.labels.is_empty());
    }

    #[test]
    fn text_with_a_stray_byte_is_located_and_utf16_is_named_with_or_without_bom() {
        let d = only_finding(b"apiVersion: mtoctl/v1alpha1\nkind: Multi\xe9\n");
        assert_eq!(d.code, "spec::encoding");
        assert_eq!(d.primary_span().map(|s| s.offset), Some(39));
        let utf16: Vec<u8> = "apiVersion: mtoctl/v1alpha1\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert!(only_finding(&utf16).message.contains("UTF-16"));
    }
}
