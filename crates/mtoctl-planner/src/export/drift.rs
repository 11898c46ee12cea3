//! Drift in the spec's own terms: the two texts `mtoctl export -f SPEC --diff` compares.
//!
//! Both sides are the spec: on the left as it is, on the right edited to hold the live state
//! ([`super::template`] says what the live state is in the spec's terms, [`super::text`] edits
//! the text). So a reviewer sees exactly the lines that drifted, with the spec's own comments,
//! order and spelling around them as context, and line numbers that are the file's; the right
//! side is a spec that would plan no changes for what it shows. When the text cannot be edited
//! in place (a layout the editor does not handle, or an edit that would not read back as the
//! live state), both sides are the two documents written by one renderer instead, which still
//! differ only where the values do.

use mtoctl_model::desired::DesiredState;
use mtoctl_model::observed::ObservedState;
use mtoctl_model::spec::document::SpecDocument;
use mtoctl_model::spec::export_input::ExportInput;
use mtoctl_model::spec::node::Node;
use mtoctl_model::spec::yaml;

use super::{ExportError, template, text};

/// What `export --diff` shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    /// The spec: its own text, or as mtoctl writes it when `normalised`.
    pub spec: String,
    /// The live state: `spec` holding the live values. Equal to `spec` when nothing drifted.
    pub live: String,
    /// Why the spec's own text could not be edited, when both sides are as mtoctl writes them.
    pub normalised: Option<String>,
    /// What the live state holds that the text cannot show, each with the reason.
    pub warnings: Vec<String>,
}

impl Drift {
    /// Whether the live state differs from the spec in what the spec can say.
    pub fn drifted(&self) -> bool {
        self.spec != self.live
    }
}

/// Compares the spec `text` (whose validated state is `desired` and whose tenants are `input`)
/// with the live state `observed` of its tenants.
pub fn drift(
    text: &str,
    desired: &DesiredState,
    input: &ExportInput,
    observed: &ObservedState,
) -> Result<Drift, ExportError> {
    let orig = yaml::parse(text).map_err(|e| ExportError::Spec(e.message))?;
    let spec: SpecDocument = serde_json::from_value(orig.to_json())
        .map_err(|e| ExportError::Spec(format!("it does not read as a spec ({e})")))?;
    let live = template::templated(&spec, desired, input, observed)?;
    let want = text::conform(&orig, tree(&live.document)?);
    let edited = text::patch(text, &orig, &want).and_then(|edited| {
        let reads = yaml::parse(&edited).map(|n| n.to_json());
        if reads.as_ref().ok() == Some(&want.to_json()) {
            Ok(edited)
        } else {
            Err("the edited text did not read back as the live state".into())
        }
    });
    Ok(match edited {
        Ok(edited) => Drift {
            spec: text.to_owned(),
            live: edited,
            normalised: None,
            warnings: live.warnings,
        },
        Err(why) => {
            let left = text::conform(&orig, tree(&spec)?);
            Drift {
                spec: text::render(&left),
                live: text::render(&want),
                normalised: Some(why),
                warnings: live.warnings,
            }
        }
    })
}

