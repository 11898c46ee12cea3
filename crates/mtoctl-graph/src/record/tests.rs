//! The pseudonymiser's rules and the recorder's files.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::*;

const CONTOSO: &str = "6babcaad-604b-40ac-a9d7-9fd97c0b779f";
const FABRIKAM: &str = "3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11";
const ALICE_ID: &str = "52507a19-96ec-4e73-9250-3e65ffd2d926";

/// Every original of `table` restored in `text`, longest pseudonym first.
fn restore(table: &Pseudonyms, text: &str) -> String {
    let mut entries: Vec<&(String, String)> = table.originals().iter().collect();
    entries.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    let mut out = text.to_owned();
    for (pseudonym, original) in entries {
        out = out.replace(pseudonym.as_str(), original);
    }
    out
}

#[test]
fn one_value_has_one_pseudonym_in_paths_filters_and_bodies() {
    let mut t = Pseudonyms::new();
    let path = t.path(&format!(
        "/users?$filter={}&$select=id,displayName",
        crate::wire::encode_query_value("userPrincipalName eq 'alice@contoso.com'")
    ));
    let body = t.body(&json!({
        "value": [{"id": ALICE_ID, "userPrincipalName": "Alice@Contoso.com",
                   "displayName": "Alice Martin", "mail": "alice@contoso.com"}]
    }));
    let item = t.path(&format!("/users/{}/memberOf", ALICE_ID.to_uppercase()));
    let by_name = t.path(&format!(
        "/users?$filter={}",
        crate::wire::encode_query_value("displayName eq 'alice martin'")
    ));

    assert_eq!(
        path,
        "/users?$filter=userPrincipalName%20eq%20'user1@domain1.example'&$select=id,displayName"
    );
    let user = &body["value"][0];
    assert_eq!(user["userPrincipalName"], "user1@domain1.example");
    assert_eq!(user["mail"], "user1@domain1.example");
    assert_eq!(user["displayName"], "Name 1");
    assert_eq!(user["id"], "00000000-0000-4000-8000-000000000001");
    assert_eq!(item, "/users/00000000-0000-4000-8000-000000000001/memberOf");
    assert_eq!(by_name, "/users?$filter=displayName%20eq%20'Name%201'");
}

#[test]
fn filter_literals_are_replaced_by_the_property_they_are_compared_with() {
    let mut t = Pseudonyms::new();
    let q = |t: &mut Pseudonyms, f: &str| {
        let path = t.path(&format!(
            "/users?$filter={}",
            crate::wire::encode_query_value(f)
        ));
        percent_encoding::percent_decode_str(&path)
            .decode_utf8_lossy()
            .into_owned()
    };
    assert_eq!(
        q(
            &mut t,
            "userPrincipalName in ('a@contoso.com','b@contoso.com')"
        ),
        "/users?$filter=userPrincipalName in ('user1@domain1.example','user2@domain1.example')"
    );
    assert_eq!(
        q(&mut t, "displayName in ('Contoso Sales','O''Brien')"),
        "/users?$filter=displayName in ('Name 1','Name 2')"
    );
    assert_eq!(
        q(&mut t, "startswith(displayName,'Con')"),
        "/users?$filter=startswith(displayName,'Name 3')"
    );
    assert_eq!(
        q(
            &mut t,
            "startswith(userPrincipalName,'a_contoso.com#EXT#@')"
        ),
        "/users?$filter=startswith(userPrincipalName,'user1_domain1.example#EXT#@')"
    );
    // By shape where the property says nothing: ids, and enum values kept.
    assert_eq!(
        q(
            &mut t,
            &format!("appId in ('{CONTOSO}') and userType eq 'Member'")
        ),
        "/users?$filter=appId in ('00000000-0000-4000-8000-000000000001') and userType eq 'Member'"
    );
    assert_eq!(
        q(&mut t, &format!("principalId eq {FABRIKAM}")),
        "/users?$filter=principalId eq 00000000-0000-4000-8000-000000000002"
    );
    assert_eq!(
        q(
            &mut t,
            "identities/any(c:c/issuerAssignedId eq 'b@contoso.com')"
        ),
        "/users?$filter=identities/any(c:c/issuerAssignedId eq 'user2@domain1.example')"
    );
}

