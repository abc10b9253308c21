//! MIMI content (draft-ietf-mimi-content-08): codec, message IDs, validation,
//! a readable JSON form, attachments and message-status reports.
//!
//! Public API used by the rest of the crate (see `docs/content.md`):
//! - [`decode`]`(bytes) -> Result<Decoded, DecodeError>`: strict decode.
//!   Fatal problems (the draft says discard) are a [`DecodeError`] with a
//!   field path such as `nestedPart.parts[2].contentType`; problems that still
//!   let the message be shown (non-deterministic CBOR, unknown disposition…)
//!   are [`Finding`]s in [`Decoded::findings`].
//! - [`encode`]`(&MimiContent) -> Vec<u8>`: deterministic CBOR (RFC 8949 §4.2.1).
//! - [`message_id`]`(IdFormula, sender_uri, room_uri, encoded)`: the -08 ID
//!   (or the -07 one when asked), salt read from `encoded`;
//!   [`message_id_from_extensions`] takes the URIs from extensions 1 and 2.
//! - [`build()`]`(&intent_json, &BuildContext) -> Result<Vec<u8>, BuildError>`:
//!   readable JSON intent → canonical CBOR.
//! - [`to_readable`]`(&MimiContent) -> serde_json::Value` and
//!   [`partial_match`]`(expected, actual) -> Result<(), Mismatch>`.
//! - [`decode_status`] / [`encode_status`] / [`build_status`] /
//!   [`status_to_readable`] for `application/mimi-message-status`,
//!   [`decode_derived`] / [`encode_derived`] for `MessageDerivedValues`.
//! - [`craft::craft`]: an intent built, then broken on purpose in named
//!   ways ([`craft::Breakage`]) for negative tests.
//! - [`attachment`]: AES-128-GCM for ExternalPart content and hash checks.
//! - [`receive_checks`]: the §8.1 rules that need receiver state (duplicate
//!   IDs, expiry window, unknown references).

pub mod attachment;
pub mod build;
pub mod cbor;
pub mod cli;
pub mod craft;
pub mod derived;
pub mod diag;
pub mod id;
pub mod model;
pub mod paths;
pub mod readable;
pub mod receive;
pub mod status;
pub mod wire;
pub mod wire_write;

pub use build::{BuildContext, BuildError, build, build_content};
pub use derived::{decode_derived, encode_derived};
pub use id::{
    IdFormula, MessageIdError, message_id, message_id_from_extensions, message_id_with_salt,
};
pub use model::*;
pub use readable::{Mismatch, partial_match, to_readable};
pub use receive::{ReceiveContext, receive_checks};
pub use status::{DecodedStatus, build_status, decode_status, encode_status, status_to_readable};

use std::fmt;

/// A decoded message: the content plus everything noticed that did not
/// force a discard.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub content: MimiContent,
    pub findings: Vec<Finding>,
}

impl Decoded {
    /// True when the bytes were deterministic CBOR and broke no sender rule.
    pub fn is_clean(&self) -> bool {
        !self
            .findings
            .iter()
            .any(|f| f.kind == FindingKind::Violation)
    }
}

/// Something noticed in a message that can still be shown.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// Field path, e.g. `nestedPart.parts[1].disposition`.
    pub path: String,
    pub kind: FindingKind,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.kind.label(), self.path, self.message)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingKind {
    /// The sender broke a MUST (e.g. encoding not deterministic), but the
    /// draft does not require discarding the message.
    Violation,
    /// Receiver handling note (e.g. unknown disposition treated as render).
    Info,
}

impl FindingKind {
    pub fn label(self) -> &'static str {
        match self {
            FindingKind::Violation => "violation",
            FindingKind::Info => "info",
        }
    }
}

/// Which rule a fatal error broke (stable names, used by tests and reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// Not well-formed CBOR, invalid UTF-8, duplicate map keys, too deep.
    Cbor,
    /// A CDDL shape mismatch (wrong type, wrong item count, unknown cardinality).
    Shape,
    /// A CDDL size mismatch (salt 16, MessageId 32, `uint .size n`).
    Size,
    /// A MessageId whose first octet is not a known hash algorithm.
    UnknownHashAlg,
    /// topicId longer than 4096 octets.
    TopicTooLong,
    /// NestedParts nested more than 4 levels deep.
    NestingTooDeep,
    /// More than 1024 body parts.
    TooManyParts,
    /// partSemantics other than 0, 1, 2.
    UnknownPartSemantics,
    /// Extension map key not an int / 1..255-octet text (or bad nested key).
    ExtensionKey,
    /// Extension values nested more than 4 levels deep.
    ExtensionDepth,
    /// Receiver-state rules (duplicate ID, expiry window).
    Receiver,
}

impl Rule {
    pub fn name(self) -> &'static str {
        match self {
            Rule::Cbor => "cbor",
            Rule::Shape => "shape",
            Rule::Size => "size",
            Rule::UnknownHashAlg => "unknown-hash-alg",
            Rule::TopicTooLong => "topic-too-long",
            Rule::NestingTooDeep => "nesting-too-deep",
            Rule::TooManyParts => "too-many-parts",
            Rule::UnknownPartSemantics => "unknown-part-semantics",
            Rule::ExtensionKey => "extension-key",
            Rule::ExtensionDepth => "extension-depth",
            Rule::Receiver => "receiver",
        }
    }
}

/// Why bytes are not acceptable MIMI content (the message must be discarded).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("$: not well-formed CBOR: {0}")]
    Cbor(#[from] cbor::CborError),
    #[error("{path}: {message}")]
    Invalid {
        path: String,
        rule: Rule,
        message: String,
    },
}

impl DecodeError {
    /// The field path (`$` for the whole input).
    pub fn path(&self) -> &str {
        match self {
            DecodeError::Cbor(_) => "$",
            DecodeError::Invalid { path, .. } => path,
        }
    }

    pub fn rule(&self) -> Rule {
        match self {
            DecodeError::Cbor(_) => Rule::Cbor,
            DecodeError::Invalid { rule, .. } => *rule,
        }
    }
}

/// Strictly decodes `application/mimi-content` bytes.
pub fn decode(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    let (value, notes) = cbor::decode(bytes)?;
    let (content, mut findings) = wire::content_from_value(&value)?;
    let mut nd: Vec<Finding> = notes
        .iter()
        .map(|n| Finding {
            path: paths::field_path(&value, &n.path),
            kind: FindingKind::Violation,
            message: format!(
                "not deterministic CBOR (RFC 8949 §4.2.1) at byte {}: {}",
                n.offset, n.reason
            ),
        })
        .collect();
    if notes.is_empty() && encode(&content) != bytes {
        // Defensive: the reader should have noted every difference.
        nd.push(Finding {
            path: "$".into(),
            kind: FindingKind::Violation,
            message: "not deterministic CBOR: re-encoding differs".into(),
        });
    }
    nd.append(&mut findings);
    Ok(Decoded {
        content,
        findings: nd,
    })
}

/// Deterministic CBOR encoding of content.
pub fn encode(content: &MimiContent) -> Vec<u8> {
    cbor::encode(&wire_write::content_to_value(content))
}
