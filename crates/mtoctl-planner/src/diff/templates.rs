//! The two MTO policy templates of each tenant, when the spec manages them.
//!
//! Templates act only when membership changes (graph-reference §5.3), so they are written
//! before any tenant joins; the organization module makes the joins depend on them (the
//! organization's creation goes beside them). A managed template is set to `allPairs` with the default application
//! level (`newPartners,existingPartners`), which is what makes it act at all.

use mtoctl_model::observed::TemplateApplicationLevel;

use super::settings::{self, NullMeans};
use super::{Ctx, Draft, change};
use mtoctl_model::plan::ResourceAddr;
use mtoctl_model::plan::Severity;
use mtoctl_model::plan::fingerprint;
use mtoctl_model::plan::{ActionKind, ActionReason, AttributeChange, Operation};

pub(crate) fn diff(ctx: &mut Ctx<'_>) {
    if !ctx.desired.collaboration.manage_templates {
        return;
    }
    let want_level = TemplateApplicationLevel::default_level();
    let all_pairs = ctx.desired.collaboration.all_pairs.clone();
    for tenant in &ctx.desired.tenants {
        let alias = &tenant.alias;
        let obs = ctx.obs(alias);
        let mut keys = Vec::new();

        // The partner configuration template.
        let addr = ResourceAddr::partner_template(alias.as_str());
        let expected = ctx.seen(&addr, fingerprint::partner_template(&obs.templates.partner));
        ctx.check(&addr);
        let d = settings::diff(
            &all_pairs,
            &obs.templates.partner.settings,
            NullMeans::Unset,
        );
        if !d.refusals.is_empty() {
            ctx.note(
                Severity::Warning,
                Some(addr.clone()),
                format!(
                    "not changing the partner configuration template of {alias}: {}",
                    d.refusals.join("; ")
                ),
            );
        } else {
            let mut changes = d.changes;
            let level = level_change(
                &obs.templates.partner.application_level,
                &want_level,
                &mut changes,
            );
            if !d.patch.is_empty() || level.is_some() {
                let op = Operation::PatchPartnerTemplate {
                    application_level: level,
                    settings: Box::new(d.patch),
                };
                keys.push(
                    ctx.push(
                        Draft::new(
                            addr,
                            alias,
                            ActionKind::Update,
                            op,
                            ActionReason::Drift,
                            format!("set {alias}'s partner configuration template to allPairs"),
                        )
                        .expect(expected)
                        .changes(changes),
                    ),
                );
            }
        }

        // The identity synchronization template.
        let addr = ResourceAddr::identity_sync_template(alias.as_str());
        let expected = ctx.seen(
            &addr,
            fingerprint::identity_sync_template(&obs.templates.identity_sync),
        );
        ctx.check(&addr);
        let mut changes = Vec::new();
        let allowed = all_pairs.allow_users_sync_inbound.and_then(|want| {
            let have = obs.templates.identity_sync.is_sync_allowed;
            (have != Some(want)).then(|| {
                changes.push(change("is_sync_allowed", Some(&have), Some(&want)));
                want
            })
        });
        let level = level_change(
            &obs.templates.identity_sync.application_level,
            &want_level,
            &mut changes,
        );
        if allowed.is_some() || level.is_some() {
            let op = Operation::PatchIdentitySyncTemplate {
                application_level: level,
                is_sync_allowed: allowed,
            };
            keys.push(
                ctx.push(
                    Draft::new(
                        addr,
                        alias,
                        ActionKind::Update,
                        op,
                        ActionReason::Drift,
                        format!("set {alias}'s identity synchronization template to allPairs"),
                    )
                    .expect(expected)
                    .changes(changes),
                ),
            );
        }
        ctx.template_keys.insert(alias.clone(), keys);
    }
}

fn level_change(
    have: &TemplateApplicationLevel,
    want: &TemplateApplicationLevel,
    changes: &mut Vec<AttributeChange>,
) -> Option<Vec<String>> {
    (have != want).then(|| {
        changes.push(AttributeChange {
            path: "application_level".into(),
            before: Some(format!("\"{}\"", have.0.join(","))),
            after: Some(format!("\"{}\"", want.0.join(","))),
        });
        want.0.clone()
    })
}
