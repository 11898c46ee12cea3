//! Reading several paged collections together, round by round, up to a bound on the items read
//! in all, and saying whether any had more.

use serde_json::Value;

use crate::error::GraphError;
use crate::transport::{GraphClient, GraphRequest};

/// The items of several collections whose first pages (or errors) are `firsts`. With `follow`,
/// their next pages are read together, round by round, until `limit` items were read in all;
/// without, only the first pages count. Also whether any collection had more than was read.
pub(super) async fn bounded_pages(
    client: &GraphClient,
    alias: &str,
    requests: &[GraphRequest],
    firsts: Vec<Result<Value, GraphError>>,
    follow: bool,
    limit: usize,
) -> (Vec<Result<Vec<Value>, GraphError>>, bool) {
    let mut pages = Pages {
        client,
        alias,
        follow,
        limit,
        out: Vec::new(),
        next: Vec::new(),
        truncated: false,
        total: 0,
    };
    for (index, (request, first)) in requests.iter().zip(firsts).enumerate() {
        pages.out.push(Ok(Vec::new()));
        pages.take(index, request, first);
    }
    // Each round reads at least one item more or ends, so at most `limit` rounds.
    while !pages.next.is_empty() {
        let round = std::mem::take(&mut pages.next);
        let requests: Vec<GraphRequest> = round.iter().map(|(_, r)| r.clone()).collect();
        let answers = client.send_all(alias, &requests).await;
        for ((index, request), answer) in round.into_iter().zip(answers) {
            if pages.total >= limit {
                pages.truncated = true;
                continue;
            }
            pages.take(index, &request, answer.map(|a| a.body));
        }
    }
    (pages.out, pages.truncated)
}

/// The state of [`bounded_pages`].
struct Pages<'a> {
    client: &'a GraphClient,
    alias: &'a str,
    follow: bool,
    limit: usize,
    out: Vec<Result<Vec<Value>, GraphError>>,
    next: Vec<(usize, GraphRequest)>,
    truncated: bool,
    total: usize,
}

impl Pages<'_> {
    /// Takes one page of collection `index` (read with `request`), and notes its next page.
    fn take(&mut self, index: usize, request: &GraphRequest, page: Result<Value, GraphError>) {
        let failed = |reason: String| GraphError::Decode {
            tenant: self.alias.to_owned(),
            method: request.method.to_string(),
            path: request.path.clone(),
            reason,
        };
        let mut body = match page {
            Ok(body) => body,
            Err(e) => {
                self.out[index] = Err(e);
                return;
            }
        };
        let link = body
            .get("@odata.nextLink")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let Some(Value::Array(items)) = body.get_mut("value").map(Value::take) else {
            self.out[index] = Err(failed("a collection response has no `value` array".into()));
            return;
        };
        self.total += items.len();
        if let Ok(list) = &mut self.out[index] {
            list.extend(items);
        }
        let Some(link) = link else { return };
        match self.client.endpoints().relative_of(&link) {
            Some(relative) if self.follow && self.total < self.limit => {
                self.next.push((index, GraphRequest::get(relative)));
            }
            Some(_) => self.truncated = true,
            None => {
                self.out[index] = Err(failed(format!(
                    "`@odata.nextLink` points outside Graph: {link}"
                )));
            }
        }
    }
}
