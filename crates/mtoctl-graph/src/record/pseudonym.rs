//! The pseudonym table of a transcript: each personal value gets one pseudonym, the same
//! wherever it appears (paths, query strings, `$filter` literals, bodies, free text), and the
//! table remembers what each pseudonym stands for (the key file).
//!
//! Kinds and their pseudonyms (numbered in the order first met):
//! - ids (GUIDs) → `00000000-0000-4000-8000-000000000001`, except [`PUBLIC_IDS`];
//! - UPNs and mail addresses → `user1@domain1.example`, the domain part being the domain's own
//!   pseudonym; a synced copy's `alice_contoso.com#EXT#@fabrikam.com` becomes
//!   `user1_domain1.example#EXT#@domain2.example`, consistent with its home UPN;
//! - domain names → `domain1.example`;
//! - names and other personal attributes → `Name 1`;
//! - paging and delta tokens → `token1`;
//! - object ids that are not GUIDs (app role assignments') → `id1`.
//!
//! A GUID written without hyphens (in a synchronization job's id) gets its GUID's pseudonym
//! without hyphens.
//!
//! Originals compare without regard to case (Graph compares ids, UPNs, domains and names so),
//! except tokens and opaque ids; the key keeps the spelling first met.
//!
//! Free text (error messages and any string of no known meaning) is scanned for GUIDs (with
//! or without hyphens), mail addresses, `*.onmicrosoft.com` domains, and the names and domains
//! already in the table, matched on word boundaries. A name is looked for in free text only if
//! the text has a space in it (a one-word string of no known meaning is more likely one of
//! Graph's enum values than a name) and the name is not one of Graph's own common words
//! ([`COMMON_WORDS`]).
//!
//! What this does not do: decide which JSON member or query option holds what (`redact` and
//! `path` do), or write anything.

use std::collections::HashMap;

use serde_json::Value;

/// Microsoft's public GUIDs that mtoctl itself names, kept as they are: they identify nobody,
/// and a transcript without them would hide what was asked for.
pub const PUBLIC_IDS: [&str; 3] = [
    // Graph's "none" (no join in progress, a join reset).
    "00000000-0000-0000-0000-000000000000",
    // The Microsoft Graph application (its app id, the resource of every token).
    "00000003-0000-0000-c000-000000000000",
    // The cross-tenant synchronization application template.
    crate::wire::sync::CROSS_TENANT_SYNC_TEMPLATE_ID,
];

/// Words of Graph's own vocabulary that are never replaced in free text, even when some
/// object is named so (an app role called `User` must not turn every "User" of every message
/// into a pseudonym).
pub const COMMON_WORDS: [&str; 24] = [
    "user",
    "users",
    "group",
    "groups",
    "member",
    "members",
    "guest",
    "owner",
    "owners",
    "application",
    "applications",
    "service principal",
    "tenant",
    "default",
    "none",
    "true",
    "false",
    "enabled",
    "disabled",
    "active",
    "pending",
    "removed",
    "msiam_access",
    "directory",
];

/// Names and domains longer than this are not looked for in free text (a description quoted
/// whole in a message is unlikely, and the scan's cost grows with it).
const LONGEST_SCANNED: usize = 200;

/// What a pseudonym stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Id,
    User,
    Domain,
    Name,
    Token,
    Opaque,
}

const KINDS: usize = 6;

impl Kind {
    fn index(self) -> usize {
        self as usize
    }
}

/// The pseudonyms of one transcript. See the module's documentation for the rules.
#[derive(Debug, Default)]
pub struct Pseudonyms {
    /// (kind, original lowercased) → pseudonym.
    made: HashMap<(Kind, String), String>,
    /// How many pseudonyms of each kind were made.
    counts: [u64; KINDS],
    /// Pseudonym → original, in the order made.
    originals: Vec<(String, String)>,
    /// The byte length of the longest name or domain looked for in free text.
    longest: usize,
}

impl Pseudonyms {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every pseudonym made so far and what it stands for, in the order made.
    pub fn originals(&self) -> &[(String, String)] {
        &self.originals
    }

    /// The key file's document: `{"format_version":"1.0","originals":{pseudonym: original}}`.
    pub fn key_document(&self) -> Value {
        let originals: serde_json::Map<String, Value> = self
            .originals
            .iter()
            .map(|(p, o)| (p.clone(), Value::String(o.clone())))
            .collect();
        serde_json::json!({"format_version": super::KEY_FORMAT_VERSION, "originals": originals})
    }

