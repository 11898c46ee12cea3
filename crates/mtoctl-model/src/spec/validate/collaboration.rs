//! Collaboration settings: `allPairs`, per-pair overrides and their merge.

use std::collections::BTreeMap;

use super::{Cx, PartialDocument, TenantTable, require_beta, resolve_alias};
use crate::desired::{CollaborationSpec, PairKey};
use crate::ids::{Alias, Guid};
use crate::spec::document::{
    AutomaticUserConsent, B2bPolicy, B2bSettings, BetaFeature, InboundTrust, PairOverride,
    PartnerSettings,
};
use crate::spec::node::Path;

/// One settable value of [`PartnerSettings`], named by its path below `settings`.
#[derive(Debug, Clone, PartialEq)]
enum Leaf {
    Bool(bool),
    Policy(B2bPolicy),
}

/// The leaves of a settings object with their sub-paths, in a fixed order.
fn leaves(s: &PartnerSettings) -> Vec<(&'static [&'static str], Leaf)> {
    let PartnerSettings {
        allow_users_sync_inbound,
        allow_groups_sync_inbound,
        automatic_user_consent,
        inbound_trust,
        b2b_collaboration,
        b2b_direct_connect,
    } = s;
    let mut out: Vec<(&'static [&'static str], Leaf)> = Vec::new();
    let mut flag = |path: &'static [&'static str], v: &Option<bool>| {
        if let Some(v) = v {
            out.push((path, Leaf::Bool(*v)));
        }
    };
    flag(&["allowUsersSyncInbound"], allow_users_sync_inbound);
    flag(&["allowGroupsSyncInbound"], allow_groups_sync_inbound);
    if let Some(c) = automatic_user_consent {
        flag(&["automaticUserConsent", "inbound"], &c.inbound);
        flag(&["automaticUserConsent", "outbound"], &c.outbound);
    }
    if let Some(t) = inbound_trust {
        flag(&["inboundTrust", "mfa"], &t.mfa);
        flag(&["inboundTrust", "compliantDevice"], &t.compliant_device);
        flag(
            &["inboundTrust", "hybridJoinedDevice"],
            &t.hybrid_joined_device,
        );
    }
    let mut policy = |path: &'static [&'static str], v: &Option<B2bPolicy>| {
        if let Some(v) = v {
            out.push((path, Leaf::Policy(v.clone())));
        }
    };
    if let Some(b) = b2b_collaboration {
        policy(&["b2bCollaboration", "inbound"], &b.inbound);
        policy(&["b2bCollaboration", "outbound"], &b.outbound);
    }
    if let Some(b) = b2b_direct_connect {
        policy(&["b2bDirectConnect", "inbound"], &b.inbound);
        policy(&["b2bDirectConnect", "outbound"], &b.outbound);
    }
    out
}

/// Sets one leaf, creating the objects above it.
fn set_leaf(s: &mut PartnerSettings, path: &[&str], value: Leaf) {
    match (path, value) {
        (["allowUsersSyncInbound"], Leaf::Bool(v)) => s.allow_users_sync_inbound = Some(v),
        (["allowGroupsSyncInbound"], Leaf::Bool(v)) => s.allow_groups_sync_inbound = Some(v),
        (["automaticUserConsent", which], Leaf::Bool(v)) => {
            let c = s
                .automatic_user_consent
                .get_or_insert_with(AutomaticUserConsent::default);
            if *which == "inbound" {
                c.inbound = Some(v);
            } else {
                c.outbound = Some(v);
            }
        }
        (["inboundTrust", which], Leaf::Bool(v)) => {
            let t = s.inbound_trust.get_or_insert_with(InboundTrust::default);
            match *which {
                "mfa" => t.mfa = Some(v),
                "compliantDevice" => t.compliant_device = Some(v),
                _ => t.hybrid_joined_device = Some(v),
            }
        }
        ([kind, which], Leaf::Policy(p)) => {
            let b = if *kind == "b2bCollaboration" {
                s.b2b_collaboration.get_or_insert_with(B2bSettings::default)
            } else {
                s.b2b_direct_connect
                    .get_or_insert_with(B2bSettings::default)
            };
            if *which == "inbound" {
                b.inbound = Some(p);
            } else {
                b.outbound = Some(p);
            }
        }
        _ => {}
    }
}

