//! Hostile Graph JSON never panics the client, and a read mtoctl cannot decode is an error that
//! names the tenant and the object, never an absent object.
//!
//! The bounded, in-suite counterpart of the `graph_decode` fuzz target (fuzz/, see
//! docs/security.md): arbitrary JSON values and mutated real emulator responses (the fuzz seeds
//! in fuzz/seeds/graph_decode, captured from the emulator after the quickstart's apply) go
//! through every decoder of `mtoctl_graph::wire`; and `collect` runs against the quickstart
//! world through a proxy that mutates one `$batch` answer per run.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use mtoctl_graph::collect::collect;
use mtoctl_graph::transport::ClientConfig;
use mtoctl_graph::wire::{directory, mto, policy, sync};
use proptest::prelude::*;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use mtoctl_graph::fuzzing::decode_everything;

fn decode<T: serde::de::DeserializeOwned>(value: &Value) -> Option<T> {
    serde_json::from_value(value.clone()).ok()
}

/// The real responses the fuzz target is seeded with, by file name.
fn seeds() -> Vec<(String, Value)> {
    let dir = repo("fuzz/seeds/graph_decode");
    let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| {
            let text = std::fs::read(e.path()).expect("seed");
            let value = serde_json::from_slice(&text).expect("seeds are JSON");
            (e.file_name().to_string_lossy().into_owned(), value)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(out.len() >= 10, "seeds missing in {}", dir.display());
    out
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|n| json!(n)),
        "[ -~]{0,12}".prop_map(Value::String),
        Just(json!("00000000-0000-0000-0000-000000000000")),
        Just(json!("6babcaad-604b-40ac-a9d7-9fd97c0b779f")),
        Just(json!("6BABCAAD-604B-40AC-A9D7-9FD97C0B779F")),
        Just(json!("{6babcaad-604b-40ac-a9d7-9fd97c0b779f}")),
        Just(json!("User")),
        Just(json!("owner")),
        Just(json!("")),
        "\\PC{0,6}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Keys: Graph's own property names mostly, so decoders get past their first field.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "id",
            "value",
            "tenantId",
            "displayName",
            "role",
            "state",
            "addedByTenantId",
            "transitionDetails",
            "memberState",
            "userSyncInbound",
            "isSyncAllowed",
            "identitySynchronization",
            "inboundTrust",
            "automaticUserConsentSettings",
            "b2bCollaborationInbound",
            "usersAndGroups",
            "targets",
            "target",
            "accessType",
            "appRoles",
            "appId",
            "schedule",
            "status",
            "synchronizationRules",
            "objectMappings",
            "sourceObjectName",
            "attributeMappings",
            "scope",
            "groups",
            "clauses",
            "principalId",
            "appRoleId",
            "userPrincipalName",
            "userType",
            "@odata.nextLink",
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z]{1,8}",
    ]
}

/// A path of choices into a JSON value and what to do there.
#[derive(Debug, Clone)]
enum Mutation {
    Replace(Vec<u16>, Value),
    Remove(Vec<u16>),
    Stringify(Vec<u16>),
    WrapInArray(Vec<u16>),
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    let path = prop::collection::vec(any::<u16>(), 0..6);
    prop_oneof![
        (path.clone(), arb_json()).prop_map(|(p, v)| Mutation::Replace(p, v)),
        path.clone().prop_map(Mutation::Remove),
        path.clone().prop_map(Mutation::Stringify),
        path.prop_map(Mutation::WrapInArray),
    ]
}

/// The node the path leads to (each step picks a child modulo the number of children; the
/// walk stops at a leaf), with its parent and key for removals.
fn walk<'a>(value: &'a mut Value, path: &[u16]) -> &'a mut Value {
    let Some((&step, rest)) = path.split_first() else {
        return value;
    };
    let len = match &*value {
        Value::Array(items) => items.len(),
        Value::Object(map) => map.len(),
        _ => 0,
    };
    if len == 0 {
        return value;
    }
    let i = step as usize % len;
    match value {
        Value::Array(items) => walk(&mut items[i], rest),
        Value::Object(map) => walk(map.values_mut().nth(i).expect("in range"), rest),
        other => other,
    }
}

