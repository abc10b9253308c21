//! Every authorization rule, allowed and refused, and the participant-list
//! change each operation produces.

use mimi_interop::reference::room::roles::{
    ROLE_ADMIN, ROLE_BANNED, ROLE_MODERATOR, ROLE_NO_ROLE, ROLE_USER,
};
use mimi_interop::reference::room::wire::{ParticipantListUpdate, UserRolePair, UserindexRolePair};
use mimi_interop::reference::room::{Effect, Operation, Refusal};
use tls_codec::VLBytes;

use super::{
    ALICE, BOB, CAROL, DAVE, ERIN, MALLORY, group, index, reason, refused, role, run, user,
};

// ---- add ----

#[test]
fn admin_and_user_may_add_as_user() {
    let state = group();
    let effect = state
        .plan(ALICE, &Operation::add(ERIN))
        .expect("admin adds");
    assert_eq!(
        effect,
        Effect {
            update: Some(ParticipantListUpdate {
                added_participants: vec![UserRolePair {
                    user: VLBytes::new(ERIN.as_bytes().to_vec()),
                    role_index: ROLE_USER,
                }],
                ..ParticipantListUpdate::default()
            }),
            ..Effect::default()
        }
    );
    // Appendix A.1: in a cooperatively administered room users add users.
    let after = run(&state, BOB, Operation::add(ERIN));
    assert_eq!(role(&after, ERIN), ROLE_USER);
}

#[test]
fn add_refusals() {
    let state = group();
    let as_moderator = Operation::Add {
        user: user(ERIN),
        role: ROLE_MODERATOR,
    };
    assert_eq!(
        reason(&state, BOB, as_moderator),
        "role user may not move a user from no_role to moderator"
    );
    assert_eq!(
        reason(&state, MALLORY, Operation::add(ERIN)),
        "role no_role lacks canAddParticipant"
    );
    let already = refused(&state, ALICE, Operation::add(BOB));
    assert_eq!(
        already.to_string(),
        format!("{BOB} is already a participant")
    );
    assert!(already.is_conflict());
    let zero = Operation::Add {
        user: user(ERIN),
        role: ROLE_NO_ROLE,
    };
    assert!(matches!(
        refused(&state, ALICE, zero),
        Refusal::RoleZero { .. }
    ));
    let unknown = Operation::Add {
        user: user(ERIN),
        role: 9,
    };
    assert_eq!(
        refused(&state, ALICE, unknown),
        Refusal::UnknownRole { role_index: 9 }
    );
}

#[test]
fn add_respects_role_maximum_and_max_users() {
    let mut state = group();
    state.roles.roles[ROLE_MODERATOR as usize].maximum_participants_constraint = Some(1);
    let second_moderator = Operation::Add {
        user: user(ERIN),
        role: ROLE_MODERATOR,
    };
    assert_eq!(
        reason(&state, ALICE, second_moderator),
        "role moderator is full (1 participant(s) at most)"
    );
    let mut state = group();
    state.policy.max_users = Some(4);
    assert_eq!(
        reason(&state, ALICE, Operation::add(ERIN)),
        "the room is full (4 user(s) at most)"
    );
    // A banned entry does not count against max_users (§5).
    let state = run(
        &state,
        DAVE,
        Operation::Ban {
            user: user(MALLORY),
        },
    );
    assert_eq!(role(&state, MALLORY), ROLE_BANNED);
}

// ---- remove (the control API's remove_participant) ----

#[test]
fn remove_takes_the_user_and_clients_out() {
    let state = group();
    let effect = state
        .plan(ALICE, &Operation::Remove { user: user(BOB) })
        .expect("admin removes");
    assert_eq!(
        effect.update,
        Some(ParticipantListUpdate {
            removed_indices: vec![index(&state, BOB)],
            ..ParticipantListUpdate::default()
        })
    );
    assert_eq!(effect.remove_clients_of.as_deref(), Some(BOB));
    let after = state.apply_effect(&effect).expect("applies");
    assert_eq!(after.index_of(BOB), None);
    // A removed user can be added again.
    let back = run(&after, ALICE, Operation::add(BOB));
    assert_eq!(role(&back, BOB), ROLE_USER);
    // Users remove users in a cooperatively administered room.
    let after = run(&state, BOB, Operation::Remove { user: user(CAROL) });
    assert_eq!(after.index_of(CAROL), None);
}

