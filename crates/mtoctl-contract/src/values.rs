//! Checking a JSON value against a type of the metadata, for request bodies and answers.

use serde_json::{Map, Value};

use crate::PARTIAL_DEFAULT_TYPES;
use crate::model::{EnumType, Kind, Member, Model, TypeRef};
use crate::path::cast_name;

/// Whether a value is being sent (request body) or received (answer).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Request,
    Answer,
}

/// One `$expand` item, with the options that shape the expanded values.
#[derive(Debug, Clone, Default)]
pub(crate) struct Expand {
    pub name: String,
    pub select: Option<Vec<String>>,
    pub expand: Vec<Expand>,
}

/// Which non-nullable properties an answer object must carry.
#[derive(Clone, Copy)]
pub(crate) enum Required<'s> {
    /// Every non-nullable collection, primitive or enum property (no `$select`).
    All,
    /// Only those among these names (`$select`).
    Selected(&'s [String]),
    /// None (request bodies; delta answers).
    Nothing,
}

/// How an object should look: what must be present and what was expanded.
#[derive(Clone, Copy)]
pub(crate) struct Shape<'s> {
    pub required: Required<'s>,
    pub expand: &'s [Expand],
}

impl Shape<'_> {
    pub const FULL: Shape<'static> = Shape {
        required: Required::All,
        expand: &[],
    };
    pub const LOOSE: Shape<'static> = Shape {
        required: Required::Nothing,
        expand: &[],
    };
}

