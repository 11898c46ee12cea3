//! `mtoctl doctor`'s verdicts: whether an apply of the spec can succeed, judged per tenant from
//! what `mtoctl_graph::doctor` read, each check with what to do. Pure.
//!
//! Verdicts: `ok`; `fixable` (an administrator can fix it before apply: a grant, a setting, a
//! credential); `blocked` (apply cannot succeed until something outside the spec changes: a
//! licence bought, the tenant out of another organization); `skipped` (not checked, with what
//! would let it be). A read that failed for another reason than a refusal marks the report
//! `errored`.
//!
//! Facts (docs/graph-facts.md): a multitenant organization needs Microsoft Entra ID P1 in every
//! tenant, and cross-tenant synchronization a P1 licence for each user synced out of the source
//! tenant; a tenant belongs to at most one multitenant organization, of at most 100 active
//! tenants, owners included; `GET /subscribedSkus` needs `LicenseAssignment.Read.All` at least.

use std::collections::BTreeSet;

use mtoctl_model::DesiredState;
use mtoctl_model::doctor::{Read, SkuObservation, TenantReadings};
use mtoctl_model::ids::{Alias, TenantId};
use mtoctl_model::observed::{
    AccessRuleObservation, AccessType, B2bPolicyObservation, Known, MemberRole, MemberState,
    OrganizationObservation, PartnerSettingsObservation,
};
use mtoctl_model::spec::document::Role;
use serde::Serialize;

use crate::permissions::{self, TenantPermissions};

/// Active tenants a multitenant organization may have, owners included (graph-reference §2.7).
pub const MAX_TENANTS: usize = 100;
/// The service plans of Microsoft Entra ID P1 and P2 (`servicePlanName`), and the SKUs that
/// are those editions alone (`skuPartNumber`).
const ENTRA_PREMIUM: &[&str] = &["AAD_PREMIUM", "AAD_PREMIUM_P2"];
/// The least permission of `GET /subscribedSkus` for an application.
pub const SKU_READ: &str = "LicenseAssignment.Read.All";

/// A check's verdict, from best to worst (`skipped` counts as `ok` for the whole).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Ready.
    Ok,
    /// Not checked.
    Skipped,
    /// An administrator can fix it before apply.
    Fixable,
    /// Apply cannot succeed until something outside the spec changes.
    Blocked,
}

impl Verdict {
    fn weight(self) -> u8 {
        match self {
            Verdict::Ok | Verdict::Skipped => 0,
            Verdict::Fixable => 1,
            Verdict::Blocked => 2,
        }
    }

    /// The worse of two verdicts for the whole (`skipped` is no worse than `ok`).
    fn worst(self, other: Verdict) -> Verdict {
        if other.weight() > self.weight() {
            other
        } else {
            self
        }
    }
}

/// One check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Which: `sign_in`, `permissions`, `licence`, `organization`, `default_settings`,
    /// `sync_credentials`.
    pub check: &'static str,
    /// Its verdict.
    pub verdict: Verdict,
    /// What was found, one sentence.
    pub summary: String,
    /// What to do, when something is to be done.
    pub fix: Option<String>,
    /// Remarks that do not change the verdict (extra write permissions, …).
    pub notes: Vec<String>,
}

/// One tenant's checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenantDoctor {
    /// The tenant's alias.
    pub alias: Alias,
    /// Its id.
    pub tenant_id: TenantId,
    /// The worst verdict of its checks (`skipped` counts as `ok`).
    pub verdict: Verdict,
    /// Its checks, in a fixed order.
    pub checks: Vec<Check>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DoctorReport {
    /// The worst verdict of any tenant.
    pub verdict: Verdict,
    /// Whether a read failed for another reason than a refusal (its check is `skipped`).
    pub errored: bool,
    /// Per tenant, in spec order.
    pub tenants: Vec<TenantDoctor>,
}

