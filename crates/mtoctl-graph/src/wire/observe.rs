//! Single objects read back in their domain form, decoded exactly as `collect` decodes them,
//! so that the executor's fingerprint of a fresh read equals the planner's of the same
//! object. `None` when the object is absent (or not decodable, which `collect` also drops).

use mtoctl_model::ids::TenantId;
use mtoctl_model::observed::{
    AssignmentObservation, JoinRequestObservation, MemberObservation, OrganizationObservation,
    PartnerObservation, SyncConfigurationObservation, SyncJobObservation,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::wire::{mto, policy, sync};

fn decode<T: DeserializeOwned>(value: &Value) -> Option<T> {
    T::deserialize(value).ok()
}

/// The organization's own fields from a [`super::reads::get_organization`] answer (members
/// are read separately and not included).
pub fn organization(body: &Value) -> Option<OrganizationObservation> {
    let org: mto::MultiTenantOrganization = decode(body)?;
    Some(org.observe(Vec::new()))
}

/// One item of [`super::reads::list_members`]; `None` when it is not a member with a tenant id.
pub fn member_item(item: &Value) -> Option<MemberObservation> {
    decode::<mto::Member>(item)?.observe()
}

/// The member with this tenant id among the items of [`super::reads::list_members`].
pub fn member(items: &[Value], tenant_id: &TenantId) -> Option<MemberObservation> {
    items
        .iter()
        .filter_map(member_item)
        .find(|m| &m.tenant_id == tenant_id)
}

/// A [`super::reads::get_join_request`] answer.
pub fn join_request(body: &Value) -> Option<JoinRequestObservation> {
    let jr: mto::JoinRequest = decode(body)?;
    Some(jr.observe())
}

/// The partner with this tenant id among the items of [`super::reads::list_partners`], with
/// its identity sync policy.
pub fn partner(items: &[Value], tenant_id: &TenantId) -> Option<PartnerObservation> {
    items
        .iter()
        .filter_map(|i| decode::<policy::Partner>(i)?.observe())
        .find(|p| &p.tenant_id == tenant_id)
}

/// The configuration with this service principal id among the items of
/// [`super::reads::list_configurations`], without its jobs and assignments.
pub fn configuration(items: &[Value], sp: &str) -> Option<SyncConfigurationObservation> {
    items
        .iter()
        .filter_map(decode::<sync::ServicePrincipal>)
        .find(|s| s.id.eq_ignore_ascii_case(sp))
        .map(|s| SyncConfigurationObservation {
            user_app_role_id: s.user_role_id(),
            service_principal_id: s.id,
            app_id: s.app_id,
            display_name: s.display_name.unwrap_or_default(),
            details: None,
        })
}

/// A [`super::reads::get_job`] answer, with its [`super::reads::get_schema`] answer when read.
pub fn job(body: &Value, schema: Option<&Value>) -> Option<SyncJobObservation> {
    let job: sync::Job = decode(body)?;
    let schema = match schema {
        Some(s) => Some(decode::<sync::Schema>(s)?),
        None => None,
    };
    Some(job.observe(schema))
}

/// The assignment with this id among the items of [`super::reads::list_assignments`].
pub fn assignment(items: &[Value], id: &str) -> Option<AssignmentObservation> {
    items
        .iter()
        .filter_map(decode::<sync::Assignment>)
        .filter_map(sync::Assignment::observe)
        .find(|a| a.id == id)
}
