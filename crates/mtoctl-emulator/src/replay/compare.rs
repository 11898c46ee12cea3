//! Comparing a recorded answer with the replayed one by shape, and learning bindings on the way.
//!
//! Shape means: a member present in one answer and not the other (a JSON pointer), a value of
//! another JSON type (`null` is a type of its own), an array of another length. Values are not
//! compared: ids, names and times differ by nature. Arrays are compared item by item up to the
//! shorter length.
//!
//! Where both answers have a string at the same place, the recorded one may be a pseudonym
//! standing for what the replay answered there, an id Graph made: a whole-string id pseudonym
//! (a GUID's, with or without hyphens, or an opaque id's `idN`); the GUIDs of a string that is
//! otherwise the same (`MTO_Sync_<id>`, a job id's `Azure2Azure.<hex>.<hex>`); the GUIDs in the
//! path of a URL (`@odata.nextLink`, a `Location` header), in order, and its
//! `$skiptoken`/`$deltatoken` value. Those are bound ([`Substitutions::learn_id`]) so that later
//! requests use the replay's own ids and tokens. Names, UPNs and domains are never bound by
//! position: they come from the key file.

use serde::Serialize;
use serde_json::Value;

use crate::odata::percent_decode;

use super::pseudonyms::{Substitutions, is_id_pseudonym, is_token_pseudonym};

/// A JSON type, as differences name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JsonType {
    /// `null` (or no body).
    Null,
    /// `true` or `false`.
    Boolean,
    /// A number.
    Number,
    /// A string.
    String,
    /// An array.
    Array,
    /// An object.
    Object,
}

impl JsonType {
    /// The type of `v`.
    pub fn of(v: &Value) -> Self {
        match v {
            Value::Null => Self::Null,
            Value::Bool(_) => Self::Boolean,
            Value::Number(_) => Self::Number,
            Value::String(_) => Self::String,
            Value::Array(_) => Self::Array,
            Value::Object(_) => Self::Object,
        }
    }

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Boolean => "boolean",
            Self::Number => "number",
            Self::String => "string",
            Self::Array => "array",
            Self::Object => "object",
        }
    }
}

/// One difference of shape, at a JSON pointer of the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShapeDifference {
    /// A member only the recorded answer has.
    OnlyInRecording(String),
    /// A member only the replayed answer has.
    OnlyInReplay(String),
    /// Another JSON type.
    Type {
        /// Where.
        pointer: String,
        /// The recorded value's type.
        recorded: JsonType,
        /// The replayed value's type.
        replayed: JsonType,
    },
    /// An array of another length.
    Length {
        /// Where.
        pointer: String,
        /// The recorded array's length.
        recorded: usize,
        /// The replayed array's length.
        replayed: usize,
    },
}

/// Compares two bodies by shape, binding pseudonyms of the recorded one on the way.
pub fn compare(
    recorded: &Value,
    replayed: &Value,
    subs: &mut Substitutions,
) -> Vec<ShapeDifference> {
    let mut out = Vec::new();
    let mut pointer = String::new();
    walk(recorded, replayed, &mut pointer, subs, &mut out);
    out
}

fn walk(
    recorded: &Value,
    replayed: &Value,
    pointer: &mut String,
    subs: &mut Substitutions,
    out: &mut Vec<ShapeDifference>,
) {
    match (recorded, replayed) {
        (Value::Object(r), Value::Object(p)) => {
            for (k, rv) in r {
                let len = pointer.len();
                push_token(pointer, k);
                match p.get(k) {
                    Some(pv) => walk(rv, pv, pointer, subs, out),
                    None => out.push(ShapeDifference::OnlyInRecording(pointer.clone())),
                }
                pointer.truncate(len);
            }
            for k in p.keys().filter(|k| !r.contains_key(*k)) {
                let len = pointer.len();
                push_token(pointer, k);
                out.push(ShapeDifference::OnlyInReplay(pointer.clone()));
                pointer.truncate(len);
            }
        }
        (Value::Array(r), Value::Array(p)) => {
            if r.len() != p.len() {
                out.push(ShapeDifference::Length {
                    pointer: pointer.clone(),
                    recorded: r.len(),
                    replayed: p.len(),
                });
            }
            for (i, (rv, pv)) in r.iter().zip(p).enumerate() {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&i.to_string());
                walk(rv, pv, pointer, subs, out);
                pointer.truncate(len);
            }
        }
        (Value::String(r), Value::String(p)) => bind_string(r, p, subs),
        (r, p) if JsonType::of(r) != JsonType::of(p) => out.push(ShapeDifference::Type {
            pointer: pointer.clone(),
            recorded: JsonType::of(r),
            replayed: JsonType::of(p),
        }),
        _ => {}
    }
}

