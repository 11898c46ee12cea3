//! One synchronization job: read, delete, start, pause, restart; its schema read, replaced,
//! patched, reset; the schema's filter operators and `parseExpression`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::on_demand::provision_on_demand;
use super::parse_expression::parse_expression;
use super::render::job_json;
use super::validate_credentials;
use crate::core::Core;
use crate::errors::{GraphError, GraphResult};
use crate::graph::sync::{find_sp_mut, tenant_mut};
use crate::graph::{Body, Ctx, GraphRequest, GraphResponse};
use crate::schema;
use crate::state::Job;

/// Route `/servicePrincipals/{id}/synchronization/jobs/{jobId}/...`: the job, its actions
/// (start, pause, restart, validateCredentials, provisionOnDemand), its schema and the
/// schema's filter operators and parseExpression.
pub(super) fn job_route(
    core: &mut Core,
    ctx: &Ctx,
    req: &GraphRequest,
    sp: &str,
    job_id: &str,
    rest: &[&str],
    ctx_prefix: &str,
) -> GraphResult<GraphResponse> {
    let now = core.now();
    let first = core.scaled_ms(core.state.timings.sync_first_cycle);
    let m = req.method.as_str();
    match (m, rest) {
        ("GET", []) => {
            let interval = core.state.timings.sync_interval;
            let j = job_json(job_mut(core, &ctx.tenant, sp, job_id, now)?, interval);
            ctx.entity(&format!("{ctx_prefix}/jobs/$entity"), j, req)
        }
        ("DELETE", []) => {
            job_mut(core, &ctx.tenant, sp, job_id, now)?;
            let t = tenant_mut(core, ctx)?;
            find_sp_mut(t, sp, now)?.jobs.retain(|j| j.id != job_id);
            core.dirty = true;
            Ok(GraphResponse::no_content())
        }
        ("POST", ["start"]) => {
            let j = job_mut(core, &ctx.tenant, sp, job_id, now)?;
            if j.schedule_state == "Active" && j.status_code != "Quarantine" {
                return Err(GraphError::bad_request(
                    "The synchronization job is already running; start only a paused, quarantined or never-started job.",
                ));
            }
            j.schedule_state = "Active".into();
            j.quarantine = None;
            j.count_successive_complete_failures = 0;
            j.status_code = if j.cycles == 0 { "NotRun" } else { "Active" }.into();
            j.next_cycle_ms = Some(now + first);
            core.dirty = true;
            Ok(GraphResponse::no_content())
        }
        ("POST", ["pause"]) => {
            let j = job_mut(core, &ctx.tenant, sp, job_id, now)?;
            j.schedule_state = "Paused".into();
            j.status_code = "Paused".into();
            j.next_cycle_ms = None;
            core.dirty = true;
            Ok(GraphResponse::no_content())
        }
        ("POST", ["restart"]) => {
            let scope = req
                .body
                .as_ref()
                .and_then(|b| b.get("criteria"))
                .and_then(|c| c.get("resetScope"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            for tok in scope.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                if ![
                    "None",
                    "ConnectorDataStore",
                    "Escrows",
                    "Watermark",
                    "QuarantineState",
                    "Full",
                    "ForceDeletes",
                ]
                .contains(&tok)
                {
                    return Err(GraphError::bad_request(format!(
                        "Invalid resetScope value '{tok}'."
                    )));
                }
            }
            // Without criteria a restart is the portal's "Restart provisioning" (quarantine,
            // watermark and escrows, graph-reference §6.6): the next cycle is a full one, as it
            // is when the watermark is reset by name.
            let full = scope.trim().is_empty()
                || scope
                    .split(',')
                    .any(|t| matches!(t.trim(), "Watermark" | "Full"));
            let j = job_mut(core, &ctx.tenant, sp, job_id, now)?;
            if full {
                j.watermark = None;
            }
            j.quarantine = None;
            j.count_successive_complete_failures = 0;
            j.schedule_state = "Active".into();
            j.status_code = "NotRun".into();
            j.next_cycle_ms = Some(now + first);
            core.dirty = true;
            Ok(GraphResponse::no_content())
        }
        ("POST", ["validateCredentials"]) => validate_credentials(core, ctx, req, sp),
        ("POST", ["provisionOnDemand"]) => provision_on_demand(core, ctx, req, sp, job_id),
        ("GET", ["schema"]) => {
            let context = ctx.context(&format!("{ctx_prefix}/jobs('{job_id}')/schema/$entity"));
            // Written from the job's own tree: a schema is tens of kilobytes, and a converged
            // mesh reads hundreds of them at once.
            let schema = &job_mut(core, &ctx.tenant, sp, job_id, now)?.schema;
            Ok(GraphResponse {
                status: 200,
                headers: Vec::new(),
                body: Body::JsonText(with_context(&context, schema)),
            })
        }
        ("PUT", ["schema"]) => {
            let body = req
                .body
                .clone()
                .filter(Value::is_object)
                .ok_or_else(|| GraphError::bad_request("A schema object is required."))?;
            schema::validate(&body)?;
            set_schema(
                job_mut(core, &ctx.tenant, sp, job_id, now)?,
                body,
                now + first,
            );
            core.dirty = true;
            Ok(GraphResponse::no_content())
        }
        ("PATCH", ["schema"]) => {
            // Not in the API reference (PUT only), but the v1.0 metadata puts no update
            // restriction on the schema and Microsoft's Python SDK sends PATCH for schema updates:
            // an OData PATCH, replacing the top-level properties given (docs/emulator.md).
            let patch = req
                .body
                .as_ref()
                .and_then(Value::as_object)
                .ok_or_else(|| GraphError::bad_request("A schema object is required."))?;
            let j = job_mut(core, &ctx.tenant, sp, job_id, now)?;
            let mut merged = j.schema.clone();
            if let Some(o) = merged.as_object_mut() {
                for (k, v) in patch.iter().filter(|(k, _)| !k.starts_with('@')) {
                    o.insert(k.clone(), v.clone());
                }
            }
            schema::validate(&merged)?;
            set_schema(j, merged, now + first);
            core.dirty = true;
            Ok(GraphResponse::no_content())
        }
        ("DELETE", ["schema"]) => {
            // "Delete the customized schema and resets the schema to the default configuration."
            let j = job_mut(core, &ctx.tenant, sp, job_id, now)?;
            set_schema(j, schema::default_schema(job_id), now + first);
            core.dirty = true;
            Ok(GraphResponse::no_content())
        }
        ("POST", ["schema", "parseExpression"]) => {
            let schema = job_mut(core, &ctx.tenant, sp, job_id, now)?.schema.clone();
            parse_expression(ctx, req, &schema)
        }
        ("GET", ["schema", "filterOperators"]) => {
            job_mut(core, &ctx.tenant, sp, job_id, now)?;
            let ops: Vec<Value> = schema::OPERATORS
                .iter()
                // `id` is the metadata's key; `name` is what the API reference's example shows
                // (docs/emulator.md, "Where answers depart from the v1.0 metadata").
                .map(|o| json!({"id": o, "name": o, "arity": if o.starts_with("IS_") { "Unary" } else { "Binary" }, "multivaluedComparisonType": "All", "supportedAttributeTypes": ["String", "Boolean", "Integer"]}))
                .collect();
            Ok(GraphResponse::json(200, json!({"value": ops})))
        }
        (
            _,
            []
            | ["schema"]
            | ["start"]
            | ["pause"]
            | ["restart"]
            | ["provisionOnDemand"]
            | ["validateCredentials"]
            | ["schema", "parseExpression"],
        ) => Err(GraphError::method_not_allowed()),
        _ => Err(GraphError::unknown_segment(
            rest.last().copied().unwrap_or(""),
        )),
    }
}

/// Stores a (validated) schema: annotations dropped, the job's id as its id. Editing the schema
/// triggers a full re-sync of in-scope objects soon (`cycle_at`) when the job runs.
fn set_schema(j: &mut Job, mut schema: Value, cycle_at: i64) {
    if let Some(o) = schema.as_object_mut() {
        o.retain(|k, _| !k.starts_with('@'));
        o.insert("id".into(), json!(j.id));
    }
    j.schema = schema;
    // "Editing the schema triggers a re-sync of in-scope objects" (graph-reference §6.8).
    j.watermark = None;
    if j.schedule_state == "Active" {
        j.next_cycle_ms = Some(cycle_at);
    }
}

/// The job `job_id` of the service principal `sp` in `tenant`.
pub(super) fn job_mut<'a>(
    core: &'a mut Core,
    tenant: &str,
    sp: &str,
    job_id: &str,
    now: i64,
) -> GraphResult<&'a mut Job> {
    let t = core
        .state
        .tenants
        .get_mut(tenant)
        .ok_or_else(|| GraphError::unauthorized("Unknown tenant."))?;
    find_sp_mut(t, sp, now)?
        .jobs
        .iter_mut()
        .find(|j| j.id == job_id)
        .ok_or_else(|| GraphError::not_found(job_id))
}

