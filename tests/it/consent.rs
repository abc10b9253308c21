//! Integration tests: explicit consent (protocol-06 §5.7) between two
//! reference providers, through the control API and at the MIMI level.

use crate::reference::{
    Pair, T, add_participant as add, group_room as room, mimi_http, mimi_post, pair, peer_of, user,
    wait_for,
};
use mimi_interop::control::ControlClient;
use mimi_interop::control::api::*;
use mimi_interop::protocol;
use mimi_interop::reference::Launcher;
use mimi_interop::reference::quirks::{Quirk, Quirks};

pub(crate) async fn consent_user(c: &ControlClient, name: &str) -> CreateUserResponse {
    c.create_user(
        &CreateUserRequest {
            name: name.into(),
            display_name: None,
            avatar: None,
            clients: 1,
            consent_required: true,
        },
        T,
    )
    .await
    .expect("create_user")
}

pub(crate) async fn update(
    c: &ControlClient,
    op: &str,
    actor: &str,
    requester: &str,
    room: Option<&str>,
) {
    c.consent_update(
        op,
        &ConsentUpdateRequest {
            actor: actor.into(),
            requester: requester.into(),
            room: room.map(str::to_owned),
        },
        T,
    )
    .await
    .unwrap_or_else(|e| panic!("{op}: {e}"));
}

fn dumps(p: &Pair) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let mut a = p.a.server_dump();
    let mut b = p.b.server_dump();
    a.sort();
    b.sort();
    (a, b)
}

