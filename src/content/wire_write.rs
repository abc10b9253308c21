//! Typed MIMI content → CBOR value (the inverse of `wire`).

use super::cbor::Value;
use super::model::*;

/// The CBOR value of typed content (inverse of `content_from_value`).
pub fn content_to_value(c: &MimiContent) -> Value {
    let id = |m: &Option<MessageId>| match m {
        Some(id) => Value::Bytes(id.0.to_vec()),
        None => Value::Null,
    };
    Value::Array(vec![
        Value::Bytes(c.salt.to_vec()),
        id(&c.replaces),
        Value::Bytes(c.topic_id.clone()),
        match c.expires {
            Some(e) => Value::Array(vec![
                Value::Bool(e.relative),
                Value::Uint(u64::from(e.time)),
            ]),
            None => Value::Null,
        },
        id(&c.in_reply_to),
        Value::Map(c.extensions.entries.clone()),
        part_to_value(&c.nested_part),
    ])
}

fn part_to_value(p: &NestedPart) -> Value {
    let mut v = vec![
        Value::Uint(u64::from(p.disposition.0)),
        Value::Text(p.language.clone()),
    ];
    match &p.body {
        PartBody::Null => v.push(Value::Uint(0)),
        PartBody::Single {
            content_type,
            content,
        } => {
            v.push(Value::Uint(1));
            v.push(Value::Text(content_type.clone()));
            v.push(Value::Bytes(content.clone()));
        }
        PartBody::External(e) => {
            v.extend([
                Value::Uint(2),
                Value::Text(e.content_type.clone()),
                Value::Text(e.url.clone()),
                Value::Uint(u64::from(e.expires)),
                Value::Uint(e.size),
                Value::Uint(u64::from(e.enc_alg)),
                Value::Bytes(e.key.clone()),
                Value::Bytes(e.nonce.clone()),
                Value::Bytes(e.aad.clone()),
                Value::Uint(u64::from(e.hash_alg)),
                Value::Bytes(e.content_hash.clone()),
                Value::Text(e.description.clone()),
                Value::Text(e.filename.clone()),
            ]);
        }
        PartBody::Multi { semantics, parts } => {
            v.push(Value::Uint(3));
            v.push(Value::Uint(*semantics as u64));
            v.push(Value::Array(parts.iter().map(part_to_value).collect()));
        }
    }
    Value::Array(v)
}
