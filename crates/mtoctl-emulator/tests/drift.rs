//! Out-of-band directory edits through /_emulator/tenants, seen by Graph and by sync.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn drift_changes_flow_through_sync() {
    let env = start().await;
    let (a, b) = (env.a().await, env.b().await);
    allow_sync(&env, &a, A, &b, B).await;
    let (sp, role, job) = configure(&env, &a, B).await;
    let sales = env
        .get(&a, "/groups?$filter=displayName eq 'Contoso Sales'")
        .await
        .body["value"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let bob = user_id(&env, &a, "bob@contoso.onmicrosoft.com").await;
    assign(&env, &a, &sp, &role, &sales).await;
    assign(&env, &a, &sp, &role, &bob).await;
    env.call(
        &a,
        "POST",
        &format!("/servicePrincipals/{sp}/synchronization/jobs/{job}/start"),
        None,
    )
    .await;
    env.advance(30.0).await;

    // A new hire joins the sales group; alice moves department; bob leaves the company.
    let r = env
        .admin("POST", &format!("tenants/{A}/users"), Some(json!({"userPrincipalName": "gina@contoso.onmicrosoft.com", "displayName": "Gina Rossi", "department": "Sales"})))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        env.admin(
            "POST",
            &format!("tenants/{A}/groups/{sales}/members"),
            Some(json!({"member": "gina@contoso.onmicrosoft.com"}))
        )
        .await
        .status,
        204
    );
    assert_eq!(
        env.admin(
            "PATCH",
            &format!("tenants/{A}/users/alice@contoso.onmicrosoft.com"),
            Some(json!({"department": "Marketing"}))
        )
        .await
        .status,
        204
    );
    assert_eq!(
        env.admin(
            "DELETE",
            &format!("tenants/{A}/users/bob@contoso.onmicrosoft.com"),
            None
        )
        .await
        .status,
        204
    );
    assert_eq!(
        env.get(&a, "/users/bob@contoso.onmicrosoft.com")
            .await
            .status,
        404
    );
    env.advance(2400.0).await;

    let users = env
        .get(&b, "/users?$select=userPrincipalName,department")
        .await
        .body;
    let find = |p: &str| {
        users["value"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["userPrincipalName"].as_str().unwrap().starts_with(p))
            .cloned()
    };
    assert!(find("gina_contoso").is_some());
    assert_eq!(find("alice_contoso").unwrap()["department"], "Marketing");
    assert!(
        find("bob_contoso").is_none(),
        "deleted in the source → soft-deleted in the target"
    );

    // Removing erin from the group deprovisions her.
    assert_eq!(
        env.admin(
            "DELETE",
            &format!("tenants/{A}/groups/{sales}/members/erin@contoso.onmicrosoft.com"),
            None
        )
        .await
        .status,
        204
    );
    env.advance(2400.0).await;
    // Token lifetimes run on the wall clock: the token from before the advance still works.
    let r = env
        .get(&b, "/users?$filter=startswith(userPrincipalName,'erin_')")
        .await;
    assert_eq!(r.body["value"], json!([]));
}

#[tokio::test]
async fn drift_validation_and_new_tenants() {
    let env = start().await;
    assert_eq!(
        env.admin(
            "POST",
            &format!("tenants/{A}/users"),
            Some(json!({"userPrincipalName": "alice@contoso.onmicrosoft.com"}))
        )
        .await
        .status,
        400
    );
    assert_eq!(
        env.admin(
            "POST",
            "tenants/00000000-0000-4000-8000-000000000000/users",
            Some(json!({"userPrincipalName": "x@y"}))
        )
        .await
        .status,
        404
    );
    assert_eq!(
        env.admin(
            "PATCH",
            &format!("tenants/{A}/users/alice@contoso.onmicrosoft.com"),
            Some(json!({"userType": "Robot"}))
        )
        .await
        .status,
        400
    );
    assert_eq!(
        env.admin(
            "POST",
            &format!("tenants/{A}/groups"),
            Some(json!({"displayName": "G", "members": ["nobody@x"]}))
        )
        .await
        .status,
        400
    );
    let r = env
        .admin(
            "POST",
            &format!("tenants/{A}/groups"),
            Some(json!({"displayName": "New Group", "members": ["bob@contoso.onmicrosoft.com"]})),
        )
        .await;
    assert_eq!(r.status, 201);

    let spec = json!({"id": "d0d0d0d0-1111-4222-8333-444444444444", "displayName": "Tailspin", "domain": "tailspin.onmicrosoft.com",
        "apps": [{"clientId": "aaaaaaaa-1111-4222-8333-444444444444", "secret": "tailspin"}],
        "users": [{"userPrincipalName": "tom@tailspin.onmicrosoft.com"}]});
    assert_eq!(
        env.admin("POST", "tenants", Some(spec.clone()))
            .await
            .status,
        201
    );
    assert_eq!(env.admin("POST", "tenants", Some(spec)).await.status, 409);
    let t = env
        .token(
            "tailspin.onmicrosoft.com",
            "aaaaaaaa-1111-4222-8333-444444444444",
            "tailspin",
        )
        .await;
    let r = env.get(&t, "/users?$select=userPrincipalName").await;
    assert_eq!(
        r.body["value"],
        json!([{"userPrincipalName": "tom@tailspin.onmicrosoft.com"}])
    );
}

