//! `/keyMaterial` (§5.2) and `/groupInfo` (§5.6): the signed requests.

use super::local::{expect_ok, hub_of, peer_garbage};
use super::{
    CIPHERSUITE, KpRoute, MimiError, Server, bad, credential_uri, ids, lock, users_of_members,
};
use crate::protocol::{
    self, GroupInfoRatchetTreeTbe, GroupInfoRequest, GroupInfoResponse, GroupInfoSuccessTbs,
    KeyMaterialRequest, KeyMaterialResponse, RatchetTreeOption, Raw, group_info_code,
};
use openmls::prelude::{
    KeyPackageIn, OpenMlsCrypto, OpenMlsProvider, ProtocolVersion, SignatureScheme,
    tls_codec::{Serialize as _, VLBytes},
};
use openmls_traits::signatures::Signer as _;

/// Label of the KeyMaterialRequest signature.
pub const KEY_MATERIAL_LABEL: &str = "KeyMaterialRequestTBS";
pub const GROUP_INFO_REQUEST_LABEL: &str = "GroupInfoRequestTBS";
pub const GROUP_INFO_RESPONSE_LABEL: &str = "GroupInfoResponseTBS";
pub const GROUP_INFO_ENCRYPT_LABEL: &str = "GroupInfo and ratchet_tree encryption";

fn utf8(v: &VLBytes, what: &str) -> Result<String, MimiError> {
    String::from_utf8(v.as_slice().to_vec()).map_err(|_| bad(format!("{what} is not UTF-8")))
}

impl Server {
    fn verify(&self, label: &str, tbs: &[u8], key: &[u8], sig: &[u8]) -> Result<(), MimiError> {
        self.crypto
            .crypto()
            .verify_signature(
                SignatureScheme::ED25519,
                &protocol::sign_content(label, tbs),
                key,
                sig,
            )
            .map_err(|_| MimiError::Forbidden(format!("bad {label} signature")))
    }

    /// Serves a KeyMaterialRequest from `origin` (our own domain for local
    /// clients): claims locally, forwards as hub, or relays to the hub.
    pub(crate) async fn key_material(
        &self,
        origin: &str,
        path_user: Option<&str>,
        body: Vec<u8>,
    ) -> Result<KeyMaterialResponse, MimiError> {
        let req: KeyMaterialRequest = protocol::decode(&body).map_err(bad)?;
        let t = &req.tbs;
        if t.protocol != protocol::PROTOCOL_MLS10 {
            return Err(bad("protocol is not mls10"));
        }
        let requester = utf8(&t.requesting_user, "requestingUser")?;
        let target = utf8(&t.target_user, "targetUser")?;
        let room = utf8(&t.room_id, "roomId")?;
        if path_user.is_some_and(|p| p != target) {
            return Err(bad("targetUser differs from the path"));
        }
        let target_domain = ids::domain_of(&target, 'u')
            .ok_or_else(|| bad("targetUser is not a user URI"))?
            .to_owned();
        let requester_domain = ids::domain_of(&requester, 'u')
            .ok_or_else(|| bad("requestingUser is not a user URI"))?
            .to_owned();
        let hub = hub_of(&room)?;
        let cred = t.requester_credential.parse().map_err(bad)?;
        let client = credential_uri(&cred).ok_or_else(|| bad("credential is not a client URI"))?;
        if ids::user_of_client(&client).as_deref() != Some(requester.as_str()) {
            return Err(MimiError::Forbidden(format!(
                "{client} is not a client of {requester}"
            )));
        }
        self.verify(
            KEY_MATERIAL_LABEL,
            &protocol::encode(t),
            t.requester_signature_key.as_slice(),
            req.signature.as_slice(),
        )?;
        if !t.acceptable_ciphersuites.contains(&u16::from(CIPHERSUITE)) {
            return Ok(KeyMaterialResponse {
                protocol: protocol::PROTOCOL_MLS10,
                user_status: protocol::user_code::NO_COMPATIBLE_MATERIAL,
                user_uri: t.target_user.clone(),
                clients: Vec::new(),
            });
        }
        let local_request = origin == self.domain;
        if local_request && requester_domain != self.domain {
            return Err(MimiError::Forbidden("requester is not a local user".into()));
        }
        if hub != self.domain {
            if local_request {
                // Key material goes through the room's hub, so it can route the Welcome.
                let r = self.peers.post(&hub, "keyMaterial", &target, body).await?;
                expect_ok(&hub, &r)?;
                return protocol::decode(&r.body).map_err(|e| peer_garbage(&hub, e));
            }
            if origin != hub || target_domain != self.domain {
                return Err(MimiError::Forbidden(format!(
                    "{origin} is not the hub of {room}, or {target} is not ours"
                )));
            }
            return Ok(self.claim_local(&requester, &target, &room));
        }
        // We are the hub: the requester must be a participant of the room.
        if requester_domain != origin {
            return Err(MimiError::Forbidden(format!(
                "{origin} cannot speak for {requester}"
            )));
        }
        {
            let st = lock(&self.state);
            let r = st
                .hub_rooms
                .get(&room)
                .ok_or_else(|| MimiError::NotFound(format!("no room {room} here")))?;
            if !users_of_members(&r.group).contains(&requester) {
                return Err(MimiError::Forbidden(format!(
                    "{requester} is not a participant of {room}"
                )));
            }
        }
        if target_domain == self.domain {
            return Ok(self.claim_local(&requester, &target, &room));
        }
        let r = self
            .peers
            .post(&target_domain, "keyMaterial", &target, body)
            .await?;
        expect_ok(&target_domain, &r)?;
        let resp: KeyMaterialResponse =
            protocol::decode(&r.body).map_err(|e| peer_garbage(&target_domain, e))?;
        let mut refs = Vec::new();
        for c in &resp.clients {
            if let protocol::ClientKeyMaterialBody::Success(kp) = &c.body {
                let kp: KeyPackageIn = kp.parse().map_err(|e| peer_garbage(&target_domain, e))?;
                let kp = kp
                    .validate(self.crypto.crypto(), ProtocolVersion::Mls10)
                    .map_err(|e| peer_garbage(&target_domain, e))?;
                let r = kp
                    .hash_ref(self.crypto.crypto())
                    .map_err(|e| MimiError::Internal(e.to_string()))?;
                refs.push(r.as_slice().to_vec());
            }
        }
        let mut st = lock(&self.state);
        for r in refs {
            st.kp_route.insert(
                r,
                KpRoute {
                    domain: target_domain.clone(),
                    room: room.clone(),
                },
            );
        }
        Ok(resp)
    }

