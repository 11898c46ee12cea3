//! The least-privileged Microsoft Graph application permission each operation needs
//! (graph-reference §1.6, §4, §5.3, §6.12). `mtoctl permissions` and the token preflight read
//! these from the plan's actions.

use crate::plan::Operation;

const MTO_WRITE: &str = "MultiTenantOrganization.ReadWrite.All";
const MTO_READ: &str = "MultiTenantOrganization.Read.All";
const CTAS_WRITE: &str = "Policy.ReadWrite.CrossTenantAccess";
const APP_OWNED: &str = "Application.ReadWrite.OwnedBy";
const APP_ALL: &str = "Application.ReadWrite.All";
const APP_READ: &str = "Application.Read.All";
const SYNC_WRITE: &str = "Synchronization.ReadWrite.All";
const ASSIGN_WRITE: &str = "AppRoleAssignment.ReadWrite.All";

/// The permissions `op` needs, sorted.
pub(crate) fn required(op: &Operation) -> Vec<String> {
    let names: &[&str] = match op {
        Operation::PatchPartnerTemplate { .. }
        | Operation::PatchIdentitySyncTemplate { .. }
        | Operation::CreatePartner { .. }
        | Operation::PatchPartner { .. }
        | Operation::DeletePartner { .. }
        | Operation::CreateIdentitySync { .. }
        | Operation::PatchIdentitySync { .. }
        | Operation::DeleteIdentitySync { .. } => &[CTAS_WRITE],
        Operation::CreateOrganization { .. }
        | Operation::UpdateOrganization { .. }
        | Operation::AddMember { .. }
        | Operation::ChangeMemberRole { .. }
        | Operation::RemoveMember { .. }
        | Operation::ResetJoin
        | Operation::SubmitJoin { .. } => &[MTO_WRITE],
        Operation::WaitForJoin { .. }
        | Operation::WaitForRole { .. }
        | Operation::WaitForRemoval { .. } => &[MTO_READ],
        // Configurations mtoctl instantiates are owned by its app, so OwnedBy suffices for them.
        Operation::InstantiateSyncConfiguration { .. } => &[APP_OWNED],
        Operation::ValidateCredentials { .. }
        | Operation::CreateSyncJob { .. }
        | Operation::PutSyncSecrets { .. }
        | Operation::UpdateSchema { .. }
        | Operation::StartJob { .. }
        | Operation::PauseJob { .. } => &[SYNC_WRITE],
        Operation::AssignPrincipal { .. } => &[APP_READ, ASSIGN_WRITE],
        Operation::RemoveAssignment { .. } => &[ASSIGN_WRITE],
        // A pruned configuration may have been created by someone else (the admin center).
        Operation::DeleteSyncConfiguration { .. } => &[APP_ALL],
    };
    let mut out: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
    out.sort();
    out
}
