//! The details of sync configurations: their jobs and assignments (wave 2), and the jobs'
//! schemas (wave 3, sent once the jobs are read, alongside the assignments), or all three with
//! wave 1 for a configuration an earlier run saw (`read_ahead`, by its ids, kept only where
//! they match what wave 1 and the jobs list find); and, when asked, the templates the jobs
//! were made from.

use std::collections::BTreeMap;

use mtoctl_model::known::KnownConfiguration;
use mtoctl_model::observed::{SyncConfigurationDetails, SyncConfigurationObservation};

use super::Failures;
use super::decode::{collection_raw, decode_text, take_page};
use crate::error::GraphError;
use crate::transport::{GraphClient, GraphRequest, MAX_BATCH, RawResponse};
use crate::wire::sync;

/// Jobs and assignments (wave 2), then schemas (wave 3), for the given configurations; for
/// those `ahead` read by the ids an earlier run saw, only the schemas of jobs it did not know.
/// The schemas need only the jobs, so they are asked for as soon as the jobs are read, while
/// the (larger, slower) assignment pages are still coming.
pub(crate) async fn read_details(
    client: &GraphClient,
    alias: &str,
    declared: &[&sync::ServicePrincipal],
    mut ahead: Ahead,
    failures: &mut Failures,
) -> BTreeMap<String, SyncConfigurationDetails> {
    let mut out = BTreeMap::new();
    if declared.is_empty() {
        return out;
    }
    // Only what wave 1 found under the same id is taken from what was read ahead.
    let mut reads: BTreeMap<String, Read> = BTreeMap::new();
    let mut rest = Vec::new();
    for sp in declared {
        match ahead.configurations.remove(&sp.id) {
            Some(read) => {
                reads.insert(sp.id.clone(), read);
            }
            None => rest.push(*sp),
        }
    }
    let (read_rest, ()) = tokio::join!(
        read_unknown(client, alias, &rest),
        read_missing_schemas(client, alias, ahead.schemas, &mut reads)
    );
    reads.extend(rest.iter().map(|sp| sp.id.clone()).zip(read_rest));
    let label = |sp: &sync::ServicePrincipal, what: &str| {
        format!(
            "tenant {alias}: {what} of sync configuration `{}`",
            sp.display_name.as_deref().unwrap_or(&sp.id)
        )
    };
    for sp in declared {
        let Some(read) = reads.remove(&sp.id) else {
            continue;
        };
        let jobs = match read.jobs {
            Ok(jobs) => jobs,
            Err(e) => {
                failures.push((label(sp, "the jobs"), e));
                continue;
            }
        };
        let assignments = match read.assignments {
            Ok(assignments) => assignments,
            Err(e) => {
                failures.push((label(sp, "the assignments"), e));
                continue;
            }
        };
        let mut observed_jobs = Vec::new();
        for (job, schema) in jobs.into_iter().zip(read.schemas) {
            let schema = match schema {
                Ok(r) => match decode_text::<sync::Schema>(&r.body) {
                    Ok(s) => Some(s),
                    Err(e) => {
                        failures.push((
                            format!("tenant {alias}: the schema of job {}", job.id),
                            GraphError::Decode {
                                tenant: alias.to_owned(),
                                method: "GET".into(),
                                path: sync::schema_path(&sp.id, &job.id),
                                reason: e.to_string(),
                            },
                        ));
                        None
                    }
                },
                Err(e) => {
                    failures.push((format!("tenant {alias}: the schema of job {}", job.id), e));
                    None
                }
            };
            observed_jobs.push(job.observe(schema));
        }
        let mut assignments: Vec<_> = assignments
            .into_iter()
            .filter_map(sync::Assignment::observe)
            .collect();
        assignments.sort_by(|a, b| (&a.principal_id, &a.id).cmp(&(&b.principal_id, &b.id)));
        out.insert(
            sp.id.clone(),
            SyncConfigurationDetails {
                jobs: observed_jobs,
                assignments,
            },
        );
    }
    out
}

