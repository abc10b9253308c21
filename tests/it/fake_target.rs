//! A fake control-API target for the runner's tests: users, rooms, roles,
//! sends that deliver MIMI content to the other members, events as a real
//! long-poll (`Notify`), room state with epoch authenticators. Several fakes
//! share one [`World`], which stands in for the MIMI traffic between
//! providers. Intents become content through the crate's codec. [`Quirks`] make one fake misbehave on purpose.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use mimi_interop::content;
use mimi_interop::control::api::*;
use mimi_interop::reference::client::assets;
use mimi_interop::run::REQUIRED_OPS;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

pub mod log;
mod mimi;

/// A real MIMI content vector (draft-ietf-mimi-content-08 `original.cbor`)
/// with an empty extensions map: its senderUri and roomUri name the
/// draft's example users, which the harness would rightly reject from the
/// fake's users (protocol-06 §5.4.1).
pub const ORIGINAL: &[u8] = include_bytes!("../../fixtures/run/original-no-uris.cbor");
/// Another one (`reply.cbor`, extensions emptied too), for a second,
/// different message.
pub const REPLY: &[u8] = include_bytes!("../../fixtures/run/reply-no-uris.cbor");
/// `original.cbor` as the draft has it, URIs and all.
pub const ORIGINAL_WITH_URIS: &[u8] = include_bytes!("../../fixtures/run/original.cbor");

/// draft-ietf-mimi-content-08 §3.3, written out independently of the codec.
pub fn message_id(sender: &str, room: &str, content: &[u8]) -> String {
    let salt = &content[2..18];
    let mut h = Sha256::new();
    h.update((sender.len() as u16).to_be_bytes());
    h.update(sender.as_bytes());
    h.update((room.len() as u16).to_be_bytes());
    h.update(room.as_bytes());
    h.update(content);
    h.update(salt);
    let digest = h.finalize();
    let mut id = vec![0x01];
    id.extend_from_slice(&digest[..31]);
    hex::encode(id)
}

