//! `--record FILE`: every exchange with Graph written to a transcript, one JSON line each,
//! with secrets removed and personal data replaced by pseudonyms (docs/transcripts.md is the
//! format's contract).
//!
//! The [`Recorder`] creates the file and writes its header line; the transport hands it each
//! exchange once its answer is read (or once it is known that none will come), and it writes
//! the exchange's line whole, under one lock, straight to the file: a run killed at any point
//! leaves only complete lines. With a key file (`--record-key`), each line's new pseudonyms
//! are added to it first (`key`), so the key always covers the transcript.
//!
//! What is replaced by which rule: `pseudonym` (the table, and free text), `redact` (JSON
//! bodies, by member name) and `path` (paths, query strings and `$filter` literals). The
//! request and answer of one exchange are pseudonymised twice, the first time only to learn
//! its names and domains, so that free text (an error message) naming what the same exchange
//! names elsewhere is covered.
//!
//! Errors: creating the files fails [`Recorder::create`]. A failed write does not fail the
//! Graph call it records: the recording stops there, the error is kept, and
//! [`Recorder::finish`] returns it, for the command to fail with once its work is done (a
//! transcript that silently lacks exchanges would mislead whoever reads it).
//!
//! What this does not do: record sign-ins (they are not Graph calls), headers other than
//! `ConsistencyLevel` and the few answer headers that matter, or anything of the token.

mod key;
mod path;
mod pseudonym;
mod redact;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mtoctl_model::DesiredState;
use mtoctl_model::desired::{GroupRef, UserRef};
use serde::Serialize;
use serde_json::Value;

use crate::error::NetworkFailure;
use key::KeyFile;

pub use pseudonym::{COMMON_WORDS, PUBLIC_IDS, Pseudonyms};
pub use redact::{PLAIN_SETTINGS, REDACTED};

/// The transcript format's version (docs/transcripts.md).
pub const FORMAT_VERSION: &str = "1.0";

/// The key file format's version.
pub const KEY_FORMAT_VERSION: &str = "1.0";

/// The answer headers a transcript keeps (lowercase), when present.
pub const RESPONSE_HEADERS: [&str; 6] = [
    "retry-after",
    "location",
    "content-type",
    "x-ms-throttle-scope",
    "x-ms-throttle-limit-percentage",
    "x-ms-resource-unit",
];

/// What to record, and where.
#[derive(Debug, Clone)]
pub struct RecordOptions {
    /// The transcript (created; one that exists is replaced).
    pub transcript: PathBuf,
    /// The key file, if one is wanted (created with mode 0600; one that exists is replaced).
    pub key: Option<PathBuf>,
    /// The subcommand's name (`apply`, `sync now`), never its arguments.
    pub command: String,
}

/// A transcript that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The transcript could not be created.
    #[error("cannot create the transcript `{}`", .path.display())]
    Create {
        /// The transcript.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The key file could not be created.
    #[error("cannot create the pseudonym key `{}`", .path.display())]
    CreateKey {
        /// The key file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A line could not be written: the recording stopped before that exchange.
    #[error(
        "cannot write to the transcript `{}`: it holds the first {recorded} exchanges only",
        .path.display()
    )]
    Write {
        /// The transcript.
        path: PathBuf,
        /// Exchanges recorded before the failure.
        recorded: u64,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The key file could not be written: the recording stopped before that exchange.
    #[error(
        "cannot write to the pseudonym key `{}`: the transcript holds the first {recorded} exchanges only",
        .path.display()
    )]
    WriteKey {
        /// The key file.
        path: PathBuf,
        /// Exchanges recorded before the failure.
        recorded: u64,
        /// Why.
        #[source]
        source: io::Error,
    },
}

/// What a finished recording holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Exchanges recorded.
    pub exchanges: u64,
    /// Pseudonyms made.
    pub pseudonyms: usize,
}

/// One exchange as the transport saw it.
pub(crate) struct Call<'a> {
    /// The tenant's alias.
    pub tenant: &'a str,
    /// `GET`, `POST`…
    pub method: &'a str,
    /// Path and query as sent, relative to the API root.
    pub path: &'a str,
    /// The API root, when not the header's `v1.0` (`beta`).
    pub api: Option<&'static str>,
    /// Whether `ConsistencyLevel: eventual` was sent.
    pub eventual: bool,
    /// The JSON body sent.
    pub request_body: Option<&'a Value>,
    /// When the request was sent.
    pub sent: Instant,
    /// How long until the whole answer was read (or the exchange failed).
    pub latency: Duration,
    /// What came back.
    pub answer: Answer<'a>,
}

