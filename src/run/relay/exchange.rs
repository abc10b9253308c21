//! One request the relay carried from one target to another, and its answer:
//! what the transcripts hold and what a wire judge will read.

use crate::protocol::exchange::{DecodedExchange, HttpExchange, decode_exchange};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Serialize;
use std::sync::OnceLock;
use std::time::SystemTime;

/// One side of an exchange: a target of the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Party {
    /// Index of the target in the plan's target list.
    #[serde(skip)]
    pub index: usize,
    /// The target's name in the targets file.
    pub target: String,
    pub domain: String,
}

/// One request a target sent to another through the relay, and what came
/// back. Bodies are kept whole (up to the relay's cap) until the case's
/// transcript is written.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Order in the run (1-based), across all targets.
    pub seq: u64,
    /// When the request reached the relay.
    pub time: SystemTime,
    pub from: Party,
    pub to: Party,
    pub method: String,
    /// Path and query as the sender wrote them.
    pub path: String,
    /// The request's `From`, `Host` (or HTTP/2 authority) and `Content-Type`.
    pub from_header: Option<String>,
    pub host: Option<String>,
    pub content_type: Option<String>,
    pub request: Vec<u8>,
    /// The receiver's status; `None` when its answer never came (link cut,
    /// dropped by a fault, unreachable).
    pub status: Option<u16>,
    /// What the relay answered the sender, when it was not the receiver's
    /// answer (413 for an over-cap body, 503 for a fault, 502 when the
    /// receiver could not be reached); `None` when it passed the receiver's.
    pub relay_status: Option<u16>,
    pub response: Vec<u8>,
    /// From the request reaching the relay to the answer leaving it.
    pub duration_us: u64,
    /// The receiver's part of that (request sent to answer read).
    pub upstream_us: Option<u64>,
    /// The request-level fault a suite step made the relay apply.
    pub fault: Option<String>,
    /// Bytes a target sent that break the relay's rules (an over-cap body),
    /// blamed on `blame`.
    pub violation: Option<Violation>,
    /// Why the receiver's answer is missing, when it is.
    pub error: Option<String>,
    /// The case the exchange belongs to (plan case index), when it maps to one.
    pub case: Option<usize>,
    /// What the protocol codec reads in it, decoded on first use
    /// ([`Exchange::decoded`]) and shared by the wire judge and the
    /// transcript, off the relay's path.
    pub decoded: DecodeCache,
}

/// An exchange's decoding, made on first use. A clone starts empty, so an
/// exchange copied and then changed (the duplicate fault's first copy, a
/// test's variant) never shows the original's decoding.
#[derive(Debug, Default)]
pub struct DecodeCache(OnceLock<Option<DecodedExchange>>);

impl Clone for DecodeCache {
    fn clone(&self) -> Self {
        Self::default()
    }
}

/// A target's bytes the relay could not accept as they were.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// The target that sent the offending bytes.
    pub blame: String,
    pub what: String,
}

/// What the protocol codec reads in an exchange that got an answer from the
/// receiver: its one-line summary, and its findings (undecodable bodies,
/// path variants) as `code (section): message`. `None` when the relay
/// itself answered, or nothing came back: there is no exchange to decode.
fn decode(ex: &Exchange) -> Option<(String, Vec<String>)> {
    let decoded = ex.decoded()?;
    let findings = decoded
        .findings
        .iter()
        .map(|f| format!("{} ({}): {}", f.code, f.section, f.message))
        .collect();
    Some((decoded.summary.clone(), findings))
}

/// The one-line summary of an exchange in transcripts and reports: who to
/// whom, method, path, status and sizes, then what the protocol codec read
/// in the bodies.
pub fn summarize(ex: &Exchange) -> String {
    summary_line(ex, decode(ex).as_ref().map(|(s, _)| s.as_str()))
}

/// [`summarize`] with the codec's summary already made.
fn summary_line(ex: &Exchange, decoded: Option<&str>) -> String {
    let status = match (ex.status, ex.relay_status) {
        (Some(s), None) => s.to_string(),
        (Some(s), Some(r)) => format!("{s} (relay answered {r})"),
        (None, Some(r)) => format!("relay answered {r}"),
        (None, None) => "no answer".to_owned(),
    };
    let mut line = format!(
        "{} → {}: {} {} → {status} ({} B / {} B)",
        ex.from.target,
        ex.to.target,
        ex.method,
        ex.path,
        ex.request.len(),
        ex.response.len()
    );
    if let Some(summary) = decoded {
        line.push_str(&format!(" · {summary}"));
    }
    if let Some(f) = &ex.fault {
        line.push_str(&format!(" [fault: {f}]"));
    }
    if let Some(v) = &ex.violation {
        line.push_str(&format!(" [violation by {}: {}]", v.blame, v.what));
    }
    line
}

