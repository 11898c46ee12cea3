//! End-to-end tests of the `mtoctl` binary: exit codes, output formats, colors, files.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn mtoctl() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mtoctl"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd.env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("MTOCTL_COLOR");
    cmd
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("mtoctl runs");
    (
        status.code().expect("exited normally"),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn temp_spec(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mtoctl-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write spec");
    path
}

/// Every spec under examples/ validates: they are the documentation users copy from.
#[test]
fn every_example_spec_validates() {
    let mut specs = Vec::new();
    let mut dirs = vec![repo("examples")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("examples/") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.file_name().is_some_and(|n| n == "mto.yaml") {
                specs.push(path);
            }
        }
    }
    assert!(specs.len() >= 2, "found {specs:?}");
    for spec in specs {
        let (code, stdout, stderr) = run(mtoctl().arg("validate").arg("-f").arg(&spec));
        assert_eq!(code, 0, "{}: {stdout}{stderr}", spec.display());
        assert!(stdout.contains("is valid"), "{stdout}");
    }
}

#[test]
fn quickstart_validates_with_exit_0() {
    let (code, stdout, _) = run(mtoctl().args(["validate", "-f", "examples/quickstart/mto.yaml"]));
    assert_eq!(code, 0);
    assert_eq!(
        stdout,
        "examples/quickstart/mto.yaml is valid: 2 tenants, 2 sync directions\n"
    );
}

const FIVE_MISTAKES: &str = "apiVersion: mtoctl/v1alpha1
kind: MultiTenantOrganization
organization: {displayName: Contoso Group}
tenants:
  - alias: contoso
    tenantId: 6babcaad-604b-40ac-a9d7-9fd97c0b779
    displayName: Contoso
    role: owner
    auth: {clientId: 0d3f3c4e-5b7a-4c1e-9a8b-1c2d3e4f5a6b, clientSecret: abc8Q~0123456789abcdefghijklmnopqrstuvwx}
  - alias: fabrikam
    tenantId: 3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11
    displayNme: Fabrikam
    auth: {clientId: 7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d, clientSecret: {fromEnv: FABRIKAM_SECRET}}
collaboration:
  allPairs: {allowUsersSyncInbound: true, automaticUserConsent: {inbound: true, outbound: true}}
sync:
  - {from: contoso, to: fabrkam, scope: {users: [alice@contoso.onmicrosoft.com]}}
";

