//! Integration tests: the MIMI content codec against the draft's vectors,
//! the negative corpus, the readable form, the CLI, and never-panic checks.

use std::path::{Path, PathBuf};

use mimi_interop::content::{
    self, BuildContext, Disposition, FindingKind, IdFormula, MessageId, PartBody, Rule, Timestamp,
    cli, decode, encode, message_id,
};
use serde_json::json;

mod corpus;
mod props;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// The 14 mimiContent vectors (implied-original is MessageDerivedValues).
const VECTORS: [&str; 14] = [
    "original",
    "reply",
    "reaction",
    "mention",
    "mention-html",
    "edit",
    "delete",
    "unlike",
    "expiring",
    "attachment",
    "conferencing",
    "multipart-1",
    "multipart-2",
    "multipart-3",
];

fn vector(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join("content").join(format!("{name}.cbor"))).unwrap()
}

/// The `# message ID = h'…'` comment of a vector's .edn (hex may wrap onto
/// the next comment line).
fn annotated_id(name: &str) -> MessageId {
    let edn =
        std::fs::read_to_string(fixtures().join("content").join(format!("{name}.edn"))).unwrap();
    let start = edn.find("message ID = h'").expect("annotated id") + "message ID = h'".len();
    let rest = &edn[start..];
    let end = rest[..].find("'\n").unwrap();
    let hex: String = rest[..end]
        .chars()
        .filter(|c| c.is_ascii_hexdigit())
        .collect();
    MessageId::from_hex(&hex).expect("64 hex digits")
}

#[test]
fn every_vector_decodes_cleanly_and_reencodes_byte_for_byte() {
    for name in VECTORS {
        let bytes = vector(name);
        let d = decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(d.findings.is_empty(), "{name}: {:?}", d.findings);
        assert_eq!(encode(&d.content), bytes, "{name} re-encodes differently");
    }
}

#[test]
fn every_vector_has_its_annotated_draft08_message_id() {
    for name in VECTORS {
        let bytes = vector(name);
        let c = decode(&bytes).unwrap().content;
        let s = c.extensions.sender_uri().unwrap();
        let r = c.extensions.room_uri().unwrap();
        let id = message_id(IdFormula::Draft08, s, r, &bytes).unwrap();
        assert_eq!(id, annotated_id(name), "{name}");
        assert_eq!(
            content::message_id_from_extensions(IdFormula::Draft08, &bytes).unwrap(),
            id
        );
        let old = message_id(IdFormula::Draft07, s, r, &bytes).unwrap();
        assert_ne!(old, id, "{name}: the -07 formula must differ");
    }
}

#[test]
fn draft07_formula_reproduces_the_older_original_id() {
    let bytes = vector("original");
    let id = message_id(
        IdFormula::Draft07,
        "mimi://example.com/u/alice-smith",
        "mimi://example.com/r/engineering_team",
        &bytes,
    )
    .unwrap()
    .to_hex();
    assert!(id.starts_with("01b0084467"), "{id}");
    assert!(id.ends_with("5a79"), "{id}");
}

#[test]
fn vectors_reference_each_other_by_the_draft08_ids() {
    let id = |n: &str| annotated_id(n);
    let reply = decode(&vector("reply")).unwrap().content;
    assert_eq!(reply.in_reply_to, Some(id("original")));
    let unlike = decode(&vector("unlike")).unwrap().content;
    assert_eq!(unlike.replaces, Some(id("reaction")));
    assert_eq!(unlike.nested_part.body, PartBody::Null);
    assert_eq!(unlike.nested_part.disposition, Disposition::REACTION);
    let edit = decode(&vector("edit")).unwrap().content;
    assert_eq!(edit.replaces, Some(id("reply")));
}

