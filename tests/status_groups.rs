//! `mtoctl status` on groups provisioned as groups (`groupProvisioning: groupsAndMembers`),
//! against the emulator: after apply each assigned group's copy is in the target with the copies
//! of its members; a group assigned since the last cycle waits for the next one; a member an
//! admin added in the target is drift, a second security group of the same name is ambiguous, a
//! copy deleted in the target is missing and broken; and reading the target's groups needs
//! exactly the `GroupMember.Read.All` `mtoctl permissions` lists for it.

mod common;

use common::harden::Scenario;
use common::permissions::{listed_json, listed_under, world_granting};
use common::{FABRIKAM, Run, keys_not_in_snake_case, repo, scratch};
use reqwest::Method;
use serde_json::{Value, json};

/// The quickstart with group sync: fabrikam lets contoso's groups in, and contoso → fabrikam
/// provisions its groups (`extra` more of them) as groups. Only that direction when `one_way`.
fn spec(dir: &std::path::Path, extra: &[&str], one_way: bool) -> String {
    let mut text = std::fs::read_to_string(repo("examples/quickstart/mto.yaml")).expect("spec");
    let mut groups = String::from("      groups:\n        - Contoso Sales\n");
    for g in extra {
        groups.push_str(&format!("        - {g}\n"));
    }
    groups.push_str("      groupProvisioning: groupsAndMembers\n");
    for (from, to) in [
        (
            "kind: MultiTenantOrganization\n",
            "kind: MultiTenantOrganization\nbeta: [groupSync]\n",
        ),
        (
            "    allowUsersSyncInbound: true\n",
            "    allowUsersSyncInbound: true\n    allowGroupsSyncInbound: true\n",
        ),
        ("      groups:\n        - Contoso Sales\n", groups.as_str()),
    ] {
        assert!(text.contains(from), "the quickstart spec has {from:?}");
        text = text.replacen(from, to, 1);
    }
    if one_way {
        let back = text.find("  - from: fabrikam").expect("the second sync");
        text.truncate(back);
    }
    let path = dir.join(if extra.is_empty() {
        "groups.yaml"
    } else {
        "more-groups.yaml"
    });
    std::fs::write(&path, text).expect("write the spec");
    path.to_string_lossy().into_owned()
}

async fn status(world: &Scenario, spec: &str) -> (Run, Value) {
    let run = world.run(&["status", "-f", spec, "--format", "json"]).await;
    let v: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("status --format json: {e}\n{}\n{}", run.stdout, run.stderr));
    assert!(
        keys_not_in_snake_case(&v).is_empty(),
        "{:?}",
        keys_not_in_snake_case(&v)
    );
    (run, v)
}

