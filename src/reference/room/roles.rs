//! The reference provider's role sets and base policies.
//!
//! The group role set follows room-policy-03 Appendix A.1 "Cooperatively
//! administered room" (friends, family, small peer groups): any member may
//! add or remove ordinary users; moderators also ban, unban, kick and change
//! roles; the admin (the room's creator) may do everything. Role names are
//! the control API's vocabulary (`user`, `moderator`, `admin`, `banned`), see
//! the DEVIATIONS list in the module doc for the mapping.

use tls_codec::VLBytes;

use super::capability::{Capability, CapabilityType};
use super::wire::{
    BaseRoomPolicy, Optionality, ROLES_LIST_ID, Role, RoleData, STATUS_NOTIFICATION_POLICY_ID,
    SingleSourceRoleChangeTargets, StatusNotificationPolicy,
};

/// Role index 0: not (or no longer) in the participant list (§3, reserved).
pub const ROLE_NO_ROLE: u32 = 0;
/// Role index 1: the "banned" role (§8.1.3 fixes index 1 and name "banned").
pub const ROLE_BANNED: u32 = 1;
/// Role index 2: Appendix A.1 `ordinary_user`, named `user`.
pub const ROLE_USER: u32 = 2;
/// Role index 3: Appendix A.1 `group_admin`, named `moderator`.
pub const ROLE_MODERATOR: u32 = 3;
/// Role index 4: Appendix A.1 `super_admin`, named `admin`.
pub const ROLE_ADMIN: u32 = 4;

/// The name the banned role must carry (§8.1.3).
pub const BANNED_ROLE_NAME: &str = "banned";

use Capability::*;

/// Appendix A.1 `ordinary_user` capabilities, in the appendix's order.
const ORDINARY_USER: &[Capability] = &[
    CanAddParticipant,
    CanRemoveParticipant,
    CanAddOwnClient,
    CanRemoveOwnClient,
    CanRemoveSelf,
    CanSendMessage,
    CanReceiveMessage,
    CanCopyMessage,
    CanReportAbuse,
    CanReplyToMessage,
    CanReactToMessage,
    CanDeleteOwnReaction,
    CanEditOwnMessage,
    CanDeleteOwnMessage,
    CanStartTopic,
    CanReplyInTopic,
    CanEditOwnTopic,
    CanUploadImage,
    CanUploadVideo,
    CanUploadAudio,
    CanUploadAttachment,
    CanDownloadImage,
    CanDownloadVideo,
    CanDownloadAudio,
    CanDownloadAttachment,
    CanSendLink,
    CanSendLinkPreview,
    CanFollowLink,
    CanCopyLink,
    CanChangeRoomName,
    CanChangeRoomAvatar,
    CanChangeRoomSubject,
    CanChangeRoomMood,
    CanChangeOwnName,
    CanChangeOwnPresence,
    CanChangeOwnMood,
    CanChangeOwnAvatar,
];

/// Appendix A.1 `group_admin` additions (canRevokeVoice and canGrantVoice
/// are not in the §10.2 registry and are left out).
const GROUP_ADMIN_EXTRA: &[Capability] = &[
    CanBan,
    CanUnBan,
    CanKick,
    CanChangeUserRole,
    CanDeleteOtherMessage,
    CanEditOtherTopic,
    CanChangeRoomDescription,
];

/// Appendix A.1 `super_admin` additions.
const SUPER_ADMIN_EXTRA: &[Capability] = &[
    CanChangeRoomMembershipStyle,
    CanChangePreauthorizedUserList,
    CanDestroyRoom,
];

/// Membership capabilities a fixed-membership room's roles must not carry
/// (§5: no user can be added; ordinary users cannot leave or be removed).
const FIXED_MEMBERSHIP_EXCLUDED: &[Capability] =
    &[CanAddParticipant, CanRemoveParticipant, CanRemoveSelf];

fn caps(lists: &[&[Capability]], excluded: &[Capability]) -> Vec<CapabilityType> {
    lists
        .iter()
        .flat_map(|list| list.iter())
        .filter(|cap| !excluded.contains(cap))
        .map(|cap| CapabilityType::from(*cap))
        .collect()
}

fn changes(pairs: &[(u32, &[u32])]) -> Vec<SingleSourceRoleChangeTargets> {
    pairs
        .iter()
        .map(|(from, to)| SingleSourceRoleChangeTargets {
            from_role_index: *from,
            target_role_indexes: to.to_vec(),
        })
        .collect()
}

