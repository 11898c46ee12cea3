//! The plan: a versioned, serialisable list of actions with their dependencies.
//!
//! A plan is an artifact. It is reviewed in a pull request, saved to a file, rendered offline
//! and carried out by an executor that makes no decisions of its own. So it holds, per action,
//! everything the executor needs (a domain-level [`Operation`] with its whole payload) and
//! everything a reviewer needs (address, reason, attribute changes, impact), and nothing that
//! varies between two runs on the same inputs: no timestamps, no random ids, maps sorted.
//!
//! Display-only fields, which must never influence apply: `summary`, `reason`, `changes`,
//! `impact`, `notes`, `deferred` and the plan's `summary`. The executor reads `operation`,
//! `depends_on`, `expected_before`, `tenant` and `async_wait`.
//!
//! Operations are Graph-agnostic: the planner never knows URLs or JSON shapes (only
//! `mtoctl-graph` does). Objects that this plan itself creates are named symbolically with
//! [`ObjectRef::CreatedBy`]; the executor resolves them from its own report at run time.

use std::borrow::Cow;
use std::collections::BTreeMap;

use mtoctl_model::ids::{Alias, Guid, TenantId};
use mtoctl_model::observed::{Fingerprint, MemberRole};
use mtoctl_model::spec::document::{Access, FilterOperator, UserType, UserTypeApplies};
use serde::{Deserialize, Serialize};

use crate::addr::ResourceAddr;
use crate::report::{DeferredAction, Note};

/// The plan format's version. Minor versions are additive; consumers ignore unknown keys.
pub const FORMAT_VERSION: &str = "1.0";

/// An ordered, reviewable plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Always [`FORMAT_VERSION`] for plans this crate writes.
    pub format_version: String,
    /// The mtoctl version that computed the plan.
    pub mtoctl_version: String,
    /// Fingerprint of the desired state the plan was computed from.
    pub spec_digest: Fingerprint,
    /// The tenants of the spec, in spec order (alias and id), for renderers.
    pub tenants: Vec<PlanTenant>,
    /// Fingerprint of every object the planner read, by address: the staleness guard.
    pub observed: BTreeMap<ResourceAddr, Fingerprint>,
    /// The actions, in execution order.
    pub actions: Vec<Action>,
    /// Work that can only be planned once asynchronous Graph work has completed.
    pub deferred: Vec<DeferredAction>,
    /// Things the reviewer should know: unmanaged objects, refusals, warnings.
    pub notes: Vec<Note>,
    /// False when another plan/apply round is needed after this one (deferred work exists).
    pub complete: bool,
    /// False when applying this plan would be unsafe (a note of severity `error` says why).
    pub applyable: bool,
    /// True when the observed state could not be read completely. The planner itself always
    /// writes false (it refuses incomplete input); the CLI sets it for partial reads.
    pub errored: bool,
    /// Counts per kind of change.
    pub summary: Summary,
}

impl Plan {
    /// Whether the plan changes or waits for anything.
    pub fn has_changes(&self) -> bool {
        !self.actions.is_empty()
    }

    /// Whether any action is destructive.
    pub fn has_destruction(&self) -> bool {
        self.actions.iter().any(|a| a.destructive)
    }

    /// The action with this id.
    pub fn action(&self, id: &ActionId) -> Option<&Action> {
        self.index_of(id).map(|i| &self.actions[i])
    }

    /// Where the action with this id is in the plan. Ids are positions (`a001` is the first
    /// action), so this is a lookup, not a walk; it is checked against the action found there,
    /// since a saved plan is user-editable input.
    pub fn index_of(&self, id: &ActionId) -> Option<usize> {
        let i = id.index();
        (self.actions.get(i)?.id == *id).then_some(i)
    }
}

/// A tenant of the spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanTenant {
    /// The spec's alias.
    pub alias: Alias,
    /// The Entra tenant id.
    pub tenant_id: TenantId,
}

/// Counts per kind of change. `update` also counts starts, stops, joins and role changes;
/// credential checks are counted in `check`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Objects created.
    pub create: usize,
    /// Objects changed in place (including job starts and stops and join submissions).
    pub update: usize,
    /// Objects deleted or removed.
    pub delete: usize,
    /// Objects replaced.
    pub replace: usize,
    /// Waits for asynchronous Graph work.
    pub wait: usize,
    /// Read-only checks (credential validation).
    pub check: usize,
    /// Managed objects read and found as the spec wants them.
    pub no_op: usize,
}