/// Vector quirk: `implied-original.edn` shows the -08 ID of `original`, but
/// `implied-original.cbor` was not regenerated and still carries its -07 ID
/// (which the -07 formula reproduces exactly).
#[test]
fn implied_original_decodes_to_the_derived_values() {
    let bytes = std::fs::read(fixtures().join("content/implied-original.cbor")).unwrap();
    let d = content::decode_derived(&bytes).unwrap();
    let original = vector("original");
    let (s, r) = (
        "mimi://example.com/u/alice-smith",
        "mimi://example.com/r/engineering_team",
    );
    assert_eq!(
        d.message_id,
        message_id(IdFormula::Draft07, s, r, &original).unwrap()
    );
    let edn = std::fs::read_to_string(fixtures().join("content/implied-original.edn")).unwrap();
    let edn_hex: String = edn
        .split("h'")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap()
        .chars()
        .filter(|c| c.is_ascii_hexdigit())
        .collect();
    assert_eq!(
        MessageId::from_hex(&edn_hex),
        Some(message_id(IdFormula::Draft08, s, r, &original).unwrap())
    );
    assert_eq!(d.hub_accepted_timestamp, Timestamp::Msecs(1644387225019));
    assert_eq!(
        hex::encode(&d.mls_group_id),
        "eeee0d12a7b5b5b781 15ad1a1ddb13811c83fd7387c43e66799a594beeda26bf".replace(' ', "")
    );
    assert_eq!(d.sender_leaf_index, 4);
    assert_eq!(
        d.sender_client_url,
        "mimi://example.com/d/3b52249d-68f9-45ce-8bf5-c799f3cad7ec/0003"
    );
    assert_eq!(d.sender_user_url, "mimi://example.com/u/alice-smith");
    assert_eq!(d.room_url, "mimi://example.com/r/engineering_team");
    assert_eq!(content::encode_derived(&d), bytes);
}

#[test]
fn status_report_decodes_and_reencodes() {
    let bytes = std::fs::read(fixtures().join("status/status.cbor")).unwrap();
    let d = content::decode_status(&bytes).unwrap();
    assert!(d.findings.is_empty());
    let ids: Vec<_> = d.report.statuses.iter().map(|s| s.message_id).collect();
    assert_eq!(
        ids,
        ["original", "reply", "mention", "expiring"].map(annotated_id)
    );
    let codes: Vec<u8> = d.report.statuses.iter().map(|s| s.status.0).collect();
    assert_eq!(codes, [2, 2, 0, 3]);
    assert_eq!(content::encode_status(&d.report), bytes);
    let readable = content::status_to_readable(&d.report);
    assert_eq!(
        readable[3],
        json!({"id": annotated_id("expiring").to_hex(), "status": "expired"})
    );
    assert_eq!(content::build_status(&readable).unwrap(), bytes);
    let e = content::build_status(&json!([{"id": ID, "status": "lost"}])).unwrap_err();
    assert_eq!(e.to_string(), "$[0].status: unknown status name");
    let unknown = content::build_status(&json!([{"id": ID, "status": 9}])).unwrap();
    let d = content::decode_status(&unknown).unwrap();
    assert_eq!(d.findings.len(), 1);
    assert_eq!(d.findings[0].kind, FindingKind::Info);
}

fn empty_ctx() -> BuildContext {
    BuildContext {
        sender_uri: String::new(),
        room_uri: String::new(),
        timestamp_ms: 0,
        salt: [0; 16],
    }
}

#[test]
fn readable_form_of_every_vector_builds_back_to_the_same_bytes() {
    for name in VECTORS {
        let bytes = vector(name);
        let c = decode(&bytes).unwrap().content;
        let readable = content::to_readable(&c);
        let rebuilt = content::build(&readable, &empty_ctx())
            .unwrap_or_else(|e| panic!("{name}: {e}\n{readable:#}"));
        assert_eq!(rebuilt, bytes, "{name}: {readable:#}");
    }
}

#[test]
fn readable_form_of_vectors_snapshot() {
    let all: serde_json::Map<String, serde_json::Value> = VECTORS
        .iter()
        .map(|n| {
            (
                n.to_string(),
                content::to_readable(&decode(&vector(n)).unwrap().content),
            )
        })
        .collect();
    insta::assert_json_snapshot!("readable_vectors", all);
}

fn ctx() -> BuildContext {
    BuildContext {
        sender_uri: "mimi://example.com/u/alice".into(),
        room_uri: "mimi://example.com/r/team".into(),
        timestamp_ms: 1_700_000_000_123,
        salt: [0x5a; 16],
    }
}

