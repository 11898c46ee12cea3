//! The world file's format: tenants with their domain, internal users, groups and app
//! registrations, and overrides of timings and limits.

use serde::{Deserialize, Serialize};

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
    /// Commercial subscriptions by SKU part number (`AAD_PREMIUM`, `AAD_PREMIUM_P2`, …);
    /// default: one Microsoft Entra ID P2 (`AAD_PREMIUM_P2`); `[]` for none.
    #[serde(default)]
    pub skus: Option<Vec<String>>,
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
    /// Granted application permissions (default: [`DEFAULT_ROLES`](super::DEFAULT_ROLES)).
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
    /// Profile attributes ([`crate::state::PROFILE_ATTRIBUTES`]).
    #[serde(default)]
    pub city: Option<String>,
    /// Company name.
    #[serde(default)]
    pub company_name: Option<String>,
    /// Country or region.
    #[serde(default)]
    pub country: Option<String>,
    /// Employee id.
    #[serde(default)]
    pub employee_id: Option<String>,
    /// Employee type (`Employee`, `Contractor`, ...).
    #[serde(default)]
    pub employee_type: Option<String>,
    /// Mail alias (default: the UPN's local part).
    #[serde(default)]
    pub mail_nickname: Option<String>,
    /// Postal code.
    #[serde(default)]
    pub postal_code: Option<String>,
    /// State or province.
    #[serde(default)]
    pub state: Option<String>,
    /// Street address.
    #[serde(default)]
    pub street_address: Option<String>,
    /// Usage location (two-letter country code).
    #[serde(default)]
    pub usage_location: Option<String>,
}

impl UserSpec {
    /// The profile attributes set, by Graph name.
    pub fn profile(&self) -> std::collections::BTreeMap<String, String> {
        [
            ("city", &self.city),
            ("companyName", &self.company_name),
            ("country", &self.country),
            ("employeeId", &self.employee_id),
            ("employeeType", &self.employee_type),
            ("mailNickname", &self.mail_nickname),
            ("postalCode", &self.postal_code),
            ("state", &self.state),
            ("streetAddress", &self.street_address),
            ("usageLocation", &self.usage_location),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k.to_owned(), v)))
        .collect()
    }
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
