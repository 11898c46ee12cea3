//! `--emulator`: the emulator inside mtoctl, seeded from the spec, its state kept under
//! `.mtoctl/` in the working directory so that runs continue where the last one stopped.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Run, repo, scratch};

/// Runs mtoctl in `dir` with no Graph or credential settings from the environment: the
/// embedded mode needs none.
fn mtoctl(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_mtoctl"))
        .current_dir(dir)
        .env_remove("MTOCTL_GRAPH_URL")
        .env_remove("MTOCTL_LOGIN_URL")
        .env_remove("CONTOSO_CLIENT_SECRET")
        .env_remove("FABRIKAM_CLIENT_SECRET")
        .args(args)
        .args(["--color", "never"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("runs");
    Run {
        code: out.status.code().expect("code"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `plan --emulator --detailed-exitcode -f SPEC` in `dir`: 0 when it plans nothing.
fn plan_detailed(dir: &Path, spec: &str) -> Run {
    mtoctl(
        dir,
        &["plan", "--emulator", "--detailed-exitcode", "-f", spec],
    )
}

/// `apply --emulator --auto-approve --wait 2m -f SPEC` in `dir`.
fn apply_waiting(dir: &Path, spec: &str) -> Run {
    mtoctl(
        dir,
        &[
            "apply",
            "--emulator",
            "--auto-approve",
            "--wait",
            "2m",
            "-f",
            spec,
        ],
    )
}

#[test]
fn a_spec_alone_is_seeded_applied_and_stays_converged_across_runs() {
    // hub-and-spoke has no world.yaml: the world comes from the spec alone, and its tenants
    // use five credential kinds, none of which the embedded mode needs.
    let dir = scratch("emulator-mode-hub");
    std::fs::copy(
        repo("examples/hub-and-spoke/mto.yaml"),
        dir.join("mto.yaml"),
    )
    .expect("copy");

    let apply = apply_waiting(&dir, "mto.yaml");
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    assert!(
        apply.stderr.contains("emulator: a new emulated world"),
        "{}",
        apply.stderr
    );
    // Without a world file the groups the scopes name are made up, and said so.
    assert!(
        apply.stderr.contains(
            "emulator: no world.yaml beside the spec, so the new world has what the spec names:"
        ) && apply.stderr.contains("group \"Retail Managers\" in retail"),
        "{}",
        apply.stderr
    );
    assert!(dir.join(".mtoctl/emulator/world.json").is_file());
    assert_eq!(
        std::fs::read_to_string(dir.join(".mtoctl/.gitignore"))
            .expect("gitignore")
            .lines()
            .last(),
        Some("*")
    );

    let plan = plan_detailed(&dir, "mto.yaml");
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    assert!(
        plan.stderr.contains("emulator: the saved emulated world"),
        "{}",
        plan.stderr
    );

    let status = mtoctl(
        &dir,
        &["status", "--emulator", "-f", "mto.yaml", "--format", "json"],
    );
    let report: serde_json::Value = serde_json::from_str(&status.stdout).expect("json");
    assert_eq!(report["tenants"].as_array().map(Vec::len), Some(5));
    assert!(
        report["tenants"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["state"] == "active"),
        "{report}"
    );

    // Once the world exists nothing is made up: a misspelt group is an error, not a new group.
    let text = std::fs::read_to_string(dir.join("mto.yaml")).expect("spec");
    std::fs::write(
        dir.join("typo.yaml"),
        text.replace("[Retail Managers]", "[Retail Manager]"),
    )
    .expect("write");
    let typo = mtoctl(&dir, &["plan", "--emulator", "-f", "typo.yaml"]);
    assert_eq!(typo.code, 1, "{}\n{}", typo.stdout, typo.stderr);
    assert!(
        typo.stdout.contains(
            "group \"Retail Manager\" does not exist in retail (did you mean Retail Managers?)"
        ),
        "{}\n{}",
        typo.stdout,
        typo.stderr
    );
    assert!(
        !typo.stderr.contains("so the new world has"),
        "{}",
        typo.stderr
    );

    // Starting over: a new, empty world plans everything again.
    let reset = mtoctl(
        &dir,
        &[
            "plan",
            "--emulator-reset",
            "--detailed-exitcode",
            "-f",
            "mto.yaml",
        ],
    );
    assert_eq!(reset.code, 2, "{}\n{}", reset.stdout, reset.stderr);
    assert!(
        reset.stderr.contains("emulator: a new emulated world"),
        "{}",
        reset.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn time_between_runs_passes_in_the_emulated_world() {
    let dir = scratch("emulator-mode-quickstart");
    for file in ["mto.yaml", "world.yaml"] {
        std::fs::copy(repo("examples/quickstart").join(file), dir.join(file)).expect("copy");
    }
    // Without --wait apply stops at the join (6 s with the embedded clock) and exits 3.
    let first = mtoctl(
        &dir,
        &["apply", "--emulator", "--auto-approve", "-f", "mto.yaml"],
    );
    assert_eq!(first.code, 3, "{}\n{}", first.stdout, first.stderr);
    // Real time passes between the runs; the join completes meanwhile.
    std::thread::sleep(std::time::Duration::from_secs(8));
    let second = mtoctl(
        &dir,
        &["apply", "--emulator", "--auto-approve", "-f", "mto.yaml"],
    );
    assert_eq!(second.code, 0, "{}\n{}", second.stdout, second.stderr);
    // A started job's first cycle is due at once in the embedded world, so `status` right
    // after `apply` finds the users provisioned instead of racing a timer.
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(".mtoctl/emulator/world.json")).expect("state"),
    )
    .expect("json");
    assert_eq!(state["timings"]["syncFirstCycle"], serde_json::json!(0.0));
    let status = mtoctl(&dir, &["status", "--emulator", "-f", "mto.yaml"]);
    assert_eq!(status.code, 0, "{}\n{}", status.stdout, status.stderr);
    assert!(
        status
            .stdout
            .contains("alice_contoso.onmicrosoft.com#EXT#@fabrikam.onmicrosoft.com  Member"),
        "{}",
        status.stdout
    );
    let plan = plan_detailed(&dir, "mto.yaml");
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_emulator_and_an_endpoint_override_exclude_each_other() {
    let run = mtoctl(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &[
            "plan",
            "--emulator",
            "--graph-url",
            "http://127.0.0.1:1",
            "-f",
            "examples/quickstart/mto.yaml",
        ],
    );
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("cannot be used with"), "{}", run.stderr);
}

/// Credentials without a client id (the Azure CLI, a system-assigned managed identity) sign in
/// as one emulated app per tenant, the same one on every run.
#[test]
fn credentials_without_a_client_id_reuse_one_app_across_runs() {
    let dir = scratch("emulator-mode-no-client-id");
    std::fs::write(
        dir.join("mto.yaml"),
        "apiVersion: mtoctl/v1alpha1\nkind: MultiTenantOrganization\norganization:\n  displayName: Cli Group\ntenants:\n  - alias: first\n    tenantId: 0a1b2c3d-0000-4000-8000-000000000001\n    displayName: First\n    role: owner\n    auth:\n      azureCli: {}\n  - alias: second\n    tenantId: 0a1b2c3d-0000-4000-8000-000000000002\n    displayName: Second\n    role: member\n    auth:\n      managedIdentity: {}\n",
    )
    .expect("spec");
    for _ in 0..2 {
        let plan = mtoctl(&dir, &["plan", "--emulator", "-f", "mto.yaml"]);
        assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    }
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(".mtoctl/emulator/world.json")).expect("state"),
    )
    .expect("json");
    let tenants = state["tenants"].as_object().expect("tenants");
    assert_eq!(tenants.len(), 2);
    for (id, tenant) in tenants {
        assert_eq!(tenant["apps"].as_array().map(Vec::len), Some(1), "{id}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every spec of the same tenants sees one world: the getting-started adoption flow (export,
/// then plan the exported spec) finds the organization it exported, and a world file's users
/// are the only ones there are.
#[test]
fn an_exported_spec_sees_the_world_it_was_exported_from() {
    let dir = scratch("emulator-mode-export");
    for file in ["mto.yaml", "world.yaml"] {
        std::fs::copy(repo("examples/quickstart").join(file), dir.join(file)).expect("copy");
    }
    let apply = apply_waiting(&dir, "mto.yaml");
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    assert!(
        !apply.stderr.contains("so the new world has"),
        "{}",
        apply.stderr
    );
    let export = mtoctl(
        &dir,
        &[
            "export",
            "--emulator",
            "-f",
            "mto.yaml",
            "--out",
            "exported.yaml",
        ],
    );
    assert_eq!(export.code, 0, "{}\n{}", export.stdout, export.stderr);
    let plan = plan_detailed(&dir, "exported.yaml");
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    assert!(
        plan.stderr.contains("emulator: the saved emulated world"),
        "{}",
        plan.stderr
    );

    // With a world file nothing is invented: a user it does not have is an error.
    let text = std::fs::read_to_string(dir.join("mto.yaml")).expect("spec");
    std::fs::write(
        dir.join("typo.yaml"),
        text.replace(
            "- bob@contoso.onmicrosoft.com",
            "- bobb@contoso.onmicrosoft.com",
        ),
    )
    .expect("write");
    let typo = mtoctl(&dir, &["plan", "--emulator", "-f", "typo.yaml"]);
    assert_eq!(typo.code, 1, "{}\n{}", typo.stdout, typo.stderr);
    assert!(
        typo.stdout.contains("typo.yaml:")
            && typo
                .stdout
                .contains("user bobb@contoso.onmicrosoft.com does not exist in contoso"),
        "{}\n{}",
        typo.stdout,
        typo.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The Graph calls of a run, from its debug log: one `client_request_id` per call.
fn graph_calls(stderr: &str) -> std::collections::BTreeSet<String> {
    stderr
        .lines()
        .filter(|l| l.contains("graph{"))
        .filter_map(|l| l.split("client_request_id=").nth(1))
        .filter_map(|rest| rest.split(['}', ' ']).next())
        .map(str::to_owned)
        .collect()
}

/// An apply keeps, beside the spec, the ids of the configurations and jobs it made; the next
/// plan asks for their details in its first wave by those ids (fewer calls, none for a schema
/// alone) and plans the same. A file that cannot be read is passed over.
#[test]
fn the_ids_an_apply_made_are_kept_beside_the_spec_and_read_ahead() {
    let dir = scratch("emulator-mode-known-ids");
    for file in ["mto.yaml", "world.yaml"] {
        std::fs::copy(repo(&format!("examples/quickstart/{file}")), dir.join(file)).expect("copy");
    }
    let apply = apply_waiting(&dir, "mto.yaml");
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);

    let file = dir.join(".mtoctl/known-ids.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).expect("kept").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "readable by its owner only");
    }
    let known: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("kept")).expect("json");
    let tenants = known["tenants"].as_object().expect("tenants");
    assert_eq!(tenants.len(), 2, "{known}");
    for tenant in tenants.values() {
        let keys: Vec<&String> = tenant.as_object().expect("tenant").keys().collect();
        assert_eq!(keys, ["configurations", "seen_unix_s"], "{known}");
        let configurations = tenant["configurations"].as_array().expect("list");
        assert_eq!(configurations.len(), 1, "{known}");
        let c = configurations[0].as_object().expect("configuration");
        let keys: Vec<&String> = c.keys().collect();
        assert_eq!(
            keys,
            ["job_ids", "name", "service_principal_id"],
            "ids only: {known}"
        );
        assert!(c["name"].as_str().expect("name").starts_with("mto_sync_"));
        let jobs = c["job_ids"].as_array().expect("jobs");
        assert_eq!(jobs.len(), 1, "the job the apply made: {known}");
        assert!(jobs[0].as_str().expect("id").starts_with("Azure2Azure."));
    }

    let debug = [
        "plan",
        "--emulator",
        "--detailed-exitcode",
        "-f",
        "mto.yaml",
        "--log-level",
        "debug",
    ];
    let warm = mtoctl(&dir, &debug);
    assert_eq!(warm.code, 0, "{}\n{}", warm.stdout, warm.stderr);
    let cold = mtoctl(&dir, &[&debug[..], &["--no-known-ids"]].concat());
    assert_eq!(cold.code, 0, "{}\n{}", cold.stdout, cold.stderr);
    assert_eq!(warm.stdout, cold.stdout, "the same plan");
    let (warm_calls, cold_calls) = (graph_calls(&warm.stderr), graph_calls(&cold.stderr));
    assert_eq!(
        (warm_calls.len(), cold_calls.len()),
        (4, 6),
        "two calls a tenant, where each tenant's schema took a third"
    );
    assert!(!warm.stderr.contains("/schema"), "{}", warm.stderr);
    assert!(cold.stderr.contains("/schema"), "{}", cold.stderr);

    std::fs::write(&file, "{not json").expect("write");
    let broken = plan_detailed(&dir, "mto.yaml");
    assert_eq!(broken.code, 0, "{}\n{}", broken.stdout, broken.stderr);
    assert!(
        broken.stderr.lines().all(|l| !l.contains("known")),
        "{}",
        broken.stderr
    );
    let rewritten: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("kept")).expect("json");
    assert_eq!(rewritten["tenants"].as_object().map(|t| t.len()), Some(2));
}
