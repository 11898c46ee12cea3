//! Query options: `$select`, `$expand`, `$filter`, `$orderby` and the rest.

use crate::model::{Kind, Member, Model, TypeRef};
use crate::path::{cast_name, percent_decode, split_call, split_top_level};
use crate::values::{Expand, is_guid};
use crate::{Target, TargetKind};

/// The query options that shape an answer.
#[derive(Debug, Default)]
pub(crate) struct Shaping {
    pub select: Option<Vec<String>>,
    pub expand: Vec<Expand>,
}

/// Splits a raw query on `&` and `=`, decoding names and values (`+` is not a space).
pub(crate) fn parse_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((n, v)) => (percent_decode(n), percent_decode(v)),
            None => (percent_decode(p), String::new()),
        })
        .collect()
}

/// Operators and keywords of `$filter` that are not property names (compared lower-cased).
const FILTER_WORDS: &[&str] = &[
    "eq",
    "ne",
    "gt",
    "ge",
    "lt",
    "le",
    "and",
    "or",
    "not",
    "in",
    "has",
    "startswith",
    "endswith",
    "contains",
    "any",
    "all",
    "true",
    "false",
    "null",
    "inf",
    "nan",
];

fn split_list(value: &str) -> Vec<&str> {
    split_top_level(value, ',')
        .into_iter()
        .map(str::trim)
        .collect()
}

#[derive(Debug)]
enum Tok<'e> {
    Word(&'e str),
    /// A word written right before a quote: `duration'P1D'`.
    TypePrefix,
    Str,
    Open,
    Close,
    Colon,
    Comma,
}

fn starts_like_literal(word: &str) -> bool {
    let mut chars = word.chars();
    match chars.next() {
        Some(c) if c.is_ascii_digit() => true,
        Some('-' | '+') => chars.next().is_some_and(|c| c.is_ascii_digit() || c == '.'),
        _ => false,
    }
}

fn lex(expr: &str) -> Result<Vec<Tok<'_>>, String> {
    let bytes = expr.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'(' => {
                toks.push(Tok::Open);
                i += 1;
            }
            b')' => {
                toks.push(Tok::Close);
                i += 1;
            }
            b',' => {
                toks.push(Tok::Comma);
                i += 1;
            }
            b':' => {
                toks.push(Tok::Colon);
                i += 1;
            }
            b'\'' => {
                i += 1;
                loop {
                    match bytes.get(i) {
                        None => return Err("unterminated string literal".to_owned()),
                        Some(b'\'') if bytes.get(i + 1) == Some(&b'\'') => i += 2,
                        Some(b'\'') => {
                            i += 1;
                            break;
                        }
                        Some(_) => i += 1,
                    }
                }
                toks.push(Tok::Str);
            }
            _ => {
                let start = i;
                let literal = starts_like_literal(&expr[start..]);
                while i < bytes.len() {
                    let b = bytes[i];
                    let stop = b.is_ascii_whitespace()
                        || matches!(b, b'(' | b')' | b',' | b'\'')
                        || (b == b':' && !literal);
                    if stop {
                        break;
                    }
                    i += 1;
                }
                if bytes.get(i) == Some(&b'\'') {
                    toks.push(Tok::TypePrefix);
                } else {
                    toks.push(Tok::Word(&expr[start..i]));
                }
            }
        }
    }
    Ok(toks)
}

impl Model {
    /// Resolves `a/b/c` on `ty`: each segment a structural or navigation property (or a cast).
    /// `Ok(None)` when it leads through a type trimmed from the file or a `$count`.
    pub(crate) fn member_path(&self, ty: &str, path: &str) -> Result<Option<TypeRef>, String> {
        let mut current = TypeRef::single(ty);
        for segment in path.split('/') {
            match self.kind(&current.name) {
                Kind::Structured => {}
                Kind::Unknown => return Ok(None),
                Kind::Primitive | Kind::Enum(_) => {
                    return Err(format!("`{segment}` is not a property of {}", current.name));
                }
            }
            if segment.is_empty() {
                return Err(format!("`{path}` has an empty segment"));
            }
            if segment == "$count" {
                return Ok(None);
            }
            if segment.starts_with("microsoft.graph.")
                && let Some(to) = cast_name(segment)
            {
                if !self.types.contains_key(to) || !self.derives_from(to, &current.name) {
                    return Err(format!(
                        "`{segment}` is not a type derived from {}",
                        current.name
                    ));
                }
                current = TypeRef::single(to);
                continue;
            }
            match self.members_lenient(&current.name, segment).first() {
                Some(m) => current = m.ty().clone(),
                None => {
                    return Err(format!(
                        "`{segment}` is not a structural or navigation property of {}",
                        current.name
                    ));
                }
            }
        }
        Ok(Some(current))
    }

