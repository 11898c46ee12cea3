//! One action carried out alone (every action but grouped assignments): its precondition
//! re-checked just before it writes, then its operation, polled while it waits on Graph.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mtoctl_graph::transport::GraphClient;
use mtoctl_model::ids::TenantId;
use mtoctl_model::observed::Fingerprint;
use mtoctl_model::plan::{ActionId, Operation, ResourceAddr};

use crate::ops;
use crate::races::Races;
use crate::report::{ApplyEvent, Observer, RunActionId};
use crate::schedule::Resolved;

/// Polls of a wait at the first delay before the delay starts doubling.
const STEADY_POLLS: u32 = 4;

/// Everything one action's task needs, owned, so that it runs on any worker.
pub(crate) struct One {
    pub client: GraphClient,
    /// The acting tenant's id; `None` when the plan does not list the tenant.
    pub acting_id: Option<TenantId>,
    pub tenant: String,
    pub action: RunActionId,
    pub operation: Operation,
    pub addr: ResourceAddr,
    /// The fingerprint the object must still have, when it is re-checked.
    pub precondition: Option<Fingerprint>,
    pub resolved: Resolved,
    pub races: Races,
    pub observer: Arc<dyn Observer>,
    pub first_poll: Duration,
    /// When a wait gives up.
    pub deadline: Option<Instant>,
}

impl One {
    /// Carries the action out; its id and how it ended.
    pub async fn carry_out(self) -> (ActionId, Result<ops::Step, ops::OpError>) {
        let id = self.action.action;
        let Some(acting_id) = &self.acting_id else {
            return (id, Err(ops::OpError::TenantNotInPlan(self.tenant.clone())));
        };
        // Whether the object was re-read just now and is as the plan saw it.
        let mut rechecked = false;
        if let Some(expected) = &self.precondition {
            match ops::current_fingerprint(
                &self.client,
                &self.tenant,
                &self.operation,
                &self.resolved,
            )
            .await
            {
                Ok(Some(current)) if current.as_ref() != Some(expected) => {
                    let what = if current.is_none() {
                        "is gone"
                    } else {
                        "changed"
                    };
                    let addr = self.addr.clone();
                    return (id, Err(ops::OpError::Precondition { addr, what }));
                }
                Ok(current) => rechecked = current.is_some(),
                Err(e) => return (id, Err(e)),
            }
        }
        let mut delay = self.first_poll;
        let mut polls = 0;
        loop {
            let step = ops::run(
                &self.client,
                &self.tenant,
                acting_id,
                &self.operation,
                &self.resolved,
                ops::Looks {
                    races: &self.races,
                    action: id,
                    rechecked,
                },
            )
            .await;
            let Ok(ops::Step::Pending(message)) = step else {
                return (id, step);
            };
            let now = Instant::now();
            match self.deadline {
                Some(d) if now < d => {
                    self.observer.event(&ApplyEvent::Polling {
                        action: self.action,
                        message,
                    });
                    tokio::time::sleep(delay.min(d - now)).await;
                    polls += 1;
                    // A few polls at the first delay (a wait is often nearly over), then
                    // doubling up to 30 s.
                    if polls >= STEADY_POLLS {
                        delay = (delay * 2).min(Duration::from_secs(30));
                    }
                }
                _ => return (id, Ok(ops::Step::Pending(message))),
            }
        }
    }
}
