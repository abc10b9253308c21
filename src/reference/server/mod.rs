//! The provider's server side: MIMI hub and follower roles, the KeyPackage
//! publication point, and per-client inboxes.
//!
//! This side never holds client keys or content plaintext: it sees MLS
//! handshake messages (PublicMessage), opaque PrivateMessages, KeyPackages and
//! Welcomes, which is all the MIMI protocol shows a provider. It must not use
//! the content codec or the `client` module; the one exception is abuse
//! report validation (`abuse`), which reads the content a reporting user
//! deliberately disclosed (protocol-06 §5.9).

mod assets;
pub use assets::{MAX_ASSET, decode_download_url, encode_download_url};
mod abuse;
pub use abuse::AcceptedReport;
mod consent;
pub mod http;
pub use consent::{ConsentListener, ConsentNotice, ConsentNoticeKind};
mod hub;
mod identifier;
pub use identifier::Profile;
mod policy;
mod release;
mod requests;
pub use requests::{
    GROUP_INFO_ENCRYPT_LABEL, GROUP_INFO_REQUEST_LABEL, GROUP_INFO_RESPONSE_LABEL,
    KEY_MATERIAL_LABEL,
};
pub mod local;
pub mod peer;

use super::ids;
use crate::protocol::{self, FanoutMessage, FanoutTail, Raw};
use openmls::prelude::{
    BasicCredential, Credential, KeyPackageIn, OpenMlsProvider, ProtocolVersion, PublicGroup,
    Welcome, tls_codec::Deserialize as _,
};
use openmls_rust_crypto::OpenMlsRustCrypto;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{oneshot, watch};

pub use local::LocalEndpoint;

/// How long the hub holds an update's answer while the Welcomes it caused
/// are delivered to other providers.
pub const WELCOME_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The ciphersuite of every room: 0x0001, the MIMI baseline.
pub const CIPHERSUITE: openmls::prelude::Ciphersuite =
    openmls::prelude::Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;

/// One MIMI body the server sent or received, with where it went.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// E.g. `out notify a.example/r/club`, `in /v1/update/...`, `in-answer`.
    pub label: String,
    pub body: Vec<u8>,
}

/// Switches tests use to observe or disturb the server. All off by default.
pub struct Hooks {
    /// While set, `/notify` answers 503 with `Retry-After: 1`.
    pub notify_unavailable: AtomicBool,
    /// While set, every MIMI body sent or received is kept.
    pub record: AtomicBool,
    recorded: Mutex<Vec<Recorded>>,
    notify_processed: AtomicU64,
    notify_refused: watch::Sender<u64>,
    /// While set, this provider's clients plan room changes with this
    /// user's authority instead of their own, so tests can send the hub a
    /// commit the committer is not allowed to make (the hub must refuse it).
    pub forge_policy_as: Mutex<Option<String>>,
    /// While set, the hub flips a bit of each `server_frank` it fans out
    /// (as a follower in the path could), so tests see receivers reject it.
    pub corrupt_fanout_franks: AtomicBool,
    /// While set (the harness's adversary provider), the last body sent to
    /// each endpoint per room, and the last notify received per room, are
    /// kept so that forgeries can replay or alter real traffic.
    pub keep_last: AtomicBool,
    kept: Mutex<HashMap<(String, String), Vec<u8>>>,
    /// Room → the accepted timestamp the hub gives the next application
    /// message instead of its clock's (the adversary's forged stamps).
    stamps: Mutex<HashMap<String, u64>>,
    /// Room → the deliveries of the message last stamped that way (rooms
    /// apart: cases forge concurrently on one adversary).
    stamped: Mutex<HashMap<String, Vec<oneshot::Receiver<()>>>>,
}

impl Default for Hooks {
    fn default() -> Self {
        Self {
            notify_unavailable: AtomicBool::new(false),
            record: AtomicBool::new(false),
            recorded: Mutex::new(Vec::new()),
            notify_processed: AtomicU64::new(0),
            notify_refused: watch::Sender::new(0),
            forge_policy_as: Mutex::new(None),
            corrupt_fanout_franks: AtomicBool::new(false),
            keep_last: AtomicBool::new(false),
            kept: Mutex::new(HashMap::new()),
            stamps: Mutex::new(HashMap::new()),
            stamped: Mutex::new(HashMap::new()),
        }
    }
}

