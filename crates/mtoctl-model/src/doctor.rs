//! What `mtoctl doctor` read about each tenant before judging whether an apply can succeed:
//! the token's permissions, the tenant's subscriptions, the organization it already belongs
//! to, its default cross-tenant access settings and partner configurations, and the credential
//! check of each existing
//! sync configuration. Read by `mtoctl_graph::doctor`, judged by `mtoctl_planner::doctor`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::ids::{Alias, TenantId};
use crate::observed::{OrganizationObservation, PartnerSettingsObservation};

/// The outcome of one read.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome", content = "value")]
pub enum Read<T> {
    /// Graph answered.
    Found(T),
    /// Graph refused for lack of permission (HTTP 403).
    Forbidden,
    /// Graph could not be asked or did not answer usefully; the message says why.
    Failed(String),
    /// Not attempted (the tenant could not sign in).
    NotRead,
}

impl<T> Read<T> {
    /// The value, when Graph answered.
    pub fn found(&self) -> Option<&T> {
        match self {
            Read::Found(v) => Some(v),
            _ => None,
        }
    }
}

/// One commercial subscription (`subscribedSku`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkuObservation {
    /// `skuPartNumber` (`AAD_PREMIUM_P2`).
    pub sku_part_number: String,
    /// `capabilityStatus` (`Enabled`, `Warning`, `Suspended`, `Deleted`, `LockedOut`).
    pub capability_status: Option<String>,
    /// The `servicePlanName` of each service plan.
    pub service_plans: Vec<String>,
}

/// The credential check of one existing sync configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CredentialCheck {
    /// The configuration's name (the spec's `name`).
    pub name: String,
    /// The target tenant's alias.
    pub to: Alias,
    /// `Found(())` when Graph accepted the credentials; `Found` of nothing to check is
    /// [`CredentialCheck::absent`].
    pub outcome: Read<()>,
    /// Whether the configuration does not exist yet (then nothing was validated).
    pub absent: bool,
}

/// Everything `doctor` read in one tenant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TenantReadings {
    /// The tenant's alias.
    pub alias: Alias,
    /// Its id.
    pub tenant_id: TenantId,
    /// The token's application permissions (`roles`); `Found(None)` when the token could not
    /// be decoded; `Failed` when sign-in failed.
    pub sign_in: Read<Option<Vec<String>>>,
    /// `GET /subscribedSkus`.
    pub skus: Read<Vec<SkuObservation>>,
    /// The organization the tenant sees, with its members; `Found(None)` when it has none.
    pub organization: Read<Option<OrganizationObservation>>,
    /// The default cross-tenant access settings.
    pub default_settings: Read<PartnerSettingsObservation>,
    /// The partner configurations for the spec's other tenants, by their tenant id (one the
    /// tenant does not have is absent): their own B2B settings override the defaults.
    pub partners: Read<BTreeMap<TenantId, PartnerSettingsObservation>>,
    /// Each sync of the spec out of this tenant, in spec order.
    pub credentials: Vec<CredentialCheck>,
}
