//! Typed MIMI content (draft-ietf-mimi-content-08 §3–§4), as it is on the
//! wire: positional arrays become structs, enumerations keep unknown values.

use std::fmt;

use super::cbor::Value;

/// `MessageId = bstr .size 32`: hash algorithm octet + 31 hash octets.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(pub [u8; 32]);

impl MessageId {
    /// Lowercase hex, the form used in the readable JSON and the CLI.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex digits.
    pub fn from_hex(s: &str) -> Option<MessageId> {
        let v = hex::decode(s).ok()?;
        Some(MessageId(v.try_into().ok()?))
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageId({})", self.to_hex())
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// The top-level `mimiContent` array (7 items).
#[derive(Debug, Clone, PartialEq)]
pub struct MimiContent {
    pub salt: [u8; 16],
    /// {1} the message this one edits, deletes or un-reacts.
    pub replaces: Option<MessageId>,
    /// {2} opaque topic, empty = none; at most 4096 octets.
    pub topic_id: Vec<u8>,
    /// {3}
    pub expires: Option<Expiration>,
    /// {4} the message this one replies or reacts to.
    pub in_reply_to: Option<MessageId>,
    /// {6}
    pub extensions: Extensions,
    /// {7}
    pub nested_part: NestedPart,
}

/// `Expiration = [relative: bool, time: uint .size 4]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiration {
    /// true: `time` seconds after the receiver reads it; false: `time` is
    /// seconds since the UNIX epoch.
    pub relative: bool,
    pub time: u32,
}

/// The `mimiExtensions` map. Entries are kept as they came (any key order),
/// values untouched; `encode` sorts keys canonically.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Extensions {
    pub entries: Vec<(Value, Value)>,
}

impl Extensions {
    /// Key 1 (senderUri), when present.
    pub fn sender_uri(&self) -> Option<&str> {
        self.text(1)
    }

    /// Key 2 (roomUri), when present.
    pub fn room_uri(&self) -> Option<&str> {
        self.text(2)
    }

    fn text(&self, key: u64) -> Option<&str> {
        self.entries.iter().find_map(|(k, v)| match (k, v) {
            (Value::Uint(n), Value::Text(s)) if *n == key => Some(s.as_str()),
            _ => None,
        })
    }

    /// Sets (or replaces) a text value under an integer key.
    pub fn set_text(&mut self, key: u64, value: &str) {
        self.entries.retain(|(k, _)| *k != Value::Uint(key));
        self.entries
            .push((Value::Uint(key), Value::Text(value.to_string())));
    }

    /// Entries other than senderUri (1) and roomUri (2).
    pub fn others(&self) -> impl Iterator<Item = &(Value, Value)> {
        self.entries
            .iter()
            .filter(|(k, _)| !matches!(k, Value::Uint(1) | Value::Uint(2)))
    }
}

/// `NestedPart = [disposition, language, cardinality, ...]`.
#[derive(Debug, Clone, PartialEq)]
pub struct NestedPart {
    pub disposition: Disposition,
    /// "" or a comma-separated list of RFC 5646 language tags.
    pub language: String,
    pub body: PartBody,
}

/// Disposition {10}: 0..=8 are defined, 9..=255 unknown (treated as render).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Disposition(pub u8);

impl Disposition {
    pub const UNSPECIFIED: Disposition = Disposition(0);
    pub const RENDER: Disposition = Disposition(1);
    pub const REACTION: Disposition = Disposition(2);
    pub const PROFILE: Disposition = Disposition(3);
    pub const INLINE: Disposition = Disposition(4);
    pub const ICON: Disposition = Disposition(5);
    pub const ATTACHMENT: Disposition = Disposition(6);
    pub const SESSION: Disposition = Disposition(7);
    pub const PREVIEW: Disposition = Disposition(8);

    const NAMES: [&'static str; 9] = [
        "unspecified",
        "render",
        "reaction",
        "profile",
        "inline",
        "icon",
        "attachment",
        "session",
        "preview",
    ];

    /// The registry name, or None for an unknown value.
    pub fn name(self) -> Option<&'static str> {
        Self::NAMES.get(usize::from(self.0)).copied()
    }

    /// Parses a registry name.
    pub fn from_name(s: &str) -> Option<Disposition> {
        Self::NAMES
            .iter()
            .position(|n| *n == s)
            .and_then(|i| u8::try_from(i).ok())
            .map(Disposition)
    }

    /// How a receiver must treat it: unknown values act as `render` (§8.1).
    pub fn effective(self) -> Disposition {
        if self.name().is_some() {
            self
        } else {
            Disposition::RENDER
        }
    }
}

