//! The least-privileged Microsoft Graph application permission each operation needs
//! (graph-reference §1.6, §4, §5.3, §6.12). `mtoctl permissions` and the token preflight read
//! these from the plan's actions.

use std::borrow::Cow;
use std::collections::BTreeMap;

use mtoctl_model::DesiredState;
use mtoctl_model::ids::{Alias, TenantId};
use mtoctl_model::spec::document::{GroupProvisioning, PruneKind};
use serde::Serialize;

use mtoctl_model::plan::{ObjectRef, Operation};

const MTO_WRITE: &str = "MultiTenantOrganization.ReadWrite.All";
const MTO_READ: &str = "MultiTenantOrganization.Read.All";
const CTAS_WRITE: &str = "Policy.ReadWrite.CrossTenantAccess";
const APP_OWNED: &str = "Application.ReadWrite.OwnedBy";
const APP_ALL: &str = "Application.ReadWrite.All";
const APP_READ: &str = "Application.Read.All";
const SYNC_WRITE: &str = "Synchronization.ReadWrite.All";
const ASSIGN_WRITE: &str = "AppRoleAssignment.ReadWrite.All";
const POLICY_READ: &str = "Policy.Read.All";
const SYNC_READ: &str = "Synchronization.Read.All";
const USER_READ: &str = "User.Read.All";
const GROUP_MEMBER_READ: &str = "GroupMember.Read.All";
const LICENCE_READ: &str = "LicenseAssignment.Read.All";
const USER_WRITE: &str = "User.ReadWrite.All";

/// What mtoctl needs in one tenant to plan and apply a spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenantPermissions {
    /// The tenant's alias.
    pub alias: Alias,
    /// Its id.
    pub tenant_id: TenantId,
    /// Least-privileged Graph application permissions, each with why it is needed.
    pub application: BTreeMap<String, String>,
    /// Needed besides `application` only to manage sync configurations another app created
    /// (the Microsoft 365 admin center's, adopted by name): `Application.ReadWrite.OwnedBy`
    /// covers the ones mtoctl created, which its app owns.
    pub to_adopt: BTreeMap<String, String>,
    /// Needed besides `application` only by `mtoctl doctor`, to read what plan and apply never
    /// read (the tenant's subscriptions); without them doctor skips that check.
    pub to_diagnose: BTreeMap<String, String>,
    /// Needed besides `application` only by `mtoctl destroy --remove-synced-users`, in a
    /// target tenant, to delete the accounts synchronization made there.
    pub to_remove_synced_users: BTreeMap<String, String>,
    /// The least-privileged Entra role for a person signing in (Azure CLI credentials).
    pub entra_roles: Vec<String>,
}

