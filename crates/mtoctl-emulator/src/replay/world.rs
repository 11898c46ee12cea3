//! The replay's emulator: its world, the transcript's tenants mapped onto the world's, and a
//! client secret for each mapped tenant's mtoctl app.
//!
//! With a world file, the world is that file's (seeded by `--seed`, else the file's seed), so
//! that a transcript recorded against an emulator of the same world and seed meets the same
//! directory. Without one, the world is made of the transcript's tenants alone: each mapped
//! tenant id with a name (`t1`) and a domain (`t1.onmicrosoft.com`), one app and no users or
//! groups, enough for what mtoctl reads and writes of the organization, policies and sync
//! configurations, not for its reads of users and groups.
//!
//! Each transcript tenant maps to, in this order: the `--tenant` given for it; the original of
//! its tenant id in the key file, or that id itself, when the world has that tenant; else the
//! world's next unmapped tenant in the file's order. The replay signs in to each mapped tenant as
//! the tenant's app named like `mtoctl` (else its first app; a tenant without any gets one), with
//! a client secret added for the replay when the app has none. None of this draws on the
//! world's id sequence, so ids made during the replay are those an emulator of the same world
//! and seed would make.

use std::collections::BTreeMap;

use serde_json::json;

use crate::state::{AppCredential, State};
use crate::world::{DEFAULT_ROLES, TenantSpec, WorldError, WorldFile};

use super::ReplayOptions;
use super::error::ReplayError;
use super::key::Key;
use super::transcript::Header;

/// The client id of an app the replay adds to a tenant of the world that has none.
const REPLAY_CLIENT_ID: &str = "7e91a7c0-5e91-4a70-8000-00000000a770";
/// The client secret the replay adds to an app that has none.
const REPLAY_SECRET: &str = "mtoctl-replay-secret";

/// The replay's world before it starts: its state, and its tenants' ids in order.
pub struct World {
    /// The initial state.
    pub state: State,
    /// Tenant ids in the world file's order (or the first transcript's).
    pub order: Vec<String>,
}

/// Builds the replay's initial state: the world file's, or the tenants of the first transcript
/// (`header`, with its `key`).
pub fn build(
    header: &Header,
    key: Option<&Key>,
    options: &ReplayOptions,
) -> Result<World, ReplayError> {
    let world = match &options.world {
        Some(world) => world.clone(),
        None => {
            let tenants = map_alone(header, key, options)?;
            transcript_world(header, &tenants)?
        }
    };
    let order = world
        .tenants
        .iter()
        .map(|t| t.id.to_ascii_lowercase())
        .collect();
    Ok(World {
        state: world.into_state(options.seed)?,
        order,
    })
}

/// Maps a transcript's tenants onto the world's (whose ids are `order`): transcript tenant
/// (`t1`) → tenant id.
pub fn map(
    header: &Header,
    key: Option<&Key>,
    options: &ReplayOptions,
    order: &[String],
) -> Result<BTreeMap<String, String>, ReplayError> {
    for name in options.tenants.keys() {
        if !header.tenants.iter().any(|t| &t.tenant == name) {
            return Err(ReplayError::UnknownTranscriptTenant(name.clone()));
        }
    }
    map_onto(header, key, options, order)
}

/// The tenant id a transcript tenant's key or header names, lower-case.
fn named_id(key: Option<&Key>, pseudonym: &str) -> (Option<String>, String) {
    let original = key
        .and_then(|k| k.original(pseudonym))
        .map(str::to_ascii_lowercase);
    (original, pseudonym.to_ascii_lowercase())
}

