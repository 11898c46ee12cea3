//! A spec's own text, edited to hold another document: the `+` side of `export --diff`.
//!
//! Each difference between the document the text holds and the wanted one becomes the
//! smallest edit of the text that says it: a scalar replaced where it is written (its quoting,
//! comments and the lines around it kept), an entry or list item removed with its lines, a new
//! one inserted after its predecessor at its siblings' indentation. Lists are matched item by
//! item by identity (a tenant's alias, a sync's ends, a user's name), so an item removed from
//! the middle is one removal, not a cascade of changes. Flow collections (`[a, b]`, `{x: 1}`)
//! that differ are rewritten whole, on their line. What cannot be edited in place is an error,
//! and the caller shows both documents as [`render`] writes them instead.

use mtoctl_model::spec::document::SpecDocument;
use mtoctl_model::spec::node::{Key, Node, Value};
use mtoctl_model::spec::yaml;

/// Edits `text` (whose tree is `orig`) so that it reads as `want`.
pub(super) fn patch(text: &str, orig: &Node, want: &Node) -> Result<String, String> {
    let mut p = Patcher {
        text,
        edits: Vec::new(),
        indented_seqs: indented_seqs(text, orig).unwrap_or(true),
    };
    p.value(orig, want, Place::Root)?;
    p.apply()
}

/// A document as mtoctl writes it: block style, two spaces, list items indented under their
/// key, one scalar per line (so that two renderings differ only on the lines that differ).
pub(super) fn render(node: &Node) -> String {
    let r = Renderer {
        indented_seqs: true,
    };
    match &node.value {
        Value::Map(entries) if !entries.is_empty() => {
            let mut out = String::new();
            for (k, v) in entries {
                out.push_str(&r.entry(&k.name, v, 0));
            }
            out
        }
        _ => format!("{}\n", inline(node)),
    }
}

/// `want` with the spec's choice of keys: a key the spec leaves out is left out where the live
/// value is what leaving it out means (`role: member`), and a key the spec writes is kept where
/// the live document leaves it out meaning the same (`users: []`). "Means the same" is judged
/// by the language itself: the document reads as the same typed spec with or without it.
pub(super) fn conform(orig: &Node, want: Node) -> Node {
    let typed = |n: &Node| serde_json::from_value::<SpecDocument>(n.to_json()).ok();
    let Some(base) = typed(&want) else {
        return want;
    };
    let mut ops = Vec::new();
    presence(orig, &want, &mut Vec::new(), &mut ops);
    let mut want = want;
    for op in ops {
        let mut trial = want.clone();
        if op.apply(&mut trial) && typed(&trial).as_ref() == Some(&base) {
            want = trial;
        }
    }
    want
}

/// One step from a node to a child.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// A change of a key's presence, tried by [`conform`].
#[derive(Debug)]
enum Presence {
    /// Leave out this key of the map at the path.
    Drop(Vec<Step>, String),
    /// Write this key (and the spec's value) into the map at the path.
    Add(Vec<Step>, Key, Node),
}

impl Presence {
    fn apply(&self, root: &mut Node) -> bool {
        let (Presence::Drop(path, _) | Presence::Add(path, ..)) = self;
        let Some(Node {
            value: Value::Map(entries),
            ..
        }) = at(root, path)
        else {
            return false;
        };
        match self {
            Presence::Drop(_, key) => {
                let before = entries.len();
                entries.retain(|(k, _)| &k.name != key);
                entries.len() != before
            }
            Presence::Add(_, key, value) => {
                if entries.iter().any(|(k, _)| k.name == key.name) {
                    return false;
                }
                entries.push((key.clone(), value.clone()));
                true
            }
        }
    }
}

fn at<'n>(node: &'n mut Node, path: &[Step]) -> Option<&'n mut Node> {
    let Some((first, rest)) = path.split_first() else {
        return Some(node);
    };
    let next = match (first, &mut node.value) {
        (Step::Key(k), Value::Map(entries)) => entries
            .iter_mut()
            .find(|(key, _)| &key.name == k)
            .map(|e| &mut e.1),
        (Step::Index(i), Value::Seq(items)) => items.get_mut(*i),
        _ => None,
    }?;
    at(next, rest)
}

