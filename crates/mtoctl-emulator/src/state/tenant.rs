//! One tenant: its directory, policies, organization membership and applications, with the
//! app registrations that may get tokens for it and a lookup index of its users.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::user_index::{UserIndex, UserKey};
use super::{
    Application, CrossTenantPolicy, Group, IdentitySync, JoinRequest, LocalMto, Partner,
    PartnerTemplate, ServicePrincipal, SyncTemplate, User,
};
use crate::ids::Rng;

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
    pub provisioning_logs: std::collections::VecDeque<Value>,
    /// Last change sequence number handed out to a user or group.
    #[serde(default)]
    pub change_seq: u64,
    /// Soft-deleted partner configurations (beta recycle area) with deletion time.
    #[serde(default)]
    pub deleted_partners: BTreeMap<String, (Partner, i64)>,
    /// Soft-deleted identity sync policies (beta recycle area) with deletion time.
    #[serde(default)]
    pub deleted_sync: BTreeMap<String, (IdentitySync, i64)>,
    /// Commercial subscriptions (`subscribedSkus`), by part number.
    #[serde(default = "default_skus")]
    pub skus: Vec<String>,
    /// Lookup cache of `users` by id and UPN; rebuilt on demand, never saved.
    #[serde(skip)]
    user_index: UserIndex,
}

/// A tenant's SKUs unless its world file says otherwise: Microsoft Entra ID P2 (an assumption:
/// multitenant organizations need P1 or P2 in every tenant, and a world that says nothing is
/// meant to work).
pub fn default_skus() -> Vec<String> {
    vec!["AAD_PREMIUM_P2".to_owned()]
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
            provisioning_logs: Default::default(),
            deleted_partners: BTreeMap::new(),
            deleted_sync: BTreeMap::new(),
            skus: default_skus(),
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

    /// Soft-deletes the user with this id or UPN, as Graph's recycle bin keeps it (restorable
    /// for 30 days; the reference, "Delete a user"). False when there is no such live user.
    pub fn soft_delete_user(&mut self, key: &str, now: i64) -> bool {
        let seq = self.change_seq + 1;
        let Some(u) = self.users.iter_mut().find(|u| {
            u.deleted_ms.is_none()
                && (u.id.eq_ignore_ascii_case(key)
                    || u.user_principal_name.eq_ignore_ascii_case(key))
        }) else {
            return false;
        };
        u.deleted_ms = Some(now);
        u.changed_seq = seq;
        self.change_seq = seq;
        true
    }

    /// The group with this object id (any case), unless soft-deleted.
    pub fn live_group(&self, id: &str) -> Option<&Group> {
        self.groups
            .iter()
            .find(|g| g.deleted_ms.is_none() && g.id.eq_ignore_ascii_case(id))
    }

    /// Groups that are not soft-deleted.
    pub fn live_groups(&self) -> impl Iterator<Item = &Group> {
        self.groups.iter().filter(|g| g.deleted_ms.is_none())
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
            identities: None,
            profile: Default::default(),
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
