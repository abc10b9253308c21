//! The relay on its own: two stand-in targets, each with its own CA and a
//! TLS server; the relay forwards between them and records, refuses a
//! certificate it cannot tie to a target, survives garbage and over-cap
//! bodies, and cuts and heals a link. Real loopback sockets throughout.

use mimi_interop::pki::{self, RunCa, TlsMaterial};
use mimi_interop::run::relay::record::Recorder;
use mimi_interop::run::relay::{BODY_CAP, Relay, RelayTarget, SAME_TARGET};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A stand-in target: its CA, its certificate, a listener whose URL is
/// its MIMI URL; it serves once [`serve`] is called.
struct Stand {
    domain: String,
    ca: RunCa,
    own: TlsMaterial,
    listener: Option<tokio::net::TcpListener>,
    url: String,
}

async fn stand(domain: &str) -> Stand {
    let ca = RunCa::new(&format!("{domain} CA")).unwrap();
    let own = ca.issue(domain).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}/mimi", listener.local_addr().unwrap());
    Stand {
        domain: domain.into(),
        ca,
        own,
        listener: Some(listener),
        url,
    }
}

impl Stand {
    fn target(&self, name: &str) -> RelayTarget {
        RelayTarget {
            name: name.into(),
            domain: self.domain.clone(),
            mimi_url: self.url.clone(),
            ca_pem: self.ca.cert_pem().into(),
        }
    }

