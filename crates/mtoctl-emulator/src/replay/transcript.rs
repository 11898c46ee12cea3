//! Reading a transcript (docs/transcripts.md, format_version 1.0) with the replay's own types:
//! the emulator shares no types with mtoctl's recorder, so the documented format is the contract.
//!
//! The file is read line by line, at most [`MAX_FILE_BYTES`](super::MAX_FILE_BYTES); the first
//! line must be the header, every other non-blank line an exchange. Any line that is not what the
//! format says is an error naming its line number, so a truncated recording is refused rather
//! than half replayed. Members the format does not list are ignored (a later minor version may
//! add some); values are not checked beyond what the replay needs.

use std::collections::BTreeSet;
use std::io::BufRead;
use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::error::{LineError, TranscriptError};

/// The header line.
#[derive(Debug, Clone, Deserialize)]
pub struct Header {
    /// Always `mtoctl`.
    pub transcript: String,
    /// `1.0`.
    pub format_version: String,
    /// The recording mtoctl's version.
    #[serde(default)]
    pub mtoctl_version: Option<String>,
    /// The subcommand recorded.
    #[serde(default)]
    pub command: Option<String>,
    /// The Graph version root the paths are relative to (`v1.0`).
    #[serde(default = "default_api")]
    pub api: String,
    /// When the recording started, in milliseconds since the Unix epoch (absent from
    /// transcripts of mtoctl before it).
    #[serde(default)]
    pub started_ms: Option<u64>,
    /// The spec's tenants in spec order.
    pub tenants: Vec<HeaderTenant>,
}

fn default_api() -> String {
    "v1.0".into()
}

/// One tenant of the header.
#[derive(Debug, Clone, Deserialize)]
pub struct HeaderTenant {
    /// `t1`, `t2`, …
    pub tenant: String,
    /// Its tenant id, pseudonymised.
    pub tenant_id: String,
}

/// One exchange line.
#[derive(Debug, Clone, Deserialize)]
pub struct Exchange {
    /// 1, 2, … in file order.
    pub seq: u64,
    /// The header's tenant name.
    pub tenant: String,
    /// Milliseconds since the recording started, when the request was sent.
    pub at_ms: u64,
    /// Milliseconds until the whole answer was read.
    #[serde(default)]
    pub latency_ms: Option<u64>,
    /// HTTP method.
    pub method: String,
    /// The API root of this exchange when not the header's (`beta`).
    #[serde(default)]
    pub api: Option<String>,
    /// Path and query relative to the API root, pseudonymised.
    pub path: String,
    /// Request headers that change Graph's behaviour.
    #[serde(default)]
    pub request_headers: Option<Map<String, Value>>,
    /// The JSON body sent, pseudonymised.
    #[serde(default)]
    pub request_body: Option<Value>,
    /// The answer's status; `None` when no answer came.
    #[serde(default)]
    pub status: Option<u16>,
    /// Why no answer came.
    #[serde(default)]
    pub error: Option<String>,
    /// Answer headers that matter.
    #[serde(default)]
    pub response_headers: Option<Map<String, Value>>,
    /// The JSON body answered, pseudonymised.
    #[serde(default)]
    pub response_body: Option<Value>,
}

impl Exchange {
    /// A response header by case-insensitive name, when it is a string.
    pub fn response_header(&self, name: &str) -> Option<&str> {
        header(self.response_headers.as_ref(), name)
    }

    /// The request headers as (name, value) pairs.
    pub fn request_header_pairs(&self) -> Vec<(String, String)> {
        self.request_headers
            .iter()
            .flatten()
            .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
            .collect()
    }

    /// Whether this is a JSON batch.
    pub fn is_batch(&self) -> bool {
        self.method.eq_ignore_ascii_case("POST") && self.path.split('?').next() == Some("/$batch")
    }
}

/// A string header of a header map, by case-insensitive name.
pub fn header<'a>(headers: Option<&'a Map<String, Value>>, name: &str) -> Option<&'a str> {
    headers?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
}

/// A whole transcript, its exchanges in `seq` order.
#[derive(Debug, Clone)]
pub struct Transcript {
    /// Its name in reports: the path it was read from.
    pub name: String,
    /// The header.
    pub header: Header,
    /// The exchanges, sorted by `seq`.
    pub exchanges: Vec<Exchange>,
}

