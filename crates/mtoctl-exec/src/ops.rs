//! One plan operation, carried out: translated into `mtoctl_graph::wire::writes` requests,
//! finding before creating on stable keys, and treating "already exists" as success once the
//! object is verified.

use mtoctl_graph::error::GraphError;
use mtoctl_graph::transport::{GraphClient, GraphRequest, GraphResponse};
use mtoctl_graph::wire::writes::{
    self, B2bWrite, ConsentWrite, FilterGroupWrite, PartnerSettingsWrite, RuleWrite, SchemaWrite,
    TrustWrite,
};
use mtoctl_model::ids::TenantId;
use mtoctl_model::observed::{Fingerprint, MemberRole};
use mtoctl_planner::plan::{B2bValue, ObjectRef, Operation, PartnerSettingsPatch, RuleValue};

use crate::report::Created;

/// What running an operation once gave.
#[derive(Debug)]
pub(crate) enum Step {
    /// Done; the ids created or adopted.
    Done(Created),
    /// A wait whose condition does not hold yet.
    Pending(String),
}

/// Ids resolved for an operation's symbolic references.
pub(crate) trait Resolve {
    /// The object id of an [`ObjectRef`].
    fn object(&self, r: &ObjectRef) -> Result<String, String>;
    /// The user app role id of an [`ObjectRef`] naming a role.
    fn role(&self, r: &ObjectRef) -> Result<String, String>;
    /// Whether this apply made the object moments ago (not found and adopted): nothing can
    /// hang under it yet that another run did not make in the same moment, which the
    /// creates' race checks settle.
    fn made_here(&self, r: &ObjectRef) -> bool;
}

fn err(e: GraphError) -> String {
    e.to_string()
}

async fn send(
    client: &GraphClient,
    tenant: &str,
    r: &GraphRequest,
) -> Result<GraphResponse, String> {
    client.send(tenant, r).await.map_err(err)
}

/// A GET that is `None` on 404.
async fn find(
    client: &GraphClient,
    tenant: &str,
    r: &GraphRequest,
) -> Result<Option<serde_json::Value>, String> {
    match client.send(tenant, r).await {
        Ok(resp) => Ok(Some(resp.body)),
        Err(e) if e.is_not_found() || e.status() == Some(404) => Ok(None),
        Err(e) => Err(err(e)),
    }
}

/// Whether the job's schedule is in `state` now (a missing job is in no state).
async fn job_is(
    client: &GraphClient,
    tenant: &str,
    sp: &str,
    job: &str,
    state: &str,
) -> Result<bool, String> {
    Ok(find(client, tenant, &writes::get_job(sp, job))
        .await?
        .is_some_and(|body| writes::decode_job_schedule_state(&body).as_deref() == Some(state)))
}

/// A DELETE that counts 404 (already gone) as success.
async fn delete(client: &GraphClient, tenant: &str, r: &GraphRequest) -> Result<Step, String> {
    match client.send(tenant, r).await {
        Ok(_) => Ok(Step::Done(Created::default())),
        Err(e) if e.is_not_found() || e.status() == Some(404) => Ok(Step::Done(Created::default())),
        Err(e) => Err(err(e)),
    }
}

fn done() -> Step {
    Step::Done(Created::default())
}

fn adopted(id: Option<String>, user_role_id: Option<String>) -> Step {
    Step::Done(Created {
        id,
        user_role_id,
        adopted: true,
    })
}

fn rule(r: &RuleValue) -> RuleWrite {
    RuleWrite {
        access: r.access,
        targets: r.targets.clone(),
    }
}

fn b2b(b: &Option<B2bValue>) -> Option<B2bWrite> {
    b.as_ref().map(|b| B2bWrite {
        users_and_groups: rule(&b.users_and_groups),
        applications: rule(&b.applications),
    })
}

/// The planner's partner settings as the wire builders take them.
pub(crate) fn settings(p: &PartnerSettingsPatch) -> PartnerSettingsWrite {
    PartnerSettingsWrite {
        automatic_user_consent: p.automatic_user_consent.as_ref().map(|c| ConsentWrite {
            inbound: c.inbound,
            outbound: c.outbound,
        }),
        inbound_trust: p.inbound_trust.as_ref().map(|t| TrustWrite {
            mfa: t.mfa,
            compliant_device: t.compliant_device,
            hybrid_joined_device: t.hybrid_joined_device,
        }),
        b2b_collaboration_inbound: b2b(&p.b2b_collaboration_inbound),
        b2b_collaboration_outbound: b2b(&p.b2b_collaboration_outbound),
        b2b_direct_connect_inbound: b2b(&p.b2b_direct_connect_inbound),
        b2b_direct_connect_outbound: b2b(&p.b2b_direct_connect_outbound),
    }
}

fn role_text(role: MemberRole) -> &'static str {
    match role {
        MemberRole::Owner => "owner",
        MemberRole::Member => "member",
    }
}

