//! The Graph throttling model of performance-model.md §8: continuous-refill
//! token buckets per (app, tenant), per app, per tenant and globally per app;
//! request costs from the identity-and-access cost table; 429 with
//! `Retry-After` and `x-ms-throttle-*` headers; rejected requests are still
//! charged (buckets may go down to −capacity).

use std::collections::BTreeMap;

use crate::errors::GraphError;
use crate::graph::{Ctx, GraphRequest};

#[derive(Debug, Clone)]
struct Bucket {
    tokens: f64,
    capacity: f64,
    /// Tokens per virtual millisecond.
    refill: f64,
    last_ms: i64,
}

impl Bucket {
    fn refill_to(&mut self, now: i64) {
        let dt = (now - self.last_ms).max(0) as f64;
        self.tokens = (self.tokens + dt * self.refill).min(self.capacity);
        self.last_ms = now;
    }
}

/// How long after a 429 reached the client a request of the same app and tenant may still
/// arrive without being early: it was already on its way. A client checks its quiet period,
/// builds the call and sends it, and handles the 429 only when its runtime gets to it; in a
/// debug build sharing two loaded cores with this emulator (the tests), calls sent before the
/// 429 was handled were seen to arrive up to ~15 ms after it was delivered. An early retry is
/// one that ignores a Retry-After of at least a second, so a client that does is still
/// caught: only its first 50 ms are forgiven.
pub const IN_FLIGHT_GRACE_MS: i64 = 50;

/// How long after a Retry-After window closed it is still kept: longer than any request
/// waits to be served.
const WINDOW_KEPT_MS: i64 = 60_000;

/// Adds `window` to the sorted, disjoint `windows`, merged with those it overlaps or touches.
fn open_window(windows: &mut Vec<(i64, i64)>, window: (i64, i64)) {
    let (mut from, mut until) = window;
    windows.retain(|&(f, u)| {
        let apart = u < from || f > until;
        if !apart {
            from = from.min(f);
            until = until.max(u);
        }
        apart
    });
    let at = windows.partition_point(|&(f, _)| f < from);
    windows.insert(at, (from, until));
}

/// The tenant of a Retry-After window that an app-wide bucket opened (`Application/...`):
/// it holds for the app's requests to every tenant.
const ANY_TENANT: &str = "*";

/// Bucket state plus Retry-After bookkeeping for early-retry detection.
#[derive(Debug)]
pub struct Throttle {
    buckets: BTreeMap<String, Bucket>,
    /// (app, tenant or [`ANY_TENANT`]) → the virtual times `[from, until)` in which a request
    /// is an early retry: from when a 429 reached the client (a request that arrives while
    /// the 429 is still on its way was sent before the client could know) until its
    /// Retry-After elapsed. Disjoint and sorted; overlapping windows are merged.
    retry_until: BTreeMap<(String, String), Vec<(i64, i64)>>,
    /// Retry-After windows opened while serving the current request: (app, tenant, issued,
    /// until), until [`Throttle::delivered`] says when its answer reaches the client.
    unsent: Vec<(String, String, i64, i64)>,
    /// (app, tenant) → times of recent identity-report calls.
    reports: BTreeMap<(String, String), Vec<i64>>,
    /// Bucket capacity as a fraction of the window quota (1.0; the
    /// "small-burst" mode of performance-model §8.9 uses 0.1). The refill rate
    /// stays quota ÷ window, so clients cannot rely on bursts of a full window.
    pub burst_fraction: f64,
    /// Share of each tenant's all-apps write quota used by other applications
    /// (performance-model §8.1 `background_load`), in [0, 1).
    pub background_load: f64,
}

impl Default for Throttle {
    fn default() -> Self {
        Self {
            buckets: BTreeMap::new(),
            retry_until: BTreeMap::new(),
            unsent: Vec::new(),
            reports: BTreeMap::new(),
            burst_fraction: 1.0,
            background_load: 0.0,
        }
    }
}

/// What admission decided.
#[derive(Debug)]
pub struct Admission {
    /// Resource units charged.
    pub ru: u64,
    /// Write units charged.
    pub writes: u64,
    /// Headers to add to the response.
    pub headers: Vec<(String, String)>,
}

