//! Message IDs (draft-ietf-mimi-content-08 §3.3).
//!
//! -08: `0x01 || SHA-256(u16be(len sender) || sender || u16be(len room) ||
//! room || message || salt)[0..31]`. Drafts up to -07 had no length
//! prefixes; that formula is kept for diagnosing older peers and is only
//! used when asked for explicitly.

use sha2::{Digest, Sha256};

use super::cbor::{self, Value};
use super::model::MessageId;

/// Which draft's message ID formula to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdFormula {
    /// draft-ietf-mimi-content-08: length-prefixed sender and room URIs.
    Draft08,
    /// draft-ietf-mimi-content-07 and earlier: no length prefixes.
    Draft07,
}

impl IdFormula {
    /// Both formulas, current first.
    pub const ALL: [IdFormula; 2] = [IdFormula::Draft08, IdFormula::Draft07];

    /// A short label (`draft-08`, `draft-07`) to print next to every ID.
    pub fn label(self) -> &'static str {
        match self {
            IdFormula::Draft08 => "draft-08",
            IdFormula::Draft07 => "draft-07",
        }
    }
}

impl std::fmt::Display for IdFormula {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// Why a message ID could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageIdError {
    #[error("the {which} URI is {len} octets, more than a 16-bit length prefix allows")]
    UriTooLong { which: &'static str, len: usize },
    #[error("cannot find the salt: {0}")]
    NoSalt(String),
    #[error("the content has no {0}")]
    NoUri(&'static str),
}

/// The message ID of `encoded` (the exact bytes as sent) under `formula`.
/// The salt is read from the first item of the encoded array.
pub fn message_id(
    formula: IdFormula,
    sender_uri: &str,
    room_uri: &str,
    encoded: &[u8],
) -> Result<MessageId, MessageIdError> {
    let salt = salt_of(encoded)?;
    message_id_with_salt(formula, sender_uri, room_uri, encoded, &salt)
}

/// The salt (first array item, 16-octet byte string) of encoded content.
pub fn salt_of(encoded: &[u8]) -> Result<[u8; 16], MessageIdError> {
    let (v, _) = cbor::decode(encoded).map_err(|e| MessageIdError::NoSalt(e.to_string()))?;
    match v {
        Value::Array(items) => match items.first() {
            Some(Value::Bytes(b)) => <[u8; 16]>::try_from(b.as_slice())
                .map_err(|_| MessageIdError::NoSalt(format!("salt is {} octets, not 16", b.len()))),
            _ => Err(MessageIdError::NoSalt(
                "first item is not a byte string".into(),
            )),
        },
        other => Err(MessageIdError::NoSalt(format!(
            "content is {}, not an array",
            other.type_name()
        ))),
    }
}

/// Like [`message_id`] with the salt given (no parsing).
pub fn message_id_with_salt(
    formula: IdFormula,
    sender_uri: &str,
    room_uri: &str,
    encoded: &[u8],
    salt: &[u8; 16],
) -> Result<MessageId, MessageIdError> {
    let mut h = Sha256::new();
    match formula {
        IdFormula::Draft08 => {
            for (which, uri) in [("sender", sender_uri), ("room", room_uri)] {
                let len = u16::try_from(uri.len()).map_err(|_| MessageIdError::UriTooLong {
                    which,
                    len: uri.len(),
                })?;
                h.update(len.to_be_bytes());
                h.update(uri.as_bytes());
            }
        }
        IdFormula::Draft07 => {
            h.update(sender_uri.as_bytes());
            h.update(room_uri.as_bytes());
        }
    }
    h.update(encoded);
    h.update(salt);
    let out = h.finalize();
    let mut id = [0u8; 32];
    id[0] = 0x01;
    id[1..].copy_from_slice(&out[..31]);
    Ok(MessageId(id))
}

/// The message ID computed from the content's own senderUri and roomUri
/// extensions (keys 1 and 2), for content that carries them (all the
/// draft's examples do).
pub fn message_id_from_extensions(
    formula: IdFormula,
    encoded: &[u8],
) -> Result<MessageId, MessageIdError> {
    let (v, _) = cbor::decode(encoded).map_err(|e| MessageIdError::NoSalt(e.to_string()))?;
    let uri = |key: u64| -> Option<String> {
        let Value::Array(items) = &v else { return None };
        let Some(Value::Map(entries)) = items.get(5) else {
            return None;
        };
        entries.iter().find_map(|(k, val)| match (k, val) {
            (Value::Uint(n), Value::Text(s)) if *n == key => Some(s.clone()),
            _ => None,
        })
    };
    let sender = uri(1).ok_or(MessageIdError::NoUri("senderUri (extension 1)"))?;
    let room = uri(2).ok_or(MessageIdError::NoUri("roomUri (extension 2)"))?;
    message_id(formula, &sender, &room, encoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_differ_only_by_length_prefixes() {
        let msg = cbor::encode(&Value::Array(vec![Value::Bytes(vec![9; 16])]));
        let a = message_id(IdFormula::Draft08, "ab", "c", &msg).unwrap();
        let b = message_id(IdFormula::Draft08, "a", "bc", &msg).unwrap();
        assert_ne!(a, b, "-08 separates the URIs");
        let a7 = message_id(IdFormula::Draft07, "ab", "c", &msg).unwrap();
        let b7 = message_id(IdFormula::Draft07, "a", "bc", &msg).unwrap();
        assert_eq!(a7, b7, "-07 concatenates them ambiguously");
        assert_eq!(a.0[0], 0x01);
    }

    #[test]
    fn errors_name_what_is_missing() {
        let msg = cbor::encode(&Value::Array(vec![Value::Bytes(vec![9; 15])]));
        assert!(matches!(
            message_id(IdFormula::Draft08, "a", "b", &msg),
            Err(MessageIdError::NoSalt(_))
        ));
        let msg = cbor::encode(&Value::Array(vec![Value::Bytes(vec![9; 16])]));
        assert_eq!(
            message_id_from_extensions(IdFormula::Draft08, &msg),
            Err(MessageIdError::NoUri("senderUri (extension 1)"))
        );
        let long = "x".repeat(70_000);
        assert!(matches!(
            message_id(IdFormula::Draft08, &long, "b", &msg),
            Err(MessageIdError::UriTooLong {
                which: "sender",
                ..
            })
        ));
    }
}
