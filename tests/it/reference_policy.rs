//! Integration tests: rooms, roles, bans, DMs and metadata in the reference
//! provider. Two providers over real loopback mutual TLS, driven through
//! their control APIs; every change is checked on both sides.

use mimi_interop::control::ControlClient;
use mimi_interop::control::api::*;
use std::time::Duration;

const T: Duration = Duration::from_secs(20);

pub(crate) use crate::reference::{Pair, pair};

pub(crate) async fn user(c: &ControlClient, name: &str) -> String {
    c.create_user(
        &CreateUserRequest {
            name: name.into(),
            display_name: None,
            avatar: None,
            clients: 1,
            consent_required: false,
        },
        T,
    )
    .await
    .expect("create_user")
    .user
}

async fn room(c: &ControlClient, actor: &str, name: &str, with: Option<&str>) -> String {
    c.create_room(
        &CreateRoomRequest {
            actor: actor.into(),
            name: name.into(),
            kind: if with.is_some() {
                RoomKind::Dm
            } else {
                RoomKind::Group
            },
            with: with.map(str::to_owned),
            status_policy: None,
            max_users: None,
        },
        T,
    )
    .await
    .expect("create_room")
    .room
}

/// One membership operation; shared with `reference.rs`.
pub(crate) async fn member_op(
    c: &ControlClient,
    op: &str,
    room: &str,
    actor: &str,
    user: &str,
) -> Result<RoomChangeResponse, mimi_interop::control::CallError> {
    c.membership(
        op,
        &MembershipRequest {
            room: room.into(),
            actor: actor.into(),
            user: user.into(),
        },
        T,
    )
    .await
}

/// The one view every client of `user` has (they must agree).
async fn view(c: &ControlClient, room: &str, user: &str) -> ClientRoomState {
    let r = c
        .room_state(
            &RoomStateRequest {
                room: room.into(),
                user: user.into(),
            },
            T,
        )
        .await
        .expect("room_state");
    let first = r.clients[0].clone();
    for other in &r.clients[1..] {
        assert_eq!(other.participants, first.participants);
        assert_eq!(other.epoch_authenticator, first.epoch_authenticator);
    }
    first
}

/// Waits until `user`'s view reaches `epoch` (driven by long-polling events).
async fn view_at(c: &ControlClient, room: &str, user: &str, epoch: u64) -> ClientRoomState {
    let deadline = tokio::time::Instant::now() + T;
    let mut cursor = 0;
    loop {
        let v = view(c, room, user).await;
        if v.epoch >= epoch {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{user} never reached epoch {epoch}"
        );
        let r = c
            .events(
                &EventsRequest {
                    user: user.into(),
                    cursor,
                    wait_ms: 2000,
                },
                T,
            )
            .await
            .expect("events");
        cursor = r.cursor;
    }
}

