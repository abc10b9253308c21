//! Policy-checked room changes (protocol-06 §7.5–7.6, room-policy-03 §8):
//! the client reads the room state from its group, asks the policy model
//! whether its user may do the operation, and commits the resulting
//! participant-list / metadata change together with the MLS Adds and
//! Removes it implies, in one commit.

use super::*;
use crate::reference::room::dictionary::{self, ReadDictionaryError};
use crate::reference::room::{Operation, RoomState, UpdateRefusal};
use openmls::prelude::GroupContext;

/// The room state carried in `group`'s `app_data_dictionary` extension.
pub(crate) fn room_model(group: &MlsGroup) -> Result<RoomState, ReadDictionaryError> {
    let ext = group
        .extensions()
        .unknown(APP_DATA_DICTIONARY_EXTENSION)
        .ok_or(ReadDictionaryError::Missing)?;
    dictionary::decode_state(&ext.0)
}

/// `group`'s GroupContext extensions with the dictionary replaced by `state`.
fn extensions_with(
    group: &MlsGroup,
    state: &RoomState,
) -> Result<Extensions<GroupContext>, ClientError> {
    let mut exts = group.extensions().clone();
    let body = dictionary::encode_state(state).map_err(|e| ClientError::Mls(e.to_string()))?;
    exts.add_or_replace(Extension::Unknown(
        APP_DATA_DICTIONARY_EXTENSION,
        UnknownExtension(body),
    ))
    .map_err(mls)?;
    Ok(exts)
}

fn refusal(e: UpdateRefusal) -> ClientError {
    match e {
        UpdateRefusal::Refused(r) => ClientError::Policy(r),
        UpdateRefusal::Invalid(e) => ClientError::Conflict(e.to_string()),
    }
}

impl Client {
    /// The room state as this client's group holds it.
    pub fn room_model(&self, room: &str) -> Result<RoomState, ClientError> {
        let group = self
            .groups
            .get(room)
            .filter(|g| g.is_active())
            .ok_or_else(|| ClientError::NotMember {
                client: self.uri.clone(),
                room: room.to_owned(),
            })?;
        room_model(group).map_err(|e| ClientError::Mls(e.to_string()))
    }

