//! Cross-tenant sync plumbing and cycles (reference §6).

mod common;

use common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn instantiate_and_service_principals() {
    let env = start().await;
    let a = env.a().await;
    let r = env
        .call(
            &a,
            "POST",
            &format!("/applicationTemplates/{SYNC_TEMPLATE}/instantiate"),
            Some(json!({"displayName": format!("MTO_Sync_{B}")})),
        )
        .await;
    assert_eq!(r.status, 201);
    assert!(
        r.body["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("$metadata#microsoft.graph.applicationServicePrincipal")
    );
    let app = &r.body["application"];
    let sp = &r.body["servicePrincipal"];
    assert_eq!(app["applicationTemplateId"], SYNC_TEMPLATE);
    assert_eq!(app["appId"], sp["appId"]);
    assert_eq!(sp["appRoleAssignmentRequired"], true);
    assert_eq!(sp["servicePrincipalType"], "Application");
    assert_eq!(sp["appRoles"][0]["displayName"], "msiam_access");
    assert_eq!(sp["appRoles"][0]["allowedMemberTypes"], json!(["User"]));
    let sp_id = sp["id"].as_str().unwrap().to_owned();

    let r = env.get(&a, &format!("/servicePrincipals?$filter=applicationTemplateId eq '{SYNC_TEMPLATE}'&$select=id,appId,displayName,appRoles")).await;
    assert_eq!(r.status, 200);
    let v = r.body["value"].as_array().unwrap();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["id"], sp_id.as_str());
    assert_eq!(v[0].as_object().unwrap().len(), 4);
    let r = env
        .get(
            &a,
            &format!("/servicePrincipals?$filter=displayName eq 'MTO_Sync_{B}'"),
        )
        .await;
    assert_eq!(r.body["value"].as_array().unwrap().len(), 1);
    let r = env
        .get(&a, "/servicePrincipals?$filter=displayName eq 'nope'")
        .await;
    assert_eq!(r.body["value"], json!([]));
    assert_eq!(
        env.get(&a, &format!("/servicePrincipals/{sp_id}?$select=appRoles"))
            .await
            .status,
        200
    );

    let r = env
        .call(
            &a,
            "POST",
            "/applicationTemplates/00000000-0000-4000-8000-000000000001/instantiate",
            Some(json!({"displayName": "x"})),
        )
        .await;
    assert_eq!(r.status, 404);
    let r = env
        .call(
            &a,
            "POST",
            &format!("/applicationTemplates/{SYNC_TEMPLATE}/instantiate"),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, 400);

    let apps = env
        .get(
            &a,
            &format!("/applications?$filter=applicationTemplateId eq '{SYNC_TEMPLATE}'"),
        )
        .await
        .body;
    assert_eq!(apps["value"].as_array().unwrap().len(), 1);
    assert_eq!(apps["value"][0]["id"], app["id"]);
    let app_path = format!("/applications/{}", app["id"].as_str().unwrap());
    assert_eq!(env.get(&a, &app_path).await.status, 200);

    assert_eq!(
        env.call(&a, "DELETE", &format!("/servicePrincipals/{sp_id}"), None)
            .await
            .status,
        204
    );
    let r = env.get(&a, &format!("/servicePrincipals/{sp_id}")).await;
    assert_eq!((r.status, r.code()), (404, "Request_ResourceNotFound"));
    // Fabrikam cannot see Contoso's configurations.
    let b = env.b().await;
    assert_eq!(
        env.get(&b, "/servicePrincipals").await.body["value"],
        json!([])
    );
}

