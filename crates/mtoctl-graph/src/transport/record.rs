//! Each exchange handed to the `--record` recorder once its answer is read (or once none will
//! come): what was sent (the request's JSON body, or a `$batch` envelope's bytes read back as
//! JSON) and what came back. Nothing here changes what is sent or how the answer is used, and
//! without a recorder nothing is read or copied.

use std::time::Instant;

use serde_json::Value;

use super::{GraphClient, GraphRequest};
use crate::record::{Answer, Call, RESPONSE_HEADERS};

impl GraphClient {
    /// Whether exchanges are recorded.
    pub(super) fn recording(&self) -> bool {
        self.inner.recorder.is_some()
    }

    /// Records one exchange of `tenant`, sent at `sent`.
    pub(super) fn record(
        &self,
        tenant: &str,
        request: &GraphRequest,
        sent: Instant,
        answer: Answer<'_>,
    ) {
        let Some(recorder) = &self.inner.recorder else {
            return;
        };
        let encoded: Option<Value> = request
            .encoded
            .as_ref()
            .and_then(|e| serde_json::from_slice(&e.json).ok());
        recorder.record(&Call {
            tenant,
            method: request.method.as_str(),
            path: &request.path,
            api: Some(self.version_of(&request.path))
                .filter(|v| *v != crate::endpoints::API_VERSION),
            eventual: request.eventual,
            request_body: encoded.as_ref().or(request.body.as_ref()),
            sent,
            latency: sent.elapsed(),
            answer,
        });
    }
}

/// The answer headers a transcript keeps, in the order of [`RESPONSE_HEADERS`].
pub(super) fn kept_headers(headers: &reqwest::header::HeaderMap) -> Vec<(&'static str, String)> {
    RESPONSE_HEADERS
        .iter()
        .filter_map(|name| {
            let value = headers.get(*name)?.to_str().ok()?;
            Some((*name, value.to_owned()))
        })
        .collect()
}