const ID: &str = "017ce54837404c3696e0c747b985cb172716d0ed0a3d249ca63ace7d82a096f4";

/// Intents written in the readable vocabulary come back (decoded, made
/// readable) matching themselves.
#[test]
fn intents_round_trip_through_cbor_to_matching_readable_form() {
    let intents = [
        json!({"text": "hello"}),
        json!({"markdown": "*hi*", "language": "en"}),
        json!({"html": "<b>hi</b>", "language": "en,fr"}),
        json!({"reply_to": ID, "text": "agreed"}),
        json!({"reaction": "👍", "to": ID}),
        json!({"unlike": ID, "to": ID}),
        json!({"edit": ID, "markdown": "fixed"}),
        json!({"delete": ID}),
        json!({"markdown": "hey [@Bob](mimi://example.com/u/bob)", "mentions": ["mimi://example.com/u/bob"]}),
        json!({"text": "bye", "expires": {"relative": 60}}),
        json!({"text": "bye", "expires": {"at": 1700000600u32}}),
        json!({"text": "threaded", "topic": "Foo 118"}),
        json!({"text": "binary topic", "topic_hex": "00ff"}),
        json!({"content_type": "image/png", "content_hex": "89504e47", "disposition": "inline"}),
        json!({"url": "https://example.com/f.mp4", "content_type": "video/mp4", "size": 1234,
               "key": "21399320958a6f4c745dde670d95e0d8", "nonce": "c86cf2c33f21527d1dd76f5b",
               "content_hash": "9ab17a8cf0890baaae7ee016c7312fcc080ba46498389458ee44f0276e783163",
               "filename": "f.mp4", "description": "a video"}),
        json!({"url": "https://example.com/join/1", "disposition": "session", "content_type": ""}),
        json!({"semantics": "chooseOne", "parts": [
            {"markdown": "# Welcome!"},
            {"content_type": "application/vnd.example", "content_hex": "dc86"}
        ]}),
        json!({"to": ID, "disposition": "reaction", "semantics": "processAll", "parts": [
            {"reaction": "❤"}, {"reaction": "🥳"}
        ]}),
        // Extensions read back in canonical key order: 3, -5, "x-private".
        json!({"text": "x", "extensions": [[3, 1700000000u32], [-5, [1, {"tag": 32, "value": "http://e.example"}]], ["x-private", {"hex": "0102"}]]}),
        json!({"text": "unknown dispo", "disposition": 42}),
    ];
    for intent in intents {
        let bytes = content::build(&intent, &ctx()).unwrap_or_else(|e| panic!("{intent}: {e}"));
        let d = decode(&bytes).unwrap_or_else(|e| panic!("{intent}: {e}"));
        assert!(d.is_clean(), "{intent}: {:?}", d.findings);
        let readable = content::to_readable(&d.content);
        content::partial_match(&intent, &readable)
            .unwrap_or_else(|m| panic!("{intent}: {m}\n{readable:#}"));
        assert_eq!(readable["sender"], "mimi://example.com/u/alice");
        assert_eq!(readable["salt"], hex::encode([0x5a; 16]));
    }
}

