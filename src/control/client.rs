//! The harness's side of the control API: one typed call per operation.
//!
//! Every call returns [`CallError`] on trouble, keeping what came back so a
//! verdict can quote it. Nothing here retries: a flaky target is a finding.
//! A client made with [`ControlClient::logged`] also files every call in a
//! case's [`CallLog`] (the control transcript).

use super::api::*;
use super::transcript::{CallLog, PendingCall};
use serde::{Serialize, de::DeserializeOwned};
use std::sync::Arc;
use std::time::Duration;

/// A connection to one target's control API.
#[derive(Debug, Clone)]
pub struct ControlClient {
    http: reqwest::Client,
    base: String,
    max_answer: usize,
    /// Where calls are filed, under the target's name.
    log: Option<(Arc<str>, Arc<CallLog>)>,
}

/// Largest control-API answer the harness reads by default: far above any
/// honest answer, low enough that a target cannot exhaust the harness.
pub const MAX_ANSWER_BYTES: usize = 16 << 20;

/// Why a control call did not produce the expected answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    #[error("cannot connect to {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("no answer from {url} within {timeout:?}")]
    Timeout { url: String, timeout: Duration },
    /// 501: the target declares it lacks this capability.
    #[error("unsupported: {message}")]
    Unsupported { message: String },
    /// 403 or 409: the target refused the operation (policy, state).
    #[error("refused ({status}): {message}")]
    Refused { status: u16, message: String },
    /// 404: unknown user, room or client.
    #[error("not found: {message}")]
    NotFound { message: String },
    /// Any other non-2xx answer.
    #[error("HTTP {status} from {url}: {body}")]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    /// 2xx whose body is not the documented JSON.
    #[error("malformed answer from {url}: {reason}; body: {body}")]
    Malformed {
        url: String,
        reason: String,
        body: String,
    },
}

impl CallError {
    /// The status the target answered with, if it answered at all.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Unreachable { .. } | Self::Timeout { .. } | Self::Malformed { .. } => None,
            Self::Unsupported { .. } => Some(501),
            Self::Refused { status, .. } | Self::Status { status, .. } => Some(*status),
            Self::NotFound { .. } => Some(404),
        }
    }
}

/// Longest error body quoted in a verdict; the rest is cut.
const QUOTE_LIMIT: usize = 2048;

fn quote(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if text.len() <= QUOTE_LIMIT {
        return text.into_owned();
    }
    let mut end = QUOTE_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &text[..end], body.len())
}

