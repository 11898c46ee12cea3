//! One tenant's own write rate, steered from an estimate of its write bucket when Graph's
//! answers allow one, and adjusted from what they say (AIMD) until then.
//!
//! The pacer lets a tenant's writes through unpaced until Graph signals pressure: an
//! `x-ms-throttle-limit-percentage` header on a write's answer (Graph sends it once a bucket is
//! more than 80 % used) or a write answered 429. From then on each call waits its turn at a rate
//! set in one of two ways.
//!
//! **Steered**, once the changes of the printed level fit one bucket of the tenant's own
//! ([`refill`](super::refill): its refill, its size and how full it is, finer than the tenth
//! Graph prints), while no peers of comparable work write through its app (their shares of the
//! app's bucket [`Share::fair`](super::share::Share::fair) leans to finish together): the rate
//! is the refill, plus what the bucket holds beyond its hold level (0.95 if Graph rounds the
//! level it prints, 0.9 if it truncates) spent over two seconds, or less by what it lacks; and
//! at least fast enough that the writes left spend the bucket down to 0.97 by their end, so
//! that what it holds when the apply ends is not capacity never used. Held at a threshold
//! between two printed levels, the bucket keeps crossing it and the estimate stays fresh; after
//! three seconds without a crossing the rate grows slowly (2 % a second, at most 30 %) until one
//! comes. A 429 to a call sent at the steered rate halves it all the same, once per round trip:
//! the estimate was wrong.
//!
//! **Without an estimate** (too few crossings yet, a bucket the app's other tenants fill too, or
//! peers to finish with): halved on a 429 (once per round trip), ×0.7 (at most every half
//! second) when Graph reports a level of 0.9 or more higher than any since the last such
//! decrease (the bucket is still emptying), up ×1.25 when it falls below any since the last
//! change (the bucket refills: the rate is below the refill), held while the level holds (moved
//! towards the fair rate, with peers), but moved 2 % a step once it has held for three seconds
//! without peers (up below 1.0, whose bucket would otherwise end the apply a tenth or two full;
//! down at 1.0, whose rate a little past the refill would meet a 429), and up ×1.25 per half
//! second once Graph stops reporting pressure, but only ×1.05 past three times the rate at which
//! the bucket last came back below 0.9 (or past the rate the episode began at, if higher). Growth
//! counts half seconds, not answers: one answer grows the rate by as many steps as half seconds
//! passed since the last change (at most four), so a slow rate, whose `$batch` calls come seconds
//! apart, recovers as fast as a quick one. Growth stops at four times what the tenant actually
//! sent over the last two seconds: a rate its lanes or its work keep it under has not been tried
//! against the bucket. The first rate of a tenant writing alone is a tenth of the rate it was
//! writing at (that rate emptied the bucket; half of it, with 16 lanes, flooded it with 429s in
//! simulation), at least 20 writes per second; of one whose app's other tenants write too, it is
//! 20, the refill of Graph's smallest write bucket: writes sent unpaced by many tenants go at the
//! speed of all their lanes, any multiple of the refill of the bucket they share (half of each
//! one's rate flooded B3's app bucket with 429s). Below its refill a bucket banks what goes unused,
//! and growth finds the refill within seconds.
//!
//! Why the rate need not be exact: Graph's bucket is the buffer. While it is neither empty nor
//! full, writes go through at exactly its refill rate whatever the pacer's rate does around it; the
//! pacer only has to keep the bucket off empty (no 429s) without leaving it idle, and spend what it
//! holds by the end. The tests of `pace::sim` run these laws against a simulated bucket.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::refill::{Crossings, Estimate};
use super::signal::Signal;

/// How recent writes are measured: how fast the tenant actually writes.
pub(super) const WINDOW: Duration = Duration::from_secs(2);
/// The slowest the pacer goes, writes per second (Graph's slowest documented refill is 20).
pub(super) const MIN_RATE: f64 = 0.5;
/// At most one increase per this long: a bucket answers an increase only after a while.
const INCREASE_EVERY: Duration = Duration::from_millis(500);
/// The most [`INCREASE_EVERY`] steps one answer may grow the rate by, when the answers come
/// further apart than that (see [`State::observe`]).
const MAX_STEPS_PER_ANSWER: f64 = 4.0;
/// The first rate, writes per second, of a tenant whose app's other tenants write too: the
/// refill of Graph's smallest write bucket (3,000 per 150 s per app and tenant). Sent unpaced by
/// several tenants, writes go at the speed of all their lanes, which says nothing of the refill
/// of the bucket they emptied together (see the module's doc); and the least first rate.
pub(super) const SEED: f64 = 20.0;
/// The first rate of a tenant writing alone, as a share of the rate it was writing at when
/// pressure began: that rate alone emptied the bucket.
const SEED_SHARE: f64 = 0.1;
/// How far above what the tenant actually sent (over the last [`WINDOW`]) its rate may grow:
/// a busy tenant growing ×1.25 a half second sends some 0.6 of its rate over that window.
const MAX_UNUSED: f64 = 4.0;
/// How much faster (or slower) a tenant's rate moves when it is far from its fair rate.
const MAX_TILT: f64 = 2.0;
/// While the level holds: the share of the way (in ratio) to its fair rate a tenant's rate
/// moves per half second.
const DRIFT: f64 = 0.25;
/// The most it moves so per half second (as a factor, up or down).
const MAX_DRIFT: f64 = 1.25;
/// The step of Graph's `x-ms-throttle-limit-percentage` (it prints one decimal).
const LEVEL_STEP: f64 = 0.1;
/// The lowest level whose rise lowers the rate: 0.9, a tenth of the bucket left. From 0.8, a
/// fifth of it was never spent; from 1.0, rates grown far past the refill met 429s first.
const LOWER_FROM: f64 = 0.9;
/// At most one decrease for a nearly empty bucket per this long (429s halve at once).
const LEVEL_DECREASE_EVERY: Duration = Duration::from_millis(500);
/// Steered from an estimate of the bucket, the least level the rate holds it at: a tenth left.
const HOLD: f64 = 0.9;
/// How long the steered rate takes to bring the bucket's level back to [`HOLD`].
const TAU: Duration = Duration::from_secs(2);
/// The level the writes left spend the bucket down to by their end: short of a 429 by the
/// estimate's error.
const END_USE: f64 = 0.97;
/// The least steered rate, as a share of the refill.
const LOWEST_SHARE: f64 = 0.25;
/// The largest share of the writes left the bucket's content is spent on: the level is known
/// to a tenth only.
const MOST_SPENT: f64 = 0.8;
/// Without an estimate, a level held for long moves the rate this much (as a share of it)
/// per step.
const PROBE_STEP: f64 = 0.02;
/// How long without a crossing before the rate moves to find one.
const PROBE_AFTER: Duration = Duration::from_secs(3);
/// How fast it grows then, as a share of the steered rate per second.
const PROBE_GROWTH: f64 = 0.02;
/// And at most.
const PROBE_MOST: f64 = 0.3;
/// Steered, the least change of rate made, as a share of it, when the level printed is
/// unchanged.
const STEER_BY: f64 = 0.02;

