//! Strict mapping between CBOR values and the typed model, with a field path
//! in every error, and the receiver rules of draft-ietf-mimi-content-08
//! (§"CBOR Data Model and Encoding Restrictions", §8.1 "General handling").

use super::cbor::{self, Value};
use super::model::*;
use super::{DecodeError, Finding, FindingKind, Rule};

/// NestedParts may be nested at most this deep; the root part is level 1.
pub const MAX_PART_DEPTH: usize = 4;
/// At most this many NestedParts (every part, containers included).
pub const MAX_PARTS: usize = 1024;
/// topicId longer than this is discarded.
pub const MAX_TOPIC_LEN: usize = 4096;
/// Extension values: tags, maps and arrays at most 4 levels (map = level 1).
pub const MAX_EXTENSION_DEPTH: usize = 4;
/// Integer map keys must survive a round trip through a double.
const MAX_SAFE_INT: i128 = (1 << 53) - 1;

fn err(path: &str, rule: Rule, message: impl Into<String>) -> DecodeError {
    DecodeError::Invalid {
        path: path.to_string(),
        rule,
        message: message.into(),
    }
}

fn expected(path: &str, what: &str, got: &Value) -> DecodeError {
    err(
        path,
        Rule::Shape,
        format!("expected {what}, got {}", got.type_name()),
    )
}

/// Builds the typed content from a decoded CBOR value.
pub fn content_from_value(v: &Value) -> Result<(MimiContent, Vec<Finding>), DecodeError> {
    let mut cx = Cx::default();
    let items = match v {
        Value::Array(items) if items.len() == 7 => items,
        Value::Array(items) => {
            return Err(err(
                "$",
                Rule::Shape,
                format!(
                    "expected an array of 7 items (mimiContent), got {}",
                    items.len()
                ),
            ));
        }
        other => return Err(expected("$", "an array (mimiContent)", other)),
    };
    let salt = match &items[0] {
        Value::Bytes(b) => <[u8; 16]>::try_from(b.as_slice()).map_err(|_| {
            err(
                "salt",
                Rule::Size,
                format!("expected 16 octets, got {}", b.len()),
            )
        })?,
        other => return Err(expected("salt", "a byte string", other)),
    };
    let replaces = opt_message_id("replaces", &items[1])?;
    let topic_id = match &items[2] {
        Value::Bytes(b) if b.len() > MAX_TOPIC_LEN => {
            return Err(err(
                "topicId",
                Rule::TopicTooLong,
                format!("{} octets, more than {MAX_TOPIC_LEN}", b.len()),
            ));
        }
        Value::Bytes(b) => b.clone(),
        other => return Err(expected("topicId", "a byte string", other)),
    };
    let expires = match &items[3] {
        Value::Null => None,
        Value::Array(e) if e.len() == 2 => {
            let relative = match &e[0] {
                Value::Bool(b) => *b,
                other => return Err(expected("expires.relative", "a boolean", other)),
            };
            let time = uint_sized("expires.time", &e[1], u64::from(u32::MAX), 4)? as u32;
            Some(Expiration { relative, time })
        }
        Value::Array(e) => {
            return Err(err(
                "expires",
                Rule::Shape,
                format!("expected an array of 2 items, got {}", e.len()),
            ));
        }
        other => return Err(expected("expires", "null or an array", other)),
    };
    let in_reply_to = opt_message_id("inReplyTo", &items[4])?;
    let extensions = extensions(&items[5])?;
    let nested_part = cx.part("nestedPart", &items[6], 1)?;
    Ok((
        MimiContent {
            salt,
            replaces,
            topic_id,
            expires,
            in_reply_to,
            extensions,
            nested_part,
        },
        cx.findings,
    ))
}

/// Parses `MessageId = bstr .size 32` whose first octet names SHA-256.
pub fn message_id(path: &str, v: &Value) -> Result<MessageId, DecodeError> {
    match v {
        Value::Bytes(b) => {
            let id = <[u8; 32]>::try_from(b.as_slice()).map_err(|_| {
                err(
                    path,
                    Rule::Size,
                    format!("expected a 32-octet message ID, got {} octets", b.len()),
                )
            })?;
            if id[0] != 0x01 {
                return Err(err(
                    path,
                    Rule::UnknownHashAlg,
                    format!(
                        "message ID starts with unknown hash algorithm 0x{:02x} (only 0x01 sha-256 is known)",
                        id[0]
                    ),
                ));
            }
            Ok(MessageId(id))
        }
        other => Err(expected(path, "a byte string (MessageId)", other)),
    }
}

