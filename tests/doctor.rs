//! `mtoctl doctor` against the emulator: a ready quickstart (every check ok, before apply and
//! once converged, its configurations' credentials validated), and each kind of trouble named
//! with its exit code: a token without a listed permission (fixable, 3), a tenant already in
//! another organization (blocked, 4), default settings blocking B2B collaboration (fixable, 3),
//! a tenant without Microsoft Entra ID P1 or P2 (blocked, 4), a credential that cannot sign in
//! (fixable, 3).

mod common;

use common::Run;
use common::harden::Scenario;
use common::repo;
use reqwest::Method;
use serde_json::{Value, json};

const SPEC: &str = "examples/quickstart/mto.yaml";

fn report(run: &Run) -> Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("doctor --format json: {e}\n{}\n{}", run.stdout, run.stderr))
}

async fn doctor(world: &Scenario) -> (Run, Value) {
    let run = world.run(&["doctor", "-f", SPEC, "--format", "json"]).await;
    let v = report(&run);
    assert_eq!(v["format_version"], "1.0", "{v}");
    (run, v)
}

/// The check `name` of tenant `alias`.
fn check<'a>(v: &'a Value, alias: &str, name: &str) -> &'a Value {
    v["tenants"]
        .as_array()
        .expect("tenants")
        .iter()
        .find(|t| t["alias"] == alias)
        .unwrap_or_else(|| panic!("no tenant {alias}: {v}"))["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["check"] == name)
        .unwrap_or_else(|| panic!("no check {name} for {alias}: {v}"))
}

