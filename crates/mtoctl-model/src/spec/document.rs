//! The spec language as written: typed mirror of the YAML document.
//!
//! These types are the single source of truth for the language. The JSON Schema that
//! `mtoctl schema` prints and that validation checks documents against is generated from them
//! (doc comments become descriptions), and documents that pass that check are deserialized into
//! them. Semantic rules (GUID shapes, references between aliases, contradictions) live in
//! `validate`, which turns a [`SpecDocument`] into a [`crate::DesiredState`].

use schemars::JsonSchema;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// An mtoctl spec: one multitenant organization (MTO), its tenants, how they collaborate and
/// which users and groups each tenant synchronizes into the others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "mtoctl multitenant organization spec")]
pub struct SpecDocument {
    /// The version of the spec language. Always `mtoctl/v1alpha1` for now.
    pub api_version: ApiVersion,
    /// The kind of document. Always `MultiTenantOrganization`.
    pub kind: DocumentKind,
    /// The multitenant organization itself, as the owner tenant creates it.
    pub organization: Organization,
    /// Every tenant of the organization, each with the credential mtoctl uses for it.
    pub tenants: Vec<Tenant>,
    /// Cross-tenant access settings applied between every pair of tenants, with per-pair overrides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collaboration: Option<Collaboration>,
    /// Cross-tenant synchronization directions: who is provisioned from which tenant into which.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sync: Vec<SyncDirection>,
    /// Kinds of object mtoctl may delete when the spec no longer declares them. Default: none;
    /// undeclared objects are only reported.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prune: Vec<PruneKind>,
    /// Features of Microsoft Graph's beta API the spec opts into (`[groupSync]`). Beta APIs may
    /// change without notice; nothing that needs one is read or written without this opt-in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub beta: Vec<BetaFeature>,
}

/// A feature that only Microsoft Graph's beta API offers.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum BetaFeature {
    /// Cross-tenant synchronization of groups: `allowGroupsSyncInbound` and
    /// `scope.groupProvisioning: groupsAndMembers`.
    GroupSync,
}

/// The spec language version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ApiVersion {
    /// The first, still evolving version of the language.
    #[serde(rename = "mtoctl/v1alpha1")]
    V1Alpha1,
}

/// The document kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum DocumentKind {
    /// A multitenant organization.
    MultiTenantOrganization,
}

/// The multitenant organization object (`/tenantRelationships/multiTenantOrganization`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Organization {
    /// The organization's display name, shown in every member tenant.
    pub display_name: String,
    /// An optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// One tenant of the organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Tenant {
    /// A short name for the tenant used everywhere else in the spec and in plans (letters,
    /// digits, `-` and `_`; starts with a letter).
    pub alias: String,
    /// The Microsoft Entra tenant id (a GUID).
    pub tenant_id: String,
    /// The name the tenant has as a member of the organization. Graph cannot change it once
    /// set: changing it here means removing and re-adding the tenant.
    pub display_name: String,
    /// `owner` tenants manage membership; at least one tenant must be an owner.
    #[serde(default)]
    pub role: Role,
    /// The tenant's default domain (`contoso.onmicrosoft.com`). A user with this domain named in
    /// the scope of a sync from another tenant is an error: only a source's own users sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// How mtoctl authenticates to this tenant.
    pub auth: Auth,
}

/// A tenant's role in the organization.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Role {
    /// Can add and remove tenants and change roles.
    Owner,
    /// A regular member.
    #[default]
    Member,
}

/// How mtoctl obtains a Microsoft Graph token for one tenant: a client id and exactly one
/// credential kind. Secrets never appear in a spec, only the names of environment variables and
/// the paths of files that hold them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Auth {
    /// The application (client) id of the app registration mtoctl signs in as. Required for
    /// every kind but `azureCli`; for `managedIdentity` it selects a user-assigned identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// A client secret read from an environment variable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<ClientSecretAuth>,
    /// A certificate file (PKCS#12 or PEM with the private key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertificateAuth>,
    /// Workload identity federation: a federated token read from a file (Kubernetes, other CI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_identity: Option<WorkloadIdentityAuth>,
    /// GitHub Actions OIDC: the workflow's ID token, exchanged through workload identity federation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub github_oidc: Option<GithubOidcAuth>,
    /// An Azure managed identity (system-assigned, or user-assigned when `clientId` is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_identity: Option<ManagedIdentityAuth>,
    /// The signed-in Azure CLI account (`az login`), for people running mtoctl by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure_cli: Option<AzureCliAuth>,
}

/// A client secret taken from the environment at run time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClientSecretAuth {
    /// The name of the environment variable that holds the secret.
    pub from_env: String,
}

/// A certificate credential.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CertificateAuth {
    /// Path to the certificate file, relative to the spec file.
    pub path: String,
    /// The file's format; by default taken from its extension (`.pfx`/`.p12` or `.pem`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<CertificateFormat>,
    /// The name of the environment variable that holds the file's password, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_from_env: Option<String>,
}

