//! Credentials: one `TokenCredential` per tenant, built from the spec's `auth` section.
//!
//! azure_identity does the OAuth work (client secret, certificate, client assertion for
//! workload identity federation and GitHub OIDC, managed identity, Azure CLI) and caches tokens.
//! This module maps the spec's credential kinds onto it, reads environment variables and files,
//! and wires the login authority override: azure_identity refuses plain-HTTP authorities, so for
//! a loopback emulator it is given an HTTPS placeholder, and a pipeline policy (module `sign_in`)
//! points every request at the loopback address before it is logged or sent. That policy also
//! retries sign-ins the way Graph requests are retried (within the overall deadline, a refused
//! loopback endpoint only a few times quickly, each retry announced) and types the failure of a
//! sign-in that got no answer.

mod ahead;
mod cache;
mod certificate;
mod github;
mod sign_in;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::{ClientOptions, RetryOptions, Transport};
use azure_identity::{
    AzureCliCredential, AzureCliCredentialOptions, ClientAssertionCredential,
    ClientAssertionCredentialOptions, ClientCertificateCredential,
    ClientCertificateCredentialOptions, ClientSecretCredential, ClientSecretCredentialOptions,
    ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId,
    WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};
use mtoctl_model::desired::{Credential, TenantSpec};

use crate::endpoints::Endpoints;
use crate::error::AuthError;
use crate::transport::retry::RetryPolicy;

pub use ahead::SignedInAhead;
pub use cache::CachedCredential;
pub use github::GITHUB_TOKEN_ENV;

/// The scope of every Graph token mtoctl asks for.
pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

/// The HTTPS authority handed to azure_identity when the real one is plain HTTP on loopback.
const LOOPBACK_PLACEHOLDER: &str = "https://login.mtoctl-loopback.invalid";

/// Where environment variables come from. The CLI passes the process environment; tests pass
/// a map, so they never race on the global environment.
pub trait Environment: Send + Sync {
    /// The variable's value, if set (and valid Unicode).
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// A fixed set of variables. Its `Debug` shows names only, never values.
#[derive(Clone, Default)]
pub struct MapEnvironment(pub BTreeMap<String, String>);

impl fmt::Debug for MapEnvironment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Environment for MapEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

/// What building credentials needs besides the spec.
#[derive(Clone)]
pub struct AuthContext {
    /// The login authority (and Graph) endpoints.
    pub endpoints: Endpoints,
    /// Environment variables.
    pub env: Arc<dyn Environment>,
    /// The spec file's directory: relative certificate and token paths start here.
    pub spec_dir: PathBuf,
    /// The HTTP client for GitHub's OIDC endpoint and the loopback transport.
    pub http: reqwest::Client,
}

impl fmt::Debug for AuthContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthContext")
            .field("endpoints", &self.endpoints)
            .field("spec_dir", &self.spec_dir)
            .finish_non_exhaustive()
    }
}

/// Builds the credential for one tenant, behind a [`CachedCredential`], its sign-ins retried
/// with the default [`RetryPolicy`]. Reads the variables and files it needs now, so that a
/// missing secret is reported before any network call, naming the tenant and the variable.
pub fn credential_for(
    tenant: &TenantSpec,
    ctx: &AuthContext,
) -> Result<Arc<dyn TokenCredential>, AuthError> {
    credential_with_retry(tenant, ctx, &RetryPolicy::default())
}

