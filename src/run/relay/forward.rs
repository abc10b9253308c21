//! The relay's two legs: accepting a target's connection on the listener
//! acting as another target, and forwarding each request to the real one.

use super::exchange::{Exchange, Violation, endpoint_of};
use super::fault::FaultKind;
use super::{BODY_CAP, Shared};
use axum::body::Body;
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

/// How long the relay waits for a receiver's answer.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a sender may take to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts connections for the listener acting as target `to`.
pub(super) async fn accept_loop(
    listener: TcpListener,
    to: usize,
    config: Arc<rustls::ServerConfig>,
    shared: Arc<Shared>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            // Out of descriptors and the like: the next accept may succeed.
            tokio::task::yield_now().await;
            continue;
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(connection(tcp, to, acceptor.clone(), shared.clone(), rx));
        let _ = tx.send(task.abort_handle());
    }
}

/// One sender's connection: handshake, who it is, then its requests.
async fn connection(
    tcp: TcpStream,
    to: usize,
    acceptor: tokio_rustls::TlsAcceptor,
    shared: Arc<Shared>,
    me: tokio::sync::oneshot::Receiver<tokio::task::AbortHandle>,
) {
    let _ = tcp.set_nodelay(true);
    let Ok(Ok(tls)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await else {
        return;
    };
    let chain: Vec<_> = tls
        .get_ref()
        .1
        .peer_certificates()
        .map(|c| c.iter().map(|c| c.clone().into_owned()).collect())
        .unwrap_or_default();
    let listener = shared
        .node(to)
        .map(|n| n.party.target.clone())
        .unwrap_or_default();
    let from = match shared.sender(to, &chain) {
        Ok(from) => from,
        Err(why) => {
            shared.recorder.note_refused(&listener, &why);
            let _ = tls.get_ref().0.set_zero_linger();
            return;
        }
    };
    let Ok(me) = me.await else { return };
    let Some(id) = shared.admit(from, to, &me) else {
        // A reset, not a polite close: the sender fails at once.
        let _ = tls.get_ref().0.set_zero_linger();
        return;
    };
    let svc_shared = shared.clone();
    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
        let shared = svc_shared.clone();
        async move { handle(&shared, from, to, req).await }
    });
    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(tls), svc)
        .await;
    shared.release(id);
}

/// Why a request gets no answer at all.
fn no_answer(why: &str) -> std::io::Error {
    std::io::Error::other(why.to_owned())
}

/// What the relay read of a request before forwarding it.
struct Received {
    method: hyper::Method,
    path: String,
    headers: HeaderMap,
    body: Result<Vec<u8>, BodyError>,
}

enum BodyError {
    OverCap,
    Read(String),
}

