//! The relay: the harness is the MIMI network between the run's targets.
//!
//! For every usable target X the relay listens on loopback with mutual TLS,
//! presenting a certificate for X's domain from its own CA (made per run).
//! Every target is told (`/v1/peers`) that each peer domain X is at X's
//! relay listener and that the relay's CA vouches for it. A request to the
//! listener for X must carry a client certificate from a target's own CA
//! naming that target's domain: that is the sender. The relay forwards the
//! request unchanged (method, path, query, headers, body) to X's real
//! `mimi_url`, over TLS pinned to X's domain and verified with X's CA,
//! presenting the sender's domain in a relay-issued client certificate, and
//! passes the answer back unchanged. Every exchange is recorded
//! ([`record`]), with its case when it maps to one.
//!
//! The relay is also where the harness breaks the network on purpose:
//! `partition` cuts a link (open connections are aborted, new ones reset
//! right after the handshake, so the sender fails fast and its retries are
//! exercised) and `heal` restores it; fault steps ([`fault`]) drop, refuse
//! (503), duplicate or delay one request.
//!
//! Bodies are capped ([`BODY_CAP`]): an over-cap request is answered 413 and
//! recorded as a violation of its sender. No bytes from a target can make
//! the relay panic: everything it reads is parsed by hyper and rustls, and
//! whatever fails is recorded and answered.

pub mod exchange;
pub mod fault;
mod forward;
pub mod probe;
pub mod record;
pub mod shadow;
mod tls;

use crate::pki::PkiError;
use exchange::Party;
use fault::Fault;
use record::Recorder;
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::task::{AbortHandle, JoinHandle};

/// The largest body the relay carries, either way: the reference provider's
/// MIMI limit (1 MiB) plus room for framing, so a body the drafts allow is
/// never cut but a flood is.
pub const BODY_CAP: usize = 1024 * 1024 + 64 * 1024;

/// How `partition`, `heal` and the fault steps begin their `unsupported`
/// reason in a cell with one target on both sides.
pub const SAME_TARGET: &str = "the relay has no link to act on: both sides are the same target";

/// One target as the relay needs it.
#[derive(Debug, Clone)]
pub struct RelayTarget {
    pub name: String,
    pub domain: String,
    /// Where the target really serves MIMI.
    pub mimi_url: String,
    /// The CA that issued the target's own certificate.
    pub ca_pem: String,
}

/// Why the relay could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartRelayError {
    #[error("relay certificates: {0}")]
    Pki(#[from] PkiError),
    #[error("relay listener for {target}: {source}")]
    Listen {
        target: String,
        #[source]
        source: std::io::Error,
    },
}

/// What cutting or healing a link found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinkChange {
    /// Relayed connections aborted by the cut (both directions).
    pub cut_connections: usize,
    /// Connections reset while the link was cut (both directions), told on heal.
    pub refused_connections: u64,
}

/// A running relay. Everything stops when it is dropped.
pub struct Relay {
    shared: Arc<Shared>,
    /// Listener URL per target index (`None`: not usable).
    urls: Vec<Option<String>>,
    ca_pem: String,
    /// Issues the relay's certificates; kept for probes that speak as a
    /// peer the targets were told about ([`probe::Identity::Announced`]).
    pki: tls::RelayPki,
    accepts: Vec<JoinHandle<()>>,
}

/// What the listeners and forwarders share.
pub(crate) struct Shared {
    nodes: Vec<Option<Node>>,
    links: Mutex<LinkTable>,
    faults: Mutex<Vec<Fault>>,
    pub(crate) recorder: Arc<Recorder>,
    /// Upstream clients by (sender, receiver), made on first use.
    clients: Mutex<HashMap<(usize, usize), reqwest::Client>>,
}

/// One usable target.
pub(crate) struct Node {
    party: Party,
    mimi_url: String,
    tls: tls::TargetTls,
}

#[derive(Default)]
struct LinkTable {
    /// Cut links, as (low index, high index).
    cut: std::collections::HashSet<(usize, usize)>,
    next: u64,
    /// Relayed connections in flight: id → (sender, receiver, task).
    conns: HashMap<u64, (usize, usize, AbortHandle)>,
    /// Connections reset while cut, by link.
    refused: HashMap<(usize, usize), u64>,
}

