//! Token endpoint and bearer validation over real HTTP.

mod common;

use base64::Engine as _;
use common::*;
use serde_json::{Value, json};

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("b64");
    serde_json::from_slice(&bytes).expect("json")
}

#[tokio::test]
async fn client_secret_token_has_real_shape_and_claims() {
    let env = start().await;
    let r = env
        .token_form(
            A,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", A_APP),
                ("client_secret", "contoso-emulator-secret"),
                ("scope", "https://graph.microsoft.com/.default"),
            ],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["token_type"], "Bearer");
    assert!(r.body["expires_in"].as_i64().unwrap() > 3000);
    let tok = r.body["access_token"].as_str().unwrap();
    assert_eq!(tok.split('.').count(), 3);
    let c = claims(tok);
    assert_eq!(c["tid"], A);
    assert_eq!(c["appid"], A_APP);
    assert_eq!(c["aud"], "https://graph.microsoft.com");
    assert!(c["exp"].as_i64().unwrap() > c["iat"].as_i64().unwrap());
    let roles: Vec<&str> = c["roles"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for needed in [
        "MultiTenantOrganization.ReadWrite.All",
        "Policy.ReadWrite.CrossTenantAccess",
        "Synchronization.ReadWrite.All",
        "AppRoleAssignment.ReadWrite.All",
        "User.Read.All",
    ] {
        assert!(roles.contains(&needed), "{needed} missing from {roles:?}");
    }
    // The tenant may also be addressed by domain.
    let t = env
        .token("contoso.onmicrosoft.com", A_APP, "contoso-emulator-secret")
        .await;
    assert_eq!(claims(&t)["tid"], A);
}

#[tokio::test]
async fn aadsts_errors() {
    let env = start().await;
    let base = |secret: &'static str, client: &'static str| {
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", client),
            ("client_secret", secret),
            ("scope", "https://graph.microsoft.com/.default"),
        ]
    };
    let r = env.token_form(A, &base("wrong", A_APP)).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error"], "invalid_client");
    assert_eq!(r.body["error_codes"], json!([7000215]));
    assert!(
        r.body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS7000215: Invalid client secret provided.")
    );
    assert!(
        r.body["trace_id"].is_string()
            && r.body["correlation_id"].is_string()
            && r.body["timestamp"].is_string()
    );

    let r = env
        .token_form(A, &base("x", "12345678-1234-4234-8234-123456789012"))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"], "unauthorized_client");
    assert_eq!(r.body["error_codes"], json!([700016]));

    // An app registered in Fabrikam cannot get a Contoso token.
    let r = env
        .token_form(A, &base("fabrikam-emulator-secret", B_APP))
        .await;
    assert_eq!(r.body["error_codes"], json!([700016]));

    let r = env
        .token_form("deadbeef-0000-4000-8000-000000000000", &base("x", A_APP))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error_codes"], json!([90002]));

    let mut bad_scope = base("contoso-emulator-secret", A_APP);
    bad_scope[3] = ("scope", "https://management.azure.com/.default");
    let r = env.token_form(A, &bad_scope).await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    assert_eq!(r.body["error_codes"], json!([70011]));

    let r = env
        .token_form(
            A,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", A_APP),
                ("scope", "https://graph.microsoft.com/.default"),
            ],
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error_codes"], json!([7000218]));
}

fn assertion_form(assertion: &str) -> Vec<(&str, &str)> {
    vec![
        ("grant_type", "client_credentials"),
        ("client_id", A_APP),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", assertion),
        ("scope", "https://graph.microsoft.com/.default"),
    ]
}

