//! The executor's typed view of Graph: one module per kind of object, each operation an async
//! function over [`GraphClient`] that takes and returns domain values (typed states, the
//! observations `collect` makes, ids) and fails with an [`ObjectError`] chaining the
//! [`GraphError`] behind it. No caller sees a path or a JSON value.
//!
//! How Graph answers stays here, as wire facts: creates find before they create on stable
//! keys and adopt an "already exists" answer once the object is seen; a create Graph would
//! carry out twice is never re-sent after an answer that leaves open whether it acted, but
//! looked for first, through the replication lag after a create; a DELETE that finds nothing
//! has nothing left to do.

pub mod assignments;
pub mod jobs;
pub mod organization;
pub mod partners;
pub mod sync;
pub mod users;

use std::future::Future;
use std::time::Duration;

use mtoctl_model::observed::Known;
use serde_json::Value;

use crate::error::GraphError;
use crate::transport::{GraphClient, GraphRequest, GraphResponse};
pub use crate::wire::answers::ConfigurationIds;
pub use crate::wire::sync::ScheduleState;
pub use crate::wire::writes::{
    B2bWrite, ConsentWrite, FilterGroupWrite, MappingWrite, PartnerSettingsWrite, RuleWrite,
    SchemaError, SchemaWrite, TrustWrite,
};

/// What a create did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Made<T> {
    /// This call made it (or an attempt of this call whose answer was lost, where so said).
    Created(T),
    /// It existed already and was verified: made earlier, or by another run.
    Adopted(T),
}

impl<T> Made<T> {
    /// Whether an existing object was adopted.
    pub fn adopted(&self) -> bool {
        matches!(self, Made::Adopted(_))
    }

    /// What was made or adopted.
    pub fn into_inner(self) -> T {
        match self {
            Made::Created(x) | Made::Adopted(x) => x,
        }
    }
}

/// Why an operation on a Graph object failed. Each message says what was being done; the
/// Graph error underneath is its `source()`.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    /// Graph refused a request or did not answer it.
    #[error("cannot {action}")]
    Graph {
        /// What the request was for (`add the member`).
        action: &'static str,
        /// Graph's error (boxed: errors travel in `Result`s everywhere).
        #[source]
        source: Box<GraphError>,
    },
    /// A write failed and the read that would have shown whether it was made all the same
    /// failed too.
    #[error(
        "cannot {action} ({write}); and the list could not be re-read to see whether it was made all the same"
    )]
    Unverified {
        /// What the write was for.
        action: &'static str,
        /// The write's error.
        write: Box<GraphError>,
        /// The read's error.
        #[source]
        read: Box<GraphError>,
    },
    /// An answer that is not what the wire reference describes.
    #[error("cannot read {what}")]
    Decode {
        /// What was read.
        what: &'static str,
        /// Why it does not decode.
        #[source]
        source: serde_json::Error,
    },
    /// An answer without what mtoctl needs from it.
    #[error("{0}")]
    Answer(&'static str),
    /// More than one configuration has the name a create looks for.
    #[error("{count} sync configurations are named {name}; refusing to guess which one to use")]
    Ambiguous {
        /// The name.
        name: String,
        /// How many have it.
        count: usize,
    },
    /// The settings of a configuration could not be read, so writing them could wipe keys an
    /// administrator set.
    #[error(
        "the settings of configuration {sp} could not be read, so they were not written (the answer was not a list of key/value pairs)"
    )]
    UnreadableSecrets {
        /// The configuration's service principal id.
        sp: String,
    },
    /// A mapping names an attribute the job's schema does not have.
    #[error(
        "the schema of job {job} has no {side} attribute `{attribute}`; nothing was written to it"
    )]
    UnknownAttribute {
        /// The job.
        job: String,
        /// The attribute.
        attribute: String,
        /// `source` or `target`.
        side: &'static str,
    },
    /// Graph could not parse a mapping's expression.
    #[error(
        "Graph could not parse the expression mapped to {target} (`{expression}`): {reason}; nothing was written to the schema"
    )]
    Expression {
        /// The target attribute.
        target: String,
        /// The expression.
        expression: String,
        /// Graph's reason.
        reason: String,
    },
    /// The schema as read cannot take the managed parts.
    #[error("cannot edit the schema of job {job}")]
    Schema {
        /// The job.
        job: String,
        /// Why.
        #[source]
        source: SchemaError,
    },
}

/// How Graph spells a value of one of its enums (`owner`, `pending`), for messages; a value
/// mtoctl does not know is shown as Graph sent it.
pub fn spelling<T: serde::Serialize>(value: &Known<T>) -> String {
    match value {
        Known::Known(v) => match serde_json::to_value(v) {
            Ok(Value::String(text)) => text,
            _ => String::new(),
        },
        Known::Unknown(text) => text.clone(),
    }
}

/// The error of a request made to `action`.
fn failed(action: &'static str) -> impl FnOnce(GraphError) -> ObjectError {
    move |source| ObjectError::Graph {
        action,
        source: Box::new(source),
    }
}

