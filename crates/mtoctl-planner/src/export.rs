//! `mtoctl export`: a spec document from an observed state, written so that it plans nothing.
//!
//! The reverse of the planner's comparison, and kept honest by it: every choice here follows
//! what [`crate::plan`] compares, so a spec written from an observed state plans no changes
//! against that state (tested on converged worlds, and checked again by the command at run
//! time). What a spec cannot express is left unmanaged and said in a warning, never guessed:
//!
//! - the organization and its members as the first active owner among the given tenants sees
//!   them (display names and roles from Graph; credentials and domains as given);
//! - collaboration as `allPairs` (for each setting, the value most pairs hold) plus overrides
//!   for the pairs that differ, written `between` two tenants when both directions agree;
//!   settings that equal Graph's defaults (`false` for consent and inbound sync) are left out,
//!   and a setting some pair cannot hold (its partner configuration or value is absent) is only
//!   written per pair; `manageTemplates: false` unless both templates of every tenant already
//!   equal `allPairs`;
//! - one `sync` entry per configuration with one job, its target taken from its name
//!   (`MTO_Sync_<target id>`) or from the input (Graph does not return a configuration's
//!   target); names other than the default are kept, so the planner adopts the configuration;
//!   users by user principal name, groups by display name unless the name is ambiguous.
//!
//! No I/O; the caller reads Graph (`mtoctl_graph::discover`) and writes the YAML.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use mtoctl_model::desired::{PairKey, default_sync_name};
use mtoctl_model::ids::{Alias, Guid};
use mtoctl_model::observed::{
    AccessRuleObservation, AccessType, B2bPolicyObservation, Known, MemberRole, MemberState,
    MtoState, ObservedState, PartnerObservation, SyncConfigurationObservation, TenantObservation,
};
use mtoctl_model::spec::document::{
    Access, AccessRule, ApiVersion, AutomaticUserConsent, B2bPolicy, B2bSettings, Collaboration,
    DocumentKind, FilterClause, FilterGroup, FilterOperator, InboundTrust, LeavingScope,
    Organization, PairOverride, PartnerSettings, Role, ScopingFilter, SpecDocument, SyncDirection,
    SyncScope, Tenant, UserType, UserTypeApplies,
};
use mtoctl_model::spec::export_input::{ExportInput, InputTenant};

use crate::diff::settings::{self, NullMeans};

/// A spec written from live state, and what it could not express.
#[derive(Debug, Clone, PartialEq)]
pub struct Exported {
    /// The document.
    pub document: SpecDocument,
    /// Objects left out or left unmanaged, each with the reason and what to do.
    pub warnings: Vec<String>,
}

/// Why nothing could be exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportError {
    /// The observed state lacks a given tenant (a partial read must not look like absence).
    MissingObservation(Alias),
    /// No given tenant is an active owner of a multitenant organization.
    NoOwner(String),
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExportError::MissingObservation(alias) => {
                write!(
                    f,
                    "tenant {alias} was not read (a bug in mtoctl; please report it)"
                )
            }
            ExportError::NoOwner(what) => write!(
                f,
                "none of the given tenants is an active owner of a multitenant organization ({what}); give the credential of an owner tenant"
            ),
        }
    }
}

impl std::error::Error for ExportError {}

