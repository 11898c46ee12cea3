//! The emulator's own model of the world: tenants, their directory objects,
//! policies, sync configurations, the shared MTO objects and scheduled events.
//!
//! This is the persisted state (`--state FILE`) and what `GET /_emulator/state`
//! returns. JSON for Graph responses is rendered from it by the `graph` modules.
//!
//! Here: the world itself and its scheduled events. `tenant` holds one tenant and the apps
//! that may sign in to it, `directory` its users and groups, `mto` the shared organizations
//! and each tenant's membership and join request, `policy` the cross-tenant access policies,
//! `apps` the applications and service principals with their sync jobs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::Rng;

mod apps;
mod directory;
mod mto;
mod policy;
mod tenant;
mod user_index;

use crate::world::{Limits, Timings};
pub use apps::{Application, Assignment, Job, ServicePrincipal, Watermark};
pub use directory::{
    ExternalLink, Group, GroupLink, ObjectIdentity, PROFILE_ATTRIBUTES, USER_DEFAULT_PROPS, User,
};
pub use mto::{JoinRequest, JoinTransition, LocalMto, Member, MemberTransition, Mto};
pub use policy::{
    CrossTenantPolicy, IdentitySync, PARTNER_SETTINGS, PARTNER_TEMPLATE_SETTINGS, Partner,
    PartnerTemplate, SyncTemplate, service_default_settings,
};
pub use tenant::{AppCredential, Certificate, FederatedCredential, Tenant};
pub use user_index::UserKey;

/// The whole emulated world.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    /// Virtual time when the state was last saved (restored on load).
    pub now_ms: i64,
    /// Id generator.
    pub rng: Rng,
    /// HMAC key for access tokens (hex).
    pub signing_key: String,
    /// Asynchronous timings.
    pub timings: Timings,
    /// Service limits.
    pub limits: Limits,
    /// Tenants by id.
    pub tenants: BTreeMap<String, Tenant>,
    /// Multitenant organizations by internal key.
    pub mtos: BTreeMap<String, Mto>,
    /// Scheduled asynchronous transitions.
    pub events: Vec<Event>,
    /// Sequence for event ordering.
    pub event_seq: u64,
}

impl State {
    /// An empty world at `now_ms`.
    pub fn empty(rng: &mut Rng, now_ms: i64) -> Self {
        let signing_key = rng.hex(64);
        Self {
            now_ms,
            rng: rng.clone(),
            signing_key,
            timings: Timings::default(),
            limits: Limits::default(),
            tenants: BTreeMap::new(),
            mtos: BTreeMap::new(),
            events: Vec::new(),
            event_seq: 0,
        }
    }

    /// Schedule `kind` at `due_ms`.
    pub fn schedule(&mut self, due_ms: i64, kind: EventKind) {
        self.event_seq += 1;
        self.events.push(Event {
            due_ms,
            seq: self.event_seq,
            kind,
        });
    }

    /// The MTO the tenant is an (active or in-transition) member of, if any.
    pub fn mto_of(&self, tenant: &str) -> Option<&str> {
        self.tenants
            .get(tenant)
            .and_then(|t| t.mto.as_ref())
            .map(|m| m.mto_key.as_str())
    }
}

/// A scheduled transition.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// Virtual due time.
    pub due_ms: i64,
    /// Tie-breaker.
    pub seq: u64,
    /// What happens.
    pub kind: EventKind,
}

/// Kinds of scheduled transitions.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", tag = "type")]
pub enum EventKind {
    /// A submitted join starts processing.
    JoinStart {
        /// Joining tenant.
        tenant: String,
        /// Join attempt number (stale events are ignored).
        attempt: u64,
    },
    /// A submitted join completes (succeeds or fails).
    JoinComplete {
        /// Joining tenant.
        tenant: String,
        /// Join attempt number.
        attempt: u64,
    },
    /// A queued role change or removal starts processing (`running`; a
    /// removal also shows `state: removed`).
    TransitionRunning {
        /// MTO key.
        mto: String,
        /// Member tenant.
        tenant: String,
    },
    /// A queued role change lands.
    RoleChange {
        /// MTO key.
        mto: String,
        /// Member tenant.
        tenant: String,
    },
    /// A queued removal completes.
    Removal {
        /// MTO key.
        mto: String,
        /// Member tenant.
        tenant: String,
    },
}
