//! Crash consistency: `mtoctl apply` killed with SIGKILL at random moments, over and over, on
//! the quickstart and the five-tenant hub and spoke. After every kill the emulator's state must
//! hold no duplicated object (no second sync configuration, application, job, assignment or
//! member), and every episode must converge when apply runs again, with exactly the objects
//! the spec asks for.
//!
//! Kill moments are random delays from a seeded generator; the seed is printed (`CRASH_SEED=…`)
//! so a failure can be replayed. `CRASH_RUNS` sets the number of kills (default 200, about
//! a minute and a half in a debug build); a longer run:
//!
//! ```text
//! CRASH_RUNS=1000 cargo test --test crash -- --nocapture
//! ```

mod common;

use std::time::{Duration, Instant};

use common::harden::{Rng, Scenario};

/// Kills per episode (one fresh world each) before the episode must converge.
const KILLS_PER_EPISODE: usize = 20;

struct Tally {
    kills: usize,
    mid_run: usize,
    episodes: usize,
    longest_ms: u64,
    /// How long the last apply that finished before its kill took: later applies of an
    /// episode have less to do, so kill moments follow the current length of a run.
    last_ms: u64,
}

/// One episode: `kills` killed applies on a fresh world, then convergence.
async fn episode(s: &Scenario, rng: &mut Rng, kills: usize, tally: &mut Tally) {
    for _ in 0..kills {
        // Kill anywhere from before the first request to a little past the end of a run.
        let delay = rng.range(0, tally.last_ms * 6 / 5 + 20);
        let mut child = s
            .command(&["apply", "-f", &s.spec, "--auto-approve"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawns");
        let started = Instant::now();
        tokio::time::sleep(Duration::from_millis(delay)).await;
        match child.try_wait().expect("waits") {
            Some(_) => {
                // It finished first: remember how long a whole apply takes.
                let ms = started.elapsed().as_millis() as u64;
                tally.longest_ms = tally.longest_ms.max(ms);
                tally.last_ms = ms;
            }
            None => {
                let _ = child.kill(); // SIGKILL: no cleanup of any kind
                tally.mid_run += 1;
            }
        }
        let _ = tokio::task::spawn_blocking(move || child.wait()).await;
        tally.kills += 1;
        s.census(); // panics on any duplicate
        // Now and then the joins and sync cycles complete, so later kills land further on.
        if rng.range(0, 4) == 0 {
            s.advance(3600).await;
        }
    }
    s.converge(8).await;
    s.assert_converged_counts();
    let census = s.census();
    let again = s.apply().await;
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert_eq!(s.census(), census, "a converged re-run creates nothing");
    tally.episodes += 1;
}

// The seed and the numbers are printed for whoever replays or reports a run.
#[allow(clippy::print_stdout)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_killed_at_random_points_converges_without_duplicates() {
    let seed = Rng::seed_from_env("CRASH_SEED");
    println!("CRASH_SEED={seed}");
    let mut rng = Rng::new(seed);
    let runs: usize = std::env::var("CRASH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let started = Instant::now();
    // Three fifths of the kills on the quickstart, the rest on the hub and spoke.
    let quickstart = runs * 3 / 5;
    for (name, total) in [
        ("quickstart", quickstart),
        ("hub-and-spoke", runs - quickstart),
    ] {
        let mut tally = Tally {
            kills: 0,
            mid_run: 0,
            episodes: 0,
            longest_ms: 0,
            last_ms: 400,
        };
        let mut left = total;
        while left > 0 {
            let kills = left.min(KILLS_PER_EPISODE);
            let s = if name == "quickstart" {
                Scenario::quickstart(Default::default()).await
            } else {
                Scenario::hub_and_spoke("crash", Default::default()).await
            };
            episode(&s, &mut rng, kills, &mut tally).await;
            left -= kills;
        }
        println!(
            "{name}: {} kills ({} mid-run), {} episodes converged without duplicates; longest whole apply {} ms",
            tally.kills, tally.mid_run, tally.episodes, tally.longest_ms
        );
    }
    println!("crash test: {runs} kills in {:?}", started.elapsed());
}