/// When a write call went, in the pacer's epochs (one per change of rate): an answer to a
/// call sent before the last change says nothing about the current rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::transport) struct Ticket {
    epoch: u64,
    /// When the call went.
    at: Instant,
    /// The tenant's writes sent so far, the call's among them.
    own: u64,
    /// Its app registration's (every tenant's), the call's among them; set by the [`Pacer`].
    ///
    /// [`Pacer`]: super::Pacer
    pub(super) app: u64,
}

#[derive(Debug)]
pub(super) struct State {
    /// Writes per second; `None` until Graph first signals pressure.
    pub(super) rate: Option<f64>,
    /// When the next write may be sent.
    next: Instant,
    /// When the last call went and its writes: a [`Share`] cap spaces the next call from it.
    ///
    /// [`Share`]: super::share::Share
    last: Option<(Instant, u32)>,
    /// Writes sent within the last [`WINDOW`], oldest first.
    recent: VecDeque<(Instant, u32)>,
    /// Changes of rate so far.
    epoch: u64,
    /// Writes sent so far.
    sent: u64,
    /// The changes of Graph's printed level, and the refill and size of the tenant's bucket
    /// they tell.
    crossings: Crossings,
    /// What the answer the rate was last steered on said ([`State::steer`]).
    steered: Option<Signal>,
    /// The epoch the last decrease began: a 429 answering a call sent before it is the
    /// decrease's cause, not news (one halving per round trip, as TCP does).
    decreased: u64,
    /// When the rate last changed.
    changed: Instant,
    /// Three times the rate at which the bucket last came back below 0.9 (that rate let it
    /// refill, so the refill is above it), or the rate the episode began at if higher. Growth
    /// past the ceiling is slow: Graph says nothing while a bucket is less than 80 % used,
    /// and a rate grown freely through a long refill begins the next episode far past the
    /// refill, with a flood of 429s.
    ceiling: Option<f64>,
    /// While the bucket is in a pressure episode (0.9 or more, or a 429, since it was last
    /// seen below 0.9): the rate when the episode began ([`SEED`], when writes were unpaced).
    /// `None` outside an episode. A rate that fell far below it fell for a shared
    /// bucket (the app's, emptied by the app's other tenants) or overshot downwards; the
    /// tenant's own refill is not that low, so the ceiling is at least this rate.
    episode_from: Option<f64>,
    /// The highest level Graph reported since the rate was last lowered for one (0 after a
    /// clear answer): only a higher one lowers it again.
    level_high: f64,
    /// The lowest level Graph reported since the rate last changed for a level or a 429 (0
    /// after a clear answer): a lower one says the bucket is refilling, the rate below its
    /// refill, and raises it.
    level_low: f64,
}

impl Ticket {
    /// The ticket of a call that went at `at` (it waited for a `Retry-After` after its turn).
    pub(in crate::transport) fn went_at(self, at: Instant) -> Ticket {
        Ticket { at, ..self }
    }
}

impl State {
    pub(super) fn new(now: Instant) -> Self {
        Self {
            rate: None,
            next: now,
            last: None,
            recent: VecDeque::new(),
            epoch: 0,
            sent: 0,
            crossings: Crossings::default(),
            steered: None,
            decreased: 0,
            changed: now,
            ceiling: None,
            episode_from: None,
            level_high: 0.0,
            level_low: 0.0,
        }
    }

