//! The hub's side of the rules: applying an authorized [`Effect`] and
//! checking a ParticipantListUpdate that a peer proposed (protocol-06 §7.5,
//! each change authorized on its own per room-policy-03 §8).

use super::roles::ROLE_BANNED;
use super::rules::{Effect, Operation, Refusal, UpdateRefusal};
use super::state::{RoomState, text};
use super::wire::ParticipantListUpdate;

impl RoomState {
    /// Applies an authorized effect's participant-list and metadata changes.
    pub fn apply_effect(&self, effect: &Effect) -> Result<RoomState, UpdateRefusal> {
        let mut state = match &effect.update {
            Some(update) => self.apply(update)?,
            None => self.clone(),
        };
        if let Some(metadata) = &effect.metadata {
            state = state
                .apply_metadata(metadata)
                .map_err(Refusal::InvalidMetadata)?;
        }
        Ok(state)
    }

    /// The hub's check of a ParticipantListUpdate proposed by `actor`
    /// (protocol-06 §7.5): valid as a whole, and each change authorized on
    /// its own against the current state. A change to role 1 is a ban
    /// (canBan, or canChangeUserRole); a change from role 1 an unban
    /// (canUnBan, or canChangeUserRole); a removal of oneself a leave; a
    /// removal of a banned entry an unban (or canRemoveParticipant); an
    /// addition as role 1 a pre-emptive ban. Returns the new state.
    pub fn authorize_update(
        &self,
        actor: &str,
        update: &ParticipantListUpdate,
    ) -> Result<RoomState, UpdateRefusal> {
        let next = self.apply(update)?;
        let list = &self.participants.participants;
        let user_at = |index: u32| -> String {
            usize::try_from(index)
                .ok()
                .and_then(|i| list.get(i))
                .map_or_else(String::new, |pair| text(&pair.user))
        };
        for change in &update.changed_role_participants {
            let user = user_at(change.user_index);
            let current = self.role_of(&user);
            let set_role = Operation::SetRole {
                user: user.clone(),
                role: change.role_index,
            };
            if change.role_index == ROLE_BANNED {
                either(
                    self.authorize(actor, &Operation::Ban { user: user.clone() }),
                    || self.authorize(actor, &set_role),
                )?;
            } else if current == ROLE_BANNED {
                either(self.check_unban_to(actor, &user, change.role_index), || {
                    self.authorize(actor, &set_role)
                })?;
            } else {
                self.authorize(actor, &set_role)?;
            }
        }
        for &index in &update.removed_indices {
            let user = user_at(index);
            if user == actor {
                self.authorize(actor, &Operation::Leave)?;
            } else if self.role_of(&user) == ROLE_BANNED {
                either(
                    self.authorize(actor, &Operation::Unban { user: user.clone() }),
                    || self.authorize(actor, &Operation::Remove { user: user.clone() }),
                )?;
            } else {
                self.authorize(actor, &Operation::Remove { user })?;
            }
        }
        for pair in &update.added_participants {
            let user = text(&pair.user);
            if pair.role_index == ROLE_BANNED {
                self.authorize(actor, &Operation::Ban { user })?;
            } else {
                self.authorize(
                    actor,
                    &Operation::Add {
                        user,
                        role: pair.role_index,
                    },
                )?;
            }
        }
        Ok(next)
    }
}

/// The first result if it is Ok, else the alternative if that is Ok, else the first error.
fn either(
    first: Result<(), Refusal>,
    alternative: impl FnOnce() -> Result<(), Refusal>,
) -> Result<(), Refusal> {
    match first {
        Ok(()) => Ok(()),
        Err(error) => alternative().map_err(|_| error),
    }
}
