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
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

mod abuse_ops;
mod assets;
mod consent_ops;
mod forge;
mod no_mechanism;
mod ops;
mod policy_ops;
mod receipts;
mod timeline;
use abuse_ops::*;
use assets::download;
use consent_ops::*;
use ops::*;
use policy_ops::*;

/// KeyPackages each client publishes up front (each is single-use): one
/// per try of a membership change (`policy_ops::room_change_as` tries up to
/// 3 times when it loses an epoch race, claiming anew each time), so a user
/// added while another change lands still has one left for the winning try.
const KEY_PACKAGES_PER_CLIENT: usize = 3;
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
    /// The clients' inbox tasks, stopped when the user is released.
    tasks: Mutex<Vec<tokio::task::AbortHandle>>,
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

    /// What `f` answers for each of the user's clients, in order, each
    /// caught up with its inbox first (its events recorded).
    async fn per_client<T>(&self, mut f: impl FnMut(&mut Client) -> Option<T>) -> Vec<T> {
        let clients = self.clients.lock().await.clone();
        let mut out = Vec::with_capacity(clients.len());
        for c in clients {
            let mut g = c.lock().await;
            self.push(g.sync());
            out.extend(f(&mut g));
        }
        out
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
        let p = Arc::new(Self {
            domain: server.domain().to_owned(),
            mimi_url,
            ca_pem,
            ep: LocalEndpoint::new(server.clone()),
            server,
            users: Mutex::new(HashMap::new()),
            tasks: Mutex::new(tokio::task::JoinSet::new()),
            shutdown,
        });
        let weak = Arc::downgrade(&p);
        p.server.set_consent_listener(Arc::new(move |n| {
            if let Some(p) = weak.upgrade() {
                p.consent_notice(n);
            }
        }));
        p
    }

    fn user(&self, uri: &str) -> Result<Arc<User>, ControlError> {
        super::server::lock(&self.users)
            .get(uri)
            .cloned()
            .ok_or_else(|| ControlError::not_found(format!("no local user {uri}")))
    }

    /// The provider's whole state as text: the server side, then each
    /// user's event log and devices. Equal dumps before and after a failed
    /// operation show it changed nothing.
    pub(crate) async fn dump(&self) -> String {
        let mut users: Vec<Arc<User>> =
            super::server::lock(&self.users).values().cloned().collect();
        users.sort_by(|a, b| a.uri.cmp(&b.uri));
        let mut out = self.server.state_summary();
        for u in users {
            let log = super::server::lock(&u.log).len();
            out.push_str(&format!("user {} events {log}\n", u.uri));
            for c in u.clients.lock().await.iter() {
                out.push_str(&c.lock().await.dump());
            }
        }
        out
    }

    /// Starts the task that processes a client's inbox as it grows.
    fn spawn_client_task(&self, user: Arc<User>, client: ClientRef, uri: &str) {
        let Some(mut rx) = self.ep.inbox_watch(uri) else {
            return;
        };
        let mut shutdown = self.shutdown.clone();
        let owner = user.clone();
        let task = super::server::lock(&self.tasks).spawn(async move {
            loop {
                {
                    let mut c = client.lock().await;
                    user.push(c.sync());
                    let events = c.commit_pending_if_due().await;
                    user.push(events);
                    // Delivery notifications the room's policy requires.
                    c.send_due_reports().await;
                }
                tokio::select! {
                    r = rx.changed() => if r.is_err() { return },
                    _ = shutdown.changed() => return,
                }
            }
        });
        super::server::lock(&owner.tasks).push(task);
    }

    /// Forgets a finished case's users (their devices, MLS state and events)
    /// and what this provider holds of its rooms. Only what the users'
    /// clients and the server side keep; users of other providers and
    /// unknown names are ignored.
    fn release(&self, req: &ReleaseRequest) {
        let gone: Vec<Arc<User>> = {
            let mut users = super::server::lock(&self.users);
            req.users.iter().filter_map(|u| users.remove(u)).collect()
        };
        for user in &gone {
            for task in super::server::lock(&user.tasks).drain(..) {
                task.abort();
            }
        }
        self.server.release(&req.users, &req.rooms);
        // Reap the tasks that ended (released or failed) so the set does
        // not grow with the run.
        let mut tasks = super::server::lock(&self.tasks);
        while tasks.try_join_next().is_some() {}
    }

    fn new_client(&self, user: &User, index: usize) -> Result<Client, ControlError> {
        let uri = ids::client_uri(&self.domain, &ids::client_name(&user.name, index));
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
                let mut g = c.lock().await;
                if g.uri == want {
                    user.push(g.sync());
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
        ClientError::UnknownUser(_) => ControlError::not_found(m),
        ClientError::Conflict(_) => ControlError::conflict(m),
        ClientError::Server(e) => mimi_error(e),
        ClientError::Mls(_) => ControlError::internal(m),
        ClientError::Policy(r) if r.is_conflict() => ControlError::conflict(m),
        ClientError::Policy(_) => ControlError::refused(m),
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
    let router = Router::new()
        .route("/v1/info", get(info))
        .route("/v1/reset", post(reset))
        .route("/v1/peers", post(peers))
        .route("/v1/release", post(release))
        .route("/v1/create_user", post(create_user))
        .route("/v1/add_client", post(add_client))
        .route("/v1/remove_client", post(remove_client))
        .route("/v1/create_room", post(create_room))
        .route("/v1/add_participant", post(add_participant))
        .route("/v1/remove_participant", post(remove_participant))
        .route("/v1/leave", post(leave))
        .route("/v1/ban", post(ban))
        .route("/v1/unban", post(unban))
        .route("/v1/set_role", post(set_role))
        .route("/v1/set_room_metadata", post(set_room_metadata))
        .route("/v1/send", post(send))
        .route("/v1/mark_read", post(receipts::mark_read))
        .route("/v1/events", post(events))
        .route("/v1/room_state", post(room_state))
        .route("/v1/timeline", post(timeline::timeline))
        .route("/v1/profile", post(profile))
        .route("/v1/download", post(download))
        .route("/v1/request_consent", post(request_consent))
        .route("/v1/cancel_consent", post(cancel_consent))
        .route("/v1/grant_consent", post(grant_consent))
        .route("/v1/revoke_consent", post(revoke_consent))
        .route("/v1/report_abuse", post(report_abuse))
        .route("/v1/abuse_reports", post(abuse_reports))
        .route("/v1/message_franks", post(message_franks))
        .route("/v1/forge", post(forge::forge));
    no_mechanism::routes(router)
        .fallback(|| async { ControlError::not_found("no such control operation") })
        .layer(DefaultBodyLimit::max(crate::protocol::MAX_BODY))
        .layer(axum::middleware::map_response(error_body))
        .with_state(p)
}

/// Gives the answers axum makes itself (413 over the body limit, 405 for a
/// wrong method, any other non-2xx without one) the documented error body.
async fn error_body(resp: Response) -> Response {
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if status.is_success() || is_json {
        return resp;
    }
    let (code, message) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => (
            "too_large",
            format!(
                "the request body is larger than {} bytes",
                crate::protocol::MAX_BODY
            ),
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "control operations are POST (info is GET)".to_owned(),
        ),
        StatusCode::BAD_REQUEST => ("bad_request", "malformed request".to_owned()),
        StatusCode::NOT_FOUND => ("not_found", "not found".to_owned()),
        s if s.is_server_error() => ("internal", format!("HTTP {s}")),
        s => ("error", format!("HTTP {s}")),
    };
    ControlError::new(status, code, message).into_response()
}

/// Feature ids (suite `feature:` values) the reference provider implements.
pub const FEATURES: &[&str] = &[
    "direct-messages",
    "edits",
    "encryption",
    "media",
    "membership",
    "profiles",
    "reactions",
    "read-receipts",
    "redaction",
    "reliable-sync",
    "replies",
    "roles",
    "room-metadata",
    "text",
    "threads",
    "voice-messages",
    "voip-1to1",
    "voip-multiparty",
    "consent",
    "abuse-reports",
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

async fn release(State(p): P, body: Bytes) -> Res<Empty> {
    let req: ReleaseRequest = parse(&body)?;
    p.release(&req);
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
