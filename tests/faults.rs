//! The fault matrix: `mtoctl apply` against an emulator injecting one kind of trouble at a
//! time (throttling storms with long `Retry-After`, 503/504 bursts, connections reset before
//! and after Graph committed a write, answers slower than the client's timeout, token endpoint
//! failures, replication lag, a failed join, a quarantined job). Every case must end converged
//! (or with a clear error, then converged on the next run), with nothing duplicated: the
//! census of the emulator's own state panics on a second configuration, application, job,
//! assignment or member.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::harden::Scenario;
use common::{CONTOSO, FABRIKAM};
use serde_json::{Value, json};

/// A targeted one-shot fault for the next Graph request with this method and path fragment.
fn at(fault: Value, method: &str, path: &str) -> Value {
    json!({"fault": fault, "method": method, "pathContains": path})
}

/// Every create of the quickstart's first rounds, by method and path fragment.
const CREATES: [(&str, &str); 7] = [
    ("PUT", "/multiTenantOrganization"),
    ("POST", "/multiTenantOrganization/tenants"),
    ("PUT", "/identitySynchronization"),
    ("POST", "/crossTenantAccessPolicy/partners"),
    ("POST", "/instantiate"),
    ("POST", "/appRoleAssignedTo"),
    ("POST", "/start"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttling_storm_with_long_retry_after_is_waited_out() {
    // Retry-After of 120 virtual seconds, 1.2 s of real time at this scale.
    // The clock follows real time, so that the emulator can tell a request that came back
    // early from one that waited.
    let s = Scenario::quickstart(mtoctl_emulator::Options {
        time_scale: 0.01,
        follow_wall_clock: true,
        ..Default::default()
    })
    .await;
    let storm = json!({"tooManyRequests": {"retryAfter": 120}});
    let mut targeted: Vec<Value> = CREATES
        .iter()
        .map(|(m, p)| at(storm.clone(), m, p))
        .collect();
    targeted.push(at(storm.clone(), "PATCH", "/partners/"));
    s.faults(json!({"queue": [storm, storm, storm, storm], "targeted": targeted}))
        .await;
    s.converge(6).await;
    s.assert_converged_counts();
    let stats = s.stats().await;
    let injected = stats["faults_injected"].as_u64().unwrap_or(0);
    let early = stats["early_retries"].as_u64().unwrap_or(0);
    assert!(injected >= 8, "{stats}");
    // A client that ignored Retry-After would come back early after every 429 (at least
    // `injected` early arrivals). Requests already on the wire when a 429 was answered (the
    // client has several lanes per tenant) arrive early through no fault of their own.
    assert!(
        early < injected,
        "requests came back before their Retry-After: {stats}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_of_503_and_504_are_retried_without_duplicates() {
    let s = Scenario::quickstart(Default::default()).await;
    let mut targeted = Vec::new();
    for (m, p) in CREATES {
        targeted.push(at(json!("gatewayTimeout"), m, p));
        targeted.push(at(json!("serviceUnavailable"), m, p));
    }
    s.faults(json!({
        "queue": ["serviceUnavailable", "serviceUnavailable", "gatewayTimeout", "gatewayTimeout", "serviceUnavailable"],
        "targeted": targeted,
    }))
    .await;
    s.converge(6).await;
    s.assert_converged_counts();
}

/// The hard case for idempotency: Graph carries a create out, then the connection drops
/// before the answer arrives. Sending it again would make a second configuration; apply
/// looks first and adopts what it made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_reset_before_and_after_commit_duplicate_nothing() {
    let s = Scenario::quickstart(Default::default()).await;
    let mut targeted: Vec<Value> = CREATES
        .iter()
        .map(|(m, p)| at(json!("resetAfterCommit"), m, p))
        .collect();
    // The job create is the second POST under …/synchronization/jobs (validation is first).
    for _ in 0..4 {
        targeted.push(at(
            json!("resetAfterCommit"),
            "POST",
            "/synchronization/jobs",
        ));
    }
    s.faults(json!({
        "queue": ["connectionReset", "connectionReset", "connectionReset"],
        "targeted": targeted,
    }))
    .await;
    s.converge(6).await;
    let stats = s.stats().await;
    assert!(
        stats["faults_injected"].as_u64().unwrap_or(0) >= 10,
        "{stats}"
    );
    s.assert_converged_counts();
}

/// Answers slower than the client's timeout (the write was committed; the client gave up on
/// it): apply adopts what the slow write made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_slower_than_the_client_timeout_duplicate_nothing() {
    let s = Scenario::quickstart(Default::default()).await;
    let slow = json!({"slowResponse": {"delayMs": 2500}});
    let mut targeted: Vec<Value> = CREATES
        .iter()
        .map(|(m, p)| at(slow.clone(), m, p))
        .collect();
    targeted.push(at(slow.clone(), "POST", "/synchronization/jobs"));
    targeted.push(at(slow.clone(), "POST", "/synchronization/jobs"));
    s.faults(json!({"queue": [slow], "targeted": targeted}))
        .await;
    let config = mtoctl_graph::transport::ClientConfig {
        request_timeout: Duration::from_secs(1),
        ..Default::default()
    };
    let (desired, client) = s.client(config);
    let options = mtoctl_exec::ApplyOptions {
        first_poll: Duration::from_millis(50),
        ..Default::default()
    };
    let mut converged = false;
    for _ in 0..8 {
        let observed = mtoctl_graph::collect::collect(&client, &desired)
            .await
            .expect("collect");
        let plan = mtoctl_planner::plan(&desired, &observed).expect("plans");
        if plan.actions.is_empty() {
            converged = true;
            break;
        }
        let report =
            mtoctl_exec::apply(plan, &client, &options, Arc::new(mtoctl_exec::Silent)).await;
        for a in &report.actions {
            if let mtoctl_exec::ActionStatus::Failed { error } = &a.status {
                // A failure must say what happened; the next round retries it.
                assert!(!error.is_empty(), "{}", a.addr);
            }
        }
        s.census();
        s.advance(5 * 3600).await;
    }
    assert!(converged, "did not converge with slow answers");
    assert!(
        s.stats().await["faults_injected"].as_u64().unwrap_or(0) >= 5,
        "the slow answers were served"
    );
    s.assert_converged_counts();
}

/// The token endpoint answers `503 temporarily_unavailable` for a while: the credentials
/// (azure_identity) retry it, and the run goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_endpoint_failures_are_retried_and_apply_goes_on() {
    let s = Scenario::quickstart(Default::default()).await;
    s.faults(json!({"tokenFailures": 3})).await;
    let first = s.apply().await;
    assert!(
        first.code == 0 || first.code == 3,
        "apply failed ({}):\n{}\n{}",
        first.code,
        first.stdout,
        first.stderr
    );
    assert_eq!(
        s.stats().await["faults_injected"],
        3,
        "every failure was served"
    );
    s.converge(6).await;
    s.assert_converged_counts();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replication_lag_after_creates_is_waited_out() {
    // New service principals, applications and assignments stay invisible for 40 virtual
    // seconds (2 s of real time at this scale) while the clock follows real time.
    let s = Scenario::quickstart_with(
        "timings:\n  replicationLag: 40\n",
        mtoctl_emulator::Options {
            follow_wall_clock: true,
            time_scale: 0.05,
            ..Default::default()
        },
    )
    .await;
    s.converge(8).await;
    s.assert_converged_counts();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_join_is_reset_and_joined_again() {
    // Microsoft's guidance: a join less than two hours after the organization was created
    // fails.
    let s =
        Scenario::quickstart_with("timings:\n  joinMinMtoAge: 7200\n", Default::default()).await;
    let first = s.apply().await;
    assert_eq!(first.code, 3, "{}\n{}", first.stdout, first.stderr);
    s.advance(700).await; // the join completes, too early: failed
    let plan = s.run(&["plan", "-f", &s.spec]).await;
    assert!(
        plan.stdout.contains("reset fabrikam's failed join request"),
        "{}",
        plan.stdout
    );
    s.advance(7200).await;
    s.converge(6).await;
    s.assert_converged_counts();
    let census = s.census();
    assert_eq!(census.members, 2, "one membership each: {census:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quarantined_job_recovers_once_apply_repairs_the_policy() {
    let s = Scenario::quickstart(Default::default()).await;
    s.converge(6).await;
    let census = s.census();
    // Out of band: fabrikam stops allowing contoso to sync users in.
    let (_, client) = s.client(Default::default());
    client
        .send(
            "fabrikam",
            &mtoctl_graph::transport::GraphRequest::with_body(
                reqwest::Method::PATCH,
                format!(
                    "/policies/crossTenantAccessPolicy/partners/{CONTOSO}/identitySynchronization"
                ),
                json!({"userSyncInbound": {"isSyncAllowed": false}}),
            ),
        )
        .await
        .expect("patch");
    s.advance(3600).await; // the next cycle quarantines contoso's job
    assert_eq!(job_status(&s, CONTOSO), "Quarantine");
    let plan = s.plan().await;
    assert_eq!(plan.code, 2, "the policy is drift: {}", plan.stdout);
    let applied = s.apply().await;
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    s.advance(3600).await; // the next cycle finds the policy fixed
    assert_ne!(job_status(&s, CONTOSO), "Quarantine");
    assert_eq!(s.plan().await.code, 0);
    assert_eq!(s.census(), census, "nothing created on the way");
    let _ = FABRIKAM;
}

/// The status code of the (one) job in `tenant`.
fn job_status(s: &Scenario, tenant: &str) -> String {
    let core = s.server.emulator.lock();
    let t = &core.state.tenants[tenant];
    let jobs: Vec<&str> = t
        .service_principals
        .iter()
        .flat_map(|sp| sp.jobs.iter().map(|j| j.status_code.as_str()))
        .collect();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    jobs[0].to_owned()
}

// Network failures say what and where, quickly: a refused connection names the endpoint as the
// user gave it, each tenant's failure is one line, retries are announced at the default log
// level, and a refused loopback endpoint fails in seconds (it took 82 s for a refused login and
// over two minutes for a refused Graph). Attempts are counted from hyper's own DEBUG event, one
// per connection, so the count does not rely on mtoctl's word.

/// A loopback port nothing listens on (bound, then released).
fn refused_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// A loopback server that accepts connections and never answers; returns its port.
fn hanging_server() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    port
}

/// TCP connections hyper opened to `port` (its DEBUG event, one per attempt).
fn connections_to(logs: &str, port: u16) -> usize {
    logs.lines()
        .filter(|l| l.contains(&format!("connecting to 127.0.0.1:{port}")))
        .count()
}

/// Checks a plan that could not reach `url` at all: fast, one line per tenant naming the URL
/// as given and the failure, retries announced.
fn assert_unreachable(run: &common::Run, elapsed: Duration, url: &str) {
    let stderr = &run.stderr;
    assert_eq!(run.code, 1, "after {elapsed:?}:\n{stderr}");
    assert!(
        elapsed < Duration::from_secs(20),
        "took {elapsed:?}:\n{stderr}"
    );
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("  - ")).collect();
    assert_eq!(lines.len(), 2, "one line per tenant:\n{stderr}");
    assert!(lines[0].starts_with("  - tenant contoso"), "{stderr}");
    assert!(lines[1].starts_with("  - tenant fabrikam"), "{stderr}");
    for line in &lines {
        assert!(line.contains(url), "names {url} as given: {line}");
        assert!(line.contains("connection refused"), "{line}");
        assert!(!line.contains('%'), "no URL-encoding: {line}");
    }
    assert!(!stderr.contains("mtoctl-loopback"), "{stderr}");
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("WARN") && l.contains("retrying") && l.contains(url)),
        "retries are announced at the default log level:\n{stderr}"
    );
}

