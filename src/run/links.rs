//! Link proxies: the harness between the providers, so a case can cut the
//! MIMI link between two targets and restore it (`partition` / `heal`).
//!
//! When the run wires peers, every ordered pair (from, to) of usable targets
//! whose `to` MIMI URL is on loopback (`127.0.0.1`, `::1`, `localhost`) gets a
//! TCP proxy on the same loopback address, port 0, forwarding to `to`; `from`
//! is told the proxy's URL (same scheme, host and path, the proxy's port).
//! The proxy is a byte pipe (`copy_bidirectional`): mTLS passes through
//! untouched, so each side still checks the other's certificate. A
//! non-loopback URL is given as is and its link cannot be cut: the harness
//! does not put itself on the network path to another machine.
//!
//! Cutting a link (both directions) aborts every piped connection, pooled
//! keep-alive ones included, and from then on accepts each new connection
//! only to reset it at once, so a sender sees a clean connection failure
//! fast (a listener that stopped accepting would leave it hanging in the
//! backlog until its own timeout). Healing lets connections through again.
//! Everything stops when the [`Links`] is dropped.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{AbortHandle, JoinHandle};

/// How `partition` and `heal` begin their `unsupported` reason in a cell
/// with one target on both sides.
pub const SAME_TARGET: &str =
    "the harness cannot cut a link it does not proxy: both sides are the same target";

/// The run's link proxies, by (from, to) target index.
#[derive(Default)]
pub struct Links {
    links: HashMap<(usize, usize), Result<Link, String>>,
}

/// One direction: the proxy `from` uses to reach `to`.
struct Link {
    /// The URL `from` is given for `to`.
    url: String,
    state: Arc<LinkState>,
    accept: JoinHandle<()>,
}

#[derive(Default)]
struct LinkState {
    inner: Mutex<Inner>,
    /// Connections reset while the link was cut.
    refused: AtomicU64,
}

#[derive(Default)]
struct Inner {
    cut: bool,
    next: u64,
    /// Piped connections in flight.
    conns: HashMap<u64, AbortHandle>,
}

/// What cutting or healing a link found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinkChange {
    /// Piped connections aborted by the cut (both directions).
    pub cut_connections: usize,
    /// Connections reset while the link was cut (both directions), told on heal.
    pub refused_connections: u64,
}

fn lock(m: &Mutex<Inner>) -> std::sync::MutexGuard<'_, Inner> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Links {
    /// Starts one proxy per ordered pair of distinct targets; `mimi_urls[i]`
    /// is target i's MIMI URL, `None` for a target that is not usable.
    pub async fn start(mimi_urls: &[Option<String>]) -> Links {
        let mut links = HashMap::new();
        for (to, url) in mimi_urls.iter().enumerate() {
            let Some(url) = url else { continue };
            for from in (0..mimi_urls.len()).filter(|&f| f != to && mimi_urls[f].is_some()) {
                links.insert((from, to), Link::start(url).await);
            }
        }
        Links { links }
    }

    /// The MIMI URL target `from` must be given for target `to`: the proxy's
    /// when the link is proxied, else `to`'s own.
    pub fn peer_url<'u>(&'u self, from: usize, to: usize, own: &'u str) -> &'u str {
        match self.links.get(&(from, to)) {
            Some(Ok(link)) => &link.url,
            _ => own,
        }
    }

    /// Why the link between `x` and `y` cannot be cut, if it cannot.
    fn both(&self, x: usize, y: usize) -> Result<[&Link; 2], String> {
        const CANNOT: &str = "the harness cannot cut a link it does not proxy";
        if x == y {
            return Err(format!("{SAME_TARGET}, with no MIMI link between them"));
        }
        let one = |k| match self.links.get(&k) {
            Some(Ok(link)) => Ok(link),
            Some(Err(why)) => Err(format!("{CANNOT}: {why}")),
            None => Err(format!(
                "{CANNOT}: the targets were not wired to each other"
            )),
        };
        Ok([one((x, y))?, one((y, x))?])
    }

    /// Cuts the link between `x` and `y`, both directions.
    pub fn cut(&self, x: usize, y: usize) -> Result<LinkChange, String> {
        let mut change = LinkChange::default();
        for link in self.both(x, y)? {
            let mut inner = lock(&link.state.inner);
            inner.cut = true;
            for (_, conn) in inner.conns.drain() {
                conn.abort();
                change.cut_connections += 1;
            }
        }
        Ok(change)
    }

    /// Restores the link between `x` and `y`, both directions.
    pub fn heal(&self, x: usize, y: usize) -> Result<LinkChange, String> {
        let mut change = LinkChange::default();
        for link in self.both(x, y)? {
            lock(&link.state.inner).cut = false;
            change.refused_connections += link.state.refused.swap(0, Ordering::SeqCst);
        }
        Ok(change)
    }

    /// Whether the link between `x` and `y` is cut (either direction).
    pub fn is_cut(&self, x: usize, y: usize) -> bool {
        self.both(x, y)
            .map(|links| links.iter().any(|l| lock(&l.state.inner).cut))
            .unwrap_or(false)
    }
}

