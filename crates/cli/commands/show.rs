//! `mtoctl show PLAN`: render a saved plan, offline.

use std::process::ExitCode;

use anyhow::Context;
use mtoctl_planner::Plan;
use mtoctl_planner::plan::FORMAT_VERSION;

use crate::args::ShowArgs;
use crate::output::Printer;

pub fn run(printer: &Printer, args: &ShowArgs) -> anyhow::Result<ExitCode> {
    let name = args.plan.display().to_string();
    let bytes =
        std::fs::read(&args.plan).with_context(|| format!("cannot read the plan `{name}`"))?;
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("`{name}` is not a plan file (not JSON)"))?;
    let version = value
        .get("format_version")
        .and_then(|v| v.as_str())
        .unwrap_or("none");
    anyhow::ensure!(
        version == FORMAT_VERSION,
        "`{name}` has plan format {version}; this mtoctl reads format {FORMAT_VERSION}"
    );
    let plan: Plan = serde_json::from_value(value)
        .with_context(|| format!("`{name}` is not a valid plan file"))?;
    super::plan::print_plan(printer, &plan, args.format)?;
    Ok(ExitCode::SUCCESS)
}
