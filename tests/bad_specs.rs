//! The hostile and mistaken spec corpus: every file under tests/bad-specs/ must produce exactly
//! the diagnostics its `# expect: CODE LINE:COLUMN` lines name (or its `.expect` sidecar, for
//! files that cannot hold a comment), no more and no fewer, without panicking.

use std::path::{Path, PathBuf};

use mtoctl_model::spec::diagnostic::Diagnostics;

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-specs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/bad-specs exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

fn expectations(path: &Path, bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut expected: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# expect: "))
        .map(|l| l.trim().to_owned())
        .collect();
    if expected.is_empty() {
        let sidecar = path.with_extension("expect");
        let sidecar = std::fs::read_to_string(&sidecar).unwrap_or_else(|_| {
            panic!(
                "{} has no `# expect:` lines and no .expect file",
                path.display()
            )
        });
        expected = sidecar
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
    }
    expected.sort();
    expected
}

fn actual(diagnostics: &Diagnostics) -> Vec<String> {
    let mut found: Vec<String> = diagnostics
        .records()
        .into_iter()
        .map(|r| match (r.line, r.column) {
            (Some(l), Some(c)) => format!("{} {l}:{c}", r.code),
            _ => r.code.to_owned(),
        })
        .collect();
    found.sort();
    found
}

#[test]
fn every_bad_spec_yields_exactly_its_expected_diagnostics() {
    let files = corpus();
    assert!(
        files.len() >= 25,
        "the corpus shrank to {} files",
        files.len()
    );
    let mut failures = Vec::new();
    for path in &files {
        let bytes = std::fs::read(path).expect("readable");
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        let found = match mtoctl_model::spec::load(name, &bytes) {
            Ok(spec) => actual(&spec.warnings),
            Err(diagnostics) => actual(&diagnostics),
        };
        let expected = expectations(path, &bytes);
        if found != expected {
            failures.push(format!(
                "{name}:\n  expected {expected:?}\n  found    {found:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn no_diagnostic_repeats_a_literal_secret() {
    for path in corpus() {
        let bytes = std::fs::read(&path).expect("readable");
        let Err(diagnostics) = mtoctl_model::spec::load("spec.yaml", &bytes) else {
            continue;
        };
        for secret in [
            "abc8Q~0123456789abcdefghijklmnopqrstuvwx",
            "Zx9.Qq8~aLb7Kp2mN0rStUvW",
        ] {
            let records = serde_json::to_string(&diagnostics.records()).expect("serialisable");
            assert!(
                !records.contains(secret),
                "{} leaks a secret",
                path.display()
            );
            for r in diagnostics.renderable() {
                assert!(
                    !r.to_string().contains(secret),
                    "{} leaks a secret",
                    path.display()
                );
            }
        }
    }
}

/// The longest line a text snippet may print: a window of the source (120 characters), two
/// ellipses, and the gutter. A minified spec is one line of megabytes.
const MAX_RENDERED_LINE: usize = 160;

/// The longest message or hint line (a hint may list a spec's tenants).
const MAX_MESSAGE_LINE: usize = 1100;

/// Every finding of the corpus renders as `mtoctl validate` shows it on a terminal (miette's
/// graphical handler, as `render_text` sets it up) without panicking, with no line longer than
/// a window of the source, and with no control character of the spec reaching the terminal.
#[test]
fn every_bad_spec_renders_a_bounded_snippet() {
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor());
    let mut failures = Vec::new();
    for path in corpus() {
        let bytes = std::fs::read(&path).expect("readable");
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        let diagnostics = match mtoctl_model::spec::load(name, &bytes) {
            Ok(spec) => spec.warnings,
            Err(diagnostics) => diagnostics,
        };
        for finding in diagnostics.renderable() {
            let mut out = String::new();
            let rendered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                handler.render_report(&mut out, &finding)
            }));
            if !matches!(rendered, Ok(Ok(()))) {
                failures.push(format!(
                    "{name}: `{}` did not render",
                    finding.diagnostic().code
                ));
                continue;
            }
            // Source lines (` 12 │ …`) show a window; messages and hints are bounded apart.
            let too_long = |l: &&str| {
                let n = l.chars().count();
                n > MAX_MESSAGE_LINE || (l.contains(" │ ") && n > MAX_RENDERED_LINE)
            };
            if let Some(line) = out.lines().find(too_long) {
                failures.push(format!(
                    "{name}: a line of {} characters: {:.200}",
                    line.chars().count(),
                    line
                ));
            }
            if let Some(c) = out.chars().find(|c| c.is_control() && *c != '\n') {
                failures.push(format!("{name}: control character {c:?} in {out:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
