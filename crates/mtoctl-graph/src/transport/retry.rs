//! When to retry and how long to wait.
//!
//! Graph says how long to wait on throttling (`Retry-After`); mtoctl never comes back earlier,
//! because an early retry is throttled again and charged again. Without `Retry-After`, waits grow
//! exponentially with full jitter. Every retry happens within an overall deadline (`--deadline`).
//!
//! Two failures get only a few quick attempts, because waiting does not fix them: a connection
//! refused by a loopback endpoint (nothing listens there: the emulator is not running) and a
//! failed TLS handshake (a certificate, or a server that does not speak TLS). A refused
//! connection to a remote host may be a server restarting, and is retried like the rest.
//!
//! Retries are announced: a retry after a network failure, a retried sign-in, or one that waits
//! [`ANNOUNCE_WAITS_FROM`] or longer, is a WARN event (the CLI's default level) saying what is
//! retried, why, when, and how long is left; shorter waits after throttling are DEBUG events.

use std::time::Duration;

use crate::error::{Human, NetworkFailure};

/// Attempts in all, the first included, for a connection refused by a loopback endpoint or a
/// failed TLS handshake.
pub const QUICK_ATTEMPTS: u32 = 3;

/// The wait before the second of the [`QUICK_ATTEMPTS`]; it doubles before each further one.
pub const QUICK_DELAY: Duration = Duration::from_millis(250);

/// Retries that wait this long or longer are announced at WARN even when Graph throttled.
pub const ANNOUNCE_WAITS_FROM: Duration = Duration::from_secs(5);

/// Retry settings.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// First backoff step when Graph gives no `Retry-After`.
    pub base_delay: Duration,
    /// Largest backoff step.
    pub max_delay: Duration,
    /// Time after which a request is given up, retries included.
    pub deadline: Duration,
    /// How long after this client created an object a 404 on it counts as replication lag.
    pub replication_window: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 10,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
            // Graph's Retry-After has been seen above five minutes.
            deadline: Duration::from_secs(15 * 60),
            replication_window: Duration::from_secs(120),
        }
    }
}

/// What to do with one attempt's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Done (success, or an error retrying cannot fix).
    Final,
    /// Try again, not before `after` if Graph said so.
    Retry {
        /// Graph's `Retry-After`.
        after: Option<Duration>,
    },
}

/// Classifies an HTTP status. `recently_created` marks a 404 on an object this run created.
pub fn classify(status: u16, retry_after: Option<Duration>, recently_created: bool) -> Verdict {
    match status {
        429 | 503 | 504 => Verdict::Retry { after: retry_after },
        500 | 502 => Verdict::Retry { after: retry_after },
        404 if recently_created => Verdict::Retry { after: None },
        _ => Verdict::Final,
    }
}

impl RetryPolicy {
    /// Attempts in all, the first included, for a request whose last attempt failed with
    /// `failure` (`None`: Graph answered) at an endpoint that is on loopback or not.
    pub fn attempts_for(&self, failure: Option<NetworkFailure>, loopback: bool) -> u32 {
        if is_quick(failure, loopback) {
            self.max_attempts.min(QUICK_ATTEMPTS)
        } else {
            self.max_attempts
        }
    }

    /// The wait before attempt `attempt + 1` after a failure `failure` (see
    /// [`Self::attempts_for`]): short and fixed for the quick failures, [`Self::delay`]
    /// otherwise.
    pub fn delay_for(
        &self,
        attempt: u32,
        retry_after: Option<Duration>,
        failure: Option<NetworkFailure>,
        loopback: bool,
        unit: f64,
    ) -> Duration {
        if is_quick(failure, loopback) {
            QUICK_DELAY.saturating_mul(1 << attempt.saturating_sub(1).min(4))
        } else {
            self.delay(attempt, retry_after, unit)
        }
    }

    /// The wait before attempt `attempt + 1` (`attempt` counts from 1). With `Retry-After` it is
    /// at least that long (plus up to 10% so that many waiting requests do not return at once);
    /// otherwise exponential with full jitter. `unit` is a uniform random number in [0, 1).
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>, unit: f64) -> Duration {
        match retry_after {
            Some(after) => after + after.mul_f64(0.1 * unit).min(Duration::from_secs(2)),
            None => {
                let exp = self
                    .base_delay
                    .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
                    .min(self.max_delay);
                // Full jitter, but never below a tenth of the step.
                exp.mul_f64(0.1 + 0.9 * unit)
            }
        }
    }
}

fn is_quick(failure: Option<NetworkFailure>, loopback: bool) -> bool {
    matches!(
        (failure, loopback),
        (Some(NetworkFailure::Refused), true) | (Some(NetworkFailure::Tls), _)
    )
}

/// Announces a retry: `what` (`tenant contoso: POST /$batch`, `tenant contoso: sign-in`) failed
/// for `why` and is tried again in `delay`, as attempt `next` of at most `max`, with `left` of
/// the `deadline` to go. A WARN event when `loud` (a network failure) or the wait is long,
/// DEBUG otherwise.
pub(crate) struct Announce<'a> {
    pub(crate) what: &'a str,
    pub(crate) why: &'a str,
    pub(crate) delay: Duration,
    pub(crate) next: u32,
    pub(crate) max: u32,
    pub(crate) left: Duration,
    pub(crate) deadline: Duration,
    pub(crate) loud: bool,
}

