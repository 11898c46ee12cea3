//! Finds secrets written literally into a spec.
//!
//! A spec lives in Git and is printed in CI logs, so a secret in it is already leaked: mtoctl
//! refuses the spec, says where the secret is and tells the user to rotate it. The findings
//! never contain the value, and are marked sensitive so that no source snippet shows it.

use super::diagnostic::Diagnostic;
use super::node::{Node, Path, Value};

/// Keys whose scalar value is a secret when written where the language expects none.
const SECRET_KEYS: &[&str] = &[
    "secret",
    "clientsecret",
    "password",
    "pass",
    "passwd",
    "token",
    "accesstoken",
    "apikey",
    "key",
    "value",
    "assertion",
    "privatekey",
    "certificatepassword",
];

/// Keys the language has that take names or paths, not secrets.
const NAME_KEYS: &[&str] = &["fromenv", "passwordfromenv", "tokenfile", "path"];

/// Literal secrets in the document, and the paths they were found at (so the structural check
/// does not report them a second time as unknown fields or wrong types).
pub fn scan(root: &Node) -> (Vec<Diagnostic>, Vec<Path>) {
    let mut findings = Vec::new();
    let mut paths = Vec::new();
    root.walk(&Path::root(), &mut |path, key, node| {
        let Value::Str(text) = &node.value else {
            return;
        };
        let key_name = key.map(|k| k.name.to_ascii_lowercase()).unwrap_or_default();
        let reason = if NAME_KEYS.contains(&key_name.as_str()) {
            // A name or path field holding something that is not a name: a pasted secret?
            (key_name.ends_with("fromenv") && !is_env_name(text) && looks_like_secret(text))
                .then_some(
                    "an environment variable name was expected, but this looks like a secret",
                )
        } else if SECRET_KEYS.contains(&key_name.as_str()) && !text.trim().is_empty() {
            Some("a secret value is written in the spec")
        } else {
            secret_shape(text)
        };
        if let Some(reason) = reason {
            let span = key.map_or(node.span, |k| k.span);
            findings.push(
                Diagnostic::error(
                    "spec::literal_secret",
                    format!("literal secret at `{path}`: {reason}"),
                )
                .at_path(path.clone())
                .label(span, "secret here")
                .help(
                    "remove it from the file (and from Git history), rotate it, and reference it \
                         instead: `clientSecret: {fromEnv: NAME}` or `passwordFromEnv: NAME`",
                )
                .sensitive(),
            );
            paths.push(path.clone());
        }
    });
    (findings, paths)
}

/// Whether `text` is a portable environment variable name.
pub fn is_env_name(text: &str) -> bool {
    let mut chars = text.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Recognisable shapes of secrets anywhere in a document.
fn secret_shape(text: &str) -> Option<&'static str> {
    let t = text.trim();
    if t.contains("PRIVATE KEY-----") {
        return Some("a PEM private key is written in the spec");
    }
    if is_jwt(t) {
        return Some("a JSON web token is written in the spec");
    }
    if is_entra_client_secret(t) {
        return Some("a Microsoft Entra client secret is written in the spec");
    }
    if ["ghp_", "gho_", "ghs_", "ghu_", "github_pat_"]
        .iter()
        .any(|p| t.starts_with(p) && t.len() >= 36)
    {
        return Some("a GitHub token is written in the spec");
    }
    None
}

/// Entra client secrets are 40 characters from `[A-Za-z0-9_.~-]` with `Q~` after a
/// three-character prefix and a digit (for example `abc8Q~…`).
fn is_entra_client_secret(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() == 40
        && b[3].is_ascii_digit()
        && &b[4..6] == b"Q~"
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'~' | b'-'))
}

fn is_jwt(t: &str) -> bool {
    // Checked first: every name in a scope has dots, and most are not tokens.
    if !t.starts_with("eyJ") {
        return false;
    }
    let parts: Vec<&str> = t.split('.').collect();
    parts.len() == 3
        && parts[1].starts_with("eyJ")
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'=')
        })
}

/// Long, mixed, unbroken strings look like generated secrets rather than names.
fn looks_like_secret(t: &str) -> bool {
    t.len() >= 16
        && !t.contains(' ')
        && t.chars().any(|c| c.is_ascii_digit())
        && t.chars().any(|c| c.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::yaml;

    fn scan_text(text: &str) -> Vec<Diagnostic> {
        scan(&yaml::parse(text).expect("yaml")).0
    }

    #[test]
    fn secrets_in_secret_fields_are_found_without_echoing_them() {
        let found = scan_text("auth:\n  clientId: x\n  clientSecret: hunter2-value\n");
        assert_eq!(found.len(), 1);
        assert!(!found[0].message.contains("hunter2"));
        assert!(found[0].sensitive);
        assert_eq!(
            found[0].path.as_ref().map(ToString::to_string).as_deref(),
            Some("auth.clientSecret")
        );
    }

    #[test]
    fn secret_shapes_are_found_anywhere() {
        let entra = "abc8Q~0123456789abcdefghijklmnopqrstuvwx";
        assert_eq!(entra.len(), 40);
        assert_eq!(scan_text(&format!("description: {entra}\n")).len(), 1);
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
        assert_eq!(scan_text(&format!("note: {jwt}\n")).len(), 1);
        assert_eq!(
            scan_text("k: \"-----BEGIN PRIVATE KEY-----\\nabc\"\n").len(),
            1
        );
    }

    #[test]
    fn env_names_and_ordinary_text_pass() {
        assert!(scan_text("clientSecret:\n  fromEnv: CONTOSO_CLIENT_SECRET\n").is_empty());
        assert!(
            scan_text("displayName: Contoso Group\ndescription: An ordinary sentence.\n")
                .is_empty()
        );
        assert!(scan_text("passwordFromEnv: CERT_PASSWORD\n").is_empty());
    }

    #[test]
    fn a_secret_pasted_where_a_variable_name_belongs_is_found() {
        let found = scan_text("clientSecret:\n  fromEnv: Zx9.Qq8~aLb7Kp2mN0rStUvW\n");
        assert_eq!(found.len(), 1, "{found:?}");
    }
}
