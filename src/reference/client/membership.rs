//! Membership changes a device makes: adding and removing users (claiming
//! KeyPackages through the hub, committing), leaving (§3.5), and committing
//! proposals the hub holds when this device is the designated committer.

use super::*;

impl Client {
    fn key_material_request(
        &self,
        room: &str,
        target: &str,
    ) -> Result<KeyMaterialRequest, ClientError> {
        let tbs = KeyMaterialRequestTbs {
            protocol: protocol::PROTOCOL_MLS10,
            requesting_user: VLBytes::new(self.user.as_bytes().to_vec()),
            target_user: VLBytes::new(target.as_bytes().to_vec()),
            room_id: VLBytes::new(room.as_bytes().to_vec()),
            acceptable_ciphersuites: vec![u16::from(CIPHERSUITE)],
            required_capabilities: Raw::encode(&RequiredCapabilitiesExtension::new(
                &[ExtensionType::Unknown(APP_DATA_DICTIONARY_EXTENSION)],
                &[ProposalType::SelfRemove],
                &[],
            ))
            .map_err(mls)?,
            requester_signature_key: VLBytes::new(self.signer.public().to_vec()),
            requester_credential: Raw::encode(&self.cred.credential).map_err(mls)?,
        };
        let sig = self
            .signer
            .sign(&protocol::sign_content(
                crate::reference::server::KEY_MATERIAL_LABEL,
                &protocol::encode(&tbs),
            ))
            .map_err(mls)?;
        Ok(KeyMaterialRequest {
            tbs,
            signature: VLBytes::new(sig),
        })
    }

    /// KeyPackages, claimed through the hub, of every client of `target`
    /// that is not in the room yet.
    pub(super) async fn claim_key_packages(
        &mut self,
        room: &str,
        target: &str,
    ) -> Result<Vec<KeyPackage>, ClientError> {
        active(&mut self.groups, &self.uri, room)?;
        let req = self.key_material_request(room, target)?;
        let resp = self.ep.claim_key_material(req).await?;
        if resp.user_status == protocol::user_code::USER_UNKNOWN {
            return Err(ClientError::UnknownUser(target.to_owned()));
        }
        if resp.user_status == protocol::user_code::NO_CONSENT
            || resp.user_status == protocol::user_code::NO_CONSENT_FOR_THIS_ROOM
        {
            return Err(ClientError::Refused(format!(
                "{target} has not consented to be added by {} (user status {})",
                self.user, resp.user_status
            )));
        }
        if resp.user_status != protocol::user_code::SUCCESS
            && resp.user_status != protocol::user_code::PARTIAL_SUCCESS
        {
            return Err(ClientError::Refused(format!(
                "no key material for {target} (user status {})",
                resp.user_status
            )));
        }
        let mut kps = Vec::new();
        for c in resp.clients {
            let protocol::ClientKeyMaterialBody::Success(kp) = c.body else {
                continue;
            };
            let kp: KeyPackageIn = kp.parse().map_err(mls)?;
            let kp = kp
                .validate(self.provider.crypto(), ProtocolVersion::Mls10)
                .map_err(mls)?;
            let owner =
                credential_uri(kp.leaf_node().credential()).and_then(|c| ids::user_of_client(&c));
            if owner.as_deref() != Some(target) {
                return Err(ClientError::Refused(format!(
                    "a KeyPackage returned for {target} names someone else"
                )));
            }
            let client = credential_uri(kp.leaf_node().credential()).unwrap_or_default();
            let group = active(&mut self.groups, &self.uri, room)?;
            if group
                .members()
                .any(|m| credential_uri(&m.credential).as_deref() == Some(client.as_str()))
            {
                // Already in the group (e.g. our own device when adding our user).
                continue;
            }
            kps.push(kp);
        }
        Ok(kps)
    }

    /// Adds the clients of `target`, a user already in the participant
    /// list (the creator's other devices, the other user of a DM), without
    /// changing the list.
    pub async fn add_clients_of(
        &mut self,
        room: &str,
        target: &str,
    ) -> Result<Vec<ClientEvent>, ClientError> {
        let kps = self.claim_key_packages(room, target).await?;
        if kps.is_empty() {
            if target == self.user {
                return Ok(Vec::new());
            }
            return Err(ClientError::Conflict(format!(
                "no client of {target} could be added"
            )));
        }
        self.commit_change(room, kps, Vec::new(), None).await
    }

    /// Sends a staged commit to the hub; merges it if accepted, drops it if not.
    pub(super) async fn submit_pending(
        &mut self,
        room: &str,
        bundle: openmls::prelude::CommitMessageBundle,
    ) -> Result<Vec<ClientEvent>, ClientError> {
        self.submit_pending_with(room, bundle, None).await
    }

