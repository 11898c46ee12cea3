//! `mtoctl plan -f SPEC`: read every tenant, diff against the spec, print the ordered plan.

use std::process::ExitCode;

use anyhow::Context;
use mtoctl_model::plan::Plan;

use crate::args::{PlanArgs, PlanFormat};
use crate::output::Printer;
use crate::session;

pub fn run(printer: &Printer, args: &PlanArgs) -> anyhow::Result<ExitCode> {
    let runtime = session::runtime()?;
    let Some(spec) = session::load_spec_signing_in(printer, &args.file, &args.graph, &runtime)?
    else {
        return Ok(ExitCode::from(1));
    };
    let plan = runtime.block_on(async {
        let (client, lacking) = session::connect(printer, &spec, &args.graph).await?;
        let planning = if args.destroy {
            session::Planning::Destroy {
                remove_synced_users: args.remove_synced_users,
            }
        } else {
            session::Planning::Apply
        };
        session::live_plan_releasing(
            &client,
            &spec,
            planning,
            "nothing was planned",
            session::Release::InBackground,
        )
        .await
        .map_err(|e| lacking.explain(e))
    });
    session::let_runtime_go(runtime);
    let plan = plan?;
    if let Some(out) = &args.out {
        write_plan(out, &plan)
            .with_context(|| format!("cannot write the plan to `{}`", out.display()))?;
    }
    print_plan(printer, &plan, args.format)?;
    print_estimate(printer, &plan, &spec.desired);
    tracing::debug!("the plan is printed");
    if !plan.applyable {
        // The plan is shown, with its errors; CI must not take it as one to apply.
        printer
            .err("error: the plan cannot be applied: fix the errors in its notes and plan again\n");
        return Ok(ExitCode::from(1));
    }
    let changes = plan.has_changes() || !plan.complete;
    session::drop_in_background((plan, spec));
    Ok(if args.detailed_exitcode && changes {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// When Graph's write quotas will bind the apply, says how long it will take and what would
/// make it faster (on stderr, so the plan on stdout stays machine-readable).
fn print_estimate(printer: &Printer, plan: &Plan, desired: &mtoctl_model::DesiredState) {
    use mtoctl_planner::estimate::{WriteQuotas, estimate};
    if let Some(e) = estimate(plan, desired, &WriteQuotas::default()) {
        printer.warn(&e.headline());
        for advice in &e.advice {
            printer.err(&format!("  hint: {advice}\n"));
        }
    }
}

/// Prints a plan in the chosen format (shared with `show`, so both print the same bytes).
pub fn print_plan(printer: &Printer, plan: &Plan, format: PlanFormat) -> anyhow::Result<()> {
    let text = match format {
        PlanFormat::Text => {
            return printer.out_display(&mtoctl_planner::render::text::display(
                plan,
                mtoctl_planner::render::text::TextOptions {
                    color: printer.color_stdout(),
                },
            ));
        }
        PlanFormat::Json => return printer.out_json(plan),
        PlanFormat::Markdown => mtoctl_planner::render::markdown::render(plan),
    };
    printer.out(&text)
}

/// Saves the plan for `apply PLANFILE` as it is serialised, without holding its text (some
/// 100 MB for 200,000 actions).
fn write_plan(path: &std::path::Path, plan: &Plan) -> std::io::Result<()> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    crate::output::write_json(&mut file, plan)?;
    std::io::Write::flush(&mut file)
}
