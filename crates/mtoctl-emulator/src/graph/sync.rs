//! Cross-tenant synchronization plumbing in the source tenant (reference §6):
//! `applicationTemplates/{id}/instantiate`, `applications`, `servicePrincipals`,
//! synchronization jobs and their actions, schema, secrets and
//! `appRoleAssignedTo`. New applications, service principals and assignments
//! become readable only after the configured replication lag.

use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::{Body, Ctx, GraphRequest, GraphResponse, check_keys, perms, required_str};
use crate::clock::iso;
use crate::core::Core;
use crate::errors::{GraphError, GraphResult};
use crate::odata::{PageSpec, page, page_text};
use crate::state::{Application, Assignment, ServicePrincipal, Tenant};

/// Gallery template of cross-tenant synchronization configurations.
pub const CTS_TEMPLATE: &str = "518e5f48-1fc8-4c48-9387-9fdf28b0dfe7";
/// The generic non-gallery application template.
pub const CUSTOM_TEMPLATE: &str = "8adf8e6e-67b2-4cf2-a259-e3dc5476c621";

const SP_PROPS: &[&str] = &[
    "id",
    "appId",
    "displayName",
    "appDisplayName",
    "applicationTemplateId",
    "accountEnabled",
    "appRoleAssignmentRequired",
    "servicePrincipalType",
    "servicePrincipalNames",
    "signInAudience",
    "tags",
    "appRoles",
    "deletedDateTime",
];

/// Route the sync-related resources.
pub fn route(
    core: &mut Core,
    ctx: &Ctx,
    req: &GraphRequest,
    segs: &[&str],
) -> GraphResult<GraphResponse> {
    let m = req.method.as_str();
    match (m, segs) {
        ("POST", ["applicationTemplates", id, "instantiate"]) => {
            ctx.require(perms::APP_WRITE)?;
            instantiate(core, ctx, req, id)
        }
        ("GET", ["applications"]) => {
            ctx.require(perms::APP_READ)?;
            let now = core.now();
            let t = tenant(core, ctx)?;
            let items = t
                .applications
                .iter()
                .filter(|a| a.visible_ms <= now)
                .map(app_json)
                .collect();
            list(ctx, req, items, "applications")
        }
        ("GET", ["applications", id]) => {
            ctx.require(perms::APP_READ)?;
            let now = core.now();
            let t = tenant(core, ctx)?;
            let a = t
                .applications
                .iter()
                .find(|a| a.id == *id && a.visible_ms <= now)
                .ok_or_else(|| GraphError::not_found(id))?;
            ctx.entity("applications/$entity", app_json(a), req)
        }
        ("DELETE", ["applications", id]) => {
            ctx.require(perms::APP_WRITE)?;
            let now = core.now();
            let t = tenant_mut(core, ctx)?;
            let i = t
                .applications
                .iter()
                .position(|a| a.id == *id && a.visible_ms <= now)
                .ok_or_else(|| GraphError::not_found(id))?;
            ctx.require_owned(
                perms::APP_WRITE_ANY,
                t.applications[i].owner_app_id.as_deref(),
            )?;
            let app = t.applications.remove(i);
            // Deleting the application removes its service principal too.
            t.service_principals.retain(|s| s.app_id != app.app_id);
            core.dirty = true;
            Ok(GraphResponse::no_content())
        }
        ("GET", ["servicePrincipals"]) => {
            ctx.require(perms::APP_READ)?;
            let opts = req.options()?;
            check_sp_select(&opts)?;
            let now = core.now();
            let t = tenant(core, ctx)?;
            let items = t
                .service_principals
                .iter()
                .filter(|s| s.visible_ms <= now)
                .map(sp_json)
                .collect();
            list(ctx, req, items, "servicePrincipals")
        }
        (_, ["servicePrincipals", id, rest @ ..]) => sp_route(core, ctx, req, id, rest),
        _ => Err(GraphError::unknown_segment(
            segs.last().copied().unwrap_or(""),
        )),
    }
}

pub(super) fn tenant<'a>(core: &'a Core, ctx: &Ctx) -> GraphResult<&'a Tenant> {
    core.state
        .tenants
        .get(&ctx.tenant)
        .ok_or_else(|| GraphError::unauthorized("Unknown tenant."))
}

pub(super) fn tenant_mut<'a>(core: &'a mut Core, ctx: &Ctx) -> GraphResult<&'a mut Tenant> {
    core.state
        .tenants
        .get_mut(&ctx.tenant)
        .ok_or_else(|| GraphError::unauthorized("Unknown tenant."))
}

