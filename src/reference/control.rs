//! Control API v1 (server side) of the reference provider: the test-control
//! surface the harness drives. It plays the users' devices (the `client`
//! module) and reads their provider only through `LocalEndpoint`.

use super::client::{Client, ClientError, ClientEvent};
use super::ids;
use super::server::{LocalEndpoint, MimiError, Server, peer::PeerEntry};
use crate::control::api::*;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde::de::DeserializeOwned;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// KeyPackages each client publishes up front (each is single-use).
const KEY_PACKAGES_PER_CLIENT: usize = 8;
const MAX_CLIENTS_PER_USER: u32 = 16;
/// Longest long-poll the control API honours.
const MAX_WAIT: Duration = Duration::from_secs(60);

type ClientRef = Arc<tokio::sync::Mutex<Client>>;

pub(crate) struct User {
    uri: String,
    name: String,
    clients: tokio::sync::Mutex<Vec<ClientRef>>,
    log: Mutex<Vec<Event>>,
    seq: watch::Sender<u64>,
}

impl User {
    fn push(&self, events: Vec<ClientEvent>) {
        if events.is_empty() {
            return;
        }
        let mut log = super::server::lock(&self.log);
        let mut seq = *self.seq.borrow();
        for e in events {
            seq += 1;
            log.push(Event {
                seq,
                client: e.client,
                room: e.room,
                kind: e.kind,
            });
        }
        self.seq.send_replace(seq);
    }
}

/// One provider's control state.
pub(crate) struct Provider {
    pub domain: String,
    pub mimi_url: String,
    pub ca_pem: String,
    pub server: Arc<Server>,
    ep: LocalEndpoint,
    users: Mutex<HashMap<String, Arc<User>>>,
    tasks: Mutex<tokio::task::JoinSet<()>>,
    shutdown: watch::Receiver<bool>,
}

impl Provider {
    pub fn new(
        server: Arc<Server>,
        mimi_url: String,
        ca_pem: String,
        shutdown: watch::Receiver<bool>,
    ) -> Arc<Self> {
        Arc::new(Self {
            domain: server.domain().to_owned(),
            mimi_url,
            ca_pem,
            ep: LocalEndpoint::new(server.clone()),
            server,
            users: Mutex::new(HashMap::new()),
            tasks: Mutex::new(tokio::task::JoinSet::new()),
            shutdown,
        })
    }

    fn user(&self, uri: &str) -> Result<Arc<User>, ControlError> {
        super::server::lock(&self.users)
            .get(uri)
            .cloned()
            .ok_or_else(|| ControlError::not_found(format!("no local user {uri}")))
    }

    /// Starts the task that processes a client's inbox as it grows.
    fn spawn_client_task(&self, user: Arc<User>, client: ClientRef, uri: &str) {
        let Some(mut rx) = self.ep.inbox_watch(uri) else {
            return;
        };
        let mut shutdown = self.shutdown.clone();
        super::server::lock(&self.tasks).spawn(async move {
            loop {
                {
                    let mut c = client.lock().await;
                    user.push(c.sync());
                    let events = c.commit_pending_if_due().await;
                    user.push(events);
                }
                tokio::select! {
                    r = rx.changed() => if r.is_err() { return },
                    _ = shutdown.changed() => return,
                }
            }
        });
    }

    fn new_client(&self, user: &User, index: usize) -> Result<Client, ControlError> {
        let uri = ids::client_uri(&self.domain, &format!("{}.{index}", user.name));
        Client::new(self.ep.clone(), &user.uri, &uri, KEY_PACKAGES_PER_CLIENT).map_err(client_error)
    }

