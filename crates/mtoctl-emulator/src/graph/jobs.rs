//! Synchronization jobs of a configuration's service principal (reference
//! §6.3–§6.9): templates, secrets, jobs and their actions (start, pause,
//! restart, validateCredentials, provisionOnDemand), schema and filter operators.

use serde_json::{Map, Value, json};

use super::sync::{find_sp, find_sp_mut, list, tenant, tenant_mut};
use super::{Ctx, GraphRequest, GraphResponse, check_keys, perms, required_str};
use crate::clock::iso;
use crate::core::Core;
use crate::errors::{GraphError, GraphResult};
use crate::schema;
use crate::state::Job;
use crate::sync_engine;

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

/// `status.lastExecution`: a started job that has not run yet shows a placeholder, not null
/// (the Entra how-to "Configure cross-tenant synchronization using Microsoft Graph" shows it
/// on a `NotRun` job: state `Failed`, error code `None`, zero counts and times).
fn last_execution(j: &Job) -> Value {
    match &j.last_execution {
        Some(e) => json!(e),
        None if j.status_code == "NotRun" => json!({
            "activityIdentifier": null,
            "countEntitled": 0,
            "countEntitledForProvisioning": 0,
            "countEscrowed": 0,
            "countEscrowedRaw": 0,
            "countExported": 0,
            "countExports": 0,
            "countImported": 0,
            "countImportedDeltas": 0,
            "countImportedReferenceDeltas": 0,
            "state": "Failed",
            "timeBegan": "0001-01-01T00:00:00Z",
            "timeEnded": "0001-01-01T00:00:00Z",
            "error": {"code": "None", "message": "", "tenantActionable": false}
        }),
        None => Value::Null,
    }
}

/// A job as Graph renders it; `interval_secs` is the (virtual) sync interval.
fn job_json(j: &Job, interval_secs: f64) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(j.id));
    m.insert("templateId".into(), json!(j.template_id));
    m.insert(
        "schedule".into(),
        json!({"expiration": null, "interval": crate::clock::iso_duration(interval_secs.round() as i64), "state": j.schedule_state}),
    );
    m.insert(
        "status".into(),
        json!({
            "code": j.status_code,
            "countSuccessiveCompleteFailures": j.count_successive_complete_failures,
            "escrowsPruned": false,
            "lastExecution": last_execution(j),
            "lastSuccessfulExecution": j.last_successful_execution,
            "lastSuccessfulExecutionWithExports": j.last_successful_execution_with_exports,
            "progress": [],
            "quarantine": j.quarantine,
            "steadyStateFirstAchievedTime": j.steady_first_ms.map(iso).unwrap_or_else(|| "0001-01-01T00:00:00Z".into()),
            "steadyStateLastAchievedTime": j.steady_last_ms.map(iso).unwrap_or_else(|| "0001-01-01T00:00:00Z".into()),
            "synchronizedEntryCountByType": if j.cycles > 0 { json!([{"key": "User", "value": j.synchronized_users}]) } else { json!([]) },
            "troubleshootingUrl": null
        }),
    );
    m.insert(
        "synchronizationJobSettings".into(),
        json!([
            {"name": "AzureIngestionAttributeOptimization", "value": "False"},
            {"name": "LookaheadQueryEnabled", "value": "False"},
            {"name": "QuarantineTooManyDeletesThreshold", "value": "500"}
        ]),
    );
    m
}

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
                next_cycle_ms: None,
                cycles: 0,
                synchronized_users: 0,
            };
            let mut out = Map::new();
            out.insert(
                "@odata.context".into(),
                json!(ctx.context(&format!("{ctx_prefix}/jobs/$entity"))),
            );
            out.extend(job_json(&job, core.state.timings.sync_interval));
            find_sp_mut(tenant_mut(core, ctx)?, &sp_key, now)?
                .jobs
                .push(job);
            core.dirty = true;
            Ok(GraphResponse::json(201, Value::Object(out)))
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

fn job_route(
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
            let j = job_mut(core, &ctx.tenant, sp, job_id, now)?;
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
            let mut s = job_mut(core, &ctx.tenant, sp, job_id, now)?.schema.clone();
            let mut out = Map::new();
            out.insert(
                "@odata.context".into(),
                json!(ctx.context(&format!("{ctx_prefix}/jobs('{job_id}')/schema/$entity"))),
            );
            if let Some(o) = s.as_object_mut() {
                out.append(o);
            }
            Ok(GraphResponse::json(200, Value::Object(out)))
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
            | ["validateCredentials"],
        ) => Err(GraphError::method_not_allowed()),
        _ => Err(GraphError::unknown_segment(
            rest.last().copied().unwrap_or(""),
        )),
    }
}

