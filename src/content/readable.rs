//! The readable JSON form of MIMI content (vocabulary in `docs/content.md`)
//! and the partial matcher suites use to compare expectations with it.

use serde_json::{Map, Value as Json, json};

use super::cbor::Value;
use super::model::*;

/// `text/plain;charset=utf-8`, the type behind `text` and `reaction`.
pub const TEXT_PLAIN: &str = "text/plain;charset=utf-8";
/// `text/markdown;variant=GFM-MIMI`, the type behind `markdown`.
pub const MARKDOWN: &str = "text/markdown;variant=GFM-MIMI";
/// `text/html;charset=utf-8`, the type behind `html`.
pub const HTML: &str = "text/html;charset=utf-8";
/// `application/mimi-message-status`, the type behind `status_report`
/// (draft-mahy-mimi-message-status-01).
pub const MESSAGE_STATUS: &str = "application/mimi-message-status";

/// The readable JSON view of decoded content: message fields and the body
/// part's fields in one object (see `docs/content.md`).
pub fn to_readable(c: &MimiContent) -> Json {
    let mut m = Map::new();
    m.insert("salt".into(), json!(hex::encode(c.salt)));
    if let Some(s) = c.extensions.sender_uri() {
        m.insert("sender".into(), json!(s));
    }
    if let Some(r) = c.extensions.room_uri() {
        m.insert("room".into(), json!(r));
    }
    if !c.topic_id.is_empty() {
        match std::str::from_utf8(&c.topic_id) {
            Ok(t) => m.insert("topic".into(), json!(t)),
            Err(_) => m.insert("topic_hex".into(), json!(hex::encode(&c.topic_id))),
        };
    }
    if let Some(e) = c.expires {
        let v = if e.relative {
            json!({"relative": e.time})
        } else {
            json!({"at": e.time})
        };
        m.insert("expires".into(), v);
    }
    let top_reaction = c.nested_part.disposition == Disposition::REACTION;
    if let Some(id) = c.replaces {
        let key = match (&c.nested_part.body, top_reaction) {
            (PartBody::Null, true) => "unlike",
            (PartBody::Null, false) => "delete",
            _ => "edit",
        };
        m.insert(key.into(), json!(id.to_hex()));
    }
    if let Some(id) = c.in_reply_to {
        let key = if top_reaction { "to" } else { "reply_to" };
        m.insert(key.into(), json!(id.to_hex()));
    }
    let others: Vec<Json> = c
        .extensions
        .others()
        .map(|(k, v)| json!([cbor_to_json(k), cbor_to_json(v)]))
        .collect();
    if !others.is_empty() {
        m.insert("extensions".into(), Json::Array(others));
    }
    part_fields(&c.nested_part, &mut m);
    Json::Object(m)
}

fn part_to_readable(p: &NestedPart) -> Json {
    let mut m = Map::new();
    part_fields(p, &mut m);
    Json::Object(m)
}

fn part_fields(p: &NestedPart, m: &mut Map<String, Json>) {
    m.insert(
        "disposition".into(),
        p.disposition
            .name()
            .map_or(json!(p.disposition.0), |n| json!(n)),
    );
    m.insert("language".into(), json!(p.language));
    match &p.body {
        PartBody::Null => {
            m.insert("kind".into(), json!("null"));
        }
        PartBody::Single {
            content_type,
            content,
        } => {
            m.insert("kind".into(), json!("single"));
            m.insert("content_type".into(), json!(content_type));
            let text = std::str::from_utf8(content).ok();
            match text {
                Some(t) if content_type.starts_with("text/") => {
                    m.insert("content".into(), json!(t));
                }
                _ => {
                    m.insert("content_hex".into(), json!(hex::encode(content)));
                }
            }
            // A report that does not decode shows only as content_hex.
            if content_type == MESSAGE_STATUS
                && let Ok(d) = super::status::decode_status(content)
            {
                m.insert(
                    "status_report".into(),
                    super::status::status_to_readable(&d.report),
                );
            }
            if let Some(t) = text {
                let shortcut = match content_type.as_str() {
                    TEXT_PLAIN if p.disposition == Disposition::REACTION => Some("reaction"),
                    TEXT_PLAIN => Some("text"),
                    MARKDOWN => Some("markdown"),
                    HTML => Some("html"),
                    _ => None,
                };
                if let Some(k) = shortcut {
                    m.insert(k.into(), json!(t));
                }
                let mentions = mentions_in(content_type, t);
                if !mentions.is_empty() {
                    m.insert("mentions".into(), json!(mentions));
                }
            }
        }
        PartBody::External(e) => {
            m.insert("kind".into(), json!("external"));
            m.insert("content_type".into(), json!(e.content_type));
            m.insert("url".into(), json!(e.url));
            m.insert("url_expires".into(), json!(e.expires));
            m.insert("size".into(), json!(e.size));
            m.insert("enc_alg".into(), json!(e.enc_alg));
            m.insert("key".into(), json!(hex::encode(&e.key)));
            m.insert("nonce".into(), json!(hex::encode(&e.nonce)));
            m.insert("aad".into(), json!(hex::encode(&e.aad)));
            m.insert("hash_alg".into(), json!(e.hash_alg));
            m.insert("content_hash".into(), json!(hex::encode(&e.content_hash)));
            m.insert("description".into(), json!(e.description));
            m.insert("filename".into(), json!(e.filename));
        }
        PartBody::Multi { semantics, parts } => {
            m.insert("kind".into(), json!("multi"));
            m.insert("semantics".into(), json!(semantics.name()));
            m.insert(
                "parts".into(),
                Json::Array(parts.iter().map(part_to_readable).collect()),
            );
        }
    }
}

