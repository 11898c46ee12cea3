//! End-to-end tests of the `mtoctl` binary: exit codes, output formats, colors, files.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn mtoctl() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mtoctl"));
    cmd.env("MTOCTL_NO_KNOWN_IDS", "1");
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

/// What a run printed and how it ended, for a child that must end by itself in time.
struct Bounded {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: std::time::Duration,
}

/// Runs `cmd` to its end, feeding its standard input from `feed` when given, and fails the
/// test (after killing it) if it has not ended within `limit`.
fn run_bounded(
    cmd: &mut Command,
    feed: Option<Box<dyn FnOnce(std::process::ChildStdin) + Send>>,
    limit: std::time::Duration,
) -> Bounded {
    use std::io::Read;
    let started = std::time::Instant::now();
    let mut child = cmd
        .stdin(if feed.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mtoctl starts");
    if let Some(feed) = feed {
        let stdin = child.stdin.take().expect("stdin");
        std::thread::spawn(move || feed(stdin));
    }
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("stderr")));
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("mtoctl did not end within {limit:?}: {cmd:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    Bounded {
        code: status.code(),
        elapsed: started.elapsed(),
        stdout: stdout.join().expect("stdout"),
        stderr: stderr.join().expect("stderr"),
    }
}

/// Writes `a: b` lines until the reader goes away (as `yes 'a: b'` does), at most 64 MiB so
/// that the test itself always ends.
fn endless_yaml(mut to: impl Write) {
    let chunk = "a: b\n".repeat(16 * 1024);
    for _ in 0..(64 * 1024 * 1024 / chunk.len()) {
        if to.write_all(chunk.as_bytes()).is_err() {
            return;
        }
    }
}

/// Issue 19: `validate -f /dev/zero` and `yes 'a: b' | validate -f -` grew to gigabytes and
/// never ended. Files, devices, FIFOs and standard input are read up to the cap and refused,
/// naming the file and the limit, in well under a second.
#[cfg(unix)]
#[test]
fn input_past_the_size_cap_is_refused_quickly_from_devices_fifos_and_pipes() {
    let limit = std::time::Duration::from_secs(20);
    let check = |what: &str, run: Bounded, name: &str| {
        assert_eq!(run.code, Some(1), "{what}: {}", run.stderr);
        assert!(
            run.stderr
                .contains(&format!("`{name}` is larger than 4 MiB")),
            "{what}: {}",
            run.stderr
        );
        assert!(
            run.elapsed < std::time::Duration::from_secs(5),
            "{what} took {:?}",
            run.elapsed
        );
    };
    for command in ["validate", "plan"] {
        let run = run_bounded(
            mtoctl().args([command, "-f", "/dev/zero", "--color", "never"]),
            None,
            limit,
        );
        check(&format!("{command} -f /dev/zero"), run, "/dev/zero");
    }
    let run = run_bounded(
        mtoctl().args(["validate", "-f", "-", "--color", "never"]),
        Some(Box::new(endless_yaml)),
        limit,
    );
    check("yes 'a: b' | validate -f -", run, "<stdin>");

    let fifo = std::env::temp_dir().join(format!("mtoctl-fifo-{}", std::process::id()));
    let _ = std::fs::remove_file(&fifo);
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let writer = fifo.clone();
    // Opening a FIFO for writing waits for its reader: mtoctl.
    std::thread::spawn(move || {
        if let Ok(file) = std::fs::OpenOptions::new().write(true).open(writer) {
            endless_yaml(file);
        }
    });
    let name = fifo.display().to_string();
    let run = run_bounded(
        mtoctl()
            .args(["validate", "--color", "never", "-f"])
            .arg(&fifo),
        None,
        limit,
    );
    check("validate -f FIFO", run, &name);
    let _ = std::fs::remove_file(&fifo);
}

/// The longest source line a text snippet may print: a window of 120 characters, two
/// ellipses and the gutter.
const MAX_SNIPPET_LINE: usize = 160;

