//! `/users` and `/groups` (graph-reference §7): list and get, `$filter`,
//! `$select`, `$top`, paging, `$count` with `ConsistencyLevel: eventual`,
//! and direct group members (`/members`, `/members/$count`). Soft-deleted users and groups are
//! not listed.
//!
//! Lookups by object id or UPN (`find_user`, `getByIds`, group members and a
//! `$filter` that is exactly `id`/`userPrincipalName` `eq '…'` or `in (…)`)
//! go through the tenant's user index instead of scanning every user, so
//! resolving names costs the number of names, not the size of the tenant.

use serde_json::{Map, Value, json};

use super::{Body, Ctx, GraphRequest, GraphResponse, perms};
use crate::core::Core;
use crate::errors::{GraphError, GraphResult};
use crate::odata::{Expr, PageSpec, page};
use crate::state::{Group, Tenant, USER_DEFAULT_PROPS, User, UserKey};

const USER_PROPS: &[&str] = &[
    "id",
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "userType",
    "accountEnabled",
    "department",
    "showInAddressList",
    "createdDateTime",
    "deletedDateTime",
    "creationType",
    "externalUserState",
    "identities",
    "city",
    "companyName",
    "country",
    "employeeId",
    "employeeType",
    "mailNickname",
    "postalCode",
    "state",
    "streetAddress",
    "usageLocation",
];

const GROUP_PROPS: &[&str] = &[
    "id",
    "displayName",
    "description",
    "mailEnabled",
    "securityEnabled",
    "groupTypes",
    "mailNickname",
    "mail",
    "createdDateTime",
    "deletedDateTime",
];

