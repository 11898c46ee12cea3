//! The acceptance suite: the walkthrough's whole lifecycle, written once against a target that
//! is the emulator by default and real tenants when `MTOCTL_ACCEPTANCE_SPEC` names their spec
//! (docs/acceptance.md says how to run it there).
//!
//! From nothing: (a) `doctor`; (b) `apply --wait` converges, `plan` is then empty; (c) `sync now`
//! shows every user the scopes list as a `#EXT#` member of its target; (d) a managed setting
//! changed behind mtoctl's back shows as drift and `apply` repairs it; (e) a user leaves a scope:
//! the plan's one destructive action is refused without `--allow-destroy` and carried out with
//! it; (f) a member tenant leaves the spec, `prune` removes it from the organization, gated the
//! same way; (g) `destroy` removes everything, after which `plan --destroy` finds nothing and a
//! second `destroy` changes nothing. A guard runs `destroy` whatever step fails. Every command,
//! with its output and its Graph transcript, goes to a run directory, kept unless an emulator run
//! passes.

mod common;
#[path = "common/acceptance.rs"]
mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use common::{CONTOSO, FABRIKAM, Run};
use reqwest::Method;
use serde_json::{Value, json};
use support::{Removal, Shrink, Target};

/// Panics with the run's output unless it exited with `code`.
fn expect_code(run: &Run, code: i32, what: &str) {
    assert_eq!(
        run.code, code,
        "{what}: expected exit {code}\n--- stdout\n{}\n--- stderr\n{}",
        run.stdout, run.stderr
    );
}

/// The JSON document a run printed.
fn document(run: &Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n--- stdout\n{}\n--- stderr\n{}",
            run.stdout, run.stderr
        )
    })
}

/// The plan's actions.
fn actions(plan: &Value) -> &Vec<Value> {
    plan["actions"].as_array().expect("actions")
}

/// `(addr, operation)` of each action, in plan order.
fn addrs(plan: &Value) -> Vec<(String, String)> {
    actions(plan)
        .iter()
        .map(|a| {
            (
                a["addr"].as_str().expect("addr").to_owned(),
                a["operation"]["op"].as_str().expect("op").to_owned(),
            )
        })
        .collect()
}