    /// Leaves of every client of `user` in the room.
    pub(super) fn leaves_of(&self, room: &str, user: &str) -> Vec<LeafNodeIndex> {
        self.groups
            .get(room)
            .map(|g| {
                g.members()
                    .filter(|m| {
                        credential_uri(&m.credential)
                            .and_then(|c| ids::user_of_client(&c))
                            .as_deref()
                            == Some(user)
                    })
                    .map(|m| m.index)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Does `op` as this client's user: refuses with [`ClientError::Policy`]
    /// if the room's policy forbids it, else commits the participant-list
    /// or metadata change with the Adds (every client of an added user) and
    /// Removes (every client of a removed or banned user) it implies.
    pub async fn apply_operation(
        &mut self,
        room: &str,
        op: &Operation,
    ) -> Result<Vec<ClientEvent>, ClientError> {
        self.apply_operation_as(room, op, None).await
    }

    /// [`Client::apply_operation`] planned with `authority`'s role instead
    /// of the user's own when given: the harness's adversary commits
    /// changes its user may not make, so that the hub has to refuse them.
    pub async fn apply_operation_as(
        &mut self,
        room: &str,
        op: &Operation,
        authority: Option<&str>,
    ) -> Result<Vec<ClientEvent>, ClientError> {
        let state = self.room_model(room)?;
        // A test hook may lend another user's authority (to forge a commit).
        let mut planner = authority
            .map(str::to_owned)
            .or_else(|| self.ep.forged_policy_actor())
            .unwrap_or_else(|| self.user.clone());
        // QUIRK ordinary-user-can-kick: a removal is planned with an admin's
        // authority, so the client never refuses it.
        if matches!(op, Operation::Remove { .. })
            && !self.ep.quirks().checks_kicks()
            && let Some((admin, _)) = state.participants().into_iter().find(|(_, r)| r == "admin")
        {
            planner = admin;
        }
        let effect = state.plan(&planner, op).map_err(ClientError::Policy)?;
        let next = state.apply_effect(&effect).map_err(refusal)?;
        let kps = match op {
            Operation::Add { user, .. } => {
                let kps = self.claim_key_packages(room, user).await?;
                if kps.is_empty() {
                    return Err(ClientError::Conflict(format!(
                        "no client of {user} could be added"
                    )));
                }
                kps
            }
            _ => Vec::new(),
        };
        let leaves = effect
            .remove_clients_of
            .as_deref()
            .map(|u| self.leaves_of(room, u))
            .unwrap_or_default();
        let group = active(&mut self.groups, &self.uri, room)?;
        let exts = if next != state {
            Some(extensions_with(group, &next)?)
        } else {
            None
        };
        self.commit_change(room, kps, leaves, exts).await
    }

    /// Commits adding `user` (its KeyPackages and the participant-list
    /// entry) without asking the room's policy: the adversary's forged add,
    /// which the hub must refuse.
    pub async fn add_unchecked(
        &mut self,
        room: &str,
        user: &str,
    ) -> Result<Vec<ClientEvent>, ClientError> {
        let state = self.room_model(room)?;
        // Not even the room's maxima: a DM's third user is a forgery too.
        let add = crate::reference::room::Effect::add_unchecked(user)
            .update
            .unwrap_or_default();
        let next = state
            .apply_unchecked(&add)
            .map_err(|e| refusal(UpdateRefusal::Invalid(e)))?;
        let kps = self.claim_key_packages(room, user).await?;
        if kps.is_empty() {
            return Err(ClientError::Conflict(format!(
                "no client of {user} could be added"
            )));
        }
        self.commit_state(room, &next, kps).await
    }

    /// Commits `user`'s banned role (`ban`) or removal from the participant
    /// list without removing `user`'s clients, asking no policy: the
    /// adversary's forged half-ban or half-removal, which the hub must
    /// refuse (a user out of the list, or banned, keeps no clients).
    pub async fn unlist_keeping_clients(
        &mut self,
        room: &str,
        user: &str,
        ban: bool,
    ) -> Result<Vec<ClientEvent>, ClientError> {
        use crate::reference::room::wire::{ParticipantListUpdate, UserindexRolePair};
        let state = self.room_model(room)?;
        let index = state
            .index_of(user)
            .and_then(|i| u32::try_from(i).ok())
            .ok_or_else(|| ClientError::Conflict(format!("{user} is not in {room}")))?;
        let change = if ban {
            ParticipantListUpdate {
                changed_role_participants: vec![UserindexRolePair {
                    user_index: index,
                    role_index: crate::reference::room::roles::ROLE_BANNED,
                }],
                ..Default::default()
            }
        } else {
            ParticipantListUpdate {
                removed_indices: vec![index],
                ..Default::default()
            }
        };
        let next = state
            .apply(&change)
            .map_err(|e| ClientError::Conflict(e.to_string()))?;
        self.commit_state(room, &next, Vec::new()).await
    }

    /// Commits a self-update that carries the GroupInfo of the epoch it
    /// ends instead of the new one, signed by this client as the right one
    /// would be: the adversary's stale GroupInfo. A hub that keeps it hands
    /// joining devices a GroupInfo their external commit cannot build on.
    pub async fn commit_stale_group_info(
        &mut self,
        room: &str,
    ) -> Result<Vec<ClientEvent>, ClientError> {
        let group = active(&mut self.groups, &self.uri, room)?;
        let stale = group
            .export_group_info(self.provider.crypto(), &self.signer, false)
            .map_err(mls)?
            .tls_serialize_detached()
            .map_err(mls)?;
        let stale =
            crate::protocol::unwrap_mls_message(crate::protocol::WIRE_FORMAT_GROUP_INFO, &stale)
                .ok_or_else(|| ClientError::Mls("GroupInfo export is not an MLSMessage".into()))?
                .to_vec();
        let bundle = self.stage_self_update(room, true)?;
        self.submit_pending_with(room, bundle, Some(stale)).await
    }

    /// Proposes removing another device of this client's user (a device
    /// removal, which the hub accepts and holds for the next commit), then
    /// commits a self-update that leaves that proposal out: the adversary's
    /// commit the hub must refuse (protocol-06 §3.5: the hub requires the
    /// next commit to include the proposals it holds).
    pub async fn commit_without_held_proposal(
        &mut self,
        room: &str,
    ) -> Result<Vec<ClientEvent>, ClientError> {
        let own = active(&mut self.groups, &self.uri, room)?.own_leaf_index();
        let user = self.user.clone();
        let Some(other) = self.leaves_of(room, &user).into_iter().find(|l| *l != own) else {
            return Err(ClientError::Conflict(format!(
                "{user} has no second device in {room}"
            )));
        };
        let group = active(&mut self.groups, &self.uri, room)?;
        let (proposal, _) = group
            .propose_remove_member(&self.provider, &self.signer, other)
            .map_err(mls)?;
        let proposal = proposal.tls_serialize_detached().map_err(mls)?;
        self.send_removals(room, proposal, Vec::new()).await?;
        let bundle = self.stage_self_update(room, false)?;
        self.submit_pending(room, bundle).await
    }

    /// A staged self-update commit of `room` (a new path), with the
    /// proposals this client holds when `held`.
    fn stage_self_update(
        &mut self,
        room: &str,
        held: bool,
    ) -> Result<openmls::prelude::CommitMessageBundle, ClientError> {
        let group = active(&mut self.groups, &self.uri, room)?;
        group
            .commit_builder()
            .consume_proposal_store(held)
            .force_self_update(true)
            .load_psks(self.provider.storage())
            .map_err(mls)?
            .create_group_info(true)
            .build(
                self.provider.rand(),
                self.provider.crypto(),
                &self.signer,
                |_| true,
            )
            .map_err(mls)?
            .stage_commit(&self.provider)
            .map_err(mls)
    }

    /// One commit of the room state `next` (as GroupContext extensions)
    /// adding the clients of `kps` and removing none.
    async fn commit_state(
        &mut self,
        room: &str,
        next: &RoomState,
        kps: Vec<KeyPackage>,
    ) -> Result<Vec<ClientEvent>, ClientError> {
        let group = active(&mut self.groups, &self.uri, room)?;
        let exts = Some(extensions_with(group, next)?);
        self.commit_change(room, kps, Vec::new(), exts).await
    }

    /// One commit with the given Adds, Removes and (optionally) new
    /// GroupContext extensions, submitted through the hub.
    pub(super) async fn commit_change(
        &mut self,
        room: &str,
        kps: Vec<KeyPackage>,
        leaves: Vec<LeafNodeIndex>,
        exts: Option<Extensions<GroupContext>>,
    ) -> Result<Vec<ClientEvent>, ClientError> {
        let group = active(&mut self.groups, &self.uri, room)?;
        let mut builder = group
            .commit_builder()
            .propose_adds(kps)
            .propose_removals(leaves);
        if let Some(exts) = exts {
            builder = builder
                .propose_group_context_extensions(exts)
                .map_err(mls)?;
        }
        let bundle = builder
            .load_psks(self.provider.storage())
            .map_err(mls)?
            .create_group_info(true)
            .build(
                self.provider.rand(),
                self.provider.crypto(),
                &self.signer,
                |_| true,
            )
            .map_err(mls)?
            .stage_commit(&self.provider)
            .map_err(mls)?;
        self.submit_pending(room, bundle).await
    }

    /// The GroupContext extensions a commit of the pending proposals needs:
    /// every user all of whose clients the proposals remove leaves the
    /// participant list (as that user's own Leave). `None` if unchanged.
    pub(super) fn leavers_extensions(
        &self,
        room: &str,
        removed: &BTreeSet<LeafNodeIndex>,
    ) -> Option<Extensions<GroupContext>> {
        let group = self.groups.get(room)?;
        let mut state = room_model(group).ok()?;
        let original = state.clone();
        let mut clients_of: BTreeMap<String, Vec<LeafNodeIndex>> = BTreeMap::new();
        for m in group.members() {
            if let Some(user) = credential_uri(&m.credential).and_then(|c| ids::user_of_client(&c))
            {
                clients_of.entry(user).or_default().push(m.index);
            }
        }
        for (user, leaves) in clients_of {
            if state.index_of(&user).is_none() || !leaves.iter().all(|l| removed.contains(l)) {
                continue;
            }
            if let Ok(effect) = state.plan(&user, &Operation::Leave)
                && let Ok(next) = state.apply_effect(&effect)
            {
                state = next;
            }
        }
        if state == original {
            return None;
        }
        extensions_with(group, &state).ok()
    }
}
