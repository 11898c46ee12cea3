//! The baseline's apply from scratch: Microsoft's documented Graph flow for a multitenant
//! organization and its cross-tenant syncs (graph-reference §10), written as a Terraform
//! configuration would be, one resource per object and one request per resource.
//!
//! Like `terraform apply`, it first reads every data source (each user or group a scope
//! names, one lookup each), then walks the resources at Terraform's parallelism:
//! the MTO templates of every tenant; the organization (waiting until it is active), each
//! member, each member's join (waiting until it completes); per sync direction the partner
//! configurations and identity sync policy it needs (read, and written only if missing or
//! different, since the joins create them from the templates), the configuration
//! (`instantiate`), `validateCredentials`, the job, its secrets, its schema (read, edited,
//! written back), one `POST appRoleAssignedTo` per principal, and `start` once the schema and
//! every assignment are done. The ids it learns are its state, which [`super::refresh`] reads
//! back the way `terraform plan` refreshes.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use reqwest::Method;
use serde_json::{Value, json};

use super::client::{Client, encode, excerpt};
use super::walk::{Node, Slot, walk};
use crate::worlds::Layout;

/// The organization.
pub const MTO: &str = "/tenantRelationships/multiTenantOrganization";
/// Its members.
pub const TENANTS: &str = "/tenantRelationships/multiTenantOrganization/tenants";
/// A tenant's own join request.
pub const JOIN: &str = "/tenantRelationships/multiTenantOrganization/joinRequest";
/// Partner configurations.
pub const PARTNERS: &str = "/policies/crossTenantAccessPolicy/partners";
/// The partner configuration template.
pub const PARTNER_TEMPLATE: &str =
    "/policies/crossTenantAccessPolicy/templates/multiTenantOrganizationPartnerConfiguration";
/// The identity synchronization template.
pub const SYNC_TEMPLATE: &str =
    "/policies/crossTenantAccessPolicy/templates/multiTenantOrganizationIdentitySynchronization";
/// The cross-tenant synchronization application template.
const CTS_TEMPLATE: &str = "518e5f48-1fc8-4c48-9387-9fdf28b0dfe7";
/// Both template application levels (graph-reference §10.1 step 0).
const LEVEL: &str = "newPartners,existingPartners";
/// Longest wait for asynchronous work, as the measured `mtoctl apply --wait 2h`.
const MAX_WAIT: Duration = Duration::from_secs(2 * 3600);
/// First delay between polls, doubled up to [`MAX_POLL`]: mtoctl's own (`ApplyOptions`).
const FIRST_POLL: Duration = Duration::from_millis(500);
const MAX_POLL: Duration = Duration::from_secs(30);

/// One configuration's ids.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Service principal id.
    pub sp: String,
    /// The app role users and groups are assigned.
    pub role: String,
    /// Job id, once created.
    pub job: Option<String>,
}

/// What the apply learned: Terraform's state.
#[derive(Debug, Default)]
pub struct State {
    /// Object ids of the names looked up, by (tenant index, UPN or group name).
    pub ids: BTreeMap<(usize, String), String>,
    /// Per sync direction (the layout's order), its configuration.
    pub configs: BTreeMap<usize, Config>,
    /// Assignment ids by (sync direction, principal index).
    pub assignments: BTreeMap<(usize, usize), String>,
}

/// The client, what it manages and what it learned, shared by the walk's nodes.
pub struct Shared {
    /// The HTTP client.
    pub client: Client,
    /// The spec's content.
    pub layout: Layout,
    /// The state.
    pub state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A node that panicked has already failed the walk; its half-written state is moot.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn config(&self, d: usize) -> anyhow::Result<Config> {
        self.lock()
            .configs
            .get(&d)
            .cloned()
            .with_context(|| format!("sync {d} has no configuration in the state"))
    }

    /// Sync `d`'s job id, once its creation has stored it.
    fn job(&self, d: usize) -> anyhow::Result<String> {
        self.config(d)?.job.context("no job id in the state")
    }

