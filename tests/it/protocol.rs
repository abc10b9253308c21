//! Integration tests: the MIMI protocol codec (`src/protocol/`) on the bodies
//! two reference providers really exchange, on the drafts' examples, on
//! broken input, and through `mimi-interop protocol decode|encode`.
//!
//! `fixtures/protocol/*.bin` are bodies captured from a reference exchange:
//! `UPDATE_PROTOCOL_FIXTURES=1 cargo test --test it protocol::live` rewrites
//! them (their keys and signatures change each time; review the snapshots).

use crate::abuse::{report_req, send_text};
use crate::consent::{consent_user, update as consent_update};
use crate::reference::{
    Pair, T, add_client, message_from, mimi_http, pair, record, room_with_bob, send_raw, wait_for,
};
use mimi_interop::control::api::*;
use mimi_interop::protocol::cli::{self, ProtocolCommand};
use mimi_interop::protocol::{
    self, Body, DecodeErrorKind, Endpoint, FanoutTail, HandshakeBundle, HttpExchange, PathVariant,
    RouteError, Structure, decode_exchange,
};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/protocol")
}

fn fixture(name: &str) -> Vec<u8> {
    let path = fixtures().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every `.bin` fixture with the structure its name gives.
fn binary_fixtures() -> Vec<(Structure, Vec<u8>)> {
    let mut out = Vec::new();
    for s in Structure::ALL {
        let path = fixtures().join(format!("{}.bin", s.cli_name()));
        if let Ok(b) = std::fs::read(&path) {
            out.push((s, b));
        }
    }
    out
}

/// Encode(decode(x)) == x, also through the readable form.
fn assert_round_trip(s: Structure, bytes: &[u8]) -> Body {
    let body = s
        .decode(bytes)
        .unwrap_or_else(|e| panic!("{}: {e}", s.cli_name()));
    if s != Structure::Directory {
        assert_eq!(body.encode().unwrap(), bytes, "{} re-encodes", s.cli_name());
    }
    let again = s
        .from_readable(body.readable())
        .unwrap_or_else(|e| panic!("{} readable: {e}", s.cli_name()));
    assert_eq!(again, body, "{} survives its readable form", s.cli_name());
    if s != Structure::Directory {
        assert_eq!(again.encode().unwrap(), bytes);
    }
    body
}

// ---------------------------------------------------------------- live

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

// ---------------------------------------------------------------- MLS summaries

#[test]
fn mls_framing_is_summarized_from_the_fixtures() {
    let notify = Structure::Notify.decode(&fixture("notify.bin")).unwrap();
    let Body::Notify(ms) = &notify else { panic!() };
    let summary = protocol::mls::summarize_message(ms[0].message.bytes()).unwrap();
    match summary {
        protocol::mls::MessageSummary::PublicMessage(p) => {
            assert_eq!(p.content_type, "commit");
            assert!(
                p.proposals
                    .iter()
                    .any(|q| q.proposal_type.as_deref() == Some("add"))
            );
            assert!(p.has_path.is_some());
        }
        other => panic!("first fan-out is {other:?}"),
    }
    let kp = protocol::mls::summarize_key_package(&fixture("key-package.bin")).unwrap();
    assert_eq!(kp.cipher_suite, 1);
    assert!(
        kp.credential.identity.starts_with("mimi://b.example/d/"),
        "{kp:?}"
    );
    let kp_ref = kp.reference.unwrap();
    // The Welcome names the KeyPackage the hub claimed for bob.
    let w = protocol::mls::summarize_welcome(&fixture("welcome.bin")).unwrap();
    assert_eq!(w.secrets, 1);
    assert_eq!(w.key_package_refs, vec![kp_ref]);
    let gi = protocol::mls::summarize_group_info(&fixture("group-info.bin")).unwrap();
    assert!(gi.epoch >= 1);
    let sub = Structure::SubmitMessageRequest
        .decode(&fixture("submit-message-request.bin"))
        .unwrap();
    let Body::SubmitMessageRequest(r) = sub else {
        panic!()
    };
    match protocol::mls::summarize_message(r.app_message.bytes()).unwrap() {
        protocol::mls::MessageSummary::PrivateMessage(p) => {
            assert_eq!(p.content_type, "application");
            assert_eq!(p.group_id, gi.group_id);
        }
        other => panic!("appMessage is {other:?}"),
    }
}

/// Summaries of handshakes openmls builds directly: an Add names the
/// KeyPackageRef openmls computes, a Remove its leaf, a proposal its sender.
#[test]
fn mls_summaries_match_openmls() {
    use openmls::prelude::{tls_codec::Serialize as _, *};
    use openmls_basic_credential::SignatureKeyPair;
    use openmls_rust_crypto::OpenMlsRustCrypto;
    use protocol::mls::{MessageSummary, SenderSummary, summarize_message};
    let cs = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;
    let member = |name: &str| {
        let provider = OpenMlsRustCrypto::default();
        let signer = SignatureKeyPair::new(cs.signature_algorithm()).unwrap();
        signer.store(provider.storage()).unwrap();
        let cred = CredentialWithKey {
            credential: BasicCredential::new(name.as_bytes().to_vec()).into(),
            signature_key: signer.public().into(),
        };
        (provider, signer, cred)
    };
    let (ap, asg, acred) = member("mimi://a.example/d/alice-1");
    let (bp, bsg, bcred) = member("mimi://b.example/d/bob-1");
    let kpb = KeyPackage::builder().build(cs, &bp, &bsg, bcred).unwrap();
    let kp_ref = hex::encode(kpb.key_package().hash_ref(bp.crypto()).unwrap().as_slice());
    let kp_bytes = kpb.key_package().tls_serialize_detached().unwrap();
    let kp_sum = protocol::mls::summarize_key_package(&kp_bytes).unwrap();
    assert_eq!(kp_sum.reference.as_deref(), Some(kp_ref.as_str()));
    assert_eq!(kp_sum.credential.identity, "mimi://b.example/d/bob-1");
    let cfg = MlsGroupCreateConfig::builder()
        .ciphersuite(cs)
        .wire_format_policy(PURE_PLAINTEXT_WIRE_FORMAT_POLICY)
        .build();
    let mut g = MlsGroup::new(&ap, &asg, &cfg, acred).unwrap();
    let (commit, welcome, _) = g
        .add_members(&ap, &asg, &[kpb.key_package().clone()])
        .unwrap();
    g.merge_pending_commit(&ap).unwrap();
    let public = |m: &MlsMessageOut| match summarize_message(&m.tls_serialize_detached().unwrap()) {
        Some(MessageSummary::PublicMessage(p)) => p,
        other => panic!("{other:?}"),
    };
    let add = public(&commit);
    assert_eq!((add.content_type, add.epoch), ("commit", 0));
    assert_eq!(add.sender, SenderSummary::Member { leaf_index: 0 });
    assert_eq!(add.proposals.len(), 1);
    assert_eq!(add.proposals[0].proposal_type.as_deref(), Some("add"));
    assert_eq!(
        add.proposals[0].key_package_ref.as_deref(),
        Some(kp_ref.as_str())
    );
    match summarize_message(&welcome.tls_serialize_detached().unwrap()) {
        Some(MessageSummary::Welcome(w)) => assert_eq!(w.key_package_refs, vec![kp_ref]),
        other => panic!("{other:?}"),
    }
    let proposal = g
        .propose_remove_member(&ap, &asg, LeafNodeIndex::new(1))
        .unwrap()
        .0;
    let p = public(&proposal);
    assert_eq!((p.content_type, p.epoch), ("proposal", 1));
    assert_eq!(p.proposals[0].removed, Some(1));
    g.clear_pending_proposals(ap.storage()).unwrap();
    let (remove, _, _) = g
        .remove_members(&ap, &asg, &[LeafNodeIndex::new(1)])
        .unwrap();
    let r = public(&remove);
    assert_eq!(r.proposals.len(), 1);
    assert_eq!(r.proposals[0].proposal_type.as_deref(), Some("remove"));
    assert_eq!(r.proposals[0].removed, Some(1));
    assert_eq!(r.has_path, Some(true));
}

// ---------------------------------------------------------------- round trips

#[test]
fn every_fixture_round_trips() {
    let all = binary_fixtures();
    assert!(all.len() >= 18, "only {} fixtures", all.len());
    for (s, b) in all {
        assert_round_trip(s, &b);
    }
    assert_round_trip(Structure::Directory, &fixture("directory.json"));
}

/// Response codes and variants a two-provider run does not produce.
#[test]
fn synthetic_variants_round_trip() {
    use protocol::*;
    use tls_codec::VLBytes;
    let b = |s: &str| VLBytes::new(s.as_bytes().to_vec());
    let bodies: Vec<(Structure, Vec<u8>)> = vec![
        (
            Structure::UpdateRoomResponse,
            encode(&UpdateRoomResponse {
                error_description: "ünïcode".into(),
                outcome: UpdateOutcome::InvalidProposal {
                    invalid_proposals: vec![VLBytes::new(vec![7; 32])],
                },
            }),
        ),
        (
            Structure::UpdateRoomResponse,
            encode(&UpdateRoomResponse {
                error_description: String::new(),
                outcome: UpdateOutcome::WrongEpoch { current_epoch: 9 },
            }),
        ),
        (
            Structure::SubmitMessageResponse,
            encode(&SubmitMessageResponse::EpochTooOld { current_epoch: 4 }),
        ),
        (
            Structure::SubmitMessageResponse,
            encode(&SubmitMessageResponse::NotAllowed),
        ),
        (
            Structure::GroupInfoResponse,
            encode(&GroupInfoResponse::Failure {
                room_id: b("mimi://a.example/r/x"),
                status: group_info_code::NOT_AUTHORIZED,
            }),
        ),
        (
            Structure::KeyMaterialResponse,
            encode(&KeyMaterialResponse {
                protocol: PROTOCOL_MLS10,
                user_status: user_code::NO_COMPATIBLE_MATERIAL,
                user_uri: b("mimi://b.example/u/bob"),
                clients: vec![
                    ClientKeyMaterial {
                        client_uri: b("mimi://b.example/d/bob-1"),
                        body: ClientKeyMaterialBody::KeyMaterialExhausted,
                    },
                    ClientKeyMaterial {
                        client_uri: VLBytes::new(vec![0xff, 0xfe]),
                        body: ClientKeyMaterialBody::NothingCompatible(None),
                    },
                ],
            }),
        ),
        (
            Structure::IdentifierRequest,
            encode(&IdentifierRequest {
                query_elements: vec![QueryElement {
                    search_type: search_type::VCARD_FIELD,
                    name: Some(b("FN")),
                    search_value: b("Bob"),
                }],
                id_request_extensions: vec![Component {
                    component_id: 0x8001,
                    data: VLBytes::new(vec![1, 2]),
                }],
            }),
        ),
        (
            Structure::ConsentEntry,
            encode(&ConsentEntry {
                operation: ConsentOperation::Revoke,
                requester_uri: b("mimi://a.example/u/alice"),
                target_uri: b("mimi://b.example/u/bob"),
                room_id: Some(b("mimi://a.example/r/club")),
                client_key_packages: Vec::new(),
                consent_extensions: Vec::new(),
            }),
        ),
    ];
    for (s, bytes) in bodies {
        assert_round_trip(s, &bytes);
    }
    // A grant carries KeyPackages: the live fixture's.
    let kp = protocol::Raw::from_bytes(fixture("key-package.bin"));
    let grant = encode(&ConsentEntry {
        operation: ConsentOperation::Grant,
        requester_uri: b("mimi://a.example/u/alice"),
        target_uri: b("mimi://b.example/u/bob"),
        room_id: None,
        client_key_packages: vec![kp],
        consent_extensions: Vec::new(),
    });
    assert_round_trip(Structure::ConsentEntry, &grant);
    // The GroupInfo and tree the hub encrypts to a joiner, from a commit's.
    let Body::UpdateRequest(HandshakeBundle::Commit {
        commit,
        group_info: GroupInfoOption::Full(gi),
        ratchet_tree,
        ..
    }) = Structure::UpdateRequest
        .decode(&fixture("update-request.bin"))
        .unwrap()
    else {
        panic!("update-request.bin is a commit")
    };
    let tbe = encode(&GroupInfoRatchetTreeTbe {
        group_info: gi,
        ratchet_tree,
        pending_proposals: vec![PendingProposal {
            proposal: commit,
            hub_accepted_time: 1_700_000_000_000,
        }],
    });
    assert_round_trip(Structure::GroupInfoRatchetTreeTbe, &tbe);
}

// ---------------------------------------------------------------- exact decoding

fn err(s: Structure, bytes: &[u8]) -> protocol::DecodeError {
    s.decode(bytes).expect_err("must not decode")
}

#[test]
fn truncation_and_trailing_bytes_name_the_field() {
    let sub = fixture("submit-message-request.bin");
    // Cut inside appMessage (after protocol, within the MLSMessage).
    let cut = &sub[..20];
    let e = err(Structure::SubmitMessageRequest, cut);
    assert_eq!(e.path, "SubmitMessageRequest.appMessage");
    assert_eq!(e.kind, DecodeErrorKind::Truncated);
    assert_eq!(
        e.to_string(),
        "SubmitMessageRequest.appMessage: truncated at byte 20"
    );
    // Cut inside sendingUri (the last field).
    let e = err(Structure::SubmitMessageRequest, &sub[..sub.len() - 1]);
    assert_eq!(e.path, "SubmitMessageRequest.sendingUri");
    let mut longer = sub.clone();
    longer.push(0);
    let e = err(Structure::SubmitMessageRequest, &longer);
    assert_eq!(e.path, "SubmitMessageRequest");
    assert_eq!(e.kind, DecodeErrorKind::TrailingBytes { count: 1 });
    assert_eq!(e.offset, sub.len());
    // Every strict prefix of every fixture is refused, never accepted.
    for (s, b) in binary_fixtures() {
        for n in 0..b.len() {
            if s == Structure::Notify && n > 0 && Structure::Notify.decode(&b[..n]).is_ok() {
                // A notify body is a sequence; a prefix may end between messages.
                continue;
            }
            assert!(s.decode(&b[..n]).is_err(), "{} prefix {n}", s.cli_name());
        }
    }
}

#[test]
fn unknown_enum_values_are_refused_with_their_name() {
    let e = err(Structure::SubmitMessageResponse, &[1, 9]);
    assert_eq!(
        e.to_string(),
        "SubmitMessageResponse.statusCode: unknown SubmitResponseCode 9 at byte 1"
    );
    let e = err(Structure::SubmitMessageResponse, &[2, 0]);
    assert_eq!(
        e.to_string(),
        "SubmitMessageResponse.protocol: unknown Protocol 2 at byte 0"
    );
    // KeyMaterialResponse: protocol, success, empty userUri, clients<V> of
    // two: exhausted with uri "x", then an undefined client code.
    let body = [1, 0, 0, 5, 1, 1, b'x', 7, 0];
    let e = err(Structure::KeyMaterialResponse, &body);
    assert_eq!(e.path, "KeyMaterialResponse.clients[1].clientStatus");
    assert_eq!(
        e.kind,
        DecodeErrorKind::UnknownValue {
            what: "KeyMaterialClientCode",
            value: 7
        }
    );
    assert_eq!(e.offset, 7);
    let e = err(Structure::ConsentEntry, &[4, 0, 0, 0, 0]);
    assert_eq!(e.path, "ConsentEntry.consentOperation");
    // optional<> presence must be 0 or 1.
    let e = err(Structure::ConsentEntry, &[1, 0, 0, 2, 0]);
    assert_eq!(e.path, "ConsentEntry.roomId");
    assert!(matches!(
        e.kind,
        DecodeErrorKind::UnknownValue {
            what: "optional presence",
            value: 2
        }
    ));
    // A representation the codec does not implement says so.
    let e = err(
        Structure::GroupInfoRatchetTreeTbe,
        &fixture_tbe_with_partial(),
    );
    assert!(matches!(e.kind, DecodeErrorKind::Unsupported(_)), "{e}");
}

/// A GroupInfoRatchetTreeTBE whose RatchetTreeOption is not `full`.
fn fixture_tbe_with_partial() -> Vec<u8> {
    let mut b = fixture("group-info.bin");
    b.push(2);
    b
}

#[test]
fn oversized_vector_lengths_are_refused_where_they_are() {
    // userUri claims 63 bytes; 2 remain.
    let e = err(Structure::KeyMaterialResponse, &[1, 0, 0x3f, b'a', b'b']);
    assert_eq!(
        e.to_string(),
        "KeyMaterialResponse.userUri: vector length 63 exceeds the 2 byte(s) left at byte 2"
    );
    // A four-byte varint claiming ~1 GiB.
    let e = err(Structure::AbuseReport, &[0xbf, 0xff, 0xff, 0xff]);
    assert_eq!(e.path, "AbuseReport.reportingUser");
    assert!(matches!(e.kind, DecodeErrorKind::VectorTooLong { .. }));
    // The 0b11 prefix and non-minimal lengths are not RFC 9420 varints.
    let e = err(Structure::AbuseReport, &[0xc0, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(e.kind, DecodeErrorKind::BadVarint);
    let e = err(Structure::AbuseReport, &[0x40, 0x01, b'x']);
    assert_eq!(e.kind, DecodeErrorKind::BadVarint);
    // An element that overruns its vector is truncated at the vector's end.
    let e = err(Structure::IdentifierResponse, &[0, 1, 1, b'a', 0, 0]);
    assert_eq!(e.path, "IdentifierResponse.uri[0]");
    assert_eq!(
        e.kind,
        DecodeErrorKind::VectorTooLong {
            declared: 1,
            available: 0
        }
    );
}

#[test]
fn notify_errors_name_the_fanout_message() {
    let one = fixture("fanout-message.bin");
    let mut two = one.clone();
    two.extend_from_slice(&one[..one.len() - 1]);
    let e = err(Structure::Notify, &two);
    assert!(e.path.starts_with("notify[1]."), "{e}");
    assert!(
        err(Structure::Notify, &[])
            .to_string()
            .contains("empty notify body")
    );
    let e = err(Structure::FanoutMessage, &two);
    assert_eq!(
        e.kind,
        DecodeErrorKind::TrailingBytes {
            count: one.len() - 1
        }
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    /// Any bytes: every decoder and decode_exchange answer without a panic.
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        for s in Structure::ALL {
            let _ = s.decode(&bytes);
        }
        for path in ["/v1/notify/a.example/r/x", "/v1/keyMaterial/b.example/u/bob",
                     "/v1/submit/a", "/v1/updatea.example/r/x", "/.well-known/mimi-protocol-directory"] {
            let method = if path.starts_with("/.") { "GET" } else { "POST" };
            let d = decode_exchange(&HttpExchange {
                method, path, request: &bytes, status: 200, response: &bytes,
            });
            prop_assert!(!d.summary.is_empty());
        }
    }

    /// Fixtures with one byte changed: decoded or refused, never a panic,
    /// and what decodes re-encodes to the same bytes.
    #[test]
    fn mutated_fixtures_never_panic(pick in 0usize..64, at in any::<usize>(), byte in any::<u8>()) {
        let all = binary_fixtures();
        let (s, mut b) = all[pick % all.len()].clone();
        let i = at % b.len();
        b[i] = byte;
        if let Ok(body) = s.decode(&b) {
            prop_assert_eq!(body.encode().unwrap(), b);
        }
    }
}

// ---------------------------------------------------------------- the drafts' examples

/// The directory example of protocol-06 §5.1, verbatim: it lacks the colon
/// after "proxyDownload", so it is not JSON; the decoder says where.
#[test]
fn the_drafts_directory_example() {
    let verbatim = fixture("draft-directory-verbatim.json");
    let e = err(Structure::Directory, &verbatim);
    let text = String::from_utf8_lossy(&verbatim);
    let line = text
        .lines()
        .position(|l| l.contains("\"proxyDownload\""))
        .unwrap();
    let line_start: usize = text.lines().take(line + 1).map(|l| l.len() + 1).sum();
    assert!(
        e.offset >= line_start,
        "{e} (line {} starts at {line_start})",
        line + 1
    );
    // With the colon it decodes; the `update{roomId}` form is reported.
    let fixed = fixture("draft-directory.json");
    let body = assert_round_trip(Structure::Directory, &fixed);
    let Body::Directory(d) = &body else { panic!() };
    assert_eq!(d.update, "https://mimi.example.com/v1/update{roomId}");
    let codes: Vec<&str> = body.findings().iter().map(|f| f.code).collect();
    assert_eq!(codes, ["path-variant"]);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&fixed).unwrap(),
        body.readable()
    );
}

/// The paths the drafts use (directory, §5 headings, example flows) all
/// reach their endpoint; the variants are reported.
#[test]
fn the_drafts_path_variants_route() {
    let r = |m, p| protocol::route(m, p);
    fn ok(m: &str, p: &str, e: Endpoint, subject: &str, v: &[PathVariant]) {
        let got = protocol::route(m, p).unwrap_or_else(|e| panic!("{p}: {e}"));
        assert_eq!(
            (got.endpoint, got.subject.as_str(), &got.variants[..]),
            (e, subject, v),
            "{p}"
        );
    }
    ok(
        "POST",
        "/v1/submitMessage/a.example/r/club",
        Endpoint::SubmitMessage,
        "a.example/r/club",
        &[],
    );
    ok(
        "POST",
        "/v1/submit/a.example/r/club",
        Endpoint::SubmitMessage,
        "a.example/r/club",
        &[PathVariant::Submit],
    );
    ok(
        "POST",
        "/v1/update/a.example/r/club",
        Endpoint::Update,
        "a.example/r/club",
        &[],
    );
    ok(
        "POST",
        "/v1/updatemimi%3A%2F%2Fa.example%2Fr%2Fclub",
        Endpoint::Update,
        "mimi%3A%2F%2Fa.example%2Fr%2Fclub",
        &[PathVariant::UpdateNoSlash],
    );
    ok(
        "POST",
        "/notify/a.example/r/clubhouse",
        Endpoint::Notify,
        "a.example/r/clubhouse",
        &[PathVariant::Unversioned],
    );
    ok(
        "POST",
        "/groupInfo/a.example/clubhouse",
        Endpoint::GroupInfo,
        "a.example/clubhouse",
        &[PathVariant::Unversioned],
    );
    ok(
        "POST",
        "/v1/keyMaterial/b.example/u/bob",
        Endpoint::KeyMaterial,
        "b.example/u/bob",
        &[],
    );
    ok(
        "POST",
        "/v1/requestConsent/b.example",
        Endpoint::RequestConsent,
        "b.example",
        &[],
    );
    ok(
        "POST",
        "/v1/updateConsent/a.example",
        Endpoint::UpdateConsent,
        "a.example",
        &[],
    );
    ok(
        "POST",
        "/v1/identifierQuery/b.example",
        Endpoint::IdentifierQuery,
        "b.example",
        &[],
    );
    ok(
        "POST",
        "/v1/reportAbuse/a.example/r/club",
        Endpoint::ReportAbuse,
        "a.example/r/club",
        &[],
    );
    let enc = protocol::encode_download_url("https://b.example/v1/assets/0a?x=1");
    ok(
        "GET",
        &format!("/v1/proxyDownload/{enc}"),
        Endpoint::ProxyDownload,
        &enc,
        &[],
    );
    ok(
        "GET",
        "/v1/proxyDownload/https://b.example/v1/assets/0a",
        Endpoint::ProxyDownload,
        "https://b.example/v1/assets/0a",
        &[PathVariant::RawDownloadUrl],
    );
    ok(
        "GET",
        "/.well-known/mimi-protocol-directory",
        Endpoint::Directory,
        "",
        &[],
    );
    assert!(matches!(
        r("POST", "/v1/frobnicate/x"),
        Err(RouteError::UnknownPath(_))
    ));
    assert!(matches!(
        r("GET", "/v1/notify/a.example/r/x"),
        Err(RouteError::WrongMethod { .. })
    ));
    assert!(matches!(
        r("POST", "/v1/notify/"),
        Err(RouteError::MissingSubject("notify"))
    ));

    // decode_exchange reports the variant and still decodes the body.
    let sub = fixture("submit-message-request.bin");
    let resp = fixture("submit-message-response.bin");
    let d = decode_exchange(&HttpExchange {
        method: "POST",
        path: "/v1/submit/a.example/r/club",
        request: &sub,
        status: 200,
        response: &resp,
    });
    assert!(d.decoded(), "{:?}", d.findings);
    assert_eq!(d.findings.len(), 1);
    assert_eq!(d.findings[0].code, "path-variant");
    assert!(
        d.summary
            .starts_with("POST submitMessage a.example/r/club → 200: submitMessage from "),
        "{}",
        d.summary
    );
    let url = "https://b.example/v1/assets/0a?x=1";
    let d = decode_exchange(&HttpExchange {
        method: "GET",
        path: &format!("/v1/proxyDownload/{}", protocol::encode_download_url(url)),
        request: &[],
        status: 200,
        response: b"ciphertext",
    });
    assert!(d.decoded());
    assert!(
        d.summary.contains(&format!("download {url}")),
        "{}",
        d.summary
    );
}

/// The §5.4.1 extensions-map example's URIs in a ServerFrankingContext: two
/// `IdentifierUri`s (opaque<V>) and the uint64 timestamp.
#[test]
fn the_franking_examples_uris_in_a_server_franking_context() {
    let ctx = protocol::ServerFrankingContext {
        sender_uri: b"mimi://b.example/u/alice".to_vec().into(),
        room_uri: b"mimi://hub.example/r/Rl33FWLCYWOwxHrYnpWDQg"
            .to_vec()
            .into(),
        accepted_timestamp: 1_700_000_000_000,
    };
    let bytes = protocol::encode(&ctx);
    assert_eq!(bytes[0] as usize, "mimi://b.example/u/alice".len());
    assert_eq!(
        bytes[25] as usize,
        "mimi://hub.example/r/Rl33FWLCYWOwxHrYnpWDQg".len()
    );
    assert_eq!(
        &bytes[bytes.len() - 8..],
        &1_700_000_000_000u64.to_be_bytes()
    );
    assert_eq!(bytes.len(), 1 + 24 + 1 + 43 + 8);
}

// ---------------------------------------------------------------- CLI

fn run_cli(cmd: ProtocolCommand, stdin: &[u8]) -> (i32, Vec<u8>, String) {
    let (mut out, mut errs) = (Vec::new(), Vec::new());
    let code = cli::run_with(cmd, &mut &stdin[..], &mut out, &mut errs);
    (code, out, String::from_utf8(errs).unwrap())
}

fn decode_cmd(s: Structure, file: &str) -> ProtocolCommand {
    ProtocolCommand::Decode {
        file: file.into(),
        structure: s,
        hex: false,
        summary: false,
    }
}

fn encode_cmd(s: Structure) -> ProtocolCommand {
    ProtocolCommand::Encode {
        file: "-".into(),
        structure: s,
        output: None,
        hex: false,
    }
}

/// `protocol decode` then `protocol encode` gives every fixture back.
#[test]
fn cli_decode_then_encode_gives_the_bytes_back() {
    for (s, b) in binary_fixtures() {
        let path = fixtures().join(format!("{}.bin", s.cli_name()));
        let (code, out, errs) = run_cli(decode_cmd(s, path.to_str().unwrap()), &[]);
        assert_eq!(code, 0, "{}: {errs}", s.cli_name());
        let (code, bytes, errs) = run_cli(encode_cmd(s), &out);
        assert_eq!(code, 0, "{}: {errs}", s.cli_name());
        assert_eq!(bytes, b, "{}", s.cli_name());
    }
}

#[test]
fn cli_decode_errors_exit_1_with_the_path() {
    let sub = fixture("submit-message-request.bin");
    let (code, out, errs) = run_cli(decode_cmd(Structure::SubmitMessageRequest, "-"), &sub[..20]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert_eq!(
        errs,
        "invalid: SubmitMessageRequest.appMessage: truncated at byte 20\n"
    );
    let (code, _, errs) = run_cli(
        ProtocolCommand::Decode {
            file: "-".into(),
            structure: Structure::SubmitMessageRequest,
            hex: true,
            summary: false,
        },
        b"zz",
    );
    assert_eq!(code, 2, "{errs}");
    // Encoding refuses a readable form whose MLS bytes are not the object.
    let (_, out, _) = run_cli(
        decode_cmd(
            Structure::SubmitMessageRequest,
            fixtures()
                .join("submit-message-request.bin")
                .to_str()
                .unwrap(),
        ),
        &[],
    );
    let mut v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    v["appMessage"]["bytes"] = "AAEC".into();
    let (code, _, errs) = run_cli(
        encode_cmd(Structure::SubmitMessageRequest),
        v.to_string().as_bytes(),
    );
    assert_eq!(code, 1);
    assert!(
        errs.contains("appMessage") || errs.contains("MlsMessageIn"),
        "{errs}"
    );
}

/// The readable form of a submitMessage request and of a key-material
/// response (a KeyPackage summarized), and every fixture's summary line.
#[test]
fn cli_readable_forms() {
    for s in [
        Structure::SubmitMessageRequest,
        Structure::KeyMaterialResponse,
        Structure::UpdateRequest,
    ] {
        let path = fixtures().join(format!("{}.bin", s.cli_name()));
        let (code, out, errs) = run_cli(decode_cmd(s, path.to_str().unwrap()), &[]);
        assert_eq!(code, 0, "{errs}");
        insta::assert_snapshot!(
            format!("readable_{}", s.cli_name()),
            String::from_utf8(out).unwrap()
        );
    }
    let mut lines = Vec::new();
    for (s, _) in binary_fixtures() {
        let path = fixtures().join(format!("{}.bin", s.cli_name()));
        let (code, out, errs) = run_cli(
            ProtocolCommand::Decode {
                file: path.to_str().unwrap().into(),
                structure: s,
                hex: false,
                summary: true,
            },
            &[],
        );
        assert_eq!(code, 0, "{errs}");
        lines.push(format!(
            "{}: {}",
            s.cli_name(),
            String::from_utf8(out).unwrap().trim_end()
        ));
    }
    insta::assert_snapshot!("summaries", lines.join("\n"));
}