/// Events of `user` past `cursor`, without waiting.
async fn events_now(c: &ControlClient, user: &str, cursor: u64) -> Vec<Event> {
    c.events(
        &EventsRequest {
            user: user.into(),
            cursor,
            wait_ms: 0,
        },
        T,
    )
    .await
    .expect("events")
    .events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_gates_adding_a_user_of_another_provider() {
    let p = pair().await;
    let alice = user(&p.ca, "alice", 1).await;
    let bob = consent_user(&p.cb, "bob").await;
    let one = room(&p.ca, &alice.user, "one").await;
    let two = room(&p.ca, &alice.user, "two").await;

    // No consent: refused with the reason, and nothing changes.
    let before = dumps(&p);
    let err = add(&p.ca, &one, &alice.user, &bob.user).await.unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
    assert!(err.to_string().contains("not consented"), "{err}");
    assert_eq!(dumps(&p), before, "a refused add changed a server");

    // The request reaches bob as an event.
    let (mut ca, mut cb) = (0, 0);
    p.ca.consent_request(
        "request_consent",
        &ConsentRequestRequest {
            actor: alice.user.clone(),
            target: bob.user.clone(),
            room: Some(one.clone()),
        },
        T,
    )
    .await
    .expect("request_consent");
    let e = wait_for(&p.cb, &bob.user, &mut cb, |e| {
        matches!(e.kind, EventKind::ConsentRequested { .. })
    })
    .await;
    assert_eq!(
        e.kind,
        EventKind::ConsentRequested {
            requester: alice.user.clone()
        }
    );
    assert_eq!(e.room, one);

    // A grant for room one: alice hears of it, may add bob there, not to two.
    update(&p.cb, "grant_consent", &bob.user, &alice.user, Some(&one)).await;
    let e = wait_for(&p.ca, &alice.user, &mut ca, |e| {
        matches!(e.kind, EventKind::ConsentGranted { .. })
    })
    .await;
    assert_eq!(
        e.kind,
        EventKind::ConsentGranted {
            target: bob.user.clone()
        }
    );
    assert_eq!(e.room, one);
    add(&p.ca, &one, &alice.user, &bob.user)
        .await
        .expect("add after the grant");
    let err = add(&p.ca, &two, &alice.user, &bob.user).await.unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
    assert!(err.to_string().contains("user status 6"), "{err}");

    // Any-room grant, then a revoke: refused again.
    update(&p.cb, "grant_consent", &bob.user, &alice.user, None).await;
    wait_for(&p.ca, &alice.user, &mut ca, |e| {
        matches!(e.kind, EventKind::ConsentGranted { .. }) && e.room.is_empty()
    })
    .await;
    update(&p.cb, "revoke_consent", &bob.user, &alice.user, None).await;
    let e = wait_for(&p.ca, &alice.user, &mut ca, |e| {
        matches!(e.kind, EventKind::ConsentRevoked { .. })
    })
    .await;
    assert_eq!(
        e.kind,
        EventKind::ConsentRevoked {
            target: bob.user.clone()
        }
    );
    let before = dumps(&p);
    let err = add(&p.ca, &two, &alice.user, &bob.user).await.unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
    assert!(err.to_string().contains("user status 5"), "{err}");
    assert_eq!(dumps(&p), before);

    // Cancel reaches bob; a cancel without a request is accepted silently.
    p.ca.consent_request(
        "cancel_consent",
        &ConsentRequestRequest {
            actor: alice.user.clone(),
            target: bob.user.clone(),
            room: Some(one.clone()),
        },
        T,
    )
    .await
    .expect("cancel_consent");
    wait_for(&p.cb, &bob.user, &mut cb, |e| {
        e.kind
            == EventKind::ConsentCancelled {
                requester: alice.user.clone(),
            }
    })
    .await;
    p.ca.consent_request(
        "cancel_consent",
        &ConsentRequestRequest {
            actor: alice.user.clone(),
            target: bob.user.clone(),
            room: None,
        },
        T,
    )
    .await
    .expect("cancel without request");
    assert!(events_now(&p.cb, &bob.user, cb).await.is_empty());

    // A user that does not require consent is added as before.
    let carol = user(&p.cb, "carol", 1).await;
    add(&p.ca, &two, &alice.user, &carol.user)
        .await
        .expect("no consent needed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_control_ops_check_their_input() {
    let p = pair().await;
    let alice = user(&p.ca, "alice", 1).await;
    let req = |actor: &str, target: &str, room: Option<&str>| ConsentRequestRequest {
        actor: actor.into(),
        target: target.into(),
        room: room.map(str::to_owned),
    };
    for (r, status) in [
        (req(&alice.user, "mimi://b.example/u/nobody", None), 404),
        (req(&alice.user, "not a uri", None), 400),
        (req(&alice.user, "mimi://b.example/u/x", Some("nope")), 400),
        (
            req("mimi://a.example/u/ghost", "mimi://b.example/u/x", None),
            404,
        ),
        (req(&alice.user, &alice.user, None), 400),
    ] {
        let err =
            p.ca.consent_request("request_consent", &r, T)
                .await
                .unwrap_err();
        assert_eq!(err.status(), Some(status), "{r:?}: {err}");
    }
}

fn entry(op: protocol::ConsentOperation, requester: &str, target: &str) -> Vec<u8> {
    protocol::encode(&protocol::ConsentEntry {
        operation: op,
        requester_uri: requester.as_bytes().to_vec().into(),
        target_uri: target.as_bytes().to_vec().into(),
        room_id: None,
        client_key_packages: Vec::new(),
        consent_extensions: Vec::new(),
    })
}

/// name, connection, From domain (empty: none), path, body, expected status.
type Row<'a> = (&'a str, &'a reqwest::Client, &'a str, &'a str, Vec<u8>, u16);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_malformed_consent_entries_get_the_draft_codes() {
    use protocol::ConsentOperation::*;
    let p = pair().await;
    let alice = user(&p.ca, "alice", 1).await;
    let bob = consent_user(&p.cb, "bob").await;
    let one = room(&p.ca, &alice.user, "one").await;

    let ca_pem = p.launcher.ca().cert_pem().to_owned();
    let id = |d: &str| p.launcher.ca().issue(d).unwrap();
    let (a_id, c_id) = (id("a.example"), id("c.example"));
    let a_to_b = mimi_http(&a_id, &ca_pem, "b.example", p.b.mimi_url());
    let c_to_b = mimi_http(&c_id, &ca_pem, "b.example", p.b.mimi_url());
    let req_path = "/v1/requestConsent/b.example";
    let upd_path = "/v1/updateConsent/b.example";
    let good = entry(Request, &alice.user, &bob.user);
    let mut trailing = good.clone();
    trailing.push(0);
    let before = dumps(&p);
    #[rustfmt::skip]
    let table: Vec<Row> = vec![
        ("garbage", &a_to_b, "a.example", req_path, vec![0xde, 0xad], 400),
        ("empty", &a_to_b, "a.example", req_path, vec![], 400),
        ("truncated", &a_to_b, "a.example", req_path, good[..good.len() - 1].to_vec(), 400),
        ("trailing byte", &a_to_b, "a.example", req_path, trailing, 400),
        ("grant sent to requestConsent", &a_to_b, "a.example", req_path, entry(Grant, &alice.user, &bob.user), 400),
        ("request sent to updateConsent", &a_to_b, "a.example", upd_path, good.clone(), 400),
        ("path names another domain", &a_to_b, "a.example", "/v1/requestConsent/a.example", good.clone(), 400),
        ("target is not ours", &a_to_b, "a.example", req_path, entry(Request, &alice.user, "mimi://a.example/u/zed"), 400),
        ("c.example speaks for alice", &c_to_b, "c.example", req_path, good.clone(), 403),
        ("no From header", &a_to_b, "", req_path, good.clone(), 403),
        ("unknown target", &a_to_b, "a.example", req_path, entry(Request, &alice.user, "mimi://b.example/u/nobody"), 404),
        ("a.example grants for a c.example user", &a_to_b, "a.example", upd_path, entry(Grant, &bob.user, "mimi://c.example/u/carol"), 403),
    ];
    for (name, http, from, path, body, want) in table {
        let from = (!from.is_empty()).then_some(from);
        let (status, answer) = mimi_post(http, &p.b, path, from, body)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(status, want, "{name}: {}", String::from_utf8_lossy(&answer));
    }
    assert_eq!(dumps(&p), before);
    assert!(events_now(&p.cb, &bob.user, 0).await.is_empty());
    let err = add(&p.ca, &one, &alice.user, &bob.user).await.unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");

    // The same body from the right source is accepted: 201, no body.
    let (status, answer) = mimi_post(&a_to_b, &p.b, req_path, Some("a.example"), good)
        .await
        .unwrap();
    assert_eq!((status, answer.len()), (201, 0));
    let mut cb = 0;
    wait_for(&p.cb, &bob.user, &mut cb, |e| {
        matches!(e.kind, EventKind::ConsentRequested { .. })
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quirk_ignores_consent_hands_out_key_packages_without_consent() {
    let launcher = Launcher::new().expect("run CA");
    let a = launcher.start_domain("a.example").await.expect("start a");
    let b = launcher
        .start_domain_with_quirks("b.example", Quirks::new([Quirk::IgnoresConsent]))
        .await
        .expect("start b");
    let http = reqwest::Client::new();
    let ca = ControlClient::new(http.clone(), a.control_url());
    let cb = ControlClient::new(http, b.control_url());
    let (pa, pb) = (peer_of(&ca).await, peer_of(&cb).await);
    ca.peers(&PeersRequest { peers: vec![pb] }, T)
        .await
        .unwrap();
    cb.peers(&PeersRequest { peers: vec![pa] }, T)
        .await
        .unwrap();
    let alice = user(&ca, "alice", 1).await;
    let bob = consent_user(&cb, "bob").await;
    let one = room(&ca, &alice.user, "one").await;
    add(&ca, &one, &alice.user, &bob.user)
        .await
        .expect("the quirk ignores consent");
}
