//! One device of a user: its MLS keys, its groups (one per room) and the
//! plaintext it sends and receives. It reaches its provider only through
//! [`LocalEndpoint`], the client/server boundary.

pub mod assets;
mod franking;
pub(crate) use franking::FrankRecord;
mod join;
mod membership;
mod policy;
mod receipts;
mod timeline;

use super::ids;
use super::server::{CIPHERSUITE, LocalEndpoint, MimiError, credential_uri};
use crate::control::api::{ClientRoomState, EventKind, Participant, RoomMetadata};
use crate::protocol::{
    self, FanoutMessage, FanoutTail, GroupInfoOption, HandshakeBundle, KeyMaterialRequest,
    KeyMaterialRequestTbs, RatchetTreeOption, Raw, SubmitMessageRequest, SubmitMessageResponse,
    UpdateOutcome,
};
use base64::Engine as _;
use openmls::prelude::{
    BasicCredential, Capabilities, CredentialWithKey, Extension, ExtensionType, Extensions,
    GroupId, KeyPackage, KeyPackageIn, LeafNodeIndex, MlsGroup, MlsGroupJoinConfig,
    MlsMessageBodyIn, OpenMlsProvider, PURE_PLAINTEXT_WIRE_FORMAT_POLICY, ProcessedMessageContent,
    ProposalType, ProtocolVersion, RequiredCapabilitiesExtension, StagedWelcome, UnknownExtension,
    tls_codec::{Serialize as _, VLBytes},
};
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::signatures::Signer as _;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashSet};

pub use super::room::dictionary::APP_DATA_DICTIONARY_EXTENSION;

/// How many past epochs' application messages a client can still decrypt.
const MAX_PAST_EPOCHS: usize = 8;

/// Something a client observed in a room.
#[derive(Debug, Clone)]
pub struct ClientEvent {
    pub client: String,
    pub room: String,
    pub kind: EventKind,
}

/// Why a client operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{client} is not a member of {room}")]
    NotMember { client: String, room: String },
    #[error("refused by the hub: {0}")]
    Refused(String),
    #[error("unknown user {0}")]
    UnknownUser(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error(transparent)]
    Server(#[from] MimiError),
    #[error("MLS: {0}")]
    Mls(String),
    /// The room's policy forbids the operation (checked before committing).
    #[error("{0}")]
    Policy(super::room::Refusal),
}

fn mls(e: impl std::fmt::Debug) -> ClientError {
    ClientError::Mls(format!("{e:?}"))
}

pub(crate) fn capabilities() -> Capabilities {
    Capabilities::new(
        None,
        None,
        Some(&[ExtensionType::Unknown(APP_DATA_DICTIONARY_EXTENSION)]),
        Some(&[ProposalType::SelfRemove]),
        None,
    )
}

pub(crate) fn join_config() -> MlsGroupJoinConfig {
    MlsGroupJoinConfig::builder()
        .wire_format_policy(PURE_PLAINTEXT_WIRE_FORMAT_POLICY)
        .max_past_epochs(MAX_PAST_EPOCHS)
        .use_ratchet_tree_extension(false)
        .build()
}

pub struct Client {
    pub uri: String,
    pub user: String,
    provider: OpenMlsRustCrypto,
    signer: super::signer::SigningKeyPair,
    cred: CredentialWithKey,
    groups: BTreeMap<String, MlsGroup>,
    /// Position in the provider inbox up to which items were processed.
    cursor: usize,
    /// Hashes of MLS messages this client sent, to skip their fan-out echo.
    sent: HashSet<[u8; 32]>,
    ep: LocalEndpoint,
    /// Room → the messages this client shows (see `timeline`).
    timelines: BTreeMap<String, timeline::Timeline>,
    /// Room → received messages awaiting the `delivered` report the room's
    /// policy requires (see `receipts`).
    pending_delivered: BTreeMap<String, Vec<crate::content::MessageId>>,
    /// Room → message ID (hex) → the frank of a received message.
    franks: BTreeMap<String, BTreeMap<String, FrankRecord>>,
    /// Room → when this client joined it, by the hub's clock where the hub
    /// said (its Welcome's or external commit's timestamp): no message of
    /// the room it can read was accepted much earlier (see `timeline`).
    joined: BTreeMap<String, u64>,
}

