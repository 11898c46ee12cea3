//! Accounts synchronization made in a target tenant (`destroy --remove-synced-users`).

use mtoctl_graph::objects::users;
use mtoctl_graph::transport::GraphClient;
use mtoctl_model::plan::Operation;

use super::{OpError, Step, done};

/// Carries out an operation on a synced account.
pub(super) async fn run(c: &GraphClient, t: &str, op: &Operation) -> Result<Step, OpError> {
    match op {
        Operation::DeleteSyncedUser { user_id, .. } => {
            users::delete_synced_user(c, t, user_id).await?;
            Ok(done())
        }
        _ => Err(OpError::Misrouted(format!("{op:?}"), "a synced user")),
    }
}
