//! Every structure the codec knows by name (the `--as` names of
//! `mimi-interop protocol decode|encode`), as one typed [`Body`] with its
//! readable form and a one-line summary.

use super::codec::{DecodeError, Reader};
use super::mls::{self, MessageSummary};
use super::*;
use openmls::messages::group_info::VerifiableGroupInfo;
use openmls::prelude::{KeyPackageIn, MlsMessageIn, Welcome};
use serde_json::Value;

/// A structure `protocol decode|encode --as` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Structure {
    /// The directory JSON document (§5.1).
    Directory,
    /// `KeyMaterialRequest` (§5.2).
    KeyMaterialRequest,
    /// `KeyMaterialResponse` (§5.2).
    KeyMaterialResponse,
    /// `UpdateRequest`, i.e. a `HandshakeBundle` (§5.3).
    UpdateRequest,
    /// `UpdateRoomResponse` (§5.3).
    UpdateRoomResponse,
    /// `SubmitMessageRequest` (§5.4).
    SubmitMessageRequest,
    /// `SubmitMessageResponse` (§5.4).
    SubmitMessageResponse,
    /// A notify body: one or more concatenated `FanoutMessage`s (§5.5).
    Notify,
    /// Exactly one `FanoutMessage` (§5.5).
    FanoutMessage,
    /// `GroupInfoRequest` (§5.6).
    GroupInfoRequest,
    /// `GroupInfoResponse` (§5.6).
    GroupInfoResponse,
    /// `GroupInfoRatchetTreeTBE`, the plaintext the hub encrypts (§5.6).
    GroupInfoRatchetTreeTbe,
    /// `IdentifierRequest` (§5.8).
    IdentifierRequest,
    /// `IdentifierResponse` (§5.8).
    IdentifierResponse,
    /// `ConsentEntry`, the body of requestConsent and updateConsent (§5.7).
    ConsentEntry,
    /// `AbuseReport` (§5.9).
    AbuseReport,
    /// An MLSMessage (RFC 9420 §6), summarized.
    MlsMessage,
    /// A bare KeyPackage (RFC 9420 §10), summarized.
    KeyPackage,
    /// A bare Welcome (RFC 9420 §12.4.3.1), summarized.
    Welcome,
    /// A bare GroupInfo (RFC 9420 §12.4.3), summarized.
    GroupInfo,
}

/// A decoded body of any [`Structure`].
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Directory(Directory),
    KeyMaterialRequest(KeyMaterialRequest),
    KeyMaterialResponse(KeyMaterialResponse),
    UpdateRequest(HandshakeBundle),
    UpdateRoomResponse(UpdateRoomResponse),
    SubmitMessageRequest(SubmitMessageRequest),
    SubmitMessageResponse(SubmitMessageResponse),
    Notify(Vec<FanoutMessage>),
    FanoutMessage(FanoutMessage),
    GroupInfoRequest(GroupInfoRequest),
    GroupInfoResponse(GroupInfoResponse),
    GroupInfoRatchetTreeTbe(GroupInfoRatchetTreeTbe),
    IdentifierRequest(IdentifierRequest),
    IdentifierResponse(IdentifierResponse),
    ConsentEntry(ConsentEntry),
    AbuseReport(AbuseReport),
    MlsMessage(MlsMessage),
    KeyPackage(Raw<KeyPackageIn>),
    Welcome(Raw<Welcome>),
    GroupInfo(Raw<VerifiableGroupInfo>),
}

/// Why a readable form could not be encoded.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error("not a readable {structure}: {source}")]
    Readable {
        structure: &'static str,
        source: serde_json::Error,
    },
    #[error("cannot encode {structure}: {reason}")]
    Encoding {
        structure: &'static str,
        reason: String,
    },
}

/// Decodes a raw MLS object kept as bytes, with the structure as path root.
fn decode_raw<T: openmls::prelude::tls_codec::Deserialize>(
    body: &[u8],
    name: &'static str,
) -> Result<Raw<T>, DecodeError> {
    let mut r = Reader::new(body, name);
    let (_, bytes) = r.tls::<T>()?;
    let raw = Raw::from_bytes(bytes.to_vec());
    r.finish()?;
    Ok(raw)
}

