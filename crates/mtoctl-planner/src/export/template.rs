//! The live state in the terms of a given spec: what `mtoctl export -f SPEC --diff` compares
//! with the spec.
//!
//! A fresh export chooses its own layout (`allPairs` by majority, sorted scopes, defaults left
//! out), so a diff of it against a hand-written spec would show layout as drift. Here the spec
//! is the template: the document is the spec's own, each value it declares replaced by the live
//! one, in the spec's order, spelling and choice of keys, each change made where the spec says
//! it:
//!
//! - the organization's name and description, each tenant's display name and role in place; a
//!   tenant that is no longer a member is removed (with its overrides and syncs);
//! - a collaboration setting in the `allPairs` or the override that gives it to the pair. A
//!   setting that changed alike for every pair taking it from `allPairs` changes there (unless
//!   the templates still hold the old value); otherwise the pair gets an override, appended
//!   (one `between` override when both directions changed alike). `manageTemplates: false` when
//!   the templates no longer hold `allPairs`;
//! - a sync entry's fields in place; its scope keeps the spec's spelling and order, users and
//!   groups no longer assigned are removed and those assigned since are appended. An entry
//!   whose configuration is gone is removed; configurations the spec does not declare are
//!   appended as `mtoctl export` writes them.
//!
//! Settings the spec does not manage are not compared (the plan does not touch them). What a
//! spec cannot say (a partner configuration that is missing, a mapping Graph holds in a form
//! the language lacks) stays as the spec has it and is named in a warning; the caller plans the
//! result to find anything else.

use std::collections::{BTreeMap, BTreeSet};

use mtoctl_model::desired::{DesiredState, PairKey, SyncSpec, default_sync_name};
use mtoctl_model::ids::{Alias, Guid};
use mtoctl_model::observed::{
    AssignmentObservation, ObservedState, PrincipalsObservation, SyncJobObservation,
    TenantObservation,
};
use mtoctl_model::plan::fingerprint::{FilterKey, MappingKey, normalise_filter, source_of};
use mtoctl_model::spec::document::{
    AttributeMapping, GroupProvisioning, LeavingScope, PairOverride, PartnerSettings, SpecDocument,
    SyncDirection, UserType, UserTypeApplies,
};
use mtoctl_model::spec::export_input::{ExportInput, InputTenant};
use serde_json::Value as Json;

use super::collaboration::{self, Effective, LEAVES};
use super::{ExportError, export, sync};

/// The spec, its values replaced by the live ones, and what could not be said.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Templated {
    /// The spec's document holding the live state.
    pub document: SpecDocument,
    /// What the document cannot show, each with the reason.
    pub warnings: Vec<String>,
}

/// The live state `observed` of the spec's tenants, written as `spec` writes it. `desired` is
/// the spec's validated state and `input` its tenants with their credentials.
pub(super) fn templated(
    spec: &SpecDocument,
    desired: &DesiredState,
    input: &ExportInput,
    observed: &ObservedState,
) -> Result<Templated, ExportError> {
    let exported = export(input, observed)?;
    let obs = super::observations(input, observed)?;
    let mut warnings = Vec::new();
    let mut doc = spec.clone();

    let org = &exported.document.organization;
    doc.organization.display_name = org.display_name.clone();
    if doc.organization.description.is_some() {
        // A description the spec leaves out is not managed.
        doc.organization.description = org.description.clone();
    }
    let members: BTreeMap<&str, _> = exported
        .document
        .tenants
        .iter()
        .map(|t| (t.alias.as_str(), t))
        .collect();
    doc.tenants
        .retain(|t| members.contains_key(t.alias.as_str()));
    for t in &mut doc.tenants {
        let live = members[t.alias.as_str()];
        t.display_name = live.display_name.clone();
        t.role = live.role;
    }
    let included: Vec<&InputTenant> = input
        .tenants
        .iter()
        .filter(|t| members.contains_key(t.spec.alias.as_str()))
        .collect();

    collaboration_in(&mut doc, desired, &included, &obs, &mut warnings);
    let declared = syncs_in(
        &mut doc,
        desired,
        input,
        &included,
        &obs,
        &exported.document.sync,
        &mut warnings,
    );
    // Export's own findings, but for the configurations the spec declares: those are written
    // here from the spec's side, and the plan of the result says what remains.
    let about_declared = |w: &String| {
        declared
            .iter()
            .any(|(from, name)| w.contains(&format!("`{name}` in {from}")))
    };
    let mut all: Vec<String> = exported
        .warnings
        .into_iter()
        .filter(|w| !about_declared(w))
        .collect();
    all.append(&mut warnings);
    Ok(Templated {
        document: doc,
        warnings: all,
    })
}

