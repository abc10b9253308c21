//! Every control operation of the reference provider is all-or-nothing:
//! each is called in ways that fail, and the whole state of both providers
//! (server side and every device, `RunningProvider::state_dump`) must be
//! the same before and after.

use crate::reference::{Pair, T, pair, user, wait_for};
use mimi_interop::control::api::*;
use serde_json::{Value, json};

const A: &str = "mimi://a.example";

fn u(name: &str) -> String {
    format!("{A}/u/{name}")
}

fn r(name: &str) -> String {
    format!("{A}/r/{name}")
}

/// Both providers' dumps, once every user's devices caught up with their
/// inboxes (`room_state` syncs them).
async fn dumps(p: &Pair, users: &[&str]) -> (String, String) {
    for who in users {
        let c = if who.starts_with(A) { &p.ca } else { &p.cb };
        let _ = c
            .room_state(
                &RoomStateRequest {
                    user: (*who).into(),
                    room: r("r1"),
                },
                T,
            )
            .await;
    }
    (p.a.state_dump().await, p.b.state_dump().await)
}

/// Posts `body` to operation `op` of provider a; returns the status and
/// checks that an error answer has the documented body.
async fn post(p: &Pair, op: &str, body: &Value) -> u16 {
    let (status, answer) = raw(p, reqwest::Method::POST, op, body.to_string().into()).await;
    if !(200..300).contains(&status) {
        assert!(
            answer["error"]["code"].is_string() && answer["error"]["message"].is_string(),
            "{op} {body} answered {status} without an error body: {answer}"
        );
    }
    status
}

#[tokio::test]
async fn every_failed_control_operation_leaves_the_state_as_it_was() {
    let p = pair().await;
    let alice = user(&p.ca, "alice", 2).await.user;
    let dave = user(&p.ca, "dave", 1).await.user;
    let carol =
        p.ca.create_user(
            &CreateUserRequest {
                name: "carol".into(),
                display_name: None,
                avatar: None,
                clients: 1,
                consent_required: true,
            },
            T,
        )
        .await
        .expect("carol")
        .user;
    let bob = user(&p.cb, "bob", 1).await.user;
    let room =
        p.ca.create_room(
            &CreateRoomRequest {
                actor: alice.clone(),
                name: "r1".into(),
                kind: RoomKind::Group,
                with: None,
                status_policy: None,
                max_users: None,
            },
            T,
        )
        .await
        .expect("r1")
        .room;
    let add = |who: &str| MembershipRequest {
        room: room.clone(),
        actor: alice.clone(),
        user: who.into(),
    };
    p.ca.membership("add_participant", &add(&bob), T)
        .await
        .expect("bob added");
    let sent = crate::reference::send_raw(&p.ca, &room, &alice, b"hello").await;
    let users = [alice.as_str(), dave.as_str(), carol.as_str(), bob.as_str()];
    let mut cursor = 0;
    wait_for(&p.cb, &bob, &mut cursor, |e| {
        crate::reference::message_from(e).is_some()
    })
    .await;

    let ghost = u("ghost");
    let failing: Vec<(&str, Value)> = vec![
        ("create_user", json!({"name": "alice"})),
        ("create_user", json!({"name": "Not a name!"})),
        ("create_user", json!({"name": "zed", "clients": 0})),
        ("create_user", json!({"name": 5})),
        ("add_client", json!({"user": ghost})),
        // The case: another user of the same provider takes a
        // room name that exists.
        (
            "create_room",
            json!({"actor": dave, "name": "r1", "kind": "group"}),
        ),
        (
            "create_room",
            json!({"actor": alice, "name": "r1", "kind": "group"}),
        ),
        (
            "create_room",
            json!({"actor": alice, "name": "r2", "kind": "dm"}),
        ),
        (
            "create_room",
            json!({"actor": alice, "name": "r2", "kind": "group", "with": bob}),
        ),
        (
            "create_room",
            json!({"actor": alice, "name": "r2", "kind": "dm", "with": alice}),
        ),
        (
            "create_room",
            json!({"actor": alice, "name": "r2", "kind": "dm", "with": ghost}),
        ),
        (
            "create_room",
            json!({"actor": alice, "name": "r2", "kind": "dm", "with": carol}),
        ),
        (
            "create_room",
            json!({"actor": alice, "name": "Bad Name", "kind": "group"}),
        ),
        (
            "create_room",
            json!({"actor": ghost, "name": "r2", "kind": "group"}),
        ),
        (
            "add_participant",
            json!({"room": room, "actor": dave, "user": carol}),
        ),
        (
            "add_participant",
            json!({"room": room, "actor": alice, "user": ghost}),
        ),
        (
            "add_participant",
            json!({"room": room, "actor": alice, "user": bob}),
        ),
        (
            "add_participant",
            json!({"room": room, "actor": alice, "user": carol}),
        ),
        (
            "add_participant",
            json!({"room": room, "actor": alice, "user": "bob"}),
        ),
        (
            "add_participant",
            json!({"room": r("nowhere"), "actor": alice, "user": dave}),
        ),
        (
            "remove_participant",
            json!({"room": room, "actor": alice, "user": dave}),
        ),
        (
            "remove_participant",
            json!({"room": room, "actor": alice, "user": alice}),
        ),
        (
            "remove_participant",
            json!({"room": room, "actor": dave, "user": bob}),
        ),
        ("leave", json!({"room": room, "actor": dave})),
        ("leave", json!({"room": r("nowhere"), "actor": alice})),
        ("ban", json!({"room": room, "actor": dave, "user": bob})),
        ("unban", json!({"room": room, "actor": dave, "user": bob})),
        (
            "set_role",
            json!({"room": room, "actor": alice, "user": bob, "role": "no-such-role"}),
        ),
        (
            "set_role",
            json!({"room": room, "actor": dave, "user": bob, "role": "admin"}),
        ),
        (
            "set_room_metadata",
            json!({"room": room, "actor": dave, "name": "x"}),
        ),
        (
            "send",
            json!({"room": room, "actor": dave, "content": {"raw": "aGk="}}),
        ),
        (
            "send",
            json!({"room": room, "actor": alice, "content": {"raw": "not base64!"}}),
        ),
        (
            "send",
            json!({"room": room, "actor": alice, "client": format!("{A}/d/nope"),
                   "content": {"raw": "aGk="}}),
        ),
        (
            "mark_read",
            json!({"room": room, "actor": dave, "message_ids": [sent.message_id]}),
        ),
        ("events", json!({"user": ghost})),
        ("room_state", json!({"user": dave, "room": room})),
        ("timeline", json!({"user": dave, "room": room})),
        ("profile", json!({"user": alice, "target": ghost})),
        (
            "download",
            json!({"user": dave, "room": room, "message_id": sent.message_id}),
        ),
        ("request_consent", json!({"actor": ghost, "target": carol})),
        ("cancel_consent", json!({"actor": ghost, "target": carol})),
        ("grant_consent", json!({"actor": ghost, "requester": alice})),
        (
            "revoke_consent",
            json!({"actor": ghost, "requester": alice}),
        ),
        ("report_abuse", json!({"actor": dave, "room": room})),
        ("abuse_reports", json!({"user": ghost})),
        ("message_franks", json!({"user": ghost, "room": room})),
        ("typing", json!({})),
        ("no_such_operation", json!({})),
    ];
    for (op, body) in &failing {
        let before = dumps(&p, &users).await;
        let status = post(&p, op, body).await;
        assert!(
            !(200..300).contains(&status),
            "{op} {body} was meant to fail but answered {status}"
        );
        let after = dumps(&p, &users).await;
        assert_eq!(
            before.0, after.0,
            "{op} {body} (answered {status}) changed a.example's state"
        );
        assert_eq!(
            before.1, after.1,
            "{op} {body} (answered {status}) changed b.example's state"
        );
    }

    // What the failed create_room of dave used to break: being added to the
    // room of that name, sending in it and seeing it.
    p.ca.membership("add_participant", &add(&dave), T)
        .await
        .expect("dave added");
    let mut cursor = 0;
    wait_for(&p.ca, &dave, &mut cursor, |e| {
        matches!(e.kind, EventKind::Joined { .. }) && e.room == room
    })
    .await;
    crate::reference::send_raw(&p.ca, &room, &dave, b"after").await;
    let state =
        p.ca.room_state(
            &RoomStateRequest {
                user: dave.clone(),
                room: room.clone(),
            },
            T,
        )
        .await
        .expect("dave sees the room");
    assert!(
        state.clients[0].participants.iter().any(|x| x.user == dave),
        "{state:?}"
    );
}

