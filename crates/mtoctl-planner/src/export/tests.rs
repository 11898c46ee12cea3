//! Round trips on converged worlds: every exported spec must plan nothing against the state
//! it was exported from.

use super::*;
use crate::testing::ObservedStateBuilder;
use mtoctl_model::desired::default_sync_name;
use mtoctl_model::ids::Guid;
use mtoctl_model::observed::SyncConfigurationObservation;
use mtoctl_model::spec::document::{FilterOperator, LeavingScope};
use mtoctl_model::spec::{self, export_input, yaml};

fn example(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../../examples/{name}/mto.yaml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("example spec")
}

/// Exports `text`'s tenants from `observed`, and checks that the result reads back as a
/// valid spec that plans nothing against the same state.
fn round_trip(text: &str, observed: &ObservedState) -> (Exported, String) {
    let input = export_input::load("in.yaml", text.as_bytes()).expect("valid input");
    let exported = export(&input, observed).expect("exported");
    let yaml = yaml::to_yaml(&exported.document).expect("serialisable");
    let valid = spec::load("out.yaml", yaml.as_bytes())
        .unwrap_or_else(|d| panic!("invalid export:\n{yaml}\n{:?}", d.items()));
    let plan = crate::plan(&valid.desired, observed).expect("plans");
    assert!(
        !plan.has_changes() && plan.deferred.is_empty(),
        "the export plans changes:\n{yaml}\n{:#?}",
        plan.actions
    );
    (exported, yaml)
}

