//! How long an apply of a plan will take when Graph's write quotas bind, and what would make it
//! faster (performance-model.md §6.3).
//!
//! Graph charges every write to token buckets: 3,000 writes per 150 s per (app, tenant), 35,000
//! per 5 min per app across all tenants, 18,000 per 5 min per tenant across all apps. Once a
//! bucket's burst is spent, writes proceed at its refill rate, so an apply of W writes in one
//! tenant takes at least (W − 3,000) ÷ 20 s. This module counts the writes a plan (and the work
//! it defers until joins complete) will make per tenant and per app registration, and returns
//! the bound with advice when one of these buckets binds.
//!
//! Pure: it reads the plan and the desired state, nothing else. It does not estimate
//! latency-bound time (seconds at most), and counts one write per action: an approximation of
//! the executor's requests, good to the few percent that decide whether minutes turn into hours.

use std::collections::BTreeMap;

use mtoctl_model::DesiredState;
use mtoctl_model::ids::Alias;

use mtoctl_model::plan::{ActionKind, Operation, Plan, ResourceAddr};

/// One token bucket: its burst capacity and its refill rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quota {
    /// Writes that may be made at once (the window's quota).
    pub capacity: f64,
    /// Writes per second once the burst is spent (quota ÷ window).
    pub per_second: f64,
}

impl Quota {
    /// Seconds `writes` take beyond the burst.
    fn seconds(&self, writes: u64) -> f64 {
        ((writes as f64 - self.capacity) / self.per_second).max(0.0)
    }
}

/// Graph's identity-and-access write quotas (performance-model.md §1.1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WriteQuotas {
    /// Per application and tenant: 3,000 per 150 s.
    pub app_tenant: Quota,
    /// Per application across all tenants: 35,000 per 5 min.
    pub app: Quota,
    /// Per tenant across all applications: 18,000 per 5 min.
    pub tenant: Quota,
}

impl Default for WriteQuotas {
    fn default() -> Self {
        Self {
            app_tenant: Quota {
                capacity: 3000.0,
                per_second: 3000.0 / 150.0,
            },
            app: Quota {
                capacity: 35000.0,
                per_second: 35000.0 / 300.0,
            },
            tenant: Quota {
                capacity: 18000.0,
                per_second: 18000.0 / 300.0,
            },
        }
    }
}

/// Which bucket binds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    /// One tenant's bucket for its app registration (or its all-apps bucket).
    Tenant {
        /// The busiest tenant.
        tenant: Alias,
        /// Writes charged to it.
        writes: u64,
    },
    /// One app registration shared by several tenants.
    App {
        /// The tenants sharing it.
        tenants: Vec<Alias>,
        /// Writes charged to it.
        writes: u64,
    },
}

/// The estimate of an apply bound by write quotas.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplyEstimate {
    /// Seconds the binding bucket forces, at least.
    pub seconds: f64,
    /// What binds.
    pub binding: Binding,
    /// Writes of the whole rollout (this plan and the work it defers).
    pub total_writes: u64,
    /// What would make the apply faster, one sentence each.
    pub advice: Vec<String>,
}

impl ApplyEstimate {
    /// One line for people: "≈81 min, bound by the write quota of hub (99,694 writes)".
    pub fn headline(&self) -> String {
        let what = match &self.binding {
            Binding::Tenant { tenant, writes } => format!(
                "bound by Graph's write quota for tenant {tenant} ({} writes at 20 per second after a burst of 3,000)",
                thousands(*writes)
            ),
            Binding::App { tenants, writes } => format!(
                "bound by Graph's write quota for the app registration shared by {} tenants ({} writes at about 117 per second after a burst of 35,000)",
                tenants.len(),
                thousands(*writes)
            ),
        };
        format!("apply will take ≈{}, {what}", duration(self.seconds))
    }
}

/// Writes the executor makes to set up one sync configuration besides its assignments:
/// instantiate, validate, job, settings, schema, start.
const SYNC_SETUP_WRITES: u64 = 6;

/// What is left of a setup whose configuration this plan makes already, besides the
/// assignments: validate and start.
const SYNC_SETUP_LEFT: u64 = 2;

