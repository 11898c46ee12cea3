//! JSON bodies of a transcript: every member's value replaced by what its name says it holds.
//!
//! - Secrets: a member whose name says it holds one (`secretText`, `password`, `clientSecret`,
//!   `token`, a credential's `key`, `hint`, any name with `password` or `secret` in it…) has
//!   every string under it replaced by `"[redacted]"`; numbers, booleans and the shape stay.
//!   So does the `value` of a `{"key": …, "value": …}` setting in a collection of them
//!   (`value`: a configuration's synchronization secrets; `credentials`: what
//!   `validateCredentials` tests; `secrets`), unless its key is one of [`PLAIN_SETTINGS`],
//!   which hold no secret (`CompanyId`, the target's tenant id, is then an id like any other).
//!   Elsewhere (a synchronization schema's `metadata` and `parameters`) such pairs are plain.
//! - Ids: `id` and members named `…Id` hold GUIDs or opaque ids (an app role assignment's),
//!   replaced; anything else in them is text.
//! - Personal attributes, by member name ([`member_class`]): UPNs and mail addresses, domains,
//!   names (display names, given name, surname, mail nickname, company, department, job title,
//!   phone numbers, addresses, descriptions, the old and new values of provisioning events,
//!   the values of scoping filter clauses) → their pseudonyms. The `displayName` of a
//!   provisioning event's `modifiedProperties` is an attribute's name and is kept.
//! - URLs and paths (`url` of `$batch` items, `@odata.nextLink`, `location`) → as paths are.
//! - Every other string: [`Pseudonyms::text`] (ids, mail addresses and known names in it).
//!
//! Member names compare without regard to case. What this does not do: look at headers
//! (the recorder keeps only the few that matter) or decide the pseudonyms' form.

use serde_json::{Map, Value};

use super::pseudonym::Pseudonyms;

/// What replaces a secret.
pub const REDACTED: &str = "[redacted]";

/// The keys of `{key, value}` settings whose values are no secret: the cross-tenant
/// synchronization settings mtoctl writes and the notification settings beside them.
pub const PLAIN_SETTINGS: [&str; 4] = [
    "AuthenticationType",
    "CompanyId",
    "SyncAll",
    "SyncNotificationSettings",
];

/// Members holding a secret (lowercase), besides any whose name has `password` or `secret`
/// in it.
const SECRET_MEMBERS: [&str; 17] = [
    "token",
    "accesstoken",
    "access_token",
    "refreshtoken",
    "refresh_token",
    "idtoken",
    "id_token",
    "clientassertion",
    "client_assertion",
    "assertion",
    "privatekey",
    "key",
    "hint",
    "authorization",
    "certificate",
    "appkey",
    "pfx",
];

/// Members holding a UPN or a mail address (lowercase).
const USER_MEMBERS: [&str; 7] = [
    "userprincipalname",
    "mail",
    "othermails",
    "onpremisesuserprincipalname",
    "proxyaddresses",
    "imaddresses",
    "reportableidentifier",
];

/// Members holding a domain name (lowercase).
const DOMAIN_MEMBERS: [&str; 5] = [
    "domain",
    "domainname",
    "defaultdomainname",
    "onpremisesdomainname",
    "tenantdomain",
];

/// Members holding a name or another personal attribute (lowercase).
const PERSONAL_MEMBERS: [&str; 32] = [
    "displayname",
    "givenname",
    "surname",
    "mailnickname",
    "nickname",
    "preferredname",
    "companyname",
    "department",
    "jobtitle",
    "employeeid",
    "officelocation",
    "streetaddress",
    "city",
    "postalcode",
    "country",
    "businessphones",
    "mobilephone",
    "faxnumber",
    "description",
    "aboutme",
    "principaldisplayname",
    "resourcedisplayname",
    "appdisplayname",
    "serviceprincipaldisplayname",
    "federationbrandname",
    "accountname",
    "onpremisessamaccountname",
    "onpremisesdistinguishedname",
    "securityidentifier",
    "onpremisessecurityidentifier",
    "oldvalue",
    "newvalue",
];

/// Members holding a URL or a path (lowercase).
const URL_MEMBERS: [&str; 6] = [
    "url",
    "location",
    "@odata.nextlink",
    "@odata.deltalink",
    "@odata.id",
    "@odata.editlink",
];