/// One settable value of [`PartnerSettings`], as its path in the spec (`inboundTrust.mfa`):
/// the first two levels, B2B policies whole (as the planner compares them).
type LeafPath = Vec<String>;

fn leaves(s: &PartnerSettings) -> BTreeMap<LeafPath, Json> {
    let mut out = BTreeMap::new();
    if let Ok(Json::Object(top)) = serde_json::to_value(s) {
        for (k, v) in top {
            match v {
                Json::Object(inner) => {
                    for (k2, v2) in inner {
                        out.insert(vec![k.clone(), k2], v2);
                    }
                }
                other => {
                    out.insert(vec![k], other);
                }
            }
        }
    }
    out
}

/// `s` with the value at `path` set (or removed, and an emptied parent with it).
fn with_leaf(s: &PartnerSettings, path: &LeafPath, value: Option<&Json>) -> PartnerSettings {
    let Ok(Json::Object(mut top)) = serde_json::to_value(s) else {
        return s.clone();
    };
    match (path.as_slice(), value) {
        ([k], Some(v)) => {
            top.insert(k.clone(), v.clone());
        }
        ([k], None) => {
            top.remove(k);
        }
        ([k, k2], Some(v)) => {
            let inner = top
                .entry(k.clone())
                .or_insert_with(|| Json::Object(Default::default()));
            if let Json::Object(inner) = inner {
                inner.insert(k2.clone(), v.clone());
            }
        }
        ([k, k2], None) => {
            let emptied = match top.get_mut(k) {
                Some(Json::Object(inner)) => {
                    inner.remove(k2);
                    inner.is_empty()
                }
                _ => false,
            };
            if emptied {
                top.remove(k);
            }
        }
        _ => {}
    }
    serde_json::from_value(Json::Object(top)).unwrap_or_else(|_| s.clone())
}

/// The ordered pairs an override gives its settings to.
fn covers(o: &PairOverride) -> Vec<PairKey> {
    let pair = |t: &str, p: &str| PairKey {
        tenant: Alias(t.to_owned()),
        partner: Alias(p.to_owned()),
    };
    match (&o.tenant, &o.partner, &o.between) {
        (Some(t), Some(p), None) => vec![pair(t, p)],
        (None, None, Some(b)) if b.len() == 2 => vec![pair(&b[0], &b[1]), pair(&b[1], &b[0])],
        _ => Vec::new(),
    }
}

fn reverse(p: &PairKey) -> PairKey {
    PairKey {
        tenant: p.partner.clone(),
        partner: p.tenant.clone(),
    }
}

/// Sets `leaf` for pair `p` in the `tenant`/`partner` override of that pair, appending one if
/// the spec has none; returns its index.
fn set_in_pair_override(
    overrides: &mut Vec<PairOverride>,
    p: &PairKey,
    leaf: &LeafPath,
    value: &Json,
) -> Option<usize> {
    let found = overrides.iter().position(|o| {
        o.between.is_none()
            && o.tenant.as_deref() == Some(p.tenant.as_str())
            && o.partner.as_deref() == Some(p.partner.as_str())
    });
    let i = match found {
        Some(i) => i,
        None => {
            // Built from JSON, so that fields the language adds later keep their defaults.
            let o: PairOverride = serde_json::from_value(serde_json::json!({
                "tenant": p.tenant.as_str(),
                "partner": p.partner.as_str(),
                "settings": {},
            }))
            .ok()?;
            overrides.push(o);
            overrides.len() - 1
        }
    };
    overrides[i].settings = with_leaf(&overrides[i].settings, leaf, Some(value));
    Some(i)
}