/// [`credential_for`], its sign-ins retried with `retry` (the Graph client's policy, so that
/// `--deadline` bounds sign-ins as it bounds requests).
pub fn credential_with_retry(
    tenant: &TenantSpec,
    ctx: &AuthContext,
    retry: &RetryPolicy,
) -> Result<Arc<dyn TokenCredential>, AuthError> {
    let alias = tenant.alias.as_str();
    let tenant_id = tenant.tenant_id.to_string();
    let kind = tenant.credential.kind_name();
    let setup = |e: azure_core::Error| AuthError::Setup {
        tenant: alias.to_owned(),
        kind: kind.to_owned(),
        reason: e.to_string(),
    };
    let client_options = client_options(ctx, alias, Some(retry.clone()));
    let credential: Arc<dyn TokenCredential> = match &tenant.credential {
        Credential::ClientSecret {
            client_id,
            secret_env,
        } => {
            let secret = required_var(ctx, alias, secret_env, "auth.clientSecret.fromEnv")?;
            ClientSecretCredential::new(
                &tenant_id,
                client_id.to_string(),
                Secret::new(secret),
                Some(ClientSecretCredentialOptions { client_options }),
            )
            .map_err(setup)?
        }
        Credential::Certificate {
            client_id,
            path,
            format,
            password_env,
        } => {
            let password = match password_env {
                Some(var) => Some(required_var(
                    ctx,
                    alias,
                    var,
                    "auth.certificate.passwordFromEnv",
                )?),
                None => None,
            };
            let file = resolve(&ctx.spec_dir, path);
            let pkcs12 = certificate::load(alias, &file, *format, password.as_deref())?;
            let options = ClientCertificateCredentialOptions {
                client_options,
                password: password.map(Secret::new),
            };
            ClientCertificateCredential::new(
                tenant_id,
                client_id.to_string(),
                pkcs12,
                Some(options),
            )
            .map_err(setup)?
        }
        Credential::WorkloadIdentity {
            client_id,
            token_file,
        } => {
            let path = match token_file {
                Some(p) => resolve(&ctx.spec_dir, p),
                None => PathBuf::from(required_var(
                    ctx,
                    alias,
                    "AZURE_FEDERATED_TOKEN_FILE",
                    "auth.workloadIdentity (no tokenFile given)",
                )?),
            };
            if let Err(e) = std::fs::metadata(&path) {
                return Err(AuthError::File {
                    tenant: alias.to_owned(),
                    what: "the federated token file".into(),
                    path: path.display().to_string(),
                    reason: e.to_string(),
                });
            }
            let options = WorkloadIdentityCredentialOptions {
                credential_options: ClientAssertionCredentialOptions { client_options },
                client_id: Some(client_id.to_string()),
                tenant_id: Some(tenant_id),
                token_file_path: Some(path),
            };
            WorkloadIdentityCredential::new(Some(options)).map_err(setup)?
        }
        Credential::GithubOidc {
            client_id,
            audience,
        } => {
            let assertion = github::GithubOidcAssertion::from_env(alias, ctx, audience)?;
            ClientAssertionCredential::new(
                tenant_id,
                client_id.to_string(),
                assertion,
                Some(ClientAssertionCredentialOptions { client_options }),
            )
            .map_err(setup)?
        }
        Credential::ManagedIdentity { client_id } => {
            // It retries on its own (IMDS's guidance, or azure_core's default): the policy
            // only points and types each attempt.
            let options = ManagedIdentityCredentialOptions {
                user_assigned_id: client_id
                    .as_ref()
                    .map(|id| UserAssignedId::ClientId(id.to_string())),
                client_options: self::client_options(ctx, alias, None),
            };
            ManagedIdentityCredential::new(Some(options)).map_err(setup)?
        }
        Credential::AzureCli => {
            let options = AzureCliCredentialOptions {
                tenant_id: Some(tenant_id),
                ..Default::default()
            };
            AzureCliCredential::new(Some(options)).map_err(setup)?
        }
    };
    Ok(CachedCredential::new(credential))
}

fn required_var(
    ctx: &AuthContext,
    tenant: &str,
    variable: &str,
    field: &str,
) -> Result<String, AuthError> {
    match ctx.env.var(variable) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(AuthError::MissingVariable {
            tenant: tenant.to_owned(),
            variable: variable.to_owned(),
            field: field.to_owned(),
        }),
    }
}

fn resolve(spec_dir: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        spec_dir.join(p)
    }
}

/// azure_identity's options: the authority override; for loopback, the placeholder authority
/// and the shared HTTP client; always, the `sign_in` policy, which retries with `retry` in place
/// of azure_core's retries (with `None`, the credential's own retries stay, and the policy only
/// points and types each attempt).
fn client_options(ctx: &AuthContext, tenant: &str, retry: Option<RetryPolicy>) -> ClientOptions {
    let mut options = ClientOptions::default();
    if retry.is_some() {
        options.retry = RetryOptions::none();
    }
    let login = &ctx.endpoints.login;
    let given = ctx.endpoints.login_as_given();
    let is_default = login.as_str().trim_end_matches('/') == crate::endpoints::LOGIN_DEFAULT;
    let rewrite_to = ctx
        .endpoints
        .login_is_loopback_http()
        .then(|| login.clone());
    options.per_try_policies.push(sign_in::SignIn::new(
        tenant,
        rewrite_to.clone(),
        login.clone(),
        given,
        retry,
    ));
    if is_default {
        return options;
    }
    let mut custom = CustomConfiguration::default();
    if rewrite_to.is_some() {
        custom.authority_host = LOOPBACK_PLACEHOLDER.to_owned();
        options.transport = Some(Transport::new(Arc::new(ctx.http.clone())));
    } else {
        custom.authority_host = login.as_str().trim_end_matches('/').to_owned();
    }
    options.cloud = Some(Arc::new(CloudConfiguration::from(custom)));
    options
}
