//! The users and groups assigned to a configuration (`appRoleAssignment`, §6.10). Graph
//! refuses a second assignment of a principal to the same role, and never changes one: it is
//! made and deleted.

use std::collections::{BTreeSet, HashMap};

use mtoctl_model::observed::AssignmentObservation;

use super::{Made, ObjectError, delete, failed, gone, list};
use crate::error::GraphError;
use crate::transport::{GraphClient, GraphRequest};
use crate::wire::{answers, observe, reads, writes};

const ASSIGN: &str = "assign the user or group to the configuration";
const REMOVE: &str = "remove the assignment";
const READ: &str = "read the configuration's assignments";

/// The id of the principal's assignment to the configuration (the first listed), if any.
pub async fn find(
    c: &GraphClient,
    t: &str,
    sp: &str,
    principal: &str,
) -> Result<Option<String>, ObjectError> {
    let items = list(c, t, &reads::list_assignments(sp), READ).await?;
    let principal = principal.to_ascii_lowercase();
    Ok(items
        .iter()
        .filter_map(answers::decode_assignment)
        .find(|(_, p)| *p == principal)
        .map(|(id, _)| id))
}

/// The assignment with this id; `None` when it is gone.
pub async fn assignment(
    c: &GraphClient,
    t: &str,
    sp: &str,
    id: &str,
) -> Result<Option<AssignmentObservation>, ObjectError> {
    let items = list(c, t, &reads::list_assignments(sp), READ).await?;
    Ok(observe::assignment(&items, id))
}

/// Assigns a principal to the configuration's role, or adopts its assignment. The id is that
/// of the assignment (`None` when Graph's answer shows none).
pub async fn assign(
    c: &GraphClient,
    t: &str,
    sp: &str,
    principal: &str,
    role: &str,
) -> Result<Made<Option<String>>, ObjectError> {
    if let Some(id) = find(c, t, sp, principal).await? {
        return Ok(Made::Adopted(Some(id)));
    }
    match c.send(t, &writes::assign(sp, principal, role)).await {
        Ok(resp) => Ok(Made::Created(answers::decode_id(&resp.body))),
        // A duplicate is refused by Graph: made all the same once it is seen.
        Err(e) => match find(c, t, sp, principal).await? {
            Some(id) => Ok(Made::Adopted(Some(id))),
            None => Err(failed(ASSIGN)(e)),
        },
    }
}

/// Removes an assignment; one already gone counts as removed.
pub async fn remove(c: &GraphClient, t: &str, sp: &str, id: &str) -> Result<(), ObjectError> {
    delete(c, t, &writes::remove_assignment(sp, id), REMOVE).await
}

/// One assignment to make with [`assign_many`].
#[derive(Debug, Clone, Copy)]
pub struct NewAssignment<'a> {
    /// The configuration's service principal id.
    pub sp: &'a str,
    /// The user or group.
    pub principal: &'a str,
    /// The app role id.
    pub role: &'a str,
}

/// Makes many assignments in one tenant, one outcome per item in order. They are POSTed
/// through `$batch` with nothing read first (each item retried on its own: Graph refuses a
/// duplicate, so a POST re-sent after a lost answer cannot make a second one); the items that
/// failed are looked for in one read of their configurations' assignments, and adopted when
/// listed (a lost answer, or a concurrent run, made them).
pub async fn assign_many(
    c: &GraphClient,
    t: &str,
    items: &[NewAssignment<'_>],
) -> Vec<Result<Made<Option<String>>, ObjectError>> {
    let requests: Vec<GraphRequest> = items
        .iter()
        .map(|i| writes::assign(i.sp, i.principal, i.role))
        .collect();
    let answers = c.send_all(t, &requests).await;
    let failed_sps: Vec<&str> = items
        .iter()
        .zip(&answers)
        .filter(|(_, a)| a.is_err())
        .map(|(i, _)| i.sp)
        .collect();
    let listed = if failed_sps.is_empty() {
        HashMap::new()
    } else {
        by_principal(read_all(c, t, &failed_sps).await)
    };
    items
        .iter()
        .zip(answers)
        .map(|(item, answer)| {
            let e = match answer {
                Ok(resp) => return Ok(Made::Created(answers::decode_id(&resp.body))),
                Err(e) => e,
            };
            let principal = item.principal.to_ascii_lowercase();
            match listed.get(item.sp) {
                Some(Ok(listed)) => match listed.get(&principal) {
                    Some(id) => Ok(Made::Adopted(Some(id.clone()))),
                    None => Err(failed(ASSIGN)(e)),
                },
                Some(Err(read)) => Err(ObjectError::Unverified {
                    action: ASSIGN,
                    write: Box::new(e),
                    read: Box::new(read.clone()),
                }),
                None => Err(failed(ASSIGN)(e)),
            }
        })
        .collect()
}

/// Removes many assignments in one tenant through `$batch`, one outcome per item in order; an
/// assignment already gone counts as removed.
pub async fn remove_many(
    c: &GraphClient,
    t: &str,
    items: &[(&str, &str)],
) -> Vec<Result<(), ObjectError>> {
    let requests: Vec<GraphRequest> = items
        .iter()
        .map(|(sp, id)| writes::remove_assignment(sp, id))
        .collect();
    c.send_all(t, &requests)
        .await
        .into_iter()
        .map(|answer| match answer {
            Ok(_) => Ok(()),
            Err(e) if gone(&e) => Ok(()),
            Err(e) => Err(failed(REMOVE)(e)),
        })
        .collect()
}

/// Every assignment of each configuration named (once each, whatever the repeats), the first
/// pages read together through `$batch`, and their further pages too. A failed read is an
/// error for that configuration, never "no assignments".
async fn read_all(
    c: &GraphClient,
    t: &str,
    sps: &[&str],
) -> HashMap<String, Result<Vec<serde_json::Value>, GraphError>> {
    let distinct: Vec<String> = sps
        .iter()
        .map(|sp| (*sp).to_owned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let requests: Vec<GraphRequest> = distinct
        .iter()
        .map(|sp| reads::list_assignments(sp))
        .collect();
    let firsts = c.send_all(t, &requests).await;
    let firsts = requests
        .iter()
        .zip(firsts)
        .map(|(request, first)| (request, first.map(|r| r.body)))
        .collect();
    let listed = c.follow_all_pages(t, firsts).await;
    distinct.into_iter().zip(listed).collect()
}

/// Each configuration's assignments by principal id (lower case), the first listed for each,
/// as [`find`] picks it.
fn by_principal(
    read: HashMap<String, Result<Vec<serde_json::Value>, GraphError>>,
) -> HashMap<String, Result<HashMap<String, String>, GraphError>> {
    read.into_iter()
        .map(|(sp, listed)| {
            let listed = listed.map(|items| {
                let mut by_principal = HashMap::new();
                for (id, principal) in items.iter().filter_map(answers::decode_assignment) {
                    by_principal.entry(principal).or_insert(id);
                }
                by_principal
            });
            (sp, listed)
        })
        .collect()
}