pub(super) fn list(
    ctx: &Ctx,
    req: &GraphRequest,
    items: Vec<Map<String, Value>>,
    set: &str,
) -> GraphResult<GraphResponse> {
    let opts = req.options()?;
    Ok(GraphResponse::json(
        200,
        page(items, &opts, &page_spec(ctx, req, set))?,
    ))
}

/// How [`list`] pages a collection of this API: 100 items unless `$top` says, every property
/// unless `$select` says.
fn page_spec<'a>(ctx: &'a Ctx, req: &'a GraphRequest, set: &'a str) -> PageSpec<'a> {
    let path: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    PageSpec {
        context: set,
        self_url: format!("{}/{}", ctx.base_url, path.join("/")),
        query: &req.query,
        default_top: 100,
        defaults: None,
        version: &ctx.version,
    }
}

fn app_json(a: &Application) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(a.id));
    m.insert("appId".into(), json!(a.app_id));
    m.insert(
        "applicationTemplateId".into(),
        json!(a.application_template_id),
    );
    m.insert("displayName".into(), json!(a.display_name));
    m.insert("signInAudience".into(), json!("AzureADMyOrg"));
    m.insert("appRoles".into(), json!(a.app_roles));
    m.insert("createdDateTime".into(), json!(iso(a.created_ms)));
    m.insert("deletedDateTime".into(), Value::Null);
    m.insert(
        "web".into(),
        json!({"homePageUrl": "https://account.activedirectory.windowsazure.com:444/applications/default.aspx?metadata=aad2aadsync|ISV9.1|primary|z", "redirectUris": [], "redirectUriSettings": []}),
    );
    m.insert("oauth2RequirePostResponse".into(), json!(false));
    for k in APP_EMPTY_LISTS {
        m.insert((*k).into(), json!([]));
    }
    m
}

fn sp_json(s: &ServicePrincipal) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(s.id));
    m.insert("appId".into(), json!(s.app_id));
    m.insert("displayName".into(), json!(s.display_name));
    m.insert("appDisplayName".into(), json!(s.display_name));
    m.insert(
        "applicationTemplateId".into(),
        json!(s.application_template_id),
    );
    m.insert("accountEnabled".into(), json!(true));
    m.insert("appRoleAssignmentRequired".into(), json!(true));
    m.insert("servicePrincipalType".into(), json!("Application"));
    m.insert("servicePrincipalNames".into(), json!([s.app_id]));
    m.insert("signInAudience".into(), json!("AzureADMyOrg"));
    m.insert(
        "tags".into(),
        json!(["WindowsAzureActiveDirectoryIntegratedApp"]),
    );
    m.insert("appRoles".into(), json!(s.app_roles));
    m.insert("deletedDateTime".into(), Value::Null);
    // Non-nullable collections of the v1.0 metadata: empty for a gallery app's principal.
    for k in SP_EMPTY_LISTS {
        m.insert((*k).into(), json!([]));
    }
    m
}

/// Refuses a `$select` of a property a service principal's answer does not have.
fn check_sp_select(opts: &crate::odata::QueryOptions) -> GraphResult<()> {
    opts.check_select(&[SP_PROPS, SP_EMPTY_LISTS].concat(), "servicePrincipal")
}

/// The service principal's non-nullable collections (v1.0 metadata) that are empty here.
const SP_EMPTY_LISTS: &[&str] = &[
    "addIns",
    "alternativeNames",
    "keyCredentials",
    "notificationEmailAddresses",
    "oauth2PermissionScopes",
    "passwordCredentials",
    "replyUrls",
    "resourceSpecificApplicationPermissions",
];

/// The application's non-nullable collections (v1.0 metadata) that are empty here.
const APP_EMPTY_LISTS: &[&str] = &[
    "addIns",
    "identifierUris",
    "keyCredentials",
    "managerApplications",
    "passwordCredentials",
    "requiredResourceAccess",
    "tags",
];

