//! `/users?$filter=userPrincipalName in (...)` and `id in`/`eq` lookups: the
//! indexed fast path gives exactly what the generic filter gives (property
//! test), new users are found right after they appear (drift API, sync
//! cycle), and an ignored timing harness over a 100,000-user tenant.

mod common;

use std::time::Instant;

use common::*;
use mtoctl_emulator::core::Core;
use mtoctl_emulator::graph::{Body, Ctx, GraphRequest};
use mtoctl_emulator::http::{Trace, execute};
use mtoctl_emulator::ids::Rng;
use mtoctl_emulator::odata::percent_encode;
use mtoctl_emulator::state::User;
use mtoctl_emulator::world::WorldFile;
use mtoctl_emulator::{Emulator, Options};
use proptest::prelude::*;
use serde_json::{Value, json};

/// A caller of tenant A with `User.Read.All`, served in-process.
fn ctx() -> Ctx {
    Ctx {
        tenant: A.to_owned(),
        app_id: A_APP.to_owned(),
        roles: vec!["User.Read.All".to_owned()],
        version: "v1.0".to_owned(),
        base_url: "http://127.0.0.1:1/v1.0".to_owned(),
    }
}

fn trace() -> Trace {
    Trace {
        request_id: "r".to_owned(),
        client_request_id: "c".to_owned(),
        date: "2026-01-01T00:00:00".to_owned(),
    }
}

/// `GET /users?<query>` through the same path as a top-level request or a
/// `$batch` item (faults, throttling, dispatch).
fn get_users(core: &mut Core, query: &[(&str, &str)], eventual: bool) -> (u16, Value) {
    let headers = if eventual {
        vec![("consistencylevel".to_owned(), "eventual".to_owned())]
    } else {
        Vec::new()
    };
    let req = GraphRequest {
        method: "GET".to_owned(),
        segments: vec!["users".to_owned()],
        query: query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        raw_query: query
            .iter()
            .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
            .collect::<Vec<_>>()
            .join("&"),
        headers,
        body: None,
    };
    let r = execute(core, &ctx(), &req, &trace());
    let body = match &r.body {
        Body::Text(t) => Value::String(t.clone()),
        other => other
            .to_value()
            .map(|v| v.into_owned())
            .unwrap_or(Value::Null),
    };
    (r.status, body)
}

/// A user as the world loader makes it (only the fields lookups read matter).
fn user(id: String, upn: String, now: i64) -> User {
    User {
        display_name: upn.clone(),
        mail: Some(upn.clone()),
        user_principal_name: upn,
        id,
        given_name: None,
        surname: None,
        department: None,
        job_title: None,
        user_type: "Member".to_owned(),
        account_enabled: true,
        show_in_address_list: None,
        created_ms: now,
        deleted_ms: None,
        external: None,
        changed_seq: 0,
        identities: None,
        profile: Default::default(),
    }
}

