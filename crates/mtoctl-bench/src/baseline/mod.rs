//! # The baseline client: what administrators run today, measured beside mtoctl
//!
//! A client modelled on Terraform with the azuread/msgraph providers, or a script on
//! Microsoft's Graph SDK, driving Microsoft's documented flow (graph-reference §10):
//!
//! - **one request per resource**, never `$batch` ([`client`]);
//! - **Terraform's parallelism**: at most 10 resources in progress at once, each starting once
//!   the resources it references exist ([`walk`]);
//! - **lookups one by one**, as a data source reads them: each user is resolved with its own
//!   `GET /users?$filter=userPrincipalName eq '…'` (each group with `displayName eq`), all
//!   before any change, as `terraform apply` plans first ([`flow`]);
//! - **the SDKs' retry handler**: 429, 503 and 504 retried after `Retry-After` ([`client`]);
//! - **a refresh for a no-op plan**: one `GET` per resource in the state and every lookup again
//!   ([`refresh`]).
//!
//! It shares nothing with mtoctl's planner, executor or Graph client. docs/benchmarks.md says
//! why each choice is what those tools do, and where the baseline is kinder than they are.

pub mod client;
pub mod flow;
pub mod refresh;
pub mod walk;

use std::sync::{Arc, Mutex};

pub use client::Counts;
pub use flow::Shared;

use crate::worlds::Layout;

/// Terraform's default `-parallelism`.
pub const PARALLELISM: usize = 10;

/// A baseline client for `layout`'s tenants on the Graph at `base`.
pub fn new(base: &str, secret: &str, layout: Layout) -> anyhow::Result<Arc<Shared>> {
    Ok(Arc::new(Shared {
        client: client::Client::new(base, secret, &layout.tenants)?,
        layout,
        state: Mutex::new(flow::State::default()),
    }))
}

/// `terraform apply` from scratch, joins included.
pub async fn apply(sh: &Arc<Shared>) -> anyhow::Result<()> {
    flow::apply(sh, PARALLELISM).await
}

/// `terraform plan` after the apply: must find nothing to do.
pub async fn plan(sh: &Arc<Shared>) -> anyhow::Result<()> {
    refresh::plan(sh, PARALLELISM).await
}
