//! Integration tests: message franking (protocol-06 §5.4.1) and abuse
//! reports (§5.9) between two reference providers.

use crate::reference::{
    T, message_from, mimi_http, mimi_post, record, recorded, room_with_bob, wait_for,
};
use mimi_interop::control::ControlClient;
use mimi_interop::control::api::*;
use mimi_interop::protocol;

pub(crate) async fn send_text(
    c: &ControlClient,
    room: &str,
    actor: &str,
    text: &str,
) -> SendResponse {
    c.send(
        &SendRequest {
            room: room.into(),
            actor: actor.into(),
            client: None,
            content: SendContent::Intent(serde_json::json!({ "text": text })),
        },
        T,
    )
    .await
    .expect("send")
}

async fn franks(c: &ControlClient, room: &str, user: &str) -> Vec<MessageFrank> {
    c.message_franks(
        &MessageFranksRequest {
            room: room.into(),
            user: user.into(),
        },
        T,
    )
    .await
    .expect("message_franks")
    .clients
    .into_iter()
    .flat_map(|c| c.messages)
    .collect()
}

async fn reports(c: &ControlClient, room: &str) -> Vec<AcceptedAbuseReport> {
    c.abuse_reports(&AbuseReportsRequest { room: room.into() }, T)
        .await
        .expect("abuse_reports")
        .reports
}

pub(crate) fn report_req(
    actor: &str,
    room: &str,
    ids: &[&str],
    abuser: &str,
) -> ReportAbuseRequest {
    ReportAbuseRequest {
        actor: actor.into(),
        room: room.into(),
        message_ids: ids.iter().map(|s| s.to_string()).collect(),
        reason: None,
        note: Some("unsolicited ads".into()),
        alleged_abuser: abuser.into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn received_messages_carry_a_verified_frank_and_can_be_reported() {
    let p = crate::reference::pair().await;
    record(&p.a, true);
    let (room, alice, bob, _ca, mut cb) = room_with_bob(&p).await;
    let sent = send_text(&p.ca, &room, &alice.user, "cheap pills here").await;
    let e = wait_for(&p.cb, &bob.user, &mut cb, |e| message_from(e).is_some()).await;
    let EventKind::Message {
        accepted_timestamp, ..
    } = e.kind
    else {
        unreachable!()
    };

    // The fan-out carried a frank, and bob's client verified it.
    let fanouts: Vec<protocol::FanoutMessage> = recorded(&p.a, "out notify")
        .iter()
        .flat_map(|b| protocol::decode_fanout_batch(b).expect("notify body"))
        .filter(|m| matches!(m.tail, protocol::FanoutTail::Application { .. }))
        .collect();
    assert!(
        fanouts
            .iter()
            .all(|m| matches!(m.tail, protocol::FanoutTail::Application { frank: Some(_) })),
        "an application fan-out without a frank"
    );
    let kept = franks(&p.cb, &room, &bob.user).await;
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0].message_id, sent.message_id);
    assert_eq!(kept[0].sender, alice.user);
    assert_eq!(Some(kept[0].accepted_timestamp), accepted_timestamp);
    assert!(kept[0].verified, "{:?}", kept[0].problem);

    // Raw bytes that are not MIMI content are neither franked nor kept.
    crate::reference::send_raw(&p.ca, &room, &alice.user, b"no salt here").await;
    wait_for(&p.cb, &bob.user, &mut cb, |e| message_from(e).is_some()).await;
    assert_eq!(franks(&p.cb, &room, &bob.user).await.len(), 1);

    // Bob reports it; the hub (a.example) validates and keeps the report.
    assert!(reports(&p.ca, &room).await.is_empty());
    p.cb.report_abuse(
        &report_req(&bob.user, &room, &[&sent.message_id], &alice.user),
        T,
    )
    .await
    .expect("report_abuse");
    let got = reports(&p.ca, &room).await;
    assert_eq!(
        got,
        vec![AcceptedAbuseReport {
            reporting_user: bob.user.clone(),
            alleged_abuser: alice.user.clone(),
            reason: 0,
            note: "unsolicited ads".into(),
            accepted_timestamps: vec![accepted_timestamp.unwrap()],
        }]
    );

    // A message bob never received, and a frank naming someone else.
    let err =
        p.cb.report_abuse(
            &report_req(&bob.user, &room, &["00".repeat(32).as_str()], &alice.user),
            T,
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404), "{err}");
    let err =
        p.cb.report_abuse(
            &report_req(
                &bob.user,
                &room,
                &[&sent.message_id],
                "mimi://b.example/u/bob",
            ),
            T,
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
    assert!(err.to_string().contains("sender"), "{err}");
    assert_eq!(reports(&p.ca, &room).await.len(), 1);
}

