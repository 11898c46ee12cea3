//! A token cache in front of every credential.
//!
//! azure_identity caches most credentials' tokens, but not the Azure CLI's (each call runs
//! `az`), and a cache per tenant here also makes concurrent first requests share one sign-in.
//! Tokens are refreshed five minutes before they expire.
//!
//! A failed sign-in is remembered for [`FAILURE_MEMORY`]: the credential has already retried
//! (azure_identity retries for up to a minute), so the requests queued behind it fail at once
//! with the same error instead of each retrying for another minute in turn.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use azure_core::error::{Error, ErrorKind};
use azure_core::time::{Duration, OffsetDateTime};
use tokio::sync::Mutex;

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
    /// The last failure's kind and message, and when it happened.
    failure: Option<(ErrorKind, String, std::time::Instant)>,
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
        if let Some((kind, message, at)) = &cached.failure
            && at.elapsed() < FAILURE_MEMORY
        {
            return Err(Error::with_message(kind.clone(), message.clone()));
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
                cached.failure = Some((e.kind().clone(), e.to_string(), std::time::Instant::now()));
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
