//! Seeded fault injection: random 429 / 503 / 504 / connection resets at a
//! rate, explicitly queued faults for the next HTTP requests, and targeted
//! one-shot faults for the next Graph request (batch items included) that
//! matches a method, path fragment and tenant (`POST /_emulator/faults`).

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
    /// The connection is dropped mid-response.
    ConnectionReset,
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
    fn queued_first_then_rate() {
        let mut f = FaultSettings {
            rate: 0.5,
            queued: vec![Fault::ServiceUnavailable],
            targeted: Vec::new(),
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
