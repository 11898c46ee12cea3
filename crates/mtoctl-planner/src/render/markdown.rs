//! Markdown for pull-request comments (tfcmt/Atlantis conventions): a summary line, a
//! destruction banner when anything is destroyed or leaves a sync scope, and the plain-text
//! plan in a collapsible block, truncated with a note so the comment stays under GitHub's
//! 65,536-character limit.

use std::fmt::Write as _;

use super::text::{self, TextOptions};
use mtoctl_model::plan::{Plan, PlanMode};

/// GitHub's maximum comment body, in characters; rendered comments stay strictly below it.
pub const MAX_COMMENT_CHARS: usize = 65_535;

/// How many destructive actions the banner lists before summarising the rest.
const BANNER_ITEMS: usize = 20;

/// Renders `plan` as a pull-request comment.
pub fn render(plan: &Plan) -> String {
    render_limited(plan, MAX_COMMENT_CHARS)
}

/// Renders with an explicit size limit (in bytes, which bounds characters too).
pub fn render_limited(plan: &Plan, limit: usize) -> String {
    let mut head = String::new();
    let s = &plan.summary;
    if plan.actions.is_empty() && !plan.applyable {
        let _ = writeln!(head, "### mtoctl plan: errors, no changes planned\n");
    } else if plan.actions.is_empty() && plan.mode == PlanMode::Destroy {
        let _ = writeln!(head, "### mtoctl plan --destroy: nothing to destroy\n");
        let _ = writeln!(
            head,
            "Nothing to destroy: nothing the spec manages is left."
        );
    } else if plan.actions.is_empty() {
        let _ = writeln!(head, "### mtoctl plan: no changes\n");
        let _ = writeln!(head, "No changes. Live configuration matches the spec.");
    } else {
        let command = match plan.mode {
            PlanMode::Apply => "mtoctl plan",
            PlanMode::Destroy => "mtoctl plan --destroy",
        };
        let _ = writeln!(
            head,
            "### {command}: {} to add, {} to change, {} to destroy, {} to wait\n",
            s.create + s.replace,
            s.update,
            s.delete + s.replace,
            s.wait
        );
    }
    let destructive: Vec<_> = plan.actions.iter().filter(|a| a.destructive).collect();
    if !destructive.is_empty() {
        let _ = writeln!(head, "> [!CAUTION]");
        let _ = writeln!(
            head,
            "> **Resource deletion will happen.** {} destructive action(s):",
            destructive.len()
        );
        for a in destructive.iter().take(BANNER_ITEMS) {
            let impact = a
                .impact
                .as_ref()
                .map(|i| i.message.as_str())
                .unwrap_or(&a.summary);
            let _ = writeln!(head, "> - `{}`: {}", a.addr, escape(impact));
        }
        if destructive.len() > BANNER_ITEMS {
            let _ = writeln!(head, "> - and {} more", destructive.len() - BANNER_ITEMS);
        }
        head.push('\n');
    }
    if !plan.complete {
        let _ = writeln!(
            head,
            "> [!NOTE]\n> This plan is incomplete: {} item(s) are deferred until asynchronous Graph work completes. Plan and apply again afterwards.\n",
            plan.deferred.len()
        );
    }
    if !plan.applyable {
        // The errors themselves, not only that there are some: the plan below is collapsed.
        let _ = writeln!(head, "> [!CAUTION]\n> **This plan cannot be applied:**");
        let errors = plan
            .notes
            .iter()
            .filter(|n| n.severity == mtoctl_model::plan::Severity::Error);
        for n in errors.clone().take(BANNER_ITEMS) {
            match &n.location {
                Some(at) => {
                    let _ = writeln!(head, "> - `{at}`: {}", escape(&n.message));
                }
                None => {
                    let _ = writeln!(head, "> - {}", escape(&n.message));
                }
            }
        }
        let more = errors.count().saturating_sub(BANNER_ITEMS);
        if more > 0 {
            let _ = writeln!(head, "> - and {more} more (in the notes below)");
        }
        head.push('\n');
    }

    let body = text::render(plan, TextOptions { color: false });
    let fence = "`".repeat(longest_backtick_run(&body).max(2) + 1);
    let open = format!("<details><summary>Show plan</summary>\n\n{fence}text\n");
    let close = format!("{fence}\n\n</details>\n");
    let full = format!("{head}{open}{body}{close}");
    if full.len() < limit {
        return full;
    }
    let note = format!(
        "\n_Plan truncated: the full plan has {} characters. See the CI log, or run `mtoctl show` on the saved plan._\n",
        body.chars().count()
    );
    let budget = limit.saturating_sub(head.len() + open.len() + close.len() + note.len() + 1);
    let mut cut = budget.min(body.len());
    while cut > 0 && !body.is_char_boundary(cut) {
        cut -= 1;
    }
    // Cut at a line end so no line is shown half.
    let shown = match body[..cut].rfind('\n') {
        Some(i) => &body[..=i],
        None => "",
    };
    format!("{head}{open}{shown}{close}{note}")
}

fn longest_backtick_run(text: &str) -> usize {
    let mut best = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}

/// Keeps user-controlled text from starting Markdown or HTML constructs in the banner.
fn escape(text: &str) -> String {
    text.replace('<', "&lt;").replace('>', "&gt;")
}
