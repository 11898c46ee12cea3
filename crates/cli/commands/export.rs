//! `mtoctl export -f TENANTS`: write a spec from the live state of the given tenants, so an
//! organization built by hand (or in the admin centers) can be adopted.
//!
//! Reads every tenant with `discover`, writes the spec with the planner's `export`, and then
//! checks its own work the way a user would: the spec is validated, and planned against a fresh
//! read. What it could not express is printed as warnings on stderr; the spec goes to stdout or
//! `--out`. Exit 0 when the spec was written (even if it plans changes, which are listed), 1 on
//! errors. With `--diff`, it compares instead ([`super::export_diff`]).

use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;

use anyhow::Context;
use mtoctl_model::desired::{CollaborationSpec, DesiredState, OrganizationSpec};
use mtoctl_model::spec::{ValidSpec, export_input, yaml};

use crate::args::ExportArgs;
use crate::commands::validate::{read_spec, render_text};
use crate::output::Printer;
use crate::session::{self, LoadedSpec};

pub fn run(printer: &Printer, args: &ExportArgs) -> anyhow::Result<ExitCode> {
    if args.diff {
        return super::export_diff::run(printer, args);
    }
    let (name, bytes) = read_spec(&args.file)?;
    let input = match export_input::load(&name, &bytes) {
        Ok(input) => {
            printer.err(&render_text(&input.warnings, printer.color()));
            input
        }
        Err(diagnostics) => {
            printer.err(&render_text(&diagnostics, printer.color()));
            printer.err(&format!(
                "{name} cannot be exported from: {} errors, {} warnings\n",
                diagnostics.error_count(),
                diagnostics.warning_count()
            ));
            return Ok(ExitCode::from(1));
        }
    };
    let session_spec = LoadedSpec {
        desired: tenants_only(&input),
        dir: session::spec_dir(&args.file),
        path: args.file.clone(),
        ahead: None,
        known: crate::known_ids::KnownIdsFile::off(),
    };

    let runtime = session::runtime()?;
    let (text, exported, plan) = runtime.block_on(async {
        let client = session::graph_client(printer, &session_spec, &args.graph).await?;
        let observed = mtoctl_graph::discover::discover(&client, &session_spec.desired.tenants)
            .await
            .context("cannot read the live state; nothing was exported")?;
        let exported = mtoctl_planner::export::export(&input, &observed)
            .map_err(|e| anyhow::anyhow!("cannot export: {e}"))?;
        let text = document_text(&input, &exported)?;

        // Check the result as `mtoctl validate` and `mtoctl plan` would.
        let out_name = args
            .out
            .as_ref()
            .map_or("the exported spec".to_owned(), |p| p.display().to_string());
        let desired = match mtoctl_model::spec::load(&out_name, text.as_bytes()) {
            Ok(ValidSpec { desired, .. }) => desired,
            Err(diagnostics) => {
                printer.err(&render_text(&diagnostics, printer.color()));
                anyhow::bail!(
                    "the exported spec is invalid (a bug in mtoctl; please report it with the findings above); nothing was written"
                );
            }
        };
        let check = LoadedSpec {
            desired,
            dir: session_spec.dir.clone(),
            path: session_spec.path.clone(),
            ahead: None,
            known: crate::known_ids::KnownIdsFile::off(),
        };
        let plan = session::live_plan(&client, &check, session::Planning::Apply, "the exported spec was not checked")
            .await?;
        anyhow::Ok((text, exported, plan))
    })?;

    for warning in &exported.warnings {
        printer.warn(warning);
    }
    if let Some(out) = &args.out {
        for path in moved_relative_paths(&input, &session_spec.dir, out) {
            printer.warn(&format!(
                "`{path}` is relative to the spec file and was written as given, but `{}` is in another directory than `{}`; fix the path in the exported spec",
                out.display(),
                args.file.display()
            ));
        }
    }
    match &args.out {
        Some(path) => std::fs::write(path, &text)
            .with_context(|| format!("cannot write the spec to `{}`", path.display()))?,
        None => printer.out(&text)?,
    }
    let doc = &exported.document;
    let summary = format!(
        "exported {} tenants and {} sync configurations",
        doc.tenants.len(),
        doc.sync.len()
    );
    if plan.has_changes() || !plan.deferred.is_empty() {
        let actions: Vec<String> = plan
            .actions
            .iter()
            .map(|a| format!("  - {}: {}", a.addr, a.summary))
            .collect();
        printer.warn(&format!(
            "{summary}, but the spec plans {} changes (the warnings above say why):\n{}",
            plan.actions.len(),
            actions.join("\n")
        ));
    } else {
        printer.err(&format!("{summary}; the spec plans no changes\n"));
    }
    Ok(ExitCode::SUCCESS)
}

