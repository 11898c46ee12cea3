//! Seeded fault injection: random 429 / 503 / 504 / connection resets at a
//! rate, explicitly queued faults for the next HTTP requests, and targeted
//! one-shot faults for the next Graph request (batch items included) that
//! matches a method, path fragment and tenant (`POST /_emulator/faults`).
//!
//! Besides faults that stop a request before it is carried out, two happen after it: a
//! connection reset once the write is committed (the client never learns that it succeeded)
//! and a slow answer (longer than the client's timeout). Token endpoint failures are counted
//! separately (`tokenFailures`).

use serde::{Deserialize, Serialize};

/// A fault to inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Fault {
    /// 429 TooManyRequests with `Retry-After` seconds.
    TooManyRequests {
        /// Seconds (virtual, before scaling).
        retry_after: u64,
    },
    /// 503 serviceNotAvailable.
    ServiceUnavailable,
    /// 504 gateway timeout (code `UnknownError`).
    GatewayTimeout,
    /// The connection is dropped mid-response, before the request is carried out.
    ConnectionReset,
    /// The request is carried out (and committed), then the connection is dropped
    /// mid-response: the client cannot tell that it succeeded.
    ResetAfterCommit,
    /// The request is carried out, and the answer comes this many real milliseconds late.
    SlowResponse {
        /// Milliseconds of delay (not scaled).
        delay_ms: u64,
    },
}

impl Fault {
    /// Whether the request is still carried out (the fault only spoils its answer).
    pub fn after_commit(self) -> bool {
        matches!(self, Fault::ResetAfterCommit | Fault::SlowResponse { .. })
    }
}

/// Fault settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultSettings {
    /// Probability per HTTP request of a random fault.
    pub rate: f64,
    /// Faults to inject into the next requests, in order.
    #[serde(default)]
    pub queued: Vec<Fault>,
    /// One-shot faults for the next matching Graph request.
    #[serde(default)]
    pub targeted: Vec<TargetedFault>,
    /// The next this many token requests fail with `503 temporarily_unavailable`.
    #[serde(default)]
    pub token_failures: u32,
    /// Set by a targeted after-commit fault on a batch item or request: the HTTP answer that
    /// carries it is reset (not persisted; internal).
    #[serde(skip)]
    pub reset_pending: bool,
    /// Set by a targeted slow-response fault: extra delay of the HTTP answer (internal).
    #[serde(skip)]
    pub delay_pending_ms: u64,
    /// Whether Graph writes are recorded (`{"record": true}`), so that tests can assert the
    /// exact requests a client sent.
    #[serde(default)]
    pub record: bool,
    /// Whether the recorder keeps reads (GETs) too (`{"record": "all"}`), so that tests can
    /// assert what a client did not need to read.
    #[serde(default)]
    pub record_reads: bool,
    /// The recorded writes (`GET /_emulator/requests`), at most [`MAX_RECORDED`].
    #[serde(skip)]
    pub recorded: Vec<RecordedWrite>,
}

/// Most writes kept by the recorder.
pub const MAX_RECORDED: usize = 10_000;

/// One Graph write as it arrived (top-level requests; `$batch` envelopes as sent).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedWrite {
    /// Caller's tenant id.
    pub tenant: String,
    /// HTTP method.
    pub method: String,
    /// Path after the version, with its query.
    pub path: String,
    /// JSON body, if any.
    pub body: Option<serde_json::Value>,
}

/// A one-shot fault for the next Graph request that matches every given field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TargetedFault {
    /// The fault (a connection reset is not available per batch item).
    pub fault: Fault,
    /// HTTP method, e.g. `PATCH`.
    #[serde(default)]
    pub method: Option<String>,
    /// A fragment of the path after the version, e.g. `/partners/`.
    #[serde(default)]
    pub path_contains: Option<String>,
    /// Tenant id of the caller.
    #[serde(default)]
    pub tenant: Option<String>,
}

impl FaultSettings {
    /// Take the first targeted fault matching this Graph request.
    pub fn take_targeted(&mut self, method: &str, path: &str, tenant: &str) -> Option<Fault> {
        let i = self.targeted.iter().position(|t| {
            t.method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && t.path_contains.as_deref().is_none_or(|p| path.contains(p))
                && t.tenant
                    .as_deref()
                    .is_none_or(|x| x.eq_ignore_ascii_case(tenant))
        })?;
        Some(self.targeted.remove(i).fault)
    }

    /// Records a write when recording is on.
    pub fn record(&mut self, write: RecordedWrite) {
        if self.record && self.recorded.len() < MAX_RECORDED {
            self.recorded.push(write);
        }
    }

