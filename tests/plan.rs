//! `mtoctl plan` and `mtoctl show` end to end: the binary against an in-process emulator on
//! loopback, with the quickstart's credentials from examples/quickstart/emulator.env.

mod common;

use common::{quickstart_env, repo};
use std::process::{Command, Output};

struct Emulated {
    server: mtoctl_emulator::Server,
    base: String,
    _contract: common::contract::CheckedOnDrop,
}

async fn quickstart_emulator() -> Emulated {
    let text = std::fs::read_to_string(repo("examples/quickstart/world.yaml")).expect("world.yaml");
    emulator_for(&text).await
}

async fn emulator_for(text: &str) -> Emulated {
    let (contract, server) = common::contract::serve_checked(text, Default::default()).await;
    let base = server.base_url.clone();
    Emulated {
        server,
        base,
        _contract: contract,
    }
}

fn mtoctl(emu: &Emulated, with_secrets: bool) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mtoctl"));
    cmd.env("MTOCTL_NO_KNOWN_IDS", "1");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR")
        .env_remove("MTOCTL_COLOR")
        .env_remove("CONTOSO_CLIENT_SECRET")
        .env_remove("FABRIKAM_CLIENT_SECRET")
        .env("MTOCTL_GRAPH_URL", &emu.base)
        .env("MTOCTL_LOGIN_URL", &emu.base);
    if with_secrets {
        cmd.envs(quickstart_env());
    }
    cmd
}