/// Stores a (validated) schema: annotations dropped, the job's id as its id. Editing the schema
/// triggers a re-sync of in-scope objects soon (`cycle_at`) when the job runs.
fn set_schema(j: &mut Job, mut schema: Value, cycle_at: i64) {
    if let Some(o) = schema.as_object_mut() {
        o.retain(|k, _| !k.starts_with('@'));
        o.insert("id".into(), json!(j.id));
    }
    j.schema = schema;
    if j.schedule_state == "Active" {
        j.next_cycle_ms = Some(cycle_at);
    }
}

fn job_mut<'a>(
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

fn provision_on_demand(
    core: &mut Core,
    ctx: &Ctx,
    req: &GraphRequest,
    sp: &str,
    job_id: &str,
) -> GraphResult<GraphResponse> {
    let now = core.now();
    let window = core.scaled_ms(10.0);
    let body = req.object_body()?;
    let param = body
        .get("parameters")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .ok_or_else(|| GraphError::bad_request("Property 'parameters' is required."))?;
    let rule = param.get("ruleId").and_then(Value::as_str).unwrap_or("");
    let subject = param
        .get("subjects")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .ok_or_else(|| GraphError::bad_request("At least one subject is required."))?;
    let object_id = subject
        .get("objectId")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_ascii_lowercase();
    let type_name = subject
        .get("objectTypeName")
        .and_then(Value::as_str)
        .unwrap_or("");
    if type_name != "User" {
        return Err(GraphError::bad_request(
            "Only User subjects can be provisioned on demand for cross-tenant synchronization.",
        ));
    }
    {
        let t = tenant_mut(core, ctx)?;
        let s = find_sp_mut(t, sp, now)?;
        let j = s
            .jobs
            .iter()
            .find(|j| j.id == job_id)
            .ok_or_else(|| GraphError::not_found(job_id))?;
        let rule_ok = j
            .schema
            .get("synchronizationRules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|r| r.get("id").and_then(Value::as_str) == Some(rule));
        if !rule_ok {
            return Err(GraphError::bad_request(format!(
                "Rule '{rule}' was not found in the job schema."
            )));
        }
        // Rate limit: 5 requests per 10 seconds (scaled).
        s.on_demand_calls.retain(|t| now - *t < window);
        if s.on_demand_calls.len() >= 5 {
            let oldest = s.on_demand_calls.first().copied().unwrap_or(now);
            let wait = (oldest + window - now).max(1);
            return Err(GraphError::new(
                429,
                "TooManyRequests",
                "Provision on demand is limited to 5 requests per 10 seconds.",
            )
            .with_header("Retry-After", crate::http::retry_after_value(wait)));
        }
        s.on_demand_calls.push(now);
    }
    let source_user = tenant(core, ctx)?
        .users
        .iter()
        .find(|u| u.id == object_id)
        .cloned();
    let Some(source_user) = source_user else {
        return Err(GraphError::not_found(&object_id));
    };
    let result =
        sync_engine::provision_on_demand(&mut core.state, &ctx.tenant, sp, job_id, &object_id, now);
    core.dirty = true;
    let (status, export_desc, target_id) = match &result {
        Ok(id) => (
            "Success",
            format!(
                "User '{}' was provisioned in the target tenant.",
                source_user.user_principal_name
            ),
            json!(id),
        ),
        Err(why) => ("Skipped", why.clone(), Value::Null),
    };
    let ts = iso(now);
    let value = json!({
        "provisioningSteps": [
            {"name": "EntryImport", "type": "Import", "status": "Success", "description": format!("Retrieved {} from the source system.", source_user.user_principal_name), "timestamp": ts, "details": {}},
            {"name": "EntrySynchronizationScoping", "type": "Scoping", "status": if result.is_ok() { "Success" } else { "Skipped" }, "description": if result.is_ok() { "The user is in scope.".to_owned() } else { export_desc.clone() }, "timestamp": ts, "details": {}},
            {"name": "EntryExportAdd", "type": "Export", "status": status, "description": export_desc, "timestamp": ts, "details": {}}
        ],
        "statusInfo": {"@odata.type": "#microsoft.graph.statusBase", "status": if result.is_ok() { "success" } else { "skipped" }},
        "sourceIdentity": {"id": source_user.id, "displayName": source_user.display_name, "identityType": "User"},
        "targetIdentity": {"id": target_id, "identityType": "User"}
    });
    Ok(GraphResponse::json(
        200,
        json!({
            "@odata.context": ctx.context("microsoft.graph.stringKeyStringValuePair"),
            "key": "Microsoft.Identity.Health.CPP.Common.DataContracts.SyncFabric.StatusInfo",
            "value": value.to_string()
        }),
    ))
}
