//! Writing the report files: `reports/<run-id>/` and a plain copy in
//! `reports/latest/`. Each file is written to a temp file in its final
//! directory and renamed into place, so a reader never sees half a report.
//! `latest/` also mirrors the run's artifacts (hard links where the
//! filesystem allows, copies otherwise), so its links work as the run
//! folder's do.

use super::junit::RenderJunitError;
use super::model::RunReport;
use super::{html, json, junit, markdown};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The files every run gets, in the order they are written.
pub const REPORT_FILES: [&str; 4] = ["report.json", "junit.xml", "matrix.md", "matrix.html"];

/// The folders of a run's artifacts (`docs/report-format.md`), which
/// `latest/` mirrors: each case's, the run-level wire transcript, the
/// spawned targets' logs.
pub const ARTIFACT_DIRS: [&str; 3] = ["cases", "wire", "targets"];

/// Where [`write_all`] put the reports (paths in the run directory; `latest`
/// holds the same file names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenReports {
    pub run_dir: PathBuf,
    pub latest_dir: PathBuf,
    pub json: PathBuf,
    pub junit: PathBuf,
    pub markdown: PathBuf,
    pub html: PathBuf,
}

/// Why the reports could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteReportError {
    #[error("run id {0:?} cannot name a report directory")]
    BadRunId(String),
    #[error(transparent)]
    Junit(#[from] RenderJunitError),
    #[error("could not create report directory {path}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("could not write report file {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("could not mirror the run's artifacts to {path}")]
    MirrorArtifacts {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Renders every report and writes them to `reports_dir/<run_id>/`, then the
/// same bytes to `reports_dir/latest/` (a real directory, not a symlink, so it
/// works on every platform and survives copying as a CI artifact).
pub fn write_all(
    report: &RunReport,
    reports_dir: &Path,
) -> Result<WrittenReports, WriteReportError> {
    check_run_id(&report.run_id)?;
    let run_dir = reports_dir.join(&report.run_id);
    let wire = |rel: &str| wire_summaries(&run_dir, rel);
    // Render everything first: a rendering error must not leave a partial set.
    let contents = [
        json::render(report),
        junit::render(report)?,
        markdown::render(report),
        html::render_with_wire(report, &wire),
    ];
    let latest_dir = reports_dir.join("latest");
    for dir in [&run_dir, &latest_dir] {
        fs::create_dir_all(dir).map_err(|source| WriteReportError::CreateDir {
            path: dir.clone(),
            source,
        })?;
        if dir == &latest_dir {
            // Before the reports: once latest/report.json is this run's,
            // what it links to is there.
            mirror_artifacts(&run_dir, &latest_dir)?;
        }
        for (name, content) in REPORT_FILES.iter().zip(&contents) {
            write_atomic(dir, name, content.as_bytes())?;
        }
    }
    let [json, junit, markdown, html] = REPORT_FILES.map(|name| run_dir.join(name));
    Ok(WrittenReports {
        run_dir,
        latest_dir,
        json,
        junit,
        markdown,
        html,
    })
}

/// Replaces `latest/`'s artifact folders with this run's: the previous
/// run's go whether or not this run has any (a merged report has none).
fn mirror_artifacts(run_dir: &Path, latest_dir: &Path) -> Result<(), WriteReportError> {
    for name in ARTIFACT_DIRS {
        let dst = latest_dir.join(name);
        let err = |source| WriteReportError::MirrorArtifacts {
            path: dst.clone(),
            source,
        };
        match fs::remove_dir_all(&dst) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(err(e)),
        }
        let src = run_dir.join(name);
        if src.is_dir() {
            link_tree(&src, &dst).map_err(err)?;
        }
    }
    Ok(())
}

/// `dst` as a copy of the tree at `src`: each file hard-linked (no second
/// copy of the bytes on disk), or copied where linking fails (another
/// filesystem). Anything but files and folders is left out.
fn link_tree(src: &Path, dst: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dst)?;
    for entry in fs::read_dir(src)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let to = dst.join(entry.file_name());
        if kind.is_dir() {
            link_tree(&entry.path(), &to)?;
        } else if kind.is_file() && fs::hard_link(entry.path(), &to).is_err() {
            fs::copy(entry.path(), &to)?;
        }
    }
    Ok(())
}

/// The `summary` of every line of a wire transcript under `run_dir`; `None`
/// when the path leaves the folder or the file cannot be read.
fn wire_summaries(run_dir: &Path, rel: &str) -> Option<Vec<String>> {
    let safe = Path::new(rel)
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)));
    if !safe {
        return None;
    }
    let text = fs::read_to_string(run_dir.join(rel)).ok()?;
    Some(
        text.lines()
            .map(|line| {
                serde_json::from_str::<serde_json::Value>(line)
                    .ok()
                    .and_then(|v| v.get("summary")?.as_str().map(str::to_owned))
                    .unwrap_or_else(|| "(unreadable line)".to_owned())
            })
            .collect(),
    )
}

/// The run id becomes a directory name: it must be one plain path component
/// and must not collide with `latest`.
fn check_run_id(run_id: &str) -> Result<(), WriteReportError> {
    let ok = !run_id.is_empty()
        && run_id != "latest"
        && !run_id.starts_with('.')
        && run_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(WriteReportError::BadRunId(run_id.to_owned()))
    }
}

/// Temp file in `dir` (same filesystem, so rename is atomic), synced, then
/// renamed over `dir/name`. The temp file is removed on any failure.
fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, WriteReportError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let target = dir.join(name);
    let temp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, &target)
    })();
    match result {
        Ok(()) => Ok(target),
        Err(source) => {
            let _ = fs::remove_file(&temp);
            Err(WriteReportError::Write {
                path: target,
                source,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check_run_id;

    #[test]
    fn run_id_must_be_one_safe_component() {
        assert!(check_run_id("20261126T144300Z-1a2b3c").is_ok());
        for bad in ["", "latest", "..", "../x", "a/b", "a\\b", ".hidden"] {
            assert!(check_run_id(bad).is_err(), "{bad:?} accepted");
        }
    }
}
