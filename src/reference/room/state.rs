//! The room state a hub keeps (protocol-06 §4.3.1, §7.1) and the pure
//! transitions on it: applying a participant-list update (§7.5) and a
//! metadata update (§7.6), and the component encoding for the MLS
//! `app_data_dictionary`.

use std::collections::HashSet;

use tls_codec::VLBytes;

use super::roles::{
    ROLE_ADMIN, ROLE_BANNED, ROLE_NO_ROLE, ROLE_USER, default_status_notifications, dm_policy,
    dm_roles, group_policy, group_roles,
};
use super::wire::{
    BASE_ROOM_POLICY_ID, BaseRoomPolicy, ComponentId, DecodeError, EncodeError, FRANKING_AGENT_ID,
    PARTICIPANT_LIST_ID, ParticipantListData, ParticipantListUpdate, ROLES_LIST_ID,
    ROOM_METADATA_ID, RoleData, RoomMetaData, STATUS_NOTIFICATION_POLICY_ID,
    StatusNotificationPolicy, UserRolePair, WireStruct,
};

/// Everything the hub knows about a room apart from MLS state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomState {
    pub policy: BaseRoomPolicy,
    pub roles: RoleData,
    pub participants: ParticipantListData,
    pub metadata: RoomMetaData,
    /// Present when the room publishes a status_notification_policy component.
    pub status_notifications: Option<StatusNotificationPolicy>,
    /// The `franking_signature_key` component (0x0021, protocol-06 §5.4.1):
    /// an encoded `FrankingAgentData`, kept as bytes and never changed.
    pub franking_agent: Option<Vec<u8>>,
}

/// Creating a room's initial state failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreateRoomError {
    #[error("a direct message room needs two different users, got {0} twice")]
    SameUserTwice(String),
    #[error("user URI must not be empty")]
    EmptyUser,
}

/// A ParticipantListUpdate broke the validity rules of protocol-06 §7.5
/// (or a room-wide maximum). The state is left unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyUpdateError {
    #[error("{field} index {index} is out of range (participant list has {len} entries)")]
    IndexOutOfRange {
        field: &'static str,
        index: u32,
        len: usize,
    },
    #[error("user {user} is changed more than once in one update")]
    UserTouchedTwice { user: String },
    #[error("added user {user} is already in the participant list")]
    AlreadyPresent { user: String },
    #[error("added user URI is empty")]
    EmptyUser,
    #[error("added user URI is not UTF-8")]
    UserNotUtf8,
    #[error("{field} uses role index 0, which means absent (use removedIndices)")]
    RoleZero { field: &'static str },
    #[error("role index {role_index} is not defined in the roles list")]
    UnknownRole { role_index: u32 },
    #[error("role {role} would have {count} participants, more than its maximum {max}")]
    RoleFull {
        role: String,
        count: usize,
        max: u32,
    },
    #[error("room would have {count} non-banned users, more than max_users {max}")]
    RoomFull { count: usize, max: u32 },
}

/// A RoomMetaData update was not acceptable (protocol-06 §7.6).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyMetadataError {
    #[error("room_uri cannot change (from {from} to {to})")]
    RoomUriChanged { from: String, to: String },
    #[error("{field} is not valid UTF-8 without NUL")]
    NotUtf8 { field: &'static str },
}

