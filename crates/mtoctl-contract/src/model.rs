//! The parsed metadata file and the look-ups the checks need (base types, members, derivation).

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

/// The type of a property, parameter or return value: `T` or `Collection(T)`, without the
/// `microsoft.graph.` prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TypeRef {
    pub name: String,
    pub collection: bool,
}

impl TypeRef {
    pub fn parse(text: &str) -> TypeRef {
        let (inner, collection) = match text
            .strip_prefix("Collection(")
            .and_then(|t| t.strip_suffix(')'))
        {
            Some(inner) => (inner, true),
            None => (text, false),
        };
        let name = inner
            .strip_prefix("microsoft.graph.")
            .or_else(|| inner.strip_prefix("graph."))
            .unwrap_or(inner);
        TypeRef {
            name: name.to_owned(),
            collection,
        }
    }

    pub fn single(name: &str) -> TypeRef {
        TypeRef {
            name: name.to_owned(),
            collection: false,
        }
    }
}

/// A structural property.
#[derive(Debug, Clone)]
pub(crate) struct Property {
    pub ty: TypeRef,
    pub nullable: bool,
}

/// A navigation property.
#[derive(Debug, Clone)]
pub(crate) struct Navigation {
    pub ty: TypeRef,
}

/// An entity or complex type.
#[derive(Debug)]
pub(crate) struct Structured {
    pub base: Option<String>,
    /// An open type (`OpenType="true"`): instances may carry properties it does not declare.
    pub open: bool,
    /// An entity type (not a complex type).
    pub entity: bool,
    pub properties: BTreeMap<String, Property>,
    pub navigation: BTreeMap<String, Navigation>,
}

/// An enum type.
#[derive(Debug)]
pub(crate) struct EnumType {
    pub flags: bool,
    pub members: Vec<String>,
}

/// A bound action or function.
#[derive(Debug)]
pub(crate) struct Operation {
    pub name: String,
    pub action: bool,
    pub bound: TypeRef,
    pub parameters: Vec<(String, TypeRef)>,
    pub returns: Option<TypeRef>,
}

/// What a container name stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ContainerKind {
    EntitySet,
    Singleton,
}

/// What a type name denotes in the file.
pub(crate) enum Kind<'a> {
    Primitive,
    Enum(&'a EnumType),
    Structured,
    /// Not in the file (trimmed away): values of it are not checked.
    Unknown,
}

/// A member found on a structured type.
#[derive(Clone, Copy)]
pub(crate) enum Member<'a> {
    Property(&'a Property),
    Navigation(&'a Navigation),
}

impl Member<'_> {
    pub fn ty(&self) -> &TypeRef {
        match self {
            Member::Property(p) => &p.ty,
            Member::Navigation(n) => &n.ty,
        }
    }
}

/// The whole metadata file.
#[derive(Debug)]
pub(crate) struct Model {
    pub commit: String,
    pub container: BTreeMap<String, (ContainerKind, String)>,
    pub types: HashMap<String, Structured>,
    pub enums: HashMap<String, EnumType>,
    pub operations: Vec<Operation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawFile {
    source: RawSource,
    container: BTreeMap<String, RawContainer>,
    entity_types: BTreeMap<String, RawStructured>,
    complex_types: BTreeMap<String, RawStructured>,
    enum_types: BTreeMap<String, RawEnum>,
    actions: Vec<RawOperation>,
    functions: Vec<RawOperation>,
}

#[derive(Deserialize)]
struct RawSource {
    commit: String,
}

#[derive(Deserialize)]
struct RawContainer {
    kind: String,
    #[serde(rename = "type")]
    ty: String,
}

#[derive(Deserialize)]
struct RawStructured {
    #[serde(default)]
    base: Option<String>,
    #[serde(default)]
    open: bool,
    #[serde(default)]
    properties: BTreeMap<String, RawProperty>,
    #[serde(default)]
    navigation: BTreeMap<String, RawProperty>,
}

#[derive(Deserialize)]
struct RawProperty {
    #[serde(rename = "type")]
    ty: String,
    #[serde(default = "yes")]
    nullable: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct RawEnum {
    flags: bool,
    members: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawOperation {
    name: String,
    bound_to: String,
    #[serde(default)]
    parameters: BTreeMap<String, String>,
    #[serde(default)]
    returns: Option<String>,
}

impl RawStructured {
    fn into_structured(self, entity: bool) -> Structured {
        Structured {
            base: self.base.map(|b| TypeRef::parse(&b).name),
            open: self.open,
            entity,
            properties: self
                .properties
                .into_iter()
                .map(|(n, p)| {
                    let property = Property {
                        ty: TypeRef::parse(&p.ty),
                        nullable: p.nullable,
                    };
                    (n, property)
                })
                .collect(),
            navigation: self
                .navigation
                .into_iter()
                .map(|(n, p)| {
                    let navigation = Navigation {
                        ty: TypeRef::parse(&p.ty),
                    };
                    (n, navigation)
                })
                .collect(),
        }
    }
}

/// An overlay file: types that replace (or add to) a model's, same shape as the model file's.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawOverlay {
    source: RawSource,
    #[serde(default)]
    entity_types: BTreeMap<String, RawStructured>,
    #[serde(default)]
    complex_types: BTreeMap<String, RawStructured>,
}

impl Model {
    /// Replaces (or adds) the types an overlay file defines, whole; returns the names of the
    /// entity types it defines. The model's commit becomes the overlay's.
    pub fn overlay(&mut self, json: &str) -> Result<Vec<String>, String> {
        let raw: RawOverlay =
            serde_json::from_str(json).map_err(|e| format!("graph metadata overlay: {e}"))?;
        let entities: Vec<String> = raw.entity_types.keys().cloned().collect();
        for (entity, map) in [(true, raw.entity_types), (false, raw.complex_types)] {
            for (name, t) in map {
                self.types.insert(name, t.into_structured(entity));
            }
        }
        self.commit = raw.source.commit;
        Ok(entities)
    }