    /// [`Client::submit_pending`] with `group_info` (a serialized GroupInfo)
    /// sent in place of the commit's own: the adversary's stale GroupInfo.
    pub(super) async fn submit_pending_with(
        &mut self,
        room: &str,
        bundle: openmls::prelude::CommitMessageBundle,
        group_info: Option<Vec<u8>>,
    ) -> Result<Vec<ClientEvent>, ClientError> {
        let group = active(&mut self.groups, &self.uri, room)?;
        let tree = match group.pending_commit() {
            Some(sc) => sc
                .export_ratchet_tree(self.provider.crypto(), group.export_ratchet_tree())
                .map_err(mls)?
                .ok_or_else(|| ClientError::Mls("no tree for the pending commit".into()))?,
            None => return Err(ClientError::Mls("no pending commit".into())),
        };
        let (commit, welcome, own_group_info) = bundle.into_contents();
        let commit = commit.tls_serialize_detached().map_err(mls)?;
        let group_info = match group_info {
            Some(gi) => gi,
            None => own_group_info
                .ok_or_else(|| ClientError::Mls("commit without GroupInfo".into()))?
                .tls_serialize_detached()
                .map_err(mls)?,
        };
        let hb = HandshakeBundle::Commit {
            commit: Raw::from_bytes(commit.clone()),
            welcome: welcome
                .map(|w| w.tls_serialize_detached().map(Raw::from_bytes))
                .transpose()
                .map_err(mls)?,
            group_info: GroupInfoOption::Full(Raw::from_bytes(group_info)),
            ratchet_tree: RatchetTreeOption::Full(Raw::from_bytes(
                tree.tls_serialize_detached().map_err(mls)?,
            )),
        };
        let result = self.ep.submit_handshake(&self.uri, room, hb).await;
        let group = active(&mut self.groups, &self.uri, room)?;
        let outcome = match result {
            Ok(r) => r,
            Err(e) => {
                let _ = group.clear_pending_commit(self.provider.storage());
                return Err(e.into());
            }
        };
        match outcome.outcome {
            UpdateOutcome::Success { .. } => {
                group.merge_pending_commit(&self.provider).map_err(mls)?;
                let epoch = group.epoch().as_u64();
                self.sent.insert(hash(&commit));
                Ok(vec![self.event(room, EventKind::EpochChanged { epoch })])
            }
            UpdateOutcome::WrongEpoch { current_epoch } => {
                let _ = group.clear_pending_commit(self.provider.storage());
                Err(ClientError::Conflict(format!(
                    "hub is at epoch {current_epoch}, client at {}",
                    group.epoch().as_u64()
                )))
            }
            UpdateOutcome::NotAllowed | UpdateOutcome::InvalidProposal { .. } => {
                let _ = group.clear_pending_commit(self.provider.storage());
                Err(ClientError::Refused(outcome.error_description))
            }
        }
    }

    /// Leaves the room as the draft's §3.5 describes: proposes removing all
    /// of this user's clients (itself first) and lets the next committer
    /// commit them. Returns once the hub accepted the proposals.
    pub async fn leave(&mut self, room: &str) -> Result<(), ClientError> {
        // QUIRK leave-one-device.
        let all_devices = self.ep.quirks().leaves_with_all_devices();
        self.propose_own_removal(room, all_devices).await
    }

    /// Unlinks this device from `room` (room-policy-03 §8.1.2
    /// canRemoveOwnClient): its own Remove proposal, which another member
    /// commits. The user stays a participant on its other devices.
    pub async fn remove_device(&mut self, room: &str) -> Result<(), ClientError> {
        self.propose_own_removal(room, false).await
    }

    /// Proposes removing this client and, with `all_devices`, every other
    /// client of its user; returns once the hub accepted the proposals.
    async fn propose_own_removal(
        &mut self,
        room: &str,
        all_devices: bool,
    ) -> Result<(), ClientError> {
        let group = active(&mut self.groups, &self.uri, room)?;
        let own = group.own_leaf_index();
        let siblings: Vec<LeafNodeIndex> = group
            .members()
            .filter(|m| {
                m.index != own
                    && credential_uri(&m.credential)
                        .and_then(|c| ids::user_of_client(&c))
                        .as_deref()
                        == Some(self.user.as_str())
            })
            .map(|m| m.index)
            .filter(|_| all_devices)
            .collect();
        let first = group
            .leave_group(&self.provider, &self.signer)
            .map_err(mls)?
            .tls_serialize_detached()
            .map_err(mls)?;
        self.send_removals(room, first, siblings).await
    }

