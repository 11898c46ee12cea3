//! The `User` and `Group` objects of the Azure2Azure schema's two directories (`Azure Active
//! Directory` and `Azure Active Directory (target tenant)`): the attributes a mapping may read and
//! write, named as the provisioning service names them.
//!
//! `Group` (group synchronization) lists `description`, `displayName`, `mailNickname` and
//! `members`: assumed, as no page lists the group object of a cross-tenant schema; they are the
//! attributes of the default group mapping the emulator assumes (docs/emulator.md, "Group
//! synchronization").
//!
//! No Microsoft page lists the whole attribute list of a cross-tenant synchronization schema;
//! this one is the union of what the docs show (docs/emulator.md, "Attribute mappings"):
//!
//! - the attributes the emulator always listed: those of the default attribute mappings
//!   (`accountEnabled`, `alternativeSecurityIds`, `department`, `displayName`, `givenName`,
//!   `IsSoftDeleted`, `jobTitle`, `mailNickname`, `manager`, `surname`, `userPrincipalName`,
//!   `showInAddressList`, `userType`), `netId` (the argument of `AltSecIdFromNetId`) and `mail`;
//! - the test object of the Graph reference's `parseExpression` example (an Entra user as the
//!   provisioning service reads it): `objectId`, `streetAddress`, `city`, `state`, `postalCode`,
//!   `country`, `extensionAttribute1`–`15`, `mobile`, `onPremisesSecurityIdentifier`,
//!   `passwordProfile.password`, `physicalDeliveryOfficeName`, `preferredLanguage`,
//!   `proxyAddresses`, `telephoneNumber`, `appRoleAssignments`;
//! - the cross-tenant how-to's screenshot of the default attribute mappings
//!   (`cross-tenant-synchronization-configure`, step 9): `employeeId`;
//! - assumed (v1.0 `user` properties the emulator's users hold; no page shows them in a
//!   provisioning schema): `companyName`, `employeeType`, `usageLocation`.

use serde_json::{Value, json};

/// The attributes of the `User` object, in the order a schema lists them.
pub const USER_ATTRIBUTES: &[&str] = &[
    "accountEnabled",
    "alternativeSecurityIds",
    "appRoleAssignments",
    "city",
    "companyName",
    "country",
    "department",
    "displayName",
    "employeeId",
    "employeeType",
    "extensionAttribute1",
    "extensionAttribute2",
    "extensionAttribute3",
    "extensionAttribute4",
    "extensionAttribute5",
    "extensionAttribute6",
    "extensionAttribute7",
    "extensionAttribute8",
    "extensionAttribute9",
    "extensionAttribute10",
    "extensionAttribute11",
    "extensionAttribute12",
    "extensionAttribute13",
    "extensionAttribute14",
    "extensionAttribute15",
    "givenName",
    "IsSoftDeleted",
    "jobTitle",
    "mail",
    "mailNickname",
    "manager",
    "mobile",
    "netId",
    "objectId",
    "onPremisesSecurityIdentifier",
    "passwordProfile.password",
    "physicalDeliveryOfficeName",
    "postalCode",
    "preferredLanguage",
    "proxyAddresses",
    "showInAddressList",
    "state",
    "streetAddress",
    "surname",
    "telephoneNumber",
    "usageLocation",
    "userPrincipalName",
    "userType",
];

/// The attributes of the `Group` object (assumed, see the module's documentation).
pub const GROUP_ATTRIBUTES: &[&str] = &["description", "displayName", "mailNickname", "members"];

/// Boolean attributes (every other one is a string).
const BOOLEAN: &[&str] = &["accountEnabled", "IsSoftDeleted", "showInAddressList"];

/// Multi-valued attributes.
const MULTIVALUED: &[&str] = &[
    "alternativeSecurityIds",
    "appRoleAssignments",
    "proxyAddresses",
];

/// One attribute definition (`attributeDefinition`), shaped as the emulator always gave them.
fn definition(name: &str) -> Value {
    json!({
        "name": name,
        "type": if BOOLEAN.contains(&name) { "Boolean" } else { "String" },
        "multivalued": MULTIVALUED.contains(&name),
        "mutability": "ReadWrite",
        "anchor": name == "netId",
        "caseExact": false,
        "flowNullValues": false,
        "required": false
    })
}

/// One attribute definition of the `Group` object: `members` a multi-valued reference to users
/// (`attributeType` `Reference`, `referencedObjects`), the others strings.
fn group_definition(name: &str) -> Value {
    let mut d = definition(name);
    if name == "members" {
        d["type"] = json!("Reference");
        d["multivalued"] = json!(true);
        d["referencedObjects"] =
            json!([{"referencedObjectName": "User", "referencedProperty": null}]);
    }
    d
}

/// A directory of the Azure2Azure schema (`directoryDefinition`) with its `User` and `Group`
/// objects.
pub fn directory(id: &str, name: &str) -> Value {
    let attrs: Vec<Value> = USER_ATTRIBUTES.iter().map(|a| definition(a)).collect();
    let group: Vec<Value> = GROUP_ATTRIBUTES
        .iter()
        .map(|a| group_definition(a))
        .collect();
    json!({
        "id": id,
        "name": name,
        "version": "2025-01-01",
        "discoveryDateTime": null,
        "discoverabilities": "None",
        "readOnly": true,
        "objects": [
            {"name": "User", "attributes": attrs, "supportedApis": [], "metadata": []},
            {"name": "Group", "attributes": group, "supportedApis": [], "metadata": []}
        ]
    })
}

/// The attribute names of `object` in the directory `directory` of `schema` (empty when the
/// schema does not define it).
pub fn object_attributes(schema: &Value, directory: &str, object: &str) -> Vec<String> {
    schema
        .get("directories")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|d| d.get("name").and_then(Value::as_str) == Some(directory))
        .flat_map(|d| {
            d.get("objects")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .filter(|o| o.get("name").and_then(Value::as_str) == Some(object))
        .flat_map(|o| {
            o.get("attributes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .filter_map(|a| a.get("name").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_directory_lists_every_attribute_once_with_its_shape() {
        let d = directory("id", "Azure Active Directory");
        let s = json!({"directories": [d]});
        let names = object_attributes(&s, "Azure Active Directory", "User");
        assert_eq!(names.len(), USER_ATTRIBUTES.len());
        let mut unique = names.clone();
        unique.sort_by_key(|n| n.to_ascii_lowercase());
        unique.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        assert_eq!(unique.len(), names.len(), "no duplicates");
        for expected in ["companyName", "employeeId", "extensionAttribute15", "netId"] {
            assert!(names.iter().any(|n| n == expected), "{expected}");
        }
        let attrs = &s["directories"][0]["objects"][0]["attributes"];
        let of = |n: &str| {
            attrs
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["name"] == n)
                .cloned()
                .unwrap()
        };
        assert_eq!(of("accountEnabled")["type"], "Boolean");
        assert_eq!(of("proxyAddresses")["multivalued"], true);
        assert_eq!(of("netId")["anchor"], true);
        assert_eq!(
            object_attributes(&s, "Azure Active Directory", "Group"),
            GROUP_ATTRIBUTES
        );
        assert!(object_attributes(&s, "Other", "User").is_empty());
    }
}
