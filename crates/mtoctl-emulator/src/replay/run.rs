//! One transcript's replay against the replay's emulator: its exchanges in the order they were
//! sent, each with the clock moved to its time, its pseudonyms replaced, sent, and its answer
//! compared (a `$batch`'s items matched by `id`).

use std::collections::BTreeMap;

use serde_json::Value;

use super::compare::{self, compare};
use super::error::ReplayError;
use super::key::Key;
use super::pseudonyms::Substitutions;
use super::report::{Difference, DifferenceKind, Report};
use super::send;
use super::transcript::{self, Exchange, Transcript};
use crate::Emulator;

/// One transcript's replay.
pub(super) struct Replayer<'a> {
    pub(super) router: &'a axum::Router,
    pub(super) emulator: &'a Emulator,
    /// The virtual time its `at_ms` count from.
    pub(super) start_ms: i64,
    /// Transcript tenant → (tenant id, `Authorization` header).
    pub(super) tenants: BTreeMap<String, (String, String)>,
}

impl Replayer<'_> {
    pub(super) async fn run(
        &self,
        transcript: &Transcript,
        key: Option<&Key>,
        report: &mut Report,
    ) -> Result<(), ReplayError> {
        let mut subs = Substitutions::new(key);
        for t in &transcript.header.tenants {
            let id = &self.tenants[&t.tenant].0;
            if !t.tenant_id.eq_ignore_ascii_case(id) {
                // With and without hyphens (Graph's job ids hold tenant ids so).
                subs.learn(&t.tenant_id, id);
                subs.learn(&t.tenant_id.replace('-', ""), &id.replace('-', ""));
            }
        }
        let first_difference = report.differences.len();
        for exchange in send_order(&transcript.exchanges) {
            let Some(recorded_status) = exchange.status else {
                report.skipped += 1;
                continue;
            };
            move_clock(self.emulator, self.start_ms, exchange.at_ms);
            let path = subs.in_path(&exchange.path);
            let body = exchange
                .request_body
                .as_ref()
                .filter(|b| !b.is_null())
                .map(|b| request_body(exchange, b, &subs));
            let mut headers = exchange.request_header_pairs();
            headers.push((
                "authorization".into(),
                self.tenants[&exchange.tenant].1.clone(),
            ));
            let api = exchange.api.as_deref().unwrap_or(&transcript.header.api);
            let uri = format!("/{api}{path}");
            let answer = send::send(self.router, &exchange.method, &uri, &headers, body.as_ref())
                .await
                .map_err(|source| ReplayError::Send {
                    seq: exchange.seq,
                    source,
                })?;
            report.replayed += 1;
            let difference = |item: Option<&str>, kind: DifferenceKind| Difference {
                transcript: transcript.name.clone(),
                seq: exchange.seq,
                method: exchange.method.clone(),
                path: exchange.path.clone(),
                item: item.map(str::to_owned),
                kind,
            };
            if answer.status != recorded_status {
                report.differences.push(difference(
                    None,
                    DifferenceKind::Status {
                        recorded: recorded_status,
                        replayed: answer.status,
                    },
                ));
                continue;
            }
            if let (Some(r), Some(p)) = (exchange.response_header("location"), &answer.location) {
                compare::bind_url(r, p, &mut subs);
            }
            let recorded = exchange.response_body.as_ref().unwrap_or(&Value::Null);
            let replayed = answer.body.as_ref().unwrap_or(&Value::Null);
            let found = if exchange.is_batch() {
                compare_batch(recorded, replayed, &mut subs)
            } else {
                compare(recorded, replayed, &mut subs)
                    .into_iter()
                    .map(|d| (None, d.into()))
                    .collect()
            };
            report.differences.extend(
                found
                    .into_iter()
                    .map(|(item, kind)| difference(item.as_deref(), kind)),
            );
        }
        report.differences[first_difference..].sort_by_key(|d| d.seq);
        report.bindings += subs.learned();
        report.ids_made_otherwise += subs.made_otherwise();
        Ok(())
    }
}

