//! A case's artifacts, one folder per case under the run's folder
//! (`docs/report-format.md`, Case artifacts):
//!
//! ```text
//! cases/<a>__<b>/<feature>/<test>/control.jsonl        every control call of the case
//! cases/<a>__<b>/<feature>/<test>/wire.jsonl           every MIMI exchange of the case
//! cases/<a>__<b>/<feature>/<test>/<target>.stdout.log  what a `command` target logged
//! cases/<a>__<b>/<feature>/<test>/<target>.stderr.log    while the case ran
//! ```
//!
//! A case's control calls are kept in memory while it runs (answers capped,
//! `control::transcript`); its target logs are only two byte offsets per
//! file until it ends. Everything is written when the case ends, on the
//! blocking pool, and then dropped, so the run never holds more than its
//! running cases' share.

use super::relay::exchange::Exchange;
use super::relay::record::{file_safe, write_transcript};
use crate::control::ControlClient;
use crate::control::transcript::{CallLog, write_jsonl};
use crate::report::model::TargetInfo;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Bytes of one target log copied into one case's folder; the rest is
/// named by its byte range in the whole log.
pub const LOG_CAP: u64 = 1 << 20;

/// How far back from a case's first log byte to look for the start of the
/// line it falls in.
const LINE_LOOKBACK: u64 = 4096;

/// The artifacts of one running case.
pub(crate) struct CaseArtifacts {
    run_dir: PathBuf,
    /// The case's folder, relative to the run's folder.
    dir: String,
    calls: Arc<CallLog>,
    logs: Vec<LogWindow>,
}

/// The part of one target log written while the case ran.
struct LogWindow {
    /// The whole log, relative to the run's folder (`targets/<name>.stdout.log`).
    source: String,
    start: u64,
    end: Option<u64>,
}

/// What was written for a case, relative to the run's folder.
#[derive(Debug, Default)]
pub(crate) struct CaseFiles {
    pub wire: Option<String>,
    pub control: Option<String>,
    pub logs: Vec<String>,
}

/// `cases/<a>__<b>/<feature>/<test>`, names made file-safe.
pub(crate) fn case_dir(a: &str, b: &str, feature: &str, test: &str) -> String {
    format!(
        "cases/{}__{}/{}/{}",
        file_safe(a),
        file_safe(b),
        file_safe(feature),
        file_safe(test)
    )
}

impl CaseArtifacts {
    /// Starts recording a case of cell `a→b` (as the report names it), run
    /// against `sides`: the control log starts now, and so does the window
    /// on each `command` target's logs.
    pub fn open(
        run_dir: &Path,
        (a, b): (&str, &str),
        feature: &str,
        test: &str,
        sides: [&TargetInfo; 2],
    ) -> Self {
        let mut logs = Vec::new();
        for (i, t) in sides.iter().enumerate() {
            // One window per target, also when it is both sides.
            if t.kind != "command" || (i == 1 && sides[0].name == t.name) {
                continue;
            }
            for source in &t.artifacts {
                logs.push(LogWindow {
                    start: file_len(&run_dir.join(source)),
                    source: source.clone(),
                    end: None,
                });
            }
        }
        Self {
            run_dir: run_dir.to_owned(),
            dir: case_dir(a, b, feature, test),
            calls: Arc::new(CallLog::new()),
            logs,
        }
    }

    /// `client` filing its calls in this case's control transcript as `target`.
    pub fn client(&self, target: &str, client: &ControlClient) -> ControlClient {
        client.logged(target, &self.calls)
    }

    /// Closes the log windows: what the targets log from now on is not
    /// this case's.
    pub fn case_ended(&mut self) {
        for w in &mut self.logs {
            w.end = Some(file_len(&self.run_dir.join(&w.source)));
        }
    }

    /// Writes the case's folder on the blocking pool (the case's wire
    /// exchanges, its control calls, its log windows) and says what was
    /// written; a file that cannot be written is left out.
    pub async fn write(mut self, exchanges: Vec<Arc<Exchange>>) -> CaseFiles {
        if self.logs.iter().any(|w| w.end.is_none()) {
            self.case_ended();
        }
        tokio::task::spawn_blocking(move || self.write_now(&exchanges))
            .await
            .unwrap_or_default()
    }

