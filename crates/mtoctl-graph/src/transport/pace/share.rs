//! How the tenants written to through one app registration share the app's write bucket:
//! a tenant with far less work left than the app's busiest tenant spreads its writes over that
//! tenant's time, so the tenant that bounds the apply keeps the app's bucket to itself; and
//! tenants with comparable work are kept at rates that finish them together.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use super::rate::{MIN_RATE, SEED, WINDOW};

/// A tenant with less than this share of the work left of the app's busiest tenant has its
/// writes spread over the busiest one's time ([`Share::cap`]); tenants with comparable work
/// left are not held back for each other. Where the app's bucket binds, the busiest tenant's
/// paced rate is its share of that bucket, not what it could write alone, and caps scaled from
/// it could leave the bucket partly unused; so only work far apart is spread.
const SPREAD_BELOW: f64 = 0.1;

/// Writes (decayed over [`WINDOW`]) a tenant spread over an unpaced busiest tenant's time sends
/// before it is capped: two full `$batch` calls.
const UNPACED_BURST: f64 = 40.0;

/// What the tenants written to through one app registration have left to write: they share
/// the app's write bucket (35,000 per 5 min, however many tenants), and the apply ends when
/// the tenant with the most work ends.
///
/// Why: written as fast as their own pacers allow, tenants with little work empty the app's
/// bucket, and the busiest tenant, whose answers then report it nearly empty too (Graph's
/// `x-ms-throttle-limit-percentage` does not say which bucket it is about), slows with them.
///
/// So a tenant that has far less left than the busiest one (less than [`SPREAD_BELOW`] of it)
/// writes at most at the busiest one's paced rate scaled by their work left: both then finish
/// together, the apply no later than the busiest tenant alone would have. Before Graph has
/// signalled pressure to the busiest tenant, its rate is what it sends, and the cap, after a
/// burst of [`UNPACED_BURST`], is at least [`SEED`]: small tenants all free at once beside it
/// would empty the app's bucket before Graph says anything, and hold it back with them. The
/// cap applies only while the busiest tenant is writing: one that waits (for a join, say) or
/// has failed holds nobody back. Without expected counts
/// ([`GraphClient::expect_writes`](crate::transport::GraphClient::expect_writes)) nothing is
/// capped.
#[derive(Debug, Default)]
pub(in crate::transport) struct Share {
    tenants: Mutex<Vec<Progress>>,
    /// Writes sent so far by all the app's tenants.
    sent: AtomicU64,
}

#[derive(Debug, Clone, Copy, Default)]
struct Progress {
    /// Writes expected and not sent yet; `None` until expected.
    left: Option<u64>,
    /// The tenant's own paced rate, writes per second; `None` while unpaced.
    rate: Option<f64>,
    /// When the tenant last sent a write call.
    wrote: Option<Instant>,
    /// The writes of that call.
    last: u32,
    /// The writes sent so far, each decayed by `e^(-age / WINDOW)` as of `wrote`: the rate the
    /// tenant sends at, times [`WINDOW`].
    decayed: f64,
}

impl Progress {
    /// Whether the tenant sent a write call within the last [`WINDOW`].
    fn writing(&self, now: Instant) -> bool {
        self.wrote
            .is_some_and(|at| now.duration_since(at) <= WINDOW)
    }

    /// The writes sent, decayed as of `now` (see [`Self::decayed`]).
    fn decayed_at(&self, now: Instant) -> f64 {
        self.wrote.map_or(0.0, |at| {
            let age = now.saturating_duration_since(at).as_secs_f64();
            self.decayed * (-age / WINDOW.as_secs_f64()).exp()
        })
    }

    /// The writes per second the tenant has been sending lately, paced or not.
    fn sending(&self, now: Instant) -> f64 {
        self.decayed_at(now) / WINDOW.as_secs_f64()
    }

    /// When the tenant's work left is far less than the busiest other tenant's: that tenant's
    /// place and work left, and its own work left (the last call's writes included).
    fn spread_under(&self, me: usize, tenants: &[Progress]) -> Option<(usize, f64, f64)> {
        // Nothing left by the count, yet writing: the count fell short (a throttled write sent
        // again is counted again). It says nothing then; capping at what it says would hold
        // the last writes at the slowest rate.
        let left = self.left.filter(|&left| left > 0)?;
        // The cap spaces the last call's writes, which `left` no longer counts.
        let mine = (left + u64::from(self.last)) as f64;
        let (busiest, most) = tenants
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != me)
            .filter_map(|(i, p)| Some((i, p.left? as f64)))
            .max_by(|a, b| a.1.total_cmp(&b.1))?;
        (mine < most * SPREAD_BELOW).then_some((busiest, most, mine))
    }
}

