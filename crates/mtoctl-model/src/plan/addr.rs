//! Resource addresses: stable, human-readable names for the objects a plan reads and changes.
//!
//! An address is the plan's key for an object, the ordering tie-break and what the renderers
//! show, so it must not depend on anything but the spec's names and Graph's keys. Tenants are
//! named by alias; objects for tenants the spec does not list are named by tenant id.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A stable address such as `tenant.contoso.partner["fabrikam"].identity_sync`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ResourceAddr(pub String);

/// Quotes a key the way addresses show them: `["name"]`, with `"` and `\` escaped.
fn key(name: &str) -> String {
    let escaped = name.replace('\\', "\\\\").replace('"', "\\\"");
    format!("[\"{escaped}\"]")
}

impl ResourceAddr {
    /// The multitenant organization itself (`organization`).
    pub fn organization() -> Self {
        Self("organization".into())
    }

    /// One member of the organization, as the owners see it.
    pub fn member(name: &str) -> Self {
        Self(format!("organization.member{}", key(name)))
    }

    /// The organization object as one tenant reads it.
    pub fn tenant_organization(tenant: &str) -> Self {
        Self(format!("tenant.{tenant}.organization"))
    }

    /// A tenant's join request record.
    pub fn join_request(tenant: &str) -> Self {
        Self(format!("tenant.{tenant}.join_request"))
    }

    /// A tenant's MTO partner configuration template.
    pub fn partner_template(tenant: &str) -> Self {
        Self(format!("tenant.{tenant}.template.partner_configuration"))
    }

    /// A tenant's MTO identity synchronization template.
    pub fn identity_sync_template(tenant: &str) -> Self {
        Self(format!("tenant.{tenant}.template.identity_sync"))
    }

    /// The partner configuration `tenant` holds for `partner`.
    pub fn partner(tenant: &str, partner: &str) -> Self {
        Self(format!("tenant.{tenant}.partner{}", key(partner)))
    }

    /// The identity synchronization policy `tenant` holds for `partner`.
    pub fn identity_sync(tenant: &str, partner: &str) -> Self {
        Self(format!(
            "{}.identity_sync",
            Self::partner(tenant, partner).0
        ))
    }

    /// A cross-tenant synchronization configuration in its source tenant.
    pub fn sync(tenant: &str, name: &str) -> Self {
        Self(format!("tenant.{tenant}.sync{}", key(name)))
    }

    /// A part of a sync configuration (`job`, `credentials`, `secrets`, `schema`).
    pub fn sync_part(tenant: &str, name: &str, part: &str) -> Self {
        Self(format!("{}.{part}", Self::sync(tenant, name).0))
    }

    /// One assignment of a sync configuration (`user:alice@contoso.com`, `group:Sales`).
    pub fn assignment(tenant: &str, name: &str, principal: &str) -> Self {
        Self(format!(
            "{}.assignment{}",
            Self::sync(tenant, name).0,
            key(principal)
        ))
    }

    /// An account synchronization made in a target tenant, by its UPN there.
    pub fn synced_user(tenant: &str, user_principal_name: &str) -> Self {
        Self(format!(
            "tenant.{tenant}.synced_user{}",
            key(user_principal_name)
        ))
    }

    /// The address text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ResourceAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_read_like_the_docs() {
        assert_eq!(
            ResourceAddr::identity_sync("contoso", "fabrikam").as_str(),
            "tenant.contoso.partner[\"fabrikam\"].identity_sync"
        );
        assert_eq!(
            ResourceAddr::assignment("contoso", "MTO_Sync_x", "user:a\"b").as_str(),
            "tenant.contoso.sync[\"MTO_Sync_x\"].assignment[\"user:a\\\"b\"]"
        );
    }
}
