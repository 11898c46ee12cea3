//! Attribute mappings: planned as attribute-level changes of the schema, only those the spec
//! declares, checked against the attributes the job's schema lists.

use mtoctl_model::DesiredState;
use mtoctl_model::observed::AttributeMappingObservation;
use mtoctl_model::plan::{Operation, Plan, Severity};

use super::{plan, spec};
use crate::testing::{ObservedStateBuilder, graph_mapping};

const NAME: &str = "MTO_Sync_3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11";

fn quickstart_with(mappings: &str) -> DesiredState {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/quickstart/mto.yaml"
    ))
    .expect("quickstart");
    let anchor = "  - from: contoso\n    to: fabrikam\n";
    assert!(text.contains(anchor));
    let text = text.replacen(anchor, &format!("{anchor}    mappings:\n{mappings}"), 1);
    spec(text.as_bytes())
}

/// Graph's default mappings of the Azure2Azure template that the tests touch.
fn defaults() -> Vec<AttributeMappingObservation> {
    ["department", "displayName", "companyName"]
        .iter()
        .filter(|a| **a != "companyName")
        .map(|a| AttributeMappingObservation {
            target: (*a).into(),
            kind: Some("Attribute".into()),
            name: Some((*a).into()),
            expression: Some(format!("[{a}]")),
            flow_type: Some("Always".into()),
            matching_priority: Some(0),
        })
        .collect()
}

fn schema_changes(p: &Plan) -> Vec<(String, Option<String>, Option<String>)> {
    p.actions
        .iter()
        .filter(|a| matches!(a.operation, Operation::UpdateSchema { .. }))
        .flat_map(|a| {
            a.changes
                .iter()
                .map(|c| (c.path.clone(), c.before.clone(), c.after.clone()))
        })
        .collect()
}

const MAPPINGS: &str = "      companyName: {constant: Contoso}\n      department: {source: jobTitle, applies: onCreate}\n";

