//! Findings about a spec, each tied to a place in the file.
//!
//! A [`Diagnostic`] is plain data: a severity, a stable code, a message, labelled spans and a
//! hint. It implements `miette::Diagnostic` so the CLI can render it with a source snippet, and
//! converts to a [`DiagnosticRecord`] (file, line, column) for JSON output and CI annotations.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use super::node::{Path, Span};

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

/// A spec's text with its name, for locating and rendering findings. Cheap to clone.
#[derive(Clone)]
pub struct SourceFile(Arc<SourceInner>);

struct SourceInner {
    name: String,
    text: Arc<str>,
    named: miette::NamedSource<Arc<str>>,
}

impl fmt::Debug for SourceFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceFile")
            .field("name", &self.0.name)
            .field("len", &self.0.text.len())
            .finish()
    }
}

impl SourceFile {
    /// A source named `name` (usually the path given on the command line).
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> Self {
        let name = name.into();
        let text: Arc<str> = text.into();
        let named = miette::NamedSource::new(name.clone(), Arc::clone(&text));
        Self(Arc::new(SourceInner { name, text, named }))
    }

    /// The name given at creation.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// The whole text.
    pub fn text(&self) -> &str {
        &self.0.text
    }

    /// 1-based line and column (in characters) of a byte offset. Offsets past the end or
    /// inside a character are clamped, so a bad span can never panic.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let text = self.text();
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        (line, column)
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

    /// Each finding as a renderable `miette` diagnostic with the source attached.
    pub fn renderable(&self) -> impl Iterator<Item = Renderable<'_>> {
        self.items.iter().map(|diagnostic| Renderable {
            diagnostic,
            source: &self.source,
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
        if self.diagnostic.labels.is_empty() || self.diagnostic.sensitive {
            None
        } else {
            Some(&self.source.0.named)
        }
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        if self.diagnostic.labels.is_empty() || self.diagnostic.sensitive {
            return None;
        }
        let text_len = self.source.text().len();
        Some(Box::new(self.diagnostic.labels.iter().enumerate().map(
            move |(i, label)| {
                // Clamp so a span can never point past the end of the text.
                let offset = label.span.offset.min(text_len);
                let len = label.span.len.min(text_len - offset);
                let text = (!label.message.is_empty()).then(|| label.message.clone());
                if i == 0 {
                    miette::LabeledSpan::new_primary_with_span(text, (offset, len))
                } else {
                    miette::LabeledSpan::new_with_span(text, (offset, len))
                }
            },
        )))
    }
}
