//! Attribute mappings against the emulator (issue #23's first part): a spec that sets
//! `companyName` to a constant, maps `department` from another attribute and `displayName` by
//! an expression plans exactly those mapping changes, applies them with one schema write per
//! job, re-plans clean, and the users provisioned into the target carry the mapped values after
//! a cycle; `resetMappings` brings them back to the template. A mapping to an attribute the
//! schema lacks is a located plan error that writes nothing.

mod common;

use common::harden::Scenario;
use common::{repo, scratch};
use mtoctl_graph::transport::{ClientConfig, GraphRequest};
use serde_json::Value;

const SOURCE_SYNC: &str = "  - from: contoso\n    to: fabrikam\n";

/// The quickstart's spec with `mappings` (YAML lines at the sync's indentation) added to the
/// contoso → fabrikam sync, written to `dir`.
fn spec_with(dir: &std::path::Path, name: &str, mappings: &str) -> String {
    let text = std::fs::read_to_string(repo("examples/quickstart/mto.yaml")).expect("spec");
    assert!(text.contains(SOURCE_SYNC));
    let text = text.replacen(
        SOURCE_SYNC,
        &format!("{SOURCE_SYNC}    mappings:\n{mappings}"),
        1,
    );
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.to_string_lossy().into_owned()
}

const MAPPINGS: &str = "      companyName: {constant: Contoso}\n      department: {source: jobTitle}\n      displayName: {expression: 'Append([displayName], \" (Contoso)\")'}\n";

/// The schema PUTs of a transcript.
fn schema_writes(transcript: &std::path::Path) -> usize {
    std::fs::read_to_string(transcript)
        .expect("transcript")
        .lines()
        .skip(1)
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|x| {
            x["method"] == "PUT" && x["path"].as_str().is_some_and(|p| p.ends_with("/schema"))
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mappings_are_planned_applied_once_per_job_and_carried_by_synced_users() {
    let dir = scratch("mappings");
    let mut s = Scenario::quickstart(Default::default()).await;
    s.spec = spec_with(&dir, "mto.yaml", MAPPINGS);

    // From nothing to converged, each apply recorded: one schema write per job in all.
    let writes: usize = s
        .converge_recorded(&dir)
        .await
        .iter()
        .map(|t| schema_writes(t))
        .sum();
    assert_eq!(writes, 2, "one schema write per job (two directions)");
    let plan = s.plan().await;
    assert_eq!(
        plan.code, 0,
        "re-plans clean:\n{}\n{}",
        plan.stdout, plan.stderr
    );

    // A cycle later, the copies in fabrikam carry the mapped values.
    s.advance(3600).await;
    let (_, client) = s.client(ClientConfig::default());
    for (upn, job_title, display_name) in [
        ("alice", "Account Executive", "Alice Martin"),
        ("bob", "Software Engineer", "Bob Stone"),
    ] {
        let path = format!(
            "/users?$filter=startswith(userPrincipalName,'{upn}_contoso.onmicrosoft.com%23EXT%23')&$select=userPrincipalName,companyName,department,displayName"
        );
        let answer = client
            .send("fabrikam", &GraphRequest::get(path))
            .await
            .expect("reads");
        let copy = &answer.body["value"][0];
        assert_eq!(copy["companyName"], "Contoso", "{upn}: {copy}");
        assert_eq!(copy["department"], job_title, "{upn}: {copy}");
        assert_eq!(
            copy["displayName"],
            format!("{display_name} (Contoso)"),
            "{upn}: {copy}"
        );
    }
    // The other direction declares no mapping: its copies keep Graph's defaults.
    let answer = client
        .send(
            "contoso",
            &GraphRequest::get(
                "/users?$filter=startswith(userPrincipalName,'carol_fabrikam.onmicrosoft.com%23EXT%23')&$select=companyName,displayName",
            ),
        )
        .await
        .expect("reads");
    assert_eq!(answer.body["value"][0]["displayName"], "Carol Diaz");

    // Changing one mapping plans exactly that change, as an attribute-level one.
    let changed = spec_with(
        &dir,
        "changed.yaml",
        &MAPPINGS.replace("constant: Contoso", "constant: Contoso Ltd"),
    );
    let plan = s.run(&["plan", "-f", &changed, "--format", "json"]).await;
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let v: Value = serde_json::from_str(&plan.stdout).expect("plan json");
    let actions = v["actions"].as_array().expect("actions");
    assert_eq!(actions.len(), 1, "{v}");
    assert_eq!(actions[0]["operation"]["op"], "update_schema");
    let changes = actions[0]["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 1, "{v}");
    assert_eq!(changes[0]["path"], "mapping.companyName");
    assert_eq!(changes[0]["before"], "\"\\\"Contoso\\\"\"");
    assert_eq!(changes[0]["after"], "\"\\\"Contoso Ltd\\\"\"");

    // `resetMappings` without mappings: what was mapped goes back to the template's defaults,
    // `companyName` (not in the template) is removed, then nothing is left to do.
    let reset = spec_with(&dir, "reset.yaml", "");
    let text = std::fs::read_to_string(&reset).expect("spec");
    std::fs::write(
        &reset,
        text.replacen("    mappings:\n", "    resetMappings: true\n", 1),
    )
    .expect("write");
    let plan = s.run(&["plan", "-f", &reset, "--format", "json"]).await;
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    let v: Value = serde_json::from_str(&plan.stdout).expect("plan json");
    let actions = v["actions"].as_array().expect("actions");
    assert_eq!(actions.len(), 1, "{v}");
    let mut changes: Vec<(String, Value)> = actions[0]["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            (
                c["path"].as_str().unwrap_or_default().to_owned(),
                c["after"].clone(),
            )
        })
        .collect();
    changes.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        changes,
        vec![
            ("mapping.companyName".to_owned(), Value::Null),
            (
                "mapping.department".to_owned(),
                Value::from("\"[department]\"")
            ),
            (
                "mapping.displayName".to_owned(),
                Value::from("\"[displayName]\"")
            ),
        ],
        "{v}"
    );
    let applied = s.run(&["apply", "-f", &reset, "--auto-approve"]).await;
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    let again = s.run(&["plan", "-f", &reset, "--detailed-exitcode"]).await;
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);

    // A target attribute the job's schema does not have: a located error, nothing planned for
    // the schema, the plan refused.
    let bad = spec_with(
        &dir,
        "bad.yaml",
        &format!("{MAPPINGS}      favouriteColour: {{constant: Blue}}\n"),
    );
    let plan = s.run(&["plan", "-f", &bad, "--format", "json"]).await;
    assert_eq!(plan.code, 1, "{}\n{}", plan.stdout, plan.stderr);
    let v: Value = serde_json::from_str(&plan.stdout).expect("plan json");
    let error = v["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .find(|n| n["severity"] == "error")
        .unwrap_or_else(|| panic!("an error note: {v}"));
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("no attribute `favouriteColour`")),
        "{error}"
    );
    assert_eq!(error["location"]["file"], bad.as_str(), "{error}");
    let line = std::fs::read_to_string(&bad)
        .expect("spec")
        .lines()
        .position(|l| l.contains("favouriteColour"))
        .expect("the line")
        + 1;
    assert_eq!(error["location"]["line"], line, "{error}");
    assert!(
        !v["actions"]
            .as_array()
            .expect("actions")
            .iter()
            .any(|a| a["operation"]["op"] == "update_schema"),
        "{v}"
    );
}
