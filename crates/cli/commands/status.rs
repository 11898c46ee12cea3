//! `mtoctl status -f SPEC`: does the organization really work? Per tenant its membership and
//! role; per sync direction its job's health, the users in scope and provisioned, and a few
//! provisioned users with their `#EXT#` UPN and user type. Exit 0 when everything is healthy,
//! 3 when Graph is still working on something, 4 when something is broken.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use mtoctl_planner::status::{Health, StatusReport, SyncStatus, TenantStatus};

use crate::args::{ListFormat, StatusArgs};
use crate::output::Printer;
use crate::session;

/// "Waiting on Graph; run again later" (as for `apply`).
const EXIT_WAITING: u8 = 3;
/// Something is broken.
const EXIT_BROKEN: u8 = 4;

pub fn run(printer: &Printer, args: &StatusArgs) -> anyhow::Result<ExitCode> {
    let Some(spec) = session::load_spec(printer, &args.file)? else {
        return Ok(ExitCode::from(1));
    };
    let runtime = session::runtime()?;
    let report = runtime.block_on(async {
        let client = session::graph_client(printer, &spec, &args.graph).await?;
        let lacking = session::preflight(printer, &client, &spec.desired).await;
        let observed = mtoctl_graph::collect::collect(&client, &spec.desired)
            .await
            .context("cannot read the live state")
            .map_err(|e| lacking.explain(e))?;
        let health = mtoctl_graph::health::read(&client, &spec.desired, &observed)
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
        ListFormat::Json => {
            printer.out(&format!("{}\n", serde_json::to_string_pretty(&report)?))?
        }
    }
    Ok(match report.health {
        Health::Healthy => ExitCode::SUCCESS,
        Health::Waiting => ExitCode::from(EXIT_WAITING),
        Health::Broken => ExitCode::from(EXIT_BROKEN),
    })
}

fn mark(health: Health) -> &'static str {
    match health {
        Health::Healthy => "ok     ",
        Health::Waiting => "waiting",
        Health::Broken => "BROKEN ",
    }
}

/// The text report: one line per tenant and per sync, findings and samples indented below.
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
    let mut facts = Vec::new();
    if let Some(cycle) = &s.last_cycle {
        facts.push(format!(
            "last cycle {} {}",
            cycle.ended.as_deref().unwrap_or("(running)"),
            cycle.state.as_deref().unwrap_or("")
        ));
    }
    if let Some(n) = s.in_scope {
        facts.push(format!("{n} in scope"));
    }
    if let Some(n) = s.provisioned {
        facts.push(format!("{n} provisioned in {}", s.to));
    }
    if !facts.is_empty() {
        let _ = writeln!(out, "            {}", facts.join(", "));
    }
    for f in &s.findings {
        let _ = writeln!(out, "            {f}");
    }
    if !s.samples.is_empty() || !s.not_found.is_empty() {
        // A sample, said so: the counts above are the job's, the users below a few looked up.
        let _ = writeln!(
            out,
            "            a sample of the users in scope, looked up in {}:",
            s.to
        );
    }
    for p in &s.samples {
        let _ = writeln!(
            out,
            "            {}  {}  (from {})",
            p.user_principal_name,
            p.user_type.as_deref().unwrap_or("?"),
            p.source
        );
    }
    if !s.not_found.is_empty() {
        let _ = writeln!(
            out,
            "            not (yet) in {}: {}",
            s.to,
            s.not_found.join(", ")
        );
    }
}