    /// Sends one request to `/servicePrincipals/{sp}/synchronization/{rel}` of sync `d`, in
    /// its source tenant `src`.
    async fn sync_call(
        &self,
        d: usize,
        src: usize,
        method: Method,
        rel: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        let sp = self.config(d)?.sp;
        let path = format!("/servicePrincipals/{sp}/synchronization/{rel}");
        self.client.expect(src, method, &path, body).await
    }
}

/// The (tenant, name) pairs the data sources look up: each source tenant's principals once.
pub fn lookups(layout: &Layout) -> BTreeSet<(usize, String)> {
    layout
        .syncs
        .iter()
        .flat_map(|s| s.principals.iter().map(move |p| (s.src, p.clone())))
        .collect()
}

/// The data source read of one name: `GET /users?$filter=userPrincipalName eq '…'` as
/// `azuread_user`/`azuread_users` do, or `GET /groups?$filter=displayName eq '…'` as
/// `azuread_group` does.
pub fn lookup_path(groups: bool, name: &str) -> String {
    let quoted = name.replace('\'', "''");
    if groups {
        format!(
            "/groups?$filter={}&$select=id,displayName",
            encode(&format!("displayName eq '{quoted}'"))
        )
    } else {
        format!(
            "/users?$filter={}&$select=id,userPrincipalName",
            encode(&format!("userPrincipalName eq '{quoted}'"))
        )
    }
}

/// Reads one data source and returns the object's id (exactly one must match).
pub async fn lookup(sh: &Shared, tenant: usize, name: &str) -> anyhow::Result<String> {
    sh.client.tally.lookups.fetch_add(1, Ordering::Relaxed);
    let path = lookup_path(sh.layout.groups, name);
    let body = sh.client.expect(tenant, Method::GET, &path, None).await?;
    let found = body.get("value").and_then(Value::as_array);
    match found.map(Vec::as_slice) {
        Some([one]) => one
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .with_context(|| format!("{name}: the lookup's answer has no id")),
        _ => bail!(
            "{name} in tenant {}: expected one match, got {}",
            sh.client.tenant_id(tenant),
            excerpt(&body)
        ),
    }
}

/// Terraform's plan before an apply from scratch: every data source, nothing else.
fn lookup_nodes(sh: &Arc<Shared>) -> Vec<Node> {
    lookups(&sh.layout)
        .into_iter()
        .map(|(t, name)| {
            let sh = sh.clone();
            Node::new(
                format!("data[{t}:{name}]"),
                vec![],
                move |_slot| async move {
                    let id = lookup(&sh, t, &name).await?;
                    sh.lock().ids.insert((t, name), id);
                    Ok(())
                },
            )
        })
        .collect()
}

/// Polls with mtoctl's back-off (500 ms doubled up to 30 s), giving the walk's slot back
/// between polls, until `done` or [`MAX_WAIT`].
struct Backoff {
    next: Duration,
    waited: Duration,
}

impl Backoff {
    fn new() -> Self {
        Self {
            next: FIRST_POLL,
            waited: Duration::ZERO,
        }
    }

    async fn wait(&mut self, slot: &mut Slot, what: &str) -> anyhow::Result<()> {
        if self.waited >= MAX_WAIT {
            bail!("{what}: still not done after {:?}", MAX_WAIT);
        }
        slot.pause(self.next).await;
        self.waited += self.next;
        self.next = (self.next * 2).min(MAX_POLL);
        Ok(())
    }
}

