//! The desired state: what a valid spec asks for, resolved and normalised.
//!
//! Everything here has been validated: aliases resolve, ids are canonical GUIDs, each tenant
//! has exactly one credential, per-pair settings are merged, and sync configurations have their
//! final names. The planner reads only this, never the YAML.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::ids::{Alias, Guid, TenantId};
use crate::spec::document::{
    BetaFeature, CertificateFormat, FilterOperator, GroupProvisioning, LeavingScope,
    PartnerSettings, PruneKind, Role, UserType, UserTypeApplies,
};

/// The validated contents of a spec.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesiredState {
    /// The organization object.
    pub organization: OrganizationSpec,
    /// The tenants, in spec order.
    pub tenants: Vec<TenantSpec>,
    /// Cross-tenant access settings.
    pub collaboration: CollaborationSpec,
    /// Cross-tenant synchronization configurations, in spec order.
    pub syncs: Vec<SyncSpec>,
    /// Kinds of undeclared object mtoctl may delete.
    pub prune: BTreeSet<PruneKind>,
    /// The beta features the spec opts into. Left out of the digest when empty.
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub beta: BTreeSet<BetaFeature>,
}

impl DesiredState {
    /// Whether the spec opted into group synchronization, which reads and writes through
    /// Graph's beta API.
    pub fn group_sync(&self) -> bool {
        self.beta.contains(&BetaFeature::GroupSync)
    }

    /// The tenant with this alias.
    pub fn tenant(&self, alias: &Alias) -> Option<&TenantSpec> {
        self.tenants.iter().find(|t| &t.alias == alias)
    }
}

/// The organization's own properties.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrganizationSpec {
    /// Display name.
    pub display_name: String,
    /// Description, if managed.
    pub description: Option<String>,
}

/// One tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenantSpec {
    /// The spec's name for it.
    pub alias: Alias,
    /// Its Entra tenant id.
    pub tenant_id: TenantId,
    /// Its display name as an organization member.
    pub display_name: String,
    /// Owner or member.
    pub role: Role,
    /// Its default domain, if given (lowercase).
    pub domain: Option<String>,
    /// How mtoctl signs in to it.
    pub credential: Credential,
}

/// How mtoctl obtains a token for one tenant. Holds only names of environment variables and
/// paths, never secret values, so it can be printed and serialised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Credential {
    /// A client secret from an environment variable.
    #[serde(rename_all = "camelCase")]
    ClientSecret {
        /// Application (client) id.
        client_id: Guid,
        /// Name of the environment variable holding the secret.
        secret_env: String,
    },
    /// A certificate file.
    #[serde(rename_all = "camelCase")]
    Certificate {
        /// Application (client) id.
        client_id: Guid,
        /// Path as written in the spec (relative paths are relative to the spec file).
        path: String,
        /// The file's format.
        format: CertificateFormat,
        /// Name of the environment variable holding the file's password.
        password_env: Option<String>,
    },
    /// Workload identity federation with a token file.
    #[serde(rename_all = "camelCase")]
    WorkloadIdentity {
        /// Application (client) id.
        client_id: Guid,
        /// The token file; `None` means `$AZURE_FEDERATED_TOKEN_FILE`.
        token_file: Option<String>,
    },
    /// GitHub Actions OIDC through workload identity federation.
    #[serde(rename_all = "camelCase")]
    GithubOidc {
        /// Application (client) id.
        client_id: Guid,
        /// The audience requested from GitHub.
        audience: String,
    },
    /// An Azure managed identity.
    #[serde(rename_all = "camelCase")]
    ManagedIdentity {
        /// The user-assigned identity's client id; `None` for the system-assigned identity.
        client_id: Option<Guid>,
    },
    /// The Azure CLI's signed-in account.
    AzureCli,
}

impl Credential {
    /// The default audience of GitHub's ID token for Entra workload identity federation.
    pub const GITHUB_DEFAULT_AUDIENCE: &'static str = "api://AzureADTokenExchange";

    /// The app registration (client id) the credential signs in as, when the spec names one:
    /// not for the Azure CLI's account or a system-assigned managed identity.
    pub fn client_id(&self) -> Option<String> {
        match self {
            Credential::ClientSecret { client_id, .. }
            | Credential::Certificate { client_id, .. }
            | Credential::WorkloadIdentity { client_id, .. }
            | Credential::GithubOidc { client_id, .. } => Some(client_id.to_string()),
            Credential::ManagedIdentity { client_id } => client_id.as_ref().map(|c| c.to_string()),
            Credential::AzureCli => None,
        }
    }

    /// A short name of the kind, as written in the spec.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Credential::ClientSecret { .. } => "clientSecret",
            Credential::Certificate { .. } => "certificate",
            Credential::WorkloadIdentity { .. } => "workloadIdentity",
            Credential::GithubOidc { .. } => "githubOidc",
            Credential::ManagedIdentity { .. } => "managedIdentity",
            Credential::AzureCli => "azureCli",
        }
    }
}

