//! Resolving a request path (after the version segment) to what it addresses.

use crate::model::{ContainerKind, Kind, Member, Model, TypeRef};
use crate::{Target, TargetKind};

/// Decodes `%XX` escapes (a `+` stays a `+`). Malformed escapes are kept as written; bytes that
/// are not UTF-8 are replaced.
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Splits `name(args)` into its name and the text between the parentheses.
pub(crate) fn split_call(segment: &str) -> (&str, Option<&str>) {
    match segment.find('(') {
        Some(open) if open > 0 && segment.ends_with(')') => (
            &segment[..open],
            Some(&segment[open + 1..segment.len() - 1]),
        ),
        _ => (segment, None),
    }
}

/// The type named by a cast segment or an `@odata.type` value, without the prefix.
pub(crate) fn cast_name(text: &str) -> Option<&str> {
    let text = text.strip_prefix('#').unwrap_or(text);
    text.strip_prefix("microsoft.graph.")
        .or_else(|| text.strip_prefix("graph."))
}

/// Where resolution stands after some segments.
enum At {
    Collection(String),
    Entity(String),
    Property(TypeRef),
    Operation(usize),
    Count(String),
    Ref(String, bool),
    Unchecked(String),
}

impl Model {
    /// Resolves a path without its query (see [`crate::Contract::resolve`]).
    pub(crate) fn resolve(&self, path: &str) -> Result<Target, String> {
        let path = path.strip_prefix('/').unwrap_or(path);
        if path.is_empty() {
            return Err("the path names no entity set or singleton".to_owned());
        }
        let raw: Vec<&str> = path.split('/').collect();
        let mut at: Option<At> = None;
        for raw_segment in raw {
            let segment = percent_decode(raw_segment);
            if segment.is_empty() {
                return Err("the path has an empty segment".to_owned());
            }
            at = Some(match at {
                None => self.first(&segment)?,
                Some(current) => self.step(current, &segment)?,
            });
        }
        Ok(self.target(at.expect("a non-empty path has a segment")))
    }

    fn target(&self, at: At) -> Target {
        let plain = |kind, type_name: String, collection| Target {
            kind,
            type_name,
            collection,
            operation: None,
            op_index: None,
        };
        match at {
            At::Collection(t) => plain(TargetKind::EntityCollection, t, true),
            At::Entity(t) => plain(TargetKind::Entity, t, false),
            At::Property(ty) => plain(
                TargetKind::ComplexOrPrimitiveProperty,
                ty.name,
                ty.collection,
            ),
            At::Count(t) => plain(TargetKind::Count, t, false),
            At::Ref(t, collection) => plain(TargetKind::Ref, t, collection),
            At::Unchecked(t) => plain(TargetKind::Unchecked, t, false),
            At::Operation(i) => {
                let op = &self.operations[i];
                Target {
                    kind: if op.action {
                        TargetKind::Action
                    } else {
                        TargetKind::Function
                    },
                    type_name: op
                        .returns
                        .as_ref()
                        .map(|r| r.name.clone())
                        .unwrap_or_default(),
                    collection: op.returns.as_ref().is_some_and(|r| r.collection),
                    operation: Some(op.name.clone()),
                    op_index: Some(i),
                }
            }
        }
    }

    fn first(&self, segment: &str) -> Result<At, String> {
        let (name, key) = split_call(segment);
        let Some((kind, ty)) = self.container.get(name) else {
            return Err(format!("no entity set or singleton `{segment}`"));
        };
        match (kind, key) {
            (ContainerKind::EntitySet, None) => Ok(At::Collection(ty.clone())),
            (ContainerKind::EntitySet, Some(_)) => Ok(At::Entity(ty.clone())),
            (ContainerKind::Singleton, None) => Ok(At::Entity(ty.clone())),
            (ContainerKind::Singleton, Some(_)) => {
                Err(format!("`{name}` is a singleton and takes no key"))
            }
        }
    }

    fn step(&self, at: At, segment: &str) -> Result<At, String> {
        match at {
            At::Collection(t) => self.after_collection(t, segment),
            At::Entity(t) => self.after_entity(t, segment),
            At::Property(ty) => self.after_property(ty, segment),
            At::Operation(i) => Err(format!(
                "`{segment}` cannot follow {} `{}`",
                if self.operations[i].action {
                    "action"
                } else {
                    "function"
                },
                self.operations[i].name
            )),
            At::Count(_) => Err(format!("`{segment}` cannot follow `$count`")),
            At::Ref(_, _) => Err(format!("`{segment}` cannot follow `$ref`")),
            At::Unchecked(t) => Ok(At::Unchecked(t)),
        }
    }

