//! `mtoctl status -f SPEC --user UPN`: why is this person not (correctly) in the other tenant?
//! For each sync direction whose source tenant has the user: a verdict line first (in scope and
//! provisioned, out of scope and by which clause, not assigned, provisioning failed and why),
//! then the facts behind it: how they are assigned, the scoping filter clause by clause, the
//! latest provisioning events, and their copy in the target.
//!
//! `mtoctl-graph`'s `trace` reads (`mtoctl_model::trace`'s types), `mtoctl-planner`'s `trace`
//! judges; this module passes one to the other and prints. Exit 0 when the trace was made,
//! whatever it found; 1 when it could not be (a user no source tenant has, a failed read).

use std::fmt::Write as _;
use std::process::ExitCode;

use mtoctl_graph::trace as read;
use mtoctl_planner::trace::{DirectionTrace, TraceReport};

use crate::args::{ListFormat, StatusArgs};
use crate::output::{Printer, versioned_json};
use crate::session;

/// The version of the `--format json` document (docs/json-output.md).
pub const FORMAT_VERSION: &str = "1.0";

/// Events shown in the text form (the JSON has every one read).
const EVENTS_SHOWN: usize = 5;

pub fn run(printer: &Printer, args: &StatusArgs, upn: &str) -> anyhow::Result<ExitCode> {
    let runtime = session::runtime()?;
    let Some(spec) = session::load_spec_signing_in(printer, &args.file, &args.graph, &runtime)?
    else {
        return Ok(ExitCode::from(1));
    };
    let report = runtime.block_on(async {
        let (client, lacking) = session::connect(printer, &spec, &args.graph).await?;
        let observed = session::read_live(&client, &spec, &lacking).await?;
        let trace = match read::read(&client, &spec.desired, &observed, upn).await {
            Ok(trace) => trace,
            Err(e @ (read::TraceError::NotFound { .. } | read::TraceError::NoSync(_))) => {
                return Err(anyhow::Error::new(e));
            }
            Err(e) => {
                return Err(
                    lacking.explain(anyhow::Error::new(e).context(format!("cannot trace {upn}")))
                );
            }
        };
        anyhow::Ok(mtoctl_planner::trace::explain(
            &spec.desired,
            &observed,
            &trace,
        ))
    })?;
    match args.format {
        ListFormat::Text => printer.out(&render(&report))?,
        ListFormat::Json => printer.out(&versioned_json(FORMAT_VERSION, &report)?)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The text report: one block per direction, its verdict line first.
pub fn render(report: &TraceReport) -> String {
    let mut out = String::new();
    for (i, d) in report.directions.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        block(&mut out, d);
    }
    out
}

fn enabled(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "enabled",
        Some(false) => "disabled",
        None => "enabled?",
    }
}

fn block(out: &mut String, d: &DirectionTrace) {
    let _ = writeln!(out, "{} → {}: {}", d.from, d.to, d.summary);
    let line = |out: &mut String, label: &str, text: &str| {
        let _ = writeln!(out, "  {label:<13}{text}");
    };
    line(out, "sync", &d.name);
    let s = &d.source;
    let name = s
        .display_name
        .as_deref()
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    line(
        out,
        "user",
        &format!(
            "{}{name}: {}, {}",
            s.user_principal_name,
            s.user_type.as_deref().unwrap_or("user type unknown"),
            enabled(s.account_enabled)
        ),
    );
    let mut how = Vec::new();
    if d.scope.all_users {
        how.push("every user (allUsers)".to_owned());
    }
    if d.scope.direct {
        how.push("assigned directly".to_owned());
    }
    for g in &d.scope.groups {
        how.push(format!("member of assigned group {g}"));
    }
    if how.is_empty() {
        how.push("not assigned".to_owned());
    }
    for g in &d.scope.unchecked_groups {
        how.push(format!("{g} not checked (too many members)"));
    }
    line(out, "assignment", &how.join("; "));
    match &d.scope.filter {
        None => line(out, "filter", "none"),
        Some(f) => {
            for g in &f.groups {
                let verdict = match g.matches {
                    Some(true) => "matches",
                    Some(false) => "does not match",
                    None => "cannot tell",
                };
                line(out, "filter", &format!("`{}` {verdict}", g.name));
                for c in &g.clauses {
                    let mark = match c.matches {
                        Some(true) => "yes",
                        Some(false) => "no ",
                        None => "?  ",
                    };
                    let values = if c.values.is_empty() {
                        String::new()
                    } else {
                        format!(" {}", c.values.join(", "))
                    };
                    let why = c
                        .why
                        .as_deref()
                        .map(|w| format!("  ({w})"))
                        .unwrap_or_default();
                    line(
                        out,
                        "",
                        &format!("  {mark} {} {}{values}{why}", c.attribute, c.operator),
                    );
                }
            }
        }
    }
    if let Some(e) = &d.events_error {
        line(out, "events", &format!("not readable: {e}"));
    } else if d.events.is_empty() {
        line(out, "events", "none for this user");
    }
    for (i, e) in d.events.iter().take(EVENTS_SHOWN).enumerate() {
        let reason = e
            .reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        let text = format!(
            "{}  {} {}{reason}",
            e.at.as_deref().unwrap_or("(no time)"),
            e.action.as_deref().unwrap_or("?"),
            e.status.as_deref().unwrap_or("?"),
        );
        line(out, if i == 0 { "events" } else { "" }, &text);
    }
    if d.events.len() > EVENTS_SHOWN {
        line(
            out,
            "",
            &format!(
                "… {} older (see --format json)",
                d.events.len() - EVENTS_SHOWN
            ),
        );
    }
    let label = format!("in {}", d.to);
    match &d.target {
        None => line(out, &label, "no copy found"),
        Some(t) => {
            let mut facts = vec![
                t.user_type
                    .as_deref()
                    .unwrap_or("user type unknown")
                    .to_owned(),
                enabled(t.account_enabled).to_owned(),
            ];
            match t.show_in_address_list {
                Some(true) => facts.push("in the address list".into()),
                Some(false) => facts.push("hidden from the address list".into()),
                None => {}
            }
            if let Some(state) = &t.external_user_state {
                facts.push(format!("invitation {state}"));
            }
            line(
                out,
                &label,
                &format!("{}: {}", t.user_principal_name, facts.join(", ")),
            );
            let identities: Vec<String> = t
                .identities
                .iter()
                .map(|i| {
                    format!(
                        "{} {}",
                        i.sign_in_type.as_deref().unwrap_or("?"),
                        i.issuer.as_deref().unwrap_or("?")
                    )
                })
                .collect();
            if !identities.is_empty() {
                line(out, "", &format!("identities: {}", identities.join(", ")));
            }
        }
    }
    for n in &d.notes {
        line(out, "note", n);
    }
}
