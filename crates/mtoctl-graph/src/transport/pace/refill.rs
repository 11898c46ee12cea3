//! An estimate of a write bucket's refill and size, from the moments Graph's reported level
//! of it changed.
//!
//! Graph prints `x-ms-throttle-limit-percentage` to one decimal, so the level only says which
//! tenth of the bucket is used; but each change of what an answer says (a *crossing*: no
//! header to 0.8, one printed level to another, a write answered 429) pins the bucket to one
//! threshold at one moment. Between any two crossings the bucket lost what was charged (the
//! writes sent, throttled ones too) less what it refilled, so every crossing `i` (sent at `tᵢ`,
//! after `Wᵢ` writes in all, at threshold `θᵢ`) satisfies
//! `Wᵢ = a + refill · tᵢ + capacity · θᵢ`, a least-squares fit of three unknowns.
//!
//! The thresholds 0.8 (the header appears) and 1.0 (a 429) are Graph's; between them, whether
//! it rounds the level (0.9 printed from 0.85) or truncates it (from 0.9) is not documented, so
//! both are fitted and the better fit is taken.
//!
//! Two counts of writes are tried, the tenant's own and its app registration's (every
//! tenant's): a bucket of the tenant's (its app+tenant one, say) is fitted by the first, the
//! app's bucket by the second. An estimate is given only for the tenant's own bucket, and only
//! when the fit explains the crossings to within a fraction of a tenth: the level is that of the
//! fullest of several buckets, and a fit across two of them, or of an app bucket whose other
//! tenants' writes vary, explains nothing. It does not know the quotas; it learns from
//! answers only.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::signal::Signal;

/// The crossings kept: the latest, as the bucket's other users change.
const KEPT: usize = 16;
/// The crossings of one threshold kept.
const KEPT_PER_THRESHOLD: usize = 4;
/// The fewest crossings fitted: three fit three unknowns exactly and say nothing of the fit.
const FEWEST: usize = 4;
/// The largest root-mean-square error of a fit, as a share of the bucket: a fifth of the
/// printed step (a call of 20 writes, answered a fifth of a second late, is some 40 writes off).
const WORST_ERROR: f64 = 0.02;
/// The largest standard error of the refill or the size believed, as a share of it.
const MOST_UNCERTAIN: f64 = 0.1;
/// The smallest bucket believed, writes: less is a fit of noise.
const SMALLEST: f64 = 20.0;
/// Crossings of the same threshold closer than this are one (answers out of order flicker).
const FLICKER: Duration = Duration::from_millis(500);

/// What the fit says about the bucket the tenant's writes fill.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Estimate {
    /// Writes per second it refills.
    pub(super) refill: f64,
    /// Writes it holds.
    pub(super) capacity: f64,
    /// Whether Graph rounds the level it prints (the better fit), rather than truncating it.
    pub(super) rounds: bool,
    /// The fit's origin of time, and its constant: `writes = base + refill · t + capacity · used`.
    origin: Instant,
    base: f64,
}

impl Estimate {
    /// The share of the bucket used at `at`, once `writes` writes in all have been sent: finer
    /// than the tenth Graph prints.
    pub(super) fn used(&self, at: Instant, writes: u64) -> f64 {
        let t = at.saturating_duration_since(self.origin).as_secs_f64();
        (writes as f64 - self.base - self.refill * t) / self.capacity
    }
}

/// One change of what Graph's answers say.
#[derive(Debug, Clone, Copy)]
struct Crossing {
    /// When the call whose answer first said it was sent.
    at: Instant,
    /// The tenant's writes sent up to and with that call.
    own: u64,
    /// Its app's writes (every tenant's) sent up to and with it.
    app: u64,
    /// The threshold crossed if Graph rounds the level it prints, and if it truncates it.
    threshold: [f64; 2],
}

/// The crossings seen, and the estimate they give.
#[derive(Debug)]
pub(super) struct Crossings {
    log: VecDeque<Crossing>,
    /// What the last answer said.
    last: Signal,
    /// The estimate the crossings give, once worked out.
    estimate: Option<Option<Estimate>>,
}

