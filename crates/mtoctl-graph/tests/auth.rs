//! Credentials against the emulator's token endpoint over loopback: each kind that can run
//! locally, errors that name the tenant, and secrets that never show.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use azure_core::credentials::TokenCredential;
use common::*;
use mtoctl_graph::auth::{AuthContext, GRAPH_SCOPE, MapEnvironment, credential_for};
use mtoctl_graph::endpoints::Endpoints;
use mtoctl_graph::error::AuthError;
use mtoctl_graph::transport::{ClientConfig, GraphClient, GraphRequest, http_client};
use mtoctl_model::DesiredState;

const TENANT: &str = "44444444-2222-4333-8444-555555555555";
const CLIENT: &str = "54444444-2222-4333-8444-555555555555";
const ISSUER: &str = "https://kubernetes.example/issuer";
const SUBJECT: &str = "system:serviceaccount:mtoctl:runner";

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mtoctl-auth-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// An unsigned JWT with these claims (the emulator matches claims, not signatures).
fn assertion(issuer: &str, subject: &str) -> String {
    let header = b64url(br#"{"alg":"RS256","typ":"JWT"}"#);
    let payload = serde_json::json!({"iss": issuer, "sub": subject, "aud": "api://AzureADTokenExchange", "exp": 4_102_444_800u64});
    format!("{header}.{}.c2ln", b64url(payload.to_string().as_bytes()))
}

fn jwt_claims(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).expect("jwt payload");
    let mut bytes = Vec::new();
    let decode = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'-' | b'+' => 62,
            _ => 63,
        }
    };
    for chunk in payload.trim_end_matches('=').as_bytes().chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, c)| n | (decode(*c) << (18 - 6 * i)));
        for i in 0..chunk.len() - 1 {
            bytes.push((n >> (16 - 8 * i)) as u8);
        }
    }
    serde_json::from_slice(&bytes).expect("claims are JSON")
}

async fn world_with_app(app_extra: &str) -> World {
    let yaml = format!(
        "tenants:\n  - id: {TENANT}\n    displayName: Auth\n    domain: auth.onmicrosoft.com\n    apps:\n      - clientId: {CLIENT}\n{app_extra}"
    );
    let world = mtoctl_emulator::world::WorldFile::parse(&yaml).expect("world parses");
    let emulator = mtoctl_emulator::Emulator::from_world(world, Default::default()).expect("loads");
    let server = emulator.spawn_on_loopback().await.expect("serves");
    World { emulator, server }
}

fn spec_with_auth(auth: &str) -> DesiredState {
    let spec = format!(
        "apiVersion: mtoctl/v1alpha1\nkind: MultiTenantOrganization\norganization: {{displayName: A}}\ntenants:\n  - alias: auth\n    tenantId: {TENANT}\n    displayName: Auth\n    role: owner\n    auth:\n      clientId: {CLIENT}\n{auth}"
    );
    mtoctl_model::spec::load("auth.yaml", spec.as_bytes())
        .expect("valid spec")
        .desired
}

fn context(world: &World, vars: &[(&str, &str)], dir: PathBuf) -> AuthContext {
    AuthContext {
        endpoints: Endpoints::new(Some(world.base()), Some(world.base())).expect("endpoints"),
        env: Arc::new(MapEnvironment(
            vars.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<BTreeMap<_, _>>(),
        )),
        spec_dir: dir,
        http: http_client(std::time::Duration::from_secs(30)).expect("an HTTP client"),
    }
}

async fn token_claims(credential: &Arc<dyn TokenCredential>) -> serde_json::Value {
    let token = credential
        .get_token(&[GRAPH_SCOPE], None)
        .await
        .expect("token");
    jwt_claims(token.token.secret())
}

#[tokio::test]
async fn each_tenant_gets_a_token_for_itself_with_its_own_secret() {
    let world = quickstart_world(Default::default()).await;
    let desired = quickstart_spec();
    let ctx = auth_context(&world, quickstart_env());
    for tenant in &desired.tenants {
        let credential = credential_for(tenant, &ctx).expect("credential");
        let claims = token_claims(&credential).await;
        assert_eq!(claims["tid"], tenant.tenant_id.to_string());
        assert!(
            claims["roles"].as_array().is_some_and(|r| !r.is_empty()),
            "{claims}"
        );
    }
}

