//! Directory objects: users (internal and synced in) and groups, rendered with the properties
//! a query needs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// Profile attributes a user may carry besides the ones the emulator gives meaning to: v1.0
/// `user` string properties that a scoping filter may name (a client judging a filter reads
/// them with `$select`). `null` unless set (the world file, the drift API), but
/// `mailNickname`, which defaults to the UPN's local part. Not synchronized.
pub const PROFILE_ATTRIBUTES: &[&str] = &[
    "city",
    "companyName",
    "country",
    "employeeId",
    "employeeType",
    "mailNickname",
    "postalCode",
    "state",
    "streetAddress",
    "usageLocation",
];

/// Link of a synced user to its source.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ExternalLink {
    /// Source tenant.
    pub source_tenant_id: String,
    /// Source user object id.
    pub source_user_id: String,
}

/// One entry of a user's `identities` (`objectIdentity`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ObjectIdentity {
    /// `userPrincipalName`, `federated`, `emailAddress`, ...
    pub sign_in_type: Option<String>,
    /// The issuer: a domain, or `ExternalAzureAD` for a user of another Entra tenant.
    pub issuer: Option<String>,
    /// The issuer's id of the user (`null` for `ExternalAzureAD`).
    pub issuer_assigned_id: Option<String>,
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
    /// `identities` set out of band (the drift API); `None`: derived ([`User::identities`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identities: Option<Vec<ObjectIdentity>>,
    /// [`PROFILE_ATTRIBUTES`] that are set, by Graph name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub profile: BTreeMap<String, String>,
}

impl User {
    /// The user's `identities`: as set out of band, or as Entra shapes them. Every user has a
    /// `userPrincipalName` identity issued by its tenant's domain; a user synced in (a B2B
    /// collaboration user of another Entra tenant) has a `federated` identity issued by
    /// `ExternalAzureAD` first, with a `null` `issuerAssignedId` (docs/emulator.md, "Users
    /// synced in").
    pub fn identities(&self) -> Vec<ObjectIdentity> {
        if let Some(set) = &self.identities {
            return set.clone();
        }
        let domain = self
            .user_principal_name
            .rsplit_once('@')
            .map_or("", |(_, d)| d);
        let upn = ObjectIdentity {
            sign_in_type: Some("userPrincipalName".into()),
            issuer: Some(domain.to_owned()),
            issuer_assigned_id: Some(self.user_principal_name.clone()),
        };
        match &self.external {
            Some(_) => vec![
                ObjectIdentity {
                    sign_in_type: Some("federated".into()),
                    issuer: Some("ExternalAzureAD".into()),
                    issuer_assigned_id: None,
                },
                upn,
            ],
            None => vec![upn],
        }
    }

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
        p.put("identities", || json!(self.identities()));
        for name in PROFILE_ATTRIBUTES {
            p.put(name, || match self.profile.get(*name) {
                Some(v) => json!(v),
                None if *name == "mailNickname" => json!(
                    self.user_principal_name
                        .split_once('@')
                        .map_or(self.user_principal_name.as_str(), |(l, _)| l)
                ),
                None => Value::Null,
            });
        }
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

/// Link of a group made by cross-tenant synchronization to its source group. Internal to the
/// emulator, never on the wire: no Graph page documents a property that marks a synced group
/// (Microsoft's support wiki, as copied in a public repository, names an `originTenantId`; not
/// modelled).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GroupLink {
    /// Source tenant.
    pub source_tenant_id: String,
    /// Source group object id.
    pub source_group_id: String,
}

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
    /// Soft-deletion time (deleted by the drift API, or deprovisioned by sync): no longer
    /// listed nor addressable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_ms: Option<i64>,
    /// Set for groups created by cross-tenant synchronization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synced_from: Option<GroupLink>,
}

impl Group {
    /// Whether cross-tenant synchronization can take this group: a security group or a
    /// Microsoft 365 group, static or dynamic; not a mail-enabled security group nor a
    /// distribution group (`cross-tenant-synchronization-overview`, "What group types are
    /// supported?").
    pub fn sync_supported(&self) -> bool {
        let unified = self
            .group_types
            .iter()
            .any(|t| t.eq_ignore_ascii_case("Unified"));
        unified || (self.security_enabled && !self.mail_enabled)
    }

    /// The kind of group, in the FAQ's words (for skip reasons).
    pub fn kind(&self) -> &'static str {
        let unified = self
            .group_types
            .iter()
            .any(|t| t.eq_ignore_ascii_case("Unified"));
        match (unified, self.security_enabled, self.mail_enabled) {
            (true, _, _) => "Microsoft 365 group",
            (false, true, false) => "security group",
            (false, true, true) => "mail-enabled security group",
            (false, false, true) => "distribution group",
            (false, false, false) => "group that is neither security- nor mail-enabled",
        }
    }

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
        m.insert(
            "deletedDateTime".into(),
            json!(self.deleted_ms.map(crate::clock::iso)),
        );
        m
    }
}