/// The client's active group for `room`.
fn active<'a>(
    groups: &'a mut BTreeMap<String, MlsGroup>,
    client: &str,
    room: &str,
) -> Result<&'a mut MlsGroup, ClientError> {
    match groups.get_mut(room) {
        Some(g) if g.is_active() => Ok(g),
        _ => Err(ClientError::NotMember {
            client: client.to_owned(),
            room: room.to_owned(),
        }),
    }
}

fn hash(b: &[u8]) -> [u8; 32] {
    Sha256::digest(b).into()
}

impl Client {
    /// A new device with fresh keys, registered with its provider, with
    /// `key_packages` KeyPackages published.
    pub fn new(
        ep: LocalEndpoint,
        user: &str,
        uri: &str,
        key_packages: usize,
    ) -> Result<Self, ClientError> {
        let provider = OpenMlsRustCrypto::default();
        let signer = super::signer::SigningKeyPair::generate();
        let cred = CredentialWithKey {
            credential: BasicCredential::new(uri.as_bytes().to_vec()).into(),
            signature_key: signer.public().into(),
        };
        ep.register_client(user, uri);
        let c = Self {
            uri: uri.to_owned(),
            user: user.to_owned(),
            provider,
            signer,
            cred,
            groups: BTreeMap::new(),
            cursor: 0,
            sent: HashSet::new(),
            ep,
            timelines: BTreeMap::new(),
            pending_delivered: BTreeMap::new(),
            franks: BTreeMap::new(),
            joined: BTreeMap::new(),
        };
        for _ in 0..key_packages {
            c.publish_key_package()?;
        }
        Ok(c)
    }

    pub fn publish_key_package(&self) -> Result<(), ClientError> {
        let kpb = KeyPackage::builder()
            .leaf_node_capabilities(capabilities())
            .build(CIPHERSUITE, &self.provider, &self.signer, self.cred.clone())
            .map_err(mls)?;
        let raw = kpb.key_package().tls_serialize_detached().map_err(mls)?;
        self.ep.publish_key_package(&self.uri, raw)?;
        Ok(())
    }

    /// Rooms this client is an active member of.
    pub fn rooms(&self) -> Vec<String> {
        self.groups
            .iter()
            .filter(|(_, g)| g.is_active())
            .map(|(r, _)| r.clone())
            .collect()
    }

    pub fn is_member(&self, room: &str) -> bool {
        self.groups.get(room).is_some_and(|g| g.is_active())
    }

    /// Drops the state of a room this client was removed from, so it can
    /// join the same MLS group again.
    pub(crate) fn forget_group(&mut self, room: &str) {
        if let Some(mut g) = self.groups.remove(room) {
            let _ = g.delete(self.provider.storage());
        }
    }

    fn event(&self, room: &str, kind: EventKind) -> ClientEvent {
        ClientEvent {
            client: self.uri.clone(),
            room: room.to_owned(),
            kind,
        }
    }

