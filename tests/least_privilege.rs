//! Least privilege, proved: the quickstart's whole lifecycle (apply from nothing with the join,
//! status, export) converges with tokens that hold exactly the application permissions
//! `mtoctl permissions` lists for each tenant, and without any one of them it fails, naming
//! the tenant and the permission, and leaves nothing the next run cannot finish. The emulator
//! enforces each endpoint's documented least-privileged permission (docs/graph-facts.md).

mod common;

use common::Run;
use common::harden::Scenario;
use common::permissions::{listed_json, listed_under, world_granting};

const SPEC: &str = "examples/quickstart/mto.yaml";

/// Each tenant's alias and the permissions `mtoctl permissions` lists for it.
fn listed() -> Vec<(String, Vec<String>)> {
    listed_as("application")
}

/// Each tenant's alias and the permissions `mtoctl permissions` lists under `key`.
fn listed_as(key: &str) -> Vec<(String, Vec<String>)> {
    let all = listed_json(SPEC);
    assert_eq!(all["format_version"], "1.2");
    listed_under(&all, key)
}

/// Applies until plan finds nothing to do (advancing past joins and cycles), then status and
/// export; the first command that fails is the error.
async fn lifecycle(world: &Scenario) -> Result<(), Run> {
    for _ in 0..6 {
        let apply = world.apply().await;
        if apply.code != 0 && apply.code != 3 {
            return Err(apply);
        }
        world.advance(5 * 3600).await;
        let plan = world.plan().await;
        match plan.code {
            0 => {
                let status = world.run(&["status", "-f", &world.spec]).await;
                if status.code != 0 {
                    return Err(status);
                }
                let export = world.run(&["export", "-f", &world.spec]).await;
                return if export.code == 0 {
                    Ok(())
                } else {
                    Err(export)
                };
            }
            2 => {}
            _ => return Err(plan),
        }
    }
    Err(world.run(&["plan", "-f", &world.spec]).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listed_permissions_are_enough_for_the_whole_lifecycle() {
    let world = Scenario::quickstart_in(&world_granting(&listed()), Default::default()).await;
    if let Err(run) = lifecycle(&world).await {
        panic!(
            "exit {} with exactly the listed permissions:\n{}\n{}",
            run.code, run.stdout, run.stderr
        );
    }
    world.assert_converged_counts();
}

/// Without `missing` in `tenant`: the lifecycle fails naming both; with it granted again, it
/// finishes.
async fn without(grants: Vec<(String, Vec<String>)>, tenant: String, missing: String) {
    let fewer: Vec<(String, Vec<String>)> = grants
        .iter()
        .map(|(alias, roles)| {
            let roles = roles
                .iter()
                .filter(|r| !(alias == &tenant && **r == missing))
                .cloned()
                .collect();
            (alias.clone(), roles)
        })
        .collect();
    let world = Scenario::quickstart_in(&world_granting(&fewer), Default::default()).await;
    let failed = match lifecycle(&world).await {
        Ok(()) => panic!("{tenant} without {missing}: the lifecycle still finished"),
        Err(run) => run,
    };
    // The failure itself names them, not only the warning that came before it.
    let said: String = format!("{}\n{}", failed.stdout, failed.stderr)
        .lines()
        .filter(|l| !l.starts_with("warning: "))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        said.contains(&format!("tenant {tenant}")) && said.contains(&missing),
        "{tenant} without {missing} failed (exit {}) without naming both:\n{said}",
        failed.code
    );
    {
        let mut core = world.server.emulator.lock();
        let id = match tenant.as_str() {
            "contoso" => common::CONTOSO,
            _ => common::FABRIKAM,
        };
        for app in &mut core.state.tenants.get_mut(id).expect("tenant").apps {
            app.roles.push(missing.clone());
        }
    }
    if let Err(run) = lifecycle(&world).await {
        panic!(
            "{tenant} with {missing} granted again did not finish (exit {}):\n{}\n{}",
            run.code, run.stdout, run.stderr
        );
    }
    world.assert_converged_counts();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_any_one_listed_permission_the_lifecycle_fails_naming_it() {
    let grants = listed();
    let cases: Vec<(String, String)> = grants
        .iter()
        .flat_map(|(alias, roles)| roles.iter().map(move |r| (alias.clone(), r.clone())))
        .collect();
    assert!(cases.len() >= 10, "{cases:?}");
    // A few at a time: each is an emulator and a dozen mtoctl runs.
    for chunk in cases.chunks(4) {
        futures_util::future::join_all(
            chunk
                .iter()
                .map(|(tenant, missing)| without(grants.clone(), tenant.clone(), missing.clone())),
        )
        .await;
    }
}

/// Destroys until `plan --destroy` finds nothing (advancing past removals); the first run that
/// fails is the error.
async fn destroy(world: &Scenario, extra: &[&str]) -> Result<(), Run> {
    for _ in 0..6 {
        let mut args = vec!["destroy", "-f", &world.spec, "--auto-approve"];
        args.extend_from_slice(extra);
        let run = world.run(&args).await;
        if run.code != 0 && run.code != 3 {
            return Err(run);
        }
        world.advance(3600).await;
        let mut plan = vec![
            "plan",
            "-f",
            &world.spec,
            "--destroy",
            "--detailed-exitcode",
        ];
        plan.extend_from_slice(extra);
        if world.run(&plan).await.code == 0 {
            return Ok(());
        }
    }
    Err(world.run(&["plan", "-f", &world.spec, "--destroy"]).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_needs_the_listed_permissions_and_removing_synced_users_the_ones_listed_apart() {
    let world = Scenario::quickstart_in(&world_granting(&listed()), Default::default()).await;
    if let Err(run) = lifecycle(&world).await {
        panic!("exit {}:\n{}\n{}", run.code, run.stdout, run.stderr);
    }
    world.advance(3600).await;
    // Removing the accounts sync made is refused without the permission listed apart, naming
    // it; nothing else is in the way.
    let refused = destroy(&world, &["--remove-synced-users"])
        .await
        .expect_err("User.ReadWrite.All is not granted");
    let said = format!("{}\n{}", refused.stdout, refused.stderr);
    assert!(said.contains("User.ReadWrite.All"), "{said}");
    let apart = listed_as("to_remove_synced_users");
    assert!(
        apart
            .iter()
            .all(|(_, perms)| perms == &vec!["User.ReadWrite.All".to_owned()]),
        "{apart:?}"
    );
    {
        let mut core = world.server.emulator.lock();
        for id in [common::CONTOSO, common::FABRIKAM] {
            for app in &mut core.state.tenants.get_mut(id).expect("tenant").apps {
                app.roles.push("User.ReadWrite.All".into());
            }
        }
    }
    if let Err(run) = destroy(&world, &["--remove-synced-users"]).await {
        panic!("exit {}:\n{}\n{}", run.code, run.stdout, run.stderr);
    }
    let census = world.census();
    assert_eq!(census.organizations, 0, "{census:?}");
    assert!(
        census
            .tenants
            .iter()
            .all(|t| t.configurations == 0 && t.applications == 0 && t.partners == 0),
        "{census:?}"
    );
}
