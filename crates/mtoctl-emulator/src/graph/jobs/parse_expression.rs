//! `parseExpression` (`synchronization-synchronizationschema-parseexpression`): "Parse a given
//! string expression into an attributeMappingSource object", on a job's schema or a template's.
//!
//! `POST …/jobs/{jobId}/schema/parseExpression` and `POST …/templates/{id}/schema/parseExpression`
//! with `{expression, testInputObject?, targetAttributeDefinition?}` answer `200` and a
//! `parseExpressionResponse`: `parsingSucceeded` and `parsedExpression` (the
//! `attributeMappingSource`, as the reference's example answer shapes it), and, given a
//! `testInputObject` (`expressionInputObject`: its `properties` are the source object),
//! `evaluationSucceeded` and `evaluationResult` (a collection of strings, `["EN_US"]` in the
//! example). A failure is reported in the answer, not by the status: `error` is a `publicError`
//! whose `code` says what kind (`SyntaxError`, `UnknownFunction`, `UnknownAttribute`,
//! `InvalidArguments`, `EvaluationFailed`), whose `message` says where, and whose `target` is
//! the function, attribute or character concerned. Attributes are checked against the source
//! directory's `User` attributes in the schema.

use serde_json::{Map, Value, json};

use crate::errors::{GraphError, GraphResult};
use crate::graph::{Ctx, GraphRequest, GraphResponse, check_keys};
use crate::schema::eval::{self, EvalError};
use crate::schema::{self, expr};

/// The properties of the test object, by key.
fn test_object(body: &Map<String, Value>) -> GraphResult<Option<Map<String, Value>>> {
    let Some(input) = body.get("testInputObject").filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let bad = || {
        GraphError::bad_request(
            "testInputObject must be an expressionInputObject: {definition, properties: [{key, value}]}.",
        )
    };
    let input = input.as_object().ok_or_else(bad)?;
    check_keys(
        input,
        &["definition", "properties"],
        "expressionInputObject",
    )?;
    let mut out = Map::new();
    for p in input
        .get("properties")
        .map(|p| p.as_array().ok_or_else(bad))
        .transpose()?
        .into_iter()
        .flatten()
    {
        let key = p.get("key").and_then(Value::as_str).ok_or_else(bad)?;
        out.insert(
            key.to_owned(),
            p.get("value").cloned().unwrap_or(Value::Null),
        );
    }
    Ok(Some(out))
}

fn public_error(code: &str, message: &str, target: &str) -> Value {
    json!({"code": code, "message": message, "target": target, "details": [], "innerError": null})
}

/// Answer `parseExpression` for `req` on `schema`.
pub(super) fn parse_expression(
    ctx: &Ctx,
    req: &GraphRequest,
    schema_json: &Value,
) -> GraphResult<GraphResponse> {
    let body = req.object_body()?;
    check_keys(
        body,
        &["expression", "testInputObject", "targetAttributeDefinition"],
        "parseExpression",
    )?;
    let text = match body.get("expression") {
        Some(Value::String(s)) => s.as_str(),
        _ => {
            return Err(GraphError::bad_request(
                "Parameter 'expression' (a string) is required.",
            ));
        }
    };
    if body
        .get("targetAttributeDefinition")
        .is_some_and(|d| !d.is_null() && !d.is_object())
    {
        return Err(GraphError::bad_request(
            "targetAttributeDefinition must be an attributeDefinition.",
        ));
    }
    let input = test_object(body)?;
    let attributes = schema::source_attributes(schema_json);
    let mut out = Map::new();
    out.insert(
        "@odata.context".into(),
        json!(ctx.context("microsoft.graph.parseExpressionResponse")),
    );
    match expr::parse(text, Some(&attributes)) {
        Err(e) => {
            out.insert(
                "error".into(),
                public_error(e.kind.code(), &e.message, &e.target),
            );
            out.insert("evaluationResult".into(), Value::Null);
            out.insert("evaluationSucceeded".into(), json!(false));
            out.insert("parsedExpression".into(), Value::Null);
            out.insert("parsingSucceeded".into(), json!(false));
        }
        Ok(e) => {
            let (error, result, succeeded) = match &input {
                None => (Value::Null, Value::Null, false),
                Some(object) => {
                    let lookup = |name: &str| {
                        object
                            .iter()
                            .find(|(k, _)| k.eq_ignore_ascii_case(name))
                            .map(|(_, v)| v.clone())
                            .unwrap_or(Value::Null)
                    };
                    match eval::eval(&e, &lookup) {
                        Ok(v) => (Value::Null, json!(values(&v)), true),
                        // Dropped from the flow: no value.
                        Err(EvalError::Ignore) => (Value::Null, json!([]), true),
                        Err(EvalError::Failed(why)) => (
                            public_error(
                                "EvaluationFailed",
                                &format!("The expression could not be evaluated: {why}."),
                                "",
                            ),
                            Value::Null,
                            false,
                        ),
                    }
                }
            };
            out.insert("error".into(), error);
            out.insert("evaluationResult".into(), result);
            out.insert("evaluationSucceeded".into(), json!(succeeded));
            out.insert("parsedExpression".into(), e.to_source());
            out.insert("parsingSucceeded".into(), json!(true));
        }
    }
    Ok(GraphResponse::json(200, Value::Object(out)))
}

/// An evaluated value as `evaluationResult`'s strings.
fn values(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items.iter().filter_map(eval::text).collect(),
        v => eval::text(v).into_iter().collect(),
    }
}
