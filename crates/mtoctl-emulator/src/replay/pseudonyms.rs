//! Pseudonyms and what they stand for during a replay.
//!
//! Two sources, in this order: bindings the replay learned (the recorded answer had a pseudonym
//! where the replayed answer has a value: an id Graph made, a paging token; and each transcript
//! tenant's id bound to the world tenant it was mapped to), then the key file. The first binding
//! of a pseudonym wins; a later answer never rebinds it.
//!
//! A pseudonym is replaced wherever it stands as a whole word of a string: the characters on
//! either side are not letters or digits (`MTO_Sync_<id>`, `'user1@domain1.example'` and
//! `/users/<id>` all count, `Name 12` does not hold `Name 1`). The longest pseudonym that fits
//! wins. A synced copy's `user1_domain1.example#EXT#@domain2.example` is rebuilt from its home
//! UPN's and its domain's originals when the key has no entry for the whole. Paths are replaced
//! segment by segment and query value by query value, percent-decoded first and encoded again
//! only where something changed.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use crate::odata::{percent_decode, percent_encode};

use super::key::Key;

/// The prefix of every GUID pseudonym (`00000000-0000-4000-8000-000000000001`).
pub const GUID_PSEUDONYM_PREFIX: &str = "00000000-0000-4000-8000-";

/// Whether `s` is, as a whole, a GUID pseudonym.
pub fn is_guid_pseudonym(s: &str) -> bool {
    s.len() == 36
        && s.starts_with(GUID_PSEUDONYM_PREFIX)
        && s[GUID_PSEUDONYM_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_hexdigit())
}

/// The prefix of a GUID pseudonym written without hyphens (in a synchronization job's id).
pub const BARE_GUID_PSEUDONYM_PREFIX: &str = "00000000000040008000";

/// Whether `s` is, as a whole, a GUID pseudonym without hyphens.
pub fn is_bare_guid_pseudonym(s: &str) -> bool {
    s.len() == 32
        && s.starts_with(BARE_GUID_PSEUDONYM_PREFIX)
        && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether `s` is an opaque id's pseudonym (`id1`: an id that is not a GUID).
pub fn is_opaque_pseudonym(s: &str) -> bool {
    s.strip_prefix("id")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether `s` is, as a whole, the pseudonym of an id Graph made: a GUID (with or without
/// hyphens) or an opaque id.
pub fn is_id_pseudonym(s: &str) -> bool {
    is_guid_pseudonym(s) || is_bare_guid_pseudonym(s) || is_opaque_pseudonym(s)
}

/// A GUID's hyphenless form, or its hyphenated one, when `s` is a GUID in the other form.
fn other_guid_form(s: &str) -> Option<String> {
    if crate::ids::is_guid(s) {
        return Some(s.replace('-', ""));
    }
    (s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())).then(|| {
        format!(
            "{}-{}-{}-{}-{}",
            &s[..8],
            &s[8..12],
            &s[12..16],
            &s[16..20],
            &s[20..]
        )
    })
}

/// Whether `s` is a paging or delta token pseudonym (`token1`).
pub fn is_token_pseudonym(s: &str) -> bool {
    s.strip_prefix("token")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The replay's substitutions: learned bindings, then the key.
#[derive(Default)]
pub struct Substitutions {
    learned: HashMap<String, String>,
    key: HashMap<String, String>,
    /// Bindings learned whose key original differs.
    otherwise: usize,
    /// Lengths of every pseudonym known, longest first when iterated in reverse.
    lengths: BTreeSet<usize>,
}

impl std::fmt::Debug for Substitutions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Substitutions({} learned, {} from the key)",
            self.learned.len(),
            self.key.len()
        )
    }
}

impl Substitutions {
    /// Substitutions from a key file (or none).
    pub fn new(key: Option<&Key>) -> Self {
        let mut s = Self::default();
        for (p, o) in key.into_iter().flat_map(Key::pairs) {
            if !p.is_empty() && p != o {
                s.lengths.insert(p.len());
                s.key.insert(p.to_owned(), o.to_owned());
            }
        }
        s
    }

