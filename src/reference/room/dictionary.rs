//! The room state inside the MLS group: the `app_data_dictionary`
//! GroupContext extension (draft-ietf-mls-extensions) holding the
//! participant_list (0x0022), room_metadata (0x0023) and policy components.
//! openmls 0.9 without `extensions-draft` has no AppDataUpdate, so the
//! extension is carried as an unknown extension of the same type (0x0006)
//! and replaced whole by a GroupContextExtensions proposal (see
//! docs/deviations.md). This module encodes it and turns two states into
//! the ParticipantListUpdate between them, so the hub can authorize a
//! replaced dictionary as the update it amounts to.

use tls_codec::{Deserialize as _, Serialize as _, TlsDeserialize, TlsSerialize, TlsSize, VLBytes};

use super::state::{FromComponentsError, RoomState, text};
use super::wire::{
    ComponentId, EncodeError, ParticipantListUpdate, UserRolePair, UserindexRolePair,
};

pub use crate::protocol::room::APP_DATA_DICTIONARY_EXTENSION;

/// draft-ietf-mls-extensions: `struct { ComponentID component_id; opaque data<V>; } ComponentData;`
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
struct ComponentData {
    component_id: ComponentId,
    data: VLBytes,
}

/// draft-ietf-mls-extensions: `struct { ComponentData component_data<V>; } AppDataDictionary;`
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
struct AppDataDictionary {
    component_data: Vec<ComponentData>,
}

/// Reading the room state out of an `app_data_dictionary` failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadDictionaryError {
    #[error("the group has no app_data_dictionary extension")]
    Missing,
    #[error("cannot decode the app_data_dictionary: {0}")]
    Decode(tls_codec::Error),
    #[error("app_data_dictionary components are not in ascending order")]
    Unordered,
    #[error(transparent)]
    Components(#[from] FromComponentsError),
}

/// Two states differ in a way no ParticipantListUpdate expresses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiffError {
    #[error("the roles list or room policy changed; this provider does not change them")]
    PolicyChanged,
    #[error("the participant list was reordered beyond what an update can do")]
    Reordered,
}

/// The extension body for `state`, components in ascending ID order.
pub fn encode_state(state: &RoomState) -> Result<Vec<u8>, EncodeError> {
    let dict = AppDataDictionary {
        component_data: state
            .components()?
            .into_iter()
            .map(|(component_id, data)| ComponentData {
                component_id,
                data: VLBytes::new(data),
            })
            .collect(),
    };
    dict.tls_serialize_detached().map_err(|source| EncodeError {
        what: "AppDataDictionary",
        source,
    })
}

/// The room state from an extension body (peer bytes: every error is returned).
pub fn decode_state(bytes: &[u8]) -> Result<RoomState, ReadDictionaryError> {
    let dict =
        AppDataDictionary::tls_deserialize_exact(bytes).map_err(ReadDictionaryError::Decode)?;
    let ids: Vec<ComponentId> = dict.component_data.iter().map(|c| c.component_id).collect();
    if ids.windows(2).any(|w| w[0] >= w[1]) {
        return Err(ReadDictionaryError::Unordered);
    }
    Ok(RoomState::from_components(
        dict.component_data
            .iter()
            .map(|c| (c.component_id, c.data.as_slice())),
    )?)
}

/// The ParticipantListUpdate that turns `old`'s participant list into
/// `new`'s (role changes, removals, additions appended in order), or `None`
/// when the list is unchanged. Roles and policy must be the same.
pub fn participant_diff(
    old: &RoomState,
    new: &RoomState,
) -> Result<Option<ParticipantListUpdate>, DiffError> {
    if old.roles != new.roles
        || old.policy != new.policy
        || old.status_notifications != new.status_notifications
        || old.franking_agent != new.franking_agent
    {
        return Err(DiffError::PolicyChanged);
    }
    let mut update = ParticipantListUpdate::default();
    for (index, pair) in old.participants.participants.iter().enumerate() {
        let index = u32::try_from(index).map_err(|_| DiffError::Reordered)?;
        match new.index_of(&text(&pair.user)) {
            None => update.removed_indices.push(index),
            Some(_) => {
                let role = new.role_of(&text(&pair.user));
                if role != pair.role_index {
                    update.changed_role_participants.push(UserindexRolePair {
                        user_index: index,
                        role_index: role,
                    });
                }
            }
        }
    }
    for pair in &new.participants.participants {
        if old.index_of(&text(&pair.user)).is_none() {
            update.added_participants.push(UserRolePair {
                user: pair.user.clone(),
                role_index: pair.role_index,
            });
        }
    }
    if update.is_empty() {
        return if old.participants == new.participants {
            Ok(None)
        } else {
            Err(DiffError::Reordered)
        };
    }
    // The update must reproduce `new` exactly (order included).
    match old.apply(&update) {
        Ok(applied) if applied.participants == new.participants => Ok(Some(update)),
        _ => Err(DiffError::Reordered),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::room::Operation;

    const ALICE: &str = "mimi://a.example/u/alice";
    const BOB: &str = "mimi://b.example/u/bob";

    #[test]
    fn state_round_trips_through_the_dictionary() {
        let state = RoomState::new_group("mimi://a.example/r/club", ALICE).expect("state");
        let bytes = encode_state(&state).expect("encode");
        assert_eq!(decode_state(&bytes).expect("decode"), state);
        assert!(matches!(
            decode_state(&bytes[..bytes.len() - 1]),
            Err(ReadDictionaryError::Decode(_))
        ));
    }

    #[test]
    fn diff_recovers_the_planned_update() {
        let state = RoomState::new_group("mimi://a.example/r/club", ALICE).expect("state");
        let effect = state.plan(ALICE, &Operation::add(BOB)).expect("plan");
        let next = state.apply_effect(&effect).expect("apply");
        assert_eq!(
            participant_diff(&state, &next).expect("diff"),
            effect.update
        );
        let ban = next
            .plan(ALICE, &Operation::Ban { user: BOB.into() })
            .expect("plan");
        let banned = next.apply_effect(&ban).expect("apply");
        assert_eq!(participant_diff(&next, &banned).expect("diff"), ban.update);
        assert_eq!(participant_diff(&next, &next).expect("diff"), None);
    }

    #[test]
    fn diff_refuses_policy_changes() {
        let group = RoomState::new_group("mimi://a.example/r/club", ALICE).expect("state");
        let dm = RoomState::new_dm("mimi://a.example/r/club", ALICE, BOB).expect("state");
        assert_eq!(participant_diff(&group, &dm), Err(DiffError::PolicyChanged));
    }
}
