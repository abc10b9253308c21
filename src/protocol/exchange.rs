//! One HTTP exchange between providers, decoded: which endpoint its method
//! and path name (accepting the draft's path variants), its request and
//! response bodies, a one-line summary and findings. This is the stable API
//! the harness's relay and wire judge call; `docs/protocol.md` documents it.

use super::structure::{Body, Structure};
use super::{DecodeError, Finding};
use serde::Serialize;
use serde_json::{Value, json};

/// A MIMI endpoint (§5), plus the direct asset download the reference
/// provider serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Endpoint {
    Directory,
    KeyMaterial,
    Update,
    SubmitMessage,
    Notify,
    GroupInfo,
    RequestConsent,
    UpdateConsent,
    IdentifierQuery,
    ReportAbuse,
    ProxyDownload,
    /// `GET /v1/assets/{id}`: a direct download (§5.10.1) at the path the
    /// reference provider uses; the draft leaves asset URLs to providers.
    Asset,
}

impl Endpoint {
    /// The directory's name for the endpoint.
    pub fn name(self) -> &'static str {
        match self {
            Self::Directory => "directory",
            Self::KeyMaterial => "keyMaterial",
            Self::Update => "update",
            Self::SubmitMessage => "submitMessage",
            Self::Notify => "notify",
            Self::GroupInfo => "groupInfo",
            Self::RequestConsent => "requestConsent",
            Self::UpdateConsent => "updateConsent",
            Self::IdentifierQuery => "identifierQuery",
            Self::ReportAbuse => "reportAbuse",
            Self::ProxyDownload => "proxyDownload",
            Self::Asset => "asset",
        }
    }

    /// The HTTP method the draft gives.
    pub fn method(self) -> &'static str {
        match self {
            Self::Directory | Self::ProxyDownload | Self::Asset => "GET",
            _ => "POST",
        }
    }

    /// The request body's structure (`None`: no body).
    pub fn request(self) -> Option<Structure> {
        Some(match self {
            Self::Directory | Self::ProxyDownload | Self::Asset => return None,
            Self::KeyMaterial => Structure::KeyMaterialRequest,
            Self::Update => Structure::UpdateRequest,
            Self::SubmitMessage => Structure::SubmitMessageRequest,
            Self::Notify => Structure::Notify,
            Self::GroupInfo => Structure::GroupInfoRequest,
            Self::RequestConsent | Self::UpdateConsent => Structure::ConsentEntry,
            Self::IdentifierQuery => Structure::IdentifierRequest,
            Self::ReportAbuse => Structure::AbuseReport,
        })
    }

    /// The structure of a successful response's body (`None`: no MIMI
    /// structure: empty for notify, consent and reportAbuse, the asset's
    /// opaque bytes for downloads).
    pub fn response(self) -> Option<Structure> {
        Some(match self {
            Self::Directory => Structure::Directory,
            Self::KeyMaterial => Structure::KeyMaterialResponse,
            Self::Update => Structure::UpdateRoomResponse,
            Self::SubmitMessage => Structure::SubmitMessageResponse,
            Self::GroupInfo => Structure::GroupInfoResponse,
            Self::IdentifierQuery => Structure::IdentifierResponse,
            Self::Notify
            | Self::RequestConsent
            | Self::UpdateConsent
            | Self::ReportAbuse
            | Self::ProxyDownload
            | Self::Asset => return None,
        })
    }
}

/// A path form the drafts use besides the directory's (DIGEST "Spec
/// inconsistencies").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PathVariant {
    /// `/submit/{roomId}` (the example flows) for `/submitMessage/{roomId}`.
    Submit,
    /// `/update{roomId}` without a slash (the directory example).
    UpdateNoSlash,
    /// No `/v1` prefix (the §5 endpoint headings).
    Unversioned,
    /// proxyDownload's URL written raw instead of percent-encoded.
    RawDownloadUrl,
}

impl PathVariant {
    fn describe(self) -> &'static str {
        match self {
            Self::Submit => "`/submit/…` (the example flows) instead of `/submitMessage/…`",
            Self::UpdateNoSlash => "`/update{roomId}` without a slash (the directory example)",
            Self::Unversioned => "no `/v1` prefix (the §5 endpoint headings)",
            Self::RawDownloadUrl => "the download URL raw instead of percent-encoded",
        }
    }
}

