//! A tenant's writes paced by [`State`] against one simulated write bucket, in simulated time:
//! what the pacer's laws add up to over a whole apply, deterministic and in milliseconds.
//!
//! The bucket is the emulator's (`mtoctl-emulator`'s `throttle.rs`, from Graph's throttling
//! documentation): it holds `capacity` writes, refills at `refill` per second, charges every
//! write item it is asked (throttled ones too, down to minus its capacity), answers 429 with a
//! `Retry-After` of the seconds until the item's write is back when it holds less than one,
//! and reports its use after the charge, to one decimal, once more than 0.8 of it is used.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use super::rate::{State, Ticket};
use super::signal::Signal;

/// What is simulated.
#[derive(Debug, Clone, Copy)]
pub(super) struct Setup {
    /// Writes the tenant has to make.
    pub writes: u64,
    /// The bucket's size, writes.
    pub capacity: f64,
    /// Its refill, writes per second.
    pub refill: f64,
    /// How full it is when the apply begins (0 to 1).
    pub used: f64,
    /// Write calls (`$batch`es of up to 20) in flight at once.
    pub lanes: usize,
    /// Each call's round trip; the bucket judges its items halfway.
    pub latency: Duration,
    /// Whether the tenant writes alone (see [`State::observe`]).
    pub alone: bool,
}

/// What came of it.
#[derive(Debug, Clone)]
pub(super) struct Outcome {
    /// When the last answer arrived, from the start.
    pub took: Duration,
    /// Write items answered 429.
    pub throttled: u64,
    /// The bucket's writes left unspent when the last answer arrived.
    pub unspent: f64,
    /// Each change of rate.
    pub changes: Vec<Change>,
}

/// A change of the pacer's rate.
#[derive(Debug, Clone, Copy)]
pub(super) struct Change {
    /// When, from the start.
    pub at: Duration,
    /// The answer that brought it.
    pub signal: Signal,
    /// The new rate.
    pub rate: Option<f64>,
    /// The estimate of the bucket then: its refill and capacity.
    pub estimate: Option<(f64, f64)>,
}

impl Setup {
    /// The least time the writes can take: the bucket's content at once, then its refill.
    pub(super) fn bound(&self) -> Duration {
        let at_once = self.capacity * (1.0 - self.used);
        let rest = (self.writes as f64 - at_once).max(0.0);
        Duration::from_secs_f64(rest / self.refill) + self.latency
    }
}

struct Bucket {
    tokens: f64,
    capacity: f64,
    refill: f64,
    at: Duration,
}

impl Bucket {
    /// Judges `items` write items at `now`: the 429s with their `Retry-After`, and the level.
    fn judge(&mut self, now: Duration, items: u32) -> (u32, Duration, Option<f64>) {
        let dt = now.saturating_sub(self.at).as_secs_f64();
        self.tokens = (self.tokens + dt * self.refill).min(self.capacity);
        self.at = now;
        let (mut throttled, mut retry) = (0, Duration::ZERO);
        let mut level: f64 = 0.0;
        for _ in 0..items {
            if self.tokens < 1.0 {
                throttled += 1;
                let secs = ((1.0 - self.tokens) / self.refill).ceil().max(1.0);
                retry = retry.max(Duration::from_secs_f64(secs));
            }
            self.tokens = (self.tokens - 1.0).max(-self.capacity);
            level = level.max(1.0 - self.tokens / self.capacity);
        }
        let printed = (level > 0.8).then(|| (level.min(1.8) * 10.0).round() / 10.0);
        (throttled, retry, printed)
    }
}

enum Event {
    /// A lane is free to send.
    Free(usize),
    /// A call's items reach the bucket.
    Judge {
        lane: usize,
        items: u32,
        ticket: Ticket,
    },
    /// Its answer arrives.
    Answer {
        lane: usize,
        items: u32,
        ticket: Ticket,
        signal: Signal,
        throttled: u32,
        retry: Duration,
    },
}