    /// The user's client that acts in `room`: `client` if given, else the
    /// first one that is a member.
    async fn acting_client(
        &self,
        user: &User,
        room: &str,
        client: Option<&str>,
    ) -> Result<ClientRef, ControlError> {
        let clients = user.clients.lock().await.clone();
        if let Some(want) = client {
            for c in &clients {
                let g = c.lock().await;
                if g.uri == want {
                    if !g.is_member(room) {
                        return Err(ControlError::refused(format!("{want} is not in {room}")));
                    }
                    return Ok(c.clone());
                }
            }
            return Err(ControlError::not_found(format!(
                "{want} is not a client of {}",
                user.uri
            )));
        }
        for c in &clients {
            let mut g = c.lock().await;
            user.push(g.sync());
            if g.is_member(room) {
                return Ok(c.clone());
            }
        }
        Err(ControlError::refused(format!(
            "{} is not in {room}",
            user.uri
        )))
    }
}

/// An error answer of the control API.
#[derive(Debug)]
pub struct ControlError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ControlError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
    fn bad(m: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", m)
    }
    fn not_found(m: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", m)
    }
    fn refused(m: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "refused", m)
    }
    fn conflict(m: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", m)
    }
    fn unsupported(m: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_IMPLEMENTED, "unsupported", m)
    }
    fn internal(m: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", m)
    }
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        (
            self.status,
            axum::Json(ErrorBody {
                error: ErrorDetail {
                    code: self.code.into(),
                    message: self.message,
                },
            }),
        )
            .into_response()
    }
}

fn mimi_error(e: MimiError) -> ControlError {
    let m = e.to_string();
    match e {
        MimiError::BadRequest(_) => ControlError::bad(m),
        MimiError::Forbidden(_) => ControlError::refused(m),
        MimiError::NotFound(_) => ControlError::not_found(m),
        MimiError::Conflict(_) => ControlError::conflict(m),
        MimiError::Peer { .. } => ControlError::new(StatusCode::BAD_GATEWAY, "peer_error", m),
        MimiError::Internal(_) => ControlError::internal(m),
    }
}

fn client_error(e: ClientError) -> ControlError {
    let m = e.to_string();
    match e {
        ClientError::NotMember { .. } | ClientError::Refused(_) => ControlError::refused(m),
        ClientError::Conflict(_) => ControlError::conflict(m),
        ClientError::Server(e) => mimi_error(e),
        ClientError::Mls(_) => ControlError::internal(m),
    }
}

type Res<T> = Result<axum::Json<T>, ControlError>;
type P = State<Arc<Provider>>;

fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, ControlError> {
    serde_json::from_slice(body)
        .map_err(|e| ControlError::bad(format!("invalid request body: {e}")))
}

/// The control API router.
pub(crate) fn app(p: Arc<Provider>) -> Router {
    Router::new()
        .route("/v1/info", get(info))
        .route("/v1/reset", post(reset))
        .route("/v1/peers", post(peers))
        .route("/v1/create_user", post(create_user))
        .route("/v1/add_client", post(add_client))
        .route("/v1/create_room", post(create_room))
        .route("/v1/add_participant", post(add_participant))
        .route("/v1/remove_participant", post(remove_participant))
        .route("/v1/leave", post(leave))
        .route("/v1/ban", post(not_yet))
        .route("/v1/unban", post(not_yet))
        .route("/v1/set_role", post(not_yet))
        .route("/v1/set_room_metadata", post(not_yet))
        .route("/v1/send", post(send))
        .route("/v1/events", post(events))
        .route("/v1/room_state", post(room_state))
        .fallback(|| async { ControlError::not_found("no such control operation") })
        .layer(DefaultBodyLimit::max(super::wire::MAX_BODY))
        .with_state(p)
}

/// Feature ids (suite `feature:` values) the reference provider implements.
pub const FEATURES: &[&str] = &[
    "room.create",
    "membership.add",
    "membership.remove",
    "membership.leave",
    "messaging.send",
    "devices.add_client",
];

async fn info(State(p): P) -> Res<InfoResponse> {
    Ok(axum::Json(InfoResponse {
        control_api: "1".into(),
        implementation: "mimi-interop reference provider".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        domain: p.domain.clone(),
        mimi_url: p.mimi_url.clone(),
        ca_pem: p.ca_pem.clone(),
        drafts: [
            ("draft-ietf-mimi-protocol".to_owned(), "06".to_owned()),
            ("draft-ietf-mimi-content".to_owned(), "08".to_owned()),
        ]
        .into(),
        features: FEATURES.iter().map(|s| s.to_string()).collect(),
    }))
}

