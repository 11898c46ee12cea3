//! Plan against a converged emulator world: nothing to do; then out-of-band changes show up as
//! exactly that drift. The world is converged here with direct Graph writes (the walkthrough's
//! calls), independently of `apply`, so the planner, collect and the emulator are checked against
//! each other; the plan itself comes from the `mtoctl` binary.

mod common;

use common::{CONTOSO, FABRIKAM, quickstart_env, repo};
use std::process::Command;
use std::sync::Arc;

use mtoctl_graph::auth::{AuthContext, MapEnvironment, credential_for};
use mtoctl_graph::endpoints::Endpoints;
use mtoctl_graph::transport::{ClientConfig, GraphClient, GraphRequest, http_client};
use reqwest::Method;
use serde_json::{Value, json};

struct World {
    server: mtoctl_emulator::Server,
    client: GraphClient,
    _contract: common::contract::CheckedOnDrop,
}

impl World {
    async fn start() -> Self {
        let text = std::fs::read_to_string(repo("examples/quickstart/world.yaml")).expect("world");
        let (contract, server) = common::contract::serve_checked(&text, Default::default()).await;
        let bytes = std::fs::read(repo("examples/quickstart/mto.yaml")).expect("spec");
        let desired = mtoctl_model::spec::load("mto.yaml", &bytes)
            .expect("valid")
            .desired;
        let ctx = AuthContext {
            endpoints: Endpoints::new(Some(&server.base_url), Some(&server.base_url))
                .expect("endpoints"),
            env: Arc::new(MapEnvironment(quickstart_env().into_iter().collect())),
            spec_dir: repo("examples/quickstart"),
            http: http_client(std::time::Duration::from_secs(30)).expect("an HTTP client"),
        };
        let mut builder = GraphClient::builder(
            ctx.http.clone(),
            ctx.endpoints.clone(),
            ClientConfig::default(),
        );
        for t in &desired.tenants {
            builder = builder.tenant(
                t.alias.as_str(),
                credential_for(t, &ctx).expect("credential"),
            );
        }
        Self {
            server,
            client: builder.build(),
            _contract: contract,
        }
    }

    async fn call(&self, tenant: &str, method: Method, path: &str, body: Option<Value>) -> Value {
        let request = match body {
            Some(b) => GraphRequest::with_body(method, path, b),
            None => GraphRequest::new(method, path),
        };
        self.client
            .send(tenant, &request)
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"))
            .body
    }

    async fn advance(&self, seconds: u64) {
        let r = reqwest::Client::new()
            .post(format!("{}/_emulator/advance", self.server.base_url))
            .json(&json!({"seconds": seconds}))
            .send()
            .await
            .expect("advance");
        assert!(r.status().is_success());
    }

    /// The walkthrough, by hand: templates, MTO, member, join, then one sync configuration per
    /// direction with the spec's scope, userType mapping and a started job.
    async fn converge(&self) {
        for t in ["contoso", "fabrikam"] {
            self.call(t, Method::PATCH, "/policies/crossTenantAccessPolicy/templates/multiTenantOrganizationIdentitySynchronization",
                Some(json!({"userSyncInbound": {"isSyncAllowed": true}}))).await;
            self.call(t, Method::PATCH, "/policies/crossTenantAccessPolicy/templates/multiTenantOrganizationPartnerConfiguration",
                Some(json!({"automaticUserConsentSettings": {"inboundAllowed": true, "outboundAllowed": true},
                            "inboundTrust": {"isMfaAccepted": true, "isCompliantDeviceAccepted": null, "isHybridAzureADJoinedDeviceAccepted": null}}))).await;
        }
        self.call("contoso", Method::PUT, "/tenantRelationships/multiTenantOrganization",
            Some(json!({"displayName": "Contoso Group", "description": "Contoso and Fabrikam collaborate as one organization."}))).await;
        self.call(
            "contoso",
            Method::POST,
            "/tenantRelationships/multiTenantOrganization/tenants",
            Some(json!({"tenantId": FABRIKAM, "displayName": "Fabrikam", "role": "member"})),
        )
        .await;
        self.call(
            "fabrikam",
            Method::PATCH,
            "/tenantRelationships/multiTenantOrganization/joinRequest",
            Some(json!({"addedByTenantId": CONTOSO})),
        )
        .await;
        self.advance(5 * 3600).await;

        let syncs = [
            (
                "contoso",
                FABRIKAM,
                vec![
                    "alice@contoso.onmicrosoft.com",
                    "bob@contoso.onmicrosoft.com",
                ],
                "Contoso Sales",
            ),
            (
                "fabrikam",
                CONTOSO,
                vec!["carol@fabrikam.onmicrosoft.com"],
                "Fabrikam Engineering",
            ),
        ];
        for (tenant, target, users, group) in syncs {
            let made = self
                .call(
                    tenant,
                    Method::POST,
                    "/applicationTemplates/518e5f48-1fc8-4c48-9387-9fdf28b0dfe7/instantiate",
                    Some(json!({"displayName": format!("MTO_Sync_{target}")})),
                )
                .await;
            let sp = made["servicePrincipal"]["id"]
                .as_str()
                .expect("sp")
                .to_owned();
            let role = made["servicePrincipal"]["appRoles"]
                .as_array()
                .and_then(|roles| {
                    roles.iter().find(|r| {
                        r["allowedMemberTypes"]
                            .as_array()
                            .is_some_and(|t| t.iter().any(|m| m == "User"))
                    })
                })
                .and_then(|r| r["id"].as_str())
                .expect("user role")
                .to_owned();
            let job = self
                .call(
                    tenant,
                    Method::POST,
                    &format!("/servicePrincipals/{sp}/synchronization/jobs"),
                    Some(json!({"templateId": "Azure2Azure"})),
                )
                .await;
            let job = job["id"].as_str().expect("job").to_owned();
            self.call(tenant, Method::PUT, &format!("/servicePrincipals/{sp}/synchronization/secrets"),
                Some(json!({"value": [{"key": "AuthenticationType", "value": "SyncPolicy"}, {"key": "CompanyId", "value": target},
                                      {"key": "SyncAll", "value": "false"}]}))).await;
            let schema_path = format!("/servicePrincipals/{sp}/synchronization/jobs/{job}/schema");
            let mut schema = self.call(tenant, Method::GET, &schema_path, None).await;
            for rule in schema["synchronizationRules"]
                .as_array_mut()
                .expect("rules")
            {
                for mapping in rule["objectMappings"].as_array_mut().expect("mappings") {
                    for attr in mapping["attributeMappings"]
                        .as_array_mut()
                        .expect("attributes")
                    {
                        if attr["targetAttributeName"] == "userType" {
                            attr["flowType"] = json!("Always");
                        }
                    }
                }
            }
            // What a GET carried about itself is no part of a request body.
            if let Some(m) = schema.as_object_mut() {
                m.remove("@odata.context");
            }
            self.call(tenant, Method::PUT, &schema_path, Some(schema))
                .await;
            for upn in users {
                let user = self
                    .call(
                        tenant,
                        Method::GET,
                        &format!("/users/{upn}?$select=id"),
                        None,
                    )
                    .await;
                self.call(
                    tenant,
                    Method::POST,
                    &format!("/servicePrincipals/{sp}/appRoleAssignedTo"),
                    Some(json!({"principalId": user["id"], "resourceId": sp, "appRoleId": role})),
                )
                .await;
            }
            let groups = self
                .call(
                    tenant,
                    Method::GET,
                    &format!("/groups?$filter=displayName eq '{group}'&$select=id"),
                    None,
                )
                .await;
            let group_id = groups["value"][0]["id"].clone();
            self.call(
                tenant,
                Method::POST,
                &format!("/servicePrincipals/{sp}/appRoleAssignedTo"),
                Some(json!({"principalId": group_id, "resourceId": sp, "appRoleId": role})),
            )
            .await;
            self.call(
                tenant,
                Method::POST,
                &format!("/servicePrincipals/{sp}/synchronization/jobs/{job}/start"),
                None,
            )
            .await;
        }
        self.advance(3600).await;
    }

