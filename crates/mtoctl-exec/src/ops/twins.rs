//! The executor's single documented exception to "every object mtoctl deletes is an action of
//! a plan": a configuration or job this run has just made, deleted because a concurrent run
//! made its twin.
//!
//! Two applies can race (no CI concurrency group): both find no configuration with the name,
//! and both create one. Graph has no unique key on a configuration's name, so nothing stops
//! the second; and two same-named configurations would make every later plan refuse to guess
//! which one to use. So right after a create, the run looks once for a twin, and the loser of
//! the race removes the twin it made itself, by the rule below on the application's
//! `createdDateTime`. It only ever deletes what it made moments before, before anything
//! depends on it; never an object a plan listed or another run made.

use std::time::Duration;

use mtoctl_graph::objects::{ConfigurationIds, jobs, sync};
use mtoctl_graph::transport::GraphClient;

use super::OpError;

/// How long after making a configuration or job a run looks for a twin made by another run:
/// of two runs, the one whose object was made last looks after both exist, and the moment
/// covers listing lag.
const RACE_LOOK_AFTER: Duration = Duration::from_millis(250);

/// Which of two same-named objects made at the same moment survives.
pub(super) enum Kept<T> {
    /// The one this run made.
    Ours(T),
    /// Another run's: ours was deleted.
    Theirs(T),
}

/// After this run instantiated a configuration, makes sure it is the only one with its name.
///
/// Ours stays only when it is strictly older than every twin; otherwise this run deletes its
/// own and takes the oldest twin (then the smallest id), age read from the applications'
/// `createdDateTime`. A tie yields too: it has whole seconds, so a twin of the same second
/// may be the older one, made by a run that looked before ours existed and kept its own. Two
/// runs that both see both and tie both yield: the name is left with no configuration, and
/// the next apply makes one. Never two.
pub(super) async fn keep_one_configuration(
    c: &GraphClient,
    t: &str,
    display_name: &str,
    ours: ConfigurationIds,
) -> Result<Kept<ConfigurationIds>, OpError> {
    tokio::time::sleep(RACE_LOOK_AFTER).await;
    let (mine, mut twins): (Vec<_>, Vec<_>) = sync::named(c, t, display_name)
        .await?
        .into_iter()
        .partition(|x| {
            x.service_principal_id
                .eq_ignore_ascii_case(&ours.service_principal_id)
        });
    if twins.is_empty() {
        return Ok(Kept::Ours(ours));
    }
    let mut ours = ours;
    if let Some(m) = mine.first() {
        ours.app_id = ours.app_id.take().or_else(|| m.app_id.clone());
    }
    sync::with_applications(c, t, std::iter::once(&mut ours).chain(twins.iter_mut())).await?;
    let strictly_oldest = ours.created.as_deref().is_some_and(|mine| {
        twins
            .iter()
            .all(|x| x.created.as_deref().is_some_and(|theirs| theirs > mine))
    });
    if strictly_oldest {
        return Ok(Kept::Ours(ours));
    }
    twins.sort_by(|a, b| {
        (
            a.created.as_deref(),
            a.service_principal_id.to_ascii_lowercase(),
        )
            .cmp(&(
                b.created.as_deref(),
                b.service_principal_id.to_ascii_lowercase(),
            ))
    });
    let winner = twins.swap_remove(0);
    sync::undo_instantiate(c, t, &ours).await?;
    Ok(Kept::Theirs(winner))
}

/// After this run created a job, makes sure the configuration has only one. Jobs carry no
/// creation time, so a run that sees another's job cannot tell which came first: it deletes
/// its own and takes the other (the smallest id). Two runs that both see both both yield, and
/// the next apply makes the job. `Some(id)` of the other run's job when ours was deleted.
pub(super) async fn keep_one_job(
    c: &GraphClient,
    t: &str,
    sp: &str,
    ours: &str,
) -> Result<Option<String>, OpError> {
    tokio::time::sleep(RACE_LOOK_AFTER).await;
    let theirs = jobs::ids(c, t, sp)
        .await?
        .into_iter()
        .filter(|id| id != ours)
        .min();
    if theirs.is_some() {
        jobs::delete_job(c, t, sp, ours).await?;
    }
    Ok(theirs)
}
