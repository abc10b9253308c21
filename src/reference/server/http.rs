//! The MIMI endpoints over HTTPS with mutual TLS (§4.1, §5).
//!
//! Every connection must present a certificate from a trusted CA; its DNS
//! SANs are the domains the peer may speak for. Each request must name its
//! source in `From: mimi@<domain>`, and that domain must be one of them.

use super::{MimiError, Server, bad, ids, pki_names};
use crate::protocol::{self, MAX_BODY};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt as _;

/// The domains a verified client certificate names.
#[derive(Debug, Clone)]
pub struct PeerNames(pub Vec<String>);

/// The authenticated source provider of a request.
#[derive(Debug, Clone)]
pub struct Source(pub String);

/// The MIMI router (without TLS), for one server.
pub fn app(server: Arc<Server>) -> Router {
    let v1 = Router::new()
        .route("/v1/keyMaterial/{*user}", post(key_material))
        .route("/v1/update/{*room}", post(update))
        .route("/v1/submitMessage/{*room}", post(submit_message))
        .route("/v1/notify/{*room}", post(notify))
        .route("/v1/groupInfo/{*room}", post(group_info))
        .route("/v1/requestConsent/{domain}", post(request_consent))
        .route("/v1/updateConsent/{domain}", post(update_consent))
        .route("/v1/identifierQuery/{domain}", post(identifier_query))
        .route("/v1/reportAbuse/{*room}", post(report_abuse))
        .route("/v1/proxyDownload/{*x}", get(proxy_download))
        .route("/v1/assets/{id}", get(asset))
        .layer(middleware::from_fn_with_state(server.clone(), authenticate));
    Router::new()
        .route("/.well-known/mimi-protocol-directory", get(directory))
        .merge(v1)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(server)
}

/// Checks `From: mimi@<domain>` against the certificate's names.
async fn authenticate(State(server): State<Arc<Server>>, mut req: Request, next: Next) -> Response {
    let names = req
        .extensions()
        .get::<PeerNames>()
        .cloned()
        .unwrap_or(PeerNames(Vec::new()));
    let from = req
        .headers()
        .get(header::FROM)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .and_then(|v| v.strip_prefix("mimi@"))
        .map(str::to_ascii_lowercase);
    let Some(domain) = from else {
        return error(&MimiError::Forbidden(
            "missing or malformed From: mimi@<domain>".into(),
        ));
    };
    // QUIRK from-unchecked: any authenticated peer may claim any domain.
    let checked = server.quirks.checks_from() || names.0.is_empty();
    if checked && !names.0.contains(&domain) {
        return error(&MimiError::Forbidden(format!(
            "certificate does not authenticate {domain}"
        )));
    }
    req.extensions_mut().insert(Source(domain));
    next.run(req).await
}

fn error(e: &MimiError) -> Response {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, e.to_string()).into_response()
}

fn tls_body(server: &Server, status: StatusCode, body: Vec<u8>) -> Response {
    server.hooks.record("in-answer", &body);
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        )],
        body,
    )
        .into_response()
}

/// Path subject → URI of the given kind: `a.example/r/club` or a
/// percent-encoded `mimi://a.example/r/club`.
fn subject(raw: &str, kind: char) -> Result<String, MimiError> {
    let uri = if raw.starts_with(ids::SCHEME) {
        raw.to_owned()
    } else {
        format!("{}{raw}", ids::SCHEME)
    };
    ids::parse(&uri)
        .filter(|p| p.kind == kind)
        .ok_or_else(|| bad(format!("not a MIMI {kind} URI: {uri}")))?;
    Ok(uri)
}

