//! A request's query options (`$select`, `$filter`, `$top`, `$count`, `$expand`, opaque
//! `$skiptoken`), parsed and checked as Graph does.

use super::filter::{Case, Expr, Rel, parse_filter};
use crate::errors::{GraphError, GraphResult};

/// Which query language a collection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// Directory objects (users, groups, service principals, policies ...): `eq`, `ne`, `not`,
    /// `in`, `startswith`, `endswith`; case-insensitive; no `$orderby`.
    #[default]
    Directory,
    /// `auditLogs/provisioning` (`provisioningobjectsummary-list`): "`$filter` (`eq`,
    /// `contains`, `gt`, `lt`), `$orderby`, `$top`, `$skiptoken` ... The filters are all case
    /// sensitive"; `tolower` as the cross-tenant how-to uses it inside `contains`.
    ProvisioningLogs,
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
    /// `$orderby`: (property, descending).
    pub orderby: Option<(String, bool)>,
    /// How `$filter` compares strings.
    pub case: Case,
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

    /// Parse the options of a request to a directory collection (names are
    /// case-insensitive, with or without `$`).
    pub fn parse(query: &[(String, String)], eventual: bool) -> GraphResult<Self> {
        Self::parse_for(query, eventual, Dialect::Directory)
    }

    /// Parse the options of a request to a collection speaking `dialect`.
    pub fn parse_for(
        query: &[(String, String)],
        eventual: bool,
        dialect: Dialect,
    ) -> GraphResult<Self> {
        let mut o = Self {
            eventual,
            case: match dialect {
                Dialect::Directory => Case::Insensitive,
                Dialect::ProvisioningLogs => Case::Sensitive,
            },
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
                "orderby" if dialect == Dialect::ProvisioningLogs => {
                    o.orderby = Some(parse_orderby(v)?);
                }
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
        if let Some(f) = &o.filter {
            check_operators(f, dialect)?;
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

/// `$filter` operators outside what `dialect` supports are a 400.
fn check_operators(f: &Expr, dialect: Dialect) -> GraphResult<()> {
    let unsupported = |what: &str| {
        GraphError::new(
            400,
            "Request_UnsupportedQuery",
            format!("Unsupported query operator '{what}'."),
        )
    };
    let found = match dialect {
        Dialect::Directory => [
            ("contains", f.any(&|e| matches!(e, Expr::Contains(..)))),
            ("gt, ge, lt, le", f.any(&|e| matches!(e, Expr::Order(..)))),
        ]
        .into_iter()
        .find(|(_, used)| *used),
        Dialect::ProvisioningLogs => [
            ("ne", f.any(&|e| matches!(e, Expr::Cmp(_, false, _)))),
            ("in", f.any(&|e| matches!(e, Expr::In(..)))),
            (
                "startswith, endswith",
                f.any(&|e| matches!(e, Expr::Starts(..))),
            ),
            ("not", f.any(&|e| matches!(e, Expr::Not(..)))),
            (
                "ge, le",
                f.any(&|e| matches!(e, Expr::Order(_, Rel::Ge | Rel::Le, _))),
            ),
        ]
        .into_iter()
        .find(|(_, used)| *used),
    };
    match found {
        Some((what, _)) => Err(unsupported(what)),
        None => Ok(()),
    }
}

/// `$orderby` of the provisioning logs: `activityDateTime`, ascending or descending (the one
/// ordering the cross-tenant how-to uses; others are not modelled).
fn parse_orderby(v: &str) -> GraphResult<(String, bool)> {
    let mut words = v.split_whitespace();
    let prop = words.next().unwrap_or("");
    let desc = match words.next().map(str::to_ascii_lowercase).as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(other) => {
            return Err(GraphError::bad_request(format!(
                "Invalid $orderby direction '{other}'."
            )));
        }
    };
    if words.next().is_some() || v.contains(',') || !prop.eq_ignore_ascii_case("activityDateTime") {
        return Err(GraphError::new(
            400,
            "Request_UnsupportedQuery",
            format!("Ordering by '{v}' is not supported by the emulator (only activityDateTime)."),
        ));
    }
    Ok(("activityDateTime".to_owned(), desc))
}

fn bad_top(v: &str) -> GraphError {
    GraphError::bad_request(format!(
        "Invalid page size specified: '{v}'. Must be between 1 and 999 inclusive."
    ))
}

pub(super) fn encode_skiptoken(offset: usize) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::odata::{parse_query, percent_decode};

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
    fn dialects_accept_what_their_collections_document() {
        let q = |k: &str, v: &str, d| {
            QueryOptions::parse_for(&[(k.to_owned(), v.to_owned())], false, d)
        };
        let logs = Dialect::ProvisioningLogs;
        let dir = Dialect::Directory;
        assert!(q("$filter", "contains(jobId, 'x')", logs).is_ok());
        assert!(q("$filter", "activityDateTime gt 2023-07-30", logs).is_ok());
        for bad in [
            "jobId ne 'x'",
            "jobId in ('x')",
            "startswith(jobId, 'x')",
            "not(jobId eq 'x')",
            "activityDateTime ge 2023-07-30",
        ] {
            assert!(q("$filter", bad, logs).is_err(), "{bad}");
        }
        assert!(q("$filter", "contains(displayName, 'x')", dir).is_err());
        assert!(q("$filter", "createdDateTime gt 2023-07-30", dir).is_err());
        let o = q("$orderby", "activityDateTime desc", logs).unwrap();
        assert_eq!(o.orderby, Some(("activityDateTime".to_owned(), true)));
        assert_eq!(o.case, Case::Sensitive);
        assert!(q("$orderby", "jobId", logs).is_err());
        assert!(q("$orderby", "activityDateTime sideways", logs).is_err());
        assert!(q("$orderby", "displayName", dir).is_err());
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
