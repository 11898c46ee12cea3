//! The expression language of attribute mappings ("Reference for writing expressions for
//! attribute mappings in Microsoft Entra ID", `functions-for-customizing-application-data`): a
//! parser, and the two ways Graph writes a mapping's source (`attributeMappingSource`): the
//! expression text and the structure of `name`, `type` and keyed `parameters`.
//!
//! Grammar, as the reference's syntax overview states it and its examples use it:
//!
//! ```text
//! expression := term
//! term       := "[" attribute "]"               an attribute of the source object
//!             | '"' chars '"'                   a string constant; \" and \\ escaped
//!             | integer | "&H" hex digits       a number constant (Mid([x], 1, 8); BitAnd(&HF, &HF7))
//!             | vbTextCompare | vbBinaryCompare the compare types of InStr
//!             | Name "(" [arg {"," arg}] ")"    a function of the reference's list
//! arg        := [term]                          may be empty: Replace([x], "-", , , "_", , )
//! ```
//!
//! Names are case-sensitive ("The syntax is case-sensitive"); whitespace between tokens is
//! ignored. Not parsed: the comparison operators of `IIF` and `CBool` conditions
//! (`[country]="USA"`): the reference does not say how `parseExpression` writes them.

use serde_json::{Value, json};

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `[name]`: an attribute of the source object.
    Attribute(String),
    /// A constant, and how it was written.
    Constant(String, Literal),
    /// A function call; `None` for an argument left empty.
    Function {
        /// The function's name, as the reference spells it.
        name: String,
        /// Its arguments by position.
        args: Vec<Option<Expr>>,
    },
}

/// How a constant was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Literal {
    /// `"text"`.
    Text,
    /// A number or a keyword, written bare.
    Bare,
}

/// What kind of mistake an expression has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Not an expression of the grammar.
    Syntax,
    /// A function the reference does not list.
    UnknownFunction,
    /// An attribute the source object does not have.
    UnknownAttribute,
    /// Too many or too few arguments, or a required one left empty.
    Arguments,
}

impl ErrorKind {
    /// The `code` of the `publicError` that reports it.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Syntax => "SyntaxError",
            ErrorKind::UnknownFunction => "UnknownFunction",
            ErrorKind::UnknownAttribute => "UnknownAttribute",
            ErrorKind::Arguments => "InvalidArguments",
        }
    }
}

/// Why an expression does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// What is wrong.
    pub kind: ErrorKind,
    /// A sentence saying what and where.
    pub message: String,
    /// Where (1-based character position in the expression).
    pub position: usize,
    /// The function, attribute or character concerned.
    pub target: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// How a function's arguments after its named ones are keyed.
#[derive(Debug, Clone, Copy)]
enum Rest {
    /// No more arguments.
    None,
    /// Any number, keyed `{name}1`, `{name}2` ….
    Numbered(&'static str),
    /// Pairs keyed `key1`, `value1`, `key2`, `value2` … (`Switch`).
    Pairs,
}

/// A function of the expression language.
#[derive(Debug, Clone, Copy)]
pub struct Function {
    /// Its name.
    pub name: &'static str,
    /// Its named parameters, the keys of `parameters` in the structured form.
    params: &'static [&'static str],
    /// How many arguments at least (empty ones count).
    min: usize,
    /// Named parameters that may be left empty.
    optional: &'static [usize],
    rest: Rest,
    /// Whether the emulator evaluates it ([`super::eval`]).
    pub evaluated: bool,
}

const fn f(
    name: &'static str,
    params: &'static [&'static str],
    min: usize,
    optional: &'static [usize],
    rest: Rest,
    evaluated: bool,
) -> Function {
    Function {
        name,
        params,
        min,
        optional,
        rest,
        evaluated,
    }
}

