//! Entities with only the properties a query needs: built that way ([`Props`]) or cut down to
//! `$select` or the default properties ([`project`]).

use serde_json::{Map, Value};

/// An entity's properties, built with only those a query needs ([`QueryOptions::needs`]): a
/// value is made only when its property is wanted (a lookup of 15 users selects four of their
/// twenty properties; a list of assignments five of nine).
///
/// [`QueryOptions::needs`]: super::QueryOptions::needs
pub struct Props<N> {
    map: Map<String, Value>,
    needs: N,
}

impl<N: Fn(&str) -> bool> Props<N> {
    /// No properties yet; `needs` says which to keep.
    pub fn new(needs: N) -> Self {
        Self {
            map: Map::new(),
            needs,
        }
    }

    /// Adds `key` with the value `value` makes, if it is needed.
    pub fn put(&mut self, key: &str, value: impl FnOnce() -> Value) {
        if (self.needs)(key) {
            self.map.insert(key.to_owned(), value());
        }
    }

    /// The properties put.
    pub fn into_map(self) -> Map<String, Value> {
        self.map
    }
}

/// Apply `$select` (or the default property list) to one entity. The entity is given up: what
/// is kept is moved, not copied (a page may hold thousands of entities).
pub fn project(
    mut full: Map<String, Value>,
    select: Option<&[String]>,
    defaults: Option<&[&str]>,
) -> Map<String, Value> {
    match (select, defaults) {
        // Kept in place: the map orders its keys itself, so what is left is what a new map
        // built from the selected entries would be, without moving every entry again.
        (Some(sel), _)
            if full
                .keys()
                .all(|k| sel.iter().any(|s| s.eq_ignore_ascii_case(k))) =>
        {
            full
        }
        (Some(sel), _) => {
            let mut m = Map::new();
            for s in sel {
                // `$select` names are case-insensitive; items are keyed as Graph spells them.
                let key = match full.contains_key(s.as_str()) {
                    true => Some(s.clone()),
                    false => full.keys().find(|k| k.eq_ignore_ascii_case(s)).cloned(),
                };
                if let Some((k, v)) = key.and_then(|k| full.remove_entry(&k)) {
                    m.insert(k, v);
                }
            }
            m
        }
        (None, Some(defs)) => defs.iter().filter_map(|d| full.remove_entry(*d)).collect(),
        (None, None) => full,
    }
}