/// Timing harness, not a test: `cargo test --release -p mtoctl-emulator --test
/// user_lookup -- --ignored --nocapture lookup_timing`. Prints, asserts no time.
#[test]
#[ignore]
#[allow(clippy::print_stdout)] // a harness that reports numbers, run by hand
fn lookup_timing() {
    const USERS: usize = 100_000;
    let world = WorldFile::parse(WORLD).expect("world parses");
    let emu = Emulator::from_world(world, Options::default()).expect("world loads");
    let mut core = emu.lock();
    let now = core.now();
    let started = Instant::now();
    {
        let t = core.state.tenants.get_mut(A).expect("tenant A");
        // Pushed directly: the world loader's duplicate check is quadratic.
        for i in 0..USERS {
            let id = format!("{i:08x}-0000-4000-8000-000000000000");
            let mut u = user(id, format!("user{i}@contoso.onmicrosoft.com"), now);
            u.changed_seq = t.next_seq();
            t.users.push(u);
        }
    }
    println!("built {USERS} users in {:?}", started.elapsed());
    let upns: Vec<String> = (0..15)
        .map(|k| format!("'USER{}@contoso.onmicrosoft.com'", k * 6_661 + 7))
        .collect();
    let filter = format!("userPrincipalName in ({})", upns.join(","));
    let query = [
        ("$filter", filter.as_str()),
        ("$select", "id,userPrincipalName"),
    ];
    let first = Instant::now();
    let (status, body) = get_users(&mut core, &query, false);
    let first = first.elapsed();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["value"].as_array().map(Vec::len), Some(15));
    const RUNS: u32 = 20;
    let started = Instant::now();
    for _ in 0..RUNS {
        get_users(&mut core, &query, false);
    }
    println!(
        "users in (15 UPNs) over {USERS} users: first call {first:?}, then {:?} per call ({RUNS} calls)",
        started.elapsed() / RUNS
    );
    let id_filter = "id eq '00000007-0000-4000-8000-000000000000'";
    let started = Instant::now();
    for _ in 0..RUNS {
        get_users(&mut core, &[("$filter", id_filter)], false);
    }
    println!(
        "users id eq over {USERS} users: {:?} per call",
        started.elapsed() / RUNS
    );
    // A change anywhere in the tenant's users (here: a new change sequence
    // number) makes the next lookup rebuild the index first.
    let mut rebuilt = std::time::Duration::ZERO;
    for _ in 0..5 {
        core.state.tenants.get_mut(A).expect("tenant A").next_seq();
        let started = Instant::now();
        get_users(&mut core, &query, false);
        rebuilt += started.elapsed();
    }
    println!(
        "users in (15 UPNs) right after a change: {:?} per call",
        rebuilt / 5
    );
}

fn pick<'a, T>(rng: &mut Rng, items: &'a [T]) -> &'a T {
    &items[(rng.next_u64() % items.len() as u64) as usize]
}

fn coin(rng: &mut Rng, one_in: u64) -> bool {
    rng.next_u64().is_multiple_of(one_in)
}

