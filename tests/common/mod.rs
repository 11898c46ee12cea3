//! What the binary's end-to-end tests share: paths in the repository, the quickstart's
//! emulator credentials, and its tenant ids.

#![allow(dead_code)] // each test crate uses a different part

use std::path::{Path, PathBuf};

pub mod contract;
pub mod harden;

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

/// A new, empty scratch directory for one test (`name` keeps tests apart).
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mtoctl-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}