const METHODS: [&str; 5] = ["GET", "POST", "PATCH", "PUT", "DELETE"];

impl Transcript {
    /// Reads the transcript at `path` (at most [`MAX_FILE_BYTES`](super::MAX_FILE_BYTES)).
    pub fn read(path: &Path) -> Result<Self, TranscriptError> {
        let io = |source| TranscriptError::Io {
            path: path.to_owned(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        Self::from_reader(std::io::BufReader::new(file), path)
    }

    /// Reads a transcript from `reader`; `path` only names it in errors.
    pub fn from_reader(reader: impl BufRead, path: &Path) -> Result<Self, TranscriptError> {
        let mut reader = reader.take(super::MAX_FILE_BYTES + 1);
        let mut total = 0u64;
        let mut buf = Vec::new();
        let mut header: Option<Header> = None;
        let mut exchanges = Vec::new();
        let mut seqs = BTreeSet::new();
        let mut line = 0usize;
        loop {
            buf.clear();
            let n = reader
                .read_until(b'\n', &mut buf)
                .map_err(|source| TranscriptError::Io {
                    path: path.to_owned(),
                    source,
                })?;
            if n == 0 {
                break;
            }
            total += n as u64;
            if total > super::MAX_FILE_BYTES {
                return Err(TranscriptError::TooLarge {
                    path: path.to_owned(),
                });
            }
            line += 1;
            let at = |source| TranscriptError::Line {
                path: path.to_owned(),
                line,
                source,
            };
            let text = std::str::from_utf8(&buf).map_err(|_| at(LineError::NotUtf8))?;
            if text.trim().is_empty() {
                continue;
            }
            match &header {
                None => header = Some(parse_header(text).map_err(at)?),
                Some(h) => {
                    let exchange = parse_exchange(text, h).map_err(at)?;
                    if !seqs.insert(exchange.seq) {
                        return Err(at(LineError::DuplicateSeq(exchange.seq)));
                    }
                    exchanges.push(exchange);
                }
            }
        }
        let header = header.ok_or_else(|| TranscriptError::Empty {
            path: path.to_owned(),
        })?;
        exchanges.sort_by_key(|e| e.seq);
        Ok(Self {
            name: path.display().to_string(),
            header,
            exchanges,
        })
    }
}

fn parse_header(text: &str) -> Result<Header, LineError> {
    // The version is checked before the rest, so that another format is named as such rather
    // than as a list of missing members.
    #[derive(Deserialize)]
    struct Version {
        transcript: Option<Value>,
        format_version: Option<Value>,
    }
    let json = |source| LineError::Json {
        what: "header",
        source,
    };
    let version: Version = serde_json::from_str(text).map_err(json)?;
    if version.transcript != Some(Value::String("mtoctl".into())) {
        return Err(LineError::NotATranscript);
    }
    match version.format_version {
        Some(Value::String(v)) if v == super::FORMAT_VERSION => {}
        Some(Value::String(v)) => return Err(LineError::FormatVersion { found: v }),
        Some(other) => {
            return Err(LineError::FormatVersion {
                found: other.to_string(),
            });
        }
        None => {
            return Err(LineError::FormatVersion {
                found: "(none)".into(),
            });
        }
    }
    let header: Header = serde_json::from_str(text).map_err(json)?;
    let mut names = BTreeSet::new();
    for t in &header.tenants {
        if !names.insert(t.tenant.as_str()) {
            return Err(LineError::DuplicateTenant(t.tenant.clone()));
        }
    }
    Ok(header)
}

fn parse_exchange(text: &str, header: &Header) -> Result<Exchange, LineError> {
    let mut e: Exchange = serde_json::from_str(text).map_err(|source| LineError::Json {
        what: "exchange",
        source,
    })?;
    if !header.tenants.iter().any(|t| t.tenant == e.tenant) {
        return Err(LineError::UnknownTenant {
            seq: e.seq,
            tenant: e.tenant,
        });
    }
    e.method = e.method.to_ascii_uppercase();
    if !METHODS.contains(&e.method.as_str()) {
        return Err(LineError::Method {
            seq: e.seq,
            method: e.method,
        });
    }
    if !e.path.starts_with('/') {
        return Err(LineError::Path {
            seq: e.seq,
            path: e.path,
        });
    }
    Ok(e)
}
