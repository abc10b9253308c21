//! Authorization of metadata and message operations, DMs, and a hub's
//! check of a peer's participant-list update.

use mimi_interop::reference::room::roles::{ROLE_BANNED, ROLE_MODERATOR, ROLE_USER};
use mimi_interop::reference::room::wire::{
    ParticipantListUpdate, RichDescription, UserRolePair, UserindexRolePair,
};
use mimi_interop::reference::room::{Capability, Effect, Operation, Refusal, RoomState};
use tls_codec::VLBytes;

use super::{
    ALICE, BOB, CAROL, DAVE, ERIN, MALLORY, ROOM, group, index, reason, refused, role, run, user,
};

// ---- metadata ----

#[test]
fn metadata_changes_need_the_field_capability() {
    let state = group();
    let renamed = state
        .metadata
        .with_changes(Some("Clubhouse"), Some("MIMI"), None);
    let after = run(&state, BOB, Operation::SetMetadata(renamed.clone()));
    assert_eq!(after.metadata, renamed);
    assert_eq!(
        after.metadata.control_view(),
        (Some(user("Clubhouse")), Some(user("MIMI")), None)
    );

    let mut described = state.metadata.clone();
    described.room_descriptions = vec![RichDescription {
        media_type: VLBytes::new(Vec::new()),
        language_tag: VLBytes::new(b"en".to_vec()),
        description_content: VLBytes::new(b"About".to_vec()),
    }];
    assert_eq!(
        reason(&state, BOB, Operation::SetMetadata(described.clone())),
        "role user lacks canChangeRoomDescription"
    );
    run(&state, DAVE, Operation::SetMetadata(described));

    let banned = run(&state, DAVE, Operation::Ban { user: user(BOB) });
    assert_eq!(
        reason(&banned, BOB, Operation::SetMetadata(renamed)),
        "role banned lacks canChangeRoomName"
    );
}

#[test]
fn metadata_refusals() {
    let state = group();
    assert_eq!(
        refused(
            &state,
            ALICE,
            Operation::SetMetadata(state.metadata.clone())
        ),
        Refusal::MetadataUnchanged
    );
    let mut moved = state.metadata.clone();
    moved.room_uri = VLBytes::new(b"mimi://x.example/r/other".to_vec());
    assert_eq!(
        reason(&state, ALICE, Operation::SetMetadata(moved)),
        format!(
            "invalid metadata: room_uri cannot change (from {ROOM} to mimi://x.example/r/other)"
        )
    );
    let mut bad = state.metadata.clone();
    bad.room_name = VLBytes::new(vec![b'a', 0, b'b']);
    assert_eq!(
        reason(&state, ALICE, Operation::SetMetadata(bad)),
        "invalid metadata: room_name is not valid UTF-8 without NUL"
    );
    let mut mood = state.metadata.clone();
    mood.room_mood = VLBytes::new(vec![0xff]);
    assert!(matches!(
        refused(&state, ALICE, Operation::SetMetadata(mood)),
        Refusal::InvalidMetadata(_)
    ));
}

// ---- messages ----

#[test]
fn message_operations() {
    let state = group();
    for op in [
        Operation::Send,
        Operation::Reply,
        Operation::React,
        Operation::Edit { own: true },
        Operation::Delete { own: true },
    ] {
        assert_eq!(state.plan(BOB, &op), Ok(Effect::default()), "{op:?}");
    }
    assert_eq!(
        reason(&state, BOB, Operation::Delete { own: false }),
        "role user lacks canDeleteOtherMessage"
    );
    assert_eq!(
        state.authorize(DAVE, &Operation::Delete { own: false }),
        Ok(())
    );
    assert_eq!(
        reason(&state, DAVE, Operation::Edit { own: false }),
        "no capability allows editing another user's message"
    );
    assert_eq!(
        reason(&state, MALLORY, Operation::Send),
        "role no_role lacks canSendMessage"
    );
    // A role with reactions but no messages (the moderated room's guest).
    let mut guests = group();
    let user_role = &mut guests.roles.roles[ROLE_USER as usize];
    user_role
        .role_capabilities
        .retain(|c| c.0 != Capability::CanSendMessage.code());
    assert_eq!(guests.authorize(BOB, &Operation::React), Ok(()));
    assert_eq!(
        guests
            .authorize(BOB, &Operation::Reply)
            .map_err(|r| r.to_string()),
        Err(user("role user lacks canSendMessage"))
    );
    assert_eq!(
        reason(&guests, BOB, Operation::Send),
        "role user lacks canSendMessage"
    );
}

