//! `mtoctl permissions -f SPEC`: what to grant in each tenant, offline.

use std::process::ExitCode;

use mtoctl_planner::permissions::TenantPermissions;

use crate::args::{ListFormat, PermissionsArgs};
use crate::output::Printer;
use crate::session;

/// The version of the `--format json` document (docs/json-output.md): a minor version adds
/// keys, a major one changes or removes some.
pub const FORMAT_VERSION: &str = "1.2";

/// The `--format json` document.
#[derive(serde::Serialize)]
struct JsonReport<'a> {
    format_version: &'static str,
    /// Per tenant, in spec order.
    tenants: &'a [TenantPermissions],
}

pub fn run(printer: &Printer, args: &PermissionsArgs) -> anyhow::Result<ExitCode> {
    let Some(spec) = session::load_spec(printer, &args.file)? else {
        return Ok(ExitCode::from(1));
    };
    let all = mtoctl_planner::permissions::for_spec(&spec.desired);
    let text = match args.format {
        ListFormat::Json => {
            let json = JsonReport {
                format_version: FORMAT_VERSION,
                tenants: &all,
            };
            format!("{}\n", serde_json::to_string_pretty(&json)?)
        }
        ListFormat::Text => {
            let mut out = String::new();
            for t in &all {
                out.push_str(&format!("tenant {} ({})\n", t.alias, t.tenant_id));
                out.push_str(
                    "  Microsoft Graph application permissions (admin consent required):\n",
                );
                let width = t.application.keys().map(String::len).max().unwrap_or(0);
                for (permission, why) in &t.application {
                    out.push_str(&format!("    {permission:width$}  {why}\n"));
                }
                if !t.to_adopt.is_empty() {
                    out.push_str(
                        "  Also, to adopt sync configurations another app made (the Microsoft 365 admin center's):\n",
                    );
                    let width = t.to_adopt.keys().map(String::len).max().unwrap_or(0);
                    for (permission, why) in &t.to_adopt {
                        out.push_str(&format!("    {permission:width$}  {why}\n"));
                    }
                }
                if !t.to_diagnose.is_empty() {
                    out.push_str("  Also, for `mtoctl doctor` (its licence check is skipped without them):\n");
                    let width = t.to_diagnose.keys().map(String::len).max().unwrap_or(0);
                    for (permission, why) in &t.to_diagnose {
                        out.push_str(&format!("    {permission:width$}  {why}\n"));
                    }
                }
                if !t.to_remove_synced_users.is_empty() {
                    out.push_str(
                        "  Also, for `mtoctl destroy --remove-synced-users` (deletes the accounts sync made here):\n",
                    );
                    let width = t
                        .to_remove_synced_users
                        .keys()
                        .map(String::len)
                        .max()
                        .unwrap_or(0);
                    for (permission, why) in &t.to_remove_synced_users {
                        out.push_str(&format!("    {permission:width$}  {why}\n"));
                    }
                }
                out.push_str(&format!(
                    "  Entra roles, for a person signing in with the Azure CLI: {}\n\n",
                    t.entra_roles.join(", ")
                ));
            }
            out
        }
    };
    printer.out(&text)?;
    Ok(ExitCode::SUCCESS)
}