#[test]
fn declared_mappings_are_planned_as_attribute_changes_of_one_schema_write() {
    let desired = quickstart_with(MAPPINGS);
    // Converged except the mappings: the job has Graph's defaults.
    let mut before = ObservedStateBuilder::converged(&desired);
    before
        .sync_mut("contoso", NAME)
        .details
        .as_mut()
        .expect("details")
        .jobs[0]
        .mappings = defaults();
    let p = plan(&desired, &before.build());
    let writes: Vec<_> = p
        .actions
        .iter()
        .filter(|a| matches!(a.operation, Operation::UpdateSchema { .. }))
        .collect();
    assert_eq!(writes.len(), 1, "{:#?}", p.actions);
    assert_eq!(p.actions.len(), 1, "nothing else changes: {:#?}", p.actions);
    let Operation::UpdateSchema { mappings, .. } = &writes[0].operation else {
        unreachable!()
    };
    assert_eq!(mappings.len(), 2);
    assert_eq!(
        schema_changes(&p),
        vec![
            (
                "mapping.companyName".into(),
                None,
                Some(r#""\"Contoso\"""#.into())
            ),
            (
                "mapping.department".into(),
                Some(r#""[department]""#.into()),
                Some(r#""[jobTitle] (on create)""#.into())
            ),
        ]
    );
    let text = crate::render::text::render(&p, Default::default());
    assert!(
        text.contains(r#"mapping.companyName"#) && text.contains("Contoso"),
        "{text}"
    );
}

#[test]
fn written_mappings_and_unmanaged_ones_plan_nothing() {
    let desired = quickstart_with(MAPPINGS);
    // The converged world holds the spec's mappings as Graph writes them, and another
    // mapping the spec does not name (left alone).
    let mut after = ObservedStateBuilder::converged(&desired);
    let job = &mut after
        .sync_mut("contoso", NAME)
        .details
        .as_mut()
        .expect("details")
        .jobs[0];
    job.mappings
        .extend(defaults().into_iter().filter(|m| m.target != "department"));
    job.mappings.push(AttributeMappingObservation {
        target: "jobTitle".into(),
        kind: Some("Constant".into()),
        name: Some("Unmanaged".into()),
        expression: Some("\"Unmanaged\"".into()),
        flow_type: Some("Always".into()),
        matching_priority: Some(0),
    });
    let p = plan(&desired, &after.build());
    assert!(p.actions.is_empty(), "{:#?}", p.actions);
}

#[test]
fn an_expression_compares_without_blanks_and_a_changed_one_is_planned() {
    let desired =
        quickstart_with("      displayName: {expression: 'Join(\" \", [givenName], [surname])'}\n");
    let written = desired.syncs[0].mappings[0].clone();
    // Graph spaced it differently: no change.
    let mut spaced = graph_mapping(&written);
    spaced.expression = Some("Join(\" \",[givenName],[surname])".into());
    let mut w = ObservedStateBuilder::converged(&desired);
    w.sync_mut("contoso", NAME)
        .details
        .as_mut()
        .expect("details")
        .jobs[0]
        .mappings = vec![spaced.clone()];
    assert!(plan(&desired, &w.build()).actions.is_empty());
    // Another separator: a change.
    spaced.expression = Some("Join(\"-\",[givenName],[surname])".into());
    let mut w = ObservedStateBuilder::converged(&desired);
    w.sync_mut("contoso", NAME)
        .details
        .as_mut()
        .expect("details")
        .jobs[0]
        .mappings = vec![spaced];
    let p = plan(&desired, &w.build());
    assert_eq!(schema_changes(&p).len(), 1, "{:#?}", p.actions);
}

#[test]
fn attributes_the_schema_lacks_are_located_errors_and_nothing_is_written() {
    let desired = quickstart_with(
        "      favouriteColour: {constant: Blue}\n      companyName: {expression: 'ToUpper([shoeSize])'}\n",
    );
    let mut w = ObservedStateBuilder::converged(&desired);
    let job = &mut w
        .sync_mut("contoso", NAME)
        .details
        .as_mut()
        .expect("details")
        .jobs[0];
    job.mappings.clear();
    job.source_attributes = vec!["department".into(), "givenName".into()];
    job.target_attributes = vec!["companyName".into(), "department".into()];
    let p = plan(&desired, &w.build());
    assert!(!p.applyable);
    assert!(
        !p.actions
            .iter()
            .any(|a| matches!(a.operation, Operation::UpdateSchema { .. })),
        "{:#?}",
        p.actions
    );
    let errors: Vec<&str> = p
        .notes
        .iter()
        .filter(|n| n.severity == Severity::Error)
        .map(|n| n.message.as_str())
        .collect();
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(
        errors
            .iter()
            .any(|e| e.contains("no attribute `favouriteColour`"))
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("no user attribute `shoeSize`"))
    );
    assert!(p.notes.iter().all(|n| n.severity != Severity::Error
        || n.entry.as_ref().is_some_and(|e| e.list.key() == "mappings")));
}

#[test]
fn reset_mappings_brings_undeclared_ones_back_to_the_template_and_removes_the_rest() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/quickstart/mto.yaml"
    ))
    .expect("quickstart");
    let anchor = "  - from: contoso\n    to: fabrikam\n";
    let desired = spec(
        text.replacen(anchor, &format!("{anchor}    resetMappings: true\n"), 1)
            .as_bytes(),
    );
    let mut w = ObservedStateBuilder::converged(&desired);
    let job = &mut w
        .sync_mut("contoso", NAME)
        .details
        .as_mut()
        .expect("details")
        .jobs[0];
    job.template_mappings = defaults();
    // An admin changed `department` and added `companyName` in the admin center.
    job.mappings = defaults();
    job.mappings[0].kind = Some("Constant".into());
    job.mappings[0].name = Some("Sales".into());
    job.mappings[0].expression = Some("\"Sales\"".into());
    job.mappings.push(AttributeMappingObservation {
        target: "companyName".into(),
        kind: Some("Constant".into()),
        name: Some("Contoso".into()),
        expression: Some("\"Contoso\"".into()),
        flow_type: Some("Always".into()),
        matching_priority: Some(0),
    });
    let p = plan(&desired, &w.build());
    assert_eq!(
        schema_changes(&p),
        vec![
            (
                "mapping.department".into(),
                Some(r#""\"Sales\"""#.into()),
                Some(r#""[department]""#.into())
            ),
            (
                "mapping.companyName".into(),
                Some(r#""\"Contoso\"""#.into()),
                None
            ),
        ]
    );
    let Some(Operation::UpdateSchema {
        remove_mappings, ..
    }) = p.actions.first().map(|a| &a.operation)
    else {
        panic!("{:#?}", p.actions)
    };
    assert_eq!(remove_mappings, &vec!["companyname".to_owned()]);

    // Without the opt-in, both stay as they are.
    let plain = example_quickstart();
    let mut w = ObservedStateBuilder::converged(&plain);
    let job = &mut w
        .sync_mut("contoso", NAME)
        .details
        .as_mut()
        .expect("details")
        .jobs[0];
    job.template_mappings = defaults();
    job.mappings = vec![AttributeMappingObservation {
        target: "companyName".into(),
        kind: Some("Constant".into()),
        name: Some("Contoso".into()),
        expression: None,
        flow_type: Some("Always".into()),
        matching_priority: Some(0),
    }];
    assert!(plan(&plain, &w.build()).actions.is_empty());
}

fn example_quickstart() -> DesiredState {
    super::example("quickstart")
}