#[tokio::test]
async fn federated_and_certificate_assertions() {
    let env = start().await;
    let fed = format!(
        "{}.{}.sig",
        b64(&json!({"alg": "RS256", "typ": "JWT"})),
        b64(
            &json!({"iss": "https://token.actions.githubusercontent.com", "sub": "repo:contoso/gitops:ref:refs/heads/main", "aud": "api://AzureADTokenExchange"})
        )
    );
    let r = env.token_form(A, &assertion_form(&fed)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(claims(r.body["access_token"].as_str().unwrap())["tid"], A);

    let wrong_sub = format!(
        "{}.{}.sig",
        b64(&json!({"alg": "RS256"})),
        b64(
            &json!({"iss": "https://token.actions.githubusercontent.com", "sub": "repo:evil/fork:ref:refs/heads/main", "aud": "api://AzureADTokenExchange"})
        )
    );
    let r = env.token_form(A, &assertion_form(&wrong_sub)).await;
    assert_eq!(
        (r.status, r.body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert_eq!(r.body["error_codes"], json!([70021]));

    let other_iss = format!(
        "{}.{}.sig",
        b64(&json!({"alg": "RS256"})),
        b64(
            &json!({"iss": "https://evil.example", "sub": "repo:contoso/gitops:ref:refs/heads/main", "aud": "api://AzureADTokenExchange"})
        )
    );
    let r = env.token_form(A, &assertion_form(&other_iss)).await;
    assert_eq!(r.body["error_codes"], json!([700211]));

    // x5t = base64url of the declared SHA-1 thumbprint bytes.
    let thumb: Vec<u8> = (0..20)
        .map(|i| {
            u8::from_str_radix(
                &"0123456789abcdef0123456789abcdef01234567"[i * 2..i * 2 + 2],
                16,
            )
            .unwrap()
        })
        .collect();
    let x5t = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(thumb);
    let cert = format!(
        "{}.{}.not-verified",
        b64(&json!({"alg": "RS256", "x5t": x5t})),
        b64(
            &json!({"iss": A_APP, "sub": A_APP, "aud": format!("https://login.microsoftonline.com/{A}/oauth2/v2.0/token")})
        )
    );
    let r = env.token_form(A, &assertion_form(&cert)).await;
    assert_eq!(r.status, 200, "{}", r.body);

    let unknown_cert = format!(
        "{}.{}.x",
        b64(&json!({"alg": "RS256", "x5t": "AAAAAAAAAAAAAAAAAAAAAAAAAAA"})),
        b64(&json!({"iss": A_APP, "sub": A_APP}))
    );
    let r = env.token_form(A, &assertion_form(&unknown_cert)).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error_codes"], json!([700027]));

    let r = env.token_form(A, &assertion_form("garbage")).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error_codes"], json!([50027]));
}

#[tokio::test]
async fn graph_rejects_missing_malformed_foreign_and_expired_tokens() {
    let env = start().await;
    let path = "/tenantRelationships/multiTenantOrganization";
    let r = env
        .client
        .get(format!("{}/v1.0{path}", env.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");
    assert!(body["error"]["innerError"]["request-id"].is_string());

    assert_eq!(env.get("not-a-jwt", path).await.status, 401);

    // A token minted by another world (different signing key) is foreign.
    let other = start_with(&WORLD.replace("seed: 42", "seed: 43"), Default::default()).await;
    let foreign = other.a().await;
    assert_eq!(env.get(&foreign, path).await.status, 401);

    // A tampered payload (claiming another tenant) fails the signature.
    let tok = env.a().await;
    let parts: Vec<&str> = tok.split('.').collect();
    let mut c = claims(&tok);
    c["tid"] = json!(B);
    let forged = format!("{}.{}.{}", parts[0], b64(&c), parts[2]);
    let r = env.get(&forged, path).await;
    assert_eq!((r.status, r.code()), (401, "InvalidAuthenticationToken"));

    assert_eq!(env.get(&tok, path).await.status, 200);
    // Moving the virtual clock does not expire a token: lifetimes run on the wall clock.
    env.advance(3600.0).await;
    assert_eq!(env.get(&tok, path).await.status, 200);

    // A world whose tokens live one second: one real second later, the token has expired.
    let short = start_with(
        &WORLD.replace("seed: 42", "seed: 42\ntimings:\n  tokenLifetime: 1"),
        Default::default(),
    )
    .await;
    let tok = short.a().await;
    assert_eq!(short.get(&tok, path).await.status, 200);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let r = short.get(&tok, path).await;
    assert_eq!(r.status, 401);
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
}

#[tokio::test]
async fn request_ids_versions_and_permissions() {
    let env = start().await;
    let tok = env.a().await;
    let r = env
        .call_h(
            &tok,
            "GET",
            "/tenantRelationships/multiTenantOrganization",
            None,
            &[("client-request-id", "30129b19-0000-0000-0000-000000000002")],
        )
        .await;
    assert_eq!(
        r.header("client-request-id").as_deref(),
        Some("30129b19-0000-0000-0000-000000000002")
    );
    let rid = r.header("request-id").unwrap();
    assert_eq!(rid.len(), 36);
    assert!(r.header("date").is_some());
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let beta = env
        .get(
            &tok,
            &format!(
                "{}/beta/tenantRelationships/multiTenantOrganization",
                env.base
            ),
        )
        .await;
    assert_eq!(beta.status, 200);
    assert!(
        beta.body["@odata.context"]
            .as_str()
            .unwrap()
            .contains("/beta/$metadata#")
    );

    // Errors carry both ids in innerError.
    let r = env
        .call_h(
            &tok,
            "GET",
            "/nowhere",
            None,
            &[("client-request-id", "abc")],
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error"]["innerError"]["client-request-id"], "abc");

    // A read-only app cannot create an MTO.
    let ro = env
        .token(A, "11111111-2222-4333-8444-555555555555", "readonly-secret")
        .await;
    let r = env
        .call(
            &ro,
            "PUT",
            "/tenantRelationships/multiTenantOrganization",
            Some(json!({"displayName": "X"})),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "Authorization_RequestDenied"));
}

#[tokio::test]
async fn http_basic_client_credentials_are_accepted() {
    let env = start().await;
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{A_APP}:contoso-emulator-secret"));
    let r = env
        .client
        .post(format!("{}/{A}/oauth2/v2.0/token", env.base))
        .header("authorization", format!("Basic {basic}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        claims(body["access_token"].as_str().unwrap())["appid"],
        A_APP
    );
}

#[tokio::test]
async fn github_oidc_stand_in_needs_a_request_token_and_echoes_audience_and_subject() {
    let env = start().await;
    let client = reqwest::Client::new();
    let url = format!(
        "{}/_emulator/github/oidc?audience=api://Custom&subject=repo:o/r:ref:refs/heads/main",
        env.base
    );
    let r = client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = client
        .get(&url)
        .bearer_auth("request-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let c = claims(body["value"].as_str().unwrap());
    assert_eq!(c["iss"], "https://token.actions.githubusercontent.com");
    assert_eq!(c["aud"], "api://Custom");
    assert_eq!(c["sub"], "repo:o/r:ref:refs/heads/main");
}
