//! Evaluating an attribute mapping's expression on a source object, for the functions whose
//! behaviour the expression reference (`functions-for-customizing-application-data`) states
//! plainly, each as its description, parameter table and examples say:
//!
//! `Append`, `Coalesce`, `ConvertToBase64`, `ConvertToUTF8Hex`, `CStr`,
//! `IgnoreFlowIfNullOrEmpty`, `IsNull`, `IsNullOrEmpty`, `IsPresent`, `Join`, `Left`, `Mid`,
//! `Not`, `Replace` (its `oldValue` forms), `StripSpaces`, `Switch`, `ToLower`, `ToUpper`,
//! `Word`.
//!
//! Every other function of the reference parses but is not evaluated: dates, GUIDs and random
//! strings (nothing to compare them with), culture and diacritic tables, `Replace`'s regular
//! expressions (.NET's syntax), app role assignments, `IIF` (its comparisons do not parse).
//! Evaluating one fails, saying so; so does any argument a function cannot use.

use base64::Engine as _;
use serde_json::Value;

use super::expr::{Expr, Function};

/// Why an expression gives no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvalError {
    /// `IgnoreFlowIfNullOrEmpty` met a null or empty value: the attribute is dropped from the
    /// flow ("instructs the provisioning service to ignore the attribute").
    Ignore,
    /// It cannot be evaluated: the sentence says why.
    Failed(String),
}

/// A value as the expression language sees it: booleans as `True`/`False` (as provisioning
/// shows them, `accountEnabled: "True"`), numbers as written, the first of several values.
pub fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(true) => Some("True".into()),
        Value::Bool(false) => Some("False".into()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(a) => a.first().and_then(text),
        Value::Object(_) => Some(v.to_string()),
    }
}

fn s(v: impl Into<String>) -> Value {
    Value::String(v.into())
}

fn flag(b: bool) -> Value {
    s(if b { "True" } else { "False" })
}

fn empty(v: &Value) -> bool {
    text(v).is_none_or(|t| t.is_empty())
}

/// The value of `e` on the object whose attributes `lookup` gives (`Null` when absent).
pub fn eval(e: &Expr, lookup: &dyn Fn(&str) -> Value) -> Result<Value, EvalError> {
    match e {
        Expr::Attribute(name) => Ok(lookup(name)),
        Expr::Constant(v, _) => Ok(s(v.as_str())),
        Expr::Function { name, args } => call(name, args, lookup),
    }
}

fn failed<T>(why: String) -> Result<T, EvalError> {
    Err(EvalError::Failed(why))
}

