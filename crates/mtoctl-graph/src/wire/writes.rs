//! Writes: domain-level request builders with the exact paths and bodies of the wire
//! reference (docs graph-reference §1–§6), and decoders for the ids their answers carry.
//!
//! Inputs are model types and the small value types below, never the planner's: the executor
//! translates plan operations into these calls. PATCH bodies carry only what changes, and the
//! complex values they carry are whole (`automaticUserConsentSettings` always has both
//! members, `inboundTrust` all three).

use mtoctl_model::ids::TenantId;
use mtoctl_model::observed::MemberRole;
use mtoctl_model::spec::document::{Access, FilterOperator, UserType, UserTypeApplies};
use reqwest::Method;
use serde_json::{Map, Value, json};

use super::mto::{JOIN_REQUEST_PATH, MTO_PATH, TENANTS_PATH};
use super::policy::{IDENTITY_SYNC_TEMPLATE_PATH, PARTNER_TEMPLATE_PATH};
use super::sync::{CROSS_TENANT_SYNC_TEMPLATE_ID, ServicePrincipal};
use crate::transport::GraphRequest;

/// The cross-tenant synchronization template id of jobs (`Azure2Azure`).
pub const SYNC_JOB_TEMPLATE_ID: &str = "Azure2Azure";

const PARTNERS_PATH: &str = "/policies/crossTenantAccessPolicy/partners";
const NIL_GUID: &str = "00000000-0000-0000-0000-000000000000";

/// `automaticUserConsentSettings`: both members, `None` written as null (inherit).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsentWrite {
    /// `inboundAllowed`.
    pub inbound: Option<bool>,
    /// `outboundAllowed`.
    pub outbound: Option<bool>,
}

/// `inboundTrust`: all three members, `None` written as null.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustWrite {
    /// `isMfaAccepted`.
    pub mfa: Option<bool>,
    /// `isCompliantDeviceAccepted`.
    pub compliant_device: Option<bool>,
    /// `isHybridAzureADJoinedDeviceAccepted`.
    pub hybrid_joined_device: Option<bool>,
}

/// One access rule: allow or block targets given in the spec's notation (`AllUsers`,
/// `user:<id>`, `group:<id>`, `AllApplications`, `Office365`, an application id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleWrite {
    /// Allowed or blocked.
    pub access: Access,
    /// Targets.
    pub targets: Vec<String>,
}

/// A B2B setting for one direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct B2bWrite {
    /// `usersAndGroups`.
    pub users_and_groups: RuleWrite,
    /// `applications`.
    pub applications: RuleWrite,
}

/// Partner settings to write; absent fields are left out of the body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartnerSettingsWrite {
    /// `automaticUserConsentSettings`.
    pub automatic_user_consent: Option<ConsentWrite>,
    /// `inboundTrust`.
    pub inbound_trust: Option<TrustWrite>,
    /// `b2bCollaborationInbound`.
    pub b2b_collaboration_inbound: Option<B2bWrite>,
    /// `b2bCollaborationOutbound`.
    pub b2b_collaboration_outbound: Option<B2bWrite>,
    /// `b2bDirectConnectInbound`.
    pub b2b_direct_connect_inbound: Option<B2bWrite>,
    /// `b2bDirectConnectOutbound`.
    pub b2b_direct_connect_outbound: Option<B2bWrite>,
}

/// One scoping filter group (clauses AND-ed; groups OR-ed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterGroupWrite {
    /// Label.
    pub name: String,
    /// Clauses: attribute, operator, values.
    pub clauses: Vec<(String, FilterOperator, Vec<String>)>,
}

/// The managed parts of a job schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaWrite {
    /// The constant of the `userType` mapping.
    pub user_type: UserType,
    /// When the `userType` mapping applies.
    pub flow: UserTypeApplies,
    /// Scoping filter groups; empty for none.
    pub filter: Vec<FilterGroupWrite>,
    /// Whether leaving the scope deletes (the `Delete` flow type of the user mapping).
    pub deletes: bool,
}

