//! Where output goes and how it looks: stdout for results, stderr for diagnostics and errors,
//! colors per `--color` and NO_COLOR.

use std::io::{self, Write};
use std::sync::Mutex;

use crate::args::ColorWhen;

/// A `--format json` document (docs/json-output.md): `format_version`, then the keys of
/// `report`, pretty-printed with a final newline.
pub fn versioned_json<T: serde::Serialize>(
    format_version: &'static str,
    report: &T,
) -> anyhow::Result<String> {
    #[derive(serde::Serialize)]
    struct Document<'a, T> {
        format_version: &'static str,
        #[serde(flatten)]
        report: &'a T,
    }
    let document = Document {
        format_version,
        report,
    };
    Ok(format!("{}\n", serde_json::to_string_pretty(&document)?))
}

/// The progress bars on screen, if any: log lines are written with them hidden, so that a
/// retry warning does not land in the middle of a bar and is not drawn over by it.
static BARS: Mutex<Option<indicatif::MultiProgress>> = Mutex::new(None);

/// Tells log lines which bars are on screen (`None` once they are gone).
pub fn bars_on_screen(bars: Option<indicatif::MultiProgress>) {
    *BARS.lock().unwrap_or_else(|e| e.into_inner()) = bars;
}

/// Where log lines go: stderr, with the progress bars hidden while one is written.
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let bars = BARS.lock().unwrap_or_else(|e| e.into_inner()).clone();
        match bars {
            Some(bars) => bars.suspend(|| io::stderr().write(buf)),
            None => io::stderr().write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

/// Writes command output. Commands print only through this.
pub struct Printer {
    color: bool,
    color_stdout: bool,
}

impl Printer {
    /// A printer honouring `--color`; `auto` follows anstream (TTY, NO_COLOR, CLICOLOR_FORCE).
    pub fn new(when: ColorWhen) -> Self {
        let choice = match when {
            ColorWhen::Always => anstream::ColorChoice::Always,
            ColorWhen::Never => anstream::ColorChoice::Never,
            ColorWhen::Auto => anstream::ColorChoice::Auto,
        };
        choice.write_global();
        let decide = |auto: anstream::ColorChoice| match when {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => auto != anstream::ColorChoice::Never,
        };
        Self {
            color: decide(anstream::AutoStream::choice(&io::stderr())),
            color_stdout: decide(anstream::AutoStream::choice(&io::stdout())),
        }
    }

    /// Whether results on stdout (the plan) are colored.
    pub fn color_stdout(&self) -> bool {
        self.color_stdout
    }

    /// Whether diagnostics on stderr are colored.
    pub fn color(&self) -> bool {
        self.color
    }

    /// Writes text to stdout. A closed pipe (`mtoctl schema | head`) is not an error.
    pub fn out(&self, text: &str) -> anyhow::Result<()> {
        write_ignoring_broken_pipe(&mut anstream::stdout().lock(), text)
    }

    /// Writes something long to stdout as it is formatted, without holding all of it: a
    /// plan or report of 200,000 actions is some 100 MB of text. A closed pipe is not an
    /// error.
    pub fn out_display(&self, shown: &dyn std::fmt::Display) -> anyhow::Result<()> {
        let mut stdout = io::BufWriter::with_capacity(64 * 1024, anstream::stdout().lock());
        match write!(stdout, "{shown}").and_then(|()| stdout.flush()) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
            other => Ok(other?),
        }
    }

    /// Writes `value` to stdout as pretty JSON and a newline, as it is serialised, without
    /// holding the text: a plan or report of 200,000 actions is some 100 MB of it. A closed
    /// pipe is not an error.
    pub fn out_json<T: serde::Serialize + ?Sized>(&self, value: &T) -> anyhow::Result<()> {
        let mut stdout = io::BufWriter::with_capacity(64 * 1024, anstream::stdout().lock());
        match write_json(&mut stdout, value).and_then(|()| stdout.flush()) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
            other => Ok(other?),
        }
    }

    /// Writes text to stderr.
    pub fn err(&self, text: &str) {
        let _ = write_ignoring_broken_pipe(&mut anstream::stderr().lock(), text);
    }

    /// A warning on stderr.
    pub fn warn(&self, message: &str) {
        let prefix = if self.color {
            "\x1b[1;33mwarning\x1b[0m"
        } else {
            "warning"
        };
        self.err(&format!("{prefix}: {message}\n"));
    }

    /// Reports a failed command: the error and its causes, once, on stderr.
    pub fn error(&self, err: &anyhow::Error) {
        let prefix = if self.color {
            "\x1b[1;31merror\x1b[0m"
        } else {
            "error"
        };
        self.err(&format!("{prefix}: {err:#}\n"));
    }
}

/// Writes `value` as pretty JSON and a newline.
pub fn write_json<T: serde::Serialize + ?Sized>(w: &mut dyn Write, value: &T) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, value)?;
    w.write_all(b"\n")
}

fn write_ignoring_broken_pipe(w: &mut dyn Write, text: &str) -> anyhow::Result<()> {
    match w.write_all(text.as_bytes()).and_then(|()| w.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
