//! The checks of one user's copy in the target (exists, user type, identity, address list,
//! sign-in, name): each outcome, and for a failed one what a person would notice and the fix.

use mtoctl_model::health::{OnDemandResult, ProvisionedUser, SourceUser};
use mtoctl_model::spec::document::UserTypeApplies;

use super::{Check, EXTERNAL_ENTRA_ISSUER, Expect, Mode, Outcome, UserCheck, copy_upn};
use crate::status::Health;

fn failed(
    check: Check,
    expected: String,
    observed: Option<String>,
    consequence: String,
    fix: String,
) -> UserCheck {
    UserCheck {
        check,
        outcome: Outcome::Failed,
        expected,
        observed,
        consequence: Some(consequence),
        fix: Some(fix),
    }
}

fn passed(check: Check, expected: String, observed: Option<String>) -> UserCheck {
    UserCheck {
        check,
        outcome: Outcome::Passed,
        expected,
        observed,
        consequence: None,
        fix: None,
    }
}

fn not_checked(check: Check, expected: String, why: String) -> UserCheck {
    UserCheck {
        check,
        outcome: Outcome::NotChecked,
        expected,
        observed: None,
        consequence: Some(why),
        fix: None,
    }
}

/// A user in scope without a copy in the target.
pub(super) fn missing(
    expect: &Expect<'_>,
    user: &SourceUser,
    on_demand: Option<&OnDemandResult>,
) -> (Health, UserCheck) {
    let to = &expect.sync.to;
    let source = &user.user_principal_name;
    let expected = match expect.target_domain.and_then(|d| copy_upn(source, d)) {
        Some(upn) => format!("a user {upn} in {to}"),
        None => format!("a user in {to}"),
    };
    let consequence = format!(
        "{source} is not in {to}'s directory: people there cannot find them, add them to teams and groups or share with them"
    );
    let (health, fix) = match (expect.mode, on_demand) {
        (Mode::OnDemand, Some(r))
            if !r.failed()
                && r.status
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case("Success")) =>
        {
            (
                Health::Waiting,
                format!(
                    "Entra provisioned it, but {to} does not list it yet (directory replication can take minutes): check again later with `mtoctl status -f SPEC --all-users`"
                ),
            )
        }
        (Mode::OnDemand, Some(r)) => (
            Health::Broken,
            format!(
                "Entra did not provision it ({}): {}",
                r.status.as_deref().unwrap_or("no status"),
                r.reason().unwrap_or("no reason given")
            ),
        ),
        (Mode::OnDemand, None) => (
            Health::Waiting,
            format!(
                "it was not provisioned; run {} again",
                expect.sync_now(source)
            ),
        ),
        (Mode::Status, _) => (
            Health::Waiting,
            format!(
                "the next sync cycle (every 40 minutes) provisions it, or now: {}; if it stays missing, the provisioning logs of {} in {} say why",
                expect.sync_now(source),
                expect.sync.name,
                expect.sync.from
            ),
        ),
    };
    (
        health,
        failed(Check::Exists, expected, None, consequence, fix),
    )
}

