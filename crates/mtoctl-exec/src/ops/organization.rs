//! The organization, its members, the join request, and the waits on Graph's asynchronous
//! changes of membership (join, role change, removal).

use mtoctl_graph::objects::organization as org;
use mtoctl_graph::objects::spelling;
use mtoctl_graph::transport::GraphClient;
use mtoctl_model::ids::TenantId;
use mtoctl_model::observed::{Known, MemberRole, MemberState, ProcessingStatus};
use mtoctl_model::plan::Operation;

use super::{OpError, Step, done, made};

/// Carries out an operation on the organization or its membership.
pub(super) async fn run(
    c: &GraphClient,
    t: &str,
    acting_id: &TenantId,
    op: &Operation,
) -> Result<Step, OpError> {
    Ok(match op {
        Operation::CreateOrganization {
            display_name,
            description,
        } => made(org::create(c, t, display_name, description.as_deref()).await?),
        Operation::UpdateOrganization {
            display_name,
            description,
        } => {
            org::update(c, t, display_name.as_deref(), description.as_deref()).await?;
            done()
        }
        Operation::AddMember {
            tenant_id,
            display_name,
            role,
        } => made(org::add_member(c, t, tenant_id, display_name, *role).await?),
        Operation::ChangeMemberRole { tenant_id, role } => {
            made(org::change_role(c, t, tenant_id, *role).await?)
        }
        Operation::RemoveMember { tenant_id } => {
            org::remove_member(c, t, tenant_id).await?;
            done()
        }
        Operation::ResetJoin => {
            org::reset_join(c, t).await?;
            done()
        }
        Operation::SubmitJoin { owner_tenant_id } => {
            org::submit_join(c, t, owner_tenant_id).await?;
            done()
        }
        Operation::WaitForJoin { tenant_id } => wait_for_join(c, t, acting_id, tenant_id).await?,
        Operation::WaitForRole { tenant_id, role } => wait_for_role(c, t, tenant_id, *role).await?,
        Operation::WaitForRemoval { tenant_id } => wait_for_removal(c, t, tenant_id).await?,
        _ => return Err(OpError::Misrouted(format!("{op:?}"), "the organization")),
    })
}

/// Where a change of membership stands: the state, and the status of the change in flight.
type Standing = (Option<Known<MemberState>>, Option<Known<ProcessingStatus>>);

/// A tenant's join is complete when its state is active with nothing left in flight; the
/// acting tenant reads its own join request, others read the member list.
async fn wait_for_join(
    c: &GraphClient,
    t: &str,
    acting_id: &TenantId,
    tenant_id: &TenantId,
) -> Result<Step, OpError> {
    let (state, status): Standing = if tenant_id == acting_id {
        org::own_join(c, t).await?.map_or((None, None), |j| {
            (j.member_state, j.transition.and_then(|x| x.status))
        })
    } else {
        org::member(c, t, tenant_id)
            .await?
            .map_or((None, None), |m| {
                (Some(m.state), m.transition.and_then(|x| x.status))
            })
    };
    match (&state, &status) {
        (_, Some(Known::Known(ProcessingStatus::Failed))) => {
            Err(OpError::JoinFailed(tenant_id.clone()))
        }
        (
            Some(Known::Known(MemberState::Active)),
            None | Some(Known::Known(ProcessingStatus::Succeeded)),
        ) => Ok(done()),
        _ => Ok(Step::Pending(format!(
            "waiting for the join of {tenant_id} to complete (state {})",
            state
                .as_ref()
                .map_or_else(|| "unknown".to_owned(), spelling)
        ))),
    }
}

async fn wait_for_role(
    c: &GraphClient,
    t: &str,
    tenant_id: &TenantId,
    role: MemberRole,
) -> Result<Step, OpError> {
    let Some(m) = org::member(c, t, tenant_id).await? else {
        return Err(OpError::NotAMember(tenant_id.clone()));
    };
    match m.transition.and_then(|x| x.status) {
        Some(Known::Known(ProcessingStatus::Failed)) => {
            Err(OpError::RoleChangeFailed(tenant_id.clone()))
        }
        Some(Known::Known(ProcessingStatus::NotStarted | ProcessingStatus::Running)) => Ok(
            Step::Pending(format!("waiting for the role change of {tenant_id}")),
        ),
        _ if m.role.is(&role) => Ok(done()),
        _ => Ok(Step::Pending(format!(
            "waiting for {tenant_id} to become {}",
            spelling(&Known::Known(role))
        ))),
    }
}

/// A removal is complete once the member is gone, or shows as removed with nothing in flight.
async fn wait_for_removal(c: &GraphClient, t: &str, tenant_id: &TenantId) -> Result<Step, OpError> {
    let Some(m) = org::member(c, t, tenant_id).await? else {
        return Ok(done());
    };
    match (m.state, m.transition.and_then(|x| x.status)) {
        (_, Some(Known::Known(ProcessingStatus::Failed))) => {
            Err(OpError::RemovalFailed(tenant_id.clone()))
        }
        (
            Known::Known(MemberState::Removed),
            None | Some(Known::Known(ProcessingStatus::Succeeded)),
        ) => Ok(done()),
        _ => Ok(Step::Pending(format!(
            "waiting for the removal of {tenant_id}"
        ))),
    }
}
