//! A new device joins a room by external commit (§3.6, §5.6): fetch the
//! GroupInfo and tree from the hub (HPKE-encrypted to a fresh key), then
//! commit itself into the group through `/update`.

use super::{Client, ClientError, ClientEvent, capabilities, hash, join_config, mls};
use crate::control::api::EventKind;
use crate::protocol::{
    self, GroupInfoOption, GroupInfoRatchetTreeTbe, GroupInfoRequest, GroupInfoRequestTbs,
    GroupInfoResponse, HandshakeBundle, RatchetTreeOption, Raw, UpdateOutcome,
};
use crate::reference::ids;
use crate::reference::server::{
    CIPHERSUITE, GROUP_INFO_ENCRYPT_LABEL, GROUP_INFO_REQUEST_LABEL, GROUP_INFO_RESPONSE_LABEL,
    MimiError,
};
use openmls::prelude::{
    ExternalSender, LeafNodeParameters, MlsGroup, OpenMlsCrypto, OpenMlsProvider, OpenMlsRand,
    SignatureScheme,
    tls_codec::{Serialize as _, VLBytes},
};
use openmls_traits::signatures::Signer as _;

/// What an external commit into a room needs.
pub struct Joining {
    group_info: openmls::messages::group_info::VerifiableGroupInfo,
    tree: openmls::prelude::RatchetTreeIn,
}

impl Client {
    /// Joins `room` (hosted anywhere) by external commit.
    pub async fn join_external(&mut self, room: &str) -> Result<Vec<ClientEvent>, ClientError> {
        let joining = self.fetch_group_info(room).await?;
        self.commit_external(room, joining).await
    }

    /// The room's GroupInfo and ratchet tree, asked of its hub as this
    /// client, checked to come from the group's external sender.
    pub async fn fetch_group_info(&mut self, room: &str) -> Result<Joining, ClientError> {
        let crypto = self.provider.crypto();
        let ikm = self.provider.rand().random_vec(32).map_err(mls)?;
        let hpke = crypto
            .derive_hpke_keypair(CIPHERSUITE.hpke_config(), &ikm)
            .map_err(mls)?;
        let tbs = GroupInfoRequestTbs {
            protocol: protocol::PROTOCOL_MLS10,
            cipher_suite: u16::from(CIPHERSUITE),
            requesting_signature_key: VLBytes::new(self.signer.public().to_vec()),
            requesting_credential: Raw::encode(&self.cred.credential).map_err(mls)?,
            group_info_public_key: VLBytes::new(hpke.public.clone()),
            joining_code: VLBytes::new(Vec::new()),
        };
        let sig = self
            .signer
            .sign(&protocol::sign_content(
                GROUP_INFO_REQUEST_LABEL,
                &protocol::encode(&tbs),
            ))
            .map_err(mls)?;
        let resp = self
            .ep
            .group_info(
                room,
                GroupInfoRequest {
                    tbs,
                    signature: VLBytes::new(sig),
                },
            )
            .await?;
        let (tbs, signature) = match resp {
            GroupInfoResponse::Success { tbs, signature } => (tbs, signature),
            GroupInfoResponse::Failure { status, .. } => {
                return Err(ClientError::Refused(format!(
                    "hub refused the GroupInfo (status {status})"
                )));
            }
        };
        let hub: ExternalSender = tbs.hub_sender.parse().map_err(mls)?;
        let hub_key: protocol::ExternalSenderFields =
            protocol::decode(tbs.hub_sender.bytes()).map_err(mls)?;
        crypto
            .verify_signature(
                SignatureScheme::ED25519,
                &protocol::sign_content(GROUP_INFO_RESPONSE_LABEL, &protocol::encode(&tbs)),
                hub_key.signature_key.as_slice(),
                signature.as_slice(),
            )
            .map_err(|_| ClientError::Refused("bad GroupInfoResponse signature".into()))?;
        let ct = tbs.encrypted_groupinfo_and_tree.parse().map_err(mls)?;
        let plain = crypto
            .hpke_open(
                CIPHERSUITE.hpke_config(),
                &ct,
                hpke.private.as_ref(),
                &protocol::encrypt_context(GROUP_INFO_ENCRYPT_LABEL, room.as_bytes()),
                &[],
            )
            .map_err(mls)?;
        let tbe: GroupInfoRatchetTreeTbe = protocol::decode(&plain).map_err(mls)?;
        let vgi = tbe.group_info.parse().map_err(mls)?;
        let RatchetTreeOption::Full(tree) = tbe.ratchet_tree;
        let tree = tree.parse().map_err(mls)?;
        // The hub that answered must be the group's external sender.
        let senders_ok = vgi
            .group_context()
            .extensions()
            .external_senders()
            .is_some_and(|s| s.contains(&hub));
        if !senders_ok {
            return Err(ClientError::Refused(
                "GroupInfo does not list the answering hub as external sender".into(),
            ));
        }
        Ok(Joining {
            group_info: vgi,
            tree,
        })
    }