/// An endpoint recognized in a request's method and path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Route {
    pub endpoint: Endpoint,
    /// The path variable (room, user, domain, download URL), as sent.
    pub subject: String,
    pub variants: Vec<PathVariant>,
}

/// Why a method and path name no endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("no MIMI endpoint at {0}")]
    UnknownPath(String),
    #[error("{endpoint} takes {expected}, not {method}")]
    WrongMethod {
        endpoint: &'static str,
        expected: &'static str,
        method: String,
    },
    #[error("{0} without its path variable")]
    MissingSubject(&'static str),
}

/// Recognizes the endpoint of a request.
pub fn route(method: &str, path: &str) -> Result<Route, RouteError> {
    let mut variants = Vec::new();
    let endpoint_and_rest = if path == "/.well-known/mimi-protocol-directory" {
        (Endpoint::Directory, String::new())
    } else {
        let p = if let Some(p) = path.strip_prefix("/v1/") {
            p
        } else if let Some(p) = path.strip_prefix('/') {
            variants.push(PathVariant::Unversioned);
            p
        } else {
            return Err(RouteError::UnknownPath(path.to_owned()));
        };
        let (name, rest) = p.split_once('/').unwrap_or((p, ""));
        let endpoint = match name {
            "keyMaterial" => Endpoint::KeyMaterial,
            "update" => Endpoint::Update,
            "submitMessage" => Endpoint::SubmitMessage,
            "submit" => {
                variants.push(PathVariant::Submit);
                Endpoint::SubmitMessage
            }
            "notify" => Endpoint::Notify,
            "groupInfo" => Endpoint::GroupInfo,
            "requestConsent" => Endpoint::RequestConsent,
            "updateConsent" => Endpoint::UpdateConsent,
            "identifierQuery" => Endpoint::IdentifierQuery,
            "reportAbuse" => Endpoint::ReportAbuse,
            "proxyDownload" => Endpoint::ProxyDownload,
            "assets" => Endpoint::Asset,
            _ => match p.strip_prefix("update") {
                Some(room) if !room.is_empty() => {
                    variants.push(PathVariant::UpdateNoSlash);
                    return finish(method, Endpoint::Update, room.to_owned(), variants);
                }
                _ => return Err(RouteError::UnknownPath(path.to_owned())),
            },
        };
        if endpoint == Endpoint::ProxyDownload && !super::download::is_percent_encoded(rest) {
            variants.push(PathVariant::RawDownloadUrl);
        }
        (endpoint, rest.to_owned())
    };
    let (endpoint, subject) = endpoint_and_rest;
    finish(method, endpoint, subject, variants)
}

fn finish(
    method: &str,
    endpoint: Endpoint,
    subject: String,
    variants: Vec<PathVariant>,
) -> Result<Route, RouteError> {
    if !method.eq_ignore_ascii_case(endpoint.method()) {
        return Err(RouteError::WrongMethod {
            endpoint: endpoint.name(),
            expected: endpoint.method(),
            method: method.to_owned(),
        });
    }
    if endpoint != Endpoint::Directory && subject.is_empty() {
        return Err(RouteError::MissingSubject(endpoint.name()));
    }
    Ok(Route {
        endpoint,
        subject,
        variants,
    })
}

/// One request and its response, as seen on the wire.
#[derive(Debug, Clone, Copy)]
pub struct HttpExchange<'a> {
    pub method: &'a str,
    /// Path (and query) of the request URL.
    pub path: &'a str,
    pub request: &'a [u8],
    /// HTTP status of the response.
    pub status: u16,
    pub response: &'a [u8],
}

/// An exchange decoded as far as it goes.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedExchange {
    /// `None` when the path names no endpoint (see `findings`).
    pub route: Option<Route>,
    /// The decoded request body, when the endpoint has one and it decoded.
    pub request: Option<Body>,
    /// The decoded response body, for a 2xx answer of an endpoint with one.
    pub response: Option<Body>,
    /// Where a body failed to decode.
    pub request_error: Option<DecodeError>,
    pub response_error: Option<DecodeError>,
    /// One line: method, endpoint, subject, status, what the bodies are.
    pub summary: String,
    pub findings: Vec<Finding>,
}