async fn read_body(body: Incoming, declared: Option<u64>) -> Result<Vec<u8>, BodyError> {
    use hyper::body::Body as _;
    if declared.is_some_and(|n| n > BODY_CAP as u64) {
        return Err(BodyError::OverCap);
    }
    let mut body = std::pin::pin!(body);
    let mut buf = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
        let frame = frame.map_err(|e| BodyError::Read(e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > BODY_CAP {
                return Err(BodyError::OverCap);
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf)
}

fn header_text(h: &HeaderMap, name: HeaderName) -> Option<String> {
    h.get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// Headers that belong to one connection, never forwarded.
fn hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "transfer-encoding"
            | "te"
            | "trailer"
            | "upgrade"
            | "content-length"
    )
}

async fn handle(
    shared: &Shared,
    from: usize,
    to: usize,
    req: Request<Incoming>,
) -> Result<Response<Body>, std::io::Error> {
    let t0 = Instant::now();
    let time = SystemTime::now();
    let (parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".to_owned());
    let host = header_text(&parts.headers, header::HOST)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()));
    let got = Received {
        method: parts.method,
        path,
        body: read_body(body, declared).await,
        headers: parts.headers,
    };
    let (Some(sender), Some(receiver)) = (shared.node(from), shared.node(to)) else {
        return Err(no_answer("unknown target"));
    };
    let body_for_case: &[u8] = got.body.as_deref().unwrap_or_default();
    let case = shared.recorder.attribute(&got.path, body_for_case);
    let mut ex = Exchange {
        seq: shared.recorder.next_seq(),
        time,
        from: sender.party.clone(),
        to: receiver.party.clone(),
        method: got.method.to_string(),
        path: got.path.clone(),
        from_header: header_text(&got.headers, header::FROM),
        host,
        content_type: header_text(&got.headers, header::CONTENT_TYPE),
        request: Vec::new(),
        status: None,
        relay_status: None,
        response: Vec::new(),
        duration_us: 0,
        upstream_us: None,
        fault: None,
        violation: None,
        error: None,
        case,
        decoded: Default::default(),
    };
    let finish = |mut ex: Exchange| {
        ex.duration_us = t0.elapsed().as_micros() as u64;
        shared.recorder.record(ex);
    };
    let body = match got.body {
        Ok(b) => b,
        Err(BodyError::OverCap) => {
            ex.relay_status = Some(413);
            ex.violation = Some(Violation {
                blame: sender.party.target.clone(),
                what: format!("request body over the relay's {BODY_CAP}-byte cap"),
            });
            finish(ex);
            return Ok(plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body over the relay's cap",
            ));
        }
        Err(BodyError::Read(e)) => {
            ex.error = Some(format!("reading the request body: {e}"));
            finish(ex);
            return Err(no_answer("request body unreadable"));
        }
    };
    shared.recorder.notify(
        case,
        sender.party.index,
        receiver.party.index,
        &got.path,
        &body,
    );
    ex.request = body;
    if shared.is_cut(from, to) {
        ex.error = Some("link cut".to_owned());
        finish(ex);
        return Err(no_answer("link cut"));
    }
    let fault = shared.take_fault(case, from, to, endpoint_of(&got.path));
    ex.fault = fault.as_ref().map(|f| f.kind.describe());
    match fault.map(|f| f.kind) {
        Some(FaultKind::Drop) => {
            finish(ex);
            return Err(no_answer("dropped by a fault step"));
        }
        Some(FaultKind::Unavailable { retry_after }) => {
            ex.relay_status = Some(503);
            finish(ex);
            let mut resp = plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily unavailable (relay fault step)",
            );
            resp.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(retry_after.as_secs()),
            );
            return Ok(resp);
        }
        Some(FaultKind::Delay(d)) => tokio::time::sleep(d).await,
        Some(FaultKind::Duplicate) => {
            let mut first = ex.clone();
            first.fault = Some("delivered twice: first copy".to_owned());
            let _ = forward(
                shared,
                from,
                to,
                &got.method,
                &got.path,
                &got.headers,
                &mut first,
            )
            .await;
            finish(first);
            ex.seq = shared.recorder.next_seq();
            ex.fault = Some("delivered twice: second copy, answered to the sender".to_owned());
        }
        None => {}
    }
    let resp = forward(
        shared,
        from,
        to,
        &got.method,
        &got.path,
        &got.headers,
        &mut ex,
    )
    .await;
    finish(ex);
    Ok(resp)
}

fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut r = Response::new(Body::from(text));
    *r.status_mut() = status;
    r
}

