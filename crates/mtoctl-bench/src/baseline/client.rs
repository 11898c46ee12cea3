//! The baseline's HTTP client, shaped like the Microsoft Graph SDKs' default pipeline: one
//! client-credentials token per tenant fetched on first use and cached, one HTTP request per
//! Graph request (never `$batch`), and the SDKs' retry handler (Kiota's `RetryHandlerOption`):
//! 429, 503 and 504 are retried after the `Retry-After` the answer carries, or after an
//! exponential back-off from 3 s when it carries none.
//!
//! It counts what it sends ([`Tally`]) so a test can hold it to one request per resource.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use reqwest::Method;
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::worlds::TenantLayout;

/// Retries of one request. Kiota's default is 3 and its ceiling 10; the baseline uses the
/// ceiling, because with the default a long throttled run fails instead of finishing.
pub const MAX_RETRIES: u32 = 10;
/// Kiota's default delay, the base of its exponential back-off when no `Retry-After` is given.
const DEFAULT_DELAY: Duration = Duration::from_secs(3);

/// What the client sent, by kind.
#[derive(Debug, Default)]
pub struct Tally {
    /// Graph requests sent (each one HTTP call; retries included).
    pub requests: AtomicU64,
    /// Token requests.
    pub tokens: AtomicU64,
    /// Requests other than `GET` (retries included).
    pub writes: AtomicU64,
    /// Retries after 429, 503 or 504.
    pub retries: AtomicU64,
    /// Name lookups (`GET /users?$filter=…` or `GET /groups?$filter=…`).
    pub lookups: AtomicU64,
    /// App role assignments created (`POST …/appRoleAssignedTo`).
    pub assignments: AtomicU64,
}

/// A snapshot of a [`Tally`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Graph requests sent.
    pub requests: u64,
    /// Token requests.
    pub tokens: u64,
    /// Requests other than `GET`.
    pub writes: u64,
    /// Retries.
    pub retries: u64,
    /// Name lookups.
    pub lookups: u64,
    /// Assignments created.
    pub assignments: u64,
}

impl Counts {
    /// What was sent after `before` was taken.
    pub fn since(&self, before: &Counts) -> Counts {
        Counts {
            requests: self.requests - before.requests,
            tokens: self.tokens - before.tokens,
            writes: self.writes - before.writes,
            retries: self.retries - before.retries,
            lookups: self.lookups - before.lookups,
            assignments: self.assignments - before.assignments,
        }
    }
}

impl Tally {
    /// The counts now.
    pub fn counts(&self) -> Counts {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Counts {
            requests: g(&self.requests),
            tokens: g(&self.tokens),
            writes: g(&self.writes),
            retries: g(&self.retries),
            lookups: g(&self.lookups),
            assignments: g(&self.assignments),
        }
    }
}

/// A Graph answer: status and JSON body (`Null` when empty).
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Body.
    pub body: Value,
}

impl Answer {
    /// Whether the status is 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// One tenant's credentials and its cached token.
struct Tenant {
    id: String,
    client_id: String,
    token: OnceCell<String>,
}

/// The client of every tenant (one app registration per tenant entry, one token each).
pub struct Client {
    http: reqwest::Client,
    /// The emulator's URL; moved when the harness serves the state from a new emulator.
    base: std::sync::RwLock<String>,
    secret: String,
    tenants: Vec<Tenant>,
    /// What was sent.
    pub tally: Tally,
}

impl Client {
    /// A client for `tenants` at `base` (the emulator's URL), signing in with `secret`.
    pub fn new(base: &str, secret: &str, tenants: &[TenantLayout]) -> anyhow::Result<Self> {
        Ok(Self {
            http: reqwest::Client::builder()
                .build()
                .context("cannot build the HTTP client")?,
            base: std::sync::RwLock::new(base.trim_end_matches('/').to_owned()),
            secret: secret.to_owned(),
            tenants: tenants
                .iter()
                .map(|t| Tenant {
                    id: t.id.clone(),
                    client_id: t.client_id.clone(),
                    token: OnceCell::new(),
                })
                .collect(),
            tally: Tally::default(),
        })
    }

