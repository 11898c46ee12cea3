//! OData query options: URL decoding, `$filter` (eq, ne, in, startswith,
//! endswith, and, or, not), `$select`, `$top`, `$count` and opaque
//! `$skiptoken` paging with absolute `@odata.nextLink`s.

use serde_json::{Map, Value, json};

use crate::errors::{GraphError, GraphResult};

/// Decode `%XX` escapes (and `+` as space when `plus_space`).
pub fn percent_decode(s: &str, plus_space: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' if plus_space => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Encode a query value.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~$,()':".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Split a raw query string into decoded pairs.
pub fn parse_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (percent_decode(k, true), percent_decode(v, true)),
            None => (percent_decode(p, true), String::new()),
        })
        .collect()
}

/// Parsed query options.
#[derive(Debug, Default)]
pub struct QueryOptions {
    /// `$select`.
    pub select: Option<Vec<String>>,
    /// `$filter`.
    pub filter: Option<Expr>,
    /// `$top`.
    pub top: Option<usize>,
    /// Decoded `$skiptoken` offset.
    pub skip: usize,
    /// `$count=true`.
    pub count: bool,
    /// `$expand`.
    pub expand: Vec<String>,
    /// `ConsistencyLevel: eventual` was sent.
    pub eventual: bool,
}

impl QueryOptions {
    /// Whether an item's property `name` can be in the answer or is read by `$filter`: items
    /// need be built with no more (a page of 1,000 assignments `$select`ing five of nine
    /// properties). Without `$select`, every property.
    pub fn needs(&self, name: &str) -> bool {
        match &self.select {
            None => true,
            Some(select) => {
                select.iter().any(|s| s.eq_ignore_ascii_case(name))
                    || self.filter.as_ref().is_some_and(|f| f.mentions(name))
            }
        }
    }

    /// [`Self::needs`] of a request's options, or every property when they did not parse (the
    /// listing reports the bad query itself).
    pub fn needs_of(opts: Option<&Self>) -> impl Fn(&str) -> bool + '_ {
        move |name| opts.is_none_or(|o| o.needs(name))
    }

    /// Parse the options of a request (names are case-insensitive, with or without `$`).
    pub fn parse(query: &[(String, String)], eventual: bool) -> GraphResult<Self> {
        let mut o = Self {
            eventual,
            ..Self::default()
        };
        for (k, v) in query {
            let key = k.trim_start_matches('$').to_ascii_lowercase();
            match key.as_str() {
                "select" => {
                    o.select = Some(
                        v.split(',')
                            .map(|s| s.trim().to_owned())
                            .filter(|s| !s.is_empty())
                            .collect(),
                    )
                }
                "filter" => o.filter = Some(parse_filter(v)?),
                "top" => {
                    let n: i64 = v.trim().parse().map_err(|_| bad_top(v))?;
                    if !(1..=999).contains(&n) {
                        return Err(bad_top(v));
                    }
                    o.top = Some(n as usize);
                }
                "skiptoken" => o.skip = decode_skiptoken(v)?,
                "count" => o.count = v.eq_ignore_ascii_case("true"),
                "expand" => o.expand = v.split(',').map(|s| s.trim().to_owned()).collect(),
                "orderby" | "search" | "skip" => {
                    return Err(GraphError::new(
                        400,
                        "Request_UnsupportedQuery",
                        format!("The query option '${key}' is not supported by the emulator."),
                    ));
                }
                _ => {}
            }
        }
        if o.count && !eventual {
            return Err(GraphError::new(
                400,
                "Request_BadRequest",
                "$count is not currently supported without the ConsistencyLevel: eventual header.",
            ));
        }
        if let Some(f) = &o.filter
            && f.is_advanced()
            && !(eventual && o.count)
        {
            return Err(GraphError::new(
                400,
                "Request_UnsupportedQuery",
                "Unsupported or invalid query filter clause specified: 'ne', 'not' and 'endsWith' need ConsistencyLevel: eventual and $count=true.",
            ));
        }
        Ok(o)
    }

    /// Reject `$select` names not in `known`.
    pub fn check_select(&self, known: &[&str], type_name: &str) -> GraphResult<()> {
        for s in self.select.iter().flatten() {
            if !known.iter().any(|k| k.eq_ignore_ascii_case(s)) {
                return Err(GraphError::bad_request(format!(
                    "Could not find a property named '{s}' on type 'microsoft.graph.{type_name}'."
                )));
            }
        }
        Ok(())
    }
}

