//! `mtoctl show PLAN`: render a saved plan, offline.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use mtoctl_model::plan::{MAX_PLAN_BYTES, Plan, PlanReadError};

use crate::args::ShowArgs;
use crate::output::Printer;

pub fn run(printer: &Printer, args: &ShowArgs) -> anyhow::Result<ExitCode> {
    let plan = read_plan(&args.plan)?;
    super::plan::print_plan(printer, &plan, args.format)?;
    Ok(ExitCode::SUCCESS)
}

/// Reads a saved plan (at most the largest plan mtoctl writes, and one byte more to tell).
pub fn read_plan(path: &Path) -> anyhow::Result<Plan> {
    let name = path.display();
    let bytes = std::fs::File::open(path)
        .and_then(|file| super::validate::read_at_most(file, MAX_PLAN_BYTES + 1))
        .with_context(|| format!("cannot read the plan `{name}`"))?;
    Plan::read(&bytes).map_err(|e| match e {
        // `mtoctl apply spec.yaml`: the spec taken for a saved plan.
        PlanReadError::IsSpec => anyhow::anyhow!(
            "`{name}` is a spec, not a saved plan: give a spec with -f (`mtoctl apply -f {name}`)"
        ),
        e => anyhow::Error::new(e).context(format!("`{name}` is not a plan mtoctl can use")),
    })
}