/// Runs one operation once. `acting` is the acting tenant's alias and `acting_id` its id.
pub(crate) async fn run(
    client: &GraphClient,
    acting: &str,
    acting_id: &TenantId,
    op: &Operation,
    refs: &(dyn Resolve + Sync),
) -> Result<Step, String> {
    let c = client;
    let t = acting;
    match op {
        Operation::PatchPartnerTemplate {
            application_level,
            settings: s,
        } => {
            send(
                c,
                t,
                &writes::patch_partner_template(application_level.as_deref(), &settings(s)),
            )
            .await?;
            Ok(done())
        }
        Operation::PatchIdentitySyncTemplate {
            application_level,
            is_sync_allowed,
        } => {
            send(
                c,
                t,
                &writes::patch_identity_sync_template(
                    application_level.as_deref(),
                    *is_sync_allowed,
                ),
            )
            .await?;
            Ok(done())
        }
        Operation::CreateOrganization {
            display_name,
            description,
        } => {
            // Find before create: an organization this tenant already has is not created twice
            // (a PUT on an existing one would be refused anyway).
            if let Some(existing) = find(c, t, &writes::get_organization()).await?
                && existing.get("id").is_some_and(|id| !id.is_null())
                && existing.get("state").and_then(|s| s.as_str()) != Some("inactive")
            {
                return Ok(adopted(None, None));
            }
            let put = writes::create_organization(display_name, description.as_deref());
            match c.send(t, &put).await {
                Ok(_) => Ok(done()),
                // An earlier attempt whose answer was lost made it: Graph refuses a second PUT.
                Err(e) => match find(c, t, &writes::get_organization()).await? {
                    Some(existing)
                        if existing.get("id").is_some_and(|id| !id.is_null())
                            && existing.get("state").and_then(|s| s.as_str())
                                != Some("inactive") =>
                    {
                        Ok(adopted(None, None))
                    }
                    _ => Err(err(e)),
                },
            }
        }
        Operation::UpdateOrganization {
            display_name,
            description,
        } => {
            send(
                c,
                t,
                &writes::update_organization(display_name.as_deref(), description.as_deref()),
            )
            .await?;
            Ok(done())
        }
        Operation::AddMember {
            tenant_id,
            display_name,
            role,
        } => {
            if find_member(c, t, tenant_id).await?.is_some() {
                return Ok(adopted(None, None));
            }
            match c
                .send(t, &writes::add_member(tenant_id, display_name, *role))
                .await
            {
                Ok(_) => Ok(done()),
                // "Tenant is already being added": success once the member is seen.
                Err(e) => match find_member(c, t, tenant_id).await? {
                    Some(_) => Ok(adopted(None, None)),
                    None => Err(err(e)),
                },
            }
        }
        Operation::ChangeMemberRole { tenant_id, role } => {
            match c
                .send(t, &writes::change_member_role(tenant_id, *role))
                .await
            {
                Ok(_) => Ok(done()),
                // An earlier attempt whose answer was lost queued it: the member has the role
                // or is on its way to it.
                Err(e) => {
                    let want = role_text(*role);
                    match find_member(c, t, tenant_id).await? {
                        Some(m)
                            if m.get("role").and_then(|r| r.as_str()) == Some(want)
                                || m.pointer("/transitionDetails/desiredRole")
                                    .and_then(|r| r.as_str())
                                    == Some(want) =>
                        {
                            Ok(adopted(None, None))
                        }
                        _ => Err(err(e)),
                    }
                }
            }
        }
        Operation::RemoveMember { tenant_id } => {
            delete(c, t, &writes::remove_member(tenant_id)).await
        }
        Operation::ResetJoin => {
            send(c, t, &writes::reset_join()).await?;
            Ok(done())
        }
        Operation::SubmitJoin { owner_tenant_id } => {
            send(c, t, &writes::submit_join(owner_tenant_id)).await?;
            Ok(done())
        }
        Operation::WaitForJoin { tenant_id } => {
            let (state, status) = if tenant_id == acting_id {
                let body = send(c, t, &writes::get_join_request()).await?.body;
                writes::decode_join_request(&body)
            } else {
                match find_member(c, t, tenant_id).await? {
                    Some(body) => {
                        let (state, _, status) = writes::decode_member_state(&body);
                        (state, status)
                    }
                    None => (None, None),
                }
            };
            match (state.as_deref(), status.as_deref()) {
                (_, Some("failed")) => Err(format!(
                    "the join of {tenant_id} failed; the next plan resets and resubmits it"
                )),
                (Some("active"), None | Some("succeeded")) => Ok(done()),
                _ => Ok(Step::Pending(format!(
                    "waiting for the join of {tenant_id} to complete (state {})",
                    state.as_deref().unwrap_or("unknown")
                ))),
            }
        }
        Operation::WaitForRole { tenant_id, role } => {
            let Some(body) = find_member(c, t, tenant_id).await? else {
                return Err(format!("{tenant_id} is no longer a member"));
            };
            let (_, current, status) = writes::decode_member_state(&body);
            match status.as_deref() {
                Some("failed") => Err(format!("the role change of {tenant_id} failed")),
                Some("notStarted") | Some("running") => Ok(Step::Pending(format!(
                    "waiting for the role change of {tenant_id}"
                ))),
                _ if current.as_deref() == Some(role_text(*role)) => Ok(done()),
                _ => Ok(Step::Pending(format!(
                    "waiting for {tenant_id} to become {}",
                    role_text(*role)
                ))),
            }
        }
        Operation::WaitForRemoval { tenant_id } => match find_member(c, t, tenant_id).await? {
            None => Ok(done()),
            Some(body) => {
                let (state, _, status) = writes::decode_member_state(&body);
                match (state.as_deref(), status.as_deref()) {
                    (_, Some("failed")) => Err(format!("the removal of {tenant_id} failed")),
                    (Some("removed"), None | Some("succeeded")) => Ok(done()),
                    _ => Ok(Step::Pending(format!(
                        "waiting for the removal of {tenant_id}"
                    ))),
                }
            }
        },
        Operation::CreatePartner {
            partner_tenant_id,
            settings: s,
        } => {
            let s = settings(s);
            // Joining an organization auto-creates partner configurations: find, then PATCH.
            if find_partner(c, t, partner_tenant_id).await?.is_some() {
                send(c, t, &writes::patch_partner(partner_tenant_id, &s)).await?;
                return Ok(adopted(None, None));
            }
            match c
                .send(t, &writes::create_partner(partner_tenant_id, &s))
                .await
            {
                Ok(_) => Ok(done()),
                Err(e) => {
                    if find_partner(c, t, partner_tenant_id).await?.is_none() {
                        return Err(err(e));
                    }
                    send(c, t, &writes::patch_partner(partner_tenant_id, &s)).await?;
                    Ok(adopted(None, None))
                }
            }
        }
        Operation::PatchPartner {
            partner_tenant_id,
            changes,
        } => {
            send(
                c,
                t,
                &writes::patch_partner(partner_tenant_id, &settings(changes)),
            )
            .await?;
            Ok(done())
        }
        Operation::DeletePartner { partner_tenant_id } => {
            delete(c, t, &writes::delete_partner(partner_tenant_id)).await
        }
        Operation::CreateIdentitySync {
            partner_tenant_id,
            display_name,
            is_sync_allowed,
        } => {
            let patch = writes::patch_identity_sync(partner_tenant_id, *is_sync_allowed);
            if has_identity_sync(c, t, partner_tenant_id).await? {
                send(c, t, &patch).await?;
                return Ok(adopted(None, None));
            }
            let put =
                writes::create_identity_sync(partner_tenant_id, display_name, *is_sync_allowed);
            match c.send(t, &put).await {
                Ok(_) => Ok(done()),
                // 409: a policy exists (an earlier, interrupted attempt); verify and PATCH.
                Err(e) => {
                    if !has_identity_sync(c, t, partner_tenant_id).await? {
                        return Err(err(e));
                    }
                    send(c, t, &patch).await?;
                    Ok(adopted(None, None))
                }
            }
        }
        Operation::PatchIdentitySync {
            partner_tenant_id,
            is_sync_allowed,
        } => {
            send(
                c,
                t,
                &writes::patch_identity_sync(partner_tenant_id, *is_sync_allowed),
            )
            .await?;
            Ok(done())
        }
        Operation::DeleteIdentitySync { partner_tenant_id } => {
            delete(c, t, &writes::delete_identity_sync(partner_tenant_id)).await
        }
        Operation::InstantiateSyncConfiguration { display_name } => {
            if let Some(found) = find_configuration(c, t, display_name).await? {
                return Ok(adopted(
                    Some(found.service_principal_id),
                    found.user_role_id,
                ));
            }
            let mut attempt = 0;
            let made = loop {
                attempt += 1;
                match c.send_create(t, &writes::instantiate(display_name)).await {
                    Ok(resp) => {
                        break writes::decode_instantiated(&resp.body).ok_or_else(|| {
                            "the instantiate answer has no servicePrincipal id".to_owned()
                        })?;
                    }
                    Err(e) => {
                        if let Some(found) =
                            settle(|| find_configuration(c, t, display_name)).await?
                        {
                            break found;
                        }
                        if !ambiguous(&e) || attempt >= CREATE_ATTEMPTS {
                            return Err(err(e));
                        }
                    }
                }
            };
            // Another run may have created one at the same moment: one of the two steps back.
            let made = match keep_one_configuration(c, t, display_name, made).await? {
                Kept::Ours(made) => made,
                Kept::Theirs(found) => {
                    return Ok(adopted(
                        Some(found.service_principal_id),
                        found.user_role_id,
                    ));
                }
            };
            let role = match made.user_role_id {
                Some(role) => Some(role),
                None => find_configuration(c, t, display_name)
                    .await?
                    .and_then(|f| f.user_role_id),
            };
            Ok(Step::Done(Created {
                id: Some(made.service_principal_id),
                user_role_id: role,
                adopted: false,
            }))
        }
        Operation::ValidateCredentials {
            configuration,
            target_tenant_id,
        } => {
            let sp = refs.object(configuration)?;
            send(c, t, &writes::validate_credentials(&sp, target_tenant_id)).await?;
            Ok(done())
        }
        Operation::CreateSyncJob { configuration } => {
            let sp = refs.object(configuration)?;
            // A configuration this apply just made has no job: no look first.
            if !refs.made_here(configuration)
                && let Some(job) = first_job(c, t, &sp).await?
            {
                return Ok(adopted(Some(job), None));
            }
            let mut attempt = 0;
            loop {
                attempt += 1;
                match c.send_create(t, &writes::create_job(&sp)).await {
                    Ok(resp) => {
                        let ours =
                            writes::decode_id(&resp.body).ok_or("the job answer has no id")?;
                        return Ok(match keep_one_job(c, t, &sp, &ours).await? {
                            None => Step::Done(Created {
                                id: Some(ours),
                                ..Created::default()
                            }),
                            Some(theirs) => adopted(Some(theirs), None),
                        });
                    }
                    Err(e) => {
                        if let Some(job) = settle(|| first_job(c, t, &sp)).await? {
                            return Ok(adopted(Some(job), None));
                        }
                        if !ambiguous(&e) || attempt >= CREATE_ATTEMPTS {
                            return Err(err(e));
                        }
                    }
                }
            }
        }
        Operation::PutSyncSecrets {
            configuration,
            target_tenant_id,
            sync_all,
        } => {
            let sp = refs.object(configuration)?;
            // Read first so the write keeps what an administrator set; without the read the
            // write is not sent (it could wipe those keys).
            let read = send(c, t, &writes::get_sync_secrets(&sp)).await?;
            let current = writes::decode_sync_secrets(&read.body).ok_or_else(|| {
                format!("the settings of configuration {sp} could not be read, so they were not written (the answer was not a list of key/value pairs)")
            })?;
            send(
                c,
                t,
                &writes::put_sync_secrets(&sp, target_tenant_id, *sync_all, &current),
            )
            .await?;
            Ok(done())
        }
        Operation::UpdateSchema {
            configuration,
            job,
            user_type,
            flow,
            filter,
            deletes,
        } => {
            let sp = refs.object(configuration)?;
            let job = refs.object(job)?;
            let mut schema = send(c, t, &writes::get_schema(&sp, &job)).await?.body;
            let want = SchemaWrite {
                user_type: *user_type,
                flow: *flow,
                filter: filter
                    .iter()
                    .map(|g| FilterGroupWrite {
                        name: g.name.clone(),
                        clauses: g
                            .clauses
                            .iter()
                            .map(|c| (c.attribute.clone(), c.operator, c.values.clone()))
                            .collect(),
                    })
                    .collect(),
                deletes: *deletes,
            };
            writes::edit_schema(&mut schema, &want)?;
            send(c, t, &writes::put_schema(&sp, &job, schema)).await?;
            Ok(done())
        }
        Operation::AssignPrincipal {
            configuration,
            app_role,
            principal_id,
            ..
        } => {
            let sp = refs.object(configuration)?;
            let role = refs.role(app_role)?;
            let principal = principal_id.to_string();
            if let Some(id) = find_assignment(c, t, &sp, &principal).await? {
                return Ok(adopted(Some(id), None));
            }
            match c.send(t, &writes::assign(&sp, &principal, &role)).await {
                Ok(resp) => Ok(Step::Done(Created {
                    id: writes::decode_id(&resp.body),
                    ..Created::default()
                })),
                // A duplicate assignment is refused by Graph: success once it is seen.
                Err(e) => match find_assignment(c, t, &sp, &principal).await? {
                    Some(id) => Ok(adopted(Some(id), None)),
                    None => Err(err(e)),
                },
            }
        }
        Operation::RemoveAssignment {
            configuration,
            assignment_id,
            ..
        } => {
            let sp = refs.object(configuration)?;
            delete(c, t, &writes::remove_assignment(&sp, assignment_id)).await
        }
        Operation::StartJob { configuration, job } => {
            let sp = refs.object(configuration)?;
            let job_ref = job;
            let job = refs.object(job)?;
            // Microsoft warns against starting a running job; a re-run finds it active. A job
            // this apply just made is stopped (Graph creates jobs disabled): no look first.
            if !refs.made_here(job_ref) && job_is(c, t, &sp, &job, "Active").await? {
                return Ok(adopted(None, None));
            }
            match c.send(t, &writes::start_job(&sp, &job)).await {
                Ok(_) => Ok(done()),
                // An earlier attempt whose answer was lost started it: Graph refuses a second.
                Err(_) if job_is(c, t, &sp, &job, "Active").await? => Ok(adopted(None, None)),
                Err(e) => Err(err(e)),
            }
        }
        Operation::PauseJob { configuration, job } => {
            let sp = refs.object(configuration)?;
            let job = refs.object(job)?;
            match c.send(t, &writes::pause_job(&sp, &job)).await {
                Ok(_) => Ok(done()),
                Err(_) if job_is(c, t, &sp, &job, "Paused").await? => Ok(adopted(None, None)),
                Err(e) => Err(err(e)),
            }
        }
        Operation::DeleteSyncConfiguration {
            service_principal_id,
            ..
        } => delete(c, t, &writes::delete_configuration(service_principal_id)).await,
    }
}