/// The permissions every tenant of `desired` needs, in spec order.
///
/// Reads are covered by the write permission of the same API where one is needed
/// (`…ReadWrite…` includes `…Read…`), so only the least set is listed.
pub fn for_spec(desired: &DesiredState) -> Vec<TenantPermissions> {
    desired
        .tenants
        .iter()
        .map(|t| {
            let mut need = BTreeMap::new();
            let mut add = |perm: &str, why: &str| {
                need.entry(perm.to_owned()).or_insert_with(|| why.to_owned());
            };
            add(MTO_WRITE, "read the organization; create it and add members (owners) or join it (members)");
            let manages_settings = desired.collaboration.manage_templates
                || desired
                    .collaboration
                    .pairs
                    .iter()
                    .any(|(k, s)| k.tenant == t.alias && *s != Default::default());
            if manages_settings {
                add(CTAS_WRITE, "set the MTO templates, partner configurations and identity sync policies");
            } else {
                add(POLICY_READ, "read partner configurations and identity sync policies");
            }
            let is_source = desired.syncs.iter().any(|s| s.from == t.alias);
            let mut to_adopt = BTreeMap::new();
            if is_source {
                add(APP_OWNED, "create sync configurations, and validate, configure and start the jobs of those it created (its app owns them), and provision users on demand through them (`mtoctl sync now`)");
                add(ASSIGN_WRITE, "assign the users and groups in scope to the sync configurations");
                add(APP_READ, "find sync configurations and read their assignments; Graph also asks for it with AppRoleAssignment.ReadWrite.All to assign");
                add(USER_READ, "resolve the users named in sync scopes");
                add(GROUP_MEMBER_READ, "resolve the groups named in sync scopes");
                to_adopt.insert(
                    SYNC_WRITE.to_owned(),
                    "read and configure the jobs of sync configurations made outside mtoctl (the Microsoft 365 admin center's), which its app does not own, and provision users on demand through them".to_owned(),
                );
            } else {
                add(APP_READ, "find sync configurations (service principals of the sync template)");
                add(SYNC_READ, "read the jobs of sync configurations");
            }
            if desired.syncs.iter().any(|s| s.to == t.alias) {
                add(USER_READ, "find the users synced into it (`mtoctl status`)");
            }
            if desired.syncs.iter().any(|s| {
                s.to == t.alias
                    && s.scope.group_provisioning == Some(GroupProvisioning::GroupsAndMembers)
            }) {
                add(GROUP_MEMBER_READ, "find the groups synced into it and read their members (`mtoctl status`)");
            }
            // Any tenant may hold configurations the spec no longer declares, a former source
            // included.
            if desired.prune.contains(&PruneKind::SyncConfigurations) {
                add(APP_ALL, "delete sync configurations the spec no longer declares (prune: syncConfigurations)");
            }
            let mut to_remove_synced_users = BTreeMap::new();
            if desired.syncs.iter().any(|s| s.to == t.alias) {
                to_remove_synced_users.insert(
                    USER_WRITE.to_owned(),
                    "delete the accounts synchronization made in it (`mtoctl destroy --remove-synced-users`; the reference's least privilege for deleting a user)".to_owned(),
                );
            }
            TenantPermissions {
                alias: t.alias.clone(),
                tenant_id: t.tenant_id.clone(),
                application: need,
                to_adopt,
                to_remove_synced_users,
                to_diagnose: BTreeMap::from([(
                    LICENCE_READ.to_owned(),
                    "read the tenant's subscriptions (`mtoctl doctor` checks for Microsoft Entra ID P1 or P2)".to_owned(),
                )]),
                entra_roles: if is_source {
                    vec!["Security Administrator".into(), "Application Administrator".into()]
                } else {
                    vec!["Security Administrator".into()]
                },
            }
        })
        .collect()
}

/// The permissions a token's `roles` claim lacks, given what implies what: a
/// `ReadWrite` permission covers the `Read` one of the same API, `Directory.ReadWrite.All`
/// covers directory reads, and `Application.ReadWrite.All` covers `OwnedBy`.
pub fn missing<'a>(needed: &'a BTreeMap<String, String>, granted: &[String]) -> Vec<&'a str> {
    let has = |p: &str| granted.iter().any(|g| g == p);
    needed
        .keys()
        .map(String::as_str)
        .filter(|p| {
            if has(p) {
                return false;
            }
            let covered_by: &[&str] = match *p {
                MTO_READ => &[MTO_WRITE],
                POLICY_READ => &[CTAS_WRITE, "Policy.ReadWrite.All"],
                APP_READ => &[APP_ALL, "Directory.Read.All", "Directory.ReadWrite.All"],
                APP_OWNED => &[APP_ALL],
                SYNC_READ => &[SYNC_WRITE],
                USER_READ => &[
                    "User.ReadWrite.All",
                    "Directory.Read.All",
                    "Directory.ReadWrite.All",
                ],
                LICENCE_READ => &[
                    "Organization.Read.All",
                    "Organization.ReadWrite.All",
                    "Directory.Read.All",
                    "Directory.ReadWrite.All",
                ],
                GROUP_MEMBER_READ => &[
                    "Group.Read.All",
                    "Group.ReadWrite.All",
                    "Directory.Read.All",
                    "Directory.ReadWrite.All",
                ],
                _ => &[],
            };
            !covered_by.iter().any(|c| has(c))
        })
        .collect()
}

/// The permissions of one kind of operation, sorted. Plans borrow these lists (`Cow`), so an
/// action holds no copy of its permissions.
pub(crate) type Permissions = Cow<'static, [Cow<'static, str>]>;

