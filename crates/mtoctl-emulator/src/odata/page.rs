//! One page of a collection: filtered, ordered (`$orderby`), paged with `$top` and
//! `$skiptoken`, projected, with its `@odata.context`, `@odata.count` and absolute
//! `@odata.nextLink`.

use serde_json::{Map, Value, json};

use super::encoding::percent_encode;
use super::filter::compare;
use super::project::project;
use super::query::{QueryOptions, encode_skiptoken};
use crate::errors::GraphResult;

/// A collection page request.
pub struct PageSpec<'a> {
    /// Context after `$metadata#`, e.g. `users`.
    pub context: &'a str,
    /// The absolute URL of the collection without query, for `@odata.nextLink`.
    pub self_url: String,
    /// Original query pairs (re-emitted in the nextLink).
    pub query: &'a [(String, String)],
    /// Default page size.
    pub default_top: usize,
    /// Default properties when `$select` is absent (`None` = all).
    pub defaults: Option<&'a [&'a str]>,
    /// Graph version (`v1.0` or `beta`) for the context URL.
    pub version: &'a str,
}

/// Filter, page and project `items`, producing the collection body.
pub fn page(
    items: Vec<Map<String, Value>>,
    opts: &QueryOptions,
    spec: &PageSpec<'_>,
) -> GraphResult<Value> {
    let mut matched = Vec::new();
    for it in items {
        let keep = match &opts.filter {
            Some(f) => f.eval_with(&it, opts.case)?,
            None => true,
        };
        if keep {
            matched.push(it);
        }
    }
    if let Some((prop, desc)) = &opts.orderby {
        // Stable sorts over the collection's own order; ascending starts from its reverse, so
        // that ties keep their natural order either way (a log is listed newest first).
        if !desc {
            matched.reverse();
        }
        let key = |m: &Map<String, Value>| {
            m.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(prop))
                .map(|(_, v)| v.clone())
                .unwrap_or(Value::Null)
        };
        matched.sort_by(|a, b| {
            let o = compare(&key(a), &key(b), opts.case).unwrap_or(std::cmp::Ordering::Equal);
            if *desc { o.reverse() } else { o }
        });
    }
    let total = matched.len();
    let top = opts.top.unwrap_or(spec.default_top);
    let start = opts.skip.min(total);
    let end = (start + top).min(total);
    // The page's items are moved out, not copied: this runs behind the emulator's one lock.
    let value: Vec<Value> = matched
        .drain(start..end)
        .map(|m| Value::Object(project(m, opts.select.as_deref(), spec.defaults)))
        .collect();
    let ctx = match &opts.select {
        Some(sel) => format!("{}({})", spec.context, sel.join(",")),
        None => spec.context.to_owned(),
    };
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        json!(format!(
            "https://graph.microsoft.com/{}/$metadata#{ctx}",
            spec.version
        )),
    );
    if opts.count && start == 0 {
        body.insert("@odata.count".into(), json!(total));
    }
    if end < total {
        let mut q: Vec<String> = spec
            .query
            .iter()
            .filter(|(k, _)| !k.trim_start_matches('$').eq_ignore_ascii_case("skiptoken"))
            .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
            .collect();
        q.push(format!("$skiptoken={}", encode_skiptoken(end)));
        body.insert(
            "@odata.nextLink".into(),
            json!(format!("{}?{}", spec.self_url, q.join("&"))),
        );
    }
    body.insert("value".into(), Value::Array(value));
    Ok(Value::Object(body))
}
