//! Reading whole collections: every page after the first (`@odata.nextLink`), the next pages
//! of many collections read together in `$batch` calls, and a bound on broken paging.

use serde_json::Value;

use super::{GraphClient, GraphRequest};
use crate::error::GraphError;

/// Pages one collection read follows at most: 10,000 pages of up to 999 objects is far beyond
/// any directory mtoctl manages.
pub const MAX_PAGES: usize = 10_000;

impl GraphClient {
    /// GETs a collection and every further page (`@odata.nextLink`), returning all items.
    pub async fn get_all(
        &self,
        tenant: &str,
        request: &GraphRequest,
    ) -> Result<Vec<Value>, GraphError> {
        let first = self.send(tenant, request).await?;
        self.follow_pages(tenant, request, first.body).await
    }

    /// GETs many collections of one tenant (their first pages in `$batch` calls) and every
    /// further page of each, read together: one result per request, in order.
    pub async fn get_all_of(
        &self,
        tenant: &str,
        requests: &[GraphRequest],
    ) -> Vec<Result<Vec<Value>, GraphError>> {
        let answers = self.send_all(tenant, requests).await;
        let firsts = requests
            .iter()
            .zip(answers)
            .map(|(request, answer)| (request, answer.map(|r| r.body)))
            .collect();
        self.follow_all_pages(tenant, firsts).await
    }

    /// Collects `value` from a page and from every page after it.
    pub async fn follow_pages(
        &self,
        tenant: &str,
        request: &GraphRequest,
        page: Value,
    ) -> Result<Vec<Value>, GraphError> {
        self.follow_all_pages(tenant, vec![(request, Ok(page))])
            .await
            .pop()
            .unwrap_or_else(|| Err(GraphError::UnknownTenant(tenant.to_owned())))
    }

    /// Collects `value` from each collection's first page (or its error) and every page after
    /// it, one result per collection in order. The collections' next pages are read together,
    /// packed into `$batch` calls: a hub with 99 sync configurations of 1,000 assignments
    /// each reads their second pages in one round trip, not 99 one after another.
    pub async fn follow_all_pages(
        &self,
        tenant: &str,
        firsts: Vec<(&GraphRequest, Result<Value, GraphError>)>,
    ) -> Vec<Result<Vec<Value>, GraphError>> {
        struct Paging<'r> {
            request: &'r GraphRequest,
            items: Vec<Value>,
            // A page link seen before means Graph (or something posing as it) loops; a
            // bounded number of pages keeps a broken server from holding a run, and its
            // memory, forever.
            seen: std::collections::HashSet<String>,
            page: Option<Value>,
            failed: Option<GraphError>,
        }
        let mut all: Vec<Paging<'_>> = firsts
            .into_iter()
            .map(|(request, first)| {
                let (page, failed) = match first {
                    Ok(page) => (Some(page), None),
                    Err(e) => (None, Some(e)),
                };
                Paging {
                    request,
                    items: Vec::new(),
                    seen: std::collections::HashSet::new(),
                    page,
                    failed,
                }
            })
            .collect();
        loop {
            let mut round: Vec<(usize, GraphRequest)> = Vec::new();
            for (index, c) in all.iter_mut().enumerate() {
                let Some(page) = c.page.take() else { continue };
                match self.next_page(tenant, c.request, page, &mut c.items, &mut c.seen) {
                    Ok(Some(next)) => round.push((index, next)),
                    Ok(None) => {}
                    Err(e) => c.failed = Some(e),
                }
            }
            if round.is_empty() {
                break;
            }
            let requests: Vec<GraphRequest> = round.iter().map(|(_, r)| r.clone()).collect();
            let answers = self.send_all(tenant, &requests).await;
            for ((index, _), answer) in round.into_iter().zip(answers) {
                match answer {
                    Ok(r) => all[index].page = Some(r.body),
                    Err(e) => all[index].failed = Some(e),
                }
            }
        }
        all.into_iter()
            .map(|c| match c.failed {
                Some(e) => Err(e),
                None => Ok(c.items),
            })
            .collect()
    }

    /// Takes a page's items into `items` and returns the request for the page after it, if
    /// any; an error for a page without `value`, a link seen before, too many pages or a link
    /// outside Graph.
    fn next_page(
        &self,
        tenant: &str,
        request: &GraphRequest,
        mut page: Value,
        items: &mut Vec<Value>,
        seen: &mut std::collections::HashSet<String>,
    ) -> Result<Option<GraphRequest>, GraphError> {
        let paging_error = |reason: String| GraphError::Decode {
            tenant: tenant.to_owned(),
            method: request.method.to_string(),
            path: request.path.clone(),
            reason,
        };
        let next = page
            .get("@odata.nextLink")
            .and_then(Value::as_str)
            .map(str::to_owned);
        match page.get_mut("value").map(Value::take) {
            Some(Value::Array(values)) => items.extend(values),
            _ => {
                return Err(paging_error(
                    "a collection response has no `value` array".into(),
                ));
            }
        }
        let Some(next) = next else {
            return Ok(None);
        };
        if !seen.insert(next.clone()) {
            return Err(paging_error(format!(
                "`@odata.nextLink` leads back to a page already read ({} pages in); the collection cannot be read",
                seen.len()
            )));
        }
        if seen.len() >= MAX_PAGES {
            return Err(paging_error(format!(
                "the collection has more than {MAX_PAGES} pages; mtoctl stops there"
            )));
        }
        let Some(relative) = self.inner.endpoints.relative_of(&next) else {
            return Err(paging_error(format!(
                "`@odata.nextLink` points outside Graph: {next}"
            )));
        };
        let mut follow = GraphRequest::get(relative);
        follow.eventual = request.eventual;
        Ok(Some(follow))
    }
}
