//! The details of sync configurations: their jobs and assignments (wave 2), then the jobs'
//! schemas (wave 3); and, when asked, the templates the jobs were made from.

use std::collections::BTreeMap;

use mtoctl_model::observed::{SyncConfigurationDetails, SyncConfigurationObservation};

use super::Failures;
use super::decode::{collection_raw, decode_text, take_page};
use crate::error::GraphError;
use crate::transport::{GraphClient, GraphRequest};
use crate::wire::sync;

/// Jobs and assignments (wave 2), then schemas (wave 3), for the given configurations.
pub(crate) async fn read_details(
    client: &GraphClient,
    alias: &str,
    declared: &[&sync::ServicePrincipal],
    failures: &mut Failures,
) -> BTreeMap<String, SyncConfigurationDetails> {
    let mut out = BTreeMap::new();
    if declared.is_empty() {
        return out;
    }
    let mut requests = Vec::new();
    for sp in declared {
        requests.push(GraphRequest::get(sync::jobs_path(&sp.id)));
        requests.push(GraphRequest::get(sync::assignments_path(&sp.id)));
    }
    // Every collection's further pages together, not one configuration after another (a
    // round trip each); each page decoded into jobs or assignments as it comes.
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
    let mut read = read.into_iter();
    let mut jobs_by_sp = Vec::new();
    for ((sp, jobs), assignments) in declared.iter().zip(jobs).zip(assignments) {
        let label = |what: &str| {
            format!(
                "tenant {alias}: {what} of sync configuration `{}`",
                sp.display_name.as_deref().unwrap_or(&sp.id)
            )
        };
        let (Some(jobs_read), Some(assignments_read)) = (read.next(), read.next()) else {
            break;
        };
        if let Err(e) = jobs_read {
            failures.push((label("the jobs"), e));
            continue;
        }
        if let Err(e) = assignments_read {
            failures.push((label("the assignments"), e));
            continue;
        }
        jobs_by_sp.push((sp, jobs, assignments));
    }
    let schema_requests: Vec<GraphRequest> = jobs_by_sp
        .iter()
        .flat_map(|(sp, jobs, _)| {
            jobs.iter()
                .map(|j| GraphRequest::get(sync::schema_path(&sp.id, &j.id)))
        })
        .collect();
    let mut schemas = client
        .send_all_raw(alias, &schema_requests)
        .await
        .into_iter();
    for (sp, jobs, assignments) in jobs_by_sp {
        let mut observed_jobs = Vec::new();
        for job in jobs {
            let schema = match schemas.next() {
                Some(Ok(r)) => match decode_text::<sync::Schema>(&r.body) {
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
                Some(Err(e)) => {
                    failures.push((format!("tenant {alias}: the schema of job {}", job.id), e));
                    None
                }
                None => None,
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
