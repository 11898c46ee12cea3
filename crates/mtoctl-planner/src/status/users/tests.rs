//! The per-user checks on built observations: each failed check says what a person would
//! notice, and the counts are always the lengths of the lists beside them.

use mtoctl_model::DesiredState;
use mtoctl_model::desired::{FilterClauseSpec, FilterGroupSpec};
use mtoctl_model::health::{
    Coverage, JobHealth, OnDemandResult, OnDemandStep, ProvisionedUser, SourceUser,
    SyncHealthObservation, UserIdentity,
};
use mtoctl_model::spec::document::{FilterOperator, UserTypeApplies};

use super::*;
use crate::tests::example;

const ALICE: &str = "alice@contoso.onmicrosoft.com";
const ALICE_COPY: &str = "alice_contoso.onmicrosoft.com#EXT#@fabrikam.onmicrosoft.com";

fn source(upn: &str) -> SourceUser {
    SourceUser {
        id: format!("id-{upn}"),
        user_principal_name: upn.into(),
        user_type: Some("Member".into()),
        account_enabled: Some(true),
        ..SourceUser::default()
    }
}

/// The copy cross-tenant sync makes of `upn` in fabrikam, as it should be.
fn copy(upn: &str) -> ProvisionedUser {
    let (local, domain) = upn.split_once('@').expect("a UPN");
    ProvisionedUser {
        source: upn.into(),
        id: Some(format!("copy-{upn}")),
        user_principal_name: format!("{local}_{domain}#EXT#@fabrikam.onmicrosoft.com"),
        user_type: Some("Member".into()),
        account_enabled: Some(true),
        show_in_address_list: Some(true),
        identities: Some(vec![identity("federated", "ExternalAzureAD", None)]),
    }
}

/// A sign-in identity of a copy.
fn identity(sign_in_type: &str, issuer: &str, issuer_assigned_id: Option<&str>) -> UserIdentity {
    UserIdentity {
        sign_in_type: Some(sign_in_type.into()),
        issuer: Some(issuer.into()),
        issuer_assigned_id: issuer_assigned_id.map(Into::into),
    }
}

fn read(users: Vec<SourceUser>, provisioned: Vec<ProvisionedUser>) -> SyncHealthObservation {
    SyncHealthObservation {
        from: mtoctl_model::ids::Alias("contoso".into()),
        to: mtoctl_model::ids::Alias("fabrikam".into()),
        job: JobHealth::default(),
        coverage: Coverage::All,
        users,
        truncated: false,
        provisioned,
        on_demand: Vec::new(),
        groups: Vec::new(),
    }
}

fn judged(desired: &DesiredState, read: &SyncHealthObservation, mode: Mode) -> UsersJudged {
    let judged = judge(&desired.syncs[0], desired, read, mode);
    // The counts are the lists' own, whatever the users.
    let c = &judged.counts;
    assert_eq!(c.in_scope, judged.users.len());
    assert_eq!(
        c.provisioned,
        judged.users.iter().filter(|u| u.target.is_some()).count()
    );
    assert_eq!(
        c.failing,
        judged
            .users
            .iter()
            .filter(|u| u.failed().next().is_some())
            .count()
    );
    assert_eq!(c.out_of_scope, judged.out_of_scope.len());
    judged
}

/// Alice judged for `status` with `copy` as her copy in fabrikam.
fn alice_judged(desired: &DesiredState, copy: ProvisionedUser) -> UsersJudged {
    judged(
        desired,
        &read(vec![source(ALICE)], vec![copy]),
        Mode::Status,
    )
}

fn one_failure(judged: &UsersJudged, check: Check) -> &UserCheck {
    let user = &judged.users[0];
    let failed: Vec<&UserCheck> = user.failed().collect();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0].check, check);
    failed[0]
}

#[test]
fn a_copy_as_sync_makes_it_passes_every_check() {
    let desired = example("quickstart");
    let j = alice_judged(&desired, copy(ALICE));
    let alice = &j.users[0];
    assert_eq!(alice.health, Health::Healthy);
    assert_eq!(alice.target.as_deref(), Some(ALICE_COPY));
    let checks: Vec<Check> = alice.checks.iter().map(|c| c.check).collect();
    assert_eq!(
        checks,
        [
            Check::Exists,
            Check::UserType,
            Check::Identity,
            Check::ShowInAddressList,
            Check::AccountEnabled,
            Check::UserPrincipalName
        ]
    );
    assert!(alice.checks.iter().all(|c| c.outcome == Outcome::Passed));
    assert!(j.findings.is_empty());
}