/// A plan-local action id (`a001`, `a002`, … in execution order).
///
/// Held as the action's 0-based position, written as `a` and the 1-based position (at least
/// three digits). A number, not the written string: an assignment names several actions (its
/// own id, its dependencies, the configuration and role it refers to), and B4's 198,000
/// assignments held some 40 MB of such strings while planning and applying.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ActionId(u32);

impl ActionId {
    /// The id of the action at `index` (0-based) in execution order.
    ///
    /// # Panics
    /// If `index` does not fit in 32 bits: four billion actions, far beyond what Graph's
    /// write quotas let one apply carry out.
    pub fn at(index: usize) -> Self {
        Self(u32::try_from(index).expect("fewer than 2^32 actions"))
    }

    /// The action's 0-based position in execution order.
    pub fn index(self) -> usize {
        self.0 as usize
    }

    /// Reads an id written as `a001`; `None` for anything else (`a0`, `b001`, `a01x`).
    pub fn parse(text: &str) -> Option<Self> {
        let digits = text.strip_prefix('a')?;
        if digits.len() < 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: u32 = digits.parse().ok()?;
        let id = Self(n.checked_sub(1)?);
        // One way to write each id: `a0001` would not read back as itself.
        (id.to_string() == text).then_some(id)
    }
}

impl std::fmt::Display for ActionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a{:03}", u64::from(self.0) + 1)
    }
}

impl std::fmt::Debug for ActionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ActionId({self})")
    }
}

impl Serialize for ActionId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ActionId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format_args!(
                "action id {text:?} is not of the form a001 (the letter a and the action's \
                 1-based position, at least three digits)"
            ))
        })
    }
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    /// Plan-local id.
    pub id: ActionId,
    /// The object acted on.
    pub addr: ResourceAddr,
    /// The tenant whose credential performs the action.
    pub tenant: Alias,
    /// What kind of change it is.
    pub kind: ActionKind,
    /// What to do, with its whole payload.
    pub operation: Operation,
    /// Actions that must have succeeded first (all earlier in the plan).
    pub depends_on: Vec<ActionId>,
    /// What the object must look like right before the action (the per-action precondition).
    pub expected_before: ExpectedBefore,
    /// Whether the action deletes something or takes users out of a sync scope.
    pub destructive: bool,
    /// What the action does to people and objects beyond itself.
    pub impact: Option<Box<Impact>>,
    /// Why the action is planned.
    pub reason: ActionReason,
    /// A one-line description for people.
    pub summary: String,
    /// Attribute-level changes for display (`path: before -> after`).
    pub changes: Vec<AttributeChange>,
    /// For waits: what is awaited and for how long.
    pub async_wait: Option<AsyncWait>,
    /// Microsoft Graph application permissions the tenant's credential needs for it, sorted.
    /// Borrowed from the permission table when planned (every assignment would otherwise hold
    /// its own list of the same two names), owned when read from a saved plan.
    pub required_permissions: Cow<'static, [Cow<'static, str>]>,
}

/// The kind of change an action makes (Terraform's action vocabulary plus MTO's needs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Creates an object.
    Create,
    /// Changes an object in place.
    Update,
    /// Deletes or removes an object.
    Delete,
    /// Deletes and recreates an object.
    Replace,
    /// Waits for asynchronous Graph work.
    Wait,
    /// Starts a synchronization job.
    Start,
    /// Pauses a synchronization job.
    Stop,
    /// Submits a join request.
    Join,
    /// A read-only check (credential validation).
    Check,
}

/// What an object must look like right before an action runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ExpectedBefore {
    /// The object must not exist.
    Absent,
    /// The object must still have this fingerprint (as read by the planner).
    Fingerprint {
        /// The fingerprint of the observed object.
        fingerprint: Fingerprint,
    },
    /// The object is created by an earlier action of this plan.
    CreatedBy {
        /// That action.
        action: ActionId,
    },
    /// The object is changed by an earlier action of this plan (a wait after the change that
    /// started it), so its state before this action is whatever that action left.
    ChangedBy {
        /// That action.
        action: ActionId,
    },
}

