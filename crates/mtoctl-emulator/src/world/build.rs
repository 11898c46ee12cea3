//! World-file forms turned into state objects: tenants with their apps, users and groups.

use super::spec::{AppSpec, GroupSpec, TenantSpec, UserSpec};
use super::{DEFAULT_ROLES, WorldError};
use crate::ids::{self, Rng};
use crate::state::{AppCredential, Certificate, FederatedCredential, Group, Tenant, User};

/// Build a tenant (apps, users, groups) from its world-file form.
pub fn build_tenant(rng: &mut Rng, t: TenantSpec, now: i64) -> Result<Tenant, WorldError> {
    let id = t.id.to_ascii_lowercase();
    if !ids::is_guid(&id) {
        return Err(WorldError::Invalid(format!(
            "tenant id {:?} is not a GUID",
            t.id
        )));
    }
    let mut tenant = Tenant::new(rng, &id, &t.display_name, &t.domain.to_ascii_lowercase());
    for a in t.apps {
        tenant.apps.push(app_from_spec(a)?);
    }
    for u in t.users {
        add_user(&mut tenant, rng, u, now)?;
    }
    for g in t.groups {
        add_group(&mut tenant, rng, g, now)?;
    }
    if let Some(skus) = t.skus {
        tenant.skus = skus;
    }
    Ok(tenant)
}

/// Add an internal user to a tenant; returns its object id.
pub fn add_user(
    tenant: &mut Tenant,
    rng: &mut Rng,
    u: UserSpec,
    now: i64,
) -> Result<String, WorldError> {
    let user = user_from_spec(rng, u, now)?;
    if tenant.users.iter().any(|x| {
        x.id == user.id
            || x.user_principal_name
                .eq_ignore_ascii_case(&user.user_principal_name)
    }) {
        return Err(WorldError::Invalid(format!(
            "user {} already exists in tenant {}",
            user.user_principal_name, tenant.id
        )));
    }
    let id = user.id.clone();
    let mut user = user;
    user.changed_seq = tenant.next_seq();
    tenant.users.push(user);
    Ok(id)
}

/// Add a group to a tenant; members are UPNs or ids of existing users. Returns its id.
pub fn add_group(
    tenant: &mut Tenant,
    rng: &mut Rng,
    g: GroupSpec,
    now: i64,
) -> Result<String, WorldError> {
    let gid = match g.id {
        Some(i) if ids::is_guid(&i) => i.to_ascii_lowercase(),
        Some(i) => return Err(WorldError::Invalid(format!("group id {i:?} is not a GUID"))),
        None => rng.guid(),
    };
    if tenant.groups.iter().any(|x| x.id == gid) {
        return Err(WorldError::Invalid(format!(
            "group {gid} already exists in tenant {}",
            tenant.id
        )));
    }
    let mut members = Vec::new();
    for m in &g.members {
        let found = tenant.users.iter().find(|u| {
            u.deleted_ms.is_none()
                && (u.id.eq_ignore_ascii_case(m) || u.user_principal_name.eq_ignore_ascii_case(m))
        });
        match found {
            Some(u) => members.push(u.id.clone()),
            None => {
                return Err(WorldError::Invalid(format!(
                    "group {:?} member {m:?} is not a user of tenant {}",
                    g.display_name, tenant.id
                )));
            }
        }
    }
    let nick: String = g
        .display_name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    tenant.groups.push(Group {
        id: gid.clone(),
        display_name: g.display_name,
        description: g.description,
        mail_enabled: g.mail_enabled.unwrap_or(false),
        security_enabled: g.security_enabled.unwrap_or(true),
        group_types: g.group_types,
        mail_nickname: nick,
        members,
        created_ms: now,
        changed_seq: 0,
        deleted_ms: None,
        synced_from: None,
    });
    let seq = tenant.next_seq();
    if let Some(g) = tenant.groups.last_mut() {
        g.changed_seq = seq;
    }
    Ok(gid)
}

