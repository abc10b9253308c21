//! Requests the harness sends a target itself, not through its relay
//! listener: the certificate forgeries of the protocol suites, which must be
//! refused at the target's own TLS handshake (or by its first answer).

use super::Relay;
use super::forward::{origin_of, pinned_client};
use crate::pki::{self, RunCa};
use std::time::Duration;

/// Which client certificate the probe presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    /// One for `domain` from a CA made for this probe, which no target was
    /// ever told to trust.
    Untrusted,
    /// None at all.
    Anonymous,
    /// One for `domain` from the relay's CA, which every target trusts for
    /// its peers: `domain` is a provider the target was told about
    /// (`/v1/peers`), authenticated like any other.
    Announced,
}

/// What came of a probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeAnswer {
    /// The target answered (status, body).
    Answered(u16, Vec<u8>),
    /// No HTTP answer: the handshake or the connection failed (why).
    NoAnswer(String),
}

impl Relay {
    /// POSTs `body` to `path` of target `to` straight at its `mimi_url`,
    /// verifying it against its own CA, with `From: mimi@<domain>` and the
    /// given client identity.
    pub async fn probe(
        &self,
        to: usize,
        domain: &str,
        identity: Identity,
        path: &str,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<ProbeAnswer, String> {
        let receiver = self
            .shared
            .nodes
            .get(to)
            .and_then(Option::as_ref)
            .ok_or_else(|| "the target has no MIMI endpoint".to_owned())?;
        pki::install_crypto_provider();
        let roots = pki::root_store(&[receiver.tls.ca_pem.as_str()]).map_err(|e| e.to_string())?;
        let mut config = match identity {
            Identity::Untrusted => {
                let stranger =
                    RunCa::new("mimi-interop untrusted CA").map_err(|e| e.to_string())?;
                let own = stranger.issue(domain).map_err(|e| e.to_string())?;
                pki::client_config(&own, &[receiver.tls.ca_pem.as_str()])
                    .map_err(|e| e.to_string())?
            }
            Identity::Announced => {
                let own = self.pki.ca.issue(domain).map_err(|e| e.to_string())?;
                pki::client_config(&own, &[receiver.tls.ca_pem.as_str()])
                    .map_err(|e| e.to_string())?
            }
            Identity::Anonymous => rustls::ClientConfig::builder()
                .with_root_certificates(roots)
                .with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let client = pinned_client(receiver, config).await?;
        let url = format!("{}{path}", origin_of(receiver)?);
        let sent = client
            .post(url)
            .header("From", format!("mimi@{domain}"))
            .header("Content-Type", "application/octet-stream")
            .body(body)
            .timeout(timeout)
            .send()
            .await;
        Ok(match sent {
            Err(e) => ProbeAnswer::NoAnswer(super::forward::error_text(&e)),
            Ok(resp) => {
                let status = resp.status().as_u16();
                match resp.bytes().await {
                    Ok(b) => ProbeAnswer::Answered(status, b.to_vec()),
                    Err(e) => ProbeAnswer::NoAnswer(format!(
                        "HTTP {status}, then: {}",
                        super::forward::error_text(&e)
                    )),
                }
            }
        })
    }
}
