//! Integration tests: the MIMI content codec against the draft's vectors,
//! the negative corpus, the readable form, the CLI, and never-panic checks.

use std::path::{Path, PathBuf};

use mimi_interop::content::{
    self, BuildContext, Disposition, IdFormula, MessageId, PartBody, Timestamp, decode, encode,
    message_id,
};
use serde_json::json;

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
    assert_eq!(
        content::status_to_readable(&d.report)[3],
        json!({"id": annotated_id("expiring").to_hex(), "status": "expired"})
    );
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
