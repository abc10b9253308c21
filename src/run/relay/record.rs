//! Where exchanges go: to the case they belong to while it runs, else to the
//! run-level transcript (`wire/run.jsonl`).
//!
//! Cases name their users `<actor>-<run prefix>-<case>` and their rooms
//! `room-<run prefix>-<case>-<n>` (`case.rs`), so the room or user URI in a
//! request's path, percent-decoded, says which case a request belongs to;
//! requests whose path names neither (identifierQuery, consent) are
//! attributed by the same name found in their body. A case's exchanges are
//! held only while it runs: [`Recorder::close_case`] hands them over to be
//! written, so a run's bodies are never all in memory at once.

use super::exchange::{Exchange, mimi_path};
use super::shadow::Shadow;
use crate::protocol::exchange::{Endpoint, route};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// The run's exchange sink.
pub struct Recorder {
    /// `-<run prefix>-`, the marker of the run's case names.
    marker: String,
    cases: Mutex<HashMap<usize, Arc<CaseWire>>>,
    run_log: Mutex<Option<std::io::BufWriter<std::fs::File>>>,
    /// Exchanges that mapped to no running case.
    run_level: AtomicU64,
    seq: AtomicU64,
    /// Every recorded exchange, tallied for the report's readings.
    readings: Mutex<crate::run::readings::Tally>,
}

/// The exchanges of one running case so far, for the case itself (the
/// wiring check) and for a judge that follows the case as it goes.
pub struct CaseWire {
    exchanges: Mutex<Vec<Arc<Exchange>>>,
    /// The case's rooms as the handshakes on the wire give them.
    shadow: Mutex<Shadow>,
    /// The number of exchanges recorded so far; a judge awaits changes.
    count: watch::Sender<usize>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl CaseWire {
    fn new() -> Self {
        Self {
            exchanges: Mutex::new(Vec::new()),
            shadow: Mutex::new(Shadow::default()),
            count: watch::channel(0).0,
        }
    }

    /// Every exchange of the case so far, in the order they reached the relay.
    pub fn exchanges(&self) -> Vec<Arc<Exchange>> {
        lock(&self.exchanges).clone()
    }

    /// How many exchanges went between targets `x` and `y` (either way).
    pub fn between(&self, x: usize, y: usize) -> usize {
        lock(&self.exchanges)
            .iter()
            .filter(|e| e.between(x, y))
            .count()
    }

    /// A receiver told the exchange count each time one is recorded: what
    /// a judge awaits instead of polling.
    pub fn subscribe(&self) -> watch::Receiver<usize> {
        self.count.subscribe()
    }

    /// The shadow room state, for the oracle to hold reports to.
    pub fn shadow(&self) -> std::sync::MutexGuard<'_, Shadow> {
        lock(&self.shadow)
    }

    fn push(&self, ex: Arc<Exchange>) {
        let mut all = lock(&self.exchanges);
        all.push(ex);
        let n = all.len();
        drop(all);
        self.count.send_replace(n);
    }
}

impl Recorder {
    /// A recorder for the run with this prefix; run-level exchanges are
    /// appended to `run_log` (created with its directory) when given.
    pub fn new(run_prefix: &str, run_log: Option<&Path>) -> Self {
        let file = run_log.and_then(|p| {
            std::fs::create_dir_all(p.parent()?).ok()?;
            std::fs::File::create(p).ok()
        });
        Self {
            marker: format!("-{run_prefix}-"),
            cases: Mutex::new(HashMap::new()),
            run_log: Mutex::new(file.map(std::io::BufWriter::new)),
            run_level: AtomicU64::new(0),
            seq: AtomicU64::new(0),
            readings: Mutex::new(crate::run::readings::Tally::default()),
        }
    }

    /// The next exchange number (1-based).
    pub(crate) fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Starts collecting the exchanges of case `index`.
    pub fn open_case(&self, index: usize) -> Arc<CaseWire> {
        lock(&self.cases)
            .entry(index)
            .or_insert_with(|| Arc::new(CaseWire::new()))
            .clone()
    }

    /// Stops collecting for case `index` and hands over what it collected;
    /// later exchanges of the case (a late retry) go to the run level.
    pub fn close_case(&self, index: usize) -> Vec<Arc<Exchange>> {
        match lock(&self.cases).remove(&index) {
            Some(wire) => std::mem::take(&mut *lock(&wire.exchanges)),
            None => Vec::new(),
        }
    }

    /// The case a request belongs to: from its path, else its body.
    pub fn attribute(&self, path: &str, body: &[u8]) -> Option<usize> {
        let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
        case_in(decoded.as_bytes(), self.marker.as_bytes())
            .or_else(|| case_in(body, self.marker.as_bytes()))
    }

