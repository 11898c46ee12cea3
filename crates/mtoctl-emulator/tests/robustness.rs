//! Bad input never panics: property tests over the parsers, and a sweep of
//! malformed requests over HTTP that must all get well-formed 4xx answers.

mod common;

use common::*;
use mtoctl_emulator::odata::{QueryOptions, parse_filter, parse_query, percent_decode};
use proptest::prelude::*;
use serde_json::{Value, json};

proptest! {
    #[test]
    fn filter_parser_never_panics(s in ".{0,80}") {
        let _ = parse_filter(&s);
    }

    #[test]
    fn filter_parser_never_panics_on_filter_like_text(s in "[a-zA-Z' ()=,]{0,60}( eq | in | and | or | ne )[a-zA-Z' ()=,]{0,60}") {
        if let Ok(e) = parse_filter(&s) {
            let _ = e.eval(&serde_json::Map::new());
        }
    }

    #[test]
    fn query_parsing_never_panics(s in ".{0,120}") {
        let q = parse_query(&s);
        let _ = QueryOptions::parse(&q, true);
        let _ = percent_decode(&s, true);
    }

    #[test]
    fn world_parser_never_panics(s in ".{0,200}") {
        if let Ok(w) = mtoctl_emulator::world::WorldFile::parse(&s) {
            let _ = w.into_state(Some(1));
        }
    }

    #[test]
    fn jwt_decoder_never_panics(s in "[A-Za-z0-9_.=-]{0,120}") {
        let _ = mtoctl_emulator::auth::decode_unverified(&s);
    }
}

#[tokio::test]
async fn malformed_requests_get_graph_errors_not_crashes() {
    let env = start().await;
    let a = env.a().await;
    let cases: Vec<(&str, String, Option<Value>)> = vec![
        ("PUT", "/tenantRelationships/multiTenantOrganization".into(), Some(json!([1, 2]))),
        ("PUT", "/tenantRelationships/multiTenantOrganization".into(), Some(json!({"displayName": 5}))),
        ("POST", "/tenantRelationships/multiTenantOrganization/tenants".into(), Some(json!({"tenantId": null}))),
        ("PATCH", "/tenantRelationships/multiTenantOrganization/joinRequest".into(), Some(json!({"addedByTenantId": "%%%"}))),
        ("PATCH", "/tenantRelationships/multiTenantOrganization/joinRequest".into(), None),
        ("POST", "/policies/crossTenantAccessPolicy/partners".into(), Some(json!({"tenantId": B, "b2bCollaborationInbound": "yes"}))),
        ("PATCH", "/policies/crossTenantAccessPolicy/templates/multiTenantOrganizationPartnerConfiguration".into(), Some(json!({"templateApplicationLevel": 7}))),
        ("GET", "/users?$filter=(((((".into(), None),
        ("GET", "/users?$filter=userType in ()".into(), None),
        ("GET", "/users?$top=-5".into(), None),
        ("GET", "/users?$skiptoken=%ZZ".into(), None),
        ("GET", "/users/%".into(), None),
        ("POST", "/$batch".into(), Some(json!({"requests": [{"id": 1}]}))),
        ("POST", "/$batch".into(), Some(json!({"requests": [{"id": "1", "method": "GET", "url": "/users", "dependsOn": ["1"]}]}))),
        ("POST", "/applicationTemplates/x/instantiate".into(), Some(json!({"displayName": "x"}))),
        ("POST", "/servicePrincipals/nope/synchronization/jobs".into(), Some(json!({"templateId": "Azure2Azure"}))),
        ("GET", "/tenantRelationships/multiTenantOrganization/tenants/%00".into(), None),
        ("DELETE", "/policies/crossTenantAccessPolicy/partners/".into(), None),
    ];
    for (method, path, body) in cases {
        let r = env.call(&a, method, &path, body).await;
        assert!(
            (400..500).contains(&r.status),
            "{method} {path}: {} {}",
            r.status,
            r.body
        );
        if r.status != 405 || r.body.is_object() {
            assert!(
                r.body["error"]["code"].is_string(),
                "{method} {path}: {}",
                r.body
            );
        }
    }
    // An absolute URL in a batch item fails only that item.
    let r = env
        .call(&a, "POST", "/$batch", Some(json!({"requests": [{"id": "1", "method": "GET", "url": "https://evil.example/users"}]})))
        .await;
    assert_eq!(
        (r.status, r.body["responses"][0]["status"].as_u64()),
        (200, Some(400))
    );
    // Raw invalid JSON.
    let r = env
        .client
        .patch(format!(
            "{}/v1.0/policies/crossTenantAccessPolicy",
            env.base
        ))
        .bearer_auth(&a)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Garbage to the token endpoint.
    let r = env
        .client
        .post(format!("{}/{A}/oauth2/v2.0/token", env.base))
        .body("%%%&&&===")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // The server is still healthy.
    assert_eq!(env.get(&a, "/users").await.status, 200);
}