fn bad_top(v: &str) -> GraphError {
    GraphError::bad_request(format!(
        "Invalid page size specified: '{v}'. Must be between 1 and 999 inclusive."
    ))
}

fn encode_skiptoken(offset: usize) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("RFNwdA:mtoctl-emulator:{offset}"))
}

fn decode_skiptoken(t: &str) -> GraphResult<usize> {
    use base64::Engine as _;
    let bad =
        || GraphError::bad_request("The specified page token value has expired or is invalid.");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(t.trim())
        .map_err(|_| bad())?;
    let s = String::from_utf8(bytes).map_err(|_| bad())?;
    s.strip_prefix("RFNwdA:mtoctl-emulator:")
        .and_then(|n| n.parse().ok())
        .ok_or_else(bad)
}

/// An entity's properties, built with only those a query needs ([`QueryOptions::needs`]): a
/// value is made only when its property is wanted (a lookup of 15 users selects four of their
/// twenty properties; a list of assignments five of nine).
pub struct Props<N> {
    map: Map<String, Value>,
    needs: N,
}

impl<N: Fn(&str) -> bool> Props<N> {
    /// No properties yet; `needs` says which to keep.
    pub fn new(needs: N) -> Self {
        Self {
            map: Map::new(),
            needs,
        }
    }

    /// Adds `key` with the value `value` makes, if it is needed.
    pub fn put(&mut self, key: &str, value: impl FnOnce() -> Value) {
        if (self.needs)(key) {
            self.map.insert(key.to_owned(), value());
        }
    }

    /// The properties put.
    pub fn into_map(self) -> Map<String, Value> {
        self.map
    }
}

/// Apply `$select` (or the default property list) to one entity. The entity is given up: what
/// is kept is moved, not copied (a page of B3's no-op plan holds 10,000 assignments).
pub fn project(
    mut full: Map<String, Value>,
    select: Option<&[String]>,
    defaults: Option<&[&str]>,
) -> Map<String, Value> {
    match (select, defaults) {
        (Some(sel), _) => {
            let mut m = Map::new();
            for s in sel {
                // `$select` names are case-insensitive; items are keyed as Graph spells them.
                let key = match full.contains_key(s.as_str()) {
                    true => Some(s.clone()),
                    false => full.keys().find(|k| k.eq_ignore_ascii_case(s)).cloned(),
                };
                if let Some((k, v)) = key.and_then(|k| full.remove_entry(&k)) {
                    m.insert(k, v);
                }
            }
            m
        }
        (None, Some(defs)) => defs.iter().filter_map(|d| full.remove_entry(*d)).collect(),
        (None, None) => full,
    }
}

/// A collection page request.
pub struct PageSpec<'a> {
    /// Context after `$metadata#`, e.g. `users`.
    pub context: &'a str,
    /// The absolute URL of the collection without query, for `@odata.nextLink`.
    pub self_url: String,
    /// Original query pairs (re-emitted in the nextLink).
    pub query: &'a [(String, String)],
    /// Default page size.
    pub default_top: usize,
    /// Default properties when `$select` is absent (`None` = all).
    pub defaults: Option<&'a [&'a str]>,
    /// Graph version (`v1.0` or `beta`) for the context URL.
    pub version: &'a str,
}