impl Hooks {
    pub(crate) fn record(&self, label: impl Into<String>, body: &[u8]) {
        if self.record.load(Ordering::Relaxed) {
            lock(&self.recorded).push(Recorded {
                label: label.into(),
                body: body.to_vec(),
            });
        }
    }
    /// Keeps `body` as the last one of `what` (an endpoint name) for
    /// `room`, while [`Hooks::keep_last`] is set.
    pub(crate) fn keep(&self, what: &str, room: &str, body: &[u8]) {
        if self.keep_last.load(Ordering::Relaxed) {
            lock(&self.kept).insert((what.to_owned(), room.to_owned()), body.to_vec());
        }
    }
    /// The last body of `what` for `room` that [`Hooks::keep`] kept.
    pub fn kept(&self, what: &str, room: &str) -> Option<Vec<u8>> {
        lock(&self.kept)
            .get(&(what.to_owned(), room.to_owned()))
            .cloned()
    }
    /// Makes the hub stamp the next application message it accepts for
    /// `room` with `timestamp`, whatever its clock says.
    pub(crate) fn stamp_next(&self, room: &str, timestamp: u64) {
        lock(&self.stamps).insert(room.to_owned(), timestamp);
    }
    /// The stamp [`Hooks::stamp_next`] set for `room`, used up.
    pub(crate) fn take_stamp(&self, room: &str) -> Option<u64> {
        lock(&self.stamps).remove(room)
    }
    /// Keeps the delivery receipts of the message just stamped in `room`.
    pub(crate) fn stamped(&self, room: &str, deliveries: Vec<oneshot::Receiver<()>>) {
        lock(&self.stamped).insert(room.to_owned(), deliveries);
    }
    /// Waits until every provider got the last message the hub stamped in
    /// `room` with [`Hooks::stamp_next`] (accepted or refused for good), or
    /// `limit` passed.
    pub(crate) async fn stamped_delivered(&self, room: &str, limit: std::time::Duration) {
        let deliveries = lock(&self.stamped).remove(room).unwrap_or_default();
        hub::Deliveries::from(deliveries).wait(limit).await;
    }
    /// Every body recorded so far.
    pub fn recorded(&self) -> Vec<Recorded> {
        lock(&self.recorded).clone()
    }
    /// Notify bodies processed, duplicates excluded.
    pub fn notify_processed(&self) -> u64 {
        self.notify_processed.load(Ordering::SeqCst)
    }
    pub(crate) fn notify_refused(&self) {
        self.notify_refused.send_modify(|n| *n += 1);
    }
    /// Waits until `/notify` was refused (test hook) at least `n` times.
    pub async fn wait_notify_refused(&self, n: u64) {
        let mut rx = self.notify_refused.subscribe();
        let _ = rx.wait_for(|v| *v >= n).await;
    }
}

/// Locks a std mutex; a poisoned lock means a bug elsewhere already panicked,
/// and the data is still usable for our maps.
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One fan-out item for one local client.
#[derive(Clone)]
pub struct InboxItem {
    pub room: String,
    /// One encoded FanoutMessage.
    pub fanout: Vec<u8>,
}

struct Inbox {
    items: Vec<InboxItem>,
    len: watch::Sender<usize>,
}

/// A room this provider is the hub of.
pub(crate) struct HubRoom {
    pub group: PublicGroup,
    /// The GroupInfo (without tree) of the current epoch, from its committer.
    pub group_info: Vec<u8>,
    pub last_timestamp: u64,
}

/// An uploaded attachment's ciphertext, with the room it was sent to (so
/// releasing the room frees it).
pub(crate) struct StoredAsset {
    pub room: String,
    pub bytes: Vec<u8>,
}

/// A claimed KeyPackage's route at the hub: the provider it came from (for
/// the Welcome) and the room it was claimed for.
pub(crate) struct KpRoute {
    pub domain: String,
    pub room: String,
}

/// A published, unclaimed KeyPackage.
pub(crate) struct StoredKeyPackage {
    pub kp_ref: Vec<u8>,
    pub raw: Vec<u8>,
}

