//! Integration tests: attachments stored on the sender's provider and
//! downloaded through the room's hub (protocol-06 §5.10 proxyDownload), with
//! two reference providers driven through their control APIs.

use base64::Engine as _;
use mimi_interop::content::{self, PartBody};
use mimi_interop::control::api::*;
use mimi_interop::control::{CallError, ControlClient};
use mimi_interop::reference::RunningProvider;
use mimi_interop::reference::pki::TlsMaterial;
use mimi_interop::reference::quirks::{Quirk, Quirks};
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn unb64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .expect("base64")
}

/// A wired pair (see `reference::pair`) with a room on a.example that bob
/// (on b.example) has joined.
struct Pair {
    p: crate::reference::Pair,
    room: String,
    alice: String,
    bob: String,
}

impl std::ops::Deref for Pair {
    type Target = crate::reference::Pair;
    fn deref(&self) -> &Self::Target {
        &self.p
    }
}

/// a.example (hub, alice) and b.example (bob), wired, with a room on A that
/// bob has joined. `quirks_b` are b.example's deliberate deviations.
async fn pair(quirks_b: Quirks) -> Pair {
    let p = crate::reference::pair_with_quirks(quirks_b).await;
    let (room, alice, bob, _, _) = crate::reference::room_with_bob(&p).await;
    let (alice, bob) = (alice.user, bob.user);
    Pair {
        p,
        room,
        alice,
        bob,
    }
}

/// Long-polls `user`'s events from the start until `pick` accepts one.
async fn wait_message_or_join(c: &ControlClient, user: &str, pick: impl Fn(&Event) -> bool) {
    let deadline = tokio::time::Instant::now() + T;
    let mut cursor = 0;
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no event for {user}"
        );
        let r = c
            .events(
                &EventsRequest {
                    user: user.into(),
                    cursor,
                    wait_ms: 5000,
                },
                T,
            )
            .await
            .expect("events");
        for e in r.events {
            cursor = e.seq;
            if pick(&e) {
                return;
            }
        }
    }
}

/// Waits until `user` has received message `id` (hex) in `room`.
async fn wait_for_message(c: &ControlClient, user: &str, sender: &str, room: &str, id: &str) {
    let (sender, room, id) = (sender.to_owned(), room.to_owned(), id.to_owned());
    wait_message_or_join(c, user, move |e| match &e.kind {
        EventKind::Message { content, .. } => {
            let bytes = unb64(content);
            content::message_id(content::IdFormula::Draft08, &sender, &room, &bytes)
                .is_ok_and(|m| m.to_hex() == id)
        }
        _ => false,
    })
    .await;
}

async fn send(
    c: &ControlClient,
    room: &str,
    actor: &str,
    intent: serde_json::Value,
) -> SendResponse {
    c.send(
        &SendRequest {
            room: room.into(),
            actor: actor.into(),
            client: None,
            content: SendContent::Intent(intent),
        },
        T,
    )
    .await
    .expect("send")
}

async fn download(
    c: &ControlClient,
    user: &str,
    room: &str,
    id: &str,
) -> Result<DownloadResponse, CallError> {
    c.download(
        &DownloadRequest {
            user: user.into(),
            room: room.into(),
            message_id: id.into(),
            client: None,
        },
        T,
    )
    .await
}

fn external_of(sent: &SendResponse) -> content::ExternalPart {
    let decoded = content::decode(&unb64(&sent.content)).expect("valid content");
    fn first(b: &PartBody) -> Option<&content::ExternalPart> {
        match b {
            PartBody::External(e) => Some(e),
            PartBody::Multi { parts, .. } => parts.iter().find_map(|p| first(&p.body)),
            _ => None,
        }
    }
    first(&decoded.content.nested_part.body)
        .cloned()
        .expect("an ExternalPart")
}