/// One assignment of an [`assign_all`] group: the action, the configuration, the principal
/// and the app role.
pub(crate) struct Assignment<A> {
    /// Whose assignment it is (handed back with its outcome).
    pub action: A,
    /// The configuration's service principal id.
    pub sp: String,
    /// The user or group.
    pub principal: String,
    /// The app role id.
    pub role: String,
}

/// Makes many assignments in one tenant: they are POSTed through `$batch` (20 per call, each
/// item retried on its own: Graph refuses a duplicate assignment, so a POST re-sent after a
/// lost answer cannot make a second one), and the assignments whose POST failed are looked
/// for in one read of their configurations' assignments: found, they are adopted (an earlier
/// or lost attempt, or a concurrent run, made them); not found, they fail with Graph's error.
/// Outcomes come back one per item, in order.
///
/// Nothing is read before the POSTs. The plan being applied listed these assignments as
/// missing when the apply began (an apply plans just before it applies, and a saved or
/// confirmed plan is checked against Graph first), so only a run writing at the same time can
/// have made one since, and its duplicate fails and is adopted by the read after the failure. Reading every
/// configuration's whole list first doubled the reads of an incremental apply: a mesh of 20
/// tenants listed its 190,000 assignments once to plan and once more to add 1 % of them.
pub(crate) async fn assign_all<A>(
    c: &GraphClient,
    t: &str,
    items: Vec<Assignment<A>>,
) -> Vec<(A, Result<Step, String>)> {
    let mut outcomes: Vec<Option<Result<Step, String>>> = items.iter().map(|_| None).collect();
    let answers = send_undecided(c, t, &outcomes, |k| {
        writes::assign(&items[k].sp, &items[k].principal, &items[k].role)
    })
    .await;
    let mut failed: Vec<(usize, GraphError)> = Vec::new();
    for (k, answer) in answers {
        match answer {
            Ok(resp) => {
                outcomes[k] = Some(Ok(Step::Done(Created {
                    id: writes::decode_id(&resp.body),
                    ..Created::default()
                })))
            }
            Err(e) => failed.push((k, e)),
        }
    }
    if !failed.is_empty() {
        // A duplicate is refused by Graph, and a lost answer may hide a success: whatever
        // is now listed was made.
        let sps: Vec<String> = failed.iter().map(|(k, _)| items[*k].sp.clone()).collect();
        let now = by_principal(read_assignments(c, t, &sps).await);
        for (k, e) in failed {
            let principal = items[k].principal.to_ascii_lowercase();
            outcomes[k] = Some(match now.get(&items[k].sp) {
                Some(Ok(listed)) => match listed.get(&principal) {
                    Some(id) => Ok(adopted(Some(id.clone()), None)),
                    None => Err(err(e)),
                },
                Some(Err(read)) => Err(format!(
                    "{}; and the assignments could not be re-read to see whether it was made all the same: {read}",
                    err(e)
                )),
                None => Err(err(e)),
            });
        }
    }
    hand_back(items.into_iter().map(|i| i.action), outcomes, "assignment")
}

