//! What is read per sync direction: the job's latest provisioning events for the user (in the
//! source) and the user's copy in the target, by the `#EXT#` UPN or the target id an event names.

use mtoctl_model::desired::SyncSpec;
use mtoctl_model::observed::ObservedState;
use mtoctl_model::trace::{ProvisioningEvent, SourceUser, TargetUser};

use crate::collect::printable;
use crate::error::GraphError;
use crate::health::copy_prefix;
use crate::transport::{GraphClient, GraphRequest};
use crate::wire::directory::UserCopy;
use crate::wire::{encode_query_value, odata_quote};

use super::answers::{Page, WireEvent};
use super::{EVENTS, configuration, decode_error};

/// The properties of a copy in the target that say whether it works there.
const COPY_SELECT: &str = "id,userPrincipalName,userType,accountEnabled,showInAddressList,creationType,externalUserState,identities";

type DirectionFacts = (Result<Vec<ProvisioningEvent>, String>, Vec<TargetUser>);

/// One direction's events (in the source) and the user's copy (in the target).
pub(super) async fn read_direction(
    client: &GraphClient,
    observed: &ObservedState,
    sync: &SyncSpec,
    user: &SourceUser,
) -> Result<DirectionFacts, (String, GraphError)> {
    let job = configuration(observed, sync)
        .and_then(|c| c.details.as_ref())
        .and_then(|d| d.jobs.first());
    let events = async {
        match job {
            Some(job) => events(client, sync.from.as_str(), &job.id, &user.id).await,
            None => Ok(Vec::new()),
        }
    };
    let by_upn = copies_by_upn(client, sync.to.as_str(), &user.user_principal_name);
    let (events, copies) = futures_util::future::join(events, by_upn).await;
    let what = || {
        format!(
            "tenant {}: the copy of {}",
            sync.to, user.user_principal_name
        )
    };
    let mut copies = copies.map_err(|e| (what(), e))?;
    if copies.is_empty() {
        // A copy matched to an existing user keeps that user's UPN: the events name it.
        let target = events.as_ref().ok().and_then(|events| {
            events
                .iter()
                .filter(|e| {
                    e.status
                        .as_deref()
                        .is_some_and(|s| s.eq_ignore_ascii_case("success"))
                })
                .find_map(|e| e.target_id.clone())
        });
        if let Some(id) = target {
            copies = copies_by_id(client, sync.to.as_str(), &id)
                .await
                .map_err(|e| (what(), e))?;
        }
    }
    Ok((events, copies))
}

/// The job's latest events for the source user, newest first; why not, if they could not be
/// read.
async fn events(
    client: &GraphClient,
    alias: &str,
    job: &str,
    user: &str,
) -> Result<Vec<ProvisioningEvent>, String> {
    let filter = format!(
        "jobId eq {} and sourceIdentity/id eq {}",
        odata_quote(job),
        odata_quote(user)
    );
    let request = GraphRequest::get(format!(
        "/auditLogs/provisioning?$filter={}&$top={EVENTS}",
        encode_query_value(&filter)
    ));
    let mut body = client
        .send(alias, &request)
        .await
        .map_err(|e| e.to_string())?
        .body;
    printable(&mut body);
    let page: Page<WireEvent> = serde_json::from_value(body)
        .map_err(|e| decode_error(alias, &request, &e.to_string()).to_string())?;
    let mut events: Vec<ProvisioningEvent> = page.value.into_iter().map(WireEvent::event).collect();
    // Graph lists the newest first; sorted again in case it did not.
    events.sort_by(|a, b| b.at.cmp(&a.at));
    events.truncate(EVENTS);
    Ok(events)
}

async fn copies_by_upn(
    client: &GraphClient,
    alias: &str,
    upn: &str,
) -> Result<Vec<TargetUser>, GraphError> {
    let Some(prefix) = copy_prefix(upn) else {
        return Ok(Vec::new());
    };
    let filter = format!("startswith(userPrincipalName,{})", odata_quote(&prefix));
    let copies = copies(client, alias, &filter).await?;
    // `startswith` ignores case, and `bo_x#EXT#@` would not match `bob_x`: only the exact
    // prefix counts.
    let lower = prefix.to_lowercase();
    Ok(copies
        .into_iter()
        .filter(|c| c.user_principal_name.to_lowercase().starts_with(&lower))
        .collect())
}

async fn copies_by_id(
    client: &GraphClient,
    alias: &str,
    id: &str,
) -> Result<Vec<TargetUser>, GraphError> {
    copies(client, alias, &format!("id eq {}", odata_quote(id))).await
}

async fn copies(
    client: &GraphClient,
    alias: &str,
    filter: &str,
) -> Result<Vec<TargetUser>, GraphError> {
    let request = GraphRequest::get(format!(
        "/users?$filter={}&$select={COPY_SELECT}&$top=5",
        encode_query_value(filter)
    ));
    let mut body = client.send(alias, &request).await?.body;
    printable(&mut body);
    let page: Page<UserCopy> =
        serde_json::from_value(body).map_err(|e| decode_error(alias, &request, &e.to_string()))?;
    Ok(page
        .value
        .into_iter()
        .filter_map(UserCopy::target_user)
        .collect())
}
