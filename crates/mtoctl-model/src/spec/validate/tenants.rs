//! Tenants and their credentials.

use std::collections::BTreeSet;

use super::values::{guid, is_domain};
use super::{Cx, MAX_TENANTS, PartialDocument, TenantTable, duplicates};
use crate::desired::{Credential, TenantSpec};
use crate::ids::{Alias, Guid, TenantId};
use crate::spec::document::{Auth, CertificateFormat, Tenant};
use crate::spec::node::Path;
use crate::spec::secrets::is_env_name;

pub(super) fn check(cx: &mut Cx<'_>, doc: &PartialDocument) -> TenantTable {
    let tenants_path = Path::root().key("tenants");
    let mut table = TenantTable {
        specs: Vec::new(),
        unresolvable: doc.unreadable_aliases.clone(),
        complete: doc.tenants.iter().all(Option::is_some) && doc.tenants_readable,
    };
    let readable: Vec<(usize, &Tenant)> = doc
        .tenants
        .iter()
        .enumerate()
        .filter_map(|(i, t)| t.as_ref().map(|t| (i, t)))
        .collect();

    // Duplicates first, so each tenant below is reported once for what is wrong with it alone.
    let mut duplicate_alias = BTreeSet::new();
    for (alias, indices) in duplicates(
        readable
            .iter()
            .map(|(i, t)| (*i, t.alias.to_ascii_lowercase())),
    ) {
        duplicate_alias.extend(indices.iter().copied());
        report_duplicate(
            cx,
            &tenants_path,
            "alias",
            &indices,
            &format!("the alias `{alias}` is used by more than one tenant"),
        );
    }
    for (id, indices) in duplicates(
        readable
            .iter()
            .filter_map(|(i, t)| Guid::parse(t.tenant_id.trim()).map(|g| (*i, g))),
    ) {
        report_duplicate(
            cx,
            &tenants_path,
            "tenantId",
            &indices,
            &format!("the tenant id {id} is listed more than once"),
        );
    }

    for (i, tenant) in &readable {
        let path = tenants_path.index(*i);
        match tenant_spec(cx, &path, tenant) {
            Some(spec) if !duplicate_alias.contains(i) => table.specs.push((*i, spec)),
            _ => {
                table.complete = false;
                table.unresolvable.insert(tenant.alias.clone());
            }
        }
    }

    // Judged on the roles as written, so that a tenant unreadable for another reason (reported
    // already) still counts as the owner it says it is; an invalid role is reported already too.
    let owner_declared = doc.raw_roles.iter().any(|r| r.as_deref() == Some("owner"));
    let role_unreadable = doc
        .raw_roles
        .iter()
        .any(|r| r.as_deref().is_some_and(|r| r != "owner" && r != "member"));
    if doc.tenants_readable && !doc.tenants.is_empty() && !owner_declared && !role_unreadable {
        cx.error(
            "spec::no_owner",
            &tenants_path,
            "no tenant has `role: owner`".into(),
            "an organization needs at least one owner",
        )
        .with_help("set `role: owner` on the tenant that creates the organization");
    }
    if doc.tenants_readable && doc.tenants.is_empty() {
        cx.error(
            "spec::no_tenants",
            &tenants_path,
            "the spec lists no tenants".into(),
            "empty",
        )
        .with_help("list at least the owner tenant");
    }
    if doc.tenants.len() > MAX_TENANTS {
        cx.error(
            "spec::too_many_tenants",
            &tenants_path,
            format!(
                "the spec lists {} tenants; a multitenant organization has at most {MAX_TENANTS} active tenants",
                doc.tenants.len()
            ),
            "too many tenants",
        )
        .with_help("Microsoft support can raise the limit; split the organization otherwise");
    }
    table
}

