//! The provisioning-log report of one user processed: its import, scoping, matching and export
//! steps, in the provisioning service's words.

use serde_json::{Map, Value, json};

use crate::provisioning_log::{
    Action, Report, SOURCE_SYSTEM, Status, Step, StepKind, Subject, TARGET_SYSTEM, details, flag,
};
use crate::state::User;

use super::{Outcome, ScopeCheck};

/// The skip reason of a user out of scope, as the provisioning service names it
/// (`NotEffectivelyEntitled`: provision-on-demand screenshots of the cross-tenant how-to).
const NOT_ENTITLED: &str = "NotEffectivelyEntitled";

/// The scoping step of `u`, and for a user out of scope the skip's (code, reason).
fn scoping_step(u: &User, c: &ScopeCheck) -> (Step, Option<(String, String)>) {
    let evaluation: Map<String, Value> = c
        .clauses
        .iter()
        .map(|(label, ok)| (label.clone(), Value::Bool(*ok)))
        .collect();
    let mut d = details([
        ("Active in the source system", flag(c.active)),
        ("Assigned to the application", flag(c.assigned)),
        ("User has the required role", flag(c.assigned || c.sync_all)),
        ("Scope sync all", flag(c.sync_all)),
        ("Scoping filter evaluation passed", flag(c.filter_passed)),
        (
            "ScopeEvaluationResult",
            Value::Object(evaluation).to_string(),
        ),
    ]);
    if c.in_scope() {
        let step = Step {
            name: "EntrySynchronizationScoping",
            kind: StepKind::Scoping,
            status: Status::Success,
            description: "Determine if User in scope by evaluating against each scoping filter"
                .into(),
            details: d,
        };
        return (step, None);
    }
    let mut reasons: Vec<String> = Vec::new();
    if !c.active {
        reasons.push("This object is deleted in the source system.".into());
    }
    if !c.internal_member {
        reasons.push(
            "This object is not an internal member of the source tenant; cross-tenant synchronization only synchronizes internal members."
                .into(),
        );
    }
    if !c.sync_all && !c.assigned {
        reasons.push("This object is not assigned to the application. If you did not expect the object to be skipped, assign the object to the application or change your scoping filter to allow all users and groups to be in scope for provisioning.".into());
    }
    if !c.filter_passed {
        let failed: Vec<&str> = c
            .clauses
            .iter()
            .filter(|(_, ok)| !ok)
            .map(|(l, _)| l.as_str())
            .collect();
        reasons.push(format!(
            "This object does not pass the scoping filter of the configuration ({}). If you did not expect the object to be skipped, change the scoping filter or the object's attributes.",
            failed.join("; ")
        ));
    }
    let numbered: Vec<String> = if reasons.len() == 1 {
        reasons
    } else {
        reasons
            .iter()
            .enumerate()
            .map(|(i, r)| format!("{}) {r}", i + 1))
            .collect()
    };
    let description = format!(
        "The User '{}' will be skipped due to the following reasons: {}",
        u.user_principal_name,
        numbered.join(" ")
    );
    d.insert("SkipReason".into(), json!(NOT_ENTITLED));
    d.insert("IsActive".into(), json!(flag(c.active)));
    d.insert("IsInProvisioningScope".into(), json!(flag(c.filter_passed)));
    let step = Step {
        name: "EntrySynchronizationScoping",
        kind: StepKind::Scoping,
        status: Status::Skipped,
        description: description.clone(),
        details: d,
    };
    (step, Some((NOT_ENTITLED.to_owned(), description)))
}

/// How the user came to be read from the source.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Import {
    /// On demand ("Retrieved").
    OnDemand,
    /// A change of type Add in a cycle (not provisioned yet).
    Add,
    /// A change of type Update in a cycle.
    Update,
}

pub(super) fn import_step(u: &User, how: Import, assigned: bool) -> Step {
    let upn = &u.user_principal_name;
    let (name, description) = match how {
        Import::OnDemand => (
            "EntryImport",
            format!("Retrieved User '{upn}' from {SOURCE_SYSTEM}"),
        ),
        Import::Add => (
            "EntryImportAdd",
            format!("Received User '{upn}' change of type (Add) from {SOURCE_SYSTEM}"),
        ),
        Import::Update => (
            "EntryImportUpdate",
            format!("Received User '{upn}' change of type (Update) from {SOURCE_SYSTEM}"),
        ),
    };
    let mut d = details([
        ("objectId", u.id.clone()),
        ("accountEnabled", flag(u.account_enabled)),
        ("displayName", u.display_name.clone()),
        (
            "mailNickname",
            upn.split_once('@')
                .map_or(upn.as_str(), |(l, _)| l)
                .to_owned(),
        ),
        ("userPrincipalName", upn.clone()),
        ("IsSoftDeleted", flag(u.deleted_ms.is_some())),
    ]);
    if let Some(dep) = &u.department {
        d.insert("department".into(), json!(dep));
    }
    if assigned {
        d.insert("appRoleAssignments".into(), json!("msiam_access"));
    }
    Step {
        name,
        kind: StepKind::Import,
        status: Status::Success,
        description,
        details: d,
    }
}

