//! Readable JSON intent → MIMI content (the vocabulary of `to_readable`,
//! plus defaults; documented in `docs/content.md`).

use serde_json::{Map, Value as Json};

use super::cbor::{self, Value};
use super::model::*;
use super::readable::{HTML, MARKDOWN, MESSAGE_STATUS, TEXT_PLAIN, json_to_cbor, mentions_in};
use super::wire::{MAX_TOPIC_LEN, content_from_value};
use super::wire_write::content_to_value;

/// What the caller fixes so that builds are deterministic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildContext {
    /// Goes into extension 1 (senderUri) unless empty or overridden by `sender`.
    pub sender_uri: String,
    /// Goes into extension 2 (roomUri) unless empty or overridden by `room`.
    pub room_uri: String,
    /// Now, in milliseconds since the epoch; base of `expires: {in: ..}`.
    pub timestamp_ms: u64,
    /// The per-message salt (overridden by an intent's `salt`).
    pub salt: [u8; 16],
}

/// Why an intent could not be turned into content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct BuildError {
    /// JSON path in the intent, like `$.parts[1].text`.
    pub path: String,
    pub message: String,
}

fn berr(path: &str, message: impl Into<String>) -> BuildError {
    BuildError {
        path: path.to_string(),
        message: message.into(),
    }
}

const META_KEYS: &[&str] = &[
    "salt",
    "sender",
    "room",
    "topic",
    "topic_hex",
    "expires",
    "reply_to",
    "to",
    "edit",
    "delete",
    "unlike",
    "extensions",
];
const PART_KEYS: &[&str] = &[
    "disposition",
    "language",
    "kind",
    "text",
    "markdown",
    "html",
    "reaction",
    "status_report",
    "content_type",
    "content",
    "content_hex",
    "mentions",
    "url",
    "url_expires",
    "size",
    "enc_alg",
    "key",
    "nonce",
    "aad",
    "hash_alg",
    "content_hash",
    "description",
    "filename",
    "semantics",
    "parts",
];

/// Builds canonical CBOR from a readable intent.
pub fn build(intent: &Json, ctx: &BuildContext) -> Result<Vec<u8>, BuildError> {
    Ok(super::encode(&build_content(intent, ctx)?))
}

/// Builds typed content from a readable intent; the result is also checked
/// against the decoder's fatal rules, so a build never yields content a
/// strict receiver must discard.
pub fn build_content(intent: &Json, ctx: &BuildContext) -> Result<MimiContent, BuildError> {
    let o = intent
        .as_object()
        .ok_or_else(|| berr("$", "the intent must be a JSON object"))?;
    for k in o.keys() {
        if !META_KEYS.contains(&k.as_str()) && !PART_KEYS.contains(&k.as_str()) {
            return Err(berr(&format!("$.{k}"), "unknown key"));
        }
    }
    let salt = match o.get("salt") {
        Some(s) => {
            let b = hex_field("$.salt", s)?;
            <[u8; 16]>::try_from(b.as_slice())
                .map_err(|_| berr("$.salt", format!("expected 16 octets, got {}", b.len())))?
        }
        None => ctx.salt,
    };
    let mut extensions = Extensions::default();
    let sender = opt_str(o, "sender", "$.sender")?.unwrap_or(&ctx.sender_uri);
    if !sender.is_empty() {
        extensions.set_text(1, sender);
    }
    let room = opt_str(o, "room", "$.room")?.unwrap_or(&ctx.room_uri);
    if !room.is_empty() {
        extensions.set_text(2, room);
    }
    if let Some(x) = o.get("extensions") {
        let list = x
            .as_array()
            .ok_or_else(|| berr("$.extensions", "expected an array of [key, value] pairs"))?;
        for (i, e) in list.iter().enumerate() {
            let p = format!("$.extensions[{i}]");
            let (k, v) = match e.as_array().map(Vec::as_slice) {
                Some([k, v]) => (
                    json_to_cbor(k).map_err(|m| berr(&p, m))?,
                    json_to_cbor(v).map_err(|m| berr(&p, m))?,
                ),
                _ => return Err(berr(&p, "expected a [key, value] pair")),
            };
            let kenc = cbor::encode(&k);
            if extensions
                .entries
                .iter()
                .any(|(ek, _)| cbor::encode(ek) == kenc)
            {
                return Err(berr(
                    &p,
                    format!("extension key {} given twice", cbor::diag(&k)),
                ));
            }
            extensions.entries.push((k, v));
        }
    }
    let topic_id = match (o.get("topic"), o.get("topic_hex")) {
        (Some(_), Some(_)) => return Err(berr("$.topic", "give topic or topic_hex, not both")),
        (Some(t), None) => t
            .as_str()
            .ok_or_else(|| berr("$.topic", "expected a string"))?
            .as_bytes()
            .to_vec(),
        (None, Some(h)) => hex_field("$.topic_hex", h)?,
        (None, None) => Vec::new(),
    };
    if topic_id.len() > MAX_TOPIC_LEN {
        return Err(berr(
            "$.topic",
            format!("longer than {MAX_TOPIC_LEN} octets"),
        ));
    }
    let expires = match o.get("expires") {
        None | Some(Json::Null) => None,
        Some(e) => Some(expiration(e, ctx)?),
    };
    let in_reply_to = match (o.get("reply_to"), o.get("to")) {
        (Some(_), Some(_)) => {
            return Err(berr(
                "$.to",
                "give reply_to or to, not both (both set inReplyTo)",
            ));
        }
        (Some(v), None) => Some(id_field("$.reply_to", v)?),
        (None, Some(v)) => Some(id_field("$.to", v)?),
        (None, None) => None,
    };
    let replacing: Vec<&str> = ["edit", "delete", "unlike"]
        .into_iter()
        .filter(|k| o.contains_key(*k))
        .collect();
    if replacing.len() > 1 {
        return Err(berr(
            &format!("$.{}", replacing[1]),
            format!("{} and {} both set replaces", replacing[0], replacing[1]),
        ));
    }
    let replaces = match replacing.first() {
        Some(k) => Some(id_field(&format!("$.{k}"), &o[*k])?),
        None => None,
    };
    let mode = replacing.first().copied();
    let nested_part = part(o, "$", mode, true)?;
    if mode == Some("edit") && nested_part.body == PartBody::Null {
        return Err(berr(
            "$.edit",
            "an edit needs a new body (use delete to retract)",
        ));
    }
    if matches!(mode, Some("delete" | "unlike")) && nested_part.body != PartBody::Null {
        return Err(berr(
            &format!("$.{}", mode.unwrap_or_default()),
            "delete and unlike carry no body (a null part); remove the body keys",
        ));
    }
    let content = MimiContent {
        salt,
        replaces,
        topic_id,
        expires,
        in_reply_to,
        extensions,
        nested_part,
    };
    content_from_value(&content_to_value(&content)).map_err(|e| {
        berr(
            "$",
            format!("the intent yields content a receiver must discard: {e}"),
        )
    })?;
    Ok(content)
}