/// The exchanges in the order their requests were sent (`at_ms`, then `seq`), which is the
/// order Graph received them in: `seq` is the order the answers arrived, and of concurrent
/// requests a later one may be answered first. A request sent after an answer was read has a
/// later `at_ms` (or the same, and a later `seq`), so nothing is sent before what it learned
/// from.
fn send_order(exchanges: &[Exchange]) -> Vec<&Exchange> {
    let mut order: Vec<&Exchange> = exchanges.iter().collect();
    order.sort_by_key(|e| (e.at_ms, e.seq));
    order
}

/// Moves the frozen clock to `start_ms + at_ms` (never back) and runs what falls due.
fn move_clock(emulator: &Emulator, start_ms: i64, at_ms: u64) {
    let target = start_ms.saturating_add(i64::try_from(at_ms).unwrap_or(i64::MAX / 4));
    let mut core = emulator.lock();
    let now = core.now();
    if target > now {
        core.clock.advance(target - now);
        core.run_due();
    }
}

/// A recorded request body with its pseudonyms replaced; a `$batch` item's `url` as a path.
fn request_body(exchange: &Exchange, body: &Value, subs: &Substitutions) -> Value {
    let mut body = subs.in_body(body);
    if exchange.is_batch()
        && let Some(items) = body.get_mut("requests").and_then(Value::as_array_mut)
    {
        let recorded = exchange
            .request_body
            .as_ref()
            .and_then(|b| b.get("requests"));
        for (i, item) in items.iter_mut().enumerate() {
            let url = recorded
                .and_then(|r| r.get(i))
                .and_then(|r| r.get("url"))
                .and_then(Value::as_str);
            if let (Some(url), Some(slot)) = (url, item.get_mut("url")) {
                *slot = Value::String(subs.in_path(url));
            }
        }
    }
    body
}

/// A `$batch` envelope's items matched by `id` and compared: status, then body.
fn compare_batch(
    recorded: &Value,
    replayed: &Value,
    subs: &mut Substitutions,
) -> Vec<(Option<String>, DifferenceKind)> {
    let items =
        |v: &Value| -> Option<Vec<Value>> { v.get("responses").and_then(Value::as_array).cloned() };
    let (Some(rec), Some(rep)) = (items(recorded), items(replayed)) else {
        return compare(recorded, replayed, subs)
            .into_iter()
            .map(|d| (None, d.into()))
            .collect();
    };
    let id = |v: &Value| v.get("id").and_then(Value::as_str).unwrap_or("").to_owned();
    let mut out = Vec::new();
    for r in &rec {
        let rid = id(r);
        let Some(p) = rep.iter().find(|p| id(p).eq_ignore_ascii_case(&rid)) else {
            out.push((
                Some(rid),
                DifferenceKind::OnlyInRecording {
                    pointer: String::new(),
                },
            ));
            continue;
        };
        let status = |v: &Value| v.get("status").and_then(Value::as_u64).unwrap_or(0) as u16;
        if status(r) != status(p) {
            out.push((
                Some(rid),
                DifferenceKind::Status {
                    recorded: status(r),
                    replayed: status(p),
                },
            ));
            continue;
        }
        let location = |v: &Value| {
            transcript::header(v.get("headers").and_then(Value::as_object), "location")
                .map(str::to_owned)
        };
        if let (Some(rl), Some(pl)) = (location(r), location(p)) {
            compare::bind_url(&rl, &pl, subs);
        }
        let body = |v: &Value| v.get("body").cloned().unwrap_or(Value::Null);
        out.extend(
            compare(&body(r), &body(p), subs)
                .into_iter()
                .map(|d| (Some(rid.clone()), d.into())),
        );
    }
    for p in &rep {
        let pid = id(p);
        if !rec.iter().any(|r| id(r).eq_ignore_ascii_case(&pid)) {
            out.push((
                Some(pid),
                DifferenceKind::OnlyInReplay {
                    pointer: String::new(),
                },
            ));
        }
    }
    out
}
