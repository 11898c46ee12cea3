//! A request that got no answer: the endpoint it went to, what failed ([`NetworkFailure`],
//! classified from the HTTP stack's cause chain) and, for sign-ins, after how many attempts.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::{Human, one_line};

/// What kept a request from being answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NetworkFailure {
    /// Nothing accepts connections at the address (the connection was refused).
    Refused,
    /// The host name does not resolve.
    Dns,
    /// The TLS handshake failed (a certificate, or a server that does not speak TLS).
    Tls,
    /// No answer in time (to connect, or to answer).
    Timeout,
    /// The connection was reset or closed before the answer was complete.
    Closed,
    /// Anything else the HTTP stack reports.
    Other,
}

impl fmt::Display for NetworkFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NetworkFailure::Refused => "connection refused",
            NetworkFailure::Dns => "the host name does not resolve (DNS)",
            NetworkFailure::Tls => "the TLS handshake failed",
            NetworkFailure::Timeout => "timed out",
            NetworkFailure::Closed => "the connection was closed before the answer",
            NetworkFailure::Other => "the request could not be sent",
        })
    }
}

impl NetworkFailure {
    /// Classifies an error of the HTTP stack (reqwest, hyper, rustls, the OS) by walking its
    /// `source()` chain.
    pub fn of(error: &(dyn std::error::Error + 'static)) -> Self {
        let mut closed = false;
        let mut invalid_data = false;
        let mut connecting = false;
        let mut tls_words = false;
        let mut next = Some(error);
        while let Some(e) = next {
            if let Some(r) = e.downcast_ref::<reqwest::Error>() {
                if r.is_timeout() {
                    return NetworkFailure::Timeout;
                }
                connecting |= r.is_connect();
            }
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                match io.kind() {
                    std::io::ErrorKind::ConnectionRefused => return NetworkFailure::Refused,
                    std::io::ErrorKind::TimedOut => return NetworkFailure::Timeout,
                    std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::UnexpectedEof
                    | std::io::ErrorKind::NotConnected => closed = true,
                    // rustls reports its failures as InvalidData.
                    std::io::ErrorKind::InvalidData => invalid_data = true,
                    _ => {}
                }
            }
            let text = e.to_string().to_ascii_lowercase();
            // hyper-util's connector says "dns error"; getaddrinfo "failed to lookup address".
            if text.starts_with("dns error") || text.contains("failed to lookup address") {
                return NetworkFailure::Dns;
            }
            tls_words |= text.contains("certificate")
                || text.contains("handshake")
                || text.contains("tls")
                || text.contains("corrupt message");
            closed |= text.contains("connection closed") || text.contains("connection reset");
            next = e.source();
        }
        if (invalid_data && connecting) || tls_words {
            NetworkFailure::Tls
        } else if closed {
            NetworkFailure::Closed
        } else {
            NetworkFailure::Other
        }
    }
}

/// Which endpoint a request went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// Microsoft Graph (`--graph-url`).
    Graph,
    /// The login authority (`--login-url`), or a managed identity endpoint.
    Login,
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Service::Graph => "Microsoft Graph",
            Service::Login => "the login endpoint",
        })
    }
}

/// A request that got no answer: what failed, and at which endpoint, named as the user gave
/// it. Its `source()` is the HTTP stack's error (with no URL in it).
#[derive(Debug, Clone)]
pub struct NetworkError {
    /// Which endpoint.
    pub service: Service,
    /// The endpoint as the user gave it (`http://127.0.0.1:4000`, never a placeholder or
    /// rewritten host), without user name or password.
    pub url: String,
    /// What failed.
    pub kind: NetworkFailure,
    /// The HTTP stack's error, if there is one (a timeout of mtoctl's own has none).
    pub source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl NetworkError {
    /// `source`, classified, as the failure of a request to `url` at `service`.
    pub fn new(
        service: Service,
        url: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        let kind = NetworkFailure::of(&source);
        Self {
            service,
            url: url.into(),
            kind,
            source: Some(Arc::new(source)),
        }
    }

    /// No answer before mtoctl's own time limit ran out (the overall deadline).
    pub fn timeout(service: Service, url: impl Into<String>) -> Self {
        Self {
            service,
            url: url.into(),
            kind: NetworkFailure::Timeout,
            source: None,
        }
    }

    /// What the innermost cause says, when it adds to the kind (a certificate problem, an
    /// unclassified failure).
    fn detail(&self) -> Option<String> {
        if !matches!(self.kind, NetworkFailure::Tls | NetworkFailure::Other) {
            return None;
        }
        let mut innermost: &(dyn std::error::Error + 'static) = self.source.as_deref()?;
        while let Some(next) = innermost.source() {
            innermost = next;
        }
        Some(one_line(&innermost.to_string()).into_owned())
    }
}

impl fmt::Display for NetworkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}: {}", self.service, self.url, self.kind)?;
        match self.detail() {
            Some(detail) if !detail.is_empty() => write!(f, " ({detail})"),
            _ => Ok(()),
        }
    }
}

impl std::error::Error for NetworkError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// A sign-in that got no answer from the login endpoint, after its retries.
#[derive(Debug, Clone, thiserror::Error)]
#[error("no answer from {cause}, after {attempts} attempts over {}", Human(*.elapsed))]
pub struct SignInError {
    /// Attempts made.
    pub attempts: u32,
    /// Time spent.
    pub elapsed: Duration,
    /// The last attempt's failure.
    #[source]
    pub cause: NetworkError,
}

impl SignInError {
    /// The first `SignInError` in `error`'s `source()` chain (azure_identity wraps it).
    pub fn find_in<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a SignInError> {
        let mut next = Some(error);
        while let Some(e) = next {
            if let Some(found) = e.downcast_ref::<SignInError>() {
                return Some(found);
            }
            next = e.source();
        }
        None
    }
}
