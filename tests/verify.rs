//! The per-user verdict against the emulator, through the binary: after the quickstart
//! converges, `sync now` provisions a user at once and `status --all-users` then shows every
//! synced user with every check passing, the counts agreeing with the list; a provisioned user
//! drifted through the emulator's admin API is reported with what a person would notice; and
//! `apply --verify` checks the first user of each sync after an apply.

mod common;

use common::harden::Scenario;
use common::{CONTOSO, FABRIKAM, Run, keys_not_in_snake_case};
use mtoctl_graph::transport::{ClientConfig, GraphRequest};
use serde_json::{Value, json};

const SPEC: &str = "examples/quickstart/mto.yaml";
const FRANK: &str = "frank@contoso.onmicrosoft.com";
const EVERY_CHECK: [&str; 6] = [
    "exists",
    "user_type",
    "identity",
    "show_in_address_list",
    "account_enabled",
    "user_principal_name",
];

fn document(run: &Run) -> Value {
    let v: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("--format json: {e}\n{}\n{}", run.stdout, run.stderr));
    // The JSON convention (docs/json-output.md): snake_case keys at every depth, a version.
    let bad = keys_not_in_snake_case(&v);
    assert!(bad.is_empty(), "keys not in snake_case: {bad:?}");
    assert!(v["format_version"].is_string(), "{v}");
    v
}

/// `mtoctl ARGS` against the world: its exit code checked, its JSON document read.
async fn json_run(world: &Scenario, args: &[&str], code: i32) -> Value {
    let run = world.run(args).await;
    assert_eq!(run.code, code, "{}\n{}", run.stdout, run.stderr);
    document(&run)
}

/// The users of a sync of a status or `sync now` document, checked to agree with the counts.
fn users(sync: &Value) -> &Vec<Value> {
    let users = sync["users"].as_array().expect("users");
    let counts = &sync["user_counts"];
    assert_eq!(counts["in_scope"], users.len(), "{sync:#}");
    let provisioned = users.iter().filter(|u| u["target"].is_string()).count();
    assert_eq!(counts["provisioned"], provisioned, "{sync:#}");
    let failing = users.iter().filter(|u| u["health"] != "healthy").count();
    assert_eq!(counts["failing"], failing, "{sync:#}");
    assert_eq!(
        counts["out_of_scope"],
        sync["out_of_scope"].as_array().expect("out_of_scope").len()
    );
    users
}

fn user<'a>(sync: &'a Value, source: &str) -> &'a Value {
    users(sync)
        .iter()
        .find(|u| u["source"] == source)
        .unwrap_or_else(|| panic!("{source} in {sync:#}"))
}

/// Every check of `user` passed.
fn passes_every_check(user: &Value) {
    assert_eq!(user["health"], "healthy", "{user:#}");
    let checks: Vec<(&str, &str)> = user["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .map(|c| {
            (
                c["check"].as_str().expect("check"),
                c["outcome"].as_str().expect("outcome"),
            )
        })
        .collect();
    assert_eq!(checks, EVERY_CHECK.map(|c| (c, "passed")), "{user:#}");
}