/// Filter, page and project `items`, producing the collection body.
pub fn page(
    items: Vec<Map<String, Value>>,
    opts: &QueryOptions,
    spec: &PageSpec<'_>,
) -> GraphResult<Value> {
    let mut matched = Vec::new();
    for it in items {
        let keep = match &opts.filter {
            Some(f) => f.eval(&it)?,
            None => true,
        };
        if keep {
            matched.push(it);
        }
    }
    let total = matched.len();
    let top = opts.top.unwrap_or(spec.default_top);
    let start = opts.skip.min(total);
    let end = (start + top).min(total);
    // The page's items are moved out, not copied: a no-op plan of B3 lists 190,000
    // assignments, and this runs behind the emulator's one lock.
    let value: Vec<Value> = matched
        .drain(start..end)
        .map(|m| Value::Object(project(m, opts.select.as_deref(), spec.defaults)))
        .collect();
    let ctx = match &opts.select {
        Some(sel) => format!("{}({})", spec.context, sel.join(",")),
        None => spec.context.to_owned(),
    };
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        json!(format!(
            "https://graph.microsoft.com/{}/$metadata#{ctx}",
            spec.version
        )),
    );
    if opts.count && start == 0 {
        body.insert("@odata.count".into(), json!(total));
    }
    if end < total {
        let mut q: Vec<String> = spec
            .query
            .iter()
            .filter(|(k, _)| !k.trim_start_matches('$').eq_ignore_ascii_case("skiptoken"))
            .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
            .collect();
        q.push(format!("$skiptoken={}", encode_skiptoken(end)));
        body.insert(
            "@odata.nextLink".into(),
            json!(format!("{}?{}", spec.self_url, q.join("&"))),
        );
    }
    body.insert("value".into(), Value::Array(value));
    Ok(Value::Object(body))
}

/// A `$filter` expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `prop eq lit` / `prop ne lit`.
    Cmp(String, bool, Value),
    /// `prop in (a, b)`.
    In(String, Vec<Value>),
    /// `startswith(prop, 'x')` (true) / `endswith(prop, 'x')` (false).
    Starts(String, String, bool),
    /// Conjunction.
    And(Box<Expr>, Box<Expr>),
    /// Disjunction.
    Or(Box<Expr>, Box<Expr>),
    /// Negation.
    Not(Box<Expr>),
}

impl Expr {
    /// Whether the expression needs advanced query capabilities.
    pub fn is_advanced(&self) -> bool {
        match self {
            Expr::Cmp(_, eq, _) => !eq,
            Expr::In(..) => false,
            Expr::Starts(_, _, starts) => !starts,
            Expr::And(a, b) | Expr::Or(a, b) => a.is_advanced() || b.is_advanced(),
            Expr::Not(_) => true,
        }
    }

    /// Whether the expression reads the top-level property `name` (case-insensitive).
    pub fn mentions(&self, name: &str) -> bool {
        match self {
            Expr::Cmp(p, ..) | Expr::In(p, _) | Expr::Starts(p, ..) => p
                .split('/')
                .next()
                .is_some_and(|head| head.eq_ignore_ascii_case(name)),
            Expr::And(a, b) | Expr::Or(a, b) => a.mentions(name) || b.mentions(name),
            Expr::Not(a) => a.mentions(name),
        }
    }

    /// Evaluate against an entity. Unknown properties are a 400.
    pub fn eval(&self, m: &Map<String, Value>) -> GraphResult<bool> {
        Ok(match self {
            Expr::Cmp(p, eq, v) => values_equal(lookup(m, p)?, v) == *eq,
            Expr::In(p, vs) => {
                let actual = lookup(m, p)?;
                vs.iter().any(|v| values_equal(actual, v))
            }
            Expr::Starts(p, s, starts) => {
                let actual = lookup(m, p)?.as_str().unwrap_or("").to_lowercase();
                let s = s.to_lowercase();
                if *starts {
                    actual.starts_with(&s)
                } else {
                    actual.ends_with(&s)
                }
            }
            Expr::And(a, b) => a.eval(m)? && b.eval(m)?,
            Expr::Or(a, b) => a.eval(m)? || b.eval(m)?,
            Expr::Not(a) => !a.eval(m)?,
        })
    }
}