    /// Creates the MLS group of a room hosted by our provider, with the
    /// room state (`with` makes it a direct-message room with that user) in
    /// the `app_data_dictionary` GroupContext extension. `status` replaces
    /// the default status notification policy (both `optional`); `max_users`
    /// limits a group room's non-banned participants (room-policy-03 §5).
    pub fn create_room(
        &mut self,
        room: &str,
        with: Option<&str>,
        status: Option<super::room::wire::StatusNotificationPolicy>,
        max_users: Option<u32>,
    ) -> Result<Vec<ClientEvent>, ClientError> {
        let gid = ids::group_id_of_room(room)
            .ok_or_else(|| ClientError::Conflict(format!("not a room URI: {room}")))?;
        let mut state = match with {
            Some(other) => super::room::RoomState::new_dm(room, &self.user, other),
            None => super::room::RoomState::new_group(room, &self.user),
        }
        .map_err(|e| ClientError::Conflict(e.to_string()))?;
        if status.is_some() {
            state.status_notifications = status;
        }
        if max_users.is_some() {
            state.policy.max_users = max_users;
        }
        // The hub (our provider) franks the room's messages (§5.4.1).
        state.franking_agent = Some(self.ep.franking_agent());
        let exts = Extensions::from_vec(vec![
            Extension::ExternalSenders(vec![self.ep.hub_sender()]),
            // openmls lets a GroupContextExtensions proposal carry only
            // extension types every member must support.
            Extension::RequiredCapabilities(RequiredCapabilitiesExtension::new(
                &[ExtensionType::Unknown(APP_DATA_DICTIONARY_EXTENSION)],
                &[],
                &[],
            )),
            Extension::Unknown(
                APP_DATA_DICTIONARY_EXTENSION,
                UnknownExtension(
                    super::room::dictionary::encode_state(&state)
                        .map_err(|e| ClientError::Mls(e.to_string()))?,
                ),
            ),
        ])
        .map_err(mls)?;
        if self.groups.contains_key(room) {
            return Err(ClientError::Conflict(format!("room {room} exists")));
        }
        let mut group = MlsGroup::builder()
            .with_group_id(GroupId::from_slice(gid.as_bytes()))
            .ciphersuite(CIPHERSUITE)
            .with_wire_format_policy(PURE_PLAINTEXT_WIRE_FORMAT_POLICY)
            .with_group_context_extensions(exts)
            .with_capabilities(capabilities())
            .max_past_epochs(MAX_PAST_EPOCHS)
            .use_ratchet_tree_extension(false)
            .build(&self.provider, &self.signer, self.cred.clone())
            .map_err(mls)?;
        // openmls stored the group under the room's group id as it built
        // it; a room the hub refuses must not keep it there, or this client
        // could never join the room of that name (a Welcome to a stored
        // group id fails).
        if let Err(e) = self.register_room(room, &group) {
            let _ = group.delete(self.provider.storage());
            return Err(e);
        }
        let epoch = group.epoch().as_u64();
        self.groups.insert(room.to_owned(), group);
        self.joined.insert(room.to_owned(), super::server::now_ms());
        Ok(vec![self.event(room, EventKind::Joined { epoch })])
    }

    /// Everything this device holds, as text, for tests that check a failed
    /// operation left no trace: its groups (epoch, members), its place in
    /// the inbox, what it shows and keeps, and a digest of its MLS storage.
    pub(crate) fn dump(&self) -> String {
        use std::fmt::Write as _;
        let mut out = format!("client {} cursor {}\n", self.uri, self.cursor);
        for (room, g) in &self.groups {
            let members: BTreeSet<String> = g
                .members()
                .filter_map(|m| credential_uri(&m.credential))
                .collect();
            let _ = writeln!(
                out,
                "  group {room} epoch {} active {} members {members:?}",
                g.epoch().as_u64(),
                g.is_active()
            );
        }
        let _ = writeln!(out, "  timelines {:?}", self.timelines.keys());
        for (room, t) in &self.timelines {
            let _ = writeln!(out, "  timeline {room} {t:?}");
        }
        let _ = writeln!(out, "  pending_delivered {:?}", self.pending_delivered);
        let _ = writeln!(out, "  franks {:?}", self.franks.keys());
        let mut sent: Vec<_> = self.sent.iter().map(hex::encode).collect();
        sent.sort();
        let _ = writeln!(out, "  sent {sent:?}");
        let storage = self
            .provider
            .storage()
            .values
            .read()
            .map(|v| {
                let mut entries: Vec<_> = v.iter().collect();
                entries.sort();
                let mut h = Sha256::new();
                for (k, v) in entries {
                    h.update((k.len() as u64).to_be_bytes());
                    h.update(k);
                    h.update((v.len() as u64).to_be_bytes());
                    h.update(v);
                }
                hex::encode(h.finalize())
            })
            .unwrap_or_else(|_| "poisoned".into());
        let _ = writeln!(out, "  storage {storage}");
        out
    }

