//! A configuration's synchronization jobs (§6.5, §6.6) and their schema (§6.8).

use mtoctl_model::observed::{Known, SyncJobObservation};

use super::{
    Attempt, Made, ObjectError, ScheduleState, SchemaWrite, create_once, delete, find, list, send,
};
use crate::transport::GraphClient;
use crate::wire::{answers, observe, reads, writes};

const READ: &str = "read the job";

/// The ids of the configuration's jobs, in Graph's order.
pub async fn ids(c: &GraphClient, t: &str, sp: &str) -> Result<Vec<String>, ObjectError> {
    let items = list(c, t, &reads::list_jobs(sp), "read the configuration's jobs").await?;
    Ok(items.iter().filter_map(answers::decode_id).collect())
}

/// The configuration's first job, if it has one.
pub async fn first(c: &GraphClient, t: &str, sp: &str) -> Result<Option<String>, ObjectError> {
    Ok(ids(c, t, sp).await?.into_iter().next())
}

/// Makes the configuration's job (Graph makes it disabled), or adopts the one it has.
/// `look_first: false` skips the look for one where none can be (a configuration made moments
/// ago). A job create makes a new job each time it is carried out: after an answer that
/// leaves open whether Graph acted, a job is looked for before it is sent again, and one found
/// then is adopted.
pub async fn create(
    c: &GraphClient,
    t: &str,
    sp: &str,
    look_first: bool,
) -> Result<Made<String>, ObjectError> {
    if look_first && let Some(job) = first(c, t, sp).await? {
        return Ok(Made::Adopted(job));
    }
    let decode = |body: &serde_json::Value| {
        answers::decode_id(body).ok_or(ObjectError::Answer("the job answer has no id"))
    };
    let request = writes::create_job(sp);
    let made = create_once(c, t, &request, "create the job", decode, || first(c, t, sp)).await?;
    Ok(match made {
        Attempt::Answered(job) => Made::Created(job),
        Attempt::Found(job) => Made::Adopted(job),
    })
}

/// Deletes a job.
pub async fn delete_job(c: &GraphClient, t: &str, sp: &str, job: &str) -> Result<(), ObjectError> {
    delete(c, t, &writes::delete_job(sp, job), "delete the job").await
}

/// The job's schedule state; `None` when the job is gone or shows none.
pub async fn schedule_state(
    c: &GraphClient,
    t: &str,
    sp: &str,
    job: &str,
) -> Result<Option<Known<ScheduleState>>, ObjectError> {
    Ok(find(c, t, &reads::get_job(sp, job), READ)
        .await?
        .and_then(|body| answers::decode_job_schedule_state(&body)))
}

async fn is(
    c: &GraphClient,
    t: &str,
    sp: &str,
    job: &str,
    state: ScheduleState,
) -> Result<bool, ObjectError> {
    Ok(schedule_state(c, t, sp, job)
        .await?
        .is_some_and(|s| s.is(&state)))
}

/// Starts (or resumes) a job, or adopts its being active: Microsoft warns against starting a
/// running job, and Graph refuses a second start after one whose answer was lost.
/// `look_first: false` skips the look where the job cannot be active (made moments ago).
pub async fn start(
    c: &GraphClient,
    t: &str,
    sp: &str,
    job: &str,
    look_first: bool,
) -> Result<Made<()>, ObjectError> {
    if look_first && is(c, t, sp, job, ScheduleState::Active).await? {
        return Ok(Made::Adopted(()));
    }
    match c.send(t, &writes::start_job(sp, job)).await {
        Ok(_) => Ok(Made::Created(())),
        Err(_) if is(c, t, sp, job, ScheduleState::Active).await? => Ok(Made::Adopted(())),
        Err(e) => Err(super::failed("start the job")(e)),
    }
}

/// Pauses a job, or adopts its being paused (an earlier attempt whose answer was lost).
pub async fn pause(c: &GraphClient, t: &str, sp: &str, job: &str) -> Result<Made<()>, ObjectError> {
    match c.send(t, &writes::pause_job(sp, job)).await {
        Ok(_) => Ok(Made::Created(())),
        Err(_) if is(c, t, sp, job, ScheduleState::Paused).await? => Ok(Made::Adopted(())),
        Err(e) => Err(super::failed("pause the job")(e)),
    }
}

