//! `mtoctl completions SHELL`.

use std::process::ExitCode;

use clap::CommandFactory;

use crate::args::{Cli, CompletionsArgs};
use crate::output::Printer;

pub fn run(printer: &Printer, args: &CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "mtoctl", &mut script);
    printer.out(&String::from_utf8_lossy(&script))?;
    Ok(ExitCode::SUCCESS)
}
