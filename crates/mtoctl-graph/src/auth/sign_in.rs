//! How sign-in requests go out: one azure_core pipeline policy, run for each request a
//! credential sends to the login endpoint (per try, before azure_core's logging and transport).
//!
//! - **Loopback.** azure_identity only accepts an HTTPS authority; the emulator listens on
//!   plain HTTP on 127.0.0.1. Credentials are given an HTTPS placeholder authority, and this
//!   policy points each request at the loopback endpoint (path and query kept) before anything
//!   logs or sends it, so logs and errors show the URL the user gave, never the placeholder.
//! - **Retries.** azure_identity's own retry policy is turned off (it retried a refused
//!   connection for 82 s, silently, and said only "retry policy expired"). This policy retries
//!   as Graph requests are retried (`transport::retry`): within the overall deadline, a refused
//!   loopback endpoint or a failed TLS handshake only a few times quickly, `Retry-After`
//!   honoured on 429 and 503, each retry announced at WARN (one sign-in per tenant: never many).
//!   A managed identity credential keeps its own retries (IMDS's guidance); for it this policy
//!   makes one attempt per try, pointed and typed.
//! - **Errors.** A sign-in that gets no answer fails with a [`SignInError`] (typed: refused,
//!   DNS, TLS, timeout; naming the login endpoint as given), chained under azure_identity's
//!   error so the Graph client can find it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use azure_core::error::ErrorKind;
use azure_core::http::headers::RETRY_AFTER;
use azure_core::http::policies::{Policy, PolicyResult};
use azure_core::http::{Body, Context, Request, StatusCode};
use url::Url;

use crate::error::{NetworkError, Service, SignInError};
use crate::transport::retry::{self, Jitter, RetryPolicy, parse_retry_after};

/// Token endpoint answers that are retried (azure_core's own list).
const RETRIED: [StatusCode; 6] = [
    StatusCode::RequestTimeout,
    StatusCode::TooManyRequests,
    StatusCode::InternalServerError,
    StatusCode::BadGateway,
    StatusCode::ServiceUnavailable,
    StatusCode::GatewayTimeout,
];

/// The shortest time limit of one sign-in attempt, however little is left of the deadline.
const MIN_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);

/// The per-try policy of one tenant's credential (see the module documentation).
#[derive(Debug)]
pub(super) struct SignIn {
    /// Tenant alias, for announcements.
    tenant: String,
    /// The loopback base URL requests are sent to instead of the placeholder authority.
    rewrite_to: Option<Url>,
    /// The login authority as it is reached (after any rewrite), to tell its requests from
    /// others (a managed identity endpoint).
    login: Url,
    /// The login authority as the user gave it, for messages.
    login_given: String,
    /// Retries; `None` when the credential retries on its own (managed identity).
    retry: Option<RetryPolicy>,
    jitter: Jitter,
}

impl SignIn {
    /// The policy for `tenant`'s credential. `rewrite_to` is a loopback URL (checked by
    /// `endpoints`), `login` the authority, `login_given` the same as the user wrote it.
    pub(super) fn new(
        tenant: &str,
        rewrite_to: Option<Url>,
        login: Url,
        login_given: &str,
        retry: Option<RetryPolicy>,
    ) -> Arc<Self> {
        Arc::new(Self {
            tenant: tenant.to_owned(),
            rewrite_to,
            login,
            login_given: login_given.to_owned(),
            retry,
            jitter: Jitter::new(),
        })
    }

    /// Points the request at the loopback endpoint, when there is one.
    fn rewrite(&self, request: &mut Request) -> azure_core::Result<()> {
        let Some(target) = &self.rewrite_to else {
            return Ok(());
        };
        let url = request.url_mut();
        let rewritten = url
            .set_scheme(target.scheme())
            .and_then(|()| url.set_host(target.host_str()).map_err(|_| ()))
            .and_then(|()| url.set_port(target.port()));
        rewritten.map_err(|()| {
            azure_core::Error::with_message(
                ErrorKind::Other,
                "cannot point the login request at the loopback authority",
            )
        })
    }

