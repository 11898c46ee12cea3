//! The world file (what users write) and its loading into emulator state.
//!
//! The world file lists tenants with their domain, internal users, groups
//! (direct members only) and the app registrations that may obtain tokens.
//! YAML and JSON are both accepted (JSON is valid YAML, but JSON is tried first
//! for clearer error messages). See `docs/emulator.md` for the full format.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::ids::{self, Rng};
use crate::state::{AppCredential, Certificate, FederatedCredential, Group, State, Tenant, User};

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
    "GroupMember.Read.All",
    "Group.Read.All",
    "AuditLog.Read.All",
    "Directory.Read.All",
];

/// How long before the virtual start the world file's objects were created (30 days).
pub const WORLD_AGE_MS: i64 = 30 * 86_400_000;

/// A world file.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorldFile {
    /// Seed for generated ids (the `--seed` flag wins when given).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Virtual start time, ISO 8601 UTC (default 2026-01-01T00:00:00Z).
    #[serde(default)]
    pub start_time: Option<String>,
    /// Overrides of the asynchronous timings (virtual seconds, before `--time-scale`).
    #[serde(default)]
    pub timings: Option<Timings>,
    /// Overrides of service limits.
    #[serde(default)]
    pub limits: Option<Limits>,
    /// The tenants.
    #[serde(default)]
    pub tenants: Vec<TenantSpec>,
}

/// Timings of asynchronous processes, in virtual seconds before `--time-scale`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Timings {
    /// MTO created → reported by the creator's GET (before: `state: inactive`).
    pub mto_create_visible: f64,
    /// Join submitted → processing (`running`).
    pub join_start: f64,
    /// Join submitted → completed (`active` or `failed`).
    pub join_complete: f64,
    /// Minimum MTO age before a join may succeed (2023 guidance: 7200; default 0).
    pub join_min_mto_age: f64,
    /// Role change queued → applied.
    pub role_change: f64,
    /// Member removal queued → gone (404).
    pub removal: f64,
    /// Sync job started → first cycle.
    pub sync_first_cycle: f64,
    /// Interval between sync cycles (fixed at 40 minutes in Entra).
    pub sync_interval: f64,
    /// Read-after-write replication lag of new service principals, applications
    /// and app role assignments.
    pub replication_lag: f64,
    /// Access token lifetime.
    pub token_lifetime: f64,
    /// Lag of the advanced-query index (`ConsistencyLevel: eventual` lists and
    /// `$count` of users): new users appear, deleted ones vanish, this much later.
    pub advanced_query_lag: f64,
}

impl Default for Timings {
    fn default() -> Self {
        Self {
            mto_create_visible: 0.0,
            join_start: 60.0,
            join_complete: 600.0,
            join_min_mto_age: 0.0,
            role_change: 300.0,
            removal: 300.0,
            sync_first_cycle: 30.0,
            sync_interval: 2400.0,
            replication_lag: 0.0,
            token_lifetime: 3599.0,
            advanced_query_lag: 0.0,
        }
    }
}

/// Service limits.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Limits {
    /// Maximum active tenants per MTO (owners included).
    pub max_active_tenants: usize,
    /// Maximum internal users per tenant for a join to succeed.
    pub max_internal_users: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_active_tenants: 100,
            max_internal_users: 100_000,
        }
    }
}

/// One tenant in the world file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenantSpec {
    /// Tenant GUID.
    pub id: String,
    /// Organization display name.
    pub display_name: String,
    /// Default (initial `onmicrosoft.com`) domain.
    pub domain: String,
    /// App registrations allowed to obtain tokens for this tenant.
    #[serde(default)]
    pub apps: Vec<AppSpec>,
    /// Internal users.
    #[serde(default)]
    pub users: Vec<UserSpec>,
    /// Groups with direct members.
    #[serde(default)]
    pub groups: Vec<GroupSpec>,
}

/// An app registration's credentials.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppSpec {
    /// Application (client) id.
    pub client_id: String,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// One client secret.
    #[serde(default)]
    pub secret: Option<String>,
    /// More client secrets.
    #[serde(default)]
    pub secrets: Vec<String>,
    /// Granted application permissions (default: [`DEFAULT_ROLES`]).
    #[serde(default)]
    pub roles: Option<Vec<String>>,
    /// Federated identity credentials.
    #[serde(default)]
    pub federated_credentials: Vec<FederatedSpec>,
    /// Certificates (thumbprints only).
    #[serde(default)]
    pub certificates: Vec<CertificateSpec>,
}