fn map_onto(
    header: &Header,
    key: Option<&Key>,
    options: &ReplayOptions,
    order: &[String],
) -> Result<BTreeMap<String, String>, ReplayError> {
    let mut mapped: BTreeMap<String, String> = BTreeMap::new();
    let mut pending = Vec::new();
    for t in &header.tenants {
        if let Some(id) = options.tenants.get(&t.tenant) {
            let id = id.to_ascii_lowercase();
            if !order.contains(&id) {
                return Err(ReplayError::NotInWorld {
                    tenant: t.tenant.clone(),
                    tenant_id: id,
                });
            }
            mapped.insert(t.tenant.clone(), id);
            continue;
        }
        let (original, pseudonym) = named_id(key, &t.tenant_id);
        match [original, Some(pseudonym)]
            .into_iter()
            .flatten()
            .find(|id| order.contains(id))
        {
            Some(id) => {
                mapped.insert(t.tenant.clone(), id);
            }
            None => pending.push(t.tenant.clone()),
        }
    }
    let mut free = order
        .iter()
        .filter(|id| !mapped.values().any(|m| m == *id))
        .cloned()
        .collect::<Vec<_>>()
        .into_iter();
    for name in pending {
        let id = free
            .next()
            .ok_or_else(|| ReplayError::NoTenantLeft(name.clone()))?;
        mapped.insert(name, id);
    }
    distinct(header, mapped)
}

fn map_alone(
    header: &Header,
    key: Option<&Key>,
    options: &ReplayOptions,
) -> Result<BTreeMap<String, String>, ReplayError> {
    let mapped = header
        .tenants
        .iter()
        .map(|t| {
            let id = match options.tenants.get(&t.tenant) {
                Some(id) => id.to_ascii_lowercase(),
                None => {
                    let (original, pseudonym) = named_id(key, &t.tenant_id);
                    original
                        .filter(|o| crate::ids::is_guid(o))
                        .unwrap_or(pseudonym)
                }
            };
            (t.tenant.clone(), id)
        })
        .collect();
    distinct(header, mapped)
}

/// Refuses two transcript tenants mapped to one world tenant.
fn distinct(
    header: &Header,
    mapped: BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, ReplayError> {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for t in &header.tenants {
        let id = &mapped[&t.tenant];
        if let Some(first) = seen.insert(id, &t.tenant) {
            return Err(ReplayError::SameTenant(
                first.to_owned(),
                t.tenant.clone(),
                id.clone(),
            ));
        }
    }
    Ok(mapped)
}

/// The world of the transcript's tenants alone, in the header's order.
fn transcript_world(
    header: &Header,
    tenants: &BTreeMap<String, String>,
) -> Result<WorldFile, ReplayError> {
    let mut world = WorldFile::default();
    for t in &header.tenants {
        let (name, id) = (&t.tenant, &tenants[&t.tenant]);
        let spec: TenantSpec = serde_json::from_value(json!({
            "id": id,
            "displayName": name,
            "domain": format!("{name}.onmicrosoft.com"),
        }))
        .map_err(|e| WorldError::Invalid(e.to_string()))?;
        world.tenants.push(spec);
    }
    Ok(world)
}

/// The client id and secret the replay signs in to `tenant_id` with, adding an app or a secret
/// to the state when it has none.
pub fn credentials(state: &mut State, tenant_id: &str) -> Option<(String, String)> {
    let tenant = state.tenants.get_mut(tenant_id)?;
    let named = tenant.apps.iter().position(|a| {
        a.display_name
            .as_deref()
            .is_some_and(|n| n.to_ascii_lowercase().contains("mtoctl"))
    });
    let index = match named.or((!tenant.apps.is_empty()).then_some(0)) {
        Some(i) => i,
        None => {
            tenant.apps.push(AppCredential {
                client_id: REPLAY_CLIENT_ID.into(),
                display_name: Some("mtoctl (replay)".into()),
                secrets: Vec::new(),
                roles: DEFAULT_ROLES.iter().map(|r| (*r).to_owned()).collect(),
                federated_credentials: Vec::new(),
                certificates: Vec::new(),
            });
            tenant.apps.len() - 1
        }
    };
    let app = &mut tenant.apps[index];
    if app.secrets.is_empty() {
        app.secrets.push(REPLAY_SECRET.into());
    }
    Some((app.client_id.clone(), app.secrets[0].clone()))
}
