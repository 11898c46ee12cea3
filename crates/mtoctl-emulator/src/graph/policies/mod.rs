//! `/policies/crossTenantAccessPolicy`: root, default configuration, partner
//! configurations with their identity synchronization policies, and the two
//! MTO templates (graph-reference §4–§5). Complex values are whole-value
//! replacements on PATCH, as the reference recommends.
//!
//! Here: the routes and the caller's tenant. `root` handles the policy itself and its default
//! configuration, `settings` validates setting values, `partners` the partner configurations,
//! `identity_sync` their identity synchronization policies.

mod identity_sync;
mod partners;
mod root;
mod settings;

use serde_json::{Map, Value, json};

use super::{Ctx, GraphRequest, GraphResponse, perms};
use crate::core::Core;
use crate::errors::{GraphError, GraphResult};
use crate::state::{PartnerTemplate, SyncTemplate, Tenant, service_default_settings};
use identity_sync::{identity_sync, sync_value};
use partners::{create_partner, list_partners, patch_partner};
use root::{default_json, patch_default, patch_root};

pub(super) use identity_sync::sync_json;
pub(super) use partners::partner_json;
pub(super) use settings::validate_setting;

const PARTNER_TPL: &str = "multiTenantOrganizationPartnerConfiguration";
const SYNC_TPL: &str = "multiTenantOrganizationIdentitySynchronization";

/// Route requests under `/policies/crossTenantAccessPolicy`.
pub fn route(
    core: &mut Core,
    ctx: &Ctx,
    req: &GraphRequest,
    rest: &[&str],
) -> GraphResult<GraphResponse> {
    let read = req.method == "GET";
    ctx.require(if read {
        perms::POLICY_READ
    } else {
        perms::POLICY_WRITE
    })?;
    let m = req.method.as_str();
    match (m, rest) {
        ("GET", []) => {
            let t = tenant(core, ctx)?;
            let mut o = Map::new();
            o.insert("id".into(), json!(t.id));
            o.insert("displayName".into(), json!(t.policy.display_name));
            o.insert(
                "allowedCloudEndpoints".into(),
                json!(t.policy.allowed_cloud_endpoints),
            );
            ctx.entity("policies/crossTenantAccessPolicy/$entity", o, req)
        }
        ("PATCH", []) => patch_root(core, ctx, req),
        ("GET", ["default"]) => {
            let t = tenant(core, ctx)?;
            ctx.entity(
                "policies/crossTenantAccessPolicy/default/$entity",
                default_json(t),
                req,
            )
        }
        ("PATCH", ["default"]) => patch_default(core, ctx, req),
        ("POST", ["default", "resetToSystemDefault"]) => {
            let t = tenant_mut(core, ctx)?;
            t.policy.default = service_default_settings();
            t.policy.is_service_default = true;
            core.dirty = true;
            Ok(GraphResponse::no_content())
        }
        ("GET", ["partners"]) => list_partners(core, ctx, req),
        ("POST", ["partners"]) => create_partner(core, ctx, req),
        ("GET", ["partners", id]) => {
            let id = id.to_ascii_lowercase();
            let t = tenant(core, ctx)?;
            let p = t
                .partners
                .get(&id)
                .ok_or_else(|| GraphError::not_found(&id))?;
            let opts = req.options()?;
            let mut m = partner_json(p, &ctx.version);
            if opts.expand.iter().any(|e| e == "identitySynchronization") {
                m.insert(
                    "identitySynchronization".into(),
                    sync_value(t, &id, &ctx.version),
                );
            }
            let sel = opts.select.map(|mut s| {
                if m.contains_key("identitySynchronization") {
                    s.push("identitySynchronization".into());
                }
                s
            });
            let mut out = Map::new();
            out.insert(
                "@odata.context".into(),
                json!(ctx.context("policies/crossTenantAccessPolicy/partners/$entity")),
            );
            out.extend(crate::odata::project(m, sel.as_deref(), None));
            Ok(GraphResponse::json(200, Value::Object(out)))
        }
        ("PATCH", ["partners", id]) => patch_partner(core, ctx, req, id),
        ("DELETE", ["partners", id]) => {
            let id = id.to_ascii_lowercase();
            let t = tenant_mut(core, ctx)?;
            if !t.partners.contains_key(&id) {
                return Err(GraphError::not_found(&id));
            }
            if t.identity_sync.contains_key(&id) {
                return Err(GraphError::bad_request(format!(
                    "The partner configuration for tenant {id} has an identity synchronization policy; delete it first."
                )));
            }
            let now = core.now();
            let t = tenant_mut(core, ctx)?;
            if let Some(p) = t.partners.remove(&id) {
                // Deleted configurations go to the (beta) recycle area.
                t.deleted_partners.insert(id, (p, now));
            }
            core.dirty = true;
            Ok(GraphResponse::no_content())
        }
        (_, ["partners", id, "identitySynchronization"]) => {
            identity_sync(core, ctx, req, &id.to_ascii_lowercase())
        }
        ("GET", ["templates"]) => {
            let t = tenant(core, ctx)?;
            let mut o = Map::new();
            o.insert("id".into(), json!(t.id));
            ctx.entity("policies/crossTenantAccessPolicy/templates/$entity", o, req)
        }
        ("GET", ["templates", PARTNER_TPL]) => {
            let t = tenant(core, ctx)?;
            ctx.entity(
                &format!("policies/crossTenantAccessPolicy/templates/{PARTNER_TPL}/$entity"),
                super::templates::partner_template_json(&t.partner_template),
                req,
            )
        }
        ("GET", ["templates", SYNC_TPL]) => {
            let t = tenant(core, ctx)?;
            ctx.entity(
                &format!("policies/crossTenantAccessPolicy/templates/{SYNC_TPL}/$entity"),
                super::templates::sync_template_json(&t.sync_template),
                req,
            )
        }
        ("PATCH", ["templates", PARTNER_TPL]) => {
            super::templates::patch_partner_template(core, ctx, req)
        }
        ("PATCH", ["templates", SYNC_TPL]) => super::templates::patch_sync_template(core, ctx, req),
        ("POST", ["templates", which, "resetToDefaultSettings"])
            if *which == PARTNER_TPL || *which == SYNC_TPL =>
        {
            let is_partner = *which == PARTNER_TPL;
            let t = tenant_mut(core, ctx)?;
            if is_partner {
                t.partner_template = PartnerTemplate::reset(t.partner_template.id.clone());
            } else {
                t.sync_template = SyncTemplate::reset(t.sync_template.id.clone());
            }
            core.dirty = true;
            Ok(GraphResponse::no_content())
        }
        (_, [] | ["default"] | ["partners"] | ["partners", _] | ["templates", ..]) => {
            Err(GraphError::method_not_allowed())
        }
        _ => Err(GraphError::unknown_segment(
            rest.last().copied().unwrap_or("crossTenantAccessPolicy"),
        )),
    }
}

pub(super) fn tenant<'a>(core: &'a Core, ctx: &Ctx) -> GraphResult<&'a Tenant> {
    core.state
        .tenants
        .get(&ctx.tenant)
        .ok_or_else(|| GraphError::unauthorized("Unknown tenant."))
}

pub(super) fn tenant_mut<'a>(core: &'a mut Core, ctx: &Ctx) -> GraphResult<&'a mut Tenant> {
    core.state
        .tenants
        .get_mut(&ctx.tenant)
        .ok_or_else(|| GraphError::unauthorized("Unknown tenant."))
}
