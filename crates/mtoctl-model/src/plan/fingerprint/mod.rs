//! The fingerprint of each kind of observed object: the one definition the planner records in
//! a plan (`Plan::observed`, and each action's `expected_before`) and the executor recomputes
//! from a fresh read just before it writes, so the two cannot disagree.
//!
//! Each address fingerprints its own object and nothing that has an address of its own: the
//! organization without its members, a sync configuration without its job and assignments,
//! a job without its schema (the schema is `….schema`). The one exception is a partner
//! configuration, whose fingerprint includes its identity sync policy; [`covers`] says which
//! writes can change which fingerprint.
//!
//! Pure functions over `mtoctl_model::observed` types: no I/O, and nothing about Graph's JSON
//! (turning a Graph answer into an observation is `mtoctl-graph`'s job).

use crate::observed::{
    AssignmentObservation, Fingerprint, IdentitySyncObservation, IdentitySyncTemplateObservation,
    JoinRequestObservation, Known, MemberObservation, MtoState, OrganizationObservation,
    PartnerObservation, PartnerTemplateObservation, SyncConfigurationObservation,
    SyncJobObservation,
};
use serde::Serialize;

use super::ResourceAddr;

mod all;
mod schema;

pub use all::{all, assignment_label, is_active_owner, principal_label};
pub use schema::{ClauseKey, FilterKey, MappingKey, SchemaParts, normalise_filter, source_of};

/// The organization object's own fields (`organization`, as the acting owner reads it).
#[derive(Serialize)]
struct OrganizationFields<'a> {
    state: &'a Known<MtoState>,
    display_name: &'a Option<String>,
    description: &'a Option<String>,
}

/// `organization`: its state, name and description (members have their own addresses).
pub fn organization(org: &OrganizationObservation) -> Fingerprint {
    Fingerprint::of(&OrganizationFields {
        state: &org.state,
        display_name: &org.display_name,
        description: &org.description,
    })
}

/// `tenant.<alias>.organization`: the organization as one tenant reads it, members included
/// (recorded for review; no action is guarded by it).
pub fn tenant_organization(org: &OrganizationObservation) -> Fingerprint {
    Fingerprint::of(org)
}

/// An account synchronization made in a target tenant: its id and UPN (it has no address in
/// `all`: `destroy --remove-synced-users` reads it apart, and only its action is guarded).
pub fn synced_user(id: &str, user_principal_name: &str) -> Fingerprint {
    Fingerprint::of(&(id.to_lowercase(), user_principal_name.to_lowercase()))
}

/// `organization.member[…]`: one member as the acting owner lists it.
pub fn member(m: &MemberObservation) -> Fingerprint {
    Fingerprint::of(m)
}

/// `tenant.<alias>.join_request`.
pub fn join_request(jr: &JoinRequestObservation) -> Fingerprint {
    Fingerprint::of(jr)
}

/// `tenant.<alias>.template.partner_configuration`.
pub fn partner_template(t: &PartnerTemplateObservation) -> Fingerprint {
    Fingerprint::of(t)
}

/// `tenant.<alias>.template.identity_sync`.
pub fn identity_sync_template(t: &IdentitySyncTemplateObservation) -> Fingerprint {
    Fingerprint::of(t)
}

/// `tenant.<alias>.partner[…]`, its identity sync policy included.
pub fn partner(p: &PartnerObservation) -> Fingerprint {
    Fingerprint::of(p)
}

/// `tenant.<alias>.partner[…].identity_sync`.
pub fn identity_sync(s: &IdentitySyncObservation) -> Fingerprint {
    Fingerprint::of(s)
}

#[derive(Serialize)]
struct ConfigurationFields<'a> {
    service_principal_id: &'a str,
    app_id: &'a Option<String>,
    display_name: &'a str,
    user_app_role_id: &'a Option<String>,
}

/// `tenant.<alias>.sync[…]`: the service principal's identity (its job, schema and
/// assignments have their own addresses, and `details` may not have been read).
pub fn sync_configuration(c: &SyncConfigurationObservation) -> Fingerprint {
    Fingerprint::of(&ConfigurationFields {
        service_principal_id: &c.service_principal_id,
        app_id: &c.app_id,
        display_name: &c.display_name,
        user_app_role_id: &c.user_app_role_id,
    })
}

#[derive(Serialize)]
struct JobFields<'a> {
    id: &'a str,
    template_id: &'a Option<String>,
    schedule_state: &'a Option<String>,
    status_code: &'a Option<String>,
    quarantine_reason: &'a Option<String>,
}

/// `tenant.<alias>.sync[…].job`: the job's identity and running state, not its schema (so a
/// schema update of the same plan does not invalidate the start that follows it).
pub fn job(j: &SyncJobObservation) -> Fingerprint {
    Fingerprint::of(&JobFields {
        id: &j.id,
        template_id: &j.template_id,
        schedule_state: &j.schedule_state,
        status_code: &j.status_code,
        quarantine_reason: &j.quarantine_reason,
    })
}

/// `tenant.<alias>.sync[…].schema`: the parts of the job's schema mtoctl manages, normalised
/// as the planner compares them.
pub fn schema(j: &SyncJobObservation) -> Fingerprint {
    schema_of(&SchemaParts::observed(j))
}

/// [`schema`] of a job whose parts were taken already.
pub fn schema_of(parts: &SchemaParts) -> Fingerprint {
    Fingerprint::of(parts)
}

/// `tenant.<alias>.sync[…].assignment[…]`.
pub fn assignment(a: &AssignmentObservation) -> Fingerprint {
    Fingerprint::of(a)
}

/// Whether a write to the object at `written` can change the fingerprint recorded for
/// `guarded`: the same address, or a partner's identity sync policy for the partner.
pub fn covers(guarded: &ResourceAddr, written: &ResourceAddr) -> bool {
    let (g, w) = (guarded.as_str(), written.as_str());
    g == w || (g.contains(".partner[") && g.ends_with(']') && w == format!("{g}.identity_sync"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job_obs() -> SyncJobObservation {
        serde_json::from_value(serde_json::json!({
            "id": "j1", "template_id": "Azure2Azure", "schedule_state": "Paused",
            "status_code": "NotRun", "quarantine_reason": null,
            "user_type": {"value": "Member", "flow_type": "Always"},
            "deletes_on_leaving_scope": true, "scoping_filter": []
        }))
        .expect("a job observation")
    }

    #[test]
    fn a_job_fingerprint_ignores_its_schema_and_the_schema_fingerprint_its_state() {
        let a = job_obs();
        let mut b = a.clone();
        b.deletes_on_leaving_scope = Some(false);
        assert_eq!(job(&a), job(&b));
        assert_ne!(schema(&a), schema(&b));
        let mut c = a.clone();
        c.schedule_state = Some("Active".into());
        assert_ne!(job(&a), job(&c));
        assert_eq!(schema(&a), schema(&c));
    }

    #[test]
    fn a_partner_is_covered_by_its_identity_sync_and_nothing_else() {
        let p = ResourceAddr::partner("a", "b");
        assert!(covers(&p, &p));
        assert!(covers(&p, &ResourceAddr::identity_sync("a", "b")));
        assert!(!covers(&ResourceAddr::identity_sync("a", "b"), &p));
        assert!(!covers(&p, &ResourceAddr::partner("a", "c")));
        let job = ResourceAddr::sync_part("a", "n", "job");
        assert!(!covers(&job, &ResourceAddr::sync_part("a", "n", "schema")));
        assert!(!covers(
            &ResourceAddr::organization(),
            &ResourceAddr::member("x")
        ));
    }
}
