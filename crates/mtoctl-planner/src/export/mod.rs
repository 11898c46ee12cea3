//! `mtoctl export`: a spec document from an observed state, written so that it plans nothing.
//!
//! The reverse of the planner's comparison, and kept honest by it: every choice here follows
//! what [`crate::plan()`] compares, so a spec written from an observed state plans no changes
//! against that state (tested on converged worlds, and checked again by the command at run
//! time). What a spec cannot express is left unmanaged and said in a warning, never guessed:
//!
//! - the organization and its members as the first active owner among the given tenants sees
//!   them (display names and roles from Graph; credentials and domains as given);
//! - collaboration as `allPairs` (for each setting, the value most pairs hold) plus overrides
//!   for the pairs that differ, written `between` two tenants when both directions agree;
//!   settings that equal Graph's defaults (`false` for consent and inbound sync) are left out,
//!   and a setting some pair cannot hold (its partner configuration or value is absent) is only
//!   written per pair; `manageTemplates: false` unless both templates of every tenant already
//!   equal `allPairs`;
//! - one `sync` entry per configuration with one job, its target taken from its name
//!   (`MTO_Sync_<target id>`) or from the input (Graph does not return a configuration's
//!   target); names other than the default are kept, so the planner adopts the configuration;
//!   users by user principal name, groups by display name unless the name is ambiguous.
//!
//! [`drift`] writes the live state in the terms of a given spec instead, as an edit of the
//! spec's own text (`export --diff`).
//!
//! No I/O; the caller reads Graph (`mtoctl_graph::discover`) and writes the YAML.

use std::collections::BTreeMap;
use std::fmt;

use mtoctl_model::ids::Alias;
use mtoctl_model::observed::{
    Known, MemberRole, MemberState, MtoState, ObservedState, TenantObservation,
};
use mtoctl_model::spec::document::{
    ApiVersion, DocumentKind, Organization, Role, SpecDocument, Tenant,
};
use mtoctl_model::spec::export_input::{ExportInput, InputTenant};

mod collaboration;
mod drift;
mod sync;
mod template;
#[cfg(test)]
mod tests;
mod text;

pub use drift::{Drift, drift};

/// A spec written from live state, and what it could not express.
#[derive(Debug, Clone, PartialEq)]
pub struct Exported {
    /// The document.
    pub document: SpecDocument,
    /// Objects left out or left unmanaged, each with the reason and what to do.
    pub warnings: Vec<String>,
}

/// Why nothing could be exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportError {
    /// The observed state lacks a given tenant (a partial read must not look like absence).
    MissingObservation(Alias),
    /// No given tenant is an active owner of a multitenant organization.
    NoOwner(String),
    /// The spec to compare with could not be read as a document (`export --diff`).
    Spec(String),
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExportError::MissingObservation(alias) => {
                write!(
                    f,
                    "tenant {alias} was not read (a bug in mtoctl; please report it)"
                )
            }
            ExportError::NoOwner(what) => write!(
                f,
                "none of the given tenants is an active owner of a multitenant organization ({what}); give the credential of an owner tenant"
            ),
            ExportError::Spec(why) => write!(
                f,
                "the spec cannot be compared with the live state: {why} (a bug in mtoctl if `mtoctl validate` accepts it; please report it)"
            ),
        }
    }
}

impl std::error::Error for ExportError {}

/// What `observed` shows of each tenant of `input`, by alias; an error names the first tenant
/// it has nothing for.
pub(super) fn observations<'a>(
    input: &ExportInput,
    observed: &'a ObservedState,
) -> Result<BTreeMap<Alias, &'a TenantObservation>, ExportError> {
    input
        .tenants
        .iter()
        .map(|t| {
            let o = observed
                .tenants
                .get(&t.spec.alias)
                .ok_or_else(|| ExportError::MissingObservation(t.spec.alias.clone()))?;
            Ok((t.spec.alias.clone(), o))
        })
        .collect()
}