#[test]
fn a_synced_copy_keeps_its_form_and_its_home_upn_pseudonym() {
    let mut t = Pseudonyms::new();
    // The copy met first, its home later: the same pseudonyms either way.
    assert_eq!(
        t.upn("alice_contoso.onmicrosoft.com#EXT#@fabrikam.onmicrosoft.com"),
        "user1_domain1.example#EXT#@domain2.example"
    );
    assert_eq!(
        t.upn("ALICE@contoso.onmicrosoft.com"),
        "user1@domain1.example"
    );
    assert_eq!(
        t.upn("bob_contoso.onmicrosoft.com#EXT#@"),
        "user2_domain1.example#EXT#@"
    );
    assert_eq!(
        t.upn("bob@contoso.onmicrosoft.com"),
        "user2@domain1.example"
    );
    assert_eq!(t.domain("Fabrikam.onmicrosoft.com"), "domain2.example");
    // In a path, encoded as mtoctl encodes it.
    assert_eq!(
        t.path("/users/alice_contoso.onmicrosoft.com%23EXT%23@fabrikam.onmicrosoft.com"),
        "/users/user1_domain1.example%23EXT%23@domain2.example"
    );
    // The key names the whole copy too.
    let key = t.key_document();
    assert_eq!(
        key["originals"]["user1_domain1.example#EXT#@domain2.example"],
        "alice_contoso.onmicrosoft.com#EXT#@fabrikam.onmicrosoft.com"
    );
}

#[test]
fn public_constants_are_kept_and_unchanged_paths_are_kept_byte_for_byte() {
    let mut t = Pseudonyms::new();
    for path in [
        "/applicationTemplates/518e5f48-1fc8-4c48-9387-9fdf28b0dfe7/instantiate",
        "/servicePrincipals?$filter=applicationTemplateId%20eq%20'518e5f48-1fc8-4c48-9387-9fdf28b0dfe7'&$select=id,appId,displayName&$top=999",
        "/policies/crossTenantAccessPolicy/partners?$expand=identitySynchronization",
        "/tenantRelationships/multiTenantOrganization/tenants",
        "/$batch",
    ] {
        assert_eq!(t.path(path), path);
    }
    let body = t.body(&json!({
        "appId": "00000003-0000-0000-c000-000000000000",
        "addedByTenantId": "00000000-0000-0000-0000-000000000000",
        "templateId": "Azure2Azure",
        "userType": "Member",
        "createdDateTime": "2026-01-01T00:00:00Z",
    }));
    assert_eq!(body["appId"], "00000003-0000-0000-c000-000000000000");
    assert_eq!(
        body["addedByTenantId"],
        "00000000-0000-0000-0000-000000000000"
    );
    assert_eq!(body["templateId"], "Azure2Azure");
    assert_eq!(body["userType"], "Member");
    assert_eq!(body["createdDateTime"], "2026-01-01T00:00:00Z");
    assert!(t.originals().is_empty(), "{:?}", t.originals());
}

#[test]
fn secrets_are_redacted_and_the_shape_kept() {
    let mut t = Pseudonyms::new();
    let body = t.body(&json!({
        "passwordCredentials": [{"secretText": "s3cr3t~value", "hint": "s3c", "endDateTime": null}],
        "keyCredentials": [{"key": "MIIBase64Certificate", "type": "AsymmetricX509Cert"}],
        "passwordProfile": {"password": "p@ssw0rd!", "forceChangePasswordNextSignIn": true},
        "clientSecret": "client-secret-value",
        "access_token": "eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl",
        "credentials": [
            {"key": "CompanyId", "value": FABRIKAM},
            {"key": "AuthenticationType", "value": "SyncPolicy"},
            {"key": "SecretToken", "value": "bearer-secret"},
        ],
    }));
    let text = body.to_string();
    for secret in [
        "s3cr3t",
        "MIIBase64Certificate",
        "p@ssw0rd!",
        "client-secret-value",
        "eyJ",
        "bearer-secret",
    ] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    assert_eq!(body["passwordCredentials"][0]["secretText"], REDACTED);
    assert_eq!(body["passwordCredentials"][0]["hint"], REDACTED);
    assert_eq!(body["passwordCredentials"][0]["endDateTime"], Value::Null);
    assert_eq!(body["keyCredentials"][0]["key"], REDACTED);
    assert_eq!(
        body["passwordProfile"]["forceChangePasswordNextSignIn"],
        true
    );
    assert_eq!(body["credentials"][0]["key"], "CompanyId");
    assert_eq!(
        body["credentials"][0]["value"],
        "00000000-0000-4000-8000-000000000001"
    );
    assert_eq!(body["credentials"][1]["value"], "SyncPolicy");
    assert_eq!(body["credentials"][2]["key"], "SecretToken");
    assert_eq!(body["credentials"][2]["value"], REDACTED);

    // A configuration's settings, read and written as a `value` collection, in a `$batch` too.
    let secrets = t.body(
        &json!({"responses": [{"id": "1", "status": 200, "body": {"value": [
            {"key": "AppKey", "value": "app-key-secret"},
            {"key": "SyncAll", "value": "false"},
        ]}}]}),
    );
    let items = &secrets["responses"][0]["body"]["value"];
    assert_eq!(items[0]["value"], REDACTED);
    assert_eq!(items[1]["value"], "false");

    // The pairs of a synchronization schema are no secrets.
    let schema = t.body(&json!({"metadata": [{"key": "netId", "value": "true"}],
        "source": {"parameters": [{"key": "source", "value": {"expression": "[mail]", "name": "mail", "type": "Attribute"}}]}}));
    assert_eq!(schema["metadata"][0]["value"], "true");
    assert_eq!(
        schema["source"]["parameters"][0]["value"]["expression"],
        "[mail]"
    );
    // Nothing secret went into the table.
    assert!(
        t.originals()
            .iter()
            .all(|(_, o)| !o.contains("secret") && !o.contains("s3c")),
        "{:?}",
        t.originals()
    );
}

