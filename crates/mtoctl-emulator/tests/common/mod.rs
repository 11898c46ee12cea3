//! Shared test harness: a three-tenant world served in-process on 127.0.0.1:0.
#![allow(dead_code, missing_docs)]

pub mod contract;

use mtoctl_emulator::world::WorldFile;
use mtoctl_emulator::{Emulator, Options, Server};
use reqwest::Method;
use serde_json::Value;

pub const A: &str = "6babcaad-604b-40ac-a9d7-9fd97c0b779f";
pub const B: &str = "3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11";
pub const C: &str = "c0c0c0c0-1111-4222-8333-444444444444";
pub const A_APP: &str = "0d3f3c4e-5b7a-4c1e-9a8b-1c2d3e4f5a6b";
pub const B_APP: &str = "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
pub const C_APP: &str = "99999999-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
pub const SYNC_TEMPLATE: &str = "518e5f48-1fc8-4c48-9387-9fdf28b0dfe7";

/// The world's tenants as YAML list items, up to and with their first app's secret (the ids of
/// [`A`], [`B`], [`C`] and their apps): test worlds are built around them with `concat!`.
macro_rules! contoso_tenant {
    () => {
        r#"  - id: 6babcaad-604b-40ac-a9d7-9fd97c0b779f
    displayName: Contoso
    domain: contoso.onmicrosoft.com
    apps:
      - clientId: 0d3f3c4e-5b7a-4c1e-9a8b-1c2d3e4f5a6b
        secret: contoso-emulator-secret
"#
    };
}
macro_rules! fabrikam_tenant {
    () => {
        r#"  - id: 3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11
    displayName: Fabrikam
    domain: fabrikam.onmicrosoft.com
    apps:
      - clientId: 7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
        secret: fabrikam-emulator-secret
"#
    };
}
macro_rules! northwind_tenant {
    () => {
        r#"  - id: c0c0c0c0-1111-4222-8333-444444444444
    displayName: Northwind
    domain: northwind.onmicrosoft.com
    apps:
      - clientId: 99999999-4e5f-4a6b-8c7d-9e0f1a2b3c4d
        secret: northwind-secret
"#
    };
}
#[allow(unused_imports)] // each test crate builds its own world, or uses `WORLD`
pub(crate) use {contoso_tenant, fabrikam_tenant, northwind_tenant};

pub const WORLD: &str = concat!(
    r#"
seed: 42
tenants:
"#,
    contoso_tenant!(),
    r#"        federatedCredentials:
          - issuer: https://token.actions.githubusercontent.com
            subject: repo:contoso/gitops:ref:refs/heads/main
        certificates:
          - thumbprint: 0123456789abcdef0123456789abcdef01234567
      - clientId: 11111111-2222-4333-8444-555555555555
        secret: readonly-secret
        roles: [Policy.Read.All, User.Read.All, MultiTenantOrganization.ReadBasic.All]
    users:
      - userPrincipalName: alice@contoso.onmicrosoft.com
        displayName: Alice Martin
        department: Sales
      - userPrincipalName: bob@contoso.onmicrosoft.com
        displayName: Bob Stone
        department: Engineering
      - userPrincipalName: erin@contoso.onmicrosoft.com
        displayName: Erin Lake
        department: Sales
      - userPrincipalName: frank@contoso.onmicrosoft.com
        displayName: Frank Guest
        userType: Guest
    groups:
      - displayName: Contoso Sales
        members: [alice@contoso.onmicrosoft.com, erin@contoso.onmicrosoft.com]
"#,
    fabrikam_tenant!(),
    r#"    users:
      - userPrincipalName: carol@fabrikam.onmicrosoft.com
        displayName: Carol Diaz
        department: Engineering
      - userPrincipalName: dan@fabrikam.onmicrosoft.com
        displayName: Dan Wu
        department: Engineering
    groups:
      - displayName: Fabrikam Engineering
        members: [carol@fabrikam.onmicrosoft.com, dan@fabrikam.onmicrosoft.com]
"#,
    northwind_tenant!(),
);

pub struct Env {
    pub base: String,
    pub client: reqwest::Client,
    pub server: Server,
    /// Checks every v1.0 exchange against Graph's contract; fails the test at its end.
    pub contract: contract::CheckedOnDrop,
}

pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

pub async fn start() -> Env {
    start_with(WORLD, Options::default()).await
}

/// The emulator of `world`, every exchange checked against Graph's v1.0 contract.
pub async fn start_with(world: &str, opts: Options) -> Env {
    let (contract, opts) = contract::checked(opts);
    let world = WorldFile::parse(world).expect("world parses");
    let emu = Emulator::from_world(world, opts).expect("world loads");
    serve(emu, contract).await
}

/// Serves `emu`, made with the options of `contract::checked`.
pub async fn serve(emu: Emulator, contract: contract::CheckedOnDrop) -> Env {
    let server = emu.spawn_on_loopback().await.expect("server starts");
    Env {
        base: server.base_url.clone(),
        client: reqwest::Client::new(),
        server,
        contract,
    }
}

impl Env {
    pub fn emu(&self) -> &Emulator {
        &self.server.emulator
    }

