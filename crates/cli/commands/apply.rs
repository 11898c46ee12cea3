//! `mtoctl apply`: carry a plan out. `-f SPEC` plans, shows the plan and asks (on a terminal,
//! or `--auto-approve`); `apply PLANFILE` applies a saved plan after checking that nothing it
//! touches changed since. Progress is plain lines on stderr (JSON lines with `--format json`).

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use mtoctl_exec::{ApplyEvent, ApplyOptions, ApplyOutcome, ApplyReport, Observer};
use mtoctl_graph::transport::GraphClient;
use mtoctl_planner::Plan;

use crate::args::{ApplyArgs, ListFormat, PlanFormat};
use crate::output::Printer;
use crate::session::{self, LoadedSpec};

/// "Applied; waiting on Graph; run again later."
const EXIT_WAITING: u8 = 3;
/// Ctrl-C: the shell's code for a command ended by SIGINT (128 + 2).
const EXIT_INTERRUPTED: u8 = 130;
/// Rounds of plan-and-apply one `--wait` run makes at most (joins, then what they unlock).
const MAX_ROUNDS: usize = 8;

struct Channel(tokio::sync::mpsc::UnboundedSender<ApplyEvent>);

impl Observer for Channel {
    fn event(&self, event: &ApplyEvent) {
        let _ = self.0.send(event.clone());
    }
}

pub fn run(printer: &Printer, args: &ApplyArgs) -> anyhow::Result<ExitCode> {
    let wait = args
        .wait
        .as_deref()
        .map(crate::args::parse_duration)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let spec_path: PathBuf = match (&args.file, &args.plan) {
        (Some(f), _) => f.clone(),
        (None, Some(_)) => PathBuf::from("mto.yaml"),
        (None, None) => anyhow::bail!("give a spec (`-f SPEC`) or a saved plan (`apply PLANFILE`)"),
    };
    let saved = args.plan.as_deref().map(read_plan).transpose()?;
    let Some(spec) = session::load_spec(printer, &spec_path)? else {
        return Ok(ExitCode::from(1));
    };
    let options = ApplyOptions {
        allow_destroy: args.allow_destroy,
        allow_version_skew: args.allow_version_skew,
        wait,
        ..ApplyOptions::default()
    };
    let runtime = session::runtime()?;
    let result = runtime.block_on(async {
        let client = session::graph_client(printer, &spec, &args.graph).await?;
        // A missing permission would otherwise surface halfway through the apply.
        let lacking = session::preflight(printer, &client, &spec.desired).await;
        let started = Instant::now();
        let mut round = 0;
        let mut plan = match saved {
            Some(plan) => {
                mtoctl_exec::check_plan(&plan, &spec.desired, &options)?;
                check_fresh(&plan, &client, &spec).await?;
                plan
            }
            None => {
                let plan = session::live_plan(&client, &spec, "nothing was applied")
                    .await
                    .map_err(|e| lacking.explain(e))?;
                show(printer, &plan, args.format)?;
                // Before "no changes": a plan with errors is refused even when it changes
                // nothing (a misspelt name plans no removal, and is no success).
                mtoctl_exec::check_plan(&plan, &spec.desired, &options)?;
                if !plan.has_changes() {
                    return finish(printer, args.format, &plan, None);
                }
                if !args.auto_approve {
                    confirm(printer)?;
                    // Time passed while the reviewer read: refuse what changed meanwhile.
                    check_fresh(&plan, &client, &spec).await?;
                }
                plan
            }
        };
        loop {
            round += 1;
            let report = run_one(printer, args.format, &plan, &client, &options)
                .await
                .map_err(|tally| Interrupted(tally.describe(round)))?;
            let carry_on = args.plan.is_none()
                && report.outcome == ApplyOutcome::Applied
                && !plan.complete
                && round < MAX_ROUNDS
                && wait.is_some_and(|w| started.elapsed() < w);
            if !carry_on {
                return finish(printer, args.format, &plan, Some(&report));
            }
            if args.format == ListFormat::Text {
                printer.out_display(&report.text())?;
            }
            // The waits are over: plan the work they unlocked (shown as deferred before).
            printer.err("Planning the work the completed waits unlocked...\n");
            // Ctrl-C is ours since the first round began (the terminal's default no longer
            // applies), so planning the next one listens for it too.
            let next = tokio::select! {
                next = session::live_plan(&client, &spec, "nothing was applied") => next,
                () = interrupt() => Err(Interrupted(format!(
                    "while planning round {} (round {round} was applied; nothing of round {} was)",
                    round + 1,
                    round + 1
                ))
                .into()),
            }
            .map_err(|e| lacking.explain(e))?;
            show(printer, &next, args.format)?;
            let remaining = wait.map(|w| w.saturating_sub(started.elapsed()));
            let options = ApplyOptions {
                wait: remaining,
                ..options.clone()
            };
            mtoctl_exec::check_plan(&next, &spec.desired, &options)?;
            if !next.has_changes() {
                return finish(printer, args.format, &next, Some(&report));
            }
            plan = next;
        }
    });
    match result.map_err(anyhow::Error::downcast::<Interrupted>) {
        Ok(code) => Ok(code),
        Err(Ok(Interrupted(what))) => {
            printer.err(&format!(
                "\ninterrupted {what}.\nRun the same `mtoctl apply` again: it plans from what Graph holds now and finishes what was cut short (every step looks for its object before creating it, so nothing is made twice).\n"
            ));
            Ok(ExitCode::from(EXIT_INTERRUPTED))
        }
        Err(Err(error)) => Err(error),
    }
}

