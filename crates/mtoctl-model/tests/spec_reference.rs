//! docs/spec-reference.md's field reference is generated from the schema; this keeps it current.
//! `UPDATE_DOCS=1` rewrites the generated section instead of failing.

const BEGIN: &str = "<!-- BEGIN GENERATED -->\n";
const END: &str = "<!-- END GENERATED -->";

#[test]
fn field_reference_matches_the_schema() {
    let path = format!(
        "{}/../../docs/spec-reference.md",
        env!("CARGO_MANIFEST_DIR")
    );
    let doc = std::fs::read_to_string(&path).expect("docs/spec-reference.md");
    let start = doc.find(BEGIN).expect("begin marker") + BEGIN.len();
    let end = doc.find(END).expect("end marker");
    let generated = mtoctl_model::spec::reference::markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        let updated = format!("{}{}{}", &doc[..start], generated, &doc[end..]);
        std::fs::write(&path, updated).expect("write docs");
        return;
    }
    assert!(
        doc[start..end] == generated,
        "docs/spec-reference.md is out of date: run UPDATE_DOCS=1 cargo test -p mtoctl-model --test spec_reference"
    );
    for field in [
        "tenantId",
        "allowUsersSyncInbound",
        "onLeavingScope",
        "fromEnv",
    ] {
        assert!(
            generated.contains(&format!("`{field}`")),
            "{field} documented"
        );
    }
}
