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

    /// How much to log on stderr: error, warn, info, debug or trace. Secrets and tokens are
    /// never logged at any level.
    #[arg(long, global = true, value_enum, default_value_t = LogLevel::Warn, env = "MTOCTL_LOG")]
    pub log_level: LogLevel,

    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands. Each help ends with real examples (a test parses every one).
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a spec offline and report every problem in it.
    #[command(after_help = "Examples:
  mtoctl validate -f mto.yaml
  mtoctl validate -f mto.yaml --format github   # annotations in a GitHub Actions job
  mtoctl validate -f - < mto.yaml               # the spec on standard input")]
    Validate(ValidateArgs),
    /// Read every tenant's live state and print the ordered plan that makes it match the spec.
    #[command(after_help = "Examples:
  mtoctl plan -f mto.yaml
  mtoctl plan -f mto.yaml --out plan.json --format markdown > plan.md
  mtoctl plan -f mto.yaml --detailed-exitcode   # exit 2 when there are changes")]
    Plan(PlanArgs),
    /// Render a plan saved with `plan --out`, without network access.
    #[command(after_help = "Examples:
  mtoctl show plan.json
  mtoctl show plan.json --format markdown > plan.md")]
    Show(ShowArgs),
    /// Carry out a plan: plan the spec and apply after confirmation, or apply a saved plan.
    #[command(after_help = "Examples:
  mtoctl apply -f mto.yaml                      # shows the plan, asks before changing anything
  mtoctl apply -f mto.yaml --auto-approve --wait 30m
  mtoctl apply -f mto.yaml plan.json            # the plan saved by `plan --out plan.json`")]
    Apply(ApplyArgs),
    /// Remove everything the spec manages, in the reverse of the order apply sets it up.
    #[command(after_help = "Examples:
  mtoctl destroy -f mto.yaml                    # shows the plan, asks before removing anything
  mtoctl destroy -f mto.yaml --auto-approve --wait 30m --remove-synced-users
  mtoctl destroy -f mto.yaml destroy.json       # saved by `plan --destroy --out destroy.json`")]
    Destroy(DestroyArgs),
    /// Check that the organization works: memberships, sync jobs, provisioned users.
    #[command(after_help = "Examples:
  mtoctl status -f mto.yaml
  mtoctl status -f mto.yaml --all-users         # every synced user, each with every check
  mtoctl status -f mto.yaml --format json")]
    Status(StatusArgs),
    /// Before the first apply: check, read-only, that each tenant is ready for the spec.
    #[command(after_help = "Examples:
  mtoctl doctor -f mto.yaml                     # exit 0 ready, 3 fixable first, 4 blocked
  mtoctl doctor -f mto.yaml --format json")]
    Doctor(DoctorArgs),
    /// Act on cross-tenant synchronization now, instead of waiting for its next cycle.
    #[command(after_help = "Examples:
  mtoctl sync now -f mto.yaml                   # the first user in scope of each sync
  mtoctl sync now -f mto.yaml --user alice@contoso.com --user bob@contoso.com")]
    Sync(SyncArgs),
    /// Write a spec from the live state of the given tenants, to adopt an existing organization;
    /// with `--diff`, show how the live state drifted from a spec, as a diff of its YAML.
    #[command(after_help = "Examples:
  mtoctl export -f tenants.yaml --out mto.yaml  # tenants.yaml: apiVersion, kind and tenants
  mtoctl export -f mto.yaml                     # what the tenants of a spec hold now
  mtoctl export -f mto.yaml --diff              # drift as YAML lines; exit 2 when drifted")]
    Export(ExportArgs),
    /// List the Graph permissions and Entra roles each tenant needs for a spec (offline).
    #[command(after_help = "Examples:
  mtoctl permissions -f mto.yaml
  mtoctl permissions -f mto.yaml --format json")]
    Permissions(PermissionsArgs),
    /// Print the spec language's JSON Schema (draft-07), for editors and yaml-language-server.
    #[command(after_help = "Examples:
  mtoctl schema --out mtoctl.schema.json
  mtoctl schema > mtoctl.schema.json")]
    Schema(SchemaArgs),
    /// Print a shell completion script.
    #[command(after_help = "Examples:
  mtoctl completions bash > ~/.local/share/bash-completion/completions/mtoctl
  mtoctl completions zsh > ~/.zfunc/_mtoctl")]
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

