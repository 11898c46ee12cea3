//! Graph's JSON as a hostile tenant (or anyone between it and us) could send it, through every
//! decoder `collect` and the executor use: the typed wire objects of `mtoctl_graph::wire` and
//! their `observe` into the domain types, the executor's `decode_*` helpers on raw bodies, the
//! schema editor, and the `Retry-After` parser. Collections are decoded item by item as
//! `collect` does (`value` arrays). Nothing may panic; malformed input is an `Err` or `None`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mtoctl_graph::wire::{directory, mto, policy, sync, writes};
use mtoctl_model::spec::document::{FilterOperator, UserType, UserTypeApplies};
use serde_json::Value;

fn decode<T: serde::de::DeserializeOwned>(value: &Value) -> Option<T> {
    serde_json::from_value(value.clone()).ok()
}

fn everything(value: &Value) {
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
    if let Some(schema) = decode::<sync::Schema>(value) {
        if let Some(job) = decode::<sync::Job>(&serde_json::json!({"id": "j"})) {
            let _ = job.observe(Some(schema));
        }
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
    };
    if writes::edit_schema(&mut schema, &want).is_ok() {
        // An edited schema still decodes as the schema the collector reads.
        let _ = decode::<sync::Schema>(&schema);
    }
}

fuzz_target!(|bytes: &[u8]| {
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = mtoctl_graph::transport::retry::parse_retry_after(Some(text));
    }
    let Ok(value) = serde_json::from_slice::<Value>(bytes) else {
        return;
    };
    everything(&value);
    if let Some(items) = value.get("value").and_then(Value::as_array) {
        for item in items {
            everything(item);
        }
        let _ = writes::find_by_tenant_id(
            items,
            &mtoctl_model::ids::TenantId(
                mtoctl_model::ids::Guid::parse("6babcaad-604b-40ac-a9d7-9fd97c0b779f")
                    .expect("a GUID"),
            ),
        );
    }
});
