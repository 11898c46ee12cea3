//! Sync directions: references, scopes, filters, and whether the tenants allow them.

use std::collections::HashSet;

use super::values::{guid, is_upn};
use super::{Cx, PartialDocument, TenantTable, duplicates, require_beta, resolve_alias};
use crate::desired::{
    CollaborationSpec, FilterClauseSpec, FilterGroupSpec, GroupRef, MappingSource, MappingSpec,
    PairKey, ScopeSpec, SyncSpec, UserRef, default_sync_name,
};
use crate::ids::Guid;
use crate::spec::document::{
    AttributeMapping, BetaFeature, GroupProvisioning, LeavingScope, SyncDirection, SyncScope,
    UserType, UserTypeApplies,
};
use crate::spec::node::Path;

/// Scope entries (users and groups of every sync) from which the entries are checked in two
/// halves on two threads: each entry is checked on its own, and a mesh's spec lists 190,000.
pub(super) const SPLIT_ENTRIES: usize = 20_000;

pub(super) fn check(
    cx: &mut Cx<'_>,
    doc: &PartialDocument,
    tenants: &TenantTable,
    collaboration: Option<&CollaborationSpec>,
    split_from: usize,
) -> Option<Vec<SyncSpec>> {
    let base = Path::root().key("sync");
    let mut specs = Vec::new();
    let mut complete = doc.sync.iter().all(Option::is_some);
    let entries = |range: std::ops::Range<usize>, cx: &mut Cx<'_>| {
        range
            .filter_map(|i| {
                let Some(direction) = &doc.sync[i] else {
                    // Unreadable as a whole (reported already); its references can still be
                    // checked.
                    if let Some((from, to)) = doc.sync_ends.get(i) {
                        check_ends(cx, &base.index(i), from.as_deref(), to.as_deref(), tenants);
                    }
                    return None;
                };
                Some((
                    i,
                    sync_spec(cx, doc, &base.index(i), direction, tenants, collaboration),
                ))
            })
            .collect::<Vec<_>>()
    };
    let checked = match halfway(doc, split_from) {
        None => entries(0..doc.sync.len(), cx),
        Some(mid) => {
            // The second half's findings follow the first's, as one pass would add them.
            let mut second = cx.fork();
            let (mut first, rest) = std::thread::scope(|scope| {
                let rest = std::thread::Builder::new()
                    .name("spec-check".into())
                    .spawn_scoped(scope, || entries(mid..doc.sync.len(), &mut second));
                let first = entries(0..mid, cx);
                let rest = match rest {
                    Ok(rest) => rest
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                    // No second thread to be had: the rest is checked here, after the first.
                    Err(_) => entries(mid..doc.sync.len(), cx),
                };
                (first, rest)
            });
            cx.absorb(second);
            first.extend(rest);
            first
        }
    };
    for (i, spec) in checked {
        match spec {
            Some(spec) => specs.push((i, spec)),
            None => complete = false,
        }
    }
    for ((from, to, _), indices) in duplicates(
        specs
            .iter()
            .map(|(i, s)| (*i, (s.from.clone(), s.to.clone(), s.name.to_lowercase()))),
    ) {
        complete = false;
        let first_span = cx.span(&base.index(indices[0]));
        // Named as the first entry writes it (or as its default is spelt), not lowercased.
        let name = specs
            .iter()
            .find(|(i, _)| *i == indices[0])
            .map(|(_, s)| s.name.clone())
            .unwrap_or_default();
        for i in &indices[1..] {
            cx.error(
                "spec::duplicate_sync",
                &base.index(*i),
                format!("the sync from {from} to {to} named `{name}` is declared more than once"),
                "declared again here",
            )
            .with_label(first_span, "first declared here")
            .with_help(
                "merge the scopes into one entry, or give a second configuration its own `name`",
            );
        }
    }
    complete.then(|| specs.into_iter().map(|(_, s)| s).collect())
}