/// Checks what a text run printed: source lines are windows, messages are bounded, and no
/// control character of the spec reaches the terminal.
#[track_caller]
fn assert_bounded_text(what: &str, out: &str) {
    for line in out.lines() {
        let n = line.chars().count();
        assert!(
            n <= 1100 && (!line.contains(" │ ") || n <= MAX_SNIPPET_LINE),
            "{what}: a line of {n} characters: {line:.200}"
        );
    }
    assert!(
        !out.chars().any(|c| c.is_control() && c != '\n'),
        "{what}: a control character in {out:.2000}"
    );
}

/// Issue 19: a finding past column 65,535 (a spec as `jq -c` writes it) made the text
/// renderer panic (exit 101), and long lines were echoed whole. Text shows a window around
/// the column; JSON and GitHub annotations keep the exact line and column.
#[test]
fn a_finding_past_column_65535_is_shown_in_a_window_and_located_exactly() {
    let spec = "tests/bad-specs/minified-long-line.yaml";
    let text = run_bounded(
        mtoctl().args(["validate", "-f", spec, "--color", "never"]),
        None,
        std::time::Duration::from_secs(30),
    );
    assert_eq!(text.code, Some(1), "{}", text.stderr);
    assert_bounded_text("validate", &text.stderr);
    assert!(
        text.stderr
            .contains("[tests/bad-specs/minified-long-line.yaml:6:70752]"),
        "{}",
        text.stderr
    );
    assert!(text.stderr.contains(r#"…uthor…"#) || text.stderr.contains('…'));
    assert!(
        text.stderr.contains(r#","colour":"blue"}"#),
        "{}",
        text.stderr
    );
    assert!(
        text.stderr.contains("did you mean `Member`?"),
        "{}",
        text.stderr
    );

    let (code, json, _) = run(mtoctl().args(["validate", "-f", spec, "--format", "json"]));
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&json).expect("json");
    let at: Vec<(u64, u64)> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["line"].as_u64().unwrap_or(0),
                d["column"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(at, [(6, 70752), (6, 71117), (6, 71138)]);

    let (code, github, _) = run(mtoctl().args(["validate", "-f", spec, "--format", "github"]));
    assert_eq!(code, 1);
    assert!(github.contains("line=6,col=70752,"), "{github}");
}

/// A spec given without `-f` is the commonest first mistake; clap alone says only
/// "unexpected argument".
#[test]
fn a_spec_given_without_f_earns_a_tip() {
    for command in [
        "validate",
        "plan",
        "status",
        "permissions",
        "doctor",
        "sync now",
    ] {
        let mut args: Vec<&str> = command.split(' ').collect();
        args.extend(["spec.yaml", "--color", "never"]);
        let (code, _, stderr) = run(mtoctl().args(args));
        assert_eq!(code, 1);
        assert!(
            stderr.contains(&format!(
                "tip: to give the spec, use `-f`: `mtoctl {command} -f spec.yaml`"
            )),
            "{stderr}"
        );
    }
}

/// `apply SPEC` takes the spec for a saved plan: it says so and how to give it.
#[test]
fn a_spec_given_to_apply_as_a_plan_is_named_a_spec() {
    let spec = repo("examples/quickstart/mto.yaml");
    let spec = spec.to_str().expect("utf8");
    let (code, _, stderr) = run(mtoctl().args(["apply", spec, "--color", "never"]));
    assert_eq!(code, 1);
    assert!(
        stderr.contains(&format!(
            "is a spec, not a saved plan: give a spec with -f (`mtoctl apply -f {spec}`)"
        )),
        "{stderr}"
    );
}

/// `apply --help` says when `-f` may be left out, and every subcommand's help ends with
/// examples of it.
#[test]
fn help_says_when_the_spec_defaults_and_ends_with_examples() {
    let (code, help, _) = run(mtoctl().args(["apply", "--help"]));
    assert_eq!(code, 0);
    let words = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("Required, except with a PLANFILE: then it defaults to `mto.yaml`"),
        "{help}"
    );
    for command in [
        "validate",
        "plan",
        "show",
        "apply",
        "status",
        "export",
        "permissions",
        "schema",
        "completions",
    ] {
        let (code, help, _) = run(mtoctl().args([command, "--help"]));
        assert_eq!(code, 0);
        let examples = help
            .rsplit_once("Examples:\n")
            .map(|(_, e)| e)
            .unwrap_or_else(|| panic!("`{command} --help` has no examples:\n{help}"));
        let lines: Vec<&str> = examples.lines().collect();
        assert!((2..=3).contains(&lines.len()), "{command}: {examples}");
        assert!(
            lines
                .iter()
                .all(|l| l.starts_with(&format!("  mtoctl {command} "))),
            "{command}: {examples}"
        );
    }
}

mod long_inputs {
    use super::*;
    use proptest::prelude::*;

    /// The quickstart with an unknown field on its first line, so that every variant is
    /// invalid and `plan` stops at the spec, never reaching for Graph.
    fn quickstart() -> String {
        let text = std::fs::read_to_string(repo("examples/quickstart/mto.yaml")).expect("spec");
        format!("colour: red\n{text}")
    }

    /// Found by the property below: a long `from` alias (with spaces, so not one word) went
    /// into another finding's message unshortened, and miette wrapped it into lines as long.
    #[test]
    fn a_long_unknown_alias_is_shortened_in_every_message() {
        let text = quickstart().replacen(
            "from: contoso",
            &format!("from: c{}ontoso", " a".repeat(142)),
            1,
        );
        let spec =
            std::env::temp_dir().join(format!("mtoctl-long-alias-{}.yaml", std::process::id()));
        std::fs::write(&spec, &text).expect("written");
        let run = run_bounded(
            mtoctl()
                .args(["validate", "--color", "never", "-f"])
                .arg(&spec),
            None,
            std::time::Duration::from_secs(60),
        );
        let _ = std::fs::remove_file(&spec);
        assert_eq!(run.code, Some(1), "{}", run.stderr);
        let out = format!("{}{}", run.stdout, run.stderr);
        assert!(out.contains("spec::foreign_user"), "{out}");
        assert_bounded_text("validate", &out);
    }

    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z ]{1,8}",
            "\\PC{1,6}",
            "[\\x00-\\x1f\\x7f]{1,3}",
            proptest::sample::select(vec![
                "é",
                "漢字",
                "🦀",
                "\t",
                ": ",
                "\u{202e}",
                "\u{1b}[31m"
            ])
            .prop_map(str::to_owned),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]

        /// Issue 19: long lines (minified JSON, or a long piece anywhere in YAML) and inputs
        /// past the cap, through `validate` and through `plan`'s loading of the spec: each run
        /// ends with exit 1 (no panic, which is 101), in bounded time, and prints a bounded
        /// amount whatever the length of the line.
        #[test]
        fn long_lines_and_huge_inputs_end_with_bounded_output(
            piece in piece(),
            repeat in 1usize..40_000,
            at in any::<usize>(),
            layout in 0usize..3,
        ) {
            let long = piece.repeat(repeat);
            let text = quickstart();
            let bytes = match layout {
                0 => {
                    // Minified: one line of JSON with the long value before the findings.
                    let mut doc = mtoctl_model::spec::yaml::parse(&text).expect("YAML").to_json();
                    doc["organization"]["description"] = long.into();
                    doc["sync"][0]["userType"] = "member".into();
                    serde_json::to_vec(&doc).expect("JSON")
                }
                1 => {
                    let mut bytes = text.into_bytes();
                    let first = "colour: red\n".len();
                    let i = first + at % (bytes.len() - first + 1);
                    bytes.splice(i..i, long.bytes());
                    bytes
                }
                _ => {
                    let mut bytes = text.into_bytes();
                    bytes.resize(mtoctl_model::spec::MAX_SPEC_BYTES + 1 + at % 4096, b'#');
                    bytes
                }
            };
            let spec = std::env::temp_dir().join(format!("mtoctl-long-{}.yaml", std::process::id()));
            std::fs::write(&spec, &bytes).expect("written");
            for command in ["validate", "plan"] {
                let run = run_bounded(
                    mtoctl()
                        .args([command, "--color", "never", "-f"])
                        .arg(&spec)
                        .env("MTOCTL_GRAPH_URL", "http://127.0.0.1:9")
                        .env("MTOCTL_LOGIN_URL", "http://127.0.0.1:9"),
                    None,
                    std::time::Duration::from_secs(60),
                );
                prop_assert_eq!(run.code, Some(1), "{}: {:.3000}", command, run.stderr);
                let out = format!("{}{}", run.stdout, run.stderr);
                prop_assert!(out.len() <= 32 * 1024, "{} printed {} bytes", command, out.len());
                assert_bounded_text(command, &out);
            }
            let _ = std::fs::remove_file(&spec);
        }
    }
}

