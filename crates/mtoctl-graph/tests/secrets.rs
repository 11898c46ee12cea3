//! Secrets and tokens never reach logs, errors or Debug output: a full collect and a failing
//! sign-in run with every tracing target at TRACE level, and the captured output is scanned.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use mtoctl_graph::collect::collect;
use mtoctl_graph::transport::{ClientConfig, GraphRequest};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn no_secret_or_token_in_logs_errors_or_debug_output() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

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

    let logs = String::from_utf8(capture.0.lock().unwrap_or_else(|e| e.into_inner()).clone())
        .expect("utf-8");
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