/// Judges every tenant's readings (in spec order) against the spec.
pub fn diagnose(desired: &DesiredState, readings: &[TenantReadings]) -> DoctorReport {
    let needs = permissions::for_spec(desired);
    let mut errored = false;
    let tenants: Vec<TenantDoctor> = readings
        .iter()
        .map(|r| {
            let need = needs.iter().find(|n| n.alias == r.alias);
            let mut checks = vec![
                sign_in(r),
                token_permissions(r, need),
                licence(r),
                organization(desired, r),
                default_settings(desired, r),
            ];
            if desired.syncs.iter().any(|s| s.from == r.alias) {
                checks.push(credentials(r));
            }
            errored |= [
                matches!(r.skus, Read::Failed(_)),
                matches!(r.organization, Read::Failed(_)),
                matches!(r.default_settings, Read::Failed(_)),
            ]
            .contains(&true);
            let verdict = checks.iter().fold(Verdict::Ok, |v, c| v.worst(c.verdict));
            TenantDoctor {
                alias: r.alias.clone(),
                tenant_id: r.tenant_id.clone(),
                verdict,
                checks,
            }
        })
        .collect();
    DoctorReport {
        verdict: tenants.iter().fold(Verdict::Ok, |v, t| v.worst(t.verdict)),
        errored,
        tenants,
    }
}

fn check(check: &'static str, verdict: Verdict, summary: impl Into<String>) -> Check {
    Check {
        check,
        verdict,
        summary: summary.into(),
        fix: None,
        notes: Vec::new(),
    }
}

impl Check {
    fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
}

/// A check that could not be made because of how its read went.
fn unread<T>(name: &'static str, read: &Read<T>, grant: &str) -> Option<Check> {
    match read {
        Read::Found(_) => None,
        Read::NotRead => Some(check(
            name,
            Verdict::Skipped,
            "not checked: the sign-in failed",
        )),
        Read::Forbidden => Some(
            check(
                name,
                Verdict::Skipped,
                format!("not checked: Graph refused the read for lack of permission ({grant})"),
            )
            .fix(format!(
                "grant {grant} to the app and consent in this tenant to check it"
            )),
        ),
        Read::Failed(why) => Some(check(
            name,
            Verdict::Skipped,
            format!("not checked: the read failed: {why}"),
        )),
    }
}

fn sign_in(r: &TenantReadings) -> Check {
    match &r.sign_in {
        Read::Found(_) => check("sign_in", Verdict::Ok, "signed in with the spec's credential"),
        Read::Failed(why) => check(
            "sign_in",
            Verdict::Fixable,
            format!("cannot sign in with the spec's credential: {why}"),
        )
        .fix("fix the tenant's `auth` in the spec, or the secret, certificate or federation it names"),
        Read::Forbidden | Read::NotRead => {
            check("sign_in", Verdict::Skipped, "not checked")
        }
    }
}

fn token_permissions(r: &TenantReadings, need: Option<&TenantPermissions>) -> Check {
    let roles = match (&r.sign_in, need) {
        (Read::Found(Some(roles)), Some(_)) => roles,
        (Read::Found(None), _) => {
            return check(
                "permissions",
                Verdict::Skipped,
                "not checked: the token's permissions cannot be read from it",
            );
        }
        _ => {
            return check(
                "permissions",
                Verdict::Skipped,
                "not checked: the sign-in failed",
            );
        }
    };
    let Some(need) = need else {
        return check("permissions", Verdict::Skipped, "not checked");
    };
    let missing = permissions::missing(&need.application, roles);
    let mut c = if missing.is_empty() {
        check(
            "permissions",
            Verdict::Ok,
            "the token holds every permission `mtoctl permissions` lists for this tenant",
        )
    } else {
        check(
            "permissions",
            Verdict::Fixable,
            format!("the token lacks {}", missing.join(", ")),
        )
        .fix(format!(
            "grant {} to the app and consent in this tenant (see `mtoctl permissions`)",
            missing.join(", ")
        ))
    };
    // Write permissions nothing the spec does needs: a least-privilege setup drops them.
    let wanted = |p: &str| {
        need.application.contains_key(p)
            || need.to_adopt.contains_key(p)
            || need.to_diagnose.contains_key(p)
            || need.to_remove_synced_users.contains_key(p)
    };
    let extra: Vec<&str> = roles
        .iter()
        .map(String::as_str)
        .filter(|p| p.contains("ReadWrite") && !wanted(p))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if !extra.is_empty() {
        c.notes.push(format!(
            "the token also holds write permissions this spec does not need: {}; a least-privileged app drops them",
            extra.join(", ")
        ));
    }
    c
}

