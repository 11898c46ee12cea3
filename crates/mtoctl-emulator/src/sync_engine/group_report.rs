//! The provisioning-log report of one group processed (group synchronization): import,
//! scoping, matching and export steps, worded as the users' are.
//!
//! Documented: a group skipped because the group mapping is disabled is logged with
//! `EntityTypeNotSupported` (`cross-tenant-synchronization-configure`, troubleshooting). Assumed
//! (no page shows a group entry): the steps and their wording by analogy with the users',
//! `identityType` `Group`, the display name as the reportable identifier, and the codes of the
//! other skips: `CrossTenantSyncPolicyCheckFailure` when the target's `groupSyncInbound` does not
//! allow groups, `NotEffectivelyEntitled` for a group type sync does not take or a group the
//! scoping filter leaves out.

use serde_json::Map;

use super::group_provision::GroupOutcome;
use super::report::Import;
use crate::provisioning_log::{
    Action, Report, SOURCE_SYSTEM, Status, Step, StepKind, Subject, TARGET_SYSTEM, details, flag,
};
use crate::schema::GROUP_MAPPING_NAME;
use crate::state::Group;

/// Why an assigned group is not provisioned.
#[derive(Debug, Clone)]
pub(super) enum GroupSkip {
    /// The group mapping is disabled or missing.
    NotEnabled,
    /// The target's identity sync policy does not allow groups from the source.
    NotAllowed {
        /// Source tenant.
        source: String,
        /// Target tenant.
        target: String,
    },
    /// A group type sync does not take (its kind, in the FAQ's words).
    Unsupported(&'static str),
    /// The group mapping's scoping filter leaves it out (the clauses that failed).
    Filtered(Vec<String>),
}

impl GroupSkip {
    /// The skip's (code, reason).
    fn code_and_reason(&self) -> (&'static str, String) {
        match self {
            GroupSkip::NotEnabled => (
                "EntityTypeNotSupported",
                format!(
                    "Group synchronization is not enabled in the source tenant: the '{GROUP_MAPPING_NAME}' mapping of the configuration is disabled. If you want to synchronize groups, set its Enabled toggle to Yes."
                ),
            ),
            GroupSkip::NotAllowed { source, target } => (
                "CrossTenantSyncPolicyCheckFailure",
                format!(
                    "The target tenant '{target}' does not allow groups to be synchronized from tenant '{source}' (cross-tenant sync policy groupSyncInbound.isSyncAllowed is not true)."
                ),
            ),
            GroupSkip::Unsupported(kind) => (
                "NotEffectivelyEntitled",
                format!(
                    "This group is a {kind}; cross-tenant synchronization synchronizes security groups and Microsoft 365 groups only."
                ),
            ),
            GroupSkip::Filtered(failed) => (
                "NotEffectivelyEntitled",
                format!(
                    "This object does not pass the scoping filter of the configuration ({}). If you did not expect the object to be skipped, change the scoping filter or the object's attributes.",
                    failed.join("; ")
                ),
            ),
        }
    }
}

/// The source group of a report.
pub(super) fn subject(g: &Group) -> Subject {
    Subject {
        id: g.id.clone(),
        display_name: g.display_name.clone(),
        upn: g.display_name.clone(),
        identity_type: "Group",
    }
}

fn import_step(g: &Group, how: Import) -> Step {
    let name = &g.display_name;
    let (step, description) = match how {
        Import::Update => (
            "EntryImportUpdate",
            format!("Received Group '{name}' change of type (Update) from {SOURCE_SYSTEM}"),
        ),
        _ => (
            "EntryImportAdd",
            format!("Received Group '{name}' change of type (Add) from {SOURCE_SYSTEM}"),
        ),
    };
    Step {
        name: step,
        kind: StepKind::Import,
        status: Status::Success,
        description,
        details: details([
            ("objectId", g.id.clone()),
            ("displayName", g.display_name.clone()),
            ("mailNickname", g.mail_nickname.clone()),
            ("securityEnabled", flag(g.security_enabled)),
            ("mailEnabled", flag(g.mail_enabled)),
            ("groupTypes", g.group_types.join(",")),
            ("IsSoftDeleted", flag(g.deleted_ms.is_some())),
            ("appRoleAssignments", "msiam_access".to_owned()),
        ]),
    }
}

/// The report of an assigned group that is skipped.
pub(super) fn skipped(g: &Group, how: Import, why: &GroupSkip) -> Report {
    let (code, reason) = why.code_and_reason();
    let description = format!(
        "The Group '{}' will be skipped due to the following reasons: {reason}",
        g.display_name
    );
    let scoping = Step {
        name: "EntrySynchronizationScoping",
        kind: StepKind::Scoping,
        status: Status::Skipped,
        description: description.clone(),
        details: details([
            ("SkipReason", code.to_owned()),
            ("Assigned to the application", flag(true)),
            ("Group type", g.kind().to_owned()),
        ]),
    };
    Report {
        action: Action::Other,
        status: Status::Skipped,
        subject: subject(g),
        target_id: None,
        error: Some((code.to_owned(), description)),
        steps: vec![import_step(g, how), scoping],
        modified: Vec::new(),
    }
}

/// The report of provisioning an in-scope group (`Unchanged` writes none: `None`).
pub(super) fn provisioned(g: &Group, how: Import, outcome: &GroupOutcome) -> Option<Report> {
    let name = &g.display_name;
    let scoping = Step {
        name: "EntrySynchronizationScoping",
        kind: StepKind::Scoping,
        status: Status::Success,
        description: "Determine if Group in scope by evaluating against each scoping filter".into(),
        details: details([
            ("Assigned to the application", flag(true)),
            ("Group type", g.kind().to_owned()),
            ("Scoping filter evaluation passed", flag(true)),
        ]),
    };
    let no_match = Step {
        name: "EntrySynchronizationAdd",
        kind: StepKind::Matching,
        status: Status::Success,
        description: format!(
            "Group '{name}' will be created in {TARGET_SYSTEM} (Group is assigned in {SOURCE_SYSTEM}, but no Group synchronized from it was found in {TARGET_SYSTEM})"
        ),
        details: Map::new(),
    };
    let export = |step, status, description: String, added: usize, removed: usize| Step {
        name: step,
        kind: StepKind::Export,
        status,
        description,
        details: details([
            ("ReportableIdentifier", name.clone()),
            ("MembersAdded", added.to_string()),
            ("MembersRemoved", removed.to_string()),
        ]),
    };
    let (action, status, target_id, error, matching, export, modified) = match outcome {
        GroupOutcome::Unchanged => return None,
        GroupOutcome::Created {
            id,
            modified,
            added,
        } => (
            Action::Create,
            Status::Success,
            Some(id.clone()),
            None,
            no_match,
            export(
                "EntryExportAdd",
                Status::Success,
                format!("Group '{name}' was created in {TARGET_SYSTEM}"),
                *added,
                0,
            ),
            modified.clone(),
        ),
        GroupOutcome::Updated {
            id,
            modified,
            added,
            removed,
        } => (
            Action::Update,
            Status::Success,
            Some(id.clone()),
            None,
            Step {
                name: "EntryImport",
                kind: StepKind::Matching,
                status: Status::Success,
                description: format!("Retrieved Group '{name}' from {TARGET_SYSTEM}"),
                details: details([("id", id.clone())]),
            },
            export(
                "EntryExportUpdate",
                Status::Success,
                format!("Group '{name}' was updated in {TARGET_SYSTEM}"),
                *added,
                *removed,
            ),
            modified.clone(),
        ),
        GroupOutcome::Escrowed(why) => (
            Action::Create,
            Status::Failure,
            None,
            Some(("EntryLevelError".to_owned(), why.clone())),
            no_match,
            export(
                "EntryExportAdd",
                Status::Failure,
                format!("Failed to create Group '{name}' in {TARGET_SYSTEM}"),
                0,
                0,
            ),
            Vec::new(),
        ),
    };
    Some(Report {
        action,
        status,
        subject: subject(g),
        target_id,
        error,
        steps: vec![import_step(g, how), scoping, matching, export],
        modified,
    })
}

/// The report of a group this job deprovisioned (soft-deleted in the target).
pub(super) fn deleted(subject: Subject, target_id: &str) -> Report {
    let name = subject.display_name.clone();
    Report {
        action: Action::Delete,
        status: Status::Success,
        subject,
        target_id: Some(target_id.to_owned()),
        error: None,
        steps: vec![Step {
            name: "EntryExportDelete",
            kind: StepKind::Export,
            status: Status::Success,
            description: format!("Group '{name}' was deleted in {TARGET_SYSTEM}"),
            details: details([("ReportableIdentifier", name.clone())]),
        }],
        modified: Vec::new(),
    }
}
