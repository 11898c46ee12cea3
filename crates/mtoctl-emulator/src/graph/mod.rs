//! The Graph surface: request/response values independent of HTTP (so `$batch`
//! items run through exactly the same code as top-level requests) and the
//! router from path segments to resource modules.

pub mod deleted;
pub mod delta;
pub mod directory;
pub mod jobs;
pub mod mto;
pub mod mto_transitions;
pub mod policies;
pub mod reports;
pub mod skus;
pub mod sync;
pub mod templates;

use serde_json::{Map, Value, json};

use crate::core::Core;
use crate::errors::{GraphError, GraphResult};
use crate::odata::QueryOptions;

/// One Graph request (top-level or a `$batch` item).
#[derive(Debug, Clone)]
pub struct GraphRequest {
    /// Upper-case method.
    pub method: String,
    /// Decoded path segments after the version (`["users", "x"]`).
    pub segments: Vec<String>,
    /// Decoded query pairs.
    pub query: Vec<(String, String)>,
    /// The query as sent, undecoded (empty without one).
    pub raw_query: String,
    /// Request headers, lower-case names.
    pub headers: Vec<(String, String)>,
    /// Parsed JSON body, if any.
    pub body: Option<Value>,
}

impl GraphRequest {
    /// A header value by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether `ConsistencyLevel: eventual` was sent.
    pub fn eventual(&self) -> bool {
        self.header("consistencylevel")
            .is_some_and(|v| v.eq_ignore_ascii_case("eventual"))
    }

    /// Parsed OData options.
    pub fn options(&self) -> GraphResult<QueryOptions> {
        QueryOptions::parse(&self.query, self.eventual())
    }

    /// Whether this is a write (charged to write buckets, persisted).
    pub fn is_write(&self) -> bool {
        self.method != "GET"
    }

    /// The JSON object body, or 400.
    pub fn object_body(&self) -> GraphResult<&Map<String, Value>> {
        self.body
            .as_ref()
            .and_then(Value::as_object)
            .ok_or_else(|| GraphError::bad_request("A JSON object request body is required."))
    }
}

/// A response body.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// No content.
    Empty,
    /// JSON.
    Json(Value),
    /// Plain text (`$count`).
    Text(String),
    /// JSON already written as text: a page of a collection too large to build as a tree
    /// first (a configuration's assignments).
    JsonText(String),
    /// A `$batch` answer: each item's envelope and body, written out once the lock is let go.
    Batch(Vec<BatchAnswer>),
}

/// One item of a `$batch` answer.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchAnswer {
    /// The item's id.
    pub id: String,
    /// Its status.
    pub status: u16,
    /// Its headers, `Content-Type` included.
    pub headers: Map<String, Value>,
    /// Its body; `Empty` leaves `body` out.
    pub body: Body,
}

/// The content type of every JSON answer.
pub const JSON_CONTENT_TYPE: &str = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