    /// `/groupInfo` at the hub: the current GroupInfo and tree, encrypted to
    /// the requester's HPKE key, for a client of a user already in the room.
    pub(crate) fn hub_group_info(
        &self,
        origin: &str,
        room: &str,
        req: GroupInfoRequest,
    ) -> Result<GroupInfoResponse, MimiError> {
        let t = &req.tbs;
        if t.protocol != protocol::PROTOCOL_MLS10 {
            return Err(bad("protocol is not mls10"));
        }
        if t.cipher_suite != u16::from(CIPHERSUITE) {
            return Err(bad("unsupported cipher_suite"));
        }
        let cred = t.requesting_credential.parse().map_err(bad)?;
        let client = credential_uri(&cred).ok_or_else(|| bad("credential is not a client URI"))?;
        // QUIRK hub-trusts-foreign-clients.
        if self.quirks.hub_checks_client_origin() && ids::domain_of(&client, 'd') != Some(origin) {
            return Err(MimiError::Forbidden(format!(
                "{origin} cannot speak for {client}"
            )));
        }
        self.verify(
            GROUP_INFO_REQUEST_LABEL,
            &protocol::encode(t),
            t.requesting_signature_key.as_slice(),
            req.signature.as_slice(),
        )?;
        let room_id = VLBytes::new(room.as_bytes().to_vec());
        let fail = |status| GroupInfoResponse::Failure {
            room_id: room_id.clone(),
            status,
        };
        let st = lock(&self.state);
        let Some(r) = st.hub_rooms.get(room) else {
            return Ok(fail(group_info_code::NO_SUCH_ROOM));
        };
        let user = ids::user_of_client(&client).unwrap_or_default();
        // QUIRK group-info-to-anyone.
        if self.quirks.group_info_to_participants() && !users_of_members(&r.group).contains(&user) {
            return Ok(fail(group_info_code::NOT_AUTHORIZED));
        }
        let tree = r
            .group
            .export_ratchet_tree()
            .tls_serialize_detached()
            .map_err(|e| MimiError::Internal(e.to_string()))?;
        let tbe = GroupInfoRatchetTreeTbe {
            group_info: Raw::from_bytes(r.group_info.clone()),
            ratchet_tree: RatchetTreeOption::Full(Raw::from_bytes(tree)),
            pending_proposals: Vec::new(),
        };
        drop(st);
        let ct = self
            .crypto
            .crypto()
            .hpke_seal(
                CIPHERSUITE.hpke_config(),
                t.group_info_public_key.as_slice(),
                &protocol::encrypt_context(GROUP_INFO_ENCRYPT_LABEL, room.as_bytes()),
                &[],
                &protocol::encode(&tbe),
            )
            .map_err(|_| bad("groupInfoPublicKey is not a usable HPKE key"))?;
        let hub_sender = super::LocalEndpoint::new_sender(self);
        let tbs = GroupInfoSuccessTbs {
            version: protocol::PROTOCOL_MLS10,
            room_id,
            status: group_info_code::SUCCESS,
            cipher_suite: u16::from(CIPHERSUITE),
            hub_sender: Raw::encode(&hub_sender).map_err(|e| MimiError::Internal(e.to_string()))?,
            encrypted_groupinfo_and_tree: Raw::encode(&ct)
                .map_err(|e| MimiError::Internal(e.to_string()))?,
        };
        let sig = self
            .hub_signer
            .sign(&protocol::sign_content(
                GROUP_INFO_RESPONSE_LABEL,
                &protocol::encode(&tbs),
            ))
            .map_err(|e| MimiError::Internal(format!("sign: {e:?}")))?;
        Ok(GroupInfoResponse::Success {
            tbs,
            signature: VLBytes::new(sig),
        })
    }
}