    /// The pseudonym of `original` of `kind`, made by `render` (given its number) the first
    /// time.
    fn make(
        &mut self,
        kind: Kind,
        original: &str,
        render: impl FnOnce(&mut Self, u64) -> String,
    ) -> String {
        let key = (kind, lookup_key(kind, original));
        if let Some(pseudonym) = self.made.get(&key) {
            return pseudonym.clone();
        }
        self.counts[kind.index()] += 1;
        let n = self.counts[kind.index()];
        let pseudonym = render(self, n);
        self.remember(kind, key.1, original, &pseudonym);
        pseudonym
    }

    /// Records `pseudonym` as standing for `original` (whose lowercase is `lower`).
    fn remember(&mut self, kind: Kind, lower: String, original: &str, pseudonym: &str) {
        if matches!(kind, Kind::Name | Kind::Domain) && original.len() <= LONGEST_SCANNED {
            self.longest = self.longest.max(original.len());
        }
        self.made.insert((kind, lower), pseudonym.to_owned());
        self.originals
            .push((pseudonym.to_owned(), original.to_owned()));
    }

    /// The pseudonym of an opaque object id already in the table (one met in a body).
    pub(super) fn known_opaque(&self, id: &str) -> Option<String> {
        self.made.get(&(Kind::Opaque, id.to_owned())).cloned()
    }

    /// An object id; [`PUBLIC_IDS`] are kept.
    pub fn id(&mut self, guid: &str) -> String {
        if PUBLIC_IDS.iter().any(|p| p.eq_ignore_ascii_case(guid)) {
            return guid.to_owned();
        }
        self.make(Kind::Id, guid, |_, n| {
            format!("00000000-0000-4000-8000-{:012}", n % 1_000_000_000_000)
        })
    }