/// One configuration's details as read: its jobs, its assignments, and one schema answer per
/// job, in the jobs' order (none when the jobs could not be read).
struct Read {
    jobs: Result<Vec<sync::Job>, GraphError>,
    assignments: Result<Vec<sync::Assignment>, GraphError>,
    schemas: Vec<Result<RawResponse, GraphError>>,
}

/// The details of configurations an earlier run saw, read by its ids beside wave 1.
#[derive(Default)]
pub(crate) struct Ahead {
    /// By service principal id: those whose jobs and assignments were both read, without
    /// their schemas.
    configurations: BTreeMap<String, Read>,
    /// The schemas read, by service principal and job id, until the jobs lists say whose
    /// they are.
    schemas: BTreeMap<(String, String), RawResponse>,
}

/// The jobs, assignments and schemas of `known`, each asked for by the ids an earlier run saw,
/// in one list of `$batch` calls. A read that fails (the object is gone, or anything else) is
/// dropped: the configuration is then read the usual way, whose failure is the one reported.
pub(crate) async fn read_ahead(
    client: &GraphClient,
    alias: &str,
    known: &[KnownConfiguration],
) -> Ahead {
    let mut ahead = Ahead::default();
    if known.is_empty() {
        return ahead;
    }
    let mut requests = Vec::new();
    for k in known {
        requests.push(GraphRequest::get(sync::jobs_path(&k.service_principal_id)).guessed());
        requests.push(GraphRequest::get(sync::assignments_path(&k.service_principal_id)).guessed());
    }
    let collections = requests.len();
    let mut schema_keys = Vec::new();
    for k in known {
        for job in &k.job_ids {
            requests
                .push(GraphRequest::get(sync::schema_path(&k.service_principal_id, job)).guessed());
            schema_keys.push((k.service_principal_id.clone(), job.clone()));
        }
    }
    let mut answers = client.send_all_raw(alias, &requests).await.into_iter();
    let firsts = requests[..collections]
        .iter()
        .zip(answers.by_ref().take(collections))
        .collect();
    for (key, answer) in schema_keys.into_iter().zip(answers) {
        if let Ok(answer) = answer {
            ahead.schemas.insert(key, answer);
        }
    }
    let mut jobs: Vec<Vec<sync::Job>> = known.iter().map(|_| Vec::new()).collect();
    let mut assignments: Vec<Vec<sync::Assignment>> = known.iter().map(|_| Vec::new()).collect();
    let read = client
        .follow_all_raw(alias, firsts, |index, request, page| {
            if index % 2 == 0 {
                take_page(alias, request, &page.body, &mut jobs[index / 2])
            } else {
                take_page(alias, request, &page.body, &mut assignments[index / 2])
            }
        })
        .await;
    let mut read = read.into_iter();
    for ((k, jobs), assignments) in known.iter().zip(jobs).zip(assignments) {
        let (Some(Ok(())), Some(Ok(()))) = (read.next(), read.next()) else {
            continue;
        };
        ahead.configurations.insert(
            k.service_principal_id.clone(),
            Read {
                jobs: Ok(jobs),
                assignments: Ok(assignments),
                schemas: Vec::new(),
            },
        );
    }
    ahead
}

/// The schemas of the jobs of configurations read ahead: those read with them (`schemas`, by
/// service principal and job id) put in place, the others read now.
async fn read_missing_schemas(
    client: &GraphClient,
    alias: &str,
    schemas: BTreeMap<(String, String), RawResponse>,
    reads: &mut BTreeMap<String, Read>,
) {
    let mut answers: BTreeMap<(String, String), Result<RawResponse, GraphError>> =
        schemas.into_iter().map(|(key, r)| (key, Ok(r))).collect();
    let mut missing = Vec::new();
    for (sp, read) in reads.iter() {
        let Ok(jobs) = &read.jobs else { continue };
        for job in jobs {
            let key = (sp.clone(), job.id.clone());
            if !answers.contains_key(&key) && !missing.contains(&key) {
                missing.push(key);
            }
        }
    }
    if !missing.is_empty() {
        let requests: Vec<GraphRequest> = missing
            .iter()
            .map(|(sp, job)| GraphRequest::get(sync::schema_path(sp, job)))
            .collect();
        let read = client.send_all_raw(alias, &requests).await;
        answers.extend(missing.into_iter().zip(read));
    }
    for (sp, read) in reads.iter_mut() {
        let Ok(jobs) = &read.jobs else { continue };
        read.schemas = jobs
            .iter()
            .map(|job| {
                answers
                    .remove(&(sp.clone(), job.id.clone()))
                    .unwrap_or_else(|| {
                        Err(GraphError::Decode {
                            tenant: alias.to_owned(),
                            method: "GET".into(),
                            path: sync::jobs_path(sp),
                            reason: format!("job {} is listed twice", job.id),
                        })
                    })
            })
            .collect();
    }
}