/// The apply's resources, in dependency order.
fn apply_nodes(sh: &Arc<Shared>) -> Vec<Node> {
    let l = &sh.layout;
    let t = l.tenants.len();
    let mut nodes: Vec<Node> = Vec::new();
    let mut add = |n: Node| {
        nodes.push(n);
        nodes.len() - 1
    };

    // Step 0: the templates, before the organization is created and joined.
    let mut templates = Vec::new();
    for i in 0..t {
        let sh1 = sh.clone();
        let a = add(Node::new(
            format!("template.identity_sync[{i}]"),
            vec![],
            move |_s| async move {
                let body = json!({"templateApplicationLevel": LEVEL, "userSyncInbound": {"isSyncAllowed": true}});
                sh1.client
                    .expect(i, Method::PATCH, SYNC_TEMPLATE, Some(&body))
                    .await?;
                Ok(())
            },
        ));
        let sh2 = sh.clone();
        let b = add(Node::new(
            format!("template.partner[{i}]"),
            vec![],
            move |_s| async move {
                let body = json!({"templateApplicationLevel": LEVEL, "automaticUserConsentSettings": {"inboundAllowed": true, "outboundAllowed": true}});
                sh2.client
                    .expect(i, Method::PATCH, PARTNER_TEMPLATE, Some(&body))
                    .await?;
                Ok(())
            },
        ));
        templates.push([a, b]);
    }

    // Steps 1–6: the organization, its members, their joins.
    let sh0 = sh.clone();
    let name = l.organization.clone();
    let org = add(Node::new(
        "organization",
        templates[0].to_vec(),
        move |mut slot| async move {
            let c = &sh0.client;
            c.expect(0, Method::PUT, MTO, Some(&json!({"displayName": name})))
                .await?;
            let mut b = Backoff::new();
            loop {
                let mto = c.expect(0, Method::GET, MTO, None).await?;
                if mto.get("state").and_then(Value::as_str) == Some("active") {
                    return Ok(());
                }
                b.wait(&mut slot, "the organization").await?;
            }
        },
    ));
    let mut joined = vec![org; t];
    for j in 1..t {
        let sh1 = sh.clone();
        let member = add(Node::new(
            format!("member[{j}]"),
            vec![org],
            move |_s| async move {
                let tenant = &sh1.layout.tenants[j];
                let body = json!({"tenantId": tenant.id, "displayName": tenant.display_name, "role": "member"});
                sh1.client
                    .expect(0, Method::POST, TENANTS, Some(&body))
                    .await?;
                Ok(())
            },
        ));
        let sh2 = sh.clone();
        let deps = vec![member, templates[j][0], templates[j][1]];
        joined[j] = add(Node::new(
            format!("join[{j}]"),
            deps,
            move |mut slot| async move {
                let c = &sh2.client;
                let owner = c.tenant_id(0).to_owned();
                c.expect(
                    j,
                    Method::PATCH,
                    JOIN,
                    Some(&json!({"addedByTenantId": owner})),
                )
                .await?;
                let mut b = Backoff::new();
                loop {
                    b.wait(&mut slot, "the join").await?;
                    let jr = c.expect(j, Method::GET, JOIN, None).await?;
                    let state = jr.get("memberState").and_then(Value::as_str);
                    let transition = jr.get("transitionDetails").filter(|v| !v.is_null());
                    if let Some(tr) = transition
                        && tr.get("status").and_then(Value::as_str) == Some("failed")
                    {
                        bail!(
                            "the join of tenant {} failed: {}",
                            c.tenant_id(j),
                            excerpt(tr)
                        );
                    }
                    if state == Some("active") && transition.is_none() {
                        return Ok(());
                    }
                }
            },
        ));
    }

    // Steps 7–10: each partner configuration a sync needs, on both sides (once each).
    let mut partners: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    for s in &l.syncs {
        for (a, b) in [(s.tgt, s.src), (s.src, s.tgt)] {
            if partners.contains_key(&(a, b)) {
                continue;
            }
            let sh1 = sh.clone();
            let n = add(Node::new(
                format!("partner[{a}:{b}]"),
                vec![joined[a], joined[b]],
                move |_s| async move { ensure_partner(&sh1.client, a, b).await },
            ));
            partners.insert((a, b), n);
        }
    }
    let mut identity: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    for s in &l.syncs {
        let (a, b) = (s.tgt, s.src);
        if identity.contains_key(&(a, b)) {
            continue;
        }
        let sh1 = sh.clone();
        let n = add(Node::new(
            format!("identity_sync[{a}:{b}]"),
            vec![partners[&(a, b)]],
            move |_s| async move { ensure_identity_sync(&sh1, a, b).await },
        ));
        identity.insert((a, b), n);
    }

    // Steps 11–18 for each direction.
    for (d, s) in l.syncs.iter().enumerate() {
        let (src, tgt) = (s.src, s.tgt);
        let sh1 = sh.clone();
        let inst = add(Node::new(
            format!("sync[{d}]"),
            vec![],
            move |_s| async move {
                let target = sh1.client.tenant_id(tgt).to_owned();
                let body = json!({"displayName": format!("MTO_Sync_{target}")});
                let path = format!("/applicationTemplates/{CTS_TEMPLATE}/instantiate");
                let made = sh1
                    .client
                    .expect(src, Method::POST, &path, Some(&body))
                    .await?;
                let sp = &made["servicePrincipal"];
                let id = sp["id"]
                    .as_str()
                    .context("instantiate returned no servicePrincipal.id")?;
                let role = sp["appRoles"]
                    .as_array()
                    .and_then(|roles| {
                        roles.iter().find(|r| {
                            r["allowedMemberTypes"]
                                .as_array()
                                .is_some_and(|m| m.iter().any(|t| t == "User"))
                        })
                    })
                    .and_then(|r| r["id"].as_str())
                    .context("instantiate returned no app role for users")?;
                sh1.lock().configs.insert(
                    d,
                    Config {
                        sp: id.to_owned(),
                        role: role.to_owned(),
                        job: None,
                    },
                );
                Ok(())
            },
        ));
        let sh2 = sh.clone();
        let deps = vec![
            inst,
            identity[&(tgt, src)],
            partners[&(tgt, src)],
            partners[&(src, tgt)],
        ];
        let validate = add(Node::new(
            format!("sync[{d}].credentials"),
            deps,
            move |_s| async move {
                let body = json!({
                    "useSavedCredentials": false,
                    "templateId": "Azure2Azure",
                    "credentials": [
                        {"key": "CompanyId", "value": sh2.client.tenant_id(tgt)},
                        {"key": "AuthenticationType", "value": "SyncPolicy"},
                    ],
                });
                let rel = "jobs/validateCredentials";
                sh2.sync_call(d, src, Method::POST, rel, Some(&body))
                    .await?;
                Ok(())
            },
        ));
        let sh3 = sh.clone();
        let job = add(Node::new(
            format!("sync[{d}].job"),
            vec![validate],
            move |_s| async move {
                let body = json!({"templateId": "Azure2Azure"});
                let made = sh3
                    .sync_call(d, src, Method::POST, "jobs", Some(&body))
                    .await?;
                let id = made["id"]
                    .as_str()
                    .context("the job's creation returned no id")?;
                if let Some(c) = sh3.lock().configs.get_mut(&d) {
                    c.job = Some(id.to_owned());
                }
                Ok(())
            },
        ));
        let sh4 = sh.clone();
        let secrets = add(Node::new(
            format!("sync[{d}].secrets"),
            vec![job],
            move |_s| async move {
                let body = json!({"value": [
                    {"key": "AuthenticationType", "value": "SyncPolicy"},
                    {"key": "CompanyId", "value": sh4.client.tenant_id(tgt)},
                    {"key": "SyncNotificationSettings", "value": "{\"Enabled\":false,\"DeleteThresholdEnabled\":false,\"HumanResourcesLookaheadQueryEnabled\":false}"},
                    {"key": "SyncAll", "value": "false"},
                ]});
                sh4.sync_call(d, src, Method::PUT, "secrets", Some(&body))
                    .await?;
                Ok(())
            },
        ));
        let sh5 = sh.clone();
        let schema = add(Node::new(
            format!("sync[{d}].schema"),
            vec![secrets],
            move |_s| async move {
                let rel = format!("jobs/{}/schema", sh5.job(d)?);
                let mut schema = sh5.sync_call(d, src, Method::GET, &rel, None).await?;
                edit_schema(&mut schema)?;
                sh5.sync_call(d, src, Method::PUT, &rel, Some(&schema))
                    .await?;
                Ok(())
            },
        ));
        let mut start_deps = vec![schema];
        for (p, name) in s.principals.iter().enumerate() {
            let sh6 = sh.clone();
            let name = name.clone();
            start_deps.push(add(Node::new(
                format!("sync[{d}].assignment[{name}]"),
                vec![inst],
                move |_s| async move {
                    let c = sh6.config(d)?;
                    let principal = sh6
                        .lock()
                        .ids
                        .get(&(src, name.clone()))
                        .cloned()
                        .with_context(|| format!("{name} was not looked up"))?;
                    let body =
                        json!({"principalId": principal, "resourceId": c.sp, "appRoleId": c.role});
                    let path = format!("/servicePrincipals/{}/appRoleAssignedTo", c.sp);
                    sh6.client.tally.assignments.fetch_add(1, Ordering::Relaxed);
                    let made = sh6
                        .client
                        .expect(src, Method::POST, &path, Some(&body))
                        .await?;
                    let id = made["id"]
                        .as_str()
                        .context("the assignment returned no id")?;
                    sh6.lock().assignments.insert((d, p), id.to_owned());
                    Ok(())
                },
            )));
        }
        let sh7 = sh.clone();
        add(Node::new(
            format!("sync[{d}].start"),
            start_deps,
            move |_s| async move {
                let rel = format!("jobs/{}/start", sh7.job(d)?);
                sh7.sync_call(d, src, Method::POST, &rel, None).await?;
                Ok(())
            },
        ));
    }
    nodes
}