/// The functions of the reference's list (with its parameter names), and `AltSecIdFromNetId`,
/// which the Azure2Azure default mapping of `alternativeSecurityIds` calls (the cross-tenant
/// how-to's screenshot of the mappings shows `AltSecIdFromNetid([netid])`). `Replace` keys its
/// `oldValue` and `replacementValue` `Find` and `Replacement`, as the `parseExpression`
/// reference's example answer does.
pub const FUNCTIONS: &[Function] = &[
    f("AltSecIdFromNetId", &["netId"], 1, &[], Rest::None, false),
    f("Append", &["source", "suffix"], 2, &[], Rest::None, true),
    f(
        "AppRoleAssignmentsComplex",
        &["appRoleAssignments"],
        1,
        &[],
        Rest::None,
        false,
    ),
    f("BitAnd", &["value1", "value2"], 2, &[], Rest::None, false),
    f("CBool", &["Expression"], 1, &[], Rest::None, false),
    f("CDate", &["expression"], 1, &[], Rest::None, false),
    f("Coalesce", &[], 1, &[], Rest::Numbered("source"), true),
    f("ConvertToBase64", &["source"], 1, &[], Rest::None, true),
    f("ConvertToUTF8Hex", &["source"], 1, &[], Rest::None, true),
    f("Count", &["attribute"], 1, &[], Rest::None, false),
    f("CStr", &["value"], 1, &[], Rest::None, true),
    f(
        "DateAdd",
        &["interval", "value", "dateTime"],
        3,
        &[],
        Rest::None,
        false,
    ),
    f(
        "DateDiff",
        &["interval", "date1", "date2"],
        3,
        &[],
        Rest::None,
        false,
    ),
    f("DateFromNum", &["value"], 1, &[], Rest::None, false),
    f(
        "FormatDateTime",
        &["source", "dateTimeStyles", "inputFormat", "outputFormat"],
        4,
        &[1],
        Rest::None,
        false,
    ),
    f("Guid", &[], 0, &[], Rest::None, false),
    f(
        "IgnoreFlowIfNullOrEmpty",
        &["Expression"],
        1,
        &[],
        Rest::None,
        true,
    ),
    f(
        "IIF",
        &["condition", "valueIfTrue", "valueIfFalse"],
        3,
        &[],
        Rest::None,
        false,
    ),
    f(
        "InStr",
        &["value1", "value2", "start", "compareType"],
        2,
        &[2, 3],
        Rest::None,
        false,
    ),
    f("IsNull", &["Expression"], 1, &[], Rest::None, true),
    f("IsNullOrEmpty", &["Expression"], 1, &[], Rest::None, true),
    f("IsPresent", &["Expression"], 1, &[], Rest::None, true),
    f("IsString", &["Expression"], 1, &[], Rest::None, false),
    f("Item", &["attribute", "index"], 2, &[], Rest::None, false),
    f(
        "Join",
        &["separator"],
        2,
        &[],
        Rest::Numbered("source"),
        true,
    ),
    f("Left", &["String", "NumChars"], 2, &[], Rest::None, true),
    f(
        "Mid",
        &["source", "start", "length"],
        3,
        &[],
        Rest::None,
        true,
    ),
    f(
        "NormalizeDiacritics",
        &["source"],
        1,
        &[],
        Rest::None,
        false,
    ),
    f("Not", &["source"], 1, &[], Rest::None, true),
    f("Now", &[], 0, &[], Rest::None, false),
    f("NumFromDate", &["value"], 1, &[], Rest::None, false),
    f(
        "PCase",
        &["source", "wordSeparators"],
        1,
        &[1],
        Rest::None,
        false,
    ),
    f(
        "RandomString",
        &[
            "Length",
            "MinimumNumbers",
            "MinimumSpecialCharacters",
            "MinimumCapital",
            "MinimumLowerCase",
            "CharactersToAvoid",
        ],
        5,
        &[5],
        Rest::None,
        false,
    ),
    f("Redact", &["value"], 1, &[], Rest::None, false),
    f(
        "RemoveDuplicates",
        &["attribute"],
        1,
        &[],
        Rest::None,
        false,
    ),
    f(
        "Replace",
        &[
            "source",
            "Find",
            "regexPattern",
            "regexGroupName",
            "Replacement",
            "replacementAttributeName",
            "template",
        ],
        1,
        &[1, 2, 3, 4, 5, 6],
        Rest::None,
        true,
    ),
    f(
        "SelectUniqueValue",
        &[],
        2,
        &[],
        Rest::Numbered("uniqueValueRule"),
        false,
    ),
    f(
        "SingleAppRoleAssignment",
        &["appRoleAssignments"],
        1,
        &[],
        Rest::None,
        false,
    ),
    f("Split", &["source", "delimiter"], 2, &[], Rest::None, false),
    f("StripSpaces", &["source"], 1, &[], Rest::None, true),
    f(
        "Switch",
        &["source", "defaultValue"],
        4,
        &[1],
        Rest::Pairs,
        true,
    ),
    f("ToLower", &["source", "culture"], 1, &[1], Rest::None, true),
    f("ToUpper", &["source", "culture"], 1, &[1], Rest::None, true),
    f(
        "Word",
        &["String", "WordNumber", "Delimiters"],
        3,
        &[],
        Rest::None,
        true,
    ),
];