fn apply(value: &mut Value, mutation: &Mutation) {
    match mutation {
        Mutation::Replace(path, v) => *walk(value, path) = v.clone(),
        Mutation::Stringify(path) => {
            let node = walk(value, path);
            *node = Value::String(node.to_string());
        }
        Mutation::WrapInArray(path) => {
            let node = walk(value, path);
            *node = Value::Array(vec![node.take()]);
        }
        Mutation::Remove(path) => {
            let (last, parent) = match path.split_last() {
                Some((last, parent)) => (*last, parent),
                None => return,
            };
            match walk(value, parent) {
                Value::Object(map) if !map.is_empty() => {
                    let key = map
                        .keys()
                        .nth(last as usize % map.len())
                        .cloned()
                        .expect("in range");
                    map.remove(&key);
                }
                Value::Array(items) if !items.is_empty() => {
                    let i = last as usize % items.len();
                    items.remove(i);
                }
                _ => {}
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_never_panics_a_decoder(value in arb_json()) {
        decode_everything(&value);
        decode_everything(&json!({"value": [value.clone()]}));
    }

    #[test]
    fn mutated_real_responses_never_panic_a_decoder(
        pick in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(arb_mutation(), 1..4),
    ) {
        let seeds = seeds();
        let (_, mut value) = seeds[pick.index(seeds.len())].clone();
        for m in &mutations {
            apply(&mut value, m);
        }
        decode_everything(&value);
    }
}

proptest! {
    /// `Retry-After` comes from every answer, `$batch` items included: whatever its text, the
    /// wait it yields can be scheduled (the fuzz target found huge numbers that panicked).
    #[test]
    fn any_retry_after_yields_a_schedulable_wait(
        text in prop_oneof![
            "[0-9]{1,40}(\\.[0-9]{0,5})?",
            any::<f64>().prop_map(|f| f.to_string()),
            any::<u64>().prop_map(|n| n.to_string()),
            "\\PC{0,12}",
        ],
        attempt in 1u32..20,
        unit in 0.0f64..1.0,
    ) {
        use mtoctl_graph::transport::retry::{MAX_RETRY_AFTER, RetryPolicy, parse_retry_after};
        let after = parse_retry_after(Some(&text));
        prop_assert!(after.is_none_or(|a| a <= MAX_RETRY_AFTER));
        let delay = RetryPolicy::default().delay(attempt, after, unit);
        let _ = std::time::Instant::now() + delay;
    }
}

/// Unmutated, the seeds decode into what they are: the fixtures are real responses.
#[test]
fn the_seeds_decode_as_what_they_are() {
    let seeds: std::collections::BTreeMap<String, Value> = seeds().into_iter().collect();
    let items = |name: &str| seeds[name]["value"].as_array().expect("collection").clone();
    let org: mto::MultiTenantOrganization = decode(&seeds["mto.json"]).expect("mto");
    assert_eq!(org.state.as_deref(), Some("active"));
    for m in items("members.json") {
        decode::<mto::Member>(&m)
            .and_then(mto::Member::observe)
            .expect("member");
    }
    for p in items("partners-with-sync.json") {
        decode::<policy::Partner>(&p)
            .and_then(policy::Partner::observe)
            .expect("partner");
    }
    let sps: Vec<sync::ServicePrincipal> = items("service-principals.json")
        .iter()
        .map(|v| decode(v).expect("service principal"))
        .collect();
    assert!(sps.iter().any(|sp| sp.user_role_id().is_some()));
    let schema: sync::Schema = decode(&seeds["schema.json"]).expect("schema");
    let job: sync::Job = decode(&seeds["job.json"]).expect("job");
    let _ = job.observe(Some(schema));
    for a in items("assignments.json") {
        decode::<sync::Assignment>(&a)
            .and_then(sync::Assignment::observe)
            .expect("assignment");
    }
    for u in items("users.json") {
        decode::<directory::User>(&u)
            .and_then(directory::User::observe)
            .expect("user");
    }
}

// ---- collect through a mutating proxy ----

/// What the proxy does to the next `$batch` answers: mutate the body of the item at
/// `item % len` of every `$batch` from Contoso, and remember which URL that item had.
#[derive(Default)]
struct Control {
    mutation: Option<(usize, Vec<Mutation>)>,
    mutated: Vec<(String, u64)>,
}

/// A one-request-per-connection HTTP/1.1 proxy on 127.0.0.1 in front of the emulator.
async fn mutating_proxy(upstream: String, control: Arc<Mutex<Control>>) -> String {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("binds");
    let addr = listener.local_addr().expect("addr");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let (http, upstream, control) = (http.clone(), upstream.clone(), control.clone());
            tokio::spawn(async move {
                let _ = serve_one(socket, &http, &upstream, &control).await;
            });
        }
    });
    format!("http://{addr}")
}