/// Writes the spec of what `observed` shows for the tenants of `input`.
pub fn export(input: &ExportInput, observed: &ObservedState) -> Result<Exported, ExportError> {
    let obs = observations(input, observed)?;
    let mut warnings = Vec::new();
    let owner = input
        .tenants
        .iter()
        .find(|t| is_active_owner(obs[&t.spec.alias], t))
        .ok_or_else(|| {
            ExportError::NoOwner(
                input
                    .tenants
                    .iter()
                    .map(|t| format!("{}: {}", t.spec.alias, membership(obs[&t.spec.alias], t)))
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
    let org = &obs[&owner.spec.alias].organization;

    // Members: the given tenants the owner sees in its organization.
    let mut tenants: Vec<(&InputTenant, Tenant)> = Vec::new();
    for t in &input.tenants {
        let Some(m) = org.members.iter().find(|m| m.tenant_id == t.spec.tenant_id) else {
            warnings.push(format!(
                "{} is not a member of the organization of {}; left out",
                t.spec.alias, owner.spec.alias
            ));
            continue;
        };
        let removing = m.state.is(&MemberState::Removed)
            || m.transition.as_ref().and_then(|x| x.desired_state.as_ref())
                == Some(&Known::Known(MemberState::Removed));
        if removing {
            warnings.push(format!(
                "{} is being removed from the organization; left out",
                t.spec.alias
            ));
            continue;
        }
        if m.state.is(&MemberState::Pending) {
            warnings.push(format!(
                "{} was added but has not joined yet; the plan will have it join",
                t.spec.alias
            ));
        }
        let role = match &m.role {
            Known::Known(MemberRole::Owner) => Role::Owner,
            Known::Known(MemberRole::Member) => Role::Member,
            Known::Unknown(text) => {
                warnings.push(format!(
                    "{} has the role `{text}`, which mtoctl does not know; written as member",
                    t.spec.alias
                ));
                Role::Member
            }
        };
        tenants.push((
            t,
            Tenant {
                alias: t.spec.alias.0.clone(),
                tenant_id: t.spec.tenant_id.to_string(),
                display_name: m.display_name.clone(),
                role,
                domain: t.spec.domain.clone(),
                auth: t.auth.clone(),
            },
        ));
    }
    for m in &org.members {
        if !input
            .tenants
            .iter()
            .any(|t| t.spec.tenant_id == m.tenant_id)
        {
            warnings.push(format!(
                "tenant {} (\"{}\") is a member of the organization but not in the input; left out (add it with a credential to export it)",
                m.tenant_id, m.display_name
            ));
        }
    }

    let included: Vec<&InputTenant> = tenants.iter().map(|(t, _)| *t).collect();
    let (collaboration, effective) = collaboration::collaboration(&included, &obs);
    let sync = sync::syncs(input, &included, &obs, &effective, &mut warnings);
    let groups_allowed = |s: &Option<mtoctl_model::spec::document::PartnerSettings>| {
        s.as_ref()
            .is_some_and(|s| s.allow_groups_sync_inbound.is_some())
    };
    let collaboration_needs_beta = collaboration.as_ref().is_some_and(|c| {
        groups_allowed(&c.all_pairs)
            || c.overrides
                .iter()
                .any(|o| o.settings.allow_groups_sync_inbound.is_some())
    });
    let beta = if collaboration_needs_beta
        || sync.iter().any(|d| {
            d.scope.group_provisioning
                == Some(mtoctl_model::spec::document::GroupProvisioning::GroupsAndMembers)
        }) {
        vec![mtoctl_model::spec::document::BetaFeature::GroupSync]
    } else {
        Vec::new()
    };

    let document = SpecDocument {
        api_version: ApiVersion::V1Alpha1,
        kind: DocumentKind::MultiTenantOrganization,
        organization: Organization {
            display_name: org.display_name.clone().unwrap_or_default(),
            description: org.description.clone().filter(|d| !d.is_empty()),
        },
        tenants: tenants.into_iter().map(|(_, t)| t).collect(),
        collaboration,
        sync,
        prune: Vec::new(),
        beta,
    };
    Ok(Exported { document, warnings })
}

fn is_active_owner(obs: &TenantObservation, t: &InputTenant) -> bool {
    obs.organization.state.is(&MtoState::Active)
        && obs.organization.members.iter().any(|m| {
            m.tenant_id == t.spec.tenant_id
                && m.role.is(&MemberRole::Owner)
                && m.state.is(&MemberState::Active)
        })
}

fn membership(obs: &TenantObservation, t: &InputTenant) -> String {
    if !obs.organization.state.is(&MtoState::Active) {
        return "no organization".into();
    }
    match obs
        .organization
        .members
        .iter()
        .find(|m| m.tenant_id == t.spec.tenant_id)
    {
        Some(m) => format!("{:?} {:?}", m.state, m.role).to_lowercase(),
        None => "not a member".into(),
    }
}
