//! The client/server boundary of one provider: the only calls a local client
//! makes to its provider's server side. Everything passed here is what a real
//! device would send over its own client-server connection: KeyPackages,
//! signed requests, MLS handshake bundles and PrivateMessages, never keys or
//! plaintext.

use super::{InboxItem, MimiError, Server, bad, ids, lock};
use crate::protocol::{
    self, GroupInfoRequest, GroupInfoResponse, HandshakeBundle, KeyMaterialRequest,
    KeyMaterialResponse, Raw, SubmitMessageRequest, SubmitMessageResponse, UpdateRoomResponse,
};
use openmls::messages::group_info::VerifiableGroupInfo;
use openmls::prelude::{BasicCredential, ExternalSender, RatchetTreeIn};
use std::sync::Arc;
use tokio::sync::watch;

/// A local client's handle on its provider.
#[derive(Clone)]
pub struct LocalEndpoint {
    pub(super) server: Arc<Server>,
}

impl LocalEndpoint {
    pub fn new(server: Arc<Server>) -> Self {
        Self { server }
    }

    pub fn domain(&self) -> &str {
        &self.server.domain
    }

    /// The provider's deliberate deviations (`reference::quirks`).
    pub(crate) fn quirks(&self) -> &crate::reference::quirks::Quirks {
        &self.server.quirks
    }

    /// Announces a new device of a local user; it gets an inbox.
    pub fn register_client(&self, user: &str, client: &str) {
        self.server.register_client(user, client);
    }

    /// Publishes one KeyPackage (TLS-encoded `KeyPackage`) of a client.
    pub fn publish_key_package(&self, client: &str, key_package: Vec<u8>) -> Result<(), MimiError> {
        self.server.hooks.record("local keyPackage", &key_package);
        self.server.store_key_package(client, key_package)
    }

    /// The test hook [`super::Hooks::forge_policy_as`], if set.
    pub fn forged_policy_actor(&self) -> Option<String> {
        super::lock(&self.server.hooks.forge_policy_as).clone()
    }

    /// The hub's entry for `external_senders` in rooms hosted here.
    pub fn hub_sender(&self) -> ExternalSender {
        Self::new_sender(&self.server)
    }

    pub(crate) fn new_sender(server: &Server) -> ExternalSender {
        ExternalSender::new(
            server.hub_signer.public().to_vec().into(),
            BasicCredential::new(ids::provider_uri(&server.domain).into_bytes()).into(),
        )
    }

    /// Creates a room hosted here from its creator's first GroupInfo and tree.
    pub fn create_room(
        &self,
        room: &str,
        creator: &str,
        group_info: Raw<VerifiableGroupInfo>,
        tree: Raw<RatchetTreeIn>,
    ) -> Result<(), MimiError> {
        self.server
            .hooks
            .record("local createRoom", group_info.bytes());
        self.server
            .hooks
            .record("local createRoom tree", tree.bytes());
        self.server.hub_create_room(room, creator, group_info, tree)
    }

    /// Takes down a room hosted here that still holds only its creator
    /// (its creation failed after the hub accepted it).
    pub fn abandon_room(&self, room: &str, creator: &str) {
        self.server.hub_abandon_room(room, creator);
    }

    /// Claims KeyPackages of a user for a room (through the room's hub).
    pub async fn claim_key_material(
        &self,
        req: KeyMaterialRequest,
    ) -> Result<KeyMaterialResponse, MimiError> {
        let d = self.server.domain.clone();
        let encoded = protocol::encode(&req);
        self.server.hooks.record("local keyMaterial", &encoded);
        let room = String::from_utf8_lossy(req.tbs.room_id.as_slice());
        self.server.hooks.keep("keyMaterial", &room, &encoded);
        self.server.key_material(&d, None, encoded).await
    }

    /// Sends a handshake bundle for `room` from local `client` to the hub.
    pub async fn submit_handshake(
        &self,
        client: &str,
        room: &str,
        bundle: HandshakeBundle,
    ) -> Result<UpdateRoomResponse, MimiError> {
        let hub = hub_of(room)?;
        let encoded = protocol::encode(&bundle);
        self.server.hooks.record("local update", &encoded);
        self.server.hooks.keep("update", room, &encoded);
        let resp = if hub == self.server.domain {
            let (resp, deliveries) = self.server.hub_update(&self.server.domain, room, bundle)?;
            deliveries.wait(super::WELCOME_WAIT).await;
            resp
        } else {
            let r = self
                .server
                .peers
                .post(&hub, "update", room, protocol::encode(&bundle))
                .await?;
            expect_ok(&hub, &r)?;
            protocol::decode(&r.body).map_err(|e| peer_garbage(&hub, e))?
        };
        if matches!(resp.outcome, protocol::UpdateOutcome::Success { .. }) {
            lock(&self.server.state)
                .room_clients
                .entry(room.to_owned())
                .or_default()
                .insert(client.to_owned());
        }
        Ok(resp)
    }

