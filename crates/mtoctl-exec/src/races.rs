//! Twin looks off the critical path: after this run makes a configuration or a job, the look
//! for a twin made by a concurrent run (see `ops::twins`) runs beside the rest of the chain
//! instead of before it. The start of a job waits for the verdicts on its configuration and
//! job, since a job must never be started on an object this run may have to delete; an apply
//! ends only once every look has given its verdict.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use mtoctl_model::plan::ActionId;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What a twin look found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// No twin, or ours is the one kept.
    Ours,
    /// Ours was deleted in favour of another run's twin, or the look failed and cannot tell:
    /// why, as the report says it.
    Lost(String),
}

#[derive(Default)]
struct Pending {
    verdicts: HashMap<ActionId, watch::Receiver<Option<Verdict>>>,
    tasks: Vec<(ActionId, JoinHandle<()>)>,
}

/// The twin looks of one apply, by the action that made the object.
#[derive(Clone, Default)]
pub(crate) struct Races(Arc<Mutex<Pending>>);

impl Races {
    fn looks(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts the look for a twin of what `action` made.
    pub(crate) fn look(
        &self,
        action: ActionId,
        look: impl Future<Output = Verdict> + Send + 'static,
    ) {
        let (tx, rx) = watch::channel(None);
        let task = tokio::spawn(async move {
            let verdict = look.await;
            // Nobody listening is fine: the apply's end reads the receiver kept below.
            let _ = tx.send(Some(verdict));
        });
        let mut looks = self.looks();
        looks.verdicts.insert(action, rx);
        looks.tasks.push((action, task));
    }

    /// The verdict on what `action` made, once its look is over; `None` when it was not
    /// looked at (made by another apply, adopted, or not a create).
    pub(crate) async fn verdict(&self, action: &ActionId) -> Option<Verdict> {
        let mut rx = self.looks().verdicts.get(action)?.clone();
        let verdict = match rx.wait_for(Option::is_some).await {
            Ok(v) => v.clone(),
            // The look's task ended without a verdict: it panicked.
            Err(_) => None,
        };
        Some(verdict.unwrap_or_else(|| Verdict::Lost(PANICKED.into())))
    }

    /// Waits for every look and returns the actions whose objects were lost, with why.
    pub(crate) async fn settle(&self) -> Vec<(ActionId, String)> {
        let tasks = std::mem::take(&mut self.looks().tasks);
        let mut lost = Vec::new();
        for (action, task) in tasks {
            let _ = task.await;
            if let Some(Verdict::Lost(why)) = self.verdict(&action).await {
                lost.push((action, why));
            }
        }
        lost
    }
}

const PANICKED: &str = "internal error: the look for a twin made by a concurrent run stopped without a verdict; plan again";

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_verdict_is_awaited_and_the_lost_ones_are_settled() {
        let races = Races::default();
        let (a, b) = (ActionId::at(1), ActionId::at(2));
        races.look(a, async {
            tokio::time::sleep(Duration::from_millis(30)).await;
            Verdict::Ours
        });
        races.look(b, async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            Verdict::Lost("a concurrent run kept its own".into())
        });
        assert_eq!(races.verdict(&a).await, Some(Verdict::Ours));
        assert_eq!(races.verdict(&ActionId::at(3)).await, None);
        assert_eq!(
            races.settle().await,
            [(b, "a concurrent run kept its own".to_owned())]
        );
    }

    #[tokio::test]
    async fn a_look_that_panics_is_lost_not_ours() {
        let races = Races::default();
        races.look(ActionId::at(1), async { panic!("boom") });
        assert!(matches!(
            races.verdict(&ActionId::at(1)).await,
            Some(Verdict::Lost(_))
        ));
        assert_eq!(races.settle().await.len(), 1);
    }
}