/// Runs the command off the async runtime, so the in-process emulator keeps serving.
async fn run(mut cmd: Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("joined")
        .expect("mtoctl runs");
    (
        status.code().expect("exit code"),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_world_plans_the_walkthrough_and_exits_2() {
    let emu = quickstart_emulator().await;
    let mut cmd = mtoctl(&emu, true);
    cmd.args([
        "plan",
        "-f",
        "examples/quickstart/mto.yaml",
        "--detailed-exitcode",
        "--color",
        "never",
    ]);
    let (code, stdout, stderr) = run(cmd).await;
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    let steps = [
        "# 1. tenant.contoso.template.identity_sync will be updated in-place",
        "# 5. organization will be created",
        "# 6. organization.member[\"fabrikam\"] will be created",
        "# 7. tenant.fabrikam.join_request will be submitted",
        "# 8. tenant.contoso.sync[\"MTO_Sync_3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11\"] will be created",
        "# 16. tenant.fabrikam.join_request will be waited for",
        "Plan: 8 to add, 7 to change, 0 to destroy, 1 to wait.",
    ];
    for step in steps {
        assert!(stdout.contains(step), "missing `{step}` in:\n{stdout}");
    }
    assert!(!stdout.contains('\x1b'));
    // Without --detailed-exitcode a plan with changes succeeds with 0.
    let mut cmd = mtoctl(&emu, true);
    cmd.args(["plan", "-f", "examples/quickstart/mto.yaml"]);
    assert_eq!(run(cmd).await.0, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_renders_identically_with_show() {
    let emu = quickstart_emulator().await;
    let out = std::env::temp_dir().join(format!("mtoctl-plan-{}.json", std::process::id()));
    for format in ["text", "json", "markdown"] {
        let mut cmd = mtoctl(&emu, true);
        cmd.args([
            "plan",
            "-f",
            "examples/quickstart/mto.yaml",
            "--color",
            "never",
            "--format",
            format,
            "--out",
        ])
        .arg(&out);
        let (code, planned, stderr) = run(cmd).await;
        assert_eq!(code, 0, "{stderr}");
        let mut cmd = mtoctl(&emu, false);
        cmd.args(["show", "--color", "never", "--format", format])
            .arg(&out);
        let (code, shown, stderr) = run(cmd).await;
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(planned, shown, "{format} differs");
    }
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out).expect("saved")).expect("json");
    assert_eq!(saved["format_version"], "1.0");
    assert_eq!(saved["complete"], false);
    assert_eq!(saved["errored"], false);
    let _ = std::fs::remove_file(out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_refuses_unknown_plan_formats() {
    let emu = quickstart_emulator().await;
    let path = std::env::temp_dir().join(format!("mtoctl-future-{}.json", std::process::id()));
    std::fs::write(&path, r#"{"format_version": "9.0", "actions": []}"#).expect("write");
    let mut cmd = mtoctl(&emu, false);
    cmd.args(["show", "--color", "never"]).arg(&path);
    let (code, stdout, stderr) = run(cmd).await;
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("it has plan format version 9.0; this mtoctl reads only version 1.0 plans"),
        "{stderr}"
    );
    let _ = std::fs::remove_file(path);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_secrets_are_all_named_and_nothing_is_planned() {
    let emu = quickstart_emulator().await;
    let mut cmd = mtoctl(&emu, false);
    cmd.args([
        "plan",
        "-f",
        "examples/quickstart/mto.yaml",
        "--detailed-exitcode",
        "--color",
        "never",
    ]);
    let (code, stdout, stderr) = run(cmd).await;
    assert_eq!(code, 1);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("tenant contoso: the environment variable CONTOSO_CLIENT_SECRET"),
        "{stderr}"
    );
    assert!(
        stderr.contains("tenant fabrikam: the environment variable FABRIKAM_CLIENT_SECRET"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_sign_in_is_an_error_never_an_empty_tenant() {
    let emu = quickstart_emulator().await;
    let mut cmd = mtoctl(&emu, true);
    cmd.env("FABRIKAM_CLIENT_SECRET", "a-wrong-secret-value")
        .args([
            "plan",
            "-f",
            "examples/quickstart/mto.yaml",
            "--detailed-exitcode",
            "--color",
            "never",
        ]);
    let (code, stdout, stderr) = run(cmd).await;
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.is_empty(), "no plan is printed: {stdout}");
    assert!(
        stderr.contains("cannot read the live state; nothing was planned"),
        "{stderr}"
    );
    assert!(
        stderr.contains("tenant fabrikam: cannot get a Microsoft Graph token"),
        "{stderr}"
    );
    assert!(!stderr.contains("a-wrong-secret-value"), "{stderr}");
}

/// Requests for a token among what went through a recording proxy, per tenant id.
fn token_requests(sent: &common::proxy::Recording, tenant_id: &str) -> usize {
    let line = format!("POST /{tenant_id}/oauth2/v2.0/token ");
    sent.streams()
        .iter()
        .map(|s| s.matches(&line).count())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_signs_in_once_to_each_tenant_while_the_spec_is_checked() {
    let emu = quickstart_emulator().await;
    let (proxy, sent, _) = common::proxy::recording_proxy(emu.server.addr).await;
    let mut cmd = mtoctl(&emu, true);
    cmd.env("MTOCTL_GRAPH_URL", &proxy)
        .env("MTOCTL_LOGIN_URL", &proxy)
        .args(["plan", "-f", "examples/quickstart/mto.yaml"])
        .args(["--color", "never", "--log-level", "debug"]);
    let (code, stdout, stderr) = run(cmd).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    // The sign-ins begin before the whole spec is checked, and the client keeps their tokens.
    let ahead = stderr
        .find("signing in ahead tenants=2")
        .expect("signed in ahead");
    let valid = stderr.find("the spec is valid").expect("checked");
    assert!(ahead < valid, "{stderr}");
    for tenant_id in [
        "6babcaad-604b-40ac-a9d7-9fd97c0b779f",
        "3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11",
    ] {
        assert_eq!(token_requests(&sent, tenant_id), 1, "{tenant_id}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spec_invalid_after_its_tenants_reads_nothing_from_graph() {
    let emu = quickstart_emulator().await;
    let (proxy, sent, _) = common::proxy::recording_proxy(emu.server.addr).await;
    let dir = common::scratch("invalid-after-tenants");
    let text = std::fs::read_to_string(common::repo("examples/quickstart/mto.yaml"))
        .expect("spec")
        .replace("to: fabrikam", "to: fabricam");
    std::fs::write(dir.join("mto.yaml"), text).expect("written");
    let mut cmd = mtoctl(&emu, true);
    cmd.env("MTOCTL_GRAPH_URL", &proxy)
        .env("MTOCTL_LOGIN_URL", &proxy)
        .arg("plan")
        .arg("-f")
        .arg(dir.join("mto.yaml"))
        .args(["--color", "never", "--log-level", "debug"]);
    let (code, stdout, stderr) = run(cmd).await;
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("signing in ahead tenants=2"), "{stderr}");
    assert!(stderr.contains("fabricam"), "{stderr}");
    // Sign-ins may have gone out; no request to Graph did.
    for stream in sent.streams() {
        assert!(!stream.contains(" /v1.0/"), "{stream}");
        assert!(!stream.contains(" /beta/"), "{stream}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_to_a_remote_host_is_refused() {
    let emu = quickstart_emulator().await;
    let mut cmd = mtoctl(&emu, true);
    cmd.args([
        "plan",
        "-f",
        "examples/quickstart/mto.yaml",
        "--color",
        "never",
        "--graph-url",
        "http://graph.example.com",
    ]);
    let (code, _, stderr) = run(cmd).await;
    assert_eq!(code, 1);
    assert!(
        stderr.contains("uses plain HTTP to a host that is not loopback"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_warns_when_a_token_lacks_a_permission() {
    let text = std::fs::read_to_string(repo("examples/quickstart/world.yaml")).expect("world.yaml");
    let limited = text.replace(
        "        secret: fabrikam-emulator-secret\n",
        "        secret: fabrikam-emulator-secret\n        roles: [MultiTenantOrganization.ReadWrite.All, Policy.ReadWrite.CrossTenantAccess, Application.Read.All, User.Read.All, GroupMember.Read.All]\n",
    );
    assert_ne!(
        limited, text,
        "the world file still has fabrikam's secret line"
    );
    let emu = emulator_for(&limited).await;
    let mut cmd = mtoctl(&emu, true);
    cmd.args([
        "plan",
        "-f",
        "examples/quickstart/mto.yaml",
        "--color",
        "never",
    ]);
    let (code, stdout, stderr) = run(cmd).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("Plan: "), "the plan is still printed");
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("warning: "))
        .collect();
    assert_eq!(warnings.len(), 2, "{stderr}");
    for missing in [
        "Application.ReadWrite.OwnedBy",
        "AppRoleAssignment.ReadWrite.All",
    ] {
        assert!(
            warnings.iter().any(|w| w
                .starts_with("warning: tenant fabrikam's token lacks the Graph permission ")
                && w.contains(missing)),
            "{missing}: {stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_warns_about_missing_permissions_before_it_writes() {
    let text = std::fs::read_to_string(repo("examples/quickstart/world.yaml")).expect("world.yaml");
    let limited = text.replace(
        "        secret: fabrikam-emulator-secret\n",
        "        secret: fabrikam-emulator-secret\n        roles: [MultiTenantOrganization.ReadWrite.All, Policy.ReadWrite.CrossTenantAccess, Application.Read.All, User.Read.All, GroupMember.Read.All]\n",
    );
    let emu = emulator_for(&limited).await;
    let mut cmd = mtoctl(&emu, true);
    cmd.args([
        "apply",
        "-f",
        "examples/quickstart/mto.yaml",
        "--auto-approve",
        "--color",
        "never",
    ]);
    let (code, stdout, stderr) = run(cmd).await;
    // The first round makes fabrikam's sync configuration while the join is pending, which
    // needs a missing permission: warned about before anything is written, then named again
    // where Graph refuses.
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let first_warning = stderr.find(
        "warning: tenant fabrikam's token lacks the Graph permission Application.ReadWrite.OwnedBy",
    );
    assert!(first_warning.is_some(), "{stderr}");
    let output = format!("{stderr}\n{stdout}");
    assert!(
        output.contains(
            "this action needs the application permission Application.ReadWrite.OwnedBy in tenant fabrikam"
        ),
        "{output}"
    );
}

#[test]
fn permissions_lists_what_each_tenant_needs() {
    let out = Command::new(env!("CARGO_BIN_EXE_mtoctl"))
        .env("MTOCTL_NO_KNOWN_IDS", "1")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "permissions",
            "-f",
            "examples/hub-and-spoke/mto.yaml",
            "--format",
            "json",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let all: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(all["format_version"], "1.2");
    let tenants = all["tenants"].as_array().expect("list");
    assert_eq!(tenants.len(), 5);
    assert_eq!(tenants[0]["alias"], "hq");
    for t in tenants {
        let perms = t["application"].as_object().expect("map");
        assert!(perms.contains_key("MultiTenantOrganization.ReadWrite.All"));
        assert!(
            perms.contains_key("Application.ReadWrite.OwnedBy"),
            "every tenant is a sync source here"
        );
        assert!(
            !perms.contains_key("Synchronization.ReadWrite.All"),
            "OwnedBy manages the configurations mtoctl creates"
        );
        assert!(
            t["to_adopt"]
                .as_object()
                .expect("map")
                .contains_key("Synchronization.ReadWrite.All"),
            "adopting the admin center's configurations takes more"
        );
        assert!(
            !perms.contains_key("Application.ReadWrite.All"),
            "least privilege without prune"
        );
    }
}