#[test]
fn build_applies_the_drafts_shapes() {
    let c = content::build_content(&json!({"reaction": "👍", "to": ID}), &ctx()).unwrap();
    assert_eq!(c.nested_part.disposition, Disposition::REACTION);
    assert_eq!(c.in_reply_to, MessageId::from_hex(ID));
    assert_eq!(
        c.nested_part.body,
        PartBody::Single {
            content_type: "text/plain;charset=utf-8".into(),
            content: "👍".as_bytes().to_vec()
        }
    );
    let unlike = content::build_content(&json!({"unlike": ID}), &ctx()).unwrap();
    assert_eq!(unlike.replaces, MessageId::from_hex(ID));
    assert_eq!(unlike.nested_part.body, PartBody::Null);
    assert_eq!(unlike.nested_part.disposition, Disposition::REACTION);
    let delete = content::build_content(&json!({"delete": ID}), &ctx()).unwrap();
    assert_eq!(delete.nested_part.disposition, Disposition::RENDER);
    let e =
        content::build_content(&json!({"text": "t", "expires": {"in": "10m"}}), &ctx()).unwrap();
    assert_eq!(
        e.expires,
        Some(content::Expiration {
            relative: false,
            time: 1_700_000_000 + 600
        })
    );
    let r = content::build_content(&json!({"text": "t", "expires": {"relative": "1h"}}), &ctx())
        .unwrap();
    assert_eq!(r.expires.map(|e| (e.relative, e.time)), Some((true, 3600)));
    let a = content::build_content(&json!({"url": "https://e.example/x", "key": "00112233445566778899aabbccddeeff", "nonce": "000102030405060708090a0b"}), &ctx()).unwrap();
    match a.nested_part.body {
        PartBody::External(x) => {
            assert_eq!((x.enc_alg, x.hash_alg), (1, 0));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(a.nested_part.disposition, Disposition::ATTACHMENT);
}

#[test]
fn build_is_deterministic_and_canonical() {
    let intent = json!({"markdown": "hi", "extensions": [["z", 1], [-1, 2], [300, 3]]});
    let a = content::build(&intent, &ctx()).unwrap();
    let b = content::build(&intent, &ctx()).unwrap();
    assert_eq!(a, b);
    let d = decode(&a).unwrap();
    assert!(d.findings.is_empty(), "{:?}", d.findings);
    assert_eq!(encode(&d.content), a);
}

#[test]
fn build_errors_name_the_offending_intent_path() {
    let cases = [
        json!("hello"),
        json!({}),
        json!({"txt": "typo"}),
        json!({"text": "a", "markdown": "b"}),
        json!({"text": 5}),
        json!({"reply_to": "0102"}),
        json!({"reply_to": ID, "to": ID, "text": "x"}),
        json!({"edit": ID, "delete": ID}),
        json!({"edit": ID}),
        json!({"delete": ID, "text": "x"}),
        json!({"text": "x", "expires": {"soon": 1}}),
        json!({"text": "x", "expires": {"at": 4294967296u64}}),
        json!({"text": "x", "salt": "00"}),
        json!({"text": "x", "disposition": "shout"}),
        json!({"text": "x", "content_type": "text/html"}),
        json!({"markdown": "hi", "mentions": ["mimi://example.com/u/bob"]}),
        json!({"semantics": "pickOne", "parts": [{"text": "a"}, {"text": "b"}]}),
        json!({"semantics": "chooseOne", "parts": [{"text": "a"}, {"topic": "b", "text": "c"}]}),
        json!({"semantics": "chooseOne", "parts": [{"text": "a"}]}),
        json!({"text": "x", "topic": "t".repeat(4097)}),
        json!({"text": "x", "extensions": [[1, "dup"]]}),
        json!({"text": "x", "extensions": [[{"hex": "01"}, 1]]}),
        json!({"text": "x", "reply_to": format!("02{}", &ID[2..])}),
    ];
    let lines: Vec<String> = cases
        .iter()
        .map(|c| {
            let e = content::build(c, &ctx()).expect_err(&c.to_string());
            let short: String = c.to_string().chars().take(70).collect();
            format!("{short}\n  -> {e}")
        })
        .collect();
    insta::assert_snapshot!("build_errors", lines.join("\n"));
}

#[test]
fn partial_match_semantics() {
    let actual = json!({"text": "hi", "language": "", "parts": [1, 2], "n": 1});
    assert!(content::partial_match(&json!({"text": "hi"}), &actual).is_ok());
    assert!(content::partial_match(&json!({"reply_to": null}), &actual).is_ok());
    assert!(content::partial_match(&json!({"n": 1.0}), &actual).is_ok());
    let m = content::partial_match(&json!({"text": "ho"}), &actual).unwrap_err();
    assert_eq!(
        (m.path.as_str(), m.expected.clone(), m.actual.clone()),
        ("$.text", json!("ho"), Some(json!("hi")))
    );
    let m = content::partial_match(&json!({"parts": [1]}), &actual).unwrap_err();
    assert_eq!(m.path, "$.parts.length");
    let m = content::partial_match(&json!({"parts": [1, 3]}), &actual).unwrap_err();
    assert_eq!(m.path, "$.parts[1]");
    let m = content::partial_match(&json!({"topic": "x"}), &actual).unwrap_err();
    assert_eq!((m.path.as_str(), m.actual), ("$.topic", None));
    assert_eq!(
        content::partial_match(&json!({"topic": "x"}), &actual)
            .unwrap_err()
            .to_string(),
        "$.topic: expected \"x\", got nothing (key absent)"
    );
}

fn run_cli_raw(cmd: cli::ContentCommand, stdin: &[u8]) -> (i32, Vec<u8>, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = cli::run_with(cmd, &mut &stdin[..], &mut out, &mut err);
    (code, out, String::from_utf8(err).unwrap())
}

fn run_cli(cmd: cli::ContentCommand, stdin: &[u8]) -> (i32, String, String) {
    let (code, out, err) = run_cli_raw(cmd, stdin);
    (code, String::from_utf8(out).unwrap(), err)
}

fn decode_cmd(file: &str) -> cli::ContentCommand {
    cli::ContentCommand::Decode {
        file: file.into(),
        kind: cli::Kind::Content,
        hex: false,
        sender: None,
        room: None,
        json: false,
    }
}

#[test]
fn cli_decode_shows_annotated_view_both_ids_and_readable_form() {
    let path = fixtures().join("content/reaction.cbor");
    let (code, out, err) = run_cli(decode_cmd(path.to_str().unwrap()), b"");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!(
        "message ID (draft-08): {}",
        annotated_id("reaction")
    )));
    assert!(out.contains("message ID (draft-07): 01"));
    insta::assert_snapshot!("cli_decode_reaction", out);
    let path = fixtures().join("content/multipart-3.cbor");
    let (code, out, _) = run_cli(decode_cmd(path.to_str().unwrap()), b"");
    assert_eq!(code, 0);
    insta::assert_snapshot!("cli_decode_multipart_3", out);
}

