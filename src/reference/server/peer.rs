//! Talking to other providers: the trusted peers of this run, an mTLS HTTP
//! client that reaches each peer by its configured address while checking
//! its certificate against its domain, and ordered notify delivery queues.

use super::{Hooks, MimiError, lock};
use crate::reference::pki::{self, PkiError, TlsMaterial};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// Where one peer provider is.
#[derive(Debug, Clone)]
pub struct PeerEntry {
    pub domain: String,
    /// Base URL of its MIMI endpoints, e.g. `https://127.0.0.1:4433`.
    pub mimi_url: String,
    pub ca_pem: String,
}

struct Wiring {
    peers: HashMap<String, PeerEntry>,
    http: reqwest::Client,
    server_tls: Arc<rustls::ServerConfig>,
}

/// The run's peers and the TLS configuration that follows from them.
pub struct Peers {
    own: TlsMaterial,
    wiring: RwLock<Arc<Wiring>>,
    queues: Mutex<HashMap<String, Queue>>,
    shutdown: watch::Receiver<bool>,
    hooks: Mutex<Option<Arc<Hooks>>>,
    from: String,
}

/// One follower's delivery queue and the task draining it.
struct Queue {
    tx: mpsc::UnboundedSender<Outgoing>,
    task: tokio::task::AbortHandle,
}

struct Outgoing {
    room: String,
    body: Vec<u8>,
    /// Told once the peer accepted the body (or refused it for good).
    done: oneshot::Sender<()>,
}

/// A peer's answer.
pub struct PeerResponse {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub body: Vec<u8>,
}

