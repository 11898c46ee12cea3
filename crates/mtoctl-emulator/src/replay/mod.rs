//! `mtoctl-emulator replay`: a transcript recorded by `mtoctl --record` (docs/transcripts.md)
//! sent again to an emulator in-process, and every difference in status or in the shape of the
//! answers reported.
//!
//! What it does: reads the transcript ([`Transcript::read`]) and optionally its key file
//! ([`Key::read`]); builds an emulator with a frozen clock over a world file or the transcript's
//! tenants alone (`world`), mapping the transcript's tenants onto the world's; then, for each
//! exchange in the order its request was sent (`at_ms`, then `seq`: `run`), moves
//! the virtual clock to the emulator's start plus the exchange's `at_ms`, replaces the
//! pseudonyms of its path and body (`pseudonyms`), sends it in-process as that tenant's mtoctl
//! app (`send`), and compares the answer with the recorded one (`compare`), learning what the
//! recorded pseudonyms stand for in this replay on the way. Exchanges that got no answer are
//! skipped and counted. A `$batch` is sent as recorded; its items' answers are matched by `id`
//! and compared like bodies. Several transcripts (a command and the next) are replayed one
//! after the other against one emulator ([`replay_all`]).
//!
//! What it does not do: compare values (ids, names and times differ by nature), compare headers
//! (a `Location` header's pseudonyms are only learned from), model the throttling, faults or
//! latency the recording met (the replay's emulator has none, so a recorded 429 shows as a
//! status difference), send requests concurrently (concurrent requests of the recording are
//! sent one by one in the order they were sent), or invent the users and groups a field
//! transcript read: without a world file the replay's tenants have none.
//!
//! The time scale is `serve`'s: every emulated duration is multiplied by it, exactly like in the
//! emulator a transcript was recorded against, and the clock moves by the recording's own
//! milliseconds. A transcript recorded against `mtoctl-emulator serve --time-scale 0.01` is
//! replayed with `time_scale: 0.01`; one recorded against Microsoft Graph with 1.

mod compare;
mod error;
mod key;
mod pseudonyms;
mod report;
mod run;
mod send;
mod transcript;
mod world;

use std::collections::BTreeMap;

pub use compare::{JsonType, ShapeDifference, compare};
pub use error::{KeyError, LineError, ReplayError, SendError, TranscriptError};
pub use key::Key;
pub use pseudonyms::{
    BARE_GUID_PSEUDONYM_PREFIX, GUID_PSEUDONYM_PREFIX, Substitutions, is_guid_pseudonym,
    is_id_pseudonym,
};
pub use report::{Difference, DifferenceKind, REPORT_FORMAT_VERSION, Report};
pub use transcript::{Exchange, Header, HeaderTenant, Transcript};

use crate::world::WorldFile;
use crate::{Emulator, Options};

/// The transcript format version this replay reads.
pub const FORMAT_VERSION: &str = "1.0";

/// The largest transcript or key file read: 1 GiB.
pub const MAX_FILE_BYTES: u64 = 1 << 30;

/// How to replay.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// The world; `None` for the transcript's tenants alone.
    pub world: Option<WorldFile>,
    /// Seed of ids (overrides the world file's).
    pub seed: Option<u64>,
    /// Multiplier of every emulated duration, as `serve --time-scale`.
    pub time_scale: f64,
    /// Transcript tenant (`t1`) → tenant id of the world, overriding the mapping.
    pub tenants: BTreeMap<String, String>,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        Self {
            world: None,
            seed: None,
            time_scale: 1.0,
            tenants: BTreeMap::new(),
        }
    }
}

/// Replays `transcript` against a new in-process emulator and reports every difference.
pub async fn replay(
    transcript: &Transcript,
    key: Option<&Key>,
    options: &ReplayOptions,
) -> Result<Report, ReplayError> {
    replay_all(&[(transcript, key)], options).await
}

/// Replays transcripts one after the other against one new in-process emulator (a command
/// and the next, `apply` then `status`), each with its own key, and reports every difference.
/// Each transcript's clock starts as long after the previous one's as their recordings did
/// (their headers' `started_ms`), and never before the previous one's last answer arrived
/// (all there is to go by in a transcript without `started_ms`).
pub async fn replay_all(
    transcripts: &[(&Transcript, Option<&Key>)],
    options: &ReplayOptions,
) -> Result<Report, ReplayError> {
    if !(options.time_scale.is_finite() && options.time_scale > 0.0) {
        return Err(ReplayError::TimeScale(options.time_scale));
    }
    let mut report = Report {
        format_version: REPORT_FORMAT_VERSION,
        transcripts: transcripts.len(),
        exchanges: transcripts.iter().map(|(t, _)| t.exchanges.len()).sum(),
        replayed: 0,
        skipped: 0,
        bindings: 0,
        ids_made_otherwise: 0,
        differences: Vec::new(),
    };
    let Some((first, first_key)) = transcripts.first() else {
        return Ok(report);
    };
    let world::World { mut state, order } = world::build(&first.header, *first_key, options)?;
    let mappings = transcripts
        .iter()
        .map(|(t, key)| world::map(&t.header, *key, options, &order))
        .collect::<Result<Vec<_>, _>>()?;
    let mut credentials = BTreeMap::new();
    for (name, id) in mappings.iter().flatten() {
        if !credentials.contains_key(id) {
            let credential =
                world::credentials(&mut state, id).ok_or_else(|| ReplayError::NotInWorld {
                    tenant: name.clone(),
                    tenant_id: id.clone(),
                })?;
            credentials.insert(id.clone(), credential);
        }
    }
    let emulator = Emulator::from_state(
        state,
        Options {
            seed: options.seed,
            time_scale: options.time_scale,
            follow_wall_clock: false,
            ..Options::default()
        },
    );
    let router = emulator.router();
    let mut tokens = BTreeMap::new();
    for (id, (client_id, secret)) in &credentials {
        let signed = send::sign_in(&router, id, client_id, secret)
            .await
            .map_err(|source| ReplayError::SignInSend {
                tenant_id: id.clone(),
                source,
            })?;
        let token = signed.map_err(|(status, body)| ReplayError::SignIn {
            tenant_id: id.clone(),
            status,
            body,
        })?;
        tokens.insert(id.clone(), format!("Bearer {token}"));
    }
    let mut start_ms = emulator.lock().now();
    let mut previous: Option<&Transcript> = None;
    for ((transcript, key), tenants) in transcripts.iter().zip(&mappings) {
        if let Some(previous) = previous {
            start_ms = start_ms.saturating_add(later_by(previous, transcript));
        }
        previous = Some(transcript);
        let replayer = run::Replayer {
            router: &router,
            emulator: &emulator,
            start_ms,
            tenants: tenants
                .iter()
                .map(|(name, id)| (name.clone(), (id.clone(), tokens[id].clone())))
                .collect(),
        };
        replayer.run(transcript, *key, &mut report).await?;
    }
    Ok(report)
}

/// How long after `previous`'s recording started `next`'s replay starts, in milliseconds: the
/// time between their recordings' starts when both headers give it (a sync cycle due between
/// two commands ran in the recording), and never before `previous`'s last answer arrived.
fn later_by(previous: &Transcript, next: &Transcript) -> i64 {
    let end = previous
        .exchanges
        .iter()
        .map(|e| e.at_ms.saturating_add(e.latency_ms.unwrap_or(0)))
        .max()
        .unwrap_or(0);
    let between = match (previous.header.started_ms, next.header.started_ms) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => 0,
    };
    i64::try_from(end.max(between)).unwrap_or(i64::MAX / 4)
}
