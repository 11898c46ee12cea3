//! Findings about a spec, each tied to a place in the file.
//!
//! A [`Diagnostic`] is plain data: a severity, a stable code, a message, labelled spans and a
//! hint. It implements `miette::Diagnostic` so the CLI can render it with a source snippet, and
//! converts to a [`DiagnosticRecord`] (file, line, column) for JSON output and CI annotations.
//!
//! The spec's text, which findings point into, is a [`SourceFile`] (`source`).

mod source;

use std::fmt;

use serde::Serialize;

use super::node::{Path, Span};
use super::snippet::{Excerpt, visible};

pub use source::SourceFile;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The spec is invalid.
    Error,
    /// The spec is valid but probably not what was meant.
    Warning,
}

/// A span with a short explanation, shown under the source line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// What is pointed at.
    pub span: Span,
    /// The explanation.
    pub message: String,
}

/// One finding about a spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A stable identifier such as `spec::unknown_field`, for documentation and tooling.
    pub code: &'static str,
    /// What is wrong, in one sentence.
    pub message: String,
    /// The document path concerned, when there is one.
    pub path: Option<Path>,
    /// The primary label first, then secondary ones (such as a first definition).
    pub labels: Vec<Label>,
    /// What to do about it.
    pub help: Option<String>,
    /// The finding is about a secret: renderers show where it is but never the source text.
    pub sensitive: bool,
}

impl Diagnostic {
    /// A new error.
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            code,
            message: message.into(),
            path: None,
            labels: Vec::new(),
            help: None,
            sensitive: false,
        }
    }

    /// A new warning.
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(code, message)
        }
    }

    /// Attaches the document path.
    pub fn at_path(mut self, path: Path) -> Self {
        self.path = Some(path);
        self
    }

    /// Adds a label.
    pub fn label(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// Sets the hint.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Marks the finding as being about a secret.
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// The primary span, if the finding has a place.
    pub fn primary_span(&self) -> Option<Span> {
        self.labels.first().map(|l| l.span)
    }
}

/// Every finding about one spec, with its source.
#[derive(Debug, Clone)]
pub struct Diagnostics {
    source: SourceFile,
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Findings about `source`, sorted by position so they read top to bottom.
    pub fn new(source: SourceFile, mut items: Vec<Diagnostic>) -> Self {
        for d in &mut items {
            d.message = tidy(&d.message, MESSAGE_MAX);
            d.help = d.help.as_deref().map(|h| tidy(h, HELP_MAX));
            for label in &mut d.labels {
                label.message = tidy(&label.message, MESSAGE_MAX);
            }
        }
        items.sort_by_key(|d| (d.primary_span().map_or(0, |s| s.offset), d.severity, d.code));
        items.dedup();
        // A snippet shows the lines around its label; none may show a line holding a secret.
        let secret_lines: Vec<usize> = items
            .iter()
            .filter(|d| d.sensitive)
            .filter_map(|d| d.primary_span())
            .map(|s| source.line_col(s.offset).0)
            .collect();
        for d in &mut items {
            let near_secret = d.labels.iter().any(|l| {
                let line = source.line_col(l.span.offset).0;
                secret_lines.iter().any(|s| s.abs_diff(line) <= 2)
            });
            d.sensitive |= near_secret;
        }
        Self { source, items }
    }

    /// The source the findings are about.
    pub fn source(&self) -> &SourceFile {
        &self.source
    }

    /// The findings.
    pub fn items(&self) -> &[Diagnostic] {
        &self.items
    }

    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.error_count() > 0
    }

    /// How many findings are errors.
    pub fn error_count(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    /// How many findings are warnings.
    pub fn warning_count(&self) -> usize {
        self.items.len() - self.error_count()
    }

    /// Each finding as a renderable `miette` diagnostic with an excerpt of the source
    /// attached: the lines of its labels, long ones cut to a window around them.
    pub fn renderable(&self) -> impl Iterator<Item = Renderable<'_>> {
        self.items.iter().map(|diagnostic| Renderable {
            diagnostic,
            source: &self.source,
            excerpt: (!diagnostic.labels.is_empty() && !diagnostic.sensitive)
                .then(|| Excerpt::new(&self.source, &diagnostic.labels)),
        })
    }

    /// Each finding as a flat record with file, line and column.
    pub fn records(&self) -> Vec<DiagnosticRecord> {
        self.items
            .iter()
            .map(|d| {
                let (line, column, end_line, end_column) = match d.primary_span() {
                    Some(span) => {
                        let (l, c) = self.source.line_col(span.offset);
                        let (el, ec) = self.source.line_col(span.offset + span.len);
                        (Some(l), Some(c), Some(el), Some(ec))
                    }
                    None => (None, None, None, None),
                };
                DiagnosticRecord {
                    severity: d.severity,
                    code: d.code,
                    message: d.message.clone(),
                    file: self.source.name().to_owned(),
                    line,
                    column,
                    end_line,
                    end_column,
                    path: d.path.as_ref().map(ToString::to_string),
                    help: d.help.clone(),
                }
            })
            .collect()
    }
}

/// The most characters of a value a message quotes whole (between backticks), more than any
/// document path: a key or value of a megabyte is shown by its start and end.
const QUOTE_MAX: usize = 120;

/// The most characters of a message, and of a hint (which may list a spec's tenants).
const MESSAGE_MAX: usize = 400;
const HELP_MAX: usize = 1000;

