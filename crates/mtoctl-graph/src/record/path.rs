//! Paths, query strings and URLs of a transcript, with their personal parts replaced and the
//! rest left exactly as sent.
//!
//! - A path segment that is an id (a GUID, or an opaque id already met in a body) or a UPN is
//!   replaced; a segment with parameters (`findTenantInformationByDomainName(domainName='…')`,
//!   `users('…')`) has its literals replaced as a `$filter`'s are; any other segment is free
//!   text (a job id's hyphenless GUIDs, a known domain).
//! - `$filter` (and `$search`): each string literal by the property it is compared with
//!   (`userPrincipalName eq '…'`, `displayName in ('…','…')`, `startswith(userPrincipalName,'…')`):
//!   a UPN, a domain, a name (the classes of [`super::redact::member_class`]), or else by its
//!   shape ([`Pseudonyms::text`]); unquoted GUIDs too.
//! - `$skiptoken` and `$deltatoken` values → tokens; other options' values as free text
//!   (`$select=id,displayName` stays).
//! - A segment or value that changed is percent-encoded again as mtoctl encodes
//!   ([`crate::wire::encode_query_value`]); one that did not is kept byte for byte.
//!
//! What this does not do: judge whether a path is valid, or touch the scheme and host of a URL.

use std::borrow::Cow;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use super::pseudonym::{Pseudonyms, is_guid};
use super::redact::{Class, member_class};

/// What a changed path segment is encoded with: everything but what a segment may hold as is
/// (RFC 3986's unreserved characters, sub-delimiters, `:` and `@`).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b',')
    .remove(b'@')
    .remove(b'=')
    .remove(b':')
    .remove(b'$')
    .remove(b'!')
    .remove(b'*')
    .remove(b'+')
    .remove(b';');

/// OData's words in a `$filter`, which are never the property a literal is compared with.
const KEYWORDS: [&str; 19] = [
    "eq",
    "ne",
    "gt",
    "ge",
    "lt",
    "le",
    "in",
    "and",
    "or",
    "not",
    "has",
    "startswith",
    "endswith",
    "contains",
    "any",
    "all",
    "true",
    "false",
    "null",
];

fn decoded(raw: &str) -> Cow<'_, str> {
    percent_decode_str(raw).decode_utf8_lossy()
}

impl Pseudonyms {
    /// A URL (`https://host/v1.0/users?…`): its path and query as [`Self::path`] does, its
    /// scheme and host kept.
    pub fn url(&mut self, url: &str) -> String {
        let Some(scheme_end) = url.find("://") else {
            return self.path(url);
        };
        let after = scheme_end + 3;
        match url[after..].find(['/', '?']) {
            Some(at) => {
                let (origin, rest) = url.split_at(after + at);
                format!("{origin}{}", self.path(rest))
            }
            None => url.to_owned(),
        }
    }

    /// A URL, or a path when it is not one.
    pub(super) fn url_or_path(&mut self, text: &str) -> String {
        if text.contains("://") || text.starts_with('/') {
            self.url(text)
        } else {
            self.text(text)
        }
    }

    /// A path and query as sent (`/users?$filter=…`), relative to the API root or not.
    pub fn path(&mut self, path: &str) -> String {
        let (path, query) = match path.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path, None),
        };
        let segments: Vec<String> = path.split('/').map(|s| self.segment(s)).collect();
        let mut out = segments.join("/");
        if let Some(query) = query {
            out.push('?');
            out.push_str(&self.query(query));
        }
        out
    }

    fn segment(&mut self, raw: &str) -> String {
        if raw.is_empty() {
            return String::new();
        }
        let text = decoded(raw);
        let replaced = if is_guid(&text) {
            self.id(&text)
        } else if let Some(pseudonym) = self.known_opaque(&text) {
            pseudonym
        } else if text.contains('(') {
            self.filter(&text)
        } else if text.contains('@') || text.to_ascii_lowercase().ends_with("#ext#") {
            self.upn(&text)
        } else {
            self.scan(&text)
        };
        if replaced == text {
            raw.to_owned()
        } else {
            utf8_percent_encode(&replaced, SEGMENT).to_string()
        }
    }

    fn query(&mut self, query: &str) -> String {
        query
            .split('&')
            .map(|part| {
                let Some((name, raw)) = part.split_once('=') else {
                    return part.to_owned();
                };
                let value = decoded(raw);
                let option = decoded(name).to_ascii_lowercase();
                let replaced = match option.trim_start_matches('$') {
                    "filter" => self.filter(&value),
                    "search" => self.search(&value),
                    "skiptoken" | "deltatoken" => self.token(&value),
                    _ => self.scan(&value),
                };
                if replaced == value {
                    part.to_owned()
                } else {
                    format!("{name}={}", crate::wire::encode_query_value(&replaced))
                }
            })
            .collect::<Vec<_>>()
            .join("&")
    }

    /// A `$filter` expression (or a segment's parameters): each string literal replaced by
    /// what the property it is compared with holds, unquoted GUIDs replaced, the rest kept.
    pub(super) fn filter(&mut self, filter: &str) -> String {
        let mut out = String::with_capacity(filter.len());
        let mut property: Option<String> = None;
        let mut chars = filter.char_indices().peekable();
        let word_char =
            |c: char| c.is_alphanumeric() || matches!(c, '_' | '/' | '.' | '$' | '@' | '-' | ':');
        while let Some((start, c)) = chars.next() {
            if c == '\'' {
                // A literal: up to the next lone quote (`''` is a quote inside it).
                let mut literal = String::new();
                while let Some((_, c)) = chars.next() {
                    if c == '\'' {
                        if chars.peek().map(|(_, c)| *c) == Some('\'') {
                            chars.next();
                            literal.push('\'');
                            continue;
                        }
                        break;
                    }
                    literal.push(c);
                }
                let class = property
                    .as_deref()
                    .map_or(Class::Plain, |p| member_class(p, None));
                let replaced = match class {
                    Class::Plain | Class::Url => self.text(&literal),
                    class => self.classed(&literal, class),
                };
                out.push('\'');
                out.push_str(&replaced.replace('\'', "''"));
                out.push('\'');
            } else if word_char(c) {
                let mut end = start + c.len_utf8();
                while let Some(&(i, c)) = chars.peek() {
                    if !word_char(c) {
                        break;
                    }
                    end = i + c.len_utf8();
                    chars.next();
                }
                let word = &filter[start..end];
                if is_guid(word) {
                    out.push_str(&self.id(word));
                    continue;
                }
                out.push_str(word);
                if !KEYWORDS.contains(&word.to_ascii_lowercase().as_str()) {
                    // `c/issuerAssignedId` and `c:c/mail` name the property last.
                    let last = word.rsplit(['/', ':']).next().unwrap_or(word);
                    property = Some(last.to_owned());
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    /// A `$search` expression: each `"property:value"` replaced as a `$filter` literal
    /// compared with that property is.
    fn search(&mut self, search: &str) -> String {
        let mut out = String::with_capacity(search.len());
        for (i, part) in search.split('"').enumerate() {
            if i > 0 {
                out.push('"');
            }
            match part.split_once(':') {
                Some((property, value)) if i % 2 == 1 => {
                    let class = member_class(property, None);
                    let replaced = match class {
                        Class::Plain | Class::Url => self.text(value),
                        class => self.classed(value, class),
                    };
                    out.push_str(property);
                    out.push(':');
                    out.push_str(&replaced);
                }
                _ => out.push_str(&self.scan(part)),
            }
        }
        out
    }
}