#[test]
fn paging_and_delta_tokens_are_replaced_alike_in_links_and_paths() {
    let mut t = Pseudonyms::new();
    let page = t.body(&json!({
        "@odata.nextLink": "https://graph.microsoft.com/v1.0/users?$select=id&$skiptoken=RFNwdAIAAQAAAB8",
        "value": [],
    }));
    assert_eq!(
        page["@odata.nextLink"],
        "https://graph.microsoft.com/v1.0/users?$select=id&$skiptoken=token1"
    );
    assert_eq!(
        t.path("/users?$select=id&$skiptoken=RFNwdAIAAQAAAB8"),
        "/users?$select=id&$skiptoken=token1"
    );
    assert_eq!(
        t.path("/users/delta?$deltatoken=abcDEF123"),
        "/users/delta?$deltatoken=token2"
    );
}

#[test]
fn free_text_and_nested_json_are_scanned() {
    let mut t = Pseudonyms::new();
    t.name("Contoso Sales");
    t.name("User");
    let error = t.body(&json!({"error": {
        "code": "Request_ResourceNotFound",
        "message": format!("User 'carol@fabrikam.onmicrosoft.com' of group Contoso Sales ({CONTOSO}) was not found in fabrikam.onmicrosoft.com."),
        "innerError": {"request-id": FABRIKAM},
    }}));
    assert_eq!(error["error"]["code"], "Request_ResourceNotFound");
    // Members are walked in the order of their names: `innerError` before `message`.
    assert_eq!(
        error["error"]["message"],
        "User 'user1@domain1.example' of group Name 1 (00000000-0000-4000-8000-000000000002) was not found in domain1.example."
    );
    assert_eq!(
        error["error"]["innerError"]["request-id"],
        "00000000-0000-4000-8000-000000000001"
    );
    // A JSON document in a string (provisionOnDemand's answer) is walked and written back.
    let nested = t.body(&json!({"value": format!(
        "{{\"targetIdentity\":{{\"id\":\"{ALICE_ID}\",\"displayName\":\"Alice Martin\"}}}}"
    )}));
    let inner: Value =
        serde_json::from_str(nested["value"].as_str().expect("a string")).expect("still JSON");
    assert_eq!(
        inner["targetIdentity"]["id"],
        "00000000-0000-4000-8000-000000000003"
    );
    assert_eq!(inner["targetIdentity"]["displayName"], "Name 3");
}

