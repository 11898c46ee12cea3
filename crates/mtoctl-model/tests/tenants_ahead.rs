//! `spec::tenants_ahead`: a spec's tenants read before the rest of it is, and only when nothing
//! about them is wrong.

use mtoctl_model::spec::{load, tenants_ahead};

fn example(name: &str) -> String {
    let path = format!(
        "{}/../../examples/{name}/mto.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).expect("example exists")
}

/// The quickstart with its `tenants` section edited by `edit`.
fn quickstart_with(edit: impl Fn(&str) -> String) -> String {
    edit(&example("quickstart"))
}

#[test]
fn every_example_reads_the_tenants_its_full_load_resolves() {
    for name in ["quickstart", "hub-and-spoke", "group-sync", "mappings"] {
        let text = example(name);
        let loaded = match load(name, text.as_bytes()) {
            Ok(spec) => spec.desired.tenants,
            Err(d) => panic!("{name} is invalid: {:#?}", d.records()),
        };
        let ahead = tenants_ahead(text.as_bytes())
            .unwrap_or_else(|| panic!("{name}: its tenants were not read ahead"));
        assert_eq!(ahead, loaded, "{name}");
    }
}

#[test]
fn the_text_after_the_tenants_is_not_read() {
    // What follows the tenants is not even YAML: the full load refuses it, while the tenants
    // (which it would have resolved the same) are read.
    let text = format!(
        "{}collaboration: [unclosed\n",
        quickstart_with(|t| t[..t.find("collaboration:").expect("has it")].to_owned())
    );
    assert!(load("broken", text.as_bytes()).is_err());
    let ahead = tenants_ahead(text.as_bytes()).expect("tenants read");
    assert_eq!(
        ahead.iter().map(|t| t.alias.as_str()).collect::<Vec<_>>(),
        ["contoso", "fabrikam"]
    );
}

#[test]
fn tenants_after_the_other_sections_are_read_with_the_whole_document() {
    let text = example("quickstart");
    let start = text.find("tenants:").expect("has tenants");
    let end = text.find("collaboration:").expect("has collaboration");
    let moved = format!("{}{}{}", &text[..start], &text[end..], &text[start..end]);
    let loaded = load("moved", moved.as_bytes())
        .expect("still valid")
        .desired;
    assert_eq!(tenants_ahead(moved.as_bytes()), Some(loaded.tenants));
}

#[test]
fn tenants_with_anything_wrong_are_not_read_ahead() {
    let cases: [(&str, String); 6] = [
        (
            "a client id that is no GUID",
            quickstart_with(|t| t.replace("0d3f3c4e-5b7a-4c1e-9a8b-1c2d3e4f5a6b", "not-a-guid")),
        ),
        (
            "a literal secret",
            quickstart_with(|t| {
                t.replace(
                    "clientSecret:\n        fromEnv: CONTOSO_CLIENT_SECRET",
                    "clientSecret: \"s3cr3t~value.with-dots_and~tildes\"",
                )
            }),
        ),
        (
            "an unknown field",
            quickstart_with(|t| {
                t.replace("    displayName: Fabrikam\n", "    dispayName: Fabrikam\n")
            }),
        ),
        (
            "two tenants with one alias",
            quickstart_with(|t| t.replace("alias: fabrikam", "alias: contoso")),
        ),
        (
            "no owner",
            quickstart_with(|t| t.replace("role: owner", "role: member")),
        ),
        (
            "no tenants section",
            "apiVersion: mtoctl/v1alpha1\nkind: MultiTenantOrganization\n".to_owned(),
        ),
    ];
    for (what, text) in cases {
        assert!(
            load(what, text.as_bytes()).is_err(),
            "{what}: the case must be invalid"
        );
        assert_eq!(tenants_ahead(text.as_bytes()), None, "{what}");
    }
}

#[test]
fn an_error_outside_the_tenants_does_not_stop_them_being_read_ahead() {
    // The full load decides; the tenants are read ahead only to sign in sooner.
    let text = quickstart_with(|t| t.replace("to: fabrikam", "to: fabricam"));
    assert!(load("misspelt", text.as_bytes()).is_err());
    assert_eq!(tenants_ahead(text.as_bytes()).map(|t| t.len()), Some(2));
}

#[test]
fn text_that_is_no_mapping_or_no_utf8_is_not_read() {
    assert_eq!(tenants_ahead(b"- tenants\n- two\n"), None);
    assert_eq!(tenants_ahead(b"tenants: [\xff]\n"), None);
    assert_eq!(tenants_ahead(b""), None);
}