/// Cross-tenant access settings, per ordered pair of tenants.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CollaborationSpec {
    /// Whether the two MTO policy templates of every tenant are managed (set to `all_pairs`).
    pub manage_templates: bool,
    /// The settings every pair gets unless overridden; also what the templates are set to.
    pub all_pairs: PartnerSettings,
    /// The effective settings tenant `.0` holds for partner `.1`, for every ordered pair of
    /// distinct tenants. Fields left `None` are not managed.
    #[serde(serialize_with = "pairs_as_list")]
    pub pairs: BTreeMap<PairKey, PartnerSettings>,
}

/// JSON object keys must be strings, so the pair map serialises as a list of entries.
fn pairs_as_list<S: serde::Serializer>(
    pairs: &BTreeMap<PairKey, PartnerSettings>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Entry<'a> {
        tenant: &'a Alias,
        partner: &'a Alias,
        settings: &'a PartnerSettings,
    }
    serializer.collect_seq(pairs.iter().map(|(k, settings)| Entry {
        tenant: &k.tenant,
        partner: &k.partner,
        settings,
    }))
}

/// An ordered pair: the settings `tenant` holds for `partner`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct PairKey {
    /// The tenant that holds the settings.
    pub tenant: Alias,
    /// The partner they apply to.
    pub partner: Alias,
}

/// One cross-tenant synchronization configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncSpec {
    /// Source tenant.
    pub from: Alias,
    /// Target tenant.
    pub to: Alias,
    /// The configuration's display name (its identity in the source tenant).
    pub name: String,
    /// User type of provisioned users.
    pub user_type: UserType,
    /// When the user type mapping applies.
    pub user_type_applies: UserTypeApplies,
    /// Who is in scope.
    pub scope: ScopeSpec,
    /// Whether the job runs.
    pub enabled: bool,
    /// What leaving the scope does in the target.
    pub on_leaving_scope: LeavingScope,
    /// The attribute mappings the spec manages, sorted by target attribute (lowercased, each
    /// once); the others stay as Graph has them. Left out of the digest when empty, so a spec
    /// without mappings digests as it did before they existed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mappings: Vec<MappingSpec>,
    /// Whether the user mappings `mappings` does not name are brought back to the template's.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub reset_mappings: bool,
}

/// One managed attribute mapping of provisioned users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingSpec {
    /// The target attribute, as the spec spells it.
    pub target: String,
    /// Where its value comes from.
    pub source: MappingSource,
    /// When it applies.
    pub applies: UserTypeApplies,
    /// Matching precedence, when the spec sets it.
    pub matching_precedence: Option<u32>,
}

/// Where a mapped value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum MappingSource {
    /// A source attribute.
    Attribute(String),
    /// A constant.
    Constant(String),
    /// An expression (as written).
    Expression(String),
}

impl MappingSource {
    /// The source attributes it reads.
    pub fn attributes(&self) -> Vec<String> {
        match self {
            MappingSource::Attribute(a) => vec![a.clone()],
            MappingSource::Constant(_) => Vec::new(),
            MappingSource::Expression(e) => crate::expression::parse(e)
                .map(|p| p.attributes)
                .unwrap_or_default(),
        }
    }

    /// As Entra's admin center and expressions write it: `[attribute]`, `"constant"`, or the
    /// expression.
    pub fn shown(&self) -> String {
        match self {
            MappingSource::Attribute(a) => format!("[{a}]"),
            MappingSource::Constant(c) => {
                format!("\"{}\"", c.replace('\\', "\\\\").replace('"', "\\\""))
            }
            MappingSource::Expression(e) => e.clone(),
        }
    }
}

/// Who a sync configuration provisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScopeSpec {
    /// Every internal user (the `SyncAll` setting) rather than assignments.
    pub all_users: bool,
    /// Assigned users, in spec order, without duplicates.
    pub users: Vec<UserRef>,
    /// Assigned groups, in spec order, without duplicates.
    pub groups: Vec<GroupRef>,
    /// The attribute scoping filter: groups OR-ed, clauses AND-ed. Empty means no filter.
    pub filter: Vec<FilterGroupSpec>,
    /// Whether the groups are provisioned as groups; `None` leaves the job's group mapping as
    /// Graph has it. Left out of the digest when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_provisioning: Option<GroupProvisioning>,
}

/// A user named in a scope.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum UserRef {
    /// By object id.
    ObjectId(Guid),
    /// By user principal name, lowercased (UPNs compare case-insensitively).
    UserPrincipalName(String),
}

/// A group named in a scope.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum GroupRef {
    /// By object id.
    ObjectId(Guid),
    /// By display name, as written (display names are not unique; resolution checks that).
    DisplayName(String),
}

/// One group of scoping clauses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FilterGroupSpec {
    /// Label.
    pub name: String,
    /// Clauses, AND-ed.
    pub clauses: Vec<FilterClauseSpec>,
}

/// One scoping clause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FilterClauseSpec {
    /// Source attribute.
    pub attribute: String,
    /// Operator.
    pub operator: FilterOperator,
    /// Values.
    pub values: Vec<String>,
}

/// The configuration name the Microsoft 365 admin center gives a sync into `target`.
pub fn default_sync_name(target: &TenantId) -> String {
    format!("MTO_Sync_{target}")
}
