//! /users and /groups conformance: $filter, $select, $top, paging, $count.

mod common;

use common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn user_list_defaults_filter_and_select() {
    let env = start().await;
    let a = env.a().await;
    let r = env.get(&a, "/users").await;
    assert_eq!(r.status, 200);
    assert!(
        r.body["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("$metadata#users")
    );
    let v = r.body["value"].as_array().unwrap();
    assert_eq!(v.len(), 4);
    // Default property set: no userType / accountEnabled without $select.
    assert!(v[0].get("userType").is_none() && v[0].get("accountEnabled").is_none());
    assert!(v[0].get("businessPhones").is_some() && v[0].get("userPrincipalName").is_some());

    let r = env
        .get(&a, "/users?$filter=userPrincipalName%20eq%20'ALICE@contoso.onmicrosoft.com'&$select=id,userPrincipalName,displayName,userType,accountEnabled")
        .await;
    assert!(
        r.body["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("users(id,userPrincipalName,displayName,userType,accountEnabled)")
    );
    let v = r.body["value"].as_array().unwrap();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["displayName"], "Alice Martin");
    assert_eq!(v[0]["userType"], "Member");
    assert_eq!(v[0]["accountEnabled"], true);
    assert_eq!(v[0].as_object().unwrap().len(), 5);

    let r = env
        .get(
            &a,
            "/users?$filter=userType eq 'Guest'&$select=userPrincipalName",
        )
        .await;
    assert_eq!(
        r.body["value"],
        json!([{"userPrincipalName": "frank@contoso.onmicrosoft.com"}])
    );
    let r = env
        .get(&a, "/users?$filter=userPrincipalName in ('bob@contoso.onmicrosoft.com','erin@contoso.onmicrosoft.com')&$select=displayName")
        .await;
    assert_eq!(r.body["value"].as_array().unwrap().len(), 2);
    let r = env
        .get(&a, "/users?$filter=mail eq 'alice@contoso.onmicrosoft.com'")
        .await;
    assert_eq!(r.body["value"].as_array().unwrap().len(), 1);

    // Errors.
    let r = env.get(&a, "/users?$filter=shoeSize eq '9'").await;
    assert_eq!((r.status, r.code()), (400, "Request_UnsupportedQuery"));
    let r = env.get(&a, "/users?$filter=userType ne 'Guest'").await;
    assert_eq!(r.status, 400, "ne needs advanced query headers");
    let r = env
        .call_h(
            &a,
            "GET",
            "/users?$filter=userType ne 'Guest'&$count=true",
            None,
            &[("ConsistencyLevel", "eventual")],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["@odata.count"], 3);
    let r = env.get(&a, "/users?$select=shoeSize").await;
    assert_eq!((r.status, r.code()), (400, "Request_BadRequest"));
    for top in ["0", "1000", "x"] {
        let r = env.get(&a, &format!("/users?$top={top}")).await;
        assert_eq!(
            (r.status, r.code()),
            (400, "Request_BadRequest"),
            "$top={top}"
        );
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Must be between 1 and 999 inclusive")
        );
    }
    // Other tenants' users are invisible.
    let b = env.b().await;
    let r = env
        .get(
            &b,
            "/users?$filter=userPrincipalName eq 'alice@contoso.onmicrosoft.com'",
        )
        .await;
    assert_eq!(r.body["value"], json!([]));
}

