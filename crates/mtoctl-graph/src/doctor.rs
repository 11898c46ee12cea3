//! The reads of `mtoctl doctor`: per tenant, its token's permissions, its subscriptions, the
//! organization it already sees, its default cross-tenant access settings and partner
//! configurations, and `validateCredentials` on each existing sync configuration of the spec
//! (as `apply` does it). Bounded: five reads per tenant, and one lookup and one validation per sync out of it; the
//! tenants are read concurrently. A refused read is recorded (`Read::Forbidden`), never an
//! error: the planner's `doctor` says what to grant.
//!
//! `validateCredentials` is a POST, but it changes nothing (graph-reference §6.9): it asks the
//! target tenant whether this configuration may provision into it.

use mtoctl_model::DesiredState;
use mtoctl_model::desired::TenantSpec;
use mtoctl_model::doctor::{CredentialCheck, Read, TenantReadings};
use mtoctl_model::observed::{Known, MtoState, OrganizationObservation};
use serde::Deserialize;

use crate::error::GraphError;
use crate::objects::{self, ObjectError};
use crate::transport::GraphClient;
use crate::wire::{observe, policy, reads, skus};

/// What `doctor` reads in every tenant of `desired`, in spec order.
pub async fn read(client: &GraphClient, desired: &DesiredState) -> Vec<TenantReadings> {
    futures_util::future::join_all(desired.tenants.iter().map(|t| tenant(client, desired, t))).await
}

async fn tenant(c: &GraphClient, desired: &DesiredState, t: &TenantSpec) -> TenantReadings {
    let alias = t.alias.as_str();
    let sign_in = match c.token_roles(alias).await {
        Ok(roles) => Read::Found(roles),
        Err(e) => Read::Failed(chain(&e)),
    };
    let mut readings = TenantReadings {
        alias: t.alias.clone(),
        tenant_id: t.tenant_id.clone(),
        sign_in,
        skus: Read::NotRead,
        organization: Read::NotRead,
        default_settings: Read::NotRead,
        partners: Read::NotRead,
        credentials: Vec::new(),
    };
    if !matches!(readings.sign_in, Read::Found(_)) {
        return readings;
    }
    readings.skus = match c.get_all(alias, &reads::list_subscribed_skus()).await {
        Ok(items) => Read::Found(
            items
                .iter()
                .filter_map(|v| skus::SubscribedSku::deserialize(v).ok())
                .map(skus::SubscribedSku::observe)
                .collect(),
        ),
        Err(e) => refused(&e),
    };
    readings.organization = organization(c, alias).await;
    readings.default_settings = match c.send(alias, &reads::get_default_settings()).await {
        Ok(resp) => match policy::Settings::deserialize(&resp.body) {
            Ok(settings) => Read::Found(settings.observe()),
            Err(e) => Read::Failed(format!("cannot read the default settings: {e}")),
        },
        Err(e) => refused(&e),
    };
    readings.partners = match c.get_all(alias, &reads::list_partners()).await {
        Ok(items) => Read::Found(
            desired
                .tenants
                .iter()
                .filter(|x| x.alias != t.alias)
                .filter_map(|x| {
                    observe::partner(&items, &x.tenant_id)
                        .map(|p| (x.tenant_id.clone(), p.settings))
                })
                .collect(),
        ),
        Err(e) => refused(&e),
    };
    for sync in desired.syncs.iter().filter(|s| s.from == t.alias) {
        let Some(target) = desired.tenants.iter().find(|x| x.alias == sync.to) else {
            continue;
        };
        let (outcome, absent) = match objects::sync::named(c, alias, &sync.name).await {
            Err(e) => (object_refused(&e), false),
            Ok(found) if found.is_empty() => (Read::NotRead, true),
            Ok(found) => {
                let mut outcome = Read::Found(());
                // Two configurations may share the name (apply refuses to choose); each is
                // checked.
                for ids in &found {
                    let sp = &ids.service_principal_id;
                    if let Err(e) =
                        objects::sync::validate_credentials(c, alias, sp, &target.tenant_id).await
                    {
                        outcome = object_refused(&e);
                        break;
                    }
                }
                (outcome, false)
            }
        };
        readings.credentials.push(CredentialCheck {
            name: sync.name.clone(),
            to: sync.to.clone(),
            outcome,
            absent,
        });
    }
    readings
}

/// The organization with its members; `Found(None)` when the tenant has none.
async fn organization(c: &GraphClient, t: &str) -> Read<Option<OrganizationObservation>> {
    let body = match c.send(t, &reads::get_organization()).await {
        Ok(resp) => resp.body,
        Err(e) if e.status() == Some(404) => return Read::Found(None),
        Err(e) => return refused(&e),
    };
    let Some(mut org) = observe::organization(&body) else {
        return Read::Found(None);
    };
    if org.id.is_none() || !matches!(org.state, Known::Known(MtoState::Active)) {
        return Read::Found(None);
    }
    match c.get_all(t, &reads::list_members()).await {
        Ok(items) => {
            org.members = items.iter().filter_map(observe::member_item).collect();
            Read::Found(Some(org))
        }
        Err(e) => refused(&e),
    }
}

fn refused<T>(e: &GraphError) -> Read<T> {
    if e.status() == Some(403) {
        Read::Forbidden
    } else {
        Read::Failed(chain(e))
    }
}

fn object_refused<T>(e: &ObjectError) -> Read<T> {
    let status = match e {
        ObjectError::Graph { source, .. } => source.status(),
        _ => None,
    };
    if status == Some(403) {
        Read::Forbidden
    } else {
        Read::Failed(chain(e))
    }
}

/// An error with its causes, on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
