//! The hub role (§4.3, §5.3–5.6): validates every handshake message against
//! the room's `PublicGroup`, orders and timestamps everything, and fans out.

use super::{
    CIPHERSUITE, HubRoom, MimiError, Server, State, bad, credential_uri, ids, lock, member_clients,
    now_ms, users_of_members, welcome_refs,
};
use crate::protocol::{
    self, FanoutMessage, FanoutTail, GroupInfoOption, HandshakeBundle, RatchetTreeOption, Raw,
    SubmitMessageRequest, SubmitMessageResponse, UpdateOutcome, UpdateRoomResponse,
};
use openmls::messages::group_info::VerifiableGroupInfo;
use openmls::prelude::{
    LeafNodeIndex, MlsMessageBodyIn, OpenMlsProvider, OpenMlsSignaturePublicKey,
    ProcessedMessageContent, Proposal, ProposalStore, ProtocolMessage, RatchetTreeIn, Sender,
    Verifiable as _, tls_codec::Serialize as _,
};
use std::collections::{BTreeMap, BTreeSet};
use tokio::sync::oneshot;

impl Server {
    /// Starts hosting a room created by a local client: its MLS group as of
    /// the creator's GroupInfo and tree.
    pub(crate) fn hub_create_room(
        &self,
        room: &str,
        creator: &str,
        group_info: Raw<VerifiableGroupInfo>,
        tree: Raw<RatchetTreeIn>,
    ) -> Result<(), MimiError> {
        let gid = ids::group_id_of_room(room)
            .ok_or_else(|| MimiError::BadRequest(format!("not a room URI: {room}")))?;
        if !self.is_local(room) {
            return Err(MimiError::Forbidden(format!("{room} is not hosted here")));
        }
        let vgi = group_info.parse().map_err(bad)?;
        if vgi.group_id().as_slice() != gid.as_bytes() {
            return Err(MimiError::BadRequest(
                "group id does not match the room".into(),
            ));
        }
        let mut st = lock(&self.state);
        if st.hub_rooms.contains_key(room) {
            return Err(MimiError::Conflict(format!("room {room} exists")));
        }
        let (group, _) = openmls::prelude::PublicGroup::from_external(
            self.crypto.crypto(),
            self.crypto.storage(),
            tree.parse().map_err(bad)?,
            vgi,
            ProposalStore::new(),
        )
        .map_err(bad)?;
        if member_clients(&group).into_iter().collect::<Vec<_>>() != vec![creator.to_owned()] {
            return Err(MimiError::BadRequest(
                "a new room must hold exactly the creating client".into(),
            ));
        }
        let state = super::policy::state_of(group.group_context().extensions())
            .map_err(MimiError::BadRequest)?;
        let creator_user = ids::user_of_client(creator).unwrap_or_default();
        if state.metadata.room_uri.as_slice() != room.as_bytes()
            || state.restricted_to_removals(&creator_user)
        {
            return Err(MimiError::BadRequest(
                "the room state must name this room and the creator as a participant".into(),
            ));
        }
        st.hub_rooms.insert(
            room.to_owned(),
            HubRoom {
                group,
                group_info: group_info.into_bytes(),
                last_timestamp: 0,
            },
        );
        st.room_clients
            .entry(room.to_owned())
            .or_default()
            .insert(creator.to_owned());
        Ok(())
    }

    /// Forgets a hosted room still at its first epoch with `creator` as its
    /// only member; any other room stays (others already rely on it).
    pub(crate) fn hub_abandon_room(&self, room: &str, creator: &str) {
        let mut st = lock(&self.state);
        let untouched = st.hub_rooms.get(room).is_some_and(|r| {
            r.group.group_context().epoch().as_u64() == 0
                && member_clients(&r.group)
                    .into_iter()
                    .eq([creator.to_owned()])
        });
        if untouched {
            self.forget_hub_room(&mut st, room);
            st.room_clients.remove(room);
        }
    }

    fn next_timestamp(room: &mut HubRoom) -> u64 {
        let ts = now_ms().max(room.last_timestamp + 1);
        room.last_timestamp = ts;
        ts
    }