impl Default for Crossings {
    fn default() -> Self {
        Self {
            log: VecDeque::new(),
            last: Signal::Clear,
            estimate: None,
        }
    }
}

impl Crossings {
    /// An answer to a call sent at `at` after `own` of the tenant's writes and `app` of its
    /// app's (with the call's), saying `signal`.
    pub(super) fn observe(&mut self, at: Instant, own: u64, app: u64, signal: Signal) {
        let before = std::mem::replace(&mut self.last, signal);
        let Some(threshold) = crossed(before, signal) else {
            return;
        };
        if self.log.back().is_some_and(|last| {
            (last.threshold[0] - threshold[0]).abs() < 0.01
                && at.saturating_duration_since(last.at) < FLICKER
        }) {
            return;
        }
        // A bucket held at one threshold crosses it again and again: the latest few of those
        // tell the refill, the older crossings of other thresholds the size.
        let same = |c: &Crossing| (c.threshold[0] - threshold[0]).abs() < 0.01;
        if self.log.iter().filter(|c| same(c)).count() >= KEPT_PER_THRESHOLD
            && let Some(oldest) = self.log.iter().position(same)
        {
            self.log.remove(oldest);
        }
        if self.log.len() == KEPT {
            self.log.pop_front();
        }
        self.estimate = None;
        self.log.push_back(Crossing {
            at,
            own,
            app,
            threshold,
        });
    }

    /// When the call that brought the latest crossing was sent.
    pub(super) fn last_at(&self) -> Option<Instant> {
        self.log.iter().map(|c| c.at).max()
    }

    /// The tenant's own bucket's refill and size, from the latest crossings that fit well
    /// (older ones may be of another regime: the bucket's other users changed, or it filled up
    /// in between), when the app's writes explain them no better.
    pub(super) fn estimate(&mut self) -> Option<Estimate> {
        if let Some(known) = self.estimate {
            return known;
        }
        let log = self.log.make_contiguous();
        let known = (0..=log.len().saturating_sub(FEWEST)).find_map(|from| estimate(&log[from..]));
        self.estimate = Some(known);
        known
    }
}

/// The estimate from `log`'s crossings, if they say so clearly.
fn estimate(log: &[Crossing]) -> Option<Estimate> {
    let best = |count: fn(&Crossing) -> u64| {
        [0, 1]
            .into_iter()
            .filter_map(|k| fit(log.iter().map(|c| (c.at, count(c), c.threshold[k])), k == 0))
            .min_by(|a, b| a.error.total_cmp(&b.error))
    };
    let own = best(|c| c.own)?;
    // Alone, the two counts are one and fit alike: the bucket is then the tenant's.
    if best(|c| c.app).is_some_and(|app| app.error < own.error * 0.8) {
        return None;
    }
    Some(own.estimate)
}

/// The threshold (if Graph rounds, if it truncates) the bucket's use crossed between an
/// answer saying `before` and one saying `after`: the one nearest `after`'s level.
fn crossed(before: Signal, after: Signal) -> Option<[f64; 2]> {
    use Signal::{Clear, Pressure, Throttled};
    // Rising to a printed level: the threshold at its bottom.
    let up = |b: f64| [if b < 0.85 { 0.8 } else { b - 0.05 }, b];
    // Falling to one: the threshold at its top.
    let down = |b: f64| [b + 0.05, b + 0.1];
    match (before, after) {
        (Pressure(a), Pressure(b)) if (a - b).abs() < 0.05 => None,
        (Clear, Clear) | (Throttled, Throttled) => None,
        (Pressure(a), Pressure(b)) if b > a => Some(up(b)),
        (Clear, Pressure(b)) => Some(up(b)),
        (Pressure(_), Pressure(b)) => Some(down(b)),
        (Throttled, Pressure(b)) if b > 0.95 => Some([1.0, 1.0]),
        (Throttled, Pressure(b)) => Some(down(b)),
        (_, Clear) => Some([0.8, 0.8]),
        (_, Throttled) => Some([1.0, 1.0]),
    }
}

#[derive(Debug, Clone, Copy)]
struct Fit {
    estimate: Estimate,
    /// Root-mean-square error, as a share of the capacity.
    error: f64,
}