#[tokio::test]
async fn a_wrong_secret_is_an_error_naming_the_tenant_and_not_the_secret() {
    let world = quickstart_world(Default::default()).await;
    let desired = quickstart_spec();
    let mut env = quickstart_env();
    env.0.insert(
        "CONTOSO_CLIENT_SECRET".into(),
        "wrong-secret-value-1234".into(),
    );
    let ctx = auth_context(&world, env);
    let credential = credential_for(&desired.tenants[0], &ctx).expect("credential");
    let client = GraphClient::builder(
        ctx.http.clone(),
        ctx.endpoints.clone(),
        ClientConfig::default(),
    )
    .tenant("contoso", credential)
    .build();
    let err = client
        .send(
            "contoso",
            &GraphRequest::get("/tenantRelationships/multiTenantOrganization"),
        )
        .await
        .expect_err("refused");
    let text = err.to_string();
    assert!(
        text.starts_with("tenant contoso: cannot get a Microsoft Graph token"),
        "{text}"
    );
    assert!(text.contains("AADSTS7000215"), "{text}");
    assert!(!text.contains("wrong-secret-value-1234"), "{text}");
    assert!(!format!("{err:?}").contains("wrong-secret-value-1234"));
}

#[tokio::test]
async fn a_missing_variable_is_reported_before_any_call() {
    let world = quickstart_world(Default::default()).await;
    let desired = quickstart_spec();
    let ctx = auth_context(&world, MapEnvironment::default());
    let err = credential_for(&desired.tenants[1], &ctx).expect_err("no secret");
    assert!(matches!(err, AuthError::MissingVariable { .. }));
    assert_eq!(
        err.to_string(),
        "tenant fabrikam: the environment variable FABRIKAM_CLIENT_SECRET (named by auth.clientSecret.fromEnv in the spec) is not set; export it before running mtoctl"
    );
    let stats = world.stats().await;
    assert_eq!(stats["http_requests"], 0, "nothing was sent");
}

#[tokio::test]
async fn workload_identity_federation_reads_the_token_file() {
    let federated = format!(
        "        federatedCredentials:\n          - issuer: {ISSUER}\n            subject: \"{SUBJECT}\"\n            audiences: [api://AzureADTokenExchange]\n"
    );
    let world = world_with_app(&federated).await;
    let dir = temp_dir("wif");
    std::fs::write(dir.join("token"), assertion(ISSUER, SUBJECT)).expect("token file");
    let desired = spec_with_auth("      workloadIdentity: {tokenFile: token}\n");
    let credential = credential_for(&desired.tenants[0], &context(&world, &[], dir.clone()))
        .expect("credential");
    assert_eq!(token_claims(&credential).await["tid"], TENANT);

    // A token for another subject is refused by the token endpoint.
    std::fs::write(
        dir.join("other"),
        assertion(ISSUER, "system:serviceaccount:other:x"),
    )
    .expect("file");
    let desired = spec_with_auth("      workloadIdentity: {tokenFile: other}\n");
    let credential =
        credential_for(&desired.tenants[0], &context(&world, &[], dir)).expect("credential");
    let err = credential
        .get_token(&[GRAPH_SCOPE], None)
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("AADSTS"), "{err}");
}

#[tokio::test]
async fn a_missing_token_file_is_named() {
    let world = world_with_app("        secret: x\n").await;
    let desired = spec_with_auth("      workloadIdentity: {tokenFile: /no/such/token}\n");
    let err = credential_for(&desired.tenants[0], &context(&world, &[], temp_dir("none")))
        .expect_err("missing");
    assert!(
        err.to_string()
            .starts_with("tenant auth: cannot read the federated token file `/no/such/token`"),
        "{err}"
    );
}