#[test]
fn a_guest_where_the_spec_says_member_is_shown_as_external() {
    let desired = example("quickstart");
    let mut guest = copy(ALICE);
    guest.user_type = Some("Guest".into());
    let j = alice_judged(&desired, guest);
    let c = one_failure(&j, Check::UserType);
    assert_eq!(j.users[0].health, Health::Broken);
    assert!(
        c.consequence
            .as_deref()
            .is_some_and(|t| t.starts_with("shown as External (a guest) in Teams and Outlook")),
        "{c:?}"
    );
    assert!(
        c.fix
            .as_deref()
            .is_some_and(|f| f.contains("the next sync cycle sets it back to Member"))
    );
    assert_eq!(
        j.findings[0].1,
        format!(
            "{ALICE_COPY} was provisioned as Guest, the spec says Member: {}",
            c.consequence.as_deref().unwrap_or("")
        )
    );

    // When the spec sets the type only on creation, sync will not mend it.
    let mut desired = desired;
    desired.syncs[0].user_type_applies = UserTypeApplies::OnCreate;
    let mut guest = copy(ALICE);
    guest.user_type = Some("Guest".into());
    let j = alice_judged(&desired, guest);
    let c = one_failure(&j, Check::UserType);
    assert!(
        c.fix
            .as_deref()
            .is_some_and(|f| f.contains("set `userTypeApplies: always`")),
        "{c:?}"
    );
}

#[test]
fn a_copy_hidden_from_the_address_list_is_not_found_in_search() {
    let desired = example("quickstart");
    let mut hidden = copy(ALICE);
    hidden.show_in_address_list = Some(false);
    let j = alice_judged(&desired, hidden);
    let c = one_failure(&j, Check::ShowInAddressList);
    assert!(
        c.consequence
            .as_deref()
            .is_some_and(|t| t
                .starts_with("not found in the Outlook and Teams directory search of fabrikam")),
        "{c:?}"
    );
    // Graph often gives no value: not checked, not failed.
    let mut unknown = copy(ALICE);
    unknown.show_in_address_list = None;
    let j = alice_judged(&desired, unknown);
    assert_eq!(j.users[0].health, Health::Healthy);
    assert!(
        j.users[0]
            .checks
            .iter()
            .any(|c| c.check == Check::ShowInAddressList && c.outcome == Outcome::NotChecked)
    );
}

#[test]
fn a_copy_not_tied_to_its_home_account_cannot_sign_in_with_it() {
    let desired = example("quickstart");
    let mut invited = copy(ALICE);
    invited.identities = Some(vec![identity("emailAddress", "mail", Some(ALICE))]);
    let j = alice_judged(&desired, invited);
    let c = one_failure(&j, Check::Identity);
    assert_eq!(c.observed.as_deref(), Some("issued by mail"));
    assert!(
        c.consequence
            .as_deref()
            .is_some_and(|t| t.starts_with("cannot sign in to fabrikam with their contoso account")),
        "{c:?}"
    );
    // The reference's wording (the home organization's domain as issuer) passes too.
    let mut by_domain = copy(ALICE);
    by_domain.identities = Some(vec![identity("federated", "contoso.onmicrosoft.com", None)]);
    let j = alice_judged(&desired, by_domain);
    assert_eq!(j.users[0].health, Health::Healthy);
}

#[test]
fn a_disabled_copy_cannot_sign_in_unless_its_home_account_is_disabled_too() {
    let desired = example("quickstart");
    let mut disabled = copy(ALICE);
    disabled.account_enabled = Some(false);
    let j = alice_judged(&desired, disabled.clone());
    let c = one_failure(&j, Check::AccountEnabled);
    assert_eq!(
        c.consequence.as_deref(),
        Some("cannot sign in to fabrikam: their account there is disabled")
    );
    let mut home_disabled = source(ALICE);
    home_disabled.account_enabled = Some(false);
    let j = judged(
        &desired,
        &read(vec![home_disabled], vec![disabled]),
        Mode::Status,
    );
    assert_eq!(j.users[0].health, Health::Healthy, "{:#?}", j.users[0]);
}

#[test]
fn the_upn_must_be_the_sources_with_ext_in_the_targets_domain() {
    let desired = example("quickstart");
    let mut renamed = copy(ALICE);
    renamed.user_principal_name =
        "alice_contoso.onmicrosoft.com#EXT#@fabrikamtest.onmicrosoft.com".into();
    let j = alice_judged(&desired, renamed);
    let c = one_failure(&j, Check::UserPrincipalName);
    assert_eq!(c.expected, ALICE_COPY);
    // Without the target's domain in the spec, the name is not checked.
    let mut desired = desired;
    for t in &mut desired.tenants {
        t.domain = None;
    }
    let j = alice_judged(&desired, copy(ALICE));
    assert!(
        j.users[0]
            .checks
            .iter()
            .any(|c| c.check == Check::UserPrincipalName && c.outcome == Outcome::NotChecked)
    );
    assert_eq!(j.users[0].health, Health::Healthy);
}