/// One removal of a [`remove_all`] group.
pub(crate) struct Removal<A> {
    /// Whose removal it is (handed back with its outcome).
    pub action: A,
    /// The configuration's service principal id.
    pub sp: String,
    /// The assignment's id.
    pub assignment_id: String,
}

/// Removes many assignments in one tenant: DELETEs through `$batch`, an assignment already
/// gone counting as removed.
///
/// Unlike other guarded actions, a removal does not re-read its object to re-check the
/// plan's fingerprint first. Graph has no update for an `appRoleAssignment`: it is made and
/// deleted, never changed, so the DELETE of its id removes exactly the (principal, role) the
/// plan showed or finds nothing. Someone who removed it since made the plan's intent true
/// (404: counted as removed); someone who assigned the principal again made a new assignment
/// with another id, which this DELETE cannot touch and the next plan shows. The re-read (one
/// list of the configuration's assignments per group) could only refuse a removal whose
/// principal's display name, copied into the assignment, had changed.
pub(crate) async fn remove_all<A>(
    c: &GraphClient,
    t: &str,
    items: Vec<Removal<A>>,
) -> Vec<(A, Result<Step, String>)> {
    let mut outcomes: Vec<Option<Result<Step, String>>> = items.iter().map(|_| None).collect();
    let answers = send_undecided(c, t, &outcomes, |k| {
        writes::remove_assignment(&items[k].sp, &items[k].assignment_id)
    })
    .await;
    for (k, answer) in answers {
        outcomes[k] = Some(match answer {
            Ok(_) => Ok(done()),
            Err(e) if e.is_not_found() || e.status() == Some(404) => Ok(done()),
            Err(e) => Err(err(e)),
        });
    }
    hand_back(items.into_iter().map(|i| i.action), outcomes, "removal")
}

