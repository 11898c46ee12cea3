//! Provisioning one source user into the target: match its copy (linked, or by its external
//! link), update it as the schema's mappings allow or create it, and say what changed.
//!
//! The user mapping's attribute mappings are evaluated on the source user first
//! ([`crate::schema::Mapping::evaluate`]: `Attribute`, `Constant` and `Function` sources), for
//! every target attribute the emulated user holds ([`held`]); a mapping to any other target
//! attribute is kept in the schema and has no effect. A source that cannot be evaluated (an
//! unknown function, an argument a function cannot use, a function the emulator does not
//! evaluate) fails the export of that user: an escrow, nothing written. On creation every
//! mapping applies; on an update only as its `flowType` says (`ObjectAddOnly`: never;
//! `AttributeAddOnly`: only while the target value is empty; `ValueAddOnly` and
//! `MultiValueAddOnly`: only a value, never a removal; `Always`: always).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::provisioning_log::flag;
use crate::schema::{self, eval};
use crate::state::{ExternalLink, Job, PROFILE_ATTRIBUTES, State, User};

/// A target attribute changed: (name, old value, new value).
pub type Modified = (String, Option<String>, Option<String>);

/// The target attributes a report lists when they change (and the profile attributes).
const REPORTED: &[&str] = &[
    "accountEnabled",
    "displayName",
    "givenName",
    "surname",
    "department",
    "jobTitle",
    "mail",
    "userPrincipalName",
    "userType",
    "showInAddressList",
];

fn reported_names() -> impl Iterator<Item = &'static str> {
    REPORTED.iter().chain(PROFILE_ATTRIBUTES).copied()
}

fn reported(u: Option<&User>) -> Vec<Option<String>> {
    let m = u.map(User::to_json).unwrap_or_default();
    reported_names()
        .map(|k| match m.get(k) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Bool(b)) => Some(flag(*b)),
            _ => None,
        })
        .collect()
}

fn diff(before: &[Option<String>], after: &[Option<String>]) -> Vec<Modified> {
    reported_names()
        .zip(before.iter().zip(after))
        .filter(|(_, (b, a))| b != a)
        .map(|(k, (b, a))| (k.to_owned(), b.clone(), a.clone()))
        .collect()
}

/// What provisioning one user did.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Created in the target.
    Created {
        /// The target user.
        id: String,
        /// Its attributes.
        modified: Vec<Modified>,
    },
    /// Updated (or restored) in the target.
    Updated {
        /// The target user.
        id: String,
        /// Its UPN.
        upn: String,
        /// What changed.
        modified: Vec<Modified>,
    },
    /// Already up to date.
    Unchanged {
        /// The target user.
        id: String,
        /// Its UPN.
        upn: String,
    },
    /// Could not be provisioned (escrow).
    Escrowed(String),
}

/// The target attributes the emulated user holds besides its profile attributes
/// ([`PROFILE_ATTRIBUTES`]): the ones a mapping can write.
const HELD: &[&str] = &[
    "accountEnabled",
    "department",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "showInAddressList",
    "surname",
    "userType",
];

/// The held attribute `target` names (exactly, as the schema's attribute list spells it).
pub fn held(target: &str) -> Option<&'static str> {
    HELD.iter()
        .chain(PROFILE_ATTRIBUTES)
        .find(|a| **a == target)
        .copied()
}

/// Source attributes of the provisioning schema that the emulated user holds under another
/// (v1.0 `user`) name.
const ALIASES: &[(&str, &str)] = &[
    ("objectId", "id"),
    ("physicalDeliveryOfficeName", "officeLocation"),
    ("mobile", "mobilePhone"),
    ("telephoneNumber", "businessPhones"),
];

/// The value of a source attribute (any case) of the user `source` (its JSON); `Null` when it
/// has none. A user being provisioned is never soft-deleted (`IsSoftDeleted` false).
fn source_value(source: &Map<String, Value>, name: &str) -> Value {
    if name.eq_ignore_ascii_case("IsSoftDeleted") {
        return Value::Bool(false);
    }
    let graph = ALIASES
        .iter()
        .find(|(a, _)| a.eq_ignore_ascii_case(name))
        .map_or(name, |(_, g)| g);
    source
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(graph))
        .map(|(_, v)| v.clone())
        .unwrap_or(Value::Null)
}