/// A self-signed RSA certificate and key, and the certificate's SHA-1 thumbprint in hex.
fn certificate() -> (
    openssl::x509::X509,
    openssl::pkey::PKey<openssl::pkey::Private>,
    String,
) {
    use openssl::{asn1::Asn1Time, bn::BigNum, hash::MessageDigest, pkey::PKey, rsa::Rsa, x509};
    let key = PKey::from_rsa(Rsa::generate(2048).expect("rsa")).expect("pkey");
    let mut name = x509::X509NameBuilder::new().expect("name");
    name.append_entry_by_text("CN", "mtoctl test").expect("cn");
    let name = name.build();
    let mut builder = x509::X509::builder().expect("builder");
    builder.set_version(2).expect("version");
    builder
        .set_serial_number(
            &BigNum::from_u32(1)
                .expect("bn")
                .to_asn1_integer()
                .expect("serial"),
        )
        .expect("serial");
    builder.set_subject_name(&name).expect("subject");
    builder.set_issuer_name(&name).expect("issuer");
    builder.set_pubkey(&key).expect("pubkey");
    builder
        .set_not_before(&Asn1Time::days_from_now(0).expect("time"))
        .expect("nb");
    builder
        .set_not_after(&Asn1Time::days_from_now(30).expect("time"))
        .expect("na");
    builder.sign(&key, MessageDigest::sha256()).expect("sign");
    let cert = builder.build();
    let thumbprint: String = cert
        .digest(MessageDigest::sha1())
        .expect("digest")
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    (cert, key, thumbprint)
}

#[tokio::test]
async fn certificates_authenticate_from_pkcs12_with_a_password_and_from_pem() {
    let (cert, key, thumbprint) = certificate();
    let world = world_with_app(&format!(
        "        certificates:\n          - thumbprint: {thumbprint}\n"
    ))
    .await;
    let dir = temp_dir("cert");
    let pkcs12 = openssl::pkcs12::Pkcs12::builder()
        .name("mtoctl")
        .pkey(&key)
        .cert(&cert)
        .build2("p12-password")
        .expect("pkcs12");
    std::fs::write(dir.join("app.pfx"), pkcs12.to_der().expect("der")).expect("pfx");
    let mut pem = cert.to_pem().expect("pem");
    pem.extend(key.private_key_to_pem_pkcs8().expect("key pem"));
    std::fs::write(dir.join("app.pem"), pem).expect("pem");

    let desired =
        spec_with_auth("      certificate: {path: app.pfx, passwordFromEnv: CERT_PASSWORD}\n");
    let ctx = context(&world, &[("CERT_PASSWORD", "p12-password")], dir.clone());
    let credential = credential_for(&desired.tenants[0], &ctx).expect("pfx credential");
    assert_eq!(token_claims(&credential).await["tid"], TENANT);

    let desired = spec_with_auth("      certificate: {path: app.pem}\n");
    let credential =
        credential_for(&desired.tenants[0], &context(&world, &[], dir)).expect("pem credential");
    assert_eq!(token_claims(&credential).await["tid"], TENANT);
}

#[tokio::test]
async fn github_actions_oidc_exchanges_the_workflow_token() {
    let subject = "repo:contoso/mto-config:ref:refs/heads/main";
    let federated = format!(
        "        federatedCredentials:\n          - issuer: https://token.actions.githubusercontent.com\n            subject: \"{subject}\"\n"
    );
    let world = world_with_app(&federated).await;
    let desired = spec_with_auth("      githubOidc: {}\n");
    let url = format!("{}/_emulator/github/oidc?subject={subject}", world.base());
    let vars = [
        ("ACTIONS_ID_TOKEN_REQUEST_URL", url.as_str()),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "runtime-request-token"),
    ];
    let ctx = context(&world, &vars, temp_dir("oidc"));
    let credential = credential_for(&desired.tenants[0], &ctx).expect("credential");
    assert_eq!(token_claims(&credential).await["tid"], TENANT);
    assert!(
        !format!("{credential:?}").contains("runtime-request-token"),
        "Debug redacts"
    );

    // Another branch is not federated.
    let url = format!(
        "{}/_emulator/github/oidc?subject=repo:contoso/mto-config:ref:refs/heads/dev",
        world.base()
    );
    let vars = [
        ("ACTIONS_ID_TOKEN_REQUEST_URL", url.as_str()),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "runtime-request-token"),
    ];
    let credential = credential_for(
        &desired.tenants[0],
        &context(&world, &vars, temp_dir("oidc2")),
    )
    .expect("credential");
    let err = credential
        .get_token(&[GRAPH_SCOPE], None)
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("AADSTS70021"), "{err}");

    // Outside GitHub Actions the variables are missing, and the error says what is needed.
    let err = credential_for(
        &desired.tenants[0],
        &context(&world, &[], temp_dir("oidc3")),
    )
    .expect_err("no runtime");
    assert!(
        err.to_string().contains("ACTIONS_ID_TOKEN_REQUEST_URL"),
        "{err}"
    );
    assert!(err.to_string().contains("id-token: write"), "{err}");
}