fn settings_body(s: &PartnerSettingsWrite) -> Map<String, Value> {
    let mut body = Map::new();
    if let Some(c) = &s.automatic_user_consent {
        body.insert(
            "automaticUserConsentSettings".into(),
            json!({"inboundAllowed": c.inbound, "outboundAllowed": c.outbound}),
        );
    }
    if let Some(t) = &s.inbound_trust {
        body.insert(
            "inboundTrust".into(),
            json!({
                "isMfaAccepted": t.mfa,
                "isCompliantDeviceAccepted": t.compliant_device,
                "isHybridAzureADJoinedDeviceAccepted": t.hybrid_joined_device,
            }),
        );
    }
    for (name, value) in [
        ("b2bCollaborationInbound", &s.b2b_collaboration_inbound),
        ("b2bCollaborationOutbound", &s.b2b_collaboration_outbound),
        ("b2bDirectConnectInbound", &s.b2b_direct_connect_inbound),
        ("b2bDirectConnectOutbound", &s.b2b_direct_connect_outbound),
    ] {
        if let Some(b) = value {
            body.insert(
                name.into(),
                json!({
                    "usersAndGroups": rule_body(&b.users_and_groups, false),
                    "applications": rule_body(&b.applications, true),
                }),
            );
        }
    }
    body
}

fn rule_body(rule: &RuleWrite, applications: bool) -> Value {
    let targets: Vec<Value> = rule
        .targets
        .iter()
        .map(|t| {
            let (target, kind) = if let Some(id) = t.strip_prefix("user:") {
                (id, "user")
            } else if let Some(id) = t.strip_prefix("group:") {
                (id, "group")
            } else if applications {
                (t.as_str(), "application")
            } else {
                (t.as_str(), "user")
            };
            json!({"target": target, "targetType": kind})
        })
        .collect();
    let access = match rule.access {
        Access::Allowed => "allowed",
        Access::Blocked => "blocked",
    };
    json!({"accessType": access, "targets": targets})
}

fn application_level(flags: &[String]) -> String {
    if flags.is_empty() {
        "none".to_owned()
    } else {
        flags.join(",")
    }
}

/// `PATCH` the partner configuration template (§5.3).
pub fn patch_partner_template(
    level: Option<&[String]>,
    settings: &PartnerSettingsWrite,
) -> GraphRequest {
    let mut body = settings_body(settings);
    if let Some(flags) = level {
        body.insert(
            "templateApplicationLevel".into(),
            Value::String(application_level(flags)),
        );
    }
    GraphRequest::with_body(Method::PATCH, PARTNER_TEMPLATE_PATH, Value::Object(body))
}

/// `PATCH` the identity synchronization template (§5.3).
pub fn patch_identity_sync_template(
    level: Option<&[String]>,
    is_sync_allowed: Option<bool>,
) -> GraphRequest {
    let mut body = Map::new();
    if let Some(flags) = level {
        body.insert(
            "templateApplicationLevel".into(),
            Value::String(application_level(flags)),
        );
    }
    if let Some(allowed) = is_sync_allowed {
        body.insert("userSyncInbound".into(), json!({"isSyncAllowed": allowed}));
    }
    GraphRequest::with_body(
        Method::PATCH,
        IDENTITY_SYNC_TEMPLATE_PATH,
        Value::Object(body),
    )
}

/// `GET` the multitenant organization (§1.2).
pub fn get_organization() -> GraphRequest {
    GraphRequest::get(MTO_PATH)
}

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

fn member_path(tenant_id: &TenantId) -> String {
    format!("{TENANTS_PATH}/{tenant_id}")
}

/// Lists the organization's members (§2.2). Existence checks use lists, never item GETs: a
/// 404 under a path created moments ago reads as replication lag and is retried.
pub fn list_members() -> GraphRequest {
    GraphRequest::get(TENANTS_PATH)
}