/// Writes the spec of what `observed` shows for the tenants of `input`.
pub fn export(input: &ExportInput, observed: &ObservedState) -> Result<Exported, ExportError> {
    let mut obs = BTreeMap::new();
    for t in &input.tenants {
        let o = observed
            .tenants
            .get(&t.spec.alias)
            .ok_or_else(|| ExportError::MissingObservation(t.spec.alias.clone()))?;
        obs.insert(t.spec.alias.clone(), o);
    }
    let mut warnings = Vec::new();
    let owner = input
        .tenants
        .iter()
        .find(|t| is_active_owner(obs[&t.spec.alias], t))
        .ok_or_else(|| {
            ExportError::NoOwner(
                input
                    .tenants
                    .iter()
                    .map(|t| format!("{}: {}", t.spec.alias, membership(obs[&t.spec.alias], t)))
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
    let org = &obs[&owner.spec.alias].organization;

    // Members: the given tenants the owner sees in its organization.
    let mut tenants: Vec<(&InputTenant, Tenant)> = Vec::new();
    for t in &input.tenants {
        let Some(m) = org.members.iter().find(|m| m.tenant_id == t.spec.tenant_id) else {
            warnings.push(format!(
                "{} is not a member of the organization of {}; left out",
                t.spec.alias, owner.spec.alias
            ));
            continue;
        };
        let removing = m.state.is(&MemberState::Removed)
            || m.transition.as_ref().and_then(|x| x.desired_state.as_ref())
                == Some(&Known::Known(MemberState::Removed));
        if removing {
            warnings.push(format!(
                "{} is being removed from the organization; left out",
                t.spec.alias
            ));
            continue;
        }
        if m.state.is(&MemberState::Pending) {
            warnings.push(format!(
                "{} was added but has not joined yet; the plan will have it join",
                t.spec.alias
            ));
        }
        let role = match &m.role {
            Known::Known(MemberRole::Owner) => Role::Owner,
            Known::Known(MemberRole::Member) => Role::Member,
            Known::Unknown(text) => {
                warnings.push(format!(
                    "{} has the role `{text}`, which mtoctl does not know; written as member",
                    t.spec.alias
                ));
                Role::Member
            }
        };
        tenants.push((
            t,
            Tenant {
                alias: t.spec.alias.0.clone(),
                tenant_id: t.spec.tenant_id.to_string(),
                display_name: m.display_name.clone(),
                role,
                domain: t.spec.domain.clone(),
                auth: t.auth.clone(),
            },
        ));
    }
    for m in &org.members {
        if !input
            .tenants
            .iter()
            .any(|t| t.spec.tenant_id == m.tenant_id)
        {
            warnings.push(format!(
                "tenant {} (\"{}\") is a member of the organization but not in the input; left out (add it with a credential to export it)",
                m.tenant_id, m.display_name
            ));
        }
    }

    let included: Vec<&InputTenant> = tenants.iter().map(|(t, _)| *t).collect();
    let (collaboration, effective) = collaboration(&included, &obs);
    let sync = syncs(input, &included, &obs, &effective, &mut warnings);

    let document = SpecDocument {
        api_version: ApiVersion::V1Alpha1,
        kind: DocumentKind::MultiTenantOrganization,
        organization: Organization {
            display_name: org.display_name.clone().unwrap_or_default(),
            description: org.description.clone().filter(|d| !d.is_empty()),
        },
        tenants: tenants.into_iter().map(|(_, t)| t).collect(),
        collaboration,
        sync,
        prune: Vec::new(),
    };
    Ok(Exported { document, warnings })
}

fn is_active_owner(obs: &TenantObservation, t: &InputTenant) -> bool {
    obs.organization.state.is(&MtoState::Active)
        && obs.organization.members.iter().any(|m| {
            m.tenant_id == t.spec.tenant_id
                && m.role.is(&MemberRole::Owner)
                && m.state.is(&MemberState::Active)
        })
}

fn membership(obs: &TenantObservation, t: &InputTenant) -> String {
    if !obs.organization.state.is(&MtoState::Active) {
        return "no organization".into();
    }
    match obs
        .organization
        .members
        .iter()
        .find(|m| m.tenant_id == t.spec.tenant_id)
    {
        Some(m) => format!("{:?} {:?}", m.state, m.role).to_lowercase(),
        None => "not a member".into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Collaboration.

/// One settable value of [`PartnerSettings`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Leaf {
    AllowSync,
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

const LEAVES: [Leaf; 10] = [
    Leaf::AllowSync,
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
enum Value {
    Bool(bool),
    Policy(B2bPolicy),
}

impl Leaf {
    /// The value a pair holds, in a form the spec can write; `None` when the planner would
    /// see any written value as a change (the partner configuration or the value is absent).
    fn observed(self, partner: Option<&PartnerObservation>) -> Option<Value> {
        if self == Leaf::AllowSync {
            // An absent policy and `isSyncAllowed: null` both mean "not allowed".
            let allowed = partner
                .and_then(|p| p.identity_sync.as_ref())
                .and_then(|s| s.is_sync_allowed)
                .unwrap_or(false);
            return Some(Value::Bool(allowed));
        }
        let s = &partner?.settings;
        let trust = |f: fn(&mtoctl_model::observed::InboundTrustObservation) -> Option<bool>| {
            s.inbound_trust.as_ref().and_then(f).map(Value::Bool)
        };
        match self {
            Leaf::AllowSync => None,
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
        matches!(self, Leaf::AllowSync | Leaf::ConsentIn | Leaf::ConsentOut)
            && *value == Value::Bool(false)
    }

    fn set(self, s: &mut PartnerSettings, value: Value) {
        match value {
            Value::Bool(v) => match self {
                Leaf::AllowSync => s.allow_users_sync_inbound = Some(v),
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

type Effective = BTreeMap<PairKey, PartnerSettings>;

/// The collaboration section, and the settings it gives each ordered pair.
fn collaboration(
    tenants: &[&InputTenant],
    obs: &BTreeMap<Alias, &TenantObservation>,
) -> (Option<Collaboration>, Effective) {
    let mut pairs: Vec<PairKey> = Vec::new();
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
    let partner_of = |pair: &PairKey| {
        let id = &tenants
            .iter()
            .find(|t| t.spec.alias == pair.partner)?
            .spec
            .tenant_id;
        obs[&pair.tenant].partners.get(id)
    };
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
fn templates_match(obs: &TenantObservation, all_pairs: &PartnerSettings) -> bool {
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

// ---------------------------------------------------------------------------------------------
// Sync configurations.

fn syncs(
    input: &ExportInput,
    tenants: &[&InputTenant],
    obs: &BTreeMap<Alias, &TenantObservation>,
    effective: &Effective,
    warnings: &mut Vec<String>,
) -> Vec<SyncDirection> {
    let mut out = Vec::new();
    for source in tenants {
        let from = &source.spec.alias;
        let configs = &obs[from].sync_configurations;
        let mut by_name: BTreeMap<String, usize> = BTreeMap::new();
        for c in configs {
            *by_name.entry(c.display_name.to_lowercase()).or_default() += 1;
        }
        for c in configs {
            let name = &c.display_name;
            if by_name[&name.to_lowercase()] > 1 {
                warnings.push(format!(
                    "{from} has {} sync configurations named `{name}`; left out (the planner does not act on an ambiguous name; rename or delete one)",
                    by_name[&name.to_lowercase()]
                ));
                continue;
            }
            let Some(target) = target_of(input, tenants, source, c, warnings) else {
                continue;
            };
            if let Some(direction) = direction(source, target, c, obs, effective, warnings) {
                out.push(direction);
            }
        }
    }
    out
}

/// The tenant a configuration provisions into: from the input, else from its default name.
fn target_of<'a>(
    input: &ExportInput,
    tenants: &[&'a InputTenant],
    source: &InputTenant,
    c: &SyncConfigurationObservation,
    warnings: &mut Vec<String>,
) -> Option<&'a InputTenant> {
    let from = &source.spec.alias;
    let name = &c.display_name;
    let by_alias = |alias: &Alias| tenants.iter().find(|t| &t.spec.alias == alias).copied();
    let given = input
        .sync_targets
        .iter()
        .find(|h| &h.from == from && h.name.eq_ignore_ascii_case(name));
    let target = match given {
        Some(h) => match by_alias(&h.to) {
            Some(t) => t,
            None => {
                warnings.push(format!(
                    "sync configuration `{name}` in {from} provisions into {}, which is not exported (not a member of the organization); left out",
                    h.to
                ));
                return None;
            }
        },
        None => {
            let id = name
                .get(..9)
                .filter(|p| p.eq_ignore_ascii_case("MTO_Sync_"))
                .and_then(|_| Guid::parse(&name[9..]));
            let Some(id) = id else {
                warnings.push(format!(
                    "sync configuration `{name}` in {from} is left out: Graph does not say which tenant it provisions into, and its name is not `MTO_Sync_<target tenant id>`; name its target in the input (`sync: [{{from: {from}, to: <alias>, name: \"{name}\", scope: {{}}}}]`) and export again"
                ));
                return None;
            };
            match tenants.iter().find(|t| t.spec.tenant_id.0 == id) {
                Some(t) => t,
                None => {
                    warnings.push(format!(
                        "sync configuration `{name}` in {from} provisions into tenant {id}, which is not among the exported tenants; left out"
                    ));
                    return None;
                }
            }
        }
    };
    if target.spec.alias == *from {
        warnings.push(format!(
            "sync configuration `{name}` in {from} would provision into {from} itself; left out"
        ));
        return None;
    }
    Some(target)
}

fn direction(
    source: &InputTenant,
    target: &InputTenant,
    c: &SyncConfigurationObservation,
    obs: &BTreeMap<Alias, &TenantObservation>,
    effective: &Effective,
    warnings: &mut Vec<String>,
) -> Option<SyncDirection> {
    let from = &source.spec.alias;
    let to = &target.spec.alias;
    let name = &c.display_name;
    let Some(details) = &c.details else {
        warnings.push(format!(
            "the jobs and assignments of `{name}` in {from} were not read; left out"
        ));
        return None;
    };
    let job = match details.jobs.as_slice() {
        [job] => job,
        [] => {
            warnings.push(format!(
                "sync configuration `{name}` in {from} has no synchronization job yet (as the Microsoft 365 admin center leaves it); left out. To have mtoctl finish setting it up, add `{{from: {from}, to: {to}{}}}` with its scope to `sync`: it is adopted, not duplicated",
                if name.eq_ignore_ascii_case(&default_sync_name(&target.spec.tenant_id)) {
                    String::new()
                } else {
                    format!(", name: \"{name}\"")
                }
            ));
            return None;
        }
        jobs => {
            warnings.push(format!(
                "sync configuration `{name}` in {from} has {} jobs; left out (mtoctl manages configurations with one)",
                jobs.len()
            ));
            return None;
        }
    };

    // The settings a sync needs (what validation checks): a configuration Graph would refuse
    // cannot be written into a valid spec.
    let target_side = &effective[&PairKey {
        tenant: to.clone(),
        partner: from.clone(),
    }];
    let source_side = &effective[&PairKey {
        tenant: from.clone(),
        partner: to.clone(),
    }];
    let refused = [
        (
            target_side.allow_users_sync_inbound,
            format!("{to} does not allow users to sync in from {from}"),
        ),
        (
            target_side
                .automatic_user_consent
                .as_ref()
                .and_then(|c| c.inbound),
            format!("{to} does not automatically redeem invitations from {from}"),
        ),
        (
            source_side
                .automatic_user_consent
                .as_ref()
                .and_then(|c| c.outbound),
            format!("{from} does not automatically redeem invitations to {to}"),
        ),
    ];
    let problems: Vec<&str> = refused
        .iter()
        .filter(|(v, _)| *v == Some(false))
        .map(|(_, why)| why.as_str())
        .collect();
    if !problems.is_empty() {
        warnings.push(format!(
            "sync configuration `{name}` in {from} cannot work as the tenants are set ({}); left out (a spec declaring it is invalid until the settings allow it)",
            problems.join("; ")
        ));
        return None;
    }

    let mut d = SyncDirection {
        from: from.0.clone(),
        to: to.0.clone(),
        name: (!name.eq_ignore_ascii_case(&default_sync_name(&target.spec.tenant_id)))
            .then(|| name.clone()),
        user_type: None,
        user_type_applies: None,
        scope: SyncScope::default(),
        enabled: None,
        on_leaving_scope: None,
    };
    let what = format!("sync configuration `{name}` in {from}");
    let mapping = job.user_type.as_ref();
    match mapping.and_then(|m| m.value.as_deref()) {
        Some(v) if v.eq_ignore_ascii_case("Member") => {}
        Some(v) if v.eq_ignore_ascii_case("Guest") => d.user_type = Some(UserType::Guest),
        other => warnings.push(format!(
            "{what}: its user type mapping ({}) is not a Member or Guest constant; the plan will set it to Member",
            other.unwrap_or("none")
        )),
    }
    match mapping.and_then(|m| m.flow_type.as_deref()) {
        Some(f) if f.eq_ignore_ascii_case("Always") => {}
        Some(f) if f.eq_ignore_ascii_case("ObjectAddOnly") => {
            d.user_type_applies = Some(UserTypeApplies::OnCreate);
        }
        other => warnings.push(format!(
            "{what}: its user type mapping applies `{}`, which mtoctl does not know; the plan will set it to always",
            other.unwrap_or("none")
        )),
    }
    match job.deletes_on_leaving_scope {
        Some(true) => {}
        Some(false) => d.on_leaving_scope = Some(LeavingScope::Keep),
        None => warnings.push(format!(
            "{what}: its user mapping was not read; the plan will set it"
        )),
    }
    match job.schedule_state.as_deref() {
        Some("Active") => {}
        Some("Disabled" | "Paused") | None => d.enabled = Some(false),
        Some(other) => warnings.push(format!(
            "{what}: its job's schedule state `{other}` is not one mtoctl knows; written as enabled"
        )),
    }
    match filter(job) {
        Ok(f) => d.scope.filter = f,
        Err(why) => warnings.push(format!(
            "{what}: its scoping filter cannot be written ({why}); left out, so the plan will remove it"
        )),
    }
    scope(
        &mut d.scope,
        obs[from],
        &details.assignments,
        &what,
        warnings,
    );
    Some(d)
}

/// The observed scoping filter in the spec's terms.
fn filter(
    job: &mtoctl_model::observed::SyncJobObservation,
) -> Result<Option<ScopingFilter>, String> {
    if job.scoping_filter.is_empty() {
        return Ok(None);
    }
    let mut groups = Vec::new();
    for g in &job.scoping_filter {
        let mut all_of = Vec::new();
        for c in &g.clauses {
            let operator = operator(&c.operator)
                .ok_or_else(|| format!("operator `{}` is not one mtoctl knows", c.operator))?;
            if operator.takes_values() == c.values.is_empty() || c.attribute.trim().is_empty() {
                return Err(format!(
                    "clause `{} {}` does not fit the spec language",
                    c.attribute, c.operator
                ));
            }
            all_of.push(FilterClause {
                attribute: c.attribute.clone(),
                operator,
                values: c.values.clone(),
            });
        }
        if all_of.is_empty() {
            return Err(format!("group `{}` has no clauses", g.name));
        }
        groups.push(FilterGroup {
            name: Some(g.name.clone()),
            all_of,
        });
    }
    Ok(Some(ScopingFilter { any_of: groups }))
}

/// The spec's operator for a wire spelling, folded as the planner folds them.
fn operator(wire: &str) -> Option<FilterOperator> {
    use FilterOperator::*;
    let fold = |s: &str| -> String {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_uppercase())
            .collect()
    };
    let want = fold(wire);
    [
        Equals,
        NotEquals,
        IsTrue,
        IsFalse,
        IsNull,
        IsNotNull,
        RegexMatch,
        NotRegexMatch,
        GreaterThan,
        GreaterThanOrEquals,
        LessThan,
        LessThanOrEquals,
    ]
    .into_iter()
    .find(|op| {
        serde_json::to_value(op)
            .ok()
            .and_then(|v| v.as_str().map(fold))
            .is_some_and(|name| name == want)
    })
}

/// Users by user principal name, groups by display name (by object id when the name is
/// ambiguous, unknown or would read as an id), sorted.
fn scope(
    scope: &mut SyncScope,
    source: &TenantObservation,
    assignments: &[mtoctl_model::observed::AssignmentObservation],
    what: &str,
    warnings: &mut Vec<String>,
) {
    let principals = &source.principals;
    let mut users = BTreeSet::new();
    let mut groups = BTreeSet::new();
    for a in assignments {
        let kind = a.principal_type.as_deref().unwrap_or("User");
        if kind.eq_ignore_ascii_case("Group") {
            let name = principals
                .groups_by_id
                .get(&a.principal_id)
                .map(|g| g.display_name.clone())
                .filter(|n| {
                    !n.trim().is_empty()
                        && Guid::parse(n.trim()).is_none()
                        && principals
                            .groups_by_name
                            .get(n)
                            .is_some_and(|all| all.len() == 1)
                });
            if name.is_none() {
                warnings.push(format!(
                    "{what}: group {} ({}) is written by object id (its name is not unique or it was not found)",
                    a.principal_id,
                    a.principal_display_name.as_deref().unwrap_or("no name")
                ));
            }
            groups.insert(name.unwrap_or_else(|| a.principal_id.to_string()));
        } else if kind.eq_ignore_ascii_case("User") {
            let upn = principals
                .users_by_id
                .get(&a.principal_id)
                .map(|u| u.user_principal_name.clone())
                .filter(|u| writable_upn(u));
            if upn.is_none() {
                warnings.push(format!(
                    "{what}: user {} ({}) is written by object id",
                    a.principal_id,
                    a.principal_display_name.as_deref().unwrap_or("no name")
                ));
            }
            users.insert(upn.unwrap_or_else(|| a.principal_id.to_string()));
        } else {
            warnings.push(format!(
                "{what}: {kind} {} is assigned, which a spec cannot name; the plan will take it out of the scope",
                a.principal_id
            ));
        }
    }
    if assignments.is_empty() {
        warnings.push(format!(
            "{what}: nobody is assigned; if it syncs every user (`SyncAll`), add `allUsers: true` to its scope (Graph does not return that setting)"
        ));
    }
    scope.users = users.into_iter().collect();
    scope.groups = groups.into_iter().collect();
}

/// A user principal name the spec reads back as one (`name@domain`, no spaces).
fn writable_upn(upn: &str) -> bool {
    upn.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !upn.contains(char::is_whitespace)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::ObservedStateBuilder;
    use mtoctl_model::spec::{self, export_input, yaml};

    fn example(name: &str) -> String {
        std::fs::read_to_string(format!(
            "{}/../../examples/{name}/mto.yaml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("example spec")
    }

    /// Exports `text`'s tenants from `observed`, and checks that the result reads back as a
    /// valid spec that plans nothing against the same state.
    fn round_trip(text: &str, observed: &ObservedState) -> (Exported, String) {
        let input = export_input::load("in.yaml", text.as_bytes()).expect("valid input");
        let exported = export(&input, observed).expect("exported");
        let yaml = yaml::to_yaml(&exported.document).expect("serialisable");
        let valid = spec::load("out.yaml", yaml.as_bytes())
            .unwrap_or_else(|d| panic!("invalid export:\n{yaml}\n{:?}", d.items()));
        let plan = crate::plan(&valid.desired, observed).expect("plans");
        assert!(
            !plan.has_changes() && plan.deferred.is_empty(),
            "the export plans changes:\n{yaml}\n{:#?}",
            plan.actions
        );
        (exported, yaml)
    }

    fn converged(text: &str, edit: impl FnOnce(&mut ObservedStateBuilder<'_>)) -> ObservedState {
        let desired = spec::load("mto.yaml", text.as_bytes())
            .expect("valid example")
            .desired;
        ObservedStateBuilder::converged(&desired).with(edit).build()
    }

    #[test]
    fn the_quickstart_round_trips_compactly() {
        let text = example("quickstart");
        let observed = converged(&text, |_| {});
        let (exported, yaml) = round_trip(&text, &observed);
        assert!(exported.warnings.is_empty(), "{:?}", exported.warnings);
        let original: SpecDocument =
            serde_json::from_value(yaml::parse(&text).expect("yaml").to_json()).expect("doc");
        let doc = &exported.document;
        assert_eq!(doc.organization, original.organization);
        assert_eq!(
            doc.tenants, original.tenants,
            "credentials are kept as given"
        );
        let c = doc.collaboration.as_ref().expect("collaboration");
        assert_eq!(
            c.all_pairs,
            original
                .collaboration
                .as_ref()
                .and_then(|c| c.all_pairs.clone())
        );
        assert!(
            c.overrides.is_empty() && c.manage_templates.is_none(),
            "{yaml}"
        );
        assert_eq!(doc.sync.len(), 2);
        assert!(
            doc.sync.iter().all(|s| s.name.is_none()),
            "default names are left out"
        );
        assert_eq!(
            doc.sync[0].scope.users,
            [
                "alice@contoso.onmicrosoft.com",
                "bob@contoso.onmicrosoft.com"
            ]
        );
        assert_eq!(doc.sync[0].scope.groups, ["Contoso Sales"]);
    }

    #[test]
    fn hub_and_spoke_keeps_its_override_and_filter() {
        let text = example("hub-and-spoke");
        let observed = converged(&text, |_| {});
        let (exported, yaml) = round_trip(&text, &observed);
        let c = exported
            .document
            .collaboration
            .as_ref()
            .expect("collaboration");
        assert_eq!(c.overrides.len(), 1, "{yaml}");
        let o = &c.overrides[0];
        assert_eq!(
            (o.tenant.as_deref(), o.partner.as_deref()),
            (Some("finance"), Some("labs"))
        );
        assert_eq!(o.settings.allow_users_sync_inbound, Some(false));
        let finance = exported
            .document
            .sync
            .iter()
            .find(|s| s.from == "hq" && s.to == "finance");
        let filter = finance
            .and_then(|s| s.scope.filter.as_ref())
            .expect("a filter");
        assert_eq!(filter.any_of[0].all_of[0].operator, FilterOperator::Equals);
        let keep = exported.document.sync.iter().find(|s| s.from == "finance");
        assert_eq!(
            keep.and_then(|s| s.on_leaving_scope),
            Some(LeavingScope::Keep)
        );
    }

    #[test]
    fn settings_some_pairs_lack_are_written_per_pair() {
        let text = example("quickstart");
        let observed = converged(&text, |b| {
            // Only contoso trusts fabrikam's compliant devices; fabrikam's trust is all null.
            b.partner_mut("contoso", "fabrikam")
                .settings
                .inbound_trust
                .get_or_insert_with(Default::default)
                .compliant_device = Some(true);
            b.partner_mut("fabrikam", "contoso").settings.inbound_trust = None;
        });
        let (exported, yaml) = round_trip(&text, &observed);
        let c = exported.document.collaboration.expect("collaboration");
        let all = c.all_pairs.expect("allPairs");
        assert!(all.inbound_trust.is_none(), "{yaml}");
        assert_eq!(c.overrides.len(), 1, "{yaml}");
        assert_eq!(c.overrides[0].tenant.as_deref(), Some("contoso"));
        // Templates are compared only on what allPairs holds, and still hold it.
        assert_eq!(c.manage_templates, None, "{yaml}");
    }

    #[test]
    fn templates_that_differ_from_all_pairs_are_not_managed() {
        let text = example("quickstart");
        let observed = converged(&text, |b| {
            b.tenant_mut("fabrikam")
                .templates
                .partner
                .settings
                .automatic_user_consent_inbound = None;
        });
        let (exported, yaml) = round_trip(&text, &observed);
        let c = exported.document.collaboration.expect("collaboration");
        assert!(c.all_pairs.is_some(), "{yaml}");
        assert_eq!(c.manage_templates, Some(false), "{yaml}");
    }

    #[test]
    fn symmetric_differences_are_written_between_two_tenants() {
        let text = example("hub-and-spoke");
        let observed = converged(&text, |b| {
            for (t, p) in [("retail", "labs"), ("labs", "retail")] {
                b.partner_mut(t, p).settings.automatic_user_consent_outbound = Some(false);
            }
        });
        let (exported, yaml) = round_trip(&text, &observed);
        let c = exported.document.collaboration.expect("collaboration");
        let between: Vec<_> = c
            .overrides
            .iter()
            .filter_map(|o| o.between.clone())
            .collect();
        assert_eq!(
            between,
            [vec!["retail".to_owned(), "labs".to_owned()]],
            "{yaml}"
        );
    }

    #[test]
    fn named_configurations_need_their_target_and_keep_their_name() {
        let text = example("quickstart");
        let default = |b: &ObservedStateBuilder<'_>| default_sync_name(&b.id("fabrikam"));
        let observed = converged(&text, |b| {
            let name = default(b);
            b.sync_mut("contoso", &name).display_name = "Contoso to Fabrikam (portal)".into();
        });
        let (exported, _) = round_trip(&text, &observed);
        assert_eq!(exported.document.sync.len(), 1);
        assert!(
            exported
                .warnings
                .iter()
                .any(|w| w.contains("Contoso to Fabrikam (portal)")
                    && w.contains("name its target in the input")),
            "{:?}",
            exported.warnings
        );

        let hinted = text.replace(
            "  - from: contoso\n    to: fabrikam\n",
            "  - from: contoso\n    to: fabrikam\n    name: contoso to fabrikam (PORTAL)\n",
        );
        let (exported, yaml) = round_trip(&hinted, &observed);
        assert_eq!(exported.document.sync.len(), 2, "{yaml}");
        assert_eq!(
            exported.document.sync[0].name.as_deref(),
            Some("Contoso to Fabrikam (portal)"),
            "the name is kept as Graph has it"
        );
    }

    #[test]
    fn jobless_and_ambiguous_configurations_are_left_out() {
        let text = example("quickstart");
        let observed = converged(&text, |b| {
            let name = default_sync_name(&b.id("fabrikam"));
            if let Some(d) = b.sync_mut("contoso", &name).details.as_mut() {
                d.jobs.clear();
            }
            let name = default_sync_name(&b.id("contoso"));
            let copy = b.sync_mut("fabrikam", &name).clone();
            b.tenant_mut("fabrikam")
                .sync_configurations
                .push(SyncConfigurationObservation {
                    service_principal_id: "other".into(),
                    display_name: name.to_uppercase().replace("MTO_SYNC_", "MTO_Sync_"),
                    ..copy
                });
        });
        let input = export_input::load("in.yaml", text.as_bytes()).expect("valid input");
        let exported = export(&input, &observed).expect("exported");
        assert!(exported.document.sync.is_empty());
        let w = exported.warnings.join("\n");
        assert!(w.contains("has no synchronization job yet"), "{w}");
        assert!(w.contains("2 sync configurations named"), "{w}");
    }

    #[test]
    fn ambiguous_group_names_are_written_as_ids() {
        let text = example("quickstart");
        let observed = converged(&text, |b| {
            let p = &mut b.tenant_mut("contoso").principals;
            let twin = mtoctl_model::observed::GroupObservation {
                id: crate::testing::fake_guid("twin"),
                display_name: "Contoso Sales".into(),
            };
            p.groups_by_name
                .entry("Contoso Sales".into())
                .or_default()
                .push(twin);
        });
        let input = export_input::load("in.yaml", text.as_bytes()).expect("valid input");
        let exported = export(&input, &observed).expect("exported");
        let groups = &exported.document.sync[0].scope.groups;
        assert_eq!(groups.len(), 1);
        assert!(Guid::parse(&groups[0]).is_some(), "{groups:?}");
    }

    #[test]
    fn syncs_the_settings_refuse_are_left_out_and_the_rest_stays_valid() {
        let text = example("quickstart");
        let observed = converged(&text, |b| {
            if let Some(s) = b.partner_mut("fabrikam", "contoso").identity_sync.as_mut() {
                s.is_sync_allowed = Some(false);
            }
        });
        let (exported, _) = round_trip(&text, &observed);
        assert_eq!(exported.document.sync.len(), 1);
        assert_eq!(exported.document.sync[0].from, "fabrikam");
        assert!(exported.warnings.iter().any(|w| w.contains("cannot work")));
    }

    #[test]
    fn without_an_owner_nothing_is_exported() {
        let text = example("quickstart");
        let desired = spec::load("mto.yaml", text.as_bytes())
            .expect("valid")
            .desired;
        let observed = ObservedStateBuilder::fresh(&desired).build();
        let input = export_input::load("in.yaml", text.as_bytes()).expect("valid input");
        let err = export(&input, &observed).expect_err("no organization");
        assert!(
            err.to_string().contains("contoso: no organization"),
            "{err}"
        );
    }

    #[test]
    fn members_not_in_the_input_are_named() {
        let text = example("quickstart");
        let observed = converged(&text, |_| {});
        let only_contoso = text
            .split("\n  - alias: fabrikam")
            .next()
            .unwrap_or("")
            .to_owned();
        let input = export_input::load("in.yaml", only_contoso.as_bytes()).expect("valid input");
        let exported = export(&input, &observed).expect("exported");
        assert_eq!(exported.document.tenants.len(), 1);
        assert!(
            exported
                .warnings
                .iter()
                .any(|w| w.contains("\"Fabrikam\") is a member"))
        );
        assert!(exported.document.sync.iter().all(|s| s.to != "fabrikam"));
    }
}
