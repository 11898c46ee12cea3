//! The setup chain of a configuration without a job: validate credentials, create the job,
//! write its settings, set the schema, assign users and groups, start.
//!
//! While a join is pending, only the configuration, its job, settings and schema are made;
//! validation, the assignments and the start wait for the join (`super::one` defers them).
//!
//! Graph orders only what names another object: the schema is the job's, and everything is
//! the configuration's. So on a configuration this plan makes, the job, the settings and the
//! assignments all follow the instantiation side by side, and validation beside them; an
//! adopted configuration is validated first, the guard of its fingerprint before any write.
//! The start comes last, after all of them (graph-reference §10.3 lists one order, the
//! how-to's, not a constraint of the API reference).

use mtoctl_model::desired::SyncSpec;

use super::Chain;
use super::scope::assignments;
use crate::diff::schema::WantedSchema;
use crate::diff::{Ctx, Draft, change};
use mtoctl_model::plan::ResourceAddr;
use mtoctl_model::plan::{ActionKind, ExpectedBefore, ObjectRef, Operation};

/// Validate, job, settings, schema, assignments, start: for a configuration without a job.
pub(super) fn setup(
    ctx: &mut Ctx<'_>,
    s: &SyncSpec,
    target: &mtoctl_model::ids::TenantId,
    chain: Chain,
) {
    let from = s.from.as_str();
    let validate = chain.ready.then(|| {
        ctx.push(
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
            .expect(chain.config_expected.clone()),
        )
    });
    // The first writes on the configuration: right after this plan made it, or once an
    // adopted one passed validation (whose re-read guards its fingerprint).
    let gate: Vec<_> = match chain.made_by {
        Some(made) => vec![made],
        None => validate.into_iter().collect(),
    };
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
        .after(gate.clone()),
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
        .after(gate)
        .expect(chain.config_expected)
        .changes(vec![
            change("target_tenant_id", None::<&()>, Some(target)),
            change("sync_all", None::<&()>, Some(&s.scope.all_users)),
        ]),
    );
    // A job this plan creates has its template's mappings: nothing to reset.
    let want = WantedSchema::desired(s, None);
    let schema = ctx.push(
        Draft::new(
            ResourceAddr::sync_part(from, &s.name, "schema"),
            &s.from,
            ActionKind::Update,
            want.operation(chain.config.clone(), job_ref.clone()),
            chain.reason,
            if s.mappings.is_empty() {
                format!(
                    "set the user type, scoping filter and deletions of {}",
                    s.name
                )
            } else {
                format!(
                    "set the user type, scoping filter, deletions and attribute mappings of {}",
                    s.name
                )
            },
        )
        .after([job])
        .expect(created.clone())
        .changes(want.changes_from(None)),
    );
    // Assignments only need the configuration: the job is created stopped and starts only
    // once they, the settings and the schema are all in place, so they need not wait for the
    // job, settings and schema (seconds of service time on real Graph) and run beside them.
    // A running job is another matter (`reconcile`): there, scope follows the schema. While
    // a join is pending they wait with the start: a plan of a mesh would otherwise list its
    // 190,000 assignments before anything exists, and they take no longer after the join.
    let assigned = if chain.ready {
        assignments(
            ctx,
            s,
            &chain.config,
            chain.app_role.as_ref(),
            &[],
            chain.after.clone(),
            chain.reason,
        )
    } else {
        Vec::new()
    };
    if s.enabled && chain.ready {
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
            .after(
                [
                    validate.into_iter().collect(),
                    vec![secrets, schema],
                    assigned,
                ]
                .concat(),
            )
            .expect(created),
        );
    }
}
