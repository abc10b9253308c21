//! TLS encodings: bytes pinned by hand from the drafts' presentation
//! language, round trips, strict decoding, and decode never panicking.

use mimi_interop::reference::room::roles::{dm_policy, group_roles};
use mimi_interop::reference::room::wire::{
    BaseRoomPolicy, Optionality, ParticipantListData, ParticipantListUpdate, RichDescription, Role,
    RoleData, RoomMetaData, SingleSourceRoleChangeTargets, StatusNotificationPolicy, UserRolePair,
    UserindexRolePair, WireStruct,
};
use mimi_interop::reference::room::{Capability, CapabilityType, RoomState};
use proptest::prelude::*;
use tls_codec::VLBytes;

use super::{ALICE, ROOM, group};

fn vl(text: &str) -> VLBytes {
    VLBytes::new(text.as_bytes().to_vec())
}

fn round_trip<T: WireStruct + PartialEq + std::fmt::Debug>(value: &T) -> Vec<u8> {
    let bytes = value.encode().expect("encodes");
    let back = T::decode(&bytes).expect("decodes its own encoding");
    assert_eq!(&back, value);
    bytes
}

#[test]
fn participant_list_data_bytes_are_pinned() {
    // ParticipantListData { UserRolePair participants<V> }:
    // vector length 0x1d (29) = user length 0x18 + 24 bytes + uint32 role.
    let data = ParticipantListData {
        participants: vec![UserRolePair {
            user: vl(ALICE),
            role_index: 2,
        }],
    };
    let mut expected = vec![0x1d, 0x18];
    expected.extend_from_slice(b"mimi://a.example/u/alice");
    expected.extend_from_slice(&[0, 0, 0, 2]);
    assert_eq!(round_trip(&data), expected);
}

#[test]
fn long_vectors_use_two_byte_varint_lengths() {
    // A 70-byte user: 70 >= 64 needs the 2-byte form 0x40 0x46; the entry is
    // 2 + 70 + 4 = 76 bytes, so the list length is 0x40 0x4c.
    let user = "u".repeat(70);
    let data = ParticipantListData {
        participants: vec![UserRolePair {
            user: vl(&user),
            role_index: 7,
        }],
    };
    let bytes = round_trip(&data);
    assert_eq!(&bytes[..4], &[0x40, 0x4c, 0x40, 0x46]);
    assert_eq!(&bytes[74..], &[0, 0, 0, 7]);
    assert_eq!(bytes.len(), 78);
}

#[test]
fn participant_list_update_bytes_are_pinned() {
    let update = ParticipantListUpdate {
        changed_role_participants: vec![UserindexRolePair {
            user_index: 1,
            role_index: 1,
        }],
        removed_indices: vec![0],
        added_participants: vec![UserRolePair {
            user: vl("b"),
            role_index: 2,
        }],
    };
    let expected = [
        0x08, 0, 0, 0, 1, 0, 0, 0, 1, // changedRoleParticipants<V>
        0x04, 0, 0, 0, 0, // removedIndices<V>
        0x06, 0x01, b'b', 0, 0, 0, 2, // addedParticipants<V>
    ];
    assert_eq!(round_trip(&update), expected);
}

#[test]
fn role_bytes_are_pinned() {
    let role = Role {
        role_index: 3,
        role_name: vl("x"),
        role_description: vl(""),
        role_capabilities: vec![Capability::CanKick.into()],
        minimum_participants_constraint: 1,
        maximum_participants_constraint: Some(2),
        minimum_active_participants_constraint: 0,
        maximum_active_participants_constraint: None,
        authorized_role_changes: vec![SingleSourceRoleChangeTargets {
            from_role_index: 0,
            target_role_indexes: vec![3],
        }],
    };
    let expected = [
        0, 0, 0, 3, // role_index
        0x01, b'x', // role_name<V>
        0x00, // role_description<V>
        0x02, 0x00, 0x0c, // role_capabilities<V>: canKick
        0, 0, 0, 1, // minimum_participants_constraint
        0x01, 0, 0, 0, 2, // optional maximum_participants_constraint = 2
        0, 0, 0, 0,    // minimum_active_participants_constraint
        0x00, // optional maximum_active_participants_constraint absent
        0x09, 0, 0, 0, 0, 0x04, 0, 0, 0, 3, // authorized_role_changes<V> [(0,[3])]
    ];
    assert_eq!(round_trip(&role), expected);
}

