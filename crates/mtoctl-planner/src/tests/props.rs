//! Property tests over randomly drifted worlds: determinism, dependency order, no cycles.

use mtoctl_model::DesiredState;
use mtoctl_model::ObservedState;
use mtoctl_model::ids::TenantId;
use mtoctl_model::observed::{
    JoinTransition, Known, MemberState, PartnerObservation, ProcessingStatus,
    TemplateApplicationLevel,
};
use mtoctl_model::spec::document::PruneKind;
use proptest::prelude::*;

use super::{example, json, lint};
use crate::testing::{ObservedStateBuilder, fake_guid};

/// One out-of-band change to a world.
#[derive(Debug, Clone)]
enum Edit {
    FlipConsent(usize, usize),
    RemovePartner(usize, usize),
    RemoveIdentitySync(usize, usize),
    DropAssignment(usize, usize),
    PauseJob(usize),
    ClearJobs(usize),
    RemoveConfiguration(usize),
    MemberPending(usize, u8),
    MemberUnknown(usize),
    StrangerPartner(usize),
    TemplateOff(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let i = || 0usize..8;
    prop_oneof![
        (i(), i()).prop_map(|(a, b)| Edit::FlipConsent(a, b)),
        (i(), i()).prop_map(|(a, b)| Edit::RemovePartner(a, b)),
        (i(), i()).prop_map(|(a, b)| Edit::RemoveIdentitySync(a, b)),
        (i(), i()).prop_map(|(a, b)| Edit::DropAssignment(a, b)),
        i().prop_map(Edit::PauseJob),
        i().prop_map(Edit::ClearJobs),
        i().prop_map(Edit::RemoveConfiguration),
        (i(), 0u8..4).prop_map(|(a, s)| Edit::MemberPending(a, s)),
        i().prop_map(Edit::MemberUnknown),
        i().prop_map(Edit::StrangerPartner),
        i().prop_map(Edit::TemplateOff),
    ]
}

fn apply(desired: &DesiredState, b: &mut ObservedStateBuilder<'_>, e: &Edit) {
    let n = desired.tenants.len();
    let alias = |i: usize| desired.tenants[i % n].alias.as_str().to_owned();
    let pair = |a: usize, p: usize| {
        let t = alias(a);
        let mut q = alias(p);
        if q == t {
            q = alias(p + 1);
        }
        (t, q)
    };
    let sync = |i: usize| desired.syncs.get(i % desired.syncs.len().max(1));
    match *e {
        Edit::FlipConsent(a, p) => {
            let (t, q) = pair(a, p);
            let id = b.id(&q);
            if let Some(p) = b.tenant_mut(&t).partners.get_mut(&id) {
                p.settings.automatic_user_consent_inbound =
                    Some(!p.settings.automatic_user_consent_inbound.unwrap_or(false));
            }
        }
        Edit::RemovePartner(a, p) => {
            let (t, q) = pair(a, p);
            let id = b.id(&q);
            b.tenant_mut(&t).partners.remove(&id);
        }
        Edit::RemoveIdentitySync(a, p) => {
            let (t, q) = pair(a, p);
            let id = b.id(&q);
            if let Some(p) = b.tenant_mut(&t).partners.get_mut(&id) {
                p.identity_sync = None;
            }
        }
        Edit::DropAssignment(s, k) => {
            if let Some(s) = sync(s) {
                let from = s.from.as_str().to_owned();
                let name = s.name.clone();
                for c in &mut b.tenant_mut(&from).sync_configurations {
                    if c.display_name == name
                        && let Some(d) = c.details.as_mut()
                        && !d.assignments.is_empty()
                    {
                        let at = k % d.assignments.len();
                        d.assignments.remove(at);
                    }
                }
            }
        }
        Edit::PauseJob(s) | Edit::ClearJobs(s) | Edit::RemoveConfiguration(s) => {
            if let Some(s) = sync(s) {
                let from = s.from.as_str().to_owned();
                let name = s.name.clone();
                let configs = &mut b.tenant_mut(&from).sync_configurations;
                if let Edit::RemoveConfiguration(_) = e {
                    configs.retain(|c| c.display_name != name);
                }
                for c in configs.iter_mut().filter(|c| c.display_name == name) {
                    if let Some(d) = c.details.as_mut() {
                        match e {
                            Edit::PauseJob(_) => {
                                for j in &mut d.jobs {
                                    j.schedule_state = Some("Paused".into());
                                }
                            }
                            _ => d.jobs.clear(),
                        }
                    }
                }
            }
        }
        Edit::MemberPending(i, status) => {
            let t = alias(i);
            let id = b.id(&t);
            let owner = b.id(&alias(0));
            for x in 0..n {
                for m in &mut b.tenant_mut(&alias(x)).organization.members {
                    if m.tenant_id == id && id != owner {
                        m.state = Known::Known(MemberState::Pending);
                    }
                }
            }
            let jr = &mut b.tenant_mut(&t).join_request;
            jr.member_state = Some(Known::Known(MemberState::Pending));
            jr.transition = match status {
                0 => None,
                1 => Some(JoinTransition {
                    desired_member_state: Some(Known::Known(MemberState::Active)),
                    status: Some(Known::Known(ProcessingStatus::Failed)),
                    details: None,
                }),
                2 => Some(JoinTransition {
                    desired_member_state: Some(Known::Known(MemberState::Active)),
                    status: Some(Known::Known(ProcessingStatus::Running)),
                    details: None,
                }),
                _ => Some(JoinTransition {
                    desired_member_state: None,
                    status: Some(Known::Unknown("unknownFutureValue".into())),
                    details: None,
                }),
            };
            if status == 0 {
                jr.added_by = None;
            }
        }
        Edit::MemberUnknown(i) => {
            let id = b.id(&alias(i));
            for x in 0..n {
                for m in &mut b.tenant_mut(&alias(x)).organization.members {
                    if m.tenant_id == id {
                        m.role = Known::Unknown("unknownFutureValue".into());
                    }
                }
            }
        }
        Edit::StrangerPartner(i) => {
            let id = TenantId(fake_guid(&format!("stranger{i}")));
            b.tenant_mut(&alias(i)).partners.insert(
                id.clone(),
                PartnerObservation {
                    tenant_id: id,
                    is_in_multi_tenant_organization: None,
                    is_service_provider: None,
                    settings: Default::default(),
                    identity_sync: None,
                },
            );
        }
        Edit::TemplateOff(i) => {
            b.tenant_mut(&alias(i)).templates.partner.application_level =
                TemplateApplicationLevel::parse(Some("none"));
        }
    }
}

fn world() -> impl Strategy<Value = (DesiredState, ObservedState)> {
    (
        prop_oneof![Just("quickstart"), Just("hub-and-spoke")],
        any::<bool>(),
        proptest::collection::vec(edit(), 0..6),
        proptest::collection::vec(any::<bool>(), 4),
    )
        .prop_map(|(name, converged, edits, prune)| {
            let mut desired = example(name);
            let kinds = [
                PruneKind::Members,
                PruneKind::PartnerConfigurations,
                PruneKind::IdentitySyncPolicies,
                PruneKind::SyncConfigurations,
            ];
            desired.prune = kinds
                .into_iter()
                .zip(prune)
                .filter_map(|(k, on)| on.then_some(k))
                .collect();
            let mut b = if converged {
                ObservedStateBuilder::converged(&desired)
            } else {
                ObservedStateBuilder::fresh(&desired)
            };
            for e in &edits {
                apply(&desired, &mut b, e);
            }
            let observed = b.build();
            (desired, observed)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// The same inputs give byte-identical JSON, also after the observed state went through
    /// serialisation (as it would from a recorded fixture).
    #[test]
    fn plans_are_deterministic((desired, observed) in world()) {
        let a = crate::plan(&desired, &observed).expect("plans");
        let b = crate::plan(&desired, &observed).expect("plans");
        prop_assert_eq!(json(&a), json(&b));
        let copy: ObservedState = serde_json::from_str(&serde_json::to_string(&observed).expect("ser")).expect("de");
        let c = crate::plan(&desired, &copy).expect("plans");
        prop_assert_eq!(json(&a), json(&c));
    }

    /// Planning never finds a cycle, every dependency and symbolic reference points to an
    /// earlier action, and every destructive action explains its impact.
    #[test]
    fn dependencies_point_backwards_and_destruction_is_explained((desired, observed) in world()) {
        let plan = crate::plan(&desired, &observed);
        prop_assert!(plan.is_ok(), "{:?}", plan.err());
        let plan = plan.expect("checked");
        lint(&plan);
        super::fingerprints_agree(&desired, &observed, &plan);
        for a in &plan.actions {
            prop_assert!(!a.destructive || a.impact.is_some(), "{} lacks impact", a.id);
            prop_assert!(!a.required_permissions.is_empty());
        }
        // Nothing undeclared is deleted unless pruned.
        if desired.prune.is_empty() {
            prop_assert!(plan.actions.iter().all(|a| a.reason != mtoctl_model::plan::ActionReason::Prune));
        }
    }
}