    /// Whether the next token request fails (and counts it).
    pub fn take_token_failure(&mut self) -> bool {
        if self.token_failures == 0 {
            return false;
        }
        self.token_failures -= 1;
        true
    }

    /// Applies an after-commit fault to the HTTP answer under way.
    pub fn spoil_answer(&mut self, fault: Fault) {
        match fault {
            Fault::ResetAfterCommit => self.reset_pending = true,
            Fault::SlowResponse { delay_ms } => self.delay_pending_ms += delay_ms,
            _ => {}
        }
    }

    /// The after-commit effects pending for the HTTP answer under way: reset, extra delay.
    pub fn take_spoiled(&mut self) -> (bool, u64) {
        let out = (self.reset_pending, self.delay_pending_ms);
        self.reset_pending = false;
        self.delay_pending_ms = 0;
        out
    }

    /// Decide whether the next request fails; `roll` and `pick` are uniform in [0,1).
    pub fn next_fault(&mut self, roll: f64, pick: f64, retry_roll: f64) -> Option<Fault> {
        if !self.queued.is_empty() {
            return Some(self.queued.remove(0));
        }
        if roll >= self.rate {
            return None;
        }
        // Mix: 60 % throttling, 20 % 503, 10 % 504, 10 % connection resets.
        Some(if pick < 0.6 {
            Fault::TooManyRequests {
                retry_after: 1 + (retry_roll * 3.0) as u64,
            }
        } else if pick < 0.8 {
            Fault::ServiceUnavailable
        } else if pick < 0.9 {
            Fault::GatewayTimeout
        } else {
            Fault::ConnectionReset
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targeted_faults_match_once() {
        let mut f = FaultSettings::default();
        f.targeted.push(TargetedFault {
            fault: Fault::GatewayTimeout,
            method: Some("PATCH".into()),
            path_contains: Some("/partners/".into()),
            tenant: None,
        });
        assert_eq!(
            f.take_targeted("GET", "/policies/crossTenantAccessPolicy/partners/x", "t"),
            None
        );
        assert_eq!(
            f.take_targeted("patch", "/policies/crossTenantAccessPolicy/partners/x", "t"),
            Some(Fault::GatewayTimeout)
        );
        assert_eq!(
            f.take_targeted("PATCH", "/policies/crossTenantAccessPolicy/partners/x", "t"),
            None
        );
    }

    #[test]
    fn after_commit_faults_spoil_only_the_answer_and_token_failures_count_down() {
        let mut f = FaultSettings::default();
        assert!(Fault::ResetAfterCommit.after_commit());
        assert!(Fault::SlowResponse { delay_ms: 5 }.after_commit());
        assert!(!Fault::ConnectionReset.after_commit());
        f.spoil_answer(Fault::ResetAfterCommit);
        f.spoil_answer(Fault::SlowResponse { delay_ms: 5 });
        assert_eq!(f.take_spoiled(), (true, 5));
        assert_eq!(f.take_spoiled(), (false, 0), "one answer only");
        f.token_failures = 2;
        assert!(f.take_token_failure());
        assert!(f.take_token_failure());
        assert!(!f.take_token_failure());
        let parsed: Vec<Fault> =
            serde_json::from_str(r#"["resetAfterCommit", {"slowResponse": {"delayMs": 7}}]"#)
                .expect("parses");
        assert_eq!(
            parsed,
            vec![Fault::ResetAfterCommit, Fault::SlowResponse { delay_ms: 7 }]
        );
    }

    #[test]
    fn recording_is_off_by_default_and_bounded() {
        let mut f = FaultSettings::default();
        let w = RecordedWrite {
            tenant: "t".into(),
            method: "PATCH".into(),
            path: "/x".into(),
            body: None,
        };
        f.record(w.clone());
        assert!(f.recorded.is_empty());
        f.record = true;
        for _ in 0..MAX_RECORDED + 3 {
            f.record(w.clone());
        }
        assert_eq!(f.recorded.len(), MAX_RECORDED);
    }

    #[test]
    fn queued_first_then_rate() {
        let mut f = FaultSettings {
            rate: 0.5,
            queued: vec![Fault::ServiceUnavailable],
            ..Default::default()
        };
        assert_eq!(
            f.next_fault(0.99, 0.0, 0.0),
            Some(Fault::ServiceUnavailable)
        );
        assert_eq!(f.next_fault(0.99, 0.0, 0.0), None);
        assert_eq!(
            f.next_fault(0.1, 0.1, 0.9),
            Some(Fault::TooManyRequests { retry_after: 3 })
        );
        assert_eq!(f.next_fault(0.1, 0.95, 0.0), Some(Fault::ConnectionReset));
        assert_eq!(f.next_fault(0.1, 0.85, 0.0), Some(Fault::GatewayTimeout));
    }
}