#[derive(Default)]
pub(crate) struct State {
    /// user URI → client URIs.
    pub users: HashMap<String, Vec<String>>,
    /// client URI → unclaimed KeyPackages.
    pub key_packages: HashMap<String, VecDeque<StoredKeyPackage>>,
    /// Claimed KeyPackageRef → local client it belongs to (Welcome routing).
    pub kp_owner: HashMap<Vec<u8>, String>,
    /// Claimed KeyPackageRef → provider domain it came from (hub routing).
    pub kp_route: HashMap<Vec<u8>, KpRoute>,
    pub hub_rooms: HashMap<String, HubRoom>,
    /// room URI → local clients that receive its fan-out.
    pub room_clients: HashMap<String, BTreeSet<String>>,
    inboxes: HashMap<String, Inbox>,
    /// Hashes of notify bodies already processed, per room (so a released
    /// room takes its hashes with it).
    seen_notify: HashMap<String, HashSet<[u8; 32]>>,
    /// user URI → profile, for identifier queries.
    profiles: BTreeMap<String, Profile>,
    /// Asset id → stored (encrypted) bytes uploaded by local clients.
    pub assets: HashMap<String, StoredAsset>,
    /// Who needs consent, and what was granted (§5.7).
    pub consent: consent::ConsentState,
    /// Abuse reports this hub accepted (§5.9).
    pub abuse_reports: Vec<abuse::AcceptedReport>,
}

/// The server side of one provider.
pub struct Server {
    pub(crate) domain: String,
    pub(crate) crypto: OpenMlsRustCrypto,
    /// The hub's external-sender key (a server key, not a client key).
    pub(crate) hub_signer: crate::reference::signer::SigningKeyPair,
    /// The hub's franking signature key (its public part is each hosted
    /// room's franking_signature_key component) and its secret `hub_key`
    /// for server franks (§5.4.1); one pair for every room of this hub.
    pub(crate) franking_signer: crate::reference::signer::SigningKeyPair,
    pub(crate) hub_key: [u8; 32],
    pub(crate) state: Mutex<State>,
    pub(crate) peers: Arc<peer::Peers>,
    pub hooks: Arc<Hooks>,
    /// Deliberate deviations switched on (`reference::quirks`).
    pub(crate) quirks: crate::reference::quirks::Quirks,
    /// Who hears consent notices; kept across `reset`.
    consent_listener: Mutex<Option<ConsentListener>>,
}

/// Why a MIMI request was not served; maps to an HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum MimiError {
    #[error("malformed request: {0}")]
    BadRequest(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("peer {domain} failed: {reason}")]
    Peer { domain: String, reason: String },
    #[error("internal error: {0}")]
    Internal(String),
}

impl MimiError {
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::Forbidden(_) => 403,
            Self::NotFound(_) => 404,
            Self::Conflict(_) => 409,
            Self::Peer { .. } => 502,
            Self::Internal(_) => 500,
        }
    }
}

pub(crate) fn bad(e: impl std::fmt::Display) -> MimiError {
    MimiError::BadRequest(e.to_string())
}

/// The client URI an MLS credential names (BasicCredential identity).
pub fn credential_uri(cred: &Credential) -> Option<String> {
    let basic = BasicCredential::try_from(cred.clone()).ok()?;
    let s = std::str::from_utf8(basic.identity()).ok()?;
    ids::parse(s).filter(|p| p.kind == 'd')?;
    Some(s.to_owned())
}