fn lookup<'a>(m: &'a Map<String, Value>, path: &str) -> GraphResult<&'a Value> {
    let mut cur: Option<&Value> = None;
    for (i, part) in path.split('/').enumerate() {
        let next = if i == 0 {
            m.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(part))
                .map(|(_, v)| v)
        } else {
            cur.and_then(|c| c.as_object()).and_then(|o| {
                o.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(part))
                    .map(|(_, v)| v)
            })
        };
        match next {
            Some(v) => cur = Some(v),
            None => {
                return Err(GraphError::new(
                    400,
                    "Request_UnsupportedQuery",
                    format!(
                        "Unsupported or invalid query filter clause specified for property '{path}'."
                    ),
                ));
            }
        }
    }
    cur.ok_or_else(|| GraphError::bad_request("empty property path"))
}

fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.eq_ignore_ascii_case(y),
        (Value::Array(xs), y) => xs.iter().any(|x| values_equal(x, y)),
        (x, y) => x == y,
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Lit(Value),
    LParen,
    RParen,
    Comma,
}

fn tokenize(s: &str) -> GraphResult<Vec<Tok>> {
    let bad = |m: &str| GraphError::new(400, "BadRequest", format!("Invalid filter clause: {m}"));
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            '\'' => {
                let mut v = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(bad("unterminated string literal")),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            v.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            v.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(v));
            }
            _ => {
                let start = i;
                while i < chars.len() && !matches!(chars[i], ' ' | '\t' | '(' | ')' | ',' | '\'') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let tok = match word.as_str() {
                    "true" => Tok::Lit(json!(true)),
                    "false" => Tok::Lit(json!(false)),
                    "null" => Tok::Lit(Value::Null),
                    w if w.parse::<f64>().is_ok() && !w.contains('-') => {
                        Tok::Lit(serde_json::from_str(w).map_err(|_| bad(w))?)
                    }
                    // Unquoted GUIDs are accepted as strings.
                    w if crate::ids::is_guid(w) => Tok::Str(w.to_owned()),
                    _ => Tok::Ident(word),
                };
                out.push(tok);
            }
        }
    }
    Ok(out)
}