/// Collects problems found in values.
pub(crate) struct Checker<'a> {
    pub model: &'a Model,
    pub mode: Mode,
    /// Answers of a `delta` function: `@removed` and `prop@delta` are allowed, and objects may be
    /// partial (Graph sends only what changed).
    pub delta: bool,
    pub problems: Vec<String>,
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// 8-4-4-4-12 hexadecimal digits.
pub(crate) fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl<'a> Checker<'a> {
    pub fn new(model: &'a Model, mode: Mode) -> Checker<'a> {
        Checker {
            model,
            mode,
            delta: false,
            problems: Vec::new(),
        }
    }

    fn fork(&self) -> Checker<'a> {
        Checker {
            model: self.model,
            mode: self.mode,
            delta: self.delta,
            problems: Vec::new(),
        }
    }

    /// A value of `ty` (a collection when `ty.collection`); `nullable` from the declaration.
    pub fn value(&mut self, path: &str, ty: &TypeRef, nullable: bool, v: &Value, shape: Shape<'_>) {
        if v.is_null() {
            if !nullable {
                self.problems.push(format!(
                    "{path} is null, but it is not nullable ({})",
                    written(ty)
                ));
            }
            return;
        }
        if !ty.collection {
            self.single(path, &ty.name, v, shape);
            return;
        }
        let Some(items) = v.as_array() else {
            self.problems.push(format!(
                "{path} must be an array ({}), got {}",
                written(ty),
                json_kind(v)
            ));
            return;
        };
        for (i, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            if item.is_null() {
                if !nullable {
                    self.problems.push(format!(
                        "{item_path} is null, but the elements of {} are not nullable",
                        written(ty)
                    ));
                }
                continue;
            }
            self.single(&item_path, &ty.name, item, shape);
        }
    }

    /// A single (non-null) value of the type named `name`.
    pub fn single(&mut self, path: &str, name: &str, v: &Value, shape: Shape<'_>) {
        match self.model.kind(name) {
            Kind::Primitive => self.primitive(path, name, v),
            Kind::Enum(e) => self.enumeration(path, name, e, v),
            Kind::Structured => self.object(path, name, v, shape),
            Kind::Unknown => {}
        }
    }

    fn primitive(&mut self, path: &str, name: &str, v: &Value) {
        let expected = match name {
            "Edm.String" | "Edm.DateTimeOffset" | "Edm.Duration" | "Edm.Date" | "Edm.Binary"
            | "Edm.TimeOfDay" => {
                if v.is_string() {
                    return;
                }
                "a string"
            }
            "Edm.Guid" => match v.as_str() {
                Some(s) if is_guid(s) => return,
                Some(s) => {
                    self.problems
                        .push(format!("{path}: `{s}` is not a GUID (Edm.Guid)"));
                    return;
                }
                None => "a string holding a GUID",
            },
            "Edm.Boolean" => {
                if v.is_boolean() {
                    return;
                }
                "a boolean"
            }
            "Edm.Byte" | "Edm.SByte" | "Edm.Int16" | "Edm.Int32" | "Edm.Int64" => {
                let (min, max): (i128, i128) = match name {
                    "Edm.Byte" => (0, 255),
                    "Edm.SByte" => (-128, 127),
                    "Edm.Int16" => (i16::MIN.into(), i16::MAX.into()),
                    "Edm.Int32" => (i32::MIN.into(), i32::MAX.into()),
                    _ => (i64::MIN.into(), i64::MAX.into()),
                };
                let n = v
                    .as_i64()
                    .map(i128::from)
                    .or_else(|| v.as_u64().map(i128::from));
                match n {
                    Some(n) if (min..=max).contains(&n) => return,
                    Some(n) => {
                        self.problems
                            .push(format!("{path}: {n} is out of range for {name}"));
                        return;
                    }
                    None => "an integer",
                }
            }
            "Edm.Double" | "Edm.Single" | "Edm.Decimal" => {
                let special =
                    name != "Edm.Decimal" && matches!(v.as_str(), Some("INF" | "-INF" | "NaN"));
                if v.is_number() || special {
                    return;
                }
                "a number"
            }
            // Edm.Stream and the rest: not carried as plain JSON values; not checked.
            _ => return,
        };
        self.problems.push(format!(
            "{path} must be {expected} ({name}), got {}",
            json_kind(v)
        ));
    }

    fn enumeration(&mut self, path: &str, name: &str, e: &EnumType, v: &Value) {
        let Some(s) = v.as_str() else {
            self.problems.push(format!(
                "{path} must be a string naming a member of enum {name}, got {}",
                json_kind(v)
            ));
            return;
        };
        let bad: Vec<&str> = if e.flags {
            s.split(',')
                .map(str::trim_start)
                .filter(|m| !e.members.iter().any(|x| x == m))
                .collect()
        } else if e.members.iter().any(|x| x == s) {
            Vec::new()
        } else {
            vec![s]
        };
        for m in bad {
            self.problems.push(format!(
                "{path}: `{m}` is not a member of {}enum {name} (members: {})",
                if e.flags { "flags " } else { "" },
                e.members.join(", ")
            ));
        }
    }

    /// An object of the entity or complex type `declared` (or of a type derived from it named by
    /// its `@odata.type`).
    pub fn object(&mut self, path: &str, declared: &str, v: &Value, shape: Shape<'_>) {
        if !self.model.types.contains_key(declared) {
            // Trimmed from the file: any value is accepted.
            return;
        }
        let Some(obj) = v.as_object() else {
            self.problems.push(format!(
                "{path} must be a JSON object ({declared}), got {}",
                json_kind(v)
            ));
            return;
        };
        let Some(ty) = self.effective_type(path, declared, obj) else {
            return;
        };
        let ty = ty.as_str();
        for (key, value) in obj {
            let key_path = format!("{path}.{key}");
            if self.annotation(path, ty, key, value) {
                continue;
            }
            let candidates = self.model.members_lenient(ty, key);
            let Some(first) = candidates.first().copied() else {
                // An open type's dynamic properties are any name with any JSON value.
                if !self.model.allows_dynamic(ty, key) {
                    self.problems
                        .push(format!("{key_path} is not a property of {ty}"));
                }
                continue;
            };
            if candidates.len() == 1 {
                self.member_value(&key_path, key, first, value, shape);
                continue;
            }
            // directoryObject: the property of any derived type that declares it may be meant.
            let mut first_problems = None;
            let mut clean = false;
            for m in candidates {
                let mut sub = self.fork();
                sub.member_value(&key_path, key, m, value, shape);
                if sub.problems.is_empty() {
                    clean = true;
                    break;
                }
                first_problems.get_or_insert(sub.problems);
            }
            if !clean {
                self.problems.extend(first_problems.unwrap_or_default());
            }
        }
        if self.mode == Mode::Answer && !self.delta {
            self.presence(path, ty, obj, shape.required);
        }
    }

    /// The type an object is checked against: `declared`, or the derived type its `@odata.type`
    /// names. `None` when the object cannot be checked (an answer naming a type trimmed from the
    /// file).
    fn effective_type(
        &mut self,
        path: &str,
        declared: &str,
        obj: &Map<String, Value>,
    ) -> Option<String> {
        let Some(annotation) = obj.get("@odata.type") else {
            return Some(declared.to_owned());
        };
        let Some(text) = annotation.as_str() else {
            self.problems.push(format!(
                "{path}.@odata.type must be a string, got {}",
                json_kind(annotation)
            ));
            return Some(declared.to_owned());
        };
        let Some(named) = cast_name(text) else {
            self.problems.push(format!(
                "{path}.@odata.type `{text}` does not name a microsoft.graph type"
            ));
            return Some(declared.to_owned());
        };
        if !self.model.types.contains_key(named) {
            if self.mode == Mode::Request {
                self.problems.push(format!(
                    "{path}.@odata.type `{text}`: no type `{named}` in the metadata"
                ));
                return Some(declared.to_owned());
            }
            return None;
        }
        if !self.model.derives_from(named, declared) {
            self.problems.push(format!(
                "{path}.@odata.type `{text}`: `{named}` does not derive from {declared}"
            ));
            return Some(declared.to_owned());
        }
        Some(named.to_owned())
    }

    /// Whether `key` is an annotation; reports it if it is one this mode does not allow.
    fn annotation(&mut self, path: &str, ty: &str, key: &str, value: &Value) -> bool {
        if key == "@odata.type" {
            return true;
        }
        match self.mode {
            Mode::Request => {
                if let Some(prop) = key.strip_suffix("@odata.bind") {
                    match self.model.members_lenient(ty, prop).first() {
                        Some(Member::Navigation(n)) => {
                            let ok = if n.ty.collection {
                                value
                                    .as_array()
                                    .is_some_and(|a| a.iter().all(Value::is_string))
                            } else {
                                value.is_string()
                            };
                            if !ok {
                                self.problems.push(format!(
                                    "{path}.{key} must be {}, got {}",
                                    if n.ty.collection {
                                        "an array of URL strings"
                                    } else {
                                        "a URL string"
                                    },
                                    json_kind(value)
                                ));
                            }
                        }
                        _ => self.problems.push(format!(
                            "{path}.{key}: `{prop}` is not a navigation property of {ty}"
                        )),
                    }
                    return true;
                }
                if key.starts_with('@') || key.contains("@odata.") {
                    self.problems.push(format!(
                        "{path}: instance annotation `{key}` is not part of a request body"
                    ));
                    return true;
                }
                false
            }
            Mode::Answer => {
                key.starts_with("@odata.")
                    || key.contains("@odata.")
                    || (self.delta && (key == "@removed" || key.ends_with("@delta")))
            }
        }
    }

    fn member_value(
        &mut self,
        path: &str,
        key: &str,
        member: Member<'_>,
        value: &Value,
        shape: Shape<'_>,
    ) {
        match member {
            Member::Property(p) => {
                self.value(path, &p.ty, p.nullable, value, Shape::FULL.or_loose(shape))
            }
            Member::Navigation(n) => {
                let nested = shape.expand.iter().find(|e| e.name == key);
                let inner = match nested {
                    Some(e) => Shape {
                        required: e
                            .select
                            .as_deref()
                            .map_or(Required::All, Required::Selected),
                        expand: &e.expand,
                    },
                    None => Shape::FULL,
                };
                self.value(path, &n.ty, true, value, inner.or_loose(shape));
            }
        }
    }

    /// Reports the non-nullable collection, primitive and enum properties an answer object lacks.
    fn presence(&mut self, path: &str, ty: &str, obj: &Map<String, Value>, required: Required<'_>) {
        let selected = match required {
            Required::Nothing => return,
            Required::Selected(names) if !names.iter().any(|n| n == "*") => Some(names),
            _ if PARTIAL_DEFAULT_TYPES.contains(&ty) => return,
            _ => None,
        };
        for (name, prop) in self.model.all_properties(ty) {
            if prop.nullable || obj.contains_key(name.as_str()) || prop.ty.name == "Edm.Stream" {
                continue;
            }
            let plain = prop.ty.collection
                || matches!(
                    self.model.kind(&prop.ty.name),
                    Kind::Primitive | Kind::Enum(_)
                );
            if !plain || selected.is_some_and(|names| !names.iter().any(|n| n == name)) {
                continue;
            }
            self.problems.push(format!(
                "{path}: non-nullable property `{name}` of {ty} missing"
            ));
        }
    }
}

impl<'s> Shape<'s> {
    /// `self`, unless the enclosing shape asks for nothing (then nothing all the way down).
    fn or_loose(self, enclosing: Shape<'_>) -> Shape<'s> {
        match enclosing.required {
            Required::Nothing => Shape {
                required: Required::Nothing,
                expand: self.expand,
            },
            _ => self,
        }
    }
}

fn written(ty: &TypeRef) -> String {
    if ty.collection {
        format!("Collection({})", ty.name)
    } else {
        ty.name.clone()
    }
}
