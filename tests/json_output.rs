//! One convention for every `--format json` (docs/json-output.md): every key mtoctl names is
//! snake_case (`^[a-z][a-z0-9_]*$`), and every top-level document carries a `format_version`.
//! Runs each command that prints JSON (validate on the whole bad-spec corpus, permissions, and
//! plan, show, apply, status and doctor against the emulator at several stages of the
//! quickstart) and walks every key of what it printed. Objects whose keys are data (a map keyed
//! by resource address or permission name) are named per document and only their values are
//! walked.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::harden::Scenario;
use common::{Run, repo, scratch};
use serde_json::Value;

const SPEC: &str = "examples/quickstart/mto.yaml";

/// The plan's maps keyed by data: `observed` is keyed by resource address.
const PLAN_MAPS: &[&str] = &["/observed"];
/// `permissions`: `application`, `to_adopt` and `to_diagnose` are keyed by Graph permission
/// name.
const PERMISSION_MAPS: &[&str] = &[
    "/tenants/*/application",
    "/tenants/*/to_adopt",
    "/tenants/*/to_diagnose",
    "/tenants/*/to_remove_synced_users",
];

/// The commands this test runs with `--format json`; any other command offering it fails
/// [`every_command_offering_json_is_covered`] until it is added here and below.
const COVERED: &[&str] = &[
    "apply",
    "destroy",
    "doctor",
    "permissions",
    "plan",
    "show",
    "status",
    "validate",
];