#[test]
fn opaque_and_hyphenless_ids_are_replaced_consistently() {
    let mut t = Pseudonyms::new();
    let assignment = "2h_SZRZNQdTIp_WvoeRfUuII2Sby8uQ24upkRCpOWXk";
    let job = "Azure2Azure.507df5f7fa4ca19c9d48ccc02ce98abb.0a10e467adfdade1145a2de8b714b604";
    let body = t.body(&json!({"id": assignment, "principalId": ALICE_ID, "job": {"id": job}}));
    assert_eq!(body["id"], "id1");
    assert_eq!(
        body["job"]["id"],
        "Azure2Azure.00000000000040008000000000000001.00000000000040008000000000000002"
    );
    assert_eq!(body["principalId"], "00000000-0000-4000-8000-000000000003");
    assert_eq!(
        t.path(&format!(
            "/servicePrincipals/{CONTOSO}/appRoleAssignedTo/{assignment}"
        )),
        "/servicePrincipals/00000000-0000-4000-8000-000000000004/appRoleAssignedTo/id1"
    );
    assert_eq!(
        t.path(&format!(
            "/servicePrincipals/{CONTOSO}/synchronization/jobs/{job}/start"
        )),
        "/servicePrincipals/00000000-0000-4000-8000-000000000004/synchronization/jobs/Azure2Azure.00000000000040008000000000000001.00000000000040008000000000000002/start"
    );
    // The hyphenated form of a hyphenless id has its pseudonym's hyphenated form.
    assert_eq!(
        t.id("507df5f7-fa4c-a19c-9d48-ccc02ce98abb"),
        "00000000-0000-4000-8000-000000000001"
    );
}

#[test]
fn the_key_restores_every_original() {
    let mut t = Pseudonyms::new();
    let original = json!({
        "value": [{
            "id": ALICE_ID,
            "userPrincipalName": "alice@contoso.onmicrosoft.com",
            "displayName": "Alice Martin",
            "department": "Sales",
            "copy": "alice_contoso.onmicrosoft.com#EXT#@fabrikam.onmicrosoft.com",
            "tenantId": CONTOSO,
            "message": format!("Alice Martin ({ALICE_ID}) is in {CONTOSO}"),
        }]
    });
    let body = t.body(&original);
    let text = body.to_string();
    for value in [
        "alice", "Alice", "Martin", "Sales", "contoso", CONTOSO, ALICE_ID,
    ] {
        assert!(!text.contains(value), "{value} in {text}");
    }
    let restored: Value = serde_json::from_str(&restore(&t, &text)).expect("JSON");
    assert_eq!(restored, original);
    // The key file's document names every pseudonym once.
    let key = t.key_document();
    assert_eq!(key["format_version"], KEY_FORMAT_VERSION);
    assert_eq!(
        key["originals"].as_object().map(|o| o.len()),
        Some(t.originals().len())
    );
}

