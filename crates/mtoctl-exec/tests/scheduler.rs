//! The executor against the emulator with hand-made plans: a failed action skips its
//! dependents while independent actions still run, waits report "waiting", and the report
//! says what happened to each action.

use std::sync::{Arc, Mutex};

use mtoctl_exec::{
    ActionStatus, ApplyEvent, ApplyOptions, ApplyOutcome, Observer, SkipReason, apply,
};
use mtoctl_graph::auth::{AuthContext, MapEnvironment, credential_for};
use mtoctl_graph::endpoints::Endpoints;
use mtoctl_graph::transport::{ClientConfig, GraphClient, http_client};
use mtoctl_model::plan::Plan;
use serde_json::json;

const WORLD: &str = r#"
seed: 1
tenants:
  - id: 6babcaad-604b-40ac-a9d7-9fd97c0b779f
    displayName: Contoso
    domain: contoso.onmicrosoft.com
    apps:
      - clientId: 0d3f3c4e-5b7a-4c1e-9a8b-1c2d3e4f5a6b
        displayName: mtoctl
        secret: s3cret
"#;

const SPEC: &str = r#"
apiVersion: mtoctl/v1alpha1
kind: MultiTenantOrganization
organization:
  displayName: Contoso Group
tenants:
  - alias: contoso
    tenantId: 6babcaad-604b-40ac-a9d7-9fd97c0b779f
    displayName: Contoso
    role: owner
    domain: contoso.onmicrosoft.com
    auth:
      clientId: 0d3f3c4e-5b7a-4c1e-9a8b-1c2d3e4f5a6b
      clientSecret:
        fromEnv: CONTOSO_SECRET
"#;

async fn client() -> (mtoctl_emulator::Server, GraphClient) {
    client_in(WORLD).await
}

async fn client_in(world: &str) -> (mtoctl_emulator::Server, GraphClient) {
    let server = serve(world).await;
    let client = client_of(&server);
    (server, client)
}

/// The emulator of `world`, on loopback.
async fn serve(world: &str) -> mtoctl_emulator::Server {
    let world = mtoctl_emulator::world::WorldFile::parse(world).expect("world");
    mtoctl_emulator::Emulator::from_world(world, Default::default())
        .expect("loads")
        .spawn_on_loopback()
        .await
        .expect("serves")
}

/// A client of `server`, as a new run of mtoctl has one (it knows nothing it made before).
fn client_of(server: &mtoctl_emulator::Server) -> GraphClient {
    client_for(server, SPEC, &[("CONTOSO_SECRET", "s3cret")])
}

/// A client of `server` for the tenants of `spec`, their secrets in `secrets`.
fn client_for(
    server: &mtoctl_emulator::Server,
    spec: &str,
    secrets: &[(&str, &str)],
) -> GraphClient {
    let desired = mtoctl_model::spec::load("mto.yaml", spec.as_bytes())
        .expect("valid spec")
        .desired;
    let ctx = AuthContext {
        endpoints: Endpoints::new(Some(&server.base_url), Some(&server.base_url))
            .expect("endpoints"),
        env: Arc::new(MapEnvironment(
            secrets
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )),
        spec_dir: ".".into(),
        http: http_client(std::time::Duration::from_secs(30)).expect("an HTTP client"),
    };
    let mut builder = GraphClient::builder(
        ctx.http.clone(),
        ctx.endpoints.clone(),
        ClientConfig::default(),
    );
    for t in &desired.tenants {
        builder = builder.tenant(t.alias.as_str(), credential_for(t, &ctx).expect("cred"));
    }
    builder.build()
}

fn action(id: &str, addr: &str, op: serde_json::Value, deps: &[&str]) -> serde_json::Value {
    json!({
        "id": id, "addr": addr, "tenant": "contoso", "kind": "update", "operation": op,
        "depends_on": deps, "expected_before": {"state": "absent"}, "destructive": false,
        "impact": null, "reason": "drift", "summary": format!("step {id}"), "changes": [],
        "async_wait": null, "required_permissions": []
    })
}