    fn cast(&self, from: &str, segment: &str) -> Option<Result<String, String>> {
        let to = cast_name(segment)
            .filter(|_| segment.starts_with("microsoft.graph.") || segment.starts_with("graph."))?;
        Some(if !self.types.contains_key(to) {
            Err(format!(
                "type cast `{segment}`: no type `{to}` in the metadata"
            ))
        } else if !self.derives_from(to, from) {
            Err(format!(
                "type cast `{segment}`: `{to}` does not derive from {from}"
            ))
        } else {
            Ok(to.to_owned())
        })
    }

    fn after_collection(&self, t: String, segment: &str) -> Result<At, String> {
        match segment {
            "$count" => return Ok(At::Count(t)),
            "$ref" => return Ok(At::Ref(t, true)),
            _ => {}
        }
        let (name, _) = split_call(segment);
        if let Some(i) = self.operation(&t, true, name) {
            return Ok(At::Operation(i));
        }
        if let Some(cast) = self.cast(&t, segment) {
            return cast.map(At::Collection);
        }
        if segment.starts_with('$') {
            return Err(format!(
                "`{segment}` is not a key, `$count`, `$ref`, action or function of a collection of {t}"
            ));
        }
        Ok(At::Entity(t))
    }

    fn after_entity(&self, t: String, segment: &str) -> Result<At, String> {
        if !self.types.contains_key(&t) {
            // The type was trimmed from the file: nothing below it can be checked.
            return Ok(At::Unchecked(t));
        }
        if segment == "$ref" {
            return Ok(At::Ref(t, false));
        }
        if let Some(cast) = self.cast(&t, segment) {
            return cast.map(At::Entity);
        }
        let (name, args) = split_call(segment);
        if args.is_none() {
            match self.member(&t, name) {
                Some(Member::Navigation(n)) => {
                    return Ok(if n.ty.collection {
                        At::Collection(n.ty.name.clone())
                    } else {
                        At::Entity(n.ty.name.clone())
                    });
                }
                Some(Member::Property(p)) => return Ok(At::Property(p.ty.clone())),
                None => {}
            }
        } else if let Some(Member::Navigation(n)) = self.member(&t, name)
            && n.ty.collection
        {
            // `members('id')`: the key written in parentheses.
            return Ok(At::Entity(n.ty.name.clone()));
        }
        if let Some(i) = self.operation(&t, false, name) {
            let op = &self.operations[i];
            if let (Some(args), false) = (args, op.action) {
                self.check_function_args(i, args)?;
            }
            return Ok(At::Operation(i));
        }
        Err(format!(
            "`{segment}` is not a property, navigation, action or function of {t}"
        ))
    }

    fn after_property(&self, ty: TypeRef, segment: &str) -> Result<At, String> {
        if ty.collection {
            return Err(format!(
                "`{segment}` cannot follow a collection-valued property (Collection({}))",
                ty.name
            ));
        }
        match self.kind(&ty.name) {
            Kind::Structured => match self.member(&ty.name, segment) {
                Some(Member::Property(p)) => Ok(At::Property(p.ty.clone())),
                Some(Member::Navigation(n)) => Ok(if n.ty.collection {
                    At::Collection(n.ty.name.clone())
                } else {
                    At::Entity(n.ty.name.clone())
                }),
                None => Err(format!("`{segment}` is not a property of {}", ty.name)),
            },
            Kind::Unknown => Ok(At::Unchecked(ty.name)),
            Kind::Primitive | Kind::Enum(_) => Err(format!(
                "`{segment}` cannot follow a property of type {}",
                ty.name
            )),
        }
    }

    /// `f(a='x',b=1)`: every argument must be a declared parameter; strings must be quoted.
    fn check_function_args(&self, i: usize, args: &str) -> Result<(), String> {
        let op = &self.operations[i];
        for arg in split_top_level(args, ',') {
            let arg = arg.trim();
            if arg.is_empty() {
                continue;
            }
            let Some((name, value)) = arg.split_once('=') else {
                return Err(format!(
                    "function `{}`: argument `{arg}` is not written `name=value`",
                    op.name
                ));
            };
            let name = name.trim();
            let value = value.trim();
            let Some((_, ty)) = op.parameters.iter().find(|(p, _)| p == name) else {
                return Err(format!("function `{}` has no parameter `{name}`", op.name));
            };
            let quoted = value.len() >= 2 && value.starts_with('\'') && value.ends_with('\'');
            if ty.name == "Edm.String"
                && !ty.collection
                && !quoted
                && !value.starts_with('@')
                && value != "null"
            {
                return Err(format!(
                    "function `{}`: the Edm.String argument `{name}` must be in single quotes",
                    op.name
                ));
            }
        }
        Ok(())
    }
}

/// Splits on `sep` outside parentheses and single-quoted strings.
pub(crate) fn split_top_level(text: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut quoted = false;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth = depth.saturating_sub(1),
            c if c == sep && !quoted && depth == 0 => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}