impl Body {
    /// The body as JSON text (what an HTTP answer carries, or a `$batch` item's `body`), with
    /// keys in the order a tree of them is written; `Empty` writes nothing, `Text` a string.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Body::Empty => {}
            // Writing to a Vec fails only for values that cannot be JSON; none are made here.
            Body::Json(v) => {
                let _ = serde_json::to_writer(&mut *out, v);
            }
            Body::Text(t) => {
                let _ = serde_json::to_writer(&mut *out, t);
            }
            Body::JsonText(t) => out.extend_from_slice(t.as_bytes()),
            Body::Batch(items) => {
                out.extend_from_slice(b"{\"responses\":[");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    // Keys in sorted order, as the map of each item was written before.
                    out.push(b'{');
                    if item.body != Body::Empty {
                        out.extend_from_slice(b"\"body\":");
                        item.body.write_json(out);
                        out.push(b',');
                    }
                    out.extend_from_slice(b"\"headers\":");
                    let _ = serde_json::to_writer(&mut *out, &item.headers);
                    out.extend_from_slice(b",\"id\":");
                    let _ = serde_json::to_writer(&mut *out, &item.id);
                    out.extend_from_slice(format!(",\"status\":{}}}", item.status).as_bytes());
                }
                out.extend_from_slice(b"]}");
            }
        }
    }

    /// About how many bytes [`Self::write_json`] writes, at least for text: a `$batch` of
    /// twenty pages of assignments is 2 MB, written without growing its buffer again and again.
    pub fn size_hint(&self) -> usize {
        match self {
            Body::Empty | Body::Json(_) => 0,
            Body::Text(t) | Body::JsonText(t) => t.len() + 2,
            Body::Batch(items) => items.iter().map(|i| i.body.size_hint() + 256).sum(),
        }
    }

    /// The body as a JSON tree, for observers and tests; `None` for no content and text.
    pub fn to_value(&self) -> Option<std::borrow::Cow<'_, Value>> {
        match self {
            Body::Json(v) => Some(std::borrow::Cow::Borrowed(v)),
            Body::Empty | Body::Text(_) => None,
            Body::JsonText(_) | Body::Batch(_) => {
                let mut text = Vec::new();
                self.write_json(&mut text);
                serde_json::from_slice(&text)
                    .ok()
                    .map(std::borrow::Cow::Owned)
            }
        }
    }
}

/// One Graph response.
#[derive(Debug, Clone)]
pub struct GraphResponse {
    /// Status.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Body,
}

impl GraphResponse {
    /// A JSON response.
    pub fn json(status: u16, v: Value) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Body::Json(v),
        }
    }

    /// 204.
    pub fn no_content() -> Self {
        Self {
            status: 204,
            headers: Vec::new(),
            body: Body::Empty,
        }
    }
}

/// Who is calling and where.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Tenant from the token.
    pub tenant: String,
    /// Client id from the token.
    pub app_id: String,
    /// Granted roles.
    pub roles: Vec<String>,
    /// `v1.0` or `beta`.
    pub version: String,
    /// Absolute base URL of this version (`http://127.0.0.1:PORT/v1.0`), for nextLinks.
    pub base_url: String,
}

impl Ctx {
    /// 403 unless the token carries one of `any_of`.
    pub fn require(&self, any_of: &[&str]) -> GraphResult<()> {
        if any_of.iter().any(|r| self.roles.iter().any(|g| g == r)) {
            Ok(())
        } else {
            Err(GraphError::forbidden())
        }
    }

    /// 403 unless the token carries one of `any_of`, or `Application.ReadWrite.OwnedBy` and
    /// the object's owner (`owner`, a client id) is the caller's app.
    pub fn require_owned(&self, any_of: &[&str], owner: Option<&str>) -> GraphResult<()> {
        let owned = owner.is_some_and(|o| o.eq_ignore_ascii_case(&self.app_id))
            && self.roles.iter().any(|g| g == perms::OWNED_BY);
        if owned { Ok(()) } else { self.require(any_of) }
    }

    /// `@odata.context` URL for `suffix`.
    pub fn context(&self, suffix: &str) -> String {
        format!(
            "https://graph.microsoft.com/{}/$metadata#{suffix}",
            self.version
        )
    }

    /// A created entity's `201` answer: `@odata.context` first, then `m` whole.
    pub fn created(&self, suffix: &str, m: Map<String, Value>) -> GraphResponse {
        let mut out = Map::new();
        out.insert("@odata.context".into(), json!(self.context(suffix)));
        out.extend(m);
        GraphResponse::json(201, Value::Object(out))
    }

    /// An entity body: `@odata.context` first, then `m` projected by `$select`.
    pub fn entity(
        &self,
        suffix: &str,
        m: Map<String, Value>,
        req: &GraphRequest,
    ) -> GraphResult<GraphResponse> {
        let opts = req.options()?;
        let projected = crate::odata::project(m, opts.select.as_deref(), None);
        let mut out = Map::new();
        out.insert("@odata.context".into(), json!(self.context(suffix)));
        out.extend(projected);
        Ok(GraphResponse::json(200, Value::Object(out)))
    }
}

