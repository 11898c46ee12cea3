//! mtoctl-contract: checks Microsoft Graph requests and answers against Microsoft's published
//! Graph v1.0 metadata.
//!
//! What it does: embeds a trimmed copy of `microsoftgraph/msgraph-metadata`'s
//! `clean_v10_metadata/cleanMetadata.xml` (`data/graph-v1.0.json`, see `data/README.md`), parses it
//! once, and reports [`Finding`]s for a request ([`Contract::check_request`]: the path resolves
//! through entity sets, singletons, keys, navigation and structural properties, casts, bound
//! actions and functions, `$count` and `$ref`; the method suits what the path addresses; the body
//! and the query options name only declared properties, parameters and enum members with the
//! right JSON kinds) and for an answer ([`Contract::check_answer`]: a 2xx JSON body holds only
//! declared properties of the right kinds, and the non-nullable ones). It is test tooling: the
//! end-to-end tests record every request mtoctl sends to the emulator and every answer the
//! emulator gives, and assert that there are no findings.
//!
//! Beta: [`Contract::beta`] checks the requests and answers of the few beta paths mtoctl uses (the
//! identity sync policy of a partner, with its beta-only `groupSyncInbound`) against a beta overlay
//! of the same commit (`data/graph-beta-overlay.json`); other beta paths are not checked.
//!
//! What it does not do: it knows nothing the metadata does not say, so no status codes, error
//! bodies, required request properties, permissions, throttling or eventual consistency; it does
//! not check `$batch` envelopes (the caller checks their items one by one); it accepts any value of
//! a type trimmed from the file; it does no I/O and sends nothing.

mod departures;
pub mod log;
mod model;
mod path;
mod query;
mod values;

use std::sync::OnceLock;

use serde_json::Value;

use model::{Kind, Model, TypeRef};
use query::{Shaping, parse_query};
use values::{Checker, Mode, Required, Shape};

/// Types whose default property set (an answer without `$select`) Graph documents as partial: a
/// missing non-nullable property of these is not reported unless it was `$select`ed.
pub const PARTIAL_DEFAULT_TYPES: &[&str] = &["user", "group"];

/// The base type whose lists hold users, groups, service principals ...: a name is accepted on it
/// when any type in the file that derives from it declares the name.
const DIRECTORY_OBJECT: &str = "directoryObject";

const METADATA: &str = include_str!("../data/graph-v1.0.json");

/// Whether `path` (after the version segment) is the partner list or one partner with its
/// identity sync policy expanded: how a spec opted into group sync reads partners on beta.
pub fn is_partner_read_with_sync(path: &str) -> bool {
    let (path_only, query) = split_query(path);
    path_only.starts_with("/policies/crossTenantAccessPolicy/partners")
        && !path_only.contains("/identitySynchronization")
        && query.contains("$expand=identitySynchronization")
}

/// The beta overlay: the types whose beta shape mtoctl relies on (`data/graph-beta-overlay.json`,
/// see `data/README.md`).
const BETA_OVERLAY: &str = include_str!("../data/graph-beta-overlay.json");

/// The parsed Graph v1.0 metadata, and the checks made against it.
#[derive(Debug)]
pub struct Contract {
    model: Model,
    /// For the beta contract, the entity types the overlay redefines: only paths addressing one
    /// of them are checked on beta ([`Contract::covers`]). Empty for v1.0.
    beta_roots: Vec<String>,
}

/// One way a request or an answer departs from the metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The request's HTTP method.
    pub method: String,
    /// The request's path after the version segment, with its query, as given.
    pub path: String,
    /// What is wrong, naming the segment, option or JSON path concerned.
    pub problem: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.method, self.path, self.problem)
    }
}

/// What a path addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    /// A collection of entities (an entity set or a collection-valued navigation property).
    EntityCollection,
    /// One entity (a key, a singleton, or a single-valued navigation property).
    Entity,
    /// A structural property (complex, enum or primitive; single or collection).
    ComplexOrPrimitiveProperty,
    /// A bound action (POST only).
    Action,
    /// A bound function (GET only).
    Function,
    /// `$count` of a collection.
    Count,
    /// `$ref` of an entity or of a collection of entities.
    Ref,
    /// Below an entity whose type was trimmed from the file: not checked.
    Unchecked,
}

/// The result of resolving a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// What the path addresses.
    pub kind: TargetKind,
    /// The type, without the `microsoft.graph.` prefix: for a collection, its element type; for an
    /// action or function, its return type (element type if a collection), empty if it returns
    /// nothing; for `$count`, the counted element type; for `Unchecked`, the trimmed type.
    pub type_name: String,
    /// Whether the target is a collection (for an action or function: whether it returns one).
    pub collection: bool,
    /// The action's or function's name.
    pub operation: Option<String>,
    op_index: Option<usize>,
}