async fn directory(State(s): State<Arc<Server>>) -> Response {
    let base = format!("https://{}/v1", s.domain);
    axum::Json(serde_json::json!({
        "keyMaterial": format!("{base}/keyMaterial/{{targetUser}}"),
        "update": format!("{base}/update/{{roomId}}"),
        "notify": format!("{base}/notify/{{roomId}}"),
        "submitMessage": format!("{base}/submitMessage/{{roomId}}"),
        "groupInfo": format!("{base}/groupInfo/{{roomId}}"),
        "requestConsent": format!("{base}/requestConsent/{{targetDomain}}"),
        "updateConsent": format!("{base}/updateConsent/{{requesterDomain}}"),
        "identifierQuery": format!("{base}/identifierQuery/{{domain}}"),
        "reportAbuse": format!("{base}/reportAbuse/{{roomId}}"),
        "proxyDownload": format!("{base}/proxyDownload/{{downloadUrl}}"),
    }))
    .into_response()
}

fn asset_body(s: &Server, bytes: Vec<u8>) -> Response {
    s.hooks.record("in-answer asset", &bytes);
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        )],
        bytes,
    )
        .into_response()
}

/// A stored asset, to an authenticated peer (usually a room's hub relaying
/// a proxyDownload).
async fn asset(
    State(s): State<Arc<Server>>,
    Extension(src): Extension<Source>,
    Path(id): Path<String>,
) -> Response {
    s.hooks.record(format!("in asset {id} from {}", src.0), &[]);
    match s.asset(&id) {
        Ok(b) => asset_body(&s, b),
        Err(e) => error(&e),
    }
}

/// `GET /v1/proxyDownload/{downloadUrl}` (§5.10). The URL is read from the
/// raw request path, percent-encoded as the draft says or written raw.
async fn proxy_download(
    State(s): State<Arc<Server>>,
    Extension(src): Extension<Source>,
    uri: axum::http::Uri,
) -> Response {
    let rest = uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or_default()
        .strip_prefix("/v1/proxyDownload/")
        .unwrap_or_default()
        .to_owned();
    let result = async {
        let url = super::decode_download_url(&rest)?;
        s.proxy_download(&src.0, &url).await
    }
    .await;
    match result {
        Ok(b) => asset_body(&s, b),
        Err(e) => error(&e),
    }
}

async fn identifier_query(
    State(s): State<Arc<Server>>,
    Path(domain): Path<String>,
    uri: axum::http::Uri,
    body: Bytes,
) -> Response {
    s.hooks.record(format!("in {}", uri.path()), &body);
    let result = protocol::decode(&body)
        .map_err(bad)
        .and_then(|req| s.identifier_query(&domain, &req));
    match result {
        Ok(r) => tls_body(&s, StatusCode::OK, protocol::encode(&r)),
        Err(e) => error(&e),
    }
}

async fn request_consent(
    State(s): State<Arc<Server>>,
    Extension(src): Extension<Source>,
    Path(domain): Path<String>,
    uri: axum::http::Uri,
    body: Bytes,
) -> Response {
    consent(&s, &src.0, &domain, true, uri.path(), &body)
}

async fn update_consent(
    State(s): State<Arc<Server>>,
    Extension(src): Extension<Source>,
    Path(domain): Path<String>,
    uri: axum::http::Uri,
    body: Bytes,
) -> Response {
    consent(&s, &src.0, &domain, false, uri.path(), &body)
}

/// `/requestConsent` and `/updateConsent` (§5.7): 201 once recorded, no body.
fn consent(
    s: &Server,
    source: &str,
    domain: &str,
    request: bool,
    path: &str,
    body: &[u8],
) -> Response {
    s.hooks.record(format!("in {path}"), body);
    let result = protocol::decode(body)
        .map_err(bad)
        .and_then(|entry| s.receive_consent(source, domain, request, &entry));
    match result {
        Ok(()) => StatusCode::CREATED.into_response(),
        Err(e) => error(&e),
    }
}

