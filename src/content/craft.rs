//! Crafted content: a readable intent built with this codec, then broken on
//! purpose in named ways, so a negative test says what it breaks instead of
//! carrying an opaque blob. Used by the harness's `send.crafted` to check
//! the receiver rules of content-08 §8.1 and §7.

use super::build::{BuildContext, BuildError, build_content};
use super::cbor::{self, Value};
use super::model::*;
use super::wire::{MAX_PART_DEPTH, MAX_PARTS, MAX_TOPIC_LEN};
use super::wire_write::content_to_value;
use serde_json::Value as Json;

/// One deliberate defect, applied after the intent is built.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Breakage {
    /// The last octet is cut off: not well-formed CBOR.
    InvalidCbor,
    /// One octet (0x00) after the content: extraneous data after the item.
    TrailingBytes,
    /// The top-level part's language is a text string that is not UTF-8
    /// (content-08 §7.2: text strings MUST be valid UTF-8).
    InvalidUtf8,
    /// The body wrapped in multiparts until a part sits deeper than 4 levels
    /// (§7.3).
    NestingTooDeep,
    /// The body repeated in a processAll multipart of 1025 parts (§8.1:
    /// more than 1024 body parts).
    TooManyParts,
    /// A topicId of 4097 octets (§8.1: longer than 4096).
    TopicTooLong,
    /// The top-level multipart's partSemantics is 3, which is undefined
    /// (§8.1). The intent must be a multipart.
    UnknownPartSemantics,
    /// The first octet (hash algorithm) of inReplyTo and replaces is 0xff,
    /// no known algorithm (§8.1). The intent must refer to a message.
    UnknownHashAlg,
}

impl Breakage {
    pub fn name(self) -> &'static str {
        match self {
            Breakage::InvalidCbor => "invalid_cbor",
            Breakage::TrailingBytes => "trailing_bytes",
            Breakage::InvalidUtf8 => "invalid_utf8",
            Breakage::NestingTooDeep => "nesting_too_deep",
            Breakage::TooManyParts => "too_many_parts",
            Breakage::TopicTooLong => "topic_too_long",
            Breakage::UnknownPartSemantics => "unknown_part_semantics",
            Breakage::UnknownHashAlg => "unknown_hash_alg",
        }
    }
}

/// What to craft: the intent (built as `build` would) and what to change.
#[derive(Debug, Clone, Default)]
pub struct Craft<'a> {
    pub breaks: &'a [Breakage],
    /// Seconds before `ctx.timestamp_ms` at which an absolute expiry lies
    /// (an expiry already past, which the intent cannot say).
    pub expired_ago: Option<u64>,
}

fn err(message: impl Into<String>) -> BuildError {
    BuildError {
        path: "$".into(),
        message: message.into(),
    }
}

/// Builds `intent` and applies the craft; the bytes may be anything a
/// receiver must discard.
pub fn craft(intent: &Json, ctx: &BuildContext, how: &Craft<'_>) -> Result<Vec<u8>, BuildError> {
    let mut c = build_content(intent, ctx)?;
    if let Some(ago) = how.expired_ago {
        let at = (ctx.timestamp_ms / 1000).saturating_sub(ago);
        let time = u32::try_from(at).map_err(|_| err("expiry does not fit in 32 bits"))?;
        c.expires = Some(Expiration {
            relative: false,
            time,
        });
    }
    let has = |b: Breakage| how.breaks.contains(&b);
    if has(Breakage::TopicTooLong) {
        c.topic_id = vec![b't'; MAX_TOPIC_LEN + 1];
    }
    if has(Breakage::UnknownHashAlg) {
        if c.in_reply_to.is_none() && c.replaces.is_none() {
            return Err(err(
                "unknown_hash_alg needs an intent that refers to a message (reply_to, to, edit, delete, unlike)",
            ));
        }
        for id in [&mut c.in_reply_to, &mut c.replaces].into_iter().flatten() {
            id.0[0] = 0xff;
        }
    }
    if has(Breakage::NestingTooDeep) {
        for _ in 0..MAX_PART_DEPTH {
            let inner = c.nested_part.clone();
            c.nested_part = NestedPart {
                disposition: inner.disposition,
                language: String::new(),
                body: PartBody::Multi {
                    semantics: PartSemantics::ChooseOne,
                    parts: vec![inner.clone(), inner],
                },
            };
        }
    }
    if has(Breakage::TooManyParts) {
        let inner = c.nested_part.clone();
        c.nested_part = NestedPart {
            disposition: inner.disposition,
            language: String::new(),
            body: PartBody::Multi {
                semantics: PartSemantics::ProcessAll,
                parts: vec![inner; MAX_PARTS + 1],
            },
        };
    }
    if has(Breakage::InvalidUtf8) {
        // A one-octet language whose octet is patched after encoding.
        c.nested_part.language = "\u{7f}".into();
    }
    let mut value = content_to_value(&c);
    if has(Breakage::UnknownPartSemantics) {
        match nested_items(&mut value) {
            Some(items) if items.get(2) == Some(&Value::Uint(3)) => items[3] = Value::Uint(3),
            _ => {
                return Err(err(
                    "unknown_part_semantics needs an intent whose body is a multipart",
                ));
            }
        }
    }
    let mut bytes = cbor::encode(&value);
    if has(Breakage::InvalidUtf8) {
        let at = language_offset(&value).ok_or_else(|| err("no top-level part to patch"))?;
        match bytes.get_mut(at..at + 2) {
            Some([0x61, octet]) if *octet == 0x7f => *octet = 0xff,
            _ => return Err(err("the language is not where the encoder put it")),
        }
    }
    if has(Breakage::TrailingBytes) {
        bytes.push(0x00);
    }
    if has(Breakage::InvalidCbor) {
        bytes.pop();
    }
    Ok(bytes)
}

