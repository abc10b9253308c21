//! The relay's certificates: a CA made per run that issues one certificate
//! per target domain. The relay shows a target's certificate to whoever
//! calls that target's listener, and the sender's certificate to the
//! receiver it forwards to, so each target sees the domain it expects on
//! each leg. Targets are told to trust the relay's CA for every peer.

use crate::pki::{self, PkiError, RunCa, TlsMaterial};
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::ClientCertVerifier;
use std::sync::Arc;

/// What the relay knows of one target's TLS.
pub(super) struct TargetTls {
    /// The certificate the relay presents as this target (relay CA).
    pub as_target: TlsMaterial,
    /// Verifies a client certificate against this target's own CA only;
    /// `None` when its `ca_pem` is not usable (then it cannot be a sender).
    pub verifier: Option<Arc<dyn ClientCertVerifier>>,
    /// The target's own CA (PEM), to verify it as a receiver.
    pub ca_pem: String,
}

/// The relay's CA and every target's certificates.
pub(super) struct RelayPki {
    pub ca: RunCa,
}

impl RelayPki {
    pub fn new() -> Result<Self, PkiError> {
        pki::install_crypto_provider();
        Ok(Self {
            ca: RunCa::new("mimi-interop relay CA")?,
        })
    }

    pub fn target(&self, domain: &str, ca_pem: &str) -> Result<TargetTls, PkiError> {
        let verifier = pki::root_store(&[ca_pem]).ok().and_then(|roots| {
            rustls::server::WebPkiClientVerifier::builder(roots)
                .build()
                .ok()
                .map(|v| v as Arc<dyn ClientCertVerifier>)
        });
        Ok(TargetTls {
            as_target: self.ca.issue(domain)?,
            verifier,
            ca_pem: ca_pem.to_owned(),
        })
    }
}

/// The server configuration of the listener acting as `target`: its relay
/// certificate, and a client certificate required from any CA in
/// `sender_cas` (the targets' CAs that parse). Which target a certificate
/// speaks for is settled after the handshake ([`verify_sender`]).
pub(super) fn listener_config(
    target: &TlsMaterial,
    relay_ca: &str,
    sender_cas: &[&str],
) -> Result<Arc<rustls::ServerConfig>, PkiError> {
    // The relay CA is always among the roots so the store is never empty;
    // it issues client certificates to no one but the relay, and
    // `verify_sender` rejects it as a sender.
    let mut cas: Vec<&str> = vec![relay_ca];
    cas.extend(
        sender_cas
            .iter()
            .copied()
            .filter(|c| pki::root_store(&[*c]).is_ok()),
    );
    pki::server_config(target, &cas)
}

/// Checks that a verified chain also verifies against the CA of the target
/// it names: a target's CA must not speak for another target's domain.
pub(super) fn verify_sender(
    verifier: &dyn ClientCertVerifier,
    chain: &[CertificateDer<'static>],
) -> bool {
    let Some((leaf, rest)) = chain.split_first() else {
        return false;
    };
    verifier
        .verify_client_cert(leaf, rest, UnixTime::now())
        .is_ok()
}

/// The client configuration to reach a receiver: the sender's relay
/// certificate, the receiver's own CA as the only root.
pub(super) fn upstream_config(
    sender: &TlsMaterial,
    receiver_ca: &str,
) -> Result<rustls::ClientConfig, PkiError> {
    pki::client_config(sender, &[receiver_ca])
}
