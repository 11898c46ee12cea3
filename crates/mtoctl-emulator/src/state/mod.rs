//! The emulator's own model of the world: tenants, their directory objects,
//! policies, sync configurations, the shared MTO objects and scheduled events.
//!
//! This is the persisted state (`--state FILE`) and what `GET /_emulator/state`
//! returns. JSON for Graph responses is rendered from it by the `graph` modules.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::ids::{Rng, ZERO_GUID};

mod apps;
mod policy;
mod user_index;

use crate::world::{Limits, Timings};
pub use apps::{Application, Assignment, Job, ServicePrincipal};
pub use policy::{
    CrossTenantPolicy, IdentitySync, PARTNER_SETTINGS, PARTNER_TEMPLATE_SETTINGS, Partner,
    PartnerTemplate, SyncTemplate, service_default_settings,
};
use user_index::UserIndex;
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

/// One tenant.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tenant {
    /// Tenant id.
    pub id: String,
    /// Organization name.
    pub display_name: String,
    /// Default domain.
    pub domain: String,
    /// App registrations that may get tokens here.
    pub apps: Vec<AppCredential>,
    /// Users (internal and synced-in).
    pub users: Vec<User>,
    /// Groups.
    pub groups: Vec<Group>,
    /// This tenant's view of its MTO membership.
    pub mto: Option<LocalMto>,
    /// The join request singleton.
    pub join_request: JoinRequest,
    /// Cross-tenant access policy root.
    pub policy: CrossTenantPolicy,
    /// Partner configurations by partner tenant id.
    pub partners: BTreeMap<String, Partner>,
    /// Identity sync policies by source tenant id.
    pub identity_sync: BTreeMap<String, IdentitySync>,
    /// MTO partner configuration template.
    pub partner_template: PartnerTemplate,
    /// MTO identity sync template.
    pub sync_template: SyncTemplate,
    /// Applications (instantiated from templates).
    pub applications: Vec<Application>,
    /// Service principals.
    pub service_principals: Vec<ServicePrincipal>,
    /// Provisioning log entries (`provisioningObjectSummary` JSON), oldest first.
    #[serde(default)]
    pub provisioning_logs: Vec<Value>,
    /// Last change sequence number handed out to a user or group.
    #[serde(default)]
    pub change_seq: u64,
    /// Soft-deleted partner configurations (beta recycle area) with deletion time.
    #[serde(default)]
    pub deleted_partners: BTreeMap<String, (Partner, i64)>,
    /// Soft-deleted identity sync policies (beta recycle area) with deletion time.
    #[serde(default)]
    pub deleted_sync: BTreeMap<String, (IdentitySync, i64)>,
    /// Lookup cache of `users` by id and UPN; rebuilt on demand, never saved.
    #[serde(skip)]
    user_index: UserIndex,
}

impl Tenant {
    /// A fresh tenant with service-default policies.
    pub fn new(rng: &mut Rng, id: &str, display_name: &str, domain: &str) -> Self {
        Self {
            id: id.to_owned(),
            display_name: display_name.to_owned(),
            domain: domain.to_owned(),
            apps: Vec::new(),
            users: Vec::new(),
            groups: Vec::new(),
            mto: None,
            join_request: JoinRequest::new(rng.guid()),
            policy: CrossTenantPolicy::default(),
            partners: BTreeMap::new(),
            identity_sync: BTreeMap::new(),
            partner_template: PartnerTemplate::reset(rng.guid()),
            sync_template: SyncTemplate::reset(rng.guid()),
            applications: Vec::new(),
            service_principals: Vec::new(),
            change_seq: 0,
            provisioning_logs: Vec::new(),
            deleted_partners: BTreeMap::new(),
            deleted_sync: BTreeMap::new(),
            user_index: UserIndex::default(),
        }
    }

    /// Bring the user lookup index up to date with `users` (a no-op unless a
    /// user was added or a change sequence number handed out since).
    pub fn index_users(&mut self) {
        self.user_index.refresh(&self.users, self.change_seq);
    }