fn roles(v: &ClientRoomState) -> Vec<(String, String)> {
    v.participants
        .iter()
        .map(|p| (p.user.clone(), p.role.clone()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = list
        .iter()
        .map(|(u, r)| (u.to_string(), r.to_string()))
        .collect();
    v.sort();
    v
}

/// Alice (A) makes a group room and adds Bob (B); returns room and epoch.
async fn club(p: &Pair, alice: &str, bob: &str) -> (String, u64) {
    let room = room(&p.ca, alice, "club", None).await;
    let r = member_op(&p.ca, "add_participant", &room, alice, bob)
        .await
        .expect("add bob");
    (room, r.epoch)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_change_propagates_to_both_sides() {
    let p = pair().await;
    let alice = user(&p.ca, "alice").await;
    let bob = user(&p.cb, "bob").await;
    let (room, _) = club(&p, &alice, &bob).await;
    let before = view(&p.ca, &room, &alice).await;
    assert_eq!(roles(&before), pairs(&[(&alice, "admin"), (&bob, "user")]));
    let r =
        p.ca.set_role(
            &SetRoleRequest {
                room: room.clone(),
                actor: alice.clone(),
                user: bob.clone(),
                role: "moderator".into(),
            },
            T,
        )
        .await
        .expect("set_role");
    let va = view(&p.ca, &room, &alice).await;
    let vb = view_at(&p.cb, &room, &bob, r.epoch).await;
    let want = pairs(&[(&alice, "admin"), (&bob, "moderator")]);
    assert_eq!(roles(&va), want);
    assert_eq!(roles(&vb), want);
    assert_eq!(va.epoch_authenticator, vb.epoch_authenticator);
    // A moderator may not make itself admin (own role), nor an unknown role exist.
    let err =
        p.cb.set_role(
            &SetRoleRequest {
                room: room.clone(),
                actor: bob.clone(),
                user: bob.clone(),
                role: "admin".into(),
            },
            T,
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
    assert_eq!(roles(&view(&p.ca, &room, &alice).await), want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ordinary_user_removing_the_admin_is_refused_and_changes_nothing() {
    let p = pair().await;
    let alice = user(&p.ca, "alice").await;
    let bob = user(&p.cb, "bob").await;
    let (room, epoch) = club(&p, &alice, &bob).await;
    let vb = view_at(&p.cb, &room, &bob, epoch).await;
    let err = member_op(&p.cb, "remove_participant", &room, &bob, &alice)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
    assert!(err.to_string().contains("role user"), "{err}");
    // Nor may an ordinary user ban or change roles.
    let err = member_op(&p.cb, "ban", &room, &bob, &alice)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
    let va = view(&p.ca, &room, &alice).await;
    let vb2 = view(&p.cb, &room, &bob).await;
    for v in [&va, &vb2] {
        assert_eq!(v.epoch, vb.epoch);
        assert_eq!(v.epoch_authenticator, vb.epoch_authenticator);
        assert_eq!(roles(v), pairs(&[(&alice, "admin"), (&bob, "user")]));
        assert_eq!(v.members.len(), 2);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn banned_user_cannot_be_re_added_until_unbanned() {
    let p = pair().await;
    let alice = user(&p.ca, "alice").await;
    let bob = user(&p.cb, "bob").await;
    let carol = user(&p.cb, "carol").await;
    let (room, _) = club(&p, &alice, &bob).await;
    let r = member_op(&p.ca, "add_participant", &room, &alice, &carol)
        .await
        .expect("add carol");
    view_at(&p.cb, &room, &carol, r.epoch).await;
    let r = member_op(&p.ca, "ban", &room, &alice, &bob)
        .await
        .expect("ban");
    let want = pairs(&[(&alice, "admin"), (&bob, "banned"), (&carol, "user")]);
    let va = view(&p.ca, &room, &alice).await;
    let vc = view_at(&p.cb, &room, &carol, r.epoch).await;
    assert_eq!(roles(&va), want);
    assert_eq!(roles(&vc), want);
    assert!(!va.members.iter().any(|m| m.contains("/d/bob")), "{va:?}");
    assert_eq!(va.epoch_authenticator, vc.epoch_authenticator);
    // Re-adding is refused and changes nothing.
    let err = member_op(&p.ca, "add_participant", &room, &alice, &bob)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
    assert!(err.to_string().contains("banned"), "{err}");
    assert_eq!(view(&p.ca, &room, &alice).await.epoch, va.epoch);
    // Unban lifts it; bob can then be added again as an ordinary user.
    let r = member_op(&p.ca, "unban", &room, &alice, &bob)
        .await
        .expect("unban");
    let vc = view_at(&p.cb, &room, &carol, r.epoch).await;
    assert_eq!(roles(&vc), pairs(&[(&alice, "admin"), (&carol, "user")]));
    let r = member_op(&p.ca, "add_participant", &room, &alice, &bob)
        .await
        .expect("re-add after unban");
    let vb = view_at(&p.cb, &room, &bob, r.epoch).await;
    let want = pairs(&[(&alice, "admin"), (&bob, "user"), (&carol, "user")]);
    assert_eq!(roles(&vb), want);
    assert_eq!(roles(&view(&p.ca, &room, &alice).await), want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dm_has_fixed_membership_of_two() {
    let p = pair().await;
    let alice = user(&p.ca, "alice").await;
    let bob = user(&p.cb, "bob").await;
    let carol = user(&p.cb, "carol").await;
    let dm = room(&p.ca, &alice, "dm", Some(&bob)).await;
    let va = view(&p.ca, &dm, &alice).await;
    let vb = view_at(&p.cb, &dm, &bob, va.epoch).await;
    let want = pairs(&[(&alice, "user"), (&bob, "user")]);
    assert_eq!(roles(&va), want);
    assert_eq!(roles(&vb), want);
    assert_eq!(va.members.len(), 2);
    let err = member_op(&p.ca, "add_participant", &dm, &alice, &carol)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
    assert!(err.to_string().contains("fixed membership"), "{err}");
    let err = member_op(&p.cb, "remove_participant", &dm, &bob, &alice)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
    // Leaving is refused too (by the hub, which holds the leave proposals).
    let err =
        p.cb.leave(
            &LeaveRequest {
                room: dm.clone(),
                actor: bob.clone(),
            },
            T,
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
    assert!(err.to_string().contains("fixed membership"), "{err}");
    for v in [view(&p.ca, &dm, &alice).await, view(&p.cb, &dm, &bob).await] {
        assert_eq!(v.epoch, va.epoch);
        assert_eq!(roles(&v), want);
    }
}

/// A dm with a user the other provider does not have is refused before
/// anything is created: the room's name stays free.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dm_with_an_unknown_user_is_404_and_creates_nothing() {
    let p = pair().await;
    let alice = user(&p.ca, "alice").await;
    let bob = user(&p.cb, "bob").await;
    let nobody = bob.replace("/u/bob", "/u/nobody");
    let err =
        p.ca.create_room(
            &CreateRoomRequest {
                actor: alice.clone(),
                name: "dm".into(),
                kind: RoomKind::Dm,
                with: Some(nobody.clone()),
                status_policy: None,
                max_users: None,
            },
            T,
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404), "{err}");
    assert!(err.to_string().contains(&nobody), "{err}");
    let dm = room(&p.ca, &alice, "dm", Some(&bob)).await;
    assert_eq!(view(&p.ca, &dm, &alice).await.members.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_metadata_is_visible_on_both_sides() {
    let p = pair().await;
    let alice = user(&p.ca, "alice").await;
    let bob = user(&p.cb, "bob").await;
    let (room, _) = club(&p, &alice, &bob).await;
    let r =
        p.ca.set_room_metadata(
            &SetRoomMetadataRequest {
                room: room.clone(),
                actor: alice.clone(),
                name: Some("Clubhouse".into()),
                topic: Some("MIMI interop".into()),
                avatar: None,
            },
            T,
        )
        .await
        .expect("set_room_metadata");
    let vb = view_at(&p.cb, &room, &bob, r.epoch).await;
    let va = view(&p.ca, &room, &alice).await;
    for v in [&va, &vb] {
        assert_eq!(v.metadata.name.as_deref(), Some("Clubhouse"));
        assert_eq!(v.metadata.topic.as_deref(), Some("MIMI interop"));
        assert_eq!(v.metadata.avatar, None);
    }
    // Bob (a user) changes only the topic; the name stays.
    let r =
        p.cb.set_room_metadata(
            &SetRoomMetadataRequest {
                room: room.clone(),
                actor: bob.clone(),
                name: None,
                topic: Some("second topic".into()),
                avatar: None,
            },
            T,
        )
        .await
        .expect("bob sets the topic");
    let va = view_at(&p.ca, &room, &alice, r.epoch).await;
    assert_eq!(va.metadata.name.as_deref(), Some("Clubhouse"));
    assert_eq!(va.metadata.topic.as_deref(), Some("second topic"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_participant_list_change_is_refused_by_the_hub() {
    let p = pair().await;
    let alice = user(&p.ca, "alice").await;
    let bob = user(&p.cb, "bob").await;
    let carol = user(&p.ca, "carol").await;
    let (room, _) = club(&p, &alice, &bob).await;
    member_op(&p.ca, "add_participant", &room, &alice, &carol)
        .await
        .expect("add carol");
    let r =
        p.ca.set_role(
            &SetRoleRequest {
                room: room.clone(),
                actor: alice.clone(),
                user: carol.clone(),
                role: "moderator".into(),
            },
            T,
        )
        .await
        .expect("carol moderator");
    let before = view_at(&p.cb, &room, &bob, r.epoch).await;
    let want = pairs(&[(&alice, "admin"), (&bob, "user"), (&carol, "moderator")]);
    assert_eq!(roles(&before), want);
    // Bob's provider plans with Alice's authority, so Bob's client commits
    // changes only an admin may make and sends them to the hub's /update.
    *p.b.hooks().forge_policy_as.lock().expect("hook lock") = Some(alice.clone());
    let err =
        p.cb.set_role(
            &SetRoleRequest {
                room: room.clone(),
                actor: bob.clone(),
                user: bob.clone(),
                role: "admin".into(),
            },
            T,
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
    assert!(err.to_string().contains("refused by the hub"), "{err}");
    assert!(err.to_string().contains("canChangeUserRole"), "{err}");
    for op in ["remove_participant", "ban"] {
        let err = member_op(&p.cb, op, &room, &bob, &carol).await.unwrap_err();
        assert_eq!(err.status(), Some(403), "{op}: {err}");
        assert!(
            err.to_string().contains("refused by the hub"),
            "{op}: {err}"
        );
    }
    *p.b.hooks().forge_policy_as.lock().expect("hook lock") = None;
    // Nothing changed on either side, and the room still works.
    for v in [
        view(&p.ca, &room, &alice).await,
        view(&p.cb, &room, &bob).await,
    ] {
        assert_eq!(v.epoch, before.epoch);
        assert_eq!(v.epoch_authenticator, before.epoch_authenticator);
        assert_eq!(roles(&v), want);
        assert_eq!(v.members, before.members);
    }
    let r =
        p.cb.set_room_metadata(
            &SetRoomMetadataRequest {
                room: room.clone(),
                actor: bob.clone(),
                name: None,
                topic: Some("still fine".into()),
                avatar: None,
            },
            T,
        )
        .await
        .expect("an allowed change after the refusals");
    assert_eq!(r.epoch, before.epoch + 1);
}

/// Sends `intent` as `actor`: built by the provider (`raw` false), or built
/// here and sent as exact bytes (`raw` true), which skips the sender-side
/// policy check. Returns the message ID (hex).
async fn send_as(
    c: &ControlClient,
    room: &str,
    actor: &str,
    intent: serde_json::Value,
    raw: bool,
) -> Result<String, mimi_interop::control::CallError> {
    use base64::Engine as _;
    let content = if raw {
        let mut salt = [0u8; 16];
        rand::Rng::fill(&mut rand::rng(), &mut salt);
        let ctx = mimi_interop::content::BuildContext {
            sender_uri: actor.into(),
            room_uri: room.into(),
            timestamp_ms: 1_700_000_000_000,
            salt,
        };
        let bytes = mimi_interop::content::build(&intent, &ctx).expect("build content");
        SendContent::Raw(base64::engine::general_purpose::STANDARD.encode(bytes))
    } else {
        SendContent::Intent(intent)
    };
    c.send(
        &SendRequest {
            room: room.into(),
            actor: actor.into(),
            client: None,
            content,
        },
        T,
    )
    .await
    .map(|r| r.message_id)
}

/// The message IDs every client of `user` shows (they must agree).
async fn shown(c: &ControlClient, room: &str, user: &str) -> Vec<String> {
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
    let ids: Vec<Vec<String>> = r
        .clients
        .iter()
        .map(|t| t.messages.iter().map(|m| m.message_id.clone()).collect())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "{ids:?}");
    ids.into_iter().next().unwrap_or_default()
}

/// Waits (driven by long-polling events) until `user` no longer shows `id`.
async fn wait_gone(c: &ControlClient, room: &str, user: &str, id: &str) -> Vec<String> {
    wait_shows(c, room, user, id, false).await
}

/// Waits (driven by long-polling events) until whether `user` shows `id`
/// is `want`.
async fn wait_shows(
    c: &ControlClient,
    room: &str,
    user: &str,
    id: &str,
    want: bool,
) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + T;
    let mut cursor = 0;
    loop {
        let ids = shown(c, room, user).await;
        if ids.iter().any(|m| m == id) == want {
            return ids;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{user} still {} {id}",
            if want { "does not show" } else { "shows" }
        );
        cursor = c
            .events(
                &EventsRequest {
                    user: user.into(),
                    cursor,
                    wait_ms: 2000,
                },
                T,
            )
            .await
            .expect("events")
            .cursor;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_moderators_delete_of_another_users_message_applies() {
    let p = pair().await;
    let alice = user(&p.ca, "alice").await;
    let bob = user(&p.cb, "bob").await;
    let carol = user(&p.cb, "carol").await;
    let (room, _) = club(&p, &alice, &bob).await;
    member_op(&p.ca, "add_participant", &room, &alice, &carol)
        .await
        .expect("add carol");
    let keep = send_as(
        &p.ca,
        &room,
        &alice,
        serde_json::json!({"text": "keep"}),
        false,
    )
    .await
    .expect("send keep");
    let drop = send_as(
        &p.ca,
        &room,
        &alice,
        serde_json::json!({"text": "drop"}),
        false,
    )
    .await
    .expect("send drop");
    // A delete of a message the client does not have yet is let through
    // (receivers decide), so Bob must hold it first.
    wait_shows(&p.cb, &room, &bob, &keep, true).await;
    // Bob's own provider refuses a built delete of Alice's message...
    let err = send_as(
        &p.cb,
        &room,
        &bob,
        serde_json::json!({"delete": keep}),
        false,
    )
    .await
    .unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
    assert!(err.to_string().contains("canDeleteOtherMessage"), "{err}");
    // ...but the same delete as raw bytes goes out; receivers must ignore it.
    send_as(
        &p.cb,
        &room,
        &bob,
        serde_json::json!({"delete": keep}),
        true,
    )
    .await
    .expect("raw delete is sent");
    let r =
        p.ca.set_role(
            &SetRoleRequest {
                room: room.clone(),
                actor: alice.clone(),
                user: carol.clone(),
                role: "moderator".into(),
            },
            T,
        )
        .await
        .expect("set_role");
    view_at(&p.cb, &room, &carol, r.epoch).await;
    // Carol, now a moderator, deletes with raw bytes too: applied everywhere.
    send_as(
        &p.cb,
        &room,
        &carol,
        serde_json::json!({"delete": drop}),
        true,
    )
    .await
    .expect("moderator delete");
    // Bob's delete came first in hub order, so once Carol's is applied,
    // Bob's was processed too, and ignored.
    for (c, u) in [(&p.ca, &alice), (&p.cb, &bob), (&p.cb, &carol)] {
        assert_eq!(
            wait_gone(c, &room, u, &drop).await,
            std::slice::from_ref(&keep),
            "{u}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_are_answered_across_providers_by_identifier_query() {
    let p = pair().await;
    let alice =
        p.ca.create_user(
            &CreateUserRequest {
                name: "alice".into(),
                display_name: Some("Ålice Lïddell 🌸".into()),
                avatar: Some("https://a.example/alice.png".into()),
                clients: 1,
                consent_required: false,
            },
            T,
        )
        .await
        .expect("create alice")
        .user;
    let bob = user(&p.cb, "bob").await;
    p.b.hooks()
        .record
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let ask = |c: &ControlClient, asker: &str, target: &str| {
        let r = ProfileRequest {
            user: asker.into(),
            target: target.into(),
        };
        let c = c.clone();
        async move { c.profile(&r, T).await }
    };
    // Bob's provider asks Alice's over MIMI.
    let got = ask(&p.cb, &bob, &alice).await.expect("profile of alice");
    assert_eq!(
        got,
        ProfileResponse {
            user: alice.clone(),
            display_name: Some("Ålice Lïddell 🌸".into()),
            avatar: Some("https://a.example/alice.png".into()),
        }
    );
    // It went over MIMI as a TLS-encoded wholeProfile query for Alice's URI.
    let out: Vec<_> =
        p.b.hooks()
            .recorded()
            .into_iter()
            .filter(|r| r.label == "out identifierQuery /v1/identifierQuery/a.example")
            .collect();
    assert_eq!(
        out.len(),
        1,
        "{:?}",
        out.iter().map(|r| &r.label).collect::<Vec<_>>()
    );
    // query_elements<V> = [type 6, searchValue<V>], then an empty dictionary
    // (one-byte lengths: the URI is short).
    let n = u8::try_from(alice.len()).expect("short URI");
    let mut want = vec![n + 2, 6, n];
    want.extend_from_slice(alice.as_bytes());
    want.push(0);
    assert_eq!(out[0].body, want);
    // Bob set nothing; Alice's own provider answers for her too.
    let got = ask(&p.ca, &alice, &bob).await.expect("profile of bob");
    assert_eq!(got.user, bob);
    assert_eq!((got.display_name, got.avatar), (None, None));
    assert_eq!(
        ask(&p.ca, &alice, &alice).await.expect("own").display_name,
        Some("Ålice Lïddell 🌸".into())
    );
    // A user the other provider does not have, and a prefix of a real one.
    for missing in ["mimi://b.example/u/nobody", "mimi://b.example/u/bo"] {
        let err = ask(&p.ca, &alice, missing).await.unwrap_err();
        assert_eq!(err.status(), Some(404), "{missing}: {err}");
    }
}