// ---- DM ----

#[test]
fn dm_has_fixed_membership_of_two() {
    let dm = RoomState::new_dm(ROOM, ALICE, BOB).expect("two users");
    assert_eq!(
        dm.participants(),
        vec![(user(ALICE), user("user")), (user(BOB), user("user"))]
    );
    assert_eq!(
        reason(&dm, ALICE, Operation::add(CAROL)),
        "the room has fixed membership: cannot add a user"
    );
    assert_eq!(
        reason(&dm, ALICE, Operation::Remove { user: user(BOB) }),
        "the room has fixed membership: cannot remove a user"
    );
    assert_eq!(
        reason(&dm, BOB, Operation::Leave),
        "the room has fixed membership: cannot leave"
    );
    assert_eq!(
        reason(&dm, ALICE, Operation::Ban { user: user(BOB) }),
        "role user lacks canBan"
    );
    assert_eq!(dm.authorize(BOB, &Operation::Send), Ok(()));
    let renamed = dm.metadata.with_changes(Some("Alice & Bob"), None, None);
    assert_eq!(dm.authorize(BOB, &Operation::SetMetadata(renamed)), Ok(()));
    assert!(RoomState::new_dm(ROOM, ALICE, ALICE).is_err());
    assert!(RoomState::new_dm(ROOM, ALICE, "").is_err());
}

// ---- authorize_update (a hub checking a peer's proposal) ----

#[test]
fn authorize_update_checks_each_change() {
    let state = group();
    let update = ParticipantListUpdate {
        changed_role_participants: vec![UserindexRolePair {
            user_index: index(&state, BOB),
            role_index: ROLE_MODERATOR,
        }],
        removed_indices: vec![index(&state, CAROL)],
        added_participants: vec![UserRolePair {
            user: VLBytes::new(ERIN.as_bytes().to_vec()),
            role_index: ROLE_USER,
        }],
    };
    let next = state.authorize_update(ALICE, &update).expect("admin may");
    assert_eq!(role(&next, BOB), ROLE_MODERATOR);
    assert_eq!(next.index_of(CAROL), None);
    assert_eq!(role(&next, ERIN), ROLE_USER);
    let error = state
        .authorize_update(BOB, &update)
        .expect_err("user may not");
    assert_eq!(error.to_string(), "role user lacks canChangeUserRole");

    let ban = ParticipantListUpdate {
        changed_role_participants: vec![UserindexRolePair {
            user_index: index(&state, CAROL),
            role_index: ROLE_BANNED,
        }],
        ..ParticipantListUpdate::default()
    };
    let error = state
        .authorize_update(BOB, &ban)
        .expect_err("user may not ban");
    assert_eq!(error.to_string(), "role user lacks canBan");
    let banned = state.authorize_update(DAVE, &ban).expect("moderator bans");

    // The draft's unban: banned → a non-zero role, by canUnBan.
    let unban_to_user = ParticipantListUpdate {
        changed_role_participants: vec![UserindexRolePair {
            user_index: index(&banned, CAROL),
            role_index: ROLE_USER,
        }],
        ..ParticipantListUpdate::default()
    };
    let mut unban_only = banned.clone();
    unban_only.roles.roles[ROLE_MODERATOR as usize]
        .role_capabilities
        .retain(|c| c.0 != Capability::CanChangeUserRole.code());
    assert_eq!(
        role(
            &unban_only
                .authorize_update(DAVE, &unban_to_user)
                .expect("canUnBan"),
            CAROL
        ),
        ROLE_USER
    );
    assert!(banned.authorize_update(BOB, &unban_to_user).is_err());

    let leave = ParticipantListUpdate {
        removed_indices: vec![index(&state, BOB)],
        ..ParticipantListUpdate::default()
    };
    assert!(state.authorize_update(BOB, &leave).is_ok());
    let invalid = ParticipantListUpdate {
        removed_indices: vec![99],
        ..ParticipantListUpdate::default()
    };
    assert_eq!(
        state
            .authorize_update(ALICE, &invalid)
            .expect_err("out of range")
            .to_string(),
        "invalid participant list update: removedIndices index 99 is out of range (participant list has 4 entries)"
    );
}