/// `mtoctl plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The spec file (`-` reads standard input).
    #[arg(short = 'f', long = "file", value_name = "SPEC")]
    pub file: std::path::PathBuf,
    /// Output format: text for people, json (the plan file format), markdown for pull requests.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
    /// Also save the plan (JSON) to this file, for `mtoctl show` and `mtoctl apply`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
    /// Exit 0 when there are no changes, 2 when there are, 1 on errors (Terraform's convention).
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Plan the removal of everything the spec manages (what `mtoctl destroy` would do); save
    /// it with `--out` and carry it out with `mtoctl destroy -f SPEC PLANFILE`.
    #[arg(long)]
    pub destroy: bool,
    /// With `--destroy`: also delete the accounts synchronization made in the targets (see
    /// `mtoctl destroy --help`).
    #[arg(long, requires = "destroy")]
    pub remove_synced_users: bool,
    /// Where Graph and login are.
    #[command(flatten)]
    pub graph: GraphArgs,
}

/// Endpoint overrides (for sovereign setups and the local emulator), retries, and recording.
#[derive(Debug, Args)]
pub struct GraphArgs {
    /// Microsoft Graph's base URL (default `https://graph.microsoft.com`). Plain http only for
    /// loopback, such as the emulator's `http://127.0.0.1:PORT`.
    #[arg(long, value_name = "URL", env = "MTOCTL_GRAPH_URL")]
    pub graph_url: Option<String>,
    /// The login authority (default `https://login.microsoftonline.com`). Plain http only for
    /// loopback.
    #[arg(long, value_name = "URL", env = "MTOCTL_LOGIN_URL")]
    pub login_url: Option<String>,
    /// Run against an emulated Microsoft Graph started inside mtoctl, seeded from the spec (or
    /// from a `world.yaml` beside it), with its state kept under `.mtoctl/` in the working
    /// directory so repeated runs converge. Its clock runs 100 times faster: a join takes
    /// seconds. Each tenant signs in with the emulator's own app secret, not the spec's
    /// credential. Nothing leaves this machine.
    #[arg(long, conflicts_with_all = ["graph_url", "login_url"])]
    pub emulator: bool,
    /// Start the emulated world over (implies `--emulator`).
    #[arg(long, conflicts_with_all = ["graph_url", "login_url"])]
    pub emulator_reset: bool,
    /// How long one sign-in or Graph request is retried (no answer, throttling, server
    /// errors) before mtoctl gives up on it: `90s`, `15m`, `1h`. A retry after a network
    /// failure, or one that waits 5 s or more, is a warning saying what is retried and for how
    /// long (the others show with `--log-level debug`). A connection refused by a loopback
    /// endpoint (the emulator not running) or a failed TLS handshake fails after a few quick
    /// attempts whatever this says.
    #[arg(
        long,
        value_name = "DURATION",
        env = "MTOCTL_DEADLINE",
        default_value = "15m",
        value_parser = parse_deadline
    )]
    pub deadline: std::time::Duration,
    /// Record every exchange with Graph to FILE, one JSON line each (docs/transcripts.md):
    /// secrets removed and personal data (ids, names, UPNs, domains) replaced by pseudonyms,
    /// so it can be attached to a bug report. Sign-ins are not recorded. An existing FILE is
    /// replaced.
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// With `--record`: also write what each pseudonym stands for to KEYFILE (readable by you
    /// only). It holds the personal data the transcript does not: never attach it.
    #[arg(long, value_name = "KEYFILE", requires = "record")]
    pub record_key: Option<PathBuf>,
    /// Neither read nor write `.mtoctl/known-ids.json` beside the spec. That file keeps the
    /// ids of the sync configurations and jobs the last run saw or made, so that the next
    /// read asks for their jobs, assignments and schemas beside the read that finds them
    /// (two round trips sooner); it decides nothing, and ids that no longer match are read
    /// again the usual way.
    #[arg(long, env = "MTOCTL_NO_KNOWN_IDS", value_parser = clap::builder::FalseyValueParser::new())]
    pub no_known_ids: bool,
}