fn sub_path(base: &Path, leaf: &[&str]) -> Path {
    leaf.iter().fold(base.clone(), |p, k| p.key(k))
}

pub(super) fn check(
    cx: &mut Cx<'_>,
    doc: &PartialDocument,
    tenants: &TenantTable,
) -> Option<CollaborationSpec> {
    let base = Path::root().key("collaboration");
    if doc.collaboration_unreadable {
        // Its errors are reported; judging syncs against settings that could not be read would
        // only add misleading findings.
        return None;
    }
    let collaboration = doc.collaboration.clone().unwrap_or_default();
    let all_pairs = collaboration.all_pairs.clone().unwrap_or_default();
    check_targets(cx, &base.key("allPairs"), &all_pairs);
    let mut beta_ok = true;
    if all_pairs.allow_groups_sync_inbound.is_some() {
        beta_ok &= require_beta(
            cx,
            doc,
            BetaFeature::GroupSync,
            &base.key("allPairs").key("allowGroupsSyncInbound"),
            "`allowGroupsSyncInbound`",
        );
    }
    for (i, o) in collaboration.overrides.iter().enumerate() {
        if o.settings.allow_groups_sync_inbound.is_some() {
            beta_ok &= require_beta(
                cx,
                doc,
                BetaFeature::GroupSync,
                &base
                    .key("overrides")
                    .index(i)
                    .key("settings")
                    .key("allowGroupsSyncInbound"),
                "`allowGroupsSyncInbound`",
            );
        }
    }

    // Which ordered pairs each override applies to.
    let mut applied: Vec<(usize, Vec<PairKey>)> = Vec::new();
    for (i, o) in collaboration.overrides.iter().enumerate() {
        let path = base.key("overrides").index(i);
        check_targets(cx, &path.key("settings"), &o.settings);
        if let Some(pairs) = override_pairs(cx, &path, o, tenants) {
            applied.push((i, pairs));
        }
    }

    // Merge, reporting two overrides that set one value of one pair differently.
    let mut set_by: BTreeMap<(PairKey, &'static [&'static str]), (usize, Leaf)> = BTreeMap::new();
    let mut ok = true;
    for (i, pairs) in &applied {
        let settings = &collaboration.overrides[*i].settings;
        for (leaf, value) in leaves(settings) {
            for pair in pairs {
                match set_by.get(&(pair.clone(), leaf)) {
                    Some((j, earlier)) if earlier != &value => {
                        ok = false;
                        let here = sub_path(&base.key("overrides").index(*i).key("settings"), leaf);
                        let there =
                            sub_path(&base.key("overrides").index(*j).key("settings"), leaf);
                        let there_span = cx.span(&there);
                        cx.error(
                            "spec::override_conflict",
                            &here,
                            format!(
                                "overrides contradict each other: `{}` for {} → {} is set differently by overrides {} and {}",
                                leaf.join("."),
                                pair.tenant,
                                pair.partner,
                                j + 1,
                                i + 1
                            ),
                            "this value",
                        )
                        .with_label(there_span, "contradicts this one")
                        .with_help("keep one value for each setting of each pair");
                    }
                    Some(_) => {}
                    None => {
                        set_by.insert((pair.clone(), leaf), (*i, value.clone()));
                    }
                }
            }
        }
    }

    let mut pairs = BTreeMap::new();
    let all: Vec<&Alias> = tenants.all().map(|t| &t.alias).collect();
    for tenant in &all {
        for partner in &all {
            if tenant != partner {
                let key = PairKey {
                    tenant: (*tenant).clone(),
                    partner: (*partner).clone(),
                };
                let mut settings = all_pairs.clone();
                for ((pair, leaf), (_, value)) in set_by.range((key.clone(), &[][..])..) {
                    if pair != &key {
                        break;
                    }
                    set_leaf(&mut settings, leaf, value.clone());
                }
                pairs.insert(key, settings);
            }
        }
    }
    // Syncs are judged against these settings; where one was reported wrong, the typed read
    // holds a default instead, and judging by it would only echo that finding.
    (ok && beta_ok && !cx.altered_below(&base)).then(|| CollaborationSpec {
        manage_templates: collaboration.manage_templates.unwrap_or(true),
        all_pairs,
        pairs,
    })
}

