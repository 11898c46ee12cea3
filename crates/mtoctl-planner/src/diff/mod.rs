//! Diffing desired against observed state, one module per kind of resource.
//!
//! Each module reads the desired and observed state through [`Ctx`] and records draft actions
//! (with dependencies on other drafts by key), deferred work and notes. Nothing here orders
//! actions or assigns ids; `crate::assemble` does that once every module has run.
//!
//! Normalisation rules shared by all modules (a converged world must plan nothing):
//! - a `None` leaf in the desired state is not managed and never diffed;
//! - GUIDs are compared in canonical (lowercase) form, UPNs lowercased;
//! - lists whose order Graph does not promise (targets, filter groups) are compared sorted;
//! - server-owned fields (`isInMultiTenantOrganization`, timestamps, ids) are never diffed;
//! - write-only values (sync secrets) are written only when this plan creates the job.

pub(crate) mod organization;
pub(crate) mod partners;
pub(crate) mod schema;
pub(crate) mod settings;
pub(crate) mod sync;
pub(crate) mod templates;

use std::collections::{BTreeMap, BTreeSet};

use mtoctl_model::ids::{Alias, TenantId};
use mtoctl_model::observed::{Fingerprint, TenantObservation};
use mtoctl_model::{DesiredState, ObservedState};
use serde::Serialize;

use crate::report::PlanError;
use mtoctl_model::plan::ResourceAddr;
use mtoctl_model::plan::{
    ActionId, ActionKind, ActionReason, AsyncWait, AttributeChange, ExpectedBefore, Impact,
    Operation, PlanMode,
};
use mtoctl_model::plan::{DeferredAction, Note, ScopeEntry, Severity};

/// An action before ordering. Dependencies and symbolic references (`ObjectRef::CreatedBy`,
/// `ExpectedBefore::CreatedBy`/`ChangedBy`) name other drafts by key: an [`ActionId`] holding
/// the draft's position in [`Ctx::drafts`], which `crate::assemble` maps to the action's id.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub addr: ResourceAddr,
    pub tenant: Alias,
    pub kind: ActionKind,
    pub operation: Operation,
    pub after: Vec<ActionId>,
    pub expected_before: ExpectedBefore,
    pub destructive: bool,
    pub impact: Option<Box<Impact>>,
    pub reason: ActionReason,
    pub summary: String,
    pub changes: Vec<AttributeChange>,
    pub async_wait: Option<AsyncWait>,
}

impl Draft {
    /// A draft with no dependencies, changes or impact; the caller fills those in.
    pub fn new(
        addr: ResourceAddr,
        tenant: &Alias,
        kind: ActionKind,
        operation: Operation,
        reason: ActionReason,
        summary: impl Into<String>,
    ) -> Self {
        Self {
            addr,
            tenant: tenant.clone(),
            kind,
            operation,
            after: Vec::new(),
            expected_before: ExpectedBefore::Absent,
            destructive: false,
            impact: None,
            reason,
            summary: summary.into(),
            changes: Vec::new(),
            async_wait: None,
        }
    }

    pub fn after(mut self, keys: impl IntoIterator<Item = ActionId>) -> Self {
        self.after.extend(keys);
        self
    }

    pub fn expect(mut self, expected: ExpectedBefore) -> Self {
        self.expected_before = expected;
        self
    }

    pub fn changes(mut self, changes: Vec<AttributeChange>) -> Self {
        self.changes = changes;
        self
    }
}

/// Whether a tenant can take part in pair-level work (partners, syncs) in this round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Readiness {
    /// An active member (or the organization is not in question).
    Ready,
    /// Becomes ready when these wait drafts complete.
    Waiting { waits: Vec<ActionId>, why: String },
    /// Cannot be planned for; a note says why.
    Blocked { why: String },
}