/// Sends, through `$batch`, the request of every item of a group whose outcome is not decided
/// yet; the answers come back with the items' positions.
async fn send_undecided(
    c: &GraphClient,
    t: &str,
    outcomes: &[Option<Result<Step, String>>],
    request: impl Fn(usize) -> GraphRequest,
) -> Vec<(usize, Result<GraphResponse, GraphError>)> {
    let to_send: Vec<usize> = (0..outcomes.len())
        .filter(|&k| outcomes[k].is_none())
        .collect();
    let requests: Vec<GraphRequest> = to_send.iter().map(|&k| request(k)).collect();
    let answers = c.send_all(t, &requests).await;
    to_send.into_iter().zip(answers).collect()
}

/// Each item's action with its outcome, in order. An item left undecided is a bug in the
/// group's code, reported as such for that item (`what` names the item's kind).
fn hand_back<A>(
    actions: impl Iterator<Item = A>,
    outcomes: Vec<Option<Result<Step, String>>>,
    what: &str,
) -> Vec<(A, Result<Step, String>)> {
    actions
        .zip(outcomes)
        .map(|(a, o)| {
            (
                a,
                o.unwrap_or_else(|| Err(format!("internal error: no outcome for the {what}"))),
            )
        })
        .collect()
}

/// Every assignment of each configuration named (once each, whatever the repeats), the first
/// pages read together through `$batch`, and their further pages too. A failed read is
/// an error for that configuration, never "no assignments".
async fn read_assignments(
    c: &GraphClient,
    t: &str,
    sps: &[String],
) -> std::collections::HashMap<String, Result<Vec<serde_json::Value>, String>> {
    let distinct: Vec<String> = sps
        .iter()
        .cloned()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let requests: Vec<GraphRequest> = distinct
        .iter()
        .map(|sp| writes::list_assignments(sp))
        .collect();
    let firsts = c.send_all(t, &requests).await;
    let firsts = requests
        .iter()
        .zip(firsts)
        .map(|(request, first)| (request, first.map(|r| r.body)))
        .collect();
    let listed = c.follow_all_pages(t, firsts).await;
    distinct
        .into_iter()
        .zip(listed)
        .map(|(sp, listed)| (sp, listed.map_err(err)))
        .collect()
}

