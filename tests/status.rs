//! `mtoctl status` against the emulator: healthy after apply (with provisioned `#EXT#` members),
//! and each fault of a broken world named: a pending join, a target forbidding inbound sync, a
//! quarantined job.

mod common;

use common::harden::Scenario;
use common::{CONTOSO, Run};
use serde_json::{Value, json};

const SPEC: &str = "examples/quickstart/mto.yaml";

fn report(run: &Run) -> Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("status --format json: {e}\n{}\n{}", run.stdout, run.stderr))
}

fn findings(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for part in ["tenants", "syncs"] {
        for item in v[part].as_array().expect("array") {
            for f in item["findings"].as_array().expect("findings") {
                out.push(f.as_str().expect("text").to_owned());
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_apply_status_is_healthy_and_shows_provisioned_members() {
    let world = Scenario::quickstart(Default::default()).await;
    world.converge(6).await;
    // One more sync cycle, so both jobs have run since their last change.
    world.advance(3600).await;

    let run = world.run(&["status", "-f", SPEC, "--format", "json"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let v = report(&run);
    assert_eq!(v["format_version"], "1.2");
    assert_eq!(v["health"], "healthy");
    assert_eq!(v["organization"], "Contoso Group");
    for t in v["tenants"].as_array().unwrap() {
        assert_eq!(t["state"], "active", "{t}");
        assert_eq!(t["health"], "healthy", "{t}");
    }
    let tenants: Vec<(&str, &str)> = v["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["alias"].as_str().unwrap(), t["role"].as_str().unwrap()))
        .collect();
    assert_eq!(tenants, [("contoso", "owner"), ("fabrikam", "member")]);

    let syncs = v["syncs"].as_array().unwrap();
    assert_eq!(syncs.len(), 2);
    let contoso_to_fabrikam = &syncs[0];
    assert_eq!(contoso_to_fabrikam["job_status"], "Active");
    // alice and bob by name, erin through Contoso Sales (alice is in it too).
    assert_eq!(contoso_to_fabrikam["in_scope"], 3);
    assert_eq!(contoso_to_fabrikam["provisioned"], 3);
    let samples: Vec<(String, String)> = contoso_to_fabrikam["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["user_principal_name"].as_str().unwrap().to_owned(),
                s["user_type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        samples,
        [
            (
                "alice_contoso.onmicrosoft.com#EXT#@fabrikam.onmicrosoft.com".to_owned(),
                "Member".to_owned()
            ),
            (
                "bob_contoso.onmicrosoft.com#EXT#@fabrikam.onmicrosoft.com".to_owned(),
                "Member".to_owned()
            ),
            (
                "erin_contoso.onmicrosoft.com#EXT#@fabrikam.onmicrosoft.com".to_owned(),
                "Member".to_owned()
            ),
        ]
    );
    assert!(findings(&v).is_empty(), "{:?}", findings(&v));
    // Each user sampled has a verdict with every check, and the counts are the list's.
    let counts = &contoso_to_fabrikam["user_counts"];
    assert_eq!(counts["coverage"], "sample");
    let users = contoso_to_fabrikam["users"].as_array().unwrap();
    assert_eq!(counts["in_scope"], users.len());
    assert_eq!(counts["provisioned"], 3);
    assert_eq!(counts["failing"], 0);
    for u in users {
        assert_eq!(u["health"], "healthy", "{u}");
        assert_eq!(u["checks"].as_array().unwrap().len(), 6, "{u}");
    }

    // The text form says the same for people.
    let text = world.run(&["status", "-f", SPEC]).await;
    assert_eq!(text.code, 0);
    assert!(
        text.stdout
            .contains("alice_contoso.onmicrosoft.com#EXT#@fabrikam.onmicrosoft.com  Member"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("Healthy"), "{}", text.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_join_is_waiting_and_exits_3() {
    // Joins take a day here, so fabrikam stays pending.
    let world =
        Scenario::quickstart_with("timings:\n  joinComplete: 86400\n", Default::default()).await;
    let apply = world.run(&["apply", "-f", SPEC, "--auto-approve"]).await;
    assert_eq!(apply.code, 3, "{}\n{}", apply.stdout, apply.stderr);
    world.advance(600).await;

    let run = world.run(&["status", "-f", SPEC, "--format", "json"]).await;
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let v = report(&run);
    assert_eq!(v["health"], "waiting");
    let fabrikam = &v["tenants"][1];
    assert_eq!(fabrikam["state"], "pending");
    assert_eq!(fabrikam["health"], "waiting");
    assert!(
        findings(&v).iter().any(|f| f.contains("join submitted")),
        "{:?}",
        findings(&v)
    );
    // Both syncs wait for fabrikam rather than being reported broken.
    for s in v["syncs"].as_array().unwrap() {
        assert_eq!(s["health"], "waiting", "{s}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_forbidding_inbound_sync_and_the_quarantine_it_causes_are_named() {
    let world = Scenario::quickstart(Default::default()).await;
    world.converge(6).await;
    // Fabrikam's admin stops contoso's users being synced in.
    world
        .graph(
            "fabrikam",
            reqwest::Method::PATCH,
            &format!(
                "/policies/crossTenantAccessPolicy/partners/{CONTOSO}/identitySynchronization"
            ),
            json!({"userSyncInbound": {"isSyncAllowed": false}}),
        )
        .await;
    // The next cycle fails the policy check and quarantines the job.
    world.advance(3600).await;

    let run = world.run(&["status", "-f", SPEC, "--format", "json"]).await;
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    let v = report(&run);
    assert_eq!(v["health"], "broken");
    let broken = &v["syncs"][0];
    assert_eq!(broken["from"], "contoso");
    assert_eq!(broken["health"], "broken");
    assert_eq!(broken["job_status"], "Quarantine");
    let found = findings(&v);
    assert!(
        found
            .iter()
            .any(|f| f.contains("fabrikam does not allow users to be synced in from contoso")),
        "{found:?}"
    );
    assert!(
        found.iter().any(|f| f.contains("in quarantine")),
        "{found:?}"
    );
    // The other direction still works.
    assert_eq!(v["syncs"][1]["health"], "healthy");

    // apply repairs the policy and restarts the job; a cycle later all is well again.
    world.converge(6).await;
    world.advance(3600).await;
    let healed = world.run(&["status", "-f", SPEC]).await;
    assert_eq!(healed.code, 0, "{}\n{}", healed.stdout, healed.stderr);
}

/// A tenant whose role differs from the spec's is named for it, and does not hide the health of
/// the syncs, whose jobs run all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_that_differs_from_the_spec_leaves_the_syncs_reported() {
    let world = Scenario::quickstart(Default::default()).await;
    world.converge(6).await;
    world.advance(3600).await;
    let dir = std::env::temp_dir().join(format!("mtoctl-status-role-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let spec = dir.join("mto.yaml");
    let text = std::fs::read_to_string(common::repo(SPEC)).expect("spec");
    std::fs::write(
        &spec,
        text.replace("    role: member\n", "    role: owner\n"),
    )
    .expect("write");
    let run = world
        .run(&[
            "status",
            "-f",
            spec.to_str().expect("utf8"),
            "--format",
            "json",
        ])
        .await;
    let v = report(&run);
    let fabrikam = &v["tenants"][1];
    assert_ne!(fabrikam["health"], "healthy", "{v}");
    for s in v["syncs"].as_array().expect("syncs") {
        assert_eq!(s["job_status"], "Active", "{s}");
        assert_eq!(s["health"], "healthy", "{s}");
    }
    // The text says the users it lists are a sample, and its counts are the list's own.
    let text = world
        .run(&["status", "-f", spec.to_str().expect("utf8")])
        .await;
    assert!(
        text.stdout.contains(
            "users, a sample (--all-users checks every one): 3 in scope, 3 provisioned in fabrikam, 0 failing"
        ),
        "{}",
        text.stdout
    );
    let _ = std::fs::remove_dir_all(&dir);
}
