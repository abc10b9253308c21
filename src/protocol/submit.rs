//! `/submitMessage` bodies (§5.4).

use super::*;
use openmls::prelude::tls_codec::{
    Deserialize, Error as TlsError, Serialize, Size, TlsDeserialize, TlsSerialize, TlsSize, VLBytes,
};
use std::io::{Read, Write};

/// `SubmitMessageRequest` (§5.4).
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct SubmitMessageRequest {
    pub protocol: u8,
    pub app_message: MlsMessage,
    pub sending_uri: VLBytes,
}

/// `Frank` (§5.4): the hub's stamp on an application message (§5.4.1).
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct Frank {
    pub server_frank: [u8; 32],
    pub franking_signature_ciphersuite: u16,
    pub franking_integrity_signature: VLBytes,
}

/// `SubmitMessageResponse` (§5.4).
#[derive(Debug, Clone, PartialEq)]
pub enum SubmitMessageResponse {
    Accepted {
        accepted_timestamp: u64,
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
impl Deserialize for SubmitMessageResponse {
    fn tls_deserialize<R: Read>(r: &mut R) -> Result<Self, TlsError> {
        if read_u8(r)? != PROTOCOL_MLS10 {
            return Err(bad("protocol is not mls10"));
        }
        Ok(match read_u8(r)? {
            0 => Self::Accepted {
                accepted_timestamp: u64::tls_deserialize(r)?,
                frank: Option::tls_deserialize(r)?,
            },
            1 => Self::NotAllowed,
            2 => Self::EpochTooOld {
                current_epoch: u64::tls_deserialize(r)?,
            },
            _ => return Err(bad("unknown SubmitResponseCode")),
        })
    }
}