#[test]
fn users_in_scope_without_a_copy_wait_and_are_listed_first() {
    let desired = example("quickstart");
    let bob = "bob@contoso.onmicrosoft.com";
    let mut guest = copy(ALICE);
    guest.user_type = Some("Guest".into());
    let j = judged(
        &desired,
        &read(
            vec![
                source("erin@contoso.onmicrosoft.com"),
                source(bob),
                source(ALICE),
            ],
            vec![copy("erin@contoso.onmicrosoft.com"), guest],
        ),
        Mode::Status,
    );
    let order: Vec<(&str, Health)> = j
        .users
        .iter()
        .map(|u| (u.source.as_str(), u.health))
        .collect();
    assert_eq!(
        order,
        [
            (ALICE, Health::Broken),
            (bob, Health::Waiting),
            ("erin@contoso.onmicrosoft.com", Health::Healthy)
        ]
    );
    assert_eq!(j.counts.in_scope, 3);
    assert_eq!(j.counts.provisioned, 2);
    assert_eq!(j.counts.failing, 2);
    let bob_alone = JudgedView::one(&j, bob);
    let missing = one_failure(&bob_alone, Check::Exists);
    assert!(
        missing.fix.as_deref().is_some_and(
            |f| f.contains("mtoctl sync now -f SPEC --user bob@contoso.onmicrosoft.com")
        )
    );
}

#[test]
fn guests_synced_in_users_and_users_the_filter_leaves_out_are_not_in_scope() {
    let mut desired = example("quickstart");
    desired.syncs[0].scope.filter = vec![FilterGroupSpec {
        name: "sales".into(),
        clauses: vec![FilterClauseSpec {
            attribute: "department".into(),
            operator: FilterOperator::Equals,
            values: vec!["Sales".into()],
        }],
    }];
    let with_department = |upn: &str, department: &str| {
        let mut u = source(upn);
        u.attributes.insert("department".into(), department.into());
        u
    };
    let mut guest = with_department("gus@contoso.onmicrosoft.com", "sales");
    guest.user_type = Some("Guest".into());
    let synced_in = with_department("x_fabrikam.com#EXT#@contoso.onmicrosoft.com", "Sales");
    let j = judged(
        &desired,
        &read(
            vec![
                with_department(ALICE, "Sales"),
                with_department("bob@contoso.onmicrosoft.com", "Engineering"),
                guest,
                synced_in,
                // The filter's attribute was not read: undetermined, and not provisioned.
                source("erin@contoso.onmicrosoft.com"),
            ],
            vec![copy(ALICE)],
        ),
        Mode::Status,
    );
    assert_eq!(j.users.len(), 1);
    assert_eq!(j.users[0].source, ALICE);
    let reasons: Vec<(&str, &str)> = j
        .out_of_scope
        .iter()
        .map(|o| (o.source.as_str(), o.reason.as_str()))
        .collect();
    assert_eq!(reasons.len(), 4, "{reasons:#?}");
    assert!(
        reasons[0]
            .1
            .contains("does not match the spec's scoping filter")
    );
    assert!(reasons[1].1.starts_with("a guest of contoso"));
    assert!(reasons[2].1.contains("only internal members are synced"));
    assert!(
        reasons[3]
            .1
            .contains("cannot tell whether the scoping filter admits it")
    );
}

#[test]
fn provisioning_on_demand_judges_by_what_entra_answered() {
    let desired = example("quickstart");
    let answer = |status: &str, scoping: &str, why: &str| OnDemandResult {
        source: ALICE.into(),
        status: Some(status.into()),
        error: None,
        steps: vec![OnDemandStep {
            name: Some("EntrySynchronizationScoping".into()),
            kind: Some("Scoping".into()),
            status: Some(scoping.into()),
            description: Some(why.into()),
        }],
        target_id: None,
    };
    // Named with --user and out of scope by Entra's word: set apart.
    let mut r = read(vec![source(ALICE)], Vec::new());
    r.coverage = Coverage::Named;
    r.on_demand = vec![answer("Skipped", "Skipped", "not assigned")];
    let j = judged(&desired, &r, Mode::OnDemand);
    assert!(j.users.is_empty());
    assert_eq!(
        j.out_of_scope[0].reason,
        "Entra says it is not in scope: not assigned"
    );
    // Picked among the assignments, yet Entra skips it: broken, with Entra's reason.
    r.coverage = Coverage::First;
    let j = judged(&desired, &r, Mode::OnDemand);
    assert_eq!(j.users[0].health, Health::Broken);
    let c = one_failure(&j, Check::Exists);
    assert_eq!(
        c.fix.as_deref(),
        Some("Entra did not provision it (Skipped): not assigned")
    );
    // Provisioned, but not listed in the target yet: waiting.
    r.on_demand = vec![answer("Success", "Success", "in scope")];
    let j = judged(&desired, &r, Mode::OnDemand);
    assert_eq!(j.users[0].health, Health::Waiting);
    assert_eq!(
        j.users[0]
            .provisioning
            .as_ref()
            .and_then(|p| p.status.as_deref()),
        Some("Success")
    );
}

/// One user's verdict as a judgement of its own, for [`one_failure`].
struct JudgedView;

impl JudgedView {
    fn one(j: &UsersJudged, source: &str) -> UsersJudged {
        UsersJudged {
            counts: j.counts.clone(),
            users: j
                .users
                .iter()
                .filter(|u| u.source == source)
                .cloned()
                .collect(),
            out_of_scope: Vec::new(),
            findings: Vec::new(),
        }
    }
}
