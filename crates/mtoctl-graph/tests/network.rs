//! Network failures, told apart and named: a refused connection, a name that does not resolve,
//! a TLS handshake that fails and a server that never answers each say so, name the endpoint as
//! the user gave it, and a refused loopback endpoint (the emulator not running) fails in
//! seconds. Retries are announced at the CLI's default log level (WARN).
//!
//! Every server here is on loopback: a refused port is a listener bound and dropped; a hanging
//! server accepts and never answers; a "TLS" server answers a handshake with plain HTTP.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::*;
use mtoctl_graph::auth::{AuthContext, credential_for};
use mtoctl_graph::collect::collect;
use mtoctl_graph::endpoints::Endpoints;
use mtoctl_graph::error::{GraphError, NetworkFailure, Service};
use mtoctl_graph::transport::retry::RetryPolicy;
use mtoctl_graph::transport::{ClientConfig, GraphClient, GraphRequest, http_client};

/// A loopback port nothing listens on (bound, then released).
fn refused_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// A loopback server that accepts connections and never answers; returns its port.
fn hanging_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    port
}

/// A loopback server that answers whatever it is sent (a TLS ClientHello) with plain HTTP and
/// closes; returns its port.
fn plain_http_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
        }
    });
    port
}

/// The retries logged at WARN, the CLI's default level; panics when there is none.
fn retries_announced(logs: &str) -> Vec<&str> {
    let announced: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains(" WARN ") && l.contains("retrying"))
        .collect();
    assert!(!announced.is_empty(), "no retry was announced:\n{logs}");
    announced
}

/// TCP connections hyper opened to `port` (its own DEBUG event, one per attempt).
fn connections_to(logs: &str, port: u16) -> usize {
    logs.lines()
        .filter(|l| l.contains(&format!("connecting to 127.0.0.1:{port}")))
        .count()
}

/// A client for the big world's one tenant, with the given endpoints.
fn client_at(world: &World, graph: &str, login: &str, config: ClientConfig) -> GraphClient {
    let mut ctx = auth_context(
        world,
        mtoctl_graph::auth::MapEnvironment(
            [("BIG_SECRET".to_owned(), BIG_SECRET.to_owned())]
                .into_iter()
                .collect(),
        ),
    );
    ctx.endpoints = Endpoints::new(Some(graph), Some(login)).expect("endpoints");
    let credential = credential_for(&big_spec().tenants[0], &ctx).expect("credential");
    GraphClient::builder(ctx.http.clone(), ctx.endpoints.clone(), config)
        .tenant("big", credential)
        .build()
}

/// Checks the typed cause: the failure, the endpoint as given, and a chain of `source()`s
/// down to the HTTP stack's error (when there is one).
fn assert_network(err: &GraphError, service: Service, url: &str, kind: NetworkFailure) {
    let network = err
        .network()
        .unwrap_or_else(|| panic!("no network cause: {err}"));
    assert_eq!(network.service, service, "{err}");
    assert_eq!(network.url, url, "{err}");
    assert_eq!(network.kind, kind, "{err}");
    let mut chain = Vec::new();
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = next {
        chain.push(e);
        next = e.source();
    }
    assert!(
        chain.iter().any(|e| e
            .downcast_ref::<mtoctl_graph::error::NetworkError>()
            .is_some()),
        "the network error is in the source chain: {err}"
    );
    if kind != NetworkFailure::Timeout {
        assert!(
            chain
                .iter()
                .any(|e| e.downcast_ref::<reqwest::Error>().is_some()),
            "reqwest's error is in the source chain: {err:?}"
        );
    }
}

fn mto() -> GraphRequest {
    GraphRequest::get("/tenantRelationships/multiTenantOrganization")
}