async fn serve_one(
    mut socket: tokio::net::TcpStream,
    http: &reqwest::Client,
    upstream: &str,
    control: &Mutex<Control>,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or("GET").to_owned();
    let target = first.next().unwrap_or("/").to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[head_end..].to_vec();
    let mut request = http.request(
        method.parse().unwrap_or(reqwest::Method::GET),
        format!("{upstream}{target}"),
    );
    for (k, v) in &headers {
        if !["host", "content-length", "connection"].contains(&k.as_str()) {
            request = request.header(k, v);
        }
    }
    let response = request
        .body(body.clone())
        .send()
        .await
        .map_err(std::io::Error::other)?;
    let status = response.status().as_u16();
    let mut answer = response
        .bytes()
        .await
        .map_err(std::io::Error::other)?
        .to_vec();
    if target.ends_with("/$batch") {
        answer = mutate_batch(&body, &answer, &headers, control).unwrap_or(answer);
    }
    let head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        answer.len()
    );
    socket.write_all(head.as_bytes()).await?;
    socket.write_all(&answer).await?;
    socket.shutdown().await
}

fn mutate_batch(
    request: &[u8],
    answer: &[u8],
    headers: &[(String, String)],
    control: &Mutex<Control>,
) -> Option<Vec<u8>> {
    // Only Contoso's batches: its token's tenant is in the bearer token's claims, but the
    // request body is simpler: Contoso's spec scopes name contoso users.
    let _ = headers;
    let request: Value = serde_json::from_slice(request).ok()?;
    if !request.to_string().contains("contoso.onmicrosoft.com") {
        return None;
    }
    let mut answer: Value = serde_json::from_slice(answer).ok()?;
    let mut control = control.lock().unwrap_or_else(|e| e.into_inner());
    let (item, mutations) = control.mutation.clone()?;
    let responses = answer.get_mut("responses")?.as_array_mut()?;
    if responses.is_empty() {
        return None;
    }
    let at = item % responses.len();
    let chosen = &mut responses[at];
    let id = chosen.get("id")?.as_str()?.to_owned();
    let status = chosen.get("status")?.as_u64()?;
    let url = request["requests"]
        .as_array()?
        .iter()
        .find(|r| r["id"].as_str() == Some(id.as_str()))?["url"]
        .as_str()?
        .to_owned();
    let body = chosen.get_mut("body")?;
    for m in &mutations {
        apply(body, m);
    }
    control.mutated.push((url, status));
    serde_json::to_vec(&answer).ok()
}

/// What `collect` calls the object read from `url` (wave 1 of collect.rs).
fn label_of(url: &str) -> &'static str {
    let path = url.split('?').next().unwrap_or(url);
    match path {
        "/tenantRelationships/multiTenantOrganization" => "the multitenant organization",
        "/tenantRelationships/multiTenantOrganization/tenants" => "the organization's members",
        "/tenantRelationships/multiTenantOrganization/joinRequest" => "the join request",
        p if p.ends_with("multiTenantOrganizationPartnerConfiguration") => {
            "the partner configuration template"
        }
        p if p.ends_with("multiTenantOrganizationIdentitySynchronization") => {
            "the identity sync template"
        }
        "/policies/crossTenantAccessPolicy/partners" => "partner configurations",
        "/servicePrincipals" => "cross-tenant sync configurations",
        "/users" => "users named in sync scopes",
        "/groups" => "groups named in sync scopes",
        other => panic!("collect read an unexpected path {other}"),
    }
}

struct Harness {
    _world: World,
    runtime: tokio::runtime::Runtime,
    client: mtoctl_graph::transport::GraphClient,
    control: Arc<Mutex<Control>>,
}

impl Harness {
    fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let control = Arc::new(Mutex::new(Control::default()));
        let (world, client) = runtime.block_on(async {
            let world = quickstart_world(Default::default()).await;
            let proxy = mutating_proxy(world.base().to_owned(), control.clone()).await;
            let desired = quickstart_spec();
            let ctx = mtoctl_graph::auth::AuthContext {
                endpoints: mtoctl_graph::endpoints::Endpoints::new(Some(&proxy), Some(&proxy))
                    .expect("loopback"),
                env: Arc::new(quickstart_env()),
                spec_dir: repo("examples/quickstart"),
                http: mtoctl_graph::transport::http_client(std::time::Duration::from_secs(30))
                    .expect("an HTTP client"),
            };
            let mut builder = mtoctl_graph::transport::GraphClient::builder(
                ctx.http.clone(),
                ctx.endpoints.clone(),
                ClientConfig::default(),
            );
            for tenant in &desired.tenants {
                let credential =
                    mtoctl_graph::auth::credential_for(tenant, &ctx).expect("credential");
                builder = builder.tenant(tenant.alias.as_str(), credential);
            }
            (world, builder.build())
        });
        Self {
            _world: world,
            runtime,
            client,
            control,
        }
    }

    /// One collect with `mutations` applied to item `item` of Contoso's batches; checks the
    /// outcome and returns the URLs and statuses that were mutated.
    fn check(&self, item: usize, mutations: Vec<Mutation>) -> Vec<(String, u64)> {
        {
            let mut c = self.control.lock().unwrap_or_else(|e| e.into_inner());
            c.mutation = Some((item, mutations));
            c.mutated.clear();
        }
        let desired = quickstart_spec();
        let outcome = self.runtime.block_on(collect(&self.client, &desired));
        let mutated = std::mem::take(
            &mut self
                .control
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .mutated,
        );
        assert!(!mutated.is_empty(), "the proxy mutated nothing");
        if let Err(e) = outcome {
            let labels: Vec<&str> = mutated.iter().map(|(url, _)| label_of(url)).collect();
            for (what, error) in &e.failures {
                // Only Contoso's answers were touched, and every failure names one of them.
                assert!(
                    what.starts_with("tenant contoso: "),
                    "failure not named by tenant: {what}: {error}"
                );
                assert!(
                    labels.iter().any(|l| what.contains(l)) || what == "tenant contoso: the tenant",
                    "failure `{what}` names none of the mutated objects {labels:?}"
                );
                assert!(
                    error.to_string().contains("contoso"),
                    "error without its tenant: {error}"
                );
            }
            assert!(!e.to_string().is_empty());
        }
        mutated
    }
}

