//! `mtoctl schema`.

use std::process::ExitCode;

use anyhow::Context;

use crate::args::SchemaArgs;
use crate::output::Printer;

pub fn run(printer: &Printer, args: &SchemaArgs) -> anyhow::Result<ExitCode> {
    let text = mtoctl_model::spec::schema::json_schema_text();
    match &args.out {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write the schema to `{}`", path.display()))?,
        None => printer.out(&text)?,
    }
    Ok(ExitCode::SUCCESS)
}
