//! The setup chain of a configuration without a job: validate credentials, create the job,
//! write its settings, set the schema, assign users and groups, start.

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
