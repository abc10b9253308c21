//! Applying ParticipantListUpdate (protocol-06 §7.5) and metadata (§7.6).

use mimi_interop::reference::room::roles::{ROLE_BANNED, ROLE_MODERATOR, ROLE_USER};
use mimi_interop::reference::room::wire::{ParticipantListUpdate, UserRolePair, UserindexRolePair};
use mimi_interop::reference::room::{ApplyMetadataError, ApplyUpdateError, RoomState};
use proptest::prelude::*;
use tls_codec::VLBytes;

use super::{ALICE, BOB, CAROL, DAVE, ERIN, ROOM, group};

fn pair(user: &str, role_index: u32) -> UserRolePair {
    UserRolePair {
        user: VLBytes::new(user.as_bytes().to_vec()),
        role_index,
    }
}

fn change(user_index: u32, role_index: u32) -> UserindexRolePair {
    UserindexRolePair {
        user_index,
        role_index,
    }
}

fn list(state: &RoomState) -> Vec<(String, u32)> {
    state
        .participants
        .participants
        .iter()
        .map(|p| {
            (
                String::from_utf8_lossy(p.user.as_slice()).into_owned(),
                p.role_index,
            )
        })
        .collect()
}

#[test]
fn applies_changes_then_removals_then_additions() {
    // group(): [alice 4, bob 2, carol 2, dave 3].
    let state = group();
    let update = ParticipantListUpdate {
        changed_role_participants: vec![change(2, ROLE_MODERATOR)],
        removed_indices: vec![1],
        added_participants: vec![pair(ERIN, ROLE_USER)],
    };
    let next = state.apply(&update).expect("valid");
    assert_eq!(
        list(&next),
        vec![
            (ALICE.to_owned(), 4),
            (CAROL.to_owned(), ROLE_MODERATOR),
            (DAVE.to_owned(), ROLE_MODERATOR),
            (ERIN.to_owned(), ROLE_USER),
        ]
    );
    // Pure: the original state is untouched.
    assert_eq!(state, group());
    // Indices refer to the list before the update, removed in one pass.
    let two = ParticipantListUpdate {
        removed_indices: vec![3, 1],
        ..ParticipantListUpdate::default()
    };
    assert_eq!(
        list(&state.apply(&two).expect("valid")),
        vec![(ALICE.to_owned(), 4), (CAROL.to_owned(), ROLE_USER)]
    );
    assert_eq!(
        state.apply(&ParticipantListUpdate::default()),
        Ok(state.clone())
    );
}

#[test]
fn rejects_invalid_updates() {
    let state = group();
    let cases: Vec<(ParticipantListUpdate, ApplyUpdateError)> = vec![
        (
            ParticipantListUpdate {
                changed_role_participants: vec![change(4, ROLE_USER)],
                ..Default::default()
            },
            ApplyUpdateError::IndexOutOfRange {
                field: "changedRoleParticipants",
                index: 4,
                len: 4,
            },
        ),
        (
            ParticipantListUpdate {
                removed_indices: vec![u32::MAX],
                ..Default::default()
            },
            ApplyUpdateError::IndexOutOfRange {
                field: "removedIndices",
                index: u32::MAX,
                len: 4,
            },
        ),
        (
            ParticipantListUpdate {
                changed_role_participants: vec![change(1, ROLE_MODERATOR)],
                removed_indices: vec![1],
                ..Default::default()
            },
            ApplyUpdateError::UserTouchedTwice { user: BOB.into() },
        ),
        (
            ParticipantListUpdate {
                changed_role_participants: vec![change(2, ROLE_MODERATOR), change(2, ROLE_BANNED)],
                ..Default::default()
            },
            ApplyUpdateError::UserTouchedTwice { user: CAROL.into() },
        ),
        (
            ParticipantListUpdate {
                removed_indices: vec![0, 0],
                ..Default::default()
            },
            ApplyUpdateError::UserTouchedTwice { user: ALICE.into() },
        ),
        (
            ParticipantListUpdate {
                added_participants: vec![pair(ERIN, ROLE_USER), pair(ERIN, ROLE_USER)],
                ..Default::default()
            },
            ApplyUpdateError::UserTouchedTwice { user: ERIN.into() },
        ),
        (
            // Removing and re-adding the same user in one commit touches it twice.
            ParticipantListUpdate {
                removed_indices: vec![1],
                added_participants: vec![pair(BOB, ROLE_USER)],
                ..Default::default()
            },
            ApplyUpdateError::AlreadyPresent { user: BOB.into() },
        ),
        (
            ParticipantListUpdate {
                added_participants: vec![pair("", ROLE_USER)],
                ..Default::default()
            },
            ApplyUpdateError::EmptyUser,
        ),
        (
            ParticipantListUpdate {
                added_participants: vec![UserRolePair {
                    user: VLBytes::new(vec![0xc3, 0x28]),
                    role_index: ROLE_USER,
                }],
                ..Default::default()
            },
            ApplyUpdateError::UserNotUtf8,
        ),
        (
            ParticipantListUpdate {
                changed_role_participants: vec![change(1, 0)],
                ..Default::default()
            },
            ApplyUpdateError::RoleZero {
                field: "changedRoleParticipants",
            },
        ),
        (
            ParticipantListUpdate {
                added_participants: vec![pair(ERIN, 0)],
                ..Default::default()
            },
            ApplyUpdateError::RoleZero {
                field: "addedParticipants",
            },
        ),
        (
            ParticipantListUpdate {
                added_participants: vec![pair(ERIN, 77)],
                ..Default::default()
            },
            ApplyUpdateError::UnknownRole { role_index: 77 },
        ),
    ];
    for (update, expected) in cases {
        assert_eq!(state.apply(&update), Err(expected), "{update:?}");
    }
}