#[test]
fn dm_base_policy_bytes_are_pinned() {
    let expected = [
        0x01, // fixed_membership
        0x00, // parent_dependant
        0x00, // parent_room<V> empty
        0x01, // multi_device
        0x00, // max_clients absent
        0x01, 0, 0, 0, 2, // max_users = 2
        0x00, 0x00, 0x00, // pseudonyms_allowed, persistent_room, discoverable
        0x04, 0x00, 0x25, 0x00, 0x28, // policy_component_ids<V>: roles_list, status
    ];
    assert_eq!(round_trip(&dm_policy()), expected);
}

#[test]
fn status_notification_and_metadata_bytes_are_pinned() {
    let status = StatusNotificationPolicy {
        delivery_notifications: Optionality::Optional,
        read_receipts: Optionality::Forbidden,
    };
    assert_eq!(round_trip(&status), [0x00, 0x02]);

    let mut metadata = RoomMetaData::new("mimi://a/r/x");
    metadata.room_name = vl("N");
    let mut expected = vec![0x0c];
    expected.extend_from_slice(b"mimi://a/r/x");
    expected.extend_from_slice(&[0x01, b'N', 0x00, 0x00, 0x00, 0x00]);
    assert_eq!(round_trip(&metadata), expected);
}

#[test]
fn full_structures_round_trip() {
    round_trip(&group_roles());
    round_trip(&group().participants);
    let mut metadata = RoomMetaData::new(ROOM);
    metadata.room_descriptions = vec![
        RichDescription {
            media_type: vl(""),
            language_tag: vl("en"),
            description_content: vl("A room"),
        },
        RichDescription {
            media_type: vl("text/markdown"),
            language_tag: vl("fr"),
            description_content: vl("Une *salle*"),
        },
    ];
    metadata.room_avatar = vl("https://a.example/avatar.png");
    metadata.room_subject = vl("MIMI interop");
    metadata.room_mood = vl(":)");
    round_trip(&metadata);
    let parent = BaseRoomPolicy {
        parent_dependant: true,
        parent_room: vec![vl("mimi://a.example/r/parent")],
        max_clients: Some(10),
        ..dm_policy()
    };
    round_trip(&parent);
}

#[test]
fn room_state_components_round_trip() {
    let state = group();
    let components = state.components().expect("encodes");
    let ids: Vec<u16> = components.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, vec![0x0022, 0x0023, 0x0025, 0x0027, 0x0028]);
    let mut with_foreign: Vec<(u16, &[u8])> = components
        .iter()
        .map(|(id, data)| (*id, data.as_slice()))
        .collect();
    with_foreign.push((0x0030, b"a component this model does not know"));
    assert_eq!(
        RoomState::from_components(with_foreign.clone()).expect("decodes"),
        state
    );
    // The franking_signature_key component (0x0021) is kept, first in order.
    with_foreign.push((0x0021, b"franking agent"));
    let franked = RoomState::from_components(with_foreign).expect("decodes");
    assert_eq!(
        franked.franking_agent.as_deref(),
        Some(&b"franking agent"[..])
    );
    assert_eq!(franked.components().expect("encodes")[0].0, 0x0021);
}

#[test]
fn room_state_components_missing_or_duplicate_are_errors() {
    let state = group();
    let components = state.components().expect("encodes");
    let without_roles: Vec<(u16, &[u8])> = components
        .iter()
        .filter(|(id, _)| *id != 0x0025)
        .map(|(id, data)| (*id, data.as_slice()))
        .collect();
    let error = RoomState::from_components(without_roles).expect_err("roles missing");
    assert!(error.to_string().contains("roles_list"), "{error}");
    let mut twice: Vec<(u16, &[u8])> = components
        .iter()
        .map(|(id, data)| (*id, data.as_slice()))
        .collect();
    twice.push((0x0022, components[0].1.as_slice()));
    let error = RoomState::from_components(twice).expect_err("duplicate");
    assert_eq!(error.to_string(), "component 0x0022 appears twice");
    let broken = vec![(0x0022u16, &[0x05u8, 0x00][..])];
    let error = RoomState::from_components(broken).expect_err("truncated");
    assert!(error.to_string().contains("ParticipantListData"), "{error}");
}

