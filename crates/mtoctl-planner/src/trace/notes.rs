//! The further facts noted beside a direction's verdict: a disabled account, a copy left
//! behind or of the wrong type, more than one copy, groups not checked, events not read.

use mtoctl_model::desired::SyncSpec;
use mtoctl_model::observed::SyncJobObservation;
use mtoctl_model::spec::document::{UserType, UserTypeApplies};

use super::verdict::list;
use super::{DirectionTrace, Verdict};

pub(super) fn notes(
    sync: &SyncSpec,
    job: Option<&SyncJobObservation>,
    t: &DirectionTrace,
    copies: usize,
) -> Vec<String> {
    let mut notes = Vec::new();
    let upn = &t.source.user_principal_name;
    let (from, to) = (&t.from, &t.to);
    let in_scope = matches!(
        t.verdict,
        Verdict::Provisioned | Verdict::NotProvisioned | Verdict::Failed | Verdict::Unknown
    );
    if t.source.account_enabled == Some(false) && in_scope {
        let copy = match t.target.as_ref().and_then(|c| c.account_enabled) {
            Some(true) => format!("its copy in {to} is still enabled until the next cycle"),
            _ => format!("its copy in {to} is disabled too"),
        };
        notes.push(format!(
            "{upn}'s account is disabled in {from}; cross-tenant sync copies accountEnabled, so {copy}"
        ));
    }
    if let Some(copy) = &t.target {
        let left = matches!(
            t.verdict,
            Verdict::OutOfScope | Verdict::NotAssigned | Verdict::NotConfigured
        );
        if left {
            match job.and_then(|j| j.deletes_on_leaving_scope) {
                Some(false) => notes.push(format!(
                    "a copy exists in {to} ({}); it stays, because the job does not delete users who leave its scope",
                    copy.user_principal_name
                )),
                _ if t.verdict != Verdict::NotConfigured => notes.push(format!(
                    "a copy exists in {to} ({}); the job's next cycle soft-deletes it",
                    copy.user_principal_name
                )),
                _ => notes.push(format!(
                    "a copy exists in {to} ({})",
                    copy.user_principal_name
                )),
            }
        } else {
            let want = match sync.user_type {
                UserType::Member => "Member",
                UserType::Guest => "Guest",
            };
            if let Some(kind) = copy
                .user_type
                .as_deref()
                .filter(|k| !k.eq_ignore_ascii_case(want))
            {
                let why = if sync.user_type_applies == UserTypeApplies::OnCreate {
                    " (`userTypeApplies: onCreate` leaves users that already existed as they were)"
                } else {
                    ""
                };
                notes.push(format!(
                    "the copy in {to} is a {kind}, the spec says {want}{why}"
                ));
            }
        }
    }
    if copies > 1 {
        notes.push(format!(
            "{copies} users in {to} have a UPN starting like {upn}'s copy; the first is shown"
        ));
    }
    let assigned = t.scope.direct || !t.scope.groups.is_empty();
    if assigned && !t.scope.unchecked_groups.is_empty() {
        notes.push(format!(
            "the members of {} were not all checked (too many)",
            list(&t.scope.unchecked_groups)
        ));
    }
    if let Some(e) = &t.events_error {
        notes.push(format!("the provisioning events could not be read: {e}"));
    }
    notes
}