/// Why an action is planned (Terraform's `ActionReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionReason {
    /// The spec declares it and it does not exist.
    Missing,
    /// It exists and differs from the spec.
    Drift,
    /// It is a step in setting up an object this plan creates or adopts.
    Setup,
    /// An existing object with the spec's name is taken over instead of creating a duplicate.
    Adopt,
    /// The spec does not declare it and its `prune` list names its kind.
    Prune,
    /// The spec changed the set of users or groups in a sync scope.
    ScopeChange,
    /// Asynchronous Graph work must complete before the next round.
    Async,
    /// A previous asynchronous attempt failed and is retried.
    Retry,
}

/// One attribute change, for display. Values are rendered already (`true`, `null`, `"x"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeChange {
    /// Attribute path (`automatic_user_consent.inbound`).
    pub path: String,
    /// The observed value; `None` when the attribute is new.
    pub before: Option<String>,
    /// The planned value; `None` when the attribute goes away.
    pub after: Option<String>,
}

/// What a destructive action does beyond its own object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Impact {
    /// One sentence (`2 users leave the scope and will be soft-deleted in fabrikam`).
    pub message: String,
    /// Users leaving a sync scope, as far as they can be counted.
    pub users_leaving_scope: usize,
    /// Groups leaving a sync scope; their members are not read, so not counted.
    pub groups_leaving_scope: Vec<String>,
    /// Whether users leaving the scope are soft-deleted in the target (rather than kept).
    pub soft_deletes: bool,
}

/// What a wait action waits for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AsyncWait {
    /// What must become true.
    pub until: WaitCondition,
    /// How long Microsoft says it can take, in seconds (the default timeout).
    pub timeout_seconds: u64,
}

/// A condition an asynchronous Graph change ends in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitCondition {
    /// The join request is processed and the tenant is an active member.
    JoinActive,
    /// The member's role change has landed.
    RoleChanged,
    /// The member's removal has completed.
    Removed,
}

impl WaitCondition {
    /// Graph's documented worst case: joins up to 4 h (Microsoft 365 admin center docs); role
    /// changes and removals "a few minutes", given an hour of slack.
    pub fn default_timeout_seconds(self) -> u64 {
        match self {
            WaitCondition::JoinActive => 4 * 3600,
            WaitCondition::RoleChanged | WaitCondition::Removed => 3600,
        }
    }

    /// Human wording.
    pub fn describe(self) -> &'static str {
        match self {
            WaitCondition::JoinActive => "join request to become active",
            WaitCondition::RoleChanged => "role change to complete",
            WaitCondition::Removed => "removal to complete",
        }
    }
}

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
    },
    /// Changes the identity synchronization policy for a partner.
    #[serde(rename_all = "snake_case")]
    PatchIdentitySync {
        /// The partner.
        partner_tenant_id: TenantId,
        /// `userSyncInbound.isSyncAllowed`.
        is_sync_allowed: bool,
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
        /// Whether users leaving the scope are soft-deleted in the target.
        deletes: bool,
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
    pub(crate) fn refs_mut(&mut self) -> Vec<&mut ObjectRef> {
        object_refs!(self)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_ids_are_written_a_and_the_1_based_position_and_read_back() {
        for (index, text) in [
            (0, "a001"),
            (98, "a099"),
            (999, "a1000"),
            (199_999, "a200000"),
        ] {
            let id = ActionId::at(index);
            assert_eq!(id.to_string(), text);
            assert_eq!(id.index(), index);
            assert_eq!(ActionId::parse(text), Some(id));
            let json = serde_json::to_string(&id).expect("serialised");
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<ActionId>(&json).expect("read"), id);
        }
    }

    #[test]
    fn action_ids_order_by_position_not_by_their_text() {
        // As strings, "a1000" sorts before "a999".
        assert!(ActionId::at(998) < ActionId::at(999));
        assert_eq!(ActionId::at(999).to_string(), "a1000");
    }

    #[test]
    fn anything_but_a_written_action_id_is_refused_with_the_form_it_should_have() {
        for text in [
            "a000",
            "a0001",
            "a01",
            "a",
            "b001",
            "a01x",
            "a-01",
            " a001",
            "a4294967297",
        ] {
            assert_eq!(ActionId::parse(text), None, "{text}");
        }
        let err = serde_json::from_str::<ActionId>("\"step1\"").expect_err("refused");
        assert!(
            err.to_string()
                .contains("\"step1\" is not of the form a001"),
            "{err}"
        );
        assert!(serde_json::from_str::<ActionId>("7").is_err());
    }
}
