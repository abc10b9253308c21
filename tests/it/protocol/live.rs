//! Every exchange of a two-provider run, decoded.

use super::{Structure, assert_round_trip, fixtures};
use crate::abuse::{report_req, send_text};
use crate::consent::{consent_user, update as consent_update};
use crate::reference::{
    Pair, T, add_client, message_from, mimi_http, pair, record, room_with_bob, send_raw, wait_for,
};
use mimi_interop::control::api::*;
use mimi_interop::protocol::{
    self, Body, FanoutTail, HandshakeBundle, HttpExchange, decode_exchange,
};
use std::collections::BTreeMap;

/// One exchange the providers recorded: request and its answer.
struct Captured {
    method: String,
    path: String,
    request: Vec<u8>,
    status: u16,
    response: Vec<u8>,
}

/// The providers' outgoing MIMI requests (`out <endpoint|GET> <path>`) with
/// their answers (`… answer <status>`).
fn captured(p: &Pair) -> (Vec<Captured>, usize) {
    let mut out = Vec::new();
    let mut unanswered = 0;
    for prov in [&p.a, &p.b] {
        let recs = prov.hooks().recorded();
        for (i, r) in recs.iter().enumerate() {
            let Some(rest) = r.label.strip_prefix("out ") else {
                continue;
            };
            if r.label.contains(" answer ") {
                continue;
            }
            let Some((kind, path)) = rest.split_once(' ') else {
                continue;
            };
            let prefix = format!("{} answer ", r.label);
            let Some(answer) = recs[i + 1..].iter().find(|a| a.label.starts_with(&prefix)) else {
                unanswered += 1;
                continue;
            };
            out.push(Captured {
                method: if kind == "GET" { "GET" } else { "POST" }.into(),
                path: path.to_owned(),
                request: r.body.clone(),
                status: answer.label[prefix.len()..].parse().expect("status"),
                response: answer.body.clone(),
            });
        }
    }
    (out, unanswered)
}