    /// The endpoint a request goes to, as the user gave it: the login authority, or the
    /// request's own origin (a managed identity endpoint).
    fn shown(&self, url: &Url) -> (String, bool) {
        let same = url.scheme() == self.login.scheme()
            && url.host_str() == self.login.host_str()
            && url.port_or_known_default() == self.login.port_or_known_default();
        if same {
            (
                self.login_given.clone(),
                crate::endpoints::is_loopback(&self.login),
            )
        } else {
            let origin = url.origin().ascii_serialization();
            (origin, crate::endpoints::is_loopback(url))
        }
    }
}

/// What one attempt came to, when it is not the answer.
enum Failed {
    /// An answer worth retrying (429, 5xx), kept to hand back when retries run out.
    Status(azure_core::http::AsyncRawResponse, Option<Duration>),
    /// No answer.
    Network(NetworkError),
}

#[async_trait]
impl Policy for SignIn {
    async fn send(
        &self,
        ctx: &Context,
        request: &mut Request,
        next: &[Arc<dyn Policy>],
    ) -> PolicyResult {
        self.rewrite(request)?;
        let (url, loopback) = self.shown(request.url());
        let policy = self.retry.clone().unwrap_or(RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        });
        // A streamed body cannot be sent twice; token requests have a form body.
        let replayable = matches!(request.body(), Body::Bytes(_));
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let limit = policy
                .deadline
                .saturating_sub(started.elapsed())
                .max(MIN_ATTEMPT_TIMEOUT);
            let outcome = tokio::time::timeout(limit, next[0].send(ctx, request, &next[1..])).await;
            let failed = match outcome {
                Ok(Ok(response)) if RETRIED.contains(&response.status()) => {
                    let after =
                        parse_retry_after(response.headers().get_optional_str(&RETRY_AFTER));
                    Failed::Status(response, after)
                }
                Ok(Ok(response)) => return Ok(response),
                Ok(Err(e)) if matches!(e.kind(), ErrorKind::Io | ErrorKind::Connection) => {
                    Failed::Network(network_error(e, &url))
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => Failed::Network(NetworkError::timeout(Service::Login, url.clone())),
            };
            let (failure, after, why) = match &failed {
                Failed::Status(response, after) => {
                    let status: u16 = response.status().into();
                    (None, *after, format!("HTTP {status} from {url}"))
                }
                Failed::Network(cause) => {
                    (Some(cause.kind), None, format!("no answer from {cause}"))
                }
            };
            let max = if replayable {
                policy.attempts_for(failure, loopback)
            } else {
                1
            };
            let delay = policy.delay_for(attempt, after, failure, loopback, self.jitter.unit());
            let elapsed = started.elapsed();
            if attempt >= max || elapsed + delay > policy.deadline {
                return match failed {
                    // azure_identity reads the error from the answer (AADSTS codes).
                    Failed::Status(response, _) => Ok(response),
                    Failed::Network(cause) => {
                        let error = SignInError {
                            attempts: attempt,
                            elapsed,
                            cause,
                        };
                        let message = error.to_string();
                        Err(azure_core::Error::with_error(
                            ErrorKind::Connection,
                            error,
                            message,
                        ))
                    }
                };
            }
            drop(failed);
            retry::Announce {
                what: &format!("tenant {}: sign-in", self.tenant),
                why: &why,
                delay,
                next: attempt + 1,
                max,
                left: policy.deadline.saturating_sub(elapsed),
                deadline: policy.deadline,
                // One sign-in per tenant: any retry of it is worth a line.
                loud: true,
            }
            .emit();
            tokio::time::sleep(delay).await;
        }
    }
}

/// A sign-in request that got no answer, classified from azure_core's error (whose cause is
/// reqwest's), naming the endpoint as given. The cause keeps no URL.
fn network_error(error: azure_core::Error, url: &str) -> NetworkError {
    match error.into_inner() {
        Ok(inner) => match inner.downcast::<reqwest::Error>() {
            Ok(reqwest) => NetworkError::new(Service::Login, url, reqwest.without_url()),
            Err(other) => NetworkError::new(Service::Login, url, Boxed(other)),
        },
        Err(e) => NetworkError::new(Service::Login, url, e),
    }
}

/// A boxed error as an error type of its own (a `Box<dyn Error>` is not one).
#[derive(Debug)]
struct Boxed(Box<dyn std::error::Error + Send + Sync>);

impl std::fmt::Display for Boxed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Boxed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        // The boxed error itself, so that classifying walks it too.
        Some(&*self.0)
    }
}
