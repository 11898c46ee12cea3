//! Errors of the Graph client. Messages name the tenant and the object concerned and never
//! contain a token or a secret.

use std::time::Duration;

/// A failed Graph operation.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GraphError {
    /// Graph answered with an error status.
    #[error("{0}")]
    Status(Box<StatusError>),
    /// The request never got an answer (connection refused or reset, timeout).
    #[error("tenant {tenant}: {method} {path} got no answer: {reason}")]
    Transport {
        /// Tenant alias.
        tenant: String,
        /// HTTP method.
        method: String,
        /// Path.
        path: String,
        /// What happened (without URLs' query secrets: Graph URLs carry none).
        reason: String,
    },
    /// Retries went on until the overall deadline.
    #[error(
        "tenant {tenant}: {method} {path} still failing after {attempts} attempts over {elapsed:?}; last error: {last}"
    )]
    GaveUp {
        /// Tenant alias.
        tenant: String,
        /// HTTP method.
        method: String,
        /// Path.
        path: String,
        /// Attempts made.
        attempts: u32,
        /// Time spent.
        elapsed: Duration,
        /// The last error.
        last: Box<GraphError>,
    },
    /// A response body was not what the wire reference describes.
    #[error("tenant {tenant}: {method} {path} returned a body mtoctl cannot read: {reason}")]
    Decode {
        /// Tenant alias.
        tenant: String,
        /// HTTP method.
        method: String,
        /// Path.
        path: String,
        /// Why.
        reason: String,
    },
    /// No token could be obtained.
    #[error("tenant {tenant}: cannot get a Microsoft Graph token: {reason}")]
    Token {
        /// Tenant alias.
        tenant: String,
        /// Why, from the credential (AADSTS codes included, secrets never).
        reason: String,
    },
    /// The client was asked about a tenant it has no credential for (a bug in the caller).
    #[error("tenant {0} is not configured in the Graph client")]
    UnknownTenant(String),
}

/// The details of an error status from Graph (boxed: errors travel in `Result`s everywhere).
#[derive(Debug, Clone, thiserror::Error)]
#[error("tenant {tenant}: {method} {path} failed with HTTP {status} {code}: {message}{}", request_id_suffix(.request_id))]
pub struct StatusError {
    /// Tenant alias.
    pub tenant: String,
    /// HTTP method.
    pub method: String,
    /// Path relative to the Graph version root.
    pub path: String,
    /// HTTP status.
    pub status: u16,
    /// Graph error code (`Request_ResourceNotFound`, …).
    pub code: String,
    /// Graph error message.
    pub message: String,
    /// `request-id` of the failed call, for Microsoft support.
    pub request_id: Option<String>,
    /// `Retry-After`, when Graph gave one.
    pub retry_after: Option<Duration>,
}

fn request_id_suffix(id: &Option<String>) -> String {
    id.as_ref()
        .map(|id| format!(" (request-id {id})"))
        .unwrap_or_default()
}

impl GraphError {
    /// The HTTP status, if Graph answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            GraphError::Status(e) => Some(e.status),
            GraphError::GaveUp { last, .. } => last.status(),
            _ => None,
        }
    }

    /// The Graph error code, if Graph answered.
    pub fn code(&self) -> Option<&str> {
        match self {
            GraphError::Status(e) => Some(&e.code),
            GraphError::GaveUp { last, .. } => last.code(),
            _ => None,
        }
    }

    /// Whether this is a 404 (the object does not exist, or not yet).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}

/// Why a credential could not be set up for a tenant (before any network call).
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// An environment variable the spec names is not set.
    #[error(
        "tenant {tenant}: the environment variable {variable} (named by {field} in the spec) is not set; export it before running mtoctl"
    )]
    MissingVariable {
        /// Tenant alias.
        tenant: String,
        /// The variable.
        variable: String,
        /// The spec field naming it.
        field: String,
    },
    /// A file the spec names cannot be read.
    #[error("tenant {tenant}: cannot read {what} `{path}`: {reason}")]
    File {
        /// Tenant alias.
        tenant: String,
        /// What the file is.
        what: String,
        /// Its path.
        path: String,
        /// The OS error.
        reason: String,
    },
    /// The credential library refused the configuration.
    #[error("tenant {tenant}: cannot set up the {kind} credential: {reason}")]
    Setup {
        /// Tenant alias.
        tenant: String,
        /// Credential kind.
        kind: String,
        /// Why.
        reason: String,
    },
    /// An endpoint override is not acceptable.
    #[error("{0}")]
    Endpoint(String),
}
