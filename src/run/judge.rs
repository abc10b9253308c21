//! The harness judges MIMI content bytes itself: decode them with our own
//! codec ([`crate::content`]), recompute the message ID (draft-ietf-mimi-
//! content-08 §3.3, the sender being the sending *user's* URI, as in the
//! draft's examples), and compare the readable form with what the suite
//! expects. Targets' claims about content are never taken on trust.

use crate::content::{self, FindingKind, IdFormula};
use crate::control::api::SendResponse;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;

/// What one received message turned out to be.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    /// Lower-case hex of the recomputed message ID, when the bytes allow it.
    pub message_id: Option<String>,
    /// The readable form, or why the bytes are not valid MIMI content.
    pub content: Result<Value, String>,
}

/// Decodes strictly; sender-side violations (e.g. non-deterministic CBOR)
/// count as invalid, receiver notes do not.
fn decode_readable(bytes: &[u8]) -> Result<Value, String> {
    let decoded = content::decode(bytes).map_err(|e| format!("not MIMI content: {e}"))?;
    let violations: Vec<String> = decoded
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::Violation)
        .map(|f| f.to_string())
        .collect();
    if !violations.is_empty() {
        return Err(violations.join("; "));
    }
    Ok(content::to_readable(&decoded.content))
}

/// The senderUri and roomUri extensions, when present, must name the MLS
/// sender's user and the room the message travels in: receivers check them
/// (protocol-06 §5.4.1) and the message ID is computed over the real ones.
fn check_uris(readable: &Value, sender_user: &str, room: &str) -> Result<(), String> {
    let checks = [
        ("sender", "senderUri", "is from", sender_user),
        ("room", "roomUri", "travels in", room),
    ];
    for (key, extension, relation, want) in checks {
        if let Some(got) = readable.get(key).and_then(Value::as_str)
            && got != want
        {
            return Err(format!(
                "the content's {extension} extension is {got}, but the message {relation} {want}"
            ));
        }
    }
    Ok(())
}

fn id_hex(sender_user: &str, room: &str, bytes: &[u8]) -> Result<String, String> {
    content::message_id(IdFormula::Draft08, sender_user, room, bytes)
        .map(|id| id.to_hex().to_ascii_lowercase())
        .map_err(|e| format!("message ID cannot be computed: {e}"))
}

/// Judges the base64 `content` of a message event sent by `sender_user`.
pub(crate) fn received(content_b64: &str, sender_user: &str, room: &str) -> Received {
    let bytes = match B64.decode(content_b64) {
        Ok(b) => b,
        Err(e) => {
            return Received {
                message_id: None,
                content: Err(format!("event content is not base64: {e}")),
            };
        }
    };
    let message_id = id_hex(sender_user, room, &bytes);
    let content = match &message_id {
        Ok(_) => {
            decode_readable(&bytes).and_then(|v| check_uris(&v, sender_user, room).map(|()| v))
        }
        Err(why) => Err(why.clone()),
    };
    Received {
        message_id: message_id.ok(),
        content,
    }
}

