//! The reference MIMI provider.
//!
//! `client` holds everything a user's device has (MLS keys, groups,
//! plaintext); `server` is the provider's MIMI protocol side (hub and
//! follower), which sees only what crosses the client/server boundary in
//! `server::local`. `control` exposes the control API v1 on top of both.
//! [`start`] runs one provider; [`Launcher`] runs the builtin ones of a run.

pub mod client;
pub mod control;
pub mod franking;
pub mod ids;
/// The run CA and mTLS configuration, shared with the harness's relay.
pub use crate::pki;
pub mod quirks;
pub mod room;
pub mod serve;
pub mod server;
pub mod signer;

use crate::plan::model::BuiltinTarget;
use crate::run::launch::{BoxFuture, BuiltinLauncher, RunningBuiltin};
use pki::{PkiError, RunCa, TlsMaterial};
use server::{Hooks, MimiError, Server, peer::Peers};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;

/// How to run one provider.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    pub domain: String,
    /// Where the MIMI endpoints (HTTPS, mutual TLS) listen.
    pub mimi_listen: SocketAddr,
    /// Where the control API (plain HTTP) listens; keep it on loopback.
    pub control_listen: SocketAddr,
    pub tls: TlsMaterial,
    /// Connection limits of the MIMI listener.
    pub limits: server::http::ListenLimits,
}

/// Why a provider could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartProviderError {
    #[error("invalid provider domain {0:?}")]
    Domain(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error("cannot set up the server: {0}")]
    Server(#[from] MimiError),
}

/// A running provider. Dropping it stops its tasks.
pub struct RunningProvider {
    control_url: String,
    mimi_url: String,
    server: Arc<Server>,
    control: Arc<control::Provider>,
    shutdown: watch::Sender<bool>,
    tasks: tokio::task::JoinSet<()>,
}

impl RunningProvider {
    /// Base URL of the control API (without `/v1`).
    pub fn control_url(&self) -> &str {
        &self.control_url
    }
    /// Base URL of the MIMI endpoints.
    pub fn mimi_url(&self) -> &str {
        &self.mimi_url
    }
    pub fn domain(&self) -> &str {
        self.server.domain()
    }
    /// Test hooks of the server side.
    pub fn hooks(&self) -> Arc<Hooks> {
        self.server.hooks.clone()
    }
    /// Every byte string the server side stores (for tests that search it).
    pub fn server_dump(&self) -> Vec<Vec<u8>> {
        self.server.dump()
    }
    /// The provider's whole state (server side and every device) as text,
    /// for tests that check a failed control operation left no trace.
    pub async fn state_dump(&self) -> String {
        self.control.dump().await
    }
    /// Stops every task and waits until they are gone.
    pub async fn stop(mut self) {
        let _ = self.shutdown.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}

impl Drop for RunningProvider {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        self.tasks.abort_all();
    }
}

/// Starts a provider: MIMI endpoints and control API, both ready on return.
pub async fn start(cfg: ProviderConfig) -> Result<RunningProvider, StartProviderError> {
    start_with_quirks(cfg, quirks::Quirks::default()).await
}