/// Sends the request in `ex` to the receiver and fills in its answer; the
/// response for the sender (the receiver's, or 502 when there was none).
async fn forward(
    shared: &Shared,
    from: usize,
    to: usize,
    method: &hyper::Method,
    path: &str,
    headers: &HeaderMap,
    ex: &mut Exchange,
) -> Response<Body> {
    let t = Instant::now();
    let result = async {
        let (client, origin) = shared.upstream(from, to).await?;
        let mut req = client
            .request(method.clone(), format!("{origin}{path}"))
            .body(ex.request.clone())
            .timeout(UPSTREAM_TIMEOUT);
        for (name, value) in headers {
            if !hop_by_hop(name) {
                req = req.header(name, value);
            }
        }
        let mut resp = req.send().await.map_err(|e| error_chain(&e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let mut body = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > BODY_CAP {
                        return Ok((status, headers, body, true));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return Err(format!("reading the answer: {}", error_chain(&e))),
            }
        }
        Ok::<_, String>((status, headers, body, false))
    }
    .await;
    ex.upstream_us = Some(t.elapsed().as_micros() as u64);
    match result {
        Ok((status, _, body, true)) => {
            ex.status = Some(status.as_u16());
            ex.response = body;
            ex.relay_status = Some(502);
            ex.violation = Some(Violation {
                blame: ex.to.target.clone(),
                what: format!("response body over the relay's {BODY_CAP}-byte cap"),
            });
            plain(StatusCode::BAD_GATEWAY, "answer over the relay's cap")
        }
        Ok((status, headers, body, false)) => {
            ex.status = Some(status.as_u16());
            ex.response = body.clone();
            let mut r = Response::new(Body::from(body));
            *r.status_mut() = status;
            for (name, value) in &headers {
                if !hop_by_hop(name) {
                    r.headers_mut().append(name, value.clone());
                }
            }
            r
        }
        Err(why) => {
            ex.relay_status = Some(502);
            ex.error = Some(why);
            plain(StatusCode::BAD_GATEWAY, "the receiver could not be reached")
        }
    }
}

/// An error with its causes, for reasons.
pub(super) fn error_text(e: &dyn std::error::Error) -> String {
    error_chain(e)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(x) = src {
        s.push_str(": ");
        s.push_str(&x.to_string());
        src = x.source();
    }
    s
}

impl Shared {
    /// The client that reaches `to` as `from`, and the origin to put before
    /// paths (`https://<to's domain>:<port>`; the address is pinned to
    /// `to`'s `mimi_url`, the name checked is its domain).
    async fn upstream(&self, from: usize, to: usize) -> Result<(reqwest::Client, String), String> {
        let (Some(sender), Some(receiver)) = (self.node(from), self.node(to)) else {
            return Err("unknown target".to_owned());
        };
        let origin = origin_of(receiver)?;
        if let Some(c) = super::lock(&self.clients).get(&(from, to)) {
            return Ok((c.clone(), origin));
        }
        let config = super::tls::upstream_config(&sender.tls.as_target, &receiver.tls.ca_pem)
            .map_err(|e| format!("TLS to {}: {e}", receiver.party.domain))?;
        let client = pinned_client(receiver, config).await?;
        super::lock(&self.clients).insert((from, to), client.clone());
        Ok((client, origin))
    }
}

/// `https://<receiver's domain>:<port>`: what paths go after.
pub(super) fn origin_of(receiver: &super::Node) -> Result<String, String> {
    let u = reqwest::Url::parse(&receiver.mimi_url)
        .map_err(|e| format!("bad mimi_url {}: {e}", receiver.mimi_url))?;
    let port = u
        .port_or_known_default()
        .ok_or_else(|| format!("{} has no port", receiver.mimi_url))?;
    Ok(format!("{}://{}:{port}", u.scheme(), receiver.party.domain))
}

/// A client for `receiver` with `config`: its domain is the name checked,
/// its `mimi_url`'s address the one connected to.
pub(super) async fn pinned_client(
    receiver: &super::Node,
    config: rustls::ClientConfig,
) -> Result<reqwest::Client, String> {
    let u = reqwest::Url::parse(&receiver.mimi_url)
        .map_err(|e| format!("bad mimi_url {}: {e}", receiver.mimi_url))?;
    let port = u
        .port_or_known_default()
        .ok_or_else(|| format!("{} has no port", receiver.mimi_url))?;
    let domain = &receiver.party.domain;
    let host = u.host_str().unwrap_or_default();
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    let addr: Option<SocketAddr> = match literal.parse::<IpAddr>() {
        Ok(ip) => Some(SocketAddr::new(ip, port)),
        Err(_) if host.eq_ignore_ascii_case(domain) => None,
        Err(_) => Some(
            tokio::net::lookup_host((host, port))
                .await
                .map_err(|e| format!("cannot resolve {host}: {e}"))?
                .next()
                .ok_or_else(|| format!("{host} resolves to nothing"))?,
        ),
    };
    let mut builder = reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .no_proxy()
        .tcp_nodelay(true);
    if let Some(addr) = addr {
        builder = builder.resolve(domain, addr);
    }
    builder.build().map_err(|e| error_chain(&e))
}