/// Each configuration's assignments by principal id (lower case), the first listed for each,
/// as [`find_assignment`] picks it.
fn by_principal(
    read: std::collections::HashMap<String, Result<Vec<serde_json::Value>, String>>,
) -> std::collections::HashMap<String, Result<std::collections::HashMap<String, String>, String>> {
    read.into_iter()
        .map(|(sp, listed)| {
            let listed = listed.map(|items| {
                let mut by_principal = std::collections::HashMap::new();
                for (id, principal) in items.iter().filter_map(writes::decode_assignment) {
                    by_principal.entry(principal).or_insert(id);
                }
                by_principal
            });
            (sp, listed)
        })
        .collect()
}

/// Which of two same-named objects made at the same moment survives.
enum Kept<T> {
    /// The one this run made.
    Ours(T),
    /// Another run's: ours was deleted.
    Theirs(T),
}

/// After this run instantiated a configuration, makes sure it is the only one with its name:
/// two applies racing each other (no CI concurrency group) can both find none and both
/// create one. Looked at once, a moment after ours was made: of two runs, the one whose
/// object was made last looks after both exist, and the moment covers listing lag.
///
/// Ours stays only when it is strictly older than every twin; otherwise this run deletes its
/// own before anything depends on it and takes the oldest twin (then the smallest id), age
/// read from the applications' `createdDateTime`. A tie yields too: Graph's
/// `createdDateTime` has whole seconds, so a twin of the same second may
/// be the older one, made by a run that looked before ours existed and kept its own. Two runs
/// that both see both and tie both yield: the name is left with no configuration, and the
/// next apply makes one. Never two.
async fn keep_one_configuration(
    c: &GraphClient,
    t: &str,
    display_name: &str,
    ours: writes::ConfigurationIds,
) -> Result<Kept<writes::ConfigurationIds>, String> {
    tokio::time::sleep(RACE_LOOK_AFTER).await;
    let (mine, mut twins): (Vec<_>, Vec<_>) = all_configurations(c, t, display_name)
        .await?
        .into_iter()
        .partition(|x| {
            x.service_principal_id
                .eq_ignore_ascii_case(&ours.service_principal_id)
        });
    if twins.is_empty() {
        return Ok(Kept::Ours(ours));
    }
    let mut ours = ours;
    if let Some(m) = mine.first() {
        ours.app_id = ours.app_id.take().or_else(|| m.app_id.clone());
    }
    with_applications(c, t, std::iter::once(&mut ours).chain(twins.iter_mut())).await?;
    let our_created = ours.created.clone();
    let strictly_oldest = our_created.as_deref().is_some_and(|mine| {
        twins
            .iter()
            .all(|x| x.created.as_deref().is_some_and(|theirs| theirs > mine))
    });
    if strictly_oldest {
        return Ok(Kept::Ours(ours));
    }
    twins.sort_by(|a, b| {
        (
            a.created.as_deref(),
            a.service_principal_id.to_ascii_lowercase(),
        )
            .cmp(&(
                b.created.as_deref(),
                b.service_principal_id.to_ascii_lowercase(),
            ))
    });
    let winner = twins.swap_remove(0);
    let undo = match &ours.application_id {
        Some(app) => writes::delete_application(app),
        None => writes::delete_configuration(&ours.service_principal_id),
    };
    delete(c, t, &undo).await?;
    Ok(Kept::Theirs(winner))
}

