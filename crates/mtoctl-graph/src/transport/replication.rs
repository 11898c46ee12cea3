//! Replication lag after creates: what this client created moments ago, so that a 404 on it
//! is retried as lag instead of read as absence.

use std::time::Instant;

use reqwest::Method;
use serde_json::Value;

use super::{GraphClient, GraphRequest};

impl GraphClient {
    /// Remembers what a successful create made (the path written, and every object id in the
    /// answer, such as the service principal an `instantiate` returns), so that a 404 on it soon
    /// after is read as replication lag.
    pub(super) fn note_created(&self, tenant: &str, request: &GraphRequest, body: &Value) {
        if request.method != Method::POST && request.method != Method::PUT {
            return;
        }
        let mut keys = vec![
            request
                .path
                .split('?')
                .next()
                .unwrap_or(&request.path)
                .to_owned(),
        ];
        let mut stack = vec![body];
        while let Some(v) = stack.pop() {
            if let Value::Object(map) = v {
                if let Some(id) = map.get("id").and_then(Value::as_str) {
                    keys.push(id.to_owned());
                }
                stack.extend(map.values().filter(|v| v.is_object()));
            }
        }
        let mut created = self.inner.created.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        for key in keys {
            created.insert((tenant.to_owned(), key), now);
        }
    }

    /// Whether `path` is something created here moments ago: the very path a create wrote
    /// (a PUT singleton such as an identity sync policy), or a path under a top-level object
    /// whose id a create returned (`/servicePrincipals/{new id}/…`). Children of a created
    /// object are not covered: a member missing under a new organization is really missing,
    /// and retrying it as lag would stall for the whole replication window.
    pub(super) fn recently_created(&self, tenant: &str, path: &str) -> bool {
        let window = self.inner.config.retry.replication_window;
        let path = path.split('?').next().unwrap_or(path);
        let top_level_id = path.split('/').nth(2);
        let created = self.inner.created.lock().unwrap_or_else(|e| e.into_inner());
        created.iter().any(|((t, key), at)| {
            t == tenant
                && at.elapsed() < window
                && (path == key || top_level_id == Some(key.as_str()))
        })
    }
}
