//! A case's control-API transcript: every call the harness makes to a target
//! for the case, with what it sent, what came back and when.
//!
//! [`ControlClient::logged`](super::ControlClient::logged) gives a client
//! that files each call in a [`CallLog`]; the runner makes one log per case
//! and writes it as JSON Lines when the case ends (`docs/report-format.md`,
//! Case artifacts). Request bodies are shared with the HTTP request, not
//! copied; answers are kept up to [`ANSWER_CAP`] bytes, so a case's log stays
//! small whatever its targets answer.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// Bytes of an answer kept in the transcript; the rest is counted, not kept.
pub const ANSWER_CAP: usize = 64 << 10;

/// The calls of one case, in the order they were made.
#[derive(Debug)]
pub struct CallLog {
    /// When the case started: call times are offsets from it.
    t0: Instant,
    next: AtomicU64,
    calls: Mutex<Vec<CallRecord>>,
}

/// One control call as the transcript keeps it.
#[derive(Debug)]
pub struct CallRecord {
    /// 1-based, in the order the calls were made.
    pub seq: u64,
    pub target: Arc<str>,
    pub method: &'static str,
    /// `/v1/<op>`.
    pub path: String,
    /// The JSON body sent, when there was one.
    pub request: Option<bytes::Bytes>,
    /// When the call was made, from the case's start.
    pub start: Duration,
    /// From the call being made to its answer read (or its failure).
    pub duration: Duration,
    /// The HTTP status, when the target answered.
    pub status: Option<u16>,
    /// The answer's first [`ANSWER_CAP`] bytes.
    pub answer: Vec<u8>,
    /// The answer's full size in bytes, when it was read to the end.
    pub answer_size: usize,
    /// Why the call did not give the expected answer, as the harness saw it.
    pub error: Option<String>,
}

impl CallLog {
    /// An empty log for a case starting now.
    pub fn new() -> Self {
        Self {
            t0: Instant::now(),
            next: AtomicU64::new(1),
            calls: Mutex::new(Vec::new()),
        }
    }

    /// Starts a call: the returned guard files it when it ends, or, if the
    /// harness stops waiting first (a deadline dropped the call), files it
    /// as abandoned.
    pub(crate) fn begin(
        self: &Arc<Self>,
        target: &Arc<str>,
        method: &'static str,
        path: String,
        request: Option<bytes::Bytes>,
    ) -> PendingCall {
        let now = Instant::now();
        PendingCall {
            log: self.clone(),
            began: now,
            record: Some(CallRecord {
                seq: self.next.fetch_add(1, Ordering::Relaxed),
                target: target.clone(),
                method,
                path,
                request,
                start: now.saturating_duration_since(self.t0),
                duration: Duration::ZERO,
                status: None,
                answer: Vec::new(),
                answer_size: 0,
                error: None,
            }),
        }
    }

    /// Hands over every call filed so far, in the order they were made.
    pub fn take(&self) -> Vec<CallRecord> {
        let mut calls = std::mem::take(&mut *self.calls.lock().unwrap_or_else(|p| p.into_inner()));
        calls.sort_by_key(|c| c.seq);
        calls
    }

    fn file(&self, record: CallRecord) {
        self.calls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(record);
    }
}

impl Default for CallLog {
    fn default() -> Self {
        Self::new()
    }
}

/// A call under way; see [`CallLog::begin`].
pub(crate) struct PendingCall {
    log: Arc<CallLog>,
    began: Instant,
    record: Option<CallRecord>,
}

impl PendingCall {
    /// The target answered `status` with `body`; `error` when the answer
    /// was not the one wanted (a non-2xx status, a body that did not decode).
    pub fn answered(mut self, status: u16, body: Vec<u8>, error: Option<String>) {
        if let Some(mut r) = self.record.take() {
            r.duration = self.began.elapsed();
            r.status = Some(status);
            r.answer_size = body.len();
            r.answer = if body.len() <= ANSWER_CAP {
                body
            } else {
                body[..ANSWER_CAP].to_vec()
            };
            r.error = error;
            self.log.file(r);
        }
    }

    /// No answer was read: `error` says why.
    pub fn failed(mut self, error: String) {
        if let Some(mut r) = self.record.take() {
            r.duration = self.began.elapsed();
            r.error = Some(error);
            self.log.file(r);
        }
    }
}

impl Drop for PendingCall {
    fn drop(&mut self) {
        if let Some(mut r) = self.record.take() {
            r.duration = self.began.elapsed();
            r.error = Some(
                "abandoned: the harness stopped waiting for the answer (a step, case or run deadline)"
                    .to_owned(),
            );
            self.log.file(r);
        }
    }
}