async fn reset(State(p): P, body: Bytes) -> Res<Empty> {
    let _: Empty = parse(&body)?;
    super::server::lock(&p.tasks).abort_all();
    super::server::lock(&p.users).clear();
    p.server.reset();
    Ok(axum::Json(Empty {}))
}

async fn peers(State(p): P, body: Bytes) -> Res<Empty> {
    let req: PeersRequest = parse(&body)?;
    let mut entries = Vec::new();
    for peer in req.peers {
        if !ids::valid_domain(&peer.domain) {
            return Err(ControlError::bad(format!(
                "invalid domain {:?}",
                peer.domain
            )));
        }
        if reqwest::Url::parse(&peer.mimi_url)
            .map(|u| u.scheme() != "https")
            .unwrap_or(true)
        {
            return Err(ControlError::bad(format!(
                "invalid mimi_url {:?}",
                peer.mimi_url
            )));
        }
        entries.push(PeerEntry {
            domain: peer.domain,
            mimi_url: peer.mimi_url,
            ca_pem: peer.ca_pem,
        });
    }
    p.server
        .peers
        .set(entries)
        .map_err(|e| ControlError::bad(e.to_string()))?;
    Ok(axum::Json(Empty {}))
}

async fn create_user(State(p): P, body: Bytes) -> Res<CreateUserResponse> {
    let req: CreateUserRequest = parse(&body)?;
    if !ids::valid_name(&req.name) {
        return Err(ControlError::bad(format!(
            "invalid user name {:?}",
            req.name
        )));
    }
    if req.clients == 0 || req.clients > MAX_CLIENTS_PER_USER {
        return Err(ControlError::bad(format!(
            "clients must be 1..={MAX_CLIENTS_PER_USER}"
        )));
    }
    let uri = ids::user_uri(&p.domain, &req.name);
    let user = {
        let mut users = super::server::lock(&p.users);
        if users.contains_key(&uri) {
            return Err(ControlError::conflict(format!("user {uri} exists")));
        }
        let user = Arc::new(User {
            uri: uri.clone(),
            name: req.name.clone(),
            clients: tokio::sync::Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
            seq: watch::channel(0).0,
        });
        users.insert(uri.clone(), user.clone());
        user
    };
    let mut clients = user.clients.lock().await;
    let mut uris = Vec::new();
    for i in 1..=req.clients as usize {
        let c = p.new_client(&user, i)?;
        let curi = c.uri.clone();
        let c = Arc::new(tokio::sync::Mutex::new(c));
        p.spawn_client_task(user.clone(), c.clone(), &curi);
        clients.push(c);
        uris.push(curi);
    }
    Ok(axum::Json(CreateUserResponse {
        user: uri,
        clients: uris,
    }))
}

async fn add_client(State(p): P, body: Bytes) -> Res<AddClientResponse> {
    let req: AddClientRequest = parse(&body)?;
    let user = p.user(&req.user)?;
    let mut clients = user.clients.lock().await;
    if clients.len() as u32 >= MAX_CLIENTS_PER_USER {
        return Err(ControlError::conflict("too many clients"));
    }
    let mut rooms = BTreeSet::new();
    for c in clients.iter() {
        let mut g = c.lock().await;
        user.push(g.sync());
        rooms.extend(g.rooms());
    }
    let mut c = p.new_client(&user, clients.len() + 1)?;
    let uri = c.uri.clone();
    for room in rooms {
        let events = c.join_external(&room).await.map_err(client_error)?;
        user.push(events);
    }
    let c = Arc::new(tokio::sync::Mutex::new(c));
    p.spawn_client_task(user.clone(), c.clone(), &uri);
    clients.push(c);
    Ok(axum::Json(AddClientResponse { client: uri }))
}