    fn write_now(self, exchanges: &[Arc<Exchange>]) -> CaseFiles {
        let mut files = CaseFiles::default();
        if std::fs::create_dir_all(self.run_dir.join(&self.dir)).is_err() {
            return files;
        }
        files.wire = write_transcript(
            &self.run_dir,
            &format!("{}/wire.jsonl", self.dir),
            exchanges,
        );
        let control = format!("{}/control.jsonl", self.dir);
        let calls = self.calls.take();
        let written = std::fs::File::create(self.run_dir.join(&control)).and_then(|f| {
            let mut out = std::io::BufWriter::new(f);
            write_jsonl(&mut out, &calls)?;
            out.flush()
        });
        if written.is_ok() {
            files.control = Some(control);
        }
        for w in &self.logs {
            let Some(name) = Path::new(&w.source).file_name() else {
                continue;
            };
            let rel = format!("{}/{}", self.dir, name.to_string_lossy());
            let source = self.run_dir.join(&w.source);
            let end = w.end.unwrap_or(w.start);
            if excerpt(&source, &w.source, w.start, end, &self.run_dir.join(&rel)).is_ok() {
                files.logs.push(rel);
            }
        }
        files
    }
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Copies bytes `start..end` of the log at `source` to `dest`, from the
/// start of the line `start` falls in, at most [`LOG_CAP`] bytes; a cut
/// copy ends with a line saying where the rest is.
fn excerpt(
    source: &Path,
    source_rel: &str,
    start: u64,
    end: u64,
    dest: &Path,
) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(dest)?);
    if end > start {
        let mut f = std::fs::File::open(source)?;
        let from = line_start(&mut f, start)?;
        f.seek(SeekFrom::Start(from))?;
        let len = end - from;
        let mut kept = Vec::with_capacity(len.min(LOG_CAP) as usize);
        (&mut f).take(len.min(LOG_CAP)).read_to_end(&mut kept)?;
        out.write_all(&kept)?;
        if len > LOG_CAP {
            if kept.last().is_some_and(|b| *b != b'\n') {
                out.write_all(b"\n")?;
            }
            writeln!(
                out,
                "[mimi-interop: {} more bytes not copied; the whole log is {source_rel}, bytes {from}..{end}]",
                len - LOG_CAP
            )?;
        }
    }
    out.flush()
}

/// Where the line holding byte `at` starts: just after the last line break
/// before it, looking back at most [`LINE_LOOKBACK`] bytes (else `at`).
fn line_start(f: &mut std::fs::File, at: u64) -> std::io::Result<u64> {
    let back = at.min(LINE_LOOKBACK);
    if back == 0 {
        return Ok(at);
    }
    f.seek(SeekFrom::Start(at - back))?;
    let mut before = vec![0; back as usize];
    f.read_exact(&mut before)?;
    Ok(match before.iter().rposition(|b| *b == b'\n') {
        Some(i) => at - back + i as u64 + 1,
        None if back == at => 0,
        None => at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_excerpt_starts_at_its_line_and_is_capped() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("t.log");
        std::fs::write(&log, "before\nhalf of a line\nafter\n").unwrap();
        let out = dir.path().join("out.log");
        // Byte 12 is inside "half of a line": the whole line is copied.
        excerpt(&log, "targets/t.log", 12, 28, &out).unwrap();
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "half of a line\nafter\n"
        );
        excerpt(&log, "targets/t.log", 7, 7, &out).unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "");

        let big = "x".repeat(LOG_CAP as usize + 5);
        std::fs::write(&log, &big).unwrap();
        excerpt(&log, "targets/t.log", 0, big.len() as u64, &out).unwrap();
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.ends_with(&format!(
            "x\n[mimi-interop: 5 more bytes not copied; the whole log is targets/t.log, bytes 0..{}]\n",
            big.len()
        )));
    }
}