#[tokio::test(flavor = "current_thread")]
async fn a_refused_graph_endpoint_fails_in_seconds_and_names_the_url() {
    let (capture, _guard) = Capture::start(tracing::Level::DEBUG);
    let world = big_world(1, Default::default()).await;
    let port = refused_port();
    let graph = format!("http://127.0.0.1:{port}");
    let client = client_at(&world, &graph, world.base(), ClientConfig::default());

    let started = Instant::now();
    let err = client.send("big", &mto()).await.expect_err("refused");
    let elapsed = started.elapsed();
    let text = err.to_string();
    let logs = capture.text();

    // Before: 10 attempts over 2 minutes, ending in "got no answer: error sending request".
    assert!(
        client.stats().http_calls <= 3,
        "{} attempts at a refused loopback port: {text}",
        client.stats().http_calls
    );
    assert!((1..=3).contains(&connections_to(&logs, port)), "{logs}");
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
    assert!(text.contains(&graph), "names the URL as given: {text}");
    assert!(text.contains("connection refused"), "{text}");
    assert_network(&err, Service::Graph, &graph, NetworkFailure::Refused);
    // Announced at WARN, the CLI's default level: what, where, and for how long.
    let announced = retries_announced(&logs);
    for line in &announced {
        assert!(
            line.contains("tenant big") && line.contains(&graph),
            "{line}"
        );
        assert!(line.contains("connection refused"), "{line}");
        assert!(line.contains("at most"), "says for how long: {line}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_refused_login_endpoint_fails_in_seconds_and_names_the_url() {
    let (capture, _guard) = Capture::start(tracing::Level::DEBUG);
    let world = big_world(1, Default::default()).await;
    let port = refused_port();
    let login = format!("http://127.0.0.1:{port}");
    let client = client_at(&world, world.base(), &login, ClientConfig::default());

    let started = Instant::now();
    let err = client.send("big", &mto()).await.expect_err("refused");
    let elapsed = started.elapsed();
    let text = err.to_string();
    let logs = capture.text();

    // Before: azure_identity's own policy, 9 attempts over 82 s, "retry policy expired".
    assert!((1..=3).contains(&connections_to(&logs, port)), "{logs}");
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
    assert!(
        text.starts_with("tenant big: cannot get a Microsoft Graph token"),
        "{text}"
    );
    assert!(text.contains(&login), "names the URL as given: {text}");
    assert!(text.contains("connection refused"), "{text}");
    assert!(!text.contains('\n'), "one line: {text}");
    assert_network(&err, Service::Login, &login, NetworkFailure::Refused);
    // Neither the secret nor the placeholder authority azure_identity is given ever shows.
    assert!(!logs.contains(BIG_SECRET) && !text.contains(BIG_SECRET));
    assert!(!format!("{err:?}").contains(BIG_SECRET));
    assert!(!logs.contains("mtoctl-loopback"), "{logs}");
    assert!(!text.contains("mtoctl-loopback"), "{text}");
    let announced = retries_announced(&logs);
    for line in &announced {
        assert!(
            line.contains("tenant big") && line.contains(&login),
            "{line}"
        );
        assert!(line.contains("sign-in"), "{line}");
    }
}

#[tokio::test]
async fn a_graph_endpoint_that_never_answers_is_a_timeout() {
    let world = big_world(1, Default::default()).await;
    let graph = format!("http://127.0.0.1:{}", hanging_server());
    let config = ClientConfig {
        request_timeout: Duration::from_millis(300),
        retry: RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(10),
            ..RetryPolicy::default()
        },
        ..ClientConfig::default()
    };
    let client = client_at(&world, &graph, world.base(), config);
    let err = client.send("big", &mto()).await.expect_err("times out");
    let text = err.to_string();
    assert!(text.contains(&graph), "{text}");
    assert!(text.contains("timed out"), "{text}");
    assert!(!text.contains("connection refused"), "{text}");
    assert_network(&err, Service::Graph, &graph, NetworkFailure::Timeout);
}

#[tokio::test]
async fn a_failed_tls_handshake_is_told_apart_and_not_retried_for_minutes() {
    let world = big_world(1, Default::default()).await;
    let graph = format!("https://127.0.0.1:{}", plain_http_server());
    let client = client_at(&world, &graph, world.base(), ClientConfig::default());
    let started = Instant::now();
    let err = client.send("big", &mto()).await.expect_err("no TLS");
    let text = err.to_string();
    assert!(text.contains(&graph), "{text}");
    assert!(text.contains("TLS"), "{text}");
    assert_network(&err, Service::Graph, &graph, NetworkFailure::Tls);
    assert!(client.stats().http_calls <= 3, "{text}");
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[tokio::test]
async fn a_host_name_that_does_not_resolve_is_a_dns_failure() {
    // `.invalid` never resolves (RFC 2606); the resolver says so without a network.
    let world = big_world(1, Default::default()).await;
    let graph = "https://graph.mtoctl-test.invalid";
    let config = ClientConfig {
        retry: RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(10),
            ..RetryPolicy::default()
        },
        ..ClientConfig::default()
    };
    let client = client_at(&world, graph, world.base(), config);
    let err = client.send("big", &mto()).await.expect_err("no such host");
    let text = err.to_string();
    assert!(text.contains(graph), "{text}");
    assert!(text.contains("does not resolve"), "{text}");
    assert_network(&err, Service::Graph, graph, NetworkFailure::Dns);
}

#[tokio::test(flavor = "current_thread")]
async fn paths_in_errors_and_logs_are_shown_decoded() {
    let (capture, _guard) = Capture::start(tracing::Level::DEBUG);
    let world = big_world(1, Default::default()).await;
    let client = big_client(&world, ClientConfig::default());
    let err = client
        .send(
            "big",
            &GraphRequest::get("/users/nobody%40big.onmicrosoft.com?$select=id%2CdisplayName"),
        )
        .await
        .expect_err("no such user");
    let text = err.to_string();
    assert!(
        text.contains("GET /users/nobody@big.onmicrosoft.com?$select=id,displayName"),
        "{text}"
    );
    let logs = capture.text();
    assert!(
        logs.contains("/users/nobody@big.onmicrosoft.com?$select=id,displayName"),
        "{logs}"
    );
    assert!(!logs.contains("nobody%40"), "{logs}");
}

#[tokio::test]
async fn an_unreachable_tenant_is_one_line_in_a_collect_error() {
    let world = quickstart_world(Default::default()).await;
    let desired = quickstart_spec();
    let port = refused_port();
    let graph = format!("http://127.0.0.1:{port}");
    let ctx = AuthContext {
        endpoints: Endpoints::new(Some(&graph), Some(world.base())).expect("endpoints"),
        ..auth_context(&world, quickstart_env())
    };
    let mut builder = GraphClient::builder(
        http_client(Duration::from_secs(30)).expect("an HTTP client"),
        ctx.endpoints.clone(),
        ClientConfig::default(),
    );
    for tenant in &desired.tenants {
        builder = builder.tenant(
            tenant.alias.as_str(),
            credential_for(tenant, &ctx).expect("credential"),
        );
    }
    let client = builder.build();
    let started = Instant::now();
    let err = collect(&client, &desired).await.expect_err("unreachable");
    let text = err.to_string();
    assert!(started.elapsed() < Duration::from_secs(20), "{text}");
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("  - ")).collect();
    assert_eq!(lines.len(), 2, "one line per tenant:\n{text}");
    assert!(lines[0].contains("tenant contoso"), "{text}");
    assert!(lines[1].contains("tenant fabrikam"), "{text}");
    for line in lines {
        assert!(
            line.contains(&graph) && line.contains("connection refused"),
            "{line}"
        );
        assert!(!line.contains('%'), "{line}");
    }
}

