//! Writes: domain-level request builders with the exact paths and bodies of the wire
//! reference (docs graph-reference §1–§6), one module per kind of object.
//!
//! Inputs are model types and the small value types of these modules, never the plan's
//! operations: [`crate::objects`] turns those into these calls. PATCH bodies carry only what
//! changes, and the complex values they carry are whole (`automaticUserConsentSettings`
//! always has both members, `inboundTrust` all three).
//!
//! The GETs are in [`super::reads`] and the decoders of answers in [`super::answers`]; both
//! also answer to `wire::writes::…`, the paths the fuzzing harness and the tests use.

mod organization;
mod partners;
mod schema;
mod sync;

pub use organization::{
    add_member, change_member_role, create_organization, remove_member, reset_join, submit_join,
    update_organization,
};
pub use partners::{
    B2bWrite, ConsentWrite, PartnerSettingsWrite, RuleWrite, TrustWrite, create_identity_sync,
    create_partner, delete_identity_sync, delete_partner, patch_identity_sync,
    patch_identity_sync_template, patch_partner, patch_partner_template,
    reset_identity_sync_template, reset_partner_template,
};
pub use schema::{
    FilterGroupWrite, MappingWrite, SchemaError, SchemaWrite, edit_schema, parse_expression,
    parsed_expression, put_schema,
};
pub use sync::{
    MANAGED_SECRETS, SYNC_JOB_TEMPLATE_ID, assign, create_job, delete_application,
    delete_configuration, delete_job, delete_user, instantiate, pause_job, put_sync_secrets,
    remove_assignment, start_job, validate_credentials,
};

pub use super::answers::{
    ConfigurationIds, decode_application, decode_assignment, decode_configuration, decode_id,
    decode_identity_sync_allowed, decode_instantiated, decode_job_schedule_state,
    decode_join_request, decode_member_state, decode_sync_secrets, find_by_tenant_id,
    has_identity_sync,
};
pub use super::observe;
pub use super::reads::{
    applications_of, get_identity_sync, get_job, get_join_request, get_member, get_organization,
    get_partner, get_schema, get_sync_secrets, list_assignments, list_configurations, list_jobs,
    list_members, list_partners,
};
