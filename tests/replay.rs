//! A transcript replayed (`mtoctl-emulator replay`, through its library): the quickstart's
//! lifecycle, `apply --wait` then `status`, recorded with `--record` and `--record-key` against
//! an emulator of a fixed seed, and replayed with the keys against a fresh emulator of the same
//! world, seed and time scale, with no difference.

mod common;

use common::harden::Scenario;
use common::{Run, repo, scratch};
use mtoctl_emulator::replay::{Key, ReplayOptions, Transcript, replay_all};
use mtoctl_emulator::world::WorldFile;
use std::path::Path;

const SEED: u64 = 4242;
const TIME_SCALE: f64 = 0.001;

/// `mtoctl COMMAND -f SPEC EXTRA…` recording to `DIR/COMMAND.jsonl`, its key to
/// `DIR/COMMAND.key`.
async fn recorded(world: &Scenario, dir: &Path, command: &str, extra: &[&str]) -> Run {
    let file = |suffix: &str| {
        dir.join(format!("{command}.{suffix}"))
            .to_string_lossy()
            .into_owned()
    };
    let (transcript, key) = (file("jsonl"), file("key"));
    let mut args = vec![command, "-f", world.spec.as_str()];
    args.extend(extra);
    args.extend(["--record", &transcript, "--record-key", &key]);
    world.run(&args).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recorded_quickstart_lifecycle_replays_without_differences() {
    let world = Scenario::quickstart(mtoctl_emulator::Options {
        follow_wall_clock: true,
        time_scale: TIME_SCALE,
        seed: Some(SEED),
        ..Default::default()
    })
    .await;
    let dir = scratch("replay");
    let apply = recorded(&world, &dir, "apply", &["--auto-approve", "--wait", "3m"]).await;
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let status = recorded(&world, &dir, "status", &[]).await;
    assert_eq!(status.code, 0, "{}\n{}", status.stdout, status.stderr);

    let read = |name: &str| {
        let transcript = Transcript::read(&dir.join(format!("{name}.jsonl"))).expect("transcript");
        let key = Key::read(&dir.join(format!("{name}.key"))).expect("key");
        (transcript, key)
    };
    let (apply, apply_key) = read("apply");
    let (status, status_key) = read("status");
    assert!(
        apply
            .exchanges
            .iter()
            .any(|e| e.path.contains("/synchronization/jobs/Azure2Azure.")),
        "the apply made and started sync jobs"
    );
    let quickstart =
        std::fs::read_to_string(repo("examples/quickstart/world.yaml")).expect("world");
    let options = ReplayOptions {
        world: Some(WorldFile::parse(&quickstart).expect("world")),
        seed: Some(SEED),
        time_scale: TIME_SCALE,
        ..Default::default()
    };
    let report = replay_all(
        &[(&apply, Some(&apply_key)), (&status, Some(&status_key))],
        &options,
    )
    .await
    .expect("replays");
    // Ids the replay made in another order than the recording's emulator (requests sent within
    // a millisecond or two of each other) are bound from the answers and differ in nothing.
    assert!(report.differences.is_empty(), "{}", report.text());
    assert_eq!(
        report.replayed, report.exchanges,
        "every exchange got an answer"
    );
    assert!(report.replayed >= 40, "{}", report.text());

    // Without the keys, the quickstart's users and groups are asked for by their pseudonyms,
    // and found nowhere: the replay says so.
    let blind = replay_all(&[(&apply, None), (&status, None)], &options)
        .await
        .expect("replays");
    assert!(!blind.differences.is_empty(), "{}", blind.text());
    let _ = std::fs::remove_dir_all(&dir);
}
