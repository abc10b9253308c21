//! `/update` bodies (§5.3) and the ratchet-tree and GroupInfo options.

use super::*;
use openmls::prelude::tls_codec::{
    Deserialize, Error as TlsError, Serialize, Size, TlsDeserialize, TlsSerialize, TlsSize, VLBytes,
};
use std::io::{Read, Write};

/// `GroupInfoOption`: only `full(1)` is produced and accepted.
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsDeserialize, TlsSize)]
#[repr(u8)]
pub enum GroupInfoOption {
    #[tls_codec(discriminant = 1)]
    Full(Raw<VerifiableGroupInfo>),
}

/// `RatchetTreeOption` (draft-mahy-mls-ratchet-tree-options): only `full(1)`
/// (the whole tree inline) is produced and accepted.
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsDeserialize, TlsSize)]
#[repr(u8)]
pub enum RatchetTreeOption {
    #[tls_codec(discriminant = 1)]
    Full(Raw<RatchetTreeIn>),
}

/// `HandshakeBundle` (§5.3), selected on the message's content type.
#[derive(Debug, Clone, PartialEq)]
pub enum HandshakeBundle {
    Commit {
        commit: MlsMessage,
        welcome: Option<Raw<Welcome>>,
        group_info: GroupInfoOption,
        ratchet_tree: RatchetTreeOption,
    },
    Proposal {
        proposal: MlsMessage,
        more_proposals: Vec<MlsMessage>,
    },
}

impl HandshakeBundle {
    pub fn message(&self) -> &MlsMessage {
        match self {
            Self::Commit { commit, .. } => commit,
            Self::Proposal { proposal, .. } => proposal,
        }
    }
}

impl Size for HandshakeBundle {
    fn tls_serialized_len(&self) -> usize {
        match self {
            Self::Commit {
                commit,
                welcome,
                group_info,
                ratchet_tree,
            } => {
                commit.tls_serialized_len()
                    + welcome.tls_serialized_len()
                    + group_info.tls_serialized_len()
                    + ratchet_tree.tls_serialized_len()
            }
            Self::Proposal {
                proposal,
                more_proposals,
            } => proposal.tls_serialized_len() + more_proposals.tls_serialized_len(),
        }
    }
}
impl Serialize for HandshakeBundle {
    fn tls_serialize<W: Write>(&self, w: &mut W) -> Result<usize, TlsError> {
        Ok(match self {
            Self::Commit {
                commit,
                welcome,
                group_info,
                ratchet_tree,
            } => {
                commit.tls_serialize(w)?
                    + welcome.tls_serialize(w)?
                    + group_info.tls_serialize(w)?
                    + ratchet_tree.tls_serialize(w)?
            }
            Self::Proposal {
                proposal,
                more_proposals,
            } => proposal.tls_serialize(w)? + more_proposals.tls_serialize(w)?,
        })
    }
}
impl Deserialize for HandshakeBundle {
    fn tls_deserialize<R: Read>(r: &mut R) -> Result<Self, TlsError> {
        let msg = MlsMessage::tls_deserialize(r)?;
        match message_kind(&msg)? {
            MessageKind::Commit => Ok(Self::Commit {
                commit: msg,
                welcome: Option::tls_deserialize(r)?,
                group_info: GroupInfoOption::tls_deserialize(r)?,
                ratchet_tree: RatchetTreeOption::tls_deserialize(r)?,
            }),
            MessageKind::Proposal => Ok(Self::Proposal {
                proposal: msg,
                more_proposals: Vec::tls_deserialize(r)?,
            }),
            _ => Err(bad(
                "proposalOrCommit is not a PublicMessage proposal or commit",
            )),
        }
    }
}

/// `UpdateRequest` (§5.3): `select (room.protocol) { case mls10: bundle }`,
/// so for MLS 1.0 it is the bundle alone.
pub type UpdateRequest = HandshakeBundle;

/// `UpdateRoomResponse` (§5.3).
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateRoomResponse {
    pub error_description: String,
    pub outcome: UpdateOutcome,
}

#[derive(Debug, Clone, PartialEq)]
pub enum UpdateOutcome {
    Success { accepted_timestamp: u64 },
    WrongEpoch { current_epoch: u64 },
    NotAllowed,
    InvalidProposal { invalid_proposals: Vec<VLBytes> },
}

impl UpdateRoomResponse {
    fn code(&self) -> u8 {
        match self.outcome {
            UpdateOutcome::Success { .. } => 0,
            UpdateOutcome::WrongEpoch { .. } => 1,
            UpdateOutcome::NotAllowed => 2,
            UpdateOutcome::InvalidProposal { .. } => 3,
        }
    }
    fn desc(&self) -> VLBytes {
        VLBytes::new(self.error_description.as_bytes().to_vec())
    }
}
impl Size for UpdateRoomResponse {
    fn tls_serialized_len(&self) -> usize {
        1 + self.desc().tls_serialized_len()
            + match &self.outcome {
                UpdateOutcome::Success { .. } | UpdateOutcome::WrongEpoch { .. } => 8,
                UpdateOutcome::NotAllowed => 0,
                UpdateOutcome::InvalidProposal { invalid_proposals } => {
                    invalid_proposals.tls_serialized_len()
                }
            }
    }
}
impl Serialize for UpdateRoomResponse {
    fn tls_serialize<W: Write>(&self, w: &mut W) -> Result<usize, TlsError> {
        let mut n = self.code().tls_serialize(w)? + self.desc().tls_serialize(w)?;
        n += match &self.outcome {
            UpdateOutcome::Success {
                accepted_timestamp: v,
            }
            | UpdateOutcome::WrongEpoch { current_epoch: v } => v.tls_serialize(w)?,
            UpdateOutcome::NotAllowed => 0,
            UpdateOutcome::InvalidProposal { invalid_proposals } => {
                invalid_proposals.tls_serialize(w)?
            }
        };
        Ok(n)
    }
}
impl Deserialize for UpdateRoomResponse {
    fn tls_deserialize<R: Read>(r: &mut R) -> Result<Self, TlsError> {
        let code = read_u8(r)?;
        let desc = VLBytes::tls_deserialize(r)?;
        let outcome = match code {
            0 => UpdateOutcome::Success {
                accepted_timestamp: u64::tls_deserialize(r)?,
            },
            1 => UpdateOutcome::WrongEpoch {
                current_epoch: u64::tls_deserialize(r)?,
            },
            2 => UpdateOutcome::NotAllowed,
            3 => UpdateOutcome::InvalidProposal {
                invalid_proposals: Vec::tls_deserialize(r)?,
            },
            _ => return Err(bad("unknown UpdateResponseCode")),
        };
        Ok(Self {
            error_description: String::from_utf8_lossy(desc.as_slice()).into_owned(),
            outcome,
        })
    }
}
