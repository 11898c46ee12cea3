//! Cross-tenant access settings: desired leaves against observed values.
//!
//! Shared by partner configurations and the partner configuration template. The two differ in
//! what Graph's `null` means: on a partner, a null `automaticUserConsentSettings` member
//! inherits the default configuration, whose value is always `false`, so null and `false` are
//! the same; on a template, null means "leave the partner's value alone", which is not `false`.
//! `inboundTrust` nulls inherit the tenant's default configuration, which mtoctl does not read,
//! so a managed trust leaf is written explicitly rather than assumed equal to null.

use mtoctl_model::observed::{
    AccessRuleObservation, AccessType, B2bPolicyObservation, Known, PartnerSettingsObservation,
};
use mtoctl_model::spec::document::{Access, AccessRule, B2bPolicy, PartnerSettings};

use super::{change, show};
use mtoctl_model::plan::{
    AttributeChange, B2bValue, ConsentValue, PartnerSettingsPatch, RuleValue, TrustValue,
};

/// What `null` means for consent members of the object compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NullMeans {
    /// Inherit the default configuration (`false` for consent): partners.
    DefaultFalse,
    /// Leave alone: templates.
    Unset,
}

/// The result of comparing settings.
#[derive(Debug, Default)]
pub(crate) struct SettingsDiff {
    pub patch: PartnerSettingsPatch,
    pub changes: Vec<AttributeChange>,
    /// Reasons the object must not be written (values mtoctl does not understand).
    pub refusals: Vec<String>,
}

/// Compares the partner-configuration part of `desired` (everything but identity sync).
pub(crate) fn diff(
    desired: &PartnerSettings,
    observed: &PartnerSettingsObservation,
    null_means: NullMeans,
) -> SettingsDiff {
    let mut out = SettingsDiff::default();
    consent(desired, observed, null_means, &mut out);
    trust(desired, observed, &mut out);
    let pairs = [
        (
            "b2b_collaboration.inbound",
            desired
                .b2b_collaboration
                .as_ref()
                .and_then(|b| b.inbound.as_ref()),
            &observed.b2b_collaboration_inbound,
        ),
        (
            "b2b_collaboration.outbound",
            desired
                .b2b_collaboration
                .as_ref()
                .and_then(|b| b.outbound.as_ref()),
            &observed.b2b_collaboration_outbound,
        ),
        (
            "b2b_direct_connect.inbound",
            desired
                .b2b_direct_connect
                .as_ref()
                .and_then(|b| b.inbound.as_ref()),
            &observed.b2b_direct_connect_inbound,
        ),
        (
            "b2b_direct_connect.outbound",
            desired
                .b2b_direct_connect
                .as_ref()
                .and_then(|b| b.outbound.as_ref()),
            &observed.b2b_direct_connect_outbound,
        ),
    ];
    for (path, want, have) in pairs {
        let Some(want) = want else { continue };
        let want = b2b_value(want);
        match have.as_ref().map(observed_b2b).transpose() {
            Err(refusal) => out.refusals.push(format!("{path}: {refusal}")),
            Ok(have) if have.as_ref() == Some(&want) => {}
            Ok(have) => {
                out.changes.push(AttributeChange {
                    path: path.to_owned(),
                    before: Some(have.as_ref().map(describe_b2b).unwrap_or("null".into())),
                    after: Some(describe_b2b(&want)),
                });
                let slot = match path {
                    "b2b_collaboration.inbound" => &mut out.patch.b2b_collaboration_inbound,
                    "b2b_collaboration.outbound" => &mut out.patch.b2b_collaboration_outbound,
                    "b2b_direct_connect.inbound" => &mut out.patch.b2b_direct_connect_inbound,
                    _ => &mut out.patch.b2b_direct_connect_outbound,
                };
                *slot = Some(want);
            }
        }
    }
    out
}

fn consent(
    desired: &PartnerSettings,
    observed: &PartnerSettingsObservation,
    null_means: NullMeans,
    out: &mut SettingsDiff,
) {
    let Some(want) = &desired.automatic_user_consent else {
        return;
    };
    let normalise = |v: Option<bool>| match null_means {
        NullMeans::DefaultFalse => Some(v.unwrap_or(false)),
        NullMeans::Unset => v,
    };
    let have_in = observed.automatic_user_consent_inbound;
    let have_out = observed.automatic_user_consent_outbound;
    let mut changed = false;
    for (path, want, have) in [
        ("automatic_user_consent.inbound", want.inbound, have_in),
        ("automatic_user_consent.outbound", want.outbound, have_out),
    ] {
        if let Some(w) = want
            && normalise(have) != Some(w)
        {
            changed = true;
            out.changes.push(AttributeChange {
                path: path.to_owned(),
                before: Some(show(&have)),
                after: Some(show(&w)),
            });
        }
    }
    if changed {
        // Both members are always sent: whether Graph keeps an omitted sibling is unconfirmed.
        out.patch.automatic_user_consent = Some(ConsentValue {
            inbound: want.inbound.or(have_in),
            outbound: want.outbound.or(have_out),
        });
    }
}

