//! `mtoctl_emulator::replay` and `mtoctl-emulator replay`: hand-written transcripts (the format
//! of docs/transcripts.md) replayed with no differences, the same transcripts edited to differ
//! in exactly the ways reported, bad lines named by number, key files applied, and the exit
//! codes of the binary.

mod common;

use std::path::{Path, PathBuf};

use mtoctl_emulator::replay::{
    Difference, DifferenceKind, JsonType, Key, LineError, ReplayOptions, Report, Transcript,
    TranscriptError, replay, replay_all,
};
use mtoctl_emulator::world::WorldFile;
use serde_json::{Value, json};

const MTO: &str = "/tenantRelationships/multiTenantOrganization";
const CTX: &str = "https://graph.microsoft.com/v1.0/$metadata#";
const SYNC_TEMPLATE: &str = "518e5f48-1fc8-4c48-9387-9fdf28b0dfe7";

/// The `n`th GUID pseudonym (`00000000-0000-4000-8000-000000000010` for 10), as the recorder
/// numbers them.
fn p(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

fn header(tenants: usize) -> Value {
    json!({
        "transcript": "mtoctl", "format_version": "1.0", "mtoctl_version": "0.1.0",
        "command": "apply", "api": "v1.0",
        "tenants": (1..=tenants)
            .map(|i| json!({"tenant": format!("t{i}"), "tenant_id": p(i as u32)}))
            .collect::<Vec<_>>(),
    })
}

/// One exchange line; `status: None` for one that got no answer.
fn exchange(
    seq: u64,
    tenant: &str,
    at_ms: u64,
    (method, path): (&str, &str),
    request_body: Value,
    status: Option<u16>,
    response_body: Value,
) -> Value {
    let mut e = json!({
        "seq": seq, "tenant": tenant, "at_ms": at_ms, "latency_ms": 2, "method": method,
        "path": path, "request_headers": {}, "request_body": request_body, "status": status,
        "response_headers": {}, "response_body": response_body,
    });
    if status.is_none() {
        e["error"] = json!("timeout");
    }
    e
}

fn jsonl(lines: &[Value]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

fn parse(lines: &[Value]) -> Transcript {
    Transcript::from_reader(jsonl(lines).as_bytes(), Path::new("test.jsonl")).expect("parses")
}

fn mto_entity(state: &str, id: Option<String>) -> Value {
    let mut v = json!({
        "@odata.context": format!("{CTX}tenantRelationships/multiTenantOrganization/$entity"),
        "createdDateTime": null, "description": null, "displayName": null, "state": state,
    });
    if let Some(id) = id {
        v["createdDateTime"] = json!("2026-01-01T00:00:00Z");
        v["displayName"] = json!("Name 1");
        v["id"] = json!(id);
    }
    v
}

fn app_roles() -> Value {
    json!([{"allowedMemberTypes": ["User"], "description": "msiam_access",
            "displayName": "msiam_access", "id": p(40), "isEnabled": true,
            "origin": "Application", "value": null}])
}

/// The answer of instantiating the cross-tenant sync template: application `p(13)` and service
/// principal `p(14)`, as Graph answers it (pseudonymised).
fn instantiated() -> Value {
    json!({
        "@odata.context": format!("{CTX}microsoft.graph.applicationServicePrincipal"),
        "application": {
            "addIns": [], "appId": p(15), "appRoles": app_roles(),
            "applicationTemplateId": SYNC_TEMPLATE, "createdDateTime": "2026-01-01T00:11:40Z",
            "deletedDateTime": null, "displayName": "Name 3", "id": p(13), "identifierUris": [],
            "keyCredentials": [], "managerApplications": [], "oauth2RequirePostResponse": false,
            "passwordCredentials": [], "requiredResourceAccess": [],
            "signInAudience": "AzureADMyOrg", "tags": [],
            "web": {"homePageUrl": "https://account.activedirectory.windowsazure.com:444/applications/default.aspx?metadata=aad2aadsync|ISV9.1|primary|z",
                    "redirectUriSettings": [], "redirectUris": []},
        },
        "servicePrincipal": {
            "accountEnabled": true, "addIns": [], "alternativeNames": [],
            "appDisplayName": "Name 3", "appId": p(15), "appRoleAssignmentRequired": true,
            "appRoles": app_roles(), "applicationTemplateId": SYNC_TEMPLATE,
            "deletedDateTime": null, "displayName": "Name 3", "id": p(14), "keyCredentials": [],
            "notificationEmailAddresses": [], "oauth2PermissionScopes": [],
            "passwordCredentials": [], "replyUrls": [],
            "resourceSpecificApplicationPermissions": [], "servicePrincipalNames": [p(15)],
            "servicePrincipalType": "Application", "signInAudience": "AzureADMyOrg",
            "tags": ["WindowsAzureActiveDirectoryIntegratedApp"],
        },
    })
}

/// The organization's lifecycle in two tenants of the transcript's own world: t1 reads its
/// (inactive) organization, creates it, reads it, adds t2; t2 joins and, ten virtual minutes
/// later, reads its join request, now active; t1 makes a sync configuration and reads its
/// service principal by the id Graph made (known only through binding); a last read that got
/// no answer.
fn lifecycle() -> Vec<Value> {
    let member = json!({
        "@odata.context": format!("{CTX}tenantRelationships/multiTenantOrganization/tenants/$entity"),
        "addedByTenantId": p(1), "addedDateTime": "2026-01-01T00:00:00Z", "displayName": "Name 2",
        "id": p(11), "joinedDateTime": null, "role": "member", "state": "pending",
        "tenantId": p(2), "transitionDetails": null,
    });
    let joined = json!({
        "@odata.context": format!("{CTX}tenantRelationships/multiTenantOrganization/joinRequest/$entity"),
        "addedByTenantId": p(1), "id": p(12), "memberState": "active", "role": "member",
        "transitionDetails": null,
    });
    let sp = format!("/servicePrincipals/{}?$select=id,displayName", p(14));
    vec![
        header(2),
        exchange(
            1,
            "t1",
            0,
            ("GET", MTO),
            Value::Null,
            Some(200),
            mto_entity("inactive", None),
        ),
        exchange(
            2,
            "t1",
            12,
            ("PUT", MTO),
            json!({"displayName": "Name 1"}),
            Some(201),
            mto_entity("active", Some(p(10))),
        ),
        exchange(
            3,
            "t1",
            30,
            ("GET", MTO),
            Value::Null,
            Some(200),
            mto_entity("active", Some(p(10))),
        ),
        exchange(
            4,
            "t1",
            41,
            ("POST", &format!("{MTO}/tenants")),
            json!({"tenantId": p(2), "displayName": "Name 2"}),
            Some(201),
            member,
        ),
        exchange(
            5,
            "t2",
            60,
            ("PATCH", &format!("{MTO}/joinRequest")),
            json!({"addedByTenantId": p(1)}),
            Some(204),
            Value::Null,
        ),
        exchange(
            6,
            "t2",
            700_000,
            ("GET", &format!("{MTO}/joinRequest")),
            Value::Null,
            Some(200),
            joined,
        ),
        exchange(
            7,
            "t1",
            700_010,
            (
                "POST",
                &format!("/applicationTemplates/{SYNC_TEMPLATE}/instantiate"),
            ),
            json!({"displayName": "Name 3"}),
            Some(201),
            instantiated(),
        ),
        exchange(
            8,
            "t1",
            700_020,
            ("GET", &sp),
            Value::Null,
            Some(200),
            json!({
                "@odata.context": format!("{CTX}servicePrincipals/$entity"), "displayName": "Name 3", "id": p(14),
            }),
        ),
        exchange(
            9,
            "t1",
            700_030,
            ("GET", &sp),
            Value::Null,
            None,
            Value::Null,
        ),
    ]
}

async fn run(lines: &[Value], key: Option<&Key>, options: &ReplayOptions) -> Report {
    replay(&parse(lines), key, options).await.expect("replays")
}

fn kinds(report: &Report) -> Vec<(u64, Option<&str>, &DifferenceKind)> {
    report
        .differences
        .iter()
        .map(|d| (d.seq, d.item.as_deref(), &d.kind))
        .collect()
}

#[tokio::test]
async fn a_hand_written_lifecycle_replays_without_differences() {
    let report = run(&lifecycle(), None, &ReplayOptions::default()).await;
    assert_eq!(
        report.differences,
        Vec::<Difference>::new(),
        "{}",
        report.text()
    );
    assert_eq!(
        (report.exchanges, report.replayed, report.skipped),
        (9, 8, 1)
    );
    // The organization's, the member's, the join request's, the application's, the service
    // principal's ids, and the ids inside the answer (app id, role id): all bound.
    assert!(report.bindings >= 5, "{}", report.bindings);
    assert!(
        report
            .text()
            .ends_with("replayed 8 exchanges, skipped 1 without an answer: no differences\n"),
        "{}",
        report.text()
    );
}

#[tokio::test]
async fn a_changed_status_and_an_extra_member_are_exactly_the_differences() {
    let mut lines = lifecycle();
    lines[3]["status"] = json!(404); // seq 3
    lines[8]["response_body"]["extra"] = json!({"x": 1}); // seq 8
    let report = run(&lines, None, &ReplayOptions::default()).await;
    assert_eq!(
        kinds(&report),
        vec![
            (
                3,
                None,
                &DifferenceKind::Status {
                    recorded: 404,
                    replayed: 200
                }
            ),
            (
                8,
                None,
                &DifferenceKind::OnlyInRecording {
                    pointer: "/extra".into()
                }
            ),
        ],
        "{}",
        report.text()
    );
    let text = report.text();
    assert!(
        text.starts_with(&format!(
            "seq 3 GET {MTO}: status 404 → 200\nseq 8 GET /servicePrincipals/{}?$select=id,displayName: /extra: only in the recording\n",
            p(14)
        )),
        "{text}"
    );
    assert!(text.ends_with("2 differences\n"), "{text}");
}

#[tokio::test]
async fn the_clock_follows_the_recording_scaled_like_the_recording_emulator() {
    // Without the ten minutes between the join and the read, the join request is still
    // pending: another type of `role` and `transitionDetails`.
    let mut early = lifecycle();
    early[6]["at_ms"] = json!(61);
    let report = run(&early, None, &ReplayOptions::default()).await;
    let want = [
        DifferenceKind::Type {
            pointer: "/role".into(),
            recorded: JsonType::String,
            replayed: JsonType::Null,
        },
        DifferenceKind::Type {
            pointer: "/transitionDetails".into(),
            recorded: JsonType::Null,
            replayed: JsonType::Object,
        },
    ];
    assert_eq!(
        kinds(&report),
        want.iter().map(|k| (6, None, k)).collect::<Vec<_>>(),
        "{}",
        report.text()
    );
    // A join of 600 virtual seconds at time scale 0.01 is over 6 s later.
    let mut scaled = lifecycle();
    scaled[6]["at_ms"] = json!(6_100);
    let fast = ReplayOptions {
        time_scale: 0.01,
        ..Default::default()
    };
    let report = run(&scaled, None, &fast).await;
    assert!(report.differences.is_empty(), "{}", report.text());
}

#[tokio::test]
async fn two_transcripts_replay_one_after_the_other_against_one_emulator() {
    // The lifecycle cut in two commands: the second's clock starts where the first ended
    // (seq 5 at 60 ms, answered 2 ms later), and its own pseudonyms are its own.
    let lines = lifecycle();
    let first = parse(&lines[..6]);
    let mut second = vec![lines[0].clone()];
    for (n, line) in lines[6..].iter().enumerate() {
        let mut line = line.clone();
        line["seq"] = json!(n + 1);
        line["at_ms"] = json!(line["at_ms"].as_u64().expect("at_ms") - 62);
        second.push(line);
    }
    let second = Transcript::from_reader(jsonl(&second).as_bytes(), Path::new("second.jsonl"))
        .expect("parses");
    let report = replay_all(
        &[(&first, None), (&second, None)],
        &ReplayOptions::default(),
    )
    .await
    .expect("replays");
    assert!(report.differences.is_empty(), "{}", report.text());
    assert_eq!(
        (report.transcripts, report.replayed, report.skipped),
        (2, 8, 1)
    );

    // The join completes 600 s after seq 5 of the first (at 60 ms): at 599,998 ms of the
    // second, which starts 62 ms in. A millisecond earlier it is still pending, and the
    // difference is named by its transcript.
    for (at_ms, differences) in [(599_998, 0), (599_997, 2)] {
        let mut edited = second.clone();
        edited.exchanges[0].at_ms = at_ms;
        let report = replay_all(
            &[(&first, None), (&edited, None)],
            &ReplayOptions::default(),
        )
        .await
        .expect("replays");
        assert_eq!(report.differences.len(), differences, "{}", report.text());
        if differences > 0 {
            assert!(
                report.text().starts_with(&format!(
                    "second.jsonl: seq 1 GET {MTO}/joinRequest: /role: "
                )),
                "{}",
                report.text()
            );
        }
    }

    // When both headers say when their recordings started, the second starts that much after
    // the first (here 1,062 ms: 1 s after the first's last answer), never before that answer.
    let started = |first_at: u64, second_at: u64, at_ms: u64| {
        let (mut a, mut b) = (first.clone(), second.clone());
        a.header.started_ms = Some(first_at);
        b.header.started_ms = Some(second_at);
        b.exchanges[0].at_ms = at_ms;
        (a, b)
    };
    for (second_at, at_ms, differences) in [
        (1_001_062, 598_998, 0),
        (1_001_062, 598_997, 2),
        // Said to start 10 ms after the first: not before the first's last answer (62 ms).
        (1_000_010, 599_998, 0),
        (1_000_010, 599_997, 2),
    ] {
        let (a, b) = started(1_000_000, second_at, at_ms);
        let report = replay_all(&[(&a, None), (&b, None)], &ReplayOptions::default())
            .await
            .expect("replays");
        assert_eq!(
            report.differences.len(),
            differences,
            "second starting at {second_at}, exchange at {at_ms}: {}",
            report.text()
        );
    }
}

#[tokio::test]
async fn batch_items_are_matched_by_id_and_compared_like_bodies() {
    let mto_in_batch = |v: Value| {
        let mut v = v;
        v.as_object_mut().expect("object").remove("@odata.context");
        v["@odata.context"] = json!(format!(
            "{CTX}tenantRelationships/multiTenantOrganization/$entity"
        ));
        v
    };
    let batch = |status_b: u16, extra: bool| {
        let mut b = mto_in_batch(mto_entity("active", Some(p(10))));
        if extra {
            b["extra"] = json!(1);
        }
        // Answers in another order than the requests: matched by id.
        json!({"responses": [
            {"id": "b", "status": status_b, "headers": {}, "body": {
                "@odata.context": format!("{CTX}servicePrincipals/$entity"), "displayName": "Name 3", "id": p(14)}},
            {"id": "a", "status": 200, "headers": {}, "body": b},
        ]})
    };
    let request = json!({"requests": [
        {"id": "a", "method": "GET", "url": MTO},
        {"id": "b", "method": "GET", "url": format!("/servicePrincipals/{}?$select=id,displayName", p(14))},
    ]});
    let mut lines = lifecycle();
    lines.truncate(9);
    lines.push(exchange(
        9,
        "t1",
        700_040,
        ("POST", "/$batch"),
        request.clone(),
        Some(200),
        batch(200, false),
    ));
    let report = run(&lines, None, &ReplayOptions::default()).await;
    assert!(report.differences.is_empty(), "{}", report.text());

    lines[9] = exchange(
        9,
        "t1",
        700_040,
        ("POST", "/$batch"),
        request,
        Some(200),
        batch(404, true),
    );
    let report = run(&lines, None, &ReplayOptions::default()).await;
    assert_eq!(
        kinds(&report),
        vec![
            (
                9,
                Some("b"),
                &DifferenceKind::Status {
                    recorded: 404,
                    replayed: 200
                }
            ),
            (
                9,
                Some("a"),
                &DifferenceKind::OnlyInRecording {
                    pointer: "/extra".into()
                }
            ),
        ],
        "{}",
        report.text()
    );
    assert!(
        report
            .text()
            .contains("seq 9 POST /$batch: item b: status 404 → 200\n"),
        "{}",
        report.text()
    );
}

/// A transcript of reads in the three-tenant world of the crate's tests, recorded in Fabrikam
/// (the world's second tenant): a user by UPN, a `$filter` on UPN, and two pages of users.
fn fabrikam_reads() -> Vec<Value> {
    let ctx_users = format!("{CTX}users(id)");
    vec![
        json!({"transcript": "mtoctl", "format_version": "1.0", "api": "v1.0",
               "tenants": [{"tenant": "t1", "tenant_id": p(1)}]}),
        exchange(
            1,
            "t1",
            0,
            ("GET", "/users/user1@domain1.example?$select=id,displayName"),
            Value::Null,
            Some(200),
            json!({
            "@odata.context": format!("{CTX}users/$entity"), "displayName": "Name 1", "id": p(2)}),
        ),
        exchange(
            2,
            "t1",
            5,
            (
                "GET",
                "/users?$filter=userPrincipalName%20eq%20'user1%40domain1.example'&$select=id",
            ),
            Value::Null,
            Some(200),
            json!({
            "@odata.context": ctx_users, "value": [{"id": p(2)}]}),
        ),
        exchange(
            3,
            "t1",
            9,
            ("GET", "/users?$top=1&$select=id"),
            Value::Null,
            Some(200),
            json!({
            "@odata.context": ctx_users,
            "@odata.nextLink": "https://graph.microsoft.com/v1.0/users?$top=1&$select=id&$skiptoken=token1",
            "value": [{"id": p(2)}]}),
        ),
        exchange(
            4,
            "t1",
            14,
            ("GET", "/users?$top=1&$select=id&$skiptoken=token1"),
            Value::Null,
            Some(200),
            json!({
            "@odata.context": ctx_users, "value": [{"id": p(3)}]}),
        ),
    ]
}

fn test_world() -> WorldFile {
    WorldFile::parse(common::WORLD).expect("world")
}

fn fabrikam_key() -> Key {
    Key::from_pairs([
        (p(1), common::B.to_owned()),
        (
            "user1@domain1.example".to_owned(),
            "carol@fabrikam.onmicrosoft.com".to_owned(),
        ),
        (
            "domain1.example".to_owned(),
            "fabrikam.onmicrosoft.com".to_owned(),
        ),
        ("Name 1".to_owned(), "Carol Diaz".to_owned()),
        // What the recording's Graph made: the replay learns its own instead.
        ("token1".to_owned(), "opaque-graph-token".to_owned()),
    ])
}

#[tokio::test]
async fn a_key_file_maps_tenants_and_sends_the_original_names() {
    let world = ReplayOptions {
        world: Some(test_world()),
        ..Default::default()
    };
    let key = fabrikam_key();
    let report = run(&fabrikam_reads(), Some(&key), &world).await;
    assert!(report.differences.is_empty(), "{}", report.text());

    // Without the key: t1 is the world's first tenant (Contoso) and the pseudonyms are sent as
    // they are, so the user is not found; the skiptoken is still learned from the first page,
    // and Contoso's four users take more than two pages.
    let report = run(&fabrikam_reads(), None, &world).await;
    assert_eq!(
        kinds(&report),
        vec![
            (
                1,
                None,
                &DifferenceKind::Status {
                    recorded: 200,
                    replayed: 404
                }
            ),
            (
                2,
                None,
                &DifferenceKind::Length {
                    pointer: "/value".into(),
                    recorded: 1,
                    replayed: 0
                }
            ),
            (
                4,
                None,
                &DifferenceKind::OnlyInReplay {
                    pointer: "/@odata.nextLink".into()
                }
            ),
        ],
        "{}",
        report.text()
    );

    // With the key but t1 mapped by hand to Contoso, which has no such user.
    let contoso = ReplayOptions {
        tenants: [("t1".to_owned(), common::A.to_owned())].into(),
        ..world.clone()
    };
    let report = run(&fabrikam_reads(), Some(&key), &contoso).await;
    assert_eq!(report.differences.len(), 3, "{}", report.text());
}

#[tokio::test]
async fn a_paging_token_is_bound_to_the_replays_own() {
    let world = ReplayOptions {
        world: Some(test_world()),
        ..Default::default()
    };
    let key = fabrikam_key();
    let mut lines = fabrikam_reads();
    // The first page's nextLink without its token: nothing to learn, and `token1` reaches the
    // emulator as the key's original, which it refuses.
    lines[3]["response_body"]["@odata.nextLink"] =
        json!("https://graph.microsoft.com/v1.0/users?$top=1&$select=id");
    let report = run(&lines, Some(&key), &world).await;
    assert_eq!(
        kinds(&report)
            .into_iter()
            .map(|(seq, _, k)| (seq, k.clone()))
            .collect::<Vec<_>>(),
        vec![(
            4,
            DifferenceKind::Status {
                recorded: 200,
                replayed: 400
            }
        )],
        "{}",
        report.text()
    );
}

/// Every GUID in `v` but the template's, replaced by pseudonyms numbered from `table`'s length
/// on, the table keeping pseudonym → original (what the recorder and its key do).
fn pseudonymise(v: &Value, table: &mut Vec<(String, String)>) -> Value {
    match v {
        Value::String(s) if s.len() == 36 && s != SYNC_TEMPLATE && s.matches('-').count() == 4 => {
            let known = table.iter().find(|(_, o)| o == s).map(|(p, _)| p.clone());
            Value::String(known.unwrap_or_else(|| {
                let pseudonym = p(100 + table.len() as u32);
                table.push((pseudonym.clone(), s.clone()));
                pseudonym
            }))
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| pseudonymise(x, table)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), pseudonymise(x, table)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[tokio::test]
async fn requests_are_replayed_in_the_order_they_were_sent_so_ids_are_made_alike() {
    // The recording: Contoso's sync configuration was asked for first (at 3 ms) and
    // Fabrikam's next (at 5 ms), but Fabrikam's answer arrived first (seq 1). Made here
    // against an emulator of the same world, in the order sent.
    let env = common::start().await;
    let (a, b) = (env.a().await, env.b().await);
    let path = format!("/applicationTemplates/{SYNC_TEMPLATE}/instantiate");
    let name = json!({"displayName": "MTO_Sync"});
    let contoso = env.call(&a, "POST", &path, Some(name.clone())).await;
    let fabrikam = env.call(&b, "POST", &path, Some(name.clone())).await;
    assert_eq!((contoso.status, fabrikam.status), (201, 201));
    let mut table = vec![(p(1), common::A.to_owned()), (p(2), common::B.to_owned())];
    let fabrikam_answer = pseudonymise(&fabrikam.body, &mut table);
    let contoso_answer = pseudonymise(&contoso.body, &mut table);
    let lines = vec![
        header(2),
        exchange(
            1,
            "t2",
            5,
            ("POST", &path),
            name.clone(),
            Some(201),
            fabrikam_answer,
        ),
        exchange(2, "t1", 3, ("POST", &path), name, Some(201), contoso_answer),
    ];
    let key = Key::from_pairs(table);
    let world = ReplayOptions {
        world: Some(test_world()),
        ..Default::default()
    };
    let report = run(&lines, Some(&key), &world).await;
    assert!(report.differences.is_empty(), "{}", report.text());
    assert!(report.bindings >= 6, "{}", report.bindings);
    // Replayed in `seq` order, Fabrikam's configuration would get the ids Contoso's got.
    assert_eq!(report.ids_made_otherwise, 0, "{}", report.text());
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "mtoctl-emulator-replay-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch");
    dir
}

#[test]
fn a_truncated_or_invalid_line_is_an_error_naming_its_line_number() {
    let dir = scratch("lines");
    let text = jsonl(&lifecycle());
    // Truncated in the middle of line 4 (seq 3), as a killed recording leaves it.
    let cut = text.match_indices('\n').nth(2).expect("line 3").0 + 40;
    let path = write(&dir, "truncated.jsonl", &text[..cut]);
    let err = Transcript::read(&path).expect_err("refused");
    assert!(
        matches!(
            &err,
            TranscriptError::Line {
                line: 4,
                source: LineError::Json {
                    what: "exchange",
                    ..
                },
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().ends_with("truncated.jsonl: line 4"),
        "{err}"
    );

    let mut lines = lifecycle();
    lines[2]["tenant"] = json!("t7");
    let path = write(&dir, "tenant.jsonl", &jsonl(&lines));
    let err = Transcript::read(&path).expect_err("refused");
    assert!(
        matches!(
            &err,
            TranscriptError::Line {
                line: 3,
                source: LineError::UnknownTenant { seq: 2, .. },
                ..
            }
        ),
        "{err:?}"
    );

    let mut lines = lifecycle();
    lines[0]["format_version"] = json!("2.0");
    let path = write(&dir, "version.jsonl", &jsonl(&lines));
    let err = Transcript::read(&path).expect_err("refused");
    assert!(
        matches!(
            &err,
            TranscriptError::Line {
                line: 1,
                source: LineError::FormatVersion { .. },
                ..
            }
        ),
        "{err:?}"
    );

    let mut lines = lifecycle();
    lines[5]["seq"] = json!(2);
    let path = write(&dir, "seq.jsonl", &jsonl(&lines));
    let err = Transcript::read(&path).expect_err("refused");
    assert!(
        matches!(
            &err,
            TranscriptError::Line {
                line: 6,
                source: LineError::DuplicateSeq(2),
                ..
            }
        ),
        "{err:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `mtoctl-emulator ARGS`: exit code, stdout, stderr.
fn emulator(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mtoctl-emulator"))
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_binary_exits_0_1_or_2_and_reads_a_key_file() {
    let dir = scratch("binary");
    let os = |s: &str| std::ffi::OsString::from(s);
    let same = write(&dir, "same.jsonl", &jsonl(&lifecycle()));
    let (code, out, err) = emulator(&[&os("replay"), same.as_os_str()]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        out,
        "replayed 8 exchanges, skipped 1 without an answer: no differences\n"
    );

    let mut lines = lifecycle();
    lines[3]["status"] = json!(404);
    let differs = write(&dir, "differs.jsonl", &jsonl(&lines));
    let (code, out, err) = emulator(&[
        &os("replay"),
        differs.as_os_str(),
        &os("--format"),
        &os("json"),
    ]);
    assert_eq!(code, 1, "{out}{err}");
    let report: Value = serde_json::from_str(&out).expect("one JSON object");
    assert_eq!(report["format_version"], "1.0");
    assert_eq!(
        report["differences"],
        json!([{"transcript": differs.display().to_string(), "seq": 3, "method": "GET", "path": MTO,
                "kind": "status", "recorded": 404, "replayed": 200}])
    );

    let text = jsonl(&lifecycle());
    let broken = write(&dir, "broken.jsonl", &text[..text.len() - 10]);
    let (code, out, err) = emulator(&[&os("replay"), broken.as_os_str()]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(
        err.starts_with("error: ")
            && err.contains("broken.jsonl: line 10: it is not a transcript exchange"),
        "{err}"
    );

    // A key file (the versioned form) and a world file given by path.
    let world = write(&dir, "world.yaml", common::WORLD);
    let reads = write(&dir, "reads.jsonl", &jsonl(&fabrikam_reads()));
    let pseudonyms: serde_json::Map<String, Value> = fabrikam_key()
        .pairs()
        .map(|(p, o)| (p.to_owned(), json!(o)))
        .collect();
    let key = write(
        &dir,
        "key.json",
        &json!({"format_version": "1.0", "originals": pseudonyms}).to_string(),
    );
    let args = [
        &os("replay"),
        reads.as_os_str(),
        &os("--world"),
        world.as_os_str(),
    ];
    let (code, out, err) = emulator(&[&args[..], &[&os("--key"), key.as_os_str()]].concat());
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = emulator(&args);
    assert_eq!(code, 1, "{out}{err}");
    let (code, _, err) = emulator(
        &[
            &args[..],
            &[&os("--key"), dir.join("missing.json").as_os_str()],
        ]
        .concat(),
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cannot read key file"), "{err}");
    let other = write(
        &dir,
        "other.json",
        r#"{"format_version":"2.0","originals":{}}"#,
    );
    let (code, _, err) = emulator(&[&args[..], &[&os("--key"), other.as_os_str()]].concat());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("has format version 2.0"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