fn assert_all_ok(v: &Value) {
    assert_eq!(v["verdict"], "ok", "{v}");
    assert_eq!(v["errored"], false, "{v}");
    for t in v["tenants"].as_array().expect("tenants") {
        let names: Vec<&str> = t["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .map(|c| c["check"].as_str().expect("name"))
            .collect();
        assert_eq!(
            names,
            [
                "sign_in",
                "permissions",
                "licence",
                "organization",
                "default_settings",
                "sync_credentials"
            ],
            "{t}"
        );
        for c in t["checks"].as_array().expect("checks") {
            assert_eq!(c["verdict"], "ok", "{c}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ready_quickstart_passes_every_check_before_and_after_apply() {
    let world = Scenario::quickstart(Default::default()).await;
    let (run, v) = doctor(&world).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_all_ok(&v);
    assert!(
        check(&v, "contoso", "licence")["summary"]
            .as_str()
            .expect("summary")
            .contains("AAD_PREMIUM_P2"),
        "{v}"
    );
    // The emulator's app holds more write permissions than the spec needs: a note only.
    let notes = check(&v, "fabrikam", "permissions")["notes"].to_string();
    assert!(notes.contains("Application.ReadWrite.All"), "{v}");

    let text = world.run(&["doctor", "-f", SPEC]).await;
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(text.stdout.contains("tenant contoso"), "{}", text.stdout);
    assert!(text.stdout.contains("Ready"), "{}", text.stdout);

    world.converge(6).await;
    let (run, v) = doctor(&world).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_all_ok(&v);
    let creds = check(&v, "contoso", "sync_credentials")["summary"].to_string();
    assert!(creds.contains("credentials valid"), "{v}");
    let org = check(&v, "fabrikam", "organization")["summary"].to_string();
    assert!(org.contains("Contoso Group"), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_without_a_listed_permission_names_it() {
    let missing = "AppRoleAssignment.ReadWrite.All";
    let roles: Vec<&str> = mtoctl_emulator::world::DEFAULT_ROLES
        .iter()
        .copied()
        .filter(|r| *r != missing)
        .collect();
    let mut text = std::fs::read_to_string(repo("examples/quickstart/world.yaml")).expect("world");
    let line = "        secret: contoso-emulator-secret\n";
    assert!(text.contains(line));
    text = text.replace(
        line,
        &format!("{line}        roles: [{}]\n", roles.join(", ")),
    );
    let world = Scenario::quickstart_in(&text, Default::default()).await;

    let (run, v) = doctor(&world).await;
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(v["verdict"], "fixable", "{v}");
    let c = check(&v, "contoso", "permissions");
    assert_eq!(c["verdict"], "fixable", "{c}");
    assert!(
        c["summary"].as_str().expect("text").contains(missing),
        "{c}"
    );
    assert!(c["fix"].as_str().expect("text").contains(missing), "{c}");
    assert_eq!(check(&v, "fabrikam", "permissions")["verdict"], "ok", "{v}");

    let text = world.run(&["doctor", "-f", SPEC]).await;
    assert_eq!(text.code, 3);
    assert!(
        text.stdout
            .lines()
            .any(|l| l.contains("FIXABLE") && l.contains("permissions") && l.contains(missing)),
        "{}",
        text.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_already_in_another_organization_is_blocked() {
    let world = Scenario::quickstart(Default::default()).await;
    // Fabrikam made an organization of its own, which Contoso (the spec's owner) does not own.
    world
        .graph(
            "fabrikam",
            Method::PUT,
            "/tenantRelationships/multiTenantOrganization",
            json!({"displayName": "Fabrikam Alone"}),
        )
        .await;
    world.advance(3600).await;

    let (run, v) = doctor(&world).await;
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(v["verdict"], "blocked", "{v}");
    let c = check(&v, "fabrikam", "organization");
    assert_eq!(c["verdict"], "blocked", "{c}");
    assert!(
        c["summary"]
            .as_str()
            .expect("text")
            .contains("Fabrikam Alone"),
        "{c}"
    );
    assert_eq!(check(&v, "contoso", "organization")["verdict"], "ok", "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_settings_blocking_b2b_collaboration_are_named() {
    let world = Scenario::quickstart(Default::default()).await;
    world
        .graph(
            "fabrikam",
            Method::PATCH,
            "/policies/crossTenantAccessPolicy/default",
            json!({"b2bCollaborationInbound": {
                "usersAndGroups": {"accessType": "blocked", "targets": [{"target": "AllUsers", "targetType": "user"}]},
                "applications": {"accessType": "blocked", "targets": [{"target": "AllApplications", "targetType": "application"}]}
            }}),
        )
        .await;

    let (run, v) = doctor(&world).await;
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let c = check(&v, "fabrikam", "default_settings");
    assert_eq!(c["verdict"], "fixable", "{c}");
    let summary = c["summary"].as_str().expect("text");
    assert!(
        summary.contains("b2bCollaborationInbound.usersAndGroups"),
        "{c}"
    );
    assert!(summary.contains("contoso"), "{c}");
    assert_eq!(
        check(&v, "contoso", "default_settings")["verdict"],
        "ok",
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_without_entra_id_p1_or_p2_is_blocked() {
    let text = std::fs::read_to_string(repo("examples/quickstart/world.yaml")).expect("world");
    let line = "    domain: fabrikam.onmicrosoft.com\n";
    assert!(text.contains(line));
    let world = Scenario::quickstart_in(
        &text.replace(
            line,
            &format!("{line}    skus: [O365_BUSINESS_ESSENTIALS]\n"),
        ),
        Default::default(),
    )
    .await;

    let (run, v) = doctor(&world).await;
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        check(&v, "fabrikam", "licence")["verdict"],
        "blocked",
        "{v}"
    );
    assert_eq!(check(&v, "contoso", "licence")["verdict"], "ok", "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credential_that_cannot_sign_in_is_fixable_and_its_other_checks_skipped() {
    let mut world = Scenario::quickstart(Default::default()).await;
    for (name, value) in &mut world.env {
        if name == "FABRIKAM_CLIENT_SECRET" {
            *value = "not-the-secret".into();
        }
    }
    let (run, v) = doctor(&world).await;
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(v["errored"], false, "{v}");
    assert_eq!(
        check(&v, "fabrikam", "sign_in")["verdict"],
        "fixable",
        "{v}"
    );
    for name in ["permissions", "licence", "organization", "default_settings"] {
        assert_eq!(check(&v, "fabrikam", name)["verdict"], "skipped", "{v}");
    }
    assert_eq!(check(&v, "contoso", "sign_in")["verdict"], "ok", "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credential_that_cannot_be_made_fails_its_tenant_only() {
    let mut world = Scenario::quickstart(Default::default()).await;
    world
        .env
        .retain(|(name, _)| name != "FABRIKAM_CLIENT_SECRET");
    let mut cmd = world.command(&["doctor", "-f", SPEC, "--format", "json"]);
    cmd.env_remove("FABRIKAM_CLIENT_SECRET");
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("joined")
        .expect("runs");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let v = report(&run);
    let sign_in = check(&v, "fabrikam", "sign_in");
    assert_eq!(sign_in["verdict"], "fixable", "{v}");
    assert!(
        sign_in["summary"]
            .as_str()
            .is_some_and(|s| s.contains("FABRIKAM_CLIENT_SECRET")),
        "{v}"
    );
    // The other tenant is checked all the same.
    assert_eq!(check(&v, "contoso", "sign_in")["verdict"], "ok", "{v}");
    assert_eq!(check(&v, "contoso", "licence")["verdict"], "ok", "{v}");
}
