//! Cross-tenant synchronization configurations in their source tenants.
//!
//! Setting one up is a fixed chain (graph-reference §10.2–§10.3): instantiate, validate
//! credentials, create the job, write its settings, set the schema, assign users and groups,
//! start. Validation needs the target's partner configuration, identity sync policy and
//! inbound consent and the source's outbound consent, so the chain depends on every action
//! of this plan on those objects. A configuration with the spec's name that exists already
//! (the Microsoft 365 admin center creates `MTO_Sync_<target>` without a job) is adopted: the
//! chain starts at validation instead of creating a duplicate.
//!
//! Sync settings (`SyncAll`, the target) are write-only in Graph: they are written when this
//! plan creates the job, and never diffed afterwards (that would plan them forever).

use std::collections::BTreeSet;

use mtoctl_model::desired::{GroupRef, SyncSpec, UserRef};
use mtoctl_model::ids::{Alias, Guid};
use mtoctl_model::observed::{
    AssignmentObservation, SyncConfigurationObservation, SyncJobObservation,
};
use mtoctl_model::spec::document::{LeavingScope, PruneKind};
use mtoctl_model::spec::suggest::closest;

use super::schema::SchemaParts;
use super::{Ctx, Draft, Readiness, change};
use crate::addr::ResourceAddr;
use crate::fingerprint;
use crate::plan::{
    ActionId, ActionKind, ActionReason, ExpectedBefore, Impact, ObjectRef, Operation, PrincipalKind,
};
use crate::report::{ScopeEntry, ScopeList, Severity};

pub(crate) fn diff(ctx: &mut Ctx<'_>) {
    let desired = ctx.desired;
    for s in &desired.syncs {
        one(ctx, s);
    }
    for tenant in &desired.tenants {
        undeclared(ctx, &tenant.alias);
    }
}

fn one(ctx: &mut Ctx<'_>, s: &SyncSpec) {
    let desired = ctx.desired;
    let (Some(_), Some(target)) = (desired.tenant(&s.from), desired.tenant(&s.to)) else {
        return;
    };
    let addr = ResourceAddr::sync(s.from.as_str(), &s.name);
    match ctx.pair_readiness(&s.from, &s.to) {
        Readiness::Ready => {}
        Readiness::Waiting { waits, why } => {
            ctx.defer(
                addr,
                &s.from,
                ActionKind::Create,
                format!(
                    "set up sync {} from {} into {} (instantiate or adopt, validate, job, settings, schema, assignments, start)",
                    s.name, s.from, s.to
                ),
                format!("{why}; the target's partner settings are reconciled after the join"),
                waits,
            );
            return;
        }
        Readiness::Blocked { why } => {
            ctx.note(Severity::Warning, Some(addr), format!("not planned: {why}"));
            return;
        }
    }
    // Everything this plan does to the target's partner, identity sync and consent, and to the
    // source's partner (outbound consent), comes before validation.
    let mut prereqs = Vec::new();
    for key in [
        (s.to.clone(), s.from.clone()),
        (s.from.clone(), s.to.clone()),
    ] {
        prereqs.extend(ctx.pair_keys.get(&key).cloned().unwrap_or_default());
    }
    let obs = ctx.obs(&s.from);
    let matching: Vec<&SyncConfigurationObservation> = obs
        .sync_configurations
        .iter()
        .filter(|c| c.display_name.eq_ignore_ascii_case(&s.name))
        .collect();
    let target_id = target.tenant_id.clone();
    match matching.as_slice() {
        [] => {
            let key = ctx.push(
                Draft::new(
                    addr.clone(),
                    &s.from,
                    ActionKind::Create,
                    Operation::InstantiateSyncConfiguration {
                        display_name: s.name.clone(),
                    },
                    ActionReason::Missing,
                    format!(
                        "create sync configuration {} from {} into {}",
                        s.name, s.from, s.to
                    ),
                )
                .changes(vec![change("display_name", None::<&()>, Some(&s.name))]),
            );
            let config = ObjectRef::CreatedBy { action: key };
            let chain = Chain {
                config: config.clone(),
                app_role: Some(config),
                config_expected: ExpectedBefore::CreatedBy { action: key },
                after: [prereqs, vec![key]].concat(),
                reason: ActionReason::Setup,
            };
            setup(ctx, s, &target_id, chain);
        }
        [c] => {
            let expected = ctx.seen(&addr, fingerprint::sync_configuration(c));
            ctx.check(&addr);
            let Some(details) = &c.details else {
                ctx.note(
                    Severity::Warning,
                    Some(addr),
                    format!(
                        "the jobs and assignments of {} were not read; not planning it",
                        s.name
                    ),
                );
                return;
            };
            let config = ObjectRef::Existing {
                id: c.service_principal_id.clone(),
            };
            let app_role = c
                .user_app_role_id
                .clone()
                .map(|id| ObjectRef::Existing { id });
            match details.jobs.as_slice() {
                [] => {
                    ctx.note(
                        Severity::Info,
                        Some(addr.clone()),
                        format!(
                            "adopting the existing configuration {} in {} (no job yet, as the Microsoft 365 admin center leaves it) instead of creating a duplicate",
                            c.display_name, s.from
                        ),
                    );
                    let chain = Chain {
                        config,
                        app_role,
                        config_expected: expected,
                        after: prereqs,
                        reason: ActionReason::Adopt,
                    };
                    setup(ctx, s, &target_id, chain);
                }
                [job] => reconcile(ctx, s, job, &details.assignments, config, app_role, prereqs),
                jobs => ctx.note(
                    Severity::Warning,
                    Some(addr),
                    format!(
                        "{} has {} synchronization jobs; mtoctl manages configurations with one and is not acting on it",
                        s.name,
                        jobs.len()
                    ),
                ),
            }
        }
        many => ctx.note(
            Severity::Warning,
            Some(addr),
            format!(
                "{} has {} configurations named {}; not acting on an ambiguous name",
                s.from,
                many.len(),
                s.name
            ),
        ),
    }
}

