//! Signing in before the Graph client exists: credentials made from tenants known early (a
//! spec's tenants read ahead of the rest of it), each asking for its token at once, so that the
//! client built later finds the tokens cached instead of waiting a round trip for them.

use std::sync::Arc;

use azure_core::credentials::TokenCredential;
use mtoctl_model::desired::TenantSpec;

use super::{AuthContext, GRAPH_SCOPE, credential_with_retry};
use crate::transport::retry::RetryPolicy;

/// Credentials made ahead of the client, and the context they were made with.
pub struct SignedInAhead {
    ctx: AuthContext,
    made: Vec<(TenantSpec, Arc<dyn TokenCredential>)>,
}

impl std::fmt::Debug for SignedInAhead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedInAhead")
            .field("ctx", &self.ctx)
            .field("tenants", &self.made.len())
            .finish()
    }
}

impl SignedInAhead {
    /// Makes each tenant's credential with `ctx` and `retry` and has it ask for its Graph token
    /// on `runtime` now. A failed sign-in is kept by the credential's cache for the first
    /// request to report; a tenant whose credential cannot be made is left out, for the
    /// client's own attempt to report.
    pub fn begin(
        tenants: Vec<TenantSpec>,
        ctx: AuthContext,
        retry: &RetryPolicy,
        runtime: &tokio::runtime::Handle,
    ) -> Self {
        let made = tenants
            .into_iter()
            .filter_map(|tenant| {
                let credential = credential_with_retry(&tenant, &ctx, retry).ok()?;
                let asking = Arc::clone(&credential);
                runtime.spawn(async move {
                    let _ = asking.get_token(&[GRAPH_SCOPE], None).await;
                });
                Some((tenant, credential))
            })
            .collect();
        Self { ctx, made }
    }

    /// The context the credentials were made with, for making the others the same way.
    pub fn context(&self) -> &AuthContext {
        &self.ctx
    }

    /// How many tenants are being signed in to.
    pub fn len(&self) -> usize {
        self.made.len()
    }

    /// Whether no tenant is.
    pub fn is_empty(&self) -> bool {
        self.made.is_empty()
    }

    /// The credential made for `tenant`, if one was made from exactly these settings.
    pub fn credential(&self, tenant: &TenantSpec) -> Option<Arc<dyn TokenCredential>> {
        self.made
            .iter()
            .find(|(made_for, _)| made_for == tenant)
            .map(|(_, credential)| Arc::clone(credential))
    }
}
