//! What is sent to Graph and what comes back: [`GraphRequest`] (with `$batch` envelopes
//! already written out as bytes), [`GraphResponse`] (the body parsed into a JSON tree) and
//! [`RawResponse`] (the body's JSON text, for readers that decode it into their own types).

use reqwest::Method;
use serde_json::Value;

/// One Graph request, relative to the version root.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphRequest {
    /// HTTP method.
    pub method: Method,
    /// Path and query relative to the version root (`/users?$select=id`).
    pub path: String,
    /// JSON body.
    pub body: Option<Value>,
    /// Sends `ConsistencyLevel: eventual` (advanced queries, `$count`).
    pub eventual: bool,
    /// A `$batch` envelope's body, already written out (`body` is then `None`).
    pub(super) encoded: Option<Encoded>,
    /// Asked for by ids an earlier run saw: a 404 is the answer (the object is gone), never
    /// replication lag to wait out, whatever this run created.
    pub(crate) guessed: bool,
}

/// A JSON body written out once, and the writes it carries. A `$batch` envelope is built as
/// bytes, not as a `Value` tree with a copy of each item's body: envelopes waiting for their
/// tenant's write pacer would hold such trees, a copy of every body, for as long as they wait.
#[derive(Clone, PartialEq)]
pub(super) struct Encoded {
    pub(super) json: bytes::Bytes,
    /// The ids of the envelope's items that write (its other items are GETs).
    writes: Box<[String]>,
}

impl std::fmt::Debug for Encoded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Item bodies may carry secrets; their length is all a log needs.
        write!(
            f,
            "Encoded({} bytes, writes {:?})",
            self.json.len(),
            self.writes
        )
    }
}

impl GraphRequest {
    /// A GET.
    pub fn get(path: impl Into<String>) -> Self {
        Self {
            method: Method::GET,
            path: path.into(),
            body: None,
            eventual: false,
            encoded: None,
            guessed: false,
        }
    }

    /// A request with a JSON body.
    pub fn with_body(method: Method, path: impl Into<String>, body: Value) -> Self {
        Self {
            method,
            path: path.into(),
            body: Some(body),
            eventual: false,
            encoded: None,
            guessed: false,
        }
    }

    /// A `$batch` envelope already written out, whose items with ids `writes` write.
    pub(crate) fn encoded_batch(json: Vec<u8>, writes: Vec<String>) -> Self {
        Self {
            method: Method::POST,
            path: "/$batch".into(),
            body: None,
            eventual: false,
            encoded: Some(Encoded {
                json: json.into(),
                writes: writes.into(),
            }),
            guessed: false,
        }
    }

    /// The ids of a `$batch` envelope's items that write; `None` for any other request.
    pub(crate) fn batch_write_ids(&self) -> Option<std::collections::HashSet<&str>> {
        if self.path != "/$batch" {
            return None;
        }
        if let Some(encoded) = &self.encoded {
            return Some(encoded.writes.iter().map(String::as_str).collect());
        }
        Some(
            self.body
                .as_ref()
                .and_then(|b| b.get("requests"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|i| i.get("method").and_then(Value::as_str) != Some("GET"))
                .filter_map(|i| i.get("id").and_then(Value::as_str))
                .collect(),
        )
    }

    /// This request, asked for by ids an earlier run saw ([`Self::guessed`]).
    pub(crate) fn guessed(self) -> Self {
        Self {
            guessed: true,
            ..self
        }
    }

    /// A request without a body.
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            body: None,
            eventual: false,
            encoded: None,
            guessed: false,
        }
    }

    /// The writes this call carries: none for a GET, a `$batch`'s non-GET items, or one. A
    /// call with writes goes into the write lane; a `$batch` of GETs is a read.
    pub(super) fn writes(&self) -> u32 {
        if self.method == Method::GET {
            return 0;
        }
        self.batch_write_ids()
            .map_or(1, |ids| u32::try_from(ids.len()).unwrap_or(u32::MAX))
    }
}

/// A successful Graph response.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphResponse {
    /// HTTP status (2xx).
    pub status: u16,
    /// Parsed JSON body; `Null` when empty (204).
    pub body: Value,
    /// `request-id` from Graph.
    pub request_id: Option<String>,
}

/// A successful Graph response whose body is still JSON text: `collect` decodes pages and
/// objects from it straight into its wire types, without a [`Value`] tree in between (a
/// converged mesh answers with some 200,000 assignments).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawResponse {
    /// HTTP status (2xx).
    pub(crate) status: u16,
    /// The body, checked to be one JSON value; `null` when the answer had none (204).
    pub(crate) body: bytes::Bytes,
    /// `request-id` from Graph.
    pub(crate) request_id: Option<String>,
}

impl RawResponse {
    /// The JSON text of an answer without a body.
    pub(crate) const NULL: &'static [u8] = b"null";

    /// The body parsed into a JSON tree. The text was checked to be JSON when it arrived, so
    /// this fails only if that check was skipped.
    pub(crate) fn into_value(self) -> Result<GraphResponse, serde_json::Error> {
        Ok(GraphResponse {
            status: self.status,
            body: serde_json::from_slice(&self.body)?,
            request_id: self.request_id,
        })
    }
}