    /// Serves with client certificates from `relay_ca`: answers 201 with a
    /// body naming the method, path, `From` and the client's domain.
    fn serve(&mut self, relay_ca: &str) {
        let config = pki::server_config(&self.own, &[relay_ca]).unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        let listener = self.listener.take().unwrap();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let peer = tls
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|c| c.first())
                        .map(pki::cert_dns_names)
                        .unwrap_or_default()
                        .join(",");
                    let svc = hyper::service::service_fn(
                        move |req: hyper::Request<hyper::body::Incoming>| {
                            let peer = peer.clone();
                            async move {
                                let from = req
                                    .headers()
                                    .get("from")
                                    .map(|v| v.to_str().unwrap().to_owned())
                                    .unwrap_or_default();
                                let text = format!(
                                    "{} {} from={from} cert={peer}",
                                    req.method(),
                                    req.uri().path()
                                );
                                let mut r = hyper::Response::new(axum::body::Body::from(text));
                                *r.status_mut() = hyper::StatusCode::CREATED;
                                r.headers_mut().insert(
                                    "x-answer",
                                    hyper::header::HeaderValue::from_static("yes"),
                                );
                                Ok::<_, std::convert::Infallible>(r)
                            }
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
}

/// A client as target `own` would be: its certificate, trusting `relay_ca`,
/// reaching `domain` at the relay's listener.
fn client(own: &TlsMaterial, relay_ca: &str, domain: &str, listener_url: &str) -> reqwest::Client {
    let u = reqwest::Url::parse(listener_url).unwrap();
    let addr = std::net::SocketAddr::new(u.host_str().unwrap().parse().unwrap(), u.port().unwrap());
    reqwest::Client::builder()
        .tls_backend_preconfigured(pki::client_config(own, &[relay_ca]).unwrap())
        .resolve(domain, addr)
        .no_proxy()
        .build()
        .unwrap()
}

fn port_of(url: &str) -> u16 {
    reqwest::Url::parse(url).unwrap().port().unwrap()
}

struct World {
    relay: Relay,
    a: Stand,
    b: Stand,
    dir: tempfile::TempDir,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let mut a = stand("a.example").await;
    let mut b = stand("b.example").await;
    let recorder = Arc::new(Recorder::new("pfx001", Some(&dir.path().join("run.jsonl"))));
    let relay = Relay::start(&[Some(a.target("x")), Some(b.target("y"))], recorder)
        .await
        .unwrap();
    a.serve(relay.ca_pem());
    b.serve(relay.ca_pem());
    World { relay, a, b, dir }
}

impl World {
    /// Target a's client to b through the relay.
    fn a_to_b(&self) -> reqwest::Client {
        client(
            &self.a.own,
            self.relay.ca_pem(),
            "b.example",
            self.relay.url_for(1).unwrap(),
        )
    }

    fn b_url(&self, path: &str) -> String {
        format!(
            "https://b.example:{}{path}",
            port_of(self.relay.url_for(1).unwrap())
        )
    }

    fn run_lines(&self) -> Vec<serde_json::Value> {
        self.relay.recorder().flush();
        std::fs::read_to_string(self.dir.path().join("run.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

#[tokio::test]
async fn the_relay_forwards_unchanged_as_the_sender_and_records_by_case() {
    let w = world().await;
    // The listener URL keeps the target's own path.
    let url = w.relay.url_for(1).unwrap();
    assert!(
        url.starts_with("https://127.0.0.1:") && url.ends_with("/mimi"),
        "{url}"
    );
    let case = w.relay.recorder().open_case(7);
    let resp = w
        .a_to_b()
        .post(w.b_url("/mimi/v1/notify/a.example/r/room-pfx001-7-1?x=1"))
        .header("From", "mimi@a.example")
        .header("Content-Type", "application/octet-stream")
        .body(b"hello".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["x-answer"], "yes");
    // b saw a's domain in the relay's client certificate, and a's From.
    let answer = resp.text().await.unwrap();
    assert_eq!(
        answer,
        "POST /mimi/v1/notify/a.example/r/room-pfx001-7-1 from=mimi@a.example cert=a.example"
    );
    let got = case.exchanges();
    assert_eq!(got.len(), 1);
    let ex = &got[0];
    assert_eq!((ex.from.target.as_str(), ex.to.target.as_str()), ("x", "y"));
    assert_eq!(ex.path, "/mimi/v1/notify/a.example/r/room-pfx001-7-1?x=1");
    assert_eq!(ex.request, b"hello");
    assert_eq!(ex.status, Some(201));
    assert_eq!(ex.from_header.as_deref(), Some("mimi@a.example"));
    assert_eq!(ex.content_type.as_deref(), Some("application/octet-stream"));
    assert_eq!(ex.endpoint(), "notify");
    assert_eq!(case.between(0, 1), 1);
    // Closed: later exchanges of the case go to the run level.
    assert_eq!(w.relay.recorder().close_case(7).len(), 1);
    let line = ex.to_json_line();
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["request_b64"], "aGVsbG8=");
    assert_eq!(v["status"], 201);
    assert_eq!(
        v["summary"],
        format!(
            "x → y: POST /mimi/v1/notify/a.example/r/room-pfx001-7-1?x=1 → 201 (5 B / {} B) · \
             POST notify a.example/r/room-pfx001-7-1?x=1 → 201: request undecodable \
             (notify[0].timestamp: truncated at byte 5)",
            answer.len()
        ),
        "the protocol codec reads the body below the target's base path"
    );
    assert_eq!(w.relay.recorder().run_level_count(), 0);
}

#[tokio::test]
async fn a_certificate_the_relay_cannot_tie_to_a_target_is_refused() {
    let w = world().await;
    // Issued by a's CA, but for a domain that is no target's.
    let stranger = w.a.ca.issue("evil.example").unwrap();
    // Issued by a's CA for b's domain: a's CA does not speak for b.
    let forged = w.a.ca.issue("b.example").unwrap();
    // Issued by a CA no target has.
    let outsider = RunCa::new("other").unwrap().issue("a.example").unwrap();
    for (own, to) in [(&stranger, 1), (&forged, 0), (&outsider, 1)] {
        let domain = if to == 1 { "b.example" } else { "a.example" };
        let c = client(own, w.relay.ca_pem(), domain, w.relay.url_for(to).unwrap());
        let url = format!(
            "https://{domain}:{}/v1/notify/x",
            port_of(w.relay.url_for(to).unwrap())
        );
        let r = c.post(url).body("x").send().await;
        assert!(r.is_err(), "{r:?}");
    }
    let refused: Vec<_> = w
        .run_lines()
        .into_iter()
        .filter_map(|l| l["refused"].as_str().map(str::to_owned))
        .collect();
    assert!(
        refused
            .iter()
            .any(|r| r.contains("names no other target's domain (evil.example)")),
        "{refused:?}"
    );
    assert!(
        refused
            .iter()
            .any(|r| r.contains("for b.example was not issued by that target's CA")),
        "{refused:?}"
    );
    // The relay still works.
    let r = w
        .a_to_b()
        .post(w.b_url("/mimi/v1/notify/x"))
        .body("ok")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn garbage_and_over_cap_bodies_do_not_stop_the_relay() {
    let w = world().await;
    let addr = w
        .relay
        .url_for(1)
        .unwrap()
        .trim_start_matches("https://")
        .trim_end_matches("/mimi")
        .to_owned();
    // Not TLS at all.
    for junk in [
        &b"GET / HTTP/1.1\r\n\r\n"[..],
        &[0x16, 0x03, 0x01, 0xff, 0xff, 0, 1, 2][..],
        &[0u8; 4096][..],
    ] {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let _ = s.write_all(junk).await;
        let mut buf = [0u8; 64];
        let _ = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
            .await
            .expect("the relay answers or closes");
    }
    // Over the cap: 413, recorded as the sender's violation, body not kept.
    let big = vec![b'x'; BODY_CAP + 1];
    let r = w
        .a_to_b()
        .post(w.b_url("/mimi/v1/submitMessage/a.example/r/big"))
        .body(big)
        .send()
        .await;
    if let Ok(r) = r {
        assert_eq!(r.status(), 413);
    }
    // Garbage inside TLS: hyper answers 400 or closes, nothing breaks.
    let r = w
        .a_to_b()
        .post(w.b_url("/mimi/v1/notify/a.example/r/after"))
        .body("fine")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let lines = w.run_lines();
    let over = lines
        .iter()
        .find(|l| l["path"] == "/mimi/v1/submitMessage/a.example/r/big")
        .expect("the over-cap request is recorded");
    assert_eq!(over["relay_status"], 413);
    assert_eq!(over["violation"]["blame"], "x");
    assert_eq!(over["request_size"], 0);
    assert!(
        lines
            .iter()
            .any(|l| l["path"] == "/mimi/v1/notify/a.example/r/after")
    );
}

#[tokio::test]
async fn a_cut_fails_requests_fast_both_ways_and_heal_restores() {
    let w = world().await;
    let a_to_b = w.a_to_b();
    let b_to_a = client(
        &w.b.own,
        w.relay.ca_pem(),
        "a.example",
        w.relay.url_for(0).unwrap(),
    );
    let a_url = format!(
        "https://a.example:{}/mimi/v1/notify/x",
        port_of(w.relay.url_for(0).unwrap())
    );
    assert_eq!(
        a_to_b
            .post(w.b_url("/mimi/v1/notify/x"))
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
    assert_eq!(b_to_a.post(&a_url).send().await.unwrap().status(), 201);
    assert!(!w.relay.is_cut(0, 1));
    let cut = w.relay.cut(1, 0).unwrap();
    assert_eq!(
        cut.cut_connections, 2,
        "both pooled connections were aborted"
    );
    assert!(w.relay.is_cut(0, 1));
    let t0 = std::time::Instant::now();
    // Pooled connections were aborted, and fresh ones are reset.
    let fresh_a = w.a_to_b();
    let fresh_b = client(
        &w.b.own,
        w.relay.ca_pem(),
        "a.example",
        w.relay.url_for(0).unwrap(),
    );
    for (c, url) in [
        (&a_to_b, w.b_url("/mimi/v1/notify/x")),
        (&b_to_a, a_url.clone()),
        (&fresh_a, w.b_url("/mimi/v1/notify/x")),
        (&fresh_b, a_url.clone()),
    ] {
        assert!(c.post(url).send().await.is_err());
    }
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "fails fast: {:?}",
        t0.elapsed()
    );
    let healed = w.relay.heal(0, 1).unwrap();
    assert_eq!(healed.cut_connections, 0);
    assert!(healed.refused_connections >= 2, "{healed:?}");
    assert_eq!(
        a_to_b
            .post(w.b_url("/mimi/v1/notify/x"))
            .send()
            .await
            .unwrap()
            .status(),
        201
    );
    assert_eq!(b_to_a.post(&a_url).send().await.unwrap().status(), 201);
    assert!(w.relay.cut(0, 0).unwrap_err().starts_with(SAME_TARGET));
}