#[tokio::test]
async fn advanced_query_index_lags_behind() {
    let world = WORLD.replace("seed: 42", "seed: 42\ntimings:\n  advancedQueryLag: 5");
    let env = start_with(&world, Default::default()).await;
    let a = env.a().await;
    let r = env
        .admin(
            "POST",
            &format!("tenants/{A}/users"),
            Some(json!({"userPrincipalName": "gina@contoso.onmicrosoft.com"})),
        )
        .await;
    assert_eq!(r.status, 201);
    let eventual = [("ConsistencyLevel", "eventual")];
    let count = |r: &Resp| {
        r.body
            .as_u64()
            .or_else(|| r.body.as_str().and_then(|s| s.parse().ok()))
    };
    let r = env
        .call_h(&a, "GET", "/users/$count", None, &eventual)
        .await;
    assert_eq!(count(&r), Some(4), "the index does not have gina yet");
    assert_eq!(
        env.get(&a, "/users?$select=id").await.body["value"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    env.advance(5.0).await;
    let r = env
        .call_h(&a, "GET", "/users/$count", None, &eventual)
        .await;
    assert_eq!(count(&r), Some(5));
    // Deletions linger in the index just as long.
    env.admin(
        "DELETE",
        &format!("tenants/{A}/users/gina@contoso.onmicrosoft.com"),
        None,
    )
    .await;
    let r = env
        .call_h(
            &a,
            "GET",
            "/users?$count=true&$filter=startswith(userPrincipalName,'gina')",
            None,
            &eventual,
        )
        .await;
    assert_eq!(r.body["@odata.count"], 1);
    env.advance(5.0).await;
    let r = env
        .call_h(
            &a,
            "GET",
            "/users?$count=true&$filter=startswith(userPrincipalName,'gina')",
            None,
            &eventual,
        )
        .await;
    assert_eq!(r.body["@odata.count"], 0);
}

#[tokio::test]
async fn delta_queries_report_changes_since_the_last_round() {
    let env = start().await;
    let a = env.a().await;
    // Initial round, paged.
    let mut url = "/users/delta?$select=id,userPrincipalName,department&$top=3".to_owned();
    let mut seen = Vec::new();
    let delta_link = loop {
        let r = env.get(&a, &url).await;
        assert_eq!(r.status, 200, "{}", r.body);
        for u in r.body["value"].as_array().unwrap() {
            seen.push(u["userPrincipalName"].as_str().unwrap().to_owned());
        }
        if let Some(next) = r.body["@odata.nextLink"].as_str() {
            url = next.to_owned();
        } else {
            break r.body["@odata.deltaLink"]
                .as_str()
                .expect("deltaLink at the end")
                .to_owned();
        }
    };
    assert_eq!(seen.len(), 4);
    assert!(delta_link.starts_with(&env.base) && delta_link.contains("$deltatoken="));
    let r = env.get(&a, &delta_link).await;
    assert_eq!(r.body["value"], json!([]), "nothing changed");

    env.admin(
        "POST",
        &format!("tenants/{A}/users"),
        Some(json!({"userPrincipalName": "gina@contoso.onmicrosoft.com"})),
    )
    .await;
    env.admin(
        "PATCH",
        &format!("tenants/{A}/users/alice@contoso.onmicrosoft.com"),
        Some(json!({"department": "Legal"})),
    )
    .await;
    let bob = user_id(&env, &a, "bob@contoso.onmicrosoft.com").await;
    env.admin(
        "DELETE",
        &format!("tenants/{A}/users/bob@contoso.onmicrosoft.com"),
        None,
    )
    .await;
    let r = env.get(&a, &delta_link).await;
    let v = r.body["value"].as_array().unwrap();
    assert_eq!(v.len(), 3, "{v:?}");
    assert!(
        v.iter()
            .any(|u| u["userPrincipalName"] == "gina@contoso.onmicrosoft.com")
    );
    assert!(v.iter().any(|u| u["department"] == "Legal"));
    assert!(
        v.iter()
            .any(|u| u["id"] == bob.as_str() && u["@removed"]["reason"] == "changed")
    );
    let next = r.body["@odata.deltaLink"].as_str().unwrap().to_owned();
    assert!(next.contains("$select="), "options survive: {next}");
    assert_eq!(env.get(&a, &next).await.body["value"], json!([]));

    // Groups: a membership change shows the group again.
    let g = env.get(&a, "/groups/delta").await;
    assert_eq!(g.body["value"].as_array().unwrap().len(), 1);
    let glink = g.body["@odata.deltaLink"].as_str().unwrap().to_owned();
    let gid = g.body["value"][0]["id"].as_str().unwrap().to_owned();
    env.admin(
        "POST",
        &format!("tenants/{A}/groups/{gid}/members"),
        Some(json!({"member": "gina@contoso.onmicrosoft.com"})),
    )
    .await;
    assert_eq!(
        env.get(&a, &glink).await.body["value"][0]["id"],
        gid.as_str()
    );
    assert_eq!(
        env.get(&a, "/users/delta?$deltatoken=garbage").await.status,
        400
    );
}

#[tokio::test]
async fn attribute_mappings_and_flow_types_shape_the_target() {
    let env = start().await;
    let (a, b) = (env.a().await, env.b().await);
    allow_sync(&env, &a, A, &b, B).await;
    let (sp, role, job) = configure(&env, &a, B).await;
    let alice = user_id(&env, &a, "alice@contoso.onmicrosoft.com").await;
    assign(&env, &a, &sp, &role, &alice).await;
    let jobs = format!("/servicePrincipals/{sp}/synchronization/jobs/{job}");
    // department ← jobTitle, and a constant jobTitle.
    let mut schema = env.get(&a, &format!("{jobs}/schema")).await.body;
    for m in schema["synchronizationRules"][0]["objectMappings"][0]["attributeMappings"]
        .as_array_mut()
        .unwrap()
    {
        if m["targetAttributeName"] == "department" {
            m["source"] = json!({"type": "Attribute", "name": "displayName", "expression": "[displayName]", "parameters": []});
        }
        if m["targetAttributeName"] == "jobTitle" {
            m["source"] = json!({"type": "Constant", "name": "Partner", "expression": "\"Partner\"", "parameters": []});
        }
    }
    assert_eq!(
        env.call(
            &a,
            "PUT",
            &format!("{jobs}/schema"),
            Some(as_body(schema.clone()))
        )
        .await
        .status,
        204
    );
    env.call(&a, "POST", &format!("{jobs}/start"), None).await;
    env.advance(30.0).await;
    let u = env
        .get(
            &b,
            "/users?$filter=startswith(userPrincipalName,'alice_')&$select=department,jobTitle",
        )
        .await
        .body;
    assert_eq!(
        u["value"][0],
        json!({"department": "Alice Martin", "jobTitle": "Partner"})
    );

    // Without Update in flowTypes, later source changes do not flow.
    schema["synchronizationRules"][0]["objectMappings"][0]["flowTypes"] = json!("Add, Delete");
    assert_eq!(
        env.call(&a, "PUT", &format!("{jobs}/schema"), Some(as_body(schema)))
            .await
            .status,
        204
    );
    env.admin(
        "PATCH",
        &format!("tenants/{A}/users/alice@contoso.onmicrosoft.com"),
        Some(json!({"displayName": "Alice M."})),
    )
    .await;
    env.advance(30.0).await;
    let u = env
        .get(
            &b,
            "/users?$filter=startswith(userPrincipalName,'alice_')&$select=displayName",
        )
        .await
        .body;
    assert_eq!(u["value"][0]["displayName"], "Alice Martin");
}
