//! multiTenantOrganization, tenants and joinRequest conformance (reference §1–§3).

mod common;

use common::*;
use serde_json::json;

const MTO: &str = "/tenantRelationships/multiTenantOrganization";

async fn create(env: &Env, tok: &str) {
    let r = env
        .call(
            tok,
            "PUT",
            MTO,
            Some(json!({"displayName": "Contoso Group", "description": "Contoso + Fabrikam"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}

async fn add(env: &Env, tok: &str, tenant: &str, name: &str) -> Resp {
    env.call(
        tok,
        "POST",
        &format!("{MTO}/tenants"),
        Some(json!({"tenantId": tenant, "displayName": name})),
    )
    .await
}

async fn join(env: &Env, tok: &str, owner: &str) {
    let r = env
        .call(
            tok,
            "PATCH",
            &format!("{MTO}/joinRequest"),
            Some(json!({"addedByTenantId": owner})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
}

#[tokio::test]
async fn create_get_update_and_inactive_shape() {
    let env = start().await;
    let a = env.a().await;
    let r = env.get(&a, MTO).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["state"], "inactive");
    assert!(
        r.body["displayName"].is_null()
            && r.body["createdDateTime"].is_null()
            && r.body["description"].is_null()
    );

    let r = env
        .call(&a, "PUT", MTO, Some(json!({"description": "no name"})))
        .await;
    assert_eq!((r.status, r.code()), (400, "Request_BadRequest"));

    let r = env
        .call(
            &a,
            "PUT",
            MTO,
            Some(json!({"displayName": "Contoso Group"})),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body["state"], "active");
    assert_eq!(r.body["displayName"], "Contoso Group");
    assert_eq!(r.body["createdDateTime"], "2026-01-01T00:00:00Z");
    assert!(
        r.body["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("#tenantRelationships/multiTenantOrganization/$entity")
    );
    let id = r.body["id"].as_str().unwrap().to_owned();

    let r = env
        .call(&a, "PUT", MTO, Some(json!({"displayName": "Again"})))
        .await;
    assert_eq!(r.status, 400);

    let r = env
        .call(&a, "PATCH", MTO, Some(json!({"description": "updated"})))
        .await;
    assert_eq!(r.status, 204);
    let r = env
        .get(&a, &format!("{MTO}?$select=displayName,description"))
        .await;
    assert_eq!(r.body["description"], "updated");
    assert!(r.body.get("id").is_none(), "$select projects: {}", r.body);
    let r = env.get(&a, MTO).await;
    assert_eq!(r.body["id"], id.as_str());

    let r = env
        .call(&a, "PATCH", MTO, Some(json!({"state": "inactive"})))
        .await;
    assert_eq!(r.status, 400);

    let r = env.get(&a, &format!("{MTO}/tenants")).await;
    assert_eq!(r.status, 200);
    let v = r.body["value"].as_array().unwrap();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["tenantId"], A);
    assert_eq!(v[0]["role"], "owner");
    assert_eq!(v[0]["state"], "active");
    assert_eq!(v[0]["addedByTenantId"], A);
    assert!(v[0]["joinedDateTime"].is_null() && v[0]["transitionDetails"].is_null());
}

#[tokio::test]
async fn add_join_and_cross_tenant_views() {
    let env = start().await;
    let (a, b, c) = (env.a().await, env.b().await, env.c().await);
    create(&env, &a).await;
    let r = add(&env, &a, B, "Fabrikam").await;
    assert_eq!(r.status, 201);
    assert_eq!(r.body["state"], "pending");
    assert_eq!(r.body["role"], "member");
    assert_eq!(r.body["addedByTenantId"], A);
    // The API reference's example: nothing in flight until the tenant joins.
    assert!(r.body["transitionDetails"].is_null(), "{}", r.body);

    let r = add(&env, &a, B, "Fabrikam").await;
    assert_eq!((r.status, r.code()), (400, "Request_BadRequest"));
    let r = env
        .call(
            &a,
            "POST",
            &format!("{MTO}/tenants"),
            Some(json!({"tenantId": "nope", "displayName": "x"})),
        )
        .await;
    assert_eq!(r.status, 400);
    // Northwind has no MTO: adding from it finds nothing.
    let r = add(&env, &c, B, "Fabrikam").await;
    assert_eq!(r.status, 404);

    // Pending: B sees no MTO yet; its join request is untouched.
    assert_eq!(env.get(&b, MTO).await.body["state"], "inactive");
    let jr = env.get(&b, &format!("{MTO}/joinRequest")).await;
    assert_eq!(jr.status, 200);
    assert_eq!(
        jr.body["addedByTenantId"],
        "00000000-0000-0000-0000-000000000000"
    );
    assert!(
        jr.body["memberState"].is_null()
            && jr.body["role"].is_null()
            && jr.body["transitionDetails"].is_null()
    );

    join(&env, &b, A).await;
    let jr = env.get(&b, &format!("{MTO}/joinRequest")).await;
    assert_eq!(jr.body["addedByTenantId"], A);
    assert_eq!(jr.body["memberState"], "pending");
    assert_eq!(jr.body["transitionDetails"]["desiredMemberState"], "active");
    assert_eq!(jr.body["transitionDetails"]["status"], "notStarted");

    env.advance(60.0).await;
    let jr = env.get(&b, &format!("{MTO}/joinRequest")).await;
    assert_eq!(jr.body["transitionDetails"]["status"], "running");
    env.advance(600.0).await;
    let jr = env.get(&b, &format!("{MTO}/joinRequest")).await;
    assert_eq!(jr.body["memberState"], "active");
    assert_eq!(jr.body["role"], "member");
    assert!(jr.body["transitionDetails"].is_null());

    let ma = env.get(&a, MTO).await.body;
    let mb = env.get(&b, MTO).await.body;
    assert_eq!(mb["state"], "active");
    assert_eq!(ma["displayName"], mb["displayName"]);
    assert_ne!(ma["id"], mb["id"], "each tenant has its own MTO object id");

    // Both tenants see the whole membership list.
    for tok in [&a, &b] {
        let r = env.get(tok, &format!("{MTO}/tenants/{B}")).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["state"], "active");
        assert!(r.body["joinedDateTime"].is_string());
        assert!(r.body["transitionDetails"].is_null());
    }
    let r = env
        .get(
            &b,
            &format!("{MTO}/tenants?$filter=tenantId eq '{A}'&$select=tenantId,role"),
        )
        .await;
    assert_eq!(r.body["value"], json!([{"tenantId": A, "role": "owner"}]));

    // A member cannot add tenants.
    let r = add(&env, &b, C, "Northwind").await;
    assert_eq!((r.status, r.code()), (403, "Authorization_RequestDenied"));
}

#[tokio::test]
async fn join_failures_and_reset() {
    let env = start().await;
    let (a, c) = (env.a().await, env.c().await);
    create(&env, &a).await;
    // Not added yet: the join fails asynchronously.
    join(&env, &c, A).await;
    env.advance(700.0).await;
    let jr = env.get(&c, &format!("{MTO}/joinRequest")).await.body;
    assert_eq!(jr["memberState"], "pending");
    assert_eq!(jr["transitionDetails"]["status"], "failed");
    assert!(
        jr["transitionDetails"]["details"]
            .as_str()
            .unwrap()
            .contains("not been added")
    );
    // Reset with the zero GUID, then the proper sequence succeeds.
    join(&env, &c, "00000000-0000-0000-0000-000000000000").await;
    let jr = env.get(&c, &format!("{MTO}/joinRequest")).await.body;
    assert!(jr["transitionDetails"].is_null() && jr["memberState"].is_null());
    assert_eq!(add(&env, &a, C, "Northwind").await.status, 201);
    join(&env, &c, A).await;
    env.advance(700.0).await;
    assert_eq!(
        env.get(&c, &format!("{MTO}/joinRequest")).await.body["memberState"],
        "active"
    );
}

#[tokio::test]
async fn join_fails_when_already_in_another_mto_or_over_limit() {
    let env = start().await;
    let (a, b, c) = (env.a().await, env.b().await, env.c().await);
    create(&env, &a).await;
    create(&env, &c).await;
    add(&env, &a, C, "Northwind").await;
    join(&env, &c, A).await;
    env.advance(700.0).await;
    let jr = env.get(&c, &format!("{MTO}/joinRequest")).await.body;
    assert_eq!(jr["transitionDetails"]["status"], "failed");
    assert!(
        jr["transitionDetails"]["details"]
            .as_str()
            .unwrap()
            .contains("another multi-tenant organization")
    );
    let _ = b;

    let limited = WORLD.replace("seed: 42", "seed: 42\nlimits:\n  maxActiveTenants: 2");
    let env = start_with(&limited, Default::default()).await;
    let (a, b, c) = (env.a().await, env.b().await, env.c().await);
    create(&env, &a).await;
    add(&env, &a, B, "Fabrikam").await;
    add(&env, &a, C, "Northwind").await;
    join(&env, &b, A).await;
    join(&env, &c, A).await;
    env.advance(700.0).await;
    assert_eq!(
        env.get(&b, &format!("{MTO}/joinRequest")).await.body["memberState"],
        "active"
    );
    let jr = env.get(&c, &format!("{MTO}/joinRequest")).await.body;
    assert_eq!(jr["transitionDetails"]["status"], "failed");
    assert!(
        jr["transitionDetails"]["details"]
            .as_str()
            .unwrap()
            .contains("maximum")
    );
}

async fn formed(env: &Env) -> (String, String) {
    let (a, b) = (env.a().await, env.b().await);
    create(env, &a).await;
    add(env, &a, B, "Fabrikam").await;
    join(env, &b, A).await;
    env.advance(700.0).await;
    (a, b)
}

#[tokio::test]
async fn role_changes_are_asynchronous_and_keep_an_owner() {
    let env = start().await;
    let (a, b) = formed(&env).await;
    let r = env
        .call(
            &a,
            "PATCH",
            &format!("{MTO}/tenants/{A}"),
            Some(json!({"role": "member"})),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (400, "Request_BadRequest"),
        "sole owner cannot be demoted"
    );
    let r = env
        .call(
            &a,
            "PATCH",
            &format!("{MTO}/tenants/{B}"),
            Some(json!({"displayName": "x"})),
        )
        .await;
    assert_eq!(r.status, 400, "only role is updatable");
    let r = env
        .call(
            &b,
            "PATCH",
            &format!("{MTO}/tenants/{B}"),
            Some(json!({"role": "owner"})),
        )
        .await;
    assert_eq!(r.status, 403, "members cannot change roles");

    let r = env
        .call(
            &a,
            "PATCH",
            &format!("{MTO}/tenants/{B}"),
            Some(json!({"role": "owner"})),
        )
        .await;
    assert_eq!(r.status, 204);
    let m = env.get(&a, &format!("{MTO}/tenants/{B}")).await.body;
    assert_eq!(m["role"], "member");
    assert_eq!(m["transitionDetails"]["desiredRole"], "owner");
    assert_eq!(m["transitionDetails"]["status"], "notStarted");
    env.advance(150.0).await;
    let m = env.get(&a, &format!("{MTO}/tenants/{B}")).await.body;
    assert_eq!(
        (
            m["role"].as_str(),
            m["transitionDetails"]["status"].as_str()
        ),
        (Some("member"), Some("running"))
    );
    env.advance(150.0).await;
    let m = env.get(&a, &format!("{MTO}/tenants/{B}")).await.body;
    assert_eq!(m["role"], "owner");
    assert!(m["transitionDetails"].is_null());
    assert_eq!(
        env.get(&b, &format!("{MTO}/joinRequest")).await.body["role"],
        "owner"
    );

    // Now A may step down.
    let r = env
        .call(
            &a,
            "PATCH",
            &format!("{MTO}/tenants/{A}"),
            Some(json!({"role": "member"})),
        )
        .await;
    assert_eq!(r.status, 204);
}

#[tokio::test]
async fn removal_rules_and_404_after_completion() {
    let env = start().await;
    let (a, b) = formed(&env).await;
    // The sole owner cannot leave while B is active; a member cannot remove the owner.
    let r = env
        .call(&a, "DELETE", &format!("{MTO}/tenants/{A}"), None)
        .await;
    assert_eq!((r.status, r.code()), (400, "Request_BadRequest"));
    let r = env
        .call(&b, "DELETE", &format!("{MTO}/tenants/{A}"), None)
        .await;
    assert_eq!((r.status, r.code()), (403, "Authorization_RequestDenied"));

    // B leaves.
    let r = env
        .call(&b, "DELETE", &format!("{MTO}/tenants/{B}"), None)
        .await;
    assert_eq!(r.status, 204);
    let m = env.get(&a, &format!("{MTO}/tenants/{B}")).await.body;
    assert_eq!(m["transitionDetails"]["desiredState"], "removed");
    assert_eq!(m["transitionDetails"]["status"], "notStarted");
    assert_eq!(m["state"], "active");
    env.advance(150.0).await;
    let m = env.get(&a, &format!("{MTO}/tenants/{B}")).await.body;
    assert_eq!(
        (
            m["state"].as_str(),
            m["transitionDetails"]["status"].as_str()
        ),
        (Some("removed"), Some("running"))
    );
    env.advance(150.0).await;
    let r = env.get(&a, &format!("{MTO}/tenants/{B}")).await;
    assert_eq!((r.status, r.code()), (404, "Directory_ObjectNotFound"));
    assert_eq!(
        r.body["error"]["message"],
        "Unable to read the company information from the directory."
    );
    assert_eq!(env.get(&b, MTO).await.body["state"], "inactive");
    let jr = env.get(&b, &format!("{MTO}/joinRequest")).await.body;
    assert_eq!(
        jr["addedByTenantId"],
        "00000000-0000-0000-0000-000000000000"
    );

    // The last tenant leaving dissolves the MTO.
    assert_eq!(
        env.call(&a, "DELETE", &format!("{MTO}/tenants/{A}"), None)
            .await
            .status,
        204
    );
    env.advance(300.0).await;
    assert_eq!(env.get(&a, MTO).await.body["state"], "inactive");
    assert_eq!(
        env.get(&a, &format!("{MTO}/tenants")).await.body["value"],
        json!([])
    );
    // And A can create a new one.
    create(&env, &a).await;
}

#[tokio::test]
async fn owner_removes_a_pending_tenant() {
    let env = start().await;
    let a = env.a().await;
    create(&env, &a).await;
    add(&env, &a, B, "Fabrikam").await;
    assert_eq!(
        env.call(&a, "DELETE", &format!("{MTO}/tenants/{B}"), None)
            .await
            .status,
        204
    );
    env.advance(300.0).await;
    assert_eq!(env.get(&a, &format!("{MTO}/tenants/{B}")).await.status, 404);
    let r = env
        .call(&a, "DELETE", &format!("{MTO}/tenants/{C}"), None)
        .await;
    assert_eq!((r.status, r.code()), (404, "Directory_ObjectNotFound"));
    let r = env.call(&a, "POST", MTO, None).await;
    assert_eq!(r.status, 405);
}

#[tokio::test]
async fn join_too_soon_after_creation_fails_when_configured() {
    let world = WORLD.replace("seed: 42", "seed: 42\ntimings:\n  joinMinMtoAge: 7200");
    let env = start_with(&world, Default::default()).await;
    let (a, b) = (env.a().await, env.b().await);
    create(&env, &a).await;
    add(&env, &a, B, "Fabrikam").await;
    join(&env, &b, A).await;
    env.advance(700.0).await;
    let jr = env.get(&b, &format!("{MTO}/joinRequest")).await.body;
    assert_eq!(jr["transitionDetails"]["status"], "failed");
    assert!(
        jr["transitionDetails"]["details"]
            .as_str()
            .unwrap()
            .contains("too recently")
    );
    // The documented recovery: reset, wait, join again.
    join(&env, &b, "00000000-0000-0000-0000-000000000000").await;
    env.advance(7200.0).await;
    let b = env.b().await;
    join(&env, &b, A).await;
    env.advance(700.0).await;
    assert_eq!(
        env.get(&b, &format!("{MTO}/joinRequest")).await.body["memberState"],
        "active"
    );
}

#[tokio::test]
async fn a_failed_join_shows_in_the_owner_view_and_a_retry_clears_it() {
    // Contoso (the owner) has 3 internal members: at the limit is fine ...
    let world = WORLD.replace("seed: 42", "seed: 42\nlimits:\n  maxInternalUsers: 3");
    let env = start_with(&world, Default::default()).await;
    let (a, b) = (env.a().await, env.b().await);
    create(&env, &a).await;
    add(&env, &a, B, "Fabrikam").await;
    join(&env, &b, A).await;
    env.advance(700.0).await;
    assert_eq!(
        env.get(&b, &format!("{MTO}/joinRequest")).await.body["memberState"],
        "active"
    );

    // ... above it the join fails, visibly to the owner as well.
    let world = WORLD.replace("seed: 42", "seed: 42\nlimits:\n  maxInternalUsers: 2");
    let env = start_with(&world, Default::default()).await;
    let (a, b) = (env.a().await, env.b().await);
    create(&env, &a).await;
    add(&env, &a, B, "Fabrikam").await;
    join(&env, &b, A).await;
    env.advance(60.0).await;
    let m = env.get(&a, &format!("{MTO}/tenants/{B}")).await.body;
    assert_eq!(m["transitionDetails"]["status"], "running");
    env.advance(640.0).await;
    let m = env.get(&a, &format!("{MTO}/tenants/{B}")).await.body;
    assert_eq!(m["state"], "pending");
    assert_eq!(m["transitionDetails"]["status"], "failed");
    assert!(
        m["transitionDetails"]["details"]
            .as_str()
            .unwrap()
            .contains("internal users")
    );
    join(&env, &b, "00000000-0000-0000-0000-000000000000").await;
    join(&env, &b, A).await;
    let m = env.get(&a, &format!("{MTO}/tenants/{B}")).await.body;
    assert_eq!(m["transitionDetails"]["status"], "notStarted");
    assert!(m["transitionDetails"]["details"].is_null());
}

#[tokio::test]
async fn creation_can_take_a_few_minutes_to_show() {
    let world = WORLD.replace("seed: 42", "seed: 42\ntimings:\n  mtoCreateVisible: 180");
    let env = start_with(&world, Default::default()).await;
    let a = env.a().await;
    create(&env, &a).await;
    assert_eq!(env.get(&a, MTO).await.body["state"], "inactive");
    env.advance(180.0).await;
    assert_eq!(env.get(&a, MTO).await.body["state"], "active");
}

#[tokio::test]
async fn removing_a_tenant_whose_join_is_in_flight_wins() {
    let env = start().await;
    let (a, b) = (env.a().await, env.b().await);
    create(&env, &a).await;
    add(&env, &a, B, "Fabrikam").await;
    join(&env, &b, A).await;
    env.advance(60.0).await;
    assert_eq!(
        env.call(&a, "DELETE", &format!("{MTO}/tenants/{B}"), None)
            .await
            .status,
        204
    );
    env.advance(700.0).await;
    let jr = env.get(&b, &format!("{MTO}/joinRequest")).await.body;
    assert_ne!(jr["memberState"], "active");
    assert_eq!(env.get(&a, &format!("{MTO}/tenants/{B}")).await.status, 404);
    assert_eq!(env.get(&b, MTO).await.body["state"], "inactive");
}

#[tokio::test]
async fn read_basic_sees_only_names_and_tenant_ids() {
    let env = start().await;
    let a = env.a().await;
    create(&env, &a).await;
    let ro = env
        .token(A, "11111111-2222-4333-8444-555555555555", "readonly-secret")
        .await;
    let m = env.get(&ro, MTO).await.body;
    assert_eq!(m["displayName"], "Contoso Group");
    // The key stays: `id` is never null (v1.0 metadata); every other property is.
    assert!(m["id"].is_string() && m["createdDateTime"].is_null(), "{m}");
    let t = env.get(&ro, &format!("{MTO}/tenants")).await.body;
    assert_eq!(t["value"][0]["tenantId"], A);
    assert_eq!(t["value"][0]["displayName"], "Contoso");
    assert!(t["value"][0]["role"].is_null());
    let r = env
        .call(
            &ro,
            "POST",
            &format!("{MTO}/tenants"),
            Some(json!({"tenantId": B, "displayName": "F"})),
        )
        .await;
    assert_eq!(r.status, 403);
}
