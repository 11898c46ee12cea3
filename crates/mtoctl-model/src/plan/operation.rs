//! What an action does, at the level of the domain: operations and their payloads.
//!
//! Graph-agnostic: no URL or JSON shape here; `mtoctl-graph` maps each operation to requests.

use serde::{Deserialize, Serialize};

use super::ActionId;
use crate::desired::MappingSpec;
use crate::ids::{Guid, TenantId};
use crate::observed::MemberRole;
use crate::spec::document::{Access, FilterOperator, UserType, UserTypeApplies};

/// An object an operation acts on: one that exists, or one an earlier action creates.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "ref", rename_all = "snake_case")]
pub enum ObjectRef {
    /// An existing object, by its Graph id.
    Existing {
        /// The object id.
        id: String,
    },
    /// The object created by an earlier action of this plan (its id is known only at apply).
    CreatedBy {
        /// That action.
        action: ActionId,
    },
}

/// A user or a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    /// A user.
    User,
    /// A group (its direct members are in scope).
    Group,
}

/// What to do, at the level of the domain. `mtoctl-graph` maps each to a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Operation {
    /// Sets the partner configuration template (whole values for the fields given).
    #[serde(rename_all = "snake_case")]
    PatchPartnerTemplate {
        /// `templateApplicationLevel` flags, when changed.
        application_level: Option<Vec<String>>,
        /// Settings to write.
        settings: Box<PartnerSettingsPatch>,
    },
    /// Sets the identity synchronization template.
    #[serde(rename_all = "snake_case")]
    PatchIdentitySyncTemplate {
        /// `templateApplicationLevel` flags, when changed.
        application_level: Option<Vec<String>>,
        /// `userSyncInbound.isSyncAllowed`, when changed.
        is_sync_allowed: Option<bool>,
    },
    /// Resets the partner configuration template to Graph's defaults (`resetToDefaultSettings`).
    ResetPartnerTemplate,
    /// Resets the identity synchronization template to Graph's defaults.
    ResetIdentitySyncTemplate,
    /// Creates the multitenant organization; the caller becomes its first owner.
    #[serde(rename_all = "snake_case")]
    CreateOrganization {
        /// Display name.
        display_name: String,
        /// Description.
        description: Option<String>,
    },
    /// Changes the organization's properties.
    #[serde(rename_all = "snake_case")]
    UpdateOrganization {
        /// New display name, when changed.
        display_name: Option<String>,
        /// New description, when changed.
        description: Option<String>,
    },
    /// Adds a tenant to the organization (it stays pending until it joins).
    #[serde(rename_all = "snake_case")]
    AddMember {
        /// The tenant added.
        tenant_id: TenantId,
        /// Its display name (immutable afterwards).
        display_name: String,
        /// Its role.
        role: MemberRole,
    },
    /// Changes a member's role (asynchronous).
    #[serde(rename_all = "snake_case")]
    ChangeMemberRole {
        /// The member.
        tenant_id: TenantId,
        /// The new role.
        role: MemberRole,
    },
    /// Removes a member from the organization (asynchronous).
    #[serde(rename_all = "snake_case")]
    RemoveMember {
        /// The member.
        tenant_id: TenantId,
    },
    /// Resets a failed join request (writes the all-zero owner id).
    ResetJoin,
    /// Submits the join request of the acting tenant (asynchronous).
    #[serde(rename_all = "snake_case")]
    SubmitJoin {
        /// The owner tenant that added it.
        owner_tenant_id: TenantId,
    },
    /// Waits until the tenant's join has completed.
    #[serde(rename_all = "snake_case")]
    WaitForJoin {
        /// The joining tenant.
        tenant_id: TenantId,
    },
    /// Waits until a member's role change has landed.
    #[serde(rename_all = "snake_case")]
    WaitForRole {
        /// The member.
        tenant_id: TenantId,
        /// The role it moves to.
        role: MemberRole,
    },
    /// Waits until a member's removal has completed.
    #[serde(rename_all = "snake_case")]
    WaitForRemoval {
        /// The member.
        tenant_id: TenantId,
    },
    /// Creates a partner configuration with the settings given.
    #[serde(rename_all = "snake_case")]
    CreatePartner {
        /// The partner.
        partner_tenant_id: TenantId,
        /// Settings to write.
        settings: Box<PartnerSettingsPatch>,
    },
    /// Changes a partner configuration (whole values for the fields given).
    #[serde(rename_all = "snake_case")]
    PatchPartner {
        /// The partner.
        partner_tenant_id: TenantId,
        /// Settings to write.
        changes: Box<PartnerSettingsPatch>,
    },
    /// Deletes a partner configuration (its identity sync policy must be gone).
    #[serde(rename_all = "snake_case")]
    DeletePartner {
        /// The partner.
        partner_tenant_id: TenantId,
    },
    /// Creates the identity synchronization policy for a partner.
    #[serde(rename_all = "snake_case")]
    CreateIdentitySync {
        /// The partner (the source of the sync).
        partner_tenant_id: TenantId,
        /// Label.
        display_name: String,
        /// `userSyncInbound.isSyncAllowed`.
        is_sync_allowed: bool,
        /// `groupSyncInbound.isSyncAllowed` (beta), when managed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        group_sync_allowed: Option<bool>,
    },
    /// Changes the identity synchronization policy for a partner.
    #[serde(rename_all = "snake_case")]
    PatchIdentitySync {
        /// The partner.
        partner_tenant_id: TenantId,
        /// `userSyncInbound.isSyncAllowed`, when it changes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        is_sync_allowed: Option<bool>,
        /// `groupSyncInbound.isSyncAllowed` (beta), when it changes.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        group_sync_allowed: Option<bool>,
    },
    /// Deletes the identity synchronization policy for a partner.
    #[serde(rename_all = "snake_case")]
    DeleteIdentitySync {
        /// The partner.
        partner_tenant_id: TenantId,
    },
    /// Instantiates the cross-tenant synchronization application template.
    #[serde(rename_all = "snake_case")]
    InstantiateSyncConfiguration {
        /// The configuration's name.
        display_name: String,
    },
    /// Tests that the source may provision into the target (no job needed).
    #[serde(rename_all = "snake_case")]
    ValidateCredentials {
        /// The configuration (service principal).
        configuration: ObjectRef,
        /// The target tenant.
        target_tenant_id: TenantId,
    },
    /// Creates the configuration's synchronization job (created paused).
    #[serde(rename_all = "snake_case")]
    CreateSyncJob {
        /// The configuration.
        configuration: ObjectRef,
    },
    /// Writes the configuration's sync settings. Holds no secret values: cross-tenant sync
    /// authenticates with the sync policy, and these are settings Graph cannot read back.
    #[serde(rename_all = "snake_case")]
    PutSyncSecrets {
        /// The configuration.
        configuration: ObjectRef,
        /// The target tenant (`CompanyId`).
        target_tenant_id: TenantId,
        /// `SyncAll`: every internal user rather than assignments.
        sync_all: bool,
    },
    /// Sets the managed parts of the job's schema: the user type mapping, the scoping filter
    /// and whether leaving the scope deletes.
    #[serde(rename_all = "snake_case")]
    UpdateSchema {
        /// The configuration.
        configuration: ObjectRef,
        /// The job.
        job: ObjectRef,
        /// User type of provisioned users.
        user_type: UserType,
        /// When the user type mapping applies.
        flow: UserTypeApplies,
        /// Scoping filter groups (OR-ed); empty for none.
        filter: Vec<ScopingFilterGroup>,
        /// The attribute mappings the spec manages (the others are written back as read).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        mappings: Vec<MappingSpec>,
        /// Target attributes whose mappings are removed (`resetMappings`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        remove_mappings: Vec<String>,
        /// Whether users leaving the scope are soft-deleted in the target.
        deletes: bool,
        /// Whether the assigned groups are provisioned as groups (the group mapping enabled);
        /// `None` leaves the group mapping as read.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        groups: Option<bool>,
    },
    /// Assigns a user or group to the configuration.
    #[serde(rename_all = "snake_case")]
    AssignPrincipal {
        /// The configuration.
        configuration: ObjectRef,
        /// The app role to assign: an existing role id, or the user role of the configuration
        /// created by an action.
        app_role: ObjectRef,
        /// The user or group.
        principal_id: Guid,
        /// User or group.
        kind: PrincipalKind,
    },
    /// Removes one assignment from the configuration.
    #[serde(rename_all = "snake_case")]
    RemoveAssignment {
        /// The configuration.
        configuration: ObjectRef,
        /// The assignment (opaque id).
        assignment_id: String,
        /// The principal it assigns (for display and precondition checks).
        principal_id: Guid,
    },
    /// Starts the job (never planned for a running job).
    #[serde(rename_all = "snake_case")]
    StartJob {
        /// The configuration.
        configuration: ObjectRef,
        /// The job.
        job: ObjectRef,
    },
    /// Pauses the job.
    #[serde(rename_all = "snake_case")]
    PauseJob {
        /// The configuration.
        configuration: ObjectRef,
        /// The job.
        job: ObjectRef,
    },
    /// Deletes a sync configuration (its application and service principal, with its jobs).
    #[serde(rename_all = "snake_case")]
    DeleteSyncConfiguration {
        /// The service principal.
        service_principal_id: String,
        /// Its name (for display).
        display_name: String,
    },
    /// Deletes, in the target tenant, the account synchronization made for a source user
    /// (`destroy --remove-synced-users`); Graph keeps it restorable for 30 days.
    #[serde(rename_all = "snake_case")]
    DeleteSyncedUser {
        /// The account's object id in the target.
        user_id: String,
        /// Its UPN there (`alice_contoso.com#EXT#@…`), for display.
        user_principal_name: String,
    },
}