    /// Asks our provider to host a new room from its creator's group.
    fn register_room(&self, room: &str, group: &MlsGroup) -> Result<(), ClientError> {
        let gi = group
            .export_group_info(self.provider.crypto(), &self.signer, false)
            .map_err(mls)?
            .tls_serialize_detached()
            .map_err(mls)?;
        let gi = protocol::unwrap_mls_message(protocol::WIRE_FORMAT_GROUP_INFO, &gi)
            .ok_or_else(|| ClientError::Mls("GroupInfo export is not an MLSMessage".into()))?
            .to_vec();
        let tree = group
            .export_ratchet_tree()
            .tls_serialize_detached()
            .map_err(mls)?;
        self.ep
            .create_room(room, &self.uri, Raw::from_bytes(gi), Raw::from_bytes(tree))?;
        Ok(())
    }

    /// Undoes [`Client::create_room`] for a room whose creation failed
    /// later on (e.g. the creator's other devices could not be added).
    pub(crate) fn abandon_room(&mut self, room: &str) {
        self.forget_group(room);
        self.timelines.remove(room);
        self.joined.remove(room);
    }

    /// Processes everything new in the inbox, in order.
    pub fn sync(&mut self) -> Vec<ClientEvent> {
        let items = self.ep.inbox(&self.uri, self.cursor);
        self.cursor += items.len();
        let mut events = Vec::new();
        for item in items {
            if let Ok(fm) = protocol::decode::<FanoutMessage>(&item.fanout) {
                events.extend(self.process(&item.room, fm));
            }
        }
        // QUIRK duplicate-message-event.
        self.ep.quirks().client_events(&mut events);
        events
    }

    fn process(&mut self, room: &str, fm: FanoutMessage) -> Vec<ClientEvent> {
        if self.sent.remove(&hash(fm.message.bytes())) {
            return Vec::new();
        }
        let Ok(msg) = fm.message.parse() else {
            return Vec::new();
        };
        match fm.tail {
            FanoutTail::Welcome {
                ratchet_tree: RatchetTreeOption::Full(tree),
            } => {
                if self.is_member(room) {
                    return Vec::new();
                }
                let MlsMessageBodyIn::Welcome(welcome) = msg.extract() else {
                    return Vec::new();
                };
                let Ok(tree) = tree.parse() else {
                    return Vec::new();
                };
                // A removed client keeps its inactive group; openmls stores
                // groups by id, so a re-join needs the old one gone.
                self.forget_group(room);
                let joined = StagedWelcome::new_from_welcome(
                    &self.provider,
                    &join_config(),
                    welcome,
                    Some(tree),
                )
                .and_then(|s| s.into_group(&self.provider));
                match joined {
                    Ok(group) => {
                        let epoch = group.epoch().as_u64();
                        self.groups.insert(room.to_owned(), group);
                        self.joined.insert(room.to_owned(), fm.timestamp);
                        // The Welcome used up one KeyPackage; publish a fresh one.
                        let _ = self.publish_key_package();
                        vec![self.event(room, EventKind::Joined { epoch })]
                    }
                    Err(_) => Vec::new(),
                }
            }
            _ => {
                let Some(group) = self.groups.get_mut(room).filter(|g| g.is_active()) else {
                    return Vec::new();
                };
                let Ok(pm) = msg.try_into_protocol_message() else {
                    return Vec::new();
                };
                let wire_format = match pm {
                    openmls::prelude::ProtocolMessage::PrivateMessage(_) => "private",
                    openmls::prelude::ProtocolMessage::PublicMessage(_) => "public",
                };
                let Ok(processed) = group.process_message(&self.provider, pm) else {
                    return Vec::new();
                };
                let sender = credential_uri(processed.credential()).unwrap_or_default();
                let aad = processed.aad().to_vec();
                match processed.into_content() {
                    ProcessedMessageContent::ApplicationMessage(m) => {
                        let decrypted_content = m.into_bytes();
                        self.record_content(room, &sender, &decrypted_content, fm.timestamp);
                        if let FanoutTail::Application { frank } = &fm.tail {
                            self.keep_frank(
                                room,
                                &sender,
                                &aad,
                                &decrypted_content,
                                frank.as_ref(),
                                fm.timestamp,
                            );
                        }
                        vec![
                            self.event(
                                room,
                                EventKind::Message {
                                    sender,
                                    content: base64::engine::general_purpose::STANDARD
                                        .encode(decrypted_content),
                                    accepted_timestamp: Some(fm.timestamp),
                                    wire_format: wire_format.into(),
                                },
                            ),
                        ]
                    }
                    ProcessedMessageContent::ProposalMessage(q) => {
                        let _ = group.store_pending_proposal(self.provider.storage(), *q);
                        if let FanoutTail::Proposal { more_proposals } = fm.tail {
                            for m in more_proposals {
                                let Ok(pm) = m.parse().map(|m| m.try_into_protocol_message())
                                else {
                                    continue;
                                };
                                let Ok(pm) = pm else { continue };
                                if let Ok(p) = group.process_message(&self.provider, pm)
                                    && let ProcessedMessageContent::ProposalMessage(q) =
                                        p.into_content()
                                {
                                    let _ =
                                        group.store_pending_proposal(self.provider.storage(), *q);
                                }
                            }
                        }
                        Vec::new()
                    }
                    ProcessedMessageContent::ExternalJoinProposalMessage(q) => {
                        let _ = group.store_pending_proposal(self.provider.storage(), *q);
                        Vec::new()
                    }
                    ProcessedMessageContent::StagedCommitMessage(sc) => {
                        if group.merge_staged_commit(&self.provider, *sc).is_err() {
                            return Vec::new();
                        }
                        let epoch = group.epoch().as_u64();
                        let kind = if group.is_active() {
                            EventKind::EpochChanged { epoch }
                        } else {
                            EventKind::Removed { epoch }
                        };
                        vec![self.event(room, kind)]
                    }
                    _ => Vec::new(),
                }
            }
        }
    }

