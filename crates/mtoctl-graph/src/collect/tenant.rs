//! One tenant's observed state: wave 1 (everything addressable from the spec alone, and the
//! details of configurations an earlier run saw, by its ids), then the details of the other
//! configurations the spec declares, assembled into a [`TenantObservation`].

use std::collections::BTreeMap;

use mtoctl_model::desired::TenantSpec;
use mtoctl_model::observed::{
    JoinRequestObservation, MtoState, OrganizationObservation, PartnerObservation,
    PrincipalsObservation, SyncConfigurationObservation, TemplatesObservation, TenantObservation,
};

use super::decode::{collection_raw, decode_raw};
use super::details::{read_ahead, read_details, read_templates};
use super::principals::{name_assigned, suggest_names};
use super::{Failures, Wanted};
use crate::error::GraphError;
use crate::transport::{GraphClient, GraphRequest, MAX_BATCH, RawResponse};
use crate::wire::{directory, mto, policy, sync};

pub(super) async fn collect_tenant(
    client: GraphClient,
    want: Wanted,
    tenant: TenantSpec,
) -> Result<TenantObservation, Failures> {
    let client = &client;
    let alias = tenant.alias.as_str();
    let mut failures: Failures = Vec::new();

    // Wave 1: everything addressable from the spec alone.
    let mut requests = vec![
        (
            "the multitenant organization",
            GraphRequest::get(mto::MTO_PATH),
        ),
        (
            "the organization's members",
            GraphRequest::get(mto::TENANTS_PATH),
        ),
        (
            "the join request",
            GraphRequest::get(mto::JOIN_REQUEST_PATH),
        ),
        (
            "the partner configuration template",
            GraphRequest::get(policy::PARTNER_TEMPLATE_PATH),
        ),
        (
            "the identity sync template",
            GraphRequest::get(policy::IDENTITY_SYNC_TEMPLATE_PATH),
        ),
        (
            "partner configurations",
            GraphRequest::get(policy::PARTNERS_WITH_SYNC_PATH),
        ),
        (
            "cross-tenant sync configurations",
            GraphRequest::get(sync::service_principals_path()),
        ),
    ];
    let lookups: [(&str, Vec<String>); 4] = [
        (
            "users named in sync scopes",
            directory::users_by_upn_paths(&want.upns),
        ),
        (
            "users named in sync scopes",
            directory::users_by_id_paths(&want.user_ids),
        ),
        (
            "groups named in sync scopes",
            directory::groups_by_name_paths(&want.group_names),
        ),
        (
            "groups named in sync scopes",
            directory::groups_by_id_paths(&want.group_ids),
        ),
    ];
    let first_lookup = requests.len();
    let mut lookup_kinds = Vec::new();
    for (kind, (what, paths)) in lookups.into_iter().enumerate() {
        for path in paths {
            requests.push((what, GraphRequest::get(path)));
            lookup_kinds.push(kind);
        }
    }
    let plain: Vec<GraphRequest> = requests.iter().map(|(_, r)| r.clone()).collect();
    // The first `$batch` holds the seven requests that are not lookups, the configurations
    // among them: their details are asked for as soon as it is answered, while the lookups of
    // the other calls are still coming. Split at a call's size, the calls are those of one list.
    let head = plain.len().min(MAX_BATCH);
    let lookups_of = |range: std::ops::Range<usize>| {
        range
            .map(|i| (lookup_kinds[i - first_lookup], &requests[i]))
            .collect::<Vec<_>>()
    };
    let later_lookups = lookups_of(head.max(first_lookup)..requests.len());
    let first_lookups = lookups_of(first_lookup..head.max(first_lookup));
    let read_later_lookups = async {
        let mut principals = PrincipalsObservation::default();
        let mut failures: Failures = Vec::new();
        if !later_lookups.is_empty() {
            let answers = client.send_all_raw(alias, &plain[head..]).await;
            read_lookups(
                client,
                alias,
                later_lookups.iter().copied().zip(answers),
                &mut principals,
                &mut failures,
            )
            .await;
        }
        (principals, failures)
    };
    let read_first_call = async {
        let mut failures: Failures = Vec::new();
        // What an earlier run saw is asked for now, beside the call that finds it again.
        let (answers, ahead) = futures_util::join!(
            client.send_all_raw(alias, &plain[..head]),
            read_ahead(client, alias, &want.known)
        );
        let mut answers: Vec<Option<Result<RawResponse, GraphError>>> =
            answers.into_iter().map(Some).collect();
        let mut take = |i: usize| {
            answers[i]
                .take()
                .unwrap_or_else(|| Err(GraphError::UnknownTenant(alias.to_owned())))
        };
        let fixed = read_fixed(client, alias, &requests, &mut take, &mut failures).await;
        let first_answers: Vec<_> = (first_lookup..head.max(first_lookup))
            .map(&mut take)
            .collect();
        // Waves 2 and 3: jobs, assignments and schemas of the configurations the spec declares.
        let declared: Vec<&sync::ServicePrincipal> = fixed
            .sps
            .iter()
            .filter(|sp| {
                sp.display_name
                    .as_deref()
                    .is_some_and(|n| want.sync_names.contains(&n.to_lowercase()))
            })
            .collect();
        let mut details_failures: Failures = Vec::new();
        let mut principals = PrincipalsObservation::default();
        let ((), details) = futures_util::join!(
            read_lookups(
                client,
                alias,
                first_lookups.iter().copied().zip(first_answers),
                &mut principals,
                &mut failures,
            ),
            read_details(client, alias, &declared, ahead, &mut details_failures),
        );
        (fixed, principals, failures, details, details_failures)
    };
    let (
        (fixed, mut principals, first_failures, mut details, details_failures),
        (later_principals, later_failures),
    ) = futures_util::join!(read_first_call, read_later_lookups);
    // In the order of the requests, as if read one after another.
    failures.extend(first_failures);
    failures.extend(later_failures);
    absorb(&mut principals, later_principals);
    // A name lookup can return a name in another case; keep only what was asked for, exactly
    // for groups (display names), and drop duplicates an overlapping query returned twice.
    for groups in principals.groups_by_name.values_mut() {
        groups.sort_by(|a, b| a.id.cmp(&b.id));
        groups.dedup();
    }

    // Hints for a plan's errors: not worth a request when the reads already failed.
    if failures.is_empty() {
        suggest_names(client, alias, &want, &mut principals).await;
    }
    failures.extend(details_failures);
    let what = |label: &str| format!("tenant {alias}: {label}");
    if failures.is_empty() {
        name_assigned(client, alias, &details, &mut principals).await;
    }
    let mut configurations: Vec<SyncConfigurationObservation> = fixed
        .sps
        .iter()
        .map(|sp| SyncConfigurationObservation {
            service_principal_id: sp.id.clone(),
            app_id: sp.app_id.clone(),
            display_name: sp.display_name.clone().unwrap_or_default(),
            user_app_role_id: sp.user_role_id(),
            // Moved, not copied: a configuration's details hold all its assignments.
            details: details.remove(&sp.id),
        })
        .collect();
    configurations.sort_by(|a, b| {
        (&a.display_name, &a.service_principal_id).cmp(&(&b.display_name, &b.service_principal_id))
    });
    if failures.is_empty() && !want.reset_names.is_empty() {
        let reset = |name: &str| want.reset_names.contains(&name.to_lowercase());
        read_templates(client, alias, &mut configurations, reset, &mut failures).await;
    }

    if !failures.is_empty() {
        return Err(failures);
    }
    let (Some(organization), Some(join_request), Some(partner_template), Some(sync_template)) = (
        fixed.organization,
        fixed.join_request,
        fixed.partner_template,
        fixed.sync_template,
    ) else {
        return Err(vec![(
            what("the tenant"),
            GraphError::UnknownTenant(alias.to_owned()),
        )]);
    };
    let members = fixed
        .members
        .into_iter()
        .filter_map(mto::Member::observe)
        .collect();
    let organization: OrganizationObservation = organization.observe(members);
    let organization = if organization.state.is(&MtoState::Inactive) {
        OrganizationObservation {
            members: Vec::new(),
            ..organization
        }
    } else {
        organization
    };
    let join_request: JoinRequestObservation = join_request.observe();
    let partners: BTreeMap<_, PartnerObservation> = fixed
        .partners
        .into_iter()
        .filter_map(policy::Partner::observe)
        .map(|p| (p.tenant_id.clone(), p))
        .collect();
    Ok(TenantObservation {
        tenant_id: tenant.tenant_id.clone(),
        organization,
        join_request,
        templates: TemplatesObservation {
            partner: partner_template.observe(),
            identity_sync: sync_template.observe(),
        },
        partners,
        sync_configurations: configurations,
        principals,
    })
}