/// Fills in each configuration's application: its object id and creation time (the service
/// principal declares no creation time in v1.0; its application does).
async fn with_applications<'a>(
    c: &GraphClient,
    t: &str,
    configurations: impl Iterator<Item = &'a mut writes::ConfigurationIds>,
) -> Result<(), String> {
    let mut configurations: Vec<_> = configurations.collect();
    let app_ids: Vec<String> = configurations
        .iter()
        .filter_map(|x| x.app_id.clone())
        .collect();
    for request in writes::applications_of(&app_ids) {
        for item in c.get_all(t, &request).await.map_err(err)? {
            let Some((app_id, id, created)) = writes::decode_application(&item) else {
                continue;
            };
            for x in configurations.iter_mut() {
                if x.app_id
                    .as_deref()
                    .is_some_and(|a| a.eq_ignore_ascii_case(&app_id))
                {
                    x.application_id = Some(id.clone());
                    x.created = created.clone();
                }
            }
        }
    }
    Ok(())
}

/// After this run created a job, makes sure the configuration has only one (see
/// [`keep_one_configuration`]). Jobs carry no creation time, so a run that sees another's job
/// cannot tell which came first: it deletes its own and takes the other (the smallest id).
/// Two runs that both see both both yield, and the next apply makes the job. `Some(id)` of
/// the other run's job when ours was deleted.
async fn keep_one_job(
    c: &GraphClient,
    t: &str,
    sp: &str,
    ours: &str,
) -> Result<Option<String>, String> {
    tokio::time::sleep(RACE_LOOK_AFTER).await;
    let jobs = c.get_all(t, &writes::list_jobs(sp)).await.map_err(err)?;
    match jobs
        .iter()
        .filter_map(writes::decode_id)
        .filter(|id| id != ours)
        .min()
    {
        Some(theirs) => {
            delete(c, t, &writes::delete_job(sp, ours)).await?;
            Ok(Some(theirs))
        }
        None => Ok(None),
    }
}

/// How long after making a configuration or job a run looks for a twin made by another run.
const RACE_LOOK_AFTER: std::time::Duration = std::time::Duration::from_millis(250);

/// POSTs of a create that makes a new object each time (instantiate, a job), at most.
const CREATE_ATTEMPTS: u32 = 3;

/// Whether a failed create may have been carried out by Graph all the same: no answer, a
/// timeout, a cut-off body, or a 5xx other than 503 (Graph answers 429 and 503 before acting).
fn ambiguous(e: &GraphError) -> bool {
    !matches!(e.status(), Some(s) if s < 500 || s == 503)
}

