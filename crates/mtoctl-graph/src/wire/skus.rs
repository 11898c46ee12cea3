//! `subscribedSku` (`subscribedsku-list`): a tenant's commercial subscriptions and their
//! service plans.

use mtoctl_model::doctor::SkuObservation;
use serde::Deserialize;

/// The collection.
pub const SUBSCRIBED_SKUS_PATH: &str =
    "/subscribedSkus?$select=skuPartNumber,capabilityStatus,servicePlans";

/// `subscribedSku`, the properties `doctor` reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscribedSku {
    /// `AAD_PREMIUM_P2`.
    pub sku_part_number: Option<String>,
    /// `Enabled`, `Warning`, `Suspended`, …
    pub capability_status: Option<String>,
    /// Its service plans.
    #[serde(default)]
    pub service_plans: Vec<ServicePlanInfo>,
}

/// `servicePlanInfo`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePlanInfo {
    /// `AAD_PREMIUM`.
    pub service_plan_name: Option<String>,
}

impl SubscribedSku {
    /// The domain form.
    pub fn observe(self) -> SkuObservation {
        SkuObservation {
            sku_part_number: self.sku_part_number.unwrap_or_default(),
            capability_status: self.capability_status,
            service_plans: self
                .service_plans
                .into_iter()
                .filter_map(|p| p.service_plan_name)
                .collect(),
        }
    }
}