#[tokio::test]
async fn validate_credentials_checks_policies() {
    let env = start().await;
    let (a, b) = (env.a().await, env.b().await);
    let (sp, _, job) = configure(&env, &a, B).await;
    let body = json!({"useSavedCredentials": false, "templateId": "Azure2Azure", "credentials": [{"key": "CompanyId", "value": B}, {"key": "AuthenticationType", "value": "SyncPolicy"}]});
    let url = format!("/servicePrincipals/{sp}/synchronization/jobs/validateCredentials");
    let r = env.call(&a, "POST", &url, Some(body.clone())).await;
    assert_eq!(
        (r.status, r.code()),
        (400, "CrossTenantSyncPolicyCheckFailure")
    );

    // Inbound sync allowed, but no auto-redemption consent yet.
    env.call(
        &b,
        "POST",
        &format!("{P}/partners"),
        Some(json!({"tenantId": A})),
    )
    .await;
    env.call(
        &b,
        "PUT",
        &format!("{P}/partners/{A}/identitySynchronization"),
        Some(json!({"userSyncInbound": {"isSyncAllowed": true}})),
    )
    .await;
    let r = env.call(&a, "POST", &url, Some(body.clone())).await;
    assert_eq!(
        (r.status, r.code()),
        (400, "AzureDirectoryB2BManagementPolicyCheckFailure")
    );
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("auto-redemption")
    );

    allow_sync(&env, &a, A, &b, B).await;
    assert_eq!(env.call(&a, "POST", &url, Some(body)).await.status, 204);
    let per_job = format!("/servicePrincipals/{sp}/synchronization/jobs/{job}/validateCredentials");
    assert_eq!(
        env.call(
            &a,
            "POST",
            &per_job,
            Some(json!({"useSavedCredentials": true}))
        )
        .await
        .status,
        204
    );
}

#[tokio::test]
async fn job_lifecycle_schema_and_secrets() {
    let env = start().await;
    let a = env.a().await;
    let (sp, _, job) = configure(&env, &a, B).await;
    let base = format!("/servicePrincipals/{sp}/synchronization");
    let j = env.get(&a, &format!("{base}/jobs/{job}")).await.body;
    assert_eq!(j["templateId"], "Azure2Azure");
    assert_eq!(
        j["schedule"],
        json!({"expiration": null, "interval": "PT40M", "state": "Disabled"})
    );
    assert_eq!(j["status"]["code"], "Paused");
    assert!(j["status"]["lastExecution"].is_null());
    assert_eq!(
        j["status"]["steadyStateFirstAchievedTime"],
        "0001-01-01T00:00:00Z"
    );
    assert!(job.starts_with("Azure2Azure."));
    let l = env.get(&a, &format!("{base}/jobs")).await.body;
    assert_eq!(l["value"].as_array().unwrap().len(), 1);
    assert_eq!(
        env.call(
            &a,
            "POST",
            &format!("{base}/jobs"),
            Some(json!({"templateId": "SCIM"}))
        )
        .await
        .status,
        400
    );

    // Schema: the USER_INBOUND_USER rule with a userType constant.
    let s = env.get(&a, &format!("{base}/jobs/{job}/schema")).await.body;
    let rule = &s["synchronizationRules"][0];
    assert_eq!(rule["name"], "USER_INBOUND_USER");
    assert_eq!(rule["sourceDirectoryName"], "Azure Active Directory");
    assert_eq!(
        rule["targetDirectoryName"],
        "Azure Active Directory (target tenant)"
    );
    let maps = rule["objectMappings"][0]["attributeMappings"]
        .as_array()
        .unwrap();
    let ut = maps
        .iter()
        .find(|m| m["targetAttributeName"] == "userType")
        .unwrap();
    assert_eq!(ut["source"]["type"], "Constant");
    assert_eq!(ut["source"]["name"], "Member");
    assert!(maps.iter().any(
        |m| m["targetAttributeName"] == "alternativeSecurityIds" && m["matchingPriority"] == 1
    ));

    // Full-replace PUT: change the constant, keep everything else.
    let mut s2 = s.clone();
    for m in s2["synchronizationRules"][0]["objectMappings"][0]["attributeMappings"]
        .as_array_mut()
        .unwrap()
    {
        if m["targetAttributeName"] == "userType" {
            m["source"]["name"] = json!("Guest");
            m["source"]["expression"] = json!("\"Guest\"");
            m["flowType"] = json!("Always");
        }
    }
    assert_eq!(
        env.call(
            &a,
            "PUT",
            &format!("{base}/jobs/{job}/schema"),
            Some(as_body(s2))
        )
        .await
        .status,
        204
    );
    let s3 = env.get(&a, &format!("{base}/jobs/{job}/schema")).await.body;
    let ut = s3["synchronizationRules"][0]["objectMappings"][0]["attributeMappings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["targetAttributeName"] == "userType")
        .cloned()
        .unwrap();
    assert_eq!(
        (ut["source"]["name"].clone(), ut["flowType"].clone()),
        (json!("Guest"), json!("Always"))
    );
    let r = env
        .call(
            &a,
            "PUT",
            &format!("{base}/jobs/{job}/schema"),
            Some(json!({"synchronizationRules": []})),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "schemaInvalid"));

    let ops = env
        .get(&a, &format!("{base}/jobs/{job}/schema/filterOperators"))
        .await
        .body;
    assert!(
        ops["value"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["name"] == "EQUALS")
    );
    let t = env.get(&a, &format!("{base}/templates")).await.body;
    assert_eq!(t["value"][0]["id"], "Azure2Azure");

    // Secrets read back as written (the property is declared in v1.0; graph-facts.md).
    let read = env.get(&a, &format!("{base}/secrets")).await;
    assert_eq!(read.status, 200);
    assert!(
        read.body["value"]
            .as_array()
            .unwrap()
            .contains(&json!({"key": "CompanyId", "value": B})),
        "{}",
        read.body
    );
    let r = env
        .call(
            &a,
            "PUT",
            &format!("{base}/secrets"),
            Some(json!({"value": [{"key": "Colour", "value": "x"}]})),
        )
        .await;
    assert_eq!(r.status, 400);

    // start / pause / restart / delete.
    assert_eq!(
        env.call(&a, "POST", &format!("{base}/jobs/{job}/start"), None)
            .await
            .status,
        204
    );
    let j = env.get(&a, &format!("{base}/jobs/{job}")).await.body;
    assert_eq!(
        (j["schedule"]["state"].clone(), j["status"]["code"].clone()),
        (json!("Active"), json!("NotRun"))
    );
    let r = env
        .call(&a, "POST", &format!("{base}/jobs/{job}/start"), None)
        .await;
    assert_eq!(r.status, 400, "start on a running job is an error");
    assert_eq!(
        env.call(&a, "POST", &format!("{base}/jobs/{job}/pause"), None)
            .await
            .status,
        204
    );
    let j = env.get(&a, &format!("{base}/jobs/{job}")).await.body;
    assert_eq!(
        (j["schedule"]["state"].clone(), j["status"]["code"].clone()),
        (json!("Paused"), json!("Paused"))
    );
    let r = env
        .call(
            &a,
            "POST",
            &format!("{base}/jobs/{job}/restart"),
            Some(json!({"criteria": {"resetScope": "Watermark, Escrows, QuarantineState"}})),
        )
        .await;
    assert_eq!(r.status, 204);
    let r = env
        .call(
            &a,
            "POST",
            &format!("{base}/jobs/{job}/restart"),
            Some(json!({"criteria": {"resetScope": "Everything"}})),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        env.call(&a, "DELETE", &format!("{base}/jobs/{job}"), None)
            .await
            .status,
        204
    );
    assert_eq!(env.get(&a, &format!("{base}/jobs/{job}")).await.status, 404);
}

