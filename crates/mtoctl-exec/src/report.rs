//! The apply report and progress events.
//!
//! An apply with `--wait` runs in rounds, each a plan of its own with ids from `a001`; results
//! and events name actions by [`RunActionId`], which adds the round, so ids are unique within
//! a run.

use mtoctl_model::plan::ActionId;
use mtoctl_model::plan::ResourceAddr;
use serde::{Deserialize, Serialize};

/// The version of the JSON of [`RunReport`] and of [`ApplyEvent`] lines.
pub const REPORT_FORMAT_VERSION: &str = "1.0";

/// An action of one round of a run: `a001` in the first round, `r2.a001` in the second.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RunActionId {
    /// The round, from 1.
    pub round: u32,
    /// The action's id in that round's plan.
    pub action: ActionId,
}

impl RunActionId {
    /// The first round's action.
    pub fn first(action: ActionId) -> Self {
        Self { round: 1, action }
    }

    /// Reads `a001` or `r2.a001`.
    pub fn parse(text: &str) -> Option<Self> {
        let Some(rest) = text.strip_prefix('r') else {
            return ActionId::parse(text).map(Self::first);
        };
        let (round, action) = rest.split_once('.')?;
        let round: u32 = round.parse().ok().filter(|r| *r >= 2)?;
        let id = Self {
            round,
            action: ActionId::parse(action)?,
        };
        (id.to_string() == text).then_some(id)
    }
}

impl std::fmt::Display for RunActionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.round {
            1 => write!(f, "{}", self.action),
            n => write!(f, "r{n}.{}", self.action),
        }
    }
}

impl std::fmt::Debug for RunActionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RunActionId({self})")
    }
}

impl Serialize for RunActionId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RunActionId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format_args!(
                "action id {text:?} is not of the form a001 or r2.a001"
            ))
        })
    }
}

/// Ids an action created or adopted, for later actions' symbolic references.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Created {
    /// The object's id (service principal, job, assignment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// For sync configurations: the id of the app role for users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_role_id: Option<String>,
    /// Whether an existing object was found and adopted instead of creating one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub adopted: bool,
}

/// What happened to one action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ActionStatus {
    /// Done (or found already done).
    Ok {
        /// Ids created or adopted.
        created: Created,
    },
    /// Graph refused or the precondition did not hold.
    Failed {
        /// Why.
        error: String,
    },
    /// Not attempted.
    Skipped {
        /// Why.
        reason: SkipReason,
    },
    /// Asynchronous Graph work is still running (a wait that was not waited out).
    Waiting {
        /// What is awaited.
        message: String,
    },
}

/// Why an action was not attempted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum SkipReason {
    /// An action it depends on (transitively) failed.
    DependencyFailed {
        /// The failed action.
        action: RunActionId,
    },
    /// An action it depends on waits on Graph; the next apply does it.
    DependencyWaiting {
        /// The waiting action.
        action: RunActionId,
    },
}

/// One action's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionResult {
    /// The action, with its round.
    pub id: RunActionId,
    /// The round it ran in, from 1.
    pub round: u32,
    /// The object.
    pub addr: ResourceAddr,
    /// Acting tenant alias.
    pub tenant: String,
    /// One line for people (from the plan).
    pub summary: String,
    /// What happened.
    #[serde(flatten)]
    pub status: ActionStatus,
}

/// How an apply ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplyOutcome {
    /// Every action succeeded.
    Applied,
    /// Every attempted action succeeded, but Graph is still working on something; run again
    /// later.
    Waiting,
    /// At least one action failed.
    Failed,
}

/// Everything one round's apply did, in plan order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyReport {
    /// The round, from 1.
    pub round: u32,
    /// How it ended.
    pub outcome: ApplyOutcome,
    /// Per action, in plan order.
    pub actions: Vec<ActionResult>,
}

/// How one round of a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundSummary {
    /// The round, from 1.
    pub round: u32,
    /// How its apply ended.
    pub outcome: ApplyOutcome,
    /// Whether its plan left nothing deferred.
    pub plan_complete: bool,
    /// Its actions.
    pub actions: usize,
}

/// Everything a run did: every round, every action (`apply --format json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunReport {
    /// Always [`REPORT_FORMAT_VERSION`].
    pub format_version: String,
    /// How the last round ended.
    pub outcome: ApplyOutcome,
    /// Whether nothing is left for a later run (the last plan was complete and applied).
    pub complete: bool,
    /// Each round.
    pub rounds: Vec<RoundSummary>,
    /// Every action of every round, round by round in plan order.
    pub actions: Vec<ActionResult>,
}

impl RunReport {
    /// A run of no round: the plan changed nothing.
    pub fn nothing(complete: bool) -> Self {
        Self {
            format_version: REPORT_FORMAT_VERSION.to_owned(),
            outcome: ApplyOutcome::Applied,
            complete,
            rounds: Vec::new(),
            actions: Vec::new(),
        }
    }

    /// Adds a round that applied a plan (`plan_complete`: nothing was deferred in it).
    pub fn push(&mut self, report: ApplyReport, plan_complete: bool) {
        let actions = report.actions.len();
        self.actions.extend(report.actions);
        self.end_round(report.round, report.outcome, plan_complete, actions);
    }

    /// Records how a round ended whose `actions` results were appended to [`Self::actions`].
    pub(crate) fn end_round(
        &mut self,
        round: u32,
        outcome: ApplyOutcome,
        plan_complete: bool,
        actions: usize,
    ) {
        self.rounds.push(RoundSummary {
            round,
            outcome,
            plan_complete,
            actions,
        });
        self.outcome = outcome;
        self.complete = plan_complete && outcome == ApplyOutcome::Applied;
    }
}