/// An app registration's credentials from its world-file form; `roles` default to
/// [`DEFAULT_ROLES`].
fn app_from_spec(a: AppSpec) -> Result<AppCredential, WorldError> {
    if !ids::is_guid(&a.client_id) {
        return Err(WorldError::Invalid(format!(
            "app clientId {:?} is not a GUID",
            a.client_id
        )));
    }
    let mut secrets = a.secrets;
    if let Some(s) = a.secret {
        secrets.insert(0, s);
    }
    let mut certificates = Vec::new();
    for c in a.certificates {
        let sha1 = c
            .thumbprint
            .map(|t| normalize_thumbprint(&t, 20))
            .transpose()?;
        let sha256 = c
            .thumbprint_sha256
            .map(|t| normalize_thumbprint(&t, 32))
            .transpose()?;
        if sha1.is_none() && sha256.is_none() {
            return Err(WorldError::Invalid(
                "a certificate needs thumbprint or thumbprintSha256".into(),
            ));
        }
        certificates.push(Certificate {
            x5t: sha1,
            x5t_s256: sha256,
        });
    }
    Ok(AppCredential {
        client_id: a.client_id.to_ascii_lowercase(),
        display_name: a.display_name,
        secrets,
        roles: a
            .roles
            .unwrap_or_else(|| DEFAULT_ROLES.iter().map(|r| (*r).to_owned()).collect()),
        federated_credentials: a
            .federated_credentials
            .into_iter()
            .map(|f| FederatedCredential {
                issuer: f.issuer,
                subject: f.subject,
                audiences: if f.audiences.is_empty() {
                    vec!["api://AzureADTokenExchange".into()]
                } else {
                    f.audiences
                },
            })
            .collect(),
        certificates,
    })
}

/// Accept a thumbprint as hex (of `len` bytes) or base64url; return base64url.
fn normalize_thumbprint(t: &str, len: usize) -> Result<String, WorldError> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let clean: String = t
        .chars()
        .filter(|c| *c != ':' && !c.is_whitespace())
        .collect();
    if clean.len() == len * 2
        && let Some(bytes) = ids::hex_decode(&clean)
    {
        return Ok(b64.encode(bytes));
    }
    match b64.decode(clean.trim_end_matches('=')) {
        Ok(bytes) if bytes.len() == len => Ok(b64.encode(bytes)),
        _ => Err(WorldError::Invalid(format!(
            "thumbprint {t:?} is neither {} hex digits nor base64url of {len} bytes",
            len * 2
        ))),
    }
}

/// An internal user from its world-file form.
fn user_from_spec(rng: &mut Rng, u: UserSpec, now: i64) -> Result<User, WorldError> {
    let profile = u.profile();
    let id = match u.id {
        Some(i) if ids::is_guid(&i) => i.to_ascii_lowercase(),
        Some(i) => return Err(WorldError::Invalid(format!("user id {i:?} is not a GUID"))),
        None => rng.guid(),
    };
    let Some((local, _)) = u.user_principal_name.split_once('@') else {
        return Err(WorldError::Invalid(format!(
            "userPrincipalName {:?} has no @domain",
            u.user_principal_name
        )));
    };
    let user_type = u.user_type.unwrap_or_else(|| "Member".into());
    if user_type != "Member" && user_type != "Guest" {
        return Err(WorldError::Invalid(format!(
            "userType {user_type:?} is not Member or Guest"
        )));
    }
    Ok(User {
        id,
        display_name: u.display_name.unwrap_or_else(|| local.to_owned()),
        given_name: u.given_name,
        surname: u.surname,
        mail: Some(u.mail.unwrap_or_else(|| u.user_principal_name.clone())),
        department: u.department,
        job_title: u.job_title,
        user_type,
        account_enabled: u.account_enabled.unwrap_or(true),
        show_in_address_list: None,
        user_principal_name: u.user_principal_name,
        created_ms: now,
        deleted_ms: None,
        external: None,
        changed_seq: 0,
        identities: None,
        profile,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprints_normalize() {
        let hex = "0123456789abcdef0123456789abcdef01234567";
        let b = normalize_thumbprint(hex, 20).unwrap();
        assert_eq!(normalize_thumbprint(&b, 20).unwrap(), b);
        assert!(normalize_thumbprint("abc", 20).is_err());
    }
}