fn opt_message_id(path: &str, v: &Value) -> Result<Option<MessageId>, DecodeError> {
    match v {
        Value::Null => Ok(None),
        Value::Bytes(_) => message_id(path, v).map(Some),
        other => Err(expected(path, "null or a byte string (MessageId)", other)),
    }
}

/// An unsigned integer no larger than `max` (`uint .size bytes`).
pub fn uint_sized(path: &str, v: &Value, max: u64, bytes: u8) -> Result<u64, DecodeError> {
    match v {
        Value::Uint(n) if *n <= max => Ok(*n),
        Value::Uint(n) => Err(err(
            path,
            Rule::Size,
            format!("{n} does not fit in {bytes} octet(s) (uint .size {bytes})"),
        )),
        other => Err(expected(path, "an unsigned integer", other)),
    }
}

pub fn text(path: &str, v: &Value) -> Result<String, DecodeError> {
    match v {
        Value::Text(s) => Ok(s.clone()),
        other => Err(expected(path, "a text string", other)),
    }
}

pub fn bytes(path: &str, v: &Value) -> Result<Vec<u8>, DecodeError> {
    match v {
        Value::Bytes(b) => Ok(b.clone()),
        other => Err(expected(path, "a byte string", other)),
    }
}

fn extensions(v: &Value) -> Result<Extensions, DecodeError> {
    let entries = match v {
        Value::Map(e) => e,
        other => return Err(expected("mimiExtensions", "a map", other)),
    };
    for (k, val) in entries {
        let kp = format!("mimiExtensions{{{}}}", key_label(k));
        match k {
            Value::Uint(_) | Value::Nint(_) => {
                let n = k.as_int().unwrap_or(0);
                if n.abs() > MAX_SAFE_INT {
                    return Err(err(
                        &kp,
                        Rule::ExtensionKey,
                        "integer key not representable as a double (beyond ±(2^53-1))",
                    ));
                }
            }
            Value::Text(s) if (1..=255).contains(&s.len()) => {}
            Value::Text(s) => {
                return Err(err(
                    &kp,
                    Rule::ExtensionKey,
                    format!("text key must be 1..255 octets, got {}", s.len()),
                ));
            }
            other => {
                return Err(err(
                    &kp,
                    Rule::ExtensionKey,
                    format!(
                        "extension key must be an integer or a text string, got {}",
                        other.type_name()
                    ),
                ));
            }
        }
        if matches!(k, Value::Uint(1) | Value::Uint(2)) && !matches!(val, Value::Text(_)) {
            let name = if *k == Value::Uint(1) {
                "senderUri"
            } else {
                "roomUri"
            };
            return Err(err(
                &kp,
                Rule::Shape,
                format!("{name} must be a text string, got {}", val.type_name()),
            ));
        }
        ext_value(&kp, val, 2)?;
    }
    Ok(Extensions {
        entries: entries.clone(),
    })
}

/// A map key for a path, shortened so paths stay readable.
fn key_label(k: &Value) -> String {
    let d = cbor::diag(k);
    if d.chars().count() > 40 {
        format!("{}…", d.chars().take(40).collect::<String>())
    } else {
        d
    }
}

/// Checks depth (the extensions map is level 1) and nested map key types.
fn ext_value(path: &str, v: &Value, level: usize) -> Result<(), DecodeError> {
    let container = matches!(v, Value::Array(_) | Value::Map(_) | Value::Tag(..));
    if container && level > MAX_EXTENSION_DEPTH {
        return Err(err(
            path,
            Rule::ExtensionDepth,
            format!(
                "tags, maps and arrays nested more than {MAX_EXTENSION_DEPTH} levels deep inside mimiExtensions"
            ),
        ));
    }
    match v {
        Value::Array(items) => {
            for (i, it) in items.iter().enumerate() {
                ext_value(&format!("{path}[{i}]"), it, level + 1)?;
            }
        }
        Value::Map(entries) => {
            for (k, val) in entries {
                let kp = format!("{path}{{{}}}", key_label(k));
                match k {
                    Value::Uint(_) | Value::Nint(_) => {
                        if k.as_int().unwrap_or(0).abs() > MAX_SAFE_INT {
                            return Err(err(
                                &kp,
                                Rule::ExtensionKey,
                                "integer key not representable as a double",
                            ));
                        }
                    }
                    Value::Text(_) | Value::Bytes(_) => {}
                    other => {
                        return Err(err(
                            &kp,
                            Rule::ExtensionKey,
                            format!(
                                "map keys inside extensions must be integers, text or byte strings, got {}",
                                other.type_name()
                            ),
                        ));
                    }
                }
                ext_value(&kp, val, level + 1)?;
            }
        }
        Value::Tag(_, inner) => ext_value(&format!("{path}.tagged"), inner, level + 1)?,
        _ => {}
    }
    Ok(())
}

