//! Every decoder of Graph's JSON on one value, for the hostile-input checks: the `graph_decode`
//! fuzz target (fuzz/) and its bounded counterpart in the suite (`tests/decode_props.rs`) call
//! this one function, so both always walk the same decoders. Not an API for anything else.

use mtoctl_model::ids::{Guid, TenantId};
use mtoctl_model::spec::document::{FilterOperator, UserType, UserTypeApplies};
use serde_json::{Value, json};

use crate::wire::{directory, mto, policy, sync, writes};

fn decode<T: serde::de::DeserializeOwned>(value: &Value) -> Option<T> {
    serde_json::from_value(value.clone()).ok()
}

/// Runs `value` through the typed wire objects and their `observe`, the executor's `decode_*`
/// helpers, the schema editor and the tenant lookup, and does the same for every item of a
/// `value` array (as `collect` reads collections). It must never panic.
pub fn decode_everything(value: &Value) {
    if let Some(o) = decode::<mto::MultiTenantOrganization>(value) {
        let members = decode::<mto::Member>(value)
            .and_then(mto::Member::observe)
            .into_iter()
            .collect();
        let _ = format!("{:?}", o.observe(members));
    }
    if let Some(j) = decode::<mto::JoinRequest>(value) {
        let _ = j.observe();
    }
    if let Some(p) = decode::<policy::Partner>(value) {
        let _ = p.observe();
    }
    if let Some(t) = decode::<policy::PartnerTemplate>(value) {
        let _ = t.observe();
    }
    if let Some(t) = decode::<policy::IdentitySyncTemplate>(value) {
        let _ = t.observe();
    }
    if let Some(s) = decode::<policy::IdentitySync>(value) {
        let _ = s.observe();
    }
    if let Some(sp) = decode::<sync::ServicePrincipal>(value) {
        let _ = sp.user_role_id();
    }
    if let Some(job) = decode::<sync::Job>(value) {
        let schema = value.get("schema").and_then(decode::<sync::Schema>);
        let _ = job.observe(schema);
    }
    if let Some(schema) = decode::<sync::Schema>(value)
        && let Some(job) = decode::<sync::Job>(&json!({"id": "j"}))
    {
        let _ = job.observe(Some(schema));
    }
    if let Some(a) = decode::<sync::Assignment>(value) {
        let _ = a.observe();
    }
    if let Some(u) = decode::<directory::User>(value) {
        let _ = u.observe();
    }
    if let Some(g) = decode::<directory::Group>(value) {
        let _ = g.observe();
    }
    let _ = writes::decode_instantiated(value);
    let _ = writes::decode_configuration(value);
    let _ = writes::decode_id(value);
    let _ = writes::decode_assignment(value);
    let _ = writes::decode_job_schedule_state(value);
    let _ = writes::decode_member_state(value);
    let _ = writes::decode_join_request(value);
    let _ = writes::decode_identity_sync_allowed(value);
    let _ = writes::has_identity_sync(value);
    let mut schema = value.clone();
    let want = writes::SchemaWrite {
        user_type: UserType::Member,
        flow: UserTypeApplies::Always,
        filter: vec![writes::FilterGroupWrite {
            name: "g".into(),
            clauses: vec![("a".into(), FilterOperator::Equals, vec!["v".into()])],
        }],
        deletes: true,
        mappings: vec![writes::MappingWrite {
            spec: mtoctl_model::desired::MappingSpec {
                target: "companyName".into(),
                source: mtoctl_model::desired::MappingSource::Constant("C".into()),
                applies: UserTypeApplies::Always,
                matching_precedence: None,
            },
            parsed: None,
        }],
        remove_mappings: vec!["jobTitle".into()],
        groups: Some(true),
    };
    let _ = writes::parsed_expression(value);
    if writes::edit_schema(&mut schema, &want).is_ok() {
        // An edited schema still decodes as the schema the collector reads.
        let _ = decode::<sync::Schema>(&schema);
    }
    if let Some(items) = value.get("value").and_then(Value::as_array) {
        for item in items {
            decode_everything(item);
        }
        if let Some(id) = Guid::parse("6babcaad-604b-40ac-a9d7-9fd97c0b779f") {
            let _ = writes::find_by_tenant_id(items, &TenantId(id));
        }
    }
}
