//! The shapes of Graph's answers the per-direction reads decode (a page, a
//! `provisioningObjectSummary`), and what an event becomes (a copy is `wire::directory`'s).

use serde::Deserialize;

use mtoctl_model::trace::ProvisioningEvent;

#[derive(Deserialize)]
pub(super) struct Page<T> {
    #[serde(default = "Vec::new")]
    pub(super) value: Vec<T>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WireEvent {
    activity_date_time: Option<String>,
    provisioning_action: Option<String>,
    provisioning_status_info: Option<StatusInfo>,
    provisioning_steps: Option<Vec<Step>>,
    target_identity: Option<WireIdentity>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusInfo {
    status: Option<String>,
    error_information: Option<ErrorInformation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorInformation {
    error_code: Option<String>,
    reason: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Step {
    name: Option<String>,
    status: Option<String>,
    description: Option<String>,
}

#[derive(Deserialize)]
struct WireIdentity {
    id: Option<String>,
}

impl WireEvent {
    pub(super) fn event(self) -> ProvisioningEvent {
        let is = |s: &Option<String>, what: &str| {
            s.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(what))
        };
        let steps = self.provisioning_steps.unwrap_or_default();
        let failed = steps.iter().find(|s| is(&s.status, "failure"));
        let skipped = steps.iter().find(|s| is(&s.status, "skipped"));
        let (status, error) = match self.provisioning_status_info {
            Some(info) => (info.status, info.error_information),
            None => (None, None),
        };
        let nonempty = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
        let reason = error
            .and_then(|e| nonempty(e.reason).or(nonempty(e.error_code)))
            .or_else(|| nonempty(failed.or(skipped).and_then(|s| s.description.clone())));
        ProvisioningEvent {
            at: self.activity_date_time,
            action: self.provisioning_action,
            status,
            reason,
            failing_step: failed.and_then(|s| s.name.clone()),
            target_id: nonempty(self.target_identity.and_then(|t| t.id)),
        }
    }
}