    /// A call of `writes` writes asks to go at `now`: its ticket when it may (unpaced, or its
    /// turn has come), or when to ask again. Idle time earns no burst: the next turn is counted
    /// from the later of the last turn and now.
    ///
    /// `cap` (writes per second, from [`Share::cap`]) is a second, separate limit: the last
    /// call's writes spaced at the cap of this moment. Separate, so that the tenant's own turns
    /// stay booked at its own rate and a lifted cap leaves nothing booked at the cap behind.
    ///
    /// [`Share::cap`]: super::share::Share::cap
    pub(super) fn take_turn(
        &mut self,
        now: Instant,
        writes: u32,
        cap: Option<f64>,
    ) -> Result<Ticket, Instant> {
        if let (Some(cap), Some((at, last))) = (cap, self.last) {
            let capped = at + Duration::from_secs_f64(f64::from(last) / cap);
            if now < capped {
                return Err(match self.rate {
                    Some(_) => capped.max(self.next),
                    None => capped,
                });
            }
        }
        if let Some(rate) = self.rate {
            if now < self.next {
                return Err(self.next);
            }
            self.next = now + Duration::from_secs_f64(f64::from(writes) / rate);
        }
        self.last = Some((now, writes));
        self.forget_before(now);
        self.recent.push_back((now, writes));
        self.sent += u64::from(writes);
        Ok(Ticket {
            epoch: self.epoch,
            at: now,
            own: self.sent,
            app: self.sent,
        })
    }

    /// Adjusts the rate to `signal`, the answer to a call sent with `ticket`. `fair` (from
    /// [`Share::fair`]) is the rate at which the tenant would finish with the app's other
    /// tenants of comparable work: below it, the rate grows faster and falls slower than the
    /// law says, above it the other way round (at most [`MAX_TILT`] times as fast or slow).
    ///
    /// [`Share::fair`]: super::share::Share::fair
    pub(super) fn observe(
        &mut self,
        now: Instant,
        signal: Signal,
        ticket: Ticket,
        fair: Option<f64>,
        alone: bool,
        left: Option<u64>,
    ) {
        self.crossings
            .observe(ticket.at, ticket.own, ticket.app, signal);
        // Growth is per half second, not per answer: at a low rate a `$batch` of 20 takes
        // seconds to come round, and a rate grown once per answer would crawl.
        let steps = (now.duration_since(self.changed).as_secs_f64() / INCREASE_EVERY.as_secs_f64())
            .clamp(1.0, MAX_STEPS_PER_ANSWER);
        // A level higher than any since the last decrease: the bucket is still emptying, so
        // the rate is above its refill. Graph prints the level to one decimal (a tenth of the
        // bucket: 3,500 writes of the app's), so it answers slowly.
        // 0.8 is not one: a fifth of the bucket is left, and a rate cut there keeps the bucket
        // at 0.8 or below, a fifth never spent when the apply ends.
        let new_high = matches!(signal, Signal::Pressure(p)
            if p > self.level_high + LEVEL_STEP / 2.0 && p >= LOWER_FROM - LEVEL_STEP / 2.0);
        // A level lower than any since the last cut: the bucket refills, so the rate is below
        // its refill (a 429's halving, or a cut at a level the bucket took seconds to leave).
        let fell = matches!(signal, Signal::Pressure(p) if p < self.level_low - LEVEL_STEP / 2.0);
        let factor: f64 = match signal {
            Signal::Throttled => 0.5,
            Signal::Pressure(_) if new_high => 0.7,
            Signal::Pressure(_) if fell => 1.25,
            // A level held for long: the rate is close to the refill but not at it, and the
            // bucket sits inside a printed tenth. Below 1.0, what it holds would be left unspent
            // at the end; at 1.0 a rate a little past the refill meets a 429. Probe; but a
            // tenant with peers of comparable work drifts towards its fair rate instead, below.
            Signal::Pressure(p) if fair.is_none() && self.quiet_for(now) > PROBE_AFTER => {
                if p < 1.0 - LEVEL_STEP / 2.0 {
                    1.0 + PROBE_STEP
                } else {
                    1.0 - PROBE_STEP
                }
            }
            // A level that holds: the rate is about the refill, and the bucket kept nearly
            // empty leaves little unspent when the apply ends. At a paced rate
            // only a batch or two is in flight, far less than what is left at 0.9 or 1.0.
            Signal::Pressure(_) => 1.0,
            Signal::Clear => match (self.rate, self.ceiling) {
                (Some(rate), Some(ceiling)) if rate * 1.25 > ceiling => 1.05_f64.powf(steps),
                _ => 1.25_f64.powf(steps),
            },
        };
        // Rates that multiply alike keep their ratios: a tenant that began late, into a bucket
        // its peers had emptied, would stay behind them for good and end the apply alone.
        let tilt = match (self.rate, fair) {
            (Some(rate), Some(fair)) if fair > 0.0 => (rate / fair).clamp(1.0 / MAX_TILT, MAX_TILT),
            _ => 1.0,
        };
        let factor = if factor < 1.0 {
            factor.powf(tilt)
        } else if factor > 1.0 {
            factor.powf(1.0 / tilt)
        } else {
            // Held, the bucket answers no change for seconds: the tenants move towards their
            // fair rates meanwhile, some up and some down, their total about where it is.
            match (self.rate, fair) {
                (Some(rate), Some(fair)) if fair > 0.0 => {
                    (fair / rate).powf(DRIFT).clamp(1.0 / MAX_DRIFT, MAX_DRIFT)
                }
                _ => 1.0,
            }
        };
        if signal == Signal::Clear {
            self.level_high = 0.0;
            self.level_low = 0.0;
        }
        // Seeding begins an episode too: once the bucket comes back at the first rate, the
        // ceiling is three times that, not free growth into the next flood.
        let pressing = matches!(signal, Signal::Throttled)
            || matches!(signal, Signal::Pressure(p) if p >= 0.9)
            || (self.rate.is_none() && signal != Signal::Clear);
        if pressing {
            if self.episode_from.is_none() {
                self.episode_from = Some(self.rate.unwrap_or(SEED));
            }
        } else if let (Some(from), Some(rate)) = (self.episode_from, self.rate) {
            self.episode_from = None;
            self.ceiling = Some((rate * 3.0).max(from));
        }
        // With peers of comparable work the bucket is shared in the proportions the share
        // leans them to, and an estimate from the tenant's own writes is of its share of the
        // moment: steering from it would undo the leaning.
        let estimate = fair.is_none().then(|| self.crossings.estimate()).flatten();
        if let (Some(rate), Some(estimate)) = (self.rate, estimate) {
            let target = self.steer(now, signal, estimate, left, rate);
            // A 429 to a call sent at the steered rate says the estimate is wrong, whatever it
            // says: halve, as without one, once per round trip; and no 429 raises the rate.
            let target = match signal {
                Signal::Throttled if ticket.epoch >= self.decreased => {
                    Some(target.unwrap_or(rate).min(rate * 0.5))
                }
                Signal::Throttled => target.map(|target| target.min(rate)),
                _ => target,
            };
            if let Some(target) = target {
                self.steered = Some(signal);
                // Where the law without an estimate takes over, should the estimate lapse.
                let level = match signal {
                    Signal::Pressure(p) => p,
                    Signal::Throttled => 1.0,
                    Signal::Clear => 0.0,
                };
                self.level_high = level;
                self.level_low = level;
                self.set_rate(now, target);
            }
            return;
        }
        self.steered = None;
        let rate = match self.rate {
            // Unpaced: pressure starts pacing below the rate that brought it.
            None if signal == Signal::Clear => return,
            // A tenant writing alone emptied the bucket alone: its own, or the app's.
            None if alone => (self.recent_rate(now) * SEED_SHARE).max(SEED),
            None => SEED,
            // A 429 answers the rate its call went at: one halving per round trip.
            Some(rate) if signal == Signal::Throttled && ticket.epoch >= self.decreased => {
                rate * factor
            }
            // The level is slow to answer: a bucket near empty stays near empty for seconds
            // after the rate has dropped below its refill, while it refills. Every answer of
            // those seconds says so; deciding on each would drive the rate to the floor.
            Some(rate)
                if factor < 1.0
                    && signal != Signal::Throttled
                    && now.duration_since(self.changed) >= LEVEL_DECREASE_EVERY =>
            {
                rate * factor
            }
            Some(rate)
                if factor > 1.0
                    && ticket.epoch >= self.epoch
                    && now.duration_since(self.changed) >= INCREASE_EVERY =>
            {
                // A rate the tenant does not use (its lanes or its work hold it lower) has
                // not been tried against the bucket: grown unused, it would take seconds of
                // ×0.7 steps to come back once the bucket reports pressure.
                let used = (self.recent_rate(now) * MAX_UNUSED).max(rate);
                (rate * factor).min(used)
            }
            Some(rate) => rate,
        };
        if self.rate == Some(rate) {
            return;
        }
        match signal {
            Signal::Pressure(p) if new_high || fell || self.rate.is_none() => {
                // After a rise from a fall, the rise is news again.
                self.level_high = p;
                self.level_low = p;
            }
            // The bucket is empty: a full one after it is no news, and only a level below
            // full says it refills.
            Signal::Throttled => {
                self.level_high = self.level_high.max(1.0);
                self.level_low = self.level_low.max(1.0);
            }
            _ => {}
        }
        self.set_rate(now, rate);
    }

