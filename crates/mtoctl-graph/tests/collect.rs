//! `collect` against the emulator over loopback, with real credentials.

mod common;

use common::*;
use mtoctl_graph::collect::collect;
use mtoctl_graph::transport::ClientConfig;
use mtoctl_model::ids::Alias;
use mtoctl_model::observed::{Known, MtoState};

#[tokio::test]
async fn quickstart_collect_reads_both_tenants_within_the_call_budget() {
    let world = quickstart_world(Default::default()).await;
    let desired = quickstart_spec();
    let client = client_for(&world, &desired, ClientConfig::default());

    let observed = collect(&client, &desired).await.expect("collect succeeds");

    assert_eq!(observed.tenants.len(), 2);
    let contoso = &observed.tenants[&Alias("contoso".into())];
    assert_eq!(contoso.organization.state, Known::Known(MtoState::Inactive));
    assert!(contoso.organization.members.is_empty());
    assert_eq!(contoso.join_request.added_by, None);
    let p = &contoso.principals;
    assert!(p.users_by_upn.contains_key("alice@contoso.onmicrosoft.com"));
    assert!(p.users_by_upn.contains_key("bob@contoso.onmicrosoft.com"));
    assert_eq!(p.groups_by_name.get("Contoso Sales").map(Vec::len), Some(1));
    let fabrikam = &observed.tenants[&Alias("fabrikam".into())];
    assert!(
        fabrikam
            .principals
            .users_by_upn
            .contains_key("carol@fabrikam.onmicrosoft.com")
    );
    assert!(fabrikam.sync_configurations.is_empty());

    // Counted by the emulator: Graph calls after the tokens.
    let stats = world.stats().await;
    let graph_calls: u64 = stats["per_tenant"]
        .as_object()
        .expect("per tenant")
        .values()
        .map(|c| c["http_requests"].as_u64().unwrap_or(0))
        .sum();
    assert!(
        graph_calls <= 15,
        "collect made {graph_calls} Graph calls: {stats}"
    );
    assert_eq!(
        client.stats().http_calls,
        graph_calls,
        "client and emulator agree"
    );
    assert_eq!(stats["early_retries"], 0);
}

/// The walkthrough's writes driven through the client: the organization formed, and in
/// contoso a sync configuration with its job and one assignment (alice).
struct Configured {
    world: World,
    desired: mtoctl_model::DesiredState,
    client: mtoctl_graph::transport::GraphClient,
    contoso_id: String,
    fabrikam_id: String,
    sp: String,
    job_id: String,
    role: String,
    alice: String,
}

async fn configured() -> Configured {
    use mtoctl_graph::transport::GraphRequest;
    use reqwest::Method;
    use serde_json::json;

    let world = quickstart_world(Default::default()).await;
    let desired = quickstart_spec();
    let client = client_for(&world, &desired, ClientConfig::default());
    let contoso_id = desired.tenants[0].tenant_id.to_string();
    let fabrikam_id = desired.tenants[1].tenant_id.to_string();
    let write = |tenant: &'static str, method: Method, path: String, body: serde_json::Value| {
        let client = client.clone();
        async move {
            client
                .send(tenant, &GraphRequest::with_body(method, path.clone(), body))
                .await
                .unwrap_or_else(|e| panic!("{path}: {e}"))
                .body
        }
    };

    write("contoso", Method::PATCH, "/policies/crossTenantAccessPolicy/templates/multiTenantOrganizationIdentitySynchronization".into(),
        json!({"userSyncInbound": {"isSyncAllowed": true}, "templateApplicationLevel": "newPartners,existingPartners"})).await;
    write(
        "fabrikam",
        Method::PATCH,
        "/policies/crossTenantAccessPolicy/templates/multiTenantOrganizationPartnerConfiguration"
            .into(),
        json!({"automaticUserConsentSettings": {"inboundAllowed": true, "outboundAllowed": true}}),
    )
    .await;
    write(
        "contoso",
        Method::PUT,
        "/tenantRelationships/multiTenantOrganization".into(),
        json!({"displayName": "Contoso Group"}),
    )
    .await;
    write(
        "contoso",
        Method::POST,
        "/tenantRelationships/multiTenantOrganization/tenants".into(),
        json!({"tenantId": fabrikam_id, "displayName": "Fabrikam"}),
    )
    .await;
    write(
        "fabrikam",
        Method::PATCH,
        "/tenantRelationships/multiTenantOrganization/joinRequest".into(),
        json!({"addedByTenantId": contoso_id}),
    )
    .await;
    world
        .admin_post("/_emulator/advance", json!({"seconds": 5 * 3600}))
        .await;

    let instantiated = write(
        "contoso",
        Method::POST,
        "/applicationTemplates/518e5f48-1fc8-4c48-9387-9fdf28b0dfe7/instantiate".into(),
        json!({"displayName": format!("MTO_Sync_{fabrikam_id}")}),
    )
    .await;
    let sp = instantiated["servicePrincipal"]["id"]
        .as_str()
        .expect("sp id")
        .to_owned();
    let job = write(
        "contoso",
        Method::POST,
        format!("/servicePrincipals/{sp}/synchronization/jobs"),
        json!({"templateId": "Azure2Azure"}),
    )
    .await;
    let job_id = job["id"].as_str().expect("job id").to_owned();
    let role = client
        .send(
            "contoso",
            &GraphRequest::get(format!("/servicePrincipals/{sp}?$select=appRoles")),
        )
        .await
        .expect("sp")
        .body["appRoles"]
        .as_array()
        .and_then(|roles| {
            roles.iter().find(|r| {
                r["allowedMemberTypes"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t == "User"))
            })
        })
        .and_then(|r| r["id"].as_str())
        .expect("user role")
        .to_owned();
    let alice = client
        .send(
            "contoso",
            &GraphRequest::get("/users/alice@contoso.onmicrosoft.com?$select=id"),
        )
        .await
        .expect("alice")
        .body["id"]
        .as_str()
        .expect("id")
        .to_owned();
    write(
        "contoso",
        Method::POST,
        format!("/servicePrincipals/{sp}/appRoleAssignedTo"),
        json!({"principalId": alice, "resourceId": sp, "appRoleId": role}),
    )
    .await;

    Configured {
        world,
        desired,
        client,
        contoso_id,
        fabrikam_id,
        sp,
        job_id,
        role,
        alice,
    }
}

