//! Identity synchronization policies of partner configurations
//! (`crossTenantIdentitySyncPolicyPartner`).
//!
//! `groupSyncInbound` (`crossTenantGroupSyncInbound {isSyncAllowed}`, "Defines whether groups
//! can be synchronized from a partner tenant") is declared by beta only: the beta resource page
//! and Graph's "What's new" ("January 2026: New in preview only") list it; the v1.0 page, the
//! v1.0 SDKs and the v1.0 metadata (`crates/mtoctl-contract/data/graph-v1.0.json`) do not. So
//! `/beta` answers and accepts it, and `/v1.0` neither shows it nor accepts it (`400`, as for
//! any property a v1.0 type lacks); a v1.0 write leaves a stored value as it is.

use serde_json::{Map, Value, json};

use super::{tenant, tenant_mut};
use crate::core::Core;
use crate::errors::{GraphError, GraphResult};
use crate::graph::{Ctx, GraphRequest, GraphResponse, check_keys};
use crate::state::{IdentitySync, Tenant};

/// The property only beta declares.
const GROUP_SYNC: &str = "groupSyncInbound";

/// An identity synchronization policy as `version` renders it: `groupSyncInbound` on beta only,
/// `null` until set.
pub(in crate::graph) fn sync_json(s: &IdentitySync, version: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("tenantId".into(), json!(s.tenant_id));
    m.insert("displayName".into(), json!(s.display_name));
    m.insert("userSyncInbound".into(), s.user_sync_inbound.clone());
    if version == "beta" {
        m.insert(
            GROUP_SYNC.into(),
            s.group_sync_inbound.clone().unwrap_or(Value::Null),
        );
    }
    m
}

/// The identity synchronization policy of partner `id` as `version` renders it, or null.
pub(super) fn sync_value(t: &Tenant, id: &str, version: &str) -> Value {
    t.identity_sync
        .get(id)
        .map(|s| Value::Object(sync_json(s, version)))
        .unwrap_or(Value::Null)
}

/// The properties a write of `version` may carry.
fn writable(version: &str) -> Vec<&'static str> {
    let mut keys = vec!["tenantId", "displayName", "userSyncInbound"];
    if version == "beta" {
        keys.push(GROUP_SYNC);
    }
    keys
}

/// `groupSyncInbound` of a (beta) body: `None` when not given, `Some(None)` for `null` (unset
/// again), else `{"isSyncAllowed": true|false}` (not null: msgraph-metadata's beta CSDLs declare
/// `crossTenantGroupSyncInbound.isSyncAllowed` `Nullable="false"`).
fn parse_group_sync_inbound(v: Option<&Value>) -> GraphResult<Option<Option<Value>>> {
    match v {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::Object(o)) => match o.get("isSyncAllowed") {
            Some(Value::Bool(b)) if o.len() == 1 => Ok(Some(Some(json!({"isSyncAllowed": b})))),
            _ => Err(GraphError::bad_request(
                "groupSyncInbound must be {\"isSyncAllowed\": true|false}.",
            )),
        },
        Some(_) => Err(GraphError::bad_request(
            "groupSyncInbound must be an object.",
        )),
    }
}

fn parse_sync_inbound(v: Option<&Value>, required: bool) -> GraphResult<Option<Value>> {
    match v {
        None if required => Err(GraphError::bad_request(
            "Property 'userSyncInbound' is required.",
        )),
        None => Ok(None),
        Some(Value::Object(o)) => match o.get("isSyncAllowed") {
            Some(Value::Bool(b)) if o.len() == 1 => Ok(Some(json!({"isSyncAllowed": b}))),
            _ => Err(GraphError::bad_request(
                "userSyncInbound must be {\"isSyncAllowed\": true|false}.",
            )),
        },
        Some(_) => Err(GraphError::bad_request(
            "userSyncInbound must be an object.",
        )),
    }
}

/// Route `/partners/{id}/identitySynchronization`: read, create (PUT), patch, delete.
pub(super) fn identity_sync(
    core: &mut Core,
    ctx: &Ctx,
    req: &GraphRequest,
    id: &str,
) -> GraphResult<GraphResponse> {
    let allowed = writable(&ctx.version);
    match req.method.as_str() {
        "GET" => {
            let t = tenant(core, ctx)?;
            let s = t
                .identity_sync
                .get(id)
                .ok_or_else(|| GraphError::not_found(id))?;
            ctx.entity(
                &format!("policies/crossTenantAccessPolicy/partners('{id}')/identitySynchronization/$entity"),
                sync_json(s, &ctx.version),
                req,
            )
        }
        "PUT" => {
            let body = req.object_body()?;
            check_keys(body, &allowed, "crossTenantIdentitySyncPolicyPartner")?;
            let inbound = parse_sync_inbound(body.get("userSyncInbound"), false)?
                .unwrap_or_else(|| json!({"isSyncAllowed": false}));
            let groups = parse_group_sync_inbound(body.get(GROUP_SYNC))?.flatten();
            let name = body
                .get("displayName")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let t = tenant_mut(core, ctx)?;
            if !t.partners.contains_key(id) {
                return Err(GraphError::not_found(id));
            }
            if t.identity_sync.contains_key(id) {
                return Err(GraphError::conflict(
                    "A conflicting object with one or more of the specified property values is present in the directory.",
                ));
            }
            let mut policy = IdentitySync::new(id, name, inbound);
            policy.group_sync_inbound = groups;
            t.identity_sync.insert(id.to_owned(), policy);
            core.dirty = true;
            Ok(GraphResponse::no_content())
        }
        "PATCH" => {
            let body = req.object_body()?;
            check_keys(body, &allowed, "crossTenantIdentitySyncPolicyPartner")?;
            let inbound = parse_sync_inbound(body.get("userSyncInbound"), false)?;
            let groups = parse_group_sync_inbound(body.get(GROUP_SYNC))?;
            let t = tenant_mut(core, ctx)?;
            let s = t
                .identity_sync
                .get_mut(id)
                .ok_or_else(GraphError::directory_object_not_found)?;
            if let Some(v) = body.get("displayName") {
                s.display_name = v.as_str().map(str::to_owned);
            }
            if let Some(i) = inbound {
                s.user_sync_inbound = i;
            }
            // Absent (always so on v1.0): left as it is.
            if let Some(g) = groups {
                s.group_sync_inbound = g;
            }
            core.dirty = true;
            Ok(GraphResponse::no_content())
        }
        "DELETE" => {
            let now = core.now();
            let t = tenant_mut(core, ctx)?;
            let s = t
                .identity_sync
                .remove(id)
                .ok_or_else(|| GraphError::not_found(id))?;
            t.deleted_sync.insert(id.to_owned(), (s, now));
            core.dirty = true;
            Ok(GraphResponse::no_content())
        }
        _ => Err(GraphError::method_not_allowed()),
    }
}
