//! Synchronization jobs of a configuration's service principal (reference
//! §6.3–§6.9): templates, secrets, jobs and their actions (start, pause,
//! restart, validateCredentials, provisionOnDemand), schema, filter operators and
//! parseExpression.
//!
//! Here: the routes of `synchronization` itself (templates, secrets, the job list) and the
//! credentials check; `render` shows a job as Graph does, `job` routes one job's actions and
//! schema, `on_demand` provisions one user on demand, `parse_expression` parses (and tries) a
//! mapping's expression.

mod job;
mod on_demand;
mod parse_expression;
mod render;

use serde_json::{Value, json};

use super::sync::{find_sp, find_sp_mut, list, tenant, tenant_mut};
use super::{Ctx, GraphRequest, GraphResponse, check_keys, perms, required_str};
use crate::core::Core;
use crate::errors::{GraphError, GraphResult};
use crate::schema;
use crate::state::Job;
use crate::sync_engine;
use job::job_route;
use render::job_json;

const SECRET_KEYS: &[&str] = &[
    "None",
    "UserName",
    "Password",
    "SecretToken",
    "AppKey",
    "BaseAddress",
    "ClientIdentifier",
    "ClientSecret",
    "SingleSignOnType",
    "Sandbox",
    "Url",
    "Domain",
    "ConsumerKey",
    "ConsumerSecret",
    "TokenKey",
    "TokenExpiration",
    "Oauth2AccessToken",
    "Oauth2AccessTokenCreationTime",
    "Oauth2RefreshToken",
    "SyncAll",
    "InstanceName",
    "Oauth2ClientId",
    "Oauth2ClientSecret",
    "CompanyId",
    "UpdateKeyOnSoftDelete",
    "SynchronizationSchedule",
    "SystemOfRecord",
    "SandboxName",
    "EnforceDomain",
    "SyncNotificationSettings",
    "SkipOutOfScopeDeletions",
    "Oauth2AuthorizationCode",
    "Oauth2RedirectUri",
    "ApplicationTemplateIdentifier",
    "Oauth2TokenExchangeUri",
    "Oauth2AuthorizationUri",
    "AuthenticationType",
    "Server",
    "PerformInboundEntitlementGrants",
    "HardDeletesEnabled",
    "SyncAgentCompatibilityKey",
    "SyncAgentADContainer",
    "ValidateDomain",
    "TestReferences",
    "ConnectionString",
];