/// name, From domain, path, body, expected status.
type Row<'a> = (&'a str, &'a reqwest::Client, &'a str, String, Vec<u8>, u16);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn altered_and_forged_abuse_reports_are_refused() {
    let p = crate::reference::pair().await;
    record(&p.b, true);
    let (room, alice, bob, _ca, mut cb) = room_with_bob(&p).await;
    let sent = send_text(&p.ca, &room, &alice.user, "you will regret this").await;
    wait_for(&p.cb, &bob.user, &mut cb, |e| message_from(e).is_some()).await;
    p.cb.report_abuse(
        &report_req(&bob.user, &room, &[&sent.message_id], &alice.user),
        T,
    )
    .await
    .expect("report_abuse");
    let body = recorded(&p.b, "out reportAbuse")
        .pop()
        .expect("report body");
    let good: protocol::AbuseReport = protocol::decode(&body).unwrap();

    let alter = |f: &dyn Fn(&mut protocol::AbuseReport)| {
        let mut r = good.clone();
        f(&mut r);
        protocol::encode(&r)
    };
    // Same length, still MIMI content: "regret" → "reward".
    let altered_text = alter(&|r| {
        let mut c = r.messages[0].message_content.as_slice().to_vec();
        let at = c
            .windows(6)
            .position(|w| w == b"regret")
            .expect("text in content");
        c[at..at + 6].copy_from_slice(b"reward");
        r.messages[0].message_content = c.into();
    });
    let later = alter(&|r| r.messages[0].accepted_timestamp += 1);
    let bad_sig = alter(&|r| {
        let mut s = r.messages[0]
            .frank
            .franking_integrity_signature
            .as_slice()
            .to_vec();
        s[0] ^= 1;
        r.messages[0].frank.franking_integrity_signature = s.into();
    });
    let other_frank = alter(&|r| r.messages[0].frank.server_frank[0] ^= 1);
    let other_abuser =
        alter(&|r| r.alleged_abuser_uri = b"mimi://a.example/u/carol".to_vec().into());

    let ca_pem = p.launcher.ca().cert_pem().to_owned();
    let id = |d: &str| p.launcher.ca().issue(d).unwrap();
    let b_to_a = mimi_http(&id("b.example"), &ca_pem, "a.example", p.a.mimi_url());
    let c_to_a = mimi_http(&id("c.example"), &ca_pem, "a.example", p.a.mimi_url());
    let path = format!("/v1/reportAbuse/{}", room.trim_start_matches("mimi://"));
    let mut trailing = body.clone();
    trailing.push(0);
    #[rustfmt::skip]
    let table: Vec<Row> = vec![
        ("altered content", &b_to_a, "b.example", path.clone(), altered_text, 400),
        ("altered accepted_timestamp", &b_to_a, "b.example", path.clone(), later, 400),
        ("altered signature", &b_to_a, "b.example", path.clone(), bad_sig, 400),
        ("altered server_frank", &b_to_a, "b.example", path.clone(), other_frank, 400),
        ("another alleged abuser", &b_to_a, "b.example", path.clone(), other_abuser, 400),
        ("garbage", &b_to_a, "b.example", path.clone(), vec![1, 2, 3], 400),
        ("trailing byte", &b_to_a, "b.example", path.clone(), trailing, 400),
        ("c.example speaks for bob", &c_to_a, "c.example", path.clone(), body.clone(), 403),
        ("another room", &b_to_a, "b.example", "/v1/reportAbuse/a.example/r/other".into(), body.clone(), 404),
    ];
    for (name, http, from, path, body, want) in table {
        let (status, answer) = mimi_post(http, &p.a, &path, Some(from), body)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(status, want, "{name}: {}", String::from_utf8_lossy(&answer));
    }
    assert_eq!(
        reports(&p.ca, &room).await.len(),
        1,
        "a refused report was kept"
    );
    // The unaltered report is accepted again (201, no body).
    let (status, answer) = mimi_post(&b_to_a, &p.a, &path, Some("b.example"), body)
        .await
        .unwrap();
    assert_eq!((status, answer.len()), (201, 0));
    assert_eq!(reports(&p.ca, &room).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_with_a_bad_frank_is_shown_but_cannot_be_reported() {
    let p = crate::reference::pair().await;
    let (room, alice, bob, _ca, mut cb) = room_with_bob(&p).await;
    p.a.hooks()
        .corrupt_fanout_franks
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let sent = send_text(&p.ca, &room, &alice.user, "tampered on the way").await;
    // Still delivered: MLS authenticated it.
    let e = wait_for(&p.cb, &bob.user, &mut cb, |e| message_from(e).is_some()).await;
    assert_eq!(message_from(&e).unwrap().0, alice.clients[0]);
    let kept = franks(&p.cb, &room, &bob.user).await;
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0].message_id, sent.message_id);
    assert!(!kept[0].verified);
    assert_eq!(
        kept[0].problem.as_deref(),
        Some("the franking integrity signature does not verify")
    );
    let err =
        p.cb.report_abuse(
            &report_req(&bob.user, &room, &[&sent.message_id], &alice.user),
            T,
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404), "{err}");
    assert!(err.to_string().contains("no valid frank"), "{err}");
    assert!(reports(&p.ca, &room).await.is_empty());
}
