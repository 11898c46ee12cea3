//! Worlds and specs for a scenario: the emulator's world (tenants, one app registration,
//! users, groups) and the mtoctl spec that syncs them, plus the incremental spec (1 % of each
//! direction's principals removed, 1 % added).
//!
//! Names are short on purpose (`u12@t3.ex`): B4's spec lists 198,000 principals and has to stay
//! under the spec size cap (4 MiB). Nothing here talks to the emulator or runs mtoctl.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::model::directions;
use crate::scenario::Scenario;

/// The client secret of the generated app registrations (an emulator-only value).
pub const SECRET: &str = "bench-emulator-secret";
/// The environment variable the generated spec reads the secret from.
pub const SECRET_ENV: &str = "BENCH_CLIENT_SECRET";

/// Generated inputs of one run.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The emulator world (JSON).
    pub world: Value,
    /// The spec before the change.
    pub spec: String,
    /// The spec with 1 % of each direction's principals removed and 1 % added.
    pub spec_incremental: String,
    /// App role assignments the incremental apply must add.
    pub incremental_adds: u64,
    /// App role assignments the incremental apply must remove.
    pub incremental_removes: u64,
}

/// How the tenants authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Apps {
    /// One multi-tenant app registration consented in every tenant (the per-app write bucket
    /// applies across tenants).
    Shared,
    /// One app registration per tenant (performance-model §6.3's design lever).
    PerTenant,
}

/// Tenant `i`'s id.
pub fn tenant_id(i: usize) -> String {
    format!("b0000000-0000-4000-8000-{:012x}", i + 1)
}

fn client_id(apps: Apps, i: usize) -> String {
    match apps {
        Apps::Shared => "c0000000-0000-4000-8000-0000000000aa".to_owned(),
        Apps::PerTenant => format!("c0000000-0000-4000-8000-{:012x}", i + 1),
    }
}

fn domain(i: usize) -> String {
    format!("t{i}.ex")
}

fn upn(user: u64, tenant: usize) -> String {
    format!("u{user}@{}", domain(tenant))
}

fn group_name(g: u64) -> String {
    format!("g{g}")
}

/// A small deterministic generator (splitmix64), so seeds pick the churned principals.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// `k` distinct values below `n`, sorted.
    fn pick(&mut self, n: u64, k: u64) -> Vec<u64> {
        let mut out = std::collections::BTreeSet::new();
        while (out.len() as u64) < k.min(n) {
            out.insert(self.next() % n);
        }
        out.into_iter().collect()
    }
}