#[test]
fn decoding_is_strict() {
    // bool other than 0/1.
    let mut bytes = dm_policy().encode().expect("encodes");
    bytes[0] = 2;
    assert!(BaseRoomPolicy::decode(&bytes).is_err());
    // optional<T> presence byte other than 0/1 (max_clients).
    let mut bytes = dm_policy().encode().expect("encodes");
    bytes[4] = 2;
    assert!(BaseRoomPolicy::decode(&bytes).is_err());
    // Optionality outside 0..=2.
    assert!(StatusNotificationPolicy::decode(&[0x00, 0x03]).is_err());
    // Non-minimal varint length (1 written as 0x40 0x01).
    assert!(ParticipantListUpdate::decode(&[0x40, 0x00, 0x00, 0x00]).is_err());
    assert!(ParticipantListUpdate::decode(&[0x00, 0x00, 0x00]).is_ok());
    // Trailing bytes.
    assert!(ParticipantListUpdate::decode(&[0x00, 0x00, 0x00, 0x00]).is_err());
    // A vector length that splits an element.
    assert!(ParticipantListUpdate::decode(&[0x03, 0, 0, 0, 0x00, 0x00]).is_err());
    // Truncated input names the structure.
    let error = RoleData::decode(&[0x10]).expect_err("truncated");
    assert!(
        error.to_string().starts_with("cannot decode RoleData"),
        "{error}"
    );
}

#[test]
fn unknown_capability_codepoints_survive_decoding() {
    let mut roles = group_roles();
    roles.roles[2]
        .role_capabilities
        .push(CapabilityType(0xf001));
    let bytes = roles.encode().expect("encodes");
    let back = RoleData::decode(&bytes).expect("private-use codepoint decodes");
    assert!(
        back.roles[2]
            .role_capabilities
            .contains(&CapabilityType(0xf001))
    );
    assert_eq!(Capability::from_code(0xf001), None);
}

fn arb_update() -> impl Strategy<Value = ParticipantListUpdate> {
    (
        prop::collection::vec((any::<u32>(), any::<u32>()), 0..4),
        prop::collection::vec(any::<u32>(), 0..4),
        prop::collection::vec(
            (prop::collection::vec(any::<u8>(), 0..80), any::<u32>()),
            0..4,
        ),
    )
        .prop_map(|(changed, removed, added)| ParticipantListUpdate {
            changed_role_participants: changed
                .into_iter()
                .map(|(user_index, role_index)| UserindexRolePair {
                    user_index,
                    role_index,
                })
                .collect(),
            removed_indices: removed,
            added_participants: added
                .into_iter()
                .map(|(user, role_index)| UserRolePair {
                    user: VLBytes::new(user),
                    role_index,
                })
                .collect(),
        })
}

proptest! {
    #[test]
    fn decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = ParticipantListData::decode(&bytes);
        let _ = ParticipantListUpdate::decode(&bytes);
        let _ = RoomMetaData::decode(&bytes);
        let _ = RoleData::decode(&bytes);
        let _ = BaseRoomPolicy::decode(&bytes);
        let _ = StatusNotificationPolicy::decode(&bytes);
        let _ = RoomState::from_components([(0x0022, &bytes[..]), (0x0025, &bytes[..])]);
    }

    #[test]
    fn mutated_encodings_never_panic(index in 0usize..400, value in any::<u8>()) {
        let mut bytes = group_roles().encode().expect("encodes");
        let len = bytes.len();
        bytes[index % len] = value;
        if let Ok(roles) = RoleData::decode(&bytes) {
            // Whatever decodes re-encodes to the same bytes (encodings are unique).
            prop_assert_eq!(roles.encode().expect("encodes"), bytes);
        }
    }

    #[test]
    fn updates_round_trip(update in arb_update()) {
        let bytes = update.encode().expect("encodes");
        prop_assert_eq!(ParticipantListUpdate::decode(&bytes).expect("decodes"), update);
    }
}