/// Ctrl-C during an apply: what was going on when it came.
#[derive(Debug)]
struct Interrupted(String);

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "interrupted {}", self.0)
    }
}

impl std::error::Error for Interrupted {}

/// Completes at Ctrl-C. The first call makes Ctrl-C mtoctl's to handle, so it is called only
/// once applying begins: before that (planning, the confirmation prompt) Ctrl-C ends mtoctl
/// at once, with nothing changed.
async fn interrupt() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// What an interrupted round had done, from its progress events.
#[derive(Debug, Default)]
struct Tally {
    total: usize,
    finished: usize,
    in_flight: std::collections::BTreeMap<String, String>,
}

impl Tally {
    fn note(&mut self, event: &ApplyEvent) {
        match event {
            ApplyEvent::Started {
                action,
                tenant,
                summary,
                ..
            } => {
                self.in_flight
                    .insert(action.to_string(), format!("[{tenant}] {action} {summary}"));
            }
            ApplyEvent::Finished { result } => {
                self.in_flight.remove(&result.id.to_string());
                self.finished += 1;
            }
            ApplyEvent::Polling { .. } => {}
        }
    }

    /// "while applying the plan: 12 of 40 actions finished; stopped in flight (perhaps done
    /// in Graph already): …".
    fn describe(&self, round: usize) -> String {
        let what = match round {
            1 => "the plan".to_owned(),
            n => format!("round {n}"),
        };
        let mut text = format!(
            "while applying {what}: {} of {} actions finished",
            self.finished, self.total
        );
        if !self.in_flight.is_empty() {
            const SHOWN: usize = 5;
            let mut shown: Vec<String> = self.in_flight.values().take(SHOWN).cloned().collect();
            if self.in_flight.len() > SHOWN {
                shown.push(format!("and {} more", self.in_flight.len() - SHOWN));
            }
            text.push_str(&format!(
                "; stopped in flight (perhaps done in Graph already): {}",
                shown.join(", ")
            ));
        }
        text
    }
}

/// Applies one plan, showing progress. Ctrl-C stops it: the apply is dropped, which aborts its
/// requests in flight, and what it had done comes back instead of a report.
async fn run_one(
    printer: &Printer,
    format: ListFormat,
    plan: &Plan,
    client: &GraphClient,
    options: &ApplyOptions,
) -> Result<ApplyReport, Tally> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let observer: Arc<dyn Observer> = Arc::new(Channel(tx));
    let apply = mtoctl_exec::apply(plan, client, options, observer);
    // Bars on a terminal; plain lines (or JSON events) in logs.
    let bars = (format == ListFormat::Text && std::io::stderr().is_terminal())
        .then(|| crate::progress::Bars::new(plan, indicatif::ProgressDrawTarget::stderr()));
    let progress = async {
        let mut tally = Tally {
            total: plan.actions.len(),
            ..Tally::default()
        };
        while let Some(event) = rx.recv().await {
            tally.note(&event);
            match (&bars, format) {
                (Some(bars), _) => bars.event(&event),
                (None, ListFormat::Text) => printer.err(&format!("{}\n", event.render_line())),
                (None, ListFormat::Json) => printer.err(&format!(
                    "{}\n",
                    serde_json::to_string(&event).unwrap_or_default()
                )),
            }
        }
        if let Some(bars) = &bars {
            bars.finish();
        }
        tally
    };
    let apply = async {
        tokio::select! {
            report = apply => Some(report),
            () = interrupt() => None,
        }
    };
    let (report, tally) = tokio::join!(apply, progress);
    report.ok_or(tally)
}

