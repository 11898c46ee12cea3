//! Attribute mappings (issue #23): `parseExpression`, a schema written back with what it
//! answered, and the mapped values a sync cycle gives the users it provisions.

mod common;

use common::*;
use serde_json::{Value, json};

/// Contoso's alice with a full profile, bob with nothing but a name; Fabrikam empty.
const WORLD: &str = r#"
seed: 7
tenants:
  - id: 6babcaad-604b-40ac-a9d7-9fd97c0b779f
    displayName: Contoso
    domain: contoso.onmicrosoft.com
    apps:
      - clientId: 0d3f3c4e-5b7a-4c1e-9a8b-1c2d3e4f5a6b
        secret: contoso-emulator-secret
      - clientId: 11111111-2222-4333-8444-555555555555
        secret: readonly-secret
        roles: [Policy.Read.All, User.Read.All, Synchronization.Read.All]
    users:
      - userPrincipalName: alice@contoso.onmicrosoft.com
        displayName: Alice Martin
        givenName: Alice
        surname: Martin
        department: Sales
        jobTitle: Account Manager
        employeeId: E-1001
        city: Lyon
        country: France
      - userPrincipalName: bob@contoso.onmicrosoft.com
        displayName: Bob Stone
  - id: 3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11
    displayName: Fabrikam
    domain: fabrikam.onmicrosoft.com
    apps:
      - clientId: 7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
        secret: fabrikam-emulator-secret
"#;

const ALICE_EXT: &str = "alice_contoso.onmicrosoft.com%23EXT%23@fabrikam.onmicrosoft.com";
const BOB_EXT: &str = "bob_contoso.onmicrosoft.com%23EXT%23@fabrikam.onmicrosoft.com";
const SELECT: &str = "$select=displayName,givenName,department,jobTitle,companyName,city,country,employeeId,mailNickname,userType";

struct Sync {
    a: String,
    b: String,
    sp: String,
    role: String,
    jobs: String,
}

async fn setup(env: &Env) -> Sync {
    let (a, b) = (env.a().await, env.b().await);
    allow_sync(env, &a, A, &b, B).await;
    let (sp, role, job) = configure(env, &a, B).await;
    let jobs = format!("/servicePrincipals/{sp}/synchronization/jobs/{job}");
    Sync {
        a,
        b,
        sp,
        role,
        jobs,
    }
}

async fn parse(env: &Env, s: &Sync, body: Value) -> Resp {
    env.call(
        &s.a,
        "POST",
        &format!("{}/schema/parseExpression", s.jobs),
        Some(body),
    )
    .await
}

/// The parsed expression of `expression`, asserting it parses.
async fn parsed(env: &Env, s: &Sync, expression: &str) -> Value {
    let r = parse(env, s, json!({"expression": expression})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["parsingSucceeded"], true, "{}", r.body);
    r.body["parsedExpression"].clone()
}

/// `attributeMapping` to `target` from `source`.
fn mapping(target: &str, source: Value, flow: &str) -> Value {
    json!({
        "targetAttributeName": target,
        "source": source,
        "defaultValue": null,
        "flowType": flow,
        "flowBehavior": "FlowWhenChanged",
        "matchingPriority": 0,
        "exportMissingReferences": false
    })
}

fn constant(value: &str) -> Value {
    json!({"expression": format!("\"{value}\""), "name": value, "parameters": [], "type": "Constant"})
}

fn attribute(name: &str) -> Value {
    json!({"expression": format!("[{name}]"), "name": name, "parameters": [], "type": "Attribute"})
}

/// The stored schema with `mappings` replacing (by target) or added to the user mapping's.
async fn with_mappings(env: &Env, s: &Sync, mappings: &[Value]) -> Value {
    let mut schema = as_body(env.get(&s.a, &format!("{}/schema", s.jobs)).await.body);
    let list = schema["synchronizationRules"][0]["objectMappings"][0]["attributeMappings"]
        .as_array_mut()
        .unwrap();
    for m in mappings {
        list.retain(|a| a["targetAttributeName"] != m["targetAttributeName"]);
        list.push(m.clone());
    }
    schema
}

