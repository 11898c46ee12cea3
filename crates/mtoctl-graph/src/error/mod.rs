//! Errors of the Graph client. Messages name the tenant, the object concerned and the endpoint
//! as the user gave it (`--graph-url`, `--login-url` or the default), show paths with their
//! query strings decoded, and never contain a token or a secret.
//!
//! A request that got no answer says why, typed ([`NetworkFailure`]: refused, DNS, TLS,
//! timeout, closed) and with its cause chained ([`NetworkError`]'s `source()` is the HTTP
//! stack's own error). Each error's `Display` is complete on its own, because reports print
//! errors one per line; `source()` gives the typed cause underneath for code that inspects it.
//!
//! Beside [`GraphError`] here: `network` (a request that got no answer, and why), `auth`
//! (a credential that could not be set up) and `text` (paths, durations and messages as people
//! read them).

mod auth;
mod network;
#[cfg(test)]
mod tests;
mod text;

use std::time::Duration;

pub use auth::AuthError;
pub use network::{NetworkError, NetworkFailure, Service, SignInError};
pub(crate) use text::one_line;
pub use text::{Human, shown};

/// A failed Graph operation.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GraphError {
    /// Graph answered with an error status.
    #[error("{0}")]
    Status(Box<StatusError>),
    /// The request never got an answer (connection refused, name not resolved, TLS, timeout).
    #[error("tenant {tenant}: {method} {} got no answer from {cause}", shown(.path))]
    Transport {
        /// Tenant alias.
        tenant: String,
        /// HTTP method.
        method: String,
        /// Path and query relative to the version root, as sent (URL-encoded).
        path: String,
        /// What failed, and where.
        #[source]
        cause: NetworkError,
    },
    /// Retries went on until the attempts or the overall deadline ran out.
    #[error(
        "tenant {tenant}: {method} {} still failing after {attempts} attempts over {}; last error: {}",
        shown(.path),
        Human(*.elapsed),
        .last.reason()
    )]
    GaveUp {
        /// Tenant alias.
        tenant: String,
        /// HTTP method.
        method: String,
        /// Path and query, as sent.
        path: String,
        /// Attempts made.
        attempts: u32,
        /// Time spent.
        elapsed: Duration,
        /// The last error.
        #[source]
        last: Box<GraphError>,
    },
    /// A request carried in a `$batch` whose envelope failed for good (with an error status or
    /// a body that could not be read; an envelope that got no answer, or no token, fails its
    /// requests with that error itself).
    #[error(
        "tenant {tenant}: {method} {} was sent in a $batch that failed: {}",
        shown(.path),
        .batch.reason()
    )]
    InBatch {
        /// Tenant alias.
        tenant: String,
        /// HTTP method.
        method: String,
        /// Path and query, as sent.
        path: String,
        /// The envelope's error.
        #[source]
        batch: Box<GraphError>,
    },
    /// A response body was not what the wire reference describes.
    #[error("tenant {tenant}: {method} {} returned a body mtoctl cannot read: {reason}", shown(.path))]
    Decode {
        /// Tenant alias.
        tenant: String,
        /// HTTP method.
        method: String,
        /// Path and query, as sent.
        path: String,
        /// Why.
        reason: String,
    },
    /// A request body could not be written out (never happens with Graph's JSON).
    #[error("tenant {tenant}: {method} {} could not be written as JSON: {reason}", shown(.path))]
    Encode {
        /// Tenant alias.
        tenant: String,
        /// HTTP method.
        method: String,
        /// Path and query, as sent.
        path: String,
        /// Why.
        reason: String,
    },
    /// No token could be obtained.
    #[error("tenant {tenant}: cannot get a Microsoft Graph token: {reason}")]
    Token {
        /// Tenant alias.
        tenant: String,
        /// Why, on one line: from the credential (AADSTS codes included, secrets never), or
        /// the login endpoint that could not be reached.
        reason: String,
        /// The login endpoint's network failure, when that is why.
        #[source]
        cause: Option<SignInError>,
    },
    /// The client was asked about a tenant it has no credential for (a bug in the caller).
    #[error("tenant {0} is not configured in the Graph client")]
    UnknownTenant(String),
}