    /// A GUID written without its hyphens (32 hex digits, as in a synchronization job's id):
    /// the hyphenated GUID's pseudonym, without its hyphens.
    pub fn bare_id(&mut self, hex: &str) -> String {
        let lower = hex.to_ascii_lowercase();
        if let Some(pseudonym) = self.made.get(&(Kind::Id, lower.clone())) {
            return pseudonym.clone();
        }
        let hyphenated = format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        );
        let pseudonym = self.id(&hyphenated).replace('-', "");
        if pseudonym != lower {
            self.remember(Kind::Id, lower, hex, &pseudonym);
        }
        pseudonym
    }

    /// An object id that is not a GUID (an app role assignment's, base64url of the principal's
    /// id and more) → `id1`, `id2`…; compared with case.
    pub fn opaque(&mut self, id: &str) -> String {
        if id.is_empty() {
            return String::new();
        }
        self.make(Kind::Opaque, id, |_, n| format!("id{n}"))
    }

    /// The value of an id member: a GUID, an opaque id (16 characters or more of base64url,
    /// letters and digits both), or else text.
    pub fn identifier(&mut self, id: &str) -> String {
        if is_guid(id) {
            self.id(id)
        } else if is_opaque(id) {
            self.opaque(id)
        } else {
            self.text(id)
        }
    }

    /// A domain name.
    pub fn domain(&mut self, domain: &str) -> String {
        if domain.is_empty() {
            return String::new();
        }
        self.make(Kind::Domain, domain, |_, n| format!("domain{n}.example"))
    }

    /// A name or another personal attribute taken whole.
    pub fn name(&mut self, name: &str) -> String {
        if name.is_empty() {
            return String::new();
        }
        self.make(Kind::Name, name, |_, n| format!("Name {n}"))
    }

    /// A paging or delta token.
    pub fn token(&mut self, token: &str) -> String {
        if token.is_empty() {
            return String::new();
        }
        self.make(Kind::Token, token, |_, n| format!("token{n}"))
    }

    /// A user principal name or mail address (`local@domain`). A synced copy's UPN
    /// (`alice_contoso.com#EXT#@fabrikam.com`) keeps its form with its home UPN's pseudonym;
    /// a prefix of one without its domain (`alice_contoso.com#EXT#@`, as `startswith` filters
    /// give) too. A value that is not a UPN is a [`Self::personal`] value.
    pub fn upn(&mut self, upn: &str) -> String {
        let (local, domain) = match upn.rsplit_once('@') {
            Some(parts) => parts,
            None if ext_home(upn).is_some() => (upn, ""),
            None => return self.personal(upn),
        };
        if local.is_empty() {
            return self.personal(upn);
        }
        if let Some((home_local, home_domain)) = ext_home(local) {
            let home = self.upn(&format!("{home_local}@{home_domain}"));
            let home = home.replacen('@', "_", 1);
            let pseudonym = if domain.is_empty() {
                format!("{home}#EXT#@")
            } else {
                let domain = self.domain(domain);
                format!("{home}#EXT#@{domain}")
            };
            let ext = if upn.contains('@') {
                pseudonym
            } else {
                pseudonym.trim_end_matches('@').to_owned()
            };
            // Not numbered: its parts are.
            let lower = lookup_key(Kind::User, upn);
            if !self.made.contains_key(&(Kind::User, lower.clone())) {
                self.remember(Kind::User, lower, upn, &ext);
            }
            return ext;
        }
        self.make(Kind::User, upn, |t, n| {
            let domain = t.domain(domain);
            format!("user{n}@{domain}")
        })
    }

    /// The value of a personal attribute, by its shape: an id, a mail address (also behind a
    /// scheme, `SMTP:…`), a sync configuration's default name (`MTO_Sync_` and the target's
    /// tenant id, kept in that form), or else a name.
    pub fn personal(&mut self, value: &str) -> String {
        if value.is_empty() {
            return String::new();
        }
        if is_guid(value) {
            return self.id(value);
        }
        if let Some(target) = value.strip_prefix("MTO_Sync_").filter(|t| is_guid(t)) {
            return format!("MTO_Sync_{}", self.id(target));
        }
        if email(value).is_some() {
            return self.upn(value);
        }
        if let Some((scheme, address)) = value.split_once(':')
            && !scheme.is_empty()
            && scheme.chars().all(|c| c.is_ascii_alphabetic())
            && email(address).is_some()
        {
            return format!("{scheme}:{}", self.upn(address));
        }
        if ext_home(value).is_some() {
            return self.upn(value);
        }
        self.name(value)
    }

    /// A string of no known meaning: nested JSON is walked, URLs and paths go through
    /// [`Self::url`] and [`Self::path`], a whole id or mail address is replaced, and anything
    /// else is scanned as free text (see the module's documentation).
    pub fn text(&mut self, text: &str) -> String {
        if text.is_empty() {
            return String::new();
        }
        let trimmed = text.trim_start();
        if (trimmed.starts_with('{') || trimmed.starts_with('['))
            && let Ok(nested) = serde_json::from_str::<Value>(text)
            && (nested.is_object() || nested.is_array())
        {
            let walked = self.body(&nested);
            return serde_json::to_string(&walked).unwrap_or_default();
        }
        if text.starts_with("https://") || text.starts_with("http://") {
            return self.url(text);
        }
        if text.starts_with('/') && !text.contains(char::is_whitespace) {
            return self.path(text);
        }
        if is_guid(text) {
            return self.id(text);
        }
        if email(text).is_some() {
            return self.upn(text);
        }
        self.scan(text)
    }

    /// Free text with every GUID, mail address, `*.onmicrosoft.com` domain, known domain and
    /// (in text with a space) known name replaced.
    pub(super) fn scan(&mut self, text: &str) -> String {
        let mut found: Vec<(usize, usize, Kind)> = Vec::new();
        let bytes = text.as_bytes();
        let lower = text.to_ascii_lowercase();
        // GUIDs, not inside a longer run of letters and digits.
        for start in 0..bytes.len().saturating_sub(35) {
            let end = start + 36;
            if is_guid_bytes(&bytes[start..end])
                && (start == 0 || !bytes[start - 1].is_ascii_alphanumeric())
                && (end == bytes.len() || !bytes[end].is_ascii_alphanumeric())
            {
                found.push((start, end, Kind::Id));
            }
        }
        // GUIDs without their hyphens (32 hex digits), alone or between dots and underscores.
        for start in 0..bytes.len().saturating_sub(31) {
            let end = start + 32;
            if bytes[start..end].iter().all(u8::is_ascii_hexdigit)
                && (start == 0 || !bytes[start - 1].is_ascii_alphanumeric())
                && (end == bytes.len() || !bytes[end].is_ascii_alphanumeric())
            {
                found.push((start, end, Kind::Opaque));
            }
        }
        // Mail addresses and UPNs, around each `@`.
        for (at, _) in text.match_indices('@') {
            let local_char = |b: u8| b.is_ascii_alphanumeric() || b"._%+-#".contains(&b);
            let domain_char = |b: u8| b.is_ascii_alphanumeric() || b".-".contains(&b);
            let mut start = at;
            while start > 0 && local_char(bytes[start - 1]) {
                start -= 1;
            }
            while start < at && bytes[start] == b'.' {
                start += 1;
            }
            let mut end = at + 1;
            while end < bytes.len() && domain_char(bytes[end]) {
                end += 1;
            }
            while end > at + 1 && matches!(bytes[end - 1], b'.' | b'-') {
                end -= 1;
            }
            if start < at && text[at + 1..end].contains('.') {
                found.push((start, end, Kind::User));
            }
        }
        // Tenants' initial domains, wherever they are.
        const INITIAL: &str = ".onmicrosoft.com";
        for (dot, _) in lower.match_indices(INITIAL) {
            let mut start = dot;
            while start > 0
                && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'-')
            {
                start -= 1;
            }
            let end = dot + INITIAL.len();
            if start < dot && (end == bytes.len() || !bytes[end].is_ascii_alphanumeric()) {
                found.push((start, end, Kind::Domain));
            }
        }
        // Names and domains already known, on word boundaries.
        if self.longest > 0 {
            let spaced = text.contains(char::is_whitespace);
            let words = words(text);
            for (i, &(start, _)) in words.iter().enumerate() {
                for &(_, end) in &words[i..] {
                    if end - start > self.longest {
                        break;
                    }
                    let candidate = text[start..end].to_lowercase();
                    if self.made.contains_key(&(Kind::Domain, candidate.clone())) {
                        found.push((start, end, Kind::Domain));
                    } else if spaced
                        && candidate.chars().count() >= 3
                        && !COMMON_WORDS.contains(&candidate.as_str())
                        && self.made.contains_key(&(Kind::Name, candidate))
                    {
                        found.push((start, end, Kind::Name));
                    }
                }
            }
        }
        if found.is_empty() {
            return text.to_owned();
        }
        // The earliest match first, the longest of those; overlapping ones are dropped.
        found.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end, kind) in found {
            if start < at {
                continue;
            }
            out.push_str(&text[at..start]);
            let original = &text[start..end];
            let pseudonym = match kind {
                Kind::Id => self.id(original),
                Kind::User => self.upn(original),
                Kind::Domain => self.domain(original),
                // 32 hex digits found in text: a GUID without hyphens.
                Kind::Opaque => self.bare_id(original),
                Kind::Name | Kind::Token => self.name(original),
            };
            out.push_str(&pseudonym);
            at = end;
        }
        out.push_str(&text[at..]);
        out
    }
}

