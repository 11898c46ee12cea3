//! `mtoctl validate -f SPEC`: offline checks, every finding at once.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use mtoctl_model::spec::diagnostic::{DiagnosticRecord, Diagnostics, Severity};
use serde::Serialize;

use crate::args::{DiagnosticFormat, ValidateArgs};
use crate::output::Printer;

/// The version of the `--format json` report (docs/json-output.md): a minor version adds keys,
/// a major one changes or removes some.
pub const FORMAT_VERSION: &str = "1.0";

pub fn run(printer: &Printer, args: &ValidateArgs) -> anyhow::Result<ExitCode> {
    let (name, bytes) = read_spec(&args.file)?;
    let (valid, diagnostics, summary) = match mtoctl_model::spec::load(&name, &bytes) {
        Ok(spec) => {
            let d = &spec.desired;
            let summary = format!(
                "{name} is valid: {} tenants, {} sync directions",
                d.tenants.len(),
                d.syncs.len()
            );
            (true, spec.warnings, summary)
        }
        Err(diagnostics) => {
            let summary = format!(
                "{name} is invalid: {} errors, {} warnings",
                diagnostics.error_count(),
                diagnostics.warning_count()
            );
            (false, diagnostics, summary)
        }
    };
    match args.format {
        DiagnosticFormat::Text => {
            printer.err(&render_text(&diagnostics, printer.color()));
            printer.out(&format!("{summary}\n"))?;
        }
        DiagnosticFormat::Json => {
            let report = JsonReport {
                format_version: FORMAT_VERSION,
                file: &name,
                valid,
                error_count: diagnostics.error_count(),
                warning_count: diagnostics.warning_count(),
                diagnostics: diagnostics.records(),
            };
            printer.out(&format!("{}\n", serde_json::to_string_pretty(&report)?))?;
        }
        DiagnosticFormat::Github => printer.out(&render_github(&diagnostics))?,
    }
    Ok(if valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Reads the spec, or standard input for `-`. The name is what findings call the file.
///
/// Reads at most one byte more than the largest spec mtoctl accepts, from files, FIFOs and
/// standard input alike: `/dev/zero` or `yes |` would otherwise fill memory. The spec loader
/// refuses the extra byte, naming the file and the limit.
pub fn read_spec(path: &Path) -> anyhow::Result<(String, Vec<u8>)> {
    let limit = mtoctl_model::spec::MAX_SPEC_BYTES as u64 + 1;
    if path.as_os_str() == "-" {
        let bytes = read_at_most(std::io::stdin().lock(), limit)
            .context("cannot read the spec from standard input")?;
        return Ok(("<stdin>".to_owned(), bytes));
    }
    let name = path.display().to_string();
    let bytes = std::fs::File::open(path)
        .and_then(|file| read_at_most(file, limit))
        .with_context(|| format!("cannot read the spec `{name}`"))?;
    Ok((name, bytes))
}

/// Up to `limit` bytes of `reader`: whatever it holds, if less.
pub(crate) fn read_at_most(reader: impl Read, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader.take(limit).read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[derive(Serialize)]
struct JsonReport<'a> {
    format_version: &'static str,
    file: &'a str,
    valid: bool,
    error_count: usize,
    warning_count: usize,
    diagnostics: Vec<DiagnosticRecord>,
}

/// Findings with source snippets, as miette renders them.
pub fn render_text(diagnostics: &Diagnostics, color: bool) -> String {
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme);
    let mut out = String::new();
    for renderable in diagnostics.renderable() {
        if handler.render_report(&mut out, &renderable).is_err() {
            // The renderer failed (it should not): fall back to the bare message.
            out.push_str(&format!("{renderable}\n"));
        }
        out.push('\n');
    }
    out
}

/// GitHub Actions workflow commands; see "Workflow commands for GitHub Actions".
fn render_github(diagnostics: &Diagnostics) -> String {
    let mut out = String::new();
    for r in diagnostics.records() {
        let level = match r.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut props = vec![format!("file={}", escape_property(&r.file))];
        if let (Some(line), Some(col)) = (r.line, r.column) {
            props.push(format!("line={line}"));
            props.push(format!("col={col}"));
        }
        if let (Some(line), Some(col)) = (r.end_line, r.end_column) {
            props.push(format!("endLine={line}"));
            props.push(format!("endColumn={col}"));
        }
        props.push(format!("title={}", escape_property(r.code)));
        let mut message = r.message.clone();
        if let Some(help) = &r.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        out.push_str(&format!(
            "::{level} {}::{}\n",
            props.join(","),
            escape_data(&message)
        ));
    }
    out
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}