/// The world and specs for `scenario`; `seed` chooses the churned principals.
pub fn generate(scenario: &Scenario, seed: u64, apps: Apps) -> Generated {
    let (t, dirs, principals) = directions(&scenario.shape);
    // Each source tenant holds its principals plus the 1 % the incremental run adds.
    let mut tenants = Vec::with_capacity(t);
    for (i, &n) in principals.iter().enumerate() {
        let total = n + Scenario::churn(n);
        let (users, groups): (Vec<Value>, Vec<Value>) = match scenario.group_members {
            None => (
                (0..total)
                    .map(|u| json!({"userPrincipalName": upn(u, i)}))
                    .collect(),
                Vec::new(),
            ),
            Some(m) => (
                (0..total * m)
                    .map(|u| json!({"userPrincipalName": upn(u, i)}))
                    .collect(),
                (0..total)
                    .map(|g| {
                        json!({
                            "displayName": group_name(g),
                            "members": (g * m..(g + 1) * m).map(|u| upn(u, i)).collect::<Vec<_>>(),
                        })
                    })
                    .collect(),
            ),
        };
        tenants.push(json!({
            "id": tenant_id(i),
            "displayName": format!("Tenant {i}"),
            "domain": domain(i),
            "apps": [{"clientId": client_id(apps, i), "secret": SECRET}],
            "users": users,
            "groups": groups,
        }));
    }
    let world = json!({
        "seed": seed,
        // Joins complete in a second of virtual time (Graph's 2 h are not what is measured),
        // and sync cycles never run during a benchmark: provisioning is Graph's work, not
        // mtoctl's, and would only load the emulator.
        "timings": {
            "joinStart": 0.5,
            "joinComplete": JOIN_COMPLETE_S,
            "syncFirstCycle": 1.0e9,
            "syncInterval": 1.0e9,
        },
        "limits": {"maxActiveTenants": 100, "maxInternalUsers": 1_000_000},
        "tenants": tenants,
    });

    let mut rng = Rng(seed ^ 0x6265_6e63_6800);
    let mut scopes_before = Vec::new();
    let mut scopes_after = Vec::new();
    let (mut adds, mut removes) = (0, 0);
    for d in &dirs {
        let before: Vec<u64> = (0..d.n).collect();
        let churn = Scenario::churn(d.n);
        let removed = rng.pick(d.n, churn);
        let mut after: Vec<u64> = before
            .iter()
            .copied()
            .filter(|p| removed.binary_search(p).is_err())
            .collect();
        after.extend(d.n..d.n + churn);
        adds += churn;
        removes += removed.len() as u64;
        scopes_before.push(before);
        scopes_after.push(after);
    }
    let spec = spec_text(scenario, t, &dirs, &scopes_before, apps);
    let spec_incremental = spec_text(scenario, t, &dirs, &scopes_after, apps);
    Generated {
        world,
        spec,
        spec_incremental,
        incremental_adds: adds,
        incremental_removes: removes,
    }
}

/// What a generated spec declares, for clients that do not read specs (the baseline client of
/// `crate::baseline`): the same tenants, organization and sync scopes as [`generate`]'s `spec`.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The organization's display name.
    pub organization: String,
    /// Tenants; index 0 is the owner.
    pub tenants: Vec<TenantLayout>,
    /// Sync directions with the principals each scopes (before the incremental change).
    pub syncs: Vec<SyncLayout>,
    /// Whether scopes name groups (display names) rather than users (UPNs).
    pub groups: bool,
}

/// One tenant of a [`Layout`].
#[derive(Debug, Clone)]
pub struct TenantLayout {
    /// Tenant id.
    pub id: String,
    /// Display name, as the spec gives it.
    pub display_name: String,
    /// The app registration's client id in this tenant.
    pub client_id: String,
}

/// One sync direction of a [`Layout`].
#[derive(Debug, Clone)]
pub struct SyncLayout {
    /// Source tenant index.
    pub src: usize,
    /// Target tenant index.
    pub tgt: usize,
    /// UPNs or group display names in scope, in the source tenant.
    pub principals: Vec<String>,
}

/// The [`Layout`] of `scenario`'s spec (not the incremental one).
pub fn layout(scenario: &Scenario, apps: Apps) -> Layout {
    let (t, dirs, _) = directions(&scenario.shape);
    let groups = scenario.group_members.is_some();
    Layout {
        organization: format!("Bench {}", scenario.name),
        tenants: (0..t)
            .map(|i| TenantLayout {
                id: tenant_id(i),
                display_name: format!("Tenant {i}"),
                client_id: client_id(apps, i),
            })
            .collect(),
        syncs: dirs
            .iter()
            .map(|d| SyncLayout {
                src: d.src,
                tgt: d.tgt,
                principals: (0..d.n)
                    .map(|p| if groups { group_name(p) } else { upn(p, d.src) })
                    .collect(),
            })
            .collect(),
        groups,
    }
}

/// Virtual seconds from a join request to its completion in the generated worlds.
pub const JOIN_COMPLETE_S: f64 = 1.0;