/// Uploads `data` as `actor` on `c`, checks the ExternalPart, and returns
/// the answer.
async fn upload(
    c: &ControlClient,
    room: &str,
    actor: &str,
    domain: &str,
    data: &[u8],
    content_type: &str,
    fallback: Option<&str>,
) -> SendResponse {
    let mut up = serde_json::json!({
        "data": b64(data),
        "content_type": content_type,
        "filename": "f.bin",
        "description": "a file",
    });
    if let Some(f) = fallback {
        up["fallback"] = serde_json::json!(f);
    }
    let sent = send(c, room, actor, serde_json::json!({ "upload": up })).await;
    let part = external_of(&sent);
    assert!(
        part.url
            .starts_with(&format!("https://{domain}/v1/assets/")),
        "{}",
        part.url
    );
    assert_eq!(part.size as usize, data.len() + 16);
    assert_eq!((part.enc_alg, part.hash_alg), (1, 1));
    assert_eq!((part.key.len(), part.nonce.len()), (16, 12));
    assert_eq!(part.content_type, content_type);
    assert_eq!(part.filename, "f.bin");
    sent
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_on_either_side_download_on_the_other() {
    let p = pair(Quirks::default()).await;
    // Follower uploads, hub downloads (the hub fetches from b.example).
    let png: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    let sent = upload(
        &p.cb,
        &p.room,
        &p.bob,
        "b.example",
        &png,
        "image/png",
        Some("a picture"),
    )
    .await;
    wait_for_message(&p.ca, &p.alice, &p.bob, &p.room, &sent.message_id).await;
    let got = download(&p.ca, &p.alice, &p.room, &sent.message_id)
        .await
        .expect("alice downloads bob's image");
    assert_eq!(got.content_type, "image/png");
    assert_eq!(unb64(&got.data), png);
    assert_eq!(got.size, png.len() as u64);
    // Bob downloads his own upload from his own provider.
    let own = download(&p.cb, &p.bob, &p.room, &sent.message_id)
        .await
        .expect("bob downloads his own image");
    assert_eq!(unb64(&own.data), png);

    // Hub uploads, follower downloads (through the hub's proxyDownload).
    p.a.hooks()
        .record
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let pdf = b"%PDF-1.7 a small document".to_vec();
    let sent = upload(
        &p.ca,
        &p.room,
        &p.alice,
        "a.example",
        &pdf,
        "application/pdf",
        None,
    )
    .await;
    wait_for_message(&p.cb, &p.bob, &p.alice, &p.room, &sent.message_id).await;
    let got = download(&p.cb, &p.bob, &p.room, &sent.message_id)
        .await
        .expect("bob downloads alice's file");
    assert_eq!(unb64(&got.data), pdf);
    assert!(
        p.a.hooks()
            .recorded()
            .iter()
            .any(|r| r.label == "in proxyDownload from b.example"),
        "bob's provider went through the hub's proxyDownload"
    );
    // Unknown message: 404.
    let err = download(&p.cb, &p.bob, &p.room, &"01".repeat(32))
        .await
        .unwrap_err();
    assert!(matches!(err, CallError::NotFound { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_hash_and_the_quirk_are_download_errors() {
    let p = pair(Quirks::new([Quirk::AssetHashOfPlaintext])).await;
    // b.example hashes the plaintext: alice's download must fail, not
    // return garbage.
    let data = b"voice note".to_vec();
    let sent = upload(
        &p.cb,
        &p.room,
        &p.bob,
        "b.example",
        &data,
        "audio/ogg",
        None,
    )
    .await;
    wait_for_message(&p.ca, &p.alice, &p.bob, &p.room, &sent.message_id).await;
    let err = download(&p.ca, &p.alice, &p.room, &sent.message_id)
        .await
        .unwrap_err();
    let CallError::Status { status, body, .. } = &err else {
        panic!("expected 502, got {err}");
    };
    assert_eq!(*status, 502);
    assert!(
        body.contains("peer_error") && body.contains("contentHash"),
        "{body}"
    );

    // An honest upload by alice, re-sent raw with one hash bit flipped.
    let sent = upload(
        &p.ca,
        &p.room,
        &p.alice,
        "a.example",
        &data,
        "audio/ogg",
        None,
    )
    .await;
    let mut decoded = content::decode(&unb64(&sent.content)).unwrap().content;
    let PartBody::External(part) = &mut decoded.nested_part.body else {
        panic!("expected an ExternalPart");
    };
    part.content_hash[0] ^= 1;
    decoded.salt[0] ^= 1;
    let tampered =
        p.ca.send(
            &SendRequest {
                room: p.room.clone(),
                actor: p.alice.clone(),
                client: None,
                content: SendContent::Raw(b64(&content::encode(&decoded))),
            },
            T,
        )
        .await
        .expect("send raw");
    wait_for_message(&p.cb, &p.bob, &p.alice, &p.room, &tampered.message_id).await;
    let err = download(&p.cb, &p.bob, &p.room, &tampered.message_id)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CallError::Status { status: 502, body, .. } if body.contains("contentHash")),
        "{err}"
    );
    // The untampered original still downloads.
    wait_for_message(&p.cb, &p.bob, &p.alice, &p.room, &sent.message_id).await;
    let ok = download(&p.cb, &p.bob, &p.room, &sent.message_id)
        .await
        .expect("untampered download");
    assert_eq!(unb64(&ok.data), data);
}

/// An HTTPS client presenting `me` to `target`'s MIMI server.
fn mimi_http(me: &TlsMaterial, trust_ca: &str, target: &RunningProvider) -> reqwest::Client {
    let cfg = mimi_interop::reference::pki::client_config(me, &[trust_ca]).expect("TLS config");
    let addr: std::net::SocketAddr = target
        .mimi_url()
        .trim_start_matches("https://")
        .parse()
        .expect("https://ip:port");
    reqwest::Client::builder()
        .tls_backend_preconfigured(cfg)
        .resolve(target.domain(), addr)
        .no_proxy()
        .build()
        .expect("reqwest client")
}

async fn get(
    http: &reqwest::Client,
    target: &RunningProvider,
    path: &str,
    from: Option<&str>,
) -> (u16, Vec<u8>) {
    let port = target.mimi_url().rsplit(':').next().unwrap();
    let mut req = http.get(format!("https://{}:{port}{path}", target.domain()));
    if let Some(f) = from {
        req = req.header("From", format!("mimi@{f}"));
    }
    let resp = req.send().await.expect("GET");
    let status = resp.status().as_u16();
    (status, resp.bytes().await.expect("body").to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_download_is_no_open_proxy_and_needs_a_peer() {
    let p = pair(Quirks::default()).await;
    let data = b"stored on b".to_vec();
    let sent = upload(
        &p.cb,
        &p.room,
        &p.bob,
        "b.example",
        &data,
        "text/plain",
        None,
    )
    .await;
    let url = external_of(&sent).url;
    let ca_pem = p.launcher.ca().cert_pem().to_owned();
    let b_cert = p.launcher.ca().issue("b.example").unwrap();
    let http = mimi_http(&b_cert, &ca_pem, &p.a);
    let encoded = mimi_interop::reference::server::encode_download_url(&url);

    // b.example asks the hub for its own asset: encoded and raw forms work,
    // and the bytes are the stored ciphertext.
    let (status, body) = get(
        &http,
        &p.a,
        &format!("/v1/proxyDownload/{encoded}"),
        Some("b.example"),
    )
    .await;
    assert_eq!(status, 200);
    let part = external_of(&sent);
    assert_eq!(content::attachment::open(&part, &body).unwrap(), data);
    let (status, raw) = get(
        &http,
        &p.a,
        &format!("/v1/proxyDownload/{url}"),
        Some("b.example"),
    )
    .await;
    assert_eq!((status, raw), (200, body));

    // A host that is not a peer (nor the hub): 403, nothing fetched.
    for other in [
        "https://c.example/v1/assets/00",
        "https://127.0.0.1/v1/assets/00",
        "http://b.example/v1/assets/00",
    ] {
        let enc = mimi_interop::reference::server::encode_download_url(other);
        let (status, _) = get(
            &http,
            &p.a,
            &format!("/v1/proxyDownload/{enc}"),
            Some("b.example"),
        )
        .await;
        assert_eq!(status, 403, "{other}");
    }
    // An unknown asset of a peer: the peer's 404 comes back as a peer error.
    let missing = url.rsplit_once('/').unwrap().0.to_owned() + "/ffff";
    let enc = mimi_interop::reference::server::encode_download_url(&missing);
    let (status, _) = get(
        &http,
        &p.a,
        &format!("/v1/proxyDownload/{enc}"),
        Some("b.example"),
    )
    .await;
    assert_eq!(status, 502);

    // Without a From header, or claiming a domain the certificate does not
    // name: refused before anything is fetched.
    let (status, _) = get(&http, &p.a, &format!("/v1/proxyDownload/{encoded}"), None).await;
    assert_eq!(status, 403);
    let (status, _) = get(
        &http,
        &p.a,
        &format!("/v1/proxyDownload/{encoded}"),
        Some("a.example"),
    )
    .await;
    assert_eq!(status, 403);
    // The asset provider itself only serves authenticated peers.
    let path = url.strip_prefix("https://b.example").unwrap().to_owned();
    let a_cert = p.launcher.ca().issue("a.example").unwrap();
    let to_b = mimi_http(&a_cert, &ca_pem, &p.b);
    let (status, _) = get(&to_b, &p.b, &path, None).await;
    assert_eq!(status, 403);
    let (status, _) = get(&to_b, &p.b, "/v1/assets/ffff", Some("a.example")).await;
    assert_eq!(status, 404);
    let (status, stored) = get(&to_b, &p.b, &path, Some("a.example")).await;
    assert_eq!(status, 200);
    assert_eq!(content::attachment::sha256(&stored), part.content_hash);
    // Without a client certificate, no TLS connection at all.
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut ca_pem.as_bytes()) {
        roots.add(c.expect("CA PEM")).expect("CA cert");
    }
    let cfg = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let no_cert = reqwest::Client::builder()
        .tls_backend_preconfigured(cfg)
        .resolve(
            p.b.domain(),
            p.b.mimi_url()
                .trim_start_matches("https://")
                .parse()
                .unwrap(),
        )
        .no_proxy()
        .build()
        .unwrap();
    let port = p.b.mimi_url().rsplit(':').next().unwrap();
    let r = no_cert
        .get(format!("https://b.example:{port}{path}"))
        .header("From", "mimi@a.example")
        .send()
        .await;
    assert!(r.is_err(), "served without a client certificate");

    // reset clears the store.
    p.cb.reset(T).await.expect("reset");
    let (status, _) = get(&to_b, &p.b, &path, Some("a.example")).await;
    assert_eq!(status, 404);
}
