//! The spec language's JSON Schema, and the structural check of a document against it.
//!
//! The schema is generated from the types in [`super::document`] and is the one description of
//! the language's shape: `mtoctl schema` prints it for editors (yaml-language-server reads
//! draft-07), and [`check`] walks a parsed document against it to report every unknown field,
//! wrong type, missing field and invalid value at once, each at its place in the file. The walk
//! supports the subset of JSON Schema that schemars emits for those types.
//!
//! Here: the schema and the check's entry points; `walker` walks a document against the
//! schema, `findings` words what it finds.

mod findings;
mod walker;

use std::sync::OnceLock;

use serde_json::Value as Json;

use super::diagnostic::Diagnostic;
use super::document::SpecDocument;
use super::node::{Node, Path};
use walker::Walker;

/// The JSON Schema (draft-07) of the spec language.
pub fn json_schema() -> &'static Json {
    static SCHEMA: OnceLock<Json> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let generator = schemars::generate::SchemaSettings::draft07().into_generator();
        let mut schema = generator.into_root_schema_for::<SpecDocument>().to_value();
        if let Some(obj) = schema.as_object_mut() {
            obj.insert(
                "$id".into(),
                Json::String("https://mtoctl.dev/schema/v1alpha1/mtoctl.schema.json".into()),
            );
        }
        schema
    })
}

/// The schema as pretty-printed JSON with a trailing newline (the committed file's form).
pub fn json_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(json_schema()).unwrap_or_default();
    text.push('\n');
    text
}

/// Checks a document's structure against the schema. Paths in `skip` (and everything below
/// them) are not checked, because another check has already reported them better.
pub fn check(root: &Node, skip: &[Path]) -> Vec<Diagnostic> {
    walk(root, skip).findings
}

/// What the structural check found, and how to read the rest of the document anyway.
#[derive(Debug, Default)]
pub(crate) struct Structure {
    /// Every structural finding.
    pub findings: Vec<Diagnostic>,
    /// Values the typed reader needs but the document lacks or has wrong: a required field
    /// missing or of the wrong type, a list item of the wrong type. Each gets a neutral value
    /// of the right type (an empty string, list or mapping), so that the rest of its element
    /// is still checked; findings about the stand-in itself are muted (it was reported).
    pub stand_ins: Vec<(Path, Json)>,
}

