//! `/groupInfo` bodies (§5.6) and the ExternalSender fields.

use super::*;
use openmls::prelude::tls_codec::{
    Error as TlsError, Serialize, Size, TlsDeserialize, TlsSerialize, TlsSize, VLBytes,
};
use std::io::Write;

/// `GroupInfoRequestTBS` (§5.6); also the first part of the request.
/// `joiningCode` is a plain `opaque<V>` as in `GroupInfoRequest` (the TBS
/// says `optional`; see docs/deviations.md).
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsSize, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupInfoRequestTbs {
    #[serde(with = "crate::protocol::readable::protocol")]
    pub protocol: u8,
    pub cipher_suite: u16,
    #[serde(with = "crate::protocol::readable::bin")]
    pub requesting_signature_key: VLBytes,
    pub requesting_credential: Raw<Credential>,
    #[serde(with = "crate::protocol::readable::bin")]
    pub group_info_public_key: VLBytes,
    #[serde(with = "crate::protocol::readable::bin")]
    pub joining_code: VLBytes,
}

impl Decode for GroupInfoRequestTbs {
    const NAME: &'static str = "GroupInfoRequestTBS";
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            protocol: r.field("protocol", read_protocol)?,
            cipher_suite: r.field("cipherSuite", |r| r.u16())?,
            requesting_signature_key: r.field("requestingSignatureKey", |r| r.opaque())?,
            requesting_credential: r.field("requestingCredential", read_raw)?,
            group_info_public_key: r.field("groupInfoPublicKey", |r| r.opaque())?,
            joining_code: r.field("joiningCode", |r| r.opaque())?,
        })
    }
}

/// `GroupInfoRequest` (§5.6).
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsSize, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupInfoRequest {
    #[serde(flatten)]
    pub tbs: GroupInfoRequestTbs,
    #[serde(with = "crate::protocol::readable::bin")]
    pub signature: VLBytes,
}

impl Decode for GroupInfoRequest {
    const NAME: &'static str = "GroupInfoRequest";
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            tbs: GroupInfoRequestTbs::decode(r)?,
            signature: r.field("signature", |r| r.opaque())?,
        })
    }
}

/// `PendingProposal` (§5.6).
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsSize, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingProposal {
    pub proposal: MlsMessage,
    pub hub_accepted_time: u64,
}

impl Decode for PendingProposal {
    const NAME: &'static str = "PendingProposal";
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            proposal: r.field("proposal", |r| Ok(read_mls_message(r)?.0))?,
            hub_accepted_time: r.field("hubAcceptedTime", |r| r.u64())?,
        })
    }
}

/// `GroupInfoRatchetTreeTBE` (§5.6): what the hub encrypts to the requester.
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsSize, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupInfoRatchetTreeTbe {
    pub group_info: Raw<VerifiableGroupInfo>,
    #[serde(rename = "ratchetTreeOption")]
    pub ratchet_tree: RatchetTreeOption,
    pub pending_proposals: Vec<PendingProposal>,
}

impl Decode for GroupInfoRatchetTreeTbe {
    const NAME: &'static str = "GroupInfoRatchetTreeTBE";
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            group_info: r.field("groupInfo", read_raw)?,
            ratchet_tree: r.field("ratchetTreeOption", RatchetTreeOption::decode)?,
            pending_proposals: r
                .field("pendingProposals", |r| r.vector(PendingProposal::decode))?,
        })
    }
}

/// `ExternalSender` (RFC 9420 §12.1.8.1), read field by field.
#[derive(
    Debug,
    Clone,
    PartialEq,
    TlsSerialize,
    TlsDeserialize,
    TlsSize,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSenderFields {
    #[serde(with = "crate::protocol::readable::bin")]
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
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsSize, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupInfoSuccessTbs {
    #[serde(with = "crate::protocol::readable::protocol")]
    pub version: u8,
    #[serde(with = "crate::protocol::readable::text")]
    pub room_id: VLBytes,
    #[serde(with = "crate::protocol::readable::group_info_status")]
    pub status: u8,
    pub cipher_suite: u16,
    pub hub_sender: Raw<ExternalSender>,
    pub encrypted_groupinfo_and_tree: Raw<HpkeCiphertext>,
}

/// `GroupInfoResponse` (§5.6).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged, rename_all_fields = "camelCase")]
pub enum GroupInfoResponse {
    Success {
        #[serde(flatten)]
        tbs: GroupInfoSuccessTbs,
        #[serde(with = "crate::protocol::readable::bin")]
        signature: VLBytes,
    },
    Failure {
        #[serde(with = "crate::protocol::readable::text")]
        room_id: VLBytes,
        #[serde(with = "crate::protocol::readable::group_info_status")]
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
impl Decode for ExternalSenderFields {
    const NAME: &'static str = "ExternalSender";
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            signature_key: r.field("signatureKey", |r| r.opaque())?,
            credential: r.field("credential", read_raw)?,
        })
    }
}

impl Decode for GroupInfoResponse {
    const NAME: &'static str = "GroupInfoResponse";
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let version = r.field("version", read_protocol)?;
        let room_id = r.field("roomId", |r| r.opaque())?;
        let status = r.enum8("status", "GroupInfoCode", |c| {
            (1..=3).contains(&c).then_some(c)
        })?;
        if status != group_info_code::SUCCESS {
            return Ok(Self::Failure { room_id, status });
        }
        let tbs = GroupInfoSuccessTbs {
            version,
            room_id,
            status,
            cipher_suite: r.field("cipherSuite", |r| r.u16())?,
            hub_sender: r.field("hubSender", read_raw)?,
            encrypted_groupinfo_and_tree: r.field("encryptedGroupinfoAndTree", read_raw)?,
        };
        Ok(Self::Success {
            tbs,
            signature: r.field("signature", |r| r.opaque())?,
        })
    }
}