fn call(
    name: &str,
    args: &[Option<Expr>],
    lookup: &dyn Fn(&str) -> Value,
) -> Result<Value, EvalError> {
    let Some(function) = Function::named(name).filter(|f| f.evaluated) else {
        return match Function::named(name) {
            Some(_) => failed(format!(
                "the emulator does not evaluate the function {name}"
            )),
            None => failed(format!(
                "'{name}' is not a function of the expression language"
            )),
        };
    };
    // The argument at `i` (`Null` when left empty or absent).
    let arg = |i: usize| -> Result<Value, EvalError> {
        match args.get(i) {
            Some(Some(e)) => eval(e, lookup),
            _ => Ok(Value::Null),
        }
    };
    let given = |i: usize| matches!(args.get(i), Some(Some(_)));
    let int = |i: usize, what: &str| -> Result<i64, EvalError> {
        let v = arg(i)?;
        match text(&v).and_then(|t| t.trim().parse::<i64>().ok()) {
            Some(n) => Ok(n),
            None => failed(format!(
                "{name}'s {what} must be a whole number, not {}",
                text(&v).map_or("null".into(), |t| format!("'{t}'"))
            )),
        }
    };
    match function.name {
        // "Takes a source string value and appends the suffix to the end of it."
        "Append" => {
            let Some(source) = text(&arg(0)?) else {
                return Ok(Value::Null);
            };
            Ok(s(source + &text(&arg(1)?).unwrap_or_default()))
        }
        // "Returns the first source value that isn't NULL."
        "Coalesce" => {
            for i in 0..args.len() {
                let v = arg(i)?;
                if !v.is_null() {
                    return Ok(v);
                }
            }
            Ok(Value::Null)
        }
        // "Converts a string to a Unicode base64 string" ("Hello world!" gives
        // "SABlAGwAbABvACAAdwBvAHIAbABkACEA": UTF-16LE).
        "ConvertToBase64" => Ok(text(&arg(0)?).map_or(Value::Null, |t| {
            let bytes: Vec<u8> = t.encode_utf16().flat_map(u16::to_le_bytes).collect();
            s(base64::engine::general_purpose::STANDARD.encode(bytes))
        })),
        // "Converts a string to a UTF8 Hex encoded value" (48656C6C6F20776F726C6421).
        "ConvertToUTF8Hex" => Ok(text(&arg(0)?).map_or(Value::Null, |t| {
            s(t.bytes().map(|b| format!("{b:02X}")).collect::<String>())
        })),
        "CStr" => Ok(text(&arg(0)?).map_or(Value::Null, s)),
        "IgnoreFlowIfNullOrEmpty" => {
            let v = arg(0)?;
            if empty(&v) {
                Err(EvalError::Ignore)
            } else {
                Ok(v)
            }
        }
        "IsNull" => Ok(flag(arg(0)?.is_null())),
        "IsNullOrEmpty" => Ok(flag(empty(&arg(0)?))),
        "IsPresent" => Ok(flag(!empty(&arg(0)?))),
        // "Combine multiple source string values into a single string, each value separated by
        // a separator"; every value of a multi-valued one; empty ones left out (the reference's
        // `Join(", ", "", [surname], [givenName])` gives "Doe, John").
        "Join" => {
            let separator = text(&arg(0)?).unwrap_or_default();
            let mut parts = Vec::new();
            for i in 1..args.len() {
                match arg(i)? {
                    Value::Array(items) => parts.extend(items.iter().filter_map(text)),
                    v => parts.extend(text(&v)),
                }
            }
            parts.retain(|p| !p.is_empty());
            Ok(if parts.is_empty() {
                Value::Null
            } else {
                s(parts.join(&separator))
            })
        }
        // "If numChars = 0, return empty string. If numChars < 0, return input string. If string
        // is null, return empty string."
        "Left" => {
            let source = text(&arg(0)?);
            let n = int(1, "NumChars")?;
            let Some(source) = source else {
                return Ok(s(""));
            };
            Ok(s(if n < 0 {
                source
            } else {
                source.chars().take(n as usize).collect()
            }))
        }
        // "Returns a substring": `start` from 1; a `length` past the end stops at the end.
        "Mid" => {
            let source = text(&arg(0)?);
            let (start, length) = (int(1, "start")?, int(2, "length")?);
            if start < 1 {
                return failed(format!("Mid's start must be 1 or more, not {start}"));
            }
            if length < 0 {
                return failed(format!("Mid's length must not be negative, not {length}"));
            }
            Ok(source.map_or(Value::Null, |t| {
                s(t.chars()
                    .skip(start as usize - 1)
                    .take(length as usize)
                    .collect::<String>())
            }))
        }
        // "If source value is True, returns False. Otherwise, returns True."
        "Not" => Ok(flag(
            !text(&arg(0)?).is_some_and(|t| t.eq_ignore_ascii_case("true")),
        )),
        "Replace" => replace(&arg, &given),
        // "Removes all space (" ") characters from the source string."
        "StripSpaces" => Ok(text(&arg(0)?).map_or(Value::Null, |t| s(t.replace(' ', "")))),
        // Case-sensitive; an empty or null source matches the key "" (the reference's caution);
        // no match gives the default value.
        "Switch" => {
            let source = text(&arg(0)?).unwrap_or_default();
            let mut i = 2;
            while i + 1 < args.len() {
                if text(&arg(i)?).unwrap_or_default() == source {
                    return arg(i + 1);
                }
                i += 2;
            }
            arg(1)
        }
        // The culture argument is not modelled (invariant rules).
        "ToLower" => Ok(text(&arg(0)?).map_or(Value::Null, |t| s(t.to_lowercase()))),
        "ToUpper" => Ok(text(&arg(0)?).map_or(Value::Null, |t| s(t.to_uppercase()))),
        // "If number < 1, returns empty string. If string is null, returns empty string. If
        // string contains less than number words … an empty string is returned."
        "Word" => {
            let source = text(&arg(0)?);
            let n = int(1, "WordNumber")?;
            let delimiters: Vec<char> = text(&arg(2)?).unwrap_or_default().chars().collect();
            let Some(source) = source.filter(|_| n >= 1) else {
                return Ok(s(""));
            };
            Ok(s(source
                .split(|c| delimiters.contains(&c))
                .filter(|w| !w.is_empty())
                .nth(n as usize - 1)
                .unwrap_or_default()))
        }
        other => failed(format!(
            "the emulator does not evaluate the function {other}"
        )),
    }
}

