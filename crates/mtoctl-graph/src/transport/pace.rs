//! Write pacing for one tenant (performance-model.md §9).
//!
//! Graph's write buckets (3,000 writes per 150 s per app and tenant, 35,000 per 5 min per app,
//! 18,000 per 5 min per tenant) refill at a fixed rate after a burst. Writing faster than the
//! refill only earns 429s, and throttled writes are charged all the same, so a client that
//! keeps pushing stays throttled longer.
//!
//! The pacer lets a tenant's writes through unpaced until Graph signals pressure: an
//! `x-ms-throttle-limit-percentage` header on a write's answer (Graph sends it once a bucket is
//! more than 80 % used) or a write answered 429. From then on it spaces the tenant's writes at
//! a rate it adjusts from those signals (AIMD): down when a bucket is nearly empty (0.9 used and
//! more) or a write was throttled, slightly up while Graph reports 0.8, faster up once Graph
//! stops reporting pressure. The first rate is the rate the tenant was writing at when the
//! pressure began.
//!
//! Why the rate need not be exact: Graph's bucket is the buffer. While it is neither empty nor
//! full, writes go through at exactly its refill rate whatever the pacer's rate does around
//! it; the pacer only has to keep the bucket off empty (no 429s) without leaving it idle.
//!
//! It does not know the quotas, on purpose: other apps' writes share the tenant's bucket, and
//! the emulator's time-scaled buckets refill faster; it learns from Graph's answers only.
//! Reads are not paced (their buckets are 40 times larger and the read lane's concurrency
//! keeps within them).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What one write call's answer said about Graph's write buckets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Signal {
    /// No pressure reported: every bucket is less than 80 % used.
    Clear,
    /// `x-ms-throttle-limit-percentage`: how full the fullest bucket is (0.8 to 1.8).
    Pressure(f64),
    /// A write was answered 429.
    Throttled,
}

/// The response header that reports bucket use above 80 %.
pub(super) const LIMIT_HEADER: &str = "x-ms-throttle-limit-percentage";

/// `x-ms-throttle-limit-percentage`'s value (Graph sends 0.8 to 1.8); anything else is no signal.
pub(super) fn parse_percentage(value: Option<&str>) -> Option<f64> {
    value
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|p| p.is_finite() && *p >= 0.0)
}

impl Signal {
    /// What an answer with `status` and this limit percentage says.
    pub(super) fn of(status: u16, limit_percentage: Option<f64>) -> Signal {
        match (status, limit_percentage) {
            (429, _) => Signal::Throttled,
            (_, Some(p)) if p >= 0.8 => Signal::Pressure(p),
            _ => Signal::Clear,
        }
    }

    /// The strongest of two signals (a batch's items each bring one).
    pub(super) fn max(self, other: Signal) -> Signal {
        use Signal::*;
        match (self, other) {
            (Throttled, _) | (_, Throttled) => Throttled,
            (Pressure(a), Pressure(b)) => Pressure(a.max(b)),
            (Pressure(p), Clear) | (Clear, Pressure(p)) => Pressure(p),
            (Clear, Clear) => Clear,
        }
    }
}

/// How recent writes are measured to seed the first rate.
const WINDOW: Duration = Duration::from_secs(2);
/// The slowest the pacer goes, writes per second (Graph's slowest documented refill is 20).
const MIN_RATE: f64 = 0.5;
/// The first rate, as a share of the rate the tenant was writing at when pressure began
/// (before the share the signal itself asks for): that rate was emptying the bucket.
const SEED_SHARE: f64 = 0.5;
/// At most one increase per this long: a bucket answers an increase only after a while.
const INCREASE_EVERY: Duration = Duration::from_millis(500);

/// When a write call was booked, in the pacer's epochs (one per change of rate): an answer
/// to a call booked before the last change says nothing about the current rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Ticket(u64);

