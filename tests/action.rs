//! The GitHub Action (action.yml, action/*.sh) against the emulator, its scripts run as the
//! runner runs them: a plan on a pull request (job summary, outputs, ONE comment posted and
//! then edited in place through a fake `gh`), the saved plan applied, and a saved plan that
//! went stale reported as `stale` (mtoctl's exit 5) rather than as a failure. Also the
//! installer (a release archive checked against its SHA-256) and the wiring of action.yml.

mod common;
#[path = "common/action.rs"]
mod gha;

use common::harden::Scenario;
use common::repo;
use gha::Runner;

const SPEC: &str = "examples/quickstart/mto.yaml";
const MARKER: &str = "<!-- mtoctl-plan: examples/quickstart/mto.yaml -->";
const HEAD: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c";

/// `mtoctl show PLAN --format markdown`: what the Markdown of a saved plan must be.
fn shown(plan: &str) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mtoctl"))
        .env("MTOCTL_NO_KNOWN_IDS", "1")
        .args(["show", plan, "--format", "markdown", "--color", "never"])
        .output()
        .expect("mtoctl show");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf8")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_comments_once_then_edits_applies_the_saved_plan_and_reports_a_stale_one() {
    let world = Scenario::quickstart(Default::default()).await;
    let mut env = world.env.clone();
    env.push(("MTOCTL_GRAPH_URL".into(), world.server.base_url.clone()));
    env.push(("MTOCTL_LOGIN_URL".into(), world.server.base_url.clone()));
    let runner = Runner::new("action", env);
    // Steps block; the emulator keeps serving on the other worker.
    let step = |script: &str, inputs: &[(&str, &str)]| {
        tokio::task::block_in_place(|| runner.step(script, inputs))
    };

    let install = step(
        "install.sh",
        &[("INPUT_MTOCTL_PATH", env!("CARGO_BIN_EXE_mtoctl"))],
    );
    assert_eq!(install.code, 0, "{}", install.log);
    let mtoctl = install.output("mtoctl").to_owned();
    assert!(std::path::Path::new(&mtoctl).is_absolute(), "{mtoctl}");

    // Someone quoted the Action's comment: a quote starts with "> ", so it is left alone.
    let quoted = format!("> {MARKER}\n> an old plan");
    runner.add_comment(1, &quoted);

    // A pull request: plan, then comment.
    let plan = |run: &str| {
        step(
            "run.sh",
            &[
                ("MTOCTL", &mtoctl),
                ("INPUT_COMMAND", "plan"),
                ("INPUT_SPEC", SPEC),
                ("HEAD_SHA", HEAD),
                ("GITHUB_RUN_ID", run),
            ],
        )
    };
    let comment = |planned: &gha::Step| {
        step(
            "comment.sh",
            &[
                ("GH_TOKEN", "fake-token"),
                ("PR_NUMBER", "7"),
                ("COMMENT_FILE", planned.output("comment-file")),
                ("MARKER", planned.output("marker")),
            ],
        )
    };

    let first = plan("101");
    assert_eq!(first.code, 0, "{}", first.log);
    for (name, want) in [
        ("exit-code", "2"),
        ("outcome", "changes"),
        ("changes", "true"),
        ("stale", "false"),
        ("plan-saved", "true"),
        ("failed", "false"),
        ("marker", MARKER),
    ] {
        assert_eq!(first.output(name), want, "output {name}\n{}", first.log);
    }
    assert_eq!(first.output("artifact-name"), format!("mtoctl-plan-{HEAD}"));
    let plan1 = first.output("plan-file").to_owned();
    let markdown = shown(&plan1);
    assert!(markdown.starts_with("### mtoctl plan: "), "{markdown}");
    assert!(
        markdown.contains("organization will be created"),
        "{markdown}"
    );
    // The job summary and the artifact's plan.md hold the plan's Markdown exactly.
    assert!(
        first.summary.starts_with(&markdown),
        "summary:\n{}",
        first.summary
    );
    assert!(
        first
            .summary
            .contains(&format!("artifact `mtoctl-plan-{HEAD}`")),
        "{}",
        first.summary
    );
    assert_eq!(
        std::fs::read_to_string(first.output("markdown-file")).expect("plan.md"),
        markdown
    );
    assert_eq!(
        std::path::Path::new(first.output("markdown-file")).parent(),
        std::path::Path::new(&plan1).parent(),
        "plan.json and plan.md side by side, the artifact's root"
    );

    let posted = comment(&first);
    assert_eq!(posted.code, 0, "{}", posted.log);
    let calls = runner.gh_calls();
    assert_eq!(calls.len(), 2, "{calls:#?}");
    assert!(
        calls[0].starts_with("api --paginate repos/contoso/mto/issues/7/comments?per_page=100"),
        "{calls:#?}"
    );
    assert!(
        calls[1].starts_with("api --method POST repos/contoso/mto/issues/7/comments -F body=@"),
        "{calls:#?}"
    );
    assert_eq!(posted.output("comment-url"), "https://github.test/c/1001");
    let comments = runner.comments();
    assert_eq!(comments.len(), 2, "{comments:#?}");
    let body = comments[1]["body"].as_str().expect("body");
    assert!(body.starts_with(&format!("{MARKER}\n{markdown}")), "{body}");
    assert!(body.contains("/actions/runs/101"), "{body}");

    // A later push: the same comment is edited in place, the quote untouched.
    let second = plan("102");
    assert_eq!(second.code, 0, "{}", second.log);
    assert_eq!(second.output("outcome"), "changes");
    let plan2 = second.output("plan-file").to_owned();
    assert_ne!(plan1, plan2);
    let edited = comment(&second);
    assert_eq!(edited.code, 0, "{}", edited.log);
    let calls = runner.gh_calls();
    assert_eq!(calls.len(), 4, "{calls:#?}");
    assert!(calls[2].starts_with("api --paginate "), "{calls:#?}");
    assert!(
        calls[3].starts_with("api --method PATCH repos/contoso/mto/issues/comments/1001 "),
        "{calls:#?}"
    );
    let comments = runner.comments();
    assert_eq!(comments.len(), 2, "still one plan comment: {comments:#?}");
    assert_eq!(comments[0]["body"], quoted.as_str());
    let body = comments[1]["body"].as_str().expect("body");
    assert!(body.contains("/actions/runs/102"), "{body}");
    assert!(!body.contains("/actions/runs/101"), "{body}");

    // After the merge: the first saved plan is applied; the join leaves it waiting (exit 3).
    let applied = step(
        "run.sh",
        &[
            ("MTOCTL", &mtoctl),
            ("INPUT_COMMAND", "apply"),
            ("INPUT_SPEC", SPEC),
            ("INPUT_PLAN_FILE", &plan1),
        ],
    );
    assert_eq!(applied.code, 0, "{}", applied.log);
    assert_eq!(applied.output("exit-code"), "3", "{}", applied.log);
    assert_eq!(applied.output("outcome"), "waiting");
    assert_eq!(applied.output("failed"), "false");
    assert!(
        applied
            .summary
            .starts_with("### mtoctl apply: waiting (exit 3)"),
        "{}",
        applied.summary
    );
    assert!(
        applied.summary.contains(&markdown),
        "the summary shows the plan applied:\n{}",
        applied.summary
    );
    assert_eq!(world.census().organizations, 1, "the organization exists");

    // The second saved plan was made before that apply: stale, nothing changed, and the
    // outcome says so apart from a failure.
    let census = world.census();
    let stale = |fail: &str| {
        step(
            "run.sh",
            &[
                ("MTOCTL", &mtoctl),
                ("INPUT_COMMAND", "apply"),
                ("INPUT_SPEC", SPEC),
                ("INPUT_PLAN_FILE", &plan2),
                ("INPUT_FAIL_ON_OUTCOME", fail),
            ],
        )
    };
    let refused = stale("true");
    assert_eq!(refused.code, 0, "{}", refused.log);
    assert_eq!(refused.output("exit-code"), "5", "{}", refused.log);
    assert_eq!(refused.output("outcome"), "stale");
    assert_eq!(refused.output("stale"), "true");
    assert_eq!(
        refused.output("failed"),
        "true",
        "the Action's last step fails"
    );
    assert!(
        refused.summary.contains("**Nothing was changed.**"),
        "{}",
        refused.summary
    );
    assert!(
        refused.summary.contains("plan is stale"),
        "the objects that changed are named:\n{}",
        refused.summary
    );
    assert_eq!(world.census(), census, "a stale plan changes nothing");
    let left_to_workflow = stale("false");
    assert_eq!(left_to_workflow.output("outcome"), "stale");
    assert_eq!(left_to_workflow.output("failed"), "false");
}

