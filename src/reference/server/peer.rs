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
    /// Each peer's directory (§5.1): endpoint name → path template.
    directories: Mutex<HashMap<String, Arc<HashMap<String, String>>>>,
}

/// The run's peers and the TLS configuration that follows from them.
pub struct Peers {
    own: TlsMaterial,
    wiring: RwLock<Arc<Wiring>>,
    queues: Mutex<HashMap<String, Queue>>,
    shutdown: watch::Receiver<bool>,
    hooks: Mutex<Option<Arc<Hooks>>>,
    from: String,
    /// Whether a notify that could not be delivered is retried (always,
    /// but under the quirk drop-when-unreachable).
    retries: std::sync::atomic::AtomicBool,
    /// Whether a notify sent again gets new timestamps (quirk
    /// retry-restamps; never otherwise).
    restamps: std::sync::atomic::AtomicBool,
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
            retries: std::sync::atomic::AtomicBool::new(true),
            restamps: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Whether undelivered notifies are retried (quirk drop-when-unreachable).
    pub(crate) fn set_retries(&self, retries: bool) {
        self.retries
            .store(retries, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether retried notifies get new timestamps (quirk retry-restamps).
    pub(crate) fn set_restamps(&self, restamps: bool) {
        self.restamps
            .store(restamps, std::sync::atomic::Ordering::Relaxed);
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
        self.post_from(domain, endpoint, subject, body, None).await
    }

    /// [`Peers::post`] with `From: mimi@<from>` instead of this provider's
    /// own domain: how the harness's adversary claims to be someone else.
    pub async fn post_from(
        &self,
        domain: &str,
        endpoint: &str,
        subject: &str,
        body: Vec<u8>,
        from: Option<&str>,
    ) -> Result<PeerResponse, MimiError> {
        let from = from.map_or_else(|| self.from.clone(), |d| format!("mimi@{d}"));
        let w = self.wiring();
        let peer = w.peers.get(domain).ok_or_else(|| MimiError::Peer {
            domain: domain.to_owned(),
            reason: "not a configured peer".into(),
        })?;
        let directory = self.directory(&w, peer).await;
        let url =
            endpoint_url(peer, directory.as_deref(), endpoint, subject).map_err(|reason| {
                MimiError::Peer {
                    domain: domain.to_owned(),
                    reason,
                }
            })?;
        let label = format!("out {endpoint} {}", url.path());
        self.record(label.clone(), &body);
        let resp = w
            .http
            .post(url)
            .header("From", from)
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

    /// Whether `domain` is one of the configured peers.
    pub fn is_peer(&self, domain: &str) -> bool {
        self.wiring().peers.contains_key(domain)
    }

    /// GETs `path` (e.g. `/v1/assets/<id>`) from the peer `domain` at its
    /// configured address, authenticated as this provider.
    pub async fn get_path(&self, domain: &str, path: &str) -> Result<PeerResponse, MimiError> {
        let w = self.wiring();
        let peer = w.peers.get(domain).ok_or_else(|| MimiError::Peer {
            domain: domain.to_owned(),
            reason: "not a configured peer".into(),
        })?;
        let mut url = endpoint_url(peer, None, "", "").map_err(|reason| MimiError::Peer {
            domain: domain.to_owned(),
            reason,
        })?;
        url.set_path(path);
        self.get_url(&w, domain, url).await
    }

    /// GETs `proxyDownload` for `download_url` from the hub `domain` (§5.10):
    /// the URL percent-encoded as one path segment.
    pub async fn proxy_download(
        &self,
        domain: &str,
        download_url: &str,
    ) -> Result<PeerResponse, MimiError> {
        let w = self.wiring();
        let peer = w.peers.get(domain).ok_or_else(|| MimiError::Peer {
            domain: domain.to_owned(),
            reason: "not a configured peer".into(),
        })?;
        let directory = self.directory(&w, peer).await;
        let encoded = super::encode_download_url(download_url);
        let url = endpoint_url(peer, directory.as_deref(), "proxyDownload", &encoded).map_err(
            |reason| MimiError::Peer {
                domain: domain.to_owned(),
                reason,
            },
        )?;
        self.get_url(&w, domain, url).await
    }

    async fn get_url(
        &self,
        w: &Wiring,
        domain: &str,
        url: reqwest::Url,
    ) -> Result<PeerResponse, MimiError> {
        let peer_err = |reason: String| MimiError::Peer {
            domain: domain.to_owned(),
            reason,
        };
        let label = format!("out GET {}", url.path());
        self.record(label.clone(), &[]);
        let resp = w
            .http
            .get(url)
            .header("From", &self.from)
            .timeout(Duration::from_secs(20))
            .send()
            .await
            .map_err(|e| peer_err(error_chain(&e)))?;
        let status = resp.status().as_u16();
        if resp
            .content_length()
            .is_some_and(|n| n > super::MAX_ASSET as u64)
        {
            return Err(peer_err(format!(
                "answer over the {}-byte limit",
                super::MAX_ASSET
            )));
        }
        let body = resp.bytes().await.map_err(|e| peer_err(error_chain(&e)))?;
        self.record(format!("{label} answer {status}"), &body);
        Ok(PeerResponse {
            status,
            retry_after: None,
            body: body.to_vec(),
        })
    }

    /// The peer's directory, fetched once per wiring; `None` when it cannot
    /// be had (then the default paths are used, and it is tried again later).
    async fn directory(
        &self,
        w: &Wiring,
        peer: &PeerEntry,
    ) -> Option<Arc<HashMap<String, String>>> {
        if let Some(d) = lock(&w.directories).get(&peer.domain) {
            return Some(d.clone());
        }
        let mut url = endpoint_url(peer, None, "", "").ok()?;
        url.set_path(&format!(
            "{}/.well-known/mimi-protocol-directory",
            base_path(&peer.mimi_url)
        ));
        let resp = w
            .http
            .get(url)
            .header("From", &self.from)
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .ok()?;
        if !resp.status().is_success() {
            return None;
        }
        let json: serde_json::Value = resp.json().await.ok()?;
        let map: HashMap<String, String> = json
            .as_object()?
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), template_path(v.as_str()?)?)))
            .collect();
        let map = Arc::new(map);
        lock(&w.directories).insert(peer.domain.clone(), map.clone());
        Some(map)
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
        let Outgoing {
            room,
            mut body,
            done,
        } = item;
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
            // QUIRK drop-when-unreachable: the first failure is the last try.
            if !peers.retries.load(std::sync::atomic::Ordering::Relaxed) {
                break;
            }
            backoff = (backoff * 2).min(Duration::from_secs(2));
            // QUIRK retry-restamps.
            if peers.restamps.load(std::sync::atomic::Ordering::Relaxed) {
                body = restamped(&body).unwrap_or(body);
            }
            tokio::select! {
                _ = tokio::time::sleep(wait) => {},
                _ = shutdown.changed() => return,
            }
        }
        let _ = done.send(());
    }
}