async fn create_room(State(p): P, body: Bytes) -> Res<CreateRoomResponse> {
    let req: CreateRoomRequest = parse(&body)?;
    if req.kind == RoomKind::Dm {
        return Err(ControlError::unsupported(
            "the reference provider does not implement dm rooms yet",
        ));
    }
    if !ids::valid_name(&req.name) {
        return Err(ControlError::bad(format!(
            "invalid room name {:?}",
            req.name
        )));
    }
    let user = p.user(&req.actor)?;
    let room = ids::room_uri(&p.domain, &req.name);
    let clients = user.clients.lock().await.clone();
    let Some(first) = clients.first() else {
        return Err(ControlError::internal("user without clients"));
    };
    {
        let mut c = first.lock().await;
        let events = c.create_room(&room).map_err(client_error)?;
        user.push(events);
        if clients.len() > 1 {
            // The creator's other devices join in the same way as anyone else's.
            let events = c.add_user(&room, &user.uri).await.map_err(client_error)?;
            user.push(events);
        }
    }
    Ok(axum::Json(CreateRoomResponse { room }))
}

async fn membership(p: &Provider, body: &Bytes, add: bool) -> Res<RoomChangeResponse> {
    let req: MembershipRequest = parse(body)?;
    if ids::domain_of(&req.user, 'u').is_none() {
        return Err(ControlError::bad(format!("not a user URI: {}", req.user)));
    }
    if ids::domain_of(&req.room, 'r').is_none() {
        return Err(ControlError::bad(format!("not a room URI: {}", req.room)));
    }
    if !add && req.user == req.actor {
        return Err(ControlError::bad("use leave to remove yourself"));
    }
    let actor = p.user(&req.actor)?;
    let c = p.acting_client(&actor, &req.room, None).await?;
    let mut c = c.lock().await;
    actor.push(c.sync());
    let present = c
        .room_state(&req.room)
        .is_some_and(|s| s.participants.iter().any(|x| x.user == req.user));
    if add && present {
        return Err(ControlError::conflict(format!(
            "{} is already in the room",
            req.user
        )));
    }
    if !add && !present {
        return Err(ControlError::conflict(format!(
            "{} is not in the room",
            req.user
        )));
    }
    let events = if add {
        c.add_user(&req.room, &req.user).await
    } else {
        c.remove_user(&req.room, &req.user).await
    }
    .map_err(client_error)?;
    actor.push(events);
    let epoch = c.room_state(&req.room).map(|s| s.epoch).unwrap_or(0);
    Ok(axum::Json(RoomChangeResponse { epoch }))
}

async fn add_participant(State(p): P, body: Bytes) -> Res<RoomChangeResponse> {
    membership(&p, &body, true).await
}

async fn remove_participant(State(p): P, body: Bytes) -> Res<RoomChangeResponse> {
    membership(&p, &body, false).await
}

/// How long `leave` waits for the commit that removes the leaver.
const LEAVE_WAIT: Duration = Duration::from_secs(10);

async fn leave(State(p): P, body: Bytes) -> Res<RoomChangeResponse> {
    let req: LeaveRequest = parse(&body)?;
    let actor = p.user(&req.actor)?;
    let c = p.acting_client(&actor, &req.room, None).await?;
    let start = *actor.seq.borrow();
    let (uri, epoch) = {
        let mut c = c.lock().await;
        actor.push(c.sync());
        c.leave(&req.room).await.map_err(client_error)?;
        let epoch = c.room_state(&req.room).map(|s| s.epoch).unwrap_or(0);
        (c.uri.clone(), epoch)
    };
    // The proposals are accepted; another member commits them. Wait for
    // the leaving client to see that commit, and report its epoch.
    let mut rx = actor.seq.subscribe();
    let deadline = tokio::time::Instant::now() + LEAVE_WAIT;
    loop {
        let removed = super::server::lock(&actor.log)
            .iter()
            .filter(|e| e.seq > start)
            .find_map(|e| match e.kind {
                EventKind::Removed { epoch } if e.client == uri && e.room == req.room => {
                    Some(epoch)
                }
                _ => None,
            });
        if let Some(epoch) = removed {
            return Ok(axum::Json(RoomChangeResponse { epoch }));
        }
        if !matches!(
            tokio::time::timeout_at(deadline, rx.changed()).await,
            Ok(Ok(()))
        ) {
            // Not committed yet: the hub holds the proposals for the next committer.
            return Ok(axum::Json(RoomChangeResponse { epoch }));
        }
    }
}