/// Route `/users...` and `/groups...`.
pub fn route(
    core: &mut Core,
    ctx: &Ctx,
    req: &GraphRequest,
    segs: &[&str],
) -> GraphResult<GraphResponse> {
    if req.method == "POST" && segs == ["directoryObjects", "getByIds"] {
        return get_by_ids(core, ctx, req);
    }
    if let ("DELETE", ["users", id]) = (req.method.as_str(), segs) {
        return delete_user(core, ctx, id);
    }
    if req.method != "GET" {
        return Err(GraphError::method_not_allowed());
    }
    let now = core.now();
    // Advanced queries read an eventually consistent index that lags behind.
    let lag = if req.eventual() {
        core.scaled_ms(core.state.timings.advanced_query_lag)
    } else {
        0
    };
    let t = core
        .state
        .tenants
        .get_mut(&ctx.tenant)
        .ok_or_else(|| GraphError::unauthorized("Unknown tenant."))?;
    // Cheap after the first time: it indexes only users added or changed since.
    t.index_users();
    let t: &Tenant = t;
    match segs {
        ["users"] => {
            ctx.require(perms::USER_READ)?;
            // A bad query is left to `list`, which reports it as usual.
            let opts = req.options().ok();
            let looked_up = opts.as_ref().and_then(|o| looked_up(t, o.filter.as_ref()));
            // Only what the answer shows or the filter reads is built.
            let needs = crate::odata::QueryOptions::needs_of(opts.as_ref());
            let json = |u: &User| u.to_json_with(&needs);
            let items = match looked_up {
                // `page` still applies the filter: the lookup only narrows
                // the candidates, in the same (tenant) order.
                Some(candidates) => candidates
                    .into_iter()
                    .filter(|u| listed(u, now, lag))
                    .map(json)
                    .collect(),
                None => listed_users(t, now, lag).map(json).collect(),
            };
            list(
                ctx,
                req,
                items,
                "users",
                USER_PROPS,
                Some(USER_DEFAULT_PROPS),
                "user",
            )
        }
        ["users", "delta"] => {
            ctx.require(perms::USER_READ)?;
            super::delta::route(ctx, req, t, super::delta::Kind::Users)
        }
        ["groups", "delta"] => {
            ctx.require(perms::GROUP_READ)?;
            super::delta::route(ctx, req, t, super::delta::Kind::Groups)
        }
        ["users", "$count"] => {
            ctx.require(perms::USER_READ)?;
            count(req, listed_users(t, now, lag).count())
        }
        ["users", id] => {
            ctx.require(perms::USER_READ)?;
            let u = find_user(t, id).ok_or_else(|| GraphError::not_found(id))?;
            entity(
                ctx,
                req,
                u.to_json(),
                "users/$entity",
                USER_PROPS,
                Some(USER_DEFAULT_PROPS),
                "user",
            )
        }
        ["groups"] => {
            ctx.require(perms::GROUP_READ)?;
            let items = t.live_groups().map(Group::to_json).collect();
            list(ctx, req, items, "groups", GROUP_PROPS, None, "group")
        }
        ["groups", "$count"] => {
            ctx.require(perms::GROUP_READ)?;
            count(req, t.live_groups().count())
        }
        ["groups", id] => {
            ctx.require(perms::GROUP_READ)?;
            let g = find_group(t, id).ok_or_else(|| GraphError::not_found(id))?;
            entity(
                ctx,
                req,
                g.to_json(),
                "groups/$entity",
                GROUP_PROPS,
                None,
                "group",
            )
        }
        ["groups", id, "members", "$count"] => {
            ctx.require(perms::GROUP_MEMBERS_READ)?;
            let g = find_group(t, id).ok_or_else(|| GraphError::not_found(id))?;
            count(req, live_members(t, g).count())
        }
        ["groups", id, "members"] => {
            ctx.require(perms::GROUP_MEMBERS_READ)?;
            let g = find_group(t, id).ok_or_else(|| GraphError::not_found(id))?;
            let items = live_members(t, g)
                .map(|u| {
                    let mut m = Map::new();
                    m.insert("@odata.type".into(), json!("#microsoft.graph.user"));
                    m.extend(u.to_json());
                    m
                })
                .collect();
            let mut defaults: Vec<&str> = vec!["@odata.type"];
            defaults.extend(USER_DEFAULT_PROPS);
            let mut known: Vec<&str> = vec!["@odata.type"];
            known.extend(USER_PROPS);
            list(
                ctx,
                req,
                items,
                "directoryObjects",
                &known,
                Some(&defaults),
                "directoryObject",
            )
        }
        _ => Err(GraphError::unknown_segment(
            segs.last().copied().unwrap_or(""),
        )),
    }
}

/// The direct members of `g` that are live users, in membership order.
fn live_members<'t>(t: &'t Tenant, g: &'t Group) -> impl Iterator<Item = &'t User> {
    g.members.iter().filter_map(move |m| {
        users_at(t, t.user_positions(UserKey::Id, &[m]))
            .find(|u| u.deleted_ms.is_none() && &u.id == m)
    })
}

/// Users as a list sees them: with an index lag, recent creations are not
/// there yet and recent deletions still are.
fn listed_users(t: &Tenant, now: i64, lag: i64) -> impl Iterator<Item = &User> {
    t.users.iter().filter(move |u| listed(u, now, lag))
}

/// Whether a list sees `u` (see [`listed_users`]).
fn listed(u: &User, now: i64, lag: i64) -> bool {
    let created = u.created_ms + lag <= now;
    let alive = u.deleted_ms.is_none_or(|d| d + lag > now);
    created && alive
}

/// The users at `positions` (from [`Tenant::user_positions`]), in that order.
fn users_at(t: &Tenant, positions: Vec<usize>) -> impl Iterator<Item = &User> {
    positions.into_iter().filter_map(|i| t.users.get(i))
}