/// [`start`] with deliberate deviations switched on (`quirks`).
pub async fn start_with_quirks(
    cfg: ProviderConfig,
    quirks: quirks::Quirks,
) -> Result<RunningProvider, StartProviderError> {
    if !ids::valid_domain(&cfg.domain) {
        return Err(StartProviderError::Domain(cfg.domain));
    }
    let bind = |addr: SocketAddr| async move {
        tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| StartProviderError::Listen { addr, source })
    };
    let mimi = bind(cfg.mimi_listen).await?;
    let control = bind(cfg.control_listen).await?;
    let local = |l: &tokio::net::TcpListener, addr| {
        l.local_addr()
            .map_err(|source| StartProviderError::Listen { addr, source })
    };
    let mimi_addr = local(&mimi, cfg.mimi_listen)?;
    let control_addr = local(&control, cfg.control_listen)?;
    let (shutdown, shutdown_rx) = watch::channel(false);
    let peers = Arc::new(Peers::new(
        &cfg.domain,
        cfg.tls.clone(),
        shutdown_rx.clone(),
    )?);
    let server = Server::with_quirks(cfg.domain.clone(), peers.clone(), quirks)?;
    peers.set_hooks(server.hooks.clone());
    // QUIRK drop-when-unreachable
    peers.set_retries(server.quirks.retries_notify());
    peers.set_restamps(server.quirks.restamps_retries());
    let mimi_url = format!("https://{mimi_addr}");
    let provider = control::Provider::new(
        server.clone(),
        mimi_url.clone(),
        cfg.tls.ca_pem.clone(),
        shutdown_rx.clone(),
    );
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(server::http::serve(
        mimi,
        server.clone(),
        shutdown_rx.clone(),
        cfg.limits,
    ));
    let app = control::app(provider.clone());
    let mut stop = shutdown_rx.clone();
    tasks.spawn(async move {
        let _ = axum::serve(control, app)
            .with_graceful_shutdown(async move {
                let _ = stop.changed().await;
            })
            .await;
    });
    Ok(RunningProvider {
        control_url: format!("http://{control_addr}"),
        mimi_url,
        server,
        control: provider,
        shutdown,
        tasks,
    })
}

/// Starts the builtin providers of one run; they share the run's CA.
pub struct Launcher {
    ca: RunCa,
}

impl Launcher {
    pub fn new() -> Result<Self, PkiError> {
        Ok(Self {
            ca: RunCa::new("mimi-interop run CA")?,
        })
    }

    /// The run's CA, e.g. to issue certificates for test peers.
    pub fn ca(&self) -> &RunCa {
        &self.ca
    }

    /// Starts one provider for `domain` on loopback with a fresh certificate.
    pub async fn start_domain(&self, domain: &str) -> Result<RunningProvider, StartProviderError> {
        self.start_domain_with_quirks(domain, quirks::Quirks::default())
            .await
    }

    /// [`Launcher::start_domain`] with deliberate deviations switched on.
    pub async fn start_domain_with_quirks(
        &self,
        domain: &str,
        quirks: quirks::Quirks,
    ) -> Result<RunningProvider, StartProviderError> {
        let tls = self.ca.issue(domain)?;
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        start_with_quirks(
            ProviderConfig {
                domain: domain.to_owned(),
                mimi_listen: loopback,
                control_listen: loopback,
                tls,
                limits: Default::default(),
            },
            quirks,
        )
        .await
    }
}

impl BuiltinLauncher for Launcher {
    fn launch<'a>(
        &'a self,
        name: &'a str,
        spec: &'a BuiltinTarget,
    ) -> BoxFuture<'a, Result<Box<dyn RunningBuiltin>, String>> {
        Box::pin(async move {
            let quirks = quirks::Quirks::parse_names(&spec.quirks)
                .map_err(|e| format!("builtin `{name}`: {e}"))?;
            let domain = spec
                .domain
                .clone()
                .unwrap_or_else(|| format!("{name}.example"));
            let p = self
                .start_domain_with_quirks(&domain, quirks)
                .await
                .map_err(|e| format!("builtin `{name}`: {e}"))?;
            Ok(Box::new(p) as Box<dyn RunningBuiltin>)
        })
    }

    fn launch_adversary<'a>(
        &'a self,
        domain: &'a str,
    ) -> BoxFuture<'a, Result<Box<dyn RunningBuiltin>, String>> {
        Box::pin(async move {
            let p = self
                .start_domain(domain)
                .await
                .map_err(|e| format!("adversary {domain}: {e}"))?;
            // Forgeries replay and alter the adversary's own real traffic.
            p.server
                .hooks
                .keep_last
                .store(true, std::sync::atomic::Ordering::SeqCst);
            Ok(Box::new(p) as Box<dyn RunningBuiltin>)
        })
    }
}

impl RunningBuiltin for RunningProvider {
    fn control_url(&self) -> String {
        self.control_url.clone()
    }
    fn stop(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(RunningProvider::stop(*self))
    }
}
