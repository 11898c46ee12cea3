//! The per-user verdict: for each user of a sync direction that was read, whether it is in
//! scope, and for each user in scope whether its copy in the target works as a member of the
//! organization should: it exists, has the user type the spec asks for, is tied to its home
//! account (an identity issued by `ExternalAzureAD`), is listed in the address list, may sign
//! in exactly when its home account may, and carries the `#EXT#` name cross-tenant sync gives.
//! Each failed check says what a person would notice and what to do. Pure: no I/O.
//!
//! Here: the verdict's types and [`judge`] putting them together; `scope` says whether a user
//! is in a direction's scope, `checks` runs each check of a copy.

mod checks;
mod scope;

use mtoctl_model::DesiredState;
use mtoctl_model::desired::SyncSpec;
use mtoctl_model::health::{
    Coverage, OnDemandResult, ProvisionedUser, SourceUser, SyncHealthObservation,
};
use mtoctl_model::spec::document::UserType;
use serde::Serialize;

use super::Health;
use checks::{
    account_enabled_check, address_list_check, identity_check, missing, upn_check, user_type_check,
};
pub use scope::scope_of;

/// The issuer of the identity a user of another Entra tenant signs in with.
pub const EXTERNAL_ENTRA_ISSUER: &str = "ExternalAzureAD";

/// One check of a user's copy in the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// The copy exists in the target.
    Exists,
    /// Its `userType` is the spec's.
    UserType,
    /// It has an identity issued by `ExternalAzureAD` (its home account).
    Identity,
    /// `showInAddressList` is true.
    ShowInAddressList,
    /// `accountEnabled` follows the source account.
    AccountEnabled,
    /// Its UPN is the source's with `#EXT#` in the target's domain.
    UserPrincipalName,
}

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// As it should be.
    Passed,
    /// Not as it should be: `consequence` and `fix` say more.
    Failed,
    /// Could not be told from what Graph gave: `consequence` says why.
    NotChecked,
}

/// One check and its outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct UserCheck {
    /// Which check.
    pub check: Check,
    /// Its outcome.
    pub outcome: Outcome,
    /// What a working copy has.
    pub expected: String,
    /// What the copy has (`null` when there is no copy or Graph gave no value).
    pub observed: Option<String>,
    /// For a failed check, what a person would notice; for one not checked, why.
    pub consequence: Option<String>,
    /// For a failed check, what to do.
    pub fix: Option<String>,
}

/// One user in scope and its copy in the target.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct UserVerdict {
    /// The source user's UPN.
    pub source: String,
    /// The copy's UPN in the target, if there is one.
    pub target: Option<String>,
    /// Healthy when every check passed; waiting when the copy is not there yet; broken when a
    /// check failed that time will not mend.
    pub health: Health,
    /// The checks: only `exists` when there is no copy.
    pub checks: Vec<UserCheck>,
    /// What provisioning on demand answered (`sync now` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioning: Option<Provisioning>,
}

impl UserVerdict {
    /// The checks that failed.
    pub fn failed(&self) -> impl Iterator<Item = &UserCheck> {
        self.checks.iter().filter(|c| c.outcome == Outcome::Failed)
    }
}

/// What Entra answered to provisioning one user on demand.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct Provisioning {
    /// Graph's overall status (`Success`, `Skipped`, `Failed`, …), as Graph spells it.
    pub status: Option<String>,
    /// The step that decided it, in Graph's words.
    pub reason: Option<String>,
}

/// A user read that is not in scope, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct OutOfScope {
    /// The source user's UPN.
    pub source: String,
    /// Why it is not synced.
    pub reason: String,
}

/// The counts of a direction's users, each the count of the lists beside it (by default, no
/// user yet).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub struct UserCounts {
    /// `sample` (a few users), `all` (every user in scope), `first` (the first user in scope,
    /// `sync now`) or `named` (`sync now --user`).
    pub coverage: Coverage,
    /// Users listed: in scope and checked.
    pub in_scope: usize,
    /// Of those, the ones with a copy in the target.
    pub provisioned: usize,
    /// Of those in scope, the ones with a failed check (a missing copy included).
    pub failing: usize,
    /// Users read that are not in scope (listed apart).
    pub out_of_scope: usize,
    /// Whether there were more users than mtoctl reads (only the first were checked).
    pub truncated: bool,
}