    /// Sends an application message (PrivateMessage) to the hub.
    pub async fn submit_message(
        &self,
        room: &str,
        req: SubmitMessageRequest,
    ) -> Result<SubmitMessageResponse, MimiError> {
        let hub = hub_of(room)?;
        let encoded = protocol::encode(&req);
        self.server.hooks.record("local submitMessage", &encoded);
        self.server.hooks.keep("submitMessage", room, &encoded);
        if hub == self.server.domain {
            return self.server.hub_submit(&self.server.domain, room, req);
        }
        let r = self
            .server
            .peers
            .post(&hub, "submitMessage", room, protocol::encode(&req))
            .await?;
        expect_ok(&hub, &r)?;
        let resp = protocol::decode(&r.body).map_err(|e| peer_garbage(&hub, e))?;
        // QUIRK follower-fans-out: the follower notifies the accepted
        // message itself, the hub being the room's only other provider it
        // knows of; the hub's answer is ignored.
        if self.server.quirks.follower_fans_out()
            && let SubmitMessageResponse::Accepted {
                accepted_timestamp,
                frank,
            } = &resp
        {
            let fanout = protocol::FanoutMessage {
                timestamp: *accepted_timestamp,
                message: req.app_message,
                tail: protocol::FanoutTail::Application {
                    frank: frank.clone(),
                },
            };
            let _ = self
                .server
                .peers
                .post(&hub, "notify", room, protocol::encode(&fanout))
                .await;
        }
        Ok(resp)
    }

    /// Fetches the room's GroupInfo and tree from the hub (for external joins).
    pub async fn group_info(
        &self,
        room: &str,
        req: GroupInfoRequest,
    ) -> Result<GroupInfoResponse, MimiError> {
        let hub = hub_of(room)?;
        let encoded = protocol::encode(&req);
        self.server.hooks.record("local groupInfo", &encoded);
        self.server.hooks.keep("groupInfo", room, &encoded);
        if hub == self.server.domain {
            return self.server.hub_group_info(&self.server.domain, room, req);
        }
        let r = self
            .server
            .peers
            .post(&hub, "groupInfo", room, protocol::encode(&req))
            .await?;
        expect_ok(&hub, &r)?;
        protocol::decode(&r.body).map_err(|e| peer_garbage(&hub, e))
    }

    /// Stores an attachment's encrypted bytes on this provider (the client
    /// encrypted them; the key never comes here) for a message of `room`;
    /// returns their https URL.
    pub fn upload_asset(&self, room: &str, ciphertext: Vec<u8>) -> Result<String, MimiError> {
        self.server.hooks.record("local upload", &ciphertext);
        self.server.store_asset(room, ciphertext)
    }

    /// Fetches the stored bytes at `url` for a message of `room` (§5.10): a
    /// URL on this provider from its own store; another provider's through
    /// the room's hub (`proxyDownload`), or directly when this provider is
    /// the hub.
    pub async fn download_asset(&self, room: &str, url: &str) -> Result<Vec<u8>, MimiError> {
        self.server.hooks.record("local download", url.as_bytes());
        let (host, _) = super::assets::parse_asset_url(url)?;
        let hub = hub_of(room)?;
        if host == self.server.domain || hub == self.server.domain {
            return self.server.fetch_asset_direct(url).await;
        }
        let r = self.server.peers.proxy_download(&hub, url).await?;
        expect_ok(&hub, &r)?;
        if r.body.len() > super::MAX_ASSET {
            return Err(MimiError::Peer {
                domain: hub,
                reason: format!("asset over the {}-byte limit", super::MAX_ASSET),
            });
        }
        Ok(r.body)
    }

    /// Changes whenever the client's inbox grows (its value is the length).
    pub fn inbox_watch(&self, client: &str) -> Option<watch::Receiver<usize>> {
        self.server.inbox_watch(client)
    }

    /// The client's fan-out items from position `from` on.
    pub fn inbox(&self, client: &str, from: usize) -> Vec<InboxItem> {
        self.server.inbox_from(client, from)
    }
}

pub(crate) fn hub_of(room: &str) -> Result<String, MimiError> {
    ids::domain_of(room, 'r')
        .map(str::to_owned)
        .ok_or_else(|| bad(format!("not a room URI: {room}")))
}

pub(crate) fn expect_ok(domain: &str, r: &super::peer::PeerResponse) -> Result<(), MimiError> {
    if r.status == 200 {
        return Ok(());
    }
    Err(MimiError::Peer {
        domain: domain.to_owned(),
        reason: format!(
            "HTTP {}: {}",
            r.status,
            String::from_utf8_lossy(&r.body[..r.body.len().min(300)])
        ),
    })
}

pub(crate) fn peer_garbage(domain: &str, e: impl std::fmt::Display) -> MimiError {
    MimiError::Peer {
        domain: domain.to_owned(),
        reason: format!("undecodable answer: {e}"),
    }
}
