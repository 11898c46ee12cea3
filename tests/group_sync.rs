//! Group synchronization against the emulator (issue #23's second part): with `beta:
//! [groupSync]`, the target allows the source's groups in (through /beta), the job's group
//! mapping is enabled, a scoped security group appears in the target as a group with its
//! members' copies, the spec re-plans clean; taking the group out of the scope is a destructive
//! change, refused without `--allow-destroy`, counted, and the group leaves the target.

mod common;

use common::harden::Scenario;
use common::{repo, scratch};
use mtoctl_graph::transport::{ClientConfig, GraphRequest};
use serde_json::Value;

/// Paths of a transcript's requests, with their method, those sent to beta with `/beta` before
/// them (a transcript names another API root than its header's in the exchange's `api`).
fn requests(transcript: &std::path::Path) -> Vec<(String, String)> {
    std::fs::read_to_string(transcript)
        .expect("transcript")
        .lines()
        .skip(1)
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|x| {
            let api = x["api"]
                .as_str()
                .map(|a| format!("/{a}"))
                .unwrap_or_default();
            (
                x["method"].as_str().unwrap_or_default().to_owned(),
                format!("{api}{}", x["path"].as_str().unwrap_or_default()),
            )
        })
        .collect()
}

/// The groups of `tenant` named `name`, each with its members' user principal names.
async fn groups_named(s: &Scenario, tenant: &str, name: &str) -> Vec<Vec<String>> {
    let (_, client) = s.client(ClientConfig::default());
    let found = client
        .send(
            tenant,
            &GraphRequest::get(format!(
                "/groups?$filter=displayName eq '{}'&$select=id,displayName,securityEnabled",
                name.replace(' ', "%20")
            )),
        )
        .await
        .expect("reads groups");
    let mut out = Vec::new();
    for g in found.body["value"].as_array().expect("value") {
        assert_eq!(g["securityEnabled"], true, "{g}");
        let id = g["id"].as_str().expect("id");
        let members = client
            .send(
                tenant,
                &GraphRequest::get(format!("/groups/{id}/members?$select=id,userPrincipalName")),
            )
            .await
            .expect("reads members");
        let mut upns: Vec<String> = members.body["value"]
            .as_array()
            .expect("value")
            .iter()
            .filter_map(|m| m["userPrincipalName"].as_str().map(str::to_lowercase))
            .collect();
        upns.sort();
        out.push(upns);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scoped_group_is_provisioned_as_a_group_and_leaves_only_with_allow_destroy() {
    let dir = scratch("group-sync");
    let mut s = Scenario::quickstart(Default::default()).await;
    let spec = dir.join("mto.yaml");
    std::fs::copy(repo("examples/group-sync/mto.yaml"), &spec).expect("copy");
    s.spec = spec.to_string_lossy().into_owned();

    // From nothing to converged; the partner policies go through /beta, nothing else does.
    let beta: Vec<(String, String)> = s
        .converge_recorded(&dir)
        .await
        .iter()
        .flat_map(|t| requests(t))
        .filter(|(_, p)| p.starts_with("/beta/"))
        .collect();
    let plan = s.plan().await;
    assert_eq!(
        plan.code, 0,
        "re-plans clean:\n{}\n{}",
        plan.stdout, plan.stderr
    );
    assert!(
        plan.stdout.contains("beta API") || plan.stderr.contains("beta API"),
        "the plan says it uses beta:\n{}\n{}",
        plan.stdout,
        plan.stderr
    );
    assert!(
        beta.iter()
            .any(|(m, p)| m != "GET" && p.contains("/identitySynchronization")),
        "the identity sync policies are written through /beta: {beta:?}"
    );
    assert!(
        beta.iter()
            .all(|(_, p)| p.starts_with("/beta/policies/crossTenantAccessPolicy/partners")),
        "only the partner policies go to beta: {beta:?}"
    );

    // A cycle later, "Contoso Sales" is a security group in fabrikam holding Alice's and
    // Erin's copies (its direct members); Bob, assigned alone, is a user there but no member.
    s.advance(3600).await;
    let groups = groups_named(&s, "fabrikam", "Contoso Sales").await;
    assert_eq!(
        groups,
        vec![vec![
            "alice_contoso.onmicrosoft.com#ext#@fabrikam.onmicrosoft.com".to_owned(),
            "erin_contoso.onmicrosoft.com#ext#@fabrikam.onmicrosoft.com".to_owned(),
        ]],
        "one group, with the copies of its members"
    );

    // Taking the group out of the scope: destructive, counted, refused without the flag.
    let text = std::fs::read_to_string(&spec).expect("spec");
    // The group mapping stays enabled (no longer managed), so the group is deprovisioned.
    let shrunk = text.replace(
        "      groups:\n        - Contoso Sales\n      groupProvisioning: groupsAndMembers\n",
        "",
    );
    assert_ne!(text, shrunk);
    std::fs::write(&spec, shrunk).expect("write");
    let plan = s.run(&["plan", "-f", &s.spec, "--format", "json"]).await;
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    let v: Value = serde_json::from_str(&plan.stdout).expect("plan json");
    let removal = v["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .find(|a| a["operation"]["op"] == "remove_assignment")
        .unwrap_or_else(|| panic!("a removal: {v}"));
    assert_eq!(removal["destructive"], true, "{removal}");
    assert_eq!(removal["impact"]["users_leaving_scope"], 2, "{removal}");
    assert!(
        removal["impact"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("2 members") && m.contains("is deleted in fabrikam")),
        "{removal}"
    );
    let refused = s.run(&["apply", "-f", &s.spec, "--auto-approve"]).await;
    assert_ne!(refused.code, 0, "{}\n{}", refused.stdout, refused.stderr);
    assert_eq!(
        groups_named(&s, "fabrikam", "Contoso Sales").await.len(),
        1,
        "nothing removed without --allow-destroy"
    );
    let applied = s
        .run(&["apply", "-f", &s.spec, "--auto-approve", "--allow-destroy"])
        .await;
    assert!(
        applied.code == 0 || applied.code == 3,
        "{}\n{}",
        applied.stdout,
        applied.stderr
    );
    s.advance(3600).await;
    assert!(
        groups_named(&s, "fabrikam", "Contoso Sales")
            .await
            .is_empty(),
        "the group left the target with its scope"
    );
    let again = s.run(&["plan", "-f", &s.spec, "--detailed-exitcode"]).await;
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
}