/// `entity` written as JSON text with `@odata.context` among its properties, in the place a
/// map of them would put it (an `@odata.context` of its own is kept); a non-object is written
/// as the context alone. Its values are written where they are, not copied.
fn with_context(context: &str, entity: &Value) -> String {
    let context = Value::String(context.to_owned());
    let mut fields: BTreeMap<&str, &Value> = entity
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), v))
        .collect();
    fields.entry("@odata.context").or_insert(&context);
    // Only strings and JSON values are written: nothing that cannot be JSON.
    serde_json::to_string(&fields).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    #[test]
    fn a_schema_written_with_its_context_is_the_tree_written() {
        let context = "https://graph.microsoft.com/v1.0/$metadata#x/schema/$entity";
        let entities = [
            json!({"directories": [{"name": "Azure Active Directory", "objects": []}], "id": "j1", "synchronizationRules": [], "version": "Date:2024-01-01"}),
            json!({"!first": 1, "0": "zero", "\u{e9}t\u{e9}": "quote\" here"}),
            json!({"@odata.context": "its own", "id": "j2"}),
            json!({}),
            json!(null),
        ];
        for entity in entities {
            let mut tree = Map::new();
            tree.insert("@odata.context".into(), json!(context));
            if let Some(o) = entity.clone().as_object_mut() {
                tree.append(o);
            }
            assert_eq!(
                with_context(context, &entity),
                serde_json::to_string(&Value::Object(tree)).expect("written"),
                "{entity}"
            );
        }
    }
}
