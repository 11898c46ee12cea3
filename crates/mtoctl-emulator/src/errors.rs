//! Graph error values and the error body of graph-reference §8.2.

use serde_json::{Value, json};

/// A Graph error: HTTP status, `code`, `message` and optional `details`.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphError {
    /// HTTP status.
    pub status: u16,
    /// Graph error code (clients branch on this).
    pub code: String,
    /// Human-readable message.
    pub message: String,
    /// Optional `details` array entries.
    pub details: Vec<Value>,
    /// Extra response headers (for example `Retry-After`).
    pub headers: Vec<(String, String)>,
}

/// Result type of Graph handlers.
pub type GraphResult<T> = Result<T, GraphError>;

impl GraphError {
    /// An error with the given status, code and message.
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
            details: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// 400 `Request_BadRequest`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "Request_BadRequest", message)
    }

    /// 404 `Request_ResourceNotFound` for resource `what`.
    pub fn not_found(what: &str) -> Self {
        Self::new(
            404,
            "Request_ResourceNotFound",
            format!(
                "Resource '{what}' does not exist or one of its queried reference-property objects are not present."
            ),
        )
    }

    /// 404 `Directory_ObjectNotFound` (removed MTO member, missing identity sync policy).
    pub fn directory_object_not_found() -> Self {
        Self::new(
            404,
            "Directory_ObjectNotFound",
            "Unable to read the company information from the directory.",
        )
    }

    /// 403 `Authorization_RequestDenied`.
    pub fn forbidden() -> Self {
        Self::new(
            403,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        )
    }

    /// 409 `Request_MultipleObjectsWithSameKeyValue` with a `ConflictingObjects` detail.
    pub fn conflict(message: impl Into<String>) -> Self {
        let message = message.into();
        let mut e = Self::new(
            409,
            "Request_MultipleObjectsWithSameKeyValue",
            message.clone(),
        );
        e.details
            .push(json!({"code": "ConflictingObjects", "message": message, "target": null}));
        e
    }

    /// 405 for a path that exists with another method.
    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "Request_BadRequest",
            "The specified HTTP method is not allowed for the request URI.",
        )
    }

    /// 400 `BadRequest` for a path the emulator does not know.
    pub fn unknown_segment(path: &str) -> Self {
        Self::new(
            400,
            "BadRequest",
            format!("Resource not found for the segment '{path}'."),
        )
    }

    /// 401 `InvalidAuthenticationToken`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(401, "InvalidAuthenticationToken", message)
    }

    /// Add a response header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// The JSON body of §8.2, with `innerError` carrying the date and request ids.
    pub fn body(&self, date: &str, request_id: &str, client_request_id: Option<&str>) -> Value {
        let mut inner = serde_json::Map::new();
        if self.status == 429 {
            inner.insert("code".into(), json!("429"));
            inner.insert("status".into(), json!("429"));
        }
        inner.insert("date".into(), json!(date));
        inner.insert("request-id".into(), json!(request_id));
        inner.insert(
            "client-request-id".into(),
            json!(client_request_id.unwrap_or(request_id)),
        );
        let mut err = serde_json::Map::new();
        err.insert("code".into(), json!(self.code));
        err.insert("message".into(), json!(self.message));
        if !self.details.is_empty() {
            err.insert("details".into(), Value::Array(self.details.clone()));
        }
        err.insert("innerError".into(), Value::Object(inner));
        json!({ "error": err })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_reference_shape() {
        let b = GraphError::not_found("x").body("2026-01-01T00:00:00", "rid", Some("cid"));
        assert_eq!(b["error"]["code"], "Request_ResourceNotFound");
        assert_eq!(b["error"]["innerError"]["request-id"], "rid");
        assert_eq!(b["error"]["innerError"]["client-request-id"], "cid");
        assert!(b["error"].get("details").is_none());
        let c = GraphError::conflict("dup").body("d", "r", None);
        assert_eq!(c["error"]["details"][0]["code"], "ConflictingObjects");
    }
}
