//! `mtoctl export -f SPEC --diff`: drift in the spec's own terms, as a unified diff of the spec
//! file against the live state, like `kubectl diff`.
//!
//! Why not a diff of a fresh export against the file: export lays a spec out its own way
//! (`allPairs` by majority, sorted scopes, defaults left out, no comments), so such a diff is
//! mostly layout. Here both sides are the spec file: on the left as it is, on the right its own
//! text edited to hold the live values (`mtoctl_planner::export::drift`), each change written
//! where the spec says it, in its order and spelling, with settings it does not manage left
//! alone. A reviewer sees exactly the drifted lines, with the file's comments as context and
//! its line numbers, and the right side is a spec that plans no changes for what it shows
//! (`patch` can apply it to adopt the drift). When the text cannot be edited in place, both
//! sides are written by one renderer instead (said on stderr), and still differ only where
//! values do.
//!
//! Then the right side is planned against a fresh read, so that drift the spec language cannot
//! show (a partner configuration deleted) is still reported, on stderr. Exit codes are those of
//! `plan --detailed-exitcode`: 0 nothing drifted, 2 drift (also when the organization is gone
//! altogether, which no diff can show), 1 errors (a failed read is an error, never drift). The
//! diff goes to stdout (or `--out`), colored per `--color` on a terminal.

use std::process::ExitCode;

use anyhow::Context;
use mtoctl_model::spec::{ValidSpec, export_input};
use mtoctl_planner::export::{Drift, ExportError};

use crate::args::ExportArgs;
use crate::commands::validate::{read_spec, render_text};
use crate::output::Printer;
use crate::session::{self, LoadedSpec};

/// Exit code when the live state drifted from the spec.
const DRIFTED: u8 = 2;

/// What the diff does not show: the live side's plan, or why it cannot be planned.
enum Unshown {
    Nothing,
    Planned(Vec<String>),
    Invalid(String),
}

pub fn run(printer: &Printer, args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let (name, bytes) = read_spec(&args.file)?;
    let desired = match mtoctl_model::spec::load(&name, &bytes) {
        Ok(ValidSpec { desired, warnings }) => {
            printer.err(&render_text(&warnings, printer.color()));
            desired
        }
        Err(diagnostics) => {
            printer.err(&render_text(&diagnostics, printer.color()));
            printer.err(&format!(
                "{name} is invalid ({} errors): `export --diff` compares the live state with a valid spec; fix it first\n",
                diagnostics.error_count()
            ));
            return Ok(ExitCode::from(1));
        }
    };
    // A valid spec is a valid export input, and is UTF-8.
    let input = export_input::load(&name, &bytes).map_err(|d| {
        anyhow::anyhow!(
            "{name} cannot be read for its tenants ({} errors; a bug in mtoctl, please report it)",
            d.error_count()
        )
    })?;
    let text = std::str::from_utf8(&bytes).context("the spec is not UTF-8")?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let spec = LoadedSpec {
        desired,
        dir: session::spec_dir(&args.file),
        path: args.file.clone(),
        ahead: None,
        known: crate::known_ids::KnownIdsFile::off(),
    };

    let runtime = session::runtime()?;
    let compared = runtime.block_on(async {
        let client = session::graph_client(printer, &spec, &args.graph).await?;
        let observed = mtoctl_graph::discover::discover(&client, &spec.desired.tenants)
            .await
            .context("cannot read the live state; nothing was compared")?;
        let drift = match mtoctl_planner::export::drift(text, &spec.desired, &input, &observed) {
            Ok(drift) => drift,
            // Read, and found missing: drift, though no spec can show it.
            Err(ExportError::NoOwner(what)) => return anyhow::Ok(Err(what)),
            Err(e) => anyhow::bail!("cannot compare: {e}"),
        };
        let unshown = unshown(&client, &spec, &drift).await?;
        anyhow::Ok(Ok((drift, unshown)))
    })?;
    let (drift, unshown) = match compared {
        Ok(compared) => compared,
        Err(what) => {
            printer.warn(&format!(
                "the organization of {name} does not exist in its tenants ({what}), which no spec can show as a diff; `mtoctl plan -f {}` shows what apply would create",
                args.file.display()
            ));
            printer.err("drift: the organization is missing\n");
            return Ok(ExitCode::from(DRIFTED));
        }
    };

    for warning in &drift.warnings {
        printer.warn(warning);
    }
    if let Some(why) = &drift.normalised {
        printer.warn(&format!(
            "{name} could not be edited in place ({why}); both sides are shown as mtoctl writes a spec, without its comments"
        ));
    }
    let left = match drift.normalised {
        Some(_) => format!("{name} (spec, as mtoctl writes it)"),
        None => format!("{name} (spec)"),
    };
    let diff = unified(&drift, &left);
    match &args.out {
        Some(path) => std::fs::write(path, &diff)
            .with_context(|| format!("cannot write the diff to `{}`", path.display()))?,
        None => printer.out(&colored(&diff, printer.color_stdout()))?,
    }

    let changed = diff
        .lines()
        .skip(2)
        .filter(|l| l.starts_with(['-', '+']))
        .count();
    match &unshown {
        Unshown::Nothing => {}
        Unshown::Planned(actions) => printer.warn(&format!(
            "the live state also differs in what a spec cannot show: planned against it, {} still has {} changes (`mtoctl plan -f {}` shows them):\n{}",
            if drift.drifted() {
                "the live side of the diff"
            } else {
                "the spec"
            },
            actions.len(),
            args.file.display(),
            actions.join("\n")
        )),
        Unshown::Invalid(findings) => {
            printer.err(findings);
            printer.warn(
                "the live state is not a valid spec (the findings above are about the `+` side of the diff): the tenants are set in a way the spec language refuses",
            );
        }
    }
    let drifted = drift.drifted() || !matches!(unshown, Unshown::Nothing);
    if drifted {
        printer.err(&format!(
            "drift: {changed} changed lines between {name} and the live state\n"
        ));
        Ok(ExitCode::from(DRIFTED))
    } else {
        printer.err(&format!("no drift: the live state matches {name}\n"));
        Ok(ExitCode::SUCCESS)
    }
}

