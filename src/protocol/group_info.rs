//! `/groupInfo` bodies (§5.6) and the ExternalSender fields.

use super::*;
use openmls::prelude::tls_codec::{
    Deserialize, Error as TlsError, Serialize, Size, TlsDeserialize, TlsSerialize, TlsSize, VLBytes,
};
use std::io::{Read, Write};

/// `GroupInfoRequestTBS` (§5.6); also the first part of the request.
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct GroupInfoRequestTbs {
    pub protocol: u8,
    pub cipher_suite: u16,
    pub requesting_signature_key: VLBytes,
    pub requesting_credential: Raw<Credential>,
    pub group_info_public_key: VLBytes,
    pub joining_code: VLBytes,
}

/// `GroupInfoRequest` (§5.6).
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct GroupInfoRequest {
    pub tbs: GroupInfoRequestTbs,
    pub signature: VLBytes,
}

/// `PendingProposal` (§5.6).
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct PendingProposal {
    pub proposal: MlsMessage,
    pub hub_accepted_time: u64,
}

/// `GroupInfoRatchetTreeTBE` (§5.6): what the hub encrypts to the requester.
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct GroupInfoRatchetTreeTbe {
    pub group_info: Raw<VerifiableGroupInfo>,
    pub ratchet_tree: RatchetTreeOption,
    pub pending_proposals: Vec<PendingProposal>,
}

/// `ExternalSender` (RFC 9420 §12.1.8.1), read field by field.
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct ExternalSenderFields {
    pub signature_key: VLBytes,
    pub credential: Raw<Credential>,
}

/// `GroupInfoCode`.
pub mod group_info_code {
    pub const SUCCESS: u8 = 1;
    pub const NOT_AUTHORIZED: u8 = 2;
    pub const NO_SUCH_ROOM: u8 = 3;
}

/// The success part of `GroupInfoResponseTBS`.
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct GroupInfoSuccessTbs {
    pub version: u8,
    pub room_id: VLBytes,
    pub status: u8,
    pub cipher_suite: u16,
    pub hub_sender: Raw<ExternalSender>,
    pub encrypted_groupinfo_and_tree: Raw<HpkeCiphertext>,
}

/// `GroupInfoResponse` (§5.6).
#[derive(Debug, Clone, PartialEq)]
pub enum GroupInfoResponse {
    Success {
        tbs: GroupInfoSuccessTbs,
        signature: VLBytes,
    },
    Failure {
        room_id: VLBytes,
        status: u8,
    },
}

impl Size for GroupInfoResponse {
    fn tls_serialized_len(&self) -> usize {
        match self {
            Self::Success { tbs, signature } => {
                tbs.tls_serialized_len() + signature.tls_serialized_len()
            }
            Self::Failure { room_id, .. } => 2 + room_id.tls_serialized_len(),
        }
    }
}
impl Serialize for GroupInfoResponse {
    fn tls_serialize<W: Write>(&self, w: &mut W) -> Result<usize, TlsError> {
        Ok(match self {
            Self::Success { tbs, signature } => {
                tbs.tls_serialize(w)? + signature.tls_serialize(w)?
            }
            Self::Failure { room_id, status } => {
                PROTOCOL_MLS10.tls_serialize(w)?
                    + room_id.tls_serialize(w)?
                    + status.tls_serialize(w)?
            }
        })
    }
}
impl Deserialize for GroupInfoResponse {
    fn tls_deserialize<R: Read>(r: &mut R) -> Result<Self, TlsError> {
        let version = read_u8(r)?;
        let room_id = VLBytes::tls_deserialize(r)?;
        let status = read_u8(r)?;
        if status != group_info_code::SUCCESS {
            return Ok(Self::Failure { room_id, status });
        }
        let tbs = GroupInfoSuccessTbs {
            version,
            room_id,
            status,
            cipher_suite: u16::tls_deserialize(r)?,
            hub_sender: Raw::tls_deserialize(r)?,
            encrypted_groupinfo_and_tree: Raw::tls_deserialize(r)?,
        };
        Ok(Self::Success {
            tbs,
            signature: VLBytes::tls_deserialize(r)?,
        })
    }
}