/// Where to split the sync entries so that each half holds about half of their scope
/// entries; `None` when they hold fewer than `split_from`, or there is one entry.
pub(super) fn halfway(doc: &PartialDocument, split_from: usize) -> Option<usize> {
    let size = |d: &Option<SyncDirection>| {
        d.as_ref()
            .map_or(0, |d| d.scope.users.len() + d.scope.groups.len())
    };
    let total: usize = doc.sync.iter().map(size).sum();
    if doc.sync.len() < 2 || total < split_from {
        return None;
    }
    let mut seen = 0;
    let mid = doc.sync.iter().position(|d| {
        seen += size(d);
        2 * seen >= total
    })?;
    Some((mid + 1).clamp(1, doc.sync.len() - 1))
}

fn check_ends(
    cx: &mut Cx<'_>,
    path: &Path,
    from: Option<&str>,
    to: Option<&str>,
    tenants: &TenantTable,
) {
    if let Some(from) = from {
        resolve_alias(cx, tenants, &path.key("from"), from);
    }
    if let Some(to) = to {
        resolve_alias(cx, tenants, &path.key("to"), to);
    }
    if let (Some(from), Some(to)) = (from, to)
        && from == to
    {
        self_sync(cx, path, from, to);
    }
}

fn self_sync(cx: &mut Cx<'_>, path: &Path, from: &str, to: &str) {
    cx.error(
        "spec::self_sync",
        &path.key("to"),
        format!("a tenant cannot sync into itself (`{from}` → `{to}`)"),
        "same tenant as `from`",
    )
    .with_help("cross-tenant synchronization provisions users of one tenant into another");
}

fn sync_spec(
    cx: &mut Cx<'_>,
    doc: &PartialDocument,
    path: &Path,
    d: &SyncDirection,
    tenants: &TenantTable,
    collaboration: Option<&CollaborationSpec>,
) -> Option<SyncSpec> {
    let from = resolve_alias(cx, tenants, &path.key("from"), &d.from);
    let to = resolve_alias(cx, tenants, &path.key("to"), &d.to);
    // The scope and mappings are checked before anything can end this entry's checks early.
    let scope = scope(cx, &path.key("scope"), &d.scope);
    let groups_ok = group_provisioning_ok(cx, doc, &path.key("scope"), &d.scope);
    let scope = scope.filter(|_| groups_ok);
    let mappings = mappings(cx, &path.key("mappings"), &d.mappings);
    // Users are judged by the source tenant; a `from` reported already names none.
    if !cx.tainted_below(&path.key("from")) {
        check_user_domains(cx, path, d, tenants);
    }
    if d.from == d.to {
        self_sync(cx, path, &d.from, &d.to);
        return None;
    }
    let (from, to) = (from?, to?);
    let name = match &d.name {
        Some(n) if n.trim().is_empty() => {
            cx.error(
                "spec::empty",
                &path.key("name"),
                "the configuration name is empty".into(),
                "empty",
            );
            return None;
        }
        Some(n) => {
            let default = default_sync_name(&to.tenant_id);
            if let Some(id) = n.strip_prefix("MTO_Sync_")
                && !id.eq_ignore_ascii_case(to.tenant_id.0.as_str())
            {
                cx.warning(
                    "spec::sync_name",
                    &path.key("name"),
                    format!(
                        "`{n}` looks like an admin-center name, but the target's tenant id is {}",
                        to.tenant_id
                    ),
                    "not the target's id",
                )
                .with_help(format!(
                    "the Microsoft 365 admin center only recognises `{default}`"
                ));
            }
            n.clone()
        }
        None => default_sync_name(&to.tenant_id),
    };
    if let Some(collaboration) = collaboration {
        check_allowed(cx, path, collaboration, &from.alias, &to.alias);
        if d.scope.group_provisioning == Some(GroupProvisioning::GroupsAndMembers) {
            check_groups_allowed(cx, path, collaboration, &from.alias, &to.alias);
        }
    }
    Some(SyncSpec {
        from: from.alias.clone(),
        to: to.alias.clone(),
        name,
        user_type: d.user_type.unwrap_or(UserType::Member),
        user_type_applies: d.user_type_applies.unwrap_or(UserTypeApplies::Always),
        scope: scope?,
        enabled: d.enabled.unwrap_or(true),
        on_leaving_scope: d.on_leaving_scope.unwrap_or(LeavingScope::SoftDelete),
        mappings: mappings?,
        reset_mappings: d.reset_mappings.unwrap_or(false),
    })
}