/// RFC 6901: `~` is `~0`, `/` is `~1`.
fn push_token(pointer: &mut String, key: &str) {
    pointer.push('/');
    pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
}

/// Binds what the recorded string `r` hides, given the replayed string `p` at its place: a
/// whole id pseudonym; the ids in a URL's path and its paging token; the ids inside a string
/// that is otherwise the same (`MTO_Sync_<id>`, a job's `Azure2Azure.<hex>.<hex>`).
pub fn bind_string(r: &str, p: &str, subs: &mut Substitutions) {
    if r == p {
        return;
    }
    if is_id_pseudonym(r) {
        subs.learn_id(r, p);
    } else if is_url(r) && is_url(p) {
        bind_url(r, p, subs);
    } else {
        let (rs, ps) = (id_runs(r), id_runs(p));
        if !rs.is_empty() && rs.len() == ps.len() && skeleton(r, &rs) == skeleton(p, &ps) {
            bind_runs(r, &rs, p, &ps, subs);
        }
    }
}

fn is_url(s: &str) -> bool {
    s.starts_with("https://") || s.starts_with("http://")
}

/// Binds the ids of a recorded URL's path (`Location`, `@odata.nextLink`) to the replayed
/// URL's, in order, when both have as many (their hosts differ), and its paging tokens.
pub fn bind_url(r: &str, p: &str, subs: &mut Substitutions) {
    let path = |u: &str| u.split('?').next().unwrap_or(u).to_owned();
    let (r_path, p_path) = (path(r), path(p));
    let (rs, ps) = (id_runs(&r_path), id_runs(&p_path));
    if rs.len() == ps.len() {
        bind_runs(&r_path, &rs, &p_path, &ps, subs);
    }
    for name in ["skiptoken", "deltatoken"] {
        if let (Some(rt), Some(pt)) = (query_value(r, name), query_value(p, name))
            && is_token_pseudonym(&rt)
        {
            subs.learn(&rt, &pt);
        }
    }
}

fn bind_runs(
    r: &str,
    rs: &[(usize, usize)],
    p: &str,
    ps: &[(usize, usize)],
    subs: &mut Substitutions,
) {
    for (&(ra, rb), &(pa, pb)) in rs.iter().zip(ps) {
        let (rid, pid) = (&r[ra..rb], &p[pa..pb]);
        if rid != pid && is_id_pseudonym(rid) {
            subs.learn_id(rid, pid);
        }
    }
}

/// The decoded value of query option `$name` (or `name`, `%24name`) of a URL.
fn query_value(url: &str, name: &str) -> Option<String> {
    let (_, query) = url.split_once('?')?;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        let k = percent_decode(k, true);
        (k.trim_start_matches('$').eq_ignore_ascii_case(name)).then(|| percent_decode(v, true))
    })
}

/// The byte ranges of the GUIDs in `s`, with hyphens (36 characters) or without (32 hex
/// digits), each standing as a word.
fn id_runs(s: &str) -> Vec<(usize, usize)> {
    let b = s.as_bytes();
    let word = |i: usize| i < b.len() && b[i].is_ascii_alphanumeric();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if (i > 0 && word(i - 1)) || !b[i].is_ascii_hexdigit() {
            i += 1;
            continue;
        }
        let found = [36, 32].into_iter().find(|&len| {
            i + len <= b.len()
                && !word(i + len)
                && s.is_char_boundary(i + len)
                && (if len == 36 {
                    crate::ids::is_guid(&s[i..i + len])
                } else {
                    b[i..i + len].iter().all(u8::is_ascii_hexdigit)
                })
        });
        match found {
            Some(len) => {
                out.push((i, i + len));
                i += len;
            }
            None => i += 1,
        }
    }
    out
}

