//! Two `mtoctl apply` runs of the same spec at once (two CI jobs without a concurrency group,
//! or an operator and CI): both race through the same plan, and the world must still converge
//! with no duplicated object. docs/gitops.md shows the CI concurrency group that keeps this
//! from happening in the first place.

mod common;

use common::harden::Scenario;

async fn race(s: &Scenario, rounds: usize) {
    for _ in 0..rounds {
        let (a, b) = tokio::join!(s.apply(), s.apply());
        for run in [&a, &b] {
            // A run may lose a race (an object the other created first); it then fails that
            // action cleanly or adopts the object, and never duplicates it.
            assert!(
                [0, 1, 3].contains(&run.code),
                "apply crashed ({}):\n{}\n{}",
                run.code,
                run.stdout,
                run.stderr
            );
        }
        s.census(); // panics on any duplicate
        s.advance(5 * 3600).await;
        if s.plan().await.code == 0 {
            break;
        }
    }
    s.converge(4).await;
    s.assert_converged_counts();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_applies_of_the_quickstart_at_once_converge_without_duplicates() {
    let s = Scenario::quickstart(Default::default()).await;
    race(&s, 6).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_applies_of_the_hub_and_spoke_at_once_converge_without_duplicates() {
    let s = Scenario::hub_and_spoke("concurrent", Default::default()).await;
    race(&s, 6).await;
}

/// With some latency both runs are still in flight together when they create objects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_applies_with_latency_converge_without_duplicates() {
    let s = Scenario::quickstart(mtoctl_emulator::Options {
        latency: mtoctl_emulator::Latency::Fixed(20),
        ..Default::default()
    })
    .await;
    race(&s, 6).await;
}
