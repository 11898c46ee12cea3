//! mtoctl-model: the spec language and mtoctl's pure vocabulary.
//!
//! What it does: reads a spec (YAML) into a validated [`DesiredState`] with every problem
//! reported at once and located ([`spec::load`]); generates the spec language's JSON Schema
//! ([`spec::schema`]); defines typed ids ([`ids`]).
//!
//! What it does not do: any I/O (callers pass bytes in and print findings themselves), any
//! network access, anything async. One scoped thread: a large `sync` section's entries are
//! checked in two halves. The planner, the Graph client and the executor build on these
//! types; see docs/ARCHITECTURE.md.

pub mod desired;
pub mod doctor;
pub mod expression;
pub mod health;
pub mod ids;
pub mod known;
pub mod observed;
pub mod plan;
pub mod spec;
pub mod trace;

pub use desired::DesiredState;
pub use observed::ObservedState;