/// A federated identity credential.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FederatedSpec {
    /// Expected `iss` of the assertion.
    pub issuer: String,
    /// Expected `sub` of the assertion.
    pub subject: String,
    /// Accepted `aud` values (default `api://AzureADTokenExchange`).
    #[serde(default)]
    pub audiences: Vec<String>,
    /// Optional name.
    #[serde(default)]
    pub name: Option<String>,
}

/// A certificate credential, identified by thumbprint.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CertificateSpec {
    /// SHA-1 thumbprint: 40 hex digits (as the portal shows) or base64url (`x5t`).
    #[serde(default)]
    pub thumbprint: Option<String>,
    /// SHA-256 thumbprint: 64 hex digits or base64url (`x5t#S256`).
    #[serde(default)]
    pub thumbprint_sha256: Option<String>,
}

/// An internal user.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserSpec {
    /// Fixed object id (default: generated).
    #[serde(default)]
    pub id: Option<String>,
    /// UPN.
    pub user_principal_name: String,
    /// Display name (default: the UPN's local part).
    #[serde(default)]
    pub display_name: Option<String>,
    /// Given name.
    #[serde(default)]
    pub given_name: Option<String>,
    /// Surname.
    #[serde(default)]
    pub surname: Option<String>,
    /// Mail (default: the UPN).
    #[serde(default)]
    pub mail: Option<String>,
    /// Department.
    #[serde(default)]
    pub department: Option<String>,
    /// Job title.
    #[serde(default)]
    pub job_title: Option<String>,
    /// `Member` (default) or `Guest`.
    #[serde(default)]
    pub user_type: Option<String>,
    /// Default true.
    #[serde(default)]
    pub account_enabled: Option<bool>,
}

/// A group.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupSpec {
    /// Fixed object id (default: generated).
    #[serde(default)]
    pub id: Option<String>,
    /// Display name (not unique).
    pub display_name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Direct members: user UPNs or object ids.
    #[serde(default)]
    pub members: Vec<String>,
    /// Default true.
    #[serde(default)]
    pub security_enabled: Option<bool>,
    /// Default false.
    #[serde(default)]
    pub mail_enabled: Option<bool>,
    /// Default empty (`["Unified"]` for Microsoft 365 groups).
    #[serde(default)]
    pub group_types: Vec<String>,
}

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

/// Build a tenant (apps, users, groups) from its world-file form.
pub fn build_tenant(rng: &mut Rng, t: TenantSpec, now: i64) -> Result<Tenant, WorldError> {
    let id = t.id.to_ascii_lowercase();
    if !ids::is_guid(&id) {
        return Err(WorldError::Invalid(format!(
            "tenant id {:?} is not a GUID",
            t.id
        )));
    }
    let mut tenant = Tenant::new(rng, &id, &t.display_name, &t.domain.to_ascii_lowercase());
    for a in t.apps {
        tenant.apps.push(app_from_spec(a)?);
    }
    for u in t.users {
        add_user(&mut tenant, rng, u, now)?;
    }
    for g in t.groups {
        add_group(&mut tenant, rng, g, now)?;
    }
    Ok(tenant)
}

/// Add an internal user to a tenant; returns its object id.
pub fn add_user(
    tenant: &mut Tenant,
    rng: &mut Rng,
    u: UserSpec,
    now: i64,
) -> Result<String, WorldError> {
    let user = user_from_spec(rng, u, now)?;
    if tenant.users.iter().any(|x| {
        x.id == user.id
            || x.user_principal_name
                .eq_ignore_ascii_case(&user.user_principal_name)
    }) {
        return Err(WorldError::Invalid(format!(
            "user {} already exists in tenant {}",
            user.user_principal_name, tenant.id
        )));
    }
    let id = user.id.clone();
    let mut user = user;
    user.changed_seq = tenant.next_seq();
    tenant.users.push(user);
    Ok(id)
}