pub(super) fn user_type_check(
    expect: &Expect<'_>,
    user: &SourceUser,
    copy: &ProvisionedUser,
) -> UserCheck {
    let want = expect.user_type;
    let Some(actual) = &copy.user_type else {
        return not_checked(
            Check::UserType,
            want.into(),
            "Graph gave no userType".into(),
        );
    };
    if actual.eq_ignore_ascii_case(want) {
        return passed(Check::UserType, want.into(), Some(actual.clone()));
    }
    let (to, from) = (&expect.sync.to, &expect.sync.from);
    let consequence = if want == "Member" {
        format!(
            "shown as External (a guest) in Teams and Outlook; {to} treats them as a guest: no browsing its directory, and guest restrictions on teams, groups and sites"
        )
    } else {
        format!("has a member's access in {to}, where the spec makes synced users guests")
    };
    let fix = match (expect.sync.user_type_applies, expect.mode) {
        (UserTypeApplies::OnCreate, _) => format!(
            "sync sets the type only when it creates a user (`userTypeApplies: onCreate`): set `userTypeApplies: always` and run `mtoctl apply`, or change the user's type in {to}'s Entra admin center"
        ),
        (UserTypeApplies::Always, Mode::Status) => format!(
            "the next sync cycle sets it back to {want} (`userTypeApplies: always`), or now: {}; if it stays {actual}, `mtoctl plan` shows whether the userType mapping of {} in {from} still says {want}",
            expect.sync_now(&user.user_principal_name),
            expect.sync.name
        ),
        (UserTypeApplies::Always, Mode::OnDemand) => format!(
            "provisioning did not change it: `mtoctl plan` shows whether the userType mapping of {} in {from} still says {want} (and applies always); if it does, an admin of {to} may have changed the type after sync",
            expect.sync.name
        ),
    };
    failed(
        Check::UserType,
        want.into(),
        Some(actual.clone()),
        consequence,
        fix,
    )
}

pub(super) fn identity_check(
    expect: &Expect<'_>,
    user: &SourceUser,
    copy: &ProvisionedUser,
) -> UserCheck {
    let expected = format!(
        "an identity issued by {EXTERNAL_ENTRA_ISSUER} (their {} account)",
        expect.sync.from
    );
    let Some(identities) = &copy.identities else {
        return not_checked(Check::Identity, expected, "Graph gave no identities".into());
    };
    let home = user
        .user_principal_name
        .rsplit_once('@')
        .map(|(_, d)| d.to_ascii_lowercase());
    let linked = identities.iter().any(|i| {
        let issuer = i.issuer.as_deref().unwrap_or("");
        issuer.eq_ignore_ascii_case(EXTERNAL_ENTRA_ISSUER)
            // The objectIdentity reference names the home organization's domain as the issuer
            // of users of other Entra organizations; accepted as well.
            || (i
                .sign_in_type
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case("federated"))
                && home.as_deref() == Some(issuer.to_ascii_lowercase().as_str()))
    });
    let issuers: Vec<&str> = identities
        .iter()
        .filter_map(|i| i.issuer.as_deref())
        .collect();
    let observed = if issuers.is_empty() {
        "no identity".to_owned()
    } else {
        format!("issued by {}", issuers.join(", "))
    };
    if linked {
        return passed(Check::Identity, expected, Some(observed));
    }
    let (to, from) = (&expect.sync.to, &expect.sync.from);
    failed(
        Check::Identity,
        expected,
        Some(observed.clone()),
        format!(
            "cannot sign in to {to} with their {from} account (the copy's sign-in is {observed}): they are asked for another password or a one-time code, and single sign-on from {from} does not work"
        ),
        format!(
            "sync does not re-link an existing account: in {to}'s Entra admin center reset the user's redemption status, or delete the copy and provision it again with {}",
            expect.sync_now(&user.user_principal_name)
        ),
    )
}

pub(super) fn address_list_check(
    expect: &Expect<'_>,
    user: &SourceUser,
    copy: &ProvisionedUser,
) -> UserCheck {
    let to = &expect.sync.to;
    match copy.show_in_address_list {
        None => not_checked(
            Check::ShowInAddressList,
            "true".into(),
            "Graph gave no value (it does not always return showInAddressList)".into(),
        ),
        Some(true) => passed(Check::ShowInAddressList, "true".into(), Some("true".into())),
        Some(false) => failed(
            Check::ShowInAddressList,
            "true".into(),
            Some("false".into()),
            format!(
                "not found in the Outlook and Teams directory search of {to} (hidden from its address list): people there cannot look them up or start a chat by name"
            ),
            format!(
                "sync sets it from the showInAddressList mapping (the constant True): {}; if it stays hidden, restore that mapping of {} in {}'s Entra admin center (Provisioning, Mappings)",
                match expect.mode {
                    Mode::Status => format!(
                        "the next cycle restores it, or now: {}",
                        expect.sync_now(&user.user_principal_name)
                    ),
                    Mode::OnDemand => "provisioning did not restore it".to_owned(),
                },
                expect.sync.name,
                expect.sync.from
            ),
        ),
    }
}

