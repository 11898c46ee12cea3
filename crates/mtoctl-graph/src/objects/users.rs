//! Accounts that cross-tenant synchronization made in a target tenant: read one by id, delete
//! one (`destroy --remove-synced-users`). Finding them is `health`'s job (by the `#EXT#` name
//! sync gives them); nothing here decides which account is a copy.

use mtoctl_model::plan::fingerprint;

use super::{ObjectError, delete, list};
use crate::transport::{GraphClient, GraphRequest};
use crate::wire::{directory, writes};

/// A target account as the executor re-reads it before deleting it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncedUser {
    /// Object id.
    pub id: String,
    /// UPN (`alice_contoso.com#EXT#@…`).
    pub user_principal_name: String,
}

impl SyncedUser {
    /// Its fingerprint, as the planner records it.
    pub fn fingerprint(&self) -> mtoctl_model::observed::Fingerprint {
        fingerprint::synced_user(&self.id, &self.user_principal_name)
    }
}

/// The account with this id; `None` when there is none.
pub async fn synced_user(
    c: &GraphClient,
    t: &str,
    id: &str,
) -> Result<Option<SyncedUser>, ObjectError> {
    let paths = directory::users_by_id_paths(&[id.to_owned()]);
    let mut found = None;
    for path in paths {
        let items = list(c, t, &GraphRequest::get(path), "read the synced user").await?;
        found = items
            .into_iter()
            .filter_map(|v| serde_json::from_value::<directory::User>(v).ok())
            .find(|u| u.id.eq_ignore_ascii_case(id))
            .map(|u| SyncedUser {
                id: u.id,
                user_principal_name: u.user_principal_name.unwrap_or_default(),
            });
    }
    Ok(found)
}

/// Deletes the account (Graph keeps it restorable for 30 days); one already gone is done.
pub async fn delete_synced_user(c: &GraphClient, t: &str, id: &str) -> Result<(), ObjectError> {
    delete(c, t, &writes::delete_user(id), "delete the synced user").await
}