/// `/reportAbuse` (§5.9): 201 with no body once the hub accepted the report.
async fn report_abuse(
    State(s): State<Arc<Server>>,
    Extension(src): Extension<Source>,
    Path(room): Path<String>,
    uri: axum::http::Uri,
    body: Bytes,
) -> Response {
    s.hooks.record(format!("in {}", uri.path()), &body);
    match subject(&room, 'r').and_then(|room| s.hub_report_abuse(&src.0, &room, &body)) {
        Ok(()) => StatusCode::CREATED.into_response(),
        Err(e) => error(&e),
    }
}

async fn key_material(
    State(s): State<Arc<Server>>,
    Extension(src): Extension<Source>,
    Path(user): Path<String>,
    uri: axum::http::Uri,
    body: Bytes,
) -> Response {
    s.hooks.record(format!("in {}", uri.path()), &body);
    let target = match subject(&user, 'u') {
        Ok(t) => t,
        Err(e) => return error(&e),
    };
    match s.key_material(&src.0, Some(&target), body.to_vec()).await {
        Ok(r) => tls_body(&s, StatusCode::OK, protocol::encode(&r)),
        Err(e) => error(&e),
    }
}

async fn update(
    State(s): State<Arc<Server>>,
    Extension(src): Extension<Source>,
    Path(room): Path<String>,
    uri: axum::http::Uri,
    body: Bytes,
) -> Response {
    s.hooks.record(format!("in {}", uri.path()), &body);
    let result = subject(&room, 'r').and_then(|room| {
        let bundle = protocol::decode(&body).map_err(bad)?;
        s.hub_update(&src.0, &room, bundle)
    });
    match result {
        Ok((r, deliveries)) => {
            // Answer once the new members' providers hold their Welcome.
            deliveries.wait(super::WELCOME_WAIT).await;
            tls_body(&s, StatusCode::OK, protocol::encode(&r))
        }
        Err(e) => error(&e),
    }
}

async fn submit_message(
    State(s): State<Arc<Server>>,
    Extension(src): Extension<Source>,
    Path(room): Path<String>,
    uri: axum::http::Uri,
    body: Bytes,
) -> Response {
    s.hooks.record(format!("in {}", uri.path()), &body);
    answer_room_call(&s, &room, &body, |room, req| {
        s.hub_submit(&src.0, room, req)
    })
}

async fn group_info(
    State(s): State<Arc<Server>>,
    Extension(src): Extension<Source>,
    Path(room): Path<String>,
    uri: axum::http::Uri,
    body: Bytes,
) -> Response {
    s.hooks.record(format!("in {}", uri.path()), &body);
    answer_room_call(&s, &room, &body, |room, req| {
        s.hub_group_info(&src.0, room, req)
    })
}

/// The body of the room endpoints that answer at once: the room from the
/// path, the TLS-encoded request from the body (400 when either is bad), and
/// the TLS-encoded answer, or the error's status.
fn answer_room_call<Req: protocol::Decode, Resp: tls_codec::Serialize>(
    s: &Server,
    room: &str,
    body: &[u8],
    call: impl FnOnce(&str, Req) -> Result<Resp, MimiError>,
) -> Response {
    let result = subject(room, 'r').and_then(|room| {
        let req = protocol::decode(body).map_err(bad)?;
        call(&room, req)
    });
    match result {
        Ok(r) => tls_body(s, StatusCode::OK, protocol::encode(&r)),
        Err(e) => error(&e),
    }
}

async fn notify(
    State(s): State<Arc<Server>>,
    Extension(src): Extension<Source>,
    Path(room): Path<String>,
    uri: axum::http::Uri,
    body: Bytes,
) -> Response {
    s.hooks.record(format!("in {}", uri.path()), &body);
    if s.hooks.notify_unavailable.load(Ordering::SeqCst) {
        s.hooks.notify_refused();
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, HeaderValue::from_static("1"))],
            "temporarily unavailable (test hook)",
        )
            .into_response();
    }
    match subject(&room, 'r').and_then(|room| {
        s.hooks.keep("notify", &room, &body);
        s.handle_notify(&src.0, &room, &body)
    }) {
        Ok(()) => StatusCode::CREATED.into_response(),
        Err(e) => error(&e),
    }
}