/// Route `/servicePrincipals/{id}/synchronization/...`.
pub fn sync_route(
    core: &mut Core,
    ctx: &Ctx,
    req: &GraphRequest,
    sp_id: &str,
    rest: &[&str],
) -> GraphResult<GraphResponse> {
    let now = core.now();
    let m = req.method.as_str();
    ctx.require(if m == "GET" {
        perms::SYNC_READ
    } else {
        perms::SYNC_WRITE
    })?;
    let sp = find_sp(tenant(core, ctx)?, sp_id, now)?;
    // The reference's tables: `Application.ReadWrite.OwnedBy` (least) manages the
    // synchronization of the service principals the caller's app owns; others need
    // `Synchronization.*` (graph-facts.md).
    ctx.require_owned(
        if m == "GET" {
            perms::SYNC_READ_ANY
        } else {
            perms::SYNC_WRITE_ANY
        },
        sp.owner_app_id.as_deref(),
    )?;
    let sp_key = sp.id.clone();
    let app_id = sp.app_id.clone();
    let ctx_prefix = format!("servicePrincipals('{sp_key}')/synchronization");
    match (m, rest) {
        // `applicationId` is not nullable (v1.0 metadata): the application the template belongs to.
        ("GET", ["templates"]) => Ok(GraphResponse::json(
            200,
            json!({
                "@odata.context": ctx.context(&format!("{ctx_prefix}/templates")),
                "value": [{"id": "Azure2Azure", "applicationId": app_id, "default": true, "description": "Azure AD to Azure AD cross-tenant synchronization", "discoverable": true, "factoryTag": "Azure2Azure", "metadata": [], "schema": schema::default_schema("Azure2Azure")}]
            }),
        )),
        ("POST", ["templates", "Azure2Azure", "schema", "parseExpression"]) => {
            parse_expression::parse_expression(ctx, req, &schema::default_schema("Azure2Azure"))
        }
        (_, ["templates", "Azure2Azure", "schema", "parseExpression"]) => {
            Err(GraphError::method_not_allowed())
        }
        (_, ["templates", template, ..]) if *template != "Azure2Azure" => {
            Err(GraphError::not_found(template))
        }
        ("PUT", ["secrets"]) => {
            let body = req.object_body()?;
            let items = body.get("value").and_then(Value::as_array).ok_or_else(|| {
                GraphError::bad_request("Property 'value' (array of key/value pairs) is required.")
            })?;
            let mut secrets = std::collections::BTreeMap::new();
            for it in items {
                let k = it.get("key").and_then(Value::as_str).unwrap_or("");
                let v = it.get("value").and_then(Value::as_str).ok_or_else(|| {
                    GraphError::bad_request(format!("Secret '{k}' needs a string value."))
                })?;
                if !SECRET_KEYS.contains(&k) {
                    return Err(GraphError::bad_request(format!(
                        "'{k}' is not a valid synchronizationSecret key."
                    )));
                }
                secrets.insert(k.to_owned(), v.to_owned());
            }
            // Replaces the whole set (the reference advises always sending it complete).
            find_sp_mut(tenant_mut(core, ctx)?, &sp_key, now)?.secrets = secrets;
            core.dirty = true;
            Ok(GraphResponse::no_content())
        }
        ("GET", ["secrets"]) => {
            // Declared as a property of `synchronization` in the v1.0 metadata; no page documents
            // reading it, and a field report reads it on beta (graph-facts.md). Assumed: values
            // come back as written.
            let s = find_sp(tenant(core, ctx)?, &sp_key, now)?;
            let items: Vec<Value> = s
                .secrets
                .iter()
                .map(|(k, v)| json!({"key": k, "value": v}))
                .collect();
            Ok(GraphResponse::json(
                200,
                json!({
                    "@odata.context": ctx.context(&format!("{ctx_prefix}/secrets")),
                    "value": items,
                }),
            ))
        }
        (_, ["secrets"]) => Err(GraphError::method_not_allowed()),
        ("GET", ["jobs"]) => {
            let interval = core.state.timings.sync_interval;
            let s = find_sp(tenant(core, ctx)?, &sp_key, now)?;
            let items = s.jobs.iter().map(|j| job_json(j, interval)).collect();
            list(ctx, req, items, &format!("{ctx_prefix}/jobs"))
        }
        ("POST", ["jobs"]) => {
            let body = req.object_body()?;
            check_keys(body, &["templateId"], "synchronizationJob")?;
            let template = required_str(body, "templateId")?;
            if template != "Azure2Azure" {
                return Err(GraphError::bad_request(format!(
                    "Template '{template}' is not available for this service principal."
                )));
            }
            let rng = &mut core.state.rng;
            let jid = format!("Azure2Azure.{}.{}", rng.hex(32), rng.hex(32));
            let job = Job {
                id: jid.clone(),
                template_id: "Azure2Azure".into(),
                schedule_state: "Disabled".into(),
                status_code: "Paused".into(),
                quarantine: None,
                last_execution: None,
                last_successful_execution: None,
                last_successful_execution_with_exports: None,
                count_successive_complete_failures: 0,
                steady_first_ms: None,
                steady_last_ms: None,
                schema: schema::default_schema(&jid),
                provisioned: Default::default(),
                provisioned_groups: Default::default(),
                next_cycle_ms: None,
                cycles: 0,
                synchronized_users: 0,
                synchronized_groups: 0,
                watermark: None,
            };
            let body = job_json(&job, core.state.timings.sync_interval);
            find_sp_mut(tenant_mut(core, ctx)?, &sp_key, now)?
                .jobs
                .push(job);
            core.dirty = true;
            Ok(ctx.created(&format!("{ctx_prefix}/jobs/$entity"), body))
        }
        ("POST", ["jobs", "validateCredentials"]) => validate_credentials(core, ctx, req, &sp_key),
        (_, ["jobs", job_id, rest @ ..]) => {
            job_route(core, ctx, req, &sp_key, job_id, rest, &ctx_prefix)
        }
        _ => Err(GraphError::unknown_segment(
            rest.last().copied().unwrap_or("synchronization"),
        )),
    }
}

/// `validateCredentials`: whether the target tenant (the saved `CompanyId`, or the one given)
/// lets this source synchronize into it.
fn validate_credentials(
    core: &mut Core,
    ctx: &Ctx,
    req: &GraphRequest,
    sp: &str,
) -> GraphResult<GraphResponse> {
    let body = req.object_body()?;
    let saved = body
        .get("useSavedCredentials")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let company = if saved {
        sync_engine::target_of(&core.state, &ctx.tenant, sp)
    } else {
        body.get("credentials")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|c| c.get("key").and_then(Value::as_str) == Some("CompanyId"))
            .and_then(|c| c.get("value").and_then(Value::as_str))
            .map(str::to_ascii_lowercase)
    };
    let Some(target) = company else {
        return Err(GraphError::bad_request(
            "The CompanyId credential of the target tenant is required.",
        ));
    };
    match sync_engine::check_policies(&core.state, &ctx.tenant, &target) {
        Ok(()) => Ok(GraphResponse::no_content()),
        Err((code, msg)) => Err(GraphError::new(400, code, msg)),
    }
}
