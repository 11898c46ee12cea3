//! A stand-in for the GitHub Actions OIDC token endpoint, so pipelines that authenticate with
//! GitHub's ID token (workload identity federation) can run against the emulator end to end.
//!
//! In a real workflow, GitHub sets `ACTIONS_ID_TOKEN_REQUEST_URL` and
//! `ACTIONS_ID_TOKEN_REQUEST_TOKEN`; the client GETs the URL with `&audience=…` and the request
//! token as a bearer, and gets `{"value": "<JWT>"}`. Point `ACTIONS_ID_TOKEN_REQUEST_URL` at
//! `http://127.0.0.1:PORT/_emulator/github/oidc?subject=repo:OWNER/REPO:ref:refs/heads/main`
//! (any non-empty request token) and declare a federated credential with issuer
//! `https://token.actions.githubusercontent.com` and that subject on the app in the world file.
//! The token is unsigned (`alg: none`): the emulator's token endpoint matches claims only.

use axum::Router;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use serde_json::json;

use crate::Emulator;

/// GitHub's OIDC issuer.
pub const ISSUER: &str = "https://token.actions.githubusercontent.com";
/// The subject used when the request names none.
pub const DEFAULT_SUBJECT: &str = "repo:mtoctl/example:ref:refs/heads/main";
/// The audience used when the request names none (what Entra expects).
const DEFAULT_AUDIENCE: &str = "api://AzureADTokenExchange";

/// The route.
pub fn routes() -> Router<Emulator> {
    Router::new().route("/_emulator/github/oidc", get(id_token))
}

#[derive(serde::Deserialize)]
struct Params {
    audience: Option<String>,
    subject: Option<String>,
}

async fn id_token(headers: HeaderMap, Query(params): Query<Params>) -> Response {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .filter(|t| !t.trim().is_empty());
    if bearer.is_none() {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"message": "a bearer request token is required"})),
        )
            .into_response();
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = b64.encode(json!({"alg": "none", "typ": "JWT"}).to_string());
    let claims = json!({
        "iss": ISSUER,
        "sub": params.subject.as_deref().unwrap_or(DEFAULT_SUBJECT),
        "aud": params.audience.as_deref().unwrap_or(DEFAULT_AUDIENCE),
        "iat": now,
        "nbf": now,
        "exp": now + 300,
    });
    let token = format!("{header}.{}.", b64.encode(claims.to_string()));
    axum::Json(json!({"count": token.len(), "value": token})).into_response()
}