    /// Binds `pseudonym` to `value` unless it is bound already; whether it was new.
    pub fn learn(&mut self, pseudonym: &str, value: &str) -> bool {
        if pseudonym.is_empty() || value.is_empty() || self.learned.contains_key(pseudonym) {
            return false;
        }
        self.lengths.insert(pseudonym.len());
        self.learned.insert(pseudonym.to_owned(), value.to_owned());
        true
    }

    /// Binds an id pseudonym to the id the replay made, and a GUID's in its other form too
    /// (with or without hyphens) when both are GUIDs. A new binding that the key gives another
    /// original is counted ([`Self::made_otherwise`]).
    pub fn learn_id(&mut self, pseudonym: &str, value: &str) -> bool {
        let new = self.learn(pseudonym, value);
        if new
            && self
                .key
                .get(pseudonym)
                .is_some_and(|o| !o.eq_ignore_ascii_case(value))
        {
            self.otherwise += 1;
        }
        if let (Some(p), Some(v)) = (other_guid_form(pseudonym), other_guid_form(value)) {
            self.learn(&p, &v);
        }
        new
    }

    /// How many ids the replay made otherwise than the recording's Graph did: learned bindings
    /// whose key original differs. Expected against Microsoft Graph (ids differ by nature);
    /// against an emulator of the same world and seed, a sign that the replay carried the
    /// requests out in another order.
    pub fn made_otherwise(&self) -> usize {
        self.otherwise
    }

    /// How many bindings were learned.
    pub fn learned(&self) -> usize {
        self.learned.len()
    }

    /// What `pseudonym` stands for: a learned binding first, then the key.
    pub fn lookup(&self, pseudonym: &str) -> Option<&str> {
        self.learned
            .get(pseudonym)
            .or_else(|| self.key.get(pseudonym))
            .map(String::as_str)
    }

    /// `s` with every pseudonym in it replaced.
    pub fn in_text<'a>(&self, s: &'a str) -> Cow<'a, str> {
        if self.lengths.is_empty() {
            return Cow::Borrowed(s);
        }
        let ext = s.contains("#EXT#@");
        let mut out = String::new();
        let mut copied = 0;
        let mut i = 0;
        while i < s.len() {
            let word_start = i == 0 || !prev_char(s, i).is_alphanumeric();
            let found = if word_start {
                self.match_at(s, i)
                    .or_else(|| ext.then(|| self.external_at(s, i)).flatten())
            } else {
                None
            };
            match found {
                Some((len, replacement)) => {
                    out.push_str(&s[copied..i]);
                    out.push_str(&replacement);
                    i += len;
                    copied = i;
                }
                None => i += next_char_len(s, i),
            }
        }
        if copied == 0 {
            return Cow::Borrowed(s);
        }
        out.push_str(&s[copied..]);
        Cow::Owned(out)
    }

    /// The longest known pseudonym that stands as a word at `i`, and its replacement.
    fn match_at(&self, s: &str, i: usize) -> Option<(usize, String)> {
        self.lengths.iter().rev().find_map(|&len| {
            let end = i + len;
            if end > s.len() || !s.is_char_boundary(end) {
                return None;
            }
            if end < s.len() && s[end..].chars().next().is_some_and(char::is_alphanumeric) {
                return None;
            }
            self.lookup(&s[i..end]).map(|o| (len, o.to_owned()))
        })
    }

    /// A synced copy's UPN at `i` (`home-local_home-domain#EXT#@domain`), rebuilt from the
    /// originals of its home UPN and its domain.
    fn external_at(&self, s: &str, i: usize) -> Option<(usize, String)> {
        let rest = &s[i..];
        let ext = rest.find("#EXT#@")?;
        let local = &rest[..ext];
        if local.is_empty() || !local.chars().all(is_upn_char) {
            return None;
        }
        let (user, home_domain) = local.rsplit_once('_')?;
        let home = self
            .lookup(&format!("{user}@{home_domain}"))?
            .replace('@', "_");
        let after = &rest[ext + "#EXT#@".len()..];
        let domain_len = after
            .find(|c: char| !(c.is_alphanumeric() || c == '.' || c == '-'))
            .unwrap_or(after.len());
        let domain = &after[..domain_len];
        let domain = self.lookup(domain).unwrap_or(domain);
        Some((
            ext + "#EXT#@".len() + domain_len,
            format!("{home}#EXT#@{domain}"),
        ))
    }

    /// A path and query relative to the API root with every pseudonym replaced.
    pub fn in_path(&self, path: &str) -> String {
        let (path, query) = match path.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path, None),
        };
        let mut out: Vec<String> = Vec::new();
        for segment in path.split('/') {
            let decoded = percent_decode(segment, false);
            out.push(match self.in_text(&decoded) {
                Cow::Owned(replaced) => encode_segment(&replaced),
                Cow::Borrowed(_) => segment.to_owned(),
            });
        }
        let mut out = out.join("/");
        if let Some(query) = query {
            let pairs: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((k, v)) => {
                        let decoded = percent_decode(v, true);
                        match self.in_text(&decoded) {
                            Cow::Owned(replaced) => format!("{k}={}", percent_encode(&replaced)),
                            Cow::Borrowed(_) => pair.to_owned(),
                        }
                    }
                    None => pair.to_owned(),
                })
                .collect();
            out.push('?');
            out.push_str(&pairs.join("&"));
        }
        out
    }

    /// A JSON body with every pseudonym in its strings replaced (member names are kept).
    pub fn in_body(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.in_text(s).into_owned()),
            Value::Array(a) => Value::Array(a.iter().map(|x| self.in_body(x)).collect()),
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, x)| (k.clone(), self.in_body(x)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

fn is_upn_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '\'')
}

