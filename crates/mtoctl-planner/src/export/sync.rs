//! The sync section: one entry per configuration the spec language can declare, with its
//! target, name, schema settings and scope.

use std::collections::{BTreeMap, BTreeSet};

use mtoctl_model::desired::{PairKey, default_sync_name};
use mtoctl_model::ids::{Alias, Guid};
use mtoctl_model::observed::{
    AssignmentObservation, PrincipalsObservation, SyncConfigurationObservation, TenantObservation,
};
use mtoctl_model::spec::document::{
    AttributeMapping, FilterClause, FilterGroup, FilterOperator, GroupProvisioning, LeavingScope,
    ScopingFilter, SyncDirection, SyncScope, UserType, UserTypeApplies,
};
use mtoctl_model::spec::export_input::{ExportInput, InputTenant};

use super::collaboration::Effective;

pub(super) fn syncs(
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
    // A target named for a configuration that does not exist is most likely a typo.
    for h in &input.sync_targets {
        let exists = obs.get(&h.from).is_some_and(|o| {
            o.sync_configurations
                .iter()
                .any(|c| c.display_name.eq_ignore_ascii_case(&h.name))
        });
        if !exists && tenants.iter().any(|t| t.spec.alias == h.from) {
            warnings.push(format!(
                "the input names the target of `{}` in {}, but {} has no sync configuration of that name",
                h.name, h.from, h.from
            ));
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
                    "sync configuration `{name}` in {from} is left out: Graph does not say which tenant it provisions into, and its name is not `MTO_Sync_<target tenant id>`; name its target in the input (`sync: [{{from: {from}, to: <alias>, name: \"{name}\"}}]`) and export again"
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
        mappings: Default::default(),
        reset_mappings: None,
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
    d.mappings = mappings(job, &what, warnings);
    // Groups provisioned as groups: the spec says so with group sync's beta opt-in, which
    // `export` adds when it writes this.
    if job.groups_provisioned == Some(true) {
        d.scope.group_provisioning = Some(GroupProvisioning::GroupsAndMembers);
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

/// The job's user mappings that differ from its template's, in the spec's terms. Those the
/// sync's own fields manage (`userType`) or that must not change (the matching anchor) are
/// left out; a template mapping the job no longer has cannot be written, and is named.
fn mappings(
    job: &mtoctl_model::observed::SyncJobObservation,
    what: &str,
    warnings: &mut Vec<String>,
) -> BTreeMap<String, AttributeMapping> {
    use mtoctl_model::desired::MappingSource;
    use mtoctl_model::plan::fingerprint::{self, MappingKey};
    let mut out = BTreeMap::new();
    if job.template_mappings.is_empty() {
        return out;
    }
    let reserved = |t: &str| {
        t.eq_ignore_ascii_case("userType") || t.eq_ignore_ascii_case("alternativeSecurityIds")
    };
    for m in job.mappings.iter().filter(|m| !reserved(&m.target)) {
        let have = MappingKey::observed(m);
        let default = job
            .template_mappings
            .iter()
            .find(|t| t.target.eq_ignore_ascii_case(&m.target))
            .map(MappingKey::observed);
        if default.as_ref() == Some(&have) {
            continue;
        }
        let mut mapping = AttributeMapping::default();
        match fingerprint::source_of(m) {
            Some(MappingSource::Attribute(a)) => mapping.source = Some(a),
            Some(MappingSource::Constant(c)) => mapping.constant = Some(c),
            Some(MappingSource::Expression(e)) if mtoctl_model::expression::parse(&e).is_ok() => {
                mapping.expression = Some(e);
            }
            _ => {
                warnings.push(format!(
                    "{what}: its mapping of `{}` cannot be written in the spec language; left out (kept as it is)",
                    m.target
                ));
                continue;
            }
        }
        if m.flow_type
            .as_deref()
            .is_some_and(|f| f.eq_ignore_ascii_case("ObjectAddOnly"))
        {
            mapping.applies = Some(UserTypeApplies::OnCreate);
        }
        if m.matching_priority != default.as_ref().and_then(|d| d.matching) {
            mapping.matching_precedence = m.matching_priority.and_then(|p| u32::try_from(p).ok());
        }
        out.insert(m.target.clone(), mapping);
    }
    for t in job
        .template_mappings
        .iter()
        .filter(|t| !reserved(&t.target))
    {
        if !job
            .mappings
            .iter()
            .any(|m| m.target.eq_ignore_ascii_case(&t.target))
        {
            warnings.push(format!(
                "{what}: the template maps `{}`, which this job no longer does; a spec cannot remove a mapping, so it is left as it is",
                t.target
            ));
        }
    }
    out
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
    assignments: &[AssignmentObservation],
    what: &str,
    warnings: &mut Vec<String>,
) {
    let principals = &source.principals;
    let mut users = BTreeSet::new();
    let mut groups = BTreeSet::new();
    for a in assignments {
        match principal(a, principals) {
            Principal::Group(name) => {
                let name = name.filter(|n| {
                    !n.trim().is_empty()
                        && Guid::parse(n.trim()).is_none()
                        && principals
                            .groups_by_name
                            .get(*n)
                            .is_some_and(|all| all.len() == 1)
                });
                if name.is_none() {
                    warnings.push(format!(
                        "{what}: group {} ({}) is written by object id (its name is not unique or it was not found)",
                        a.principal_id,
                        a.principal_display_name.as_deref().unwrap_or("no name")
                    ));
                }
                groups.insert(name.map_or_else(|| a.principal_id.to_string(), str::to_owned));
            }
            Principal::User(upn) => {
                let upn = upn.filter(|u| writable_upn(u));
                if upn.is_none() {
                    warnings.push(format!(
                        "{what}: user {} ({}) is written by object id",
                        a.principal_id,
                        a.principal_display_name.as_deref().unwrap_or("no name")
                    ));
                }
                users.insert(upn.map_or_else(|| a.principal_id.to_string(), str::to_owned));
            }
            Principal::Other(kind) => warnings.push(format!(
                "{what}: {kind} {} is assigned, which a spec cannot name; the plan will take it out of the scope",
                a.principal_id
            )),
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

/// What an app role assignment assigns, as a spec's scope names it.
pub(super) enum Principal<'p, 'k> {
    /// A user, with its UPN when the directory read has it.
    User(Option<&'p str>),
    /// A group, with its display name when the directory read has it.
    Group(Option<&'p str>),
    /// Anything else (a service principal): its `principalType`.
    Other(&'k str),
}

/// Reads the assignment `a` against the source tenant's `principals` (no `principalType`
/// means a user, as Graph's older answers do).
pub(super) fn principal<'p, 'k>(
    a: &'k AssignmentObservation,
    principals: &'p PrincipalsObservation,
) -> Principal<'p, 'k> {
    let kind = a.principal_type.as_deref().unwrap_or("User");
    if kind.eq_ignore_ascii_case("Group") {
        Principal::Group(
            principals
                .groups_by_id
                .get(&a.principal_id)
                .map(|g| g.display_name.as_str()),
        )
    } else if kind.eq_ignore_ascii_case("User") {
        Principal::User(
            principals
                .users_by_id
                .get(&a.principal_id)
                .map(|u| u.user_principal_name.as_str()),
        )
    } else {
        Principal::Other(kind)
    }
}

/// A user principal name the spec reads back as one (`name@domain`, no spaces).
fn writable_upn(upn: &str) -> bool {
    upn.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !upn.contains(char::is_whitespace)
    })
}
