//! The token endpoint (`POST /{tenant}/oauth2/v2.0/token`, client credentials)
//! and bearer-token validation for Graph calls.
//!
//! Access tokens are JWT-shaped (`base64url(header).base64url(payload).sig`)
//! and signed with HMAC-SHA256 under a per-world key, so a token minted by
//! another emulator world, or edited by hand, is rejected. Client assertions
//! (federated credentials and certificates) are matched on their claims and
//! `x5t`/`x5t#S256` thumbprints only: **their signatures are not verified**.

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::clock::aad_timestamp;
use crate::core::Core;
use crate::errors::GraphError;
use crate::state::AppCredential;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;
/// The audience of every access token.
pub const GRAPH_AUDIENCE: &str = "https://graph.microsoft.com";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A token endpoint answer: HTTP status and JSON body.
pub type TokenAnswer = (u16, Value);

fn aad_error(
    core: &mut Core,
    status: u16,
    error: &str,
    code: u32,
    description: &str,
) -> TokenAnswer {
    let now = core.now();
    let trace = core.noise.guid();
    let correlation = core.noise.guid();
    (
        status,
        json!({
            "error": error,
            "error_description": format!(
                "AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {correlation} Timestamp: {}",
                aad_timestamp(now)
            ),
            "error_codes": [code],
            "timestamp": aad_timestamp(now),
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
        }),
    )
}

/// Resolve a tenant path segment (GUID or a tenant's domain).
fn resolve_tenant(core: &Core, seg: &str) -> Option<String> {
    let seg = seg.to_ascii_lowercase();
    if core.state.tenants.contains_key(&seg) {
        return Some(seg);
    }
    core.state
        .tenants
        .values()
        .find(|t| t.domain == seg)
        .map(|t| t.id.clone())
}