/// A certificate file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum CertificateFormat {
    /// PKCS#12 (`.pfx`, `.p12`).
    Pkcs12,
    /// PEM with the certificate and its private key.
    Pem,
}

/// Workload identity federation with a token file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WorkloadIdentityAuth {
    /// Path of the federated token file; by default `$AZURE_FEDERATED_TOKEN_FILE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_file: Option<String>,
}

/// GitHub Actions OIDC.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GithubOidcAuth {
    /// The audience requested from GitHub; by default `api://AzureADTokenExchange`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
}

/// Managed identity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ManagedIdentityAuth {}

/// Azure CLI.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AzureCliAuth {}

/// Collaboration settings: what every tenant allows for every other tenant of the organization
/// (its partner configuration and identity synchronization policy for that partner).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Collaboration {
    /// Settings every tenant applies to every other tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_pairs: Option<PartnerSettings>,
    /// Whether mtoctl also writes `allPairs` into each tenant's two MTO policy templates, so that
    /// tenants joining later get the same settings from Microsoft itself. Default: true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manage_templates: Option<bool>,
    /// Settings for particular pairs that differ from `allPairs`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<PairOverride>,
}

/// Cross-tenant access settings one tenant holds for one partner. Anything left out is not
/// managed by mtoctl and stays as it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PartnerSettings {
    /// "Allow users sync into this tenant": whether the partner may provision its users into
    /// this tenant with cross-tenant synchronization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_users_sync_inbound: Option<bool>,
    /// "Allow groups sync into this tenant" (beta; needs `beta: [groupSync]`): whether the
    /// partner may provision its groups into this tenant as groups, with their members.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_groups_sync_inbound: Option<bool>,
    /// "Automatically redeem invitations": suppress the consent prompt for users coming in from
    /// the partner (inbound) and for this tenant's users going to the partner (outbound).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automatic_user_consent: Option<AutomaticUserConsent>,
    /// Which claims from the partner's tenant this tenant's Conditional Access trusts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound_trust: Option<InboundTrust>,
    /// B2B collaboration settings (guest access in both directions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b2b_collaboration: Option<B2bSettings>,
    /// B2B direct connect settings (Teams shared channels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b2b_direct_connect: Option<B2bSettings>,
}

/// Automatic user consent (automatic redemption of invitations).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AutomaticUserConsent {
    /// Users coming from the partner are not asked for consent in this tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound: Option<bool>,
    /// This tenant's users are not asked for consent in the partner's tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbound: Option<bool>,
}

/// Inbound trust for Conditional Access.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InboundTrust {
    /// Trust multifactor authentication performed in the partner's tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa: Option<bool>,
    /// Trust compliant-device claims from the partner's tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compliant_device: Option<bool>,
    /// Trust Microsoft Entra hybrid joined device claims from the partner's tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hybrid_joined_device: Option<bool>,
}

/// B2B settings in both directions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct B2bSettings {
    /// What the partner's users and applications may do in this tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound: Option<B2bPolicy>,
    /// What this tenant's users may do in the partner's tenant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbound: Option<B2bPolicy>,
}

/// One direction of a B2B setting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct B2bPolicy {
    /// Which users and groups the rule covers.
    pub users_and_groups: AccessRule,
    /// Which applications the rule covers.
    pub applications: AccessRule,
}

/// Allow or block a list of targets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AccessRule {
    /// Whether the targets are allowed or blocked.
    pub access: Access,
    /// For users and groups: `AllUsers`, `user:<object id>` or `group:<object id>`. For
    /// applications: `AllApplications`, `Office365`, `AllMicrosoftApps` or an application id.
    pub targets: Vec<String>,
}

/// Allowed or blocked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Access {
    /// The targets are allowed (everyone else is blocked).
    Allowed,
    /// The targets are blocked (everyone else is allowed).
    Blocked,
}

/// Settings for one or both directions of one pair of tenants.
///
/// Either `tenant` and `partner` (the settings `tenant` holds for `partner`), or `between`
/// (the settings each of the two tenants holds for the other).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PairOverride {
    /// The tenant whose settings change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The partner those settings are for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner: Option<String>,
    /// Two tenants that both get these settings for each other.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub between: Option<Vec<String>>,
    /// The settings; they replace the corresponding `allPairs` values for this pair.
    pub settings: PartnerSettings,
}

/// One cross-tenant synchronization configuration: users and groups of `from` provisioned into
/// `to` as B2B members (or guests).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SyncDirection {
    /// The source tenant's alias.
    pub from: String,
    /// The target tenant's alias.
    pub to: String,
    /// The configuration's name; by default `MTO_Sync_<target tenant id>`, the name the
    /// Microsoft 365 admin center uses (so the admin center keeps recognising it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The user type synced users get in the target. Default: `Member`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_type: Option<UserType>,
    /// Whether the user type also converts users that already exist in the target (`always`,
    /// the default), or is set only when a user is created (`onCreate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_type_applies: Option<UserTypeApplies>,
    /// Who is in scope.
    pub scope: SyncScope,
    /// Whether the synchronization job runs. Default: true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// What happens in the target to users who leave the scope: `softDelete` (the default; they
    /// are soft-deleted and purged after 30 days) or `keep`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_leaving_scope: Option<LeavingScope>,
    /// Attribute mappings of the provisioned users, by target attribute (for example
    /// `companyName: {constant: Contoso}`). Mappings not named here stay as Graph has them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub mappings: BTreeMap<String, AttributeMapping>,
    /// Bring every user mapping that `mappings` does not name back to the job template's
    /// default, and remove those the template does not have. Default: false (they stay as
    /// Graph has them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset_mappings: Option<bool>,
}