fn plan(actions: Vec<serde_json::Value>) -> Plan {
    serde_json::from_value(json!({
        "format_version": "1.0", "mtoctl_version": "0", "spec_digest": "sha256:x",
        "tenants": [{"alias": "contoso", "tenant_id": "6babcaad-604b-40ac-a9d7-9fd97c0b779f"}],
        "observed": {}, "deferred": [], "notes": [], "complete": true, "applyable": true,
        "errored": false,
        "summary": {"create": 0, "update": 0, "delete": 0, "replace": 0, "wait": 0, "check": 0, "no_op": 0},
        "actions": actions
    }))
    .expect("plan")
}

#[derive(Default)]
struct Record(Mutex<Vec<ApplyEvent>>);

impl Observer for Record {
    fn event(&self, event: &ApplyEvent) {
        self.0.lock().expect("lock").push(event.clone());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_skips_transitive_dependents_only() {
    let (_server, client) = client().await;
    // a001 patches a partner that does not exist (Graph answers 404): it fails. a002 depends
    // on it, a003 on a002: both skipped, naming a001. a004 is independent and runs.
    let plan = plan(vec![
        action(
            "a001",
            "p",
            json!({"op": "patch_partner", "partner_tenant_id": "3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11",
                   "changes": {"inbound_trust": {"mfa": true, "compliant_device": null, "hybrid_joined_device": null}}}),
            &[],
        ),
        action(
            "a002",
            "t1",
            json!({"op": "patch_identity_sync_template", "application_level": null, "is_sync_allowed": true}),
            &["a001"],
        ),
        action(
            "a003",
            "t2",
            json!({"op": "patch_partner_template", "application_level": null,
                   "settings": {"automatic_user_consent": {"inbound": true, "outbound": true}}}),
            &["a002"],
        ),
        action(
            "a004",
            "t3",
            json!({"op": "patch_identity_sync_template", "application_level": ["newPartners"], "is_sync_allowed": false}),
            &[],
        ),
    ]);
    let record = Arc::new(Record::default());
    let report = apply(plan, &client, &ApplyOptions::default(), record.clone()).await;
    assert_eq!(report.outcome, ApplyOutcome::Failed);
    let status = |id: &str| {
        report
            .result(&mtoctl_model::plan::ActionId::parse(id).expect("id"))
            .expect("result")
            .status
            .clone()
    };
    assert!(
        matches!(status("a001"), ActionStatus::Failed { .. }),
        "{report:?}"
    );
    let failed = SkipReason::DependencyFailed {
        action: mtoctl_exec::RunActionId::first(mtoctl_model::plan::ActionId::at(0)),
    };
    assert_eq!(
        status("a002"),
        ActionStatus::Skipped {
            reason: failed.clone()
        }
    );
    assert_eq!(status("a003"), ActionStatus::Skipped { reason: failed });
    assert!(
        matches!(status("a004"), ActionStatus::Ok { .. }),
        "{report:?}"
    );
    let text = report.render_text();
    assert!(text.contains("FAILED   a001"), "{text}");
    assert!(text.contains("1 done, 1 failed, 2 skipped"), "{text}");
    let events = record.0.lock().expect("lock");
    assert!(
        events.iter().any(
            |e| matches!(e, ApplyEvent::Started { action, .. } if action.to_string() == "a004")
        )
    );
    assert!(
        !events.iter().any(
            |e| matches!(e, ApplyEvent::Started { action, .. } if action.to_string() == "a002")
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unfinished_wait_reports_waiting_and_defers_its_dependents() {
    let (_server, client) = client().await;
    // An organization with a pending member: the wait for its join cannot be done.
    let plan = plan(vec![
        action(
            "a001",
            "o",
            json!({"op": "create_organization", "display_name": "Contoso Group", "description": null}),
            &[],
        ),
        action(
            "a002",
            "m",
            json!({"op": "add_member", "tenant_id": "3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11", "display_name": "Fabrikam", "role": "member"}),
            &["a001"],
        ),
        action(
            "a003",
            "w",
            json!({"op": "wait_for_join", "tenant_id": "3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11"}),
            &["a002"],
        ),
        action(
            "a004",
            "after",
            json!({"op": "patch_identity_sync_template", "application_level": null, "is_sync_allowed": true}),
            &["a003"],
        ),
    ]);
    let report = apply(
        plan.clone(),
        &client,
        &ApplyOptions::default(),
        Arc::new(mtoctl_exec::Silent),
    )
    .await;
    assert_eq!(report.outcome, ApplyOutcome::Waiting, "{report:?}");
    let status = |id: &str| {
        report
            .result(&mtoctl_model::plan::ActionId::parse(id).expect("id"))
            .expect("result")
            .status
            .clone()
    };
    assert!(matches!(status("a003"), ActionStatus::Waiting { .. }));
    assert_eq!(
        status("a004"),
        ActionStatus::Skipped {
            reason: SkipReason::DependencyWaiting {
                action: mtoctl_exec::RunActionId::first(mtoctl_model::plan::ActionId::at(2))
            }
        }
    );
    // Running the same plan again adopts the organization and the member: no duplicates.
    let again = apply(
        plan,
        &client,
        &ApplyOptions::default(),
        Arc::new(mtoctl_exec::Silent),
    )
    .await;
    let created = |id: &str| match &again
        .result(&mtoctl_model::plan::ActionId::parse(id).expect("id"))
        .expect("result")
        .status
    {
        ActionStatus::Ok { created } => created.adopted,
        other => panic!("{other:?}"),
    };
    assert!(created("a001") && created("a002"), "{again:?}");
    let members = member_list(&client).await;
    assert_eq!(members.as_array().map(Vec::len), Some(2), "{members}");
}

async fn member_list(client: &GraphClient) -> serde_json::Value {
    let items = client
        .get_all("contoso", &mtoctl_graph::wire::writes::list_members())
        .await
        .expect("members");
    serde_json::Value::Array(items)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_object_fails_its_precondition_without_a_write() {
    let (_server, client) = client().await;
    let mut changed = action(
        "a001",
        "tenant.contoso.template.partner_configuration",
        json!({"op": "patch_partner_template", "application_level": null,
               "settings": {"automatic_user_consent": {"inbound": true, "outbound": true}}}),
        &[],
    );
    changed["expected_before"] =
        json!({"state": "fingerprint", "fingerprint": "sha256:not-what-is-there"});
    let report = apply(
        plan(vec![changed]),
        &client,
        &ApplyOptions::default(),
        Arc::new(mtoctl_exec::Silent),
    )
    .await;
    match &report.actions[0].status {
        ActionStatus::Failed { error } => assert!(error.contains("precondition failed"), "{error}"),
        other => panic!("{other:?}"),
    }
    // Nothing was written: the template still has no consent settings.
    let template = client
        .send(
            "contoso",
            &mtoctl_graph::transport::GraphRequest::get(
                mtoctl_graph::wire::policy::PARTNER_TEMPLATE_PATH,
            ),
        )
        .await
        .expect("template")
        .body;
    assert_ne!(
        template["automaticUserConsentSettings"]["inboundAllowed"],
        json!(true),
        "{template}"
    );
}

/// Assignments to one configuration: ready together, they are sent through `$batch` without
/// a read first; those already made are refused by Graph as duplicates and adopted by one read
/// after, none made twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assignments_to_one_configuration_share_one_read_and_go_through_batch() {
    const USERS: usize = 45;
    let mut world = format!("{WORLD}    users:\n");
    for n in 0..USERS {
        world.push_str(&format!(
            "      - userPrincipalName: u{n}@contoso.onmicrosoft.com\n"
        ));
    }
    let (server, client) = client_in(&world).await;
    let users = client
        .get_all(
            "contoso",
            &mtoctl_graph::transport::GraphRequest::get("/users?$select=id"),
        )
        .await
        .expect("users");
    let user_ids: Vec<String> = users
        .iter()
        .filter_map(|u| u["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(user_ids.len(), USERS);
    let made = json!({"ref": "created_by", "action": "a001"});
    let actions = |count: usize| {
        let mut actions = vec![action(
            "a001",
            "c",
            json!({"op": "instantiate_sync_configuration", "display_name": "Contoso to Fabrikam"}),
            &[],
        )];
        for (n, id) in user_ids.iter().take(count).enumerate() {
            actions.push(action(
                &format!("a{:03}", n + 2),
                &format!("assign{n}"),
                json!({"op": "assign_principal", "configuration": made, "app_role": made,
                       "principal_id": id, "kind": "user"}),
                &["a001"],
            ));
        }
        plan(actions)
    };
    // Five made by an earlier, partial apply.
    let first = apply(
        actions(5),
        &client,
        &ApplyOptions::default(),
        Arc::new(mtoctl_exec::Silent),
    )
    .await;
    assert_eq!(first.outcome, ApplyOutcome::Applied, "{first:?}");
    let before = client.stats();
    let report = apply(
        actions(USERS),
        &client,
        &ApplyOptions::default(),
        Arc::new(mtoctl_exec::Silent),
    )
    .await;
    let after = client.stats();
    assert_eq!(report.outcome, ApplyOutcome::Applied, "{report:?}");
    let adopted = report
        .actions
        .iter()
        .filter(|a| matches!(&a.status, ActionStatus::Ok { created } if created.adopted))
        .count();
    // The configuration and the five assignments already made.
    assert_eq!(adopted, 1 + 5, "{report:?}");
    // 45 assignments: one call each would be 45 POSTs and 45 reads. Here: the
    // configuration's lookup, three `$batch` calls of POSTs, one read for the five refused.
    let calls = after.http_calls - before.http_calls;
    assert!(calls <= 6, "{calls} HTTP calls for 40 assignments");
    let sp = match &report.actions[0].status {
        ActionStatus::Ok { created } => created.id.clone().expect("configuration id"),
        other => panic!("{other:?}"),
    };
    let listed = client
        .get_all(
            "contoso",
            &mtoctl_graph::wire::writes::list_assignments(&sp),
        )
        .await
        .expect("assignments");
    let principals: std::collections::BTreeSet<String> = listed
        .iter()
        .filter_map(mtoctl_graph::wire::writes::decode_assignment)
        .map(|(_, p)| p)
        .collect();
    assert_eq!(listed.len(), USERS, "no assignment made twice");
    assert_eq!(principals.len(), USERS, "every principal assigned");

    // Ten removals by a later run, one of them already removed by someone else: the DELETEs
    // go in one `$batch` with nothing read first (an assignment cannot change, so the DELETE
    // of its id is its own check), and the one already gone counts as removed. (This run's
    // client would take a 404 under the configuration it just made for replication lag, and
    // try again for a while.)
    let client = client_of(&server);
    let mut removals = Vec::new();
    for (n, item) in listed.iter().take(10).enumerate() {
        let (id, principal) =
            mtoctl_graph::wire::writes::decode_assignment(item).expect("assignment");
        let seen = mtoctl_graph::wire::writes::observe::assignment(&listed, &id).expect("observed");
        let mut removal = action(
            &format!("a{:03}", n + 1),
            &format!("remove{n}"),
            json!({"op": "remove_assignment", "configuration": {"ref": "existing", "id": sp},
                   "assignment_id": id, "principal_id": principal}),
            &[],
        );
        removal["expected_before"] = json!({"state": "fingerprint",
            "fingerprint": mtoctl_model::plan::fingerprint::assignment(&seen).0});
        removals.push(removal);
    }
    let gone = mtoctl_graph::wire::writes::decode_assignment(&listed[0]).expect("assignment");
    client
        .send(
            "contoso",
            &mtoctl_graph::wire::writes::remove_assignment(&sp, &gone.0),
        )
        .await
        .expect("removed out of band");
    let before = client.stats();
    let report = apply(
        plan(removals),
        &client,
        &ApplyOptions::default(),
        Arc::new(mtoctl_exec::Silent),
    )
    .await;
    let calls = client.stats().http_calls - before.http_calls;
    assert_eq!(report.outcome, ApplyOutcome::Applied, "{report:?}");
    assert!(
        report
            .actions
            .iter()
            .all(|a| matches!(a.status, ActionStatus::Ok { .. })),
        "{report:?}"
    );
    assert_eq!(calls, 1, "one `$batch` of ten DELETEs, no read");
    let left = client
        .get_all(
            "contoso",
            &mtoctl_graph::wire::writes::list_assignments(&sp),
        )
        .await
        .expect("assignments");
    assert_eq!(left.len(), USERS - 10);
}

/// Fabrikam, a second tenant beside [`WORLD`]'s.
const FABRIKAM_WORLD: &str = r#"  - id: 3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11
    displayName: Fabrikam
    domain: fabrikam.onmicrosoft.com
    apps:
      - clientId: 7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
        displayName: mtoctl
        secret: s3cret-too
"#;

/// Fabrikam, a second tenant beside [`SPEC`]'s.
const FABRIKAM_SPEC: &str = r#"  - alias: fabrikam
    tenantId: 3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11
    displayName: Fabrikam
    domain: fabrikam.onmicrosoft.com
    auth:
      clientId: 7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
      clientSecret:
        fromEnv: FABRIKAM_SECRET
"#;

/// When the whole apply is full, a slot that frees goes to the tenant that waited for one,
/// not to the next step of the tenant first in order: with room for one action, Contoso's
/// chain of three and Fabrikam's single action take turns instead of Fabrikam waiting for
/// all of Contoso's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_freed_slot_goes_to_the_tenant_that_waited() {
    let server = serve(&format!("{WORLD}{FABRIKAM_WORLD}")).await;
    let client = client_for(
        &server,
        &format!("{SPEC}{FABRIKAM_SPEC}"),
        &[
            ("CONTOSO_SECRET", "s3cret"),
            ("FABRIKAM_SECRET", "s3cret-too"),
        ],
    );
    let template = |id: &str, tenant: &str, allowed: bool, deps: &[&str]| {
        let mut a = action(
            id,
            &format!("{tenant}-{id}"),
            json!({"op": "patch_identity_sync_template", "application_level": null, "is_sync_allowed": allowed}),
            deps,
        );
        a["tenant"] = json!(tenant);
        a
    };
    let mut plan = plan(vec![]);
    plan.tenants = serde_json::from_value(json!([
        {"alias": "contoso", "tenant_id": "6babcaad-604b-40ac-a9d7-9fd97c0b779f"},
        {"alias": "fabrikam", "tenant_id": "3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11"}
    ]))
    .expect("tenants");
    plan.actions = serde_json::from_value(json!([
        template("a001", "contoso", true, &[]),
        template("a002", "contoso", false, &["a001"]),
        template("a003", "contoso", true, &["a002"]),
        template("a004", "fabrikam", true, &[]),
    ]))
    .expect("actions");
    let record = Arc::new(Record::default());
    let options = ApplyOptions {
        concurrency: 1,
        ..ApplyOptions::default()
    };
    let report = apply(plan, &client, &options, record.clone()).await;
    assert_eq!(report.outcome, ApplyOutcome::Applied, "{report:?}");
    let started: Vec<String> = record
        .0
        .lock()
        .expect("lock")
        .iter()
        .filter_map(|e| match e {
            ApplyEvent::Started { action, .. } => Some(action.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(started, ["a001", "a004", "a002", "a003"]);
}
