//! One direction's verdict and its summary, judged in the order the module documents (not
//! configured, out of scope, not assigned, failed, provisioned, not provisioned yet), and the
//! wording of the scoping filter's part in it.

use mtoctl_model::desired::{SyncSpec, UserRef};
use mtoctl_model::observed::SyncJobObservation;

use super::{ClauseTrace, DirectionTrace, FilterGroupTrace, FilterTrace, Verdict, same_id};

pub(super) fn judge(
    sync: &SyncSpec,
    configured: bool,
    job: Option<&SyncJobObservation>,
    t: &DirectionTrace,
) -> (Verdict, String) {
    let upn = &t.source.user_principal_name;
    let (from, to) = (&t.from, &t.to);
    if !configured {
        return (
            Verdict::NotConfigured,
            format!(
                "not configured: {from} has no sync configuration `{}` yet; run `mtoctl apply`",
                sync.name
            ),
        );
    }
    let Some(job) = job else {
        return (
            Verdict::NotConfigured,
            format!(
                "not configured: the sync configuration `{}` has no job yet; run `mtoctl apply`",
                sync.name
            ),
        );
    };
    if let Some(kind) = t
        .source
        .user_type
        .as_deref()
        .filter(|k| !k.eq_ignore_ascii_case("Member"))
    {
        return (
            Verdict::OutOfScope,
            format!(
                "out of scope: {upn} is a {kind} in {from}; cross-tenant sync provisions only the tenant's own members"
            ),
        );
    }
    if upn.to_ascii_uppercase().contains("#EXT#") {
        let original = original_upn(upn)
            .map(|o| format!(" (if it is a copy synced in, trace {o})"))
            .unwrap_or_default();
        return (
            Verdict::OutOfScope,
            format!(
                "out of scope: {upn} is an external user in {from}; cross-tenant sync provisions only the tenant's own members{original}"
            ),
        );
    }
    let assigned = t.scope.all_users || t.scope.direct || !t.scope.groups.is_empty();
    if !assigned {
        if !t.scope.unchecked_groups.is_empty() {
            return (
                Verdict::Unknown,
                format!(
                    "cannot tell whether {upn} is assigned: {} {} too many members to check; {upn} is not assigned directly",
                    list(&t.scope.unchecked_groups),
                    if t.scope.unchecked_groups.len() == 1 {
                        "has"
                    } else {
                        "have"
                    }
                ),
            );
        }
        let named = sync.scope.users.iter().any(|u| match u {
            UserRef::UserPrincipalName(n) => n.eq_ignore_ascii_case(upn),
            UserRef::ObjectId(id) => same_id(id.as_str(), &t.source.id),
        });
        let summary = if named {
            format!(
                "not assigned: the spec names {upn} in the scope of {from} → {to}, but {from} has not assigned them yet; run `mtoctl apply`"
            )
        } else {
            format!(
                "not assigned: add {upn} or one of their groups to the sync's scope (`scope.users` or `scope.groups` of {from} → {to}); members of nested groups do not count"
            )
        };
        return (Verdict::NotAssigned, summary);
    }
    if let Some(filter) = t.scope.filter.as_ref().filter(|f| f.matches == Some(false)) {
        return (
            Verdict::OutOfScope,
            format!("out of scope: {}", filter_failure(filter)),
        );
    }
    if let Some(latest) = t.events.first()
        && latest
            .status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("failure"))
    {
        let reason = latest.reason.as_deref().unwrap_or("Graph gave no reason");
        let summary = match &latest.failing_step {
            Some(step) => format!("provisioning failed ({step}): {reason}"),
            None => format!("provisioning failed: {reason}"),
        };
        return (Verdict::Failed, summary);
    }
    if t.target.is_some() {
        return (Verdict::Provisioned, "in scope and provisioned".to_owned());
    }
    if job
        .status_code
        .as_deref()
        .is_some_and(|c| c.eq_ignore_ascii_case("Quarantine"))
    {
        let reason = job
            .quarantine_reason
            .as_deref()
            .unwrap_or("no reason given");
        return (
            Verdict::Failed,
            format!(
                "provisioning failed: the job is in quarantine ({reason}); `mtoctl status` says what to fix"
            ),
        );
    }
    if let Some(filter) = t.scope.filter.as_ref().filter(|f| f.matches.is_none()) {
        return (
            Verdict::Unknown,
            format!(
                "cannot tell whether {upn} is in scope: {}; no copy in {to} yet",
                filter_unknown(filter)
            ),
        );
    }
    let paused = [job.schedule_state.as_deref(), job.status_code.as_deref()]
        .into_iter()
        .flatten()
        .any(|s| s.eq_ignore_ascii_case("Paused") || s.eq_ignore_ascii_case("Disabled"));
    if paused {
        return (
            Verdict::NotProvisioned,
            format!(
                "in scope, not provisioned: the job is paused (`enabled: false`?); it provisions {upn} once started"
            ),
        );
    }
    (
        Verdict::NotProvisioned,
        format!(
            "in scope, not provisioned yet: the job's next cycle (about every 40 minutes) should create {upn} in {to}"
        ),
    )
}

/// The UPN an `#EXT#` UPN was made from: `alice_contoso.com#EXT#@fabrikam.com` is
/// `alice@contoso.com`.
pub(super) fn original_upn(upn: &str) -> Option<String> {
    let at = upn.to_ascii_uppercase().find("#EXT#")?;
    let (local, domain) = upn[..at].rsplit_once('_')?;
    (!local.is_empty() && domain.contains('.')).then(|| format!("{local}@{domain}"))
}

/// `a`, `a and b`, `a, b and c`, each in backticks.
pub(super) fn list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// Why no group of the filter matches: the first failing clause of each group.
fn filter_failure(filter: &FilterTrace) -> String {
    let failing = |g: &FilterGroupTrace| {
        g.clauses
            .iter()
            .find(|c| c.matches == Some(false))
            .map(clause_failure)
            .unwrap_or_default()
    };
    match filter.groups.as_slice() {
        [only] => format!("the scoping filter's clause {}", failing(only)),
        groups => {
            let each: Vec<String> = groups
                .iter()
                .map(|g| format!("`{}`: {}", g.name, failing(g)))
                .collect();
            format!(
                "no group of the scoping filter matches ({})",
                each.join("; ")
            )
        }
    }
}

fn clause_failure(c: &ClauseTrace) -> String {
    format!(
        "{} does not match ({})",
        clause_text(c),
        c.why.as_deref().unwrap_or("")
    )
}

/// The clauses that could not be evaluated, in words.
fn filter_unknown(filter: &FilterTrace) -> String {
    let unknown: Vec<String> = filter
        .groups
        .iter()
        .flat_map(|g| g.clauses.iter())
        .filter(|c| c.matches.is_none())
        .map(|c| {
            format!(
                "the scoping filter's clause {} ({})",
                clause_text(c),
                c.why.as_deref().unwrap_or("")
            )
        })
        .collect();
    unknown.join("; ")
}

fn clause_text(c: &ClauseTrace) -> String {
    if c.values.is_empty() {
        format!("{} {}", c.attribute, c.operator)
    } else {
        format!("{} {} {}", c.attribute, c.operator, c.values.join(", "))
    }
}