/// Status and body of `method` `op` on provider a.
pub(crate) async fn raw(
    p: &Pair,
    method: reqwest::Method,
    op: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let r = reqwest::Client::new()
        .request(method, format!("{}/v1/{op}", p.a.control_url()))
        .header("content-type", "application/json")
        .body(body)
        .timeout(T)
        .send()
        .await
        .expect("control API answers");
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|_| json!({"not json": text}));
    (status, body)
}

#[tokio::test]
async fn every_error_answer_has_the_documented_code_and_body() {
    let p = pair().await;
    let alice = user(&p.ca, "alice", 1).await.user;
    let room = json!({"actor": alice, "name": "r1", "kind": "group"});
    let (status, _) = raw(
        &p,
        reqwest::Method::POST,
        "create_room",
        room.to_string().into(),
    )
    .await;
    assert_eq!(status, 200);
    let cases = [
        // The same user asking again for a room it has.
        (
            reqwest::Method::POST,
            "create_room",
            room.to_string().into_bytes(),
            409,
            "conflict",
        ),
        (
            reqwest::Method::GET,
            "create_room",
            Vec::new(),
            405,
            "method_not_allowed",
        ),
        (
            reqwest::Method::POST,
            "info",
            b"{}".to_vec(),
            405,
            "method_not_allowed",
        ),
        (
            reqwest::Method::POST,
            "send",
            vec![b' '; 2 << 20],
            413,
            "too_large",
        ),
        (
            reqwest::Method::POST,
            "nothing_here",
            b"{}".to_vec(),
            404,
            "not_found",
        ),
        (
            reqwest::Method::POST,
            "create_room",
            b"{".to_vec(),
            400,
            "bad_request",
        ),
    ];
    for (method, op, body, want_status, want_code) in cases {
        let (status, body) = raw(&p, method.clone(), op, body).await;
        assert_eq!(status, want_status, "{method} {op}: {body}");
        assert_eq!(body["error"]["code"], want_code, "{method} {op}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{method} {op}: {body}"
        );
    }
}