    /// `/update` at the hub. `origin` is the provider domain that submitted
    /// it (our own for local clients).
    pub(crate) fn hub_update(
        &self,
        origin: &str,
        room_uri: &str,
        bundle: HandshakeBundle,
    ) -> Result<(UpdateRoomResponse, Deliveries), MimiError> {
        let mut guard = lock(&self.state);
        let st: &mut State = &mut guard;
        let room = st
            .hub_rooms
            .get_mut(room_uri)
            .ok_or_else(|| MimiError::NotFound(format!("no room {room_uri} here")))?;
        let pm = bundle
            .message()
            .parse()
            .map_err(bad)?
            .try_into_protocol_message()
            .map_err(bad)?;
        let ProtocolMessage::PublicMessage(_) = &pm else {
            return Err(MimiError::BadRequest(
                "handshake messages must be PublicMessages".into(),
            ));
        };
        if pm.group_id() != room.group.group_id() {
            return Err(MimiError::BadRequest(
                "group id does not match the room".into(),
            ));
        }
        let current = room.group.group_context().epoch().as_u64();
        if pm.epoch().as_u64() != current {
            return Ok((
                UpdateRoomResponse {
                    error_description: format!("hub is at epoch {current}"),
                    outcome: UpdateOutcome::WrongEpoch {
                        current_epoch: current,
                    },
                },
                Deliveries::default(),
            ));
        }
        let processed = room
            .group
            .process_message(self.crypto.crypto(), pm)
            .map_err(bad)?;
        let sender_client = credential_uri(processed.credential())
            .ok_or_else(|| MimiError::BadRequest("sender credential is not a client URI".into()))?;
        // QUIRK hub-trusts-foreign-clients.
        if self.quirks.hub_checks_client_origin()
            && ids::domain_of(&sender_client, 'd') != Some(origin)
        {
            return Err(MimiError::Forbidden(format!(
                "{origin} cannot speak for {sender_client}"
            )));
        }
        let not_allowed = |why: String| {
            Ok((
                UpdateRoomResponse {
                    error_description: why,
                    outcome: UpdateOutcome::NotAllowed,
                },
                Deliveries::default(),
            ))
        };
        match processed.sender() {
            Sender::Member(_) => {}
            Sender::NewMemberCommit => {
                // External join: only a new client of a user already in the room.
                let user = ids::user_of_client(&sender_client).unwrap_or_default();
                // QUIRK hub-open-joins.
                if self.quirks.hub_checks_joiners()
                    && !users_of_members(&room.group).contains(&user)
                {
                    return not_allowed(format!("{user} is not a participant"));
                }
            }
            _ => return not_allowed("only members and joining clients may update".into()),
        }
        let external = matches!(processed.sender(), Sender::NewMemberCommit);
        let sender_leaf_key = match processed.sender() {
            Sender::Member(i) => room.group.leaf(*i).map(|l| l.signature_key().clone()),
            _ => None,
        };
        let before = member_clients(&room.group);
        let content = processed.into_content();
        match (content, bundle) {
            (
                ProcessedMessageContent::StagedCommitMessage(staged),
                HandshakeBundle::Commit {
                    commit,
                    welcome,
                    group_info,
                    ratchet_tree: _,
                },
            ) => {
                // Proposals the hub accepted must be in the next commit (§3.5).
                let covered: BTreeSet<Vec<u8>> = staged
                    .queued_proposals()
                    .map(|q| q.proposal_reference_ref().as_slice().to_vec())
                    .collect();
                let pending = st
                    .hub_rooms
                    .get(room_uri)
                    .ok_or_else(|| MimiError::Internal("room vanished".into()))?
                    .group
                    .queued_proposals(self.crypto.storage())
                    .map_err(|e| MimiError::Internal(format!("proposal store: {e:?}")))?;
                // QUIRK hub-drops-held-proposals.
                if self.quirks.hub_checks_held_proposals()
                    && pending.iter().any(|(r, _)| !covered.contains(r.as_slice()))
                {
                    return not_allowed("the commit leaves out proposals the hub accepted".into());
                }
                // The room's policy (participant list, roles, metadata).
                let current = &st
                    .hub_rooms
                    .get(room_uri)
                    .ok_or_else(|| MimiError::Internal("room vanished".into()))?
                    .group;
                // QUIRK ordinary-user-can-kick (`checks_kicks`).
                let kicks = self.quirks.checks_kicks();
                // QUIRK hub-unlisted-clients (`checks_clients`); QUIRK
                // hub-open-joins (a joiner is not held to the list).
                let clients = self.quirks.hub_checks_clients()
                    && (self.quirks.hub_checks_joiners() || !external);
                // QUIRK hub-skips-policy.
                if self.quirks.hub_checks_policy()
                    && let Err(why) = super::policy::check_commit(
                        current,
                        &staged,
                        &sender_client,
                        kicks,
                        clients,
                    )
                {
                    return not_allowed(why);
                }
                let GroupInfoOption::Full(gi) = group_info;
                let vgi = gi.parse().map_err(bad)?;
                // The committer signs the new GroupInfo with its (new) leaf key.
                let signer_key = staged
                    .update_path_leaf_node()
                    .map(|l| l.signature_key().clone())
                    .or(sender_leaf_key)
                    .ok_or_else(|| bad("no key to check the GroupInfo signature"))?;
                vgi.verify_no_out(
                    self.crypto.crypto(),
                    &OpenMlsSignaturePublicKey::from_signature_key(
                        signer_key,
                        CIPHERSUITE.signature_algorithm(),
                    ),
                )
                .map_err(|_| bad("GroupInfo is not signed by the committer"))?;
                let next = staged.group_context();
                // QUIRK hub-keeps-stale-group-info.
                if self.quirks.hub_checks_group_info_epoch()
                    && (vgi.group_id() != next.group_id() || vgi.epoch() != next.epoch())
                {
                    return Err(MimiError::BadRequest(
                        "GroupInfo is not for the commit's new epoch".into(),
                    ));
                }
                let welcome = match &welcome {
                    Some(w) => Some((w.clone(), super::parse_welcome(w)?)),
                    None => None,
                };
                // Every Welcome recipient must be routable before anything changes.
                let mut welcome_targets: BTreeSet<Option<String>> = BTreeSet::new();
                let mut routed = Vec::new();
                if let Some((_, w)) = &welcome {
                    for r in welcome_refs(w) {
                        if st.kp_owner.contains_key(&r) {
                            welcome_targets.insert(None);
                        } else if let Some(route) = st.kp_route.get(&r) {
                            welcome_targets.insert(Some(route.domain.clone()));
                            routed.push(r);
                        } else {
                            return not_allowed(
                                "Welcome for a KeyPackage not claimed through this hub".into(),
                            );
                        }
                    }
                }
                let room = st
                    .hub_rooms
                    .get_mut(room_uri)
                    .ok_or_else(|| MimiError::Internal("room vanished".into()))?;
                room.group
                    .merge_commit(self.crypto.storage(), *staged)
                    .map_err(|e| MimiError::Internal(format!("merge: {e:?}")))?;
                room.group_info = gi.into_bytes();
                // Each claimed KeyPackage routes one Welcome; forget it now.
                for r in &routed {
                    st.kp_route.remove(r);
                }
                let room = st
                    .hub_rooms
                    .get_mut(room_uri)
                    .ok_or_else(|| MimiError::Internal("room vanished".into()))?;
                // QUIRK timestamps-in-seconds.
                let ts = self.quirks.accepted_timestamp(Self::next_timestamp(room));
                let after = member_clients(&room.group);
                let tree = room
                    .group
                    .export_ratchet_tree()
                    .tls_serialize_detached()
                    .map_err(|e| MimiError::Internal(e.to_string()))?;
                let mut recipients: BTreeSet<String> = before.clone();
                recipients.extend(after.iter().cloned());
                let fanout = FanoutMessage {
                    timestamp: ts,
                    message: commit,
                    tail: FanoutTail::Commit {
                        external_proposals: Vec::new(),
                    },
                };
                // Every provider with a member (the origin included) holds the
                // commit before the committer hears back, so the next
                // operation anywhere is decided on the new room state.
                let mut deliveries = Deliveries::default();
                let domains: BTreeSet<String> = recipients
                    .iter()
                    .filter_map(|c| ids::domain_of(c, 'd'))
                    .filter(|d| *d != self.domain)
                    .map(str::to_owned)
                    .collect();
                deliveries
                    .0
                    .extend(self.fan_out_to(st, room_uri, &domains, true, &fanout));
                if let Some((raw, _)) = welcome {
                    let msg =
                        protocol::wrap_mls_message(protocol::WIRE_FORMAT_WELCOME, raw.bytes());
                    let fanout = FanoutMessage {
                        timestamp: ts,
                        message: Raw::from_bytes(msg),
                        tail: FanoutTail::Welcome {
                            ratchet_tree: RatchetTreeOption::Full(Raw::from_bytes(tree)),
                        },
                    };
                    let mut welcome_domains: BTreeSet<String> =
                        welcome_targets.iter().flatten().cloned().collect();
                    // QUIRK welcome-to-every-provider.
                    if self.quirks.welcome_to_every_provider() {
                        welcome_domains.extend(domains.iter().cloned());
                    }
                    let local = welcome_targets.contains(&None);
                    deliveries.0.extend(self.fan_out_to(
                        st,
                        room_uri,
                        &welcome_domains,
                        local,
                        &fanout,
                    ));
                }
                Ok((
                    UpdateRoomResponse {
                        error_description: String::new(),
                        outcome: UpdateOutcome::Success {
                            accepted_timestamp: ts,
                        },
                    },
                    deliveries,
                ))
            }
            (
                ProcessedMessageContent::ProposalMessage(queued),
                HandshakeBundle::Proposal {
                    proposal,
                    more_proposals,
                },
            ) => {
                // Every proposal is validated before any is kept.
                let room = st
                    .hub_rooms
                    .get_mut(room_uri)
                    .ok_or_else(|| MimiError::Internal("room vanished".into()))?;
                let mut all = vec![*queued];
                for m in &more_proposals {
                    let pm = m
                        .parse()
                        .map_err(bad)?
                        .try_into_protocol_message()
                        .map_err(bad)?;
                    if !matches!(pm, ProtocolMessage::PublicMessage(_))
                        || pm.epoch().as_u64() != current
                        || pm.group_id() != room.group.group_id()
                    {
                        return Err(MimiError::BadRequest(
                            "moreProposals must be PublicMessages of the current epoch".into(),
                        ));
                    }
                    let p = room
                        .group
                        .process_message(self.crypto.crypto(), pm)
                        .map_err(bad)?;
                    if credential_uri(p.credential()).as_deref() != Some(sender_client.as_str()) {
                        return Err(MimiError::Forbidden(
                            "all proposals of a bundle must come from one client".into(),
                        ));
                    }
                    match p.into_content() {
                        ProcessedMessageContent::ProposalMessage(q) => all.push(*q),
                        _ => return Err(bad("moreProposals holds a non-proposal")),
                    }
                }
                // Policy: a client may only propose removing its own user's clients.
                let sender_user = ids::user_of_client(&sender_client);
                // QUIRK hub-keeps-foreign-removals.
                let own_only = self.quirks.hub_checks_proposed_removals();
                for q in &all {
                    let Proposal::Remove(r) = q.proposal() else {
                        return not_allowed("only Remove proposals are accepted".into());
                    };
                    let target = room
                        .group
                        .leaf(r.removed())
                        .and_then(|l| credential_uri(l.credential()))
                        .and_then(|c| ids::user_of_client(&c));
                    if own_only && (target.is_none() || target != sender_user) {
                        return not_allowed(
                            "a Remove proposal may only remove the sender's own user".into(),
                        );
                    }
                }
                // Removals that take all of the user's clients out (with those
                // the hub already holds) are a leave, which the room's policy
                // must allow (e.g. not in a DM); fewer unlink devices
                // (room-policy-03 §8.1.2 canRemoveOwnClient).
                if let Some(user) = &sender_user
                    && let Ok(state) =
                        super::policy::state_of(room.group.group_context().extensions())
                    && state.index_of(user).is_some()
                {
                    let held = room
                        .group
                        .queued_proposals(self.crypto.storage())
                        .map_err(|e| MimiError::Internal(format!("proposal store: {e:?}")))?;
                    let removed: BTreeSet<LeafNodeIndex> = all
                        .iter()
                        .map(|q| q.proposal())
                        .chain(held.iter().map(|(_, q)| q.proposal()))
                        .filter_map(|p| match p {
                            Proposal::Remove(r) => Some(r.removed()),
                            _ => None,
                        })
                        .collect();
                    // QUIRK device-removal-is-a-leave.
                    let tells = self.quirks.hub_tells_device_removals();
                    let leaves = !tells
                        || room.group.members().all(|m| {
                            removed.contains(&m.index)
                                || credential_uri(&m.credential)
                                    .and_then(|c| ids::user_of_client(&c))
                                    .as_ref()
                                    != Some(user)
                        });
                    let (op, what) = if leaves {
                        (crate::reference::room::Operation::Leave, "leave")
                    } else {
                        (
                            crate::reference::room::Operation::RemoveOwnClient,
                            "remove a device",
                        )
                    };
                    if let Err(r) = state.authorize(user, &op) {
                        return not_allowed(format!("{user} may not {what}: {r}"));
                    }
                }
                for q in all {
                    room.group
                        .add_proposal(self.crypto.storage(), q)
                        .map_err(|e| MimiError::Internal(format!("store proposal: {e:?}")))?;
                }
                // QUIRK timestamps-in-seconds.
                let ts = self.quirks.accepted_timestamp(Self::next_timestamp(room));
                let fanout = FanoutMessage {
                    timestamp: ts,
                    message: proposal,
                    tail: FanoutTail::Proposal { more_proposals },
                };
                self.fan_out(st, room_uri, &before, &fanout, origin);
                Ok((
                    UpdateRoomResponse {
                        error_description: String::new(),
                        outcome: UpdateOutcome::Success {
                            accepted_timestamp: ts,
                        },
                    },
                    Deliveries::default(),
                ))
            }
            _ => Err(MimiError::BadRequest(
                "message content does not match the bundle".into(),
            )),
        }
    }

