//! Integration tests: read receipts and delivery notifications
//! (draft-mahy-mimi-message-status-01) under the room's
//! StatusNotificationPolicy, between two reference providers over loopback
//! mutual TLS, driven through their control APIs. Waiting is a long-poll
//! on the user's events, never a sleep.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use mimi_interop::content::{self, IdFormula};
use mimi_interop::control::api::*;
use mimi_interop::control::{CallError, ControlClient};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

use crate::reference_policy::{Pair, pair, user};

/// Alice (a) creates a room with `policy` and adds Bob (b).
async fn setup(p: &Pair, policy: Option<StatusPolicy>) -> (String, String, String) {
    let alice = user(&p.ca, "alice").await;
    let bob = user(&p.cb, "bob").await;
    let room =
        p.ca.create_room(
            &CreateRoomRequest {
                actor: alice.clone(),
                name: "r".into(),
                kind: RoomKind::Group,
                with: None,
                status_policy: policy,
                max_users: None,
            },
            T,
        )
        .await
        .expect("create_room")
        .room;
    p.ca.membership(
        "add_participant",
        &MembershipRequest {
            room: room.clone(),
            actor: alice.clone(),
            user: bob.clone(),
        },
        T,
    )
    .await
    .expect("add bob");
    (alice, bob, room)
}

async fn send(c: &ControlClient, room: &str, actor: &str, intent: Value) -> SendResponse {
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

async fn mark_read(
    c: &ControlClient,
    room: &str,
    actor: &str,
    ids: &[&str],
) -> Result<SendResponse, CallError> {
    c.mark_read(
        &MarkReadRequest {
            room: room.into(),
            actor: actor.into(),
            message_ids: ids.iter().map(|s| s.to_string()).collect(),
            client: None,
        },
        T,
    )
    .await
}

/// One received message: its ID (recomputed) and readable content.
struct Got {
    id: String,
    sender_user: String,
    readable: Value,
}

/// Long-polls `user`'s events until a received message satisfies `want`;
/// returns every message received up to and including it.
async fn wait_message(
    c: &ControlClient,
    user: &str,
    room: &str,
    want: impl Fn(&Got) -> bool,
) -> Vec<Got> {
    let deadline = tokio::time::Instant::now() + T;
    let mut cursor = 0;
    let mut got = Vec::new();
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no matching message for {user}"
        );
        let r = c
            .events(
                &EventsRequest {
                    user: user.into(),
                    cursor,
                    wait_ms: 5_000,
                },
                T,
            )
            .await
            .expect("events");
        cursor = r.cursor;
        for e in r.events {
            let EventKind::Message {
                sender, content, ..
            } = e.kind
            else {
                continue;
            };
            if e.room != room {
                continue;
            }
            let bytes = B64.decode(content).expect("base64");
            // Client URIs are mimi://<domain>/d/<user>-<n>.
            let (base, name) = sender.rsplit_once("/d/").expect("client URI");
            let user_name = name.rsplit_once('-').expect("client name").0;
            let sender_user = format!("{base}/u/{user_name}");
            let id = content::message_id(IdFormula::Draft08, &sender_user, room, &bytes)
                .expect("message ID")
                .to_hex();
            let readable = content::to_readable(&content::decode(&bytes).expect("MIMI").content);
            let g = Got {
                id,
                sender_user,
                readable,
            };
            let done = want(&g);
            got.push(g);
            if done {
                return got;
            }
        }
    }
}

async fn timeline(c: &ControlClient, room: &str, user: &str) -> Vec<TimelineMessage> {
    let r = c
        .timeline(
            &TimelineRequest {
                room: room.into(),
                user: user.into(),
            },
            T,
        )
        .await
        .expect("timeline");
    assert_eq!(r.clients.len(), 1);
    r.clients.into_iter().next().unwrap().messages
}