/// Each object of the first wave, replaced with something that is not what Graph returns,
/// makes collect fail with that object named, never read as absent.
#[test]
fn an_undecodable_answer_is_an_error_naming_the_tenant_and_the_object() {
    let harness = Harness::new();
    let mut checked = std::collections::BTreeSet::new();
    for item in 0..12 {
        let mutated = harness.check(item, vec![Mutation::Replace(vec![], json!([1, "x"]))]);
        let (url, status) = mutated[0].clone();
        if !(200..300).contains(&status) {
            continue; // an error answer (the members of a tenant without an organization)
        }
        let desired = quickstart_spec();
        {
            let mut c = harness.control.lock().unwrap_or_else(|e| e.into_inner());
            c.mutation = Some((item, vec![Mutation::Replace(vec![], json!([1, "x"]))]));
        }
        let err = harness
            .runtime
            .block_on(collect(&harness.client, &desired))
            .expect_err("an undecodable answer fails the collect");
        let label = label_of(&url);
        assert!(
            err.failures
                .iter()
                .any(|(what, _)| what == &format!("tenant contoso: {label}")),
            "{url}: no failure names `{label}`: {err}"
        );
        checked.insert(label);
    }
    assert!(
        checked.len() >= 6,
        "too few objects were checked: {checked:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn collect_never_panics_on_mutated_answers_and_names_what_it_cannot_read(
        item in 0usize..12,
        mutations in prop::collection::vec(arb_mutation(), 1..4),
    ) {
        thread_local! {
            static HARNESS: Harness = Harness::new();
        }
        HARNESS.with(|h| {
            h.check(item, mutations);
        });
    }
}

/// Names come from other tenants' admins and end up in plans, status and CI logs: control
/// characters in them (a carriage return that overwrites a plan line, a newline that adds one,
/// an escape sequence) are observed as U+FFFD.
#[test]
fn control_characters_in_graph_text_are_not_observed() {
    use mtoctl_graph::transport::GraphRequest;
    use reqwest::Method;

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let world = quickstart_world(Default::default()).await;
        let desired = quickstart_spec();
        let client = client_for(&world, &desired, ClientConfig::default());
        // C0 (ESC, CR, LF), DEL and C1 (NEL, CSI) controls; `é` and a no-break space share
        // the lead byte of C1 controls in UTF-8 and are kept.
        let hostile = "Evil\u{1b}[2K\r+ all good\n\u{7f}\u{85}\u{9b}é\u{a0}";
        for (method, path, body) in [
            (
                Method::PUT,
                "/tenantRelationships/multiTenantOrganization",
                json!({"displayName": "Contoso Group", "description": "line\r\nbreak"}),
            ),
            (
                Method::POST,
                "/tenantRelationships/multiTenantOrganization/tenants",
                json!({"tenantId": "11111111-2222-4333-8444-555555555555", "displayName": hostile, "role": "member"}),
            ),
        ] {
            client
                .send("contoso", &GraphRequest::with_body(method, path, body))
                .await
                .unwrap_or_else(|e| panic!("{path}: {e}"));
        }
        let observed = collect(&client, &desired).await.expect("collect");
        let organization = &observed.tenants[&mtoctl_model::ids::Alias("contoso".into())].organization;
        let member = organization
            .members
            .iter()
            .find(|m| m.display_name.starts_with("Evil"))
            .expect("the member is observed");
        assert_eq!(
            member.display_name,
            "Evil\u{FFFD}[2K\u{FFFD}+ all good\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}é\u{a0}"
        );
        assert_eq!(
            organization.description.as_deref(),
            Some("line\u{FFFD}\u{FFFD}break")
        );
    });
}