/// The estimate for applying `plan` (and what it defers) to `desired`, or `None` when no write
/// quota binds (the apply is then bound by latency: seconds).
pub fn estimate(
    plan: &Plan,
    desired: &DesiredState,
    quotas: &WriteQuotas,
) -> Option<ApplyEstimate> {
    let mut per_tenant: BTreeMap<&Alias, u64> = BTreeMap::new();
    for a in &plan.actions {
        if a.kind != ActionKind::Wait {
            *per_tenant.entry(&a.tenant).or_default() += 1;
        }
    }
    // Deferred syncs become a configuration and one assignment per principal in scope.
    let deferred_syncs: BTreeMap<ResourceAddr, u64> = desired
        .syncs
        .iter()
        .map(|s| {
            let assignments = if s.scope.all_users {
                0
            } else {
                (s.scope.users.len() + s.scope.groups.len()) as u64
            };
            (ResourceAddr::sync(s.from.as_str(), &s.name), assignments)
        })
        .collect();
    // A configuration made while a join is pending leaves its validation, assignments and start.
    let made_now: std::collections::BTreeSet<&ResourceAddr> = plan
        .actions
        .iter()
        .filter(|a| matches!(a.operation, Operation::InstantiateSyncConfiguration { .. }))
        .map(|a| &a.addr)
        .collect();
    let mut lists_users = false;
    for d in &plan.deferred {
        let writes = match deferred_syncs.get(&d.addr) {
            Some(&assignments) if made_now.contains(&d.addr) => SYNC_SETUP_LEFT + assignments,
            Some(&assignments) => SYNC_SETUP_WRITES + assignments,
            None => 1,
        };
        *per_tenant.entry(&d.tenant).or_default() += writes;
    }
    for s in &desired.syncs {
        lists_users |= !s.scope.users.is_empty();
    }
    let total_writes: u64 = per_tenant.values().sum();

    let mut best: Option<(f64, Binding)> = None;
    let mut consider = |seconds: f64, binding: Binding| {
        if seconds > 0.0 && best.as_ref().is_none_or(|(s, _)| seconds > *s) {
            best = Some((seconds, binding));
        }
    };
    for (tenant, &writes) in &per_tenant {
        let seconds = quotas
            .app_tenant
            .seconds(writes)
            .max(quotas.tenant.seconds(writes));
        consider(
            seconds,
            Binding::Tenant {
                tenant: (*tenant).clone(),
                writes,
            },
        );
    }
    let mut per_app: BTreeMap<String, (Vec<Alias>, u64)> = BTreeMap::new();
    for t in &desired.tenants {
        let app = t
            .credential
            .client_id()
            .unwrap_or_else(|| format!("tenant:{}", t.alias));
        let entry = per_app.entry(app).or_default();
        entry.0.push(t.alias.clone());
        entry.1 += per_tenant.get(&t.alias).copied().unwrap_or(0);
    }
    // Whether a registration shared by several tenants would bind on its own.
    let mut shared_app_binds = false;
    for (tenants, writes) in per_app.into_values() {
        if tenants.len() > 1 {
            let seconds = quotas.app.seconds(writes);
            shared_app_binds |= seconds > 0.0;
            consider(seconds, Binding::App { tenants, writes });
        }
    }
    let (seconds, binding) = best?;

    let mut advice = Vec::new();
    if lists_users {
        advice.push(
            "scope syncs by group rather than by user: one assignment per group instead of one per user (performance-model §6.3)"
                .to_owned(),
        );
    }
    if shared_app_binds {
        advice.push(
            "use one app registration per tenant: Graph's per-app write quota (35,000 per 5 min) is shared by every tenant that uses the same client id"
                .to_owned(),
        );
    }
    advice.push(
        "an interrupted apply is safe to run again: it converges without duplicates".to_owned(),
    );
    Some(ApplyEstimate {
        seconds,
        binding,
        total_writes,
        advice,
    })
}