impl Announce<'_> {
    /// Emits the event.
    pub(crate) fn emit(&self) {
        let Self {
            what,
            why,
            delay,
            next,
            max,
            left,
            deadline,
            loud,
        } = self;
        let (delay, left, deadline) = (Human(*delay), Human(*left), Human(*deadline));
        if *loud || self.delay >= ANNOUNCE_WAITS_FROM {
            tracing::warn!(
                "{what}: {why}; retrying in {delay} (attempt {next} of at most {max}, {left} left of the {deadline} deadline)"
            );
        } else {
            tracing::debug!(
                "{what}: {why}; retrying in {delay} (attempt {next} of at most {max}, {left} left of the {deadline} deadline)"
            );
        }
    }
}

/// The longest `Retry-After` taken as given. Anything longer is beyond every retry deadline
/// anyway (the request is given up either way), and an unbounded value would overflow the
/// arithmetic on `Instant`s and `Duration`s that schedules the retry.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// Parses `Retry-After` in seconds (Graph sends delta-seconds, not HTTP dates), at most
/// [`MAX_RETRY_AFTER`].
pub fn parse_retry_after(value: Option<&str>) -> Option<Duration> {
    let text = value?.trim();
    let after = match text.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        // Huge values parse as finite floats that no Duration holds (found by fuzzing).
        Err(_) => text
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| Duration::try_from_secs_f64(s).unwrap_or(Duration::MAX))?,
    };
    Some(after.min(MAX_RETRY_AFTER))
}

/// A small random source for jitter (SplitMix64), seeded per client.
#[derive(Debug)]
pub struct Jitter(std::sync::Mutex<u64>);

impl Jitter {
    /// Seeded from a random UUID.
    pub fn new() -> Self {
        Self(std::sync::Mutex::new(uuid::Uuid::new_v4().as_u64_pair().0))
    }

    /// A number in [0, 1).
    pub fn unit(&self) -> f64 {
        let mut state = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl Default for Jitter {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_never_shortened() {
        let p = RetryPolicy::default();
        for unit in [0.0, 0.5, 0.999] {
            let d = p.delay(3, Some(Duration::from_secs(7)), unit);
            assert!(d >= Duration::from_secs(7), "{d:?}");
            assert!(d <= Duration::from_secs(9), "{d:?}");
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::default();
        assert!(p.delay(1, None, 0.999) <= Duration::from_millis(500));
        assert!(p.delay(4, None, 0.999) > p.delay(2, None, 0.999));
        assert!(p.delay(30, None, 0.999) <= Duration::from_secs(60));
        assert!(p.delay(2, None, 0.0) >= Duration::from_millis(100));
    }

    #[test]
    fn refused_loopback_and_tls_get_a_few_quick_attempts() {
        let p = RetryPolicy::default();
        let refused = Some(NetworkFailure::Refused);
        assert_eq!(p.attempts_for(refused, true), QUICK_ATTEMPTS);
        assert_eq!(
            p.attempts_for(Some(NetworkFailure::Tls), false),
            QUICK_ATTEMPTS
        );
        // A remote host refusing may be restarting; names, timeouts and throttling wait.
        assert_eq!(p.attempts_for(refused, false), p.max_attempts);
        assert_eq!(
            p.attempts_for(Some(NetworkFailure::Dns), true),
            p.max_attempts
        );
        assert_eq!(p.attempts_for(None, true), p.max_attempts);
        let total: Duration = (1..QUICK_ATTEMPTS)
            .map(|a| p.delay_for(a, None, refused, true, 0.999))
            .sum();
        assert!(total <= Duration::from_secs(1), "{total:?}");
        // Never more than the policy allows.
        let one = RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        };
        assert_eq!(one.attempts_for(refused, true), 1);
    }

    #[test]
    fn classification() {
        assert_eq!(
            classify(429, Some(Duration::from_secs(3)), false),
            Verdict::Retry {
                after: Some(Duration::from_secs(3))
            }
        );
        assert_eq!(classify(503, None, false), Verdict::Retry { after: None });
        assert_eq!(classify(404, None, false), Verdict::Final);
        assert_eq!(classify(404, None, true), Verdict::Retry { after: None });
        assert_eq!(classify(400, None, true), Verdict::Final);
        assert_eq!(classify(200, None, false), Verdict::Final);
    }

    #[test]
    fn retry_after_parsing() {
        assert_eq!(parse_retry_after(Some("12")), Some(Duration::from_secs(12)));
        assert_eq!(
            parse_retry_after(Some(" 1.5 ")),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            None
        );
        assert_eq!(parse_retry_after(None), None);
    }

    /// Found by the `graph_decode` fuzz target: a `Retry-After` of 130 digits panicked in
    /// `Duration::from_secs_f64`, and `u64::MAX` seconds overflowed the delay arithmetic.
    #[test]
    fn huge_retry_after_values_are_capped_not_panics() {
        let p = RetryPolicy::default();
        for text in [
            "6".repeat(130).as_str(),
            "18446744073709551615",
            "1e308",
            "99999999999999999999.5",
            "86401",
        ] {
            let after = parse_retry_after(Some(text));
            assert_eq!(after, Some(MAX_RETRY_AFTER), "{text}");
            let delay = p.delay(1, after, 0.999);
            assert!(
                delay > p.deadline,
                "beyond the deadline: given up, never retried"
            );
            let _ = std::time::Instant::now() + delay;
        }
        assert_eq!(parse_retry_after(Some("-1")), None);
        assert_eq!(parse_retry_after(Some("NaN")), None);
        assert_eq!(parse_retry_after(Some("inf")), None);
    }

    #[test]
    fn jitter_is_in_range() {
        let j = Jitter::new();
        for _ in 0..1000 {
            let u = j.unit();
            assert!((0.0..1.0).contains(&u));
        }
    }
}