/// Everything judged about a direction's users.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct UsersJudged {
    pub counts: UserCounts,
    /// Worst first, then by source UPN.
    pub users: Vec<UserVerdict>,
    pub out_of_scope: Vec<OutOfScope>,
    /// One sentence per kind of failure, for the direction's findings, with its health.
    pub findings: Vec<(Health, String)>,
}

/// Whether the users were provisioned on demand just before (`sync now`) or are as the job
/// left them (`status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Status,
    OnDemand,
}

/// The UPN cross-tenant sync gives the copy of `upn` in a tenant whose domain is `domain`:
/// `alice@contoso.com` becomes `alice_contoso.com#EXT#@fabrikam.onmicrosoft.com`.
pub fn copy_upn(upn: &str, domain: &str) -> Option<String> {
    let (local, home) = upn.rsplit_once('@')?;
    (!local.is_empty() && !home.is_empty()).then(|| format!("{local}_{home}#EXT#@{domain}"))
}

/// What the spec asks of every copy in the target, and the words to say it with.
struct Expect<'a> {
    sync: &'a SyncSpec,
    user_type: &'static str,
    target_domain: Option<&'a str>,
    mode: Mode,
}

impl Expect<'_> {
    fn sync_now(&self, source: &str) -> String {
        format!("`mtoctl sync now -f SPEC --user {source}`")
    }
}

/// Judges the users read for one direction.
pub(super) fn judge(
    sync: &SyncSpec,
    desired: &DesiredState,
    read: &SyncHealthObservation,
    mode: Mode,
) -> UsersJudged {
    let expect = Expect {
        sync,
        user_type: match sync.user_type {
            UserType::Member => "Member",
            UserType::Guest => "Guest",
        },
        target_domain: desired.tenant(&sync.to).and_then(|t| t.domain.as_deref()),
        mode,
    };
    let mut users = Vec::new();
    let mut out_of_scope = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for user in &read.users {
        if !seen.insert(user.user_principal_name.to_lowercase()) {
            continue;
        }
        let copy = read
            .provisioned
            .iter()
            .find(|p| p.source.eq_ignore_ascii_case(&user.user_principal_name));
        let on_demand = read
            .on_demand
            .iter()
            .find(|r| r.source.eq_ignore_ascii_case(&user.user_principal_name));
        let mine = scope_of(sync, user);
        // Entra's own answer about the scope wins over what mtoctl can tell from the spec,
        // except for a user mtoctl read among the assignments and judged in scope: then the
        // two disagree, and the user is judged as in scope, with Entra's answer as the reason
        // it was not provisioned.
        let scope = match on_demand {
            Some(r) if r.out_of_scope() && (read.coverage == Coverage::Named || mine.is_err()) => {
                Err(Some(format!(
                    "Entra says it is not in scope: {}",
                    r.reason().unwrap_or("no reason given")
                )))
            }
            Some(_) => Ok(()),
            None => mine,
        };
        match scope {
            Ok(()) => users.push(verdict(&expect, user, copy, on_demand)),
            // Undetermined: judged if it was provisioned (then it is in scope), else set apart.
            Err(None) if copy.is_some() => users.push(verdict(&expect, user, copy, on_demand)),
            Err(why) => out_of_scope.push(OutOfScope {
                source: user.user_principal_name.clone(),
                reason: why.unwrap_or_else(|| {
                    "not provisioned, and mtoctl cannot tell whether the scoping filter admits it (it reads an attribute mtoctl did not read, or a regular expression)".into()
                }),
            }),
        }
    }
    users.sort_by(|a, b| {
        b.health
            .cmp(&a.health)
            .then_with(|| a.source.cmp(&b.source))
    });
    let counts = UserCounts {
        coverage: read.coverage,
        in_scope: users.len(),
        provisioned: users.iter().filter(|u| u.target.is_some()).count(),
        failing: users.iter().filter(|u| u.health != Health::Healthy).count(),
        out_of_scope: out_of_scope.len(),
        truncated: read.truncated,
    };
    let findings = summarise(&expect, &users);
    UsersJudged {
        counts,
        users,
        out_of_scope,
        findings,
    }
}

