//! What a valid spec turns into: resolved tenants, merged pair settings, final sync names.

use mtoctl_model::desired::{Credential, GroupRef, PairKey, UserRef};
use mtoctl_model::ids::Alias;
use mtoctl_model::spec::document::{LeavingScope, PruneKind, Role, UserType};

fn example(name: &str) -> mtoctl_model::DesiredState {
    let path = format!(
        "{}/../../examples/{name}/mto.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(&path).expect("example exists");
    match mtoctl_model::spec::load(&path, &bytes) {
        Ok(spec) => spec.desired,
        Err(d) => panic!("{path} is invalid: {:#?}", d.records()),
    }
}

fn pair(tenant: &str, partner: &str) -> PairKey {
    PairKey {
        tenant: Alias(tenant.into()),
        partner: Alias(partner.into()),
    }
}

#[test]
fn quickstart_resolves_tenants_credentials_and_default_sync_names() {
    let d = example("quickstart");
    assert_eq!(d.organization.display_name, "Contoso Group");
    assert_eq!(d.tenants.len(), 2);
    let contoso = d.tenant(&Alias("contoso".into())).expect("contoso");
    assert_eq!(contoso.role, Role::Owner);
    assert_eq!(
        contoso.tenant_id.to_string(),
        "6babcaad-604b-40ac-a9d7-9fd97c0b779f"
    );
    match &contoso.credential {
        Credential::ClientSecret {
            client_id,
            secret_env,
        } => {
            assert_eq!(client_id.as_str(), "0d3f3c4e-5b7a-4c1e-9a8b-1c2d3e4f5a6b");
            assert_eq!(secret_env, "CONTOSO_CLIENT_SECRET");
        }
        other => panic!("unexpected credential {other:?}"),
    }
    let fabrikam = d.tenant(&Alias("fabrikam".into())).expect("fabrikam");
    assert_eq!(fabrikam.role, Role::Member);

    assert_eq!(d.syncs.len(), 2);
    let to_fabrikam = &d.syncs[0];
    assert_eq!(to_fabrikam.name, format!("MTO_Sync_{}", fabrikam.tenant_id));
    assert_eq!(to_fabrikam.user_type, UserType::Member);
    assert!(to_fabrikam.enabled);
    assert_eq!(to_fabrikam.on_leaving_scope, LeavingScope::SoftDelete);
    assert_eq!(
        to_fabrikam.scope.users,
        vec![
            UserRef::UserPrincipalName("alice@contoso.onmicrosoft.com".into()),
            UserRef::UserPrincipalName("bob@contoso.onmicrosoft.com".into()),
        ]
    );
    assert_eq!(
        to_fabrikam.scope.groups,
        vec![GroupRef::DisplayName("Contoso Sales".into())]
    );
    assert_eq!(d.syncs[1].name, format!("MTO_Sync_{}", contoso.tenant_id));

    // Both ordered pairs get the allPairs settings.
    assert_eq!(d.collaboration.pairs.len(), 2);
    for key in [pair("contoso", "fabrikam"), pair("fabrikam", "contoso")] {
        let s = &d.collaboration.pairs[&key];
        assert_eq!(s.allow_users_sync_inbound, Some(true));
        assert_eq!(
            s.automatic_user_consent.as_ref().and_then(|c| c.inbound),
            Some(true)
        );
        assert_eq!(s.inbound_trust.as_ref().and_then(|t| t.mfa), Some(true));
        // Not declared, so not managed.
        assert_eq!(
            s.inbound_trust.as_ref().and_then(|t| t.compliant_device),
            None
        );
        assert!(s.b2b_collaboration.is_none());
    }
    assert!(d.collaboration.manage_templates);
    assert!(d.prune.is_empty());
}

#[test]
fn hub_and_spoke_merges_an_override_into_one_direction_only() {
    let d = example("hub-and-spoke");
    assert_eq!(d.tenants.len(), 5);
    assert_eq!(
        d.collaboration.pairs.len(),
        20,
        "5 tenants make 20 ordered pairs"
    );
    let finance_for_labs = &d.collaboration.pairs[&pair("finance", "labs")];
    assert_eq!(finance_for_labs.allow_users_sync_inbound, Some(false));
    let trust = finance_for_labs.inbound_trust.as_ref().expect("trust");
    assert_eq!(trust.compliant_device, Some(false));
    assert_eq!(
        trust.mfa,
        Some(true),
        "a leaf the override does not name keeps allPairs' value"
    );
    let labs_for_finance = &d.collaboration.pairs[&pair("labs", "finance")];
    assert_eq!(labs_for_finance.allow_users_sync_inbound, Some(true));
    assert_eq!(
        d.prune.iter().copied().collect::<Vec<_>>(),
        vec![PruneKind::Members]
    );
    assert!(
        matches!(d.tenants[0].credential, Credential::GithubOidc { ref audience, .. } if audience == "api://AzureADTokenExchange")
    );
    assert!(matches!(
        d.tenants[2].credential,
        Credential::Certificate { .. }
    ));
    assert!(matches!(
        d.tenants[3].credential,
        Credential::WorkloadIdentity { .. }
    ));
    let finance_to_hq = d
        .syncs
        .iter()
        .find(|s| s.from.as_str() == "finance")
        .expect("finance sync");
    assert_eq!(finance_to_hq.on_leaving_scope, LeavingScope::Keep);
    assert_eq!(d.syncs[3].scope.filter.len(), 1);
}

#[test]
fn between_overrides_apply_to_both_directions_and_agreeing_overrides_are_fine() {
    let spec = r#"
apiVersion: mtoctl/v1alpha1
kind: MultiTenantOrganization
organization: {displayName: X}
tenants:
  - {alias: a, tenantId: 11111111-1111-4111-8111-111111111111, displayName: A, role: owner, auth: {azureCli: {}}}
  - {alias: b, tenantId: 22222222-2222-4222-8222-222222222222, displayName: B, auth: {azureCli: {}}}
collaboration:
  allPairs: {inboundTrust: {mfa: false}}
  overrides:
    - between: [a, b]
      settings: {inboundTrust: {mfa: true}}
    - tenant: a
      partner: b
      settings: {inboundTrust: {mfa: true, compliantDevice: true}}
"#;
    let d = mtoctl_model::spec::load("spec.yaml", spec.as_bytes())
        .expect("valid")
        .desired;
    let ab = d.collaboration.pairs[&pair("a", "b")]
        .inbound_trust
        .clone()
        .expect("trust");
    let ba = d.collaboration.pairs[&pair("b", "a")]
        .inbound_trust
        .clone()
        .expect("trust");
    assert_eq!((ab.mfa, ab.compliant_device), (Some(true), Some(true)));
    assert_eq!((ba.mfa, ba.compliant_device), (Some(true), None));
    // allPairs keeps its own value for the templates.
    assert_eq!(
        d.collaboration.all_pairs.inbound_trust.and_then(|t| t.mfa),
        Some(false)
    );
}

#[test]
fn more_than_one_hundred_tenants_are_refused() {
    let mut spec = String::from(
        "apiVersion: mtoctl/v1alpha1\nkind: MultiTenantOrganization\norganization: {displayName: X}\ntenants:\n",
    );
    for i in 0..101 {
        let role = if i == 0 { "owner" } else { "member" };
        spec.push_str(&format!(
            "  - {{alias: t{i}, tenantId: 00000000-0000-4000-8000-{i:012}, displayName: T{i}, role: {role}, auth: {{azureCli: {{}}}}}}\n"
        ));
    }
    let err = mtoctl_model::spec::load("spec.yaml", spec.as_bytes()).expect_err("too many");
    let codes: Vec<&str> = err.items().iter().map(|d| d.code).collect();
    assert_eq!(codes, vec!["spec::too_many_tenants"]);
    // One hundred is fine.
    let hundred: String = spec
        .lines()
        .take(4 + 100)
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(mtoctl_model::spec::load("spec.yaml", hundred.as_bytes()).is_ok());
}

#[test]
fn case_differences_in_ids_and_upns_are_normalised() {
    let spec = r#"
apiVersion: mtoctl/v1alpha1
kind: MultiTenantOrganization
organization: {displayName: X}
tenants:
  - {alias: a, tenantId: 6BABCAAD-604B-40AC-A9D7-9FD97C0B779F, displayName: A, role: owner, auth: {azureCli: {}}}
  - {alias: b, tenantId: 22222222-2222-4222-8222-222222222222, displayName: B, auth: {azureCli: {}}}
collaboration:
  allPairs: {allowUsersSyncInbound: true, automaticUserConsent: {inbound: true, outbound: true}}
sync:
  - {from: a, to: b, scope: {users: [Alice@Contoso.com, alice@contoso.com]}}
"#;
    let spec = mtoctl_model::spec::load("spec.yaml", spec.as_bytes()).expect("valid");
    let d = spec.desired;
    assert_eq!(
        d.tenants[0].tenant_id.to_string(),
        "6babcaad-604b-40ac-a9d7-9fd97c0b779f"
    );
    assert_eq!(
        d.syncs[0].scope.users,
        vec![UserRef::UserPrincipalName("alice@contoso.com".into())]
    );
    let warnings: Vec<&str> = spec.warnings.items().iter().map(|w| w.code).collect();
    assert_eq!(warnings, vec!["spec::duplicate_principal"]);
}

#[test]
fn five_different_mistakes_give_five_located_diagnostics() {
    let spec = r#"apiVersion: mtoctl/v1alpha1
kind: MultiTenantOrganization
organization: {displayName: Contoso Group}
tenants:
  - alias: contoso
    tenantId: 6babcaad-604b-40ac-a9d7-9fd97c0b779
    displayName: Contoso
    role: owner
    auth: {clientId: 0d3f3c4e-5b7a-4c1e-9a8b-1c2d3e4f5a6b, clientSecret: {fromEnv: CONTOSO_SECRET}}
  - alias: fabrikam
    tenantId: 3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11
    displayNme: Fabrikam
    auth: {clientId: 7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d, clientSecret: {fromEnv: FABRIKAM_SECRET}}
collaboration:
  allPairs: {allowUsersSyncInbound: true, automaticUserConsent: {inbound: true, outbound: true}}
sync:
  - from: contoso
    to: fabrkam
    scope: {users: [alice@contoso.onmicrosoft.com]}
  - from: contoso
    to: contoso
    scope: {users: [bob.contoso.onmicrosoft.com]}
"#;
    let err = mtoctl_model::spec::load("spec.yaml", spec.as_bytes()).expect_err("invalid");
    let found: Vec<String> = err
        .records()
        .iter()
        .map(|r| {
            format!(
                "{} {}:{}",
                r.code,
                r.line.unwrap_or(0),
                r.column.unwrap_or(0)
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![
            "spec::guid 6:15",
            "spec::missing_field 10:5",
            "spec::unknown_field 12:5",
            "spec::unknown_alias 18:9",
            "spec::self_sync 21:9",
            "spec::upn 22:21",
        ]
    );
}