/// Whether a partner configuration allows automatic consent both ways, as `allPairs` asks.
pub fn consent_ok(partner: &Value) -> bool {
    let c = &partner["automaticUserConsentSettings"];
    c["inboundAllowed"] == json!(true) && c["outboundAllowed"] == json!(true)
}

/// Steps 7, 9 and 10: tenant `a`'s partner configuration for `b` exists and allows automatic
/// consent both ways; read first, written only if missing or different.
async fn ensure_partner(c: &Client, a: usize, b: usize) -> anyhow::Result<()> {
    let partner = c.tenant_id(b).to_owned();
    let path = format!("{PARTNERS}/{partner}");
    let consent = json!({"inboundAllowed": true, "outboundAllowed": true});
    let got = c.call(a, Method::GET, &path, None).await?;
    if got.status == 404 {
        let body = json!({"tenantId": partner, "automaticUserConsentSettings": consent});
        c.expect(a, Method::POST, PARTNERS, Some(&body)).await?;
    } else if !got.ok() {
        bail!(
            "GET {path} in tenant {} answered {}: {}",
            c.tenant_id(a),
            got.status,
            excerpt(&got.body)
        );
    } else if !consent_ok(&got.body) {
        let body = json!({"automaticUserConsentSettings": consent});
        c.expect(a, Method::PATCH, &path, Some(&body)).await?;
    }
    Ok(())
}