fn path(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// `plan -f SPEC --format json --detailed-exitcode` until it exits `want` (once against the
/// emulator; against real tenants a few times, Graph's replicas catching up): the plan.
async fn plan_until(target: &Target, label: &str, spec: &Path, want: i32) -> Value {
    let spec = path(spec);
    let (tries, pause) = target.tries();
    let mut run = None;
    for attempt in 1..=tries {
        let r = target
            .mtoctl(
                label,
                &[
                    "plan",
                    "-f",
                    &spec,
                    "--format",
                    "json",
                    "--detailed-exitcode",
                ],
            )
            .await;
        if r.code == want {
            return document(&r);
        }
        run = Some(r);
        if attempt < tries {
            tokio::time::sleep(pause).await;
        }
    }
    let run = run.expect("one plan");
    expect_code(&run, want, &format!("{label}: plan -f {spec}"));
    unreachable!()
}

/// Whether `alias`'s directory holds a user with this UPN.
async fn user_exists(target: &Target, alias: &str, upn: &str) -> bool {
    let filter = mtoctl_graph::wire::encode_query_value(&format!("userPrincipalName eq '{upn}'"));
    let answer = target
        .graph(
            alias,
            Method::GET,
            &format!("/users?$filter={filter}&$select=id,userPrincipalName"),
            None,
        )
        .await;
    !answer["value"].as_array().expect("value").is_empty()
}

/// (a) Every tenant is ready for the spec: against the emulator, ready outright; against real
/// tenants, ready or with something `fixable` reported (the steps after show whether it
/// mattered), never blocked or failing to read.
async fn doctor(target: &Target) {
    let spec = path(&target.spec_path);
    let run = target.mtoctl("a-doctor", &["doctor", "-f", &spec]).await;
    if target.is_emulator() {
        expect_code(&run, 0, "doctor");
        assert!(run.stdout.contains("Ready"), "{}", run.stdout);
    } else {
        assert!(
            run.code == 0 || run.code == 3,
            "doctor: the tenants are not ready (exit {}):\n{}\n{}",
            run.code,
            run.stdout,
            run.stderr
        );
    }
}

/// (b) From nothing: the plan creates the organization; `apply --wait` carries out every round;
/// then the plan is empty.
async fn apply_from_nothing(target: &Target) {
    let spec = path(&target.spec_path);
    let plan = plan_until(target, "b-plan", &target.spec_path, 2).await;
    assert!(
        addrs(&plan)
            .iter()
            .any(|(_, op)| op == "create_organization"),
        "from nothing, the plan creates the organization: {:?}",
        addrs(&plan)
    );
    let run = target
        .mtoctl(
            "b-apply",
            &[
                "apply",
                "-f",
                &spec,
                "--auto-approve",
                "--wait",
                &target.wait,
            ],
        )
        .await;
    expect_code(&run, 0, "apply from nothing");
    assert!(run.stdout.contains("Apply complete."), "{}", run.stdout);
    let plan = plan_until(target, "b-plan-converged", &target.spec_path, 0).await;
    assert!(actions(&plan).is_empty(), "{plan:#}");
    if let Some(s) = target.scenario() {
        let c = s.census();
        assert_eq!(c.organizations, 1, "{c:?}");
        assert_eq!(c.members, 3, "{c:?}");
        let configurations: BTreeMap<&str, usize> = c
            .tenants
            .iter()
            .map(|t| (t.id.as_str(), t.configurations))
            .collect();
        let want = BTreeMap::from([(CONTOSO, 2), (FABRIKAM, 1), (support::TAILSPIN, 0)]);
        assert_eq!(configurations, want, "{c:?}");
    }
}

/// The `#EXT#` copy of each user the scopes list, by `(source alias, target alias, UPN)`.
type Copies = BTreeMap<(String, String, String), String>;

/// (c) `sync now` provisions every user the scopes list by UPN, and each one's copy in the
/// target is a `#EXT#` user of the sync's user type that passes every check.
async fn synced_members(target: &Target) -> Copies {
    let spec = path(&target.spec_path);
    let syncs = support::syncs(&target.spec);
    let mut args = vec![
        "sync",
        "now",
        "-f",
        &spec,
        "--wait",
        &target.sync_wait,
        "--format",
        "json",
    ];
    let mut users: Vec<&str> = syncs
        .iter()
        .flat_map(|s| s.users.iter().map(String::as_str))
        .collect();
    users.sort();
    users.dedup();
    assert!(!users.is_empty(), "the spec's scopes list no user by UPN");
    for u in &users {
        args.extend(["--user", u]);
    }
    let run = target.mtoctl("c-sync-now", &args).await;
    expect_code(&run, 0, "sync now");
    let doc = document(&run);
    let mut copies = Copies::new();
    for sync in syncs.iter().filter(|s| !s.users.is_empty()) {
        let found = doc["syncs"]
            .as_array()
            .expect("syncs")
            .iter()
            .find(|d| d["name"] == sync.name.as_str())
            .unwrap_or_else(|| panic!("{} in {doc:#}", sync.name));
        assert_eq!(
            (&found["from"], &found["to"]),
            (&json!(sync.from), &json!(sync.to)),
            "{found:#}"
        );
        for upn in &sync.users {
            let user = found["users"]
                .as_array()
                .expect("users")
                .iter()
                .find(|u| {
                    u["source"]
                        .as_str()
                        .is_some_and(|s| s.eq_ignore_ascii_case(upn))
                })
                .unwrap_or_else(|| panic!("{upn} in {found:#}"));
            assert_eq!(user["health"], "healthy", "{user:#}");
            let copy = user["target"].as_str().expect("a copy in the target");
            assert!(copy.contains("#EXT#"), "{user:#}");
            let user_type = user["checks"]
                .as_array()
                .expect("checks")
                .iter()
                .find(|c| c["check"] == "user_type")
                .unwrap_or_else(|| panic!("a user_type check in {user:#}"));
            assert_eq!(user_type["outcome"], "passed", "{user:#}");
            assert_eq!(user_type["observed"], sync.user_type.as_str(), "{user:#}");
            copies.insert(
                (sync.from.clone(), sync.to.clone(), upn.to_lowercase()),
                copy.to_owned(),
            );
        }
    }
    for ((_, to, _), copy) in &copies {
        assert!(user_exists(target, to, copy).await, "{copy} in {to}");
    }
    copies
}

/// (d) The first tenant's partner configuration for the second, its automatic redemption of
/// inbound invitations flipped through Graph with the tenant's own credential: the plan shows
/// exactly that drift, `apply` repairs it, and Graph then holds the spec's value again.
async fn drift_repaired(target: &Target) {
    let spec = path(&target.spec_path);
    let tenants = support::tenants(&target.spec);
    let (alias, _) = &tenants[0];
    let (partner, partner_id) = &tenants[1];
    let url = format!("/policies/crossTenantAccessPolicy/partners/{partner_id}");
    let before = target.graph(alias, Method::GET, &url, None).await;
    let consent = &before["automaticUserConsentSettings"];
    let inbound = consent["inboundAllowed"].as_bool().unwrap_or_else(|| {
        panic!(
            "the spec must manage automaticUserConsent between {alias} and {partner}: {before:#}"
        )
    });
    target
        .graph(
            alias,
            Method::PATCH,
            &url,
            Some(json!({"automaticUserConsentSettings": {
                "inboundAllowed": !inbound,
                "outboundAllowed": consent["outboundAllowed"],
            }})),
        )
        .await;
    let plan = plan_until(target, "d-plan-drift", &target.spec_path, 2).await;
    let want = format!("tenant.{alias}.partner[\"{partner}\"]");
    assert_eq!(
        addrs(&plan),
        [(want, "patch_partner".to_owned())],
        "{plan:#}"
    );
    let action = &actions(&plan)[0];
    assert_eq!(action["reason"], "drift", "{action:#}");
    assert_eq!(action["destructive"], false, "{action:#}");
    let changes = action["changes"].as_array().expect("changes");
    let (drifted, declared) = ((!inbound).to_string(), inbound.to_string());
    assert!(
        changes.iter().any(|c| c["path"]
            .as_str()
            .is_some_and(|p| p.contains("automatic_user_consent.inbound"))
            && c["before"].as_str() == Some(drifted.as_str())
            && c["after"].as_str() == Some(declared.as_str())),
        "the drift of automatic_user_consent.inbound in {changes:#?}"
    );
    let run = target
        .mtoctl("d-apply-repair", &["apply", "-f", &spec, "--auto-approve"])
        .await;
    expect_code(&run, 0, "apply repairing the drift");
    let writes = run.writes();
    assert!(
        writes.len() == 1
            && writes[0].starts_with("PATCH /policies/crossTenantAccessPolicy/partners/"),
        "the repair writes the partner configuration alone: {writes:?}"
    );
    plan_until(target, "d-plan-repaired", &target.spec_path, 0).await;
    let after = target.graph(alias, Method::GET, &url, None).await;
    assert_eq!(
        after["automaticUserConsentSettings"]["inboundAllowed"], inbound,
        "{after:#}"
    );
}

/// Applies `spec`, whose plan is `plan` (destructive), first without `--allow-destroy`: refused,
/// nothing changed (the plan is the same after); then with it, after which the plan is empty.
async fn gated_apply(target: &Target, step: &str, spec: &Path, plan: &Value) {
    let file = path(spec);
    let run = target
        .mtoctl(
            &format!("{step}-apply-refused"),
            &[
                "apply",
                "-f",
                &file,
                "--auto-approve",
                "--wait",
                &target.wait,
            ],
        )
        .await;
    expect_code(
        &run,
        1,
        "apply of a destructive plan without --allow-destroy",
    );
    assert!(
        run.stderr.contains("--allow-destroy") && run.stderr.contains("nothing was changed"),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.writes(),
        Vec::<String>::new(),
        "the refused apply wrote"
    );
    let again = plan_until(target, &format!("{step}-plan-unchanged"), spec, 2).await;
    assert_eq!(
        addrs(&again),
        addrs(plan),
        "the refused apply changed something"
    );
    let run = target
        .mtoctl(
            &format!("{step}-apply-allowed"),
            &[
                "apply",
                "-f",
                &file,
                "--auto-approve",
                "--allow-destroy",
                "--wait",
                &target.wait,
            ],
        )
        .await;
    expect_code(&run, 0, "apply --allow-destroy");
    assert!(run.stdout.contains("Apply complete."), "{}", run.stdout);
    plan_until(target, &format!("{step}-plan-converged"), spec, 0).await;
}

/// (e) A user leaves a sync's scope: the plan's one action takes their assignment away, is
/// destructive and says whose copy goes; it is gated on `--allow-destroy`; afterwards the
/// assignment is gone (the full spec would create it again), and against the emulator the next
/// cycle soft-deletes their copy while the others stay.
async fn scope_shrink(target: &Target, shrink: &Shrink, copies: &Copies) {
    let spec = target.write_spec("shrunk.yaml", &shrink.spec);
    let plan = plan_until(target, "e-plan-shrink", &spec, 2).await;
    let sync = &shrink.sync;
    let want = format!(
        "tenant.{}.sync[\"{}\"].assignment[\"user:{}\"]",
        sync.from, sync.name, shrink.user
    );
    assert_eq!(
        addrs(&plan),
        [(want.clone(), "remove_assignment".to_owned())],
        "{plan:#}"
    );
    let action = &actions(&plan)[0];
    assert_eq!(action["destructive"], true, "{action:#}");
    assert_eq!(action["kind"], "delete", "{action:#}");
    assert!(
        action["impact"].to_string().contains(&shrink.user),
        "the impact names {}: {action:#}",
        shrink.user
    );
    let key = |upn: &str| (sync.from.clone(), sync.to.clone(), upn.to_lowercase());
    let gone = &copies[&key(&shrink.user)];
    assert!(user_exists(target, &sync.to, gone).await, "{gone} before");
    gated_apply(target, "e", &spec, &plan).await;
    let full = plan_until(target, "e-plan-full", &target.spec_path, 2).await;
    assert_eq!(
        addrs(&full),
        [(want, "assign_principal".to_owned())],
        "the assignment is gone: the full spec brings it back"
    );
    if let Some(s) = target.scenario() {
        let kept = &copies[&key(&sync.users[0])];
        s.advance(3600).await;
        assert!(!user_exists(target, &sync.to, gone).await, "{gone} after");
        assert!(user_exists(target, &sync.to, kept).await, "{kept} after");
    }
}

/// (f) A member tenant leaves the spec, `prune` on: the plan removes it from the organization
/// and deletes, in the tenants that stay, their settings for it and the syncs into it, every one
/// of these destructive and nothing else planned but the wait for the removal; gated on
/// `--allow-destroy`; afterwards the tenant is no longer a member (the full spec would add it).
async fn member_removed(target: &Target, removal: &Removal) {
    let spec = target.write_spec("pruned.yaml", &removal.spec);
    let plan = plan_until(target, "f-plan-prune", &spec, 2).await;
    let id = &removal.tenant_id;
    let member = format!("organization.member[\"{id}\"]");
    let mut want = vec![(member.clone(), "remove_member".to_owned())];
    for (alias, _) in support::tenants(&removal.spec) {
        want.push((
            format!("tenant.{alias}.partner[\"{id}\"]"),
            "delete_partner".into(),
        ));
        want.push((
            format!("tenant.{alias}.partner[\"{id}\"].identity_sync"),
            "delete_identity_sync".into(),
        ));
    }
    for sync in removal.syncs.iter().filter(|s| s.to == removal.alias) {
        want.push((
            format!("tenant.{}.sync[\"{}\"]", sync.from, sync.name),
            "delete_sync_configuration".into(),
        ));
    }
    want.sort();
    let mut destructive: Vec<(String, String)> = actions(&plan)
        .iter()
        .zip(addrs(&plan))
        .filter(|(a, _)| a["destructive"] == true)
        .map(|(_, addr)| addr)
        .collect();
    destructive.sort();
    assert_eq!(destructive, want, "{plan:#}");
    let others: Vec<(String, String)> = actions(&plan)
        .iter()
        .zip(addrs(&plan))
        .filter(|(a, _)| a["destructive"] != true)
        .map(|(_, addr)| addr)
        .collect();
    assert_eq!(
        others,
        [(member, "wait_for_removal".to_owned())],
        "{plan:#}"
    );
    gated_apply(target, "f", &spec, &plan).await;
    let full = plan_until(target, "f-plan-full", &target.spec_path, 2).await;
    let add = format!("organization.member[\"{}\"]", removal.alias);
    assert!(
        addrs(&full).contains(&(add, "add_member".to_owned())),
        "{} is no longer a member: the full spec adds it again: {:?}",
        removal.alias,
        addrs(&full)
    );
}

/// (g) `destroy` removes everything the spec manages (its plan creates nothing), leaving the
/// users sync provisioned (as its note says); then `plan --destroy` finds nothing, a second
/// `destroy` changes nothing, and the spec plans from nothing again.
async fn destroyed(target: &Target, copies: &Copies) {
    let spec = path(&target.spec_path);
    let run = target
        .mtoctl(
            "g-plan-destroy",
            &[
                "plan",
                "-f",
                &spec,
                "--destroy",
                "--format",
                "json",
                "--detailed-exitcode",
            ],
        )
        .await;
    expect_code(&run, 2, "plan --destroy");
    let plan = document(&run);
    assert!(!actions(&plan).is_empty(), "{plan:#}");
    for (a, (addr, op)) in actions(&plan).iter().zip(addrs(&plan)) {
        assert!(
            ["delete", "update", "wait"].contains(&a["kind"].as_str().expect("kind")),
            "destroy plans only removals, resets and waits: {addr} {op}"
        );
    }
    let run = target
        .mtoctl(
            "g-destroy",
            &[
                "destroy",
                "-f",
                &spec,
                "--auto-approve",
                "--wait",
                &target.wait,
            ],
        )
        .await;
    expect_code(&run, 0, "destroy");
    assert!(run.stdout.contains("Apply complete."), "{}", run.stdout);
    assert!(run.stdout.contains("stay there"), "{}", run.stdout);
    let deletes = run
        .writes()
        .iter()
        .filter(|w| w.starts_with("DELETE"))
        .count();
    assert!(deletes > 0, "destroy deleted nothing: {:?}", run.writes());
    for label in ["g-plan-destroy-empty", "g-destroy-again"] {
        let args: &[&str] = if label == "g-destroy-again" {
            &[
                "destroy",
                "-f",
                &spec,
                "--auto-approve",
                "--wait",
                &target.wait,
            ]
        } else {
            &["plan", "-f", &spec, "--destroy", "--detailed-exitcode"]
        };
        let run = target.mtoctl(label, args).await;
        expect_code(&run, 0, label);
        assert!(run.stdout.contains("Nothing to destroy"), "{}", run.stdout);
        assert!(!run.stdout.contains("ok "), "{label} acted: {}", run.stdout);
        assert_eq!(run.writes(), Vec::<String>::new(), "{label} wrote");
    }
    let plan = plan_until(target, "g-plan-from-nothing", &target.spec_path, 2).await;
    assert!(
        addrs(&plan)
            .iter()
            .any(|(_, op)| op == "create_organization"),
        "after destroy the spec plans from nothing: {:?}",
        addrs(&plan)
    );
    for ((_, to, _), copy) in copies.iter().take(1) {
        assert!(
            user_exists(target, to, copy).await,
            "destroy leaves synced users: {copy}"
        );
    }
    if let Some(s) = target.scenario() {
        let c = s.census();
        for t in &c.tenants {
            assert_eq!(
                (t.configurations, t.partners, t.identity_syncs),
                (0, 0, 0),
                "{c:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn walkthrough_from_nothing_to_destroy() {
    let started = Instant::now();
    let mut target = Target::from_env().await;
    // Every edit the walkthrough makes, derived before anything is touched.
    let shrink = support::shrink(&target.spec).unwrap_or_else(|e| panic!("{e}"));
    let removal = support::remove_member(&shrink.spec).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        support::tenants(&target.spec).len() >= 2,
        "the walkthrough needs two tenants"
    );
    let mut guard = target.cleanup_guard();
    doctor(&target).await;
    apply_from_nothing(&target).await;
    let copies = synced_members(&target).await;
    drift_repaired(&target).await;
    scope_shrink(&target, &shrink, &copies).await;
    member_removed(&target, &removal).await;
    destroyed(&target, &copies).await;
    guard.disarm();
    if let Some(s) = target.scenario() {
        let findings = s.contract.0.findings();
        assert!(findings.is_empty(), "Graph contract: {findings:#?}");
    }
    target.passed();
    support::say(format_args!(
        "passed in {:.1}s",
        started.elapsed().as_secs_f64()
    ));
}

#[test]
fn the_opt_in_refuses_a_spec_whose_tenants_are_not_all_listed() {
    let ids = [CONTOSO.to_owned(), FABRIKAM.to_owned()];
    for listed in [None, Some(""), Some(CONTOSO), Some(" , ")] {
        let e = support::check_opt_in(&ids, listed).expect_err("refused");
        assert!(e.contains(FABRIKAM), "{e}");
        assert!(e.contains("MTOCTL_ACCEPTANCE_TENANTS"), "{e}");
        assert!(e.contains("Nothing was done"), "{e}");
    }
    let e = support::check_opt_in(&ids, Some(FABRIKAM)).expect_err("refused");
    assert!(e.contains(CONTOSO) && !e.contains(FABRIKAM), "{e}");
    let listed = format!(" {} ,{}", CONTOSO.to_uppercase(), FABRIKAM);
    support::check_opt_in(&ids, Some(&listed)).expect("every tenant listed");
}

#[test]
fn a_real_spec_is_refused_before_anything_unless_every_tenant_opted_in() {
    let spec = common::repo("examples/quickstart/mto.yaml");
    let e = support::real_spec(&spec, Some(CONTOSO)).expect_err("fabrikam not listed");
    assert!(e.contains(FABRIKAM) && e.contains("refusing"), "{e}");
    let both = format!("{CONTOSO},{FABRIKAM}");
    let real = support::real_spec(&spec, Some(&both)).expect("both listed");
    assert_eq!(real.tenant_ids, [CONTOSO, FABRIKAM]);
    let e = support::real_spec(Path::new("/nonexistent/mto.yaml"), Some(&both))
        .expect_err("no such file");
    assert!(e.contains("MTOCTL_ACCEPTANCE_SPEC"), "{e}");
}

#[test]
fn the_walkthrough_edits_of_the_quickstart() {
    let text = std::fs::read_to_string(common::repo("examples/quickstart/mto.yaml")).expect("spec");
    let mut spec = support::spec_json(&text).expect("parses");
    support::with_run_id(&mut spec, "acc-1-2", Path::new("/specs"));
    assert_eq!(spec["organization"]["displayName"], "Contoso Group acc-1-2");
    let mut twice = spec.clone();
    let second = twice["sync"][0].clone();
    twice["sync"].as_array_mut().expect("syncs").push(second);
    support::with_run_id(&mut twice, "acc-3-4", Path::new("/specs"));
    let names: Vec<String> = support::syncs(&twice).into_iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        [
            "acc-3-4-contoso-fabrikam",
            "acc-3-4-fabrikam-contoso",
            "acc-3-4-contoso-fabrikam-2"
        ]
    );
    let names: Vec<String> = support::syncs(&spec).into_iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        ["acc-1-2-contoso-fabrikam", "acc-1-2-fabrikam-contoso"]
    );
    // The copy is a valid spec, and its credentials are untouched (no path to rebase).
    let yaml = support::spec_yaml(&spec);
    let valid = mtoctl_model::spec::load("copy.yaml", yaml.as_bytes()).expect("valid");
    assert_eq!(valid.desired.tenants.len(), 2);
    assert_eq!(
        spec["tenants"][0]["auth"]["clientSecret"]["fromEnv"],
        "CONTOSO_CLIENT_SECRET"
    );
    assert!(spec["tenants"][0]["auth"].get("certificate").is_none());

    let shrink = support::shrink(&spec).expect("a scope to shrink");
    assert_eq!(shrink.user, "bob@contoso.onmicrosoft.com");
    assert_eq!(
        support::syncs(&shrink.spec)[0].users,
        ["alice@contoso.onmicrosoft.com"]
    );

    let removal = support::remove_member(&shrink.spec).expect("a member to remove");
    assert_eq!(removal.alias, "fabrikam");
    assert_eq!(removal.syncs.len(), 2);
    assert_eq!(support::tenants(&removal.spec).len(), 1);
    assert!(support::syncs(&removal.spec).is_empty());
    assert_eq!(removal.spec["prune"].as_array().expect("prune").len(), 4);
    mtoctl_model::spec::load("pruned.yaml", support::spec_yaml(&removal.spec).as_bytes())
        .expect("the pruned spec is valid");
}

#[test]
fn a_removed_member_that_receives_no_sync_prunes_no_sync_configuration() {
    let spec = json!({
        "tenants": [
            {"alias": "a", "tenantId": CONTOSO, "role": "owner"},
            {"alias": "b", "tenantId": FABRIKAM},
            {"alias": "c", "tenantId": support::TAILSPIN, "role": "member"},
        ],
        "sync": [
            {"from": "a", "to": "b", "scope": {"users": ["x@a.example"]}},
            {"from": "c", "to": "a", "scope": {"users": ["y@c.example"]}},
        ],
        "collaboration": {"overrides": [
            {"between": ["b", "c"], "settings": {}},
            {"tenant": "a", "partner": "b", "settings": {}},
        ]},
    });
    let removal = support::remove_member(&spec).expect("c is a member");
    assert_eq!(
        (removal.alias.as_str(), removal.tenant_id.as_str()),
        ("c", support::TAILSPIN)
    );
    assert_eq!(
        removal.spec["prune"],
        json!(["members", "partnerConfigurations", "identitySyncPolicies"])
    );
    assert_eq!(removal.syncs.len(), 1);
    assert_eq!(support::syncs(&removal.spec).len(), 1);
    let overrides = removal.spec["collaboration"]["overrides"]
        .as_array()
        .expect("kept");
    assert_eq!(overrides.len(), 1, "{overrides:?}");
}

#[test]
fn relative_credential_paths_are_rebased_on_the_original_spec() {
    let mut spec = json!({
        "organization": {"displayName": "X"},
        "tenants": [
            {"alias": "a", "auth": {"certificate": {"path": "certs/a.pem"}}},
            {"alias": "b", "auth": {"workloadIdentity": {"tokenFile": "/abs/token"}}},
        ],
    });
    support::with_run_id(&mut spec, "acc-1-2", Path::new("/specs"));
    assert_eq!(
        spec["tenants"][0]["auth"]["certificate"]["path"],
        "/specs/certs/a.pem"
    );
    assert_eq!(
        spec["tenants"][1]["auth"]["workloadIdentity"]["tokenFile"],
        "/abs/token"
    );
    assert!(spec["tenants"][1]["auth"].get("certificate").is_none());
}
