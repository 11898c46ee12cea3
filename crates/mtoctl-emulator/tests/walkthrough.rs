//! The classic MTO walkthrough (reference §10) over raw HTTP, end to end:
//! templates → create → add → join → wait → share users both ways → cycles.

mod common;

use common::*;
use serde_json::{Value, json};

const MTO: &str = "/tenantRelationships/multiTenantOrganization";

async fn tick_both_boxes(env: &Env, tok: &str) {
    let r = env
        .call(
            tok,
            "PATCH",
            &format!("{P}/templates/multiTenantOrganizationIdentitySynchronization"),
            Some(json!({"userSyncInbound": {"isSyncAllowed": true}, "templateApplicationLevel": "newPartners,existingPartners"})),
        )
        .await;
    assert_eq!(r.status, 204);
    let r = env
        .call(
            tok,
            "PATCH",
            &format!("{P}/templates/multiTenantOrganizationPartnerConfiguration"),
            Some(json!({"automaticUserConsentSettings": {"inboundAllowed": true, "outboundAllowed": true}, "templateApplicationLevel": "newPartners,existingPartners"})),
        )
        .await;
    assert_eq!(r.status, 204);
}

/// Steps 11–16 of §10.2 for one direction, validating credentials first.
async fn share(
    env: &Env,
    tok: &str,
    target: &str,
    principals: &[String],
) -> (String, String, String) {
    let (sp, role, job) = configure(env, tok, target).await;
    let r = env
        .call(
            tok,
            "POST",
            &format!("/servicePrincipals/{sp}/synchronization/jobs/validateCredentials"),
            Some(json!({"useSavedCredentials": false, "templateId": "Azure2Azure", "credentials": [{"key": "CompanyId", "value": target}, {"key": "AuthenticationType", "value": "SyncPolicy"}]})),
        )
        .await;
    assert_eq!(r.status, 204, "templates configured both sides: {}", r.body);
    for p in principals {
        assert_eq!(assign(env, tok, &sp, &role, p).await.status, 201);
    }
    let r = env
        .call(
            tok,
            "POST",
            &format!("/servicePrincipals/{sp}/synchronization/jobs/{job}/start"),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    (sp, role, job)
}

fn members(users: &Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = users["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["userPrincipalName"].as_str().unwrap().contains("#EXT#"))
        .map(|u| {
            (
                u["userPrincipalName"].as_str().unwrap().to_owned(),
                u["userType"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn classic_walkthrough_over_raw_http() {
    let env = start().await;
    let (a, b) = (env.a().await, env.b().await);

    // 0. Both tenants tick both boxes before the MTO exists.
    tick_both_boxes(&env, &a).await;
    tick_both_boxes(&env, &b).await;

    // 1–2. Contoso creates the MTO and adds Fabrikam.
    let r = env
        .call(
            &a,
            "PUT",
            MTO,
            Some(json!({"displayName": "Contoso Group"})),
        )
        .await;
    assert_eq!(r.status, 201);
    let r = env
        .call(
            &a,
            "POST",
            &format!("{MTO}/tenants"),
            Some(json!({"tenantId": B, "displayName": "Fabrikam"})),
        )
        .await;
    assert_eq!((r.status, r.body["state"].as_str()), (201, Some("pending")));

    // 5. Fabrikam joins from its own tenant; the join completes later.
    let r = env
        .call(
            &b,
            "PATCH",
            &format!("{MTO}/joinRequest"),
            Some(json!({"addedByTenantId": A})),
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        env.get(&b, &format!("{MTO}/joinRequest")).await.body["memberState"],
        "pending"
    );
    env.advance(15.0 * 60.0).await;

    // 6. Both active; partner settings exist both ways with the template values.
    let ts = env.get(&a, &format!("{MTO}/tenants")).await.body;
    assert!(
        ts["value"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["state"] == "active"),
        "{ts}"
    );
    let jr = env.get(&b, &format!("{MTO}/joinRequest")).await.body;
    assert_eq!(
        (
            jr["memberState"].as_str(),
            jr["transitionDetails"].is_null()
        ),
        (Some("active"), true)
    );
    for (tok, other) in [(&a, B), (&b, A)] {
        let p = env
            .get(
                tok,
                &format!("{P}/partners/{other}?$expand=identitySynchronization"),
            )
            .await
            .body;
        assert_eq!(p["isInMultiTenantOrganization"], true);
        assert_eq!(
            p["automaticUserConsentSettings"],
            json!({"inboundAllowed": true, "outboundAllowed": true})
        );
        assert_eq!(
            p["identitySynchronization"]["userSyncInbound"]["isSyncAllowed"],
            true
        );
    }

    // Share one user each way.
    let alice = user_id(&env, &a, "alice@contoso.onmicrosoft.com").await;
    let carol = user_id(&env, &b, "carol@fabrikam.onmicrosoft.com").await;
    let (sp_ab, role_ab, _) = share(&env, &a, B, std::slice::from_ref(&alice)).await;
    let (sp_ba, role_ba, job_ba) = share(&env, &b, A, std::slice::from_ref(&carol)).await;
    env.advance(60.0).await;
    let in_b = env
        .get(&b, "/users?$select=userPrincipalName,userType&$top=999")
        .await
        .body;
    assert_eq!(
        members(&in_b),
        vec![(
            "alice_contoso.onmicrosoft.com#EXT#@fabrikam.onmicrosoft.com".to_owned(),
            "Member".to_owned()
        )]
    );
    let in_a = env
        .get(&a, "/users?$select=userPrincipalName,userType")
        .await
        .body;
    assert_eq!(
        members(&in_a),
        vec![(
            "carol_fabrikam.onmicrosoft.com#EXT#@contoso.onmicrosoft.com".to_owned(),
            "Member".to_owned()
        )]
    );

    // Add more users and a group each way, then let a regular cycle run.
    let bob = user_id(&env, &a, "bob@contoso.onmicrosoft.com").await;
    let sales = env
        .get(
            &a,
            "/groups?$filter=displayName eq 'Contoso Sales'&$select=id",
        )
        .await
        .body["value"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let eng = env
        .get(
            &b,
            "/groups?$filter=displayName eq 'Fabrikam Engineering'&$select=id",
        )
        .await
        .body["value"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(assign(&env, &a, &sp_ab, &role_ab, &bob).await.status, 201);
    assert_eq!(assign(&env, &a, &sp_ab, &role_ab, &sales).await.status, 201);
    assert_eq!(assign(&env, &b, &sp_ba, &role_ba, &eng).await.status, 201);
    env.advance(40.0 * 60.0).await;

    let in_b = env
        .get(&b, "/users?$select=userPrincipalName,userType")
        .await
        .body;
    let expected_b: Vec<(String, String)> = ["alice", "bob", "erin"]
        .iter()
        .map(|n| {
            (
                format!("{n}_contoso.onmicrosoft.com#EXT#@fabrikam.onmicrosoft.com"),
                "Member".to_owned(),
            )
        })
        .collect();
    assert_eq!(members(&in_b), expected_b);
    let in_a = env
        .get(&a, "/users?$select=userPrincipalName,userType")
        .await
        .body;
    let expected_a: Vec<(String, String)> = ["carol", "dan"]
        .iter()
        .map(|n| {
            (
                format!("{n}_fabrikam.onmicrosoft.com#EXT#@contoso.onmicrosoft.com"),
                "Member".to_owned(),
            )
        })
        .collect();
    assert_eq!(members(&in_a), expected_a);

    // The synced accounts are found by UPN filter, as mtoctl's verification does.
    let r = env
        .get(&b, "/users?$filter=userPrincipalName eq 'bob_contoso.onmicrosoft.com%23EXT%23@fabrikam.onmicrosoft.com'&$select=userType,showInAddressList,displayName")
        .await;
    assert_eq!(
        r.body["value"],
        json!([{"userType": "Member", "showInAddressList": true, "displayName": "Bob Stone"}])
    );
    let job = env
        .get(
            &b,
            &format!("/servicePrincipals/{sp_ba}/synchronization/jobs/{job_ba}"),
        )
        .await
        .body;
    assert_eq!(job["status"]["code"], "Active");
    assert_eq!(
        job["status"]["synchronizedEntryCountByType"],
        json!([{"key": "User", "value": 2}])
    );
}

/// Two emulators with the same world and seed, driven by the same requests,
/// end in identical states (ids included).
#[tokio::test]
async fn same_seed_same_requests_same_state() {
    let mut states = Vec::new();
    for _ in 0..2 {
        let env = start().await;
        let (a, b) = (env.a().await, env.b().await);
        tick_both_boxes(&env, &a).await;
        tick_both_boxes(&env, &b).await;
        env.call(&a, "PUT", MTO, Some(json!({"displayName": "G"})))
            .await;
        env.call(
            &a,
            "POST",
            &format!("{MTO}/tenants"),
            Some(json!({"tenantId": B, "displayName": "Fabrikam"})),
        )
        .await;
        env.call(
            &b,
            "PATCH",
            &format!("{MTO}/joinRequest"),
            Some(json!({"addedByTenantId": A})),
        )
        .await;
        env.advance(900.0).await;
        let alice = user_id(&env, &a, "alice@contoso.onmicrosoft.com").await;
        share(&env, &a, B, &[alice]).await;
        env.advance(60.0).await;
        states.push(env.admin("GET", "state", None).await.body);
    }
    assert_eq!(states[0], states[1]);
    assert!(states[0]["tenants"][B]["users"].as_array().unwrap().len() == 3);
}
