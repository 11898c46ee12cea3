//! Decoders of the answers the executor's writes and reads get: the ids a create hands back,
//! the items of the lists it looks in, a job's schedule state, a configuration's settings.

use mtoctl_model::ids::TenantId;
use mtoctl_model::observed::{JoinRequestObservation, Known, MemberObservation};
use serde::Deserialize;
use serde_json::Value;

use super::sync::{ScheduleState, ServicePrincipal};
use super::{known, observe};

/// A sync configuration as created or listed: its service principal id and user role id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigurationIds {
    /// Service principal id.
    pub service_principal_id: String,
    /// The application's app id (client id), which names its application.
    pub app_id: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// The id of the app role whose `allowedMemberTypes` contains `User`.
    pub user_role_id: Option<String>,
    /// `createdDateTime` of the application, when read
    /// ([`super::reads::applications_of`]).
    pub created: Option<String>,
    /// The application's object id, when known (an `instantiate` answer,
    /// [`super::reads::applications_of`]).
    pub application_id: Option<String>,
}

impl ConfigurationIds {
    fn from_service_principal(sp: &ServicePrincipal) -> Self {
        Self {
            service_principal_id: sp.id.clone(),
            app_id: sp.app_id.clone(),
            display_name: sp.display_name.clone(),
            user_role_id: sp.user_role_id(),
            created: None,
            application_id: None,
        }
    }
}

fn text(body: &Value, pointer: &str) -> Option<String> {
    body.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Reads `servicePrincipal` from the answer of [`super::writes::instantiate`].
pub fn decode_instantiated(body: &Value) -> Option<ConfigurationIds> {
    let sp = ServicePrincipal::deserialize(body.get("servicePrincipal")?).ok()?;
    Some(ConfigurationIds {
        application_id: text(body, "/application/id"),
        created: text(body, "/application/createdDateTime"),
        ..ConfigurationIds::from_service_principal(&sp)
    })
}

/// Reads one item of [`super::reads::list_configurations`].
pub fn decode_configuration(item: &Value) -> Option<ConfigurationIds> {
    let sp = ServicePrincipal::deserialize(item).ok()?;
    Some(ConfigurationIds::from_service_principal(&sp))
}

/// The application behind a configuration, as [`super::reads::applications_of`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationIds {
    /// Its app id (client id), which its service principal also carries.
    pub app_id: String,
    /// Its object id.
    pub id: String,
    /// `createdDateTime`.
    pub created: Option<String>,
}

/// One item of [`super::reads::applications_of`].
pub fn decode_application(item: &Value) -> Option<ApplicationIds> {
    Some(ApplicationIds {
        app_id: text(item, "/appId")?,
        id: text(item, "/id")?,
        created: text(item, "/createdDateTime"),
    })
}

/// The id in a created object's answer (`id`).
pub fn decode_id(body: &Value) -> Option<String> {
    text(body, "/id")
}

/// Reads one item of [`super::reads::list_assignments`]: its id and principal id (lower case).
pub fn decode_assignment(item: &Value) -> Option<(String, String)> {
    Some((
        item.get("id")?.as_str()?.to_owned(),
        item.get("principalId")?.as_str()?.to_ascii_lowercase(),
    ))
}

/// The key/value pairs of a [`super::reads::get_sync_secrets`] answer; `None` when it is not
/// that shape.
pub fn decode_sync_secrets(body: &Value) -> Option<Vec<(String, String)>> {
    body.get("value")?
        .as_array()?
        .iter()
        .map(|kv| {
            let key = kv.get("key")?.as_str()?.to_owned();
            let value = match kv.get("value")? {
                Value::Null => String::new(),
                v => v.as_str()?.to_owned(),
            };
            Some((key, value))
        })
        .collect()
}

/// A job's `schedule.state` from a job body (§6.5).
pub fn decode_job_schedule_state(body: &Value) -> Option<Known<ScheduleState>> {
    body.pointer("/schedule/state")
        .and_then(Value::as_str)
        .map(known)
}

/// One member item (§2.1) in its domain form: role, state and the change in flight.
pub fn decode_member_state(body: &Value) -> Option<MemberObservation> {
    observe::member_item(body)
}

/// A join request record (§3.1) in its domain form: state and the join in flight.
pub fn decode_join_request(body: &Value) -> Option<JoinRequestObservation> {
    observe::join_request(body)
}

/// A partner configuration's `identitySynchronization` (read with
/// [`super::reads::get_identity_sync`]): `userSyncInbound.isSyncAllowed`.
pub fn decode_identity_sync_allowed(body: &Value) -> Option<bool> {
    body.pointer("/userSyncInbound/isSyncAllowed")
        .and_then(Value::as_bool)
}

/// The item of a [`super::reads::list_members`] or [`super::reads::list_partners`] answer
/// whose `tenantId` is this one.
pub fn find_by_tenant_id<'a>(items: &'a [Value], tenant_id: &TenantId) -> Option<&'a Value> {
    items.iter().find(|i| {
        super::tenant_id(i.get("tenantId").and_then(Value::as_str)).as_ref() == Some(tenant_id)
    })
}

/// Whether a partner item of [`super::reads::list_partners`] has an identity sync policy.
pub fn has_identity_sync(partner: &Value) -> bool {
    partner
        .get("identitySynchronization")
        .is_some_and(|v| v.is_object())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mtoctl_model::observed::{MemberRole, MemberState, ProcessingStatus};
    use serde_json::json;

    #[test]
    fn states_are_typed_and_unknown_values_kept() {
        let job = json!({"id": "j", "schedule": {"state": "Paused"}});
        assert_eq!(
            decode_job_schedule_state(&job),
            Some(Known::Known(ScheduleState::Paused))
        );
        let job = json!({"id": "j", "schedule": {"state": "Hibernating"}});
        assert_eq!(
            decode_job_schedule_state(&job),
            Some(Known::Unknown("Hibernating".into()))
        );
        let member = json!({"tenantId": "bbbbbbbb-0000-0000-0000-00000000000b", "role": "member",
            "state": "pending", "transitionDetails": {"desiredRole": "owner", "status": "notStarted"}});
        let m = decode_member_state(&member).expect("a member");
        assert!(m.state.is(&MemberState::Pending) && m.role.is(&MemberRole::Member));
        let t = m.transition.expect("in flight");
        assert_eq!(t.desired_role, Some(Known::Known(MemberRole::Owner)));
        assert_eq!(t.status, Some(Known::Known(ProcessingStatus::NotStarted)));
    }

    #[test]
    fn an_instantiate_answer_names_both_objects() {
        let body = json!({
            "application": {"id": "app-object", "createdDateTime": "2024-02-01T10:15:00Z"},
            "servicePrincipal": {"id": "sp", "appId": "client", "displayName": "MTO_Sync_x",
                "appRoles": [{"id": "role", "allowedMemberTypes": ["User"], "isEnabled": true}]}
        });
        let ids = decode_instantiated(&body).expect("ids");
        assert_eq!(ids.service_principal_id, "sp");
        assert_eq!(ids.application_id.as_deref(), Some("app-object"));
        assert_eq!(ids.created.as_deref(), Some("2024-02-01T10:15:00Z"));
        assert_eq!(ids.user_role_id.as_deref(), Some("role"));
        assert_eq!(decode_instantiated(&json!({"application": {}})), None);
    }
}