/// The bare keywords the reference's examples pass (`InStr("repEated","e",3,vbBinaryCompare)`).
const KEYWORDS: &[&str] = &["vbTextCompare", "vbBinaryCompare"];

impl Function {
    /// The function called `name` (case-sensitive).
    pub fn named(name: &str) -> Option<&'static Function> {
        FUNCTIONS.iter().find(|f| f.name == name)
    }

    /// The key of the argument at `i` in the structured form.
    pub fn key(&self, i: usize) -> String {
        if let Some(p) = self.params.get(i) {
            return (*p).to_owned();
        }
        let n = i - self.params.len();
        match self.rest {
            Rest::None => format!("arg{}", i + 1),
            Rest::Numbered(base) => format!("{base}{}", n + 1),
            Rest::Pairs => format!("{}{}", ["key", "value"][n % 2], n / 2 + 1),
        }
    }

    /// The most arguments it takes (`None`: no limit).
    fn max(&self) -> Option<usize> {
        match self.rest {
            Rest::None => Some(self.params.len()),
            _ => None,
        }
    }

    /// Whether `args` suit it: how many, and no required one empty.
    fn check(&self, args: &[Option<Expr>]) -> Result<(), String> {
        let n = args.len();
        if n < self.min || self.max().is_some_and(|m| n > m) {
            let want = match self.max() {
                Some(m) if m == self.min => format!("{m}"),
                Some(m) => format!("{} to {m}", self.min),
                None => format!("at least {}", self.min),
            };
            return Err(format!(
                "{} takes {want} argument{}, not {n}",
                self.name,
                if want == "1" { "" } else { "s" }
            ));
        }
        if matches!(self.rest, Rest::Pairs) && !n.is_multiple_of(2) {
            return Err(format!(
                "{} takes its keys and values in pairs, so an even number of arguments, not {n}",
                self.name
            ));
        }
        for (i, a) in args.iter().enumerate() {
            let optional = i < self.params.len() && self.optional.contains(&i);
            if a.is_none() && !optional {
                return Err(format!(
                    "{}'s argument {} ({}) must not be empty",
                    self.name,
                    i + 1,
                    self.key(i)
                ));
            }
        }
        Ok(())
    }
}

/// Parses `text`. With `attributes`, every `[attribute]` must be one of them (exactly, as the
/// syntax is case-sensitive).
pub fn parse(text: &str, attributes: Option<&[String]>) -> Result<Expr, ParseError> {
    let mut p = Parser {
        chars: text.chars().collect(),
        at: 0,
        attributes,
    };
    p.ws();
    if p.peek().is_none() {
        return Err(p.error(ErrorKind::Syntax, "The expression is empty.", ""));
    }
    let e = p.term()?;
    p.ws();
    if let Some(c) = p.peek() {
        return Err(p.error(
            ErrorKind::Syntax,
            &format!(
                "Unexpected '{c}' at position {}: the expression must be one attribute, constant or function call.",
                p.at + 1
            ),
            &c.to_string(),
        ));
    }
    Ok(e)
}

