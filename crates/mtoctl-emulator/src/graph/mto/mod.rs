//! `/tenantRelationships/multiTenantOrganization`: the MTO object, its member
//! tenants and the join request (graph-reference §1–§3), with the
//! cross-tenant semantics: one MTO shared by its tenants, each tenant seeing
//! its own object id; joins, role changes and removals that complete
//! asynchronously on the virtual clock; owner rules.
//!
//! Here: the routes and what they share. `organization` handles the MTO object, `members` its
//! member tenants, `join_request` the tenant's join request.

mod join_request;
mod members;
mod organization;

use serde_json::{Map, Value};

use super::{Ctx, GraphRequest, GraphResponse, perms};
use crate::core::Core;
use crate::errors::{GraphError, GraphResult};
use crate::state::{Mto, State};
use join_request::{join_request_json, patch_join_request};
use members::{add_member, change_role, get_member, list_members, remove_member};
use organization::{create_mto, get_mto, update_mto};

/// Route requests under the MTO path.
pub fn route(
    core: &mut Core,
    ctx: &Ctx,
    req: &GraphRequest,
    rest: &[&str],
) -> GraphResult<GraphResponse> {
    match (req.method.as_str(), rest) {
        ("GET", []) => {
            ctx.require(perms::MTO_READ)?;
            get_mto(core, ctx, req)
        }
        ("PUT", []) => {
            ctx.require(perms::MTO_WRITE)?;
            create_mto(core, ctx, req)
        }
        ("PATCH", []) => {
            ctx.require(perms::MTO_WRITE)?;
            update_mto(core, ctx, req)
        }
        ("GET", ["tenants"]) => {
            ctx.require(perms::MTO_READ)?;
            list_members(core, ctx, req)
        }
        ("POST", ["tenants"]) => {
            ctx.require(perms::MTO_WRITE)?;
            add_member(core, ctx, req)
        }
        ("GET", ["tenants", id]) => {
            ctx.require(perms::MTO_READ)?;
            get_member(core, ctx, req, id)
        }
        ("PATCH", ["tenants", id]) => {
            ctx.require(perms::MTO_WRITE)?;
            change_role(core, ctx, req, id)
        }
        ("DELETE", ["tenants", id]) => {
            ctx.require(perms::MTO_WRITE)?;
            remove_member(core, ctx, id)
        }
        ("GET", ["joinRequest"]) => {
            ctx.require(perms::MTO_READ)?;
            let jr = &tenant(&core.state, &ctx.tenant)?.join_request;
            ctx.entity(
                "tenantRelationships/multiTenantOrganization/joinRequest/$entity",
                join_request_json(jr),
                req,
            )
        }
        ("PATCH", ["joinRequest"]) => {
            ctx.require(perms::MTO_WRITE)?;
            patch_join_request(core, ctx, req)
        }
        (_, [] | ["tenants"] | ["tenants", _] | ["joinRequest"]) => {
            Err(GraphError::method_not_allowed())
        }
        _ => Err(GraphError::unknown_segment(
            rest.first().copied().unwrap_or(""),
        )),
    }
}

/// The caller's tenant in the world.
fn tenant<'a>(state: &'a State, id: &str) -> GraphResult<&'a crate::state::Tenant> {
    state.tenants.get(id).ok_or_else(|| {
        GraphError::unauthorized("The tenant of the token is not part of this world.")
    })
}

/// The MTO key of the caller's tenant, when it has one.
fn caller_mto<'a>(state: &'a State, ctx: &Ctx) -> Option<&'a Mto> {
    state.mto_of(&ctx.tenant).and_then(|k| state.mtos.get(k))
}

/// Whether the caller holds only `MultiTenantOrganization.ReadBasic.All`
/// (reference §1.6: then only `displayName`, and `tenantId` for members, are populated).
fn basic_only(ctx: &Ctx) -> bool {
    !ctx.roles.iter().any(|r| {
        r == "MultiTenantOrganization.Read.All" || r == "MultiTenantOrganization.ReadWrite.All"
    })
}

/// Null every property except `keep` (which names the key `id`: it is never null).
fn trim(mut m: Map<String, Value>, keep: &[&str]) -> Map<String, Value> {
    for (k, v) in m.iter_mut() {
        if !keep.contains(&k.as_str()) {
            *v = Value::Null;
        }
    }
    m
}
