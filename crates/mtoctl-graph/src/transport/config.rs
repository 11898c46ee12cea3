//! The client's settings: lanes, write pacing, time limits and retries.

use std::time::Duration;

use super::retry::RetryPolicy;

/// Client settings.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Read calls in flight per tenant (a `$batch` counts once).
    pub read_concurrency: usize,
    /// Reads in flight per tenant, a `$batch` counting as a full one: what Graph's read bucket
    /// sees. Single reads (a chain's look before a write) are cheap and many; batches are not.
    pub reads_in_flight: usize,
    /// Write calls in flight per tenant. Their rate is the write pacer's business (see
    /// [`Self::pace_writes`]); this only bounds how many slow writes (an `instantiate` takes
    /// seconds) overlap.
    pub write_concurrency: usize,
    /// Writes in flight per tenant, a `$batch` counting its writes: before Graph first
    /// signals pressure the pacer does not hold writes back, and what is in flight when the
    /// bucket empties is throttled (and charged) all the same.
    pub writes_in_flight: usize,
    /// Pace each tenant's writes from Graph's throttle signals (`transport::pace`), so that
    /// a long apply writes at the rate Graph's write buckets refill instead of being throttled.
    pub pace_writes: bool,
    /// Time limit of one HTTP exchange.
    pub request_timeout: Duration,
    /// Retries.
    pub retry: RetryPolicy,
    /// Send the cross-tenant partner policies to Graph's beta API, where the identity sync
    /// policy has `groupSyncInbound` (a spec's `beta: [groupSync]`); everything else stays on
    /// v1.0. Reads and writes of those objects go the same way, so fingerprints agree.
    pub beta_group_sync: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            // As many calls as writes: a hub's 99 configuration chains each read before they
            // write, and six read lanes held them to 40 reads a second (docs/benchmarks.md).
            read_concurrency: 64,
            // Little's law at ~150 ms per call keeps six full batches per tenant well inside
            // Graph's read buckets (performance-model.md §9).
            reads_in_flight: 6 * super::batch::MAX_BATCH,
            // Slow single writes (an `instantiate` takes seconds) of a hub's 99 configurations
            // go side by side, with its member adds; the pacer, not the lanes, keeps the rate
            // within Graph's buckets (64 lanes left B4g's hub two waves: docs/benchmarks.md).
            write_concurrency: 128,
            // 16 full `$batch` calls.
            writes_in_flight: 320,
            pace_writes: true,
            request_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            beta_group_sync: false,
        }
    }
}