    /// Positions in `users` (ascending, each once, soft-deleted included) of
    /// the users whose `key` equals one of `values` ignoring ASCII case. From
    /// the index when [`Tenant::index_users`] brought it up to date, else by
    /// a scan, so the answer is the same either way.
    pub fn user_positions(&self, key: UserKey, values: &[&str]) -> Vec<usize> {
        if let Some(found) =
            self.user_index
                .positions(&self.users, self.change_seq, key, values.iter().copied())
        {
            return found;
        }
        self.users
            .iter()
            .enumerate()
            .filter(|(_, u)| values.iter().any(|v| key.of(u).eq_ignore_ascii_case(v)))
            .map(|(i, _)| i)
            .collect()
    }

    /// The next change sequence number (users and groups record it on change).
    pub fn next_seq(&mut self) -> u64 {
        self.change_seq += 1;
        self.change_seq
    }

    /// Internal member users that are not deleted (the population sync and limits count).
    pub fn internal_users(&self) -> impl Iterator<Item = &User> {
        self.users
            .iter()
            .filter(|u| u.deleted_ms.is_none() && u.external.is_none() && u.user_type == "Member")
    }
}

/// Credentials of an app registration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppCredential {
    /// Client id.
    pub client_id: String,
    /// Display name.
    pub display_name: Option<String>,
    /// Accepted client secrets.
    pub secrets: Vec<String>,
    /// Granted application permissions (the token's `roles`).
    pub roles: Vec<String>,
    /// Federated identity credentials.
    pub federated_credentials: Vec<FederatedCredential>,
    /// Certificates by thumbprint.
    pub certificates: Vec<Certificate>,
}

/// A federated identity credential.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FederatedCredential {
    /// Expected issuer.
    pub issuer: String,
    /// Expected subject.
    pub subject: String,
    /// Accepted audiences.
    pub audiences: Vec<String>,
}

/// A certificate identified by thumbprints (base64url).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Certificate {
    /// SHA-1 thumbprint as in `x5t`.
    pub x5t: Option<String>,
    /// SHA-256 thumbprint as in `x5t#S256`.
    pub x5t_s256: Option<String>,
}

/// Link of a synced user to its source.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExternalLink {
    /// Source tenant.
    pub source_tenant_id: String,
    /// Source user object id.
    pub source_user_id: String,
}

/// A user.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// Object id.
    pub id: String,
    /// UPN.
    pub user_principal_name: String,
    /// Display name.
    pub display_name: String,
    /// Given name.
    pub given_name: Option<String>,
    /// Surname.
    pub surname: Option<String>,
    /// Mail.
    pub mail: Option<String>,
    /// Department.
    pub department: Option<String>,
    /// Job title.
    pub job_title: Option<String>,
    /// `Member` or `Guest`.
    pub user_type: String,
    /// Sign-in allowed.
    pub account_enabled: bool,
    /// Shown in the global address list (`null` = default).
    pub show_in_address_list: Option<bool>,
    /// Creation time.
    pub created_ms: i64,
    /// Soft-deletion time.
    pub deleted_ms: Option<i64>,
    /// Set for users created by cross-tenant sync.
    pub external: Option<ExternalLink>,
    /// Change sequence number of the last change (for delta queries).
    #[serde(default)]
    pub changed_seq: u64,
}

impl User {
    /// Every property the emulator models, in Graph's names.
    pub fn to_json(&self) -> Map<String, Value> {
        self.to_json_with(|_| true)
    }

