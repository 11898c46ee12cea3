//! What Graph's answers to write calls say about its write buckets: the throttle headers and
//! the [`Signal`] the pacer adjusts its rate from.

/// What one write call's answer said about Graph's write buckets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(in crate::transport) enum Signal {
    /// No pressure reported: every bucket is less than 80 % used.
    Clear,
    /// `x-ms-throttle-limit-percentage`: how full the fullest bucket is (0.8 to 1.8).
    Pressure(f64),
    /// A write was answered 429.
    Throttled,
}

/// The response header that reports bucket use above 80 %.
pub(in crate::transport) const LIMIT_HEADER: &str = "x-ms-throttle-limit-percentage";

/// The 429 header naming the bucket that was empty:
/// `<Tenant_Application|Tenant|Application>/<Read|Write|ReadWrite>/<appId>/<tenantId>`.
pub(in crate::transport) const SCOPE_HEADER: &str = "x-ms-throttle-scope";

/// Whether an `x-ms-throttle-scope` names a bucket of the whole app registration (shared by
/// every tenant it writes to) rather than one of the tenant's.
pub(in crate::transport) fn is_app_wide(scope: Option<&str>) -> bool {
    scope.is_some_and(|s| s.trim().split('/').next() == Some("Application"))
}

/// `x-ms-throttle-limit-percentage`'s value (Graph sends 0.8 to 1.8); anything else is no signal.
pub(in crate::transport) fn parse_percentage(value: Option<&str>) -> Option<f64> {
    value
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|p| p.is_finite() && *p >= 0.0)
}

impl Signal {
    /// What an answer with `status` and this limit percentage says.
    pub(in crate::transport) fn of(status: u16, limit_percentage: Option<f64>) -> Signal {
        match (status, limit_percentage) {
            (429, _) => Signal::Throttled,
            (_, Some(p)) if p >= 0.8 => Signal::Pressure(p),
            _ => Signal::Clear,
        }
    }

    /// The strongest of two signals (a batch's items each bring one).
    pub(in crate::transport) fn max(self, other: Signal) -> Signal {
        use Signal::*;
        match (self, other) {
            (Throttled, _) | (_, Throttled) => Throttled,
            (Pressure(a), Pressure(b)) => Pressure(a.max(b)),
            (Pressure(p), Clear) | (Clear, Pressure(p)) => Pressure(p),
            (Clear, Clear) => Clear,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_become_signals() {
        assert_eq!(Signal::of(429, None), Signal::Throttled);
        assert_eq!(Signal::of(204, Some(0.9)), Signal::Pressure(0.9));
        assert_eq!(Signal::of(201, None), Signal::Clear);
        assert_eq!(Signal::of(201, Some(0.5)), Signal::Clear);
        assert_eq!(parse_percentage(Some(" 1.2")), Some(1.2));
        assert_eq!(parse_percentage(Some("NaN")), None);
        assert_eq!(parse_percentage(Some("-1")), None);
        assert_eq!(parse_percentage(None), None);
    }

    #[test]
    fn a_batch_signals_its_strongest_item() {
        use Signal::*;
        assert_eq!(Clear.max(Pressure(0.8)), Pressure(0.8));
        assert_eq!(Pressure(0.9).max(Pressure(0.8)), Pressure(0.9));
        assert_eq!(Pressure(1.2).max(Throttled), Throttled);
        assert_eq!(Clear.max(Clear), Clear);
    }
}
