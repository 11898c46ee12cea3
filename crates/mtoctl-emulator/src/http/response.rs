//! An outcome as the HTTP response sent: body with Graph's content type, status, headers,
//! tracing ids and date, or a connection reset mid-response.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body as AxumBody, Bytes};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;

use super::pipeline::Outcome;
use crate::graph::{Body, JSON_CONTENT_TYPE};

/// The HTTP response of an outcome: its body, status and headers, or a reset.
pub(super) fn to_http(o: Outcome, date: &str) -> Response {
    let status =
        StatusCode::from_u16(o.response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = if o.reset {
        Response::new(AxumBody::new(ResetBody))
    } else {
        match o.response.body {
            Body::Empty => Response::new(AxumBody::empty()),
            body @ (Body::Json(_) | Body::JsonText(_) | Body::Batch(_)) => {
                // Straight to bytes: `to_string` goes through `fmt` and copies once more.
                let mut bytes = Vec::with_capacity(body.size_hint());
                body.write_json(&mut bytes);
                let mut r = Response::new(AxumBody::from(bytes));
                r.headers_mut()
                    .insert("content-type", HeaderValue::from_static(JSON_CONTENT_TYPE));
                r
            }
            Body::Text(t) => {
                let mut r = Response::new(AxumBody::from(t));
                r.headers_mut()
                    .insert("content-type", HeaderValue::from_static("text/plain"));
                r
            }
        }
    };
    *resp.status_mut() = if o.reset { StatusCode::OK } else { status };
    let h = resp.headers_mut();
    for (k, v) in o.response.headers {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        ) {
            h.insert(k, v);
        }
    }
    if let Ok(v) = HeaderValue::from_str(&o.trace.request_id) {
        h.insert("request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(&o.trace.client_request_id) {
        h.insert("client-request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(date) {
        h.insert("date", v);
    }
    resp
}

/// A body that fails on first poll: hyper aborts the connection, which the
/// client observes as a reset mid-response.
struct ResetBody;

impl http_body::Body for ResetBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected connection reset",
        ))))
    }
}
