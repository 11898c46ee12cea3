//! Finding the user in a source tenant: by UPN, with the attributes the jobs' scoping filters
//! name (mapped to Graph user properties); and, for a user no source tenant has, the closest UPNs.

use std::collections::BTreeMap;

use futures_util::future::join_all;
use mtoctl_model::DesiredState;
use mtoctl_model::ids::Alias;
use mtoctl_model::observed::ObservedState;
use mtoctl_model::spec::suggest::closest;
use mtoctl_model::trace::{Attribute, SourceUser};
use serde_json::Value;

use crate::collect::printable;
use crate::error::GraphError;
use crate::transport::{GraphClient, GraphRequest};
use crate::wire::{directory, encode_query_value, odata_quote};

use super::{SUGGESTIONS, configuration};

/// The source user's properties read whatever the filters name.
const USER_SELECT: [&str; 5] = [
    "id",
    "userPrincipalName",
    "displayName",
    "userType",
    "accountEnabled",
];

/// The attributes named by the scoping filters of the jobs of `alias`'s declared syncs.
pub(super) fn filter_attributes(
    desired: &DesiredState,
    observed: &ObservedState,
    alias: &Alias,
) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for sync in desired.syncs.iter().filter(|s| &s.from == alias) {
        let jobs = configuration(observed, sync)
            .and_then(|c| c.details.as_ref())
            .map(|d| d.jobs.as_slice())
            .unwrap_or_default();
        for clause in jobs
            .iter()
            .flat_map(|j| &j.scoping_filter)
            .flat_map(|g| &g.clauses)
        {
            if !names
                .iter()
                .any(|n| n.eq_ignore_ascii_case(&clause.attribute))
            {
                names.push(clause.attribute.clone());
            }
        }
    }
    names
}

/// Where a scoping filter's source attribute is on a Graph `user`: the property to select
/// and, for the on-premises extension attributes, the key inside it. `None` for attributes
/// mtoctl does not know a property for.
pub(super) fn user_property(attribute: &str) -> Option<(&'static str, Option<String>)> {
    let lower = attribute.to_ascii_lowercase();
    if let Some(n) = lower.strip_prefix("extensionattribute")
        && n.parse::<u8>().is_ok_and(|n| (1..=15).contains(&n))
    {
        return Some((
            "onPremisesExtensionAttributes",
            Some(format!("extensionAttribute{n}")),
        ));
    }
    let property = match lower.as_str() {
        "accountenabled" => "accountEnabled",
        "city" => "city",
        "companyname" => "companyName",
        "country" => "country",
        "creationtype" => "creationType",
        "department" => "department",
        "displayname" => "displayName",
        "employeeid" => "employeeId",
        "employeetype" => "employeeType",
        "givenname" => "givenName",
        "jobtitle" => "jobTitle",
        "mail" => "mail",
        "mailnickname" => "mailNickname",
        "mobile" | "mobilephone" => "mobilePhone",
        "objectid" | "id" => "id",
        "physicaldeliveryofficename" | "officelocation" => "officeLocation",
        "postalcode" => "postalCode",
        "preferredlanguage" => "preferredLanguage",
        "state" => "state",
        "streetaddress" => "streetAddress",
        "surname" => "surname",
        "usagelocation" => "usageLocation",
        "userprincipalname" => "userPrincipalName",
        "usertype" => "userType",
        _ => return None,
    };
    Some((property, None))
}

/// The user `upn` in `alias`, with `attributes`; `None` when the tenant has no such user.
pub(super) async fn find_user(
    client: &GraphClient,
    alias: &Alias,
    upn: &str,
    attributes: Vec<String>,
) -> Result<Option<SourceUser>, GraphError> {
    let mut select: Vec<&str> = USER_SELECT.to_vec();
    let wanted: Vec<(String, &'static str, Option<String>)> = attributes
        .into_iter()
        .filter_map(|a| user_property(&a).map(|(p, key)| (a.to_lowercase(), p, key)))
        .collect();
    for (_, property, _) in &wanted {
        if !select.iter().any(|s| s.eq_ignore_ascii_case(property)) {
            select.push(property);
        }
    }
    let filter = format!("userPrincipalName eq {}", odata_quote(upn));
    let request = GraphRequest::get(format!(
        "/users?$filter={}&$select={}",
        encode_query_value(&filter),
        select.join(",")
    ));
    let mut answer = client.send(alias.as_str(), &request).await?.body;
    printable(&mut answer);
    let Some(user) = answer
        .get_mut("value")
        .and_then(Value::as_array_mut)
        .and_then(|users| users.pop())
    else {
        return Ok(None);
    };
    let text = |user: &Value, key: &str| user.get(key).and_then(Value::as_str).map(str::to_owned);
    let Some(id) = text(&user, "id") else {
        return Ok(None);
    };
    let mut found = BTreeMap::new();
    for (name, property, key) in wanted {
        let Some(value) = user.get(property) else {
            continue;
        };
        let value = match (&key, value) {
            (Some(k), Value::Object(inner)) => inner.get(k).unwrap_or(&Value::Null),
            (Some(_), _) => &Value::Null,
            (None, v) => v,
        };
        if let Some(value) = Attribute::of(value) {
            found.insert(name, value);
        }
    }
    Ok(Some(SourceUser {
        tenant: alias.clone(),
        user_principal_name: text(&user, "userPrincipalName").unwrap_or_else(|| upn.to_owned()),
        display_name: text(&user, "displayName"),
        user_type: text(&user, "userType"),
        account_enabled: user.get("accountEnabled").and_then(Value::as_bool),
        id,
        attributes: found,
    }))
}

/// The users of the source tenants whose UPN starts like `upn`, closest first (hints for a
/// message: a failed look-up gives none rather than failing).
pub(super) async fn suggest(client: &GraphClient, sources: &[&Alias], upn: &str) -> Vec<String> {
    let prefix: String = upn.chars().take(3).collect();
    let request = GraphRequest::get(directory::users_starting_with(&prefix));
    let answers = join_all(sources.iter().map(|a| client.send(a.as_str(), &request))).await;
    let mut names = Vec::new();
    for answer in answers.into_iter().flatten() {
        let items = answer.body.get("value").and_then(Value::as_array).cloned();
        for item in items.into_iter().flatten() {
            if let Ok(u) = serde_json::from_value::<directory::User>(item)
                && let Some(name) = u.user_principal_name
                && !name.chars().any(char::is_control)
                && !name.to_ascii_uppercase().contains("#EXT#")
            {
                names.push(name);
            }
        }
    }
    closest(upn, names.iter().map(String::as_str), SUGGESTIONS)
        .into_iter()
        .map(str::to_owned)
        .collect()
}
