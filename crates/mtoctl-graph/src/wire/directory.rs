//! Users and groups: name resolution with `in` filters of at most 15 values.

use mtoctl_model::health::UserIdentity;
use mtoctl_model::ids::Guid;
use mtoctl_model::observed::{GroupObservation, UserObservation};
use mtoctl_model::trace::TargetUser;
use serde::Deserialize;

use super::{encode_query_value, odata_quote};

/// Graph's limit of values in one `in` filter (without advanced queries).
pub const MAX_IN_VALUES: usize = 15;

const USER_SELECT: &str = "id,userPrincipalName,userType,displayName";
const GROUP_SELECT: &str = "id,displayName";

/// Queries resolving users by UPN, 15 per query.
pub fn users_by_upn_paths(upns: &[String]) -> Vec<String> {
    in_filter_paths("/users", "userPrincipalName", upns, USER_SELECT)
}

/// Queries resolving users by object id.
pub fn users_by_id_paths(ids: &[String]) -> Vec<String> {
    in_filter_paths("/users", "id", ids, USER_SELECT)
}

/// Queries resolving groups by display name.
pub fn groups_by_name_paths(names: &[String]) -> Vec<String> {
    in_filter_paths("/groups", "displayName", names, GROUP_SELECT)
}

/// How many names of a tenant that do not resolve get a look for similar ones (each is one
/// more request, and a spec pasted with the wrong domain could name thousands).
pub const MAX_SUGGESTION_LOOKUPS: usize = 20;

/// Users whose UPN starts with `prefix` (to suggest the one a name that did not resolve
/// meant), at most 100.
pub fn users_starting_with(prefix: &str) -> String {
    format!(
        "/users?$filter={}&$select=id,userPrincipalName&$top=100",
        encode_query_value(&format!(
            "startswith(userPrincipalName,{})",
            odata_quote(prefix)
        ))
    )
}

/// Groups whose display name starts with `prefix`, at most 100.
pub fn groups_starting_with(prefix: &str) -> String {
    format!(
        "/groups?$filter={}&$select=id,displayName&$top=100",
        encode_query_value(&format!("startswith(displayName,{})", odata_quote(prefix)))
    )
}

/// The direct members of a group, ids only, in pages as large as Graph gives (§7.2).
pub fn group_member_ids_path(group: &str) -> String {
    format!("/groups/{group}/members?$select=id&$top=999")
}

/// Groups by object id, up to [`MAX_IN_VALUES`] per request.
pub fn groups_by_id_paths(ids: &[String]) -> Vec<String> {
    in_filter_paths("/groups", "id", ids, GROUP_SELECT)
}

/// `{collection}?$filter={property} in (…)&$select={select}`, 15 values to a request.
pub fn in_filter_paths(
    collection: &str,
    property: &str,
    values: &[String],
    select: &str,
) -> Vec<String> {
    values
        .chunks(MAX_IN_VALUES)
        .map(|chunk| {
            let list: Vec<String> = chunk.iter().map(|v| odata_quote(v)).collect();
            let filter = format!("{property} in ({})", list.join(","));
            format!(
                "{collection}?$filter={}&$select={select}&$top=999",
                encode_query_value(&filter)
            )
        })
        .collect()
}

/// A user as selected.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// Object id.
    pub id: String,
    /// UPN.
    pub user_principal_name: Option<String>,
    /// `Member` / `Guest`.
    pub user_type: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
}

/// A group as selected.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// Object id.
    pub id: String,
    /// Display name.
    pub display_name: Option<String>,
}

impl User {
    /// The domain form.
    pub fn observe(self) -> Option<UserObservation> {
        Some(UserObservation {
            id: Guid::parse(&self.id)?,
            user_principal_name: self.user_principal_name.unwrap_or_default(),
            user_type: self.user_type,
            display_name: self.display_name,
        })
    }
}

impl Group {
    /// The domain form.
    pub fn observe(self) -> Option<GroupObservation> {
        Some(GroupObservation {
            id: Guid::parse(&self.id)?,
            display_name: self.display_name.unwrap_or_default(),
            member_count: None,
        })
    }
}

/// A user of a target tenant as selected to tell whether it is a working copy of a source user
/// (`health`, `trace`; a property not selected is `None`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserCopy {
    /// Object id.
    pub id: Option<String>,
    /// UPN.
    pub user_principal_name: Option<String>,
    /// `Member` / `Guest`.
    pub user_type: Option<String>,
    /// `accountEnabled`.
    pub account_enabled: Option<bool>,
    /// `showInAddressList`.
    pub show_in_address_list: Option<bool>,
    /// `creationType`.
    pub creation_type: Option<String>,
    /// `externalUserState`.
    pub external_user_state: Option<String>,
    /// `identities`.
    pub identities: Option<Vec<Identity>>,
}

/// An `objectIdentity`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    /// `signInType`.
    pub sign_in_type: Option<String>,
    /// `issuer`.
    pub issuer: Option<String>,
    /// `issuerAssignedId`.
    pub issuer_assigned_id: Option<String>,
}

impl Identity {
    /// The domain form.
    pub fn observe(self) -> UserIdentity {
        UserIdentity {
            sign_in_type: self.sign_in_type,
            issuer: self.issuer,
            issuer_assigned_id: self.issuer_assigned_id,
        }
    }
}

impl UserCopy {
    /// The copy as `trace` reports it; `None` without an id or a UPN.
    pub fn target_user(self) -> Option<TargetUser> {
        Some(TargetUser {
            id: self.id?,
            user_principal_name: self.user_principal_name?,
            user_type: self.user_type,
            account_enabled: self.account_enabled,
            show_in_address_list: self.show_in_address_list,
            creation_type: self.creation_type,
            external_user_state: self.external_user_state,
            identities: self
                .identities
                .unwrap_or_default()
                .into_iter()
                .map(Identity::observe)
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_filters_hold_at_most_fifteen_values() {
        let upns: Vec<String> = (0..31).map(|i| format!("u{i}@contoso.com")).collect();
        let paths = users_by_upn_paths(&upns);
        assert_eq!(paths.len(), 3);
        assert!(paths[0].starts_with(
            "/users?$filter=userPrincipalName%20in%20('u0@contoso.com','u1@contoso.com'"
        ));
        assert_eq!(paths[0].matches("@contoso.com").count(), 15);
        assert_eq!(paths[2].matches("@contoso.com").count(), 1);
        let groups = groups_by_name_paths(&["O'Brien & Co".to_owned()]);
        assert_eq!(
            groups[0],
            "/groups?$filter=displayName%20in%20('O''Brien%20%26%20Co')&$select=id,displayName&$top=999"
        );
    }
}
