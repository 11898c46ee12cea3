//! Reads of single objects and small collections, as the executor makes them just before it
//! writes (docs graph-reference §1–§6). `collect` reads whole tenants with its own `$batch`
//! requests; their paths are the same constants.
//!
//! Existence checks use lists, never item GETs: a 404 under a path created moments ago reads
//! as replication lag and is retried.

use crate::transport::GraphRequest;
use crate::wire::mto::{JOIN_REQUEST_PATH, MTO_PATH, TENANTS_PATH, member_path};
use crate::wire::policy::{
    IDENTITY_SYNC_TEMPLATE_PATH, PARTNER_TEMPLATE_PATH, PARTNERS_WITH_SYNC_PATH,
    identity_sync_path, partner_path,
};
use crate::wire::sync::{assignments_path, jobs_path, schema_path, service_principals_path};
use crate::wire::{directory, encode_query_value, odata_quote};
use mtoctl_model::ids::TenantId;

/// `GET` the multitenant organization (§1.2).
pub fn get_organization() -> GraphRequest {
    GraphRequest::get(MTO_PATH)
}

/// Lists the organization's members (§2.2).
pub fn list_members() -> GraphRequest {
    GraphRequest::get(TENANTS_PATH)
}

/// `GET` one member of the organization (§2.3); 404 once removed.
pub fn get_member(tenant_id: &TenantId) -> GraphRequest {
    GraphRequest::get(member_path(tenant_id))
}

/// `GET` the acting tenant's join request (§3.2).
pub fn get_join_request() -> GraphRequest {
    GraphRequest::get(JOIN_REQUEST_PATH)
}

/// Lists the partner configurations with their identity sync policies (§4.4).
pub fn list_partners() -> GraphRequest {
    GraphRequest::get(PARTNERS_WITH_SYNC_PATH)
}

/// `GET` a partner configuration (§4.4); 404 when there is none.
pub fn get_partner(partner: &TenantId) -> GraphRequest {
    GraphRequest::get(partner_path(partner))
}

/// `GET` the identity sync policy for a partner (§4.5).
pub fn get_identity_sync(partner: &TenantId) -> GraphRequest {
    GraphRequest::get(identity_sync_path(partner))
}

/// `GET` the partner configuration template (§5.1).
pub fn get_partner_template() -> GraphRequest {
    GraphRequest::get(PARTNER_TEMPLATE_PATH)
}

/// `GET` the identity synchronization template (§5.2).
pub fn get_identity_sync_template() -> GraphRequest {
    GraphRequest::get(IDENTITY_SYNC_TEMPLATE_PATH)
}

/// `GET` the default cross-tenant access settings (§4.3).
pub fn get_default_settings() -> GraphRequest {
    GraphRequest::get(crate::wire::policy::DEFAULT_PATH)
}

/// Lists the tenant's commercial subscriptions (`subscribedsku-list`), with only what
/// `doctor` judges.
pub fn list_subscribed_skus() -> GraphRequest {
    GraphRequest::get(crate::wire::skus::SUBSCRIBED_SKUS_PATH)
}

/// Lists the tenant's sync configurations (service principals of the template).
pub fn list_configurations() -> GraphRequest {
    GraphRequest::get(service_principals_path())
}

/// The applications behind configurations, by app id, with their creation times: which of two
/// same-named configurations is older. `servicePrincipal` declares no `createdDateTime` in
/// v1.0; `application` does (graph-facts.md).
pub fn applications_of(app_ids: &[String]) -> Vec<GraphRequest> {
    app_ids
        .chunks(directory::MAX_IN_VALUES)
        .map(|chunk| {
            let list: Vec<String> = chunk.iter().map(|v| odata_quote(v)).collect();
            GraphRequest::get(format!(
                "/applications?$filter={}&$select=id,appId,createdDateTime&$top=999",
                encode_query_value(&format!("appId in ({})", list.join(",")))
            ))
        })
        .collect()
}

/// Lists the configuration's jobs (§6.5).
pub fn list_jobs(sp: &str) -> GraphRequest {
    GraphRequest::get(jobs_path(sp))
}

/// `GET` one job (§6.5).
pub fn get_job(sp: &str, job: &str) -> GraphRequest {
    GraphRequest::get(format!("{}/{job}", jobs_path(sp)))
}

/// `GET` a job's schema (§6.8).
pub fn get_schema(sp: &str, job: &str) -> GraphRequest {
    GraphRequest::get(schema_path(sp, job))
}

/// `GET` a configuration's settings (`synchronization/secrets`, declared by the v1.0 metadata),
/// so that a write keeps the keys mtoctl does not manage.
pub fn get_sync_secrets(sp: &str) -> GraphRequest {
    GraphRequest::get(format!("/servicePrincipals/{sp}/synchronization/secrets"))
}

/// Lists a configuration's assignments (§6.10).
pub fn list_assignments(sp: &str) -> GraphRequest {
    GraphRequest::get(assignments_path(sp))
}