#[test]
fn rejects_updates_past_maxima() {
    let dm = RoomState::new_dm(ROOM, ALICE, BOB).expect("dm");
    let third = ParticipantListUpdate {
        added_participants: vec![pair(CAROL, ROLE_USER)],
        ..Default::default()
    };
    assert_eq!(
        dm.apply(&third).expect_err("full").to_string(),
        "role user would have 3 participants, more than its maximum 2"
    );
    let mut capped = group();
    capped.policy.max_users = Some(4);
    let add = ParticipantListUpdate {
        added_participants: vec![pair(ERIN, ROLE_USER)],
        ..Default::default()
    };
    assert_eq!(
        capped.apply(&add),
        Err(ApplyUpdateError::RoomFull { count: 5, max: 4 })
    );
    let ban_new = ParticipantListUpdate {
        added_participants: vec![pair(ERIN, ROLE_BANNED)],
        ..Default::default()
    };
    assert!(
        capped.apply(&ban_new).is_ok(),
        "banned entries do not count"
    );
}

#[test]
fn metadata_update_replaces_whole_value() {
    let state = group();
    let mut next = state
        .metadata
        .with_changes(Some("Clubhouse"), None, Some("https://a/x.png"));
    next.room_mood = VLBytes::new(b"calm".to_vec());
    let after = state.apply_metadata(&next).expect("valid");
    assert_eq!(after.metadata, next);
    // A later update without the mood clears it: the value is replaced whole.
    let cleared = after.metadata.with_changes(None, Some("topic"), None);
    let mut cleared = cleared;
    cleared.room_mood = VLBytes::new(Vec::new());
    let after = after.apply_metadata(&cleared).expect("valid");
    assert!(after.metadata.room_mood.as_slice().is_empty());
    assert_eq!(
        after.metadata.control_view(),
        (
            Some("Clubhouse".to_owned()),
            Some("topic".to_owned()),
            Some("https://a/x.png".to_owned())
        )
    );
    let mut moved = next;
    moved.room_uri = VLBytes::new(b"mimi://b/r/y".to_vec());
    assert!(matches!(
        state.apply_metadata(&moved),
        Err(ApplyMetadataError::RoomUriChanged { .. })
    ));
}

proptest! {
    #[test]
    fn apply_never_panics_and_keeps_invariants(
        changed in prop::collection::vec((0u32..6, 0u32..6), 0..4),
        removed in prop::collection::vec(0u32..6, 0..4),
        added in prop::collection::vec((0usize..6, 0u32..6), 0..4),
    ) {
        let users = [ALICE, BOB, CAROL, DAVE, ERIN, "mimi://d.example/u/fred"];
        let state = group();
        let update = ParticipantListUpdate {
            changed_role_participants: changed.iter().map(|(i, r)| change(*i, *r)).collect(),
            removed_indices: removed.clone(),
            added_participants: added.iter().map(|(u, r)| pair(users[*u], *r)).collect(),
        };
        if let Ok(next) = state.apply(&update) {
            let rows = list(&next);
            let mut seen = std::collections::HashSet::new();
            for (user, role) in &rows {
                prop_assert!(seen.insert(user.clone()), "duplicate {}", user);
                prop_assert!(*role != 0);
                prop_assert!(next.roles.get(*role).is_some());
            }
            prop_assert_eq!(
                rows.len(),
                4 - update.removed_indices.len() + update.added_participants.len()
            );
        }
    }
}
