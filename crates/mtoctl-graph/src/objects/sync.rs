//! Cross-tenant synchronization configurations (§6.1–§6.4, §6.9): service principals made from
//! the template, known by their display name, and their settings.

use mtoctl_model::ids::TenantId;
use mtoctl_model::observed::SyncConfigurationObservation;

use super::{
    Attempt, ConfigurationIds, Made, ObjectError, create_once, delete, failed, list, send,
};
use crate::transport::GraphClient;
use crate::wire::{answers, observe, reads, writes};

const READ: &str = "read the sync configurations";

/// Every configuration named `display_name` (case-insensitively). Graph has no unique key on
/// the name: two can share it.
pub async fn named(
    c: &GraphClient,
    t: &str,
    display_name: &str,
) -> Result<Vec<ConfigurationIds>, ObjectError> {
    let items = list(c, t, &reads::list_configurations(), READ).await?;
    Ok(items
        .iter()
        .filter_map(answers::decode_configuration)
        .filter(|s| {
            s.display_name
                .as_deref()
                .is_some_and(|n| n.eq_ignore_ascii_case(display_name))
        })
        .collect())
}

/// The configuration named `display_name`; an error when several are (which one the plan
/// means cannot be told).
pub async fn find(
    c: &GraphClient,
    t: &str,
    display_name: &str,
) -> Result<Option<ConfigurationIds>, ObjectError> {
    let mut matching = named(c, t, display_name).await?;
    match matching.len() {
        0 | 1 => Ok(matching.pop()),
        count => Err(ObjectError::Ambiguous {
            name: display_name.to_owned(),
            count,
        }),
    }
}

/// The configuration with this service principal id, without its jobs and assignments.
pub async fn configuration(
    c: &GraphClient,
    t: &str,
    sp: &str,
) -> Result<Option<SyncConfigurationObservation>, ObjectError> {
    let items = list(c, t, &reads::list_configurations(), READ).await?;
    Ok(observe::configuration(&items, sp))
}

/// Makes the configuration named `display_name` from the template, or adopts the one that has
/// the name. `instantiate` makes a new one each time it is carried out, so after an answer
/// that leaves open whether Graph acted the name is looked for before it is sent again; one
/// found then counts as made by this call (`Created`): most likely a lost attempt made it.
pub async fn instantiate(
    c: &GraphClient,
    t: &str,
    display_name: &str,
) -> Result<Made<ConfigurationIds>, ObjectError> {
    if let Some(found) = find(c, t, display_name).await? {
        return Ok(Made::Adopted(found));
    }
    let decode = |body: &serde_json::Value| {
        answers::decode_instantiated(body).ok_or(ObjectError::Answer(
            "the instantiate answer has no servicePrincipal id",
        ))
    };
    let request = writes::instantiate(display_name);
    let action = "instantiate the sync configuration";
    let made = create_once(c, t, &request, action, decode, || find(c, t, display_name)).await?;
    Ok(Made::Created(match made {
        Attempt::Answered(x) | Attempt::Found(x) => x,
    }))
}

/// Fills in each configuration's application: its object id and creation time (a service
/// principal declares no creation time in v1.0; its application does).
pub async fn with_applications<'a>(
    c: &GraphClient,
    t: &str,
    configurations: impl Iterator<Item = &'a mut ConfigurationIds>,
) -> Result<(), ObjectError> {
    let mut configurations: Vec<_> = configurations.collect();
    let app_ids: Vec<String> = configurations
        .iter()
        .filter_map(|x| x.app_id.clone())
        .collect();
    for request in reads::applications_of(&app_ids) {
        let items = list(c, t, &request, "read the configurations' applications").await?;
        for app in items.iter().filter_map(answers::decode_application) {
            for x in configurations.iter_mut() {
                if x.app_id
                    .as_deref()
                    .is_some_and(|a| a.eq_ignore_ascii_case(&app.app_id))
                {
                    x.application_id = Some(app.id.clone());
                    x.created = app.created.clone();
                }
            }
        }
    }
    Ok(())
}

/// Deletes a configuration [`instantiate`] made: its application when known (the service
/// principal goes with it), its service principal otherwise.
pub async fn undo_instantiate(
    c: &GraphClient,
    t: &str,
    made: &ConfigurationIds,
) -> Result<(), ObjectError> {
    let undo = match &made.application_id {
        Some(app) => writes::delete_application(app),
        None => writes::delete_configuration(&made.service_principal_id),
    };
    delete(c, t, &undo, "delete the sync configuration").await?;
    // Gone now: a 404 under it is absence, not the lag of its creation.
    c.note_deleted(t, &made.service_principal_id);
    if let Some(app) = &made.application_id {
        c.note_deleted(t, app);
    }
    Ok(())
}

/// Deletes a configuration: its application registration, which takes the service principal,
/// its jobs and its assignments with it; the service principal alone when no application of
/// its app id is found (deleting only that would leave the registration behind).
pub async fn delete_configuration(c: &GraphClient, t: &str, sp: &str) -> Result<(), ObjectError> {
    let Some(found) = configuration(c, t, sp).await? else {
        return Ok(());
    };
    let mut ids = ConfigurationIds {
        service_principal_id: sp.to_owned(),
        app_id: found.app_id,
        display_name: None,
        user_role_id: None,
        created: None,
        application_id: None,
    };
    with_applications(c, t, std::iter::once(&mut ids)).await?;
    undo_instantiate(c, t, &ids).await
}

/// Tests the configuration's credentials against the target tenant.
pub async fn validate_credentials(
    c: &GraphClient,
    t: &str,
    sp: &str,
    target: &TenantId,
) -> Result<(), ObjectError> {
    let validate = writes::validate_credentials(sp, target);
    send(c, t, &validate, "validate the configuration's credentials").await?;
    Ok(())
}

/// Writes the configuration's settings: the target tenant and whether every user is in scope.
/// They are read first so that the write keeps the keys an administrator set; without the
/// read nothing is written (the write could wipe those keys).
pub async fn put_secrets(
    c: &GraphClient,
    t: &str,
    sp: &str,
    target: &TenantId,
    sync_all: bool,
) -> Result<(), ObjectError> {
    let read = send(
        c,
        t,
        &reads::get_sync_secrets(sp),
        "read the configuration's settings",
    )
    .await?;
    let current = answers::decode_sync_secrets(&read.body)
        .ok_or_else(|| ObjectError::UnreadableSecrets { sp: sp.to_owned() })?;
    let put = writes::put_sync_secrets(sp, target, sync_all, &current);
    c.send(t, &put)
        .await
        .map_err(failed("write the configuration's settings"))?;
    Ok(())
}