impl Peers {
    pub fn new(
        own_domain: &str,
        own: TlsMaterial,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Self, PkiError> {
        let wiring = build_wiring(&own, HashMap::new())?;
        Ok(Self {
            own,
            wiring: RwLock::new(Arc::new(wiring)),
            queues: Mutex::new(HashMap::new()),
            shutdown,
            hooks: Mutex::new(None),
            from: format!("mimi@{own_domain}"),
        })
    }

    pub(crate) fn set_hooks(&self, hooks: Arc<Hooks>) {
        *lock(&self.hooks) = Some(hooks);
    }

    fn record(&self, label: String, body: &[u8]) {
        if let Some(h) = lock(&self.hooks).as_ref() {
            h.record(label, body);
        }
    }

    fn wiring(&self) -> Arc<Wiring> {
        self.wiring
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Replaces the peer set (control `peers`).
    pub fn set(&self, peers: Vec<PeerEntry>) -> Result<(), PkiError> {
        let map = peers.into_iter().map(|p| (p.domain.clone(), p)).collect();
        let w = build_wiring(&self.own, map)?;
        *self.wiring.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(w);
        Ok(())
    }

    /// The server TLS configuration for the next accepted connection.
    pub fn server_tls(&self) -> Arc<rustls::ServerConfig> {
        self.wiring().server_tls.clone()
    }

    /// POSTs a MIMI body to `endpoint` of the peer `domain` for `subject`
    /// (a room or user URI, put in the path without its scheme).
    pub async fn post(
        &self,
        domain: &str,
        endpoint: &str,
        subject: &str,
        body: Vec<u8>,
    ) -> Result<PeerResponse, MimiError> {
        let w = self.wiring();
        let peer = w.peers.get(domain).ok_or_else(|| MimiError::Peer {
            domain: domain.to_owned(),
            reason: "not a configured peer".into(),
        })?;
        let url = endpoint_url(peer, endpoint, subject).map_err(|reason| MimiError::Peer {
            domain: domain.to_owned(),
            reason,
        })?;
        let label = format!("out {endpoint} {}", url.path());
        self.record(label.clone(), &body);
        let resp = w
            .http
            .post(url)
            .header("From", &self.from)
            .header("Content-Type", "application/octet-stream")
            .body(body)
            .timeout(Duration::from_secs(20))
            .send()
            .await
            .map_err(|e| MimiError::Peer {
                domain: domain.to_owned(),
                reason: error_chain(&e),
            })?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = resp.bytes().await.map_err(|e| MimiError::Peer {
            domain: domain.to_owned(),
            reason: error_chain(&e),
        })?;
        self.record(format!("{label} answer {status}"), &body);
        Ok(PeerResponse {
            status,
            retry_after,
            body: body.to_vec(),
        })
    }

    /// Queues a notify body for `domain`; each peer has one queue, delivered
    /// strictly in order, each item retried until accepted.
    pub(crate) fn enqueue_notify(
        self: &Arc<Self>,
        domain: &str,
        room: &str,
        body: Vec<u8>,
    ) -> oneshot::Receiver<()> {
        let (done, receipt) = oneshot::channel();
        let mut queues = lock(&self.queues);
        let q = queues.entry(domain.to_owned()).or_insert_with(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            let task = tokio::spawn(deliver_loop(self.clone(), domain.to_owned(), rx));
            Queue {
                tx,
                task: task.abort_handle(),
            }
        });
        let _ = q.tx.send(Outgoing {
            room: room.to_owned(),
            body,
            done,
        });
        receipt
    }
}

impl Peers {
    /// Drops every pending delivery (control `reset`).
    pub(crate) fn drop_queues(&self) {
        for (_, q) in lock(&self.queues).drain() {
            q.task.abort();
        }
    }
}

/// Delivers one peer's notify queue in order; a failed delivery is retried
/// with exponential backoff (or the peer's Retry-After) before the next.
async fn deliver_loop(
    peers: Arc<Peers>,
    domain: String,
    mut rx: mpsc::UnboundedReceiver<Outgoing>,
) {
    let mut shutdown = peers.shutdown.clone();
    loop {
        let item = tokio::select! {
            item = rx.recv() => match item { Some(i) => i, None => return },
            _ = shutdown.changed() => return,
        };
        let mut backoff = Duration::from_millis(20);
        let Outgoing { room, body, done } = item;
        loop {
            let wait = match peers.post(&domain, "notify", &room, body.clone()).await {
                Ok(r) if r.status == 201 || r.status == 200 => break,
                // A permanent refusal: retrying the same bytes cannot help.
                Ok(r) if (400..500).contains(&r.status) && r.status != 408 && r.status != 429 => {
                    break;
                }
                Ok(r) => r.retry_after.unwrap_or(backoff),
                Err(_) => backoff,
            };
            backoff = (backoff * 2).min(Duration::from_secs(2));
            tokio::select! {
                _ = tokio::time::sleep(wait) => {},
                _ = shutdown.changed() => return,
            }
        }
        let _ = done.send(());
    }
}

fn build_wiring(own: &TlsMaterial, peers: HashMap<String, PeerEntry>) -> Result<Wiring, PkiError> {
    let mut cas: Vec<&str> = vec![own.ca_pem.as_str()];
    cas.extend(peers.values().map(|p| p.ca_pem.as_str()));
    let client_tls = pki::client_config(own, &cas)?;
    let mut builder = reqwest::Client::builder()
        .tls_backend_preconfigured(client_tls)
        .no_proxy();
    for p in peers.values() {
        if let Some(addr) = ip_addr_of(&p.mimi_url) {
            builder = builder.resolve(&p.domain, addr);
        }
    }
    let http = builder
        .build()
        .map_err(|e| PkiError::Tls(error_chain(&e)))?;
    let server_tls = pki::server_config(own, &cas)?;
    Ok(Wiring {
        peers,
        http,
        server_tls,
    })
}

/// The socket address of a URL whose host is an IP literal.
fn ip_addr_of(url: &str) -> Option<SocketAddr> {
    let u = reqwest::Url::parse(url).ok()?;
    let host = u.host_str()?.trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = host.parse().ok()?;
    Some(SocketAddr::new(ip, u.port_or_known_default()?))
}

/// `{mimi_url}/v1/{endpoint}/{subject without mimi://}`. A peer given by IP
/// is addressed by its domain (resolved to that IP), so its certificate is
/// checked against the domain.
pub fn endpoint_url(
    peer: &PeerEntry,
    endpoint: &str,
    subject: &str,
) -> Result<reqwest::Url, String> {
    let mut u = reqwest::Url::parse(&peer.mimi_url).map_err(|e| format!("bad mimi_url: {e}"))?;
    if ip_addr_of(&peer.mimi_url).is_some() {
        u.set_host(Some(&peer.domain))
            .map_err(|e| format!("bad domain: {e}"))?;
    }
    let base = u.path().trim_end_matches('/').to_owned();
    let subject = subject
        .strip_prefix(crate::reference::ids::SCHEME)
        .unwrap_or(subject);
    u.set_path(&format!("{base}/v1/{endpoint}/{subject}"));
    Ok(u)
}

pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(x) = src {
        s.push_str(": ");
        s.push_str(&x.to_string());
        src = x.source();
    }
    s
}
