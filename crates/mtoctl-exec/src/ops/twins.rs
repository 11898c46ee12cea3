//! The executor's single documented exception to "every object mtoctl deletes is an action of
//! a plan": a configuration or job this run has just made, deleted because a concurrent run
//! made its twin.
//!
//! Two applies can race (no CI concurrency group): both find no configuration with the name,
//! and both create one. Graph has no unique key on a configuration's name, so nothing stops
//! the second; and two same-named configurations would make every later plan refuse to guess
//! which one to use. So right after a create, the run looks once for a twin, and the loser of
//! the race removes the twin it made itself, by the rule below on the application's
//! `createdDateTime`. It only ever deletes what it made moments before, before any job on it
//! is started (the look runs beside the rest of the chain, see `crate::races`, and the start
//! waits for it); never an object a plan listed or another run made.

use std::time::Duration;

use mtoctl_graph::objects::{ConfigurationIds, jobs, sync};
use mtoctl_graph::transport::GraphClient;

use super::OpError;
use crate::races::Verdict;

/// How long after making a configuration or job a run looks for a twin made by another run:
/// of two runs, the one whose object was made last looks after both exist, and the moment
/// covers listing lag.
const RACE_LOOK_AFTER: Duration = Duration::from_millis(250);

/// After this run instantiated a configuration, makes sure it is the only one with its name.
///
/// Ours stays only when it is strictly older than every twin; otherwise this run deletes its
/// own (and with it what the chain made under it meanwhile), age read from the applications'
/// `createdDateTime`; the apply then fails that configuration, to be planned again. A tie
/// yields too: it has whole seconds, so a twin of the same second may be the older one, made
/// by a run that looked before ours existed and kept its own. Two runs that both see both and
/// tie both yield: the name is left with no configuration, and the next apply makes one.
/// Never two.
pub(super) async fn keep_one_configuration(
    c: GraphClient,
    t: String,
    display_name: String,
    ours: ConfigurationIds,
) -> Verdict {
    let kept = keep_configuration(&c, &t, &display_name, ours).await;
    verdict(
        kept,
        &format!("a configuration named {display_name}"),
        || {
            format!(
                "a concurrent run made a configuration named {display_name} in {t} at the same moment; this run deleted its own, with the job, settings, schema and assignments it made under it, and left the other run's: plan again"
            )
        },
    )
}

/// A look's verdict: ours kept, ours deleted (`lost` says so), or the look for `what` failed
/// and cannot tell.
fn verdict(kept: Result<bool, OpError>, what: &str, lost: impl FnOnce() -> String) -> Verdict {
    match kept {
        Ok(true) => Verdict::Ours,
        Ok(false) => Verdict::Lost(lost()),
        Err(e) => Verdict::Lost(format!(
            "could not look for {what} that a concurrent run made at the same moment ({}): plan again",
            super::message(&e)
        )),
    }
}

/// `true` when ours is kept.
async fn keep_configuration(
    c: &GraphClient,
    t: &str,
    display_name: &str,
    ours: ConfigurationIds,
) -> Result<bool, OpError> {
    tokio::time::sleep(RACE_LOOK_AFTER).await;
    let (mine, mut twins): (Vec<_>, Vec<_>) = sync::named(c, t, display_name)
        .await?
        .into_iter()
        .partition(|x| {
            x.service_principal_id
                .eq_ignore_ascii_case(&ours.service_principal_id)
        });
    if twins.is_empty() {
        return Ok(true);
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
        return Ok(true);
    }
    sync::undo_instantiate(c, t, &ours).await?;
    Ok(false)
}

/// After this run created a job, makes sure the configuration has only one. Jobs carry no
/// creation time, so a run that sees another's job cannot tell which came first: it deletes
/// its own and leaves the other. Two runs that both see both both yield, and the next apply
/// makes the job.
pub(super) async fn keep_one_job(c: GraphClient, t: String, sp: String, ours: String) -> Verdict {
    let kept = async {
        tokio::time::sleep(RACE_LOOK_AFTER).await;
        let twin = jobs::ids(&c, &t, &sp)
            .await?
            .into_iter()
            .any(|id| id != ours);
        if twin {
            jobs::delete_job(&c, &t, &sp, &ours).await?;
            c.note_deleted(&t, &ours);
        }
        Ok::<_, OpError>(!twin)
    };
    let kept = kept.await;
    verdict(
        kept,
        &format!("a synchronization job on configuration {sp}"),
        || {
            format!(
                "a concurrent run made a synchronization job on configuration {sp} in {t} at the same moment; this run deleted its own and left the other run's: plan again"
            )
        },
    )
}