    pub fn parse(json: &str) -> Result<Model, String> {
        let raw: RawFile =
            serde_json::from_str(json).map_err(|e| format!("graph metadata: {e}"))?;
        let mut container = BTreeMap::new();
        for (name, c) in raw.container {
            let kind = match c.kind.as_str() {
                "EntitySet" => ContainerKind::EntitySet,
                "Singleton" => ContainerKind::Singleton,
                other => {
                    return Err(format!(
                        "graph metadata: container `{name}` has unknown kind `{other}`"
                    ));
                }
            };
            container.insert(name, (kind, TypeRef::parse(&c.ty).name));
        }
        let mut types = HashMap::new();
        for (entity, map) in [(true, raw.entity_types), (false, raw.complex_types)] {
            for (name, t) in map {
                types.insert(name, t.into_structured(entity));
            }
        }
        let enums = raw
            .enum_types
            .into_iter()
            .map(|(n, e)| {
                (
                    n,
                    EnumType {
                        flags: e.flags,
                        members: e.members,
                    },
                )
            })
            .collect();
        let mut operations = Vec::new();
        for (action, list) in [(true, raw.actions), (false, raw.functions)] {
            for op in list {
                operations.push(Operation {
                    name: op.name,
                    action,
                    bound: TypeRef::parse(&op.bound_to),
                    parameters: op
                        .parameters
                        .iter()
                        .map(|(n, t)| (n.clone(), TypeRef::parse(t)))
                        .collect(),
                    returns: op.returns.as_deref().map(TypeRef::parse),
                });
            }
        }
        Ok(Model {
            commit: raw.source.commit,
            container,
            types,
            enums,
            operations,
        })
    }

    pub fn kind(&self, name: &str) -> Kind<'_> {
        if name.starts_with("Edm.") {
            Kind::Primitive
        } else if let Some(e) = self.enums.get(name) {
            Kind::Enum(e)
        } else if self.types.contains_key(name) {
            Kind::Structured
        } else {
            Kind::Unknown
        }
    }

    pub fn is_known(&self, name: &str) -> bool {
        !matches!(self.kind(name), Kind::Unknown)
    }

    /// The type and its bases, most derived first (stops at a base missing from the file).
    pub fn chain<'a>(
        &'a self,
        name: &str,
    ) -> impl Iterator<Item = (&'a str, &'a Structured)> + use<'a> {
        let find = |n: &str| self.types.get_key_value(n).map(|(k, v)| (k.as_str(), v));
        let mut next = find(name);
        let mut steps = 0;
        std::iter::from_fn(move || {
            let current = next?;
            steps += 1;
            // A cycle would be a broken file; stop rather than loop.
            next = if steps > 64 {
                None
            } else {
                current.1.base.as_deref().and_then(find)
            };
            Some(current)
        })
    }

    /// Whether an instance of `ty` may carry `key` though no type of its chain declares it: an
    /// open complex type takes any name (`detailsInfo`); an open entity type (the directory
    /// objects) only directory extension properties, `extension_<appId>_<name>`, which is what
    /// makes them open.
    pub fn allows_dynamic(&self, ty: &str, key: &str) -> bool {
        let mut chain = self.chain(ty).peekable();
        let entity = chain.peek().is_some_and(|(_, t)| t.entity);
        chain.any(|(_, t)| t.open) && (!entity || key.starts_with("extension_"))
    }

    /// Whether `name` is `base` or derives (transitively) from it.
    pub fn derives_from(&self, name: &str, base: &str) -> bool {
        name == base || self.chain(name).any(|(n, _)| n == base)
    }

    /// A member declared on the type or one of its bases.
    pub fn member(&self, ty: &str, name: &str) -> Option<Member<'_>> {
        self.chain(ty).find_map(|(_, t)| {
            t.properties
                .get(name)
                .map(Member::Property)
                .or_else(|| t.navigation.get(name).map(Member::Navigation))
        })
    }

    /// Members named `name` visible on `ty`: its own (and its bases'), and when `ty` is
    /// `directoryObject`, those of every type in the file that derives from it (a list of
    /// directory objects holds users, groups, service principals ...). Own declaration first.
    pub fn members_lenient(&self, ty: &str, name: &str) -> Vec<Member<'_>> {
        let mut found: Vec<Member<'_>> = self.member(ty, name).into_iter().collect();
        if found.is_empty() && ty == crate::DIRECTORY_OBJECT {
            let mut derived: Vec<&str> = self
                .types
                .keys()
                .map(String::as_str)
                .filter(|n| *n != ty && self.derives_from(n, ty))
                .collect();
            derived.sort_unstable();
            for d in derived {
                if let Some(m) = self.member(d, name) {
                    found.push(m);
                }
            }
        }
        found
    }

    /// Every structural property of the type, its bases' included (most derived first).
    pub fn all_properties<'a>(
        &'a self,
        ty: &str,
    ) -> impl Iterator<Item = (&'a String, &'a Property)> + use<'a> {
        self.chain(ty).flat_map(|(_, t)| t.properties.iter())
    }

    /// The operation named `name` bound to `ty` (or a base of it), to a collection of it when
    /// `collection`. An exact binding wins over a base's.
    pub fn operation(&self, ty: &str, collection: bool, name: &str) -> Option<usize> {
        self.chain(ty).find_map(|(bound, _)| {
            self.operations.iter().position(|op| {
                op.name == name && op.bound.collection == collection && op.bound.name == bound
            })
        })
    }
}