#[test]
fn a_refused_login_endpoint_fails_plan_in_seconds_naming_it() {
    let port = refused_port();
    let url = format!("http://127.0.0.1:{port}");
    let limit = Duration::from_secs(120);
    let (run, elapsed) = common::plan_against(&url, &url, &[], &[], limit);
    assert_unreachable(&run, elapsed, &url);
    assert!(
        run.stderr.contains("cannot get a Microsoft Graph token"),
        "{}",
        run.stderr
    );

    let (run, _) = common::plan_against(&url, &url, &["--log-level", "debug"], &[], limit);
    let attempts = connections_to(&run.stderr, port);
    assert!(
        (2..=6).contains(&attempts),
        "{attempts} sign-in attempts for two tenants:\n{}",
        run.stderr
    );
    assert!(!run.stderr.contains("mtoctl-loopback"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_graph_endpoint_fails_plan_in_seconds_naming_it() {
    let s = Scenario::quickstart(Default::default()).await;
    let port = refused_port();
    let url = format!("http://127.0.0.1:{port}");
    let login = s.server.base_url.clone();
    let limit = Duration::from_secs(180);
    let (run, elapsed) = {
        let (url, login) = (url.clone(), login.clone());
        tokio::task::spawn_blocking(move || common::plan_against(&url, &login, &[], &[], limit))
            .await
            .expect("joined")
    };
    assert_unreachable(&run, elapsed, &url);

    let (run, _) = {
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            common::plan_against(&url, &login, &["--log-level", "debug"], &[], limit)
        })
        .await
        .expect("joined")
    };
    // At most three attempts per request; a plan that cannot read wave 1 still sends one more
    // round per tenant (the look-up of names it did not find). Before: ten per request.
    let attempts = connections_to(&run.stderr, port);
    assert!(
        (2..=12).contains(&attempts),
        "{attempts} attempts at Graph for two tenants:\n{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deadline_bounds_how_long_a_silent_graph_is_retried() {
    let s = Scenario::quickstart(Default::default()).await;
    let url = format!("http://127.0.0.1:{}", hanging_server());
    let login = s.server.base_url.clone();
    let (run, elapsed) = tokio::task::spawn_blocking(move || {
        common::plan_against(
            &url,
            &login,
            &[],
            &[("MTOCTL_DEADLINE", "3s")],
            Duration::from_secs(60),
        )
    })
    .await
    .expect("joined");
    // Without a deadline each attempt would wait a minute for an answer, ten times.
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(elapsed < Duration::from_secs(15), "took {elapsed:?}");
    assert!(run.stderr.contains("timed out"), "{}", run.stderr);

    let help = std::process::Command::new(env!("CARGO_BIN_EXE_mtoctl"))
        .args(["plan", "--help"])
        .output()
        .expect("runs");
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("--deadline <DURATION>") && help.contains("MTOCTL_DEADLINE"),
        "{help}"
    );
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_mtoctl"))
        .args([
            "plan",
            "-f",
            "examples/quickstart/mto.yaml",
            "--deadline",
            "soon",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("--deadline"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}