impl Contract {
    /// The v1.0 contract, parsed once.
    ///
    /// # Panics
    ///
    /// If the embedded metadata file does not parse (a broken build, caught by this crate's tests).
    pub fn v1() -> &'static Contract {
        static CONTRACT: OnceLock<Contract> = OnceLock::new();
        CONTRACT.get_or_init(|| Contract {
            model: Model::parse(METADATA).expect("embedded data/graph-v1.0.json parses"),
            beta_roots: Vec::new(),
        })
    }

    /// The beta contract, as far as this crate knows beta: the v1.0 file with the types of the
    /// beta overlay (`data/graph-beta-overlay.json`: `crossTenantIdentitySyncPolicyPartner` with
    /// `groupSyncInbound`, from msgraph-metadata's beta type mappings and beta CSDLs) put in their
    /// place. Only the paths it [covers](Contract::covers) are beta-checked; for any other beta
    /// path it would wrongly hold v1.0's shapes, so callers skip those.
    ///
    /// # Panics
    ///
    /// If an embedded file does not parse (a broken build, caught by this crate's tests).
    pub fn beta() -> &'static Contract {
        static CONTRACT: OnceLock<Contract> = OnceLock::new();
        CONTRACT.get_or_init(|| {
            let mut model = Model::parse(METADATA).expect("embedded data/graph-v1.0.json parses");
            let beta_roots = model
                .overlay(BETA_OVERLAY)
                .expect("embedded data/graph-beta-overlay.json parses");
            Contract { model, beta_roots }
        })
    }

    /// Whether this contract checks `path` (after the version segment, query allowed): always for
    /// v1.0; for beta, only a path that addresses an entity type of the overlay (the identity
    /// sync policy of a partner: `/policies/crossTenantAccessPolicy/partners/{id}/identitySynchronization`).
    pub fn covers(&self, path: &str) -> bool {
        if self.beta_roots.is_empty() {
            return true;
        }
        let (path_only, _) = split_query(path);
        self.resolve(path_only).is_ok_and(|t| {
            matches!(t.kind, TargetKind::Entity | TargetKind::EntityCollection)
                && self.beta_roots.contains(&t.type_name)
        })
    }

    /// The msgraph-metadata commit the embedded file was extracted from.
    pub fn source_commit(&self) -> &str {
        &self.model.commit
    }

    /// Resolves a path (after the version segment, without its query; segments may be
    /// percent-encoded) to what it addresses, or says which segment does not resolve and on which
    /// type it was looked up.
    pub fn resolve(&self, path_without_query: &str) -> Result<Target, String> {
        self.model.resolve(path_without_query)
    }

    /// Findings for one request. `path` is everything after the version segment, with its query,
    /// as sent on the wire (may be percent-encoded: `%XX` is decoded and `+` is NOT a space), e.g.
    /// `/servicePrincipals?$filter=displayName%20eq%20'x'&$select=id,appId`. `POST /$batch` gives
    /// no findings: the caller checks its items.
    pub fn check_request(&self, method: &str, path: &str, body: Option<&Value>) -> Vec<Finding> {
        let problems = self.request_problems(method, path, body);
        findings(method, path, problems)
    }

    /// Findings for one answer to that request (status and parsed JSON body; `None` for an empty
    /// body). Only 2xx answers with a body are checked; a path that does not resolve gives no
    /// findings here (the request's check reports it).
    pub fn check_answer(
        &self,
        method: &str,
        path: &str,
        status: u16,
        body: Option<&Value>,
    ) -> Vec<Finding> {
        let problems = self.answer_problems(method, path, status, body);
        findings(method, path, problems)
    }

    fn request_problems(&self, method: &str, path: &str, body: Option<&Value>) -> Vec<String> {
        let (path_only, query) = split_query(path);
        if is_batch(path_only) {
            return if method == "POST" {
                Vec::new()
            } else {
                vec![format!("{method} is not allowed on $batch (POST only)")]
            };
        }
        let target = match self.resolve(path_only) {
            Ok(t) => t,
            Err(e) => return vec![e],
        };
        let mut problems = Vec::new();
        let method_ok = self.check_method(&target, method, &mut problems);
        self.model
            .check_query(&target, &parse_query(query), &mut problems);
        if let Some(body) = body {
            if matches!(method, "GET" | "DELETE" | "HEAD") {
                problems.push(format!("a request body is not expected on {method}"));
            } else if method_ok {
                self.check_body(&target, body, &mut problems);
            }
        }
        problems
    }

    /// Whether `method` suits the target; reports it if not.
    fn check_method(&self, target: &Target, method: &str, problems: &mut Vec<String>) -> bool {
        let t = &target.type_name;
        let op = target.operation.as_deref().unwrap_or_default();
        let (allowed, what): (&[&str], String) = match target.kind {
            TargetKind::EntityCollection => (&["GET", "POST"], format!("a collection of {t}")),
            TargetKind::Entity => (&["GET", "PATCH", "PUT", "DELETE"], format!("a single {t}")),
            TargetKind::ComplexOrPrimitiveProperty => {
                let written = if target.collection {
                    format!("Collection({t})")
                } else {
                    t.clone()
                };
                (
                    &["GET", "PUT", "PATCH"],
                    format!("a property of type {written}"),
                )
            }
            TargetKind::Action => (&["POST"], format!("action `{op}` (POST only)")),
            TargetKind::Function => (&["GET"], format!("function `{op}` (GET only)")),
            TargetKind::Count => (&["GET"], format!("$count of {t} (GET only)")),
            TargetKind::Ref => (&["GET", "POST", "PUT", "DELETE"], format!("$ref of {t}")),
            TargetKind::Unchecked => return true,
        };
        if allowed.contains(&method) {
            return true;
        }
        problems.push(format!("{method} is not allowed on {what}"));
        false
    }

    fn check_body(&self, target: &Target, body: &Value, problems: &mut Vec<String>) {
        let mut checker = Checker::new(&self.model, Mode::Request);
        match target.kind {
            TargetKind::EntityCollection | TargetKind::Entity => {
                checker.object("body", &target.type_name, body, Shape::LOOSE);
            }
            TargetKind::ComplexOrPrimitiveProperty => {
                let ty = TypeRef {
                    name: target.type_name.clone(),
                    collection: target.collection,
                };
                match self.model.kind(&ty.name) {
                    Kind::Unknown => {}
                    Kind::Structured if !ty.collection => {
                        checker.object("body", &ty.name, body, Shape::LOOSE)
                    }
                    _ => wrapped(
                        &mut checker,
                        "body",
                        &ty,
                        body,
                        Shape::LOOSE,
                        "a property body",
                    ),
                }
            }
            TargetKind::Action => self.check_action_body(target, body, &mut checker),
            TargetKind::Ref => {
                let Some(obj) = body.as_object() else {
                    checker.problems.push(
                        "body of a $ref request must be a JSON object with `@odata.id`".to_owned(),
                    );
                    return problems.extend(checker.problems);
                };
                match obj.get("@odata.id") {
                    Some(Value::String(_)) => {}
                    Some(_) => checker
                        .problems
                        .push("body.@odata.id must be a string".to_owned()),
                    None => checker
                        .problems
                        .push("body of a $ref request has no `@odata.id`".to_owned()),
                }
                for key in obj.keys().filter(|k| *k != "@odata.id") {
                    checker.problems.push(format!(
                        "body.{key} is not part of a $ref body (only `@odata.id`)"
                    ));
                }
            }
            TargetKind::Function | TargetKind::Count | TargetKind::Unchecked => {}
        }
        problems.extend(checker.problems);
    }

    fn check_action_body(&self, target: &Target, body: &Value, checker: &mut Checker<'_>) {
        let Some(op) = target.op_index.map(|i| &self.model.operations[i]) else {
            return;
        };
        let Some(obj) = body.as_object() else {
            checker.problems.push(format!(
                "body of action `{}` must be a JSON object",
                op.name
            ));
            return;
        };
        for (key, value) in obj {
            if key.starts_with('@') || key.contains("@odata.") {
                checker.problems.push(format!(
                    "body: instance annotation `{key}` is not part of a request body"
                ));
                continue;
            }
            match op.parameters.iter().find(|(p, _)| p == key) {
                Some((_, ty)) => {
                    checker.value(&format!("body.{key}"), ty, true, value, Shape::LOOSE)
                }
                None if op.parameters.is_empty() => {
                    checker.problems.push(format!(
                        "body.{key}: action `{}` takes no parameters",
                        op.name
                    ));
                }
                None => {
                    let names: Vec<&str> = op.parameters.iter().map(|(p, _)| p.as_str()).collect();
                    checker.problems.push(format!(
                        "body.{key} is not a parameter of action `{}` (parameters: {})",
                        op.name,
                        names.join(", ")
                    ));
                }
            }
        }
    }

    fn answer_problems(
        &self,
        method: &str,
        path: &str,
        status: u16,
        body: Option<&Value>,
    ) -> Vec<String> {
        let Some(body) = body else { return Vec::new() };
        let (path_only, query) = split_query(path);
        if !(200..300).contains(&status) || is_batch(path_only) {
            return Vec::new();
        }
        let Ok(target) = self.resolve(path_only) else {
            return Vec::new();
        };
        let shaping: Shaping =
            self.model
                .check_query(&target, &parse_query(query), &mut Vec::new());
        let shape = Shape {
            required: shaping
                .select
                .as_deref()
                .map_or(Required::All, Required::Selected),
            expand: &shaping.expand,
        };
        let mut checker = Checker::new(&self.model, Mode::Answer);
        let element = |collection| TypeRef {
            name: target.type_name.clone(),
            collection,
        };
        match (target.kind, method) {
            (TargetKind::EntityCollection, "GET") => {
                collection_answer(&mut checker, &target.type_name, body, shape)
            }
            (TargetKind::EntityCollection, "POST") => {
                checker.object("answer", &target.type_name, body, Shape::FULL)
            }
            (TargetKind::Entity, "GET" | "PATCH" | "PUT") => {
                checker.object("answer", &target.type_name, body, shape)
            }
            (TargetKind::ComplexOrPrimitiveProperty, "GET" | "PATCH" | "PUT") => {
                let ty = element(target.collection);
                match self.model.kind(&ty.name) {
                    Kind::Unknown => {}
                    Kind::Structured if !ty.collection => {
                        checker.object("answer", &ty.name, body, Shape::FULL)
                    }
                    _ if ty.collection => {
                        collection_answer(&mut checker, &ty.name, body, Shape::FULL)
                    }
                    _ => wrapped(&mut checker, "answer", &ty, body, Shape::FULL, "an answer"),
                }
            }
            (TargetKind::Action, "POST") | (TargetKind::Function, "GET")
                if !target.type_name.is_empty() =>
            {
                checker.delta = target.kind == TargetKind::Function
                    && target.operation.as_deref() == Some("delta");
                let ty = element(target.collection);
                match self.model.kind(&ty.name) {
                    Kind::Unknown => {}
                    _ if ty.collection => collection_answer(&mut checker, &ty.name, body, shape),
                    Kind::Structured => checker.object("answer", &ty.name, body, shape),
                    _ => wrapped(&mut checker, "answer", &ty, body, Shape::FULL, "an answer"),
                }
            }
            _ => {}
        }
        checker.problems
    }
}

