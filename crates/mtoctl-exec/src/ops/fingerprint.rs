//! The executor's re-check of a guarded action: the fingerprint of its object, read now.

use mtoctl_graph::objects::{assignments, jobs, organization, partners, sync, users};
use mtoctl_graph::transport::GraphClient;
use mtoctl_model::observed::Fingerprint;
use mtoctl_model::plan::Operation;
use mtoctl_model::plan::fingerprint as fp;

use super::{OpError, Resolve, object};

/// The current fingerprint of the object an operation writes, read now and computed by
/// `mtoctl_model::plan::fingerprint` from the same domain observation the planner fingerprinted,
/// so that an unchanged object gives the planned fingerprint. `Ok(None)` for operations that
/// write nothing guarded (waits, creates, which find before they create instead);
/// `Ok(Some(None))` when the object is gone.
pub(crate) async fn current_fingerprint(
    c: &GraphClient,
    t: &str,
    op: &Operation,
    refs: &(dyn Resolve + Sync),
) -> Result<Option<Option<Fingerprint>>, OpError> {
    read(c, t, op, refs).await
}

async fn read(
    c: &GraphClient,
    t: &str,
    op: &Operation,
    refs: &(dyn Resolve + Sync),
) -> Result<Option<Option<Fingerprint>>, OpError> {
    Ok(Some(match op {
        Operation::PatchPartner {
            partner_tenant_id, ..
        }
        | Operation::DeletePartner { partner_tenant_id } => {
            let partner = partners::partner(c, t, partner_tenant_id).await?;
            partner.map(|p| fp::partner(&p))
        }
        Operation::PatchIdentitySync {
            partner_tenant_id, ..
        }
        | Operation::DeleteIdentitySync { partner_tenant_id } => {
            let partner = partners::partner(c, t, partner_tenant_id).await?;
            partner
                .and_then(|p| p.identity_sync)
                .map(|s| fp::identity_sync(&s))
        }
        Operation::PatchPartnerTemplate { .. } | Operation::ResetPartnerTemplate => Some(
            fp::partner_template(&partners::partner_template(c, t).await?),
        ),
        Operation::PatchIdentitySyncTemplate { .. } | Operation::ResetIdentitySyncTemplate => Some(
            fp::identity_sync_template(&partners::identity_sync_template(c, t).await?),
        ),
        Operation::UpdateOrganization { .. } => organization::organization(c, t)
            .await?
            .map(|o| fp::organization(&o)),
        Operation::ChangeMemberRole { tenant_id, .. } | Operation::RemoveMember { tenant_id } => {
            organization::member(c, t, tenant_id)
                .await?
                .map(|m| fp::member(&m))
        }
        Operation::ResetJoin | Operation::SubmitJoin { .. } => organization::join_request(c, t)
            .await?
            .map(|j| fp::join_request(&j)),
        Operation::ValidateCredentials { configuration, .. } => {
            let sp = object(refs, configuration)?;
            sync::configuration(c, t, &sp)
                .await?
                .map(|x| fp::sync_configuration(&x))
        }
        Operation::DeleteSyncConfiguration {
            service_principal_id,
            ..
        } => sync::configuration(c, t, service_principal_id)
            .await?
            .map(|x| fp::sync_configuration(&x)),
        Operation::StartJob { configuration, job } | Operation::PauseJob { configuration, job } => {
            let (sp, job) = (object(refs, configuration)?, object(refs, job)?);
            jobs::job(c, t, &sp, &job).await?.map(|j| fp::job(&j))
        }
        Operation::UpdateSchema {
            configuration, job, ..
        } => {
            let (sp, job) = (object(refs, configuration)?, object(refs, job)?);
            jobs::with_schema(c, t, &sp, &job)
                .await?
                .map(|j| fp::schema(&j))
        }
        Operation::RemoveAssignment {
            configuration,
            assignment_id,
            ..
        } => {
            let sp = object(refs, configuration)?;
            assignments::assignment(c, t, &sp, assignment_id)
                .await?
                .map(|a| fp::assignment(&a))
        }
        Operation::CreateOrganization { .. }
        | Operation::AddMember { .. }
        | Operation::WaitForJoin { .. }
        | Operation::WaitForRole { .. }
        | Operation::WaitForRemoval { .. }
        | Operation::CreatePartner { .. }
        | Operation::CreateIdentitySync { .. }
        | Operation::InstantiateSyncConfiguration { .. }
        | Operation::CreateSyncJob { .. }
        | Operation::PutSyncSecrets { .. }
        | Operation::AssignPrincipal { .. } => return Ok(None),
        Operation::DeleteSyncedUser { user_id, .. } => users::synced_user(c, t, user_id)
            .await?
            .map(|u| u.fingerprint()),
    }))
}