fn quickstart() -> DesiredState {
    let text = include_str!("../../../../examples/quickstart/mto.yaml");
    mtoctl_model::spec::load("mto.yaml", text.as_bytes())
        .expect("the quickstart is valid")
        .desired
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mtoctl-record-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn call<'a>(recorder: &Recorder, path: &'a str, body: &'a Value) -> Call<'a> {
    Call {
        tenant: "fabrikam",
        method: "GET",
        path,
        api: None,
        eventual: true,
        request_body: None,
        sent: recorder.started + Duration::from_millis(5),
        latency: Duration::from_millis(12),
        answer: Answer::Answered {
            status: 200,
            headers: vec![("content-type", "application/json".into())],
            body,
        },
    }
}

#[test]
fn the_recorder_writes_a_header_whole_lines_and_a_private_key() {
    let dir = scratch("files");
    let options = RecordOptions {
        transcript: dir.join("t.jsonl"),
        key: Some(dir.join("key.json")),
        command: "status".into(),
    };
    let recorder = Recorder::create(&options, &quickstart()).expect("created");
    let answer = json!({"value": [{"id": ALICE_ID, "userPrincipalName": "carol@fabrikam.onmicrosoft.com",
        "displayName": "Carol Diaz"}]});
    let path = format!(
        "/users?$filter={}",
        crate::wire::encode_query_value("userPrincipalName eq 'carol@fabrikam.onmicrosoft.com'")
    );
    recorder.record(&call(&recorder, &path, &answer));
    recorder.record(&Call {
        tenant: "contoso",
        method: "POST",
        path: "/$batch",
        api: None,
        eventual: false,
        request_body: Some(&json!({"requests": []})),
        sent: Instant::now(),
        latency: Duration::from_millis(3),
        answer: Answer::NoAnswer(NetworkFailure::Refused),
    });
    assert_eq!(
        recorder.finish().expect("written"),
        Summary {
            exchanges: 2,
            pseudonyms: recorder
                .state
                .lock()
                .expect("state")
                .table
                .originals()
                .len()
        }
    );

    let text = std::fs::read_to_string(&options.transcript).expect("transcript");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), 3);
    // When the recording started, in the Unix epoch's milliseconds: a replay keeps the time
    // between two commands' transcripts from it.
    let mut header = lines[0].clone();
    let started_ms = header
        .as_object_mut()
        .and_then(|h| h.remove("started_ms"))
        .and_then(|v| v.as_u64())
        .expect("started_ms");
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as u64;
    assert!(
        (now_ms - 60_000..=now_ms).contains(&started_ms),
        "{started_ms} {now_ms}"
    );
    assert_eq!(
        header,
        json!({"transcript": "mtoctl", "format_version": "1.0", "mtoctl_version": env!("CARGO_PKG_VERSION"),
            "command": "status", "api": "v1.0", "tenants": [
                {"tenant": "t1", "tenant_id": "00000000-0000-4000-8000-000000000001"},
                {"tenant": "t2", "tenant_id": "00000000-0000-4000-8000-000000000002"}]})
    );
    let first = &lines[1];
    assert_eq!(first["seq"], 1);
    assert_eq!(first["tenant"], "t2");
    assert_eq!(first["at_ms"], 5);
    assert_eq!(first["latency_ms"], 12);
    assert_eq!(
        first["request_headers"],
        json!({"ConsistencyLevel": "eventual"})
    );
    assert_eq!(first["request_body"], Value::Null);
    assert_eq!(first["status"], 200);
    assert!(first.get("error").is_none());
    assert_eq!(
        first["response_headers"],
        json!({"content-type": "application/json"})
    );
    // Carol's UPN was not in the spec: it is numbered after the spec's users.
    let carol = first["response_body"]["value"][0]["userPrincipalName"]
        .as_str()
        .expect("a UPN");
    assert!(carol.ends_with("@domain2.example"), "{carol}");
    assert_eq!(
        first["path"],
        format!("/users?$filter=userPrincipalName%20eq%20'{carol}'")
    );
    let second = &lines[2];
    assert_eq!(second["seq"], 2);
    assert_eq!(second["tenant"], "t1");
    assert_eq!(second["status"], Value::Null);
    assert_eq!(second["error"], "refused");
    assert_eq!(second["request_body"], json!({"requests": []}));
    for secret in [
        "carol", "Carol", "fabrikam", "contoso", CONTOSO, FABRIKAM, ALICE_ID,
    ] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }

    // The key: complete JSON, private, every pseudonym of the transcript back to its original.
    let key_text = std::fs::read_to_string(dir.join("key.json")).expect("key");
    let key: Value = serde_json::from_str(&key_text).expect("the key is JSON");
    assert_eq!(key["format_version"], "1.0");
    let originals = key["originals"].as_object().expect("originals");
    assert_eq!(originals[carol], "carol@fabrikam.onmicrosoft.com");
    assert_eq!(originals["00000000-0000-4000-8000-000000000001"], CONTOSO);
    assert_eq!(originals["domain2.example"], "fabrikam.onmicrosoft.com");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("key.json"))
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(target_os = "linux")]
#[test]
fn a_failed_write_stops_the_recording_and_is_returned_once() {
    let dir = scratch("full");
    let options = RecordOptions {
        transcript: dir.join("t.jsonl"),
        key: None,
        command: "plan".into(),
    };
    let recorder = Recorder::create(&options, &quickstart()).expect("created");
    let body = json!({"value": []});
    recorder.record(&call(&recorder, "/users", &body));
    // The disk fills up.
    recorder.state.lock().expect("state").file = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    recorder.record(&call(&recorder, "/groups", &body));
    recorder.record(&call(&recorder, "/groups", &body));
    let error = recorder.finish().expect_err("the write failed");
    assert!(
        matches!(error, RecordError::Write { recorded: 1, .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("holds the first 1 exchanges only"),
        "{error}"
    );
    assert!(recorder.finish().is_ok());
    // Creating a transcript where none can be written fails at once.
    let options = RecordOptions {
        transcript: dir.join("missing").join("t.jsonl"),
        key: None,
        command: "plan".into(),
    };
    assert!(matches!(
        Recorder::create(&options, &quickstart()),
        Err(RecordError::Create { .. })
    ));
    let _ = std::fs::remove_dir_all(&dir);
}