/// `s` with each ASCII letter upper-cased at random.
fn mangle_case(rng: &mut Rng, s: &str) -> String {
    s.chars()
        .map(|c| {
            if coin(rng, 2) {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

/// An emulator whose tenant A also holds random users (see [`add_random_users`]), and the
/// guard that checks its exchanges against Graph's contract.
fn random_tenant(rng: &mut Rng) -> (contract::CheckedOnDrop, Emulator) {
    let (contract, options) = contract::checked(Options::default());
    let world = WorldFile::parse(WORLD).expect("world parses");
    let emu = Emulator::from_world(world, options).expect("world loads");
    {
        let mut core = emu.lock();
        core.state.timings.advanced_query_lag = 60.0;
        core.advance(300.0);
        add_random_users(&mut core, rng);
    }
    (contract, emu)
}

/// Up to 30 users in tenant A: duplicates of one UPN in different cases,
/// soft-deleted ones, and ones created or deleted within the advanced-query
/// lag (60 s). Each change takes a change sequence number, like every
/// handler that adds or changes a user.
fn add_random_users(core: &mut Core, rng: &mut Rng) {
    let now = core.now();
    let n = 1 + rng.next_u64() % 30;
    let guids: Vec<String> = (0..n).map(|_| rng.guid()).collect();
    let t = core.state.tenants.get_mut(A).expect("tenant A");
    for id in guids {
        let k = rng.next_u64() % (n / 2 + 1);
        let upn = mangle_case(rng, &format!("p{k}@contoso.onmicrosoft.com"));
        let mut u = user(id, upn, now - (rng.next_u64() % 120_000) as i64);
        if coin(rng, 4) {
            u.deleted_ms = Some(now - (rng.next_u64() % 120_000) as i64);
        }
        u.changed_seq = t.next_seq();
        t.users.push(u);
    }
    // Soft-delete an earlier user, as the drift API and deprovisioning do.
    let i = (rng.next_u64() % t.users.len() as u64) as usize;
    if t.users[i].deleted_ms.is_none() {
        let seq = t.next_seq();
        t.users[i].deleted_ms = Some(now);
        t.users[i].changed_seq = seq;
    }
}

/// A random `id`/`userPrincipalName` `eq`/`in` filter over values of users
/// that exist (in any case), that are missing, and now and then a literal
/// that is not a string.
fn random_lookup(rng: &mut Rng, users: &[User]) -> String {
    let by_id = coin(rng, 2);
    let prop = if by_id { "id" } else { "userPrincipalName" };
    let count = 1 + rng.next_u64() % 15;
    let values: Vec<String> = (0..count)
        .map(|_| {
            let u = pick(rng, users);
            match rng.next_u64() % 8 {
                0 => format!("'nobody{}@contoso.onmicrosoft.com'", rng.next_u64() % 5),
                1 => format!("'{}'", rng.guid()),
                2 => "null".to_owned(),
                3 if by_id => mangle_case(rng, &u.id),
                _ if by_id => format!("'{}'", mangle_case(rng, &u.id)),
                _ => format!("'{}'", mangle_case(rng, &u.user_principal_name)),
            }
        })
        .collect();
    let prop = mangle_case(rng, prop);
    if count == 1 && coin(rng, 2) {
        format!("{prop} eq {}", values[0])
    } else {
        format!("{prop} in ({})", values.join(", "))
    }
}

/// Swap the fast filter's encoding in a nextLink for the generic one's, the
/// only place where the two requests' answers may differ.
fn normalise_next_link(body: &mut Value, fast: &str, generic: &str) {
    if let Some(Value::String(link)) = body.get_mut("@odata.nextLink") {
        *link = link.replace(&percent_encode(fast), &percent_encode(generic));
    }
}

fn skiptoken(body: &Value) -> Option<String> {
    let link = body.get("@odata.nextLink")?.as_str()?;
    let (_, token) = link.split_once("$skiptoken=")?;
    Some(token.to_owned())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// The indexed lookup answers exactly what the generic filter answers:
    /// the same users in the same order, the same projection, count, paging
    /// and errors. `(<lookup>) or startswith(userPrincipalName,'~')` means
    /// the same (no UPN starts with `~`) but is not a plain lookup, so it
    /// goes through the generic scan (directory.rs's unit test pins that).
    #[test]
    fn indexed_lookup_matches_the_generic_filter(seed in any::<u64>()) {
        let mut rng = Rng::new(seed);
        let (_contract, emu) = random_tenant(&mut rng);
        let mut core = emu.lock();
        // Round 1 builds the index; round 2 runs after more users came and went.
        for round in 0..2 {
        if round == 1 {
            add_random_users(&mut core, &mut rng);
        }
        let users = core.state.tenants[A].users.clone();
        let fast = random_lookup(&mut rng, &users);
        let generic = format!("({fast}) or startswith(userPrincipalName,'~')");
        let select = pick(&mut rng, &[None, Some("id,userPrincipalName"), Some("displayName,ID"), Some("userType")]).map(str::to_owned);
        let top = (!coin(&mut rng, 3)).then(|| (1 + rng.next_u64() % 4).to_string());
        let eventual = coin(&mut rng, 2);
        let count = coin(&mut rng, 2);
        let run = |core: &mut Core, filter: &str, token: Option<&str>| {
            let mut q: Vec<(&str, &str)> = vec![("$filter", filter)];
            if let Some(s) = &select { q.push(("$select", s)); }
            if let Some(t) = &top { q.push(("$top", t)); }
            if count { q.push(("$count", "true")); }
            if let Some(t) = token { q.push(("$skiptoken", t)); }
            get_users(core, &q, eventual)
        };
        let (fast_status, mut fast_body) = run(&mut core, &fast, None);
        let (generic_status, generic_body) = run(&mut core, &generic, None);
        normalise_next_link(&mut fast_body, &fast, &generic);
        prop_assert_eq!(fast_status, generic_status, "{}", fast);
        prop_assert_eq!(fast_body.to_string(), generic_body.to_string(), "{}", fast);
        if let Some(token) = skiptoken(&generic_body) {
            let (fast_status, mut fast_body) = run(&mut core, &fast, Some(&token));
            let (generic_status, generic_body) = run(&mut core, &generic, Some(&token));
            normalise_next_link(&mut fast_body, &fast, &generic);
            prop_assert_eq!(fast_status, generic_status, "page 2 of {}", fast);
            prop_assert_eq!(fast_body.to_string(), generic_body.to_string(), "page 2 of {}", fast);
        }
        }
    }
}

#[test]
fn more_than_fifteen_values_is_the_same_error() {
    let (_contract, emu) = random_tenant(&mut Rng::new(7));
    let mut core = emu.lock();
    let values: Vec<String> = (0..16).map(|i| format!("'u{i}@x.com'")).collect();
    let filter = format!("userPrincipalName in ({})", values.join(","));
    let (status, body) = get_users(&mut core, &[("$filter", &filter)], false);
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "BadRequest");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("too many values in 'in' (max 15)")),
        "{body}"
    );
}

fn lookup_path(prop: &str, value: &str) -> String {
    format!(
        "/users?$filter={}&$select=id,userPrincipalName",
        enc(&format!("{prop} in ('{value}')"))
    )
}

/// Users added through the drift API are found by every indexed lookup right
/// after, and a deletion hides them again.
#[tokio::test]
async fn drift_created_user_is_found_at_once() {
    let env = start().await;
    let a = env.a().await;
    let upn = "zed@contoso.onmicrosoft.com";
    // Look up first, so an index exists that the creation must bring up to date.
    let r = env.get(&a, &lookup_path("userPrincipalName", upn)).await;
    assert_eq!(r.body["value"], json!([]), "{}", r.body);
    let r = env
        .admin(
            "POST",
            &format!("tenants/{A}/users"),
            Some(json!({"userPrincipalName": upn, "displayName": "Zed"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().expect("id").to_owned();
    let want = json!([{"id": id, "userPrincipalName": upn}]);
    let r = env
        .get(
            &a,
            &lookup_path("userPrincipalName", "ZED@contoso.onmicrosoft.com"),
        )
        .await;
    assert_eq!(r.body["value"], want, "by UPN");
    let r = env.get(&a, &lookup_path("id", &id.to_uppercase())).await;
    assert_eq!(r.body["value"], want, "by id");
    let r = env
        .get(&a, &format!("/users/{upn}?$select=displayName"))
        .await;
    assert_eq!(r.body["displayName"], "Zed", "{}", r.body);
    let r = env
        .call(
            &a,
            "POST",
            "/directoryObjects/getByIds",
            Some(json!({"ids": [id], "types": ["user"]})),
        )
        .await;
    assert_eq!(r.body["value"][0]["id"], json!(id), "{}", r.body);

    let r = env
        .admin("DELETE", &format!("tenants/{A}/users/{upn}"), None)
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = env.get(&a, &lookup_path("userPrincipalName", upn)).await;
    assert_eq!(r.body["value"], json!([]), "deleted: {}", r.body);
    assert_eq!(env.get(&a, &format!("/users/{upn}")).await.status, 404);
}

/// A `#EXT#` user created by a sync cycle in the target is found by the
/// indexed lookup right after the cycle.
#[tokio::test]
async fn sync_created_user_is_found_at_once() {
    let env = start().await;
    let (a, b) = (env.a().await, env.b().await);
    allow_sync(&env, &a, A, &b, B).await;
    let (sp, role, job) = configure(&env, &a, B).await;
    let alice = user_id(&env, &a, "alice@contoso.onmicrosoft.com").await;
    assert_eq!(assign(&env, &a, &sp, &role, &alice).await.status, 201);
    let start = format!("/servicePrincipals/{sp}/synchronization/jobs/{job}/start");
    assert_eq!(env.call(&a, "POST", &start, None).await.status, 204);
    let ext = "alice_contoso.onmicrosoft.com#EXT#@fabrikam.onmicrosoft.com";
    let path = lookup_path("userPrincipalName", &ext.to_uppercase());
    assert_eq!(env.get(&b, &path).await.body["value"], json!([]));
    env.advance(30.0).await;
    let r = env.get(&b, &path).await;
    let found = r.body["value"].as_array().expect("value");
    assert_eq!(found.len(), 1, "{}", r.body);
    assert_eq!(found[0]["userPrincipalName"], ext);
    let id = found[0]["id"].as_str().expect("id");
    let r = env.get(&b, &lookup_path("id", id)).await;
    assert_eq!(r.body["value"][0]["userPrincipalName"], ext, "{}", r.body);
}