fn report_duplicate(
    cx: &mut Cx<'_>,
    tenants_path: &Path,
    field: &str,
    indices: &[usize],
    message: &str,
) {
    let code = if field == "alias" {
        "spec::duplicate_alias"
    } else {
        "spec::duplicate_tenant_id"
    };
    let first = tenants_path.index(indices[0]).key(field);
    let first_span = cx.span(&first);
    for i in &indices[1..] {
        let path = tenants_path.index(*i).key(field);
        cx.error(code, &path, message.to_owned(), "used again here")
            .with_label(first_span, "first used here")
            .with_help(format!("every tenant needs its own `{field}`"));
    }
}

fn tenant_spec(cx: &mut Cx<'_>, path: &Path, tenant: &Tenant) -> Option<TenantSpec> {
    let mut ok = true;
    if !Alias::is_valid(&tenant.alias) {
        cx.error(
            "spec::alias",
            &path.key("alias"),
            format!("`{}` is not a valid tenant alias", tenant.alias),
            "invalid alias",
        )
        .with_help(
            "an alias starts with a letter and has only letters, digits, `-` and `_` (at most 63)",
        );
        ok = false;
    }
    let tenant_id = guid(cx, &path.key("tenantId"), &tenant.tenant_id, "tenant id").map(TenantId);
    if tenant.display_name.trim().is_empty() {
        cx.error(
            "spec::empty",
            &path.key("displayName"),
            "the tenant's display name is empty".into(),
            "empty",
        )
        .with_help("the display name is how the tenant appears in the organization");
        ok = false;
    }
    let domain = match &tenant.domain {
        Some(d) if !is_domain(d) => {
            cx.error(
                "spec::domain",
                &path.key("domain"),
                format!("`{d}` is not a domain name"),
                "not a domain",
            )
            .with_help("use the tenant's default domain, such as contoso.onmicrosoft.com");
            ok = false;
            None
        }
        other => other.as_ref().map(|d| d.to_ascii_lowercase()),
    };
    let credential = credential(cx, &path.key("auth"), &tenant.auth);
    match (ok, tenant_id, credential) {
        (true, Some(tenant_id), Some(credential)) => Some(TenantSpec {
            alias: Alias(tenant.alias.clone()),
            tenant_id,
            display_name: tenant.display_name.clone(),
            role: tenant.role,
            domain,
            credential,
        }),
        _ => None,
    }
}