#[test]
fn an_invalid_spec_exits_1_and_reports_every_problem_located_in_json() {
    let spec = temp_spec("five.yaml", FIVE_MISTAKES);
    let (code, stdout, _) = run(mtoctl()
        .arg("validate")
        .arg("-f")
        .arg(&spec)
        .args(["--format", "json"]));
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(report["valid"], false);
    let found: Vec<String> = report["diagnostics"]
        .as_array()
        .expect("array")
        .iter()
        .map(|d| {
            format!(
                "{} {}:{}",
                d["code"].as_str().unwrap_or("?"),
                d["line"],
                d["column"]
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            "spec::guid 6:15",
            "spec::literal_secret 9:60",
            "spec::missing_field 10:5",
            "spec::unknown_field 12:5",
            "spec::unknown_alias 17:25",
        ]
    );
    assert_eq!(report["error_count"], 5);
    assert!(
        report["diagnostics"][0]["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("five.yaml"))
    );
}

#[test]
fn the_secret_never_appears_in_any_output_format() {
    let spec = temp_spec("secret.yaml", FIVE_MISTAKES);
    for format in ["text", "json", "github"] {
        for color in ["always", "never"] {
            let (code, stdout, stderr) = run(mtoctl()
                .arg("validate")
                .arg("-f")
                .arg(&spec)
                .args(["--format", format, "--color", color]));
            assert_eq!(code, 1);
            assert!(
                !stdout.contains("abc8Q~") && !stderr.contains("abc8Q~"),
                "{format}/{color} leaked it"
            );
        }
    }
}

#[test]
fn text_output_has_snippets_and_a_summary_and_honours_color_settings() {
    let spec = temp_spec("five-text.yaml", FIVE_MISTAKES);
    let (code, stdout, stderr) = run(mtoctl()
        .arg("validate")
        .arg("-f")
        .arg(&spec)
        .args(["--color", "never"]));
    assert_eq!(code, 1);
    assert!(
        stdout.ends_with("is invalid: 5 errors, 0 warnings\n"),
        "{stdout}"
    );
    assert!(
        stderr.contains("unknown tenant alias `fabrkam`"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `fabrikam`?"), "{stderr}");
    assert!(stderr.contains("five-text.yaml:17:25"), "{stderr}");
    assert!(!stderr.contains('\x1b'), "no ANSI codes with --color never");

    let (_, _, colored) = run(mtoctl()
        .arg("validate")
        .arg("-f")
        .arg(&spec)
        .args(["--color", "always"]));
    assert!(colored.contains('\x1b'), "ANSI codes with --color always");

    // Not a terminal and NO_COLOR: no colors with the default `auto`.
    let (_, _, plain) = run(mtoctl()
        .arg("validate")
        .arg("-f")
        .arg(&spec)
        .env("NO_COLOR", "1"));
    assert!(!plain.contains('\x1b'));
}

#[test]
fn github_format_emits_workflow_annotations() {
    let spec = temp_spec("gh.yaml", FIVE_MISTAKES);
    let (code, stdout, _) = run(mtoctl()
        .arg("validate")
        .arg("-f")
        .arg(&spec)
        .args(["--format", "github"]));
    assert_eq!(code, 1);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{stdout}");
    assert!(lines.iter().all(|l| l.starts_with("::error file=")));
    assert!(lines[4].contains("line=17,col=25"), "{}", lines[4]);
    assert!(lines[4].contains("title=spec%3A%3Aunknown_alias::unknown tenant alias `fabrkam`%0Ahelp: did you mean `fabrikam`?"), "{}", lines[4]);
}

#[test]
fn spec_can_come_from_stdin() {
    let quickstart = std::fs::read(repo("examples/quickstart/mto.yaml")).expect("quickstart");
    let mut child = mtoctl()
        .args(["validate", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&quickstart)
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("<stdin> is valid"));
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let (code, stdout, stderr) =
        run(mtoctl().args(["validate", "-f", "no/such/spec.yaml", "--color", "never"]));
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    assert!(
        stderr.starts_with("error: cannot read the spec `no/such/spec.yaml`: "),
        "{stderr}"
    );
}

#[test]
fn usage_errors_exit_1_not_2() {
    // 2 is reserved for `plan --detailed-exitcode` ("changes present").
    let (code, _, stderr) = run(mtoctl().args(["validate"]));
    assert_eq!(code, 1, "{stderr}");
    let (code, _, _) = run(mtoctl().args(["no-such-command"]));
    assert_eq!(code, 1);
    let (code, stdout, _) = run(mtoctl().args(["--help"]));
    assert_eq!(code, 0);
    assert!(stdout.contains("validate"));
}

#[test]
fn committed_schema_matches_the_generated_one() {
    let (code, generated, _) = run(mtoctl().arg("schema"));
    assert_eq!(code, 0);
    let committed =
        std::fs::read_to_string(repo("mtoctl.schema.json")).expect("mtoctl.schema.json");
    assert!(
        committed == generated,
        "mtoctl.schema.json is out of date: run `cargo run -- schema --out mtoctl.schema.json`"
    );
    let schema: serde_json::Value = serde_json::from_str(&generated).expect("json");
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
}

#[test]
fn schema_out_writes_a_file() {
    let path = std::env::temp_dir().join(format!("mtoctl-schema-{}.json", std::process::id()));
    let (code, stdout, _) = run(mtoctl().arg("schema").arg("--out").arg(&path));
    assert_eq!(code, 0);
    assert!(stdout.is_empty());
    let written = std::fs::read_to_string(&path).expect("written");
    assert_eq!(
        written,
        std::fs::read_to_string(repo("mtoctl.schema.json")).expect("committed")
    );
    let _ = std::fs::remove_file(path);
}

#[test]
fn completions_are_generated_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let (code, stdout, _) = run(mtoctl().args(["completions", shell]));
        assert_eq!(code, 0, "{shell}");
        assert!(
            stdout.contains("validate"),
            "{shell} completions mention subcommands"
        );
    }
    let (code, _, _) = run(mtoctl().args(["completions", "tcsh"]));
    assert_eq!(code, 1);
}