fn finish(
    printer: &Printer,
    format: ListFormat,
    plan: &Plan,
    report: Option<&ApplyReport>,
) -> anyhow::Result<ExitCode> {
    let Some(report) = report else {
        if format == ListFormat::Json {
            printer.out(&format!(
                "{}\n",
                serde_json::json!({"outcome": "applied", "actions": []})
            ))?;
        }
        return Ok(if plan.complete {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(EXIT_WAITING)
        });
    };
    match format {
        ListFormat::Text => printer.out_display(&report.text())?,
        ListFormat::Json => printer.out(&format!("{}\n", serde_json::to_string_pretty(report)?))?,
    }
    Ok(match report.outcome {
        ApplyOutcome::Failed => ExitCode::from(1),
        ApplyOutcome::Waiting => ExitCode::from(EXIT_WAITING),
        ApplyOutcome::Applied if !plan.complete => {
            if format == ListFormat::Text {
                printer
                    .out("Some work is deferred until Graph finishes; run apply again later.\n")?;
            }
            ExitCode::from(EXIT_WAITING)
        }
        ApplyOutcome::Applied => ExitCode::SUCCESS,
    })
}

async fn check_fresh(plan: &Plan, client: &GraphClient, spec: &LoadedSpec) -> anyhow::Result<()> {
    let stale = mtoctl_exec::stale_objects(plan, client, &spec.desired).await?;
    if !stale.is_empty() {
        return Err(mtoctl_exec::ApplyError::Stale(
            stale.iter().map(ToString::to_string).collect(),
        )
        .into());
    }
    Ok(())
}

/// The plan goes to stdout for text; with `--format json` only the report does.
fn show(printer: &Printer, plan: &Plan, format: ListFormat) -> anyhow::Result<()> {
    match format {
        ListFormat::Text => super::plan::print_plan(printer, plan, PlanFormat::Text),
        ListFormat::Json => Ok(()),
    }
}

fn confirm(printer: &Printer) -> anyhow::Result<()> {
    let stdin = std::io::stdin();
    anyhow::ensure!(
        stdin.is_terminal(),
        "not applying: there is no terminal to confirm on; review the plan and pass --auto-approve, or save it with `plan --out` and run `apply PLANFILE`"
    );
    printer.err("\nDo you want to perform these actions? Only 'yes' will be accepted: ");
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .context("cannot read the answer")?;
    anyhow::ensure!(
        answer.trim() == "yes",
        "apply cancelled; nothing was changed"
    );
    Ok(())
}

fn read_plan(path: &Path) -> anyhow::Result<Plan> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the plan `{}`", path.display()))?;
    let value: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        // `mtoctl apply spec.yaml`: the spec taken for a saved plan.
        Err(_)
            if text.contains("apiVersion: mtoctl/")
                || text.contains("kind: MultiTenantOrganization") =>
        {
            anyhow::bail!(
                "`{0}` is a spec, not a saved plan: give a spec with -f (`mtoctl apply -f {0}`)",
                path.display()
            )
        }
        Err(e) => {
            return Err(anyhow::Error::new(e)
                .context(format!("`{}` is not a plan file (JSON)", path.display())));
        }
    };
    let version = value
        .get("format_version")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("(none)");
    anyhow::ensure!(
        version == mtoctl_planner::plan::FORMAT_VERSION,
        "`{}` has plan format version {version}; this mtoctl applies only version {} plans; plan again",
        path.display(),
        mtoctl_planner::plan::FORMAT_VERSION
    );
    serde_json::from_value(value)
        .with_context(|| format!("`{}` is not a valid plan", path.display()))
}
