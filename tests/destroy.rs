//! `mtoctl destroy` against the emulator: it returns both quickstart tenants to their state
//! before the first apply, object by object; it is idempotent; it converges when killed at
//! random moments; a saved destroy plan is checked like apply's.
//!
//! "Object by object" compares every live object of each tenant in the emulator's own state:
//! users, groups, app registrations and service principals, partner configurations, identity
//! sync policies, templates, the organization and the join request. Left out, because Graph
//! keeps them by design: the recycle bins (a deleted account, partner configuration or policy
//! stays restorable for 30 days), the provisioning logs, and the emulator's own counters.

mod common;

use std::time::{Duration, Instant};

use common::harden::{Rng, Scenario};
use serde_json::{Map, Value};

/// Every live object of every tenant, comparable across a run.
async fn directory(s: &Scenario) -> Map<String, Value> {
    let state = s
        .admin(reqwest::Method::GET, "/_emulator/state", None)
        .await;
    let mut out = Map::new();
    let tenants = state["tenants"].as_object().expect("tenants");
    for (id, tenant) in tenants {
        let mut t = tenant.as_object().expect("a tenant").clone();
        for kept_by_graph in [
            "provisioningLogs",
            "deletedPartners",
            "deletedSync",
            "changeSeq",
        ] {
            t.remove(kept_by_graph);
        }
        let live = |list: &Value| -> Vec<Value> {
            list.as_array()
                .expect("a list")
                .iter()
                .filter(|o| o.get("deletedMs").is_none_or(Value::is_null))
                .map(|o| {
                    let mut o = o.as_object().expect("an object").clone();
                    o.remove("changedSeq");
                    Value::Object(o)
                })
                .collect()
        };
        let users = live(&t["users"]);
        let groups = live(&t["groups"]);
        t.insert("users".into(), Value::Array(users));
        t.insert("groups".into(), Value::Array(groups));
        if let Some(jr) = t.get_mut("joinRequest").and_then(Value::as_object_mut) {
            // How many join attempts the emulator has scheduled: not a Graph property.
            jr.remove("attempt");
        }
        out.insert(id.clone(), Value::Object(t));
    }
    out.insert("mtos".into(), state["mtos"].clone());
    out
}

/// Names each difference between two snapshots, down to the top-level key of a tenant.
fn differences(before: &Map<String, Value>, after: &Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    for (key, b) in before {
        let a = after.get(key).unwrap_or(&Value::Null);
        match (b.as_object(), a.as_object()) {
            (Some(bo), Some(ao)) if key != "mtos" => {
                for (field, bv) in bo {
                    let av = ao.get(field).unwrap_or(&Value::Null);
                    if av != bv {
                        out.push(format!("{key}.{field}:\n  before {bv}\n  after  {av}"));
                    }
                }
            }
            _ if a != b => out.push(format!("{key}:\n  before {b}\n  after  {a}")),
            _ => {}
        }
    }
    out
}