/// The one failed check of `user`.
fn failed(user: &Value) -> &Value {
    let failed: Vec<&Value> = user["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["outcome"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1, "{user:#}");
    failed[0]
}

async fn converged() -> Scenario {
    let world = Scenario::quickstart(Default::default()).await;
    world.converge(6).await;
    // One more sync cycle, so both jobs have run since their last change.
    world.advance(3600).await;
    world
}

/// The object id of a group of a tenant, through Graph.
async fn group_id(world: &Scenario, tenant: &str, name: &str) -> String {
    let (_, client) = world.client(ClientConfig::default());
    let filter = mtoctl_graph::wire::encode_query_value(&format!("displayName eq '{name}'"));
    let answer = client
        .send(
            tenant,
            &GraphRequest::get(format!("/groups?$filter={filter}&$select=id")),
        )
        .await
        .expect("groups");
    answer.body["value"][0]["id"]
        .as_str()
        .expect("an id")
        .to_owned()
}

/// An administrator's out-of-band change to a user (the emulator's admin API).
async fn drift(world: &Scenario, tenant: &str, upn: &str, body: Value) {
    let user = upn.replace('#', "%23");
    world
        .admin(
            reqwest::Method::PATCH,
            &format!("/_emulator/tenants/{tenant}/users/{user}"),
            Some(body),
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_now_provisions_at_once_and_status_all_users_shows_every_user_passing() {
    let world = converged().await;
    // Frank joins Contoso Sales, a group in the scope; the next cycle is 40 minutes away.
    let sales = group_id(&world, "contoso", "Contoso Sales").await;
    world
        .admin(
            reqwest::Method::POST,
            &format!("/_emulator/tenants/{CONTOSO}/groups/{sales}/members"),
            Some(json!({"member": FRANK})),
        )
        .await;

    // status --all-users: frank is in scope and not in fabrikam yet, listed first, and the
    // counts are the list's.
    let v = json_run(
        &world,
        &["status", "-f", SPEC, "--all-users", "--format", "json"],
        3,
    )
    .await;
    let to_fabrikam = &v["syncs"][0];
    assert_eq!(to_fabrikam["user_counts"]["coverage"], "all");
    assert_eq!(to_fabrikam["user_counts"]["in_scope"], 4);
    assert_eq!(to_fabrikam["user_counts"]["provisioned"], 3);
    assert_eq!(to_fabrikam["user_counts"]["failing"], 1);
    let first = &users(to_fabrikam)[0];
    assert_eq!(first["source"], FRANK);
    assert_eq!(first["health"], "waiting");
    assert_eq!(failed(first)["check"], "exists");
    assert!(
        failed(first)["fix"]
            .as_str()
            .is_some_and(|f| f.contains(&format!("mtoctl sync now -f SPEC --user {FRANK}"))),
        "{first:#}"
    );
    let text = world.run(&["status", "-f", SPEC, "--all-users"]).await;
    assert!(
        text.stdout
            .contains("users, all of them: 4 in scope, 3 provisioned in fabrikam, 1 failing"),
        "{}",
        text.stdout
    );
    let frank_line = text.stdout.find("(from frank@").expect("frank listed");
    let alice_line = text.stdout.find("(from alice@").expect("alice listed");
    assert!(
        frank_line < alice_line,
        "failing users first:\n{}",
        text.stdout
    );

    // sync now provisions frank at once and checks his copy.
    let v = json_run(
        &world,
        &[
            "sync", "now", "-f", SPEC, "--user", FRANK, "--format", "json",
        ],
        0,
    )
    .await;
    assert_eq!(v["format_version"], "1.0");
    assert_eq!(v["health"], "healthy");
    let syncs = v["syncs"].as_array().expect("syncs");
    assert_eq!(syncs.len(), 1, "only contoso's sync has frank: {v:#}");
    assert_eq!(syncs[0]["user_counts"]["coverage"], "named");
    let frank = user(&syncs[0], FRANK);
    passes_every_check(frank);
    assert_eq!(
        frank["target"],
        "frank_contoso.onmicrosoft.com#EXT#@fabrikam.onmicrosoft.com"
    );

    // status --all-users: every synced user of both directions, every check passing.
    let v = json_run(
        &world,
        &["status", "-f", SPEC, "--all-users", "--format", "json"],
        0,
    )
    .await;
    assert_eq!(v["format_version"], "1.2");
    let mut checked = Vec::new();
    for sync in v["syncs"].as_array().expect("syncs") {
        assert_eq!(sync["health"], "healthy", "{sync:#}");
        assert_eq!(sync["user_counts"]["coverage"], "all");
        assert_eq!(sync["user_counts"]["truncated"], false);
        for u in users(sync) {
            passes_every_check(u);
            checked.push(u["source"].as_str().expect("source").to_owned());
        }
    }
    checked.sort();
    assert_eq!(
        checked,
        [
            "alice@contoso.onmicrosoft.com",
            "bob@contoso.onmicrosoft.com",
            "carol@fabrikam.onmicrosoft.com",
            "dan@fabrikam.onmicrosoft.com",
            "erin@contoso.onmicrosoft.com",
            FRANK,
            "ivan@fabrikam.onmicrosoft.com",
        ]
    );

    // Without --user: the first user in scope of each sync.
    world.advance(60).await;
    let v = json_run(&world, &["sync", "now", "-f", SPEC, "--format", "json"], 0).await;
    let picked: Vec<(&str, &str)> = v["syncs"]
        .as_array()
        .expect("syncs")
        .iter()
        .map(|s| {
            assert_eq!(s["user_counts"]["coverage"], "first");
            (
                s["from"].as_str().expect("from"),
                users(s)[0]["source"].as_str().expect("source"),
            )
        })
        .collect();
    assert_eq!(
        picked,
        [
            ("contoso", "alice@contoso.onmicrosoft.com"),
            ("fabrikam", "carol@fabrikam.onmicrosoft.com")
        ]
    );

    // A user no source tenant has is a usage error.
    let nobody = world
        .run(&[
            "sync",
            "now",
            "-f",
            SPEC,
            "--user",
            "nobody@contoso.onmicrosoft.com",
        ])
        .await;
    assert_eq!(nobody.code, 1, "{}\n{}", nobody.stdout, nobody.stderr);
    assert!(
        nobody.stderr.contains("nobody@contoso.onmicrosoft.com"),
        "{}",
        nobody.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drifted_users_are_reported_with_what_people_notice_and_sync_now_mends_what_it_can() {
    let world = converged().await;
    let copy = |user: &str, home: &str, domain: &str| format!("{user}_{home}#EXT#@{domain}");
    let alice = copy(
        "alice",
        "contoso.onmicrosoft.com",
        "fabrikam.onmicrosoft.com",
    );
    let bob = copy("bob", "contoso.onmicrosoft.com", "fabrikam.onmicrosoft.com");
    let erin = copy(
        "erin",
        "contoso.onmicrosoft.com",
        "fabrikam.onmicrosoft.com",
    );
    let carol = copy(
        "carol",
        "fabrikam.onmicrosoft.com",
        "contoso.onmicrosoft.com",
    );
    // Fabrikam's admin makes alice a guest, hides bob and blocks erin; Contoso's admin ties
    // carol's copy to an email one-time passcode instead of her Fabrikam account.
    drift(&world, FABRIKAM, &alice, json!({"userType": "Guest"})).await;
    drift(&world, FABRIKAM, &bob, json!({"showInAddressList": false})).await;
    drift(&world, FABRIKAM, &erin, json!({"accountEnabled": false})).await;
    drift(
        &world,
        CONTOSO,
        &carol,
        json!({"identities": [{"signInType": "emailAddress", "issuer": "mail", "issuerAssignedId": "carol@fabrikam.onmicrosoft.com"}]}),
    )
    .await;

    let v = json_run(
        &world,
        &["status", "-f", SPEC, "--all-users", "--format", "json"],
        4,
    )
    .await;
    assert_eq!(v["health"], "broken");
    let (to_fabrikam, to_contoso) = (&v["syncs"][0], &v["syncs"][1]);
    assert_eq!(to_fabrikam["user_counts"]["failing"], 3);
    assert_eq!(to_contoso["user_counts"]["failing"], 1);
    let noticed = |sync: &Value, source: &str, check: &str| -> String {
        let u = user(sync, source);
        assert_eq!(u["health"], "broken", "{u:#}");
        let c = failed(u);
        assert_eq!(c["check"], check, "{u:#}");
        assert!(c["fix"].is_string(), "{c:#}");
        c["consequence"].as_str().expect("a consequence").to_owned()
    };
    assert!(
        noticed(to_fabrikam, "alice@contoso.onmicrosoft.com", "user_type")
            .starts_with("shown as External (a guest) in Teams and Outlook")
    );
    assert!(
        noticed(
            to_fabrikam,
            "bob@contoso.onmicrosoft.com",
            "show_in_address_list"
        )
        .starts_with("not found in the Outlook and Teams directory search of fabrikam")
    );
    assert_eq!(
        noticed(
            to_fabrikam,
            "erin@contoso.onmicrosoft.com",
            "account_enabled"
        ),
        "cannot sign in to fabrikam: their account there is disabled"
    );
    assert!(
        noticed(to_contoso, "carol@fabrikam.onmicrosoft.com", "identity")
            .starts_with("cannot sign in to contoso with their fabrikam account")
    );
    // The direction's findings say it in one line each, for summaries.
    let findings: Vec<&str> = to_fabrikam["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        findings.iter().any(|f| f.starts_with(&format!(
            "{alice} was provisioned as Guest, the spec says Member: shown as External"
        ))),
        "{findings:#?}"
    );
    // Failing users come first in the text, with what to do.
    let text = world.run(&["status", "-f", SPEC, "--all-users"]).await;
    assert_eq!(text.code, 4);
    let broken = text
        .stdout
        .find(&format!("BROKEN  {alice}"))
        .expect("alice broken");
    let ok = text
        .stdout
        .find("ok      dan_fabrikam")
        .or_else(|| text.stdout.find("ok      "))
        .expect("an ok line");
    assert!(text.stdout.contains("to fix: "), "{}", text.stdout);
    assert!(
        broken < text.stdout.rfind("ok      ").unwrap_or(ok),
        "{}",
        text.stdout
    );

    // sync now provisions the four again: userType, the address list and sign-in flow from
    // the source and are mended; a copy tied to another identity is not.
    let v = json_run(
        &world,
        &[
            "sync",
            "now",
            "-f",
            SPEC,
            "--user",
            "alice@contoso.onmicrosoft.com",
            "--user",
            "bob@contoso.onmicrosoft.com",
            "--user",
            "erin@contoso.onmicrosoft.com",
            "--user",
            "carol@fabrikam.onmicrosoft.com",
            "--format",
            "json",
        ],
        4,
    )
    .await;
    let to_fabrikam = &v["syncs"][0];
    for source in [
        "alice@contoso.onmicrosoft.com",
        "bob@contoso.onmicrosoft.com",
        "erin@contoso.onmicrosoft.com",
    ] {
        passes_every_check(user(to_fabrikam, source));
    }
    let carol = user(&v["syncs"][1], "carol@fabrikam.onmicrosoft.com");
    assert_eq!(failed(carol)["check"], "identity");
    assert!(
        failed(carol)["fix"]
            .as_str()
            .is_some_and(|f| f.starts_with("sync does not re-link an existing account")),
        "{carol:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_verify_checks_the_first_user_of_each_sync() {
    let world = converged().await;
    let run = world
        .run(&["apply", "-f", SPEC, "--auto-approve", "--verify"])
        .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("Verification (mtoctl sync now, the first user in scope of each sync):"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "ok      carol_fabrikam.onmicrosoft.com#EXT#@contoso.onmicrosoft.com  Member  (from carol@fabrikam.onmicrosoft.com)"
        ),
        "{}",
        run.stdout
    );

    // Carol's copy is tied to another identity, which provisioning does not mend: the
    // verification fails, and so does apply.
    world.advance(60).await;
    drift(
        &world,
        CONTOSO,
        "carol_fabrikam.onmicrosoft.com#EXT#@contoso.onmicrosoft.com",
        json!({"identities": [{"signInType": "emailAddress", "issuer": "mail", "issuerAssignedId": "carol@fabrikam.onmicrosoft.com"}]}),
    )
    .await;
    let v = json_run(
        &world,
        &[
            "apply",
            "-f",
            SPEC,
            "--auto-approve",
            "--verify",
            "--format",
            "json",
        ],
        1,
    )
    .await;
    assert_eq!(v["format_version"], "1.1");
    assert_eq!(v["outcome"], "applied");
    assert_eq!(v["verify"]["health"], "broken");
    let carol = user(&v["verify"]["syncs"][1], "carol@fabrikam.onmicrosoft.com");
    assert_eq!(failed(carol)["check"], "identity");

    // Without --verify, apply does not look.
    let plain = world.run(&["apply", "-f", SPEC, "--auto-approve"]).await;
    assert_eq!(plain.code, 0, "{}\n{}", plain.stdout, plain.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_users_reads_every_page_of_a_large_group_and_counts_exactly() {
    // Contoso Sales with 1,100 more members: two pages of members (Graph's pages hold at most
    // 999), 74 `in` lookups of copies in fabrikam.
    const MORE: usize = 1100;
    let text =
        std::fs::read_to_string(common::repo("examples/quickstart/world.yaml")).expect("world");
    let more_users: String = (0..MORE)
        .map(|i| format!("      - userPrincipalName: s{i:04}@contoso.onmicrosoft.com\n        department: Sales\n"))
        .collect();
    let members: String = (0..MORE)
        .map(|i| format!(", s{i:04}@contoso.onmicrosoft.com"))
        .collect();
    let world = text
        .replacen("    users:\n", &format!("    users:\n{more_users}"), 1)
        .replace(
            "members: [alice@contoso.onmicrosoft.com, erin@contoso.onmicrosoft.com]",
            &format!(
                "members: [alice@contoso.onmicrosoft.com, erin@contoso.onmicrosoft.com{members}]"
            ),
        );
    let world = Scenario::quickstart_in(&world, Default::default()).await;
    world.converge(6).await;
    world.advance(3600).await;

    let v = json_run(
        &world,
        &["status", "-f", SPEC, "--all-users", "--format", "json"],
        0,
    )
    .await;
    let to_fabrikam = &v["syncs"][0];
    // alice and bob by name, erin and the 1,100 through Contoso Sales.
    assert_eq!(to_fabrikam["user_counts"]["in_scope"], 3 + MORE);
    assert_eq!(to_fabrikam["user_counts"]["provisioned"], 3 + MORE);
    assert_eq!(to_fabrikam["user_counts"]["truncated"], false);
    assert_eq!(to_fabrikam["in_scope"], 3 + MORE, "Entra's count agrees");
    assert_eq!(users(to_fabrikam).len(), 3 + MORE);

    // By default, a sample of five: said so, and counted as such.
    let sample = world.run(&["status", "-f", SPEC, "--format", "json"]).await;
    let v = document(&sample);
    assert_eq!(v["syncs"][0]["user_counts"]["coverage"], "sample");
    assert_eq!(v["syncs"][0]["user_counts"]["in_scope"], 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_the_scoping_filter_leaves_out_are_set_apart_and_the_counts_agree_with_entra() {
    let world = Scenario::quickstart(Default::default()).await;
    let dir = common::scratch("verify-filter");
    let spec = dir.join("mto.yaml");
    let text = std::fs::read_to_string(common::repo(SPEC)).expect("spec");
    std::fs::write(
        &spec,
        text.replacen(
            "        - Contoso Sales\n",
            "        - Contoso Sales\n      filter:\n        anyOf:\n          - name: Sales only\n            allOf:\n              - {attribute: department, operator: equals, values: [Sales]}\n",
            1,
        ),
    )
    .expect("write");
    let spec = spec.to_str().expect("utf-8");
    for _ in 0..6 {
        let run = world.run(&["apply", "-f", spec, "--auto-approve"]).await;
        assert!(
            run.code == 0 || run.code == 3,
            "{}\n{}",
            run.stdout,
            run.stderr
        );
        world.advance(5 * 3600).await;
        if world
            .run(&["plan", "-f", spec, "--detailed-exitcode"])
            .await
            .code
            == 0
        {
            break;
        }
    }
    world.advance(3600).await;

    let v = json_run(
        &world,
        &["status", "-f", spec, "--all-users", "--format", "json"],
        0,
    )
    .await;
    let to_fabrikam = &v["syncs"][0];
    // bob is assigned by name but works in Engineering: not in scope, and not failing.
    let sources: Vec<&str> = users(to_fabrikam)
        .iter()
        .filter_map(|u| u["source"].as_str())
        .collect();
    assert_eq!(
        sources,
        [
            "alice@contoso.onmicrosoft.com",
            "erin@contoso.onmicrosoft.com"
        ]
    );
    let out = &to_fabrikam["out_of_scope"][0];
    assert_eq!(out["source"], "bob@contoso.onmicrosoft.com");
    assert_eq!(out["reason"], "does not match the spec's scoping filter");
    // mtoctl's count of the users in scope is Entra's.
    assert_eq!(
        to_fabrikam["in_scope"],
        to_fabrikam["user_counts"]["in_scope"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
