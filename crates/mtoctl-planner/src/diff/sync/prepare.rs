//! Each declared sync's scope and job schema worked out before the diff walks the syncs in
//! order. Resolving a mesh's names and matching them with the assignments is most of a plan's
//! work and needs only the spec and the observation, so a large one is split over two threads;
//! the diff's drafts and notes stay in one order, made on one thread.

use mtoctl_model::desired::SyncSpec;
use mtoctl_model::observed::{Fingerprint, SyncJobObservation};
use mtoctl_model::plan::fingerprint::{self, SchemaParts};
use mtoctl_model::{DesiredState, ObservedState};

use super::scope;

/// Scope entries and assignments, over all syncs, from which the work is split in two: below
/// it, a thread costs more than it saves.
const SPLIT_ITEMS: usize = 20_000;

/// What one sync's diff needs of its configuration's one job, worked out ahead.
pub(super) struct Prepared<'a> {
    /// The job it was prepared for.
    pub job: &'a SyncJobObservation,
    /// The scope against the job's configuration's assignments.
    pub scope: scope::Prepared<'a>,
    /// The job's schema as the planner compares it, and its fingerprint.
    pub schema: (SchemaParts, Fingerprint),
}

/// For each of `desired`'s syncs in order, what its diff needs, when its source tenant has one
/// configuration of its name with one job read; `None` otherwise (the diff then works out what
/// it needs itself).
pub(super) fn all<'a>(
    desired: &'a DesiredState,
    observed: &'a ObservedState,
) -> Vec<Option<Prepared<'a>>> {
    all_split(desired, observed, SPLIT_ITEMS)
}

/// [`all`], in two halves from `split_items` on.
fn all_split<'a>(
    desired: &'a DesiredState,
    observed: &'a ObservedState,
    split_items: usize,
) -> Vec<Option<Prepared<'a>>> {
    let syncs = &desired.syncs;
    let items = |s: &SyncSpec| {
        s.scope.users.len()
            + s.scope.groups.len()
            + job_of(observed, s).map_or(0, |(_, d)| d.assignments.len())
    };
    let total: usize = syncs.iter().map(items).sum();
    let one = |s: &'a SyncSpec| prepare(observed, s);
    if total < split_items {
        return syncs.iter().map(one).collect();
    }
    // The first sync past half the items starts the second half.
    let mut seen = 0;
    let half = syncs
        .iter()
        .position(|s| {
            seen += items(s);
            2 * seen >= total
        })
        .map_or(syncs.len(), |i| i + 1);
    let (first, second) = syncs.split_at(half);
    std::thread::scope(|threads| {
        let later = std::thread::Builder::new()
            .name("plan-syncs".into())
            .spawn_scoped(threads, move || second.iter().map(one).collect::<Vec<_>>());
        let mut out: Vec<_> = first.iter().map(one).collect();
        match later {
            Ok(later) => out.extend(
                later
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            ),
            // No thread: this one does the rest.
            Err(_) => out.extend(second.iter().map(one)),
        }
        out
    })
}

fn prepare<'a>(observed: &'a ObservedState, s: &'a SyncSpec) -> Option<Prepared<'a>> {
    let (job, details) = job_of(observed, s)?;
    let principals = &observed.tenants.get(&s.from)?.principals;
    let parts = SchemaParts::observed(job);
    let schema_fingerprint = fingerprint::schema_of(&parts);
    Some(Prepared {
        job,
        scope: scope::prepare(principals, s, &details.assignments),
        schema: (parts, schema_fingerprint),
    })
}

/// The one job of the one configuration named like `s` in its source tenant, with the
/// configuration's details; `None` when there is not exactly one of each.
fn job_of<'a>(
    observed: &'a ObservedState,
    s: &SyncSpec,
) -> Option<(
    &'a SyncJobObservation,
    &'a mtoctl_model::observed::SyncConfigurationDetails,
)> {
    let obs = observed.tenants.get(&s.from)?;
    let mut named = obs
        .sync_configurations
        .iter()
        .filter(|c| c.display_name.eq_ignore_ascii_case(&s.name));
    let (Some(config), None) = (named.next(), named.next()) else {
        return None;
    };
    let details = config.details.as_ref()?;
    match details.jobs.as_slice() {
        [job] => Some((job, details)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::ObservedStateBuilder;
    use crate::tests::example;

    /// A preparation in comparable terms: the job, the scope's outline, the schema fingerprint.
    type Outline = Option<(String, scope::Outline, Fingerprint)>;

    fn outline(p: &Option<Prepared<'_>>) -> Outline {
        p.as_ref()
            .map(|p| (p.job.id.clone(), p.scope.outline(), p.schema.1.clone()))
    }

    #[test]
    fn the_syncs_prepared_in_two_halves_are_those_prepared_in_one_pass() {
        let desired = example("hub-and-spoke");
        let hq_to_retail = &desired.syncs[0];
        let observed = ObservedStateBuilder::converged(&desired)
            .with(|b| {
                // One sync's scope drifted: a principal no longer assigned, one unnamed added.
                let details = b
                    .sync_mut("hq", &hq_to_retail.name)
                    .details
                    .as_mut()
                    .expect("details");
                let mut gone = details.assignments.remove(0);
                gone.principal_id = crate::testing::fake_guid("someone unnamed");
                details.assignments.push(gone);
            })
            .build();
        let one_pass: Vec<Outline> = all_split(&desired, &observed, usize::MAX)
            .iter()
            .map(outline)
            .collect();
        let halves: Vec<Outline> = all_split(&desired, &observed, 0)
            .iter()
            .map(outline)
            .collect();
        assert_eq!(one_pass.len(), desired.syncs.len());
        assert!(one_pass.iter().all(Option::is_some), "{one_pass:#?}");
        // The drifted scope is seen as drifted, and the others as converged.
        let (_, drifted, _) = one_pass[0].as_ref().expect("prepared");
        assert!(
            drifted.entries.contains(&scope::Entry::Missing),
            "{drifted:?}"
        );
        assert!(drifted.assigned_wanted.contains(&false), "{drifted:?}");
        let (_, converged, _) = one_pass[1].as_ref().expect("prepared");
        assert!(
            converged
                .entries
                .iter()
                .all(|e| *e == scope::Entry::Assigned),
            "{converged:?}"
        );
        assert_eq!(halves, one_pass);
    }
}