/// Drives the walkthrough's writes through the client, then checks that collect reads every
/// kind of object back: members, join request, partners with identity sync, templates, a sync
/// configuration with its job, schema and assignment.
#[tokio::test]
async fn collect_reads_back_a_formed_organization_and_a_sync_configuration() {
    use mtoctl_model::observed::{MemberRole, MemberState};

    let Configured {
        desired,
        client,
        contoso_id,
        fabrikam_id,
        sp,
        job_id,
        role,
        alice,
        world: _world,
    } = configured().await;
    let observed = collect(&client, &desired).await.expect("collect");
    let contoso = &observed.tenants[&Alias("contoso".into())];
    let fabrikam = &observed.tenants[&Alias("fabrikam".into())];

    assert_eq!(contoso.organization.state, Known::Known(MtoState::Active));
    assert_eq!(
        contoso.organization.display_name.as_deref(),
        Some("Contoso Group")
    );
    let mut members: Vec<(String, Known<MemberRole>, Known<MemberState>)> = contoso
        .organization
        .members
        .iter()
        .map(|m| (m.tenant_id.to_string(), m.role.clone(), m.state.clone()))
        .collect();
    members.sort();
    let mut expected = vec![
        (
            contoso_id.clone(),
            Known::Known(MemberRole::Owner),
            Known::Known(MemberState::Active),
        ),
        (
            fabrikam_id.clone(),
            Known::Known(MemberRole::Member),
            Known::Known(MemberState::Active),
        ),
    ];
    expected.sort();
    assert_eq!(members, expected);
    assert_eq!(
        fabrikam
            .join_request
            .added_by
            .as_ref()
            .map(ToString::to_string),
        Some(contoso_id.clone())
    );
    assert_eq!(
        fabrikam.join_request.member_state,
        Some(Known::Known(MemberState::Active))
    );

    // Join created partner configurations and identity sync policies both ways, with templates applied.
    let fabrikam_for_contoso = fabrikam
        .partners
        .values()
        .find(|p| p.tenant_id.to_string() == contoso_id)
        .expect("partner");
    assert_eq!(
        fabrikam_for_contoso.settings.automatic_user_consent_inbound,
        Some(true)
    );
    assert!(fabrikam_for_contoso.identity_sync.is_some());
    let contoso_for_fabrikam = contoso
        .partners
        .values()
        .find(|p| p.tenant_id.to_string() == fabrikam_id)
        .expect("partner");
    assert_eq!(
        contoso_for_fabrikam
            .identity_sync
            .as_ref()
            .and_then(|i| i.is_sync_allowed),
        Some(true)
    );
    assert_eq!(contoso.templates.identity_sync.is_sync_allowed, Some(true));

    let config = contoso
        .sync_configurations
        .iter()
        .find(|c| c.service_principal_id == sp)
        .expect("configuration");
    assert_eq!(config.display_name, format!("MTO_Sync_{fabrikam_id}"));
    assert_eq!(config.user_app_role_id.as_deref(), Some(role.as_str()));
    let details = config
        .details
        .as_ref()
        .expect("declared configurations are read in full");
    assert_eq!(details.jobs.len(), 1);
    assert_eq!(details.jobs[0].id, job_id);
    assert_eq!(details.jobs[0].template_id.as_deref(), Some("Azure2Azure"));
    assert!(
        details.jobs[0].user_type.is_some(),
        "the schema's userType mapping was read"
    );
    assert_eq!(details.assignments.len(), 1);
    assert_eq!(details.assignments[0].principal_id.to_string(), alice);
}

/// Calls made by `client` while `read` runs.
async fn calls_during<T>(
    client: &mtoctl_graph::transport::GraphClient,
    read: impl std::future::Future<Output = T>,
) -> (T, u64) {
    let before = client.stats().http_calls;
    let out = read.await;
    (out, client.stats().http_calls - before)
}