    /// A GroupInfo and tree from the hub that do not make a group (a tree
    /// hash or signature that does not match): the hub answered wrongly.
    /// Another provider's hub is a failed peer (control 502, `peer_error`).
    fn hub_fault(&self, room: &str, why: String) -> ClientError {
        let reason = format!("the GroupInfo and tree the hub served do not verify: {why}");
        match ids::domain_of(room, 'r') {
            Some(hub) if Some(hub) != ids::domain_of(&self.uri, 'd') => {
                ClientError::Server(MimiError::Peer {
                    domain: hub.to_owned(),
                    reason,
                })
            }
            _ => ClientError::Mls(reason),
        }
    }

    /// Commits this client into `room` by external commit, with a GroupInfo
    /// and tree [`Client::fetch_group_info`] got (by this client or, for the
    /// harness's adversary, by another).
    pub async fn commit_external(
        &mut self,
        room: &str,
        Joining {
            group_info: vgi,
            tree,
        }: Joining,
    ) -> Result<Vec<ClientEvent>, ClientError> {
        if !self.is_member(room) {
            self.forget_group(room);
        }
        let (group, bundle) = MlsGroup::external_commit_builder()
            .with_ratchet_tree(tree)
            .with_config(join_config())
            .build_group(&self.provider, vgi, self.cred.clone())
            .map_err(|e| self.hub_fault(room, format!("{e:?}")))?
            .leaf_node_parameters(
                LeafNodeParameters::builder()
                    .with_capabilities(capabilities())
                    .build(),
            )
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
            .finalize(&self.provider)
            .map_err(mls)?;
        let (commit, _, group_info) = bundle.into_contents();
        let commit = commit.tls_serialize_detached().map_err(mls)?;
        let hb = HandshakeBundle::Commit {
            commit: Raw::from_bytes(commit.clone()),
            welcome: None,
            group_info: GroupInfoOption::Full(Raw::from_bytes(
                group_info
                    .ok_or_else(|| ClientError::Mls("external commit without GroupInfo".into()))?
                    .tls_serialize_detached()
                    .map_err(mls)?,
            )),
            ratchet_tree: RatchetTreeOption::Full(Raw::from_bytes(
                group
                    .export_ratchet_tree()
                    .tls_serialize_detached()
                    .map_err(mls)?,
            )),
        };
        // The external commit is merged locally already; keep it only if accepted.
        let outcome = self.ep.submit_handshake(&self.uri, room, hb).await?;
        match outcome.outcome {
            UpdateOutcome::Success { accepted_timestamp } => {
                self.sent.insert(hash(&commit));
                let epoch = group.epoch().as_u64();
                self.groups.insert(room.to_owned(), group);
                self.joined.insert(room.to_owned(), accepted_timestamp);
                Ok(vec![self.event(room, EventKind::Joined { epoch })])
            }
            UpdateOutcome::WrongEpoch { current_epoch } => Err(ClientError::Conflict(format!(
                "hub moved to epoch {current_epoch} during the join"
            ))),
            _ => Err(ClientError::Refused(outcome.error_description)),
        }
    }
}