/// Jobs, assignments and schemas of configurations nothing was read ahead for, each
/// configuration's in `rest`'s order.
async fn read_unknown(
    client: &GraphClient,
    alias: &str,
    rest: &[&sync::ServicePrincipal],
) -> Vec<Read> {
    if rest.is_empty() {
        return Vec::new();
    }
    // Apart, the jobs' `$batch` calls answer first and the schemas follow while the assignments
    // come; together, every call holds both, and the schemas wait for all. Apart only where
    // that costs no call (not for one configuration: two calls instead of one).
    let calls = |requests: usize| requests.div_ceil(MAX_BATCH);
    let ((jobs, jobs_read, schemas), (assignments, assignments_read)) =
        if 2 * calls(rest.len()) == calls(2 * rest.len()) {
            tokio::join!(
                read_jobs_then_schemas(client, alias, rest),
                read_each(client, alias, rest, sync::assignments_path)
            )
        } else {
            read_together(client, alias, rest).await
        };
    let mut schemas = schemas.into_iter();
    jobs.into_iter()
        .zip(jobs_read)
        .zip(assignments.into_iter().zip(assignments_read))
        .map(|((jobs, jobs_read), (assignments, assignments_read))| {
            // A configuration whose jobs could not be read asked for no schema (its list was
            // emptied), so this takes none of the next one's.
            let schemas = schemas.by_ref().take(jobs.len()).collect();
            Read {
                jobs: jobs_read.map(|()| jobs),
                assignments: assignments_read.map(|()| assignments),
                schemas,
            }
        })
        .collect()
}

/// Each configuration's items, and the outcome of reading them.
type PerConfiguration<T> = (Vec<Vec<T>>, Vec<Result<(), GraphError>>);

/// Each configuration's jobs and the outcome of reading them, then every job's schema answer.
type JobsAndSchemas = (
    Vec<Vec<sync::Job>>,
    Vec<Result<(), GraphError>>,
    Vec<Result<RawResponse, GraphError>>,
);

/// Every configuration's jobs (with each read's outcome), then the schema of every job read,
/// in the same order: the jobs of the first configuration first.
async fn read_jobs_then_schemas(
    client: &GraphClient,
    alias: &str,
    declared: &[&sync::ServicePrincipal],
) -> JobsAndSchemas {
    let (mut jobs, read) = read_each(client, alias, declared, sync::jobs_path).await;
    let schemas = read_schemas(client, alias, declared, &mut jobs, &read).await;
    (jobs, read, schemas)
}

/// The schema of every job read, in order. A configuration whose jobs could not be read keeps
/// none, so it asks for no schema.
async fn read_schemas(
    client: &GraphClient,
    alias: &str,
    declared: &[&sync::ServicePrincipal],
    jobs: &mut [Vec<sync::Job>],
    read: &[Result<(), GraphError>],
) -> Vec<Result<RawResponse, GraphError>> {
    for (jobs, read) in jobs.iter_mut().zip(read) {
        if read.is_err() {
            jobs.clear();
        }
    }
    let requests: Vec<GraphRequest> = declared
        .iter()
        .zip(jobs.iter())
        .flat_map(|(sp, jobs)| {
            jobs.iter()
                .map(|j| GraphRequest::get(sync::schema_path(&sp.id, &j.id)))
        })
        .collect();
    client.send_all_raw(alias, &requests).await
}

