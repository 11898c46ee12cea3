//! A token cache in front of every credential.
//!
//! azure_identity caches most credentials' tokens, but not the Azure CLI's (each call runs
//! `az`), and a cache per tenant here also makes concurrent first requests share one sign-in.
//! Tokens are refreshed five minutes before they expire.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use azure_core::time::{Duration, OffsetDateTime};
use tokio::sync::Mutex;

/// Caches the token of one credential for one scope set.
pub struct CachedCredential {
    inner: Arc<dyn TokenCredential>,
    cached: Mutex<Option<(Vec<String>, AccessToken)>>,
    fetches: AtomicU64,
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
            cached: Mutex::new(None),
            fetches: AtomicU64::new(0),
        })
    }

    /// How many tokens were fetched from the wrapped credential.
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
        if let Some((for_scopes, token)) = cached.as_ref() {
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
        let token = self.inner.get_token(scopes, options).await?;
        self.fetches.fetch_add(1, Ordering::Relaxed);
        *cached = Some((
            scopes.iter().map(|s| (*s).to_owned()).collect(),
            token.clone(),
        ));
        Ok(token)
    }
}
