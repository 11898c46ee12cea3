//! The multitenant organization, its members and the acting tenant's join request (§1–§3).

use mtoctl_model::ids::TenantId;
use mtoctl_model::observed::{
    JoinRequestObservation, Known, MemberObservation, MemberRole, MtoState, OrganizationObservation,
};
use serde::Deserialize;
use serde_json::Value;

use super::{Made, ObjectError, delete, failed, find, list, send};
use crate::transport::GraphClient;
use crate::wire::{known_opt, mto, observe, reads, writes};

const READ: &str = "read the multitenant organization";
const READ_MEMBERS: &str = "read the organization's members";
const READ_JOIN: &str = "read the join request";

/// The tenant's organization (its own fields; members are read with [`member`]); `None` when
/// Graph has none to show.
pub async fn organization(
    c: &GraphClient,
    t: &str,
) -> Result<Option<OrganizationObservation>, ObjectError> {
    Ok(find(c, t, &reads::get_organization(), READ)
        .await?
        .as_ref()
        .and_then(observe::organization))
}

/// Whether an organization answer shows one: it has an id and is not `inactive` (§1.2: a
/// tenant without one still answers 200, with nulls).
fn exists(body: &Value) -> bool {
    mto::MultiTenantOrganization::deserialize(body).is_ok_and(|o| {
        o.id.is_some()
            && !matches!(
                known_opt(o.state.as_deref()),
                Some(Known::Known(MtoState::Inactive))
            )
    })
}

async fn has_organization(c: &GraphClient, t: &str) -> Result<bool, ObjectError> {
    Ok(find(c, t, &reads::get_organization(), READ)
        .await?
        .is_some_and(|body| exists(&body)))
}

/// Creates the organization, or adopts the one the tenant has: a tenant has at most one, and
/// Graph refuses a second PUT (an earlier attempt whose answer was lost may have made it).
pub async fn create(
    c: &GraphClient,
    t: &str,
    display_name: &str,
    description: Option<&str>,
) -> Result<Made<()>, ObjectError> {
    if has_organization(c, t).await? {
        return Ok(Made::Adopted(()));
    }
    match c
        .send(t, &writes::create_organization(display_name, description))
        .await
    {
        Ok(_) => Ok(Made::Created(())),
        Err(_) if has_organization(c, t).await? => Ok(Made::Adopted(())),
        Err(e) => Err(failed("create the multitenant organization")(e)),
    }
}

/// Sets the organization's display name and description (`None`: left as they are).
pub async fn update(
    c: &GraphClient,
    t: &str,
    display_name: Option<&str>,
    description: Option<&str>,
) -> Result<(), ObjectError> {
    let patch = writes::update_organization(display_name, description);
    send(c, t, &patch, "update the multitenant organization").await?;
    Ok(())
}

/// The member with this tenant id, as the list of members shows it (existence checks read the
/// list: a 404 under a path made moments ago reads as replication lag).
pub async fn member(
    c: &GraphClient,
    t: &str,
    tenant_id: &TenantId,
) -> Result<Option<MemberObservation>, ObjectError> {
    let items = list(c, t, &reads::list_members(), READ_MEMBERS).await?;
    Ok(observe::member(&items, tenant_id))
}

/// Adds a tenant to the organization, or adopts its membership: Graph refuses to add a tenant
/// that is pending or active ("Tenant is already being added").
pub async fn add_member(
    c: &GraphClient,
    t: &str,
    tenant_id: &TenantId,
    display_name: &str,
    role: MemberRole,
) -> Result<Made<()>, ObjectError> {
    if member(c, t, tenant_id).await?.is_some() {
        return Ok(Made::Adopted(()));
    }
    match c
        .send(t, &writes::add_member(tenant_id, display_name, role))
        .await
    {
        Ok(_) => Ok(Made::Created(())),
        Err(e) => match member(c, t, tenant_id).await? {
            Some(_) => Ok(Made::Adopted(())),
            None => Err(failed("add the member")(e)),
        },
    }
}

/// Asks for a member's role to change. Graph changes it later (§2.5); a refused request is
/// adopted when the member has the role or is on its way to it (an earlier attempt whose
/// answer was lost queued it).
pub async fn change_role(
    c: &GraphClient,
    t: &str,
    tenant_id: &TenantId,
    role: MemberRole,
) -> Result<Made<()>, ObjectError> {
    let Err(e) = c
        .send(t, &writes::change_member_role(tenant_id, role))
        .await
    else {
        return Ok(Made::Created(()));
    };
    let has_or_gets = |m: &MemberObservation| {
        m.role.is(&role)
            || m.transition
                .as_ref()
                .and_then(|x| x.desired_role.as_ref())
                .is_some_and(|r| r.is(&role))
    };
    match member(c, t, tenant_id).await? {
        Some(m) if has_or_gets(&m) => Ok(Made::Adopted(())),
        _ => Err(failed("change the member's role")(e)),
    }
}

/// Removes a member (or, in its own tenant, leaves); Graph carries it out later (§2.6).
pub async fn remove_member(
    c: &GraphClient,
    t: &str,
    tenant_id: &TenantId,
) -> Result<(), ObjectError> {
    let remove = writes::remove_member(tenant_id);
    delete(c, t, &remove, "remove the member").await
}

/// The acting tenant's join request record; `None` when Graph shows none.
pub async fn join_request(
    c: &GraphClient,
    t: &str,
) -> Result<Option<JoinRequestObservation>, ObjectError> {
    Ok(find(c, t, &reads::get_join_request(), READ_JOIN)
        .await?
        .as_ref()
        .and_then(observe::join_request))
}

/// The acting tenant's join request record, for a wait: every tenant has one (§3.2), so a
/// 404 is an error; `None` when the answer cannot be read.
pub async fn own_join(
    c: &GraphClient,
    t: &str,
) -> Result<Option<JoinRequestObservation>, ObjectError> {
    let body = send(c, t, &reads::get_join_request(), READ_JOIN)
        .await?
        .body;
    Ok(observe::join_request(&body))
}

/// Asks to join the organization of `owner_tenant_id`, which added this tenant (§3.3).
pub async fn submit_join(
    c: &GraphClient,
    t: &str,
    owner_tenant_id: &TenantId,
) -> Result<(), ObjectError> {
    let join = writes::submit_join(owner_tenant_id);
    send(c, t, &join, "submit the join request").await?;
    Ok(())
}

/// Resets a failed join request, so that it can be submitted again (§3.3).
pub async fn reset_join(c: &GraphClient, t: &str) -> Result<(), ObjectError> {
    send(c, t, &writes::reset_join(), "reset the join request").await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_organization_exists_with_an_id_unless_inactive() {
        assert!(exists(&json!({"id": "o", "state": "active"})));
        assert!(exists(&json!({"id": "o"})));
        assert!(!exists(&json!({"id": "o", "state": "inactive"})));
        assert!(!exists(&json!({"displayName": null, "state": "inactive"})));
        assert!(!exists(&json!({"id": null, "state": "active"})));
    }
}
