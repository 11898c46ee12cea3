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
    let (start, end) = bounds(opts, spec, total);
    // The page's items are moved out, not copied: this runs behind the emulator's one lock.
    let value: Vec<Value> = matched
        .drain(start..end)
        .map(|m| Value::Object(project(m, opts.select.as_deref(), spec.defaults)))
        .collect();
    let mut body = envelope(opts, spec, start, end, total);
    body.insert("value".into(), Value::Array(value));
    Ok(Value::Object(body))
}

/// Where a page of `total` items starts and ends.
fn bounds(opts: &QueryOptions, spec: &PageSpec<'_>, total: usize) -> (usize, usize) {
    let top = opts.top.unwrap_or(spec.default_top);
    let start = opts.skip.min(total);
    (start, (start + top).min(total))
}

/// A page's `@odata.context`, `@odata.count` and `@odata.nextLink`: everything but `value`.
fn envelope(
    opts: &QueryOptions,
    spec: &PageSpec<'_>,
    start: usize,
    end: usize,
    total: usize,
) -> Map<String, Value> {
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
    body
}

/// [`page`] written straight to JSON text, each item by `write` (which writes the properties
/// [`QueryOptions::needs`] asks for, in sorted order, as a tree of them would be written): for
/// collections too large to build as trees behind the emulator's one lock. Items without
/// `$filter` or `$orderby` only, and no default property list; `None` otherwise, for [`page`].
pub fn page_text<T>(
    items: &[&T],
    opts: &QueryOptions,
    spec: &PageSpec<'_>,
    write: impl Fn(&T, &mut Vec<u8>),
) -> Option<String> {
    if opts.filter.is_some() || opts.orderby.is_some() || spec.defaults.is_some() {
        return None;
    }
    let total = items.len();
    let (start, end) = bounds(opts, spec, total);
    let head = serde_json::to_vec(&envelope(opts, spec, start, end, total)).ok()?;
    // The envelope's keys all start with `@`, so `value` comes after them, as in a tree.
    let mut out = Vec::with_capacity(head.len() + 16 + (end - start) * 256);
    out.extend_from_slice(&head[..head.len() - 1]);
    out.extend_from_slice(if head.len() > 2 {
        b",\"value\":["
    } else {
        b"\"value\":["
    });
    for (i, item) in items[start..end].iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write(item, &mut out);
    }
    out.extend_from_slice(b"]}");
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items() -> Vec<Map<String, Value>> {
        (0..7)
            .map(|i| {
                let item =
                    json!({"id": format!("i{i}"), "name": format!("n \"{i}\" é\u{1}"), "rank": i});
                item.as_object().cloned().unwrap_or_default()
            })
            .collect()
    }

    fn spec(query: &[(String, String)]) -> PageSpec<'_> {
        PageSpec {
            context: "things",
            self_url: "http://127.0.0.1/v1.0/things".into(),
            query,
            default_top: 3,
            defaults: None,
            version: "v1.0",
        }
    }

    fn query(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_page_written_as_text_is_the_page_written_from_trees() {
        let second = encode_skiptoken(3);
        let last = encode_skiptoken(6);
        let queries = [
            query(&[]),
            query(&[("$top", "2")]),
            query(&[("$top", "10")]),
            query(&[("$skiptoken", &second)]),
            query(&[("$skiptoken", &last), ("$count", "true")]),
            query(&[("$count", "true"), ("$top", "4")]),
            query(&[("$select", "name,ID")]),
            query(&[("$select", "rank"), ("$top", "1")]),
        ];
        for q in &queries {
            // `$count` needs `ConsistencyLevel: eventual`.
            let opts = QueryOptions::parse(q, true).expect("the query parses");
            let spec = spec(q);
            let tree = page(items(), &opts, &spec).expect("a page");
            let all = items();
            let refs: Vec<&Map<String, Value>> = all.iter().collect();
            let text = page_text(&refs, &opts, &spec, |m, out| {
                let kept = project(m.clone(), opts.select.as_deref(), None);
                serde_json::to_writer(out, &kept).expect("written");
            })
            .expect("no filter, no order: written as text");
            assert_eq!(
                text,
                serde_json::to_string(&tree).expect("written"),
                "query {q:?}"
            );
        }
        // An empty collection.
        let q = query(&[]);
        let opts = QueryOptions::parse(&q, false).expect("the query parses");
        let none: Vec<&Map<String, Value>> = Vec::new();
        let text = page_text(&none, &opts, &spec(&q), |_, _| {}).expect("text");
        let tree = page(Vec::new(), &opts, &spec(&q)).expect("a page");
        assert_eq!(text, serde_json::to_string(&tree).expect("written"));
    }

    #[test]
    fn filtered_or_ordered_pages_are_left_to_trees() {
        let all = items();
        let refs: Vec<&Map<String, Value>> = all.iter().collect();
        let filtered = query(&[("$filter", "id eq 'i1'")]);
        let opts = QueryOptions::parse(&filtered, false).expect("the query parses");
        assert!(page_text(&refs, &opts, &spec(&filtered), |_, _| {}).is_none());
        let ordered = query(&[("$orderby", "activityDateTime desc")]);
        let opts = QueryOptions::parse_for(
            &ordered,
            false,
            super::super::query::Dialect::ProvisioningLogs,
        )
        .expect("the query parses");
        assert!(opts.orderby.is_some());
        assert!(page_text(&refs, &opts, &spec(&ordered), |_, _| {}).is_none());
        let q = query(&[]);
        let opts = QueryOptions::parse(&q, false).expect("the query parses");
        let with_defaults = PageSpec {
            defaults: Some(&["id"]),
            ..spec(&q)
        };
        assert!(page_text(&refs, &opts, &with_defaults, |_, _| {}).is_none());
    }
}
