//! What is checked before a plan is applied: that it may be applied at all ([`check_plan`],
//! no network), and that nothing it touches changed since it was planned ([`stale_objects`]).

use std::collections::{BTreeMap, BTreeSet};

use mtoctl_graph::transport::GraphClient;
use mtoctl_model::DesiredState;
use mtoctl_model::observed::Fingerprint;
use mtoctl_model::plan::{ExpectedBefore, Plan, ResourceAddr, fingerprint};

use crate::ApplyOptions;

/// Why a plan is not applied at all.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The plan was computed by another mtoctl version.
    #[error(
        "the plan was computed by mtoctl {plan}, this is mtoctl {this}; plan again with this version, or pass --allow-version-skew"
    )]
    VersionSkew {
        /// The plan's mtoctl version.
        plan: String,
        /// This version.
        this: String,
    },
    /// The plan was computed from another spec.
    #[error("the plan was computed from a different spec (digest {plan}, spec {spec}); plan again")]
    SpecChanged {
        /// The plan's digest.
        plan: String,
        /// The spec's digest.
        spec: String,
    },
    /// The planner marked the plan unsafe.
    #[error("the plan is not applyable (see its notes of severity error)")]
    NotApplyable,
    /// Destructive actions without permission.
    #[error(
        "the plan has destructive actions and --allow-destroy was not given; nothing was changed:\n  {}",
        .0.join("\n  ")
    )]
    DestroyNotAllowed(Vec<String>),
    /// Objects changed since the plan was made.
    #[error(
        "plan is stale: these objects changed since it was planned; nothing was changed, plan again:\n  {}",
        .0.join("\n  ")
    )]
    Stale(Vec<String>),
    /// The live state could not be read for the staleness check.
    #[error("cannot re-read the tenants to check the plan is still current")]
    Read(#[source] mtoctl_graph::collect::CollectError),
}

/// Refuses a plan that must not be applied, before any network access.
pub fn check_plan(
    plan: &Plan,
    desired: &DesiredState,
    options: &ApplyOptions,
) -> Result<(), ApplyError> {
    let this = env!("CARGO_PKG_VERSION");
    if plan.mtoctl_version != this && !options.allow_version_skew {
        return Err(ApplyError::VersionSkew {
            plan: plan.mtoctl_version.clone(),
            this: this.to_owned(),
        });
    }
    let digest = Fingerprint::of(desired);
    if digest != plan.spec_digest {
        return Err(ApplyError::SpecChanged {
            plan: plan.spec_digest.0.clone(),
            spec: digest.0,
        });
    }
    if !plan.applyable {
        return Err(ApplyError::NotApplyable);
    }
    if !options.allow_destroy && plan.has_destruction() {
        return Err(ApplyError::DestroyNotAllowed(
            plan.actions
                .iter()
                .filter(|a| a.destructive)
                .map(|a| format!("{} {}: {}", a.id, a.addr, a.summary))
                .collect(),
        ));
    }
    Ok(())
}

/// The addresses the plan touches whose object changed since it was planned (re-read now):
/// a different fingerprint, gone, or present where the plan expects nothing.
pub async fn stale_objects(
    plan: &Plan,
    client: &GraphClient,
    desired: &DesiredState,
) -> Result<Vec<ResourceAddr>, ApplyError> {
    let observed = mtoctl_graph::collect::collect(client, desired)
        .await
        .map_err(ApplyError::Read)?;
    Ok(compare(plan, &fingerprint::all(desired, &observed)))
}

pub(crate) fn compare(plan: &Plan, now: &BTreeMap<ResourceAddr, Fingerprint>) -> Vec<ResourceAddr> {
    let mut stale = BTreeSet::new();
    for action in &plan.actions {
        let then = plan.observed.get(&action.addr);
        let current = now.get(&action.addr);
        let changed = match (&action.expected_before, then) {
            (ExpectedBefore::Absent, _) => current.is_some(),
            (_, Some(then)) => current != Some(then),
            (_, None) => false,
        };
        if changed {
            stale.insert(action.addr.clone());
        }
    }
    stale.into_iter().collect()
}