/// Parse a `$filter` expression.
pub fn parse_filter(s: &str) -> GraphResult<Expr> {
    let toks = tokenize(s)?;
    let mut p = Parser { toks, pos: 0 };
    let e = p.or()?;
    if p.pos != p.toks.len() {
        return Err(GraphError::new(
            400,
            "BadRequest",
            format!("Invalid filter clause: unexpected tokens in '{s}'"),
        ));
    }
    Ok(e)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn err(&self, m: &str) -> GraphError {
        GraphError::new(400, "BadRequest", format!("Invalid filter clause: {m}"))
    }
    fn peek_kw(&self, kw: &str) -> bool {
        matches!(self.toks.get(self.pos), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(kw))
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn expect(&mut self, t: Tok) -> GraphResult<()> {
        if self.next() == Some(t.clone()) {
            Ok(())
        } else {
            Err(self.err(&format!("expected {t:?}")))
        }
    }
    fn or(&mut self) -> GraphResult<Expr> {
        let mut l = self.and()?;
        while self.peek_kw("or") {
            self.pos += 1;
            l = Expr::Or(Box::new(l), Box::new(self.and()?));
        }
        Ok(l)
    }
    fn and(&mut self) -> GraphResult<Expr> {
        let mut l = self.unary()?;
        while self.peek_kw("and") {
            self.pos += 1;
            l = Expr::And(Box::new(l), Box::new(self.unary()?));
        }
        Ok(l)
    }
    fn literal(&mut self) -> GraphResult<Value> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Value::String(s)),
            Some(Tok::Lit(v)) => Ok(v),
            _ => Err(self.err("expected a literal")),
        }
    }
    fn unary(&mut self) -> GraphResult<Expr> {
        if self.peek_kw("not") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        match self.next() {
            Some(Tok::LParen) => {
                let e = self.or()?;
                self.expect(Tok::RParen)?;
                Ok(e)
            }
            Some(Tok::Ident(f))
                if f.eq_ignore_ascii_case("startswith") || f.eq_ignore_ascii_case("endswith") =>
            {
                self.expect(Tok::LParen)?;
                let Some(Tok::Ident(p)) = self.next() else {
                    return Err(self.err("expected a property"));
                };
                self.expect(Tok::Comma)?;
                let Some(Tok::Str(v)) = self.next() else {
                    return Err(self.err("expected a string"));
                };
                self.expect(Tok::RParen)?;
                Ok(Expr::Starts(p, v, f.eq_ignore_ascii_case("startswith")))
            }
            Some(Tok::Ident(p)) => {
                let Some(Tok::Ident(op)) = self.next() else {
                    return Err(self.err("expected an operator"));
                };
                match op.to_ascii_lowercase().as_str() {
                    "eq" => Ok(Expr::Cmp(p, true, self.literal()?)),
                    "ne" => Ok(Expr::Cmp(p, false, self.literal()?)),
                    "in" => {
                        self.expect(Tok::LParen)?;
                        let mut vs = vec![self.literal()?];
                        while self.toks.get(self.pos) == Some(&Tok::Comma) {
                            self.pos += 1;
                            vs.push(self.literal()?);
                        }
                        self.expect(Tok::RParen)?;
                        if vs.len() > 15 {
                            return Err(self.err("too many values in 'in' (max 15)"));
                        }
                        Ok(Expr::In(p, vs))
                    }
                    other => Err(GraphError::new(
                        400,
                        "Request_UnsupportedQuery",
                        format!("Unsupported query operator '{other}'."),
                    )),
                }
            }
            _ => Err(self.err("expected an expression")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn an_item_needs_what_select_shows_and_filter_reads() {
        let q = |pairs: &[(&str, &str)]| {
            let mut pairs: Vec<(String, String)> = pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            pairs.push(("$count".into(), "true".into()));
            QueryOptions::parse(&pairs, true).expect("parses")
        };
        let all = q(&[]);
        assert!(all.needs("createdDateTime") && all.needs("id"));
        let some = q(&[
            ("$select", "id,DisplayName"),
            (
                "$filter",
                "userPrincipalName in ('a@x.com') and startswith(manager/mail, 'b')",
            ),
        ]);
        for name in ["id", "displayName", "USERPRINCIPALNAME", "manager"] {
            assert!(some.needs(name), "{name}");
        }
        for name in ["createdDateTime", "mail", "userType"] {
            assert!(!some.needs(name), "{name}");
        }
        let negated = q(&[("$select", "id"), ("$filter", "not(userType eq 'Guest')")]);
        assert!(negated.needs("userType") && !negated.needs("mail"));
    }

    #[test]
    fn filters_evaluate() {
        let alice = m(
            json!({"userPrincipalName": "alice@contoso.com", "userType": "Member", "accountEnabled": true}),
        );
        let t = |f: &str| parse_filter(f).unwrap().eval(&alice).unwrap();
        assert!(t("userPrincipalName eq 'ALICE@contoso.com'"));
        assert!(t("userType in ('Guest', 'Member')"));
        assert!(!t("userType eq 'Guest' and accountEnabled eq true"));
        assert!(t("(userType eq 'Guest') or accountEnabled eq true"));
        assert!(t("startswith(userPrincipalName,'ali')"));
        assert!(t("not (userType eq 'Guest')"));
        assert!(parse_filter("nope eq 'x'").unwrap().eval(&alice).is_err());
        assert!(parse_filter("userType eq").is_err());
        assert!(parse_filter("userType gt 'x'").is_err());
        assert!(
            parse_filter("x eq 'o''brien'").unwrap()
                == Expr::Cmp("x".into(), true, json!("o'brien"))
        );
    }

    #[test]
    fn query_and_paging() {
        assert_eq!(percent_decode("a%40b+c%23EXT%23", true), "a@b c#EXT#");
        assert_eq!(percent_decode("100%", false), "100%");
        let q = parse_query("$top=2&$filter=a%20eq%20'x'");
        assert_eq!(q[0], ("$top".into(), "2".into()));
        assert!(QueryOptions::parse(&[("$top".into(), "1000".into())], false).is_err());
        assert!(QueryOptions::parse(&[("$top".into(), "0".into())], false).is_err());
        assert!(QueryOptions::parse(&[("$count".into(), "true".into())], false).is_err());
        let token = encode_skiptoken(42);
        assert_eq!(decode_skiptoken(&token).unwrap(), 42);
        assert!(decode_skiptoken("garbage!").is_err());
    }
}