/// Target attributes a mapping must not name: what `userType` and `userTypeApplies` manage, and
/// the attribute cross-tenant sync matches users by (changing it unlinks every user).
const RESERVED_TARGETS: &[(&str, &str)] = &[
    (
        "userType",
        "set it with the sync's `userType` and `userTypeApplies`",
    ),
    (
        "alternativeSecurityIds",
        "cross-tenant synchronization matches users by it (AltSecIdFromNetId); changing it unlinks every synced user",
    ),
];

fn mappings(
    cx: &mut Cx<'_>,
    path: &Path,
    given: &std::collections::BTreeMap<String, AttributeMapping>,
) -> Option<Vec<MappingSpec>> {
    let mut ok = true;
    let mut out: Vec<MappingSpec> = Vec::new();
    for (target, m) in given {
        let at = path.key(target);
        let name = target.trim();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
        {
            cx.error(
                "spec::mapping",
                &at,
                format!("`{target}` is not an attribute name"),
                "not an attribute",
            )
            .with_help("name the target attribute as Entra does, for example `companyName`");
            ok = false;
            continue;
        }
        if let Some((reserved, why)) = RESERVED_TARGETS
            .iter()
            .find(|(r, _)| r.eq_ignore_ascii_case(name))
        {
            cx.error(
                "spec::mapping",
                &at,
                format!("the `{reserved}` mapping is not set here"),
                "reserved",
            )
            .with_help((*why).to_owned());
            ok = false;
            continue;
        }
        if let Some(first) = out.iter().find(|o| o.target.eq_ignore_ascii_case(name)) {
            cx.error(
                "spec::mapping",
                &at,
                format!(
                    "`{target}` is mapped twice (attribute names ignore case: `{}`)",
                    first.target
                ),
                "mapped again",
            );
            ok = false;
            continue;
        }
        let given: Vec<(&str, &String)> = [
            ("source", m.source.as_ref()),
            ("constant", m.constant.as_ref()),
            ("expression", m.expression.as_ref()),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
        let source = match given.as_slice() {
            [("source", a)] if a.trim().is_empty() => {
                cx.error(
                    "spec::empty",
                    &at.key("source"),
                    "the source attribute is empty".into(),
                    "empty",
                );
                None
            }
            [("source", a)] => Some(MappingSource::Attribute(a.trim().to_owned())),
            [("constant", c)] => Some(MappingSource::Constant((*c).clone())),
            [(_, e)] => match crate::expression::parse(e) {
                Ok(_) => Some(MappingSource::Expression((*e).clone())),
                Err(err) => {
                    cx.error(
                        "spec::expression",
                        &at.key("expression"),
                        format!("the expression for `{target}` does not parse: {err}"),
                        "does not parse",
                    )
                    .with_help("see Entra's \"Reference for writing expressions for attribute mappings\"; function names are case-sensitive");
                    None
                }
            },
            [] => {
                cx.error(
                    "spec::mapping",
                    &at,
                    format!(
                        "the mapping of `{target}` says nothing about where its value comes from"
                    ),
                    "no source",
                )
                .with_help("give one of `source`, `constant` or `expression`");
                None
            }
            _ => {
                let keys: Vec<&str> = given.iter().map(|(k, _)| *k).collect();
                cx.error(
                    "spec::mapping",
                    &at,
                    format!(
                        "the mapping of `{target}` has {}: one source only",
                        keys.join(" and ")
                    ),
                    "more than one source",
                )
                .with_help("keep one of `source`, `constant` or `expression`");
                None
            }
        };
        let Some(source) = source else {
            ok = false;
            continue;
        };
        out.push(MappingSpec {
            target: name.to_owned(),
            source,
            applies: m.applies.unwrap_or(UserTypeApplies::Always),
            matching_precedence: m.matching_precedence,
        });
    }
    out.sort_by_key(|m| m.target.to_lowercase());
    ok.then_some(out)
}

/// The settings `tenant` holds for `partner`.
fn pair<'c>(
    c: &'c CollaborationSpec,
    tenant: &crate::ids::Alias,
    partner: &crate::ids::Alias,
) -> Option<&'c crate::spec::document::PartnerSettings> {
    c.pairs.get(&PairKey {
        tenant: tenant.clone(),
        partner: partner.clone(),
    })
}