fn presence(orig: &Node, want: &Node, path: &mut Vec<Step>, ops: &mut Vec<Presence>) {
    match (&orig.value, &want.value) {
        (Value::Map(o), Value::Map(w)) => {
            for (k, v) in w {
                match o.iter().find(|(ok, _)| ok.name == k.name) {
                    Some((_, ov)) => {
                        path.push(Step::Key(k.name.clone()));
                        presence(ov, v, path, ops);
                        path.pop();
                    }
                    None => ops.push(Presence::Drop(path.clone(), k.name.clone())),
                }
            }
            for (k, v) in o {
                if !w.iter().any(|(wk, _)| wk.name == k.name) {
                    ops.push(Presence::Add(path.clone(), k.clone(), v.clone()));
                }
            }
        }
        (Value::Seq(o), Value::Seq(w)) => {
            if let Ok(pairs) = match_items(o, w) {
                for (i, j) in pairs {
                    path.push(Step::Index(j));
                    presence(&o[i], &w[j], path, ops);
                    path.pop();
                }
            }
        }
        _ => {}
    }
}

/// What identifies a list item across the two documents: a tenant by alias, a sync by its
/// ends and name, an override by its pair, a filter group by name, anything else by value.
fn identity(n: &Node) -> String {
    let field = |k: &str| n.get(k).map(|(_, v)| v.to_json().to_string());
    if let Value::Map(_) = n.value {
        if let Some(a) = field("alias") {
            return format!("alias {a}");
        }
        if let (Some(f), Some(t)) = (field("from"), field("to")) {
            return format!("sync {f} {t} {}", field("name").unwrap_or_default());
        }
        if let (Some(t), Some(p)) = (field("tenant"), field("partner")) {
            return format!("pair {t} {p}");
        }
        if let Some(b) = field("between") {
            return format!("between {b}");
        }
        if let (Some(name), Some(_)) = (field("name"), field("allOf")) {
            return format!("group {name}");
        }
    }
    n.to_json().to_string()
}

/// Pairs (orig index, want index) of items with the same identity, each item used once, in
/// order; an error if the matched items changed order.
fn match_items(orig: &[Node], want: &[Node]) -> Result<Vec<(usize, usize)>, String> {
    let ids: Vec<String> = orig.iter().map(identity).collect();
    let mut used = vec![false; orig.len()];
    let mut pairs = Vec::new();
    for (j, w) in want.iter().enumerate() {
        let id = identity(w);
        if let Some(i) = (0..orig.len()).find(|&i| !used[i] && ids[i] == id) {
            used[i] = true;
            pairs.push((i, j));
        }
    }
    if pairs.windows(2).any(|w| w[0].0 > w[1].0) {
        return Err("list items changed order".into());
    }
    Ok(pairs)
}

/// Where a node is written.
#[derive(Clone, Copy)]
enum Place<'n> {
    Root,
    /// The value of this key.
    Entry(&'n Key),
    /// A block list item.
    Item,
}

/// A change to the text: bytes `start..end` replaced by `text`.
struct Edit {
    start: usize,
    end: usize,
    text: String,
}

struct Patcher<'t> {
    text: &'t str,
    edits: Vec<Edit>,
    indented_seqs: bool,
}