/// What the setup chain acts on.
struct Chain {
    config: ObjectRef,
    app_role: Option<ObjectRef>,
    config_expected: ExpectedBefore,
    after: Vec<ActionId>,
    reason: ActionReason,
}

/// Validate, job, settings, schema, assignments, start: for a configuration without a job.
fn setup(ctx: &mut Ctx<'_>, s: &SyncSpec, target: &mtoctl_model::ids::TenantId, chain: Chain) {
    let from = s.from.as_str();
    let validate = ctx.push(
        Draft::new(
            ResourceAddr::sync_part(from, &s.name, "credentials"),
            &s.from,
            ActionKind::Check,
            Operation::ValidateCredentials {
                configuration: chain.config.clone(),
                target_tenant_id: target.clone(),
            },
            chain.reason,
            format!("check that {} may provision users into {}", s.from, s.to),
        )
        .after(chain.after.clone())
        .expect(chain.config_expected),
    );
    let job = ctx.push(
        Draft::new(
            ResourceAddr::sync_part(from, &s.name, "job"),
            &s.from,
            ActionKind::Create,
            Operation::CreateSyncJob {
                configuration: chain.config.clone(),
            },
            chain.reason,
            format!("create the synchronization job of {}", s.name),
        )
        .after([validate]),
    );
    let job_ref = ObjectRef::CreatedBy { action: job };
    let created = ExpectedBefore::CreatedBy { action: job };
    let secrets = ctx.push(
        Draft::new(
            ResourceAddr::sync_part(from, &s.name, "secrets"),
            &s.from,
            ActionKind::Create,
            Operation::PutSyncSecrets {
                configuration: chain.config.clone(),
                target_tenant_id: target.clone(),
                sync_all: s.scope.all_users,
            },
            chain.reason,
            format!(
                "write the sync settings of {} (target {}, {})",
                s.name,
                s.to,
                if s.scope.all_users {
                    "all users"
                } else {
                    "assigned users and groups only"
                }
            ),
        )
        .after([job])
        .expect(created.clone())
        .changes(vec![
            change("target_tenant_id", None::<&()>, Some(target)),
            change("sync_all", None::<&()>, Some(&s.scope.all_users)),
        ]),
    );
    let want = SchemaParts::desired(s);
    let schema = ctx.push(
        Draft::new(
            ResourceAddr::sync_part(from, &s.name, "schema"),
            &s.from,
            ActionKind::Update,
            want.operation(chain.config.clone(), job_ref.clone()),
            chain.reason,
            format!(
                "set the user type, scoping filter and deletions of {}",
                s.name
            ),
        )
        .after([secrets])
        .expect(created.clone())
        .changes(want.changes_from(None)),
    );
    // Assignments only need the configuration: the job is created stopped and starts only
    // once they, the settings and the schema are all in place, so they need not wait for the
    // job, settings and schema (seconds of service time on real Graph) and run beside them.
    // A running job is another matter (`reconcile`): there, scope follows the schema.
    let assigned = assignments(
        ctx,
        s,
        &chain.config,
        chain.app_role.as_ref(),
        &[],
        chain.after.clone(),
        chain.reason,
    );
    if s.enabled {
        ctx.push(
            Draft::new(
                ResourceAddr::sync_part(from, &s.name, "job"),
                &s.from,
                ActionKind::Start,
                Operation::StartJob {
                    configuration: chain.config,
                    job: job_ref,
                },
                chain.reason,
                format!("start synchronizing from {} into {}", s.from, s.to),
            )
            .after([vec![schema], assigned].concat())
            .expect(created),
        );
    }
}

