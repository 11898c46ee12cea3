//! `mtoctl sync now -f SPEC [--user UPN …]`: provision users at once through each sync's job
//! (Graph's `provisionOnDemand`) instead of waiting up to 40 minutes for the next cycle, wait
//! (bounded) for their copies to show in the target, then judge each copy as `status` does.
//! Without `--user`, the first user in scope of each direction. `apply --verify` runs the same
//! after a successful apply.
//!
//! `mtoctl-graph`'s `verify` provisions and reads, `mtoctl-planner`'s `status` picks and
//! judges; this module joins them and prints. Exit 0 when every user provisioned passes every
//! check, 3 when a copy does not show yet, 4 when something failed, 1 when it could not be
//! done (a user no source tenant has, a failed read).

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use mtoctl_graph::transport::GraphClient;
use mtoctl_graph::verify::{self, Pick};
use mtoctl_model::DesiredState;
use mtoctl_model::health::Coverage;
use mtoctl_planner::status::{Health, SyncNowReport};

use crate::args::{ListFormat, SyncNowArgs};
use crate::output::{Printer, versioned_json};
use crate::session;

/// The version of the `--format json` document (docs/json-output.md).
pub const FORMAT_VERSION: &str = "1.0";

/// How long `apply --verify` waits for the copies to show.
pub const VERIFY_WAIT: Duration = Duration::from_secs(120);

pub fn run(printer: &Printer, args: &SyncNowArgs) -> anyhow::Result<ExitCode> {
    let runtime = session::runtime()?;
    let Some(spec) = session::load_spec_signing_in(printer, &args.file, &args.graph, &runtime)?
    else {
        return Ok(ExitCode::from(1));
    };
    let report = runtime.block_on(async {
        let (client, lacking) = session::connect(printer, &spec, &args.graph).await?;
        check(&client, &spec.desired, &args.users, args.wait)
            .await
            .map_err(|e| lacking.explain(e))
    })?;
    match args.format {
        ListFormat::Text => printer.out(&render(&report))?,
        ListFormat::Json => printer.out(&versioned_json(FORMAT_VERSION, &report)?)?,
    }
    Ok(super::status::exit_code(report.health))
}

/// Reads the live state, provisions `users` (or the first user in scope of each direction)
/// on demand, waits up to `wait` for their copies and judges them.
pub async fn check(
    client: &GraphClient,
    desired: &DesiredState,
    users: &[String],
    wait: Duration,
) -> anyhow::Result<SyncNowReport> {
    let observed = mtoctl_graph::collect::collect(client, desired)
        .await
        .context("cannot read the live state")?;
    let (picks, coverage) = if users.is_empty() {
        let sample = mtoctl_graph::health::read(client, desired, &observed, Coverage::Sample)
            .await
            .context("cannot read the users in scope")?;
        let picks = mtoctl_planner::status::first_users(desired, &sample)
            .into_iter()
            .map(|(from, to, user)| Pick {
                from,
                to,
                users: vec![user],
            })
            .collect();
        (picks, Coverage::First)
    } else {
        let (picks, missing) = verify::named_users(client, desired, &observed, users)
            .await
            .context("cannot look up the users named with --user")?;
        if !missing.is_empty() {
            let mut sources: Vec<&str> = desired.syncs.iter().map(|s| s.from.as_str()).collect();
            sources.sort_unstable();
            sources.dedup();
            anyhow::bail!(
                "no source tenant of the spec ({}) has {}: name users of a tenant whose users are synced out",
                sources.join(", "),
                missing.join(", ")
            );
        }
        (picks, Coverage::Named)
    };
    let read = verify::sync_now(client, desired, &observed, &picks, coverage, wait)
        .await
        .context("cannot provision the users on demand")?;
    Ok(mtoctl_planner::status::sync_now(
        desired, &observed, &read, users,
    ))
}

/// The text report: per direction a line, its findings, then its users as `status` shows
/// them.
pub fn render(report: &SyncNowReport) -> String {
    let mut out = String::new();
    for s in &report.syncs {
        let _ = writeln!(
            out,
            "  {} {} → {}  {}",
            super::status::mark(s.health),
            s.from,
            s.to,
            s.name
        );
        if s.users.is_empty() && s.out_of_scope.is_empty() {
            for f in &s.findings {
                let _ = writeln!(out, "            {f}");
            }
        } else {
            // The findings restate the users' verdicts, shown in full here (with what Entra
            // answered, when it matters, in each fix).
            super::status::user_lines(&mut out, &s.to, &s.user_counts, &s.users, &s.out_of_scope);
        }
    }
    for f in &report.findings {
        let _ = writeln!(out, "  BROKEN  {f}");
    }
    let _ = writeln!(
        out,
        "\n{}",
        match report.health {
            Health::Healthy => "Every user provisioned now works in the other tenant.",
            Health::Waiting =>
                "Waiting on Graph: a copy does not show yet; check with `mtoctl status --all-users` later.",
            Health::Broken => "Failed: see BROKEN above.",
        }
    );
    out
}
