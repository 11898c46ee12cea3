//! Finding the copies of source users in the target by the `#EXT#` UPN cross-tenant sync gives
//! them: exactly when the target's domain is known, else by the start of the name.

use std::collections::BTreeMap;

use mtoctl_model::DesiredState;
use mtoctl_model::desired::SyncSpec;
use mtoctl_model::health::{ProvisionedUser, SourceUser};

use crate::collect::collection;
use crate::error::GraphError;
use crate::transport::{GraphClient, GraphRequest};
use crate::wire::directory::{Identity, UserCopy};
use crate::wire::{encode_query_value, odata_quote};

use super::users_in_paths;

/// `startswith` clauses `or`-ed in one `$filter` (Graph allows a handful).
const PREFIXES_PER_REQUEST: usize = 5;

/// What is read of a copy in the target.
pub(super) const COPY_SELECT: &str =
    "id,userPrincipalName,userType,accountEnabled,showInAddressList,identities";

/// The target's copies of `users` (of the direction `sync`), by the UPN cross-tenant sync
/// gives them.
pub(crate) async fn read_copies(
    client: &GraphClient,
    desired: &DesiredState,
    sync: &SyncSpec,
    users: &[SourceUser],
) -> Result<Vec<ProvisionedUser>, (String, GraphError)> {
    let alias = sync.to.as_str();
    let what = || {
        format!(
            "tenant {alias}: the users provisioned into it by {}",
            sync.name
        )
    };
    let domain = desired.tenant(&sync.to).and_then(|t| t.domain.as_deref());
    let sources: Vec<(String, &str)> = users
        .iter()
        .filter_map(|u| {
            copy_prefix(&u.user_principal_name).map(|p| (p, u.user_principal_name.as_str()))
        })
        .collect();
    let mut found: BTreeMap<String, ProvisionedUser> = BTreeMap::new();
    // Exactly, when the target's domain is known: 15 to a request.
    if let Some(domain) = domain {
        let exact: Vec<String> = sources
            .iter()
            .map(|(p, _)| format!("{p}{domain}"))
            .collect();
        let paths = users_in_paths("userPrincipalName", &exact, COPY_SELECT);
        let copies = copies_at(client, alias, &paths)
            .await
            .map_err(|e| (what(), e))?;
        take_copies(copies, &sources, &mut found);
    }
    // By the start of the name, for those not found exactly (another suffix) or all of them.
    let rest: Vec<&(String, &str)> = sources
        .iter()
        .filter(|(_, upn)| !found.contains_key(&upn.to_lowercase()))
        .collect();
    let paths: Vec<String> = rest
        .chunks(PREFIXES_PER_REQUEST)
        .map(|chunk| {
            let filter = chunk
                .iter()
                .map(|(p, _)| format!("startswith(userPrincipalName,{})", odata_quote(p)))
                .collect::<Vec<_>>()
                .join(" or ");
            format!(
                "/users?$filter={}&$select={COPY_SELECT}&$top=999",
                encode_query_value(&filter)
            )
        })
        .collect();
    let copies = copies_at(client, alias, &paths)
        .await
        .map_err(|e| (what(), e))?;
    take_copies(copies, &sources, &mut found);
    Ok(found.into_values().collect())
}

/// Every user the `paths` (filtered lists) answer, packed into `$batch` calls.
async fn copies_at(
    client: &GraphClient,
    alias: &str,
    paths: &[String],
) -> Result<Vec<UserCopy>, GraphError> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let requests: Vec<GraphRequest> = paths.iter().map(GraphRequest::get).collect();
    let answers = client.send_all(alias, &requests).await;
    let mut copies = Vec::new();
    for (request, answer) in requests.iter().zip(answers) {
        copies.extend(collection::<UserCopy>(client, alias, request, answer).await?);
    }
    Ok(copies)
}

/// Files each copy under the source user whose name it starts with (case-insensitively).
fn take_copies(
    copies: Vec<UserCopy>,
    sources: &[(String, &str)],
    found: &mut BTreeMap<String, ProvisionedUser>,
) {
    for copy in copies {
        let Some(upn) = copy.user_principal_name.clone() else {
            continue;
        };
        let lower = upn.to_lowercase();
        let Some((_, source)) = sources
            .iter()
            .find(|(p, _)| lower.starts_with(&p.to_lowercase()))
        else {
            continue;
        };
        found
            .entry(source.to_lowercase())
            .or_insert_with(|| ProvisionedUser {
                source: (*source).to_owned(),
                id: copy.id.clone(),
                user_principal_name: upn,
                user_type: copy.user_type.clone(),
                account_enabled: copy.account_enabled,
                show_in_address_list: copy.show_in_address_list,
                identities: copy
                    .identities
                    .clone()
                    .map(|all| all.into_iter().map(Identity::observe).collect()),
            });
    }
}

/// The start of the UPN cross-tenant sync gives a copy of `upn`: `alice@contoso.com` becomes
/// `alice_contoso.com#EXT#@<target domain>`.
pub fn copy_prefix(upn: &str) -> Option<String> {
    let (local, domain) = upn.rsplit_once('@')?;
    (!local.is_empty() && !domain.is_empty()).then(|| format!("{local}_{domain}#EXT#@"))
}