/// An existing configuration with its job: schema, assignments, running state.
fn reconcile(
    ctx: &mut Ctx<'_>,
    s: &SyncSpec,
    job: &SyncJobObservation,
    existing: &[AssignmentObservation],
    config: ObjectRef,
    app_role: Option<ObjectRef>,
    prereqs: Vec<ActionId>,
) {
    let from = s.from.as_str();
    let job_addr = ResourceAddr::sync_part(from, &s.name, "job");
    let job_expected = ctx.seen(&job_addr, fingerprint::job(job));
    ctx.check(&job_addr);
    let job_ref = ObjectRef::Existing { id: job.id.clone() };

    // Schema.
    let schema_addr = ResourceAddr::sync_part(from, &s.name, "schema");
    let have = SchemaParts::observed(job);
    let schema_expected = ctx.seen(&schema_addr, fingerprint::schema(job));
    ctx.check(&schema_addr);
    let want = SchemaParts::desired(s);
    // Schema and scope changes do not depend on the partner settings; starting the job does.
    let mut after = Vec::new();
    if !want.matches(&have) {
        let mut d = Draft::new(
            schema_addr,
            &s.from,
            ActionKind::Update,
            want.operation(config.clone(), job_ref.clone()),
            ActionReason::Drift,
            format!(
                "update the user type, scoping filter and deletions of {}",
                s.name
            ),
        )
        .after(after.clone())
        .expect(schema_expected)
        .changes(want.changes_from(Some(&have)));
        let filter_narrows = want.filter != have.filter && !want.filter.is_empty();
        // A job never started (Graph creates jobs `Disabled`) has provisioned no one, so no
        // one can leave its scope: setting up its filter is not destructive. This is where an
        // apply interrupted between creating the job and writing its schema resumes.
        let never_started = job.schedule_state.as_deref() == Some("Disabled");
        if filter_narrows && want.deletes == Some(true) && !never_started {
            d.destructive = true;
            d.impact = Some(Box::new(Impact {
                message: format!(
                    "users that do not match the new scoping filter leave the scope and will be soft-deleted in {} (not counted: mtoctl does not read user attributes)",
                    s.to
                ),
                users_leaving_scope: 0,
                groups_leaving_scope: Vec::new(),
                soft_deletes: true,
            }));
        }
        after.push(ctx.push(d));
    }

    // Assignments.
    let assigned = assignments(
        ctx,
        s,
        &config,
        app_role.as_ref(),
        existing,
        after.clone(),
        ActionReason::ScopeChange,
    );
    after.extend(assigned);
    after.extend(prereqs);

    // Running state: never start a running job.
    match job.schedule_state.as_deref() {
        Some("Active") => {
            if !s.enabled {
                ctx.push(
                    Draft::new(
                        job_addr.clone(),
                        &s.from,
                        ActionKind::Stop,
                        Operation::PauseJob {
                            configuration: config,
                            job: job_ref,
                        },
                        ActionReason::Drift,
                        format!("pause synchronizing from {} into {}", s.from, s.to),
                    )
                    .expect(job_expected)
                    .changes(vec![change("schedule_state", Some(&"Active"), Some(&"Paused"))]),
                );
            } else if job.status_code.as_deref() == Some("Quarantine") {
                ctx.note(
                    Severity::Warning,
                    Some(job_addr),
                    format!(
                        "the job of {} is quarantined ({}); mtoctl does not restart a running job",
                        s.name,
                        job.quarantine_reason.as_deref().unwrap_or("no reason given")
                    ),
                );
            }
        }
        None | Some("Disabled" | "Paused") => {
            if s.enabled {
                ctx.push(
                    Draft::new(
                        job_addr,
                        &s.from,
                        ActionKind::Start,
                        Operation::StartJob {
                            configuration: config,
                            job: job_ref,
                        },
                        ActionReason::Drift,
                        format!("start synchronizing from {} into {}", s.from, s.to),
                    )
                    .after(after)
                    .expect(job_expected)
                    .changes(vec![change(
                        "schedule_state",
                        Some(&job.schedule_state),
                        Some(&"Active"),
                    )]),
                );
            }
        }
        Some(other) => ctx.note(
            Severity::Warning,
            Some(job_addr),
            format!(
                "the job of {} has schedule state `{other}`, which mtoctl does not know; not starting or pausing it",
                s.name
            ),
        ),
    }
}