/// The cardinality-dependent rest of a NestedPart.
#[derive(Debug, Clone, PartialEq)]
pub enum PartBody {
    /// cardinality 0: no content (delete, unlike).
    Null,
    /// cardinality 1.
    Single {
        content_type: String,
        content: Vec<u8>,
    },
    /// cardinality 2.
    External(ExternalPart),
    /// cardinality 3: two or more parts.
    Multi {
        semantics: PartSemantics,
        parts: Vec<NestedPart>,
    },
}

/// partSemantics {9}. Unknown values make the message invalid (§8.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartSemantics {
    ChooseOne = 0,
    SingleUnit = 1,
    ProcessAll = 2,
}

impl PartSemantics {
    pub fn name(self) -> &'static str {
        match self {
            PartSemantics::ChooseOne => "chooseOne",
            PartSemantics::SingleUnit => "singleUnit",
            PartSemantics::ProcessAll => "processAll",
        }
    }

    pub fn from_name(s: &str) -> Option<PartSemantics> {
        match s {
            "chooseOne" => Some(PartSemantics::ChooseOne),
            "singleUnit" => Some(PartSemantics::SingleUnit),
            "processAll" => Some(PartSemantics::ProcessAll),
            _ => None,
        }
    }

    pub fn from_u64(n: u64) -> Option<PartSemantics> {
        match n {
            0 => Some(PartSemantics::ChooseOne),
            1 => Some(PartSemantics::SingleUnit),
            2 => Some(PartSemantics::ProcessAll),
            _ => None,
        }
    }
}

/// ExternalPart (§4.5): content stored elsewhere, optionally AEAD-encrypted.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExternalPart {
    pub content_type: String,
    pub url: String,
    /// Seconds since the epoch after which the URL is invalid; 0 = never.
    pub expires: u32,
    /// Octets, 0 = unknown.
    pub size: u64,
    /// IANA AEAD algorithm number, 0 = not encrypted; 1 = AES-128-GCM.
    pub enc_alg: u16,
    pub key: Vec<u8>,
    pub nonce: Vec<u8>,
    pub aad: Vec<u8>,
    /// IANA named-information hash algorithm, 0 = none; 1 = sha-256.
    pub hash_alg: u8,
    pub content_hash: Vec<u8>,
    pub description: String,
    pub filename: String,
}

/// `MessageDerivedValues` (implied.cddl): values a receiver derives, never
/// sent inside the content.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageDerivedValues {
    pub message_id: MessageId,
    pub hub_accepted_timestamp: Timestamp,
    pub mls_group_id: Vec<u8>,
    pub sender_leaf_index: u32,
    pub sender_client_url: String,
    pub sender_user_url: String,
    pub room_url: String,
}

/// `Timestamp = MsecsSinceEpoch / ExtendedTime`.
#[derive(Debug, Clone, PartialEq)]
pub enum Timestamp {
    /// Milliseconds since the UNIX epoch.
    Msecs(u64),
    /// RFC 9581 extended time: the map inside tag 1001, kept as it came.
    Extended(Vec<(Value, Value)>),
}

/// `MessageStatusReport = [* PerMessageStatus]` (draft-mahy-mimi-message-status-01).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MessageStatusReport {
    pub statuses: Vec<PerMessageStatus>,
}

/// `[messageId, status]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerMessageStatus {
    pub message_id: MessageId,
    pub status: MessageStatus,
}

/// Status code: 0..=6 defined, 7..=255 unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageStatus(pub u8);

impl MessageStatus {
    pub const UNREAD: MessageStatus = MessageStatus(0);
    pub const DELIVERED: MessageStatus = MessageStatus(1);
    pub const READ: MessageStatus = MessageStatus(2);
    pub const EXPIRED: MessageStatus = MessageStatus(3);
    pub const DELETED: MessageStatus = MessageStatus(4);
    pub const HIDDEN: MessageStatus = MessageStatus(5);
    pub const ERROR: MessageStatus = MessageStatus(6);

    const NAMES: [&'static str; 7] = [
        "unread",
        "delivered",
        "read",
        "expired",
        "deleted",
        "hidden",
        "error",
    ];

    pub fn name(self) -> Option<&'static str> {
        Self::NAMES.get(usize::from(self.0)).copied()
    }

    pub fn from_name(s: &str) -> Option<MessageStatus> {
        Self::NAMES
            .iter()
            .position(|n| *n == s)
            .and_then(|i| u8::try_from(i).ok())
            .map(MessageStatus)
    }
}