/// The target must let the source sync in, and both must auto-redeem invitations
/// (graph reference §4.6); otherwise Graph refuses the configuration at validation time.
fn check_allowed(
    cx: &mut Cx<'_>,
    path: &Path,
    c: &CollaborationSpec,
    from: &crate::ids::Alias,
    to: &crate::ids::Alias,
) {
    let target = pair(c, to, from);
    let source = pair(c, from, to);
    let (Some(target), Some(source)) = (target, source) else {
        return;
    };
    let inbound_consent = target
        .automatic_user_consent
        .as_ref()
        .and_then(|a| a.inbound);
    let outbound_consent = source
        .automatic_user_consent
        .as_ref()
        .and_then(|a| a.outbound);
    let requirements = [
        (
            target.allow_users_sync_inbound,
            format!("{to} does not allow users to sync in from {from}"),
            format!("`allowUsersSyncInbound` must be true in {to} for {from}"),
        ),
        (
            inbound_consent,
            format!("{to} does not automatically redeem invitations from {from}"),
            format!("`automaticUserConsent.inbound` must be true in {to} for {from}"),
        ),
        (
            outbound_consent,
            format!("{from} does not automatically redeem invitations to {to}"),
            format!("`automaticUserConsent.outbound` must be true in {from} for {to}"),
        ),
    ];
    let mut unmanaged = Vec::new();
    for (value, problem, fix) in requirements {
        match value {
            Some(true) => {}
            Some(false) => {
                cx.error(
                    "spec::sync_not_allowed",
                    &path.key("to"),
                    format!("this sync cannot work: {problem}"),
                    "sync target",
                )
                .with_help(format!(
                    "{fix} (in `collaboration.allPairs` or an override)"
                ));
            }
            None => unmanaged.push(fix),
        }
    }
    if !unmanaged.is_empty() {
        cx.warning(
            "spec::sync_not_managed",
            &path.key("to"),
            format!(
                "this sync relies on settings the spec does not manage: {}",
                unmanaged.join("; ")
            ),
            "sync target",
        )
        .with_help("set them in `collaboration.allPairs` (or an override); otherwise the sync works only if the tenants already have them");
    }
}

/// `groupsAndMembers` is a beta feature, and provisions the assigned groups: it needs some, and
/// cannot go with `allUsers` (group sync works on assignments only, graph-reference §6.8).
fn group_provisioning_ok(
    cx: &mut Cx<'_>,
    doc: &PartialDocument,
    path: &Path,
    s: &SyncScope,
) -> bool {
    if s.group_provisioning != Some(GroupProvisioning::GroupsAndMembers) {
        return true;
    }
    let at = path.key("groupProvisioning");
    if !require_beta(
        cx,
        doc,
        BetaFeature::GroupSync,
        &at,
        "`groupProvisioning: groupsAndMembers`",
    ) {
        return false;
    }
    if s.all_users == Some(true) {
        cx.error(
            "spec::scope",
            &at,
            "groups are provisioned only from assignments; `allUsers: true` assigns none".into(),
            "contradicts `allUsers`",
        )
        .with_help("list the groups in `groups` instead of `allUsers: true`");
        return false;
    }
    if s.groups.is_empty() && !cx.tainted_below(path) {
        cx.error(
            "spec::scope",
            &at,
            "`groupsAndMembers` provisions the groups in `groups`, and this scope lists none"
                .into(),
            "no groups",
        )
        .with_help("list the groups to provision in `groups`, or remove `groupProvisioning`");
        return false;
    }
    true
}

