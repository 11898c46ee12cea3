//! `GET /subscribedSkus`: the commercial subscriptions of the caller's tenant
//! (`subscribedsku-list`: application permission `LicenseAssignment.Read.All`, or the higher
//! `Organization.Read.All`, `Organization.ReadWrite.All`, `Directory.Read.All`,
//! `Directory.ReadWrite.All`). A tenant's SKUs are the world file's `skus` (part numbers); the
//! Microsoft Entra ID P1 and P2 SKUs carry their documented ids and service plans, any other
//! part number an invented id and no service plan.

use serde_json::{Map, Value, json};

use super::{Ctx, GraphRequest, GraphResponse};
use crate::core::Core;
use crate::errors::{GraphError, GraphResult};

/// Who may list SKUs (any of).
const SKU_READ: &[&str] = &[
    "LicenseAssignment.Read.All",
    "Organization.Read.All",
    "Organization.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];

/// A service plan: `servicePlanName`, `servicePlanId`.
type Plan = (&'static str, &'static str);

/// Known SKUs: part number, skuId, and service plans, from "Product names and service plan
/// identifiers for licensing".
const KNOWN: &[(&str, &str, &[Plan])] = &[
    (
        "AAD_PREMIUM",
        "078d2b04-f1bd-4111-bbd4-b4b1b354cef4",
        &[("AAD_PREMIUM", "41781fb2-bc02-4b7c-bd55-b576c07bb09d")],
    ),
    (
        "AAD_PREMIUM_P2",
        "84a661c4-e949-4bd2-a560-ed7766fcaf2b",
        &[
            ("AAD_PREMIUM", "41781fb2-bc02-4b7c-bd55-b576c07bb09d"),
            ("AAD_PREMIUM_P2", "eec0eb4f-6444-4f95-aba0-50c24d67f998"),
        ],
    ),
];

/// Route `/subscribedSkus`.
pub fn route(
    core: &mut Core,
    ctx: &Ctx,
    req: &GraphRequest,
    rest: &[&str],
) -> GraphResult<GraphResponse> {
    match (req.method.as_str(), rest) {
        ("GET", []) => {}
        (_, []) => return Err(GraphError::method_not_allowed()),
        _ => {
            return Err(GraphError::unknown_segment(
                rest.last().copied().unwrap_or("subscribedSkus"),
            ));
        }
    }
    ctx.require(SKU_READ)?;
    let opts = req.options()?;
    let tenant = core
        .state
        .tenants
        .get(&ctx.tenant)
        .ok_or_else(|| GraphError::not_found(&ctx.tenant))?;
    let value: Vec<Value> = tenant
        .skus
        .iter()
        .enumerate()
        .map(|(i, part)| {
            Value::Object(crate::odata::project(
                sku_json(&tenant.id, i, part),
                opts.select.as_deref(),
                None,
            ))
        })
        .collect();
    Ok(GraphResponse::json(
        200,
        json!({"@odata.context": ctx.context("subscribedSkus"), "value": value}),
    ))
}

/// One `subscribedSku`: its id is `{tenant id}_{skuId}`, as in the reference's example.
fn sku_json(tenant_id: &str, index: usize, part: &str) -> Map<String, Value> {
    let (sku_id, plans) = match KNOWN.iter().find(|(p, _, _)| p.eq_ignore_ascii_case(part)) {
        Some((_, id, plans)) => ((*id).to_owned(), *plans),
        // An invented, stable id for a SKU the emulator does not know.
        None => (
            format!("00000000-0000-4000-8000-{:012x}", index + 1),
            &[][..],
        ),
    };
    let plans: Vec<Value> = plans
        .iter()
        .map(|(name, id)| {
            json!({"servicePlanId": id, "servicePlanName": name, "provisioningStatus": "Success", "appliesTo": "User"})
        })
        .collect();
    let sku = json!({
        "id": format!("{tenant_id}_{sku_id}"),
        "accountId": tenant_id,
        "accountName": tenant_id,
        "appliesTo": "User",
        "capabilityStatus": "Enabled",
        "consumedUnits": 0,
        "prepaidUnits": {"enabled": 25, "suspended": 0, "warning": 0, "lockedOut": 0},
        "servicePlans": plans,
        "skuId": sku_id,
        "skuPartNumber": part,
        "subscriptionIds": [],
    });
    match sku {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}
