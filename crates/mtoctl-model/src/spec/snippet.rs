//! What a text renderer shows of the source around a finding: an excerpt, never the file.
//!
//! A finding's snippet is the line of each label with one line of context on either side. A
//! line longer than [`WINDOW`] characters (a minified JSON spec is one line of megabytes) is
//! cut to a window of that many characters around its labels, with an ellipsis where it was
//! cut, so a snippet's size is bounded whatever the input. Control characters and
//! bidirectional overrides are shown as visible symbols, so a spec cannot drive the terminal.
//! Line numbers and the `file:line:column` header stay those of the original text; only
//! machine formats (JSON, GitHub annotations) need no excerpt, as they carry no source text.

use std::ops::Range;

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

use super::diagnostic::{Label, SourceFile};

/// The most characters of one line a snippet shows. Wide enough for any hand-written line of
/// a spec, so only generated one-liners are ever cut.
pub const WINDOW: usize = 120;

/// Lines of context shown above and below each label (miette's default).
const CONTEXT: usize = 1;

/// Marks where a line was cut.
const ELLIPSIS: char = '…';

/// The lines a finding's snippet shows, rebuilt as a small text of their own, and its labels
/// moved into that text. Implements [`SourceCode`] for miette, reporting the original line
/// numbers and columns.
#[derive(Debug)]
pub(crate) struct Excerpt {
    name: String,
    text: String,
    lines: Vec<ExcerptLine>,
    labels: Vec<Label>,
}

/// One shown line: where it is in the excerpt, and where it came from.
#[derive(Debug)]
struct ExcerptLine {
    /// Byte range of its shown text in the excerpt (without the newline).
    range: Range<usize>,
    /// Lines of one block are consecutive in the source; blocks are not.
    block: usize,
    /// 0-based line in the source.
    line: usize,
    /// 0-based column (in characters) of the first shown source character.
    column: usize,
    /// Bytes of the leading ellipsis when the line was cut on the left, else 0.
    lead: usize,
}

/// A label's place: its line, and its start and end as byte offsets into the source.
#[derive(Debug, Clone, Copy)]
struct Anchor {
    label: usize,
    line: usize,
    start: usize,
    end: usize,
}

/// Lines around one or more nearby labels, with the byte window each long line shows.
#[derive(Debug)]
struct Block {
    first: usize,
    last: usize,
    anchors: Vec<Anchor>,
}

impl Excerpt {
    /// The excerpt showing `labels` of `source`.
    pub(crate) fn new(source: &SourceFile, labels: &[Label]) -> Self {
        let text = source.text();
        let mut anchors: Vec<Anchor> = labels
            .iter()
            .enumerate()
            .map(|(i, label)| {
                let at = floor_boundary(text, label.span.offset.min(text.len()));
                let line = source.line_index(at);
                let line_end = source.line_range(line).end;
                // A label on a line's newline is shown just after its last character.
                let start = at.min(line_end);
                // A label is shown on its first line only: a span over many lines would be a
                // snippet of many lines.
                let end = floor_boundary(text, (label.span.offset + label.span.len).min(line_end));
                Anchor {
                    label: i,
                    line,
                    start,
                    end: end.max(start),
                }
            })
            .collect();
        anchors.sort_by_key(|a| (a.line, a.start, a.label));

        let last_line = source.line_count().saturating_sub(1);
        let mut blocks: Vec<Block> = Vec::new();
        for anchor in anchors {
            let first = anchor.line.saturating_sub(CONTEXT);
            // The end of a text that ends with a newline is a line of its own, after the last.
            let last = (anchor.line + CONTEXT).min(last_line).max(anchor.line);
            // Blocks one line apart are joined: the line between reads better than a break.
            if let Some(block) = blocks.last_mut()
                && first <= block.last + 2
                && fits_with(source, &block.anchors, &anchor)
            {
                block.last = block.last.max(last);
                block.anchors.push(anchor);
                continue;
            }
            blocks.push(Block {
                first,
                last,
                anchors: vec![anchor],
            });
        }

        let mut excerpt = Excerpt {
            name: source.name().to_owned(),
            text: String::new(),
            lines: Vec::new(),
            labels: labels.to_vec(),
        };
        for (b, block) in blocks.iter().enumerate() {
            excerpt.push_block(source, b, block);
        }
        excerpt
    }