/// `mimi:` URIs linked from Markdown (`](mimi:...)`) or HTML
/// (`href="mimi:..."`) text: the draft's mention form (§5.4).
pub fn mentions_in(content_type: &str, text: &str) -> Vec<String> {
    let opener = if content_type.starts_with("text/markdown") {
        "](mimi:"
    } else if content_type.starts_with("text/html") {
        "href=\"mimi:"
    } else {
        return Vec::new();
    };
    let close = if opener.starts_with(']') { ')' } else { '"' };
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(opener) {
        let start = i + opener.len() - "mimi:".len();
        let tail = &rest[start..];
        match tail.find(close) {
            Some(end) => {
                out.push(tail[..end].to_string());
                rest = &tail[end..];
            }
            None => break,
        }
    }
    out
}

/// Generic CBOR → JSON used for extension keys and values: integers and
/// text as themselves, `{"hex": ..}` byte strings, `{"map": [[k, v], ..]}`,
/// `{"tag": n, "value": v}`, `{"undefined": true}`, `{"simple": n}`,
/// `{"float": "NaN"|"Infinity"|"-Infinity"}`, `{"int": "<decimal>"}` for
/// integers outside i64/u64.
pub fn cbor_to_json(v: &Value) -> Json {
    match v {
        Value::Uint(n) => json!(n),
        Value::Nint(n) => match i64::try_from(*n) {
            Ok(x) => json!(-1 - x),
            Err(_) => json!({"int": format!("-{}", u128::from(*n) + 1)}),
        },
        Value::Bytes(b) => json!({"hex": hex::encode(b)}),
        Value::Text(s) => json!(s),
        Value::Array(items) => Json::Array(items.iter().map(cbor_to_json).collect()),
        Value::Map(e) => {
            json!({"map": e.iter().map(|(k, v)| json!([cbor_to_json(k), cbor_to_json(v)])).collect::<Vec<_>>()})
        }
        Value::Tag(t, inner) => json!({"tag": t, "value": cbor_to_json(inner)}),
        Value::Bool(b) => json!(b),
        Value::Null => Json::Null,
        Value::Undefined => json!({"undefined": true}),
        Value::Simple(s) => json!({"simple": s}),
        Value::Float(f) => {
            if f.is_nan() {
                json!({"float": "NaN"})
            } else if f.is_infinite() {
                json!({"float": if *f > 0.0 { "Infinity" } else { "-Infinity" }})
            } else {
                // Keep floats distinguishable from integers in JSON.
                serde_json::Number::from_f64(*f).map_or(Json::Null, |n| json!({"float": n}))
            }
        }
    }
}