#[tokio::test]
async fn paging_follows_next_links_with_all_options() {
    let env = start().await;
    let a = env.a().await;
    let mut url = "/users?$select=id,userPrincipalName&$top=3".to_owned();
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let r = env.get(&a, &url).await;
        assert_eq!(r.status, 200, "{}", r.body);
        pages += 1;
        for u in r.body["value"].as_array().unwrap() {
            assert_eq!(u.as_object().unwrap().len(), 2, "$select survives paging");
            seen.push(u["userPrincipalName"].as_str().unwrap().to_owned());
        }
        match r.body["@odata.nextLink"].as_str() {
            Some(next) => {
                assert!(
                    next.starts_with(&env.base),
                    "absolute nextLink to the emulator: {next}"
                );
                assert!(next.contains("$skiptoken="));
                url = next.to_owned();
            }
            None => break,
        }
    }
    assert_eq!(pages, 2);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 4);
    let r = env.get(&a, "/users?$skiptoken=bogus").await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn get_by_id_or_upn_and_count() {
    let env = start().await;
    let a = env.a().await;
    let r = env
        .get(
            &a,
            "/users/alice@contoso.onmicrosoft.com?$select=id,department",
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["department"], "Sales");
    let id = r.body["id"].as_str().unwrap().to_owned();
    let r = env.get(&a, &format!("/users/{id}")).await;
    assert_eq!(r.body["userPrincipalName"], "alice@contoso.onmicrosoft.com");
    assert!(
        r.body["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("users/$entity")
    );
    let r = env.get(&a, "/users/nobody@contoso.onmicrosoft.com").await;
    assert_eq!((r.status, r.code()), (404, "Request_ResourceNotFound"));
    assert_eq!(
        r.body["error"]["message"],
        "Resource 'nobody@contoso.onmicrosoft.com' does not exist or one of its queried reference-property objects are not present."
    );

    let r = env.get(&a, "/users/$count").await;
    assert_eq!(r.status, 400);
    let r = env
        .call_h(
            &a,
            "GET",
            "/users/$count",
            None,
            &[("ConsistencyLevel", "eventual")],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, Value::from(4));
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
}

#[tokio::test]
async fn groups_and_members() {
    let env = start().await;
    let a = env.a().await;
    let r = env.get(&a, "/groups?$filter=displayName eq 'Contoso Sales'&$select=id,displayName,securityEnabled,mailEnabled,groupTypes").await;
    let v = r.body["value"].as_array().unwrap().clone();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["securityEnabled"], true);
    assert_eq!(v[0]["groupTypes"], json!([]));
    let gid = v[0]["id"].as_str().unwrap();
    let r = env.get(&a, &format!("/groups/{gid}")).await;
    assert_eq!(r.body["displayName"], "Contoso Sales");
    let r = env
        .get(
            &a,
            &format!("/groups/{gid}/members?$select=id,userPrincipalName"),
        )
        .await;
    assert_eq!(r.status, 200);
    let mut upns: Vec<&str> = r.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["userPrincipalName"].as_str())
        .collect();
    upns.sort();
    assert_eq!(
        upns,
        [
            "alice@contoso.onmicrosoft.com",
            "erin@contoso.onmicrosoft.com"
        ]
    );
    let r = env.get(&a, &format!("/groups/{gid}/members")).await;
    assert_eq!(r.body["value"][0]["@odata.type"], "#microsoft.graph.user");
    assert_eq!(
        env.get(&a, "/groups/00000000-0000-4000-8000-000000000000")
            .await
            .status,
        404
    );
    assert_eq!(
        env.call(&a, "PATCH", "/users/alice@contoso.onmicrosoft.com", None)
            .await
            .status,
        405
    );
    // "Delete a user": 204, then the user is in the recycle bin, no longer found.
    let alice = "/users/alice@contoso.onmicrosoft.com";
    assert_eq!(env.call(&a, "DELETE", alice, None).await.status, 204);
    assert_eq!(env.get(&a, alice).await.status, 404);
    assert_eq!(env.call(&a, "DELETE", alice, None).await.status, 404);
}

#[tokio::test]
async fn get_by_ids_resolves_users_and_groups() {
    let env = start().await;
    let a = env.a().await;
    let alice = env
        .get(&a, "/users/alice@contoso.onmicrosoft.com?$select=id")
        .await
        .body["id"]
        .clone();
    let sales = env.get(&a, "/groups?$select=id").await.body["value"][0]["id"].clone();
    let body = json!({"ids": [alice, sales, "00000000-0000-4000-8000-000000000000"]});
    let r = env
        .call(
            &a,
            "POST",
            "/directoryObjects/getByIds?$select=id,displayName",
            Some(body),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.body["value"].as_array().unwrap();
    assert_eq!(v.len(), 2);
    assert_eq!(v[0]["@odata.type"], "#microsoft.graph.user");
    assert_eq!(v[0]["displayName"], "Alice Martin");
    assert_eq!(v[1]["@odata.type"], "#microsoft.graph.group");
    assert_eq!(v[0].as_object().unwrap().len(), 3);
    let r = env
        .call(
            &a,
            "POST",
            "/directoryObjects/getByIds",
            Some(json!({"ids": [alice], "types": ["group"]})),
        )
        .await;
    assert_eq!(r.body["value"], json!([]));
    let many: Vec<String> = (0..1001).map(|i| format!("{i}")).collect();
    assert_eq!(
        env.call(
            &a,
            "POST",
            "/directoryObjects/getByIds",
            Some(json!({"ids": many}))
        )
        .await
        .status,
        400
    );
}
