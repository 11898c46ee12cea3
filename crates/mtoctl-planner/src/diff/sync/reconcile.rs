//! An existing configuration with its job, brought to the spec: the schema (destructive when a
//! narrower filter soft-deletes users), the assignments, and whether the job runs.

use mtoctl_model::desired::SyncSpec;
use mtoctl_model::observed::{AssignmentObservation, SyncJobObservation};

use super::scope::assignments;
use crate::diff::schema::WantedSchema;
use crate::diff::{Ctx, Draft, change};
use mtoctl_model::plan::ResourceAddr;
use mtoctl_model::plan::fingerprint;
use mtoctl_model::plan::fingerprint::SchemaParts;
use mtoctl_model::plan::{ActionId, ActionKind, ActionReason, Impact, ObjectRef, Operation};
use mtoctl_model::plan::{ScopeEntry, ScopeList, Severity};

/// Whether the job's schema has every attribute the spec's mappings name (its target
/// directory's user attributes for targets, its source directory's for what they read); an
/// error note at the mapping's line for each that it lacks. A schema read without its
/// directories has nothing to check against: Graph checks when it is written.
fn mappings_fit(ctx: &mut Ctx<'_>, s: &SyncSpec, job: &SyncJobObservation) -> bool {
    let mut fit = true;
    let has = |list: &[String], name: &str| {
        list.is_empty() || list.iter().any(|a| a.eq_ignore_ascii_case(name))
    };
    let addr = ResourceAddr::sync_part(s.from.as_str(), &s.name, "schema");
    for m in &s.mappings {
        let mut problems = Vec::new();
        if !has(&job.target_attributes, &m.target) {
            problems.push(format!(
                "{} has no attribute `{}` for users to map to",
                s.to, m.target
            ));
        }
        for a in m.source.attributes() {
            if !has(&job.source_attributes, &a) {
                problems.push(format!("{} has no user attribute `{a}` to read", s.from));
            }
        }
        for problem in problems {
            fit = false;
            ctx.note_entry(
                Severity::Error,
                addr.clone(),
                ScopeEntry {
                    from: s.from.clone(),
                    to: s.to.clone(),
                    list: ScopeList::Mappings,
                    name: m.target.clone(),
                },
                format!(
                    "the mapping of `{}` in {}: {problem} (the job's schema lists the attributes it knows)",
                    m.target, s.name
                ),
            );
        }
    }
    fit
}

/// An existing configuration with its job: schema, assignments, running state.
pub(super) fn reconcile(
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
    let schema_expected = ctx.seen(&schema_addr, fingerprint::schema_of(&have));
    ctx.check(&schema_addr);
    if s.reset_mappings && job.template_mappings.is_empty() {
        ctx.note(
            Severity::Warning,
            Some(ResourceAddr::sync_part(from, &s.name, "schema")),
            format!(
                "the template of {}'s job could not be read: its mappings are not reset (resetMappings)",
                s.name
            ),
        );
    }
    let want = WantedSchema::desired(s, Some(job));
    // Schema and scope changes do not depend on the partner settings; starting the job does.
    let mut after = Vec::new();
    if !mappings_fit(ctx, s, job) {
        // Nothing is written to a schema that cannot take the spec's mappings.
    } else if !want.matches(&have) {
        let mut d = Draft::new(
            schema_addr,
            &s.from,
            ActionKind::Update,
            want.operation(config.clone(), job_ref.clone()),
            ActionReason::Drift,
            if s.mappings.is_empty() {
                format!(
                    "update the user type, scoping filter and deletions of {}",
                    s.name
                )
            } else {
                format!(
                    "update the user type, scoping filter, deletions and attribute mappings of {}",
                    s.name
                )
            },
        )
        .after(after.clone())
        .expect(schema_expected)
        .changes(want.changes_from(Some(&have)));
        let filter_narrows = want.parts.filter != have.filter && !want.parts.filter.is_empty();
        // A job never started (Graph creates jobs `Disabled`) has provisioned no one, so no
        // one can leave its scope: setting up its filter is not destructive. This is where an
        // apply interrupted between creating the job and writing its schema resumes.
        let never_started = job.schedule_state.as_deref() == Some("Disabled");
        if filter_narrows && want.parts.deletes == Some(true) && !never_started {
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
        // Turning group provisioning off: what Graph then does with the groups it made is not
        // documented, and they are no longer kept in sync; reviewed as destructive.
        if want.parts.groups == Some(false) && have.groups == Some(true) {
            d.destructive = true;
            d.impact = Some(Box::new(Impact::described(format!(
                "the groups {} provisioned into {} as groups are no longer kept in sync (Graph does not document whether they are then deleted or left)",
                s.from, s.to
            ))));
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
    after.extend(prereqs.iter().copied());

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
            // A job never started (made by an apply that waited for a join, or interrupted)
            // is checked against the target first, as a new one is.
            let never_started = job.schedule_state.as_deref() == Some("Disabled");
            let target = ctx.desired.tenant(&s.to).map(|t| t.tenant_id.clone());
            if s.enabled
                && never_started
                && let Some(target) = target
            {
                after.push(ctx.push(
                    Draft::new(
                        ResourceAddr::sync_part(from, &s.name, "credentials"),
                        &s.from,
                        ActionKind::Check,
                        Operation::ValidateCredentials {
                            configuration: config.clone(),
                            target_tenant_id: target,
                        },
                        ActionReason::Setup,
                        format!("check that {} may provision users into {}", s.from, s.to),
                    )
                    .after(prereqs),
                ));
            }
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