#[test]
fn cli_decode_reads_stdin_hex_and_uses_flags_for_uris() {
    let bytes = vector("original");
    let mut cmd = decode_cmd("-");
    if let cli::ContentCommand::Decode {
        hex, sender, room, ..
    } = &mut cmd
    {
        *hex = true;
        *sender = Some("mimi://other.example/u/x".into());
        *room = Some("mimi://other.example/r/y".into());
    }
    let (code, out, _) = run_cli(cmd, hex::encode(&bytes).as_bytes());
    assert_eq!(code, 0);
    let expected = message_id(
        IdFormula::Draft08,
        "mimi://other.example/u/x",
        "mimi://other.example/r/y",
        &bytes,
    )
    .unwrap();
    assert!(
        out.contains(&format!("message ID (draft-08): {expected}")),
        "{out}"
    );
}

#[test]
fn cli_decode_exit_codes() {
    let invalid = fixtures().join("content/invalid/nesting-5-levels.cbor");
    let (code, out, err) = run_cli(decode_cmd(invalid.to_str().unwrap()), b"");
    assert_eq!(code, 1);
    assert!(
        out.contains("INVALID (must be discarded): nestedPart.parts[0].parts[0].parts[0].parts[0]"),
        "{out}"
    );
    assert!(err.contains("nested more than 4 levels"), "{err}");
    let nondet = fixtures().join("content/findings/non-deterministic-long-int.cbor");
    let (code, out, _) = run_cli(decode_cmd(nondet.to_str().unwrap()), b"");
    assert_eq!(code, 1);
    assert!(
        out.contains("violation nestedPart.disposition: not deterministic CBOR"),
        "{out}"
    );
    let (code, _, err) = run_cli(decode_cmd("/nonexistent/x.cbor"), b"");
    assert_eq!(code, 2, "{err}");
    let mut bad_hex = decode_cmd("-");
    if let cli::ContentCommand::Decode { hex, .. } = &mut bad_hex {
        *hex = true;
    }
    assert_eq!(run_cli(bad_hex, b"zz").0, 2);
}