impl DecodedExchange {
    /// Whether every body the endpoint defines decoded.
    pub fn decoded(&self) -> bool {
        self.route.is_some() && self.request_error.is_none() && self.response_error.is_none()
    }

    /// The readable form: route, bodies, errors, findings.
    pub fn readable(&self) -> Value {
        json!({
            "summary": self.summary,
            "route": self.route,
            "request": self.request.as_ref().map(Body::readable),
            "requestError": self.request_error.as_ref().map(ToString::to_string),
            "response": self.response.as_ref().map(Body::readable),
            "responseError": self.response_error.as_ref().map(ToString::to_string),
            "findings": self.findings,
        })
    }
}

/// Decodes one exchange: the endpoint from the method and path, the request
/// body, and the response body when the status is 2xx. Never fails: what
/// does not decode is reported in the result.
pub fn decode_exchange(x: &HttpExchange<'_>) -> DecodedExchange {
    let mut out = DecodedExchange {
        route: None,
        request: None,
        response: None,
        request_error: None,
        response_error: None,
        summary: String::new(),
        findings: Vec::new(),
    };
    let route = match route(x.method, x.path) {
        Ok(r) => r,
        Err(e) => {
            out.findings
                .push(Finding::new("unknown-endpoint", "§5", e.to_string()));
            out.summary = format!("{} {} → {}: {e}", x.method, x.path, x.status);
            return out;
        }
    };
    for v in &route.variants {
        out.findings.push(Finding::new(
            "path-variant",
            "§5",
            format!("{}: {}", route.endpoint.name(), v.describe()),
        ));
    }
    let mut parts = Vec::new();
    match route.endpoint.request() {
        Some(s) => match s.decode(x.request) {
            Ok(b) => {
                parts.push(b.summary());
                out.findings.extend(b.findings());
                out.request = Some(b);
            }
            Err(e) => {
                parts.push(format!("request undecodable ({e})"));
                out.findings
                    .push(Finding::new("undecodable-request", "§5", e.to_string()));
                out.request_error = Some(e);
            }
        },
        None if !x.request.is_empty() => out.findings.push(Finding::new(
            "unexpected-body",
            "§5",
            format!(
                "{} request has a {}-byte body; it takes none",
                route.endpoint.name(),
                x.request.len()
            ),
        )),
        None => {}
    }
    if route.endpoint == Endpoint::ProxyDownload {
        match super::decode_download_url(&route.subject) {
            Ok(url) => parts.push(format!("download {url}")),
            Err(e) => out.findings.push(Finding::new(
                "undecodable-request",
                "§5.10.2",
                e.to_string(),
            )),
        }
    }
    if (200..300).contains(&x.status) {
        match route.endpoint.response() {
            Some(s) => match s.decode(x.response) {
                Ok(b) => {
                    parts.push(b.summary());
                    out.findings.extend(b.findings());
                    out.response = Some(b);
                }
                Err(e) => {
                    parts.push(format!("response undecodable ({e})"));
                    out.findings
                        .push(Finding::new("undecodable-response", "§5", e.to_string()));
                    out.response_error = Some(e);
                }
            },
            None if matches!(route.endpoint, Endpoint::ProxyDownload | Endpoint::Asset) => {
                parts.push(format!("{} bytes", x.response.len()));
            }
            None if !x.response.is_empty() => out.findings.push(Finding::new(
                "unexpected-body",
                "§5",
                format!(
                    "{} response has a {}-byte body; it takes none",
                    route.endpoint.name(),
                    x.response.len()
                ),
            )),
            None => {}
        }
    } else {
        let text = String::from_utf8_lossy(x.response);
        let text: String = text.chars().take(120).collect();
        parts.push(format!("error answer {text:?}"));
    }
    out.summary = format!(
        "{} {} {} → {}: {}",
        x.method,
        route.endpoint.name(),
        route.subject,
        x.status,
        parts.join(" | ")
    );
    out.route = Some(route);
    out
}