/// Looks for an object after a failed create, a few times over about three seconds: what an
/// attempt made may take a moment to be listed (replication lag). A second POST is sent only
/// when it is still not found, so an answer lost after Graph acted does not make a duplicate.
async fn settle<T, F, Fut>(find: F) -> Result<Option<T>, String>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, String>>,
{
    for pause in [0u64, 500, 1000, 1500] {
        tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
        if let Some(found) = find().await? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

async fn find_configuration(
    c: &GraphClient,
    t: &str,
    display_name: &str,
) -> Result<Option<writes::ConfigurationIds>, String> {
    let mut matching = all_configurations(c, t, display_name).await?;
    match matching.len() {
        0 => Ok(None),
        1 => Ok(matching.pop()),
        n => Err(format!(
            "{n} sync configurations are named {display_name}; refusing to guess which one to use"
        )),
    }
}

/// Every configuration named `display_name` (case-insensitively).
async fn all_configurations(
    c: &GraphClient,
    t: &str,
    display_name: &str,
) -> Result<Vec<writes::ConfigurationIds>, String> {
    let items = c
        .get_all(t, &writes::list_configurations())
        .await
        .map_err(err)?;
    Ok(items
        .iter()
        .filter_map(writes::decode_configuration)
        .filter(|s| {
            s.display_name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(display_name))
        })
        .collect())
}

async fn first_job(c: &GraphClient, t: &str, sp: &str) -> Result<Option<String>, String> {
    let jobs = c.get_all(t, &writes::list_jobs(sp)).await.map_err(err)?;
    Ok(jobs.iter().find_map(writes::decode_id))
}

async fn find_assignment(
    c: &GraphClient,
    t: &str,
    sp: &str,
    principal: &str,
) -> Result<Option<String>, String> {
    let items = c
        .get_all(t, &writes::list_assignments(sp))
        .await
        .map_err(err)?;
    let principal = principal.to_ascii_lowercase();
    Ok(items
        .iter()
        .filter_map(writes::decode_assignment)
        .find(|(_, p)| *p == principal)
        .map(|(id, _)| id))
}

async fn find_member(
    c: &GraphClient,
    t: &str,
    tenant_id: &TenantId,
) -> Result<Option<serde_json::Value>, String> {
    let items = c.get_all(t, &writes::list_members()).await.map_err(err)?;
    Ok(writes::find_by_tenant_id(&items, tenant_id).cloned())
}

async fn find_partner(
    c: &GraphClient,
    t: &str,
    partner: &TenantId,
) -> Result<Option<serde_json::Value>, String> {
    let items = c.get_all(t, &writes::list_partners()).await.map_err(err)?;
    Ok(writes::find_by_tenant_id(&items, partner).cloned())
}

async fn has_identity_sync(c: &GraphClient, t: &str, partner: &TenantId) -> Result<bool, String> {
    Ok(find_partner(c, t, partner)
        .await?
        .is_some_and(|p| writes::has_identity_sync(&p)))
}

/// The current fingerprint of the object an operation writes, read now and computed by
/// `mtoctl_planner::fingerprint` from the same domain observation the planner fingerprinted,
/// so that an unchanged object gives the planned fingerprint. `Ok(None)` for operations that
/// write nothing guarded (waits, creates, which find before they create instead);
/// `Ok(Some(None))` when the object is gone.
pub(crate) async fn current_fingerprint(
    c: &GraphClient,
    t: &str,
    op: &Operation,
    refs: &(dyn Resolve + Sync),
) -> Result<Option<Option<Fingerprint>>, String> {
    use mtoctl_graph::wire::policy;
    use mtoctl_graph::wire::writes::observe;
    use mtoctl_planner::fingerprint as fp;
    let decode = |v: &serde_json::Value| -> Option<mtoctl_model::observed::PartnerObservation> {
        serde_json::from_value::<policy::Partner>(v.clone())
            .ok()?
            .observe()
    };
    Ok(Some(match op {
        Operation::PatchPartner {
            partner_tenant_id, ..
        }
        | Operation::DeletePartner { partner_tenant_id } => find_partner(c, t, partner_tenant_id)
            .await?
            .as_ref()
            .and_then(decode)
            .map(|p| fp::partner(&p)),
        Operation::PatchIdentitySync {
            partner_tenant_id, ..
        }
        | Operation::DeleteIdentitySync { partner_tenant_id } => {
            find_partner(c, t, partner_tenant_id)
                .await?
                .as_ref()
                .and_then(decode)
                .and_then(|p| p.identity_sync)
                .map(|s| fp::identity_sync(&s))
        }
        Operation::PatchPartnerTemplate { .. } => {
            let body = send(c, t, &GraphRequest::get(policy::PARTNER_TEMPLATE_PATH))
                .await?
                .body;
            let template: policy::PartnerTemplate =
                serde_json::from_value(body).map_err(|e| e.to_string())?;
            Some(fp::partner_template(&template.observe()))
        }
        Operation::PatchIdentitySyncTemplate { .. } => {
            let body = send(
                c,
                t,
                &GraphRequest::get(policy::IDENTITY_SYNC_TEMPLATE_PATH),
            )
            .await?
            .body;
            let template: policy::IdentitySyncTemplate =
                serde_json::from_value(body).map_err(|e| e.to_string())?;
            Some(fp::identity_sync_template(&template.observe()))
        }
        Operation::UpdateOrganization { .. } => find(c, t, &writes::get_organization())
            .await?
            .as_ref()
            .and_then(observe::organization)
            .map(|o| fp::organization(&o)),
        Operation::ChangeMemberRole { tenant_id, .. } | Operation::RemoveMember { tenant_id } => {
            let items = c.get_all(t, &writes::list_members()).await.map_err(err)?;
            observe::member(&items, tenant_id).map(|m| fp::member(&m))
        }
        Operation::ResetJoin | Operation::SubmitJoin { .. } => {
            find(c, t, &writes::get_join_request())
                .await?
                .as_ref()
                .and_then(observe::join_request)
                .map(|j| fp::join_request(&j))
        }
        Operation::ValidateCredentials { configuration, .. } => {
            let sp = refs.object(configuration)?;
            let items = c
                .get_all(t, &writes::list_configurations())
                .await
                .map_err(err)?;
            observe::configuration(&items, &sp).map(|x| fp::sync_configuration(&x))
        }
        Operation::DeleteSyncConfiguration {
            service_principal_id,
            ..
        } => {
            let items = c
                .get_all(t, &writes::list_configurations())
                .await
                .map_err(err)?;
            observe::configuration(&items, service_principal_id).map(|x| fp::sync_configuration(&x))
        }
        Operation::StartJob { configuration, job } | Operation::PauseJob { configuration, job } => {
            let (sp, job) = (refs.object(configuration)?, refs.object(job)?);
            find(c, t, &writes::get_job(&sp, &job))
                .await?
                .and_then(|body| observe::job(&body, None))
                .map(|j| fp::job(&j))
        }
        Operation::UpdateSchema {
            configuration, job, ..
        } => {
            let (sp, job) = (refs.object(configuration)?, refs.object(job)?);
            match find(c, t, &writes::get_job(&sp, &job)).await? {
                None => None,
                Some(body) => {
                    let schema = send(c, t, &writes::get_schema(&sp, &job)).await?.body;
                    observe::job(&body, Some(&schema)).map(|j| fp::schema(&j))
                }
            }
        }
        Operation::RemoveAssignment {
            configuration,
            assignment_id,
            ..
        } => {
            let sp = refs.object(configuration)?;
            let items = c
                .get_all(t, &writes::list_assignments(&sp))
                .await
                .map_err(err)?;
            observe::assignment(&items, assignment_id).map(|a| fp::assignment(&a))
        }
        Operation::CreateOrganization { .. }
        | Operation::AddMember { .. }
        | Operation::WaitForJoin { .. }
        | Operation::WaitForRole { .. }
        | Operation::WaitForRemoval { .. }
        | Operation::CreatePartner { .. }
        | Operation::CreateIdentitySync { .. }
        | Operation::InstantiateSyncConfiguration { .. }
        | Operation::CreateSyncJob { .. }
        | Operation::PutSyncSecrets { .. }
        | Operation::AssignPrincipal { .. } => return Ok(None),
    }))
}