fn key(x: usize, y: usize) -> (usize, usize) {
    (x.min(y), x.max(y))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Relay {
    /// Starts one listener per usable target (`None` entries are not).
    pub async fn start(
        targets: &[Option<RelayTarget>],
        recorder: Arc<Recorder>,
    ) -> Result<Relay, StartRelayError> {
        let pki = tls::RelayPki::new()?;
        let mut nodes = Vec::with_capacity(targets.len());
        for (index, t) in targets.iter().enumerate() {
            nodes.push(match t {
                Some(t) => Some(Node {
                    party: Party {
                        index,
                        target: t.name.clone(),
                        domain: t.domain.to_ascii_lowercase(),
                    },
                    mimi_url: t.mimi_url.clone(),
                    tls: pki.target(&t.domain, &t.ca_pem)?,
                }),
                None => None,
            });
        }
        let ca_pem = pki.ca.cert_pem().to_owned();
        let sender_cas: Vec<&str> = nodes
            .iter()
            .flatten()
            .map(|n| n.tls.ca_pem.as_str())
            .collect();
        let mut configs = Vec::with_capacity(nodes.len());
        for n in &nodes {
            configs.push(match n {
                Some(n) => Some(tls::listener_config(
                    &n.tls.as_target,
                    &ca_pem,
                    &sender_cas,
                )?),
                None => None,
            });
        }
        let shared = Arc::new(Shared {
            nodes,
            links: Mutex::new(LinkTable::default()),
            faults: Mutex::new(Vec::new()),
            recorder,
            clients: Mutex::new(HashMap::new()),
        });
        let mut urls = Vec::with_capacity(configs.len());
        let mut accepts = Vec::new();
        for (index, config) in configs.into_iter().enumerate() {
            let (Some(config), Some(node)) = (config, shared.nodes[index].as_ref()) else {
                urls.push(None);
                continue;
            };
            let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                .await
                .map_err(|source| StartRelayError::Listen {
                    target: node.party.target.clone(),
                    source,
                })?;
            let addr = listener
                .local_addr()
                .map_err(|source| StartRelayError::Listen {
                    target: node.party.target.clone(),
                    source,
                })?;
            urls.push(Some(listener_url(addr, &node.mimi_url)));
            accepts.push(tokio::spawn(forward::accept_loop(
                listener,
                index,
                config,
                shared.clone(),
            )));
        }
        Ok(Relay {
            shared,
            urls,
            ca_pem,
            pki,
            accepts,
        })
    }

    /// The relay CA every target is told to trust for its peers.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The URL other targets are given for target `to`: its relay listener,
    /// with the path of its own `mimi_url`.
    pub fn url_for(&self, to: usize) -> Option<&str> {
        self.urls.get(to)?.as_deref()
    }

    /// The MIMI domain of target `index`, if it is usable.
    pub fn domain(&self, index: usize) -> Option<&str> {
        let node = self.shared.nodes.get(index)?.as_ref()?;
        Some(node.party.domain.as_str())
    }

    /// The run's exchange sink.
    pub fn recorder(&self) -> &Arc<Recorder> {
        &self.shared.recorder
    }

    /// Why targets `x` and `y` have no link the relay can act on, if not.
    fn link(&self, x: usize, y: usize) -> Result<(), String> {
        if x == y {
            return Err(format!("{SAME_TARGET}, with no MIMI link between them"));
        }
        for i in [x, y] {
            if self.url_for(i).is_none() {
                return Err(format!(
                    "the relay has no link to act on: target {i} is not usable"
                ));
            }
        }
        Ok(())
    }

    /// Cuts the link between `x` and `y`, both directions.
    pub fn cut(&self, x: usize, y: usize) -> Result<LinkChange, String> {
        self.link(x, y)?;
        let mut links = lock(&self.shared.links);
        links.cut.insert(key(x, y));
        let mut change = LinkChange::default();
        links.conns.retain(|_, (from, to, task)| {
            if key(*from, *to) == key(x, y) {
                task.abort();
                change.cut_connections += 1;
                false
            } else {
                true
            }
        });
        Ok(change)
    }

    /// Restores the link between `x` and `y`, both directions.
    pub fn heal(&self, x: usize, y: usize) -> Result<LinkChange, String> {
        self.link(x, y)?;
        let mut links = lock(&self.shared.links);
        links.cut.remove(&key(x, y));
        Ok(LinkChange {
            cut_connections: 0,
            refused_connections: links.refused.remove(&key(x, y)).unwrap_or(0),
        })
    }

    /// Whether the link between `x` and `y` is cut.
    pub fn is_cut(&self, x: usize, y: usize) -> bool {
        lock(&self.shared.links).cut.contains(&key(x, y))
    }

    /// Arms a fault for the next request it matches.
    pub fn inject(&self, fault: Fault) -> Result<(), String> {
        self.link(fault.from, fault.to)?;
        lock(&self.shared.faults).push(fault);
        Ok(())
    }

    /// Disarms whatever faults of `case` never fired; how many there were.
    pub fn clear_faults(&self, case: usize) -> usize {
        let mut faults = lock(&self.shared.faults);
        let before = faults.len();
        faults.retain(|f| f.case != case);
        before - faults.len()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        for a in &self.accepts {
            a.abort();
        }
        for (_, (_, _, task)) in lock(&self.shared.links).conns.drain() {
            task.abort();
        }
        self.shared.recorder.flush();
    }
}

/// `https://127.0.0.1:<port>` plus the path of the target's own URL, so a
/// sender builds the same paths it would for the target itself.
fn listener_url(addr: SocketAddr, mimi_url: &str) -> String {
    let path = reqwest::Url::parse(mimi_url)
        .map(|u| u.path().trim_end_matches('/').to_owned())
        .unwrap_or_default();
    format!("https://{addr}{path}")
}

impl Shared {
    fn node(&self, i: usize) -> Option<&Node> {
        self.nodes.get(i)?.as_ref()
    }

    /// The sender a verified certificate chain speaks for: the target whose
    /// domain it names and whose own CA issued it (never `to` itself).
    fn sender(
        &self,
        to: usize,
        chain: &[rustls::pki_types::CertificateDer<'static>],
    ) -> Result<usize, String> {
        let names = chain
            .first()
            .map(crate::pki::cert_dns_names)
            .unwrap_or_default();
        let found = self
            .nodes
            .iter()
            .flatten()
            .find(|n| n.party.index != to && names.contains(&n.party.domain));
        let Some(node) = found else {
            return Err(format!(
                "client certificate names no other target's domain ({})",
                names.join(", ")
            ));
        };
        match &node.tls.verifier {
            Some(v) if tls::verify_sender(v.as_ref(), chain) => Ok(node.party.index),
            _ => Err(format!(
                "client certificate for {} was not issued by that target's CA",
                node.party.domain
            )),
        }
    }

    /// Registers a relayed connection unless its link is cut (then `None`:
    /// the caller resets it). Under the lock, so a cut never misses one.
    fn admit(&self, from: usize, to: usize, task: &AbortHandle) -> Option<u64> {
        let mut links = lock(&self.links);
        if links.cut.contains(&key(from, to)) {
            *links.refused.entry(key(from, to)).or_default() += 1;
            return None;
        }
        let id = links.next;
        links.next += 1;
        links.conns.insert(id, (from, to, task.clone()));
        Some(id)
    }

    fn release(&self, id: u64) {
        lock(&self.links).conns.remove(&id);
    }

    fn is_cut(&self, from: usize, to: usize) -> bool {
        lock(&self.links).cut.contains(&key(from, to))
    }

    /// Takes the first armed fault matching a request.
    fn take_fault(
        &self,
        case: Option<usize>,
        from: usize,
        to: usize,
        endpoint: &str,
    ) -> Option<Fault> {
        let mut faults = lock(&self.faults);
        let at = faults
            .iter()
            .position(|f| f.matches(case, from, to, endpoint))?;
        Some(faults.remove(at))
    }
}