/// Permission groups (any-of) used by the resource modules.
pub mod perms {
    /// Read MTO objects.
    pub const MTO_READ: &[&str] = &[
        "MultiTenantOrganization.ReadBasic.All",
        "MultiTenantOrganization.Read.All",
        "MultiTenantOrganization.ReadWrite.All",
    ];
    /// Write MTO objects.
    pub const MTO_WRITE: &[&str] = &["MultiTenantOrganization.ReadWrite.All"];
    /// Read policies.
    pub const POLICY_READ: &[&str] = &["Policy.Read.All", "Policy.ReadWrite.CrossTenantAccess"];
    /// Write cross-tenant policies.
    pub const POLICY_WRITE: &[&str] = &["Policy.ReadWrite.CrossTenantAccess"];
    /// Read users.
    pub const USER_READ: &[&str] = &[
        "User.Read.All",
        "User.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    ];
    /// Delete users (the reference's only application permission for it).
    pub const USER_WRITE: &[&str] = &["User.ReadWrite.All"];
    /// Read groups.
    pub const GROUP_READ: &[&str] = &[
        "GroupMember.Read.All",
        "Group.Read.All",
        "Group.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    ];
    /// List a group's members ("List group members", application: least privileged
    /// `GroupMember.Read.All`; higher `Directory.Read.All`, `Group.Read.All`,
    /// `Group.ReadWrite.All`, `GroupMember.ReadWrite.All`).
    pub const GROUP_MEMBERS_READ: &[&str] = &[
        "GroupMember.Read.All",
        "GroupMember.ReadWrite.All",
        "Group.Read.All",
        "Group.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    ];
    /// Read applications and service principals.
    pub const APP_READ: &[&str] = &[
        "Application.Read.All",
        "Application.ReadWrite.All",
        "Application.ReadWrite.OwnedBy",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    ];
    /// Manage the applications and service principals the caller's app owns (and create them).
    pub const OWNED_BY: &str = "Application.ReadWrite.OwnedBy";
    /// Read the service principal an app role is assigned on, with `ASSIGN_WRITE` (the
    /// reference's pairs: with `Application.Read.All` or `Directory.Read.All`; `OwnedBy` is not
    /// one of them).
    pub const ASSIGN_APP_READ: &[&str] = &[
        "Application.Read.All",
        "Application.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    ];
    /// Delete or manage any application, owned or not.
    pub const APP_WRITE_ANY: &[&str] = &["Application.ReadWrite.All", "Directory.ReadWrite.All"];
    /// Read any synchronization job (or, with `OWNED_BY`, those of owned service principals).
    pub const SYNC_READ_ANY: &[&str] =
        &["Synchronization.Read.All", "Synchronization.ReadWrite.All"];
    /// Write any synchronization job (or, with `OWNED_BY`, those of owned service principals).
    pub const SYNC_WRITE_ANY: &[&str] = &["Synchronization.ReadWrite.All"];
    /// Create or delete applications.
    pub const APP_WRITE: &[&str] = &[
        "Application.ReadWrite.OwnedBy",
        "Application.ReadWrite.All",
        "Directory.ReadWrite.All",
    ];
    /// Read synchronization.
    pub const SYNC_READ: &[&str] = &[
        "Synchronization.Read.All",
        "Synchronization.ReadWrite.All",
        "Application.ReadWrite.OwnedBy",
    ];
    /// Write synchronization.
    pub const SYNC_WRITE: &[&str] = &[
        "Synchronization.ReadWrite.All",
        "Application.ReadWrite.OwnedBy",
    ];
    /// Manage app role assignments.
    pub const ASSIGN_WRITE: &[&str] = &["AppRoleAssignment.ReadWrite.All"];
}

/// Route one Graph request.
pub fn dispatch(core: &mut Core, ctx: &Ctx, req: &GraphRequest) -> GraphResult<GraphResponse> {
    let segs: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    match segs.as_slice() {
        ["tenantRelationships", "multiTenantOrganization", rest @ ..] => {
            mto::route(core, ctx, req, rest)
        }
        ["policies", "crossTenantAccessPolicy", rest @ ..] => policies::route(core, ctx, req, rest),
        ["policies", "deletedItems", rest @ ..] if ctx.version == "beta" => {
            deleted::route(core, ctx, req, rest)
        }
        ["auditLogs", rest @ ..] => reports::route(core, ctx, req, rest),
        ["subscribedSkus", rest @ ..] => skus::route(core, ctx, req, rest),
        ["users", ..] | ["groups", ..] | ["directoryObjects", ..] => {
            directory::route(core, ctx, req, &segs)
        }
        ["servicePrincipals", ..] | ["applicationTemplates", ..] | ["applications", ..] => {
            sync::route(core, ctx, req, &segs)
        }
        _ => Err(GraphError::unknown_segment(
            segs.first().copied().unwrap_or(""),
        )),
    }
}

/// Validate that a PATCH/POST body has only `allowed` keys.
pub fn check_keys(body: &Map<String, Value>, allowed: &[&str], type_name: &str) -> GraphResult<()> {
    for k in body.keys() {
        if k.starts_with("@odata") {
            continue;
        }
        if !allowed.contains(&k.as_str()) {
            return Err(GraphError::bad_request(format!(
                "Invalid property '{k}' for type 'microsoft.graph.{type_name}', or it is read-only."
            )));
        }
    }
    Ok(())
}

/// A required string property of a body.
pub fn required_str<'a>(body: &'a Map<String, Value>, key: &str) -> GraphResult<&'a str> {
    match body.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        _ => Err(GraphError::bad_request(format!(
            "Property '{key}' is required and must be a non-empty string."
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_answer_is_written_as_its_tree_was() {
        let headers = |pairs: &[(&str, &str)]| -> Map<String, Value> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), json!(v)))
                .collect()
        };
        let answers = vec![
            BatchAnswer {
                id: "1".into(),
                status: 200,
                headers: headers(&[("Content-Type", JSON_CONTENT_TYPE)]),
                body: Body::Json(json!({"value": [{"id": "a\"b"}]})),
            },
            BatchAnswer {
                id: "2".into(),
                status: 200,
                headers: headers(&[("Content-Type", JSON_CONTENT_TYPE)]),
                body: Body::JsonText(r#"{"value":[{"id":"c"}]}"#.into()),
            },
            BatchAnswer {
                id: "3".into(),
                status: 200,
                headers: headers(&[("Content-Type", "text/plain")]),
                body: Body::Text("42".into()),
            },
            BatchAnswer {
                id: "4".into(),
                status: 204,
                headers: headers(&[("Location", "https://x/\u{e9}")]),
                body: Body::Empty,
            },
        ];
        // The tree each answer was before it was written as text.
        let tree = json!({"responses": [
            {"id": "1", "status": 200, "headers": {"Content-Type": JSON_CONTENT_TYPE},
             "body": {"value": [{"id": "a\"b"}]}},
            {"id": "2", "status": 200, "headers": {"Content-Type": JSON_CONTENT_TYPE},
             "body": {"value": [{"id": "c"}]}},
            {"id": "3", "status": 200, "headers": {"Content-Type": "text/plain"}, "body": "42"},
            {"id": "4", "status": 204, "headers": {"Location": "https://x/\u{e9}"}},
        ]});
        let batch = Body::Batch(answers);
        let mut text = Vec::new();
        batch.write_json(&mut text);
        assert_eq!(
            String::from_utf8_lossy(&text),
            serde_json::to_string(&tree).expect("written")
        );
        assert_eq!(batch.to_value().map(|v| v.into_owned()), Some(tree));
    }
}