/// A resolved principal of a scope.
struct Principal {
    id: Guid,
    kind: PrincipalKind,
    label: String,
}

/// The spec's users and groups found in the source tenant, and whether every one was: a name
/// that resolves to nothing is an error (a typo would otherwise drop the real principal it
/// meant from the scope), with the closest existing names.
fn resolve(ctx: &mut Ctx<'_>, s: &SyncSpec) -> (Vec<Principal>, bool) {
    let principals = &ctx.obs(&s.from).principals;
    let addr = ResourceAddr::sync(s.from.as_str(), &s.name);
    let mut out = Vec::new();
    let mut problems: Vec<(ScopeList, String, String)> = Vec::new();
    let suggest = |name: &str, key: &str| -> String {
        let names = principals
            .candidates
            .get(key)
            .map(|c| closest(name, c.iter().map(String::as_str), 3))
            .unwrap_or_default();
        match names.as_slice() {
            [] => String::new(),
            [one] => format!(" (did you mean {one}?)"),
            many => format!(" (did you mean one of {}?)", many.join(", ")),
        }
    };
    for user in &s.scope.users {
        match principals.user(user) {
            Some(u) => out.push(Principal {
                id: u.id.clone(),
                kind: PrincipalKind::User,
                label: format!("user:{}", u.user_principal_name.to_lowercase()),
            }),
            None => {
                let name = user_text(user);
                let hint = suggest(&name, &name.to_lowercase());
                problems.push((
                    ScopeList::Users,
                    name.clone(),
                    format!("user {name} does not exist in {}{hint}", s.from),
                ));
            }
        }
    }
    for group in &s.scope.groups {
        let (name, quoted) = match group {
            GroupRef::DisplayName(name) => (name.clone(), format!("\"{name}\"")),
            GroupRef::ObjectId(id) => (id.to_string(), id.to_string()),
        };
        match principals.groups(group) {
            [g] => out.push(Principal {
                id: g.id.clone(),
                kind: PrincipalKind::Group,
                label: format!("group:{}", g.display_name),
            }),
            [] => {
                // Names are suggested; an id has no near miss to offer.
                let hint = match group {
                    GroupRef::DisplayName(_) => suggest(&name, &name),
                    GroupRef::ObjectId(_) => String::new(),
                };
                problems.push((
                    ScopeList::Groups,
                    name,
                    format!("group {quoted} does not exist in {}{hint}", s.from),
                ));
            }
            many => problems.push((
                ScopeList::Groups,
                name,
                format!(
                    "{} groups in {} are named {quoted}; name the one meant by object id",
                    many.len(),
                    s.from
                ),
            )),
        }
    }
    let complete = problems.is_empty();
    for (list, name, problem) in problems {
        ctx.note_entry(
            Severity::Error,
            addr.clone(),
            ScopeEntry {
                from: s.from.clone(),
                to: s.to.clone(),
                list,
                name,
            },
            format!(
                "{problem}. Fix the name in the scope of {} → {}; until every name resolves, nothing leaves this scope and the plan cannot be applied",
                s.from, s.to
            ),
        );
    }
    (out, complete)
}

