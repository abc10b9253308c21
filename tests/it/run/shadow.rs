//! The wire's shadow of the room state: two providers with the same bug
//! agree with each other, so only the handshakes the relay carried show that
//! they report a state they do not have.

use super::*;

/// Alice (a, the hub) adds Bob (b), makes him a moderator and names the
/// room; both sides are asked for the room state after each change.
const ROLE_AND_NAME: &str = "\
- name: role-and-name
  timeout: 30s
  actors: {alice: a, bob: b}
  steps:
    - create_room: {as: alice, capture: room}
    - add_participant: {as: alice, room: \"${room}\", user: bob}
    - expect_state: {room: \"${room}\", members: [alice, bob]}
    - set_role: {as: alice, room: \"${room}\", user: bob, role: moderator}
    - expect_state: {room: \"${room}\", members: [alice, bob]}
    - set_room_metadata: {as: bob, room: \"${room}\", name: Lunch}
    - expect_state: {room: \"${room}\", members: [alice, bob]}
";

/// The one case of [`ROLE_AND_NAME`] between two builtins with `quirks`.
async fn pair(quirks: &[&str]) -> CaseReport {
    let mut roles = suite("MUST", ROLE_AND_NAME);
    roles.suite.feature = "roles".into();
    builtin_pair_case(builtin("twin-a", quirks), builtin("twin-b", quirks), roles).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_correct_providers_match_the_shadow() {
    let case = pair(&[]).await;
    assert_eq!(case.verdict, Verdict::Pass, "{case:#?}");
}

/// The case of a pair sharing `quirk` fails, and its reason is the
/// shadow's, naming the target and what it reported.
async fn caught_by_the_shadow(quirk: &str, says: &str) {
    let case = pair(&[quirk]).await;
    assert_eq!(case.verdict, Verdict::Fail, "{case:#?}");
    let reason = case.reason.as_deref().unwrap_or_default();
    assert!(reason.contains(says), "{reason}");
}

/// Both report the epoch one too low, so they agree; the state they show
/// for that epoch is the next one's, which the commits on the wire
/// contradict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_epoch_one_too_low_on_both_sides_is_caught_by_the_shadow() {
    caught_by_the_shadow(
        "wrong-epoch-report",
        "on target twin-a contradicts the wire's shadow of the room: it reports at epoch",
    )
    .await;
}

/// Both report the epoch one too high, so they agree; the follower's is
/// past the newest commit the wire brought it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_epoch_one_too_high_on_both_sides_is_caught_by_the_shadow() {
    caught_by_the_shadow(
        "epoch-ahead",
        "on target twin-b contradicts the wire's shadow of the room: it reports epoch",
    )
    .await;
}

/// Both leave the last client out of the members they report, so they
/// agree; the ratchet tree the Welcome carried, and the commits after it,
/// name both clients.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_member_list_on_both_sides_is_caught_by_the_shadow() {
    caught_by_the_shadow(
        "members-off-by-one",
        "where the ratchet tree and commits on the wire give [",
    )
    .await;
}
