//! mtoctl-graph: the only crate that knows Microsoft Graph's URLs and JSON.
//!
//! What it does:
//! - [`auth`]: one credential per tenant from the spec's `auth` section, through azure_identity
//!   (client secret, certificate, workload identity federation, GitHub Actions OIDC, managed
//!   identity, Azure CLI), with the loopback seam for the emulator;
//! - [`endpoints`]: Graph and login URLs, overridable, HTTPS except on loopback;
//! - [`transport`]: one HTTP client, per-tenant read and write lanes, `$batch` packing with
//!   per-item retries, paging, `Retry-After`-honouring retries within a deadline, replication
//!   lag after creates, `client-request-id` and a tracing span on every call;
//! - [`wire`]: typed Graph objects with their exact property names, decoded into the domain
//!   types of `mtoctl_model::observed`;
//! - [`objects`]: the executor's typed operations on each kind of object, with Graph's ways
//!   of answering (find before create, adopting what exists, lost answers) kept inside;
//! - [`collect`]: the observed state of every tenant of a spec, read in parallel waves.
//! - [`discover`]: every sync configuration and assigned principal of a set of tenants, for
//!   `mtoctl export`.
//! - [`record`]: `--record`, every exchange written to a transcript with secrets removed and
//!   personal data replaced by pseudonyms.
//!
//! What it does not do: decide anything (the planner does), print anything (the CLI does), or
//! treat a failed read as an absent object. Secrets and tokens never reach logs, errors or
//! `Debug` output. See docs/ARCHITECTURE.md.

pub mod auth;
pub mod collect;
pub mod discover;
pub mod doctor;
pub mod endpoints;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod health;
pub mod objects;
pub mod record;
pub mod trace;
pub mod transport;
pub mod verify;
pub mod wire;