/// Builds a release as GitHub serves it (served from a file:// "server"), with a stand-in
/// binary: the real one is not needed to check download, checksum and unpacking.
fn release(root: &std::path::Path, version: &str) -> (String, String) {
    let asset = format!("mtoctl-{version}-x86_64-unknown-linux-musl.tar.gz");
    let dir = root.join(format!("contoso/mtoctl/releases/download/v{version}"));
    let stage = root.join("stage").join(format!("mtoctl-{version}"));
    std::fs::create_dir_all(&dir).expect("release dir");
    std::fs::create_dir_all(&stage).expect("stage");
    let bin = stage.join("mtoctl");
    std::fs::write(&bin, format!("#!/bin/sh\necho 'mtoctl {version}'\n")).expect("bin");
    gha::make_executable(&bin);
    let tar = std::process::Command::new("tar")
        .arg("-czf")
        .arg(dir.join(&asset))
        .arg("-C")
        .arg(root.join("stage"))
        .arg(format!("mtoctl-{version}"))
        .status()
        .expect("tar");
    assert!(tar.success());
    let sum = std::process::Command::new("sha256sum")
        .arg(dir.join(&asset))
        .output()
        .expect("sha256sum");
    let hash = String::from_utf8_lossy(&sum.stdout)
        .split_whitespace()
        .next()
        .expect("hash")
        .to_owned();
    std::fs::write(
        dir.join(format!("{asset}.sha256")),
        format!("{hash}  {asset}\n"),
    )
    .expect("sha256 file");
    (asset, hash)
}

