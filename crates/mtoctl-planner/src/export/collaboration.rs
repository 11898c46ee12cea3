//! The collaboration section: `allPairs`, overrides and `manageTemplates` from the partner
//! configurations, identity sync policies and templates of the exported tenants.

use std::collections::{BTreeMap, BTreeSet};

use mtoctl_model::desired::PairKey;
use mtoctl_model::ids::Alias;
use mtoctl_model::observed::{
    AccessRuleObservation, AccessType, B2bPolicyObservation, Known, PartnerObservation,
    TenantObservation,
};
use mtoctl_model::spec::document::{
    Access, AccessRule, AutomaticUserConsent, B2bPolicy, B2bSettings, Collaboration, InboundTrust,
    PairOverride, PartnerSettings,
};
use mtoctl_model::spec::export_input::InputTenant;

use crate::diff::settings::{self, NullMeans};

/// One settable value of [`PartnerSettings`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Leaf {
    AllowSync,
    AllowGroupSync,
    ConsentIn,
    ConsentOut,
    TrustMfa,
    TrustCompliant,
    TrustHybrid,
    CollabIn,
    CollabOut,
    DirectIn,
    DirectOut,
}

pub(super) const LEAVES: [Leaf; 11] = [
    Leaf::AllowSync,
    Leaf::AllowGroupSync,
    Leaf::ConsentIn,
    Leaf::ConsentOut,
    Leaf::TrustMfa,
    Leaf::TrustCompliant,
    Leaf::TrustHybrid,
    Leaf::CollabIn,
    Leaf::CollabOut,
    Leaf::DirectIn,
    Leaf::DirectOut,
];

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    Bool(bool),
    Policy(B2bPolicy),
}

impl Leaf {
    /// The value a pair holds, in a form the spec can write; `None` when the planner would
    /// see any written value as a change (the partner configuration or the value is absent).
    pub(super) fn observed(self, partner: Option<&PartnerObservation>) -> Option<Value> {
        if self == Leaf::AllowSync {
            // An absent policy and `isSyncAllowed: null` both mean "not allowed".
            let allowed = partner
                .and_then(|p| p.identity_sync.as_ref())
                .and_then(|s| s.is_sync_allowed)
                .unwrap_or(false);
            return Some(Value::Bool(allowed));
        }
        if self == Leaf::AllowGroupSync {
            // Seen only through the beta API (a spec opted into group sync); unread, unknown.
            return partner
                .and_then(|p| p.identity_sync.as_ref())
                .and_then(|s| s.group_sync_inbound)
                .map(Value::Bool);
        }
        let s = &partner?.settings;
        let trust = |f: fn(&mtoctl_model::observed::InboundTrustObservation) -> Option<bool>| {
            s.inbound_trust.as_ref().and_then(f).map(Value::Bool)
        };
        match self {
            Leaf::AllowSync | Leaf::AllowGroupSync => None,
            // A null consent inherits the default configuration, whose value is `false`.
            Leaf::ConsentIn => Some(Value::Bool(
                s.automatic_user_consent_inbound.unwrap_or(false),
            )),
            Leaf::ConsentOut => Some(Value::Bool(
                s.automatic_user_consent_outbound.unwrap_or(false),
            )),
            Leaf::TrustMfa => trust(|t| t.mfa),
            Leaf::TrustCompliant => trust(|t| t.compliant_device),
            Leaf::TrustHybrid => trust(|t| t.hybrid_joined_device),
            Leaf::CollabIn => b2b(s.b2b_collaboration_inbound.as_ref()),
            Leaf::CollabOut => b2b(s.b2b_collaboration_outbound.as_ref()),
            Leaf::DirectIn => b2b(s.b2b_direct_connect_inbound.as_ref()),
            Leaf::DirectOut => b2b(s.b2b_direct_connect_outbound.as_ref()),
        }
    }

    /// Whether `value` is what Graph assumes when nothing is set, so writing it says nothing.
    fn is_default(self, value: &Value) -> bool {
        matches!(
            self,
            Leaf::AllowSync | Leaf::AllowGroupSync | Leaf::ConsentIn | Leaf::ConsentOut
        ) && *value == Value::Bool(false)
    }