/// Step 8: tenant `a` lets `b` sync users in; read first, written only if missing or false.
async fn ensure_identity_sync(sh: &Shared, a: usize, b: usize) -> anyhow::Result<()> {
    let c = &sh.client;
    let path = format!("{PARTNERS}/{}/identitySynchronization", c.tenant_id(b));
    let got = c.call(a, Method::GET, &path, None).await?;
    let allowed = json!({"isSyncAllowed": true});
    if got.status == 404 {
        let body =
            json!({"displayName": sh.layout.tenants[b].display_name, "userSyncInbound": allowed});
        c.expect(a, Method::PUT, &path, Some(&body)).await?;
    } else if !got.ok() {
        bail!(
            "GET {path} in tenant {} answered {}: {}",
            c.tenant_id(a),
            got.status,
            excerpt(&got.body)
        );
    } else if got.body["userSyncInbound"]["isSyncAllowed"] != json!(true) {
        c.expect(
            a,
            Method::PATCH,
            &path,
            Some(&json!({"userSyncInbound": allowed})),
        )
        .await?;
    }
    Ok(())
}

/// Step 15: the user mapping creates members (`userType` constant `Member`, always applied),
/// has no scoping filter and deletes on leaving the scope; everything else stays as read, and
/// the read's annotations are dropped (a request body holds only declared properties).
pub fn edit_schema(schema: &mut Value) -> anyhow::Result<()> {
    strip_annotations(schema);
    let rules = schema["synchronizationRules"]
        .as_array_mut()
        .context("the schema has no synchronizationRules")?;
    let mut found = false;
    for mapping in rules
        .iter_mut()
        .filter_map(|r| r["objectMappings"].as_array_mut())
        .flatten()
        .filter(|m| {
            m["sourceObjectName"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case("User"))
        })
    {
        found = true;
        mapping["flowTypes"] = json!("Add, Update, Delete");
        mapping["scope"] =
            json!({"groups": [], "inputFilterGroups": [], "categoryFilterGroups": []});
        let user_type = json!({
            "targetAttributeName": "userType",
            "source": {"type": "Constant", "name": "Member", "expression": "\"Member\"", "parameters": []},
            "defaultValue": null,
            "flowType": "Always",
            "flowBehavior": "FlowWhenChanged",
            "matchingPriority": 0,
            "exportMissingReferences": false,
        });
        let attrs = mapping["attributeMappings"]
            .as_array_mut()
            .context("the user mapping's attributeMappings is not a list")?;
        match attrs
            .iter_mut()
            .find(|a| a["targetAttributeName"] == "userType")
        {
            Some(a) => {
                a["source"] = user_type["source"].clone();
                a["flowType"] = json!("Always");
            }
            None => attrs.push(user_type),
        }
    }
    anyhow::ensure!(found, "the schema has no user mapping");
    Ok(())
}