/// Groups go in only where the target allows the source's groups in (the identity sync
/// policy's `groupSyncInbound`); otherwise the service skips them.
fn check_groups_allowed(
    cx: &mut Cx<'_>,
    path: &Path,
    c: &CollaborationSpec,
    from: &crate::ids::Alias,
    to: &crate::ids::Alias,
) {
    let target = pair(c, to, from);
    let at = path.key("scope").key("groupProvisioning");
    match target.and_then(|t| t.allow_groups_sync_inbound) {
        Some(true) => {}
        Some(false) => {
            cx.error(
                "spec::sync_not_allowed",
                &at,
                format!("this sync cannot provision groups: {to} does not allow groups to sync in from {from}"),
                "groups not allowed in",
            )
            .with_help(format!(
                "`allowGroupsSyncInbound` must be true in {to} for {from} (in `collaboration.allPairs` or an override)"
            ));
        }
        None => {
            cx.warning(
                "spec::sync_not_managed",
                &at,
                format!("provisioning groups relies on a setting the spec does not manage: `allowGroupsSyncInbound` in {to} for {from}"),
                "groups sync target",
            )
            .with_help("set `allowGroupsSyncInbound: true` in `collaboration.allPairs` (or an override); otherwise groups sync only if the tenant already allows it");
        }
    }
}

/// A user whose UPN carries another spec tenant's default domain belongs to that tenant and
/// cannot be synced from this one (`*.onmicrosoft.com` domains are unique to their tenant).
fn check_user_domains(cx: &mut Cx<'_>, path: &Path, d: &SyncDirection, tenants: &TenantTable) {
    // The other tenants by domain, looked up once per user: scanning them all for each of a
    // hub's 99,000 users (100 tenants) was a third of validating its spec.
    let mut others = std::collections::HashMap::new();
    for t in tenants.all().filter(|t| t.alias.as_str() != d.from) {
        if let Some(domain) = &t.domain {
            // The first tenant of a domain named twice, as a scan in spec order finds it.
            others.entry(domain.to_ascii_lowercase()).or_insert(t);
        }
    }
    if others.is_empty() {
        return;
    }
    for (i, user) in d.scope.users.iter().enumerate() {
        let Some((_, domain)) = user.trim().rsplit_once('@') else {
            continue;
        };
        if let Some(owner) = others.get(&domain.to_ascii_lowercase()) {
            cx.error(
                "spec::foreign_user",
                &path.key("scope").key("users").index(i),
                // Quoted, so that a long `from` (an alias that does not resolve) is shortened.
                format!("`{user}` is a user of `{}`, not of `{}`", owner.alias, d.from),
                "another tenant's user",
            )
            .with_help(format!(
                "only internal users of the source tenant are synced; list this user in a sync `from: {}`",
                owner.alias
            ));
        }
    }
}

