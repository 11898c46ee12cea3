//! $batch conformance (reference §8.5).

mod common;

use common::*;
use serde_json::{Value, json};

fn by_id<'a>(body: &'a Value, id: &str) -> &'a Value {
    body["responses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .expect("response for id")
}

#[tokio::test]
async fn parallel_items_and_per_item_status() {
    let env = start().await;
    let a = env.a().await;
    let body = json!({"requests": [
        {"id": "1", "method": "GET", "url": "/tenantRelationships/multiTenantOrganization"},
        {"id": "2", "method": "GET", "url": "/users?$select=id&$top=1"},
        {"id": "3", "method": "GET", "url": "/users/nobody@contoso.onmicrosoft.com"},
        {"id": "4", "method": "GET", "url": "/users/$count", "headers": {"ConsistencyLevel": "eventual"}},
        {"id": "5", "method": "PATCH", "url": "/policies/crossTenantAccessPolicy", "headers": {"Content-Type": "application/json"}, "body": {"displayName": "Batched"}},
        {"id": "6", "method": "PATCH", "url": "/policies/crossTenantAccessPolicy", "body": {"displayName": "No content type"}}
    ]});
    let r = env.call(&a, "POST", "/$batch", Some(body)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["responses"].as_array().unwrap().len(), 6);
    assert_eq!(by_id(&r.body, "1")["status"], 200);
    assert_eq!(by_id(&r.body, "1")["body"]["state"], "inactive");
    assert!(
        by_id(&r.body, "1")["headers"]["Content-Type"]
            .as_str()
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(
        by_id(&r.body, "2")["body"]["value"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(by_id(&r.body, "2")["body"]["@odata.nextLink"].is_string());
    assert_eq!(by_id(&r.body, "3")["status"], 404);
    assert_eq!(
        by_id(&r.body, "3")["body"]["error"]["code"],
        "Request_ResourceNotFound"
    );
    assert_eq!(by_id(&r.body, "4")["body"], "4");
    assert_eq!(by_id(&r.body, "5")["status"], 204);
    assert!(by_id(&r.body, "5").get("body").is_none());
    assert_eq!(by_id(&r.body, "6")["status"], 400);
    assert_eq!(
        env.get(&a, "/policies/crossTenantAccessPolicy").await.body["displayName"],
        "Batched"
    );
    // /beta works too and the stats count inner requests.
    let r = env
        .call(
            &a,
            "POST",
            &format!("{}/beta/$batch", env.base),
            Some(json!({"requests": [{"id": "a", "method": "GET", "url": "/users"}]})),
        )
        .await;
    assert_eq!(r.status, 200);
    let s = env.admin("GET", "stats", None).await.body;
    assert!(s["inner_requests"].as_u64().unwrap() >= 7);
    assert_eq!(
        s["per_tenant"][A]["http_requests"], 3,
        "batch, GET, beta batch"
    );
}

#[tokio::test]
async fn depends_on_failures_give_424() {
    let env = start().await;
    let a = env.a().await;
    let body = json!({"requests": [
        {"id": "3", "method": "GET", "url": "/users/alice@contoso.onmicrosoft.com", "dependsOn": ["2"]},
        {"id": "1", "method": "POST", "url": "/policies/crossTenantAccessPolicy/partners", "headers": {"content-type": "application/json"}, "body": {"tenantId": B}},
        {"id": "2", "method": "POST", "url": "/policies/crossTenantAccessPolicy/partners", "headers": {"content-type": "application/json"}, "body": {"tenantId": B}, "dependsOn": ["1"]}
    ]});
    let r = env.call(&a, "POST", "/$batch", Some(body)).await;
    assert_eq!(r.status, 200);
    assert_eq!(by_id(&r.body, "1")["status"], 201);
    assert_eq!(by_id(&r.body, "2")["status"], 409);
    assert_eq!(by_id(&r.body, "3")["status"], 424);
}

#[tokio::test]
async fn malformed_batches_are_400() {
    let env = start().await;
    let a = env.a().await;
    let many: Vec<Value> = (0..21)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/users"}))
        .collect();
    let r = env
        .call(&a, "POST", "/$batch", Some(json!({"requests": many})))
        .await;
    assert_eq!(r.status, 400);
    let twenty: Vec<Value> = (0..20)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/users"}))
        .collect();
    assert_eq!(
        env.call(&a, "POST", "/$batch", Some(json!({"requests": twenty})))
            .await
            .status,
        200
    );
    let dup = json!({"requests": [{"id": "a", "method": "GET", "url": "/users"}, {"id": "A", "method": "GET", "url": "/users"}]});
    assert_eq!(env.call(&a, "POST", "/$batch", Some(dup)).await.status, 400);
    let unknown_dep =
        json!({"requests": [{"id": "a", "method": "GET", "url": "/users", "dependsOn": ["z"]}]});
    assert_eq!(
        env.call(&a, "POST", "/$batch", Some(unknown_dep))
            .await
            .status,
        400
    );
    assert_eq!(
        env.call(&a, "POST", "/$batch", Some(json!({"nope": []})))
            .await
            .status,
        400
    );
    assert_eq!(env.call(&a, "GET", "/$batch", None).await.status, 405);
}
