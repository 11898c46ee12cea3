//! Ids an earlier run saw in each tenant: its sync configurations' service principals and their
//! jobs, kept between runs (`.mtoctl/known-ids.json` beside the spec) so that the next read
//! can ask for a configuration's jobs, assignments and schemas beside the read that finds it,
//! instead of after it.
//!
//! They decide nothing: a read uses what it asked for ahead only for a configuration its own
//! list found with the same id, and only for jobs it found with the same ids; an id that does
//! not match costs the round trips it was meant to save, and nothing else. This is not a state
//! file: Graph is still read in full on every plan. No secret is ever kept here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::TenantId;
use crate::{DesiredState, ObservedState};

/// The version of the file's format; a file of another version is not read.
pub const KNOWN_IDS_FORMAT_VERSION: u32 = 1;
/// At most this many tenants are kept, those seen most recently.
pub const MAX_TENANTS: usize = 5_000;
/// At most this many configurations per tenant, and jobs per configuration.
pub const MAX_CONFIGURATIONS: usize = 1_000;
/// See [`MAX_CONFIGURATIONS`].
pub const MAX_JOBS: usize = 8;
/// An id longer than this is not a Graph id (object ids are 36 characters, job ids under 100).
const MAX_ID_LEN: usize = 200;

/// Ids seen per tenant id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownIds {
    /// Always [`KNOWN_IDS_FORMAT_VERSION`].
    pub format_version: u32,
    /// By tenant id.
    pub tenants: BTreeMap<TenantId, KnownTenant>,
}

impl Default for KnownIds {
    fn default() -> Self {
        Self {
            format_version: KNOWN_IDS_FORMAT_VERSION,
            tenants: BTreeMap::new(),
        }
    }
}

/// What was seen in one tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownTenant {
    /// When it was last read or written, in seconds since the Unix epoch.
    pub seen_unix_s: u64,
    /// Its sync configurations that a spec declared.
    pub configurations: Vec<KnownConfiguration>,
}

/// One sync configuration and its jobs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownConfiguration {
    /// Its display name, lowercased (as the spec's `name` is matched).
    pub name: String,
    /// Its service principal's object id.
    pub service_principal_id: String,
    /// Its jobs' ids.
    pub job_ids: Vec<String>,
}

impl KnownIds {
    /// The configurations seen in `tenant` whose names are among `names` (lowercased).
    pub fn configurations<'a>(
        &'a self,
        tenant: &TenantId,
        names: &'a std::collections::BTreeSet<String>,
    ) -> impl Iterator<Item = &'a KnownConfiguration> + 'a {
        self.tenants
            .get(tenant)
            .into_iter()
            .flat_map(|t| &t.configurations)
            .filter(move |c| names.contains(&c.name))
    }

    /// What a read of every tenant of `desired` found, in place of what was known of the
    /// configurations the spec declares (those it read the details of), with their jobs; what
    /// is known of other configurations (another spec's) is kept.
    pub fn learn_observed(&mut self, desired: &DesiredState, observed: &ObservedState, now_s: u64) {
        for tenant in &desired.tenants {
            let Some(seen) = observed.tenants.get(&tenant.alias) else {
                continue;
            };
            let declared: std::collections::BTreeSet<String> = desired
                .syncs
                .iter()
                .filter(|s| s.from == tenant.alias)
                .map(|s| s.name.to_lowercase())
                .collect();
            let t = self.tenants.entry(tenant.tenant_id.clone()).or_default();
            t.seen_unix_s = now_s;
            t.configurations.retain(|c| !declared.contains(&c.name));
            t.configurations
                .extend(seen.sync_configurations.iter().filter_map(|c| {
                    let details = c.details.as_ref()?;
                    Some(KnownConfiguration {
                        name: c.display_name.to_lowercase(),
                        service_principal_id: c.service_principal_id.clone(),
                        job_ids: details.jobs.iter().map(|j| j.id.clone()).collect(),
                    })
                }));
        }
        self.bound();
    }

    /// A configuration named `name` made (or adopted) in `tenant` with service principal
    /// `service_principal_id`; another of the same name is forgotten.
    pub fn learn_configuration(
        &mut self,
        tenant: &TenantId,
        name: &str,
        service_principal_id: &str,
        now_s: u64,
    ) {
        let name = name.to_lowercase();
        let t = self.tenants.entry(tenant.clone()).or_default();
        t.seen_unix_s = now_s;
        if t.configurations
            .iter()
            .any(|c| c.name == name && c.service_principal_id == service_principal_id)
        {
            return;
        }
        t.configurations.retain(|c| c.name != name);
        t.configurations.push(KnownConfiguration {
            name,
            service_principal_id: service_principal_id.to_owned(),
            job_ids: Vec::new(),
        });
        self.bound();
    }

    /// A job made for the configuration named `name` in `tenant`; nothing when no
    /// configuration of that name is known.
    pub fn learn_job(&mut self, tenant: &TenantId, name: &str, job_id: &str) {
        let name = name.to_lowercase();
        let Some(t) = self.tenants.get_mut(tenant) else {
            return;
        };
        for c in t.configurations.iter_mut().filter(|c| c.name == name) {
            if !c.job_ids.iter().any(|j| j == job_id) {
                c.job_ids.push(job_id.to_owned());
            }
        }
        self.bound();
    }

    /// What was read from a file: `None` for another format version; every id that could
    /// not be a Graph id dropped (ids go into request paths), and the counts bounded.
    pub fn checked(mut self) -> Option<Self> {
        if self.format_version != KNOWN_IDS_FORMAT_VERSION {
            return None;
        }
        for t in self.tenants.values_mut() {
            t.configurations
                .retain(|c| plausible_id(&c.service_principal_id) && c.name.len() <= 256);
            for c in &mut t.configurations {
                c.job_ids.retain(|j| plausible_id(j));
            }
        }
        self.bound();
        Some(self)
    }

    /// At most [`MAX_TENANTS`] tenants (the most recently seen), [`MAX_CONFIGURATIONS`]
    /// configurations each and [`MAX_JOBS`] jobs per configuration.
    fn bound(&mut self) {
        if self.tenants.len() > MAX_TENANTS {
            let mut seen: Vec<u64> = self.tenants.values().map(|t| t.seen_unix_s).collect();
            seen.sort_unstable_by(|a, b| b.cmp(a));
            let oldest_kept = seen[MAX_TENANTS - 1];
            self.tenants.retain(|_, t| t.seen_unix_s >= oldest_kept);
            // Ties at the limit: keep the first in id order.
            while self.tenants.len() > MAX_TENANTS {
                let Some(last) = self
                    .tenants
                    .iter()
                    .rev()
                    .find(|(_, t)| t.seen_unix_s == oldest_kept)
                    .map(|(id, _)| id.clone())
                else {
                    break;
                };
                self.tenants.remove(&last);
            }
        }
        for t in self.tenants.values_mut() {
            t.configurations.truncate(MAX_CONFIGURATIONS);
            for c in &mut t.configurations {
                c.job_ids.truncate(MAX_JOBS);
            }
        }
    }
}

