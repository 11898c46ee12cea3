//! `GET /auditLogs/provisioning`: provisioning logs of the caller's tenant
//! (newest first), with what `provisioningobjectsummary-list` documents — `$filter` (`eq`,
//! `contains`, `gt`, `lt`, case-sensitive), `$orderby` (`activityDateTime`), `$top`,
//! `$skiptoken` paging — and `$select`, and the identity-reports rate limit of 5 requests
//! per 10 s per app and tenant.

use super::{Ctx, GraphRequest, GraphResponse};
use crate::core::Core;
use crate::errors::{GraphError, GraphResult};
use crate::odata::{Dialect, PageSpec, QueryOptions, page};

/// Route `/auditLogs/...`.
pub fn route(
    core: &mut Core,
    ctx: &Ctx,
    req: &GraphRequest,
    rest: &[&str],
) -> GraphResult<GraphResponse> {
    match (req.method.as_str(), rest) {
        ("GET", ["provisioning"]) => {}
        (_, ["provisioning"]) => return Err(GraphError::method_not_allowed()),
        _ => {
            return Err(GraphError::unknown_segment(
                rest.last().copied().unwrap_or("auditLogs"),
            ));
        }
    }
    // The reference's table asks for both (graph-facts.md).
    ctx.require(&["AuditLog.Read.All"])?;
    ctx.require(&["Directory.Read.All", "Directory.ReadWrite.All"])?;
    let now = core.now();
    let window = core.scaled_ms(10.0);
    if let Some(wait) = core
        .throttle
        .report_call(&ctx.app_id, &ctx.tenant, now, window)
    {
        return Err(GraphError::new(
            429,
            "TooManyRequests",
            "Identity reports are limited to 5 requests per 10 seconds.",
        )
        .with_header("Retry-After", crate::http::retry_after_value(wait)));
    }
    let opts = QueryOptions::parse_for(&req.query, req.eventual(), Dialect::ProvisioningLogs)?;
    let items = crate::provisioning_log::entries(&core.state, &ctx.tenant)
        .into_iter()
        .filter_map(|v| v.as_object().cloned())
        .collect();
    let spec = PageSpec {
        context: "auditLogs/provisioning",
        self_url: format!("{}/auditLogs/provisioning", ctx.base_url),
        query: &req.query,
        default_top: 50,
        defaults: None,
        version: &ctx.version,
    };
    Ok(GraphResponse::json(200, page(items, &opts, &spec)?))
}