impl Structure {
    pub const ALL: [Structure; 20] = [
        Self::Directory,
        Self::KeyMaterialRequest,
        Self::KeyMaterialResponse,
        Self::UpdateRequest,
        Self::UpdateRoomResponse,
        Self::SubmitMessageRequest,
        Self::SubmitMessageResponse,
        Self::Notify,
        Self::FanoutMessage,
        Self::GroupInfoRequest,
        Self::GroupInfoResponse,
        Self::GroupInfoRatchetTreeTbe,
        Self::IdentifierRequest,
        Self::IdentifierResponse,
        Self::ConsentEntry,
        Self::AbuseReport,
        Self::MlsMessage,
        Self::KeyPackage,
        Self::Welcome,
        Self::GroupInfo,
    ];

    /// The `--as` name.
    pub fn cli_name(self) -> &'static str {
        match self {
            Self::Directory => "directory",
            Self::KeyMaterialRequest => "key-material-request",
            Self::KeyMaterialResponse => "key-material-response",
            Self::UpdateRequest => "update-request",
            Self::UpdateRoomResponse => "update-room-response",
            Self::SubmitMessageRequest => "submit-message-request",
            Self::SubmitMessageResponse => "submit-message-response",
            Self::Notify => "notify",
            Self::FanoutMessage => "fanout-message",
            Self::GroupInfoRequest => "group-info-request",
            Self::GroupInfoResponse => "group-info-response",
            Self::GroupInfoRatchetTreeTbe => "group-info-ratchet-tree-tbe",
            Self::IdentifierRequest => "identifier-request",
            Self::IdentifierResponse => "identifier-response",
            Self::ConsentEntry => "consent-entry",
            Self::AbuseReport => "abuse-report",
            Self::MlsMessage => "mls-message",
            Self::KeyPackage => "key-package",
            Self::Welcome => "welcome",
            Self::GroupInfo => "group-info",
        }
    }

    /// The structure with this `--as` name.
    pub fn from_cli_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.cli_name() == name)
    }

    /// The draft's name, as in error paths.
    pub fn name(self) -> &'static str {
        match self {
            Self::Directory => "Directory",
            Self::KeyMaterialRequest => "KeyMaterialRequest",
            Self::KeyMaterialResponse => "KeyMaterialResponse",
            Self::UpdateRequest => "HandshakeBundle",
            Self::UpdateRoomResponse => "UpdateRoomResponse",
            Self::SubmitMessageRequest => "SubmitMessageRequest",
            Self::SubmitMessageResponse => "SubmitMessageResponse",
            Self::Notify => "notify",
            Self::FanoutMessage => "FanoutMessage",
            Self::GroupInfoRequest => "GroupInfoRequest",
            Self::GroupInfoResponse => "GroupInfoResponse",
            Self::GroupInfoRatchetTreeTbe => "GroupInfoRatchetTreeTBE",
            Self::IdentifierRequest => "IdentifierRequest",
            Self::IdentifierResponse => "IdentifierResponse",
            Self::ConsentEntry => "ConsentEntry",
            Self::AbuseReport => "AbuseReport",
            Self::MlsMessage => "MLSMessage",
            Self::KeyPackage => "KeyPackage",
            Self::Welcome => "Welcome",
            Self::GroupInfo => "GroupInfo",
        }
    }

    /// Decodes exactly one body of this structure.
    pub fn decode(self, body: &[u8]) -> Result<Body, DecodeError> {
        Ok(match self {
            Self::Directory => Body::Directory(decode_directory(body)?),
            Self::KeyMaterialRequest => Body::KeyMaterialRequest(decode(body)?),
            Self::KeyMaterialResponse => Body::KeyMaterialResponse(decode(body)?),
            Self::UpdateRequest => Body::UpdateRequest(decode(body)?),
            Self::UpdateRoomResponse => Body::UpdateRoomResponse(decode(body)?),
            Self::SubmitMessageRequest => Body::SubmitMessageRequest(decode(body)?),
            Self::SubmitMessageResponse => Body::SubmitMessageResponse(decode(body)?),
            Self::Notify => Body::Notify(decode_fanout_batch(body)?),
            Self::FanoutMessage => Body::FanoutMessage(decode(body)?),
            Self::GroupInfoRequest => Body::GroupInfoRequest(decode(body)?),
            Self::GroupInfoResponse => Body::GroupInfoResponse(decode(body)?),
            Self::GroupInfoRatchetTreeTbe => Body::GroupInfoRatchetTreeTbe(decode(body)?),
            Self::IdentifierRequest => Body::IdentifierRequest(decode(body)?),
            Self::IdentifierResponse => Body::IdentifierResponse(decode(body)?),
            Self::ConsentEntry => Body::ConsentEntry(decode(body)?),
            Self::AbuseReport => Body::AbuseReport(decode(body)?),
            Self::MlsMessage => Body::MlsMessage(decode_raw::<MlsMessageIn>(body, "MLSMessage")?),
            Self::KeyPackage => Body::KeyPackage(decode_raw(body, "KeyPackage")?),
            Self::Welcome => Body::Welcome(decode_raw(body, "Welcome")?),
            Self::GroupInfo => Body::GroupInfo(decode_raw(body, "GroupInfo")?),
        })
    }

    /// Builds a body from its readable form.
    pub fn from_readable(self, v: Value) -> Result<Body, EncodeError> {
        fn read<T: serde::de::DeserializeOwned>(s: Structure, v: Value) -> Result<T, EncodeError> {
            serde_json::from_value(v).map_err(|source| EncodeError::Readable {
                structure: s.name(),
                source,
            })
        }
        Ok(match self {
            Self::Directory => Body::Directory(read(self, v)?),
            Self::KeyMaterialRequest => Body::KeyMaterialRequest(read(self, v)?),
            Self::KeyMaterialResponse => Body::KeyMaterialResponse(read(self, v)?),
            Self::UpdateRequest => Body::UpdateRequest(read(self, v)?),
            Self::UpdateRoomResponse => Body::UpdateRoomResponse(read(self, v)?),
            Self::SubmitMessageRequest => Body::SubmitMessageRequest(read(self, v)?),
            Self::SubmitMessageResponse => Body::SubmitMessageResponse(read(self, v)?),
            Self::Notify => Body::Notify(read(self, v)?),
            Self::FanoutMessage => Body::FanoutMessage(read(self, v)?),
            Self::GroupInfoRequest => Body::GroupInfoRequest(read(self, v)?),
            Self::GroupInfoResponse => Body::GroupInfoResponse(read(self, v)?),
            Self::GroupInfoRatchetTreeTbe => Body::GroupInfoRatchetTreeTbe(read(self, v)?),
            Self::IdentifierRequest => Body::IdentifierRequest(read(self, v)?),
            Self::IdentifierResponse => Body::IdentifierResponse(read(self, v)?),
            Self::ConsentEntry => Body::ConsentEntry(read(self, v)?),
            Self::AbuseReport => Body::AbuseReport(read(self, v)?),
            Self::MlsMessage => Body::MlsMessage(read(self, v)?),
            Self::KeyPackage => Body::KeyPackage(read(self, v)?),
            Self::Welcome => Body::Welcome(read(self, v)?),
            Self::GroupInfo => Body::GroupInfo(read(self, v)?),
        })
    }
}

