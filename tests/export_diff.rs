//! `mtoctl export -f SPEC --diff` against the emulator (real HTTP on 127.0.0.1): after `apply`
//! converges the quickstart, nothing drifted (empty output, exit 0); after changes made in the
//! tenants as an admin would make them (Graph calls, not mtoctl), the diff is exactly those
//! changes as YAML lines of the spec file, with the file's own line numbers, and exit 2.

mod common;

use common::harden::Scenario;
use common::{CONTOSO, Run};
use reqwest::Method;
use serde_json::json;

/// The `-` and `+` lines of a unified diff, without its two header lines.
fn changed_lines(diff: &str) -> Vec<&str> {
    diff.lines()
        .skip(2)
        .filter(|l| l.starts_with(['-', '+']))
        .collect()
}

/// The 1-based number of the line of `text` that is exactly `line`.
fn line_number(text: &str, line: &str) -> usize {
    text.lines()
        .position(|l| l == line)
        .unwrap_or_else(|| panic!("{line:?} not in the spec"))
        + 1
}

/// A DELETE as `tenant`'s own app, outside mtoctl.
async fn delete(world: &Scenario, tenant: &str, path: &str) {
    use mtoctl_graph::transport::{ClientConfig, GraphRequest};
    let (_, client) = world.client(ClientConfig::default());
    client
        .send(tenant, &GraphRequest::new(Method::DELETE, path))
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"));
}

async fn diff(world: &Scenario) -> Run {
    world.run(&["export", "-f", &world.spec, "--diff"]).await
}