/// Exactly one credential kind, with what that kind needs.
fn credential(cx: &mut Cx<'_>, path: &Path, auth: &Auth) -> Option<Credential> {
    let Auth {
        client_id,
        client_secret,
        certificate,
        workload_identity,
        github_oidc,
        managed_identity,
        azure_cli,
    } = auth;
    let kinds: Vec<&str> = [
        ("clientSecret", client_secret.is_some()),
        ("certificate", certificate.is_some()),
        ("workloadIdentity", workload_identity.is_some()),
        ("githubOidc", github_oidc.is_some()),
        ("managedIdentity", managed_identity.is_some()),
        ("azureCli", azure_cli.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect();
    if kinds.is_empty() {
        // A literal secret removed from here was reported already; "no credential" would echo it.
        if !cx.tainted_below(path) {
            cx.error("spec::credential", path, "no credential kind is given".into(), "needs one credential kind")
                .with_help("add one of clientSecret, certificate, workloadIdentity, githubOidc, managedIdentity, azureCli");
        }
        return None;
    }
    if kinds.len() > 1 {
        let second = path.key(kinds[1]);
        let span = cx.key_span(&second);
        let d = cx.error(
            "spec::credential",
            &path.key(kinds[0]),
            format!(
                "more than one credential kind is given: {}",
                kinds.join(", ")
            ),
            "first kind",
        );
        d.with_label(span, "second kind")
            .with_help("keep exactly one credential kind per tenant");
        return None;
    }
    let client_id = match client_id {
        Some(text) => Some(guid(cx, &path.key("clientId"), text, "client id")?),
        None => None,
    };
    let needs_client_id = |cx: &mut Cx<'_>, kind: &str| -> Option<Guid> {
        // A `clientId` of the wrong type was reported and dropped already.
        if client_id.is_none() && !cx.tainted_below(&path.key("clientId")) {
            cx.error(
                "spec::credential",
                &path.key(kind),
                format!("`{kind}` needs `clientId`"),
                "no client id for this credential",
            )
            .with_help("add `clientId:` with the application (client) id of mtoctl's app registration in this tenant");
        }
        client_id.clone()
    };
    if let Some(secret) = client_secret {
        let env_ok = env_name(
            cx,
            &path.key("clientSecret").key("fromEnv"),
            &secret.from_env,
        );
        let id = needs_client_id(cx, "clientSecret")?;
        return env_ok.then(|| Credential::ClientSecret {
            client_id: id,
            secret_env: secret.from_env.clone(),
        });
    }
    if let Some(cert) = certificate {
        let cert_path = path.key("certificate");
        let password_ok = cert
            .password_from_env
            .as_ref()
            .is_none_or(|p| env_name(cx, &cert_path.key("passwordFromEnv"), p));
        let format = cert.format.or_else(|| certificate_format(&cert.path));
        if format.is_none() {
            cx.error(
                "spec::certificate",
                &cert_path.key("path"),
                format!(
                    "cannot tell the format of `{}` from its extension",
                    cert.path
                ),
                "unknown extension",
            )
            .with_help(
                "name the file .pfx, .p12 or .pem, or add `format: pkcs12` or `format: pem`",
            );
        }
        if cert.path.trim().is_empty() {
            cx.error(
                "spec::empty",
                &cert_path.key("path"),
                "the certificate path is empty".into(),
                "empty",
            );
            return None;
        }
        let id = needs_client_id(cx, "certificate")?;
        return (password_ok && format.is_some()).then(|| Credential::Certificate {
            client_id: id,
            path: cert.path.clone(),
            format: format.unwrap_or(CertificateFormat::Pkcs12),
            password_env: cert.password_from_env.clone(),
        });
    }
    if let Some(wif) = workload_identity {
        let id = needs_client_id(cx, "workloadIdentity")?;
        return Some(Credential::WorkloadIdentity {
            client_id: id,
            token_file: wif.token_file.clone(),
        });
    }
    if let Some(oidc) = github_oidc {
        let id = needs_client_id(cx, "githubOidc")?;
        return Some(Credential::GithubOidc {
            client_id: id,
            audience: oidc
                .audience
                .clone()
                .unwrap_or_else(|| Credential::GITHUB_DEFAULT_AUDIENCE.to_owned()),
        });
    }
    if managed_identity.is_some() {
        return Some(Credential::ManagedIdentity { client_id });
    }
    if client_id.is_some() {
        cx.warning(
            "spec::credential",
            &path.key("clientId"),
            "`clientId` is ignored with `azureCli`: the CLI signs in as its own account".into(),
            "ignored",
        );
    }
    Some(Credential::AzureCli)
}

fn env_name(cx: &mut Cx<'_>, path: &Path, name: &str) -> bool {
    if is_env_name(name) {
        return true;
    }
    // Strings that look like secrets were reported as literal secrets already.
    if !cx.tainted_below(path) {
        cx.error(
            "spec::env_name",
            path,
            format!("`{name}` is not an environment variable name"),
            "not a variable name",
        )
        .with_help("use letters, digits and `_`, starting with a letter or `_` (for example CONTOSO_CLIENT_SECRET)");
    }
    false
}

fn certificate_format(path: &str) -> Option<CertificateFormat> {
    let lower = path.to_ascii_lowercase();
    if lower.ends_with(".pfx") || lower.ends_with(".p12") {
        Some(CertificateFormat::Pkcs12)
    } else if lower.ends_with(".pem") {
        Some(CertificateFormat::Pem)
    } else {
        None
    }
}
