//! Terraform's graph walk: every node (a resource's create, or a read) starts once the nodes it
//! depends on have succeeded, and at most `parallelism` nodes run at once (Terraform's
//! `-parallelism`, 10 by default). A node whose dependency failed does not run.
//!
//! A node holds its slot for its whole run, retries' back-offs included, as a Terraform
//! provider call does; only [`Slot::pause`] (the wait between two polls of asynchronous work)
//! gives it back, which is kinder to the baseline than Terraform, whose slot stays taken.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

/// A node's work.
pub type Work =
    Box<dyn FnOnce(Slot) -> Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>> + Send>;

/// One node of the walk.
pub struct Node {
    /// Its address, for error messages (`sync[t0→t1].job`).
    pub name: String,
    /// Indices of the nodes it waits for.
    pub deps: Vec<usize>,
    /// What it does.
    pub work: Work,
}

impl Node {
    /// A node running `f`.
    pub fn new<F, Fut>(name: impl Into<String>, deps: Vec<usize>, f: F) -> Self
    where
        F: FnOnce(Slot) -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        Self {
            name: name.into(),
            deps,
            work: Box::new(move |slot| Box::pin(f(slot))),
        }
    }
}

/// A running node's place among the `parallelism` that may run at once. The walk keeps its
/// own handle on the permit until the node's work has finished, so a node that ignores its
/// slot still holds it.
pub struct Slot {
    sem: Arc<Semaphore>,
    permit: Arc<Mutex<Option<OwnedSemaphorePermit>>>,
}

impl Slot {
    /// Gives the slot back for `d` (a wait between polls), then takes one again.
    pub async fn pause(&mut self, d: Duration) {
        let held = self.permit.lock().unwrap_or_else(|p| p.into_inner()).take();
        drop(held);
        tokio::time::sleep(d).await;
        let again = self.sem.clone().acquire_owned().await.ok();
        *self.permit.lock().unwrap_or_else(|p| p.into_inner()) = again;
    }
}

/// Runs `nodes` (dependencies must point at earlier nodes) with at most `parallelism` at
/// once. Fails with the first failure in node order, naming the node, and how many others
/// failed or did not run.
pub async fn walk(nodes: Vec<Node>, parallelism: usize) -> anyhow::Result<()> {
    let sem = Arc::new(Semaphore::new(parallelism.max(1)));
    let mut done: Vec<watch::Receiver<Option<bool>>> = Vec::with_capacity(nodes.len());
    let mut tasks = tokio::task::JoinSet::new();
    for (i, node) in nodes.into_iter().enumerate() {
        anyhow::ensure!(
            node.deps.iter().all(|&d| d < i),
            "node {} depends on a later node",
            node.name
        );
        let (tx, rx) = watch::channel(None);
        let deps: Vec<_> = node.deps.iter().map(|&d| done[d].clone()).collect();
        done.push(rx);
        let sem = sem.clone();
        tasks.spawn(async move {
            for mut d in deps {
                let ok = matches!(d.wait_for(Option::is_some).await.as_deref(), Ok(Some(true)));
                if !ok {
                    let _ = tx.send(Some(false));
                    return (i, node.name, None);
                }
            }
            let permit = Arc::new(Mutex::new(sem.clone().acquire_owned().await.ok()));
            let result = (node.work)(Slot {
                sem,
                permit: permit.clone(),
            })
            .await;
            // Only now is the slot free for the next node.
            drop(permit);
            let _ = tx.send(Some(result.is_ok()));
            (i, node.name, Some(result))
        });
    }
    let mut first: Option<(usize, String, anyhow::Error)> = None;
    let (mut failed, mut skipped) = (0, 0);
    while let Some(joined) = tasks.join_next().await {
        let (i, name, result) = joined?;
        match result {
            None => skipped += 1,
            Some(Ok(())) => {}
            Some(Err(e)) => {
                failed += 1;
                if first.as_ref().is_none_or(|(j, _, _)| i < *j) {
                    first = Some((i, name, e));
                }
            }
        }
    }
    match first {
        None => Ok(()),
        Some((_, name, e)) => Err(e.context(format!(
            "{name} failed ({failed} node(s) failed, {skipped} did not run)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn dependencies_come_first_and_at_most_parallelism_run_at_once() {
        let order = Arc::new(Mutex::new(Vec::new()));
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let mut nodes = Vec::new();
        for i in 0..12 {
            let (order, running, peak) = (order.clone(), running.clone(), peak.clone());
            // Node 11 depends on every other one.
            let deps = if i == 11 {
                (0..11).collect()
            } else {
                Vec::new()
            };
            nodes.push(Node::new(format!("n{i}"), deps, move |_slot| async move {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                order.lock().expect("lock").push(i);
                Ok(())
            }));
        }
        walk(nodes, 3).await.expect("walk");
        assert_eq!(peak.load(Ordering::SeqCst), 3);
        let order = order.lock().expect("lock");
        assert_eq!(order.len(), 12);
        assert_eq!(order.last(), Some(&11));
    }

    #[tokio::test]
    async fn a_failure_stops_what_depends_on_it() {
        let ran = Arc::new(AtomicUsize::new(0));
        let r = ran.clone();
        let nodes = vec![
            Node::new("a", vec![], |_s| async { anyhow::bail!("boom") }),
            Node::new("b", vec![0], move |_s| async move {
                r.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }),
        ];
        let e = walk(nodes, 10).await.expect_err("fails");
        assert!(format!("{e:#}").contains("a failed (1 node(s) failed, 1 did not run): boom"));
        assert_eq!(ran.load(Ordering::SeqCst), 0);
    }
}
