//! The capability registry (room-policy-03 §10.2) and the role sets.

use std::collections::HashSet;

use mimi_interop::reference::room::Capability;
use mimi_interop::reference::room::roles::{
    ROLE_ADMIN, ROLE_BANNED, ROLE_MODERATOR, ROLE_NO_ROLE, ROLE_USER, dm_policy, dm_roles,
    group_policy, group_roles,
};

#[test]
fn registry_codepoints_match_the_draft() {
    let expected = [
        (Capability::CanAddParticipant, 0x0000, "canAddParticipant"),
        (
            Capability::CanRemoveParticipant,
            0x0001,
            "canRemoveParticipant",
        ),
        (Capability::CanRemoveSelf, 0x0006, "canRemoveSelf"),
        (Capability::CanBan, 0x000a, "canBan"),
        (Capability::CanUnBan, 0x000b, "canUnBan"),
        (Capability::CanKick, 0x000c, "canKick"),
        (Capability::CanChangeUserRole, 0x000f, "canChangeUserRole"),
        (Capability::CanSendMessage, 0x0100, "canSendMessage"),
        (Capability::CanReplyToMessage, 0x0104, "canReplyToMessage"),
        (Capability::CanReactToMessage, 0x0105, "canReactToMessage"),
        (Capability::CanEditOwnMessage, 0x0109, "canEditOwnMessage"),
        (
            Capability::CanDeleteOwnMessage,
            0x010a,
            "canDeleteOwnMessage",
        ),
        (
            Capability::CanDeleteOtherMessage,
            0x010b,
            "canDeleteOtherMessage",
        ),
        (Capability::CanStartTopic, 0x010c, "canStartTopic"),
        (Capability::CanCopyLink, 0x020b, "canCopyLink"),
        (Capability::CanChangeRoomName, 0x0300, "canChangeRoomName"),
        (
            Capability::CanChangeRoomDescription,
            0x0301,
            "canChangeRoomDescription",
        ),
        (
            Capability::CanChangeRoomAvatar,
            0x0302,
            "canChangeRoomAvatar",
        ),
        (
            Capability::CanChangeRoomSubject,
            0x0303,
            "canChangeRoomSubject",
        ),
        (Capability::CanChangeRoomMood, 0x0304, "canChangeRoomMood"),
        (
            Capability::CanViewSharedScreen,
            0x0407,
            "canViewSharedScreen",
        ),
        (
            Capability::CanChangePreauthorizedUserList,
            0x0504,
            "canChangePreauthorizedUserList",
        ),
        (
            Capability::CanSendMLSExternalCommit,
            0x0605,
            "canSendMLSExternalCommit",
        ),
    ];
    for (capability, code, name) in expected {
        assert_eq!(capability.code(), code, "{name}");
        assert_eq!(capability.name(), name);
        assert_eq!(capability.to_string(), name);
    }
}

#[test]
fn registry_is_complete_and_consistent() {
    // §10.2 has 77 rows.
    assert_eq!(Capability::ALL.len(), 77);
    let codes: HashSet<u16> = Capability::ALL.iter().map(|c| c.code()).collect();
    assert_eq!(codes.len(), 77, "codepoints are unique");
    for capability in Capability::ALL {
        assert_eq!(Capability::from_code(capability.code()), Some(*capability));
        assert_eq!(Capability::from_name(capability.name()), Some(*capability));
    }
    assert_eq!(Capability::from_code(0x0012), None);
    assert_eq!(
        Capability::from_name("canUnban"),
        None,
        "registry spells it canUnBan"
    );
    assert!(
        Capability::ALL
            .windows(2)
            .all(|w| w[0].code() < w[1].code())
    );
}

#[test]
fn group_roles_follow_appendix_a1() {
    let roles = group_roles();
    let names: Vec<(u32, String)> = roles
        .roles
        .iter()
        .map(|role| (role.role_index, role.name()))
        .collect();
    assert_eq!(
        names,
        vec![
            (ROLE_NO_ROLE, "no_role".to_owned()),
            (ROLE_BANNED, "banned".to_owned()),
            (ROLE_USER, "user".to_owned()),
            (ROLE_MODERATOR, "moderator".to_owned()),
            (ROLE_ADMIN, "admin".to_owned()),
        ]
    );
    for index in [ROLE_NO_ROLE, ROLE_BANNED] {
        let role = roles.get(index).expect("defined");
        assert!(role.role_capabilities.is_empty());
        assert_eq!(role.maximum_active_participants_constraint, Some(0));
        assert!(role.authorized_role_changes.is_empty());
    }
    let user = roles.get(ROLE_USER).expect("user");
    let moderator = roles.get(ROLE_MODERATOR).expect("moderator");
    let admin = roles.get(ROLE_ADMIN).expect("admin");
    // Appendix A.1 ordinary_user lists 37 capabilities.
    assert_eq!(user.role_capabilities.len(), 37);
    for capability in [
        Capability::CanAddParticipant,
        Capability::CanRemoveParticipant,
        Capability::CanRemoveSelf,
        Capability::CanSendMessage,
        Capability::CanChangeRoomName,
        Capability::CanChangeRoomSubject,
    ] {
        assert!(user.has(capability), "user has {capability}");
    }
    for capability in [
        Capability::CanKick,
        Capability::CanBan,
        Capability::CanUnBan,
        Capability::CanChangeUserRole,
        Capability::CanDeleteOtherMessage,
        Capability::CanChangeRoomDescription,
    ] {
        assert!(!user.has(capability), "user lacks {capability}");
        assert!(moderator.has(capability), "moderator has {capability}");
    }
    assert!(!moderator.has(Capability::CanDestroyRoom));
    assert!(admin.has(Capability::CanDestroyRoom));
    for role in [user, moderator] {
        for capability in &role.role_capabilities {
            assert!(admin.role_capabilities.contains(capability));
        }
    }
    assert!(user.may_change(0, 2) && user.may_change(2, 0));
    assert!(!user.may_change(0, 3) && !user.may_change(3, 0));
    assert!(moderator.may_change(2, 1) && moderator.may_change(1, 0));
    assert!(!moderator.may_change(4, 0) && !moderator.may_change(2, 4));
    assert!(admin.may_change(4, 0) && admin.may_change(0, 4));
}

#[test]
fn dm_roles_cannot_change_membership() {
    let roles = dm_roles();
    // §5: no non-zero, non-banned role of a fixed-membership room may hold canAddParticipant.
    for role in roles.roles.iter().filter(|r| r.role_index > ROLE_BANNED) {
        assert!(!role.has(Capability::CanAddParticipant));
        assert!(!role.has(Capability::CanRemoveParticipant));
        assert!(!role.has(Capability::CanRemoveSelf));
        assert!(role.has(Capability::CanSendMessage));
        assert_eq!(role.minimum_participants_constraint, 2);
        assert_eq!(role.maximum_participants_constraint, Some(2));
    }
    let policy = dm_policy();
    assert!(policy.fixed_membership);
    assert_eq!(policy.max_users, Some(2));
    assert!(!group_policy().fixed_membership);
    assert_eq!(group_policy().max_users, None);
}