    /// `/submitMessage` at the hub (§5.4).
    pub(crate) fn hub_submit(
        &self,
        origin: &str,
        room_uri: &str,
        req: SubmitMessageRequest,
    ) -> Result<SubmitMessageResponse, MimiError> {
        if req.protocol != protocol::PROTOCOL_MLS10 {
            return Err(MimiError::BadRequest("protocol is not mls10".into()));
        }
        let sender = std::str::from_utf8(req.sending_uri.as_slice())
            .map_err(|_| MimiError::BadRequest("sendingUri is not UTF-8".into()))?
            .to_owned();
        // QUIRK hub-trusts-sending-uri.
        if self.quirks.hub_checks_origin() && ids::domain_of(&sender, 'u') != Some(origin) {
            return Err(MimiError::Forbidden(format!(
                "{origin} cannot speak for {sender}"
            )));
        }
        let msg = req.app_message.parse().map_err(bad)?;
        let MlsMessageBodyIn::PrivateMessage(pm) = msg.extract() else {
            return Err(MimiError::BadRequest(
                "appMessage is not a PrivateMessage".into(),
            ));
        };
        // Unverified (the hub cannot decrypt); a wrong tag only makes a frank
        // that receivers and report validation reject.
        let aad = pm.aad().to_vec();
        let pm = ProtocolMessage::from(pm);
        if pm.content_type() != openmls::prelude::ContentType::Application {
            return Err(MimiError::BadRequest(
                "appMessage does not carry application content".into(),
            ));
        }
        let mut guard = lock(&self.state);
        let st: &mut State = &mut guard;
        let room = st
            .hub_rooms
            .get_mut(room_uri)
            .ok_or_else(|| MimiError::NotFound(format!("no room {room_uri} here")))?;
        if pm.group_id() != room.group.group_id() {
            return Err(MimiError::BadRequest(
                "group id does not match the room".into(),
            ));
        }
        // QUIRK hub-accepts-non-members.
        let checks_senders = self.quirks.hub_checks_senders();
        // §5.3: a user without an active role (e.g. banned) may not send.
        let restricted = super::policy::state_of(room.group.group_context().extensions())
            .map_or(true, |state| state.restricted_to_removals(&sender));
        if checks_senders && (restricted || !users_of_members(&room.group).contains(&sender)) {
            // QUIRK hub-fans-out-refused.
            if self.quirks.fans_out_refused() {
                let fanout = FanoutMessage {
                    timestamp: Self::next_timestamp(room),
                    message: req.app_message,
                    tail: FanoutTail::Application { frank: None },
                };
                let members = member_clients(&room.group);
                self.fan_out(st, room_uri, &members, &fanout, origin);
            }
            return Ok(SubmitMessageResponse::NotAllowed);
        }
        let current = room.group.group_context().epoch().as_u64();
        let epoch = pm.epoch().as_u64();
        if epoch < current {
            return Ok(SubmitMessageResponse::EpochTooOld {
                current_epoch: current,
            });
        }
        if epoch > current {
            return Ok(SubmitMessageResponse::NotAllowed);
        }
        // The adversary's forged stamp (`Hooks::stamp_next`), else the clock's.
        let forged = self.hooks.take_stamp(room_uri);
        let ts = match forged {
            Some(ts) => ts,
            // QUIRK timestamps-in-seconds.
            None => self.quirks.accepted_timestamp(Self::next_timestamp(room)),
        };
        let members = member_clients(&room.group);
        let frank = self.frank(&room.group, &aad, &sender, room_uri, ts)?;
        let mut fanned = frank.clone();
        if let Some(f) = fanned.as_mut()
            && self
                .hooks
                .corrupt_fanout_franks
                .load(std::sync::atomic::Ordering::SeqCst)
        {
            f.server_frank[0] ^= 1;
        }
        let fanout = FanoutMessage {
            timestamp: ts,
            message: req.app_message,
            tail: FanoutTail::Application { frank: fanned },
        };
        if forged.is_some() {
            let receipts = self.fan_out_all(st, room_uri, &members, &fanout);
            self.hooks
                .stamped(room_uri, receipts.into_values().collect());
        } else {
            self.fan_out(st, room_uri, &members, &fanout, origin);
        }
        Ok(SubmitMessageResponse::Accepted {
            accepted_timestamp: ts,
            frank,
        })
    }