/// Base resource-unit cost plus query modifiers (performance-model.md §1.1).
pub fn cost(req: &GraphRequest) -> (u64, u64) {
    let segs: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    let has_select = req
        .query
        .iter()
        .any(|(k, _)| k.trim_start_matches('$').eq_ignore_ascii_case("select"));
    if req.method == "POST" && segs.as_slice() == ["directoryObjects", "getByIds"] {
        // A read despite the POST: 5 RU, or 2 with $select.
        return (if has_select { 2 } else { 5 }, 0);
    }
    if req.is_write() {
        return (1, 1);
    }
    let base: i64 = match segs.as_slice() {
        ["users"] | ["applications"] => 2,
        ["servicePrincipals", _, "appRoleAssignments"] => 2,
        ["groups", _, "members"] => 3,
        ["groups", _, "transitiveMembers"] => 5,
        _ => 1,
    };
    let has = |name: &str| {
        req.query
            .iter()
            .find(|(k, _)| k.trim_start_matches('$').eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let mut c = base;
    if has("select").is_some() {
        c -= 1;
    }
    if has("expand").is_some() {
        c += 1;
    }
    if has("top")
        .and_then(|t| t.parse::<i64>().ok())
        .is_some_and(|t| t < 20)
    {
        c -= 1;
    }
    (c.max(1) as u64, 0)
}

impl Throttle {
    /// Buckets with capacity `fraction` × quota (invalid values mean 1.0).
    pub fn with_burst(fraction: f64) -> Self {
        let burst_fraction = if fraction.is_finite() && fraction > 0.0 {
            fraction.min(1.0)
        } else {
            1.0
        };
        Self {
            burst_fraction,
            ..Self::default()
        }
    }

    /// Count an identity-report call (5 per `window_ms` per app and tenant);
    /// returns how long to wait when over the limit. Always enforced, like
    /// provision on demand, independent of `--throttle`.
    pub fn report_call(
        &mut self,
        app: &str,
        tenant: &str,
        now: i64,
        window_ms: i64,
    ) -> Option<i64> {
        let calls = self
            .reports
            .entry((app.to_owned(), tenant.to_owned()))
            .or_default();
        calls.retain(|t| now - *t < window_ms);
        if calls.len() >= 5 {
            let oldest = calls.first().copied().unwrap_or(now);
            let wait = (oldest + window_ms - now).max(1);
            self.note_retry_after(app, tenant, now, now + wait);
            return Some(wait);
        }
        calls.push(now);
        None
    }

    /// Record that a 429 issued at `now` told (app, tenant) to wait until `until_ms`. The
    /// window opens once the answer is [delivered](Self::delivered).
    pub fn note_retry_after(&mut self, app: &str, tenant: &str, now: i64, until_ms: i64) {
        self.unsent
            .push((app.to_owned(), tenant.to_owned(), now, until_ms));
    }

    /// The answer to the request just served, carrying the 429s noted while serving it,
    /// reaches the client `delay_ms` after it was issued: only from then on can the client hold
    /// back, so only requests arriving later and before the Retry-After elapsed are early. On
    /// a clock that follows real time the delay is the answer's latency plus
    /// [`IN_FLIGHT_GRACE_MS`]; on a frozen clock it is 0 (no time passes while an answer
    /// travels, and requests are told apart by order alone).
    ///
    /// Each 429 opens its own window: one that reaches the client after an earlier window
    /// closed does not reach back into the time between them (a slow `$batch` answer can
    /// arrive after its own Retry-After elapsed, and then opens none).
    pub fn delivered(&mut self, delay_ms: i64) {
        for (app, tenant, issued, until) in std::mem::take(&mut self.unsent) {
            let from = issued + delay_ms.max(0);
            let windows = self.retry_until.entry((app, tenant)).or_default();
            // Requests are judged at their arrival, a little before they are served; windows
            // long closed judge nothing any more.
            windows.retain(|&(_, end)| end > issued - WINDOW_KEPT_MS);
            if from < until {
                open_window(windows, (from, until));
            }
        }
    }

    /// Whether a request now from (app, tenant) arrives before its Retry-After elapsed (its
    /// own, or one the app was given for a bucket of all its tenants).
    pub fn is_early(&self, app: &str, tenant: &str, now: i64) -> bool {
        [tenant, ANY_TENANT].into_iter().any(|t| {
            self.retry_until
                .get(&(app.to_owned(), t.to_owned()))
                .is_some_and(|windows| {
                    windows
                        .iter()
                        .any(|&(from, until)| from <= now && now < until)
                })
        })
    }

    fn bucket(&mut self, key: String, quota: f64, window_ms: f64, now: i64) -> &mut Bucket {
        let capacity = (quota * self.burst_fraction).max(1.0);
        let b = self.buckets.entry(key).or_insert(Bucket {
            tokens: capacity,
            capacity,
            refill: quota / window_ms.max(1.0),
            last_ms: now,
        });
        b.refill_to(now);
        b
    }

    /// Admit or reject one request; `users` is the tenant's user count (bucket size),
    /// `scale` the `--time-scale` factor applied to windows.
    pub fn admit(
        &mut self,
        ctx: &Ctx,
        req: &GraphRequest,
        users: usize,
        now: i64,
        scale: f64,
    ) -> Result<Admission, GraphError> {
        let (ru, writes) = cost(req);
        let w = |secs: f64| secs * 1000.0 * scale;
        let ru_cap = match users {
            0..50 => 3_500.0,
            50..=500 => 5_000.0,
            _ => 8_000.0,
        };
        let (app, tenant) = (&ctx.app_id, &ctx.tenant);
        // (key, capacity, window ms, charge, scope label, information)
        let mut specs = vec![
            (
                format!("ru|{app}|{tenant}"),
                ru_cap,
                w(10.0),
                ru as f64,
                "Tenant_Application/ReadWrite",
                "ResourceUnitLimitExceeded",
            ),
            (
                format!("ru|{app}"),
                150_000.0,
                w(20.0),
                ru as f64,
                "Application/ReadWrite",
                "ResourceUnitLimitExceeded",
            ),
            (
                format!("req|{app}"),
                130_000.0,
                w(10.0),
                1.0,
                "Application/ReadWrite",
                "ResourceUnitLimitExceeded",
            ),
        ];
        if writes > 0 {
            specs.push((
                format!("w|{app}|{tenant}"),
                3_000.0,
                w(150.0),
                writes as f64,
                "Tenant_Application/Write",
                "WriteLimitExceeded",
            ));
            specs.push((
                format!("w|{app}"),
                35_000.0,
                w(300.0),
                writes as f64,
                "Application/Write",
                "WriteLimitExceeded",
            ));
            specs.push((
                format!("w|t|{tenant}"),
                18_000.0 * (1.0 - self.background_load.clamp(0.0, 0.99)),
                w(300.0),
                writes as f64,
                "Tenant/Write",
                "WriteLimitExceeded",
            ));
        }
        let mut worst: Option<(f64, &str, &str)> = None;
        let mut max_use: f64 = 0.0;
        for (key, cap, window, charge, scope, info) in &specs {
            let b = self.bucket(key.clone(), *cap, *window, now);
            if b.tokens < *charge {
                let deficit_ms = (*charge - b.tokens) / b.refill;
                if worst.is_none_or(|(d, _, _)| deficit_ms > d) {
                    worst = Some((deficit_ms, scope, info));
                }
            }
        }
        // Charge every bucket, admitted or not (throttled requests still count).
        for (key, _, _, charge, _, _) in &specs {
            if let Some(b) = self.buckets.get_mut(key) {
                b.tokens = (b.tokens - charge).max(-b.capacity);
                max_use = max_use.max(1.0 - b.tokens / b.capacity);
            }
        }
        let mut headers = vec![("x-ms-resource-unit".to_owned(), ru.to_string())];
        if max_use > 0.8 {
            headers.push((
                "x-ms-throttle-limit-percentage".into(),
                format!("{:.1}", max_use.min(1.8)),
            ));
        }
        if let Some((deficit_ms, scope, info)) = worst {
            let secs = (deficit_ms / 1000.0).ceil().max(1.0) as i64;
            // The app's own bucket is shared by every tenant it writes to: until it refills,
            // a request of the app to any tenant is early, not only to this one.
            let throttled_tenant = if scope.starts_with("Application/") {
                ANY_TENANT
            } else {
                tenant.as_str()
            };
            self.note_retry_after(app, throttled_tenant, now, now + secs * 1000);
            let mut e = GraphError::new(429, "TooManyRequests", "Please retry again later.")
                .with_header("Retry-After", secs.to_string())
                .with_header("x-ms-throttle-scope", format!("{scope}/{app}/{tenant}"))
                .with_header("x-ms-throttle-information", info.to_string());
            e.headers.extend(headers);
            return Err(e);
        }
        Ok(Admission {
            ru,
            writes,
            headers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: &str, path: &str, query: &[(&str, &str)]) -> GraphRequest {
        GraphRequest {
            method: method.into(),
            segments: path.split('/').map(str::to_owned).collect(),
            query: query
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            raw_query: String::new(),
            headers: Vec::new(),
            body: None,
        }
    }

    #[test]
    fn cost_table_and_modifiers() {
        assert_eq!(cost(&req("GET", "users", &[])), (2, 0));
        assert_eq!(cost(&req("GET", "users", &[("$select", "id")])), (1, 0));
        assert_eq!(
            cost(&req("GET", "users", &[("$select", "id"), ("$top", "5")])),
            (1, 0)
        );
        assert_eq!(
            cost(&req("GET", "groups/g/members", &[("$expand", "x")])),
            (4, 0)
        );
        assert_eq!(
            cost(&req(
                "PATCH",
                "policies/crossTenantAccessPolicy/partners/x",
                &[]
            )),
            (1, 1)
        );
    }

    #[test]
    fn bucket_exhaustion_then_refill() {
        let ctx = Ctx {
            tenant: "t".into(),
            app_id: "a".into(),
            roles: vec![],
            version: "v1.0".into(),
            base_url: String::new(),
        };
        let mut t = Throttle::default();
        let r = req("GET", "users", &[]);
        let mut admitted = 0;
        while t.admit(&ctx, &r, 10, 0, 1.0).is_ok() {
            admitted += 1;
        }
        assert_eq!(admitted, 1750);
        let e = t.admit(&ctx, &r, 10, 0, 1.0).unwrap_err();
        assert_eq!(e.status, 429);
        assert!(e.headers.iter().any(|(k, _)| k == "Retry-After"));
        t.delivered(150 + IN_FLIGHT_GRACE_MS);
        assert!(
            !t.is_early("a", "t", 100),
            "sent before the 429 reached the client"
        );
        assert!(
            t.is_early("a", "t", 200),
            "sent after it, before Retry-After"
        );
        // Far in the future everything has refilled.
        assert!(t.admit(&ctx, &r, 10, 60_000, 1.0).is_ok());

        // Small-burst mode: a tenth of the capacity, same refill rate.
        let mut small = Throttle::with_burst(0.1);
        let mut admitted = 0;
        while small.admit(&ctx, &r, 10, 0, 1.0).is_ok() {
            admitted += 1;
        }
        assert_eq!(admitted, 175);
        // 350 RU per second refill: two seconds later about 350 more are admitted.
        let mut later = 0;
        while small.admit(&ctx, &r, 10, 2_000, 1.0).is_ok() {
            later += 1;
        }
        assert!(later > 0 && later <= 175, "{later}");
    }

    #[test]
    fn a_429_from_the_app_bucket_makes_the_apps_requests_to_every_tenant_early() {
        let ctx = |tenant: &str| Ctx {
            tenant: tenant.into(),
            app_id: "a".into(),
            roles: vec![],
            version: "v1.0".into(),
            base_url: String::new(),
        };
        // A hundredth of each bucket: 30 writes per app and tenant, 350 per app.
        let mut t = Throttle::with_burst(0.01);
        let w = req("PATCH", "policies/crossTenantAccessPolicy", &[]);
        let mut admitted = 0;
        let mut refused = None;
        'tenants: for i in 0..20 {
            let tenant = format!("t{i}");
            for _ in 0..30 {
                match t.admit(&ctx(&tenant), &w, 10, 0, 1.0) {
                    Ok(_) => admitted += 1,
                    Err(e) => {
                        refused = Some((tenant, e));
                        break 'tenants;
                    }
                }
            }
        }
        let (tenant, e) = refused.expect("the app's bucket empties before the tenants' do");
        assert_eq!(admitted, 350);
        assert_eq!(tenant, "t11");
        let scope = e
            .headers
            .iter()
            .find(|(k, _)| k == "x-ms-throttle-scope")
            .map(|(_, v)| v.as_str());
        assert_eq!(scope, Some("Application/Write/a/t11"));
        t.delivered(150 + IN_FLIGHT_GRACE_MS);
        assert!(t.is_early("a", "t11", 300));
        assert!(
            t.is_early("a", "t0", 300),
            "the app's bucket is empty for its requests to every tenant"
        );
        assert!(
            !t.is_early("other-app", "t0", 300),
            "another app's bucket is not"
        );

        // A tenant's own bucket is its own: emptying it says nothing of the app's other tenants.
        let mut t = Throttle::with_burst(0.01);
        while t.admit(&ctx("t0"), &w, 10, 0, 1.0).is_ok() {}
        t.delivered(150 + IN_FLIGHT_GRACE_MS);
        assert!(t.is_early("a", "t0", 300));
        assert!(!t.is_early("a", "t1", 300));
    }

    /// A 429 whose answer reaches the client late (a slow `$batch`) opens its window only
    /// then: the time between an earlier window's end and that answer is not early, though
    /// it was issued while the earlier window was open.
    #[test]
    fn a_429_delivered_after_an_earlier_window_closed_does_not_reach_back() {
        let mut t = Throttle::default();
        // Issued at 0, Retry-After 1 s, delivered at 200: early in [200, 1,000).
        t.note_retry_after("a", "t", 0, 1_000);
        t.delivered(200);
        // Issued at 900 while that window was open, Retry-After 1 s, delivered at 1,500:
        // early in [1,500, 1,900).
        t.note_retry_after("a", "t", 900, 1_900);
        t.delivered(600);
        assert!(t.is_early("a", "t", 500));
        assert!(
            !t.is_early("a", "t", 1_200),
            "between the first window's end and the second 429's arrival"
        );
        assert!(t.is_early("a", "t", 1_600));
        assert!(!t.is_early("a", "t", 1_900));
        // Delivered after its own Retry-After elapsed: no window at all.
        t.note_retry_after("a", "t", 3_000, 4_000);
        t.delivered(1_200);
        assert!(!t.is_early("a", "t", 4_100));
        // Overlapping windows are one.
        t.note_retry_after("a", "t", 5_000, 6_000);
        t.delivered(100);
        t.note_retry_after("a", "t", 5_500, 7_000);
        t.delivered(100);
        assert!(t.is_early("a", "t", 5_100) && t.is_early("a", "t", 6_500));
        assert!(!t.is_early("a", "t", 7_000));
    }

    #[test]
    fn background_load_shrinks_the_tenant_write_bucket() {
        let ctx = Ctx {
            tenant: "t".into(),
            app_id: "a".into(),
            roles: vec![],
            version: "v1.0".into(),
            base_url: String::new(),
        };
        let mut t = Throttle {
            background_load: 0.9,
            ..Throttle::default()
        };
        let w = req("PATCH", "policies/crossTenantAccessPolicy", &[]);
        let mut admitted = 0;
        while t.admit(&ctx, &w, 10, 0, 1.0).is_ok() {
            admitted += 1;
        }
        // min(app+tenant 3,000, tenant 18,000 × 0.1 = 1,800)
        assert!((1799..=1800).contains(&admitted), "{admitted}");
        let e = t.admit(&ctx, &w, 10, 0, 1.0).unwrap_err();
        assert!(
            e.headers
                .iter()
                .any(|(k, v)| k == "x-ms-throttle-scope" && v.starts_with("Tenant/Write"))
        );
    }
}