pub(super) fn account_enabled_check(
    expect: &Expect<'_>,
    user: &SourceUser,
    copy: &ProvisionedUser,
) -> UserCheck {
    let (to, from) = (&expect.sync.to, &expect.sync.from);
    let home = user.account_enabled.unwrap_or(true);
    let expected = if home {
        "true".to_owned()
    } else {
        format!("false (disabled in {from} too)")
    };
    let Some(actual) = copy.account_enabled else {
        return not_checked(
            Check::AccountEnabled,
            expected,
            "Graph gave no accountEnabled".into(),
        );
    };
    if actual == home {
        return passed(Check::AccountEnabled, expected, Some(actual.to_string()));
    }
    let now = match expect.mode {
        Mode::Status => format!(
            "the next sync cycle sets it from {from}, or now: {}",
            expect.sync_now(&user.user_principal_name)
        ),
        Mode::OnDemand => "provisioning did not change it".to_owned(),
    };
    let (consequence, fix) = if home {
        (
            format!("cannot sign in to {to}: their account there is disabled"),
            format!(
                "{now}; if it stays disabled, an admin of {to} blocked sign-in: unblock the user in {to}'s Entra admin center"
            ),
        )
    } else {
        (
            format!("can still sign in to {to}, although their account is disabled in {from}"),
            format!("{now}; or block the user's sign-in in {to}'s Entra admin center"),
        )
    };
    failed(
        Check::AccountEnabled,
        expected,
        Some(actual.to_string()),
        consequence,
        fix,
    )
}

pub(super) fn upn_check(
    expect: &Expect<'_>,
    user: &SourceUser,
    copy: &ProvisionedUser,
) -> UserCheck {
    let to = &expect.sync.to;
    let Some(domain) = expect.target_domain else {
        let shape = copy_upn(&user.user_principal_name, "…").unwrap_or_default();
        return not_checked(
            Check::UserPrincipalName,
            shape,
            format!("the spec gives no domain for {to} (`domain`)"),
        );
    };
    let Some(expected) = copy_upn(&user.user_principal_name, domain) else {
        return not_checked(
            Check::UserPrincipalName,
            String::new(),
            "the source UPN has no domain".into(),
        );
    };
    let observed = &copy.user_principal_name;
    let initial_domain = |upn: &str| {
        // The `#EXT#` names are in the tenant's initial (`onmicrosoft.com`) domain, which a
        // spec giving a custom domain does not name: accepted when the rest matches.
        !domain.ends_with(".onmicrosoft.com")
            && upn
                .rsplit_once("#EXT#@")
                .or_else(|| upn.rsplit_once("#ext#@"))
                .is_some_and(|(prefix, d)| {
                    d.to_ascii_lowercase().ends_with(".onmicrosoft.com")
                        && expected
                            .to_ascii_lowercase()
                            .starts_with(&format!("{}#ext#@", prefix.to_ascii_lowercase()))
                })
    };
    if observed.eq_ignore_ascii_case(&expected) || initial_domain(observed) {
        return passed(Check::UserPrincipalName, expected, Some(observed.clone()));
    }
    failed(
        Check::UserPrincipalName,
        expected.clone(),
        Some(observed.clone()),
        format!(
            "its name in {to} is not the one cross-tenant sync gives: people, admins and scripts looking for {expected} do not find it"
        ),
        format!(
            "rename it to {expected} in {to}'s Entra admin center, or delete it and provision it again with {}",
            expect.sync_now(&user.user_principal_name)
        ),
    )
}
