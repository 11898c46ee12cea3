//! What verifying synced users reads, through real HTTP with every exchange checked against
//! Graph's v1.0 contract: the users cross-tenant sync creates in the target (and drift on
//! them), `provisionOnDemand`, and `/auditLogs/provisioning` narrowed to one user of one job.

mod common;

use common::*;
use serde_json::{Value, json};

/// The `USER_INBOUND_USER` rule of the Azure2Azure schema.
const RULE: &str = "6c409270-f78a-4bc6-af23-7cf3ab6482fe";
/// alice of Contoso, synced into Fabrikam.
const ALICE_EXT: &str = "alice_contoso.onmicrosoft.com#EXT#@fabrikam.onmicrosoft.com";
/// The `key` of a cross-tenant `provisionOnDemand` answer (the cross-tenant Graph how-to).
const STATUS_KEY: &str = "Microsoft.Identity.Health.CPP.Common.DataContracts.SyncFabric.StatusInfo";

/// A Contoso → Fabrikam configuration, its policies allowed.
struct Sync {
    a: String,
    b: String,
    sp: String,
    role: String,
    job: String,
}

impl Sync {
    fn jobs(&self) -> String {
        format!(
            "/servicePrincipals/{}/synchronization/jobs/{}",
            self.sp, self.job
        )
    }

    /// The provisioning log's query for the job's entries of the source user `id`.
    fn user_entries(&self, id: &str) -> String {
        format!(
            "?$filter=jobId eq '{}' and sourceIdentity/id eq '{id}'",
            self.job
        )
    }
}

async fn setup(env: &Env) -> Sync {
    let (a, b) = (env.a().await, env.b().await);
    allow_sync(env, &a, A, &b, B).await;
    let (sp, role, job) = configure(env, &a, B).await;
    Sync {
        a,
        b,
        sp,
        role,
        job,
    }
}

async fn assign_upn(env: &Env, s: &Sync, upn: &str) -> String {
    let id = user_id(env, &s.a, upn).await;
    assert_eq!(assign(env, &s.a, &s.sp, &s.role, &id).await.status, 201);
    id
}

async fn start_and_run(env: &Env, s: &Sync) {
    let r = env
        .call(&s.a, "POST", &format!("{}/start", s.jobs()), None)
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    env.advance(30.0).await;
}