impl Share {
    /// Adds a tenant; returns its place.
    pub(super) fn join(&self) -> usize {
        let mut tenants = self.lock();
        tenants.push(Progress::default());
        tenants.len() - 1
    }

    /// Tenant `me` expects to send `writes` writes from now on.
    pub(super) fn expect(&self, me: usize, writes: u64) {
        if let Some(p) = self.lock().get_mut(me) {
            p.left = Some(writes);
        }
    }

    /// Tenant `me` sends a call of `writes` writes at `now`; returns the writes the app's
    /// tenants have sent so far, these among them.
    pub(super) fn sent(&self, me: usize, writes: u32, now: Instant) -> u64 {
        if let Some(p) = self.lock().get_mut(me) {
            p.left = p.left.map(|left| left.saturating_sub(u64::from(writes)));
            p.decayed = p.decayed_at(now) + f64::from(writes);
            p.wrote = Some(now);
            p.last = writes;
        }
        self.sent.fetch_add(u64::from(writes), Ordering::Relaxed) + u64::from(writes)
    }

    /// `writes` of tenant `me`'s sent writes were throttled: it will send them again.
    pub(super) fn requeued(&self, me: usize, writes: u32) {
        if writes == 0 {
            return;
        }
        if let Some(p) = self.lock().get_mut(me) {
            p.left = p.left.map(|left| left.saturating_add(u64::from(writes)));
        }
    }

    /// The writes tenant `me` still expects to send; `None` when it expects none.
    pub(super) fn left(&self, me: usize) -> Option<u64> {
        self.lock().get(me).and_then(|p| p.left)
    }

    /// Tenant `me`'s own pacer now goes at `rate`.
    pub(super) fn paced_at(&self, me: usize, rate: Option<f64>) {
        if let Some(p) = self.lock().get_mut(me) {
            p.rate = rate;
        }
    }

    /// The most tenant `me` may write per second at `now` so as to finish with the app's
    /// busiest tenant; `None` when it need not be held back.
    pub(super) fn cap(&self, me: usize, now: Instant) -> Option<f64> {
        let tenants = self.lock();
        let own = tenants.get(me)?;
        let (busiest, most, mine) = own.spread_under(me, &tenants)?;
        let p = &tenants[busiest];
        if !p.writing(now) {
            return None;
        }
        match p.rate {
            Some(rate) => Some((rate * mine / most).max(MIN_RATE)),
            // What its lanes send is no rate Graph has answered, so a short burst is let through
            // (a small tenant's few writes are its critical path) and then at least the
            // smallest refill.
            None if own.decayed_at(now) < UNPACED_BURST => None,
            None => Some((p.sending(now) * mine / most).max(SEED)),
        }
    }

    /// The rate at which tenant `me` would finish together with the app's other tenants of
    /// comparable work that are paced and writing: their rates per write left, times its own
    /// work left, at most the fastest of them (their buckets hold them there). `None` without
    /// such peers.
    ///
    /// Why: pacers that multiply their rates keep the ratios between them, so a tenant that
    /// began late, into a bucket its peers had already emptied, stayed at a fraction of their
    /// rate until they were done, and the apply ended with it alone (finding 16).
    pub(super) fn fair(&self, me: usize, now: Instant) -> Option<f64> {
        let tenants = self.lock();
        let mine = tenants.get(me)?.left.filter(|&left| left > 0)? as f64;
        let (mut rates, mut lefts, mut fastest) = (0.0, 0.0, 0.0_f64);
        for (i, p) in tenants.iter().enumerate() {
            let (Some(rate), Some(left)) = (p.rate, p.left) else {
                continue;
            };
            let left = left as f64;
            let writing = p.writing(now);
            let comparable = left >= mine * SPREAD_BELOW && mine >= left * SPREAD_BELOW;
            if i == me || !writing || !comparable {
                continue;
            }
            rates += rate;
            lefts += left;
            fastest = fastest.max(rate);
        }
        (lefts > 0.0).then(|| (rates / lefts * mine).min(fastest))
    }

