//! `cargo bench --bench relay`: the latency the harness's relay adds to one
//! MIMI exchange, on loopback, in one process.
//!
//! A stand-in receiver (mutual TLS, answers 201 with a small body) is
//! called by a stand-in sender, directly and through the relay, in
//! alternating rounds so both see the same machine load. Each request is a
//! POST of a real notify (a commit's fan-out, 1596 bytes) for a room of a
//! running case, on a warm, pooled connection (HTTP/2, as the reference
//! provider uses); the relay does what it does in a run: decodes it for
//! the readings and the shadow room state, and files it with the case.
//! Reported: median and p99 per exchange, and the median added by the
//! relay. Knobs: `BENCH_EXCHANGES` (default 2000 per path and round),
//! `BENCH_ROUNDS` (default 5), `BENCH_NOTIFY=0` with `BENCH_BODY` (default
//! 1024) for filler bytes instead. See `docs/performance.md`.

use mimi_interop::pki::{self, RunCa, TlsMaterial};
use mimi_interop::run::relay::record::Recorder;
use mimi_interop::run::relay::{Relay, RelayTarget};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

/// Serves 201 on `listener`, trusting client certificates from `cas`.
fn serve(listener: tokio::net::TcpListener, own: &TlsMaterial, cas: &[&str]) {
    let acceptor = tokio_rustls::TlsAcceptor::from(pki::server_config(own, cas).unwrap());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let _ = tcp.set_nodelay(true);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let svc = hyper::service::service_fn(
                    |_req: hyper::Request<hyper::body::Incoming>| async {
                        let mut r = hyper::Response::new(axum::body::Body::from(&b"accepted"[..]));
                        *r.status_mut() = hyper::StatusCode::CREATED;
                        Ok::<_, std::convert::Infallible>(r)
                    },
                );
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection(hyper_util::rt::TokioIo::new(tls), svc)
                .await;
            });
        }
    });
}

fn client(own: &TlsMaterial, ca: &str, domain: &str, addr: SocketAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_backend_preconfigured(pki::client_config(own, &[ca]).unwrap())
        .resolve(domain, addr)
        .no_proxy()
        .tcp_nodelay(true)
        .build()
        .unwrap()
}

fn addr_of(url: &str) -> SocketAddr {
    let u = reqwest::Url::parse(url).unwrap();
    SocketAddr::new(u.host_str().unwrap().parse().unwrap(), u.port().unwrap())
}

/// `n` sequential POSTs; the latency of each.
async fn exchanges(c: &reqwest::Client, url: &str, body: &[u8], n: usize) -> Vec<Duration> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let r = c
            .post(url)
            .header("From", "mimi@a.example")
            .body(body.to_vec())
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), 201);
        let _ = r.bytes().await.expect("answer");
        out.push(t.elapsed());
    }
    out
}

fn at(sorted: &[Duration], q: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

/// A hub's notify carrying a commit (a role change), from a run.
const NOTIFY: &[u8] = include_bytes!("../../fixtures/run/shadow/notify-role-commit.bin");

#[tokio::main]
async fn main() {
    let n = env_usize("BENCH_EXCHANGES", 2000);
    let rounds = env_usize("BENCH_ROUNDS", 5);
    // By default a real notify (a commit's fan-out) to a room of a running
    // case, so the relay does all it does in a run: readings, the shadow
    // room state, filing with the case. `BENCH_NOTIFY=0` sends
    // `BENCH_BODY` filler bytes, which no decoder gets far into.
    let notify = env_usize("BENCH_NOTIFY", 1) != 0;
    let size = if notify {
        NOTIFY.len()
    } else {
        env_usize("BENCH_BODY", 1024)
    };
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "relay bench: {n} exchanges per path and round, {rounds} rounds, {size}-byte bodies; {cores} cores, load {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );

    let a_ca = RunCa::new("a CA").unwrap();
    let b_ca = RunCa::new("b CA").unwrap();
    let a = a_ca.issue("a.example").unwrap();
    let b = b_ca.issue("b.example").unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let b_addr = listener.local_addr().unwrap();
    let b_url = format!("https://{b_addr}");
    let dir = tempfile::tempdir().unwrap();
    let recorder = Arc::new(Recorder::new("bench0", Some(&dir.path().join("run.jsonl"))));
    let target = |name: &str, domain: &str, url: &str, ca: &RunCa| {
        Some(RelayTarget {
            name: name.into(),
            domain: domain.into(),
            mimi_url: url.into(),
            ca_pem: ca.cert_pem().into(),
        })
    };
    // a's own listener is never called here; any loopback URL does.
    let relay = Relay::start(
        &[
            target("a", "a.example", "https://127.0.0.1:9", &a_ca),
            target("b", "b.example", &b_url, &b_ca),
        ],
        recorder.clone(),
    )
    .await
    .unwrap();
    serve(listener, &b, &[a_ca.cert_pem(), relay.ca_pem()]);

    let direct = client(&a, b_ca.cert_pem(), "b.example", b_addr);
    let relay_addr = addr_of(relay.url_for(1).unwrap());
    let relayed = client(&a, relay.ca_pem(), "b.example", relay_addr);
    let path = "/v1/notify/a.example/r/room-bench0-0-1";
    let _case = recorder.open_case(0);
    let direct_url = format!("https://b.example:{}{path}", b_addr.port());
    let relay_url = format!("https://b.example:{}{path}", relay_addr.port());
    let body = if notify {
        NOTIFY.to_vec()
    } else {
        vec![0x5a; size]
    };

    // Warm both paths (connections, pools, the relay's upstream client).
    exchanges(&direct, &direct_url, &body, 50).await;
    exchanges(&relayed, &relay_url, &body, 50).await;

    let (mut all_direct, mut all_relay) = (Vec::new(), Vec::new());
    let mut added = Vec::new();
    for round in 1..=rounds {
        let mut d = exchanges(&direct, &direct_url, &body, n).await;
        let mut r = exchanges(&relayed, &relay_url, &body, n).await;
        d.sort_unstable();
        r.sort_unstable();
        let (dm, rm) = (at(&d, 0.5), at(&r, 0.5));
        added.push(rm.saturating_sub(dm));
        println!(
            "round {round}: direct p50 {} p99 {} · relay p50 {} p99 {} · added p50 {}",
            us(dm),
            us(at(&d, 0.99)),
            us(rm),
            us(at(&r, 0.99)),
            us(rm.saturating_sub(dm))
        );
        all_direct.extend(d);
        all_relay.extend(r);
    }
    all_direct.sort_unstable();
    all_relay.sort_unstable();
    added.sort_unstable();
    let (dm, rm) = (at(&all_direct, 0.5), at(&all_relay, 0.5));
    println!(
        "\nall rounds: direct p50 {} p99 {} · relay p50 {} p99 {}",
        us(dm),
        us(at(&all_direct, 0.99)),
        us(rm),
        us(at(&all_relay, 0.99))
    );
    println!(
        "added by the relay: p50 {} (median of the rounds' p50 differences {}); target ≤ 1 ms",
        us(rm.saturating_sub(dm)),
        us(at(&added, 0.5))
    );
    println!(
        "exchanges recorded at the run level: {}",
        recorder.run_level_count()
    );
}
