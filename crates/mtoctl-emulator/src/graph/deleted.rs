//! Beta only: the recycle area of deleted cross-tenant policy objects,
//! `/policies/deletedItems/crossTenantPartners` and
//! `/policies/deletedItems/crossTenantSyncPolicyPartners` (reference §0, §4.4):
//! list, get, restore and hard delete. A soft-deleted object does not block
//! re-creating one with the same tenant id (unconfirmed in the reference);
//! restoring over a live object is a 409.

use serde_json::{Map, Value, json};

use super::policies::{partner_json, sync_json, tenant, tenant_mut};
use super::{Ctx, GraphRequest, GraphResponse, perms};
use crate::clock::iso;
use crate::core::Core;
use crate::errors::{GraphError, GraphResult};

const PARTNERS: &str = "crossTenantPartners";
const SYNC: &str = "crossTenantSyncPolicyPartners";

/// Route `/policies/deletedItems/...` (beta).
pub fn route(
    core: &mut Core,
    ctx: &Ctx,
    req: &GraphRequest,
    rest: &[&str],
) -> GraphResult<GraphResponse> {
    ctx.require(if req.method == "GET" {
        perms::POLICY_READ
    } else {
        perms::POLICY_WRITE
    })?;
    let m = req.method.as_str();
    match (m, rest) {
        ("GET", [kind]) if *kind == PARTNERS || *kind == SYNC => {
            let t = tenant(core, ctx)?;
            let items: Vec<Map<String, Value>> = if *kind == PARTNERS {
                t.deleted_partners
                    .values()
                    .map(|(p, at)| with_deleted(partner_json(p, &ctx.version), *at))
                    .collect()
            } else {
                t.deleted_sync
                    .values()
                    .map(|(s, at)| with_deleted(sync_json(s, &ctx.version), *at))
                    .collect()
            };
            let opts = req.options()?;
            let spec = crate::odata::PageSpec {
                context: &format!("policies/deletedItems/{kind}"),
                self_url: format!("{}/policies/deletedItems/{kind}", ctx.base_url),
                query: &req.query,
                default_top: 100,
                defaults: None,
                version: &ctx.version,
            };
            Ok(GraphResponse::json(
                200,
                crate::odata::page(items, &opts, &spec)?,
            ))
        }
        ("GET", [kind, id]) if *kind == PARTNERS || *kind == SYNC => {
            let id = id.to_ascii_lowercase();
            let t = tenant(core, ctx)?;
            let m = if *kind == PARTNERS {
                t.deleted_partners
                    .get(&id)
                    .map(|(p, at)| with_deleted(partner_json(p, &ctx.version), *at))
            } else {
                t.deleted_sync
                    .get(&id)
                    .map(|(s, at)| with_deleted(sync_json(s, &ctx.version), *at))
            };
            let m = m.ok_or_else(|| GraphError::not_found(&id))?;
            ctx.entity(&format!("policies/deletedItems/{kind}/$entity"), m, req)
        }
        ("DELETE", [kind, id]) if *kind == PARTNERS || *kind == SYNC => {
            let id = id.to_ascii_lowercase();
            let t = tenant_mut(core, ctx)?;
            let gone = if *kind == PARTNERS {
                t.deleted_partners.remove(&id).is_some()
            } else {
                t.deleted_sync.remove(&id).is_some()
            };
            if !gone {
                return Err(GraphError::not_found(&id));
            }
            core.dirty = true;
            Ok(GraphResponse::no_content())
        }
        ("POST", [kind, id, "restore"]) if *kind == PARTNERS || *kind == SYNC => {
            let id = id.to_ascii_lowercase();
            let t = tenant_mut(core, ctx)?;
            let body = if *kind == PARTNERS {
                if t.partners.contains_key(&id) {
                    return Err(GraphError::conflict(
                        "Another object with the same value for property tenantId already exists.",
                    ));
                }
                let (p, _) = t
                    .deleted_partners
                    .remove(&id)
                    .ok_or_else(|| GraphError::not_found(&id))?;
                let m = partner_json(&p, &ctx.version);
                t.partners.insert(id, p);
                m
            } else {
                if t.identity_sync.contains_key(&id) {
                    return Err(GraphError::conflict(
                        "A conflicting object with one or more of the specified property values is present in the directory.",
                    ));
                }
                if !t.partners.contains_key(&id) {
                    return Err(GraphError::bad_request(format!(
                        "Restore the partner configuration for tenant {id} first."
                    )));
                }
                let (s, _) = t
                    .deleted_sync
                    .remove(&id)
                    .ok_or_else(|| GraphError::not_found(&id))?;
                let m = sync_json(&s, &ctx.version);
                t.identity_sync.insert(id, s);
                m
            };
            core.dirty = true;
            let mut out = Map::new();
            out.insert(
                "@odata.context".into(),
                json!(ctx.context(&format!("policies/deletedItems/{kind}/$entity"))),
            );
            out.extend(body);
            Ok(GraphResponse::json(200, Value::Object(out)))
        }
        _ => Err(GraphError::unknown_segment(
            rest.last().copied().unwrap_or("deletedItems"),
        )),
    }
}

fn with_deleted(mut m: Map<String, Value>, at: i64) -> Map<String, Value> {
    m.insert("deletedDateTime".into(), json!(iso(at)));
    m
}