/// The object references of an operation, borrowed as the operation is (`&` or `&mut`): one
/// list for [`Operation::refs`] and [`Operation::refs_mut`].
macro_rules! object_refs {
    ($op:expr) => {
        match $op {
            Operation::ValidateCredentials { configuration, .. }
            | Operation::CreateSyncJob { configuration }
            | Operation::PutSyncSecrets { configuration, .. }
            | Operation::RemoveAssignment { configuration, .. } => vec![configuration],
            Operation::UpdateSchema {
                configuration, job, ..
            }
            | Operation::StartJob { configuration, job }
            | Operation::PauseJob { configuration, job } => vec![configuration, job],
            Operation::AssignPrincipal {
                configuration,
                app_role,
                ..
            } => vec![configuration, app_role],
            _ => Vec::new(),
        }
    };
}

impl Operation {
    /// Every object reference in the payload (to objects that exist or that an earlier
    /// action creates).
    pub fn refs(&self) -> Vec<&ObjectRef> {
        object_refs!(self)
    }

    /// Every symbolic reference in the payload, for resolving plan-local ids.
    pub fn refs_mut(&mut self) -> Vec<&mut ObjectRef> {
        object_refs!(self)
    }

    /// The kind of object the operation acts on.
    pub fn object(&self) -> ObjectKind {
        match self {
            Operation::PatchPartnerTemplate { .. }
            | Operation::PatchIdentitySyncTemplate { .. }
            | Operation::ResetPartnerTemplate
            | Operation::ResetIdentitySyncTemplate
            | Operation::CreatePartner { .. }
            | Operation::PatchPartner { .. }
            | Operation::DeletePartner { .. }
            | Operation::CreateIdentitySync { .. }
            | Operation::PatchIdentitySync { .. }
            | Operation::DeleteIdentitySync { .. } => ObjectKind::AccessSettings,
            Operation::CreateOrganization { .. }
            | Operation::UpdateOrganization { .. }
            | Operation::AddMember { .. }
            | Operation::ChangeMemberRole { .. }
            | Operation::RemoveMember { .. }
            | Operation::ResetJoin
            | Operation::SubmitJoin { .. }
            | Operation::WaitForJoin { .. }
            | Operation::WaitForRole { .. }
            | Operation::WaitForRemoval { .. } => ObjectKind::Organization,
            Operation::InstantiateSyncConfiguration { .. }
            | Operation::ValidateCredentials { .. }
            | Operation::CreateSyncJob { .. }
            | Operation::PutSyncSecrets { .. }
            | Operation::UpdateSchema { .. }
            | Operation::StartJob { .. }
            | Operation::PauseJob { .. }
            | Operation::DeleteSyncConfiguration { .. } => ObjectKind::SyncConfiguration,
            Operation::AssignPrincipal { .. } | Operation::RemoveAssignment { .. } => {
                ObjectKind::Assignment
            }
            Operation::DeleteSyncedUser { .. } => ObjectKind::SyncedUser,
        }
    }
}