impl Patcher<'_> {
    fn edit(&mut self, start: usize, end: usize, text: String) {
        self.edits.push(Edit { start, end, text });
    }

    fn value(&mut self, orig: &Node, want: &Node, place: Place<'_>) -> Result<(), String> {
        let same = orig.to_json() == want.to_json();
        match (&orig.value, &want.value) {
            _ if same => Ok(()),
            (Value::Map(o), Value::Map(w))
                if !self.is_flow(orig) && !o.is_empty() && !w.is_empty() =>
            {
                self.map(o, w)
            }
            (Value::Seq(o), Value::Seq(w))
                if !self.is_flow(orig) && !o.is_empty() && !w.is_empty() =>
            {
                self.seq(o, w)
            }
            (a, b) if is_scalar(a) && is_scalar(b) => self.scalar(orig, want, place),
            _ => self.replace(orig, want, place),
        }
    }

    fn map(&mut self, o: &[(Key, Node)], w: &[(Key, Node)]) -> Result<(), String> {
        let indent = self.col(o[0].0.span.offset);
        for (k, v) in o {
            match w.iter().find(|(wk, _)| wk.name == k.name) {
                Some((_, wv)) => self.value(v, wv, Place::Entry(k))?,
                None => self.delete_entry(k, v)?,
            }
        }
        let r = self.renderer();
        let mut anchor: Option<usize> = None;
        for (wk, wv) in w {
            if let Some(i) = o.iter().position(|(k, _)| k.name == wk.name) {
                anchor = Some(i);
                continue;
            }
            let rendered = r.entry(&wk.name, wv, indent);
            let first_alone = self.alone_on_line(o[0].0.span.offset);
            let at = match anchor {
                Some(i) => self.after(self.entry_end(&o[i].0, &o[i].1)),
                // Before the first key, unless that shares its line with a list dash.
                None if first_alone => self.line_start(o[0].0.span.offset),
                None => self.after(self.entry_end(&o[0].0, &o[0].1)),
            };
            self.insert(at, rendered);
        }
        Ok(())
    }

    fn seq(&mut self, o: &[Node], w: &[Node]) -> Result<(), String> {
        let pairs = match_items(o, w)?;
        let dash = self.dash_col(&o[0])?;
        let blank = o.len() > 1 && self.blank_between(&o[0], &o[1]);
        for (i, item) in o.iter().enumerate() {
            match pairs.iter().find(|(oi, _)| *oi == i) {
                Some((_, j)) => self.value(item, &w[*j], Place::Item)?,
                None => self.delete_item(item, blank)?,
            }
        }
        let r = self.renderer();
        let mut anchor: Option<usize> = None;
        for (j, item) in w.iter().enumerate() {
            if let Some((i, _)) = pairs.iter().find(|(_, wj)| *wj == j) {
                anchor = Some(*i);
                continue;
            }
            let mut rendered = r.item(item, dash);
            let at = match anchor {
                Some(i) => {
                    if blank {
                        rendered.insert(0, '\n');
                    }
                    self.after(self.extent_end(&o[i]))
                }
                None => {
                    if blank {
                        rendered.push('\n');
                    }
                    self.line_start(o[0].span.offset)
                }
            };
            self.insert(at, rendered);
        }
        Ok(())
    }

    /// One scalar replaced by another where it is written.
    fn scalar(&mut self, orig: &Node, want: &Node, place: Place<'_>) -> Result<(), String> {
        let start = orig.span.offset;
        let end = self.extent_end(orig);
        let one_line = !self.text[start..end].contains('\n');
        match place {
            _ if orig.span.len > 0 && one_line && !self.is_block_scalar(orig) => {
                self.edit(start, end, scalar(want));
                Ok(())
            }
            Place::Entry(k) => {
                let colon = self.colon_after(k)?;
                let end = end.max(colon + 1);
                self.edit(colon + 1, end, format!(" {}", scalar(want)));
                Ok(())
            }
            _ => Err("a multi-line list item changed".into()),
        }
    }

    /// A value replaced whole (its type changed, or it is a flow collection).
    fn replace(&mut self, orig: &Node, want: &Node, place: Place<'_>) -> Result<(), String> {
        match place {
            Place::Entry(k) => {
                let colon = self.colon_after(k)?;
                let end = self.extent_end(orig).max(colon + 1);
                let r = self.renderer();
                // A flow collection stays one on its line.
                let block = match self.is_flow(orig) {
                    true => None,
                    false => r.block(want, self.col(k.span.offset)),
                };
                let text = match block {
                    Some(block) => format!("\n{}", block.trim_end_matches('\n')),
                    None => format!(" {}", inline(want)),
                };
                self.edit(colon + 1, end, text);
                Ok(())
            }
            Place::Item => {
                let dash = self.dash_col(orig)?;
                let rendered = self.renderer().item(want, dash);
                let body = rendered
                    .trim_end_matches('\n')
                    .get(dash + 2..)
                    .unwrap_or_default()
                    .to_owned();
                let end = self.extent_end(orig);
                self.edit(orig.span.offset, end, body);
                Ok(())
            }
            Place::Root => Err("the document's top level changed type".into()),
        }
    }

    fn delete_entry(&mut self, k: &Key, v: &Node) -> Result<(), String> {
        if !self.alone_on_line(k.span.offset) {
            return Err(format!(
                "`{}` shares its line with a list dash and cannot be removed alone",
                k.name
            ));
        }
        let start = self.line_start(k.span.offset);
        let end = self.after(self.entry_end(k, v));
        self.edit(start, end, String::new());
        Ok(())
    }

    fn delete_item(&mut self, item: &Node, blank: bool) -> Result<(), String> {
        self.dash_col(item)?;
        let mut start = self.line_start(item.span.offset);
        let mut end = self.after(self.extent_end(item));
        // Items set apart by blank lines: one goes with the item.
        if blank {
            if self.is_blank_line(end) {
                end = self.after(end);
            } else if start > 0 && self.is_blank_line(self.line_start(start - 1)) {
                start = self.line_start(start - 1);
            }
        }
        self.edit(start, end, String::new());
        Ok(())
    }

    fn insert(&mut self, at: usize, text: String) {
        let text = if at > 0 && !self.text[..at].ends_with('\n') {
            format!("\n{text}")
        } else {
            text
        };
        self.edit(at, at, text);
    }

    fn apply(mut self) -> Result<String, String> {
        // Stable: insertions at one place keep the order they were made in.
        self.edits.sort_by_key(|e| (e.start, e.end));
        let mut out = String::with_capacity(self.text.len());
        let mut cursor = 0;
        for e in &self.edits {
            if e.start < cursor {
                return Err("two edits overlap".into());
            }
            out.push_str(&self.text[cursor..e.start]);
            out.push_str(&e.text);
            cursor = e.end;
        }
        out.push_str(&self.text[cursor..]);
        Ok(out)
    }

    fn renderer(&self) -> Renderer {
        Renderer {
            indented_seqs: self.indented_seqs,
        }
    }

    fn is_flow(&self, n: &Node) -> bool {
        let first = self.text[n.span.offset.min(self.text.len())..]
            .chars()
            .next();
        match n.value {
            Value::Map(_) => first == Some('{'),
            Value::Seq(_) => first == Some('['),
            _ => false,
        }
    }

    /// Whether a scalar is a block scalar (`|`, `>-`): the token written before it says so.
    fn is_block_scalar(&self, n: &Node) -> bool {
        let before = self.text[..n.span.offset].trim_end();
        let token = before.rsplit(char::is_whitespace).next().unwrap_or("");
        token.starts_with(['|', '>'])
    }

    fn line_start(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())]
            .rfind('\n')
            .map_or(0, |i| i + 1)
    }

    /// The start of the line after the one holding `offset - 1` (the end of what ends there).
    fn after(&self, end: usize) -> usize {
        let from = end.saturating_sub(1).min(self.text.len());
        self.text[from..]
            .find('\n')
            .map_or(self.text.len(), |i| from + i + 1)
    }

    fn col(&self, offset: usize) -> usize {
        offset - self.line_start(offset)
    }

    fn alone_on_line(&self, offset: usize) -> bool {
        self.text[self.line_start(offset)..offset].trim().is_empty()
    }

    fn is_blank_line(&self, start: usize) -> bool {
        let rest = &self.text[start.min(self.text.len())..];
        let line = rest.split('\n').next().unwrap_or("");
        !rest.is_empty() && line.trim().is_empty()
    }

    fn blank_between(&self, a: &Node, b: &Node) -> bool {
        let from = self.after(self.extent_end(a));
        let to = self.line_start(b.span.offset);
        from < to && self.text[from..to].lines().any(|l| l.trim().is_empty())
    }

    /// The column of the dash of a block list item, which must be on the item's first line.
    fn dash_col(&self, item: &Node) -> Result<usize, String> {
        let start = self.line_start(item.span.offset);
        let before = &self.text[start..item.span.offset];
        let trimmed = before.trim_end();
        if trimmed.trim_start() != "-" {
            return Err("a list item does not start on its dash's line".into());
        }
        Ok(before.len() - before.trim_start().len())
    }

    fn colon_after(&self, k: &Key) -> Result<usize, String> {
        let from = k.span.offset + k.span.len;
        self.text[from..]
            .find(':')
            .map(|i| from + i)
            .ok_or_else(|| format!("no `:` after `{}`", k.name))
    }

    fn entry_end(&self, k: &Key, v: &Node) -> usize {
        (k.span.offset + k.span.len).max(self.extent_end(v))
    }

    /// Where what a node holds ends: its last scalar, or a flow collection's closing bracket.
    fn extent_end(&self, n: &Node) -> usize {
        match &n.value {
            Value::Map(_) | Value::Seq(_) if self.is_flow(n) => self.closing(n.span.offset),
            Value::Map(entries) => entries
                .iter()
                .map(|(k, v)| self.entry_end(k, v))
                .max()
                .unwrap_or(n.span.offset),
            Value::Seq(items) => items
                .iter()
                .map(|i| self.extent_end(i))
                .max()
                .unwrap_or(n.span.offset),
            _ => {
                let end = (n.span.offset + n.span.len).min(self.text.len());
                n.span.offset + self.text[n.span.offset..end].trim_end().len()
            }
        }
    }

    /// Just past the bracket closing the one at `open`, skipping quoted text.
    fn closing(&self, open: usize) -> usize {
        let mut depth = 0usize;
        let mut quote: Option<char> = None;
        let mut escaped = false;
        for (i, c) in self.text[open..].char_indices() {
            match quote {
                Some('"') if escaped => escaped = false,
                Some('"') if c == '\\' => escaped = true,
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None => match c {
                    '"' | '\'' => quote = Some(c),
                    '[' | '{' => depth += 1,
                    ']' | '}' => {
                        depth -= 1;
                        if depth == 0 {
                            return open + i + 1;
                        }
                    }
                    _ => {}
                },
            }
        }
        self.text.len()
    }
}

