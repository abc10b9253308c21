//! Exact decoding: where and why a body is refused; no panic on any input.

use super::{Structure, binary_fixtures, fixture, protocol};
use mimi_interop::protocol::{DecodeErrorKind, HttpExchange, decode_exchange};
use proptest::prelude::*;

pub(super) fn err(s: Structure, bytes: &[u8]) -> protocol::DecodeError {
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