    pub async fn token_form(&self, tenant: &str, form: &[(&str, &str)]) -> Resp {
        let body: String = form
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        let r = self
            .client
            .post(format!("{}/{tenant}/oauth2/v2.0/token", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("token request");
        to_resp(r).await
    }

    pub async fn token(&self, tenant: &str, client_id: &str, secret: &str) -> String {
        let r = self
            .token_form(
                tenant,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id),
                    ("client_secret", secret),
                    ("scope", "https://graph.microsoft.com/.default"),
                ],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["access_token"].as_str().expect("token").to_owned()
    }

    pub async fn a(&self) -> String {
        self.token(A, A_APP, "contoso-emulator-secret").await
    }
    pub async fn b(&self) -> String {
        self.token(B, B_APP, "fabrikam-emulator-secret").await
    }
    pub async fn c(&self) -> String {
        self.token(C, C_APP, "northwind-secret").await
    }

    pub async fn call(&self, token: &str, method: &str, path: &str, body: Option<Value>) -> Resp {
        self.call_h(token, method, path, body, &[]).await
    }

    pub async fn call_h(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}/v1.0{path}", self.base)
        };
        let mut rb = self
            .client
            .request(Method::from_bytes(method.as_bytes()).expect("method"), url)
            .bearer_auth(token);
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        to_resp(rb.send().await.expect("request")).await
    }

    pub async fn get(&self, token: &str, path: &str) -> Resp {
        self.call(token, "GET", path, None).await
    }

    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        let mut rb = self.client.request(
            Method::from_bytes(method.as_bytes()).expect("method"),
            format!("{}/_emulator/{path}", self.base),
        );
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        to_resp(rb.send().await.expect("admin request")).await
    }

    pub async fn advance(&self, seconds: f64) {
        let r = self
            .admin(
                "POST",
                "advance",
                Some(serde_json::json!({ "seconds": seconds })),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
}

pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn to_resp(r: reqwest::Response) -> Resp {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Resp {
        status,
        headers,
        body,
    }
}

pub const P: &str = "/policies/crossTenantAccessPolicy";

/// An answer written back as a request body (a schema read, changed and PUT): without the
/// answer's instance annotations (`@odata.context`), which are not part of a request body.
pub fn as_body(mut answer: Value) -> Value {
    if let Some(o) = answer.as_object_mut() {
        o.retain(|k, _| !k.starts_with('@'));
    }
    answer
}

/// Adds `tenant` as a partner in the cross-tenant access policy of `tok`'s tenant; the answer
/// is left to the caller (a partner already there is refused, which some tests rely on).
pub async fn add_partner(env: &Env, tok: &str, tenant: &str) -> Resp {
    let body = serde_json::json!({ "tenantId": tenant });
    env.call(tok, "POST", &format!("{P}/partners"), Some(body))
        .await
}

/// Configure the policies for syncing `src` → `tgt` the way reference §10.2 steps 7–10 do.
pub async fn allow_sync(env: &Env, src_tok: &str, src: &str, tgt_tok: &str, tgt: &str) {
    use serde_json::json;
    add_partner(env, tgt_tok, src).await;
    let _ = env
        .call(
            tgt_tok,
            "PUT",
            &format!("{P}/partners/{src}/identitySynchronization"),
            Some(json!({"userSyncInbound": {"isSyncAllowed": true}})),
        )
        .await;
    let r = env
        .call(tgt_tok, "PATCH", &format!("{P}/partners/{src}"), Some(json!({"automaticUserConsentSettings": {"inboundAllowed": true, "outboundAllowed": true}})))
        .await;
    assert_eq!(r.status, 204);
    add_partner(env, src_tok, tgt).await;
    let r = env
        .call(src_tok, "PATCH", &format!("{P}/partners/{tgt}"), Some(json!({"automaticUserConsentSettings": {"inboundAllowed": true, "outboundAllowed": true}})))
        .await;
    assert_eq!(r.status, 204);
}

/// Instantiate a configuration, create its job and set its secrets; returns (sp id, app role id, job id).
pub async fn configure(env: &Env, tok: &str, target: &str) -> (String, String, String) {
    use serde_json::json;
    let r = env
        .call(
            tok,
            "POST",
            &format!("/applicationTemplates/{SYNC_TEMPLATE}/instantiate"),
            Some(json!({"displayName": format!("MTO_Sync_{target}")})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let sp = r.body["servicePrincipal"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let role = r.body["servicePrincipal"]["appRoles"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = env
        .call(
            tok,
            "POST",
            &format!("/servicePrincipals/{sp}/synchronization/jobs"),
            Some(json!({"templateId": "Azure2Azure"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let job = r.body["id"].as_str().unwrap().to_owned();
    let secrets = json!({"value": [
        {"key": "AuthenticationType", "value": "SyncPolicy"},
        {"key": "CompanyId", "value": target},
        {"key": "SyncNotificationSettings", "value": "{\"Enabled\":false,\"DeleteThresholdEnabled\":false}"},
        {"key": "SyncAll", "value": "false"}
    ]});
    let r = env
        .call(
            tok,
            "PUT",
            &format!("/servicePrincipals/{sp}/synchronization/secrets"),
            Some(secrets),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    (sp, role, job)
}

pub async fn user_id(env: &Env, tok: &str, upn: &str) -> String {
    let r = env.get(tok, &format!("/users/{upn}?$select=id")).await;
    assert_eq!(r.status, 200, "{upn}: {}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

pub async fn assign(env: &Env, tok: &str, sp: &str, role: &str, principal: &str) -> Resp {
    env.call(
        tok,
        "POST",
        &format!("/servicePrincipals/{sp}/appRoleAssignedTo"),
        Some(serde_json::json!({"principalId": principal, "resourceId": sp, "appRoleId": role})),
    )
    .await
}