    /// Sends what follows to the emulator at `base` (one serving the same state, so the
    /// tokens already issued still sign in).
    pub fn move_to(&self, base: &str) {
        *self.base.write().unwrap_or_else(|e| e.into_inner()) =
            base.trim_end_matches('/').to_owned();
    }

    fn base(&self) -> String {
        self.base.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Tenant `i`'s id.
    pub fn tenant_id(&self, i: usize) -> &str {
        &self.tenants[i].id
    }

    async fn token(&self, i: usize) -> anyhow::Result<&str> {
        let t = &self.tenants[i];
        let token = t
            .token
            .get_or_try_init(|| async {
                self.tally.tokens.fetch_add(1, Ordering::Relaxed);
                // Built by hand: reqwest's `form` is an optional feature the workspace leaves off.
                let body = format!(
                    "grant_type=client_credentials&client_id={}&client_secret={}&scope={}",
                    encode(&t.client_id),
                    encode(&self.secret),
                    encode("https://graph.microsoft.com/.default"),
                );
                let url = format!("{}/{}/oauth2/v2.0/token", self.base(), t.id);
                let resp = self
                    .http
                    .post(&url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body)
                    .send()
                    .await
                    .with_context(|| format!("token request for tenant {} failed", t.id))?;
                let status = resp.status();
                let json: Value = resp.json().await.unwrap_or(Value::Null);
                match json.get("access_token").and_then(Value::as_str) {
                    Some(tok) if status.is_success() => Ok::<_, anyhow::Error>(tok.to_owned()),
                    _ => bail!("tenant {}: token request answered {status}", t.id),
                }
            })
            .await?;
        Ok(token.as_str())
    }

    /// Sends one Graph request for tenant `i` (`path` after `/v1.0`, query included), retrying
    /// 429, 503 and 504 as the SDKs do. Any other status is returned, not an error.
    pub async fn call(
        &self,
        i: usize,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Answer> {
        let url = format!("{}/v1.0{path}", self.base());
        let write = method != Method::GET;
        let mut attempt = 0u32;
        loop {
            let token = self.token(i).await?;
            let mut req = self.http.request(method.clone(), &url).bearer_auth(token);
            if let Some(b) = body {
                req = req.json(b);
            }
            self.tally.requests.fetch_add(1, Ordering::Relaxed);
            if write {
                self.tally.writes.fetch_add(1, Ordering::Relaxed);
            }
            let resp = req.send().await.with_context(|| {
                format!("{method} {path} in tenant {} failed", self.tenants[i].id)
            })?;
            let status = resp.status().as_u16();
            let retry_after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok());
            let text = resp.text().await.unwrap_or_default();
            if matches!(status, 429 | 503 | 504) && attempt < MAX_RETRIES {
                attempt += 1;
                self.tally.retries.fetch_add(1, Ordering::Relaxed);
                let wait = match retry_after {
                    Some(s) if s >= 0.0 => Duration::from_secs_f64(s),
                    _ => DEFAULT_DELAY * 2u32.pow(attempt - 1),
                };
                tokio::time::sleep(wait).await;
                continue;
            }
            let body = if text.trim().is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).unwrap_or(Value::String(text))
            };
            return Ok(Answer { status, body });
        }
    }

    /// [`Self::call`], failing unless the answer is 2xx.
    pub async fn expect(
        &self,
        i: usize,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        let a = self.call(i, method.clone(), path, body).await?;
        if !a.ok() {
            bail!(
                "{method} {path} in tenant {} answered {}: {}",
                self.tenants[i].id,
                a.status,
                excerpt(&a.body)
            );
        }
        Ok(a.body)
    }
}

/// The start of a body, for error messages.
pub fn excerpt(v: &Value) -> String {
    let s = v.to_string();
    s.chars().take(300).collect()
}

/// Percent-encodes a query or form value (everything but RFC 3986's unreserved characters).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::encode;

    #[test]
    fn filters_are_percent_encoded() {
        assert_eq!(
            encode("userPrincipalName eq 'u1@t0.ex'"),
            "userPrincipalName%20eq%20%27u1%40t0.ex%27"
        );
    }
}
