//! The `mtoctl` command: argument parsing, commands, output and exit codes.
//!
//! This is the only crate that prints. Library crates return values and errors; commands here
//! render them (text for people, JSON and annotations for machines) and choose the exit code.
//! See docs/ARCHITECTURE.md.

mod args;
mod commands;
mod embedded;
mod known_ids;
mod limits;
mod local_folder;
mod memory;
mod output;
mod progress;
mod session;

use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, Parser};

use args::{Cli, Command};
use output::Printer;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(mut err) => {
            hint_spec_flag(&mut err);
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
    limits::raise_open_files();
    let result = match cli.command {
        Command::Validate(args) => commands::validate::run(&printer, &args),
        Command::Plan(args) => commands::plan::run(&printer, &args),
        Command::Show(args) => commands::show::run(&printer, &args),
        Command::Apply(args) => commands::apply::run(&printer, &args),
        Command::Destroy(args) => commands::apply::run_destroy(&printer, args),
        Command::Status(args) => commands::status::run(&printer, &args),
        Command::Doctor(args) => commands::doctor::run(&printer, &args),
        Command::Sync(args) => match &args.command {
            args::SyncCommand::Now(now) => commands::sync::run(&printer, now),
        },
        Command::Export(args) => commands::export::run(&printer, &args),
        Command::Permissions(args) => commands::permissions::run(&printer, &args),
        Command::Schema(args) => commands::schema::run(&printer, &args),
        Command::Completions(args) => commands::completions::run(&printer, &args),
    };
    let result = session::finish_recording(&printer, result);
    match result {
        Ok(code) => code,
        Err(err) => {
            printer.error(&err);
            ExitCode::from(1)
        }
    }
}

/// `mtoctl validate spec.yaml`: a spec given without `-f` earns a tip saying how to give it,
/// for every subcommand that reads one.
fn hint_spec_flag(err: &mut clap::Error) {
    if err.kind() != ErrorKind::UnknownArgument {
        return;
    }
    let Some(ContextValue::String(arg)) = err.get(ContextKind::InvalidArg) else {
        return;
    };
    if arg.starts_with('-') {
        return;
    }
    let arg = arg.clone();
    let args: Vec<String> = std::env::args().skip(1).collect();
    // With `-f` given, the stray argument is something else.
    if args
        .iter()
        .any(|a| a.starts_with("--file") || (a.starts_with("-f") && !a.starts_with("--")))
    {
        return;
    }
    // The innermost subcommand named (`sync now`), and the words that name it.
    let path = args::subcommand_path(&args);
    if path.is_empty() {
        return;
    }
    let cli = Cli::command();
    let sub = path
        .iter()
        .fold(&cli, |at, name| at.find_subcommand(name).unwrap_or(at));
    if sub.get_arguments().any(|a| a.get_short() == Some('f')) {
        let tip = format!(
            "to give the spec, use `-f`: `mtoctl {} -f {arg}`",
            path.join(" ")
        );
        err.insert(
            ContextKind::Suggested,
            ContextValue::StyledStrs(vec![tip.into()]),
        );
    }
}
