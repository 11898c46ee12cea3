//! Semantic validation: from a structurally valid document to a [`DesiredState`].
//!
//! Runs after the schema check, on whatever parts of the document could be read, so that one
//! run reports every problem: a tenant with a wrong type does not stop the sync section from
//! being checked. Each rule family has its own module.

mod collaboration;
mod sync;
mod tenants;
mod values;

use std::collections::{BTreeMap, BTreeSet};

use serde::de::DeserializeOwned;
use serde_json::Value as Json;

use super::diagnostic::Diagnostic;
use super::document::{BetaFeature, Collaboration, Organization, PruneKind, SyncDirection, Tenant};
use super::node::{Node, Path, PathSegment, Span, Value};
use crate::desired::{DesiredState, OrganizationSpec, TenantSpec};

/// The most active tenants an organization may have (Graph's limit, owners included).
pub const MAX_TENANTS: usize = 100;

/// What validation produced: the desired state when there were no errors, and all findings.
pub struct Outcome {
    /// `Some` when no finding is an error.
    pub desired: Option<DesiredState>,
    /// Errors and warnings.
    pub findings: Vec<Diagnostic>,
}

/// Validates the document's meaning. `removed` lists paths already reported (unknown fields,
/// literal secrets); they are dropped before the typed read so the rest can still be checked.
pub fn validate(root: &Node, removed: &[Path]) -> Outcome {
    validate_with(root, removed, &[], &[])
}

/// [`validate`] after the structural check: besides `removed`, the values it reported wrong
/// (`wrong`, dropped too, so an optional field takes its default) and `stand_ins` for required
/// fields and list items it reported (so their element is still read and checked). Findings
/// at or below any of these paths are muted: they would only echo what was reported.
pub(crate) fn validate_with(
    root: &Node,
    removed: &[Path],
    wrong: &[Path],
    stand_ins: &[(Path, Json)],
) -> Outcome {
    validate_split(root, removed, wrong, stand_ins, sync::SPLIT_ENTRIES)
}

/// [`validate_with`], the sync entries checked in two halves on two threads when their scopes
/// hold `split_from` entries or more.
fn validate_split(
    root: &Node,
    removed: &[Path],
    wrong: &[Path],
    stand_ins: &[(Path, Json)],
    split_from: usize,
) -> Outcome {
    let (json, mut cx) = prepare(root, removed, wrong, stand_ins);
    let doc = PartialDocument::read(&json, root);

    let organization = doc.organization.as_ref().map(|o| cx.organization(o));
    let tenants = tenants::check(&mut cx, &doc);
    let collaboration = collaboration::check(&mut cx, &doc, &tenants);
    let syncs = sync::check(&mut cx, &doc, &tenants, collaboration.as_ref(), split_from);

    let has_errors = cx
        .findings
        .iter()
        .any(|d| d.severity == super::diagnostic::Severity::Error);
    let desired = match (organization.flatten(), collaboration, syncs) {
        (Some(organization), Some(collaboration), Some(syncs))
            if !has_errors && tenants.complete =>
        {
            Some(DesiredState {
                organization,
                tenants: tenants.specs.into_iter().map(|(_, t)| t).collect(),
                collaboration,
                syncs,
                prune: doc.prune.iter().copied().collect::<BTreeSet<PruneKind>>(),
                beta: doc.beta.clone(),
            })
        }
        _ => None,
    };
    Outcome {
        desired,
        findings: cx.findings,
    }
}

/// The tenants of a document that the structural check found nothing wrong with at or below
/// `tenants` (a partial document will do: one read up to its tenants), when the tenants' own
/// rules find nothing wrong either; `None` otherwise. The rest of the document is not read.
pub(crate) fn tenants_alone(root: &Node) -> Option<Vec<TenantSpec>> {
    let (json, mut cx) = prepare(root, &[], &[], &[]);
    let doc = PartialDocument::read(&json, root);
    let table = tenants::check(&mut cx, &doc);
    let clean = table.complete
        && !cx
            .findings
            .iter()
            .any(|d| d.severity == super::diagnostic::Severity::Error);
    clean.then(|| table.specs.into_iter().map(|(_, t)| t).collect())
}

