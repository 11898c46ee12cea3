//! Secrets and tokens never reach logs, errors or Debug output: a full collect and a failing
//! sign-in run with every tracing target at TRACE level, and the captured output is scanned.

mod common;

use common::*;
use mtoctl_graph::collect::collect;
use mtoctl_graph::transport::{ClientConfig, GraphRequest};

#[tokio::test(flavor = "current_thread")]
async fn no_secret_or_token_in_logs_errors_or_debug_output() {
    let (capture, _guard) = Capture::start(tracing::Level::TRACE);

    let world = quickstart_world(Default::default()).await;
    let desired = quickstart_spec();
    let client = client_for(&world, &desired, ClientConfig::default());
    let observed = collect(&client, &desired).await.expect("collect");

    // A failing sign-in, to have an error to scan too.
    let mut env = quickstart_env();
    env.0.insert(
        "CONTOSO_CLIENT_SECRET".into(),
        "not-the-secret-but-still-secret".into(),
    );
    let ctx = auth_context(&world, env);
    let bad = mtoctl_graph::auth::credential_for(&desired.tenants[0], &ctx).expect("credential");
    let failing = mtoctl_graph::transport::GraphClient::builder(
        ctx.http.clone(),
        ctx.endpoints.clone(),
        ClientConfig::default(),
    )
    .tenant("contoso", bad)
    .build();
    let err = failing
        .send(
            "contoso",
            &GraphRequest::get("/tenantRelationships/multiTenantOrganization"),
        )
        .await
        .expect_err("refused");

    let logs = String::from_utf8(capture.bytes()).expect("utf-8");
    assert!(logs.contains("graph call"), "debug logs were captured");
    let everything = format!("{logs}\n{err}\n{err:?}\n{client:?}\n{ctx:?}\n{observed:?}");
    for secret in [
        "contoso-emulator-secret",
        "fabrikam-emulator-secret",
        "not-the-secret-but-still-secret",
    ] {
        assert!(!everything.contains(secret), "`{secret}` leaked");
    }
    // Access tokens are JWTs: base64url of `{"` starts with `eyJ`.
    assert!(!everything.contains("eyJ"), "a token leaked");
    assert!(
        !everything.to_lowercase().contains("bearer ey"),
        "an Authorization header leaked"
    );
}