fn opt_str<'a>(
    o: &'a Map<String, Json>,
    k: &str,
    path: &str,
) -> Result<Option<&'a str>, BuildError> {
    match o.get(k) {
        None => Ok(None),
        Some(Json::String(s)) => Ok(Some(s)),
        Some(_) => Err(berr(path, "expected a string")),
    }
}

fn hex_field(path: &str, v: &Json) -> Result<Vec<u8>, BuildError> {
    let s = v
        .as_str()
        .ok_or_else(|| berr(path, "expected a hex string"))?;
    hex::decode(s).map_err(|e| berr(path, format!("bad hex: {e}")))
}

fn id_field(path: &str, v: &Json) -> Result<MessageId, BuildError> {
    let b = hex_field(path, v)?;
    let id = <[u8; 32]>::try_from(b.as_slice()).map_err(|_| {
        berr(
            path,
            format!("a message ID is 32 octets (64 hex digits), got {}", b.len()),
        )
    })?;
    Ok(MessageId(id))
}

fn uint_field(path: &str, v: &Json, max: u64) -> Result<u64, BuildError> {
    v.as_u64()
        .filter(|n| *n <= max)
        .ok_or_else(|| berr(path, format!("expected an unsigned integer up to {max}")))
}

/// Seconds from a number or a humantime string like "10m".
fn seconds(path: &str, v: &Json) -> Result<u64, BuildError> {
    match v {
        Json::Number(_) => uint_field(path, v, u64::MAX),
        Json::String(s) => humantime::parse_duration(s)
            .map(|d| d.as_secs())
            .map_err(|e| berr(path, format!("bad duration {s:?}: {e}"))),
        _ => Err(berr(path, "expected seconds or a duration like \"10m\"")),
    }
}

fn expiration(e: &Json, ctx: &BuildContext) -> Result<Expiration, BuildError> {
    let o = e.as_object().filter(|o| o.len() == 1).ok_or_else(|| {
        berr(
            "$.expires",
            "expected {relative: s} or {at: epoch s} or {in: s}",
        )
    })?;
    let (k, v) = o.iter().next().ok_or_else(|| berr("$.expires", "empty"))?;
    let path = format!("$.expires.{k}");
    let (relative, time) = match k.as_str() {
        "relative" => (true, seconds(&path, v)?),
        "at" => (false, uint_field(&path, v, u64::from(u32::MAX))?),
        "in" => (
            false,
            (ctx.timestamp_ms / 1000).saturating_add(seconds(&path, v)?),
        ),
        _ => return Err(berr(&path, "expected relative, at or in")),
    };
    let time = u32::try_from(time).map_err(|_| berr(&path, "does not fit in 32 bits"))?;
    Ok(Expiration { relative, time })
}

