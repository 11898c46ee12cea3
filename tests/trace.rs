//! `mtoctl status --user UPN` against the emulator: a converged quickstart user traced as in
//! scope and provisioned (directly, and through a group), a user out of scope because of the
//! scoping filter with the clause named, a user not assigned at all, and a user no source
//! tenant has, named with the closest UPN.

mod common;

use common::harden::Scenario;
use common::{Run, keys_not_in_snake_case};
use serde_json::Value;

const SPEC: &str = "examples/quickstart/mto.yaml";

fn report(run: &Run) -> Value {
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "status --user --format json: {e}\n{}\n{}",
            run.stdout, run.stderr
        )
    })
}

/// The only direction of a trace (the quickstart's users each live in one tenant).
fn only(v: &Value) -> &Value {
    let directions = v["directions"].as_array().expect("directions");
    assert_eq!(directions.len(), 1, "{v:#}");
    &directions[0]
}

async fn trace(world: &Scenario, spec: &str, upn: &str) -> Value {
    report(
        &world
            .run(&["status", "-f", spec, "--user", upn, "--format", "json"])
            .await,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_converged_user_is_in_scope_and_provisioned() {
    let world = Scenario::quickstart(Default::default()).await;
    world.converge(6).await;

    let v = trace(&world, SPEC, "alice@contoso.onmicrosoft.com").await;
    assert_eq!(v["format_version"], "1.0");
    assert_eq!(v["user_principal_name"], "alice@contoso.onmicrosoft.com");
    let bad = keys_not_in_snake_case(&v);
    assert!(bad.is_empty(), "keys not in snake_case: {bad:?}");
    let d = only(&v);
    assert_eq!(
        (d["from"].as_str(), d["to"].as_str()),
        (Some("contoso"), Some("fabrikam"))
    );
    assert_eq!(d["verdict"], "provisioned", "{d:#}");
    assert_eq!(d["summary"], "in scope and provisioned");
    assert_eq!(d["source"]["user_type"], "Member");
    assert_eq!(d["scope"]["direct"], true);
    // alice is also in Contoso Sales, which is assigned too.
    assert_eq!(d["scope"]["groups"], serde_json::json!(["Contoso Sales"]));
    assert_eq!(d["scope"]["filter"], Value::Null);
    let target = &d["target"];
    assert_eq!(
        target["user_principal_name"],
        "alice_contoso.onmicrosoft.com#EXT#@fabrikam.onmicrosoft.com"
    );
    assert_eq!(target["user_type"], "Member");
    assert_eq!(target["account_enabled"], true);
    // The cycle that created her left an event saying so.
    let events = d["events"].as_array().expect("events");
    assert!(
        events
            .iter()
            .any(|e| e["action"] == "create" && e["status"] == "success"),
        "{d:#}"
    );
    assert_eq!(d["events_error"], Value::Null);

    // erin is in scope only as a direct member of the assigned group.
    let v = trace(&world, SPEC, "erin@contoso.onmicrosoft.com").await;
    let d = only(&v);
    assert_eq!(d["verdict"], "provisioned", "{d:#}");
    assert_eq!(d["scope"]["direct"], false);
    assert_eq!(d["scope"]["groups"], serde_json::json!(["Contoso Sales"]));

    // The text form leads with the verdict line.
    let text = world
        .run(&[
            "status",
            "-f",
            SPEC,
            "--user",
            "alice@contoso.onmicrosoft.com",
        ])
        .await;
    assert_eq!(text.code, 0, "{}\n{}", text.stdout, text.stderr);
    assert!(
        text.stdout
            .starts_with("contoso → fabrikam: in scope and provisioned\n"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains(
            "alice_contoso.onmicrosoft.com#EXT#@fabrikam.onmicrosoft.com: Member, enabled"
        ),
        "{}",
        text.stdout
    );
}

/// The quickstart's spec with a scoping filter on contoso → fabrikam: only Sales.
fn filtered_spec() -> std::path::PathBuf {
    let text = std::fs::read_to_string(common::repo(SPEC)).expect("spec");
    let anchor = "        - Contoso Sales\n";
    assert!(text.contains(anchor), "the quickstart changed");
    let filter = "      filter:\n        anyOf:\n          - name: Sales staff\n            allOf:\n              - {attribute: department, operator: equals, values: [Sales]}\n";
    let dir = common::scratch("trace-filter");
    let path = dir.join("mto.yaml");
    std::fs::write(
        &path,
        text.replacen(anchor, &format!("{anchor}{filter}"), 1),
    )
    .expect("write");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_the_scoping_filter_excludes_is_told_which_clause() {
    let mut world = Scenario::quickstart(Default::default()).await;
    let spec = filtered_spec();
    world.spec = spec.to_string_lossy().into_owned();
    world.converge(6).await;

    // bob is assigned by name, but he is in Engineering.
    let v = trace(&world, &world.spec, "bob@contoso.onmicrosoft.com").await;
    let d = only(&v);
    assert_eq!(d["verdict"], "out_of_scope", "{d:#}");
    assert_eq!(
        d["summary"],
        "out of scope: the scoping filter's clause department EQUALS Sales does not match (department is Engineering)"
    );
    assert_eq!(d["scope"]["direct"], true);
    let filter = &d["scope"]["filter"];
    assert_eq!(filter["matches"], false);
    let clause = &filter["groups"][0]["clauses"][0];
    assert_eq!(clause["attribute"], "department");
    assert_eq!(clause["value"], "Engineering");
    assert_eq!(clause["matches"], false);
    assert_eq!(d["target"], Value::Null);

    // alice, in Sales, passes the same filter.
    let v = trace(&world, &world.spec, "alice@contoso.onmicrosoft.com").await;
    assert_eq!(only(&v)["verdict"], "provisioned", "{v:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_neither_assigned_nor_in_an_assigned_group_is_not_assigned() {
    let world = Scenario::quickstart(Default::default()).await;
    world.converge(6).await;

    // frank is only in Contoso All Staff, which no sync assigns.
    let v = trace(&world, SPEC, "frank@contoso.onmicrosoft.com").await;
    let d = only(&v);
    assert_eq!(d["verdict"], "not_assigned", "{d:#}");
    let summary = d["summary"].as_str().expect("summary");
    assert!(
        summary.starts_with(
            "not assigned: add frank@contoso.onmicrosoft.com or one of their groups to the sync's scope"
        ),
        "{summary}"
    );
    assert_eq!(d["scope"]["direct"], false);
    assert_eq!(d["scope"]["groups"], serde_json::json!([]));
    assert_eq!(d["target"], Value::Null);
    assert_eq!(d["events"], serde_json::json!([]));

    // A UPN no source tenant has is an error naming the closest one.
    let run = world
        .run(&[
            "status",
            "-f",
            SPEC,
            "--user",
            "alise@contoso.onmicrosoft.com",
        ])
        .await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("alise@contoso.onmicrosoft.com is not a user of contoso or fabrikam")
            && run
                .stderr
                .contains("did you mean alice@contoso.onmicrosoft.com"),
        "{}",
        run.stderr
    );
}