impl ApplyReport {
    /// The result of one action.
    pub fn result(&self, id: &ActionId) -> Option<&ActionResult> {
        self.actions.iter().find(|a| &a.id.action == id)
    }

    /// The report for people.
    pub fn render_text(&self) -> String {
        self.text().to_string()
    }

    /// The report for people, written as it is formatted (an apply of 200,000 actions
    /// reports some 50 MB of text, which the CLI streams rather than holds).
    pub fn text(&self) -> TextReport<'_> {
        TextReport {
            actions: &self.actions,
            outcome: self.outcome,
            rounds: 1,
        }
    }
}

impl RunReport {
    /// The report for people, every round's actions, written as it is formatted.
    pub fn text(&self) -> TextReport<'_> {
        TextReport {
            actions: &self.actions,
            outcome: self.outcome,
            rounds: self.rounds.len(),
        }
    }
}

/// Counts of ok, failed, skipped and waiting actions.
fn counts(actions: &[ActionResult]) -> (usize, usize, usize, usize) {
    let mut c = (0, 0, 0, 0);
    for a in actions {
        match a.status {
            ActionStatus::Ok { .. } => c.0 += 1,
            ActionStatus::Failed { .. } => c.1 += 1,
            ActionStatus::Skipped { .. } => c.2 += 1,
            ActionStatus::Waiting { .. } => c.3 += 1,
        }
    }
    c
}

/// The report for people, as [`std::fmt::Display`].
pub struct TextReport<'a> {
    actions: &'a [ActionResult],
    outcome: ApplyOutcome,
    rounds: usize,
}

impl std::fmt::Display for TextReport<'_> {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for a in self.actions {
            match &a.status {
                ActionStatus::Ok { created } => {
                    write!(out, "ok       {} {}: {}", a.id, a.addr, a.summary)?;
                    if created.adopted {
                        out.write_str(" (found existing)")?;
                    }
                }
                ActionStatus::Failed { error } => write!(
                    out,
                    "FAILED   {} {}: {}\n         {error}",
                    a.id, a.addr, a.summary
                )?,
                ActionStatus::Skipped { reason } => {
                    let why = match reason {
                        SkipReason::DependencyFailed { action } => {
                            format!("{action} failed")
                        }
                        SkipReason::DependencyWaiting { action } => {
                            format!("{action} waits on Graph")
                        }
                    };
                    write!(out, "skipped  {} {}: {} ({why})", a.id, a.addr, a.summary)?;
                }
                ActionStatus::Waiting { message } => {
                    write!(out, "waiting  {} {}: {message}", a.id, a.addr)?
                }
            }
            out.write_str("\n")?;
        }
        let (ok, failed, skipped, waiting) = counts(self.actions);
        let rounds = match self.rounds {
            0 | 1 => String::new(),
            n => format!(" in {n} rounds"),
        };
        writeln!(
            out,
            "\nApply{rounds}: {ok} done, {failed} failed, {skipped} skipped, {waiting} waiting."
        )?;
        out.write_str(match self.outcome {
            ApplyOutcome::Applied => "Apply complete.\n",
            ApplyOutcome::Waiting => {
                "Applied; waiting on Graph; run again later (or use --wait DURATION).\n"
            }
            ApplyOutcome::Failed => "Apply failed: see the failed actions above.\n",
        })
    }
}

/// A progress event (one JSON object per line with `--format json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ApplyEvent {
    /// A round's apply begins.
    RoundStarted {
        /// The round, from 1.
        round: u32,
        /// Each tenant with actions in it, in the plan's tenant order.
        tenants: Vec<TenantActions>,
    },
    /// The waits of the last round ended and the work they unlocked is being planned.
    Planning {
        /// The round being planned.
        round: u32,
    },
    /// An action started.
    Started {
        /// The action.
        action: RunActionId,
        /// Its object.
        addr: ResourceAddr,
        /// Acting tenant.
        tenant: String,
        /// One line for people.
        summary: String,
    },
    /// A wait polled and is still pending.
    Polling {
        /// The action.
        action: RunActionId,
        /// What is awaited.
        message: String,
    },
    /// An action finished (ok, failed, skipped or waiting).
    Finished {
        /// Its result.
        result: ActionResult,
    },
}

impl ApplyEvent {
    /// One plain line for people.
    pub fn render_line(&self) -> String {
        match self {
            ApplyEvent::RoundStarted { round, tenants } => {
                let actions: u64 = tenants.iter().map(|t| t.actions).sum();
                format!("Round {round}: {actions} actions.")
            }
            ApplyEvent::Planning { round } => {
                format!("Planning round {round}: the work the completed waits unlocked...")
            }
            ApplyEvent::Started {
                action,
                addr,
                tenant,
                summary,
            } => format!("[{tenant}] {action} {addr}: {summary}..."),
            ApplyEvent::Polling { action, message } => format!("{action}: still {message}"),
            ApplyEvent::Finished { result } => {
                let status = match &result.status {
                    ActionStatus::Ok { .. } => "done".to_owned(),
                    ActionStatus::Failed { error } => format!("failed: {error}"),
                    ActionStatus::Skipped { .. } => "skipped".to_owned(),
                    ActionStatus::Waiting { message } => format!("waiting: {message}"),
                };
                format!(
                    "[{}] {} {}: {status}",
                    result.tenant, result.id, result.addr
                )
            }
        }
    }
}

/// A tenant's share of a round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantActions {
    /// The tenant's alias.
    pub alias: String,
    /// Its actions in the round.
    pub actions: u64,
}

/// Receives progress events while an apply runs.
pub trait Observer: Send + Sync {
    /// Called for every event, from any task.
    fn event(&self, event: &ApplyEvent);
}

/// An observer that drops every event.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Observer for Silent {
    fn event(&self, _: &ApplyEvent) {}
}