fn instantiate(
    core: &mut Core,
    ctx: &Ctx,
    req: &GraphRequest,
    template: &str,
) -> GraphResult<GraphResponse> {
    let template = template.to_ascii_lowercase();
    if template != CTS_TEMPLATE && template != CUSTOM_TEMPLATE {
        return Err(GraphError::not_found(&template));
    }
    let body = req.object_body()?;
    check_keys(
        body,
        &["displayName", "serviceManagementReference"],
        "applicationTemplate",
    )?;
    let name = required_str(body, "displayName")?.to_owned();
    let now = core.now();
    let visible = now + core.scaled_ms(core.state.timings.replication_lag);
    let rng = &mut core.state.rng;
    let (app_obj, app_id, sp_id, role_id) = (rng.guid(), rng.guid(), rng.guid(), rng.guid());
    let roles = if template == CTS_TEMPLATE {
        vec![json!({
            "id": role_id,
            "displayName": "msiam_access",
            "description": "msiam_access",
            "allowedMemberTypes": ["User"],
            "isEnabled": true,
            "value": null,
            "origin": "Application"
        })]
    } else {
        Vec::new()
    };
    let tid = Some(template.clone());
    let app = Application {
        id: app_obj,
        app_id: app_id.clone(),
        display_name: name.clone(),
        application_template_id: tid.clone(),
        app_roles: roles.clone(),
        created_ms: now,
        visible_ms: visible,
        owner_app_id: Some(ctx.app_id.clone()),
    };
    let sp = ServicePrincipal {
        id: sp_id,
        app_id,
        display_name: name,
        application_template_id: tid,
        app_roles: roles,
        created_ms: now,
        visible_ms: visible,
        jobs: Vec::new(),
        secrets: Default::default(),
        assignments: Vec::new(),
        on_demand_calls: Vec::new(),
        owner_app_id: Some(ctx.app_id.clone()),
    };
    let body = json!({
        "@odata.context": ctx.context("microsoft.graph.applicationServicePrincipal"),
        "application": app_json(&app),
        "servicePrincipal": sp_json(&sp),
    });
    let t = tenant_mut(core, ctx)?;
    t.applications.push(app);
    t.service_principals.push(sp);
    core.dirty = true;
    Ok(GraphResponse::json(201, body))
}

pub(super) fn find_sp<'a>(t: &'a Tenant, id: &str, now: i64) -> GraphResult<&'a ServicePrincipal> {
    t.service_principals
        .iter()
        .find(|s| s.id.eq_ignore_ascii_case(id) && s.visible_ms <= now)
        .ok_or_else(|| GraphError::not_found(id))
}

pub(super) fn find_sp_mut<'a>(
    t: &'a mut Tenant,
    id: &str,
    now: i64,
) -> GraphResult<&'a mut ServicePrincipal> {
    t.service_principals
        .iter_mut()
        .find(|s| s.id.eq_ignore_ascii_case(id) && s.visible_ms <= now)
        .ok_or_else(|| GraphError::not_found(id))
}