    /// Checks the query options of a request on `target`; returns what shapes its answer.
    pub(crate) fn check_query(
        &self,
        target: &Target,
        params: &[(String, String)],
        problems: &mut Vec<String>,
    ) -> Shaping {
        let mut shaping = Shaping::default();
        // The type whose properties the options name; None when there is none to check against.
        let ty: Option<&str> = match target.kind {
            TargetKind::Unchecked => None,
            _ if target.type_name.is_empty() => None,
            _ => Some(target.type_name.as_str()).filter(|t| self.is_known(t)),
        };
        let nothing = target.type_name.is_empty()
            && matches!(target.kind, TargetKind::Action | TargetKind::Function);
        let delta =
            target.kind == TargetKind::Function && target.operation.as_deref() == Some("delta");
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in params {
            if seen.contains(&name.as_str()) {
                problems.push(format!("query option `{name}` is given more than once"));
            }
            seen.push(name);
            match name.as_str() {
                "$select" | "$expand" | "$filter" | "$orderby" if nothing => {
                    let op = target.operation.as_deref().unwrap_or_default();
                    problems.push(format!(
                        "`{name}` has nothing to apply to: `{op}` returns nothing"
                    ));
                }
                "$select" => {
                    let names: Vec<String> =
                        split_list(value).into_iter().map(str::to_owned).collect();
                    if let Some(ty) = ty {
                        self.check_select(ty, &names, problems);
                    }
                    shaping.select = Some(names);
                }
                "$expand" => shaping.expand = self.check_expand(ty, value, problems),
                "$filter" => {
                    if let Some(ty) = ty {
                        self.check_filter(ty, value, problems);
                    }
                }
                "$orderby" => {
                    if let Some(ty) = ty {
                        self.check_orderby(ty, value, problems);
                    }
                }
                "$top" | "$skip" => {
                    if value.parse::<u64>().is_err() {
                        problems.push(format!(
                            "`{name}` must be a non-negative integer, got `{value}`"
                        ));
                    }
                }
                "$count" => {
                    if value != "true" && value != "false" {
                        problems.push(format!("`$count` must be true or false, got `{value}`"));
                    }
                }
                "$search" | "$skiptoken" => {}
                "$deltatoken" if delta => {}
                n if n.starts_with('$') => {
                    problems.push(format!("`{n}` is not a query option this contract allows"))
                }
                // Parameter aliases (`@p=...`) are OData's; anything else is not.
                n if n.starts_with('@') => {}
                n => problems.push(format!(
                    "query parameter `{n}` is not an OData system query option"
                )),
            }
        }
        shaping
    }

    fn check_select(&self, ty: &str, names: &[String], problems: &mut Vec<String>) {
        for name in names {
            if name == "*" {
                continue;
            }
            if let Err(e) = self.member_path(ty, name) {
                problems.push(format!("$select: {e}"));
            }
        }
    }

    fn check_orderby(&self, ty: &str, value: &str, problems: &mut Vec<String>) {
        for item in split_list(value) {
            let mut words = item.split_whitespace();
            let path = words.next().unwrap_or_default();
            let direction = words.next();
            if path.is_empty() {
                problems.push("$orderby: an empty item".to_owned());
                continue;
            }
            if let Some(d) = direction
                && !d.eq_ignore_ascii_case("asc")
                && !d.eq_ignore_ascii_case("desc")
            {
                problems.push(format!("$orderby: `{d}` is neither asc nor desc"));
            }
            if let Err(e) = self.member_path(ty, path) {
                problems.push(format!("$orderby: {e}"));
            }
        }
    }