    pub(super) fn set(self, s: &mut PartnerSettings, value: Value) {
        match value {
            Value::Bool(v) => match self {
                Leaf::AllowSync => s.allow_users_sync_inbound = Some(v),
                Leaf::AllowGroupSync => s.allow_groups_sync_inbound = Some(v),
                Leaf::ConsentIn | Leaf::ConsentOut => {
                    let c = s
                        .automatic_user_consent
                        .get_or_insert_with(AutomaticUserConsent::default);
                    if self == Leaf::ConsentIn {
                        c.inbound = Some(v);
                    } else {
                        c.outbound = Some(v);
                    }
                }
                Leaf::TrustMfa | Leaf::TrustCompliant | Leaf::TrustHybrid => {
                    let t = s.inbound_trust.get_or_insert_with(InboundTrust::default);
                    match self {
                        Leaf::TrustMfa => t.mfa = Some(v),
                        Leaf::TrustCompliant => t.compliant_device = Some(v),
                        _ => t.hybrid_joined_device = Some(v),
                    }
                }
                _ => {}
            },
            Value::Policy(p) => {
                let (b, inbound) = match self {
                    Leaf::CollabIn => (&mut s.b2b_collaboration, true),
                    Leaf::CollabOut => (&mut s.b2b_collaboration, false),
                    Leaf::DirectIn => (&mut s.b2b_direct_connect, true),
                    Leaf::DirectOut => (&mut s.b2b_direct_connect, false),
                    _ => return,
                };
                let b = b.get_or_insert_with(B2bSettings::default);
                if inbound {
                    b.inbound = Some(p);
                } else {
                    b.outbound = Some(p);
                }
            }
        }
    }
}

/// A B2B setting the spec can write: both halves present, access types mtoctl knows.
fn b2b(policy: Option<&B2bPolicyObservation>) -> Option<Value> {
    let p = policy?;
    Some(Value::Policy(B2bPolicy {
        users_and_groups: rule(p.users_and_groups.as_ref()?)?,
        applications: rule(p.applications.as_ref()?)?,
    }))
}

fn rule(r: &AccessRuleObservation) -> Option<AccessRule> {
    let access = match r.access {
        Known::Known(AccessType::Allowed) => Access::Allowed,
        Known::Known(AccessType::Blocked) => Access::Blocked,
        Known::Unknown(_) => return None,
    };
    Some(AccessRule {
        access,
        targets: r.targets.clone(),
    })
}

pub(super) type Effective = BTreeMap<PairKey, PartnerSettings>;

/// Every ordered pair of two of `tenants`, in their order.
pub(super) fn ordered_pairs(tenants: &[&InputTenant]) -> Vec<PairKey> {
    let mut pairs = Vec::new();
    for t in tenants {
        for p in tenants {
            if t.spec.alias != p.spec.alias {
                pairs.push(PairKey {
                    tenant: t.spec.alias.clone(),
                    partner: p.spec.alias.clone(),
                });
            }
        }
    }
    pairs
}

/// The partner configuration `pair.tenant` holds for `pair.partner`, if any.
pub(super) fn observed_partner<'a>(
    tenants: &[&InputTenant],
    obs: &BTreeMap<Alias, &'a TenantObservation>,
    pair: &PairKey,
) -> Option<&'a PartnerObservation> {
    let id = &tenants
        .iter()
        .find(|t| t.spec.alias == pair.partner)?
        .spec
        .tenant_id;
    obs[&pair.tenant].partners.get(id)
}