fn scope(cx: &mut Cx<'_>, path: &Path, s: &SyncScope) -> Option<ScopeSpec> {
    let mut ok = true;
    let all_users = s.all_users.unwrap_or(false);
    if all_users && (!s.users.is_empty() || !s.groups.is_empty()) {
        cx.error(
            "spec::scope",
            &path.key("allUsers"),
            "`allUsers: true` syncs every user; `users` and `groups` would be ignored".into(),
            "contradicts the lists",
        )
        .with_help("remove either `allUsers` or the `users` and `groups` lists");
        ok = false;
    }
    // A list or flag reported wrong (or misspelt) reads as empty here; "nobody in scope"
    // would only echo that finding.
    if !all_users && s.users.is_empty() && s.groups.is_empty() && !cx.tainted_below(path) {
        cx.warning(
            "spec::empty_scope",
            path,
            "this sync has nobody in scope".into(),
            "empty scope",
        )
        .with_help("list users or groups, or set `allUsers: true`");
    }
    let mut users = Vec::new();
    let mut seen_users = HashSet::with_capacity(s.users.len());
    for (i, u) in s.users.iter().enumerate() {
        // Built only for a finding: a hub's spec lists 99,000 users, nearly all fine.
        let p = || path.key("users").index(i);
        let user = if u.contains('@') {
            if is_upn(u.trim()) {
                Some(UserRef::UserPrincipalName(u.trim().to_lowercase()))
            } else {
                cx.error("spec::upn", &p(), format!("`{u}` is not a valid user principal name"), "malformed UPN")
                    .with_help("write users as name@domain (for example alice@contoso.onmicrosoft.com) or by object id");
                None
            }
        } else if looks_like_guid(u) {
            guid(cx, &p(), u, "user object id").map(UserRef::ObjectId)
        } else {
            cx.error(
                "spec::upn",
                &p(),
                format!("`{u}` is neither a user principal name nor an object id"),
                "not a user reference",
            )
            .with_help("write users as name@domain or by object id (a GUID)");
            None
        };
        match user {
            Some(user) if !seen_users.insert(user.clone()) => {
                cx.warning(
                    "spec::duplicate_principal",
                    &p(),
                    format!("`{u}` is listed twice"),
                    "listed again",
                );
            }
            Some(user) => users.push(user),
            None => ok = false,
        }
    }
    let mut groups = Vec::new();
    let mut seen_groups = HashSet::with_capacity(s.groups.len());
    for (i, g) in s.groups.iter().enumerate() {
        let p = path.key("groups").index(i);
        let group = if g.trim().is_empty() {
            cx.error("spec::empty", &p, "the group name is empty".into(), "empty");
            None
        } else if looks_like_guid(g) {
            guid(cx, &p, g, "group object id").map(GroupRef::ObjectId)
        } else {
            Some(GroupRef::DisplayName(g.clone()))
        };
        match group {
            Some(group) if !seen_groups.insert(group.clone()) => {
                cx.warning(
                    "spec::duplicate_principal",
                    &p,
                    format!("`{g}` is listed twice"),
                    "listed again",
                );
            }
            Some(group) => groups.push(group),
            None => ok = false,
        }
    }
    let mut filter = Vec::new();
    if let Some(f) = &s.filter {
        let fpath = path.key("filter").key("anyOf");
        if f.any_of.is_empty() {
            cx.error(
                "spec::filter",
                &fpath,
                "the scoping filter has no clause groups".into(),
                "empty",
            )
            .with_help("remove `filter`, or add a group with `allOf` clauses");
            ok = false;
        }
        for (gi, group) in f.any_of.iter().enumerate() {
            let gpath = fpath.index(gi);
            if group.all_of.is_empty() {
                cx.error(
                    "spec::filter",
                    &gpath.key("allOf"),
                    "the clause group has no clauses".into(),
                    "empty",
                );
                ok = false;
            }
            let mut clauses = Vec::new();
            for (ci, clause) in group.all_of.iter().enumerate() {
                let cpath = gpath.key("allOf").index(ci);
                if clause.attribute.trim().is_empty() {
                    cx.error(
                        "spec::filter",
                        &cpath.key("attribute"),
                        "the attribute name is empty".into(),
                        "empty",
                    );
                    ok = false;
                }
                let op = serde_json::to_value(clause.operator).ok();
                let op = op.as_ref().and_then(|v| v.as_str()).unwrap_or("?");
                // An operator or values reported wrong leave nothing to compare.
                if cx.tainted_below(&cpath) {
                    ok = false;
                } else if clause.operator.takes_values() && clause.values.is_empty() {
                    cx.error(
                        "spec::filter",
                        &cpath.key("operator"),
                        format!("`{op}` needs at least one value"),
                        "no values",
                    )
                    .with_help("add `values: [...]`");
                    ok = false;
                } else if !clause.operator.takes_values() && !clause.values.is_empty() {
                    cx.error(
                        "spec::filter",
                        &cpath.key("values"),
                        format!("`{op}` takes no values"),
                        "not used by this operator",
                    )
                    .with_help("remove `values`");
                    ok = false;
                }
                clauses.push(FilterClauseSpec {
                    attribute: clause.attribute.clone(),
                    operator: clause.operator,
                    values: clause.values.clone(),
                });
            }
            filter.push(FilterGroupSpec {
                name: group
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("mtoctl group {}", gi + 1)),
                clauses,
            });
        }
    }
    ok.then_some(ScopeSpec {
        all_users,
        users,
        groups,
        filter,
        group_provisioning: s.group_provisioning,
    })
}

/// Strings of GUID length and alphabet are meant as ids, so a typo in one is reported as a
/// malformed id rather than taken as a group name.
fn looks_like_guid(text: &str) -> bool {
    let t = text.trim();
    (32..=38).contains(&t.len())
        && t.chars().filter(|c| *c == '-').count() >= 3
        && t.chars()
            .all(|c| c.is_ascii_hexdigit() || "-{}".contains(c))
        || Guid::parse(t).is_some()
}
