//! What can stop a replay before it compares anything: a transcript or key file that cannot be
//! read, a world that does not load, tenants that cannot be mapped. Differences in the answers
//! are not errors; they are the report.

use std::path::PathBuf;

/// A transcript that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum TranscriptError {
    /// The file could not be opened or read.
    #[error("cannot read {path}")]
    Io {
        /// The transcript's path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// More than [`MAX_FILE_BYTES`](super::MAX_FILE_BYTES).
    #[error("{path} is larger than {} MiB, more than a transcript mtoctl writes", super::MAX_FILE_BYTES >> 20)]
    TooLarge {
        /// The transcript's path.
        path: PathBuf,
    },
    /// The file has no line at all.
    #[error("{path} is empty: a transcript starts with its header line")]
    Empty {
        /// The transcript's path.
        path: PathBuf,
    },
    /// One line is not what the format says it must be.
    #[error("{path}: line {line}")]
    Line {
        /// The transcript's path.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        #[source]
        source: LineError,
    },
}

/// What is wrong with one line of a transcript.
#[derive(Debug, thiserror::Error)]
pub enum LineError {
    /// Not UTF-8.
    #[error("it is not UTF-8")]
    NotUtf8,
    /// Not the JSON object the format says (a truncated line lands here).
    #[error("it is not a transcript {what}")]
    Json {
        /// `header` or `exchange`.
        what: &'static str,
        /// The parser's complaint.
        #[source]
        source: serde_json::Error,
    },
    /// The header is not an mtoctl transcript's.
    #[error("the header does not say \"transcript\": \"mtoctl\"")]
    NotATranscript,
    /// A format version this emulator does not read.
    #[error(
        "transcript format version {found}; this emulator reads only version {}",
        super::FORMAT_VERSION
    )]
    FormatVersion {
        /// The header's version.
        found: String,
    },
    /// Two header tenants with one name.
    #[error("the header lists tenant {0} twice")]
    DuplicateTenant(String),
    /// An exchange of a tenant the header does not list.
    #[error("exchange {seq} is for tenant {tenant}, which the header does not list")]
    UnknownTenant {
        /// The exchange's `seq`.
        seq: u64,
        /// Its `tenant`.
        tenant: String,
    },
    /// Two exchanges with one `seq`.
    #[error("seq {0} appears twice")]
    DuplicateSeq(u64),
    /// A method the replay cannot send.
    #[error("exchange {seq} has method {method:?}")]
    Method {
        /// The exchange's `seq`.
        seq: u64,
        /// The method as written.
        method: String,
    },
    /// A path that is not relative to the API root.
    #[error("exchange {seq} has path {path:?}, which does not start with /")]
    Path {
        /// The exchange's `seq`.
        seq: u64,
        /// The path as written.
        path: String,
    },
}

/// A key file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file could not be opened or read.
    #[error("cannot read key file {path}")]
    Io {
        /// The key file's path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// More than [`MAX_FILE_BYTES`](super::MAX_FILE_BYTES).
    #[error("key file {path} is larger than {} MiB", super::MAX_FILE_BYTES >> 20)]
    TooLarge {
        /// The key file's path.
        path: PathBuf,
    },
    /// Not a pseudonym table.
    #[error("key file {path} is not a transcript key")]
    Invalid {
        /// The key file's path.
        path: PathBuf,
        /// The parser's complaint.
        #[source]
        source: serde_json::Error,
    },
    /// A key of another format version.
    #[error(
        "key file {path} has format version {found}; this emulator reads only version {}",
        super::FORMAT_VERSION
    )]
    FormatVersion {
        /// The key file's path.
        path: PathBuf,
        /// The key's version.
        found: String,
    },
}

/// Why a replay could not run.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The world file does not load.
    #[error("cannot build the replay's world")]
    World(#[from] crate::world::WorldError),
    /// A time scale that is not a positive number.
    #[error("the time scale must be a positive number, not {0}")]
    TimeScale(f64),
    /// `--tenant` names a tenant the transcript does not have.
    #[error("--tenant {0}: the transcript has no tenant {0}")]
    UnknownTranscriptTenant(String),
    /// A transcript tenant maps to a tenant the world does not have.
    #[error("transcript tenant {tenant} maps to {tenant_id}, which the world does not have")]
    NotInWorld {
        /// `t1`, …
        tenant: String,
        /// The tenant id it was mapped to.
        tenant_id: String,
    },
    /// More transcript tenants than the world has.
    #[error(
        "transcript tenant {0} has no tenant of the world left to map to (give --tenant {0}=ID)"
    )]
    NoTenantLeft(String),
    /// Two transcript tenants map to one tenant of the world.
    #[error("transcript tenants {0} and {1} both map to {2}")]
    SameTenant(String, String, String),
    /// The replay's emulator refused its own sign-in.
    #[error("the emulator refused the replay's sign-in to {tenant_id} ({status}): {body}")]
    SignIn {
        /// Tenant id.
        tenant_id: String,
        /// The token endpoint's status.
        status: u16,
        /// Its answer.
        body: String,
    },
    /// The sign-in request could not be sent or its answer read.
    #[error("the replay's sign-in to {tenant_id} failed")]
    SignInSend {
        /// Tenant id.
        tenant_id: String,
        /// Why.
        #[source]
        source: SendError,
    },
    /// A request could not be sent to the in-process emulator, or its answer not read.
    #[error("exchange {seq}: the emulator's answer could not be read")]
    Send {
        /// The exchange's `seq`.
        seq: u64,
        /// Why.
        #[source]
        source: SendError,
    },
}

/// A request the in-process emulator could not be sent or answer.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The request could not be built (a path or header value HTTP refuses).
    #[error("the request cannot be built")]
    Build(#[from] axum::http::Error),
    /// The answer's body could not be read.
    #[error("the answer's body cannot be read")]
    Body(#[from] axum::Error),
}
