//! Reading a transcript's key file (`--record-key`): the pseudonym table, pseudonym → original
//! value, `{"format_version":"1.0","originals":{"Name 1":"Contoso",…}}`. The replay uses it to send the original names and ids where a pseudonym stands in the
//! transcript, and to find the original tenant ids in the world. It is private to whoever
//! recorded the transcript; nothing here prints its values.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::error::KeyError;

/// The pseudonym table.
#[derive(Clone, Default)]
pub struct Key {
    originals: BTreeMap<String, String>,
}

impl std::fmt::Debug for Key {
    // The originals are what the transcript hides: never in logs or errors.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({} pseudonyms)", self.originals.len())
    }
}

/// The key file: `{"format_version":"1.0","originals":{pseudonym: original, …}}`.
#[derive(Deserialize)]
struct KeyFile {
    originals: BTreeMap<String, String>,
}

/// Only the version, read first so that another format is named as such.
#[derive(Deserialize)]
struct Version {
    format_version: Option<Value>,
}

impl Key {
    /// A key from pairs of (pseudonym, original).
    pub fn from_pairs<I, P, O>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (P, O)>,
        P: Into<String>,
        O: Into<String>,
    {
        Self {
            originals: pairs
                .into_iter()
                .map(|(p, o)| (p.into(), o.into()))
                .collect(),
        }
    }

    /// Reads the key file at `path` (at most [`MAX_FILE_BYTES`](super::MAX_FILE_BYTES)).
    pub fn read(path: &Path) -> Result<Self, KeyError> {
        let io = |source| KeyError::Io {
            path: path.to_owned(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let mut bytes = Vec::new();
        file.take(super::MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        if bytes.len() as u64 > super::MAX_FILE_BYTES {
            return Err(KeyError::TooLarge {
                path: path.to_owned(),
            });
        }
        Self::parse(&bytes, path)
    }

    /// Parses a key file's bytes; `path` only names it in errors.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<Self, KeyError> {
        let invalid = |source| KeyError::Invalid {
            path: path.to_owned(),
            source,
        };
        let version: Version = serde_json::from_slice(bytes).map_err(invalid)?;
        match version.format_version {
            Some(Value::String(v)) if v == super::FORMAT_VERSION => {}
            other => {
                return Err(KeyError::FormatVersion {
                    path: path.to_owned(),
                    found: match other {
                        Some(Value::String(v)) => v,
                        Some(v) => v.to_string(),
                        None => "(none)".into(),
                    },
                });
            }
        }
        let file: KeyFile = serde_json::from_slice(bytes).map_err(invalid)?;
        Ok(Self {
            originals: file.originals,
        })
    }

    /// The original value of a pseudonym.
    pub fn original(&self, pseudonym: &str) -> Option<&str> {
        self.originals.get(pseudonym).map(String::as_str)
    }

    /// Every (pseudonym, original) pair.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.originals.iter().map(|(p, o)| (p.as_str(), o.as_str()))
    }

    /// How many pseudonyms it has.
    pub fn len(&self) -> usize {
        self.originals.len()
    }

    /// Whether it has none.
    pub fn is_empty(&self) -> bool {
        self.originals.is_empty()
    }
}
