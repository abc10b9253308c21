//! Integration tests: the MIMI protocol codec (`src/protocol/`) on the bodies
//! two reference providers really exchange, on the drafts' examples, on
//! broken input, and through `mimi-interop protocol decode|encode`.
//!
//! `fixtures/protocol/*.bin` are bodies captured from a reference exchange:
//! `UPDATE_PROTOCOL_FIXTURES=1 cargo test --test it protocol::live` rewrites
//! them (their keys and signatures change each time; review the snapshots).

mod cli;
mod drafts;
mod errors;
mod live;
mod mls;

use mimi_interop::protocol::{self, Body, Structure};
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
