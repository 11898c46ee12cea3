//! `mtoctl apply` and `mtoctl destroy`: carry a plan out. `-f SPEC` plans, shows the plan and
//! asks (on a terminal, or `--auto-approve`); `apply PLANFILE` applies a saved plan after
//! checking that nothing it touches changed since (exit 5, nothing changed, when it did).
//! `destroy` is the same run with the plans of `plan --destroy` and destruction allowed.
//! Progress is plain lines on stderr (JSON lines with `--format json`).

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use mtoctl_exec::report::REPORT_FORMAT_VERSION;
use mtoctl_exec::{
    ApplyEvent, ApplyOptions, ApplyOutcome, MAX_ROUNDS, Observer, Replan, RoundsError, RunReport,
};
use mtoctl_graph::transport::GraphClient;
use mtoctl_model::plan::{Plan, PlanMode};

use crate::args::{ApplyArgs, DestroyArgs, ListFormat, PlanFormat};
use crate::output::Printer;
use crate::session::{self, LoadedSpec, Planning};

/// "Applied; waiting on Graph; run again later."
const EXIT_WAITING: u8 = 3;
/// Ctrl-C: the shell's code for a command ended by SIGINT (128 + 2).
const EXIT_INTERRUPTED: u8 = 130;
/// The plan is out of date and nothing was changed: plan again. Its own code so that CI can
/// tell "re-plan and ask for approval" from a failure (4 is `status`'s and `doctor`'s).
const EXIT_STALE: u8 = 5;

struct Channel(tokio::sync::mpsc::UnboundedSender<ApplyEvent>);

impl Observer for Channel {
    fn event(&self, event: &ApplyEvent) {
        let _ = self.0.send(event.clone());
    }
}

pub fn run(printer: &Printer, args: &ApplyArgs) -> anyhow::Result<ExitCode> {
    execute(printer, args, Planning::Apply)
}

/// `mtoctl destroy`: apply's run, on the plans of `plan --destroy`.
pub fn run_destroy(printer: &Printer, args: DestroyArgs) -> anyhow::Result<ExitCode> {
    let planning = Planning::Destroy {
        remove_synced_users: args.remove_synced_users,
    };
    execute(printer, &args.into_apply(), planning)
}

fn execute(printer: &Printer, args: &ApplyArgs, planning: Planning) -> anyhow::Result<ExitCode> {
    let mode = planning.mode();
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
    let saved = args
        .plan
        .as_deref()
        .map(super::show::read_plan)
        .transpose()?;
    let runtime = session::runtime()?;
    let Some(spec) = session::load_spec_signing_in(printer, &spec_path, &args.graph, &runtime)?
    else {
        return Ok(ExitCode::from(1));
    };
    let options = ApplyOptions {
        allow_destroy: args.allow_destroy,
        allow_version_skew: args.allow_version_skew,
        wait,
        ..ApplyOptions::default()
    };
    let result = runtime.block_on(async {
        // A missing permission would otherwise surface halfway through the apply.
        let (client, lacking) = session::connect(printer, &spec, &args.graph).await?;
        let first = match saved {
            Some(plan) => {
                if mode == PlanMode::Destroy && plan.mode != PlanMode::Destroy {
                    anyhow::bail!(
                        "not destroying: this plan was made by `mtoctl plan`, not `mtoctl plan --destroy`; nothing was changed"
                    );
                }
                mtoctl_exec::check_plan(&plan, &spec.desired, &options)?;
                check_fresh(&plan, &client, &spec).await?;
                plan
            }
            None => {
                let plan = session::live_plan(&client, &spec, planning, "nothing was applied")
                    .await
                    .map_err(|e| lacking.explain(e))?;
                show(printer, &plan, args.format)?;
                // Before "no changes": a plan with errors is refused even when it changes
                // nothing (a misspelt name plans no removal, and is no success).
                mtoctl_exec::check_plan(&plan, &spec.desired, &options)?;
                if !plan.has_changes() {
                    let run = RunReport::nothing(plan.complete);
                    return verified(printer, args, run, &client, &spec).await;
                }
                if !args.auto_approve {
                    confirm(printer, mode)?;
                    // Time passed while the reviewer read: refuse what changed meanwhile.
                    check_fresh(&plan, &client, &spec).await?;
                }
                plan
            }
        };
        // A saved plan is the one its reviewer saw: no round after it.
        let max_rounds = if args.plan.is_some() { 1 } else { MAX_ROUNDS };
        let mut replan = LivePlan {
            printer,
            client: &client,
            spec: &spec,
            planning,
            format: args.format,
            lacking: &lacking,
        };
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let observer: Arc<dyn Observer> = Arc::new(Channel(tx));
        let run = async {
            tokio::select! {
                run = mtoctl_exec::converge(
                    first, &spec.desired, &client, &options, observer, max_rounds, &mut replan,
                ) => Some(run),
                () = interrupt() => None,
            }
        };
        let version = if args.verify {
            VERIFIED_FORMAT_VERSION
        } else {
            REPORT_FORMAT_VERSION
        };
        let (run, tally) = tokio::join!(run, progress(printer, args.format, version, rx));
        match run {
            None => Err(Interrupted(tally.describe()).into()),
            Some(Ok(run)) => {
                spec.known.learn_run(&spec.desired, &run);
                verified(printer, args, run, &client, &spec).await
            }
            Some(Err(RoundsError::Plan { round, source })) => Err(source.context(format!(
                "cannot plan round {round}; the rounds before it were applied"
            ))),
            Some(Err(RoundsError::Refused { round, source })) => Err(anyhow::Error::new(source)
                .context(format!(
                    "round {round} was planned but not applied; the rounds before it were"
                ))),
        }
    });
    session::let_runtime_go(runtime);
    match result.map_err(anyhow::Error::downcast::<Interrupted>) {
        Ok(code) => Ok(code),
        Err(Ok(Interrupted(what))) => {
            printer.err(&format!(
                "\ninterrupted {what}.\nRun the same `mtoctl apply` again: it plans from what Graph holds now and finishes what was cut short (every step looks for its object before creating it, so nothing is made twice).\n"
            ));
            Ok(ExitCode::from(EXIT_INTERRUPTED))
        }
        Err(Err(error)) if out_of_date(&error) => {
            printer.error(&error);
            Ok(ExitCode::from(EXIT_STALE))
        }
        Err(Err(error)) => Err(error),
    }
}

