//! Application permissions as the API reference's tables give them (docs/graph-facts):
//! assigning an app role needs a read permission beside `AppRoleAssignment.ReadWrite.All`,
//! `Application.ReadWrite.OwnedBy` manages only what the caller's app created, and the
//! provisioning logs need `Directory.Read.All` beside `AuditLog.Read.All`, and
//! `subscribedSkus` needs `LicenseAssignment.Read.All` (or a higher directory or organization
//! read).

mod common;

use common::*;
use mtoctl_emulator::Options;
use serde_json::json;

/// Contoso's admin app (every default role) and apps holding only the roles their names say.
const PERMS_WORLD: &str = r#"
seed: 7
tenants:
  - id: 6babcaad-604b-40ac-a9d7-9fd97c0b779f
    displayName: Contoso
    domain: contoso.onmicrosoft.com
    apps:
      - clientId: 0d3f3c4e-5b7a-4c1e-9a8b-1c2d3e4f5a6b
        secret: contoso-emulator-secret
      - clientId: 22222222-0000-4000-8000-000000000001
        secret: owned
        roles: [Application.ReadWrite.OwnedBy]
      - clientId: 22222222-0000-4000-8000-000000000002
        secret: owned-sync
        roles: [Application.ReadWrite.OwnedBy, Synchronization.ReadWrite.All]
      - clientId: 22222222-0000-4000-8000-000000000003
        secret: assign
        roles: [AppRoleAssignment.ReadWrite.All]
      - clientId: 22222222-0000-4000-8000-000000000004
        secret: assign-read
        roles: [AppRoleAssignment.ReadWrite.All, Application.Read.All]
      - clientId: 22222222-0000-4000-8000-000000000005
        secret: audit
        roles: [AuditLog.Read.All]
      - clientId: 22222222-0000-4000-8000-000000000006
        secret: audit-directory
        roles: [AuditLog.Read.All, Directory.Read.All]
      - clientId: 22222222-0000-4000-8000-000000000007
        secret: licences
        roles: [LicenseAssignment.Read.All]
    users:
      - userPrincipalName: alice@contoso.onmicrosoft.com
  - id: 3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11
    displayName: Fabrikam
    domain: fabrikam.onmicrosoft.com
    skus: [AAD_PREMIUM, O365_BUSINESS_ESSENTIALS]
    apps:
      - clientId: 7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
        secret: fabrikam-emulator-secret
"#;

async fn env() -> Env {
    start_with(PERMS_WORLD, Options::default()).await
}

/// A token of Contoso's app `n` of the world above.
async fn app(env: &Env, n: u8, secret: &str) -> String {
    env.token(
        A,
        &format!("22222222-0000-4000-8000-00000000000{n}"),
        secret,
    )
    .await
}

fn denied(r: &Resp) {
    assert_eq!(
        (r.status, r.code()),
        (403, "Authorization_RequestDenied"),
        "{}",
        r.body
    );
}

