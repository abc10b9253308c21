//! TLS-encoded room-state components, field for field as the drafts give them.
//!
//! Vectors `<V>` are MLS variable-length vectors (RFC 9420 §2.1.2, a QUIC
//! varint length in bytes, minimal encoding, at most 2^30-1): tls_codec's
//! `Vec<T>` and [`VLBytes`] with its `mls` feature. `optional<T>` is
//! `Option<T>` (one presence byte 0/1). The drafts' one-field wrappers
//! `Uri { opaque uri<V>; }` and `UTF8String { opaque string<V>; }` encode
//! exactly like a bare `opaque <V>`, so such fields are [`VLBytes`] here.

use std::io::{Read, Write};

use tls_codec::{Deserialize, Serialize, Size, TlsDeserialize, TlsSerialize, TlsSize, VLBytes};

use super::capability::{Capability, CapabilityType};

/// An MLS component ID (draft-ietf-mls-extensions; `u16` as in openmls).
pub type ComponentId = u16;

/// draft-ietf-mimi-protocol-06 §10: participant_list.
pub const PARTICIPANT_LIST_ID: ComponentId = 0x0022;
/// protocol-06 §5.4.1, §10: franking_signature_key (`FrankingAgentData`).
pub const FRANKING_AGENT_ID: ComponentId = 0x0021;
/// draft-ietf-mimi-protocol-06 §10: room_metadata.
pub const ROOM_METADATA_ID: ComponentId = 0x0023;
/// draft-ietf-mimi-room-policy-03 §10.1: mls_operational_policy (TBD0, suggested value).
pub const MLS_OPERATIONAL_POLICY_ID: ComponentId = 0x0024;
/// draft-ietf-mimi-room-policy-03 §10.1: roles_list (TBD1, suggested value).
pub const ROLES_LIST_ID: ComponentId = 0x0025;
/// draft-ietf-mimi-room-policy-03 §10.1: preauth_list (TBD2, suggested value).
pub const PREAUTH_LIST_ID: ComponentId = 0x0026;
/// draft-ietf-mimi-room-policy-03 §10.1: base_room_policy (TBD3, suggested value).
pub const BASE_ROOM_POLICY_ID: ComponentId = 0x0027;
/// draft-ietf-mimi-room-policy-03 §10.1: status_notification_policy (TBD4, suggested value).
pub const STATUS_NOTIFICATION_POLICY_ID: ComponentId = 0x0028;

/// The policy draft's `enum { false(0), true(1) } bool;`: one byte, any
/// other value is a decoding error. Used through `#[tls_codec(with = ...)]`
/// so the Rust fields stay plain `bool`.
pub(crate) mod tls_bool {
    use super::*;

    pub fn tls_serialized_len(_value: &bool) -> usize {
        1
    }

    pub fn tls_serialize<W: Write>(
        value: &bool,
        writer: &mut W,
    ) -> Result<usize, tls_codec::Error> {
        u8::from(*value).tls_serialize(writer)
    }

    pub fn tls_deserialize<R: Read>(reader: &mut R) -> Result<bool, tls_codec::Error> {
        match u8::tls_deserialize(reader)? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(tls_codec::Error::DecodingError(format!(
                "bool must be 0 or 1, got {other}"
            ))),
        }
    }
}

/// protocol-06 §7.5: `struct { opaque user<V>; uint32 role_index; } UserRolePair;`
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct UserRolePair {
    pub user: VLBytes,
    pub role_index: u32,
}

/// protocol-06 §7.5: `struct { UserRolePair participants<V>; } ParticipantListData;`
#[derive(Debug, Clone, Default, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct ParticipantListData {
    pub participants: Vec<UserRolePair>,
}

/// protocol-06 §7.5: `struct { uint32 user_index; uint32 role_index; } UserindexRolePair;`
#[derive(Debug, Clone, Copy, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct UserindexRolePair {
    pub user_index: u32,
    pub role_index: u32,
}

/// protocol-06 §7.5: the AppDataUpdate body for the participant list,
/// applied in field order: role changes, then removals, then additions.
#[derive(Debug, Clone, Default, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct ParticipantListUpdate {
    pub changed_role_participants: Vec<UserindexRolePair>,
    pub removed_indices: Vec<u32>,
    pub added_participants: Vec<UserRolePair>,
}

impl ParticipantListUpdate {
    /// True when the update changes nothing.
    pub fn is_empty(&self) -> bool {
        self.changed_role_participants.is_empty()
            && self.removed_indices.is_empty()
            && self.added_participants.is_empty()
    }
}

/// protocol-06 §7.6: one room description; an empty `media_type` means
/// `text/plain;charset=utf-8`.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct RichDescription {
    pub media_type: VLBytes,
    pub language_tag: VLBytes,
    pub description_content: VLBytes,
}

/// protocol-06 §7.6: `RoomMetaData` (also the `RoomMetaUpdate` body, which
/// replaces the whole value).
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct RoomMetaData {
    /// `Uri room_uri`.
    pub room_uri: VLBytes,
    /// `UTF8String room_name`.
    pub room_name: VLBytes,
    pub room_descriptions: Vec<RichDescription>,
    /// `Uri room_avatar`: an https URI resolving to an avatar image.
    pub room_avatar: VLBytes,
    /// `UTF8String room_subject` (the control API's "topic").
    pub room_subject: VLBytes,
    /// `UTF8String room_mood`.
    pub room_mood: VLBytes,
}

