//! The emulator core: state, virtual clock, options, statistics and the
//! scheduler that runs asynchronous transitions when they fall due.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::clock::Clock;
use crate::faults::FaultSettings;
use crate::ids::Rng;
use crate::state::{EventKind, State};
use crate::throttle::Throttle;

/// Response latency model (real time, never scaled).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Latency {
    /// No added latency.
    None,
    /// A fixed delay in milliseconds.
    Fixed(u64),
    /// Log-normal around a median (p95 ≈ 2.5 × median).
    LogNormal(u64),
}

/// Emulator options (the `serve` flags).
#[derive(Debug, Clone)]
pub struct Options {
    /// Seed for ids and faults (overrides the world file's seed).
    pub seed: Option<u64>,
    /// Multiplier for every emulated duration (timers, buckets, Retry-After, lag).
    pub time_scale: f64,
    /// Added latency.
    pub latency: Latency,
    /// Enforce the Graph throttling model.
    pub throttle: bool,
    /// Probability of an injected fault per HTTP request.
    pub fault_rate: f64,
    /// Whether the virtual clock also follows real time.
    pub follow_wall_clock: bool,
    /// Persist state here after every change.
    pub state_file: Option<PathBuf>,
    /// Override of `timings.replicationLag` (virtual seconds).
    pub replication_lag: Option<f64>,
    /// Throttle bucket capacity as a fraction of the window quota (1.0 = normal).
    pub throttle_burst: f64,
    /// Log one line per request to stderr.
    pub log_requests: bool,
    /// Share of each tenant's all-apps write quota consumed by other apps.
    pub background_load: f64,
    /// Called with every Graph request carried out and its answer (tests' contract checks).
    pub observer: Option<crate::exchange::Observer>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            seed: None,
            time_scale: 1.0,
            latency: Latency::None,
            throttle: false,
            fault_rate: 0.0,
            follow_wall_clock: false,
            state_file: None,
            replication_lag: None,
            throttle_burst: 1.0,
            log_requests: false,
            background_load: 0.0,
            observer: None,
        }
    }
}

/// Request counters.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counters {
    /// HTTP requests received (a `$batch` envelope counts once).
    pub http_requests: u64,
    /// Graph requests executed, counting each `$batch` item.
    pub inner_requests: u64,
    /// Requests answered 429 by the throttling model.
    pub throttled: u64,
    /// Requests that arrived before their Retry-After had elapsed.
    pub early_retries: u64,
    /// Injected faults (429, 503, connection resets).
    pub faults_injected: u64,
    /// Resource units charged.
    pub resource_units: u64,
    /// Write units charged.
    pub writes: u64,
    /// Most requests in flight at once (being served, latency included).
    pub peak_in_flight: u64,
}

/// Statistics in total and per tenant.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    /// Totals.
    #[serde(flatten)]
    pub total: Counters,
    /// Per tenant id.
    pub per_tenant: BTreeMap<String, Counters>,
    /// Requests in flight now, in total and per tenant.
    #[serde(skip)]
    in_flight: BTreeMap<Option<String>, u64>,
}

impl Stats {
    /// A request for `tenant` starts being served.
    pub fn enter(&mut self, tenant: Option<&str>) {
        for key in [None, tenant.map(str::to_owned)]
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>()
        {
            let n = self.in_flight.entry(key.clone()).or_insert(0);
            *n += 1;
            let n = *n;
            let c = match &key {
                None => &mut self.total,
                Some(t) => self.per_tenant.entry(t.clone()).or_default(),
            };
            c.peak_in_flight = c.peak_in_flight.max(n);
        }
    }

    /// A request for `tenant` has been answered.
    pub fn leave(&mut self, tenant: Option<&str>) {
        for key in [None, tenant.map(str::to_owned)]
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>()
        {
            if let Some(n) = self.in_flight.get_mut(&key) {
                *n = n.saturating_sub(1);
            }
        }
    }

    /// Apply `f` to the totals and to `tenant`'s counters.
    pub fn bump(&mut self, tenant: Option<&str>, f: impl Fn(&mut Counters)) {
        f(&mut self.total);
        if let Some(t) = tenant {
            f(self.per_tenant.entry(t.to_owned()).or_default());
        }
    }
}

