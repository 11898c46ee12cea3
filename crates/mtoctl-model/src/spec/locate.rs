//! Where a spec writes one entry of a sync's scope: a plan's note about a name that does not
//! resolve points at it (`file:line:column`). Reading the spec again is only done for such
//! notes, so the spec's load stays free of a location per entry (a hub lists 99,000 users).

use super::node::{Node, Value};

/// Line and column (both from 1, the column in characters) of the entry `name` in the list
/// `list` (`users` or `groups`) of the scope of the sync `from` → `to` in the spec `text`.
/// Users compare without case, as UPNs do; groups exactly.
pub fn scope_entry(
    text: &str,
    from: &str,
    to: &str,
    list: &str,
    name: &str,
) -> Option<(usize, usize)> {
    let root = super::yaml::parse(text).ok()?;
    let syncs = field(&root, "sync")?;
    let Value::Seq(syncs) = &syncs.value else {
        return None;
    };
    let same = |node: &Node| match &node.value {
        Value::Str(s) if list == "users" => s.trim().eq_ignore_ascii_case(name),
        Value::Str(s) => s == name,
        _ => false,
    };
    let syncs = syncs
        .iter()
        .filter(|s| is_str(field(s, "from"), from) && is_str(field(s, "to"), to));
    if list == "mappings" {
        // A mapping, by its target attribute: the key's line.
        let mapping = syncs
            .filter_map(|s| field(s, "mappings"))
            .find_map(|m| match &m.value {
                Value::Map(entries) => entries
                    .iter()
                    .find(|(k, _)| k.name.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v),
                _ => None,
            })?;
        return Some(line_column(text, mapping.span.offset));
    }
    let entry = syncs
        .filter_map(|s| field(field(s, "scope")?, list))
        .find_map(|entries| match &entries.value {
            Value::Seq(items) => items.iter().find(|n| same(n)),
            _ => None,
        })?;
    Some(line_column(text, entry.span.offset))
}

fn field<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
    match &node.value {
        Value::Map(entries) => entries.iter().find(|(k, _)| k.name == key).map(|(_, v)| v),
        _ => None,
    }
}

fn is_str(node: Option<&Node>, want: &str) -> bool {
    matches!(node.map(|n| &n.value), Some(Value::Str(s)) if s == want)
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_entry_of_the_right_sync() {
        let text = "sync:\n  - from: a\n    to: b\n    scope:\n      users: [x@a.com]\n  - from: b\n    to: a\n    scope:\n      users:\n        - y@b.com\n        - Bobb@b.com\n      groups: [Sales]\n";
        assert_eq!(
            scope_entry(text, "b", "a", "users", "bobb@b.com"),
            Some((11, 11))
        );
        assert_eq!(
            scope_entry(text, "a", "b", "users", "x@a.com"),
            Some((5, 15))
        );
        assert_eq!(
            scope_entry(text, "b", "a", "groups", "Sales"),
            Some((12, 16))
        );
        assert_eq!(scope_entry(text, "a", "b", "users", "y@b.com"), None);
        assert_eq!(scope_entry("not: [yaml", "a", "b", "users", "x"), None);
    }
}