/// The collaboration section, and the settings it gives each ordered pair.
pub(super) fn collaboration(
    tenants: &[&InputTenant],
    obs: &BTreeMap<Alias, &TenantObservation>,
) -> (Option<Collaboration>, Effective) {
    let pairs = ordered_pairs(tenants);
    let partner_of = |pair: &PairKey| observed_partner(tenants, obs, pair);
    let mut all_pairs = PartnerSettings::default();
    let mut overrides: BTreeMap<PairKey, PartnerSettings> = BTreeMap::new();
    for leaf in LEAVES {
        let values: Vec<(&PairKey, Option<Value>)> = pairs
            .iter()
            .map(|k| (k, leaf.observed(partner_of(k))))
            .collect();
        let shared = if values.iter().all(|(_, v)| v.is_some()) {
            most_common(values.iter().filter_map(|(_, v)| v.as_ref()))
        } else {
            None
        };
        let shared = shared.filter(|v| !leaf.is_default(v));
        if let Some(v) = &shared {
            leaf.set(&mut all_pairs, v.clone());
        }
        for (k, v) in values {
            let Some(v) = v else { continue };
            let differs = match &shared {
                Some(s) => *s != v,
                None => !leaf.is_default(&v),
            };
            if differs {
                leaf.set(overrides.entry(k.clone()).or_default(), v);
            }
        }
    }

    let mut effective = Effective::new();
    for k in &pairs {
        let mut s = all_pairs.clone();
        if let Some(o) = overrides.get(k) {
            for leaf in LEAVES {
                if let Some(v) = leaf_value(o, leaf) {
                    leaf.set(&mut s, v);
                }
            }
        }
        effective.insert(k.clone(), s);
    }

    let manage_templates = tenants
        .iter()
        .all(|t| templates_match(obs[&t.spec.alias], &all_pairs));
    let mut written = Vec::new();
    let mut done = BTreeSet::new();
    for (i, a) in tenants.iter().enumerate() {
        for b in &tenants[i + 1..] {
            let ab = PairKey {
                tenant: a.spec.alias.clone(),
                partner: b.spec.alias.clone(),
            };
            let ba = PairKey {
                tenant: b.spec.alias.clone(),
                partner: a.spec.alias.clone(),
            };
            match (overrides.get(&ab), overrides.get(&ba)) {
                (Some(x), Some(y)) if x == y => {
                    written.push(PairOverride {
                        tenant: None,
                        partner: None,
                        between: Some(vec![ab.tenant.0.clone(), ab.partner.0.clone()]),
                        settings: x.clone(),
                    });
                    done.insert(ab);
                    done.insert(ba);
                }
                _ => {}
            }
        }
    }
    for k in &pairs {
        if let Some(s) = overrides.get(k)
            && !done.contains(k)
        {
            written.push(PairOverride {
                tenant: Some(k.tenant.0.clone()),
                partner: Some(k.partner.0.clone()),
                between: None,
                settings: s.clone(),
            });
        }
    }
    let has_all_pairs = all_pairs != PartnerSettings::default();
    let section = Collaboration {
        all_pairs: has_all_pairs.then(|| all_pairs.clone()),
        manage_templates: (!manage_templates).then_some(false),
        overrides: written,
    };
    let section = (section != Collaboration::default()).then_some(section);
    (section, effective)
}

/// The most common value; on a tie, the one seen first.
fn most_common<'a>(values: impl Iterator<Item = &'a Value>) -> Option<Value> {
    let mut counts: Vec<(&Value, usize)> = Vec::new();
    for v in values {
        match counts.iter_mut().find(|(c, _)| *c == v) {
            Some((_, n)) => *n += 1,
            None => counts.push((v, 1)),
        }
    }
    let best = counts.iter().map(|(_, n)| *n).max()?;
    counts
        .into_iter()
        .find(|(_, n)| *n == best)
        .map(|(v, _)| v.clone())
}

fn leaf_value(s: &PartnerSettings, leaf: Leaf) -> Option<Value> {
    let consent = s.automatic_user_consent.as_ref();
    let trust = s.inbound_trust.as_ref();
    let policy = |b: &Option<B2bSettings>, inbound: bool| {
        b.as_ref()
            .and_then(|b| {
                if inbound {
                    b.inbound.clone()
                } else {
                    b.outbound.clone()
                }
            })
            .map(Value::Policy)
    };
    match leaf {
        Leaf::AllowSync => s.allow_users_sync_inbound.map(Value::Bool),
        Leaf::AllowGroupSync => s.allow_groups_sync_inbound.map(Value::Bool),
        Leaf::ConsentIn => consent.and_then(|c| c.inbound).map(Value::Bool),
        Leaf::ConsentOut => consent.and_then(|c| c.outbound).map(Value::Bool),
        Leaf::TrustMfa => trust.and_then(|t| t.mfa).map(Value::Bool),
        Leaf::TrustCompliant => trust.and_then(|t| t.compliant_device).map(Value::Bool),
        Leaf::TrustHybrid => trust.and_then(|t| t.hybrid_joined_device).map(Value::Bool),
        Leaf::CollabIn => policy(&s.b2b_collaboration, true),
        Leaf::CollabOut => policy(&s.b2b_collaboration, false),
        Leaf::DirectIn => policy(&s.b2b_direct_connect, true),
        Leaf::DirectOut => policy(&s.b2b_direct_connect, false),
    }
}

/// Whether the planner, managing this tenant's templates, would find nothing to change: both
/// at the default application level, holding `allPairs` (a template's null is "leave alone",
/// not `false`, so the comparison is the templates module's own).
pub(super) fn templates_match(obs: &TenantObservation, all_pairs: &PartnerSettings) -> bool {
    let level = mtoctl_model::observed::TemplateApplicationLevel::default_level();
    let partner = &obs.templates.partner;
    let sync = &obs.templates.identity_sync;
    let d = settings::diff(all_pairs, &partner.settings, NullMeans::Unset);
    partner.application_level == level
        && sync.application_level == level
        && d.patch.is_empty()
        && d.refusals.is_empty()
        && all_pairs
            .allow_users_sync_inbound
            .is_none_or(|want| sync.is_sync_allowed == Some(want))
}
