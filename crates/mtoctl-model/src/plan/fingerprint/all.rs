//! The fingerprint of every object of an observed state, under the address the planner gives
//! it: what a saved plan's `observed` map is compared with when it is applied later, so that
//! the stale check needs only a fresh read and no planner.
//!
//! Addresses name spec tenants by alias and others by tenant id, sync configurations by the
//! spec's name when a sync of the spec matches them (case-insensitively) and by their display
//! name otherwise, and assignments by [`assignment_label`]. The planner's tests check that every
//! fingerprint a plan records is the one this map holds.

use std::collections::BTreeMap;

use super::{Fingerprint, ResourceAddr};
use crate::DesiredState;
use crate::ids::TenantId;
use crate::observed::{
    AssignmentObservation, MemberRole, MemberState, MtoState, ObservedState, PrincipalsObservation,
    TenantObservation,
};

/// Every observed object's fingerprint by address.
pub fn all(
    desired: &DesiredState,
    observed: &ObservedState,
) -> BTreeMap<ResourceAddr, Fingerprint> {
    let alias_of = |id: &TenantId| -> String {
        desired
            .tenants
            .iter()
            .find(|t| &t.tenant_id == id)
            .map_or_else(|| id.0.as_str().to_owned(), |t| t.alias.as_str().to_owned())
    };
    let mut out = BTreeMap::new();
    for t in &desired.tenants {
        let Some(obs) = observed.tenants.get(&t.alias) else {
            continue;
        };
        let alias = t.alias.as_str();
        out.insert(
            ResourceAddr::tenant_organization(alias),
            super::tenant_organization(&obs.organization),
        );
        out.insert(
            ResourceAddr::join_request(alias),
            super::join_request(&obs.join_request),
        );
        out.insert(
            ResourceAddr::partner_template(alias),
            super::partner_template(&obs.templates.partner),
        );
        out.insert(
            ResourceAddr::identity_sync_template(alias),
            super::identity_sync_template(&obs.templates.identity_sync),
        );
        for (id, p) in &obs.partners {
            let partner = alias_of(id);
            out.insert(ResourceAddr::partner(alias, &partner), super::partner(p));
            if let Some(policy) = &p.identity_sync {
                out.insert(
                    ResourceAddr::identity_sync(alias, &partner),
                    super::identity_sync(policy),
                );
            }
        }
        for c in &obs.sync_configurations {
            let name = desired
                .syncs
                .iter()
                .find(|s| s.from == t.alias && s.name.eq_ignore_ascii_case(&c.display_name))
                .map_or(c.display_name.as_str(), |s| s.name.as_str());
            out.insert(
                ResourceAddr::sync(alias, name),
                super::sync_configuration(c),
            );
            let Some(details) = &c.details else {
                continue;
            };
            if let [job] = details.jobs.as_slice() {
                out.insert(ResourceAddr::sync_part(alias, name, "job"), super::job(job));
                out.insert(
                    ResourceAddr::sync_part(alias, name, "schema"),
                    super::schema(job),
                );
            }
            for a in &details.assignments {
                let label = assignment_label(a, &obs.principals);
                out.insert(
                    ResourceAddr::assignment(alias, name, &label),
                    super::assignment(a),
                );
            }
        }
    }
    // The organization and its members, as the first spec tenant that is an active owner of
    // it reads them (the one the planner acts through).
    let owner = desired.tenants.iter().find_map(|t| {
        let obs = observed.tenants.get(&t.alias)?;
        is_active_owner(obs, &t.tenant_id).then_some(obs)
    });
    if let Some(owner) = owner {
        out.insert(
            ResourceAddr::organization(),
            super::organization(&owner.organization),
        );
        for m in &owner.organization.members {
            out.insert(
                ResourceAddr::member(&alias_of(&m.tenant_id)),
                super::member(m),
            );
        }
    }
    out
}

/// Whether `obs` (tenant `id`) sees itself as an active owner of an organization.
pub fn is_active_owner(obs: &TenantObservation, id: &TenantId) -> bool {
    obs.organization.state.is(&MtoState::Active)
        && obs.organization.members.iter().any(|m| {
            &m.tenant_id == id && m.role.is(&MemberRole::Owner) && m.state.is(&MemberState::Active)
        })
}

/// How an assignment's principal is named in its address (`user:bob@contoso.com`,
/// `group:Sales`): by UPN or group name when the principal was read, else by display name or id,
/// so that an assignment made and one removed name the same principal alike.
pub fn assignment_label(a: &AssignmentObservation, principals: &PrincipalsObservation) -> String {
    let is_group = a
        .principal_type
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("group"));
    let resolved = if is_group {
        principals
            .groups_by_id
            .get(&a.principal_id)
            .map(|g| g.display_name.clone())
    } else {
        principals
            .users_by_id
            .get(&a.principal_id)
            .map(|u| u.user_principal_name.to_lowercase())
    };
    let name = resolved
        .or_else(|| a.principal_display_name.clone())
        .unwrap_or_else(|| a.principal_id.to_string());
    principal_label(is_group, &name)
}

/// How plans name a principal in a scope: `group:<display name>` or `user:<name>` (callers
/// pass a user's principal name in lower case).
pub fn principal_label(is_group: bool, name: &str) -> String {
    format!("{}:{name}", if is_group { "group" } else { "user" })
}
