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

    let apply = mtoctl(
        &dir,
        &[
            "apply",
            "--emulator",
            "--auto-approve",
            "--wait",
            "2m",
            "-f",
            "mto.yaml",
        ],
    );
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    assert!(
        apply.stderr.contains("emulator: a new emulated world"),
        "{}",
        apply.stderr
    );
    assert!(dir.join(".mtoctl/emulator/mto-yaml.json").is_file());
    assert_eq!(
        std::fs::read_to_string(dir.join(".mtoctl/.gitignore"))
            .expect("gitignore")
            .lines()
            .last(),
        Some("*")
    );

    let plan = mtoctl(
        &dir,
        &[
            "plan",
            "--emulator",
            "--detailed-exitcode",
            "-f",
            "mto.yaml",
        ],
    );
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
    let plan = mtoctl(
        &dir,
        &[
            "plan",
            "--emulator",
            "--detailed-exitcode",
            "-f",
            "mto.yaml",
        ],
    );
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
