//! How the tenants written to through one app registration share the app's write bucket:
//! a tenant with far less work left than the app's busiest tenant spreads its writes over that
//! tenant's time, so the tenant that bounds the apply keeps the app's bucket to itself.

use std::sync::Mutex;
use std::time::Instant;

use super::rate::{MIN_RATE, WINDOW};

/// A tenant with less than this share of the work left of the app's busiest tenant has its
/// writes spread over the busiest one's time ([`Share::cap`]); tenants with comparable work
/// left are not held back for each other. Where the app's bucket binds, the busiest tenant's
/// paced rate is its share of that bucket, not what it could write alone, and caps scaled from
/// it could leave the bucket partly unused; so only work far apart is spread.
const SPREAD_BELOW: f64 = 0.1;

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
/// together, the apply no later than the busiest tenant alone would have. The cap applies only
/// while the busiest tenant is paced (Graph has signalled its buckets' pressure) and writing:
/// one that waits (for a join, say) or has failed holds nobody back. Without expected counts
/// ([`GraphClient::expect_writes`](crate::transport::GraphClient::expect_writes)) nothing is
/// capped.
#[derive(Debug, Default)]
pub(in crate::transport) struct Share {
    tenants: Mutex<Vec<Progress>>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Progress {
    /// Writes expected and not sent yet; `None` until expected.
    left: Option<u64>,
    /// The tenant's own paced rate, writes per second; `None` while unpaced.
    rate: Option<f64>,
    /// When the tenant last sent a write call.
    wrote: Option<Instant>,
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

    /// Tenant `me` sends a call of `writes` writes at `now`.
    pub(super) fn sent(&self, me: usize, writes: u32, now: Instant) {
        if let Some(p) = self.lock().get_mut(me) {
            p.left = p.left.map(|left| left.saturating_sub(u64::from(writes)));
            p.wrote = Some(now);
        }
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
        // Nothing left by the count, yet writing: the count fell short (a throttled write sent
        // again is counted again). It says nothing then; capping at what it says would hold the
        // last writes at the slowest rate.
        let mine = tenants.get(me)?.left.filter(|&left| left > 0)? as f64;
        let (busiest, most) = tenants
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != me)
            .filter_map(|(i, p)| Some((i, p.left? as f64)))
            .max_by(|a, b| a.1.total_cmp(&b.1))?;
        if mine >= most * SPREAD_BELOW {
            return None;
        }
        let p = &tenants[busiest];
        let rate = p.rate?;
        let writing = p.wrote.is_some_and(|at| now.duration_since(at) <= WINDOW);
        writing.then(|| (rate * mine / most).max(MIN_RATE))
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
    fn nobody_is_held_back_for_a_busiest_tenant_that_is_unpaced_idle_or_comparable() {
        let now = Instant::now();
        let (share, [hub, spoke, _]) = hub_and_spokes(99_720, 1_100, 200.0, now);
        // Idle: last wrote more than the window ago (waiting for a join, or failed).
        assert_eq!(
            share.cap(spoke, now + WINDOW + Duration::from_millis(1)),
            None
        );
        // Unpaced: Graph has not signalled pressure, so the rate it could spread by is unknown.
        share.paced_at(hub, None);
        assert_eq!(share.cap(spoke, now), None);
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
    }
}
