//! Integration tests: the reference provider. Two providers in one process
//! talk MIMI over real loopback mutual TLS and are driven through their
//! control APIs, as the harness drives any target.

use base64::Engine as _;
use mimi_interop::control::ControlClient;
use mimi_interop::control::api::*;
use mimi_interop::reference::quirks::Quirks;
use mimi_interop::reference::{Launcher, RunningProvider};
use std::collections::BTreeSet;
use std::time::Duration;

pub(crate) const T: Duration = Duration::from_secs(20);

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

pub(crate) struct Pair {
    pub(crate) launcher: Launcher,
    pub(crate) a: RunningProvider,
    pub(crate) b: RunningProvider,
    pub(crate) ca: ControlClient,
    pub(crate) cb: ControlClient,
}

pub(crate) async fn peer_of(c: &ControlClient) -> Peer {
    let info = c.info(T).await.expect("info");
    Peer {
        domain: info.domain,
        mimi_url: info.mimi_url,
        ca_pem: info.ca_pem,
    }
}

/// Two providers, a.example and b.example, wired to each other.
pub(crate) async fn pair() -> Pair {
    pair_with_quirks(Quirks::default()).await
}

/// [`pair`] with deliberate deviations on b.example.
pub(crate) async fn pair_with_quirks(quirks_b: Quirks) -> Pair {
    let launcher = Launcher::new().expect("run CA");
    let a = launcher.start_domain("a.example").await.expect("start a");
    let b = launcher
        .start_domain_with_quirks("b.example", quirks_b)
        .await
        .expect("start b");
    let http = reqwest::Client::new();
    let ca = ControlClient::new(http.clone(), a.control_url());
    let cb = ControlClient::new(http, b.control_url());
    let (pa, pb) = (peer_of(&ca).await, peer_of(&cb).await);
    ca.peers(&PeersRequest { peers: vec![pb] }, T)
        .await
        .expect("peers a");
    cb.peers(&PeersRequest { peers: vec![pa] }, T)
        .await
        .expect("peers b");
    Pair {
        launcher,
        a,
        b,
        ca,
        cb,
    }
}

pub(crate) async fn user(c: &ControlClient, name: &str, clients: u32) -> CreateUserResponse {
    c.create_user(
        &CreateUserRequest {
            name: name.into(),
            display_name: None,
            avatar: None,
            clients,
            consent_required: false,
        },
        T,
    )
    .await
    .expect("create_user")
}

/// A group room `name` of `actor` on the provider `c` controls.
pub(crate) async fn group_room(c: &ControlClient, actor: &str, name: &str) -> String {
    c.create_room(
        &CreateRoomRequest {
            actor: actor.into(),
            name: name.into(),
            kind: RoomKind::Group,
            with: None,
            status_policy: None,
            max_users: None,
        },
        T,
    )
    .await
    .expect("create_room")
    .room
}

/// `actor` adds `user` to `room` (control `add_participant`).
pub(crate) async fn add_participant(
    c: &ControlClient,
    room: &str,
    actor: &str,
    user: &str,
) -> Result<RoomChangeResponse, mimi_interop::control::CallError> {
    c.membership(
        "add_participant",
        &MembershipRequest {
            room: room.into(),
            actor: actor.into(),
            user: user.into(),
        },
        T,
    )
    .await
}

/// Waits (long-poll) for the first event of `user` past `cursor` that `pick`
/// accepts; panics after the deadline.
pub(crate) async fn wait_for<F: Fn(&Event) -> bool>(
    c: &ControlClient,
    user: &str,
    cursor: &mut u64,
    pick: F,
) -> Event {
    let deadline = tokio::time::Instant::now() + T;
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no matching event for {user}"
        );
        let r = c
            .events(
                &EventsRequest {
                    user: user.into(),
                    cursor: *cursor,
                    wait_ms: 5000,
                },
                T,
            )
            .await
            .expect("events");
        for e in r.events {
            *cursor = e.seq;
            if pick(&e) {
                return e;
            }
        }
    }
}

pub(crate) fn message_from(e: &Event) -> Option<(&str, Vec<u8>)> {
    match &e.kind {
        EventKind::Message {
            sender, content, ..
        } => Some((
            sender.as_str(),
            base64::engine::general_purpose::STANDARD
                .decode(content)
                .expect("event content is base64"),
        )),
        _ => None,
    }
}

pub(crate) async fn send_raw(
    c: &ControlClient,
    room: &str,
    actor: &str,
    bytes: &[u8],
) -> SendResponse {
    c.send(
        &SendRequest {
            room: room.into(),
            actor: actor.into(),
            client: None,
            content: SendContent::Raw(b64(bytes)),
        },
        T,
    )
    .await
    .expect("send")
}

async fn state(c: &ControlClient, room: &str, user: &str) -> RoomStateResponse {
    c.room_state(
        &RoomStateRequest {
            room: room.into(),
            user: user.into(),
        },
        T,
    )
    .await
    .expect("room_state")
}

/// Creates a room on A with alice and adds bob of B; returns the room and
/// both users' event cursors after bob joined.
pub(crate) async fn room_with_bob(
    p: &Pair,
) -> (String, CreateUserResponse, CreateUserResponse, u64, u64) {
    let alice = user(&p.ca, "alice", 1).await;
    let bob = user(&p.cb, "bob", 1).await;
    let (room, epoch, cb) = room_with_guest(p, "club", &alice.user, &bob.user).await;
    assert_eq!(room, "mimi://a.example/r/club");
    assert_eq!(epoch, 1);
    (room, alice, bob, 0, cb)
}