/// `s` with its id runs left out, for comparing two strings but for their ids.
fn skeleton<'a>(s: &'a str, runs: &[(usize, usize)]) -> Vec<&'a str> {
    let mut parts = Vec::with_capacity(runs.len() + 1);
    let mut at = 0;
    for &(a, b) in runs {
        parts.push(&s[at..a]);
        at = b;
    }
    parts.push(&s[at..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shape_differences_and_bindings() {
        let mut subs = Substitutions::new(None);
        let recorded = json!({
            "id": "00000000-0000-4000-8000-00000000000a",
            "a/b": 1,
            "gone": true,
            "kind": "x",
            "list": [{"x": 1}, {"x": 2}],
            "@odata.nextLink": "https://graph.microsoft.com/v1.0/users?$top=1&$skiptoken=token3",
        });
        let replayed = json!({
            "id": "0f0f0f0f-1111-4222-8333-444444444444",
            "a/b": 2,
            "kind": null,
            "new": 1,
            "list": [{"x": 1, "y": 0}],
            "@odata.nextLink": "http://127.0.0.1/v1.0/users?$top=1&$skiptoken=UkVQTEFZ%3D",
        });
        let found = compare(&recorded, &replayed, &mut subs);
        assert_eq!(
            found,
            vec![
                ShapeDifference::OnlyInRecording("/gone".into()),
                ShapeDifference::Type {
                    pointer: "/kind".into(),
                    recorded: JsonType::String,
                    replayed: JsonType::Null
                },
                ShapeDifference::Length {
                    pointer: "/list".into(),
                    recorded: 2,
                    replayed: 1
                },
                ShapeDifference::OnlyInReplay("/list/0/y".into()),
                ShapeDifference::OnlyInReplay("/new".into()),
            ]
        );
        assert_eq!(
            subs.lookup("00000000-0000-4000-8000-00000000000a"),
            Some("0f0f0f0f-1111-4222-8333-444444444444")
        );
        assert_eq!(subs.lookup("token3"), Some("UkVQTEFZ="));
    }

    #[test]
    fn ids_inside_a_string_otherwise_the_same_are_bound_in_both_forms() {
        let mut subs = Substitutions::new(None);
        let recorded = json!({"id": "Azure2Azure.00000000000040008000000000000028.00000000000040008000000000000029"});
        let replayed = json!({"id": "Azure2Azure.0f0f0f0f11114222833344444444444a.0f0f0f0f11114222833344444444444b"});
        assert!(compare(&recorded, &replayed, &mut subs).is_empty());
        assert_eq!(
            subs.lookup("00000000000040008000000000000028"),
            Some("0f0f0f0f11114222833344444444444a")
        );
        // The hyphenated form of the same GUID, as another answer names it.
        assert_eq!(
            subs.lookup("00000000-0000-4000-8000-000000000029"),
            Some("0f0f0f0f-1111-4222-8333-44444444444b")
        );
        // Another skeleton: nothing bound.
        let mut subs = Substitutions::new(None);
        bind_string(
            "MTO_Sync_00000000-0000-4000-8000-000000000001",
            "Other_0f0f0f0f-1111-4222-8333-444444444444",
            &mut subs,
        );
        assert_eq!(subs.learned(), 0);
    }

    #[test]
    fn location_guids_are_bound_in_order() {
        let mut subs = Substitutions::new(None);
        bind_url(
            "https://graph.microsoft.com/v1.0/servicePrincipals/00000000-0000-4000-8000-000000000007",
            "http://127.0.0.1/v1.0/servicePrincipals/0f0f0f0f-1111-4222-8333-444444444444",
            &mut subs,
        );
        assert_eq!(
            subs.lookup("00000000-0000-4000-8000-000000000007"),
            Some("0f0f0f0f-1111-4222-8333-444444444444")
        );
    }
}
