//! Errors of the Graph client. Messages name the tenant, the object concerned and the endpoint
//! as the user gave it (`--graph-url`, `--login-url` or the default), show paths with their
//! query strings decoded, and never contain a token or a secret.
//!
//! A request that got no answer says why, typed ([`NetworkFailure`]: refused, DNS, TLS,
//! timeout, closed) and with its cause chained ([`NetworkError`]'s `source()` is the HTTP
//! stack's own error). Each error's `Display` is complete on its own, because reports print
//! errors one per line; `source()` gives the typed cause underneath for code that inspects it.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

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

/// A path and query as people read them: percent-decoded (`$filter=a eq 'b'`, not
/// `$filter=a%20eq%20'b'`). Left as sent when decoding would give control characters or
/// invalid UTF-8.
pub fn shown(path: &str) -> Cow<'_, str> {
    if !path.contains('%') {
        return Cow::Borrowed(path);
    }
    match percent_encoding::percent_decode_str(path).decode_utf8() {
        Ok(decoded) if !decoded.chars().any(char::is_control) => Cow::Owned(decoded.into_owned()),
        _ => Cow::Borrowed(path),
    }
}

/// `text` on one line: its lines trimmed and joined with spaces.
pub(crate) fn one_line(text: &str) -> Cow<'_, str> {
    if !text.contains(['\n', '\r']) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// A duration as people read it: `250ms`, `1.5s`, `5s`, `2m05s`, `15m`, `1h30m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Human(pub Duration);

impl fmt::Display for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        let secs = d.as_secs();
        if d < Duration::from_secs(1) {
            write!(f, "{}ms", d.as_millis())
        } else if secs < 60 && d.subsec_millis() == 0 {
            write!(f, "{secs}s")
        } else if secs < 60 {
            write!(f, "{:.1}s", d.as_secs_f64())
        } else if secs < 3600 && secs.is_multiple_of(60) {
            write!(f, "{}m", secs / 60)
        } else if secs < 3600 {
            write!(f, "{}m{:02}s", secs / 60, secs % 60)
        } else if secs.is_multiple_of(3600) {
            write!(f, "{}h", secs / 3600)
        } else {
            write!(f, "{}h{:02}m", secs / 3600, (secs % 3600) / 60)
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// hyper-util's connector error: a message, and the OS error under it.
    #[derive(Debug)]
    struct Connect(&'static str, std::io::Error);

    impl fmt::Display for Connect {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Connect {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.1)
        }
    }

    #[test]
    fn failures_are_told_apart_from_their_cause_chain() {
        use std::io::{Error, ErrorKind};
        let refused = Connect(
            "tcp connect error",
            Error::new(
                ErrorKind::ConnectionRefused,
                "Connection refused (os error 111)",
            ),
        );
        assert_eq!(NetworkFailure::of(&refused), NetworkFailure::Refused);
        // What getaddrinfo says for a name that does not resolve, offline or not.
        let dns = Connect(
            "dns error",
            Error::other("failed to lookup address information: Name or service not known"),
        );
        assert_eq!(NetworkFailure::of(&dns), NetworkFailure::Dns);
        let again = Error::other("failed to lookup address information: Temporary failure");
        assert_eq!(NetworkFailure::of(&again), NetworkFailure::Dns);
        let tls = Error::new(
            ErrorKind::InvalidData,
            "invalid peer certificate: UnknownIssuer",
        );
        assert_eq!(NetworkFailure::of(&tls), NetworkFailure::Tls);
        let timeout = Error::new(ErrorKind::TimedOut, "connection timed out");
        assert_eq!(NetworkFailure::of(&timeout), NetworkFailure::Timeout);
        let reset = Error::new(ErrorKind::ConnectionReset, "connection reset by peer");
        assert_eq!(NetworkFailure::of(&reset), NetworkFailure::Closed);
        assert_eq!(
            NetworkFailure::of(&Error::other("something else")),
            NetworkFailure::Other
        );
    }

    #[test]
    fn a_network_error_names_the_url_and_chains_its_cause() {
        use std::error::Error as _;
        let cause = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "invalid peer certificate: UnknownIssuer",
        );
        let e = NetworkError::new(Service::Graph, "https://graph.example", cause);
        assert_eq!(e.kind, NetworkFailure::Tls);
        assert_eq!(
            e.to_string(),
            "Microsoft Graph at https://graph.example: the TLS handshake failed (invalid peer certificate: UnknownIssuer)"
        );
        let source = e.source().expect("chained");
        assert!(source.downcast_ref::<std::io::Error>().is_some());

        let graph = GraphError::GaveUp {
            tenant: "contoso".into(),
            method: "POST".into(),
            path: "/$batch".into(),
            attempts: 3,
            elapsed: Duration::from_millis(750),
            last: Box::new(GraphError::Transport {
                tenant: "contoso".into(),
                method: "POST".into(),
                path: "/$batch".into(),
                cause: NetworkError::timeout(Service::Graph, "http://127.0.0.1:9"),
            }),
        };
        assert_eq!(
            graph.to_string(),
            "tenant contoso: POST /$batch still failing after 3 attempts over 750ms; last error: got no answer from Microsoft Graph at http://127.0.0.1:9: timed out"
        );
        assert_eq!(
            graph.network().map(|n| n.kind),
            Some(NetworkFailure::Timeout)
        );
        assert_eq!(
            graph.unreachable().as_deref(),
            Some(
                "tenant contoso: no answer from Microsoft Graph at http://127.0.0.1:9: timed out, after 3 attempts over 750ms"
            )
        );
        // The chain: GaveUp → Transport → NetworkError.
        let transport = graph.source().expect("last error");
        let network = transport.source().expect("network error");
        assert!(network.downcast_ref::<NetworkError>().is_some());

        // An item of a $batch that got no answer fails the same way, under its own path.
        let item = graph.for_request("GET", "/users?$filter=a%20eq%20'b'");
        assert_eq!(
            item.to_string(),
            "tenant contoso: GET /users?$filter=a eq 'b' still failing after 3 attempts over 750ms; last error: got no answer from Microsoft Graph at http://127.0.0.1:9: timed out"
        );
    }

    #[test]
    fn paths_are_shown_decoded() {
        let e = StatusError {
            tenant: "t".into(),
            method: "GET".into(),
            path:
                "/servicePrincipals?$filter=applicationTemplateId%20eq%20'518e'&$select=id%2CappId"
                    .into(),
            status: 400,
            code: "BadRequest".into(),
            message: "no".into(),
            request_id: None,
            retry_after: None,
        };
        assert_eq!(
            e.to_string(),
            "tenant t: GET /servicePrincipals?$filter=applicationTemplateId eq '518e'&$select=id,appId failed with HTTP 400 BadRequest: no"
        );
        // Nothing that would break a line, or is not text, is decoded.
        assert_eq!(shown("/x?a=%0Ab"), "/x?a=%0Ab");
        assert_eq!(shown("/x?a=%FF"), "/x?a=%FF");
        assert_eq!(shown("/x?a=b"), "/x?a=b");
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(Human(Duration::from_millis(250)).to_string(), "250ms");
        assert_eq!(Human(Duration::from_millis(1500)).to_string(), "1.5s");
        assert_eq!(Human(Duration::from_secs(125)).to_string(), "2m05s");
        assert_eq!(Human(Duration::from_secs(5400)).to_string(), "1h30m");
        assert_eq!(Human(Duration::from_secs(5)).to_string(), "5s");
        assert_eq!(Human(Duration::from_secs(900)).to_string(), "15m");
        assert_eq!(Human(Duration::from_secs(7200)).to_string(), "2h");
    }
}
