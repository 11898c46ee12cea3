//! Entra's attribute-mapping expressions, read offline: enough to reject what cannot parse
//! (an unclosed string, bracket or parenthesis, an unknown function, an empty attribute) and
//! to list the source attributes an expression reads, before any Graph call. It evaluates
//! nothing; Graph's `parseExpression` is the authority when the expression is written.
//!
//! The syntax, from "Reference for writing expressions for attribute mappings in Microsoft
//! Entra ID": functions `Name(arg, …)` (nested, and an argument may be empty, as in
//! `Switch([Active], , "1", …)`), attributes in square brackets, string constants in double
//! quotes with `\` escaping `\` and `"`; function names are case-sensitive. Numbers
//! (`&HF7`), comparison operators (`[a] = [b]`) and the like appear in its examples and are
//! let through.

/// The functions the reference lists, as it spells them.
pub const FUNCTIONS: &[&str] = &[
    "Append",
    "AppRoleAssignmentsComplex",
    "BitAnd",
    "CBool",
    "CDate",
    "Coalesce",
    "ConvertToBase64",
    "ConvertToUTF8Hex",
    "Count",
    "CStr",
    "DateAdd",
    "DateDiff",
    "DateFromNum",
    "FormatDateTime",
    "Guid",
    "IgnoreFlowIfNullOrEmpty",
    "IIF",
    "InStr",
    "IsNull",
    "IsNullOrEmpty",
    "IsPresent",
    "IsString",
    "Item",
    "Join",
    "Left",
    "Mid",
    "NormalizeDiacritics",
    "Not",
    "Now",
    "NumFromDate",
    "PCase",
    "RandomString",
    "Redact",
    "RemoveDuplicates",
    "Replace",
    "SelectUniqueValue",
    "SingleAppRoleAssignment",
    "Split",
    "StripSpaces",
    "Switch",
    "ToLower",
    "ToUpper",
    "Word",
];

/// Why an expression cannot be an attribute mapping, with the byte offset it was found at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpressionError {
    /// Nothing but blanks.
    #[error("the expression is empty")]
    Empty,
    /// A string constant without its closing quote.
    #[error("a string constant opened at character {0} is not closed")]
    UnclosedString(usize),
    /// An attribute without its closing bracket.
    #[error("an attribute opened at character {0} is not closed with `]`")]
    UnclosedAttribute(usize),
    /// `[]`.
    #[error("an attribute at character {0} has no name")]
    EmptyAttribute(usize),
    /// A `(` without its `)`.
    #[error("a parenthesis opened at character {0} is not closed")]
    UnclosedParenthesis(usize),
    /// A `)` that closes nothing.
    #[error("the parenthesis at character {0} closes nothing")]
    UnopenedParenthesis(usize),
    /// A function the reference does not list (names are case-sensitive).
    #[error("`{name}` at character {at} is not a function of the mapping expression language{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownFunction {
        /// As written.
        name: String,
        /// Where.
        at: usize,
        /// The listed function it most resembles, when one does.
        suggestion: Option<String>,
    },
}

/// What an expression reads: its source attributes, in order of appearance, without
/// duplicates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// Source attribute names (inside `[…]`).
    pub attributes: Vec<String>,
}

/// Reads an expression; see the module's notes for what is checked.
pub fn parse(expression: &str) -> Result<Parsed, ExpressionError> {
    if expression.trim().is_empty() {
        return Err(ExpressionError::Empty);
    }
    let chars: Vec<(usize, char)> = expression.char_indices().collect();
    let mut attributes: Vec<String> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        match c {
            '"' => {
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(ExpressionError::UnclosedString(at + 1)),
                        Some((_, '\\')) => i += 2,
                        Some((_, '"')) => break,
                        Some(_) => i += 1,
                    }
                }
            }
            '[' => {
                let start = i + 1;
                let Some(len) = chars[start..].iter().position(|(_, c)| *c == ']') else {
                    return Err(ExpressionError::UnclosedAttribute(at + 1));
                };
                let name: String = chars[start..start + len].iter().map(|(_, c)| c).collect();
                let name = name.trim().to_owned();
                if name.is_empty() {
                    return Err(ExpressionError::EmptyAttribute(at + 1));
                }
                if !attributes.contains(&name) {
                    attributes.push(name);
                }
                i = start + len;
            }
            '(' => open.push(at + 1),
            // The guard pops the parenthesis this one closes; only a `)` with none left errs.
            ')' if open.pop().is_none() => {
                return Err(ExpressionError::UnopenedParenthesis(at + 1));
            }
            c if c.is_alphabetic() => {
                let start = i;
                while chars
                    .get(i + 1)
                    .is_some_and(|(_, c)| c.is_alphanumeric() || *c == '_')
                {
                    i += 1;
                }
                let name: String = chars[start..=i].iter().map(|(_, c)| c).collect();
                let next = chars[i + 1..].iter().find(|(_, c)| !c.is_whitespace());
                // A name before `(` calls a function; `&HF7` is a number.
                let is_hex = start > 0 && chars[start - 1].1 == '&';
                if next.is_some_and(|(_, c)| *c == '(')
                    && !is_hex
                    && !FUNCTIONS.contains(&name.as_str())
                {
                    return Err(ExpressionError::UnknownFunction {
                        suggestion: suggest(&name),
                        name,
                        at: at + 1,
                    });
                }
            }
            _ => {}
        }
        i += 1;
    }
    if let Some(at) = open.pop() {
        return Err(ExpressionError::UnclosedParenthesis(at));
    }
    Ok(Parsed { attributes })
}