/// What a member's value holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    /// Nothing known: [`Pseudonyms::text`].
    Plain,
    /// A secret: redacted.
    Secret,
    /// A UPN or mail address.
    User,
    /// A domain name.
    Domain,
    /// A name or another personal attribute.
    Personal,
    /// A URL or a path.
    Url,
    /// An object id.
    Id,
}

/// The collections whose `{key, value}` items are settings that may hold secrets (lowercase).
const SETTINGS_COLLECTIONS: [&str; 3] = ["value", "credentials", "secrets"];

/// What the member `name` holds, in an object that is the value of `parent` (the member
/// whose value is the object, or the array holding it).
pub(super) fn member_class(member: &str, parent: Option<&str>) -> Class {
    let name = member.to_ascii_lowercase();
    let parent = parent.map(str::to_ascii_lowercase);
    let is = |list: &[&str]| list.contains(&name.as_str());
    if name == "displayname" && parent.as_deref() == Some("modifiedproperties") {
        // A provisioning event's changed attribute: its name, Graph's word.
        Class::Plain
    } else if is(&SECRET_MEMBERS) || name.contains("password") || name.contains("secret") {
        Class::Secret
    } else if is(&USER_MEMBERS) {
        Class::User
    } else if is(&DOMAIN_MEMBERS)
        || (name == "name" && parent.as_deref() == Some("verifieddomains"))
    {
        Class::Domain
    } else if is(&PERSONAL_MEMBERS)
        || (name == "values" && parent.as_deref() == Some("targetoperand"))
    {
        Class::Personal
    } else if is(&URL_MEMBERS) {
        Class::Url
    } else if name == "id" || (name.ends_with("id") && original_ends_with_id(member)) {
        Class::Id
    } else {
        Class::Plain
    }
}

impl Pseudonyms {
    /// A JSON body with its secrets redacted and its personal values replaced.
    pub fn body(&mut self, body: &Value) -> Value {
        self.walk(body, Class::Plain, None)
    }

    /// A string of the given class.
    pub(super) fn classed(&mut self, text: &str, class: Class) -> String {
        match class {
            Class::Secret => REDACTED.to_owned(),
            Class::User => self.upn(text),
            Class::Domain if super::pseudonym::is_domain(text) => self.domain(text),
            Class::Domain | Class::Personal => self.personal(text),
            Class::Url => self.url_or_path(text),
            Class::Id => self.identifier(text),
            Class::Plain => self.text(text),
        }
    }

    fn walk(&mut self, value: &Value, class: Class, parent: Option<&str>) -> Value {
        match value {
            Value::String(s) => Value::String(self.classed(s, class)),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| self.walk(item, class, parent))
                    .collect(),
            ),
            Value::Object(members) => Value::Object(self.object(members, class, parent)),
            other => other.clone(),
        }
    }

    fn object(
        &mut self,
        members: &Map<String, Value>,
        class: Class,
        parent: Option<&str>,
    ) -> Map<String, Value> {
        if class == Class::Secret {
            return members
                .iter()
                .map(|(k, v)| (k.clone(), self.walk(v, Class::Secret, Some(k))))
                .collect();
        }
        if let Some(key) = setting_key(members) {
            let secret = parent
                .is_some_and(|p| SETTINGS_COLLECTIONS.contains(&p.to_ascii_lowercase().as_str()))
                && !PLAIN_SETTINGS.iter().any(|p| p.eq_ignore_ascii_case(key));
            return members
                .iter()
                .map(|(k, v)| {
                    let walked = match k.as_str() {
                        "key" => v.clone(),
                        "value" if secret => self.walk(v, Class::Secret, Some(k)),
                        _ => self.walk(v, Class::Plain, Some(k)),
                    };
                    (k.clone(), walked)
                })
                .collect();
        }
        members
            .iter()
            .map(|(k, v)| {
                let class = member_class(k, parent);
                (k.clone(), self.walk(v, class, Some(k)))
            })
            .collect()
    }
}

/// Whether a member's name ends with `Id` as a word of its camelCase (`principalId`,
/// `tenantId`), not just with the letters (`valid`).
fn original_ends_with_id(member: &str) -> bool {
    member.ends_with("Id") || member.ends_with("ID")
}

/// The key of a `{"key": …, "value": …}` setting (its other members, if any, being OData
/// annotations).
fn setting_key(members: &Map<String, Value>) -> Option<&str> {
    let key = members.get("key")?.as_str()?;
    (members.contains_key("value")
        && members
            .keys()
            .all(|k| k == "key" || k == "value" || k.starts_with('@')))
    .then_some(key)
}
