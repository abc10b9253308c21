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
//! The choices in force (component IDs, type readings, role names, unban,
//! fixed membership, validity rules, how the state rides in the MLS group)
//! are listed in docs/deviations.md. Not yet in force, because the
//! provider does not check message capabilities when sending:
//!
//! - room-policy-03 §8.3: a reply needs canSendMessage and
//!   canReplyToMessage; a reaction only canReactToMessage (the moderated
//!   room example gives guests reactions without canSendMessage). No
//!   capability lets a user edit another user's message, so that is refused.

pub mod asset;
pub mod dictionary;
pub mod roles;
pub mod rules;
pub mod state;
pub mod update;

/// The TLS structures live in the protocol codec, which the harness shares.
pub use crate::protocol::room::{capability, wire};

pub use asset::AssetKind;
pub use capability::{Capability, CapabilityType};
pub use rules::{Effect, Operation, Refusal, UpdateRefusal};
pub use state::{
    ApplyMetadataError, ApplyUpdateError, CreateRoomError, FromComponentsError, RoomState,
};
