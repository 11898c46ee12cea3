//! Terraform-style text: `+ ~ - -/+` symbols, per-tenant groups, numbered steps.
//!
//! Actions are grouped by the tenant whose credential performs them; each carries its step
//! number in the plan's execution order, and a closing list gives the cross-tenant order when
//! more than one tenant acts. Output makes sense without colour; colour is chosen by the caller
//! (the CLI honours `NO_COLOR` and `--color`), never detected here.

use std::collections::BTreeMap;
use std::fmt;

use mtoctl_model::plan::Severity;
use mtoctl_model::plan::{Action, ActionId, ActionKind, Plan, PlanMode};

/// How to render.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextOptions {
    /// Emit ANSI colour codes.
    pub color: bool,
}

/// A plan rendered as text; implements [`fmt::Display`].
pub struct PlanDisplay<'a> {
    plan: &'a Plan,
    options: TextOptions,
}

/// Wraps a plan for display.
pub fn display(plan: &Plan, options: TextOptions) -> PlanDisplay<'_> {
    PlanDisplay { plan, options }
}

impl fmt::Display for PlanDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write(f, self.plan, self.options)
    }
}

struct Paint {
    on: bool,
}

impl Paint {
    fn code(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\u{1b}[{code}m{text}\u{1b}[0m")
        } else {
            text.to_owned()
        }
    }
    fn bold(&self, text: &str) -> String {
        self.code("1", text)
    }
    fn symbol(&self, kind: ActionKind) -> String {
        let (sym, code) = symbol(kind);
        self.code(code, sym)
    }
    fn sym(&self, sym: &str) -> String {
        let code = match sym {
            "+" => "32",
            "-" => "31",
            _ => "33",
        };
        self.code(code, sym)
    }
}

/// The Terraform symbol of a kind and its colour.
pub(crate) fn symbol(kind: ActionKind) -> (&'static str, &'static str) {
    match kind {
        ActionKind::Create => ("+", "32"),
        ActionKind::Update | ActionKind::Start | ActionKind::Stop | ActionKind::Join => ("~", "33"),
        ActionKind::Delete => ("-", "31"),
        ActionKind::Replace => ("-/+", "31"),
        ActionKind::Wait | ActionKind::Check => ("<=", "36"),
    }
}

fn phrase(kind: ActionKind) -> &'static str {
    match kind {
        ActionKind::Create => "will be created",
        ActionKind::Update => "will be updated in-place",
        ActionKind::Delete => "will be destroyed",
        ActionKind::Replace => "will be replaced",
        ActionKind::Wait => "will be waited for",
        ActionKind::Start => "will be started",
        ActionKind::Stop => "will be paused",
        ActionKind::Join => "will be submitted",
        ActionKind::Check => "will be checked",
    }
}

/// The address without its `tenant.<alias>.` prefix (the group header names the tenant).
fn local_name(action: &Action) -> &str {
    let prefix = format!("tenant.{}.", action.tenant);
    action
        .addr
        .as_str()
        .strip_prefix(prefix.as_str())
        .unwrap_or(action.addr.as_str())
}

fn hours(seconds: u64) -> String {
    if seconds.is_multiple_of(3600) {
        format!("{}h", seconds / 3600)
    } else {
        format!("{}m", seconds.div_ceil(60))
    }
}

/// Renders the whole plan.
pub fn render(plan: &Plan, options: TextOptions) -> String {
    display(plan, options).to_string()
}

/// Writes the whole plan to `out` as it goes: a plan of 200,000 actions is some 100 MB of
/// text, which the CLI streams to stdout rather than holding (see [`display`]).
pub fn write(out: &mut dyn fmt::Write, plan: &Plan, options: TextOptions) -> fmt::Result {
    let paint = Paint { on: options.color };
    let steps: BTreeMap<&ActionId, usize> = plan
        .actions
        .iter()
        .enumerate()
        .map(|(i, a)| (&a.id, i + 1))
        .collect();
    let by_id: BTreeMap<&ActionId, &Action> = plan.actions.iter().map(|a| (&a.id, a)).collect();
    if plan.actions.is_empty() {
        notes(out, plan, &paint)?;
        deferred(out, plan, &steps)?;
        let verdict = if plan.mode == PlanMode::Destroy {
            "Nothing to destroy: nothing the spec manages is left."
        } else if plan.applyable {
            "No changes. Live configuration matches the spec."
        } else {
            "No changes planned, but the spec has errors (see the notes): it does not match the live configuration."
        };
        writeln!(out, "{}", paint.bold(verdict))?;
        return Ok(());
    }

    if plan.mode == PlanMode::Destroy {
        writeln!(
            out,
            "{}\n",
            paint.bold("This plan destroys everything the spec manages.")
        )?;
    }
    writeln!(
        out,
        "mtoctl will perform the following actions, grouped by tenant; steps are numbered in execution order.\n\
         Symbols: + create, ~ update in-place, - destroy, -/+ replace, <= check or wait.\n"
    )?;

    for tenant in &plan.tenants {
        let actions: Vec<&Action> = plan
            .actions
            .iter()
            .filter(|a| a.tenant == tenant.alias)
            .collect();
        if actions.is_empty() {
            continue;
        }
        writeln!(
            out,
            "{}",
            paint.bold(&format!("tenant {} ({})", tenant.alias, tenant.tenant_id))
        )?;
        out.write_char('\n')?;
        for a in actions {
            action(out, a, &steps, &by_id, &paint)?;
        }
    }

    let acting: std::collections::BTreeSet<&str> =
        plan.actions.iter().map(|a| a.tenant.as_str()).collect();
    if acting.len() > 1 {
        let width = acting.iter().map(|t| t.len()).max().unwrap_or(0);
        writeln!(
            out,
            "{}",
            paint.bold("Cross-tenant steps, in execution order:")
        )?;
        for (i, a) in plan.actions.iter().enumerate() {
            writeln!(
                out,
                "  {:>3}. {:<width$}  {} {}",
                i + 1,
                a.tenant.as_str(),
                paint.symbol(a.kind),
                a.addr
            )?;
        }
        out.write_char('\n')?;
    }

    deferred(out, plan, &steps)?;
    notes(out, plan, &paint)?;

    let s = &plan.summary;
    writeln!(
        out,
        "{}",
        paint.bold(&format!(
            "Plan: {} to add, {} to change, {} to destroy, {} to wait.",
            s.create + s.replace,
            s.update,
            s.delete + s.replace,
            s.wait
        ))
    )?;
    if !plan.complete {
        writeln!(
            out,
            "This plan is incomplete: {} deferred item(s) follow asynchronous work; run plan and apply again once the waits have completed.",
            plan.deferred.len()
        )?;
    }
    if !plan.applyable {
        writeln!(
            out,
            "This plan cannot be applied: see the errors in the notes."
        )?;
    }
    Ok(())
}