fn part(
    o: &Map<String, Json>,
    path: &str,
    mode: Option<&str>,
    top: bool,
) -> Result<NestedPart, BuildError> {
    let at = |k: &str| format!("{path}.{k}");
    if !top {
        for k in o.keys() {
            if !PART_KEYS.contains(&k.as_str()) {
                return Err(berr(
                    &at(k),
                    "unknown key in a part (message fields only at top level)",
                ));
            }
        }
    }
    let shortcuts: Vec<&str> = ["text", "markdown", "html", "reaction", "status_report"]
        .into_iter()
        .filter(|k| o.contains_key(*k))
        .collect();
    if shortcuts.len() > 1 {
        return Err(berr(
            &at(shortcuts[1]),
            format!("{} and {} both give the body", shortcuts[0], shortcuts[1]),
        ));
    }
    let has = |keys: &[&str]| keys.iter().any(|k| o.contains_key(*k));
    let kind = match o.get("kind") {
        Some(k) => k
            .as_str()
            .filter(|k| ["null", "single", "external", "multi"].contains(k))
            .ok_or_else(|| berr(&at("kind"), "expected null, single, external or multi"))?,
        None if has(&["parts", "semantics"]) => "multi",
        None if has(&["url"]) => "external",
        None if !shortcuts.is_empty() || has(&["content", "content_hex", "content_type"]) => {
            "single"
        }
        None if matches!(mode, Some("delete" | "unlike")) => "null",
        None => {
            return Err(berr(
                path,
                "no body: give text, markdown, html, reaction, status_report, content, url, parts, or kind: null",
            ));
        }
    };
    let default_disposition = match kind {
        _ if shortcuts == ["reaction"] || (top && mode == Some("unlike")) => Disposition::REACTION,
        "external" => Disposition::ATTACHMENT,
        _ => Disposition::RENDER,
    };
    let disposition = match o.get("disposition") {
        None => default_disposition,
        Some(Json::String(s)) => Disposition::from_name(s).ok_or_else(|| {
            berr(
                &at("disposition"),
                format!("unknown disposition name {s:?}"),
            )
        })?,
        Some(v) => Disposition(uint_field(&at("disposition"), v, 255)? as u8),
    };
    let language = match o.get("language") {
        None => String::new(),
        Some(Json::String(s)) => s.clone(),
        Some(_) => return Err(berr(&at("language"), "expected a string")),
    };
    let body = match kind {
        "null" => {
            let extra: Vec<&String> = o
                .keys()
                .filter(|k| PART_KEYS.contains(&k.as_str()))
                .filter(|k| !["disposition", "language", "kind"].contains(&k.as_str()))
                .collect();
            if let Some(k) = extra.first() {
                return Err(berr(&at(k), "a null part has no other fields"));
            }
            PartBody::Null
        }
        "single" => single(o, path, &shortcuts)?,
        "external" => PartBody::External(external(o, path)?),
        _ => {
            let semantics = o
                .get("semantics")
                .and_then(Json::as_str)
                .and_then(PartSemantics::from_name)
                .ok_or_else(|| {
                    berr(
                        &at("semantics"),
                        "expected chooseOne, singleUnit or processAll",
                    )
                })?;
            let list = o
                .get("parts")
                .and_then(Json::as_array)
                .ok_or_else(|| berr(&at("parts"), "expected an array of parts"))?;
            let mut parts = Vec::new();
            for (i, p) in list.iter().enumerate() {
                let pp = format!("{path}.parts[{i}]");
                let po = p
                    .as_object()
                    .ok_or_else(|| berr(&pp, "a part must be an object"))?;
                parts.push(part(po, &pp, None, false)?);
            }
            PartBody::Multi { semantics, parts }
        }
    };
    Ok(NestedPart {
        disposition,
        language,
        body,
    })
}

