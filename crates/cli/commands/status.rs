//! `mtoctl status -f SPEC`: does the organization really work? Per tenant its membership and
//! role; per sync direction its job's health and a verdict on each user checked (a sample, or
//! every user in scope with `--all-users`): its `#EXT#` copy in the target and each check,
//! failing users first; and for a direction that provisions its groups as groups, a verdict on
//! each group's copy and its members. Exit 0 when everything is healthy, 3 when Graph is still
//! working on something, 4 when something is broken.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use mtoctl_model::health::Coverage;
use mtoctl_model::ids::Alias;
use mtoctl_planner::status::{
    Check, GroupState, GroupVerdict, Health, OutOfScope, StatusReport, SyncStatus, TenantStatus,
    UserCounts, UserVerdict,
};

use crate::args::{ListFormat, StatusArgs};
use crate::output::{Printer, versioned_json};
use crate::session;

/// The version of the `--format json` report (docs/json-output.md): a minor version adds keys,
/// a major one changes or removes some.
pub const FORMAT_VERSION: &str = "1.2";

/// "Waiting on Graph; run again later" (as for `apply`).
const EXIT_WAITING: u8 = 3;
/// Something is broken.
const EXIT_BROKEN: u8 = 4;

pub fn run(printer: &Printer, args: &StatusArgs) -> anyhow::Result<ExitCode> {
    if let Some(upn) = &args.user {
        return super::trace::run(printer, args, upn);
    }
    let runtime = session::runtime()?;
    let Some(spec) = session::load_spec_signing_in(printer, &args.file, &args.graph, &runtime)?
    else {
        return Ok(ExitCode::from(1));
    };
    let report = runtime.block_on(async {
        let (client, lacking) = session::connect(printer, &spec, &args.graph).await?;
        let observed = session::read_live(&client, &spec, &lacking).await?;
        let coverage = if args.all_users {
            Coverage::All
        } else {
            Coverage::Sample
        };
        let health = mtoctl_graph::health::read(&client, &spec.desired, &observed, coverage)
            .await
            .context("cannot read the synchronization jobs' health")
            .map_err(|e| lacking.explain(e))?;
        anyhow::Ok(mtoctl_planner::status::assess(
            &spec.desired,
            &observed,
            &health,
        ))
    })?;
    match args.format {
        ListFormat::Text => printer.out(&render(&report))?,
        ListFormat::Json => printer.out(&versioned_json(FORMAT_VERSION, &report)?)?,
    }
    Ok(exit_code(report.health))
}

/// The exit code for a verdict: 0 healthy, 3 waiting, 4 broken (`status` and `sync now`).
pub fn exit_code(health: Health) -> ExitCode {
    match health {
        Health::Healthy => ExitCode::SUCCESS,
        Health::Waiting => ExitCode::from(EXIT_WAITING),
        Health::Broken => ExitCode::from(EXIT_BROKEN),
    }
}

pub fn mark(health: Health) -> &'static str {
    match health {
        Health::Healthy => "ok     ",
        Health::Waiting => "waiting",
        Health::Broken => "BROKEN ",
    }
}

/// The text report: one line per tenant and per sync, findings and users indented below.
pub fn render(report: &StatusReport) -> String {
    let mut out = String::new();
    if let Some(name) = &report.organization {
        let _ = writeln!(out, "Organization: {name}");
    }
    let _ = writeln!(out, "\nTenants:");
    let width = report
        .tenants
        .iter()
        .map(|t| t.alias.as_str().len())
        .max()
        .unwrap_or(0);
    for t in &report.tenants {
        tenant_line(&mut out, t, width);
    }
    if !report.syncs.is_empty() {
        let _ = writeln!(out, "\nSync:");
    }
    for s in &report.syncs {
        sync_lines(&mut out, s);
    }
    let _ = writeln!(
        out,
        "\n{}",
        match report.health {
            Health::Healthy => "Healthy: every tenant has joined and every sync runs.",
            Health::Waiting => "Waiting on Graph: run `mtoctl status` again later.",
            Health::Broken => "Unhealthy: see BROKEN above.",
        }
    );
    out
}

fn tenant_line(out: &mut String, t: &TenantStatus, width: usize) {
    let state = t.state.as_deref().unwrap_or("not a member");
    let role = t.role.as_deref().unwrap_or("-");
    let _ = writeln!(
        out,
        "  {} {:width$}  {state}, {role}",
        mark(t.health),
        t.alias.as_str()
    );
    for f in &t.findings {
        let _ = writeln!(out, "            {f}");
    }
}

