//! The world file (what users write) and its loading into emulator state.
//!
//! The world file lists tenants with their domain, internal users, groups
//! (direct members only) and the app registrations that may obtain tokens.
//! YAML and JSON are both accepted (JSON is valid YAML, but JSON is tried first
//! for clearer error messages). See `docs/emulator.md` for the full format.
//!
//! Here: loading a world file into state. `spec` is the file's format, `build` turns its
//! tenants, apps, users and groups into state objects.

mod build;
mod spec;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use crate::ids::{self, Rng};
use crate::state::State;

pub use build::{add_group, add_user, build_tenant};
pub use spec::{
    AppSpec, CertificateSpec, FederatedSpec, GroupSpec, Limits, TenantSpec, Timings, UserSpec,
    WorldFile,
};

/// The permissions an app gets when the world file does not list `roles`: everything mtoctl
/// needs and more (graph-reference §9.4, §6.12, §4; reading provisioning logs also takes
/// `Directory.Read.All`).
pub const DEFAULT_ROLES: &[&str] = &[
    "MultiTenantOrganization.ReadWrite.All",
    "Policy.Read.All",
    "Policy.ReadWrite.CrossTenantAccess",
    "Application.ReadWrite.All",
    "Application.ReadWrite.OwnedBy",
    "Synchronization.ReadWrite.All",
    "AppRoleAssignment.ReadWrite.All",
    "Application.Read.All",
    "User.Read.All",
    "User.ReadWrite.All",
    "GroupMember.Read.All",
    "Group.Read.All",
    "AuditLog.Read.All",
    "Directory.Read.All",
];

/// How long before the virtual start the world file's objects were created (30 days).
pub const WORLD_AGE_MS: i64 = 30 * 86_400_000;

/// A world file that could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    /// Parse failure.
    #[error("cannot parse world file: {0}")]
    Parse(String),
    /// Semantic problem.
    #[error("invalid world file: {0}")]
    Invalid(String),
}

impl WorldFile {
    /// Parse YAML or JSON text.
    pub fn parse(text: &str) -> Result<Self, WorldError> {
        if text.trim_start().starts_with('{') {
            return serde_json::from_str(text).map_err(|e| WorldError::Parse(e.to_string()));
        }
        serde_saphyr::from_str(text).map_err(|e| WorldError::Parse(e.to_string()))
    }

    /// Build the initial state. `seed` overrides the file's seed.
    pub fn into_state(self, seed: Option<u64>) -> Result<State, WorldError> {
        let seed = seed.or(self.seed).unwrap_or(0x6d74_6f63_746c);
        let start = match &self.start_time {
            Some(s) => crate::clock::parse_iso(s).ok_or_else(|| {
                WorldError::Invalid(format!("startTime {s:?} is not ISO 8601 UTC"))
            })?,
            None => crate::clock::DEFAULT_START_MS,
        };
        let mut rng = Rng::new(seed);
        let mut state = State::empty(&mut rng, start);
        state.timings = self.timings.unwrap_or_default();
        state.limits = self.limits.unwrap_or_default();
        let mut seen_ids = BTreeSet::new();
        for t in self.tenants {
            let id = t.id.to_ascii_lowercase();
            if !ids::is_guid(&id) {
                return Err(WorldError::Invalid(format!(
                    "tenant id {:?} is not a GUID",
                    t.id
                )));
            }
            if !seen_ids.insert(id.clone()) {
                return Err(WorldError::Invalid(format!("tenant {id} is listed twice")));
            }
            // World objects existed long before the emulator started.
            let tenant = build_tenant(&mut rng, t, start - WORLD_AGE_MS)?;
            state.tenants.insert(id, tenant);
        }
        // Continue the sequence used while loading, so later ids never repeat
        // the ids of world objects.
        state.rng = rng;
        Ok(state)
    }
}
