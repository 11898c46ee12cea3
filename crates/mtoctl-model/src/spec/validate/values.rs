//! Checks of single values: GUIDs, user principal names, domains.

use super::Cx;
use crate::ids::Guid;
use crate::spec::node::Path;

/// Reads a GUID, reporting a malformed one. `what` names it in the message ("tenant id").
pub(super) fn guid(cx: &mut Cx<'_>, path: &Path, text: &str, what: &str) -> Option<Guid> {
    match Guid::parse(text.trim()) {
        Some(g) if g.is_nil() => {
            cx.error(
                "spec::guid",
                path,
                format!("the {what} is the all-zero GUID"),
                "not a real id",
            )
            .with_help(format!(
                "use the {what} shown in the Microsoft Entra admin center"
            ));
            None
        }
        Some(g) => Some(g),
        None => {
            cx.error(
                "spec::guid",
                path,
                format!("`{text}` is not a valid {what}: expected a GUID like 6babcaad-604b-40ac-a9d7-9fd97c0b779f"),
                "malformed GUID",
            )
            .with_help(format!(
                "copy the {what} from the Microsoft Entra admin center (Overview page): 32 hex digits in groups of 8-4-4-4-12"
            ));
            None
        }
    }
}

/// Whether `text` is a plausible user principal name: `local@domain` with a dotted domain.
pub(super) fn is_upn(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 113
        && !local.starts_with('.')
        && !local.ends_with('.')
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "'.-_!#^~+&$%*/=?`{|}".contains(c))
        && is_domain(domain)
}

/// Whether `text` is a DNS domain name with at least two labels.
pub(super) fn is_domain(text: &str) -> bool {
    text.len() <= 253
        && text.contains('.')
        && text.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upns() {
        assert!(is_upn("alice@contoso.onmicrosoft.com"));
        assert!(is_upn("o'brien+x@contoso.com"));
        assert!(!is_upn("alice"));
        assert!(!is_upn("alice@contoso"));
        assert!(!is_upn("@contoso.com"));
        assert!(!is_upn("al ice@contoso.com"));
        assert!(!is_upn("alice@@contoso.com"));
        assert!(!is_upn("alice@-contoso.com"));
    }

    #[test]
    fn domains() {
        assert!(is_domain("contoso.onmicrosoft.com"));
        assert!(!is_domain("contoso"));
        assert!(!is_domain("contoso..com"));
    }
}
