//! Why a credential could not be set up for a tenant, before any network call.

/// Why a credential could not be set up for a tenant (before any network call).
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// An environment variable the spec names is not set.
    #[error(
        "tenant {tenant}: the environment variable {variable} (named by {field} in the spec) is not set; export it before running mtoctl"
    )]
    MissingVariable {
        /// Tenant alias.
        tenant: String,
        /// The variable.
        variable: String,
        /// The spec field naming it.
        field: String,
    },
    /// A file the spec names cannot be read.
    #[error("tenant {tenant}: cannot read {what} `{path}`: {reason}")]
    File {
        /// Tenant alias.
        tenant: String,
        /// What the file is.
        what: String,
        /// Its path.
        path: String,
        /// The OS error.
        reason: String,
    },
    /// The credential library refused the configuration.
    #[error("tenant {tenant}: cannot set up the {kind} credential: {reason}")]
    Setup {
        /// Tenant alias.
        tenant: String,
        /// Credential kind.
        kind: String,
        /// Why.
        reason: String,
    },
    /// An endpoint override is not acceptable.
    #[error("{0}")]
    Endpoint(String),
}