/// Whether a spec writes the items of a block list under its key indented (`key:\n  - a`),
/// judged by its first block list; `None` without one.
fn indented_seqs(text: &str, node: &Node) -> Option<bool> {
    let Value::Map(entries) = &node.value else {
        return match &node.value {
            Value::Seq(items) => items.iter().find_map(|i| indented_seqs(text, i)),
            _ => None,
        };
    };
    for (k, v) in entries {
        if let Value::Seq(items) = &v.value
            && let Some(first) = items.first()
        {
            let start = text[..first.span.offset].rfind('\n').map_or(0, |i| i + 1);
            let before = &text[start..first.span.offset];
            if before.trim() == "-" {
                let dash = before.len() - before.trim_start().len();
                let key_start = text[..k.span.offset].rfind('\n').map_or(0, |i| i + 1);
                return Some(dash > k.span.offset - key_start);
            }
        }
        if let Some(found) = indented_seqs(text, v) {
            return Some(found);
        }
    }
    None
}

fn is_scalar(v: &Value) -> bool {
    !matches!(v, Value::Map(_) | Value::Seq(_))
}

/// A scalar as YAML writes it on one line: plain where it reads back as itself, else quoted.
fn scalar(n: &Node) -> String {
    match &n.value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => serde_json::to_string(f).unwrap_or_else(|_| f.to_string()),
        Value::Str(s) => match yaml::to_yaml(s) {
            Ok(y) if !y.trim_end().contains('\n') && !y.starts_with(['|', '>']) => {
                y.trim_end().to_owned()
            }
            _ => serde_json::to_string(s).unwrap_or_default(),
        },
        Value::Seq(_) | Value::Map(_) => inline(n),
    }
}

