//! Typed identifiers: tenant ids, object ids and tenant aliases.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A GUID in canonical form (lowercase, hyphenated), as Microsoft Entra ids are compared.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Guid(String);

impl Guid {
    /// Parses the hyphenated 8-4-4-4-12 form, in any case. Other forms uuid accepts (braces,
    /// no hyphens, URNs) are refused: Entra ids are written hyphenated, and a spec should not
    /// have two spellings of one tenant.
    pub fn parse(text: &str) -> Option<Self> {
        Self::well_formed(text).then(|| Self(text.to_ascii_lowercase()))
    }

    /// [`Self::parse`], keeping the text's own allocation: a page of assignments holds
    /// thousands of ids, each already a `String` of its own.
    pub fn parse_owned(mut text: String) -> Option<Self> {
        if !Self::well_formed(&text) {
            return None;
        }
        text.make_ascii_lowercase();
        Some(Self(text))
    }

    /// The hyphenated 8-4-4-4-12 shape, hex digits in any case.
    fn well_formed(text: &str) -> bool {
        let bytes = text.as_bytes();
        // Whole-slice tests rather than one per position: a page holds thousands of ids.
        bytes.len() == 36
            && [8, 13, 18, 23].iter().all(|&i| bytes[i] == b'-')
            && bytes.iter().filter(|&&b| b == b'-').count() == 4
            && bytes.iter().all(|&b| b == b'-' || b.is_ascii_hexdigit())
    }

    /// Whether this is the all-zero GUID, which Graph gives special meanings.
    pub fn is_nil(&self) -> bool {
        self.0.bytes().all(|b| b == b'0' || b == b'-')
    }

    /// The canonical text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Microsoft Entra tenant id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TenantId(pub Guid);

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The short name a spec gives a tenant (`contoso`). Unique per spec, case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Alias(pub String);

impl Alias {
    /// The longest alias accepted; aliases appear in every plan address.
    pub const MAX_LEN: usize = 63;

    /// Whether `text` is a valid alias: a letter, then letters, digits, `-` or `_`.
    pub fn is_valid(text: &str) -> bool {
        let mut chars = text.chars();
        matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
            && text.len() <= Self::MAX_LEN
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    }

    /// The alias text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Alias {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_are_canonicalised_and_strict() {
        let g = Guid::parse("6BABCAAD-604B-40AC-A9D7-9FD97C0B779F").expect("valid");
        assert_eq!(g.as_str(), "6babcaad-604b-40ac-a9d7-9fd97c0b779f");
        assert!(Guid::parse("6babcaad604b40aca9d79fd97c0b779f").is_none());
        assert!(Guid::parse("{6babcaad-604b-40ac-a9d7-9fd97c0b779f}").is_none());
        assert!(Guid::parse("6babcaad-604b-40ac-a9d7-9fd97c0b779").is_none());
        assert!(Guid::parse("6babcaad-604b-40ac-a9d7-9fd97c0b779g").is_none());
        assert!(Guid::parse("6babcaad-604b-40ac-a9d7-9fd97c0b77-f").is_none());
        assert_eq!(
            Guid::parse_owned("6BABCAAD-604B-40AC-A9D7-9FD97C0B779F".to_owned()),
            Some(g.clone())
        );
        assert!(Guid::parse_owned("6babcaad604b40aca9d79fd97c0b779f".to_owned()).is_none());
        assert!(Guid::parse("00000000-0000-0000-0000-000000000000").is_some_and(|g| g.is_nil()));
    }

    #[test]
    fn aliases() {
        assert!(Alias::is_valid("contoso"));
        assert!(Alias::is_valid("north-europe_2"));
        assert!(!Alias::is_valid("2contoso"));
        assert!(!Alias::is_valid("con toso"));
        assert!(!Alias::is_valid(""));
        assert!(!Alias::is_valid(&"a".repeat(64)));
    }
}