/// What [`read_jobs_then_schemas`] and [`read_each`] of the assignments read, with each
/// configuration's jobs and assignments asked for in the same `$batch` calls.
async fn read_together(
    client: &GraphClient,
    alias: &str,
    declared: &[&sync::ServicePrincipal],
) -> (JobsAndSchemas, PerConfiguration<sync::Assignment>) {
    let mut requests = Vec::new();
    for sp in declared {
        requests.push(GraphRequest::get(sync::jobs_path(&sp.id)));
        requests.push(GraphRequest::get(sync::assignments_path(&sp.id)));
    }
    let mut jobs: Vec<Vec<sync::Job>> = declared.iter().map(|_| Vec::new()).collect();
    let mut assignments: Vec<Vec<sync::Assignment>> = declared.iter().map(|_| Vec::new()).collect();
    let read = client
        .get_all_of_raw(alias, &requests, |index, request, page| {
            if index % 2 == 0 {
                take_page(alias, request, &page.body, &mut jobs[index / 2])
            } else {
                take_page(alias, request, &page.body, &mut assignments[index / 2])
            }
        })
        .await;
    let mut jobs_read = Vec::new();
    let mut assignments_read = Vec::new();
    let mut read = read.into_iter();
    while let (Some(j), Some(a)) = (read.next(), read.next()) {
        jobs_read.push(j);
        assignments_read.push(a);
    }
    let schemas = read_schemas(client, alias, declared, &mut jobs, &jobs_read).await;
    ((jobs, jobs_read, schemas), (assignments, assignments_read))
}

/// One collection of each configuration (at `path` of its id), every page, with each read's
/// outcome. The collections' further pages are read together, not one configuration after
/// another (a round trip each); each page is decoded as it comes.
async fn read_each<T: serde::de::DeserializeOwned>(
    client: &GraphClient,
    alias: &str,
    declared: &[&sync::ServicePrincipal],
    path: fn(&str) -> String,
) -> PerConfiguration<T> {
    let requests: Vec<GraphRequest> = declared
        .iter()
        .map(|sp| GraphRequest::get(path(&sp.id)))
        .collect();
    let mut items: Vec<Vec<T>> = declared.iter().map(|_| Vec::new()).collect();
    let read = client
        .get_all_of_raw(alias, &requests, |index, request, page| {
            take_page(alias, request, &page.body, &mut items[index])
        })
        .await;
    (items, read)
}

/// The user mappings of the template each job of `configurations` was made from (`GET
/// …/synchronization/templates`), for those `wanted` names: `export` compares mappings with
/// them, and `resetMappings` brings mappings back to them.
pub(crate) async fn read_templates(
    client: &GraphClient,
    alias: &str,
    configurations: &mut [SyncConfigurationObservation],
    wanted: impl Fn(&str) -> bool,
    failures: &mut Failures,
) {
    let chosen: Vec<&mut SyncConfigurationObservation> = configurations
        .iter_mut()
        .filter(|c| c.details.is_some() && wanted(&c.display_name))
        .collect();
    if chosen.is_empty() {
        return;
    }
    let requests: Vec<GraphRequest> = chosen
        .iter()
        .map(|c| GraphRequest::get(sync::templates_path(&c.service_principal_id)))
        .collect();
    let answers = client.send_all_raw(alias, &requests).await;
    for ((c, request), answer) in chosen.into_iter().zip(&requests).zip(answers) {
        let templates = match collection_raw::<sync::Template>(client, alias, request, answer).await
        {
            Ok(t) => t,
            Err(e) => {
                failures.push((
                    format!(
                        "tenant {alias}: the templates of sync configuration {}",
                        c.display_name
                    ),
                    e,
                ));
                continue;
            }
        };
        let Some(jobs) = c.details.as_mut().map(|d| &mut d.jobs) else {
            continue;
        };
        for job in jobs {
            let template = templates.iter().find(|t| {
                let tag = t.factory_tag.as_deref().or(t.id.as_deref());
                tag.is_some() && tag == job.template_id.as_deref()
            });
            job.template_mappings = template
                .map(sync::Template::user_mappings)
                .unwrap_or_default();
        }
    }
}