/// The collaboration section holding the live values of every setting the spec manages.
fn collaboration_in(
    doc: &mut SpecDocument,
    desired: &DesiredState,
    included: &[&InputTenant],
    obs: &BTreeMap<Alias, &TenantObservation>,
    warnings: &mut Vec<String>,
) {
    let had_section = doc.collaboration.is_some();
    let mut c = doc.collaboration.clone().unwrap_or_default();
    let kept: BTreeSet<&str> = included.iter().map(|t| t.spec.alias.as_str()).collect();
    c.overrides.retain(|o| {
        covers(o)
            .iter()
            .all(|p| kept.contains(p.tenant.as_str()) && kept.contains(p.partner.as_str()))
    });
    let pairs = collaboration::ordered_pairs(included);
    let partner_of = |p: &PairKey| collaboration::observed_partner(included, obs, p);
    // Every value a pair holds that the language can write (`false` included).
    let live: BTreeMap<&PairKey, BTreeMap<LeafPath, Json>> = pairs
        .iter()
        .map(|p| {
            let mut s = PartnerSettings::default();
            for leaf in LEAVES {
                if let Some(v) = leaf.observed(partner_of(p)) {
                    leaf.set(&mut s, v);
                }
            }
            (p, leaves(&s))
        })
        .collect();
    let wanted: BTreeMap<&PairKey, BTreeMap<LeafPath, Json>> = pairs
        .iter()
        .map(|p| {
            let s = desired.collaboration.pairs.get(p).map(leaves);
            (p, s.unwrap_or_default())
        })
        .collect();
    // Settings export does not read (newer than it) are left as the spec has them; the plan
    // of the result compares them.
    let known = known_leaves();
    let managed: BTreeSet<LeafPath> = wanted
        .values()
        .flat_map(|m| m.keys().cloned())
        .filter(|l| known.contains(l))
        .collect();
    let templates_hold = |all_pairs: &PartnerSettings| {
        included
            .iter()
            .all(|t| collaboration::templates_match(obs[&t.spec.alias], all_pairs))
    };
    let first_new = c.overrides.len();

    for leaf in &managed {
        let view = CollabView::of(&c);
        let drifted: Vec<(&PairKey, Option<&Json>)> = pairs
            .iter()
            .filter(|p| {
                wanted[p]
                    .get(leaf)
                    .is_some_and(|want| live[p].get(leaf) != Some(want))
            })
            .map(|p| (p, live[p].get(leaf)))
            .collect();
        if drifted.is_empty() {
            continue;
        }
        for (p, _) in drifted.iter().filter(|(_, v)| v.is_none()) {
            warnings.push(format!(
                "{}'s `{}` for {} is not set in Graph (its partner configuration or the setting is missing), which a spec cannot say; `mtoctl plan` shows what it would set",
                p.tenant,
                leaf.join("."),
                p.partner
            ));
        }
        let drifted: Vec<(&PairKey, &Json)> = drifted
            .into_iter()
            .filter_map(|(p, v)| v.map(|v| (p, v)))
            .collect();

        // From `allPairs`: changed there when every pair taking it changed alike.
        let from_all: Vec<&PairKey> = pairs
            .iter()
            .filter(|p| wanted[p].contains_key(leaf) && view.source(p, leaf).is_none())
            .collect();
        let changed_all: Vec<(&PairKey, &Json)> = drifted
            .iter()
            .filter(|(p, _)| view.source(p, leaf).is_none())
            .copied()
            .collect();
        let values: BTreeSet<String> = changed_all.iter().map(|(_, v)| v.to_string()).collect();
        let mut in_all_pairs = false;
        if !from_all.is_empty() && changed_all.len() == from_all.len() && values.len() == 1 {
            let old = c.all_pairs.clone().unwrap_or_default();
            let new = with_leaf(&old, leaf, Some(changed_all[0].1));
            // The templates hold `allPairs` when managed: keep it where they still hold it.
            if !desired.collaboration.manage_templates
                || templates_hold(&new)
                || !templates_hold(&old)
            {
                c.all_pairs = Some(new);
                in_all_pairs = true;
            }
        }
        if !in_all_pairs {
            for (p, v) in &changed_all {
                set_in_pair_override(&mut c.overrides, p, leaf, v);
            }
        }

        // From an override: changed in it.
        let mut done: BTreeSet<PairKey> = BTreeSet::new();
        for (p, v) in drifted
            .iter()
            .filter(|(p, _)| view.source(p, leaf).is_some())
        {
            if done.contains(*p) {
                continue;
            }
            let Some(i) = view.source(p, leaf) else {
                continue;
            };
            if c.overrides[i].between.is_none() {
                c.overrides[i].settings = with_leaf(&c.overrides[i].settings, leaf, Some(v));
                continue;
            }
            let q = reverse(p);
            done.insert(q.clone());
            let other = live.get(&q).and_then(|m| m.get(leaf));
            if other == Some(*v) {
                c.overrides[i].settings = with_leaf(&c.overrides[i].settings, leaf, Some(v));
                continue;
            }
            // The two directions now differ: each gets its own value.
            c.overrides[i].settings = with_leaf(&c.overrides[i].settings, leaf, None);
            set_in_pair_override(&mut c.overrides, p, leaf, v);
            match other {
                Some(w) => {
                    set_in_pair_override(&mut c.overrides, &q, leaf, w);
                }
                None => warnings.push(format!(
                    "{}'s `{}` for {} is not set in Graph, which a spec cannot say; it is left out of the override",
                    q.tenant,
                    leaf.join("."),
                    q.partner
                )),
            }
        }
    }
    // An override left with no settings says nothing.
    let empty = PartnerSettings::default();
    let mut index = 0;
    let mut first_new_now = first_new;
    c.overrides.retain(|o| {
        let keep = o.settings != empty;
        if !keep && index < first_new {
            first_new_now -= 1;
        }
        index += 1;
        keep
    });
    merge_new_into_between(&mut c.overrides, first_new_now);

    let all_pairs = c.all_pairs.clone().unwrap_or_default();
    if desired.collaboration.manage_templates && !templates_hold(&all_pairs) {
        c.manage_templates = Some(false);
    }
    let unchanged = !had_section && c == Default::default();
    doc.collaboration = (!unchanged).then_some(c);
}