    /// The labels, with spans into the excerpt.
    pub(crate) fn labels(&self) -> &[Label] {
        &self.labels
    }

    fn push_block(&mut self, source: &SourceFile, b: usize, block: &Block) {
        let text = source.text();
        // Context lines are windowed at the byte column of the block's first label, so that
        // indented YAML still lines up (bytes, not characters: counting the characters of a
        // megabyte line for each finding would cost more than the finding).
        let indent = block
            .anchors
            .first()
            .map_or(0, |a| a.start - source.line_range(a.line).start);
        for line in block.first..=block.last {
            let range = source.line_range(line);
            let on_line: Vec<&Anchor> = block.anchors.iter().filter(|a| a.line == line).collect();
            let window = match on_line.first() {
                Some(first) => {
                    let hi = on_line.iter().map(|a| a.end).max().unwrap_or(first.end);
                    window(text, range.clone(), first.start, hi)
                }
                None => {
                    let at = floor_boundary(text, (range.start + indent).min(range.end));
                    window(text, range.clone(), at, at)
                }
            };
            let shown_start = self.text.len();
            let lead = if window.start > range.start {
                self.text.push(ELLIPSIS);
                ELLIPSIS.len_utf8()
            } else {
                0
            };
            // Where each source byte offset of the window landed in the excerpt.
            let mut moved: Vec<(usize, usize)> = Vec::with_capacity(WINDOW + 1);
            for (i, c) in text[window.clone()].char_indices() {
                moved.push((window.start + i, self.text.len()));
                self.text.push(visible(c));
            }
            moved.push((window.end, self.text.len()));
            if window.end < range.end {
                self.text.push(ELLIPSIS);
            }
            let shown_end = self.text.len();
            self.text.push('\n');
            let at = |offset: usize| {
                let i = moved.partition_point(|(from, _)| *from < offset);
                moved.get(i).map_or(shown_end, |(_, to)| *to)
            };
            for anchor in on_line {
                let start = at(anchor.start.clamp(window.start, window.end));
                let end = at(anchor.end.clamp(window.start, window.end));
                let label = &mut self.labels[anchor.label];
                label.span.offset = start;
                label.span.len = if label.span.len == 0 {
                    0
                } else {
                    end.saturating_sub(start)
                };
            }
            self.lines.push(ExcerptLine {
                range: shown_start..shown_end,
                block: b,
                line,
                column: source.line_col(window.start).1 - 1,
                lead,
            });
        }
    }

    /// The index of the shown line holding excerpt offset `offset`.
    fn line_at(&self, offset: usize) -> Option<usize> {
        let i = self.lines.partition_point(|l| l.range.start <= offset);
        i.checked_sub(1)
    }

    /// The source column (0-based) of an excerpt offset on shown line `i`.
    fn column_at(&self, i: usize, offset: usize) -> usize {
        let line = &self.lines[i];
        let from = (line.range.start + line.lead).min(offset);
        let shown = self
            .text
            .get(from..offset.min(line.range.end))
            .unwrap_or("");
        line.column + shown.chars().count()
    }
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let start = span.offset();
        let end = start + span.len();
        let (Some(first), Some(last)) = (self.line_at(start), self.line_at(end)) else {
            return Err(MietteError::OutOfBounds);
        };
        // Blocks are not consecutive in the source: one context across two would number
        // its lines wrongly, so miette shows them apart.
        let block = self.lines[first].block;
        if self.lines[last].block != block || end > self.text.len() {
            return Err(MietteError::OutOfBounds);
        }
        let mut top = first;
        while top > 0 && first - top < context_lines_before && self.lines[top - 1].block == block {
            top -= 1;
        }
        let mut bottom = last;
        while bottom + 1 < self.lines.len()
            && bottom - last < context_lines_after
            && self.lines[bottom + 1].block == block
        {
            bottom += 1;
        }
        let (from, column) = if context_lines_before == 0 {
            (start, self.column_at(first, start))
        } else {
            (self.lines[top].range.start, 0)
        };
        // Through the newline, as miette's own sources do.
        let to = (self.lines[bottom].range.end + 1).min(self.text.len());
        // miette joins two labels' contexts when the first one's lines reach the second's;
        // counting to the end of the block joins exactly the labels of one block.
        let block_end = self.lines[top..]
            .iter()
            .take_while(|l| l.block == block)
            .count();
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            &self.text.as_bytes()[from..to],
            SourceSpan::new(from.into(), to - from),
            self.lines[top].line,
            column,
            block_end,
        )))
    }
}