    /// Fans a message out to every provider with a client in `clients`, and
    /// to our own clients of the room.
    /// Returns the delivery receipt for `origin`, if it is one of them.
    fn fan_out(
        &self,
        st: &mut State,
        room: &str,
        clients: &BTreeSet<String>,
        msg: &FanoutMessage,
        origin: &str,
    ) -> Option<oneshot::Receiver<()>> {
        self.fan_out_all(st, room, clients, msg).remove(origin)
    }

    /// [`Self::fan_out`], with the delivery receipt of every provider.
    fn fan_out_all(
        &self,
        st: &mut State,
        room: &str,
        clients: &BTreeSet<String>,
        msg: &FanoutMessage,
    ) -> BTreeMap<String, oneshot::Receiver<()>> {
        let domains: BTreeSet<String> = clients
            .iter()
            .filter_map(|c| ids::domain_of(c, 'd'))
            .filter(|d| *d != self.domain)
            .map(str::to_owned)
            .collect();
        let receipts = self.fan_out_to(st, room, &domains, true, msg);
        domains.into_iter().zip(receipts).collect()
    }

    fn fan_out_to(
        &self,
        st: &mut State,
        room: &str,
        domains: &BTreeSet<String>,
        local: bool,
        msg: &FanoutMessage,
    ) -> Vec<oneshot::Receiver<()>> {
        let body = protocol::encode(msg);
        let receipts = domains
            .iter()
            // QUIRK reorder-fanout, drop-every-tenth (in `notify_follower`).
            .map(|d| self.notify_follower(d, room, msg, body.clone()))
            .collect();
        if local {
            self.deliver_local(st, room, msg);
        }
        receipts
    }
}

/// Pending notify deliveries, so an update is answered only once the new
/// members' providers hold their Welcome and the submitting provider holds
/// the commit (bounded by [`Self::wait`]).
#[derive(Default)]
pub(crate) struct Deliveries(Vec<oneshot::Receiver<()>>);

impl From<Vec<oneshot::Receiver<()>>> for Deliveries {
    fn from(receipts: Vec<oneshot::Receiver<()>>) -> Self {
        Self(receipts)
    }
}

impl Deliveries {
    /// Waits until every delivery is done or `limit` passed.
    pub(crate) async fn wait(self, limit: std::time::Duration) {
        let all = async {
            for r in self.0 {
                let _ = r.await;
            }
        };
        let _ = tokio::time::timeout(limit, all).await;
    }
}
