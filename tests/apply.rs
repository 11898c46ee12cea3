//! `mtoctl apply` against the emulator (real HTTP on 127.0.0.1): convergence from a fresh
//! world, drift repair, stale plans refused, and re-runs that create no duplicates.

mod common;

use common::harden::Scenario;
use common::{CONTOSO, FABRIKAM, repo};

use serde_json::{Value, json};

const SPEC: &str = "examples/quickstart/mto.yaml";

/// Users synced into a tenant (those with an external link), by display name: whether each is
/// soft-deleted.
async fn synced_users_deleted(
    world: &Scenario,
    tenant_id: &str,
) -> std::collections::BTreeMap<String, bool> {
    let state = world
        .admin(reqwest::Method::GET, "/_emulator/state", None)
        .await;
    let mut tenants = Vec::new();
    collect_tenants(&state, &mut tenants);
    let tenant = tenants
        .into_iter()
        .find(|t| t["id"] == tenant_id)
        .expect("tenant in the state dump");
    tenant["users"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|u| !u["external"].is_null())
        .map(|u| {
            (
                u["displayName"].as_str().unwrap_or_default().to_owned(),
                !u["deletedMs"].is_null(),
            )
        })
        .collect()
}

/// Every object of the state dump that has `servicePrincipals` (a tenant).
fn collect_tenants(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Object(m) => {
            if m.contains_key("servicePrincipals") {
                out.push(v.clone());
                return;
            }
            m.values().for_each(|x| collect_tenants(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_tenants(x, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quickstart_converges_from_a_fresh_world_and_stays_converged() {
    let world = Scenario::quickstart(Default::default()).await;
    let first = world.apply().await;
    assert_eq!(
        first.code, 3,
        "the first apply waits on the join:\n{}\n{}",
        first.stdout, first.stderr
    );
    assert!(
        first.stdout.contains("waiting on Graph"),
        "{}",
        first.stdout
    );
    world.converge(6).await;
    world.assert_converged_counts();
    let census = world.census();

    // Converged: apply has nothing to do and exits 0.
    let again = world.apply().await;
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);
    assert_eq!(world.census(), census, "no duplicates");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_is_repaired_and_a_stale_saved_plan_is_refused() {
    let world = Scenario::quickstart(Default::default()).await;
    world.converge(6).await;

    // Out of band: fabrikam stops trusting contoso's MFA (the same call drift.rs makes).
    patch_partner_mfa(&world, false).await;
    let plan = world.plan().await;
    assert_eq!(plan.code, 2, "{}", plan.stdout);

    // Save the plan, then drift again on the same object: the saved plan is stale.
    let dir = std::env::temp_dir().join(format!("mtoctl-apply-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let planfile = dir.join("plan.json");
    let saved = world
        .run(&[
            "plan",
            "-f",
            SPEC,
            "--out",
            planfile.to_str().expect("utf8"),
        ])
        .await;
    assert_eq!(saved.code, 0, "{}", saved.stderr);
    patch_partner_mfa(&world, true).await;
    patch_partner_consent_off(&world).await;
    let stale = world
        .run(&["apply", planfile.to_str().expect("utf8"), "-f", SPEC])
        .await;
    // Exit 5, not 1: CI tells "plan again" from a failure.
    assert_eq!(stale.code, 5, "{}\n{}", stale.stdout, stale.stderr);
    assert!(stale.stderr.contains("plan is stale"), "{}", stale.stderr);
    assert!(
        stale
            .stderr
            .contains("tenant.fabrikam.partner[\"contoso\"]"),
        "{}",
        stale.stderr
    );

    // A fresh apply repairs the drift.
    let repaired = world.apply().await;
    assert_eq!(repaired.code, 0, "{}\n{}", repaired.stdout, repaired.stderr);
    let after = world.plan().await;
    assert_eq!(after.code, 0, "{}", after.stdout);

    // A saved plan that is still current is applied without asking (no terminal here).
    patch_partner_mfa(&world, false).await;
    let saved = world
        .run(&[
            "plan",
            "-f",
            SPEC,
            "--out",
            planfile.to_str().expect("utf8"),
        ])
        .await;
    assert_eq!(saved.code, 0, "{}", saved.stderr);
    let applied = world
        .run(&["apply", planfile.to_str().expect("utf8"), "-f", SPEC])
        .await;
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    assert!(
        applied.stdout.contains("Apply complete."),
        "{}",
        applied.stdout
    );
    assert_eq!(world.plan().await.code, 0);

    // A saved plan from another mtoctl version is refused unless skew is allowed.
    patch_partner_mfa(&world, false).await;
    let saved = world
        .run(&[
            "plan",
            "-f",
            SPEC,
            "--out",
            planfile.to_str().expect("utf8"),
        ])
        .await;
    assert_eq!(saved.code, 0, "{}", saved.stderr);
    let text = std::fs::read_to_string(&planfile).expect("saved plan");
    let this = format!("\"mtoctl_version\": \"{}\"", env!("CARGO_PKG_VERSION"));
    assert!(text.contains(&this), "the plan records the version");
    std::fs::write(
        &planfile,
        text.replace(&this, "\"mtoctl_version\": \"0.0.1\""),
    )
    .expect("write");
    let skewed = world
        .run(&["apply", planfile.to_str().expect("utf8"), "-f", SPEC])
        .await;
    assert_eq!(skewed.code, 5, "out of date: plan again");
    assert!(
        skewed.stderr.contains("computed by mtoctl 0.0.1"),
        "{}",
        skewed.stderr
    );
    let allowed = world
        .run(&[
            "apply",
            planfile.to_str().expect("utf8"),
            "-f",
            SPEC,
            "--allow-version-skew",
        ])
        .await;
    assert_eq!(allowed.code, 0, "{}\n{}", allowed.stdout, allowed.stderr);
    assert_eq!(world.plan().await.code, 0);

    // A saved plan of an unknown format version is refused.
    std::fs::write(&planfile, r#"{"format_version": "9.0"}"#).expect("write");
    let unknown = world
        .run(&["apply", planfile.to_str().expect("utf8"), "-f", SPEC])
        .await;
    assert_eq!(unknown.code, 1);
    assert!(
        unknown.stderr.contains("format version 9.0"),
        "{}",
        unknown.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A saved plan made from another version of the spec (the spec changed after review) is out
/// of date like a stale one: exit 5 and nothing changed. A plan refused for what it would do
/// (destruction without `--allow-destroy`) stays exit 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_of_another_spec_exits_5_and_changes_nothing() {
    let world = Scenario::quickstart(Default::default()).await;
    let dir = common::scratch("apply-spec-changed");
    let planfile = dir.join("plan.json");
    let planfile = planfile.to_str().expect("utf8");
    let saved = world.run(&["plan", "-f", SPEC, "--out", planfile]).await;
    assert_eq!(saved.code, 0, "{}", saved.stderr);
    let edited = dir.join("mto.yaml");
    let text = std::fs::read_to_string(repo(SPEC)).expect("spec");
    assert!(text.contains("displayName: Contoso Group"), "{text}");
    std::fs::write(
        &edited,
        text.replace("displayName: Contoso Group", "displayName: Contoso Holding"),
    )
    .expect("write");
    let census = world.census();
    let changed = world
        .run(&["apply", planfile, "-f", edited.to_str().expect("utf8")])
        .await;
    assert_eq!(changed.code, 5, "{}\n{}", changed.stdout, changed.stderr);
    assert!(
        changed.stderr.contains("computed from a different spec"),
        "{}",
        changed.stderr
    );
    assert_eq!(world.census(), census, "nothing applied");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_terminal_and_without_auto_approve_apply_refuses() {
    let world = Scenario::quickstart(Default::default()).await;
    let run = world.run(&["apply", "-f", SPEC]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("no terminal"), "{}", run.stderr);
    // Nothing was written: the plan is unchanged.
    let plan = world.plan().await;
    assert_eq!(plan.code, 2, "{}", plan.stdout);
    assert!(
        plan.stdout.contains("Contoso Group"),
        "the organization is still to be created:\n{}",
        plan.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_injected_faults_apply_still_converges_without_duplicates() {
    let world = Scenario::quickstart(Default::default()).await;
    world
        .admin(
            reqwest::Method::POST,
            "/_emulator/faults",
            Some(json!({"rate": 0.05})),
        )
        .await;
    world.converge(6).await;
    world
        .admin(
            reqwest::Method::POST,
            "/_emulator/faults",
            Some(json!({"rate": 0.0})),
        )
        .await;
    world.assert_converged_counts();
    let census = world.census();
    let again = world.apply().await;
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert_eq!(world.census(), census, "no duplicates after a re-run");
}

/// An out-of-band Graph call as the tenant's own app (as drift.rs makes them); its answer.
async fn graph_call(
    world: &Scenario,
    tenant: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    use mtoctl_graph::transport::GraphRequest;
    let (_, client) = world.client(mtoctl_graph::transport::ClientConfig::default());
    let request = match body {
        Some(body) => GraphRequest::with_body(method, path, body),
        None => GraphRequest::new(method, path),
    };
    client
        .send(tenant, &request)
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .body
}

async fn graph(world: &Scenario, tenant: &str, method: reqwest::Method, path: &str, body: Value) {
    graph_call(world, tenant, method, path, Some(body)).await;
}

async fn patch_partner_mfa(world: &Scenario, mfa: bool) {
    graph(world, "fabrikam", reqwest::Method::PATCH, &format!("/policies/crossTenantAccessPolicy/partners/{CONTOSO}"),
        json!({"inboundTrust": {"isMfaAccepted": mfa, "isCompliantDeviceAccepted": null, "isHybridAzureADJoinedDeviceAccepted": null}})).await;
}

async fn patch_partner_consent_off(world: &Scenario) {
    graph(
        world,
        "fabrikam",
        reqwest::Method::PATCH,
        &format!("/policies/crossTenantAccessPolicy/partners/{CONTOSO}"),
        json!({"automaticUserConsentSettings": {"inboundAllowed": false, "outboundAllowed": true}}),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_wait_and_a_fast_clock_one_apply_converges() {
    let world = Scenario::quickstart(mtoctl_emulator::Options {
        follow_wall_clock: true,
        time_scale: 0.001,
        ..Default::default()
    })
    .await;
    let run = world
        .run(&["apply", "-f", SPEC, "--auto-approve", "--wait", "3m"])
        .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("still waiting for the join"),
        "{}",
        run.stderr
    );
    let plan = world.plan().await;
    assert_eq!(plan.code, 0, "{}", plan.stdout);
}

/// `apply --wait --format json` reports every round, and every action id of the run (in the
/// report and in the progress events) is unique.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_wait_the_json_report_holds_every_round_with_ids_unique_in_the_run() {
    let world = Scenario::quickstart(mtoctl_emulator::Options {
        follow_wall_clock: true,
        time_scale: 0.001,
        ..Default::default()
    })
    .await;
    let run = world
        .run(&[
            "apply",
            "-f",
            SPEC,
            "--auto-approve",
            "--wait",
            "3m",
            "--format",
            "json",
        ])
        .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON report");
    assert_eq!(report["format_version"], "1.0");
    assert_eq!(report["complete"], true);
    let rounds = report["rounds"].as_array().expect("rounds");
    assert!(
        rounds.len() >= 2,
        "the join takes a round of its own: {rounds:?}"
    );
    let actions = report["actions"].as_array().expect("actions");
    let per_round: Vec<u64> = rounds
        .iter()
        .map(|r| r["actions"].as_u64().expect("count"))
        .collect();
    assert_eq!(actions.len() as u64, per_round.iter().sum::<u64>());
    // The first round (the organization's creation and the join) is in the report.
    assert!(
        actions
            .iter()
            .any(|a| a["round"] == 1 && a["addr"] == "organization"),
        "{actions:#?}"
    );
    let ids: Vec<&str> = actions
        .iter()
        .map(|a| a["id"].as_str().expect("id"))
        .collect();
    let unique: std::collections::BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
    assert!(ids.contains(&"a001") && ids.contains(&"r2.a001"), "{ids:?}");
    // The progress events name the same ids, each action started once.
    let started: Vec<String> = run
        .stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["event"] == "started")
        .map(|e| e["action"].as_str().expect("action").to_owned())
        .collect();
    let started_unique: std::collections::BTreeSet<&String> = started.iter().collect();
    assert_eq!(started.len(), started_unique.len(), "{started:?}");
    assert_eq!(started.len(), ids.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scope_shrink_applies_only_with_allow_destroy() {
    let world = Scenario::quickstart(Default::default()).await;
    world.converge(6).await;
    let before = world.census();
    let synced = synced_users_deleted(&world, FABRIKAM).await;
    assert_eq!(
        synced.get("Bob Stone"),
        Some(&false),
        "bob was synced: {synced:?}"
    );
    let dir = std::env::temp_dir().join(format!("mtoctl-shrink-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let spec = dir.join("mto.yaml");
    let text = std::fs::read_to_string(repo(SPEC)).expect("spec");
    let shrunk = text.replace("        - bob@contoso.onmicrosoft.com\n", "");
    assert_ne!(shrunk, text);
    std::fs::write(&spec, shrunk).expect("write");
    let spec = spec.to_str().expect("utf8");

    let refused = world.run(&["apply", "-f", spec, "--auto-approve"]).await;
    assert_eq!(refused.code, 1, "{}\n{}", refused.stdout, refused.stderr);
    assert!(
        refused.stderr.contains("--allow-destroy"),
        "{}",
        refused.stderr
    );
    assert!(
        // Named as it was added: by UPN, not by the display name the assignment carries.
        refused
            .stderr
            .contains("assignment[\"user:bob@contoso.onmicrosoft.com\"]"),
        "{}",
        refused.stderr
    );
    assert_eq!(world.census(), before, "nothing changed");

    let applied = world
        .run(&["apply", "-f", spec, "--auto-approve", "--allow-destroy"])
        .await;
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    let after = world.census();
    let assignments =
        |c: &common::harden::Census| -> usize { c.tenants.iter().map(|t| t.assignments).sum() };
    assert_eq!(
        assignments(&after) + 1,
        assignments(&before),
        "exactly bob left"
    );
    // After a sync cycle, exactly bob is soft-deleted in fabrikam; alice stays.
    world.advance(3600).await;
    let deleted = synced_users_deleted(&world, FABRIKAM).await;
    assert_eq!(deleted.get("Bob Stone"), Some(&true), "{deleted:?}");
    assert_eq!(deleted.get("Alice Martin"), Some(&false), "{deleted:?}");
    assert_eq!(
        deleted.values().filter(|d| **d).count(),
        1,
        "only bob: {deleted:?}"
    );
    let plan = world
        .run(&["plan", "-f", spec, "--detailed-exitcode"])
        .await;
    assert_eq!(plan.code, 0, "{}", plan.stdout);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The hub-and-spoke example with client secrets for every tenant (the example's OIDC,
/// certificate and token-file credentials need CI machinery), in a five-tenant world.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_and_spoke_converges() {
    let s = Scenario::hub_and_spoke("hub", Default::default()).await;
    s.converge(6).await;
    // hq: four configurations; every spoke: one; everyone: a partner for each other tenant.
    s.assert_converged_counts();
    let census = s.census();
    assert_eq!(census.tenants.len(), 5);
    for t in &census.tenants {
        assert_eq!(t.partners, 4, "{census:?}");
    }
}

/// Every guarded action refuses when its object changed after planning, but the removal of an
/// assignment: an assignment cannot change, and the DELETE of its id is its check (one
/// removed out of band meanwhile is what the plan wanted, and counts as removed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_guarded_action_refuses_when_its_object_changed_after_planning() {
    use mtoctl_model::plan::{ObjectRef, Operation};
    let world = Scenario::quickstart(Default::default()).await;
    world.converge(6).await;

    // A spec that changes one object of each kind.
    let text = std::fs::read_to_string(repo(SPEC)).expect("spec");
    let mut changed = text
        .replace(
            "displayName: Contoso Group",
            "displayName: Contoso Group Two",
        )
        .replace("    role: member\n", "    role: owner\n")
        .replace("        - bob@contoso.onmicrosoft.com\n", "")
        .replace("      mfa: true\n", "      mfa: false\n");
    // fabrikam's sync: another user type and paused; contoso's: bob leaves its scope.
    changed = changed.replace(
        "  - from: fabrikam\n    to: contoso\n    userType: Member\n",
        "  - from: fabrikam\n    to: contoso\n    enabled: false\n    userType: Guest\n",
    );
    let dir = std::env::temp_dir().join(format!("mtoctl-guard-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let spec = dir.join("mto.yaml");
    std::fs::write(&spec, &changed).expect("write");
    let (desired, client) =
        world.client_for_spec(&spec, mtoctl_graph::transport::ClientConfig::default());
    let observed = mtoctl_graph::collect::collect(&client, &desired)
        .await
        .expect("collect");
    let plan = mtoctl_planner::plan(&desired, &observed).expect("plans");

    let find = |pred: &dyn Fn(&Operation) -> bool| {
        plan.actions
            .iter()
            .find(|a| pred(&a.operation))
            .unwrap_or_else(|| panic!("the plan has the action:\n{plan:#?}"))
            .clone()
    };
    let org = find(&|o| matches!(o, Operation::UpdateOrganization { .. }));
    let member = find(&|o| matches!(o, Operation::ChangeMemberRole { .. }));
    let schema = find(&|o| matches!(o, Operation::UpdateSchema { .. }));
    let unassign = find(&|o| matches!(o, Operation::RemoveAssignment { .. }));
    let pause = find(&|o| matches!(o, Operation::PauseJob { .. }));
    let partners: Vec<_> = plan
        .actions
        .iter()
        .filter(|a| matches!(a.operation, Operation::PatchPartner { .. }))
        .cloned()
        .collect();
    let changed_partner = partners
        .iter()
        .find(|a| a.tenant.as_str() == "fabrikam")
        .expect("fabrikam's partner patch");
    let kept_partner = partners
        .iter()
        .find(|a| a.tenant.as_str() == "contoso")
        .expect("contoso's partner patch");
    let existing = |r: &ObjectRef| match r {
        ObjectRef::Existing { id } => id.clone(),
        other => panic!("{other:?}"),
    };

    // Out of band, after planning: one change to each of those objects but contoso's partner.
    use reqwest::Method;
    let mto = "/tenantRelationships/multiTenantOrganization";
    graph(
        &world,
        "contoso",
        Method::PATCH,
        mto,
        json!({"description": "changed by hand"}),
    )
    .await;
    graph(
        &world,
        "contoso",
        Method::PATCH,
        &format!("{mto}/tenants/{FABRIKAM}"),
        json!({"role": "owner"}),
    )
    .await;
    patch_partner_consent_off(&world).await;
    let Operation::RemoveAssignment {
        configuration,
        assignment_id,
        ..
    } = &unassign.operation
    else {
        unreachable!()
    };
    let sp = existing(configuration);
    graph_call(
        &world,
        "contoso",
        Method::DELETE,
        &format!("/servicePrincipals/{sp}/appRoleAssignedTo/{assignment_id}"),
        None,
    )
    .await;
    let Operation::UpdateSchema {
        configuration, job, ..
    } = &schema.operation
    else {
        unreachable!()
    };
    let (sp, job) = (existing(configuration), existing(job));
    let schema_path = format!("/servicePrincipals/{sp}/synchronization/jobs/{job}/schema");
    let mut body = graph_call(&world, "fabrikam", Method::GET, &schema_path, None).await;
    mtoctl_graph::wire::writes::edit_schema(
        &mut body,
        &mtoctl_graph::wire::writes::SchemaWrite {
            user_type: mtoctl_model::spec::document::UserType::Member,
            flow: mtoctl_model::spec::document::UserTypeApplies::Always,
            filter: Vec::new(),
            deletes: false,
            mappings: Vec::new(),
            remove_mappings: Vec::new(),
            groups: None,
        },
    )
    .expect("edits");
    // A request body carries no instance annotations (the contract check holds the test's own
    // out-of-band writes to it too).
    if let Some(m) = body.as_object_mut() {
        m.remove("@odata.context");
    }
    graph(&world, "fabrikam", Method::PUT, &schema_path, body).await;
    let Operation::PauseJob { configuration, job } = &pause.operation else {
        unreachable!()
    };
    let (sp, job) = (existing(configuration), existing(job));
    graph_call(
        &world,
        "fabrikam",
        Method::POST,
        &format!("/servicePrincipals/{sp}/synchronization/jobs/{job}/pause"),
        None,
    )
    .await;

    let options = mtoctl_exec::ApplyOptions {
        allow_destroy: true,
        ..Default::default()
    };
    let report = mtoctl_exec::apply(
        plan,
        &client,
        &options,
        std::sync::Arc::new(mtoctl_exec::Silent),
    )
    .await;
    let status = |id: &mtoctl_model::plan::ActionId| {
        report
            .actions
            .iter()
            .find(|r| &r.id.action == id)
            .map(|r| r.status.clone())
            .expect("reported")
    };
    for action in [&org, &member, changed_partner, &schema, &pause] {
        match status(&action.id) {
            mtoctl_exec::ActionStatus::Failed { error } => assert!(
                error.contains("precondition failed") && error.contains(action.addr.as_str()),
                "{}: {error}",
                action.addr
            ),
            other => panic!("{} was not refused: {other:?}", action.addr),
        }
    }
    assert!(
        matches!(
            status(&kept_partner.id),
            mtoctl_exec::ActionStatus::Ok { .. }
        ),
        "the unchanged partner is patched: {:?}",
        status(&kept_partner.id)
    );
    assert!(
        matches!(status(&unassign.id), mtoctl_exec::ActionStatus::Ok { .. }),
        "the assignment removed out of band counts as removed: {:?}",
        status(&unassign.id)
    );
    // Nothing was written over the changes: the refused objects keep their out-of-band state.
    let now = graph_call(&world, "contoso", Method::GET, mto, None).await;
    assert_eq!(now["displayName"], "Contoso Group", "{now}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The exact writes apply sends, from the emulator's record of them: the creates of a first
/// round, and for one drifted setting a single PATCH that carries only that setting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_sends_exactly_the_writes_the_plan_needs() {
    let world = Scenario::quickstart(Default::default()).await;
    let record = |on: bool| {
        world.admin(
            reqwest::Method::POST,
            "/_emulator/faults",
            Some(json!({"record": on})),
        )
    };
    let recorded = || world.admin(reqwest::Method::GET, "/_emulator/requests", None);
    record(true).await;
    let first = world.apply().await;
    assert_eq!(first.code, 3, "{}\n{}", first.stdout, first.stderr);
    // While the join is pending, each source also makes its configuration, stopped: its job,
    // settings and schema, but no validation, no assignment and no start.
    let (sync, mut writes): (Vec<String>, Vec<String>) =
        writes_of(recorded().await).into_iter().partition(|w| {
            w.contains(" /servicePrincipals")
                || w.contains(" /applicationTemplates")
                || w.contains(" /$batch")
        });
    let mut sync: Vec<String> = sync.iter().map(|w| shape_of_sync_write(w)).collect();
    sync.sort();
    let mut made = Vec::new();
    for (tenant, target) in [("contoso", FABRIKAM), ("fabrikam", CONTOSO)] {
        made.extend([
            format!(
                r#"{tenant} POST /applicationTemplates/518e5f48-1fc8-4c48-9387-9fdf28b0dfe7/instantiate {{"displayName":"MTO_Sync_{target}"}}"#
            ),
            format!(r#"{tenant} POST /servicePrincipals/{{sp}}/synchronization/jobs {{"templateId":"Azure2Azure"}}"#),
            format!("{tenant} PUT /servicePrincipals/{{sp}}/synchronization/secrets"),
            format!("{tenant} PUT /servicePrincipals/{{sp}}/synchronization/jobs/{{job}}/schema"),
        ]);
    }
    made.sort();
    assert_eq!(sync, made);
    writes.sort();
    let consent = r#"{"automaticUserConsentSettings":{"inboundAllowed":true,"outboundAllowed":true},"inboundTrust":{"isCompliantDeviceAccepted":null,"isHybridAzureADJoinedDeviceAccepted":null,"isMfaAccepted":true}}"#;
    let templates = "/policies/crossTenantAccessPolicy/templates";
    let mto = "/tenantRelationships/multiTenantOrganization";
    let mut expected = vec![
        format!("contoso PATCH {templates}/multiTenantOrganizationPartnerConfiguration {consent}"),
        format!("fabrikam PATCH {templates}/multiTenantOrganizationPartnerConfiguration {consent}"),
        format!(
            r#"contoso PATCH {templates}/multiTenantOrganizationIdentitySynchronization {{"userSyncInbound":{{"isSyncAllowed":true}}}}"#
        ),
        format!(
            r#"fabrikam PATCH {templates}/multiTenantOrganizationIdentitySynchronization {{"userSyncInbound":{{"isSyncAllowed":true}}}}"#
        ),
        format!(
            r#"contoso PUT {mto} {{"description":"Contoso and Fabrikam collaborate as one organization.","displayName":"Contoso Group"}}"#
        ),
        format!(
            r#"contoso POST {mto}/tenants {{"displayName":"Fabrikam","role":"member","tenantId":"{FABRIKAM}"}}"#
        ),
        format!(r#"fabrikam PATCH {mto}/joinRequest {{"addedByTenantId":"{CONTOSO}"}}"#),
    ];
    expected.sort();
    assert_eq!(writes, expected);

    // Converged, then one setting drifts: one PATCH with that setting (the whole
    // `inboundTrust`, as Graph wants complex values), nothing else.
    world.converge(6).await;
    patch_partner_mfa(&world, false).await;
    record(true).await;
    let repaired = world.apply().await;
    assert_eq!(repaired.code, 0, "{}\n{}", repaired.stdout, repaired.stderr);
    assert_eq!(
        writes_of(recorded().await),
        vec![format!(
            r#"fabrikam PATCH /policies/crossTenantAccessPolicy/partners/{CONTOSO} {{"inboundTrust":{{"isCompliantDeviceAccepted":null,"isHybridAzureADJoinedDeviceAccepted":null,"isMfaAccepted":true}}}}"#
        )]
    );
    // Converged: no write at all.
    record(true).await;
    assert_eq!(world.apply().await.code, 0);
    assert_eq!(writes_of(recorded().await), Vec::<String>::new());
}

/// The recorded writes without `$batch` envelopes of reads, as `tenant METHOD path body`.
/// A write of a sync configuration's setup with its ids left out: `$batch` as its items'
/// count, method and path; settings and schema without their bodies.
fn shape_of_sync_write(write: &str) -> String {
    let mut words = write.splitn(4, ' ');
    let (tenant, method, path, body) = (
        words.next().unwrap_or_default(),
        words.next().unwrap_or_default(),
        words.next().unwrap_or_default(),
        words.next().unwrap_or_default(),
    );
    let shape = |path: &str| {
        let mut parts: Vec<&str> = path.split('/').collect();
        for i in 1..parts.len() {
            match parts[i - 1] {
                "servicePrincipals" => parts[i] = "{sp}",
                "jobs" if parts.get(i + 1).is_some() => parts[i] = "{job}",
                _ => {}
            }
        }
        parts.join("/")
    };
    if path == "/$batch" {
        let items: Value = serde_json::from_str(body).unwrap_or_default();
        let items = items["requests"].as_array().cloned().unwrap_or_default();
        let kinds: std::collections::BTreeSet<String> = items
            .iter()
            .map(|i| {
                format!(
                    "{} {}",
                    i["method"].as_str().unwrap_or_default(),
                    shape(i["url"].as_str().unwrap_or_default())
                )
            })
            .collect();
        let kinds: Vec<String> = kinds.into_iter().collect();
        return format!(
            "{tenant} {method} /$batch of {} {}",
            items.len(),
            kinds.join(", ")
        );
    }
    let shaped = shape(path);
    if shaped.ends_with("/secrets") || shaped.ends_with("/schema") {
        format!("{tenant} {method} {shaped}")
    } else {
        format!("{tenant} {method} {shaped} {body}")
    }
}

fn writes_of(recorded: Value) -> Vec<String> {
    recorded
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|w| {
            !(w["path"] == "/$batch"
                && w["body"]["requests"]
                    .as_array()
                    .is_some_and(|r| r.iter().all(|i| i["method"] == "GET")))
        })
        .map(|w| {
            let tenant = match w["tenant"].as_str() {
                Some(CONTOSO) => "contoso",
                Some(FABRIKAM) => "fabrikam",
                _ => "?",
            };
            format!(
                "{tenant} {} {} {}",
                w["method"].as_str().unwrap_or_default(),
                w["path"].as_str().unwrap_or_default(),
                w["body"]
            )
        })
        .collect()
}

/// Collects and plans `spec` in the test process.
async fn plan_in_process(
    world: &Scenario,
    spec: &std::path::Path,
) -> (
    mtoctl_model::plan::Plan,
    mtoctl_graph::transport::GraphClient,
) {
    let (desired, client) =
        world.client_for_spec(spec, mtoctl_graph::transport::ClientConfig::default());
    let observed = mtoctl_graph::collect::collect(&client, &desired)
        .await
        .expect("collect");
    (
        mtoctl_planner::plan(&desired, &observed).expect("plans"),
        client,
    )
}

/// Applies `plan` in the test process, without the pre-flight staleness check; each action's
/// address and outcome.
async fn apply_in_process(
    plan: mtoctl_model::plan::Plan,
    client: &mtoctl_graph::transport::GraphClient,
) -> Vec<(String, mtoctl_exec::ActionStatus)> {
    let options = mtoctl_exec::ApplyOptions {
        allow_destroy: true,
        ..Default::default()
    };
    let report = mtoctl_exec::apply(
        plan,
        client,
        &options,
        std::sync::Arc::new(mtoctl_exec::Silent),
    )
    .await;
    report
        .actions
        .into_iter()
        .map(|a| (a.addr.to_string(), a.status))
        .collect()
}

/// Whether the action at `addr` was refused by its precondition, naming the address.
fn refused(statuses: &[(String, mtoctl_exec::ActionStatus)], addr: &str) -> bool {
    statuses.iter().any(|(a, s)| {
        a == addr
            && matches!(s, mtoctl_exec::ActionStatus::Failed { error }
                if error.contains("precondition failed") && error.contains(addr))
    })
}

/// The guarded actions of a failed join and of a pruned sync configuration refuse, named, when
/// their object changed after planning.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_and_configuration_actions_refuse_when_changed_after_planning() {
    use mtoctl_model::plan::Operation;
    use reqwest::Method;

    // A join that failed (too soon after the organization was made): the plan resets it; the
    // member resets it by hand first.
    let world =
        Scenario::quickstart_with("timings:\n  joinMinMtoAge: 7200\n", Default::default()).await;
    assert_eq!(world.apply().await.code, 3);
    world.advance(700).await;
    let (plan, client) = plan_in_process(&world, std::path::Path::new(SPEC)).await;
    assert!(
        plan.actions
            .iter()
            .any(|a| matches!(a.operation, Operation::ResetJoin)),
        "{plan:#?}"
    );
    graph(
        &world,
        "fabrikam",
        Method::PATCH,
        "/tenantRelationships/multiTenantOrganization/joinRequest",
        json!({"addedByTenantId": "00000000-0000-0000-0000-000000000000"}),
    )
    .await;
    let statuses = apply_in_process(plan, &client).await;
    assert!(
        refused(&statuses, "tenant.fabrikam.join_request"),
        "{statuses:#?}"
    );

    // A converged world whose spec drops fabrikam's sync and prunes configurations: the plan
    // deletes it; someone deletes its application (and with it the configuration) first.
    let world = Scenario::quickstart(Default::default()).await;
    world.converge(6).await;
    let text = std::fs::read_to_string(repo(SPEC)).expect("spec");
    let cut = text.find("  - from: fabrikam").expect("fabrikam's sync");
    let pruned = format!("{}\nprune: [syncConfigurations]\n", &text[..cut]);
    let dir = std::env::temp_dir().join(format!("mtoctl-prune-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let spec = dir.join("mto.yaml");
    std::fs::write(&spec, pruned).expect("write");
    let (plan, client) = plan_in_process(&world, &spec).await;
    let delete = plan
        .actions
        .iter()
        .find(|a| matches!(a.operation, Operation::DeleteSyncConfiguration { .. }))
        .unwrap_or_else(|| panic!("{plan:#?}"))
        .clone();
    delete_fabrikams_configuration(&world).await;
    let statuses = apply_in_process(plan, &client).await;
    assert!(refused(&statuses, delete.addr.as_str()), "{statuses:#?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Counts the polls of waits.
struct Polls(std::sync::atomic::AtomicUsize);

impl mtoctl_exec::Observer for Polls {
    fn event(&self, event: &mtoctl_exec::ApplyEvent) {
        if matches!(event, mtoctl_exec::ApplyEvent::Polling { .. }) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// A wait gives up at its own timeout in the plan when that comes before `--wait`'s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_gives_up_at_its_own_timeout_before_the_overall_one() {
    use mtoctl_model::plan::Operation;
    let world = Scenario::quickstart(Default::default()).await;
    // The first round submits the join; the clock is frozen, so it never completes.
    assert_eq!(world.apply().await.code, 3);
    let (mut plan, client) = plan_in_process(&world, std::path::Path::new(SPEC)).await;
    assert!(
        plan.actions
            .iter()
            .any(|a| matches!(a.operation, Operation::WaitForJoin { .. })),
        "a wait for the join"
    );
    // Every wait (the join, and the role the new member is given) may take a second.
    let mut waits = 0;
    for a in plan.actions.iter_mut() {
        if let Some(w) = a.async_wait.as_mut() {
            w.timeout_seconds = 1;
            waits += 1;
        }
    }
    let polls = std::sync::Arc::new(Polls(Default::default()));
    let options = mtoctl_exec::ApplyOptions {
        wait: Some(std::time::Duration::from_secs(60)),
        first_poll: std::time::Duration::from_millis(100),
        ..Default::default()
    };
    let report = mtoctl_exec::apply(plan, &client, &options, polls.clone()).await;
    assert_eq!(report.outcome, mtoctl_exec::ApplyOutcome::Waiting);
    // Each wait polls 100 ms apart four times, then 200 and 400 ms apart, then for the rest
    // of its second: at most seven times. Held to the minute of `wait`, the doubling delays
    // would poll thirteen times.
    let n = polls.0.load(std::sync::atomic::Ordering::Relaxed);
    assert!(n >= waits && n <= 7 * waits, "{n} polls of {waits} waits");
}

/// An apply that makes a sync configuration assigns in it without reading its assignments
/// first: nothing but this apply can have assigned in it yet (a hub's apply from scratch read
/// each new configuration's growing list once per group of 100 assignments).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assignments_in_a_configuration_the_apply_made_are_not_looked_for_first() {
    // A joined organization whose fabrikam configuration is gone: the apply makes it anew,
    // with its assignments.
    let world = Scenario::quickstart(Default::default()).await;
    world.converge(6).await;
    delete_fabrikams_configuration(&world).await;
    record_all(&world).await;
    let apply = world.apply().await;
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let recorded = world
        .admin(reqwest::Method::GET, "/_emulator/requests", None)
        .await;
    // Every request, batch items included, as (method, path).
    let requests = requests_of(&recorded, Some(FABRIKAM));
    let assignments = |method: &str| {
        requests
            .iter()
            .filter(|(m, p)| m == method && p.contains("/appRoleAssignedTo"))
            .count()
    };
    assert!(assignments("POST") > 0, "the apply assigns: {requests:?}");
    assert_eq!(assignments("GET"), 0, "{requests:?}");
}

/// A configuration made in the admin center, with a notification e-mail set there, is adopted
/// and its settings written: the keys mtoctl does not manage are written back as they were.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adopting_a_configuration_keeps_the_settings_an_administrator_set() {
    let world = Scenario::quickstart(Default::default()).await;
    // As fabrikam's administrator: the configuration the admin center makes, and its settings.
    let made = graph_call(
        &world,
        "fabrikam",
        reqwest::Method::POST,
        "/applicationTemplates/518e5f48-1fc8-4c48-9387-9fdf28b0dfe7/instantiate",
        Some(json!({"displayName": format!("MTO_Sync_{CONTOSO}")})),
    )
    .await;
    let sp = made["servicePrincipal"]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let notify = r#"{"Enabled":true,"Recipients":"admin@fabrikam.onmicrosoft.com"}"#;
    graph(
        &world,
        "fabrikam",
        reqwest::Method::PUT,
        &format!("/servicePrincipals/{sp}/synchronization/secrets"),
        json!({"value": [{"key": "SyncNotificationSettings", "value": notify}]}),
    )
    .await;

    world.converge(6).await;
    let secrets = {
        let core = world.server.emulator.lock();
        core.state.tenants[FABRIKAM]
            .service_principals
            .iter()
            .find(|s| s.id == sp)
            .expect("the adopted configuration")
            .secrets
            .clone()
    };
    assert_eq!(
        secrets.get("SyncNotificationSettings").map(String::as_str),
        Some(notify),
        "{secrets:?}"
    );
    assert_eq!(
        secrets.get("CompanyId").map(String::as_str),
        Some(CONTOSO),
        "{secrets:?}"
    );
    assert_eq!(
        world
            .census()
            .tenants
            .iter()
            .map(|t| t.configurations)
            .sum::<usize>(),
        2
    );
}

/// A misspelt user or group in a scope is an error naming the entry's place in the spec, the
/// tenant and the name meant: plan exits 1, apply changes nothing (Bob keeps his assignment
/// even with --allow-destroy), the pull-request comment shows the errors outside its collapsed
/// plan, and status is not healthy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typo_in_a_scope_never_removes_the_real_user() {
    let world = Scenario::quickstart(Default::default()).await;
    world.converge(6).await;
    let before = world.census();
    let dir = std::env::temp_dir().join(format!("mtoctl-typo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp");
    let spec = dir.join("mto.yaml");
    let text = std::fs::read_to_string(repo(SPEC)).expect("spec");
    let typo = text
        .replace(
            "        - bob@contoso.onmicrosoft.com\n",
            "        - bobb@contoso.onmicrosoft.com\n",
        )
        .replace(
            "        - Fabrikam Engineering\n",
            "        - Fabrikam Enginering\n",
        );
    assert_ne!(typo, text);
    let line = typo
        .lines()
        .position(|l| l.contains("bobb@"))
        .expect("the typo")
        + 1;
    std::fs::write(&spec, &typo).expect("write");
    let spec = spec.to_str().expect("utf8");

    let plan = world.run(&["plan", "-f", spec]).await;
    assert_eq!(plan.code, 1, "{}\n{}", plan.stdout, plan.stderr);
    let said = format!("{}\n{}", plan.stdout, plan.stderr);
    assert!(
        said.contains(&format!("{spec}:{line}:11: user bobb@contoso.onmicrosoft.com does not exist in contoso (did you mean bob@contoso.onmicrosoft.com?)")),
        "{said}"
    );
    assert!(
        said.contains("group \"Fabrikam Enginering\" does not exist in fabrikam (did you mean Fabrikam Engineering?)"),
        "{said}"
    );
    assert!(
        !said.contains("take user:"),
        "nothing leaves a scope: {said}"
    );

    let comment = world
        .run(&["plan", "-f", spec, "--format", "markdown"])
        .await;
    let head = comment.stdout.split("<details>").next().expect("a head");
    assert!(
        head.contains("This plan cannot be applied")
            && head.contains("bobb@contoso.onmicrosoft.com"),
        "{}",
        comment.stdout
    );

    let applied = world
        .run(&["apply", "-f", spec, "--auto-approve", "--allow-destroy"])
        .await;
    assert_eq!(applied.code, 1, "{}\n{}", applied.stdout, applied.stderr);
    assert_eq!(world.census(), before, "nothing changed");
    let synced = synced_users_deleted(&world, FABRIKAM).await;
    assert_eq!(synced.get("Bob Stone"), Some(&false), "{synced:?}");

    let status = world.run(&["status", "-f", spec]).await;
    assert_eq!(status.code, 4, "{}\n{}", status.stdout, status.stderr);
    assert!(
        status.stdout.contains(
            "bobb@contoso.onmicrosoft.com is in the spec's scope but does not exist in contoso"
        ),
        "{}",
        status.stdout
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// As another run would: makes fabrikam's configuration again the moment this run's
/// instantiation of it is done (the emulator's clock is frozen: the same moment).
struct TwinMaker {
    client: mtoctl_graph::transport::GraphClient,
    name: String,
    made: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl mtoctl_exec::Observer for TwinMaker {
    fn event(&self, event: &mtoctl_exec::ApplyEvent) {
        let mtoctl_exec::ApplyEvent::Finished { result } = event else {
            return;
        };
        if !(result.tenant == "fabrikam"
            && result
                .addr
                .to_string()
                .ends_with(&format!("[\"{}\"]", self.name)))
        {
            return;
        }
        let (client, name) = (self.client.clone(), self.name.clone());
        let made = tokio::spawn(async move {
            let request = mtoctl_graph::transport::GraphRequest::with_body(
                reqwest::Method::POST,
                "/applicationTemplates/518e5f48-1fc8-4c48-9387-9fdf28b0dfe7/instantiate",
                json!({ "displayName": name }),
            );
            client
                .send("fabrikam", &request)
                .await
                .expect("the twin is made");
        });
        *self.made.lock().expect("lock") = Some(made);
    }
}

/// A configuration another run makes at the same moment: the look for that twin runs beside
/// the chain (the job is made before it ends), this run's configuration yields (a tie), and
/// then nothing is started on it: it is deleted, the apply fails it, and the next apply adopts
/// the other run's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configuration_that_yields_to_a_twin_is_deleted_and_never_started() {
    use reqwest::Method;
    let world = Scenario::quickstart(Default::default()).await;
    world.converge(6).await;
    delete_fabrikams_configuration(&world).await;
    let (plan, client) = plan_in_process(&world, std::path::Path::new(SPEC)).await;
    record_all(&world).await;
    let name = format!("MTO_Sync_{CONTOSO}");
    let twins = std::sync::Arc::new(TwinMaker {
        client: client.clone(),
        name: name.clone(),
        made: std::sync::Mutex::new(None),
    });
    let options = mtoctl_exec::ApplyOptions {
        allow_destroy: true,
        ..Default::default()
    };
    let report = mtoctl_exec::apply(plan, &client, &options, twins.clone()).await;
    let made = twins
        .made
        .lock()
        .expect("lock")
        .take()
        .expect("the twin was made");
    made.await.expect("twin");

    let config = format!("tenant.fabrikam.sync[\"{name}\"]");
    let status = |addr: &str, start: bool| {
        report
            .actions
            .iter()
            .filter(|a| a.addr.as_str() == addr)
            .find(|a| a.summary.starts_with("start synchronizing") == start)
            .map(|a| a.status.clone())
            .unwrap_or_else(|| panic!("{addr} in {report:#?}"))
    };
    let lost = |s: mtoctl_exec::ActionStatus| matches!(s, mtoctl_exec::ActionStatus::Failed { error } if error.contains("concurrent run") && error.contains("plan again"));
    assert!(lost(status(&config, false)), "{report:#?}");
    assert!(lost(status(&format!("{config}.job"), true)), "{report:#?}");
    assert_eq!(report.outcome, mtoctl_exec::ApplyOutcome::Failed);

    let recorded = world.admin(Method::GET, "/_emulator/requests", None).await;
    let fabrikam = requests_of(&recorded, Some(FABRIKAM));
    let at = |method: &str, path: &dyn Fn(&str) -> bool| {
        fabrikam
            .iter()
            .position(|(m, p)| m == method && path(p))
            .unwrap_or_else(|| panic!("{method} in {fabrikam:#?}"))
    };
    let job_made = at("POST", &|p| p.ends_with("/synchronization/jobs"));
    let ours_deleted = at("DELETE", &|p| p.starts_with("/applications/"));
    assert!(
        job_made < ours_deleted,
        "the chain went on while the look ran"
    );
    assert!(
        !fabrikam.iter().any(|(_, p)| p.ends_with("/start")),
        "nothing started: {fabrikam:#?}"
    );
    {
        let core = world.server.emulator.lock();
        let named: Vec<_> = core.state.tenants[FABRIKAM]
            .service_principals
            .iter()
            .filter(|sp| sp.display_name == name)
            .collect();
        assert_eq!(named.len(), 1, "the other run's alone");
        assert!(named[0].jobs.is_empty(), "the other run's, with no job yet");
    }
    world.converge(6).await;
    world.assert_converged_counts();
}

/// Starting a job the plan saw stopped reads it once, for the plan's precondition, which also
/// shows it is not running: no second look before the start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_rechecked_before_its_start_is_not_looked_at_again() {
    use reqwest::Method;
    let world = Scenario::quickstart(Default::default()).await;
    // The first apply makes both configurations stopped while the join is pending.
    assert_eq!(world.apply().await.code, 3);
    world.advance(5 * 3600).await;
    record_all(&world).await;
    let second = world.apply().await;
    assert_eq!(second.code, 0, "{}\n{}", second.stdout, second.stderr);
    let recorded = world.admin(Method::GET, "/_emulator/requests", None).await;
    let requests = requests_of(&recorded, None);
    let starts: Vec<&String> = requests
        .iter()
        .filter(|(m, p)| m == "POST" && p.ends_with("/start"))
        .map(|(_, p)| p)
        .collect();
    assert_eq!(starts.len(), 2, "{requests:#?}");
    for start in starts {
        let job = start.trim_end_matches("/start");
        let reads = requests
            .iter()
            .filter(|(m, p)| m == "GET" && p.split('?').next() == Some(job))
            .count();
        assert_eq!(reads, 1, "{job} read once before its start: {requests:#?}");
    }
}

/// Deletes fabrikam's configuration application, and with it its service principal, as an
/// administrator would.
async fn delete_fabrikams_configuration(world: &Scenario) {
    let app = {
        let core = world.server.emulator.lock();
        core.state.tenants[FABRIKAM]
            .applications
            .iter()
            .find(|a| a.application_template_id.is_some())
            .map(|a| a.id.clone())
            .expect("fabrikam's configuration application")
    };
    graph_call(
        world,
        "fabrikam",
        reqwest::Method::DELETE,
        &format!("/applications/{app}"),
        None,
    )
    .await;
}

/// The emulator's recorded requests, of one tenant or all, `$batch` items one by one, as
/// (method, path) in the order they came.
fn requests_of(recorded: &Value, tenant: Option<&str>) -> Vec<(String, String)> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    recorded
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| tenant.is_none_or(|t| r["tenant"] == t))
        .flat_map(|r| match r["body"]["requests"].as_array() {
            Some(items) if r["path"] == "/$batch" => items
                .iter()
                .map(|i| (text(&i["method"]), text(&i["url"])))
                .collect::<Vec<_>>(),
            _ => vec![(text(&r["method"]), text(&r["path"]))],
        })
        .collect()
}

/// Has the emulator record every request from now on (`/_emulator/requests`).
async fn record_all(world: &Scenario) {
    world
        .admin(
            reqwest::Method::POST,
            "/_emulator/faults",
            Some(json!({"record": "all"})),
        )
        .await;
}
