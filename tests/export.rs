//! `mtoctl export` against the emulator (real HTTP on 127.0.0.1): after `apply` converges, the
//! exported spec is valid and plans no changes; a configuration made outside mtoctl (as in the
//! Entra admin center) keeps its name and is adopted, not created again.

mod common;

use std::process::Command;

use common::harden::Scenario;
use common::{FABRIKAM, Run, repo, scratch};
use serde_json::{Value, json};

fn path_str(p: &std::path::Path) -> String {
    p.to_str().expect("utf-8 path").to_owned()
}

/// Exports `input` to `out` and checks what every export must give: exit 0, a spec that
/// `validate` accepts, and `plan --detailed-exitcode` exiting 0 (no changes).
async fn export_round_trip(world: &Scenario, input: &str, out: &str) -> (Run, String) {
    let run = world.run(&["export", "-f", input, "--out", out]).await;
    assert_eq!(
        run.code, 0,
        "export failed:\n{}\n{}",
        run.stdout, run.stderr
    );
    assert!(
        run.stderr.contains("the spec plans no changes"),
        "{}",
        run.stderr
    );
    let text = std::fs::read_to_string(out).expect("exported spec");
    let validate = world.run(&["validate", "-f", out]).await;
    assert_eq!(validate.code, 0, "{text}\n{}", validate.stderr);
    let plan = world.run(&["plan", "-f", out, "--detailed-exitcode"]).await;
    assert_eq!(plan.code, 0, "{text}\n{}\n{}", plan.stdout, plan.stderr);
    (run, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quickstart_exports_to_a_spec_that_plans_nothing() {
    let world = Scenario::quickstart(Default::default()).await;
    world.converge(6).await;
    let dir = scratch("export-quickstart");
    let out = path_str(&dir.join("exported.yaml"));

    // From the full spec, to stdout first: the spec itself goes to stdout, nothing else.
    let run = world
        .run(&["export", "-f", "examples/quickstart/mto.yaml"])
        .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("# Written by `mtoctl export`"));
    assert!(run.stdout.contains("apiVersion: mtoctl/v1alpha1"));

    let (_, text) = export_round_trip(&world, "examples/quickstart/mto.yaml", &out).await;
    for expected in [
        "displayName: Contoso Group",
        "fromEnv: CONTOSO_CLIENT_SECRET",
        "allowUsersSyncInbound: true",
        "alice@contoso.onmicrosoft.com",
        "Fabrikam Engineering",
    ] {
        assert!(text.contains(expected), "{expected} missing:\n{text}");
    }
    assert!(
        !text.contains("MTO_Sync_"),
        "default names are left out:\n{text}"
    );

    // From a file that lists only the tenants and their credentials.
    let quickstart = std::fs::read_to_string(repo("examples/quickstart/mto.yaml")).expect("spec");
    let tenants_only: String = quickstart
        .split("\ncollaboration:")
        .next()
        .expect("tenants part")
        .lines()
        .filter(|l| {
            let l = l.trim_start();
            !l.starts_with("role:")
                && !l.starts_with("displayName:")
                && !l.starts_with("description:")
        })
        .collect::<Vec<_>>()
        .join("\n")
        .replace("organization:\n", "");
    let input = dir.join("tenants.yaml");
    std::fs::write(&input, &tenants_only).expect("write");
    let again = path_str(&dir.join("again.yaml"));
    let (_, from_tenants) = export_round_trip(&world, &path_str(&input), &again).await;
    let body = |t: &str| t.lines().skip(2).collect::<Vec<_>>().join("\n");
    assert_eq!(body(&from_tenants), body(&text), "same state, same spec");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A Graph client signed in as the quickstart's tenants, for writes made outside mtoctl.
fn quickstart_client(world: &Scenario) -> mtoctl_graph::transport::GraphClient {
    world
        .client(mtoctl_graph::transport::ClientConfig::default())
        .1
}

/// What the Entra admin center does for "New configuration" and "Start provisioning" in
/// contoso: a configuration of the cross-tenant sync template with its own name, a job,
/// its secrets (the target), one assigned user, started. Returns nothing mtoctl made.
async fn configure_in_the_portal(world: &Scenario, name: &str, user: &str) {
    use mtoctl_graph::transport::GraphRequest;
    use reqwest::Method;
    let client = quickstart_client(world);
    let send = |request: GraphRequest| {
        let client = &client;
        async move {
            let path = request.path.clone();
            client
                .send("contoso", &request)
                .await
                .unwrap_or_else(|e| panic!("{path}: {e}"))
                .body
        }
    };
    let created = send(GraphRequest::with_body(
        Method::POST,
        "/applicationTemplates/518e5f48-1fc8-4c48-9387-9fdf28b0dfe7/instantiate",
        json!({"displayName": name}),
    ))
    .await;
    let sp = created["servicePrincipal"]["id"]
        .as_str()
        .expect("sp id")
        .to_owned();
    let role = created["servicePrincipal"]["appRoles"][0]["id"]
        .as_str()
        .expect("app role")
        .to_owned();
    let job = send(GraphRequest::with_body(
        Method::POST,
        format!("/servicePrincipals/{sp}/synchronization/jobs"),
        json!({"templateId": "Azure2Azure"}),
    ))
    .await;
    let job = job["id"].as_str().expect("job id").to_owned();
    send(GraphRequest::with_body(
        Method::PUT,
        format!("/servicePrincipals/{sp}/synchronization/secrets"),
        json!({"value": [
            {"key": "AuthenticationType", "value": "SyncPolicy"},
            {"key": "CompanyId", "value": FABRIKAM},
            {"key": "SyncAll", "value": "false"},
        ]}),
    ))
    .await;
    let users = send(GraphRequest::get(format!(
        "/users?$filter=userPrincipalName%20eq%20'{user}'&$select=id"
    )))
    .await;
    let user_id = users["value"][0]["id"].as_str().expect("user").to_owned();
    send(GraphRequest::with_body(
        Method::POST,
        format!("/servicePrincipals/{sp}/appRoleAssignedTo"),
        json!({"principalId": user_id, "resourceId": sp, "appRoleId": role}),
    ))
    .await;
    send(GraphRequest::new(
        Method::POST,
        format!("/servicePrincipals/{sp}/synchronization/jobs/{job}/start"),
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configuration_made_in_the_portal_is_exported_by_name_and_adopted() {
    let world = Scenario::quickstart(Default::default()).await;
    world.converge(6).await;
    let name = "Contoso to Fabrikam (portal)";
    configure_in_the_portal(&world, name, "frank@contoso.onmicrosoft.com").await;
    world.advance(3600).await;
    let dir = scratch("export-portal");

    // Graph does not say where it provisions to: without being told, export leaves it out,
    // says how to name its target, and the spec still plans nothing (it is not declared).
    let out = path_str(&dir.join("without.yaml"));
    let (run, text) = export_round_trip(&world, "examples/quickstart/mto.yaml", &out).await;
    assert!(
        run.stderr.contains(name) && run.stderr.contains("name its target in the input"),
        "{}",
        run.stderr
    );
    assert!(!text.contains(name), "{text}");

    // Told its target (a named `sync` entry in the input), export writes it with its name and
    // scope; planning the result creates nothing: the configuration is adopted as it is.
    let quickstart = std::fs::read_to_string(repo("examples/quickstart/mto.yaml")).expect("spec");
    let input = dir.join("input.yaml");
    std::fs::write(
        &input,
        format!("{quickstart}\n  - {{from: contoso, to: fabrikam, name: \"{name}\"}}\n"),
    )
    .expect("write");
    let out = path_str(&dir.join("with.yaml"));
    let (_, text) = export_round_trip(&world, &path_str(&input), &out).await;
    assert!(text.contains(&format!("name: {name}")), "{text}");
    assert!(text.contains("frank@contoso.onmicrosoft.com"), "{text}");

    let plan = world.run(&["plan", "-f", &out, "--format", "json"]).await;
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let plan: Value = serde_json::from_str(&plan.stdout).expect("plan JSON");
    assert_eq!(
        plan["actions"].as_array().map(Vec::len),
        Some(0),
        "{plan:#}"
    );
    let notes = plan["notes"].to_string();
    assert!(!notes.contains("is not in the spec"), "{notes}");

    // The census: contoso still has exactly two configurations (no duplicate was made).
    let state = world
        .admin(reqwest::Method::GET, "/_emulator/state", None)
        .await;
    let names = configuration_names(&state);
    assert_eq!(
        names.iter().filter(|n| n.as_str() == name).count(),
        1,
        "{names:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Display names of every service principal of the state dump.
fn configuration_names(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    match v {
        Value::Object(m) => {
            if let Some(Value::Array(sps)) = m.get("servicePrincipals") {
                out.extend(
                    sps.iter()
                        .filter_map(|s| s["displayName"].as_str().map(str::to_owned)),
                );
            }
            for (k, x) in m {
                if k != "servicePrincipals" {
                    out.extend(configuration_names(x));
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| out.extend(configuration_names(x))),
        _ => {}
    }
    out
}

/// The hub-and-spoke example in a five-tenant world, every credential a client secret (its
/// OIDC, certificate and token-file credentials need CI machinery): applied to convergence,
/// then exported; the override and the scoping filter survive the round trip.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_and_spoke_exports_to_a_spec_that_plans_nothing() {
    let hub = Scenario::hub_and_spoke("export-hub", Default::default()).await;
    hub.converge(6).await;
    let dir = scratch("export-hub");
    let run = |args: Vec<String>| {
        let hub = &hub;
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let run = hub.run(&args).await;
            (run.code, run.stdout, run.stderr)
        }
    };
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let path = hub.spec.clone();

    let out = path_str(&dir.join("exported.yaml"));
    let (code, _, err) = run(args(&["export", "-f", &path, "--out", &out])).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("exported 5 tenants and 8 sync configurations"),
        "{err}"
    );
    assert!(err.contains("the spec plans no changes"), "{err}");
    let text = std::fs::read_to_string(&out).expect("exported");
    let (code, _, err) = run(args(&["validate", "-f", &out])).await;
    assert_eq!(code, 0, "{text}\n{err}");
    let (code, stdout, err) = run(args(&["plan", "-f", &out, "--detailed-exitcode"])).await;
    assert_eq!(code, 0, "{text}\n{stdout}\n{err}");
    for expected in [
        "tenant: finance",
        "partner: labs",
        "allowUsersSyncInbound: false",
        "name: Staff only",
        "onLeavingScope: keep",
        "fromEnv: FINANCE_SECRET",
    ] {
        assert!(text.contains(expected), "{expected} missing:\n{text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A mistaken input is reported like a mistaken spec (file, line, column) and nothing is read.
#[test]
fn a_mistaken_input_is_located_and_nothing_is_read() {
    let dir = scratch("export-mistaken");
    let input = dir.join("tenants.yaml");
    std::fs::write(
        &input,
        "apiVersion: mtoctl/v1alpha1\nkind: MultiTenantOrganization\ntenants:\n  - alias: contoso\n    tenantId: not-a-guid\n    auth:\n      azureCli: {}\n",
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_mtoctl"))
        .env("MTOCTL_NO_KNOWN_IDS", "1")
        .args(["export", "-f", &path_str(&input), "--color", "never"])
        // Nothing listens here: reaching Graph would be an error of its own.
        .env("MTOCTL_GRAPH_URL", "http://127.0.0.1:9")
        .env("MTOCTL_LOGIN_URL", "http://127.0.0.1:9")
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(stderr.contains("tenants.yaml:5:"), "{stderr}");
    assert!(
        stderr.contains("cannot be exported from: 1 errors"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
