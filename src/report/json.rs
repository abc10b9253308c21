//! `report.json`: the canonical, versioned form of a run (`docs/report-format.md`).
//! Every other report can be rendered again from it.

use super::model::{REPORT_FORMAT_VERSION, RunReport};
use serde::Deserialize;

/// Why a `report.json` could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ParseReportError {
    #[error("not a mimi-interop report: {0}")]
    Json(#[source] serde_json::Error),
    #[error(
        "report format version {found} is not supported (this harness reads version {supported})"
    )]
    UnsupportedVersion { found: u64, supported: u32 },
}

/// Pretty-printed JSON with a trailing newline. Field order is the model's
/// declaration order and maps are sorted, so equal reports give equal bytes.
pub fn render(report: &RunReport) -> String {
    let mut text = serde_json::to_string_pretty(report)
        .expect("RunReport holds only strings, numbers and string-keyed maps");
    text.push('\n');
    text
}

/// Reads a report, checking `format_version` first so a newer report gets a
/// clear message rather than an unknown-field error. The claims are
/// recomputed from the cases: a report written before claims existed gets
/// them, and an edited one cannot carry claims its cases do not support.
pub fn parse(text: &str) -> Result<RunReport, ParseReportError> {
    #[derive(Deserialize)]
    struct VersionProbe {
        format_version: u64,
    }
    let probe: VersionProbe = serde_json::from_str(text).map_err(ParseReportError::Json)?;
    if probe.format_version != u64::from(REPORT_FORMAT_VERSION) {
        return Err(ParseReportError::UnsupportedVersion {
            found: probe.format_version,
            supported: REPORT_FORMAT_VERSION,
        });
    }
    let mut report: RunReport = serde_json::from_str(text).map_err(ParseReportError::Json)?;
    report.recompute_claims();
    Ok(report)
}