fn trust(desired: &PartnerSettings, observed: &PartnerSettingsObservation, out: &mut SettingsDiff) {
    let Some(want) = &desired.inbound_trust else {
        return;
    };
    let have = observed.inbound_trust.clone().unwrap_or_default();
    let mut changed = false;
    for (path, w, h) in [
        ("inbound_trust.mfa", want.mfa, have.mfa),
        (
            "inbound_trust.compliant_device",
            want.compliant_device,
            have.compliant_device,
        ),
        (
            "inbound_trust.hybrid_joined_device",
            want.hybrid_joined_device,
            have.hybrid_joined_device,
        ),
    ] {
        if let Some(w) = w
            && h != Some(w)
        {
            changed = true;
            out.changes.push(change(path, Some(&h), Some(&w)));
        }
    }
    if changed {
        out.patch.inbound_trust = Some(TrustValue {
            mfa: want.mfa.or(have.mfa),
            compliant_device: want.compliant_device.or(have.compliant_device),
            hybrid_joined_device: want.hybrid_joined_device.or(have.hybrid_joined_device),
        });
    }
}

/// Normalises a target for comparison: GUIDs (alone or after `user:`/`group:`) lowercase.
fn normalise_target(target: &str) -> String {
    let (prefix, rest) = match target.split_once(':') {
        Some((p, r)) => (format!("{}:", p.to_ascii_lowercase()), r),
        None => (String::new(), target),
    };
    match mtoctl_model::ids::Guid::parse(rest) {
        Some(g) => format!("{prefix}{g}"),
        None => format!("{prefix}{rest}"),
    }
}

fn rule_value(rule: &AccessRule) -> RuleValue {
    let mut targets: Vec<String> = rule.targets.iter().map(|t| normalise_target(t)).collect();
    targets.sort();
    targets.dedup();
    RuleValue {
        access: rule.access,
        targets,
    }
}

fn b2b_value(policy: &B2bPolicy) -> B2bValue {
    B2bValue {
        users_and_groups: rule_value(&policy.users_and_groups),
        applications: rule_value(&policy.applications),
    }
}

fn observed_rule(rule: &AccessRuleObservation) -> Result<RuleValue, String> {
    let access = match &rule.access {
        Known::Known(AccessType::Allowed) => Access::Allowed,
        Known::Known(AccessType::Blocked) => Access::Blocked,
        Known::Unknown(text) => {
            return Err(format!("access type `{text}` is not one mtoctl knows"));
        }
    };
    let mut targets: Vec<String> = rule.targets.iter().map(|t| normalise_target(t)).collect();
    targets.sort();
    targets.dedup();
    Ok(RuleValue { access, targets })
}

/// An observed B2B setting in comparable form; a missing half compares unequal to any rule.
fn observed_b2b(policy: &B2bPolicyObservation) -> Result<B2bValue, String> {
    let missing = || RuleValue {
        access: Access::Allowed,
        targets: vec!["(unset)".into()],
    };
    Ok(B2bValue {
        users_and_groups: match &policy.users_and_groups {
            Some(r) => observed_rule(r)?,
            None => missing(),
        },
        applications: match &policy.applications {
            Some(r) => observed_rule(r)?,
            None => missing(),
        },
    })
}

fn describe_rule(rule: &RuleValue) -> String {
    let access = match rule.access {
        Access::Allowed => "allowed",
        Access::Blocked => "blocked",
    };
    format!("{access} [{}]", rule.targets.join(", "))
}

/// `users: allowed [AllUsers]; apps: allowed [AllApplications]`.
pub(crate) fn describe_b2b(value: &B2bValue) -> String {
    format!(
        "\"users: {}; apps: {}\"",
        describe_rule(&value.users_and_groups),
        describe_rule(&value.applications)
    )
}

/// Whether the partner-configuration part of `settings` manages anything.
pub(crate) fn manages_partner_fields(settings: &PartnerSettings) -> bool {
    settings.automatic_user_consent.is_some()
        || settings.inbound_trust.is_some()
        || settings.b2b_collaboration.is_some()
        || settings.b2b_direct_connect.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mtoctl_model::spec::document::AutomaticUserConsent;

    fn consent_only(inbound: bool) -> PartnerSettings {
        PartnerSettings {
            automatic_user_consent: Some(AutomaticUserConsent {
                inbound: Some(inbound),
                outbound: None,
            }),
            ..PartnerSettings::default()
        }
    }

    #[test]
    fn partner_null_consent_is_false_but_template_null_is_not() {
        let observed = PartnerSettingsObservation::default();
        assert!(
            diff(&consent_only(false), &observed, NullMeans::DefaultFalse)
                .patch
                .is_empty()
        );
        let d = diff(&consent_only(false), &observed, NullMeans::Unset);
        assert_eq!(
            d.patch.automatic_user_consent,
            Some(ConsentValue {
                inbound: Some(false),
                outbound: None
            })
        );
    }

    #[test]
    fn targets_compare_sorted_and_case_insensitively_for_guids() {
        assert_eq!(
            normalise_target("user:6BABCAAD-604B-40AC-A9D7-9FD97C0B779F"),
            "user:6babcaad-604b-40ac-a9d7-9fd97c0b779f"
        );
        assert_eq!(normalise_target("AllUsers"), "AllUsers");
    }
}
