//! A YAML document as a tree of spanned nodes.
//!
//! Validation works on this tree rather than on typed structs so that it can report every
//! problem in one run: serde stops at the first unknown field or wrong type, while a walk over
//! the tree can keep going and point each finding at its exact place in the file.

use std::fmt;

/// A byte range in the spec's source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// Offset of the first byte.
    pub offset: usize,
    /// Length in bytes (zero for a point, such as the start of a block mapping).
    pub len: usize,
}

impl Span {
    /// A span from an offset and a length.
    pub const fn new(offset: usize, len: usize) -> Self {
        Self { offset, len }
    }
}

/// One node of the document with the place it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// What the node holds.
    pub value: Value,
    /// Where the node's value starts in the source.
    pub span: Span,
}

/// A mapping key with its place in the source.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    /// The key's text.
    pub name: String,
    /// Where the key is written.
    pub span: Span,
}

/// The value of a node.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `~`, `null` or an empty value.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string scalar.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order.
    Map(Vec<(Key, Node)>),
}

impl Value {
    /// The JSON Schema type name of this value, used in "expected X, found Y" messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::Seq(_) => "array",
            Value::Map(_) => "object",
        }
    }
}

/// One step of a path from the document root to a node.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PathSegment {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// A path from the document root, such as `tenants[1].auth.clientId`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Path(pub Vec<PathSegment>);

impl Path {
    /// The document root.
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// This path extended by a mapping key.
    pub fn key(&self, key: &str) -> Self {
        let mut segments = self.0.clone();
        segments.push(PathSegment::Key(key.to_owned()));
        Self(segments)
    }

    /// This path extended by a sequence index.
    pub fn index(&self, index: usize) -> Self {
        let mut segments = self.0.clone();
        segments.push(PathSegment::Index(index));
        Self(segments)
    }

    /// Whether `self` is `other` or lies below it.
    pub fn starts_with(&self, other: &Path) -> bool {
        self.0.starts_with(&other.0)
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(document)");
        }
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                PathSegment::Key(k) if i == 0 => write!(f, "{k}")?,
                PathSegment::Key(k) => write!(f, ".{k}")?,
                PathSegment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

impl Node {
    /// The entry for `key` if this node is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<(&Key, &Node)> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.name == key)
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    /// The node at `path`, if the document has one there.
    pub fn lookup(&self, path: &Path) -> Option<&Node> {
        let mut node = self;
        for segment in &path.0 {
            node = match (segment, &node.value) {
                (PathSegment::Key(k), Value::Map(_)) => node.get(k)?.1,
                (PathSegment::Index(i), Value::Seq(items)) => items.get(*i)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// The span of the value at `path`, or of the nearest ancestor the document has.
    pub fn span_of(&self, path: &Path) -> Span {
        let mut node = self;
        for segment in &path.0 {
            let next = match (segment, &node.value) {
                (PathSegment::Key(k), Value::Map(_)) => node.get(k).map(|(_, v)| v),
                (PathSegment::Index(i), Value::Seq(items)) => items.get(*i),
                _ => None,
            };
            match next {
                Some(n) => node = n,
                None => break,
            }
        }
        node.span
    }

    /// The span of the key that introduces `path` (its last segment), if there is one.
    pub fn key_span_of(&self, path: &Path) -> Option<Span> {
        let (last, parent) = path.0.split_last()?;
        let parent = self.lookup(&Path(parent.to_vec()))?;
        match last {
            PathSegment::Key(k) => parent.get(k).map(|(key, _)| key.span),
            PathSegment::Index(_) => None,
        }
    }

    /// Converts the tree to JSON, for typed deserialization after validation.
    ///
    /// Non-finite floats have no JSON form and become `null`; the schema check has already
    /// rejected them wherever a number is expected.
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::Str(s) => serde_json::Value::String(s.clone()),
            Value::Seq(items) => {
                serde_json::Value::Array(items.iter().map(Node::to_json).collect())
            }
            Value::Map(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.name.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// Visits every node depth-first with its path.
    pub fn walk<'a>(
        &'a self,
        path: &Path,
        visit: &mut dyn FnMut(&Path, Option<&'a Key>, &'a Node),
    ) {
        // One path, extended and cut back as the walk goes: a copy per node cost more than the
        // visits of a spec listing 190,000 users.
        let mut path = path.clone();
        self.walk_inner(&mut path, None, visit);
    }

    fn walk_inner<'a>(
        &'a self,
        path: &mut Path,
        key: Option<&'a Key>,
        visit: &mut dyn FnMut(&Path, Option<&'a Key>, &'a Node),
    ) {
        visit(path, key, self);
        match &self.value {
            Value::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.0.push(PathSegment::Index(i));
                    item.walk_inner(path, None, visit);
                    path.0.pop();
                }
            }
            Value::Map(entries) => {
                for (k, v) in entries {
                    path.0.push(PathSegment::Key(k.name.clone()));
                    v.walk_inner(path, Some(k), visit);
                    path.0.pop();
                }
            }
            _ => {}
        }
    }
}