/// The verdict on the group `name` of the first sync (contoso → fabrikam).
fn group<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["syncs"][0]["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| g["source"] == name)
        .unwrap_or_else(|| panic!("no verdict on {name}: {v:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_provisioned_as_groups_are_checked_in_the_target() {
    let dir = scratch("status-groups");
    let mut world = Scenario::quickstart(Default::default()).await;
    world.spec = spec(&dir, &[], false);
    world.converge(6).await;
    // One more sync cycle, so both jobs have run since their last change.
    world.advance(3600).await;
    let spec = world.spec.clone();

    // Healthy: Contoso Sales is in fabrikam with alice's and erin's copies; the other direction
    // provisions no groups as groups.
    let (run, v) = status(&world, &spec).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(v["format_version"], "1.2");
    let sales = group(&v, "Contoso Sales");
    assert_eq!(sales["verdict"], "provisioned", "{sales:#}");
    assert_eq!(sales["health"], "healthy", "{sales:#}");
    assert_eq!(sales["expected_members"], 2, "{sales:#}");
    assert_eq!(sales["members"], 2, "{sales:#}");
    let target = sales["target_id"]
        .as_str()
        .expect("its copy's id")
        .to_owned();
    assert_eq!(v["syncs"][1]["groups"], json!([]));
    // With `--all-users` the source members come from the users' read: the same verdict.
    let all = world
        .run(&["status", "-f", &spec, "--all-users", "--format", "json"])
        .await;
    assert_eq!(all.code, 0, "{}\n{}", all.stdout, all.stderr);
    let all: Value = serde_json::from_str(&all.stdout).expect("json");
    assert_eq!(group(&all, "Contoso Sales"), sales);
    let text = world.run(&["status", "-f", &spec]).await;
    assert_eq!(text.code, 0, "{}", text.stdout);
    assert!(
        text.stdout
            .contains("groups, provisioned as groups: 1 in scope, 1 in fabrikam, 0 failing")
            && text
                .stdout
                .contains("ok      Contoso Sales  2 of 2 members"),
        "{}",
        text.stdout
    );

    // An admin of fabrikam adds one of its own users to the copy: drift, broken.
    let members = format!("/_emulator/tenants/{FABRIKAM}/groups/{target}/members");
    world
        .admin(
            Method::POST,
            &members,
            Some(json!({"member": "dan@fabrikam.onmicrosoft.com"})),
        )
        .await;
    let (run, v) = status(&world, &spec).await;
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    let sales = group(&v, "Contoso Sales");
    assert_eq!(sales["verdict"], "drift", "{sales:#}");
    assert_eq!(sales["health"], "broken");
    assert_eq!(
        sales["extra_members"],
        json!(["dan@fabrikam.onmicrosoft.com"])
    );
    assert_eq!(sales["members"], 2);
    let text = world.run(&["status", "-f", &spec]).await;
    assert!(
        text.stdout
            .contains("BROKEN  Contoso Sales  2 of 2 members")
            && text
                .stdout
                .contains("not in scope in the source: dan@fabrikam.onmicrosoft.com"),
        "{}",
        text.stdout
    );
    world
        .admin(
            Method::DELETE,
            &format!("{members}/dan@fabrikam.onmicrosoft.com"),
            None,
        )
        .await;

    // A second security group of the same name in fabrikam: ambiguous, none picked.
    let made = world
        .admin(
            Method::POST,
            &format!("/_emulator/tenants/{FABRIKAM}/groups"),
            Some(json!({"displayName": "Contoso Sales"})),
        )
        .await;
    let other = made["id"].as_str().expect("the new group's id").to_owned();
    let (run, v) = status(&world, &spec).await;
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    let sales = group(&v, "Contoso Sales");
    assert_eq!(sales["verdict"], "ambiguous", "{sales:#}");
    assert_eq!(sales["target_id"], Value::Null);
    let mut candidates: Vec<&str> = sales["candidates"]
        .as_array()
        .expect("candidates")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    candidates.sort_unstable();
    let mut both = vec![target.as_str(), other.as_str()];
    both.sort_unstable();
    assert_eq!(candidates, both);
    world
        .admin(
            Method::DELETE,
            &format!("/_emulator/tenants/{FABRIKAM}/groups/{other}"),
            None,
        )
        .await;
    let (run, _) = status(&world, &spec).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    // A group assigned since the last cycle waits for the next one, which provisions it with
    // every member in scope.
    let more = spec_with_more(&dir);
    let apply = world.run(&["apply", "-f", &more, "--auto-approve"]).await;
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let (run, v) = status(&world, &more).await;
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let staff = group(&v, "Contoso All Staff");
    assert_eq!(staff["verdict"], "missing", "{staff:#}");
    assert_eq!(staff["health"], "waiting", "{staff:#}");
    world.advance(3600).await;
    let (run, v) = status(&world, &more).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let staff = group(&v, "Contoso All Staff");
    assert_eq!(staff["verdict"], "provisioned", "{staff:#}");
    assert_eq!(staff["expected_members"], 5, "{staff:#}");
    assert_eq!(staff["members"], 5, "{staff:#}");

    // Its copy deleted in fabrikam after cycles that synchronized groups: missing, broken.
    world
        .admin(
            Method::DELETE,
            &format!("/_emulator/tenants/{FABRIKAM}/groups/{target}"),
            None,
        )
        .await;
    world.advance(3600).await;
    let (run, v) = status(&world, &more).await;
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    let sales = group(&v, "Contoso Sales");
    assert_eq!(sales["verdict"], "missing", "{sales:#}");
    assert_eq!(sales["health"], "broken", "{sales:#}");
    assert!(
        v["syncs"][0]["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f.as_str().is_some_and(
                |f| f.starts_with("group \"Contoso Sales\" was not created in fabrikam")
            )),
        "{v:#}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The spec of [`groups_provisioned_as_groups_are_checked_in_the_target`] with Contoso All
/// Staff provisioned too.
fn spec_with_more(dir: &std::path::Path) -> String {
    spec(dir, &["Contoso All Staff"], false)
}

/// Each tenant's alias and the application permissions `mtoctl permissions` lists for `spec`.
fn listed(spec: &str) -> Vec<(String, Vec<String>)> {
    listed_under(&listed_json(spec), "application")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_the_targets_groups_needs_the_permission_listed_for_it() {
    // One way, so fabrikam (the target) needs GroupMember.Read.All only for status.
    let dir = scratch("status-groups-permissions");
    let spec = spec(&dir, &[], true);
    let grants = listed(&spec);
    let fabrikam = &grants
        .iter()
        .find(|(a, _)| a == "fabrikam")
        .expect("fabrikam")
        .1;
    assert!(
        fabrikam.iter().any(|p| p == "GroupMember.Read.All"),
        "{grants:?}"
    );
    let fewer: Vec<(String, Vec<String>)> = grants
        .iter()
        .map(|(alias, roles)| {
            let roles = roles
                .iter()
                .filter(|r| !(alias == "fabrikam" && *r == "GroupMember.Read.All"))
                .cloned()
                .collect();
            (alias.clone(), roles)
        })
        .collect();
    for (grants, works) in [(&grants, true), (&fewer, false)] {
        let mut world = Scenario::quickstart_in(&world_granting(grants), Default::default()).await;
        world.spec = spec.clone();
        world.converge(6).await;
        world.advance(3600).await;
        let run = world.run(&["status", "-f", &spec]).await;
        if works {
            assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
            assert!(run.stdout.contains("2 of 2 members"), "{}", run.stdout);
        } else {
            assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
            let said: String = run
                .stderr
                .lines()
                .filter(|l| !l.starts_with("warning: "))
                .collect::<Vec<_>>()
                .join("\n");
            assert!(
                said.contains("tenant fabrikam") && said.contains("GroupMember.Read.All"),
                "{said}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