fn duration(seconds: f64) -> String {
    if seconds < 90.0 {
        format!("{:.0} s", seconds.max(1.0))
    } else if seconds < 5400.0 {
        format!("{:.0} min", seconds / 60.0)
    } else {
        format!("{:.1} h", seconds / 3600.0)
    }
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::ObservedStateBuilder;

    /// A hub (owner) and one spoke; the hub syncs `users` users to the spoke. Both tenants use
    /// the same client id when `shared`.
    fn hub_spec(users: usize, shared: bool) -> DesiredState {
        let scope: Vec<String> = (0..users)
            .map(|i| format!("u{i}@hub.example.com"))
            .collect();
        let spoke_app = if shared {
            "0d3f3c4e-5b7a-4c1e-9a8b-1c2d3e4f5a6b"
        } else {
            "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
        };
        let text = format!(
            "apiVersion: mtoctl/v1alpha1
kind: MultiTenantOrganization
organization:
  displayName: Hub
tenants:
  - alias: hub
    tenantId: 6babcaad-604b-40ac-a9d7-9fd97c0b779f
    displayName: Hub
    role: owner
    domain: hub.onmicrosoft.com
    auth:
      clientId: 0d3f3c4e-5b7a-4c1e-9a8b-1c2d3e4f5a6b
      clientSecret:
        fromEnv: HUB_SECRET
  - alias: spoke
    tenantId: 3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11
    displayName: Spoke
    domain: spoke.onmicrosoft.com
    auth:
      clientId: {spoke_app}
      clientSecret:
        fromEnv: SPOKE_SECRET
sync:
  - from: hub
    to: spoke
    scope:
      users: [{}]
",
            scope.join(", ")
        );
        crate::tests::spec(text.as_bytes())
    }

    #[test]
    fn small_rollouts_are_not_bound_by_write_quotas() {
        let desired = crate::tests::example("quickstart");
        let plan = crate::tests::plan(&desired, &ObservedStateBuilder::fresh(&desired).build());
        assert_eq!(estimate(&plan, &desired, &WriteQuotas::default()), None);
    }

    #[test]
    fn a_large_user_scope_binds_the_source_tenants_write_quota() {
        let desired = hub_spec(5000, false);
        let plan = crate::tests::plan(&desired, &ObservedStateBuilder::fresh(&desired).build());
        let e = estimate(&plan, &desired, &WriteQuotas::default()).expect("quota binds");
        let Binding::Tenant { tenant, writes } = &e.binding else {
            panic!("{:?}", e.binding)
        };
        assert_eq!(tenant.as_str(), "hub");
        // The sync's 5,000 assignments, made while the join is pending, and its setup are
        // counted for the hub, once.
        assert!((5000..5020).contains(writes), "{writes}");
        assert!((e.seconds - (*writes as f64 - 3000.0) / 20.0).abs() < 1e-9);
        assert!(
            e.advice.iter().any(|a| a.contains("by group")),
            "{:?}",
            e.advice
        );
        assert!(
            !e.advice
                .iter()
                .any(|a| a.contains("one app registration per tenant"))
        );
        assert!(e.headline().contains("≈"), "{}", e.headline());
        assert!(e.headline().contains("tenant hub"), "{}", e.headline());
    }

    #[test]
    fn a_shared_registration_under_its_quota_gets_no_registration_advice() {
        // 5,000 writes share one registration, far below its 35,000 burst.
        let desired = hub_spec(5000, true);
        let plan = crate::tests::plan(&desired, &ObservedStateBuilder::fresh(&desired).build());
        let e = estimate(&plan, &desired, &WriteQuotas::default()).expect("quota binds");
        assert!(
            matches!(e.binding, Binding::Tenant { .. }),
            "{:?}",
            e.binding
        );
        assert!(
            !e.advice
                .iter()
                .any(|a| a.contains("one app registration per tenant"))
        );
    }

    #[test]
    fn the_per_app_quota_binds_when_many_tenants_share_one_registration() {
        let desired = hub_spec(5000, true);
        let plan = crate::tests::plan(&desired, &ObservedStateBuilder::fresh(&desired).build());
        // A per-app quota smaller than the per-tenant one makes the app bind.
        let quotas = WriteQuotas {
            app: Quota {
                capacity: 100.0,
                per_second: 1.0,
            },
            ..WriteQuotas::default()
        };
        let e = estimate(&plan, &desired, &quotas).expect("quota binds");
        let Binding::App { tenants, writes } = &e.binding else {
            panic!("{:?}", e.binding)
        };
        assert_eq!(tenants.len(), 2);
        assert!((e.seconds - (*writes as f64 - 100.0)).abs() < 1e-9);
        assert!(
            e.advice
                .iter()
                .any(|a| a.contains("one app registration per tenant"))
        );
    }

    #[test]
    fn a_converged_world_has_no_estimate() {
        let desired = hub_spec(5000, false);
        let plan = crate::tests::plan(&desired, &ObservedStateBuilder::converged(&desired).build());
        assert!(plan.actions.is_empty() && plan.deferred.is_empty());
        assert_eq!(estimate(&plan, &desired, &WriteQuotas::default()), None);
    }

    #[test]
    fn durations_and_counts_read_well() {
        assert_eq!(duration(30.0), "30 s");
        assert_eq!(duration(4836.0), "81 min");
        assert_eq!(duration(3.0 * 3600.0), "3.0 h");
        assert_eq!(thousands(99694), "99,694");
        assert_eq!(thousands(999), "999");
    }
}