/// Building a RoomState from `app_data_dictionary` components failed.
#[derive(Debug, thiserror::Error)]
pub enum FromComponentsError {
    #[error("component 0x{0:04x} appears twice")]
    Duplicate(ComponentId),
    #[error("required component 0x{id:04x} ({name}) is missing")]
    Missing { id: ComponentId, name: &'static str },
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

fn bytes(text: &str) -> VLBytes {
    VLBytes::new(text.as_bytes().to_vec())
}

/// Lossy text of opaque bytes, for views and messages.
pub(crate) fn text(value: &VLBytes) -> String {
    String::from_utf8_lossy(value.as_slice()).into_owned()
}

impl RoomState {
    /// A new group room: the creator is its only participant, as `admin`.
    pub fn new_group(room_uri: &str, creator: &str) -> Result<RoomState, CreateRoomError> {
        if creator.is_empty() {
            return Err(CreateRoomError::EmptyUser);
        }
        Ok(RoomState {
            policy: group_policy(),
            roles: group_roles(),
            participants: ParticipantListData {
                participants: vec![UserRolePair {
                    user: bytes(creator),
                    role_index: ROLE_ADMIN,
                }],
            },
            metadata: RoomMetaData::new(room_uri),
            status_notifications: Some(default_status_notifications()),
            franking_agent: None,
        })
    }

    /// A new direct-message room: fixed membership of exactly `creator` and
    /// `other`, both `user` (room-policy-03 §5).
    pub fn new_dm(
        room_uri: &str,
        creator: &str,
        other: &str,
    ) -> Result<RoomState, CreateRoomError> {
        if creator.is_empty() || other.is_empty() {
            return Err(CreateRoomError::EmptyUser);
        }
        if creator == other {
            return Err(CreateRoomError::SameUserTwice(creator.to_owned()));
        }
        let pair = |user: &str| UserRolePair {
            user: bytes(user),
            role_index: ROLE_USER,
        };
        Ok(RoomState {
            policy: dm_policy(),
            roles: dm_roles(),
            participants: ParticipantListData {
                participants: vec![pair(creator), pair(other)],
            },
            metadata: RoomMetaData::new(room_uri),
            status_notifications: Some(default_status_notifications()),
            franking_agent: None,
        })
    }

    /// Position of `user` in the participant list.
    pub fn index_of(&self, user: &str) -> Option<usize> {
        self.participants
            .participants
            .iter()
            .position(|pair| pair.user.as_slice() == user.as_bytes())
    }

    /// The user's role index; 0 (`no_role`) when not in the participant list.
    pub fn role_of(&self, user: &str) -> u32 {
        self.index_of(user)
            .and_then(|index| self.participants.participants.get(index))
            .map_or(ROLE_NO_ROLE, |pair| pair.role_index)
    }

    /// The role name for an index, or `role#N` if the index is undefined.
    pub fn role_name(&self, role_index: u32) -> String {
        self.roles
            .get(role_index)
            .map_or_else(|| format!("role#{role_index}"), |role| role.name())
    }

    /// The index of the role called `name` (e.g. a control API role name).
    pub fn role_index_by_name(&self, name: &str) -> Option<u32> {
        self.roles.by_name(name).map(|role| role.role_index)
    }

    /// How many participants hold `role_index`.
    pub fn count_in_role(&self, role_index: u32) -> usize {
        self.participants
            .participants
            .iter()
            .filter(|pair| pair.role_index == role_index)
            .count()
    }

    /// Participant-list entries that are not banned (what `max_users` limits, §5).
    pub fn non_banned_count(&self) -> usize {
        self.participants.participants.len() - self.count_in_role(ROLE_BANNED)
    }

    /// protocol-06 §5.3: a user who is not (or no longer) an active
    /// participant, or who is banned, may only send Remove/SelfRemove
    /// proposals; the hub refuses its application messages and commits.
    pub fn restricted_to_removals(&self, user: &str) -> bool {
        let role = self.role_of(user);
        role == ROLE_NO_ROLE
            || role == ROLE_BANNED
            || self
                .roles
                .get(role)
                .is_none_or(|r| r.maximum_active_participants_constraint == Some(0))
    }

    /// The control API view: `(user URI, role name)` sorted by user.
    pub fn participants(&self) -> Vec<(String, String)> {
        let mut view: Vec<(String, String)> = self
            .participants
            .participants
            .iter()
            .map(|pair| (text(&pair.user), self.role_name(pair.role_index)))
            .collect();
        view.sort();
        view
    }

    /// Applies a participant-list update (protocol-06 §7.5): role changes,
    /// then removals, then additions appended at the end. Rejects indices out
    /// of range, a user touched more than once, an added user already
    /// present, role 0 or undefined roles, and exceeding role or room maxima.
    /// Authorization is separate ([`RoomState::authorize_update`]).
    pub fn apply(&self, update: &ParticipantListUpdate) -> Result<RoomState, ApplyUpdateError> {
        let state = self.apply_unchecked(update)?;
        state.check_maxima()?;
        Ok(state)
    }

    /// [`RoomState::apply`] without the role and room maxima: how the
    /// harness's adversary builds a list the hub must refuse (a third user
    /// in a DM).
    pub fn apply_unchecked(
        &self,
        update: &ParticipantListUpdate,
    ) -> Result<RoomState, ApplyUpdateError> {
        let list = &self.participants.participants;
        let len = list.len();
        let mut touched: HashSet<u32> = HashSet::new();
        let in_range = |field: &'static str, index: u32| -> Result<usize, ApplyUpdateError> {
            usize::try_from(index)
                .ok()
                .filter(|i| *i < len)
                .ok_or(ApplyUpdateError::IndexOutOfRange { field, index, len })
        };
        let mut next = list.clone();
        for change in &update.changed_role_participants {
            let index = in_range("changedRoleParticipants", change.user_index)?;
            self.check_role("changedRoleParticipants", change.role_index)?;
            if !touched.insert(change.user_index) {
                return Err(ApplyUpdateError::UserTouchedTwice {
                    user: text(&list[index].user),
                });
            }
            next[index].role_index = change.role_index;
        }
        let mut removed = vec![false; len];
        for &user_index in &update.removed_indices {
            let index = in_range("removedIndices", user_index)?;
            if !touched.insert(user_index) {
                return Err(ApplyUpdateError::UserTouchedTwice {
                    user: text(&list[index].user),
                });
            }
            removed[index] = true;
        }
        let mut next: Vec<UserRolePair> = next
            .into_iter()
            .zip(removed)
            .filter_map(|(pair, gone)| (!gone).then_some(pair))
            .collect();
        let mut added_users: HashSet<&[u8]> = HashSet::new();
        for pair in &update.added_participants {
            let user = pair.user.as_slice();
            if user.is_empty() {
                return Err(ApplyUpdateError::EmptyUser);
            }
            if std::str::from_utf8(user).is_err() {
                return Err(ApplyUpdateError::UserNotUtf8);
            }
            self.check_role("addedParticipants", pair.role_index)?;
            if list.iter().any(|existing| existing.user.as_slice() == user) {
                return Err(ApplyUpdateError::AlreadyPresent {
                    user: text(&pair.user),
                });
            }
            if !added_users.insert(user) {
                return Err(ApplyUpdateError::UserTouchedTwice {
                    user: text(&pair.user),
                });
            }
            next.push(pair.clone());
        }
        Ok(RoomState {
            participants: ParticipantListData { participants: next },
            ..self.clone()
        })
    }

    fn check_role(&self, field: &'static str, role_index: u32) -> Result<(), ApplyUpdateError> {
        if role_index == ROLE_NO_ROLE {
            return Err(ApplyUpdateError::RoleZero { field });
        }
        if self.roles.get(role_index).is_none() {
            return Err(ApplyUpdateError::UnknownRole { role_index });
        }
        Ok(())
    }

    /// Role `maximum_participants_constraint`s and the base policy's `max_users`.
    fn check_maxima(&self) -> Result<(), ApplyUpdateError> {
        for role in &self.roles.roles {
            if let Some(max) = role.maximum_participants_constraint {
                let count = self.count_in_role(role.role_index);
                if count > max as usize {
                    return Err(ApplyUpdateError::RoleFull {
                        role: role.name(),
                        count,
                        max,
                    });
                }
            }
        }
        if let Some(max) = self.policy.max_users {
            let count = self.non_banned_count();
            if count > max as usize {
                return Err(ApplyUpdateError::RoomFull { count, max });
            }
        }
        Ok(())
    }

    /// Replaces the room metadata whole (protocol-06 §7.6), after checking
    /// the room URI is unchanged and the UTF8String fields are UTF-8 without NUL.
    pub fn apply_metadata(&self, update: &RoomMetaData) -> Result<RoomState, ApplyMetadataError> {
        validate_metadata(&self.metadata, update)?;
        Ok(RoomState {
            metadata: update.clone(),
            ..self.clone()
        })
    }

    /// The state as `app_data_dictionary` components, ordered by ID.
    pub fn components(&self) -> Result<Vec<(ComponentId, Vec<u8>)>, EncodeError> {
        let mut out = Vec::new();
        if let Some(agent) = &self.franking_agent {
            out.push((FRANKING_AGENT_ID, agent.clone()));
        }
        out.extend([
            (PARTICIPANT_LIST_ID, self.participants.encode()?),
            (ROOM_METADATA_ID, self.metadata.encode()?),
            (ROLES_LIST_ID, self.roles.encode()?),
            (BASE_ROOM_POLICY_ID, self.policy.encode()?),
        ]);
        if let Some(status) = &self.status_notifications {
            out.push((STATUS_NOTIFICATION_POLICY_ID, status.encode()?));
        }
        Ok(out)
    }

    /// Rebuilds the state from `app_data_dictionary` components; components
    /// this model does not know are ignored.
    pub fn from_components<'a>(
        components: impl IntoIterator<Item = (ComponentId, &'a [u8])>,
    ) -> Result<RoomState, FromComponentsError> {
        let mut seen = HashSet::new();
        let (mut participants, mut metadata, mut roles, mut policy, mut status) =
            (None, None, None, None, None);
        let mut franking_agent = None;
        for (id, data) in components {
            if !seen.insert(id) {
                return Err(FromComponentsError::Duplicate(id));
            }
            match id {
                PARTICIPANT_LIST_ID => participants = Some(ParticipantListData::decode(data)?),
                ROOM_METADATA_ID => metadata = Some(RoomMetaData::decode(data)?),
                ROLES_LIST_ID => roles = Some(RoleData::decode(data)?),
                BASE_ROOM_POLICY_ID => policy = Some(BaseRoomPolicy::decode(data)?),
                STATUS_NOTIFICATION_POLICY_ID => {
                    status = Some(StatusNotificationPolicy::decode(data)?)
                }
                FRANKING_AGENT_ID => franking_agent = Some(data.to_vec()),
                _ => {}
            }
        }
        let missing = |id, name| FromComponentsError::Missing { id, name };
        Ok(RoomState {
            participants: participants.ok_or(missing(PARTICIPANT_LIST_ID, "participant_list"))?,
            metadata: metadata.ok_or(missing(ROOM_METADATA_ID, "room_metadata"))?,
            roles: roles.ok_or(missing(ROLES_LIST_ID, "roles_list"))?,
            policy: policy.ok_or(missing(BASE_ROOM_POLICY_ID, "base_room_policy"))?,
            status_notifications: status,
            franking_agent,
        })
    }
}

/// The checks [`RoomState::apply_metadata`] makes, shared with authorization.
pub(crate) fn validate_metadata(
    current: &RoomMetaData,
    update: &RoomMetaData,
) -> Result<(), ApplyMetadataError> {
    if update.room_uri != current.room_uri {
        return Err(ApplyMetadataError::RoomUriChanged {
            from: text(&current.room_uri),
            to: text(&update.room_uri),
        });
    }
    for (field, value) in [
        ("room_name", &update.room_name),
        ("room_subject", &update.room_subject),
        ("room_mood", &update.room_mood),
    ] {
        let valid = std::str::from_utf8(value.as_slice()).is_ok_and(|s| !s.contains('\0'));
        if !valid {
            return Err(ApplyMetadataError::NotUtf8 { field });
        }
    }
    Ok(())
}

impl RoomMetaData {
    /// A copy with the control API's fields replaced where given
    /// (`topic` is `room_subject`); other fields stay.
    pub fn with_changes(
        &self,
        name: Option<&str>,
        topic: Option<&str>,
        avatar: Option<&str>,
    ) -> RoomMetaData {
        let mut next = self.clone();
        if let Some(name) = name {
            next.room_name = bytes(name);
        }
        if let Some(topic) = topic {
            next.room_subject = bytes(topic);
        }
        if let Some(avatar) = avatar {
            next.room_avatar = bytes(avatar);
        }
        next
    }

    /// `(name, topic, avatar)` for the control API; empty fields are `None`.
    pub fn control_view(&self) -> (Option<String>, Option<String>, Option<String>) {
        let field = |value: &VLBytes| (!value.as_slice().is_empty()).then(|| text(value));
        (
            field(&self.room_name),
            field(&self.room_subject),
            field(&self.room_avatar),
        )
    }
}
