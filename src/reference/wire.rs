//! The MIMI protocol's request and response bodies (draft-ietf-mimi-protocol-06
//! §5), TLS presentation language encoded with tls_codec.
//!
//! MLS objects inside them (MLSMessage, KeyPackage, Welcome, GroupInfo, ...)
//! are kept as [`Raw`] bytes: parsed only to find where they end, and decoded
//! into openmls types by whoever needs them. Both the client and the server
//! side use this module; it holds no keys and no content.

use openmls::messages::group_info::VerifiableGroupInfo;
use openmls::prelude::HpkeCiphertext;
use openmls::prelude::tls_codec::{
    self, Deserialize, Error as TlsError, Serialize, Size, TlsDeserialize, TlsSerialize, TlsSize,
    VLBytes,
};
use openmls::prelude::{
    Capabilities, ContentType, Credential, ExternalSender, KeyPackageIn, MlsMessageIn,
    RatchetTreeIn, RequiredCapabilitiesExtension, Welcome,
};
use std::io::{Read, Write};
use std::marker::PhantomData;

/// `Protocol.mls10`.
pub const PROTOCOL_MLS10: u8 = 1;

/// Largest body any MIMI endpoint accepts.
pub const MAX_BODY: usize = 1024 * 1024;

/// An encoded `T`, kept byte for byte.
pub struct Raw<T> {
    bytes: Vec<u8>,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for Raw<T> {
    fn clone(&self) -> Self {
        Self::from_bytes(self.bytes.clone())
    }
}
impl<T> PartialEq for Raw<T> {
    fn eq(&self, o: &Self) -> bool {
        self.bytes == o.bytes
    }
}
impl<T> std::fmt::Debug for Raw<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Raw({} bytes)", self.bytes.len())
    }
}

impl<T> Raw<T> {
    /// Wraps bytes the caller produced by encoding a `T`.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self {
            bytes,
            _t: PhantomData,
        }
    }
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

impl<T: Deserialize> Raw<T> {
    /// Decodes the bytes as exactly one `T`.
    pub fn parse(&self) -> Result<T, TlsError> {
        T::tls_deserialize_exact(&self.bytes)
    }
    /// Checks `bytes` hold exactly one `T` and wraps them.
    pub fn checked(bytes: Vec<u8>) -> Result<Self, TlsError> {
        T::tls_deserialize_exact(&bytes)?;
        Ok(Self::from_bytes(bytes))
    }
}

impl<T: Serialize> Raw<T> {
    pub fn encode(value: &T) -> Result<Self, TlsError> {
        Ok(Self::from_bytes(value.tls_serialize_detached()?))
    }
}

/// A reader that remembers what it read.
struct Tee<'a, R> {
    inner: &'a mut R,
    seen: Vec<u8>,
}

impl<R: Read> Read for Tee<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.seen.extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

impl<T: Deserialize> Deserialize for Raw<T> {
    fn tls_deserialize<R: Read>(bytes: &mut R) -> Result<Self, TlsError> {
        let mut tee = Tee {
            inner: bytes,
            seen: Vec::new(),
        };
        T::tls_deserialize(&mut tee)?;
        Ok(Self::from_bytes(tee.seen))
    }
}
impl<T> Size for Raw<T> {
    fn tls_serialized_len(&self) -> usize {
        self.bytes.len()
    }
}
impl<T> Serialize for Raw<T> {
    fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, TlsError> {
        writer.write_all(&self.bytes)?;
        Ok(self.bytes.len())
    }
}

pub type MlsMessage = Raw<MlsMessageIn>;

/// `WireFormat` values (RFC 9420 §6).
pub const WIRE_FORMAT_WELCOME: u16 = 3;
pub const WIRE_FORMAT_GROUP_INFO: u16 = 4;
pub const WIRE_FORMAT_KEY_PACKAGE: u16 = 5;

/// An MLSMessage (`mls10`) around an already encoded body.
pub fn wrap_mls_message(wire_format: u16, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 4);
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&wire_format.to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// The body of an encoded MLSMessage of the given wire format.
pub fn unwrap_mls_message(wire_format: u16, msg: &[u8]) -> Option<&[u8]> {
    if msg.len() < 4 || msg[0..2] != 1u16.to_be_bytes() || msg[2..4] != wire_format.to_be_bytes() {
        return None;
    }
    Some(&msg[4..])
}

/// What kind of MLSMessage a body carries, from its header and framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// PrivateMessage (application data for MIMI).
    Private,
    Proposal,
    Commit,
    Welcome,
    /// PublicMessage with application content, GroupInfo, KeyPackage.
    Other,
}

