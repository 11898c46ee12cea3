//! Reading a saved plan: the one place that checks a plan file's size, form and format version,
//! for every reader (`mtoctl show`, `mtoctl apply PLANFILE`).

use serde::Deserialize;

use super::{FORMAT_VERSION, Plan};

/// The largest plan file read. A plan of 200,000 actions is some 150 MB of JSON; callers read at
/// most this many bytes and one more, so a runaway input (`/dev/zero`) is refused, not read.
pub const MAX_PLAN_BYTES: u64 = 1 << 30;

/// Why a saved plan cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum PlanReadError {
    /// More than [`MAX_PLAN_BYTES`].
    #[error("it is larger than {} MiB, more than any plan mtoctl writes", MAX_PLAN_BYTES >> 20)]
    TooLarge,
    /// A spec given where a plan was expected (`mtoctl apply spec.yaml`).
    #[error("it is a spec, not a saved plan: give a spec with -f")]
    IsSpec,
    /// Not JSON at all.
    #[error("it is not a plan file (JSON)")]
    NotJson(#[source] serde_json::Error),
    /// A format version this mtoctl does not read.
    #[error(
        "it has plan format version {found}; this mtoctl reads only version {FORMAT_VERSION} plans; plan again"
    )]
    FormatVersion {
        /// The file's version, or `(none)`.
        found: String,
    },
    /// JSON of the right version that is not a valid plan.
    #[error("it is not a valid plan")]
    Invalid(#[source] serde_json::Error),
}

/// Only the version, read before the whole plan so that a plan of another format is named as
/// such rather than as a list of missing fields.
#[derive(Deserialize)]
struct Version {
    format_version: Option<serde_json::Value>,
}

impl Plan {
    /// Reads a saved plan from the bytes of its file (at most [`MAX_PLAN_BYTES`]; pass one
    /// more byte than that limit when the file is longer, and it is refused).
    pub fn read(bytes: &[u8]) -> Result<Plan, PlanReadError> {
        if bytes.len() as u64 > MAX_PLAN_BYTES {
            return Err(PlanReadError::TooLarge);
        }
        let version: Version = match serde_json::from_slice(bytes) {
            Ok(v) => v,
            Err(e) => {
                let text = String::from_utf8_lossy(&bytes[..bytes.len().min(64 * 1024)]);
                if text.contains("apiVersion: mtoctl/")
                    || text.contains("kind: MultiTenantOrganization")
                {
                    return Err(PlanReadError::IsSpec);
                }
                return Err(PlanReadError::NotJson(e));
            }
        };
        match version.format_version {
            Some(serde_json::Value::String(v)) if v == FORMAT_VERSION => {}
            Some(serde_json::Value::String(v)) => {
                return Err(PlanReadError::FormatVersion { found: v });
            }
            Some(other) => {
                return Err(PlanReadError::FormatVersion {
                    found: other.to_string(),
                });
            }
            None => {
                return Err(PlanReadError::FormatVersion {
                    found: "(none)".into(),
                });
            }
        }
        serde_json::from_slice(bytes).map_err(PlanReadError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_wrong_file_is_named() {
        assert!(matches!(
            Plan::read(b"apiVersion: mtoctl/v1alpha1\n"),
            Err(PlanReadError::IsSpec)
        ));
        assert!(matches!(
            Plan::read(b"\x00\x01"),
            Err(PlanReadError::NotJson(_))
        ));
        assert!(matches!(
            Plan::read(br#"{"format_version": "0.9"}"#),
            Err(PlanReadError::FormatVersion { found }) if found == "0.9"
        ));
        assert!(matches!(
            Plan::read(br#"{"actions": []}"#),
            Err(PlanReadError::FormatVersion { found }) if found == "(none)"
        ));
        assert!(matches!(
            Plan::read(br#"{"format_version": "1.0", "actions": 3}"#),
            Err(PlanReadError::Invalid(_))
        ));
    }
}