/// Drives two providers through every endpoint the reference uses between
/// providers; returns the exchanges and the directory document.
async fn exchange_everything() -> (Vec<Captured>, Vec<u8>) {
    let p = pair().await;
    record(&p.a, true);
    record(&p.b, true);
    // keyMaterial, and notify with a commit and a Welcome.
    let (room, alice, bob, mut ca, mut cb) = room_with_bob(&p).await;
    // submitMessage from the follower; notify with a franked message.
    send_raw(&p.cb, &room, &bob.user, b"from bob").await;
    wait_for(&p.ca, &alice.user, &mut ca, |e| message_from(e).is_some()).await;
    let sent = send_text(&p.ca, &room, &alice.user, "cheap pills here").await;
    wait_for(&p.cb, &bob.user, &mut cb, |e| message_from(e).is_some()).await;
    // groupInfo and update: a second device joins by external commit.
    let bob2 = add_client(&p.cb, &bob.user).await;
    wait_for(&p.cb, &bob.user, &mut cb, |e| e.client == bob2).await;
    // identifierQuery.
    p.cb.profile(
        &ProfileRequest {
            user: bob.user.clone(),
            target: alice.user.clone(),
        },
        T,
    )
    .await
    .expect("profile");
    // reportAbuse.
    p.cb.report_abuse(
        &report_req(&bob.user, &room, &[&sent.message_id], &alice.user),
        T,
    )
    .await
    .expect("report_abuse");
    // requestConsent and updateConsent.
    let carol = consent_user(&p.cb, "carol").await;
    p.ca.consent_request(
        "request_consent",
        &ConsentRequestRequest {
            actor: alice.user.clone(),
            target: carol.user.clone(),
            room: None,
        },
        T,
    )
    .await
    .expect("request_consent");
    consent_update(&p.cb, "grant_consent", &carol.user, &alice.user, None).await;
    // Proposals: bob leaves (SelfRemove through the hub), alice commits them.
    let left =
        p.cb.leave(
            &LeaveRequest {
                room: room.clone(),
                actor: bob.user.clone(),
            },
            T,
        )
        .await
        .expect("leave");
    wait_for(&p.ca, &alice.user, &mut ca, |e| {
        e.kind == EventKind::EpochChanged { epoch: left.epoch }
    })
    .await;

    // Fan-outs run in the background: await their answers (bounded).
    let deadline = tokio::time::Instant::now() + T;
    let exchanges = loop {
        let (x, unanswered) = captured(&p);
        if unanswered == 0 || tokio::time::Instant::now() > deadline {
            break x;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };

    let hub = p.launcher.ca().issue("b.example").unwrap();
    let http = mimi_http(
        &hub,
        p.launcher.ca().cert_pem(),
        "a.example",
        p.a.mimi_url(),
    );
    let port = p.a.mimi_url().rsplit(':').next().unwrap();
    let directory = http
        .get(format!(
            "https://a.example:{port}/.well-known/mimi-protocol-directory"
        ))
        .header("From", "mimi@b.example")
        .send()
        .await
        .expect("directory")
        .bytes()
        .await
        .expect("directory body")
        .to_vec();
    (exchanges, directory)
}

/// Every exchange between two reference providers decodes exactly, every
/// body re-encodes to the same bytes (also through its readable form), and
/// together they cover every request and response structure the reference
/// uses between providers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_exchanges_decode_and_round_trip() {
    let (exchanges, directory) = exchange_everything().await;
    assert!(exchanges.len() >= 12, "only {} exchanges", exchanges.len());
    let mut first: BTreeMap<&'static str, (Structure, Vec<u8>)> = BTreeMap::new();
    let (mut proposal_bundles, mut proposal_fanouts) = (0, 0);
    let mut keep = |s: Structure, b: &[u8]| {
        first.entry(s.cli_name()).or_insert_with(|| (s, b.to_vec()));
    };
    for x in &exchanges {
        let d = decode_exchange(&HttpExchange {
            method: &x.method,
            path: &x.path,
            request: &x.request,
            status: x.status,
            response: &x.response,
        });
        assert!(d.decoded(), "{}\n{:#?}", d.summary, d.findings);
        assert!(d.findings.is_empty(), "{}: {:#?}", d.summary, d.findings);
        let route = d.route.as_ref().unwrap();
        assert!(route.variants.is_empty(), "{}", d.summary);
        if let (Some(s), Some(_)) = (route.endpoint.request(), &d.request) {
            assert_round_trip(s, &x.request);
            keep(s, &x.request);
        }
        if let (Some(s), Some(_)) = (route.endpoint.response(), &d.response) {
            assert_round_trip(s, &x.response);
            keep(s, &x.response);
        }
        // The MLS objects inside, on their own.
        match &d.request {
            Some(Body::Notify(ms)) => {
                for m in ms {
                    if let FanoutTail::Proposal { .. } = m.tail {
                        proposal_fanouts += 1;
                    }
                    let one = protocol::encode(m);
                    assert_round_trip(Structure::FanoutMessage, &one);
                    keep(Structure::FanoutMessage, &one);
                    assert_round_trip(Structure::MlsMessage, m.message.bytes());
                    if let FanoutTail::Welcome { .. } = m.tail {
                        keep(Structure::Welcome, &m.message.bytes()[4..]);
                    }
                }
            }
            Some(Body::SubmitMessageRequest(r)) => {
                keep(Structure::MlsMessage, r.app_message.bytes())
            }
            Some(Body::UpdateRequest(HandshakeBundle::Commit { group_info, .. })) => {
                let protocol::GroupInfoOption::Full(gi) = group_info;
                keep(Structure::GroupInfo, gi.bytes());
            }
            Some(Body::UpdateRequest(HandshakeBundle::Proposal { .. })) => proposal_bundles += 1,
            _ => {}
        }
        if let Some(Body::KeyMaterialResponse(r)) = &d.response
            && let Some(protocol::ClientKeyMaterialBody::Success(kp)) =
                r.clients.first().map(|c| &c.body)
        {
            keep(Structure::KeyPackage, kp.bytes());
        }
    }
    assert!(proposal_bundles > 0, "no proposal sent to the hub");
    assert!(proposal_fanouts > 0, "no proposal fanned out");
    let dir = assert_round_trip(Structure::Directory, &directory);
    assert!(dir.findings().is_empty(), "{:?}", dir.findings());
    keep(Structure::Directory, &directory);
    for s in [
        Structure::Directory,
        Structure::KeyMaterialRequest,
        Structure::KeyMaterialResponse,
        Structure::UpdateRequest,
        Structure::UpdateRoomResponse,
        Structure::SubmitMessageRequest,
        Structure::SubmitMessageResponse,
        Structure::Notify,
        Structure::FanoutMessage,
        Structure::GroupInfoRequest,
        Structure::GroupInfoResponse,
        Structure::IdentifierRequest,
        Structure::IdentifierResponse,
        Structure::ConsentEntry,
        Structure::AbuseReport,
        Structure::MlsMessage,
        Structure::KeyPackage,
        Structure::Welcome,
        Structure::GroupInfo,
    ] {
        assert!(
            first.contains_key(s.cli_name()),
            "no {} on the wire",
            s.cli_name()
        );
    }
    for (s, b) in first.values() {
        assert_round_trip(*s, b);
    }
    if std::env::var_os("UPDATE_PROTOCOL_FIXTURES").is_some() {
        std::fs::create_dir_all(fixtures()).unwrap();
        for (name, (s, b)) in &first {
            let ext = if *s == Structure::Directory {
                "json"
            } else {
                "bin"
            };
            std::fs::write(fixtures().join(format!("{name}.{ext}")), b).unwrap();
        }
    }
}
