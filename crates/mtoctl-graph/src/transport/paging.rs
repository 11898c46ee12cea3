//! Reading whole collections: every page after the first (`@odata.nextLink`), the next pages
//! of many collections read together in `$batch` calls, and a bound on broken paging.
//!
//! Pages come either as JSON trees (`get_all`, `follow_all_pages`: the items as [`Value`]s) or
//! as text (`get_all_of_raw`, `follow_all_raw`) for a reader that decodes each page straight
//! into its own types; both follow links the same way.

use serde_json::Value;

use super::{GraphClient, GraphRequest, RawResponse};
use crate::error::GraphError;

/// Pages one collection read follows at most: 10,000 pages of up to 999 objects is far beyond
/// any directory mtoctl manages.
pub const MAX_PAGES: usize = 10_000;

/// The error for a collection that cannot be read page by page.
pub(crate) fn paging_error(tenant: &str, request: &GraphRequest, reason: String) -> GraphError {
    GraphError::Decode {
        tenant: tenant.to_owned(),
        method: request.method.to_string(),
        path: request.path.clone(),
        reason,
    }
}

/// What a page arrives as: a JSON tree, or the answer's text.
trait Page: Sized {
    fn from_raw(tenant: &str, request: &GraphRequest, raw: RawResponse)
    -> Result<Self, GraphError>;
}

impl Page for Value {
    fn from_raw(
        tenant: &str,
        request: &GraphRequest,
        raw: RawResponse,
    ) -> Result<Self, GraphError> {
        raw.into_value()
            .map(|r| r.body)
            .map_err(|e| paging_error(tenant, request, format!("not JSON: {e}")))
    }
}

impl Page for RawResponse {
    fn from_raw(_: &str, _: &GraphRequest, raw: RawResponse) -> Result<Self, GraphError> {
        Ok(raw)
    }
}

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
        let mut items: Vec<Vec<Value>> = firsts.iter().map(|_| Vec::new()).collect();
        let read = self
            .follow_all(tenant, firsts, |index, request, mut page: Value| {
                let next = page
                    .get("@odata.nextLink")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                match page.get_mut("value").map(Value::take) {
                    Some(Value::Array(values)) => items[index].extend(values),
                    _ => {
                        return Err(paging_error(
                            tenant,
                            request,
                            "a collection response has no `value` array".into(),
                        ));
                    }
                }
                Ok(next)
            })
            .await;
        read.into_iter()
            .zip(items)
            .map(|(read, items)| read.map(|()| items))
            .collect()
    }

    /// GETs many collections of one tenant like [`Self::get_all_of`], each page handed as
    /// text to `take` (with the index of its request), which decodes its items wherever the
    /// caller keeps them and returns the page's `@odata.nextLink`. One result per request.
    pub(crate) async fn get_all_of_raw(
        &self,
        tenant: &str,
        requests: &[GraphRequest],
        take: impl FnMut(usize, &GraphRequest, RawResponse) -> Result<Option<String>, GraphError>,
    ) -> Vec<Result<(), GraphError>> {
        let answers = self.send_all_raw(tenant, requests).await;
        let firsts = requests.iter().zip(answers).collect();
        self.follow_all(tenant, firsts, take).await
    }

    /// [`Self::get_all_of_raw`] from first pages already read.
    pub(crate) async fn follow_all_raw(
        &self,
        tenant: &str,
        firsts: Vec<(&GraphRequest, Result<RawResponse, GraphError>)>,
        take: impl FnMut(usize, &GraphRequest, RawResponse) -> Result<Option<String>, GraphError>,
    ) -> Vec<Result<(), GraphError>> {
        self.follow_all(tenant, firsts, take).await
    }

    /// Hands each collection's first page (or its error) and every page after it to `take`,
    /// which keeps the items and returns the link to the next page. A collection stops at its
    /// first error. The collections' next pages are read together in `$batch` calls.
    async fn follow_all<P: Page>(
        &self,
        tenant: &str,
        firsts: Vec<(&GraphRequest, Result<P, GraphError>)>,
        mut take: impl FnMut(usize, &GraphRequest, P) -> Result<Option<String>, GraphError>,
    ) -> Vec<Result<(), GraphError>> {
        struct Paging<'r, P> {
            request: &'r GraphRequest,
            // A page link seen before means Graph (or something posing as it) loops; a
            // bounded number of pages keeps a broken server from holding a run, and its
            // memory, forever.
            seen: std::collections::HashSet<String>,
            page: Option<P>,
            failed: Option<GraphError>,
        }
        let mut all: Vec<Paging<'_, P>> = firsts
            .into_iter()
            .map(|(request, first)| {
                let (page, failed) = match first {
                    Ok(page) => (Some(page), None),
                    Err(e) => (None, Some(e)),
                };
                Paging {
                    request,
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
                let next = take(index, c.request, page).and_then(|next| match next {
                    Some(link) => self.follow(tenant, c.request, link, &mut c.seen).map(Some),
                    None => Ok(None),
                });
                match next {
                    Ok(Some(next)) => round.push((index, next)),
                    Ok(None) => {}
                    Err(e) => c.failed = Some(e),
                }
            }
            if round.is_empty() {
                break;
            }
            let requests: Vec<GraphRequest> = round.iter().map(|(_, r)| r.clone()).collect();
            let answers = self.send_all_raw(tenant, &requests).await;
            for ((index, next), answer) in round.into_iter().zip(answers) {
                let c = &mut all[index];
                match answer.and_then(|raw| P::from_raw(tenant, &next, raw)) {
                    Ok(page) => c.page = Some(page),
                    Err(e) => c.failed = Some(e),
                }
            }
        }
        all.into_iter()
            .map(|c| match c.failed {
                Some(e) => Err(e),
                None => Ok(()),
            })
            .collect()
    }

    /// The request for the page at `next`; an error for a link seen before, too many pages
    /// or a link outside Graph.
    fn follow(
        &self,
        tenant: &str,
        request: &GraphRequest,
        next: String,
        seen: &mut std::collections::HashSet<String>,
    ) -> Result<GraphRequest, GraphError> {
        let paging_error = |reason: String| paging_error(tenant, request, reason);
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
        Ok(follow)
    }
}