fn converged(text: &str, edit: impl FnOnce(&mut ObservedStateBuilder<'_>)) -> ObservedState {
    let desired = spec::load("mto.yaml", text.as_bytes())
        .expect("valid example")
        .desired;
    ObservedStateBuilder::converged(&desired).with(edit).build()
}

#[test]
fn the_quickstart_round_trips_compactly() {
    let text = example("quickstart");
    let observed = converged(&text, |_| {});
    let (exported, yaml) = round_trip(&text, &observed);
    assert!(exported.warnings.is_empty(), "{:?}", exported.warnings);
    let original: SpecDocument =
        serde_json::from_value(yaml::parse(&text).expect("yaml").to_json()).expect("doc");
    let doc = &exported.document;
    assert_eq!(doc.organization, original.organization);
    assert_eq!(
        doc.tenants, original.tenants,
        "credentials are kept as given"
    );
    let c = doc.collaboration.as_ref().expect("collaboration");
    assert_eq!(
        c.all_pairs,
        original
            .collaboration
            .as_ref()
            .and_then(|c| c.all_pairs.clone())
    );
    assert!(
        c.overrides.is_empty() && c.manage_templates.is_none(),
        "{yaml}"
    );
    assert_eq!(doc.sync.len(), 2);
    assert!(
        doc.sync.iter().all(|s| s.name.is_none()),
        "default names are left out"
    );
    assert_eq!(
        doc.sync[0].scope.users,
        [
            "alice@contoso.onmicrosoft.com",
            "bob@contoso.onmicrosoft.com"
        ]
    );
    assert_eq!(doc.sync[0].scope.groups, ["Contoso Sales"]);
}

#[test]
fn hub_and_spoke_keeps_its_override_and_filter() {
    let text = example("hub-and-spoke");
    let observed = converged(&text, |_| {});
    let (exported, yaml) = round_trip(&text, &observed);
    let c = exported
        .document
        .collaboration
        .as_ref()
        .expect("collaboration");
    assert_eq!(c.overrides.len(), 1, "{yaml}");
    let o = &c.overrides[0];
    assert_eq!(
        (o.tenant.as_deref(), o.partner.as_deref()),
        (Some("finance"), Some("labs"))
    );
    assert_eq!(o.settings.allow_users_sync_inbound, Some(false));
    let finance = exported
        .document
        .sync
        .iter()
        .find(|s| s.from == "hq" && s.to == "finance");
    let filter = finance
        .and_then(|s| s.scope.filter.as_ref())
        .expect("a filter");
    assert_eq!(filter.any_of[0].all_of[0].operator, FilterOperator::Equals);
    let keep = exported.document.sync.iter().find(|s| s.from == "finance");
    assert_eq!(
        keep.and_then(|s| s.on_leaving_scope),
        Some(LeavingScope::Keep)
    );
}

#[test]
fn settings_some_pairs_lack_are_written_per_pair() {
    let text = example("quickstart");
    let observed = converged(&text, |b| {
        // Only contoso trusts fabrikam's compliant devices; fabrikam's trust is all null.
        b.partner_mut("contoso", "fabrikam")
            .settings
            .inbound_trust
            .get_or_insert_with(Default::default)
            .compliant_device = Some(true);
        b.partner_mut("fabrikam", "contoso").settings.inbound_trust = None;
    });
    let (exported, yaml) = round_trip(&text, &observed);
    let c = exported.document.collaboration.expect("collaboration");
    let all = c.all_pairs.expect("allPairs");
    assert!(all.inbound_trust.is_none(), "{yaml}");
    assert_eq!(c.overrides.len(), 1, "{yaml}");
    assert_eq!(c.overrides[0].tenant.as_deref(), Some("contoso"));
    // Templates are compared only on what allPairs holds, and still hold it.
    assert_eq!(c.manage_templates, None, "{yaml}");
}

#[test]
fn templates_that_differ_from_all_pairs_are_not_managed() {
    let text = example("quickstart");
    let observed = converged(&text, |b| {
        b.tenant_mut("fabrikam")
            .templates
            .partner
            .settings
            .automatic_user_consent_inbound = None;
    });
    let (exported, yaml) = round_trip(&text, &observed);
    let c = exported.document.collaboration.expect("collaboration");
    assert!(c.all_pairs.is_some(), "{yaml}");
    assert_eq!(c.manage_templates, Some(false), "{yaml}");
}

#[test]
fn symmetric_differences_are_written_between_two_tenants() {
    let text = example("hub-and-spoke");
    let observed = converged(&text, |b| {
        for (t, p) in [("retail", "labs"), ("labs", "retail")] {
            b.partner_mut(t, p).settings.automatic_user_consent_outbound = Some(false);
        }
    });
    let (exported, yaml) = round_trip(&text, &observed);
    let c = exported.document.collaboration.expect("collaboration");
    let between: Vec<_> = c
        .overrides
        .iter()
        .filter_map(|o| o.between.clone())
        .collect();
    assert_eq!(
        between,
        [vec!["retail".to_owned(), "labs".to_owned()]],
        "{yaml}"
    );
}

#[test]
fn named_configurations_need_their_target_and_keep_their_name() {
    let text = example("quickstart");
    let default = |b: &ObservedStateBuilder<'_>| default_sync_name(&b.id("fabrikam"));
    let observed = converged(&text, |b| {
        let name = default(b);
        b.sync_mut("contoso", &name).display_name = "Contoso to Fabrikam (portal)".into();
    });
    let (exported, _) = round_trip(&text, &observed);
    assert_eq!(exported.document.sync.len(), 1);
    assert!(
        exported
            .warnings
            .iter()
            .any(|w| w.contains("Contoso to Fabrikam (portal)")
                && w.contains("name its target in the input")),
        "{:?}",
        exported.warnings
    );

    let hinted = text.replace(
        "  - from: contoso\n    to: fabrikam\n",
        "  - from: contoso\n    to: fabrikam\n    name: contoso to fabrikam (PORTAL)\n",
    );
    let (exported, yaml) = round_trip(&hinted, &observed);
    assert_eq!(exported.document.sync.len(), 2, "{yaml}");
    assert_eq!(
        exported.document.sync[0].name.as_deref(),
        Some("Contoso to Fabrikam (portal)"),
        "the name is kept as Graph has it"
    );
    assert!(exported.warnings.is_empty(), "{:?}", exported.warnings);

    let typo = hinted.replace("(PORTAL)", "(PORTLA)");
    let (exported, _) = round_trip(&typo, &observed);
    assert!(
        exported
            .warnings
            .iter()
            .any(|w| w.contains("has no sync configuration of that name")),
        "{:?}",
        exported.warnings
    );
}

#[test]
fn jobless_and_ambiguous_configurations_are_left_out() {
    let text = example("quickstart");
    let observed = converged(&text, |b| {
        let name = default_sync_name(&b.id("fabrikam"));
        if let Some(d) = b.sync_mut("contoso", &name).details.as_mut() {
            d.jobs.clear();
        }
        let name = default_sync_name(&b.id("contoso"));
        let copy = b.sync_mut("fabrikam", &name).clone();
        b.tenant_mut("fabrikam")
            .sync_configurations
            .push(SyncConfigurationObservation {
                service_principal_id: "other".into(),
                display_name: name.to_uppercase().replace("MTO_SYNC_", "MTO_Sync_"),
                ..copy
            });
    });
    let input = export_input::load("in.yaml", text.as_bytes()).expect("valid input");
    let exported = export(&input, &observed).expect("exported");
    assert!(exported.document.sync.is_empty());
    let w = exported.warnings.join("\n");
    assert!(w.contains("has no synchronization job yet"), "{w}");
    assert!(w.contains("2 sync configurations named"), "{w}");
}

#[test]
fn ambiguous_group_names_are_written_as_ids() {
    let text = example("quickstart");
    let observed = converged(&text, |b| {
        let p = &mut b.tenant_mut("contoso").principals;
        let twin = mtoctl_model::observed::GroupObservation {
            id: crate::testing::fake_guid("twin"),
            display_name: "Contoso Sales".into(),
            member_count: None,
        };
        p.groups_by_name
            .entry("Contoso Sales".into())
            .or_default()
            .push(twin);
    });
    let input = export_input::load("in.yaml", text.as_bytes()).expect("valid input");
    let exported = export(&input, &observed).expect("exported");
    let groups = &exported.document.sync[0].scope.groups;
    assert_eq!(groups.len(), 1);
    assert!(Guid::parse(&groups[0]).is_some(), "{groups:?}");
}

#[test]
fn syncs_the_settings_refuse_are_left_out_and_the_rest_stays_valid() {
    let text = example("quickstart");
    let observed = converged(&text, |b| {
        if let Some(s) = b.partner_mut("fabrikam", "contoso").identity_sync.as_mut() {
            s.is_sync_allowed = Some(false);
        }
    });
    let (exported, _) = round_trip(&text, &observed);
    assert_eq!(exported.document.sync.len(), 1);
    assert_eq!(exported.document.sync[0].from, "fabrikam");
    assert!(exported.warnings.iter().any(|w| w.contains("cannot work")));
}

#[test]
fn without_an_owner_nothing_is_exported() {
    let text = example("quickstart");
    let desired = spec::load("mto.yaml", text.as_bytes())
        .expect("valid")
        .desired;
    let observed = ObservedStateBuilder::fresh(&desired).build();
    let input = export_input::load("in.yaml", text.as_bytes()).expect("valid input");
    let err = export(&input, &observed).expect_err("no organization");
    assert!(
        err.to_string().contains("contoso: no organization"),
        "{err}"
    );
}

#[test]
fn members_not_in_the_input_are_named() {
    let text = example("quickstart");
    let observed = converged(&text, |_| {});
    let only_contoso = text
        .split("\n  - alias: fabrikam")
        .next()
        .unwrap_or("")
        .to_owned();
    let input = export_input::load("in.yaml", only_contoso.as_bytes()).expect("valid input");
    let exported = export(&input, &observed).expect("exported");
    assert_eq!(exported.document.tenants.len(), 1);
    assert!(
        exported
            .warnings
            .iter()
            .any(|w| w.contains("\"Fabrikam\") is a member"))
    );
    assert!(exported.document.sync.iter().all(|s| s.to != "fabrikam"));
}

#[test]
fn mappings_that_differ_from_the_template_are_written_and_plan_nothing() {
    use mtoctl_model::observed::AttributeMappingObservation;
    let text = example("quickstart");
    let mapping = |target: &str, kind: &str, name: &str, expression: &str, flow: &str| {
        AttributeMappingObservation {
            target: target.into(),
            kind: Some(kind.into()),
            name: Some(name.into()),
            expression: Some(expression.into()),
            flow_type: Some(flow.into()),
            matching_priority: Some(0),
        }
    };
    let template = vec![
        mapping(
            "department",
            "Attribute",
            "department",
            "[department]",
            "Always",
        ),
        mapping(
            "displayName",
            "Attribute",
            "displayName",
            "[displayName]",
            "Always",
        ),
        mapping("jobTitle", "Attribute", "jobTitle", "[jobTitle]", "Always"),
        mapping(
            "userType",
            "Constant",
            "Member",
            "\"Member\"",
            "ObjectAddOnly",
        ),
    ];
    let observed = converged(&text, |b| {
        let name = "MTO_Sync_3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11";
        let job = &mut b
            .sync_mut("contoso", name)
            .details
            .as_mut()
            .expect("details")
            .jobs[0];
        job.template_mappings = template.clone();
        job.mappings = vec![
            // As the template has it: not written.
            template[0].clone(),
            // Changed: a constant, on create; an expression.
            mapping(
                "displayName",
                "Constant",
                "Contoso people",
                "\"Contoso people\"",
                "ObjectAddOnly",
            ),
            mapping(
                "companyName",
                "Function",
                "Append",
                "Append([companyName], \" (Contoso)\")",
                "Always",
            ),
            template[3].clone(),
        ];
    });
    let (exported, yaml) = round_trip(&text, &observed);
    let m = &exported.document.sync[0].mappings;
    assert_eq!(m.len(), 2, "{yaml}");
    assert_eq!(m["displayName"].constant.as_deref(), Some("Contoso people"));
    assert_eq!(
        m["displayName"].applies,
        Some(mtoctl_model::spec::document::UserTypeApplies::OnCreate)
    );
    assert_eq!(
        m["companyName"].expression.as_deref(),
        Some("Append([companyName], \" (Contoso)\")")
    );
    // The job dropped the template's `jobTitle` mapping, which a spec cannot say.
    assert!(
        exported.warnings.iter().any(|w| w.contains("`jobTitle`")),
        "{:?}",
        exported.warnings
    );
}