/// A duration: seconds, or numbers with `s`, `m` or `h` (`90`, `90s`, `15m`, `1h30m`).
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let bad = || format!("`{text}` is not a duration (examples: 90s, 15m, 4h, 1h30m)");
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(std::time::Duration::from_secs(seconds));
    }
    let mut total = 0u64;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: u64 = number.parse().map_err(|_| bad())?;
        number.clear();
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => return Err(bad()),
        };
        total = n
            .checked_mul(unit)
            .and_then(|s| total.checked_add(s))
            .ok_or_else(bad)?;
    }
    if !number.is_empty() {
        return Err(bad());
    }
    Ok(std::time::Duration::from_secs(total))
}

/// A `--deadline`: a [`parse_duration`] of at least one second.
fn parse_deadline(text: &str) -> Result<std::time::Duration, String> {
    match parse_duration(text) {
        Ok(d) if d.as_secs() >= 1 => Ok(d),
        _ => Err(format!(
            "`{text}` is not a duration of one second or more (examples: 90s, 15m, 1h)"
        )),
    }
}

impl GraphArgs {
    /// Whether the embedded emulator is asked for.
    pub fn embedded(&self) -> bool {
        self.emulator || self.emulator_reset
    }

    /// What `--record` and `--record-key` ask for, for the subcommand `command`.
    pub fn record_options(
        &self,
        command: &str,
    ) -> anyhow::Result<Option<mtoctl_graph::record::RecordOptions>> {
        let Some(transcript) = &self.record else {
            return Ok(None);
        };
        anyhow::ensure!(
            self.record_key.as_ref() != Some(transcript),
            "`--record` and `--record-key` name the same file; the key must stay private, apart from the transcript"
        );
        Ok(Some(mtoctl_graph::record::RecordOptions {
            transcript: transcript.clone(),
            key: self.record_key.clone(),
            command: command.to_owned(),
        }))
    }
}

/// `mtoctl apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved with `plan --out`: applied without asking, after checking that nothing it
    /// touches changed since. The spec (`-f`, default `mto.yaml`) supplies the credentials and
    /// must be the one the plan was made from. A plan that is out of date (changed objects,
    /// another spec, another mtoctl version) changes nothing and exits 5: plan again.
    #[arg(value_name = "PLANFILE")]
    pub plan: Option<std::path::PathBuf>,
    /// The spec file (`-` reads standard input). Required, except with a PLANFILE: then it
    /// defaults to `mto.yaml` in the working directory.
    #[arg(short = 'f', long = "file", value_name = "SPEC")]
    pub file: Option<std::path::PathBuf>,
    /// Apply without asking (for CI). Without it, apply asks on a terminal and refuses
    /// without one.
    #[arg(long)]
    pub auto_approve: bool,
    /// Allow destructive actions (deletions, users leaving a sync scope). Without it a plan
    /// with destructive actions changes nothing and names them.
    #[arg(long)]
    pub allow_destroy: bool,
    /// Apply a saved plan that another mtoctl version computed (refused by default).
    #[arg(long)]
    pub allow_version_skew: bool,
    /// Wait up to this long (`90s`, `15m`, `4h`) for joins, role changes and removals, then
    /// carry on with the work they unlock. Without it, apply exits 3 while Graph works.
    #[arg(long, value_name = "DURATION")]
    pub wait: Option<String>,
    /// Output format of the report (and of progress events on stderr).
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
    /// After a successful apply, provision the first user in scope of each sync at once
    /// (`mtoctl sync now`) and check their copies; exit 1 if one fails a check.
    #[arg(long)]
    pub verify: bool,
    /// Where Graph and login are.
    #[command(flatten)]
    pub graph: GraphArgs,
}