struct Parser<'a> {
    chars: Vec<char>,
    at: usize,
    attributes: Option<&'a [String]>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    fn error(&self, kind: ErrorKind, message: &str, target: &str) -> ParseError {
        self.error_at(kind, message, target, self.at)
    }

    fn error_at(&self, kind: ErrorKind, message: &str, target: &str, at: usize) -> ParseError {
        ParseError {
            kind,
            message: message.to_owned(),
            position: at + 1,
            target: target.to_owned(),
        }
    }

    fn term(&mut self) -> Result<Expr, ParseError> {
        let start = self.at;
        match self.peek() {
            Some('[') => self.attribute(),
            Some('"') => self.string(),
            Some(c) if c.is_ascii_digit() || c == '-' || c == '&' => self.number(),
            Some(c) if c.is_alphabetic() || c == '_' => self.call(),
            Some(c) => Err(self.error(
                ErrorKind::Syntax,
                &format!(
                    "Unexpected '{c}' at position {}: expected an [attribute], a \"string\", a number or a function call.",
                    start + 1
                ),
                &c.to_string(),
            )),
            None => Err(self.error(
                ErrorKind::Syntax,
                &format!(
                    "The expression ends at position {}: expected an [attribute], a \"string\", a number or a function call.",
                    start + 1
                ),
                "",
            )),
        }
    }

    fn attribute(&mut self) -> Result<Expr, ParseError> {
        let start = self.at;
        self.at += 1;
        let mut name = String::new();
        loop {
            match self.peek() {
                Some(']') => break,
                Some(c) if c == '[' || c == '"' || c == ',' || c == '(' || c == ')' => {
                    return Err(self.error(
                        ErrorKind::Syntax,
                        &format!(
                            "Unexpected '{c}' at position {} in the attribute name that starts at position {}: expected ']'.",
                            self.at + 1,
                            start + 1
                        ),
                        &c.to_string(),
                    ));
                }
                Some(c) => {
                    name.push(c);
                    self.at += 1;
                }
                None => {
                    return Err(self.error_at(
                        ErrorKind::Syntax,
                        &format!(
                            "The attribute name that starts at position {} has no closing ']'.",
                            start + 1
                        ),
                        "[",
                        start,
                    ));
                }
            }
        }
        self.at += 1;
        if name.is_empty() || name.chars().any(char::is_whitespace) {
            return Err(self.error_at(
                ErrorKind::Syntax,
                &format!(
                    "'[{name}]' at position {} is not an attribute name.",
                    start + 1
                ),
                &name,
                start,
            ));
        }
        if let Some(known) = self.attributes
            && !known.contains(&name)
        {
            let hint = known
                .iter()
                .find(|k| k.eq_ignore_ascii_case(&name))
                .map(|k| format!(" (names are case-sensitive: [{k}])"))
                .unwrap_or_default();
            return Err(self.error_at(
                ErrorKind::UnknownAttribute,
                &format!(
                    "Unknown attribute '{name}' at position {}: the source object has no such attribute{hint}.",
                    start + 1
                ),
                &name,
                start,
            ));
        }
        Ok(Expr::Attribute(name))
    }

    fn string(&mut self) -> Result<Expr, ParseError> {
        let start = self.at;
        self.at += 1;
        let mut s = String::new();
        loop {
            match self.peek() {
                Some('"') => {
                    self.at += 1;
                    return Ok(Expr::Constant(s, Literal::Text));
                }
                Some('\\') => match self.chars.get(self.at + 1).copied() {
                    Some(c @ ('"' | '\\')) => {
                        s.push(c);
                        self.at += 2;
                    }
                    other => {
                        let shown = other.map(|c| format!("\\{c}")).unwrap_or("\\".into());
                        return Err(self.error(
                            ErrorKind::Syntax,
                            &format!(
                                "Invalid escape '{shown}' at position {}: in a string only \\\" and \\\\ are escapes.",
                                self.at + 1
                            ),
                            &shown,
                        ));
                    }
                },
                Some(c) => {
                    s.push(c);
                    self.at += 1;
                }
                None => {
                    return Err(self.error_at(
                        ErrorKind::Syntax,
                        &format!(
                            "The string that starts at position {} has no closing '\"'.",
                            start + 1
                        ),
                        "\"",
                        start,
                    ));
                }
            }
        }
    }

    fn number(&mut self) -> Result<Expr, ParseError> {
        let start = self.at;
        let mut s = String::new();
        if self.peek() == Some('&') {
            s.push('&');
            self.at += 1;
            if !matches!(self.peek(), Some('H' | 'h')) {
                return Err(self.error(
                    ErrorKind::Syntax,
                    &format!(
                        "Expected 'H' after '&' at position {}: hexadecimal numbers are written &HFF.",
                        self.at + 1
                    ),
                    "&",
                ));
            }
            s.push('H');
            self.at += 1;
            while let Some(c) = self.peek().filter(char::is_ascii_hexdigit) {
                s.push(c);
                self.at += 1;
            }
            if s.len() == 2 {
                return Err(self.error_at(
                    ErrorKind::Syntax,
                    &format!("'&H' at position {} has no digits.", start + 1),
                    "&H",
                    start,
                ));
            }
        } else {
            if self.peek() == Some('-') {
                s.push('-');
                self.at += 1;
            }
            while let Some(c) = self.peek().filter(char::is_ascii_digit) {
                s.push(c);
                self.at += 1;
            }
            if s == "-" {
                return Err(self.error_at(
                    ErrorKind::Syntax,
                    &format!("'-' at position {} is not followed by digits.", start + 1),
                    "-",
                    start,
                ));
            }
        }
        if let Some(c) = self.peek().filter(|c| c.is_alphanumeric() || *c == '_') {
            return Err(self.error(
                ErrorKind::Syntax,
                &format!(
                    "Unexpected '{c}' at position {} after the number at position {}.",
                    self.at + 1,
                    start + 1
                ),
                &c.to_string(),
            ));
        }
        Ok(Expr::Constant(s, Literal::Bare))
    }

    fn call(&mut self) -> Result<Expr, ParseError> {
        let start = self.at;
        let mut name = String::new();
        while let Some(c) = self.peek().filter(|c| c.is_alphanumeric() || *c == '_') {
            name.push(c);
            self.at += 1;
        }
        self.ws();
        if self.peek() != Some('(') {
            if KEYWORDS.contains(&name.as_str()) {
                return Ok(Expr::Constant(name, Literal::Bare));
            }
            return Err(self.error_at(
                ErrorKind::Syntax,
                &format!(
                    "'{name}' at position {} is not followed by '(': attributes are written [{name}], strings \"{name}\".",
                    start + 1
                ),
                &name,
                start,
            ));
        }
        let Some(function) = Function::named(&name) else {
            let hint = FUNCTIONS
                .iter()
                .find(|f| f.name.eq_ignore_ascii_case(&name))
                .map(|f| format!(" (names are case-sensitive: {})", f.name))
                .unwrap_or_default();
            return Err(self.error_at(
                ErrorKind::UnknownFunction,
                &format!(
                    "Unknown function '{name}' at position {}: it is not a function of the expression language{hint}.",
                    start + 1
                ),
                &name,
                start,
            ));
        };
        self.at += 1;
        let mut args: Vec<Option<Expr>> = Vec::new();
        self.ws();
        if self.peek() == Some(')') {
            self.at += 1;
        } else {
            loop {
                self.ws();
                let arg = match self.peek() {
                    Some(',' | ')') => None,
                    _ => Some(self.term()?),
                };
                args.push(arg);
                self.ws();
                match self.peek() {
                    Some(',') => self.at += 1,
                    Some(')') => {
                        self.at += 1;
                        break;
                    }
                    Some(c) => {
                        return Err(self.error(
                            ErrorKind::Syntax,
                            &format!(
                                "Unexpected '{c}' at position {} in the arguments of {name}: expected ',' or ')'.",
                                self.at + 1
                            ),
                            &c.to_string(),
                        ));
                    }
                    None => {
                        return Err(self.error_at(
                            ErrorKind::Syntax,
                            &format!(
                                "The call of {name} at position {} has no closing ')'.",
                                start + 1
                            ),
                            "(",
                            start,
                        ));
                    }
                }
            }
        }
        if let Err(why) = function.check(&args) {
            return Err(self.error_at(
                ErrorKind::Arguments,
                &format!("{why} (the call at position {}).", start + 1),
                &name,
                start,
            ));
        }
        Ok(Expr::Function { name, args })
    }
}