    /// Checks `$expand` items (and their nested options) on `ty`; returns them.
    fn check_expand(
        &self,
        ty: Option<&str>,
        value: &str,
        problems: &mut Vec<String>,
    ) -> Vec<Expand> {
        let mut expands = Vec::new();
        for item in split_list(value) {
            let (name, options) = split_call(item);
            let name = name.trim();
            let name = name.strip_suffix("/$ref").unwrap_or(name);
            let mut expand = Expand {
                name: name.to_owned(),
                ..Expand::default()
            };
            let mut nav_type = None;
            if name == "*" {
                expands.push(expand);
                continue;
            }
            if let Some(ty) = ty {
                let (prefix, last) = match name.rsplit_once('/') {
                    Some((p, l)) => (Some(p), l),
                    None => (None, name),
                };
                let owner = match prefix {
                    Some(p) => match self.member_path(ty, p) {
                        Ok(t) => t.map(|t| t.name),
                        Err(e) => {
                            problems.push(format!("$expand: {e}"));
                            continue;
                        }
                    },
                    None => Some(ty.to_owned()),
                };
                if let Some(owner) = owner.filter(|o| self.types.contains_key(o)) {
                    match self.members_lenient(&owner, last).first() {
                        Some(Member::Navigation(n)) => {
                            nav_type = Some(n.ty.name.clone()).filter(|t| self.is_known(t))
                        }
                        _ => {
                            problems.push(format!(
                                "$expand: `{last}` is not a navigation property of {owner}"
                            ));
                            continue;
                        }
                    }
                }
            }
            for option in split_top_level(options.unwrap_or_default(), ';') {
                let option = option.trim();
                if option.is_empty() {
                    continue;
                }
                let (opt, val) = option.split_once('=').unwrap_or((option, ""));
                match opt {
                    "$select" => {
                        let names: Vec<String> =
                            split_list(val).into_iter().map(str::to_owned).collect();
                        if let Some(t) = &nav_type {
                            self.check_select(t, &names, problems);
                        }
                        expand.select = Some(names);
                    }
                    "$expand" => {
                        expand.expand = self.check_expand(nav_type.as_deref(), val, problems)
                    }
                    "$filter" => {
                        if let Some(t) = &nav_type {
                            self.check_filter(t, val, problems);
                        }
                    }
                    "$orderby" => {
                        if let Some(t) = &nav_type {
                            self.check_orderby(t, val, problems);
                        }
                    }
                    "$top" | "$skip" | "$count" | "$search" | "$levels" => {}
                    other => problems.push(format!(
                        "$expand: `{other}` is not an option allowed inside $expand"
                    )),
                }
            }
            expands.push(expand);
        }
        expands
    }

    /// Every property name a `$filter` expression uses must be declared on `ty` (lambda
    /// variables resolve on their collection's element type).
    pub(crate) fn check_filter(&self, ty: &str, expr: &str, problems: &mut Vec<String>) {
        let toks = match lex(expr) {
            Ok(t) => t,
            Err(e) => {
                problems.push(format!("$filter: {e}"));
                return;
            }
        };
        let mut depth = 0usize;
        // (variable, element type or None when unchecked, depth of its parentheses)
        let mut scopes: Vec<(&str, Option<String>, usize)> = Vec::new();
        // A lambda seen (`x/any`), waiting for its `(` and variable.
        let mut pending: Option<Option<String>> = None;
        let mut lambda: Option<(Option<String>, usize)> = None;
        for (i, tok) in toks.iter().enumerate() {
            let next = toks.get(i + 1);
            match tok {
                Tok::Open => {
                    depth += 1;
                    if let Some(t) = pending.take() {
                        lambda = Some((t, depth));
                    }
                }
                Tok::Close => {
                    scopes.retain(|(_, _, d)| *d != depth);
                    depth = depth.saturating_sub(1);
                }
                Tok::Str | Tok::TypePrefix | Tok::Colon | Tok::Comma => {}
                Tok::Word(word) => {
                    let lower = word.to_ascii_lowercase();
                    if matches!(next, Some(Tok::Open)) {
                        if let Some((prefix, op)) = word.rsplit_once('/')
                            && (op == "any" || op == "all")
                        {
                            pending = Some(
                                self.filter_path(ty, &scopes, prefix, problems)
                                    .map(|t| t.name),
                            );
                        }
                        // Otherwise a function call (startswith, contains, tolower ...).
                        continue;
                    }
                    if matches!(next, Some(Tok::Colon)) {
                        if let Some((t, d)) = lambda.take() {
                            scopes.push((word, t, d));
                        }
                        continue;
                    }
                    if starts_like_literal(word)
                        || is_guid(word)
                        || FILTER_WORDS.contains(&lower.as_str())
                        || word.starts_with('@')
                        || word.starts_with('$')
                    {
                        continue;
                    }
                    self.filter_path(ty, &scopes, word, problems);
                }
            }
        }
    }

    /// Resolves a property path used in `$filter`, reporting it if undeclared.
    fn filter_path(
        &self,
        ty: &str,
        scopes: &[(&str, Option<String>, usize)],
        path: &str,
        problems: &mut Vec<String>,
    ) -> Option<TypeRef> {
        let (head, rest) = match path.split_once('/') {
            Some((h, r)) => (h, Some(r)),
            None => (path, None),
        };
        let (on, path) = match scopes.iter().rev().find(|(v, _, _)| *v == head) {
            Some((_, t, _)) => match (t, rest) {
                (Some(t), Some(rest)) => (t.as_str(), rest),
                // A bare variable (a primitive element) or an unchecked collection.
                _ => return None,
            },
            None => (ty, path),
        };
        match self.member_path(on, path) {
            Ok(t) => t,
            Err(e) => {
                problems.push(format!("$filter: {e}"));
                None
            }
        }
    }
}
