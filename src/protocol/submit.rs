//! `/submitMessage` bodies (§5.4).

use super::*;
use openmls::prelude::tls_codec::{
    Error as TlsError, Serialize, Size, TlsSerialize, TlsSize, VLBytes,
};
use std::io::Write;

/// `SubmitMessageRequest` (§5.4).
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsSize, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubmitMessageRequest {
    #[serde(with = "crate::protocol::readable::protocol")]
    pub protocol: u8,
    pub app_message: MlsMessage,
    #[serde(with = "crate::protocol::readable::text")]
    pub sending_uri: VLBytes,
}

impl Decode for SubmitMessageRequest {
    const NAME: &'static str = "SubmitMessageRequest";
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            protocol: r.field("protocol", read_protocol)?,
            app_message: r.field("appMessage", |r| Ok(read_mls_message(r)?.0))?,
            sending_uri: r.field("sendingUri", |r| r.opaque())?,
        })
    }
}

/// `Frank` (§5.4): the hub's stamp on an application message (§5.4.1).
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsSize, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Frank {
    #[serde(with = "crate::protocol::readable::hex32")]
    pub server_frank: [u8; 32],
    pub franking_signature_ciphersuite: u16,
    #[serde(with = "crate::protocol::readable::bin")]
    pub franking_integrity_signature: VLBytes,
}

impl Decode for Frank {
    const NAME: &'static str = "Frank";
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            server_frank: r.field("serverFrank", |r| r.array32())?,
            franking_signature_ciphersuite: r.field("frankingSignatureCiphersuite", |r| r.u16())?,
            franking_integrity_signature: r.field("frankingIntegritySignature", |r| r.opaque())?,
        })
    }
}

/// `SubmitMessageResponse` (§5.4).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(
    tag = "statusCode",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum SubmitMessageResponse {
    Accepted {
        accepted_timestamp: u64,
        #[serde(default)]
        frank: Option<Frank>,
    },
    NotAllowed,
    EpochTooOld {
        current_epoch: u64,
    },
}

impl Size for SubmitMessageResponse {
    fn tls_serialized_len(&self) -> usize {
        2 + match self {
            Self::Accepted { frank, .. } => 8 + frank.tls_serialized_len(),
            Self::NotAllowed => 0,
            Self::EpochTooOld { .. } => 8,
        }
    }
}
impl Serialize for SubmitMessageResponse {
    fn tls_serialize<W: Write>(&self, w: &mut W) -> Result<usize, TlsError> {
        let mut n = PROTOCOL_MLS10.tls_serialize(w)?;
        n += match self {
            Self::Accepted {
                accepted_timestamp,
                frank,
            } => {
                0u8.tls_serialize(w)?
                    + accepted_timestamp.tls_serialize(w)?
                    + frank.tls_serialize(w)?
            }
            Self::NotAllowed => 1u8.tls_serialize(w)?,
            Self::EpochTooOld { current_epoch } => {
                2u8.tls_serialize(w)? + current_epoch.tls_serialize(w)?
            }
        };
        Ok(n)
    }
}
impl Decode for SubmitMessageResponse {
    const NAME: &'static str = "SubmitMessageResponse";
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.field("protocol", read_protocol)?;
        let code = r.enum8("statusCode", "SubmitResponseCode", |c| {
            (c <= 2).then_some(c)
        })?;
        Ok(match code {
            0 => Self::Accepted {
                accepted_timestamp: r.field("acceptedTimestamp", |r| r.u64())?,
                frank: r.field("frank", |r| r.optional(Frank::decode))?,
            },
            1 => Self::NotAllowed,
            // 2, the only other code enum8 admits.
            _ => Self::EpochTooOld {
                current_epoch: r.field("currentEpoch", |r| r.u64())?,
            },
        })
    }
}
