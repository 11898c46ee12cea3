//! `discover` against the emulator over loopback: it reads what `collect` leaves out (the
//! details and principals of configurations a spec does not declare), in four more `$batch`
//! calls for a tenant with configurations and none for a tenant without.

mod common;

use common::*;
use mtoctl_graph::collect::collect;
use mtoctl_graph::discover::discover;
use mtoctl_graph::transport::{ClientConfig, GraphRequest};
use mtoctl_model::ids::Alias;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn discover_reads_every_configuration_with_its_principals() {
    let world = quickstart_world(Default::default()).await;
    let desired = quickstart_spec();
    let client = client_for(&world, &desired, ClientConfig::default());
    let write = |method: Method, path: String, body: serde_json::Value| {
        let client = client.clone();
        async move {
            client
                .send(
                    "contoso",
                    &GraphRequest::with_body(method, path.clone(), body),
                )
                .await
                .unwrap_or_else(|e| panic!("{path}: {e}"))
                .body
        }
    };
    // A configuration the quickstart spec does not declare, as an admin center makes it.
    let created = write(
        Method::POST,
        "/applicationTemplates/518e5f48-1fc8-4c48-9387-9fdf28b0dfe7/instantiate".into(),
        json!({"displayName": "Portal sync"}),
    )
    .await;
    let sp = created["servicePrincipal"]["id"]
        .as_str()
        .expect("sp")
        .to_owned();
    let role = created["servicePrincipal"]["appRoles"][0]["id"]
        .as_str()
        .expect("role")
        .to_owned();
    write(
        Method::POST,
        format!("/servicePrincipals/{sp}/synchronization/jobs"),
        json!({"templateId": "Azure2Azure"}),
    )
    .await;
    let id_of = |path: &'static str| {
        let client = client.clone();
        async move {
            client
                .send("contoso", &GraphRequest::get(path))
                .await
                .expect("lookup")
                .body["value"][0]["id"]
                .as_str()
                .expect("id")
                .to_owned()
        }
    };
    let frank =
        id_of("/users?$filter=userPrincipalName%20eq%20'frank@contoso.onmicrosoft.com'&$select=id")
            .await;
    let sales = id_of("/groups?$filter=displayName%20eq%20'Contoso%20Sales'&$select=id").await;
    for principal in [&frank, &sales] {
        write(
            Method::POST,
            format!("/servicePrincipals/{sp}/appRoleAssignedTo"),
            json!({"principalId": principal, "resourceId": sp, "appRoleId": role}),
        )
        .await;
    }

    // `collect` with the spec: the configuration is listed, its details are not read.
    let before = client.stats().http_calls;
    let collected = collect(&client, &desired).await.expect("collect");
    let collect_calls = client.stats().http_calls - before;
    let contoso = &collected.tenants[&Alias("contoso".into())];
    let portal = contoso
        .sync_configurations
        .iter()
        .find(|c| c.display_name == "Portal sync")
        .expect("listed");
    assert!(portal.details.is_none());

    // `discover` with the tenants only: details and every assigned principal.
    let before = client.stats().http_calls;
    let observed = discover(&client, &desired.tenants).await.expect("discover");
    let discover_calls = client.stats().http_calls - before;
    let contoso = &observed.tenants[&Alias("contoso".into())];
    let portal = contoso
        .sync_configurations
        .iter()
        .find(|c| c.display_name == "Portal sync")
        .expect("listed");
    let details = portal.details.as_ref().expect("details read");
    assert_eq!(details.jobs.len(), 1);
    assert!(details.jobs[0].user_type.is_some(), "the schema was read");
    assert_eq!(details.assignments.len(), 2);
    let p = &contoso.principals;
    let frank_user = p
        .users_by_id
        .values()
        .find(|u| u.id.as_str() == frank)
        .expect("frank resolved");
    assert_eq!(
        frank_user.user_principal_name,
        "frank@contoso.onmicrosoft.com"
    );
    assert!(p.groups_by_id.values().any(|g| g.id.as_str() == sales));
    assert_eq!(p.groups_by_name.get("Contoso Sales").map(Vec::len), Some(1));
    let fabrikam = &observed.tenants[&Alias("fabrikam".into())];
    assert!(fabrikam.sync_configurations.is_empty());

    // collect's first wave (the quickstart spec's name lookups aside), then for contoso: jobs
    // and assignments, schemas, the templates (export compares mappings with them),
    // principals by id, groups by name; nothing more for fabrikam.
    let bare_before = client.stats().http_calls;
    let mut bare = desired.clone();
    bare.syncs.clear();
    collect(&client, &bare).await.expect("bare collect");
    let first_wave = client.stats().http_calls - bare_before;
    assert_eq!(
        discover_calls,
        first_wave + 5,
        "collect with the spec took {collect_calls}"
    );
}