/// Whether a subscription provides Microsoft Entra ID P1 or P2 and is usable.
fn is_entra_premium(sku: &SkuObservation) -> bool {
    let usable = sku
        .capability_status
        .as_deref()
        .is_none_or(|s| s.eq_ignore_ascii_case("Enabled") || s.eq_ignore_ascii_case("Warning"));
    let premium = |name: &str| ENTRA_PREMIUM.iter().any(|p| p.eq_ignore_ascii_case(name));
    usable && (premium(&sku.sku_part_number) || sku.service_plans.iter().any(|p| premium(p)))
}

fn licence(r: &TenantReadings) -> Check {
    if let Some(c) = unread("licence", &r.skus, SKU_READ) {
        return c;
    }
    let skus = r.skus.found().map(Vec::as_slice).unwrap_or_default();
    let premium: Vec<&str> = skus
        .iter()
        .filter(|s| is_entra_premium(s))
        .map(|s| s.sku_part_number.as_str())
        .collect();
    if premium.is_empty() {
        check(
            "licence",
            Verdict::Blocked,
            "no enabled subscription includes Microsoft Entra ID P1 or P2",
        )
        .fix("a multitenant organization needs Microsoft Entra ID P1 in every tenant, and cross-tenant synchronization a P1 licence for each user it syncs out of a tenant: buy Microsoft Entra ID P1 or P2 (or a suite that includes it)")
    } else {
        check(
            "licence",
            Verdict::Ok,
            format!("Microsoft Entra ID P1 or P2 through {}", premium.join(", ")),
        )
    }
}

fn organization(desired: &DesiredState, r: &TenantReadings) -> Check {
    if let Some(c) = unread(
        "organization",
        &r.organization,
        "MultiTenantOrganization.Read.All",
    ) {
        return c;
    }
    let owners: Vec<&TenantId> = desired
        .tenants
        .iter()
        .filter(|t| t.role == Role::Owner)
        .map(|t| &t.tenant_id)
        .collect();
    let Some(Some(org)) = r.organization.found() else {
        return check(
            "organization",
            Verdict::Ok,
            "in no multitenant organization yet",
        );
    };
    let name = org.display_name.as_deref().unwrap_or("(unnamed)");
    let ours = org
        .members
        .iter()
        .any(|m| owners.contains(&&m.tenant_id) && m.role.is(&MemberRole::Owner));
    if !ours {
        let their_owners = owners_of(org);
        return check(
            "organization",
            Verdict::Blocked,
            format!(
                "already in the multitenant organization \"{name}\" (owned by {}), which no owner tenant of the spec owns",
                if their_owners.is_empty() { "no tenant it shows".to_owned() } else { their_owners.join(", ") }
            ),
        )
        .fix("a tenant belongs to one multitenant organization at most: leave that organization (or have its owner remove this tenant) before apply, or make the spec's organization that one");
    }
    let mut tenants: BTreeSet<&TenantId> = org
        .members
        .iter()
        .filter(|m| m.state.is(&MemberState::Active))
        .map(|m| &m.tenant_id)
        .collect();
    tenants.extend(desired.tenants.iter().map(|t| &t.tenant_id));
    if tenants.len() > MAX_TENANTS {
        return check(
            "organization",
            Verdict::Blocked,
            format!(
                "\"{name}\" would have {} active tenants with the spec's; a multitenant organization has at most {MAX_TENANTS}, owners included",
                tenants.len()
            ),
        )
        .fix("remove tenants from the spec or the organization, or ask Microsoft support to raise the limit");
    }
    check(
        "organization",
        Verdict::Ok,
        format!(
            "in \"{name}\", which the spec's owner owns; {} of at most {MAX_TENANTS} tenants with the spec's",
            tenants.len()
        ),
    )
}

fn owners_of(org: &OrganizationObservation) -> Vec<String> {
    org.members
        .iter()
        .filter(|m| m.role.is(&MemberRole::Owner))
        .map(|m| m.tenant_id.to_string())
        .collect()
}

/// What a B2B setting blocks for everyone, in Graph's names (`usersAndGroups`).
fn blocks_all(setting: Option<&B2bPolicyObservation>) -> Vec<&'static str> {
    let blocked = |rule: Option<&AccessRuleObservation>, all: &str| {
        rule.is_some_and(|r| {
            matches!(r.access, Known::Known(AccessType::Blocked))
                && r.targets.iter().any(|t| t == all)
        })
    };
    let mut out = Vec::new();
    if let Some(s) = setting {
        if blocked(s.users_and_groups.as_ref(), "AllUsers") {
            out.push("usersAndGroups (AllUsers)");
        }
        if blocked(s.applications.as_ref(), "AllApplications") {
            out.push("applications (AllApplications)");
        }
    }
    out
}