/// Whether Graph says there is no such object.
fn gone(e: &GraphError) -> bool {
    e.is_not_found() || e.status() == Some(404)
}

/// Sends one request.
async fn send(
    c: &GraphClient,
    t: &str,
    r: &GraphRequest,
    action: &'static str,
) -> Result<GraphResponse, ObjectError> {
    c.send(t, r).await.map_err(failed(action))
}

/// A GET that is `None` on 404.
async fn find(
    c: &GraphClient,
    t: &str,
    r: &GraphRequest,
    action: &'static str,
) -> Result<Option<Value>, ObjectError> {
    match c.send(t, r).await {
        Ok(resp) => Ok(Some(resp.body)),
        Err(e) if gone(&e) => Ok(None),
        Err(e) => Err(failed(action)(e)),
    }
}

/// Every item of a collection, every page read.
async fn list(
    c: &GraphClient,
    t: &str,
    r: &GraphRequest,
    action: &'static str,
) -> Result<Vec<Value>, ObjectError> {
    c.get_all(t, r).await.map_err(failed(action))
}

/// A DELETE that counts 404 (already gone) as done.
async fn delete(
    c: &GraphClient,
    t: &str,
    r: &GraphRequest,
    action: &'static str,
) -> Result<(), ObjectError> {
    match c.send(t, r).await {
        Ok(_) => Ok(()),
        Err(e) if gone(&e) => Ok(()),
        Err(e) => Err(failed(action)(e)),
    }
}

/// POSTs of a create that makes a new object each time (instantiate, a job), at most.
const CREATE_ATTEMPTS: u32 = 3;

/// Whether a failed create may have been carried out by Graph all the same: no answer, a
/// timeout, a cut-off body, or a 5xx other than 503 (Graph answers 429 and 503 before acting).
fn ambiguous(e: &GraphError) -> bool {
    !matches!(e.status(), Some(s) if s < 500 || s == 503)
}

/// Looks for an object after a failed create, a few times over about three seconds: what an
/// attempt made may take a moment to be listed (replication lag). A second POST is sent only
/// when it is still not found, so an answer lost after Graph acted does not make a duplicate.
async fn settle<T, F, Fut>(find: F) -> Result<Option<T>, ObjectError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<Option<T>, ObjectError>>,
{
    for pause in [0u64, 500, 1000, 1500] {
        tokio::time::sleep(Duration::from_millis(pause)).await;
        if let Some(found) = find().await? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// How a create that must not be repeated blindly went.
enum Attempt<T> {
    /// Graph answered it, with this.
    Answered(T),
    /// It failed, but the object was found afterwards (made by a lost attempt, or by another
    /// run in the meantime).
    Found(T),
}

/// Sends a create Graph would carry out twice with [`GraphClient::send_create`]: after an
/// answer that leaves open whether Graph acted, the object is looked for (`find`) before the
/// create is sent again, at most [`CREATE_ATTEMPTS`] times in all.
async fn create_once<T, F, Fut>(
    c: &GraphClient,
    t: &str,
    request: &GraphRequest,
    action: &'static str,
    decode: impl Fn(&Value) -> Result<T, ObjectError>,
    find: F,
) -> Result<Attempt<T>, ObjectError>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<Option<T>, ObjectError>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        match c.send_create(t, request).await {
            Ok(resp) => return decode(&resp.body).map(Attempt::Answered),
            Err(e) => {
                if let Some(found) = settle(&find).await? {
                    return Ok(Attempt::Found(found));
                }
                if !ambiguous(&e) || attempt >= CREATE_ATTEMPTS {
                    return Err(failed(action)(e));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::StatusError;
    use mtoctl_model::observed::{MemberRole, MemberState};

    fn status(code: u16) -> GraphError {
        GraphError::Status(Box::new(StatusError {
            tenant: "contoso".into(),
            method: "POST".into(),
            path: "/x".into(),
            status: code,
            code: "c".into(),
            message: "m".into(),
            request_id: None,
            retry_after: None,
        }))
    }

    #[test]
    fn only_answers_that_leave_open_whether_graph_acted_are_ambiguous() {
        for code in [400, 404, 409, 429, 503] {
            assert!(!ambiguous(&status(code)), "{code}");
        }
        for code in [500, 502, 504] {
            assert!(ambiguous(&status(code)), "{code}");
        }
        assert!(ambiguous(&GraphError::UnknownTenant("contoso".into())));
    }

    #[test]
    fn values_are_spelled_as_graph_spells_them() {
        assert_eq!(spelling(&Known::Known(MemberRole::Owner)), "owner");
        assert_eq!(spelling(&Known::Known(MemberState::Removed)), "removed");
        assert_eq!(spelling::<MemberState>(&Known::Unknown("x".into())), "x");
    }

    #[test]
    fn a_graph_failure_names_what_it_was_for_and_chains_graphs_error() {
        let e = failed("add the member")(status(400));
        assert_eq!(e.to_string(), "cannot add the member");
        let source = std::error::Error::source(&e).map(ToString::to_string);
        assert_eq!(source, Some(status(400).to_string()));
    }
}