/// Checks a `send` answer: raw bytes went out unchanged, the claimed ID is
/// the recomputed one, and content built from an intent is valid and says
/// what the intent asked.
pub(crate) fn judge_sent(
    resp: &SendResponse,
    sender_user: &str,
    room: &str,
    intent: Option<&Value>,
    raw: Option<&str>,
) -> Result<(), String> {
    let bytes = B64
        .decode(&resp.content)
        .map_err(|e| format!("send answered content that is not base64: {e}"))?;
    if let Some(raw) = raw {
        let asked = B64
            .decode(raw)
            .map_err(|e| format!("the step's raw content is not base64: {e}"))?;
        if asked != bytes {
            return Err(format!(
                "target sent other bytes than the raw content given ({} bytes asked, {} sent)",
                asked.len(),
                bytes.len()
            ));
        }
    }
    let id = match id_hex(sender_user, room, &bytes) {
        Ok(id) => id,
        // Raw bytes without a readable salt have no ID the harness can
        // check, whatever the target answers.
        Err(_) if raw.is_some() => return Ok(()),
        Err(why) => return Err(why),
    };
    if id != resp.message_id.to_ascii_lowercase() {
        return Err(format!(
            "send answered message_id {} but the sent content's ID (draft-08, sender {sender_user}, room {room}) is {id}",
            resp.message_id
        ));
    }
    if let Some(intent) = intent {
        let readable =
            decode_readable(&bytes).map_err(|e| format!("target built invalid content: {e}"))?;
        check_uris(&readable, sender_user, room)
            .map_err(|e| format!("target built wrong content: {e}"))?;
        content::partial_match(&comparable_intent(intent), &readable)
            .map_err(|m| format!("sent content differs from the intent: {m}"))?;
        if let Some(up) = intent.get("upload") {
            check_upload(up, &bytes, sender_user)?;
        }
    }
    Ok(())
}

/// The plaintext of an `upload` intent (the step's own base64).
fn upload_data(up: &Value) -> Option<Vec<u8>> {
    up.get("data")
        .and_then(Value::as_str)
        .and_then(|d| B64.decode(d).ok())
}

/// The readable form an `upload` intent must give: an ExternalPart with the
/// asked type, names and disposition, AES-128-GCM and sha-256, the size of
/// the ciphertext (plaintext + 16-octet tag), in a `chooseOne` with the
/// Markdown fallback when one was asked for.
fn upload_expectation(up: &Value) -> Value {
    let mut ext = serde_json::json!({
        "kind": "external",
        "enc_alg": content::attachment::AES_128_GCM,
        "hash_alg": content::attachment::SHA_256,
        "disposition": up.get("disposition").cloned().unwrap_or_else(|| "attachment".into()),
    });
    if let Some(len) = upload_data(up).map(|d| d.len() + 16) {
        ext["size"] = len.into();
    }
    for k in ["content_type", "filename", "description"] {
        if let Some(v) = up.get(k) {
            ext[k] = v.clone();
        }
    }
    match up.get("fallback") {
        Some(md) => serde_json::json!({
            "kind": "multi",
            "semantics": "chooseOne",
            "parts": [ext, { "kind": "single", "markdown": md }],
        }),
        None => ext,
    }
}

/// The bytes of an uploaded attachment as sent: its https URL is on the
/// sender's own provider, and key, nonce and aad re-encrypt the step's
/// plaintext to exactly `size` bytes whose sha-256 is `contentHash` (the
/// hash of the stored ciphertext, content-08 §4.5).
fn check_upload(up: &Value, bytes: &[u8], sender_user: &str) -> Result<(), String> {
    let decoded = content::decode(bytes).map_err(|e| format!("not MIMI content: {e}"))?;
    let part = first_external(&decoded.content.nested_part.body)
        .ok_or("the upload's content has no ExternalPart")?;
    // mimi://<domain>/u/<name>
    let domain = sender_user
        .strip_prefix("mimi://")
        .and_then(|r| r.split('/').next())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let url = reqwest::Url::parse(&part.url)
        .map_err(|e| format!("attachment URL {:?} is not a URL: {e}", part.url))?;
    if url.scheme() != "https" || url.host_str() != Some(domain.as_str()) {
        return Err(format!(
            "attachment URL {} is not an https URL on the sender's domain {domain}",
            part.url
        ));
    }
    let plain = upload_data(up).ok_or("the step's upload data is not base64")?;
    let stored = content::attachment::encrypt(&plain, &part.key, &part.nonce, &part.aad)
        .map_err(|e| format!("the ExternalPart's key/nonce cannot encrypt: {e}"))?;
    if part.content_hash != content::attachment::sha256(&stored) {
        let of_plain = part.content_hash == content::attachment::sha256(&plain);
        return Err(format!(
            "contentHash is not the sha-256 of the stored ciphertext{}",
            if of_plain {
                " (it is the hash of the plaintext)"
            } else {
                ""
            }
        ));
    }
    if part.size != stored.len() as u64 {
        return Err(format!(
            "size is {}, the stored ciphertext has {} bytes",
            part.size,
            stored.len()
        ));
    }
    Ok(())
}