/// For a `$filter` that is exactly `id` or `userPrincipalName` `eq` one
/// value or `in` a list (property names case-insensitive, like the generic
/// filter), every user it can match, in tenant order; `None` for any other
/// filter (or none), which then goes through the generic scan.
fn looked_up<'t>(t: &'t Tenant, filter: Option<&Expr>) -> Option<Vec<&'t User>> {
    let (prop, values) = match filter? {
        Expr::Cmp(p, true, v) => (p, std::slice::from_ref(v)),
        Expr::In(p, vs) => (p, vs.as_slice()),
        _ => return None,
    };
    let key = if prop.eq_ignore_ascii_case("id") {
        UserKey::Id
    } else if prop.eq_ignore_ascii_case("userPrincipalName") {
        UserKey::Upn
    } else {
        return None;
    };
    // Only a string literal can equal these string properties (numbers,
    // booleans and null match nobody in the generic filter either).
    let values: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
    Some(users_at(t, t.user_positions(key, &values)).collect())
}

/// `DELETE /users/{id}` → 204: the user goes to the recycle bin (soft-deleted, no longer
/// listed). The reference ("Delete a user") names `User.ReadWrite.All` as the only application
/// permission; an unknown or deleted id is 404.
fn delete_user(core: &mut Core, ctx: &Ctx, id: &str) -> GraphResult<GraphResponse> {
    ctx.require(perms::USER_WRITE)?;
    let now = core.now();
    let t = core
        .state
        .tenants
        .get_mut(&ctx.tenant)
        .ok_or_else(|| GraphError::unauthorized("Unknown tenant."))?;
    if !t.soft_delete_user(id, now) {
        return Err(GraphError::not_found(id));
    }
    core.dirty = true;
    Ok(GraphResponse::no_content())
}

/// A user by object id or UPN (not soft-deleted), the first in tenant order.
pub fn find_user<'a>(t: &'a Tenant, id: &str) -> Option<&'a User> {
    let mut at = t.user_positions(UserKey::Id, &[id]);
    at.extend(t.user_positions(UserKey::Upn, &[id]));
    at.sort_unstable();
    users_at(t, at).find(|u| {
        u.deleted_ms.is_none()
            && (u.id.eq_ignore_ascii_case(id) || u.user_principal_name.eq_ignore_ascii_case(id))
    })
}

/// A group by object id (not soft-deleted).
pub fn find_group<'a>(t: &'a Tenant, id: &str) -> Option<&'a Group> {
    t.live_group(id)
}

fn list(
    ctx: &Ctx,
    req: &GraphRequest,
    items: Vec<Map<String, Value>>,
    set: &str,
    known: &[&str],
    defaults: Option<&[&str]>,
    type_name: &str,
) -> GraphResult<GraphResponse> {
    let opts = req.options()?;
    opts.check_select(known, type_name)?;
    let path: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    let spec = PageSpec {
        context: set,
        self_url: format!("{}/{}", ctx.base_url, path.join("/")),
        query: &req.query,
        default_top: 100,
        defaults,
        version: &ctx.version,
    };
    Ok(GraphResponse::json(200, page(items, &opts, &spec)?))
}

fn entity(
    ctx: &Ctx,
    req: &GraphRequest,
    full: Map<String, Value>,
    context: &str,
    known: &[&str],
    defaults: Option<&[&str]>,
    type_name: &str,
) -> GraphResult<GraphResponse> {
    let opts = req.options()?;
    opts.check_select(known, type_name)?;
    let mut out = Map::new();
    out.insert("@odata.context".into(), json!(ctx.context(context)));
    out.extend(crate::odata::project(
        full,
        opts.select.as_deref(),
        defaults,
    ));
    Ok(GraphResponse::json(200, Value::Object(out)))
}

fn count(req: &GraphRequest, n: usize) -> GraphResult<GraphResponse> {
    if !req.eventual() {
        return Err(GraphError::new(
            400,
            "Request_BadRequest",
            "Count is not currently supported without the ConsistencyLevel: eventual header.",
        ));
    }
    Ok(GraphResponse {
        status: 200,
        headers: Vec::new(),
        body: Body::Text(n.to_string()),
    })
}