#[test]
fn install_verifies_the_release_archive_before_running_anything_in_it() {
    let runner = Runner::new("action-install", Vec::new());
    let server = runner.dir.join("server");
    let (_, hash) = release(&server, "9.9.9");
    let github_path = runner.dir.join("github_path");
    let url = format!("file://{}", server.display());
    let base = [
        ("GITHUB_SERVER_URL", url.as_str()),
        ("GITHUB_PATH", github_path.to_str().expect("utf8")),
        ("RUNNER_OS", "Linux"),
        ("RUNNER_ARCH", "X64"),
        ("INPUT_VERSION", "v9.9.9"),
    ];
    let with = |extra: &[(&'static str, &str)]| {
        let mut inputs: Vec<(&str, &str)> = base.to_vec();
        inputs.extend_from_slice(extra);
        runner.step("install.sh", &inputs)
    };

    // The release's own .sha256, the repository named, or read from the Action's path.
    for extra in [
        &[("INPUT_REPOSITORY", "contoso/mtoctl")][..],
        &[(
            "GITHUB_ACTION_PATH",
            "/home/runner/work/_actions/contoso/mtoctl/v9.9.9",
        )][..],
        &[
            ("INPUT_REPOSITORY", "contoso/mtoctl"),
            ("INPUT_SHA256", &hash),
        ][..],
    ] {
        let installed = with(extra);
        assert_eq!(installed.code, 0, "{extra:?}\n{}", installed.log);
        assert!(
            installed.log.contains("SHA-256 verified"),
            "{}",
            installed.log
        );
        let bin = installed.output("mtoctl");
        let out = std::process::Command::new(bin).output().expect("runs");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "mtoctl 9.9.9\n");
        let path = std::fs::read_to_string(&github_path).expect("GITHUB_PATH");
        let dir = std::path::Path::new(bin).parent().expect("dir");
        assert!(
            path.lines().any(|l| std::path::Path::new(l) == dir),
            "{path}"
        );
    }

    // A pinned checksum that does not match: nothing installed, and it says why.
    let wrong = "0".repeat(64);
    let refused = with(&[
        ("INPUT_REPOSITORY", "contoso/mtoctl"),
        ("INPUT_SHA256", &wrong),
    ]);
    assert_eq!(refused.code, 1, "{}", refused.log);
    assert!(
        refused
            .log
            .contains(&format!("has SHA-256 {hash}, expected {wrong}")),
        "{}",
        refused.log
    );
    assert!(
        !refused.outputs.contains_key("mtoctl"),
        "{:?}",
        refused.outputs
    );

    // No such release, and no platform the release is built for: errors that say what to do.
    let missing = with(&[
        ("INPUT_REPOSITORY", "contoso/mtoctl"),
        ("INPUT_VERSION", "9.9.8"),
    ]);
    assert_eq!(missing.code, 1);
    assert!(
        missing.log.contains("is there a release v9.9.8"),
        "{}",
        missing.log
    );
    let arm = with(&[
        ("INPUT_REPOSITORY", "contoso/mtoctl"),
        ("RUNNER_ARCH", "ARM64"),
    ]);
    assert_eq!(arm.code, 1);
    assert!(arm.log.contains("give mtoctl-path"), "{}", arm.log);
}