impl ControlClient {
    /// `base` is the control URL from the targets file, without `/v1`.
    pub fn new(http: reqwest::Client, base: &str) -> Self {
        Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            max_answer: MAX_ANSWER_BYTES,
            log: None,
        }
    }

    /// The same connection, filing every call in `log` as made to `target`.
    pub fn logged(&self, target: &str, log: &Arc<CallLog>) -> Self {
        Self {
            log: Some((target.into(), log.clone())),
            ..self.clone()
        }
    }

    fn begin(
        &self,
        method: &'static str,
        op: &str,
        body: Option<&bytes::Bytes>,
    ) -> Option<PendingCall> {
        let (target, log) = self.log.as_ref()?;
        Some(log.begin(target, method, format!("/{VERSION}/{op}"), body.cloned()))
    }

    /// The same client with another cap on answer size (bytes).
    pub fn with_max_answer(mut self, bytes: usize) -> Self {
        self.max_answer = bytes;
        self
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    fn url(&self, op: &str) -> String {
        format!("{}/{VERSION}/{op}", self.base)
    }

    pub async fn info(&self, timeout: Duration) -> Result<InfoResponse, CallError> {
        let url = self.url("info");
        let req = self.http.get(&url).timeout(timeout);
        let pending = self.begin("GET", "info", None);
        self.finish(url, req, timeout, pending).await
    }

    /// POSTs `body` as JSON to operation `op` and decodes the answer as `R`.
    pub async fn call<B: Serialize, R: DeserializeOwned>(
        &self,
        op: &str,
        body: &B,
        timeout: Duration,
    ) -> Result<R, CallError> {
        let url = self.url(op);
        // Encoded once: the transcript keeps the very bytes sent.
        let json = match serde_json::to_vec(body) {
            Ok(json) => bytes::Bytes::from(json),
            // As reqwest's own `.json()` reported it: the call never left.
            Err(e) => {
                return Err(CallError::Unreachable {
                    url,
                    reason: format!("cannot encode the request as JSON: {e}"),
                });
            }
        };
        let pending = self.begin("POST", op, Some(&json));
        let req = self
            .http
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(json)
            .timeout(timeout);
        self.finish(url, req, timeout, pending).await
    }

    async fn finish<R: DeserializeOwned>(
        &self,
        url: String,
        req: reqwest::RequestBuilder,
        timeout: Duration,
        pending: Option<PendingCall>,
    ) -> Result<R, CallError> {
        let answer = match req.send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                self.read_capped(&url, resp, timeout)
                    .await
                    .map(|body| (status, body))
            }
            Err(e) => Err(transport_error(&url, timeout, &e)),
        };
        let (status, body) = match answer {
            Ok(answer) => answer,
            Err(e) => {
                if let Some(p) = pending {
                    p.failed(e.to_string());
                }
                return Err(e);
            }
        };
        let result = decode(url, status, &body);
        if let Some(p) = pending {
            p.answered(status, body, result.as_ref().err().map(ToString::to_string));
        }
        result
    }

    /// Reads an answer's body as it streams in, stopping at the cap.
    async fn read_capped(
        &self,
        url: &str,
        mut resp: reqwest::Response,
        timeout: Duration,
    ) -> Result<Vec<u8>, CallError> {
        let too_large = |body: &[u8]| CallError::Malformed {
            url: url.to_owned(),
            reason: format!(
                "the answer is larger than the harness reads ({} bytes)",
                self.max_answer
            ),
            body: quote(body),
        };
        if resp
            .content_length()
            .is_some_and(|n| n > self.max_answer as u64)
        {
            return Err(too_large(&[]));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| transport_error(url, timeout, &e))?
        {
            if body.len() + chunk.len() > self.max_answer {
                return Err(too_large(&body));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    pub async fn reset(&self, t: Duration) -> Result<Empty, CallError> {
        self.call("reset", &Empty {}, t).await
    }
    pub async fn peers(&self, r: &PeersRequest, t: Duration) -> Result<Empty, CallError> {
        self.call("peers", r, t).await
    }
    pub async fn release(&self, r: &ReleaseRequest, t: Duration) -> Result<Empty, CallError> {
        self.call("release", r, t).await
    }
    pub async fn create_user(
        &self,
        r: &CreateUserRequest,
        t: Duration,
    ) -> Result<CreateUserResponse, CallError> {
        self.call("create_user", r, t).await
    }
    pub async fn add_client(
        &self,
        r: &AddClientRequest,
        t: Duration,
    ) -> Result<AddClientResponse, CallError> {
        self.call("add_client", r, t).await
    }
    pub async fn remove_client(
        &self,
        r: &RemoveClientRequest,
        t: Duration,
    ) -> Result<Empty, CallError> {
        self.call("remove_client", r, t).await
    }
    pub async fn create_room(
        &self,
        r: &CreateRoomRequest,
        t: Duration,
    ) -> Result<CreateRoomResponse, CallError> {
        self.call("create_room", r, t).await
    }
    /// `op` is one of `add_participant`, `remove_participant`, `ban`, `unban`.
    pub async fn membership(
        &self,
        op: &str,
        r: &MembershipRequest,
        t: Duration,
    ) -> Result<RoomChangeResponse, CallError> {
        self.call(op, r, t).await
    }
    pub async fn leave(
        &self,
        r: &LeaveRequest,
        t: Duration,
    ) -> Result<RoomChangeResponse, CallError> {
        self.call("leave", r, t).await
    }
    pub async fn set_role(
        &self,
        r: &SetRoleRequest,
        t: Duration,
    ) -> Result<RoomChangeResponse, CallError> {
        self.call("set_role", r, t).await
    }
    pub async fn set_room_metadata(
        &self,
        r: &SetRoomMetadataRequest,
        t: Duration,
    ) -> Result<RoomChangeResponse, CallError> {
        self.call("set_room_metadata", r, t).await
    }
    pub async fn send(&self, r: &SendRequest, t: Duration) -> Result<SendResponse, CallError> {
        self.call("send", r, t).await
    }
    /// Sends a `read` status report (answers like `send`).
    pub async fn mark_read(
        &self,
        r: &MarkReadRequest,
        t: Duration,
    ) -> Result<SendResponse, CallError> {
        self.call("mark_read", r, t).await
    }
    /// The HTTP timeout is the long-poll wait plus `t`, so a target that
    /// honours `wait_ms` is never cut off.
    pub async fn events(
        &self,
        r: &EventsRequest,
        t: Duration,
    ) -> Result<EventsResponse, CallError> {
        self.call("events", r, t + Duration::from_millis(r.wait_ms))
            .await
    }
    pub async fn room_state(
        &self,
        r: &RoomStateRequest,
        t: Duration,
    ) -> Result<RoomStateResponse, CallError> {
        self.call("room_state", r, t).await
    }
    pub async fn download(
        &self,
        r: &DownloadRequest,
        t: Duration,
    ) -> Result<DownloadResponse, CallError> {
        self.call("download", r, t).await
    }

    pub async fn profile(
        &self,
        r: &ProfileRequest,
        t: Duration,
    ) -> Result<ProfileResponse, CallError> {
        self.call("profile", r, t).await
    }
    pub async fn timeline(
        &self,
        r: &TimelineRequest,
        t: Duration,
    ) -> Result<TimelineResponse, CallError> {
        self.call("timeline", r, t).await
    }
    /// `op` is `request_consent` or `cancel_consent`.
    pub async fn consent_request(
        &self,
        op: &str,
        r: &ConsentRequestRequest,
        t: Duration,
    ) -> Result<Empty, CallError> {
        self.call(op, r, t).await
    }
    pub async fn report_abuse(
        &self,
        r: &ReportAbuseRequest,
        t: Duration,
    ) -> Result<Empty, CallError> {
        self.call("report_abuse", r, t).await
    }
    pub async fn abuse_reports(
        &self,
        r: &AbuseReportsRequest,
        t: Duration,
    ) -> Result<AbuseReportsResponse, CallError> {
        self.call("abuse_reports", r, t).await
    }
    pub async fn message_franks(
        &self,
        r: &MessageFranksRequest,
        t: Duration,
    ) -> Result<MessageFranksResponse, CallError> {
        self.call("message_franks", r, t).await
    }
    /// `op` is `grant_consent` or `revoke_consent`.
    pub async fn consent_update(
        &self,
        op: &str,
        r: &ConsentUpdateRequest,
        t: Duration,
    ) -> Result<Empty, CallError> {
        self.call(op, r, t).await
    }
}

/// A whole answer as `R`, or the [`CallError`] its status and body mean.
fn decode<R: DeserializeOwned>(url: String, status: u16, body: &[u8]) -> Result<R, CallError> {
    if (200..300).contains(&status) {
        return serde_json::from_slice(body).map_err(|e| CallError::Malformed {
            url,
            reason: e.to_string(),
            body: quote(body),
        });
    }
    let message = serde_json::from_slice::<ErrorBody>(body)
        .map(|e| e.error.message)
        .unwrap_or_else(|_| quote(body));
    Err(match status {
        501 => CallError::Unsupported { message },
        403 | 409 => CallError::Refused { status, message },
        404 => CallError::NotFound { message },
        _ => CallError::Status {
            url,
            status,
            body: quote(body),
        },
    })
}

fn transport_error(url: &str, timeout: Duration, e: &reqwest::Error) -> CallError {
    if e.is_timeout() {
        CallError::Timeout {
            url: url.to_owned(),
            timeout,
        }
    } else {
        // The source chain says why (refused, reset, TLS…); Display alone does not.
        let mut reason = e.to_string();
        let mut src = std::error::Error::source(e);
        while let Some(s) = src {
            reason.push_str(": ");
            reason.push_str(&s.to_string());
            src = s.source();
        }
        CallError::Unreachable {
            url: url.to_owned(),
            reason,
        }
    }
}