fn default_settings(desired: &DesiredState, r: &TenantReadings) -> Check {
    if let Some(c) = unread("default_settings", &r.default_settings, "Policy.Read.All") {
        return c;
    }
    let Some(defaults) = r.default_settings.found() else {
        return check("default_settings", Verdict::Skipped, "not checked");
    };
    // The partners whose B2B collaboration the spec leaves to the defaults and whose partner
    // configuration, if the tenant has one, sets none of its own (both directions).
    let own = |partner: &Alias| {
        let id = desired.tenant(partner).map(|t| &t.tenant_id);
        match (&r.partners, id) {
            (Read::Found(partners), Some(id)) => partners.get(id).is_some_and(|p| {
                p.b2b_collaboration_inbound.is_some() && p.b2b_collaboration_outbound.is_some()
            }),
            _ => false,
        }
    };
    let inheriting: Vec<&str> = desired
        .collaboration
        .pairs
        .iter()
        .filter(|(k, s)| k.tenant == r.alias && s.b2b_collaboration.is_none())
        .filter(|(k, _)| !own(&k.partner))
        .map(|(k, _)| k.partner.as_str())
        .collect();
    if inheriting.is_empty() {
        return check(
            "default_settings",
            Verdict::Ok,
            "the spec, or the partner configurations it leaves alone, set B2B collaboration for every partner of this tenant",
        );
    }
    let blocking = blocked_settings(defaults);
    if blocking.is_empty() {
        return check(
            "default_settings",
            Verdict::Ok,
            "the default cross-tenant access settings allow B2B collaboration",
        );
    }
    check(
        "default_settings",
        Verdict::Fixable,
        format!(
            "the default cross-tenant access settings block {}, which the partner configurations for {} inherit (the spec does not set b2bCollaboration for them)",
            blocking.join(" and "),
            inheriting.join(", ")
        ),
    )
    .fix("allow B2B collaboration in the tenant's default cross-tenant access settings, or set collaboration.allPairs.b2bCollaboration (or the pair's) in the spec so that apply writes it to each partner")
}

/// The default settings that block B2B collaboration for everyone, named as Graph names them.
fn blocked_settings(defaults: &PartnerSettingsObservation) -> Vec<String> {
    let mut out = Vec::new();
    for (name, setting) in [
        (
            "b2bCollaborationInbound",
            defaults.b2b_collaboration_inbound.as_ref(),
        ),
        (
            "b2bCollaborationOutbound",
            defaults.b2b_collaboration_outbound.as_ref(),
        ),
    ] {
        for part in blocks_all(setting) {
            out.push(format!("{name}.{part}"));
        }
    }
    out
}

fn credentials(r: &TenantReadings) -> Check {
    if matches!(r.sign_in, Read::Failed(_)) {
        return check(
            "sync_credentials",
            Verdict::Skipped,
            "not checked: the sign-in failed",
        );
    }
    let mut verdict = Verdict::Ok;
    let mut said = Vec::new();
    let mut fixes = Vec::new();
    for c in &r.credentials {
        let what = format!("{} (to {})", c.name, c.to);
        match &c.outcome {
            _ if c.absent => said.push(format!("{what}: not created yet (apply validates it)")),
            Read::Found(()) => said.push(format!("{what}: credentials valid")),
            Read::Forbidden => {
                verdict = verdict.worst(Verdict::Fixable);
                said.push(format!(
                    "{what}: Graph refused the validation for lack of permission"
                ));
                fixes.push(format!(
                    "for {}: grant Synchronization.ReadWrite.All (the configuration was made by another app, such as the Microsoft 365 admin center)",
                    c.name
                ));
            }
            Read::Failed(why) => {
                verdict = verdict.worst(Verdict::Fixable);
                said.push(format!("{what}: validateCredentials failed: {why}"));
                fixes.push(format!(
                    "for {}: tenant {} must allow users sync in from this tenant and automatic consent (the spec's allowUsersSyncInbound and automaticUserConsent, which apply sets)",
                    c.name, c.to
                ));
            }
            Read::NotRead => said.push(format!("{what}: not checked")),
        }
    }
    let c = check("sync_credentials", verdict, said.join("; "));
    if fixes.is_empty() {
        c
    } else {
        c.fix(fixes.join("; "))
    }
}