fn single(o: &Map<String, Json>, path: &str, shortcuts: &[&str]) -> Result<PartBody, BuildError> {
    let at = |k: &str| format!("{path}.{k}");
    let implied = shortcuts.first().map(|s| match *s {
        "markdown" => MARKDOWN,
        "html" => HTML,
        "status_report" => MESSAGE_STATUS,
        _ => TEXT_PLAIN,
    });
    let content_type = match (o.get("content_type"), implied) {
        (Some(Json::String(ct)), Some(i)) if ct != i => {
            return Err(berr(
                &at("content_type"),
                format!(
                    "{} implies {i:?}; use content for other types",
                    shortcuts[0]
                ),
            ));
        }
        (Some(Json::String(ct)), _) => ct.clone(),
        (Some(_), _) => return Err(berr(&at("content_type"), "expected a string")),
        (None, Some(i)) => i.to_string(),
        (None, None) => {
            return Err(berr(
                &at("content_type"),
                "a single part needs content_type",
            ));
        }
    };
    let from_shortcut = match shortcuts.first() {
        Some(&"status_report") => Some(super::status::build_status(&o["status_report"]).map_err(
            |e| {
                berr(
                    &format!("{}{}", at("status_report"), e.path.trim_start_matches('$')),
                    e.message,
                )
            },
        )?),
        Some(s) => Some(
            o[*s]
                .as_str()
                .ok_or_else(|| berr(&at(s), "expected a string"))?
                .as_bytes()
                .to_vec(),
        ),
        None => None,
    };
    let from_content = match (o.get("content"), o.get("content_hex")) {
        (Some(_), Some(_)) => {
            return Err(berr(
                &at("content_hex"),
                "give content or content_hex, not both",
            ));
        }
        (Some(c), None) => Some(
            c.as_str()
                .ok_or_else(|| berr(&at("content"), "expected a string"))?
                .as_bytes()
                .to_vec(),
        ),
        (None, Some(h)) => Some(hex_field(&at("content_hex"), h)?),
        (None, None) => None,
    };
    let content = match (from_shortcut, from_content) {
        (Some(a), Some(b)) if a != b => {
            return Err(berr(
                &at("content"),
                format!("differs from {}", shortcuts.first().copied().unwrap_or("")),
            ));
        }
        (Some(a), _) => a,
        (None, Some(b)) => b,
        (None, None) => return Err(berr(&at("content"), "a single part needs content")),
    };
    if let Some(m) = o.get("mentions") {
        let list = m
            .as_array()
            .ok_or_else(|| berr(&at("mentions"), "expected an array of mimi: URIs"))?;
        let found = std::str::from_utf8(&content)
            .map(|t| mentions_in(&content_type, t))
            .unwrap_or_default();
        for (i, u) in list.iter().enumerate() {
            let u = u
                .as_str()
                .ok_or_else(|| berr(&format!("{path}.mentions[{i}]"), "expected a string"))?;
            if !found.iter().any(|f| f == u) {
                return Err(berr(
                    &format!("{path}.mentions[{i}]"),
                    format!(
                        "{u} is not linked in the markdown/html body ([name]({u}) or href=\"{u}\")"
                    ),
                ));
            }
        }
    }
    Ok(PartBody::Single {
        content_type,
        content,
    })
}

fn external(o: &Map<String, Json>, path: &str) -> Result<ExternalPart, BuildError> {
    let at = |k: &str| format!("{path}.{k}");
    let s = |k: &str| -> Result<String, BuildError> {
        match o.get(k) {
            None => Ok(String::new()),
            Some(Json::String(s)) => Ok(s.clone()),
            Some(_) => Err(berr(&at(k), "expected a string")),
        }
    };
    let h = |k: &str| -> Result<Vec<u8>, BuildError> {
        o.get(k).map_or(Ok(Vec::new()), |v| hex_field(&at(k), v))
    };
    let u = |k: &str, max: u64| -> Result<u64, BuildError> {
        o.get(k).map_or(Ok(0), |v| uint_field(&at(k), v, max))
    };
    let url = s("url")?;
    let key = h("key")?;
    let enc_alg = match o.get("enc_alg") {
        Some(v) => uint_field(&at("enc_alg"), v, u64::from(u16::MAX))? as u16,
        None if key.is_empty() => 0,
        None => 1,
    };
    let content_hash = h("content_hash")?;
    let hash_alg = match o.get("hash_alg") {
        Some(v) => uint_field(&at("hash_alg"), v, 255)? as u8,
        None if content_hash.is_empty() => 0,
        None => 1,
    };
    Ok(ExternalPart {
        content_type: s("content_type")?,
        url,
        expires: u("url_expires", u64::from(u32::MAX))? as u32,
        size: u("size", u64::MAX)?,
        enc_alg,
        key,
        nonce: h("nonce")?,
        aad: h("aad")?,
        hash_alg,
        content_hash,
        description: s("description")?,
        filename: s("filename")?,
    })
}

/// Kept for callers that want the CBOR tree of built content.
pub fn build_value(intent: &Json, ctx: &BuildContext) -> Result<Value, BuildError> {
    Ok(content_to_value(&build_content(intent, ctx)?))
}