/// The settings export reads from Graph, as paths.
fn known_leaves() -> BTreeSet<LeafPath> {
    let policy =
        serde_json::from_value::<mtoctl_model::spec::document::B2bPolicy>(serde_json::json!({
            "usersAndGroups": {"access": "allowed", "targets": []},
            "applications": {"access": "allowed", "targets": []},
        }));
    let mut s = PartnerSettings::default();
    for leaf in LEAVES {
        // `set` takes the value of the leaf's own kind and ignores the other.
        leaf.set(&mut s, collaboration::Value::Bool(true));
        if let Ok(p) = &policy {
            leaf.set(&mut s, collaboration::Value::Policy(p.clone()));
        }
    }
    leaves(&s).into_keys().collect()
}

/// Where each pair takes each setting from in a collaboration section.
struct CollabView {
    /// For each override, the pairs it covers and the settings it sets.
    overrides: Vec<(Vec<PairKey>, BTreeMap<LeafPath, Json>)>,
}

impl CollabView {
    fn of(c: &mtoctl_model::spec::document::Collaboration) -> Self {
        Self {
            overrides: c
                .overrides
                .iter()
                .map(|o| (covers(o), leaves(&o.settings)))
                .collect(),
        }
    }

    /// The override that sets `leaf` for `p`; `None` when it comes from `allPairs`.
    fn source(&self, p: &PairKey, leaf: &LeafPath) -> Option<usize> {
        self.overrides
            .iter()
            .position(|(pairs, set)| pairs.contains(p) && set.contains_key(leaf))
    }
}