/// The planner's working state.
pub(crate) struct Ctx<'a> {
    pub desired: &'a DesiredState,
    pub observed: &'a ObservedState,
    pub drafts: Vec<Draft>,
    pub deferred: Vec<(DeferredAction, Vec<ActionId>)>,
    pub notes: Vec<Note>,
    pub fingerprints: BTreeMap<ResourceAddr, Fingerprint>,
    /// Managed objects examined; those without actions are counted as no-ops.
    pub checked: BTreeSet<ResourceAddr>,
    /// Readiness of each spec tenant for pair-level work, set by the organization module.
    pub readiness: BTreeMap<Alias, Readiness>,
    /// Draft keys of each tenant's template changes (create and join must follow them).
    pub template_keys: BTreeMap<Alias, Vec<ActionId>>,
    /// Draft keys of changes to the partner configuration and identity sync `(tenant, partner)`.
    pub pair_keys: BTreeMap<(Alias, Alias), Vec<ActionId>>,
    /// What the plan is for (written into it by `crate::assemble`).
    pub mode: PlanMode,
    /// The spec's digest, when taken beside the diff (`crate::assemble::diff_beside_digest`).
    pub spec_digest: Option<Fingerprint>,
}

impl<'a> Ctx<'a> {
    pub fn new(desired: &'a DesiredState, observed: &'a ObservedState) -> Result<Self, PlanError> {
        for tenant in &desired.tenants {
            if !observed.tenants.contains_key(&tenant.alias) {
                return Err(PlanError::MissingObservation {
                    tenant: tenant.alias.clone(),
                });
            }
        }
        Ok(Self {
            desired,
            observed,
            drafts: Vec::new(),
            deferred: Vec::new(),
            notes: Vec::new(),
            fingerprints: BTreeMap::new(),
            checked: BTreeSet::new(),
            readiness: BTreeMap::new(),
            template_keys: BTreeMap::new(),
            pair_keys: BTreeMap::new(),
            mode: PlanMode::Apply,
            spec_digest: None,
        })
    }

    /// The observation of a spec tenant (checked to exist in [`Ctx::new`]).
    pub fn obs(&self, alias: &Alias) -> &'a TenantObservation {
        &self.observed.tenants[alias]
    }

    /// The alias of a spec tenant by id.
    pub fn alias_of(&self, id: &TenantId) -> Option<&'a Alias> {
        self.desired
            .tenants
            .iter()
            .find(|t| &t.tenant_id == id)
            .map(|t| &t.alias)
    }

    /// Records a draft and returns its key: its position among the drafts, unique by
    /// construction and a number, because every reference to the draft copies it (keys by
    /// address and operation weighed on the planner's peak memory at scale). The key names
    /// nothing for people; the sort breaks ties by operation and then by this position.
    pub fn push(&mut self, draft: Draft) -> ActionId {
        let key = ActionId::at(self.drafts.len());
        self.drafts.push(draft);
        key
    }

    /// Records the fingerprint of an observed object (computed by `mtoctl_model::plan::fingerprint`, which
    /// the executor uses too) and returns it as a precondition.
    pub fn seen(&mut self, addr: &ResourceAddr, fingerprint: Fingerprint) -> ExpectedBefore {
        self.fingerprints.insert(addr.clone(), fingerprint.clone());
        ExpectedBefore::Fingerprint { fingerprint }
    }

    /// Records that a managed object was compared with the spec.
    pub fn check(&mut self, addr: &ResourceAddr) {
        self.checked.insert(addr.clone());
    }

    pub fn note(&mut self, severity: Severity, addr: Option<ResourceAddr>, message: String) {
        self.notes.push(Note {
            severity,
            addr,
            message,
            entry: None,
            location: None,
        });
    }

    /// Records a note about one entry of a sync's scope.
    pub fn note_entry(
        &mut self,
        severity: Severity,
        addr: ResourceAddr,
        entry: ScopeEntry,
        message: String,
    ) {
        self.notes.push(Note {
            severity,
            addr: Some(addr),
            message,
            entry: Some(entry),
            location: None,
        });
    }

    /// Records work that has to wait for the given wait drafts.
    pub fn defer(
        &mut self,
        addr: ResourceAddr,
        tenant: &Alias,
        kind: ActionKind,
        summary: String,
        reason: String,
        waits: Vec<ActionId>,
    ) {
        self.deferred.push((
            DeferredAction {
                addr,
                tenant: tenant.clone(),
                kind,
                summary,
                reason,
                waits_for: Vec::new(),
            },
            waits,
        ));
    }

    /// Whether pair-level work between two spec tenants can be planned now.
    pub fn pair_readiness(&self, a: &Alias, b: &Alias) -> Readiness {
        let mut waits = Vec::new();
        let mut whys = Vec::new();
        for alias in [a, b] {
            match self.readiness.get(alias).unwrap_or(&Readiness::Ready) {
                Readiness::Ready => {}
                Readiness::Blocked { why } => return Readiness::Blocked { why: why.clone() },
                Readiness::Waiting { waits: w, why } => {
                    waits.extend(w.iter().copied());
                    whys.push(why.clone());
                }
            }
        }
        if whys.is_empty() {
            Readiness::Ready
        } else {
            waits.sort();
            waits.dedup();
            whys.dedup();
            Readiness::Waiting {
                waits,
                why: whys.join("; "),
            }
        }
    }
}

