//! Write pacing for one tenant (performance-model.md §9).
//!
//! Graph's write buckets (3,000 writes per 150 s per app and tenant, 35,000 per 5 min per app,
//! 18,000 per 5 min per tenant) refill at a fixed rate after a burst. Writing faster than the
//! refill only earns 429s, and throttled writes are charged all the same, so a client that
//! keeps pushing stays throttled longer.
//!
//! A tenant's [`Pacer`] lets each write call go at the tenant's own rate ([`rate`], learnt
//! from the [`signal`]s in Graph's answers, steered once they fit an estimate of the tenant's
//! bucket, [`refill`]), at most at the cap its app registration's
//! [`share`] sets, so that the tenant that bounds the apply keeps the app's bucket to itself;
//! and its rate moves towards the fair rate the share sets, so that tenants of comparable work
//! finish together.
//!
//! It does not know the quotas, on purpose: other apps' writes share the tenant's bucket, and
//! the emulator's time-scaled buckets refill faster; it learns from Graph's answers only.
//! Reads are not paced (their buckets are 40 times larger and the read lane's concurrency
//! keeps within them).

mod rate;
mod refill;
mod share;
mod signal;
#[cfg(test)]
mod sim;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rate::{State, Ticket};
pub(super) use share::Share;
pub(super) use signal::{LIMIT_HEADER, SCOPE_HEADER, Signal, is_app_wide, parse_percentage};

/// How long a call held by its app's [`Share`] cap waits before the cap is looked at again.
const CAP_RECHECK: Duration = Duration::from_millis(250);

/// One tenant's write pacer.
#[derive(Debug)]
pub(super) struct Pacer {
    state: Mutex<State>,
    /// The tenants of the same app registration, this one among them at `me`.
    share: Arc<Share>,
    me: usize,
}

impl Pacer {
    /// The pacer of a tenant written to through the app registration whose tenants `share`.
    pub(super) fn new(share: Arc<Share>) -> Self {
        let me = share.join();
        Self {
            state: Mutex::new(State::new(Instant::now())),
            share,
            me,
        }
    }

    /// The tenant expects to send `writes` writes from now on (see [`Share`]).
    pub(super) fn expect(&self, writes: u64) {
        self.share.expect(self.me, writes);
    }

    /// Waits for the turn of a call carrying `writes` writes (a `$batch` carries up to 20).
    pub(super) async fn admit(&self, writes: u32) -> Ticket {
        loop {
            // Decided when the call goes, at the rate of that moment: calls booked ahead at an
            // old rate would keep it alive for as long as the queue of waiting calls.
            let now = Instant::now();
            let cap = self.share.cap(self.me, now);
            let turn = self.lock().take_turn(now, writes, cap);
            match turn {
                Ok(mut ticket) => {
                    ticket.app = self.share.sent(self.me, writes, now);
                    return ticket;
                }
                // A cap is the busiest tenant's pace of the moment and lifts when its work
                // ends: a call must not sleep out a cap that no longer holds.
                Err(next) => {
                    let next = match cap {
                        Some(_) => next.min(Instant::now() + CAP_RECHECK),
                        None => next,
                    };
                    tokio::time::sleep_until(next.into()).await
                }
            }
        }
    }

    /// Adjusts the rate to what the answer to a call sent with `ticket` said; `throttled` of
    /// its writes were answered 429 and are still to be sent.
    pub(super) fn observe(&self, signal: Signal, ticket: Ticket, throttled: u32) {
        let now = Instant::now();
        self.share.requeued(self.me, throttled);
        let fair = self.share.fair(self.me, now);
        let alone = !self.share.others_writing(self.me, now);
        let left = self.share.left(self.me);
        let mut s = self.lock();
        let before = s.rate;
        s.observe(now, signal, ticket, fair, alone, left);
        if s.rate != before {
            tracing::debug!(?signal, writes_per_second = ?s.rate, "write pace");
            self.share.paced_at(self.me, s.rate);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// B2's end: a spoke's last call is held by the cap of a hub with much left; the hub's
    /// work then ends, and the spoke's next call goes without waiting out the old cap.
    #[tokio::test]
    async fn a_capped_call_goes_once_the_cap_is_lifted() {
        let share = Arc::new(Share::default());
        let hub = Pacer::new(share.clone());
        let spoke = Pacer::new(share.clone());
        hub.expect(99_720);
        spoke.expect(1_100);
        share.paced_at(hub.me, Some(200.0));
        hub.admit(20).await;
        spoke.admit(20).await;
        // Spaced at 20 / (200 × 1,100 / 99,700): some 9 s.
        let waiting = tokio::spawn(async move { spoke.admit(20).await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!waiting.is_finished(), "held by the cap");
        hub.expect(0);
        let went = tokio::time::timeout(Duration::from_secs(2), waiting).await;
        assert!(went.is_ok(), "still held by a cap lifted 2 s ago");
    }
}