/// What one listener of a provider allows a connection, so that clients
/// that connect and then say nothing (or hold connections open) cannot make
/// the provider unusable for others.
#[derive(Debug, Clone, Copy)]
pub struct ListenLimits {
    /// Connections served at once; further ones wait in the kernel's
    /// backlog until one ends.
    pub max_connections: usize,
    /// Time from accept until the TLS handshake is done.
    pub handshake_timeout: std::time::Duration,
    /// Time an HTTP/1 connection may take to send a request's headers,
    /// idle keep-alive time included; HTTP/2 connections are pinged at this
    /// interval and closed when a ping goes unanswered as long.
    pub idle_timeout: std::time::Duration,
}

impl Default for ListenLimits {
    fn default() -> Self {
        Self {
            max_connections: default_max_connections(),
            handshake_timeout: std::time::Duration::from_secs(10),
            idle_timeout: std::time::Duration::from_secs(60),
        }
    }
}

/// 256 connections, or a quarter of the process's file-descriptor limit
/// when that is lower, so that a flood leaves descriptors for the control
/// API, peers and files (`ulimit -n 256` gives 64).
fn default_max_connections() -> usize {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass and nothing else.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0;
    let quarter = if ok {
        usize::try_from(lim.rlim_cur / 4).unwrap_or(usize::MAX)
    } else {
        256
    };
    quarter.clamp(16, 256)
}

/// Longest pause of the accept loop after failing accepts (e.g. out of file
/// descriptors), so that it neither spins nor stays away long.
const MAX_ACCEPT_BACKOFF: std::time::Duration = std::time::Duration::from_secs(1);

/// Serves the MIMI endpoints on `listener` until `shutdown`, within `limits`.
pub async fn serve(
    listener: TcpListener,
    server: Arc<Server>,
    mut shutdown: watch::Receiver<bool>,
    limits: ListenLimits,
) {
    let app = app(server.clone());
    let mut conns = tokio::task::JoinSet::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let mut backoff = std::time::Duration::ZERO;
    loop {
        // A slot first: at the cap, connections wait in the backlog.
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = shutdown.changed() => break,
        };
        let tcp = tokio::select! {
            r = listener.accept() => r,
            _ = shutdown.changed() => break,
        };
        let tcp = match tcp {
            Ok((tcp, _)) => {
                backoff = std::time::Duration::ZERO;
                tcp
            }
            Err(_) => {
                // Out of file descriptors and the like: retrying at once
                // would spin on the same error.
                backoff = (backoff * 2)
                    .max(std::time::Duration::from_millis(5))
                    .min(MAX_ACCEPT_BACKOFF);
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.changed() => break,
                }
                continue;
            }
        };
        let acceptor = tokio_rustls::TlsAcceptor::from(server.peers.server_tls());
        let app = app.clone();
        conns.spawn(async move {
            let _permit = permit;
            let Ok(Ok(tls)) =
                tokio::time::timeout(limits.handshake_timeout, acceptor.accept(tcp)).await
            else {
                return;
            };
            let names = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .map(pki_names)
                .unwrap_or_default();
            let names = PeerNames(names);
            let svc = hyper::service::service_fn(
                move |mut req: hyper::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(names.clone());
                    app.clone().oneshot(req.map(axum::body::Body::new))
                },
            );
            let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(limits.idle_timeout);
            builder
                .http2()
                .timer(hyper_util::rt::TokioTimer::new())
                .keep_alive_interval(limits.idle_timeout)
                .keep_alive_timeout(limits.idle_timeout);
            let _ = builder.serve_connection(TokioIo::new(tls), svc).await;
        });
        while conns.try_join_next().is_some() {}
    }
    conns.abort_all();
}