    /// The properties `needs` asks for ([`crate::odata::QueryOptions::needs`]): a lookup of
    /// 15 users by name `$select`s four of twenty, and a hub's plan makes thousands.
    pub fn to_json_with(&self, needs: impl Fn(&str) -> bool) -> Map<String, Value> {
        let mut p = crate::odata::Props::new(needs);
        let iso = crate::clock::iso;
        p.put("id", || json!(self.id));
        p.put("businessPhones", || json!([]));
        p.put("displayName", || json!(self.display_name));
        p.put("givenName", || json!(self.given_name));
        p.put("jobTitle", || json!(self.job_title));
        p.put("mail", || json!(self.mail));
        p.put("mobilePhone", || Value::Null);
        p.put("officeLocation", || Value::Null);
        p.put("preferredLanguage", || Value::Null);
        p.put("surname", || json!(self.surname));
        p.put("userPrincipalName", || json!(self.user_principal_name));
        p.put("userType", || json!(self.user_type));
        p.put("accountEnabled", || json!(self.account_enabled));
        p.put("department", || json!(self.department));
        p.put("showInAddressList", || json!(self.show_in_address_list));
        p.put("createdDateTime", || Value::String(iso(self.created_ms)));
        p.put("deletedDateTime", || json!(self.deleted_ms.map(iso)));
        p.put("creationType", || {
            json!(self.external.as_ref().map(|_| "Invitation"))
        });
        p.put("externalUserState", || {
            json!(self.external.as_ref().map(|_| "Accepted"))
        });
        p.put("identities", || match &self.external {
            Some(_) => {
                json!([{"signInType": "federated", "issuer": "ExternalAzureAD", "issuerAssignedId": null}])
            }
            None => {
                json!([{"signInType": "userPrincipalName", "issuer": self.user_principal_name.split('@').nth(1).unwrap_or(""), "issuerAssignedId": self.user_principal_name}])
            }
        });
        p.into_map()
    }
}

/// Properties returned for users without `$select` (graph-reference §7.1).
pub const USER_DEFAULT_PROPS: &[&str] = &[
    "businessPhones",
    "displayName",
    "givenName",
    "id",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
];

/// A group.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// Object id.
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// Description.
    pub description: Option<String>,
    /// Mail-enabled.
    pub mail_enabled: bool,
    /// Security-enabled.
    pub security_enabled: bool,
    /// Group types.
    pub group_types: Vec<String>,
    /// Mail nickname.
    pub mail_nickname: String,
    /// Direct member user ids.
    pub members: Vec<String>,
    /// Creation time.
    pub created_ms: i64,
    /// Change sequence number of the last change (for delta queries).
    #[serde(default)]
    pub changed_seq: u64,
}

impl Group {
    /// Every property the emulator models.
    pub fn to_json(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("displayName".into(), json!(self.display_name));
        m.insert("description".into(), json!(self.description));
        m.insert("mailEnabled".into(), json!(self.mail_enabled));
        m.insert("securityEnabled".into(), json!(self.security_enabled));
        m.insert("groupTypes".into(), json!(self.group_types));
        m.insert("mailNickname".into(), json!(self.mail_nickname));
        m.insert("mail".into(), Value::Null);
        m.insert(
            "createdDateTime".into(),
            json!(crate::clock::iso(self.created_ms)),
        );
        m.insert("deletedDateTime".into(), Value::Null);
        m
    }
}

/// A tenant's local view of its MTO.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalMto {
    /// Key into [`State::mtos`].
    pub mto_key: String,
    /// This tenant's own object id of the MTO (tenant-local).
    pub object_id: String,
}

/// A multitenant organization shared by its members.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mto {
    /// Internal key.
    pub key: String,
    /// Display name.
    pub display_name: String,
    /// Description.
    pub description: Option<String>,
    /// Creation time.
    pub created_ms: i64,
    /// The creating tenant.
    pub creator: String,
    /// Members (pending, active and being removed).
    pub members: Vec<Member>,
    /// When the creator's GET starts reporting it (creation "can take a few minutes").
    #[serde(default)]
    pub visible_ms: i64,
}

impl Mto {
    /// The member record of `tenant`.
    pub fn member(&self, tenant: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.tenant_id == tenant)
    }

    /// Mutable member record of `tenant`.
    pub fn member_mut(&mut self, tenant: &str) -> Option<&mut Member> {
        self.members.iter_mut().find(|m| m.tenant_id == tenant)
    }

    /// Number of active tenants.
    pub fn active_count(&self) -> usize {
        self.members.iter().filter(|m| m.state == "active").count()
    }

    /// Whether `tenant` is an active owner.
    pub fn is_active_owner(&self, tenant: &str) -> bool {
        self.member(tenant)
            .is_some_and(|m| m.state == "active" && m.role == "owner")
    }
}

