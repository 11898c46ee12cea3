//! The loopback seam: azure_identity only talks HTTPS, the emulator listens on plain HTTP on
//! 127.0.0.1. Credentials are given an HTTPS placeholder authority and this transport, which
//! sends each request to the loopback endpoint instead (path and query kept).

use async_trait::async_trait;
use azure_core::http::{AsyncRawResponse, HttpClient, Request};
use url::Url;

/// Rewrites every request's scheme, host and port to a loopback base URL.
#[derive(Debug)]
pub(super) struct LoopbackRewrite {
    target: Url,
    inner: reqwest::Client,
}

impl LoopbackRewrite {
    /// `target` has already been checked to be loopback HTTP (see `endpoints`).
    pub(super) fn new(target: Url, inner: reqwest::Client) -> Self {
        Self { target, inner }
    }
}

#[async_trait]
impl HttpClient for LoopbackRewrite {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let mut request = request.clone();
        let url = request.url_mut();
        let rewritten = url
            .set_scheme(self.target.scheme())
            .and_then(|()| url.set_host(self.target.host_str()).map_err(|_| ()))
            .and_then(|()| url.set_port(self.target.port()));
        if rewritten.is_err() {
            return Err(azure_core::Error::with_message(
                azure_core::error::ErrorKind::Other,
                "cannot rewrite the login request to the loopback authority",
            ));
        }
        self.inner.execute_request(&request).await
    }
}