/// `s` as a string constant of the language.
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

impl Expr {
    /// The expression text, normalised as `parseExpression` answers it (arguments separated by
    /// `, `, empty ones left empty).
    pub fn render(&self) -> String {
        match self {
            Expr::Attribute(n) => format!("[{n}]"),
            Expr::Constant(v, Literal::Text) => quote(v),
            Expr::Constant(v, Literal::Bare) => v.clone(),
            Expr::Function { name, args } => {
                let args: Vec<String> = args
                    .iter()
                    .map(|a| a.as_ref().map(Expr::render).unwrap_or_default())
                    .collect();
                format!("{name}({})", args.join(", "))
            }
        }
    }

    /// The `attributeMappingSource` of this expression, as the reference's examples show it:
    /// a constant's `expression` is always quoted (`"\"1\""` for the `1` of `Mid`), a function
    /// lists its non-empty arguments keyed by parameter name.
    pub fn to_source(&self) -> Value {
        match self {
            Expr::Attribute(n) => {
                json!({"expression": self.render(), "name": n, "parameters": [], "type": "Attribute"})
            }
            Expr::Constant(v, _) => {
                json!({"expression": quote(v), "name": v, "parameters": [], "type": "Constant"})
            }
            Expr::Function { name, args } => {
                let spec = Function::named(name);
                let params: Vec<Value> = args
                    .iter()
                    .enumerate()
                    .filter_map(|(i, a)| {
                        let key = spec.map_or_else(|| format!("arg{}", i + 1), |f| f.key(i));
                        a.as_ref()
                            .map(|a| json!({"key": key, "value": a.to_source()}))
                    })
                    .collect();
                json!({"expression": self.render(), "name": name, "parameters": params, "type": "Function"})
            }
        }
    }