/// What wave 1 reads besides lookups, decoded.
struct Fixed {
    organization: Option<mto::MultiTenantOrganization>,
    members: Vec<mto::Member>,
    join_request: Option<mto::JoinRequest>,
    partner_template: Option<policy::PartnerTemplate>,
    sync_template: Option<policy::IdentitySyncTemplate>,
    partners: Vec<policy::Partner>,
    sps: Vec<sync::ServicePrincipal>,
}

/// Decodes the answers to wave 1's first seven requests (`take` hands out each by index),
/// following their pages; what cannot be read is a failure named after its request.
async fn read_fixed(
    client: &GraphClient,
    alias: &str,
    requests: &[(&str, GraphRequest)],
    take: &mut impl FnMut(usize) -> Result<RawResponse, GraphError>,
    failures: &mut Failures,
) -> Fixed {
    let what = |label: &str| format!("tenant {alias}: {label}");
    let organization_raw = take(0);
    let members_raw = take(1);
    let join_raw = take(2);
    let partner_template_raw = take(3);
    let sync_template_raw = take(4);
    let partners_raw = take(5);
    let sps_raw = take(6);

    let organization: Option<mto::MultiTenantOrganization> =
        decode_raw(alias, &requests[0].1, organization_raw)
            .map_err(|e| failures.push((what(requests[0].0), e)))
            .ok();
    let has_mto = organization
        .as_ref()
        .is_some_and(|o| o.state.as_deref() == Some("active"));
    // Without an MTO there are no members to list; Graph may answer that with a 404.
    let members = match members_raw {
        Err(e) if e.is_not_found() && !has_mto => Ok(Vec::new()),
        other => collection_raw::<mto::Member>(client, alias, &requests[1].1, other).await,
    };
    let members: Vec<mto::Member> = match members {
        Ok(m) if has_mto => m,
        Ok(_) => Vec::new(),
        Err(e) => {
            failures.push((what(requests[1].0), e));
            Vec::new()
        }
    };
    let join_request: Option<mto::JoinRequest> = decode_raw(alias, &requests[2].1, join_raw)
        .map_err(|e| failures.push((what(requests[2].0), e)))
        .ok();
    let partner_template: Option<policy::PartnerTemplate> =
        decode_raw(alias, &requests[3].1, partner_template_raw)
            .map_err(|e| failures.push((what(requests[3].0), e)))
            .ok();
    let sync_template: Option<policy::IdentitySyncTemplate> =
        decode_raw(alias, &requests[4].1, sync_template_raw)
            .map_err(|e| failures.push((what(requests[4].0), e)))
            .ok();
    let partners: Vec<policy::Partner> =
        match collection_raw(client, alias, &requests[5].1, partners_raw).await {
            Ok(p) => p,
            Err(e) => {
                failures.push((what(requests[5].0), e));
                Vec::new()
            }
        };
    let sps: Vec<sync::ServicePrincipal> =
        match collection_raw(client, alias, &requests[6].1, sps_raw).await {
            Ok(s) => s,
            Err(e) => {
                failures.push((what(requests[6].0), e));
                Vec::new()
            }
        };
    Fixed {
        organization,
        members,
        join_request,
        partner_template,
        sync_template,
        partners,
        sps,
    }
}