/// `{"@odata.context": ..., "value": [...], "@odata.nextLink"?: ...}` with elements of `element`.
fn collection_answer(checker: &mut Checker<'_>, element: &str, body: &Value, shape: Shape<'_>) {
    let Some(obj) = body.as_object() else {
        checker
            .problems
            .push("answer must be a JSON object with a `value` array".to_owned());
        return;
    };
    for key in obj
        .keys()
        .filter(|k| *k != "value" && !k.starts_with("@odata."))
    {
        checker
            .problems
            .push(format!("answer.{key} is not part of a collection answer"));
    }
    match obj.get("value") {
        Some(v) => checker.value(
            "answer.value",
            &TypeRef {
                name: element.to_owned(),
                collection: true,
            },
            true,
            v,
            shape,
        ),
        None => checker
            .problems
            .push("answer has no `value` array".to_owned()),
    }
}

/// `{"value": ...}`: a primitive, enum or collection value wrapped in an object.
fn wrapped(
    checker: &mut Checker<'_>,
    path: &str,
    ty: &TypeRef,
    body: &Value,
    shape: Shape<'_>,
    what: &str,
) {
    let Some(obj) = body.as_object() else {
        checker
            .problems
            .push(format!("{path} must be a JSON object with `value`"));
        return;
    };
    for key in obj.keys().filter(|k| *k != "value") {
        let annotation = key.starts_with('@') || key.contains("@odata.");
        if checker.mode == Mode::Request && annotation {
            checker.problems.push(format!(
                "{path}: instance annotation `{key}` is not part of a request body"
            ));
        } else if !(checker.mode == Mode::Answer && key.starts_with("@odata.")) {
            checker
                .problems
                .push(format!("{path}.{key} is not part of {what} (only `value`)"));
        }
    }
    match obj.get("value") {
        Some(v) => checker.value(&format!("{path}.value"), ty, true, v, shape),
        None => checker.problems.push(format!("{path} has no `value`")),
    }
}

fn split_query(path: &str) -> (&str, &str) {
    path.split_once('?').unwrap_or((path, ""))
}

fn is_batch(path: &str) -> bool {
    path.trim_end_matches('/') == "/$batch" || path == "$batch"
}

fn findings(method: &str, path: &str, problems: Vec<String>) -> Vec<Finding> {
    problems
        .into_iter()
        .map(|problem| Finding {
            method: method.to_owned(),
            path: path.to_owned(),
            problem,
        })
        .collect()
}

#[cfg(test)]
mod tests;