/// The document as JSON for the typed read, `removed` and `wrong` paths dropped and
/// `stand_ins` set, and a context that mutes findings at or below any of them.
fn prepare<'a>(
    root: &'a Node,
    removed: &[Path],
    wrong: &[Path],
    stand_ins: &[(Path, Json)],
) -> (Json, Cx<'a>) {
    let mut json = root.to_json();
    for path in removed.iter().chain(wrong) {
        remove_path(&mut json, path);
    }
    for (path, value) in stand_ins {
        set_path(&mut json, path, value.clone());
    }
    let altered: BTreeSet<Path> = wrong
        .iter()
        .cloned()
        .chain(stand_ins.iter().map(|(p, _)| p.clone()))
        .collect();
    let cx = Cx {
        root,
        findings: Vec::new(),
        muted: Vec::new(),
        tainted: removed
            .iter()
            .cloned()
            .chain(altered.iter().cloned())
            .collect(),
        altered,
    };
    (json, cx)
}

/// Validation context: the tree for locations, and the findings so far.
pub(crate) struct Cx<'a> {
    root: &'a Node,
    findings: Vec<Diagnostic>,
    /// Findings at a tainted path, dropped: they would only echo an earlier one.
    muted: Vec<Diagnostic>,
    /// Paths already reported and removed or replaced; rules that would only echo them stay
    /// quiet, and findings at or below them are muted. Ordered, so that the paths below one
    /// are a range: a list of 100,000 wrong values must not make each lookup a scan.
    tainted: BTreeSet<Path>,
    /// The tainted paths whose value was wrong (not merely an unknown field or a secret):
    /// the typed read holds a default or a stand-in there, not what was written.
    altered: BTreeSet<Path>,
}

impl Cx<'_> {
    /// A context for checking part of the document on another thread: the same tree and
    /// tainted paths, no findings yet.
    fn fork(&self) -> Self {
        Cx {
            root: self.root,
            findings: Vec::new(),
            muted: Vec::new(),
            tainted: self.tainted.clone(),
            altered: self.altered.clone(),
        }
    }

    /// Takes the findings of a [`Cx::fork`], after this context's own.
    fn absorb(&mut self, part: Cx<'_>) {
        self.findings.extend(part.findings);
        self.muted.extend(part.muted);
    }

    /// The span of the value at `path`.
    fn span(&self, path: &Path) -> Span {
        self.root.span_of(path)
    }

    /// The span of the key introducing `path`, or of its value.
    fn key_span(&self, path: &Path) -> Span {
        self.root
            .key_span_of(path)
            .unwrap_or_else(|| self.span(path))
    }

    /// Whether something at or below `path` was already reported and removed.
    fn tainted_below(&self, path: &Path) -> bool {
        at_or_below(&self.tainted, path)
    }

    /// Whether a value at or below `path` was reported wrong, so what the rules read there
    /// is a default or a stand-in rather than what the spec says.
    fn altered_below(&self, path: &Path) -> bool {
        at_or_below(&self.altered, path)
    }

    /// Whether `path` or a path above it was already reported and removed.
    fn tainted_above(&self, path: &Path) -> bool {
        (0..=path.0.len()).any(|n| self.tainted.contains(&Path(path.0[..n].to_vec())))
    }

    /// Records a finding, or mutes it when its place was reported already.
    fn push(&mut self, d: Diagnostic, path: &Path) -> &mut Diagnostic {
        let sink = if self.tainted_above(path) {
            &mut self.muted
        } else {
            &mut self.findings
        };
        sink.push(d);
        let last = sink.len() - 1;
        &mut sink[last]
    }

    /// An error located at the value of `path`.
    fn error(
        &mut self,
        code: &'static str,
        path: &Path,
        message: String,
        label: &str,
    ) -> &mut Diagnostic {
        let d = Diagnostic::error(code, message)
            .at_path(path.clone())
            .label(self.span(path), label);
        self.push(d, path)
    }

    /// A warning located at the value of `path`.
    fn warning(
        &mut self,
        code: &'static str,
        path: &Path,
        message: String,
        label: &str,
    ) -> &mut Diagnostic {
        let d = Diagnostic::warning(code, message)
            .at_path(path.clone())
            .label(self.span(path), label);
        self.push(d, path)
    }

    fn organization(&mut self, org: &Organization) -> Option<OrganizationSpec> {
        let path = Path::root().key("organization").key("displayName");
        if org.display_name.trim().is_empty() {
            self.error(
                "spec::empty",
                &path,
                "the organization's display name is empty".into(),
                "empty",
            )
            .help = Some("give the organization the name its tenants will see".into());
            return None;
        }
        Some(OrganizationSpec {
            display_name: org.display_name.clone(),
            description: org.description.clone(),
        })
    }
}

