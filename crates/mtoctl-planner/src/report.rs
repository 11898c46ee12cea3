//! Why the planner could not produce a plan.

use mtoctl_model::ids::Alias;

/// Why the planner could not produce a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanError {
    /// The observed state has no entry for a tenant of the spec: its collection is incomplete,
    /// and planning against it would read a failed read as "absent".
    MissingObservation {
        /// The tenant.
        tenant: Alias,
    },
    /// An invariant of the planner itself does not hold. This is a bug in mtoctl.
    Bug {
        /// What went wrong.
        message: String,
    },
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlanError::MissingObservation { tenant } => write!(
                f,
                "the observed state has nothing for tenant {tenant}; cannot plan against a partial read"
            ),
            PlanError::Bug { message } => {
                write!(
                    f,
                    "programming error in the planner (please report it): {message}"
                )
            }
        }
    }
}

impl std::error::Error for PlanError {}
