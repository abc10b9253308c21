//! Certificates for mutually authenticated TLS between providers, used by
//! the reference provider and by the harness's relay (`run::relay`).
//!
//! Each run makes its own certificate authority ([`RunCa`]) and issues one
//! certificate per provider whose only SAN is the provider's domain. Peers are
//! reached by address, never by DNS: the client side pins the peer's domain as
//! the TLS server name, so the peer's certificate must match that domain.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::Arc;

/// PEM material one provider needs: what it trusts and who it is.
#[derive(Clone)]
pub struct TlsMaterial {
    /// CA certificate(s) the provider trusts for its own run (PEM).
    pub ca_pem: String,
    /// The provider's certificate chain (PEM), leaf first.
    pub cert_pem: String,
    /// The private key for the leaf certificate (PEM, PKCS#8).
    pub key_pem: String,
}

impl std::fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsMaterial").finish_non_exhaustive()
    }
}

/// Why certificate material could not be made or used.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("cannot generate certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("invalid PEM ({what}): {reason}")]
    Pem { what: &'static str, reason: String },
    #[error("TLS configuration rejected: {0}")]
    Tls(String),
}

/// A certificate authority for one run.
pub struct RunCa {
    cert_pem: String,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl RunCa {
    /// A fresh CA with a random key.
    pub fn new(name: &str) -> Result<Self, PkiError> {
        let key = rcgen::KeyPair::generate()?;
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key)?;
        Ok(Self {
            cert_pem: cert.pem(),
            issuer: rcgen::Issuer::new(params, key),
        })
    }

    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// A certificate for `domain` (SAN = domain), usable as TLS server and
    /// client certificate.
    pub fn issue(&self, domain: &str) -> Result<TlsMaterial, PkiError> {
        let key = rcgen::KeyPair::generate()?;
        let mut params = rcgen::CertificateParams::new(vec![domain.to_owned()])?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, domain);
        params.extended_key_usages = vec![
            rcgen::ExtendedKeyUsagePurpose::ServerAuth,
            rcgen::ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(TlsMaterial {
            ca_pem: self.cert_pem.clone(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

/// Makes sure one rustls crypto provider is installed (aws-lc-rs, which
/// reqwest uses too). Installing twice is harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

pub fn parse_certs(
    pem: &str,
    what: &'static str,
) -> Result<Vec<CertificateDer<'static>>, PkiError> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| PkiError::Pem {
            what,
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(PkiError::Pem {
            what,
            reason: "no CERTIFICATE block".into(),
        });
    }
    Ok(certs)
}

fn parse_key(pem: &str) -> Result<PrivateKeyDer<'static>, PkiError> {
    PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|e| PkiError::Pem {
        what: "private key",
        reason: e.to_string(),
    })
}

/// A root store holding every CA in `ca_pems`.
pub fn root_store(ca_pems: &[&str]) -> Result<Arc<rustls::RootCertStore>, PkiError> {
    let mut roots = rustls::RootCertStore::empty();
    for pem in ca_pems {
        for cert in parse_certs(pem, "CA certificate")? {
            roots
                .add(cert)
                .map_err(|e| PkiError::Tls(format!("CA certificate: {e}")))?;
        }
    }
    Ok(Arc::new(roots))
}

/// Server side: present our certificate, require a client certificate from
/// one of `ca_pems`.
pub fn server_config(
    own: &TlsMaterial,
    ca_pems: &[&str],
) -> Result<Arc<rustls::ServerConfig>, PkiError> {
    install_crypto_provider();
    let verifier = rustls::server::WebPkiClientVerifier::builder(root_store(ca_pems)?)
        .build()
        .map_err(|e| PkiError::Tls(e.to_string()))?;
    let mut cfg = rustls::ServerConfig::builder()
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            parse_certs(&own.cert_pem, "certificate")?,
            parse_key(&own.key_pem)?,
        )
        .map_err(|e| PkiError::Tls(e.to_string()))?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// Client side: present our certificate, trust only `ca_pems`.
pub fn client_config(
    own: &TlsMaterial,
    ca_pems: &[&str],
) -> Result<rustls::ClientConfig, PkiError> {
    install_crypto_provider();
    let mut cfg = rustls::ClientConfig::builder()
        .with_root_certificates(root_store(ca_pems)?)
        .with_client_auth_cert(
            parse_certs(&own.cert_pem, "certificate")?,
            parse_key(&own.key_pem)?,
        )
        .map_err(|e| PkiError::Tls(e.to_string()))?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(cfg)
}

/// The DNS names a verified peer certificate speaks for (its SANs).
pub fn cert_dns_names(cert: &CertificateDer<'_>) -> Vec<String> {
    let Ok((_, parsed)) = x509_parser::parse_x509_certificate(cert.as_ref()) else {
        return Vec::new();
    };
    let Ok(Some(san)) = parsed.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|n| match n {
            x509_parser::extensions::GeneralName::DNSName(d) => Some(d.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}