/// The job, without its schema; `None` when it is gone.
pub async fn job(
    c: &GraphClient,
    t: &str,
    sp: &str,
    job: &str,
) -> Result<Option<SyncJobObservation>, ObjectError> {
    Ok(find(c, t, &reads::get_job(sp, job), READ)
        .await?
        .and_then(|body| observe::job(&body, None)))
}

/// The job with what its schema says; `None` when it is gone.
pub async fn with_schema(
    c: &GraphClient,
    t: &str,
    sp: &str,
    job: &str,
) -> Result<Option<SyncJobObservation>, ObjectError> {
    let Some(body) = find(c, t, &reads::get_job(sp, job), READ).await? else {
        return Ok(None);
    };
    let schema = read_schema(c, t, sp, job).await?;
    Ok(observe::job(&body, Some(&schema)))
}

async fn read_schema(
    c: &GraphClient,
    t: &str,
    sp: &str,
    job: &str,
) -> Result<serde_json::Value, ObjectError> {
    let read = reads::get_schema(sp, job);
    Ok(send(c, t, &read, "read the job's schema").await?.body)
}

/// Checks the managed mappings against the schema as read, before anything is written: each
/// target attribute must be one of the target directory's user attributes, each copied source
/// attribute one of the source directory's, and each expression must parse (Graph's
/// `parseExpression`, whose parsed source is what gets written).
async fn check_mappings(
    c: &GraphClient,
    t: &str,
    sp: &str,
    job: &str,
    schema: &serde_json::Value,
    mappings: &mut [writes::MappingWrite],
) -> Result<(), ObjectError> {
    use mtoctl_model::desired::MappingSource;
    if mappings.is_empty() {
        return Ok(());
    }
    let (sources, targets) = serde_json::from_value::<crate::wire::sync::Schema>(schema.clone())
        .map(|s| s.user_attributes())
        .unwrap_or_default();
    let known = |list: &[String], name: &str| {
        list.is_empty() || list.iter().any(|a| a.eq_ignore_ascii_case(name))
    };
    for m in mappings.iter_mut() {
        let spec = &m.spec;
        if !known(&targets, &spec.target) {
            return Err(ObjectError::UnknownAttribute {
                job: job.to_owned(),
                attribute: spec.target.clone(),
                side: "target",
            });
        }
        match &spec.source {
            MappingSource::Attribute(a) if !known(&sources, a) => {
                return Err(ObjectError::UnknownAttribute {
                    job: job.to_owned(),
                    attribute: a.clone(),
                    side: "source",
                });
            }
            MappingSource::Expression(e) => {
                let answer = send(
                    c,
                    t,
                    &writes::parse_expression(sp, job, e),
                    "parse a mapping's expression",
                )
                .await?;
                let parsed = writes::parsed_expression(&answer.body).map_err(|reason| {
                    ObjectError::Expression {
                        target: spec.target.clone(),
                        expression: e.clone(),
                        reason,
                    }
                })?;
                m.parsed = Some(parsed);
            }
            _ => {}
        }
    }
    Ok(())
}

/// Sets the managed parts of the job's schema, the rest kept as read: the schema is read,
/// edited and put back whole (Graph has no partial update of it).
pub async fn update_schema(
    c: &GraphClient,
    t: &str,
    sp: &str,
    job: &str,
    mut want: SchemaWrite,
) -> Result<(), ObjectError> {
    let mut schema = read_schema(c, t, sp, job).await?;
    check_mappings(c, t, sp, job, &schema, &mut want.mappings).await?;
    writes::edit_schema(&mut schema, &want).map_err(|source| ObjectError::Schema {
        job: job.to_owned(),
        source,
    })?;
    let put = writes::put_schema(sp, job, schema);
    send(c, t, &put, "write the job's schema").await?;
    Ok(())
}
