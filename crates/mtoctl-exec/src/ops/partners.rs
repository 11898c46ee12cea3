//! Cross-tenant access settings: the MTO templates, partner configurations and identity sync
//! policies.

use mtoctl_graph::objects::partners;
use mtoctl_graph::transport::GraphClient;
use mtoctl_model::plan::Operation;

use super::{OpError, Step, done, made, settings};

/// Carries out an operation on a template, a partner configuration or an identity sync policy.
pub(super) async fn run(c: &GraphClient, t: &str, op: &Operation) -> Result<Step, OpError> {
    Ok(match op {
        Operation::PatchPartnerTemplate {
            application_level,
            settings: s,
        } => {
            let level = application_level.as_deref();
            partners::patch_partner_template(c, t, level, &settings(s)).await?;
            done()
        }
        Operation::PatchIdentitySyncTemplate {
            application_level,
            is_sync_allowed,
        } => {
            let level = application_level.as_deref();
            partners::patch_identity_sync_template(c, t, level, *is_sync_allowed).await?;
            done()
        }
        Operation::ResetPartnerTemplate => {
            partners::reset_partner_template(c, t).await?;
            done()
        }
        Operation::ResetIdentitySyncTemplate => {
            partners::reset_identity_sync_template(c, t).await?;
            done()
        }
        Operation::CreatePartner {
            partner_tenant_id,
            settings: s,
        } => made(partners::create(c, t, partner_tenant_id, &settings(s)).await?),
        Operation::PatchPartner {
            partner_tenant_id,
            changes,
        } => {
            partners::patch(c, t, partner_tenant_id, &settings(changes)).await?;
            done()
        }
        Operation::DeletePartner { partner_tenant_id } => {
            partners::delete_partner(c, t, partner_tenant_id).await?;
            done()
        }
        Operation::CreateIdentitySync {
            partner_tenant_id,
            display_name,
            is_sync_allowed,
            group_sync_allowed,
        } => made(
            partners::create_identity_sync(
                c,
                t,
                partner_tenant_id,
                display_name,
                *is_sync_allowed,
                *group_sync_allowed,
            )
            .await?,
        ),
        Operation::PatchIdentitySync {
            partner_tenant_id,
            is_sync_allowed,
            group_sync_allowed,
        } => {
            partners::patch_identity_sync(
                c,
                t,
                partner_tenant_id,
                *is_sync_allowed,
                *group_sync_allowed,
            )
            .await?;
            done()
        }
        Operation::DeleteIdentitySync { partner_tenant_id } => {
            partners::delete_identity_sync(c, t, partner_tenant_id).await?;
            done()
        }
        _ => {
            return Err(OpError::Misrouted(
                format!("{op:?}"),
                "cross-tenant access settings",
            ));
        }
    })
}