/// New `tenant`/`partner` overrides (from `first_new` on) for the two directions of one pair
/// with the same settings, written as one `between` override.
fn merge_new_into_between(overrides: &mut Vec<PairOverride>, first_new: usize) {
    let mut i = first_new;
    while i < overrides.len() {
        let (Some(t), Some(p)) = (overrides[i].tenant.clone(), overrides[i].partner.clone()) else {
            i += 1;
            continue;
        };
        let twin = (first_new..overrides.len()).find(|&j| {
            j != i
                && overrides[j].tenant.as_deref() == Some(p.as_str())
                && overrides[j].partner.as_deref() == Some(t.as_str())
                && overrides[j].settings == overrides[i].settings
        });
        if let Some(j) = twin {
            overrides[i].tenant = None;
            overrides[i].partner = None;
            overrides[i].between = Some(vec![t, p]);
            overrides.remove(j);
        }
        i += 1;
    }
}

/// The sync section: the spec's entries holding the live values, then the configurations the
/// spec does not declare. Returns the declared configurations found, as (source, name).
fn syncs_in(
    doc: &mut SpecDocument,
    desired: &DesiredState,
    input: &ExportInput,
    included: &[&InputTenant],
    obs: &BTreeMap<Alias, &TenantObservation>,
    exported: &[SyncDirection],
    warnings: &mut Vec<String>,
) -> Vec<(String, String)> {
    // Every configuration in the spec's terms, also those the tenants' settings would refuse
    // (export leaves those out, but here the settings' drift is shown where it is).
    let mut permissive = Effective::new();
    for t in included {
        for p in included {
            permissive.insert(
                PairKey {
                    tenant: t.spec.alias.clone(),
                    partner: p.spec.alias.clone(),
                },
                PartnerSettings::default(),
            );
        }
    }
    let mut ignored = Vec::new();
    let live = sync::syncs(input, included, obs, &permissive, &mut ignored);
    let tenant_id = |alias: &str| {
        input
            .tenants
            .iter()
            .find(|t| t.spec.alias.as_str() == alias)
            .map(|t| t.spec.tenant_id.clone())
    };
    let name_of = |d: &SyncDirection| {
        d.name
            .clone()
            .or_else(|| tenant_id(&d.to).map(|id| default_sync_name(&id)))
            .unwrap_or_default()
    };
    let kept: BTreeSet<&str> = included.iter().map(|t| t.spec.alias.as_str()).collect();
    let mut out = Vec::new();
    let mut declared = Vec::new();
    if doc.sync.len() != desired.syncs.len() {
        warnings.push(
            "the spec's sync entries and its validated syncs differ in number (a bug in mtoctl; please report it); sync is shown as the spec has it".into(),
        );
        return declared;
    }
    for (s, want) in doc.sync.iter().zip(&desired.syncs) {
        if !kept.contains(s.from.as_str()) || !kept.contains(s.to.as_str()) {
            continue;
        }
        let found = live
            .iter()
            .find(|d| d.from == want.from.as_str() && name_of(d).eq_ignore_ascii_case(&want.name));
        let source = obs[&want.from];
        let config = source
            .sync_configurations
            .iter()
            .find(|c| c.display_name.eq_ignore_ascii_case(&want.name));
        let Some(config) = config else {
            continue; // gone: the live state has no such entry
        };
        declared.push((want.from.to_string(), config.display_name.clone()));
        let job = config
            .details
            .as_ref()
            .and_then(|d| d.jobs.first().map(|j| (j, &d.assignments)));
        match (found, job) {
            (Some(d), Some((job, assignments))) => {
                out.push(merge_sync(s, want, d, job, assignments, &source.principals));
            }
            _ => {
                warnings.push(format!(
                    "sync configuration `{}` in {} cannot be written in the spec's terms (`mtoctl export` says why); it is shown as the spec has it",
                    config.display_name, want.from
                ));
                out.push(s.clone());
            }
        }
    }
    for d in exported {
        let name = name_of(d);
        let is_declared = desired
            .syncs
            .iter()
            .any(|s| s.from.as_str() == d.from && s.name.eq_ignore_ascii_case(&name));
        if !is_declared {
            out.push(d.clone());
        }
    }
    doc.sync = out;
    declared
}

