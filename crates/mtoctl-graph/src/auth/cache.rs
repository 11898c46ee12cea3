//! A token cache in front of every credential.
//!
//! azure_identity caches most credentials' tokens, but not the Azure CLI's (each call runs
//! `az`), and a cache per tenant here also makes concurrent first requests share one sign-in.
//! Tokens are refreshed five minutes before they expire.
//!
//! A failed sign-in is remembered for [`FAILURE_MEMORY`]: the credential has already retried
//! (within the overall deadline, see `sign_in`), so the requests queued behind it fail at once
//! with the same error, its typed cause included, instead of each retrying again in turn.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use azure_core::error::{Error, ErrorKind};
use azure_core::time::{Duration, OffsetDateTime};
use tokio::sync::Mutex;

use crate::error::SignInError;

/// How long a failed sign-in is answered from memory.
pub const FAILURE_MEMORY: std::time::Duration = std::time::Duration::from_secs(120);

/// Caches the token of one credential for one scope set.
pub struct CachedCredential {
    inner: Arc<dyn TokenCredential>,
    cached: Mutex<Cached>,
    fetches: AtomicU64,
}

#[derive(Default)]
struct Cached {
    token: Option<(Vec<String>, AccessToken)>,
    /// The last failure, and when it happened.
    failure: Option<(Failure, std::time::Instant)>,
}

/// What is remembered of a failed sign-in: its kind and message, and the login endpoint's
/// network failure when that was why.
struct Failure {
    kind: ErrorKind,
    message: String,
    sign_in: Option<SignInError>,
}

impl Failure {
    fn of(e: &Error) -> Self {
        Self {
            kind: e.kind().clone(),
            message: e.to_string(),
            sign_in: SignInError::find_in(e).cloned(),
        }
    }

    /// The failure again, as an error of its own.
    fn error(&self) -> Error {
        match &self.sign_in {
            Some(cause) => {
                Error::with_error(self.kind.clone(), cause.clone(), self.message.clone())
            }
            None => Error::with_message(self.kind.clone(), self.message.clone()),
        }
    }
}

impl fmt::Debug for CachedCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedCredential")
            .field("inner", &self.inner)
            .field("fetches", &self.fetches.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl CachedCredential {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn TokenCredential>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            cached: Mutex::new(Cached::default()),
            fetches: AtomicU64::new(0),
        })
    }

    /// How many times the wrapped credential was asked for a token.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }
}

#[async_trait]
impl TokenCredential for CachedCredential {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        // Held across the fetch, so concurrent callers wait for one sign-in instead of each
        // starting their own.
        let mut cached = self.cached.lock().await;
        if let Some((failure, at)) = &cached.failure
            && at.elapsed() < FAILURE_MEMORY
        {
            return Err(failure.error());
        }
        if let Some((for_scopes, token)) = cached.token.as_ref() {
            let fresh = token.expires_on > OffsetDateTime::now_utc() + Duration::minutes(5);
            if fresh
                && for_scopes
                    .iter()
                    .map(String::as_str)
                    .eq(scopes.iter().copied())
            {
                return Ok(token.clone());
            }
        }
        self.fetches.fetch_add(1, Ordering::Relaxed);
        match self.inner.get_token(scopes, options).await {
            Ok(token) => {
                cached.failure = None;
                cached.token = Some((
                    scopes.iter().map(|s| (*s).to_owned()).collect(),
                    token.clone(),
                ));
                Ok(token)
            }
            Err(e) => {
                cached.failure = Some((Failure::of(&e), std::time::Instant::now()));
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A credential whose token endpoint is down: every call fails, slowly.
    #[derive(Debug)]
    struct Down;

    #[async_trait]
    impl TokenCredential for Down {
        async fn get_token(
            &self,
            _: &[&str],
            _: Option<TokenRequestOptions<'_>>,
        ) -> azure_core::Result<AccessToken> {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            Err(Error::with_message(
                ErrorKind::Credential,
                "AADSTS90033: a transient error has occurred",
            ))
        }
    }

    /// A credential whose login endpoint refuses connections.
    #[derive(Debug)]
    struct Refused;

    #[async_trait]
    impl TokenCredential for Refused {
        async fn get_token(
            &self,
            _: &[&str],
            _: Option<TokenRequestOptions<'_>>,
        ) -> azure_core::Result<AccessToken> {
            let cause = crate::error::NetworkError::new(
                crate::error::Service::Login,
                "http://127.0.0.1:9",
                std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused"),
            );
            let sign_in = SignInError {
                attempts: 3,
                elapsed: std::time::Duration::from_millis(750),
                cause,
            };
            let inner = Error::with_error(ErrorKind::Connection, sign_in, "no answer");
            // As azure_identity wraps it.
            Err(Error::with_error(
                ErrorKind::Credential,
                inner,
                "ClientSecretCredential authentication failed. no answer",
            ))
        }
    }

    #[tokio::test]
    async fn a_remembered_failure_keeps_its_typed_cause() {
        let cached = CachedCredential::new(Arc::new(Refused));
        for _ in 0..2 {
            let e = cached
                .get_token(&["https://graph.microsoft.com/.default"], None)
                .await
                .expect_err("fails");
            let sign_in = SignInError::find_in(&e).expect("typed cause");
            assert_eq!(sign_in.cause.kind, crate::error::NetworkFailure::Refused);
            assert_eq!(sign_in.cause.url, "http://127.0.0.1:9");
        }
        assert_eq!(cached.fetches(), 1, "the second answer came from memory");
    }

    #[tokio::test]
    async fn requests_queued_behind_a_failed_sign_in_fail_at_once_with_its_error() {
        let cached = CachedCredential::new(Arc::new(Down));
        let calls =
            (0..18).map(|_| cached.get_token(&["https://graph.microsoft.com/.default"], None));
        let results = futures_util::future::join_all(calls).await;
        assert_eq!(
            cached.fetches(),
            1,
            "one sign-in attempt, not one per request"
        );
        for r in results {
            let e = r.expect_err("fails");
            assert!(matches!(e.kind(), ErrorKind::Credential));
            assert!(e.to_string().contains("AADSTS90033"), "{e}");
        }
    }
}
