//! Runs the GitHub Action's scripts (`action/*.sh`) as the runner would: with bash, the step's
//! environment (`INPUT_*`, `GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY`, …) and, on `PATH`, a fake
//! `gh` that keeps pull-request comments in a JSON file and logs every call. The fake applies
//! `--jq` filters with the real `jq`, so the Action's filters are exercised, not assumed.
//! Included by tests/action.rs as `#[path = "common/action.rs"] mod gha;`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{repo, scratch};

/// The fake `gh`: `api [--method M] [--paginate] ENDPOINT [-F body=@FILE] [--jq FILTER]`
/// against `$FAKE_GH_DIR/comments.json`; each call is appended to `$FAKE_GH_DIR/calls.log`.
const FAKE_GH: &str = r#"#!/usr/bin/env bash
set -euo pipefail
dir="${FAKE_GH_DIR:?}"
printf '%s\n' "$*" >>"$dir/calls.log"
[[ "${1:-}" == api ]] || { echo "fake gh: only 'gh api' is faked" >&2; exit 2; }
shift
method=GET endpoint="" filter="." body=""
while (($#)); do
  case "$1" in
    --method | -X) method="$2"; shift 2 ;;
    --paginate) shift ;;
    --jq | -q) filter="$2"; shift 2 ;;
    -F | -f) [[ "$2" == body=@* ]] || { echo "fake gh: unexpected field $2" >&2; exit 2; }
      body="$(cat "${2#body=@}")"; shift 2 ;;
    -*) echo "fake gh: unexpected flag $1" >&2; exit 2 ;;
    *) endpoint="$1"; shift ;;
  esac
done
[[ -n "${GH_TOKEN:-}" ]] || { echo "fake gh: GH_TOKEN is not set" >&2; exit 4; }
store="$dir/comments.json"
[[ -f "$store" ]] || echo '[]' >"$store"
case "$method $endpoint" in
  "GET repos/"*"/issues/"*"/comments?per_page=100")
    jq -r "$filter" "$store" ;;
  "POST repos/"*"/issues/"*"/comments")
    id=$((1000 + $(jq length "$store")))
    jq --argjson id "$id" --arg body "$body" \
      '. + [{id: $id, body: $body, html_url: "https://github.test/c/\($id)"}]' "$store" >"$store.new"
    mv "$store.new" "$store"
    jq -r ".[] | select(.id == $id) | $filter" "$store" ;;
  "PATCH repos/"*"/issues/comments/"*)
    id="${endpoint##*/}"
    [[ "$(jq --argjson id "$id" '[.[] | select(.id == $id)] | length' "$store")" == 1 ]] ||
      { echo "fake gh: no comment $id" >&2; exit 1; }
    jq --argjson id "$id" --arg body "$body" 'map(if .id == $id then .body = $body else . end)' \
      "$store" >"$store.new"
    mv "$store.new" "$store"
    jq -r ".[] | select(.id == $id) | $filter" "$store" ;;
  *) echo "fake gh: unexpected call $method $endpoint" >&2; exit 2 ;;
esac
"#;

/// A runner's workspace for one test: temp directory, fake `gh`, and the step files.
pub struct Runner {
    /// The temp directory (RUNNER_TEMP, and the fake `gh`'s state).
    pub dir: PathBuf,
    /// Environment given to every step (the emulator's endpoints, the credentials' secrets).
    pub env: Vec<(String, String)>,
}

/// What one step did: its exit code, output, and the `GITHUB_OUTPUT` lines it wrote.
#[derive(Debug)]
pub struct Step {
    /// The script's exit code.
    pub code: i32,
    /// Standard output and error, for failure messages.
    pub log: String,
    /// `name=value` lines of `GITHUB_OUTPUT`.
    pub outputs: BTreeMap<String, String>,
    /// What the step appended to `GITHUB_STEP_SUMMARY`.
    pub summary: String,
}

impl Step {
    /// An output, or a panic naming it.
    pub fn output(&self, name: &str) -> &str {
        self.outputs
            .get(name)
            .unwrap_or_else(|| panic!("no output {name}: {:?}\n{}", self.outputs, self.log))
    }
}

impl Runner {
    /// A fresh workspace under the temp directory, with the fake `gh` in `bin/`. Panics with
    /// what is missing when bash or jq is not installed: the test needs both.
    pub fn new(name: &str, env: Vec<(String, String)>) -> Self {
        for tool in ["bash", "jq"] {
            let found = Command::new(tool).arg("--version").output();
            assert!(
                found.is_ok_and(|o| o.status.success()),
                "tests/action.rs needs `{tool}` on PATH (apt-get install {tool})"
            );
        }
        let dir = scratch(name);
        let bin = dir.join("bin");
        std::fs::create_dir_all(&bin).expect("bin");
        let gh = bin.join("gh");
        std::fs::write(&gh, FAKE_GH).expect("fake gh");
        make_executable(&gh);
        Self { dir, env }
    }

    /// Runs `action/SCRIPT` with bash in the repository's root, with `inputs` (and the
    /// runner's variables) in its environment.
    pub fn step(&self, script: &str, inputs: &[(&str, &str)]) -> Step {
        let output = self.dir.join("github_output");
        let summary = self.dir.join("step_summary");
        std::fs::write(&output, "").expect("GITHUB_OUTPUT");
        std::fs::write(&summary, "").expect("GITHUB_STEP_SUMMARY");
        let path = format!(
            "{}:{}",
            self.dir.join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let run = Command::new("bash")
            .arg(repo(&format!("action/{script}")))
            .current_dir(repo(""))
            .env_clear()
            .env("MTOCTL_NO_KNOWN_IDS", "1")
            .env("PATH", path)
            .env("HOME", &self.dir)
            .env("RUNNER_TEMP", &self.dir)
            .env("GITHUB_OUTPUT", &output)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("GITHUB_SERVER_URL", "https://github.com")
            .env("GITHUB_REPOSITORY", "contoso/mto")
            .env("FAKE_GH_DIR", &self.dir)
            .envs(self.env.iter().cloned())
            .envs(inputs.iter().copied())
            .stdin(std::process::Stdio::null())
            .output()
            .expect("bash runs");
        let text = std::fs::read_to_string(&output).expect("GITHUB_OUTPUT");
        Step {
            code: run.status.code().unwrap_or(-1),
            log: format!(
                "{}{}",
                String::from_utf8_lossy(&run.stdout),
                String::from_utf8_lossy(&run.stderr)
            ),
            outputs: text
                .lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            summary: std::fs::read_to_string(&summary).expect("summary"),
        }
    }

    /// The fake `gh`'s calls so far, one line each.
    pub fn gh_calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("calls.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// The pull request's comments as the fake `gh` holds them.
    pub fn comments(&self) -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(self.dir.join("comments.json")).unwrap_or("[]".into());
        serde_json::from_str(&text).expect("comments.json")
    }

    /// Puts a comment on the pull request, as someone else would.
    pub fn add_comment(&self, id: u64, body: &str) {
        let mut all = self.comments();
        all.push(
            serde_json::json!({"id": id, "body": body, "html_url": "https://github.test/other"}),
        );
        std::fs::write(
            self.dir.join("comments.json"),
            serde_json::to_string(&all).expect("json"),
        )
        .expect("write comments");
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// chmod 755.
pub fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}