/// A document as an ordered tree (fields in the language's order).
fn tree(doc: &SpecDocument) -> Result<Node, ExportError> {
    let written = yaml::to_yaml(doc).map_err(ExportError::Spec)?;
    yaml::parse(&written).map_err(|e| ExportError::Spec(e.message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::ObservedStateBuilder;
    use mtoctl_model::spec::{self, export_input};

    fn example(name: &str) -> String {
        std::fs::read_to_string(format!(
            "{}/../../examples/{name}/mto.yaml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("example spec")
    }

    /// The drift of `text` from its converged world, edited; checked to plan nothing on its
    /// live side against that world.
    fn drift_of(text: &str, edit: impl FnOnce(&mut ObservedStateBuilder<'_>)) -> Drift {
        let desired = spec::load("mto.yaml", text.as_bytes())
            .expect("valid")
            .desired;
        let observed = ObservedStateBuilder::converged(&desired).with(edit).build();
        let input = export_input::load("mto.yaml", text.as_bytes()).expect("input");
        let d = drift(text, &desired, &input, &observed).expect("compared");
        let live = spec::load("live", d.live.as_bytes())
            .unwrap_or_else(|e| panic!("the live side is invalid:\n{}\n{:?}", d.live, e.items()))
            .desired;
        let plan = crate::plan(&live, &observed).expect("plans");
        assert!(
            !plan.has_changes(),
            "the live side plans changes:\n{}\n{:#?}",
            d.live,
            plan.actions
        );
        d
    }

    /// Lines only the spec has, and lines only the live side has (edits are whole lines).
    fn changed(d: &Drift) -> (Vec<String>, Vec<String>) {
        let only = |a: &str, b: &str| {
            let mut rest: Vec<&str> = b.lines().collect();
            a.lines()
                .filter(|l| match rest.iter().position(|r| r == l) {
                    Some(i) => {
                        rest.remove(i);
                        false
                    }
                    None => true,
                })
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        (only(&d.spec, &d.live), only(&d.live, &d.spec))
    }

    /// The inbound trust `tenant` observes for `partner`, made if absent.
    fn trust<'a>(
        b: &'a mut ObservedStateBuilder<'_>,
        tenant: &str,
        partner: &str,
    ) -> &'a mut mtoctl_model::observed::InboundTrustObservation {
        b.partner_mut(tenant, partner)
            .settings
            .inbound_trust
            .get_or_insert_with(Default::default)
    }

    /// Asserts that drift adds exactly the lines `expected` to the spec and removes none.
    fn assert_adds_only(d: &Drift, expected: &[&str]) {
        let (removed, added) = changed(d);
        assert!(removed.is_empty(), "{removed:?}");
        assert_eq!(added, expected, "{}", d.live);
    }

    #[test]
    fn converged_examples_have_no_drift() {
        for name in ["quickstart", "hub-and-spoke", "mappings", "group-sync"] {
            let d = drift_of(&example(name), |_| {});
            assert_eq!(d.normalised, None, "{name}");
            assert!(!d.drifted(), "{name}:\n{}", d.live);
            assert!(d.warnings.is_empty(), "{name}: {:?}", d.warnings);
        }
    }

    #[test]
    fn one_pair_drifting_is_an_override_of_that_pair() {
        let d = drift_of(&example("quickstart"), |b| {
            trust(b, "fabrikam", "contoso").mfa = Some(false);
        });
        assert_adds_only(
            &d,
            &[
                "  overrides:",
                "    - tenant: fabrikam",
                "      partner: contoso",
                "      settings:",
                "        inboundTrust:",
                "          mfa: false",
            ],
        );
    }

    #[test]
    fn both_directions_drifting_alike_is_one_between_override() {
        let d = drift_of(&example("quickstart"), |b| {
            for (t, p) in [("contoso", "fabrikam"), ("fabrikam", "contoso")] {
                trust(b, t, p).mfa = Some(false);
            }
        });
        // `allPairs` stays: the templates (which hold it) did not change.
        assert_adds_only(
            &d,
            &[
                "  overrides:",
                "    - between:",
                "        - contoso",
                "        - fabrikam",
                "      settings:",
                "        inboundTrust:",
                "          mfa: false",
            ],
        );
    }

    #[test]
    fn a_setting_an_override_gives_changes_in_that_override() {
        let d = drift_of(&example("hub-and-spoke"), |b| {
            trust(b, "finance", "labs").compliant_device = Some(true);
        });
        assert_eq!(
            changed(&d),
            (
                vec!["          compliantDevice: false".to_owned()],
                vec!["          compliantDevice: true".to_owned()]
            ),
            "{}",
            d.live
        );
    }

    #[test]
    fn scope_and_sync_settings_drift_in_place() {
        let text = example("quickstart");
        let d = drift_of(&text, |b| {
            let id = b.id("fabrikam");
            let name = mtoctl_model::desired::default_sync_name(&id);
            let bob =
                b.tenant_mut("contoso").principals.users_by_upn["bob@contoso.onmicrosoft.com"]
                    .id
                    .clone();
            let c = b.sync_mut("contoso", &name);
            let details = c.details.as_mut().expect("details");
            details.assignments.retain(|a| a.principal_id != bob);
            details.jobs[0].schedule_state = Some("Disabled".into());
        });
        let (removed, added) = changed(&d);
        assert_eq!(
            removed,
            ["        - bob@contoso.onmicrosoft.com"],
            "{}",
            d.live
        );
        assert_eq!(added, ["    enabled: false"], "{}", d.live);
    }
}