    /// A notify on its way from `from` to `to`, before the relay forwards
    /// it: what the hub accepted enters the case's shadow room state
    /// before the follower can act on it.
    pub fn notify(&self, case: Option<usize>, from: usize, to: usize, path: &str, body: &[u8]) {
        let Ok(r) = route("POST", mimi_path(path)) else {
            return;
        };
        if r.endpoint != Endpoint::Notify {
            return;
        }
        if let Some(wire) = case.and_then(|c| lock(&self.cases).get(&c).cloned()) {
            wire.shadow().notify(from, to, &r.subject, body);
        }
    }

    /// Files an exchange with its case, or at the run level. Called before
    /// the sender gets the answer, so an accepted update enters the case's
    /// shadow room state before the sender can act on the acceptance.
    pub fn record(&self, ex: Exchange) {
        lock(&self.readings).observe(&ex);
        let ex = Arc::new(ex);
        let wire = ex.case.and_then(|c| lock(&self.cases).get(&c).cloned());
        match wire {
            Some(w) => {
                if ex.status.is_some_and(|s| (200..300).contains(&s))
                    && ex.relay_status.is_none()
                    && let Ok(r) = route(&ex.method, ex.mimi_path())
                    && r.endpoint == Endpoint::Update
                {
                    w.shadow()
                        .update(ex.from.index, &r.subject, &ex.request, &ex.response);
                }
                w.push(ex)
            }
            None => {
                self.run_level.fetch_add(1, Ordering::Relaxed);
                if let Some(f) = lock(&self.run_log).as_mut() {
                    let _ = f.write_all(ex.to_json_line().as_bytes());
                }
            }
        }
    }

    /// A connection the relay refused before any request (a client
    /// certificate it could not tie to a target): one run-level line.
    pub fn note_refused(&self, listener: &str, why: &str) {
        self.run_level.fetch_add(1, Ordering::Relaxed);
        let line = serde_json::json!({
            "time": humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string(),
            "to": listener,
            "refused": why,
        });
        if let Some(f) = lock(&self.run_log).as_mut() {
            let _ = writeln!(f, "{line}");
        }
    }

    /// Lines written (or that would have been) to the run-level transcript.
    pub fn run_level_count(&self) -> u64 {
        self.run_level.load(Ordering::Relaxed)
    }

    /// The readings of `targets` from everything recorded so far.
    pub fn readings(&self, targets: &[String]) -> Vec<crate::report::model::TargetReadings> {
        lock(&self.readings).report(targets)
    }

    /// Flushes the run-level transcript.
    pub fn flush(&self) {
        if let Some(f) = lock(&self.run_log).as_mut() {
            let _ = f.flush();
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.flush();
    }
}

/// The case number after the first `marker` in `bytes`: the digits that
/// follow it.
fn case_in(bytes: &[u8], marker: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(pos) = find(&bytes[from..], marker) {
        let start = from + pos + marker.len();
        let digits = bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits > 0 && digits < 10 {
            let text = std::str::from_utf8(&bytes[start..start + digits]).ok()?;
            return text.parse().ok();
        }
        from = start;
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Writes one case's transcript: one JSON line per exchange, to
/// `dir/rel`; returns `rel` when written.
pub fn write_transcript(dir: &Path, rel: &str, exchanges: &[Arc<Exchange>]) -> Option<String> {
    let path: PathBuf = dir.join(rel);
    let write = || -> std::io::Result<()> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
        for ex in exchanges {
            f.write_all(ex.to_json_line().as_bytes())?;
        }
        f.flush()
    };
    write().ok().map(|()| rel.to_owned())
}

/// A file-name-safe form of a name: `[A-Za-z0-9._-]`, anything else `_`.
pub fn file_safe(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    match s.trim_start_matches('.') {
        "" => "_".to_owned(),
        t => t.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_are_found_by_the_run_marker() {
        let r = Recorder::new("ab12cd", None);
        assert_eq!(
            r.attribute("/v1/notify/a.example/r/room-ab12cd-17-2", b""),
            Some(17)
        );
        assert_eq!(
            r.attribute(
                "/v1/keyMaterial/mimi%3A%2F%2Fb.example%2Fu%2Fbob-ab12cd-3",
                b""
            ),
            Some(3)
        );
        assert_eq!(
            r.attribute(
                "/v1/identifierQuery/b.example",
                b"\x00\x10alice-ab12cd-42\x00"
            ),
            Some(42)
        );
        assert_eq!(r.attribute("/v1/notify/x/r/room-other-1-1", b""), None);
        assert_eq!(r.attribute("/v1/x/-ab12cd-", b"-ab12cd-"), None);
    }

    #[test]
    fn file_names_are_safe() {
        assert_eq!(file_safe("a b/../c"), "a_b_.._c");
        assert_eq!(file_safe(".."), "_");
    }
}