fn is_snake_case(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Every key of `value` that is not snake_case, as a JSON pointer (`*` for array indices and
/// the keys of data maps, which match `maps`).
fn bad_keys(value: &Value, path: &str, maps: &[&str], out: &mut Vec<String>) {
    match value {
        Value::Object(object) => {
            let data_map = maps.contains(&path);
            for (key, v) in object {
                if data_map {
                    bad_keys(v, &format!("{path}/*"), maps, out);
                } else {
                    if !is_snake_case(key) {
                        out.push(format!("{path}/{key}"));
                    }
                    bad_keys(v, &format!("{path}/{key}"), maps, out);
                }
            }
        }
        Value::Array(items) => {
            for v in items {
                bad_keys(v, &format!("{path}/*"), maps, out);
            }
        }
        _ => {}
    }
}

/// Parses `text` as one JSON document and checks its keys and its `format_version`.
fn check_document(what: &str, text: &str, maps: &[&str]) -> Value {
    let value: Value = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("{what}: not one JSON document: {e}\n{text}"));
    check_value(what, &value, maps);
    assert!(
        value["format_version"]
            .as_str()
            .is_some_and(|v| !v.is_empty()),
        "{what}: no format_version at the top level\n{text}"
    );
    value
}

/// Checks the keys of `value` only.
fn check_value(what: &str, value: &Value, maps: &[&str]) {
    assert!(value.is_object(), "{what}: the top level is not an object");
    let mut bad = Vec::new();
    bad_keys(value, "", maps, &mut bad);
    assert!(bad.is_empty(), "{what}: keys not in snake_case: {bad:?}");
}

fn offline(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_mtoctl"))
        .env("MTOCTL_NO_KNOWN_IDS", "1")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .args(["--color", "never"])
        .output()
        .expect("runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn every_command_offering_json_is_covered() {
    let help = offline(&["--help"]).stdout;
    let commands: Vec<&str> = help
        .split_once("Commands:\n")
        .expect("a command list")
        .1
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.contains(&"status"), "{help}");
    let offering: BTreeSet<&str> = commands
        .into_iter()
        .filter(|c| {
            offline(&[c, "--help"])
                .stdout
                .lines()
                .any(|l| l.trim_start().starts_with("- json:"))
        })
        .collect();
    assert_eq!(offering, COVERED.iter().copied().collect::<BTreeSet<_>>());
}

#[test]
fn validate_and_permissions_print_snake_case_and_a_format_version() {
    let run = offline(&["permissions", "-f", SPEC, "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v = check_document("permissions", &run.stdout, PERMISSION_MAPS);
    assert!(
        v["tenants"][0]["to_adopt"]
            .as_object()
            .is_some_and(|m| !m.is_empty()),
        "{v}"
    );

    let run = offline(&["validate", "-f", SPEC, "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    check_document("validate (valid)", &run.stdout, &[]);

    let mut specs: Vec<_> = std::fs::read_dir(repo("tests/bad-specs"))
        .expect("the bad-spec corpus")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    specs.sort();
    let mut located = 0;
    for spec in &specs {
        let name = spec.display().to_string();
        let run = offline(&["validate", "-f", &name, "--format", "json"]);
        // Some of the corpus only warns (exit 0); none may crash.
        assert!(run.code == 0 || run.code == 1, "{name}: {}", run.stderr);
        let v = check_document(&format!("validate {name}"), &run.stdout, &[]);
        assert_eq!(v["valid"], run.code == 0, "{name}");
        located += v["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .filter(|d| d["end_column"].is_u64())
            .count();
    }
    assert!(located > 0, "some findings carry their end");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_show_apply_and_status_print_snake_case_and_a_format_version() {
    let world = Scenario::quickstart(Default::default()).await;
    let dir = scratch("json-output");
    let saved = dir.join("plan.json");
    let saved = saved.to_str().expect("utf-8 path");

    // A fresh world: the first stage's plan, saved and shown again, and a status with
    // nothing set up yet.
    let plan = world
        .run(&["plan", "-f", SPEC, "--format", "json", "--out", saved])
        .await;
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    check_document("plan (fresh)", &plan.stdout, PLAN_MAPS);
    let file = std::fs::read_to_string(saved).expect("saved plan");
    check_document("plan --out", &file, PLAN_MAPS);
    let show = world.run(&["show", saved, "--format", "json"]).await;
    assert_eq!(show.code, 0, "{}", show.stderr);
    check_document("show", &show.stdout, PLAN_MAPS);
    let status = world.run(&["status", "-f", SPEC, "--format", "json"]).await;
    assert_ne!(status.code, 0, "nothing is set up yet");
    check_document("status (fresh)", &status.stdout, &[]);
    let doctor = world.run(&["doctor", "-f", SPEC, "--format", "json"]).await;
    assert_eq!(doctor.code, 0, "{}\n{}", doctor.stdout, doctor.stderr);
    check_document("doctor (fresh)", &doctor.stdout, &[]);

    // apply's report on stdout and its events on stderr, one JSON object per line.
    let apply = world
        .run(&["apply", "-f", SPEC, "--auto-approve", "--format", "json"])
        .await;
    assert!(
        apply.code == 0 || apply.code == 3,
        "{}\n{}",
        apply.stdout,
        apply.stderr
    );
    let report = check_document("apply report", &apply.stdout, &[]);
    assert!(report["rounds"].is_array(), "{report}");
    let mut events = 0;
    for line in apply.stderr.lines().filter(|l| l.starts_with('{')) {
        check_document("apply event", line, &[]);
        events += 1;
    }
    assert!(events > 0, "{}", apply.stderr);

    // After the join: the second stage (sync configurations, assignments, jobs).
    world.advance(5 * 3600).await;
    let plan = world.run(&["plan", "-f", SPEC, "--format", "json"]).await;
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let v = check_document("plan (after the join)", &plan.stdout, PLAN_MAPS);
    assert!(!v["actions"].as_array().expect("actions").is_empty());

    // Converged and a cycle later: status with its cycles and samples.
    world.converge(6).await;
    world.advance(3600).await;
    let status = world.run(&["status", "-f", SPEC, "--format", "json"]).await;
    assert_eq!(status.code, 0, "{}\n{}", status.stdout, status.stderr);
    let v = check_document("status (healthy)", &status.stdout, &[]);
    assert!(v["syncs"][0]["last_cycle"].is_object(), "{v}");
    assert!(v["syncs"][0]["samples"][0].is_object(), "{v}");

    // A scope naming someone who does not exist: a plan with located error notes.
    let text = std::fs::read_to_string(repo(SPEC)).expect("spec");
    let typo = dir.join("typo.yaml");
    std::fs::write(
        &typo,
        text.replace(
            "bob@contoso.onmicrosoft.com",
            "bobb@contoso.onmicrosoft.com",
        ),
    )
    .expect("write");
    let typo = typo.to_str().expect("utf-8 path");
    let plan = world.run(&["plan", "-f", typo, "--format", "json"]).await;
    assert_eq!(plan.code, 1, "{}\n{}", plan.stdout, plan.stderr);
    let v = check_document("plan (a missing user)", &plan.stdout, PLAN_MAPS);
    assert!(
        v["notes"]
            .as_array()
            .expect("notes")
            .iter()
            .any(|n| n["location"].is_object()),
        "{v}"
    );
    let status = world.run(&["status", "-f", typo, "--format", "json"]).await;
    check_document("status (a missing user)", &status.stdout, &[]);

    // destroy: its plan (with `mode`), its report and events.
    let plan = world
        .run(&["plan", "-f", SPEC, "--destroy", "--format", "json"])
        .await;
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let v = check_document("plan --destroy", &plan.stdout, PLAN_MAPS);
    assert_eq!(v["mode"], "destroy", "{v}");
    let destroy = world
        .run(&["destroy", "-f", SPEC, "--auto-approve", "--format", "json"])
        .await;
    assert!(
        destroy.code == 0 || destroy.code == 3,
        "{}\n{}",
        destroy.stdout,
        destroy.stderr
    );
    check_document("destroy report", &destroy.stdout, &[]);
    for line in destroy.stderr.lines().filter(|l| l.starts_with('{')) {
        check_document("destroy event", line, &[]);
    }

    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_key_check_catches_camel_case_and_skips_data_maps() {
    let doc = serde_json::json!({
        "format_version": "1.0",
        "observed": {"tenant.contoso.organization": "sha256:…"},
        "tenants": [{"alias": "a", "tenantId": "…"}],
    });
    let mut bad = Vec::new();
    bad_keys(&doc, "", PLAN_MAPS, &mut bad);
    assert_eq!(bad, ["/tenants/*/tenantId"]);
    assert!(!is_snake_case("_x") && !is_snake_case("9a") && is_snake_case("no_op2"));
}