    /// The rate from an estimate of the tenant's own bucket: the refill, more while the
    /// bucket holds more than [`HOLD`] leaves, less while it holds less, over [`TAU`]; and fast
    /// enough that the writes `left` spend what the bucket holds above [`END_USE`] by the time
    /// they end (the bucket's content left at the end is capacity never used). `None` when
    /// the rate is about that already.
    fn steer(
        &self,
        now: Instant,
        signal: Signal,
        estimate: Estimate,
        left: Option<u64>,
        rate: f64,
    ) -> Option<f64> {
        // How full the bucket is, from the fit, within what Graph printed (a tenth, rounded or
        // truncated).
        let predicted = estimate.used(now, self.sent);
        let band = if estimate.rounds {
            (-LEVEL_STEP / 2.0, LEVEL_STEP / 2.0)
        } else {
            (0.0, LEVEL_STEP)
        };
        let used = match signal {
            Signal::Pressure(p) => predicted.clamp(p + band.0, p + band.1),
            Signal::Throttled => predicted.max(1.0),
            Signal::Clear => predicted.min(0.8),
        };
        let Estimate {
            refill,
            capacity,
            rounds,
            ..
        } = estimate;
        // Held at the threshold between two printed levels, the bucket keeps crossing it, and
        // each crossing keeps the estimate fresh: 0.95 if Graph rounds, 0.9 if it truncates
        // (1.0 is a 429).
        let hold = if rounds {
            HOLD + LEVEL_STEP / 2.0
        } else {
            HOLD
        };
        let hold = refill + (hold - used) * capacity / TAU.as_secs_f64();
        let mut target = hold.max(refill * LOWEST_SHARE);
        // No crossing for a while: the estimate may have drifted, and the bucket sit inside a
        // printed tenth the estimate puts at its edge. A rate growing slowly crosses it again.
        let quiet = self.quiet_for(now);
        if matches!(signal, Signal::Pressure(_)) && quiet > PROBE_AFTER {
            let probe = (quiet - PROBE_AFTER).as_secs_f64() * PROBE_GROWTH;
            target *= 1.0 + probe.min(PROBE_MOST);
        }
        if let Some(left) = left.filter(|&left| left > 0) {
            let spent = ((END_USE - used) * capacity / left as f64).min(MOST_SPENT);
            if spent > 0.0 {
                target = target.max(refill / (1.0 - spent));
            }
        }
        let news = signal == Signal::Throttled || self.steered != Some(signal);
        (news || (target / rate - 1.0).abs() > STEER_BY).then_some(target)
    }