/// Plans the live side of the diff (the spec itself when nothing drifted) against a fresh
/// read: whatever it still plans is drift the diff does not show.
async fn unshown(
    client: &mtoctl_graph::transport::GraphClient,
    spec: &LoadedSpec,
    drift: &Drift,
) -> anyhow::Result<Unshown> {
    let desired = if drift.drifted() {
        match mtoctl_model::spec::load("live state", drift.live.as_bytes()) {
            Ok(valid) => valid.desired,
            Err(diagnostics) => return Ok(Unshown::Invalid(render_text(&diagnostics, false))),
        }
    } else {
        spec.desired.clone()
    };
    let check = LoadedSpec {
        desired,
        dir: spec.dir.clone(),
        path: spec.path.clone(),
        ahead: None,
        known: crate::known_ids::KnownIdsFile::off(),
    };
    let plan = session::live_plan(
        client,
        &check,
        session::Planning::Apply,
        "the diff was not checked",
    )
    .await?;
    if !plan.has_changes() && plan.deferred.is_empty() {
        return Ok(Unshown::Nothing);
    }
    let mut actions: Vec<String> = plan
        .actions
        .iter()
        .map(|a| format!("  - {}: {}", a.addr, a.summary))
        .collect();
    actions.extend(
        plan.deferred
            .iter()
            .map(|d| format!("  - {}: {} (deferred: {})", d.addr, d.summary, d.reason)),
    );
    Ok(Unshown::Planned(actions))
}

/// The unified diff, three lines of context, empty when nothing differs.
fn unified(drift: &Drift, left: &str) -> String {
    similar::TextDiff::from_lines(&drift.spec, &drift.live)
        .unified_diff()
        .context_radius(3)
        .header(left, "live state")
        .to_string()
}

/// The diff colored as git colors one: headers bold, hunk headers cyan, removed lines red,
/// added lines green.
fn colored(diff: &str, color: bool) -> String {
    if !color {
        return diff.to_owned();
    }
    let mut out = String::with_capacity(diff.len() + diff.len() / 4);
    for (i, line) in diff.split_inclusive('\n').enumerate() {
        let (body, end) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        let style = match body.as_bytes().first() {
            _ if i < 2 && (body.starts_with("--- ") || body.starts_with("+++ ")) => "1",
            Some(b'@') => "36",
            Some(b'-') => "31",
            Some(b'+') => "32",
            _ => "",
        };
        if style.is_empty() {
            out.push_str(line);
        } else {
            out.push_str(&format!("\x1b[{style}m{body}\x1b[0m{end}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changed_lines_are_marked_and_colors_follow_the_printer() {
        let drift = Drift {
            spec: "a: 1\nb: 2\nc: 3\n".into(),
            live: "a: 1\nb: 5\nc: 3\n".into(),
            normalised: None,
            warnings: Vec::new(),
        };
        let diff = unified(&drift, "mto.yaml (spec)");
        assert_eq!(
            diff,
            "--- mto.yaml (spec)\n+++ live state\n@@ -1,3 +1,3 @@\n a: 1\n-b: 2\n+b: 5\n c: 3\n"
        );
        assert_eq!(colored(&diff, false), diff);
        let c = colored(&diff, true);
        assert!(c.contains("\x1b[31m-b: 2\x1b[0m\n"), "{c:?}");
        assert!(c.contains("\x1b[32m+b: 5\x1b[0m\n"), "{c:?}");
        assert!(c.contains("\x1b[1m--- mto.yaml (spec)\x1b[0m\n"), "{c:?}");

        let same = Drift {
            live: drift.spec.clone(),
            ..drift
        };
        assert_eq!(unified(&same, "mto.yaml (spec)"), "", "no drift, no output");
    }
}