/// The first user of a direction's sample that is in scope (for `sync now` without `--user`
/// and `apply --verify`).
pub fn first_in_scope<'a>(
    sync: &SyncSpec,
    read: &'a SyncHealthObservation,
) -> Option<&'a SourceUser> {
    read.users.iter().find(|u| scope_of(sync, u).is_ok())
}

fn verdict(
    expect: &Expect<'_>,
    user: &SourceUser,
    copy: Option<&ProvisionedUser>,
    on_demand: Option<&OnDemandResult>,
) -> UserVerdict {
    let provisioning = on_demand.map(|r| Provisioning {
        status: r.status.clone(),
        reason: r.reason().map(str::to_owned),
    });
    let Some(copy) = copy else {
        let (health, check) = missing(expect, user, on_demand);
        return UserVerdict {
            source: user.user_principal_name.clone(),
            target: None,
            health,
            checks: vec![check],
            provisioning,
        };
    };
    let checks = vec![
        UserCheck {
            check: Check::Exists,
            outcome: Outcome::Passed,
            expected: format!("a user in {}", expect.sync.to),
            observed: Some(copy.user_principal_name.clone()),
            consequence: None,
            fix: None,
        },
        user_type_check(expect, user, copy),
        identity_check(expect, user, copy),
        address_list_check(expect, user, copy),
        account_enabled_check(expect, user, copy),
        upn_check(expect, user, copy),
    ];
    let health = if checks.iter().any(|c| c.outcome == Outcome::Failed) {
        Health::Broken
    } else {
        Health::Healthy
    };
    UserVerdict {
        source: user.user_principal_name.clone(),
        target: Some(copy.user_principal_name.clone()),
        health,
        checks,
        provisioning,
    }
}

/// One finding per kind of failed check, for the direction's findings, each with the health
/// of the worst user it covers.
fn summarise(expect: &Expect<'_>, users: &[UserVerdict]) -> Vec<(Health, String)> {
    let (to, from) = (&expect.sync.to, &expect.sync.from);
    let mut out = Vec::new();
    let kinds = [
        Check::Exists,
        Check::UserType,
        Check::Identity,
        Check::ShowInAddressList,
        Check::AccountEnabled,
        Check::UserPrincipalName,
    ];
    for kind in kinds {
        let hit: Vec<(&UserVerdict, &UserCheck)> = users
            .iter()
            .filter_map(|u| u.failed().find(|c| c.check == kind).map(|c| (u, c)))
            .collect();
        let Some((first, check)) = hit.first() else {
            continue;
        };
        let health = hit
            .iter()
            .map(|(u, _)| u.health)
            .max()
            .unwrap_or(Health::Broken);
        let who = first.target.as_deref().unwrap_or(&first.source);
        let n = hit.len();
        let observed = check.observed.as_deref().unwrap_or("?");
        let text = match (kind, n) {
            (Check::Exists, 1) => format!("{} is in scope but not in {to} yet", first.source),
            (Check::Exists, _) => format!("{n} users in scope are not in {to} yet"),
            (Check::UserType, 1) => format!(
                "{who} was provisioned as {observed}, the spec says {}",
                expect.user_type
            ),
            (Check::UserType, _) => format!(
                "{n} users are not of the type the spec says ({})",
                expect.user_type
            ),
            (Check::Identity, 1) => format!("{who} is not tied to its {from} account"),
            (Check::Identity, _) => format!("{n} users are not tied to their {from} accounts"),
            (Check::ShowInAddressList, 1) => format!("{who} is hidden from {to}'s address list"),
            (Check::ShowInAddressList, _) => {
                format!("{n} users are hidden from {to}'s address list")
            }
            (Check::AccountEnabled, 1) => {
                format!("{who} may not sign in as its {from} account says")
            }
            (Check::AccountEnabled, _) => {
                format!("{n} users may not sign in as their {from} accounts say")
            }
            (Check::UserPrincipalName, 1) => {
                format!("{who} is not named as cross-tenant sync names copies")
            }
            (Check::UserPrincipalName, _) => {
                format!("{n} users are not named as cross-tenant sync names copies")
            }
        };
        let consequence = check.consequence.as_deref().unwrap_or("");
        let more = if n > 1 { "; see the users below" } else { "" };
        out.push((health, format!("{text}: {consequence}{more}")));
    }
    out
}

#[cfg(test)]
mod tests;
