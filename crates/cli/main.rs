//! The `mtoctl` command: argument parsing, commands, output and exit codes.
//!
//! This is the only crate that prints. Library crates return values and errors; commands here
//! render them (text for people, JSON and annotations for machines) and choose the exit code.
//! See docs/ARCHITECTURE.md.

mod args;
mod commands;
mod embedded;
mod memory;
mod output;
mod progress;
mod session;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};
use output::Printer;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // Help and version go to stdout and succeed; usage errors exit 1, not clap's 2,
            // because 2 means "changes present" for `plan --detailed-exitcode` (Terraform's
            // convention, which CI scripts rely on).
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let printer = Printer::new(cli.color);
    session::init_logging(cli.log_level, printer.color());
    let result = match cli.command {
        Command::Validate(args) => commands::validate::run(&printer, &args),
        Command::Plan(args) => commands::plan::run(&printer, &args),
        Command::Show(args) => commands::show::run(&printer, &args),
        Command::Apply(args) => commands::apply::run(&printer, &args),
        Command::Status(args) => commands::status::run(&printer, &args),
        Command::Export(args) => commands::export::run(&printer, &args),
        Command::Permissions(args) => commands::permissions::run(&printer, &args),
        Command::Schema(args) => commands::schema::run(&printer, &args),
        Command::Completions(args) => commands::completions::run(&printer, &args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            printer.error(&err);
            ExitCode::from(1)
        }
    }
}