pub(crate) fn pki_names(cert: &rustls::pki_types::CertificateDer<'_>) -> Vec<String> {
    crate::reference::pki::cert_dns_names(cert)
}

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Server {
    pub fn new(domain: String, peers: Arc<peer::Peers>) -> Result<Arc<Self>, MimiError> {
        Self::with_quirks(domain, peers, Default::default())
    }

    /// A server with deliberate deviations switched on.
    pub fn with_quirks(
        domain: String,
        peers: Arc<peer::Peers>,
        quirks: crate::reference::quirks::Quirks,
    ) -> Result<Arc<Self>, MimiError> {
        let crypto = OpenMlsRustCrypto::default();
        let hub_signer = crate::reference::signer::SigningKeyPair::generate();
        let franking_signer = crate::reference::signer::SigningKeyPair::generate();
        let mut hub_key = [0u8; 32];
        rand::Rng::fill(&mut rand::rng(), &mut hub_key);
        Ok(Arc::new(Self {
            domain,
            crypto,
            hub_signer,
            franking_signer,
            hub_key,
            state: Mutex::new(State::default()),
            peers,
            hooks: Arc::new(Hooks::default()),
            quirks,
            consent_listener: Mutex::new(None),
        }))
    }

    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// Forgets users, rooms, KeyPackages, inboxes, assets and pending deliveries
    /// (control `reset`).
    pub fn reset(&self) {
        self.peers.drop_queues();
        // Dropping the inboxes also ends the client tasks waiting on them.
        *lock(&self.state) = State::default();
        // The hubs' PublicGroups live in the MLS storage, not in `state`.
        if let Ok(mut v) = self.crypto.storage().values.write() {
            v.clear();
        }
        self.quirks.clear();
    }

    /// Every byte string the server holds, for tests that search it (canary).
    pub fn dump(&self) -> Vec<Vec<u8>> {
        use openmls::prelude::tls_codec::Serialize as _;
        let st = lock(&self.state);
        let mut out = Vec::new();
        for kps in st.key_packages.values() {
            out.extend(kps.iter().map(|kp| kp.raw.clone()));
        }
        for room in st.hub_rooms.values() {
            out.push(room.group_info.clone());
            if let Ok(tree) = room.group.export_ratchet_tree().tls_serialize_detached() {
                out.push(tree);
            }
            if let Ok(ctx) = room.group.group_context().tls_serialize_detached() {
                out.push(ctx);
            }
        }
        for inbox in st.inboxes.values() {
            out.extend(inbox.items.iter().map(|i| i.fanout.clone()));
        }
        out.extend(st.assets.values().map(|a| a.bytes.clone()));
        // The only plaintext a server holds: what reporters disclosed.
        for r in &st.abuse_reports {
            out.push(r.body.clone());
        }
        out
    }

    /// The server's state as sorted text, for tests that check a failed
    /// operation left no trace (with [`Server::dump`] for the bytes).
    pub fn state_summary(&self) -> String {
        use std::fmt::Write as _;
        let st = lock(&self.state);
        let mut out = String::new();
        let sorted = |m: Vec<String>| {
            let mut m = m;
            m.sort();
            m
        };
        let _ = writeln!(
            out,
            "users {:?}",
            st.users.iter().collect::<BTreeMap<_, _>>()
        );
        let kps: BTreeMap<_, _> = st.key_packages.iter().map(|(c, k)| (c, k.len())).collect();
        let _ = writeln!(out, "key_packages {kps:?}");
        let _ = writeln!(
            out,
            "kp_owner {:?}",
            sorted(st.kp_owner.values().cloned().collect())
        );
        let _ = writeln!(
            out,
            "kp_route {:?}",
            sorted(st.kp_route.values().map(|r| r.domain.clone()).collect())
        );
        for (room, r) in st.hub_rooms.iter().collect::<BTreeMap<_, _>>() {
            let members = member_clients(&r.group);
            let _ = writeln!(
                out,
                "hub_room {room} epoch {} members {members:?} group_info {}",
                r.group.group_context().epoch().as_u64(),
                hex::encode(&r.group_info)
            );
        }
        let _ = writeln!(
            out,
            "room_clients {:?}",
            st.room_clients.iter().collect::<BTreeMap<_, _>>()
        );
        let inboxes: BTreeMap<_, _> = st.inboxes.iter().map(|(c, i)| (c, i.items.len())).collect();
        let _ = writeln!(out, "inboxes {inboxes:?}");
        let _ = writeln!(out, "profiles {:?}", st.profiles);
        let _ = writeln!(
            out,
            "assets {:?}",
            sorted(st.assets.keys().cloned().collect())
        );
        let _ = writeln!(out, "consent {:?}", st.consent);
        let _ = writeln!(out, "abuse_reports {}", st.abuse_reports.len());
        let _ = writeln!(
            out,
            "seen_notify {:?}",
            st.seen_notify
                .iter()
                .map(|(room, seen)| (room, seen.len()))
                .collect::<BTreeMap<_, _>>()
        );
        drop(st);
        // The hubs' PublicGroups live here, beside the state above.
        let stored = self
            .crypto
            .storage()
            .values
            .read()
            .map(|v| v.len())
            .unwrap_or(0);
        let _ = writeln!(out, "mls_storage_entries {stored}");
        out
    }

    pub(crate) fn is_local(&self, uri: &str) -> bool {
        ids::parse(uri).is_some_and(|p| p.domain == self.domain)
    }

    /// Registers a local client of a local user, with an empty inbox.
    pub(crate) fn register_client(&self, user: &str, client: &str) {
        let mut st = lock(&self.state);
        st.users
            .entry(user.to_owned())
            .or_default()
            .push(client.to_owned());
        st.inboxes
            .entry(client.to_owned())
            .or_insert_with(|| Inbox {
                items: Vec::new(),
                len: watch::channel(0).0,
            });
    }

    /// Validates and stores a client's KeyPackage; returns its ref.
    pub(crate) fn store_key_package(&self, client: &str, raw: Vec<u8>) -> Result<(), MimiError> {
        let kp = KeyPackageIn::tls_deserialize_exact(&raw)
            .map_err(bad)?
            .validate(self.crypto.crypto(), ProtocolVersion::Mls10)
            .map_err(bad)?;
        let owner = credential_uri(kp.leaf_node().credential());
        if owner.as_deref() != Some(client) {
            return Err(MimiError::Forbidden(
                "KeyPackage credential does not name the publishing client".into(),
            ));
        }
        let r = kp
            .hash_ref(self.crypto.crypto())
            .map_err(|e| MimiError::Internal(e.to_string()))?;
        let mut st = lock(&self.state);
        if !st.inboxes.contains_key(client) {
            return Err(MimiError::NotFound(format!("unknown client {client}")));
        }
        st.key_packages
            .entry(client.to_owned())
            .or_default()
            .push_back(StoredKeyPackage {
                kp_ref: r.as_slice().to_vec(),
                raw,
            });
        Ok(())
    }

    /// Claims one KeyPackage per client of a local user (§5.2) for
    /// `requester` in `room`, unless the user's consent is missing. Claimed
    /// refs are remembered so the Welcome can be routed to the right client.
    pub(crate) fn claim_local(
        &self,
        requester: &str,
        target_user: &str,
        room: &str,
    ) -> protocol::KeyMaterialResponse {
        use openmls::prelude::tls_codec::VLBytes;
        use protocol::{ClientKeyMaterial, ClientKeyMaterialBody, user_code};
        let user_uri = VLBytes::new(target_user.as_bytes().to_vec());
        if let Some(user_status) = self.consent_refusal(target_user, requester, room) {
            return protocol::KeyMaterialResponse {
                protocol: protocol::PROTOCOL_MLS10,
                user_status,
                user_uri,
                clients: Vec::new(),
            };
        }
        let mut st = lock(&self.state);
        let Some(clients) = st.users.get(target_user).cloned() else {
            return protocol::KeyMaterialResponse {
                protocol: protocol::PROTOCOL_MLS10,
                user_status: user_code::USER_UNKNOWN,
                user_uri,
                clients: Vec::new(),
            };
        };
        let mut out = Vec::new();
        let mut got = 0;
        for c in &clients {
            let kp = st.key_packages.get_mut(c).and_then(|q| q.pop_front());
            let body = match kp {
                Some(kp) => {
                    got += 1;
                    st.kp_owner.insert(kp.kp_ref, c.clone());
                    ClientKeyMaterialBody::Success(Raw::from_bytes(kp.raw))
                }
                None => ClientKeyMaterialBody::KeyMaterialExhausted,
            };
            out.push(ClientKeyMaterial {
                client_uri: VLBytes::new(c.as_bytes().to_vec()),
                body,
            });
        }
        let user_status = if got == clients.len() && got > 0 {
            user_code::SUCCESS
        } else if got > 0 {
            user_code::PARTIAL_SUCCESS
        } else {
            user_code::NO_COMPATIBLE_MATERIAL
        };
        protocol::KeyMaterialResponse {
            protocol: protocol::PROTOCOL_MLS10,
            user_status,
            user_uri,
            clients: out,
        }
    }

    /// Hands one fan-out message to the local clients it is for: a Welcome to
    /// the client whose KeyPackage it uses, anything else to every local
    /// client that receives the room.
    pub(crate) fn deliver_local(&self, st: &mut State, room: &str, msg: &FanoutMessage) {
        let bytes = protocol::encode(msg);
        let targets: Vec<String> = match &msg.tail {
            FanoutTail::Welcome { .. } => {
                let Ok(welcome) = msg.message.parse().map(|m| m.extract()) else {
                    return;
                };
                let openmls::prelude::MlsMessageBodyIn::Welcome(w) = welcome else {
                    return;
                };
                welcome_refs(&w)
                    .into_iter()
                    .filter_map(|r| st.kp_owner.remove(&r))
                    .collect()
            }
            _ => st
                .room_clients
                .get(room)
                .map(|s| s.iter().cloned().collect())
                .unwrap_or_default(),
        };
        for client in targets {
            st.room_clients
                .entry(room.to_owned())
                .or_default()
                .insert(client.clone());
            if let Some(inbox) = st.inboxes.get_mut(&client) {
                inbox.items.push(InboxItem {
                    room: room.to_owned(),
                    fanout: bytes.clone(),
                });
                let n = inbox.items.len();
                inbox.len.send_replace(n);
            }
        }
    }

    /// Follower side of `/notify` (§5.5): only the room's hub may notify; a
    /// byte-identical repeat is accepted and ignored.
    pub(crate) fn handle_notify(
        &self,
        source: &str,
        room: &str,
        body: &[u8],
    ) -> Result<(), MimiError> {
        let hub = ids::domain_of(room, 'r')
            .ok_or_else(|| MimiError::BadRequest(format!("not a room URI: {room}")))?;
        // QUIRK notify-from-anyone, follower-takes-any-notify.
        let checks = self.quirks.notify_only_from_hub()
            && (hub == self.domain || self.quirks.follower_checks_notify_source());
        if hub != source && checks {
            return Err(MimiError::Forbidden(format!(
                "{source} is not the hub of {room}"
            )));
        }
        let mut h = Sha256::new();
        h.update(source.as_bytes());
        h.update([0]);
        h.update(room.as_bytes());
        h.update([0]);
        h.update(body);
        let digest: [u8; 32] = h.finalize().into();
        let msgs = match protocol::decode_fanout_batch(body) {
            Ok(msgs) => msgs,
            // QUIRK follower-swallows-bad-notify.
            Err(_) if !self.quirks.refuses_bad_notify() => return Ok(()),
            Err(e) => return Err(bad(e)),
        };
        let mut st = lock(&self.state);
        if !st
            .seen_notify
            .entry(room.to_owned())
            .or_default()
            .insert(digest)
        {
            return Ok(());
        }
        for m in &msgs {
            self.deliver_local(&mut st, room, m);
        }
        self.hooks.notify_processed.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    pub(crate) fn inbox_watch(&self, client: &str) -> Option<watch::Receiver<usize>> {
        lock(&self.state)
            .inboxes
            .get(client)
            .map(|i| i.len.subscribe())
    }

    pub(crate) fn inbox_from(&self, client: &str, from: usize) -> Vec<InboxItem> {
        lock(&self.state)
            .inboxes
            .get(client)
            .map(|i| i.items.get(from..).unwrap_or_default().to_vec())
            .unwrap_or_default()
    }
}

/// The KeyPackageRefs a Welcome is encrypted to.
pub(crate) fn welcome_refs(w: &Welcome) -> Vec<Vec<u8>> {
    w.secrets()
        .iter()
        .map(|s| s.new_member().as_slice().to_vec())
        .collect()
}

/// Raw welcome bytes → Welcome.
pub(crate) fn parse_welcome(raw: &Raw<Welcome>) -> Result<Welcome, MimiError> {
    raw.parse().map_err(bad)
}

/// The users with at least one client in the group (the participant list as
/// the reference hub derives it; see docs/deviations.md).
pub(crate) fn users_of_members(group: &PublicGroup) -> BTreeSet<String> {
    group
        .members()
        .filter_map(|m| credential_uri(&m.credential))
        .filter_map(|c| ids::user_of_client(&c))
        .collect()
}

pub(crate) fn member_clients(group: &PublicGroup) -> BTreeSet<String> {
    group
        .members()
        .filter_map(|m| credential_uri(&m.credential))
        .collect()
}