/// Lists the partner configurations with their identity sync policies (§4.4).
pub fn list_partners() -> GraphRequest {
    GraphRequest::get(super::policy::PARTNERS_WITH_SYNC_PATH)
}

/// The item of a [`list_members`] or [`list_partners`] answer whose `tenantId` is this one.
pub fn find_by_tenant_id<'a>(items: &'a [Value], tenant_id: &TenantId) -> Option<&'a Value> {
    items.iter().find(|i| {
        super::tenant_id(i.get("tenantId").and_then(Value::as_str)).as_ref() == Some(tenant_id)
    })
}

/// Whether a partner item of [`list_partners`] has an identity sync policy.
pub fn has_identity_sync(partner: &Value) -> bool {
    partner
        .get("identitySynchronization")
        .is_some_and(|v| v.is_object())
}

/// `GET` one member of the organization (§2.3); 404 once removed.
pub fn get_member(tenant_id: &TenantId) -> GraphRequest {
    GraphRequest::get(member_path(tenant_id))
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

/// `GET` the acting tenant's join request (§3.2).
pub fn get_join_request() -> GraphRequest {
    GraphRequest::get(JOIN_REQUEST_PATH)
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

fn partner_path(partner: &TenantId) -> String {
    format!("{PARTNERS_PATH}/{partner}")
}

/// `GET` a partner configuration (§4.4); 404 when there is none.
pub fn get_partner(partner: &TenantId) -> GraphRequest {
    GraphRequest::get(partner_path(partner))
}

/// `POST` a partner configuration with the settings given (§4.4).
pub fn create_partner(partner: &TenantId, settings: &PartnerSettingsWrite) -> GraphRequest {
    let mut body = settings_body(settings);
    body.insert("tenantId".into(), json!(partner.to_string()));
    GraphRequest::with_body(Method::POST, PARTNERS_PATH, Value::Object(body))
}

/// `PATCH` a partner configuration (§4.4).
pub fn patch_partner(partner: &TenantId, settings: &PartnerSettingsWrite) -> GraphRequest {
    GraphRequest::with_body(
        Method::PATCH,
        partner_path(partner),
        Value::Object(settings_body(settings)),
    )
}

/// `DELETE` a partner configuration (§4.4).
pub fn delete_partner(partner: &TenantId) -> GraphRequest {
    GraphRequest::new(Method::DELETE, partner_path(partner))
}

fn identity_sync_path(partner: &TenantId) -> String {
    format!("{}/identitySynchronization", partner_path(partner))
}

/// `GET` the identity sync policy for a partner (§4.5).
pub fn get_identity_sync(partner: &TenantId) -> GraphRequest {
    GraphRequest::get(identity_sync_path(partner))
}

/// Creates the identity sync policy: a `PUT`, 409 when one exists (§4.5).
pub fn create_identity_sync(
    partner: &TenantId,
    display_name: &str,
    is_sync_allowed: bool,
) -> GraphRequest {
    GraphRequest::with_body(
        Method::PUT,
        identity_sync_path(partner),
        json!({"displayName": display_name, "userSyncInbound": {"isSyncAllowed": is_sync_allowed}}),
    )
}

/// `PATCH` the identity sync policy (§4.5).
pub fn patch_identity_sync(partner: &TenantId, is_sync_allowed: bool) -> GraphRequest {
    GraphRequest::with_body(
        Method::PATCH,
        identity_sync_path(partner),
        json!({"userSyncInbound": {"isSyncAllowed": is_sync_allowed}}),
    )
}

/// `DELETE` the identity sync policy (§4.5).
pub fn delete_identity_sync(partner: &TenantId) -> GraphRequest {
    GraphRequest::new(Method::DELETE, identity_sync_path(partner))
}

/// Instantiates the cross-tenant synchronization application template (§6.2).
pub fn instantiate(display_name: &str) -> GraphRequest {
    GraphRequest::with_body(
        Method::POST,
        format!("/applicationTemplates/{CROSS_TENANT_SYNC_TEMPLATE_ID}/instantiate"),
        json!({"displayName": display_name}),
    )
}

/// Lists the tenant's sync configurations (service principals of the template).
pub fn list_configurations() -> GraphRequest {
    GraphRequest::get(format!(
        "/servicePrincipals?$filter={}&$select=id,appId,displayName,appRoles,applicationTemplateId&$top=999",
        super::encode_query_value(&format!(
            "applicationTemplateId eq '{CROSS_TENANT_SYNC_TEMPLATE_ID}'"
        ))
    ))
}

/// The applications behind configurations, by app id, with their creation times: which of two
/// same-named configurations is older. `servicePrincipal` declares no `createdDateTime` in
/// v1.0; `application` does (graph-facts.md).
pub fn applications_of(app_ids: &[String]) -> Vec<GraphRequest> {
    app_ids
        .chunks(super::directory::MAX_IN_VALUES)
        .map(|chunk| {
            let list: Vec<String> = chunk.iter().map(|v| super::odata_quote(v)).collect();
            GraphRequest::get(format!(
                "/applications?$filter={}&$select=id,appId,createdDateTime&$top=999",
                super::encode_query_value(&format!("appId in ({})", list.join(",")))
            ))
        })
        .collect()
}

/// One item of [`applications_of`]: its app id, object id and creation time.
pub fn decode_application(item: &Value) -> Option<(String, String, Option<String>)> {
    let text = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_owned);
    Some((text("appId")?, text("id")?, text("createdDateTime")))
}

/// `DELETE` an application (its service principal goes with it): undoes an `instantiate`.
pub fn delete_application(application_id: &str) -> GraphRequest {
    GraphRequest::new(Method::DELETE, format!("/applications/{application_id}"))
}

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
    /// `createdDateTime` of the application, when read ([`applications_of`]).
    pub created: Option<String>,
    /// The application's object id, when known (an `instantiate` answer, [`applications_of`]).
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

/// Reads `servicePrincipal` from the answer of [`instantiate`].
pub fn decode_instantiated(body: &Value) -> Option<ConfigurationIds> {
    let sp: ServicePrincipal =
        serde_json::from_value(body.get("servicePrincipal")?.clone()).ok()?;
    Some(ConfigurationIds {
        application_id: body
            .pointer("/application/id")
            .and_then(Value::as_str)
            .map(str::to_owned),
        created: body
            .pointer("/application/createdDateTime")
            .and_then(Value::as_str)
            .map(str::to_owned),
        ..ConfigurationIds::from_service_principal(&sp)
    })
}

/// Reads one item of [`list_configurations`].
pub fn decode_configuration(item: &Value) -> Option<ConfigurationIds> {
    let sp: ServicePrincipal = serde_json::from_value(item.clone()).ok()?;
    Some(ConfigurationIds::from_service_principal(&sp))
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
        format!("{}/validateCredentials", super::sync::jobs_path(sp)),
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
        super::sync::jobs_path(sp),
        json!({"templateId": SYNC_JOB_TEMPLATE_ID}),
    )
}

