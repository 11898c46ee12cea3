//! A spec's text with its name, and the line index that locates byte offsets in it.

use std::fmt;
use std::sync::{Arc, OnceLock};

/// A spec's text with its name, for locating and rendering findings. Cheap to clone.
#[derive(Clone)]
pub struct SourceFile(Arc<SourceInner>);

struct SourceInner {
    name: String,
    text: Arc<str>,
    /// Where each line starts, built on first use: locating thousands of findings in a
    /// 4 MiB spec must not rescan it for each.
    index: OnceLock<LineIndex>,
}

/// Byte offsets of line starts, and character counts at every [`CHUNK`] bytes, so a column is
/// counted over at most one chunk whatever the length of its line (a minified spec is one line).
struct LineIndex {
    line_starts: Vec<usize>,
    chars_before_chunk: Vec<usize>,
}

/// Bytes between two character-count checkpoints.
const CHUNK: usize = 4096;

impl LineIndex {
    fn new(text: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let mut chars_before_chunk = vec![0];
        let mut count = 0;
        for chunk in text.as_bytes().chunks(CHUNK) {
            count += char_starts(chunk);
            chars_before_chunk.push(count);
        }
        Self {
            line_starts,
            chars_before_chunk,
        }
    }

    /// Characters that start before `offset`.
    fn chars_before(&self, text: &str, offset: usize) -> usize {
        let chunk = offset / CHUNK;
        self.chars_before_chunk[chunk] + char_starts(&text.as_bytes()[chunk * CHUNK..offset])
    }
}

/// How many characters start in `bytes` (every byte but UTF-8 continuation bytes).
fn char_starts(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| (**b as i8) >= -0x40).count()
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
        Self(Arc::new(SourceInner {
            name: name.into(),
            text: text.into(),
            index: OnceLock::new(),
        }))
    }

    /// The name given at creation.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// The whole text.
    pub fn text(&self) -> &str {
        &self.0.text
    }

    fn index(&self) -> &LineIndex {
        self.0.index.get_or_init(|| LineIndex::new(self.text()))
    }

    /// 1-based line and column (in characters) of a byte offset. Offsets past the end or
    /// inside a character are clamped, so a bad span can never panic.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let text = self.text();
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_index(offset);
        let index = self.index();
        let line_start = index.line_starts[line];
        let column = index.chars_before(text, offset) - index.chars_before(text, line_start) + 1;
        (line + 1, column)
    }

    /// How many lines the text has (a final newline ends the last line; it starts none).
    pub(crate) fn line_count(&self) -> usize {
        let starts = &self.index().line_starts;
        if starts.len() > 1 && starts.last() == Some(&self.text().len()) {
            starts.len() - 1
        } else {
            starts.len()
        }
    }

    /// The 0-based line holding byte offset `offset`.
    pub(crate) fn line_index(&self, offset: usize) -> usize {
        let starts = &self.index().line_starts;
        starts.partition_point(|s| *s <= offset).saturating_sub(1)
    }

    /// The byte range of 0-based line `line`, without its line break (`\n` or `\r\n`).
    pub(crate) fn line_range(&self, line: usize) -> std::ops::Range<usize> {
        let text = self.text();
        let starts = &self.index().line_starts;
        let start = starts.get(line).copied().unwrap_or(text.len());
        let mut end = starts.get(line + 1).map_or(text.len(), |next| next - 1);
        if end > start && text.as_bytes()[end - 1] == b'\r' && end < text.len() {
            end -= 1;
        }
        start..end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The line index answers as counting from the start would, for every offset.
    #[test]
    fn line_and_column_match_a_count_from_the_start() {
        let text = format!("a: é\r\nb: {}\n\nc: 漢字 🦀\nd", "ü".repeat(5000));
        let source = SourceFile::new("s.yaml", text.as_str());
        for offset in (0..=text.len()).filter(|o| text.is_char_boundary(*o)) {
            let before = &text[..offset];
            let line = before.matches('\n').count() + 1;
            let column = before[before.rfind('\n').map_or(0, |i| i + 1)..]
                .chars()
                .count()
                + 1;
            assert_eq!(source.line_col(offset), (line, column), "at {offset}");
        }
        assert_eq!(source.line_count(), 5);
        assert_eq!(&text[source.line_range(0)], "a: é");
    }
}