fn action(
    out: &mut dyn fmt::Write,
    a: &Action,
    steps: &BTreeMap<&ActionId, usize>,
    by_id: &BTreeMap<&ActionId, &Action>,
    paint: &Paint,
) -> fmt::Result {
    let step = steps.get(&a.id).copied().unwrap_or(0);
    writeln!(out, "  # {step}. {} {}", a.addr, phrase(a.kind))?;
    writeln!(out, "  #    {}", a.summary)?;
    let name = local_name(a);
    if a.changes.is_empty() {
        writeln!(out, "  {} {name}", paint.symbol(a.kind))?;
    } else {
        writeln!(out, "  {} {name} {{", paint.symbol(a.kind))?;
        let width = a.changes.iter().map(|c| c.path.len()).max().unwrap_or(0);
        for c in &a.changes {
            let (sym, value) = match (&c.before, &c.after) {
                (None, Some(after)) => ("+", after.clone()),
                (Some(before), None) => ("-", before.clone()),
                (Some(before), Some(after)) => ("~", format!("{before} -> {after}")),
                (None, None) => ("~", "null".into()),
            };
            writeln!(out, "      {} {:<width$} = {value}", paint.sym(sym), c.path)?;
        }
        writeln!(out, "    }}")?;
    }
    if let Some(w) = &a.async_wait {
        writeln!(
            out,
            "    (async: waits for the {}, up to {})",
            w.until.describe(),
            hours(w.timeout_seconds)
        )?;
    }
    let mut same = Vec::new();
    let mut cross = Vec::new();
    for dep in &a.depends_on {
        let n = steps.get(dep).copied().unwrap_or(0);
        match by_id.get(dep) {
            Some(d) if d.tenant != a.tenant => cross.push(format!("step {n} in {}", d.tenant)),
            _ => same.push(n.to_string()),
        }
    }
    if !cross.is_empty() {
        writeln!(out, "    (cross-tenant: after {})", cross.join(", "))?;
    }
    if !same.is_empty() {
        writeln!(
            out,
            "    (after step{} {})",
            if same.len() > 1 { "s" } else { "" },
            same.join(", ")
        )?;
    }
    if let Some(impact) = &a.impact {
        writeln!(
            out,
            "    {}",
            paint.code("31", &format!("(impact: {})", impact.message))
        )?;
    }
    out.write_char('\n')
}

fn deferred(
    out: &mut dyn fmt::Write,
    plan: &Plan,
    steps: &BTreeMap<&ActionId, usize>,
) -> fmt::Result {
    if plan.deferred.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "Deferred until asynchronous work completes (planned in a later round):"
    )?;
    for d in &plan.deferred {
        let waits: Vec<String> = d
            .waits_for
            .iter()
            .map(|id| {
                steps
                    .get(id)
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| id.to_string())
            })
            .collect();
        let after = if waits.is_empty() {
            String::new()
        } else {
            format!(
                " (after step{} {})",
                if waits.len() > 1 { "s" } else { "" },
                waits.join(", ")
            )
        };
        writeln!(out, "  - {} [{}]: {}{after}", d.addr, d.tenant, d.summary)?;
        writeln!(out, "      because {}", d.reason)?;
    }
    out.write_char('\n')
}

fn notes(out: &mut dyn fmt::Write, plan: &Plan, paint: &Paint) -> fmt::Result {
    if plan.notes.is_empty() {
        return Ok(());
    }
    writeln!(out, "Notes:")?;
    for n in &plan.notes {
        let label = match n.severity {
            Severity::Info => "info".to_owned(),
            Severity::Warning => paint.code("33", "warning"),
            Severity::Error => paint.code("31", "error"),
        };
        match &n.location {
            Some(at) => writeln!(out, "  - {label}: {at}: {}", n.message)?,
            None => writeln!(out, "  - {label}: {}", n.message)?,
        }
    }
    out.write_char('\n')
}