async fn put_schema(env: &Env, s: &Sync, schema: &Value) {
    let r = env
        .call(
            &s.a,
            "PUT",
            &format!("{}/schema", s.jobs),
            Some(schema.clone()),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
}

async fn target_user(env: &Env, s: &Sync, upn: &str) -> Resp {
    env.get(&s.b, &format!("/users/{upn}?{SELECT}")).await
}

/// The reference's example (`synchronization-synchronizationschema-parseexpression`): its
/// request, and the answer it shows, key for key; then the same without a test object, and
/// on the template.
#[tokio::test]
async fn parse_expression_answers_as_the_reference_shows() {
    let env = start_with(WORLD, Default::default()).await;
    let s = setup(&env).await;
    let r = parse(
        &env,
        &s,
        json!({
            "expression": "Replace([preferredLanguage], \"-\", , , \"_\", ,  )",
            "targetAttributeDefinition": null,
            "testInputObject": {"definition": null, "properties": [
                {"key": "objectId", "value": "66E4A8CC-1B7B-435E-95F8-F06CEA133828"},
                {"key": "IsSoftDeleted", "value": "false"},
                {"key": "displayName", "value": "John Smith"},
                {"key": "physicalDeliveryOfficeName", "value": "Main Office"},
                {"key": "preferredLanguage", "value": "EN-US"},
                {"key": "appRoleAssignments", "value@odata.type": "#Collection(String)", "value": ["Default Assignment"]}
            ]}
        }),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut body = r.body.clone();
    assert!(
        body.as_object_mut()
            .unwrap()
            .remove("@odata.context")
            .is_some_and(|c| c
                .as_str()
                .unwrap()
                .ends_with("$metadata#microsoft.graph.parseExpressionResponse"))
    );
    assert_eq!(
        body,
        json!({
            "error": null,
            "evaluationSucceeded": true,
            "evaluationResult": ["EN_US"],
            "parsedExpression": {
                "expression": "Replace([preferredLanguage], \"-\", , , \"_\", , )",
                "name": "Replace",
                "parameters": [
                    {"key": "source", "value": {"expression": "[preferredLanguage]", "name": "preferredLanguage", "parameters": [], "type": "Attribute"}},
                    {"key": "Find", "value": {"expression": "\"-\"", "name": "-", "parameters": [], "type": "Constant"}},
                    {"key": "Replacement", "value": {"expression": "\"_\"", "name": "_", "parameters": [], "type": "Constant"}}
                ],
                "type": "Function"
            },
            "parsingSucceeded": true
        })
    );

    // Without a test object: parsed, not evaluated.
    let r = parse(
        &env,
        &s,
        json!({"expression": "Join(\" \", [givenName], [surname])"}),
    )
    .await;
    assert_eq!(r.body["parsingSucceeded"], true);
    assert_eq!(r.body["evaluationSucceeded"], false);
    assert!(r.body["evaluationResult"].is_null() && r.body["error"].is_null());
    assert_eq!(r.body["parsedExpression"]["name"], "Join");

    // A test object without the attributes: the value is null, so no value.
    let r = parse(
        &env,
        &s,
        json!({"expression": "ToUpper([givenName])", "testInputObject": {"properties": []}}),
    )
    .await;
    assert_eq!(
        (
            r.body["evaluationSucceeded"].clone(),
            r.body["evaluationResult"].clone()
        ),
        (json!(true), json!([]))
    );

    // The template's schema answers too.
    let r = env
        .call(
            &s.a,
            "POST",
            &format!(
                "/servicePrincipals/{}/synchronization/templates/Azure2Azure/schema/parseExpression",
                s.sp
            ),
            Some(json!({"expression": "[mail]"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["parsedExpression"],
        json!({"expression": "[mail]", "name": "mail", "parameters": [], "type": "Attribute"})
    );
    let r = env
        .call(
            &s.a,
            "POST",
            &format!(
                "/servicePrincipals/{}/synchronization/templates/SCIM/schema/parseExpression",
                s.sp
            ),
            Some(json!({"expression": "[mail]"})),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
}

/// Each kind of failure: reported in the answer (`parsingSucceeded: false`, a `publicError`
/// saying what and where); a bad request body, another method and a caller without
/// `Synchronization.ReadWrite.All` are refused.
#[tokio::test]
async fn parse_expression_reports_each_failure() {
    let env = start_with(WORLD, Default::default()).await;
    let s = setup(&env).await;
    for (expression, code, target, position) in [
        (
            "Join(\" \", Frobnicate([givenName]))",
            "UnknownFunction",
            "Frobnicate",
            11,
        ),
        (
            "Join(\" \", [givenName], [officeLocation])",
            "UnknownAttribute",
            "officeLocation",
            24,
        ),
        ("Join(\" \", [givenName]", "SyntaxError", "(", 1),
        ("Append([givenName], \"x\" \"y\")", "SyntaxError", "\"", 25),
        ("Mid([givenName], 1)", "InvalidArguments", "Mid", 1),
    ] {
        let r = parse(&env, &s, json!({"expression": expression})).await;
        assert_eq!(r.status, 200, "{expression}: {}", r.body);
        let b = &r.body;
        assert_eq!(b["parsingSucceeded"], false, "{expression}: {b}");
        assert_eq!(b["evaluationSucceeded"], false);
        assert!(b["parsedExpression"].is_null());
        assert_eq!(b["error"]["code"], code, "{expression}: {b}");
        assert_eq!(b["error"]["target"], target, "{expression}: {b}");
        let message = b["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("position {position}")),
            "{expression}: {message}"
        );
    }

    // Parsed, but the test evaluation fails: Replace's regular expressions are not evaluated.
    let r = parse(
        &env,
        &s,
        json!({"expression": "Replace([mail], , \"[a-z]+\", , \"\", , )",
               "testInputObject": {"properties": [{"key": "mail", "value": "a@b"}]}}),
    )
    .await;
    assert_eq!(r.body["parsingSucceeded"], true, "{}", r.body);
    assert_eq!(r.body["evaluationSucceeded"], false);
    assert_eq!(r.body["error"]["code"], "EvaluationFailed");

    for body in [
        json!({}),
        json!({"expression": 3}),
        json!({"expression": "[mail]", "colour": "red"}),
        json!({"expression": "[mail]", "testInputObject": {"properties": [{"value": "x"}]}}),
    ] {
        let r = parse(&env, &s, body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
    }
    let r = env
        .get(&s.a, &format!("{}/schema/parseExpression", s.jobs))
        .await;
    assert_eq!(r.status, 405);
    let reader = env
        .token(A, "11111111-2222-4333-8444-555555555555", "readonly-secret")
        .await;
    let r = env
        .call(
            &reader,
            "POST",
            &format!("{}/schema/parseExpression", s.jobs),
            Some(json!({"expression": "[mail]"})),
        )
        .await;
    assert_eq!((r.status, r.code()), (403, "Authorization_RequestDenied"));
}

/// A schema written with one PUT from `parseExpression`'s answer reads back as written, and a
/// cycle gives the provisioned users the mapped constant, attribute and function values;
/// `ObjectAddOnly` applies on creation only; a mapping to an attribute the emulated user cannot
/// hold is kept and has no effect.
#[tokio::test]
async fn provisioned_users_carry_the_mapped_values() {
    let env = start_with(WORLD, Default::default()).await;
    let s = setup(&env).await;
    let job_title = parsed(&env, &s, "Join(\" \", [givenName], [surname])").await;
    let company = parsed(&env, &s, "\"Contoso\"").await;
    assert_eq!(company, constant("Contoso"));
    let upper = parsed(&env, &s, "ToUpper(Coalesce([city], \"Remote\"))").await;
    let schema = with_mappings(
        &env,
        &s,
        &[
            mapping("companyName", company, "Always"),
            mapping("department", attribute("employeeId"), "Always"),
            mapping("jobTitle", job_title.clone(), "Always"),
            mapping("city", upper, "Always"),
            mapping("employeeType", constant("Onboarded"), "ObjectAddOnly"),
            mapping("extensionAttribute1", constant("kept"), "Always"),
        ],
    )
    .await;
    put_schema(&env, &s, &schema).await;
    let stored = as_body(env.get(&s.a, &format!("{}/schema", s.jobs)).await.body);
    assert_eq!(stored, schema, "the schema reads back as written");

    for upn in [
        "alice@contoso.onmicrosoft.com",
        "bob@contoso.onmicrosoft.com",
    ] {
        let id = user_id(&env, &s.a, upn).await;
        assert_eq!(assign(&env, &s.a, &s.sp, &s.role, &id).await.status, 201);
    }
    let r = env
        .call(&s.a, "POST", &format!("{}/start", s.jobs), None)
        .await;
    assert_eq!(r.status, 204);
    env.advance(30.0).await;

    let alice = target_user(&env, &s, ALICE_EXT).await;
    assert_eq!(alice.status, 200, "{}", alice.body);
    let got = &alice.body;
    assert_eq!(got["companyName"], "Contoso", "{got}");
    assert_eq!(got["department"], "E-1001", "{got}");
    assert_eq!(got["jobTitle"], "Alice Martin", "{got}");
    assert_eq!(got["city"], "LYON", "{got}");
    assert_eq!(got["employeeType"], Value::Null, "not selected");
    // Default mappings now carried: the documented ones of the cross-tenant how-to.
    assert_eq!(got["country"], "France", "{got}");
    assert_eq!(got["employeeId"], "E-1001", "{got}");
    assert_eq!(got["mailNickname"], "alice", "{got}");
    let bob = target_user(&env, &s, BOB_EXT).await.body;
    assert_eq!(
        bob["jobTitle"],
        Value::Null,
        "Join of nothing is no value: {bob}"
    );
    assert_eq!(bob["city"], "REMOTE", "{bob}");
    assert_eq!(bob["department"], Value::Null, "{bob}");
    let r = env
        .get(&s.b, &format!("/users/{ALICE_EXT}?$select=employeeType"))
        .await;
    assert_eq!(r.body["employeeType"], "Onboarded", "on creation");

    // The mappings change: the next (full) cycle updates what flows on updates only.
    let schema = with_mappings(
        &env,
        &s,
        &[
            mapping("companyName", constant("Contoso Ltd"), "Always"),
            mapping("employeeType", constant("Changed"), "ObjectAddOnly"),
        ],
    )
    .await;
    put_schema(&env, &s, &schema).await;
    env.advance(30.0).await;
    let r = env
        .get(
            &s.b,
            &format!("/users/{ALICE_EXT}?$select=companyName,employeeType,jobTitle"),
        )
        .await;
    assert_eq!(
        r.body["companyName"], "Contoso Ltd",
        "Always flows: {}",
        r.body
    );
    assert_eq!(
        r.body["employeeType"], "Onboarded",
        "ObjectAddOnly does not: {}",
        r.body
    );
    assert_eq!(r.body["jobTitle"], "Alice Martin");
}

/// A function source the expression language does not have fails the export of the user (an
/// escrow, nothing written), where the emulator once copied the same-named attribute; the
/// schema holding it is accepted, as Graph documents no check.
#[tokio::test]
async fn an_unknown_function_escrows_the_user() {
    let env = start_with(WORLD, Default::default()).await;
    let s = setup(&env).await;
    let unknown = json!({"expression": "Frobnicate([givenName])", "name": "Frobnicate", "type": "Function",
        "parameters": [{"key": "source", "value": attribute("givenName")}]});
    let schema = with_mappings(&env, &s, &[mapping("jobTitle", unknown, "Always")]).await;
    put_schema(&env, &s, &schema).await;
    let alice = user_id(&env, &s.a, "alice@contoso.onmicrosoft.com").await;
    assert_eq!(assign(&env, &s.a, &s.sp, &s.role, &alice).await.status, 201);
    let r = env
        .call(&s.a, "POST", &format!("{}/start", s.jobs), None)
        .await;
    assert_eq!(r.status, 204);
    env.advance(30.0).await;
    assert_eq!(target_user(&env, &s, ALICE_EXT).await.status, 404);
    let j = env.get(&s.a, &s.jobs).await.body;
    let e = &j["status"]["lastExecution"];
    assert_eq!(
        (e["countEscrowed"].clone(), e["countExported"].clone()),
        (json!(1), json!(0)),
        "{j}"
    );

    // On demand, the reason names the mapping and the function.
    let rule = "6c409270-f78a-4bc6-af23-7cf3ab6482fe";
    let r = env
        .call(
            &s.a,
            "POST",
            &format!("{}/provisionOnDemand", s.jobs),
            Some(json!({"parameters": [{"ruleId": rule, "subjects": [{"objectId": alice, "objectTypeName": "User"}]}]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let status: Value = serde_json::from_str(r.body["value"].as_str().unwrap()).unwrap();
    let info = &status[0]["statusInfo"];
    assert_eq!(info["status"], "Failed", "{status}");
    let reason = info["reason"].as_str().unwrap();
    assert!(
        reason.contains("'jobTitle'")
            && reason.contains("'Frobnicate'")
            && reason.contains("not a function"),
        "{reason}"
    );
}