/// What one mapping gives a held target attribute.
struct Planned {
    value: Value,
    flow: String,
}

/// The held target attributes the user mapping gives values, evaluated on `source`; the first
/// mapping of an attribute wins. `Err`: why the export of this user fails.
fn plan(
    schema_json: &Value,
    source: &Map<String, Value>,
) -> Result<BTreeMap<&'static str, Planned>, String> {
    let lookup = |name: &str| source_value(source, name);
    let mut out = BTreeMap::new();
    for m in schema::attribute_mappings(schema_json) {
        let Some(target) = held(m.target) else {
            continue;
        };
        if out.contains_key(target) {
            continue;
        }
        let Some(value) = m.evaluate(&lookup)? else {
            continue;
        };
        if target == "userType" {
            user_type(&value)?;
        }
        out.insert(
            target,
            Planned {
                value,
                flow: m.flow.to_owned(),
            },
        );
    }
    Ok(out)
}

/// A value as text; an empty string is no value (Entra stores no empty strings).
pub(super) fn as_text(v: &Value) -> Option<String> {
    eval::text(v).filter(|t| !t.is_empty())
}

fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        _ => match eval::text(v)?.to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
    }
}

/// A `userType` value: `Member` or `Guest` (any case; `None` for no value).
fn user_type(v: &Value) -> Result<Option<String>, String> {
    let Some(t) = as_text(v) else {
        return Ok(None);
    };
    ["Member", "Guest"]
        .into_iter()
        .find(|k| k.eq_ignore_ascii_case(&t))
        .map(|k| Some(k.to_owned()))
        .ok_or_else(|| {
            format!(
                "The attribute mapping of 'userType' gives '{t}'; userType must be Member or Guest."
            )
        })
}

/// Whether a mapping with `flow` applies on an update, the target's value being `empty` or not.
pub(super) fn flows_on_update(flow: &str, empty: bool, value: &Value) -> bool {
    match flow {
        "ObjectAddOnly" => false,
        "AttributeAddOnly" => empty,
        "ValueAddOnly" | "MultiValueAddOnly" => as_text(value).is_some(),
        _ => true,
    }
}

/// Write a (planned, so valid) value of the held attribute `attr`.
fn set(u: &mut User, attr: &str, v: &Value) {
    match attr {
        // Entra requires a display name: no value leaves it as it is.
        "displayName" => {
            if let Some(t) = as_text(v) {
                u.display_name = t;
            }
        }
        "givenName" => u.given_name = as_text(v),
        "surname" => u.surname = as_text(v),
        "department" => u.department = as_text(v),
        "jobTitle" => u.job_title = as_text(v),
        "mail" => u.mail = as_text(v),
        "accountEnabled" => {
            if let Some(b) = as_bool(v) {
                u.account_enabled = b;
            }
        }
        "showInAddressList" => {
            if let Some(b) = as_bool(v) {
                u.show_in_address_list = Some(b);
            }
        }
        "userType" => {
            if let Ok(Some(t)) = user_type(v) {
                u.user_type = t;
            }
        }
        profile => match as_text(v) {
            Some(t) => {
                u.profile.insert(profile.to_owned(), t);
            }
            None => {
                u.profile.remove(profile);
            }
        },
    }
}

/// Whether `u` has no value for the held attribute `attr`.
fn is_empty(u: &User, attr: &str) -> bool {
    match attr {
        "showInAddressList" => u.show_in_address_list.is_none(),
        "accountEnabled" | "userType" | "displayName" => false,
        "givenName" => u.given_name.is_none(),
        "surname" => u.surname.is_none(),
        "department" => u.department.is_none(),
        "jobTitle" => u.job_title.is_none(),
        "mail" => u.mail.is_none(),
        profile => !u.profile.contains_key(profile),
    }
}

