//! Cross-tenant synchronization of groups: the beta-only `groupSyncInbound` of the identity sync
//! policy, the group mapping of the Azure2Azure schema, and what cycles make of assigned groups
//! in the target (docs/emulator.md, "Group synchronization").

mod common;

use common::*;
use mtoctl_emulator::Options;
use serde_json::{Value, json};

/// Contoso's groups cover the FAQ's table: a security group with an internal member, a second
/// one and a guest; a Microsoft 365 group; a dynamic security group; a mail-enabled security
/// group and a distribution group (neither synchronized).
const WORLD: &str = concat!(
    r#"
seed: 7
tenants:
"#,
    contoso_tenant!(),
    r#"    users:
      - userPrincipalName: alice@contoso.onmicrosoft.com
        department: Sales
      - userPrincipalName: bob@contoso.onmicrosoft.com
        department: Engineering
      - userPrincipalName: erin@contoso.onmicrosoft.com
        department: Sales
      - userPrincipalName: frank@contoso.onmicrosoft.com
        userType: Guest
    groups:
      - displayName: Contoso Sales
        description: Everyone who sells
        members: [alice@contoso.onmicrosoft.com, erin@contoso.onmicrosoft.com, frank@contoso.onmicrosoft.com]
      - displayName: Contoso Team
        groupTypes: [Unified]
        mailEnabled: true
        securityEnabled: false
        members: [bob@contoso.onmicrosoft.com]
      - displayName: Contoso Dynamic
        groupTypes: [DynamicMembership]
        members: [alice@contoso.onmicrosoft.com]
      - displayName: Contoso Mail Security
        mailEnabled: true
        members: [bob@contoso.onmicrosoft.com]
      - displayName: Contoso Distribution
        mailEnabled: true
        securityEnabled: false
        members: [erin@contoso.onmicrosoft.com]
"#,
    fabrikam_tenant!(),
    r#"      - clientId: 22222222-2222-4333-8444-555555555555
        secret: members-only
        roles: [GroupMember.Read.All]
    users:
      - userPrincipalName: carol@fabrikam.onmicrosoft.com
"#,
    northwind_tenant!(),
);

const GROUP_MAPPING: &str = "Provision Microsoft Entra ID Groups";
const ALICE: &str = "alice_contoso.onmicrosoft.com#EXT#@fabrikam.onmicrosoft.com";
const BOB: &str = "bob_contoso.onmicrosoft.com#EXT#@fabrikam.onmicrosoft.com";
const ERIN: &str = "erin_contoso.onmicrosoft.com#EXT#@fabrikam.onmicrosoft.com";

async fn env() -> Env {
    start_with(WORLD, Options::default()).await
}

fn beta(env: &Env, path: &str) -> String {
    format!("{}/beta{path}", env.base)
}

/// Fabrikam's identity sync policy for Contoso, by version.
fn policy(env: &Env, version: &str) -> String {
    let p = format!("{P}/partners/{A}/identitySynchronization");
    match version {
        "beta" => beta(env, &p),
        _ => p,
    }
}

/// Fabrikam (the target) sets `groupSyncInbound` through beta.
async fn allow_groups(env: &Env, b: &str, allowed: bool) {
    let body = json!({"groupSyncInbound": {"isSyncAllowed": allowed}});
    let r = env.call(b, "PATCH", &policy(env, "beta"), Some(body)).await;
    assert_eq!(r.status, 204, "{}", r.body);
}

/// PUTs the job's schema with the group mapping changed by `edit`.
async fn edit_group_mapping(env: &Env, a: &str, sp: &str, job: &str, edit: impl Fn(&mut Value)) {
    let url = format!("/servicePrincipals/{sp}/synchronization/jobs/{job}/schema");
    let mut s = env.get(a, &url).await.body;
    let m = s["synchronizationRules"][0]["objectMappings"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|m| m["name"] == GROUP_MAPPING)
        .expect("the group mapping");
    edit(m);
    let r = env.call(a, "PUT", &url, Some(as_body(s))).await;
    assert_eq!(r.status, 204, "{}", r.body);
}

async fn enable_groups(env: &Env, a: &str, sp: &str, job: &str) {
    edit_group_mapping(env, a, sp, job, |m| m["enabled"] = json!(true)).await;
}