impl RoomMetaData {
    /// Metadata of a new room: its URI, every other field empty.
    pub fn new(room_uri: &str) -> RoomMetaData {
        let empty = || VLBytes::new(Vec::new());
        RoomMetaData {
            room_uri: VLBytes::new(room_uri.as_bytes().to_vec()),
            room_name: empty(),
            room_descriptions: Vec::new(),
            room_avatar: empty(),
            room_subject: empty(),
            room_mood: empty(),
        }
    }
}

/// room-policy-03 §3: `struct { uint32 from_role_index; uint32 target_role_indexes<V>; }`.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct SingleSourceRoleChangeTargets {
    pub from_role_index: u32,
    pub target_role_indexes: Vec<u32>,
}

/// room-policy-03 §3: one role.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct Role {
    pub role_index: u32,
    pub role_name: VLBytes,
    pub role_description: VLBytes,
    pub role_capabilities: Vec<CapabilityType>,
    pub minimum_participants_constraint: u32,
    pub maximum_participants_constraint: Option<u32>,
    pub minimum_active_participants_constraint: u32,
    pub maximum_active_participants_constraint: Option<u32>,
    pub authorized_role_changes: Vec<SingleSourceRoleChangeTargets>,
}

impl Role {
    /// The role name for messages (lossy if a peer sent non-UTF-8).
    pub fn name(&self) -> String {
        String::from_utf8_lossy(self.role_name.as_slice()).into_owned()
    }

    /// Whether the role's capability list holds `capability`.
    pub fn has(&self, capability: Capability) -> bool {
        self.role_capabilities
            .contains(&CapabilityType::from(capability))
    }

    /// Whether `authorized_role_changes` allows moving a user from role
    /// `from` to role `to` (0 meaning "not in the participant list").
    pub fn may_change(&self, from: u32, to: u32) -> bool {
        self.authorized_role_changes
            .iter()
            .any(|entry| entry.from_role_index == from && entry.target_role_indexes.contains(&to))
    }
}

/// room-policy-03 §3: `struct { Role roles<V>; } RoleData;` (the roles_list
/// component; `RoleUpdate` has the same format and replaces it whole).
#[derive(Debug, Clone, Default, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct RoleData {
    pub roles: Vec<Role>,
}

impl RoleData {
    /// The role with this `role_index`, if defined (indexes need not be contiguous).
    pub fn get(&self, role_index: u32) -> Option<&Role> {
        self.roles.iter().find(|role| role.role_index == role_index)
    }

    /// The first role whose `role_name` equals `name`.
    pub fn by_name(&self, name: &str) -> Option<&Role> {
        self.roles
            .iter()
            .find(|role| role.role_name.as_slice() == name.as_bytes())
    }
}

/// room-policy-03 §5 / Appendix B: the base room policy component.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct BaseRoomPolicy {
    #[tls_codec(with = "tls_bool")]
    pub fixed_membership: bool,
    #[tls_codec(with = "tls_bool")]
    pub parent_dependant: bool,
    /// `Uri parent_room<V>`: literally a vector of `Uri`; empty unless
    /// `parent_dependant`, then exactly the parent's room URI.
    pub parent_room: Vec<VLBytes>,
    #[tls_codec(with = "tls_bool")]
    pub multi_device: bool,
    pub max_clients: Option<u32>,
    pub max_users: Option<u32>,
    #[tls_codec(with = "tls_bool")]
    pub pseudonyms_allowed: bool,
    #[tls_codec(with = "tls_bool")]
    pub persistent_room: bool,
    #[tls_codec(with = "tls_bool")]
    pub discoverable: bool,
    /// `Component policy_component_ids<V>`, read as `ComponentID` (`uint16`).
    pub policy_component_ids: Vec<ComponentId>,
}

/// room-policy-03 §6.1: `enum { optional(0), required(1), forbidden(2) } Optionality;`
#[derive(Debug, Clone, Copy, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
#[repr(u8)]
pub enum Optionality {
    Optional = 0,
    Required = 1,
    Forbidden = 2,
}

/// room-policy-03 §6.1: delivery notifications and read receipts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct StatusNotificationPolicy {
    pub delivery_notifications: Optionality,
    pub read_receipts: Optionality,
}

/// Encoding a component failed (only possible past the 2^30-1 byte vector limit).
#[derive(Debug, thiserror::Error)]
#[error("cannot encode {what}: {source}")]
pub struct EncodeError {
    pub what: &'static str,
    #[source]
    pub source: tls_codec::Error,
}

/// Decoding a component from peer bytes failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot decode {what}: {source}")]
pub struct DecodeError {
    pub what: &'static str,
    #[source]
    pub source: tls_codec::Error,
}

/// A TLS-encoded room-state structure with a name for error messages.
pub trait WireStruct: Serialize + Deserialize + Size + Sized {
    /// The draft's struct name.
    const NAME: &'static str;

    /// The TLS encoding.
    fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        self.tls_serialize_detached().map_err(|source| EncodeError {
            what: Self::NAME,
            source,
        })
    }

    /// Decodes exactly `bytes` (trailing bytes are an error).
    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::tls_deserialize_exact(bytes).map_err(|source| DecodeError {
            what: Self::NAME,
            source,
        })
    }
}

macro_rules! wire_struct {
    ($($ty:ident),* $(,)?) => {
        $(impl WireStruct for $ty {
            const NAME: &'static str = stringify!($ty);
        })*
    };
}

wire_struct!(
    UserRolePair,
    ParticipantListData,
    UserindexRolePair,
    ParticipantListUpdate,
    RichDescription,
    RoomMetaData,
    SingleSourceRoleChangeTargets,
    Role,
    RoleData,
    BaseRoomPolicy,
    StatusNotificationPolicy,
);