fn strip_annotations(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|k, _| !k.starts_with('@') && !k.contains("@odata."));
            m.values_mut().for_each(strip_annotations);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_annotations),
        _ => {}
    }
}

/// Applies `sh.layout` from scratch: every data source, then every resource, each walk at
/// `parallelism`.
pub async fn apply(sh: &Arc<Shared>, parallelism: usize) -> anyhow::Result<()> {
    walk(lookup_nodes(sh), parallelism)
        .await
        .context("the baseline's plan (data sources) failed")?;
    walk(apply_nodes(sh), parallelism)
        .await
        .context("the baseline's apply failed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_edit_sets_member_always_and_no_filter() {
        let mut schema = json!({
            "@odata.context": "x",
            "synchronizationRules": [{"objectMappings": [
                {"sourceObjectName": "Group", "flowTypes": "Add"},
                {"sourceObjectName": "User", "flowTypes": "Add, Update", "scope": null,
                 "attributeMappings": [{"targetAttributeName": "userType", "flowType": "ObjectAddOnly",
                    "source": {"type": "Constant", "name": "Guest"}}]}
            ]}]
        });
        edit_schema(&mut schema).expect("edits");
        assert!(schema.get("@odata.context").is_none());
        let user = &schema["synchronizationRules"][0]["objectMappings"][1];
        assert_eq!(user["flowTypes"], "Add, Update, Delete");
        assert_eq!(user["scope"]["groups"], json!([]));
        assert_eq!(user["attributeMappings"][0]["source"]["name"], "Member");
        assert_eq!(user["attributeMappings"][0]["flowType"], "Always");
        assert_eq!(
            schema["synchronizationRules"][0]["objectMappings"][0]["flowTypes"],
            "Add"
        );
    }

    #[test]
    fn lookups_are_one_filter_per_name() {
        assert_eq!(
            lookup_path(false, "u1@t0.ex"),
            "/users?$filter=userPrincipalName%20eq%20%27u1%40t0.ex%27&$select=id,userPrincipalName"
        );
        assert!(lookup_path(true, "g1").starts_with("/groups?$filter=displayName%20eq%20%27g1%27"));
    }
}