    /// The expression of an `attributeMappingSource` written by anyone: an `Attribute` (the
    /// default type) is its `name`, a `Constant` its `name`; a `Function` is its `expression`
    /// when it has one (Graph writes both forms), else its `name` and `parameters`, placed by
    /// key (or in order, for keys the function does not name). Names are not checked against a
    /// directory.
    pub fn from_source(src: &Value) -> Result<Expr, ParseError> {
        let text = |k: &str| src.get(k).and_then(Value::as_str);
        let unusable = |why: &str| ParseError {
            kind: ErrorKind::Syntax,
            message: why.to_owned(),
            position: 1,
            target: String::new(),
        };
        match text("type").unwrap_or("Attribute") {
            "Attribute" => match text("name").filter(|n| !n.is_empty()) {
                Some(n) => Ok(Expr::Attribute(n.to_owned())),
                None => parse(text("expression").unwrap_or(""), None),
            },
            "Constant" => match src.get("name") {
                Some(Value::String(v)) => Ok(Expr::Constant(v.clone(), Literal::Text)),
                Some(v @ (Value::Number(_) | Value::Bool(_))) => {
                    Ok(Expr::Constant(v.to_string(), Literal::Text))
                }
                _ => match parse(text("expression").unwrap_or(""), None)? {
                    c @ Expr::Constant(..) => Ok(c),
                    _ => Err(unusable(
                        "A Constant source needs a name or a constant expression.",
                    )),
                },
            },
            "Function" => {
                if let Some(e) = text("expression").filter(|e| !e.trim().is_empty()) {
                    return parse(e, None);
                }
                let name = text("name").unwrap_or("");
                let function = Function::named(name).ok_or_else(|| ParseError {
                    kind: ErrorKind::UnknownFunction,
                    message: format!(
                        "Unknown function '{name}': it is not a function of the expression language."
                    ),
                    position: 1,
                    target: name.to_owned(),
                })?;
                let given = src
                    .get("parameters")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let mut args: Vec<Option<Expr>> = Vec::new();
                let mut next = 0;
                for p in &given {
                    let key = p.get("key").and_then(Value::as_str).unwrap_or("");
                    let at = (0..given.len() + function.params.len() + 1)
                        .find(|i| function.key(*i) == key)
                        .unwrap_or(next);
                    if args.len() <= at {
                        args.resize(at + 1, None);
                    }
                    args[at] = Some(Expr::from_source(p.get("value").unwrap_or(&Value::Null))?);
                    next = at + 1;
                }
                if args.len() < function.min {
                    args.resize(function.min, None);
                }
                function
                    .check(&args)
                    .map_err(|why| unusable(&format!("{why}.")))?;
                Ok(Expr::Function {
                    name: name.to_owned(),
                    args,
                })
            }
            other => Err(unusable(&format!(
                "'{other}' is not an attributeMappingSourceType (Attribute, Constant, Function)."
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs() -> Vec<String> {
        super::super::attributes::USER_ATTRIBUTES
            .iter()
            .map(|a| (*a).to_owned())
            .collect()
    }

    fn ok(text: &str) -> Expr {
        parse(text, Some(&attrs())).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn err(text: &str) -> ParseError {
        parse(text, Some(&attrs())).expect_err(text)
    }

    /// The reference's own answer (`synchronization-synchronizationschema-parseexpression`,
    /// example): the same `parsedExpression`, key for key.
    #[test]
    fn the_reference_example_parses_to_its_answer() {
        let e = ok("Replace([preferredLanguage], \"-\", , , \"_\", ,  )");
        assert_eq!(
            e.to_source(),
            json!({
                "expression": "Replace([preferredLanguage], \"-\", , , \"_\", , )",
                "name": "Replace",
                "parameters": [
                    {"key": "source", "value": {"expression": "[preferredLanguage]", "name": "preferredLanguage", "parameters": [], "type": "Attribute"}},
                    {"key": "Find", "value": {"expression": "\"-\"", "name": "-", "parameters": [], "type": "Constant"}},
                    {"key": "Replacement", "value": {"expression": "\"_\"", "name": "_", "parameters": [], "type": "Constant"}}
                ],
                "type": "Function"
            })
        );
    }

    /// `attributeMappingSource`'s sample: `Mid([userPrincipalName], 1, 8)`, its numbers as
    /// constants quoted in their own `expression`.
    #[test]
    fn numbers_are_constants() {
        let s = ok("Mid([userPrincipalName], 1, 8)").to_source();
        assert_eq!(s["expression"], "Mid([userPrincipalName], 1, 8)");
        assert_eq!(
            s["parameters"][1],
            json!({"key": "start", "value": {"expression": "\"1\"", "name": "1", "parameters": [], "type": "Constant"}})
        );
        assert_eq!(s["parameters"][2]["key"], "length");
        assert!(matches!(ok("BitAnd(&HF, &HF7)"), Expr::Function { .. }));
        assert!(matches!(
            ok("InStr(\"repEated\",\"e\",3,vbBinaryCompare)"),
            Expr::Function { .. }
        ));
    }

    #[test]
    fn attributes_constants_nesting_and_escapes() {
        assert_eq!(ok(" [mail] "), Expr::Attribute("mail".into()));
        assert_eq!(
            ok(r#""Company name: \"Contoso\" \\ ok""#),
            Expr::Constant("Company name: \"Contoso\" \\ ok".into(), Literal::Text)
        );
        let e = ok(
            r#"ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".",  [givenName], [surname]))), "contoso.com"))"#,
        );
        assert_eq!(
            e.render(),
            r#"ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".", [givenName], [surname]))), "contoso.com"))"#
        );
        let s = e.to_source();
        assert_eq!(s["parameters"][0]["key"], "source");
        let join = &s["parameters"][0]["value"];
        assert_eq!(join["name"], "Join");
        assert_eq!(
            join["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["key"].as_str().unwrap())
                .collect::<Vec<_>>(),
            ["separator", "source1", "source2"]
        );
        // A quote inside a constant is escaped again in its expression.
        let c = ok(r#"Append([mail], "\"x\"")"#).to_source();
        assert_eq!(c["parameters"][1]["value"]["expression"], r#""\"x\"""#);
        let sw = ok(r#"Switch([state], "Australia/Sydney", "NSW", "Australia/Sydney","QLD", "Australia/Brisbane")"#)
            .to_source();
        let keys: Vec<&str> = sw["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["key"].as_str().unwrap())
            .collect();
        assert_eq!(
            keys,
            ["source", "defaultValue", "key1", "value1", "key2", "value2"]
        );
        assert!(matches!(ok("Guid()"), Expr::Function { ref args, .. } if args.is_empty()));
    }

    #[test]
    fn syntax_errors_say_where() {
        for (text, position, target) in [
            ("", 1, ""),
            ("Join(\" \", [givenName]", 1, "("),
            ("Join(\" \" [givenName])", 10, "["),
            ("[givenName", 1, "["),
            ("\"open", 1, "\""),
            (r#""bad \d""#, 6, "\\d"),
            ("[mail] [mail]", 8, "["),
            ("Join(\" \", givenName)", 11, "givenName"),
            ("Join(\" \", [])", 11, ""),
            ("12ab", 3, "a"),
            ("Append([mail], )", 0, ""),
        ] {
            let e = err(text);
            if position == 0 {
                assert_eq!(e.kind, ErrorKind::Arguments, "{text}: {e:?}");
                continue;
            }
            assert_eq!(e.kind, ErrorKind::Syntax, "{text}: {e:?}");
            assert_eq!(
                (e.position, e.target.as_str()),
                (position, target),
                "{text}: {e:?}"
            );
            assert!(
                e.message.contains(&format!("position {position}")) || text.is_empty(),
                "{e:?}"
            );
        }
    }

    #[test]
    fn unknown_functions_and_attributes_and_arities() {
        let e = err("Join(\" \", Foo([givenName]))");
        assert_eq!(
            (e.kind, e.position, e.target.as_str()),
            (ErrorKind::UnknownFunction, 11, "Foo")
        );
        let e = err("join(\" \", [givenName])");
        assert_eq!(e.kind, ErrorKind::UnknownFunction);
        assert!(e.message.contains("Join"), "{e:?}");
        let e = err("Append([givenname], \"x\")");
        assert_eq!(
            (e.kind, e.position, e.target.as_str()),
            (ErrorKind::UnknownAttribute, 8, "givenname")
        );
        assert!(e.message.contains("[givenName]"), "{e:?}");
        assert_eq!(err("[officeLocation]").kind, ErrorKind::UnknownAttribute);
        // Without a directory, any attribute goes.
        assert!(parse("[officeLocation]", None).is_ok());
        for text in [
            "Append([mail])",
            "Append([mail], \"a\", \"b\")",
            "Mid([mail], , 3)",
            "Switch([state], \"d\", \"k\")",
            "Join(\",\")",
            "Now(1)",
        ] {
            assert_eq!(err(text).kind, ErrorKind::Arguments, "{text}");
        }
        assert_eq!(err("Append([mail], \"a\", \"b\")").target, "Append");
    }

    #[test]
    fn the_structured_form_reads_back() {
        for text in [
            "Replace([preferredLanguage], \"-\", , , \"_\", , )",
            "Join(\" \", [givenName], [surname])",
            "Switch([state], , \"NSW\", \"Sydney\")",
            "Coalesce([mail], [userPrincipalName], \"none\")",
        ] {
            let e = ok(text);
            let mut structured = e.to_source();
            structured.as_object_mut().unwrap().remove("expression");
            // The structured form does not keep trailing empty arguments.
            let trim = |e: Expr| match e {
                Expr::Function { name, mut args } => {
                    while args.last().is_some_and(Option::is_none) {
                        args.pop();
                    }
                    Expr::Function { name, args }
                }
                other => other,
            };
            assert_eq!(
                trim(Expr::from_source(&structured).unwrap()),
                trim(e.clone()),
                "{text}"
            );
            assert_eq!(Expr::from_source(&e.to_source()).unwrap(), e, "{text}");
        }
        assert_eq!(
            Expr::from_source(&json!({"name": "extensionAttribute10", "type": "Attribute"}))
                .unwrap(),
            Expr::Attribute("extensionAttribute10".into())
        );
        assert_eq!(
            Expr::from_source(&json!({"type": "Constant", "expression": "\"Member\""})).unwrap(),
            Expr::Constant("Member".into(), Literal::Text)
        );
        let unknown = json!({"type": "Function", "name": "Frobnicate", "parameters": []});
        assert_eq!(
            Expr::from_source(&unknown).unwrap_err().kind,
            ErrorKind::UnknownFunction
        );
        assert!(Expr::from_source(&json!({"type": "Lookup", "name": "x"})).is_err());
    }
}