/// `Some(default)` where the spec writes a value the live state has at its default.
fn merge_opt<T: Clone>(spec: &Option<T>, live: &Option<T>, default: T) -> Option<T> {
    match (spec, live) {
        (_, Some(v)) => Some(v.clone()),
        (Some(_), None) => Some(default),
        (None, None) => None,
    }
}

/// One declared sync entry holding the live values. `d` is the configuration as export writes
/// it; `want` the spec's validated entry.
fn merge_sync(
    s: &SyncDirection,
    want: &SyncSpec,
    d: &SyncDirection,
    job: &SyncJobObservation,
    assignments: &[AssignmentObservation],
    principals: &PrincipalsObservation,
) -> SyncDirection {
    let mut m = s.clone();
    m.user_type = merge_opt(&s.user_type, &d.user_type, UserType::Member);
    m.user_type_applies = merge_opt(
        &s.user_type_applies,
        &d.user_type_applies,
        UserTypeApplies::Always,
    );
    m.enabled = merge_opt(&s.enabled, &d.enabled, true);
    m.on_leaving_scope = merge_opt(
        &s.on_leaving_scope,
        &d.on_leaving_scope,
        LeavingScope::SoftDelete,
    );

    // The filter as the planner compares it: the spec's kept when equal (group names it
    // leaves out are generated), else the live one.
    let operator = |op: &mtoctl_model::spec::document::FilterOperator| {
        serde_json::to_value(op)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    let wanted: Vec<FilterKey> = normalise_filter(want.scope.filter.iter().map(|g| {
        (
            g.name.clone(),
            g.clauses
                .iter()
                .map(|c| (c.attribute.clone(), operator(&c.operator), c.values.clone()))
                .collect(),
        )
    }));
    let have: Vec<FilterKey> = normalise_filter(job.scoping_filter.iter().map(|g| {
        (
            g.name.clone(),
            g.clauses
                .iter()
                .map(|c| (c.attribute.clone(), c.operator.clone(), c.values.clone()))
                .collect(),
        )
    }));
    if wanted != have {
        m.scope.filter = d.scope.filter.clone();
    }
    if s.scope.group_provisioning.is_some()
        && let Some(groups) = job.groups_provisioned
    {
        m.scope.group_provisioning = Some(if groups {
            GroupProvisioning::GroupsAndMembers
        } else {
            GroupProvisioning::MembersOnly
        });
    }
    let (users, groups) = assigned(assignments, principals);
    m.scope.users =
        kept_then_added(
            &s.scope.users,
            &d.scope.users,
            &users,
            |n, (id, upn)| match Guid::parse(n.trim()) {
                Some(g) => g == *id,
                None => upn.is_some_and(|u| u.eq_ignore_ascii_case(n.trim())),
            },
        );
    m.scope.groups = kept_then_added(
        &s.scope.groups,
        &d.scope.groups,
        &groups,
        |n, (id, name)| match Guid::parse(n.trim()) {
            Some(g) => g == *id,
            None => name.is_some_and(|x| x == n),
        },
    );

    // Only the mappings the spec names are managed.
    let mut mappings = BTreeMap::new();
    for (target, spec_m) in &s.mappings {
        let w = want
            .mappings
            .iter()
            .find(|x| x.target.eq_ignore_ascii_case(target));
        let h = job
            .mappings
            .iter()
            .find(|x| x.target.eq_ignore_ascii_case(target));
        match (w, h) {
            (_, None) => {} // the job has no such mapping any more
            (Some(w), Some(h))
                if !MappingKey::desired(w).satisfied_by(&MappingKey::observed(h)) =>
            {
                let live = live_mapping(spec_m, h).unwrap_or_else(|| spec_m.clone());
                mappings.insert(target.clone(), live);
            }
            _ => {
                mappings.insert(target.clone(), spec_m.clone());
            }
        }
    }
    m.mappings = mappings;
    m
}

/// A mapping as read, in the terms of the spec's mapping of the same attribute; `None` when the
/// language cannot write its source.
fn live_mapping(
    spec: &AttributeMapping,
    h: &mtoctl_model::observed::AttributeMappingObservation,
) -> Option<AttributeMapping> {
    use mtoctl_model::desired::MappingSource;
    let mut m = spec.clone();
    m.source = None;
    m.constant = None;
    m.expression = None;
    match source_of(h)? {
        MappingSource::Attribute(a) => m.source = Some(a),
        MappingSource::Constant(c) => m.constant = Some(c),
        MappingSource::Expression(e) if mtoctl_model::expression::parse(&e).is_ok() => {
            m.expression = Some(e);
        }
        MappingSource::Expression(_) => return None,
    }
    let on_create = h
        .flow_type
        .as_deref()
        .is_some_and(|f| f.eq_ignore_ascii_case("ObjectAddOnly"));
    m.applies = match (spec.applies, on_create) {
        (_, true) => Some(UserTypeApplies::OnCreate),
        (Some(_), false) => Some(UserTypeApplies::Always),
        (None, false) => None,
    };
    if spec.matching_precedence.is_some() {
        m.matching_precedence = h.matching_priority.and_then(|p| u32::try_from(p).ok());
    }
    Some(m)
}

/// Assigned users (object id, user principal name) and groups (object id, display name).
type Assigned<'a> = Vec<(Guid, Option<&'a str>)>;