/// Inverse of [`cbor_to_json`]; the error names what was not understood.
pub fn json_to_cbor(j: &Json) -> Result<Value, String> {
    Ok(match j {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => {
            if let Some(u) = n.as_u64() {
                Value::Uint(u)
            } else if let Some(i) = n.as_i64() {
                Value::Nint((-1 - i) as u64)
            } else {
                return Err(format!(
                    "{n}: write floats as {{\"float\": {n}}}, integers without a fraction"
                ));
            }
        }
        Json::String(s) => Value::Text(s.clone()),
        Json::Array(a) => Value::Array(a.iter().map(json_to_cbor).collect::<Result<_, _>>()?),
        Json::Object(o) => {
            let one = |k: &str| o.len() == 1 && o.contains_key(k);
            if one("hex") {
                let s = o["hex"].as_str().ok_or("hex must be a string")?;
                Value::Bytes(hex::decode(s).map_err(|e| format!("bad hex: {e}"))?)
            } else if one("map") {
                let entries = o["map"].as_array().ok_or("map must be an array of pairs")?;
                let mut out = Vec::new();
                for e in entries {
                    match e.as_array().map(Vec::as_slice) {
                        Some([k, v]) => out.push((json_to_cbor(k)?, json_to_cbor(v)?)),
                        _ => return Err("map entries must be [key, value] pairs".into()),
                    }
                }
                Value::Map(out)
            } else if o.len() == 2 && o.contains_key("tag") && o.contains_key("value") {
                let t = o["tag"].as_u64().ok_or("tag must be an unsigned integer")?;
                Value::Tag(t, Box::new(json_to_cbor(&o["value"])?))
            } else if one("undefined") {
                Value::Undefined
            } else if one("simple") {
                let s = o["simple"]
                    .as_u64()
                    .and_then(|s| u8::try_from(s).ok())
                    .filter(|s| !(20..32).contains(s))
                    .ok_or("simple must be 0..19 or 32..255")?;
                Value::Simple(s)
            } else if one("float") {
                match &o["float"] {
                    Json::Number(n) => Value::Float(n.as_f64().ok_or("bad float")?),
                    Json::String(s) if s == "NaN" => Value::Float(f64::NAN),
                    Json::String(s) if s == "Infinity" => Value::Float(f64::INFINITY),
                    Json::String(s) if s == "-Infinity" => Value::Float(f64::NEG_INFINITY),
                    _ => return Err("float must be a number, \"NaN\" or \"[-]Infinity\"".into()),
                }
            } else if one("int") {
                let s = o["int"].as_str().ok_or("int must be a decimal string")?;
                let n: i128 = s.parse().map_err(|_| format!("bad integer {s:?}"))?;
                if n >= 0 {
                    Value::Uint(u64::try_from(n).map_err(|_| "integer too large")?)
                } else {
                    Value::Nint(u64::try_from(-1 - n).map_err(|_| "integer too small")?)
                }
            } else {
                return Err(
                    "objects must be one of {hex}, {map}, {tag, value}, {undefined}, {simple}, {float}, {int}"
                        .into(),
                );
            }
        }
    })
}

/// Where an expectation differs from the readable value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{path}: expected {expected}, got {}", actual.as_ref().map_or("nothing (key absent)".to_string(), |a| a.to_string()))]
pub struct Mismatch {
    /// JSON path like `$.parts[1].text`.
    pub path: String,
    pub expected: Json,
    /// None when the key is absent.
    pub actual: Option<Json>,
}

/// Checks `actual` against `expected`: objects match when every key of
/// `expected` matches (an expected `null` also matches an absent key);
/// arrays element-wise with equal length; scalars by equality (numbers by
/// value, so `1` matches `1.0`).
pub fn partial_match(expected: &Json, actual: &Json) -> Result<(), Mismatch> {
    walk("$", expected, Some(actual))
}

fn walk(path: &str, expected: &Json, actual: Option<&Json>) -> Result<(), Mismatch> {
    let miss = || Mismatch {
        path: path.to_string(),
        expected: expected.clone(),
        actual: actual.cloned(),
    };
    match (expected, actual) {
        (Json::Null, None | Some(Json::Null)) => Ok(()),
        (_, None) => Err(miss()),
        (Json::Object(e), Some(Json::Object(a))) => {
            for (k, ev) in e {
                walk(&format!("{path}.{k}"), ev, a.get(k))?;
            }
            Ok(())
        }
        (Json::Array(e), Some(Json::Array(a))) => {
            if e.len() != a.len() {
                return Err(Mismatch {
                    path: format!("{path}.length"),
                    expected: json!(e.len()),
                    actual: Some(json!(a.len())),
                });
            }
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                walk(&format!("{path}[{i}]"), ev, Some(av))?;
            }
            Ok(())
        }
        (Json::Number(e), Some(Json::Number(a))) => {
            let same = match (e.as_u64(), a.as_u64(), e.as_i64(), a.as_i64()) {
                (Some(x), Some(y), _, _) => x == y,
                (_, _, Some(x), Some(y)) => x == y,
                _ => e.as_f64() == a.as_f64(),
            };
            if same { Ok(()) } else { Err(miss()) }
        }
        (e, Some(a)) => {
            if e == a {
                Ok(())
            } else {
                Err(miss())
            }
        }
    }
}