/// The listed function a misspelt name most likely meant: the same letters in another case,
/// or one within two edits.
fn suggest(name: &str) -> Option<String> {
    if let Some(f) = FUNCTIONS.iter().find(|f| f.eq_ignore_ascii_case(name)) {
        return Some((*f).to_owned());
    }
    FUNCTIONS
        .iter()
        .map(|f| (distance(&f.to_lowercase(), &name.to_lowercase()), f))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, f)| (*f).to_owned())
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(here + 1);
            prev = here;
        }
    }
    row[b.len()]
}

/// The expression with blanks outside string constants removed, for comparing what the spec
/// says with what Graph stored (it may space an expression differently).
pub fn normalise(expression: &str) -> String {
    let mut out = String::new();
    let mut in_string = false;
    let mut escaped = false;
    for c in expression.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_references_examples_parse() {
        for e in [
            r#"Append([userPrincipalName], ".test")"#,
            "Coalesce([mail],[userPrincipalName])",
            "BitAnd(&HF, &HF7)",
            "CBool([attribute1] = [attribute2])",
            r#"Switch([Active], , "1", IIF(DateDiff("d", Now(), CDate([StatusHireDate])) > 5, "False", "True"), "0", "False")"#,
            r#"Join(" ", [givenName], [surname])"#,
            r#""Company name: \"Contoso\"""#,
        ] {
            assert!(parse(e).is_ok(), "{e}: {:?}", parse(e));
        }
        assert_eq!(
            parse(r#"Join(" ", [givenName], [surname], [givenName])"#)
                .expect("parses")
                .attributes,
            ["givenName", "surname"]
        );
    }

    #[test]
    fn what_cannot_parse_is_named_with_where() {
        assert_eq!(parse("  "), Err(ExpressionError::Empty));
        assert_eq!(
            parse(r#"Join(" , [a])"#),
            Err(ExpressionError::UnclosedString(6))
        );
        assert_eq!(
            parse("ToUpper([a)"),
            Err(ExpressionError::UnclosedAttribute(9))
        );
        assert_eq!(
            parse("ToUpper([])"),
            Err(ExpressionError::EmptyAttribute(9))
        );
        assert_eq!(
            parse("ToUpper([a]"),
            Err(ExpressionError::UnclosedParenthesis(8))
        );
        assert_eq!(
            parse("ToUpper([a]))"),
            Err(ExpressionError::UnopenedParenthesis(13))
        );
        let Err(ExpressionError::UnknownFunction {
            name, suggestion, ..
        }) = parse("toupper([a])")
        else {
            panic!("a function's case matters");
        };
        assert_eq!(
            (name.as_str(), suggestion.as_deref()),
            ("toupper", Some("ToUpper"))
        );
        let Err(ExpressionError::UnknownFunction { suggestion, .. }) = parse("Jion([a])") else {
            panic!("unknown");
        };
        assert_eq!(suggestion.as_deref(), Some("Join"));
        // Brackets and parentheses inside strings are text.
        assert!(parse(r#"Append([a], "(]")"#).is_ok());
    }

    #[test]
    fn normalising_removes_blanks_outside_strings_only() {
        assert_eq!(
            normalise(r#"Join( " ", [givenName] ,[surname] )"#),
            r#"Join(" ",[givenName],[surname])"#
        );
        assert_eq!(normalise(r#""a \" b""#), r#""a \" b""#);
    }
}