fn spec_text(
    scenario: &Scenario,
    t: usize,
    dirs: &[crate::model::Dir],
    scopes: &[Vec<u64>],
    apps: Apps,
) -> String {
    let mut s = String::with_capacity(64 * t + 16 * scopes.iter().map(Vec::len).sum::<usize>());
    s.push_str("# Generated by mtoctl-bench; not for editing.\n");
    s.push_str("apiVersion: mtoctl/v1alpha1\nkind: MultiTenantOrganization\n");
    let _ = writeln!(
        s,
        "organization:\n  displayName: Bench {}\ntenants:",
        scenario.name
    );
    for i in 0..t {
        let _ = writeln!(
            s,
            "  - alias: t{i}\n    tenantId: {}\n    displayName: Tenant {i}\n    role: {}\n    domain: {}\n    auth:\n      clientId: {}\n      clientSecret:\n        fromEnv: {SECRET_ENV}",
            tenant_id(i),
            if i == 0 { "owner" } else { "member" },
            domain(i),
            client_id(apps, i),
        );
    }
    s.push_str(
        "collaboration:\n  allPairs:\n    allowUsersSyncInbound: true\n    automaticUserConsent:\n      inbound: true\n      outbound: true\nsync:\n",
    );
    for (d, scope) in dirs.iter().zip(scopes) {
        let _ = write!(
            s,
            "  - from: t{}\n    to: t{}\n    userType: Member\n    scope:\n",
            d.src, d.tgt
        );
        let names: Vec<String> = match scenario.group_members {
            None => scope.iter().map(|&u| upn(u, d.src)).collect(),
            Some(_) => scope.iter().map(|&g| group_name(g)).collect(),
        };
        let key = if scenario.group_members.is_some() {
            "groups"
        } else {
            "users"
        };
        let _ = writeln!(s, "      {key}: [{}]", names.join(", "));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::by_name;

    #[test]
    fn b1_world_and_spec_have_the_scenario_sizes() {
        let g = generate(&by_name("B1").expect("B1"), 1, Apps::Shared);
        let tenants = g.world["tenants"].as_array().expect("tenants");
        assert_eq!(tenants.len(), 2);
        // 250 in scope plus the 1 % the incremental run adds.
        assert_eq!(tenants[0]["users"].as_array().map(Vec::len), Some(252));
        assert_eq!(g.spec.matches("u249@t0.ex").count(), 1);
        assert_eq!(g.spec.matches("u250@t0.ex").count(), 0);
        assert_eq!(g.spec_incremental.matches("u250@t0.ex").count(), 1);
        assert_eq!((g.incremental_adds, g.incremental_removes), (4, 4));
    }

    #[test]
    fn the_layout_names_what_the_spec_names() {
        for name in ["B1", "B4g"] {
            let sc = by_name(name).expect("scenario").scaled(0.1);
            let g = generate(&sc, 1, Apps::Shared);
            let l = layout(&sc, Apps::Shared);
            assert!(g.spec.contains(&format!("displayName: {}", l.organization)));
            for t in &l.tenants {
                assert!(g.spec.contains(&format!("tenantId: {}", t.id)), "{name}");
                assert!(
                    g.spec.contains(&format!("clientId: {}", t.client_id)),
                    "{name}"
                );
            }
            for s in &l.syncs {
                let line = format!("[{}]", s.principals.join(", "));
                assert!(g.spec.contains(&line), "{name}: {} → {}", s.src, s.tgt);
            }
        }
    }

    #[test]
    fn b4_spec_fits_under_the_spec_size_cap() {
        let g = generate(&by_name("B4").expect("B4"), 1, Apps::Shared);
        assert!(g.spec.len() < 4 * 1024 * 1024, "{} bytes", g.spec.len());
    }

    #[test]
    fn seeds_choose_different_removals() {
        let s = by_name("B2").expect("B2");
        let a = generate(&s, 1, Apps::Shared).spec_incremental;
        let b = generate(&s, 2, Apps::Shared).spec_incremental;
        assert_ne!(a, b);
    }
}