/// What came back from one exchange.
pub(crate) enum Answer<'a> {
    /// An answer: its status, the headers of [`RESPONSE_HEADERS`] it had, its JSON body
    /// (`Null` when empty or not JSON).
    Answered {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: &'a Value,
    },
    /// None.
    NoAnswer(NetworkFailure),
}

/// Writes a transcript. Shared by every task of a client (`Arc`); see the module's
/// documentation.
pub struct Recorder {
    started: Instant,
    /// Alias → `t1`, `t2`… in the spec's order.
    tenants: HashMap<String, String>,
    transcript: PathBuf,
    key: Option<PathBuf>,
    state: Mutex<State>,
}

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder")
            .field("transcript", &self.transcript)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

struct State {
    table: Pseudonyms,
    file: File,
    key: Option<KeyFile>,
    /// Exchanges recorded.
    seq: u64,
    /// The first write error; nothing is written after it.
    error: Option<RecordError>,
    /// Whether a write failed (the error may have been taken by `finish` already).
    stopped: bool,
}

#[derive(Serialize)]
struct Header<'a> {
    transcript: &'static str,
    format_version: &'static str,
    mtoctl_version: &'static str,
    command: &'a str,
    api: &'static str,
    /// When the recording started (the instant `at_ms` counts from), in milliseconds since
    /// the Unix epoch: a replay of this command and the next keeps the time between them.
    started_ms: u64,
    tenants: Vec<HeaderTenant>,
}

#[derive(Serialize)]
struct HeaderTenant {
    tenant: String,
    tenant_id: String,
}

#[derive(Serialize)]
struct Line<'a> {
    seq: u64,
    tenant: &'a str,
    at_ms: u64,
    latency_ms: u64,
    method: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    api: Option<&'static str>,
    path: String,
    request_headers: BTreeMap<&'static str, &'static str>,
    request_body: Value,
    status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
    response_headers: BTreeMap<&'static str, String>,
    response_body: Value,
}

impl Recorder {
    /// Creates the transcript (and the key file) and writes the header, naming the spec's
    /// tenants `t1`, `t2`… in their order. The spec's names, domains, users and groups are
    /// put in the pseudonym table first, so that free text naming them is covered from the
    /// first exchange on.
    pub fn create(options: &RecordOptions, desired: &DesiredState) -> Result<Self, RecordError> {
        let (started, started_at) = (Instant::now(), SystemTime::now());
        let mut file = File::create(&options.transcript).map_err(|source| RecordError::Create {
            path: options.transcript.clone(),
            source,
        })?;
        let mut key = match &options.key {
            Some(path) => Some(
                KeyFile::create(path).map_err(|source| RecordError::CreateKey {
                    path: path.clone(),
                    source,
                })?,
            ),
            None => None,
        };
        let mut table = Pseudonyms::new();
        let mut tenants = HashMap::new();
        let mut listed = Vec::new();
        for (n, tenant) in desired.tenants.iter().enumerate() {
            let short = format!("t{}", n + 1);
            tenants.insert(tenant.alias.as_str().to_owned(), short.clone());
            listed.push(HeaderTenant {
                tenant: short,
                tenant_id: table.id(&tenant.tenant_id.to_string()),
            });
        }
        learn_spec(&mut table, desired);
        let header = Header {
            transcript: "mtoctl",
            format_version: FORMAT_VERSION,
            mtoctl_version: env!("CARGO_PKG_VERSION"),
            command: &options.command,
            api: crate::endpoints::API_VERSION,
            started_ms: started_at.duration_since(UNIX_EPOCH).map_or(0, millis),
            tenants: listed,
        };
        let mut line = serde_json::to_vec(&header)
            .map_err(io::Error::from)
            .map_err(|source| RecordError::Create {
                path: options.transcript.clone(),
                source,
            })?;
        line.push(b'\n');
        if let Some(key) = &mut key {
            key.append(table.originals())
                .map_err(|source| RecordError::CreateKey {
                    path: options.key.clone().unwrap_or_default(),
                    source,
                })?;
        }
        file.write_all(&line)
            .map_err(|source| RecordError::Create {
                path: options.transcript.clone(),
                source,
            })?;
        Ok(Self {
            started,
            tenants,
            transcript: options.transcript.clone(),
            key: options.key.clone(),
            state: Mutex::new(State {
                table,
                file,
                key,
                seq: 0,
                error: None,
                stopped: false,
            }),
        })
    }