/// One line of a wire transcript (`docs/report-format.md`).
#[derive(Serialize)]
struct Line<'a> {
    seq: u64,
    time: String,
    from: &'a Party,
    to: &'a Party,
    method: &'a str,
    path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    relay_status: Option<u16>,
    request_size: usize,
    response_size: usize,
    duration_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    upstream_ms: Option<f64>,
    summary: String,
    /// The protocol codec's findings: bodies that do not decode, path
    /// variants of the drafts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    findings: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    from_header: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    host: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fault: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    violation: Option<&'a Violation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    request_b64: String,
    response_b64: String,
}

impl Exchange {
    /// The path relative to the receiver's MIMI base URL, which may carry a
    /// prefix of its own (`https://host/mimi`): the endpoints start at
    /// `/v1/` or `/.well-known/`. What the codec's `route` reads.
    pub fn mimi_path(&self) -> &str {
        mimi_path(&self.path)
    }

    /// The exchange as the protocol codec reads it (endpoint from the
    /// MIMI-relative path, both bodies), decoded once; `None` when the
    /// receiver's answer never came.
    pub fn decoded(&self) -> Option<&DecodedExchange> {
        self.decoded
            .0
            .get_or_init(|| {
                Some(decode_exchange(&HttpExchange {
                    method: &self.method,
                    path: self.mimi_path(),
                    request: &self.request,
                    status: self.status?,
                    response: &self.response,
                }))
            })
            .as_ref()
    }

    /// The exchange as one JSON Lines line (with its newline).
    pub fn to_json_line(&self) -> String {
        let ms = |us: u64| us as f64 / 1000.0;
        let decoded = decode(self);
        let line = Line {
            seq: self.seq,
            time: humantime::format_rfc3339_micros(self.time).to_string(),
            from: &self.from,
            to: &self.to,
            method: &self.method,
            path: &self.path,
            status: self.status,
            relay_status: self.relay_status,
            request_size: self.request.len(),
            response_size: self.response.len(),
            duration_ms: ms(self.duration_us),
            upstream_ms: self.upstream_us.map(ms),
            summary: summary_line(self, decoded.as_ref().map(|(s, _)| s.as_str())),
            findings: decoded.map(|(_, f)| f).unwrap_or_default(),
            from_header: self.from_header.as_deref(),
            host: self.host.as_deref(),
            content_type: self.content_type.as_deref(),
            fault: self.fault.as_deref(),
            violation: self.violation.as_ref(),
            error: self.error.as_deref(),
            request_b64: B64.encode(&self.request),
            response_b64: B64.encode(&self.response),
        };
        let mut text = serde_json::to_string(&line).unwrap_or_default();
        text.push('\n');
        text
    }

    /// The endpoint the path names: the segment after `v1` (`notify`,
    /// `submitMessage`, …), else the first segment (`.well-known`).
    pub fn endpoint(&self) -> &str {
        endpoint_of(&self.path)
    }

    /// Whether the exchange went between targets `x` and `y`, either way.
    pub fn between(&self, x: usize, y: usize) -> bool {
        (self.from.index, self.to.index) == (x, y) || (self.from.index, self.to.index) == (y, x)
    }
}

/// The path relative to the receiver's MIMI base URL; see [`Exchange::mimi_path`].
pub fn mimi_path(path: &str) -> &str {
    ["/v1/", "/.well-known/"]
        .iter()
        .find_map(|root| path.find(root).map(|i| &path[i..]))
        .unwrap_or(path)
}

/// The endpoint name of a request path; see [`Exchange::endpoint`].
pub fn endpoint_of(path: &str) -> &str {
    let path = path.split('?').next().unwrap_or_default();
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    let first = segments.clone().next().unwrap_or_default();
    while let Some(s) = segments.next() {
        if s == "v1" {
            return segments.next().unwrap_or_default();
        }
    }
    first
}

/// An exchange from target `from` (index 0) to `to` (index 1) that the
/// receiver answered with `status`, for unit tests of what reads the wire.
#[cfg(test)]
pub(crate) fn for_test(
    from: &str,
    to: &str,
    path: &str,
    request: &[u8],
    status: u16,
    response: &[u8],
) -> Exchange {
    let party = |index: usize, name: &str| Party {
        index,
        target: name.to_owned(),
        domain: format!("{name}.example"),
    };
    Exchange {
        seq: 0,
        time: SystemTime::now(),
        from: party(0, from),
        to: party(1, to),
        method: "POST".into(),
        path: path.into(),
        from_header: Some(format!("mimi@{from}.example")),
        host: None,
        content_type: Some("application/octet-stream".into()),
        request: request.to_vec(),
        status: Some(status),
        relay_status: None,
        response: response.to_vec(),
        duration_us: 0,
        upstream_us: None,
        fault: None,
        violation: None,
        error: None,
        case: None,
        decoded: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_read_after_v1() {
        assert_eq!(endpoint_of("/v1/notify/a.example/r/x"), "notify");
        assert_eq!(endpoint_of("/mimi/v1/submitMessage/x?y=1"), "submitMessage");
        assert_eq!(
            endpoint_of("/.well-known/mimi-protocol-directory"),
            ".well-known"
        );
        assert_eq!(endpoint_of(""), "");
    }
}