fn prev_char(s: &str, i: usize) -> char {
    s[..i].chars().next_back().unwrap_or(' ')
}

fn next_char_len(s: &str, i: usize) -> usize {
    s[i..].chars().next().map_or(1, char::len_utf8)
}

/// A path segment encoded again: what a query value keeps, and `@`, `=` as they are.
fn encode_segment(s: &str) -> String {
    percent_encode(s).replace("%40", "@").replace("%3D", "=")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subs() -> Substitutions {
        let key = Key::from_pairs([
            (
                "00000000-0000-4000-8000-000000000001",
                "6babcaad-604b-40ac-a9d7-9fd97c0b779f",
            ),
            ("user1@domain1.example", "alice@contoso.onmicrosoft.com"),
            ("domain1.example", "contoso.onmicrosoft.com"),
            ("domain2.example", "fabrikam.onmicrosoft.com"),
            ("Name 1", "Alice Martin"),
        ]);
        Substitutions::new(Some(&key))
    }

    #[test]
    fn whole_words_only_longest_first() {
        let s = subs();
        assert_eq!(s.in_text("Name 1"), "Alice Martin");
        assert_eq!(s.in_text("Name 12"), "Name 12");
        assert_eq!(
            s.in_text("MTO_Sync_00000000-0000-4000-8000-000000000001"),
            "MTO_Sync_6babcaad-604b-40ac-a9d7-9fd97c0b779f"
        );
        assert_eq!(
            s.in_text("userPrincipalName eq 'user1@domain1.example'"),
            "userPrincipalName eq 'alice@contoso.onmicrosoft.com'"
        );
        assert_eq!(
            s.in_text("user1_domain1.example#EXT#@domain2.example"),
            "alice_contoso.onmicrosoft.com#EXT#@fabrikam.onmicrosoft.com"
        );
        assert!(matches!(s.in_text("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn learned_bindings_come_before_the_key() {
        let mut s = subs();
        assert!(s.learn("Name 1", "Bob Stone"));
        assert!(!s.learn("Name 1", "Carol"), "the first binding wins");
        assert_eq!(s.in_text("Name 1"), "Bob Stone");
    }

    #[test]
    fn paths_are_replaced_decoded_and_encoded_again() {
        let mut s = subs();
        s.learn("token1", "abc+/=");
        assert_eq!(
            s.in_path("/users?$filter=userPrincipalName%20eq%20'user1%40domain1.example'&$top=5"),
            "/users?$filter=userPrincipalName%20eq%20'alice%40contoso.onmicrosoft.com'&$top=5"
        );
        assert_eq!(
            s.in_path("/users/user1@domain1.example?$skiptoken=token1"),
            "/users/alice@contoso.onmicrosoft.com?$skiptoken=abc%2B%2F%3D"
        );
        assert_eq!(s.in_path("/organization"), "/organization");
    }
}