/// Whether `anchor` can share a block with `anchors`: on a long line, the starts of all that
/// line's labels must fit in one window (each label's own text need not).
fn fits_with(source: &SourceFile, anchors: &[Anchor], anchor: &Anchor) -> bool {
    let text = source.text();
    let range = source.line_range(anchor.line);
    if !is_long(&text[range]) {
        return true;
    }
    let starts = anchors
        .iter()
        .filter(|a| a.line == anchor.line)
        .map(|a| a.start)
        .chain([anchor.start]);
    let (lo, hi) = starts.fold((usize::MAX, 0), |(lo, hi), s| (lo.min(s), hi.max(s)));
    chars_between(text, lo, hi) < WINDOW * 3 / 4
}

/// Whether a line is longer than a window.
fn is_long(line: &str) -> bool {
    line.len() > WINDOW && line.chars().nth(WINDOW).is_some()
}

/// The byte range of at most [`WINDOW`] characters of the line `line` that shows the text
/// between `lo` and `hi` (or as much of it from `lo` as fits), centred when it fits.
fn window(text: &str, line: Range<usize>, lo: usize, hi: usize) -> Range<usize> {
    if !is_long(&text[line.clone()]) {
        return line;
    }
    let wanted = chars_between(text, lo, hi).min(WINDOW);
    let before = (WINDOW - wanted) / 2;
    let mut start = back(text, line.start, lo, before);
    let mut end = forward(text, start, line.end, WINDOW);
    // Near the end of the line the window shifts left, so it is always full.
    let short = WINDOW - chars_between(text, start, end);
    if short > 0 {
        start = back(text, line.start, start, short);
        end = forward(text, start, line.end, WINDOW);
    }
    start..end
}

/// The offset `n` characters before `from`, not before `floor`.
fn back(text: &str, floor: usize, from: usize, n: usize) -> usize {
    text[floor..from]
        .char_indices()
        .rev()
        .take(n)
        .last()
        .map_or(from, |(i, _)| floor + i)
}

/// The offset `n` characters after `from`, not after `ceiling`.
fn forward(text: &str, from: usize, ceiling: usize, n: usize) -> usize {
    text[from..ceiling]
        .char_indices()
        .nth(n)
        .map_or(ceiling, |(i, _)| from + i)
}

/// Characters between two offsets, counting at most `WINDOW + 1`.
fn chars_between(text: &str, from: usize, to: usize) -> usize {
    text.get(from..to.max(from))
        .map_or(0, |s| s.chars().take(WINDOW + 1).count())
}