/// `mtoctl destroy`.
#[derive(Debug, Args)]
pub struct DestroyArgs {
    /// A plan saved with `plan --destroy --out`: carried out without asking, after checking
    /// that nothing it touches changed since (exit 5, nothing changed, when it did).
    #[arg(value_name = "PLANFILE")]
    pub plan: Option<std::path::PathBuf>,
    /// The spec file (`-` reads standard input). Required, except with a PLANFILE: then it
    /// defaults to `mto.yaml` in the working directory.
    #[arg(short = 'f', long = "file", value_name = "SPEC")]
    pub file: Option<std::path::PathBuf>,
    /// Destroy without asking (for CI). Without it, destroy asks on a terminal and refuses
    /// without one.
    #[arg(long)]
    pub auto_approve: bool,
    /// Carry out a saved plan that another mtoctl version computed (refused by default).
    #[arg(long)]
    pub allow_version_skew: bool,
    /// Wait up to this long (`90s`, `15m`, `4h`) for removals and role changes, then carry on
    /// with the work they unlock (the organization's last owner leaves last). Without it,
    /// destroy exits 3 while Graph works; run it again later to go on.
    #[arg(long, value_name = "DURATION")]
    pub wait: Option<String>,
    /// Output format of the report (and of progress events on stderr).
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
    /// Also delete, in each target tenant, the account synchronization made for every user in
    /// a sync's scope (found by the `#EXT#` name sync gives it, so an invited guest it matched
    /// is included), each a line of the plan; the job is paused first. Graph keeps deleted
    /// accounts restorable for 30 days. Needs `User.ReadWrite.All` in the targets. Without it
    /// the accounts stay, and the plan says so.
    #[arg(long)]
    pub remove_synced_users: bool,
    /// Where Graph and login are.
    #[command(flatten)]
    pub graph: GraphArgs,
}

impl DestroyArgs {
    /// The same run as `apply`: destruction allowed, no verification.
    pub fn into_apply(self) -> ApplyArgs {
        ApplyArgs {
            plan: self.plan,
            file: self.file,
            auto_approve: self.auto_approve,
            allow_destroy: true,
            allow_version_skew: self.allow_version_skew,
            wait: self.wait,
            format: self.format,
            verify: false,
            graph: self.graph,
        }
    }
}

/// `mtoctl status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The spec file (`-` reads standard input).
    #[arg(short = 'f', long = "file", value_name = "SPEC")]
    pub file: std::path::PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
    /// Explain where this user stands in each sync from their tenant instead: assigned or
    /// not, the scoping filter, the latest provisioning events, their copy in the target.
    #[arg(long, value_name = "UPN")]
    pub user: Option<String>,
    /// Check every user in scope of each sync (up to 10,000 per sync), not a sample of five.
    #[arg(long, conflicts_with = "user")]
    pub all_users: bool,
    /// Where Graph and login are.
    #[command(flatten)]
    pub graph: GraphArgs,
}

/// `mtoctl doctor`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The spec file (`-` reads standard input).
    #[arg(short = 'f', long = "file", value_name = "SPEC")]
    pub file: std::path::PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
    /// Where Graph and login are.
    #[command(flatten)]
    pub graph: GraphArgs,
}

/// `mtoctl sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: SyncCommand,
}

/// The subcommands of `mtoctl sync`.
#[derive(Debug, Subcommand)]
pub enum SyncCommand {
    /// Provision users through each sync's job at once (Graph's provisionOnDemand), wait for
    /// their copies, and check each one as `status` does.
    #[command(after_help = "Examples:
  mtoctl sync now -f mto.yaml
  mtoctl sync now -f mto.yaml --user alice@contoso.com --format json")]
    Now(SyncNowArgs),
}

/// `mtoctl sync now`.
#[derive(Debug, Args)]
pub struct SyncNowArgs {
    /// The spec file (`-` reads standard input).
    #[arg(short = 'f', long = "file", value_name = "SPEC")]
    pub file: std::path::PathBuf,
    /// A user of a source tenant to provision (by UPN); repeat for more. Default: the first
    /// user in scope of each sync.
    #[arg(long = "user", value_name = "UPN")]
    pub users: Vec<String>,
    /// How long to wait for the copies to show in the target (`30s`, `2m`).
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = parse_duration)]
    pub wait: std::time::Duration,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
    /// Where Graph and login are.
    #[command(flatten)]
    pub graph: GraphArgs,
}

