//! The fake's MIMI side: just enough for the harness's relay to see
//! traffic. Each fake has its own CA and a TLS listener that answers 201 to
//! any request; when a room it hosts changes or gets a message, it posts a
//! `notify` to every other domain in the room, at the address and with the
//! CA `/v1/peers` gave it. The notify keeps the draft's framing (so the wire
//! judge has nothing to say of it): one FanoutMessage stamped now, carrying
//! the protocol fixture's PrivateMessage with its last two ciphertext
//! octets made unique. The shared [`super::World`] still carries the
//! content between fakes.

use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use mimi_interop::control::api::PeersRequest;
use mimi_interop::pki::{self, RunCa, TlsMaterial};
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One fake's MIMI identity, listener and peers.
pub struct FakeMimi {
    domain: String,
    pub tls: TlsMaterial,
    /// `https://127.0.0.1:<port>`.
    pub url: String,
    /// Peer domain → (client that reaches it, origin to prefix paths with).
    peers: Mutex<Vec<(String, reqwest::Client, String)>>,
    /// Notifies sent so far (what makes each one's message unique).
    sent: std::sync::atomic::AtomicU16,
}

impl FakeMimi {
    pub async fn start(domain: &str) -> Arc<FakeMimi> {
        let tls = RunCa::new("fake CA").unwrap().issue(domain).unwrap();
        pki::install_crypto_provider();
        let key = PrivateKeyDer::from_pem_slice(tls.key_pem.as_bytes()).unwrap();
        let certs = pki::parse_certs(&tls.cert_pem, "cert").unwrap();
        let mut config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let svc = hyper::service::service_fn(|_: hyper::Request<Incoming>| async {
                        let mut r = hyper::Response::new(axum::body::Body::empty());
                        *r.status_mut() = hyper::StatusCode::CREATED;
                        Ok::<_, std::convert::Infallible>(r)
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tls), svc)
                        .await;
                });
            }
        });
        Arc::new(FakeMimi {
            domain: domain.to_owned(),
            tls,
            url,
            peers: Mutex::new(Vec::new()),
            sent: std::sync::atomic::AtomicU16::new(0),
        })
    }

    /// Control `peers`: one client per peer, trusting the CA it was given.
    pub fn set_peers(&self, req: &PeersRequest) {
        let mut peers = Vec::new();
        for p in &req.peers {
            let Ok(u) = reqwest::Url::parse(&p.mimi_url) else {
                continue;
            };
            let (Some(host), Some(port)) = (u.host_str(), u.port_or_known_default()) else {
                continue;
            };
            let Ok(config) = pki::client_config(&self.tls, &[p.ca_pem.as_str()]) else {
                continue;
            };
            let mut builder = reqwest::Client::builder()
                .tls_backend_preconfigured(config)
                .no_proxy();
            if let Ok(ip) = host.parse::<IpAddr>() {
                builder = builder.resolve(&p.domain, SocketAddr::new(ip, port));
            }
            if let Ok(client) = builder.build() {
                peers.push((
                    p.domain.clone(),
                    client,
                    format!("https://{}:{port}", p.domain),
                ));
            }
        }
        *self.peers.lock().unwrap() = peers;
    }

    /// Posts a notify for `room`, when this fake hosts it, to each of
    /// `domains` that is a peer; failures are ignored (the world delivers
    /// anyway).
    pub async fn notify(&self, room: &str, domains: &[String]) {
        let path = room.strip_prefix("mimi://").unwrap_or(room);
        if path.split('/').next() != Some(self.domain.as_str()) {
            return;
        }
        let body = self.fanout();
        let calls: Vec<_> = self
            .peers
            .lock()
            .unwrap()
            .iter()
            .filter(|(d, ..)| domains.contains(d))
            .map(|(_, client, origin)| {
                client
                    .post(format!("{origin}/v1/notify/{path}"))
                    .header("From", format!("mimi@{}", self.domain))
                    .header("Content-Type", "application/octet-stream")
                    .body(body.clone())
                    .timeout(Duration::from_secs(5))
                    .send()
            })
            .collect();
        futures_util::future::join_all(calls).await;
    }

    /// One FanoutMessage: now, and a PrivateMessage no notify had before.
    fn fanout(&self) -> Vec<u8> {
        use mimi_interop::protocol::{self, FanoutMessage, FanoutTail, Raw};
        let n = self.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut message = include_bytes!("../../../fixtures/protocol/mls-message.bin").to_vec();
        let len = message.len();
        message[len - 2..].copy_from_slice(&n.to_be_bytes());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        protocol::encode(&FanoutMessage {
            timestamp: now,
            message: Raw::from_bytes(message),
            tail: FanoutTail::Application { frank: None },
        })
    }
}