/// `POST /directoryObjects/getByIds` `{ids, types?}`: up to 1,000 ids of users,
/// groups and service principals; unknown ids are left out.
fn get_by_ids(core: &mut Core, ctx: &Ctx, req: &GraphRequest) -> GraphResult<GraphResponse> {
    ctx.require(&[
        "Directory.Read.All",
        "Directory.ReadWrite.All",
        "User.Read.All",
        "Application.Read.All",
        "Application.ReadWrite.All",
    ])?;
    let body = req.object_body()?;
    super::check_keys(body, &["ids", "types"], "directoryObject")?;
    let ids: Vec<&str> = body
        .get("ids")
        .and_then(Value::as_array)
        .ok_or_else(|| GraphError::bad_request("Property 'ids' (array of strings) is required."))?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    if ids.is_empty() || ids.len() > 1000 {
        return Err(GraphError::bad_request(
            "Between 1 and 1000 ids must be given.",
        ));
    }
    let types: Vec<String> = body
        .get("types")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_ascii_lowercase)
                .collect()
        })
        .unwrap_or_default();
    let wanted = |t: &str| types.is_empty() || types.iter().any(|x| x == t);
    let opts = req.options()?;
    let now = core.now();
    let t = core
        .state
        .tenants
        .get_mut(&ctx.tenant)
        .ok_or_else(|| GraphError::unauthorized("Unknown tenant."))?;
    t.index_users();
    let t: &Tenant = t;
    let mut out = Vec::new();
    for id in ids {
        let (odata_type, mut full, defaults): (&str, Map<String, Value>, Option<&[&str]>) =
            if let Some(u) = users_at(t, t.user_positions(UserKey::Id, &[id]))
                .find(|u| u.deleted_ms.is_none() && u.id.eq_ignore_ascii_case(id))
                .filter(|_| wanted("user"))
            {
                (
                    "#microsoft.graph.user",
                    u.to_json(),
                    Some(USER_DEFAULT_PROPS),
                )
            } else if let Some(g) = find_group(t, id).filter(|_| wanted("group")) {
                ("#microsoft.graph.group", g.to_json(), None)
            } else if let Some(sp) = t
                .service_principals
                .iter()
                .find(|s| s.id.eq_ignore_ascii_case(id) && s.visible_ms <= now)
                .filter(|_| wanted("serviceprincipal"))
            {
                let mut m = Map::new();
                m.insert("id".into(), json!(sp.id));
                m.insert("appId".into(), json!(sp.app_id));
                m.insert("displayName".into(), json!(sp.display_name));
                ("#microsoft.graph.servicePrincipal", m, None)
            } else {
                continue;
            };
        let mut o = Map::new();
        o.insert("@odata.type".into(), json!(odata_type));
        full = crate::odata::project(full, opts.select.as_deref(), defaults);
        o.extend(full);
        out.push(Value::Object(o));
    }
    Ok(GraphResponse::json(
        200,
        json!({"@odata.context": ctx.context("directoryObjects"), "value": out}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::Rng;
    use crate::odata::parse_filter;

    /// Which filters take the indexed lookup. The property test in
    /// `tests/user_lookup.rs` relies on the `or startswith` form not taking it.
    #[test]
    fn only_plain_id_and_upn_lookups_use_the_index() {
        let t = Tenant::new(&mut Rng::new(1), "t", "T", "t.example.com");
        let indexed = |f: &str| looked_up(&t, Some(&parse_filter(f).unwrap())).is_some();
        assert!(indexed("userPrincipalName in ('a@b.c', 'd@e.f')"));
        assert!(indexed("UserPrincipalName eq 'a@b.c'"));
        assert!(indexed("id in ('x', 'y')"));
        assert!(indexed("ID eq 'x'"));
        assert!(!indexed("(id eq 'x') or startswith(userPrincipalName,'~')"));
        assert!(!indexed("userPrincipalName ne 'a@b.c'"));
        assert!(!indexed("mail eq 'a@b.c'"));
        assert!(!indexed("id eq 'x' and userType eq 'Member'"));
        assert!(looked_up(&t, None).is_none());
    }
}
