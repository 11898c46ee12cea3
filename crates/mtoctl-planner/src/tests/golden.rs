//! Golden renderings of the quickstart's fresh-world plan. Regenerate with `UPDATE_GOLDEN=1`
//! and review the diff: these files are what users read.

use std::path::PathBuf;

use super::{example, json, plan};
use crate::render::{markdown, text};
use crate::testing::ObservedStateBuilder;

#[track_caller]
fn golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("writes golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", path.display()));
    assert!(
        expected == actual,
        "{} differs from the rendering (run with UPDATE_GOLDEN=1 and review):\n{actual}",
        path.display()
    );
}

fn quickstart_fresh() -> mtoctl_model::plan::Plan {
    let desired = example("quickstart");
    let observed = ObservedStateBuilder::fresh(&desired).build();
    plan(&desired, &observed)
}

#[test]
fn quickstart_fresh_text() {
    golden(
        "quickstart-fresh.txt",
        &text::render(&quickstart_fresh(), text::TextOptions { color: false }),
    );
}

#[test]
fn quickstart_fresh_json() {
    golden("quickstart-fresh.json", &(json(&quickstart_fresh()) + "\n"));
}

#[test]
fn quickstart_fresh_markdown() {
    golden(
        "quickstart-fresh.md",
        &markdown::render(&quickstart_fresh()),
    );
}

#[test]
fn quickstart_adopted_sync_text() {
    // Both tenants joined, partner settings in place, the admin center made MTO_Sync_<target>
    // in each source without a job: the plan sets the syncs up on the adopted configurations.
    let desired = example("quickstart");
    let observed = ObservedStateBuilder::converged(&desired)
        .with(|b| {
            for t in ["contoso", "fabrikam"] {
                for c in &mut b.tenant_mut(t).sync_configurations {
                    if let Some(d) = c.details.as_mut() {
                        d.jobs.clear();
                        d.assignments.clear();
                    }
                }
            }
        })
        .build();
    let p = plan(&desired, &observed);
    golden(
        "quickstart-adopted.txt",
        &text::render(&p, text::TextOptions { color: false }),
    );
    golden("quickstart-adopted.json", &(json(&p) + "\n"));
}

#[test]
fn quickstart_drift_text() {
    // Out-of-band changes plus a spec that drops bob from the contoso sync and prunes
    // partner configurations and identity sync policies.
    let original = example("quickstart");
    let observed = ObservedStateBuilder::converged(&original)
        .with(|b| {
            b.partner_mut("fabrikam", "contoso")
                .settings
                .automatic_user_consent_inbound = Some(false);
            let stranger = mtoctl_model::ids::TenantId(crate::testing::fake_guid("stranger"));
            b.tenant_mut("contoso").partners.insert(
                stranger.clone(),
                mtoctl_model::observed::PartnerObservation {
                    tenant_id: stranger,
                    is_in_multi_tenant_organization: Some(false),
                    is_service_provider: None,
                    settings: Default::default(),
                    identity_sync: Some(mtoctl_model::observed::IdentitySyncObservation {
                        display_name: Some("Stranger".into()),
                        is_sync_allowed: Some(true),
                        group_sync_inbound: None,
                    }),
                },
            );
        })
        .build();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/quickstart/mto.yaml"
    );
    let text = std::fs::read_to_string(path).expect("reads");
    let text = text.replace("        - bob@contoso.onmicrosoft.com\n", "")
        + "\nprune: [partnerConfigurations, identitySyncPolicies]\n";
    let desired = super::spec(text.as_bytes());
    let p = plan(&desired, &observed);
    golden(
        "quickstart-drift.txt",
        &text::render(&p, text::TextOptions { color: false }),
    );
    golden("quickstart-drift.md", &markdown::render(&p));
}

#[test]
fn colour_is_the_callers_choice() {
    let p = quickstart_fresh();
    let plain = text::render(&p, text::TextOptions { color: false });
    let coloured = text::render(&p, text::TextOptions { color: true });
    assert!(!plain.contains('\u{1b}'));
    assert!(coloured.contains("\u{1b}[32m+\u{1b}[0m"));
    assert_eq!(
        format!("{}", text::display(&p, text::TextOptions::default())),
        plain
    );
}

#[test]
fn hub_and_spoke_fresh_text() {
    let desired = example("hub-and-spoke");
    let p = plan(&desired, &ObservedStateBuilder::fresh(&desired).build());
    golden(
        "hub-and-spoke-fresh.txt",
        &text::render(&p, text::TextOptions { color: false }),
    );
}