const fn one(name: &'static str) -> [Cow<'static, str>; 1] {
    [Cow::Borrowed(name)]
}

const CTAS_LIST: &[Cow<'static, str>] = &one(CTAS_WRITE);
const MTO_WRITE_LIST: &[Cow<'static, str>] = &one(MTO_WRITE);
const MTO_READ_LIST: &[Cow<'static, str>] = &one(MTO_READ);
const APP_OWNED_LIST: &[Cow<'static, str>] = &one(APP_OWNED);
const SYNC_WRITE_LIST: &[Cow<'static, str>] = &one(SYNC_WRITE);
const ASSIGN_LIST: &[Cow<'static, str>] = &[Cow::Borrowed(ASSIGN_WRITE), Cow::Borrowed(APP_READ)];
const UNASSIGN_LIST: &[Cow<'static, str>] = &one(ASSIGN_WRITE);
const APP_ALL_LIST: &[Cow<'static, str>] = &one(APP_ALL);
const USER_WRITE_LIST: &[Cow<'static, str>] = &one(USER_WRITE);

/// The permissions `op` needs, sorted.
pub(crate) fn required(op: &Operation) -> Permissions {
    Cow::Borrowed(match op {
        Operation::PatchPartnerTemplate { .. }
        | Operation::PatchIdentitySyncTemplate { .. }
        | Operation::ResetPartnerTemplate
        | Operation::ResetIdentitySyncTemplate
        | Operation::CreatePartner { .. }
        | Operation::PatchPartner { .. }
        | Operation::DeletePartner { .. }
        | Operation::CreateIdentitySync { .. }
        | Operation::PatchIdentitySync { .. }
        | Operation::DeleteIdentitySync { .. } => CTAS_LIST,
        Operation::CreateOrganization { .. }
        | Operation::UpdateOrganization { .. }
        | Operation::AddMember { .. }
        | Operation::ChangeMemberRole { .. }
        | Operation::RemoveMember { .. }
        | Operation::ResetJoin
        | Operation::SubmitJoin { .. } => MTO_WRITE_LIST,
        Operation::WaitForJoin { .. }
        | Operation::WaitForRole { .. }
        | Operation::WaitForRemoval { .. } => MTO_READ_LIST,
        // Configurations mtoctl instantiates are owned by its app, so OwnedBy suffices for them.
        Operation::InstantiateSyncConfiguration { .. } => APP_OWNED_LIST,
        // A configuration this plan creates is owned by mtoctl's app; one that exists may
        // have been made by another (the admin center), and only the wider permission
        // manages any configuration.
        Operation::ValidateCredentials { configuration, .. }
        | Operation::CreateSyncJob { configuration }
        | Operation::PutSyncSecrets { configuration, .. }
        | Operation::UpdateSchema { configuration, .. }
        | Operation::StartJob { configuration, .. }
        | Operation::PauseJob { configuration, .. } => match configuration {
            ObjectRef::CreatedBy { .. } => APP_OWNED_LIST,
            ObjectRef::Existing { .. } => SYNC_WRITE_LIST,
        },
        Operation::AssignPrincipal { .. } => ASSIGN_LIST,
        Operation::RemoveAssignment { .. } => UNASSIGN_LIST,
        // A pruned configuration may have been created by someone else (the admin center).
        Operation::DeleteSyncConfiguration { .. } => APP_ALL_LIST,
        // The reference's least privilege for deleting a user.
        Operation::DeleteSyncedUser { .. } => USER_WRITE_LIST,
    })
}

#[cfg(test)]
mod list_tests {
    use super::*;

    #[test]
    fn every_permission_list_is_sorted_as_plans_promise() {
        for list in [
            CTAS_LIST,
            MTO_WRITE_LIST,
            MTO_READ_LIST,
            APP_OWNED_LIST,
            SYNC_WRITE_LIST,
            ASSIGN_LIST,
            UNASSIGN_LIST,
            APP_ALL_LIST,
            USER_WRITE_LIST,
        ] {
            assert!(list.is_sorted(), "{list:?}");
        }
    }
}

#[cfg(test)]
mod spec_tests {
    use super::*;

    fn quickstart() -> DesiredState {
        let path = format!(
            "{}/../../examples/quickstart/mto.yaml",
            env!("CARGO_MANIFEST_DIR")
        );
        let bytes = std::fs::read(&path).expect("quickstart");
        mtoctl_model::spec::load(&path, &bytes)
            .expect("valid")
            .desired
    }

    #[test]
    fn sync_sources_need_the_sync_permissions_and_others_only_reads() {
        let mut desired = quickstart();
        let all = for_spec(&desired);
        assert_eq!(all.len(), 2);
        for t in &all {
            assert!(t.application.contains_key(MTO_WRITE));
            assert!(t.application.contains_key(CTAS_WRITE));
            assert!(
                t.application.contains_key(APP_OWNED),
                "both tenants are sources"
            );
            assert!(
                !t.application.contains_key(SYNC_WRITE),
                "OwnedBy covers its own"
            );
            assert!(t.to_adopt.contains_key(SYNC_WRITE));
            assert!(!t.application.contains_key(APP_ALL), "no prune, no All");
        }
        desired.syncs.retain(|s| s.from.as_str() == "contoso");
        let fabrikam = &for_spec(&desired)[1];
        assert!(!fabrikam.application.contains_key(APP_OWNED));
        assert!(fabrikam.application.contains_key(SYNC_READ));
        assert!(fabrikam.to_adopt.is_empty());
        // A target only: it still reads the users synced into it, for `mtoctl status`.
        assert!(
            fabrikam.application[USER_READ].contains("mtoctl status"),
            "{:?}",
            fabrikam.application
        );
        assert_eq!(
            fabrikam.entra_roles,
            vec!["Security Administrator".to_owned()]
        );
    }

    #[test]
    fn a_target_of_groups_provisioned_as_groups_reads_them_for_status() {
        let mut desired = quickstart();
        desired.syncs.retain(|s| s.from.as_str() == "contoso");
        assert!(
            !for_spec(&desired)[1]
                .application
                .contains_key(GROUP_MEMBER_READ)
        );
        desired.syncs[0].scope.group_provisioning = Some(GroupProvisioning::GroupsAndMembers);
        let fabrikam = &for_spec(&desired)[1];
        assert!(
            fabrikam.application[GROUP_MEMBER_READ].contains("mtoctl status"),
            "{:?}",
            fabrikam.application
        );
        // Members only: nothing more to read in the target.
        desired.syncs[0].scope.group_provisioning = Some(GroupProvisioning::MembersOnly);
        assert!(
            !for_spec(&desired)[1]
                .application
                .contains_key(GROUP_MEMBER_READ)
        );
    }

    #[test]
    fn pruning_configurations_needs_the_wider_permission_in_a_former_source_too() {
        let mut desired = quickstart();
        desired.syncs.retain(|s| s.from.as_str() == "contoso");
        desired.prune.insert(PruneKind::SyncConfigurations);
        // fabrikam syncs nothing now, but the plan deletes the configuration it still holds.
        for t in for_spec(&desired) {
            assert!(t.application.contains_key(APP_ALL), "{}", t.alias);
        }
    }

    #[test]
    fn missing_permissions_account_for_implications() {
        let t = &for_spec(&quickstart())[0];
        let granted: Vec<String> = t.application.keys().cloned().collect();
        assert!(missing(&t.application, &granted).is_empty());
        let mut fewer = granted.clone();
        fewer.retain(|p| p != APP_OWNED);
        assert_eq!(missing(&t.application, &fewer), vec![APP_OWNED]);
        let mut broader = fewer.clone();
        broader.retain(|p| p != USER_READ && p != GROUP_MEMBER_READ && p != APP_OWNED);
        broader.push("Directory.Read.All".into());
        broader.push(APP_ALL.into());
        broader.push(SYNC_WRITE.into());
        assert!(
            missing(&t.application, &broader).is_empty(),
            "{:?}",
            missing(&t.application, &broader)
        );
    }
}
