//! Cross-tenant access settings: partner configurations with their identity sync policies, and
//! the two MTO templates (§4, §5).

use mtoctl_model::ids::TenantId;
use mtoctl_model::observed::{
    IdentitySyncTemplateObservation, PartnerObservation, PartnerTemplateObservation,
};
use serde::de::DeserializeOwned;

use super::{Made, ObjectError, PartnerSettingsWrite, delete, failed, list, send};
use crate::transport::GraphClient;
use crate::wire::{observe, policy, reads, writes};

/// The partner configuration for `partner`, with its identity sync policy; `None` when the
/// tenant has none. Read from the list (one call shows both, and no 404 under a path made
/// moments ago is taken for absence).
pub async fn partner(
    c: &GraphClient,
    t: &str,
    partner: &TenantId,
) -> Result<Option<PartnerObservation>, ObjectError> {
    let items = list(
        c,
        t,
        &reads::list_partners(),
        "read the partner configurations",
    )
    .await?;
    Ok(observe::partner(&items, partner))
}

/// Makes the partner configuration for `partner` with these settings, or writes them into the
/// one it has: joining an organization makes partner configurations, and a POST for one that
/// exists is refused (an earlier attempt, or the join, made it).
pub async fn create(
    c: &GraphClient,
    t: &str,
    partner_id: &TenantId,
    settings: &PartnerSettingsWrite,
) -> Result<Made<()>, ObjectError> {
    if partner(c, t, partner_id).await?.is_none() {
        let Err(e) = c
            .send(t, &writes::create_partner(partner_id, settings))
            .await
        else {
            return Ok(Made::Created(()));
        };
        if partner(c, t, partner_id).await?.is_none() {
            return Err(failed("create the partner configuration")(e));
        }
    }
    patch(c, t, partner_id, settings).await?;
    Ok(Made::Adopted(()))
}

/// Writes settings into the partner configuration for `partner` (only those given).
pub async fn patch(
    c: &GraphClient,
    t: &str,
    partner: &TenantId,
    settings: &PartnerSettingsWrite,
) -> Result<(), ObjectError> {
    let patch = writes::patch_partner(partner, settings);
    send(c, t, &patch, "update the partner configuration").await?;
    Ok(())
}

/// Deletes the partner configuration for `partner`.
pub async fn delete_partner(
    c: &GraphClient,
    t: &str,
    partner: &TenantId,
) -> Result<(), ObjectError> {
    let delete_it = writes::delete_partner(partner);
    delete(c, t, &delete_it, "delete the partner configuration").await
}

async fn has_identity_sync(
    c: &GraphClient,
    t: &str,
    partner_id: &TenantId,
) -> Result<bool, ObjectError> {
    Ok(partner(c, t, partner_id)
        .await?
        .is_some_and(|p| p.identity_sync.is_some()))
}

/// Makes the identity sync policy for `partner`, or sets the one it has: the join makes them
/// too, and Graph answers 409 to a PUT where one exists. `groups` (`groupSyncInbound`, beta)
/// is written when given.
pub async fn create_identity_sync(
    c: &GraphClient,
    t: &str,
    partner: &TenantId,
    display_name: &str,
    is_sync_allowed: bool,
    groups: Option<bool>,
) -> Result<Made<()>, ObjectError> {
    if !has_identity_sync(c, t, partner).await? {
        let put = writes::create_identity_sync(partner, display_name, is_sync_allowed, groups);
        let Err(e) = c.send(t, &put).await else {
            return Ok(Made::Created(()));
        };
        if !has_identity_sync(c, t, partner).await? {
            return Err(failed("create the identity sync policy")(e));
        }
    }
    patch_identity_sync(c, t, partner, Some(is_sync_allowed), groups).await?;
    Ok(Made::Adopted(()))
}

/// Sets whether `partner` may sync users (and, beta, groups) into this tenant, each when
/// given.
pub async fn patch_identity_sync(
    c: &GraphClient,
    t: &str,
    partner: &TenantId,
    users: Option<bool>,
    groups: Option<bool>,
) -> Result<(), ObjectError> {
    let patch = writes::patch_identity_sync(partner, users, groups);
    send(c, t, &patch, "update the identity sync policy").await?;
    Ok(())
}

/// Deletes the identity sync policy for `partner`.
pub async fn delete_identity_sync(
    c: &GraphClient,
    t: &str,
    partner: &TenantId,
) -> Result<(), ObjectError> {
    let delete_it = writes::delete_identity_sync(partner);
    delete(c, t, &delete_it, "delete the identity sync policy").await
}

/// Writes the partner configuration template: its application level (flags; empty for none)
/// when given, and the settings given.
pub async fn patch_partner_template(
    c: &GraphClient,
    t: &str,
    application_level: Option<&[String]>,
    settings: &PartnerSettingsWrite,
) -> Result<(), ObjectError> {
    let patch = writes::patch_partner_template(application_level, settings);
    send(c, t, &patch, "update the partner configuration template").await?;
    Ok(())
}

/// Writes the identity sync template: its application level and whether sync is allowed,
/// each when given.
pub async fn patch_identity_sync_template(
    c: &GraphClient,
    t: &str,
    application_level: Option<&[String]>,
    is_sync_allowed: Option<bool>,
) -> Result<(), ObjectError> {
    let patch = writes::patch_identity_sync_template(application_level, is_sync_allowed);
    send(c, t, &patch, "update the identity sync template").await?;
    Ok(())
}

/// Resets the partner configuration template to Graph's defaults.
pub async fn reset_partner_template(c: &GraphClient, t: &str) -> Result<(), ObjectError> {
    let reset = writes::reset_partner_template();
    send(c, t, &reset, "reset the partner configuration template").await?;
    Ok(())
}

/// Resets the identity sync template to Graph's defaults.
pub async fn reset_identity_sync_template(c: &GraphClient, t: &str) -> Result<(), ObjectError> {
    let reset = writes::reset_identity_sync_template();
    send(c, t, &reset, "reset the identity sync template").await?;
    Ok(())
}

/// Reads a template (every tenant has both: a 404 or an answer of another shape is an error).
async fn template<T: DeserializeOwned>(
    c: &GraphClient,
    t: &str,
    request: crate::transport::GraphRequest,
    (action, what): (&'static str, &'static str),
) -> Result<T, ObjectError> {
    let body = send(c, t, &request, action).await?.body;
    serde_json::from_value(body).map_err(|source| ObjectError::Decode { what, source })
}

/// The partner configuration template.
pub async fn partner_template(
    c: &GraphClient,
    t: &str,
) -> Result<PartnerTemplateObservation, ObjectError> {
    let what = (
        "read the partner configuration template",
        "the partner configuration template",
    );
    let read: policy::PartnerTemplate = template(c, t, reads::get_partner_template(), what).await?;
    Ok(read.observe())
}

/// The identity sync template.
pub async fn identity_sync_template(
    c: &GraphClient,
    t: &str,
) -> Result<IdentitySyncTemplateObservation, ObjectError> {
    let what = (
        "read the identity sync template",
        "the identity sync template",
    );
    let read: policy::IdentitySyncTemplate =
        template(c, t, reads::get_identity_sync_template(), what).await?;
    Ok(read.observe())
}