/// Add a group to a tenant; members are UPNs or ids of existing users. Returns its id.
pub fn add_group(
    tenant: &mut Tenant,
    rng: &mut Rng,
    g: GroupSpec,
    now: i64,
) -> Result<String, WorldError> {
    let gid = match g.id {
        Some(i) if ids::is_guid(&i) => i.to_ascii_lowercase(),
        Some(i) => return Err(WorldError::Invalid(format!("group id {i:?} is not a GUID"))),
        None => rng.guid(),
    };
    if tenant.groups.iter().any(|x| x.id == gid) {
        return Err(WorldError::Invalid(format!(
            "group {gid} already exists in tenant {}",
            tenant.id
        )));
    }
    let mut members = Vec::new();
    for m in &g.members {
        let found = tenant.users.iter().find(|u| {
            u.deleted_ms.is_none()
                && (u.id.eq_ignore_ascii_case(m) || u.user_principal_name.eq_ignore_ascii_case(m))
        });
        match found {
            Some(u) => members.push(u.id.clone()),
            None => {
                return Err(WorldError::Invalid(format!(
                    "group {:?} member {m:?} is not a user of tenant {}",
                    g.display_name, tenant.id
                )));
            }
        }
    }
    let nick: String = g
        .display_name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    tenant.groups.push(Group {
        id: gid.clone(),
        display_name: g.display_name,
        description: g.description,
        mail_enabled: g.mail_enabled.unwrap_or(false),
        security_enabled: g.security_enabled.unwrap_or(true),
        group_types: g.group_types,
        mail_nickname: nick,
        members,
        created_ms: now,
        changed_seq: 0,
    });
    let seq = tenant.next_seq();
    if let Some(g) = tenant.groups.last_mut() {
        g.changed_seq = seq;
    }
    Ok(gid)
}

fn app_from_spec(a: AppSpec) -> Result<AppCredential, WorldError> {
    if !ids::is_guid(&a.client_id) {
        return Err(WorldError::Invalid(format!(
            "app clientId {:?} is not a GUID",
            a.client_id
        )));
    }
    let mut secrets = a.secrets;
    if let Some(s) = a.secret {
        secrets.insert(0, s);
    }
    let mut certificates = Vec::new();
    for c in a.certificates {
        let sha1 = c
            .thumbprint
            .map(|t| normalize_thumbprint(&t, 20))
            .transpose()?;
        let sha256 = c
            .thumbprint_sha256
            .map(|t| normalize_thumbprint(&t, 32))
            .transpose()?;
        if sha1.is_none() && sha256.is_none() {
            return Err(WorldError::Invalid(
                "a certificate needs thumbprint or thumbprintSha256".into(),
            ));
        }
        certificates.push(Certificate {
            x5t: sha1,
            x5t_s256: sha256,
        });
    }
    Ok(AppCredential {
        client_id: a.client_id.to_ascii_lowercase(),
        display_name: a.display_name,
        secrets,
        roles: a
            .roles
            .unwrap_or_else(|| DEFAULT_ROLES.iter().map(|r| (*r).to_owned()).collect()),
        federated_credentials: a
            .federated_credentials
            .into_iter()
            .map(|f| FederatedCredential {
                issuer: f.issuer,
                subject: f.subject,
                audiences: if f.audiences.is_empty() {
                    vec!["api://AzureADTokenExchange".into()]
                } else {
                    f.audiences
                },
            })
            .collect(),
        certificates,
    })
}

/// Accept a thumbprint as hex (of `len` bytes) or base64url; return base64url.
fn normalize_thumbprint(t: &str, len: usize) -> Result<String, WorldError> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let clean: String = t
        .chars()
        .filter(|c| *c != ':' && !c.is_whitespace())
        .collect();
    if clean.len() == len * 2
        && let Some(bytes) = ids::hex_decode(&clean)
    {
        return Ok(b64.encode(bytes));
    }
    match b64.decode(clean.trim_end_matches('=')) {
        Ok(bytes) if bytes.len() == len => Ok(b64.encode(bytes)),
        _ => Err(WorldError::Invalid(format!(
            "thumbprint {t:?} is neither {} hex digits nor base64url of {len} bytes",
            len * 2
        ))),
    }
}