/// An MTO member record.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    /// Member tenant id.
    pub tenant_id: String,
    /// Display name (immutable).
    pub display_name: String,
    /// `owner` or `member`.
    pub role: String,
    /// `pending`, `active` or `removed`.
    pub state: String,
    /// Adding tenant.
    pub added_by: String,
    /// When added.
    pub added_ms: i64,
    /// When the join completed.
    pub joined_ms: Option<i64>,
    /// Queued or running change.
    pub transition: Option<MemberTransition>,
}

/// `multiTenantOrganizationMemberTransitionDetails`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MemberTransition {
    /// Desired role.
    pub desired_role: String,
    /// Desired state.
    pub desired_state: String,
    /// Processing status.
    pub status: String,
    /// Details text.
    pub details: Option<String>,
}

/// The join request record of a tenant.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinRequest {
    /// Tenant-local id.
    pub id: String,
    /// Owner the join targets (zero GUID when none).
    pub added_by: String,
    /// Member state.
    pub member_state: Option<String>,
    /// Role after joining.
    pub role: Option<String>,
    /// In-flight processing.
    pub transition: Option<JoinTransition>,
    /// Attempt counter (invalidates stale scheduled events).
    pub attempt: u64,
}

impl JoinRequest {
    /// The never-joined record.
    pub fn new(id: String) -> Self {
        Self {
            id,
            added_by: ZERO_GUID.into(),
            member_state: None,
            role: None,
            transition: None,
            attempt: 0,
        }
    }
}

/// `multiTenantOrganizationJoinRequestTransitionDetails`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct JoinTransition {
    /// Desired member state.
    pub desired_member_state: String,
    /// Processing status.
    pub status: String,
    /// Details text.
    pub details: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str, upn: &str) -> User {
        User {
            id: id.into(),
            user_principal_name: upn.into(),
            display_name: upn.into(),
            given_name: None,
            surname: None,
            mail: None,
            department: None,
            job_title: None,
            user_type: "Member".into(),
            account_enabled: true,
            show_in_address_list: None,
            created_ms: 0,
            deleted_ms: None,
            external: None,
            changed_seq: 0,
        }
    }

    /// The index and the scan it stands in for agree, before and after the
    /// index is brought up to date, and across appended users.
    #[test]
    fn user_positions_are_the_same_indexed_or_scanned() {
        let mut t = Tenant::new(&mut Rng::new(1), "t", "T", "t.example.com");
        let ask = |t: &Tenant| {
            (
                t.user_positions(UserKey::Upn, &["A@x.com", "b@X.COM", "nobody@x.com"]),
                t.user_positions(UserKey::Id, &["ID-2", "id-9"]),
            )
        };
        for (id, upn) in [
            ("id-1", "a@x.com"),
            ("id-2", "b@x.com"),
            ("ID-3", "A@X.com"),
        ] {
            let mut u = user(id, upn);
            u.changed_seq = t.next_seq();
            t.users.push(u);
        }
        let scanned = ask(&t);
        assert_eq!(scanned, (vec![0, 1, 2], vec![1]));
        t.index_users();
        assert_eq!(ask(&t), scanned);
        let mut u = user("id-9", "b@x.com");
        u.changed_seq = t.next_seq();
        t.users.push(u);
        assert_eq!(ask(&t), (vec![0, 1, 2, 3], vec![1, 3]), "stale: scanned");
        t.index_users();
        assert_eq!(ask(&t), (vec![0, 1, 2, 3], vec![1, 3]), "caught up");
        let json = serde_json::to_value(&t).unwrap_or_default();
        assert!(json.get("userIndex").is_none(), "never persisted");
    }
}