#[tokio::test]
async fn the_deadline_bounds_a_sign_in_that_never_answers() {
    let world = big_world(1, Default::default()).await;
    let login = format!("http://127.0.0.1:{}", hanging_server());
    let mut ctx = auth_context(
        &world,
        mtoctl_graph::auth::MapEnvironment(
            [("BIG_SECRET".to_owned(), BIG_SECRET.to_owned())]
                .into_iter()
                .collect(),
        ),
    );
    ctx.endpoints = Endpoints::new(Some(world.base()), Some(&login)).expect("endpoints");
    let retry = RetryPolicy {
        deadline: Duration::from_secs(2),
        ..RetryPolicy::default()
    };
    let credential =
        mtoctl_graph::auth::credential_with_retry(&big_spec().tenants[0], &ctx, &retry)
            .expect("credential");
    let client = GraphClient::builder(
        ctx.http.clone(),
        ctx.endpoints.clone(),
        ClientConfig {
            retry,
            ..ClientConfig::default()
        },
    )
    .tenant("big", credential)
    .build();
    let started = Instant::now();
    let err = client.send("big", &mto()).await.expect_err("no answer");
    // Without the deadline: azure_identity's client waits a minute per attempt.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_network(&err, Service::Login, &login, NetworkFailure::Timeout);
    assert!(err.to_string().contains("timed out"), "{err}");
}
