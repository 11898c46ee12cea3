//! Text as people read it in error messages: paths percent-decoded, causes on one line,
//! durations in the largest units that fit.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

/// A path and query as people read them: percent-decoded (`$filter=a eq 'b'`, not
/// `$filter=a%20eq%20'b'`). Left as sent when decoding would give control characters or
/// invalid UTF-8.
pub fn shown(path: &str) -> Cow<'_, str> {
    if !path.contains('%') {
        return Cow::Borrowed(path);
    }
    match percent_encoding::percent_decode_str(path).decode_utf8() {
        Ok(decoded) if !decoded.chars().any(char::is_control) => Cow::Owned(decoded.into_owned()),
        _ => Cow::Borrowed(path),
    }
}

/// `text` on one line: its lines trimmed and joined with spaces.
pub(crate) fn one_line(text: &str) -> Cow<'_, str> {
    if !text.contains(['\n', '\r']) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// A duration as people read it: `250ms`, `1.5s`, `5s`, `2m05s`, `15m`, `1h30m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Human(pub Duration);

impl fmt::Display for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        let secs = d.as_secs();
        if d < Duration::from_secs(1) {
            write!(f, "{}ms", d.as_millis())
        } else if secs < 60 && d.subsec_millis() == 0 {
            write!(f, "{secs}s")
        } else if secs < 60 {
            write!(f, "{:.1}s", d.as_secs_f64())
        } else if secs < 3600 && secs.is_multiple_of(60) {
            write!(f, "{}m", secs / 60)
        } else if secs < 3600 {
            write!(f, "{}m{:02}s", secs / 60, secs % 60)
        } else if secs.is_multiple_of(3600) {
            write!(f, "{}h", secs / 3600)
        } else {
            write!(f, "{}h{:02}m", secs / 3600, (secs % 3600) / 60)
        }
    }
}
