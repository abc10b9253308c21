//! A flood of connections that never start TLS, against a provider with a
//! low connection cap and short timeouts: the control API and real MIMI
//! peers are still served, and every idle connection is closed.

use crate::reference::{T, mimi_http};
use mimi_interop::control::ControlClient;
use mimi_interop::reference::server::http::ListenLimits;
use mimi_interop::reference::{Launcher, ProviderConfig};
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// Idle connections opened; bounded so the test fits any fd limit.
const FLOOD: usize = 300;

#[tokio::test]
async fn idle_connections_neither_starve_the_provider_nor_stay_open() {
    let launcher = Launcher::new().unwrap();
    let limits = ListenLimits {
        max_connections: 16,
        handshake_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_secs(2),
    };
    let p = mimi_interop::reference::start(ProviderConfig {
        domain: "f.example".into(),
        mimi_listen: "127.0.0.1:0".parse().unwrap(),
        control_listen: "127.0.0.1:0".parse().unwrap(),
        tls: launcher.ca().issue("f.example").unwrap(),
        limits,
    })
    .await
    .expect("provider starts");
    let addr = p.mimi_url().trim_start_matches("https://").to_owned();
    let mut idle = Vec::with_capacity(FLOOD);
    for _ in 0..FLOOD {
        idle.push(
            tokio::net::TcpStream::connect(&addr)
                .await
                .expect("connect"),
        );
    }

    // While flooded: the control API answers, and so does a real peer.
    let control = ControlClient::new(reqwest::Client::new(), p.control_url());
    control
        .info(T)
        .await
        .expect("control API answers while flooded");
    let peer = launcher.ca().issue("g.example").unwrap();
    let http = mimi_http(&peer, launcher.ca().cert_pem(), "f.example", p.mimi_url());
    let status = tokio::time::timeout(
        T,
        http.get("https://f.example/.well-known/mimi-protocol-directory")
            .send(),
    )
    .await
    .expect("a peer is served while flooded")
    .expect("the directory answers")
    .status();
    assert_eq!(status, 200);

    // Every idle connection is closed by the provider (EOF or reset), the
    // ones beyond the cap once they get their turn.
    let closed = futures_util::future::join_all(idle.into_iter().map(|mut s| async move {
        let mut buf = [0u8; 16];
        tokio::time::timeout(T * 3, s.read(&mut buf)).await.is_ok()
    }))
    .await;
    let open = closed.iter().filter(|c| !**c).count();
    assert_eq!(open, 0, "{open} of {FLOOD} idle connections stayed open");
    p.stop().await;
}
