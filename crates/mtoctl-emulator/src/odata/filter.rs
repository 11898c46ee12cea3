//! `$filter` expressions: eq, ne, in, startswith, endswith, and, or, not, and (for the
//! collections that document them, see [`super::Dialect`]) contains, tolower and gt, ge, lt,
//! le with date-time literals; parsed, and evaluated against an entity as Graph compares
//! (strings case-insensitively, or case-sensitively where a collection says so).

use serde_json::{Map, Value, json};

use crate::errors::{GraphError, GraphResult};

/// A `$filter` expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `prop eq lit` / `prop ne lit`.
    Cmp(String, bool, Value),
    /// `prop in (a, b)`.
    In(String, Vec<Value>),
    /// `startswith(prop, 'x')` (true) / `endswith(prop, 'x')` (false).
    Starts(String, String, bool),
    /// `contains(prop, 'x')`, or `contains(tolower(prop), 'x')` (true).
    Contains(String, String, bool),
    /// `prop gt|ge|lt|le lit`.
    Order(String, Rel, Value),
    /// Conjunction.
    And(Box<Expr>, Box<Expr>),
    /// Disjunction.
    Or(Box<Expr>, Box<Expr>),
    /// Negation.
    Not(Box<Expr>),
}

/// An order comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rel {
    /// `gt`.
    Gt,
    /// `ge`.
    Ge,
    /// `lt`.
    Lt,
    /// `le`.
    Le,
}

impl Rel {
    fn holds(self, o: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::{Equal, Greater, Less};
        match self {
            Rel::Gt => o == Greater,
            Rel::Ge => o != Less,
            Rel::Lt => o == Less,
            Rel::Le => o == Less || o == Equal,
        }
    }
}

/// How strings compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Case {
    /// Ignoring ASCII case (directory objects).
    #[default]
    Insensitive,
    /// Exactly ("The filters are all case sensitive", provisioning logs).
    Sensitive,
}

impl Case {
    fn eq(self, a: &str, b: &str) -> bool {
        match self {
            Case::Insensitive => a.eq_ignore_ascii_case(b),
            Case::Sensitive => a == b,
        }
    }

    fn fold(self, s: &str) -> String {
        match self {
            Case::Insensitive => s.to_lowercase(),
            Case::Sensitive => s.to_owned(),
        }
    }
}

impl Expr {
    /// Whether any node of the expression satisfies `pred`.
    pub fn any(&self, pred: &impl Fn(&Expr) -> bool) -> bool {
        pred(self)
            || match self {
                Expr::And(a, b) | Expr::Or(a, b) => a.any(pred) || b.any(pred),
                Expr::Not(a) => a.any(pred),
                _ => false,
            }
    }

    /// Whether the expression needs advanced query capabilities.
    pub fn is_advanced(&self) -> bool {
        match self {
            Expr::Cmp(_, eq, _) => !eq,
            Expr::In(..) | Expr::Contains(..) | Expr::Order(..) => false,
            Expr::Starts(_, _, starts) => !starts,
            Expr::And(a, b) | Expr::Or(a, b) => a.is_advanced() || b.is_advanced(),
            Expr::Not(_) => true,
        }
    }

    /// Whether the expression reads the top-level property `name` (case-insensitive).
    pub fn mentions(&self, name: &str) -> bool {
        match self {
            Expr::Cmp(p, ..)
            | Expr::In(p, _)
            | Expr::Starts(p, ..)
            | Expr::Contains(p, ..)
            | Expr::Order(p, ..) => p
                .split('/')
                .next()
                .is_some_and(|head| head.eq_ignore_ascii_case(name)),
            Expr::And(a, b) | Expr::Or(a, b) => a.mentions(name) || b.mentions(name),
            Expr::Not(a) => a.mentions(name),
        }
    }

    /// Evaluate against an entity, strings compared ignoring case. Unknown properties are a
    /// 400.
    pub fn eval(&self, m: &Map<String, Value>) -> GraphResult<bool> {
        self.eval_with(m, Case::Insensitive)
    }

    /// Evaluate against an entity, strings compared as `case` says.
    pub fn eval_with(&self, m: &Map<String, Value>, case: Case) -> GraphResult<bool> {
        Ok(match self {
            Expr::Cmp(p, eq, v) => values_equal(lookup(m, p)?, v, case) == *eq,
            Expr::In(p, vs) => {
                let actual = lookup(m, p)?;
                vs.iter().any(|v| values_equal(actual, v, case))
            }
            Expr::Starts(p, s, starts) => {
                let actual = case.fold(lookup(m, p)?.as_str().unwrap_or(""));
                let s = case.fold(s);
                if *starts {
                    actual.starts_with(&s)
                } else {
                    actual.ends_with(&s)
                }
            }
            Expr::Contains(p, s, lower) => {
                let actual = lookup(m, p)?.as_str().unwrap_or("");
                let actual = if *lower {
                    actual.to_lowercase()
                } else {
                    case.fold(actual)
                };
                actual.contains(&case.fold(s))
            }
            Expr::Order(p, rel, v) => compare(lookup(m, p)?, v, case).is_some_and(|o| rel.holds(o)),
            Expr::And(a, b) => a.eval_with(m, case)? && b.eval_with(m, case)?,
            Expr::Or(a, b) => a.eval_with(m, case)? || b.eval_with(m, case)?,
            Expr::Not(a) => !a.eval_with(m, case)?,
        })
    }
}