/// `DELETE` a job: undoes a [`create_job`].
pub fn delete_job(sp: &str, job: &str) -> GraphRequest {
    GraphRequest::new(
        Method::DELETE,
        format!("{}/{job}", super::sync::jobs_path(sp)),
    )
}

/// Lists the configuration's jobs (§6.5).
pub fn list_jobs(sp: &str) -> GraphRequest {
    GraphRequest::get(super::sync::jobs_path(sp))
}

/// The id in a created object's answer (`id`).
pub fn decode_id(body: &Value) -> Option<String> {
    body.get("id").and_then(Value::as_str).map(str::to_owned)
}

/// The settings mtoctl manages in a configuration's secrets; every other key is kept as read.
pub const MANAGED_SECRETS: [&str; 3] = ["AuthenticationType", "CompanyId", "SyncAll"];

/// `GET` a configuration's settings (`synchronization/secrets`, declared by the v1.0 metadata),
/// so that a write keeps the keys mtoctl does not manage.
pub fn get_sync_secrets(sp: &str) -> GraphRequest {
    GraphRequest::get(format!("/servicePrincipals/{sp}/synchronization/secrets"))
}

/// The key/value pairs of a [`get_sync_secrets`] answer; `None` when it is not that shape.
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

/// Writes the configuration's settings (§6.9): every key read with [`get_sync_secrets`]
/// (`current`) as it was, except the ones mtoctl manages, which are set. Whether Graph
/// replaces or merges the set is undocumented, so the write is complete either way: an
/// administrator's `SyncNotificationSettings` survives.
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