/// Issue 19: Ctrl-C during an apply says what it interrupted and that running apply again
/// converges, and exits 130; running it again then does converge. Against the embedded
/// emulator, interrupted while it waits for Fabrikam's join.
#[cfg(unix)]
#[test]
fn ctrl_c_during_apply_says_what_it_interrupted_and_a_rerun_converges() {
    use std::io::{BufRead, BufReader};
    let dir = std::env::temp_dir().join(format!("mtoctl-ctrl-c-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    for file in ["mto.yaml", "world.yaml"] {
        std::fs::copy(repo(&format!("examples/quickstart/{file}")), dir.join(file)).expect("copy");
    }
    let apply = |wait: &str| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mtoctl"));
        cmd.env("MTOCTL_NO_KNOWN_IDS", "1");
        cmd.current_dir(&dir)
            .args(["apply", "--emulator", "--auto-approve", "--color", "never"])
            .args(["--wait", wait, "-f", "mto.yaml"])
            .env_remove("MTOCTL_GRAPH_URL")
            .env_remove("MTOCTL_LOGIN_URL")
            .stdin(Stdio::null());
        cmd
    };
    let mut child = apply("10m")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("apply starts");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut seen = String::new();
    // A wait polling for the join: well inside the apply, long after it took Ctrl-C over.
    loop {
        let mut line = String::new();
        let n = stderr.read_line(&mut line).expect("stderr");
        assert!(n > 0, "apply ended before waiting for the join:\n{seen}");
        seen.push_str(&line);
        if line.contains(": still waiting") {
            break;
        }
    }
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let reader = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut rest);
        rest
    });
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > std::time::Duration::from_secs(30) {
            let _ = child.kill();
            panic!("apply did not stop on Ctrl-C");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let rest = reader.join().expect("stderr");
    assert_eq!(status.code(), Some(130), "{seen}{rest}");
    // Other actions may be in flight beside the wait (round 1 configures Contoso's sync
    // meanwhile), listed before it; the wait for Fabrikam's join must be among them.
    let in_flight = rest
        .lines()
        .find_map(|line| line.split_once("stopped in flight (perhaps done in Graph already): "))
        .map(|(_, actions)| actions);
    assert!(
        rest.contains("interrupted while applying the plan: ")
            && in_flight.is_some_and(|actions| actions
                .split(", [")
                .any(|action| action.contains("fabrikam] ")
                    && action.contains("wait for fabrikam's join"))),
        "{rest}"
    );
    assert!(
        rest.contains("Run the same `mtoctl apply` again: it plans from what Graph holds now"),
        "{rest}"
    );

    let again = apply("2m").output().expect("apply runs");
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
