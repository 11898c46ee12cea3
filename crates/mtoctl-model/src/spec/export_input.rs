//! The input of `mtoctl export`: a spec read for its tenants and credentials only.
//!
//! Export writes a spec from live state, so its input needs only what cannot be read from
//! Graph: which tenants to read and how to sign in to each. Its input is any spec document with
//! `apiVersion`, `kind` and `tenants` (each with `alias`, `tenantId` and `auth`); everything
//! else is optional and ignored, so a full spec works as well as a tenants-only file:
//!
//! - `organization`, `collaboration` and `prune` are ignored (read from Graph, or policy);
//! - each tenant's `displayName` and `role` are ignored (read from the organization's members);
//!   `domain` is kept as given (Graph's default domain is not read);
//! - from `sync`, only entries with a `name` are used, and only their `from`, `to` and `name`:
//!   they say which target a configuration with a name other than `MTO_Sync_<target id>`
//!   provisions into, which Graph cannot tell (the target is a write-only secret).
//!
//! The tenants go through the same checks as in [`super::load`] (GUIDs, aliases, credentials,
//! literal secrets), with every finding located in the input file. Ignored sections are not
//! checked. No I/O: the caller passes the bytes.

use super::diagnostic::{Diagnostic, Diagnostics};
use super::document::Auth;
use super::node::{Key, Node, Path, Span, Value};
use crate::desired::TenantSpec;
use crate::ids::Alias;

/// A readable export input.
#[derive(Debug, Clone)]
pub struct ExportInput {
    /// The tenants to read, in input order, with their credentials.
    pub tenants: Vec<InputTenant>,
    /// Targets of named sync configurations, as the input's `sync` section gives them.
    pub sync_targets: Vec<SyncTarget>,
    /// Warnings about the input (no errors), with its source for rendering.
    pub warnings: Diagnostics,
}

/// One tenant of the input.
#[derive(Debug, Clone)]
pub struct InputTenant {
    /// The tenant, validated (its display name and role are placeholders: Graph has them).
    pub spec: TenantSpec,
    /// Its `auth` section as written, so the exported spec keeps it as given.
    pub auth: Auth,
}

/// The target of one named configuration in one source tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncTarget {
    /// The source tenant.
    pub from: Alias,
    /// The target tenant.
    pub to: Alias,
    /// The configuration's name (matched without regard to case, as the planner does).
    pub name: String,
}

/// Sections export reads from Graph rather than from its input.
const IGNORED: [&str; 4] = ["organization", "collaboration", "sync", "prune"];

/// Reads an export input. `name` is how findings refer to the file.
pub fn load(name: &str, bytes: &[u8]) -> Result<ExportInput, Diagnostics> {
    let (source, root) = super::read(name, bytes)?;
    let hints = sync_hints(&root);
    let root = tenants_only(root);

    let (mut findings, outcome) = super::check(&root);
    let tenants = outcome.desired.map(|d| d.tenants).unwrap_or_default();
    let written: Vec<serde_json::Value> = root
        .get("tenants")
        .map(|(_, n)| n.to_json())
        .and_then(|j| j.as_array().cloned())
        .unwrap_or_default();
    let auth_of = |alias: &str| {
        written
            .iter()
            .find(|t| t.get("alias").and_then(|a| a.as_str()) == Some(alias))
            .and_then(|t| serde_json::from_value::<Auth>(t.get("auth")?.clone()).ok())
    };

    let mut sync_targets = Vec::new();
    for hint in hints {
        let mut resolve = |key: &str, (alias, span): &(String, Span)| {
            let found = tenants.iter().find(|t| t.alias.as_str() == alias.as_str());
            if found.is_none() && !tenants.is_empty() {
                findings.push(
                    Diagnostic::error(
                        "spec::unknown_alias",
                        format!("unknown tenant alias `{alias}`"),
                    )
                    .at_path(hint.path.key(key))
                    .label(*span, "not declared under `tenants:`")
                    .help("name the configuration's source and target by their aliases"),
                );
            }
            found.map(|t| t.alias.clone())
        };
        if let (Some(from), Some(to)) = (resolve("from", &hint.from), resolve("to", &hint.to)) {
            sync_targets.push(SyncTarget {
                from,
                to,
                name: hint.name,
            });
        }
    }

    let diagnostics = Diagnostics::new(source, findings);
    if diagnostics.has_errors() || tenants.is_empty() {
        return Err(diagnostics);
    }
    let mut with_auth = Vec::new();
    for spec in tenants {
        // Validation read each `auth` as this type already; a miss here would be a bug.
        let auth = auth_of(spec.alias.as_str()).unwrap_or_default();
        with_auth.push(InputTenant { spec, auth });
    }
    Ok(ExportInput {
        tenants: with_auth,
        sync_targets,
        warnings: diagnostics,
    })
}

/// A `sync` entry that names its configuration: its place, and its ends with their spans
/// (taken before the section is dropped, so findings point into the input).
struct Hint {
    path: Path,
    from: (String, Span),
    to: (String, Span),
    name: String,
}

fn sync_hints(root: &Node) -> Vec<Hint> {
    let Some((
        _,
        Node {
            value: Value::Seq(items),
            ..
        },
    )) = root.get("sync")
    else {
        return Vec::new();
    };
    let text = |node: &Node, key: &str| match node.get(key) {
        Some((
            _,
            Node {
                value: Value::Str(s),
                span,
            },
        )) if !s.trim().is_empty() => Some((s.clone(), *span)),
        _ => None,
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            Some(Hint {
                path: Path::root().key("sync").index(i),
                from: text(item, "from")?,
                to: text(item, "to")?,
                name: text(item, "name")?.0,
            })
        })
        .collect()
}