/// An operation, the status to answer it with, and which of its calls
/// (counted by the fake from 1) get that answer.
pub type FailCalls = (&'static str, u16, fn(usize) -> bool);

/// Deliberate misbehaviour of one fake.
#[derive(Debug, Clone, Default)]
pub struct Quirks {
    /// Answer this status (with an error body) to this operation.
    pub fail: Option<(&'static str, u16)>,
    /// Answer this status to this operation on some calls: a target that
    /// fails now and then.
    pub fail_calls: Option<FailCalls>,
    /// Answer 200 with a body that is not JSON to this operation.
    pub garbage: Option<&'static str>,
    /// Never answer this operation.
    pub hang: Option<&'static str>,
    /// Report a different epoch authenticator in `room_state`.
    pub wrong_authenticator: bool,
    /// Deliver sent messages this much later (simulated network latency).
    pub delivery_delay: Option<Duration>,
    /// Deliver every sent message twice.
    pub duplicate_delivery: bool,
    /// Answer `send` with a message ID that is not the content's.
    pub wrong_message_id: bool,
    /// Send the draft's `original` example whatever the intent says.
    pub ignore_intent: bool,
    /// Never deliver the n-th message this fake sends in a room (1-based).
    pub drop_send: Option<usize>,
    /// Deliver the n-th message this fake sends in a room twice.
    pub duplicate_send: Option<usize>,
    /// Deliver the n-th message this fake sends in a room after the (n+1)-th.
    pub swap_send: Option<usize>,
    /// Messages sent through this fake arrive with wire format `public`.
    pub public_wire_format: bool,
    /// `timeline` shows every message as sent: edits, deletes and
    /// reactions are not applied.
    pub raw_timeline: bool,
    /// The `/v1/info` features; `None` declares [`DECLARED`].
    pub features: Option<Vec<&'static str>>,
    /// Answer 501 `unsupported` to every operation the control API lets a
    /// target decline (all but the harness's own, `REQUIRED_OPS`).
    pub unsupported_everything: bool,
    /// Ignores its peer wiring: sends no MIMI traffic, and its messages
    /// never reach users of other domains.
    pub no_mimi: bool,
    /// Logs every POSTed operation (`<op> <body>`) through this process,
    /// before answering it.
    pub log: Option<Arc<log::ProcessLog>>,
}

/// What a fake declares by default: the test suites' `feat` and every
/// shipped suite's feature, so only tests about declarations see a gap.
pub const DECLARED: &[&str] = &[
    "feat",
    "feat-should",
    "direct-messages",
    "encryption",
    "membership",
    "profiles",
    "redaction",
    "reliable-sync",
    "roles",
    "text",
    "edits",
    "history-porting",
    "history-sync",
    "media",
    "presence",
    "reactions",
    "read-receipts",
    "replies",
    "room-metadata",
    "threads",
    "typing",
    "voice-messages",
    "voip-1to1",
    "voip-multiparty",
];

#[derive(Default)]
struct UserRec {
    clients: Vec<String>,
    events: Vec<Event>,
    display_name: Option<String>,
    avatar: Option<String>,
}

struct RoomRec {
    participants: BTreeMap<String, String>,
    epoch: u64,
    metadata: RoomMetadata,
    /// A DM: fixed membership.
    dm: bool,
    /// The status notification policy `create_room` set (both optional when absent).
    status: Option<StatusPolicy>,
    /// The most non-banned participants (room-policy-03 §5 `max_users`).
    max_users: Option<u32>,
}

/// A simplified room-policy-03 Appendix A.1: whether a participant with
/// role `actor` may move a user from role `from` to role `to` (`""` is
/// absent). Users add and remove users; moderators move users among
/// absent/banned/user/moderator; admins do anything.
fn may_change(actor: &str, from: &str, to: &str) -> bool {
    let ordinary = |r: &str| r.is_empty() || r == "user";
    let below_admin = |r: &str| r != "admin";
    match actor {
        "admin" => true,
        "moderator" => below_admin(from) && below_admin(to),
        "user" => ordinary(from) && ordinary(to),
        _ => false,
    }
}

#[derive(Default)]
struct WorldState {
    users: HashMap<String, UserRec>,
    rooms: HashMap<String, RoomRec>,
    next_seq: u64,
    next_client: u64,
    /// Messages sent through each fake (domain) in each room, for quirks.
    sends: HashMap<(String, String), usize>,
    /// A delivery held back by `swap_send`.
    held: Vec<Delivery>,
    /// The sending user of every message, in the order the sends came.
    send_log: Vec<String>,
    /// Room → (message ID, sending user, content) of every message sent.
    timeline: HashMap<String, Vec<(String, String, content::MimiContent)>>,
    /// Asset URL → stored (encrypted) bytes of `upload` sends.
    assets: HashMap<String, Vec<u8>>,
    /// (user, message ID) → when the user's timeline first showed a message
    /// with a relative expiry (its reading, §4.1), in ms.
    read_at: HashMap<(String, String), u64>,
}

/// One event to push: (user, client, room, event).
type Delivery = (String, String, String, EventKind);

/// The shared state of every fake in one test.
#[derive(Default)]
pub struct World {
    state: Mutex<WorldState>,
    notify: Notify,
    polls_now: AtomicUsize,
    /// Most `events` long-polls open at the same time.
    pub polls_max: AtomicUsize,
    /// Every `create_user` name seen, to check uniqueness.
    pub user_names: Mutex<Vec<String>>,
    /// Every `release` call: (the fake's domain, what it asked to forget).
    /// Fakes record it and forget nothing.
    pub releases: Mutex<Vec<(String, ReleaseRequest)>>,
    /// `release` calls per fake domain, answered or not.
    pub release_calls: Mutex<HashMap<String, usize>>,
}

impl World {
    /// The sending user of every message sent so far, in order.
    pub fn send_log(&self) -> Vec<String> {
        self.state.lock().unwrap().send_log.clone()
    }
}

impl WorldState {
    fn push(&mut self, user: &str, client: &str, room: &str, kind: EventKind) {
        self.next_seq += 1;
        let seq = self.next_seq;
        if let Some(u) = self.users.get_mut(user) {
            u.events.push(Event {
                seq,
                client: client.to_owned(),
                room: room.to_owned(),
                kind,
            });
        }
    }

    /// A device of `user` joined or left: a new epoch in each of its rooms.
    fn devices_changed(&mut self, user: &str) {
        let rooms: Vec<String> = self
            .rooms
            .iter()
            .filter(|(_, r)| r.participants.contains_key(user))
            .map(|(k, _)| k.clone())
            .collect();
        for room in rooms {
            self.epoch_changed(&room);
        }
    }

    /// Tells every client of every participant about a new epoch.
    fn epoch_changed(&mut self, room: &str) {
        let Some(r) = self.rooms.get_mut(room) else {
            return;
        };
        r.epoch += 1;
        let epoch = r.epoch;
        let users: Vec<String> = r
            .participants
            .iter()
            .filter(|(_, role)| *role != "banned")
            .map(|(u, _)| u.clone())
            .collect();
        for u in users {
            for c in self
                .users
                .get(&u)
                .map(|u| u.clients.clone())
                .unwrap_or_default()
            {
                self.push(&u, &c, room, EventKind::EpochChanged { epoch });
            }
        }
    }
}

#[derive(Clone)]
struct Fake {
    world: Arc<World>,
    domain: String,
    quirks: Quirks,
    /// Calls of the operation [`Quirks::fail_calls`] names, so far.
    calls: Arc<AtomicUsize>,
    mimi: Arc<mimi::FakeMimi>,
}

type Answer = Result<Value, (StatusCode, &'static str, String)>;

fn err(
    status: u16,
    code: &'static str,
    msg: impl Into<String>,
) -> (StatusCode, &'static str, String) {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        code,
        msg.into(),
    )
}

fn parse<T: serde::de::DeserializeOwned>(
    body: Value,
) -> Result<T, (StatusCode, &'static str, String)> {
    serde_json::from_value(body).map_err(|e| err(400, "bad_request", e.to_string()))
}

/// A running fake; its server task ends with the test's runtime.
pub struct FakeTarget {
    pub url: String,
}

pub async fn spawn(world: Arc<World>, domain: &str, quirks: Quirks) -> FakeTarget {
    let fake = Fake {
        world,
        domain: domain.to_owned(),
        quirks,
        calls: Arc::default(),
        mimi: mimi::FakeMimi::start(domain).await,
    };
    let app = Router::new()
        .route("/v1/info", get(info))
        .route("/v1/{op}", post(op))
        .with_state(fake);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    FakeTarget { url }
}

/// A listener that accepts connections and never answers.
pub async fn spawn_hanging() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    url
}

/// A URL where nothing listens.
pub async fn unreachable_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

async fn info(State(f): State<Fake>) -> Response {
    if f.quirks.hang == Some("info") {
        std::future::pending::<()>().await;
    }
    axum::Json(InfoResponse {
        control_api: "1".into(),
        implementation: "fake".into(),
        version: "0".into(),
        domain: f.domain.clone(),
        mimi_url: f.mimi.url.clone(),
        ca_pem: f.mimi.tls.ca_pem.clone(),
        drafts: BTreeMap::from([("draft-ietf-mimi-content".into(), "08".into())]),
        features: f
            .quirks
            .features
            .as_deref()
            .unwrap_or(DECLARED)
            .iter()
            .map(|s| s.to_string())
            .collect(),
    })
    .into_response()
}

async fn op(State(f): State<Fake>, Path(op): Path<String>, body: axum::Json<Value>) -> Response {
    if op == "release" {
        *f.world
            .release_calls
            .lock()
            .unwrap()
            .entry(f.domain.clone())
            .or_default() += 1;
    }
    if let Some(log) = &f.quirks.log {
        log.line(format!("{op} {}", body.0)).await;
    }
    if f.quirks.hang == Some(op.as_str()) {
        std::future::pending::<()>().await;
    }
    if f.quirks.unsupported_everything && !REQUIRED_OPS.contains(&op.as_str()) {
        return error_response(err(501, "unsupported", format!("{op} is not implemented")));
    }
    if f.quirks.garbage == Some(op.as_str()) {
        return (StatusCode::OK, "<html>surprise</html>").into_response();
    }
    if let Some((which, status)) = f.quirks.fail
        && which == op
    {
        let code = if status == 501 {
            "unsupported"
        } else {
            "internal"
        };
        return error_response(err(status, code, format!("{op} failed on purpose")));
    }
    if let Some((which, status, fails)) = f.quirks.fail_calls
        && which == op
        && fails(f.calls.fetch_add(1, Ordering::SeqCst) + 1)
    {
        return error_response(err(status, "forbidden", format!("{op} failed this time")));
    }
    if op == "peers"
        && let Ok(req) = serde_json::from_value::<PeersRequest>(body.0.clone())
    {
        f.mimi.set_peers(&req);
    }
    let room = body
        .0
        .get("room")
        .and_then(|r| r.as_str())
        .map(str::to_owned);
    let answer = match op.as_str() {
        "events" => events(&f, body.0).await,
        "mark_read" => f.mark_read(body.0),
        "send" => f.send_and_report_delivery(body.0),
        _ => f.handle(&op, body.0),
    };
    let changes = matches!(
        op.as_str(),
        "send" | "add_participant" | "remove_participant" | "create_room" | "mark_read"
    );
    if let (Ok(answer), true, false) = (&answer, changes, f.quirks.no_mimi) {
        let room = room.or_else(|| answer.get("room")?.as_str().map(str::to_owned));
        if let Some(room) = room {
            let others = f.other_domains(&room);
            f.mimi.notify(&room, &others).await;
        }
    }
    match answer {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => error_response(e),
    }
}

fn error_response((status, code, message): (StatusCode, &'static str, String)) -> Response {
    (
        status,
        axum::Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

async fn events(f: &Fake, body: Value) -> Answer {
    let req: EventsRequest = parse(body)?;
    let gauge = f.world.polls_now.fetch_add(1, Ordering::SeqCst) + 1;
    f.world.polls_max.fetch_max(gauge, Ordering::SeqCst);
    let deadline = tokio::time::Instant::now() + Duration::from_millis(req.wait_ms);
    let result = loop {
        let notified = f.world.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        {
            let st = f.world.state.lock().unwrap();
            let Some(u) = st.users.get(&req.user) else {
                break Err(err(404, "not_found", "no such user"));
            };
            let new: Vec<Event> = u
                .events
                .iter()
                .filter(|e| e.seq > req.cursor)
                .cloned()
                .collect();
            if !new.is_empty() || tokio::time::Instant::now() >= deadline {
                let cursor = new.last().map(|e| e.seq).unwrap_or(req.cursor);
                break Ok(json!(EventsResponse {
                    events: new,
                    cursor
                }));
            }
        }
        let _ = tokio::time::timeout_at(deadline, notified).await;
    };
    f.world.polls_now.fetch_sub(1, Ordering::SeqCst);
    result
}

/// The domain of a `mimi://<domain>/...` URI.
fn domain_of(uri: &str) -> &str {
    let rest = uri.strip_prefix("mimi://").unwrap_or(uri);
    rest.split('/').next().unwrap_or_default()
}

impl Fake {
    /// The domains other than this fake's with a participant in `room`.
    fn other_domains(&self, room: &str) -> Vec<String> {
        let st = self.world.state.lock().unwrap();
        let mut out: Vec<String> = st
            .rooms
            .get(room)
            .map(|r| {
                r.participants
                    .keys()
                    .map(|u| domain_of(u).to_owned())
                    .filter(|d| *d != self.domain)
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out.dedup();
        out
    }

    fn user_uri(&self, name: &str) -> String {
        format!("mimi://{}/u/{name}", self.domain)
    }

    /// `mark_read`: a `read` report built with the codec and sent like a
    /// raw `send`; 403 when the room forbids read receipts.
    fn mark_read(&self, body: Value) -> Answer {
        let req: MarkReadRequest = parse(body)?;
        let forbidden = {
            let st = self.world.state.lock().unwrap();
            let Some(r) = st.rooms.get(&req.room) else {
                return Err(err(404, "not_found", "no such room"));
            };
            r.status
                .is_some_and(|s| s.read_receipts == Optionality::Forbidden)
        };
        if forbidden {
            return Err(err(403, "refused", "read receipts are forbidden here"));
        }
        let statuses: Vec<Value> = req
            .message_ids
            .iter()
            .map(|id| json!({"id": id, "status": "read"}))
            .collect();
        self.send_report(&req.room, &req.actor, req.client, json!(statuses))
    }

    fn send_report(
        &self,
        room: &str,
        actor: &str,
        client: Option<String>,
        statuses: Value,
    ) -> Answer {
        let salt = {
            let mut st = self.world.state.lock().unwrap();
            st.next_client += 1;
            let mut salt = [0xaa; 16];
            salt[..8].copy_from_slice(&st.next_client.to_be_bytes());
            salt
        };
        let ctx = content::BuildContext {
            sender_uri: actor.to_owned(),
            room_uri: room.to_owned(),
            timestamp_ms: 1_700_000_000_000,
            salt,
        };
        let bytes = content::build(&json!({ "status_report": statuses }), &ctx)
            .map_err(|e| err(400, "bad_request", e.to_string()))?;
        let send = SendRequest {
            room: room.to_owned(),
            actor: actor.to_owned(),
            client,
            content: SendContent::Raw(B64.encode(bytes)),
        };
        self.handle("send", json!(send))
    }

    /// `send`, then, when the room requires delivery notifications and the
    /// message is no report, a `delivered` report from every other participant.
    fn send_and_report_delivery(&self, body: Value) -> Answer {
        let req: SendRequest = parse(body.clone())?;
        let answer = self.handle("send", body)?;
        let sent: SendResponse = parse(answer.clone())?;
        let receivers: Vec<String> = {
            let st = self.world.state.lock().unwrap();
            let Some(r) = st.rooms.get(&req.room) else {
                return Ok(answer);
            };
            let required = r
                .status
                .is_some_and(|s| s.delivery_notifications == Optionality::Required);
            let is_report = B64
                .decode(&sent.content)
                .ok()
                .and_then(|b| content::decode(&b).ok())
                .is_some_and(|d| is_report(&d.content));
            if !required || is_report {
                return Ok(answer);
            }
            r.participants
                .iter()
                .filter(|(u, role)| **u != req.actor && *role != "banned")
                .map(|(u, _)| u.clone())
                .collect()
        };
        for user in receivers {
            let statuses = json!([{"id": sent.message_id, "status": "delivered"}]);
            self.send_report(&req.room, &user, None, statuses)?;
        }
        Ok(answer)
    }

    fn handle(&self, op: &str, body: Value) -> Answer {
        let mut st = self.world.state.lock().unwrap();
        let answer = match op {
            "reset" | "peers" => Ok(json!({})),
            "release" => {
                let req: ReleaseRequest = parse(body)?;
                self.world
                    .releases
                    .lock()
                    .unwrap()
                    .push((self.domain.clone(), req));
                Ok(json!({}))
            }
            "create_user" => {
                let req: CreateUserRequest = parse(body)?;
                self.world.user_names.lock().unwrap().push(req.name.clone());
                let user = self.user_uri(&req.name);
                if st.users.contains_key(&user) {
                    return Err(err(409, "refused", "user exists"));
                }
                let mut clients = Vec::new();
                for _ in 0..req.clients {
                    st.next_client += 1;
                    clients.push(format!("mimi://{}/d/c{}", self.domain, st.next_client));
                }
                st.users.insert(
                    user.clone(),
                    UserRec {
                        clients: clients.clone(),
                        events: Vec::new(),
                        display_name: req.display_name.clone(),
                        avatar: req.avatar.clone(),
                    },
                );
                Ok(json!(CreateUserResponse { user, clients }))
            }
            "add_client" => {
                let req: AddClientRequest = parse(body)?;
                st.next_client += 1;
                let client = format!("mimi://{}/d/c{}", self.domain, st.next_client);
                let Some(u) = st.users.get_mut(&req.user) else {
                    return Err(err(404, "not_found", "no such user"));
                };
                u.clients.push(client.clone());
                st.devices_changed(&req.user);
                Ok(json!(AddClientResponse { client }))
            }
            "remove_client" => {
                let req: RemoveClientRequest = parse(body)?;
                let Some(u) = st.users.get_mut(&req.user) else {
                    return Err(err(404, "not_found", "no such user"));
                };
                if !u.clients.contains(&req.client) {
                    return Err(err(404, "not_found", "no such client"));
                }
                if u.clients.len() == 1 {
                    return Err(err(409, "conflict", "the user's last client"));
                }
                u.clients.retain(|c| *c != req.client);
                st.devices_changed(&req.user);
                Ok(json!({}))
            }
            "create_room" => {
                let req: CreateRoomRequest = parse(body)?;
                let room = format!("mimi://{}/r/{}", self.domain, req.name);
                let dm = req.with.is_some();
                let creator_role = if dm { "user" } else { "admin" };
                let mut participants =
                    BTreeMap::from([(req.actor.clone(), creator_role.to_owned())]);
                if let Some(w) = &req.with {
                    participants.insert(w.clone(), "user".to_owned());
                }
                st.rooms.insert(
                    room.clone(),
                    RoomRec {
                        participants,
                        epoch: 0,
                        metadata: RoomMetadata::default(),
                        dm,
                        status: req.status_policy,
                        max_users: req.max_users,
                    },
                );
                st.epoch_changed(&room);
                Ok(json!(CreateRoomResponse { room }))
            }
            "add_participant" | "remove_participant" | "ban" | "unban" | "set_role" => {
                let (room, actor, user, role) = if op == "set_role" {
                    let r: SetRoleRequest = parse(body)?;
                    (r.room, r.actor, r.user, Some(r.role))
                } else {
                    let r: MembershipRequest = parse(body)?;
                    (r.room, r.actor, r.user, None)
                };
                let Some(r) = st.rooms.get_mut(&room) else {
                    return Err(err(404, "not_found", "no such room"));
                };
                let refused = |m: &str| Err(err(403, "refused", m));
                let actor_role = r.participants.get(&actor).cloned().unwrap_or_default();
                let current = r.participants.get(&user).cloned().unwrap_or_default();
                if actor_role.is_empty() || actor_role == "banned" {
                    return refused("not a participant");
                }
                if r.dm && op != "set_role" {
                    return refused("the room has fixed membership");
                }
                let moderates = actor_role == "admin" || actor_role == "moderator";
                let (to, allowed) = match op {
                    "add_participant" if current == "banned" => return refused("banned"),
                    "add_participant" if !current.is_empty() => {
                        return Err(err(409, "conflict", "already a participant"));
                    }
                    "add_participant" => ("user".to_owned(), true),
                    "remove_participant" if current.is_empty() => {
                        return Err(err(409, "conflict", "not a participant"));
                    }
                    "remove_participant" => (String::new(), true),
                    "ban" => ("banned".to_owned(), moderates),
                    "unban" if current != "banned" => {
                        return Err(err(409, "conflict", "not banned"));
                    }
                    "unban" => (String::new(), moderates),
                    _ => (role.unwrap_or_default(), moderates && user != actor),
                };
                if !allowed || r.dm || !may_change(&actor_role, &current, &to) {
                    return refused("the actor's role does not allow that");
                }
                let counted = |role: &str| !role.is_empty() && role != "banned";
                if let Some(max) = r.max_users
                    && counted(&to)
                    && !counted(&current)
                    && r.participants.values().filter(|role| counted(role)).count() >= max as usize
                {
                    return refused("the room is full");
                }
                if to.is_empty() {
                    r.participants.remove(&user);
                } else {
                    r.participants.insert(user, to);
                }
                st.epoch_changed(&room);
                Ok(json!(RoomChangeResponse {
                    epoch: st.rooms[&room].epoch
                }))
            }
            "leave" => {
                let req: LeaveRequest = parse(body)?;
                let Some(r) = st.rooms.get_mut(&req.room) else {
                    return Err(err(404, "not_found", "no such room"));
                };
                if r.dm {
                    return Err(err(403, "refused", "the room has fixed membership"));
                }
                r.participants.remove(&req.actor);
                st.epoch_changed(&req.room);
                Ok(json!(RoomChangeResponse {
                    epoch: st.rooms[&req.room].epoch
                }))
            }
            "set_room_metadata" => {
                let req: SetRoomMetadataRequest = parse(body)?;
                let Some(r) = st.rooms.get_mut(&req.room) else {
                    return Err(err(404, "not_found", "no such room"));
                };
                if r.participants
                    .get(&req.actor)
                    .is_none_or(|role| role == "banned")
                {
                    return Err(err(
                        403,
                        "refused",
                        "only participants change the room's metadata",
                    ));
                }
                if req.name.is_some() {
                    r.metadata.name = req.name;
                }
                if req.topic.is_some() {
                    r.metadata.topic = req.topic;
                }
                if req.avatar.is_some() {
                    r.metadata.avatar = req.avatar;
                }
                st.epoch_changed(&req.room);
                Ok(json!(RoomChangeResponse {
                    epoch: st.rooms[&req.room].epoch
                }))
            }
            "send" => {
                let req: SendRequest = parse(body)?;
                let bytes = match &req.content {
                    SendContent::Raw(b) => B64
                        .decode(b)
                        .map_err(|e| err(400, "bad_request", e.to_string()))?,
                    SendContent::Intent(_) if self.quirks.ignore_intent => ORIGINAL.to_vec(),
                    SendContent::Intent(intent) => {
                        st.next_client += 1;
                        // An upload: sealed with a key and nonce from the
                        // counter, stored in the world under a URL of this
                        // fake's domain.
                        let uploaded = match assets::upload_spec(intent)
                            .map_err(|e| err(400, "bad_request", e.to_string()))?
                        {
                            Some(spec) => {
                                let n = st.next_client.to_be_bytes();
                                let mut key = [7u8; 16];
                                key[..8].copy_from_slice(&n);
                                let (mut part, stored) =
                                    assets::seal_upload(&spec, key, [9; 12])
                                        .map_err(|e| err(500, "internal", e.to_string()))?;
                                part.url =
                                    format!("https://{}/assets/{}", self.domain, st.next_client);
                                st.assets.insert(part.url.clone(), stored);
                                Some(assets::uploaded_intent(intent, &spec, &part))
                            }
                            None => None,
                        };
                        let intent = uploaded.as_ref().unwrap_or(intent);
                        let mut salt = [0u8; 16];
                        salt[..8].copy_from_slice(&st.next_client.to_be_bytes());
                        let ctx = content::BuildContext {
                            sender_uri: req.actor.clone(),
                            room_uri: req.room.clone(),
                            timestamp_ms: 1_700_000_000_000,
                            salt,
                        };
                        content::build(intent, &ctx)
                            .map_err(|e| err(400, "bad_request", e.to_string()))?
                    }
                };
                let Some(r) = st.rooms.get(&req.room) else {
                    return Err(err(404, "not_found", "no such room"));
                };
                if r.participants
                    .get(&req.actor)
                    .is_none_or(|role| role == "banned")
                {
                    return Err(err(403, "refused", "not a participant"));
                }
                // A built delete of another user's message needs a role with
                // canDeleteOtherMessage (moderator, admin); raw bytes go out.
                if matches!(req.content, SendContent::Intent(_))
                    && let Ok(d) = content::decode(&bytes)
                    && let (Some(target), content::PartBody::Null) =
                        (d.content.replaces, &d.content.nested_part.body)
                    && let Some((_, owner, _)) = st
                        .timeline
                        .get(&req.room)
                        .and_then(|t| t.iter().find(|(id, ..)| *id == target.to_hex()))
                    && *owner != req.actor
                    && !moderates(r, &req.actor)
                {
                    return Err(err(403, "refused", "lacks canDeleteOtherMessage"));
                }
                let sender = match (&req.client, st.users.get(&req.actor)) {
                    (Some(c), _) => c.clone(),
                    (None, Some(u)) => u.clients[0].clone(),
                    (None, None) => return Err(err(404, "not_found", "no such user")),
                };
                let mut id = message_id(&req.actor, &req.room, &bytes);
                if self.quirks.wrong_message_id {
                    id = message_id(&req.actor, "mimi://elsewhere/r/x", &bytes);
                }
                let content = B64.encode(&bytes);
                let deliveries: Vec<(String, String)> = r
                    .participants
                    .iter()
                    .filter(|(_, role)| *role != "banned")
                    .flat_map(|(u, _)| {
                        st.users
                            .get(u)
                            .map(|rec| rec.clients.clone())
                            .unwrap_or_default()
                            .into_iter()
                            .map(move |c| (u.clone(), c))
                    })
                    .filter(|(_, c)| *c != sender)
                    // QUIRK no_mimi: nothing crosses to another domain.
                    .filter(|(u, _)| !self.quirks.no_mimi || domain_of(u) == self.domain)
                    .collect();
                let n = {
                    let key = (self.domain.clone(), req.room.clone());
                    let count = st.sends.entry(key).or_insert(0);
                    *count += 1;
                    *count
                };
                st.send_log.push(req.actor.clone());
                // What receivers keep (content-08 §8.1, protocol-06 §5.4.1):
                // valid content, from the user and room its URIs name, not
                // expiring beyond a year, with an ID not seen before.
                if let Ok(d) = content::decode(&bytes)
                    && d.content
                        .extensions
                        .sender_uri()
                        .is_none_or(|u| u == req.actor)
                    && d.content
                        .extensions
                        .room_uri()
                        .is_none_or(|r| r == req.room)
                    && content::MessageId::from_hex(&id).is_some_and(|mid| {
                        let cx = content::ReceiveContext {
                            now_ms: now_ms(),
                            message_id: mid,
                            seen: &Default::default(),
                        };
                        content::receive_checks(&d.content, &cx).is_ok()
                    })
                {
                    let kept = st.timeline.entry(req.room.clone()).or_default();
                    if !kept.iter().any(|(k, ..)| *k == id) {
                        kept.push((id.clone(), req.actor.clone(), d.content));
                    }
                }
                let q = &self.quirks;
                let wire_format = if q.public_wire_format {
                    "public"
                } else {
                    "private"
                };
                let kind = EventKind::Message {
                    sender,
                    content: content.clone(),
                    // Set when delivered (below).
                    accepted_timestamp: None,
                    wire_format: wire_format.into(),
                };
                let room = req.room.clone();
                let copies = if q.drop_send == Some(n) {
                    0
                } else if q.duplicate_delivery || q.duplicate_send == Some(n) {
                    2
                } else {
                    1
                };
                let hold = q.swap_send == Some(n);
                let release = n > 1 && q.swap_send == Some(n - 1);
                let deliver = move |st: &mut WorldState| {
                    let mut out: Vec<Delivery> = Vec::new();
                    for _ in 0..copies {
                        for (u, c) in &deliveries {
                            out.push((u.clone(), c.clone(), room.clone(), kind.clone()));
                        }
                    }
                    if hold {
                        st.held = out;
                        return;
                    }
                    if release {
                        out.append(&mut st.held);
                    }
                    // Stamped as delivered: this fake's hub order is its
                    // delivery order (the harness checks timestamps never
                    // go back), also when a quirk holds a message back.
                    let now = now_ms();
                    for (u, c, r, mut k) in out {
                        if let EventKind::Message {
                            accepted_timestamp, ..
                        } = &mut k
                        {
                            *accepted_timestamp = Some(now);
                        }
                        st.push(&u, &c, &r, k);
                    }
                };
                match self.quirks.delivery_delay {
                    None => deliver(&mut st),
                    Some(delay) => {
                        let world = self.world.clone();
                        tokio::spawn(async move {
                            tokio::time::sleep(delay).await;
                            deliver(&mut world.state.lock().unwrap());
                            world.notify.notify_waiters();
                        });
                    }
                }
                Ok(json!(SendResponse {
                    message_id: id,
                    content
                }))
            }
            "room_state" => {
                let req: RoomStateRequest = parse(body)?;
                let Some(r) = st.rooms.get(&req.room) else {
                    return Err(err(404, "not_found", "no such room"));
                };
                if !r.participants.contains_key(&req.user) {
                    return Err(err(404, "not_found", "not in the room"));
                }
                // Stands in for the MLS epoch authenticator: the same for
                // every client in the same epoch (not per room, so that
                // snapshots stay stable).
                let mut auth = Sha256::new();
                auth.update(r.epoch.to_be_bytes());
                if self.quirks.wrong_authenticator {
                    auth.update(b"forked");
                }
                let epoch_authenticator = hex::encode(auth.finalize());
                let mut members: Vec<String> = r
                    .participants
                    .iter()
                    .filter(|(_, role)| *role != "banned")
                    .flat_map(|(u, _)| {
                        st.users
                            .get(u)
                            .map(|x| x.clients.clone())
                            .unwrap_or_default()
                    })
                    .collect();
                members.sort();
                let participants: Vec<Participant> = r
                    .participants
                    .iter()
                    .map(|(u, role)| Participant {
                        user: u.clone(),
                        role: role.clone(),
                    })
                    .collect();
                let clients = st.users[&req.user]
                    .clients
                    .iter()
                    .map(|c| ClientRoomState {
                        client: c.clone(),
                        epoch: r.epoch,
                        epoch_authenticator: epoch_authenticator.clone(),
                        participants: participants.clone(),
                        members: members.clone(),
                        metadata: r.metadata.clone(),
                    })
                    .collect();
                Ok(json!(RoomStateResponse { clients }))
            }
            "profile" => {
                let req: ProfileRequest = parse(body)?;
                if !st.users.contains_key(&req.user) {
                    return Err(err(404, "not_found", "no such user"));
                }
                let Some(t) = st.users.get(&req.target) else {
                    return Err(err(404, "not_found", "no such target"));
                };
                Ok(json!(ProfileResponse {
                    user: req.target.clone(),
                    display_name: t.display_name.clone(),
                    avatar: t.avatar.clone(),
                }))
            }
            "download" => {
                let req: DownloadRequest = parse(body)?;
                let part = st
                    .timeline
                    .get(&req.room)
                    .and_then(|t| t.iter().find(|(id, ..)| *id == req.message_id))
                    .and_then(|(_, _, c)| assets::first_external(&c.nested_part.body).cloned())
                    .ok_or_else(|| err(404, "not_found", "no such attachment"))?;
                let stored = st
                    .assets
                    .get(&part.url)
                    .ok_or_else(|| err(502, "peer_error", "asset not stored"))?;
                let plain = assets::open_fetched(&part, stored)
                    .map_err(|e| err(502, "peer_error", e.to_string()))?;
                Ok(json!(DownloadResponse {
                    content_type: part.content_type.clone(),
                    size: plain.len() as u64,
                    data: B64.encode(plain),
                }))
            }
            "timeline" => {
                let req: TimelineRequest = parse(body)?;
                let Some(r) = st.rooms.get(&req.room) else {
                    return Err(err(404, "not_found", "no such room"));
                };
                if !r.participants.contains_key(&req.user) {
                    return Err(err(404, "not_found", "not in the room"));
                }
                let sent = st.timeline.get(&req.room).cloned().unwrap_or_default();
                let moderators: BTreeSet<&str> = r
                    .participants
                    .keys()
                    .filter(|u| moderates(r, u))
                    .map(String::as_str)
                    .collect();
                let mut messages = timeline_view(&sent, &moderators, self.quirks.raw_timeline);
                if !self.quirks.raw_timeline {
                    add_statuses(&mut messages, &sent, &req.user, r.status);
                }
                // A relative expiry runs from the first time it is shown.
                let now = now_ms();
                messages.retain(|m| {
                    let Some(secs) = m.body["expires"]["relative"].as_u64() else {
                        return true;
                    };
                    let read = *st
                        .read_at
                        .entry((req.user.clone(), m.message_id.clone()))
                        .or_insert(now);
                    now < read + secs * 1000
                });
                let clients = st.users[&req.user]
                    .clients
                    .iter()
                    .map(|c| ClientTimeline {
                        client: c.clone(),
                        messages: messages.clone(),
                    })
                    .collect();
                Ok(json!(TimelineResponse { clients }))
            }
            _ => Err(err(404, "not_found", format!("no operation {op}"))),
        };
        drop(st);
        self.world.notify.notify_waiters();
        answer
    }
}

/// Whether `user`'s role in the room has canDeleteOtherMessage.
fn moderates(r: &RoomRec, user: &str) -> bool {
    r.participants
        .get(user)
        .is_some_and(|role| role == "admin" || role == "moderator")
}

/// A status report: a single `application/mimi-message-status` part.
fn is_report(c: &content::MimiContent) -> bool {
    matches!(&c.nested_part.body, content::PartBody::Single { content_type, .. }
        if content_type == "application/mimi-message-status")
}

/// Each shown message's status map: reporting user → latest status, in
/// send order; `me`'s reports and statuses the room forbids left out.
fn add_statuses(
    messages: &mut [TimelineMessage],
    sent: &[(String, String, content::MimiContent)],
    me: &str,
    policy: Option<StatusPolicy>,
) {
    let forbidden = |status: &str| {
        policy.is_some_and(|p| match status {
            "delivered" => p.delivery_notifications == Optionality::Forbidden,
            "read" | "unread" => p.read_receipts == Optionality::Forbidden,
            _ => false,
        })
    };
    for (_, reporter, c) in sent {
        if reporter == me || !is_report(c) {
            continue;
        }
        let readable = content::to_readable(c);
        for e in readable["status_report"].as_array().into_iter().flatten() {
            let (Some(id), Some(status)) = (e["id"].as_str(), e.get("status")) else {
                continue;
            };
            if status.as_str().is_some_and(forbidden) {
                continue;
            }
            if let Some(m) = messages.iter_mut().find(|m| m.message_id == id) {
                m.status.insert(reporter.clone(), status.clone());
            }
        }
    }
}

/// A minimal timeline: the sender's latest replacement (edit, or delete as
/// a null part) applies, and a delete of a non-reaction by one of
/// `moderators`; reactions (disposition 2 with inReplyTo; each part of a
/// MultiPart) count one per user; with `raw`, every message shows as it was sent.
fn timeline_view(
    sent: &[(String, String, content::MimiContent)],
    moderators: &BTreeSet<&str>,
    raw: bool,
) -> Vec<TimelineMessage> {
    let is_reaction =
        |c: &content::MimiContent| c.nested_part.disposition == content::Disposition::REACTION;
    // A replacement of a replacement replaces the first version (§5.5).
    let root = |mut id: String| {
        for _ in 0..sent.len() {
            match sent
                .iter()
                .find(|(k, ..)| *k == id)
                .and_then(|(_, _, c)| c.replaces)
            {
                Some(prev) => id = prev.to_hex(),
                None => break,
            }
        }
        id
    };
    let current = |id: &str, sender: &str, c: &content::MimiContent| {
        let mut c = c.clone();
        let mut edited = false;
        for (_, s, r) in sent {
            let moderated = moderators.contains(s.as_str())
                && r.nested_part.body == content::PartBody::Null
                && !is_reaction(&c);
            if !raw
                && (s == sender || moderated)
                && r.replaces.map(|m| root(m.to_hex())).as_deref() == Some(id)
            {
                c.nested_part = r.nested_part.clone();
                edited = true;
            }
        }
        (c, edited)
    };
    let mut out = Vec::new();
    for (id, sender, c) in sent {
        if !raw && (c.replaces.is_some() || is_reaction(c) || is_report(c)) {
            continue;
        }
        let (c, edited) = current(id, sender, c);
        if c.nested_part.body == content::PartBody::Null && !raw {
            continue;
        }
        // Past an absolute expiry (§4.1); relative ones run from reading.
        if c.expires
            .is_some_and(|e| !e.relative && u64::from(e.time) * 1000 <= now_ms())
        {
            continue;
        }
        let mut reactions: BTreeMap<String, std::collections::BTreeSet<&str>> = BTreeMap::new();
        for (rid, rs, r) in sent {
            if raw
                || r.replaces.is_some()
                || !is_reaction(r)
                || r.in_reply_to.map(|m| m.to_hex()).as_deref() != Some(id)
            {
                continue;
            }
            let (r, _) = current(rid, rs, r);
            let parts = match &r.nested_part.body {
                content::PartBody::Multi { parts, .. } => parts.iter().map(|p| &p.body).collect(),
                body => vec![body],
            };
            for body in parts {
                if let content::PartBody::Single { content, .. } = body {
                    reactions
                        .entry(String::from_utf8_lossy(content).into_owned())
                        .or_default()
                        .insert(rs);
                }
            }
        }
        out.push(TimelineMessage {
            message_id: id.clone(),
            sender: sender.clone(),
            body: content::to_readable(&c),
            edited,
            reply_to: c.in_reply_to.map(|m| m.to_hex()),
            reactions: reactions
                .into_iter()
                .map(|(k, v)| (k, v.len() as u32))
                .collect(),
            topic: (!c.topic_id.is_empty())
                .then(|| String::from_utf8_lossy(&c.topic_id).into_owned()),
            accepted_timestamp: None,
            status: Default::default(),
        });
    }
    out
}

/// Milliseconds since the epoch: the harness holds accepted timestamps to
/// its clock.
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
