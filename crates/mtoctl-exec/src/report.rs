//! The apply report and progress events.

use mtoctl_planner::ActionId;
use mtoctl_planner::ResourceAddr;
use serde::{Deserialize, Serialize};

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
        action: ActionId,
    },
    /// An action it depends on waits on Graph; the next apply does it.
    DependencyWaiting {
        /// The waiting action.
        action: ActionId,
    },
}

/// One action's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionResult {
    /// Plan-local id.
    pub id: ActionId,
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

/// Everything an apply did, in plan order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyReport {
    /// How it ended.
    pub outcome: ApplyOutcome,
    /// Per action, in plan order.
    pub actions: Vec<ActionResult>,
}

impl ApplyReport {
    /// Counts of ok, failed, skipped and waiting actions.
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        let mut c = (0, 0, 0, 0);
        for a in &self.actions {
            match a.status {
                ActionStatus::Ok { .. } => c.0 += 1,
                ActionStatus::Failed { .. } => c.1 += 1,
                ActionStatus::Skipped { .. } => c.2 += 1,
                ActionStatus::Waiting { .. } => c.3 += 1,
            }
        }
        c
    }

    /// The result of one action.
    pub fn result(&self, id: &ActionId) -> Option<&ActionResult> {
        self.actions.iter().find(|a| &a.id == id)
    }

    /// The report for people.
    pub fn render_text(&self) -> String {
        self.text().to_string()
    }

    /// The report for people, written as it is formatted (an apply of 200,000 actions
    /// reports some 50 MB of text, which the CLI streams rather than holds).
    pub fn text(&self) -> TextReport<'_> {
        TextReport(self)
    }
}

/// [`ApplyReport::text`]: the report for people, as [`std::fmt::Display`].
pub struct TextReport<'a>(&'a ApplyReport);

impl std::fmt::Display for TextReport<'_> {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let report = self.0;
        for a in &report.actions {
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
        let (ok, failed, skipped, waiting) = report.counts();
        writeln!(
            out,
            "\nApply: {ok} done, {failed} failed, {skipped} skipped, {waiting} waiting."
        )?;
        out.write_str(match report.outcome {
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
    /// An action started.
    Started {
        /// The action.
        action: ActionId,
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
        action: ActionId,
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
