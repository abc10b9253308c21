//! `/update` bodies (§5.3) and the ratchet-tree and GroupInfo options.

use super::codec::unknown;
use super::*;
use openmls::prelude::tls_codec::{
    Error as TlsError, Serialize, Size, TlsSerialize, TlsSize, VLBytes,
};
use std::io::Write;

/// `GroupInfoOption`: only `full(1)` is produced and accepted.
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsSize, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[repr(u8)]
pub enum GroupInfoOption {
    #[tls_codec(discriminant = 1)]
    Full(Raw<VerifiableGroupInfo>),
}

impl Decode for GroupInfoOption {
    const NAME: &'static str = "GroupInfoOption";
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let at = r.position();
        match r.field("representation", |r| r.u8())? {
            1 => Ok(Self::Full(r.field("groupInfo", read_raw)?)),
            2 => Err(r.field_error(
                "representation",
                at,
                DecodeErrorKind::Unsupported("GroupInfoRepresentation partial(2)".into()),
            )),
            v => Err(r.field_error("representation", at, unknown("GroupInfoRepresentation", v))),
        }
    }
}

/// `RatchetTreeOption` (draft-mahy-mls-ratchet-tree-options): only `full(1)`
/// (the whole tree inline) is produced and accepted.
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsSize, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[repr(u8)]
pub enum RatchetTreeOption {
    #[tls_codec(discriminant = 1)]
    Full(Raw<RatchetTreeIn>),
}

impl Decode for RatchetTreeOption {
    const NAME: &'static str = "RatchetTreeOption";
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let at = r.position();
        match r.field("representation", |r| r.u8())? {
            1 => Ok(Self::Full(r.field("ratchetTree", read_raw)?)),
            0 => Err(r.field_error(
                "representation",
                at,
                unknown("RatchetTreeRepresentation", 0),
            )),
            v => Err(r.field_error(
                "representation",
                at,
                DecodeErrorKind::Unsupported(format!(
                    "RatchetTreeRepresentation {v} (only full(1))"
                )),
            )),
        }
    }
}

/// `HandshakeBundle` (§5.3), selected on the message's content type.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(
    tag = "contentType",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum HandshakeBundle {
    Commit {
        #[serde(rename = "proposalOrCommit")]
        commit: MlsMessage,
        #[serde(default)]
        welcome: Option<Raw<Welcome>>,
        #[serde(rename = "groupInfoOption")]
        group_info: GroupInfoOption,
        #[serde(rename = "ratchetTreeOption")]
        ratchet_tree: RatchetTreeOption,
    },
    Proposal {
        #[serde(rename = "proposalOrCommit")]
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
impl Decode for HandshakeBundle {
    const NAME: &'static str = "HandshakeBundle";
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let at = r.position();
        let (msg, kind) = r.field("proposalOrCommit", read_mls_message)?;
        match kind {
            MessageKind::Commit => Ok(Self::Commit {
                commit: msg,
                welcome: r.field("welcome", |r| r.optional(read_raw))?,
                group_info: r.field("groupInfoOption", GroupInfoOption::decode)?,
                ratchet_tree: r.field("ratchetTreeOption", RatchetTreeOption::decode)?,
            }),
            MessageKind::Proposal => Ok(Self::Proposal {
                proposal: msg,
                more_proposals: r.field("moreProposals", |r| {
                    r.vector(|r| Ok(read_mls_message(r)?.0))
                })?,
            }),
            _ => Err(r.field_error(
                "proposalOrCommit",
                at,
                DecodeErrorKind::Invalid("not a PublicMessage proposal or commit".into()),
            )),
        }
    }
}

/// `UpdateRequest` (§5.3): `select (room.protocol) { case mls10: bundle }`,
/// so for MLS 1.0 it is the bundle alone.
pub type UpdateRequest = HandshakeBundle;

/// `UpdateRoomResponse` (§5.3).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateRoomResponse {
    pub error_description: String,
    #[serde(flatten)]
    pub outcome: UpdateOutcome,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(
    tag = "responseCode",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum UpdateOutcome {
    Success {
        accepted_timestamp: u64,
    },
    WrongEpoch {
        current_epoch: u64,
    },
    NotAllowed,
    InvalidProposal {
        #[serde(with = "crate::protocol::readable::bin_vec")]
        invalid_proposals: Vec<VLBytes>,
    },
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
impl Decode for UpdateRoomResponse {
    const NAME: &'static str = "UpdateRoomResponse";
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let code = r.enum8("responseCode", "UpdateResponseCode", |c| {
            (c <= 3).then_some(c)
        })?;
        let error_description = r.field("errorDescription", |r| {
            let at = r.position();
            let bytes = r.opaque()?;
            String::from_utf8(Vec::from(bytes))
                .map_err(|_| r.error_at(at, DecodeErrorKind::Invalid("not UTF-8".into())))
        })?;
        let outcome = match code {
            0 => UpdateOutcome::Success {
                accepted_timestamp: r.field("acceptedTimestamp", |r| r.u64())?,
            },
            1 => UpdateOutcome::WrongEpoch {
                current_epoch: r.field("currentEpoch", |r| r.u64())?,
            },
            2 => UpdateOutcome::NotAllowed,
            // 3, the only other code enum8 admits.
            _ => UpdateOutcome::InvalidProposal {
                invalid_proposals: r.field("invalidProposals", |r| r.vector(|r| r.opaque()))?,
            },
        };
        Ok(Self {
            error_description,
            outcome,
        })
    }
}