    /// Encrypts `content` for the room and submits it; returns the hub's
    /// accepted timestamp.
    pub async fn send(&mut self, room: &str, content: &[u8]) -> Result<u64, ClientError> {
        let group = active(&mut self.groups, &self.uri, room)?;
        group.set_aad(franking::aad_for(content));
        let msg = group
            .create_message(&self.provider, &self.signer, content)
            .map_err(mls)?
            .tls_serialize_detached()
            .map_err(mls)?;
        let req = SubmitMessageRequest {
            protocol: protocol::PROTOCOL_MLS10,
            app_message: Raw::from_bytes(msg.clone()),
            sending_uri: VLBytes::new(self.user.as_bytes().to_vec()),
        };
        self.sent.insert(hash(&msg));
        match self.ep.submit_message(room, req).await? {
            SubmitMessageResponse::Accepted {
                accepted_timestamp, ..
            } => {
                let me = self.uri.clone();
                self.record_content(room, &me, content, accepted_timestamp);
                Ok(accepted_timestamp)
            }
            SubmitMessageResponse::NotAllowed => {
                self.sent.remove(&hash(&msg));
                Err(ClientError::Refused(
                    "the hub did not allow the message".into(),
                ))
            }
            SubmitMessageResponse::EpochTooOld { current_epoch } => {
                self.sent.remove(&hash(&msg));
                Err(ClientError::Conflict(format!(
                    "hub is at epoch {current_epoch}"
                )))
            }
        }
    }

    /// The room as this client sees it: members from the MLS tree,
    /// participants, roles and metadata from the group's room state.
    pub fn room_state(&self, room: &str) -> Option<ClientRoomState> {
        let group = self.groups.get(room).filter(|g| g.is_active())?;
        let members: BTreeSet<String> = group
            .members()
            .filter_map(|m| credential_uri(&m.credential))
            .collect();
        let model = policy::room_model(group).ok();
        let participants = model
            .as_ref()
            .map(|m| {
                m.participants()
                    .into_iter()
                    .map(|(user, role)| Participant { user, role })
                    .collect()
            })
            .unwrap_or_default();
        let metadata = model
            .as_ref()
            .map(|m| {
                let (name, topic, avatar) = m.metadata.control_view();
                RoomMetadata {
                    name,
                    topic,
                    avatar,
                }
            })
            .unwrap_or_default();
        Some(ClientRoomState {
            client: self.uri.clone(),
            epoch: group.epoch().as_u64(),
            epoch_authenticator: hex::encode(group.epoch_authenticator().as_slice()),
            participants,
            members: members.into_iter().collect(),
            metadata,
        })
    }
}