/// A message as it may be shown: quoted values shortened, control characters visible (a spec
/// must not drive the terminal), no word longer than a quote, at most `max` characters.
fn tidy(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max * 4));
    let pieces: Vec<&str> = text.split('`').collect();
    for (i, piece) in pieces.iter().enumerate() {
        if i > 0 {
            out.push('`');
        }
        // Odd pieces are quoted when a closing backtick follows.
        let quoted = i % 2 == 1 && i + 1 < pieces.len();
        if quoted {
            push_shortened(&mut out, piece);
        } else {
            out.extend(piece.chars().map(visible));
        }
    }
    // A value with backticks of its own upsets the pairing above; a run without spaces
    // cannot be wrapped, so each is shortened as a quote would be.
    let mut out = shorten_words(&out);
    if out.chars().count() > max {
        out = out.chars().take(max - 1).collect();
        out.push('…');
    }
    out
}

/// `piece` with its control characters visible, by its start and end if over [`QUOTE_MAX`].
fn push_shortened(out: &mut String, piece: &str) {
    let count = piece.chars().count();
    if count > QUOTE_MAX {
        out.extend(piece.chars().take(QUOTE_MAX - 20).map(visible));
        out.push('…');
        out.extend(piece.chars().skip(count - 19).map(visible));
    } else {
        out.extend(piece.chars().map(visible));
    }
}

/// `text` with every run of non-space characters longer than [`QUOTE_MAX`] shortened.
fn shorten_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        push_shortened(&mut out, &rest[..word_end]);
        rest = &rest[word_end..];
        let space_end = rest
            .find(|c: char| !c.is_whitespace())
            .unwrap_or(rest.len());
        out.push_str(&rest[..space_end]);
        rest = &rest[space_end..];
    }
    out
}

/// A finding flattened for machines (`--format json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiagnosticRecord {
    /// `error` or `warning`.
    pub severity: Severity,
    /// Stable code.
    pub code: &'static str,
    /// The message.
    pub message: String,
    /// The spec file.
    pub file: String,
    /// 1-based line of the start, when located.
    pub line: Option<usize>,
    /// 1-based column of the start.
    pub column: Option<usize>,
    /// 1-based line of the end.
    pub end_line: Option<usize>,
    /// 1-based column of the end.
    pub end_column: Option<usize>,
    /// Document path, such as `tenants[1].tenantId`.
    pub path: Option<String>,
    /// The hint.
    pub help: Option<String>,
}

/// A [`Diagnostic`] bound to its source, for `miette` rendering.
#[derive(Debug)]
pub struct Renderable<'a> {
    diagnostic: &'a Diagnostic,
    source: &'a SourceFile,
    /// What the snippet shows; `None` for a finding without place or about a secret.
    excerpt: Option<Excerpt>,
}

impl Renderable<'_> {
    /// The finding.
    pub fn diagnostic(&self) -> &Diagnostic {
        self.diagnostic
    }
}

impl fmt::Display for Renderable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)?;
        // Without a snippet, the location goes into the message itself.
        if self.diagnostic.sensitive
            && let Some(span) = self.diagnostic.primary_span()
        {
            let (line, column) = self.source.line_col(span.offset);
            write!(f, " ({}:{line}:{column})", self.source.name())?;
        }
        Ok(())
    }
}

impl std::error::Error for Renderable<'_> {}

impl miette::Diagnostic for Renderable<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.diagnostic.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diagnostic
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.excerpt.as_ref().map(|e| e as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let excerpt = self.excerpt.as_ref()?;
        Some(Box::new(excerpt.labels().iter().enumerate().map(
            |(i, label)| {
                let text = (!label.message.is_empty()).then(|| label.message.clone());
                let span = (label.span.offset, label.span.len);
                if i == 0 {
                    miette::LabeledSpan::new_primary_with_span(text, span)
                } else {
                    miette::LabeledSpan::new_with_span(text, span)
                }
            },
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_quote_long_values_by_their_ends_and_show_no_control_characters() {
        let key = format!("k{}z", "x".repeat(100_000));
        let shown = tidy(
            &format!("unknown field `{key}` here \u{1b}[2J"),
            MESSAGE_MAX,
        );
        assert!(shown.len() < 400, "{shown}");
        assert!(shown.starts_with("unknown field `kxxx"), "{shown}");
        assert!(
            shown.contains("x…x") && shown.ends_with("xxz` here ␛[2J"),
            "{shown}"
        );
        assert_eq!(
            tidy("`tenants[0].auth.clientId` is `x`", MESSAGE_MAX),
            "`tenants[0].auth.clientId` is `x`"
        );
    }

    /// A value made of backticks pairs its quotes wrongly; still no word of it runs past a
    /// quote's length, which a terminal could not wrap (seen in CI: a 169-column line).
    #[test]
    fn a_value_with_backticks_of_its_own_is_still_shortened() {
        let value = format!("tr{}ue", "`".repeat(157));
        let shown = tidy(
            &format!("`{value}` is not of type `boolean` at `tenants`"),
            MESSAGE_MAX,
        );
        let longest = shown.split(' ').map(|w| w.chars().count()).max();
        assert_eq!(longest, Some(QUOTE_MAX), "{shown}");
        assert!(
            shown.starts_with("`tr```")
                && shown.ends_with("` is not of type `boolean` at `tenants`"),
            "{shown}"
        );
        assert!(shown.contains('…'), "{shown}");
    }
}