/// The YAML, with a header saying where it came from.
fn document_text(
    input: &export_input::ExportInput,
    exported: &mtoctl_planner::export::Exported,
) -> anyhow::Result<String> {
    let body = yaml::to_yaml(&exported.document)
        .map_err(|e| anyhow::anyhow!("cannot write the spec as YAML: {e}"))?;
    let aliases: Vec<&str> = input
        .tenants
        .iter()
        .map(|t| t.spec.alias.as_str())
        .collect();
    Ok(format!(
        "# Written by `mtoctl export` from the live state of {}.\n# Review it (and the warnings export printed) before committing it.\n{body}",
        aliases.join(", ")
    ))
}

/// Certificate and token-file paths of the input that are relative (to the input's directory)
/// when the spec is written to another directory, where they would point elsewhere.
fn moved_relative_paths(
    input: &export_input::ExportInput,
    input_dir: &std::path::Path,
    out: &std::path::Path,
) -> Vec<String> {
    let out_dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let same = |a: &std::path::Path, b: &std::path::Path| match (
        std::fs::canonicalize(a),
        std::fs::canonicalize(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    };
    if same(input_dir, &out_dir) {
        return Vec::new();
    }
    input
        .tenants
        .iter()
        .flat_map(|t| {
            [
                t.auth.certificate.as_ref().map(|c| c.path.clone()),
                t.auth
                    .workload_identity
                    .as_ref()
                    .and_then(|w| w.token_file.clone()),
            ]
        })
        .flatten()
        .filter(|p| std::path::Path::new(p).is_relative())
        .collect()
}

/// A desired state holding only the input's tenants: what the Graph client (one credential per
/// tenant) and discovery need. It declares nothing else, so nothing else is read or planned.
fn tenants_only(input: &export_input::ExportInput) -> DesiredState {
    DesiredState {
        organization: OrganizationSpec {
            display_name: String::new(),
            description: None,
        },
        tenants: input.tenants.iter().map(|t| t.spec.clone()).collect(),
        collaboration: CollaborationSpec {
            manage_templates: false,
            all_pairs: Default::default(),
            pairs: BTreeMap::new(),
        },
        syncs: Vec::new(),
        prune: BTreeSet::new(),
        beta: BTreeSet::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_credential_paths_are_named_when_the_spec_moves() {
        let text = "apiVersion: mtoctl/v1alpha1\nkind: MultiTenantOrganization\ntenants:\n  - alias: a\n    tenantId: 6babcaad-604b-40ac-a9d7-9fd97c0b779f\n    auth:\n      clientId: 0d3f3c4e-5b7a-4c1e-9a8b-1c2d3e4f5a6b\n      certificate:\n        path: certs/a.pfx\n  - alias: b\n    tenantId: 3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11\n    auth:\n      clientId: 7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d\n      workloadIdentity:\n        tokenFile: /var/run/token\n";
        let input = export_input::load("tenants.yaml", text.as_bytes()).expect("valid");
        let here = std::path::Path::new(".");
        assert!(moved_relative_paths(&input, here, std::path::Path::new("mto.yaml")).is_empty());
        let elsewhere = std::env::temp_dir().join("mto.yaml");
        assert_eq!(
            moved_relative_paths(&input, here, &elsewhere),
            ["certs/a.pfx"],
            "absolute paths stay right wherever the spec goes"
        );
    }
}