fn form_get<'a>(form: &'a [(String, String)], key: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Decode the header and payload of a JWT without verifying anything.
pub fn decode_unverified(token: &str) -> Option<(Value, Value)> {
    let mut parts = token.split('.');
    let (h, p, _s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let header: Value = serde_json::from_slice(&B64.decode(h.trim_end_matches('=')).ok()?).ok()?;
    let payload: Value = serde_json::from_slice(&B64.decode(p.trim_end_matches('=')).ok()?).ok()?;
    (header.is_object() && payload.is_object()).then_some((header, payload))
}

fn mac(key: &str, data: &[u8]) -> Vec<u8> {
    match Hmac::<Sha256>::new_from_slice(key.as_bytes()) {
        Ok(mut m) => {
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

/// Handle a token request. `basic` carries HTTP Basic client credentials.
pub fn token(
    core: &mut Core,
    tenant_seg: &str,
    form: &[(String, String)],
    basic: Option<(String, String)>,
) -> TokenAnswer {
    let Some(tenant) = resolve_tenant(core, tenant_seg) else {
        let d = format!(
            "Tenant '{tenant_seg}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
        );
        return aad_error(core, 400, "invalid_request", 90002, &d);
    };
    match form_get(form, "grant_type") {
        Some("client_credentials") => {}
        Some(other) => {
            let d = format!("The app requested an unsupported grant type '{other}'.");
            return aad_error(core, 400, "unsupported_grant_type", 70003, &d);
        }
        None => {
            return aad_error(
                core,
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'grant_type'.",
            );
        }
    }
    let client_id = form_get(form, "client_id")
        .map(str::to_owned)
        .or_else(|| basic.as_ref().map(|b| b.0.clone()));
    let Some(client_id) = client_id.map(|c| c.to_ascii_lowercase()) else {
        return aad_error(
            core,
            400,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        );
    };
    match form_get(form, "scope") {
        Some(s)
            if s == "https://graph.microsoft.com/.default"
                || s == "00000003-0000-0000-c000-000000000000/.default" => {}
        Some(s) => {
            let d = format!(
                "The provided value for the input parameter 'scope' is not valid. The scope {s} is not valid."
            );
            return aad_error(core, 400, "invalid_scope", 70011, &d);
        }
        None => {
            return aad_error(
                core,
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'scope'.",
            );
        }
    }
    let app = core
        .state
        .tenants
        .get(&tenant)
        .and_then(|t| t.apps.iter().find(|a| a.client_id == client_id))
        .cloned();
    let Some(app) = app else {
        let d = format!(
            "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant."
        );
        return aad_error(core, 400, "unauthorized_client", 700016, &d);
    };
    let secret = form_get(form, "client_secret")
        .map(str::to_owned)
        .or(basic.map(|b| b.1));
    let assertion = form_get(form, "client_assertion");
    if let Some(secret) = secret {
        if !app.secrets.contains(&secret) {
            let d = format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
            );
            return aad_error(core, 401, "invalid_client", 7_000_215, &d);
        }
    } else if let Some(assertion) = assertion {
        if form_get(form, "client_assertion_type") != Some(JWT_BEARER) {
            return aad_error(
                core,
                400,
                "invalid_request",
                50_027,
                "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer.",
            );
        }
        // Assertions are made with the client's clock, which is the wall clock, not the
        // virtual one (that may have been moved on by hours).
        if let Err((code, d)) = check_assertion(wall_now_ms(), &app, assertion) {
            return aad_error(core, 401, "invalid_client", code, &d);
        }
    } else {
        return aad_error(
            core,
            401,
            "invalid_client",
            7_000_218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        );
    }
    let lifetime_s = (core.state.timings.token_lifetime.max(1.0)) as i64;
    let now_s = core.now().div_euclid(1000);
    let wall_exp_s = wall_now_ms().div_euclid(1000) + lifetime_s;
    let uti = core.noise.hex(22);
    let header = json!({"typ": "JWT", "alg": "HS256", "kid": "mtoctl-emulator"});
    let payload = json!({
        "aud": GRAPH_AUDIENCE,
        "iss": format!("https://sts.windows.net/{tenant}/"),
        "iat": now_s,
        "nbf": now_s,
        "exp": now_s + lifetime_s,
        // When the token really expires: lifetimes run on the wall clock, like the client's
        // token cache, so a virtual clock moved on by hours does not expire tokens a client
        // still (rightly) holds. `exp` stays virtual for realism of the claims.
        "xms_mtoctl_wall_exp": wall_exp_s,
        "appid": client_id,
        "azp": client_id,
        "idtyp": "app",
        "roles": app.roles,
        "sub": client_id,
        "tid": tenant,
        "uti": uti,
        "ver": "1.0",
    });
    let signing_input = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(payload.to_string())
    );
    let sig = B64.encode(mac(&core.state.signing_key, signing_input.as_bytes()));
    (
        200,
        json!({
            "token_type": "Bearer",
            "expires_in": lifetime_s,
            "ext_expires_in": lifetime_s,
            "access_token": format!("{signing_input}.{sig}"),
        }),
    )
}

/// Milliseconds since the Unix epoch on the wall clock (token and assertion lifetimes).
fn wall_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A thumbprint header value in the form world files store: base64url without padding.
/// Standard base64 (with `+`, `/` and `=`) is accepted too; anything undecodable stays as it is
/// (and so matches nothing).
fn canonical_thumbprint(value: &str) -> String {
    use base64::Engine as _;
    let engines = [
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
        base64::engine::general_purpose::STANDARD_NO_PAD,
    ];
    let trimmed = value.trim_end_matches('=');
    engines
        .iter()
        .find_map(|e| e.decode(trimmed).ok())
        .map(|bytes| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
        .unwrap_or_else(|| value.to_owned())
}

/// Match a client assertion against the app's federated credentials and
/// certificates. Signatures are deliberately not verified.
fn check_assertion(now_ms: i64, app: &AppCredential, assertion: &str) -> Result<(), (u32, String)> {
    let Some((header, payload)) = decode_unverified(assertion) else {
        return Err((50_027, "JWT token is invalid or malformed.".into()));
    };
    let now_s = now_ms.div_euclid(1000);
    if payload
        .get("exp")
        .and_then(Value::as_i64)
        .is_some_and(|exp| exp < now_s)
    {
        return Err((
            700_024,
            "Client assertion is not within its valid time range.".into(),
        ));
    }
    let claim = |k: &str| payload.get(k).and_then(Value::as_str).unwrap_or("");
    let auds: Vec<&str> = match payload.get("aud") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    // Thumbprints are compared as bytes: RFC 7515 says base64url, but azure_identity (like
    // other Microsoft SDKs) sends standard base64 with padding, and Entra accepts both.
    let x5t = header
        .get("x5t")
        .and_then(Value::as_str)
        .map(canonical_thumbprint);
    let x5t256 = header
        .get("x5t#S256")
        .and_then(Value::as_str)
        .map(canonical_thumbprint);
    let (x5t, x5t256) = (x5t.as_deref(), x5t256.as_deref());
    if x5t.is_some() || x5t256.is_some() {
        let known = app.certificates.iter().any(|c| {
            (x5t.is_some() && c.x5t.as_deref() == x5t)
                || (x5t256.is_some() && c.x5t_s256.as_deref() == x5t256)
        });
        if !known {
            return Err((
                700_027,
                "Client assertion contains an invalid signature. [Reason - The key was not found.]"
                    .into(),
            ));
        }
        if !claim("iss").eq_ignore_ascii_case(&app.client_id)
            || !claim("sub").eq_ignore_ascii_case(&app.client_id)
        {
            return Err((
                700_023,
                "Client assertion audience, issuer or subject does not match the client id.".into(),
            ));
        }
        return Ok(());
    }
    if !app
        .federated_credentials
        .iter()
        .any(|f| f.issuer == claim("iss"))
    {
        return Err((
            700_211,
            format!(
                "No matching federated identity record found for presented assertion issuer '{}'.",
                claim("iss")
            ),
        ));
    }
    let matched = app.federated_credentials.iter().any(|f| {
        f.issuer == claim("iss")
            && f.subject == claim("sub")
            && auds.iter().any(|a| f.audiences.iter().any(|x| x == a))
    });
    if !matched {
        return Err((
            70_021,
            format!(
                "No matching federated identity record found for presented assertion. Assertion Issuer: '{}'. Assertion Subject: '{}'. Assertion Audience: '{}'.",
                claim("iss"),
                claim("sub"),
                auds.join(",")
            ),
        ));
    }
    Ok(())
}

/// Claims of a validated access token.
#[derive(Debug, Clone)]
pub struct Claims {
    /// Tenant.
    pub tenant: String,
    /// Client id.
    pub app_id: String,
    /// Roles.
    pub roles: Vec<String>,
}

/// Validate an `Authorization` header value.
pub fn validate_bearer(core: &Core, authorization: Option<&str>) -> Result<Claims, GraphError> {
    let Some(h) = authorization.map(str::trim).filter(|h| !h.is_empty()) else {
        return Err(GraphError::unauthorized("Access token is empty."));
    };
    let token = match h.split_once(' ') {
        Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") => t.trim(),
        _ => return Err(GraphError::unauthorized("Access token is empty.")),
    };
    let invalid =
        || GraphError::unauthorized("IDX14100: JWT is not well formed, there are no dots (.).");
    let (signing_input, sig) = token.rsplit_once('.').ok_or_else(invalid)?;
    let (_, payload) = decode_unverified(token).ok_or_else(invalid)?;
    let expected = B64.encode(mac(&core.state.signing_key, signing_input.as_bytes()));
    if expected != sig {
        return Err(GraphError::unauthorized(
            "Access token validation failure. Invalid signature.",
        ));
    }
    if payload.get("aud").and_then(Value::as_str) != Some(GRAPH_AUDIENCE) {
        return Err(GraphError::unauthorized(
            "Access token validation failure. Invalid audience.",
        ));
    }
    let exp = payload
        .get("xms_mtoctl_wall_exp")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if exp <= wall_now_ms().div_euclid(1000) {
        return Err(GraphError::unauthorized(
            "Lifetime validation failed, the token is expired.",
        ));
    }
    let tenant = payload
        .get("tid")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let app_id = payload
        .get("appid")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let Some(t) = core.state.tenants.get(&tenant) else {
        return Err(GraphError::unauthorized(
            "Access token validation failure. Unknown tenant.",
        ));
    };
    if !t.apps.iter().any(|a| a.client_id == app_id) {
        return Err(GraphError::unauthorized(
            "Access token validation failure. The application is no longer registered.",
        ));
    }
    let roles = payload
        .get("roles")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Ok(Claims {
        tenant,
        app_id,
        roles,
    })
}

/// Parse an HTTP Basic `Authorization` header into (client id, secret).
pub fn basic_credentials(authorization: Option<&str>) -> Option<(String, String)> {
    let v = authorization?.trim();
    let (scheme, rest) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (id, secret) = s.split_once(':')?;
    Some((
        crate::odata::percent_decode(id, true),
        crate::odata::percent_decode(secret, true),
    ))
}