/// Writes `calls` as JSON Lines, one call a line (`docs/report-format.md`).
pub fn write_jsonl(out: &mut impl Write, calls: &[CallRecord]) -> std::io::Result<()> {
    for c in calls {
        write!(
            out,
            "{{\"seq\":{},\"target\":{},\"method\":\"{}\",\"path\":{},\"start_ms\":{},\"duration_ms\":{}",
            c.seq,
            json_string(&c.target),
            c.method,
            json_string(&c.path),
            millis(c.start),
            millis(c.duration)
        )?;
        if let Some(body) = &c.request {
            write_body(out, "request", body)?;
        }
        if let Some(status) = c.status {
            write!(
                out,
                ",\"status\":{status},\"answer_size\":{}",
                c.answer_size
            )?;
            if c.answer.len() < c.answer_size {
                // Cut: the kept part is not whole JSON, so it is text.
                write!(
                    out,
                    ",\"answer_text\":{},\"answer_truncated\":true",
                    json_string(&String::from_utf8_lossy(&c.answer))
                )?;
            } else if !c.answer.is_empty() {
                write_body(out, "answer", &c.answer)?;
            }
        }
        if let Some(e) = &c.error {
            write!(out, ",\"error\":{}", json_string(e))?;
        }
        out.write_all(b"}\n")?;
    }
    Ok(())
}

/// Milliseconds with microsecond precision.
fn millis(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_owned())
}

/// A body that is JSON goes in as `<key>`, on one line (line breaks in
/// JSON are whitespace outside strings, so dropping them keeps the value);
/// anything else as the string `<key>_text`, lossily UTF-8.
fn write_body(out: &mut impl Write, key: &str, body: &[u8]) -> std::io::Result<()> {
    if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok() {
        write!(out, ",\"{key}\":")?;
        for part in body.split(|b| *b == b'\n' || *b == b'\r') {
            out.write_all(part)?;
        }
        Ok(())
    } else {
        write!(
            out,
            ",\"{key}_text\":{}",
            json_string(&String::from_utf8_lossy(body))
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(calls: &[CallRecord]) -> serde_json::Value {
        let mut out = Vec::new();
        write_jsonl(&mut out, calls).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), calls.len(), "{text}");
        serde_json::from_str(text.lines().next().unwrap()).unwrap()
    }

    #[tokio::test]
    async fn calls_are_filed_with_their_answers_and_abandoned_ones_too() {
        let log = Arc::new(CallLog::new());
        let target: Arc<str> = "a".into();
        let first = log.begin(
            &target,
            "POST",
            "/v1/send".into(),
            Some(bytes::Bytes::from_static(b"{\n \"x\": 1\n}")),
        );
        let second = log.begin(&target, "GET", "/v1/info".into(), None);
        drop(second);
        first.answered(200, b"{\"ok\":true}".to_vec(), None);
        let calls = log.take();
        assert_eq!(calls.iter().map(|c| c.seq).collect::<Vec<_>>(), [1, 2]);
        let one = line(&calls[..1]);
        assert_eq!(one["request"], serde_json::json!({"x": 1}));
        assert_eq!(one["answer"], serde_json::json!({"ok": true}));
        assert_eq!(one["status"], 200);
        assert!(one["start_ms"].is_number() && one["duration_ms"].is_number());
        let two = line(&calls[1..]);
        assert!(two.get("status").is_none());
        assert!(two["error"].as_str().unwrap().starts_with("abandoned"));
        assert!(log.take().is_empty());
    }

    #[tokio::test]
    async fn long_answers_are_cut_and_text_stays_text() {
        let log = Arc::new(CallLog::new());
        let target: Arc<str> = "b".into();
        let big = vec![b'x'; ANSWER_CAP + 10];
        log.begin(&target, "POST", "/v1/events".into(), None)
            .answered(200, big, Some("malformed".into()));
        log.begin(&target, "POST", "/v1/send".into(), None)
            .answered(500, b"<html>".to_vec(), None);
        let calls = log.take();
        let cut = line(&calls[..1]);
        assert_eq!(cut["answer_truncated"], true);
        assert_eq!(cut["answer_size"], ANSWER_CAP + 10);
        assert_eq!(cut["answer_text"].as_str().unwrap().len(), ANSWER_CAP);
        assert_eq!(cut["error"], "malformed");
        let html = line(&calls[1..]);
        assert_eq!(html["answer_text"], "<html>");
        assert!(html.get("answer").is_none());
    }
}