    /// Writes one exchange's line (and its new pseudonyms to the key file). A write that
    /// fails stops the recording and is kept for [`Self::finish`].
    pub(crate) fn record(&self, call: &Call<'_>) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.stopped {
            return;
        }
        let State {
            table,
            file,
            key,
            seq,
            error,
            stopped,
        } = &mut *state;
        // Once to learn the exchange's names and domains, then for real.
        let _ = pseudonymise(table, call);
        let (path, request_body, response_headers, response_body) = pseudonymise(table, call);
        let (status, failure) = match &call.answer {
            Answer::Answered { status, .. } => (Some(*status), None),
            Answer::NoAnswer(kind) => (None, Some(failure_kind(*kind))),
        };
        let mut request_headers = BTreeMap::new();
        if call.eventual {
            request_headers.insert("ConsistencyLevel", "eventual");
        }
        let line = Line {
            seq: *seq + 1,
            tenant: self.tenants.get(call.tenant).map_or("t?", String::as_str),
            at_ms: millis(call.sent.saturating_duration_since(self.started)),
            latency_ms: millis(call.latency),
            method: call.method,
            api: call.api,
            path,
            request_headers,
            request_body,
            status,
            error: failure,
            response_headers,
            response_body,
        };
        let mut bytes = match serde_json::to_vec(&line) {
            Ok(b) => b,
            Err(e) => {
                *error = Some(RecordError::Write {
                    path: self.transcript.clone(),
                    recorded: *seq,
                    source: e.into(),
                });
                *stopped = true;
                return;
            }
        };
        bytes.push(b'\n');
        if let Some(key) = key {
            let new = &table.originals()[key.written..];
            if let Err(source) = key.append(new) {
                *error = Some(RecordError::WriteKey {
                    path: self.key.clone().unwrap_or_default(),
                    recorded: *seq,
                    source,
                });
                *stopped = true;
                return;
            }
        }
        if let Err(source) = file.write_all(&bytes) {
            *error = Some(RecordError::Write {
                path: self.transcript.clone(),
                recorded: *seq,
                source,
            });
            *stopped = true;
            return;
        }
        *seq += 1;
    }

    /// The end of the recording: what it holds, or the first write error (returned once).
    /// Every line and key entry is already in its file.
    pub fn finish(&self) -> Result<Summary, RecordError> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(error) = state.error.take() {
            return Err(error);
        }
        Ok(Summary {
            exchanges: state.seq,
            pseudonyms: state.table.originals().len(),
        })
    }
}

/// The spec's personal values, put in the table before any exchange.
fn learn_spec(table: &mut Pseudonyms, desired: &DesiredState) {
    for tenant in &desired.tenants {
        table.name(&tenant.display_name);
        if let Some(domain) = &tenant.domain {
            table.domain(domain);
        }
        if let Some(client) = tenant.credential.client_id() {
            table.id(&client);
        }
    }
    table.name(&desired.organization.display_name);
    if let Some(description) = &desired.organization.description {
        table.name(description);
    }
    for sync in &desired.syncs {
        table.personal(&sync.name);
        for user in &sync.scope.users {
            match user {
                UserRef::ObjectId(id) => table.id(&id.to_string()),
                UserRef::UserPrincipalName(upn) => table.upn(upn),
            };
        }
        for group in &sync.scope.groups {
            match group {
                GroupRef::ObjectId(id) => table.id(&id.to_string()),
                GroupRef::DisplayName(name) => table.name(name),
            };
        }
    }
}

/// The exchange's path, bodies and headers pseudonymised.
fn pseudonymise(
    table: &mut Pseudonyms,
    call: &Call<'_>,
) -> (String, Value, BTreeMap<&'static str, String>, Value) {
    let path = table.path(call.path);
    let request_body = call.request_body.map_or(Value::Null, |b| table.body(b));
    let (headers, body) = match &call.answer {
        Answer::Answered { headers, body, .. } => {
            let headers = headers
                .iter()
                .map(|(name, value)| {
                    let value = if *name == "location" {
                        table.url(value)
                    } else {
                        value.clone()
                    };
                    (*name, value)
                })
                .collect();
            (headers, table.body(body))
        }
        Answer::NoAnswer(_) => (BTreeMap::new(), Value::Null),
    };
    (path, request_body, headers, body)
}

/// A network failure's kind as a transcript names it.
fn failure_kind(kind: NetworkFailure) -> &'static str {
    match kind {
        NetworkFailure::Refused => "refused",
        NetworkFailure::Dns => "dns",
        NetworkFailure::Tls => "tls",
        NetworkFailure::Timeout => "timeout",
        NetworkFailure::Closed => "closed",
        NetworkFailure::Other => "other",
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