fn user_text(user: &UserRef) -> String {
    match user {
        UserRef::UserPrincipalName(upn) => upn.clone(),
        UserRef::ObjectId(id) => id.to_string(),
    }
}

/// Assigns what the spec names and is missing; unassigns what is assigned and not named.
fn assignments(
    ctx: &mut Ctx<'_>,
    s: &SyncSpec,
    config: &ObjectRef,
    app_role: Option<&ObjectRef>,
    existing: &[AssignmentObservation],
    after: Vec<ActionId>,
    reason: ActionReason,
) -> Vec<ActionId> {
    let from = s.from.as_str();
    let (wanted, complete) = resolve(ctx, s);
    let assigned: BTreeSet<&Guid> = existing.iter().map(|a| &a.principal_id).collect();
    let mut keys = Vec::new();
    let missing: Vec<&Principal> = wanted
        .iter()
        .filter(|p| !assigned.contains(&p.id))
        .collect();
    if !missing.is_empty() && app_role.is_none() {
        ctx.note(
            Severity::Warning,
            Some(ResourceAddr::sync(from, &s.name)),
            format!(
                "{} has no app role for users; cannot assign users or groups to it",
                s.name
            ),
        );
    }
    if let Some(app_role) = app_role {
        for p in missing {
            keys.push(
                ctx.push(
                    Draft::new(
                        ResourceAddr::assignment(from, &s.name, &p.label),
                        &s.from,
                        ActionKind::Create,
                        Operation::AssignPrincipal {
                            configuration: config.clone(),
                            app_role: app_role.clone(),
                            principal_id: p.id.clone(),
                            kind: p.kind,
                        },
                        reason,
                        format!("bring {} into the scope of {}", p.label, s.name),
                    )
                    .after(after.clone())
                    .changes(vec![change(
                        "principal_id",
                        None::<&()>,
                        Some(&p.id),
                    )]),
                ),
            );
        }
    }
    // With `SyncAll` every internal user is in scope; assignments do not narrow it. With a
    // name that did not resolve, the principal it meant may be one assigned now: no removal.
    if s.scope.all_users || !complete {
        return keys;
    }
    let wanted_ids: BTreeSet<&Guid> = wanted.iter().map(|p| &p.id).collect();
    let soft_deletes = s.on_leaving_scope == LeavingScope::SoftDelete;
    for a in existing
        .iter()
        .filter(|a| !wanted_ids.contains(&a.principal_id))
    {
        let is_group = a
            .principal_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("group"));
        // Name it as an assignment of the same principal would be named when added: by UPN
        // or group name when the principal was resolved, else by display name or id.
        let principals = &ctx.obs(&s.from).principals;
        let resolved = if is_group {
            principals
                .groups_by_id
                .get(&a.principal_id)
                .map(|g| g.display_name.clone())
        } else {
            principals
                .users_by_id
                .get(&a.principal_id)
                .map(|u| u.user_principal_name.to_lowercase())
        };
        let name = resolved
            .or_else(|| a.principal_display_name.clone())
            .unwrap_or_else(|| a.principal_id.to_string());
        let label = format!("{}:{name}", if is_group { "group" } else { "user" });
        let addr = ResourceAddr::assignment(from, &s.name, &label);
        let expected = ctx.seen(&addr, fingerprint::assignment(a));
        let fate = if soft_deletes {
            format!("will be soft-deleted in {}", s.to)
        } else {
            format!("stay in {} (onLeavingScope: keep)", s.to)
        };
        let impact = if is_group {
            Impact {
                message: format!(
                    "group {name} (members not counted) leaves the scope; its members {fate}"
                ),
                users_leaving_scope: 0,
                groups_leaving_scope: vec![name.clone()],
                soft_deletes,
            }
        } else {
            Impact {
                message: format!("1 user ({name}) leaves the scope and {fate}"),
                users_leaving_scope: 1,
                groups_leaving_scope: Vec::new(),
                soft_deletes,
            }
        };
        let mut d = Draft::new(
            addr,
            &s.from,
            ActionKind::Delete,
            Operation::RemoveAssignment {
                configuration: config.clone(),
                assignment_id: a.id.clone(),
                principal_id: a.principal_id.clone(),
            },
            ActionReason::ScopeChange,
            format!("take {label} out of the scope of {}", s.name),
        )
        .after(after.clone())
        .expect(expected)
        .changes(vec![change(
            "principal_id",
            Some(&a.principal_id),
            None::<&()>,
        )]);
        d.destructive = soft_deletes;
        d.impact = Some(Box::new(impact));
        keys.push(ctx.push(d));
    }
    keys
}