/// `mtoctl export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The tenants and their credentials: a spec with at least `apiVersion`, `kind` and
    /// `tenants` (other sections are ignored, except `sync` entries with a `name`, which give
    /// the target of configurations not named `MTO_Sync_<target id>`). With `--diff`, the full
    /// spec to compare with. `-` reads standard input.
    #[arg(short = 'f', long = "file", value_name = "TENANTS")]
    pub file: std::path::PathBuf,
    /// Write the spec (with `--diff`, the diff) to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
    /// Show drift instead: the live state as a unified diff against the spec file, like
    /// `kubectl diff`. The `+` side is the spec's own text holding the live values (its
    /// comments, order and spelling kept; settings it leaves out not compared), so the diff is
    /// exactly the drifted lines. Drift a spec cannot show is named on stderr. Exit 0 when
    /// nothing drifted, 2 when something did, 1 on errors (as `plan --detailed-exitcode`).
    #[arg(long)]
    pub diff: bool,
    /// Where Graph and login are.
    #[command(flatten)]
    pub graph: GraphArgs,
}

/// `mtoctl permissions`.
#[derive(Debug, Args)]
pub struct PermissionsArgs {
    /// The spec file (`-` reads standard input).
    #[arg(short = 'f', long = "file", value_name = "SPEC")]
    pub file: std::path::PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

/// Text or JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// For people.
    Text,
    /// For tools.
    Json,
}

/// `mtoctl show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A plan file written by `plan --out`.
    #[arg(value_name = "PLAN")]
    pub plan: std::path::PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
}

/// How a plan is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// Terraform-style text.
    Text,
    /// The versioned plan JSON (docs/plan-format.md).
    Json,
    /// A Markdown pull-request comment.
    Markdown,
}

/// Log verbosity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogLevel {
    /// Errors only.
    Error,
    /// Warnings and errors.
    Warn,
    /// Progress.
    Info,
    /// Every Graph call.
    Debug,
    /// Everything.
    Trace,
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

#[cfg(test)]
mod deadline_tests {
    use std::time::Duration;

    use super::{parse_deadline, parse_duration};

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90").ok(), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m").ok(), Some(Duration::from_secs(900)));
        assert_eq!(
            parse_duration("1h30m").ok(),
            Some(Duration::from_secs(5400))
        );
        assert!(parse_duration("10x").is_err());
        assert!(parse_duration("5m3").is_err());
        assert!(parse_duration("99999999999999999h").is_err());
    }

    #[test]
    fn deadlines_parse() {
        assert_eq!(parse_deadline("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_deadline("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_deadline("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_deadline("45"), Ok(Duration::from_secs(45)));
        for bad in ["", "0", "0s", "soon", "5d", "m", "10s5"] {
            assert!(parse_deadline(bad).is_err(), "{bad}");
        }
    }
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

/// The subcommands `args` (the words after `mtoctl`) invoke, outermost first (`["sync",
/// "now"]`): the words that name them, up to the first command without subcommands.
pub fn subcommand_path(args: &[String]) -> Vec<String> {
    use clap::CommandFactory;
    let cli = Cli::command();
    let mut names = Vec::new();
    let mut at = &cli;
    for arg in args {
        if !at.has_subcommands() {
            break;
        }
        if let Some(sub) = at.find_subcommand(arg) {
            names.push(sub.get_name().to_owned());
            at = sub;
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::Cli;

    /// Every subcommand's help ends with two or three examples, and each one parses: an
    /// example that drifted from the flags would teach a command that fails.
    #[test]
    fn every_subcommand_help_ends_with_examples_that_parse() {
        let cli = Cli::command();
        for sub in cli.get_subcommands() {
            let name = sub.get_name();
            let help = sub
                .get_after_help()
                .map(ToString::to_string)
                .unwrap_or_default();
            let examples: Vec<&str> = help
                .strip_prefix("Examples:\n")
                .unwrap_or_else(|| panic!("`{name} --help` ends without examples"))
                .lines()
                .collect();
            assert!(
                (2..=3).contains(&examples.len()),
                "{name}: {} examples",
                examples.len()
            );
            for example in examples {
                // The command line itself: without the comment and the shell's redirections.
                let command = example
                    .split(['#', '>', '<'])
                    .next()
                    .unwrap_or_default()
                    .split_whitespace();
                let parsed = Cli::try_parse_from(command);
                assert!(
                    parsed.is_ok(),
                    "{example:?} does not parse: {}",
                    parsed.err().map(|e| e.to_string()).unwrap_or_default()
                );
                assert!(example.trim_start().starts_with(&format!("mtoctl {name} ")));
            }
        }
    }
}