/// Runs `setup` with a fresh pacer, in the transport's order: a tenant given a `Retry-After`
/// takes no turns until it has passed; each answer goes to the pacer with the writes left
/// (throttled ones count again, as the share counts them).
pub(super) fn run(setup: Setup) -> Outcome {
    let t0 = Instant::now();
    let mut state = State::new(t0);
    let mut bucket = Bucket {
        tokens: setup.capacity * (1.0 - setup.used),
        capacity: setup.capacity,
        refill: setup.refill,
        at: Duration::ZERO,
    };
    let mut ready: u64 = setup.writes;
    // Throttled writes, and when they may be sent again.
    let mut later: Vec<(Duration, u64)> = Vec::new();
    let mut done: u64 = 0;
    let mut throttled_total = 0;
    // Events by time, then in the order they were made.
    let mut events: BinaryHeap<Reverse<(Duration, usize)>> = BinaryHeap::new();
    let mut payloads: Vec<Option<Event>> = Vec::new();
    let push = |events: &mut BinaryHeap<_>, payloads: &mut Vec<Option<Event>>, at, e| {
        payloads.push(Some(e));
        events.push(Reverse((at, payloads.len() - 1)));
    };
    for lane in 0..setup.lanes {
        push(
            &mut events,
            &mut payloads,
            Duration::ZERO,
            Event::Free(lane),
        );
    }
    let mut idle: Vec<usize> = Vec::new();
    let mut last = Duration::ZERO;
    let mut changes = Vec::new();
    let mut quiet = Duration::ZERO;
    // Writes sent, throttled ones again: what the pacer's share counts down.
    let mut sent: u64 = 0;
    while let Some(Reverse((now, n))) = events.pop() {
        assert!(
            now < Duration::from_secs(3_600),
            "the simulation never ends"
        );
        let event = payloads[n].take().expect("each event once");
        match event {
            Event::Free(lane) => {
                later.retain(|&(at, writes)| {
                    if at <= now {
                        ready += writes;
                    }
                    at > now
                });
                if ready == 0 {
                    if let Some(&(at, _)) = later.iter().min_by_key(|(at, _)| *at) {
                        push(&mut events, &mut payloads, at, Event::Free(lane));
                    } else {
                        idle.push(lane);
                    }
                    continue;
                }
                // A tenant told to wait (Retry-After) takes no turns meanwhile.
                if now < quiet {
                    push(&mut events, &mut payloads, quiet, Event::Free(lane));
                    continue;
                }
                let items = ready.min(20) as u32;
                match state.take_turn(t0 + now, items, None) {
                    Ok(ticket) => {
                        ready -= u64::from(items);
                        sent += u64::from(items);
                        let at = now + setup.latency / 2;
                        push(
                            &mut events,
                            &mut payloads,
                            at,
                            Event::Judge {
                                lane,
                                items,
                                ticket,
                            },
                        );
                    }
                    Err(next) => {
                        let at = next.duration_since(t0);
                        push(&mut events, &mut payloads, at, Event::Free(lane));
                    }
                }
            }
            Event::Judge {
                lane,
                items,
                ticket,
            } => {
                let (throttled, retry, level) = bucket.judge(now, items);
                let signal = if throttled > 0 {
                    Signal::Throttled
                } else {
                    level.map_or(Signal::Clear, Signal::Pressure)
                };
                let at = now + setup.latency / 2;
                let answer = Event::Answer {
                    lane,
                    items,
                    ticket,
                    signal,
                    throttled,
                    retry,
                };
                push(&mut events, &mut payloads, at, answer);
            }
            Event::Answer {
                lane,
                items,
                ticket,
                signal,
                throttled,
                retry,
            } => {
                last = now;
                let before = state.rate;
                let left =
                    (setup.writes + throttled_total + u64::from(throttled)).saturating_sub(sent);
                state.observe(t0 + now, signal, ticket, None, setup.alone, Some(left));
                if state.rate != before {
                    changes.push(Change {
                        at: now,
                        signal,
                        rate: state.rate,
                        estimate: state.estimate().map(|e| (e.refill, e.capacity)),
                    });
                }
                throttled_total += u64::from(throttled);
                done += u64::from(items - throttled);
                if throttled > 0 {
                    quiet = quiet.max(now + retry);
                    later.push((now + retry, u64::from(throttled)));
                    for lane in idle.drain(..) {
                        push(&mut events, &mut payloads, now + retry, Event::Free(lane));
                    }
                }
                push(&mut events, &mut payloads, now, Event::Free(lane));
            }
        }
    }
    assert_eq!(done, setup.writes, "every write made");
    bucket.judge(last, 0);
    Outcome {
        took: last,
        throttled: throttled_total,
        unspent: bucket.tokens.max(0.0),
        changes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// B2's hub: 9,634 writes into its app+tenant bucket (3,000 per 150 s at time scale 0.181).
    fn b2_hub() -> Setup {
        Setup {
            writes: 9_634,
            capacity: 3_000.0,
            refill: 3_000.0 / (150.0 * 0.180_886),
            used: 0.0,
            lanes: 16,
            latency: Duration::from_millis(150),
            alone: false,
        }
    }

    /// Graph's own app+tenant bucket (3,000 per 150 s) and app bucket (35,000 per 5 min).
    fn real(capacity: f64, window_s: f64, writes: u64) -> Setup {
        Setup {
            writes,
            capacity,
            refill: capacity / window_s,
            ..b2_hub()
        }
    }

    #[allow(clippy::print_stderr)] // a grid printed for a reader, run by hand
    fn show(name: &str, s: Setup) -> Outcome {
        let o = run(s);
        let ratio = o.took.as_secs_f64() / s.bound().as_secs_f64();
        eprintln!(
            "{name} alone {} lanes {} used {}: {:.2} s / {:.2} s = {ratio:.3}, 429 {}, unspent {:.0}",
            s.alone,
            s.lanes,
            s.used,
            o.took.as_secs_f64(),
            s.bound().as_secs_f64(),
            o.throttled,
            o.unspent
        );
        if std::env::var("SIM_TRACE").is_ok() {
            for c in &o.changes {
                let (at, signal, rate, estimate) =
                    (c.at.as_secs_f64(), c.signal, c.rate, c.estimate);
                eprintln!("   {at:7.2} {signal:?} {rate:?} {estimate:?}");
            }
        }
        o
    }

    /// `base` in every combination of writing alone, lanes and how full the bucket is at the
    /// start.
    fn grid(base: Setup) -> impl Iterator<Item = Setup> {
        [false, true].into_iter().flat_map(move |alone| {
            [4, 8, 16, 32].into_iter().flat_map(move |lanes| {
                [0.0, 0.5].into_iter().map(move |used| Setup {
                    alone,
                    lanes,
                    used,
                    ..base
                })
            })
        })
    }

    /// Over `base`'s grid: the worst time against the bound, and the most 429s as a share of
    /// the writes.
    fn worst(base: Setup) -> (f64, f64) {
        grid(base).fold((0.0, 0.0), |(ratio, throttled), s| {
            let o = run(s);
            (
                ratio.max(o.took.as_secs_f64() / s.bound().as_secs_f64()),
                throttled.max(o.throttled as f64 / s.writes as f64),
            )
        })
    }

    #[test]
    fn b2s_hub_ends_within_two_percent_of_its_bound_on_every_start() {
        // The law without a refill estimate ended up to 43 % late (32 lanes writing alone
        // flooded the bucket; a rate held a little past the refill met a 429 and left the
        // bucket's content unspent after it).
        let (ratio, throttled) = worst(b2_hub());
        assert!(ratio <= 1.02, "{ratio}");
        assert!(throttled <= 0.01, "{throttled}");
    }

    #[test]
    fn graphs_own_write_buckets_are_spent_to_within_four_percent() {
        // Its app+tenant bucket, 3,000 per 150 s: 20 writes a second, the rate a tenant that
        // shares its app with others begins at and used to hold for good at 0.8, some 500 of
        // the bucket's writes unspent (7 % late); alone, 95 % late with 61 % of writes 429.
        let (ratio, throttled) = worst(real(3_000.0, 150.0, 10_000));
        assert!(ratio <= 1.04, "{ratio}");
        assert!(throttled <= 0.015, "{throttled}");
        // Its app bucket, 35,000 per 5 min: a tenth of it is 30 s of refill (16 % late).
        let (ratio, throttled) = worst(real(35_000.0, 300.0, 70_000));
        assert!(ratio <= 1.04, "{ratio}");
        assert!(throttled <= 0.001, "{throttled}");
    }

    #[test]
    #[ignore = "prints a grid of simulated applies; run with --ignored --nocapture"]
    fn print_grid() {
        let only = std::env::var("SIM_ONLY").unwrap_or_default();
        for (name, base) in [
            ("B2 hub", b2_hub()),
            ("tenant 3000/150s", real(3_000.0, 150.0, 10_000)),
            ("app 35000/300s", real(35_000.0, 300.0, 70_000)),
            ("small 300/15s", real(300.0, 15.0, 2_000)),
        ] {
            for s in grid(base) {
                let key = format!("{name} {} {} {}", s.alone, s.lanes, s.used);
                if only.is_empty() || key == only {
                    show(name, s);
                }
            }
        }
    }
}
