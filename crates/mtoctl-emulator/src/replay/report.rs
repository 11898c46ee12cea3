//! The replay's report: every difference found, with the exchange it was found in, and the
//! counts; as text (one difference a line, then a summary) or as a versioned JSON object.

use serde::Serialize;

use super::compare::{JsonType, ShapeDifference};

/// The version of the JSON report's format.
pub const REPORT_FORMAT_VERSION: &str = "1.0";

/// What a replay found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// [`REPORT_FORMAT_VERSION`].
    pub format_version: &'static str,
    /// Transcripts replayed, one after the other.
    pub transcripts: usize,
    /// Exchanges in the transcripts.
    pub exchanges: usize,
    /// Exchanges sent and compared.
    pub replayed: usize,
    /// Exchanges skipped because the recording got no answer (`status: null`).
    pub skipped: usize,
    /// Pseudonyms bound to what the replay answered.
    pub bindings: usize,
    /// Ids the replay made otherwise than the key says the recording's Graph did (see
    /// [`Substitutions::made_otherwise`](super::Substitutions::made_otherwise)); not a
    /// difference.
    pub ids_made_otherwise: usize,
    /// Every difference, in `seq` order.
    pub differences: Vec<Difference>,
}

/// One difference between a recorded answer and the replayed one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// The transcript's name (its path).
    pub transcript: String,
    /// The exchange's `seq`.
    pub seq: u64,
    /// Its method.
    pub method: String,
    /// Its path as recorded (pseudonymised).
    pub path: String,
    /// The `$batch` item's `id`, for a difference inside a batch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    /// What differs.
    #[serde(flatten)]
    pub kind: DifferenceKind,
}

/// What differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DifferenceKind {
    /// Another status (the bodies are then not compared).
    Status {
        /// Recorded.
        recorded: u16,
        /// Replayed.
        replayed: u16,
    },
    /// A member (or a `$batch` item, `pointer` empty) only the recording has.
    OnlyInRecording {
        /// JSON pointer into the body.
        pointer: String,
    },
    /// A member (or a `$batch` item, `pointer` empty) only the replay has.
    OnlyInReplay {
        /// JSON pointer into the body.
        pointer: String,
    },
    /// Another JSON type.
    Type {
        /// JSON pointer into the body (empty: the whole body).
        pointer: String,
        /// Recorded.
        recorded: JsonType,
        /// Replayed.
        replayed: JsonType,
    },
    /// An array of another length.
    Length {
        /// JSON pointer into the body.
        pointer: String,
        /// Recorded.
        recorded: usize,
        /// Replayed.
        replayed: usize,
    },
}

impl From<ShapeDifference> for DifferenceKind {
    fn from(d: ShapeDifference) -> Self {
        match d {
            ShapeDifference::OnlyInRecording(pointer) => Self::OnlyInRecording { pointer },
            ShapeDifference::OnlyInReplay(pointer) => Self::OnlyInReplay { pointer },
            ShapeDifference::Type {
                pointer,
                recorded,
                replayed,
            } => Self::Type {
                pointer,
                recorded,
                replayed,
            },
            ShapeDifference::Length {
                pointer,
                recorded,
                replayed,
            } => Self::Length {
                pointer,
                recorded,
                replayed,
            },
        }
    }
}

impl std::fmt::Display for Difference {
    /// `seq 12 GET /users?…: status 200 → 404`, `seq 14 POST /$batch: item 2: /value: …`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "seq {} {} {}: ", self.seq, self.method, self.path)?;
        if let Some(item) = &self.item {
            write!(f, "item {item}: ")?;
        }
        let at = |p: &str| {
            if p.is_empty() {
                "body".to_owned()
            } else {
                p.to_owned()
            }
        };
        match &self.kind {
            DifferenceKind::Status { recorded, replayed } => {
                write!(f, "status {recorded} → {replayed}")
            }
            DifferenceKind::OnlyInRecording { pointer } if pointer.is_empty() => {
                f.write_str("only in the recording")
            }
            DifferenceKind::OnlyInReplay { pointer } if pointer.is_empty() => {
                f.write_str("only in the replay")
            }
            DifferenceKind::OnlyInRecording { pointer } => {
                write!(f, "{pointer}: only in the recording")
            }
            DifferenceKind::OnlyInReplay { pointer } => write!(f, "{pointer}: only in the replay"),
            DifferenceKind::Type {
                pointer,
                recorded,
                replayed,
            } => write!(
                f,
                "{}: {} in the recording, {} in the replay",
                at(pointer),
                recorded.name(),
                replayed.name()
            ),
            DifferenceKind::Length {
                pointer,
                recorded,
                replayed,
            } => write!(
                f,
                "{}: {recorded} item{} in the recording, {replayed} in the replay",
                at(pointer),
                if *recorded == 1 { "" } else { "s" }
            ),
        }
    }
}

impl Report {
    /// The text report: one difference a line (after its transcript's name when there are
    /// several), then the summary line.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for d in &self.differences {
            if self.transcripts > 1 {
                out.push_str(&d.transcript);
                out.push_str(": ");
            }
            out.push_str(&d.to_string());
            out.push('\n');
        }
        out.push_str(&self.summary());
        out.push('\n');
        out
    }

    /// `replayed 40 exchanges, skipped 2 without an answer: 3 differences`, and how many ids
    /// were made otherwise than recorded when some were.
    pub fn summary(&self) -> String {
        let n = self.differences.len();
        let mut line = format!(
            "replayed {} exchange{}, skipped {} without an answer: {}",
            self.replayed,
            if self.replayed == 1 { "" } else { "s" },
            self.skipped,
            match n {
                0 => "no differences".to_owned(),
                1 => "1 difference".to_owned(),
                n => format!("{n} differences"),
            }
        );
        if self.ids_made_otherwise > 0 {
            line.push_str(&format!(
                " ({} id{} made otherwise than the key says)",
                self.ids_made_otherwise,
                if self.ids_made_otherwise == 1 {
                    ""
                } else {
                    "s"
                }
            ));
        }
        line
    }
}