/// Classifies an MLSMessage (parses it fully).
pub fn message_kind(msg: &MlsMessage) -> Result<MessageKind, TlsError> {
    use openmls::prelude::MlsMessageBodyIn;
    Ok(match msg.parse()?.extract() {
        MlsMessageBodyIn::PrivateMessage(_) => MessageKind::Private,
        MlsMessageBodyIn::PublicMessage(p) => {
            match openmls::prelude::ProtocolMessage::from(p).content_type() {
                ContentType::Proposal => MessageKind::Proposal,
                ContentType::Commit => MessageKind::Commit,
                ContentType::Application => MessageKind::Other,
            }
        }
        MlsMessageBodyIn::Welcome(_) => MessageKind::Welcome,
        _ => MessageKind::Other,
    })
}

fn read_u8<R: Read>(r: &mut R) -> Result<u8, TlsError> {
    u8::tls_deserialize(r)
}

fn bad(what: &str) -> TlsError {
    TlsError::DecodingError(what.to_owned())
}

// ---------------------------------------------------------------- keyMaterial

/// `KeyMaterialRequestTBS` (§5.2); also the first part of the request.
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct KeyMaterialRequestTbs {
    pub protocol: u8,
    pub requesting_user: VLBytes,
    pub target_user: VLBytes,
    pub room_id: VLBytes,
    pub acceptable_ciphersuites: Vec<u16>,
    pub required_capabilities: Raw<RequiredCapabilitiesExtension>,
    pub requester_signature_key: VLBytes,
    pub requester_credential: Raw<Credential>,
}

/// `KeyMaterialRequest` (§5.2).
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct KeyMaterialRequest {
    pub tbs: KeyMaterialRequestTbs,
    pub signature: VLBytes,
}

/// `KeyMaterialUserCode`.
pub mod user_code {
    pub const SUCCESS: u8 = 0;
    pub const PARTIAL_SUCCESS: u8 = 1;
    pub const INCOMPATIBLE_PROTOCOL: u8 = 2;
    pub const NO_COMPATIBLE_MATERIAL: u8 = 3;
    pub const USER_UNKNOWN: u8 = 4;
    pub const NO_CONSENT: u8 = 5;
}

/// `KeyMaterialClientCode` with its selected body.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientKeyMaterialBody {
    Success(Raw<KeyPackageIn>),
    KeyMaterialExhausted,
    NothingCompatible(Option<Raw<Capabilities>>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClientKeyMaterial {
    pub client_uri: VLBytes,
    pub body: ClientKeyMaterialBody,
}

impl Size for ClientKeyMaterial {
    fn tls_serialized_len(&self) -> usize {
        1 + self.client_uri.tls_serialized_len()
            + match &self.body {
                ClientKeyMaterialBody::Success(kp) => kp.tls_serialized_len(),
                ClientKeyMaterialBody::KeyMaterialExhausted => 0,
                ClientKeyMaterialBody::NothingCompatible(c) => c.tls_serialized_len(),
            }
    }
}
impl Serialize for ClientKeyMaterial {
    fn tls_serialize<W: Write>(&self, w: &mut W) -> Result<usize, TlsError> {
        let code: u8 = match self.body {
            ClientKeyMaterialBody::Success(_) => 0,
            ClientKeyMaterialBody::KeyMaterialExhausted => 1,
            ClientKeyMaterialBody::NothingCompatible(_) => 2,
        };
        let mut n = code.tls_serialize(w)? + self.client_uri.tls_serialize(w)?;
        n += match &self.body {
            ClientKeyMaterialBody::Success(kp) => kp.tls_serialize(w)?,
            ClientKeyMaterialBody::KeyMaterialExhausted => 0,
            ClientKeyMaterialBody::NothingCompatible(c) => c.tls_serialize(w)?,
        };
        Ok(n)
    }
}
impl Deserialize for ClientKeyMaterial {
    fn tls_deserialize<R: Read>(r: &mut R) -> Result<Self, TlsError> {
        let code = read_u8(r)?;
        let client_uri = VLBytes::tls_deserialize(r)?;
        let body = match code {
            0 => ClientKeyMaterialBody::Success(Raw::tls_deserialize(r)?),
            1 => ClientKeyMaterialBody::KeyMaterialExhausted,
            2 => ClientKeyMaterialBody::NothingCompatible(Option::tls_deserialize(r)?),
            _ => return Err(bad("unknown KeyMaterialClientCode")),
        };
        Ok(Self { client_uri, body })
    }
}

/// `KeyMaterialResponse` (§5.2).
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct KeyMaterialResponse {
    pub protocol: u8,
    pub user_status: u8,
    pub user_uri: VLBytes,
    pub clients: Vec<ClientKeyMaterial>,
}

// --------------------------------------------------------------------- update

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

// -------------------------------------------------------------- submitMessage

/// `SubmitMessageRequest` (§5.4).
#[derive(Debug, Clone, PartialEq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct SubmitMessageRequest {
    pub protocol: u8,
    pub app_message: MlsMessage,
    pub sending_uri: VLBytes,
}