#[test]
fn cli_decode_status_and_derived() {
    let status = fixtures().join("status/status.cbor");
    let (code, out, _) = run_cli(
        cli::ContentCommand::Decode {
            file: status.to_str().unwrap().into(),
            kind: cli::Kind::Status,
            hex: false,
            sender: None,
            room: None,
            json: false,
        },
        b"",
    );
    assert_eq!(code, 0);
    assert!(out.contains("\"status\": \"expired\""), "{out}");
    let derived = fixtures().join("content/implied-original.cbor");
    let (code, out, _) = run_cli(
        cli::ContentCommand::Decode {
            file: derived.to_str().unwrap().into(),
            kind: cli::Kind::Derived,
            hex: false,
            sender: None,
            room: None,
            json: false,
        },
        b"",
    );
    assert_eq!(code, 0);
    assert!(out.contains("\"sender_leaf_index\": 4"), "{out}");
}

fn encode_cmd(output: Option<String>) -> cli::ContentCommand {
    cli::ContentCommand::Encode {
        file: "-".into(),
        output,
        sender: "mimi://example.com/u/alice".into(),
        room: "mimi://example.com/r/team".into(),
        salt: Some(hex::encode([0x5a; 16])),
        timestamp: Some(1_700_000_000_123),
        hex: false,
    }
}

#[test]
fn cli_encode_builds_the_same_bytes_as_the_library() {
    let intent = json!({"reaction": "👍", "to": ID});
    let (code, out, err) = run_cli_raw(encode_cmd(None), intent.to_string().as_bytes());
    assert_eq!(code, 0, "{err}");
    let expected = content::build(&intent, &ctx()).unwrap();
    assert_eq!(out, expected);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.cbor");
    let (code, _, _) = run_cli(
        encode_cmd(Some(file.to_str().unwrap().into())),
        intent.to_string().as_bytes(),
    );
    assert_eq!(code, 0);
    assert_eq!(std::fs::read(&file).unwrap(), expected);
}

#[test]
fn cli_encode_exit_codes() {
    let (code, _, err) = run_cli(encode_cmd(None), br#"{"text": 5}"#);
    assert_eq!(code, 1);
    assert!(err.contains("$.text: expected a string"), "{err}");
    let (code, _, err) = run_cli(encode_cmd(None), b"not json");
    assert_eq!(code, 2, "{err}");
    let mut bad_salt = encode_cmd(None);
    if let cli::ContentCommand::Encode { salt, .. } = &mut bad_salt {
        *salt = Some("00".into());
    }
    assert_eq!(run_cli(bad_salt, br#"{"text": "x"}"#).0, 2);
}

#[test]
fn receiver_rules_need_state() {
    use std::collections::HashSet;
    let bytes = vector("reply");
    let c = decode(&bytes).unwrap().content;
    let own = annotated_id("reply");
    let now_ms = 1_644_387_240_000;
    let mut seen = HashSet::new();
    fn cx(seen: &HashSet<MessageId>, now_ms: u64, own: MessageId) -> content::ReceiveContext<'_> {
        content::ReceiveContext {
            now_ms,
            message_id: own,
            seen,
        }
    }
    // Reply to a message this receiver never saw: accepted, noted.
    let findings = content::receive_checks(&c, &cx(&seen, now_ms, own)).unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].path, "inReplyTo");
    assert_eq!(findings[0].kind, FindingKind::Info);
    seen.insert(annotated_id("original"));
    assert!(
        content::receive_checks(&c, &cx(&seen, now_ms, own))
            .unwrap()
            .is_empty()
    );
    seen.insert(own);
    let e = content::receive_checks(&c, &cx(&seen, now_ms, own)).unwrap_err();
    assert_eq!(e.rule(), Rule::Receiver);
    assert!(e.to_string().contains("duplicate message ID"));
    seen.remove(&own);
    let year = content::receive::YEAR_SECS as u32;
    let now = (now_ms / 1000) as u32;
    for (relative, time, ok) in [
        (false, now + 600, true),
        (false, now + year + 1, false),
        (false, now - year - 1, false),
        (true, year, true),
        (true, year + 1, false),
    ] {
        let mut c2 = c.clone();
        c2.expires = Some(content::Expiration { relative, time });
        let r = content::receive_checks(&c2, &cx(&seen, now_ms, own));
        assert_eq!(r.is_ok(), ok, "{relative} {time}: {r:?}");
        if let Err(e) = r {
            assert_eq!(e.path(), "expires.time");
        }
    }
}
