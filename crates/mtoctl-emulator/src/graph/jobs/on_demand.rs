//! `provisionOnDemand`: provisioning users at once through a job
//! (`synchronization-synchronizationjob-provisionondemand`; the cross-tenant Graph how-to,
//! `cross-tenant-synchronization-configure-graph` step 11).

use serde_json::{Value, json};

use crate::core::Core;
use crate::errors::{GraphError, GraphResult};
use crate::graph::sync::{find_sp_mut, tenant_mut};
use crate::graph::{Ctx, GraphRequest, GraphResponse};
use crate::sync_engine;

/// The `key` of the answer in the cross-tenant how-to's example.
const STATUS_KEY: &str = "Microsoft.Identity.Health.CPP.Common.DataContracts.SyncFabric.StatusInfo";

/// Calls allowed per window ("The rate limit for this API is 5 requests per 10 seconds").
const RATE_LIMIT: usize = 5;

/// One subject to provision: its object id.
struct Subject {
    object_id: String,
}

/// The subjects of a request body: `parameters` (`synchronizationJobApplicationParameters`,
/// each a `ruleId` of the job's schema and `subjects`), every subject a `User` (on-demand
/// provisioning of groups is not supported for cross-tenant synchronization).
fn subjects(body: &serde_json::Map<String, Value>, rules: &[&str]) -> GraphResult<Vec<Subject>> {
    super::super::check_keys(body, &["parameters"], "synchronizationJob")?;
    let params = body
        .get("parameters")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| {
            GraphError::bad_request(
                "Property 'parameters' (a non-empty collection of synchronizationJobApplicationParameters) is required.",
            )
        })?;
    let mut out = Vec::new();
    for p in params {
        let p = p.as_object().ok_or_else(|| {
            GraphError::bad_request(
                "Each parameter must be a synchronizationJobApplicationParameters object.",
            )
        })?;
        super::super::check_keys(
            p,
            &["ruleId", "subjects"],
            "synchronizationJobApplicationParameters",
        )?;
        let rule = super::super::required_str(p, "ruleId")?;
        if !rules.contains(&rule) {
            return Err(GraphError::bad_request(format!(
                "The synchronization rule '{rule}' was not found in the job's schema."
            )));
        }
        let list = p
            .get("subjects")
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty())
            .ok_or_else(|| {
                GraphError::bad_request("Property 'subjects' (a non-empty collection) is required.")
            })?;
        for s in list {
            let s = s.as_object().ok_or_else(|| {
                GraphError::bad_request("Each subject must be a synchronizationJobSubject object.")
            })?;
            super::super::check_keys(
                s,
                &["objectId", "objectTypeName", "links"],
                "synchronizationJobSubject",
            )?;
            let object_id = super::super::required_str(s, "objectId")?;
            let type_name = super::super::required_str(s, "objectTypeName")?;
            if type_name.eq_ignore_ascii_case("Group") {
                return Err(GraphError::bad_request(
                    "On-demand provisioning of groups is not supported for cross-tenant synchronization.",
                ));
            }
            if !type_name.eq_ignore_ascii_case("User") {
                return Err(GraphError::bad_request(format!(
                    "Object type '{type_name}' cannot be provisioned on demand by cross-tenant synchronization; use 'User'."
                )));
            }
            out.push(Subject {
                object_id: object_id.to_ascii_lowercase(),
            });
        }
    }
    Ok(out)
}

/// `provisionOnDemand`: the body checked against the job's rules, rate-limited to five calls
/// per ten (scaled) seconds per configuration, every subject provisioned at once and logged;
/// answered with a `stringKeyStringValuePair` whose `value` is a JSON array of one status per
/// subject.
pub(super) fn provision_on_demand(
    core: &mut Core,
    ctx: &Ctx,
    req: &GraphRequest,
    sp: &str,
    job_id: &str,
) -> GraphResult<GraphResponse> {
    let now = core.now();
    let window = core.scaled_ms(10.0);
    let body = req.object_body()?;
    let subjects = {
        let t = tenant_mut(core, ctx)?;
        let s = find_sp_mut(t, sp, now)?;
        let j = s
            .jobs
            .iter()
            .find(|j| j.id == job_id)
            .ok_or_else(|| GraphError::not_found(job_id))?;
        let rules: Vec<&str> = j
            .schema
            .get("synchronizationRules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| r.get("id").and_then(Value::as_str))
            .collect();
        let subjects = subjects(body, &rules)?;
        s.on_demand_calls.retain(|t| now - *t < window);
        if s.on_demand_calls.len() >= RATE_LIMIT {
            let oldest = s.on_demand_calls.first().copied().unwrap_or(now);
            let wait = (oldest + window - now).max(1);
            return Err(GraphError::new(
                429,
                "TooManyRequests",
                "The rate limit for provisionOnDemand is 5 requests per 10 seconds.",
            )
            .with_header("Retry-After", crate::http::retry_after_value(wait)));
        }
        s.on_demand_calls.push(now);
        subjects
    };
    let mut statuses = Vec::new();
    for subject in &subjects {
        let status = sync_engine::provision_on_demand(
            &mut core.state,
            &ctx.tenant,
            sp,
            job_id,
            &subject.object_id,
            now,
        )
        .ok_or_else(|| GraphError::not_found(&subject.object_id))?;
        core.dirty = true;
        statuses.push(status);
    }
    Ok(GraphResponse::json(
        200,
        json!({
            "@odata.context": ctx.context("microsoft.graph.stringKeyStringValuePair"),
            "key": STATUS_KEY,
            "value": Value::Array(statuses).to_string(),
        }),
    ))
}
