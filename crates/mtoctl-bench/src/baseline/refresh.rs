//! The baseline's no-op plan: what `terraform plan` does with a state — every data source read
//! again (one lookup per name) and every resource in the state refreshed with one `GET` each,
//! all independent, at Terraform's parallelism. The secrets are not read: Graph documents no
//! `GET` for them (graph-reference §6.9), so a provider cannot refresh them.
//!
//! What it reads is compared with what the spec asks; a difference fails the plan, as a
//! non-empty `mtoctl plan --detailed-exitcode` fails the harness.

use std::sync::{Arc, Mutex};

use anyhow::{Context, bail};
use reqwest::Method;
use serde_json::{Value, json};

use super::flow::{
    JOIN, MTO, PARTNER_TEMPLATE, PARTNERS, SYNC_TEMPLATE, Shared, TENANTS, consent_ok, lookup,
    lookups,
};
use super::walk::{Node, walk};

/// One read of the refresh: the tenant it is made in, the path, and what its answer must say.
struct Read {
    name: String,
    tenant: usize,
    path: String,
    check: fn(&Value) -> bool,
}

fn any(_: &Value) -> bool {
    true
}

fn active(v: &Value) -> bool {
    v["state"] == "active"
}

fn joined(v: &Value) -> bool {
    v["memberState"] == "active"
}

fn sync_allowed(v: &Value) -> bool {
    v["userSyncInbound"]["isSyncAllowed"] == json!(true)
}

fn running(v: &Value) -> bool {
    v["schedule"]["state"] == "Active"
}

fn member_always(v: &Value) -> bool {
    v["synchronizationRules"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["objectMappings"].as_array())
        .flatten()
        .filter(|m| m["sourceObjectName"] == "User")
        .flat_map(|m| m["attributeMappings"].as_array().into_iter().flatten())
        .any(|a| {
            a["targetAttributeName"] == "userType"
                && a["source"]["name"] == "Member"
                && a["flowType"] == "Always"
        })
}

/// Every resource read of the refresh.
fn reads(sh: &Shared) -> anyhow::Result<Vec<Read>> {
    let l = &sh.layout;
    let c = &sh.client;
    let state = sh.state.lock().unwrap_or_else(|p| p.into_inner());
    let mut out = Vec::new();
    let mut read = |name: String, tenant: usize, path: String, check: fn(&Value) -> bool| {
        out.push(Read {
            name,
            tenant,
            path,
            check,
        });
    };
    for i in 0..l.tenants.len() {
        read(
            format!("template.identity_sync[{i}]"),
            i,
            SYNC_TEMPLATE.into(),
            sync_allowed,
        );
        read(
            format!("template.partner[{i}]"),
            i,
            PARTNER_TEMPLATE.into(),
            consent_ok,
        );
    }
    read("organization".into(), 0, MTO.into(), active);
    for j in 1..l.tenants.len() {
        read(
            format!("member[{j}]"),
            0,
            format!("{TENANTS}/{}", c.tenant_id(j)),
            any,
        );
        read(format!("join[{j}]"), j, JOIN.into(), joined);
    }
    let mut partners = std::collections::BTreeSet::new();
    let mut identity = std::collections::BTreeSet::new();
    for s in &l.syncs {
        partners.extend([(s.tgt, s.src), (s.src, s.tgt)]);
        identity.insert((s.tgt, s.src));
    }
    for (a, b) in partners {
        let path = format!("{PARTNERS}/{}", c.tenant_id(b));
        read(format!("partner[{a}:{b}]"), a, path, consent_ok);
    }
    for (a, b) in identity {
        let path = format!("{PARTNERS}/{}/identitySynchronization", c.tenant_id(b));
        read(format!("identity_sync[{a}:{b}]"), a, path, sync_allowed);
    }
    for (d, s) in l.syncs.iter().enumerate() {
        let cfg = state
            .configs
            .get(&d)
            .with_context(|| format!("sync {d} is not in the state"))?;
        let job = cfg.job.as_deref().context("a job is not in the state")?;
        let sp = &cfg.sp;
        read(
            format!("sync[{d}]"),
            s.src,
            format!("/servicePrincipals/{sp}"),
            any,
        );
        let jobs = format!("/servicePrincipals/{sp}/synchronization/jobs/{job}");
        read(format!("sync[{d}].job"), s.src, jobs.clone(), running);
        read(
            format!("sync[{d}].schema"),
            s.src,
            format!("{jobs}/schema"),
            member_always,
        );
        for p in 0..s.principals.len() {
            let id = state
                .assignments
                .get(&(d, p))
                .with_context(|| format!("assignment {p} of sync {d} is not in the state"))?;
            let path = format!("/servicePrincipals/{sp}/appRoleAssignedTo/{id}");
            read(format!("sync[{d}].assignment[{p}]"), s.src, path, any);
        }
    }
    Ok(out)
}

/// Refreshes everything the apply made and reads every data source again; fails on the first
/// difference from the spec (and says how many there were).
pub async fn plan(sh: &Arc<Shared>, parallelism: usize) -> anyhow::Result<()> {
    let diffs = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut nodes = Vec::new();
    for r in reads(sh)? {
        let (sh, diffs) = (sh.clone(), diffs.clone());
        nodes.push(Node::new(r.name.clone(), vec![], move |_slot| async move {
            let got = sh.client.call(r.tenant, Method::GET, &r.path, None).await?;
            if !got.ok() || !(r.check)(&got.body) {
                let mut d = diffs.lock().unwrap_or_else(|p| p.into_inner());
                d.push(format!("{} ({}, answered {})", r.name, r.path, got.status));
            }
            Ok(())
        }));
    }
    for (t, name) in lookups(&sh.layout) {
        let sh = sh.clone();
        let expected = sh
            .state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .ids
            .get(&(t, name.clone()))
            .cloned();
        let diffs = diffs.clone();
        nodes.push(Node::new(
            format!("data[{t}:{name}]"),
            vec![],
            move |_slot| async move {
                let id = lookup(&sh, t, &name).await?;
                if expected.as_deref() != Some(id.as_str()) {
                    let mut d = diffs.lock().unwrap_or_else(|p| p.into_inner());
                    d.push(format!("data[{t}:{name}] resolves to another object"));
                }
                Ok(())
            },
        ));
    }
    walk(nodes, parallelism)
        .await
        .context("the baseline's refresh failed")?;
    let diffs = diffs.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(first) = diffs.first() {
        bail!(
            "the baseline's no-op plan found {} difference(s), the first: {first}",
            diffs.len()
        );
    }
    Ok(())
}