#[tokio::test]
async fn app_role_assignments() {
    let env = start().await;
    let a = env.a().await;
    let (sp, role, _) = configure(&env, &a, B).await;
    let alice = user_id(&env, &a, "alice@contoso.onmicrosoft.com").await;
    let bob = user_id(&env, &a, "bob@contoso.onmicrosoft.com").await;
    let r = assign(&env, &a, &sp, &role, &alice).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["principalType"], "User");
    assert_eq!(r.body["principalDisplayName"], "Alice Martin");
    assert_eq!(r.body["resourceId"], sp.as_str());
    assert_eq!(r.body["appRoleId"], role.as_str());
    let aid = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(aid.len(), 43, "opaque base64url, not a GUID: {aid}");
    let r = assign(&env, &a, &sp, &role, &alice).await;
    assert_eq!((r.status, r.code()), (400, "Request_BadRequest"));
    let r = assign(&env, &a, &sp, "00000000-0000-4000-8000-000000000000", &bob).await;
    assert_eq!(r.status, 400);
    let r = assign(&env, &a, &sp, &role, "00000000-0000-4000-8000-000000000009").await;
    assert_eq!(r.status, 404);
    assert_eq!(assign(&env, &a, &sp, &role, &bob).await.status, 201);

    let r = env
        .get(
            &a,
            &format!("/servicePrincipals/{sp}/appRoleAssignedTo?$top=1"),
        )
        .await;
    assert_eq!(r.body["value"].as_array().unwrap().len(), 1);
    let next = r.body["@odata.nextLink"].as_str().unwrap().to_owned();
    let r2 = env.get(&a, &next).await;
    assert_eq!(r2.body["value"].as_array().unwrap().len(), 1);
    assert!(r2.body.get("@odata.nextLink").is_none());
    let r = env.get(&a, &format!("/servicePrincipals/{sp}/appRoleAssignedTo?$filter=principalDisplayName eq 'Bob Stone'")).await;
    assert_eq!(r.body["value"].as_array().unwrap().len(), 1);

    // One assignment by id (approleassignment-get): 200 with it, 404 for an unknown id.
    let one = format!("/servicePrincipals/{sp}/appRoleAssignedTo/{aid}");
    let r = env.get(&a, &one).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (
            r.body["id"].as_str(),
            r.body["principalId"].as_str(),
            r.body["resourceId"].as_str(),
            r.body["appRoleId"].as_str(),
            r.body["principalType"].as_str()
        ),
        (
            Some(aid.as_str()),
            Some(alice.as_str()),
            Some(sp.as_str()),
            Some(role.as_str()),
            Some("User")
        )
    );
    assert!(
        r.body["@odata.context"]
            .as_str()
            .is_some_and(|c| c.ends_with("/appRoleAssignedTo/$entity")),
        "{}",
        r.body
    );
    let r = env
        .get(
            &a,
            &format!(
                "/servicePrincipals/{sp}/appRoleAssignedTo/{}",
                "x".repeat(43)
            ),
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "Request_ResourceNotFound"));

    assert_eq!(
        env.call(
            &a,
            "DELETE",
            &format!("/servicePrincipals/{sp}/appRoleAssignedTo/{aid}"),
            None
        )
        .await
        .status,
        204
    );
    assert_eq!(
        env.call(
            &a,
            "DELETE",
            &format!("/servicePrincipals/{sp}/appRoleAssignedTo/{aid}"),
            None
        )
        .await
        .status,
        404
    );
    assert_eq!(env.get(&a, &one).await.status, 404, "gone once deleted");
}