/// The least-squares fit of `writes = a + refill · t + capacity · threshold`, the thresholds
/// those of a level Graph `rounds` (or truncates); `None` when the points are too few, do not
/// tell refill from capacity, or fit badly.
fn fit(points: impl Iterator<Item = (Instant, u64, f64)> + Clone, rounds: bool) -> Option<Fit> {
    let origin = points.clone().next()?.0;
    let xs: Vec<(f64, f64, f64)> = points
        .map(|(at, w, th)| {
            (
                at.saturating_duration_since(origin).as_secs_f64(),
                w as f64,
                th,
            )
        })
        .collect();
    let n = xs.len();
    if n < FEWEST {
        return None;
    }
    let mean = |f: fn(&(f64, f64, f64)) -> f64| xs.iter().map(f).sum::<f64>() / n as f64;
    let (mt, mw, mh) = (mean(|p| p.0), mean(|p| p.1), mean(|p| p.2));
    let (mut stt, mut shh, mut sth, mut stw, mut shw) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &(t, w, h) in &xs {
        let (t, w, h) = (t - mt, w - mw, h - mh);
        stt += t * t;
        shh += h * h;
        sth += t * h;
        stw += t * w;
        shw += h * w;
    }
    let det = stt * shh - sth * sth;
    if stt <= 0.0 || shh <= 0.0 || det <= 1e-9 * stt * shh {
        return None;
    }
    let refill = (stw * shh - shw * sth) / det;
    let capacity = (shw * stt - stw * sth) / det;
    if !(refill > 0.0 && capacity >= SMALLEST && refill.is_finite() && capacity.is_finite()) {
        return None;
    }
    let squares: f64 = xs
        .iter()
        .map(|&(t, w, h)| {
            let off = (w - mw) - refill * (t - mt) - capacity * (h - mh);
            off * off
        })
        .sum();
    let error = (squares / n as f64).sqrt() / capacity;
    // Time and level moving nearly in lockstep (one rate throughout) cannot tell a fast refill
    // of a small bucket from a slow one of a large bucket: the fit's own uncertainty says so.
    let variance = squares / (n - 3) as f64;
    let vague = |se2: f64, value: f64| se2 > (MOST_UNCERTAIN * value).powi(2);
    if vague(variance * shh / det, refill) || vague(variance * stt / det, capacity) {
        return None;
    }
    (error <= WORST_ERROR).then_some(Fit {
        estimate: Estimate {
            refill,
            capacity,
            rounds,
            origin,
            base: mw - refill * mt - capacity * mh,
        },
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// What Graph's answer says of a bucket holding `tokens` of `capacity` (rounded, as the
    /// emulator prints it).
    fn printed(tokens: f64, capacity: f64) -> Signal {
        let used = 1.0 - tokens / capacity;
        if tokens < 0.0 {
            Signal::Throttled
        } else if used > 0.8 {
            Signal::Pressure((used * 10.0).round() / 10.0)
        } else {
            Signal::Clear
        }
    }

    /// A bucket of `capacity` refilling at `refill`, written at `rates` (writes per second,
    /// one per second of time) in calls of 20; what the answers said, fed to crossings; and
    /// the end, the writes sent and the share of the bucket used then.
    fn crossings(capacity: f64, refill: f64, rates: &[f64]) -> (Crossings, Instant, u64, f64) {
        let t0 = Instant::now();
        let mut c = Crossings::default();
        let (mut tokens, mut own, mut t) = (capacity * 0.3, 0_u64, 0.0_f64);
        for &rate in rates {
            let end = t + 1.0;
            while t < end {
                let dt = 20.0 / rate;
                t += dt;
                tokens = (tokens + refill * dt).min(capacity) - 20.0;
                own += 20;
                let at = t0 + Duration::from_secs_f64(t);
                c.observe(at, own, own, printed(tokens, capacity));
            }
        }
        let used = 1.0 - tokens / capacity;
        (c, t0 + Duration::from_secs_f64(t), own, used)
    }

    #[test]
    fn the_refill_and_size_of_a_bucket_come_from_crossings_at_changing_rates() {
        // B2's hub: 3,000 writes refilling at 110.6/s, written above and below the refill.
        let rates = [
            300.0, 300.0, 300.0, 200.0, 200.0, 60.0, 60.0, 60.0, 60.0, 150.0, 150.0, 150.0, 300.0,
        ];
        let (mut c, now, sent, used) = crossings(3_000.0, 110.6, &rates);
        let e = c.estimate().expect("an estimate");
        assert!((e.refill - 110.6).abs() < 110.6 * 0.05, "{e:?}");
        assert!((e.capacity - 3_000.0).abs() < 3_000.0 * 0.05, "{e:?}");
        // And how full it is, to a fraction of the tenth Graph prints.
        let predicted = e.used(now, sent);
        assert!((predicted - used).abs() < 0.02, "{predicted} {used}");
    }

    #[test]
    fn one_rate_throughout_tells_nothing() {
        // The level climbs at one rate: refill and size cannot be told apart.
        let (mut c, _, _, _) = crossings(3_000.0, 110.6, &[250.0; 8]);
        assert!(c.log.len() >= FEWEST, "{:?}", c.log);
        assert_eq!(c.estimate(), None);
    }

    #[test]
    fn an_app_bucket_filled_by_other_tenants_is_not_taken_for_the_tenants_own() {
        // The app's other tenants write at varying rates: only the app's count explains the
        // crossings.
        let t0 = Instant::now();
        let mut c = Crossings::default();
        let (mut tokens, mut own, mut app, mut t) = (900.0_f64, 0_u64, 0_u64, 0.0_f64);
        let plan = [
            (100.0, 200.0),
            (100.0, 50.0),
            (30.0, 150.0),
            (100.0, 10.0),
            (60.0, 200.0),
        ];
        for &(mine, others) in plan.iter().cycle().take(20) {
            let end = t + 1.0;
            while t < end {
                let dt = 0.1;
                t += dt;
                let (m, o) = ((mine * dt) as u64, (others * dt) as u64);
                tokens = (tokens + 150.0 * dt).min(3_000.0) - (m + o) as f64;
                own += m;
                app += m + o;
                let at = t0 + Duration::from_secs_f64(t);
                c.observe(at, own, app, printed(tokens, 3_000.0));
            }
        }
        assert!(c.log.len() >= FEWEST, "{:?}", c.log);
        let app =
            fit(c.log.iter().map(|x| (x.at, x.app, x.threshold[0])), true).expect("the app's");
        assert!((app.estimate.refill - 150.0).abs() < 7.5, "{app:?}");
        assert_eq!(c.estimate(), None);
    }

    #[test]
    fn crossings_are_pinned_to_thresholds_either_way_graph_prints_and_flicker_counts_once() {
        let t0 = Instant::now();
        let mut c = Crossings::default();
        let said = [
            (0, Signal::Clear),
            (100, Signal::Pressure(0.8)),
            (200, Signal::Pressure(0.9)),
            // Answers out of order: 0.8, then 0.9 again within FLICKER.
            (250, Signal::Pressure(0.8)),
            (300, Signal::Pressure(0.9)),
            (900, Signal::Throttled),
            (1_500, Signal::Pressure(0.9)),
            (2_100, Signal::Clear),
        ];
        for (i, (at, signal)) in said.into_iter().enumerate() {
            let w = 20 * (i as u64 + 1);
            c.observe(t0 + ms(at), w, w, signal);
        }
        let got: Vec<(u64, [f64; 2])> = c.log.iter().map(|x| (x.own, x.threshold)).collect();
        let want = [
            (40, [0.8, 0.8]),
            (60, [0.85, 0.9]),
            (120, [1.0, 1.0]),
            (140, [0.95, 1.0]),
            (160, [0.8, 0.8]),
        ];
        assert_eq!(got.len(), want.len(), "{got:?}");
        for ((w, t), (ww, wt)) in got.iter().zip(want) {
            assert_eq!(*w, ww, "{got:?}");
            assert!(
                (t[0] - wt[0]).abs() < 1e-9 && (t[1] - wt[1]).abs() < 1e-9,
                "{got:?}"
            );
        }
    }
}