/// Destroys until `plan --destroy` finds nothing, advancing the clock past removals between
/// rounds; every run must succeed or wait (exit 0 or 3).
async fn destroy_until_gone(s: &Scenario, extra: &[&str]) {
    for _ in 0..6 {
        let mut args = vec!["destroy", "-f", &s.spec, "--auto-approve"];
        args.extend_from_slice(extra);
        let run = s.run(&args).await;
        assert!(
            run.code == 0 || run.code == 3,
            "destroy failed ({}):\n{}\n{}",
            run.code,
            run.stdout,
            run.stderr
        );
        s.advance(3600).await;
        let mut plan = vec!["plan", "-f", &s.spec, "--destroy", "--detailed-exitcode"];
        plan.extend_from_slice(extra);
        if s.run(&plan).await.code == 0 {
            return;
        }
    }
    panic!("destroy did not finish in 6 rounds");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_returns_both_tenants_to_their_state_before_the_first_apply() {
    let s = Scenario::quickstart(Default::default()).await;
    let before = directory(&s).await;
    s.converge(6).await;
    // A sync cycle, so that the accounts sync makes exist in both targets.
    s.advance(3600).await;
    let status = s.run(&["status", "-f", &s.spec]).await;
    assert_eq!(status.code, 0, "{}\n{}", status.stdout, status.stderr);
    let converged = directory(&s).await;
    assert!(
        differences(&before, &converged).len() > 10,
        "the apply changed the tenants"
    );

    // Without the opt-in, the accounts sync made stay, and the plan says so.
    let plan = s.run(&["plan", "-f", &s.spec, "--destroy"]).await;
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(
        plan.stdout
            .contains("users that synchronization provisioned into fabrikam stay there"),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("synced_user"), "{}", plan.stdout);

    // With it, each one is a reviewed line of the plan.
    let plan = s
        .run(&["plan", "-f", &s.spec, "--destroy", "--remove-synced-users"])
        .await;
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    for copy in [
        "alice_contoso.onmicrosoft.com#EXT#@fabrikam.onmicrosoft.com",
        "carol_fabrikam.onmicrosoft.com#EXT#@contoso.onmicrosoft.com",
    ] {
        assert!(
            plan.stdout.contains(&format!("- synced_user[\"{copy}\"]")),
            "{copy}:\n{}",
            plan.stdout
        );
    }
    destroy_until_gone(&s, &["--remove-synced-users"]).await;

    let after = directory(&s).await;
    let diff = differences(&before, &after);
    assert!(diff.is_empty(), "{}", diff.join("\n"));

    // Idempotent: nothing left to do, nothing done.
    let again = s
        .run(&[
            "destroy",
            "-f",
            &s.spec,
            "--auto-approve",
            "--remove-synced-users",
        ])
        .await;
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert!(
        again.stdout.contains("Nothing to destroy"),
        "{}",
        again.stdout
    );
    assert_eq!(directory(&s).await, after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_destroy_plan_is_checked_like_a_saved_apply_plan() {
    let s = Scenario::quickstart(Default::default()).await;
    s.converge(6).await;
    let dir = common::scratch("destroy-saved");
    let saved = dir.join("destroy.json");
    let saved = saved.to_str().expect("utf-8");
    let apply_plan = dir.join("apply.json");
    let apply_plan = apply_plan.to_str().expect("utf-8");

    // A plan of `plan` is not a destroy plan.
    let out = s.run(&["plan", "-f", &s.spec, "--out", apply_plan]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let refused = s.run(&["destroy", "-f", &s.spec, apply_plan]).await;
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("not `mtoctl plan --destroy`"),
        "{}",
        refused.stderr
    );

    let out = s
        .run(&["plan", "-f", &s.spec, "--destroy", "--out", saved])
        .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(saved).expect("saved")).expect("JSON");
    assert_eq!(json["mode"], "destroy");

    // Applied as a plain apply, its removals need --allow-destroy.
    let refused = s.run(&["apply", "-f", &s.spec, saved]).await;
    assert_eq!(refused.code, 1, "{}\n{}", refused.stdout, refused.stderr);
    assert!(
        refused.stderr.contains("--allow-destroy"),
        "{}",
        refused.stderr
    );

    // Something it removes changed since: refused as stale, nothing removed.
    s.graph(
        "fabrikam",
        reqwest::Method::PATCH,
        "/policies/crossTenantAccessPolicy/partners/6babcaad-604b-40ac-a9d7-9fd97c0b779f",
        serde_json::json!({"inboundTrust": {"isMfaAccepted": false, "isCompliantDeviceAccepted": true, "isHybridAzureADJoinedDeviceAccepted": false}}),
    )
    .await;
    let census = s.census();
    let stale = s.run(&["destroy", "-f", &s.spec, saved]).await;
    assert_eq!(stale.code, 5, "{}\n{}", stale.stdout, stale.stderr);
    assert!(stale.stderr.contains("stale"), "{}", stale.stderr);
    assert_eq!(s.census(), census, "a stale plan removes nothing");

    // A fresh one is carried out without asking.
    let out = s
        .run(&["plan", "-f", &s.spec, "--destroy", "--out", saved])
        .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let run = s.run(&["destroy", "-f", &s.spec, saved]).await;
    assert!(
        run.code == 0 || run.code == 3,
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    let census = s.census();
    assert!(
        census
            .tenants
            .iter()
            .all(|t| t.configurations == 0 && t.applications == 0),
        "{census:?}"
    );
}

/// Kills per run of the crash test (`DESTROY_CRASH_RUNS`), each on the same world until it is
/// gone, and the seed (`CRASH_SEED`) printed to replay a failure.
#[allow(clippy::print_stdout)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_killed_at_random_points_still_finishes() {
    let seed = Rng::seed_from_env("CRASH_SEED");
    let kills: usize = std::env::var("DESTROY_CRASH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    println!("CRASH_SEED={seed}");
    let mut rng = Rng::new(seed);
    let s = Scenario::quickstart(Default::default()).await;
    let before = directory(&s).await;
    s.converge(6).await;
    s.advance(3600).await;
    let mut whole_ms = 400u64;
    let mut mid_run = 0;
    for _ in 0..kills {
        let delay = rng.range(0, whole_ms * 6 / 5 + 20);
        let mut child = s
            .command(&[
                "destroy",
                "-f",
                &s.spec,
                "--auto-approve",
                "--remove-synced-users",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawns");
        let started = Instant::now();
        tokio::time::sleep(Duration::from_millis(delay)).await;
        match child.try_wait().expect("waits") {
            Some(_) => whole_ms = started.elapsed().as_millis() as u64,
            None => {
                let _ = child.kill();
                mid_run += 1;
            }
        }
        let _ = tokio::task::spawn_blocking(move || child.wait()).await;
        s.census(); // panics on any duplicate
        if rng.range(0, 3) == 0 {
            s.advance(3600).await;
        }
    }
    destroy_until_gone(&s, &["--remove-synced-users"]).await;
    let diff = differences(&before, &directory(&s).await);
    assert!(diff.is_empty(), "{}", diff.join("\n"));
    println!("destroy crash test: {kills} kills, {mid_run} mid-run");
}
