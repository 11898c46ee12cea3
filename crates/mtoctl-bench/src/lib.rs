//! # mtoctl-bench: mtoctl at scale against the emulator
//!
//! Generates the scenarios of performance-model.md §7 (worlds and specs), runs the emulator
//! in-process with latency, the Graph throttling model and a time scale, drives the real
//! `mtoctl` binary as a subprocess through a cold plan, an apply from scratch, a no-op plan and
//! an incremental apply, and reports what the emulator counted and what the process cost
//! against the model's lower bounds (`model`). Beside mtoctl it can run a baseline client
//! modelled on today's tools (`baseline`), and it measures growth with size (`growth`).
//!
//! It does not assert timings: the CI quick mode (`tests/quick.rs`) asserts counts only. See
//! `docs/benchmarks.md` for the command, the settings and the results.

pub mod baseline;
pub mod checks;
pub mod growth;
pub mod model;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod worlds;

use std::path::PathBuf;

/// The `mtoctl` binary beside this executable (or one directory up, for test executables in
/// `deps/`). With `build`, first runs `cargo build --bin mtoctl` in the same profile when cargo is
/// known (`CARGO` is set under `cargo run`), so a stale binary is never measured. Tests pass
/// `false`: `cargo test` holds the build lock while tests run, and `cargo test --workspace`
/// has built the binary already.
pub fn locate_mtoctl(build: bool, release: bool) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let mut dirs = Vec::new();
    if let Some(d) = exe.parent() {
        dirs.push(d.to_path_buf());
        if let Some(up) = d.parent() {
            dirs.push(up.to_path_buf());
        }
    }
    let find = || dirs.iter().map(|d| d.join("mtoctl")).find(|p| p.is_file());
    if let (true, Ok(cargo)) = (build, std::env::var("CARGO")) {
        // Ask cargo every time: a stale binary would measure old code. A no-op when up to date.
        let mut cmd = std::process::Command::new(cargo);
        cmd.args(["build", "--locked", "--quiet", "--bin", "mtoctl"]);
        if release {
            cmd.arg("--release");
        }
        let status = cmd.status()?;
        anyhow::ensure!(status.success(), "`cargo build --bin mtoctl` failed");
    }
    find().ok_or_else(|| {
        anyhow::anyhow!(
            "no `mtoctl` binary beside {}; build it with `cargo build --release --bin mtoctl` or pass --mtoctl",
            exe.display()
        )
    })
}
