//! The virtual clock and timestamp formatting.
//!
//! All emulated time (token expiry, MTO transitions, sync cycles, throttle
//! buckets) is read from [`Clock`]. The clock is either frozen (tests: it moves
//! only through `POST /_emulator/advance`) or follows the wall clock from a
//! virtual starting point (the binary), and advances add on top in both modes.

use std::time::Instant;

/// Default virtual start: 2026-01-01T00:00:00Z, in milliseconds since the Unix epoch.
pub const DEFAULT_START_MS: i64 = 1_767_225_600_000;

/// A virtual clock in milliseconds since the Unix epoch.
#[derive(Debug, Clone)]
pub struct Clock {
    base_ms: i64,
    offset_ms: i64,
    wall: Option<Instant>,
}

impl Clock {
    /// A clock starting at `start_ms`; when `follow_wall` is set, real time passes too.
    pub fn new(start_ms: i64, follow_wall: bool) -> Self {
        Self {
            base_ms: start_ms,
            offset_ms: 0,
            wall: follow_wall.then(Instant::now),
        }
    }

    /// The current virtual time.
    pub fn now_ms(&self) -> i64 {
        let wall = self
            .wall
            .map(|w| i64::try_from(w.elapsed().as_millis()).unwrap_or(i64::MAX / 4))
            .unwrap_or(0);
        self.base_ms
            .saturating_add(self.offset_ms)
            .saturating_add(wall)
    }

    /// Move virtual time forward by `ms` (negative values are ignored).
    pub fn advance(&mut self, ms: i64) {
        self.offset_ms = self.offset_ms.saturating_add(ms.max(0));
    }
}

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days since 1970-01-01 of a civil date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn parts(ms: i64) -> (i64, u32, u32, i64, i64, i64) {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, mo, d) = civil(days);
    (y, mo, d, sod / 3600, (sod / 60) % 60, sod % 60)
}

/// ISO 8601 UTC with a `Z` suffix, as Graph returns DateTimeOffset values.
pub fn iso(ms: i64) -> String {
    let (y, mo, d, h, mi, s) = parts(ms);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// ISO 8601 without a time zone suffix, as in Graph's `innerError.date`.
pub fn iso_no_tz(ms: i64) -> String {
    let (y, mo, d, h, mi, s) = parts(ms);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}")
}

/// The token endpoint's `timestamp` format (`2024-02-01 02:02:12Z`).
pub fn aad_timestamp(ms: i64) -> String {
    let (y, mo, d, h, mi, s) = parts(ms);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}Z")
}

/// An RFC 7231 HTTP date for the `Date` header.
pub fn http_date(ms: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (y, mo, d, h, mi, s) = parts(ms);
    let wd = DAYS[ms.div_euclid(86_400_000).rem_euclid(7) as usize];
    let mon = MONTHS[(mo as usize).saturating_sub(1) % 12];
    format!("{wd}, {d:02} {mon} {y:04} {h:02}:{mi:02}:{s:02} GMT")
}

/// Parse `YYYY-MM-DDTHH:MM:SS[.fff]Z` (UTC only) into milliseconds.
pub fn parse_iso(s: &str) -> Option<i64> {
    let s = s.trim().strip_suffix('Z')?;
    let (date, time) = s.split_once('T')?;
    let mut dp = date.split('-');
    let y: i64 = dp.next()?.parse().ok()?;
    let mo: u32 = dp.next()?.parse().ok()?;
    let d: u32 = dp.next()?.parse().ok()?;
    let time = time.split('.').next()?;
    let mut tp = time.split(':');
    let h: i64 = tp.next()?.parse().ok()?;
    let mi: i64 = tp.next()?.parse().ok()?;
    let sec: i64 = tp.next()?.parse().ok()?;
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    Some((days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec) * 1000)
}

/// Format a duration in seconds as an ISO 8601 duration (`PT40M`).
pub fn iso_duration(secs: i64) -> String {
    let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    let mut out = String::from("PT");
    if h > 0 {
        out.push_str(&format!("{h}H"));
    }
    if m > 0 {
        out.push_str(&format!("{m}M"));
    }
    if s > 0 || out == "PT" {
        out.push_str(&format!("{s}S"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(iso(DEFAULT_START_MS), "2026-01-01T00:00:00Z");
        assert_eq!(iso(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_no_tz(DEFAULT_START_MS + 61_000), "2026-01-01T00:01:01");
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(DEFAULT_START_MS), "Thu, 01 Jan 2026 00:00:00 GMT");
        assert_eq!(parse_iso("2026-01-01T00:00:00Z"), Some(DEFAULT_START_MS));
        assert_eq!(
            parse_iso("2024-02-29T12:30:00.5Z").map(iso).as_deref(),
            Some("2024-02-29T12:30:00Z")
        );
        assert_eq!(parse_iso("garbage"), None);
        assert_eq!(iso_duration(2400), "PT40M");
    }

    #[test]
    fn frozen_clock_moves_only_on_advance() {
        let mut c = Clock::new(1000, false);
        assert_eq!(c.now_ms(), 1000);
        c.advance(500);
        c.advance(-100);
        assert_eq!(c.now_ms(), 1500);
    }
}