/// The items of the top-level NestedPart array.
fn nested_items(value: &mut Value) -> Option<&mut Vec<Value>> {
    match value {
        Value::Array(top) => match top.last_mut() {
            Some(Value::Array(items)) => Some(items),
            _ => None,
        },
        _ => None,
    }
}

/// Offset of the top-level part's language text string in the encoding of
/// `value`: the mimiContent array header, its first six items, the
/// NestedPart array header and its disposition come before it.
fn language_offset(value: &Value) -> Option<usize> {
    let Value::Array(top) = value else {
        return None;
    };
    let (part, before) = top.split_last()?;
    let Value::Array(items) = part else {
        return None;
    };
    let header = |n: usize| cbor::encode(&Value::Array(vec![Value::Null; n])).len() - n;
    let mut at = header(top.len());
    at += before.iter().map(|v| cbor::encode(v).len()).sum::<usize>();
    at += header(items.len());
    at += cbor::encode(items.first()?).len();
    Some(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::{Rule, decode, message_id};
    use serde_json::json;

    fn ctx() -> BuildContext {
        BuildContext {
            sender_uri: "mimi://a.example/u/alice".into(),
            room_uri: "mimi://a.example/r/club".into(),
            timestamp_ms: 1_800_000_000_000,
            salt: [7; 16],
        }
    }

    fn crafted(intent: Json, breaks: &[Breakage]) -> Result<Vec<u8>, BuildError> {
        let how = Craft {
            breaks,
            expired_ago: None,
        };
        craft(&intent, &ctx(), &how)
    }

    #[test]
    fn without_breakages_it_is_the_built_content() {
        let intent = json!({"text": "hi"});
        let bytes = crafted(intent.clone(), &[]).unwrap();
        assert_eq!(bytes, crate::content::build(&intent, &ctx()).unwrap());
    }

    #[test]
    fn each_breakage_breaks_the_rule_it_names() {
        let reply = json!({"text": "re", "reply_to": "01".repeat(32)});
        let multi =
            json!({"semantics": "chooseOne", "parts": [{"text": "a"}, {"markdown": "*a*"}]});
        let cases = [
            (Breakage::InvalidCbor, reply.clone(), Rule::Cbor),
            (Breakage::TrailingBytes, reply.clone(), Rule::Cbor),
            (Breakage::InvalidUtf8, reply.clone(), Rule::Cbor),
            (
                Breakage::NestingTooDeep,
                reply.clone(),
                Rule::NestingTooDeep,
            ),
            (
                Breakage::NestingTooDeep,
                multi.clone(),
                Rule::NestingTooDeep,
            ),
            (Breakage::TooManyParts, reply.clone(), Rule::TooManyParts),
            (Breakage::TopicTooLong, reply.clone(), Rule::TopicTooLong),
            (
                Breakage::UnknownPartSemantics,
                multi,
                Rule::UnknownPartSemantics,
            ),
            (Breakage::UnknownHashAlg, reply, Rule::UnknownHashAlg),
        ];
        for (b, intent, rule) in cases {
            let bytes = crafted(intent, &[b]).unwrap();
            let e = decode(&bytes).expect_err(b.name());
            assert_eq!(e.rule(), rule, "{}: {e}", b.name());
        }
    }

    #[test]
    fn breakages_that_need_a_shape_say_so() {
        let plain = json!({"text": "x"});
        let e = crafted(plain.clone(), &[Breakage::UnknownPartSemantics]).unwrap_err();
        assert!(e.message.contains("multipart"), "{e}");
        let e = crafted(plain, &[Breakage::UnknownHashAlg]).unwrap_err();
        assert!(e.message.contains("refers to a message"), "{e}");
    }

    #[test]
    fn an_expiry_in_the_past_is_absolute_and_keeps_the_content_valid() {
        let how = Craft {
            breaks: &[],
            expired_ago: Some(30),
        };
        let bytes = craft(&json!({"text": "gone"}), &ctx(), &how).unwrap();
        let c = decode(&bytes).unwrap().content;
        assert_eq!(
            c.expires,
            Some(Expiration {
                relative: false,
                time: 1_800_000_000 - 30
            })
        );
        // Still valid content with an ID.
        assert!(message_id(crate::content::IdFormula::Draft08, "a", "b", &bytes).is_ok());
    }
}
