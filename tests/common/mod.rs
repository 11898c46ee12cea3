//! What the binary's end-to-end tests share: paths in the repository, the quickstart's
//! emulator credentials, and its tenant ids.

#![allow(dead_code)] // each test crate uses a different part

use std::path::{Path, PathBuf};

pub mod contract;
pub mod harden;
pub mod permissions;
pub mod proxy;

/// Contoso, the quickstart's owner tenant.
pub const CONTOSO: &str = "6babcaad-604b-40ac-a9d7-9fd97c0b779f";
/// Fabrikam, the quickstart's member tenant.
pub const FABRIKAM: &str = "3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11";

/// A path in the repository.
pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The `KEY=VALUE` lines of examples/quickstart/emulator.env: the secrets that let the
/// quickstart spec's credentials sign in to the quickstart world.
pub fn quickstart_env() -> Vec<(String, String)> {
    std::fs::read_to_string(repo("examples/quickstart/emulator.env"))
        .expect("emulator.env")
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// What one `mtoctl` run printed and returned.
pub struct Run {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Every key of `v` that is not snake_case (docs/json-output.md), as a path (`*` for array
/// items).
pub fn keys_not_in_snake_case(v: &serde_json::Value) -> Vec<String> {
    fn walk(v: &serde_json::Value, path: &str, bad: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(o) => {
                for (k, v) in o {
                    let snake = k.starts_with(|c: char| c.is_ascii_lowercase())
                        && k.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
                    if !snake {
                        bad.push(format!("{path}/{k}"));
                    }
                    walk(v, &format!("{path}/{k}"), bad);
                }
            }
            serde_json::Value::Array(a) => {
                a.iter().for_each(|v| walk(v, &format!("{path}/*"), bad))
            }
            _ => {}
        }
    }
    let mut bad = Vec::new();
    walk(v, "", &mut bad);
    bad
}

/// A new, empty scratch directory for one test (`name` keeps tests apart).
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mtoctl-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// `mtoctl plan` of the quickstart against these endpoints, killed after `limit`; the run
/// (code -1 when killed) and how long it took.
pub fn plan_against(
    graph: &str,
    login: &str,
    args: &[&str],
    env: &[(&str, &str)],
    limit: std::time::Duration,
) -> (Run, std::time::Duration) {
    use std::io::Read;
    // The example specs' folders are shared by tests running at once against emulators of
    // their own, so no ids are kept beside them (here and wherever tests run those specs).
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mtoctl"))
        .env("MTOCTL_NO_KNOWN_IDS", "1")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("MTOCTL_GRAPH_URL")
        .env_remove("MTOCTL_LOGIN_URL")
        .env_remove("MTOCTL_LOG")
        .env_remove("MTOCTL_DEADLINE")
        .envs(quickstart_env())
        .envs(env.iter().copied())
        .args([
            "plan",
            "-f",
            "examples/quickstart/mto.yaml",
            "--color",
            "never",
        ])
        .args(["--graph-url", graph, "--login-url", login])
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    let started = std::time::Instant::now();
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let code = loop {
        if let Some(status) = child.try_wait().expect("waits") {
            break status.code().unwrap_or(-1);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break -1;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let elapsed = started.elapsed();
    let run = Run {
        code,
        stdout: out.join().expect("stdout"),
        stderr: err.join().expect("stderr"),
    };
    (run, elapsed)
}
