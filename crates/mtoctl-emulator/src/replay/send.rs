//! Sending one request to the replay's emulator in-process: through its axum router, so that it
//! passes the same pipeline as a request over HTTP (token check, dispatch, `$batch`, answers),
//! without a socket.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use serde_json::Value;
use tower_service::Service as _;

use super::error::SendError;

/// The host the replay's requests name (the emulator builds `@odata.nextLink` URLs from it).
const HOST: &str = "graph.replay.invalid";

/// An answer of the replay's emulator.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The `Location` header, if any.
    pub location: Option<String>,
    /// The JSON body (a text body as a JSON string); `None` when empty.
    pub body: Option<Value>,
}

/// Sends one request. `uri` is the path and query from the server's root (`/v1.0/users?…`).
pub async fn send(
    router: &Router,
    method: &str,
    uri: &str,
    headers: &[(String, String)],
    body: Option<&Value>,
) -> Result<Answer, SendError> {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, HOST);
    for (k, v) in headers {
        request = request.header(k.as_str(), v.as_str());
    }
    let request = match body {
        Some(b) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(serde_json::to_vec(b).unwrap_or_default()))?,
        None => request.body(Body::empty())?,
    };
    let mut router = router.clone();
    let response = match router.call(request).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
    let body = if bytes.is_empty() {
        None
    } else {
        Some(
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned())),
        )
    };
    Ok(Answer {
        status,
        location,
        body,
    })
}

/// Signs in to `tenant_id` with a client secret through the emulator's token endpoint: the
/// access token, or the endpoint's status and answer.
pub async fn sign_in(
    router: &Router,
    tenant_id: &str,
    client_id: &str,
    secret: &str,
) -> Result<Result<String, (u16, String)>, SendError> {
    let enc = crate::odata::percent_encode;
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}&scope={}",
        enc(client_id),
        enc(secret),
        enc("https://graph.microsoft.com/.default")
    );
    let request = Request::builder()
        .method("POST")
        .uri(format!("/{tenant_id}/oauth2/v2.0/token"))
        .header(header::HOST, HOST)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form))?;
    let mut router = router.clone();
    let response = match router.call(request).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
    let token = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| v.get("access_token")?.as_str().map(str::to_owned));
    Ok(match token {
        Some(t) if status == 200 => Ok(t),
        _ => Err((status, String::from_utf8_lossy(&bytes).into_owned())),
    })
}