/// Where one target attribute of a provisioned user comes from: exactly one of `source`,
/// `constant` and `expression`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AttributeMapping {
    /// A source user attribute, copied (for example `department`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// A constant value (for example the source organization's name for `companyName`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constant: Option<String>,
    /// An expression in Entra's mapping language, for example
    /// `Join(" ", [givenName], [surname])`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    /// When it applies: `always` (the default; on creation and every update) or `onCreate`
    /// (only when the user is created in the target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applies: Option<UserTypeApplies>,
    /// Matching precedence: 1 and up make the attribute one that matches source users with
    /// existing target users, in that order; 0 makes it not match. Left as Graph has it when
    /// absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matching_precedence: Option<u32>,
}

/// The user type of provisioned users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum UserType {
    /// External members: full collaboration (Teams, Viva), the MTO default.
    Member,
    /// External guests.
    Guest,
}

/// When the user type mapping applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum UserTypeApplies {
    /// On creation and on every update (converts existing B2B users).
    Always,
    /// Only when the user is created in the target.
    OnCreate,
}

/// What leaving the scope does in the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum LeavingScope {
    /// Soft-delete the user in the target (restorable for 30 days).
    SoftDelete,
    /// Leave the user in the target.
    Keep,
}

/// Who a sync configuration provisions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SyncScope {
    /// Sync every internal user of the source tenant instead of assigned users and groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_users: Option<bool>,
    /// Users assigned to the configuration, by user principal name or object id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
    /// Groups assigned to the configuration, by display name or object id; their direct
    /// members are in scope (nested groups are not).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// An attribute scoping filter on top of the assignments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<ScopingFilter>,
    /// What `groups` provisions: `membersOnly` (their direct members, as users) or
    /// `groupsAndMembers` (beta; needs `beta: [groupSync]`: each group too, as a security group
    /// in the target whose members are the provisioned users). Left as Graph has it when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_provisioning: Option<GroupProvisioning>,
}

/// What the groups of a scope provision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum GroupProvisioning {
    /// Only the groups' direct members, as users (the job's group mapping disabled).
    MembersOnly,
    /// The groups themselves too, with their memberships (the job's group mapping enabled).
    GroupsAndMembers,
}

/// An attribute scoping filter: a user is in scope when it matches any of the groups.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ScopingFilter {
    /// Clause groups, OR-ed.
    pub any_of: Vec<FilterGroup>,
}

/// A group of clauses that must all hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FilterGroup {
    /// A label for the group, shown in the Entra admin center.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Clauses, AND-ed.
    pub all_of: Vec<FilterClause>,
}

/// One scoping clause on a source user attribute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FilterClause {
    /// The source attribute (for example `department`).
    pub attribute: String,
    /// The comparison.
    pub operator: FilterOperator,
    /// The values to compare with (none for `isTrue`, `isFalse`, `isNull`, `isNotNull`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// Scoping filter operators.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum FilterOperator {
    /// The attribute equals one of the values.
    Equals,
    /// The attribute equals none of the values.
    NotEquals,
    /// The attribute is true.
    IsTrue,
    /// The attribute is false.
    IsFalse,
    /// The attribute is empty.
    IsNull,
    /// The attribute is set.
    IsNotNull,
    /// The attribute matches the regular expression.
    RegexMatch,
    /// The attribute does not match the regular expression.
    NotRegexMatch,
    /// The attribute is greater than the value.
    GreaterThan,
    /// The attribute is greater than or equal to the value.
    GreaterThanOrEquals,
    /// The attribute is less than the value.
    LessThan,
    /// The attribute is less than or equal to the value.
    LessThanOrEquals,
}

impl FilterOperator {
    /// Whether the operator compares with values (rather than testing the attribute alone).
    pub fn takes_values(self) -> bool {
        !matches!(
            self,
            FilterOperator::IsTrue
                | FilterOperator::IsFalse
                | FilterOperator::IsNull
                | FilterOperator::IsNotNull
        )
    }
}

/// A kind of object mtoctl may delete when the spec stops declaring it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum PruneKind {
    /// Tenants of the organization that the spec does not list (removed from the MTO).
    Members,
    /// Partner configurations for tenants the spec does not list.
    PartnerConfigurations,
    /// Identity synchronization policies for tenants the spec does not list.
    IdentitySyncPolicies,
    /// Cross-tenant synchronization configurations the spec does not declare.
    SyncConfigurations,
}