fn assigned<'a>(
    assignments: &[AssignmentObservation],
    principals: &'a PrincipalsObservation,
) -> (Assigned<'a>, Assigned<'a>) {
    let mut users = Vec::new();
    let mut groups = Vec::new();
    for a in assignments {
        match sync::principal(a, principals) {
            sync::Principal::Group(name) => groups.push((a.principal_id.clone(), name)),
            sync::Principal::User(upn) => users.push((a.principal_id.clone(), upn)),
            sync::Principal::Other(_) => {}
        }
    }
    (users, groups)
}

/// The spec's names that are still assigned, as the spec writes them and in its order, then
/// the assigned principals it does not name, as export writes them (`exported`).
fn kept_then_added(
    spec: &[String],
    exported: &[String],
    live: &Assigned<'_>,
    names: impl Fn(&str, &(Guid, Option<&str>)) -> bool,
) -> Vec<String> {
    let mut named = vec![false; live.len()];
    let mut out = Vec::new();
    for n in spec {
        let hits: Vec<usize> = (0..live.len()).filter(|&i| names(n, &live[i])).collect();
        if !hits.is_empty() {
            hits.iter().for_each(|&i| named[i] = true);
            out.push(n.clone());
        }
    }
    for e in exported {
        let new = (0..live.len()).any(|i| !named[i] && names(e, &live[i]));
        if new {
            (0..live.len())
                .filter(|&i| names(e, &live[i]))
                .for_each(|i| named[i] = true);
            out.push(e.clone());
        }
    }
    out
}
