//! Integration tests: the reference provider's pure room-state model
//! (`mimi_interop::reference::room`).

mod apply;
mod authorize;
mod registry;
mod room_ops;
mod wire;

use mimi_interop::reference::room::roles::{ROLE_MODERATOR, ROLE_USER};
use mimi_interop::reference::room::{Effect, Operation, Refusal, RoomState};

pub const ROOM: &str = "mimi://a.example/r/clubhouse";
pub const ALICE: &str = "mimi://a.example/u/alice";
pub const BOB: &str = "mimi://b.example/u/bob";
pub const CAROL: &str = "mimi://b.example/u/carol";
pub const DAVE: &str = "mimi://a.example/u/dave";
pub const ERIN: &str = "mimi://c.example/u/erin";
pub const MALLORY: &str = "mimi://c.example/u/mallory";

/// Plans `op` as `actor` and applies it, panicking (test only) on refusal.
pub fn run(state: &RoomState, actor: &str, op: Operation) -> RoomState {
    let effect: Effect = state
        .plan(actor, &op)
        .unwrap_or_else(|refusal| panic!("{actor} {op:?} refused: {refusal}"));
    state
        .apply_effect(&effect)
        .unwrap_or_else(|error| panic!("{actor} {op:?} did not apply: {error}"))
}

/// A group room: alice (admin, creator), bob and carol (user), dave (moderator).
pub fn group() -> RoomState {
    let state = RoomState::new_group(ROOM, ALICE).expect("valid creator");
    let state = run(&state, ALICE, Operation::add(BOB));
    let state = run(&state, ALICE, Operation::add(CAROL));
    run(
        &state,
        ALICE,
        Operation::Add {
            user: DAVE.into(),
            role: ROLE_MODERATOR,
        },
    )
}

/// The refusal of `op` by `actor`, panicking (test only) if it is allowed.
pub fn refused(state: &RoomState, actor: &str, op: Operation) -> Refusal {
    match state.plan(actor, &op) {
        Ok(effect) => panic!("{actor} {op:?} was allowed: {effect:?}"),
        Err(refusal) => refusal,
    }
}

/// The one-line reason `op` by `actor` is refused.
pub fn reason(state: &RoomState, actor: &str, op: Operation) -> String {
    refused(state, actor, op).to_string()
}

/// The list position of `user` as the u32 an update carries.
pub fn index(state: &RoomState, user: &str) -> u32 {
    u32::try_from(state.index_of(user).expect("listed")).expect("small")
}

/// An owned user URI (or role name) for comparisons.
pub fn user(name: &str) -> String {
    name.to_owned()
}

/// The role index `user` has in `state`.
pub fn role(state: &RoomState, user: &str) -> u32 {
    state.role_of(user)
}

#[test]
fn fixture_has_expected_roles() {
    let state = group();
    assert_eq!(
        state.participants(),
        vec![
            (ALICE.to_owned(), "admin".to_owned()),
            (DAVE.to_owned(), "moderator".to_owned()),
            (BOB.to_owned(), "user".to_owned()),
            (CAROL.to_owned(), "user".to_owned()),
        ]
    );
    assert_eq!(role(&state, BOB), ROLE_USER);
}
