//! The reference provider's room state: participants, roles, policy and
//! metadata, with the rules that govern them. Pure: no I/O and no MLS state;
//! the MLS side carries these structures as components of the
//! `app_data_dictionary` GroupContext extension and turns an [`Effect`] into
//! proposals.
//!
//! # Drafts to code
//!
//! | draft, section | code |
//! |---|---|
//! | protocol-06 §7.5 ParticipantListData, UserRolePair | [`wire::ParticipantListData`], [`wire::UserRolePair`] |
//! | protocol-06 §7.5 ParticipantListUpdate, UserindexRolePair | [`wire::ParticipantListUpdate`]; applied by [`RoomState::apply`] |
//! | protocol-06 §7.6 RoomMetaData, RichDescription | [`wire::RoomMetaData`]; replaced whole by [`RoomState::apply_metadata`] |
//! | protocol-06 §10 component IDs 0x0022, 0x0023 | [`wire::PARTICIPANT_LIST_ID`], [`wire::ROOM_METADATA_ID`] |
//! | protocol-06 §5.3 removed/banned may only send Remove/SelfRemove | [`RoomState::restricted_to_removals`] |
//! | room-policy-03 §3 Role, RoleData, SingleSourceRoleChangeTargets | [`wire::Role`], [`wire::RoleData`] |
//! | room-policy-03 §5 BaseRoomPolicy (fixed_membership for DMs) | [`wire::BaseRoomPolicy`], [`roles::dm_policy`] |
//! | room-policy-03 §6.1 StatusNotificationPolicy, Optionality | [`wire::StatusNotificationPolicy`] |
//! | room-policy-03 §8 capability semantics | [`RoomState::authorize`], [`RoomState::plan`], [`RoomState::authorize_update`] |
//! | room-policy-03 §10.1 component IDs (suggested values) | [`wire::ROLES_LIST_ID`] etc. |
//! | room-policy-03 §10.2 capability registry | [`Capability`] |
//! | room-policy-03 Appendix A.1 cooperatively administered room | [`roles::group_roles`] |
//! | room-policy-03 Appendix B TLS syntax | the derives in [`wire`] |
//!
//! # DEVIATIONS
//!
//! Choices where the drafts are silent, unsettled or inconsistent; the
//! integrator moves these into docs/deviations.md.
//!
//! 1. room-policy-03 §10.1: the policy component IDs are TBD; we use the
//!    suggested values (roles_list 0x0025, base_room_policy 0x0027,
//!    status_notification_policy 0x0028, ...).
//! 2. room-policy-03 §5 / App. B: `Component policy_component_ids<V>` names
//!    an undefined type `Component`; we read it as `ComponentID`, a `uint16`
//!    as in draft-ietf-mls-extensions and openmls.
//! 3. room-policy-03 §5 / App. B: `Uri parent_room<V>` is literally a vector
//!    of `Uri`; we encode it so (empty unless `parent_dependant`) while the
//!    prose treats it as one (possibly empty) URI.
//! 4. room-policy-03 §5 / App. B: `bool` is the draft's own enum
//!    `false(0), true(1)`, one byte; any other value fails to decode.
//! 5. room-policy-03 App. A.1: role names are the control API's (`user`,
//!    `moderator`, `admin`) for the appendix's `ordinary_user` (2),
//!    `group_admin` (3) and `super_admin` (4); `policy_enforcer` (5) is left
//!    out (the hub enforces policy itself). `moderator` has
//!    `minimum_participants_constraint` 0, not 1, so a room need not keep a
//!    moderator (the creator is the `admin`).
//! 6. room-policy-03 App. A.1: `canRevokeVoice` and `canGrantVoice` are not
//!    in the §10.2 registry and have no codepoint; they are left out.
//! 7. room-policy-03 §8.1.3 canUnban moves a banned user to a non-zero role;
//!    [`Operation::Unban`] instead removes the banned entry (role 1 → 0,
//!    authorized by canUnBan and `authorized_role_changes` (1 → 0)), so the
//!    user can then be added again as the control API expects. The draft's
//!    form (1 → non-zero role) is accepted in [`RoomState::authorize_update`].
//! 8. room-policy-03 §10.2 lists `canUnBan`, the prose says `canUnban`; we
//!    use the registry name.
//! 9. room-policy-03 §3/§8: the active-participant constraints need client
//!    counts, which this model does not have; they are not evaluated here
//!    (a role with `maximum_active_participants_constraint` 0, such as
//!    banned, makes [`Effect::remove_clients_of`] name the user instead).
//! 10. room-policy-03 §8.1: canChangeOwnRole, canOpenJoin,
//!     canJoinIfPreauthorized, canUseJoinCode and preauthorization are not
//!     modelled; changing one's own role is refused.
//! 11. room-policy-03 §5: in a fixed-membership room adding, removing and
//!     leaving are refused by name ("the room has fixed membership") before
//!     capabilities are looked at; the DM `user` role also lacks those
//!     capabilities and is held by exactly two participants (min = max = 2).
//! 12. room-policy-03 §8.3: a reply needs canSendMessage and
//!     canReplyToMessage; a reaction only canReactToMessage (the moderated
//!     room example gives guests reactions without canSendMessage). No
//!     capability lets a user edit another user's message, so that is refused.
//! 13. protocol-06 §7.5: role index 0 in changedRoleParticipants or
//!     addedParticipants is rejected (removal is removedIndices), as are empty
//!     and non-UTF-8 added user URIs; an update also may not push a role past
//!     its maximum or the room past `max_users`.
//! 14. protocol-06 §7.6: `room_uri` may not change, and the UTF8String fields
//!     must be UTF-8 without NUL; an update changing nothing is refused.
//! 15. room-policy-03 §8.1.3 canBan: banning a user not in the list adds
//!     them as banned (role change 0 → 1, allowed by the appendix's
//!     `authorized_role_changes`), so they cannot be added later.

pub mod capability;
pub mod roles;
pub mod rules;
pub mod state;
pub mod update;
pub mod wire;

pub use capability::{Capability, CapabilityType};
pub use rules::{Effect, Operation, Refusal, UpdateRefusal};
pub use state::{
    ApplyMetadataError, ApplyUpdateError, CreateRoomError, FromComponentsError, RoomState,
};