/// Decodes lookup answers (kinds 0 and 1 find users, the others groups) into `principals`,
/// following their pages; a lookup that cannot be read is a failure named after it.
async fn read_lookups<'r>(
    client: &GraphClient,
    alias: &str,
    lookups: impl Iterator<
        Item = (
            (usize, &'r (&'r str, GraphRequest)),
            Result<RawResponse, GraphError>,
        ),
    >,
    principals: &mut PrincipalsObservation,
    failures: &mut Failures,
) {
    let what = |label: &str| format!("tenant {alias}: {label}");
    for ((kind, (label, request)), raw) in lookups {
        match kind {
            0 | 1 => match collection_raw::<directory::User>(client, alias, request, raw).await {
                Ok(users) => {
                    for user in users.into_iter().filter_map(directory::User::observe) {
                        principals
                            .users_by_upn
                            .insert(user.user_principal_name.to_lowercase(), user.clone());
                        principals.users_by_id.insert(user.id.clone(), user);
                    }
                }
                Err(e) => failures.push((what(label), e)),
            },
            _ => match collection_raw::<directory::Group>(client, alias, request, raw).await {
                Ok(groups) => {
                    for group in groups.into_iter().filter_map(directory::Group::observe) {
                        principals
                            .groups_by_name
                            .entry(group.display_name.clone())
                            .or_default()
                            .push(group.clone());
                        principals.groups_by_id.insert(group.id.clone(), group);
                    }
                }
                Err(e) => failures.push((what(label), e)),
            },
        }
    }
}

/// `later`'s users and groups added to `principals`, as if read after them.
fn absorb(principals: &mut PrincipalsObservation, later: PrincipalsObservation) {
    principals.users_by_upn.extend(later.users_by_upn);
    principals.users_by_id.extend(later.users_by_id);
    for (name, groups) in later.groups_by_name {
        principals
            .groups_by_name
            .entry(name)
            .or_default()
            .extend(groups);
    }
    principals.groups_by_id.extend(later.groups_by_id);
}