/// Letters, digits, `-`, `.` and `_`, as Graph's object and job ids are; nothing that could
/// change a request's path or query.
fn plausible_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        && !id.starts_with('.')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::Guid;

    fn tenant(n: u8) -> TenantId {
        TenantId(
            Guid::parse(&format!("00000000-0000-0000-0000-0000000000{n:02x}")).expect("a guid"),
        )
    }

    #[test]
    fn ids_that_could_change_a_request_are_dropped_on_reading() {
        let mut known = KnownIds::default();
        known.learn_configuration(
            &tenant(1),
            "To B",
            "11111111-2222-3333-4444-555555555555",
            1,
        );
        known.learn_configuration(&tenant(1), "Evil", "x/../../users?$top=1", 1);
        known.learn_job(&tenant(1), "to b", "Azure2Azure.abc.def");
        known.learn_job(&tenant(1), "To B", "../x");
        let text = serde_json::to_string(&known).expect("serialises");
        let read: KnownIds = serde_json::from_str(&text).expect("reads");
        let read = read.checked().expect("same version");
        let configurations = &read.tenants[&tenant(1)].configurations;
        assert_eq!(configurations.len(), 1, "{configurations:?}");
        assert_eq!(configurations[0].name, "to b");
        assert_eq!(configurations[0].job_ids, ["Azure2Azure.abc.def"]);
    }

    #[test]
    fn another_format_version_is_not_read() {
        let known = KnownIds {
            format_version: 2,
            ..KnownIds::default()
        };
        assert!(known.checked().is_none());
    }

    #[test]
    fn a_configuration_made_again_replaces_the_one_of_its_name() {
        let mut known = KnownIds::default();
        known.learn_configuration(&tenant(1), "A", "sp-1", 1);
        known.learn_job(&tenant(1), "A", "job-1");
        known.learn_configuration(&tenant(1), "a", "sp-1", 2);
        assert_eq!(
            known.tenants[&tenant(1)].configurations[0].job_ids,
            ["job-1"]
        );
        known.learn_configuration(&tenant(1), "a", "sp-2", 3);
        let configurations = &known.tenants[&tenant(1)].configurations;
        assert_eq!(configurations.len(), 1);
        assert_eq!(configurations[0].service_principal_id, "sp-2");
        assert!(configurations[0].job_ids.is_empty());
    }

    #[test]
    fn the_most_recently_seen_tenants_are_kept() {
        let mut known = KnownIds::default();
        for n in 0..=255u8 {
            known.tenants.insert(
                tenant(n),
                KnownTenant {
                    seen_unix_s: u64::from(n),
                    configurations: Vec::new(),
                },
            );
        }
        // Past the limit by way of a file: `checked` bounds what it reads.
        let mut many = known.clone();
        for n in 0..MAX_TENANTS {
            let id = TenantId(
                Guid::parse(&format!("10000000-0000-0000-0000-{n:012x}")).expect("a guid"),
            );
            many.tenants.insert(
                id,
                KnownTenant {
                    seen_unix_s: 1_000,
                    configurations: Vec::new(),
                },
            );
        }
        let many = many.checked().expect("same version");
        assert_eq!(many.tenants.len(), MAX_TENANTS);
        assert!(many.tenants.values().all(|t| t.seen_unix_s == 1_000));
    }
}
