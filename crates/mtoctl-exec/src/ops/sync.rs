//! Cross-tenant synchronization: configurations, their credentials and settings, jobs and
//! their schema.

use mtoctl_graph::objects::{FilterGroupWrite, Made, MappingWrite, SchemaWrite, jobs, sync};
use mtoctl_graph::transport::GraphClient;
use mtoctl_model::plan::{Operation, ScopingFilterGroup};

use super::twins;
use super::{Looks, OpError, Resolve, Step, done, made, object, step};
use crate::races::Verdict;
use crate::report::Created;
use mtoctl_model::plan::ObjectRef;

/// Carries out an operation on a sync configuration or its job.
pub(super) async fn run(
    c: &GraphClient,
    t: &str,
    op: &Operation,
    refs: &(dyn Resolve + Sync),
    looks: Looks<'_>,
) -> Result<Step, OpError> {
    Ok(match op {
        Operation::InstantiateSyncConfiguration { display_name } => {
            instantiate(c, t, display_name, looks).await?
        }
        Operation::ValidateCredentials {
            configuration,
            target_tenant_id,
        } => {
            let sp = object(refs, configuration)?;
            sync::validate_credentials(c, t, &sp, target_tenant_id).await?;
            done()
        }
        Operation::CreateSyncJob { configuration } => {
            let sp = object(refs, configuration)?;
            // A configuration this apply just made has no job: no look first.
            let look_first = !refs.made_here(configuration);
            let made = jobs::create(c, t, &sp, look_first).await?;
            if let Made::Created(ours) = &made {
                let look = twins::keep_one_job(c.clone(), t.to_owned(), sp, ours.clone());
                looks.races.look(looks.action, look);
            }
            step(made, |id| (Some(id), None))
        }
        Operation::PutSyncSecrets {
            configuration,
            target_tenant_id,
            sync_all,
        } => {
            let sp = object(refs, configuration)?;
            sync::put_secrets(c, t, &sp, target_tenant_id, *sync_all).await?;
            done()
        }
        Operation::UpdateSchema {
            configuration,
            job,
            user_type,
            flow,
            filter,
            mappings,
            remove_mappings,
            deletes,
            groups,
        } => {
            let (sp, job) = (object(refs, configuration)?, object(refs, job)?);
            let want = SchemaWrite {
                user_type: *user_type,
                flow: *flow,
                filter: filter.iter().map(filter_group).collect(),
                deletes: *deletes,
                mappings: mappings
                    .iter()
                    .map(|m| MappingWrite {
                        spec: m.clone(),
                        parsed: None,
                    })
                    .collect(),
                remove_mappings: remove_mappings.clone(),
                groups: *groups,
            };
            jobs::update_schema(c, t, &sp, &job, want).await?;
            done()
        }
        Operation::StartJob { configuration, job } => {
            // Nothing is started on an object this run may have to delete as a twin.
            for made in [configuration, job] {
                if let ObjectRef::CreatedBy { action } = made
                    && let Some(Verdict::Lost(why)) = looks.races.verdict(action).await
                {
                    return Err(OpError::LostRace(why));
                }
            }
            let sp = object(refs, configuration)?;
            // A job this apply just made is stopped (Graph creates jobs disabled), and one
            // re-read just now as the plan saw it is not running: no second look.
            let look_first = !refs.made_here(job) && !looks.rechecked;
            let job = object(refs, job)?;
            made(jobs::start(c, t, &sp, &job, look_first).await?)
        }
        Operation::PauseJob { configuration, job } => {
            let (sp, job) = (object(refs, configuration)?, object(refs, job)?);
            made(jobs::pause(c, t, &sp, &job).await?)
        }
        Operation::DeleteSyncConfiguration {
            service_principal_id,
            ..
        } => {
            sync::delete_configuration(c, t, service_principal_id).await?;
            done()
        }
        _ => {
            return Err(OpError::Misrouted(
                format!("{op:?}"),
                "a sync configuration",
            ));
        }
    })
}

/// Makes the configuration, or adopts the one with its name; the look for a twin another run
/// made at the same moment (see [`twins`]) runs beside the rest of the chain.
async fn instantiate(
    c: &GraphClient,
    t: &str,
    display_name: &str,
    looks: Looks<'_>,
) -> Result<Step, OpError> {
    let ids =
        |x: mtoctl_graph::objects::ConfigurationIds| (Some(x.service_principal_id), x.user_role_id);
    let ours = match sync::instantiate(c, t, display_name).await? {
        Made::Created(ours) => ours,
        adopted => return Ok(step(adopted, ids)),
    };
    let user_role_id = match &ours.user_role_id {
        Some(role) => Some(role.clone()),
        None => sync::find(c, t, display_name)
            .await?
            .and_then(|f| f.user_role_id),
    };
    let id = ours.service_principal_id.clone();
    let look =
        twins::keep_one_configuration(c.clone(), t.to_owned(), display_name.to_owned(), ours);
    looks.races.look(looks.action, look);
    Ok(Step::Done(Created {
        id: Some(id),
        user_role_id,
        adopted: false,
    }))
}

fn filter_group(g: &ScopingFilterGroup) -> FilterGroupWrite {
    FilterGroupWrite {
        name: g.name.clone(),
        clauses: g
            .clauses
            .iter()
            .map(|c| (c.attribute.clone(), c.operator, c.values.clone()))
            .collect(),
    }
}
