//! Sync configurations in a spec tenant that no spec sync declares: left alone with a note, or
//! deleted when `prune` names `syncConfigurations`.

use mtoctl_model::ids::Alias;
use mtoctl_model::spec::document::PruneKind;

use crate::diff::{Ctx, Draft};
use mtoctl_model::plan::ResourceAddr;
use mtoctl_model::plan::fingerprint;
use mtoctl_model::plan::{ActionKind, ActionReason, Impact, Operation, Severity};

/// Configurations of `alias` that no spec sync declares.
pub(super) fn undeclared(ctx: &mut Ctx<'_>, alias: &Alias) {
    let desired = ctx.desired;
    let declared: Vec<&str> = desired
        .syncs
        .iter()
        .filter(|s| &s.from == alias)
        .map(|s| s.name.as_str())
        .collect();
    let prune = desired.prune.contains(&PruneKind::SyncConfigurations);
    let obs = ctx.obs(alias);
    for c in &obs.sync_configurations {
        if declared
            .iter()
            .any(|n| n.eq_ignore_ascii_case(&c.display_name))
        {
            continue;
        }
        let addr = ResourceAddr::sync(alias.as_str(), &c.display_name);
        let expected = ctx.seen(&addr, fingerprint::sync_configuration(c));
        if !prune {
            ctx.note(
                Severity::Info,
                Some(addr),
                format!(
                    "sync configuration {} in {alias} is not in the spec; left alone (add `syncConfigurations` to prune to delete it)",
                    c.display_name
                ),
            );
            continue;
        }
        let mut d = Draft::new(
            addr,
            alias,
            ActionKind::Delete,
            Operation::DeleteSyncConfiguration {
                service_principal_id: c.service_principal_id.clone(),
                display_name: c.display_name.clone(),
            },
            ActionReason::Prune,
            format!("delete sync configuration {} in {alias}", c.display_name),
        )
        .expect(expected);
        d.destructive = true;
        d.impact = Some(Box::new(Impact::described(format!(
            "synchronization through {} stops; users it provisioned stay in their target (Graph does not delete them)",
            c.display_name
        ))));
        ctx.push(d);
    }
}