#[test]
fn remove_refusals() {
    let state = group();
    assert_eq!(
        reason(&state, BOB, Operation::Remove { user: user(DAVE) }),
        "role user may not move a user from moderator to no_role"
    );
    assert_eq!(
        reason(&state, BOB, Operation::Remove { user: user(BOB) }),
        "cannot remove oneself (use leave)"
    );
    assert_eq!(
        reason(&state, ALICE, Operation::Remove { user: user(ERIN) }),
        format!("{ERIN} is not a participant")
    );
    assert_eq!(
        reason(&state, MALLORY, Operation::Remove { user: user(BOB) }),
        "role no_role lacks canRemoveParticipant"
    );
    let mut strict = group();
    strict.roles.roles[ROLE_MODERATOR as usize].minimum_participants_constraint = 1;
    assert_eq!(
        reason(&strict, ALICE, Operation::Remove { user: user(DAVE) }),
        "role moderator must keep at least 1 participant(s)"
    );
}

// ---- kick (canKick: clients only) ----

#[test]
fn kick_removes_clients_but_keeps_the_list() {
    let state = group();
    assert_eq!(
        reason(&state, BOB, Operation::Kick { user: user(CAROL) }),
        "role user lacks canKick"
    );
    let effect = state
        .plan(DAVE, &Operation::Kick { user: user(BOB) })
        .expect("moderator kicks");
    assert_eq!(effect.update, None);
    assert_eq!(effect.remove_clients_of.as_deref(), Some(BOB));
    assert_eq!(
        reason(&state, DAVE, Operation::Kick { user: user(DAVE) }),
        "cannot kick oneself (use leave)"
    );
    assert_eq!(
        reason(&state, DAVE, Operation::Kick { user: user(ERIN) }),
        format!("{ERIN} is not a participant")
    );
}

// ---- ban / unban ----

#[test]
fn ban_changes_role_to_banned_and_removes_clients() {
    let state = group();
    assert_eq!(
        reason(&state, BOB, Operation::Ban { user: user(CAROL) }),
        "role user lacks canBan"
    );
    let effect = state
        .plan(DAVE, &Operation::Ban { user: user(BOB) })
        .expect("moderator bans");
    assert_eq!(
        effect.update,
        Some(ParticipantListUpdate {
            changed_role_participants: vec![UserindexRolePair {
                user_index: index(&state, BOB),
                role_index: ROLE_BANNED,
            }],
            ..ParticipantListUpdate::default()
        })
    );
    assert_eq!(effect.remove_clients_of.as_deref(), Some(BOB));
    let banned = state.apply_effect(&effect).expect("applies");
    assert_eq!(role(&banned, BOB), ROLE_BANNED);
    assert!(banned.restricted_to_removals(BOB));
    assert!(!banned.restricted_to_removals(CAROL));
    assert!(banned.restricted_to_removals(ERIN));
    assert!(banned.participants().contains(&(user(BOB), user("banned"))));

    // A banned user cannot be re-added, cannot act, cannot be banned again.
    let again = refused(&banned, ALICE, Operation::add(BOB));
    assert_eq!(again.to_string(), format!("{BOB} is banned; unban first"));
    assert!(!again.is_conflict());
    assert_eq!(
        reason(&banned, BOB, Operation::Send),
        "role banned lacks canSendMessage"
    );
    assert_eq!(
        reason(&banned, BOB, Operation::Leave),
        "role banned lacks canRemoveSelf"
    );
    assert!(matches!(
        refused(&banned, DAVE, Operation::Ban { user: user(BOB) }),
        Refusal::AlreadyBanned { .. }
    ));
}

#[test]
fn ban_refusals() {
    let state = group();
    assert_eq!(
        reason(&state, DAVE, Operation::Ban { user: user(ALICE) }),
        "role moderator may not move a user from admin to banned"
    );
    assert_eq!(
        reason(&state, DAVE, Operation::Ban { user: user(DAVE) }),
        "cannot ban oneself"
    );
    let mut renamed = group();
    renamed.roles.roles[ROLE_BANNED as usize].role_name = VLBytes::new(b"outcast".to_vec());
    assert_eq!(
        refused(&renamed, DAVE, Operation::Ban { user: user(BOB) }),
        Refusal::NoBannedRole
    );
}

#[test]
fn pre_emptive_ban_adds_a_banned_entry() {
    let state = group();
    let effect = state
        .plan(
            DAVE,
            &Operation::Ban {
                user: user(MALLORY),
            },
        )
        .expect("moderator bans a non-member");
    assert_eq!(
        effect.update,
        Some(ParticipantListUpdate {
            added_participants: vec![UserRolePair {
                user: VLBytes::new(MALLORY.as_bytes().to_vec()),
                role_index: ROLE_BANNED,
            }],
            ..ParticipantListUpdate::default()
        })
    );
    let banned = state.apply_effect(&effect).expect("applies");
    assert!(matches!(
        refused(&banned, BOB, Operation::add(MALLORY)),
        Refusal::Banned { .. }
    ));
}