/// Takes alice out of the scope of contoso's sync configuration, as an admin would in the
/// Entra admin center (by deleting her app role assignment).
async fn unassign_alice(world: &Scenario) {
    use mtoctl_graph::transport::{ClientConfig, GraphRequest};
    let (_, client) = world.client(ClientConfig::default());
    let get = |path: String| {
        let client = &client;
        async move {
            client
                .send("contoso", &GraphRequest::get(path.clone()))
                .await
                .unwrap_or_else(|e| panic!("{path}: {e}"))
                .body
        }
    };
    let sps = get("/servicePrincipals?$filter=applicationTemplateId eq '518e5f48-1fc8-4c48-9387-9fdf28b0dfe7'&$select=id".into()).await;
    let sp = sps["value"][0]["id"].as_str().expect("sp").to_owned();
    let alice = get("/users/alice@contoso.onmicrosoft.com?$select=id".into()).await;
    let assignments = get(format!("/servicePrincipals/{sp}/appRoleAssignedTo")).await;
    let assignment = assignments["value"]
        .as_array()
        .expect("list")
        .iter()
        .find(|a| a["principalId"] == alice["id"])
        .expect("alice assigned")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    client
        .send(
            "contoso",
            &GraphRequest::new(
                Method::DELETE,
                format!("/servicePrincipals/{sp}/appRoleAssignedTo/{assignment}"),
            ),
        )
        .await
        .expect("unassigned");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_made_in_the_tenants_shows_as_exactly_those_yaml_lines() {
    let world = Scenario::quickstart(Default::default()).await;
    world.converge(6).await;
    let spec = std::fs::read_to_string(&world.spec).expect("spec");

    // Converged: no output at all, exit 0.
    let run = diff(&world).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "", "nothing drifted, nothing printed");
    assert!(run.stderr.contains("no drift"), "{}", run.stderr);

    // Three changes outside mtoctl: the organization renamed in contoso, fabrikam no longer
    // trusting contoso's MFA, alice taken out of contoso's sync scope.
    world
        .graph(
            "contoso",
            Method::PATCH,
            "/tenantRelationships/multiTenantOrganization",
            json!({"displayName": "Contoso Group (renamed)"}),
        )
        .await;
    world
        .graph(
            "fabrikam",
            Method::PATCH,
            &format!("/policies/crossTenantAccessPolicy/partners/{CONTOSO}"),
            json!({"inboundTrust": {"isMfaAccepted": false, "isCompliantDeviceAccepted": null, "isHybridAzureADJoinedDeviceAccepted": null}}),
        )
        .await;
    unassign_alice(&world).await;

    let run = diff(&world).await;
    assert_eq!(
        run.code, 2,
        "drift exits 2:\n{}\n{}",
        run.stdout, run.stderr
    );
    let mut lines = run.stdout.lines();
    assert_eq!(
        lines.next(),
        Some(format!("--- {} (spec)", world.spec).as_str())
    );
    assert_eq!(lines.next(), Some("+++ live state"));
    assert_eq!(
        changed_lines(&run.stdout),
        [
            // Where the spec says it: the name in place, the one pair that changed as an
            // override after `allPairs` (which still holds for contoso), alice's line removed.
            "-  displayName: Contoso Group",
            "+  displayName: Contoso Group (renamed)",
            "+  overrides:",
            "+    - tenant: fabrikam",
            "+      partner: contoso",
            "+      settings:",
            "+        inboundTrust:",
            "+          mfa: false",
            "-        - alice@contoso.onmicrosoft.com",
        ],
        "exactly the drift, nothing else:\n{}",
        run.stdout
    );
    // The spec's own text on the left (not a rendering without its comments): its line
    // numbers.
    let name_line = line_number(&spec, "  displayName: Contoso Group");
    let first_hunk = run.stdout.lines().nth(2).expect("a hunk");
    assert!(
        first_hunk.starts_with(&format!("@@ -{},", name_line - 3)),
        "{first_hunk} (the organization's name is line {name_line})"
    );
    assert!(
        run.stdout
            .contains("\n         - bob@contoso.onmicrosoft.com\n"),
        "bob stays, as context:\n{}",
        run.stdout
    );
    // Everything that drifted is in the diff: nothing is reported as left out.
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    assert!(
        run.stderr.contains("drift: 9 changed lines"),
        "{}",
        run.stderr
    );

    // `--out` writes the same diff, uncolored, to a file.
    let dir = common::scratch("export-diff");
    let out = dir.join("drift.diff");
    let saved = world
        .run(&[
            "export",
            "-f",
            &world.spec,
            "--diff",
            "--out",
            out.to_str().expect("utf-8"),
        ])
        .await;
    assert_eq!(saved.code, 2, "{}", saved.stderr);
    assert_eq!(std::fs::read_to_string(&out).expect("diff"), run.stdout);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Drift the spec language cannot write is named, not hidden: fabrikam deletes its partner
/// configuration for contoso (and the identity sync policy under it). What a spec can say of
/// it (fabrikam no longer lets contoso's users sync in) is the diff; the settings that no
/// longer exist at all are warnings; and since the live state is a spec the language refuses
/// (contoso's sync into fabrikam cannot work), that is said too. Exit 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_a_spec_cannot_write_is_named_on_stderr() {
    let world = Scenario::quickstart(Default::default()).await;
    world.converge(6).await;
    let partner = format!("/policies/crossTenantAccessPolicy/partners/{CONTOSO}");
    delete(
        &world,
        "fabrikam",
        &format!("{partner}/identitySynchronization"),
    )
    .await;
    delete(&world, "fabrikam", &partner).await;

    let run = diff(&world).await;
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        changed_lines(&run.stdout),
        [
            "+  overrides:",
            "+    - tenant: fabrikam",
            "+      partner: contoso",
            "+      settings:",
            "+        allowUsersSyncInbound: false",
        ],
        "{}",
        run.stdout
    );
    for setting in [
        "automaticUserConsent.inbound",
        "automaticUserConsent.outbound",
        "inboundTrust.mfa",
    ] {
        assert!(
            run.stderr.contains(&format!(
                "fabrikam's `{setting}` for contoso is not set in Graph"
            )),
            "{setting}: {}",
            run.stderr
        );
    }
    assert!(
        run.stderr.contains("the live state is not a valid spec"),
        "{}",
        run.stderr
    );
}