pub(super) fn subject(u: &User) -> Subject {
    Subject {
        id: u.id.clone(),
        display_name: u.display_name.clone(),
        upn: u.user_principal_name.clone(),
        identity_type: "User",
    }
}

/// The report of a user out of scope: skipped at the scoping step.
pub(super) fn skipped(u: &User, how: Import, c: &ScopeCheck) -> Report {
    let (scoping, error) = scoping_step(u, c);
    Report {
        action: Action::Other,
        status: Status::Skipped,
        subject: subject(u),
        target_id: None,
        error,
        steps: vec![import_step(u, how, c.assigned), scoping],
        modified: Vec::new(),
    }
}

/// The report of provisioning an in-scope user: import, scoping, matching and export.
pub(super) fn provisioned_report(
    u: &User,
    how: Import,
    c: &ScopeCheck,
    outcome: &Outcome,
) -> Report {
    let upn = &u.user_principal_name;
    let step = |name, kind, status, description: String, d: Map<String, Value>| Step {
        name,
        kind,
        status,
        description,
        details: d,
    };
    let no_match = step(
        "EntrySynchronizationAdd",
        StepKind::Matching,
        Status::Success,
        format!(
            "User '{upn}' will be created in {TARGET_SYSTEM} (User is active and assigned in {SOURCE_SYSTEM}, but no matching User was found in {TARGET_SYSTEM})"
        ),
        Map::new(),
    );
    let matched = |id: &str, target_upn: &str| {
        step(
            "EntryImport",
            StepKind::Matching,
            Status::Success,
            format!("Retrieved '{target_upn}' from {TARGET_SYSTEM}"),
            details([("id", id.to_owned())]),
        )
    };
    let (action, status, target_id, error, matching, export, modified) = match outcome {
        Outcome::Created { id, modified } => (
            Action::Create,
            Status::Success,
            Some(id.clone()),
            None,
            no_match,
            step(
                "EntryExportAdd",
                StepKind::Export,
                Status::Success,
                format!("User '{upn}' was created in {TARGET_SYSTEM}"),
                details([("ReportableIdentifier", upn.clone())]),
            ),
            modified.clone(),
        ),
        Outcome::Updated {
            id,
            upn: t,
            modified,
        } => (
            Action::Update,
            Status::Success,
            Some(id.clone()),
            None,
            matched(id, t),
            step(
                "EntryExportUpdate",
                StepKind::Export,
                Status::Success,
                format!("User '{upn}' was updated in {TARGET_SYSTEM}"),
                details([("ReportableIdentifier", upn.clone())]),
            ),
            modified.clone(),
        ),
        Outcome::Unchanged { id, upn: t } => (
            Action::Other,
            Status::Skipped,
            Some(id.clone()),
            None,
            matched(id, t),
            step(
                "EntrySynchronizationSkip",
                StepKind::Export,
                Status::Skipped,
                format!(
                    "The state of the user in both the source and target systems already match. No change to the User '{upn}' currently needs to be made."
                ),
                details([("SkipReason", "RedundantExport".to_owned())]),
            ),
            Vec::new(),
        ),
        Outcome::Escrowed(why) => (
            Action::Create,
            Status::Failure,
            None,
            Some(("EntryLevelError".to_owned(), why.clone())),
            no_match,
            step(
                "EntryExportAdd",
                StepKind::Export,
                Status::Failure,
                format!("Failed to create User '{upn}' in {TARGET_SYSTEM}"),
                details([("ReportableIdentifier", upn.clone())]),
            ),
            Vec::new(),
        ),
    };
    Report {
        action,
        status,
        subject: subject(u),
        target_id,
        error,
        steps: vec![
            import_step(u, how, c.assigned),
            scoping_step(u, c).0,
            matching,
            export,
        ],
        modified,
    }
}