/// One tenant's write pacer.
#[derive(Debug)]
pub(super) struct Pacer {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// Writes per second; `None` until Graph first signals pressure.
    rate: Option<f64>,
    /// When the next write may be sent.
    next: Instant,
    /// Writes booked within the last [`WINDOW`], oldest first.
    recent: VecDeque<(Instant, u32)>,
    /// Changes of rate so far.
    epoch: u64,
    /// The epoch the last decrease began: answers to calls booked before it are the
    /// decrease's cause, not news (one decrease per round trip, as TCP does).
    decreased: u64,
    /// When the rate last changed.
    changed: Instant,
}

impl Pacer {
    pub(super) fn new() -> Self {
        Self {
            state: Mutex::new(State::new(Instant::now())),
        }
    }

    /// Waits for the turn of a call carrying `writes` writes (a `$batch` carries up to 20).
    pub(super) async fn admit(&self, writes: u32) -> Ticket {
        let (start, ticket) = self.lock().reserve(Instant::now(), writes);
        if let Some(start) = start {
            tokio::time::sleep_until(start.into()).await;
        }
        ticket
    }

    /// Adjusts the rate to what the answer to a call booked with `ticket` said.
    pub(super) fn observe(&self, signal: Signal, ticket: Ticket) {
        let mut s = self.lock();
        let before = s.rate;
        s.observe(Instant::now(), signal, ticket);
        if s.rate != before {
            tracing::debug!(?signal, writes_per_second = ?s.rate, "write pace");
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    fn new(now: Instant) -> Self {
        Self {
            rate: None,
            next: now,
            recent: VecDeque::new(),
            epoch: 0,
            decreased: 0,
            changed: now,
        }
    }

    /// Books `writes` writes at `now`: when they may be sent (`None`: at once, unpaced).
    fn reserve(&mut self, now: Instant, writes: u32) -> (Option<Instant>, Ticket) {
        self.forget_before(now);
        self.recent.push_back((now, writes));
        let ticket = Ticket(self.epoch);
        let Some(rate) = self.rate else {
            return (None, ticket);
        };
        let start = self.next.max(now);
        self.next = start + Duration::from_secs_f64(f64::from(writes) / rate);
        (Some(start), ticket)
    }

    fn observe(&mut self, now: Instant, signal: Signal, ticket: Ticket) {
        let factor: f64 = match signal {
            Signal::Throttled => 0.5,
            Signal::Pressure(p) if p >= 1.0 => 0.5,
            Signal::Pressure(p) if p >= 0.9 => 0.7,
            Signal::Pressure(_) => 1.05,
            Signal::Clear => 1.25,
        };
        let rate = match self.rate {
            // Unpaced: pressure starts pacing below the rate that brought it.
            None if signal == Signal::Clear => return,
            None => self.recent_rate(now) * SEED_SHARE * factor.min(1.0),
            Some(rate) if factor < 1.0 && ticket.0 >= self.decreased => rate * factor,
            Some(rate)
                if factor > 1.0
                    && ticket.0 >= self.epoch
                    && now.duration_since(self.changed) >= INCREASE_EVERY =>
            {
                rate * factor
            }
            Some(_) => return,
        };
        self.rate = Some(rate.max(MIN_RATE));
        self.epoch += 1;
        if factor < 1.0 {
            self.decreased = self.epoch;
        }
        self.changed = now;
    }

    fn forget_before(&mut self, now: Instant) {
        while let Some(&(at, _)) = self.recent.front() {
            if now.duration_since(at) <= WINDOW {
                break;
            }
            self.recent.pop_front();
        }
    }

    /// Writes per second booked over the last [`WINDOW`] (at least [`MIN_RATE`]).
    fn recent_rate(&mut self, now: Instant) -> f64 {
        self.forget_before(now);
        let writes: u32 = self.recent.iter().map(|(_, n)| n).sum();
        let span = self
            .recent
            .front()
            .map_or(WINDOW, |(at, _)| now.duration_since(*at))
            .max(Duration::from_millis(250));
        (f64::from(writes) / span.as_secs_f64()).max(MIN_RATE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn writes_go_unpaced_until_graph_signals_pressure() {
        let t0 = Instant::now();
        let mut s = State::new(t0);
        for i in 0..10 {
            assert_eq!(s.reserve(t0 + ms(i), 20).0, None, "unpaced");
        }
        s.observe(t0 + ms(10), Signal::Clear, Ticket(0));
        assert_eq!(s.rate, None, "no pressure, no pacing");
        assert_eq!(s.reserve(t0 + ms(11), 20).0, None);
    }

    #[test]
    fn pressure_paces_below_the_rate_measured_then_spaces_calls() {
        let t0 = Instant::now();
        let mut s = State::new(t0);
        // 200 writes over one second, then Graph says a bucket is 80 % used.
        for i in 0..10 {
            s.reserve(t0 + ms(100 * i), 20);
        }
        s.observe(t0 + ms(1_000), Signal::Pressure(0.8), Ticket(0));
        let rate = s.rate.expect("paced");
        assert!((95.0..=115.0).contains(&rate), "half of ≈200/s: {rate}");
        // Ten batches of 20 booked at once go out one after another, 20/rate apart.
        let now = t0 + ms(1_000);
        let starts: Vec<Duration> = (0..10)
            .map(|_| s.reserve(now, 20).0.expect("paced").duration_since(now))
            .collect();
        let gap = 20.0 / rate;
        for (k, start) in starts.iter().enumerate() {
            assert!(
                (start.as_secs_f64() - gap * k as f64).abs() < 1e-6,
                "{k}: {start:?}"
            );
        }
    }

    #[test]
    fn one_decrease_per_round_trip_and_increases_only_from_current_answers() {
        let t0 = Instant::now();
        let mut s = State::new(t0);
        for i in 0..5 {
            s.reserve(t0 + ms(100 * i), 20);
        }
        // Calls booked unpaced (epoch 0) answer: the first signal seeds the rate.
        s.observe(t0 + ms(500), Signal::Pressure(0.9), Ticket(0));
        let seeded = s.rate.expect("paced");
        // The other answers to calls booked before it are its cause, not news.
        s.observe(t0 + ms(501), Signal::Throttled, Ticket(0));
        s.observe(t0 + ms(502), Signal::Pressure(1.2), Ticket(0));
        assert_eq!(s.rate, Some(seeded));
        // A call booked at the new rate is throttled: halve, once for its whole round trip.
        let (_, booked) = s.reserve(t0 + ms(510), 20);
        s.observe(t0 + ms(600), Signal::Throttled, booked);
        s.observe(t0 + ms(601), Signal::Throttled, booked);
        let halved = s.rate.expect("paced");
        assert!((halved - seeded * 0.5).abs() < 1e-9, "{seeded} → {halved}");
        // Clear answers to calls booked before the decrease do not raise it.
        s.observe(t0 + ms(2_000), Signal::Clear, booked);
        assert_eq!(s.rate, Some(halved));
        // A current one does, at most once per INCREASE_EVERY.
        let (_, current) = s.reserve(t0 + ms(2_000), 20);
        s.observe(t0 + ms(2_100), Signal::Clear, current);
        let raised = s.rate.expect("paced");
        assert!((raised - halved * 1.25).abs() < 1e-9, "{halved} → {raised}");
        let (_, next) = s.reserve(t0 + ms(2_100), 20);
        s.observe(t0 + ms(2_200), Signal::Clear, next);
        assert_eq!(s.rate, Some(raised), "too soon after the last increase");
        // But a decrease still applies to a call booked before an increase.
        s.observe(t0 + ms(2_300), Signal::Pressure(1.0), current);
        assert!((s.rate.expect("paced") - raised * 0.5).abs() < 1e-9);
        // Never below the floor, however often Graph throttles.
        for k in 0..100 {
            let (_, t) = s.reserve(t0 + ms(3_000 + k), 1);
            s.observe(t0 + ms(3_000 + k), Signal::Throttled, t);
        }
        assert_eq!(s.rate, Some(MIN_RATE));
    }

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