/// Instantiates the sync template as `tok`: (application object id, service principal id).
async fn instantiate(env: &Env, tok: &str, name: &str) -> (String, String) {
    let r = env
        .call(
            tok,
            "POST",
            &format!("/applicationTemplates/{SYNC_TEMPLATE}/instantiate"),
            Some(json!({"displayName": name})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = |k: &str| r.body[k]["id"].as_str().unwrap().to_owned();
    (id("application"), id("servicePrincipal"))
}

#[tokio::test]
async fn assigning_an_app_role_needs_a_read_permission_too() {
    let env = env().await;
    let admin = env.a().await;
    let (sp, role, _) = configure(&env, &admin, B).await;
    let alice = user_id(&env, &admin, "alice@contoso.onmicrosoft.com").await;

    // AppRoleAssignment.ReadWrite.All alone is never listed as enough.
    let only_assign = app(&env, 3, "assign").await;
    denied(&assign(&env, &only_assign, &sp, &role, &alice).await);
    // With Application.Read.All (the table's least privileged pair) it is.
    let assign_read = app(&env, 4, "assign-read").await;
    let r = assign(&env, &assign_read, &sp, &role, &alice).await;
    assert_eq!(r.status, 201, "{}", r.body);
}

#[tokio::test]
async fn owned_by_manages_the_sync_of_its_own_configuration_only() {
    let env = env().await;
    let admin = env.a().await;
    let owned = app(&env, 1, "owned").await;

    // Its own configuration: instantiate, create the job, PUT secrets (configure), start.
    let (sp, _, job) = configure(&env, &owned, B).await;
    let jobs = format!("/servicePrincipals/{sp}/synchronization/jobs");
    let r = env
        .call(&owned, "POST", &format!("{jobs}/{job}/start"), None)
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = env.get(&owned, &format!("{jobs}/{job}")).await;
    assert_eq!(
        (r.status, r.body["status"]["code"].as_str()),
        (200, Some("NotRun"))
    );

    // A configuration another app instantiated: refused, read and write.
    let (other_sp, _, other_job) = configure(&env, &admin, B).await;
    let other = format!("/servicePrincipals/{other_sp}/synchronization");
    let template = json!({"templateId": "Azure2Azure"});
    let secrets = json!({"value": [{"key": "CompanyId", "value": B}]});
    denied(
        &env.call(
            &owned,
            "POST",
            &format!("{other}/jobs"),
            Some(template.clone()),
        )
        .await,
    );
    denied(
        &env.call(
            &owned,
            "PUT",
            &format!("{other}/secrets"),
            Some(secrets.clone()),
        )
        .await,
    );
    denied(
        &env.call(
            &owned,
            "POST",
            &format!("{other}/jobs/{other_job}/start"),
            None,
        )
        .await,
    );
    denied(&env.get(&owned, &format!("{other}/jobs")).await);

    // With Synchronization.ReadWrite.All beside it, any configuration.
    let owned_sync = app(&env, 2, "owned-sync").await;
    let r = env
        .call(
            &owned_sync,
            "POST",
            &format!("{other}/jobs"),
            Some(template),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = env
        .call(
            &owned_sync,
            "PUT",
            &format!("{other}/secrets"),
            Some(secrets),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = env
        .call(
            &owned_sync,
            "POST",
            &format!("{other}/jobs/{other_job}/start"),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
}

#[tokio::test]
async fn owned_by_deletes_only_what_it_created() {
    let env = env().await;
    let admin = env.a().await;
    let owned = app(&env, 1, "owned").await;
    let (their_app, their_sp) = instantiate(&env, &admin, "Theirs").await;
    let (own_app, own_sp) = instantiate(&env, &owned, "Mine").await;

    denied(
        &env.call(
            &owned,
            "DELETE",
            &format!("/applications/{their_app}"),
            None,
        )
        .await,
    );
    denied(
        &env.call(
            &owned,
            "DELETE",
            &format!("/servicePrincipals/{their_sp}"),
            None,
        )
        .await,
    );
    let r = env
        .call(
            &owned,
            "DELETE",
            &format!("/servicePrincipals/{own_sp}"),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = env
        .call(&owned, "DELETE", &format!("/applications/{own_app}"), None)
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    // Application.ReadWrite.All deletes any application.
    let r = env
        .call(
            &admin,
            "DELETE",
            &format!("/applications/{their_app}"),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
}

#[tokio::test]
async fn provisioning_logs_need_directory_read_too() {
    let env = env().await;
    let audit = app(&env, 5, "audit").await;
    denied(&env.get(&audit, "/auditLogs/provisioning").await);
    let audit_directory = app(&env, 6, "audit-directory").await;
    let r = env.get(&audit_directory, "/auditLogs/provisioning").await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn subscribed_skus_need_license_assignment_read_and_show_the_world_files_skus() {
    let env = env().await;
    denied(
        &env.get(&app(&env, 5, "audit").await, "/subscribedSkus")
            .await,
    );

    // Contoso says nothing in the world file: one Microsoft Entra ID P2, with both plans.
    let licences = app(&env, 7, "licences").await;
    let r = env.get(&licences, "/subscribedSkus").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let skus = r.body["value"].as_array().expect("value");
    assert_eq!(skus.len(), 1, "{}", r.body);
    assert_eq!(skus[0]["skuPartNumber"], "AAD_PREMIUM_P2");
    assert_eq!(skus[0]["skuId"], "84a661c4-e949-4bd2-a560-ed7766fcaf2b");
    let plans: Vec<&str> = skus[0]["servicePlans"]
        .as_array()
        .expect("plans")
        .iter()
        .map(|p| p["servicePlanName"].as_str().expect("name"))
        .collect();
    assert_eq!(plans, ["AAD_PREMIUM", "AAD_PREMIUM_P2"]);

    // Fabrikam's world file lists its SKUs; one the emulator does not know has no plans.
    let fabrikam = env.b().await;
    let r = env
        .get(
            &fabrikam,
            "/subscribedSkus?$select=skuPartNumber,servicePlans",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let skus = r.body["value"].as_array().expect("value");
    let parts: Vec<&str> = skus
        .iter()
        .map(|s| s["skuPartNumber"].as_str().expect("part"))
        .collect();
    assert_eq!(parts, ["AAD_PREMIUM", "O365_BUSINESS_ESSENTIALS"]);
    assert_eq!(skus[1]["servicePlans"], json!([]));
    assert!(
        skus[0].get("capabilityStatus").is_none(),
        "$select: {}",
        r.body
    );
}
