//! The whole lifecycle against the emulator — plan, apply from nothing with the join, drift
//! repair, a scope shrink, status, export, removal of a member with prune, destroy with the
//! synced accounts — with every request
//! mtoctl sends and every answer the emulator gives checked against Microsoft's published Graph
//! v1.0 contract (`mtoctl-contract`), and the routes it must have covered. The other end-to-end
//! tests (faults, crashes, concurrent applies) are checked the same way by their `Scenario`.

mod common;

use common::harden::Scenario;
use common::{CONTOSO, repo};
use reqwest::Method;
use serde_json::json;

const SPEC: &str = "examples/quickstart/mto.yaml";

/// A spec beside the scenario's, from the quickstart's text edited by `edit`.
fn spec_from(name: &str, edit: impl Fn(&str) -> String) -> String {
    let dir = std::env::temp_dir().join(format!("mtoctl-contract-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let path = dir.join(name);
    let text = std::fs::read_to_string(repo(SPEC)).expect("spec");
    let edited = edit(&text);
    assert_ne!(edited, text, "{name} changes the quickstart");
    std::fs::write(&path, edited).expect("write");
    path.to_string_lossy().into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lifecycle_keeps_to_graphs_published_contract() {
    let world = Scenario::quickstart(Default::default()).await;
    let fresh = world.plan().await;
    assert_eq!(fresh.code, 2, "{}\n{}", fresh.stdout, fresh.stderr);
    world.converge(6).await;

    // Drift repaired.
    world
        .graph(
            "fabrikam",
            Method::PATCH,
            &format!("/policies/crossTenantAccessPolicy/partners/{CONTOSO}"),
            json!({"inboundTrust": {"isMfaAccepted": false, "isCompliantDeviceAccepted": null,
                   "isHybridAzureADJoinedDeviceAccepted": null}}),
        )
        .await;
    assert_eq!(world.plan().await.code, 2);
    let repaired = world.apply().await;
    assert_eq!(repaired.code, 0, "{}\n{}", repaired.stdout, repaired.stderr);

    // A scope shrink.
    let shrunk = spec_from("shrunk.yaml", |t| {
        t.replace("        - bob@contoso.onmicrosoft.com\n", "")
    });
    let applied = world
        .run(&["apply", "-f", &shrunk, "--auto-approve", "--allow-destroy"])
        .await;
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);

    // Status and export.
    world.advance(3600).await;
    let status = world.run(&["status", "-f", &shrunk]).await;
    assert_eq!(status.code, 0, "{}\n{}", status.stdout, status.stderr);
    let export = world.run(&["export", "-f", &shrunk]).await;
    assert_eq!(export.code, 0, "{}\n{}", export.stdout, export.stderr);

    // Fabrikam removed, with what only it used pruned.
    let alone = spec_from("alone.yaml", |t| {
        let tenants_end = t.find("  - alias: fabrikam").expect("fabrikam");
        let collaboration = t.find("collaboration:").expect("collaboration");
        format!(
            "{}{}prune: [members, syncConfigurations]\n",
            &t[..tenants_end],
            &t[collaboration..t.find("sync:").expect("sync")],
        )
    });
    let removing = world
        .run(&["apply", "-f", &alone, "--auto-approve", "--allow-destroy"])
        .await;
    assert!(
        removing.code == 0 || removing.code == 3,
        "{}\n{}",
        removing.stdout,
        removing.stderr
    );
    world.advance(3600).await;
    let removed = world
        .run(&["apply", "-f", &alone, "--auto-approve", "--allow-destroy"])
        .await;
    assert_eq!(removed.code, 0, "{}\n{}", removed.stdout, removed.stderr);

    // Fabrikam back, a sync cycle, then everything destroyed, the synced accounts too.
    world.converge(6).await;
    world.advance(3600).await;
    for _ in 0..4 {
        let destroyed = world
            .run(&[
                "destroy",
                "-f",
                SPEC,
                "--auto-approve",
                "--remove-synced-users",
            ])
            .await;
        assert!(
            destroyed.code == 0 || destroyed.code == 3,
            "{}\n{}",
            destroyed.stdout,
            destroyed.stderr
        );
        world.advance(3600).await;
    }
    let gone = world
        .run(&["plan", "-f", SPEC, "--destroy", "--detailed-exitcode"])
        .await;
    assert_eq!(gone.code, 0, "{}\n{}", gone.stdout, gone.stderr);

    // The run covered every kind of call mtoctl makes.
    let routes = world.contract.0.routes();
    let mto = "/tenantRelationships/multiTenantOrganization";
    let sp = "/servicePrincipals/{id}";
    let expected = [
        format!("PUT {mto}"),
        format!("GET {mto}"),
        format!("POST {mto}/tenants"),
        format!("GET {mto}/tenants"),
        format!("DELETE {mto}/tenants/{{id}}"),
        format!("PATCH {mto}/joinRequest"),
        format!("GET {mto}/joinRequest"),
        "PATCH /policies/crossTenantAccessPolicy/templates/multiTenantOrganizationPartnerConfiguration".into(),
        "PATCH /policies/crossTenantAccessPolicy/templates/multiTenantOrganizationIdentitySynchronization".into(),
        "GET /policies/crossTenantAccessPolicy/partners".into(),
        "PATCH /policies/crossTenantAccessPolicy/partners/{id}".into(),
        "POST /applicationTemplates/{id}/instantiate".into(),
        "GET /servicePrincipals".into(),
        "DELETE /applications/{id}".into(),
        "DELETE /users/{id}".into(),
        "DELETE /policies/crossTenantAccessPolicy/partners/{id}".into(),
        "DELETE /policies/crossTenantAccessPolicy/partners/{id}/identitySynchronization".into(),
        "POST /policies/crossTenantAccessPolicy/templates/multiTenantOrganizationPartnerConfiguration/resetToDefaultSettings".into(),
        "POST /policies/crossTenantAccessPolicy/templates/multiTenantOrganizationIdentitySynchronization/resetToDefaultSettings".into(),
        format!("POST {sp}/synchronization/jobs/{{id}}/pause"),
        format!("POST {sp}/synchronization/jobs/validateCredentials"),
        format!("POST {sp}/synchronization/jobs"),
        format!("GET {sp}/synchronization/jobs"),
        format!("GET {sp}/synchronization/secrets"),
        format!("PUT {sp}/synchronization/secrets"),
        format!("GET {sp}/synchronization/jobs/{{id}}/schema"),
        format!("PUT {sp}/synchronization/jobs/{{id}}/schema"),
        format!("POST {sp}/synchronization/jobs/{{id}}/start"),
        format!("GET {sp}/appRoleAssignedTo"),
        format!("POST {sp}/appRoleAssignedTo"),
        format!("DELETE {sp}/appRoleAssignedTo/{{id}}"),
        "GET /users".into(),
        "GET /groups".into(),
    ];
    let missing: Vec<&String> = expected.iter().filter(|r| !routes.contains(*r)).collect();
    assert!(
        missing.is_empty(),
        "the lifecycle never called {missing:#?}\nit called {routes:#?}"
    );
    let (requests, answers) = world.contract.0.counts();
    assert!(
        requests > 100 && answers > 50,
        "{requests} requests, {answers} answers checked"
    );
    world.contract.0.assert_clean();
}