#[derive(Default)]
struct Cx {
    findings: Vec<Finding>,
    parts: usize,
}

impl Cx {
    fn finding(&mut self, path: &str, kind: FindingKind, message: impl Into<String>) {
        self.findings.push(Finding {
            path: path.to_string(),
            kind,
            message: message.into(),
        });
    }

    fn part(&mut self, path: &str, v: &Value, level: usize) -> Result<NestedPart, DecodeError> {
        if level > MAX_PART_DEPTH {
            return Err(err(
                path,
                Rule::NestingTooDeep,
                format!(
                    "NestedPart at level {level}: nested more than {MAX_PART_DEPTH} levels deep"
                ),
            ));
        }
        self.parts += 1;
        if self.parts > MAX_PARTS {
            return Err(err(
                path,
                Rule::TooManyParts,
                format!("more than {MAX_PARTS} body parts"),
            ));
        }
        let items = match v {
            Value::Array(items) if items.len() >= 3 => items,
            Value::Array(items) => {
                return Err(err(
                    path,
                    Rule::Shape,
                    format!(
                        "expected a NestedPart array of at least 3 items, got {}",
                        items.len()
                    ),
                ));
            }
            other => return Err(expected(path, "an array (NestedPart)", other)),
        };
        let dpath = format!("{path}.disposition");
        let disposition = Disposition(uint_sized(&dpath, &items[0], 255, 1)? as u8);
        if disposition.name().is_none() {
            self.finding(
                &dpath,
                FindingKind::Info,
                format!(
                    "unknown disposition {}: treated as render (§8.1)",
                    disposition.0
                ),
            );
        }
        let lpath = format!("{path}.language");
        let language = text(&lpath, &items[1])?;
        if !language_list_ok(&language) {
            self.finding(
                &lpath,
                FindingKind::Info,
                format!("{language:?} is not \"\" or a comma-separated list of RFC 5646 language tags; accepted"),
            );
        }
        let cpath = format!("{path}.cardinality");
        let cardinality = match &items[2] {
            Value::Uint(n) => *n,
            other => return Err(expected(&cpath, "an unsigned integer", other)),
        };
        let want = match cardinality {
            0 => 3,
            1 | 3 => 5,
            2 => 15,
            n => {
                return Err(err(
                    &cpath,
                    Rule::Shape,
                    format!("unknown cardinality {n} (0 null, 1 single, 2 external, 3 multi)"),
                ));
            }
        };
        if items.len() != want {
            return Err(err(
                path,
                Rule::Shape,
                format!(
                    "cardinality {cardinality} needs {want} items in the NestedPart, got {}",
                    items.len()
                ),
            ));
        }
        let body = match cardinality {
            0 => PartBody::Null,
            1 => {
                let content_type = text(&format!("{path}.contentType"), &items[3])?;
                let content = bytes(&format!("{path}.content"), &items[4])?;
                self.check_text_content(path, &content_type, &content);
                PartBody::Single {
                    content_type,
                    content,
                }
            }
            2 => PartBody::External(self.external(path, items)?),
            _ => {
                let spath = format!("{path}.partSemantics");
                let semantics = match &items[3] {
                    Value::Uint(n) => PartSemantics::from_u64(*n).ok_or_else(|| {
                        err(
                            &spath,
                            Rule::UnknownPartSemantics,
                            format!("unknown partSemantics {n} (0 chooseOne, 1 singleUnit, 2 processAll)"),
                        )
                    })?,
                    other => return Err(expected(&spath, "an unsigned integer", other)),
                };
                let ppath = format!("{path}.parts");
                let list = match &items[4] {
                    Value::Array(l) if l.len() >= 2 => l,
                    Value::Array(l) => {
                        return Err(err(
                            &ppath,
                            Rule::Shape,
                            format!("a MultiPart needs at least 2 parts, got {}", l.len()),
                        ));
                    }
                    other => return Err(expected(&ppath, "an array", other)),
                };
                let mut parts = Vec::with_capacity(list.len().min(MAX_PARTS));
                for (i, p) in list.iter().enumerate() {
                    parts.push(self.part(&format!("{ppath}[{i}]"), p, level + 1)?);
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

    fn check_text_content(&mut self, path: &str, content_type: &str, content: &[u8]) {
        let ct = content_type.to_ascii_lowercase();
        let utf8_declared = ct.contains("charset=utf-8") || ct.starts_with("text/markdown");
        if utf8_declared && std::str::from_utf8(content).is_err() {
            self.finding(
                &format!("{path}.content"),
                FindingKind::Violation,
                format!("content is not valid UTF-8 although its type is {content_type:?}"),
            );
        }
    }

    fn external(&mut self, path: &str, items: &[Value]) -> Result<ExternalPart, DecodeError> {
        let p = |f: &str| format!("{path}.{f}");
        let e = ExternalPart {
            content_type: text(&p("contentType"), &items[3])?,
            url: text(&p("url"), &items[4])?,
            expires: uint_sized(&p("expires"), &items[5], u64::from(u32::MAX), 4)? as u32,
            size: uint_sized(&p("size"), &items[6], u64::MAX, 8)?,
            enc_alg: uint_sized(&p("encAlg"), &items[7], u64::from(u16::MAX), 2)? as u16,
            key: bytes(&p("key"), &items[8])?,
            nonce: bytes(&p("nonce"), &items[9])?,
            aad: bytes(&p("aad"), &items[10])?,
            hash_alg: uint_sized(&p("hashAlg"), &items[11], 255, 1)? as u8,
            content_hash: bytes(&p("contentHash"), &items[12])?,
            description: text(&p("description"), &items[13])?,
            filename: text(&p("filename"), &items[14])?,
        };
        match e.enc_alg {
            0 => {
                if !(e.key.is_empty() && e.nonce.is_empty() && e.aad.is_empty()) {
                    self.finding(
                        &p("encAlg"),
                        FindingKind::Violation,
                        "encAlg 0 (not encrypted) but key, nonce or aad is not empty",
                    );
                }
            }
            1 => {
                if e.key.len() != 16 {
                    self.finding(
                        &p("key"),
                        FindingKind::Violation,
                        format!("AES-128-GCM key must be 16 octets, got {}", e.key.len()),
                    );
                }
                if e.nonce.len() != 12 {
                    self.finding(
                        &p("nonce"),
                        FindingKind::Violation,
                        format!("AES-128-GCM nonce must be 12 octets, got {}", e.nonce.len()),
                    );
                }
            }
            n => self.finding(
                &p("encAlg"),
                FindingKind::Info,
                format!("AEAD algorithm {n} is not supported here (only 1, AES-128-GCM)"),
            ),
        }
        if e.hash_alg == 1 && e.content_hash.len() != 32 {
            self.finding(
                &p("contentHash"),
                FindingKind::Violation,
                format!(
                    "sha-256 contentHash must be 32 octets, got {}",
                    e.content_hash.len()
                ),
            );
        }
        Ok(e)
    }
}

/// "" or comma-separated RFC 5646-shaped tags (letters/digits, `-`
/// separated subtags of 1..8 chars, first subtag alphabetic).
pub fn language_list_ok(s: &str) -> bool {
    if s.is_empty() {
        return true;
    }
    s.split(',').all(|tag| {
        let tag = tag.trim();
        let mut subtags = tag.split('-');
        let first_ok = subtags.next().is_some_and(|f| {
            (1..=8).contains(&f.len()) && f.chars().all(|c| c.is_ascii_alphabetic())
        });
        first_ok
            && subtags.all(|st| {
                (1..=8).contains(&st.len()) && st.chars().all(|c| c.is_ascii_alphanumeric())
            })
    })
}