#[test]
fn unban_then_re_add() {
    let banned = run(&group(), DAVE, Operation::Ban { user: user(BOB) });
    assert_eq!(
        reason(&banned, CAROL, Operation::Unban { user: user(BOB) }),
        "role user lacks canUnBan"
    );
    let effect = banned
        .plan(DAVE, &Operation::Unban { user: user(BOB) })
        .expect("moderator unbans");
    assert_eq!(
        effect.update,
        Some(ParticipantListUpdate {
            removed_indices: vec![index(&banned, BOB)],
            ..ParticipantListUpdate::default()
        })
    );
    assert_eq!(effect.remove_clients_of, None);
    let unbanned = banned.apply_effect(&effect).expect("applies");
    assert_eq!(unbanned.index_of(BOB), None);
    let back = run(&unbanned, CAROL, Operation::add(BOB));
    assert_eq!(role(&back, BOB), ROLE_USER);
    let not_banned = refused(&back, DAVE, Operation::Unban { user: user(BOB) });
    assert_eq!(not_banned.to_string(), format!("{BOB} is not banned"));
    assert!(not_banned.is_conflict());
}

// ---- leave ----

#[test]
fn leave_removes_self_and_own_clients() {
    let state = group();
    let effect = state.plan(BOB, &Operation::Leave).expect("user leaves");
    assert_eq!(
        effect.update,
        Some(ParticipantListUpdate {
            removed_indices: vec![index(&state, BOB)],
            ..ParticipantListUpdate::default()
        })
    );
    assert_eq!(effect.remove_clients_of.as_deref(), Some(BOB));
    let after = run(&state, ALICE, Operation::Leave);
    assert_eq!(after.index_of(ALICE), None);
    assert_eq!(
        reason(&state, ERIN, Operation::Leave),
        format!("{ERIN} is not a participant")
    );
    let mut strict = group();
    strict.roles.roles[ROLE_ADMIN as usize].minimum_participants_constraint = 1;
    assert_eq!(
        reason(&strict, ALICE, Operation::Leave),
        "role admin must keep at least 1 participant(s)"
    );
}

// ---- set_role ----

#[test]
fn set_role_changes_the_role() {
    let state = group();
    let effect = state
        .plan(
            ALICE,
            &Operation::SetRole {
                user: user(BOB),
                role: ROLE_MODERATOR,
            },
        )
        .expect("admin promotes");
    assert_eq!(
        effect.update,
        Some(ParticipantListUpdate {
            changed_role_participants: vec![UserindexRolePair {
                user_index: index(&state, BOB),
                role_index: ROLE_MODERATOR,
            }],
            ..ParticipantListUpdate::default()
        })
    );
    assert_eq!(effect.remove_clients_of, None);
    let after = state.apply_effect(&effect).expect("applies");
    assert_eq!(role(&after, BOB), ROLE_MODERATOR);
    // Setting the banned role removes the user's clients (max active 0).
    let to_banned = state
        .plan(
            DAVE,
            &Operation::SetRole {
                user: user(CAROL),
                role: ROLE_BANNED,
            },
        )
        .expect("moderator may move user to banned");
    assert_eq!(to_banned.remove_clients_of.as_deref(), Some(CAROL));
}

#[test]
fn set_role_refusals() {
    let state = group();
    let set = |who: &str, role: u32| Operation::SetRole {
        user: user(who),
        role,
    };
    assert_eq!(
        reason(&state, BOB, set(CAROL, ROLE_MODERATOR)),
        "role user lacks canChangeUserRole"
    );
    assert_eq!(
        reason(&state, DAVE, set(BOB, ROLE_ADMIN)),
        "role moderator may not move a user from user to admin"
    );
    assert!(matches!(
        refused(&state, ALICE, set(ALICE, ROLE_USER)),
        Refusal::SelfTarget { .. }
    ));
    let same = refused(&state, ALICE, set(BOB, ROLE_USER));
    assert_eq!(same.to_string(), format!("{BOB} already has role user"));
    assert!(same.is_conflict());
    assert!(matches!(
        refused(&state, ALICE, set(BOB, ROLE_NO_ROLE)),
        Refusal::RoleZero { .. }
    ));
    assert_eq!(
        refused(&state, ALICE, set(BOB, 42)),
        Refusal::UnknownRole { role_index: 42 }
    );
    assert!(matches!(
        refused(&state, ALICE, set(ERIN, ROLE_USER)),
        Refusal::NotParticipant { .. }
    ));
}