/// `#` of an `#EXT#` UPN, escaped for a URL.
/// Changes the job schema's user mapping (`edit` gets its first object mapping) and puts the
/// schema back.
async fn edit_mapping(env: &Env, s: &Sync, edit: impl FnOnce(&mut Value)) {
    let mut schema = env.get(&s.a, &format!("{}/schema", s.jobs())).await.body;
    edit(&mut schema["synchronizationRules"][0]["objectMappings"][0]);
    let r = env
        .call(
            &s.a,
            "PUT",
            &format!("{}/schema", s.jobs()),
            Some(as_body(schema)),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
}

fn esc(upn: &str) -> String {
    upn.replace('#', "%23")
}

const SELECT: &str = "id,userPrincipalName,userType,identities,showInAddressList,accountEnabled,mail,displayName,creationType,externalUserState";

fn on_demand(ids: &[&str]) -> Value {
    let subjects: Vec<Value> = ids
        .iter()
        .map(|id| json!({"objectId": id, "objectTypeName": "User"}))
        .collect();
    json!({"parameters": [{"ruleId": RULE, "subjects": subjects}]})
}

/// The statuses of a `provisionOnDemand` answer: its `value`, a JSON array in a string.
fn statuses(r: &Resp) -> Vec<Value> {
    assert_eq!(r.status, 200, "{}", r.body);
    let text = r.body["value"].as_str().expect("value is a string");
    serde_json::from_str::<Value>(text)
        .expect("value is JSON")
        .as_array()
        .expect("value is a JSON array")
        .clone()
}

fn step_names(status: &Value, field: &str) -> Vec<String> {
    status["provisioningSteps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s[field].as_str().unwrap().to_owned())
        .collect()
}

/// `GET /auditLogs/provisioning{query}`, ten virtual seconds after the last one (identity
/// reports allow 5 requests per 10 s).
async fn logs(env: &Env, tok: &str, query: &str) -> Resp {
    env.advance(10.0).await;
    env.get(tok, &format!("/auditLogs/provisioning{query}"))
        .await
}

fn values(r: &Resp) -> Vec<Value> {
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["value"].as_array().unwrap().clone()
}

#[tokio::test]
async fn synced_users_carry_what_verification_reads() {
    let env = start().await;
    let s = setup(&env).await;
    assign_upn(&env, &s, "alice@contoso.onmicrosoft.com").await;
    start_and_run(&env, &s).await;

    let r = env
        .get(&s.b, &format!("/users/{}?$select={SELECT}", esc(ALICE_EXT)))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let alice = r.body.clone();
    let id = alice["id"].as_str().unwrap().to_owned();
    assert_eq!(alice["userPrincipalName"], ALICE_EXT);
    assert_eq!(
        alice["userType"], "Member",
        "the schema's userType constant"
    );
    assert_eq!(alice["showInAddressList"], true, "the schema's constant");
    assert_eq!(alice["accountEnabled"], true);
    assert_eq!(alice["mail"], "alice@contoso.onmicrosoft.com");
    assert_eq!(alice["displayName"], "Alice Martin");
    assert_eq!(alice["creationType"], "Invitation");
    assert_eq!(alice["externalUserState"], "Accepted");
    assert_eq!(
        alice["identities"],
        json!([
            {"signInType": "federated", "issuer": "ExternalAzureAD", "issuerAssignedId": null},
            {"signInType": "userPrincipalName", "issuer": "fabrikam.onmicrosoft.com", "issuerAssignedId": ALICE_EXT}
        ])
    );
    // Only what $select names.
    let keys: Vec<&String> = alice.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), SELECT.split(',').count() + 1, "{keys:?}");

    // The same through a list by UPN prefix, and by id with `in`.
    let r = env
        .get(
            &s.b,
            &format!(
                "/users?$filter=startswith(userPrincipalName,'{}')&$select={SELECT}",
                esc("alice_contoso.onmicrosoft.com#EXT#")
            ),
        )
        .await;
    let listed = values(&r);
    assert_eq!(listed.len(), 1);
    let mut expected = alice.clone();
    expected.as_object_mut().unwrap().remove("@odata.context");
    assert_eq!(listed[0], expected);
    let carol = user_id(&env, &s.b, "carol@fabrikam.onmicrosoft.com").await;
    let r = env
        .get(
            &s.b,
            &format!("/users?$filter=id in ('{id}', '{carol}')&$select=id,identities,creationType,userType"),
        )
        .await;
    let listed = values(&r);
    assert_eq!(listed.len(), 2);
    let internal = listed.iter().find(|u| u["id"] == carol.as_str()).unwrap();
    assert_eq!(
        internal["identities"],
        json!([{"signInType": "userPrincipalName", "issuer": "fabrikam.onmicrosoft.com", "issuerAssignedId": "carol@fabrikam.onmicrosoft.com"}])
    );
    assert_eq!(internal["creationType"], Value::Null);

    // And through $batch.
    let batch = json!({"requests": [
        {"id": "1", "method": "GET", "url": format!("/users/{id}?$select={SELECT}")},
        {"id": "2", "method": "GET", "url": format!("/users?$filter=userPrincipalName eq '{}'&$select=id,userType,identities,showInAddressList,accountEnabled", esc(ALICE_EXT))}
    ]});
    let r = env.call(&s.b, "POST", "/$batch", Some(batch)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let by = |i: &str| {
        r.body["responses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == i)
            .unwrap()
            .clone()
    };
    assert_eq!(by("1")["status"], 200);
    assert_eq!(by("1")["body"]["identities"], alice["identities"]);
    assert_eq!(by("2")["status"], 200);
    assert_eq!(by("2")["body"]["value"][0]["id"], id.as_str());
    assert_eq!(by("2")["body"]["value"][0]["showInAddressList"], true);
}

#[tokio::test]
async fn the_schema_decides_user_type_address_list_and_account_state() {
    let env = start().await;
    let s = setup(&env).await;
    assign_upn(&env, &s, "alice@contoso.onmicrosoft.com").await;
    assign_upn(&env, &s, "bob@contoso.onmicrosoft.com").await;
    let r = env
        .admin(
            "PATCH",
            &format!("tenants/{A}/users/bob@contoso.onmicrosoft.com"),
            Some(json!({"accountEnabled": false})),
        )
        .await;
    assert_eq!(r.status, 204);
    // Guests, and no showInAddressList mapping.
    edit_mapping(&env, &s, |mapping| {
        let mappings = mapping["attributeMappings"].as_array_mut().unwrap();
        mappings.retain(|m| m["targetAttributeName"] != "showInAddressList");
        for m in mappings.iter_mut() {
            if m["targetAttributeName"] == "userType" {
                m["source"] = json!({"type": "Constant", "name": "Guest", "expression": "\"Guest\"", "parameters": []});
            }
        }
    })
    .await;
    start_and_run(&env, &s).await;
    let r = env
        .get(
            &s.b,
            "/users?$filter=startswith(userPrincipalName,'alice_') or startswith(userPrincipalName,'bob_')&$select=userPrincipalName,userType,showInAddressList,accountEnabled",
        )
        .await;
    let users = values(&r);
    let find = |p: &str| {
        users
            .iter()
            .find(|u| u["userPrincipalName"].as_str().unwrap().starts_with(p))
            .unwrap()
            .clone()
    };
    assert_eq!(find("alice_")["userType"], "Guest");
    // Without a mapping, what the invitation manager sets (the user resource's
    // showInAddressList).
    assert_eq!(find("alice_")["showInAddressList"], false);
    assert_eq!(find("alice_")["accountEnabled"], true);
    assert_eq!(
        find("bob_")["accountEnabled"],
        false,
        "blocked in the source"
    );
}

/// What verification reads of alice in Fabrikam.
async fn read_alice(env: &Env, tok: &str) -> Value {
    let path = format!(
        "/users/{}?$select=userType,showInAddressList,accountEnabled,identities,department",
        esc(ALICE_EXT)
    );
    let r = env.get(tok, &path).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body
}

#[tokio::test]
async fn drift_in_the_target_persists_until_the_source_changes() {
    let env = start().await;
    let s = setup(&env).await;
    assign_upn(&env, &s, "alice@contoso.onmicrosoft.com").await;
    start_and_run(&env, &s).await;
    let target = format!("tenants/{B}/users/{}", esc(ALICE_EXT));
    let drifted_identity = json!([{"signInType": "federated", "issuer": "contoso.onmicrosoft.com", "issuerAssignedId": null}]);
    let r = env
        .admin(
            "PATCH",
            &target,
            Some(json!({
                "userType": "Guest",
                "showInAddressList": false,
                "accountEnabled": false,
                "identities": drifted_identity,
            })),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let u = read_alice(&env, &s.b).await;
    assert_eq!(
        (
            &u["userType"],
            &u["showInAddressList"],
            &u["accountEnabled"]
        ),
        (&json!("Guest"), &json!(false), &json!(false))
    );
    assert_eq!(u["identities"], drifted_identity);

    // A cycle with no change in the source leaves the target alone.
    env.advance(2400.0).await;
    let u = read_alice(&env, &s.b).await;
    assert_eq!(u["showInAddressList"], false);
    assert_eq!(u["accountEnabled"], false);

    // A change in the source: the next cycle writes the mappings that flow on updates
    // (showInAddressList, accountEnabled: Always); userType's ObjectAddOnly does not.
    let r = env
        .admin(
            "PATCH",
            &format!("tenants/{A}/users/alice@contoso.onmicrosoft.com"),
            Some(json!({"department": "Marketing"})),
        )
        .await;
    assert_eq!(r.status, 204);
    env.advance(2400.0).await;
    let u = read_alice(&env, &s.b).await;
    assert_eq!(u["department"], "Marketing");
    assert_eq!(u["showInAddressList"], true);
    assert_eq!(u["accountEnabled"], true);
    assert_eq!(u["userType"], "Guest", "userType flows on creation only");
    assert_eq!(u["identities"], drifted_identity, "not a synced attribute");

    // identities null: back to what Entra gives a synced user.
    let r = env
        .admin("PATCH", &target, Some(json!({"identities": null})))
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        read_alice(&env, &s.b).await["identities"][0]["issuer"],
        "ExternalAzureAD"
    );

    // Bad bodies.
    for bad in [
        json!({"identities": "ExternalAzureAD"}),
        json!({"identities": [{"issuer": 5}]}),
        json!({"identities": [{"issuer": "x", "kind": "y"}]}),
        json!({"showInAddressList": "yes"}),
        json!({"userType": "Admin"}),
    ] {
        let r = env.admin("PATCH", &target, Some(bad.clone())).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
    let r = env
        .admin(
            "PATCH",
            &format!("tenants/{B}/users/nobody@fabrikam.onmicrosoft.com"),
            Some(json!({"showInAddressList": true})),
        )
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn provision_on_demand_body_result_errors_and_rate_limit() {
    let env = start().await;
    let s = setup(&env).await;
    let alice = assign_upn(&env, &s, "alice@contoso.onmicrosoft.com").await;
    let bob = user_id(&env, &s.a, "bob@contoso.onmicrosoft.com").await;
    let url = format!("{}/provisionOnDemand", s.jobs());

    // Bad requests (refused before they count against the rate limit).
    for (body, says) in [
        (json!({}), "parameters"),
        (json!({"parameters": []}), "parameters"),
        (
            json!({"parameters": [{"ruleId": "nope", "subjects": [{"objectId": alice, "objectTypeName": "User"}]}]}),
            "nope",
        ),
        (
            json!({"parameters": [{"ruleId": RULE, "subjects": []}]}),
            "subjects",
        ),
        (
            json!({"parameters": [{"ruleId": RULE, "subjects": [{"objectId": alice, "objectTypeName": "Group"}]}]}),
            "groups",
        ),
        (
            json!({"parameters": [{"ruleId": RULE, "subjects": [{"objectId": alice, "objectTypeName": "Device"}]}]}),
            "Device",
        ),
    ] {
        let r = env.call(&s.a, "POST", &url, Some(body.clone())).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert!(
            r.body["error"]["message"].as_str().unwrap().contains(says),
            "{body}: {}",
            r.body
        );
    }
    let nobody = "00000000-0000-4000-8000-00000000abcd";
    let r = env
        .call(&s.a, "POST", &url, Some(on_demand(&[nobody])))
        .await;
    assert_eq!((r.status, r.code()), (404, "Request_ResourceNotFound"));

    // The job has not started: on demand provisions at once all the same.
    let r = env
        .call(&s.a, "POST", &url, Some(on_demand(&[&alice])))
        .await;
    assert!(
        r.body["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("$metadata#microsoft.graph.stringKeyStringValuePair")
    );
    assert_eq!(r.body["key"], STATUS_KEY);
    let st = statuses(&r);
    assert_eq!(st.len(), 1);
    let created = &st[0];
    assert_eq!(created["action"], "Create");
    assert_eq!(created["statusInfo"]["status"], "Success");
    assert_eq!(
        created["reportableIdentifier"],
        "alice@contoso.onmicrosoft.com"
    );
    assert_eq!(created["sourceIdentity"]["id"], alice.as_str());
    assert_eq!(created["sourceIdentity"]["type"], "User");
    assert_eq!(
        step_names(created, "name"),
        [
            "EntryImport",
            "EntrySynchronizationScoping",
            "EntrySynchronizationAdd",
            "EntryExportAdd"
        ]
    );
    assert_eq!(
        step_names(created, "type"),
        ["Import", "Scoping", "Matching", "Export"]
    );
    assert!(
        created["modifiedProperties"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["displayName"] == "userPrincipalName" && m["newValue"] == ALICE_EXT)
    );
    let target = created["targetIdentity"]["id"].as_str().unwrap().to_owned();
    let r = env
        .get(&s.b, &format!("/users/{target}?$select=userPrincipalName"))
        .await;
    assert_eq!(
        r.body["userPrincipalName"], ALICE_EXT,
        "the target user exists at once"
    );

    // Again: nothing to do.
    let r = env
        .call(&s.a, "POST", &url, Some(on_demand(&[&alice])))
        .await;
    let again = &statuses(&r)[0];
    assert_eq!(again["action"], "Other");
    assert_eq!(again["statusInfo"]["status"], "Skipped");
    let last = again["provisioningSteps"]
        .as_array()
        .unwrap()
        .last()
        .unwrap();
    assert_eq!(last["name"], "EntrySynchronizationSkip");
    assert_eq!(last["details"]["SkipReason"], "RedundantExport");

    // bob is not assigned: skipped at the scoping step, nothing in the target.
    let r = env.call(&s.a, "POST", &url, Some(on_demand(&[&bob]))).await;
    let skipped = &statuses(&r)[0];
    assert_eq!(skipped["statusInfo"]["status"], "Skipped");
    assert_eq!(skipped["statusInfo"]["errorCode"], "NotEffectivelyEntitled");
    let scoping = &skipped["provisioningSteps"][1];
    assert_eq!(
        (&scoping["type"], &scoping["status"]),
        (&json!("Scoping"), &json!("Skipped"))
    );
    assert_eq!(scoping["details"]["SkipReason"], "NotEffectivelyEntitled");
    assert_eq!(scoping["details"]["Assigned to the application"], "False");
    assert!(
        scoping["description"]
            .as_str()
            .unwrap()
            .contains("This object is not assigned to the application")
    );
    assert!(
        env.get(&s.b, "/users?$filter=startswith(userPrincipalName,'bob_')")
            .await
            .body["value"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Several subjects: one status each. That is the fifth call in ten seconds.
    let r = env
        .call(&s.a, "POST", &url, Some(on_demand(&[&alice, &bob])))
        .await;
    let both = statuses(&r);
    assert_eq!(both.len(), 2);
    assert_eq!(both[1]["sourceIdentity"]["id"], bob.as_str());
    // "The rate limit for this API is 5 requests per 10 seconds."
    let r = env
        .call(&s.a, "POST", &url, Some(on_demand(&[&alice])))
        .await;
    assert_eq!((r.status, r.code()), (429, "TooManyRequests"));
    assert!(r.header("retry-after").is_some());
    env.advance(10.0).await;
    let r = env
        .call(&s.a, "POST", &url, Some(on_demand(&[&alice])))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Every subject provisioned is in the log, under the changeId its status gave.
    let r = logs(&env, &s.a, &s.user_entries(&alice)).await;
    let entries = values(&r);
    assert_eq!(entries.len(), 4, "create, then three skips");
    assert_eq!(entries[3]["changeId"], created["changeId"]);
    assert_eq!(entries[3]["provisioningAction"], "create");
    assert_eq!(entries[3]["targetIdentity"]["id"], target.as_str());
    assert_eq!(entries[0]["provisioningAction"], "other");
    assert_eq!(entries[0]["provisioningStatusInfo"]["status"], "skipped");
}

/// Whether a user whose UPN starts with `prefix` is in the tenant of `tok`.
async fn synced(env: &Env, tok: &str, prefix: &str) -> bool {
    let path = format!("/users?$filter=startswith(userPrincipalName,'{prefix}')&$select=id");
    !values(&env.get(tok, &path).await).is_empty()
}

#[tokio::test]
async fn a_user_outside_the_scoping_filter_is_skipped_with_the_reason() {
    let env = start().await;
    let s = setup(&env).await;
    let alice = assign_upn(&env, &s, "alice@contoso.onmicrosoft.com").await;
    let bob = assign_upn(&env, &s, "bob@contoso.onmicrosoft.com").await;
    edit_mapping(&env, &s, |mapping| {
        mapping["scope"] = json!({"groups": [{"name": "Engineering only", "clauses": [
        {"sourceOperandName": "department", "operatorName": "EQUALS", "targetOperand": {"values": ["Engineering"]}}
    ]}]});
    })
    .await;
    start_and_run(&env, &s).await;
    assert!(synced(&env, &s.b, "bob_").await);
    assert!(
        !synced(&env, &s.b, "alice_").await,
        "Sales, outside the filter"
    );

    let query = s.user_entries(&alice);
    let entries = values(&logs(&env, &s.a, &query).await);
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    assert_eq!(e["provisioningAction"], "other");
    assert_eq!(e["provisioningStatusInfo"]["status"], "skipped");
    let error = &e["provisioningStatusInfo"]["errorInformation"];
    assert_eq!(error["errorCode"], "NotEffectivelyEntitled");
    let reason = error["reason"].as_str().unwrap();
    assert!(
        reason.contains("scoping filter")
            && reason.contains("Engineering only.department EQUALS 'Engineering'"),
        "{reason}"
    );
    let steps = e["provisioningSteps"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    assert_eq!(
        (
            &steps[0]["name"],
            &steps[0]["provisioningStepType"],
            &steps[0]["status"]
        ),
        (
            &json!("EntryImportAdd"),
            &json!("import"),
            &json!("success")
        )
    );
    assert_eq!(
        (
            &steps[1]["name"],
            &steps[1]["provisioningStepType"],
            &steps[1]["status"]
        ),
        (
            &json!("EntrySynchronizationScoping"),
            &json!("scoping"),
            &json!("skipped")
        )
    );
    assert_eq!(steps[1]["description"], json!(reason));

    // An unchanged user is not processed again by the next (incremental) cycle.
    env.advance(2400.0).await;
    assert_eq!(values(&logs(&env, &s.a, &query).await).len(), 1);
    // bob's create is logged once too.
    let bob_entries = values(&logs(&env, &s.a, &s.user_entries(&bob)).await);
    assert_eq!(bob_entries.len(), 1);
    assert_eq!(bob_entries[0]["provisioningAction"], "create");

    // On demand shows the evaluation of each clause.
    let r = env
        .call(
            &s.a,
            "POST",
            &format!("{}/provisionOnDemand", s.jobs()),
            Some(on_demand(&[&alice])),
        )
        .await;
    let st = &statuses(&r)[0];
    let details = &st["provisioningSteps"][1]["details"];
    assert_eq!(details["IsInProvisioningScope"], "False");
    assert_eq!(details["Assigned to the application"], "True");
    assert_eq!(details["Scoping filter evaluation passed"], "False");
    let evaluation: Value =
        serde_json::from_str(details["ScopeEvaluationResult"].as_str().unwrap()).unwrap();
    assert_eq!(
        evaluation,
        json!({"Engineering only.department EQUALS 'Engineering'": false})
    );
}

#[tokio::test]
async fn provisioning_logs_of_one_user_of_one_job() {
    let env = start().await;
    let s = setup(&env).await;
    let alice = assign_upn(&env, &s, "alice@contoso.onmicrosoft.com").await;
    assign_upn(&env, &s, "bob@contoso.onmicrosoft.com").await;
    start_and_run(&env, &s).await;
    let r = env
        .admin(
            "PATCH",
            &format!("tenants/{A}/users/alice@contoso.onmicrosoft.com"),
            Some(json!({"displayName": "Alice M."})),
        )
        .await;
    assert_eq!(r.status, 204);
    env.advance(2400.0).await;
    let alice_b = user_id(&env, &s.b, &esc(ALICE_EXT)).await;

    let one = s.user_entries(&alice);
    let entries = values(&logs(&env, &s.a, &one).await);
    let actions: Vec<&Value> = entries.iter().map(|e| &e["provisioningAction"]).collect();
    assert_eq!(
        actions,
        [&json!("update"), &json!("create")],
        "newest first"
    );
    let created = &entries[1];
    assert_eq!(created["jobId"], s.job.as_str());
    assert_eq!(created["tenantId"], A);
    assert!(created["cycleId"].is_string() && created["changeId"].is_string());
    assert_eq!(created["activityDateTime"], "2026-01-01T00:00:30Z");
    assert_eq!(
        created["provisioningStatusInfo"],
        json!({"status": "success", "errorInformation": null})
    );
    assert_eq!(created["servicePrincipal"]["id"], s.sp.as_str());
    assert_eq!(
        created["servicePrincipal"]["displayName"],
        format!("MTO_Sync_{B}")
    );
    assert_eq!(created["sourceIdentity"]["id"], alice.as_str());
    assert_eq!(created["sourceIdentity"]["displayName"], "Alice Martin");
    assert_eq!(created["sourceIdentity"]["identityType"], "User");
    assert!(created["sourceIdentity"]["details"].is_object());
    assert_eq!(created["targetIdentity"]["id"], alice_b.as_str());
    assert_eq!(created["targetIdentity"]["identityType"], "User");
    assert_eq!(created["initiatedBy"]["initiatorType"], "system");
    let steps: Vec<(String, String, String)> = created["provisioningSteps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert!(s["description"].is_string() && s["details"].is_object());
            (
                s["name"].as_str().unwrap().to_owned(),
                s["provisioningStepType"].as_str().unwrap().to_owned(),
                s["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let step = |n: &str, k: &str| (n.to_owned(), k.to_owned(), "success".to_owned());
    assert_eq!(
        steps,
        [
            step("EntryImportAdd", "import"),
            step("EntrySynchronizationScoping", "scoping"),
            step("EntrySynchronizationAdd", "matching"),
            step("EntryExportAdd", "export"),
        ]
    );
    assert_eq!(
        entries[0]["modifiedProperties"],
        json!([{"displayName": "displayName", "oldValue": "Alice Martin", "newValue": "Alice M."}])
    );

    // $orderby on activityDateTime, both ways.
    let desc = values(&logs(&env, &s.a, &format!("{one}&$orderby=activityDateTime desc")).await);
    assert_eq!(desc, entries);
    let asc = values(&logs(&env, &s.a, &format!("{one}&$orderby=activityDateTime asc")).await);
    assert_eq!(asc[0]["provisioningAction"], "create");
    assert_eq!(asc[1]["provisioningAction"], "update");

    // $top and the nextLink.
    let r = logs(&env, &s.a, &format!("{one}&$top=1")).await;
    assert_eq!(values(&r).len(), 1);
    let next = r.body["@odata.nextLink"].as_str().unwrap().to_owned();
    env.advance(10.0).await;
    let r = env.get(&s.a, &next).await;
    assert_eq!(values(&r), vec![entries[1].clone()]);
    assert!(r.body.get("@odata.nextLink").is_none());

    // The cross-tenant how-to's query: one configuration, a time window, newest first.
    let howto = format!(
        "?$filter=((contains(tolower(servicePrincipal/id), '{sp}') or contains(tolower(servicePrincipal/displayName), '{sp}')) and activityDateTime gt 2026-01-01 and activityDateTime lt 2026-01-02)&$top=500&$orderby=activityDateTime desc",
        sp = s.sp
    );
    let all = values(&logs(&env, &s.a, &howto).await);
    assert_eq!(all.len(), 3, "two creates and an update");
    assert_eq!(all[0]["provisioningAction"], "update");
    let before = "?$filter=activityDateTime lt 2026-01-01T00:00:30Z";
    assert!(values(&logs(&env, &s.a, before).await).is_empty());

    // "The filters are all case sensitive."
    let upper = format!("?$filter=jobId eq '{}'", s.job.to_ascii_uppercase());
    assert!(values(&logs(&env, &s.a, &upper).await).is_empty());

    // What the reference does not list is refused.
    for q in [
        "?$filter=startswith(jobId,'Azure2Azure')",
        "?$filter=jobId ne 'x'",
        "?$filter=provisioningAction in ('create')",
        "?$filter=not(jobId eq 'x')",
        "?$orderby=jobId",
    ] {
        let r = logs(&env, &s.a, q).await;
        assert_eq!(r.status, 400, "{q}: {}", r.body);
    }
}

#[tokio::test]
async fn profile_attributes_are_read_and_scope_the_sync() {
    let env = start().await;
    let s = setup(&env).await;
    // A world-file user with profile attributes, and one set through the drift API.
    let r = env
        .admin(
            "POST",
            &format!("tenants/{A}/users"),
            Some(json!({"userPrincipalName": "gina@contoso.onmicrosoft.com", "employeeType": "Employee", "companyName": "Contoso"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = env
        .admin(
            "PATCH",
            &format!("tenants/{A}/users/alice@contoso.onmicrosoft.com"),
            Some(json!({"employeeType": "Contractor"})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = env
        .admin(
            "PATCH",
            &format!("tenants/{A}/users/alice@contoso.onmicrosoft.com"),
            Some(json!({"employeeType": 7})),
        )
        .await;
    assert_eq!(r.status, 400);
    let sales = env
        .get(&s.a, "/groups?$filter=displayName eq 'Contoso Sales'")
        .await
        .body["value"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = env
        .admin(
            "POST",
            &format!("tenants/{A}/groups/{sales}/members"),
            Some(json!({"member": "gina@contoso.onmicrosoft.com"})),
        )
        .await;
    assert_eq!(r.status, 204);
    // Members with the attributes a scoping filter names.
    let r = env
        .get(
            &s.a,
            &format!("/groups/{sales}/members?$select=id,userPrincipalName,userType,accountEnabled,employeeType,mailNickname&$top=5"),
        )
        .await;
    let members = values(&r);
    let of = |upn: &str| {
        members
            .iter()
            .find(|m| m["userPrincipalName"] == upn)
            .unwrap()
            .clone()
    };
    assert_eq!(
        of("alice@contoso.onmicrosoft.com")["employeeType"],
        "Contractor"
    );
    assert_eq!(
        of("gina@contoso.onmicrosoft.com")["employeeType"],
        "Employee"
    );
    assert_eq!(
        of("erin@contoso.onmicrosoft.com")["employeeType"],
        Value::Null
    );
    assert_eq!(of("erin@contoso.onmicrosoft.com")["mailNickname"], "erin");

    // A scoping filter on employeeType: only gina is synced.
    assert_eq!(assign(&env, &s.a, &s.sp, &s.role, &sales).await.status, 201);
    edit_mapping(&env, &s, |mapping| {
        mapping["scope"] = json!({"groups": [{"name": "Employees", "clauses": [
        {"sourceOperandName": "employeeType", "operatorName": "EQUALS", "targetOperand": {"values": ["Employee"]}}
    ]}]});
    })
    .await;
    start_and_run(&env, &s).await;
    assert!(synced(&env, &s.b, "gina_").await);
    assert!(!synced(&env, &s.b, "alice_").await);
    assert!(!synced(&env, &s.b, "erin_").await);
}