/// How an original is looked up: tokens and opaque ids as they are, everything else without
/// regard to case.
fn lookup_key(kind: Kind, original: &str) -> String {
    match kind {
        Kind::Token | Kind::Opaque => original.to_owned(),
        _ => original.to_lowercase(),
    }
}

/// An object id that is not a GUID: 16 characters or more of base64url, letters and digits
/// both (`2h_SZRZNQdTIp_WvoeRfUuII2Sby8uQ24upkRCpOWXk`; not `Azure2Azure`, nor a word).
pub(super) fn is_opaque(text: &str) -> bool {
    text.len() >= 16
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && text.bytes().any(|b| b.is_ascii_digit())
        && text.bytes().any(|b| b.is_ascii_alphabetic())
}

/// The home UPN's local part and domain of a synced copy's local part
/// (`alice_contoso.com#EXT#` → `alice`, `contoso.com`).
fn ext_home(local: &str) -> Option<(&str, &str)> {
    let cut = local.len().checked_sub(5)?;
    if !local.is_char_boundary(cut) || !local[cut..].eq_ignore_ascii_case("#EXT#") {
        return None;
    }
    let (home_local, home_domain) = local[..cut].rsplit_once('_')?;
    (!home_local.is_empty() && is_domain(home_domain)).then_some((home_local, home_domain))
}

/// `local@domain` with a plausible domain: the parts of a mail address or UPN.
pub(super) fn email(text: &str) -> Option<(&str, &str)> {
    let (local, domain) = text.rsplit_once('@')?;
    (!local.is_empty() && !local.contains(char::is_whitespace) && is_domain(domain))
        .then_some((local, domain))
}

/// A DNS name of two labels or more (`contoso.com`, `contoso.onmicrosoft.com`).
pub(super) fn is_domain(text: &str) -> bool {
    let labels: Vec<&str> = text.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()))
}

/// A GUID in its hyphenated form (`6babcaad-604b-40ac-a9d7-9fd97c0b779f`), any case.
pub(super) fn is_guid(text: &str) -> bool {
    is_guid_bytes(text.as_bytes())
}

fn is_guid_bytes(b: &[u8]) -> bool {
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// The byte ranges of the words of `text` (runs of letters and digits).
fn words(text: &str) -> Vec<(usize, usize)> {
    let mut words = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                words.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        words.push((s, text.len()));
    }
    words
}