impl Diagnostic {
    fn with_help(&mut self, help: impl Into<String>) -> &mut Self {
        self.help = Some(help.into());
        self
    }

    fn with_label(&mut self, span: Span, message: impl Into<String>) -> &mut Self {
        self.labels.push(super::diagnostic::Label {
            span,
            message: message.into(),
        });
        self
    }
}

/// The parts of a document that could be read as typed values. A list element that cannot be
/// read is `None` but keeps its place, so indices (and paths) stay right.
pub(crate) struct PartialDocument {
    organization: Option<Organization>,
    tenants: Vec<Option<Tenant>>,
    /// Aliases of tenant entries that could not be read, so references to them are not
    /// reported as unknown.
    unreadable_aliases: BTreeSet<String>,
    collaboration: Option<Collaboration>,
    sync: Vec<Option<SyncDirection>>,
    /// `from` and `to` of each sync entry as raw strings, to check references of entries that
    /// could not be read as a whole.
    sync_ends: Vec<(Option<String>, Option<String>)>,
    prune: Vec<PruneKind>,
    /// The beta features opted into.
    beta: BTreeSet<BetaFeature>,
    /// Whether the top-level lists were readable at all.
    tenants_readable: bool,
    /// The `role` of every tenant entry as written, readable or not.
    raw_roles: Vec<Option<String>>,
    /// A `collaboration` section is present but could not be read (reported already).
    collaboration_unreadable: bool,
}