fn first_external(body: &content::PartBody) -> Option<&content::ExternalPart> {
    match body {
        content::PartBody::External(e) => Some(e),
        content::PartBody::Multi { parts, .. } => {
            parts.iter().find_map(|p| first_external(&p.body))
        }
        _ => None,
    }
}

/// The part of an intent that appears as written in the readable form:
/// `expires: {in: …}` is relative to the send time and becomes `{at: …}`.
pub(crate) fn comparable_intent(intent: &Value) -> Value {
    let mut v = intent.clone();
    if let Some(map) = v.as_object_mut()
        && map
            .get("expires")
            .and_then(Value::as_object)
            .is_some_and(|e| e.contains_key("in"))
    {
        map.remove("expires");
    }
    // An upload is compared as the ExternalPart it must have become.
    if let Some(map) = v.as_object_mut()
        && let Some(up) = map.remove("upload")
        && let Value::Object(exp) = upload_expectation(&up)
    {
        map.extend(exp);
    }
    v
}

/// Partial match of the expected readable content against the decoded one;
/// the error names the first differing path.
pub(crate) fn check_content(expected: &Value, actual: &Value) -> Result<(), String> {
    content::partial_match(expected, actual).map_err(|m| m.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGINAL: &[u8] = include_bytes!("../../fixtures/run/original.cbor");
    // draft-ietf-mimi-content-08 examples: original.cbor's ID.
    const SENDER: &str = "mimi://example.com/u/alice-smith";
    const ROOM: &str = "mimi://example.com/r/engineering_team";

    #[test]
    fn received_vector_gets_the_drafts_message_id() {
        let r = received(&B64.encode(ORIGINAL), SENDER, ROOM);
        let id = r.message_id.unwrap();
        assert!(id.starts_with("017ce548") && id.ends_with("a096f4"), "{id}");
        let readable = r.content.unwrap();
        assert!(check_content(&serde_json::json!({"disposition": "render"}), &readable).is_ok());
        let err = check_content(&serde_json::json!({"markdown": "bye"}), &readable).unwrap_err();
        assert!(err.starts_with("$.markdown"), "{err}");
    }

    /// A `send` answer for an upload of `plain` whose ExternalPart is `part`.
    fn upload_answer(part: &content::ExternalPart, fallback: bool) -> SendResponse {
        let ext = serde_json::json!({
            "url": part.url, "content_type": part.content_type, "size": part.size,
            "key": hex::encode(&part.key), "nonce": hex::encode(&part.nonce),
            "content_hash": hex::encode(&part.content_hash), "filename": part.filename,
        });
        let intent = if fallback {
            serde_json::json!({"semantics": "chooseOne", "parts": [ext, {"markdown": "see it"}]})
        } else {
            ext
        };
        let ctx = content::BuildContext {
            sender_uri: SENDER.into(),
            room_uri: ROOM.into(),
            timestamp_ms: 0,
            salt: [5; 16],
        };
        let bytes = content::build(&intent, &ctx).unwrap();
        SendResponse {
            message_id: id_hex(SENDER, ROOM, &bytes).unwrap(),
            content: B64.encode(bytes),
        }
    }

    #[test]
    fn uploads_are_judged_by_re_encrypting_the_plaintext() {
        let plain = b"a small png";
        let base = content::ExternalPart {
            url: "https://example.com/v1/assets/1".into(),
            content_type: "image/png".into(),
            filename: "p.png".into(),
            ..Default::default()
        };
        let (part, _) = content::attachment::seal(plain, base, [1; 16], [2; 12]).unwrap();
        let intent = serde_json::json!({"upload": {
            "data": B64.encode(plain), "content_type": "image/png", "filename": "p.png",
            "fallback": "see it",
        }});
        judge_sent(
            &upload_answer(&part, true),
            SENDER,
            ROOM,
            Some(&intent),
            None,
        )
        .unwrap();
        // No fallback asked, but one sent: the shape differs.
        let mut bare = intent.clone();
        bare["upload"].as_object_mut().unwrap().remove("fallback");
        judge_sent(
            &upload_answer(&part, false),
            SENDER,
            ROOM,
            Some(&bare),
            None,
        )
        .unwrap();
        let err =
            judge_sent(&upload_answer(&part, true), SENDER, ROOM, Some(&bare), None).unwrap_err();
        assert!(err.contains("differs from the intent"), "{err}");
        // The hash of the plaintext is caught and named.
        let mut wrong = part.clone();
        wrong.content_hash = content::attachment::sha256(plain);
        let err = judge_sent(
            &upload_answer(&wrong, true),
            SENDER,
            ROOM,
            Some(&intent),
            None,
        )
        .unwrap_err();
        assert!(err.contains("hash of the plaintext"), "{err}");
        // A URL on another domain than the sender's.
        let mut elsewhere = part.clone();
        elsewhere.url = "https://other.example/v1/assets/1".into();
        let err = judge_sent(
            &upload_answer(&elsewhere, true),
            SENDER,
            ROOM,
            Some(&intent),
            None,
        )
        .unwrap_err();
        assert!(err.contains("sender's domain example.com"), "{err}");
    }

    #[test]
    fn garbage_is_invalid_content() {
        let r = received(&B64.encode(b"\x01\x02"), SENDER, ROOM);
        assert!(r.content.is_err());
        let r = received("%%%", SENDER, ROOM);
        assert!(r.content.unwrap_err().contains("base64"));
    }

    #[test]
    fn sent_content_must_hash_to_the_claimed_id() {
        let good = received(&B64.encode(ORIGINAL), SENDER, ROOM)
            .message_id
            .unwrap();
        let resp = SendResponse {
            message_id: good.clone(),
            content: B64.encode(ORIGINAL),
        };
        let intent = serde_json::json!({"markdown": "Hi everyone, we just shipped release 2.0. __Good  work__!", "expires": {"in": 5}});
        judge_sent(&resp, SENDER, ROOM, Some(&intent), None).unwrap();
        judge_sent(&resp, SENDER, ROOM, None, Some(&resp.content)).unwrap();
        let wrong = SendResponse {
            message_id: format!("01{}", &good[2..].replace('a', "b")),
            ..resp.clone()
        };
        assert!(judge_sent(&wrong, SENDER, ROOM, None, None).is_err());
        let other = serde_json::json!({"text": "hi"});
        let err = judge_sent(&resp, SENDER, ROOM, Some(&other), None).unwrap_err();
        assert!(err.contains("$.text"), "{err}");
        let err = judge_sent(&resp, SENDER, ROOM, None, Some("AAAA")).unwrap_err();
        assert!(err.contains("other bytes"), "{err}");
    }

    #[test]
    fn uri_extensions_must_name_the_real_sender_and_room() {
        let v = serde_json::json!({"sender": "mimi://a/u/alice", "room": "mimi://a/r/club"});
        assert!(check_uris(&v, "mimi://a/u/alice", "mimi://a/r/club").is_ok());
        let e = check_uris(&v, "mimi://a/u/alice", "mimi://a/g/club").unwrap_err();
        assert!(e.contains("roomUri extension is mimi://a/r/club"), "{e}");
        assert!(check_uris(&v, "mimi://b/u/bob", "mimi://a/r/club").is_err());
        // Absent extensions are allowed (content-08 §4.3 makes them optional).
        assert!(check_uris(&serde_json::json!({}), "x", "y").is_ok());
    }
}