/// Every `INPUT_*` a script reads is set by action.yml, every `inputs.NAME` it uses is
/// declared, and every `steps.run.outputs.NAME` it reads is written by run.sh: a typo in the
/// YAML would otherwise pass every other test, which run the scripts directly.
#[test]
fn action_yml_wires_every_input_and_output_the_scripts_use() {
    let yml = std::fs::read_to_string(repo("action.yml")).expect("action.yml");
    let declared = |section: &str, next: &str| -> Vec<String> {
        let start = yml.find(&format!("\n{section}:\n")).expect(section);
        let end = yml[start..].find(&format!("\n{next}:")).expect(next) + start;
        yml[start..end]
            .lines()
            .filter_map(|l| l.strip_prefix("  ")?.strip_suffix(':'))
            .filter(|name| !name.starts_with(' '))
            .map(str::to_owned)
            .collect()
    };
    let inputs = declared("inputs", "outputs");
    assert!(inputs.contains(&"plan-file".to_owned()), "{inputs:?}");
    for used in words_after(&yml, "inputs.") {
        assert!(
            inputs.contains(&used),
            "action.yml uses undeclared inputs.{used}"
        );
    }
    let run = std::fs::read_to_string(repo("action/run.sh")).expect("run.sh");
    for used in words_after(&yml, "steps.run.outputs.") {
        assert!(
            run.contains(&format!("output {used} ")),
            "action.yml reads steps.run.outputs.{used}, which run.sh never writes"
        );
    }
    for script in ["install.sh", "run.sh", "comment.sh"] {
        assert!(
            yml.contains(&format!("\"$GITHUB_ACTION_PATH/action/{script}\"")),
            "{script}"
        );
        let text = std::fs::read_to_string(repo(&format!("action/{script}"))).expect(script);
        for var in words_after(&text, "INPUT_") {
            assert!(
                yml.contains(&format!("INPUT_{var}: ${{{{ inputs.")),
                "action/{script} reads INPUT_{var}, which action.yml does not set"
            );
        }
    }
}

/// The identifiers (letters, digits, `-`, `_`) that follow each `prefix` in `text`.
fn words_after(text: &str, prefix: &str) -> std::collections::BTreeSet<String> {
    text.match_indices(prefix)
        .map(|(at, _)| {
            text[at + prefix.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect()
}