impl PartialDocument {
    /// Reads `json`, the document as the rules see it (reported values removed or replaced);
    /// `root` is the document as written.
    fn read(json: &Json, root: &Node) -> Self {
        let field = |name: &str| json.get(name);
        let list = |name: &str| field(name).and_then(Json::as_array);
        let tenants_json = list("tenants");
        let tenants: Vec<Option<Tenant>> = tenants_json
            .map(|items| items.iter().map(read).collect())
            .unwrap_or_default();
        let unreadable_aliases = tenants_json
            .map(|items| {
                items
                    .iter()
                    .zip(&tenants)
                    .filter(|(_, parsed)| parsed.is_none())
                    .filter_map(|(raw, _)| raw.get("alias")?.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        Self {
            organization: field("organization").and_then(read),
            tenants,
            unreadable_aliases,
            collaboration: field("collaboration").and_then(read),
            sync: list("sync")
                .map(|items| items.iter().map(read).collect())
                .unwrap_or_default(),
            sync_ends: list("sync")
                .map(|items| {
                    let end = |item: &Json, k: &str| {
                        item.get(k).and_then(Json::as_str).map(str::to_owned)
                    };
                    items
                        .iter()
                        .map(|item| (end(item, "from"), end(item, "to")))
                        .collect()
                })
                .unwrap_or_default(),
            prune: list("prune")
                .map(|items| items.iter().filter_map(read).collect())
                .unwrap_or_default(),
            beta: list("beta")
                .map(|items| items.iter().filter_map(read).collect())
                .unwrap_or_default(),
            tenants_readable: tenants_json.is_some(),
            // As written: a misspelt role was dropped from `json`, but still says which
            // tenant was meant to be the owner.
            raw_roles: match root.get("tenants").map(|(_, n)| &n.value) {
                Some(Value::Seq(items)) => items
                    .iter()
                    .map(|t| match t.get("role").map(|(_, r)| &r.value) {
                        Some(Value::Str(role)) => Some(role.clone()),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            },
            collaboration_unreadable: field("collaboration")
                .is_some_and(|c| !c.is_null() && read::<Collaboration>(c).is_none()),
        }
    }
}

/// A field that only Graph's beta API can read or write is an error unless the spec opts
/// into that beta feature: a beta API may change without notice, so using one is a choice.
pub(crate) fn require_beta(
    cx: &mut Cx<'_>,
    doc: &PartialDocument,
    feature: BetaFeature,
    path: &Path,
    what: &str,
) -> bool {
    if doc.beta.contains(&feature) {
        return true;
    }
    let name = match feature {
        BetaFeature::GroupSync => "groupSync",
    };
    cx.error(
        "spec::beta_required",
        path,
        format!("{what} uses Microsoft Graph's beta API, which this spec has not opted into"),
        "needs a beta API",
    )
    .with_help(format!(
        "add `beta: [{name}]` at the top level of the spec to opt in (beta APIs may change without notice), or remove this field"
    ));
    false
}

fn read<T: DeserializeOwned>(value: &Json) -> Option<T> {
    T::deserialize(value).ok()
}

/// The last segment of `path` and the node it is in, if the tree has that node.
fn parent_of<'a, 'p>(
    json: &'a mut Json,
    path: &'p Path,
) -> Option<(&'p PathSegment, &'a mut Json)> {
    let (last, parents) = path.0.split_last()?;
    let mut node = json;
    for segment in parents {
        node = match (segment, node) {
            (PathSegment::Key(k), Json::Object(map)) => map.get_mut(k)?,
            (PathSegment::Index(i), Json::Array(items)) => items.get_mut(*i)?,
            _ => return None,
        };
    }
    Some((last, node))
}

/// Removes the value at `path` from a JSON tree (a mapping entry, or a list element's content).
fn remove_path(json: &mut Json, path: &Path) {
    let Some((last, node)) = parent_of(json, path) else {
        return;
    };
    match (last, node) {
        (PathSegment::Key(k), Json::Object(map)) => {
            map.remove(k);
        }
        (PathSegment::Index(i), Json::Array(items)) => {
            if let Some(item) = items.get_mut(*i) {
                *item = Json::Null;
            }
        }
        _ => {}
    }
}

/// Whether `set` holds `path` or a path below it: those sort right after `path`.
fn at_or_below(set: &BTreeSet<Path>, path: &Path) -> bool {
    set.range(path.clone()..)
        .next()
        .is_some_and(|t| t.starts_with(path))
}

/// Puts `value` at `path` in a JSON tree (a mapping entry, or a list element), if its parent
/// is there.
fn set_path(json: &mut Json, path: &Path, value: Json) {
    let Some((last, node)) = parent_of(json, path) else {
        return;
    };
    match (last, node) {
        (PathSegment::Key(k), Json::Object(map)) => {
            map.insert(k.clone(), value);
        }
        (PathSegment::Index(i), Json::Array(items)) => {
            if let Some(item) = items.get_mut(*i) {
                *item = value;
            }
        }
        _ => {}
    }
}

/// The tenants that validated, by alias, and whether every tenant entry did.
pub(crate) struct TenantTable {
    /// Tenant index in the spec, and its resolved form.
    specs: Vec<(usize, TenantSpec)>,
    /// Aliases of tenants that exist but could not be validated: references to them get no
    /// follow-up findings (matched ignoring case, to stay quiet rather than guess).
    unresolvable: BTreeSet<String>,
    /// Whether every tenant validated.
    complete: bool,
}

impl TenantTable {
    /// Resolves an alias reference: `Ok(Some)` for a valid tenant, `Ok(None)` for a tenant that
    /// exists but is itself invalid, `Err` for an unknown alias.
    fn resolve(&self, alias: &str) -> Result<Option<&TenantSpec>, ()> {
        if let Some((_, t)) = self.specs.iter().find(|(_, t)| t.alias.as_str() == alias) {
            return Ok(Some(t));
        }
        if self
            .unresolvable
            .iter()
            .any(|a| a.eq_ignore_ascii_case(alias))
        {
            return Ok(None);
        }
        Err(())
    }

    /// Every alias declared, valid or not, for suggestions.
    fn declared(&self) -> Vec<&str> {
        let mut all: Vec<&str> = self.specs.iter().map(|(_, t)| t.alias.as_str()).collect();
        all.extend(self.unresolvable.iter().map(String::as_str));
        all.sort_unstable();
        all.dedup();
        all
    }

    /// Every valid tenant's alias, in spec order.
    fn all(&self) -> impl Iterator<Item = &TenantSpec> {
        self.specs.iter().map(|(_, t)| t)
    }
}

/// Reports an alias reference that resolves to no tenant. Returns the tenant when it resolves.
fn resolve_alias<'t>(
    cx: &mut Cx<'_>,
    table: &'t TenantTable,
    path: &Path,
    alias: &str,
) -> Option<&'t TenantSpec> {
    match table.resolve(alias) {
        Ok(t) => t,
        // The tenant list itself was reported unreadable: no alias can be judged.
        Err(()) if cx.tainted_above(&Path::root().key("tenants")) => None,
        Err(()) => {
            let known = table.declared();
            let suggestion = super::suggest::did_you_mean(alias, known.iter().copied());
            let help = match suggestion {
                Some(s) => format!("did you mean `{s}`?"),
                None if known.is_empty() => "declare the tenant under `tenants:`".to_owned(),
                None => format!("tenants in this spec: {}", known.join(", ")),
            };
            cx.error(
                "spec::unknown_alias",
                path,
                format!("unknown tenant alias `{alias}`"),
                "not declared under `tenants:`",
            )
            .with_help(help);
            None
        }
    }
}

/// Groups values by key and returns the keys seen more than once, with every index.
fn duplicates<K: Ord + Clone>(keys: impl IntoIterator<Item = (usize, K)>) -> Vec<(K, Vec<usize>)> {
    let mut seen: BTreeMap<K, Vec<usize>> = BTreeMap::new();
    for (i, k) in keys {
        seen.entry(k).or_default().push(i);
    }
    seen.into_iter().filter(|(_, v)| v.len() > 1).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two tenants and eight sync entries, with findings in both halves and one across them.
    const SPEC: &str = r#"
apiVersion: mtoctl/v1alpha1
kind: MultiTenantOrganization
organization: {displayName: Split}
tenants:
  - {alias: a, tenantId: 6babcaad-604b-40ac-a9d7-9fd97c0b779f, displayName: A, role: owner,
     domain: a.example, auth: {clientId: 0d3f3c4e-5b7a-4c1e-9a8b-1c2d3e4f5a6b, clientSecret: {fromEnv: A_SECRET}}}
  - {alias: b, tenantId: 3c9c5e9e-1d4b-4f8e-9a51-6f0b2d7c8a11, displayName: B, role: member,
     domain: b.example, auth: {clientId: 7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d, clientSecret: {fromEnv: B_SECRET}}}
collaboration:
  allPairs: {allowUsersSyncInbound: true, automaticUserConsent: {inbound: true, outbound: true}}
sync:
  - {from: a, to: b, scope: {users: [u1@a.example, u2@a.example, u1@a.example]}}
  - {from: a, to: b, name: Second, scope: {users: [not a upn, u3@a.example]}}
  - {from: b, to: a, scope: {users: [v1@b.example], groups: [Sales]}}
  - {from: a, to: c, scope: {users: [u4@a.example]}}
  - {from: b, to: a, name: Fourth, scope: {users: ["v2@", v3@b.example]}}
  - {from: a, to: b, scope: {users: [u5@a.example]}}
  - {from: b, to: b, scope: {users: [v4@b.example]}}
  - {from: b, to: a, name: Last, scope: {users: [v5@b.example, v5@b.example], groups: [Ops]}}
"#;

    fn outcome(text: &str, split_from: usize) -> Outcome {
        let root = crate::spec::yaml::parse(text).expect("YAML");
        validate_split(&root, &[], &[], &[], split_from)
    }

    #[test]
    fn checking_the_syncs_in_two_halves_finds_what_one_pass_finds() {
        let root = crate::spec::yaml::parse(SPEC).expect("YAML");
        let doc = PartialDocument::read(&root.to_json(), &root);
        assert_eq!(
            sync::halfway(&doc, 0),
            Some(4),
            "split where half the entries are"
        );
        assert_eq!(sync::halfway(&doc, 1_000), None, "too few entries to split");

        let one_pass = outcome(SPEC, usize::MAX);
        let halves = outcome(SPEC, 0);
        let codes: Vec<&str> = one_pass.findings.iter().map(|d| d.code).collect();
        for code in [
            "spec::duplicate_principal",
            "spec::upn",
            "spec::unknown_alias",
            "spec::self_sync",
            "spec::duplicate_sync",
        ] {
            assert!(codes.contains(&code), "{code} missing from {codes:?}");
        }
        assert_eq!(halves.findings, one_pass.findings);
        assert!(one_pass.desired.is_none());

        // A valid spec resolves to the same desired state either way.
        let valid = SPEC
            .replace("not a upn", "u6@a.example")
            .replace("to: c", "to: b, name: Third")
            .replace("\"v2@\"", "v2@b.example")
            .replace("{from: b, to: b,", "{from: b, to: a, name: Fifth,")
            .replace(
                "{from: a, to: b, scope: {users: [u5",
                "{from: a, to: b, name: Sixth, scope: {users: [u5",
            );
        let one_pass = outcome(&valid, usize::MAX);
        let halves = outcome(&valid, 0);
        assert!(one_pass.desired.is_some(), "{:#?}", one_pass.findings);
        assert_eq!(halves.desired, one_pass.desired);
        assert_eq!(halves.findings, one_pass.findings);
    }
}
