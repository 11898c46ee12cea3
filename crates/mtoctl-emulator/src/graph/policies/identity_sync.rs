//! Identity synchronization policies of partner configurations.

use serde_json::{Map, Value, json};

use super::{tenant, tenant_mut};
use crate::core::Core;
use crate::errors::{GraphError, GraphResult};
use crate::graph::{Ctx, GraphRequest, GraphResponse, check_keys};
use crate::state::{IdentitySync, Tenant};

/// An identity synchronization policy as Graph renders it.
pub(in crate::graph) fn sync_json(s: &IdentitySync) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("tenantId".into(), json!(s.tenant_id));
    m.insert("displayName".into(), json!(s.display_name));
    m.insert("userSyncInbound".into(), s.user_sync_inbound.clone());
    m
}

/// The identity synchronization policy of partner `id`, or null.
pub(super) fn sync_value(t: &Tenant, id: &str) -> Value {
    t.identity_sync
        .get(id)
        .map(|s| Value::Object(sync_json(s)))
        .unwrap_or(Value::Null)
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
    let allowed = ["tenantId", "displayName", "userSyncInbound"];
    match req.method.as_str() {
        "GET" => {
            let t = tenant(core, ctx)?;
            let s = t
                .identity_sync
                .get(id)
                .ok_or_else(|| GraphError::not_found(id))?;
            ctx.entity(
                &format!("policies/crossTenantAccessPolicy/partners('{id}')/identitySynchronization/$entity"),
                sync_json(s),
                req,
            )
        }
        "PUT" => {
            let body = req.object_body()?;
            check_keys(body, &allowed, "crossTenantIdentitySyncPolicyPartner")?;
            let inbound = parse_sync_inbound(body.get("userSyncInbound"), false)?
                .unwrap_or_else(|| json!({"isSyncAllowed": false}));
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
            t.identity_sync.insert(
                id.to_owned(),
                IdentitySync {
                    tenant_id: id.to_owned(),
                    display_name: name,
                    user_sync_inbound: inbound,
                },
            );
            core.dirty = true;
            Ok(GraphResponse::no_content())
        }
        "PATCH" => {
            let body = req.object_body()?;
            check_keys(body, &allowed, "crossTenantIdentitySyncPolicyPartner")?;
            let inbound = parse_sync_inbound(body.get("userSyncInbound"), false)?;
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
