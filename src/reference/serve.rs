//! `mimi-interop serve`: one reference provider as a long-running process, the
//! peer vendors test against.

use super::pki::{RunCa, TlsMaterial};
use super::quirks::{Quirk, Quirks};
use super::{ProviderConfig, start_with_quirks};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Run one reference MIMI provider until stopped.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Provider domain, e.g. `a.example`.
    #[arg(long, default_value = "a.example")]
    pub domain: String,
    /// Address of the MIMI endpoints (HTTPS, mutual TLS).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Address of the control API (plain HTTP; keep it on loopback).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub control_listen: SocketAddr,
    /// PEM of the CA that issued `--cert` (also trusted for peers). Without
    /// the three TLS options a fresh CA and certificate are made.
    #[arg(long, requires_all = ["cert", "key"])]
    pub ca_cert: Option<PathBuf>,
    /// PEM certificate chain for the domain (SAN = domain).
    #[arg(long, requires_all = ["ca_cert", "key"])]
    pub cert: Option<PathBuf>,
    /// PEM (PKCS#8) private key of `--cert`.
    #[arg(long, requires_all = ["ca_cert", "cert"])]
    pub key: Option<PathBuf>,
    /// Switch on a deliberate deviation (repeatable); `docs/coverage.md`
    /// lists them.
    #[arg(long = "quirk", value_name = "NAME", value_parser = parse_quirk)]
    pub quirks: Vec<Quirk>,
}

fn parse_quirk(name: &str) -> Result<Quirk, String> {
    Quirk::parse(name).map_err(|e| e.to_string())
}

/// Why `serve` stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Pki(#[from] super::pki::PkiError),
    #[error(transparent)]
    Start(#[from] super::StartProviderError),
    #[error("waiting for Ctrl-C failed: {0}")]
    Signal(std::io::Error),
}

fn read(path: &PathBuf) -> Result<String, ServeError> {
    std::fs::read_to_string(path).map_err(|source| ServeError::Read {
        path: path.clone(),
        source,
    })
}

/// Starts the provider, prints `control: <url>` and `mimi: <url>`, and runs
/// until Ctrl-C.
pub async fn serve(args: ServeArgs) -> Result<(), ServeError> {
    let tls = match (&args.ca_cert, &args.cert, &args.key) {
        (Some(ca), Some(cert), Some(key)) => TlsMaterial {
            ca_pem: read(ca)?,
            cert_pem: read(cert)?,
            key_pem: read(key)?,
        },
        _ => RunCa::new("mimi-interop serve CA")?.issue(&args.domain)?,
    };
    let quirks = Quirks::new(args.quirks.iter().copied());
    let p = start_with_quirks(
        ProviderConfig {
            domain: args.domain,
            mimi_listen: args.listen,
            control_listen: args.control_listen,
            tls,
            limits: Default::default(),
        },
        quirks,
    )
    .await?;
    println!("control: {}", p.control_url());
    println!("mimi: {}", p.mimi_url());
    for q in &args.quirks {
        println!("quirk: {q} ({})", q.doc());
    }
    tokio::signal::ctrl_c().await.map_err(ServeError::Signal)?;
    p.stop().await;
    Ok(())
}