fn tls<T: openmls::prelude::tls_codec::Serialize>(
    structure: &'static str,
    v: &T,
) -> Result<Vec<u8>, EncodeError> {
    v.tls_serialize_detached()
        .map_err(|e| EncodeError::Encoding {
            structure,
            reason: format!("{e:?}"),
        })
}

impl Body {
    /// The wire bytes (JSON for the directory).
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        match self {
            Self::Directory(d) => serde_json::to_vec_pretty(d).map_err(|e| EncodeError::Encoding {
                structure: "Directory",
                reason: e.to_string(),
            }),
            Self::KeyMaterialRequest(v) => tls("KeyMaterialRequest", v),
            Self::KeyMaterialResponse(v) => tls("KeyMaterialResponse", v),
            Self::UpdateRequest(v) => tls("HandshakeBundle", v),
            Self::UpdateRoomResponse(v) => tls("UpdateRoomResponse", v),
            Self::SubmitMessageRequest(v) => tls("SubmitMessageRequest", v),
            Self::SubmitMessageResponse(v) => tls("SubmitMessageResponse", v),
            Self::Notify(v) => {
                if v.is_empty() {
                    return Err(EncodeError::Encoding {
                        structure: "notify",
                        reason: "a notify body holds at least one FanoutMessage".into(),
                    });
                }
                let mut out = Vec::new();
                for m in v {
                    out.extend(tls("FanoutMessage", m)?);
                }
                Ok(out)
            }
            Self::FanoutMessage(v) => tls("FanoutMessage", v),
            Self::GroupInfoRequest(v) => tls("GroupInfoRequest", v),
            Self::GroupInfoResponse(v) => tls("GroupInfoResponse", v),
            Self::GroupInfoRatchetTreeTbe(v) => tls("GroupInfoRatchetTreeTBE", v),
            Self::IdentifierRequest(v) => tls("IdentifierRequest", v),
            Self::IdentifierResponse(v) => tls("IdentifierResponse", v),
            Self::ConsentEntry(v) => tls("ConsentEntry", v),
            Self::AbuseReport(v) => tls("AbuseReport", v),
            Self::MlsMessage(v) => Ok(v.bytes().to_vec()),
            Self::KeyPackage(v) => Ok(v.bytes().to_vec()),
            Self::Welcome(v) => Ok(v.bytes().to_vec()),
            Self::GroupInfo(v) => Ok(v.bytes().to_vec()),
        }
    }

    /// The readable form.
    pub fn readable(&self) -> Value {
        let v = match self {
            Self::Directory(v) => serde_json::to_value(v),
            Self::KeyMaterialRequest(v) => serde_json::to_value(v),
            Self::KeyMaterialResponse(v) => serde_json::to_value(v),
            Self::UpdateRequest(v) => serde_json::to_value(v),
            Self::UpdateRoomResponse(v) => serde_json::to_value(v),
            Self::SubmitMessageRequest(v) => serde_json::to_value(v),
            Self::SubmitMessageResponse(v) => serde_json::to_value(v),
            Self::Notify(v) => serde_json::to_value(v),
            Self::FanoutMessage(v) => serde_json::to_value(v),
            Self::GroupInfoRequest(v) => serde_json::to_value(v),
            Self::GroupInfoResponse(v) => serde_json::to_value(v),
            Self::GroupInfoRatchetTreeTbe(v) => serde_json::to_value(v),
            Self::IdentifierRequest(v) => serde_json::to_value(v),
            Self::IdentifierResponse(v) => serde_json::to_value(v),
            Self::ConsentEntry(v) => serde_json::to_value(v),
            Self::AbuseReport(v) => serde_json::to_value(v),
            Self::MlsMessage(v) => serde_json::to_value(v),
            Self::KeyPackage(v) => serde_json::to_value(v),
            Self::Welcome(v) => serde_json::to_value(v),
            Self::GroupInfo(v) => serde_json::to_value(v),
        };
        // Serializing these plain data types into a Value cannot fail (no
        // non-string map keys); say so rather than panic if it ever does.
        v.unwrap_or_else(|e| Value::String(format!("unrepresentable: {e}")))
    }

    /// One line saying what the body is.
    pub fn summary(&self) -> String {
        super::summary::of(self)
    }

    /// Findings about a decoded body that are not decoding errors.
    pub fn findings(&self) -> Vec<Finding> {
        match self {
            Self::Directory(d) => d.findings(),
            _ => Vec::new(),
        }
    }
}

/// The summary of an MLSMessage kept as bytes.
pub(crate) fn message_summary(m: &MlsMessage) -> Option<MessageSummary> {
    mls::summarize_message(m.bytes())
}
