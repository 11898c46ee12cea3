//! One tenant's membership: in the organization, joined, with the role the spec gives it.

use mtoctl_model::desired::TenantSpec;
use mtoctl_model::observed::{MemberRole, MemberState, ObservedState, ProcessingStatus};
use mtoctl_model::spec::document::Role;

use super::{Health, OwnerView, TenantStatus};

/// One tenant's membership, as the owner's member list and its own view show it.
pub(super) fn tenant_status(
    tenant: &TenantSpec,
    observed: &ObservedState,
    owner: Option<&OwnerView>,
) -> TenantStatus {
    let expected = match tenant.role {
        Role::Owner => MemberRole::Owner,
        Role::Member => MemberRole::Member,
    };
    let mut status = TenantStatus {
        alias: tenant.alias.clone(),
        tenant_id: tenant.tenant_id.to_string(),
        state: None,
        role: None,
        expected_role: role_name(expected).to_owned(),
        health: Health::Healthy,
        findings: Vec::new(),
    };
    let Some(owner) = owner else {
        status.health = Health::Broken;
        status.findings.push(
            "no owner tenant of the spec has a multitenant organization; run `mtoctl apply`".into(),
        );
        return status;
    };
    let Some(member) = owner
        .members
        .iter()
        .find(|m| m.tenant_id == tenant.tenant_id)
    else {
        status.health = Health::Broken;
        status
            .findings
            .push("not in the organization; run `mtoctl apply` to add it".into());
        return status;
    };
    status.state = Some(known_text(&member.state, member_state_name));
    status.role = Some(known_text(&member.role, role_name));
    let own = observed.tenants.get(&tenant.alias);
    if member.state.is(&MemberState::Pending) {
        let join = own.and_then(|o| o.join_request.transition.as_ref());
        match join.and_then(|j| j.status.as_ref()) {
            Some(s) if s.is(&ProcessingStatus::Failed) => {
                status.health = Health::Broken;
                let why = join
                    .and_then(|j| j.details.clone())
                    .unwrap_or_else(|| "no reason given".into());
                status.findings.push(format!(
                    "its join failed ({why}); run `mtoctl apply` to submit it again"
                ));
            }
            Some(_) => {
                status.health = Health::Waiting;
                status.findings.push(
                    "join submitted; Graph is processing it (it can take up to 2 hours)".into(),
                );
            }
            None => {
                status.health = Health::Broken;
                status.findings.push(
                    "added by the owner but has not joined; run `mtoctl apply` (it joins from the tenant's side)"
                        .into(),
                );
            }
        }
    } else if member.state.is(&MemberState::Removed) {
        status.health = Health::Broken;
        status
            .findings
            .push("being removed from the organization".into());
    }
    if !member.role.is(&expected) {
        let changing = member
            .transition
            .as_ref()
            .and_then(|t| t.desired_role.as_ref())
            .is_some_and(|r| r.is(&expected));
        let (health, finding) = if changing {
            (
                Health::Waiting,
                format!(
                    "its role is changing to {}; Graph is processing it",
                    role_name(expected)
                ),
            )
        } else {
            (
                Health::Broken,
                format!(
                    "its role is {}, the spec says {}; run `mtoctl apply`",
                    known_text(&member.role, role_name),
                    role_name(expected)
                ),
            )
        };
        status.health = status.health.max(health);
        status.findings.push(finding);
    }
    status
}

fn role_name(role: MemberRole) -> &'static str {
    match role {
        MemberRole::Owner => "owner",
        MemberRole::Member => "member",
    }
}

fn member_state_name(state: MemberState) -> &'static str {
    match state {
        MemberState::Pending => "pending",
        MemberState::Active => "active",
        MemberState::Removed => "removed",
    }
}

fn known_text<T: Copy>(
    value: &mtoctl_model::observed::Known<T>,
    name: impl Fn(T) -> &'static str,
) -> String {
    match value {
        mtoctl_model::observed::Known::Known(v) => name(*v).to_owned(),
        mtoctl_model::observed::Known::Unknown(s) => s.clone(),
    }
}