/// The document with its ignored sections replaced by the least a spec needs, so the spec's
/// own checks can read the tenants: a placeholder organization, and every tenant an owner with
/// a display name (both are read from Graph instead).
fn tenants_only(root: Node) -> Node {
    let span = root.span;
    let Value::Map(entries) = root.value else {
        return root;
    };
    let mut entries: Vec<(Key, Node)> = entries
        .into_iter()
        .filter(|(k, _)| !IGNORED.contains(&k.name.as_str()))
        .map(|(k, v)| {
            if k.name == "tenants" {
                let v = match v.value {
                    Value::Seq(items) => Node {
                        value: Value::Seq(items.into_iter().map(placeholder_tenant).collect()),
                        span: v.span,
                    },
                    other => Node {
                        value: other,
                        span: v.span,
                    },
                };
                (k, v)
            } else {
                (k, v)
            }
        })
        .collect();
    entries.push((
        key("organization", span),
        map(
            vec![(key("displayName", span), string("(read from Graph)", span))],
            span,
        ),
    ));
    Node {
        value: Value::Map(entries),
        span,
    }
}

fn placeholder_tenant(tenant: Node) -> Node {
    let span = tenant.span;
    let Value::Map(entries) = tenant.value else {
        return tenant;
    };
    let mut entries: Vec<(Key, Node)> = entries
        .into_iter()
        .filter(|(k, _)| k.name != "role" && k.name != "displayName")
        .collect();
    entries.push((key("displayName", span), string("(read from Graph)", span)));
    entries.push((key("role", span), string("owner", span)));
    map(entries, span)
}

fn key(name: &str, span: Span) -> Key {
    Key {
        name: name.to_owned(),
        span,
    }
}

fn string(text: &str, span: Span) -> Node {
    Node {
        value: Value::Str(text.to_owned()),
        span,
    }
}

fn map(entries: Vec<(Key, Node)>, span: Span) -> Node {
    Node {
        value: Value::Map(entries),
        span,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TENANTS: &str = "apiVersion: mtoctl/v1alpha1\nkind: MultiTenantOrganization\ntenants:\n  - alias: contoso\n    tenantId: 6babcaad-604b-40ac-a9d7-9fd97c0b779f\n    auth:\n      clientId: 0d3f3c4e-5b7a-4c1e-9a8b-1c2d3e4f5a6b\n      clientSecret:\n        fromEnv: CONTOSO_CLIENT_SECRET\n  - alias: fabrikam\n    tenantId: 3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11\n    domain: fabrikam.onmicrosoft.com\n    auth:\n      azureCli: {}\n";

    #[test]
    fn a_tenants_only_file_is_enough() {
        let input = load("tenants.yaml", TENANTS.as_bytes()).expect("valid input");
        let aliases: Vec<&str> = input
            .tenants
            .iter()
            .map(|t| t.spec.alias.as_str())
            .collect();
        assert_eq!(aliases, ["contoso", "fabrikam"]);
        assert_eq!(
            input.tenants[1].spec.domain.as_deref(),
            Some("fabrikam.onmicrosoft.com")
        );
        assert_eq!(input.tenants[0].spec.credential.kind_name(), "clientSecret");
        assert_eq!(
            input.tenants[0]
                .auth
                .client_secret
                .as_ref()
                .map(|c| c.from_env.as_str()),
            Some("CONTOSO_CLIENT_SECRET")
        );
        assert!(input.tenants[1].auth.azure_cli.is_some());
        assert!(input.sync_targets.is_empty());
    }

    #[test]
    fn a_full_spec_is_read_for_its_tenants_and_named_syncs() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/quickstart/mto.yaml"
        ))
        .expect("the quickstart");
        let text = text.replace(
            "  - from: fabrikam\n    to: contoso\n",
            "  - from: fabrikam\n    to: contoso\n    name: Fabrikam to Contoso\n",
        );
        let input = load("mto.yaml", text.as_bytes()).expect("valid input");
        assert_eq!(input.tenants.len(), 2);
        assert_eq!(
            input.sync_targets,
            [SyncTarget {
                from: Alias("fabrikam".into()),
                to: Alias("contoso".into()),
                name: "Fabrikam to Contoso".into(),
            }]
        );
    }

    #[test]
    fn problems_in_tenants_are_located_and_ignored_sections_are_not_checked() {
        let text = TENANTS.replace("3c9c5e9e-1d4b", "not-a-guid")
            + "collaboration: 7\nsync:\n  - from: contoso\n    to: nobody\n    name: X\n";
        let err = load("tenants.yaml", text.as_bytes()).expect_err("invalid");
        let codes: Vec<&str> = err.items().iter().map(|d| d.code).collect();
        assert!(codes.contains(&"spec::guid"), "{codes:?}");
        assert!(
            !codes.iter().any(|c| c.contains("type")),
            "collaboration is not checked: {codes:?}"
        );
        for d in err.items() {
            assert!(d.primary_span().is_some(), "{d:?}");
        }
    }

    #[test]
    fn unknown_aliases_in_sync_hints_are_errors() {
        let text = TENANTS.to_owned() + "sync:\n  - from: contoso\n    to: nobody\n    name: X\n";
        let err = load("tenants.yaml", text.as_bytes()).expect_err("invalid");
        let d = &err.items()[0];
        assert_eq!(d.code, "spec::unknown_alias");
        let span = d.primary_span().expect("located");
        assert_eq!(&text[span.offset..span.offset + span.len], "nobody");
    }

    #[test]
    fn literal_secrets_are_refused() {
        let text = TENANTS.replace(
            "      azureCli: {}\n",
            "      clientId: 7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d\n      clientSecret:\n        fromEnv: abc8Q~0123456789abcdefghijklmnopqrstuvwx\n",
        );
        assert!(load("tenants.yaml", text.as_bytes()).is_err());
    }
}