/// `GET` a job's schema (§6.8).
pub fn get_schema(sp: &str, job: &str) -> GraphRequest {
    GraphRequest::get(super::sync::schema_path(sp, job))
}

/// `PUT` a job's complete schema back (§6.8), without the instance annotations the `GET`
/// carried (`@odata.context` and the like): a request body holds only declared properties.
pub fn put_schema(sp: &str, job: &str, mut schema: Value) -> GraphRequest {
    strip_annotations(&mut schema);
    GraphRequest::with_body(Method::PUT, super::sync::schema_path(sp, job), schema)
}

/// Removes every instance annotation (`@odata.context`, `name@odata.type`) from `value`, at
/// every depth.
fn strip_annotations(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|k, _| !k.starts_with('@') && !k.contains("@odata."));
            map.values_mut().for_each(strip_annotations);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_annotations),
        _ => {}
    }
}

fn operator_name(op: FilterOperator) -> String {
    // Graph's spellings are upper snake case (`EQUALS`, `NOT_EQUALS`, `IS_TRUE`; §6.8).
    let camel = serde_json::to_value(op)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut out = String::new();
    for c in camel.chars() {
        if c.is_ascii_uppercase() && !out.is_empty() {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// Sets the managed parts of a schema read with [`get_schema`], leaving everything else as
/// read: the user mapping's `userType` constant and flow type, its scoping filter and whether
/// its flow types include `Delete`. Fails when the schema has no user mapping.
pub fn edit_schema(schema: &mut Value, want: &SchemaWrite) -> Result<(), String> {
    let user_type = match want.user_type {
        UserType::Member => "Member",
        UserType::Guest => "Guest",
    };
    let flow = match want.flow {
        UserTypeApplies::Always => "Always",
        UserTypeApplies::OnCreate => "ObjectAddOnly",
    };
    let mappings = schema
        .get_mut("synchronizationRules")
        .and_then(Value::as_array_mut)
        .ok_or("the schema has no synchronizationRules")?
        .iter_mut()
        .filter_map(|r| r.get_mut("objectMappings").and_then(Value::as_array_mut))
        .flatten();
    let mut found = false;
    for mapping in mappings {
        let is_user = mapping
            .get("sourceObjectName")
            .and_then(Value::as_str)
            .is_some_and(|n| n.eq_ignore_ascii_case("User"));
        if !is_user {
            continue;
        }
        found = true;
        let Some(obj) = mapping.as_object_mut() else {
            continue;
        };
        let mut flows = vec!["Add", "Update"];
        if want.deletes {
            flows.push("Delete");
        }
        obj.insert("flowTypes".into(), json!(flows.join(", ")));
        let groups: Vec<Value> = want
            .filter
            .iter()
            .map(|g| {
                json!({
                    "name": g.name,
                    "clauses": g.clauses.iter().map(|(attr, op, values)| json!({
                        "sourceOperandName": attr,
                        "operatorName": operator_name(*op),
                        "targetOperand": {"values": values},
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let scope = obj.entry("scope").or_insert_with(|| json!({}));
        if !scope.is_object() {
            *scope = json!({});
        }
        if let Some(scope) = scope.as_object_mut() {
            scope.insert("groups".into(), Value::Array(groups));
            scope
                .entry("inputFilterGroups")
                .or_insert_with(|| json!([]));
            scope
                .entry("categoryFilterGroups")
                .or_insert_with(|| json!([]));
        }
        let attributes = obj.entry("attributeMappings").or_insert_with(|| json!([]));
        let Some(attributes) = attributes.as_array_mut() else {
            return Err("the user mapping's attributeMappings is not a list".into());
        };
        let wanted = json!({
            "targetAttributeName": "userType",
            "source": {"type": "Constant", "name": user_type, "expression": format!("\"{user_type}\""), "parameters": []},
            "defaultValue": null,
            "flowType": flow,
            "flowBehavior": "FlowWhenChanged",
            "matchingPriority": 0,
            "exportMissingReferences": false,
        });
        match attributes
            .iter_mut()
            .find(|a| a.get("targetAttributeName").and_then(Value::as_str) == Some("userType"))
        {
            Some(existing) => {
                if let Some(e) = existing.as_object_mut() {
                    e.insert("source".into(), wanted["source"].clone());
                    e.insert("flowType".into(), json!(flow));
                }
            }
            None => attributes.push(wanted),
        }
    }
    if found {
        Ok(())
    } else {
        Err("the schema has no user mapping".into())
    }
}

/// Assigns a user or group to a configuration (§6.10).
pub fn assign(sp: &str, principal_id: &str, app_role_id: &str) -> GraphRequest {
    GraphRequest::with_body(
        Method::POST,
        format!("/servicePrincipals/{sp}/appRoleAssignedTo"),
        json!({"principalId": principal_id, "resourceId": sp, "appRoleId": app_role_id}),
    )
}

/// Lists a configuration's assignments (§6.10).
pub fn list_assignments(sp: &str) -> GraphRequest {
    GraphRequest::get(super::sync::assignments_path(sp))
}

/// Reads one item of [`list_assignments`]: its id and principal id.
pub fn decode_assignment(item: &Value) -> Option<(String, String)> {
    Some((
        item.get("id")?.as_str()?.to_owned(),
        item.get("principalId")?.as_str()?.to_ascii_lowercase(),
    ))
}

/// Removes one assignment (§6.10).
pub fn remove_assignment(sp: &str, assignment_id: &str) -> GraphRequest {
    GraphRequest::new(
        Method::DELETE,
        format!("/servicePrincipals/{sp}/appRoleAssignedTo/{assignment_id}"),
    )
}

/// Starts (or resumes) a job (§6.6).
pub fn start_job(sp: &str, job: &str) -> GraphRequest {
    GraphRequest::new(
        Method::POST,
        format!("{}/{job}/start", super::sync::jobs_path(sp)),
    )
}

/// Pauses a job (§6.6).
pub fn pause_job(sp: &str, job: &str) -> GraphRequest {
    GraphRequest::new(
        Method::POST,
        format!("{}/{job}/pause", super::sync::jobs_path(sp)),
    )
}

/// `GET` one job (§6.5).
pub fn get_job(sp: &str, job: &str) -> GraphRequest {
    GraphRequest::get(format!("{}/{job}", super::sync::jobs_path(sp)))
}

/// A job's `schedule.state` (`Active`, `Disabled`, `Paused`) from a job body.
pub fn decode_job_schedule_state(body: &Value) -> Option<String> {
    body.pointer("/schedule/state")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// A member's `state` and pending `transitionDetails.status` (`None` when none).
pub fn decode_member_state(body: &Value) -> (Option<String>, Option<String>, Option<String>) {
    let text = |p: &str| body.pointer(p).and_then(Value::as_str).map(str::to_owned);
    (
        text("/state"),
        text("/role"),
        text("/transitionDetails/status"),
    )
}

/// A join request's `memberState` and `transitionDetails.status`.
pub fn decode_join_request(body: &Value) -> (Option<String>, Option<String>) {
    let text = |p: &str| body.pointer(p).and_then(Value::as_str).map(str::to_owned);
    (text("/memberState"), text("/transitionDetails/status"))
}

/// A partner configuration's `identitySynchronization` (read with [`get_identity_sync`]):
/// `userSyncInbound.isSyncAllowed`.
pub fn decode_identity_sync_allowed(body: &Value) -> Option<bool> {
    body.pointer("/userSyncInbound/isSyncAllowed")
        .and_then(Value::as_bool)
}

/// Single objects read back in their domain form, decoded exactly as `collect` decodes them,
/// so that the executor's fingerprint of a fresh read equals the planner's of the same
/// object. `None` when the object is absent (or not decodable, which `collect` also drops).
pub mod observe {
    use mtoctl_model::ids::TenantId;
    use mtoctl_model::observed::{
        AssignmentObservation, JoinRequestObservation, MemberObservation, OrganizationObservation,
        SyncConfigurationObservation, SyncJobObservation,
    };
    use serde_json::Value;

    use crate::wire::{mto, sync};

    /// The organization's own fields from a [`super::get_organization`] answer (members are
    /// read separately and not included).
    pub fn organization(body: &Value) -> Option<OrganizationObservation> {
        let org: mto::MultiTenantOrganization = serde_json::from_value(body.clone()).ok()?;
        Some(org.observe(Vec::new()))
    }

    /// The member with this tenant id among the items of [`super::list_members`].
    pub fn member(items: &[Value], tenant_id: &TenantId) -> Option<MemberObservation> {
        items
            .iter()
            .filter_map(|i| serde_json::from_value::<mto::Member>(i.clone()).ok())
            .filter_map(mto::Member::observe)
            .find(|m| &m.tenant_id == tenant_id)
    }

    /// A [`super::get_join_request`] answer.
    pub fn join_request(body: &Value) -> Option<JoinRequestObservation> {
        let jr: mto::JoinRequest = serde_json::from_value(body.clone()).ok()?;
        Some(jr.observe())
    }

    /// The configuration with this service principal id among the items of
    /// [`super::list_configurations`], without its jobs and assignments.
    pub fn configuration(items: &[Value], sp: &str) -> Option<SyncConfigurationObservation> {
        items
            .iter()
            .filter_map(|i| serde_json::from_value::<sync::ServicePrincipal>(i.clone()).ok())
            .find(|s| s.id.eq_ignore_ascii_case(sp))
            .map(|s| SyncConfigurationObservation {
                user_app_role_id: s.user_role_id(),
                service_principal_id: s.id,
                app_id: s.app_id,
                display_name: s.display_name.unwrap_or_default(),
                details: None,
            })
    }

    /// A [`super::get_job`] answer, with its [`super::get_schema`] answer when read.
    pub fn job(body: &Value, schema: Option<&Value>) -> Option<SyncJobObservation> {
        let job: sync::Job = serde_json::from_value(body.clone()).ok()?;
        let schema = match schema {
            Some(s) => Some(serde_json::from_value::<sync::Schema>(s.clone()).ok()?),
            None => None,
        };
        Some(job.observe(schema))
    }

    /// The assignment with this id among the items of [`super::list_assignments`].
    pub fn assignment(items: &[Value], id: &str) -> Option<AssignmentObservation> {
        items
            .iter()
            .filter_map(|i| serde_json::from_value::<sync::Assignment>(i.clone()).ok())
            .filter_map(sync::Assignment::observe)
            .find(|a| a.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tid(text: &str) -> TenantId {
        TenantId(mtoctl_model::ids::Guid::parse(text).expect("guid"))
    }

    #[test]
    fn partner_patch_carries_only_what_changes_and_whole_consent() {
        let r = patch_partner(
            &tid("3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11"),
            &PartnerSettingsWrite {
                automatic_user_consent: Some(ConsentWrite {
                    inbound: Some(true),
                    outbound: None,
                }),
                ..Default::default()
            },
        );
        assert_eq!(r.method, Method::PATCH);
        assert_eq!(
            r.path,
            "/policies/crossTenantAccessPolicy/partners/3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11"
        );
        assert_eq!(
            r.body,
            Some(
                json!({"automaticUserConsentSettings": {"inboundAllowed": true, "outboundAllowed": null}})
            )
        );
    }

    #[test]
    fn b2b_targets_are_typed() {
        let s = PartnerSettingsWrite {
            b2b_collaboration_inbound: Some(B2bWrite {
                users_and_groups: RuleWrite {
                    access: Access::Allowed,
                    targets: vec!["group:abc".into(), "AllUsers".into()],
                },
                applications: RuleWrite {
                    access: Access::Blocked,
                    targets: vec!["Office365".into()],
                },
            }),
            ..Default::default()
        };
        let body = settings_body(&s);
        assert_eq!(
            body["b2bCollaborationInbound"],
            json!({
                "usersAndGroups": {"accessType": "allowed", "targets": [
                    {"target": "abc", "targetType": "group"}, {"target": "AllUsers", "targetType": "user"}]},
                "applications": {"accessType": "blocked", "targets": [
                    {"target": "Office365", "targetType": "application"}]}
            })
        );
    }

    #[test]
    fn operators_are_upper_snake_case() {
        assert_eq!(operator_name(FilterOperator::Equals), "EQUALS");
        assert_eq!(operator_name(FilterOperator::NotEquals), "NOT_EQUALS");
        assert_eq!(operator_name(FilterOperator::IsNotNull), "IS_NOT_NULL");
    }

    #[test]
    fn schema_edit_keeps_the_rest() {
        let mut schema = json!({"id": "j", "version": "v1.2", "directories": [{"name": "x"}],
            "synchronizationRules": [{"id": "r", "objectMappings": [
                {"sourceObjectName": "Group", "enabled": false},
                {"sourceObjectName": "User", "flowTypes": "Add, Update, Delete", "attributeMappings": [
                    {"targetAttributeName": "userType", "flowType": "ObjectAddOnly", "matchingPriority": 0,
                     "source": {"type": "Constant", "name": "Member", "expression": "\"Member\"", "parameters": []}},
                    {"targetAttributeName": "mail", "flowType": "Always"}]}]}]});
        edit_schema(
            &mut schema,
            &SchemaWrite {
                user_type: UserType::Guest,
                flow: UserTypeApplies::Always,
                filter: vec![FilterGroupWrite {
                    name: "Sales".into(),
                    clauses: vec![(
                        "department".into(),
                        FilterOperator::Equals,
                        vec!["Sales".into()],
                    )],
                }],
                deletes: false,
            },
        )
        .expect("edits");
        let user = &schema["synchronizationRules"][0]["objectMappings"][1];
        assert_eq!(user["flowTypes"], "Add, Update");
        assert_eq!(user["attributeMappings"][0]["flowType"], "Always");
        assert_eq!(user["attributeMappings"][0]["source"]["name"], "Guest");
        assert_eq!(user["attributeMappings"][1]["targetAttributeName"], "mail");
        assert_eq!(
            user["scope"]["groups"][0]["clauses"][0]["operatorName"],
            "EQUALS"
        );
        assert_eq!(schema["directories"][0]["name"], "x");
    }

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

    #[test]
    fn a_schema_is_put_back_without_the_annotations_its_get_carried() {
        let read = json!({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#x",
            "id": "j", "version": "v1", "directories": [{"name": "d", "objects@odata.type": "t"}],
            "synchronizationRules": []});
        let put = put_schema("sp", "job", read);
        let body = put.body.expect("a body");
        assert_eq!(
            body,
            json!({"id": "j", "version": "v1", "directories": [{"name": "d"}],
                "synchronizationRules": []})
        );
    }
}
