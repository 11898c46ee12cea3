//! `mtoctl plan -f SPEC`: read every tenant, diff against the spec, print the ordered plan.

use std::process::ExitCode;

use anyhow::Context;
use mtoctl_planner::Plan;

use crate::args::{PlanArgs, PlanFormat};
use crate::output::Printer;
use crate::session;

pub fn run(printer: &Printer, args: &PlanArgs) -> anyhow::Result<ExitCode> {
    let Some(spec) = session::load_spec(printer, &args.file)? else {
        return Ok(ExitCode::from(1));
    };
    let runtime = session::runtime()?;
    let observed = runtime.block_on(async {
        let client = session::graph_client(&spec, &args.graph)?;
        preflight(printer, &client, &spec.desired).await;
        mtoctl_graph::collect::collect(&client, &spec.desired)
            .await
            .context("cannot read the live state; nothing was planned")
    })?;
    let plan = mtoctl_planner::plan(&spec.desired, &observed)
        .map_err(|e| anyhow::anyhow!("cannot plan: {e}"))?;
    let problems = mtoctl_planner::lint(&plan);
    anyhow::ensure!(
        problems.is_empty(),
        "the planner produced an inconsistent plan (a bug in mtoctl; please report it):\n  {}",
        problems.join("\n  ")
    );
    if let Some(out) = &args.out {
        let json = serde_json::to_string_pretty(&plan)?;
        std::fs::write(out, format!("{json}\n"))
            .with_context(|| format!("cannot write the plan to `{}`", out.display()))?;
    }
    print_plan(printer, &plan, args.format)?;
    let changes = plan.has_changes() || !plan.complete;
    Ok(if args.detailed_exitcode && changes {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Warns about permissions a tenant's token lacks, before anything fails halfway. Only a
/// warning: the token's `roles` may not tell everything (a permission granted through a
/// broader one this check does not know), and reads may still succeed.
async fn preflight(
    printer: &Printer,
    client: &mtoctl_graph::transport::GraphClient,
    desired: &mtoctl_model::DesiredState,
) {
    for needs in mtoctl_planner::permissions::for_spec(desired) {
        // Sign-in errors are reported by the reads that follow, with their context.
        let Ok(Some(granted)) = client.token_roles(needs.alias.as_str()).await else {
            continue;
        };
        for permission in mtoctl_planner::permissions::missing(&needs.application, &granted) {
            let why = needs
                .application
                .get(permission)
                .map(String::as_str)
                .unwrap_or("");
            printer.warn(&format!(
                "tenant {}'s token lacks the Graph permission {permission} (needed to {why}); grant it to the app and consent in that tenant (see `mtoctl permissions`)",
                needs.alias
            ));
        }
    }
}

/// Prints a plan in the chosen format (shared with `show`, so both print the same bytes).
pub fn print_plan(printer: &Printer, plan: &Plan, format: PlanFormat) -> anyhow::Result<()> {
    let text = match format {
        PlanFormat::Text => mtoctl_planner::render::text::render(
            plan,
            mtoctl_planner::render::text::TextOptions {
                color: printer.color_stdout(),
            },
        ),
        PlanFormat::Json => format!("{}\n", serde_json::to_string_pretty(plan)?),
        PlanFormat::Markdown => mtoctl_planner::render::markdown::render(plan),
    };
    printer.out(&text)
}