impl Drop for Links {
    fn drop(&mut self) {
        for link in self.links.values().filter_map(|l| l.as_ref().ok()) {
            link.accept.abort();
            for (_, conn) in lock(&link.state.inner).conns.drain() {
                conn.abort();
            }
        }
    }
}

/// The loopback address to listen on for `url`'s host, and the address the
/// proxy forwards to; an error saying why `url` is not proxied.
async fn loopback_target(url: &str) -> Result<(IpAddr, SocketAddr), String> {
    let u = reqwest::Url::parse(url).map_err(|e| format!("{url} is not a URL: {e}"))?;
    let port = u
        .port_or_known_default()
        .ok_or_else(|| format!("{url} has no port"))?;
    let host = u.host_str().unwrap_or_default();
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    match literal.parse::<IpAddr>() {
        Ok(ip) if ip.is_loopback() => Ok((ip, SocketAddr::new(ip, port))),
        Ok(_) => Err(format!("{url} is not loopback")),
        Err(_) if host.eq_ignore_ascii_case("localhost") => {
            // The proxy listens where a client trying `localhost` first goes
            // (IPv4); the upstream is whatever `localhost` resolves to.
            let upstream = tokio::net::lookup_host(("localhost", port))
                .await
                .ok()
                .and_then(|mut a| a.find(|a| a.ip().is_loopback()))
                .ok_or_else(|| format!("{url}: localhost does not resolve to loopback"))?;
            Ok((IpAddr::V4(Ipv4Addr::LOCALHOST), upstream))
        }
        Err(_) => Err(format!("{url} is not loopback")),
    }
}

impl Link {
    async fn start(to_url: &str) -> Result<Link, String> {
        let (listen_ip, upstream) = loopback_target(to_url).await?;
        let listener = TcpListener::bind((listen_ip, 0))
            .await
            .map_err(|e| format!("cannot listen on {listen_ip} for a proxy to {to_url}: {e}"))?;
        let port = listener
            .local_addr()
            .map_err(|e| format!("proxy for {to_url}: {e}"))?
            .port();
        let mut u = reqwest::Url::parse(to_url).map_err(|e| e.to_string())?;
        u.set_port(Some(port))
            .map_err(|_| format!("{to_url} cannot take a port"))?;
        let state = Arc::new(LinkState::default());
        let accept = tokio::spawn(accept_loop(listener, upstream, state.clone()));
        Ok(Link {
            url: u.as_str().trim_end_matches('/').to_owned()
                + if to_url.ends_with('/') { "/" } else { "" },
            state,
            accept,
        })
    }
}

async fn accept_loop(listener: TcpListener, upstream: SocketAddr, state: Arc<LinkState>) {
    loop {
        let Ok((down, _)) = listener.accept().await else {
            // Out of descriptors and the like: the next accept may succeed.
            tokio::task::yield_now().await;
            continue;
        };
        let mut inner = lock(&state.inner);
        if inner.cut {
            drop(inner);
            state.refused.fetch_add(1, Ordering::SeqCst);
            // A reset, not a polite close: the sender fails at once.
            let _ = down.set_zero_linger();
            drop(down);
            continue;
        }
        let id = inner.next;
        inner.next += 1;
        let st = state.clone();
        // Registered under the lock, so a cut never misses a connection.
        let task = tokio::spawn(async move {
            pipe(down, upstream).await;
            lock(&st.inner).conns.remove(&id);
        });
        inner.conns.insert(id, task.abort_handle());
    }
}

async fn pipe(mut down: TcpStream, upstream: SocketAddr) {
    let Ok(mut up) = TcpStream::connect(upstream).await else {
        let _ = down.set_zero_linger();
        return;
    };
    let _ = down.set_nodelay(true);
    let _ = up.set_nodelay(true);
    let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
}