fn sp_route(
    core: &mut Core,
    ctx: &Ctx,
    req: &GraphRequest,
    id: &str,
    rest: &[&str],
) -> GraphResult<GraphResponse> {
    let now = core.now();
    let m = req.method.as_str();
    match (m, rest) {
        ("GET", []) => {
            ctx.require(perms::APP_READ)?;
            let opts = req.options()?;
            check_sp_select(&opts)?;
            let s = find_sp(tenant(core, ctx)?, id, now)?;
            ctx.entity("servicePrincipals/$entity", sp_json(s), req)
        }
        ("DELETE", []) => {
            ctx.require(perms::APP_WRITE)?;
            let t = tenant_mut(core, ctx)?;
            ctx.require_owned(
                perms::APP_WRITE_ANY,
                find_sp(t, id, now)?.owner_app_id.as_deref(),
            )?;
            t.service_principals
                .retain(|s| !s.id.eq_ignore_ascii_case(id));
            core.dirty = true;
            Ok(GraphResponse::no_content())
        }
        ("GET", ["appRoleAssignedTo"]) => {
            ctx.require(perms::APP_READ)?;
            let s = find_sp(tenant(core, ctx)?, id, now)?;
            // Only what the answer shows or the filter reads is built.
            let opts = req.options().ok();
            let needs = crate::odata::QueryOptions::needs_of(opts.as_ref());
            let set = format!("servicePrincipals('{}')/appRoleAssignedTo", s.id);
            let visible: Vec<&Assignment> = s
                .assignments
                .iter()
                .filter(|a| a.visible_ms <= now)
                .collect();
            // A converged mesh lists some 200,000 assignments at once: written as text, not
            // built as trees, when nothing filters or orders them (the same answer).
            let shown = ASSIGNMENT_PROPERTIES.map(&needs);
            if let Some(text) = opts.as_ref().and_then(|o| {
                page_text(&visible, o, &page_spec(ctx, req, &set), |a, out| {
                    write_assignment(a, &shown, out)
                })
            }) {
                return Ok(GraphResponse {
                    status: 200,
                    headers: Vec::new(),
                    body: Body::JsonText(text),
                });
            }
            let items = visible
                .into_iter()
                .map(|a| assignment_json(a, &needs))
                .collect();
            list(ctx, req, items, &set)
        }
        ("GET", ["appRoleAssignedTo", aid]) => {
            ctx.require(perms::APP_READ)?;
            let s = find_sp(tenant(core, ctx)?, id, now)?;
            let a = s
                .assignments
                .iter()
                .find(|a| a.id == *aid && a.visible_ms <= now)
                .ok_or_else(|| GraphError::not_found(aid))?;
            let opts = req.options().ok();
            let needs = crate::odata::QueryOptions::needs_of(opts.as_ref());
            ctx.entity(
                &format!("servicePrincipals('{}')/appRoleAssignedTo/$entity", s.id),
                assignment_json(a, &needs),
                req,
            )
        }
        ("POST", ["appRoleAssignedTo"]) => {
            // The API reference's permission table: assigning needs the assignment
            // permission and reading the application (graph-facts.md).
            ctx.require(perms::ASSIGN_WRITE)?;
            ctx.require(perms::ASSIGN_APP_READ)?;
            assign(core, ctx, req, id)
        }
        ("DELETE", ["appRoleAssignedTo", aid]) => {
            ctx.require(perms::ASSIGN_WRITE)?;
            let s = find_sp_mut(tenant_mut(core, ctx)?, id, now)?;
            let i = s
                .assignments
                .iter()
                .position(|a| a.id == *aid)
                .ok_or_else(|| GraphError::not_found(aid))?;
            s.assignments.remove(i);
            core.dirty = true;
            Ok(GraphResponse::no_content())
        }
        (_, ["synchronization", rest @ ..]) => super::jobs::sync_route(core, ctx, req, id, rest),
        (_, [] | ["appRoleAssignedTo"] | ["appRoleAssignedTo", _]) => {
            Err(GraphError::method_not_allowed())
        }
        _ => Err(GraphError::unknown_segment(
            rest.last().copied().unwrap_or(""),
        )),
    }
}

/// A property of an assignment as Graph writes it.
enum Prop<'a> {
    Text(&'a str),
    Time(i64),
    Null,
}

/// An assignment's properties, in the order a map of them is written (sorted by name).
const ASSIGNMENT_PROPERTIES: [&str; 9] = [
    "appRoleId",
    "createdDateTime",
    "deletedDateTime",
    "id",
    "principalDisplayName",
    "principalId",
    "principalType",
    "resourceDisplayName",
    "resourceId",
];

/// The values of an assignment's [`ASSIGNMENT_PROPERTIES`], in their order: the one list
/// [`assignment_json`] and [`write_assignment`] both write.
fn assignment_props(a: &Assignment) -> [Prop<'_>; 9] {
    [
        Prop::Text(&a.app_role_id),
        Prop::Time(a.created_ms),
        Prop::Null,
        Prop::Text(&a.id),
        Prop::Text(&a.principal_display_name),
        Prop::Text(&a.principal_id),
        Prop::Text(&a.principal_type),
        Prop::Text(&a.resource_display_name),
        Prop::Text(&a.resource_id),
    ]
}

fn assignment_json(a: &Assignment, needs: impl Fn(&str) -> bool) -> Map<String, Value> {
    let mut p = crate::odata::Props::new(needs);
    for (key, prop) in ASSIGNMENT_PROPERTIES.into_iter().zip(assignment_props(a)) {
        p.put(key, || match prop {
            Prop::Text(s) => Value::String(s.to_owned()),
            Prop::Time(ms) => Value::String(iso(ms)),
            Prop::Null => Value::Null,
        });
    }
    p.into_map()
}