/// A value on one line, collections in flow style.
fn inline(n: &Node) -> String {
    let flow_safe = |s: String| {
        if s.contains([',', '[', ']', '{', '}', '#']) || s.contains(": ") {
            match &n.value {
                Value::Str(x) => serde_json::to_string(x).unwrap_or(s),
                _ => s,
            }
        } else {
            s
        }
    };
    match &n.value {
        Value::Seq(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|i| match i.value {
                    Value::Seq(_) | Value::Map(_) => inline(i),
                    _ => flow_item(i),
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!(
                    "{}: {}",
                    flow_item(&Node {
                        value: Value::Str(k.name.clone()),
                        span: k.span
                    }),
                    match v.value {
                        Value::Seq(_) | Value::Map(_) => inline(v),
                        _ => flow_item(v),
                    }
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => flow_safe(scalar(n)),
    }
}

/// A scalar inside a flow collection, where `,` and brackets end a plain scalar.
fn flow_item(n: &Node) -> String {
    let s = scalar(n);
    match &n.value {
        Value::Str(x) if s.contains([',', '[', ']', '{', '}', '#']) || s.contains(": ") => {
            serde_json::to_string(x).unwrap_or(s)
        }
        _ => s,
    }
}

/// Block-style rendering of new material, in the spec's style.
struct Renderer {
    indented_seqs: bool,
}

impl Renderer {
    /// `key: value` at `indent`, with its children, each line ending in a newline.
    fn entry(&self, key: &str, v: &Node, indent: usize) -> String {
        let pad = " ".repeat(indent);
        let key = scalar(&Node {
            value: Value::Str(key.to_owned()),
            span: Default::default(),
        });
        match self.block(v, indent) {
            Some(block) => format!("{pad}{key}:\n{block}"),
            None => format!("{pad}{key}: {}\n", inline(v)),
        }
    }

    /// The children of a non-empty collection that is the value of a key at `key_indent`;
    /// `None` for scalars and empty collections (written inline).
    fn block(&self, v: &Node, key_indent: usize) -> Option<String> {
        match &v.value {
            Value::Map(entries) if !entries.is_empty() => Some(
                entries
                    .iter()
                    .map(|(k, x)| self.entry(&k.name, x, key_indent + 2))
                    .collect(),
            ),
            Value::Seq(items) if !items.is_empty() => {
                let dash = key_indent + if self.indented_seqs { 2 } else { 0 };
                Some(items.iter().map(|i| self.item(i, dash)).collect())
            }
            _ => None,
        }
    }

    /// `- item` with its dash at `dash`; a map's first entry on the dash's line.
    fn item(&self, v: &Node, dash: usize) -> String {
        let pad = " ".repeat(dash);
        match &v.value {
            Value::Map(entries) if !entries.is_empty() => {
                let body: String = entries
                    .iter()
                    .map(|(k, x)| self.entry(&k.name, x, dash + 2))
                    .collect();
                format!("{pad}- {}", &body[dash + 2..])
            }
            _ => format!("{pad}- {}\n", inline(v)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(text: &str) -> Node {
        yaml::parse(text).expect("yaml")
    }

    /// `text` patched to hold `want`, checked to read back as `want`.
    fn patched(text: &str, want: &str) -> String {
        let out = patch(text, &tree(text), &tree(want)).expect("patched");
        assert_eq!(tree(&out).to_json(), tree(want).to_json(), "{out}");
        out
    }

    #[test]
    fn a_scalar_changes_where_it_is_written_with_its_comment() {
        let text = "# head\na:\n  b: true  # why\n  c: \"x\"\n";
        let out = patched(text, "a: {b: false, c: z}");
        assert_eq!(out, "# head\na:\n  b: false  # why\n  c: z\n");
        // A string YAML 1.1 would read otherwise is quoted.
        let out = patched(text, "a: {b: true, c: \"y\"}");
        assert_eq!(out, "# head\na:\n  b: true  # why\n  c: \"y\"\n");
    }

    #[test]
    fn list_items_are_matched_by_identity() {
        let text = "users:\n  - alice@x.com\n  - bob@x.com\n  - carol@x.com\n";
        let out = patched(text, "users: [alice@x.com, carol@x.com, dave@x.com]");
        assert_eq!(
            out,
            "users:\n  - alice@x.com\n  - carol@x.com\n  - dave@x.com\n"
        );
        // The spec's list style is kept for new items.
        let text = "users:\n- alice@x.com\n";
        assert_eq!(
            patched(text, "users: [alice@x.com, \"yes\"]"),
            "users:\n- alice@x.com\n- \"yes\"\n"
        );
    }

    #[test]
    fn entries_are_inserted_after_their_predecessor_and_removed_with_their_lines() {
        let text = "t:\n  - alias: a\n    role: owner\n    auth:\n      x: 1\n\n  - alias: b\n    auth:\n      x: 2\n";
        let want =
            "t:\n  - alias: a\n    auth: {x: 1}\n  - alias: b\n    role: owner\n    auth: {x: 2}\n";
        let out = patched(text, want);
        assert_eq!(
            out,
            "t:\n  - alias: a\n    auth:\n      x: 1\n\n  - alias: b\n    role: owner\n    auth:\n      x: 2\n"
        );
    }

    #[test]
    fn new_list_items_and_sections_are_written_in_block_style() {
        let text =
            "c:\n  all:\n    m: true\ns:\n  - from: a\n    to: b\n\n  - from: b\n    to: a\n";
        let want = "c:\n  all: {m: true}\n  overrides:\n    - {tenant: a, partner: b, settings: {m: false}}\ns:\n  - {from: a, to: b}\n";
        let out = patched(text, want);
        assert_eq!(
            out,
            "c:\n  all:\n    m: true\n  overrides:\n    - tenant: a\n      partner: b\n      settings:\n        m: false\ns:\n  - from: a\n    to: b\n"
        );
    }

    #[test]
    fn flow_collections_are_rewritten_whole_and_emptied_lists_become_empty() {
        let text = "a: {inbound: true, outbound: true}\nb:\n  - x\nc: [1, 2]\n";
        let out = patched(
            text,
            "a: {inbound: true, outbound: false}\nb: []\nc: [1, 2]\n",
        );
        assert_eq!(
            out,
            "a: {inbound: true, outbound: false}\nb: []\nc: [1, 2]\n"
        );
    }

    #[test]
    fn the_same_document_is_the_same_text() {
        let text = "# c\na:   1\nb: [x,   y]\n";
        assert_eq!(patched(text, "a: 1\nb: [x, y]\n"), text);
    }

    #[test]
    fn rendering_is_block_style_one_scalar_a_line() {
        let n = tree("a: {b: [x, z], c: {}}\nd: \"yes\"\n");
        assert_eq!(
            render(&n),
            "a:\n  b:\n    - x\n    - z\n  c: {}\nd: \"yes\"\n"
        );
    }

    #[test]
    fn keys_are_conformed_to_what_the_spec_writes() {
        let spec = "apiVersion: mtoctl/v1alpha1\nkind: MultiTenantOrganization\norganization: {displayName: X}\ntenants:\n  - alias: a\n    tenantId: 6babcaad-604b-40ac-a9d7-9fd97c0b779f\n    displayName: A\n    auth: {azureCli: {}}\n";
        let want = spec.replace("displayName: A\n", "displayName: A\n    role: member\n");
        let out = conform(&tree(spec), tree(&want));
        assert_eq!(
            out.to_json(),
            tree(spec).to_json(),
            "`role: member` is what leaving it out means"
        );
        let owner = spec.replace("displayName: A\n", "displayName: A\n    role: owner\n");
        let out = conform(&tree(spec), tree(&owner));
        assert_eq!(out.to_json(), tree(&owner).to_json(), "an owner is written");
    }
}