/// The kinds of object operations act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// Cross-tenant access settings: templates, partner configurations, identity sync.
    AccessSettings,
    /// The organization, its members and join requests.
    Organization,
    /// Sync configurations, their jobs, secrets and schemas.
    SyncConfiguration,
    /// Assignments of users and groups to a configuration.
    Assignment,
    /// Accounts synchronization made in a target tenant.
    SyncedUser,
}

/// Partner settings to write. Each field present is a whole value (Graph replaces complex
/// values as a unit, and whether it merges siblings is unconfirmed, so both members of
/// `automatic_user_consent` are always sent together). Absent fields are not written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct PartnerSettingsPatch {
    /// `automaticUserConsentSettings`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automatic_user_consent: Option<ConsentValue>,
    /// `inboundTrust`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound_trust: Option<TrustValue>,
    /// `b2bCollaborationInbound`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b2b_collaboration_inbound: Option<B2bValue>,
    /// `b2bCollaborationOutbound`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b2b_collaboration_outbound: Option<B2bValue>,
    /// `b2bDirectConnectInbound`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b2b_direct_connect_inbound: Option<B2bValue>,
    /// `b2bDirectConnectOutbound`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b2b_direct_connect_outbound: Option<B2bValue>,
}

impl PartnerSettingsPatch {
    /// Whether nothing would be written.
    pub fn is_empty(&self) -> bool {
        let PartnerSettingsPatch {
            automatic_user_consent,
            inbound_trust,
            b2b_collaboration_inbound,
            b2b_collaboration_outbound,
            b2b_direct_connect_inbound,
            b2b_direct_connect_outbound,
        } = self;
        automatic_user_consent.is_none()
            && inbound_trust.is_none()
            && b2b_collaboration_inbound.is_none()
            && b2b_collaboration_outbound.is_none()
            && b2b_direct_connect_inbound.is_none()
            && b2b_direct_connect_outbound.is_none()
    }
}