fn role(
    index: u32,
    name: &str,
    description: &str,
    capabilities: Vec<CapabilityType>,
    participants: (u32, Option<u32>),
    active: (u32, Option<u32>),
    role_changes: Vec<SingleSourceRoleChangeTargets>,
) -> Role {
    Role {
        role_index: index,
        role_name: VLBytes::new(name.as_bytes().to_vec()),
        role_description: VLBytes::new(description.as_bytes().to_vec()),
        role_capabilities: capabilities,
        minimum_participants_constraint: participants.0,
        maximum_participants_constraint: participants.1,
        minimum_active_participants_constraint: active.0,
        maximum_active_participants_constraint: active.1,
        authorized_role_changes: role_changes,
    }
}

/// Roles 0 and 1 as in every Appendix A example: no capabilities, no
/// clients allowed (`maximum_active_participants_constraint = 0`).
fn no_role_and_banned() -> [Role; 2] {
    [
        role(
            ROLE_NO_ROLE,
            "no_role",
            "not a participant",
            Vec::new(),
            (0, None),
            (0, Some(0)),
            Vec::new(),
        ),
        role(
            ROLE_BANNED,
            BANNED_ROLE_NAME,
            "banned from the room",
            Vec::new(),
            (0, None),
            (0, Some(0)),
            Vec::new(),
        ),
    ]
}

/// The group room role set (Appendix A.1, indices 0..=4, policy_enforcer left out).
pub fn group_roles() -> RoleData {
    let [no_role, banned] = no_role_and_banned();
    RoleData {
        roles: vec![
            no_role,
            banned,
            role(
                ROLE_USER,
                "user",
                "ordinary user (Appendix A.1 ordinary_user)",
                caps(&[ORDINARY_USER], &[]),
                (0, None),
                (0, None),
                changes(&[(0, &[2]), (2, &[0])]),
            ),
            role(
                ROLE_MODERATOR,
                "moderator",
                "moderator (Appendix A.1 group_admin)",
                caps(&[ORDINARY_USER, GROUP_ADMIN_EXTRA], &[]),
                (0, None),
                (0, None),
                changes(&[
                    (0, &[1, 2, 3]),
                    (1, &[0, 2, 3]),
                    (2, &[0, 1, 3]),
                    (3, &[0, 1, 2]),
                ]),
            ),
            role(
                ROLE_ADMIN,
                "admin",
                "administrator (Appendix A.1 super_admin)",
                caps(&[ORDINARY_USER, GROUP_ADMIN_EXTRA, SUPER_ADMIN_EXTRA], &[]),
                (0, None),
                (0, None),
                changes(&[
                    (0, &[1, 2, 3, 4]),
                    (1, &[0, 2, 3, 4]),
                    (2, &[0, 1, 3, 4]),
                    (3, &[0, 1, 2, 4]),
                    (4, &[0, 1, 2, 3]),
                ]),
            ),
        ],
    }
}

/// The DM role set: roles 0 and 1, and one `user` role (index 2) held by
/// exactly two participants, with the ordinary user's capabilities minus
/// adding, removing and leaving (§5 fixed membership) and no role changes.
pub fn dm_roles() -> RoleData {
    let [no_role, banned] = no_role_and_banned();
    RoleData {
        roles: vec![
            no_role,
            banned,
            role(
                ROLE_USER,
                "user",
                "one of the two participants of a direct message room",
                caps(&[ORDINARY_USER], FIXED_MEMBERSHIP_EXCLUDED),
                (2, Some(2)),
                (0, None),
                Vec::new(),
            ),
        ],
    }
}

/// Base policy of a group room: open membership, multi-device, not persistent.
pub fn group_policy() -> BaseRoomPolicy {
    BaseRoomPolicy {
        fixed_membership: false,
        parent_dependant: false,
        parent_room: Vec::new(),
        multi_device: true,
        max_clients: None,
        max_users: None,
        pseudonyms_allowed: false,
        persistent_room: false,
        discoverable: false,
        policy_component_ids: vec![ROLES_LIST_ID, STATUS_NOTIFICATION_POLICY_ID],
    }
}

/// Base policy of a DM: fixed membership of exactly two users (§5).
pub fn dm_policy() -> BaseRoomPolicy {
    BaseRoomPolicy {
        fixed_membership: true,
        max_users: Some(2),
        ..group_policy()
    }
}

/// Status notifications: each client decides (both `optional`).
pub fn default_status_notifications() -> StatusNotificationPolicy {
    StatusNotificationPolicy {
        delivery_notifications: Optionality::Optional,
        read_receipts: Optionality::Optional,
    }
}