/// Creates room `name` on A for `owner` and adds `guest` of B; returns the
/// room, the add's epoch (the guest joins at it) and the guest's event
/// cursor after it joined.
pub(crate) async fn room_with_guest(
    p: &Pair,
    name: &str,
    owner: &str,
    guest: &str,
) -> (String, u64, u64) {
    let room = group_room(&p.ca, owner, name).await;
    let r = add_participant(&p.ca, &room, owner, guest)
        .await
        .expect("add_participant");
    let mut cursor = 0;
    let joined = wait_for(&p.cb, guest, &mut cursor, |e| {
        e.room == room && matches!(e.kind, EventKind::Joined { .. })
    })
    .await;
    assert_eq!(joined.kind, EventKind::Joined { epoch: r.epoch });
    (room, r.epoch, cursor)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_providers_exchange_messages_both_ways() {
    let p = pair().await;
    let (room, alice, bob, mut ca, mut cb) = room_with_bob(&p).await;

    send_raw(&p.ca, &room, &alice.user, b"hello bob").await;
    let e = wait_for(&p.cb, &bob.user, &mut cb, |e| message_from(e).is_some()).await;
    let (sender, content) = message_from(&e).unwrap();
    assert_eq!(sender, alice.clients[0]);
    assert_eq!(content, b"hello bob");
    assert_eq!(e.client, bob.clients[0]);
    match &e.kind {
        EventKind::Message {
            accepted_timestamp,
            wire_format,
            ..
        } => {
            assert!(accepted_timestamp.is_some_and(|t| t > 1_600_000_000_000));
            assert_eq!(wire_format, "private");
        }
        _ => unreachable!(),
    }

    send_raw(&p.cb, &room, &bob.user, b"hi alice").await;
    let e = wait_for(&p.ca, &alice.user, &mut ca, |e| message_from(e).is_some()).await;
    assert_eq!(
        message_from(&e).unwrap(),
        (bob.clients[0].as_str(), b"hi alice".to_vec())
    );

    let sa = state(&p.ca, &room, &alice.user).await;
    let sb = state(&p.cb, &room, &bob.user).await;
    assert_eq!(sa.clients.len(), 1);
    assert_eq!(sb.clients.len(), 1);
    let (a1, b1) = (&sa.clients[0], &sb.clients[0]);
    assert_eq!(a1.epoch, 1);
    assert_eq!(a1.epoch, b1.epoch);
    assert_eq!(a1.epoch_authenticator, b1.epoch_authenticator);
    assert_eq!(a1.epoch_authenticator.len(), 64);
    assert_eq!(
        a1.members,
        vec![alice.clients[0].clone(), bob.clients[0].clone()]
    );
    assert_eq!(a1.members, b1.members);
    let expected = vec![
        Participant {
            user: alice.user.clone(),
            role: "admin".into(),
        },
        Participant {
            user: bob.user.clone(),
            role: "user".into(),
        },
    ];
    assert_eq!(a1.participants, expected);
    assert_eq!(b1.participants, expected);
    let _ = (&p.launcher, &p.a, &p.b);
}

pub(crate) async fn add_client(c: &ControlClient, user: &str) -> String {
    c.add_client(&AddClientRequest { user: user.into() }, T)
        .await
        .expect("add_client")
        .client
}

async fn membership(c: &ControlClient, op: &str, room: &str, actor: &str, user: &str) -> u64 {
    super::reference_policy::member_op(c, op, room, actor, user)
        .await
        .unwrap_or_else(|e| panic!("{op}: {e}"))
        .epoch
}

/// All Message events of `user` past `cursor` without waiting, after making
/// every client process what its provider already delivered.
async fn messages_now(
    c: &ControlClient,
    room: &str,
    user: &str,
    cursor: &mut u64,
) -> Vec<(String, Vec<u8>)> {
    let _ = c
        .room_state(
            &RoomStateRequest {
                room: room.into(),
                user: user.into(),
            },
            T,
        )
        .await;
    let r = c
        .events(
            &EventsRequest {
                user: user.into(),
                cursor: *cursor,
                wait_ms: 0,
            },
            T,
        )
        .await
        .expect("events");
    *cursor = r.cursor;
    r.events
        .iter()
        .filter_map(|e| message_from(e).map(|(_, c)| (e.client.clone(), c)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_client_joins_by_external_commit_and_receives() {
    let p = pair().await;
    let (room, alice, bob, mut ca, mut cb) = room_with_bob(&p).await;
    let bob2 = add_client(&p.cb, &bob.user).await;
    assert_eq!(bob2, "mimi://b.example/d/bob-2");
    let joined = wait_for(&p.cb, &bob.user, &mut cb, |e| e.client == bob2).await;
    assert_eq!(joined.kind, EventKind::Joined { epoch: 2 });
    wait_for(&p.ca, &alice.user, &mut ca, |e| {
        e.kind == EventKind::EpochChanged { epoch: 2 }
    })
    .await;

    send_raw(&p.ca, &room, &alice.user, b"to both devices").await;
    let mut got = BTreeSet::new();
    while got.len() < 2 {
        let e = wait_for(&p.cb, &bob.user, &mut cb, |e| message_from(e).is_some()).await;
        assert_eq!(message_from(&e).unwrap().1, b"to both devices");
        assert!(
            got.insert(e.client.clone()),
            "delivered twice to {}",
            e.client
        );
    }
    assert_eq!(got, BTreeSet::from([bob.clients[0].clone(), bob2.clone()]));

    // The new device can send too, and everyone agrees on the epoch.
    p.cb.send(
        &SendRequest {
            room: room.clone(),
            actor: bob.user.clone(),
            client: Some(bob2.clone()),
            content: SendContent::Raw(b64(b"from bob-2")),
        },
        T,
    )
    .await
    .expect("send from bob-2");
    let e = wait_for(&p.ca, &alice.user, &mut ca, |e| message_from(e).is_some()).await;
    assert_eq!(
        message_from(&e).unwrap(),
        (bob2.as_str(), b"from bob-2".to_vec())
    );
    let sa = state(&p.ca, &room, &alice.user).await;
    let sb = state(&p.cb, &room, &bob.user).await;
    assert_eq!(sb.clients.len(), 2);
    for c in sb.clients.iter().chain(&sa.clients) {
        assert_eq!(c.epoch, 2);
        assert_eq!(c.epoch_authenticator, sa.clients[0].epoch_authenticator);
        assert_eq!(c.members.len(), 3);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removed_client_cannot_decrypt_later_messages() {
    let p = pair().await;
    let (room, alice, bob, _ca, mut cb) = room_with_bob(&p).await;
    let carol = user(&p.cb, "carol", 1).await;
    assert_eq!(
        membership(&p.ca, "add_participant", &room, &alice.user, &carol.user).await,
        2
    );
    let epoch = membership(&p.ca, "remove_participant", &room, &alice.user, &bob.user).await;
    assert_eq!(epoch, 3);
    let removed = wait_for(&p.cb, &bob.user, &mut cb, |e| {
        matches!(e.kind, EventKind::Removed { .. })
    })
    .await;
    assert_eq!(removed.kind, EventKind::Removed { epoch: 3 });

    send_raw(&p.ca, &room, &alice.user, b"after bob left").await;
    // carol (same provider as bob) gets it, so b.example has delivered it.
    let mut cc = 0;
    let e = wait_for(&p.cb, &carol.user, &mut cc, |e| message_from(e).is_some()).await;
    assert_eq!(message_from(&e).unwrap().1, b"after bob left");
    assert!(
        messages_now(&p.cb, &room, &bob.user, &mut cb)
            .await
            .is_empty()
    );
    let err =
        p.cb.room_state(
            &RoomStateRequest {
                room: room.clone(),
                user: bob.user.clone(),
            },
            T,
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.status(),
        Some(404),
        "bob has no client in the room: {err}"
    );
    let sa = state(&p.ca, &room, &alice.user).await;
    assert_eq!(
        sa.clients[0].members,
        vec![alice.clients[0].clone(), carol.clients[0].clone()]
    );
    // bob can no longer send into the room.
    let err =
        p.cb.send(
            &SendRequest {
                room: room.clone(),
                actor: bob.user.clone(),
                client: None,
                content: SendContent::Raw(b64(b"still here?")),
            },
            T,
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
}

// ---------------------------------------------------------------- MIMI level

use mimi_interop::protocol;
use mimi_interop::reference::pki::{self, TlsMaterial};

/// An HTTPS client that presents `me` and trusts `trust_ca`, reaching
/// `domain` at the address of `mimi_url`.
pub(crate) fn mimi_http(
    me: &TlsMaterial,
    trust_ca: &str,
    domain: &str,
    mimi_url: &str,
) -> reqwest::Client {
    let cfg = pki::client_config(me, &[trust_ca]).expect("client TLS config");
    let addr: std::net::SocketAddr = mimi_url
        .trim_start_matches("https://")
        .parse()
        .expect("mimi_url is https://ip:port");
    reqwest::Client::builder()
        .tls_backend_preconfigured(cfg)
        .resolve(domain, addr)
        .no_proxy()
        .build()
        .expect("reqwest client")
}

/// POSTs a MIMI body to `path` of `target`; returns status and body.
pub(crate) async fn mimi_post(
    http: &reqwest::Client,
    target: &RunningProvider,
    path: &str,
    from: Option<&str>,
    body: Vec<u8>,
) -> Result<(u16, Vec<u8>), reqwest::Error> {
    let port = target.mimi_url().rsplit(':').next().unwrap();
    let url = format!("https://{}:{port}{path}", target.domain());
    let mut req = http.post(url).body(body);
    if let Some(f) = from {
        req = req.header("From", format!("mimi@{f}"));
    }
    let resp = req.send().await?;
    let status = resp.status().as_u16();
    Ok((status, resp.bytes().await?.to_vec()))
}

pub(crate) fn recorded(p: &RunningProvider, label_prefix: &str) -> Vec<Vec<u8>> {
    p.hooks()
        .recorded()
        .into_iter()
        .filter(|r| r.label.starts_with(label_prefix) && !r.label.contains(" answer "))
        .map(|r| r.body)
        .collect()
}

pub(crate) fn record(p: &RunningProvider, on: bool) {
    p.hooks()
        .record
        .store(on, std::sync::atomic::Ordering::SeqCst);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicated_notify_is_processed_once() {
    let p = pair().await;
    let (room, alice, bob, _ca, mut cb) = room_with_bob(&p).await;
    record(&p.a, true);
    send_raw(&p.ca, &room, &alice.user, b"only once").await;
    let e = wait_for(&p.cb, &bob.user, &mut cb, |e| message_from(e).is_some()).await;
    assert_eq!(message_from(&e).unwrap().1, b"only once");
    let body = recorded(&p.a, "out notify")
        .pop()
        .expect("a notify was sent");
    let processed = p.b.hooks().notify_processed();

    // Replay the hub's exact request, authenticated as the hub.
    let hub = p.launcher.ca().issue("a.example").unwrap();
    let http = mimi_http(
        &hub,
        p.launcher.ca().cert_pem(),
        "b.example",
        p.b.mimi_url(),
    );
    let path = "/v1/notify/a.example/r/club";
    for _ in 0..2 {
        let (status, _) = mimi_post(&http, &p.b, path, Some("a.example"), body.clone())
            .await
            .expect("post");
        assert_eq!(status, 201);
    }
    assert_eq!(p.b.hooks().notify_processed(), processed);
    assert!(
        messages_now(&p.cb, &room, &bob.user, &mut cb)
            .await
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_follower_catches_up_in_order() {
    let p = pair().await;
    let (room, alice, bob, _ca, mut cb) = room_with_bob(&p).await;
    let hooks = p.b.hooks();
    hooks
        .notify_unavailable
        .store(true, std::sync::atomic::Ordering::SeqCst);
    for m in ["m1", "m2", "m3"] {
        send_raw(&p.ca, &room, &alice.user, m.as_bytes()).await;
    }
    tokio::time::timeout(T, hooks.wait_notify_refused(1))
        .await
        .expect("the hub tried to deliver");
    assert!(
        messages_now(&p.cb, &room, &bob.user, &mut cb)
            .await
            .is_empty()
    );
    hooks
        .notify_unavailable
        .store(false, std::sync::atomic::Ordering::SeqCst);
    send_raw(&p.ca, &room, &alice.user, b"m4").await;
    let mut got = Vec::new();
    while got.last().map(Vec::as_slice) != Some(b"m4".as_slice()) {
        let e = wait_for(&p.cb, &bob.user, &mut cb, |e| message_from(e).is_some()).await;
        got.push(message_from(&e).unwrap().1);
    }
    assert_eq!(
        got,
        vec![
            b"m1".to_vec(),
            b"m2".to_vec(),
            b"m3".to_vec(),
            b"m4".to_vec()
        ]
    );
    assert!(
        messages_now(&p.cb, &room, &bob.user, &mut cb)
            .await
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_never_reaches_the_server_side() {
    let p = pair().await;
    record(&p.a, true);
    record(&p.b, true);
    let (room, alice, bob, mut ca, mut cb) = room_with_bob(&p).await;
    let canary: [u8; 16] = rand::random();
    let canary = format!("canary-{}", hex::encode(canary));
    let body = format!("secret {canary} secret");
    send_raw(&p.ca, &room, &alice.user, body.as_bytes()).await;
    let e = wait_for(&p.cb, &bob.user, &mut cb, |e| message_from(e).is_some()).await;
    assert_eq!(message_from(&e).unwrap().1, body.as_bytes());
    add_client(&p.cb, &bob.user).await;
    send_raw(&p.cb, &room, &bob.user, body.as_bytes()).await;
    let e = wait_for(&p.ca, &alice.user, &mut ca, |e| message_from(e).is_some()).await;
    assert_eq!(message_from(&e).unwrap().1, body.as_bytes());
    // An intent as well: the content the provider builds stays client-side.
    let intent = serde_json::json!({ "text": canary.clone() });
    let sent =
        p.ca.send(
            &SendRequest {
                room: room.clone(),
                actor: alice.user.clone(),
                client: None,
                content: SendContent::Intent(intent),
            },
            T,
        )
        .await
        .expect("send intent");
    // (bob-2 also saw bob-1's message above; skip it.)
    let e = wait_for(&p.cb, &bob.user, &mut cb, |e| {
        message_from(e).is_some_and(|(_, c)| c != body.as_bytes())
    })
    .await;
    let got = message_from(&e).unwrap().1;
    assert_eq!(
        b64(&got),
        sent.content,
        "bob got exactly the bytes alice's provider built"
    );
    let id = mimi_interop::content::message_id(
        mimi_interop::content::IdFormula::Draft08,
        &alice.user,
        &room,
        &got,
    )
    .expect("message id");
    assert_eq!(id.to_hex(), sent.message_id);
    mimi_interop::content::decode(&got).expect("alice's provider built valid content");

    // An upload too: the provider stores and relays only the ciphertext;
    // the plaintext and the key stay with the clients.
    let up = serde_json::json!({ "upload": {
        "data": b64(body.as_bytes()), "content_type": "text/plain", "filename": canary.clone()
    }});
    let uploaded =
        p.cb.send(
            &SendRequest {
                room: room.clone(),
                actor: bob.user.clone(),
                client: None,
                content: SendContent::Intent(up),
            },
            T,
        )
        .await
        .expect("send upload");
    wait_for(&p.ca, &alice.user, &mut ca, |e| {
        message_from(e).is_some_and(|(_, c)| b64(&c) == uploaded.content)
    })
    .await;
    let fetched =
        p.ca.download(
            &DownloadRequest {
                user: alice.user.clone(),
                room: room.clone(),
                message_id: uploaded.message_id.clone(),
                client: None,
            },
            T,
        )
        .await
        .expect("download");
    assert_eq!(fetched.data, b64(body.as_bytes()));
    let decoded = mimi_interop::content::decode(
        &base64::engine::general_purpose::STANDARD
            .decode(&uploaded.content)
            .unwrap(),
    )
    .unwrap();
    let mimi_interop::content::PartBody::External(part) = decoded.content.nested_part.body else {
        panic!("upload without an ExternalPart");
    };
    assert!(
        p.b.server_dump()
            .iter()
            .any(|blob| mimi_interop::content::attachment::sha256(blob) == part.content_hash),
        "b.example stores the ciphertext, so the search below covers it"
    );
    for prov in [&p.a, &p.b] {
        let bodies = prov.hooks().recorded().into_iter().map(|r| r.body);
        for blob in bodies.chain(prov.server_dump()) {
            assert!(
                !blob
                    .windows(part.key.len())
                    .any(|w| w == part.key.as_slice()),
                "attachment key on the server side of {}",
                prov.domain()
            );
        }
    }

    let needle = canary.as_bytes();
    let contains = |hay: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    assert!(contains(&got), "the plaintext does carry the canary");
    let mut searched = 0;
    for prov in [&p.a, &p.b] {
        for r in prov.hooks().recorded() {
            assert!(
                !contains(&r.body),
                "canary in {} body ({})",
                prov.domain(),
                r.label
            );
            searched += 1;
        }
        for blob in prov.server_dump() {
            assert!(!contains(&blob), "canary in {} server state", prov.domain());
            searched += 1;
        }
    }
    assert!(
        searched > 20,
        "too little was recorded to mean anything ({searched})"
    );
    assert!(recorded(&p.a, "out notify").len() >= 3);
    // bob's raw message and his upload.
    assert!(recorded(&p.b, "out submitMessage").len() == 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_with_foreign_or_mismatched_certificates_are_refused() {
    let p = pair().await;
    let (room, alice, bob, _ca, mut cb) = room_with_bob(&p).await;
    record(&p.a, true);
    send_raw(&p.ca, &room, &alice.user, b"x").await;
    // Once bob has it, b.example has processed the genuine notify.
    wait_for(&p.cb, &bob.user, &mut cb, |e| message_from(e).is_some()).await;
    let body = recorded(&p.a, "out notify").pop().expect("notify body");
    let path = "/v1/notify/a.example/r/club";
    let processed = p.b.hooks().notify_processed();

    // A certificate for a.example, but from another CA.
    let evil_ca = pki::RunCa::new("evil CA").unwrap();
    let evil = evil_ca.issue("a.example").unwrap();
    let http = mimi_http(
        &evil,
        p.launcher.ca().cert_pem(),
        "b.example",
        p.b.mimi_url(),
    );
    match mimi_post(&http, &p.b, path, Some("a.example"), body.clone()).await {
        Err(_) => {}
        Ok((status, _)) => panic!("foreign certificate accepted with HTTP {status}"),
    }

    // A valid certificate for c.example that claims to be a.example.
    let c = p.launcher.ca().issue("c.example").unwrap();
    let http = mimi_http(&c, p.launcher.ca().cert_pem(), "b.example", p.b.mimi_url());
    let (status, _) = mimi_post(&http, &p.b, path, Some("a.example"), body.clone())
        .await
        .expect("post");
    assert_eq!(status, 403);
    // ... or that says who it is but is not the room's hub.
    let (status, _) = mimi_post(&http, &p.b, path, Some("c.example"), body)
        .await
        .expect("post");
    assert_eq!(status, 403);
    assert_eq!(p.b.hooks().notify_processed(), processed);

    // And our own client refuses a server whose certificate is foreign.
    let evil_b = evil_ca.issue("b.example").unwrap();
    let fake = mimi_interop::reference::start(mimi_interop::reference::ProviderConfig {
        domain: "b.example".into(),
        mimi_listen: "127.0.0.1:0".parse().unwrap(),
        control_listen: "127.0.0.1:0".parse().unwrap(),
        tls: evil_b,
        limits: Default::default(),
    })
    .await
    .expect("start fake b");
    let fake_peer = peer_of(&ControlClient::new(
        reqwest::Client::new(),
        fake.control_url(),
    ))
    .await;
    p.ca.peers(
        &PeersRequest {
            peers: vec![Peer {
                ca_pem: p.launcher.ca().cert_pem().to_owned(),
                ..fake_peer
            }],
        },
        T,
    )
    .await
    .expect("peers");
    let dave = user(&p.cb, "dave", 1).await;
    let err =
        p.ca.membership(
            "add_participant",
            &MembershipRequest {
                room: room.clone(),
                actor: alice.user.clone(),
                user: dave.user.clone(),
            },
            T,
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(502), "{err}");
}

/// name, client (who speaks), target, path, From domain, body, expectation.
type Row<'a> = (
    &'a str,
    &'a reqwest::Client,
    &'a RunningProvider,
    &'a str,
    Option<&'a str>,
    Vec<u8>,
    Expect,
);

/// What a bad-input row expects back.
enum Expect {
    Status(u16),
    Update(fn(&protocol::UpdateOutcome) -> bool),
    Submit(fn(&protocol::SubmitMessageResponse) -> bool),
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_unauthorized_mimi_requests_change_nothing() {
    let p = pair().await;
    record(&p.a, true);
    record(&p.b, true);
    let (room, alice, bob, mut ca, mut cb) = room_with_bob(&p).await;
    let bob2 = add_client(&p.cb, &bob.user).await;
    send_raw(&p.cb, &room, &bob.user, b"x").await;
    wait_for(&p.ca, &alice.user, &mut ca, |e| message_from(e).is_some()).await;
    add_client(&p.ca, &alice.user).await;
    let mut at3 = BTreeSet::new();
    while at3.len() < 2 {
        let e = wait_for(&p.cb, &bob.user, &mut cb, |e| {
            e.kind == EventKind::EpochChanged { epoch: 3 }
        })
        .await;
        at3.insert(e.client);
    }
    assert!(at3.contains(&bob2));
    let upd = recorded(&p.b, "out update").pop().expect("update body");
    let sub = recorded(&p.b, "out submitMessage")
        .pop()
        .expect("submit body");
    let km = recorded(&p.a, "out keyMaterial")
        .pop()
        .expect("keyMaterial body");
    let notify = recorded(&p.a, "out notify").pop().expect("notify body");
    let mut forged_sub: protocol::SubmitMessageRequest = protocol::decode(&sub).unwrap();
    forged_sub.sending_uri = b"mimi://b.example/u/mallory".to_vec().into();
    let forged_sub = protocol::encode(&forged_sub);
    let mut bad_sig = km.clone();
    *bad_sig.last_mut().unwrap() ^= 1;
    let truncate = |b: &[u8]| b[..b.len() - 1].to_vec();
    let oversized = vec![0u8; protocol::MAX_BODY + 1];

    let ca_pem = p.launcher.ca().cert_pem().to_owned();
    let id = |d: &str| p.launcher.ca().issue(d).unwrap();
    let (a_id, b_id, c_id) = (id("a.example"), id("b.example"), id("c.example"));
    let to_a = |me: &TlsMaterial| mimi_http(me, &ca_pem, "a.example", p.a.mimi_url());
    let to_b = |me: &TlsMaterial| mimi_http(me, &ca_pem, "b.example", p.b.mimi_url());
    let (b_to_a, c_to_a) = (to_a(&b_id), to_a(&c_id));
    let (a_to_b, c_to_b) = (to_b(&a_id), to_b(&c_id));

    let dumps = |p: &Pair| {
        let mut a = p.a.server_dump();
        let mut b = p.b.server_dump();
        a.sort();
        b.sort();
        (a, b)
    };
    let before = dumps(&p);
    let state_before = (
        state(&p.ca, &room, &alice.user).await,
        state(&p.cb, &room, &bob.user).await,
    );
    let processed = p.b.hooks().notify_processed();

    let upd_path = "/v1/update/a.example/r/club";
    let sub_path = "/v1/submitMessage/a.example/r/club";
    use Expect::*;
    #[rustfmt::skip]
    let table: Vec<Row> = vec![
        ("update: garbage", &b_to_a, &p.a, upd_path, Some("b.example"), vec![0xde, 0xad], Status(400)),
        ("update: truncated", &b_to_a, &p.a, upd_path, Some("b.example"), truncate(&upd), Status(400)),
        ("update: empty", &b_to_a, &p.a, upd_path, Some("b.example"), vec![], Status(400)),
        ("update: replay of an old epoch", &b_to_a, &p.a, upd_path, Some("b.example"), upd.clone(),
            Update(|o| *o == protocol::UpdateOutcome::WrongEpoch { current_epoch: 3 })),
        ("update: unknown room", &b_to_a, &p.a, "/v1/update/a.example/r/nope", Some("b.example"), upd.clone(), Status(404)),
        ("submit: garbage", &b_to_a, &p.a, sub_path, Some("b.example"), vec![1, 2, 3], Status(400)),
        ("submit: truncated", &b_to_a, &p.a, sub_path, Some("b.example"), truncate(&sub), Status(400)),
        ("submit: old epoch", &b_to_a, &p.a, sub_path, Some("b.example"), sub.clone(),
            Submit(|r| *r == protocol::SubmitMessageResponse::EpochTooOld { current_epoch: 3 })),
        ("submit: sender not a participant", &b_to_a, &p.a, sub_path, Some("b.example"), forged_sub.clone(),
            Submit(|r| *r == protocol::SubmitMessageResponse::NotAllowed)),
        ("submit: c.example speaks for bob", &c_to_a, &p.a, sub_path, Some("c.example"), sub.clone(), Status(403)),
        ("submit: From does not match the certificate", &c_to_a, &p.a, sub_path, Some("b.example"), sub.clone(), Status(403)),
        ("submit: no From header", &b_to_a, &p.a, sub_path, None, sub.clone(), Status(403)),
        ("submit: unknown room", &b_to_a, &p.a, "/v1/submitMessage/a.example/r/nope", Some("b.example"), sub.clone(), Status(404)),
        ("submit: room is not a URI", &b_to_a, &p.a, "/v1/submitMessage/nonsense", Some("b.example"), sub.clone(), Status(400)),
        ("submit: oversized", &b_to_a, &p.a, sub_path, Some("b.example"), oversized.clone(), Status(413)),
        ("keyMaterial: garbage", &b_to_a, &p.a, "/v1/keyMaterial/a.example/u/alice", Some("b.example"), vec![9], Status(400)),
        ("keyMaterial: b.example replays alice's request", &b_to_a, &p.a, "/v1/keyMaterial/b.example/u/bob", Some("b.example"), km.clone(), Status(403)),
        ("keyMaterial: broken signature", &a_to_b, &p.b, "/v1/keyMaterial/b.example/u/bob", Some("a.example"), bad_sig, Status(403)),
        ("keyMaterial: path names another user", &a_to_b, &p.b, "/v1/keyMaterial/b.example/u/carol", Some("a.example"), km.clone(), Status(400)),
        ("groupInfo: garbage", &b_to_a, &p.a, "/v1/groupInfo/a.example/r/club", Some("b.example"), vec![1], Status(400)),
        ("reportAbuse: empty", &b_to_a, &p.a, "/v1/reportAbuse/a.example/r/club", Some("b.example"), vec![], Status(400)),
        ("unknown endpoint", &b_to_a, &p.a, "/v1/nothing/here", Some("b.example"), vec![], Status(404)),
        ("notify: garbage", &a_to_b, &p.b, "/v1/notify/a.example/r/club", Some("a.example"), vec![7; 9], Status(400)),
        ("notify: empty", &a_to_b, &p.b, "/v1/notify/a.example/r/club", Some("a.example"), vec![], Status(400)),
        ("notify: truncated", &a_to_b, &p.b, "/v1/notify/a.example/r/club", Some("a.example"), truncate(&notify), Status(400)),
        ("notify: from a provider that is not the hub", &c_to_b, &p.b, "/v1/notify/a.example/r/club", Some("c.example"), notify.clone(), Status(403)),
        ("notify: for a room a.example does not host", &a_to_b, &p.b, "/v1/notify/b.example/r/club", Some("a.example"), notify.clone(), Status(403)),
        ("notify: oversized", &a_to_b, &p.b, "/v1/notify/a.example/r/club", Some("a.example"), oversized, Status(413)),
    ];
    for (name, http, target, path, from, body, expect) in table {
        let (status, answer) = mimi_post(http, target, path, from, body)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        match expect {
            Status(s) => assert_eq!(status, s, "{name}: {}", String::from_utf8_lossy(&answer)),
            Update(ok) => {
                assert_eq!(status, 200, "{name}");
                let r: protocol::UpdateRoomResponse = protocol::decode(&answer).expect(name);
                assert!(ok(&r.outcome), "{name}: {r:?}");
            }
            Submit(ok) => {
                assert_eq!(status, 200, "{name}");
                let r: protocol::SubmitMessageResponse = protocol::decode(&answer).expect(name);
                assert!(ok(&r), "{name}: {r:?}");
            }
        }
    }

    assert!(
        before == dumps(&p),
        "a rejected request changed server state"
    );
    assert_eq!(p.b.hooks().notify_processed(), processed);
    let state_after = (
        state(&p.ca, &room, &alice.user).await,
        state(&p.cb, &room, &bob.user).await,
    );
    assert_eq!(state_before, state_after);
    assert!(
        messages_now(&p.cb, &room, &bob.user, &mut cb)
            .await
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_user_is_committed_out_by_the_next_member() {
    let p = pair().await;
    let (room, alice, bob, mut ca, mut cb) = room_with_bob(&p).await;
    let bob2 = add_client(&p.cb, &bob.user).await;
    wait_for(&p.ca, &alice.user, &mut ca, |e| {
        e.kind == EventKind::EpochChanged { epoch: 2 }
    })
    .await;
    let r =
        p.cb.leave(
            &LeaveRequest {
                room: room.clone(),
                actor: bob.user.clone(),
            },
            T,
        )
        .await
        .expect("leave");
    assert_eq!(r.epoch, 3);
    // Both devices see the removal, in either order.
    let mut removed = BTreeSet::new();
    while removed.len() < 2 {
        let e = wait_for(&p.cb, &bob.user, &mut cb, |e| {
            matches!(e.kind, EventKind::Removed { .. })
        })
        .await;
        assert_eq!(e.kind, EventKind::Removed { epoch: 3 });
        removed.insert(e.client);
    }
    assert_eq!(
        removed,
        BTreeSet::from([bob.clients[0].clone(), bob2.clone()])
    );
    wait_for(&p.ca, &alice.user, &mut ca, |e| {
        e.kind == EventKind::EpochChanged { epoch: 3 }
    })
    .await;
    let sa = state(&p.ca, &room, &alice.user).await;
    assert_eq!(sa.clients[0].members, vec![alice.clients[0].clone()]);
    assert_eq!(sa.clients[0].participants.len(), 1);
    // bob is no longer in the room, so he cannot leave it again.
    let err =
        p.cb.leave(
            &LeaveRequest {
                room: room.clone(),
                actor: bob.user.clone(),
            },
            T,
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_api_errors_use_the_documented_codes() {
    let p = pair().await;
    let alice = user(&p.ca, "alice", 2).await;
    assert_eq!(alice.clients.len(), 2);
    let carol = user(&p.ca, "carol", 1).await;
    let only = format!(
        r#"{{"user":"{}","client":"{}"}}"#,
        carol.user, carol.clients[0]
    );
    let http = reqwest::Client::new();
    let raw = |op: &str, body: &str| {
        let req = http
            .post(format!("{}/v1/{op}", p.a.control_url()))
            .header("content-type", "application/json")
            .body(body.to_owned());
        async move {
            let r = req.send().await.expect("control reachable");
            let status = r.status().as_u16();
            let body: ErrorBody = r.json().await.expect("error body is ErrorBody");
            (status, body.error.code)
        }
    };
    let cases = [
        ("create_user", "{", 400, "bad_request"),
        ("create_user", r#"{"name":"alice"}"#, 409, "conflict"),
        ("create_user", r#"{"name":"bad/name"}"#, 400, "bad_request"),
        (
            "create_user",
            r#"{"name":"x","clients":0}"#,
            400,
            "bad_request",
        ),
        (
            "create_user",
            r#"{"name":"x","surprise":1}"#,
            400,
            "bad_request",
        ),
        (
            "add_client",
            r#"{"user":"mimi://a.example/u/nobody"}"#,
            404,
            "not_found",
        ),
        (
            "remove_client",
            r#"{"user":"mimi://a.example/u/nobody","client":"mimi://a.example/d/x"}"#,
            404,
            "not_found",
        ),
        (
            "remove_client",
            r#"{"user":"mimi://a.example/u/alice","client":"mimi://a.example/d/x"}"#,
            404,
            "not_found",
        ),
        // A user's last device: leaving is `leave`.
        ("remove_client", only.as_str(), 409, "conflict"),
        // A dm must name the other user.
        (
            "create_room",
            r#"{"actor":"mimi://a.example/u/alice","name":"d","kind":"dm"}"#,
            400,
            "bad_request",
        ),
        // max_users is for groups, and counts the creator; the room named
        // "one" is created below, so these left nothing behind.
        (
            "create_room",
            r#"{"actor":"mimi://a.example/u/alice","name":"one","kind":"group","max_users":0}"#,
            400,
            "bad_request",
        ),
        (
            "create_room",
            r#"{"actor":"mimi://a.example/u/alice","name":"one","kind":"dm","with":"mimi://b.example/u/bob","max_users":2}"#,
            400,
            "bad_request",
        ),
        (
            "create_room",
            r#"{"actor":"mimi://a.example/u/nobody","name":"r","kind":"group"}"#,
            404,
            "not_found",
        ),
        (
            "ban",
            r#"{"room":"mimi://a.example/r/x","actor":"a","user":"b"}"#,
            400,
            "bad_request",
        ),
        ("unban", "{}", 400, "bad_request"),
        ("set_role", "{}", 400, "bad_request"),
        ("set_room_metadata", "{}", 400, "bad_request"),
        (
            "set_role",
            r#"{"room":"mimi://a.example/r/none","actor":"mimi://a.example/u/alice","user":"mimi://a.example/u/alice","role":"admin"}"#,
            403,
            "refused",
        ),
        (
            "send",
            r#"{"room":"mimi://a.example/r/none","actor":"mimi://a.example/u/alice","content":{"raw":"aGk="}}"#,
            403,
            "refused",
        ),
        (
            "send",
            r#"{"room":"mimi://a.example/r/none","actor":"mimi://a.example/u/alice","content":{"raw":"%%"}}"#,
            400,
            "bad_request",
        ),
        (
            "events",
            r#"{"user":"mimi://a.example/u/nobody"}"#,
            404,
            "not_found",
        ),
        (
            "room_state",
            r#"{"room":"mimi://a.example/r/none","user":"mimi://a.example/u/alice"}"#,
            404,
            "not_found",
        ),
        ("no_such_op", "{}", 404, "not_found"),
    ];
    for (op, body, status, code) in cases {
        assert_eq!(
            raw(op, body).await,
            (status, code.to_owned()),
            "{op} {body}"
        );
    }
    // The refused removal kept the device: it is still carol's (not 404).
    assert_eq!(
        raw("remove_client", &only).await,
        (409, "conflict".to_owned())
    );
    // Features MIMI has no mechanism for: 501, naming what the drafts lack.
    for (op, what) in [
        ("typing", "typing notifications"),
        ("presence", "presence"),
        ("share_history", "sharing history"),
        ("port_history", "porting history"),
    ] {
        let r = http
            .post(format!("{}/v1/{op}", p.a.control_url()))
            .header("content-type", "application/json")
            .body(r#"{"room":"mimi://a.example/r/x","actor":"mimi://a.example/u/alice"}"#)
            .send()
            .await
            .expect("control reachable");
        assert_eq!(r.status().as_u16(), 501, "{op}");
        let body: ErrorBody = r.json().await.expect("error body is ErrorBody");
        assert_eq!(body.error.code, "unsupported", "{op}");
        let m = &body.error.message;
        assert!(
            m.starts_with(&format!("no MIMI mechanism for {what}")),
            "{op}: {m}"
        );
        assert!(m.contains("draft-ietf-mimi-"), "{op}: {m}");
    }
    // Adding a user the other provider does not know is a 404.
    let err =
        p.ca.membership(
            "add_participant",
            &MembershipRequest {
                room: p
                    .ca
                    .create_room(
                        &CreateRoomRequest {
                            actor: alice.user.clone(),
                            name: "one".into(),
                            kind: RoomKind::Group,
                            with: None,
                            status_policy: None,
                            max_users: None,
                        },
                        T,
                    )
                    .await
                    .expect("create_room")
                    .room,
                actor: alice.user.clone(),
                user: "mimi://b.example/u/nobody".into(),
            },
            T,
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404), "{err}");
    // A room created by a user with two devices holds both.
    let room =
        p.ca.create_room(
            &CreateRoomRequest {
                actor: alice.user.clone(),
                name: "two".into(),
                kind: RoomKind::Group,
                with: None,
                status_policy: None,
                max_users: None,
            },
            T,
        )
        .await
        .expect("create_room")
        .room;
    let s = state(&p.ca, &room, &alice.user).await;
    assert_eq!(s.clients.len(), 2);
    assert_eq!(s.clients[0].members, alice.clients);
    assert_eq!(
        s.clients[0].epoch_authenticator,
        s.clients[1].epoch_authenticator
    );
    // Events past the cursor come back at once; an empty poll honours wait_ms.
    let r =
        p.ca.events(
            &EventsRequest {
                user: alice.user.clone(),
                cursor: 0,
                wait_ms: 30_000,
            },
            T,
        )
        .await
        .expect("events");
    assert!(!r.events.is_empty());
    assert!(r.events.windows(2).all(|w| w[0].seq < w[1].seq));
    let started = std::time::Instant::now();
    let r2 =
        p.ca.events(
            &EventsRequest {
                user: alice.user.clone(),
                cursor: r.cursor,
                wait_ms: 200,
            },
            T,
        )
        .await
        .expect("events");
    assert!(r2.events.is_empty());
    assert_eq!(r2.cursor, r.cursor);
    assert!(started.elapsed() >= Duration::from_millis(200));
    // reset forgets users.
    p.ca.reset(T).await.expect("reset");
    assert_eq!(
        raw("events", &format!(r#"{{"user":"{}"}}"#, alice.user)).await,
        (404, "not_found".to_owned())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follower_user_adds_and_removes_users_through_the_hub() {
    let p = pair().await;
    let (room, alice, bob, mut ca, _cb) = room_with_bob(&p).await;
    let carol = user(&p.cb, "carol", 1).await;
    let dave = user(&p.ca, "dave", 1).await;
    assert_eq!(
        membership(&p.cb, "add_participant", &room, &bob.user, &carol.user).await,
        2
    );
    assert_eq!(
        membership(&p.cb, "add_participant", &room, &bob.user, &dave.user).await,
        3
    );
    let (mut cc, mut cd) = (0, 0);
    wait_for(&p.cb, &carol.user, &mut cc, |e| {
        matches!(e.kind, EventKind::Joined { .. })
    })
    .await;
    wait_for(&p.ca, &dave.user, &mut cd, |e| {
        matches!(e.kind, EventKind::Joined { .. })
    })
    .await;
    send_raw(&p.ca, &room, &dave.user, b"hi from dave").await;
    let e = wait_for(&p.cb, &carol.user, &mut cc, |e| message_from(e).is_some()).await;
    assert_eq!(
        message_from(&e).unwrap(),
        (dave.clients[0].as_str(), b"hi from dave".to_vec())
    );
    let e = wait_for(&p.ca, &alice.user, &mut ca, |e| message_from(e).is_some()).await;
    assert_eq!(message_from(&e).unwrap().1, b"hi from dave");

    assert_eq!(
        membership(&p.cb, "remove_participant", &room, &bob.user, &dave.user).await,
        4
    );
    wait_for(&p.ca, &dave.user, &mut cd, |e| {
        matches!(e.kind, EventKind::Removed { .. })
    })
    .await;
    let mut states = Vec::new();
    for (c, u) in [
        (&p.ca, &alice.user),
        (&p.cb, &bob.user),
        (&p.cb, &carol.user),
    ] {
        // Each member reaches epoch 4 (the removal) before comparing.
        let mut cur = 0;
        if u != &bob.user {
            wait_for(c, u, &mut cur, |e| {
                e.kind == EventKind::EpochChanged { epoch: 4 }
            })
            .await;
        }
        states.push(state(c, &room, u).await.clients.remove(0));
    }
    for s in &states {
        assert_eq!(s.epoch, 4);
        assert_eq!(s.epoch_authenticator, states[0].epoch_authenticator);
        assert_eq!(s.members, states[0].members);
        assert_eq!(s.participants, states[0].participants);
    }
    assert_eq!(
        states[0].members,
        vec![
            alice.clients[0].clone(),
            bob.clients[0].clone(),
            carol.clients[0].clone()
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_provider_serves_both_sides() {
    let p = pair().await;
    let alice = user(&p.ca, "alice", 1).await;
    let carol = user(&p.ca, "carol", 2).await;
    let room =
        p.ca.create_room(
            &CreateRoomRequest {
                actor: alice.user.clone(),
                name: "local".into(),
                kind: RoomKind::Group,
                with: None,
                status_policy: None,
                max_users: None,
            },
            T,
        )
        .await
        .expect("create_room")
        .room;
    assert_eq!(
        membership(&p.ca, "add_participant", &room, &alice.user, &carol.user).await,
        1
    );
    send_raw(&p.ca, &room, &carol.user, b"local hello").await;
    let mut ca = 0;
    let e = wait_for(&p.ca, &alice.user, &mut ca, |e| message_from(e).is_some()).await;
    assert_eq!(
        message_from(&e).unwrap(),
        (carol.clients[0].as_str(), b"local hello".to_vec())
    );
    // carol's other device got it as well; carol's sending device did not.
    let mut cc = 0;
    let e = wait_for(&p.ca, &carol.user, &mut cc, |e| message_from(e).is_some()).await;
    assert_eq!(e.client, carol.clients[1]);
    assert!(
        messages_now(&p.ca, &room, &carol.user, &mut cc)
            .await
            .is_empty()
    );
    // Nothing crossed to b.example.
    assert_eq!(p.b.hooks().notify_processed(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn added_user_can_send_at_once_and_a_kicked_user_can_come_back() {
    let p = pair().await;
    let alice = user(&p.ca, "alice", 1).await;
    for (c, name) in [(&p.cb, "bob"), (&p.ca, "carol")] {
        let u = user(c, name, 1).await;
        let room =
            p.ca.create_room(
                &CreateRoomRequest {
                    actor: alice.user.clone(),
                    name: format!("r-{name}"),
                    kind: RoomKind::Group,
                    with: None,
                    status_policy: None,
                    max_users: None,
                },
                T,
            )
            .await
            .expect("create_room")
            .room;
        for round in 0..2 {
            membership(&p.ca, "add_participant", &room, &alice.user, &u.user).await;
            // No waiting for the Joined event: the add returns once the new
            // member's provider holds the Welcome.
            let text = format!("{name} round {round}");
            send_raw(c, &room, &u.user, text.as_bytes()).await;
            let mut ca = 0;
            wait_for(&p.ca, &alice.user, &mut ca, |e| {
                message_from(e).is_some_and(|(_, m)| m == text.as_bytes())
            })
            .await;
            membership(&p.ca, "remove_participant", &room, &alice.user, &u.user).await;
        }
    }
}

/// End-to-end encryption kept visible in the code: the server side never
/// uses the content codec, the client module or the control API types.
#[test]
fn server_side_does_not_reach_into_clients_or_content() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/reference/server");
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).expect("server dir") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("source");
        for forbidden in [
            "crate::content",
            "reference::client",
            "super::client",
            "crate::control",
        ] {
            assert!(
                !text.contains(forbidden),
                "{} uses {forbidden}",
                path.display()
            );
        }
        files += 1;
    }
    assert!(files >= 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commits_from_both_providers_both_land() {
    let p = pair().await;
    let (room, alice, bob, mut ca, mut cb) = room_with_bob(&p).await;
    let carol = user(&p.ca, "carol", 1).await;
    let dave = user(&p.cb, "dave", 1).await;
    let (ea, eb) = tokio::join!(
        membership(&p.ca, "add_participant", &room, &alice.user, &carol.user),
        membership(&p.cb, "add_participant", &room, &bob.user, &dave.user),
    );
    let mut epochs = [ea, eb];
    epochs.sort();
    assert_eq!(epochs, [2, 3]);
    wait_for(&p.ca, &alice.user, &mut ca, |e| {
        e.kind == EventKind::EpochChanged { epoch: 3 }
    })
    .await;
    wait_for(&p.cb, &bob.user, &mut cb, |e| {
        e.kind == EventKind::EpochChanged { epoch: 3 }
    })
    .await;
    let sa = state(&p.ca, &room, &alice.user).await.clients.remove(0);
    let sb = state(&p.cb, &room, &bob.user).await.clients.remove(0);
    assert_eq!(
        sa,
        ClientRoomState {
            client: sa.client.clone(),
            ..sb.clone()
        }
    );
    assert_eq!(sa.members.len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_does_not_wait_out_a_long_poll() {
    let launcher = Launcher::new().expect("run CA");
    let a = launcher.start_domain("a.example").await.expect("start");
    let c = ControlClient::new(reqwest::Client::new(), a.control_url());
    let alice = user(&c, "alice", 1).await;
    let poll = tokio::spawn(async move {
        c.events(
            &EventsRequest {
                user: alice.user,
                cursor: 1_000,
                wait_ms: 60_000,
            },
            T,
        )
        .await
    });
    // Give the poll a round trip to reach the provider (if it has not, the
    // poll fails to connect instead; either way stop must return promptly).
    let c2 = ControlClient::new(reqwest::Client::new(), a.control_url());
    c2.info(T).await.expect("info");
    tokio::time::timeout(Duration::from_secs(5), a.stop())
        .await
        .expect("stop returned while a long-poll was pending");
    let r = poll.await.expect("join");
    assert!(r.map(|r| r.events.is_empty()).unwrap_or(true));
}
