//! Writes of the multitenant organization, its members and the join request (§1–§3).

use mtoctl_model::ids::TenantId;
use mtoctl_model::observed::MemberRole;
use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::transport::GraphRequest;
use crate::wire::mto::{JOIN_REQUEST_PATH, MTO_PATH, TENANTS_PATH, member_path};

/// Graph's "no tenant": written to the join request, it resets a failed join (§3.3).
const NIL_GUID: &str = "00000000-0000-0000-0000-000000000000";

/// Creates the multitenant organization: a `PUT` (§1.3).
pub fn create_organization(display_name: &str, description: Option<&str>) -> GraphRequest {
    let mut body = Map::new();
    body.insert("displayName".into(), json!(display_name));
    if let Some(d) = description {
        body.insert("description".into(), json!(d));
    }
    GraphRequest::with_body(Method::PUT, MTO_PATH, Value::Object(body))
}

/// `PATCH` the organization's display name and description (§1.4).
pub fn update_organization(display_name: Option<&str>, description: Option<&str>) -> GraphRequest {
    let mut body = Map::new();
    if let Some(n) = display_name {
        body.insert("displayName".into(), json!(n));
    }
    if let Some(d) = description {
        body.insert("description".into(), json!(d));
    }
    GraphRequest::with_body(Method::PATCH, MTO_PATH, Value::Object(body))
}

fn role_name(role: MemberRole) -> &'static str {
    match role {
        MemberRole::Owner => "owner",
        MemberRole::Member => "member",
    }
}

/// `POST` a tenant into the organization (§2.4).
pub fn add_member(tenant_id: &TenantId, display_name: &str, role: MemberRole) -> GraphRequest {
    GraphRequest::with_body(
        Method::POST,
        TENANTS_PATH,
        json!({"tenantId": tenant_id.to_string(), "displayName": display_name, "role": role_name(role)}),
    )
}

/// `PATCH` a member's role (§2.5).
pub fn change_member_role(tenant_id: &TenantId, role: MemberRole) -> GraphRequest {
    GraphRequest::with_body(
        Method::PATCH,
        member_path(tenant_id),
        json!({"role": role_name(role)}),
    )
}

/// `DELETE` a member (§2.6).
pub fn remove_member(tenant_id: &TenantId) -> GraphRequest {
    GraphRequest::new(Method::DELETE, member_path(tenant_id))
}

/// Submits the join request (§3.3).
pub fn submit_join(owner_tenant_id: &TenantId) -> GraphRequest {
    GraphRequest::with_body(
        Method::PATCH,
        JOIN_REQUEST_PATH,
        json!({"addedByTenantId": owner_tenant_id.to_string()}),
    )
}

/// Resets a failed join request: the all-zero owner (§3.3).
pub fn reset_join() -> GraphRequest {
    GraphRequest::with_body(
        Method::PATCH,
        JOIN_REQUEST_PATH,
        json!({"addedByTenantId": NIL_GUID}),
    )
}