/// `Replace(source, oldValue, regexPattern, regexGroupName, replacementValue,
/// replacementAttributeName, template)`: "When oldValue and replacementValue are provided:
/// replaces all occurrences of oldValue in the source with replacementValue"; "when oldValue and
/// template are provided: replaces all occurrences of the oldValue in the template with the
/// source value". Case-sensitive. The regular-expression forms are not evaluated.
fn replace(
    arg: &dyn Fn(usize) -> Result<Value, EvalError>,
    given: &dyn Fn(usize) -> bool,
) -> Result<Value, EvalError> {
    if given(2) || given(3) || given(5) {
        return failed(
            "the emulator does not evaluate Replace with regexPattern, regexGroupName or replacementAttributeName"
                .into(),
        );
    }
    if !given(1) || !(given(4) || given(6)) {
        return failed("Replace needs oldValue with replacementValue or with template".into());
    }
    let old = text(&arg(1)?).unwrap_or_default();
    if old.is_empty() {
        return failed("Replace's oldValue must not be empty".into());
    }
    let Some(source) = text(&arg(0)?) else {
        return Ok(Value::Null);
    };
    if given(6) {
        let template = text(&arg(6)?).unwrap_or_default();
        return Ok(s(template.replace(&old, &source)));
    }
    let new = text(&arg(4)?).unwrap_or_default();
    Ok(s(source.replace(&old, &new)))
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, json};

    use super::*;
    use crate::schema::expr::parse;

    fn run(text: &str, object: &Value) -> Result<Value, EvalError> {
        let e = parse(text, None).unwrap_or_else(|e| panic!("{text}: {e}"));
        let m: Map<String, Value> = object.as_object().cloned().unwrap_or_default();
        eval(&e, &|n: &str| m.get(n).cloned().unwrap_or(Value::Null))
    }

    fn is(text: &str, object: Value, want: Value) {
        assert_eq!(run(text, &object), Ok(want), "{text}");
    }

    /// The reference's sample inputs and outputs, function by function.
    #[test]
    fn the_reference_examples() {
        let john = json!({"givenName": "John", "surname": "Doe", "mail": null,
            "userPrincipalName": "John.Doe@contoso.com", "state": "QLD",
            "preferredLanguage": "EN-US", "telephoneNumber": "+91 9998887777"});
        is(
            "Append([userPrincipalName], \".test\")",
            john.clone(),
            json!("John.Doe@contoso.com.test"),
        );
        is(
            "Coalesce([mail],[userPrincipalName])",
            john.clone(),
            json!("John.Doe@contoso.com"),
        );
        is(
            "ConvertToBase64(\"Hello world!\")",
            json!({}),
            json!("SABlAGwAbABvACAAdwBvAHIAbABkACEA"),
        );
        is(
            "ConvertToUTF8Hex(\"Hello world!\")",
            json!({}),
            json!("48656C6C6F20776F726C6421"),
        );
        is(
            "Join(\", \", \"\", [surname], [givenName])",
            john.clone(),
            json!("Doe, John"),
        );
        is("Left(\"John Doe\", 3)", json!({}), json!("Joh"));
        is(
            "Append(Mid([givenName], 1, 3), Mid([surname], 1, 5))",
            john.clone(),
            json!("JohDoe"),
        );
        is(
            "Replace([BusinessTitle],\"Product Developer\", , , \"Software Engineer\", , )",
            json!({"BusinessTitle": "Product Developer"}),
            json!("Software Engineer"),
        );
        is(
            "Replace([UserID],\"<username>\", , , , , \"<username>@contoso.com\")",
            json!({"UserID": "jsmith"}),
            json!("jsmith@contoso.com"),
        );
        is(
            "Replace([mail], \"@contoso.com\", , ,\"\", ,)",
            json!({"mail": "john.doe@contoso.com"}),
            json!("john.doe"),
        );
        // The parseExpression reference's example answer: ["EN_US"].
        is(
            "Replace([preferredLanguage], \"-\", , , \"_\", ,  )",
            john.clone(),
            json!("EN_US"),
        );
        is(
            "Switch([state], \"Australia/Sydney\", \"NSW\", \"Australia/Sydney\",\"QLD\", \"Australia/Brisbane\", \"SA\", \"Australia/Adelaide\")",
            john.clone(),
            json!("Australia/Brisbane"),
        );
        is(
            "Switch([statusFlag], \"Default Value\", \"true\", \"1\", \"\", \"0\")",
            json!({}),
            json!("0"),
        );
        is(
            "ToLower(Join(\"@\", StripSpaces(Join(\".\",  [PreferredFirstName], [PreferredLastName])), \"contoso.com\"))",
            json!({"PreferredFirstName": "John", "PreferredLastName": "Smith"}),
            json!("john.smith@contoso.com"),
        );
        is(
            "Word(\"The quick brown fox\",3,\" \")",
            json!({}),
            json!("brown"),
        );
        is(
            "Word(\"This,string!has&many separators\",3,\",!&#\")",
            json!({}),
            json!("has"),
        );
        is(
            "IsNullOrEmpty([displayName])",
            json!({"displayName": ""}),
            json!("True"),
        );
        is(
            "IsPresent([displayName])",
            json!({"displayName": "x"}),
            json!("True"),
        );
        is("IsNull([displayName])", json!({}), json!("True"));
        is(
            "Not([accountEnabled])",
            json!({"accountEnabled": true}),
            json!("False"),
        );
        is("ToUpper([givenName])", john, json!("JOHN"));
        assert_eq!(
            run("IgnoreFlowIfNullOrEmpty([department])", &json!({})),
            Err(EvalError::Ignore)
        );
    }

    #[test]
    fn edges_nulls_and_failures() {
        is("Left([x], 0)", json!({"x": "abc"}), json!(""));
        is("Left([x], -1)", json!({"x": "abc"}), json!("abc"));
        is("Left([x], 2)", json!({}), json!(""));
        is("Mid([x], 2, 10)", json!({"x": "abc"}), json!("bc"));
        is("Mid([x], 2, 10)", json!({}), Value::Null);
        is("Word([x], 0, \" \")", json!({"x": "a b"}), json!(""));
        is("Word([x], 5, \" \")", json!({"x": "a b"}), json!(""));
        is("Join(\" \", [a], [b])", json!({}), Value::Null);
        is(
            "Join(\";\", [proxyAddresses], \"x\")",
            json!({"proxyAddresses": ["a", "b"]}),
            json!("a;b;x"),
        );
        is("Append([x], \"s\")", json!({}), Value::Null);
        is("ToLower([x])", json!({}), Value::Null);
        is(
            "Switch([x], , \"a\", \"b\")",
            json!({"x": "c"}),
            Value::Null,
        );
        is(
            "Switch([x], \"d\", \"a\", \"b\")",
            json!({"x": "A"}),
            json!("d"),
        );
        is("Coalesce([a], [b])", json!({}), Value::Null);
        is(
            "CStr([accountEnabled])",
            json!({"accountEnabled": false}),
            json!("False"),
        );
        // IgnoreFlow in a branch Coalesce never reaches does nothing.
        is(
            "Coalesce([a], IgnoreFlowIfNullOrEmpty([b]))",
            json!({"a": "x"}),
            json!("x"),
        );
        for (text, why) in [
            ("Mid([x], \"one\", 2)", "whole number"),
            ("Mid([x], 0, 2)", "1 or more"),
            (
                "NormalizeDiacritics([x])",
                "does not evaluate the function NormalizeDiacritics",
            ),
            ("Replace([x], , \"[a-z]\", , \"\", , )", "regexPattern"),
            (
                "Replace([x], \"a\", , , , , )",
                "replacementValue or with template",
            ),
            ("Replace([x], \"\", , , \"b\", , )", "must not be empty"),
        ] {
            match run(text, &json!({"x": "abc"})) {
                Err(EvalError::Failed(m)) => assert!(m.contains(why), "{text}: {m}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        let unknown = Expr::Function {
            name: "Frobnicate".into(),
            args: vec![],
        };
        assert!(matches!(
            eval(&unknown, &|_| Value::Null),
            Err(EvalError::Failed(m)) if m.contains("not a function")
        ));
    }
}
