//! `mtoctl doctor -f SPEC`: before the first apply, is each tenant ready for the spec? Read-only
//! (its one POST, `validateCredentials`, changes nothing): per tenant, the sign-in, the token's
//! permissions, the licence, the organization the tenant may already belong to, the default
//! cross-tenant access settings, and the credentials of existing sync configurations, each with
//! a verdict and what to do. Exit 0 ready, 3 fixable before apply, 4 blocked, 1 when a read
//! failed.

use std::fmt::Write as _;
use std::process::ExitCode;

use mtoctl_planner::doctor::{Check, DoctorReport, Verdict};

use crate::args::{DoctorArgs, ListFormat};
use crate::output::{Printer, versioned_json};
use crate::session;

/// The version of the `--format json` report (docs/json-output.md): a minor version adds keys,
/// a major one changes or removes some.
pub const FORMAT_VERSION: &str = "1.0";

/// Something to fix before apply.
const EXIT_FIXABLE: u8 = 3;
/// Something apply cannot get past.
const EXIT_BLOCKED: u8 = 4;

pub fn run(printer: &Printer, args: &DoctorArgs) -> anyhow::Result<ExitCode> {
    let runtime = session::runtime()?;
    let Some(spec) = session::load_spec_signing_in(printer, &args.file, &args.graph, &runtime)?
    else {
        return Ok(ExitCode::from(1));
    };
    let report = runtime.block_on(async {
        // A tenant whose credential cannot be made fails its sign-in check; the others are
        // checked all the same.
        let (client, unmade) = session::graph_client_of_some(printer, &spec, &args.graph).await?;
        let mut readings = mtoctl_graph::doctor::read(&client, &spec.desired).await;
        for (alias, why) in unmade {
            if let Some(r) = readings.iter_mut().find(|r| r.alias.as_str() == alias) {
                r.sign_in = mtoctl_model::doctor::Read::Failed(why);
            }
        }
        anyhow::Ok(mtoctl_planner::doctor::diagnose(&spec.desired, &readings))
    })?;
    match args.format {
        ListFormat::Text => printer.out(&render(&report))?,
        ListFormat::Json => printer.out(&versioned_json(FORMAT_VERSION, &report)?)?,
    }
    Ok(exit_code(&report))
}

fn exit_code(report: &DoctorReport) -> ExitCode {
    if report.errored {
        return ExitCode::from(1);
    }
    match report.verdict {
        Verdict::Ok | Verdict::Skipped => ExitCode::SUCCESS,
        Verdict::Fixable => ExitCode::from(EXIT_FIXABLE),
        Verdict::Blocked => ExitCode::from(EXIT_BLOCKED),
    }
}

fn mark(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Ok => "ok      ",
        Verdict::Skipped => "skipped ",
        Verdict::Fixable => "FIXABLE ",
        Verdict::Blocked => "BLOCKED ",
    }
}

/// One block per tenant, a verdict line per check, what to do indented below it.
pub fn render(report: &DoctorReport) -> String {
    let mut out = String::new();
    let width = report
        .tenants
        .iter()
        .flat_map(|t| t.checks.iter().map(|c| c.check.len()))
        .max()
        .unwrap_or(0);
    for t in &report.tenants {
        let _ = writeln!(
            out,
            "tenant {} ({}): {}",
            t.alias,
            t.tenant_id,
            match t.verdict {
                Verdict::Ok | Verdict::Skipped => "ready",
                Verdict::Fixable => "fixable before apply",
                Verdict::Blocked => "blocked",
            }
        );
        for c in &t.checks {
            check_lines(&mut out, c, width);
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "{}",
        match report.verdict {
            _ if report.errored => "A read failed (see above): run `mtoctl doctor` again.",
            Verdict::Ok | Verdict::Skipped => "Ready: run `mtoctl plan`, then `mtoctl apply`.",
            Verdict::Fixable => "Fix what FIXABLE says above before `mtoctl apply`.",
            Verdict::Blocked =>
                "Blocked: apply cannot succeed until what BLOCKED says is resolved.",
        }
    );
    out
}

fn check_lines(out: &mut String, c: &Check, width: usize) {
    let _ = writeln!(
        out,
        "  {} {:width$}  {}",
        mark(c.verdict),
        c.check,
        c.summary
    );
    let indent = " ".repeat(4 + 8 + width + 1);
    if let Some(fix) = &c.fix {
        let _ = writeln!(out, "{indent}fix: {fix}");
    }
    for note in &c.notes {
        let _ = writeln!(out, "{indent}note: {note}");
    }
}