/// Configurations of `alias` that no spec sync declares.
fn undeclared(ctx: &mut Ctx<'_>, alias: &Alias) {
    let desired = ctx.desired;
    let declared: Vec<&str> = desired
        .syncs
        .iter()
        .filter(|s| &s.from == alias)
        .map(|s| s.name.as_str())
        .collect();
    let prune = desired.prune.contains(&PruneKind::SyncConfigurations);
    let obs = ctx.obs(alias);
    for c in &obs.sync_configurations {
        if declared
            .iter()
            .any(|n| n.eq_ignore_ascii_case(&c.display_name))
        {
            continue;
        }
        let addr = ResourceAddr::sync(alias.as_str(), &c.display_name);
        let expected = ctx.seen(&addr, fingerprint::sync_configuration(c));
        if !prune {
            ctx.note(
                Severity::Info,
                Some(addr),
                format!(
                    "sync configuration {} in {alias} is not in the spec; left alone (add `syncConfigurations` to prune to delete it)",
                    c.display_name
                ),
            );
            continue;
        }
        let mut d = Draft::new(
            addr,
            alias,
            ActionKind::Delete,
            Operation::DeleteSyncConfiguration {
                service_principal_id: c.service_principal_id.clone(),
                display_name: c.display_name.clone(),
            },
            ActionReason::Prune,
            format!("delete sync configuration {} in {alias}", c.display_name),
        )
        .expect(expected);
        d.destructive = true;
        d.impact = Some(Box::new(Impact {
            message: format!(
                "synchronization through {} stops; users it provisioned stay in their target (Graph does not delete them)",
                c.display_name
            ),
            users_leaving_scope: 0,
            groups_leaving_scope: Vec::new(),
            soft_deletes: false,
        }));
        ctx.push(d);
    }
}

#[cfg(test)]
mod tests {
    use crate::plan::Operation;
    use crate::testing::ObservedStateBuilder;
    use crate::tests::{example, plan};

    /// hq's sync into finance has a scoping filter; its job is observed without one (as a
    /// job is before mtoctl writes its schema) and in the given schedule state.
    fn schema_action_destructive(schedule_state: &str) -> bool {
        let desired = example("hub-and-spoke");
        let name = "MTO_Sync_11111111-aaaa-4aaa-8aaa-000000000005";
        let observed = ObservedStateBuilder::converged(&desired)
            .with(|b| {
                let job = &mut b
                    .sync_mut("hq", name)
                    .details
                    .as_mut()
                    .expect("details")
                    .jobs[0];
                job.scoping_filter.clear();
                job.schedule_state = Some(schedule_state.into());
            })
            .build();
        let p = plan(&desired, &observed);
        p.actions
            .iter()
            .find(|a| matches!(a.operation, Operation::UpdateSchema { .. }))
            .unwrap_or_else(|| panic!("a schema update: {:#?}", p.actions))
            .destructive
    }

    #[test]
    fn a_new_filter_on_a_job_that_never_ran_is_not_destructive() {
        assert!(!schema_action_destructive("Disabled"));
        assert!(schema_action_destructive("Paused"));
    }
}