/// The details of an error status from Graph (boxed: errors travel in `Result`s everywhere).
#[derive(Debug, Clone, thiserror::Error)]
#[error("tenant {tenant}: {method} {} failed with HTTP {status} {code}: {message}{}", shown(.path), request_id_suffix(.request_id))]
pub struct StatusError {
    /// Tenant alias.
    pub tenant: String,
    /// HTTP method.
    pub method: String,
    /// Path relative to the Graph version root, as sent (URL-encoded).
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

    /// The network failure behind this error: the request got no answer, or no token could be
    /// had because the login endpoint could not be reached.
    pub fn network(&self) -> Option<&NetworkError> {
        match self {
            GraphError::Transport { cause, .. } => Some(cause),
            GraphError::GaveUp { last, .. } => last.network(),
            GraphError::InBatch { batch, .. } => batch.network(),
            GraphError::Token { cause, .. } => cause.as_ref().map(|c| &c.cause),
            _ => None,
        }
    }

    /// The tenant the error is about.
    pub fn tenant(&self) -> &str {
        match self {
            GraphError::Status(e) => &e.tenant,
            GraphError::Transport { tenant, .. }
            | GraphError::GaveUp { tenant, .. }
            | GraphError::InBatch { tenant, .. }
            | GraphError::Decode { tenant, .. }
            | GraphError::Encode { tenant, .. }
            | GraphError::Token { tenant, .. }
            | GraphError::UnknownTenant(tenant) => tenant,
        }
    }

    /// When this error says that the tenant could not be reached at all (no token, or no
    /// answer from Graph) rather than something about one request: a one-line summary naming
    /// the tenant, the endpoint as the user gave it and what failed. Every request to such a
    /// tenant fails the same way, so reports say it once per tenant, not once per request.
    pub fn unreachable(&self) -> Option<String> {
        match self {
            GraphError::Token { .. } => Some(self.to_string()),
            GraphError::Transport { tenant, cause, .. } => {
                Some(format!("tenant {tenant}: no answer from {cause}"))
            }
            GraphError::GaveUp {
                tenant,
                attempts,
                elapsed,
                last,
                ..
            } => {
                let cause = last.network()?;
                Some(format!(
                    "tenant {tenant}: no answer from {cause}, after {attempts} attempts over {}",
                    Human(*elapsed)
                ))
            }
            _ => None,
        }
    }

    /// What went wrong, without the `tenant …: METHOD path` this error's `Display` begins with.
    pub fn reason(&self) -> String {
        match self {
            GraphError::Status(e) => format!(
                "failed with HTTP {} {}: {}{}",
                e.status,
                e.code,
                e.message,
                request_id_suffix(&e.request_id)
            ),
            GraphError::Transport { cause, .. } => format!("got no answer from {cause}"),
            GraphError::GaveUp {
                attempts,
                elapsed,
                last,
                ..
            } => format!(
                "still failing after {attempts} attempts over {}; last error: {}",
                Human(*elapsed),
                last.reason()
            ),
            GraphError::InBatch { batch, .. } => {
                format!("was sent in a $batch that failed: {}", batch.reason())
            }
            GraphError::Decode { reason, .. } => {
                format!("returned a body mtoctl cannot read: {reason}")
            }
            GraphError::Encode { reason, .. } => {
                format!("could not be written as JSON: {reason}")
            }
            GraphError::Token { .. } | GraphError::UnknownTenant(_) => self.to_string(),
        }
    }

    /// This error as the error of another request: a `$batch`'s item that fails because its
    /// envelope did. No token, or no answer, is the item's own error (it was sent, attempted
    /// as often and failed the same way); any other failure of the envelope is wrapped.
    pub(crate) fn for_request(&self, method: &str, path: &str) -> GraphError {
        match self {
            GraphError::Token { .. } => self.clone(),
            GraphError::Transport { tenant, cause, .. } => GraphError::Transport {
                tenant: tenant.clone(),
                method: method.to_owned(),
                path: path.to_owned(),
                cause: cause.clone(),
            },
            GraphError::GaveUp {
                tenant,
                attempts,
                elapsed,
                last,
                ..
            } if last.network().is_some() => GraphError::GaveUp {
                tenant: tenant.clone(),
                method: method.to_owned(),
                path: path.to_owned(),
                attempts: *attempts,
                elapsed: *elapsed,
                last: Box::new(last.for_request(method, path)),
            },
            other => GraphError::InBatch {
                tenant: other.tenant().to_owned(),
                method: method.to_owned(),
                path: path.to_owned(),
                batch: Box::new(other.clone()),
            },
        }
    }
}
