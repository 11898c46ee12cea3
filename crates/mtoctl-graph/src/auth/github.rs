//! GitHub Actions OIDC: the workflow's ID token, fetched from the Actions runtime and handed to
//! Entra as a client assertion (workload identity federation). It is fetched again for every
//! token request, so an expired assertion is never reused.

use std::fmt;

use async_trait::async_trait;
use azure_core::http::ClientMethodOptions;
use azure_identity::ClientAssertion;

use super::AuthContext;
use crate::error::AuthError;

/// The variable holding the runtime's bearer token for its ID-token endpoint.
pub const GITHUB_TOKEN_ENV: &str = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";
/// The variable holding the ID-token endpoint's URL.
const GITHUB_URL_ENV: &str = "ACTIONS_ID_TOKEN_REQUEST_URL";

/// Fetches GitHub's OIDC ID token. `Debug` shows the endpoint, never the request token.
pub(super) struct GithubOidcAssertion {
    url: url::Url,
    request_token: String,
    http: reqwest::Client,
}

impl fmt::Debug for GithubOidcAssertion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GithubOidcAssertion")
            .field("url", &self.url.as_str())
            .field("request_token", &"<redacted>")
            .finish()
    }
}

impl GithubOidcAssertion {
    pub(super) fn from_env(
        tenant: &str,
        ctx: &AuthContext,
        audience: &str,
    ) -> Result<Self, AuthError> {
        let missing = |variable: &str| {
            AuthError::MissingVariable {
            tenant: tenant.to_owned(),
            variable: variable.to_owned(),
            field: "auth.githubOidc (set by GitHub Actions when the job has `permissions: id-token: write`)".into(),
        }
        };
        let url = ctx
            .env
            .var(GITHUB_URL_ENV)
            .ok_or_else(|| missing(GITHUB_URL_ENV))?;
        let request_token = ctx
            .env
            .var(GITHUB_TOKEN_ENV)
            .ok_or_else(|| missing(GITHUB_TOKEN_ENV))?;
        let mut url = url::Url::parse(&url).map_err(|e| AuthError::Setup {
            tenant: tenant.to_owned(),
            kind: "githubOidc".into(),
            reason: format!("{GITHUB_URL_ENV} is not a URL: {e}"),
        })?;
        if url.scheme() != "https" && !crate::endpoints::is_loopback(&url) {
            return Err(AuthError::Setup {
                tenant: tenant.to_owned(),
                kind: "githubOidc".into(),
                reason: format!("{GITHUB_URL_ENV} must be an https URL"),
            });
        }
        url.query_pairs_mut().append_pair("audience", audience);
        Ok(Self {
            url,
            request_token,
            http: ctx.http.clone(),
        })
    }
}

#[derive(serde::Deserialize)]
struct IdTokenResponse {
    value: String,
}

#[async_trait]
impl ClientAssertion for GithubOidcAssertion {
    async fn secret(
        &self,
        _options: Option<ClientMethodOptions<'_>>,
    ) -> azure_core::Result<String> {
        let fail = |what: String| {
            azure_core::Error::with_message(azure_core::error::ErrorKind::Credential, what)
        };
        let response = self
            .http
            .get(self.url.clone())
            .bearer_auth(&self.request_token)
            .send()
            .await
            .map_err(|e| {
                fail(format!(
                    "cannot reach GitHub's OIDC endpoint: {}",
                    e.without_url()
                ))
            })?;
        let status = response.status();
        if !status.is_success() {
            return Err(fail(format!(
                "GitHub's OIDC endpoint answered HTTP {status}"
            )));
        }
        let body: IdTokenResponse = response
            .json()
            .await
            .map_err(|_| fail("GitHub's OIDC endpoint returned no token".into()))?;
        Ok(body.value)
    }
}