fn user_from_spec(rng: &mut Rng, u: UserSpec, now: i64) -> Result<User, WorldError> {
    let id = match u.id {
        Some(i) if ids::is_guid(&i) => i.to_ascii_lowercase(),
        Some(i) => return Err(WorldError::Invalid(format!("user id {i:?} is not a GUID"))),
        None => rng.guid(),
    };
    let Some((local, _)) = u.user_principal_name.split_once('@') else {
        return Err(WorldError::Invalid(format!(
            "userPrincipalName {:?} has no @domain",
            u.user_principal_name
        )));
    };
    let user_type = u.user_type.unwrap_or_else(|| "Member".into());
    if user_type != "Member" && user_type != "Guest" {
        return Err(WorldError::Invalid(format!(
            "userType {user_type:?} is not Member or Guest"
        )));
    }
    Ok(User {
        id,
        display_name: u.display_name.unwrap_or_else(|| local.to_owned()),
        given_name: u.given_name,
        surname: u.surname,
        mail: Some(u.mail.unwrap_or_else(|| u.user_principal_name.clone())),
        department: u.department,
        job_title: u.job_title,
        user_type,
        account_enabled: u.account_enabled.unwrap_or(true),
        show_in_address_list: None,
        user_principal_name: u.user_principal_name,
        created_ms: now,
        deleted_ms: None,
        external: None,
        changed_seq: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
tenants:
  - id: 6babcaad-604b-40ac-a9d7-9fd97c0b779f
    displayName: Contoso
    domain: contoso.onmicrosoft.com
    apps:
      - clientId: 0d3f3c4e-5b7a-4c1e-9a8b-1c2d3e4f5a6b
        secret: contoso-emulator-secret
    users:
      - userPrincipalName: alice@contoso.onmicrosoft.com
        displayName: Alice Martin
        department: Sales
    groups:
      - displayName: Contoso Sales
        members: [alice@contoso.onmicrosoft.com]
"#;

    #[test]
    fn minimal_world_from_issue_loads() {
        let state = WorldFile::parse(MINIMAL).unwrap().into_state(None).unwrap();
        let t = &state.tenants["6babcaad-604b-40ac-a9d7-9fd97c0b779f"];
        assert_eq!(t.users.len(), 1);
        assert_eq!(t.groups[0].members, vec![t.users[0].id.clone()]);
        assert_eq!(
            t.apps[0].secrets,
            vec!["contoso-emulator-secret".to_string()]
        );
        assert!(
            t.apps[0]
                .roles
                .iter()
                .any(|r| r == "Synchronization.ReadWrite.All")
        );
    }

    #[test]
    fn later_ids_do_not_repeat_world_ids() {
        let mut state = WorldFile::parse(MINIMAL)
            .unwrap()
            .into_state(Some(5))
            .unwrap();
        let t = &state.tenants["6babcaad-604b-40ac-a9d7-9fd97c0b779f"];
        let taken: Vec<String> = t
            .users
            .iter()
            .map(|u| u.id.clone())
            .chain(t.groups.iter().map(|g| g.id.clone()))
            .collect();
        for _ in 0..10 {
            assert!(!taken.contains(&state.rng.guid()));
        }
    }

    #[test]
    fn json_form_loads_too() {
        let json = r#"{"tenants":[{"id":"6babcaad-604b-40ac-a9d7-9fd97c0b779f","displayName":"C","domain":"c.onmicrosoft.com"}]}"#;
        let s = WorldFile::parse(json).unwrap().into_state(Some(1)).unwrap();
        assert_eq!(s.tenants.len(), 1);
    }

    #[test]
    fn rejects_bad_worlds() {
        assert!(
            WorldFile::parse("tenants: [{id: x, displayName: a, domain: b}]")
                .unwrap()
                .into_state(None)
                .is_err()
        );
        assert!(WorldFile::parse("tenantz: []").is_err());
        let bad_member = MINIMAL.replace("members: [alice@", "members: [nobody@");
        assert!(
            WorldFile::parse(&bad_member)
                .unwrap()
                .into_state(None)
                .is_err()
        );
    }

    #[test]
    fn thumbprints_normalize() {
        let hex = "0123456789abcdef0123456789abcdef01234567";
        let b = normalize_thumbprint(hex, 20).unwrap();
        assert_eq!(normalize_thumbprint(&b, 20).unwrap(), b);
        assert!(normalize_thumbprint("abc", 20).is_err());
    }
}