/// Whether the plan was refused for being out of date, which only planning again cures: what
/// it touches changed since it was planned, or a saved plan came from another spec or another
/// mtoctl version. Nothing was changed in any of these cases.
fn out_of_date(error: &anyhow::Error) -> bool {
    use mtoctl_exec::ApplyError;
    matches!(
        error.downcast_ref::<ApplyError>(),
        Some(
            ApplyError::Stale(_) | ApplyError::SpecChanged { .. } | ApplyError::VersionSkew { .. }
        )
    )
}

/// Plans each round after the first from Graph as it is now, and shows it.
struct LivePlan<'a> {
    printer: &'a Printer,
    client: &'a GraphClient,
    spec: &'a LoadedSpec,
    planning: Planning,
    format: ListFormat,
    lacking: &'a session::Lacking,
}

impl Replan for LivePlan<'_> {
    type Error = anyhow::Error;

    async fn next(&mut self, _run: &RunReport) -> anyhow::Result<Plan> {
        let next = session::live_plan(
            self.client,
            self.spec,
            self.planning,
            "nothing of this round was applied",
        )
        .await
        .map_err(|e| self.lacking.explain(e))?;
        show(self.printer, &next, self.format)?;
        Ok(next)
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

/// What an interrupted run had done, from its progress events.
#[derive(Debug, Default)]
struct Tally {
    round: u32,
    planning: bool,
    total: u64,
    finished: u64,
    in_flight: std::collections::BTreeMap<String, String>,
}

impl Tally {
    fn note(&mut self, event: &ApplyEvent) {
        match event {
            ApplyEvent::RoundStarted { round, tenants } => {
                *self = Tally {
                    round: *round,
                    total: tenants.iter().map(|t| t.actions).sum(),
                    ..Tally::default()
                };
            }
            ApplyEvent::Planning { round } => {
                self.round = *round;
                self.planning = true;
            }
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
    fn describe(&self) -> String {
        let round = self.round.max(1);
        if self.planning {
            return format!(
                "while planning round {round} (round {} was applied; nothing of round {round} was)",
                round - 1
            );
        }
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

/// An event as one line of JSON, with the version of the report's format.
#[derive(serde::Serialize)]
struct EventLine<'a> {
    format_version: &'static str,
    #[serde(flatten)]
    event: &'a ApplyEvent,
}

/// Shows a run's progress events until the run ends (its observer is dropped): bars on a
/// terminal, plain lines (or JSON lines) in logs. Returns what the run had done.
async fn progress(
    printer: &Printer,
    format: ListFormat,
    version: &'static str,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<ApplyEvent>,
) -> Tally {
    let terminal = format == ListFormat::Text && std::io::stderr().is_terminal();
    let mut bars: Option<crate::progress::Bars> = None;
    let mut tally = Tally::default();
    while let Some(event) = rx.recv().await {
        tally.note(&event);
        if let ApplyEvent::RoundStarted { tenants, .. } = &event
            && terminal
        {
            if let Some(old) = &bars {
                old.finish();
            }
            bars = Some(crate::progress::Bars::new(
                tenants,
                indicatif::ProgressDrawTarget::stderr(),
            ));
        }
        match (&bars, format) {
            (Some(bars), _) => bars.event(&event),
            // The first round's start says nothing the plan shown above did not.
            (None, ListFormat::Text)
                if matches!(event, ApplyEvent::RoundStarted { round: 1, .. }) => {}
            (None, ListFormat::Text) => printer.err(&format!("{}\n", event.render_line())),
            (None, ListFormat::Json) => printer.err(&format!(
                "{}\n",
                serde_json::to_string(&EventLine {
                    format_version: version,
                    event: &event,
                })
                .unwrap_or_default()
            )),
        }
    }
    if let Some(bars) = &bars {
        bars.finish();
    }
    tally
}

/// The version of the report and events with `--verify`: 1.1 adds the report's `verify`.
const VERIFIED_FORMAT_VERSION: &str = "1.1";

/// The report with `--verify --format json`: the run's keys and the verification.
#[derive(serde::Serialize)]
struct VerifiedRun<'a> {
    #[serde(flatten)]
    run: &'a RunReport,
    verify: &'a mtoctl_planner::status::SyncNowReport,
}

/// `finish`, then with `--verify` after a complete apply, `mtoctl sync now` for the first user
/// in scope of each sync: exit 1 if a user fails a check, 3 if a copy does not show yet.
async fn verified(
    printer: &Printer,
    args: &ApplyArgs,
    run: RunReport,
    client: &GraphClient,
    spec: &LoadedSpec,
) -> anyhow::Result<ExitCode> {
    if !args.verify || run.outcome != ApplyOutcome::Applied || !run.complete {
        if args.verify && args.format == ListFormat::Text {
            printer.err("not verifying: the apply is not complete\n");
        }
        return finish(printer, args.format, &run);
    }
    if args.format == ListFormat::Text {
        finish(printer, args.format, &run)?;
    }
    let report = super::sync::check(client, &spec.desired, &[], super::sync::VERIFY_WAIT)
        .await
        .context("the apply succeeded, but verifying it failed")?;
    match args.format {
        ListFormat::Text => printer.out(&format!(
            "\nVerification (mtoctl sync now, the first user in scope of each sync):\n{}",
            super::sync::render(&report)
        ))?,
        ListFormat::Json => {
            // Changed in place, not cloned: the run may hold 200,000 results.
            let mut run = run;
            run.format_version = VERIFIED_FORMAT_VERSION.to_owned();
            printer.out_json(&VerifiedRun {
                run: &run,
                verify: &report,
            })?;
        }
    }
    Ok(match report.health {
        mtoctl_planner::status::Health::Healthy => ExitCode::SUCCESS,
        mtoctl_planner::status::Health::Waiting => ExitCode::from(EXIT_WAITING),
        mtoctl_planner::status::Health::Broken => ExitCode::from(1),
    })
}

fn finish(printer: &Printer, format: ListFormat, run: &RunReport) -> anyhow::Result<ExitCode> {
    match format {
        ListFormat::Text if run.rounds.is_empty() => {}
        ListFormat::Text => printer.out_display(&run.text())?,
        ListFormat::Json => printer.out_json(run)?,
    }
    Ok(match run.outcome {
        ApplyOutcome::Failed => ExitCode::from(1),
        ApplyOutcome::Waiting => ExitCode::from(EXIT_WAITING),
        ApplyOutcome::Applied if !run.complete => {
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

fn confirm(printer: &Printer, mode: PlanMode) -> anyhow::Result<()> {
    let (not_doing, save, question) = match mode {
        PlanMode::Apply => (
            "not applying",
            "`plan --out` and run `apply PLANFILE`",
            "Do you want to perform these actions?",
        ),
        PlanMode::Destroy => (
            "not destroying",
            "`plan --destroy --out` and run `destroy PLANFILE`",
            "Do you really want to destroy everything this spec manages?",
        ),
    };
    let stdin = std::io::stdin();
    anyhow::ensure!(
        stdin.is_terminal(),
        "{not_doing}: there is no terminal to confirm on; review the plan and pass --auto-approve, or save it with {save}"
    );
    printer.err(&format!("\n{question} Only 'yes' will be accepted: "));
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