/// With the ids a first read saw, a second asks for the configuration's jobs, assignments and
/// schema in the same wave as the list that finds it: one call fewer in contoso (its jobs and
/// assignments, then its schema, were two dependent calls), and the same state read.
#[tokio::test]
async fn known_ids_read_a_configurations_details_with_the_first_wave() {
    use mtoctl_graph::collect::collect_knowing;
    use mtoctl_model::known::KnownIds;

    let c = configured().await;
    let (cold, cold_calls) = calls_during(&c.client, collect(&c.client, &c.desired)).await;
    let cold = cold.expect("collect");
    let mut known = KnownIds::default();
    let contoso_id = &c.desired.tenants[0].tenant_id;
    // Another spec's configuration in the same tenant is kept.
    known.learn_configuration(contoso_id, "Another spec's", &c.sp, 0);
    known.learn_observed(&c.desired, &cold, 0);
    let contoso = &known.tenants[contoso_id].configurations;
    assert_eq!(contoso.len(), 2, "{known:?}");
    assert_eq!(contoso[0].name, "another spec's");
    assert_eq!(contoso[1].service_principal_id, c.sp);
    assert_eq!(contoso[1].job_ids, std::slice::from_ref(&c.job_id));

    let (warm, warm_calls) =
        calls_during(&c.client, collect_knowing(&c.client, &c.desired, &known)).await;
    assert_eq!(warm.expect("collect"), cold, "the same state is read");
    assert_eq!(
        warm_calls,
        cold_calls - 1,
        "contoso's configuration is read in one wave: {cold_calls} calls before, {warm_calls} now"
    );
}

/// Ids that no longer match cost calls, not correctness: a configuration that is gone (an
/// unknown service principal) and a job that is gone (its schema read ahead fails) are read
/// again the usual way, and the state read is what a read without them finds.
#[tokio::test]
async fn known_ids_that_no_longer_match_are_read_again() {
    use mtoctl_graph::collect::collect_knowing;
    use mtoctl_model::known::KnownIds;

    let c = configured().await;
    let cold = collect(&c.client, &c.desired).await.expect("collect");
    let contoso = &c.desired.tenants[0].tenant_id;
    let name = format!("MTO_Sync_{}", c.fabrikam_id);

    let mut gone = KnownIds::default();
    gone.learn_configuration(contoso, &name, "00000000-0000-0000-0000-00000000dead", 0);
    gone.learn_job(contoso, &name, &c.job_id);
    let (read, calls) =
        calls_during(&c.client, collect_knowing(&c.client, &c.desired, &gone)).await;
    assert_eq!(read.expect("collect"), cold, "a configuration that is gone");
    let (_, cold_calls) = calls_during(&c.client, collect(&c.client, &c.desired)).await;
    assert_eq!(
        calls,
        cold_calls + 1,
        "the reads ahead took a call of their own"
    );

    let mut old_job = KnownIds::default();
    old_job.learn_configuration(contoso, &name, &c.sp, 0);
    old_job.learn_job(contoso, &name, "Azure2Azure.0000.gone");
    let (read, calls) =
        calls_during(&c.client, collect_knowing(&c.client, &c.desired, &old_job)).await;
    assert_eq!(read.expect("collect"), cold, "a job that is gone");
    assert_eq!(
        calls, cold_calls,
        "the jobs and assignments read ahead are kept; only the schema is read after them"
    );
}

/// A tenant that cannot sign in (a wrong secret) fails every read; the error says so once for
/// that tenant, with the sign-in's own reason, and the other tenant's reads are not blamed.
#[tokio::test]
async fn a_tenant_that_cannot_sign_in_is_named_once() {
    use mtoctl_graph::auth::{MapEnvironment, credential_for};
    use mtoctl_graph::transport::GraphClient;
    let world = quickstart_world(Default::default()).await;
    let desired = quickstart_spec();
    let mut env = quickstart_env().0;
    env.insert("FABRIKAM_CLIENT_SECRET".into(), "not-the-secret".into());
    let ctx = auth_context(&world, MapEnvironment(env));
    let mut builder = GraphClient::builder(
        ctx.http.clone(),
        ctx.endpoints.clone(),
        ClientConfig::default(),
    );
    for tenant in &desired.tenants {
        builder = builder.tenant(
            tenant.alias.as_str(),
            credential_for(tenant, &ctx).expect("credential"),
        );
    }
    let client = builder.build();

    let err = collect(&client, &desired)
        .await
        .expect_err("fabrikam cannot sign in");
    let text = err.to_string();
    let token_lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("cannot get a Microsoft Graph token"))
        .collect();
    assert_eq!(token_lines.len(), 1, "{text}");
    assert!(token_lines[0].contains("tenant fabrikam"), "{text}");
    assert!(token_lines[0].contains("AADSTS7000215"), "{text}");
    assert!(!text.contains("tenant contoso"), "{text}");
    assert!(!text.contains("not-the-secret"), "{text}");
}