    async fn plan(&self) -> (i32, String, String) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mtoctl"));
        cmd.env("MTOCTL_NO_KNOWN_IDS", "1");
        cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
            .envs(quickstart_env())
            .env("MTOCTL_GRAPH_URL", &self.server.base_url)
            .env("MTOCTL_LOGIN_URL", &self.server.base_url)
            .args([
                "plan",
                "-f",
                "examples/quickstart/mto.yaml",
                "--detailed-exitcode",
                "--color",
                "never",
            ]);
        let out = tokio::task::spawn_blocking(move || cmd.output())
            .await
            .expect("joined")
            .expect("runs");
        (
            out.status.code().expect("code"),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_converged_world_plans_nothing_and_drift_shows_as_exactly_that() {
    let world = World::start().await;
    world.converge().await;
    let (code, stdout, stderr) = world.plan().await;
    assert_eq!(
        code, 0,
        "a converged world plans nothing:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("No changes."), "{stdout}");

    // Out of band: fabrikam stops trusting contoso's MFA.
    world.call("fabrikam", Method::PATCH, &format!("/policies/crossTenantAccessPolicy/partners/{CONTOSO}"),
        Some(json!({"inboundTrust": {"isMfaAccepted": false, "isCompliantDeviceAccepted": null, "isHybridAzureADJoinedDeviceAccepted": null}}))).await;
    let (code, stdout, _) = world.plan().await;
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stdout.contains("Plan: 0 to add, 1 to change, 0 to destroy"),
        "{stdout}"
    );
    assert!(
        stdout.contains("tenant.fabrikam.partner[\"contoso\"]"),
        "{stdout}"
    );
    assert!(stdout.contains("inbound_trust.mfa"), "{stdout}");

    // Out of band: alice is unassigned from contoso's sync configuration (and fabrikam's
    // partner setting stays drifted, so the plan now shows both, and nothing else).
    let sps = world.call("contoso", Method::GET,
        "/servicePrincipals?$filter=applicationTemplateId eq '518e5f48-1fc8-4c48-9387-9fdf28b0dfe7'&$select=id", None).await;
    let sp = sps["value"][0]["id"].as_str().expect("sp").to_owned();
    let alice = world
        .call(
            "contoso",
            Method::GET,
            "/users/alice@contoso.onmicrosoft.com?$select=id",
            None,
        )
        .await;
    let assignments = world
        .call(
            "contoso",
            Method::GET,
            &format!("/servicePrincipals/{sp}/appRoleAssignedTo"),
            None,
        )
        .await;
    let assignment = assignments["value"]
        .as_array()
        .expect("list")
        .iter()
        .find(|a| a["principalId"] == alice["id"])
        .expect("alice assigned");
    world
        .call(
            "contoso",
            Method::DELETE,
            &format!(
                "/servicePrincipals/{sp}/appRoleAssignedTo/{}",
                assignment["id"].as_str().expect("id")
            ),
            None,
        )
        .await;
    let (code, stdout, _) = world.plan().await;
    assert_eq!(code, 2, "{stdout}");
    assert!(
        stdout.contains("Plan: 1 to add, 1 to change, 0 to destroy"),
        "{stdout}"
    );
    assert!(stdout.contains("alice@contoso.onmicrosoft.com"), "{stdout}");
}
