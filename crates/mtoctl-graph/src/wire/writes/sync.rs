//! Writes of cross-tenant synchronization (§6): configurations (instantiated from the
//! template), jobs, the configuration's secrets and its assignments.

use mtoctl_model::ids::TenantId;
use reqwest::Method;
use serde_json::{Value, json};

use crate::transport::GraphRequest;
use crate::wire::sync::{CROSS_TENANT_SYNC_TEMPLATE_ID, jobs_path};

/// The cross-tenant synchronization template id of jobs (`Azure2Azure`).
pub const SYNC_JOB_TEMPLATE_ID: &str = "Azure2Azure";

/// The settings mtoctl manages in a configuration's secrets; every other key is kept as read.
pub const MANAGED_SECRETS: [&str; 3] = ["AuthenticationType", "CompanyId", "SyncAll"];

/// Instantiates the cross-tenant synchronization application template (§6.2).
pub fn instantiate(display_name: &str) -> GraphRequest {
    GraphRequest::with_body(
        Method::POST,
        format!("/applicationTemplates/{CROSS_TENANT_SYNC_TEMPLATE_ID}/instantiate"),
        json!({"displayName": display_name}),
    )
}

/// `DELETE` a user (to the directory's deleted items for 30 days; the reference's least
/// privilege is `User.ReadWrite.All`).
pub fn delete_user(user_id: &str) -> GraphRequest {
    GraphRequest::new(Method::DELETE, format!("/users/{user_id}"))
}

/// `DELETE` an application (its service principal goes with it): undoes an `instantiate`.
pub fn delete_application(application_id: &str) -> GraphRequest {
    GraphRequest::new(Method::DELETE, format!("/applications/{application_id}"))
}

/// `DELETE` a configuration's service principal, with its jobs (§6.2).
pub fn delete_configuration(service_principal_id: &str) -> GraphRequest {
    GraphRequest::new(
        Method::DELETE,
        format!("/servicePrincipals/{service_principal_id}"),
    )
}

/// Tests the cross-tenant credentials before a job exists (§6.4).
pub fn validate_credentials(sp: &str, target: &TenantId) -> GraphRequest {
    GraphRequest::with_body(
        Method::POST,
        format!("{}/validateCredentials", jobs_path(sp)),
        json!({
            "useSavedCredentials": false,
            "templateId": SYNC_JOB_TEMPLATE_ID,
            "credentials": [
                {"key": "CompanyId", "value": target.to_string()},
                {"key": "AuthenticationType", "value": "SyncPolicy"},
            ],
        }),
    )
}

/// Creates the configuration's job (created paused, §6.5).
pub fn create_job(sp: &str) -> GraphRequest {
    GraphRequest::with_body(
        Method::POST,
        jobs_path(sp),
        json!({"templateId": SYNC_JOB_TEMPLATE_ID}),
    )
}

/// `DELETE` a job: undoes a [`create_job`].
pub fn delete_job(sp: &str, job: &str) -> GraphRequest {
    GraphRequest::new(Method::DELETE, format!("{}/{job}", jobs_path(sp)))
}

/// Starts (or resumes) a job (§6.6).
pub fn start_job(sp: &str, job: &str) -> GraphRequest {
    GraphRequest::new(Method::POST, format!("{}/{job}/start", jobs_path(sp)))
}

/// Pauses a job (§6.6).
pub fn pause_job(sp: &str, job: &str) -> GraphRequest {
    GraphRequest::new(Method::POST, format!("{}/{job}/pause", jobs_path(sp)))
}

/// Writes the configuration's settings (§6.9): every key read with
/// [`crate::wire::reads::get_sync_secrets`] (`current`) as it was, except the ones mtoctl
/// manages, which are set. Whether Graph replaces or merges the set is undocumented, so the
/// write is complete either way: an administrator's `SyncNotificationSettings` survives.
pub fn put_sync_secrets(
    sp: &str,
    target: &TenantId,
    sync_all: bool,
    current: &[(String, String)],
) -> GraphRequest {
    let managed = |k: &str| MANAGED_SECRETS.iter().any(|m| m.eq_ignore_ascii_case(k));
    let mut value: Vec<Value> = current
        .iter()
        .filter(|(k, _)| !managed(k))
        .map(|(k, v)| json!({"key": k, "value": v}))
        .collect();
    value.extend([
        json!({"key": "AuthenticationType", "value": "SyncPolicy"}),
        json!({"key": "CompanyId", "value": target.to_string()}),
        json!({"key": "SyncAll", "value": if sync_all { "true" } else { "false" }}),
    ]);
    GraphRequest::with_body(
        Method::PUT,
        format!("/servicePrincipals/{sp}/synchronization/secrets"),
        json!({ "value": value }),
    )
}

/// Assigns a user or group to a configuration (§6.10).
pub fn assign(sp: &str, principal_id: &str, app_role_id: &str) -> GraphRequest {
    GraphRequest::with_body(
        Method::POST,
        format!("/servicePrincipals/{sp}/appRoleAssignedTo"),
        json!({"principalId": principal_id, "resourceId": sp, "appRoleId": app_role_id}),
    )
}

/// Removes one assignment (§6.10).
pub fn remove_assignment(sp: &str, assignment_id: &str) -> GraphRequest {
    GraphRequest::new(
        Method::DELETE,
        format!("/servicePrincipals/{sp}/appRoleAssignedTo/{assignment_id}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::answers::decode_sync_secrets;

    #[test]
    fn a_settings_write_keeps_every_key_it_does_not_manage() {
        let read = json!({"value": [
            {"key": "SyncNotificationSettings", "value": "{\"Enabled\":true}"},
            {"key": "CompanyId", "value": "old"},
            {"key": "SyncAll", "value": "true"}]});
        let current = decode_sync_secrets(&read).expect("decodes");
        let tenant = TenantId(
            mtoctl_model::ids::Guid::parse("3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11").expect("id"),
        );
        let put = put_sync_secrets("sp", &tenant, false, &current);
        assert_eq!(
            put.body.expect("a body")["value"],
            json!([
                {"key": "SyncNotificationSettings", "value": "{\"Enabled\":true}"},
                {"key": "AuthenticationType", "value": "SyncPolicy"},
                {"key": "CompanyId", "value": "3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11"},
                {"key": "SyncAll", "value": "false"}])
        );
        assert_eq!(decode_sync_secrets(&json!({"value": [{"key": 1}]})), None);
    }
}