/// How `a` orders against `b`: date-times by instant, numbers by value, strings as `case`
/// says; `None` for anything else (null included), which no order comparison matches.
pub fn compare(a: &Value, b: &Value, case: Case) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::String(x), Value::String(y)) => {
            match (crate::clock::parse_iso(x), crate::clock::parse_iso(y)) {
                (Some(x), Some(y)) => Some(x.cmp(&y)),
                _ => Some(match case {
                    Case::Sensitive => x.cmp(y),
                    Case::Insensitive => x.to_lowercase().cmp(&y.to_lowercase()),
                }),
            }
        }
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        _ => None,
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

fn values_equal(a: &Value, b: &Value, case: Case) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => case.eq(x, y),
        (Value::Array(xs), y) => xs.iter().any(|x| values_equal(x, y, case)),
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
                    // Date and date-time literals (`2023-07-30`, `2023-07-30T00:40:37Z`), as
                    // ISO strings that compare by instant.
                    w if date_literal(w).is_some() => {
                        Tok::Lit(Value::String(date_literal(w).unwrap_or_default()))
                    }
                    _ => Tok::Ident(word),
                };
                out.push(tok);
            }
        }
    }
    Ok(out)
}

/// A date (`YYYY-MM-DD`, midnight UTC) or a UTC date-time literal, as `YYYY-MM-DDTHH:MM:SSZ`.
fn date_literal(w: &str) -> Option<String> {
    let bytes = w.as_bytes();
    if bytes.len() < 10 || !bytes[..4].iter().all(u8::is_ascii_digit) || bytes[4] != b'-' {
        return None;
    }
    let full = if w.len() == 10 {
        format!("{w}T00:00:00Z")
    } else {
        w.to_owned()
    };
    crate::clock::parse_iso(&full).map(crate::clock::iso)
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
            Some(Tok::Ident(f)) if f.eq_ignore_ascii_case("contains") => {
                self.expect(Tok::LParen)?;
                let (p, lower) = match self.next() {
                    Some(Tok::Ident(t)) if t.eq_ignore_ascii_case("tolower") => {
                        self.expect(Tok::LParen)?;
                        let Some(Tok::Ident(p)) = self.next() else {
                            return Err(self.err("expected a property"));
                        };
                        self.expect(Tok::RParen)?;
                        (p, true)
                    }
                    Some(Tok::Ident(p)) => (p, false),
                    _ => return Err(self.err("expected a property")),
                };
                self.expect(Tok::Comma)?;
                let Some(Tok::Str(v)) = self.next() else {
                    return Err(self.err("expected a string"));
                };
                self.expect(Tok::RParen)?;
                Ok(Expr::Contains(p, v, lower))
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
                    "gt" => Ok(Expr::Order(p, Rel::Gt, self.literal()?)),
                    "ge" => Ok(Expr::Order(p, Rel::Ge, self.literal()?)),
                    "lt" => Ok(Expr::Order(p, Rel::Lt, self.literal()?)),
                    "le" => Ok(Expr::Order(p, Rel::Le, self.literal()?)),
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
        assert!(parse_filter("userType has 'x'").is_err());
        assert!(
            parse_filter("x eq 'o''brien'").unwrap()
                == Expr::Cmp("x".into(), true, json!("o'brien"))
        );
    }

    #[test]
    fn contains_tolower_order_and_case() {
        let e = m(json!({
            "jobId": "Azure2Azure.ABC",
            "activityDateTime": "2023-07-30T00:40:37Z",
            "durationInMilliseconds": 4375,
            "servicePrincipal": {"id": "6CC35B93", "displayName": "Fabrikam"}
        }));
        let t = |f: &str, case| parse_filter(f).unwrap().eval_with(&e, case).unwrap();
        let sensitive = Case::Sensitive;
        assert!(t(
            "contains(tolower(servicePrincipal/id), '6cc35b93')",
            sensitive
        ));
        assert!(!t("contains(servicePrincipal/id, '6cc35b93')", sensitive));
        assert!(t(
            "contains(servicePrincipal/id, '6cc35b93')",
            Case::Insensitive
        ));
        assert!(t(
            "activityDateTime gt 2023-07-30 and activityDateTime lt 2023-07-31",
            sensitive
        ));
        assert!(!t("activityDateTime gt 2023-07-30T00:40:37Z", sensitive));
        assert!(t("activityDateTime ge 2023-07-30T00:40:37Z", sensitive));
        assert!(t("durationInMilliseconds lt 5000", sensitive));
        assert!(!t("jobId eq 'azure2azure.abc'", sensitive));
        assert!(t("jobId eq 'azure2azure.abc'", Case::Insensitive));
        assert!(
            !t("jobId gt null", sensitive),
            "null orders against nothing"
        );
        assert!(parse_filter("contains(tolower(x), 5)").is_err());
    }
}
