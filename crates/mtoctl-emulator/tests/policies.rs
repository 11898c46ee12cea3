//! crossTenantAccessPolicy conformance (reference §4–§5) and template
//! application at join time (§3.6, §5.3).

mod common;

use common::*;
use serde_json::json;

const P: &str = "/policies/crossTenantAccessPolicy";
const MTO: &str = "/tenantRelationships/multiTenantOrganization";

#[tokio::test]
async fn root_and_default() {
    let env = start().await;
    let a = env.a().await;
    let r = env.get(&a, P).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["allowedCloudEndpoints"], json!([]));
    assert_eq!(
        env.call(
            &a,
            "PATCH",
            P,
            Some(json!({"allowedCloudEndpoints": ["microsoftonline.us"]}))
        )
        .await
        .status,
        204
    );
    assert_eq!(
        env.get(&a, P).await.body["allowedCloudEndpoints"],
        json!(["microsoftonline.us"])
    );
    assert_eq!(
        env.call(
            &a,
            "PATCH",
            P,
            Some(json!({"allowedCloudEndpoints": ["evil.example"]}))
        )
        .await
        .status,
        400
    );

    let d = env.get(&a, &format!("{P}/default")).await.body;
    assert_eq!(d["isServiceDefault"], true);
    assert_eq!(
        d["b2bCollaborationInbound"]["usersAndGroups"]["accessType"],
        "allowed"
    );
    assert_eq!(
        d["b2bDirectConnectOutbound"]["applications"]["accessType"],
        "blocked"
    );
    assert_eq!(d["inboundTrust"]["isMfaAccepted"], false);
    assert_eq!(
        d["automaticUserConsentSettings"],
        json!({"inboundAllowed": false, "outboundAllowed": false})
    );

    let trust = json!({"inboundTrust": {"isMfaAccepted": true, "isCompliantDeviceAccepted": false, "isHybridAzureADJoinedDeviceAccepted": false}});
    assert_eq!(
        env.call(&a, "PATCH", &format!("{P}/default"), Some(trust))
            .await
            .status,
        204
    );
    let d = env.get(&a, &format!("{P}/default")).await.body;
    assert_eq!(
        (
            d["isServiceDefault"].clone(),
            d["inboundTrust"]["isMfaAccepted"].clone()
        ),
        (json!(false), json!(true))
    );
    let r = env
        .call(
            &a,
            "PATCH",
            &format!("{P}/default"),
            Some(json!({"automaticUserConsentSettings": {"inboundAllowed": true}})),
        )
        .await;
    assert_eq!(r.status, 400, "consent is read-only on the default");
    assert_eq!(
        env.call(
            &a,
            "POST",
            &format!("{P}/default/resetToSystemDefault"),
            None
        )
        .await
        .status,
        204
    );
    assert_eq!(
        env.get(&a, &format!("{P}/default")).await.body["isServiceDefault"],
        true
    );

    // Read-only apps may read but not write.
    let ro = env
        .token(A, "11111111-2222-4333-8444-555555555555", "readonly-secret")
        .await;
    assert_eq!(env.get(&ro, P).await.status, 200);
    assert_eq!(
        env.call(&ro, "PATCH", P, Some(json!({"displayName": "x"})))
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn partner_crud() {
    let env = start().await;
    let a = env.a().await;
    let r = env
        .call(
            &a,
            "POST",
            &format!("{P}/partners"),
            Some(json!({"tenantId": B})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(
        r.body["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("#policies/crossTenantAccessPolicy/partners/$entity")
    );
    assert_eq!(r.body["tenantId"], B);
    assert_eq!(r.body["isInMultiTenantOrganization"], false);
    for k in [
        "isServiceProvider",
        "inboundTrust",
        "b2bCollaborationInbound",
        "b2bCollaborationOutbound",
        "b2bDirectConnectInbound",
        "b2bDirectConnectOutbound",
        "tenantRestrictions",
    ] {
        assert!(r.body[k].is_null(), "{k} should be null");
    }
    assert_eq!(
        r.body["automaticUserConsentSettings"],
        json!({"inboundAllowed": null, "outboundAllowed": null})
    );
    // A property only beta declares is not answered on v1.0.
    assert!(
        r.body.get("crossCloudMeetingConfiguration").is_none(),
        "{}",
        r.body
    );

    let r = env
        .call(
            &a,
            "POST",
            &format!("{P}/partners"),
            Some(json!({"tenantId": B})),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (409, "Request_MultipleObjectsWithSameKeyValue")
    );
    let r = env
        .call(
            &a,
            "POST",
            &format!("{P}/partners"),
            Some(json!({"tenantId": "x"})),
        )
        .await;
    assert_eq!(r.status, 400);

    let r = env.get(&a, &format!("{P}/partners/{C}")).await;
    assert_eq!((r.status, r.code()), (404, "Request_ResourceNotFound"));

    let consent =
        json!({"automaticUserConsentSettings": {"inboundAllowed": true, "outboundAllowed": true}});
    assert_eq!(
        env.call(&a, "PATCH", &format!("{P}/partners/{B}"), Some(consent))
            .await
            .status,
        204
    );
    let b2b = json!({"b2bCollaborationInbound": {"usersAndGroups": {"accessType": "sometimes", "targets": []}}});
    assert_eq!(
        env.call(&a, "PATCH", &format!("{P}/partners/{B}"), Some(b2b))
            .await
            .status,
        400
    );
    assert_eq!(
        env.call(
            &a,
            "PATCH",
            &format!("{P}/partners/{B}"),
            Some(json!({"isInMultiTenantOrganization": true}))
        )
        .await
        .status,
        400
    );
    let g = env.get(&a, &format!("{P}/partners/{B}")).await.body;
    assert_eq!(
        g["automaticUserConsentSettings"],
        json!({"inboundAllowed": true, "outboundAllowed": true})
    );
    // Setting a complex value to null reverts it to inheriting.
    assert_eq!(
        env.call(
            &a,
            "PATCH",
            &format!("{P}/partners/{B}"),
            Some(json!({"inboundTrust": null}))
        )
        .await
        .status,
        204
    );

    // Identity synchronization lifecycle.
    let sync = format!("{P}/partners/{B}/identitySynchronization");
    let r = env.get(&a, &sync).await;
    assert_eq!(r.status, 404);
    let r = env
        .call(
            &a,
            "PATCH",
            &sync,
            Some(json!({"userSyncInbound": {"isSyncAllowed": true}})),
        )
        .await;
    assert_eq!((r.status, r.code()), (404, "Directory_ObjectNotFound"));
    let body = json!({"displayName": "Fabrikam", "userSyncInbound": {"isSyncAllowed": true}});
    assert_eq!(
        env.call(&a, "PUT", &sync, Some(body.clone())).await.status,
        204
    );
    let r = env.call(&a, "PUT", &sync, Some(body)).await;
    assert_eq!(
        (r.status, r.code()),
        (409, "Request_MultipleObjectsWithSameKeyValue")
    );
    assert_eq!(r.body["error"]["details"][0]["code"], "ConflictingObjects");
    let g = env.get(&a, &sync).await.body;
    assert_eq!(g["tenantId"], B);
    assert_eq!(g["displayName"], "Fabrikam");
    assert_eq!(g["userSyncInbound"], json!({"isSyncAllowed": true}));
    assert_eq!(
        env.call(
            &a,
            "PATCH",
            &sync,
            Some(json!({"userSyncInbound": {"isSyncAllowed": false}}))
        )
        .await
        .status,
        204
    );
    assert_eq!(
        env.get(&a, &sync).await.body["userSyncInbound"]["isSyncAllowed"],
        false
    );

    // List with $select + $expand.
    let r = env
        .get(
            &a,
            &format!("{P}/partners?$select=tenantId&$expand=identitySynchronization"),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body["value"],
        json!([{"tenantId": B, "identitySynchronization": {"tenantId": B, "displayName": "Fabrikam", "userSyncInbound": {"isSyncAllowed": false}}}])
    );
    let r = env
        .get(
            &a,
            &format!("{P}/partners/{B}?$expand=identitySynchronization&$select=tenantId"),
        )
        .await;
    assert_eq!(r.body["identitySynchronization"]["tenantId"], B);

    // The partner cannot go while its sync policy exists.
    let r = env
        .call(&a, "DELETE", &format!("{P}/partners/{B}"), None)
        .await;
    assert_eq!((r.status, r.code()), (400, "Request_BadRequest"));
    assert_eq!(env.call(&a, "DELETE", &sync, None).await.status, 204);
    assert_eq!(env.call(&a, "DELETE", &sync, None).await.status, 404);
    assert_eq!(
        env.call(&a, "DELETE", &format!("{P}/partners/{B}"), None)
            .await
            .status,
        204
    );
    assert_eq!(env.get(&a, &format!("{P}/partners/{B}")).await.status, 404);
    // Identity sync needs a partner configuration.
    let r = env
        .call(
            &a,
            "PUT",
            &sync,
            Some(json!({"userSyncInbound": {"isSyncAllowed": true}})),
        )
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn templates_get_patch_reset() {
    let env = start().await;
    let a = env.a().await;
    let pt = format!("{P}/templates/multiTenantOrganizationPartnerConfiguration");
    let st = format!("{P}/templates/multiTenantOrganizationIdentitySynchronization");
    let g = env.get(&a, &pt).await.body;
    assert_eq!(
        g["templateApplicationLevel"],
        "newPartners,existingPartners"
    );
    assert!(g["inboundTrust"].is_null() && g["b2bCollaborationInbound"].is_null());
    assert_eq!(
        g["automaticUserConsentSettings"],
        json!({"inboundAllowed": null, "outboundAllowed": null})
    );
    assert!(g["id"].is_string());
    let g = env.get(&a, &st).await.body;
    assert_eq!(g["userSyncInbound"], json!({"isSyncAllowed": null}));

    let r = env.call(&a, "PATCH", &pt, Some(json!({"automaticUserConsentSettings": {"inboundAllowed": true, "outboundAllowed": true}, "templateApplicationLevel": "newPartners"}))).await;
    assert_eq!(r.status, 204);
    let r = env
        .call(
            &a,
            "PATCH",
            &st,
            Some(
                json!({"userSyncInbound": {"isSyncAllowed": true}, "templateApplicationLevel": ""}),
            ),
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        env.call(&a, "PATCH", &st, Some(json!({"tenantRestrictions": null})))
            .await
            .status,
        400
    );
    assert_eq!(
        env.call(
            &a,
            "PATCH",
            &pt,
            Some(json!({"templateApplicationLevel": "sometimes"}))
        )
        .await
        .status,
        400
    );
    let g = env.get(&a, &pt).await.body;
    assert_eq!(g["templateApplicationLevel"], "newPartners");
    assert_eq!(g["automaticUserConsentSettings"]["inboundAllowed"], true);
    let g = env.get(&a, &st).await.body;
    assert_eq!(
        (
            g["templateApplicationLevel"].clone(),
            g["userSyncInbound"]["isSyncAllowed"].clone()
        ),
        (json!("none"), json!(true))
    );

    assert_eq!(
        env.call(&a, "POST", &format!("{pt}/resetToDefaultSettings"), None)
            .await
            .status,
        204
    );
    assert_eq!(
        env.call(&a, "POST", &format!("{st}/resetToDefaultSettings"), None)
            .await
            .status,
        204
    );
    let g = env.get(&a, &pt).await.body;
    assert_eq!(
        g["templateApplicationLevel"],
        "newPartners,existingPartners"
    );
    assert!(g["automaticUserConsentSettings"]["inboundAllowed"].is_null());
    assert!(env.get(&a, &st).await.body["userSyncInbound"]["isSyncAllowed"].is_null());
}

async fn tick_boxes(env: &Env, tok: &str, level: &str) {
    let pt = format!("{P}/templates/multiTenantOrganizationPartnerConfiguration");
    let st = format!("{P}/templates/multiTenantOrganizationIdentitySynchronization");
    let r = env.call(tok, "PATCH", &pt, Some(json!({"automaticUserConsentSettings": {"inboundAllowed": true, "outboundAllowed": true}, "templateApplicationLevel": level}))).await;
    assert_eq!(r.status, 204);
    let r = env.call(tok, "PATCH", &st, Some(json!({"userSyncInbound": {"isSyncAllowed": true}, "templateApplicationLevel": level}))).await;
    assert_eq!(r.status, 204);
}

#[tokio::test]
async fn join_creates_partners_both_ways_and_applies_templates() {
    let env = start().await;
    let (a, b) = (env.a().await, env.b().await);
    tick_boxes(&env, &a, "newPartners,existingPartners").await;
    // B only applies its templates to new partners, and already has one for A.
    tick_boxes(&env, &b, "newPartners").await;
    let r = env
        .call(
            &b,
            "POST",
            &format!("{P}/partners"),
            Some(json!({"tenantId": A, "inboundTrust": {"isMfaAccepted": true}})),
        )
        .await;
    assert_eq!(r.status, 201);

    assert_eq!(
        env.call(
            &a,
            "PUT",
            MTO,
            Some(json!({"displayName": "Contoso Group"}))
        )
        .await
        .status,
        201
    );
    assert_eq!(
        env.call(
            &a,
            "POST",
            &format!("{MTO}/tenants"),
            Some(json!({"tenantId": B, "displayName": "Fabrikam"}))
        )
        .await
        .status,
        201
    );
    // Nothing is wired before the join completes.
    assert_eq!(env.get(&a, &format!("{P}/partners/{B}")).await.status, 404);
    env.call(
        &b,
        "PATCH",
        &format!("{MTO}/joinRequest"),
        Some(json!({"addedByTenantId": A})),
    )
    .await;
    env.advance(700.0).await;

    let pa = env
        .get(
            &a,
            &format!("{P}/partners/{B}?$expand=identitySynchronization"),
        )
        .await
        .body;
    assert_eq!(pa["isInMultiTenantOrganization"], true);
    assert_eq!(
        pa["automaticUserConsentSettings"],
        json!({"inboundAllowed": true, "outboundAllowed": true})
    );
    assert_eq!(
        pa["identitySynchronization"]["userSyncInbound"]["isSyncAllowed"],
        true
    );
    assert_eq!(pa["identitySynchronization"]["displayName"], "Fabrikam");

    let pb = env.get(&b, &format!("{P}/partners/{A}")).await.body;
    assert_eq!(pb["isInMultiTenantOrganization"], true);
    // B's pre-existing partner is not touched by a newPartners-only template ...
    assert_eq!(
        pb["automaticUserConsentSettings"],
        json!({"inboundAllowed": null, "outboundAllowed": null})
    );
    assert_eq!(pb["inboundTrust"]["isMfaAccepted"], true);
    // ... but its identity sync policy was created now, so the template applies.
    let sb = env
        .get(&b, &format!("{P}/partners/{A}/identitySynchronization"))
        .await
        .body;
    assert_eq!(sb["userSyncInbound"]["isSyncAllowed"], true);
}

#[tokio::test]
async fn beta_recycle_area_for_deleted_partners() {
    let env = start().await;
    let a = env.a().await;
    let beta = |p: &str| format!("{}/beta{p}", env.base);
    env.call(
        &a,
        "POST",
        &format!("{P}/partners"),
        Some(json!({"tenantId": B, "inboundTrust": {"isMfaAccepted": true}})),
    )
    .await;
    env.call(
        &a,
        "PUT",
        &format!("{P}/partners/{B}/identitySynchronization"),
        Some(json!({"userSyncInbound": {"isSyncAllowed": true}})),
    )
    .await;
    assert_eq!(
        env.call(
            &a,
            "DELETE",
            &format!("{P}/partners/{B}/identitySynchronization"),
            None
        )
        .await
        .status,
        204
    );
    assert_eq!(
        env.call(&a, "DELETE", &format!("{P}/partners/{B}"), None)
            .await
            .status,
        204
    );

    // v1.0 has no deletedItems.
    assert_eq!(
        env.get(&a, "/policies/deletedItems/crossTenantPartners")
            .await
            .status,
        400
    );
    let r = env
        .get(&a, &beta("/policies/deletedItems/crossTenantPartners"))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["value"][0]["tenantId"], B);
    assert_eq!(
        r.body["value"][0]["deletedDateTime"],
        "2026-01-01T00:00:00Z"
    );
    // Beta answers the partner properties only it declares.
    assert_eq!(
        r.body["value"][0]["crossCloudMeetingConfiguration"],
        json!({"inboundAllowed": null, "outboundAllowed": null})
    );
    let r = env
        .get(
            &a,
            &beta(&format!(
                "/policies/deletedItems/crossTenantSyncPolicyPartners/{B}"
            )),
        )
        .await;
    assert_eq!(r.body["userSyncInbound"]["isSyncAllowed"], true);

    // The sync policy needs its partner back first.
    let r = env
        .call(
            &a,
            "POST",
            &beta(&format!(
                "/policies/deletedItems/crossTenantSyncPolicyPartners/{B}/restore"
            )),
            None,
        )
        .await;
    assert_eq!(r.status, 400);
    let r = env
        .call(
            &a,
            "POST",
            &beta(&format!(
                "/policies/deletedItems/crossTenantPartners/{B}/restore"
            )),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["inboundTrust"]["isMfaAccepted"], true);
    let r = env
        .call(
            &a,
            "POST",
            &beta(&format!(
                "/policies/deletedItems/crossTenantSyncPolicyPartners/{B}/restore"
            )),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        env.get(&a, &format!("{P}/partners/{B}/identitySynchronization"))
            .await
            .status,
        200
    );

    // Hard delete.
    env.call(
        &a,
        "DELETE",
        &format!("{P}/partners/{B}/identitySynchronization"),
        None,
    )
    .await;
    assert_eq!(
        env.call(
            &a,
            "DELETE",
            &beta(&format!(
                "/policies/deletedItems/crossTenantSyncPolicyPartners/{B}"
            )),
            None
        )
        .await
        .status,
        204
    );
    assert_eq!(
        env.get(
            &a,
            &beta(&format!(
                "/policies/deletedItems/crossTenantSyncPolicyPartners/{B}"
            ))
        )
        .await
        .status,
        404
    );
    // A soft-deleted partner does not block re-creation; restoring over a live one is a conflict.
    env.call(&a, "DELETE", &format!("{P}/partners/{B}"), None)
        .await;
    assert_eq!(
        env.call(
            &a,
            "POST",
            &format!("{P}/partners"),
            Some(json!({"tenantId": B}))
        )
        .await
        .status,
        201
    );
    let r = env
        .call(
            &a,
            "POST",
            &beta(&format!(
                "/policies/deletedItems/crossTenantPartners/{B}/restore"
            )),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (409, "Request_MultipleObjectsWithSameKeyValue")
    );
}
