//! Out-of-band directory edits through the admin API ("drift"): add tenants,
//! add, change and delete users (internal ones, or users synced into a target tenant), add,
//! change and delete groups and change their members (in a source tenant, or groups synced
//! into a target tenant), as an administrator would in the portal. Graph itself
//! stays read-only for users and groups, as in mtoctl's use of it.

use axum::Router;
use axum::extract::{Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, patch, post};
use serde_json::{Value, json};

use crate::Emulator;
use crate::ids::Rng;
use crate::state::{ObjectIdentity, PROFILE_ATTRIBUTES, Tenant};
use crate::world::{
    GroupSpec, TenantSpec, UserSpec, WorldError, add_group, add_user, build_tenant,
};

/// Drift routes under `/_emulator/tenants`.
pub fn routes() -> Router<Emulator> {
    Router::new()
        .route("/_emulator/tenants", post(add_tenant))
        .route("/_emulator/tenants/{tenant}/users", post(create_user))
        .route(
            "/_emulator/tenants/{tenant}/users/{user}",
            patch(update_user).delete(delete_user),
        )
        .route("/_emulator/tenants/{tenant}/groups", post(create_group))
        .route(
            "/_emulator/tenants/{tenant}/groups/{group}",
            patch(update_group).delete(delete_group),
        )
        .route(
            "/_emulator/tenants/{tenant}/groups/{group}/members",
            post(add_member),
        )
        .route(
            "/_emulator/tenants/{tenant}/groups/{group}/members/{user}",
            delete(remove_member),
        )
}

fn err(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, axum::Json(json!({"error": msg.into()}))).into_response()
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("invalid body: {e}"))
}

/// An edit refused: its status and message, answered as `{"error": …}` like [`err`].
struct Refusal(StatusCode, String);

impl Refusal {
    fn bad_request(msg: impl Into<String>) -> Self {
        Self(StatusCode::BAD_REQUEST, msg.into())
    }

    fn not_found(msg: impl Into<String>) -> Self {
        Self(StatusCode::NOT_FOUND, msg.into())
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        err(self.0, self.1)
    }
}

/// The request body as a JSON object, or the 400 to answer.
fn object_body(body: &[u8]) -> Result<serde_json::Map<String, Value>, Refusal> {
    match parse(body) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err(Refusal::bad_request("body must be an object")),
        Err(e) => Err(Refusal::bad_request(e)),
    }
}

/// The tenant `id` (any case), or the 404 to answer.
fn tenant_mut<'a>(core: &'a mut crate::core::Core, id: &str) -> Result<&'a mut Tenant, Refusal> {
    core.state
        .tenants
        .get_mut(&id.to_ascii_lowercase())
        .ok_or_else(|| Refusal::not_found("unknown tenant"))
}

/// Whether `key` names the user `u`: its id or its UPN, in any case.
fn names(u: &crate::state::User, key: &str) -> bool {
    u.id.eq_ignore_ascii_case(key) || u.user_principal_name.eq_ignore_ascii_case(key)
}

/// Saves an edit made under `core`'s lock and answers 204.
fn saved(emu: &Emulator, core: &mut crate::core::Core) -> Result<StatusCode, Refusal> {
    core.dirty = true;
    emu.persist_locked(core);
    Ok(StatusCode::NO_CONTENT)
}

async fn add_tenant(AxState(emu): AxState<Emulator>, body: axum::body::Bytes) -> Response {
    let spec: TenantSpec = match parse(&body) {
        Ok(s) => s,
        Err(e) => return err(StatusCode::BAD_REQUEST, e),
    };
    let mut core = emu.lock();
    let now = core.now();
    let id = spec.id.to_ascii_lowercase();
    if core.state.tenants.contains_key(&id) {
        return err(StatusCode::CONFLICT, format!("tenant {id} already exists"));
    }
    let built = build_tenant(&mut core.state.rng, spec, now);
    match built {
        Ok(t) => {
            core.state.tenants.insert(id.clone(), t);
            core.dirty = true;
            emu.persist_locked(&mut core);
            (StatusCode::CREATED, axum::Json(json!({"id": id}))).into_response()
        }
        Err(e) => err(StatusCode::BAD_REQUEST, e.to_string()),
    }
}

async fn create_user(
    AxState(emu): AxState<Emulator>,
    Path(tenant): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    create_in_tenant::<UserSpec>(&emu, &tenant, &body, add_user)
}

/// Parses a world-file object from `body` and adds it to `tenant` with `add` (a user or a
/// group): 201 with its id, 400 for a bad body, 404 for an unknown tenant.
fn create_in_tenant<S: serde::de::DeserializeOwned>(
    emu: &Emulator,
    tenant: &str,
    body: &[u8],
    add: fn(&mut Tenant, &mut Rng, S, i64) -> Result<String, WorldError>,
) -> Response {
    let spec: S = match parse(body) {
        Ok(s) => s,
        Err(e) => return err(StatusCode::BAD_REQUEST, e),
    };
    let mut core = emu.lock();
    let now = core.now();
    let crate::core::Core { state, .. } = &mut *core;
    let Some(t) = state.tenants.get_mut(&tenant.to_ascii_lowercase()) else {
        return err(StatusCode::NOT_FOUND, "unknown tenant");
    };
    match add(t, &mut state.rng, spec, now) {
        Ok(id) => {
            core.dirty = true;
            emu.persist_locked(&mut core);
            (StatusCode::CREATED, axum::Json(json!({"id": id}))).into_response()
        }
        Err(e) => err(StatusCode::BAD_REQUEST, e.to_string()),
    }
}

