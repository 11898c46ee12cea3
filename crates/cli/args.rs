//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Manage Microsoft Entra / Microsoft 365 multitenant organizations as code.
#[derive(Debug, Parser)]
#[command(name = "mtoctl", version, about, propagate_version = true)]
pub struct Cli {
    /// When to use colors: auto (on a terminal, unless NO_COLOR is set), always or never.
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto, env = "MTOCTL_COLOR")]
    pub color: ColorWhen,

    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a spec offline and report every problem in it.
    Validate(ValidateArgs),
    /// Print the spec language's JSON Schema (draft-07), for editors and yaml-language-server.
    Schema(SchemaArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
}

/// `mtoctl validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The spec file (`-` reads standard input).
    #[arg(short = 'f', long = "file", value_name = "SPEC")]
    pub file: PathBuf,
    /// Output format: text for people, json for tools, github for GitHub Actions annotations.
    #[arg(long, value_enum, default_value_t = DiagnosticFormat::Text)]
    pub format: DiagnosticFormat,
}

/// How `validate` reports findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiagnosticFormat {
    /// Findings with source snippets on stderr, a summary on stdout.
    Text,
    /// One JSON document on stdout.
    Json,
    /// GitHub Actions workflow commands (`::error file=…,line=…::…`) on stdout.
    Github,
}

/// `mtoctl schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Write the schema to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// `mtoctl completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// The `--color` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    /// Colors on a terminal, unless NO_COLOR is set.
    Auto,
    /// Always colors.
    Always,
    /// Never colors.
    Never,
}