/// The ordered pairs one override applies to, or `None` after reporting why it applies to none.
fn override_pairs(
    cx: &mut Cx<'_>,
    path: &Path,
    o: &PairOverride,
    tenants: &TenantTable,
) -> Option<Vec<PairKey>> {
    let pair = |t: &str, p: &str| PairKey {
        tenant: Alias(t.to_owned()),
        partner: Alias(p.to_owned()),
    };
    match (&o.tenant, &o.partner, &o.between) {
        (Some(t), Some(p), None) => {
            let tenant = resolve_alias(cx, tenants, &path.key("tenant"), t);
            let partner = resolve_alias(cx, tenants, &path.key("partner"), p);
            if t == p {
                cx.error(
                    "spec::self_pair",
                    &path.key("partner"),
                    format!("`{t}` cannot be its own partner"),
                    "same tenant as `tenant`",
                );
                return None;
            }
            (tenant.is_some() && partner.is_some()).then(|| vec![pair(t, p)])
        }
        (None, None, Some(between)) => {
            let between_path = path.key("between");
            if between.len() != 2 || between[0] == between[1] {
                cx.error(
                    "spec::between",
                    &between_path,
                    "`between` names exactly two different tenants".into(),
                    "needs two aliases",
                )
                .with_help("write `between: [contoso, fabrikam]`");
                return None;
            }
            let a = resolve_alias(cx, tenants, &between_path.index(0), &between[0]);
            let b = resolve_alias(cx, tenants, &between_path.index(1), &between[1]);
            (a.is_some() && b.is_some()).then(|| {
                vec![
                    pair(&between[0], &between[1]),
                    pair(&between[1], &between[0]),
                ]
            })
        }
        // A wrong `tenant`, `partner` or `between` was reported and dropped already.
        _ if ["tenant", "partner", "between"]
            .iter()
            .any(|k| cx.tainted_below(&path.key(k))) =>
        {
            None
        }
        _ => {
            cx.error(
                "spec::override_target",
                path,
                "an override names either `tenant` and `partner`, or `between`".into(),
                "which pair is this for?",
            )
            .with_help("`tenant: a, partner: b` changes a's settings for b; `between: [a, b]` changes both sides");
            None
        }
    }
}

/// B2B targets must be keywords or typed object ids.
fn check_targets(cx: &mut Cx<'_>, base: &Path, settings: &PartnerSettings) {
    for (kind, b2b) in [
        ("b2bCollaboration", &settings.b2b_collaboration),
        ("b2bDirectConnect", &settings.b2b_direct_connect),
    ] {
        let Some(b2b) = b2b else { continue };
        for (direction, policy) in [("inbound", &b2b.inbound), ("outbound", &b2b.outbound)] {
            let Some(policy) = policy else { continue };
            let policy_path = base.key(kind).key(direction);
            let users_path = policy_path.key("usersAndGroups").key("targets");
            check_target_list(
                cx,
                &users_path,
                &policy.users_and_groups.targets,
                user_target_ok,
                "`AllUsers`, `user:<object id>` or `group:<object id>`",
            );
            let apps_path = policy_path.key("applications").key("targets");
            check_target_list(
                cx,
                &apps_path,
                &policy.applications.targets,
                application_target_ok,
                "`AllApplications`, `Office365`, `AllMicrosoftApps` or an application id",
            );
        }
    }
}

fn check_target_list(
    cx: &mut Cx<'_>,
    path: &Path,
    targets: &[String],
    ok: fn(&str) -> bool,
    expected: &str,
) {
    if targets.is_empty() {
        cx.error(
            "spec::targets",
            path,
            "the target list is empty".into(),
            "no targets",
        )
        .with_help(format!("list targets: {expected}"));
    }
    for (i, target) in targets.iter().enumerate() {
        if !ok(target) {
            cx.error(
                "spec::targets",
                &path.index(i),
                format!("`{target}` is not a valid target"),
                "invalid target",
            )
            .with_help(format!("a target is {expected}"));
        }
    }
}

fn user_target_ok(t: &str) -> bool {
    t == "AllUsers"
        || t.strip_prefix("user:")
            .or_else(|| t.strip_prefix("group:"))
            .and_then(Guid::parse)
            .is_some()
}

fn application_target_ok(t: &str) -> bool {
    matches!(t, "AllApplications" | "Office365" | "AllMicrosoftApps") || Guid::parse(t).is_some()
}