/// Body: any of `displayName`, `givenName`, `surname`, `mail`, `department`,
/// `jobTitle` (strings or null), `accountEnabled` (bool), `userType` (`Member`/`Guest`),
/// `showInAddressList` (bool or null), `identities` (a list of `objectIdentity`, each of
/// `signInType`, `issuer`, `issuerAssignedId` strings or null, replacing the user's; null puts
/// back the identities Entra gives it), and the profile attributes
/// ([`PROFILE_ATTRIBUTES`]: `employeeType`, `companyName`, ..., strings or null). Any user,
/// synced in or not: a synced user changed in the target keeps the change until its source
/// user changes (the sync engine's watermark).
async fn update_user(
    AxState(emu): AxState<Emulator>,
    Path((tenant, user)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<StatusCode, Refusal> {
    let obj = object_body(&body)?;
    let mut core = emu.lock();
    let t = tenant_mut(&mut core, &tenant)?;
    let Some(u) = t
        .users
        .iter_mut()
        .find(|u| u.deleted_ms.is_none() && names(u, &user))
    else {
        return Err(Refusal::not_found("unknown user"));
    };
    let mut next = u.clone();
    for (k, val) in &obj {
        let text = || val.as_str().map(str::to_owned);
        match (k.as_str(), val) {
            ("displayName", Value::String(s)) => next.display_name = s.clone(),
            ("givenName", _) if val.is_string() || val.is_null() => next.given_name = text(),
            ("surname", _) if val.is_string() || val.is_null() => next.surname = text(),
            ("mail", _) if val.is_string() || val.is_null() => next.mail = text(),
            ("department", _) if val.is_string() || val.is_null() => next.department = text(),
            ("jobTitle", _) if val.is_string() || val.is_null() => next.job_title = text(),
            ("accountEnabled", Value::Bool(b)) => next.account_enabled = *b,
            ("userType", Value::String(s)) if s == "Member" || s == "Guest" => {
                next.user_type = s.clone()
            }
            (k, _) if PROFILE_ATTRIBUTES.contains(&k) && (val.is_string() || val.is_null()) => {
                match text() {
                    Some(v) => next.profile.insert(k.to_owned(), v),
                    None => next.profile.remove(k),
                };
            }
            ("showInAddressList", Value::Bool(b)) => next.show_in_address_list = Some(*b),
            ("showInAddressList", Value::Null) => next.show_in_address_list = None,
            ("identities", Value::Null) => next.identities = None,
            ("identities", Value::Array(items)) => match identities(items) {
                Ok(set) => next.identities = Some(set),
                Err(e) => return Err(Refusal::bad_request(e)),
            },
            _ => return Err(Refusal::bad_request(format!("cannot set {k} to {val}"))),
        }
    }
    let user_id = u.id.clone();
    *u = next;
    let seq = t.next_seq();
    if let Some(u) = t.users.iter_mut().find(|u| u.id == user_id) {
        u.changed_seq = seq;
    }
    saved(&emu, &mut core)
}

/// `identities` of a drift body: objects of `signInType`, `issuer` and `issuerAssignedId`,
/// each a string or null.
fn identities(items: &[Value]) -> Result<Vec<ObjectIdentity>, String> {
    items
        .iter()
        .map(|item| {
            let Some(o) = item.as_object() else {
                return Err(format!("identities: {item} is not an object"));
            };
            let field = |k: &str| match o.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(v) => Err(format!("identities: {k} must be a string or null, not {v}")),
            };
            if let Some(k) = o
                .keys()
                .find(|k| !["signInType", "issuer", "issuerAssignedId"].contains(&k.as_str()))
            {
                return Err(format!("identities: unknown property {k}"));
            }
            Ok(ObjectIdentity {
                sign_in_type: field("signInType")?,
                issuer: field("issuer")?,
                issuer_assigned_id: field("issuerAssignedId")?,
            })
        })
        .collect()
}

async fn delete_user(
    AxState(emu): AxState<Emulator>,
    Path((tenant, user)): Path<(String, String)>,
) -> Result<StatusCode, Refusal> {
    let mut core = emu.lock();
    let now = core.now();
    let t = tenant_mut(&mut core, &tenant)?;
    // Soft delete, like the directory recycle bin.
    if !t.soft_delete_user(&user, now) {
        return Err(Refusal::not_found("unknown user"));
    }
    saved(&emu, &mut core)
}

async fn create_group(
    AxState(emu): AxState<Emulator>,
    Path(tenant): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    create_in_tenant::<GroupSpec>(&emu, &tenant, &body, add_group)
}

/// Body: `{"member": "<user id or UPN>"}`.
async fn add_member(
    AxState(emu): AxState<Emulator>,
    Path((tenant, group)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<StatusCode, Refusal> {
    let v: Value = parse(&body).map_err(Refusal::bad_request)?;
    let Some(member) = v.get("member").and_then(Value::as_str).map(str::to_owned) else {
        return Err(Refusal::bad_request(
            "body must be {\"member\": \"<id or UPN>\"}",
        ));
    };
    let mut core = emu.lock();
    let t = tenant_mut(&mut core, &tenant)?;
    let Some(uid) = t
        .users
        .iter()
        .find(|u| u.deleted_ms.is_none() && names(u, &member))
        .map(|u| u.id.clone())
    else {
        return Err(Refusal::not_found("unknown user"));
    };
    let Some(g) = live_group_mut(t, &group) else {
        return Err(Refusal::not_found("unknown group"));
    };
    if !g.members.contains(&uid) {
        g.members.push(uid);
        let gid = g.id.clone();
        touch_group(t, &gid);
    }
    saved(&emu, &mut core)
}

async fn remove_member(
    AxState(emu): AxState<Emulator>,
    Path((tenant, group, user)): Path<(String, String, String)>,
) -> Result<StatusCode, Refusal> {
    let mut core = emu.lock();
    let t = tenant_mut(&mut core, &tenant)?;
    let uid = t
        .users
        .iter()
        .find(|u| names(u, &user))
        .map(|u| u.id.clone())
        .unwrap_or(user);
    let Some(g) = live_group_mut(t, &group) else {
        return Err(Refusal::not_found("unknown group"));
    };
    let before = g.members.len();
    g.members.retain(|m| *m != uid);
    let removed = g.members.len() != before;
    let gid = g.id.clone();
    if !removed {
        return Err(Refusal::not_found("not a member"));
    }
    touch_group(t, &gid);
    saved(&emu, &mut core)
}

/// The group `id` of `t` (any case), unless soft-deleted.
fn live_group_mut<'a>(t: &'a mut Tenant, id: &str) -> Option<&'a mut crate::state::Group> {
    t.groups
        .iter_mut()
        .find(|g| g.deleted_ms.is_none() && g.id.eq_ignore_ascii_case(id))
}

/// Marks the group `id` of `t` changed (for sync's watermark and delta queries).
fn touch_group(t: &mut Tenant, id: &str) {
    let seq = t.next_seq();
    if let Some(g) = t.groups.iter_mut().find(|g| g.id == id) {
        g.changed_seq = seq;
    }
}

/// Body: any of `displayName` (string), `description` (string or null), `mailNickname`
/// (string), `securityEnabled`, `mailEnabled` (bools), `groupTypes` (a list of strings:
/// `Unified`, `DynamicMembership`). Any group, a group synced into a target tenant too: a
/// change there persists until the source group changes.
async fn update_group(
    AxState(emu): AxState<Emulator>,
    Path((tenant, group)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<StatusCode, Refusal> {
    let obj = object_body(&body)?;
    let mut core = emu.lock();
    let t = tenant_mut(&mut core, &tenant)?;
    let Some(g) = live_group_mut(t, &group) else {
        return Err(Refusal::not_found("unknown group"));
    };
    let mut next = g.clone();
    for (k, val) in &obj {
        match (k.as_str(), val) {
            ("displayName", Value::String(s)) if !s.trim().is_empty() => {
                next.display_name = s.clone()
            }
            ("description", Value::String(s)) => next.description = Some(s.clone()),
            ("description", Value::Null) => next.description = None,
            ("mailNickname", Value::String(s)) if !s.trim().is_empty() => {
                next.mail_nickname = s.clone()
            }
            ("securityEnabled", Value::Bool(b)) => next.security_enabled = *b,
            ("mailEnabled", Value::Bool(b)) => next.mail_enabled = *b,
            ("groupTypes", Value::Array(items)) if items.iter().all(Value::is_string) => {
                next.group_types = items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect();
            }
            _ => return Err(Refusal::bad_request(format!("cannot set {k} to {val}"))),
        }
    }
    let id = next.id.clone();
    *g = next;
    touch_group(t, &id);
    saved(&emu, &mut core)
}

/// Soft-deletes a group (no longer listed nor addressable; sync then deprovisions its copy).
async fn delete_group(
    AxState(emu): AxState<Emulator>,
    Path((tenant, group)): Path<(String, String)>,
) -> Result<StatusCode, Refusal> {
    let mut core = emu.lock();
    let now = core.now();
    let t = tenant_mut(&mut core, &tenant)?;
    let Some(g) = live_group_mut(t, &group) else {
        return Err(Refusal::not_found("unknown group"));
    };
    g.deleted_ms = Some(now);
    let id = g.id.clone();
    touch_group(t, &id);
    saved(&emu, &mut core)
}