    /// Proposes removing `target`, another user, without committing (the
    /// harness's adversary: proposals the hub must refuse). As a member:
    /// Remove proposals of every client of `target`, refused unless the
    /// sender may remove them. `as_hub`: one Remove of `target`'s first
    /// client as an external proposal in the hub's name (sender index 0,
    /// the hub's `external_senders` entry) but signed with this client's
    /// key, refused whoever sends it (protocol-06 §7.4, RFC 9420
    /// §12.1.8.1). Returns once the hub accepted.
    pub async fn propose_removal_of(
        &mut self,
        room: &str,
        target: &str,
        as_hub: bool,
    ) -> Result<(), ClientError> {
        let leaves = self.leaves_of(room, target);
        let group = active(&mut self.groups, &self.uri, room)?;
        let Some((&leaf, rest)) = leaves.split_first() else {
            return Err(ClientError::Conflict(format!(
                "{target} has no client in {room}"
            )));
        };
        let (first, more) = if as_hub {
            let m = openmls::prelude::ExternalProposal::new_remove::<OpenMlsRustCrypto>(
                leaf,
                group.group_id().clone(),
                group.epoch(),
                &self.signer,
                openmls::prelude::SenderExtensionIndex::new(0),
            )
            .map_err(mls)?;
            (m, Vec::new())
        } else {
            let (m, _) = group
                .propose_remove_member(&self.provider, &self.signer, leaf)
                .map_err(mls)?;
            (m, rest.to_vec())
        };
        let first = first.tls_serialize_detached().map_err(mls)?;
        self.send_removals(room, first, more).await
    }

    /// Sends `first` (a Remove proposal, serialized) and Remove proposals of
    /// `more` leaves as one bundle; on refusal the pending proposals go.
    pub(super) async fn send_removals(
        &mut self,
        room: &str,
        first: Vec<u8>,
        more_leaves: Vec<LeafNodeIndex>,
    ) -> Result<(), ClientError> {
        let group = active(&mut self.groups, &self.uri, room)?;
        let mut more = Vec::new();
        for leaf in more_leaves {
            let (m, _) = group
                .propose_remove_member(&self.provider, &self.signer, leaf)
                .map_err(mls)?;
            more.push(Raw::from_bytes(m.tls_serialize_detached().map_err(mls)?));
        }
        let hb = HandshakeBundle::Proposal {
            proposal: Raw::from_bytes(first.clone()),
            more_proposals: more,
        };
        self.sent.insert(hash(&first));
        let outcome = self.ep.submit_handshake(&self.uri, room, hb).await;
        let refused = match outcome {
            Ok(r) => match r.outcome {
                UpdateOutcome::Success { .. } => return Ok(()),
                UpdateOutcome::WrongEpoch { current_epoch } => {
                    ClientError::Conflict(format!("hub is at epoch {current_epoch}"))
                }
                _ => ClientError::Refused(r.error_description),
            },
            Err(e) => e.into(),
        };
        self.sent.remove(&hash(&first));
        if let Some(g) = self.groups.get_mut(room) {
            let _ = g.clear_pending_proposals(self.provider.storage());
        }
        Err(refused)
    }

    /// Commits pending proposals (e.g. someone's leave) in every room where
    /// this client is the designated committer: the member with the lowest
    /// leaf index that the proposals do not remove. Every member computes
    /// the same choice, so only one commits.
    pub async fn commit_pending_if_due(&mut self) -> Vec<ClientEvent> {
        let mut due = Vec::new();
        for (room, g) in &self.groups {
            if !g.is_active() || g.pending_proposals().next().is_none() {
                continue;
            }
            let removed: BTreeSet<LeafNodeIndex> = g
                .pending_proposals()
                .filter_map(|q| match q.proposal() {
                    openmls::prelude::Proposal::Remove(r) => Some(r.removed()),
                    _ => None,
                })
                .collect();
            let committer = g
                .members()
                .map(|m| m.index)
                .filter(|i| !removed.contains(i))
                .min();
            if committer == Some(g.own_leaf_index()) {
                due.push(room.clone());
            }
        }
        let mut events = Vec::new();
        for room in due {
            let Ok(group) = active(&mut self.groups, &self.uri, &room) else {
                continue;
            };
            let removed: BTreeSet<LeafNodeIndex> = group
                .pending_proposals()
                .filter_map(|q| match q.proposal() {
                    openmls::prelude::Proposal::Remove(r) => Some(r.removed()),
                    _ => None,
                })
                .collect();
            let exts = self.leavers_extensions(&room, &removed);
            let Ok(group) = active(&mut self.groups, &self.uri, &room) else {
                continue;
            };
            let mut builder = group.commit_builder().consume_proposal_store(true);
            if let Some(exts) = exts {
                match builder.propose_group_context_extensions(exts) {
                    Ok(b) => builder = b,
                    Err(_) => continue,
                }
            }
            let bundle = builder
                .load_psks(self.provider.storage())
                .map_err(mls)
                .and_then(|b| {
                    b.create_group_info(true)
                        .build(
                            self.provider.rand(),
                            self.provider.crypto(),
                            &self.signer,
                            |_| true,
                        )
                        .map_err(mls)
                })
                .and_then(|b| b.stage_commit(&self.provider).map_err(mls));
            if let Ok(bundle) = bundle
                && let Ok(e) = self.submit_pending(&room, bundle).await
            {
                events.extend(e);
            }
        }
        events
    }
}