/// The largest character boundary at or before `offset`.
fn floor_boundary(text: &str, mut offset: usize) -> usize {
    offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// How a character is shown in a snippet or message: control characters as the Unicode
/// symbols for them (␀, ␉, ␛, ␡), invisible direction overrides as �. A tab is shown as ␉
/// too: it is one character wide, so a window stays a window, and a tab error shows its tab.
pub(crate) fn visible(c: char) -> char {
    match c {
        '\0'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or(char::REPLACEMENT_CHARACTER),
        '\u{7f}' => '\u{2421}',
        '\u{80}'..='\u{9f}'
        | '\u{200e}'
        | '\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}' => char::REPLACEMENT_CHARACTER,
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::node::Span;

    fn label(offset: usize, len: usize) -> Label {
        Label {
            span: Span::new(offset, len),
            message: "here".into(),
        }
    }

    /// The text miette gets for `label`: its line and one of context either side, and the
    /// place its header names.
    fn shown(source: &SourceFile, labels: &[Label], i: usize) -> (String, usize, usize) {
        let excerpt = Excerpt::new(source, labels);
        let span = excerpt.labels()[i].span;
        let span = SourceSpan::new(span.offset.into(), span.len);
        let lines = excerpt.read_span(&span, 1, 1).expect("inside");
        let text = String::from_utf8(lines.data().to_vec()).expect("UTF-8");
        let at = excerpt.read_span(&span, 0, 0).expect("inside");
        (text, at.line() + 1, at.column() + 1)
    }

    #[test]
    fn a_short_line_is_shown_whole_with_its_neighbours() {
        let source = SourceFile::new("s.yaml", "a: 1\nb: 2\nc: 3\nd: 4\n");
        let (text, line, column) = shown(&source, &[label(13, 1)], 0);
        assert_eq!(text, "b: 2\nc: 3\nd: 4\n");
        assert_eq!((line, column), (3, 4));
    }

    #[test]
    fn a_long_line_is_cut_to_a_window_around_the_label_with_exact_place() {
        let long = format!("k: \"{}\", colour: red\n", "é".repeat(100_000));
        let at = long.find("colour").expect("there");
        let source = SourceFile::new("s.json", long.as_str());
        let (text, line, column) = shown(&source, &[label(at, 6)], 0);
        assert!(
            text.starts_with('…') && text.contains("colour: red"),
            "{text}"
        );
        assert!(
            text.chars().count() <= WINDOW + 3,
            "{}",
            text.chars().count()
        );
        assert_eq!((line, column), (1, 100_008));
    }

    #[test]
    fn labels_far_apart_on_one_line_get_a_window_each() {
        let line = format!("a: 1, {}, b: 2\n", "x".repeat(10_000));
        let (a, b) = (0, line.find("b:").expect("there"));
        let source = SourceFile::new("s.json", line.as_str());
        let labels = [label(a, 1), label(b, 1)];
        let (first, _, first_column) = shown(&source, &labels, 0);
        let (second, _, second_column) = shown(&source, &labels, 1);
        assert!(
            first.starts_with("a: 1") && first.trim_end().ends_with('…'),
            "{first}"
        );
        assert!(
            second.starts_with('…') && second.contains("b: 2"),
            "{second}"
        );
        assert_eq!((first_column, second_column), (1, b + 1));
    }

    #[test]
    fn control_characters_tabs_and_carriage_returns_are_shown_as_symbols() {
        // A bare carriage return ended miette's line early, and it numbered the line 0.
        let source = SourceFile::new("s.yaml", "a:\r\n\tb: \u{1b}[31m\rc\n");
        let (text, line, column) = shown(&source, &[label(4, 1)], 0);
        assert_eq!(text, "a:\n␉b: ␛[31m␍c\n");
        assert_eq!((line, column), (2, 1));
    }

    #[test]
    fn a_label_at_the_end_of_the_text_is_shown_on_the_line_after_the_last() {
        let source = SourceFile::new("s.yaml", "a: [1,\nb: 2\n");
        let (text, line, column) = shown(&source, &[label(12, 0)], 0);
        assert_eq!(text, "b: 2\n\n");
        assert_eq!((line, column), (3, 1));
    }

    #[test]
    fn a_label_on_a_line_break_is_shown_after_the_line() {
        let source = SourceFile::new("s.yaml", "a: 1\r\nb: 2\n");
        let excerpt = Excerpt::new(&source, &[label(5, 0)]);
        let span = excerpt.labels()[0].span;
        assert_eq!(&excerpt.text[..span.offset], "a: 1");
    }
}