/// `automaticUserConsentSettings`; `None` members are written as null (inherit).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentValue {
    /// `inboundAllowed`.
    pub inbound: Option<bool>,
    /// `outboundAllowed`.
    pub outbound: Option<bool>,
}

/// `inboundTrust`; `None` members are written as null.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct TrustValue {
    /// `isMfaAccepted`.
    pub mfa: Option<bool>,
    /// `isCompliantDeviceAccepted`.
    pub compliant_device: Option<bool>,
    /// `isHybridAzureADJoinedDeviceAccepted`.
    pub hybrid_joined_device: Option<bool>,
}

/// A B2B setting for one direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct B2bValue {
    /// `usersAndGroups`.
    pub users_and_groups: RuleValue,
    /// `applications`.
    pub applications: RuleValue,
}

/// An access rule: allow or block the targets (sorted, in the spec's notation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleValue {
    /// Allowed or blocked.
    pub access: Access,
    /// Targets, sorted.
    pub targets: Vec<String>,
}

/// One scoping filter group (clauses AND-ed).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ScopingFilterGroup {
    /// Label.
    pub name: String,
    /// Clauses.
    pub clauses: Vec<ScopingClause>,
}

/// One scoping clause.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ScopingClause {
    /// Source attribute.
    pub attribute: String,
    /// Operator.
    pub operator: FilterOperator,
    /// Values.
    pub values: Vec<String>,
}
