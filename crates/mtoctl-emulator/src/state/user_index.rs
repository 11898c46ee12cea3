//! A lookup index of one tenant's users by object id and by UPN, both
//! ASCII-lower-cased (Graph matches them case-insensitively, and the generic
//! `$filter` compares strings with `eq_ignore_ascii_case`).
//!
//! It is a cache, never persisted or compared: it knows the tenant state it
//! was brought up to date with by `(users.len(), change_seq)`. Users are only
//! ever appended (soft deletion keeps them), and every change to a user
//! stamps it with a new change sequence number (delta queries rely on that
//! too), so catching up means indexing the users past the old length or
//! stamped after the old sequence number: a scan of integers, not a rebuild.
//! Anything else (fewer users, an older sequence number) rebuilds it. A stale
//! index is never consulted: [`UserIndex::positions`] answers `None`.
//!
//! A user re-indexed after a change keeps its old entries too; they can only
//! name a user that no longer matches, and [`UserIndex::positions`] checks
//! every user it names against the value, so what remains is exact.

use std::collections::HashMap;

use super::User;

/// Which key to look users up by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserKey {
    /// Object id.
    Id,
    /// `userPrincipalName`.
    Upn,
}

impl UserKey {
    /// The value of this key on `u`.
    pub fn of(self, u: &User) -> &str {
        match self {
            UserKey::Id => &u.id,
            UserKey::Upn => &u.user_principal_name,
        }
    }
}

/// Positions in `Tenant::users` by lower-cased id and UPN.
#[derive(Clone, Default)]
pub struct UserIndex {
    /// `(users.len(), change_seq)` the maps were built for; `None` = never built.
    stamp: Option<(usize, u64)>,
    by_id: HashMap<String, Vec<usize>>,
    by_upn: HashMap<String, Vec<usize>>,
}

// Hand-written: a derived Debug would print every entry of a 100,000-user tenant.
impl std::fmt::Debug for UserIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserIndex")
            .field("stamp", &self.stamp)
            .finish_non_exhaustive()
    }
}

impl UserIndex {
    /// Bring the index up to date with `users` and the tenant's `change_seq`.
    pub fn refresh(&mut self, users: &[User], change_seq: u64) {
        let stamp = (users.len(), change_seq);
        match self.stamp {
            Some(seen) if seen == stamp => return,
            Some((len, seq)) if len <= users.len() && seq <= change_seq => {
                for (i, u) in users.iter().enumerate() {
                    if i >= len || u.changed_seq > seq {
                        self.insert(i, u);
                    }
                }
            }
            _ => {
                self.by_id.clear();
                self.by_upn.clear();
                for (i, u) in users.iter().enumerate() {
                    self.insert(i, u);
                }
            }
        }
        self.stamp = Some(stamp);
    }

    fn insert(&mut self, i: usize, u: &User) {
        for (map, value) in [
            (&mut self.by_id, &u.id),
            (&mut self.by_upn, &u.user_principal_name),
        ] {
            let at = map.entry(value.to_ascii_lowercase()).or_default();
            if !at.contains(&i) {
                at.push(i);
            }
        }
    }

    /// Ascending, deduplicated positions of the users whose `key` equals one
    /// of `values` ignoring ASCII case; `None` when the index is not up to
    /// date with this `users`/`change_seq` (the caller must scan instead).
    pub fn positions<'v>(
        &self,
        users: &[User],
        change_seq: u64,
        key: UserKey,
        values: impl IntoIterator<Item = &'v str>,
    ) -> Option<Vec<usize>> {
        if self.stamp != Some((users.len(), change_seq)) {
            return None;
        }
        let map = match key {
            UserKey::Id => &self.by_id,
            UserKey::Upn => &self.by_upn,
        };
        let mut out = Vec::new();
        for v in values {
            let named = map.get(&v.to_ascii_lowercase()).into_iter().flatten();
            out.extend(named.copied().filter(|&i| {
                users
                    .get(i)
                    .is_some_and(|u| key.of(u).eq_ignore_ascii_case(v))
            }));
        }
        out.sort_unstable();
        out.dedup();
        Some(out)
    }
}