/// [`check`], with the stand-ins that let the semantic rules read past each finding.
pub(crate) fn walk(root: &Node, skip: &[Path]) -> Structure {
    let schema = json_schema();
    let walker = Walker { root: schema, skip };
    if skip.iter().any(|s| Path::root().starts_with(s)) {
        return Structure::default();
    }
    walker.errors(root, schema, &Path::root(), None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::yaml;

    fn findings(text: &str) -> Vec<Diagnostic> {
        check(&yaml::parse(text).expect("yaml"), &[])
    }

    #[test]
    fn schema_is_draft_07_and_closed() {
        let schema = json_schema();
        assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
        assert_eq!(schema["additionalProperties"], false);
        assert!(schema["definitions"]["Tenant"]["properties"]["tenantId"].is_object());
    }

    #[test]
    fn reports_unknown_fields_with_suggestion_wrong_types_and_missing_fields_together() {
        let text = "apiVersion: mtoctl/v1alpha1\nkind: MultiTenantOrganization\n\
                    organization: {displayName: X, colour: red}\n\
                    tenants:\n  - alias: a\n    tenantID: x\n    displayName: 5\n    role: owner\n    auth: {}\n";
        let found = findings(text);
        let codes: Vec<&str> = found.iter().map(|d| d.code).collect();
        assert!(codes.contains(&"spec::unknown_field"), "{found:#?}");
        let tenant_id = found
            .iter()
            .find(|d| d.message.contains("tenantID"))
            .expect("tenantID reported");
        assert_eq!(tenant_id.help.as_deref(), Some("did you mean `tenantId`?"));
        assert!(
            found
                .iter()
                .any(|d| d.message == "missing required field `tenantId`")
        );
        assert!(
            found
                .iter()
                .any(|d| d.code == "spec::type" && d.message.contains("displayName"))
        );
        assert_eq!(found.len(), 4, "{found:#?}");
    }

    #[test]
    fn enum_values_are_checked_with_suggestions() {
        let text = "apiVersion: mtoctl/v1alpha2\nkind: MultiTenantOrganization\norganization: {displayName: X}\n\
                    tenants:\n  - {alias: a, tenantId: x, displayName: A, role: ownr, auth: {}}\n";
        let found = findings(text);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found.iter().all(|d| d.code == "spec::invalid_value"));
        assert!(
            found
                .iter()
                .any(|d| d.help.as_deref() == Some("did you mean `owner`?"))
        );
        assert!(
            found
                .iter()
                .any(|d| d.help.as_deref() == Some("did you mean `mtoctl/v1alpha1`?"))
        );
    }

    /// Issue 19: an optional enum said "must be a null" (the `null` that makes it optional)
    /// where a required one says "did you mean".
    #[test]
    fn optional_enums_are_named_like_required_ones() {
        let text = "apiVersion: mtoctl/v1alpha1\nkind: MultiTenantOrganization\norganization: {displayName: X}\n\
                    tenants: []\nsync:\n  - {from: a, to: b, userType: member, onLeavingScope: 5, scope: {}}\n";
        let found = findings(text);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert_eq!(found[0].code, "spec::invalid_value");
        assert_eq!(found[0].help.as_deref(), Some("did you mean `Member`?"));
        assert_eq!(
            found[1].message,
            "`sync[0].onLeavingScope` must be a string, found integer `5`"
        );
    }

    #[test]
    fn required_fields_reported_get_stand_ins_of_their_type() {
        let text = "apiVersion: mtoctl/v1alpha1\nkind: MultiTenantOrganization\norganization: {displayName: X}\n\
                    tenants:\n  - {alias: a, tenantId: 5, role: owner, auth: {azureCli: {}}}\n";
        let structure = walk(&yaml::parse(text).expect("yaml"), &[]);
        let tenant = Path::root().key("tenants").index(0);
        assert_eq!(
            structure.stand_ins,
            [
                (tenant.key("tenantId"), Json::String(String::new())),
                (tenant.key("displayName"), Json::String(String::new())),
            ]
        );
    }

    #[test]
    fn optional_fields_accept_null_and_errors_inside_optional_objects_are_reported() {
        let text = "apiVersion: mtoctl/v1alpha1\nkind: MultiTenantOrganization\n\
                    organization: {displayName: X, description: ~}\ntenants: []\n\
                    collaboration:\n  allPairs:\n    automaticUserConsent: {inbound: yes}\n";
        let found = findings(text);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].code, "spec::type");
        assert!(
            found[0]
                .message
                .contains("collaboration.allPairs.automaticUserConsent.inbound")
        );
    }

    #[test]
    fn a_wrong_item_among_plain_ones_is_reported_at_its_index_with_a_stand_in() {
        let text = "apiVersion: mtoctl/v1alpha1\nkind: MultiTenantOrganization\norganization: {displayName: X}\n\
                    tenants: []\nsync:\n  - {from: a, to: b, scope: {users: [a@x.io, 5, b@x.io, [c@x.io]]}}\n";
        let structure = walk(&yaml::parse(text).expect("yaml"), &[]);
        let users = Path::root().key("sync").index(0).key("scope").key("users");
        let paths: Vec<Option<&Path>> =
            structure.findings.iter().map(|d| d.path.as_ref()).collect();
        assert_eq!(
            paths,
            [Some(&users.index(1)), Some(&users.index(3))],
            "{:#?}",
            structure.findings
        );
        assert!(structure.findings.iter().all(|d| d.code == "spec::type"));
        assert_eq!(
            structure.stand_ins,
            [
                (users.index(1), Json::String(String::new())),
                (users.index(3), Json::String(String::new())),
            ]
        );
    }

    #[test]
    fn skipped_paths_are_not_reported() {
        let text = "apiVersion: mtoctl/v1alpha1\nkind: MultiTenantOrganization\norganization: {displayName: X}\n\
                    tenants:\n  - {alias: a, tenantId: x, displayName: A, auth: {clientSecret: hunter2}}\n";
        let node = yaml::parse(text).expect("yaml");
        assert_eq!(check(&node, &[]).len(), 1);
        let skip = Path::root()
            .key("tenants")
            .index(0)
            .key("auth")
            .key("clientSecret");
        assert!(check(&node, &[skip]).is_empty());
    }
}
