//! `MessageDerivedValues` (implied.cddl): the values a receiver derives for
//! each message. Not sent on the wire; the draft gives a CBOR form and one
//! vector (`implied-original`).

use super::cbor::{self, Value};
use super::model::{MessageDerivedValues, Timestamp};
use super::wire::{bytes, message_id, text, uint_sized};
use super::{DecodeError, Rule};

/// RFC 9581 extended time tag.
const EXTENDED_TIME_TAG: u64 = 1001;

/// Decodes the 7-item `MessageDerivedValues` array.
pub fn decode_derived(b: &[u8]) -> Result<MessageDerivedValues, DecodeError> {
    let (v, _) = cbor::decode(b)?;
    let items = match &v {
        Value::Array(items) if items.len() == 7 => items,
        other => {
            return Err(DecodeError::Invalid {
                path: "$".into(),
                rule: Rule::Shape,
                message: format!(
                    "expected an array of 7 items (MessageDerivedValues), got {}",
                    cbor::diag(other).chars().take(40).collect::<String>()
                ),
            });
        }
    };
    let hub_accepted_timestamp = match &items[1] {
        Value::Uint(n) => Timestamp::Msecs(*n),
        Value::Tag(EXTENDED_TIME_TAG, inner) => match inner.as_ref() {
            Value::Map(m) => Timestamp::Extended(m.clone()),
            other => {
                return Err(DecodeError::Invalid {
                    path: "hubAcceptedTimestamp".into(),
                    rule: Rule::Shape,
                    message: format!("tag 1001 must hold a map, got {}", other.type_name()),
                });
            }
        },
        other => {
            return Err(DecodeError::Invalid {
                path: "hubAcceptedTimestamp".into(),
                rule: Rule::Shape,
                message: format!(
                    "expected an unsigned integer or tag 1001, got {}",
                    other.type_name()
                ),
            });
        }
    };
    Ok(MessageDerivedValues {
        message_id: message_id("messageId", &items[0])?,
        hub_accepted_timestamp,
        mls_group_id: bytes("mlsGroupId", &items[2])?,
        sender_leaf_index: uint_sized("senderLeafIndex", &items[3], u64::from(u32::MAX), 4)? as u32,
        sender_client_url: text("senderClientUrl", &items[4])?,
        sender_user_url: text("senderUserUrl", &items[5])?,
        room_url: text("roomUrl", &items[6])?,
    })
}

/// Deterministic CBOR of derived values.
pub fn encode_derived(d: &MessageDerivedValues) -> Vec<u8> {
    cbor::encode(&Value::Array(vec![
        Value::Bytes(d.message_id.0.to_vec()),
        match &d.hub_accepted_timestamp {
            Timestamp::Msecs(n) => Value::Uint(*n),
            Timestamp::Extended(m) => {
                Value::Tag(EXTENDED_TIME_TAG, Box::new(Value::Map(m.clone())))
            }
        },
        Value::Bytes(d.mls_group_id.clone()),
        Value::Uint(u64::from(d.sender_leaf_index)),
        Value::Text(d.sender_client_url.clone()),
        Value::Text(d.sender_user_url.clone()),
        Value::Text(d.room_url.clone()),
    ]))
}
