//! The room state as it rides in the MLS group: the `app_data_dictionary`
//! GroupContext extension (draft-ietf-mls-extensions) and its components,
//! participant_list and room_metadata (protocol-06 §7.5, §7.6) and the
//! policy components of room-policy-03. Pure codecs: the reference provider
//! builds its room state on them, and the harness reads the room state out
//! of the commits it relays ([`RoomView`]).

pub mod capability;
pub mod wire;

use super::codec::{DecodeError, Reader};
use wire::{
    ComponentId, PARTICIPANT_LIST_ID, ParticipantListData, ROLES_LIST_ID, ROOM_METADATA_ID,
    RoleData, RoomMetaData, WireStruct,
};

/// The `app_data_dictionary` extension type: openmls' provisional codepoint
/// (the draft still says TBD).
pub const APP_DATA_DICTIONARY_EXTENSION: u16 = 0x0006;

/// What the control API shows of a room state, read from an
/// `app_data_dictionary`: participants with their role names (from the
/// roles_list component) sorted by user, and the metadata fields that are
/// not empty (`topic` is `room_subject`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomView {
    pub participants: Vec<(String, String)>,
    pub name: Option<String>,
    pub topic: Option<String>,
    pub avatar: Option<String>,
}

/// Why an `app_data_dictionary` gives no [`RoomView`].
#[derive(Debug, thiserror::Error)]
pub enum ReadViewError {
    #[error(transparent)]
    Dictionary(#[from] DecodeError),
    #[error("component 0x{0:04x} is missing")]
    Missing(ComponentId),
    #[error(transparent)]
    Component(#[from] wire::DecodeError),
    #[error("participant {user} has role index {role_index}, which the roles_list does not define")]
    UnknownRole { user: String, role_index: u32 },
}

/// Reads the participants, role names and metadata out of an
/// `app_data_dictionary` extension body (exact decoding, peer bytes).
pub fn read_view(dictionary: &[u8]) -> Result<RoomView, ReadViewError> {
    let mut r = Reader::new(dictionary, "AppDataDictionary");
    let components = super::read_dictionary(&mut r)?;
    r.finish()?;
    let find = |id: ComponentId| {
        components
            .iter()
            .find(|c| c.component_id == id)
            .map(|c| c.data.as_slice())
            .ok_or(ReadViewError::Missing(id))
    };
    let list = ParticipantListData::decode(find(PARTICIPANT_LIST_ID)?)?;
    let roles = RoleData::decode(find(ROLES_LIST_ID)?)?;
    let meta = RoomMetaData::decode(find(ROOM_METADATA_ID)?)?;
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let mut participants = Vec::with_capacity(list.participants.len());
    for pair in &list.participants {
        let user = text(pair.user.as_slice());
        let role = roles
            .get(pair.role_index)
            .ok_or_else(|| ReadViewError::UnknownRole {
                user: user.clone(),
                role_index: pair.role_index,
            })?;
        participants.push((user, role.name()));
    }
    participants.sort();
    let field = |b: &tls_codec::VLBytes| (!b.as_slice().is_empty()).then(|| text(b.as_slice()));
    Ok(RoomView {
        participants,
        name: field(&meta.room_name),
        topic: field(&meta.room_subject),
        avatar: field(&meta.room_avatar),
    })
}
