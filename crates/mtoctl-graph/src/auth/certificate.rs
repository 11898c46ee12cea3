//! Certificate files: PKCS#12 as it is, PEM (certificate and private key) converted to PKCS#12
//! in memory, because azure_identity's certificate credential reads PKCS#12 only.

use std::path::Path;

use azure_core::credentials::SecretBytes;
use mtoctl_model::spec::document::CertificateFormat;
use openssl::pkcs12::Pkcs12;
use openssl::pkey::PKey;
use openssl::x509::X509;

use crate::error::AuthError;

/// The PKCS#12 bytes of the certificate at `path`, protected by `password` when it has one.
pub(super) fn load(
    tenant: &str,
    path: &Path,
    format: CertificateFormat,
    password: Option<&str>,
) -> Result<SecretBytes, AuthError> {
    let bytes = std::fs::read(path).map_err(|e| AuthError::File {
        tenant: tenant.to_owned(),
        what: "the certificate".into(),
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    match format {
        CertificateFormat::Pkcs12 => Ok(SecretBytes::new(bytes)),
        CertificateFormat::Pem => pem_to_pkcs12(&bytes, password)
            .map(SecretBytes::new)
            .map_err(|reason| AuthError::File {
                tenant: tenant.to_owned(),
                what: "the PEM certificate".into(),
                path: path.display().to_string(),
                reason,
            }),
    }
}

fn pem_to_pkcs12(pem: &[u8], password: Option<&str>) -> Result<Vec<u8>, String> {
    let cert = X509::from_pem(pem).map_err(|_| "no certificate in the file".to_owned())?;
    let key = match password {
        Some(p) => PKey::private_key_from_pem_passphrase(pem, p.as_bytes()),
        None => PKey::private_key_from_pem(pem),
    }
    .map_err(|_| "no readable private key in the file (wrong password?)".to_owned())?;
    let mut builder = Pkcs12::builder();
    builder.name("mtoctl").pkey(&key).cert(&cert);
    let pkcs12 = builder
        .build2(password.unwrap_or(""))
        .map_err(|e| format!("cannot repackage the key and certificate: {e}"))?;
    pkcs12
        .to_der()
        .map_err(|e| format!("cannot encode PKCS#12: {e}"))
}