/// A notify body with every FanoutMessage's timestamp one later.
fn restamped(body: &[u8]) -> Option<Vec<u8>> {
    let batch = crate::protocol::decode_fanout_batch(body).ok()?;
    let mut out = Vec::with_capacity(body.len());
    for mut m in batch {
        m.timestamp += 1;
        out.extend(crate::protocol::encode(&m));
    }
    Some(out)
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
        directories: Mutex::new(HashMap::new()),
    })
}

/// The socket address of a URL whose host is an IP literal.
fn ip_addr_of(url: &str) -> Option<SocketAddr> {
    let u = reqwest::Url::parse(url).ok()?;
    let host = u.host_str()?.trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = host.parse().ok()?;
    Some(SocketAddr::new(ip, u.port_or_known_default()?))
}

/// The path part of a directory URL template (`https://host/v1/notify/{roomId}`
/// → `/v1/notify/{roomId}`), kept verbatim; only the path is used, the
/// address always comes from `peers`.
pub fn template_path(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let path = &rest[rest.find('/')?..];
    [
        "{roomId}",
        "{targetUser}",
        "{domain}",
        "{targetDomain}",
        "{requesterDomain}",
        "{downloadUrl}",
    ]
    .iter()
    .any(|p| path.contains(p))
    .then(|| path.to_owned())
}

fn base_path(mimi_url: &str) -> String {
    reqwest::Url::parse(mimi_url)
        .map(|u| u.path().trim_end_matches('/').to_owned())
        .unwrap_or_default()
}

/// The URL of `endpoint` at `peer` for `subject` (a room or user URI, put in
/// the path without `mimi://`): the peer's directory template if it has one,
/// else `{mimi_url}/v1/{endpoint}/{subject}`. A peer given by IP is
/// addressed by its domain (resolved to that IP), so its certificate is
/// checked against the domain.
pub fn endpoint_url(
    peer: &PeerEntry,
    directory: Option<&HashMap<String, String>>,
    endpoint: &str,
    subject: &str,
) -> Result<reqwest::Url, String> {
    let mut u = reqwest::Url::parse(&peer.mimi_url).map_err(|e| format!("bad mimi_url: {e}"))?;
    if ip_addr_of(&peer.mimi_url).is_some() {
        u.set_host(Some(&peer.domain))
            .map_err(|e| format!("bad domain: {e}"))?;
    }
    let subject = subject
        .strip_prefix(crate::reference::ids::SCHEME)
        .unwrap_or(subject);
    let path = match directory.and_then(|d| d.get(endpoint)) {
        Some(t) => t
            .replace("{roomId}", subject)
            .replace("{targetUser}", subject)
            .replace("{domain}", subject)
            .replace("{downloadUrl}", subject)
            .replace("{targetDomain}", subject)
            .replace("{requesterDomain}", subject),
        None => format!("{}/v1/{endpoint}/{subject}", base_path(&peer.mimi_url)),
    };
    u.set_path(&path);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_templates_give_paths_on_the_configured_address() {
        assert_eq!(
            template_path("https://mimi.example.com/v1/notify/{roomId}").as_deref(),
            Some("/v1/notify/{roomId}")
        );
        assert_eq!(template_path("https://x/no-placeholder"), None);
        assert_eq!(
            template_path("https://m.example/v1/identifierQuery/{domain}").as_deref(),
            Some("/v1/identifierQuery/{domain}")
        );
        let peer = PeerEntry {
            domain: "b.example".into(),
            mimi_url: "https://127.0.0.1:4433".into(),
            ca_pem: String::new(),
        };
        let dir = HashMap::from([("notify".to_owned(), "/mimi/n/{roomId}".to_owned())]);
        let u = endpoint_url(&peer, Some(&dir), "notify", "mimi://a.example/r/club").unwrap();
        assert_eq!(u.as_str(), "https://b.example:4433/mimi/n/a.example/r/club");
        let u = endpoint_url(&peer, Some(&dir), "update", "mimi://a.example/r/club").unwrap();
        assert_eq!(
            u.as_str(),
            "https://b.example:4433/v1/update/a.example/r/club"
        );
    }
}