fn status(pairs: &[(&str, &str)]) -> BTreeMap<String, Value> {
    pairs
        .iter()
        .map(|(u, s)| (u.to_string(), json!(s)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_report_crosses_providers_and_shows_on_the_senders_timeline() {
    let p = pair().await;
    let (alice, bob, room) = setup(&p, None).await;
    let m1 = send(&p.ca, &room, &alice, json!({"text": "one"})).await;
    let m2 = send(&p.ca, &room, &alice, json!({"text": "two"})).await;
    wait_message(&p.cb, &bob, &room, |g| g.id == m2.message_id).await;

    let r = mark_read(&p.cb, &room, &bob, &[&m1.message_id, &m2.message_id])
        .await
        .expect("mark_read");
    // The answered bytes: MIMI content with the claimed ID, carrying the report.
    let bytes = B64.decode(&r.content).unwrap();
    let id = content::message_id(IdFormula::Draft08, &bob, &room, &bytes).unwrap();
    assert_eq!(id.to_hex(), r.message_id);
    let readable = content::to_readable(&content::decode(&bytes).unwrap().content);
    let report = json!([
        {"id": m1.message_id, "status": "read"},
        {"id": m2.message_id, "status": "read"},
    ]);
    assert_eq!(readable["content_type"], "application/mimi-message-status");
    assert_eq!(readable["status_report"], report);
    assert_eq!(readable["sender"], json!(bob));

    // Alice receives exactly those bytes' report from Bob.
    let got = wait_message(&p.ca, &alice, &room, |g| g.id == r.message_id).await;
    let last = got.last().unwrap();
    assert_eq!(last.sender_user, bob);
    assert_eq!(last.readable["status_report"], report);

    // The effect: not a message of its own; each message shows Bob's status.
    let tl = timeline(&p.ca, &room, &alice).await;
    assert_eq!(tl.len(), 2, "{tl:?}");
    for m in &tl {
        assert_eq!(m.status, status(&[(&bob, "read")]), "{m:?}");
    }
    // Bob's own report is not listed on his side.
    let tl = timeline(&p.cb, &room, &bob).await;
    assert_eq!(tl.len(), 2);
    assert!(tl.iter().all(|m| m.status.is_empty()), "{tl:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivered_reports_when_the_room_requires_them_and_no_report_about_a_report() {
    let p = pair().await;
    let policy = StatusPolicy {
        delivery_notifications: Optionality::Required,
        read_receipts: Optionality::Optional,
    };
    let (alice, bob, room) = setup(&p, Some(policy)).await;
    let m1 = send(&p.ca, &room, &alice, json!({"text": "shipped"})).await;
    // Bob's client reports delivery without being asked.
    let got = wait_message(&p.ca, &alice, &room, |g| {
        g.readable.get("status_report").is_some()
    })
    .await;
    let report = got.last().unwrap();
    assert_eq!(report.sender_user, bob);
    assert_eq!(
        report.readable["status_report"],
        json!([{"id": m1.message_id, "status": "delivered"}])
    );
    let tl = timeline(&p.ca, &room, &alice).await;
    assert_eq!(tl.len(), 1);
    assert_eq!(tl[0].status, status(&[(&bob, "delivered")]));

    // Alice's client does not report Bob's report: the next thing Bob gets
    // from Alice is her next message.
    let m2 = send(&p.ca, &room, &alice, json!({"text": "marker"})).await;
    let from_alice: Vec<String> = wait_message(&p.cb, &bob, &room, |g| g.id == m2.message_id)
        .await
        .into_iter()
        .filter(|g| g.sender_user == alice)
        .map(|g| g.id)
        .collect();
    assert_eq!(from_alice, [m1.message_id.clone(), m2.message_id]);

    // Read later: the latest status wins.
    mark_read(&p.cb, &room, &bob, &[&m1.message_id])
        .await
        .expect("mark_read");
    let deadline = tokio::time::Instant::now() + T;
    let mut cursor = 0;
    loop {
        let tl = timeline(&p.ca, &room, &alice).await;
        if tl[0].status == status(&[(&bob, "read")]) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{tl:?}");
        cursor =
            p.ca.events(
                &EventsRequest {
                    user: alice.clone(),
                    cursor,
                    wait_ms: 2_000,
                },
                T,
            )
            .await
            .expect("events")
            .cursor;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_read_receipts_are_refused_and_ignored_on_receipt() {
    let p = pair().await;
    let policy = StatusPolicy {
        delivery_notifications: Optionality::Optional,
        read_receipts: Optionality::Forbidden,
    };
    let (alice, bob, room) = setup(&p, Some(policy)).await;
    let m1 = send(&p.ca, &room, &alice, json!({"text": "secret"})).await;
    wait_message(&p.cb, &bob, &room, |g| g.id == m1.message_id).await;

    let e = mark_read(&p.cb, &room, &bob, &[&m1.message_id])
        .await
        .unwrap_err();
    assert!(matches!(e, CallError::Refused { status: 403, .. }), "{e}");
    // A report built from an intent is held to the same policy.
    let e =
        p.cb.send(
            &SendRequest {
                room: room.clone(),
                actor: bob.clone(),
                client: None,
                content: SendContent::Intent(
                    json!({"status_report": [{"id": m1.message_id, "status": "read"}]}),
                ),
            },
            T,
        )
        .await
        .unwrap_err();
    assert!(matches!(e, CallError::Refused { status: 403, .. }), "{e}");

    // A misbehaving client sends the report as raw bytes anyway: it
    // arrives, and Alice's client ignores it.
    let raw = content::build(
        &json!({"status_report": [{"id": m1.message_id, "status": "read"}]}),
        &content::BuildContext {
            sender_uri: bob.clone(),
            room_uri: room.clone(),
            timestamp_ms: 0,
            salt: [9; 16],
        },
    )
    .unwrap();
    let sent =
        p.cb.send(
            &SendRequest {
                room: room.clone(),
                actor: bob.clone(),
                client: None,
                content: SendContent::Raw(B64.encode(&raw)),
            },
            T,
        )
        .await
        .expect("raw send");
    let marker = send(&p.cb, &room, &bob, json!({"text": "marker"})).await;
    let got = wait_message(&p.ca, &alice, &room, |g| g.id == marker.message_id).await;
    let ids: Vec<&str> = got.iter().map(|g| g.id.as_str()).collect();
    // The refused attempts sent nothing; only the raw report and the marker came.
    assert_eq!(ids, [sent.message_id.as_str(), marker.message_id.as_str()]);
    let tl = timeline(&p.ca, &room, &alice).await;
    let shown: Vec<&str> = tl.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(shown, [m1.message_id.as_str(), marker.message_id.as_str()]);
    assert!(tl.iter().all(|m| m.status.is_empty()), "{tl:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mark_read_rejects_bad_ids_and_a_report_about_an_unknown_message_changes_nothing() {
    let p = pair().await;
    let (alice, bob, room) = setup(&p, None).await;
    let m1 = send(&p.ca, &room, &alice, json!({"text": "hi"})).await;
    wait_message(&p.cb, &bob, &room, |g| g.id == m1.message_id).await;
    let e = mark_read(&p.cb, &room, &bob, &["abc"]).await.unwrap_err();
    assert!(matches!(e, CallError::Status { status: 400, .. }), "{e}");
    let e = mark_read(&p.cb, &room, &bob, &[]).await.unwrap_err();
    assert!(matches!(e, CallError::Status { status: 400, .. }), "{e}");
    let e = mark_read(&p.cb, &room, &bob, &[&"cd".repeat(32)])
        .await
        .unwrap_err();
    assert!(matches!(e, CallError::Status { status: 400, .. }), "{e}");
    let unknown = format!("01{}", "cd".repeat(31));
    let r = mark_read(&p.cb, &room, &bob, &[&unknown])
        .await
        .expect("a report about any ID may be sent");
    wait_message(&p.ca, &alice, &room, |g| g.id == r.message_id).await;
    let tl = timeline(&p.ca, &room, &alice).await;
    assert_eq!(tl.len(), 1, "{tl:#?}");
    assert!(tl[0].status.is_empty(), "{tl:?}");
}