/// The mutable heart of the emulator, kept behind one mutex.
#[derive(Debug)]
pub struct Core {
    /// The world.
    pub state: State,
    /// The virtual clock.
    pub clock: Clock,
    /// Options.
    pub opts: Options,
    /// Statistics.
    pub stats: Stats,
    /// Throttling buckets.
    pub throttle: Throttle,
    /// Fault injection settings.
    pub faults: FaultSettings,
    /// Random source for faults and latency (kept apart from id generation so
    /// turning faults on does not change ids).
    pub noise: Rng,
    /// Set by handlers that changed the state.
    pub dirty: bool,
}

impl Core {
    /// A core over `state`.
    pub fn new(mut state: State, opts: Options) -> Self {
        if let Some(lag) = opts.replication_lag {
            state.timings.replication_lag = lag;
        }
        let clock = Clock::new(state.now_ms, opts.follow_wall_clock);
        // Without --seed, derive the noise seed from the world (its signing key
        // comes from the world's seed), so runs stay reproducible.
        let world_seed = state
            .signing_key
            .get(..16)
            .and_then(|h| u64::from_str_radix(h, 16).ok())
            .unwrap_or(0);
        let seed = opts.seed.unwrap_or(world_seed) ^ 0x5eed_f417;
        let faults = FaultSettings {
            rate: opts.fault_rate,
            ..FaultSettings::default()
        };
        Self {
            state,
            clock,
            stats: Stats::default(),
            throttle: {
                let mut t = Throttle::with_burst(opts.throttle_burst);
                if opts.background_load.is_finite() {
                    t.background_load = opts.background_load.clamp(0.0, 0.99);
                }
                t
            },
            faults,
            noise: Rng::new(seed),
            dirty: false,
            opts,
        }
    }

    /// The current virtual time (ms).
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// A duration of `secs` virtual seconds scaled by `--time-scale`, in ms.
    pub fn scaled_ms(&self, secs: f64) -> i64 {
        let ms = secs * 1000.0 * self.opts.time_scale;
        if ms.is_finite() {
            ms.round().max(0.0) as i64
        } else {
            0
        }
    }

    /// Move the clock forward and run everything that falls due.
    pub fn advance(&mut self, secs: f64) {
        let ms = if secs.is_finite() {
            (secs * 1000.0).round() as i64
        } else {
            0
        };
        self.clock.advance(ms);
        self.run_due();
    }

    /// Run scheduled transitions and sync cycles that are due, in time order.
    pub fn run_due(&mut self) {
        let now = self.now();
        // Bounded so a pathological schedule cannot spin forever.
        for _ in 0..100_000 {
            let next_event = self
                .state
                .events
                .iter()
                .enumerate()
                .filter(|(_, e)| e.due_ms <= now)
                .min_by_key(|(_, e)| (e.due_ms, e.seq))
                .map(|(i, e)| (i, e.due_ms));
            let next_cycle = crate::sync_engine::next_due_cycle(&self.state, now);
            match (next_event, next_cycle) {
                (Some((i, due)), cycle) if cycle.as_ref().is_none_or(|c| due <= c.0) => {
                    let ev = self.state.events.remove(i);
                    self.dirty = true;
                    self.process(ev.kind, ev.due_ms);
                }
                (_, Some((due, tenant, sp, job))) => {
                    self.dirty = true;
                    let interval = self.scaled_ms(self.state.timings.sync_interval);
                    crate::sync_engine::run_cycle(
                        &mut self.state,
                        &tenant,
                        &sp,
                        &job,
                        due,
                        interval,
                    );
                }
                _ => break,
            }
        }
    }

    fn process(&mut self, kind: EventKind, at: i64) {
        match kind {
            EventKind::JoinStart { tenant, attempt } => {
                crate::graph::mto_transitions::join_start(self, &tenant, attempt)
            }
            EventKind::JoinComplete { tenant, attempt } => {
                crate::graph::mto_transitions::join_complete(self, &tenant, attempt, at)
            }
            EventKind::TransitionRunning { mto, tenant } => {
                crate::graph::mto_transitions::transition_running(self, &mto, &tenant)
            }
            EventKind::RoleChange { mto, tenant } => {
                crate::graph::mto_transitions::role_change_lands(self, &mto, &tenant)
            }
            EventKind::Removal { mto, tenant } => {
                crate::graph::mto_transitions::removal_lands(self, &mto, &tenant)
            }
        }
    }
}