fn sync_lines(out: &mut String, s: &SyncStatus) {
    let job = s.job_status.as_deref().unwrap_or("no job");
    let _ = writeln!(
        out,
        "  {} {} → {}  {}: {job}",
        mark(s.health),
        s.from,
        s.to,
        s.name
    );
    if let Some(cycle) = &s.last_cycle {
        // The job's counts are Entra's as of its last cycle; the users below are as they are
        // now, and their counts are the lists' own.
        let mut line = format!(
            "last cycle {} {}",
            cycle.ended.as_deref().unwrap_or("(running)"),
            cycle.state.as_deref().unwrap_or("")
        );
        let counted: Vec<String> = [
            s.in_scope.map(|n| format!("{n} in scope")),
            s.provisioned.map(|n| format!("{n} provisioned")),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !counted.is_empty() {
            line.push_str(&format!(" (Entra then counted {})", counted.join(", ")));
        }
        let _ = writeln!(out, "            {line}");
    }
    // The findings that restate users' and groups' verdicts are left to their own lines below.
    let own = s
        .findings
        .len()
        .saturating_sub(s.user_findings + s.group_findings);
    for f in &s.findings[..own] {
        let _ = writeln!(out, "            {f}");
    }
    if s.configured && s.job_status.is_some() {
        user_lines(out, &s.to, &s.user_counts, &s.users, &s.out_of_scope);
        group_lines(out, &s.to, &s.groups);
    }
}

/// The groups a direction provisions as groups: a line with their counts, then each group,
/// worst first, with its members in the target and, when it is not healthy, what people would
/// notice and what to do.
fn group_lines(out: &mut String, to: &Alias, groups: &[GroupVerdict]) {
    const INDENT: &str = "            ";
    if groups.is_empty() {
        return;
    }
    let found = groups.iter().filter(|g| g.target_id.is_some()).count();
    let failing = groups
        .iter()
        .filter(|g| g.health != Health::Healthy)
        .count();
    let _ = writeln!(
        out,
        "{INDENT}groups, provisioned as groups: {} in scope, {found} in {to}, {failing} failing",
        groups.len()
    );
    for g in groups {
        let state = match g.verdict {
            GroupState::Missing => format!("not in {to}"),
            GroupState::Ambiguous => format!(
                "{} security groups of that name in {to}",
                g.candidates.len()
            ),
            GroupState::Provisioned | GroupState::Drift => {
                format!("{} of {} members", g.members, g.expected_members)
            }
        };
        let more = if g.truncated {
            " (more members than mtoctl reads)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "{INDENT}{} {}  {state}{more}",
            mark(g.health),
            g.source
        );
        let lists = [
            ("not in the group", &g.missing_members),
            ("not provisioned yet", &g.not_provisioned),
            ("not in scope in the source", &g.extra_members),
        ];
        for (what, list) in lists {
            if !list.is_empty() {
                let _ = writeln!(out, "{INDENT}          {what}: {}", list.join(", "));
            }
        }
        if let Some(consequence) = &g.consequence {
            let _ = writeln!(out, "{INDENT}          {consequence}");
        }
        if let Some(fix) = &g.fix {
            let _ = writeln!(out, "{INDENT}          to fix: {fix}");
        }
    }
}

/// The users of a direction: a line with their counts (each the count of the lines below it),
/// then each user, worst first, a failing one with each failed check, what a person would
/// notice and what to do, then the users read that are not in scope.
pub fn user_lines(
    out: &mut String,
    to: &Alias,
    counts: &UserCounts,
    users: &[UserVerdict],
    out_of_scope: &[OutOfScope],
) {
    const INDENT: &str = "            ";
    let which = match (counts.coverage, counts.truncated) {
        (Coverage::Sample, _) => "users, a sample (--all-users checks every one)".to_owned(),
        (Coverage::All, false) => "users, all of them".to_owned(),
        (Coverage::All, true) => format!(
            "users, the first {} read (there are more; mtoctl reads at most {} per sync)",
            counts.in_scope + counts.out_of_scope,
            mtoctl_graph::health::ALL_USERS_LIMIT
        ),
        (Coverage::First | Coverage::Named, _) => "users provisioned now".to_owned(),
    };
    let _ = writeln!(
        out,
        "{INDENT}{which}: {} in scope, {} provisioned in {to}, {} failing",
        counts.in_scope, counts.provisioned, counts.failing
    );
    for u in users {
        let target = match &u.target {
            Some(t) => t.clone(),
            None => format!("(not in {to})"),
        };
        let user_type = u
            .checks
            .iter()
            .find(|c| c.check == Check::UserType)
            .and_then(|c| c.observed.as_deref())
            .map(|t| format!("  {t}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{INDENT}{} {target}{user_type}  (from {})",
            mark(u.health),
            u.source
        );
        for c in u.failed() {
            let what = match c.check {
                Check::Exists => format!("not in {to}"),
                _ => format!(
                    "{} is {}, expected {}",
                    check_name(c.check),
                    c.observed.as_deref().unwrap_or("not set"),
                    c.expected
                ),
            };
            let _ = writeln!(
                out,
                "{INDENT}          {what}: {}",
                c.consequence.as_deref().unwrap_or("")
            );
            if let Some(fix) = &c.fix {
                let _ = writeln!(out, "{INDENT}          to fix: {fix}");
            }
        }
    }
    for o in out_of_scope {
        let _ = writeln!(out, "{INDENT}not in scope: {} ({})", o.source, o.reason);
    }
}

/// A check as people call it.
fn check_name(check: Check) -> &'static str {
    match check {
        Check::Exists => "the copy",
        Check::UserType => "userType",
        Check::Identity => "its sign-in identity",
        Check::ShowInAddressList => "showInAddressList",
        Check::AccountEnabled => "accountEnabled",
        Check::UserPrincipalName => "its UPN",
    }
}
