//! Control `release`: once a finished case's users and rooms are released,
//! both reference providers hold nothing of them (whole state dumps, the
//! server's MLS storage and notify digests included, equal to the dumps
//! taken before the case), while users and rooms of other cases go on.

use crate::reference::{T, message_from, pair, room_with_guest, user, wait_for};
use mimi_interop::control::CallError;
use mimi_interop::control::api::*;
use serde_json::json;

async fn send(
    c: &mimi_interop::control::ControlClient,
    room: &str,
    actor: &str,
    content: serde_json::Value,
) {
    c.send(
        &SendRequest {
            room: room.into(),
            actor: actor.into(),
            client: None,
            content: SendContent::Intent(content),
        },
        T,
    )
    .await
    .expect("send");
}

/// Waits until `user` received a message from `sender` in `room`.
async fn received(
    c: &mimi_interop::control::ControlClient,
    user: &str,
    room: &str,
    sender: &str,
    cursor: &mut u64,
) {
    wait_for(c, user, cursor, |e| {
        e.room == room && message_from(e).is_some_and(|(s, _)| s.contains(sender))
    })
    .await;
}

#[tokio::test]
async fn a_released_case_leaves_nothing_behind_and_other_cases_go_on() {
    let p = pair().await;
    // Another case's users and room, which must survive the release.
    let carol = user(&p.ca, "carol", 1).await.user;
    let dave = user(&p.cb, "dave", 1).await.user;
    let (kept, _, mut dave_cursor) = room_with_guest(&p, "kept", &carol, &dave).await;
    send(&p.ca, &kept, &carol, json!({"text": "before"})).await;
    received(&p.cb, &dave, &kept, "carol", &mut dave_cursor).await;
    let before = (p.a.state_dump().await, p.b.state_dump().await);

    // The case: two devices, messages both ways, an upload on the
    // follower's provider, a device added later.
    let alice = user(&p.ca, "alice", 2).await.user;
    let bob = user(&p.cb, "bob", 1).await.user;
    let (club, _, mut bob_cursor) = room_with_guest(&p, "club", &alice, &bob).await;
    send(&p.ca, &club, &alice, json!({"text": "hello"})).await;
    received(&p.cb, &bob, &club, "alice", &mut bob_cursor).await;
    let upload = json!({"upload": {
        "data": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
        "content_type": "image/png", "filename": "dot.png", "disposition": "render"}});
    send(&p.cb, &club, &bob, upload).await;
    let mut alice_cursor = 0;
    received(&p.ca, &alice, &club, "bob", &mut alice_cursor).await;
    p.cb.add_client(&AddClientRequest { user: bob.clone() }, T)
        .await
        .expect("add_client");
    let during = (p.a.state_dump().await, p.b.state_dump().await);
    assert_ne!(during, before, "the case left no state to release");

    let release = |users: Vec<String>| ReleaseRequest {
        users,
        rooms: vec![club.clone()],
    };
    p.ca.release(&release(vec![alice.clone()]), T)
        .await
        .expect("release on a");
    p.cb.release(&release(vec![bob.clone()]), T)
        .await
        .expect("release on b");
    let after = (p.a.state_dump().await, p.b.state_dump().await);
    assert_eq!(
        after.0, before.0,
        "provider a kept state of the released case"
    );
    assert_eq!(
        after.1, before.1,
        "provider b kept state of the released case"
    );

    // Released users are gone; releasing again, or names nobody holds,
    // changes nothing.
    let gone =
        p.ca.events(
            &EventsRequest {
                user: alice.clone(),
                cursor: 0,
                wait_ms: 0,
            },
            T,
        )
        .await;
    assert!(matches!(gone, Err(CallError::NotFound { .. })), "{gone:?}");
    let unknown = ReleaseRequest {
        users: vec![alice.clone(), "mimi://b.example/u/nobody".into()],
        rooms: vec![club.clone(), "mimi://a.example/r/nowhere".into()],
    };
    p.ca.release(&unknown, T).await.expect("release again");
    assert_eq!(p.a.state_dump().await, before.0);

    // The other case's room still works both ways.
    send(&p.ca, &kept, &carol, json!({"text": "after"})).await;
    received(&p.cb, &dave, &kept, "carol", &mut dave_cursor).await;
    send(&p.cb, &kept, &dave, json!({"text": "reply"})).await;
    let mut carol_cursor = 0;
    received(&p.ca, &carol, &kept, "dave", &mut carol_cursor).await;
}

#[tokio::test]
async fn a_malformed_release_is_400_and_changes_nothing() {
    let p = pair().await;
    let alice = user(&p.ca, "alice", 1).await.user;
    let before = p.a.state_dump().await;
    let (status, _) = crate::atomic::raw(
        &p,
        reqwest::Method::POST,
        "release",
        json!({"users": alice, "rooms": []}).to_string().into(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(p.a.state_dump().await, before);
}
