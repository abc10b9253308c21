//! The drafts' examples: the directory, the path forms, the franking URIs.

use super::errors::err;
use super::{Body, Structure, assert_round_trip, fixture, protocol};
use mimi_interop::protocol::{Endpoint, HttpExchange, PathVariant, RouteError, decode_exchange};

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