/// Provision one source user into `target`, tracked by `job`.
pub fn provision_user(
    state: &mut State,
    source: &str,
    target: &str,
    job: &mut Job,
    user: &User,
    at: i64,
) -> Outcome {
    let link = ExternalLink {
        source_tenant_id: source.to_owned(),
        source_user_id: user.id.clone(),
    };
    let new_id = state.rng.guid();
    let Some(tt) = state.tenants.get_mut(target) else {
        return Outcome::Escrowed("target tenant not found".into());
    };
    let linked = job
        .provisioned
        .get(&user.id)
        .and_then(|tid| tt.users.iter().position(|u| &u.id == tid));
    if let Some(i) = linked
        && tt.users[i].deleted_ms.is_some()
    {
        // Deleted in the target, not by this job: sync does not restore it
        // (cross-tenant-synchronization-configure, "Recently deleted user in the target
        // tenant is not restored").
        return Outcome::Escrowed(format!(
            "The User '{}' is soft-deleted in the target tenant; restore it there.",
            tt.users[i].user_principal_name
        ));
    }
    let existing = linked.or_else(|| {
        tt.users
            .iter()
            .position(|u| u.external.as_ref() == Some(&link))
    });
    let planned = match plan(&job.schema, &user.to_json()) {
        Ok(p) => p,
        Err(why) => return Outcome::Escrowed(why),
    };
    if let Some(i) = existing {
        let may_update = schema::allows(&job.schema, "Update");
        let tu = &mut tt.users[i];
        let before = serde_json::to_value(&*tu).unwrap_or(Value::Null);
        let reported_before = reported(Some(tu));
        if may_update {
            for (attr, p) in &planned {
                if flows_on_update(&p.flow, is_empty(tu, attr), &p.value) {
                    set(tu, attr, &p.value);
                }
            }
            // Without a mapping of `mail`, the source's address (docs/emulator.md).
            if !planned.contains_key("mail") {
                tu.mail = user.mail.clone();
            }
        }
        // A user back in scope is restored from the soft-deleted state.
        tu.deleted_ms = None;
        let (id, upn) = (tu.id.clone(), tu.user_principal_name.clone());
        job.provisioned.insert(user.id.clone(), id.clone());
        let after = serde_json::to_value(&*tu).unwrap_or(Value::Null);
        if before == after {
            return Outcome::Unchanged { id, upn };
        }
        let modified = diff(&reported_before, &reported(Some(tu)));
        let seq = tt.next_seq();
        tt.users[i].changed_seq = seq;
        return Outcome::Updated { id, upn, modified };
    }
    if !schema::allows(&job.schema, "Add") {
        return Outcome::Escrowed("the user mapping does not allow Add".into());
    }
    let (local, domain) = user
        .user_principal_name
        .split_once('@')
        .unwrap_or((&user.user_principal_name, ""));
    let upn = format!("{local}_{domain}#EXT#@{}", tt.domain);
    if tt
        .users
        .iter()
        .any(|u| u.user_principal_name.eq_ignore_ascii_case(&upn))
    {
        return Outcome::Escrowed(format!(
            "userPrincipalName {upn} is already taken in the target"
        ));
    }
    let seq = tt.next_seq();
    // What a mapping does not give: the source's display name, mail and sign-in state; a
    // Member; hidden from the address list (user resource: "For users invited through the
    // invitation manager, this property will be set to false").
    let mut created = User {
        changed_seq: seq,
        id: new_id.clone(),
        user_principal_name: upn,
        display_name: user.display_name.clone(),
        given_name: None,
        surname: None,
        mail: user.mail.clone(),
        department: None,
        job_title: None,
        user_type: "Member".into(),
        account_enabled: user.account_enabled,
        show_in_address_list: Some(false),
        created_ms: at,
        deleted_ms: None,
        external: Some(link),
        identities: None,
        profile: Default::default(),
    };
    for (attr, p) in &planned {
        set(&mut created, attr, &p.value);
    }
    let modified = diff(&reported(None), &reported(Some(&created)));
    tt.users.push(created);
    job.provisioned.insert(user.id.clone(), new_id.clone());
    Outcome::Created {
        id: new_id,
        modified,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema_with(mappings: Value) -> Value {
        let mut s = schema::default_schema("job");
        s["synchronizationRules"][0]["objectMappings"][0]["attributeMappings"] = mappings;
        s
    }

    fn source() -> Map<String, Value> {
        json!({"givenName": "Ada", "surname": "Byron", "officeLocation": "Building 7",
               "businessPhones": ["+1 555 0100"], "id": "src-id", "department": null})
        .as_object()
        .cloned()
        .unwrap()
    }

    #[test]
    fn flow_types_on_update() {
        let v = json!("x");
        assert!(flows_on_update("Always", false, &v));
        assert!(!flows_on_update("ObjectAddOnly", true, &v));
        assert!(flows_on_update("AttributeAddOnly", true, &v));
        assert!(!flows_on_update("AttributeAddOnly", false, &v));
        assert!(flows_on_update("ValueAddOnly", false, &v));
        assert!(!flows_on_update("ValueAddOnly", false, &Value::Null));
        assert!(!flows_on_update("MultiValueAddOnly", false, &json!("")));
    }

    /// Held targets only, first mapping wins, `defaultValue` for a null, the provisioning
    /// schema's names of the user's v1.0 properties, `IgnoreFlowIfNullOrEmpty` drops.
    #[test]
    fn the_plan_of_a_source_user() {
        let s = schema_with(json!([
            {"targetAttributeName": "jobTitle", "source": {"type": "Attribute", "name": "physicalDeliveryOfficeName"}},
            {"targetAttributeName": "jobTitle", "source": {"type": "Constant", "name": "second"}},
            {"targetAttributeName": "department", "defaultValue": "None given", "source": {"type": "Attribute", "name": "department"}},
            {"targetAttributeName": "companyName", "source": {"type": "Attribute", "name": "telephoneNumber"}},
            {"targetAttributeName": "employeeId", "source": {"type": "Attribute", "name": "objectId"}},
            {"targetAttributeName": "city", "source": {"type": "Function", "expression": "IgnoreFlowIfNullOrEmpty([city])"}},
            {"targetAttributeName": "extensionAttribute1", "source": {"type": "Function", "expression": "Frobnicate()"}},
            {"targetAttributeName": "preferredLanguage", "source": {"type": "Constant", "name": "en"}}
        ]));
        let p = plan(&s, &source()).unwrap();
        let got: Vec<(&str, Value)> = p.iter().map(|(k, v)| (*k, v.value.clone())).collect();
        assert_eq!(
            got,
            [
                ("companyName", json!(["+1 555 0100"])),
                ("department", json!("None given")),
                ("employeeId", json!("src-id")),
                ("jobTitle", json!("Building 7")),
            ]
        );
        assert_eq!(p["jobTitle"].flow, "Always", "the documented default");
        let mut u = User {
            id: "t".into(),
            user_principal_name: "t@x".into(),
            display_name: "T".into(),
            given_name: None,
            surname: None,
            mail: None,
            department: None,
            job_title: None,
            user_type: "Member".into(),
            account_enabled: true,
            show_in_address_list: None,
            created_ms: 0,
            deleted_ms: None,
            external: None,
            changed_seq: 0,
            identities: None,
            profile: Default::default(),
        };
        for (attr, planned) in &p {
            set(&mut u, attr, &planned.value);
        }
        assert_eq!(
            u.profile.get("companyName").map(String::as_str),
            Some("+1 555 0100")
        );
        assert!(!is_empty(&u, "employeeId") && is_empty(&u, "city"));
        set(&mut u, "companyName", &json!(""));
        assert!(is_empty(&u, "companyName"), "an empty string is no value");
        set(&mut u, "displayName", &Value::Null);
        assert_eq!(u.display_name, "T", "a display name is never cleared");
    }

    #[test]
    fn a_user_type_other_than_member_or_guest_fails_the_export() {
        let s = schema_with(json!([
            {"targetAttributeName": "userType", "source": {"type": "Attribute", "name": "givenName"}}
        ]));
        let why = plan(&s, &source()).err().unwrap();
        assert!(
            why.contains("Member or Guest") && why.contains("'Ada'"),
            "{why}"
        );
        let s = schema_with(json!([
            {"targetAttributeName": "userType", "source": {"type": "Constant", "name": "guest"}}
        ]));
        assert_eq!(
            user_type(&plan(&s, &source()).unwrap()["userType"].value),
            Ok(Some("Guest".into()))
        );
    }
}