    /// How long since Graph's answers last changed what they say of the bucket (or, before
    /// they ever did, since the rate last changed).
    fn quiet_for(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.crossings.last_at().unwrap_or(self.changed))
    }

    /// What the crossings so far say of the tenant's bucket.
    #[cfg(test)]
    pub(super) fn estimate(&mut self) -> Option<Estimate> {
        self.crossings.estimate()
    }

    fn set_rate(&mut self, now: Instant, rate: f64) {
        if self.rate == Some(rate) {
            return;
        }
        // Seeding is a decrease too: from unpaced to paced.
        let decrease = self.rate.is_none_or(|before| rate < before);
        self.rate = Some(rate.max(MIN_RATE));
        self.epoch += 1;
        if decrease {
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

    /// Writes per second sent over the last [`WINDOW`] (at least [`MIN_RATE`]).
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

    /// A ticket of `epoch` for a call sent at `at`, of no writes counted.
    fn ticket(epoch: u64, at: Instant) -> Ticket {
        Ticket {
            epoch,
            at,
            own: 0,
            app: 0,
        }
    }

    /// A call that goes at `now`, or waits for its turn and goes then.
    fn go(s: &mut State, now: Instant, writes: u32) -> Ticket {
        match s.take_turn(now, writes, None) {
            Ok(ticket) => ticket,
            Err(next) => s.take_turn(next, writes, None).expect("its turn"),
        }
    }

    /// A call of as many writes as the rate lets through in half a second: a tenant kept
    /// busy by its work, so that its rate is in use and may grow.
    fn go_busy(s: &mut State, now: Instant) -> Ticket {
        let writes = (s.rate.unwrap_or(SEED) * INCREASE_EVERY.as_secs_f64()).ceil();
        go(s, now, writes as u32)
    }

    /// 2,000 writes sent unpaced over one second, then Graph says a bucket is 80 % used; by a
    /// tenant writing `alone` or among others of its app.
    fn seeded_after_a_burst(alone: bool) -> (State, Instant) {
        let t0 = Instant::now();
        let mut s = State::new(t0);
        for i in 0..100 {
            assert!(s.take_turn(t0 + ms(10 * i), 20, None).is_ok());
        }
        s.observe(
            t0 + ms(1_000),
            Signal::Pressure(0.8),
            ticket(0, t0),
            None,
            alone,
            None,
        );
        (s, t0)
    }

    /// A state paced at `rate` from now.
    fn paced_at(rate: f64) -> (State, Instant) {
        let t0 = Instant::now();
        let mut s = State::new(t0);
        s.rate = Some(rate);
        (s, t0)
    }

    /// `n` calls half a second apart from `at` on, each answered at once with `signal`: of
    /// `writes` each, or as many as the rate lets through (`None`).
    fn answered(s: &mut State, at: &mut Instant, n: usize, signal: Signal, writes: Option<u32>) {
        for _ in 0..n {
            *at += INCREASE_EVERY;
            let t = match writes {
                Some(writes) => go(s, *at, writes),
                None => go_busy(s, *at),
            };
            s.observe(*at, signal, t, None, false, None);
        }
    }

    #[test]
    fn writes_go_unpaced_until_graph_signals_pressure() {
        let t0 = Instant::now();
        let mut s = State::new(t0);
        for i in 0..10 {
            assert_eq!(
                s.take_turn(t0 + ms(i), 20, None).map(|t| t.epoch),
                Ok(0),
                "unpaced"
            );
        }
        s.observe(t0 + ms(10), Signal::Clear, ticket(0, t0), None, false, None);
        assert_eq!(s.rate, None, "no pressure, no pacing");
        assert_eq!(s.take_turn(t0 + ms(11), 20, None).map(|t| t.epoch), Ok(0));
    }

    #[test]
    fn pressure_paces_from_the_smallest_refill_among_peers_or_half_a_lone_burst_then_spaces_calls()
    {
        let (mut s, t0) = seeded_after_a_burst(false);
        let rate = s.rate.expect("paced");
        assert_eq!(rate, SEED, "not half of the burst's 2,000/s");
        // Writing alone, that burst emptied the bucket alone: a tenth of it.
        let (alone, _) = seeded_after_a_burst(true);
        let seeded = alone.rate.expect("paced");
        assert!((180.0..=220.0).contains(&seeded), "{seeded}");
        // Calls asking at once go one after another, 20/rate apart.
        let gap = Duration::from_secs_f64(20.0 / rate);
        let now = t0 + ms(1_000);
        assert_eq!(s.take_turn(now, 20, None).map(|t| t.epoch), Ok(1));
        assert_eq!(s.take_turn(now, 20, None).map(|t| t.epoch), Err(now + gap));
        assert_eq!(s.take_turn(now + gap, 20, None).map(|t| t.epoch), Ok(1));
        // A new rate applies to the calls already waiting: a halving doubles the next gap.
        s.observe(
            now + gap,
            Signal::Throttled,
            ticket(1, t0),
            None,
            false,
            None,
        );
        let halved = s.rate.expect("paced");
        assert!((halved - rate * 0.5).abs() < 1e-9);
        assert!(s.take_turn(now + gap * 2, 20, None).is_ok());
        let next = s.take_turn(now + gap * 2, 20, None).expect_err("waits");
        let expected = now + gap * 2 + Duration::from_secs_f64(20.0 / halved);
        assert!(next.duration_since(expected) < Duration::from_micros(1));
    }

    #[test]
    fn a_429_halves_once_per_round_trip_and_only_a_new_high_level_lowers_the_rate() {
        let t0 = Instant::now();
        let mut s = State::new(t0);
        for i in 0..5 {
            go(&mut s, t0 + ms(100 * i), 20);
        }
        // Calls sent unpaced (epoch 0) answer: the first signal seeds the rate.
        s.observe(
            t0 + ms(500),
            Signal::Pressure(0.9),
            ticket(0, t0),
            None,
            false,
            None,
        );
        let seeded = s.rate.expect("paced");
        // The other answers to calls sent before it are its cause, not news.
        s.observe(
            t0 + ms(501),
            Signal::Throttled,
            ticket(0, t0),
            None,
            false,
            None,
        );
        s.observe(
            t0 + ms(502),
            Signal::Pressure(1.2),
            ticket(0, t0),
            None,
            false,
            None,
        );
        assert_eq!(s.rate, Some(seeded));
        // A call sent at the new rate is throttled: halve, once for its whole round trip.
        let booked = go(&mut s, t0 + ms(510), 20);
        s.observe(t0 + ms(600), Signal::Throttled, booked, None, false, None);
        s.observe(t0 + ms(601), Signal::Throttled, booked, None, false, None);
        let halved = s.rate.expect("paced");
        assert!((halved - seeded * 0.5).abs() < 1e-9, "{seeded} → {halved}");
        // Clear answers to calls booked before the decrease do not raise it.
        s.observe(t0 + ms(2_000), Signal::Clear, booked, None, false, None);
        assert_eq!(s.rate, Some(halved));
        // A current one does, ×1.25 per half second since the last change (1.5 s: three).
        let current = go(&mut s, t0 + ms(2_000), 20);
        s.observe(t0 + ms(2_100), Signal::Clear, current, None, false, None);
        let raised = s.rate.expect("paced");
        assert!(
            (raised - halved * 1.25_f64.powi(3)).abs() < 1e-9,
            "{halved} → {raised}"
        );
        let next = go(&mut s, t0 + ms(2_100), 20);
        s.observe(t0 + ms(2_200), Signal::Clear, next, None, false, None);
        assert_eq!(s.rate, Some(raised), "too soon after the last increase");
        // A level higher than any since the last decrease lowers the rate (the bucket is still
        // emptying), but at most once per LEVEL_DECREASE_EVERY.
        s.observe(
            t0 + ms(2_300),
            Signal::Pressure(1.0),
            current,
            None,
            false,
            None,
        );
        assert_eq!(s.rate, Some(raised), "too soon after the last change");
        s.observe(
            t0 + ms(2_600),
            Signal::Pressure(1.0),
            current,
            None,
            false,
            None,
        );
        let lowered = s.rate.expect("paced");
        assert!((lowered - raised * 0.7).abs() < 1e-9);
        s.observe(
            t0 + ms(2_700),
            Signal::Pressure(1.1),
            current,
            None,
            false,
            None,
        );
        assert_eq!(s.rate, Some(lowered), "too soon");
        // A level that holds says the rate is at or below the refill: it holds too, however
        // long the bucket takes to refill past a tenth of itself.
        s.observe(
            t0 + ms(3_100),
            Signal::Pressure(1.0),
            current,
            None,
            false,
            None,
        );
        s.observe(
            t0 + ms(3_600),
            Signal::Pressure(1.0),
            current,
            None,
            false,
            None,
        );
        assert_eq!(s.rate, Some(lowered));
        s.observe(
            t0 + ms(3_700),
            Signal::Pressure(1.1),
            current,
            None,
            false,
            None,
        );
        assert!((s.rate.expect("paced") - lowered * 0.7).abs() < 1e-9);
        // A fall to 0.9 so soon after the cut raises nothing yet (at most one increase per
        // INCREASE_EVERY).
        let rate = s.rate;
        let held = go(&mut s, t0 + ms(3_900), 20);
        s.observe(
            t0 + ms(3_950),
            Signal::Pressure(0.9),
            held,
            None,
            false,
            None,
        );
        assert_eq!(s.rate, rate);
        // Never below the floor, however often Graph throttles.
        for k in 0..100 {
            let t = go(&mut s, t0 + ms(4_000 + k), 1);
            s.observe(t0 + ms(4_000 + k), Signal::Throttled, t, None, false, None);
        }
        assert_eq!(s.rate, Some(MIN_RATE));
    }

    #[test]
    fn a_first_0_8_holds_the_rate_and_a_rise_to_0_9_lowers_it() {
        let (mut s, t0) = paced_at(100.0);
        let mut at = t0;
        answered(&mut s, &mut at, 1, Signal::Clear, None);
        let grown = s.rate.expect("paced");
        assert!((grown - 125.0).abs() < 1e-9, "{grown}");
        // A fifth of the bucket left: held, not cut.
        answered(&mut s, &mut at, 2, Signal::Pressure(0.8), None);
        assert_eq!(s.rate, Some(grown));
        // A tenth left and still emptying: cut.
        answered(&mut s, &mut at, 1, Signal::Pressure(0.9), None);
        let cut = s.rate.expect("paced");
        assert!((cut - grown * 0.7).abs() < 1e-9, "{cut}");
    }

    #[test]
    fn a_level_falling_below_any_since_the_last_cut_raises_the_rate_once_per_level() {
        let (mut s, t0) = paced_at(100.0);
        let mut at = t0;
        // A 429 halves: the bucket is empty, and the halved rate may be far below its refill.
        answered(&mut s, &mut at, 1, Signal::Throttled, None);
        assert_eq!(s.rate, Some(50.0));
        // Still full: held. Then the bucket refills a tenth at a time.
        answered(&mut s, &mut at, 2, Signal::Pressure(1.0), None);
        assert_eq!(s.rate, Some(50.0));
        answered(&mut s, &mut at, 1, Signal::Pressure(0.9), None);
        assert_eq!(s.rate, Some(62.5), "refilling: below the refill");
        answered(&mut s, &mut at, 2, Signal::Pressure(0.9), None);
        assert_eq!(s.rate, Some(62.5), "a level that holds holds the rate");
        answered(&mut s, &mut at, 1, Signal::Pressure(0.8), None);
        assert_eq!(s.rate, Some(78.125));
        // Rising again after a raise: past the refill, cut.
        answered(&mut s, &mut at, 1, Signal::Pressure(0.9), None);
        let cut = s.rate.expect("paced");
        assert!((cut - 78.125 * 0.7).abs() < 1e-9, "{cut}");
    }

    #[test]
    fn after_a_pressure_episode_growth_is_slow_past_three_times_the_rate_that_let_it_refill() {
        let (mut s, t0) = paced_at(10.0);
        // An episode: 0.9 (lowered to 7/s), then back to 0.8 at 7/s (the bucket refilled at
        // that rate).
        let t = go_busy(&mut s, t0);
        s.observe(t0 + ms(600), Signal::Pressure(0.9), t, None, false, None);
        assert_eq!(s.ceiling, None);
        assert_eq!(s.rate, Some(7.0));
        let t = go_busy(&mut s, t0 + ms(700));
        s.observe(t0 + ms(700), Signal::Pressure(0.8), t, None, false, None);
        assert_eq!(s.ceiling, Some(21.0));
        assert_eq!(s.rate, Some(7.0), "a falling level holds");
        // Answers every half second from here: one step each.
        s.changed = t0 + ms(700);
        let mut at = t0 + ms(700);
        let mut rates = Vec::new();
        for _ in 0..7 {
            at += INCREASE_EVERY;
            let t = go_busy(&mut s, at);
            s.observe(at, Signal::Clear, t, None, false, None);
            rates.push(s.rate.expect("paced"));
        }
        // ×1.25 while that stays under 21/s, then ×1.05.
        let expected = [
            8.75,
            10.9375,
            13.671875,
            17.08984375,
            17.9443359375,
            18.841552734375,
        ];
        for (got, want) in rates.iter().zip(expected) {
            assert!((got - want).abs() < 1e-6, "{rates:?}");
        }
    }

    #[test]
    fn a_tenant_that_wrote_little_starts_at_the_smallest_refill_and_grows_per_half_second() {
        let t0 = Instant::now();
        let mut s = State::new(t0);
        // Two writes in the last two seconds, then a shared bucket (the app's, emptied by
        // other tenants) reports 1.0: a seed from its own rate would be 0.35/s.
        go(&mut s, t0, 1);
        let t = go(&mut s, t0 + ms(1_500), 1);
        s.observe(t0 + ms(2_000), Signal::Pressure(1.0), t, None, false, None);
        assert_eq!(s.rate, Some(SEED));
        // At 20/s a batch of 20 goes once a second; its Clear answer two seconds after the
        // change grows the rate by four half-second steps, not one.
        let t = go(&mut s, t0 + ms(3_900), 20);
        s.observe(t0 + ms(4_000), Signal::Clear, t, None, false, None);
        let grown = s.rate.expect("paced");
        assert!((grown - SEED * 1.25_f64.powi(4)).abs() < 1e-9, "{grown}");
        // The bucket came back at 20/s: past three times that, growth is ×1.05 a step, and
        // however long the silence, one answer grows it by at most MAX_STEPS_PER_ANSWER steps.
        assert_eq!(s.ceiling, Some(3.0 * SEED));
        let t = go(&mut s, t0 + ms(60_000), 20);
        s.observe(t0 + ms(60_000), Signal::Clear, t, None, false, None);
        let capped = s.rate.expect("paced");
        assert!(
            (capped - grown * 1.05_f64.powf(MAX_STEPS_PER_ANSWER)).abs() < 1e-9,
            "{capped}"
        );
    }

    #[test]
    fn a_rate_that_fell_far_below_where_its_episode_began_grows_back_quickly() {
        let (mut s, t0) = paced_at(150.0);
        // A shared bucket throttles for seconds: the rate halves once per round trip.
        let mut at = t0;
        answered(&mut s, &mut at, 6, Signal::Throttled, Some(1));
        let fallen = s.rate.expect("paced");
        assert!(fallen < 3.0, "{fallen}");
        // The bucket comes back: the ceiling is where the episode began, not 3 × 2/s.
        at += INCREASE_EVERY;
        let t = go(&mut s, at, 1);
        s.observe(at, Signal::Pressure(0.8), t, None, false, None);
        assert_eq!(s.ceiling, Some(150.0));
        answered(&mut s, &mut at, 24, Signal::Clear, None);
        // ×1.25 a step up to 150/s (19 steps from 2.3/s), ×1.05 past it.
        let grown = s.rate.expect("paced");
        assert!((150.0..200.0).contains(&grown), "{fallen} → {grown}");
    }

    #[test]
    fn a_rate_the_tenant_does_not_use_does_not_grow_past_four_times_what_it_sent() {
        let (mut s, t0) = paced_at(100.0);
        // Its lanes or its work hold it to 20 writes a second: a call of 10 every half second,
        // for a window already.
        let mut at = t0;
        for _ in 0..4 {
            at += INCREASE_EVERY;
            go(&mut s, at, 10);
        }
        answered(&mut s, &mut at, 20, Signal::Clear, Some(10));
        // 100/s is already past 4 × 20/s: held, where free growth would be at 8,674/s.
        assert_eq!(s.rate, Some(100.0));
        // Busy at its rate, it grows again.
        at += INCREASE_EVERY;
        go_busy(&mut s, at);
        at += INCREASE_EVERY;
        let t2 = go_busy(&mut s, at);
        s.observe(at, Signal::Clear, t2, None, false, None);
        assert!(s.rate.expect("paced") > 100.0);
    }

    #[test]
    fn a_tenant_behind_its_peers_grows_faster_yields_less_and_drifts_up_and_one_ahead_the_reverse()
    {
        let t0 = Instant::now();
        let step = |rate: f64, signal: Signal, fair: Option<f64>| {
            let mut s = State::new(t0);
            s.rate = Some(rate);
            let t = go_busy(&mut s, t0 + INCREASE_EVERY);
            s.observe(t0 + INCREASE_EVERY, signal, t, fair, false, None);
            s.rate.expect("paced")
        };
        // At its fair rate, or with no peers to go by: the law as it is.
        assert!((step(40.0, Signal::Clear, Some(40.0)) - 50.0).abs() < 1e-9);
        assert!((step(40.0, Signal::Clear, None) - 50.0).abs() < 1e-9);
        assert!((step(40.0, Signal::Throttled, None) - 20.0).abs() < 1e-9);
        // A fifth of its fair rate (tilted at most MAX_TILT): ×1.25² up, ×0.5^½ down.
        assert!((step(8.0, Signal::Clear, Some(40.0)) - 8.0 * 1.5625).abs() < 1e-9);
        let yielded = step(8.0, Signal::Throttled, Some(40.0));
        assert!((yielded - 8.0 * 0.5_f64.sqrt()).abs() < 1e-9, "{yielded}");
        // Twice its fair rate: ×1.25^½ up, ×0.7² for a new high level.
        let grown = step(80.0, Signal::Clear, Some(40.0));
        assert!((grown - 80.0 * 1.25_f64.sqrt()).abs() < 1e-9, "{grown}");
        let lowered = step(80.0, Signal::Pressure(0.9), Some(40.0));
        assert!((lowered - 80.0 * 0.49).abs() < 1e-9, "{lowered}");
        // A level that holds: the rate drifts towards fair, at most MAX_DRIFT a half second.
        let held = |rate: f64, fair: Option<f64>| {
            let mut s = State::new(t0);
            s.rate = Some(rate);
            s.level_high = 1.0;
            let t = go_busy(&mut s, t0 + INCREASE_EVERY);
            s.observe(
                t0 + INCREASE_EVERY,
                Signal::Pressure(1.0),
                t,
                fair,
                false,
                None,
            );
            s.rate.expect("paced")
        };
        assert!((held(8.0, Some(40.0)) - 8.0 * MAX_DRIFT).abs() < 1e-9);
        let drifted = held(80.0, Some(40.0));
        assert!(
            (drifted - 80.0 * 0.5_f64.powf(DRIFT)).abs() < 1e-9,
            "{drifted}"
        );
        assert_eq!(held(40.0, Some(40.0)), 40.0);
        assert_eq!(held(8.0, None), 8.0);
    }

    #[test]
    fn a_first_rate_set_at_a_low_level_still_bounds_the_growth_after_it() {
        // 0.8 is not an episode of its own, but seeding is: once the bucket is back below
        // 0.8 at the first rate, growth past three times it is slow.
        let (mut s, t0) = seeded_after_a_burst(false);
        assert_eq!(s.rate, Some(SEED));
        let t = go_busy(&mut s, t0 + ms(1_500));
        s.observe(t0 + ms(1_500), Signal::Clear, t, None, false, None);
        assert_eq!(s.ceiling, Some(3.0 * SEED));
    }

    #[test]
    fn a_capped_call_waits_for_the_last_calls_writes_at_the_cap_and_a_lifted_cap_frees_it() {
        let t0 = Instant::now();
        let mut s = State::new(t0);
        assert_eq!(
            s.take_turn(t0, 20, Some(2.0)).map(|t| t.epoch),
            Ok(0),
            "nothing went before"
        );
        // 20 writes at 2 per second: the next call goes 10 s later.
        assert_eq!(s.take_turn(t0 + ms(1), 1, Some(2.0)), Err(t0 + ms(10_000)));
        assert!(s.take_turn(t0 + ms(10_000), 1, Some(2.0)).is_ok());
        // The cap lifted (the busiest tenant went idle): the tenant's own pace alone, unpaced.
        assert!(s.take_turn(t0 + ms(10_001), 20, None).is_ok());
    }
}