/// A stable name of an operation, for the sort's tie-break.
pub(crate) fn op_name(op: &Operation) -> &'static str {
    match op {
        Operation::PatchPartnerTemplate { .. } => "patch_partner_template",
        Operation::PatchIdentitySyncTemplate { .. } => "patch_identity_sync_template",
        Operation::ResetPartnerTemplate => "reset_partner_template",
        Operation::ResetIdentitySyncTemplate => "reset_identity_sync_template",
        Operation::CreateOrganization { .. } => "create_organization",
        Operation::UpdateOrganization { .. } => "update_organization",
        Operation::AddMember { .. } => "add_member",
        Operation::ChangeMemberRole { .. } => "change_member_role",
        Operation::RemoveMember { .. } => "remove_member",
        Operation::ResetJoin => "reset_join",
        Operation::SubmitJoin { .. } => "submit_join",
        Operation::WaitForJoin { .. } => "wait_for_join",
        Operation::WaitForRole { .. } => "wait_for_role",
        Operation::WaitForRemoval { .. } => "wait_for_removal",
        Operation::CreatePartner { .. } => "create_partner",
        Operation::PatchPartner { .. } => "patch_partner",
        Operation::DeletePartner { .. } => "delete_partner",
        Operation::CreateIdentitySync { .. } => "create_identity_sync",
        Operation::PatchIdentitySync { .. } => "patch_identity_sync",
        Operation::DeleteIdentitySync { .. } => "delete_identity_sync",
        Operation::InstantiateSyncConfiguration { .. } => "instantiate",
        Operation::ValidateCredentials { .. } => "validate_credentials",
        Operation::CreateSyncJob { .. } => "create_job",
        Operation::PutSyncSecrets { .. } => "put_secrets",
        Operation::UpdateSchema { .. } => "update_schema",
        Operation::AssignPrincipal { .. } => "assign",
        Operation::RemoveAssignment { .. } => "unassign",
        Operation::StartJob { .. } => "start_job",
        Operation::PauseJob { .. } => "pause_job",
        Operation::DeleteSyncConfiguration { .. } => "delete_sync_configuration",
        Operation::DeleteSyncedUser { .. } => "delete_synced_user",
    }
}

/// Renders a value for attribute diffs.
pub(crate) fn show<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "?".into())
}

/// An attribute change with rendered values.
pub(crate) fn change<T: Serialize, U: Serialize>(
    path: &str,
    before: Option<&T>,
    after: Option<&U>,
) -> AttributeChange {
    AttributeChange {
        path: path.to_owned(),
        before: before.map(show),
        after: after.map(show),
    }
}

/// Runs every diff module in dependency order of their inputs.
pub(crate) fn run(ctx: &mut Ctx<'_>) {
    if ctx.desired.group_sync() {
        ctx.note(
            Severity::Info,
            None,
            "this plan uses Microsoft Graph's beta API (the spec's `beta: [groupSync]`): the identity sync policies are read and written through /beta for `groupSyncInbound`; beta APIs may change without notice".into(),
        );
    }
    templates::diff(ctx);
    organization::diff(ctx);
    partners::diff(ctx);
    sync::diff(ctx);
}
