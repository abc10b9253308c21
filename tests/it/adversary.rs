//! The adversary's forgeries against a reference provider, without the
//! harness in between: each is refused and leaves the hub's whole state
//! (`RunningProvider::state_dump`: server side and every device) as it was.

use crate::reference::{T, add_participant, group_room, pair, user};
use mimi_interop::control::api::*;
use std::sync::atomic::Ordering;

const A: &str = "mimi://a.example";

/// a.example hosts the room; b.example plays the adversary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_forgery_leaves_the_hub_as_it_was() {
    let p = pair().await;
    p.b.hooks().keep_last.store(true, Ordering::SeqCst);
    let alice = user(&p.ca, "alice", 1).await.user;
    let carol = user(&p.ca, "carol", 1).await.user;
    let mallory = user(&p.cb, "mallory", 1).await.user;
    let dave = user(&p.cb, "dave", 1).await.user;
    let room = group_room(&p.ca, &alice, "r1").await;
    for u in [&mallory, &carol] {
        add_participant(&p.ca, &room, &alice, u).await.expect("add");
    }
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
    // Real traffic for the replays: a message, a new device's groupInfo
    // request and external commit, a notify received.
    p.cb.add_client(
        &AddClientRequest {
            user: mallory.clone(),
        },
        T,
    )
    .await
    .expect("mallory's second device");
    p.cb.send(
        &SendRequest {
            room: room.clone(),
            actor: mallory.clone(),
            client: None,
            content: SendContent::Intent(serde_json::json!({"text": "hi"})),
        },
        T,
    )
    .await
    .expect("mallory sends");
    p.ca.send(
        &SendRequest {
            room: room.clone(),
            actor: alice.clone(),
            client: None,
            content: SendContent::Intent(serde_json::json!({"text": "hello"})),
        },
        T,
    )
    .await
    .expect("alice sends");
    let forgeries: Vec<(Forgery, &str, Option<&str>, Option<ForgeEndpoint>)> = vec![
        (Forgery::CommitRemove, &*mallory, Some(&*carol), None),
        (Forgery::CommitBan, &mallory, Some(&carol), None),
        (Forgery::CommitRole, &mallory, None, None),
        (Forgery::ProposeRemove, &mallory, Some(&carol), None),
        (Forgery::ProposeAsHub, &mallory, Some(&carol), None),
        (Forgery::JoinUnlisted, &mallory, Some(&dave), None),
        (Forgery::ReplayCommit, &mallory, None, None),
        (Forgery::MessageAs, &mallory, Some(&alice), None),
        (Forgery::FromMismatch, &mallory, Some(&alice), None),
        (Forgery::NotifyToHub, &mallory, None, None),
        (Forgery::GroupInfoNonMember, &dave, None, None),
        (Forgery::ProxyDownloadForeign, &mallory, None, None),
        (Forgery::UnknownProtocol, &mallory, None, None),
    ]
    .into_iter()
    .chain(
        [
            Forgery::Truncated,
            Forgery::TrailingBytes,
            Forgery::Empty,
            Forgery::Garbage,
            Forgery::Oversized,
        ]
        .into_iter()
        .flat_map(|f| {
            [
                ForgeEndpoint::Update,
                ForgeEndpoint::SubmitMessage,
                ForgeEndpoint::GroupInfo,
            ]
            .map(|e| (f, mallory.as_str(), None, Some(e)))
        }),
    )
    .collect();
    let dump = || async {
        for u in [&alice, &carol] {
            let _ =
                p.ca.room_state(
                    &RoomStateRequest {
                        user: u.clone(),
                        room: room.clone(),
                    },
                    T,
                )
                .await;
        }
        p.a.state_dump().await
    };
    for (forgery, actor, user, endpoint) in forgeries {
        let before = dump().await;
        let sent: ForgeResponse =
            p.cb.call(
                "forge",
                &ForgeRequest {
                    forgery,
                    actor: actor.to_owned(),
                    room: room.clone(),
                    user: user.map(str::to_owned),
                    role: None,
                    endpoint,
                },
                T,
            )
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", forgery.name()));
        assert!(
            !["committed", "joined", "proposed"]
                .iter()
                .any(|taken| sent.answer.starts_with(taken)),
            "{} {endpoint:?} was taken: {sent:?}",
            forgery.name()
        );
        assert_eq!(
            before,
            dump().await,
            "{} {endpoint:?} changed a.example's state: {sent:?}",
            forgery.name()
        );
    }
    assert!(room.starts_with(A));
}

/// The adversary as the hub of its own room: a message its hub stamps an
/// hour ahead or a day back reaches the follower (the forge call returns
/// once the notify was answered), but none of the follower's clients shows
/// it (content-08 §8.1); one stamped honestly shows. Made for a room
/// another provider hosts, the forgery is a 400.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stamped_messages_reach_the_follower_and_are_not_shown() {
    use crate::reference::{message_from, wait_for};
    let p = pair().await;
    let mallory = user(&p.cb, "mallory", 1).await.user;
    let alice = user(&p.ca, "alice", 1).await.user;
    let room = group_room(&p.cb, &mallory, "stamps").await;
    add_participant(&p.cb, &room, &mallory, &alice)
        .await
        .expect("add alice");
    let mut cursor = 0;
    let forge = |forgery: Forgery, actor: &str| ForgeRequest {
        forgery,
        actor: actor.to_owned(),
        room: room.clone(),
        user: None,
        role: None,
        endpoint: None,
    };
    let mut stamped = Vec::new();
    for forgery in [
        Forgery::MessageStampedAhead,
        Forgery::MessageStampedBeforeTheRoom,
    ] {
        let sent: ForgeResponse =
            p.cb.call("forge", &forge(forgery, &mallory), T)
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", forgery.name()));
        let id = sent.message_id.clone().expect("a message ID");
        let content = sent.content.clone().expect("the content");
        // Delivered: the client decrypts it (a message event) …
        wait_for(&p.ca, &alice, &mut cursor, |e| {
            message_from(e).is_some_and(|(_, c)| {
                base64::Engine::encode(&base64::engine::general_purpose::STANDARD, c) == content
            })
        })
        .await;
        stamped.push(id);
    }
    let honest =
        p.cb.send(
            &SendRequest {
                room: room.clone(),
                actor: mallory.clone(),
                client: None,
                content: SendContent::Intent(serde_json::json!({"text": "on time"})),
            },
            T,
        )
        .await
        .expect("mallory sends");
    wait_for(&p.ca, &alice, &mut cursor, |e| message_from(e).is_some()).await;
    // … and shows only the honest one.
    let shown: Vec<String> =
        p.ca.timeline(
            &TimelineRequest {
                room: room.clone(),
                user: alice.clone(),
            },
            T,
        )
        .await
        .expect("timeline")
        .clients
        .into_iter()
        .flat_map(|c| c.messages)
        .map(|m| m.message_id)
        .collect();
    assert_eq!(shown, vec![honest.message_id], "stamped: {stamped:?}");
    // Only the room's hub can stamp.
    let elsewhere =
        p.ca.call::<_, ForgeResponse>("forge", &forge(Forgery::MessageStampedAhead, &alice), T)
            .await
            .expect_err("a.example does not host the room");
    assert_eq!(elsewhere.status(), Some(400), "{elsewhere}");
}