fn find_user<'a>(users: &'a Value, upn_prefix: &str) -> Option<&'a Value> {
    users["value"].as_array()?.iter().find(|u| {
        u["userPrincipalName"]
            .as_str()
            .is_some_and(|s| s.starts_with(upn_prefix))
    })
}

#[tokio::test]
async fn cycles_provision_update_scope_and_deprovision() {
    let env = start().await;
    let (a, b) = (env.a().await, env.b().await);
    allow_sync(&env, &a, A, &b, B).await;
    let (sp, role, job) = configure(&env, &a, B).await;
    let alice = user_id(&env, &a, "alice@contoso.onmicrosoft.com").await;
    let frank = user_id(&env, &a, "frank@contoso.onmicrosoft.com").await;
    let sales = env
        .get(&a, "/groups?$filter=displayName eq 'Contoso Sales'")
        .await
        .body["value"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(assign(&env, &a, &sp, &role, &alice).await.status, 201);
    let group_assignment = assign(&env, &a, &sp, &role, &sales).await;
    assert_eq!(group_assignment.body["principalType"], "Group");
    assert_eq!(
        assign(&env, &a, &sp, &role, &frank).await.status,
        201,
        "guests can be assigned but are never synced"
    );
    let jobs = format!("/servicePrincipals/{sp}/synchronization/jobs/{job}");
    assert_eq!(
        env.call(&a, "POST", &format!("{jobs}/start"), None)
            .await
            .status,
        204
    );
    let sel = "/users?$select=id,userPrincipalName,userType,showInAddressList,displayName,department,creationType,identities";
    assert_eq!(
        env.get(&b, sel).await.body["value"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "nothing before the first cycle"
    );

    env.advance(30.0).await;
    let users = env.get(&b, sel).await.body;
    let al = find_user(
        &users,
        "alice_contoso.onmicrosoft.com#EXT#@fabrikam.onmicrosoft.com",
    )
    .expect("alice synced");
    assert_eq!(al["userType"], "Member");
    assert_eq!(al["showInAddressList"], true);
    assert_eq!(al["department"], "Sales");
    assert_eq!(al["identities"][0]["issuer"], "ExternalAzureAD");
    assert!(
        find_user(&users, "erin_contoso.onmicrosoft.com#EXT#").is_some(),
        "group member synced"
    );
    assert!(find_user(&users, "bob_").is_none(), "bob is not assigned");
    assert!(
        find_user(&users, "frank_").is_none(),
        "guests are not synced"
    );
    // The #EXT# UPN is addressable (URL-encoded).
    let r = env
        .get(
            &b,
            "/users/alice_contoso.onmicrosoft.com%23EXT%23@fabrikam.onmicrosoft.com",
        )
        .await;
    assert_eq!(r.status, 200);

    let j = env.get(&a, &jobs).await.body;
    assert_eq!(j["status"]["code"], "Active");
    assert_eq!(j["status"]["lastExecution"]["state"], "Succeeded");
    assert_eq!(j["status"]["lastExecution"]["countExported"], 2);
    assert_eq!(j["status"]["lastExecution"]["countEntitled"], 2);
    assert_eq!(
        j["status"]["synchronizedEntryCountByType"],
        json!([{"key": "User", "value": 2}])
    );
    assert!(j["status"]["lastSuccessfulExecutionWithExports"].is_object());

    // Remove the group assignment: erin leaves scope at the next cycle (40 min later).
    let gid = group_assignment.body["id"].as_str().unwrap();
    assert_eq!(
        env.call(
            &a,
            "DELETE",
            &format!("/servicePrincipals/{sp}/appRoleAssignedTo/{gid}"),
            None
        )
        .await
        .status,
        204
    );
    env.advance(60.0).await;
    assert!(
        find_user(&env.get(&b, sel).await.body, "erin_").is_some(),
        "no cycle yet"
    );
    env.advance(2400.0).await;
    let users = env.get(&b, sel).await.body;
    assert!(
        find_user(&users, "erin_").is_none(),
        "soft-deleted users are not listed"
    );
    assert!(find_user(&users, "alice_").is_some());
    let j = env.get(&a, &jobs).await.body;
    assert_eq!(
        j["status"]["synchronizedEntryCountByType"],
        json!([{"key": "User", "value": 1}])
    );

    // A scoping filter on department removes alice too.
    let mut schema = env.get(&a, &format!("{jobs}/schema")).await.body;
    schema["synchronizationRules"][0]["objectMappings"][0]["scope"] = json!({"groups": [{"name": "Eng", "clauses": [
        {"sourceOperandName": "department", "operatorName": "EQUALS", "targetOperand": {"values": ["Engineering"]}}
    ]}]});
    assert_eq!(
        env.call(&a, "PUT", &format!("{jobs}/schema"), Some(as_body(schema)))
            .await
            .status,
        204
    );
    env.advance(30.0).await;
    assert!(find_user(&env.get(&b, sel).await.body, "alice_").is_none());
}

#[tokio::test]
async fn target_forbidding_inbound_sync_quarantines() {
    let env = start().await;
    let (a, b) = (env.a().await, env.b().await);
    allow_sync(&env, &a, A, &b, B).await;
    let (sp, role, job) = configure(&env, &a, B).await;
    let alice = user_id(&env, &a, "alice@contoso.onmicrosoft.com").await;
    assign(&env, &a, &sp, &role, &alice).await;
    let r = env
        .call(
            &b,
            "PATCH",
            &format!("{P}/partners/{A}/identitySynchronization"),
            Some(json!({"userSyncInbound": {"isSyncAllowed": false}})),
        )
        .await;
    assert_eq!(r.status, 204);
    let jobs = format!("/servicePrincipals/{sp}/synchronization/jobs/{job}");
    env.call(&a, "POST", &format!("{jobs}/start"), None).await;
    env.advance(30.0).await;
    let j = env.get(&a, &jobs).await.body;
    assert_eq!(j["status"]["code"], "Quarantine");
    assert_eq!(
        j["status"]["quarantine"]["reason"],
        "EncounteredQuarantineException"
    );
    assert_eq!(
        j["status"]["quarantine"]["error"]["code"],
        "CrossTenantSyncPolicyCheckFailure"
    );
    assert_eq!(j["status"]["lastExecution"]["state"], "Failed");
    assert_eq!(j["status"]["countSuccessiveCompleteFailures"], 1);
    assert!(
        env.get(&b, "/users?$filter=startswith(userPrincipalName,'alice_')")
            .await
            .body["value"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Fixing the policy and starting again clears the quarantine.
    env.call(
        &b,
        "PATCH",
        &format!("{P}/partners/{A}/identitySynchronization"),
        Some(json!({"userSyncInbound": {"isSyncAllowed": true}})),
    )
    .await;
    assert_eq!(
        env.call(&a, "POST", &format!("{jobs}/start"), None)
            .await
            .status,
        204
    );
    env.advance(30.0).await;
    assert_eq!(env.get(&a, &jobs).await.body["status"]["code"], "Active");
}

#[tokio::test]
async fn provision_on_demand_and_its_rate_limit() {
    let env = start().await;
    let (a, b) = (env.a().await, env.b().await);
    allow_sync(&env, &a, A, &b, B).await;
    let (sp, role, job) = configure(&env, &a, B).await;
    let alice = user_id(&env, &a, "alice@contoso.onmicrosoft.com").await;
    let bob = user_id(&env, &a, "bob@contoso.onmicrosoft.com").await;
    assign(&env, &a, &sp, &role, &alice).await;
    let url = format!("/servicePrincipals/{sp}/synchronization/jobs/{job}/provisionOnDemand");
    let body = |id: &str| json!({"parameters": [{"ruleId": "6c409270-f78a-4bc6-af23-7cf3ab6482fe", "subjects": [{"objectId": id, "objectTypeName": "User"}]}]});
    let r = env.call(&a, "POST", &url, Some(body(&alice))).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("microsoft.graph.stringKeyStringValuePair")
    );
    let value: Value = serde_json::from_str(r.body["value"].as_str().unwrap()).unwrap();
    assert_eq!(
        value[0]["provisioningSteps"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()["status"],
        "Success"
    );
    let r = env
        .get(
            &b,
            "/users?$filter=startswith(userPrincipalName,'alice_contoso')&$select=userType",
        )
        .await;
    assert_eq!(r.body["value"][0]["userType"], "Member");
    // bob is not assigned: skipped.
    let r = env.call(&a, "POST", &url, Some(body(&bob))).await;
    let value: Value = serde_json::from_str(r.body["value"].as_str().unwrap()).unwrap();
    assert_eq!(value[0]["statusInfo"]["status"], "Skipped");
    let r = env.call(&a, "POST", &url, Some(json!({"parameters": [{"ruleId": "nope", "subjects": [{"objectId": alice, "objectTypeName": "User"}]}]}))).await;
    assert_eq!(r.status, 400);
    for _ in 0..3 {
        assert_eq!(
            env.call(&a, "POST", &url, Some(body(&alice))).await.status,
            200
        );
    }
    let r = env.call(&a, "POST", &url, Some(body(&alice))).await;
    assert_eq!((r.status, r.code()), (429, "TooManyRequests"));
    assert!(r.header("retry-after").is_some());
    env.advance(10.0).await;
    let a2 = env.a().await;
    assert_eq!(
        env.call(&a2, "POST", &url, Some(body(&alice))).await.status,
        200
    );
}

#[tokio::test]
async fn provisioning_logs_record_cycles() {
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
    let g = assign(&env, &a, &sp, &role, &sales).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    env.call(
        &a,
        "POST",
        &format!("/servicePrincipals/{sp}/synchronization/jobs/{job}/start"),
        None,
    )
    .await;
    env.advance(30.0).await;
    let a = env.a().await;
    let r = env.get(&a, &format!("/auditLogs/provisioning?$filter=jobId eq '{job}' and provisioningAction eq 'create'")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.body["value"].as_array().unwrap();
    assert_eq!(v.len(), 2);
    assert_eq!(v[0]["provisioningStatusInfo"]["status"], "success");
    assert_eq!(v[0]["servicePrincipal"]["id"], sp.as_str());
    assert_eq!(v[0]["targetSystem"]["id"], B);
    env.call(
        &a,
        "DELETE",
        &format!("/servicePrincipals/{sp}/appRoleAssignedTo/{g}"),
        None,
    )
    .await;
    env.advance(2400.0).await;
    let a = env.a().await;
    let r = env
        .get(
            &a,
            "/auditLogs/provisioning?$top=1&$select=provisioningAction,sourceIdentity",
        )
        .await;
    assert_eq!(
        r.body["value"][0]["provisioningAction"], "delete",
        "newest first"
    );
    assert!(r.body["@odata.nextLink"].is_string());
    // Identity reports: 5 requests per 10 s (one made above).
    for _ in 0..4 {
        assert_eq!(env.get(&a, "/auditLogs/provisioning").await.status, 200);
    }
    let r = env.get(&a, "/auditLogs/provisioning").await;
    assert_eq!((r.status, r.code()), (429, "TooManyRequests"));
    // Fabrikam's log is its own (empty).
    let b = env.b().await;
    assert_eq!(
        env.get(&b, "/auditLogs/provisioning").await.body["value"],
        json!([])
    );
}

#[tokio::test]
async fn last_execution_before_and_after_the_first_cycle() {
    let env = start().await;
    let (a, b) = (env.a().await, env.b().await);
    allow_sync(&env, &a, A, &b, B).await;
    let (sp, _, job) = configure(&env, &a, B).await;
    let path = format!("/servicePrincipals/{sp}/synchronization/jobs/{job}");

    // Never started: the Entra how-to's create response, no execution at all.
    let s = env.get(&a, &path).await.body["status"].clone();
    assert_eq!(s["code"], "Paused");
    assert!(s["lastExecution"].is_null(), "{s}");

    // Started, no cycle yet: the how-to's `NotRun` job shows a placeholder execution.
    let r = env.call(&a, "POST", &format!("{path}/start"), None).await;
    assert_eq!(r.status, 204);
    let s = env.get(&a, &path).await.body["status"].clone();
    assert_eq!(s["code"], "NotRun");
    let e = &s["lastExecution"];
    assert_eq!(e["state"], "Failed", "{s}");
    assert_eq!(e["error"]["code"], "None");
    assert_eq!(e["timeBegan"], "0001-01-01T00:00:00Z");
    assert_eq!(e["timeEnded"], "0001-01-01T00:00:00Z");
    assert_eq!(e["countExported"], 0);
    assert!(s["lastSuccessfulExecution"].is_null(), "{s}");

    // After the first cycle: the real execution.
    env.advance(30.0).await;
    let s = env.get(&a, &path).await.body["status"].clone();
    assert_eq!(s["code"], "Active", "{s}");
    let e = &s["lastExecution"];
    assert_eq!(e["state"], "Succeeded", "{s}");
    assert!(e["error"].is_null(), "{s}");
    assert_ne!(e["timeBegan"], "0001-01-01T00:00:00Z");
    assert_eq!(s["lastSuccessfulExecution"]["timeBegan"], e["timeBegan"]);
}

#[tokio::test]
async fn schema_delete_resets_and_patch_replaces_the_given_properties() {
    let env = start().await;
    let a = env.a().await;
    let (sp, _, job) = configure(&env, &a, B).await;
    let schema = format!("/servicePrincipals/{sp}/synchronization/jobs/{job}/schema");
    let default = as_body(env.get(&a, &schema).await.body);

    // PATCH (an OData PATCH: the given top-level properties replace the stored ones).
    let mut rules = default["synchronizationRules"].clone();
    rules[0]["objectMappings"][0]["flowTypes"] = json!("Add, Update");
    let r = env
        .call(
            &a,
            "PATCH",
            &schema,
            Some(json!({"synchronizationRules": rules})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let patched = as_body(env.get(&a, &schema).await.body);
    assert_eq!(
        patched["synchronizationRules"][0]["objectMappings"][0]["flowTypes"],
        "Add, Update"
    );
    assert_eq!(patched["directories"], default["directories"], "untouched");
    assert_eq!(patched["id"], default["id"]);

    // The same validation as PUT: nothing is stored.
    let r = env
        .call(
            &a,
            "PATCH",
            &schema,
            Some(json!({"synchronizationRules": []})),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "schemaInvalid"));
    let r = env.call(&a, "PATCH", &schema, Some(json!([1]))).await;
    assert_eq!(r.status, 400);
    assert_eq!(as_body(env.get(&a, &schema).await.body), patched);

    // DELETE: back to the default configuration.
    let r = env.call(&a, "DELETE", &schema, None).await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(as_body(env.get(&a, &schema).await.body), default);

    // Other methods stay unknown here.
    let r = env.call(&a, "POST", &schema, Some(json!({}))).await;
    assert_eq!(r.status, 405);
}
