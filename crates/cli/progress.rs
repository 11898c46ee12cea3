//! Apply progress on a terminal: one bar per tenant with its current action, finished actions
//! printed above the bars. Off a terminal (CI logs) apply prints plain lines instead.

use std::collections::BTreeMap;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use mtoctl_exec::report::{ApplyEvent, TenantActions};

/// The bars of one apply round.
pub struct Bars {
    multi: MultiProgress,
    by_tenant: BTreeMap<String, ProgressBar>,
}

impl Bars {
    /// A bar for every tenant of a round (alias and its actions, in the plan's tenant order,
    /// as [`ApplyEvent::RoundStarted`] lists them).
    pub fn new(tenants: &[TenantActions], target: ProgressDrawTarget) -> Self {
        let multi = MultiProgress::with_draw_target(target);
        let style = ProgressStyle::with_template("{prefix:>12} [{bar:24}] {pos}/{len} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        let mut by_tenant = BTreeMap::new();
        for TenantActions { alias, actions } in tenants {
            let bar = multi.add(ProgressBar::new(*actions));
            bar.set_style(style.clone());
            bar.set_prefix(alias.to_owned());
            bar.set_message("waiting for its turn");
            by_tenant.insert(alias.to_owned(), bar);
        }
        crate::output::bars_on_screen(Some(multi.clone()));
        Self { multi, by_tenant }
    }

    /// Shows one event: the current action on its tenant's bar, finished ones above the bars.
    pub fn event(&self, event: &ApplyEvent) {
        match event {
            ApplyEvent::RoundStarted { .. } => {}
            ApplyEvent::Planning { .. } => {
                let _ = self.multi.println(event.render_line());
            }
            ApplyEvent::Started {
                tenant, summary, ..
            } => {
                if let Some(bar) = self.by_tenant.get(tenant) {
                    bar.set_message(summary.clone());
                }
            }
            ApplyEvent::Polling { message, .. } => {
                // Polls are not tied to a tenant in the event; show them above the bars.
                let _ = self.multi.println(format!("  … {message}"));
            }
            ApplyEvent::Finished { result } => {
                if let Some(bar) = self.by_tenant.get(&result.tenant) {
                    bar.inc(1);
                }
                let _ = self.multi.println(event.render_line());
            }
        }
    }

    /// Removes the bars (the printed lines stay).
    pub fn finish(&self) {
        for bar in self.by_tenant.values() {
            bar.finish_and_clear();
        }
        crate::output::bars_on_screen(None);
    }

    /// A tenant's bar position and message (for tests).
    #[cfg(test)]
    fn state(&self, tenant: &str) -> Option<(u64, String)> {
        self.by_tenant
            .get(tenant)
            .map(|b| (b.position(), b.message()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mtoctl_exec::report::{ActionResult, ActionStatus, RunActionId};
    use mtoctl_model::plan::Plan;

    fn quickstart_plan() -> Plan {
        let path = format!(
            "{}/crates/mtoctl-planner/tests/golden/quickstart-fresh.json",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).expect("golden plan")).expect("plan")
    }

    #[test]
    fn bars_follow_each_tenant_and_count_finished_actions() {
        let plan = quickstart_plan();
        let mut tenants: Vec<TenantActions> = Vec::new();
        for t in &plan.tenants {
            let n = plan.actions.iter().filter(|a| a.tenant == t.alias).count() as u64;
            if n > 0 {
                tenants.push(TenantActions {
                    alias: t.alias.to_string(),
                    actions: n,
                });
            }
        }
        let bars = Bars::new(&tenants, ProgressDrawTarget::hidden());
        let contoso_actions = plan
            .actions
            .iter()
            .filter(|a| a.tenant.as_str() == "contoso")
            .count() as u64;
        assert_eq!(bars.by_tenant["contoso"].length(), Some(contoso_actions));
        let first = &plan.actions[0];
        bars.event(&ApplyEvent::Started {
            action: RunActionId::first(first.id),
            addr: first.addr.clone(),
            tenant: first.tenant.to_string(),
            summary: first.summary.clone(),
        });
        assert_eq!(
            bars.state(first.tenant.as_str()),
            Some((0, first.summary.clone()))
        );
        bars.event(&ApplyEvent::Finished {
            result: ActionResult {
                id: RunActionId::first(first.id),
                round: 1,
                addr: first.addr.clone(),
                tenant: first.tenant.to_string(),
                summary: first.summary.clone(),
                status: ActionStatus::Ok {
                    created: Default::default(),
                },
            },
        });
        assert_eq!(bars.state(first.tenant.as_str()).map(|s| s.0), Some(1));
        let other = if first.tenant.as_str() == "contoso" {
            "fabrikam"
        } else {
            "contoso"
        };
        assert_eq!(
            bars.state(other).map(|s| s.0),
            Some(0),
            "other tenants' bars do not move"
        );
        bars.finish();
    }
}