    /// Whether another tenant of the app sent a write call within the last [`WINDOW`].
    pub(super) fn others_writing(&self, me: usize, now: Instant) -> bool {
        self.lock()
            .iter()
            .enumerate()
            .any(|(i, p)| i != me && p.writing(now))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Progress>> {
        self.tenants.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A hub and two spokes of one app; the hub paced at `rate`, having just written.
    fn hub_and_spokes(
        hub_left: u64,
        spoke_left: u64,
        rate: f64,
        now: Instant,
    ) -> (Share, [usize; 3]) {
        let share = Share::default();
        let ids = [share.join(), share.join(), share.join()];
        share.expect(ids[0], hub_left);
        share.expect(ids[1], spoke_left);
        share.expect(ids[2], spoke_left);
        share.paced_at(ids[0], Some(rate));
        share.sent(ids[0], 20, now);
        (share, ids)
    }

    #[test]
    fn a_tenant_with_little_left_is_spread_over_the_busiest_tenants_time() {
        let now = Instant::now();
        // B4's proportions: the hub has 99,700 writes left at 200 per second, a spoke 1,100.
        let (share, [hub, spoke, _]) = hub_and_spokes(99_720, 1_100, 200.0, now);
        let cap = share.cap(spoke, now).expect("capped");
        assert!((cap - 200.0 * 1_100.0 / 99_700.0).abs() < 0.01, "{cap}");
        // Both finish together: the spoke's writes at the cap take the hub's time.
        assert!((1_100.0 / cap - 99_700.0 / 200.0).abs() < 1.0);
        assert_eq!(
            share.cap(hub, now),
            None,
            "the busiest tenant is never held back"
        );
    }

    #[test]
    fn nobody_is_held_back_for_a_busiest_tenant_that_is_idle_or_comparable() {
        let now = Instant::now();
        let (share, [_, spoke, _]) = hub_and_spokes(99_720, 1_100, 200.0, now);
        // Idle: last wrote more than the window ago (waiting for a join, or failed).
        assert_eq!(
            share.cap(spoke, now + WINDOW + Duration::from_millis(1)),
            None
        );
        // Comparable work (B3: every tenant writes as much): no one waits for another.
        let (share, [_, spoke, _]) = hub_and_spokes(2_000, 1_000, 200.0, now);
        assert_eq!(share.cap(spoke, now), None);
        // Work not told: nothing to go by.
        let share = Share::default();
        let (a, b) = (share.join(), share.join());
        share.expect(a, 99_700);
        share.paced_at(a, Some(200.0));
        share.sent(a, 20, now);
        assert_eq!(share.cap(b, now), None);
    }

    #[test]
    fn an_unpaced_busiest_tenant_spreads_little_ones_over_what_it_sends() {
        let now = Instant::now();
        let (share, [hub, spoke, _]) = hub_and_spokes(99_720, 1_100, 200.0, now);
        share.paced_at(hub, None);
        // Its first calls go as they come, up to two full ones (a chain of small writes is not
        // slowed)...
        assert_eq!(share.cap(spoke, now), None);
        share.sent(spoke, 20, now);
        assert_eq!(share.cap(spoke, now), None);
        share.sent(spoke, 20, now);
        share.sent(spoke, 20, now);
        // ...then the hub, having sent one call of 20, is far from a rate: the floor.
        assert_eq!(share.cap(spoke, now), Some(SEED));
        // Its lanes send 20,000 writes a second (B4's hub unpaced): spread by that.
        let later = now + Duration::from_millis(10);
        for i in 0..1_000 {
            share.sent(hub, 20, later + Duration::from_micros(i));
        }
        // 20,020 writes in the last 10 ms, barely decayed: 10,010 a second over the window.
        let expected = 20_020.0 / WINDOW.as_secs_f64() * 1_100.0 / (99_720.0 - 20_020.0);
        // The spoke's work: 1,040 left and its last call's 20.
        let expected = expected * 1_060.0 / 1_100.0;
        let cap = share.cap(spoke, later).expect("capped");
        assert!(
            (cap / expected - 1.0).abs() < 0.01,
            "{cap} against {expected}"
        );
        // Idle since longer than the window: nobody held back.
        let idle = later + WINDOW + Duration::from_millis(2);
        assert_eq!(share.cap(spoke, idle), None);
    }

    #[test]
    fn a_tenant_whose_count_ran_out_is_not_held_back() {
        let now = Instant::now();
        let (share, [_, spoke, _]) = hub_and_spokes(99_720, 20, 200.0, now);
        assert!(share.cap(spoke, now).is_some());
        // Its 20 sent, then 20 more: a throttled call sent again counts again.
        share.sent(spoke, 20, now);
        share.sent(spoke, 20, now);
        assert_eq!(share.cap(spoke, now), None);
    }

    #[test]
    fn the_cap_spaces_the_last_call_by_what_was_left_before_it() {
        let now = Instant::now();
        let (share, [_, spoke, _]) = hub_and_spokes(99_720, 1_120, 200.0, now);
        share.sent(spoke, 20, now);
        // 1,100 left after a call of 20: that call's writes are spaced at the cap of the
        // 1,120 it was part of, so that the spoke's writes take the hub's time, not more.
        let cap = share.cap(spoke, now).expect("capped");
        assert!((cap - 200.0 * 1_120.0 / 99_700.0).abs() < 0.01, "{cap}");
    }

    /// Tenants of one app with comparable work, each paced at `rates` and having just written.
    fn peers(left: &[u64], rates: &[Option<f64>], now: Instant) -> (Share, Vec<usize>) {
        let share = Share::default();
        let ids: Vec<usize> = left.iter().map(|_| share.join()).collect();
        for ((&id, &left), &rate) in ids.iter().zip(left).zip(rates) {
            share.expect(id, left + 20);
            share.sent(id, 20, now);
            share.paced_at(id, rate);
        }
        (share, ids)
    }

    #[test]
    fn a_tenants_fair_rate_finishes_it_with_its_peers() {
        let now = Instant::now();
        // B3's shape: a late tenant at 7/s with 9,000 writes left; two peers at 60 and 100/s
        // with 4,000 and 5,000 left (160/s for 9,000 writes).
        let (share, ids) = peers(
            &[9_000, 4_000, 5_000],
            &[Some(7.0), Some(60.0), Some(100.0)],
            now,
        );
        // Their pace per write left, times its own, would be 160/s: at most the fastest, 100/s.
        assert_eq!(share.fair(ids[0], now), Some(100.0));
        // A peer ahead is fair at less than its rate: 4,000 × (7 + 100) / 14,000 = 30.6/s.
        let fair = share.fair(ids[1], now).expect("peers");
        assert!((fair - 4_000.0 * 107.0 / 14_000.0).abs() < 1e-9, "{fair}");
    }

    #[test]
    fn a_tenant_knows_whether_others_of_its_app_are_writing() {
        let now = Instant::now();
        let (share, ids) = peers(&[100, 100], &[None, None], now);
        assert!(share.others_writing(ids[0], now));
        assert!(!share.others_writing(ids[0], now + WINDOW + Duration::from_millis(1)));
        let alone = Share::default();
        let me = alone.join();
        alone.sent(me, 20, now);
        assert!(!alone.others_writing(me, now));
    }

    #[test]
    fn only_paced_writing_peers_of_comparable_work_set_a_fair_rate() {
        let now = Instant::now();
        // Unpaced: no rate to go by.
        let (share, ids) = peers(&[9_000, 4_000], &[Some(7.0), None], now);
        assert_eq!(share.fair(ids[0], now), None);
        // Idle since longer than the window (waiting for a join, or failed).
        let (share, ids) = peers(&[9_000, 4_000], &[Some(7.0), Some(60.0)], now);
        assert_eq!(
            share.fair(ids[0], now + WINDOW + Duration::from_millis(1)),
            None
        );
        // Far apart in work (B4's hub and a spoke): the spoke is spread instead, and the
        // hub goes by its own buckets.
        let (share, ids) = peers(&[99_700, 1_100], &[Some(200.0), Some(30.0)], now);
        assert_eq!(share.fair(ids[0], now), None);
        assert_eq!(share.fair(ids[1], now), None);
        // Nothing left of its own: nothing to finish.
        let (share, ids) = peers(&[0, 4_000], &[Some(7.0), Some(60.0)], now);
        assert_eq!(share.fair(ids[0], now), None);
    }

    #[test]
    fn sent_writes_count_down_what_is_left() {
        let now = Instant::now();
        let (share, [hub, spoke, _]) = hub_and_spokes(520, 40, 100.0, now);
        // The hub has 500 left after its first 20: 40 is less than a tenth of it, so capped.
        assert!(share.cap(spoke, now).is_some());
        for _ in 0..6 {
            share.sent(hub, 20, now);
        }
        // 40 against the hub's 380: more than a tenth now.
        assert_eq!(share.cap(spoke, now), None);
        assert_eq!(share.left(hub), Some(380));
        // Writes throttled are to be sent again: counted back.
        share.requeued(hub, 20);
        assert_eq!(share.left(hub), Some(400));
        // What the app's tenants have sent so far, the call's writes among them.
        assert_eq!(share.sent(spoke, 20, now), 160);
        assert_eq!(share.left(spoke), Some(20));
    }
}