/// `Frank` (§5.4): parsed and passed on; the reference hub does not frank.
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

// --------------------------------------------------------------------- notify

/// `FanoutMessage` (§5.5), the tail selected on what the message is.
#[derive(Debug, Clone, PartialEq)]
pub struct FanoutMessage {
    pub timestamp: u64,
    pub message: MlsMessage,
    pub tail: FanoutTail,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FanoutTail {
    Application { frank: Option<Frank> },
    Welcome { ratchet_tree: RatchetTreeOption },
    Proposal { more_proposals: Vec<MlsMessage> },
    Commit { external_proposals: Vec<MlsMessage> },
}

impl Size for FanoutMessage {
    fn tls_serialized_len(&self) -> usize {
        8 + self.message.tls_serialized_len()
            + match &self.tail {
                FanoutTail::Application { frank } => frank.tls_serialized_len(),
                FanoutTail::Welcome { ratchet_tree } => ratchet_tree.tls_serialized_len(),
                FanoutTail::Proposal { more_proposals: v }
                | FanoutTail::Commit {
                    external_proposals: v,
                } => v.tls_serialized_len(),
            }
    }
}
impl Serialize for FanoutMessage {
    fn tls_serialize<W: Write>(&self, w: &mut W) -> Result<usize, TlsError> {
        let mut n = self.timestamp.tls_serialize(w)? + self.message.tls_serialize(w)?;
        n += match &self.tail {
            FanoutTail::Application { frank } => frank.tls_serialize(w)?,
            FanoutTail::Welcome { ratchet_tree } => ratchet_tree.tls_serialize(w)?,
            FanoutTail::Proposal { more_proposals: v }
            | FanoutTail::Commit {
                external_proposals: v,
            } => v.tls_serialize(w)?,
        };
        Ok(n)
    }
}
impl Deserialize for FanoutMessage {
    fn tls_deserialize<R: Read>(r: &mut R) -> Result<Self, TlsError> {
        let timestamp = u64::tls_deserialize(r)?;
        let message = MlsMessage::tls_deserialize(r)?;
        let tail = match message_kind(&message)? {
            MessageKind::Private => FanoutTail::Application {
                frank: Option::tls_deserialize(r)?,
            },
            MessageKind::Welcome => FanoutTail::Welcome {
                ratchet_tree: RatchetTreeOption::tls_deserialize(r)?,
            },
            MessageKind::Proposal => FanoutTail::Proposal {
                more_proposals: Vec::tls_deserialize(r)?,
            },
            MessageKind::Commit => FanoutTail::Commit {
                external_proposals: Vec::tls_deserialize(r)?,
            },
            MessageKind::Other => return Err(bad("fan-out of an unexpected MLSMessage")),
        };
        Ok(Self {
            timestamp,
            message,
            tail,
        })
    }
}

/// A notify body: one or more concatenated FanoutMessages.
pub fn decode_fanout_batch(mut body: &[u8]) -> Result<Vec<FanoutMessage>, TlsError> {
    let mut out = Vec::new();
    while !body.is_empty() {
        out.push(FanoutMessage::tls_deserialize(&mut body)?);
    }
    if out.is_empty() {
        return Err(bad("empty notify body"));
    }
    Ok(out)
}

// ------------------------------------------------------------------ groupInfo

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

/// Decodes a whole body as one `T` (trailing bytes are an error).
pub fn decode<T: Deserialize>(body: &[u8]) -> Result<T, TlsError> {
    T::tls_deserialize_exact(body)
}

/// Encodes a value; our own structures always encode.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    value
        .tls_serialize_detached()
        .expect("in-memory TLS encoding of well-formed values cannot fail")
}

/// `SignWithLabel` / `VerifyWithLabel` content (RFC 9420 §5.1.2).
#[derive(TlsSerialize, TlsSize)]
struct SignContent<'a> {
    label: tls_codec::VLByteSlice<'a>,
    content: tls_codec::VLByteSlice<'a>,
}

/// The bytes `SignWithLabel(key, label, content)` signs.
pub fn sign_content(label: &str, content: &[u8]) -> Vec<u8> {
    let full = format!("MLS 1.0 {label}");
    encode(&SignContent {
        label: tls_codec::VLByteSlice(full.as_bytes()),
        content: tls_codec::VLByteSlice(content),
    })
}

/// `EncryptContext` for `EncryptWithLabel` (RFC 9420 §5.1.3).
pub fn encrypt_context(label: &str, context: &[u8]) -> Vec<u8> {
    sign_content(label, context)
}