/// [`assignment_json`] written as JSON text, with the properties `shown` says (one flag per
/// name of [`ASSIGNMENT_PROPERTIES`], worked out once per page).
fn write_assignment(a: &Assignment, shown: &[bool; 9], out: &mut Vec<u8>) {
    out.push(b'{');
    let mut first = true;
    let props = ASSIGNMENT_PROPERTIES.into_iter().zip(assignment_props(a));
    for ((key, prop), shown) in props.zip(shown) {
        if !shown {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        // The names are plain ASCII: nothing in them to escape.
        out.push(b'"');
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
        // Writing a string to a Vec cannot fail.
        let _ = match prop {
            Prop::Text(s) => serde_json::to_writer(&mut *out, s),
            Prop::Time(ms) => serde_json::to_writer(&mut *out, &iso(ms)),
            Prop::Null => serde_json::to_writer(&mut *out, &Value::Null),
        };
    }
    out.push(b'}');
}

fn assign(
    core: &mut Core,
    ctx: &Ctx,
    req: &GraphRequest,
    sp_id: &str,
) -> GraphResult<GraphResponse> {
    let body = req.object_body()?;
    check_keys(
        body,
        &["principalId", "resourceId", "appRoleId"],
        "appRoleAssignment",
    )?;
    let principal = required_str(body, "principalId")?.to_ascii_lowercase();
    let resource = required_str(body, "resourceId")?.to_ascii_lowercase();
    let role = required_str(body, "appRoleId")?.to_ascii_lowercase();
    let now = core.now();
    let lag = core.scaled_ms(core.state.timings.replication_lag);
    let mut raw = [0u8; 32];
    raw.copy_from_slice(&core.state.rng.bytes(32));
    let aid = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    let t = tenant_mut(core, ctx)?;
    let (ptype, pname) = if let Some(u) = t
        .users
        .iter()
        .find(|u| u.id == principal && u.deleted_ms.is_none())
    {
        ("User", u.display_name.clone())
    } else if let Some(g) = t.live_group(&principal) {
        ("Group", g.display_name.clone())
    } else {
        return Err(GraphError::not_found(&principal));
    };
    let s = find_sp_mut(t, sp_id, now)?;
    if resource != s.id {
        return Err(GraphError::bad_request(
            "resourceId must be the id of the service principal in the URL.",
        ));
    }
    if !s
        .app_roles
        .iter()
        .any(|r| r.get("id").and_then(Value::as_str) == Some(role.as_str()))
    {
        return Err(GraphError::bad_request(
            "Permission being assigned was not found on application",
        ));
    }
    if s.assignments
        .iter()
        .any(|a| a.principal_id == principal && a.app_role_id == role)
    {
        return Err(GraphError::bad_request(
            "Permission being assigned already exists on the object",
        ));
    }
    let a = Assignment {
        id: aid,
        app_role_id: role,
        principal_id: principal,
        principal_type: ptype.into(),
        principal_display_name: pname,
        resource_id: s.id.clone(),
        resource_display_name: s.display_name.clone(),
        created_ms: now,
        visible_ms: now + lag,
    };
    let suffix = format!("servicePrincipals('{}')/appRoleAssignedTo/$entity", s.id);
    let body = assignment_json(&a, |_| true);
    s.assignments.push(a);
    core.dirty = true;
    Ok(ctx.created(&suffix, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_assignment_written_as_text_is_its_tree_written() {
        let a = Assignment {
            id: "aGVsbG8_d29ybGQ".into(),
            app_role_id: "00000000-0000-0000-0000-000000000000".into(),
            principal_id: "b0000000-0000-4000-8000-000000000001".into(),
            principal_type: "User".into(),
            principal_display_name: "Zoë \"Z\" O'Neil\\\u{7}".into(),
            resource_id: "c0000000-0000-4000-8000-000000000002".into(),
            resource_display_name: "Fabrikam sync".into(),
            created_ms: 1_767_225_752_383,
            visible_ms: 0,
        };
        let selects: [&[&str]; 5] = [
            &[],
            &["id"],
            &["principalId", "ID", "appRoleId"],
            &["createdDateTime", "deletedDateTime", "resourceId"],
            &[
                "principalDisplayName",
                "principalType",
                "resourceDisplayName",
            ],
        ];
        for select in selects {
            let needs = |name: &str| {
                select.is_empty() || select.iter().any(|s| s.eq_ignore_ascii_case(name))
            };
            let mut text = Vec::new();
            write_assignment(&a, &ASSIGNMENT_PROPERTIES.map(needs), &mut text);
            let tree = serde_json::to_vec(&assignment_json(&a, needs)).expect("written");
            assert_eq!(
                String::from_utf8_lossy(&text),
                String::from_utf8_lossy(&tree),
                "select {select:?}"
            );
        }
    }
}