async fn group_id(env: &Env, tok: &str, name: &str) -> String {
    let r = env
        .get(
            tok,
            &format!("/groups?$filter=displayName eq '{name}'&$select=id"),
        )
        .await;
    r.body["value"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{name}: {}", r.body))
        .to_owned()
}

/// Fabrikam's groups named `name`, with the properties a synced group is judged by.
async fn target_groups(env: &Env, b: &str, name: &str) -> Vec<Value> {
    let r = env.get(b, &format!("/groups?$filter=displayName eq '{name}'&$select=id,displayName,description,mailNickname,securityEnabled,mailEnabled,groupTypes")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["value"].as_array().unwrap().clone()
}

/// The UPNs of a group's members, sorted.
async fn member_upns(env: &Env, tok: &str, gid: &str) -> Vec<String> {
    let r = env
        .get(
            tok,
            &format!("/groups/{gid}/members?$select=userPrincipalName"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut upns: Vec<String> = r.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["userPrincipalName"].as_str().map(str::to_owned))
        .collect();
    upns.sort();
    upns
}

/// Syncing Contoso → Fabrikam configured and started with `groups` assigned; the first cycle
/// not run yet. Returns (contoso token, fabrikam token, sp, app role, job).
async fn sync_with(env: &Env, groups: &[&str]) -> (String, String, String, String, String) {
    let (a, b) = (env.a().await, env.b().await);
    allow_sync(env, &a, A, &b, B).await;
    let (sp, role, job) = configure(env, &a, B).await;
    for name in groups {
        let gid = group_id(env, &a, name).await;
        assert_eq!(assign(env, &a, &sp, &role, &gid).await.status, 201);
    }
    (a, b, sp, role, job)
}

async fn start_job(env: &Env, a: &str, sp: &str, job: &str) {
    let url = format!("/servicePrincipals/{sp}/synchronization/jobs/{job}/start");
    assert_eq!(env.call(a, "POST", &url, None).await.status, 204);
    env.advance(60.0).await;
}

/// Turns the group mapping on, allows group sync in Fabrikam and starts the job: its first
/// cycle has run when this returns.
async fn sync_groups(env: &Env, a: &str, b: &str, sp: &str, job: &str) {
    enable_groups(env, a, sp, job).await;
    allow_groups(env, b, true).await;
    start_job(env, a, sp, job).await;
}

/// The id of the one Fabrikam group named `name`.
async fn target_group_id(env: &Env, b: &str, name: &str) -> String {
    target_groups(env, b, name).await[0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no Fabrikam group {name}"))
        .to_owned()
}

/// Assigns `principal` to the sync app; returns the assignment's id.
async fn assignment_id(env: &Env, a: &str, sp: &str, role: &str, principal: &str) -> String {
    let r = assign(env, a, sp, role, principal).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

/// Takes an assignment off the sync app, so its principal leaves the scope.
async fn unassign(env: &Env, a: &str, sp: &str, assignment: &str) {
    let url = format!("/servicePrincipals/{sp}/appRoleAssignedTo/{assignment}");
    assert_eq!(env.call(a, "DELETE", &url, None).await.status, 204);
}

/// Adds `upn` to a group of `tenant` through the admin API (as an administrator there would).
async fn add_member(env: &Env, tenant: &str, group: &str, upn: &str) {
    let r = env
        .admin(
            "POST",
            &format!("tenants/{tenant}/groups/{group}/members"),
            Some(json!({"member": upn})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
}

/// The provisioning log entries of one source object (the reads are rate-limited: 5 per 10 s).
async fn log_of(env: &Env, a: &str, source_id: &str) -> Vec<Value> {
    env.advance(10.0).await;
    let r = env
        .get(
            a,
            &format!("/auditLogs/provisioning?$filter=sourceIdentity/id eq '{source_id}'"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["value"].as_array().unwrap().clone()
}

#[tokio::test]
async fn group_sync_inbound_is_a_beta_only_policy_property() {
    let env = env().await;
    let b = env.b().await;
    add_partner(&env, &b, A).await;
    // v1.0 does not know the property: a create carrying it is refused as any unknown one.
    let both = json!({"userSyncInbound": {"isSyncAllowed": true}, "groupSyncInbound": {"isSyncAllowed": true}});
    let r = env
        .call(&b, "PUT", &policy(&env, "v1.0"), Some(both.clone()))
        .await;
    assert_eq!((r.status, r.code()), (400, "Request_BadRequest"));
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("groupSyncInbound"),
        "{}",
        r.body
    );
    let users_only = json!({"userSyncInbound": {"isSyncAllowed": true}});
    let r = env
        .call(&b, "PUT", &policy(&env, "v1.0"), Some(users_only))
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    // A new policy: not set (beta shows null), and v1.0 does not show it at all.
    let r = env.get(&b, &policy(&env, "beta")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["groupSyncInbound"], Value::Null, "{}", r.body);
    assert!(r.body.as_object().unwrap().contains_key("groupSyncInbound"));
    allow_groups(&env, &b, true).await;
    let r = env.get(&b, &policy(&env, "beta")).await;
    assert_eq!(r.body["groupSyncInbound"], json!({"isSyncAllowed": true}));
    let r = env.get(&b, &policy(&env, "v1.0")).await;
    assert!(r.body.get("groupSyncInbound").is_none(), "{}", r.body);
    assert_eq!(r.body["userSyncInbound"], json!({"isSyncAllowed": true}));
    // v1.0 PATCH: refused with it, and leaves it as it is without it.
    let r = env
        .call(
            &b,
            "PATCH",
            &policy(&env, "v1.0"),
            Some(json!({"groupSyncInbound": {"isSyncAllowed": false}})),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = env
        .call(
            &b,
            "PATCH",
            &policy(&env, "v1.0"),
            Some(json!({"displayName": "Contoso", "userSyncInbound": {"isSyncAllowed": false}})),
        )
        .await;
    assert_eq!(r.status, 204);
    let r = env.get(&b, &policy(&env, "beta")).await;
    assert_eq!(r.body["groupSyncInbound"], json!({"isSyncAllowed": true}));
    assert_eq!(r.body["userSyncInbound"], json!({"isSyncAllowed": false}));
    assert_eq!(r.body["displayName"], "Contoso");
    // Beta validates the value.
    for bad in [
        json!({"isSyncAllowed": "yes"}),
        json!({"isSyncAllowed": null}),
        json!({"isSyncAllowed": true, "other": 1}),
        json!(true),
    ] {
        let r = env
            .call(
                &b,
                "PATCH",
                &policy(&env, "beta"),
                Some(json!({"groupSyncInbound": bad})),
            )
            .await;
        assert_eq!(r.status, 400, "{bad}");
    }
    // `$expand=identitySynchronization` carries it on beta only, on the list and on one partner.
    let list = format!("{P}/partners?$expand=identitySynchronization");
    let r = env.get(&b, &beta(&env, &list)).await;
    assert_eq!(
        r.body["value"][0]["identitySynchronization"]["groupSyncInbound"],
        json!({"isSyncAllowed": true}),
        "{}",
        r.body
    );
    let r = env.get(&b, &list).await;
    let expanded = &r.body["value"][0]["identitySynchronization"];
    assert!(expanded.is_object() && expanded.get("groupSyncInbound").is_none());
    let one = format!("{P}/partners/{A}?$expand=identitySynchronization");
    let r = env.get(&b, &beta(&env, &one)).await;
    assert_eq!(
        r.body["identitySynchronization"]["groupSyncInbound"]["isSyncAllowed"],
        true
    );
    // A beta create carries it (the docs' example body).
    add_partner(&env, &b, C).await;
    let create = beta(&env, &format!("{P}/partners/{C}/identitySynchronization"));
    let body = json!({"displayName": "Northwind", "groupSyncInbound": {"isSyncAllowed": true}, "userSyncInbound": {"isSyncAllowed": true}});
    assert_eq!(env.call(&b, "PUT", &create, Some(body)).await.status, 204);
    let r = env.get(&b, &create).await;
    assert_eq!(r.body["groupSyncInbound"], json!({"isSyncAllowed": true}));
    // The MTO identity sync template has no group setting.
    let tpl = format!("{P}/templates/multiTenantOrganizationIdentitySynchronization");
    let r = env.get(&b, &beta(&env, &tpl)).await;
    assert_eq!(r.status, 200);
    assert!(r.body.get("groupSyncInbound").is_none(), "{}", r.body);
}

#[tokio::test]
async fn the_schema_has_a_group_mapping_turned_off() {
    let env = env().await;
    let a = env.a().await;
    let (sp, _, job) = configure(&env, &a, B).await;
    let base = format!("/servicePrincipals/{sp}/synchronization");
    let s = env.get(&a, &format!("{base}/jobs/{job}/schema")).await.body;
    let tpl = env.get(&a, &format!("{base}/templates")).await.body;
    for schema in [&s, &tpl["value"][0]["schema"]] {
        let maps = schema["synchronizationRules"][0]["objectMappings"]
            .as_array()
            .unwrap();
        let g = maps
            .iter()
            .find(|m| m["name"] == GROUP_MAPPING)
            .expect("group mapping");
        assert_eq!(g["enabled"], false);
        assert_eq!(
            (&g["sourceObjectName"], &g["targetObjectName"]),
            (&json!("Group"), &json!("Group"))
        );
        assert_eq!(g["flowTypes"], "Add, Update, Delete");
        let targets: Vec<&str> = g["attributeMappings"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["targetAttributeName"].as_str())
            .collect();
        assert_eq!(
            targets,
            ["displayName", "description", "mailNickname", "members"]
        );
        for dir in schema["directories"].as_array().unwrap() {
            let group = dir["objects"]
                .as_array()
                .unwrap()
                .iter()
                .find(|o| o["name"] == "Group")
                .expect("a Group object in each directory");
            let members = group["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["name"] == "members")
                .unwrap();
            assert_eq!(
                (&members["type"], &members["multivalued"]),
                (&json!("Reference"), &json!(true))
            );
        }
    }
}

#[tokio::test]
async fn an_enabled_mapping_provisions_the_group_with_its_in_scope_members() {
    let env = env().await;
    let (a, b, sp, _, job) = sync_with(&env, &["Contoso Sales"]).await;
    sync_groups(&env, &a, &b, &sp, &job).await;

    let found = target_groups(&env, &b, "Contoso Sales").await;
    assert_eq!(found.len(), 1, "{found:?}");
    let g = &found[0];
    assert_eq!(g["securityEnabled"], true);
    assert_eq!(g["mailEnabled"], false);
    assert_eq!(g["groupTypes"], json!([]));
    assert_eq!(g["description"], "Everyone who sells");
    assert_eq!(g["mailNickname"], "ContosoSales");
    let gid = g["id"].as_str().unwrap().to_owned();
    // Exactly the copies of its internal direct members (the guest is never synced).
    assert_eq!(member_upns(&env, &b, &gid).await, [ALICE, ERIN]);
    let r = env.get(&b, &format!("/groups/{gid}")).await;
    assert_eq!(
        (r.status, &r.body["displayName"]),
        (200, &json!("Contoso Sales"))
    );
    // Members page by page, counted with ConsistencyLevel: eventual.
    let r = env
        .call_h(
            &b,
            "GET",
            &format!("/groups/{gid}/members?$select=id,userPrincipalName&$top=1&$count=true"),
            None,
            &[("ConsistencyLevel", "eventual")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["@odata.count"], 2);
    assert_eq!(r.body["value"].as_array().unwrap().len(), 1);
    let next = r.body["@odata.nextLink"].as_str().unwrap().to_owned();
    let r = env
        .call_h(&b, "GET", &next, None, &[("ConsistencyLevel", "eventual")])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["value"].as_array().unwrap().len(), 1);
    assert!(r.body.get("@odata.nextLink").is_none());
    let r = env
        .call_h(
            &b,
            "GET",
            &format!("/groups/{gid}/members/$count"),
            None,
            &[("ConsistencyLevel", "eventual")],
        )
        .await;
    assert_eq!((r.status, &r.body), (200, &json!(2)));
    // GroupMember.Read.All (least privileged) reads groups and members.
    let members_only = env
        .token(B, "22222222-2222-4333-8444-555555555555", "members-only")
        .await;
    assert_eq!(member_upns(&env, &members_only, &gid).await, [ALICE, ERIN]);
    assert_eq!(
        env.get(&members_only, "/users?$select=id").await.status,
        403
    );

    // The log: a create entry of identity type Group; the job counts the group.
    let source = group_id(&env, &a, "Contoso Sales").await;
    let log = log_of(&env, &a, &source).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["provisioningAction"], "create");
    assert_eq!(log[0]["sourceIdentity"]["identityType"], "Group");
    assert_eq!(log[0]["targetIdentity"]["id"], gid.as_str());
    assert_eq!(log[0]["provisioningStatusInfo"]["status"], "success");
    let j = env
        .get(
            &a,
            &format!("/servicePrincipals/{sp}/synchronization/jobs/{job}"),
        )
        .await
        .body;
    assert!(
        j["status"]["synchronizedEntryCountByType"]
            .as_array()
            .unwrap()
            .contains(&json!({"key": "Group", "value": 1})),
        "{}",
        j["status"]
    );
    // A later cycle with nothing changed leaves it as it is, and logs nothing more for it.
    env.advance(2400.0).await;
    assert_eq!(target_groups(&env, &b, "Contoso Sales").await, found);
    assert_eq!(log_of(&env, &a, &source).await.len(), 1);
}

#[tokio::test]
async fn group_types_follow_the_faq_table() {
    let env = env().await;
    let names = [
        "Contoso Team",
        "Contoso Dynamic",
        "Contoso Mail Security",
        "Contoso Distribution",
    ];
    let (a, b, sp, _, job) = sync_with(&env, &names).await;
    sync_groups(&env, &a, &b, &sp, &job).await;
    // A Microsoft 365 group and a dynamic group become static security groups.
    for (name, member) in [("Contoso Team", BOB), ("Contoso Dynamic", ALICE)] {
        let found = target_groups(&env, &b, name).await;
        assert_eq!(found.len(), 1, "{name}");
        assert_eq!(
            (
                &found[0]["securityEnabled"],
                &found[0]["mailEnabled"],
                &found[0]["groupTypes"]
            ),
            (&json!(true), &json!(false), &json!([])),
            "{name}"
        );
        let gid = found[0]["id"].as_str().unwrap();
        assert_eq!(member_upns(&env, &b, gid).await, [member], "{name}");
    }
    // Mail-enabled security groups and distribution groups are not synchronized.
    for name in ["Contoso Mail Security", "Contoso Distribution"] {
        assert_eq!(target_groups(&env, &b, name).await, Vec::<Value>::new());
        let source = group_id(&env, &a, name).await;
        let log = log_of(&env, &a, &source).await;
        assert_eq!(log.len(), 1, "{name}: {log:?}");
        assert_eq!(log[0]["provisioningStatusInfo"]["status"], "skipped");
        let error = &log[0]["provisioningStatusInfo"]["errorInformation"];
        assert_eq!(error["errorCode"], "NotEffectivelyEntitled");
        assert!(
            error["reason"]
                .as_str()
                .unwrap()
                .contains("security groups and Microsoft 365 groups"),
            "{error}"
        );
    }
}

#[tokio::test]
async fn a_disabled_mapping_skips_the_group_and_still_provisions_its_members() {
    let env = env().await;
    let (a, b, sp, _, job) = sync_with(&env, &["Contoso Sales"]).await;
    allow_groups(&env, &b, true).await;
    start_job(&env, &a, &sp, &job).await;
    assert_eq!(
        target_groups(&env, &b, "Contoso Sales").await,
        Vec::<Value>::new()
    );
    for upn in [ALICE, ERIN] {
        let r = env.get(&b, &format!("/users/{}", enc(upn))).await;
        assert_eq!(r.status, 200, "{upn} is provisioned as a user");
    }
    let source = group_id(&env, &a, "Contoso Sales").await;
    let log = log_of(&env, &a, &source).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["provisioningAction"], "other");
    assert_eq!(log[0]["sourceIdentity"]["identityType"], "Group");
    assert_eq!(log[0]["provisioningStatusInfo"]["status"], "skipped");
    assert_eq!(
        log[0]["provisioningStatusInfo"]["errorInformation"]["errorCode"],
        "EntityTypeNotSupported"
    );
}

#[tokio::test]
async fn without_group_sync_allowed_in_the_target_no_group_is_made() {
    let env = env().await;
    let (a, b, sp, _, job) = sync_with(&env, &["Contoso Sales"]).await;
    enable_groups(&env, &a, &sp, &job).await;
    // groupSyncInbound never set (null): no group; the users are provisioned.
    start_job(&env, &a, &sp, &job).await;
    assert_eq!(
        target_groups(&env, &b, "Contoso Sales").await,
        Vec::<Value>::new()
    );
    assert_eq!(
        env.get(&b, &format!("/users/{}", enc(ALICE))).await.status,
        200
    );
    let source = group_id(&env, &a, "Contoso Sales").await;
    let log = log_of(&env, &a, &source).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(
        log[0]["provisioningStatusInfo"]["errorInformation"]["errorCode"],
        "CrossTenantSyncPolicyCheckFailure"
    );
    // Explicitly false: still none.
    allow_groups(&env, &b, false).await;
    env.advance(2400.0).await;
    assert_eq!(
        target_groups(&env, &b, "Contoso Sales").await,
        Vec::<Value>::new()
    );
    // Allowed: the next cycle makes it.
    allow_groups(&env, &b, true).await;
    env.advance(2400.0).await;
    let found = target_groups(&env, &b, "Contoso Sales").await;
    assert_eq!(found.len(), 1);
    let gid = found[0]["id"].as_str().unwrap().to_owned();
    // Disallowed again: group sync stops, the group made stays as it is ("no impact on existing
    // groups that were synchronized"), while users still flow.
    allow_groups(&env, &b, false).await;
    add_member(&env, A, &source, "bob@contoso.onmicrosoft.com").await;
    env.advance(2400.0).await;
    assert_eq!(
        env.get(&b, &format!("/users/{}", enc(BOB))).await.status,
        200
    );
    assert_eq!(member_upns(&env, &b, &gid).await, [ALICE, ERIN]);
    assert_eq!(target_groups(&env, &b, "Contoso Sales").await, found);
}

#[tokio::test]
async fn membership_changes_in_the_source_flow_at_the_next_cycle() {
    let env = env().await;
    let (a, b, sp, _, job) = sync_with(&env, &["Contoso Sales"]).await;
    sync_groups(&env, &a, &b, &sp, &job).await;
    let gid = target_group_id(&env, &b, "Contoso Sales").await;
    assert_eq!(member_upns(&env, &b, &gid).await, [ALICE, ERIN]);
    // A target administrator adds one of Fabrikam's own users: kept (only synced copies are
    // taken out).
    add_member(&env, B, &gid, "carol@fabrikam.onmicrosoft.com").await;
    let source = group_id(&env, &a, "Contoso Sales").await;
    add_member(&env, A, &source, "bob@contoso.onmicrosoft.com").await;
    let r = env
        .admin(
            "DELETE",
            &format!("tenants/{A}/groups/{source}/members/erin@contoso.onmicrosoft.com"),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    // Nothing before the next cycle.
    assert_eq!(
        member_upns(&env, &b, &gid).await,
        [ALICE, "carol@fabrikam.onmicrosoft.com", ERIN]
    );
    env.advance(2400.0).await;
    assert_eq!(
        member_upns(&env, &b, &gid).await,
        [ALICE, BOB, "carol@fabrikam.onmicrosoft.com"]
    );
    let log = log_of(&env, &a, &source).await;
    assert_eq!(log[0]["provisioningAction"], "update", "newest first");
    let export = log[0]["provisioningSteps"]
        .as_array()
        .unwrap()
        .last()
        .cloned()
        .unwrap();
    assert_eq!(
        (
            &export["details"]["MembersAdded"],
            &export["details"]["MembersRemoved"]
        ),
        (&json!("1"), &json!("1"))
    );
    // An attribute renamed in the source follows too.
    let r = env
        .admin(
            "PATCH",
            &format!("tenants/{A}/groups/{source}"),
            Some(json!({"displayName": "Contoso Sellers"})),
        )
        .await;
    assert_eq!(r.status, 204);
    env.advance(2400.0).await;
    assert_eq!(target_groups(&env, &b, "Contoso Sellers").await.len(), 1);
    assert_eq!(
        target_groups(&env, &b, "Contoso Sales").await,
        Vec::<Value>::new()
    );
}

#[tokio::test]
async fn a_group_leaving_scope_is_deleted_in_the_target_when_the_mapping_deletes() {
    let env = env().await;
    let (a, b, sp, role, job) = sync_with(&env, &[]).await;
    let source = group_id(&env, &a, "Contoso Sales").await;
    let assignment = assignment_id(&env, &a, &sp, &role, &source).await;
    sync_groups(&env, &a, &b, &sp, &job).await;
    let gid = target_group_id(&env, &b, "Contoso Sales").await;
    unassign(&env, &a, &sp, &assignment).await;
    env.advance(2400.0).await;
    assert_eq!(env.get(&b, &format!("/groups/{gid}")).await.status, 404);
    assert_eq!(
        target_groups(&env, &b, "Contoso Sales").await,
        Vec::<Value>::new()
    );
    let log = log_of(&env, &a, &source).await;
    assert_eq!(log[0]["provisioningAction"], "delete", "{log:?}");
    assert_eq!(log[0]["targetIdentity"]["id"], gid.as_str());
    // Assigned again: the soft-deleted copy is restored (same object).
    let assignment = assignment_id(&env, &a, &sp, &role, &source).await;
    env.advance(2400.0).await;
    assert_eq!(env.get(&b, &format!("/groups/{gid}")).await.status, 200);
    // Without Delete in the group mapping's flowTypes, a group leaving scope stays.
    edit_group_mapping(&env, &a, &sp, &job, |m| {
        m["flowTypes"] = json!("Add, Update");
    })
    .await;
    unassign(&env, &a, &sp, &assignment).await;
    env.advance(2400.0).await;
    assert_eq!(env.get(&b, &format!("/groups/{gid}")).await.status, 200);
}

#[tokio::test]
async fn a_group_deleted_in_the_source_is_deleted_in_the_target() {
    let env = env().await;
    let (a, b, sp, _, job) = sync_with(&env, &["Contoso Dynamic"]).await;
    sync_groups(&env, &a, &b, &sp, &job).await;
    let gid = target_group_id(&env, &b, "Contoso Dynamic").await;
    let source = group_id(&env, &a, "Contoso Dynamic").await;
    let r = env
        .admin("DELETE", &format!("tenants/{A}/groups/{source}"), None)
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(env.get(&a, &format!("/groups/{source}")).await.status, 404);
    env.advance(2400.0).await;
    assert_eq!(env.get(&b, &format!("/groups/{gid}")).await.status, 404);
    // Its only member left the user scope with it.
    assert_eq!(
        env.get(&b, &format!("/users/{}", enc(ALICE))).await.status,
        404
    );
}

#[tokio::test]
async fn a_target_group_made_outside_sync_is_never_touched() {
    let env = env().await;
    let (a, b, sp, role, job) = sync_with(&env, &[]).await;
    // Fabrikam has its own "Contoso Sales" before sync runs.
    let r = env
        .admin(
            "POST",
            &format!("tenants/{B}/groups"),
            Some(json!({"displayName": "Contoso Sales", "members": ["carol@fabrikam.onmicrosoft.com"]})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let own = r.body["id"].as_str().unwrap().to_owned();
    let source = group_id(&env, &a, "Contoso Sales").await;
    let assignment = assignment_id(&env, &a, &sp, &role, &source).await;
    sync_groups(&env, &a, &b, &sp, &job).await;
    let found = target_groups(&env, &b, "Contoso Sales").await;
    assert_eq!(found.len(), 2, "a new group beside Fabrikam's: {found:?}");
    let synced = found.iter().find(|g| g["id"] != own.as_str()).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        member_upns(&env, &b, &own).await,
        ["carol@fabrikam.onmicrosoft.com"]
    );
    assert_eq!(member_upns(&env, &b, &synced).await, [ALICE, ERIN]);
    let r = env.get(&b, &format!("/groups/{own}")).await;
    assert_eq!(r.body["description"], Value::Null);
    // Unassigned: the synced copy goes, Fabrikam's own stays.
    unassign(&env, &a, &sp, &assignment).await;
    env.advance(2400.0).await;
    assert_eq!(env.get(&b, &format!("/groups/{synced}")).await.status, 404);
    assert_eq!(
        member_upns(&env, &b, &own).await,
        ["carol@fabrikam.onmicrosoft.com"]
    );
}
