//! Fingerprints: the SHA-256 of an object's normalised JSON, hashed as it is written.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A hash of an object's normalised JSON: equal fingerprints mean nothing mtoctl reads changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fingerprint(pub String);

impl Fingerprint {
    /// `sha256:<hex>` of the value's JSON. Maps serialise with sorted keys (BTreeMap, and
    /// serde_json without `preserve_order`), so equal values give equal fingerprints.
    ///
    /// The JSON is hashed as it is written, never held whole: a large spec's JSON would be a
    /// buffer of megabytes.
    pub fn of<T: Serialize>(value: &T) -> Self {
        let mut hasher = HashWriter(Sha256::new());
        // Only maps with keys that are not strings fail to serialise; as before, those hash
        // as nothing.
        let digest = match serde_json::to_writer(&mut hasher, value) {
            Ok(()) => hasher.0.finalize(),
            Err(_) => Sha256::digest(b""),
        };
        let mut hex = String::with_capacity(7 + 64);
        hex.push_str("sha256:");
        for byte in digest.iter() {
            use std::fmt::Write as _;
            let _ = write!(hex, "{byte:02x}");
        }
        Self(hex)
    }
}

/// Feeds what is written to a SHA-256.
struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observed::IdentitySyncObservation;

    #[test]
    fn fingerprints_depend_on_content_only() {
        let a = IdentitySyncObservation {
            display_name: Some("A".into()),
            is_sync_allowed: Some(true),
            group_sync_inbound: None,
        };
        let mut b = a.clone();
        assert_eq!(Fingerprint::of(&a), Fingerprint::of(&b));
        b.is_sync_allowed = Some(false);
        assert_ne!(Fingerprint::of(&a), Fingerprint::of(&b));
        assert!(Fingerprint::of(&a).0.starts_with("sha256:"));
        assert_eq!(Fingerprint::of(&a).0.len(), 7 + 64);
    }

    #[test]
    fn a_fingerprint_is_the_sha256_of_the_compact_json_with_sorted_keys() {
        let value: std::collections::BTreeMap<&str, serde_json::Value> = [
            ("b", serde_json::Value::Null),
            ("a", serde_json::json!([1, "x"])),
        ]
        .into();
        // sha256 of `{"a":[1,"x"],"b":null}`, computed outside Rust (Python's hashlib).
        assert_eq!(
            Fingerprint::of(&value).0,
            "sha256:854ef06dc57f5dfed10206344ab2d02e0b6c84b0e19436703a5afd0f1f9f2687"
        );
    }
}