async fn not_yet(req: axum::extract::Request) -> ControlError {
    let op = req.uri().path().trim_start_matches("/v1/").to_owned();
    ControlError::unsupported(format!(
        "the reference provider does not implement {op} yet"
    ))
}

async fn send(State(p): P, body: Bytes) -> Res<SendResponse> {
    let req: SendRequest = parse(&body)?;
    let actor = p.user(&req.actor)?;
    let content = match &req.content {
        SendContent::Raw(b64) => base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| ControlError::bad(format!("content.raw is not base64: {e}")))?,
        SendContent::Intent(intent) => {
            let mut salt = [0u8; 16];
            rand::Rng::fill(&mut rand::rng(), &mut salt);
            let ctx = crate::content::BuildContext {
                sender_uri: actor.uri.clone(),
                room_uri: req.room.clone(),
                timestamp_ms: super::server::now_ms(),
                salt,
            };
            crate::content::build(intent, &ctx)
                .map_err(|e| ControlError::bad(format!("content.intent: {e}")))?
        }
    };
    let c = p
        .acting_client(&actor, &req.room, req.client.as_deref())
        .await?;
    let mut c = c.lock().await;
    actor.push(c.sync());
    let result = match c.send(&req.room, &content).await {
        // The hub moved on: catch up with what is already in the inbox, retry once.
        Err(ClientError::Conflict(_)) => {
            actor.push(c.sync());
            c.send(&req.room, &content).await
        }
        r => r,
    };
    result.map_err(client_error)?;
    // Raw bytes that are not MIMI content (no salt) have no message ID.
    let message_id = crate::content::message_id(
        crate::content::IdFormula::Draft08,
        &actor.uri,
        &req.room,
        &content,
    )
    .map(|id| id.to_hex())
    .unwrap_or_default();
    Ok(axum::Json(SendResponse {
        message_id,
        content: base64::engine::general_purpose::STANDARD.encode(&content),
    }))
}

async fn events(State(p): P, body: Bytes) -> Res<EventsResponse> {
    let req: EventsRequest = parse(&body)?;
    let user = p.user(&req.user)?;
    let mut rx = user.seq.subscribe();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(req.wait_ms).min(MAX_WAIT);
    loop {
        let found: Vec<Event> = super::server::lock(&user.log)
            .iter()
            .filter(|e| e.seq > req.cursor)
            .cloned()
            .collect();
        if let Some(last) = found.last() {
            let cursor = last.seq;
            return Ok(axum::Json(EventsResponse {
                events: found,
                cursor,
            }));
        }
        let wait = tokio::time::timeout_at(deadline, rx.changed()).await;
        if !matches!(wait, Ok(Ok(()))) {
            return Ok(axum::Json(EventsResponse {
                events: Vec::new(),
                cursor: req.cursor,
            }));
        }
    }
}

async fn room_state(State(p): P, body: Bytes) -> Res<RoomStateResponse> {
    let req: RoomStateRequest = parse(&body)?;
    let user = p.user(&req.user)?;
    let clients = user.clients.lock().await.clone();
    let mut out = Vec::new();
    let mut known = false;
    for c in clients {
        let mut g = c.lock().await;
        user.push(g.sync());
        known |= g.knows_room(&req.room);
        out.extend(g.room_state(&req.room));
    }
    if !known {
        return Err(ControlError::not_found(format!(
            "{} has never been in {}",
            req.user, req.room
        )));
    }
    Ok(axum::Json(RoomStateResponse { clients: out }))
}
