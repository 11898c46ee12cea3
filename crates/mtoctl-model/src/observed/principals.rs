//! The users and groups a spec names, as found in their tenant.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::desired::{GroupRef, UserRef};
use crate::ids::Guid;

/// Users and groups named in the spec, as found in their tenant.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PrincipalsObservation {
    /// By lowercase user principal name; absent names are not in the map.
    pub users_by_upn: BTreeMap<String, UserObservation>,
    /// By object id.
    pub users_by_id: BTreeMap<Guid, UserObservation>,
    /// By display name: every group with that name (more than one is ambiguous).
    pub groups_by_name: BTreeMap<String, Vec<GroupObservation>>,
    /// By object id.
    pub groups_by_id: BTreeMap<Guid, GroupObservation>,
    /// For each name the spec uses that the tenant does not have (lowercase UPN, or group
    /// display name): existing names that start like it, to suggest the one meant.
    #[serde(default)]
    pub candidates: BTreeMap<String, Vec<String>>,
}

impl PrincipalsObservation {
    /// The user a scope entry names, if the tenant has it.
    pub fn user(&self, user: &UserRef) -> Option<&UserObservation> {
        match user {
            // The spec's names are lower case already (validation); only others are copied.
            UserRef::UserPrincipalName(upn)
                if upn.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) =>
            {
                self.users_by_upn.get(&upn.to_lowercase())
            }
            UserRef::UserPrincipalName(upn) => self.users_by_upn.get(upn),
            UserRef::ObjectId(id) => self.users_by_id.get(id),
        }
    }

    /// The groups a scope entry names: none, one, or (for a display name) several.
    pub fn groups(&self, group: &GroupRef) -> &[GroupObservation] {
        match group {
            GroupRef::DisplayName(name) => self.groups_by_name.get(name).map_or(&[], Vec::as_slice),
            GroupRef::ObjectId(id) => self.groups_by_id.get(id).map_or(&[], std::slice::from_ref),
        }
    }
}

/// A user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserObservation {
    /// Object id.
    pub id: Guid,
    /// User principal name.
    pub user_principal_name: String,
    /// `Member` or `Guest`.
    pub user_type: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
}

/// A group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupObservation {
    /// Object id.
    pub id: Guid,
    /// Display name.
    pub display_name: String,
    /// How many direct members it has: read only for groups assigned to a configuration that
    /// the spec no longer names (a plan counts who leaves the scope with them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_count: Option<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_is_found_by_its_name_in_any_case() {
        let id = Guid::parse("8d4e2a3b-1c5f-4e6a-9b7c-0d1e2f3a4b5c").expect("guid");
        let mut principals = PrincipalsObservation::default();
        principals.users_by_upn.insert(
            "émile.zola@contoso.com".into(),
            UserObservation {
                id: id.clone(),
                user_principal_name: "Émile.Zola@contoso.com".into(),
                user_type: Some("Member".into()),
                display_name: None,
            },
        );
        for name in [
            "émile.zola@contoso.com",
            "Émile.zola@contoso.com",
            "Émile.Zola@Contoso.com",
            "ÉMILE.ZOLA@CONTOSO.COM",
        ] {
            let found = principals.user(&UserRef::UserPrincipalName(name.into()));
            assert_eq!(found.map(|u| &u.id), Some(&id), "{name}");
        }
        let other = UserRef::UserPrincipalName("emile.zola@contoso.com".into());
        assert!(principals.user(&other).is_none());
    }
}
